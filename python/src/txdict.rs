//! Transaction dicts, as web3.py builds them and eth-account signs them, read
//! into the core's typed transactions.
//!
//! The rules are eth-account's (`eth_account/_utils/validation.py`,
//! `transaction_utils.py`, `typed_transactions/*`):
//!
//! - numbers are `int` (never `bool`) or `0x`-hex strings;
//! - `to` is a checksummed address string, 20 bytes, or empty / `None` for
//!   contract creation; addresses inside lists may be in any valid form;
//! - `type` is inferred exactly as `set_transaction_type_if_needed` does:
//!   `gasPrice` + `accessList` is type 1; either EIP-1559 fee is type 2, or 3
//!   with a blob field, or 4 with `authorizationList`; otherwise legacy;
//! - `gasPrice` cannot be mixed with the EIP-1559 fees, and every field must
//!   belong to the transaction's type;
//! - `accessList` holds `{"address", "storageKeys"}` dicts;
//!   `authorizationList` holds `{"chainId", "address", "nonce", "yParity",
//!   "r", "s"}` dicts or eth-account `SignedSetCodeAuthorization` objects.
//!
//! Where eth-account would sign something no node accepts, or guess, this
//! reader refuses instead: a missing or zero `chainId` (eth-account signs
//! chain id 0, or an unprotected legacy transaction), numbers of 2^256 and
//! above, a nonce or gas limit of 2^64 and above, odd-length hex for bytes,
//! bytes given as an `int` or as hex without `0x`, and a missing `nonce`.
//! Two things eth-account refuses are accepted: calldata under `input` (the
//! name JSON-RPC uses), and `type` 0 for a legacy transaction (nodes report
//! legacy transactions as type `0x0`).
//!
//! An unprotected (pre-EIP-155) legacy transaction is read only from an
//! explicit `"chainId": None`, never from a missing one, and the core's
//! policy then refuses it unless `allow_unprotected` is set.

use core::fmt;

use pyo3::exceptions::PyOverflowError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyInt, PyList, PyMapping, PyString, PyTuple};

use wallet_core::rlp::SliceSink;
use wallet_core::signer::Address;
use wallet_core::tx::SignedAuthorization;
use wallet_core::tx::{
    AccessList, AccessListItem, Authorization, AuthorizationList, BlobVersionedHashes, StorageKeys,
    TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxKind, TxLegacy, TypedTransaction, B256, U256,
};

use crate::error::BindingError;
use crate::hex::{self, HexError};

type Result<T, E = BindingError> = core::result::Result<T, E>;

fn invalid(message: impl Into<String>) -> BindingError {
    BindingError::invalid_transaction(message)
}

/// The fields a transaction dict may carry, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Type,
    ChainId,
    Nonce,
    Gas,
    GasPrice,
    MaxFeePerGas,
    MaxPriorityFeePerGas,
    To,
    Value,
    Data,
    Input,
    AccessList,
    MaxFeePerBlobGas,
    BlobVersionedHashes,
    AuthorizationList,
    From,
}

const FIELD_COUNT: usize = 16;

impl Field {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "type" => Self::Type,
            "chainId" => Self::ChainId,
            "nonce" => Self::Nonce,
            "gas" => Self::Gas,
            "gasPrice" => Self::GasPrice,
            "maxFeePerGas" => Self::MaxFeePerGas,
            "maxPriorityFeePerGas" => Self::MaxPriorityFeePerGas,
            "to" => Self::To,
            "value" => Self::Value,
            "data" => Self::Data,
            "input" => Self::Input,
            "accessList" => Self::AccessList,
            "maxFeePerBlobGas" => Self::MaxFeePerBlobGas,
            "blobVersionedHashes" => Self::BlobVersionedHashes,
            "authorizationList" => Self::AuthorizationList,
            "from" => Self::From,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::ChainId => "chainId",
            Self::Nonce => "nonce",
            Self::Gas => "gas",
            Self::GasPrice => "gasPrice",
            Self::MaxFeePerGas => "maxFeePerGas",
            Self::MaxPriorityFeePerGas => "maxPriorityFeePerGas",
            Self::To => "to",
            Self::Value => "value",
            Self::Data => "data",
            Self::Input => "input",
            Self::AccessList => "accessList",
            Self::MaxFeePerBlobGas => "maxFeePerBlobGas",
            Self::BlobVersionedHashes => "blobVersionedHashes",
            Self::AuthorizationList => "authorizationList",
            Self::From => "from",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Hints for names that are close to a real field.
fn unknown_field_message(name: &str) -> String {
    let hint = match name {
        "gasLimit" => " (the gas limit is called 'gas')",
        "chainID" | "chain_id" => " (did you mean 'chainId'?)",
        "maxFeePerGas " | "max_fee_per_gas" => " (did you mean 'maxFeePerGas'?)",
        "v" | "r" | "s" | "yParity" | "hash" => {
            " (pass the unsigned transaction: signature fields are produced by signing)"
        }
        "blobs" => " (blob sidecars are not signed: give 'blobVersionedHashes')",
        _ => "",
    };
    format!("unknown transaction field '{name}'{hint}")
}

/// The dict's values by field, borrowed from Python.
struct RawFields<'py> {
    values: [Option<Bound<'py, PyAny>>; FIELD_COUNT],
}

impl<'py> RawFields<'py> {
    fn read(tx: &Bound<'py, PyAny>) -> Result<Self> {
        const NONE: Option<Bound<'_, PyAny>> = None;
        let mut values = [NONE; FIELD_COUNT];
        let mut store = |key: &Bound<'py, PyAny>, value: Bound<'py, PyAny>| -> Result<()> {
            let key = key
                .cast::<PyString>()
                .map_err(|_| invalid("transaction field names must be strings"))?;
            let name = key
                .to_str()
                .map_err(|_| invalid("transaction field names must be valid UTF-8"))?;
            let field =
                Field::from_name(name).ok_or_else(|| invalid(unknown_field_message(name)))?;
            values[field.index()] = Some(value);
            Ok(())
        };
        if let Ok(dict) = tx.cast::<PyDict>() {
            for (key, value) in dict.iter() {
                store(&key, value)?;
            }
        } else if let Ok(mapping) = tx.cast::<PyMapping>() {
            let items = mapping
                .items()
                .map_err(|_| invalid("the transaction mapping could not be read"))?;
            for item in items.iter() {
                let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item
                    .extract()
                    .map_err(|_| invalid("the transaction mapping could not be read"))?;
                store(&key, value)?;
            }
        } else {
            return Err(invalid(format!(
                "a transaction must be a dict, not {}",
                type_name(tx)
            )));
        }
        Ok(Self { values })
    }

    fn get(&self, field: Field) -> Option<&Bound<'py, PyAny>> {
        self.values[field.index()].as_ref()
    }

    fn has(&self, field: Field) -> bool {
        self.get(field).is_some()
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| String::from("an unknown type"))
}

// ------------------------------------------------------------------ values

/// A number: an `int` (not `bool`) or `0x`-hex text, below 2^256.
fn quantity(what: impl fmt::Display, value: &Bound<'_, PyAny>) -> Result<U256> {
    if let Ok(int) = value.cast::<PyInt>() {
        if value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(invalid(format!(
                "{what} must be an int or 0x-hex string, not a bool"
            )));
        }
        if let Ok(small) = int.extract::<u64>() {
            return Ok(U256::from_u64(small));
        }
        let negative = int
            .lt(0)
            .map_err(|_| invalid(format!("{what} could not be compared with 0")))?;
        if negative {
            return Err(invalid(format!("{what} must not be negative")));
        }
        let py = value.py();
        return match int.call_method1(intern!(py, "to_bytes"), (32, intern!(py, "big"))) {
            Ok(bytes) => {
                let bytes = bytes
                    .cast::<PyBytes>()
                    .map_err(|_| invalid(format!("{what} could not be converted")))?;
                U256::from_be_slice(bytes.as_bytes())
                    .ok_or_else(|| invalid(format!("{what} must be below 2**256")))
            }
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
                Err(invalid(format!("{what} must be below 2**256")))
            }
            Err(_) => Err(invalid(format!("{what} could not be converted"))),
        };
    }
    if let Ok(text) = value.cast::<PyString>() {
        let text = text
            .to_str()
            .map_err(|_| invalid(format!("{what} is not valid text")))?;
        return hex::decode_quantity(text).map(U256).map_err(|e| match e {
            HexError::MissingPrefix => invalid(format!(
                "{what} must be an int or a 0x-prefixed hex string, not the text {text:?}"
            )),
            HexError::Empty => invalid(format!("{what} is '0x' with no digits")),
            HexError::TooLarge => invalid(format!("{what} must be below 2**256")),
            HexError::NotHex | HexError::OddLength => invalid(format!(
                "{what} contains a character that is not a hex digit"
            )),
        });
    }
    Err(invalid(format!(
        "{what} must be an int or a 0x-hex string, not {}",
        type_name(value)
    )))
}

/// A number that must fit in 64 bits (nonce, gas limit, chain id).
fn quantity_u64(what: impl fmt::Display, value: &Bound<'_, PyAny>) -> Result<u64> {
    if let Ok(int) = value.cast::<PyInt>() {
        if !value.is_instance_of::<pyo3::types::PyBool>() {
            if let Ok(small) = int.extract::<u64>() {
                return Ok(small);
            }
        }
    }
    quantity(&what, value)?
        .to_u64()
        .ok_or_else(|| invalid(format!("{what} must be below 2**64")))
}

/// Bytes: `bytes`, `bytearray` (HexBytes included) or `0x`-hex text with an
/// even number of digits.
fn byte_string(what: impl fmt::Display, value: &Bound<'_, PyAny>) -> Result<Vec<u8>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(array) = value.cast::<PyByteArray>() {
        return Ok(array.to_vec());
    }
    if let Ok(text) = value.cast::<PyString>() {
        let text = text
            .to_str()
            .map_err(|_| invalid(format!("{what} is not valid text")))?;
        return hex::decode_bytes(text).map_err(|e| match e {
            HexError::MissingPrefix => {
                invalid(format!("{what} must be bytes or a 0x-prefixed hex string"))
            }
            HexError::OddLength => invalid(format!(
                "{what} has an odd number of hex digits; bytes need two digits each"
            )),
            _ => invalid(format!(
                "{what} contains a character that is not a hex digit"
            )),
        });
    }
    Err(invalid(format!(
        "{what} must be bytes or a 0x-hex string, not {}",
        type_name(value)
    )))
}

/// Exactly 32 bytes (a blob versioned hash).
fn word(what: impl fmt::Display, value: &Bound<'_, PyAny>) -> Result<B256> {
    let bytes = byte_string(&what, value)?;
    bytes.as_slice().try_into().map_err(|_| {
        invalid(format!(
            "{what} must be exactly 32 bytes, not {}",
            bytes.len()
        ))
    })
}

/// How strictly a text address is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AddressText {
    /// Only the EIP-55 checksum form (eth-account's rule for `to`).
    Checksummed,
    /// Any valid form: lower case, upper case, or a correct checksum.
    AnyCase,
}

fn address(
    what: impl fmt::Display,
    value: &Bound<'_, PyAny>,
    text_rule: AddressText,
) -> Result<Address> {
    if let Ok(text) = value.cast::<PyString>() {
        let text = text
            .to_str()
            .map_err(|_| invalid(format!("{what} is not valid text")))?;
        let parsed = Address::parse_hex(text)
            .map_err(|e| invalid(format!("{what} is not an address: {e}")))?;
        if text_rule == AddressText::Checksummed
            && !is_verified_checksum(text)
            && parsed.checksum().as_str() != text
        {
            return Err(invalid(format!(
                "{what} must be a checksummed address ({}); use Web3.to_checksum_address",
                parsed.checksum().as_str()
            )));
        }
        return Ok(parsed);
    }
    let bytes = if let Ok(bytes) = value.cast::<PyBytes>() {
        bytes.as_bytes().to_vec()
    } else if let Ok(array) = value.cast::<PyByteArray>() {
        array.to_vec()
    } else {
        return Err(invalid(format!(
            "{what} must be an address string or 20 bytes, not {}",
            type_name(value)
        )));
    };
    let bytes: [u8; 20] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| invalid(format!("{what} must be 20 bytes, not {}", bytes.len())))?;
    Ok(Address(bytes))
}

/// Whether `text`, already accepted by [`Address::parse_hex`], is in its
/// EIP-55 form without hashing it again: `parse_hex` verifies the checksum of
/// every address that mixes upper and lower case, so a `0x` address with both
/// cases is a checksum; one with letters of a single case (or none) still
/// has to be compared with the checksum form.
fn is_verified_checksum(text: &str) -> bool {
    text.strip_prefix("0x").is_some_and(|digits| {
        digits.bytes().any(|c| c.is_ascii_lowercase())
            && digits.bytes().any(|c| c.is_ascii_uppercase())
    })
}

/// The items of a list or tuple.
fn sequence<'py>(
    what: impl fmt::Display,
    value: &Bound<'py, PyAny>,
) -> Result<Vec<Bound<'py, PyAny>>> {
    if let Ok(list) = value.cast::<PyList>() {
        return Ok(list.iter().collect());
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return Ok(tuple.iter().collect());
    }
    Err(invalid(format!(
        "{what} must be a list or tuple, not {}",
        type_name(value)
    )))
}

/// The value under `key` of a dict that must have exactly the keys `keys`.
fn dict_entries<'py, const N: usize>(
    what: impl fmt::Display,
    item: &Bound<'py, PyAny>,
    keys: [&'static str; N],
) -> Result<[Bound<'py, PyAny>; N]> {
    let dict = item.cast::<PyDict>().map_err(|_| {
        invalid(format!(
            "{what} must be a dict with the keys {}",
            keys.join(", ")
        ))
    })?;
    if dict.len() != N {
        return Err(invalid(format!(
            "{what} must have exactly the keys {}",
            keys.join(", ")
        )));
    }
    let mut out = Vec::with_capacity(N);
    for key in keys {
        let value = dict
            .get_item(key)
            .map_err(|_| invalid(format!("{what} could not be read")))?
            .ok_or_else(|| invalid(format!("{what} has no '{key}'")))?;
        out.push(value);
    }
    out.try_into()
        .map_err(|_| invalid(format!("{what} could not be read")))
}

// ------------------------------------------------------------------ the transaction

/// The EIP-2718 type of a dict, after inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Legacy,
    Eip2930,
    Eip1559,
    Eip4844,
    Eip7702,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Self::Legacy => "a legacy (type 0)",
            Self::Eip2930 => "an EIP-2930 (type 1)",
            Self::Eip1559 => "an EIP-1559 (type 2)",
            Self::Eip4844 => "an EIP-4844 blob (type 3)",
            Self::Eip7702 => "an EIP-7702 set-code (type 4)",
        }
    }

    fn allows(self, field: Field) -> bool {
        use Field as F;
        match field {
            F::Type
            | F::ChainId
            | F::Nonce
            | F::Gas
            | F::To
            | F::Value
            | F::Data
            | F::Input
            | F::From => true,
            F::GasPrice => matches!(self, Self::Legacy | Self::Eip2930),
            F::AccessList => !matches!(self, Self::Legacy),
            F::MaxFeePerGas | F::MaxPriorityFeePerGas => {
                matches!(self, Self::Eip1559 | Self::Eip4844 | Self::Eip7702)
            }
            F::MaxFeePerBlobGas | F::BlobVersionedHashes => self == Self::Eip4844,
            F::AuthorizationList => self == Self::Eip7702,
        }
    }

    fn requires(self) -> &'static [Field] {
        use Field as F;
        match self {
            Self::Legacy | Self::Eip2930 => &[F::Nonce, F::Gas, F::GasPrice],
            Self::Eip1559 => &[F::Nonce, F::Gas, F::MaxFeePerGas, F::MaxPriorityFeePerGas],
            Self::Eip4844 => &[
                F::Nonce,
                F::Gas,
                F::MaxFeePerGas,
                F::MaxPriorityFeePerGas,
                F::MaxFeePerBlobGas,
                F::BlobVersionedHashes,
            ],
            Self::Eip7702 => &[
                F::Nonce,
                F::Gas,
                F::MaxFeePerGas,
                F::MaxPriorityFeePerGas,
                F::AuthorizationList,
            ],
        }
    }
}

fn kind_of(raw: &RawFields<'_>) -> Result<Kind> {
    if let Some(value) = raw.get(Field::Type) {
        let number = quantity("type", value)?;
        return match number.to_u64() {
            Some(0) => Ok(Kind::Legacy),
            Some(1) => Ok(Kind::Eip2930),
            Some(2) => Ok(Kind::Eip1559),
            Some(3) => Ok(Kind::Eip4844),
            Some(4) => Ok(Kind::Eip7702),
            _ => Err(invalid(
                "type must be 0 (legacy), 1 (EIP-2930), 2 (EIP-1559), 3 (EIP-4844) or 4 (EIP-7702)",
            )),
        };
    }
    // eth-account's set_transaction_type_if_needed, rule for rule.
    Ok(if raw.has(Field::GasPrice) && raw.has(Field::AccessList) {
        Kind::Eip2930
    } else if raw.has(Field::MaxFeePerGas) || raw.has(Field::MaxPriorityFeePerGas) {
        if raw.has(Field::MaxFeePerBlobGas) || raw.has(Field::BlobVersionedHashes) {
            Kind::Eip4844
        } else if raw.has(Field::AuthorizationList) {
            Kind::Eip7702
        } else {
            Kind::Eip1559
        }
    } else {
        Kind::Legacy
    })
}

fn check_fields(raw: &RawFields<'_>, kind: Kind) -> Result<()> {
    let has_1559_fee = raw.has(Field::MaxFeePerGas) || raw.has(Field::MaxPriorityFeePerGas);
    let fee_market = matches!(kind, Kind::Eip1559 | Kind::Eip4844 | Kind::Eip7702);
    if raw.has(Field::GasPrice) && (has_1559_fee || fee_market) {
        return Err(invalid(
            "gasPrice cannot be combined with maxFeePerGas or maxPriorityFeePerGas: \
             give gasPrice (legacy, type 1) or the two EIP-1559 fees (types 2 to 4)",
        ));
    }
    for (index, value) in raw.values.iter().enumerate() {
        if value.is_none() {
            continue;
        }
        let Some(field) = ALL_FIELDS.get(index).copied() else {
            continue;
        };
        if !kind.allows(field) {
            return Err(invalid(format!(
                "'{}' does not belong in {} transaction",
                field.name(),
                kind.describe()
            )));
        }
    }
    let missing: Vec<&str> = kind
        .requires()
        .iter()
        .filter(|field| raw.get(**field).is_none_or(|value| value.is_none()))
        .map(|field| field.name())
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "{} transaction needs {}",
            capitalise(kind.describe()),
            missing.join(", ")
        )));
    }
    if raw.has(Field::Data) && raw.has(Field::Input) {
        return Err(invalid(
            "calldata is given twice: use either 'data' or 'input', not both",
        ));
    }
    Ok(())
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

const ALL_FIELDS: [Field; FIELD_COUNT] = [
    Field::Type,
    Field::ChainId,
    Field::Nonce,
    Field::Gas,
    Field::GasPrice,
    Field::MaxFeePerGas,
    Field::MaxPriorityFeePerGas,
    Field::To,
    Field::Value,
    Field::Data,
    Field::Input,
    Field::AccessList,
    Field::MaxFeePerBlobGas,
    Field::BlobVersionedHashes,
    Field::AuthorizationList,
    Field::From,
];

/// A transaction read from a dict, owning every variable-length field, ready
/// to be lent to the core as a [`TypedTransaction`].
#[derive(Clone, Debug)]
pub(crate) struct TxFields {
    kind: Kind,
    chain_id: Option<u64>,
    /// `chainId: None` on purpose: a legacy transaction without replay
    /// protection (eth-account's reading of it), which the policy refuses
    /// unless it sets `allow_unprotected`.
    unprotected: bool,
    nonce: u64,
    gas_limit: u64,
    gas_price: U256,
    max_fee_per_gas: U256,
    max_priority_fee_per_gas: U256,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    access_list: Vec<(Address, Vec<B256>)>,
    max_fee_per_blob_gas: U256,
    blob_versioned_hashes: Vec<B256>,
    authorizations: Vec<SignedAuthorization>,
    from: Option<Address>,
}

fn optional<'a, 'py>(raw: &'a RawFields<'py>, field: Field) -> Option<&'a Bound<'py, PyAny>> {
    raw.get(field).filter(|value| !value.is_none())
}

fn number_or_zero(raw: &RawFields<'_>, field: Field) -> Result<U256> {
    match raw.get(field) {
        Some(value) => quantity(field.name(), value),
        None => Ok(U256::ZERO),
    }
}

fn required<'a, 'py>(raw: &'a RawFields<'py>, field: Field) -> Result<&'a Bound<'py, PyAny>> {
    optional(raw, field).ok_or_else(|| invalid(format!("missing field '{}'", field.name())))
}

/// `name[index]`, formatted only when an error message needs it: labels are
/// built on every field of every call, errors are rare.
#[derive(Clone, Copy)]
struct Indexed(&'static str, usize);

impl fmt::Display for Indexed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

fn access_list(value: &Bound<'_, PyAny>) -> Result<Vec<(Address, Vec<B256>)>> {
    let items = sequence("accessList", value)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let what = Indexed("accessList", i);
        let [entry_address, keys] = dict_entries(what, item, ["address", "storageKeys"])?;
        let entry_address = address(
            format_args!("{what}.address"),
            &entry_address,
            AddressText::AnyCase,
        )?;
        let keys = sequence(format_args!("{what}.storageKeys"), &keys)?;
        let mut storage_keys = Vec::with_capacity(keys.len());
        for (j, key) in keys.iter().enumerate() {
            // eth-account reads storage keys as numbers and writes 32 bytes.
            storage_keys.push(quantity(format_args!("{what}.storageKeys[{j}]"), key)?.0);
        }
        out.push((entry_address, storage_keys));
    }
    Ok(out)
}

fn blob_hashes(value: &Bound<'_, PyAny>) -> Result<Vec<B256>> {
    let items = sequence("blobVersionedHashes", value)?;
    if items.is_empty() {
        return Err(invalid("blobVersionedHashes must not be empty"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| word(Indexed("blobVersionedHashes", i), item))
        .collect()
}

const AUTHORIZATION_KEYS: [&str; 6] = ["chainId", "address", "nonce", "yParity", "r", "s"];
const AUTHORIZATION_ATTRIBUTES: [&str; 6] = ["chain_id", "address", "nonce", "y_parity", "r", "s"];

fn authorization(what: impl fmt::Display, item: &Bound<'_, PyAny>) -> Result<SignedAuthorization> {
    let [chain_id, contract, nonce, y_parity, r, s] = if item.is_instance_of::<PyDict>() {
        dict_entries(&what, item, AUTHORIZATION_KEYS)?
    } else {
        // An eth-account SignedSetCodeAuthorization (or any object with its attributes).
        let mut values = Vec::with_capacity(6);
        for name in AUTHORIZATION_ATTRIBUTES {
            values.push(item.getattr(name).map_err(|_| {
                invalid(format!(
                    "{what} must be a dict with the keys {} or a SignedSetCodeAuthorization",
                    AUTHORIZATION_KEYS.join(", ")
                ))
            })?);
        }
        values
            .try_into()
            .map_err(|_| invalid(format!("{what} could not be read")))?
    };
    let y_parity = match quantity(format_args!("{what}.yParity"), &y_parity)?.to_u64() {
        Some(0) => 0,
        Some(1) => 1,
        _ => return Err(invalid(format!("{what}.yParity must be 0 or 1"))),
    };
    Ok(SignedAuthorization {
        authorization: Authorization {
            chain_id: quantity(format_args!("{what}.chainId"), &chain_id)?,
            address: address(
                format_args!("{what}.address"),
                &contract,
                AddressText::AnyCase,
            )?,
            nonce: quantity_u64(format_args!("{what}.nonce"), &nonce)?,
        },
        y_parity,
        r: quantity(format_args!("{what}.r"), &r)?,
        s: quantity(format_args!("{what}.s"), &s)?,
    })
}

fn authorizations(value: &Bound<'_, PyAny>) -> Result<Vec<SignedAuthorization>> {
    let items = sequence("authorizationList", value)?;
    if items.is_empty() {
        return Err(invalid("authorizationList must not be empty"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| authorization(Indexed("authorizationList", i), item))
        .collect()
}

impl TxFields {
    /// Reads and checks a transaction dict (any mapping).
    ///
    /// # Errors
    /// [`BindingError::InvalidTransaction`] naming the first problem found.
    pub(crate) fn from_py(tx: &Bound<'_, PyAny>) -> Result<Self> {
        let raw = RawFields::read(tx)?;
        let kind = kind_of(&raw)?;
        check_fields(&raw, kind)?;

        let chain_id = match optional(&raw, Field::ChainId) {
            Some(value) => Some(quantity_u64("chainId", value)?),
            None => None,
        };
        let unprotected = chain_id.is_none() && raw.has(Field::ChainId);
        if unprotected && kind != Kind::Legacy {
            return Err(invalid(format!(
                "chainId is None: {} transaction always carries a chain id; only a legacy \
                 transaction can go without replay protection",
                kind.describe()
            )));
        }
        let to = match raw.get(Field::To) {
            None => None,
            Some(value) if value.is_none() => None,
            Some(value) if is_empty(value) => None,
            Some(value) => Some(address("to", value, AddressText::Checksummed)?),
        };
        if to.is_none() && matches!(kind, Kind::Eip4844 | Kind::Eip7702) {
            return Err(invalid(format!(
                "{} transaction cannot create a contract: 'to' is required",
                capitalise(kind.describe())
            )));
        }
        let input = match optional(&raw, Field::Data).or_else(|| optional(&raw, Field::Input)) {
            Some(value) => byte_string(
                if raw.has(Field::Data) {
                    "data"
                } else {
                    "input"
                },
                value,
            )?,
            None => {
                // Present but None: eth-account refuses None calldata too.
                if raw.has(Field::Data) || raw.has(Field::Input) {
                    return Err(invalid("data must be bytes or a 0x-hex string, not None"));
                }
                Vec::new()
            }
        };
        let from = match optional(&raw, Field::From) {
            Some(value) => Some(address("from", value, AddressText::AnyCase)?),
            None => None,
        };

        Ok(Self {
            kind,
            chain_id,
            unprotected,
            nonce: quantity_u64("nonce", required(&raw, Field::Nonce)?)?,
            gas_limit: quantity_u64("gas", required(&raw, Field::Gas)?)?,
            gas_price: number_or_zero(&raw, Field::GasPrice)?,
            max_fee_per_gas: number_or_zero(&raw, Field::MaxFeePerGas)?,
            max_priority_fee_per_gas: number_or_zero(&raw, Field::MaxPriorityFeePerGas)?,
            to,
            value: number_or_zero(&raw, Field::Value)?,
            input,
            access_list: match raw.get(Field::AccessList) {
                Some(value) => access_list(value)?,
                None => Vec::new(),
            },
            max_fee_per_blob_gas: number_or_zero(&raw, Field::MaxFeePerBlobGas)?,
            blob_versioned_hashes: match raw.get(Field::BlobVersionedHashes) {
                Some(value) => blob_hashes(value)?,
                None => Vec::new(),
            },
            authorizations: match raw.get(Field::AuthorizationList) {
                Some(value) => authorizations(value)?,
                None => Vec::new(),
            },
            from,
        })
    }

    /// Uses `chain_id` where the dict gave none (an explicit `chainId: None`
    /// stays unprotected).
    pub(crate) fn fill_chain_id(&mut self, chain_id: u64) {
        if !self.unprotected {
            self.chain_id.get_or_insert(chain_id);
        }
    }

    /// Checks `from` against the signing account, as eth-account does.
    ///
    /// # Errors
    /// [`BindingError::InvalidTransaction`] when they differ.
    pub(crate) fn check_from(&self, account: &Address) -> Result<()> {
        match self.from {
            Some(from) if from != *account => Err(invalid(format!(
                "'from' is {from} but the wallet's account is {account}"
            ))),
            _ => Ok(()),
        }
    }

    /// Lends the transaction to `f` as the core's [`TypedTransaction`].
    ///
    /// # Errors
    /// [`BindingError::InvalidTransaction`] if no chain id is known yet.
    pub(crate) fn with_typed<R>(&self, f: impl FnOnce(&TypedTransaction<'_>) -> R) -> Result<R> {
        let missing_chain_id = || {
            invalid(
                "chainId is missing: put it in the transaction, or give the wallet a web3 \
                 connection to read it from (an unprotected legacy transaction is signed only \
                 when asked for with chainId None and allowed by the policy)",
            )
        };
        if self.chain_id.is_none() && !self.unprotected {
            return Err(missing_chain_id());
        }
        let items: Vec<AccessListItem<'_>> = self
            .access_list
            .iter()
            .map(|(address, keys)| AccessListItem {
                address: *address,
                storage_keys: StorageKeys::from_slice(keys),
            })
            .collect();
        let access_list = AccessList::from_slice(&items);
        let kind = self.to.map_or(TxKind::Create, TxKind::Call);
        let tx: TypedTransaction<'_> = match self.kind {
            Kind::Legacy => TypedTransaction::Legacy(TxLegacy {
                chain_id: self.chain_id,
                nonce: self.nonce,
                gas_price: self.gas_price,
                gas_limit: self.gas_limit,
                to: kind,
                value: self.value,
                input: &self.input,
            }),
            Kind::Eip2930 => TxEip2930 {
                chain_id: self.chain_id.ok_or_else(missing_chain_id)?,
                nonce: self.nonce,
                gas_price: self.gas_price,
                gas_limit: self.gas_limit,
                to: kind,
                value: self.value,
                input: &self.input,
                access_list,
            }
            .into(),
            Kind::Eip1559 => TxEip1559 {
                chain_id: self.chain_id.ok_or_else(missing_chain_id)?,
                nonce: self.nonce,
                max_priority_fee_per_gas: self.max_priority_fee_per_gas,
                max_fee_per_gas: self.max_fee_per_gas,
                gas_limit: self.gas_limit,
                to: kind,
                value: self.value,
                input: &self.input,
                access_list,
            }
            .into(),
            Kind::Eip4844 => TxEip4844 {
                chain_id: self.chain_id.ok_or_else(missing_chain_id)?,
                nonce: self.nonce,
                max_priority_fee_per_gas: self.max_priority_fee_per_gas,
                max_fee_per_gas: self.max_fee_per_gas,
                gas_limit: self.gas_limit,
                to: self.to.unwrap_or_default(),
                value: self.value,
                input: &self.input,
                access_list,
                max_fee_per_blob_gas: self.max_fee_per_blob_gas,
                blob_versioned_hashes: BlobVersionedHashes::from_slice(&self.blob_versioned_hashes),
            }
            .into(),
            Kind::Eip7702 => TxEip7702 {
                chain_id: self.chain_id.ok_or_else(missing_chain_id)?,
                nonce: self.nonce,
                max_priority_fee_per_gas: self.max_priority_fee_per_gas,
                max_fee_per_gas: self.max_fee_per_gas,
                gas_limit: self.gas_limit,
                to: self.to.unwrap_or_default(),
                value: self.value,
                input: &self.input,
                access_list,
                authorization_list: AuthorizationList::from_slice(&self.authorizations),
            }
            .into(),
        };
        Ok(f(&tx))
    }

    /// The unsigned signing payload (`type || rlp(fields)`, or the EIP-155
    /// list for legacy), the bytes whose Keccak-256 is signed.
    ///
    /// # Errors
    /// A missing chain id, or a chain id the core refuses.
    pub(crate) fn signing_payload(&self) -> Result<Vec<u8>> {
        self.with_typed(|tx| {
            let mut out = vec![0u8; tx.signing_payload_length()];
            let mut sink = SliceSink::new(&mut out);
            tx.encode_for_signing(&mut sink)?;
            let written = sink.finish().map_err(wallet_core::tx::TxError::from)?;
            out.truncate(written);
            Ok::<_, BindingError>(out)
        })?
    }
}

/// `""`, `b""` and `bytearray()` mean "no recipient", as in eth-account.
fn is_empty(value: &Bound<'_, PyAny>) -> bool {
    if let Ok(text) = value.cast::<PyString>() {
        return text.to_str().is_ok_and(str::is_empty);
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return bytes.as_bytes().is_empty();
    }
    if let Ok(array) = value.cast::<PyByteArray>() {
        return array.len() == 0;
    }
    false
}
