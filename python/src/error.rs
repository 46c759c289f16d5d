//! The one place where Rust errors become Python exceptions.
//!
//! The exception classes are defined once, in Python
//! (`flare_wallet/exceptions.py`), so that `InvalidTransaction` can be both a
//! `WalletError` and a `ValueError`; this module only imports them. Messages
//! say what was wrong and what to do, and never carry key material: core
//! errors are `Copy` enums without payload bytes, and the transaction-dict
//! messages name fields, not secrets.

use pyo3::import_exception;
use pyo3::PyErr;
use wallet_core::authority::AuthorityError;

import_exception!(flare_wallet.exceptions, WalletError);
import_exception!(flare_wallet.exceptions, TpmError);
import_exception!(flare_wallet.exceptions, PolicyViolation);
import_exception!(flare_wallet.exceptions, AttestationError);
import_exception!(flare_wallet.exceptions, InvalidTransaction);
import_exception!(flare_wallet.exceptions, KeyExportForbidden);
import_exception!(flare_wallet.exceptions, KeystoreError);
import_exception!(flare_wallet.exceptions, InvalidPolicy);
import_exception!(flare_wallet.exceptions, AdminApprovalError);
import_exception!(flare_wallet.exceptions, OwnerlessAccount);
import_exception!(flare_wallet.exceptions, InvalidOwners);
import_exception!(flare_wallet.exceptions, AuditLogError);
import_exception!(flare_wallet.exceptions, NoAccountLoaded);

/// Every failure the binding reports to Python.
#[derive(Debug)]
pub(crate) enum BindingError {
    /// An error from wallet-core.
    Core(wallet_core::Error),
    /// A transaction dict that breaks eth-account's rules (or ours).
    InvalidTransaction(String),
    /// A bad argument that is not a transaction (a key, a mode, a hash).
    InvalidArgument(String),
    /// A policy dict with an unknown key or a value of the wrong type.
    InvalidPolicy(String),
    /// A keystore request the core cannot express (an unknown KDF name, a
    /// parameter of the other KDF).
    InvalidKeystoreArgument(String),
    /// Owners or a threshold that cannot make an owner set (text that is
    /// not an address, a threshold beyond any owner count, one without the
    /// other).
    InvalidOwners(String),
    /// The private swtpm could not be started or stopped.
    Simulator(wallet_core::tpm::simulator::SimulatorError),
}

impl BindingError {
    pub(crate) fn invalid_transaction(message: impl Into<String>) -> Self {
        Self::InvalidTransaction(message.into())
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    pub(crate) fn invalid_policy(message: impl Into<String>) -> Self {
        Self::InvalidPolicy(message.into())
    }

    pub(crate) fn invalid_owners(message: impl Into<String>) -> Self {
        Self::InvalidOwners(message.into())
    }

    pub(crate) fn invalid_keystore_argument(message: impl Into<String>) -> Self {
        Self::InvalidKeystoreArgument(message.into())
    }
}

impl From<wallet_core::Error> for BindingError {
    fn from(e: wallet_core::Error) -> Self {
        Self::Core(e)
    }
}

impl From<wallet_core::tx::TxError> for BindingError {
    fn from(e: wallet_core::tx::TxError) -> Self {
        Self::Core(e.into())
    }
}

impl From<wallet_core::tpm::TransportError> for BindingError {
    fn from(e: wallet_core::tpm::TransportError) -> Self {
        Self::Core(e.into())
    }
}

impl From<wallet_core::attest::AttestError> for BindingError {
    fn from(e: wallet_core::attest::AttestError) -> Self {
        Self::Core(e.into())
    }
}

impl From<wallet_core::keystore::KeystoreError> for BindingError {
    fn from(e: wallet_core::keystore::KeystoreError) -> Self {
        Self::Core(e.into())
    }
}

impl From<AuthorityError> for BindingError {
    fn from(e: AuthorityError) -> Self {
        Self::Core(e.into())
    }
}

impl From<wallet_core::signer::SignerError> for BindingError {
    fn from(e: wallet_core::signer::SignerError) -> Self {
        Self::Core(e.into())
    }
}

/// What the user can do about an error, where the core's message alone
/// does not say.
fn advice(e: wallet_core::Error) -> &'static str {
    use wallet_core::state::StateError;
    use wallet_core::tpm::{TpmError, TransportError};
    use wallet_core::wallet::WalletError as W;
    use wallet_core::Error as E;
    match e {
        E::State(StateError::AccountExists) => {
            ": load_account() opens it, or use another state_dir for a new account"
        }
        E::State(StateError::NoAccount) => ": create_account() or import_private_key() first",
        E::State(StateError::InsecurePermissions(_)) => ": run chmod 700 on the state directory",
        E::Seal(wallet_core::seal::SealError::SrkNameMismatch)
        | E::State(StateError::SrkNameMismatch) => {
            ": use it on the TPM (and TPM state) it was sealed by"
        }
        E::Seal(wallet_core::seal::SealError::PcrMismatch) => {
            ": the key unseals again only when those PCRs hold their sealed values"
        }
        E::Policy(wallet_core::policy::PolicyError::Violation(_)) => "; nothing was signed",
        E::Wallet(W::Closed) => ": open a new Vtpm",
        E::Wallet(W::StateNotEmpty) => {
            ": restore into a new, empty state_dir (the loaded account is a different one)"
        }
        E::Tpm(TpmError::Transport(TransportError::NoDefaultTpm)) => {
            ": pass tcti= (for example 'swtpm:path=/run/swtpm.sock'), set $FLARE_WALLET_TPM, \
             or use Vtpm.simulator() for a software TPM"
        }
        E::Tpm(TpmError::Transport(TransportError::InvalidTcti)) => "",
        E::Tpm(TpmError::Transport(_)) => {
            ": check that the TPM (or swtpm) is running and reachable"
        }
        _ => "",
    }
}

/// The stable short name of why an admin request was refused
/// (`AdminApprovalError.reason`); None for an owner set that is malformed
/// (`InvalidOwners`) and for an ownerless account (`OwnerlessAccount`).
pub(crate) fn approval_refusal_reason(e: AuthorityError) -> Option<&'static str> {
    use AuthorityError as A;
    Some(match e {
        A::WrongWallet { .. } => "wrong_wallet",
        A::WrongAction { .. } => "wrong_action",
        A::Replayed { .. } => "replayed",
        A::NonceNotCurrent { .. } => "nonce_not_current",
        A::Expired { .. } => "expired",
        A::ParamsMismatch => "params_mismatch",
        A::NoApprovals => "no_approvals",
        A::TooManyApprovals { .. } => "too_many_approvals",
        A::MalformedSignature { .. } | A::ApprovalLength { .. } | A::ApprovalHex => {
            "malformed_signature"
        }
        A::NotOwner { .. } => "not_owner",
        A::DuplicateSigner { .. } => "duplicate_signer",
        A::TooFewApprovals { .. } => "too_few_approvals",
        A::Ownerless
        | A::NoOwners
        | A::TooManyOwners { .. }
        | A::ZeroOwner
        | A::DuplicateOwner(_)
        | A::ThresholdOutOfRange { .. }
        | A::OwnersEncodingEmpty
        | A::OwnersEncodingLength { .. }
        | A::OwnersNotSorted { .. } => return None,
        // The typed-data JSON of the request and its action.
        _ => "malformed_request",
    })
}

fn authority_to_pyerr(e: AuthorityError, message: String) -> PyErr {
    if e == AuthorityError::Ownerless {
        return OwnerlessAccount::new_err(message);
    }
    match approval_refusal_reason(e) {
        Some(reason) => AdminApprovalError::new_err((message, reason)),
        None => InvalidOwners::new_err(message),
    }
}

fn core_to_pyerr(e: wallet_core::Error) -> PyErr {
    use wallet_core::policy::PolicyError;
    use wallet_core::state::StateError;
    use wallet_core::wallet::WalletError as W;
    use wallet_core::Error as E;
    let message = format!("{e}{}", advice(e));
    match e {
        E::Authority(e) => authority_to_pyerr(e, message),
        E::Audit(_) => AuditLogError::new_err(message),
        E::Wallet(W::EmptyExportPassword | W::WeakExportKdf) => KeystoreError::new_err(message),
        // The rule's name travels as data too (`PolicyViolation.rule`).
        E::Policy(PolicyError::Violation(violation)) => {
            PolicyViolation::new_err((message, violation.rule().name()))
        }
        E::Policy(
            PolicyError::SpendLedgerMalformed
            | PolicyError::SpendLedgerFull
            | PolicyError::SpendReservationLost
            | PolicyError::AuditLogMalformed,
        ) => WalletError::new_err(message),
        E::Policy(_) | E::PolicyJson(_) => InvalidPolicy::new_err(message),
        E::Tx(_) | E::Rlp(_) => InvalidTransaction::new_err(message),
        // Also a ValueError: FlareTrade callers catch a missing account as one.
        E::Wallet(wallet_core::wallet::WalletError::NoAccount)
        | E::State(StateError::NoAccount) => NoAccountLoaded::new_err(message),
        E::Attest(_) | E::Enrollment(_) | E::Credential(_) => AttestationError::new_err(message),
        E::Keystore(_) => KeystoreError::new_err(message),
        E::Tpm(_) | E::TpmIdentity(_) | E::Seal(_) | E::State(StateError::SrkNameMismatch) => {
            TpmError::new_err(message)
        }
        _ => WalletError::new_err(message),
    }
}

impl From<BindingError> for PyErr {
    fn from(e: BindingError) -> Self {
        match e {
            BindingError::Core(e) => core_to_pyerr(e),
            BindingError::InvalidTransaction(message) => InvalidTransaction::new_err(message),
            BindingError::InvalidArgument(message) => WalletError::new_err(message),
            BindingError::InvalidKeystoreArgument(message) => KeystoreError::new_err(message),
            BindingError::InvalidPolicy(message) => InvalidPolicy::new_err(message),
            BindingError::InvalidOwners(message) => InvalidOwners::new_err(message),
            BindingError::Simulator(e) => TpmError::new_err(e.to_string()),
        }
    }
}
