"""Attestation evidence as a JSON-friendly dict, and its verification."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
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
    verifier trusts) and, for people reading it, the facts it states. Evidence quoted
    by a platform-certified AK also carries ``ak_certificate`` (hex DER)."""
    evidence = {
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
        "tpm_identity": native["tpm_identity"],
    }
    if "ak_certificate" in native:
        evidence["ak_certificate"] = _hex(native["ak_certificate"])
    return evidence


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
        "tpm_verified": facts["tpm_verified"],
        "tpm_identity": facts["tpm_identity"],
        "key_lock": facts["key_lock"],
        "key_lock_meaning": facts["key_lock_meaning"],
        "enrollment_method": facts["enrollment_method"],
        "root_sha256": None if facts["root_sha256"] is None else _hex(facts["root_sha256"]),
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
        "tpm_identity": evidence.get("tpm_identity"),
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


def _pem(value: bytes | str | os.PathLike[str], what: str) -> bytes:
    """PEM text as bytes: given as bytes, as PEM text, or as the path of a PEM file."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = os.fspath(value)
    if "-----BEGIN" in text:
        return text.encode()
    try:
        return Path(text).read_bytes()
    except OSError as error:
        raise AttestationError(f"{what}: cannot read {text!r}: {error.strerror}") from None


def _blob(value: bytes | str | os.PathLike[str], what: str) -> bytes:
    """Bytes given as bytes, hex text, or the path of a file holding them."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and not Path(value).exists():
        return _bytes(value, what)
    try:
        return Path(os.fspath(value)).read_bytes()
    except OSError as error:
        raise AttestationError(f"{what}: cannot read {value!r}: {error.strerror}") from None


def verify_attestation(
    evidence: Mapping[str, Any] | bytes | str,
    nonce: bytes | str,
    *,
    trust_roots: bytes | str | os.PathLike[str] | None = None,
    enrollment: bytes | str | os.PathLike[str] | None = None,
    ak_certificate: bytes | str | os.PathLike[str] | None = None,
    pcrs: Iterable[int] | None = None,
    accept_unverified_tpm: bool = False,
    expected_address: str | None = None,
    expected_pcrs: Mapping[int, bytes | str] | None = None,
    expected_chain_id: int | None = None,
    expected_policy_hash: Policy | bytes | str | None = None,
    expected_owners_hash: bytes | str | None = None,
    expected_threshold: int | None = None,
    expected_admin_nonce: int | None = None,
    expected_audit_head: bytes | str | None = None,
) -> dict[str, Any]:
    """Verify attestation evidence for ``nonce`` against a trust anchor and return the
    verified facts.

    The trust anchor is required: ``trust_roots`` (a PEM bundle of the TPM vendors' EK
    roots, or of the AK certificate's roots: PEM bytes or text, or a file path) and
    either ``enrollment`` (the enrollment record you stored when you enrolled the
    wallet's attestation key: bytes, hex or a file path) or ``ak_certificate`` (a DER
    AK certificate, e.g. a GCE vTPM's). Without one, :class:`AttestationError` is
    raised: evidence proves nothing about a TPM without it. There is no
    trust-on-first-use.

    ``evidence`` is the dict ``SecureWalletManager.attest()`` returned (or its canonical
    ``evidence`` bytes / hex). The checks: the enrollment record (or AK certificate)
    chains to the roots, the quote's attestation key is the enrolled one, its signature
    over the TPM quote, the quote's magic and type, the challenge binding ``nonce`` and
    every account fact, the PCR selection (``pcrs``, SHA-256 bank, PCRs 0-7 by default)
    and the PCR digest recomputed from the PCR values, the wallet's own signature over
    the same challenge, and that the account was created on a verified TPM (unless
    ``accept_unverified_tpm``). ``expected_address``, ``expected_pcrs`` (index ->
    32-byte value), ``expected_chain_id``, ``expected_policy_hash`` (a :class:`Policy`,
    or its hash), ``expected_owners_hash``, ``expected_threshold``,
    ``expected_admin_nonce`` and ``expected_audit_head`` add requirements.

    Returns ``address``, ``chain_id``, ``pcrs`` (index -> hex), ``ak_name``,
    ``policy_hash``, the owner facts, the TPM's ``clock``, ``reset_count``,
    ``restart_count`` and ``firmware_version``, ``tpm_verified`` and ``tpm_identity``
    (``"verified TPM"`` or ``"unverified TPM"``), ``key_lock`` (what an unsealer of the
    key must present: ``"pin"``, ``"pcr"``, ``"boot-once"`` joined by ``+``, ``"none"``
    when any local process with TPM access and the account file can unseal it, ``"not
    reported"`` for evidence from before key locks were reported) with
    ``key_lock_meaning`` saying so in words, ``enrollment_method`` and ``root_sha256``.
    Raises :class:`AttestationError` on any failure.
    """
    if isinstance(evidence, Mapping):
        if "evidence" not in evidence:
            raise AttestationError("the evidence dict has no 'evidence' field")
        encoded = _bytes(evidence["evidence"], "evidence")
    else:
        encoded = _bytes(evidence, "evidence")
    expected = None
    if expected_pcrs is not None:
        expected = [
            (int(index), _bytes(value, f"expected PCR {index}"))
            for index, value in expected_pcrs.items()
        ]
    if isinstance(expected_policy_hash, Policy):
        expected_policy_hash = expected_policy_hash.hash
    facts = _native.verify_evidence(
        encoded,
        _bytes(nonce, "nonce"),
        trust_roots=None if trust_roots is None else _pem(trust_roots, "trust_roots"),
        enrollment=None if enrollment is None else _blob(enrollment, "enrollment"),
        ak_certificate=None if ak_certificate is None else _blob(ak_certificate, "ak_certificate"),
        pcrs=None if pcrs is None else bytes(sorted({int(i) for i in pcrs})),
        accept_unverified_tpm=accept_unverified_tpm,
        expected_address=expected_address,
        expected_chain_id=expected_chain_id,
        expected_pcrs=expected,
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
