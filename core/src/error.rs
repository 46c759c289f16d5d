//! The crate error: one small `Copy` enum per module, wrapped here.
//!
//! No variant carries a `String`, a `Box` or any secret: every error can be
//! printed, logged and passed across the C ABI as a number.

use core::fmt;

/// Every error the core can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A key, signature or address problem.
    Signer(crate::signer::SignerError),
    /// Malformed RLP, or an encoding that does not fit its buffer.
    Rlp(crate::rlp::RlpError),
    /// A malformed, invalid or unencodable transaction.
    Tx(crate::tx::TxError),
    /// A Web3 Secret Storage keystore that cannot be read, decrypted or written.
    #[cfg(feature = "std")]
    Keystore(crate::keystore::KeystoreError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Signer(e) => write!(f, "signer: {e}"),
            Self::Rlp(e) => write!(f, "rlp: {e}"),
            Self::Tx(e) => write!(f, "transaction: {e}"),
            #[cfg(feature = "std")]
            Self::Keystore(e) => write!(f, "keystore: {e}"),
        }
    }
}

impl From<crate::signer::SignerError> for Error {
    fn from(e: crate::signer::SignerError) -> Self {
        Self::Signer(e)
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
impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
