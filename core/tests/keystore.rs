//! The keystore: export → import round trips for both KDFs, the written
//! JSON's shape, and one clear error for each way a file can be wrong
//! (wrong password, tampering, absurd KDF parameters, bad JSON, bad hex,
//! wrong lengths, unsupported algorithms, a mismatched address).
//!
//! Most cases use cheap KDF parameters; one export per KDF runs at the
//! default cost.
#![cfg(feature = "std")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aes::cipher::{KeyIvInit as _, StreamCipher as _};
use rand::rngs::StdRng;
use rand::SeedableRng as _;
use secp256k1::{PublicKey, Secp256k1};
use serde_json::{json, Value};
use wallet_core::keccak::keccak256;
use wallet_core::keystore::{self, limits, Field, KdfParams, Keystore, KeystoreError, Limit};
use wallet_core::signer::SecretKey;

const PASSWORD: &[u8] = b"correct horse battery staple";
const FAST_SCRYPT: KdfParams = KdfParams::Scrypt {
    log_n: 4,
    r: 8,
    p: 1,
};
const FAST_PBKDF2: KdfParams = KdfParams::Pbkdf2 { c: 16 };

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

/// The address of a secret key, computed with libsecp256k1 rather than the
/// crate's own signer.
fn independent_address(secret: &[u8; 32]) -> [u8; 20] {
    let secp = Secp256k1::new();
    let secret = secp256k1::SecretKey::from_byte_array(secret).unwrap();
    let public = PublicKey::from_secret_key(&secp, &secret).serialize_uncompressed();
    keccak256(&public[1..])[12..].try_into().unwrap()
}

/// A fast keystore for `key(7)` as a JSON value, ready to be mangled.
fn fast_keystore_value(params: KdfParams) -> Value {
    let keystore = keystore::export(&key(7), PASSWORD, params, &mut rng(1)).unwrap();
    serde_json::from_str(&keystore.to_json()).unwrap()
}

fn import_value(value: &Value) -> Result<SecretKey, KeystoreError> {
    keystore::import(&value.to_string(), PASSWORD)
}

fn parse_value(value: &Value) -> Result<Keystore, KeystoreError> {
    Keystore::from_json(&value.to_string())
}

/// Flips one bit of the hex string at `pointer`.
fn flip_hex_bit(value: &mut Value, pointer: &str) {
    let text = value.pointer(pointer).unwrap().as_str().unwrap();
    let mut bytes = hex::decode(text).unwrap();
    bytes[0] ^= 0x01;
    *value.pointer_mut(pointer).unwrap() = Value::String(hex::encode(bytes));
}

// ------------------------------------------------------------ round trips

#[test]
fn scrypt_round_trip_at_the_default_cost() {
    let secret = key(0x42);
    let exported = keystore::export(&secret, PASSWORD, KdfParams::default(), &mut rng(2)).unwrap();
    assert_eq!(exported.kdf(), KdfParams::SCRYPT_DEFAULT);
    let json = exported.to_json();
    let value: Value = serde_json::from_str(&json).unwrap();
    let params = &value["crypto"]["kdfparams"];
    assert_eq!(value["crypto"]["kdf"], "scrypt");
    assert_eq!(params["n"], 262_144);
    assert_eq!(params["r"], 8);
    assert_eq!(params["p"], 1);
    assert_eq!(params["dklen"], 32);

    let imported = keystore::import(&json, PASSWORD).unwrap();
    assert_eq!(*imported.to_bytes(), [0x42; 32]);
}

#[test]
fn pbkdf2_round_trip_at_the_default_cost() {
    let secret = key(0x43);
    let exported =
        keystore::export(&secret, PASSWORD, KdfParams::PBKDF2_DEFAULT, &mut rng(3)).unwrap();
    let value: Value = serde_json::from_str(&exported.to_json()).unwrap();
    let params = &value["crypto"]["kdfparams"];
    assert_eq!(value["crypto"]["kdf"], "pbkdf2");
    assert_eq!(params["c"], 262_144);
    assert_eq!(params["prf"], "hmac-sha256");
    assert_eq!(params["dklen"], 32);

    let imported = keystore::import(&exported.to_json(), PASSWORD).unwrap();
    assert_eq!(*imported.to_bytes(), [0x43; 32]);
}

#[test]
fn round_trips_with_cheap_parameters_of_every_shape() {
    let shapes = [
        FAST_SCRYPT,
        FAST_PBKDF2,
        KdfParams::Scrypt {
            log_n: 6,
            r: 1,
            p: 8,
        },
        KdfParams::Scrypt {
            log_n: 1,
            r: 1,
            p: 1,
        },
        KdfParams::Scrypt {
            log_n: 5,
            r: 3,
            p: 5,
        },
        KdfParams::Pbkdf2 { c: 1 },
    ];
    for (i, params) in shapes.into_iter().enumerate() {
        let secret = SecretKey::random(&mut rng(100 + i as u64));
        for password in [&b""[..], b"p", "pässwörd ✓".as_bytes(), &[0u8; 300]] {
            let exported = keystore::export(&secret, password, params, &mut rng(i as u64)).unwrap();
            let imported = keystore::import(&exported.to_json(), password).unwrap();
            assert_eq!(imported, secret, "{params:?}");
        }
    }
}

#[test]
fn the_written_json_has_the_v3_shape() {
    let secret = key(9);
    let exported = keystore::export(&secret, PASSWORD, FAST_SCRYPT, &mut rng(4)).unwrap();
    let value: Value = serde_json::from_str(&exported.to_json()).unwrap();

    let root = value.as_object().unwrap();
    let mut keys: Vec<&str> = root.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["address", "crypto", "id", "version"]);
    assert_eq!(value["version"], 3);

    let address = value["address"].as_str().unwrap();
    assert_eq!(address, hex::encode(independent_address(&[9; 32])));
    assert!(!address.starts_with("0x"));
    assert_eq!(address, address.to_ascii_lowercase());

    let crypto = &value["crypto"];
    assert_eq!(crypto["cipher"], "aes-128-ctr");
    let hex_len = |v: &Value| hex::decode(v.as_str().unwrap()).unwrap().len();
    assert_eq!(hex_len(&crypto["cipherparams"]["iv"]), 16);
    assert_eq!(hex_len(&crypto["ciphertext"]), 32);
    assert_eq!(hex_len(&crypto["mac"]), 32);
    assert_eq!(hex_len(&crypto["kdfparams"]["salt"]), 32);

    // A version-4 UUID: 8-4-4-4-12 lower case hex, version 4, RFC variant.
    let id = value["id"].as_str().unwrap();
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(id
        .chars()
        .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert!(groups[2].starts_with('4'), "{id}");
    assert!(
        matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
        "{id}"
    );
    assert_eq!(exported.id(), Some(id));
    assert_eq!(exported.address().unwrap().0, independent_address(&[9; 32]));
}

/// The ciphertext and MAC are what the format defines, recomputed here
/// from the primitives: AES-128-CTR under dk[0..16], MAC over dk[16..32].
#[test]
fn the_ciphertext_and_mac_follow_the_definition() {
    let exported = keystore::export(&key(5), PASSWORD, FAST_PBKDF2, &mut rng(5)).unwrap();
    let value: Value = serde_json::from_str(&exported.to_json()).unwrap();
    let unhex = |p: &str| hex::decode(value.pointer(p).unwrap().as_str().unwrap()).unwrap();
    let salt = unhex("/crypto/kdfparams/salt");
    let iv = unhex("/crypto/cipherparams/iv");

    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD, &salt, 16, &mut derived);
    let mut plaintext = unhex("/crypto/ciphertext");
    let mut cipher = ctr::Ctr128BE::<aes::Aes128>::new_from_slices(&derived[..16], &iv).unwrap();
    cipher.apply_keystream(&mut plaintext);
    assert_eq!(plaintext, [5u8; 32]);

    let mut mac_input = derived[16..].to_vec();
    mac_input.extend(unhex("/crypto/ciphertext"));
    assert_eq!(keccak256(&mac_input).to_vec(), unhex("/crypto/mac"));
}

#[test]
fn two_exports_of_one_key_share_no_randomness() {
    let a = keystore::export(&key(3), PASSWORD, FAST_SCRYPT, &mut rng(10)).unwrap();
    let b = keystore::export(&key(3), PASSWORD, FAST_SCRYPT, &mut rng(11)).unwrap();
    assert_ne!(a.salt(), b.salt());
    assert_ne!(a.id(), b.id());
    let (a, b): (Value, Value) = (
        serde_json::from_str(&a.to_json()).unwrap(),
        serde_json::from_str(&b.to_json()).unwrap(),
    );
    assert_ne!(
        a["crypto"]["cipherparams"]["iv"],
        b["crypto"]["cipherparams"]["iv"]
    );
    assert_ne!(a["crypto"]["ciphertext"], b["crypto"]["ciphertext"]);
}

#[test]
fn capitalised_crypto_and_0x_hex_are_read() {
    let mut value = fast_keystore_value(FAST_SCRYPT);
    let crypto = value.as_object_mut().unwrap().remove("crypto").unwrap();
    value["Crypto"] = crypto;
    for pointer in [
        "/Crypto/ciphertext",
        "/Crypto/mac",
        "/Crypto/cipherparams/iv",
    ] {
        let text = value
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap()
            .to_uppercase();
        *value.pointer_mut(pointer).unwrap() = Value::String(format!("0x{text}"));
    }
    value["address"] = Value::String(format!("0x{}", value["address"].as_str().unwrap()));
    assert_eq!(*import_value(&value).unwrap().to_bytes(), [7; 32]);
}

#[test]
fn unknown_fields_and_a_missing_address_or_id_are_accepted() {
    let mut value = fast_keystore_value(FAST_PBKDF2);
    value["x-ethers"] = json!({"client": "ethers.js", "mnemonicCiphertext": "00"});
    value["crypto"]["version"] = json!(1);
    let root = value.as_object_mut().unwrap();
    root.remove("address");
    root.remove("id");
    let parsed = parse_value(&value).unwrap();
    assert_eq!(parsed.address(), None);
    assert_eq!(parsed.id(), None);
    assert_eq!(*import_value(&value).unwrap().to_bytes(), [7; 32]);
}

// ------------------------------------------------- password and tampering

#[test]
fn a_wrong_password_is_a_mac_mismatch() {
    for params in [FAST_SCRYPT, FAST_PBKDF2] {
        let json = fast_keystore_value(params).to_string();
        let error = keystore::import(&json, b"correct horse battery stapler").unwrap_err();
        assert_eq!(error, KeystoreError::WrongPassword);
        assert!(error.to_string().starts_with("wrong password"), "{error}");
    }
}

#[test]
fn a_tampered_ciphertext_or_mac_is_refused_before_decryption() {
    for pointer in ["/crypto/ciphertext", "/crypto/mac"] {
        let mut value = fast_keystore_value(FAST_SCRYPT);
        flip_hex_bit(&mut value, pointer);
        assert_eq!(
            import_value(&value).unwrap_err(),
            KeystoreError::WrongPassword,
            "{pointer}"
        );
    }
}

#[test]
fn tampered_kdf_parameters_or_salt_change_the_mac() {
    let mut value = fast_keystore_value(FAST_SCRYPT);
    value["crypto"]["kdfparams"]["n"] = json!(32);
    assert_eq!(
        import_value(&value).unwrap_err(),
        KeystoreError::WrongPassword
    );

    let mut value = fast_keystore_value(FAST_SCRYPT);
    flip_hex_bit(&mut value, "/crypto/kdfparams/salt");
    assert_eq!(
        import_value(&value).unwrap_err(),
        KeystoreError::WrongPassword
    );
}

/// The IV is outside the MAC (as the format defines it), so a changed IV
/// decrypts to another key: the `address` field catches it.
#[test]
fn a_tampered_iv_is_caught_by_the_address_check() {
    let mut value = fast_keystore_value(FAST_SCRYPT);
    flip_hex_bit(&mut value, "/crypto/cipherparams/iv");
    let error = import_value(&value).unwrap_err();
    assert_eq!(error, KeystoreError::AddressMismatch);
    assert!(error.to_string().contains("address"), "{error}");
}

#[test]
fn an_address_of_another_key_is_refused() {
    let mut value = fast_keystore_value(FAST_PBKDF2);
    value["address"] = Value::String(hex::encode(independent_address(&[8; 32])));
    assert_eq!(
        import_value(&value).unwrap_err(),
        KeystoreError::AddressMismatch
    );
}

/// A file whose MAC is right but whose plaintext is not a secp256k1 scalar
/// (here the curve order itself), built from the primitives.
#[test]
fn a_decrypted_scalar_out_of_range_is_refused() {
    const ORDER: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    let salt = [1u8; 32];
    let iv = [2u8; 16];
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD, &salt, 2, &mut derived);
    for plaintext in [hex::decode(ORDER).unwrap(), vec![0u8; 32]] {
        let mut ciphertext = plaintext.clone();
        let mut cipher =
            ctr::Ctr128BE::<aes::Aes128>::new_from_slices(&derived[..16], &iv).unwrap();
        cipher.apply_keystream(&mut ciphertext);
        let mut mac_input = derived[16..].to_vec();
        mac_input.extend(&ciphertext);
        let value = json!({
            "version": 3,
            "crypto": {
                "cipher": "aes-128-ctr",
                "cipherparams": {"iv": hex::encode(iv)},
                "ciphertext": hex::encode(&ciphertext),
                "kdf": "pbkdf2",
                "kdfparams": {"c": 2, "dklen": 32, "prf": "hmac-sha256", "salt": hex::encode(salt)},
                "mac": hex::encode(keccak256(&mac_input)),
            }
        });
        assert_eq!(import_value(&value).unwrap_err(), KeystoreError::InvalidKey);
    }
}

// ------------------------------------------------------ hostile parameters

/// Every limit is hit before any KDF work starts, so a hostile file costs
/// nothing; the message names the limit.
#[test]
fn absurd_kdf_parameters_hit_a_named_limit_at_once() {
    let scrypt = |n: Value, r: Value, p: Value| {
        let mut value = fast_keystore_value(FAST_SCRYPT);
        value["crypto"]["kdfparams"]["n"] = n;
        value["crypto"]["kdfparams"]["r"] = r;
        value["crypto"]["kdfparams"]["p"] = p;
        value
    };
    let pbkdf2 = |c: Value| {
        let mut value = fast_keystore_value(FAST_PBKDF2);
        value["crypto"]["kdfparams"]["c"] = c;
        value
    };
    let cases: Vec<(Value, Limit, &str)> = vec![
        (
            scrypt(json!(1u64 << 30), json!(8), json!(1)),
            Limit::ScryptN { log_n: 30 },
            "scrypt n=2^30 exceeds the limit 2^20",
        ),
        (
            scrypt(json!(1u64 << 63), json!(1), json!(1)),
            Limit::ScryptN { log_n: 63 },
            "scrypt n=2^63 exceeds the limit 2^20",
        ),
        (
            scrypt(json!(1u64 << 20), json!(8), json!(1)),
            Limit::ScryptMemory { bytes: 1 << 30 },
            "scrypt memory 128*n*r = 1073741824 bytes exceeds the limit of 536870912 bytes",
        ),
        (
            scrypt(json!(2), json!(u64::MAX), json!(1)),
            Limit::ScryptMemory { bytes: u64::MAX },
            "scrypt memory 128*n*r = 18446744073709551615 bytes",
        ),
        (
            scrypt(json!(1u64 << 18), json!(8), json!(16)),
            Limit::ScryptWork { bytes: 1 << 32 },
            "scrypt work 128*n*r*p = 4294967296 bytes exceeds the limit of 1073741824 bytes",
        ),
        (
            scrypt(json!(1u64 << 18), json!(1), json!(1u64 << 32)),
            Limit::ScryptWork { bytes: 1 << 57 },
            "scrypt work 128*n*r*p = 144115188075855872 bytes",
        ),
        (
            scrypt(json!(1u64 << 20), json!(1), json!(u64::MAX)),
            Limit::ScryptWork { bytes: u64::MAX },
            "scrypt work 128*n*r*p = 18446744073709551615 bytes",
        ),
        (
            pbkdf2(json!(100_000_000)),
            Limit::Pbkdf2Iterations { c: 100_000_000 },
            "pbkdf2 c=100000000 exceeds the limit 10000000",
        ),
        (
            pbkdf2(json!(u64::MAX)),
            Limit::Pbkdf2Iterations { c: u64::MAX },
            "pbkdf2 c=18446744073709551615 exceeds the limit 10000000",
        ),
        (
            {
                let mut value = fast_keystore_value(FAST_SCRYPT);
                value["crypto"]["kdfparams"]["salt"] = Value::String("ab".repeat(1025));
                value
            },
            Limit::SaltLength { len: 1025 },
            "kdf salt of 1025 bytes exceeds the limit of 1024 bytes",
        ),
    ];
    for (value, limit, message) in cases {
        let started = Instant::now();
        let error = import_value(&value).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{limit:?} took a while"
        );
        assert_eq!(error, KeystoreError::LimitExceeded(limit));
        assert!(error.to_string().starts_with(message), "{error}");
    }
}

#[test]
fn the_limits_still_admit_what_real_tools_write() {
    for (n, r, p) in [
        (1u64 << 18, 8u64, 1u64), // geth standard, eth-account default
        (1 << 18, 1, 8),          // the Web3 Secret Storage example
        (1 << 12, 8, 6),          // geth light
        (1 << 13, 8, 1),          // Foundry, MyCrypto
        (1 << 19, 8, 1),          // twice the default memory
        (1 << 18, 8, 4),          // four times the default work
        (1 << 20, 4, 1),
    ] {
        assert!(KdfParams::scrypt(n, r, p).is_ok(), "n={n} r={r} p={p}");
    }
    assert!(KdfParams::pbkdf2(1_000_000).is_ok());
    assert!(KdfParams::pbkdf2(limits::PBKDF2_MAX_ITERATIONS).is_ok());
}

#[test]
fn parameters_the_kdfs_themselves_forbid() {
    let cases: Vec<(&str, Value, Field)> = vec![
        ("/crypto/kdfparams/n", json!(3), Field::N),
        ("/crypto/kdfparams/n", json!(1), Field::N),
        ("/crypto/kdfparams/n", json!(0), Field::N),
        ("/crypto/kdfparams/r", json!(0), Field::R),
        ("/crypto/kdfparams/p", json!(0), Field::P),
        ("/crypto/kdfparams/dklen", json!(64), Field::Dklen),
        ("/crypto/kdfparams/dklen", json!(16), Field::Dklen),
    ];
    for (pointer, bad, field) in cases {
        let mut value = fast_keystore_value(FAST_SCRYPT);
        *value.pointer_mut(pointer).unwrap() = bad.clone();
        assert_eq!(
            import_value(&value).unwrap_err(),
            KeystoreError::InvalidKdfParam(field),
            "{pointer} = {bad}"
        );
    }
    let mut value = fast_keystore_value(FAST_PBKDF2);
    value["crypto"]["kdfparams"]["c"] = json!(0);
    let error = import_value(&value).unwrap_err();
    assert_eq!(error, KeystoreError::InvalidKdfParam(Field::C));
    assert_eq!(error.to_string(), "`crypto.kdfparams.c` must be at least 1");
    assert_eq!(
        KeystoreError::InvalidKdfParam(Field::N).to_string(),
        "scrypt n must be a power of two greater than 1"
    );
    assert_eq!(
        KeystoreError::InvalidKdfParam(Field::Dklen).to_string(),
        "kdf dklen must be 32"
    );
}

#[test]
fn export_refuses_parameters_import_would_refuse() {
    let cases = [
        (
            KdfParams::Scrypt {
                log_n: 30,
                r: 8,
                p: 1,
            },
            KeystoreError::LimitExceeded(Limit::ScryptN { log_n: 30 }),
        ),
        (
            KdfParams::Scrypt {
                log_n: 200,
                r: 8,
                p: 1,
            },
            KeystoreError::LimitExceeded(Limit::ScryptN { log_n: 200 }),
        ),
        (
            KdfParams::Scrypt {
                log_n: 0,
                r: 8,
                p: 1,
            },
            KeystoreError::InvalidKdfParam(Field::N),
        ),
        (
            KdfParams::Scrypt {
                log_n: 18,
                r: 8,
                p: 0,
            },
            KeystoreError::InvalidKdfParam(Field::P),
        ),
        (
            KdfParams::Pbkdf2 { c: 0 },
            KeystoreError::InvalidKdfParam(Field::C),
        ),
        (
            KdfParams::Pbkdf2 { c: u32::MAX },
            KeystoreError::LimitExceeded(Limit::Pbkdf2Iterations {
                c: u64::from(u32::MAX),
            }),
        ),
    ];
    for (params, expected) in cases {
        assert_eq!(
            keystore::export(&key(1), PASSWORD, params, &mut rng(0)).unwrap_err(),
            expected,
            "{params:?}"
        );
        assert_eq!(params.check().unwrap_err(), expected);
    }
}

#[test]
fn an_oversized_document_is_refused_before_parsing() {
    let mut value = fast_keystore_value(FAST_SCRYPT);
    value["padding"] = Value::String("x".repeat(limits::MAX_JSON_LEN));
    let text = value.to_string();
    let error = Keystore::from_json(&text).unwrap_err();
    assert_eq!(
        error,
        KeystoreError::LimitExceeded(Limit::JsonLength {
            len: text.len() as u64
        })
    );
    assert!(
        error
            .to_string()
            .contains("exceeds the limit of 65536 bytes"),
        "{error}"
    );
}

// ------------------------------------------------------- malformed input

#[test]
fn truncated_json_is_reported_as_truncated() {
    let json = fast_keystore_value(FAST_SCRYPT).to_string();
    for end in 0..json.len() {
        let error = Keystore::from_json(&json[..end]).unwrap_err();
        assert_eq!(error, KeystoreError::JsonTruncated, "cut at {end}");
    }
    assert_eq!(
        KeystoreError::JsonTruncated.to_string(),
        "the keystore JSON ends early: it is truncated"
    );
}

#[test]
fn garbage_is_a_syntax_error_with_its_position() {
    assert_eq!(
        Keystore::from_json("not a keystore").unwrap_err(),
        KeystoreError::JsonSyntax { line: 1, column: 2 }
    );
    let error = Keystore::from_json("{\n  \"version\": 3,\n  oops\n}").unwrap_err();
    assert_eq!(error, KeystoreError::JsonSyntax { line: 3, column: 3 });
    assert_eq!(
        error.to_string(),
        "the keystore is not valid JSON (syntax error at line 3, column 3)"
    );
    assert!(matches!(
        Keystore::from_slice(b"{\"version\": 3, \"id\": \"\xff\"}").unwrap_err(),
        KeystoreError::JsonSyntax { .. }
    ));
    let json = fast_keystore_value(FAST_SCRYPT).to_string();
    assert!(matches!(
        Keystore::from_json(&format!("{json} trailing")).unwrap_err(),
        KeystoreError::JsonSyntax { .. }
    ));
}

#[test]
fn a_document_that_is_not_an_object_is_refused() {
    for text in ["[]", "3", "\"keystore\"", "null", "true"] {
        let error = Keystore::from_json(text).unwrap_err();
        assert_eq!(error, KeystoreError::WrongType(Field::Root), "{text}");
        assert_eq!(error.to_string(), "the keystore must be a JSON object");
    }
}

#[test]
fn each_missing_field_is_named() {
    let scrypt_fields = [
        ("/version", Field::Version),
        ("/crypto", Field::Crypto),
        ("/crypto/cipher", Field::Cipher),
        ("/crypto/cipherparams", Field::CipherParams),
        ("/crypto/cipherparams/iv", Field::Iv),
        ("/crypto/ciphertext", Field::Ciphertext),
        ("/crypto/kdf", Field::Kdf),
        ("/crypto/kdfparams", Field::KdfParams),
        ("/crypto/kdfparams/salt", Field::Salt),
        ("/crypto/kdfparams/dklen", Field::Dklen),
        ("/crypto/kdfparams/n", Field::N),
        ("/crypto/kdfparams/r", Field::R),
        ("/crypto/kdfparams/p", Field::P),
        ("/crypto/mac", Field::Mac),
    ];
    let pbkdf2_fields = [
        ("/crypto/kdfparams/c", Field::C),
        ("/crypto/kdfparams/prf", Field::Prf),
    ];
    let cases = scrypt_fields
        .iter()
        .map(|case| (FAST_SCRYPT, *case))
        .chain(pbkdf2_fields.iter().map(|case| (FAST_PBKDF2, *case)));
    for (params, (pointer, field)) in cases {
        let mut value = fast_keystore_value(params);
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = if parent.is_empty() {
            &mut value
        } else {
            value.pointer_mut(parent).unwrap()
        };
        parent.as_object_mut().unwrap().remove(key).unwrap();
        let error = parse_value(&value).unwrap_err();
        assert_eq!(error, KeystoreError::MissingField(field), "{pointer}");
        assert!(error.to_string().contains(field.path()), "{error}");
    }
    assert_eq!(
        KeystoreError::MissingField(Field::Salt).to_string(),
        "the keystore has no `crypto.kdfparams.salt` field"
    );
}

#[test]
fn each_wrongly_typed_field_is_named() {
    let cases = [
        ("/version", json!("3"), Field::Version),
        ("/version", json!(3.0), Field::Version),
        ("/version", json!(-3), Field::Version),
        ("/crypto", json!([]), Field::Crypto),
        ("/crypto/cipher", json!(1), Field::Cipher),
        ("/crypto/cipherparams", json!("iv"), Field::CipherParams),
        ("/crypto/cipherparams/iv", json!(null), Field::Iv),
        ("/crypto/ciphertext", json!([1, 2]), Field::Ciphertext),
        ("/crypto/kdf", json!({}), Field::Kdf),
        ("/crypto/kdfparams", json!(null), Field::KdfParams),
        ("/crypto/kdfparams/salt", json!(7), Field::Salt),
        ("/crypto/kdfparams/dklen", json!("32"), Field::Dklen),
        ("/crypto/kdfparams/n", json!(1e30), Field::N),
        ("/crypto/kdfparams/n", json!(262_144.5), Field::N),
        ("/crypto/kdfparams/r", json!(-8), Field::R),
        ("/crypto/kdfparams/p", json!(true), Field::P),
        ("/crypto/mac", json!(false), Field::Mac),
        ("/address", json!(12), Field::Address),
        ("/id", json!(12), Field::Id),
    ];
    for (pointer, bad, field) in cases {
        let mut value = fast_keystore_value(FAST_SCRYPT);
        *value.pointer_mut(pointer).unwrap() = bad.clone();
        assert_eq!(
            parse_value(&value).unwrap_err(),
            KeystoreError::WrongType(field),
            "{pointer} = {bad}"
        );
    }
    assert_eq!(
        KeystoreError::WrongType(Field::N).to_string(),
        "`crypto.kdfparams.n` must be a non-negative JSON integer"
    );
    assert_eq!(
        KeystoreError::WrongType(Field::Iv).to_string(),
        "`crypto.cipherparams.iv` must be a JSON string"
    );
}

#[test]
fn both_crypto_spellings_at_once_are_ambiguous() {
    let mut value = fast_keystore_value(FAST_SCRYPT);
    value["Crypto"] = value["crypto"].clone();
    assert_eq!(
        parse_value(&value).unwrap_err(),
        KeystoreError::DuplicateCrypto
    );
}

#[test]
fn bad_hex_and_wrong_lengths_are_named() {
    let cases: Vec<(&str, String, KeystoreError)> = vec![
        (
            "/crypto/cipherparams/iv",
            "zz".repeat(16),
            KeystoreError::InvalidHex(Field::Iv),
        ),
        (
            "/crypto/ciphertext",
            "0".repeat(63),
            KeystoreError::InvalidHex(Field::Ciphertext),
        ),
        (
            "/crypto/mac",
            format!("{}g", "0".repeat(63)),
            KeystoreError::InvalidHex(Field::Mac),
        ),
        (
            "/crypto/kdfparams/salt",
            "0x12 4".into(),
            KeystoreError::InvalidHex(Field::Salt),
        ),
        (
            "/address",
            "ab".repeat(19),
            KeystoreError::WrongLength {
                field: Field::Address,
                len: 19,
                expected: 20,
            },
        ),
        (
            "/crypto/cipherparams/iv",
            "00".repeat(15),
            KeystoreError::WrongLength {
                field: Field::Iv,
                len: 15,
                expected: 16,
            },
        ),
        (
            "/crypto/ciphertext",
            "00".repeat(33),
            KeystoreError::WrongLength {
                field: Field::Ciphertext,
                len: 33,
                expected: 32,
            },
        ),
        (
            "/crypto/mac",
            String::new(),
            KeystoreError::WrongLength {
                field: Field::Mac,
                len: 0,
                expected: 32,
            },
        ),
    ];
    for (pointer, bad, expected) in cases {
        let mut value = fast_keystore_value(FAST_SCRYPT);
        *value.pointer_mut(pointer).unwrap() = Value::String(bad.clone());
        assert_eq!(
            parse_value(&value).unwrap_err(),
            expected,
            "{pointer} = {bad:?}"
        );
    }
    assert_eq!(
        KeystoreError::WrongLength {
            field: Field::Iv,
            len: 15,
            expected: 16
        }
        .to_string(),
        "`crypto.cipherparams.iv` is 15 bytes long, expected 16"
    );
    assert_eq!(
        KeystoreError::InvalidHex(Field::Mac).to_string(),
        "`crypto.mac` is not valid hex"
    );
}

#[test]
fn unsupported_versions_and_algorithms_are_named() {
    let cases: Vec<(&str, Value, KeystoreError, &str)> = vec![
        (
            "/version",
            json!(1),
            KeystoreError::UnsupportedVersion(1),
            "keystore version 1 is not supported (only version 3)",
        ),
        (
            "/version",
            json!(4),
            KeystoreError::UnsupportedVersion(4),
            "keystore version 4 is not supported (only version 3)",
        ),
        (
            "/crypto/cipher",
            json!("aes-128-cbc"),
            KeystoreError::UnsupportedCipher,
            "unsupported `crypto.cipher`: only aes-128-ctr is supported",
        ),
        (
            "/crypto/cipher",
            json!("AES-128-CTR"),
            KeystoreError::UnsupportedCipher,
            "unsupported `crypto.cipher`",
        ),
        (
            "/crypto/kdf",
            json!("argon2id"),
            KeystoreError::UnsupportedKdf,
            "unsupported `crypto.kdf`: only scrypt and pbkdf2 are supported",
        ),
    ];
    for (pointer, bad, expected, message) in cases {
        let mut value = fast_keystore_value(FAST_SCRYPT);
        *value.pointer_mut(pointer).unwrap() = bad.clone();
        let error = parse_value(&value).unwrap_err();
        assert_eq!(error, expected, "{pointer} = {bad}");
        assert!(error.to_string().starts_with(message), "{error}");
    }
    let mut value = fast_keystore_value(FAST_PBKDF2);
    value["crypto"]["kdfparams"]["prf"] = json!("hmac-sha512");
    let error = parse_value(&value).unwrap_err();
    assert_eq!(error, KeystoreError::UnsupportedPrf);
    assert!(error.to_string().contains("only hmac-sha256"), "{error}");
}

// ------------------------------------------------------------- plumbing

/// A random number generator that always fails: the OS source cannot be
/// made to fail on purpose here.
struct FailingRngDouble;

impl rand_core::RngCore for FailingRngDouble {
    fn next_u32(&mut self) -> u32 {
        unreachable!("the keystore asks only through try_fill_bytes")
    }
    fn next_u64(&mut self) -> u64 {
        unreachable!("the keystore asks only through try_fill_bytes")
    }
    fn fill_bytes(&mut self, _: &mut [u8]) {
        unreachable!("the keystore asks only through try_fill_bytes")
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand_core::Error> {
        Err(rand_core::Error::from(
            core::num::NonZeroU32::new(rand_core::Error::CUSTOM_START).unwrap(),
        ))
    }
}

impl rand_core::CryptoRng for FailingRngDouble {}

#[test]
fn a_failing_rng_is_an_entropy_error() {
    let error =
        keystore::export(&key(1), PASSWORD, FAST_SCRYPT, &mut FailingRngDouble).unwrap_err();
    assert_eq!(error, KeystoreError::Entropy);
}

#[test]
fn keystore_errors_wrap_into_the_crate_error() {
    let error: wallet_core::Error = KeystoreError::WrongPassword.into();
    assert_eq!(
        error,
        wallet_core::Error::Keystore(KeystoreError::WrongPassword)
    );
    assert!(
        error.to_string().starts_with("keystore: wrong password"),
        "{error}"
    );
}

#[test]
fn nothing_secret_is_printed() {
    let exported = keystore::export(&key(0x5a), PASSWORD, FAST_PBKDF2, &mut rng(6)).unwrap();
    let debug = format!("{exported:?}");
    assert!(!debug.contains("5a5a5a5a"), "{debug}");
    assert!(!debug.contains("correct horse"), "{debug}");
}
