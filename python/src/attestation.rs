//! Verifying attestation evidence from Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use wallet_core::attest::{
    self, Evidence, Expectations, TrustedAk, PCR_VALUE_LEN, SHA256_NAME_LEN,
};
use wallet_core::signer::Address;
use wallet_core::Error;

use crate::error::BindingError;

/// Verifies canonical evidence for `nonce` and returns the verified facts.
///
/// `expected_pcrs` pairs PCR indices with their 32-byte values;
/// `trusted_ak` is the attestation key's Name (34 bytes) or its `TPMT_PUBLIC`;
/// `expected_policy_hash` is the 32-byte hash of the policy that must bind
/// the key; `expected_owners_hash` (32 bytes), `expected_threshold`,
/// `expected_admin_nonce` and `expected_audit_head` (32 bytes) pin the
/// account's owner facts.
#[pyfunction]
#[pyo3(signature = (
    evidence, nonce, *, expected_address = None, expected_chain_id = None,
    expected_pcrs = None, trusted_ak = None, expected_policy_hash = None,
    expected_owners_hash = None, expected_threshold = None, expected_admin_nonce = None,
    expected_audit_head = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn verify_evidence<'py>(
    py: Python<'py>,
    evidence: &[u8],
    nonce: &[u8],
    expected_address: Option<&str>,
    expected_chain_id: Option<u64>,
    expected_pcrs: Option<Vec<(u8, Vec<u8>)>>,
    trusted_ak: Option<Vec<u8>>,
    expected_policy_hash: Option<Vec<u8>>,
    expected_owners_hash: Option<Vec<u8>>,
    expected_threshold: Option<u8>,
    expected_admin_nonce: Option<u64>,
    expected_audit_head: Option<Vec<u8>>,
) -> PyResult<Bound<'py, PyDict>> {
    let hash32 = |value: Option<Vec<u8>>, name: &str| -> PyResult<Option<[u8; 32]>> {
        value
            .map(|hash| {
                hash.as_slice().try_into().map_err(|_| {
                    PyErr::from(BindingError::invalid_argument(format!(
                        "{name} must be 32 bytes"
                    )))
                })
            })
            .transpose()
    };
    let policy_hash = hash32(expected_policy_hash, "expected_policy_hash")?;
    let owners_hash = hash32(expected_owners_hash, "expected_owners_hash")?;
    let audit_head = hash32(expected_audit_head, "expected_audit_head")?;
    let address = match expected_address {
        Some(text) => Some(Address::parse_hex(text).map_err(|e| {
            BindingError::invalid_argument(format!("expected_address is not an address: {e}"))
        })?),
        None => None,
    };
    let mut pcrs = Vec::new();
    for (index, value) in expected_pcrs.unwrap_or_default() {
        let value: [u8; PCR_VALUE_LEN] = value.as_slice().try_into().map_err(|_| {
            BindingError::invalid_argument(format!(
                "expected PCR {index} must be a 32-byte SHA-256 value"
            ))
        })?;
        pcrs.push((index, value));
    }
    let trusted = trusted_ak.as_deref().map(|ak| {
        if ak.len() == SHA256_NAME_LEN {
            TrustedAk::Name(ak)
        } else {
            TrustedAk::PublicArea(ak)
        }
    });
    let expectations = Expectations {
        address,
        chain_id: expected_chain_id,
        policy_hash,
        owners_hash,
        threshold: expected_threshold,
        admin_nonce: expected_admin_nonce,
        audit_head,
        pcr_values: &pcrs,
        trusted_ak: trusted,
    };
    let facts = py
        .detach(|| {
            let evidence = Evidence::parse(evidence)?;
            attest::verify(&evidence, nonce, &expectations)
        })
        .map_err(|e| BindingError::Core(Error::Attest(e)))?;

    let dict = PyDict::new(py);
    let account = &facts.account;
    dict.set_item("address", account.address.checksum().as_str())?;
    dict.set_item("chain_id", account.chain_id)?;
    dict.set_item("policy_hash", PyBytes::new(py, &account.policy_hash))?;
    dict.set_item("owners_hash", PyBytes::new(py, &account.owners_hash))?;
    dict.set_item("threshold", account.threshold)?;
    dict.set_item("admin_nonce", account.admin_nonce)?;
    dict.set_item("audit_head", PyBytes::new(py, &account.audit_head))?;
    dict.set_item("ak_name", PyBytes::new(py, &facts.ak_name))?;
    let values = PyDict::new(py);
    for (index, value) in facts.pcr_selection.indices().zip(facts.pcr_values.iter()) {
        values.set_item(index, PyBytes::new(py, value))?;
    }
    dict.set_item("pcrs", values)?;
    dict.set_item("clock", facts.clock)?;
    dict.set_item("reset_count", facts.reset_count)?;
    dict.set_item("restart_count", facts.restart_count)?;
    dict.set_item("firmware_version", facts.firmware_version)?;
    Ok(dict)
}
