//! EIP-712 typed data as `eth_signTypedData_v4` and eth-account's
//! `encode_typed_data(full_message=...)` carry it (`types`, `primaryType`,
//! `domain`, `message`): parsed once, hashed as the EIP specifies
//! (`encodeType`, `encodeData`, `hashStruct`, arrays and nested structs),
//! and read for the permits the policy understands ([`PermitKind`]).
//!
//! The policy checks and the wallet signs the same parsed document: the
//! digest comes from [`TypedData::signing_hash`], never from a caller's
//! hashes. The domain must use only the five standard members, in the
//! EIP's order, so the policy sees its chain id and verifying contract.
//!
//! Integers may be JSON integers, decimal strings or `0x` hex strings; a
//! JSON number that is not an exact 64-bit integer is refused (the reader
//! would have rounded it): give large integers as strings.

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};
use std::string::{String, ToString as _};
use std::vec::Vec;

use serde_json::{Map, Value};

use crate::keccak::{keccak256, Keccak256};
use crate::policy::token::UINT160_MAX;
use crate::policy::{Eip712Domain, Permit, PermitGrant, PermitKind};
use crate::signer::Address;
use crate::tx::U256;

/// The longest typed-data JSON accepted, in bytes.
pub const MAX_TYPED_DATA_LEN: usize = 64 * 1024;
/// How deep structs and arrays may nest.
const MAX_DEPTH: usize = 16;
/// Most grants a batch permit may carry for the policy to read it.
pub const MAX_PERMIT_GRANTS: usize = 32;

/// Why a typed-data document was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypedDataError {
    /// The text is longer than [`MAX_TYPED_DATA_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The text is not JSON.
    NotJson,
    /// The document does not follow EIP-712; the text says what is wrong.
    Invalid(&'static str),
}

impl fmt::Display for TypedDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(
                f,
                "typed data is {len} bytes, above the limit of {MAX_TYPED_DATA_LEN}"
            ),
            Self::NotJson => f.write_str("typed data is not JSON"),
            Self::Invalid(what) => write!(f, "typed data: {what}"),
        }
    }
}

impl std::error::Error for TypedDataError {}

type TdResult<T> = core::result::Result<T, TypedDataError>;

fn invalid<T>(what: &'static str) -> TdResult<T> {
    Err(TypedDataError::Invalid(what))
}

#[derive(Clone, Debug)]
struct Member {
    name: String,
    kind: String,
}

const DOMAIN_MEMBERS: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

/// A parsed, hashed typed-data document.
#[derive(Clone, Debug)]
pub struct TypedData {
    structs: BTreeMap<String, Vec<Member>>,
    primary: String,
    message: Value,
    name: Option<String>,
    version: Option<String>,
    chain_id: Option<U256>,
    verifying_contract: Option<Address>,
    salt: Option<[u8; 32]>,
    struct_hash: [u8; 32],
}

impl TypedData {
    /// Parses and hashes a typed-data document.
    ///
    /// # Errors
    /// A [`TypedDataError`] saying what is wrong.
    pub fn from_json(text: &str) -> TdResult<Self> {
        if text.len() > MAX_TYPED_DATA_LEN {
            return Err(TypedDataError::TooLong { len: text.len() });
        }
        let document: Value = serde_json::from_str(text).map_err(|_| TypedDataError::NotJson)?;
        Self::from_value(&document)
    }

    /// [`from_json`](Self::from_json) over bytes.
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json); [`TypedDataError::NotJson`] for
    /// bytes that are not UTF-8.
    pub fn from_json_slice(bytes: &[u8]) -> TdResult<Self> {
        if bytes.len() > MAX_TYPED_DATA_LEN {
            return Err(TypedDataError::TooLong { len: bytes.len() });
        }
        Self::from_json(core::str::from_utf8(bytes).map_err(|_| TypedDataError::NotJson)?)
    }

    /// Parses and hashes a document already read as JSON.
    ///
    /// # Errors
    /// A [`TypedDataError`] saying what is wrong.
    pub fn from_value(document: &Value) -> TdResult<Self> {
        let Some(object) = document.as_object() else {
            return invalid(
                "the document must be an object with types, primaryType, domain and message",
            );
        };
        if let Some(_other) = object
            .keys()
            .find(|k| !["types", "primaryType", "domain", "message"].contains(&k.as_str()))
        {
            return invalid(
                "the document has a key other than types, primaryType, domain and message",
            );
        }
        let Some(types) = object.get("types").and_then(Value::as_object) else {
            return invalid("types must be an object");
        };
        let Some(domain) = object.get("domain").and_then(Value::as_object) else {
            return invalid("domain must be an object");
        };
        let Some(primary) = object.get("primaryType").and_then(Value::as_str) else {
            return invalid("primaryType must be a string");
        };
        let Some(message) = object.get("message") else {
            return invalid("message is missing");
        };
        if primary == "EIP712Domain" {
            return invalid("primaryType cannot be EIP712Domain");
        }
        let structs = read_types(types, domain)?;
        let mut data = Self {
            structs,
            primary: primary.to_string(),
            message: message.clone(),
            name: None,
            version: None,
            chain_id: None,
            verifying_contract: None,
            salt: None,
            struct_hash: [0u8; 32],
        };
        data.read_domain(domain)?;
        data.struct_hash = data.hash_struct(primary, message, 0)?;
        Ok(data)
    }

    fn read_domain(&mut self, domain: &Map<String, Value>) -> TdResult<()> {
        let members = self.members("EIP712Domain")?.to_vec();
        let mut standard = DOMAIN_MEMBERS.iter();
        for member in &members {
            if !standard.any(|(name, kind)| *name == member.name && *kind == member.kind) {
                return invalid("EIP712Domain must use only name, version, chainId, verifyingContract and salt, in that order and with their standard types");
            }
        }
        if domain.keys().any(|k| !members.iter().any(|m| &m.name == k)) {
            return invalid("the domain has a member its EIP712Domain type does not declare");
        }
        for member in &members {
            let value = domain.get(&member.name).unwrap_or(&Value::Null);
            let word = encode_atomic(&member.kind, value)?;
            match member.name.as_str() {
                "name" | "version" => {
                    let Some(text) = value.as_str() else {
                        return invalid("domain name and version must be strings");
                    };
                    if member.name == "name" {
                        self.name = Some(text.to_string());
                    } else {
                        self.version = Some(text.to_string());
                    }
                }
                "chainId" => self.chain_id = Some(U256(word)),
                "verifyingContract" => self.verifying_contract = Some(word_address(&word)),
                _ => self.salt = Some(word),
            }
        }
        Ok(())
    }

    /// The domain, as the policy checks it.
    #[must_use]
    pub fn domain(&self) -> Eip712Domain<'_> {
        Eip712Domain {
            name: self.name.as_deref(),
            version: self.version.as_deref(),
            chain_id: self.chain_id,
            verifying_contract: self.verifying_contract,
            salt: self.salt,
        }
    }

    /// The primary type's name.
    #[must_use]
    pub fn primary_type(&self) -> &str {
        &self.primary
    }

    /// `hashStruct(primaryType, message)`.
    #[must_use]
    pub fn struct_hash(&self) -> [u8; 32] {
        self.struct_hash
    }

    /// The digest to sign: `keccak256(0x19 0x01 || domainSeparator || structHash)`.
    #[must_use]
    pub fn signing_hash(&self) -> [u8; 32] {
        self.domain().signing_hash(&self.struct_hash)
    }

    fn members(&self, name: &str) -> TdResult<&[Member]> {
        match self.structs.get(name) {
            Some(members) => Ok(members),
            None => invalid("a type that is used is not defined"),
        }
    }

    fn dependencies(
        &self,
        primary: &str,
        found: &mut BTreeSet<String>,
        depth: usize,
    ) -> TdResult<()> {
        if depth > MAX_DEPTH {
            return invalid("types nest too deeply");
        }
        if found.contains(primary) {
            return Ok(());
        }
        found.insert(primary.to_string());
        for member in self.members(primary)? {
            let base = base_type(&member.kind);
            if self.structs.contains_key(base) {
                self.dependencies(base, found, depth + 1)?;
            }
        }
        Ok(())
    }

    /// `encodeType(primary)`: the primary type, then its dependencies sorted.
    fn encode_type(&self, primary: &str) -> TdResult<String> {
        let mut deps = BTreeSet::new();
        self.dependencies(primary, &mut deps, 0)?;
        deps.remove(primary);
        let mut text = String::new();
        for name in core::iter::once(primary.to_string()).chain(deps) {
            text.push_str(&name);
            text.push('(');
            for (i, member) in self.members(&name)?.iter().enumerate() {
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

    fn hash_struct(&self, name: &str, data: &Value, depth: usize) -> TdResult<[u8; 32]> {
        if depth > MAX_DEPTH {
            return invalid("data nests too deeply");
        }
        let Some(object) = data.as_object() else {
            return invalid("a struct value must be an object");
        };
        let members = self.members(name)?;
        if object.keys().any(|k| !members.iter().any(|m| &m.name == k)) {
            return invalid("a struct value has a member its type does not declare");
        }
        let mut hasher = Keccak256::new();
        hasher.update(&keccak256(self.encode_type(name)?.as_bytes()));
        for member in members {
            let Some(value) = object.get(&member.name) else {
                return invalid("a struct value lacks a member its type declares");
            };
            hasher.update(&self.encode_value(&member.kind, value, depth + 1)?);
        }
        Ok(hasher.finalize())
    }

    fn encode_value(&self, kind: &str, value: &Value, depth: usize) -> TdResult<[u8; 32]> {
        if depth > MAX_DEPTH {
            return invalid("data nests too deeply");
        }
        if let Some(element) = array_element(kind) {
            let Some(items) = value.as_array() else {
                return invalid("an array value must be a list");
            };
            if let Some(length) = fixed_length(kind) {
                if items.len() != length {
                    return invalid("a fixed-size array value has the wrong number of elements");
                }
            }
            let mut hasher = Keccak256::new();
            for item in items {
                hasher.update(&self.encode_value(element, item, depth + 1)?);
            }
            return Ok(hasher.finalize());
        }
        if self.structs.contains_key(kind) {
            return self.hash_struct(kind, value, depth + 1);
        }
        encode_atomic(kind, value)
    }

    /// The permit this document is, if it is one of the kinds the policy
    /// understands: its primary type's `encodeType` must be exactly the
    /// kind's (for `PermitWitnessTransferFrom`, the four standard members
    /// and one witness). The values read are those the digest covers.
    ///
    /// # Errors
    /// [`TypedDataError::Invalid`] for a batch permit above
    /// [`MAX_PERMIT_GRANTS`] grants.
    pub fn permit(&self) -> TdResult<Option<OwnedPermit>> {
        let Ok(encoded) = self.encode_type(&self.primary) else {
            return Ok(None);
        };
        let kind = match encoded.as_str() {
            EIP2612_TYPE => PermitKind::Eip2612,
            DAI_TYPE => PermitKind::Dai,
            PERMIT_SINGLE_TYPE => PermitKind::Permit2Single,
            PERMIT_BATCH_TYPE => PermitKind::Permit2Batch,
            PERMIT_TRANSFER_FROM_TYPE => PermitKind::Permit2TransferFrom,
            PERMIT_BATCH_TRANSFER_FROM_TYPE => PermitKind::Permit2BatchTransferFrom,
            _ if self.is_witness_transfer()? => PermitKind::Permit2WitnessTransferFrom,
            _ => return Ok(None),
        };
        let message = &self.message;
        let field = |object: &Value, name: &str, kind: &str| -> TdResult<[u8; 32]> {
            encode_atomic(kind, object.get(name).unwrap_or(&Value::Null))
        };
        let uint = |object: &Value, name: &str, kind: &str| field(object, name, kind).map(U256);
        let addr =
            |object: &Value, name: &str| field(object, name, "address").map(|w| word_address(&w));
        let later = |a: U256, b: U256| if a > b { a } else { b };
        let spender = addr(message, "spender")?;
        let mut grants = Vec::new();
        match kind {
            PermitKind::Eip2612 | PermitKind::Dai => {
                let Some(token) = self.verifying_contract else {
                    return Ok(None);
                };
                if kind == PermitKind::Eip2612 {
                    let value = uint(message, "value", "uint256")?;
                    grants.push(PermitGrant {
                        token,
                        amount: (value != U256::MAX).then_some(value),
                        valid_until: Some(uint(message, "deadline", "uint256")?),
                    });
                } else {
                    let allowed = field(message, "allowed", "bool")?;
                    let expiry = uint(message, "expiry", "uint256")?;
                    grants.push(PermitGrant {
                        token,
                        amount: if allowed[31] == 1 {
                            None
                        } else {
                            Some(U256::ZERO)
                        },
                        valid_until: (!expiry.is_zero()).then_some(expiry),
                    });
                }
            }
            PermitKind::Permit2Single | PermitKind::Permit2Batch => {
                let deadline = uint(message, "sigDeadline", "uint256")?;
                let details = message.get("details").unwrap_or(&Value::Null);
                let details: Vec<&Value> = if kind == PermitKind::Permit2Single {
                    std::vec![details]
                } else {
                    details
                        .as_array()
                        .map(|a| a.iter().collect())
                        .unwrap_or_default()
                };
                for detail in details {
                    let amount = uint(detail, "amount", "uint160")?;
                    grants.push(PermitGrant {
                        token: addr(detail, "token")?,
                        amount: (amount != UINT160_MAX).then_some(amount),
                        valid_until: Some(later(uint(detail, "expiration", "uint48")?, deadline)),
                    });
                }
            }
            _ => {
                let deadline = uint(message, "deadline", "uint256")?;
                let permitted = message.get("permitted").unwrap_or(&Value::Null);
                let permitted: Vec<&Value> = if kind == PermitKind::Permit2BatchTransferFrom {
                    permitted
                        .as_array()
                        .map(|a| a.iter().collect())
                        .unwrap_or_default()
                } else {
                    std::vec![permitted]
                };
                for entry in permitted {
                    let amount = uint(entry, "amount", "uint256")?;
                    grants.push(PermitGrant {
                        token: addr(entry, "token")?,
                        amount: (amount != U256::MAX).then_some(amount),
                        valid_until: Some(deadline),
                    });
                }
            }
        }
        if grants.len() > MAX_PERMIT_GRANTS {
            return invalid("a batch permit grants more tokens than the policy reads (32)");
        }
        Ok(Some(OwnedPermit {
            kind,
            spender,
            grants,
        }))
    }

    fn is_witness_transfer(&self) -> TdResult<bool> {
        if self.primary != "PermitWitnessTransferFrom" {
            return Ok(false);
        }
        let members = self.members(&self.primary)?;
        let standard = [
            ("permitted", "TokenPermissions"),
            ("spender", "address"),
            ("nonce", "uint256"),
            ("deadline", "uint256"),
        ];
        let prefix_ok = members.len() == 5
            && members
                .iter()
                .zip(standard)
                .all(|(m, (name, kind))| m.name == name && m.kind == kind);
        let permissions_ok = self.structs.get("TokenPermissions").is_some_and(|m| {
            m.len() == 2
                && m[0].name == "token"
                && m[0].kind == "address"
                && m[1].name == "amount"
                && m[1].kind == "uint256"
        });
        Ok(prefix_ok && permissions_ok)
    }
}

/// A permit read from typed data, owning its grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedPermit {
    /// Which permit.
    pub kind: PermitKind,
    /// Who may spend.
    pub spender: Address,
    /// One grant per token.
    pub grants: Vec<PermitGrant>,
}

impl OwnedPermit {
    /// The borrowed form the policy checks.
    #[must_use]
    pub fn as_permit(&self) -> Permit<'_> {
        Permit {
            kind: self.kind,
            spender: self.spender,
            grants: &self.grants,
        }
    }
}

const EIP2612_TYPE: &str =
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)";
const DAI_TYPE: &str =
    "Permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed)";
const PERMIT_SINGLE_TYPE: &str = "PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
const PERMIT_BATCH_TYPE: &str = "PermitBatch(PermitDetails[] details,address spender,uint256 sigDeadline)PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
const PERMIT_TRANSFER_FROM_TYPE: &str = "PermitTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline)TokenPermissions(address token,uint256 amount)";
const PERMIT_BATCH_TRANSFER_FROM_TYPE: &str = "PermitBatchTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,uint256 deadline)TokenPermissions(address token,uint256 amount)";

fn read_types(
    types: &Map<String, Value>,
    domain: &Map<String, Value>,
) -> TdResult<BTreeMap<String, Vec<Member>>> {
    let mut structs = BTreeMap::new();
    for (name, members) in types {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return invalid("a type name must be letters, digits and underscores");
        }
        let Some(members) = members.as_array() else {
            return invalid("each type must be a list of members");
        };
        let mut list = Vec::with_capacity(members.len());
        for member in members {
            let name = member.get("name").and_then(Value::as_str);
            let kind = member.get("type").and_then(Value::as_str);
            let (Some(name), Some(kind)) = (name, kind) else {
                return invalid("each member is {\"name\": ..., \"type\": ...}");
            };
            if list.iter().any(|m: &Member| m.name == name) {
                return invalid("a type declares the same member twice");
            }
            list.push(Member {
                name: name.to_string(),
                kind: kind.to_string(),
            });
        }
        structs.insert(name.clone(), list);
    }
    // eth-account infers EIP712Domain from the domain's keys when absent.
    structs
        .entry("EIP712Domain".to_string())
        .or_insert_with(|| {
            DOMAIN_MEMBERS
                .iter()
                .filter(|(name, _)| domain.contains_key(*name))
                .map(|(name, kind)| Member {
                    name: (*name).to_string(),
                    kind: (*kind).to_string(),
                })
                .collect()
        });
    Ok(structs)
}

fn word_address(word: &[u8; 32]) -> Address {
    let mut out = [0u8; 20];
    out.copy_from_slice(word.get(12..).unwrap_or(&[0u8; 20]));
    Address(out)
}

/// `T` of `T[]` or `T[n]`.
fn array_element(kind: &str) -> Option<&str> {
    if kind.ends_with(']') {
        kind.rfind('[').and_then(|open| kind.get(..open))
    } else {
        None
    }
}

fn fixed_length(kind: &str) -> Option<usize> {
    let open = kind.rfind('[')?;
    kind.get(open + 1..kind.len().checked_sub(1)?)?.parse().ok()
}

fn base_type(kind: &str) -> &str {
    kind.find('[')
        .and_then(|open| kind.get(..open))
        .unwrap_or(kind)
}

fn integer_bits(kind: &str, prefix: &str) -> Option<usize> {
    let digits = kind.strip_prefix(prefix)?;
    if digits.is_empty() {
        return Some(256);
    }
    if digits.starts_with('0') {
        return None;
    }
    let bits: usize = digits.parse().ok()?;
    (bits.is_multiple_of(8) && (8..=256).contains(&bits)).then_some(bits)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [high, low] => Some((nibble(*high)? << 4) | nibble(*low)?),
            _ => None,
        })
        .collect()
}

fn hex_quantity(digits: &str) -> Option<U256> {
    if digits.is_empty() || digits.len() > 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, c) in digits.bytes().rev().enumerate() {
        let value = nibble(c)?;
        let byte = out.get_mut(31 - i / 2)?;
        *byte |= if i % 2 == 0 { value } else { value << 4 };
    }
    Some(U256(out))
}

fn decimal(text: &str) -> Option<U256> {
    if text.is_empty() || text.len() > 78 {
        return None;
    }
    let mut value = U256::ZERO;
    for c in text.bytes() {
        let digit = c.checked_sub(b'0').filter(|d| *d <= 9)?;
        value = value
            .checked_mul_u64(10)?
            .checked_add(U256::from_u64(u64::from(digit)))?;
    }
    Some(value)
}

fn encode_integer(value: &Value, signed: bool, bits: usize) -> TdResult<[u8; 32]> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(u), _) => u.to_string(),
            (None, Some(i)) => i.to_string(),
            _ => return invalid(
                "an integer given as a JSON number must be exact: give large integers as strings",
            ),
        },
        _ => return invalid("an integer value must be a number or a string"),
    };
    let (negative, magnitude_text) = match text.strip_prefix('-') {
        Some(rest) if signed => (true, rest),
        Some(_) => return invalid("an unsigned integer cannot be negative"),
        None => (false, text.as_str()),
    };
    let magnitude = match magnitude_text
        .strip_prefix("0x")
        .or_else(|| magnitude_text.strip_prefix("0X"))
    {
        Some(digits) => hex_quantity(digits),
        None => decimal(magnitude_text),
    };
    let Some(magnitude) = magnitude else {
        return invalid("an integer value does not parse");
    };
    let limit_bits = if signed { bits - 1 } else { bits };
    let leading = magnitude.0.iter().take_while(|b| **b == 0).count();
    let used_bits = (32 - leading) * 8
        - magnitude
            .0
            .get(leading)
            .map_or(0, |b| b.leading_zeros() as usize);
    let power_of_two = magnitude.0.iter().map(|b| b.count_ones()).sum::<u32>() == 1;
    let fits = used_bits <= limit_bits || (negative && used_bits == limit_bits + 1 && power_of_two);
    if !fits {
        return invalid("an integer value is out of its type's range");
    }
    let mut word = magnitude.0;
    if negative && !magnitude.is_zero() {
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

fn encode_atomic(kind: &str, value: &Value) -> TdResult<[u8; 32]> {
    match kind {
        "string" => match value.as_str() {
            Some(text) => Ok(keccak256(text.as_bytes())),
            None => invalid("a string value must be a string"),
        },
        "bytes" => match value.as_str().and_then(hex_bytes) {
            Some(bytes) => Ok(keccak256(&bytes)),
            None => invalid("a bytes value must be a 0x-hex string"),
        },
        "bool" => match value {
            Value::Bool(flag) => {
                let mut word = [0u8; 32];
                word[31] = u8::from(*flag);
                Ok(word)
            }
            _ => invalid("a bool value must be true or false"),
        },
        "address" => {
            let bytes = value.as_str().and_then(hex_bytes);
            match bytes.as_deref().map(<[u8; 20]>::try_from) {
                Some(Ok(address)) => {
                    let mut word = [0u8; 32];
                    word[12..].copy_from_slice(&address);
                    Ok(word)
                }
                _ => invalid("an address value must be 0x and 40 hex digits"),
            }
        }
        _ => {
            if let Some(size) = kind.strip_prefix("bytes") {
                let Some(size) = size
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=32).contains(n) && !size.starts_with('0'))
                else {
                    return invalid("a type is unknown");
                };
                let Some(bytes) = value.as_str().and_then(hex_bytes) else {
                    return invalid("a fixed bytes value must be a 0x-hex string");
                };
                if bytes.len() > size {
                    return invalid("a fixed bytes value is longer than its type");
                }
                let mut word = [0u8; 32];
                word[..bytes.len()].copy_from_slice(&bytes);
                return Ok(word);
            }
            if let Some(bits) = integer_bits(kind, "uint") {
                return encode_integer(value, false, bits);
            }
            if let Some(bits) = integer_bits(kind, "int") {
                return encode_integer(value, true, bits);
            }
            invalid("a type is unknown")
        }
    }
}
