"""flare_wallet: an Ethereum wallet whose key is sealed by a TPM 2.0.

The private key is generated (or imported) and sealed by the TPM, unsealed only inside
the Rust core's zeroizing memory, and never returned to Python. ``SecureWalletManager``
and ``Vtpm`` keep the FlareTrade wallet API; transaction dicts follow eth-account's rules
and sign to the same bytes.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flare_wallet._admin import verify_audit_log
from flare_wallet._async import AsyncSecureWalletManager
from flare_wallet._attestation import verify_attestation
from flare_wallet._confidential_space import wallet_nonces
from flare_wallet._flaretrade import AttestationValidator, TEEWallet, WalletInfo, WalletType
from flare_wallet._manager import PublicAccount, SecureWalletManager
from flare_wallet._native import Policy, signing_hash, signing_payload
from flare_wallet._signed import SignedRawTransaction
from flare_wallet._token_validation import AttestationTokenValidator
from flare_wallet._vtpm import Vtpm, default_state_dir
from flare_wallet._web3 import TpmLocalAccount
from flare_wallet.exceptions import (
    AdminApprovalError,
    AttestationError,
    AuditLogError,
    InvalidOwners,
    InvalidPolicy,
    InvalidTransaction,
    KeyExportForbidden,
    KeystoreError,
    NoAccountLoaded,
    OwnerlessAccount,
    PolicyViolation,
    TokenValidationError,
    TpmError,
    VtpmAttestationError,
    WalletError,
)

try:
    __version__ = version("flare-wallet")
except PackageNotFoundError:  # running from a source tree without an installed wheel
    __version__ = "0+unknown"

__all__ = [
    "AdminApprovalError",
    "AsyncSecureWalletManager",
    "AttestationError",
    "AttestationTokenValidator",
    "AttestationValidator",
    "AuditLogError",
    "InvalidOwners",
    "InvalidPolicy",
    "InvalidTransaction",
    "KeyExportForbidden",
    "KeystoreError",
    "NoAccountLoaded",
    "OwnerlessAccount",
    "Policy",
    "PolicyViolation",
    "PublicAccount",
    "SecureWalletManager",
    "SignedRawTransaction",
    "TEEWallet",
    "TokenValidationError",
    "TpmError",
    "TpmLocalAccount",
    "Vtpm",
    "VtpmAttestationError",
    "WalletError",
    "WalletInfo",
    "WalletType",
    "default_state_dir",
    "signing_hash",
    "signing_payload",
    "verify_attestation",
    "verify_audit_log",
    "wallet_nonces",
]
