//! Owner-approved admin actions over JSON-RPC: `flare_adminRequest` builds
//! the EIP-712 `AdminRequest` the owners sign, `flare_executeAdmin` runs the
//! action with their approvals. The core checks the approvals (M of N
//! distinct owners, the admin nonce, the deadline) and writes the audit log;
//! the service only carries the request and the approvals.
//!
//! The action object, the same for both methods:
//!
//! - `{"action": "replace_policy", "policy": {...}}`
//! - `{"action": "replace_owners", "owners": ["0x..", ...], "threshold": M}`
//! - `{"action": "export_keystore", "password": "..."}` (scrypt, the core's
//!   default parameters)
//!
//! with optional `"account"` (the first account by default) and, for
//! `flare_adminRequest`, `"deadline"` (Unix seconds; an hour from now by
//! default). `flare_executeAdmin` adds `"request"` (the typed data the owners
//! signed, as returned) and `"approvals"` (`0x` r‖s‖v signatures). The
//! password is never logged and never appears in an error.

use serde_json::{json, Value};
use wallet_core::authority::{self, AdminAction, AdminRequest, OwnerSet};
use wallet_core::keystore::KdfParams;
use wallet_core::policy::Policy;
use wallet_core::signer::Address;
use wallet_core::wallet::Wallet;
use wallet_core::Error as CoreError;
use zeroize::Zeroizing;

use crate::rpc::RpcError;
use crate::values::{address_value, hex_bytes};

/// The most approvals one request may carry.
const MAX_APPROVALS: usize = authority::MAX_APPROVALS;

/// An admin action with its parameters, read from JSON.
pub enum AdminParams {
    /// Replace the signing policy.
    ReplacePolicy(Box<Policy>),
    /// Replace the owners and the threshold.
    ReplaceOwners(Box<OwnerSet>),
    /// Export the key as a keystore under this password.
    ExportKeystore(Zeroizing<String>),
}

impl AdminParams {
    /// Reads the action object.
    ///
    /// # Errors
    /// Invalid-params errors naming the field.
    pub fn from_json(object: &Value) -> Result<Self, RpcError> {
        let action = object
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::invalid_params("the admin action object needs \"action\""))?;
        match AdminAction::parse(action) {
            Ok(AdminAction::ReplacePolicy) => {
                let policy = object
                    .get("policy")
                    .ok_or_else(|| RpcError::invalid_params("replace_policy needs \"policy\""))?;
                let text = serde_json::to_string(policy)
                    .map_err(|_| RpcError::invalid_params("the policy is not JSON"))?;
                let policy = Policy::from_json(&text)
                    .map_err(|e| RpcError::invalid_params(format!("policy: {e}")))?;
                Ok(Self::ReplacePolicy(Box::new(policy)))
            }
            Ok(AdminAction::ReplaceOwners) => {
                let owners = object
                    .get("owners")
                    .and_then(Value::as_array)
                    .ok_or_else(|| RpcError::invalid_params("replace_owners needs \"owners\", a list of addresses"))?
                    .iter()
                    .map(|owner| address_value(owner, "owner"))
                    .collect::<Result<Vec<Address>, _>>()?;
                let threshold = object
                    .get("threshold")
                    .and_then(Value::as_u64)
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| RpcError::invalid_params("replace_owners needs \"threshold\", 1 to 16"))?;
                let owners = OwnerSet::new(&owners, threshold)
                    .map_err(|e| RpcError::invalid_params(format!("owners: {e}")))?;
                Ok(Self::ReplaceOwners(Box::new(owners)))
            }
            Ok(AdminAction::ExportKeystore) => {
                let password = object
                    .get("password")
                    .and_then(Value::as_str)
                    .ok_or_else(|| RpcError::invalid_params("export_keystore needs \"password\""))?;
                Ok(Self::ExportKeystore(Zeroizing::new(password.to_string())))
            }
            Ok(AdminAction::ChangePin) => Err(RpcError::invalid_params(
                "change_pin is not offered by the service, whose accounts have no PIN: \
                 change a PIN with python -m flare_wallet change-pin",
            )),
            _ => Err(RpcError::invalid_params(format!(
                "admin action {action:?} is not one of replace_policy, replace_owners, export_keystore"
            ))),
        }
    }

    /// The action.
    #[must_use]
    pub fn action(&self) -> AdminAction {
        match self {
            Self::ReplacePolicy(_) => AdminAction::ReplacePolicy,
            Self::ReplaceOwners(_) => AdminAction::ReplaceOwners,
            Self::ExportKeystore(_) => AdminAction::ExportKeystore,
        }
    }

    /// The hash of the parameters, as the owners' request carries it.
    ///
    /// # Errors
    /// The core's errors (an ownerless account, a weak export).
    pub fn params_hash(&self, wallet: &Wallet) -> Result<[u8; 32], CoreError> {
        Ok(match self {
            Self::ReplacePolicy(policy) => authority::replace_policy_params_hash(&policy.hash()),
            Self::ReplaceOwners(owners) => authority::replace_owners_params_hash(owners),
            Self::ExportKeystore(password) => {
                wallet.export_keystore_params_hash(password.as_bytes(), KdfParams::default())?
            }
        })
    }

    /// Runs the action with the owners' approvals; returns what it made.
    ///
    /// # Errors
    /// The core's errors: approvals, nonce, deadline, unsealing, state.
    pub fn execute(
        self,
        wallet: &mut Wallet,
        request: &AdminRequest,
        approvals: &[[u8; 65]],
    ) -> Result<Value, CoreError> {
        Ok(match self {
            Self::ReplacePolicy(policy) => {
                let hash = wallet.replace_policy(*policy, request, approvals)?;
                json!({"action": "replace_policy", "policyHash": hex_bytes(&hash)})
            }
            Self::ReplaceOwners(owners) => {
                let hash = wallet.replace_owners(*owners, request, approvals)?;
                json!({"action": "replace_owners", "ownersHash": hex_bytes(&hash)})
            }
            Self::ExportKeystore(password) => {
                let keystore = wallet.export_keystore(
                    password.as_bytes(),
                    KdfParams::default(),
                    request,
                    approvals,
                )?;
                let text = keystore.to_json();
                let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                json!({"action": "export_keystore", "keystore": value})
            }
        })
    }
}

/// The approvals of a `flare_executeAdmin` call.
///
/// # Errors
/// Invalid-params errors for a missing list, too many entries, or an entry
/// that is not a 65-byte signature.
pub fn approvals(object: &Value) -> Result<Vec<[u8; 65]>, RpcError> {
    let list = object
        .get("approvals")
        .and_then(Value::as_array)
        .ok_or_else(|| RpcError::invalid_params("\"approvals\" must be a list of 0x signatures"))?;
    if list.len() > MAX_APPROVALS {
        return Err(RpcError::invalid_params(format!(
            "at most {MAX_APPROVALS} approvals"
        )));
    }
    list.iter()
        .map(|item| {
            let text = item
                .as_str()
                .ok_or_else(|| RpcError::invalid_params("an approval is a 0x-hex signature"))?;
            authority::parse_approval_hex(text)
                .map_err(|e| RpcError::invalid_params(format!("approval: {e}")))
        })
        .collect()
}

/// The request the owners signed, from its typed-data JSON (object or string).
///
/// # Errors
/// Invalid-params errors for anything that is not an `AdminRequest`.
pub fn request(object: &Value) -> Result<AdminRequest, RpcError> {
    let value = object.get("request").ok_or_else(|| {
        RpcError::invalid_params("\"request\" (the typed data the owners signed) is missing")
    })?;
    let text = match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string(other).map_err(|_| RpcError::invalid_params("request"))?,
    };
    AdminRequest::from_typed_data_json(&text)
        .map_err(|e| RpcError::invalid_params(format!("request: {e}")))
}
