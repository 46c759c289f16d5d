"""Key locks through the Python face: a PIN-locked account loads only with its PIN,
wrong PINs are counted by the TPM's dictionary-attack protection, and the lock is a
named choice that the manager reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import OWNER_ADDRESSES, OWNERS, anchor, approve
from eth_account import Account
from eth_account.messages import encode_defunct
from flare_wallet import SecureWalletManager, Vtpm, verify_attestation
from flare_wallet.exceptions import AdminApprovalError, OwnerlessAccount, WalletError


def test_a_pin_locked_account_loads_only_with_its_pin(tmp_path: Path) -> None:
    state, tpm = tmp_path / "state", tmp_path / "tpm"
    with (
        Vtpm.simulator(state, tpm_state_dir=tpm) as vtpm,
        SecureWalletManager(None, vtpm, key_mode="strict", key_lock="pin", pin="8642") as m,
    ):
        address = m.create_account()
        assert m.key_lock == "pin"
        signed = m.sign_message(encode_defunct(text="pin"))
        assert (
            Account.recover_message(encode_defunct(text="pin"), signature=signed.signature)
            == address
        )
        da = vtpm._native.dictionary_attack
        assert da["max_tries"] > 0
        assert set(da) == {"failures", "max_tries", "recovery_seconds", "lockout_recovery_seconds"}

    with Vtpm.simulator(state, tpm_state_dir=tpm) as vtpm:
        with pytest.raises(WalletError, match="PIN is required"):
            vtpm._native.load_account()
        # A TPM restarted without an orderly shutdown may already count one failure.
        before = vtpm._native.dictionary_attack["failures"]
        with pytest.raises(WalletError, match="wrong PIN"):
            vtpm._native.load_account(pin="0000")
        assert vtpm._native.dictionary_attack["failures"] == before + 1
        assert vtpm._native.load_account(pin="8642") == address


def test_the_key_lock_is_a_named_choice(vtpm: Vtpm) -> None:
    with pytest.raises(WalletError, match="needs pin"):
        vtpm._native.create_account(key_lock="pin")
    with pytest.raises(WalletError, match="key_lock parts"):
        vtpm._native.create_account(key_lock="fingerprint")
    with pytest.raises(WalletError, match="needs pcrs"):
        vtpm._native.create_account(key_lock="pcr")
    vtpm._native.create_account(key_lock="none")
    # As the evidence names it.
    assert vtpm._native.key_lock == "none"


def test_boot_once_and_pcr_combine(vtpm: Vtpm) -> None:
    vtpm._native.create_account(key_lock="pcr+boot-once", pcrs=[16])
    assert vtpm._native.key_lock == "pcr+boot-once"
    # The key stays cached: strict mode cannot unseal it again in this boot.
    vtpm._native.key_mode = "strict"
    vtpm._native.sign_message(b"boot once")


def test_an_account_with_a_policy_or_owners_names_its_key_lock(vtpm: Vtpm) -> None:
    with SecureWalletManager(None, vtpm, policy={"chain_ids": [14]}) as unnamed:
        with pytest.raises(WalletError, match="needs a key lock chosen") as refused:
            unnamed.create_account()
        for choice in ("pin", "pcr", "boot-once", "none"):
            assert choice in str(refused.value)
        assert "any local process with TPM access" in str(refused.value)
    with (
        SecureWalletManager(None, vtpm, owners=OWNER_ADDRESSES, threshold=2) as unnamed,
        pytest.raises(WalletError, match="needs a key lock chosen"),
    ):
        unnamed.create_account()
    with SecureWalletManager(None, vtpm, policy={"chain_ids": [14]}, key_lock="none") as named:
        named.create_account()
        assert named.key_lock == "none"
        nonce = b"\x01" * 32
        facts = verify_attestation(
            named.attest(nonce, chain_id=14),
            nonce,
            **anchor(vtpm),
            expected_address=named.address,
            expected_chain_id=14,
        )
        assert facts["key_lock"] == "none"


def test_owners_change_the_pin(tmp_path: Path) -> None:
    state, tpm = tmp_path / "state", tmp_path / "tpm"
    with (
        Vtpm.simulator(state, tpm_state_dir=tpm) as vtpm,
        SecureWalletManager(
            None,
            vtpm,
            key_mode="strict",
            owners=OWNER_ADDRESSES,
            threshold=2,
            key_lock="pin",
            pin="1357",
        ) as m,
    ):
        address = m.create_account()
        old_file = (state / "account.flwseal").read_bytes()
        request = m.admin_request("change_pin")
        assert request["message"]["action"] == "change_pin"
        assert "1357" not in str(request)
        with pytest.raises(AdminApprovalError):
            m.change_pin("2468", request=request, approvals=approve(request, OWNERS[0]))
        approvals = approve(request, OWNERS[0], OWNERS[2])
        before = vtpm._native.dictionary_attack["failures"]
        with pytest.raises(WalletError, match="wrong PIN"):
            m.change_pin("2468", request=request, approvals=approvals, pin="0000")
        assert vtpm._native.dictionary_attack["failures"] == before + 1
        assert m.admin_nonce == 0
        m.execute_admin(request, approvals, new_pin="2468")
        assert m.admin_nonce == 1
        m.sign_message(encode_defunct(text="new pin"))
        assert m.audit_entries()[-1]["event"] == "change_pin"
        # The old account file, which the old PIN opens, is refused as rolled back.
        current = (state / "account.flwseal").read_bytes()
        (state / "account.flwseal").write_bytes(old_file)
        with pytest.raises(WalletError, match="rolled back"):
            vtpm._native.load_account(pin="1357")
        (state / "account.flwseal").write_bytes(current)

    # (The simulator locks out after 3 wrong PINs, and a restart can count one: the old
    # PIN's refusal on load is tested in the Rust and C suites.)
    with Vtpm.simulator(state, tpm_state_dir=tpm) as vtpm:
        assert vtpm._native.load_account(pin="2468") == address
        assert vtpm._native.key_lock == "pin"


def test_an_ownerless_account_keeps_its_pin(vtpm: Vtpm) -> None:
    with SecureWalletManager(None, vtpm, key_lock="pin", pin="1111") as m:
        m.create_account()
        with pytest.raises(OwnerlessAccount):
            m.admin_request("change_pin")
        with pytest.raises(OwnerlessAccount):
            m.change_pin("2222")
