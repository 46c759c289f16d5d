//! The sealed-data blob behind `encrypt_data` / `decrypt_data` over
//! arbitrary bytes. The first byte picks what the rest is (its low bit):
//! - even: a blob for `SealedDataBlob::parse`. An accepted blob is exactly
//!   its fields written again by hand (the format has one form), and
//!   opening it with [`SEALED_DATA_KEY`] either fails authentication or
//!   gives data that, encrypted again with the same key and IV beside the
//!   same sealed-key parts, is the blob byte for byte;
//! - odd: an IV (16 bytes), a tamper position (2 bytes), then data. The
//!   data is encrypted with [`SEALED_DATA_KEY`] beside fixed sealed-key
//!   parts: the blob parses to those fields, opens to the data, does not
//!   open under another key, and with one bit flipped, cut short or
//!   lengthened it is refused (a flip that still parses fails
//!   authentication).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::sealed_data::{
    encrypt_with_data_key, SealedDataBlob, SealedDataError, IV_LEN, MAGIC, VERSION,
};
use wallet_fuzz_support::{SEALED_DATA_KEY, SEALED_DATA_PARTS};

/// The blob's fields written again, independently of the core's writer.
fn reassemble(blob: &SealedDataBlob<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    for field in [blob.srk_name(), blob.public_blob(), blob.private_blob()] {
        out.extend_from_slice(&u16::try_from(field.len()).expect("bounded").to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(blob.iv());
    let ciphertext_len = u32::try_from(blob.ciphertext().len()).expect("bounded");
    out.extend_from_slice(&ciphertext_len.to_be_bytes());
    out.extend_from_slice(blob.ciphertext());
    out.extend_from_slice(blob.tag());
    out
}

fn decode(bytes: &[u8]) {
    let Ok(blob) = SealedDataBlob::parse(bytes) else {
        return;
    };
    assert_eq!(
        reassemble(&blob),
        bytes,
        "parse then write changed the blob"
    );
    match blob.open(&SEALED_DATA_KEY) {
        Ok(data) => {
            let again = encrypt_with_data_key(
                &SEALED_DATA_KEY,
                blob.iv(),
                blob.srk_name(),
                blob.public_blob(),
                blob.private_blob(),
                &data,
            )
            .expect("an opened blob's fields are in bounds");
            assert_eq!(again, bytes, "open then encrypt changed the blob");
        }
        Err(error) => assert_eq!(error, SealedDataError::AuthenticationFailed),
    }
}

fn round_trip(bytes: &[u8]) {
    if bytes.len() < IV_LEN + 2 {
        return;
    }
    let (iv, rest) = bytes.split_at(IV_LEN);
    let iv: &[u8; IV_LEN] = iv.try_into().expect("IV_LEN bytes");
    let (position, data) = rest.split_at(2);
    let position = usize::from(u16::from_be_bytes([position[0], position[1]]));
    let (srk_name, public, private) = SEALED_DATA_PARTS;
    let blob = encrypt_with_data_key(&SEALED_DATA_KEY, iv, srk_name, public, private, data)
        .expect("fuzz data is far below the size limit");

    let parsed = SealedDataBlob::parse(&blob).expect("a written blob parses");
    assert_eq!(parsed.srk_name(), srk_name);
    assert_eq!(parsed.public_blob(), public);
    assert_eq!(parsed.private_blob(), private);
    assert_eq!(parsed.iv(), iv);
    assert_eq!(parsed.ciphertext().len(), data.len());
    assert_eq!(reassemble(&parsed), blob);
    assert_eq!(
        &parsed
            .open(&SEALED_DATA_KEY)
            .expect("the right key opens it")[..],
        data
    );
    let mut other_key = SEALED_DATA_KEY;
    other_key[position % other_key.len()] ^= 1 << (position % 8);
    assert_eq!(
        parsed.open(&other_key),
        Err(SealedDataError::AuthenticationFailed)
    );

    let mut flipped = blob.clone();
    flipped[position % blob.len()] ^= 1 << (position % 8);
    if let Ok(altered) = SealedDataBlob::parse(&flipped) {
        assert_eq!(
            altered.open(&SEALED_DATA_KEY),
            Err(SealedDataError::AuthenticationFailed),
            "a flipped bit at {} was not noticed",
            position % blob.len()
        );
    }
    assert!(SealedDataBlob::parse(&blob[..position % blob.len()]).is_err());
    let mut longer = blob.clone();
    longer.push(data.first().copied().unwrap_or(0));
    assert_eq!(
        SealedDataBlob::parse(&longer),
        Err(SealedDataError::TrailingBytes)
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        decode(rest);
    } else {
        round_trip(rest);
    }
});
