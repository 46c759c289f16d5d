//! EIP-712 typed data as `eth_signTypedData_v4` carries it: `types`,
//! `primaryType`, `domain`, `message`; hashed as the EIP specifies
//! (`encodeType`, `encodeData`, `hashStruct`) and as eth-account and
//! MetaMask's v4 do (arrays of any type, nested structs).
//!
//! Integers may be JSON integers, decimal strings or `0x` hex strings; a
//! JSON number that is not an exact integer below 2^53 is refused, since the
//! JSON reader would have rounded it: give large integers as strings.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};
use wallet_core::keccak::{keccak256, Keccak256};
use wallet_core::policy::Eip712Domain;
use wallet_core::signer::Address;
use wallet_core::tx::U256;

use crate::rpc::RpcError;
use crate::values::{address_value, parse_decimal, parse_hex_bytes, quantity};

/// How deep structs and arrays may nest.
const MAX_DEPTH: usize = 32;

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::invalid_params(format!("typed data: {}", message.into()))
}

/// One member of a struct type.
#[derive(Clone, Debug)]
struct Member {
    name: String,
    kind: String,
}

/// The type definitions of one typed-data document.
struct Types {
    structs: HashMap<String, Vec<Member>>,
}

/// The domain fields the core's policy can check, owned.
#[derive(Clone, Debug, Default)]
pub struct DomainFields {
    name: Option<String>,
    version: Option<String>,
    chain_id: Option<U256>,
    verifying_contract: Option<Address>,
    salt: Option<[u8; 32]>,
}

impl DomainFields {
    /// Reads a domain object's standard members (`name`, `version`,
    /// `chainId`, `verifyingContract`, `salt`), each optional.
    ///
    /// # Errors
    /// Invalid-params errors for members of the wrong type or any other member.
    pub fn from_json(value: &Value) -> Result<Self, RpcError> {
        let object = value
            .as_object()
            .ok_or_else(|| invalid("the domain must be an object"))?;
        if let Some(other) = object
            .keys()
            .find(|key| !DOMAIN_MEMBERS.iter().any(|(name, _)| name == key))
        {
            return Err(invalid(format!(
                "domain member {other:?} is not one of the five EIP-712 ones"
            )));
        }
        let types = Types {
            structs: HashMap::from([(
                "EIP712Domain".to_string(),
                DOMAIN_MEMBERS
                    .iter()
                    .filter(|(name, _)| object.contains_key(*name))
                    .map(|(name, kind)| Member {
                        name: (*name).into(),
                        kind: (*kind).into(),
                    })
                    .collect(),
            )]),
        };
        domain_fields(&types, object)?.ok_or_else(|| invalid("the domain cannot be read"))
    }

    /// The core's view of the domain.
    #[must_use]
    pub fn as_domain(&self) -> Eip712Domain<'_> {
        Eip712Domain {
            name: self.name.as_deref(),
            version: self.version.as_deref(),
            chain_id: self.chain_id,
            verifying_contract: self.verifying_contract,
            salt: self.salt,
        }
    }
}

/// A hashed typed-data document.
pub struct HashedTypedData {
    /// `hashStruct(EIP712Domain, domain)`.
    pub domain_separator: [u8; 32],
    /// `hashStruct(primaryType, message)`.
    pub struct_hash: [u8; 32],
    /// The domain as fields, when it uses only the five standard members in
    /// the standard order (so the core can rebuild its separator and check
    /// it against the policy).
    pub domain: Option<DomainFields>,
}

const DOMAIN_MEMBERS: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

impl Types {
    fn read(types: &Map<String, Value>, domain: &Map<String, Value>) -> Result<Self, RpcError> {
        let mut structs = HashMap::new();
        for (name, members) in types {
            let members = members
                .as_array()
                .ok_or_else(|| invalid(format!("type {name} must be a list of members")))?;
            let members = members
                .iter()
                .map(|member| {
                    let name = member.get("name").and_then(Value::as_str);
                    let kind = member.get("type").and_then(Value::as_str);
                    match (name, kind) {
                        (Some(name), Some(kind)) => Ok(Member {
                            name: name.into(),
                            kind: kind.into(),
                        }),
                        _ => Err(invalid("each member is {\"name\": ..., \"type\": ...}")),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            structs.insert(name.clone(), members);
        }
        // eth-account infers EIP712Domain from the domain's keys when absent.
        structs.entry("EIP712Domain".into()).or_insert_with(|| {
            DOMAIN_MEMBERS
                .iter()
                .filter(|(name, _)| domain.contains_key(*name))
                .map(|(name, kind)| Member {
                    name: (*name).into(),
                    kind: (*kind).into(),
                })
                .collect()
        });
        Ok(Self { structs })
    }

    fn members(&self, name: &str) -> Result<&[Member], RpcError> {
        self.structs
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| invalid(format!("type {name} is not defined")))
    }

    /// The struct types `primary` refers to, itself included.
    fn dependencies(
        &self,
        primary: &str,
        found: &mut BTreeSet<String>,
        depth: usize,
    ) -> Result<(), RpcError> {
        if depth > MAX_DEPTH {
            return Err(invalid("types nest too deeply"));
        }
        if found.contains(primary) {
            return Ok(());
        }
        found.insert(primary.into());
        for member in self.members(primary)? {
            let base = base_type(&member.kind);
            if self.structs.contains_key(base) {
                self.dependencies(base, found, depth + 1)?;
            }
        }
        Ok(())
    }

    fn encode_type(&self, primary: &str) -> Result<String, RpcError> {
        let mut deps = BTreeSet::new();
        self.dependencies(primary, &mut deps, 0)?;
        deps.remove(primary);
        let mut text = String::new();
        for name in std::iter::once(primary.to_string()).chain(deps) {
            text.push_str(&name);
            text.push('(');
            let members = self.members(&name)?;
            for (i, member) in members.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(&member.kind);
                text.push(' ');
                text.push_str(&member.name);
            }
            text.push(')');
        }
        Ok(text)
    }

    fn hash_struct(&self, name: &str, data: &Value, depth: usize) -> Result<[u8; 32], RpcError> {
        if depth > MAX_DEPTH {
            return Err(invalid("data nests too deeply"));
        }
        let object = data
            .as_object()
            .ok_or_else(|| invalid(format!("a {name} value must be an object")))?;
        let mut hasher = Keccak256::new();
        hasher.update(&keccak256(self.encode_type(name)?.as_bytes()));
        for member in self.members(name)? {
            let value = object.get(&member.name).unwrap_or(&Value::Null);
            hasher.update(&self.encode_value(&member.kind, value, depth + 1)?);
        }
        Ok(hasher.finalize())
    }

    fn encode_value(&self, kind: &str, value: &Value, depth: usize) -> Result<[u8; 32], RpcError> {
        if depth > MAX_DEPTH {
            return Err(invalid("data nests too deeply"));
        }
        if let Some(element) = array_element(kind) {
            let items = value
                .as_array()
                .ok_or_else(|| invalid(format!("a {kind} value must be a list")))?;
            if let Some(length) = fixed_length(kind) {
                if items.len() != length {
                    return Err(invalid(format!("a {kind} value has {length} elements")));
                }
            }
            let mut hasher = Keccak256::new();
            for item in items {
                hasher.update(&self.encode_value(element, item, depth + 1)?);
            }
            return Ok(hasher.finalize());
        }
        if self.structs.contains_key(kind) {
            if value.is_null() {
                return Ok([0u8; 32]);
            }
            return self.hash_struct(kind, value, depth + 1);
        }
        encode_atomic(kind, value)
    }
}

/// `T` of `T[]` or `T[n]`.
fn array_element(kind: &str) -> Option<&str> {
    if kind.ends_with(']') {
        kind.rfind('[').map(|open| &kind[..open])
    } else {
        None
    }
}

fn fixed_length(kind: &str) -> Option<usize> {
    let open = kind.rfind('[')?;
    kind.get(open + 1..kind.len() - 1)?.parse().ok()
}

fn base_type(kind: &str) -> &str {
    kind.find('[').map_or(kind, |open| &kind[..open])
}

fn integer_bits(kind: &str, prefix: &str) -> Option<usize> {
    let digits = kind.strip_prefix(prefix)?;
    if digits.is_empty() {
        return Some(256);
    }
    let bits: usize = digits.parse().ok()?;
    (bits.is_multiple_of(8) && (8..=256).contains(&bits)).then_some(bits)
}

/// A JSON number that is an exact integer, as text.
fn exact_integer(value: &Value) -> Option<String> {
    let number = value.as_number()?;
    if let Some(unsigned) = number.as_u64() {
        return Some(unsigned.to_string());
    }
    if let Some(signed) = number.as_i64() {
        return Some(signed.to_string());
    }
    None
}

fn encode_integer(
    kind: &str,
    value: &Value,
    signed: bool,
    bits: usize,
) -> Result<[u8; 32], RpcError> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(_) => exact_integer(value).ok_or_else(|| {
            invalid(format!(
                "{kind} value {value} is not an exact integer: give large integers as strings"
            ))
        })?,
        Value::Bool(flag) => u8::from(*flag).to_string(),
        _ => return Err(invalid(format!("a {kind} value must be an integer"))),
    };
    let (negative, magnitude_text) = match text.strip_prefix('-') {
        Some(rest) if signed => (true, rest),
        Some(_) => return Err(invalid(format!("{kind} cannot be negative"))),
        None => (false, text.as_str()),
    };
    let magnitude = if magnitude_text.starts_with("0x") || magnitude_text.starts_with("0X") {
        quantity(&Value::String(magnitude_text.into()), kind)?
    } else {
        parse_decimal(magnitude_text)
            .ok_or_else(|| invalid(format!("{kind} value {text:?} is not an integer")))?
    };
    // Range: unsigned below 2^bits; signed within [-2^(bits-1), 2^(bits-1)).
    let limit_bits = if signed { bits - 1 } else { bits };
    let leading = magnitude.0.iter().take_while(|b| **b == 0).count();
    let used_bits = (32 - leading) * 8
        - magnitude
            .0
            .get(leading)
            .map_or(0, |b| b.leading_zeros() as usize);
    let fits = used_bits <= limit_bits
        || (negative && used_bits == limit_bits + 1 && is_power_of_two(&magnitude));
    if !fits {
        return Err(invalid(format!("{kind} value {text} is out of range")));
    }
    let mut word = magnitude.0;
    if negative {
        // Two's complement over 256 bits.
        for byte in &mut word {
            *byte = !*byte;
        }
        for byte in word.iter_mut().rev() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                break;
            }
        }
    }
    Ok(word)
}

fn is_power_of_two(value: &U256) -> bool {
    value.0.iter().map(|b| b.count_ones()).sum::<u32>() == 1
}

fn encode_atomic(kind: &str, value: &Value) -> Result<[u8; 32], RpcError> {
    match kind {
        "string" => {
            let text = value
                .as_str()
                .ok_or_else(|| invalid(format!("a string value must be a string, not {value}")))?;
            Ok(keccak256(text.as_bytes()))
        }
        "bytes" => match value {
            Value::String(text) => Ok(keccak256(&parse_hex_bytes(text, "a bytes value")?)),
            _ => Err(invalid("a bytes value must be a 0x-hex string")),
        },
        "bool" => match value {
            Value::Bool(flag) => {
                let mut word = [0u8; 32];
                word[31] = u8::from(*flag);
                Ok(word)
            }
            _ => Err(invalid("a bool value must be true or false")),
        },
        "address" => {
            let address = address_value(value, "an address value")?;
            let mut word = [0u8; 32];
            word[12..].copy_from_slice(&address.0);
            Ok(word)
        }
        _ => {
            if let Some(size) = kind.strip_prefix("bytes") {
                let size: usize = size
                    .parse()
                    .ok()
                    .filter(|n| (1..=32).contains(n))
                    .ok_or_else(|| invalid(format!("type {kind} is unknown")))?;
                let bytes = match value {
                    Value::String(text) => parse_hex_bytes(text, kind)?,
                    _ => return Err(invalid(format!("a {kind} value must be a 0x-hex string"))),
                };
                if bytes.len() > size {
                    return Err(invalid(format!("a {kind} value is at most {size} bytes")));
                }
                let mut word = [0u8; 32];
                word[..bytes.len()].copy_from_slice(&bytes);
                return Ok(word);
            }
            if let Some(bits) = integer_bits(kind, "uint") {
                return encode_integer(kind, value, false, bits);
            }
            if let Some(bits) = integer_bits(kind, "int") {
                return encode_integer(kind, value, true, bits);
            }
            Err(invalid(format!("type {kind} is unknown")))
        }
    }
}

fn domain_fields(
    types: &Types,
    domain: &Map<String, Value>,
) -> Result<Option<DomainFields>, RpcError> {
    let members = types.members("EIP712Domain")?;
    // Only the standard members, in the standard order, can be rebuilt by the core.
    let mut standard = DOMAIN_MEMBERS.iter();
    for member in members {
        if !standard.any(|(name, kind)| *name == member.name && *kind == member.kind) {
            return Ok(None);
        }
    }
    let has = |name: &str| members.iter().any(|m| m.name == name);
    let text = |name: &str| -> Result<Option<String>, RpcError> {
        if !has(name) {
            return Ok(None);
        }
        domain
            .get(name)
            .and_then(Value::as_str)
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| invalid(format!("domain {name} must be a string")))
    };
    let mut fields = DomainFields {
        name: text("name")?,
        version: text("version")?,
        ..DomainFields::default()
    };
    if has("chainId") {
        let value = domain.get("chainId").unwrap_or(&Value::Null);
        fields.chain_id = Some(U256(encode_integer("uint256", value, false, 256)?));
    }
    if has("verifyingContract") {
        fields.verifying_contract = Some(address_value(
            domain.get("verifyingContract").unwrap_or(&Value::Null),
            "domain verifyingContract",
        )?);
    }
    if has("salt") {
        fields.salt = Some(encode_atomic(
            "bytes32",
            domain.get("salt").unwrap_or(&Value::Null),
        )?);
    }
    Ok(Some(fields))
}

/// Hashes a typed-data document (an object, or a string holding one, as
/// some clients send it).
///
/// # Errors
/// Invalid-params errors that say what is wrong.
pub fn hash_typed_data(document: &Value) -> Result<HashedTypedData, RpcError> {
    let parsed;
    let document = match document {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|_| invalid("the typed-data string is not JSON"))?;
            &parsed
        }
        other => other,
    };
    let object = document.as_object().ok_or_else(|| {
        invalid("typed data is an object with types, primaryType, domain and message")
    })?;
    let get_object = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(format!("{name} must be an object")))
    };
    let types_json = get_object("types")?;
    let domain = get_object("domain")?;
    let message = object
        .get("message")
        .ok_or_else(|| invalid("message is missing"))?;
    let primary = object
        .get("primaryType")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("primaryType must be a string"))?;
    let types = Types::read(types_json, domain)?;
    let domain_value = Value::Object(domain.clone());
    let domain_separator = types.hash_struct("EIP712Domain", &domain_value, 0)?;
    let struct_hash = types.hash_struct(primary, message, 0)?;
    let fields = domain_fields(&types, domain)?
        .filter(|fields| fields.as_domain().separator() == domain_separator);
    Ok(HashedTypedData {
        domain_separator,
        struct_hash,
        domain: fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The EIP-712 specification's example ("Mail"), with its published hashes.
    #[test]
    fn the_eip_712_mail_example() {
        let document = json!({
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"}
                ],
                "Person": [
                    {"name": "name", "type": "string"},
                    {"name": "wallet", "type": "address"}
                ],
                "Mail": [
                    {"name": "from", "type": "Person"},
                    {"name": "to", "type": "Person"},
                    {"name": "contents", "type": "string"}
                ]
            },
            "primaryType": "Mail",
            "domain": {
                "name": "Ether Mail",
                "version": "1",
                "chainId": 1,
                "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
            },
            "message": {
                "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                "contents": "Hello, Bob!"
            }
        });
        let hashed = hash_typed_data(&document).unwrap();
        assert_eq!(
            crate::values::hex_bytes(&hashed.domain_separator),
            "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
        );
        assert_eq!(
            crate::values::hex_bytes(&hashed.struct_hash),
            "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
        );
        assert!(hashed.domain.is_some());
    }

    #[test]
    fn integers_in_range_and_twos_complement() {
        let minus_one = encode_integer("int8", &json!(-1), true, 8).unwrap();
        assert_eq!(minus_one, [0xff; 32]);
        assert!(encode_integer("int8", &json!(-128), true, 8).is_ok());
        assert!(encode_integer("int8", &json!(-129), true, 8).is_err());
        assert!(encode_integer("int8", &json!(128), true, 8).is_err());
        assert!(encode_integer("uint8", &json!(255), false, 8).is_ok());
        assert!(encode_integer("uint8", &json!(256), false, 8).is_err());
        assert!(encode_integer("uint256", &json!(1.5), false, 256).is_err());
        assert!(encode_integer("uint256", &json!("0x10"), false, 256).is_ok());
    }
}
