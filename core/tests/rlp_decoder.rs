//! Each malformation the RLP decoder must refuse, with its own error, and the
//! encoder's edge cases.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use wallet_core::rlp::{
    self, decode_address, decode_bytes, decode_fixed, decode_list, decode_u64, decode_u8,
    encode_to_slice, Encodable, Header, Item, LengthCounter, RlpError, SliceSink,
};
use wallet_core::signer::Address;

fn whole<'a, T>(
    bytes: &'a [u8],
    decode: impl FnOnce(&mut &'a [u8]) -> Result<T, RlpError>,
) -> Result<T, RlpError> {
    let mut cursor = bytes;
    let value = decode(&mut cursor)?;
    rlp::expect_end(cursor)?;
    Ok(value)
}

#[test]
fn leading_zero_in_integer() {
    // Zero must be 0x80, never the byte 0x00.
    assert_eq!(whole(&[0x00], decode_u64), Err(RlpError::LeadingZero));
    assert_eq!(
        whole(&[0x82, 0x00, 0x01], decode_u64),
        Err(RlpError::LeadingZero)
    );
    assert_eq!(whole(&[0x80], decode_u64), Ok(0));
    assert_eq!(whole(&[0x82, 0x01, 0x00], decode_u64), Ok(256));
    // Byte strings may start with zero; only integers may not.
    assert_eq!(whole(&[0x82, 0x00, 0x01], decode_bytes), Ok(&[0u8, 1][..]));
}

#[test]
fn non_canonical_single_byte() {
    for b in [0x00u8, 0x01, 0x7f] {
        assert_eq!(
            whole(&[0x81, b], decode_bytes),
            Err(RlpError::NonCanonicalSingleByte)
        );
        assert_eq!(whole(&[b], decode_bytes), Ok(&[b][..]));
    }
    assert_eq!(whole(&[0x81, 0x80], decode_bytes), Ok(&[0x80u8][..]));
}

#[test]
fn non_canonical_lengths() {
    // Long form for a 5-byte string.
    let mut long_form = vec![0xb8, 0x05];
    long_form.extend_from_slice(&[1; 5]);
    assert_eq!(
        whole(&long_form, decode_bytes),
        Err(RlpError::NonCanonicalLength)
    );
    // Leading zero in the length of a 64-byte string.
    let mut padded = vec![0xb9, 0x00, 0x40];
    padded.extend_from_slice(&[1; 64]);
    assert_eq!(
        whole(&padded, decode_bytes),
        Err(RlpError::NonCanonicalLength)
    );
    // The same for lists.
    assert_eq!(
        whole(&[0xf8, 0x01, 0x80], decode_list),
        Err(RlpError::NonCanonicalLength)
    );
    let mut list = vec![0xf9, 0x00, 0x38];
    list.extend_from_slice(&[0x80; 56]);
    assert_eq!(whole(&list, decode_list), Err(RlpError::NonCanonicalLength));
    // The canonical long form of 56 bytes is accepted.
    let mut ok = vec![0xb8, 56];
    ok.extend_from_slice(&[7; 56]);
    assert_eq!(whole(&ok, decode_bytes).unwrap().len(), 56);
}

#[test]
fn input_too_short() {
    assert_eq!(whole(&[], decode_bytes), Err(RlpError::InputTooShort));
    assert_eq!(
        whole(&[0x83, 1, 2], decode_bytes),
        Err(RlpError::InputTooShort)
    );
    assert_eq!(
        whole(&[0xb9, 0x01], decode_bytes),
        Err(RlpError::InputTooShort)
    );
    assert_eq!(
        whole(&[0xc2, 0x80], decode_list),
        Err(RlpError::InputTooShort)
    );
    // A length of 2^63: must fail cleanly, not allocate or overflow.
    let huge = [0xbf, 0x80, 0, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(whole(&huge, decode_bytes), Err(RlpError::InputTooShort));
}

#[test]
fn trailing_bytes() {
    assert_eq!(
        whole(&[0x80, 0x80], decode_bytes),
        Err(RlpError::TrailingBytes)
    );
    assert_eq!(
        whole(&[0xc0, 0x00], decode_list),
        Err(RlpError::TrailingBytes)
    );
}

#[test]
fn list_and_string_mismatch() {
    assert_eq!(whole(&[0xc0], decode_bytes), Err(RlpError::UnexpectedList));
    assert_eq!(whole(&[0xc0], decode_u64), Err(RlpError::UnexpectedList));
    assert_eq!(whole(&[0x80], decode_list), Err(RlpError::UnexpectedString));
    assert_eq!(whole(&[0x05], decode_list), Err(RlpError::UnexpectedString));
}

#[test]
fn integer_overflow() {
    let nine = [0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(whole(&nine, decode_u64), Err(RlpError::IntegerOverflow));
    assert_eq!(
        whole(&[0x82, 1, 0], decode_u8),
        Err(RlpError::IntegerOverflow)
    );
    let max = [0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(whole(&max, decode_u64), Ok(u64::MAX));
}

#[test]
fn fixed_length_strings() {
    let mut nineteen = vec![0x93];
    nineteen.extend_from_slice(&[0x11; 19]);
    assert_eq!(
        whole(&nineteen, decode_address),
        Err(RlpError::UnexpectedLength)
    );
    let mut twenty = vec![0x94];
    twenty.extend_from_slice(&[0x11; 20]);
    assert_eq!(whole(&twenty, decode_address), Ok(Address([0x11; 20])));
    assert_eq!(
        whole(&[0x80], decode_fixed::<32>),
        Err(RlpError::UnexpectedLength)
    );
}

#[test]
fn headers_and_items() {
    let mut cursor: &[u8] = &[0xc2, 0x01, 0x80, 0x42];
    assert_eq!(
        Header::decode(&mut cursor).unwrap(),
        Header {
            list: true,
            payload_length: 2
        }
    );
    assert_eq!(cursor, &[0x01, 0x80, 0x42]);
    let mut cursor: &[u8] = &[0xc2, 0x01, 0x80, 0x42];
    assert_eq!(
        Item::decode(&mut cursor).unwrap(),
        Item::List(&[0x01, 0x80])
    );
    assert_eq!(Item::decode(&mut cursor).unwrap(), Item::Bytes(&[0x42]));
    assert!(cursor.is_empty());

    for (payload_length, header) in [
        (0usize, vec![0x80u8]),
        (55, vec![0xb7]),
        (56, vec![0xb8, 56]),
        (255, vec![0xb8, 0xff]),
        (256, vec![0xb9, 0x01, 0x00]),
        (0x0102_0304, vec![0xbb, 1, 2, 3, 4]),
    ] {
        let h = Header {
            list: false,
            payload_length,
        };
        let mut out = [0u8; 9];
        let mut sink = SliceSink::new(&mut out);
        h.encode(&mut sink);
        let n = sink.finish().unwrap();
        assert_eq!(&out[..n], &header[..], "{payload_length}");
        assert_eq!(h.length(), header.len());
    }
}

#[test]
fn encoder_writes_nothing_when_the_buffer_is_short() {
    let data = [0xabu8; 60];
    assert_eq!(data[..].length(), 62);
    let mut small = [0u8; 61];
    assert_eq!(
        encode_to_slice(&data[..], &mut small),
        Err(RlpError::BufferTooSmall)
    );
    assert!(small.iter().all(|&b| b == 0));
    let mut exact = [0u8; 62];
    assert_eq!(encode_to_slice(&data[..], &mut exact), Ok(62));

    // A sink that overflows midway reports it instead of panicking.
    let mut tiny = [0u8; 3];
    let mut sink = SliceSink::new(&mut tiny);
    data[..].encode(&mut sink);
    assert_eq!(sink.finish(), Err(RlpError::BufferTooSmall));

    let mut counter = LengthCounter::default();
    data[..].encode(&mut counter);
    assert_eq!(counter.0, 62);
}

#[test]
fn integers_and_bools() {
    for (value, expected) in [
        (0u64, vec![0x80u8]),
        (1, vec![0x01]),
        (0x7f, vec![0x7f]),
        (0x80, vec![0x81, 0x80]),
        (0x0400, vec![0x82, 0x04, 0x00]),
        (
            u64::MAX,
            vec![0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
    ] {
        let mut out = [0u8; 9];
        let n = encode_to_slice(&value, &mut out).unwrap();
        assert_eq!(&out[..n], &expected[..], "{value}");
        assert_eq!(value.length(), n);
    }
    let mut out = [0u8; 1];
    encode_to_slice(&true, &mut out).unwrap();
    assert_eq!(out, [0x01]);
    encode_to_slice(&false, &mut out).unwrap();
    assert_eq!(out, [0x80]);
}

#[test]
fn error_messages_are_specific() {
    let all = [
        RlpError::InputTooShort,
        RlpError::LeadingZero,
        RlpError::NonCanonicalSingleByte,
        RlpError::NonCanonicalLength,
        RlpError::LengthOverflow,
        RlpError::TrailingBytes,
        RlpError::UnexpectedList,
        RlpError::UnexpectedString,
        RlpError::IntegerOverflow,
        RlpError::UnexpectedLength,
        RlpError::BufferTooSmall,
    ];
    let messages: std::collections::BTreeSet<String> =
        all.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), all.len(), "every error has its own message");
}
