"""The exceptions flare_wallet raises, defined once.

Every error the native core reports arrives as one of these classes; one
function on the Rust side (``From<BindingError> for PyErr``) chooses which.
No message or ``repr`` ever contains key material.
"""

from __future__ import annotations

__all__ = [
    "AttestationError",
    "InvalidTransaction",
    "KeyExportForbidden",
    "KeystoreError",
    "PolicyViolation",
    "TpmError",
    "WalletError",
]


class WalletError(Exception):
    """Base class of every flare_wallet error."""


class TpmError(WalletError):
    """The TPM could not be reached, refused a command, or is not the TPM the key was sealed to."""


class PolicyViolation(WalletError):
    """The signing policy refused the request; nothing was signed."""


class AttestationError(WalletError):
    """Attestation evidence could not be produced or did not verify."""


class InvalidTransaction(WalletError, ValueError):
    """A transaction dict is malformed or breaks a rule; nothing was signed."""


class KeyExportForbidden(WalletError):
    """The private key never leaves the signing core, so it cannot be returned."""


class KeystoreError(WalletError):
    """A keystore could not be read, decrypted or written: a wrong password (or a modified
    ciphertext or MAC, which look the same), a malformed file, or KDF parameters over a
    limit. The message names the field or the limit, never the password."""
