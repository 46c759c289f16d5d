//! Hex text as web3 and eth-account write it: `0x`-prefixed, either case.

/// The digits after a `0x` or `0X` prefix, or `None` without the prefix.
pub(crate) fn strip_prefix(text: &str) -> Option<&str> {
    text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Why hex text could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HexError {
    /// No `0x` prefix.
    MissingPrefix,
    /// A character that is not a hex digit.
    NotHex,
    /// An odd number of digits where whole bytes are expected.
    OddLength,
    /// No digits at all where a number is expected.
    Empty,
    /// More than 256 bits.
    TooLarge,
}

/// Whole bytes from `0x`-prefixed hex with an even number of digits
/// (`0x` alone is the empty string).
pub(crate) fn decode_bytes(text: &str) -> Result<Vec<u8>, HexError> {
    let digits = strip_prefix(text)
        .ok_or(HexError::MissingPrefix)?
        .as_bytes();
    if digits.len() % 2 != 0 {
        // Report a bad character first: it says more than the length does.
        return Err(if digits.iter().all(|&c| nibble(c).is_some()) {
            HexError::OddLength
        } else {
            HexError::NotHex
        });
    }
    digits
        .chunks_exact(2)
        .map(|pair| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(high), Some(low)) => Ok((high << 4) | low),
            _ => Err(HexError::NotHex),
        })
        .collect()
}

/// A JSON-RPC quantity (`0x` and at least one digit; leading zeros and odd
/// lengths allowed, as eth-account allows them) as 32 big-endian bytes.
pub(crate) fn decode_quantity(text: &str) -> Result<[u8; 32], HexError> {
    let digits = strip_prefix(text)
        .ok_or(HexError::MissingPrefix)?
        .as_bytes();
    if digits.is_empty() {
        return Err(HexError::Empty);
    }
    if !digits.iter().all(|&c| nibble(c).is_some()) {
        return Err(HexError::NotHex);
    }
    let first = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len());
    let significant = digits.get(first..).unwrap_or_default();
    if significant.len() > 64 {
        return Err(HexError::TooLarge);
    }
    let mut out = [0u8; 32];
    // Fill from the least significant nibble upwards; every digit was checked above.
    for (i, &c) in significant.iter().rev().enumerate() {
        let v = nibble(c).unwrap_or(0);
        let byte = 31 - i / 2;
        out[byte] |= if i % 2 == 0 { v } else { v << 4 };
    }
    Ok(out)
}

/// Lower-case hex with a `0x` prefix.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
