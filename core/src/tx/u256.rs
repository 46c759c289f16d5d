//! A 256-bit unsigned integer, just wide enough for transaction values.

use core::fmt;

use crate::rlp::{self, Encodable, RlpError, RlpSink};

/// A 256-bit unsigned integer stored as 32 big-endian bytes.
///
/// Ordering and equality are numeric (big-endian bytes compare the same way
/// as the numbers they spell). Only the arithmetic that transaction checks
/// need is provided, all of it checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct U256(pub [u8; 32]);

impl U256 {
    /// 0.
    pub const ZERO: Self = Self([0; 32]);
    /// 2^256 - 1.
    pub const MAX: Self = Self([0xff; 32]);

    /// The value of a `u64`.
    #[must_use]
    pub const fn from_u64(value: u64) -> Self {
        Self::from_u128(value as u128)
    }

    /// The value of a `u128`.
    #[must_use]
    pub const fn from_u128(value: u128) -> Self {
        let mut out = [0u8; 32];
        let bytes = value.to_be_bytes();
        let mut i = 0;
        while i < 16 {
            out[16 + i] = bytes[i];
            i += 1;
        }
        Self(out)
    }

    /// The value of up to 32 big-endian bytes, or `None` if `bytes` is longer
    /// than 32 bytes and the excess is not all zeros.
    #[must_use]
    pub fn from_be_slice(bytes: &[u8]) -> Option<Self> {
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let significant = bytes.get(first..)?;
        let start = 32usize.checked_sub(significant.len())?;
        let mut out = [0u8; 32];
        out.get_mut(start..)?.copy_from_slice(significant);
        Some(Self(out))
    }

    /// The 32 big-endian bytes.
    #[must_use]
    pub const fn to_be_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Whether this is zero.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }

    /// The value as a `u64`, if it fits.
    #[must_use]
    pub fn to_u64(&self) -> Option<u64> {
        let (high, low) = self.0.split_at(24);
        if high.iter().any(|&b| b != 0) {
            return None;
        }
        low.try_into().ok().map(u64::from_be_bytes)
    }

    /// The value as a `u128`, if it fits.
    #[must_use]
    pub fn to_u128(&self) -> Option<u128> {
        let (high, low) = self.0.split_at(16);
        if high.iter().any(|&b| b != 0) {
            return None;
        }
        low.try_into().ok().map(u128::from_be_bytes)
    }

    /// `self + other`, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let sum = u16::from(self.0[i]) + u16::from(other.0[i]) + carry;
            out[i] = sum.to_be_bytes()[1];
            carry = sum >> 8;
        }
        (carry == 0).then_some(Self(out))
    }

    /// `self * factor`, or `None` on overflow.
    #[must_use]
    pub fn checked_mul_u64(self, factor: u64) -> Option<Self> {
        let mut out = [0u8; 32];
        let mut carry = 0u128;
        for i in (0..32).rev() {
            let product = u128::from(self.0[i]) * u128::from(factor) + carry;
            out[i] = product.to_be_bytes()[15];
            carry = product >> 8;
        }
        (carry == 0).then_some(Self(out))
    }

    /// The significant bytes (no leading zeros; empty for zero).
    #[must_use]
    pub fn significant_bytes(&self) -> &[u8] {
        let first = self.0.iter().position(|&b| b != 0).unwrap_or(32);
        self.0.get(first..).unwrap_or(&[])
    }

    /// Reads a canonical RLP integer of at most 32 bytes.
    ///
    /// # Errors
    /// As [`rlp::decode_uint_be`].
    pub fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        rlp::decode_uint_be::<32>(buf).map(Self)
    }
}

impl From<u64> for U256 {
    fn from(value: u64) -> Self {
        Self::from_u64(value)
    }
}

impl From<u128> for U256 {
    fn from(value: u128) -> Self {
        Self::from_u128(value)
    }
}

impl From<[u8; 32]> for U256 {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl Encodable for U256 {
    fn length(&self) -> usize {
        rlp::bytes_length(self.significant_bytes())
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        rlp::encode_bytes(self.significant_bytes(), out);
    }
}

impl fmt::LowerHex for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str("0x")?;
        }
        let digits = self.significant_bytes();
        match digits.split_first() {
            None => f.write_str("0"),
            Some((first, rest)) => {
                write!(f, "{first:x}")?;
                for byte in rest {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:#x}")
    }
}

impl fmt::Display for U256 {
    /// Decimal, by repeated division of a copy (at most 78 digits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 78];
        let mut n = 0;
        let mut value = self.0;
        loop {
            let mut remainder = 0u16;
            for byte in &mut value {
                let current = (remainder << 8) | u16::from(*byte);
                *byte = (current / 10).to_be_bytes()[1];
                remainder = current % 10;
            }
            if let Some(slot) = digits.get_mut(n) {
                *slot = b'0' + remainder.to_be_bytes()[1];
            }
            n += 1;
            if value == [0; 32] || n == digits.len() {
                break;
            }
        }
        let mut text = [0u8; 78];
        for (dst, src) in text.iter_mut().zip(digits[..n].iter().rev()) {
            *dst = *src;
        }
        f.pad_integral(true, "", core::str::from_utf8(&text[..n]).unwrap_or("?"))
    }
}
