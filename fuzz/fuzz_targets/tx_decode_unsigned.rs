//! Unsigned signing payloads over arbitrary bytes, through the whole signer.
//!
//! Whatever `tx::decode_unsigned` accepts must: encode back to the exact
//! input (`encode_for_signing`: the decoder takes canonical payloads only),
//! sign with a fixed key, encode signed, decode again with `decode_signed`
//! to the same transaction, and recover to the key's address.
//!
//! The only payloads that decode but are not signed are those the signer
//! refuses by its chain-id rule (chain id 0, or above the EIP-2294 maximum,
//! for an EIP-155 legacy payload or a typed one): the decoder reads any
//! `u64`, the signer applies the rule.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::signer::SecretKey;
use wallet_core::tx::{self, TxError};

/// A fixed signing key (any valid scalar).
const KEY: [u8; 32] = [0x4c; 32];

/// A `Vec` sink for the re-encoded payload.
struct VecSink(Vec<u8>);

impl wallet_core::rlp::RlpSink for VecSink {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = tx::decode_unsigned(data) else {
        return;
    };
    let mut again = VecSink(Vec::new());
    match tx.encode_for_signing(&mut again) {
        Ok(()) => assert_eq!(again.0, data, "decode then encode changed the payload"),
        Err(TxError::ChainIdZero | TxError::ChainIdTooLarge) => return,
        Err(e) => panic!("a decoded payload does not encode: {e}"),
    }
    assert_eq!(tx.signing_payload_length(), data.len());

    let key = SecretKey::from_bytes(&KEY).expect("a valid scalar");
    let signature = tx.sign(&key).expect("an encodable payload signs");
    let len = tx
        .encoded_signed_len(&signature)
        .expect("our own signature is valid");
    let mut out = vec![0u8; len];
    assert_eq!(tx.encode_signed(&signature, &mut out), Ok(len));
    let signed = tx::decode_signed(&out).expect("our signed encoding decodes");
    assert_eq!(
        signed.transaction(),
        &tx,
        "signed decode changed the fields"
    );
    assert_eq!(signed.signature(), signature);
    assert_eq!(signed.recover_sender(), Ok(key.address()));
    // A one-byte-short buffer is refused, with the length that was needed.
    if let Some(short) = len.checked_sub(1) {
        assert_eq!(
            tx.encode_signed(&signature, &mut out[..short]),
            Err(TxError::BufferTooSmall { needed: len })
        );
    }
});
