//! The EIP-712 v4 JSON form of an [`AdminRequest`]: what wallets and tools
//! sign (`eth_signTypedData_v4`, eth-account `sign_typed_data(full_message=...)`,
//! `cast wallet sign --data`), and its strict reader.
//!
//! ```json
//! {"types":{"EIP712Domain":[{"name":"name","type":"string"},
//!                           {"name":"version","type":"string"},
//!                           {"name":"verifyingContract","type":"address"}],
//!           "AdminRequest":[{"name":"action","type":"string"},
//!                           {"name":"paramsHash","type":"bytes32"},
//!                           {"name":"nonce","type":"uint64"},
//!                           {"name":"deadline","type":"uint64"}]},
//!  "primaryType":"AdminRequest",
//!  "domain":{"name":"flare-wallet","version":"1","verifyingContract":"0x<EIP-55>"},
//!  "message":{"action":"replace_policy","paramsHash":"0x<64 hex>","nonce":0,"deadline":1700000000}}
//! ```

use std::format;
use std::string::String;
use std::vec::Vec;

use serde_json::{Map, Value};

use super::{AdminAction, AdminRequest, AuthorityError, DOMAIN_NAME, DOMAIN_VERSION};
use crate::signer::{Address, SignerError};

/// The longest typed-data text [`AdminRequest::from_typed_data_json`] reads.
pub const MAX_JSON_LEN: usize = 8 * 1024;

const DOMAIN_FIELDS: [(&str, &str); 3] = [
    ("name", "string"),
    ("version", "string"),
    ("verifyingContract", "address"),
];
const REQUEST_FIELDS: [(&str, &str); 4] = [
    ("action", "string"),
    ("paramsHash", "bytes32"),
    ("nonce", "uint64"),
    ("deadline", "uint64"),
];

impl AdminRequest {
    /// The full EIP-712 v4 typed-data message for this request, as the
    /// module documentation shows it (compact, numbers as JSON integers).
    #[must_use]
    pub fn to_typed_data_json(&self) -> String {
        let fields = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(name, ty)| format!("{{\"name\":\"{name}\",\"type\":\"{ty}\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut params = String::with_capacity(66);
        params.push_str("0x");
        for byte in self.params_hash {
            params.push_str(&format!("{byte:02x}"));
        }
        format!(
            concat!(
                "{{\"types\":{{\"EIP712Domain\":[{}],\"AdminRequest\":[{}]}},",
                "\"primaryType\":\"AdminRequest\",",
                "\"domain\":{{\"name\":\"{}\",\"version\":\"{}\",\"verifyingContract\":\"{}\"}},",
                "\"message\":{{\"action\":\"{}\",\"paramsHash\":\"{}\",\"nonce\":{},\"deadline\":{}}}}}"
            ),
            fields(&DOMAIN_FIELDS),
            fields(&REQUEST_FIELDS),
            DOMAIN_NAME,
            DOMAIN_VERSION,
            self.wallet.checksum(),
            self.action.as_str(),
            params,
            self.nonce,
            self.deadline,
        )
    }

    /// Reads the typed-data message strictly: exactly the types above (in
    /// this order), `primaryType` `AdminRequest`, this domain's name and
    /// version, a valid `verifyingContract`, `nonce` and `deadline` as JSON
    /// integers or decimal strings within u64, `paramsHash` as `0x` and 64
    /// hex digits. Unknown and repeated keys are refused; so is text longer
    /// than [`MAX_JSON_LEN`].
    ///
    /// # Errors
    /// The `Json*` variants of [`AuthorityError`], naming the field.
    pub fn from_typed_data_json(text: &str) -> Result<Self, AuthorityError> {
        if text.len() > MAX_JSON_LEN {
            return Err(AuthorityError::JsonTooLarge {
                len: text.len(),
                max: MAX_JSON_LEN,
            });
        }
        let value: Value = serde_json::from_str(text).map_err(|e| AuthorityError::JsonSyntax {
            line: e.line(),
            column: e.column(),
        })?;
        refuse_duplicate_keys(text)?;
        let top = object(&value, "(top level)")?;
        only_keys(
            top,
            &["types", "primaryType", "domain", "message"],
            "(top level)",
        )?;

        let types = object(field(top, "types", "types")?, "types")?;
        only_keys(types, &["EIP712Domain", "AdminRequest"], "types")?;
        check_type(
            field(types, "EIP712Domain", "types.EIP712Domain")?,
            &DOMAIN_FIELDS,
            "types.EIP712Domain",
        )?;
        check_type(
            field(types, "AdminRequest", "types.AdminRequest")?,
            &REQUEST_FIELDS,
            "types.AdminRequest",
        )?;

        if string(field(top, "primaryType", "primaryType")?, "primaryType")? != "AdminRequest" {
            return Err(AuthorityError::JsonPrimaryType);
        }

        let domain = object(field(top, "domain", "domain")?, "domain")?;
        only_keys(domain, &["name", "version", "verifyingContract"], "domain")?;
        if string(field(domain, "name", "domain.name")?, "domain.name")? != DOMAIN_NAME {
            return Err(AuthorityError::JsonDomainName);
        }
        if string(
            field(domain, "version", "domain.version")?,
            "domain.version",
        )? != DOMAIN_VERSION
        {
            return Err(AuthorityError::JsonDomainVersion);
        }
        let contract = string(
            field(domain, "verifyingContract", "domain.verifyingContract")?,
            "domain.verifyingContract",
        )?;
        let wallet = address(contract)?;

        let message = object(field(top, "message", "message")?, "message")?;
        only_keys(
            message,
            &["action", "paramsHash", "nonce", "deadline"],
            "message",
        )?;
        let action = string(
            field(message, "action", "message.action")?,
            "message.action",
        )?;
        let action = AdminAction::parse(action).map_err(|_| AuthorityError::JsonAction)?;
        let params_hash = bytes32(string(
            field(message, "paramsHash", "message.paramsHash")?,
            "message.paramsHash",
        )?)?;
        let nonce = integer(field(message, "nonce", "message.nonce")?, "message.nonce")?;
        let deadline = integer(
            field(message, "deadline", "message.deadline")?,
            "message.deadline",
        )?;
        Ok(Self {
            wallet,
            action,
            params_hash,
            nonce,
            deadline,
        })
    }
}

fn object<'v>(
    value: &'v Value,
    field: &'static str,
) -> Result<&'v Map<String, Value>, AuthorityError> {
    value
        .as_object()
        .ok_or(AuthorityError::JsonWrongType { field })
}

fn string<'v>(value: &'v Value, field: &'static str) -> Result<&'v str, AuthorityError> {
    value
        .as_str()
        .ok_or(AuthorityError::JsonWrongType { field })
}

fn field<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &'static str,
) -> Result<&'v Value, AuthorityError> {
    map.get(key)
        .ok_or(AuthorityError::JsonMissingField { field: path })
}

fn only_keys(
    map: &Map<String, Value>,
    allowed: &[&str],
    object: &'static str,
) -> Result<(), AuthorityError> {
    if map.keys().all(|k| allowed.contains(&k.as_str())) {
        Ok(())
    } else {
        Err(AuthorityError::JsonUnknownField { object })
    }
}

fn check_type(
    value: &Value,
    expected: &[(&str, &str)],
    field: &'static str,
) -> Result<(), AuthorityError> {
    let list = value
        .as_array()
        .ok_or(AuthorityError::JsonWrongType { field })?;
    let mismatch = AuthorityError::JsonTypeMismatch { field };
    if list.len() != expected.len() {
        return Err(mismatch);
    }
    for (entry, (name, ty)) in list.iter().zip(expected) {
        let entry = entry.as_object().ok_or(mismatch)?;
        let matches = entry.len() == 2
            && entry.get("name").and_then(Value::as_str) == Some(name)
            && entry.get("type").and_then(Value::as_str) == Some(ty);
        if !matches {
            return Err(mismatch);
        }
    }
    Ok(())
}

fn address(text: &str) -> Result<Address, AuthorityError> {
    if !text.starts_with("0x") {
        return Err(AuthorityError::JsonAddress(
            SignerError::InvalidAddressLength,
        ));
    }
    Address::parse_hex(text).map_err(AuthorityError::JsonAddress)
}

fn bytes32(text: &str) -> Result<[u8; 32], AuthorityError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or(AuthorityError::JsonParamsHash)?
        .as_bytes();
    if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(AuthorityError::JsonParamsHash);
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (super::hex_value(pair[0]) << 4) | super::hex_value(pair[1]);
    }
    Ok(out)
}

/// A JSON integer, or a decimal string (digits only, no leading zero), within u64.
fn integer(value: &Value, field: &'static str) -> Result<u64, AuthorityError> {
    let bad = AuthorityError::JsonInteger { field };
    match value {
        Value::Number(n) => n.as_u64().ok_or(bad),
        Value::String(s) => {
            let canonical = !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s.len() == 1 || !s.starts_with('0'));
            if !canonical {
                return Err(bad);
            }
            s.parse::<u64>().map_err(|_| bad)
        }
        _ => Err(bad),
    }
}

/// Refuses an object that gives a key twice (a `Value` keeps the last one
/// silently), with the policy reader's scanner.
fn refuse_duplicate_keys(text: &str) -> Result<(), AuthorityError> {
    crate::policy::json::scan_json_text(text, |_| {}).map_err(|_| AuthorityError::JsonDuplicateKey)
}
