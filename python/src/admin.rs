//! Owners, admin requests, their approvals, and the audit log, for Python.
//!
//! The core decides everything (who is an owner, whether approvals count,
//! whether a log verifies); this module only reads Python values into the
//! core's types and writes the core's answers back as Python values.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use wallet_core::audit::{self, AuditEntry, AuditEvent};
use wallet_core::authority::{self, AdminRequest, OwnerSet, APPROVAL_LEN};
use wallet_core::signer::Address;

use crate::error::BindingError;
use crate::hex;

type Result<T, E = BindingError> = core::result::Result<T, E>;

/// An owner set from addresses given as text and a threshold.
///
/// # Errors
/// [`BindingError::InvalidOwners`] for text that is not an address or a
/// threshold beyond any owner count; the core's `AuthorityError` for a set
/// it refuses (empty, too many, the zero address, an owner twice, a
/// threshold out of range).
pub(crate) fn owner_set(owners: &[String], threshold: u64) -> Result<OwnerSet> {
    let addresses = owners
        .iter()
        .enumerate()
        .map(|(index, text)| {
            Address::parse_hex(text).map_err(|e| {
                BindingError::invalid_owners(format!(
                    "owner {index} ({text:?}) is not an address: {e}"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let threshold = u8::try_from(threshold).map_err(|_| {
        BindingError::invalid_owners(format!(
            "threshold {threshold} is out of range: it must be 1 to {} (the number of owners)",
            owners.len()
        ))
    })?;
    Ok(OwnerSet::new(&addresses, threshold)?)
}

/// The owners as checksummed text, sorted as the core keeps them.
pub(crate) fn owner_list(owners: &OwnerSet) -> Vec<String> {
    owners
        .owners()
        .iter()
        .map(|owner| owner.checksum().to_string())
        .collect()
}

/// An admin request from its EIP-712 typed-data JSON, read strictly.
///
/// # Errors
/// The core's `AuthorityError` naming the field that is wrong.
pub(crate) fn admin_request_from_json(json: &str) -> Result<AdminRequest> {
    Ok(AdminRequest::from_typed_data_json(json)?)
}

/// Approvals from a list of 65-byte signatures, each `bytes` or hex text.
///
/// # Errors
/// [`BindingError::InvalidArgument`] for an item of another type; the
/// core's `AuthorityError` for a wrong length or text that is not hex.
pub(crate) fn approvals_from_py(approvals: &Bound<'_, PyAny>) -> Result<Vec<[u8; APPROVAL_LEN]>> {
    let items: Vec<Bound<'_, PyAny>> = approvals.extract().map_err(|_| {
        BindingError::invalid_argument("approvals is a list of signatures (bytes or hex text)")
    })?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            if let Ok(bytes) = item.cast::<PyBytes>() {
                Ok(authority::parse_approval_bytes(bytes.as_bytes())?)
            } else if let Ok(text) = item.cast::<PyString>() {
                let text = text.to_str().map_err(|_| {
                    BindingError::invalid_argument(format!("approval {index} is not valid text"))
                })?;
                Ok(authority::parse_approval_hex(text.trim())?)
            } else {
                Err(BindingError::invalid_argument(format!(
                    "approval {index} must be bytes or hex text (a 65-byte signature)"
                )))
            }
        })
        .collect()
}

/// `keccak256` of an owner set's encoding: what a `replace_owners` request
/// commits to and what attestation reports as the owners hash. The set is
/// checked as an account's would be.
#[pyfunction]
pub(crate) fn owners_hash<'py>(
    py: Python<'py>,
    owners: Vec<String>,
    threshold: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let set = owner_set(&owners, threshold)?;
    Ok(PyBytes::new(
        py,
        &authority::replace_owners_params_hash(&set),
    ))
}

/// Checks an audit log (its bytes) against the head it must end at (32
/// bytes) and returns its entries as dicts, oldest first.
#[pyfunction]
pub(crate) fn verify_audit_log<'py>(
    py: Python<'py>,
    log: &[u8],
    head: &[u8],
) -> PyResult<Bound<'py, PyList>> {
    let head: [u8; 32] = head
        .try_into()
        .map_err(|_| BindingError::invalid_argument("an audit log head is 32 bytes"))?;
    let entries = audit::verify_audit_log(log, &head)
        .map_err(|e| BindingError::from(wallet_core::Error::from(e)))?;
    audit_entries_to_py(py, &entries)
}

/// The entries as dicts: `seq`, `time`, `event`, `address`, the event's own
/// fields, `prev` and `hash`; hashes as `0x` hex.
pub(crate) fn audit_entries_to_py<'py>(
    py: Python<'py>,
    entries: &[AuditEntry],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for entry in entries {
        list.append(audit_entry_to_py(py, entry)?)?;
    }
    Ok(list)
}

fn audit_entry_to_py<'py>(py: Python<'py>, entry: &AuditEntry) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("seq", entry.seq)?;
    dict.set_item("time", entry.time)?;
    dict.set_item("address", entry.address.checksum().as_str())?;
    let event = match entry.event {
        AuditEvent::Create {
            policy,
            owners,
            threshold,
        }
        | AuditEvent::Import {
            policy,
            owners,
            threshold,
        }
        | AuditEvent::Restore {
            policy,
            owners,
            threshold,
        } => {
            dict.set_item("policy_hash", hex::encode(&policy))?;
            dict.set_item("owners_hash", hex::encode(&owners))?;
            dict.set_item("threshold", threshold)?;
            match entry.event {
                AuditEvent::Create { .. } => "create",
                AuditEvent::Import { .. } => "import",
                _ => "restore",
            }
        }
        AuditEvent::ReplacePolicy { nonce, old, new }
        | AuditEvent::ReplaceOwners { nonce, old, new } => {
            dict.set_item("nonce", nonce)?;
            dict.set_item("old", hex::encode(&old))?;
            dict.set_item("new", hex::encode(&new))?;
            if matches!(entry.event, AuditEvent::ReplacePolicy { .. }) {
                "replace_policy"
            } else {
                "replace_owners"
            }
        }
        AuditEvent::ExportKeystore { nonce } => {
            dict.set_item("nonce", nonce)?;
            "export_keystore"
        }
        AuditEvent::ChangePin { nonce } => {
            dict.set_item("nonce", nonce)?;
            "change_pin"
        }
        AuditEvent::Refuse { request, rule } => {
            dict.set_item("request", request.name())?;
            dict.set_item("rule", rule.name())?;
            "refuse"
        }
        AuditEvent::Rotate => "rotate",
        _ => "unknown",
    };
    dict.set_item("event", event)?;
    dict.set_item("prev", hex::encode(&entry.prev))?;
    dict.set_item("hash", hex::encode(&entry.hash))?;
    Ok(dict)
}
