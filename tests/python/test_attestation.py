"""Attestation evidence from a TPM-sealed wallet, and verify_attestation's refusals."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import anchor, enroll_simulator
from eth_account import Account
from flare_wallet import (
    AttestationError,
    Policy,
    SecureWalletManager,
    Vtpm,
    WalletError,
    verify_attestation,
)
from flare_wallet._simulated_ca import SimulatedEkCa
from gce_platform import GcePlatformDouble


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
        evidence,
        nonce,
        **anchor(wallet.vtpm),
        expected_address=wallet.address,
        expected_chain_id=14,
    )
    assert facts["enrollment_method"] == "credential_activation"
    # The simulator proved itself through its EK certificate when the account was made.
    assert facts["tpm_verified"] is True
    assert facts["tpm_identity"] == "verified TPM"
    # The evidence reports the key lock, named as the wallet names it.
    lock = wallet.key_lock
    assert facts["key_lock"] == lock
    if lock == "none":
        assert (
            "any local process with TPM access and the account file can unseal"
            in (facts["key_lock_meaning"])
        )
    assert facts["root_sha256"] is not None
    assert facts["address"] == wallet.address == evidence["address"]
    assert facts["chain_id"] == 14
    assert sorted(facts["pcrs"]) == list(range(8))
    assert facts["ak_name"] == evidence["ak_name"]
    # The account was created with the default policy, and the evidence says so.
    assert facts["policy_hash"] == Policy().hash == wallet.policy_hash == evidence["policy_hash"]
    # The bytes alone verify too, and the record can come from a file.
    assert (
        verify_attestation(evidence["evidence"], nonce, **anchor(wallet.vtpm))["address"]
        == wallet.address
    )
    # The expected PCR values and the PCR selection are checked.
    pcrs = {index: value for index, value in facts["pcrs"].items() if index < 3}
    assert verify_attestation(
        evidence, nonce, **anchor(wallet.vtpm), expected_pcrs=pcrs, pcrs=range(8)
    )
    with pytest.raises(AttestationError, match="another PCR selection"):
        verify_attestation(evidence, nonce, **anchor(wallet.vtpm), pcrs=[0, 1, 2, 3])


def test_no_trust_anchor_no_verification(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce")
    full = anchor(wallet.vtpm)
    for partial in (
        {},
        {"trust_roots": full["trust_roots"]},
        {"enrollment": full["enrollment"]},
    ):
        with pytest.raises(AttestationError, match="no trust anchor"):
            verify_attestation(evidence, b"nonce", accept_unverified_tpm=True, **partial)
    # The simulator's account is on a verified TPM: the full anchor verifies it without
    # accepting unverified TPMs (their refusal: tests/python/test_vtpm.py).
    facts = verify_attestation(
        evidence,
        b"nonce",
        trust_roots=full["trust_roots"],
        enrollment=full["enrollment"],
    )
    assert facts["tpm_identity"] == "verified TPM"


def test_an_enrollment_under_another_root_is_refused(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce")
    stranger = SimulatedEkCa("another vendor")
    with pytest.raises(AttestationError, match="does not chain to the trust roots"):
        verify_attestation(
            evidence,
            b"nonce",
            trust_roots=stranger.root_pem,
            enrollment=wallet.vtpm.enrollment,
            accept_unverified_tpm=True,
        )
    # Enrolling with an EK certificate from a CA the roots do not hold fails too.
    ek_public = wallet.vtpm.enrollment_request()["ek_public"]
    assert ek_public is not None
    with pytest.raises(AttestationError, match="does not chain"):
        wallet.vtpm.enroll(
            SimulatedEkCa("the verifier's CA").root_pem,
            ek_certificate=stranger.certify_ek(ek_public),
        )


def test_a_tampered_enrollment_record_is_refused(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce")
    record = wallet.vtpm.enrollment
    assert record is not None
    assert record[:8] == b"FLWENROL"
    full = anchor(wallet.vtpm)
    for index, message in ((0, "bad magic"), (11 + 33, "AK Name"), (len(record) - 5, "quote")):
        tampered = bytearray(record)
        tampered[index] ^= 0x01
        with pytest.raises(AttestationError, match=message):
            verify_attestation(evidence, b"nonce", **(full | {"enrollment": bytes(tampered)}))


def test_a_fresh_nonce_each_time_gives_new_evidence(wallet: SecureWalletManager) -> None:
    first = wallet.attest(b"one")
    second = wallet.attest(b"two")
    assert first["evidence"] != second["evidence"]
    with pytest.raises(AttestationError, match="challenge"):
        verify_attestation(first, b"two", **anchor(wallet.vtpm))


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
        verify_attestation(evidence, b"nonce", **anchor(wallet.vtpm))


def test_expectations_are_enforced(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce", chain_id=5)
    trust = anchor(wallet.vtpm)
    with pytest.raises(AttestationError, match="address"):
        verify_attestation(evidence, b"nonce", **trust, expected_address="0x" + "12" * 20)
    with pytest.raises(AttestationError, match="chain id"):
        verify_attestation(evidence, b"nonce", **trust, expected_chain_id=6)
    with pytest.raises(AttestationError, match="PCR value"):
        verify_attestation(evidence, b"nonce", **trust, expected_pcrs={0: b"\x33" * 32})
    with pytest.raises(AttestationError, match="not in the quote"):
        verify_attestation(evidence, b"nonce", **trust, expected_pcrs={16: b"\x00" * 32})


def test_the_owner_facts_can_be_pinned(vtpm: Vtpm) -> None:
    owners = [Account.create().address for _ in range(3)]
    with SecureWalletManager(None, vtpm, owners=owners, threshold=2, key_lock="none") as manager:
        manager.create_account()
        evidence = manager.attest(b"owner facts", chain_id=14)
        facts = verify_attestation(
            evidence,
            b"owner facts",
            **anchor(vtpm),
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
                verify_attestation(evidence, b"owner facts", **anchor(vtpm), **pins)


def test_evidence_from_another_tpm_is_not_the_enrolled_ak(wallet: SecureWalletManager) -> None:
    evidence = wallet.attest(b"nonce")
    trusted = verify_attestation(evidence, b"nonce", **anchor(wallet.vtpm))["ak_name"]
    with Vtpm.simulator(new_ek=True) as other, SecureWalletManager(None, other) as elsewhere:
        elsewhere.create_account()
        enroll_simulator(other)
        foreign = elsewhere.attest(b"nonce")
        assert verify_attestation(foreign, b"nonce", **anchor(other))["ak_name"] != trusted
    with pytest.raises(AttestationError, match="not the enrolled one"):
        verify_attestation(foreign, b"nonce", **anchor(wallet.vtpm))


def test_platform_ak_evidence_verifies_with_its_certificate_chain(vtpm: Vtpm) -> None:
    platform = GcePlatformDouble(vtpm.tcti, SimulatedEkCa("GCE EK/AK CA double"))
    platform.provision()
    with SecureWalletManager(None, vtpm) as manager:
        manager.create_account()
        evidence = manager.attest(b"nonce", platform_ak=True)
        certificate = bytes.fromhex(evidence["ak_certificate"][2:])
        facts = verify_attestation(
            evidence,
            b"nonce",
            trust_roots=platform.ca.root_pem,
            ak_certificate=certificate,
            accept_unverified_tpm=True,
        )
        assert facts["enrollment_method"] == "ak_certificate"
        assert facts["address"] == manager.address
        # The wallet's own AK is not the certified one.
        own = manager.attest(b"nonce")
        assert own["ak_name"] != evidence["ak_name"]
        with pytest.raises(AttestationError, match="certifies another key"):
            verify_attestation(
                own,
                b"nonce",
                trust_roots=platform.ca.root_pem,
                ak_certificate=certificate,
                accept_unverified_tpm=True,
            )
        # The same certificate against another CA's root of the same name.
        with pytest.raises(AttestationError, match="does not chain"):
            verify_attestation(
                evidence,
                b"nonce",
                trust_roots=SimulatedEkCa("GCE EK/AK CA double").root_pem,
                ak_certificate=certificate,
                accept_unverified_tpm=True,
            )
        # A certificate from the right CA over another key.
        other = platform.ca.certify_ek(platform.key_of(platform.template(0x22)))
        with pytest.raises(AttestationError, match="certifies another key"):
            verify_attestation(
                evidence,
                b"nonce",
                trust_roots=platform.ca.root_pem,
                ak_certificate=other,
                accept_unverified_tpm=True,
            )


def test_the_platform_ak_enrollment_record_verifies_its_evidence(vtpm: Vtpm) -> None:
    platform = GcePlatformDouble(vtpm.tcti, SimulatedEkCa("GCE EK/AK CA double"))
    platform.provision()
    assert vtpm.simulator_trust_roots is not None
    ek_roots = vtpm.simulator_trust_roots.read_bytes()
    both = ek_roots + platform.ca.root_pem
    record = vtpm.enroll_platform_ak(both)
    assert record[:8] == b"FLWENROL"
    # The wallet's own enrollment stays the activated one.
    assert vtpm.enrollment != record
    with SecureWalletManager(None, vtpm) as manager:
        manager.create_account()
        evidence = manager.attest(b"nonce", platform_ak=True)
        facts = verify_attestation(evidence, b"nonce", trust_roots=both, enrollment=record)
        assert facts["enrollment_method"] == "ak_certificate"
        assert facts["tpm_verified"] is True
        assert facts["address"] == manager.address
        # The record pins the platform AK: the wallet's own AK is not it.
        with pytest.raises(AttestationError, match="not the enrolled one"):
            verify_attestation(
                manager.attest(b"nonce"), b"nonce", trust_roots=both, enrollment=record
            )
    # Without the platform's AK CA the record's AK certificate does not chain.
    with pytest.raises(AttestationError, match="AK certificate does not chain"):
        vtpm.enroll_platform_ak(ek_roots)
    with pytest.raises(AttestationError, match="AK certificate does not chain"):
        verify_attestation(evidence, b"nonce", trust_roots=ek_roots, enrollment=record)


def test_a_tpm_without_a_platform_ak_says_so(wallet: SecureWalletManager) -> None:
    with pytest.raises(WalletError, match="no AK template"):
        wallet.attest(b"nonce", platform_ak=True)
    with pytest.raises(WalletError, match="no AK template"):
        wallet.vtpm.enroll_platform_ak(SimulatedEkCa().root_pem)
