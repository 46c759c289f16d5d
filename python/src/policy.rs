//! Signing policies from Python (`flare_wallet.Policy`): a dict with exactly
//! the policy's keys, read into the core's [`Policy`], and back.
//!
//! The dict is the policy's JSON form as Python holds it, and is read by the
//! core's JSON reader (`Policy::from_json`), the same one the CLI's policy
//! files and the C ABI use. Its keys are the rule names the core uses in its
//! refusals (`max_value_wei`, ...), so a refusal names the key the user
//! wrote. A key left out (or None) keeps [`Policy::default`]'s rule
//! (everything allowed except transactions without replay protection); an
//! unknown key is an error, so that a misspelt rule is never silently absent.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyMapping};

use wallet_core::policy::{Policy, PolicyField};
use wallet_core::signer::Address;
use wallet_core::tx::U256;

use crate::error::BindingError;
use crate::hex;

type Result<T, E = BindingError> = core::result::Result<T, E>;

/// Every key of a policy dict, in the order `to_dict` writes them.
const KEYS: [PolicyField; 17] = [
    PolicyField::ChainIds,
    PolicyField::MaxValueWei,
    PolicyField::MaxFeeWei,
    PolicyField::RecipientsAllow,
    PolicyField::RecipientsDeny,
    PolicyField::AllowContractCreation,
    PolicyField::Selectors,
    PolicyField::DelegationsAllow,
    PolicyField::AllowUnprotected,
    PolicyField::AllowMessages,
    PolicyField::TypedDataDomains,
    PolicyField::DailyLimitWei,
    PolicyField::AllowRawHashes,
    PolicyField::Default,
    PolicyField::Tokens,
    PolicyField::PermitMaxLifetimeSeconds,
    PolicyField::AllowAnyChainAuthorization,
];

fn from_core(e: impl Into<wallet_core::Error>) -> BindingError {
    BindingError::from(e.into())
}

/// Reads a policy dict (any mapping) through the core's JSON reader, the
/// one every front end shares: the dict is written as JSON by Python's
/// `json` module (ints of any size stay exact) and read by
/// [`Policy::from_json`].
///
/// # Errors
/// [`BindingError::InvalidPolicy`] for a value JSON cannot carry (bytes, a
/// float NaN, an object); the core's `PolicyJsonError`, naming the key and
/// what was expected, for the rest.
pub(crate) fn policy_from_py(rules: &Bound<'_, PyAny>) -> Result<Policy> {
    let py = rules.py();
    let dict = if let Ok(dict) = rules.cast::<PyDict>() {
        dict.clone()
    } else if let Ok(mapping) = rules.cast::<PyMapping>() {
        mapping
            .items()
            .and_then(|items| PyDict::from_sequence(&items))
            .map_err(|e| {
                BindingError::invalid_policy(format!("the policy mapping could not be read: {e}"))
            })?
    } else {
        return Err(BindingError::invalid_policy(format!(
            "a policy is a dict of rules, not {}",
            rules
                .get_type()
                .name()
                .map_or_else(|_| String::from("an unknown type"), |n| n.to_string())
        )));
    };
    let text = py
        .import(intern!(py, "json"))
        .and_then(|json| {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "allow_nan"), false)?;
            json.call_method(intern!(py, "dumps"), (dict,), Some(&kwargs))
        })
        .and_then(|text| text.extract::<String>())
        .map_err(|e| {
            BindingError::invalid_policy(format!(
                "the policy dict holds a value JSON cannot carry ({e}): amounts are ints or \
                 decimal or 0x-hex strings, addresses and selectors 0x-hex strings"
            ))
        })?;
    Policy::from_json(&text).map_err(from_core)
}

// ------------------------------------------------------------------ back to Python

pub(crate) fn int_of<'py>(py: Python<'py>, value: U256) -> PyResult<Bound<'py, PyAny>> {
    py.get_type::<PyInt>().call_method1(
        intern!(py, "from_bytes"),
        (PyBytes::new(py, &value.0), intern!(py, "big")),
    )
}

fn optional_int<'py>(py: Python<'py>, value: Option<U256>) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Some(value) => int_of(py, value),
        None => Ok(py.None().into_bound(py)),
    }
}

fn address_list<'py>(py: Python<'py>, list: &[Address]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, list.iter().map(|a| a.checksum().to_string()))
}

fn optional_address_list<'py>(
    py: Python<'py>,
    list: Option<&[Address]>,
) -> PyResult<Bound<'py, PyAny>> {
    match list {
        Some(list) => Ok(address_list(py, list)?.into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

/// The dict form of a policy: every key, in [`KEYS`] order; amounts as
/// ints, addresses in EIP-55 form, selectors as `0x` and 8 hex digits.
pub(crate) fn policy_to_py<'py>(py: Python<'py>, policy: &Policy) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for field in KEYS {
        let key = field.name();
        match field {
            PolicyField::ChainIds => match policy.chain_ids() {
                Some(ids) => dict.set_item(key, PyList::new(py, ids)?)?,
                None => dict.set_item(key, py.None())?,
            },
            PolicyField::MaxValueWei => {
                dict.set_item(key, optional_int(py, policy.max_value_wei())?)?;
            }
            PolicyField::MaxFeeWei => {
                dict.set_item(key, optional_int(py, policy.max_fee_wei())?)?;
            }
            PolicyField::RecipientsAllow => {
                dict.set_item(key, optional_address_list(py, policy.recipients_allow())?)?;
            }
            PolicyField::RecipientsDeny => {
                dict.set_item(key, address_list(py, policy.recipients_deny())?)?;
            }
            PolicyField::AllowContractCreation => {
                dict.set_item(key, policy.allow_contract_creation())?;
            }
            PolicyField::Selectors => {
                let selectors = PyDict::new(py);
                for rule in policy.selectors() {
                    let list = PyList::new(py, rule.selectors().iter().map(|s| hex::encode(s)))?;
                    selectors.set_item(rule.contract().checksum().as_str(), list)?;
                }
                dict.set_item(key, selectors)?;
            }
            PolicyField::DelegationsAllow => {
                dict.set_item(key, optional_address_list(py, policy.delegations_allow())?)?;
            }
            PolicyField::AllowUnprotected => dict.set_item(key, policy.allow_unprotected())?,
            PolicyField::AllowMessages => dict.set_item(key, policy.allow_messages())?,
            PolicyField::AllowRawHashes => dict.set_item(key, policy.allow_raw_hashes())?,
            PolicyField::TypedDataDomains => match policy.typed_data_domains() {
                Some(domains) => {
                    let list = PyList::empty(py);
                    for domain in domains {
                        let entry = PyDict::new(py);
                        entry.set_item("chain_id", domain.chain_id)?;
                        entry.set_item(
                            "verifying_contract",
                            domain.verifying_contract.checksum().as_str(),
                        )?;
                        list.append(entry)?;
                    }
                    dict.set_item(key, list)?;
                }
                None => dict.set_item(key, py.None())?,
            },
            PolicyField::DailyLimitWei => {
                dict.set_item(key, optional_int(py, policy.daily_limit_wei())?)?;
            }
            PolicyField::Default => dict.set_item(key, policy.default_mode().name())?,
            PolicyField::Tokens => {
                let tokens = PyDict::new(py);
                for rule in policy.tokens() {
                    let entry = PyDict::new(py);
                    entry.set_item("max_amount", optional_int(py, rule.max_amount())?)?;
                    entry.set_item("daily_limit", optional_int(py, rule.daily_limit())?)?;
                    entry.set_item(
                        "recipients_allow",
                        optional_address_list(py, rule.recipients_allow())?,
                    )?;
                    entry.set_item(
                        "spenders_allow",
                        optional_address_list(py, rule.spenders_allow())?,
                    )?;
                    entry.set_item("allow_unlimited_approval", rule.allow_unlimited_approval())?;
                    tokens.set_item(rule.token().checksum().as_str(), entry)?;
                }
                dict.set_item(key, tokens)?;
            }
            PolicyField::PermitMaxLifetimeSeconds => {
                dict.set_item(key, policy.permit_max_lifetime_seconds())?;
            }
            PolicyField::AllowAnyChainAuthorization => {
                dict.set_item(key, policy.allow_any_chain_authorization())?;
            }
            _ => {}
        }
    }
    Ok(dict)
}

/// A signing policy (`flare_wallet.Policy`): the rules the core checks
/// before any signature.
#[pyclass(frozen, eq, module = "flare_wallet._native", name = "Policy")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyPolicy {
    pub(crate) policy: Policy,
}

#[pymethods]
impl PyPolicy {
    /// A policy from a dict of rules; without one, the policy of a wallet
    /// created without one ([`Policy::plain_wallet`]: raw hashes allowed).
    #[new]
    #[pyo3(signature = (rules = None, /))]
    fn new(rules: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let policy = match rules {
            None => Policy::plain_wallet(),
            Some(rules) => policy_from_py(rules)?,
        };
        Ok(Self { policy })
    }

    /// The policy in a JSON text (the dict's keys; the form of `to_json` and
    /// of the CLI's `--policy FILE.json`).
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let policy = Policy::from_json(json).map_err(from_core)?;
        Ok(Self { policy })
    }

    /// The policy's JSON text: every key, amounts as decimal strings,
    /// addresses in EIP-55 form, keys in alphabetical order.
    fn to_json(&self) -> String {
        self.policy.to_json()
    }

    /// The policy read back from its canonical encoding.
    #[staticmethod]
    fn from_encoding(encoding: &[u8]) -> PyResult<Self> {
        let policy = Policy::decode(encoding).map_err(from_core)?;
        Ok(Self { policy })
    }

    /// SHA-256 of the canonical encoding, as `0x` and 64 hex digits: the
    /// policy hash attestation evidence carries.
    #[getter]
    fn hash(&self) -> String {
        hex::encode(&self.policy.hash())
    }

    /// The canonical binary encoding.
    #[getter]
    fn encoding<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.policy.to_bytes())
    }

    /// The rules as a dict with every key (JSON-ready).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        policy_to_py(py, &self.policy)
    }

    fn __hash__(&self) -> u64 {
        let digest = self.policy.hash();
        digest
            .first_chunk::<8>()
            .map_or(0, |first| u64::from_be_bytes(*first))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let rules = policy_to_py(py, &self.policy)?;
        Ok(format!("Policy({})", rules.repr()?))
    }
}
