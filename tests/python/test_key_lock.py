"""Key locks through the Python face: a PIN-locked account loads only with its PIN,
wrong PINs are counted by the TPM's dictionary-attack protection, and the lock is a
named choice that the manager reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from flare_wallet import SecureWalletManager, Vtpm
from flare_wallet.exceptions import WalletError


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
    assert vtpm._native.key_lock == "unlocked"


def test_boot_once_and_pcr_combine(vtpm: Vtpm) -> None:
    vtpm._native.create_account(key_lock="pcr+boot-once", pcrs=[16])
    assert vtpm._native.key_lock == "pcr+boot-once"
    # The key stays cached: strict mode cannot unseal it again in this boot.
    vtpm._native.key_mode = "strict"
    vtpm._native.sign_message(b"boot once")
