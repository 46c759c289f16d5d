//! The crate error: one small `Copy` enum per module, wrapped here.
//!
//! No variant carries a `String`, a `Box` or any secret: every error can be
//! printed, logged and passed across the C ABI as a number.

use core::fmt;

/// Every error the core can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Attestation evidence is malformed or does not verify.
    Attest(crate::attest::AttestError),
    /// A credential could not be made for an EK.
    Credential(crate::credential::CredentialError),
    /// An enrollment record or a credential activation was refused.
    Enrollment(crate::enrollment::EnrollmentError),
    /// An audit log does not verify against its head.
    #[cfg(feature = "std")]
    Audit(crate::audit::AuditError),
    /// An owner set, an admin request or its approvals were refused.
    Authority(crate::authority::AuthorityError),
    /// A sealed-key file or backup is malformed.
    Backup(crate::backup::BackupError),
    /// A signing policy refused the request, or its encoding is malformed.
    Policy(crate::policy::PolicyError),
    /// A policy's JSON form is malformed.
    #[cfg(feature = "std")]
    PolicyJson(crate::policy::json::PolicyJsonError),
    /// The state directory or its account file is unusable.
    #[cfg(feature = "std")]
    State(crate::state::StateError),
    /// A wallet operation cannot proceed (closed, no account, bad backup...).
    #[cfg(feature = "std")]
    Wallet(crate::wallet::WalletError),
    /// A key, signature or address problem.
    Signer(crate::signer::SignerError),
    /// A TPM command, its transport or its session failed.
    Tpm(crate::tpm::TpmError),
    /// Sealing or unsealing the key failed.
    Seal(crate::seal::SealError),
    /// Malformed RLP, or an encoding that does not fit its buffer.
    Rlp(crate::rlp::RlpError),
    /// A malformed, invalid or unencodable transaction.
    Tx(crate::tx::TxError),
    /// A Web3 Secret Storage keystore that cannot be read, decrypted or written.
    #[cfg(feature = "std")]
    Keystore(crate::keystore::KeystoreError),
    /// Data sealed to the TPM is malformed, altered or too large.
    #[cfg(feature = "std")]
    SealedData(crate::sealed_data::SealedDataError),
    /// An EIP-712 typed-data document that does not parse or hash.
    #[cfg(feature = "std")]
    TypedData(crate::wallet::typed_data::TypedDataError),
    /// The TPM did not prove its identity (EK certificate) or is not the
    /// TPM the account is bound to.
    #[cfg(feature = "std")]
    TpmIdentity(crate::tpm::ek::TpmIdentityError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Attest(e) => write!(f, "{e}"),
            Error::Credential(e) => write!(f, "{e}"),
            Error::Enrollment(e) => write!(f, "{e}"),
            #[cfg(feature = "std")]
            Error::Audit(e) => write!(f, "{e}"),
            Error::Authority(e) => write!(f, "{e}"),
            Error::Backup(e) => write!(f, "{e}"),
            Error::Policy(e) => write!(f, "{e}"),
            #[cfg(feature = "std")]
            Error::PolicyJson(e) => write!(f, "{e}"),
            #[cfg(feature = "std")]
            Error::State(e) => write!(f, "{e}"),
            #[cfg(feature = "std")]
            Error::Wallet(e) => write!(f, "{e}"),
            Self::Signer(e) => write!(f, "signer: {e}"),
            Self::Tpm(e) => write!(f, "{e}"),
            Self::Seal(e) => write!(f, "{e}"),
            Self::Rlp(e) => write!(f, "rlp: {e}"),
            Self::Tx(e) => write!(f, "transaction: {e}"),
            #[cfg(feature = "std")]
            Self::Keystore(e) => write!(f, "keystore: {e}"),
            #[cfg(feature = "std")]
            Self::SealedData(e) => write!(f, "{e}"),
            #[cfg(feature = "std")]
            Self::TypedData(e) => write!(f, "{e}"),
            #[cfg(feature = "std")]
            Self::TpmIdentity(e) => write!(f, "{e}"),
        }
    }
}

impl From<crate::attest::AttestError> for Error {
    fn from(e: crate::attest::AttestError) -> Self {
        Error::Attest(e)
    }
}

impl From<crate::credential::CredentialError> for Error {
    fn from(e: crate::credential::CredentialError) -> Self {
        Error::Credential(e)
    }
}

impl From<crate::enrollment::EnrollmentError> for Error {
    fn from(e: crate::enrollment::EnrollmentError) -> Self {
        Error::Enrollment(e)
    }
}

#[cfg(feature = "std")]
impl From<crate::audit::AuditError> for Error {
    fn from(e: crate::audit::AuditError) -> Self {
        Error::Audit(e)
    }
}

impl From<crate::authority::AuthorityError> for Error {
    fn from(e: crate::authority::AuthorityError) -> Self {
        Error::Authority(e)
    }
}

impl From<crate::backup::BackupError> for Error {
    fn from(e: crate::backup::BackupError) -> Self {
        Error::Backup(e)
    }
}

impl From<crate::policy::PolicyError> for Error {
    fn from(e: crate::policy::PolicyError) -> Self {
        Error::Policy(e)
    }
}

#[cfg(feature = "std")]
impl From<crate::policy::json::PolicyJsonError> for Error {
    fn from(e: crate::policy::json::PolicyJsonError) -> Self {
        Error::PolicyJson(e)
    }
}

impl From<crate::policy::PolicyViolation> for Error {
    fn from(v: crate::policy::PolicyViolation) -> Self {
        Error::Policy(crate::policy::PolicyError::Violation(v))
    }
}

#[cfg(feature = "std")]
impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Self {
        Error::State(e)
    }
}

#[cfg(feature = "std")]
impl From<crate::wallet::WalletError> for Error {
    fn from(e: crate::wallet::WalletError) -> Self {
        Error::Wallet(e)
    }
}

impl From<crate::signer::SignerError> for Error {
    fn from(e: crate::signer::SignerError) -> Self {
        Self::Signer(e)
    }
}

impl From<crate::tpm::TpmError> for Error {
    fn from(e: crate::tpm::TpmError) -> Self {
        Self::Tpm(e)
    }
}

impl From<crate::tpm::TransportError> for Error {
    fn from(e: crate::tpm::TransportError) -> Self {
        Self::Tpm(crate::tpm::TpmError::Transport(e))
    }
}

impl From<crate::seal::SealError> for Error {
    fn from(e: crate::seal::SealError) -> Self {
        Self::Seal(e)
    }
}

impl From<crate::rlp::RlpError> for Error {
    fn from(e: crate::rlp::RlpError) -> Self {
        Self::Rlp(e)
    }
}

impl From<crate::tx::TxError> for Error {
    fn from(e: crate::tx::TxError) -> Self {
        Self::Tx(e)
    }
}

#[cfg(feature = "std")]
impl From<crate::keystore::KeystoreError> for Error {
    fn from(e: crate::keystore::KeystoreError) -> Self {
        Self::Keystore(e)
    }
}

#[cfg(feature = "std")]
impl From<crate::sealed_data::SealedDataError> for Error {
    fn from(e: crate::sealed_data::SealedDataError) -> Self {
        Self::SealedData(e)
    }
}

#[cfg(feature = "std")]
impl From<crate::wallet::typed_data::TypedDataError> for Error {
    fn from(e: crate::wallet::typed_data::TypedDataError) -> Self {
        Self::TypedData(e)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(feature = "std")]
impl From<crate::tpm::ek::TpmIdentityError> for Error {
    fn from(e: crate::tpm::ek::TpmIdentityError) -> Self {
        Error::TpmIdentity(e)
    }
}
