//! The policy's JSON form: every key read into the same policy the setters
//! build, round trips and hash stability, and one refusal per key naming the
//! key and what was expected.
#![allow(clippy::unwrap_used)]

#[path = "support/helpers.rs"]
mod helpers;

use helpers::{addr, u256_dec};
use proptest::prelude::*;
use serde_json::{json, Value};
use wallet_core::policy::json::{Expected, JsonPosition, PolicyJsonError, MAX_JSON_LEN};
use wallet_core::policy::{
    Policy, PolicyField, TypedDataDomain, MAX_CHAIN_IDS, MAX_DELEGATIONS, MAX_RECIPIENTS,
    MAX_SELECTORS_PER_CONTRACT, MAX_SELECTOR_CONTRACTS, MAX_TYPED_DATA_DOMAINS,
};
use wallet_core::signer::Address;
use wallet_core::tx::{MAX_CHAIN_ID, U256};

const USDT: &str = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
const WETH: &str = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2";
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
/// 2^256 - 1 in decimal.
const U256_MAX_DEC: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";
/// 2^256 in decimal.
const U256_OVER_DEC: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639936";

fn a(byte: u8) -> Address {
    Address([byte; 20])
}

/// An address from an index, distinct for every `n < 2^16`.
fn nth(n: usize) -> Address {
    let mut bytes = [0x11u8; 20];
    bytes[18..].copy_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
    Address(bytes)
}

fn hex_address(address: &Address) -> String {
    format!("0x{}", hex::encode(address.0))
}

/// Every rule set, through the setters.
fn full_policy() -> Policy {
    let mut p = Policy::default();
    p.set_chain_ids(Some(&[14, 114, 1])).unwrap();
    p.set_max_value_wei(Some(u256_dec("2000000000000000000")));
    p.set_max_fee_wei(Some(U256::from_u64(0x0023_86f2_6fc1_0000)));
    p.set_daily_limit_wei(Some(u256_dec(U256_MAX_DEC)));
    p.set_recipients_allow(Some(&[addr(USDT), addr(WETH)]))
        .unwrap();
    p.set_recipients_deny(&[a(0xde)]).unwrap();
    p.set_allow_contract_creation(false);
    p.set_selectors(addr(USDT), &[TRANSFER, APPROVE]).unwrap();
    p.set_selectors(addr(WETH), &[]).unwrap();
    p.set_delegations_allow(Some(&[a(0), a(0x77)])).unwrap();
    p.set_allow_unprotected(true);
    p.set_allow_messages(false);
    p.set_typed_data_domains(Some(&[
        TypedDataDomain {
            chain_id: 14,
            verifying_contract: addr(USDT),
        },
        TypedDataDomain {
            chain_id: u64::MAX,
            verifying_contract: a(0x01),
        },
    ]))
    .unwrap();
    p
}

/// The same rules, written by hand in the forms a user writes.
const FULL_JSON: &str = r#"{
  "chain_ids": [1, 14, 114, 14],
  "max_value_wei": 2000000000000000000,
  "max_fee_wei": "0x2386F26FC10000",
  "daily_limit_wei": 115792089237316195423570985008687907853269984665640564039457584007913129639935,
  "recipients_allow": ["0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "0xdAC17F958D2ee523a2206206994597C13D831ec7"],
  "recipients_deny": ["0xDEDEDEDEDEDEDEDEDEDEDEDEDEDEDEDEDEDEDEDE"],
  "allow_contract_creation": false,
  "selectors": {
    "0xdac17f958d2ee523a2206206994597c13d831ec7": ["0xa9059cbb", "0x095EA7B3", "0xa9059cbb"],
    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2": []
  },
  "delegations_allow": ["0x7777777777777777777777777777777777777777", "0x0000000000000000000000000000000000000000"],
  "allow_unprotected": true,
  "allow_messages": false,
  "typed_data_domains": [
    {"verifying_contract": "0x0101010101010101010101010101010101010101", "chain_id": 18446744073709551615},
    {"chain_id": 14, "verifying_contract": "0xdAC17F958D2ee523a2206206994597C13D831ec7"}
  ]
}"#;

fn err(json: &str) -> PolicyJsonError {
    Policy::from_json(json).unwrap_err()
}

/// The error for `{"<key>": <value>}`.
fn err_for(key: &str, value: &Value) -> PolicyJsonError {
    err(&json!({ key: value }).to_string())
}

fn invalid(field: PolicyField, at: JsonPosition, expected: Expected) -> PolicyJsonError {
    PolicyJsonError::Invalid {
        field,
        at,
        expected,
    }
}

// ------------------------------------------------------------ reading

#[test]
fn every_key_reads_into_the_policy_the_setters_build() {
    let read = Policy::from_json(FULL_JSON).unwrap();
    assert_eq!(read, full_policy());
    assert_eq!(read.hash(), full_policy().hash());
    assert_eq!(read.chain_ids(), Some(&[1, 14, 114][..]));
    assert_eq!(
        read.selectors_for(&addr(USDT)),
        Some(&[APPROVE, TRANSFER][..])
    );
    assert_eq!(read.selectors_for(&addr(WETH)), Some(&[][..]));
}

#[test]
fn an_empty_object_and_all_nulls_are_the_default_policy() {
    assert_eq!(Policy::from_json("{}").unwrap(), Policy::default());
    let mut nulls = serde_json::Map::new();
    for field in [
        PolicyField::ChainIds,
        PolicyField::MaxValueWei,
        PolicyField::MaxFeeWei,
        PolicyField::RecipientsAllow,
        PolicyField::RecipientsDeny,
        PolicyField::AllowContractCreation,
        PolicyField::Selectors,
        PolicyField::DelegationsAllow,
        PolicyField::AllowUnprotected,
        PolicyField::AllowMessages,
        PolicyField::TypedDataDomains,
        PolicyField::DailyLimitWei,
    ] {
        nulls.insert(field.name().to_owned(), Value::Null);
    }
    assert_eq!(nulls.len(), 12);
    let read = Policy::from_json(&Value::Object(nulls).to_string()).unwrap();
    assert_eq!(read, Policy::default());
    assert_eq!(read.hash(), Policy::default().hash());
}

#[test]
fn empty_lists_are_rules_that_allow_nothing() {
    let read = Policy::from_json(
        r#"{"chain_ids": [], "recipients_allow": [], "delegations_allow": [], "typed_data_domains": []}"#,
    )
    .unwrap();
    assert_eq!(read.chain_ids(), Some(&[][..]));
    assert_eq!(read.recipients_allow(), Some(&[][..]));
    assert_eq!(read.delegations_allow(), Some(&[][..]));
    assert_eq!(read.typed_data_domains(), Some(&[][..]));
    assert_ne!(read.hash(), Policy::default().hash());
}

#[test]
fn amounts_in_every_accepted_form() {
    let cases: [(&str, U256); 9] = [
        ("0", U256::ZERO),
        ("18446744073709551615", U256::from_u64(u64::MAX)),
        ("18446744073709551616", u256_dec("18446744073709551616")),
        (U256_MAX_DEC, U256::MAX),
        ("\"0\"", U256::ZERO),
        ("\"007\"", U256::from_u64(7)),
        (&*format!("\"{U256_MAX_DEC}\""), U256::MAX),
        ("\"0x0\"", U256::ZERO),
        ("\"0XfF\"", U256::from_u64(255)),
    ];
    for (text, expected) in cases {
        for field in ["max_value_wei", "max_fee_wei", "daily_limit_wei"] {
            let p = Policy::from_json(&format!("{{\"{field}\": {text}}}")).unwrap();
            let got = match field {
                "max_value_wei" => p.max_value_wei(),
                "max_fee_wei" => p.max_fee_wei(),
                _ => p.daily_limit_wei(),
            };
            assert_eq!(got, Some(expected), "{field} = {text}");
        }
    }
    // 64 hex digits, and leading zeros beyond them.
    let max_hex = format!("\"0x{}\"", "f".repeat(64));
    let padded = format!("\"0x{}{}\"", "0".repeat(10), "f".repeat(64));
    for text in [max_hex, padded] {
        let p = Policy::from_json(&format!("{{\"max_value_wei\": {text}}}")).unwrap();
        assert_eq!(p.max_value_wei(), Some(U256::MAX));
    }
}

#[test]
fn big_integers_are_read_exactly_wherever_they_sit_in_the_text() {
    // Whitespace, nesting and strings with digits and escaped quotes around
    // the literal must not confuse the exact reader.
    let text = format!(
        "{{\"recipients_deny\":[],\"max_fee_wei\" :\n\t{U256_MAX_DEC} , \"max_value_wei\":\"1\\\"2\"}}"
    );
    assert_eq!(
        err(&text),
        invalid(
            PolicyField::MaxValueWei,
            JsonPosition::Value,
            Expected::Amount
        )
    );
    let text =
        format!("{{\"max_value_wei\":12345678901234567890123,\"max_fee_wei\":{U256_MAX_DEC}}}");
    let p = Policy::from_json(&text).unwrap();
    assert_eq!(p.max_value_wei(), Some(u256_dec("12345678901234567890123")));
    assert_eq!(p.max_fee_wei(), Some(U256::MAX));
}

#[test]
fn amounts_out_of_range_or_of_the_wrong_form_are_refused() {
    let bad = [
        U256_OVER_DEC.to_owned(),
        format!("\"{U256_OVER_DEC}\""),
        format!("\"0x1{}\"", "0".repeat(64)),
        "-1".to_owned(),
        "-99999999999999999999999".to_owned(),
        "1.0".to_owned(),
        "1e18".to_owned(),
        "\"\"".to_owned(),
        "\"0x\"".to_owned(),
        "\" 1\"".to_owned(),
        "\"+1\"".to_owned(),
        "\"-1\"".to_owned(),
        "\"1e18\"".to_owned(),
        "\"0xg\"".to_owned(),
        "true".to_owned(),
        "[1]".to_owned(),
        "{}".to_owned(),
    ];
    for field in [
        PolicyField::MaxValueWei,
        PolicyField::MaxFeeWei,
        PolicyField::DailyLimitWei,
    ] {
        for text in &bad {
            let e = err(&format!("{{\"{}\": {text}}}", field.name()));
            assert_eq!(
                e,
                invalid(field, JsonPosition::Value, Expected::Amount),
                "{field} = {text}"
            );
            let message = e.to_string();
            assert!(message.contains(field.name()), "{message}");
            assert!(message.contains("at most 2^256-1"), "{message}");
        }
    }
}

#[test]
fn chain_ids_are_refused_per_entry_and_above_capacity() {
    let field = PolicyField::ChainIds;
    assert_eq!(
        err_for("chain_ids", &json!(14)),
        invalid(field, JsonPosition::Value, Expected::List)
    );
    for (value, at) in [
        (json!([1, 0]), 1),
        (json!([MAX_CHAIN_ID + 1]), 0),
        (json!([1, 2, "3"]), 2),
        (json!([1.5]), 0),
        (json!([-1]), 0),
        (json!([null]), 0),
    ] {
        assert_eq!(
            err_for("chain_ids", &value),
            invalid(field, JsonPosition::Entry(at), Expected::ChainId),
            "{value}"
        );
    }
    let e = err(&format!("{{\"chain_ids\": [1, {U256_MAX_DEC}]}}"));
    assert_eq!(e, invalid(field, JsonPosition::Entry(1), Expected::ChainId));
    assert_eq!(
        e.to_string(),
        format!(
            "policy JSON: chain_ids[1]: expected a chain id: an integer from 1 to {MAX_CHAIN_ID} (EIP-2294)"
        )
    );
    assert!(Policy::from_json(&json!({ "chain_ids": [MAX_CHAIN_ID] }).to_string()).is_ok());

    let full: Vec<u64> = (1..=MAX_CHAIN_IDS as u64).collect();
    assert!(Policy::from_json(&json!({ "chain_ids": full }).to_string()).is_ok());
    // Duplicates do not count against the capacity.
    let mut repeated = full.clone();
    repeated.push(1);
    assert!(Policy::from_json(&json!({ "chain_ids": repeated }).to_string()).is_ok());
    let over: Vec<u64> = (1..=MAX_CHAIN_IDS as u64 + 1).collect();
    let e = err_for("chain_ids", &json!(over));
    assert_eq!(
        e,
        PolicyJsonError::TooMany {
            field,
            limit: MAX_CHAIN_IDS
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "policy JSON: chain_ids has more than {MAX_CHAIN_IDS} distinct entries (its capacity)"
        )
    );
}

#[test]
fn address_lists_are_refused_per_entry_and_above_capacity() {
    let bad_checksum = USDT.replace('d', "D");
    for (field, limit) in [
        (PolicyField::RecipientsAllow, MAX_RECIPIENTS),
        (PolicyField::RecipientsDeny, MAX_RECIPIENTS),
        (PolicyField::DelegationsAllow, MAX_DELEGATIONS),
    ] {
        let key = field.name();
        assert_eq!(
            err_for(key, &json!(USDT)),
            invalid(field, JsonPosition::Value, Expected::List)
        );
        for (value, at, expected) in [
            (json!([USDT, "0x1234"]), 1, Expected::Address),
            (json!([&USDT[2..]]), 0, Expected::Address),
            (
                json!(["0xzz7F958D2ee523a2206206994597C13D831ec7"]),
                0,
                Expected::Address,
            ),
            (json!([USDT, WETH, 7]), 2, Expected::Address),
            (json!([bad_checksum]), 0, Expected::ChecksumAddress),
        ] {
            let e = err_for(key, &value);
            assert_eq!(
                e,
                invalid(field, JsonPosition::Entry(at), expected),
                "{value}"
            );
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("policy JSON: {key}[{at}]: expected ")),
                "{message}"
            );
        }
        assert!(err_for(key, &json!([bad_checksum]))
            .to_string()
            .contains("EIP-55 checksum"));
        // All lower and all upper case need no checksum.
        let lower = USDT.to_lowercase();
        let upper = format!("0x{}", USDT[2..].to_uppercase());
        assert!(Policy::from_json(&json!({ key: [lower, upper] }).to_string()).is_ok());

        let full: Vec<String> = (0..limit).map(|n| hex_address(&nth(n))).collect();
        assert!(Policy::from_json(&json!({ key: full }).to_string()).is_ok());
        let over: Vec<String> = (0..=limit).map(|n| hex_address(&nth(n))).collect();
        let e = err_for(key, &json!(over));
        assert_eq!(e, PolicyJsonError::TooMany { field, limit });
        assert!(e.to_string().contains(&format!("more than {limit}")), "{e}");
    }
}

#[test]
fn booleans_are_refused_when_not_booleans() {
    for field in [
        PolicyField::AllowContractCreation,
        PolicyField::AllowUnprotected,
        PolicyField::AllowMessages,
    ] {
        for value in [json!(1), json!("true"), json!([]), json!({})] {
            let e = err_for(field.name(), &value);
            assert_eq!(e, invalid(field, JsonPosition::Value, Expected::Bool));
            assert_eq!(
                e.to_string(),
                format!("policy JSON: {field}: expected true, false or null")
            );
        }
    }
}

#[test]
fn selectors_are_refused_at_the_contract_or_entry_that_is_wrong() {
    let field = PolicyField::Selectors;
    assert_eq!(
        err_for("selectors", &json!([USDT])),
        invalid(field, JsonPosition::Value, Expected::SelectorMap)
    );
    let e = err_for("selectors", &json!({ "0x1234": ["0xa9059cbb"] }));
    assert!(matches!(
        e,
        PolicyJsonError::Invalid {
            at: JsonPosition::SelectorContract(key),
            expected: Expected::Address,
            ..
        } if key.as_str() == "0x1234"
    ));
    assert_eq!(
        e.to_string(),
        "policy JSON: selectors key \"0x1234\": expected an address: \"0x\" and 40 hex digits"
    );
    let bad_checksum = USDT.replace('d', "D");
    assert!(matches!(
        err_for("selectors", &json!({ bad_checksum: [] })),
        PolicyJsonError::Invalid {
            expected: Expected::ChecksumAddress,
            ..
        }
    ));
    assert!(matches!(
        err_for("selectors", &json!({ USDT: "0xa9059cbb" })),
        PolicyJsonError::Invalid {
            at: JsonPosition::SelectorContract(_),
            expected: Expected::SelectorList,
            ..
        }
    ));
    for (selectors, index) in [
        (json!(["0xa9059cbb", "a9059cbb"]), 1),
        (json!(["0xa9059cb"]), 0),
        (json!(["0xa9059cbb00"]), 0),
        (json!(["0xa9059cbg"]), 0),
        (json!([2835717307_u64]), 0),
    ] {
        let e = err_for("selectors", &json!({ USDT: selectors }));
        assert_eq!(
            e,
            invalid(
                field,
                JsonPosition::Selector {
                    contract: addr(USDT),
                    index
                },
                Expected::Selector
            ),
            "{selectors}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "policy JSON: selectors[\"{USDT}\"][{index}]: expected a 4-byte function selector: \"0x\" and 8 hex digits"
            )
        );
    }
    // The same contract twice, in two letter cases.
    let e = err(&format!(
        "{{\"selectors\": {{\"{USDT}\": [], \"{}\": []}}}}",
        USDT.to_lowercase()
    ));
    assert_eq!(e, PolicyJsonError::DuplicateSelectorContract(addr(USDT)));
    assert!(e.to_string().contains("twice"), "{e}");

    // Capacity per contract.
    let full: Vec<String> = (0..MAX_SELECTORS_PER_CONTRACT)
        .map(|n| format!("0x{n:08x}"))
        .collect();
    assert!(Policy::from_json(&json!({ "selectors": { USDT: full } }).to_string()).is_ok());
    let over: Vec<String> = (0..=MAX_SELECTORS_PER_CONTRACT)
        .map(|n| format!("0x{n:08x}"))
        .collect();
    let e = err_for("selectors", &json!({ USDT: over }));
    assert_eq!(
        e,
        PolicyJsonError::TooManySelectors {
            contract: addr(USDT),
            limit: MAX_SELECTORS_PER_CONTRACT
        }
    );
    assert!(e.to_string().contains(&format!(
        "more than {MAX_SELECTORS_PER_CONTRACT} distinct selectors"
    )));

    // Capacity in contracts.
    let contracts = |n: usize| -> Value {
        Value::Object(
            (0..n)
                .map(|i| (hex_address(&nth(i)), json!(["0xa9059cbb"])))
                .collect(),
        )
    };
    assert!(Policy::from_json(
        &json!({ "selectors": contracts(MAX_SELECTOR_CONTRACTS) }).to_string()
    )
    .is_ok());
    let e = err_for("selectors", &contracts(MAX_SELECTOR_CONTRACTS + 1));
    assert_eq!(
        e,
        PolicyJsonError::TooMany {
            field,
            limit: MAX_SELECTOR_CONTRACTS
        }
    );
    assert!(e
        .to_string()
        .contains(&format!("more than {MAX_SELECTOR_CONTRACTS} contracts")));
}

#[test]
fn typed_data_domains_are_refused_per_entry_and_above_capacity() {
    let field = PolicyField::TypedDataDomains;
    let key = field.name();
    assert_eq!(
        err_for(key, &json!({ "chain_id": 1, "verifying_contract": USDT })),
        invalid(field, JsonPosition::Value, Expected::List)
    );
    let good = json!({ "chain_id": 1, "verifying_contract": USDT });
    for value in [
        json!([good, { "chain_id": 1 }]),
        json!([good, { "verifying_contract": USDT }]),
        json!([good, { "chain_id": 1, "verifying_contract": USDT, "name": "x" }]),
        json!([good, [1, USDT]]),
        json!([good, USDT]),
    ] {
        let e = err_for(key, &value);
        assert_eq!(
            e,
            invalid(field, JsonPosition::Entry(1), Expected::DomainObject),
            "{value}"
        );
        assert_eq!(
            e.to_string(),
            "policy JSON: typed_data_domains[1]: expected an object with exactly the keys chain_id and verifying_contract"
        );
    }
    for chain_id in [json!(-1), json!("1"), json!(1.5), json!(null)] {
        let e = err_for(
            key,
            &json!([{ "chain_id": chain_id, "verifying_contract": USDT }]),
        );
        assert_eq!(
            e,
            invalid(
                field,
                JsonPosition::DomainChainId(0),
                Expected::DomainChainId
            )
        );
        assert!(e.to_string().starts_with("policy JSON: typed_data_domains[0].chain_id: expected an integer from 0 to 18446744073709551615"));
    }
    let e = err(&format!(
        "{{\"typed_data_domains\": [{{\"chain_id\": 18446744073709551616, \"verifying_contract\": \"{USDT}\"}}]}}"
    ));
    assert_eq!(
        e,
        invalid(
            field,
            JsonPosition::DomainChainId(0),
            Expected::DomainChainId
        )
    );
    let e = err_for(
        key,
        &json!([{ "chain_id": 1, "verifying_contract": "0x12" }]),
    );
    assert_eq!(
        e,
        invalid(
            field,
            JsonPosition::DomainVerifyingContract(0),
            Expected::Address
        )
    );
    assert!(e
        .to_string()
        .starts_with("policy JSON: typed_data_domains[0].verifying_contract: expected an address"));

    let domains = |n: usize| -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({ "chain_id": i, "verifying_contract": USDT }))
                .collect(),
        )
    };
    assert!(
        Policy::from_json(&json!({ key: domains(MAX_TYPED_DATA_DOMAINS) }).to_string()).is_ok()
    );
    assert_eq!(
        err_for(key, &domains(MAX_TYPED_DATA_DOMAINS + 1)),
        PolicyJsonError::TooMany {
            field,
            limit: MAX_TYPED_DATA_DOMAINS
        }
    );
}

#[test]
fn an_unknown_key_is_named() {
    let e = err(r#"{"chain_ids": [1], "max_value": 5}"#);
    assert!(
        matches!(e, PolicyJsonError::UnknownKey(key) if key.as_str() == "max_value" && !key.is_truncated())
    );
    let message = e.to_string();
    assert!(
        message.starts_with(
            "policy JSON: unknown key \"max_value\"; the keys are chain_ids, max_value_wei"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "daily_limit_wei, allow_raw_hashes, default, tokens, permit_max_lifetime_seconds, allow_any_chain_authorization"
        ),
        "{message}"
    );
    // An unknown key is reported even when a known key's value is also wrong.
    assert!(matches!(
        err(r#"{"allow_messages": 1, "header": 0}"#),
        PolicyJsonError::UnknownKey(key) if key.as_str() == "header"
    ));
    // Digits in a key are not mistaken for a number.
    assert!(matches!(
        err(r#"{"123456789012345678901234567890": 1}"#),
        PolicyJsonError::UnknownKey(key) if key.as_str() == "123456789012345678901234567890"
    ));
    // A long key is cut at a character boundary and marked as cut.
    let long = format!("{}é{}", "k".repeat(47), "x".repeat(100));
    let PolicyJsonError::UnknownKey(key) = err(&json!({ long: 1 }).to_string()) else {
        panic!("not an unknown key");
    };
    assert_eq!(key.as_str(), "k".repeat(47));
    assert!(key.is_truncated());
    assert!(e.to_string().contains('"'));
    assert!(PolicyJsonError::UnknownKey(key)
        .to_string()
        .contains(&format!("\"{}\"...", "k".repeat(47))));
    // A control character in a key is escaped in the message.
    let e = err("{\"a\\nb\": 1}");
    assert!(e.to_string().contains("\"a\\nb\""), "{e}");
}

#[test]
fn a_key_given_twice_is_refused_at_any_depth() {
    let e = err(r#"{"max_value_wei": 1, "max_value_wei": 2}"#);
    assert!(matches!(e, PolicyJsonError::DuplicateKey(key) if key.as_str() == "max_value_wei"));
    assert_eq!(
        e.to_string(),
        "policy JSON: key \"max_value_wei\" appears twice in the same object"
    );
    // The same key spelled with an escape.
    assert!(matches!(
        err(r#"{"allow_messages": true, "allow_\u006dessages": false}"#),
        PolicyJsonError::DuplicateKey(key) if key.as_str() == "allow_messages"
    ));
    assert!(matches!(
        err(&format!(r#"{{"typed_data_domains": [{{"chain_id": 1, "chain_id": 2, "verifying_contract": "{USDT}"}}]}}"#)),
        PolicyJsonError::DuplicateKey(key) if key.as_str() == "chain_id"
    ));
    assert!(matches!(
        err(&format!(
            r#"{{"selectors": {{"{USDT}": [], "{USDT}": ["0xa9059cbb"]}}}}"#
        )),
        PolicyJsonError::DuplicateKey(_)
    ));
    // The same key in two different objects is fine.
    let text = format!(
        r#"{{"typed_data_domains": [{{"chain_id": 1, "verifying_contract": "{USDT}"}}, {{"chain_id": 2, "verifying_contract": "{USDT}"}}]}}"#
    );
    assert_eq!(
        Policy::from_json(&text)
            .unwrap()
            .typed_data_domains()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn text_that_is_not_a_policy_object() {
    assert_eq!(err("[]"), PolicyJsonError::NotAnObject);
    assert_eq!(err("null"), PolicyJsonError::NotAnObject);
    assert_eq!(err("\"{}\""), PolicyJsonError::NotAnObject);
    assert_eq!(
        err("{\n  \"chain_ids\": [1,]\n}"),
        PolicyJsonError::Syntax {
            line: 2,
            column: 19
        }
    );
    assert_eq!(
        err("{\"chain_ids\": [1"),
        PolicyJsonError::Syntax {
            line: 1,
            column: 16
        }
    );
    assert_eq!(err(""), PolicyJsonError::Syntax { line: 1, column: 0 });
    assert!(err("{} {}")
        .to_string()
        .contains("syntax error at line 1, column 4"));

    let long = format!("{{\"chain_ids\": [{}1]}}", " ".repeat(MAX_JSON_LEN));
    let e = err(&long);
    assert_eq!(
        e,
        PolicyJsonError::TooLong {
            len: long.len(),
            limit: MAX_JSON_LEN
        }
    );
    assert!(e.to_string().contains(&MAX_JSON_LEN.to_string()));

    assert_eq!(
        Policy::from_json_slice(b"{\"chain_ids\": [1], \"\xff\": 1}").unwrap_err(),
        PolicyJsonError::NotUtf8 { valid_up_to: 20 }
    );
    assert_eq!(
        Policy::from_json_slice(FULL_JSON.as_bytes()).unwrap(),
        full_policy()
    );
}

#[test]
fn the_crate_error_carries_the_json_error() {
    let e: wallet_core::Error = err("[]").into();
    assert_eq!(
        e,
        wallet_core::Error::PolicyJson(PolicyJsonError::NotAnObject)
    );
    assert_eq!(e.to_string(), PolicyJsonError::NotAnObject.to_string());
}

// ------------------------------------------------------------ writing

#[test]
fn to_json_writes_every_key_in_a_form_any_reader_keeps_exactly() {
    let text = full_policy().to_json();
    let value: Value = serde_json::from_str(&text).unwrap();
    let expected = json!({
        "allow_contract_creation": false,
        "allow_messages": false,
        "allow_raw_hashes": false,
        "allow_unprotected": true,
        "chain_ids": [1, 14, 114],
        "daily_limit_wei": U256_MAX_DEC,
        "delegations_allow": [
            "0x0000000000000000000000000000000000000000",
            "0x7777777777777777777777777777777777777777"
        ],
        "max_fee_wei": "10000000000000000",
        "max_value_wei": "2000000000000000000",
        "recipients_allow": [WETH, USDT],
        // EIP-55 form from eth-utils' to_checksum_address.
        "recipients_deny": ["0xdEDEDEDEdEdEdEDedEDeDedEdEdeDedEdEDedEdE"],
        "selectors": { USDT: ["0x095ea7b3", "0xa9059cbb"], WETH: [] },
        "typed_data_domains": [
            { "chain_id": 14, "verifying_contract": USDT },
            { "chain_id": 18446744073709551615_u64, "verifying_contract": "0x0101010101010101010101010101010101010101" }
        ],
        "default": "allow",
        "tokens": {},
        "permit_max_lifetime_seconds": 3600,
        "allow_any_chain_authorization": false
    });
    assert_eq!(value, expected);
    // The EIP-55 forms are what the checksum algorithm gives, not just any
    // mixed case: reading them back would fail otherwise.
    assert_eq!(Policy::from_json(&text).unwrap(), full_policy());

    let default: Value = serde_json::from_str(&Policy::default().to_json()).unwrap();
    assert_eq!(
        default,
        json!({
            "allow_contract_creation": true,
            "allow_messages": true,
            "allow_raw_hashes": false,
            "allow_unprotected": false,
            "chain_ids": null,
            "daily_limit_wei": null,
            "delegations_allow": null,
            "max_fee_wei": null,
            "max_value_wei": null,
            "recipients_allow": null,
            "recipients_deny": [],
            "selectors": {},
            "typed_data_domains": null,
            "default": "allow",
            "tokens": {},
            "permit_max_lifetime_seconds": 3600,
            "allow_any_chain_authorization": false
        })
    );
}

#[test]
fn equal_policies_write_equal_text_and_hash_the_same() {
    // Formatting, key order, list order, duplicates, letter case, and the
    // number form of amounts change neither the policy nor its hash.
    let compact = FULL_JSON.split_whitespace().collect::<String>();
    let reordered = format!(
        r#"{{"typed_data_domains": [{{"chain_id": 14, "verifying_contract": "{}"}}, {{"verifying_contract": "0x0101010101010101010101010101010101010101", "chain_id": 18446744073709551615}}],
            "allow_messages": false, "allow_unprotected": true, "delegations_allow": ["0x0000000000000000000000000000000000000000", "0x7777777777777777777777777777777777777777", "0x7777777777777777777777777777777777777777"],
            "selectors": {{"0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2": [], "{USDT}": ["0x095ea7b3", "0xA9059CBB"]}},
            "allow_contract_creation": false, "recipients_deny": ["0xdededededededededededededededededededede"],
            "recipients_allow": ["{USDT}", "{WETH}"], "daily_limit_wei": "0x{}",
            "max_fee_wei": 10000000000000000, "max_value_wei": "2000000000000000000", "chain_ids": [114, 14, 1]}}"#,
        USDT.to_uppercase().replace("0X", "0x"),
        "f".repeat(64)
    );
    let expected = full_policy();
    for text in [FULL_JSON, &compact, &reordered] {
        let read = Policy::from_json(text).unwrap();
        assert_eq!(read, expected);
        assert_eq!(read.hash(), expected.hash());
        assert_eq!(read.to_json(), expected.to_json());
    }
}

// ------------------------------------------------------------ properties

fn address_strategy() -> impl Strategy<Value = Address> {
    prop_oneof![
        // A few fixed addresses, so that lists share entries.
        (0u8..4).prop_map(a),
        any::<[u8; 20]>().prop_map(Address),
    ]
}

fn amount_strategy() -> impl Strategy<Value = Option<U256>> {
    prop::option::of(prop_oneof![
        any::<u64>().prop_map(U256::from_u64),
        any::<[u8; 32]>().prop_map(U256),
        Just(U256::MAX),
    ])
}

prop_compose! {
    fn policy_strategy()(
        chain_ids in prop::option::of(prop::collection::vec(1..=MAX_CHAIN_ID, 0..=MAX_CHAIN_IDS)),
        max_value in amount_strategy(),
        max_fee in amount_strategy(),
        daily in amount_strategy(),
        allow in prop::option::of(prop::collection::vec(address_strategy(), 0..=8)),
        deny in prop::collection::vec(address_strategy(), 0..=8),
        delegations in prop::option::of(prop::collection::vec(address_strategy(), 0..=MAX_DELEGATIONS)),
        selectors in prop::collection::vec(
            (address_strategy(), prop::collection::vec(any::<[u8; 4]>(), 0..=4)),
            0..=4,
        ),
        domains in prop::option::of(prop::collection::vec(
            (any::<u64>(), address_strategy()),
            0..=MAX_TYPED_DATA_DOMAINS,
        )),
        flags in any::<[bool; 3]>(),
    ) -> Policy {
        let mut p = Policy::default();
        p.set_chain_ids(chain_ids.as_deref()).unwrap();
        p.set_max_value_wei(max_value);
        p.set_max_fee_wei(max_fee);
        p.set_daily_limit_wei(daily);
        p.set_recipients_allow(allow.as_deref()).unwrap();
        p.set_recipients_deny(&deny).unwrap();
        p.set_delegations_allow(delegations.as_deref()).unwrap();
        for (contract, list) in &selectors {
            p.set_selectors(*contract, list).unwrap();
        }
        let domains: Option<Vec<TypedDataDomain>> = domains.map(|list| {
            list.into_iter()
                .map(|(chain_id, verifying_contract)| TypedDataDomain { chain_id, verifying_contract })
                .collect()
        });
        p.set_typed_data_domains(domains.as_deref()).unwrap();
        p.set_allow_contract_creation(flags[0]);
        p.set_allow_unprotected(flags[1]);
        p.set_allow_messages(flags[2]);
        p
    }
}

proptest! {
    #[test]
    fn random_policies_round_trip_through_json(policy in policy_strategy()) {
        let text = policy.to_json();
        let read = Policy::from_json(&text).unwrap();
        prop_assert_eq!(read.hash(), policy.hash());
        prop_assert_eq!(read.to_json(), text);
        prop_assert_eq!(read, policy);
    }

    #[test]
    fn amounts_written_as_json_integers_hex_or_decimal_read_back_exactly(bytes in any::<[u8; 32]>()) {
        let amount = U256(bytes);
        let decimal = amount.to_string();
        for text in [decimal.clone(), format!("\"{decimal}\""), format!("\"{amount:#x}\"")] {
            let p = Policy::from_json(&format!("{{\"max_value_wei\": {text}}}")).unwrap();
            prop_assert_eq!(p.max_value_wei(), Some(amount));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::from_json(&text);
    }

    #[test]
    fn mutated_policy_json_never_panics(
        policy in policy_strategy(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = policy.to_json().into_bytes();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let _ = Policy::from_json_slice(&bytes);
    }
}
