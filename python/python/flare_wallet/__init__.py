"""flare_wallet: an Ethereum wallet whose key is sealed by a TPM 2.0.

The private key is generated (or imported) and sealed by the TPM, unsealed only
inside the Rust core's zeroizing memory, and never returned to Python.
"""

from __future__ import annotations

from flare_wallet._native import signing_hash, signing_payload
from flare_wallet.exceptions import (
    AttestationError,
    InvalidTransaction,
    KeyExportForbidden,
    PolicyViolation,
    TpmError,
    WalletError,
)

__all__ = [
    "AttestationError",
    "InvalidTransaction",
    "KeyExportForbidden",
    "PolicyViolation",
    "TpmError",
    "WalletError",
    "signing_hash",
    "signing_payload",
]
