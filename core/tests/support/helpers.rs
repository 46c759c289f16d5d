//! Small parsing helpers shared by the integration tests.
#![allow(dead_code)]

use wallet_core::signer::Address;
use wallet_core::tx::U256;

/// Bytes from hex, with or without `0x`.
pub fn unhex(s: &str) -> Vec<u8> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// Exactly 32 bytes from hex.
pub fn b32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

/// A 256-bit big-endian value from a decimal string, computed independently
/// of the crate's own arithmetic.
pub fn dec(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for digit in s.bytes() {
        assert!(digit.is_ascii_digit(), "not decimal: {s}");
        let mut carry = u32::from(digit - b'0');
        for byte in out.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0, "decimal overflows 256 bits: {s}");
    }
    out
}

/// A U256 from a decimal string.
pub fn u256_dec(s: &str) -> U256 {
    U256(dec(s))
}

/// An address from hex (checksum enforced when mixed case).
pub fn addr(s: &str) -> Address {
    Address::parse_hex(s).expect("address")
}
