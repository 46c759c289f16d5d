//! The Python binding of flare-wallet, built by maturin as `flare_wallet._native`.
//!
//! The module is private: the `flare_wallet` package re-exports what users
//! need, with stubs in `_native.pyi`. Transaction dicts are read here, in Rust,
//! into the core's typed transactions, so the bytes that get signed come from
//! the core and not from a second encoder.

pub use wallet_core;

mod admin;
mod attestation;
mod error;
mod hex;
mod keystore;
mod policy;
mod tpm_wallet;
mod txdict;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::BindingError;
use crate::txdict::TxFields;
use wallet_core::signer::Address;

/// Reads a transaction dict, filling a missing chain id with `chain_id` and
/// checking `from` against `sender` when one is given.
fn read_transaction(
    tx: &Bound<'_, PyAny>,
    chain_id: Option<u64>,
    sender: Option<&str>,
) -> Result<TxFields, BindingError> {
    let mut fields = TxFields::from_py(tx)?;
    if let Some(chain_id) = chain_id {
        fields.fill_chain_id(chain_id);
    }
    if let Some(sender) = sender {
        let sender = Address::parse_hex(sender).map_err(|e| {
            BindingError::invalid_transaction(format!("sender is not an address: {e}"))
        })?;
        fields.check_from(&sender)?;
    }
    Ok(fields)
}

/// The unsigned signing payload of a transaction dict: `type || rlp(fields)`,
/// or the EIP-155 list for a legacy transaction.
///
/// `chain_id` is used only when the dict has no `chainId`; with `sender`, a
/// `from` field must name that address.
#[pyfunction]
#[pyo3(signature = (tx, *, chain_id = None, sender = None))]
fn signing_payload<'py>(
    py: Python<'py>,
    tx: &Bound<'py, PyAny>,
    chain_id: Option<u64>,
    sender: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let payload = read_transaction(tx, chain_id, sender)?.signing_payload()?;
    Ok(PyBytes::new(py, &payload))
}

/// Keccak-256 of [`signing_payload`]: the hash a signature of this
/// transaction signs.
#[pyfunction]
#[pyo3(signature = (tx, *, chain_id = None, sender = None))]
fn signing_hash<'py>(
    py: Python<'py>,
    tx: &Bound<'py, PyAny>,
    chain_id: Option<u64>,
    sender: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let hash = read_transaction(tx, chain_id, sender)?
        .with_typed(|typed| typed.signature_hash())?
        .map_err(BindingError::from)?;
    Ok(PyBytes::new(py, &hash))
}

/// Makes this process non-dumpable (`PR_SET_DUMPABLE 0`): no core dump, no
/// `ptrace` by other processes of the same user. The wallet manager calls it
/// when it caches a key, unless told not to (`harden_process=False`).
#[pyfunction]
fn harden_process() -> PyResult<()> {
    wallet_core::wallet::make_process_non_dumpable()
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))
}

/// Whether this process is dumpable (`PR_GET_DUMPABLE`).
#[pyfunction]
fn process_is_dumpable() -> PyResult<bool> {
    wallet_core::wallet::process_is_dumpable()
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))
}

/// flare-wallet's native core: transaction dicts, TPM custody and signing.
#[pymodule(name = "_native")]
mod native {
    #[pymodule_export]
    use super::admin::{owners_hash, verify_audit_log};
    #[pymodule_export]
    use super::attestation::verify_evidence;
    #[pymodule_export]
    use super::policy::PyPolicy;
    #[pymodule_export]
    use super::tpm_wallet::TpmWallet;
    #[pymodule_export]
    use super::{harden_process, process_is_dumpable, signing_hash, signing_payload};
}
