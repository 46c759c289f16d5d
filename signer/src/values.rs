//! JSON values as Ethereum nodes write them: `0x` quantities, `0x` byte
//! strings and addresses.

use serde_json::Value;
use wallet_core::signer::Address;
use wallet_core::tx::U256;

use crate::rpc::RpcError;

/// `0x` followed by lowercase hex.
#[must_use]
pub fn hex_bytes(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 + 2 * bytes.len());
    text.push_str("0x");
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// A quantity as nodes write it: `0x` and no leading zeros (`0x0` for zero).
#[must_use]
pub fn hex_quantity_u64(value: u64) -> String {
    format!("{value:#x}")
}

/// A 256-bit quantity as nodes write it.
#[must_use]
pub fn hex_quantity(value: &U256) -> String {
    let bytes = value.0;
    let first = bytes.iter().position(|b| *b != 0);
    match first {
        None => "0x0".into(),
        Some(index) => {
            let digits = hex_bytes(&bytes[index..]);
            let trimmed = digits[2..].trim_start_matches('0');
            format!("0x{trimmed}")
        }
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes `0x`-hex of even length.
///
/// # Errors
/// An invalid-params error naming `what`.
pub fn parse_hex_bytes(text: &str, what: &str) -> Result<Vec<u8>, RpcError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| RpcError::invalid_params(format!("{what} must be 0x-prefixed hex")))?;
    if !digits.len().is_multiple_of(2) {
        return Err(RpcError::invalid_params(format!(
            "{what} has an odd number of hex digits"
        )));
    }
    digits
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(high), Some(low)) => Ok(high << 4 | low),
            _ => Err(RpcError::invalid_params(format!("{what} is not valid hex"))),
        })
        .collect()
}

/// A `0x` byte string given as a JSON value.
///
/// # Errors
/// An invalid-params error naming `what` for anything but a hex string.
pub fn bytes_value(value: &Value, what: &str) -> Result<Vec<u8>, RpcError> {
    match value {
        Value::String(text) => parse_hex_bytes(text, what),
        _ => Err(RpcError::invalid_params(format!(
            "{what} must be a 0x-hex string"
        ))),
    }
}

/// A 256-bit unsigned quantity: `0x` hex (any length up to 64 digits), a
/// decimal string, or a JSON integer.
///
/// # Errors
/// An invalid-params error naming `what`.
pub fn quantity(value: &Value, what: &str) -> Result<U256, RpcError> {
    let bad = || {
        RpcError::invalid_params(format!(
            "{what} must be a 0x-hex quantity, a decimal string or a non-negative integer below 2^256"
        ))
    };
    match value {
        Value::Number(number) => number.as_u64().map(U256::from).ok_or_else(bad),
        Value::String(text) => {
            if let Some(digits) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                parse_hex_quantity(digits).ok_or_else(bad)
            } else {
                parse_decimal(text).ok_or_else(bad)
            }
        }
        _ => Err(bad()),
    }
}

/// A quantity that must fit 64 bits (a nonce, a gas limit, a chain id).
///
/// # Errors
/// An invalid-params error naming `what`.
pub fn quantity_u64(value: &Value, what: &str) -> Result<u64, RpcError> {
    quantity(value, what)?
        .to_u64()
        .ok_or_else(|| RpcError::invalid_params(format!("{what} must be below 2^64")))
}

fn parse_hex_quantity(digits: &str) -> Option<U256> {
    if digits.is_empty() || digits.len() > 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, c) in digits.bytes().rev().enumerate() {
        let value = nibble(c)?;
        let byte = 31 - i / 2;
        out[byte] |= if i % 2 == 0 { value } else { value << 4 };
    }
    Some(U256(out))
}

/// Parses a decimal string below 2^256.
#[must_use]
pub fn parse_decimal(text: &str) -> Option<U256> {
    if text.is_empty() || text.len() > 78 {
        return None;
    }
    let mut out = [0u8; 32];
    for c in text.bytes() {
        let digit = u32::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
        // out = out * 10 + digit, big-endian, with overflow refused.
        let mut carry = digit;
        for byte in out.iter_mut().rev() {
            let product = u32::from(*byte) * 10 + carry;
            *byte = (product & 0xff) as u8;
            carry = product >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(U256(out))
}

/// An address in any case (the checksum is not required, as nodes do).
///
/// # Errors
/// An invalid-params error naming `what`.
pub fn address_value(value: &Value, what: &str) -> Result<Address, RpcError> {
    let text = value
        .as_str()
        .ok_or_else(|| RpcError::invalid_params(format!("{what} must be an address string")))?;
    let bytes = parse_hex_bytes(text, what)?;
    let array: [u8; 20] = bytes
        .try_into()
        .map_err(|_| RpcError::invalid_params(format!("{what} must be 20 bytes")))?;
    Ok(Address(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_round_trip() {
        let value = quantity(&json!("0x0de0b6b3a7640000"), "value").unwrap();
        assert_eq!(value.to_u64(), Some(1_000_000_000_000_000_000));
        assert_eq!(hex_quantity(&value), "0xde0b6b3a7640000");
        assert_eq!(
            parse_decimal("1000000000000000000").unwrap().to_u64(),
            Some(1_000_000_000_000_000_000)
        );
        assert_eq!(hex_quantity(&U256::from(0u64)), "0x0");
        assert!(quantity(&json!("0x"), "v").is_err());
        assert!(quantity(&json!(-1), "v").is_err());
        assert!(quantity(&json!(true), "v").is_err());
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert!(parse_decimal(max).is_some());
        assert!(parse_decimal(&format!("{max}0")).is_none());
        assert_eq!(parse_hex_bytes("0x0aFF", "x").unwrap(), vec![0x0a, 0xff]);
        assert!(parse_hex_bytes("0x0", "x").is_err());
    }
}
