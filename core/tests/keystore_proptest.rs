//! Property tests for the keystore: no input, however mangled, makes the
//! parser or the importer panic; whatever parses writes back to the same
//! keystore; export → import gives the key back for any key and password.
#![cfg(feature = "std")]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng as _;
use serde_json::{Map, Number, Value};
use wallet_core::keystore::{self, KdfParams, Keystore};
use wallet_core::signer::SecretKey;

const PASSWORD: &[u8] = b"password";

/// A cheap keystore for key `[7; 32]` to mutate.
fn base_keystore(params: KdfParams) -> Value {
    let key = SecretKey::from_bytes(&[7; 32]).unwrap();
    let exported = keystore::export(&key, PASSWORD, params, &mut StdRng::seed_from_u64(1)).unwrap();
    serde_json::from_str(&exported.to_json()).unwrap()
}

/// Any JSON value, small enough to stay fast.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        (0u32..64).prop_map(|k| Value::Number((1u64 << k).into())),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "[0-9a-fA-Fx]{0,80}".prop_map(Value::String),
        ".{0,20}".prop_map(Value::String),
        prop::sample::select(vec![
            "scrypt",
            "pbkdf2",
            "aes-128-ctr",
            "hmac-sha256",
            "crypto",
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "version",
            "id",
            "address",
            "crypto",
            "Crypto",
            "cipher",
            "cipherparams",
            "iv",
            "ciphertext",
            "kdf",
            "kdfparams",
            "salt",
            "dklen",
            "n",
            "r",
            "p",
            "c",
            "prf",
            "mac",
        ])
        .prop_map(String::from),
        "[a-zA-Z]{0,8}",
    ]
}

/// Paths into a keystore whose values a mutation may replace or remove.
const PATHS: &[&str] = &[
    "",
    "/version",
    "/id",
    "/address",
    "/crypto",
    "/crypto/cipher",
    "/crypto/cipherparams",
    "/crypto/cipherparams/iv",
    "/crypto/ciphertext",
    "/crypto/kdf",
    "/crypto/kdfparams",
    "/crypto/kdfparams/salt",
    "/crypto/kdfparams/dklen",
    "/crypto/kdfparams/n",
    "/crypto/kdfparams/r",
    "/crypto/kdfparams/p",
    "/crypto/kdfparams/c",
    "/crypto/kdfparams/prf",
    "/crypto/mac",
];

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Insert(usize, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..PATHS.len(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (0..PATHS.len()).prop_map(Mutation::Remove),
        (0..PATHS.len(), field_name(), json_value())
            .prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
    ]
}

fn apply(value: &mut Value, mutation: &Mutation) {
    match mutation {
        Mutation::Replace(i, new) => {
            if let Some(slot) = value.pointer_mut(PATHS[*i]) {
                *slot = new.clone();
            }
        }
        Mutation::Remove(i) => {
            if let Some((parent, key)) = PATHS[*i].rsplit_once('/') {
                let parent = if parent.is_empty() {
                    Some(&mut *value)
                } else {
                    value.pointer_mut(parent)
                };
                if let Some(Value::Object(map)) = parent {
                    map.remove(key);
                }
            }
        }
        Mutation::Insert(i, key, new) => {
            if let Some(Value::Object(map)) = value.pointer_mut(PATHS[*i]) {
                map.insert(key.clone(), new.clone());
            }
        }
    }
}

/// Keeps a mutated keystore cheap to import: whatever the mutations did,
/// the KDF cost is forced back down (parsing is checked separately, with
/// the costs left as generated).
fn make_cheap(value: &mut Value) {
    for pointer in ["/crypto/kdfparams", "/Crypto/kdfparams"] {
        if let Some(Value::Object(params)) = value.pointer_mut(pointer) {
            for (key, limit) in [("n", 64u64), ("r", 4), ("p", 4), ("c", 64)] {
                if let Some(number) = params.get(key).and_then(Value::as_u64) {
                    if number > limit {
                        params.insert(key.into(), Value::Number(limit.into()));
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Keystore::from_slice(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parser(value in json_value()) {
        let _ = Keystore::from_json(&value.to_string());
    }

    #[test]
    fn mangled_text_never_panics_the_parser(
        cut in 0usize..2000,
        insert in prop::collection::vec(any::<u8>(), 0..8),
        scrypt in any::<bool>(),
    ) {
        let params = if scrypt { KdfParams::Scrypt { log_n: 2, r: 1, p: 1 } } else { KdfParams::Pbkdf2 { c: 1 } };
        let mut bytes = base_keystore(params).to_string().into_bytes();
        let at = cut % (bytes.len() + 1);
        bytes.splice(at..at, insert);
        let _ = Keystore::from_slice(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Structured mutations of a real keystore: parsing never panics, and
    /// whatever parses writes back to JSON that parses to the same keystore.
    #[test]
    fn mutated_keystores_parse_or_fail_cleanly_and_round_trip(
        mutations in prop::collection::vec(mutation(), 1..5),
        scrypt in any::<bool>(),
    ) {
        let params = if scrypt { KdfParams::Scrypt { log_n: 2, r: 1, p: 1 } } else { KdfParams::Pbkdf2 { c: 1 } };
        let mut value = base_keystore(params);
        for mutation in &mutations {
            apply(&mut value, mutation);
        }
        if let Ok(parsed) = Keystore::from_json(&value.to_string()) {
            let reread = Keystore::from_json(&parsed.to_json()).unwrap();
            prop_assert_eq!(reread, parsed);
        }
    }

    /// The same mutations, kept cheap, through the whole import: an error or
    /// the right key, never a panic.
    #[test]
    fn mutated_keystores_never_panic_the_importer(
        mutations in prop::collection::vec(mutation(), 1..4),
        scrypt in any::<bool>(),
    ) {
        let params = if scrypt { KdfParams::Scrypt { log_n: 2, r: 1, p: 1 } } else { KdfParams::Pbkdf2 { c: 1 } };
        let mut value = base_keystore(params);
        for mutation in &mutations {
            apply(&mut value, mutation);
        }
        make_cheap(&mut value);
        if let Ok(key) = keystore::import(&value.to_string(), PASSWORD) {
            prop_assert_eq!(*key.to_bytes(), [7u8; 32]);
        }
    }

    #[test]
    fn export_then_import_gives_the_key_back(
        seed in any::<u64>(),
        password in prop::collection::vec(any::<u8>(), 0..64),
        scrypt in any::<bool>(),
        log_n in 1u8..5,
        r in 1u32..4,
        p in 1u32..4,
        c in 1u32..8,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let key = SecretKey::random(&mut rng);
        let params = if scrypt { KdfParams::Scrypt { log_n, r, p } } else { KdfParams::Pbkdf2 { c } };
        let exported = keystore::export(&key, &password, params, &mut rng).unwrap();
        let imported = keystore::import(&exported.to_json(), &password).unwrap();
        prop_assert_eq!(imported, key);
    }
}
