//! The policy's JSON reader over arbitrary bytes (`Policy::from_json_slice`).
//!
//! What it accepts must survive both of the policy's other forms: the
//! canonical encoding decodes to an equal policy with the same hash, and
//! `to_json` writes text that `serde_json` reads as one object with the keys
//! the default policy's text has (every rule's), that the reader reads back to an equal policy, and that is
//! written again unchanged (equal policies have one text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use wallet_core::policy::Policy;

fn object(json: &str) -> Map<String, Value> {
    match serde_json::from_str(json) {
        Ok(Value::Object(object)) => object,
        other => panic!("to_json wrote {json}, read as {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::from_json_slice(data) else {
        return;
    };

    let encoding = policy.to_bytes();
    let decoded = Policy::decode(&encoding).expect("the canonical encoding decodes");
    assert_eq!(decoded, policy, "encoding then decoding changed the policy");
    assert_eq!(decoded.hash(), policy.hash());

    let json = policy.to_json();
    let keys: Vec<String> = object(&json).into_iter().map(|(key, _)| key).collect();
    let default_keys: Vec<String> = object(&Policy::default().to_json())
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(keys, default_keys, "to_json wrote other keys: {json}");

    let read = Policy::from_json(&json).expect("to_json reads back");
    assert_eq!(read, policy, "to_json then from_json changed the policy");
    assert_eq!(read.hash(), policy.hash());
    assert_eq!(read.to_json(), json, "equal policies wrote different text");
});
