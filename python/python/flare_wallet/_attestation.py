"""Attestation evidence as a JSON-friendly dict, and its verification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flare_wallet import _native
from flare_wallet._native import Policy
from flare_wallet.exceptions import AttestationError

EVIDENCE_FORMAT = "flare-wallet-evidence-v1"

__all__ = ["EVIDENCE_FORMAT", "verify_attestation"]


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _bytes(value: bytes | bytearray | str, what: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise AttestationError(f"{what} is not hex") from None
    raise AttestationError(f"{what} must be bytes or hex, not {type(value).__name__}")


def evidence_from_native(native: Mapping[str, Any], nonce: bytes) -> dict[str, Any]:
    """The evidence dict ``attest()`` returns: the canonical encoding (the only part a
    verifier trusts) and, for people reading it, the facts it states."""
    return {
        "format": EVIDENCE_FORMAT,
        "evidence": _hex(native["evidence"]),
        "nonce": _hex(nonce),
        "address": native["address"],
        "chain_id": native["chain_id"],
        "pcrs": {str(index): _hex(value) for index, value in native["pcrs"].items()},
        "ak_name": _hex(native["ak_name"]),
        "policy_hash": _hex(native["policy_hash"]),
        "owners_hash": _hex(native["owners_hash"]),
        "threshold": native["threshold"],
        "admin_nonce": native["admin_nonce"],
        "audit_head": _hex(native["audit_head"]),
    }


def _facts_to_python(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "address": facts["address"],
        "chain_id": facts["chain_id"],
        "pcrs": {int(index): _hex(value) for index, value in facts["pcrs"].items()},
        "ak_name": _hex(facts["ak_name"]),
        "policy_hash": _hex(facts["policy_hash"]),
        "owners_hash": _hex(facts["owners_hash"]),
        "threshold": facts["threshold"],
        "admin_nonce": facts["admin_nonce"],
        "audit_head": _hex(facts["audit_head"]),
        "clock": facts["clock"],
        "reset_count": facts["reset_count"],
        "restart_count": facts["restart_count"],
        "firmware_version": facts["firmware_version"],
    }


def _check_stated_facts(evidence: Mapping[str, Any], facts: dict[str, Any]) -> None:
    """A dict's readable fields must say what its signed encoding says."""
    stated = {
        "address": evidence.get("address"),
        "chain_id": evidence.get("chain_id"),
        "ak_name": evidence.get("ak_name"),
        "policy_hash": evidence.get("policy_hash"),
        "owners_hash": evidence.get("owners_hash"),
        "threshold": evidence.get("threshold"),
        "admin_nonce": evidence.get("admin_nonce"),
        "audit_head": evidence.get("audit_head"),
    }
    for key, value in stated.items():
        if value is None:
            continue
        actual = facts[key]
        same = (
            value.lower() == actual.lower()
            if isinstance(value, str) and isinstance(actual, str)
            else value == actual
        )
        if not same:
            raise AttestationError(f"the evidence dict's {key!r} differs from its signed evidence")
    pcrs = evidence.get("pcrs")
    if pcrs is not None:
        stated_pcrs = {int(k): _hex(_bytes(v, f"PCR {k}")) for k, v in pcrs.items()}
        if stated_pcrs != facts["pcrs"]:
            raise AttestationError("the evidence dict's 'pcrs' differ from its signed evidence")


def verify_attestation(
    evidence: Mapping[str, Any] | bytes | str,
    nonce: bytes | str,
    *,
    expected_address: str | None = None,
    expected_pcrs: Mapping[int, bytes | str] | None = None,
    trusted_ak: bytes | str | None = None,
    expected_chain_id: int | None = None,
    expected_policy_hash: Policy | bytes | str | None = None,
    expected_owners_hash: bytes | str | None = None,
    expected_threshold: int | None = None,
    expected_admin_nonce: int | None = None,
    expected_audit_head: bytes | str | None = None,
) -> dict[str, Any]:
    """Verify attestation evidence for ``nonce`` and return the verified facts.

    ``evidence`` is the dict ``SecureWalletManager.attest()`` returned (or its canonical
    ``evidence`` bytes / hex). The checks: the attestation key's signature over the TPM
    quote, the quote's magic and type, the challenge binding ``nonce``, chain id, address
    and policy hash, the PCR digest recomputed from the PCR values, and the wallet's own
    signature over the same challenge. ``expected_address``, ``expected_pcrs``
    (index -> 32-byte value), ``trusted_ak`` (the AK's Name or public area),
    ``expected_chain_id`` and ``expected_policy_hash`` (a :class:`Policy`, or its hash as
    bytes or hex: the signing policy that must bind the key) add requirements, and so do
    the owner facts the evidence binds: ``expected_owners_hash`` (32 bytes or hex; all
    zeros for an ownerless account), ``expected_threshold`` (0: ownerless),
    ``expected_admin_nonce`` and ``expected_audit_head`` (the audit log's head, which
    :func:`verify_audit_log` checks a log against).

    Returns ``address``, ``chain_id``, ``pcrs`` (index -> hex), ``ak_name``,
    ``policy_hash`` and the TPM's ``clock``, ``reset_count``, ``restart_count`` and
    ``firmware_version``. Raises :class:`AttestationError` on any failure.
    """
    if isinstance(evidence, Mapping):
        if "evidence" not in evidence:
            raise AttestationError("the evidence dict has no 'evidence' field")
        encoded = _bytes(evidence["evidence"], "evidence")
    else:
        encoded = _bytes(evidence, "evidence")
    pcrs = None
    if expected_pcrs is not None:
        pcrs = [
            (int(index), _bytes(value, f"expected PCR {index}"))
            for index, value in expected_pcrs.items()
        ]
    if isinstance(expected_policy_hash, Policy):
        expected_policy_hash = expected_policy_hash.hash
    facts = _native.verify_evidence(
        encoded,
        _bytes(nonce, "nonce"),
        expected_address=expected_address,
        expected_chain_id=expected_chain_id,
        expected_pcrs=pcrs,
        trusted_ak=None if trusted_ak is None else _bytes(trusted_ak, "trusted_ak"),
        expected_policy_hash=None
        if expected_policy_hash is None
        else _bytes(expected_policy_hash, "expected_policy_hash"),
        expected_owners_hash=None
        if expected_owners_hash is None
        else _bytes(expected_owners_hash, "expected_owners_hash"),
        expected_threshold=expected_threshold,
        expected_admin_nonce=expected_admin_nonce,
        expected_audit_head=None
        if expected_audit_head is None
        else _bytes(expected_audit_head, "expected_audit_head"),
    )
    result = _facts_to_python(facts)
    if isinstance(evidence, Mapping):
        _check_stated_facts(evidence, result)
    return result
