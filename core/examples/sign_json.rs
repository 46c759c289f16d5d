//! Signs transactions described as JSON lines, one answer line per request.
//!
//! This is the Rust side of the differential suite in `tests/differential/`:
//! the same requests are signed by eth-account, and the raw transactions must
//! agree byte for byte.
//!
//! Each stdin line is one JSON object:
//!
//! - `{"key": "0x<32 bytes>", "tx": {...}}` where `tx` is a transaction dict in
//!   eth-account's shape (`type`, `chainId`, `nonce`, `gas`, `gasPrice` or
//!   `maxFeePerGas` + `maxPriorityFeePerGas`, `maxFeePerBlobGas`, `to`,
//!   `value`, `data`, `accessList`, `blobVersionedHashes`,
//!   `authorizationList`). Quantities are JSON integers or `0x` hex strings.
//!   The answer is `{"raw": "0x...", "hash": "0x...", "sender": "0x..."}`:
//!   the signed transaction, its hash, and the sender recovered by decoding
//!   the raw bytes again (a decode that does not give back the same
//!   transaction is reported as an error).
//! - `{"key": "0x...", "authorization": {"chainId", "address", "nonce"}}`:
//!   signs an EIP-7702 authorization; the answer is
//!   `{"yParity": 0|1, "r": "0x...", "s": "0x..."}`.
//!
//! Any request the core refuses, or that is not well formed, gets
//! `{"error": "<reason>"}` and the next line is read: one bad request never
//! stops the stream.
//!
//! ```text
//! cargo run --release -p wallet-core --example sign_json < requests.jsonl
//! ```

use std::fmt;
use std::io::{self, BufRead, Write};

use serde_json::{json, Map, Value};
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{
    decode_signed, AccessList, AccessListItem, Authorization, AuthorizationList,
    BlobVersionedHashes, SignedAuthorization, StorageKeys, TxEip1559, TxEip2930, TxEip4844,
    TxEip7702, TxKind, TxLegacy, TypedTransaction, B256, U256,
};

/// Why a request line was refused.
#[derive(Debug)]
enum RequestError {
    /// The request is not what this program reads (the text says what).
    Malformed(String),
    /// The core refused the request.
    Core(wallet_core::Error),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(reason) => f.write_str(reason),
            Self::Core(e) => write!(f, "{e}"),
        }
    }
}

impl<E: Into<wallet_core::Error>> From<E> for RequestError {
    fn from(e: E) -> Self {
        Self::Core(e.into())
    }
}

fn malformed(reason: impl Into<String>) -> RequestError {
    RequestError::Malformed(reason.into())
}

type Outcome<T> = Result<T, RequestError>;

/// The transaction fields eth-account accepts (`from` is checked, not signed).
const TX_FIELDS: &[&str] = &[
    "type",
    "chainId",
    "nonce",
    "gas",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "maxFeePerBlobGas",
    "to",
    "value",
    "data",
    "accessList",
    "blobVersionedHashes",
    "authorizationList",
    "from",
];

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut output = io::BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let answer = match std::str::from_utf8(text) {
            Ok(text) => answer(text),
            Err(_) => Err(malformed("request line is not UTF-8")),
        };
        let answer = answer.unwrap_or_else(|e| json!({ "error": e.to_string() }));
        writeln!(output, "{answer}")?;
        // One answer per request, visible at once to a driver that waits for it.
        output.flush()?;
    }
    Ok(())
}

fn answer(text: &str) -> Outcome<Value> {
    let request: Value =
        serde_json::from_str(text).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let request = request
        .as_object()
        .ok_or_else(|| malformed("request must be a JSON object"))?;
    let key_hex = request
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("request needs \"key\" as a hex string"))?;
    let key = SecretKey::from_slice(&hex_bytes(key_hex, "key")?)?;
    match (request.get("tx"), request.get("authorization")) {
        (Some(tx), None) => sign_transaction(&key, object(tx, "tx")?),
        (None, Some(auth)) => sign_authorization(&key, object(auth, "authorization")?),
        _ => Err(malformed(
            "request needs exactly one of \"tx\" and \"authorization\"",
        )),
    }
}

fn object<'v>(value: &'v Value, what: &str) -> Outcome<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| malformed(format!("{what} must be a JSON object")))
}

fn sign_authorization(key: &SecretKey, fields: &Map<String, Value>) -> Outcome<Value> {
    let authorization = authorization(fields)?;
    let signed = authorization.sign(key)?;
    Ok(json!({
        "yParity": signed.y_parity,
        "r": format!("{:#x}", signed.r),
        "s": format!("{:#x}", signed.s),
    }))
}

fn authorization(fields: &Map<String, Value>) -> Outcome<Authorization> {
    Ok(Authorization {
        chain_id: u256(required(fields, "chainId")?, "chainId")?,
        address: address(required(fields, "address")?, "address")?,
        nonce: u64_field(required(fields, "nonce")?, "nonce")?,
    })
}

/// The variable-length parts of a transaction, owned here so the core's
/// borrowed views can point into them.
struct OwnedParts {
    data: Vec<u8>,
    access_list: Vec<(Address, Vec<B256>)>,
    blob_versioned_hashes: Vec<B256>,
    authorization_list: Vec<SignedAuthorization>,
}

fn sign_transaction(key: &SecretKey, fields: &Map<String, Value>) -> Outcome<Value> {
    if let Some(unknown) = fields.keys().find(|k| !TX_FIELDS.contains(&k.as_str())) {
        return Err(malformed(format!("unknown transaction field {unknown:?}")));
    }
    if let Some(from) = fields.get("from") {
        if address(from, "from")? != key.address() {
            return Err(malformed("\"from\" is not the signing key's address"));
        }
    }
    let parts = OwnedParts {
        data: match fields.get("data") {
            Some(value) => hex_bytes(string(value, "data")?, "data")?,
            None => Vec::new(),
        },
        access_list: match fields.get("accessList") {
            Some(value) => access_list(value)?,
            None => Vec::new(),
        },
        blob_versioned_hashes: match fields.get("blobVersionedHashes") {
            Some(value) => array(value, "blobVersionedHashes")?
                .iter()
                .map(|hash| b256(hash, "blob versioned hash"))
                .collect::<Outcome<_>>()?,
            None => Vec::new(),
        },
        authorization_list: match fields.get("authorizationList") {
            Some(value) => array(value, "authorizationList")?
                .iter()
                .map(signed_authorization)
                .collect::<Outcome<_>>()?,
            None => Vec::new(),
        },
    };
    let items: Vec<AccessListItem<'_>> = parts
        .access_list
        .iter()
        .map(|(address, keys)| AccessListItem {
            address: *address,
            storage_keys: StorageKeys::from_slice(keys),
        })
        .collect();
    let tx = transaction(fields, &parts, AccessList::from_slice(&items))?;

    let signature = tx.sign(key)?;
    let mut raw = vec![0u8; tx.encoded_signed_len(&signature)?];
    let written = tx.encode_signed(&signature, &mut raw)?;
    raw.truncate(written);

    let decoded = decode_signed(&raw)?;
    if *decoded.transaction() != tx || decoded.signature() != signature {
        return Err(malformed(
            "decoding the signed transaction did not give back what was signed",
        ));
    }
    let sender = decoded.recover_sender()?;
    Ok(json!({
        "raw": format!("0x{}", hex::encode(&raw)),
        "hash": format!("0x{}", hex::encode(decoded.hash())),
        "sender": sender.checksum().as_str(),
    }))
}

/// The transaction type, given or inferred from the fields present as
/// eth-account infers it.
fn tx_type(fields: &Map<String, Value>) -> Outcome<u64> {
    if let Some(value) = fields.get("type") {
        return u64_field(value, "type");
    }
    let has = |name: &str| fields.contains_key(name);
    Ok(if has("gasPrice") && has("accessList") {
        1
    } else if has("maxFeePerGas") || has("maxPriorityFeePerGas") {
        if has("maxFeePerBlobGas") || has("blobVersionedHashes") {
            3
        } else if has("authorizationList") {
            4
        } else {
            2
        }
    } else {
        0
    })
}

fn transaction<'a>(
    fields: &Map<String, Value>,
    parts: &'a OwnedParts,
    access_list: AccessList<'a>,
) -> Outcome<TypedTransaction<'a>> {
    let tx_type = tx_type(fields)?;
    let allowed: &[&str] = match tx_type {
        0 => &["gasPrice"],
        1 => &["gasPrice", "accessList"],
        2 => &["maxFeePerGas", "maxPriorityFeePerGas", "accessList"],
        3 => &[
            "maxFeePerGas",
            "maxPriorityFeePerGas",
            "accessList",
            "maxFeePerBlobGas",
            "blobVersionedHashes",
        ],
        4 => &[
            "maxFeePerGas",
            "maxPriorityFeePerGas",
            "accessList",
            "authorizationList",
        ],
        other => {
            return Err(malformed(format!(
                "transaction type {other} is not supported"
            )))
        }
    };
    let type_specific = [
        "gasPrice",
        "maxFeePerGas",
        "maxPriorityFeePerGas",
        "accessList",
        "maxFeePerBlobGas",
        "blobVersionedHashes",
        "authorizationList",
    ];
    if let Some(extra) = type_specific
        .iter()
        .find(|name| fields.contains_key(**name) && !allowed.contains(name))
    {
        return Err(malformed(format!(
            "field {extra:?} does not belong in a type {tx_type} transaction"
        )));
    }

    let nonce = u64_field(required(fields, "nonce")?, "nonce")?;
    let gas_limit = u64_field(required(fields, "gas")?, "gas")?;
    let value = match fields.get("value") {
        Some(value) => u256(value, "value")?,
        None => U256::ZERO,
    };
    let to = match fields.get("to") {
        None | Some(Value::Null) => TxKind::Create,
        Some(Value::String(text)) if text.is_empty() || text == "0x" => TxKind::Create,
        Some(other) => TxKind::Call(address(other, "to")?),
    };
    let chain_id = match fields.get("chainId") {
        Some(value) => Some(u64_field(value, "chainId")?),
        None if tx_type == 0 => None,
        None => return Err(malformed("typed transactions need \"chainId\"")),
    };
    // Present for every typed transaction, checked just above.
    let typed_chain_id = chain_id.unwrap_or(0);
    let input = parts.data.as_slice();

    Ok(match tx_type {
        0 => TypedTransaction::Legacy(TxLegacy {
            chain_id,
            nonce,
            gas_price: u256(required(fields, "gasPrice")?, "gasPrice")?,
            gas_limit,
            to,
            value,
            input,
        }),
        1 => TxEip2930 {
            chain_id: typed_chain_id,
            nonce,
            gas_price: u256(required(fields, "gasPrice")?, "gasPrice")?,
            gas_limit,
            to,
            value,
            input,
            access_list,
        }
        .into(),
        2 => TxEip1559 {
            chain_id: typed_chain_id,
            nonce,
            max_priority_fee_per_gas: priority_fee(fields)?,
            max_fee_per_gas: max_fee(fields)?,
            gas_limit,
            to,
            value,
            input,
            access_list,
        }
        .into(),
        3 => TxEip4844 {
            chain_id: typed_chain_id,
            nonce,
            max_priority_fee_per_gas: priority_fee(fields)?,
            max_fee_per_gas: max_fee(fields)?,
            gas_limit,
            to: call_only(to, 3)?,
            value,
            input,
            access_list,
            max_fee_per_blob_gas: u256(required(fields, "maxFeePerBlobGas")?, "maxFeePerBlobGas")?,
            blob_versioned_hashes: BlobVersionedHashes::from_slice(&parts.blob_versioned_hashes),
        }
        .into(),
        _ => TxEip7702 {
            chain_id: typed_chain_id,
            nonce,
            max_priority_fee_per_gas: priority_fee(fields)?,
            max_fee_per_gas: max_fee(fields)?,
            gas_limit,
            to: call_only(to, 4)?,
            value,
            input,
            access_list,
            authorization_list: AuthorizationList::from_slice(&parts.authorization_list),
        }
        .into(),
    })
}

fn call_only(to: TxKind, tx_type: u8) -> Outcome<Address> {
    to.address().ok_or_else(|| {
        malformed(format!(
            "a type {tx_type} transaction needs \"to\": it cannot create a contract"
        ))
    })
}

fn max_fee(fields: &Map<String, Value>) -> Outcome<U256> {
    u256(required(fields, "maxFeePerGas")?, "maxFeePerGas")
}

fn priority_fee(fields: &Map<String, Value>) -> Outcome<U256> {
    u256(
        required(fields, "maxPriorityFeePerGas")?,
        "maxPriorityFeePerGas",
    )
}

fn access_list(value: &Value) -> Outcome<Vec<(Address, Vec<B256>)>> {
    array(value, "accessList")?
        .iter()
        .map(|item| {
            let item = object(item, "access list entry")?;
            let address = address(required(item, "address")?, "access list address")?;
            let keys = array(required(item, "storageKeys")?, "storageKeys")?
                .iter()
                .map(|key| b256(key, "storage key"))
                .collect::<Outcome<Vec<_>>>()?;
            Ok((address, keys))
        })
        .collect()
}

fn signed_authorization(value: &Value) -> Outcome<SignedAuthorization> {
    let fields = object(value, "authorization")?;
    let y_parity = u64_field(required(fields, "yParity")?, "yParity")?;
    Ok(SignedAuthorization {
        authorization: authorization(fields)?,
        y_parity: u8::try_from(y_parity).map_err(|_| malformed("yParity does not fit a byte"))?,
        r: u256(required(fields, "r")?, "r")?,
        s: u256(required(fields, "s")?, "s")?,
    })
}

fn required<'v>(fields: &'v Map<String, Value>, name: &str) -> Outcome<&'v Value> {
    fields
        .get(name)
        .ok_or_else(|| malformed(format!("missing field {name:?}")))
}

fn string<'v>(value: &'v Value, what: &str) -> Outcome<&'v str> {
    value
        .as_str()
        .ok_or_else(|| malformed(format!("{what} must be a string")))
}

fn array<'v>(value: &'v Value, what: &str) -> Outcome<&'v Vec<Value>> {
    value
        .as_array()
        .ok_or_else(|| malformed(format!("{what} must be a JSON array")))
}

/// Bytes from `0x`-prefixed hex (`"0x"` is empty).
fn hex_bytes(text: &str, what: &str) -> Outcome<Vec<u8>> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| malformed(format!("{what} must start with 0x")))?;
    hex::decode(digits).map_err(|e| malformed(format!("{what} is not hex: {e}")))
}

fn b256(value: &Value, what: &str) -> Outcome<B256> {
    let bytes = hex_bytes(string(value, what)?, what)?;
    bytes
        .try_into()
        .map_err(|_| malformed(format!("{what} must be exactly 32 bytes")))
}

fn address(value: &Value, what: &str) -> Outcome<Address> {
    Ok(Address::parse_hex(string(value, what)?)?)
}

/// A quantity: a JSON integer, or a `0x` hex string of at most 256 bits.
fn u256(value: &Value, what: &str) -> Outcome<U256> {
    match value {
        Value::Number(number) => number
            .as_u64()
            .map(U256::from_u64)
            .ok_or_else(|| malformed(format!("{what} must be a non-negative integer"))),
        Value::String(text) => {
            let digits = text
                .strip_prefix("0x")
                .ok_or_else(|| malformed(format!("{what} must be an integer or 0x hex")))?;
            if digits.is_empty() {
                return Err(malformed(format!("{what} has no hex digits")));
            }
            let digits = digits.trim_start_matches('0');
            if digits.len() > 64 {
                return Err(malformed(format!("{what} does not fit 256 bits")));
            }
            let padded = format!("{digits:0>64}");
            let mut out = [0u8; 32];
            hex::decode_to_slice(padded, &mut out)
                .map_err(|e| malformed(format!("{what} is not hex: {e}")))?;
            Ok(U256(out))
        }
        _ => Err(malformed(format!(
            "{what} must be an integer or a 0x hex string"
        ))),
    }
}

fn u64_field(value: &Value, what: &str) -> Outcome<u64> {
    u256(value, what)?
        .to_u64()
        .ok_or_else(|| malformed(format!("{what} does not fit 64 bits")))
}
