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

import_exception!(flare_wallet.exceptions, WalletError);
import_exception!(flare_wallet.exceptions, TpmError);
import_exception!(flare_wallet.exceptions, PolicyViolation);
import_exception!(flare_wallet.exceptions, AttestationError);
import_exception!(flare_wallet.exceptions, InvalidTransaction);
import_exception!(flare_wallet.exceptions, KeyExportForbidden);

/// Every failure the binding reports to Python.
#[derive(Debug)]
pub(crate) enum BindingError {
    /// An error from wallet-core.
    Core(wallet_core::Error),
    /// A transaction dict that breaks eth-account's rules (or ours).
    InvalidTransaction(String),
}

impl BindingError {
    pub(crate) fn invalid_transaction(message: impl Into<String>) -> Self {
        Self::InvalidTransaction(message.into())
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

impl From<wallet_core::signer::SignerError> for BindingError {
    fn from(e: wallet_core::signer::SignerError) -> Self {
        Self::Core(e.into())
    }
}

fn core_to_pyerr(e: wallet_core::Error) -> PyErr {
    use wallet_core::Error as E;
    let message = e.to_string();
    match e {
        E::Tx(_) | E::Rlp(_) => InvalidTransaction::new_err(message),
        E::Signer(_) => WalletError::new_err(message),
        _ => WalletError::new_err(message),
    }
}

impl From<BindingError> for PyErr {
    fn from(e: BindingError) -> Self {
        match e {
            BindingError::Core(e) => core_to_pyerr(e),
            BindingError::InvalidTransaction(message) => InvalidTransaction::new_err(message),
        }
    }
}
