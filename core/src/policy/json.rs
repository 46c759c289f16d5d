//! The policy's JSON form, the one every front end shares (the Python
//! `policy=` dict, the CLI's `--policy FILE.json`, the C ABI).
//!
//! ```json
//! {
//!   "chain_ids": [14, 114],
//!   "max_value_wei": "2000000000000000000",
//!   "max_fee_wei": "0x2386f26fc10000",
//!   "daily_limit_wei": 5000000000000000000,
//!   "recipients_allow": ["0xdAC17F958D2ee523a2206206994597C13D831ec7"],
//!   "recipients_deny": [],
//!   "delegations_allow": null,
//!   "allow_contract_creation": false,
//!   "allow_unprotected": false,
//!   "allow_messages": true,
//!   "selectors": {"0xdAC17F958D2ee523a2206206994597C13D831ec7": ["0xa9059cbb"]},
//!   "typed_data_domains": [{"chain_id": 14, "verifying_contract": "0x..."}],
//!   "allow_raw_hashes": false,
//!   "default": "deny",
//!   "tokens": {"0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d": {
//!     "max_amount": "1000000000000000000000",
//!     "daily_limit": "5000000000000000000000",
//!     "recipients_allow": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
//!     "spenders_allow": ["0x000000000022D473030F116dDEE9F6B43aC78BA3"],
//!     "allow_unlimited_approval": false}},
//!   "permit_max_lifetime_seconds": 3600,
//!   "allow_any_chain_authorization": false
//! }
//! ```
//!
//! - `default` is `"allow"` or `"deny"`; left out it is `allow`. In `deny`
//!   mode, `allow_contract_creation` and `allow_messages` left out are
//!   `false` (in `allow` mode they are `true`).
//! - Each token's object takes only the five keys shown, each optional
//!   (`allow_unlimited_approval` defaults to `false`).
//!
//! - `allow_raw_hashes` left out (or `null`) is `false`: a stated policy
//!   does not sign digests it cannot look into unless it says so
//!   ([`Policy::plain_wallet`] is the one policy that does).
//! - The top level is an object whose keys are the rules' names
//!   ([`PolicyField::name`]); any other key is an error naming it. A key that
//!   is left out, or set to `null`, keeps the rule of [`Policy::default`].
//! - Amounts (`max_value_wei`, `max_fee_wei`, `daily_limit_wei`) are
//!   non-negative JSON integers, or strings holding a decimal or `0x`-hex
//!   integer, up to `2^256 - 1`. Integers beyond 64 bits are read exactly
//!   from the text (a plain `serde_json::Value` would round them to a float).
//! - Addresses are `0x` and 40 hex digits; a mixed-case address must be a
//!   valid EIP-55 checksum. Selectors are `0x` and 8 hex digits.
//! - An object may not hold the same key twice, and `selectors` may not name
//!   one contract twice (keys differing only in letter case).
//!
//! [`Policy::to_json`] writes every key, `null` for a rule that is not set,
//! amounts as decimal strings (exact in every JSON reader), addresses in
//! their EIP-55 form; keys in alphabetical order. Equal policies give the
//! same text, and reading it back gives an equal policy with the same
//! [`Policy::hash`].

use core::fmt;
use std::borrow::ToOwned as _;
use std::collections::BTreeSet;
use std::string::{String, ToString as _};
use std::vec::Vec;

use serde_json::{Map, Value};

use super::{
    DefaultMode, Policy, PolicyError, PolicyField, TokenRule, TypedDataDomain, MAX_CHAIN_IDS,
    MAX_DELEGATIONS, MAX_RECIPIENTS, MAX_SELECTORS_PER_CONTRACT, MAX_SELECTOR_CONTRACTS,
    MAX_TOKENS, MAX_TOKEN_ADDRESSES, MAX_TYPED_DATA_DOMAINS,
};
use crate::signer::{Address, SignerError};
use crate::tx::{MAX_CHAIN_ID, U256};

/// The longest policy JSON accepted, in bytes. A policy with every list full
/// and pretty-printed takes about 20 KiB.
pub const MAX_JSON_LEN: usize = 256 * 1024;

/// How many bytes of an offending key [`JsonKey`] keeps.
pub const JSON_KEY_LEN: usize = 48;

/// The rules' keys, in the order the error message lists them.
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

/// The keys of one token's object, and the rule each is.
const TOKEN_KEYS: [(&str, PolicyField); 5] = [
    ("max_amount", PolicyField::TokenMaxAmount),
    ("daily_limit", PolicyField::TokenDailyLimit),
    ("recipients_allow", PolicyField::TokenRecipientsAllow),
    ("spenders_allow", PolicyField::TokenSpendersAllow),
    (
        "allow_unlimited_approval",
        PolicyField::TokenAllowUnlimitedApproval,
    ),
];

const DOMAIN_CHAIN_ID: &str = "chain_id";
const DOMAIN_VERIFYING_CONTRACT: &str = "verifying_contract";

/// A JSON object key as it appeared in the input, kept as fixed-size data
/// (its first [`JSON_KEY_LEN`] bytes, cut at a character boundary) so the
/// error stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct JsonKey {
    bytes: [u8; JSON_KEY_LEN],
    len: u8,
    truncated: bool,
}

impl JsonKey {
    fn new(key: &str) -> Self {
        let mut end = key.len().min(JSON_KEY_LEN);
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; JSON_KEY_LEN];
        let kept = key.as_bytes().get(..end).unwrap_or_default();
        if let Some(dst) = bytes.get_mut(..end) {
            dst.copy_from_slice(kept);
        }
        Self {
            bytes,
            len: u8::try_from(end).unwrap_or(0),
            truncated: end < key.len(),
        }
    }

    /// The key, or its first [`JSON_KEY_LEN`] bytes when it is longer.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.bytes
            .get(..usize::from(self.len))
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// Whether the key was longer than what [`as_str`](Self::as_str) shows.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for JsonKey {
    /// Quoted and escaped, with `...` after a truncated key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for JsonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonKey({self})")
    }
}

/// What a value in the policy JSON should have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// `true` or `false`.
    Bool,
    /// A JSON list.
    List,
    /// The object of `selectors`.
    SelectorMap,
    /// A list of selectors.
    SelectorList,
    /// An integer from 1 to [`MAX_CHAIN_ID`].
    ChainId,
    /// A wei amount up to `2^256 - 1`.
    Amount,
    /// `0x` and 40 hex digits.
    Address,
    /// A mixed-case address whose EIP-55 checksum matches.
    ChecksumAddress,
    /// `0x` and 8 hex digits.
    Selector,
    /// An object with exactly `chain_id` and `verifying_contract`.
    DomainObject,
    /// An integer from 0 to `2^64 - 1`.
    DomainChainId,
    /// `"allow"` or `"deny"`.
    DefaultMode,
    /// The object of `tokens`.
    TokenMap,
    /// A token's rule object with only its five keys.
    TokenObject,
    /// A number of seconds from 0 to `2^64 - 1`.
    Seconds,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool => f.write_str("true, false or null"),
            Self::List => f.write_str("a list, or null"),
            Self::SelectorMap => f.write_str(
                "an object mapping contract addresses to lists of 4-byte selectors, or null",
            ),
            Self::SelectorList => f.write_str("a list of 4-byte selectors"),
            Self::ChainId => write!(
                f,
                "a chain id: an integer from 1 to {MAX_CHAIN_ID} (EIP-2294)"
            ),
            Self::Amount => f.write_str(
                "a wei amount: a non-negative integer, or a string holding a decimal or 0x-hex integer, at most 2^256-1",
            ),
            Self::Address => f.write_str("an address: \"0x\" and 40 hex digits"),
            Self::ChecksumAddress => f.write_str(
                "a valid EIP-55 checksum (the address mixes upper and lower case but does not match its checksum; give the checksummed form or all one case)",
            ),
            Self::Selector => f.write_str("a 4-byte function selector: \"0x\" and 8 hex digits"),
            Self::DomainObject => write!(
                f,
                "an object with exactly the keys {DOMAIN_CHAIN_ID} and {DOMAIN_VERIFYING_CONTRACT}"
            ),
            Self::DomainChainId => write!(f, "an integer from 0 to {}", u64::MAX),
            Self::DefaultMode => f.write_str("\"allow\" or \"deny\""),
            Self::TokenMap => {
                f.write_str("an object mapping token addresses to token rules, or null")
            }
            Self::TokenObject => f.write_str(
                "an object with only the keys max_amount, daily_limit, recipients_allow, spenders_allow, allow_unlimited_approval",
            ),
            Self::Seconds => write!(f, "a number of seconds from 0 to {}", u64::MAX),
        }
    }
}

/// Where in the policy JSON a wrong value sits, below its rule's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonPosition {
    /// The rule's value itself.
    Value,
    /// Entry `n` (from 0) of the rule's list.
    Entry(usize),
    /// A key of `selectors`, which must be a contract address.
    SelectorContract(JsonKey),
    /// Entry `index` (from 0) of the selectors listed for `contract`.
    Selector {
        /// The contract the list belongs to.
        contract: Address,
        /// The entry's index.
        index: usize,
    },
    /// `chain_id` of entry `n` of `typed_data_domains`.
    DomainChainId(usize),
    /// `verifying_contract` of entry `n` of `typed_data_domains`.
    DomainVerifyingContract(usize),
    /// A key of `tokens`, which must be a token address.
    TokenKey(JsonKey),
    /// The value of one token's key (the error's field names the key).
    Token(Address),
    /// Entry `index` of a list of one token.
    TokenEntry {
        /// The token.
        token: Address,
        /// The entry's index.
        index: usize,
    },
}

/// Why a policy JSON text was refused. Every variant names the key and, for
/// a wrong value, what was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyJsonError {
    /// The text is longer than [`MAX_JSON_LEN`].
    TooLong {
        /// The text's length in bytes.
        len: usize,
        /// [`MAX_JSON_LEN`].
        limit: usize,
    },
    /// The bytes are not UTF-8.
    NotUtf8 {
        /// The offset of the first invalid byte.
        valid_up_to: usize,
    },
    /// The text is not JSON: a syntax error at this line and column.
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// The top-level value is not an object.
    NotAnObject,
    /// An object holds the same key twice.
    DuplicateKey(JsonKey),
    /// A top-level key that is not a rule.
    UnknownKey(JsonKey),
    /// A value has the wrong type or is out of range.
    Invalid {
        /// The rule whose value is wrong.
        field: PolicyField,
        /// Where below the rule's key.
        at: JsonPosition,
        /// What the value should have been.
        expected: Expected,
    },
    /// A list holds more distinct entries than the policy can keep
    /// (for `selectors`: more contracts).
    TooMany {
        /// The rule.
        field: PolicyField,
        /// Its capacity.
        limit: usize,
    },
    /// One contract of `selectors` lists more distinct selectors than
    /// [`MAX_SELECTORS_PER_CONTRACT`].
    TooManySelectors {
        /// The contract.
        contract: Address,
        /// [`MAX_SELECTORS_PER_CONTRACT`].
        limit: usize,
    },
    /// `selectors` names the same contract twice (keys that differ only in
    /// letter case).
    DuplicateSelectorContract(Address),
    /// `tokens` names the same token twice (keys that differ only in letter case).
    DuplicateToken(Address),
    /// A key of a token's object that is not one of its rules.
    UnknownTokenKey {
        /// The token.
        token: Address,
        /// The key.
        key: JsonKey,
    },
}

impl PolicyJsonError {
    /// The rule the error is about, when it is about one.
    #[must_use]
    pub fn field(&self) -> Option<PolicyField> {
        match *self {
            Self::Invalid { field, .. } | Self::TooMany { field, .. } => Some(field),
            Self::TooManySelectors { .. } | Self::DuplicateSelectorContract(_) => {
                Some(PolicyField::Selectors)
            }
            Self::DuplicateToken(_) | Self::UnknownTokenKey { .. } => Some(PolicyField::Tokens),
            _ => None,
        }
    }
}

struct Position(PolicyField, JsonPosition);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(field, at) = self;
        match at {
            JsonPosition::Value => write!(f, "{field}"),
            JsonPosition::Entry(n) => write!(f, "{field}[{n}]"),
            JsonPosition::SelectorContract(key) => write!(f, "{field} key {key}"),
            JsonPosition::Selector { contract, index } => {
                write!(f, "{field}[\"{contract}\"][{index}]")
            }
            JsonPosition::DomainChainId(n) => write!(f, "{field}[{n}].{DOMAIN_CHAIN_ID}"),
            JsonPosition::DomainVerifyingContract(n) => {
                write!(f, "{field}[{n}].{DOMAIN_VERIFYING_CONTRACT}")
            }
            JsonPosition::TokenKey(key) => write!(f, "{field} key {key}"),
            JsonPosition::Token(token) => write!(f, "{field} of token {token}"),
            JsonPosition::TokenEntry { token, index } => {
                write!(f, "{field}[{index}] of token {token}")
            }
        }
    }
}

impl fmt::Display for PolicyJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooLong { len, limit } => write!(
                f,
                "policy JSON is {len} bytes, above the limit of {limit} bytes"
            ),
            Self::NotUtf8 { valid_up_to } => write!(
                f,
                "policy JSON is not UTF-8 (invalid byte at offset {valid_up_to})"
            ),
            Self::Syntax { line, column } => write!(
                f,
                "policy JSON does not parse (syntax error at line {line}, column {column})"
            ),
            Self::NotAnObject => f.write_str(
                "policy JSON must be an object whose keys are rules (\"chain_ids\", \"max_value_wei\", ...)",
            ),
            Self::DuplicateKey(key) => {
                write!(f, "policy JSON: key {key} appears twice in the same object")
            }
            Self::UnknownKey(key) => {
                write!(f, "policy JSON: unknown key {key}; the keys are ")?;
                for (i, field) in KEYS.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(field.name())?;
                }
                Ok(())
            }
            Self::Invalid {
                field,
                at,
                expected,
            } => write!(
                f,
                "policy JSON: {}: expected {expected}",
                Position(field, at)
            ),
            Self::TooMany {
                field: PolicyField::Selectors,
                limit,
            } => write!(
                f,
                "policy JSON: selectors restricts more than {limit} contracts (its capacity)"
            ),
            Self::TooMany { field, limit } => write!(
                f,
                "policy JSON: {field} has more than {limit} distinct entries (its capacity)"
            ),
            Self::TooManySelectors { contract, limit } => write!(
                f,
                "policy JSON: selectors lists more than {limit} distinct selectors for contract {contract} (the capacity per contract)"
            ),
            Self::DuplicateSelectorContract(contract) => write!(
                f,
                "policy JSON: selectors names contract {contract} twice (keys differing only in letter case)"
            ),
            Self::DuplicateToken(token) => write!(
                f,
                "policy JSON: tokens names token {token} twice (keys differing only in letter case)"
            ),
            Self::UnknownTokenKey { token, key } => {
                write!(f, "policy JSON: unknown key {key} in the rule of token {token}; the keys are ")?;
                for (i, (name, _)) in TOKEN_KEYS.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(name)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PolicyJsonError {}

// ---------------------------------------------------------------- reading

/// What [`scan_json_text`] refuses.
#[derive(Debug)]
pub(crate) enum JsonScanError {
    /// An object gives this key twice.
    DuplicateKey(String),
    /// A key that does not read as a JSON string (text `serde_json` did not accept).
    BadKey,
}

/// A walk over JSON text that `serde_json` has already accepted (strings
/// well formed, containers balanced), for what a `Value` hides: an object
/// that gives a key twice is refused (a `Value` keeps the last one
/// silently), and the byte range of every number token goes to
/// `on_number`. The one scanner of the policy and the admin-request readers.
pub(crate) fn scan_json_text(
    text: &str,
    mut on_number: impl FnMut(core::ops::Range<usize>),
) -> Result<(), JsonScanError> {
    let bytes = text.as_bytes();
    // One entry per open container: the keys seen so far for an object,
    // `None` for a list.
    let mut open: Vec<Option<BTreeSet<String>>> = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => {
                let mut end = i + 1;
                while let Some(&b) = bytes.get(end) {
                    match b {
                        b'\\' => end += 2,
                        b'"' => break,
                        _ => end += 1,
                    }
                }
                let mut next = end + 1;
                while bytes.get(next).is_some_and(u8::is_ascii_whitespace) {
                    next += 1;
                }
                if let (Some(Some(keys)), Some(b':')) = (open.last_mut(), bytes.get(next)) {
                    let token = text.get(i..=end).ok_or(JsonScanError::BadKey)?;
                    let key: String =
                        serde_json::from_str(token).map_err(|_| JsonScanError::BadKey)?;
                    if keys.contains(&key) {
                        return Err(JsonScanError::DuplicateKey(key));
                    }
                    keys.insert(key);
                }
                i = end + 1;
            }
            b'{' => {
                open.push(Some(BTreeSet::new()));
                i += 1;
            }
            b'[' => {
                open.push(None);
                i += 1;
            }
            b'}' | b']' => {
                open.pop();
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let mut end = i;
                while bytes
                    .get(end)
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    end += 1;
                }
                on_number(i..end);
                i = end;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// A pass over text that `serde_json` has already accepted: it finds what a
/// `Value` hides. Object keys given twice are refused (a `Value` keeps the
/// last silently), and integers that do not fit a `u64` are turned into
/// strings of the same digits (a `Value` would round them to a float), which
/// the amount reader takes exactly. Returns the rewritten text, if any
/// integer needed it.
fn prescan(text: &str) -> Result<Option<String>, PolicyJsonError> {
    let mut rewritten: Option<String> = None;
    let mut copied = 0;
    scan_json_text(text, |range| {
        let token = text.get(range.clone()).unwrap_or_default();
        let integer = !token.contains(['.', 'e', 'E']);
        if integer && token.parse::<u64>().is_err() {
            let out = rewritten.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(text.get(copied..range.start).unwrap_or_default());
            out.push('"');
            out.push_str(token);
            out.push('"');
            copied = range.end;
        }
    })
    .map_err(|error| match error {
        JsonScanError::DuplicateKey(key) => PolicyJsonError::DuplicateKey(JsonKey::new(&key)),
        JsonScanError::BadKey => PolicyJsonError::Syntax { line: 0, column: 0 },
    })?;
    if let Some(out) = rewritten.as_mut() {
        out.push_str(text.get(copied..).unwrap_or_default());
    }
    Ok(rewritten)
}

fn syntax_error(error: &serde_json::Error) -> PolicyJsonError {
    PolicyJsonError::Syntax {
        line: error.line(),
        column: error.column(),
    }
}

fn invalid(field: PolicyField, at: JsonPosition, expected: Expected) -> PolicyJsonError {
    PolicyJsonError::Invalid {
        field,
        at,
        expected,
    }
}

/// Maps a capacity error of a setter to the JSON error naming the limit.
fn capacity(field: PolicyField, limit: usize) -> impl Fn(PolicyError) -> PolicyJsonError {
    move |_| PolicyJsonError::TooMany { field, limit }
}

fn list(value: &Value, field: PolicyField) -> Result<&[Value], PolicyJsonError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or(invalid(field, JsonPosition::Value, Expected::List))
}

fn boolean(value: &Value, field: PolicyField) -> Result<bool, PolicyJsonError> {
    value
        .as_bool()
        .ok_or(invalid(field, JsonPosition::Value, Expected::Bool))
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn strip_0x(text: &str) -> Option<&str> {
    text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
}

/// A decimal or `0x`-hex integer up to `2^256 - 1`.
fn amount_text(text: &str) -> Option<U256> {
    if let Some(digits) = strip_0x(text) {
        if digits.is_empty() {
            return None;
        }
        let mut bytes = [0u8; 32];
        let mut nibbles = digits.bytes().rev();
        // Leading zeros beyond 64 digits are allowed; any other digit there
        // is an overflow.
        for byte in bytes.iter_mut().rev() {
            let low = nibbles.next().map_or(Some(0), hex_digit)?;
            let high = nibbles.next().map_or(Some(0), hex_digit)?;
            *byte = (high << 4) | low;
        }
        for rest in nibbles {
            if hex_digit(rest)? != 0 {
                return None;
            }
        }
        return Some(U256(bytes));
    }
    if text.is_empty() {
        return None;
    }
    let mut value = U256::ZERO;
    for c in text.bytes() {
        let digit = c.checked_sub(b'0').filter(|d| *d < 10)?;
        value = value
            .checked_mul_u64(10)?
            .checked_add(U256::from_u64(u64::from(digit)))?;
    }
    Some(value)
}

fn amount(value: &Value, field: PolicyField) -> Result<U256, PolicyJsonError> {
    let parsed = match value {
        Value::Number(n) => n.as_u64().map(U256::from_u64),
        Value::String(text) => amount_text(text),
        _ => None,
    };
    parsed.ok_or(invalid(field, JsonPosition::Value, Expected::Amount))
}

/// `0x` and 40 hex digits; a mixed-case address must match its checksum.
fn address_text(text: &str) -> Result<Address, Expected> {
    if strip_0x(text).is_none() {
        return Err(Expected::Address);
    }
    Address::parse_hex(text).map_err(|e| match e {
        SignerError::InvalidAddressChecksum => Expected::ChecksumAddress,
        _ => Expected::Address,
    })
}

fn address(
    value: &Value,
    field: PolicyField,
    at: JsonPosition,
) -> Result<Address, PolicyJsonError> {
    value
        .as_str()
        .ok_or(Expected::Address)
        .and_then(address_text)
        .map_err(|expected| invalid(field, at, expected))
}

fn addresses(value: &Value, field: PolicyField) -> Result<Vec<Address>, PolicyJsonError> {
    list(value, field)?
        .iter()
        .enumerate()
        .map(|(n, entry)| address(entry, field, JsonPosition::Entry(n)))
        .collect()
}

fn chain_ids(value: &Value) -> Result<Vec<u64>, PolicyJsonError> {
    let field = PolicyField::ChainIds;
    list(value, field)?
        .iter()
        .enumerate()
        .map(|(n, entry)| {
            entry
                .as_u64()
                .filter(|id| (1..=MAX_CHAIN_ID).contains(id))
                .ok_or(invalid(field, JsonPosition::Entry(n), Expected::ChainId))
        })
        .collect()
}

fn selector_text(text: &str) -> Option<[u8; 4]> {
    let digits = strip_0x(text)?.as_bytes();
    if digits.len() != 8 {
        return None;
    }
    let mut selector = [0u8; 4];
    for (byte, pair) in selector.iter_mut().zip(digits.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *byte = (hex_digit(*high)? << 4) | hex_digit(*low)?;
    }
    Some(selector)
}

fn selectors(value: &Value, policy: &mut Policy) -> Result<(), PolicyJsonError> {
    let field = PolicyField::Selectors;
    let map =
        value
            .as_object()
            .ok_or(invalid(field, JsonPosition::Value, Expected::SelectorMap))?;
    for (key, entries) in map {
        let contract = address_text(key).map_err(|expected| {
            invalid(
                field,
                JsonPosition::SelectorContract(JsonKey::new(key)),
                expected,
            )
        })?;
        if policy.selectors_for(&contract).is_some() {
            return Err(PolicyJsonError::DuplicateSelectorContract(contract));
        }
        let entries = entries.as_array().ok_or(invalid(
            field,
            JsonPosition::SelectorContract(JsonKey::new(key)),
            Expected::SelectorList,
        ))?;
        let list = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                entry.as_str().and_then(selector_text).ok_or(invalid(
                    field,
                    JsonPosition::Selector { contract, index },
                    Expected::Selector,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        policy.set_selectors(contract, &list).map_err(|_| {
            if policy.selectors().len() >= MAX_SELECTOR_CONTRACTS {
                PolicyJsonError::TooMany {
                    field,
                    limit: MAX_SELECTOR_CONTRACTS,
                }
            } else {
                PolicyJsonError::TooManySelectors {
                    contract,
                    limit: MAX_SELECTORS_PER_CONTRACT,
                }
            }
        })?;
    }
    Ok(())
}

fn typed_data_domains(value: &Value) -> Result<Vec<TypedDataDomain>, PolicyJsonError> {
    let field = PolicyField::TypedDataDomains;
    list(value, field)?
        .iter()
        .enumerate()
        .map(|(n, entry)| {
            let object = entry
                .as_object()
                .filter(|o| {
                    o.len() == 2
                        && o.contains_key(DOMAIN_CHAIN_ID)
                        && o.contains_key(DOMAIN_VERIFYING_CONTRACT)
                })
                .ok_or(invalid(
                    field,
                    JsonPosition::Entry(n),
                    Expected::DomainObject,
                ))?;
            let chain_id = object
                .get(DOMAIN_CHAIN_ID)
                .and_then(Value::as_u64)
                .ok_or(invalid(
                    field,
                    JsonPosition::DomainChainId(n),
                    Expected::DomainChainId,
                ))?;
            let verifying_contract = address(
                object
                    .get(DOMAIN_VERIFYING_CONTRACT)
                    .unwrap_or(&Value::Null),
                field,
                JsonPosition::DomainVerifyingContract(n),
            )?;
            Ok(TypedDataDomain {
                chain_id,
                verifying_contract,
            })
        })
        .collect()
}

fn token_rule(key: &str, value: &Value) -> Result<TokenRule, PolicyJsonError> {
    let field = PolicyField::Tokens;
    let token = address_text(key)
        .map_err(|expected| invalid(field, JsonPosition::TokenKey(JsonKey::new(key)), expected))?;
    let object = value.as_object().ok_or(invalid(
        field,
        JsonPosition::TokenKey(JsonKey::new(key)),
        Expected::TokenObject,
    ))?;
    let mut rule = TokenRule::new(token);
    for (name, value) in object {
        let Some((_, field)) = TOKEN_KEYS.iter().find(|(known, _)| known == name) else {
            return Err(PolicyJsonError::UnknownTokenKey {
                token,
                key: JsonKey::new(name),
            });
        };
        let field = *field;
        if value.is_null() {
            continue;
        }
        let at = JsonPosition::Token(token);
        let token_addresses = |value: &Value| -> Result<Vec<Address>, PolicyJsonError> {
            value
                .as_array()
                .ok_or(invalid(field, at, Expected::List))?
                .iter()
                .enumerate()
                .map(|(index, entry)| {
                    address(entry, field, JsonPosition::TokenEntry { token, index })
                })
                .collect()
        };
        match field {
            PolicyField::TokenMaxAmount => {
                rule.set_max_amount(Some(token_amount(value, field, at)?))
            }
            PolicyField::TokenDailyLimit => {
                rule.set_daily_limit(Some(token_amount(value, field, at)?));
            }
            PolicyField::TokenRecipientsAllow => rule
                .set_recipients_allow(Some(&token_addresses(value)?))
                .map_err(capacity(field, MAX_TOKEN_ADDRESSES))?,
            PolicyField::TokenSpendersAllow => rule
                .set_spenders_allow(Some(&token_addresses(value)?))
                .map_err(capacity(field, MAX_TOKEN_ADDRESSES))?,
            _ => rule.set_allow_unlimited_approval(value.as_bool().ok_or(invalid(
                field,
                at,
                Expected::Bool,
            ))?),
        }
    }
    Ok(rule)
}

fn token_amount(
    value: &Value,
    field: PolicyField,
    at: JsonPosition,
) -> Result<U256, PolicyJsonError> {
    amount(value, field).map_err(|_| invalid(field, at, Expected::Amount))
}

fn tokens(value: &Value, policy: &mut Policy) -> Result<(), PolicyJsonError> {
    let field = PolicyField::Tokens;
    let map = value
        .as_object()
        .ok_or(invalid(field, JsonPosition::Value, Expected::TokenMap))?;
    for (key, value) in map {
        let rule = token_rule(key, value)?;
        if policy.token_rule(&rule.token()).is_some() {
            return Err(PolicyJsonError::DuplicateToken(rule.token()));
        }
        policy
            .set_token_rule(rule)
            .map_err(capacity(field, MAX_TOKENS))?;
    }
    Ok(())
}

fn field_of(key: &str) -> Option<PolicyField> {
    KEYS.iter().copied().find(|field| field.name() == key)
}

fn read_rule(
    policy: &mut Policy,
    field: PolicyField,
    value: &Value,
) -> Result<(), PolicyJsonError> {
    match field {
        PolicyField::ChainIds => policy
            .set_chain_ids(Some(&chain_ids(value)?))
            .map_err(capacity(field, MAX_CHAIN_IDS)),
        PolicyField::MaxValueWei => {
            policy.set_max_value_wei(Some(amount(value, field)?));
            Ok(())
        }
        PolicyField::MaxFeeWei => {
            policy.set_max_fee_wei(Some(amount(value, field)?));
            Ok(())
        }
        PolicyField::DailyLimitWei => {
            policy.set_daily_limit_wei(Some(amount(value, field)?));
            Ok(())
        }
        PolicyField::RecipientsAllow => policy
            .set_recipients_allow(Some(&addresses(value, field)?))
            .map_err(capacity(field, MAX_RECIPIENTS)),
        PolicyField::RecipientsDeny => policy
            .set_recipients_deny(&addresses(value, field)?)
            .map_err(capacity(field, MAX_RECIPIENTS)),
        PolicyField::DelegationsAllow => policy
            .set_delegations_allow(Some(&addresses(value, field)?))
            .map_err(capacity(field, MAX_DELEGATIONS)),
        PolicyField::AllowContractCreation => {
            policy.set_allow_contract_creation(boolean(value, field)?);
            Ok(())
        }
        PolicyField::AllowUnprotected => {
            policy.set_allow_unprotected(boolean(value, field)?);
            Ok(())
        }
        PolicyField::AllowRawHashes => {
            policy.set_allow_raw_hashes(boolean(value, field)?);
            Ok(())
        }
        PolicyField::AllowMessages => {
            policy.set_allow_messages(boolean(value, field)?);
            Ok(())
        }
        PolicyField::Selectors => selectors(value, policy),
        PolicyField::TypedDataDomains => policy
            .set_typed_data_domains(Some(&typed_data_domains(value)?))
            .map_err(capacity(field, MAX_TYPED_DATA_DOMAINS)),
        PolicyField::Default => {
            let mode = match value.as_str() {
                Some("allow") => DefaultMode::Allow,
                Some("deny") => DefaultMode::Deny,
                _ => return Err(invalid(field, JsonPosition::Value, Expected::DefaultMode)),
            };
            policy.set_default_mode(mode);
            Ok(())
        }
        PolicyField::Tokens => tokens(value, policy),
        PolicyField::PermitMaxLifetimeSeconds => {
            let seconds =
                value
                    .as_u64()
                    .ok_or(invalid(field, JsonPosition::Value, Expected::Seconds))?;
            policy.set_permit_max_lifetime_seconds(seconds);
            Ok(())
        }
        PolicyField::AllowAnyChainAuthorization => {
            policy.set_allow_any_chain_authorization(boolean(value, field)?);
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- writing

fn amount_json(amount: Option<U256>) -> Value {
    amount.map_or(Value::Null, |a| Value::String(a.to_string()))
}

fn address_json(address: &Address) -> Value {
    Value::String(address.checksum().as_str().to_owned())
}

fn addresses_json(list: &[Address]) -> Value {
    Value::Array(list.iter().map(address_json).collect())
}

fn selector_json(selector: &[u8; 4]) -> Value {
    let [a, b, c, d] = selector;
    Value::String(std::format!("0x{a:02x}{b:02x}{c:02x}{d:02x}"))
}

impl Policy {
    /// Reads a policy from its JSON form (see the
    /// [`json` module](crate::policy::json)); keys left out or `null` keep
    /// their [default](Policy::default).
    ///
    /// # Errors
    /// A [`PolicyJsonError`] naming the key and what was expected: the
    /// text is too long, not JSON, not an object, has an unknown or repeated
    /// key, a value of the wrong type or out of range, or a list above its
    /// capacity.
    pub fn from_json(json: &str) -> Result<Self, PolicyJsonError> {
        if json.len() > MAX_JSON_LEN {
            return Err(PolicyJsonError::TooLong {
                len: json.len(),
                limit: MAX_JSON_LEN,
            });
        }
        let value: Value = serde_json::from_str(json).map_err(|e| syntax_error(&e))?;
        let value = match prescan(json)? {
            None => value,
            Some(exact) => serde_json::from_str(&exact).map_err(|e| syntax_error(&e))?,
        };
        let root = value.as_object().ok_or(PolicyJsonError::NotAnObject)?;
        let mut rules = Vec::with_capacity(root.len());
        for (key, value) in root {
            let field = field_of(key).ok_or(PolicyJsonError::UnknownKey(JsonKey::new(key)))?;
            rules.push((field, value));
        }
        let mut policy = Policy::default();
        for (field, value) in &rules {
            if !value.is_null() {
                read_rule(&mut policy, *field, value)?;
            }
        }
        // In deny mode, what is not stated is not allowed.
        if policy.default_mode() == DefaultMode::Deny {
            let stated = |wanted: PolicyField| {
                rules
                    .iter()
                    .any(|(field, value)| *field == wanted && !value.is_null())
            };
            if !stated(PolicyField::AllowContractCreation) {
                policy.set_allow_contract_creation(false);
            }
            if !stated(PolicyField::AllowMessages) {
                policy.set_allow_messages(false);
            }
        }
        Ok(policy)
    }

    /// [`from_json`](Self::from_json) over bytes, as a C caller passes them.
    ///
    /// # Errors
    /// [`PolicyJsonError::NotUtf8`], then those of [`from_json`](Self::from_json).
    pub fn from_json_slice(json: &[u8]) -> Result<Self, PolicyJsonError> {
        if json.len() > MAX_JSON_LEN {
            return Err(PolicyJsonError::TooLong {
                len: json.len(),
                limit: MAX_JSON_LEN,
            });
        }
        let text = core::str::from_utf8(json).map_err(|e| PolicyJsonError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        Self::from_json(text)
    }

    /// The policy's JSON form: every key, `null` for a rule that is not set,
    /// amounts as decimal strings, addresses in EIP-55 form, pretty-printed
    /// with keys in alphabetical order. [`from_json`](Self::from_json) reads
    /// it back to an equal policy.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut root = Map::new();
        let mut put = |field: PolicyField, value: Value| {
            root.insert(field.name().to_owned(), value);
        };
        put(
            PolicyField::ChainIds,
            self.chain_ids().map_or(Value::Null, |ids| {
                Value::Array(ids.iter().map(|&id| Value::from(id)).collect())
            }),
        );
        put(PolicyField::MaxValueWei, amount_json(self.max_value_wei()));
        put(PolicyField::MaxFeeWei, amount_json(self.max_fee_wei()));
        put(
            PolicyField::DailyLimitWei,
            amount_json(self.daily_limit_wei()),
        );
        put(
            PolicyField::RecipientsAllow,
            self.recipients_allow().map_or(Value::Null, addresses_json),
        );
        put(
            PolicyField::RecipientsDeny,
            addresses_json(self.recipients_deny()),
        );
        put(
            PolicyField::DelegationsAllow,
            self.delegations_allow().map_or(Value::Null, addresses_json),
        );
        put(
            PolicyField::AllowContractCreation,
            Value::Bool(self.allow_contract_creation()),
        );
        put(
            PolicyField::AllowUnprotected,
            Value::Bool(self.allow_unprotected()),
        );
        put(
            PolicyField::AllowMessages,
            Value::Bool(self.allow_messages()),
        );
        put(
            PolicyField::AllowRawHashes,
            Value::Bool(self.allow_raw_hashes()),
        );
        put(
            PolicyField::Selectors,
            Value::Object(
                self.selectors()
                    .iter()
                    .map(|rule| {
                        (
                            rule.contract().checksum().as_str().to_owned(),
                            Value::Array(rule.selectors().iter().map(selector_json).collect()),
                        )
                    })
                    .collect(),
            ),
        );
        put(
            PolicyField::TypedDataDomains,
            self.typed_data_domains().map_or(Value::Null, |domains| {
                Value::Array(
                    domains
                        .iter()
                        .map(|d| {
                            let mut object = Map::new();
                            object.insert(DOMAIN_CHAIN_ID.to_owned(), Value::from(d.chain_id));
                            object.insert(
                                DOMAIN_VERIFYING_CONTRACT.to_owned(),
                                address_json(&d.verifying_contract),
                            );
                            Value::Object(object)
                        })
                        .collect(),
                )
            }),
        );
        put(
            PolicyField::Default,
            Value::String(self.default_mode().name().to_owned()),
        );
        put(
            PolicyField::Tokens,
            Value::Object(
                self.tokens()
                    .iter()
                    .map(|rule| {
                        let mut object = Map::new();
                        object.insert("max_amount".to_owned(), amount_json(rule.max_amount()));
                        object.insert("daily_limit".to_owned(), amount_json(rule.daily_limit()));
                        object.insert(
                            "recipients_allow".to_owned(),
                            rule.recipients_allow().map_or(Value::Null, addresses_json),
                        );
                        object.insert(
                            "spenders_allow".to_owned(),
                            rule.spenders_allow().map_or(Value::Null, addresses_json),
                        );
                        object.insert(
                            "allow_unlimited_approval".to_owned(),
                            Value::Bool(rule.allow_unlimited_approval()),
                        );
                        (
                            rule.token().checksum().as_str().to_owned(),
                            Value::Object(object),
                        )
                    })
                    .collect(),
            ),
        );
        put(
            PolicyField::PermitMaxLifetimeSeconds,
            Value::from(self.permit_max_lifetime_seconds()),
        );
        put(
            PolicyField::AllowAnyChainAuthorization,
            Value::Bool(self.allow_any_chain_authorization()),
        );
        std::format!("{:#}", Value::Object(root))
    }
}
