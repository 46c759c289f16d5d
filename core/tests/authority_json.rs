//! The EIP-712 JSON form of an admin request: the exact text tools sign, its
//! round trip, and each refusal of the strict reader.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{json, Value};
use wallet_core::authority::json::MAX_JSON_LEN;
use wallet_core::authority::{AdminAction, AdminRequest, AuthorityError};
use wallet_core::signer::{Address, SignerError};

fn request() -> AdminRequest {
    AdminRequest {
        wallet: Address([0x11; 20]),
        action: AdminAction::ReplacePolicy,
        params_hash: [0xab; 32],
        nonce: 7,
        deadline: 1_700_000_000,
    }
}

/// The typed data as `cast wallet sign --data` took it in `authority.rs`.
const CAST_INPUT: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"verifyingContract","type":"address"}],"AdminRequest":[{"name":"action","type":"string"},{"name":"paramsHash","type":"bytes32"},{"name":"nonce","type":"uint64"},{"name":"deadline","type":"uint64"}]},"primaryType":"AdminRequest","domain":{"name":"flare-wallet","version":"1","verifyingContract":"0x1111111111111111111111111111111111111111"},"message":{"action":"replace_policy","paramsHash":"0xabababababababababababababababababababababababababababababababab","nonce":7,"deadline":1700000000}}"#;

#[test]
fn json_is_the_documented_typed_data() {
    let text = request().to_typed_data_json();
    let ours: Value = serde_json::from_str(&text).unwrap();
    let cast: Value = serde_json::from_str(CAST_INPUT).unwrap();
    assert_eq!(ours, cast);
    assert_eq!(
        ours["domain"]["verifyingContract"],
        json!(Address([0x11; 20]).checksum().as_str())
    );
    assert!(ours["message"]["nonce"].is_u64());
    assert_eq!(
        AdminRequest::from_typed_data_json(CAST_INPUT).unwrap(),
        request()
    );
}

#[test]
fn json_round_trips_every_action_and_extreme_values() {
    for action in AdminAction::ALL {
        for (nonce, deadline) in [(0, 0), (u64::MAX, u64::MAX), (1, 2)] {
            let r = AdminRequest {
                wallet: Address([0xfe; 20]),
                action,
                params_hash: [0x5a; 32],
                nonce,
                deadline,
            };
            let text = r.to_typed_data_json();
            assert_eq!(AdminRequest::from_typed_data_json(&text).unwrap(), r);
        }
    }
}

fn base() -> Value {
    serde_json::from_str(CAST_INPUT).unwrap()
}

fn parse(v: &Value) -> Result<AdminRequest, AuthorityError> {
    AdminRequest::from_typed_data_json(&v.to_string())
}

fn edited(f: impl FnOnce(&mut Value)) -> Result<AdminRequest, AuthorityError> {
    let mut v = base();
    f(&mut v);
    parse(&v)
}

#[test]
fn integers_may_be_decimal_strings_within_u64() {
    let r = edited(|v| {
        v["message"]["nonce"] = json!("7");
        v["message"]["deadline"] = json!("18446744073709551615");
    })
    .unwrap();
    assert_eq!((r.nonce, r.deadline), (7, u64::MAX));
    let nonce = AuthorityError::JsonInteger {
        field: "message.nonce",
    };
    for bad in [
        json!("18446744073709551616"),
        json!("007"),
        json!(""),
        json!("+7"),
        json!("0x07"),
        json!(" 7"),
        json!(-1),
        json!(7.5),
        json!(1e3),
        json!(null),
        json!(true),
        json!([7]),
    ] {
        assert_eq!(
            edited(|v| v["message"]["nonce"] = bad.clone()),
            Err(nonce),
            "{bad}"
        );
    }
    // A JSON integer above u64 (serde_json reads it as a float).
    let text = CAST_INPUT.replace(
        "\"deadline\":1700000000",
        "\"deadline\":18446744073709551616",
    );
    assert_eq!(
        AdminRequest::from_typed_data_json(&text),
        Err(AuthorityError::JsonInteger {
            field: "message.deadline"
        })
    );
}

/// One edit of the valid typed data.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn each_problem_has_its_own_error() {
    use AuthorityError as E;
    let cases: Vec<(Edit, AuthorityError)> = vec![
        (
            Box::new(|v| v["extra"] = json!(1)),
            E::JsonUnknownField {
                object: "(top level)",
            },
        ),
        (
            Box::new(|v| v["domain"]["chainId"] = json!(1)),
            E::JsonUnknownField { object: "domain" },
        ),
        (
            Box::new(|v| v["message"]["memo"] = json!("x")),
            E::JsonUnknownField { object: "message" },
        ),
        (
            Box::new(|v| v["types"]["Other"] = json!([])),
            E::JsonUnknownField { object: "types" },
        ),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("message");
            }),
            E::JsonMissingField { field: "message" },
        ),
        (
            Box::new(|v| {
                v["message"].as_object_mut().unwrap().remove("deadline");
            }),
            E::JsonMissingField {
                field: "message.deadline",
            },
        ),
        (
            Box::new(|v| {
                v["types"].as_object_mut().unwrap().remove("EIP712Domain");
            }),
            E::JsonMissingField {
                field: "types.EIP712Domain",
            },
        ),
        (
            Box::new(|v| v["domain"] = json!([])),
            E::JsonWrongType { field: "domain" },
        ),
        (
            Box::new(|v| v["message"]["action"] = json!(1)),
            E::JsonWrongType {
                field: "message.action",
            },
        ),
        (
            Box::new(|v| {
                v["types"]["AdminRequest"]
                    .as_array_mut()
                    .unwrap()
                    .swap(2, 3)
            }),
            E::JsonTypeMismatch {
                field: "types.AdminRequest",
            },
        ),
        (
            Box::new(|v| v["types"]["AdminRequest"][2]["type"] = json!("uint256")),
            E::JsonTypeMismatch {
                field: "types.AdminRequest",
            },
        ),
        (
            Box::new(|v| {
                v["types"]["EIP712Domain"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "chainId", "type": "uint256"}));
            }),
            E::JsonTypeMismatch {
                field: "types.EIP712Domain",
            },
        ),
        (
            Box::new(|v| v["types"]["EIP712Domain"][0]["extra"] = json!(1)),
            E::JsonTypeMismatch {
                field: "types.EIP712Domain",
            },
        ),
        (
            Box::new(|v| v["primaryType"] = json!("EIP712Domain")),
            E::JsonPrimaryType,
        ),
        (
            Box::new(|v| v["domain"]["name"] = json!("Flare-Wallet")),
            E::JsonDomainName,
        ),
        (
            Box::new(|v| v["domain"]["version"] = json!("2")),
            E::JsonDomainVersion,
        ),
        (
            Box::new(|v| v["domain"]["verifyingContract"] = json!("0x1111")),
            E::JsonAddress(SignerError::InvalidAddressLength),
        ),
        (
            Box::new(|v| {
                v["domain"]["verifyingContract"] =
                    json!("1111111111111111111111111111111111111111");
            }),
            E::JsonAddress(SignerError::InvalidAddressLength),
        ),
        (
            Box::new(|v| {
                // EIP-55 of 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, one letter's case flipped.
                v["domain"]["verifyingContract"] =
                    json!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
            }),
            E::JsonAddress(SignerError::InvalidAddressChecksum),
        ),
        (
            Box::new(|v| v["message"]["paramsHash"] = json!("0xabab")),
            E::JsonParamsHash,
        ),
        (
            Box::new(|v| {
                v["message"]["paramsHash"] = json!(format!("{}", "ab".repeat(32)));
            }),
            E::JsonParamsHash,
        ),
        (
            Box::new(|v| {
                v["message"]["paramsHash"] = json!(format!("0x{}zz", "ab".repeat(31)));
            }),
            E::JsonParamsHash,
        ),
        (
            Box::new(|v| v["message"]["action"] = json!("drain")),
            E::JsonAction,
        ),
    ];
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        let got = edited(edit);
        assert_eq!(got, Err(want), "case {i}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn duplicate_keys_syntax_and_size_are_refused() {
    let dup = CAST_INPUT.replace("\"nonce\":7,", "\"nonce\":7,\"nonce\":6,");
    assert_eq!(
        AdminRequest::from_typed_data_json(&dup),
        Err(AuthorityError::JsonDuplicateKey)
    );
    // The same key in two different objects is fine.
    assert!(AdminRequest::from_typed_data_json(CAST_INPUT).is_ok());
    assert!(matches!(
        AdminRequest::from_typed_data_json(&CAST_INPUT[..100]),
        Err(AuthorityError::JsonSyntax { .. })
    ));
    assert!(matches!(
        AdminRequest::from_typed_data_json("[]"),
        Err(AuthorityError::JsonWrongType { .. })
    ));
    let padded = format!("{CAST_INPUT}{}", " ".repeat(MAX_JSON_LEN));
    assert_eq!(
        AdminRequest::from_typed_data_json(&padded),
        Err(AuthorityError::JsonTooLarge {
            len: padded.len(),
            max: MAX_JSON_LEN
        })
    );
    // Whitespace within the limit is fine.
    let pretty = serde_json::to_string_pretty(&base()).unwrap();
    assert_eq!(
        AdminRequest::from_typed_data_json(&pretty).unwrap(),
        request()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_requests_round_trip(
        wallet in prop::array::uniform20(any::<u8>()),
        action in 0usize..3,
        params_hash in prop::array::uniform32(any::<u8>()),
        nonce in any::<u64>(),
        deadline in any::<u64>(),
    ) {
        let r = AdminRequest {
            wallet: Address(wallet),
            action: AdminAction::ALL[action],
            params_hash,
            nonce,
            deadline,
        };
        prop_assert_eq!(AdminRequest::from_typed_data_json(&r.to_typed_data_json()).unwrap(), r);
    }

    #[test]
    fn the_reader_never_panics(text in ".{0,300}") {
        let _ = AdminRequest::from_typed_data_json(&text);
    }

    #[test]
    fn mutated_valid_text_never_panics_and_accepted_text_round_trips(
        at in 0usize..CAST_INPUT.len(),
        byte in any::<u8>(),
    ) {
        let mut bytes = CAST_INPUT.as_bytes().to_vec();
        bytes[at] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok(r) = AdminRequest::from_typed_data_json(&text) {
                prop_assert_eq!(AdminRequest::from_typed_data_json(&r.to_typed_data_json()).unwrap(), r);
            }
        }
    }
}
