"""The exceptions flare_wallet raises, defined once.

Every error the native core reports arrives as one of these classes; one
function on the Rust side (``From<BindingError> for PyErr``) chooses which.
No message or ``repr`` ever contains key material.
"""

from __future__ import annotations

__all__ = [
    "AdminApprovalError",
    "AttestationError",
    "AuditLogError",
    "InvalidOwners",
    "InvalidPolicy",
    "InvalidTransaction",
    "KeyExportForbidden",
    "KeystoreError",
    "NoAccountLoaded",
    "OwnerlessAccount",
    "PolicyViolation",
    "TokenValidationError",
    "TpmError",
    "VtpmAttestationError",
    "WalletError",
]


class WalletError(Exception):
    """Base class of every flare_wallet error."""


class TpmError(WalletError):
    """The TPM could not be reached, refused a command, or is not the TPM the key was sealed to."""


class PolicyViolation(WalletError):
    """The signing policy refused the request; nothing was signed.

    The message names the rule and the offending value (for instance ``value
    2000000000000000001 wei exceeds max_value_wei 2000000000000000000``); ``rule`` is the
    rule's key in the policy dict (``"max_value_wei"``), or None.
    """

    rule: str | None

    def __init__(self, message: str, rule: str | None = None):
        super().__init__(message)
        self.rule = rule


class AttestationError(WalletError):
    """Attestation evidence could not be produced or did not verify."""


class InvalidTransaction(WalletError, ValueError):
    """A transaction dict is malformed or breaks a rule; nothing was signed."""


class InvalidPolicy(WalletError, ValueError):
    """A policy dict has an unknown key, a value of the wrong type or too many entries;
    the message names the key."""


class KeyExportForbidden(WalletError):
    """The private key never leaves the signing core, so it cannot be returned."""


class KeystoreError(WalletError):
    """A keystore could not be read, decrypted or written: a wrong password (or a modified
    ciphertext or MAC, which look the same), a malformed file, or KDF parameters over a
    limit. The message names the field or the limit, never the password."""


class AdminApprovalError(WalletError):
    """An admin action (replacing the policy or the owners, exporting the key) was refused
    because its owner-approved request does not hold: nothing changed.

    ``reason`` says why, as a stable short string: ``"replayed"`` (the request's nonce was
    already used), ``"nonce_not_current"``, ``"expired"``, ``"wrong_wallet"`` (the request
    names another account), ``"wrong_action"``, ``"params_mismatch"`` (the parameters
    given are not the ones the owners approved), ``"not_owner"``, ``"duplicate_signer"``,
    ``"too_few_approvals"``, ``"no_approvals"``, ``"too_many_approvals"``,
    ``"malformed_signature"``, or ``"malformed_request"`` (the typed-data JSON).
    """

    reason: str

    def __init__(self, message: str, reason: str = "no_approvals"):
        super().__init__(message)
        self.reason = reason


class OwnerlessAccount(WalletError):
    """The account has no owners, so its policy can never change and its key can never
    leave the TPM: create an account with ``owners=[...]`` and ``threshold=M`` to allow
    admin actions. Every account written before owners existed loads as ownerless."""


class InvalidOwners(WalletError, ValueError):
    """Owners or a threshold that cannot administer an account: not addresses, none, more
    than 16, the zero address, an owner twice, or a threshold outside 1 to the number of
    owners."""


class AuditLogError(WalletError):
    """An audit log does not verify: an entry was edited, removed, inserted or moved, its
    beginning or end was cut, or it does not end at the expected head. The message names
    the line."""


class NoAccountLoaded(WalletError, ValueError):
    """No account is loaded (or the state directory holds none): create, import, load
    or restore one first. Also a ``ValueError``, as FlareTrade callers catch it."""


class VtpmAttestationError(AttestationError):
    """A Confidential Space attestation token could not be requested: a nonce of the
    wrong length, the teeserver socket unreachable or silent, or a refusal."""


class TokenValidationError(AttestationError):
    """An attestation token did not validate; the message names the check that failed
    (signature, issuer, audience, expiry, nonce, image, debug state) and never holds
    the token."""
