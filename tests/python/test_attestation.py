"""Attestation evidence from a TPM-sealed wallet, and verify_attestation's refusals."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from flare_wallet import AttestationError, Policy, SecureWalletManager, Vtpm, verify_attestation


@pytest.fixture
def wallet(vtpm: Vtpm) -> Iterator[SecureWalletManager]:
    with SecureWalletManager(None, vtpm) as manager:
        manager.create_account()
        yield manager


def test_evidence_verifies_and_states_the_facts(wallet: SecureWalletManager) -> None:
    nonce = secrets.token_bytes(32)
    evidence = wallet.attest(nonce, chain_id=14)
    # JSON-friendly as it is.
    evidence = json.loads(json.dumps(evidence))
    facts = verify_attestation(
        evidence, nonce, expected_address=wallet.address, expected_chain_id=14
    )
    assert facts["address"] == wallet.address == evidence["address"]
    assert facts["chain_id"] == 14
    assert sorted(facts["pcrs"]) == list(range(8))
    assert facts["ak_name"] == evidence["ak_name"]
    # The account was created with the default policy, and the evidence says so.
    assert facts["policy_hash"] == Policy().hash == wallet.policy_hash == evidence["policy_hash"]
    # The bytes alone verify too.
    assert verify_attestation(evidence["evidence"], nonce)["address"] == wallet.address
    # The expected PCR values and the trusted AK (by Name) are checked.
    pcrs = {index: value for index, value in facts["pcrs"].items() if index < 3}
    assert verify_attestation(evidence, nonce, expected_pcrs=pcrs, trusted_ak=facts["ak_name"])


def test_a_fresh_nonce_each_time_gives_new_evidence(wallet: SecureWalletManager) -> None:
    first = wallet.attest(b"one")
    second = wallet.attest(b"two")
    assert first["evidence"] != second["evidence"]
    with pytest.raises(AttestationError, match="challenge"):
        verify_attestation(first, b"two")


def _flip(hex_text: str, index: int) -> str:
    raw = bytearray(bytes.fromhex(hex_text[2:]))
    raw[index % len(raw)] ^= 0x01
    return "0x" + raw.hex()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(address="0x" + "11" * 20), "'address' differs"),
        (lambda e: e.update(chain_id=e["chain_id"] + 1), "'chain_id' differs"),
        (lambda e: e["pcrs"].update({"0": "0x" + "22" * 32}), "'pcrs' differ"),
        (lambda e: e.update(ak_name=_flip(e["ak_name"], 5)), "'ak_name' differs"),
        (lambda e: e.pop("evidence"), "no 'evidence'"),
        (lambda e: e.update(evidence=_flip(e["evidence"], 0)), "bad magic"),
        (lambda e: e.update(evidence=e["evidence"][:-10]), "truncated|length"),
        (lambda e: e.update(evidence=_flip(e["evidence"], -20)), "attestation key|quote|AK"),
    ],
)
def test_tampered_evidence_is_refused(
    wallet: SecureWalletManager, change: Any, message: str
) -> None:
    evidence = wallet.attest(b"nonce")
    change(evidence)
    with pytest.raises(AttestationError, match=message):
        verify_attestation(evidence, b"nonce")


def test_expectations_are_enforced(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce", chain_id=5)
    with pytest.raises(AttestationError, match="address"):
        verify_attestation(evidence, b"nonce", expected_address="0x" + "12" * 20)
    with pytest.raises(AttestationError, match="chain id"):
        verify_attestation(evidence, b"nonce", expected_chain_id=6)
    with pytest.raises(AttestationError, match="PCR value"):
        verify_attestation(evidence, b"nonce", expected_pcrs={0: b"\x33" * 32})
    with pytest.raises(AttestationError, match="not in the quote"):
        verify_attestation(evidence, b"nonce", expected_pcrs={16: b"\x00" * 32})
    with pytest.raises(AttestationError, match="not the trusted one"):
        verify_attestation(evidence, b"nonce", trusted_ak=b"\x00\x0b" + b"\x44" * 32)


def test_the_owner_facts_can_be_pinned(vtpm: Vtpm) -> None:
    owners = [Account.create().address for _ in range(3)]
    with SecureWalletManager(None, vtpm, owners=owners, threshold=2) as manager:
        manager.create_account()
        evidence = manager.attest(b"owner facts", chain_id=14)
        facts = verify_attestation(
            evidence,
            b"owner facts",
            expected_owners_hash=evidence["owners_hash"],
            expected_threshold=2,
            expected_admin_nonce=0,
            expected_audit_head=manager.audit_head,
        )
        assert facts["threshold"] == 2
        assert facts["admin_nonce"] == 0
        assert facts["audit_head"] == manager.audit_head
        # Each pin refuses another value.
        for pins in (
            {"expected_owners_hash": "0x" + "00" * 32},
            {"expected_threshold": 3},
            {"expected_admin_nonce": 1},
            {"expected_audit_head": "0x" + "11" * 32},
        ):
            with pytest.raises(AttestationError):
                verify_attestation(evidence, b"owner facts", **pins)


def test_evidence_from_another_tpm_has_another_ak(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce")
    trusted = verify_attestation(evidence, b"nonce")["ak_name"]
    with Vtpm.simulator() as other, SecureWalletManager(None, other) as elsewhere:
        elsewhere.create_account()
        foreign = elsewhere.attest(b"nonce")
    assert verify_attestation(foreign, b"nonce")["ak_name"] != trusted
    with pytest.raises(AttestationError, match="not the trusted one"):
        verify_attestation(foreign, b"nonce", trusted_ak=trusted)
