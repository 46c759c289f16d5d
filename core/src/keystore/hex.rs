//! Hex as keystores spell it: lower case on output; either case and an
//! optional `0x` on input (eth-account accepts the prefix, geth writes none).
//!
//! Nothing decoded here is secret (ciphertext, salt, IV, MAC, address), so
//! the decoder need not run in constant time.

use std::string::String;
use std::vec::Vec;

use super::{Field, KeystoreError};

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Appends the two lower case hex digits of `byte`.
pub(super) fn push_byte(out: &mut String, byte: u8) {
    for nibble in [byte >> 4, byte & 0x0f] {
        out.push(char::from(HEX_LOWER[usize::from(nibble)]));
    }
}

/// `bytes` as lower case hex without a prefix.
pub(super) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        push_byte(&mut out, byte);
    }
    out
}

fn digits(text: &str) -> &[u8] {
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
        .as_bytes()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The number of bytes `text` would decode to, before decoding it (so a
/// length limit can be checked first).
pub(super) fn decoded_len(text: &str) -> usize {
    digits(text).len() / 2
}

/// Decodes `text` into `out`, which must be exactly as long as the decoded
/// bytes.
fn decode_into(text: &str, field: Field, out: &mut [u8]) -> Result<(), KeystoreError> {
    let digits = digits(text);
    if !digits.len().is_multiple_of(2) {
        return Err(KeystoreError::InvalidHex(field));
    }
    let len = digits.len() / 2;
    if len != out.len() {
        return Err(KeystoreError::WrongLength {
            field,
            len,
            expected: out.len(),
        });
    }
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (Some(high), Some(low)) = (
            pair.first().copied().and_then(nibble),
            pair.get(1).copied().and_then(nibble),
        ) else {
            return Err(KeystoreError::InvalidHex(field));
        };
        *byte = (high << 4) | low;
    }
    Ok(())
}

/// Decodes `text` into exactly `N` bytes.
pub(super) fn decode_array<const N: usize>(
    text: &str,
    field: Field,
) -> Result<[u8; N], KeystoreError> {
    let mut out = [0u8; N];
    decode_into(text, field, &mut out)?;
    Ok(out)
}

/// Decodes `text` into as many bytes as it holds.
pub(super) fn decode_vec(text: &str, field: Field) -> Result<Vec<u8>, KeystoreError> {
    let mut out = std::vec![0u8; decoded_len(text)];
    decode_into(text, field, &mut out)?;
    Ok(out)
}
