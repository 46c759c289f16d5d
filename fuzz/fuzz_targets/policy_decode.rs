//! The policy module's decoders over arbitrary bytes.
//!
//! The first byte picks the decoder (its value mod 3) and, for the spend
//! ledger, whether its SHA-256 trailer is recomputed before decoding (bit 7;
//! random mutations almost never keep a digest):
//! - `Policy::decode`: an accepted version 2 encoding encodes back to
//!   itself (the decoder accepts exactly what `encode` writes), an accepted
//!   version 1 encoding encodes to its version 2 form (version 2, and the
//!   `allow_raw_hashes` byte the old rule gives: set unless
//!   `typed_data_domains` is), `to_bytes` and `hash` agree with it, and the
//!   decoded policy checks a legacy, an EIP-1559 and
//!   an EIP-7702 transaction, a message and a typed-data hash without
//!   panicking;
//! - `ledger::SpendLedger::decode` for a fixed address: an accepted version 2
//!   ledger encodes back to itself (a version 1 ledger to a version 2 one
//!   that decodes to the same ledger), and `spent`, `record` and `prune` do
//!   not panic (`ledger_decode` goes further into the ledger);
//! - `audit::parse_log`: an accepted log is exactly its entries written
//!   again with `to_line` (the log has one form), and that parses to the
//!   same entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use wallet_core::policy::audit::parse_log;
use wallet_core::policy::ledger::{Asset, SpendLedger};
use wallet_core::policy::Policy;
use wallet_core::tx::{self, U256};
use wallet_fuzz_support::LEDGER_OWNER;

/// Signing payloads written by eth-account 0.14 (legacy EIP-155, EIP-1559
/// with an access list, EIP-7702 with one authorization), chain 14.
const PAYLOADS: [&str; 3] = [
    "ea07843b9aca00830186a094353535353535353535353535353535353535353582303984deadbeef0e8080",
    "02f8670e07843b9aca008477359400830186a094353535353535353535353535353535353535353582303984deadbeeff838f7943535353535353535353535353535353535353535e1a00101010101010101010101010101010101010101010101010101010101010101",
    "04f88c0e07843b9aca008477359400830186a094353535353535353535353535353535353535353582303984deadbeefc0f85cf85a0e9435353535353535353535353535353535353535350880a0873c68b75b3ffdb3b738bad4805a817c459eb09367fe454db918d35078969a46a05020c5a643b9b73f6eadca227e9cb1ab98acba3b2e71fbeb62f2c6af36078e65",
];

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex constant"))
        .collect()
}

fn policy(bytes: &[u8]) {
    let Ok(policy) = Policy::decode(bytes) else {
        return;
    };
    let mut canonical = bytes.to_vec();
    if bytes.get(8..10) == Some(&1u16.to_be_bytes()[..]) {
        assert_eq!(
            policy.allow_raw_hashes(),
            policy.typed_data_domains().is_none()
        );
        canonical[9] = 2;
        canonical.push(u8::from(policy.allow_raw_hashes()));
    }
    let mut out = vec![0u8; policy.encoded_len()];
    assert_eq!(policy.encode(&mut out), Ok(canonical.len()));
    assert_eq!(out, canonical, "decode then encode changed the policy");
    assert_eq!(policy.to_bytes().as_slice(), canonical.as_slice());
    assert_eq!(policy.hash(), <[u8; 32]>::from(Sha256::digest(&canonical)));
    for payload in PAYLOADS {
        let payload = unhex(payload);
        let tx = tx::decode_unsigned(&payload).expect("a valid payload");
        let _ = policy.check_transaction(&tx);
    }
    let _ = policy.check_message();
    let _ = policy.check_typed_data_hash();
}

fn ledger(mut bytes: Vec<u8>, fix_digest: bool) {
    if fix_digest {
        if let Some(body_len) = bytes.len().checked_sub(32) {
            let digest = Sha256::digest(&bytes[..body_len]);
            bytes[body_len..].copy_from_slice(&digest);
        }
    }
    let Ok(mut ledger) = SpendLedger::decode(&bytes, &LEDGER_OWNER) else {
        return;
    };
    let encoded = ledger.encode();
    if bytes.get(8..10) == Some(&[0, 1][..]) {
        // Version 1 is written back as version 2, which decodes to the same ledger.
        assert_eq!(
            SpendLedger::decode(&encoded, &LEDGER_OWNER).ok(),
            Some(ledger.clone()),
            "a version 1 ledger changed when written as version 2"
        );
    } else {
        assert_eq!(encoded, bytes, "decode then encode changed the ledger");
    }
    assert_eq!(ledger.address(), LEDGER_OWNER);
    let now = ledger.entries().last().map_or(0, |e| e.time);
    let _ = ledger.spent(None, Asset::Eth, now);
    let _ = ledger.spent(Some(14), Asset::Eth, now.saturating_add(86_400));
    let _ = ledger.record(Some(14), Asset::Eth, U256::MAX, now);
    ledger.prune(now.saturating_add(1));
}

fn audit_log(bytes: &[u8]) {
    let Ok(entries) = parse_log(bytes) else {
        return;
    };
    let written: String = entries.iter().map(|e| e.to_line()).collect();
    assert_eq!(
        written.as_bytes(),
        bytes,
        "parse then write changed the audit log"
    );
    assert_eq!(parse_log(written.as_bytes()), Ok(entries.clone()));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => policy(rest),
        1 => ledger(rest.to_vec(), mode & 0x80 != 0),
        _ => audit_log(rest),
    }
});
