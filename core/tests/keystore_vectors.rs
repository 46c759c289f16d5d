//! The ethereum/tests `KeyStoreTests/basic_tests.json` suite (copied into
//! `tests/vectors/keystore`, see the README there): every keystore decrypts
//! with its password to its `priv`, a wrong password is refused, and the
//! parsed form survives a write and re-read unchanged.
//!
//! The suite runs the KDFs at full cost (pbkdf2 c=262144, scrypt n=2^18
//! r=1 p=8); the root `Cargo.toml` optimises those crates in test builds.
#![cfg(feature = "std")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use secp256k1::{PublicKey, Secp256k1};
use serde_json::Value;
use wallet_core::keccak::keccak256;
use wallet_core::keystore::{self, KdfParams, Keystore, KeystoreError};

fn vectors() -> Vec<(String, Value)> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/keystore/basic_tests.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let root: Value = serde_json::from_str(&text).unwrap();
    root.as_object()
        .unwrap()
        .iter()
        .map(|(name, case)| (name.clone(), case.clone()))
        .collect()
}

/// The address of a secret key, computed with libsecp256k1 rather than the
/// crate's own signer.
fn independent_address(secret: &[u8; 32]) -> [u8; 20] {
    let secp = Secp256k1::new();
    let secret = secp256k1::SecretKey::from_byte_array(secret).unwrap();
    let public = PublicKey::from_secret_key(&secp, &secret).serialize_uncompressed();
    keccak256(&public[1..])[12..].try_into().unwrap()
}

#[test]
fn every_keystore_decrypts_to_its_private_key() {
    let cases = vectors();
    assert_eq!(cases.len(), 5, "basic_tests.json holds five keystores");
    for (name, case) in &cases {
        let json = case["json"].to_string();
        let password = case["password"].as_str().unwrap();
        let expected: [u8; 32] = hex::decode(case["priv"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();

        let key =
            keystore::import(&json, password.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(*key.to_bytes(), expected, "{name}: decrypted key");
        assert_eq!(
            key.address().0,
            independent_address(&expected),
            "{name}: address"
        );
    }
}

#[test]
fn the_suite_covers_both_kdfs_and_the_r1_p8_scrypt_case() {
    let kdfs: Vec<KdfParams> = vectors()
        .iter()
        .map(|(_, case)| {
            Keystore::from_json(&case["json"].to_string())
                .unwrap()
                .kdf()
        })
        .collect();
    assert!(kdfs.contains(&KdfParams::Pbkdf2 { c: 262_144 }));
    assert!(kdfs.contains(&KdfParams::Scrypt {
        log_n: 18,
        r: 1,
        p: 8
    }));
    assert!(kdfs.contains(&KdfParams::Scrypt {
        log_n: 13,
        r: 8,
        p: 1
    }));
}

#[test]
fn a_wrong_password_is_refused_for_every_keystore() {
    for (name, case) in vectors() {
        let json = case["json"].to_string();
        let mut password = case["password"].as_str().unwrap().as_bytes().to_vec();
        password.push(b'!');
        assert_eq!(
            keystore::import(&json, &password).unwrap_err(),
            KeystoreError::WrongPassword,
            "{name}"
        );
    }
}

#[test]
fn parsed_keystores_survive_a_write_and_reread() {
    for (name, case) in vectors() {
        let parsed = Keystore::from_json(&case["json"].to_string()).unwrap();
        let written = parsed.to_json();
        let reread = Keystore::from_json(&written).unwrap();
        assert_eq!(reread, parsed, "{name}");

        // The written form keeps every field the source had, byte for byte.
        let source = &case["json"];
        let out: Value = serde_json::from_str(&written).unwrap();
        for path in [
            "/crypto/ciphertext",
            "/crypto/cipherparams/iv",
            "/crypto/kdf",
            "/crypto/kdfparams/salt",
            "/crypto/mac",
            "/id",
        ] {
            assert_eq!(out.pointer(path), source.pointer(path), "{name}: {path}");
        }
        assert_eq!(out["version"], 3);
    }
}
