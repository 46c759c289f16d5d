//! The Web3 Secret Storage keystore reader over arbitrary bytes.
//!
//! Parsing must never panic, and whatever parses must write back to JSON
//! that parses to the same keystore. Keystores cheap enough to derive (the
//! limits allow costs far too slow for fuzzing) also go through the whole
//! decryption with a fixed password: an error or a key, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::keystore::{KdfParams, Keystore};

/// Derivations at most this costly are run (scrypt `n * r * p`, pbkdf2 `c`).
const MAX_FUZZ_KDF_COST: u64 = 64;

fn cheap(kdf: KdfParams) -> bool {
    match kdf {
        KdfParams::Scrypt { log_n, r, p } => {
            let n = 1u64 << log_n.min(63);
            n.saturating_mul(u64::from(r)).saturating_mul(u64::from(p)) <= MAX_FUZZ_KDF_COST
        }
        KdfParams::Pbkdf2 { c } => u64::from(c) <= MAX_FUZZ_KDF_COST,
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(keystore) = Keystore::from_slice(data) else {
        return;
    };
    let written = keystore.to_json();
    let reread = Keystore::from_json(&written).expect("a written keystore parses");
    assert_eq!(reread, keystore, "write then read changed the keystore");
    if cheap(keystore.kdf()) {
        let _ = keystore.decrypt(b"fuzz");
    }
});
