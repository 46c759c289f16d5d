//! Recursive Length Prefix: canonical encoding and a strict decoder.
//!
//! Encoding works in two passes that never allocate: [`Encodable::length`]
//! gives the exact size first (so headers can be written before their
//! payload), then [`Encodable::encode`] writes the bytes into any
//! [`RlpSink`]: a caller's buffer through [`SliceSink`], or straight into a
//! [`Keccak256`] so that a signing payload is hashed without being stored.
//!
//! Decoding reads from a `&mut &[u8]` cursor and accepts only the canonical
//! form (Ethereum Yellow Paper, Appendix B). Every deviation has its own
//! [`RlpError`]: a leading zero in an integer, a single byte below 0x80 wrapped
//! in a string header, a long-form length where the short form fits or a length
//! with leading zeros, a length running past the end of the input, trailing
//! bytes, a list where a string is expected (or the reverse), and an integer
//! wider than its target type. Nothing panics and nothing allocates.

use core::fmt;

use crate::keccak::Keccak256;
use crate::signer::Address;

/// What is wrong with an RLP input, or why an encoding could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RlpError {
    /// The input ends before the header or payload it announces.
    InputTooShort,
    /// An integer is encoded with a leading zero byte (including `0x00` for zero).
    LeadingZero,
    /// A single byte below 0x80 is wrapped in a string header (`0x81 0x00..0x7f`).
    NonCanonicalSingleByte,
    /// A length uses the long form where the short form fits, or has leading zeros.
    NonCanonicalLength,
    /// A length does not fit in this machine's `usize`.
    LengthOverflow,
    /// Bytes remain after the item that should have been the whole input.
    TrailingBytes,
    /// A list was found where a string was expected.
    UnexpectedList,
    /// A string was found where a list was expected.
    UnexpectedString,
    /// An integer is wider than the type it is decoded into.
    IntegerOverflow,
    /// A fixed-size string (an address, a hash) has the wrong length.
    UnexpectedLength,
    /// The output buffer is smaller than the encoding.
    BufferTooSmall,
}

impl fmt::Display for RlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InputTooShort => "RLP input ends before the announced item",
            Self::LeadingZero => "RLP integer has a leading zero byte",
            Self::NonCanonicalSingleByte => "RLP single byte below 0x80 has a string header",
            Self::NonCanonicalLength => "RLP length is not in its shortest form",
            Self::LengthOverflow => "RLP length does not fit in memory",
            Self::TrailingBytes => "RLP input has bytes after the item",
            Self::UnexpectedList => "RLP list where a string was expected",
            Self::UnexpectedString => "RLP string where a list was expected",
            Self::IntegerOverflow => "RLP integer is too large for its field",
            Self::UnexpectedLength => "RLP string has the wrong length for its field",
            Self::BufferTooSmall => "output buffer is too small for the RLP encoding",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RlpError {}

/// Where encoded bytes go. Writes cannot fail: a bounded sink records that it
/// ran out of room and reports it when finished.
pub trait RlpSink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl RlpSink for Keccak256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// A sink over a caller's buffer that never writes past its end.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    written: usize,
    overflowed: bool,
}

impl<'a> SliceSink<'a> {
    /// A sink that fills `buf` from the start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            written: 0,
            overflowed: false,
        }
    }

    /// How many bytes have been written.
    #[must_use]
    pub fn written(&self) -> usize {
        self.written
    }

    /// The number of bytes written.
    ///
    /// # Errors
    /// [`RlpError::BufferTooSmall`] if any write did not fit; the buffer then
    /// holds an incomplete encoding that must not be used.
    pub fn finish(self) -> Result<usize, RlpError> {
        if self.overflowed {
            Err(RlpError::BufferTooSmall)
        } else {
            Ok(self.written)
        }
    }
}

impl RlpSink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if self.overflowed {
            return;
        }
        let end = self.written.checked_add(bytes.len());
        match end.and_then(|end| self.buf.get_mut(self.written..end)) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.written += bytes.len();
            }
            None => self.overflowed = true,
        }
    }
}

/// A sink that only counts, for checking lengths.
#[derive(Debug, Default, Clone, Copy)]
pub struct LengthCounter(pub usize);

impl RlpSink for LengthCounter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

/// A value with a canonical RLP encoding.
pub trait Encodable {
    /// The exact number of bytes [`Encodable::encode`] writes.
    fn length(&self) -> usize;
    /// Writes the encoding.
    fn encode(&self, out: &mut dyn RlpSink);
}

/// Encodes `value` into the start of `out`.
///
/// # Errors
/// [`RlpError::BufferTooSmall`] if `out` is shorter than `value.length()`;
/// nothing is written then.
pub fn encode_to_slice<E: Encodable + ?Sized>(
    value: &E,
    out: &mut [u8],
) -> Result<usize, RlpError> {
    if value.length() > out.len() {
        return Err(RlpError::BufferTooSmall);
    }
    let mut sink = SliceSink::new(out);
    value.encode(&mut sink);
    sink.finish()
}

/// The number of big-endian bytes needed for `len` (0 for 0).
fn be_len(len: usize) -> usize {
    (usize::BITS as usize - len.leading_zeros() as usize).div_ceil(8)
}

/// An RLP item header: whether the item is a list, and its payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// A list (`0xc0..`) rather than a string (`0x80..`).
    pub list: bool,
    /// The payload length in bytes.
    pub payload_length: usize,
}

impl Header {
    /// The header's own encoded length.
    #[must_use]
    pub fn length(&self) -> usize {
        if self.payload_length < 56 {
            1
        } else {
            1 + be_len(self.payload_length)
        }
    }

    /// The header plus its payload.
    #[must_use]
    pub fn length_with_payload(&self) -> usize {
        self.length().saturating_add(self.payload_length)
    }

    /// Writes the header.
    ///
    /// A string of a single byte below 0x80 has no header at all; that case
    /// belongs to [`encode_bytes`], not here.
    pub fn encode(&self, out: &mut dyn RlpSink) {
        let short_base = if self.list { 0xc0 } else { 0x80 };
        if self.payload_length < 56 {
            // Below 56, the cast cannot truncate.
            out.put(&[short_base + self.payload_length as u8]);
        } else {
            let len_bytes = self.payload_length.to_be_bytes();
            let n = be_len(self.payload_length);
            let start = len_bytes.len() - n;
            // n is at most size_of::<usize>() <= 8, so the cast cannot truncate.
            out.put(&[short_base + 55 + n as u8]);
            out.put(&len_bytes[start..]);
        }
    }

    /// Reads a header and moves `buf` to the start of its payload, checking
    /// that the whole payload is present.
    ///
    /// # Errors
    /// [`RlpError::InputTooShort`], [`RlpError::NonCanonicalSingleByte`],
    /// [`RlpError::NonCanonicalLength`] or [`RlpError::LengthOverflow`].
    pub fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let (&prefix, rest) = buf.split_first().ok_or(RlpError::InputTooShort)?;
        let header = match prefix {
            // A single byte is its own encoding: the "payload" is the prefix itself.
            0x00..=0x7f => {
                return Ok(Self {
                    list: false,
                    payload_length: 1,
                })
            }
            0x80..=0xb7 => {
                let payload_length = usize::from(prefix - 0x80);
                if payload_length == 1 {
                    match rest.first() {
                        Some(&b) if b < 0x80 => return Err(RlpError::NonCanonicalSingleByte),
                        _ => {}
                    }
                }
                *buf = rest;
                Self {
                    list: false,
                    payload_length,
                }
            }
            0xc0..=0xf7 => {
                *buf = rest;
                Self {
                    list: true,
                    payload_length: usize::from(prefix - 0xc0),
                }
            }
            0xb8..=0xbf | 0xf8..=0xff => {
                let list = prefix >= 0xf8;
                let len_of_len = usize::from(prefix - if list { 0xf7 } else { 0xb7 });
                let (len_bytes, after) = split_at_checked(rest, len_of_len)?;
                if len_bytes.first() == Some(&0) {
                    return Err(RlpError::NonCanonicalLength);
                }
                if len_of_len > core::mem::size_of::<usize>() {
                    return Err(RlpError::LengthOverflow);
                }
                let payload_length = len_bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                if payload_length < 56 {
                    return Err(RlpError::NonCanonicalLength);
                }
                *buf = after;
                Self {
                    list,
                    payload_length,
                }
            }
        };
        if header.payload_length > buf.len() {
            return Err(RlpError::InputTooShort);
        }
        Ok(header)
    }
}

fn split_at_checked(buf: &[u8], mid: usize) -> Result<(&[u8], &[u8]), RlpError> {
    if mid > buf.len() {
        Err(RlpError::InputTooShort)
    } else {
        Ok(buf.split_at(mid))
    }
}

/// One RLP item, not yet interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A string's payload.
    Bytes(&'a [u8]),
    /// A list's payload: the concatenated encodings of its elements.
    List(&'a [u8]),
}

impl<'a> Item<'a> {
    /// Reads one item (header checked, payload not descended into).
    ///
    /// # Errors
    /// As [`Header::decode`].
    pub fn decode(buf: &mut &'a [u8]) -> Result<Self, RlpError> {
        let header = Header::decode(buf)?;
        let (payload, rest) = split_at_checked(buf, header.payload_length)?;
        *buf = rest;
        Ok(if header.list {
            Self::List(payload)
        } else {
            Self::Bytes(payload)
        })
    }
}

/// Reads a string and returns its payload.
///
/// # Errors
/// [`RlpError::UnexpectedList`] for a list, or as [`Header::decode`].
pub fn decode_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], RlpError> {
    match Item::decode(buf)? {
        Item::Bytes(payload) => Ok(payload),
        Item::List(_) => Err(RlpError::UnexpectedList),
    }
}

/// Reads a list and returns its payload (the encodings of its elements).
///
/// # Errors
/// [`RlpError::UnexpectedString`] for a string, or as [`Header::decode`].
pub fn decode_list<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], RlpError> {
    match Item::decode(buf)? {
        Item::List(payload) => Ok(payload),
        Item::Bytes(_) => Err(RlpError::UnexpectedString),
    }
}

/// Reads a string of exactly `N` bytes (an address, a hash).
///
/// # Errors
/// [`RlpError::UnexpectedLength`] for any other length, or as [`decode_bytes`].
pub fn decode_fixed<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], RlpError> {
    decode_bytes(buf)?
        .try_into()
        .map_err(|_| RlpError::UnexpectedLength)
}

/// Reads an unsigned integer of at most `N` bytes into `N` big-endian bytes.
///
/// # Errors
/// [`RlpError::LeadingZero`] if the minimal form is not used,
/// [`RlpError::IntegerOverflow`] if it is wider than `N` bytes, or as
/// [`decode_bytes`].
pub fn decode_uint_be<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], RlpError> {
    let payload = decode_bytes(buf)?;
    if payload.first() == Some(&0) {
        return Err(RlpError::LeadingZero);
    }
    let mut out = [0u8; N];
    let start = N
        .checked_sub(payload.len())
        .ok_or(RlpError::IntegerOverflow)?;
    out[start..].copy_from_slice(payload);
    Ok(out)
}

/// Reads a `u64`.
///
/// # Errors
/// As [`decode_uint_be`].
pub fn decode_u64(buf: &mut &[u8]) -> Result<u64, RlpError> {
    decode_uint_be::<8>(buf).map(u64::from_be_bytes)
}

/// Reads a `u128`.
///
/// # Errors
/// As [`decode_uint_be`].
pub fn decode_u128(buf: &mut &[u8]) -> Result<u128, RlpError> {
    decode_uint_be::<16>(buf).map(u128::from_be_bytes)
}

/// Reads a `u8`.
///
/// # Errors
/// As [`decode_uint_be`].
pub fn decode_u8(buf: &mut &[u8]) -> Result<u8, RlpError> {
    decode_uint_be::<1>(buf).map(|[b]| b)
}

/// Reads a 20-byte address.
///
/// # Errors
/// As [`decode_fixed`].
pub fn decode_address(buf: &mut &[u8]) -> Result<Address, RlpError> {
    decode_fixed::<20>(buf).map(Address)
}

/// Checks that `buf` has been consumed entirely.
///
/// # Errors
/// [`RlpError::TrailingBytes`] otherwise.
pub fn expect_end(buf: &[u8]) -> Result<(), RlpError> {
    if buf.is_empty() {
        Ok(())
    } else {
        Err(RlpError::TrailingBytes)
    }
}

/// The encoded length of the string `bytes`.
#[must_use]
pub fn bytes_length(bytes: &[u8]) -> usize {
    match bytes {
        [b] if *b < 0x80 => 1,
        _ => Header {
            list: false,
            payload_length: bytes.len(),
        }
        .length_with_payload(),
    }
}

/// Writes `bytes` as an RLP string.
pub fn encode_bytes(bytes: &[u8], out: &mut dyn RlpSink) {
    match bytes {
        [b] if *b < 0x80 => out.put(bytes),
        _ => {
            Header {
                list: false,
                payload_length: bytes.len(),
            }
            .encode(out);
            out.put(bytes);
        }
    }
}

fn strip_leading_zeros(be: &[u8]) -> &[u8] {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    be.get(first..).unwrap_or(&[])
}

/// The encoded length of the unsigned big-endian integer `be` (leading zeros ignored).
#[must_use]
pub fn uint_be_length(be: &[u8]) -> usize {
    bytes_length(strip_leading_zeros(be))
}

/// Writes the unsigned big-endian integer `be` in minimal form (leading zeros
/// dropped; zero is the empty string `0x80`).
pub fn encode_uint_be(be: &[u8], out: &mut dyn RlpSink) {
    encode_bytes(strip_leading_zeros(be), out);
}

/// The encoded length of a list header for `payload_length` bytes of elements.
#[must_use]
pub fn list_header_length(payload_length: usize) -> usize {
    Header {
        list: true,
        payload_length,
    }
    .length()
}

/// Writes a list header for `payload_length` bytes of elements.
pub fn encode_list_header(payload_length: usize, out: &mut dyn RlpSink) {
    Header {
        list: true,
        payload_length,
    }
    .encode(out);
}

macro_rules! impl_uint {
    ($($t:ty),*) => {$(
        impl Encodable for $t {
            fn length(&self) -> usize {
                uint_be_length(&self.to_be_bytes())
            }
            fn encode(&self, out: &mut dyn RlpSink) {
                encode_uint_be(&self.to_be_bytes(), out);
            }
        }
    )*};
}

impl_uint!(u8, u16, u32, u64, u128, usize);

impl Encodable for bool {
    fn length(&self) -> usize {
        1
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        out.put(&[if *self { 0x01 } else { 0x80 }]);
    }
}

impl Encodable for [u8] {
    fn length(&self) -> usize {
        bytes_length(self)
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        encode_bytes(self, out);
    }
}

impl<const N: usize> Encodable for [u8; N] {
    fn length(&self) -> usize {
        bytes_length(self)
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        encode_bytes(self, out);
    }
}

impl Encodable for Address {
    fn length(&self) -> usize {
        21
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        encode_bytes(&self.0, out);
    }
}

impl<T: Encodable + ?Sized> Encodable for &T {
    fn length(&self) -> usize {
        (**self).length()
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        (**self).encode(out);
    }
}

/// A list of encodable elements, encoded as an RLP list.
///
/// Useful for tests and small fixed structures; transaction types encode
/// their fields directly.
#[derive(Debug, Clone, Copy)]
pub struct List<'a, T>(pub &'a [T]);

impl<T: Encodable> List<'_, T> {
    fn payload_length(&self) -> usize {
        self.0
            .iter()
            .fold(0usize, |acc, item| acc.saturating_add(item.length()))
    }
}

impl<T: Encodable> Encodable for List<'_, T> {
    fn length(&self) -> usize {
        let payload = self.payload_length();
        list_header_length(payload).saturating_add(payload)
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        encode_list_header(self.payload_length(), out);
        for item in self.0 {
            item.encode(out);
        }
    }
}
