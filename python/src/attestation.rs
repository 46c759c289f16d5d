//! Verifying attestation evidence from Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use wallet_core::attest::{
    AttestError, EnrollmentMethod, Evidence, Expectations, PcrSelection, TpmIdentity, PCR_VALUE_LEN,
};
use wallet_core::enrollment::{verify_evidence as verify_anchored, TrustAnchor};
use wallet_core::signer::Address;
use wallet_core::x509::TrustRoots;
use wallet_core::Error;

use crate::error::BindingError;

/// Verifies canonical evidence for `nonce` against a trust anchor and
/// returns the verified facts.
///
/// The anchor is required: `trust_roots` (a PEM bundle of EK / AK
/// certificate roots) and `enrollment` (the enrollment record the verifier
/// stored) or `ak_certificate` (DER). Without one the call fails: evidence
/// proves nothing about a TPM without it. `pcrs` is the PCR selection the
/// quote must cover (SHA-256 bank; PCRs 0-7 by default);
/// `accept_unverified_tpm` accepts evidence from an account created on an
/// unverified TPM (reported as `tpm_verified: False`).
/// `expected_pcrs` pairs PCR indices with their 32-byte values;
/// `expected_policy_hash` is the 32-byte hash of the policy that must bind
/// the key; `expected_owners_hash` (32 bytes), `expected_threshold`,
/// `expected_admin_nonce` and `expected_audit_head` (32 bytes) pin the
/// account's owner facts.
#[pyfunction]
#[pyo3(signature = (
    evidence, nonce, *, trust_roots = None, enrollment = None, ak_certificate = None,
    pcrs = None, accept_unverified_tpm = false, expected_address = None,
    expected_chain_id = None, expected_pcrs = None, expected_policy_hash = None,
    expected_owners_hash = None, expected_threshold = None, expected_admin_nonce = None,
    expected_audit_head = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn verify_evidence<'py>(
    py: Python<'py>,
    evidence: &[u8],
    nonce: &[u8],
    trust_roots: Option<Vec<u8>>,
    enrollment: Option<Vec<u8>>,
    ak_certificate: Option<Vec<u8>>,
    pcrs: Option<Vec<u8>>,
    accept_unverified_tpm: bool,
    expected_address: Option<&str>,
    expected_chain_id: Option<u64>,
    expected_pcrs: Option<Vec<(u8, Vec<u8>)>>,
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
    let mut expected = Vec::new();
    for (index, value) in expected_pcrs.unwrap_or_default() {
        let value: [u8; PCR_VALUE_LEN] = value.as_slice().try_into().map_err(|_| {
            BindingError::invalid_argument(format!(
                "expected PCR {index} must be a 32-byte SHA-256 value"
            ))
        })?;
        expected.push((index, value));
    }
    let selection = match pcrs {
        None => PcrSelection::SHA256_0_TO_7,
        Some(indices) => PcrSelection::sha256(&indices)
            .map_err(|e| BindingError::invalid_argument(format!("pcrs: {e}")))?,
    };
    let roots = trust_roots
        .map(|pem| {
            TrustRoots::from_pem_bundle(&pem).map_err(|e| {
                BindingError::invalid_argument(format!("trust_roots are not PEM certificates: {e}"))
            })
        })
        .transpose()?;
    let expectations = Expectations {
        address,
        chain_id: expected_chain_id,
        policy_hash,
        owners_hash,
        threshold: expected_threshold,
        admin_nonce: expected_admin_nonce,
        audit_head,
        pcr_values: &expected,
        pcr_selection: Some(selection),
        accept_unverified_tpm,
    };
    let facts = py
        .detach(|| {
            let evidence = Evidence::parse(evidence)?;
            let anchor = match (&roots, &enrollment, &ak_certificate) {
                (Some(roots), Some(record), None) => {
                    Some(TrustAnchor::Enrollment { roots, record })
                }
                (Some(roots), None, Some(certificate)) => Some(TrustAnchor::AkCertificate {
                    roots,
                    certificate,
                    intermediates: &[],
                }),
                _ => None,
            };
            if anchor.is_none() {
                return Err(Error::Attest(AttestError::NoTrustAnchor));
            }
            verify_anchored(&evidence, nonce, anchor, &expectations)
        })
        .map_err(BindingError::Core)?;

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
    dict.set_item("tpm_verified", facts.tpm_identity == TpmIdentity::Verified)?;
    dict.set_item("tpm_identity", facts.tpm_identity.to_string())?;
    // "none", "pin", "pcr", "boot-once" or a combination joined by "+";
    // "not reported" for evidence made before key locks were reported.
    dict.set_item("key_lock", facts.key_lock.name())?;
    dict.set_item("key_lock_meaning", facts.key_lock.meaning())?;
    dict.set_item(
        "enrollment_method",
        match facts.enrollment_method {
            EnrollmentMethod::CredentialActivation => "credential_activation",
            EnrollmentMethod::AkCertificate => "ak_certificate",
        },
    )?;
    dict.set_item(
        "root_sha256",
        facts.root_sha256.map(|root| PyBytes::new(py, &root)),
    )?;
    Ok(dict)
}
