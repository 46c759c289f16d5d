//! Signed transactions over arbitrary bytes.
//!
//! Whatever `tx::decode_signed` accepts must encode back to the exact input
//! (`encode_signed` with the decoded signature: the decoder takes canonical
//! encodings only, with a range-checked, low-s signature), and
//! `recover_sender` must return an address or an error, never panic. A
//! sender that recovers must be the one the signature's public key gives:
//! re-checked here through `recover_public_key`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::signer::recover_public_key;
use wallet_core::tx;

fuzz_target!(|data: &[u8]| {
    let Ok(signed) = tx::decode_signed(data) else {
        return;
    };
    assert_eq!(signed.raw(), data);
    let tx = signed.transaction();
    let signature = signed.signature();
    let len = tx
        .encoded_signed_len(&signature)
        .expect("a decoded transaction encodes");
    let mut out = vec![0u8; len];
    assert_eq!(tx.encode_signed(&signature, &mut out), Ok(len));
    assert_eq!(out, data, "decode then encode changed the transaction");
    let _ = signed.hash();
    // The legacy chain-id rule applies to decoding already: a decoded
    // transaction always has a signing hash.
    let hash = tx.signature_hash().expect("a decoded transaction hashes");
    match signed.recover_sender() {
        Ok(sender) => {
            let public = recover_public_key(&hash, &signature).expect("recovered once");
            assert_eq!(public.address(), sender);
        }
        Err(_) => assert!(recover_public_key(&hash, &signature).is_err()),
    }
});
