//! The ethereum/tests suites `TransactionTests` and `RLPTests` (copied into
//! `tests/vectors/ethereum-tests`, see the README there).
//!
//! `TransactionTests`: each file holds one signed transaction and, per fork,
//! either the outcome (`hash`, `sender`, `intrinsicGas`) or an `exception`.
//! A current client applies the newest fork present (Cancun for most files,
//! older for files that were not refilled), so each test is judged against
//! that fork's result: a valid transaction must decode, hash to `hash`,
//! recover `sender` and cost `intrinsicGas`; an invalid one must be refused
//! by `decode_signed`, by sender recovery, or by the stateless rules of
//! `validate` for the suite's network, chain id 1.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "support/helpers.rs"]
mod helpers;

use std::path::{Path, PathBuf};

use helpers::{b32, unhex};
use serde_json::Value;
use wallet_core::rlp::{self, Item, RlpError, RlpSink, SliceSink};
use wallet_core::tx::{decode_signed, Fork, TxError};

const FORK_ORDER: &[&str] = &[
    "Frontier",
    "Homestead",
    "EIP150",
    "EIP158",
    "Byzantium",
    "Constantinople",
    "ConstantinopleFix",
    "Istanbul",
    "Berlin",
    "London",
    "Paris",
    "Shanghai",
    "Cancun",
    "Prague",
];

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ethereum-tests")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Whether the outcome matched, and the stage that decided it.
enum Judged {
    Valid,
    RejectedByDecoder(TxError),
    RejectedByRecovery(TxError),
    RejectedByRules(TxError),
}

/// The fillers run every test on a chain with id 1.
const SUITE_CHAIN_ID: u64 = 1;

fn judge(bytes: &[u8], fork: Fork) -> Judged {
    let signed = match decode_signed(bytes) {
        Err(e) => return Judged::RejectedByDecoder(e),
        Ok(signed) => signed,
    };
    if let Err(e) = signed.recover_sender() {
        return Judged::RejectedByRecovery(e);
    }
    match signed.transaction().validate(fork, SUITE_CHAIN_ID) {
        Err(e) => Judged::RejectedByRules(e),
        Ok(()) => Judged::Valid,
    }
}

#[test]
fn transaction_tests() {
    let files = json_files(&vectors_dir().join("TransactionTests"));
    assert_eq!(files.len(), 210, "every TransactionTests file is present");

    let mut valid = 0;
    let mut rejected_by_decoder = 0;
    let mut rejected_by_recovery = 0;
    let mut rejected_by_rules = 0;
    let mut newest_forks = std::collections::BTreeMap::<&str, usize>::new();
    let mut failures = Vec::new();

    for path in &files {
        let file = load(path);
        for (name, test) in file.as_object().unwrap() {
            let results = test["result"].as_object().unwrap();
            let fork_name = *FORK_ORDER
                .iter()
                .rev()
                .find(|fork| results.contains_key(**fork))
                .unwrap();
            *newest_forks.entry(fork_name).or_default() += 1;
            // Files not refilled after Shanghai still judge a current client
            // by Cancun's stateless rules, which equal Shanghai's.
            let fork = if fork_name == "Prague" {
                Fork::Prague
            } else {
                Fork::Cancun
            };
            let expected = &results[fork_name];
            let bytes = unhex(test["txbytes"].as_str().unwrap());
            let context = format!("{} ({name}, {fork_name})", path.display());

            match (expected.get("exception"), judge(&bytes, fork)) {
                (Some(_), Judged::RejectedByDecoder(_)) => rejected_by_decoder += 1,
                // Malformed encodings must be caught by the decoder itself.
                (Some(exception), Judged::RejectedByRecovery(e) | Judged::RejectedByRules(e))
                    if exception.as_str().unwrap_or("").contains(".RLP_") =>
                {
                    failures.push(format!("{context}: {exception} passed decoding ({e})"));
                }
                (Some(_), Judged::RejectedByRecovery(_)) => rejected_by_recovery += 1,
                (Some(_), Judged::RejectedByRules(_)) => rejected_by_rules += 1,
                (Some(exception), Judged::Valid) => {
                    failures.push(format!("{context}: accepted, expected {exception}"));
                }
                (
                    None,
                    Judged::RejectedByDecoder(e)
                    | Judged::RejectedByRecovery(e)
                    | Judged::RejectedByRules(e),
                ) => {
                    failures.push(format!("{context}: rejected ({e}), expected valid"));
                }
                (None, Judged::Valid) => {
                    let signed = decode_signed(&bytes).unwrap();
                    let hash = b32(expected["hash"].as_str().unwrap());
                    let sender = helpers::addr(expected["sender"].as_str().unwrap());
                    let intrinsic = u64::from_str_radix(
                        expected["intrinsicGas"]
                            .as_str()
                            .unwrap()
                            .trim_start_matches("0x"),
                        16,
                    )
                    .unwrap();
                    if signed.hash() != hash {
                        failures.push(format!("{context}: hash differs"));
                    }
                    match signed.recover_sender() {
                        Ok(recovered) if recovered == sender => {}
                        other => failures.push(format!("{context}: sender {other:?}")),
                    }
                    if signed.transaction().intrinsic_gas() != intrinsic {
                        failures.push(format!(
                            "{context}: intrinsic gas {} != {intrinsic}",
                            signed.transaction().intrinsic_gas()
                        ));
                    }
                    // Re-encoding the decoded transaction gives the same bytes.
                    let mut out = vec![0u8; bytes.len()];
                    match signed
                        .transaction()
                        .encode_signed(&signed.signature(), &mut out)
                    {
                        Ok(len) if out[..len] == bytes[..] => {}
                        other => failures.push(format!("{context}: re-encoding {other:?}")),
                    }
                    valid += 1;
                }
            }
        }
    }

    println!(
        "TransactionTests: {} files, newest fork per test {newest_forks:?}; \
         {valid} valid (decoded, hash, sender, intrinsic gas and re-encoding checked), \
         {rejected_by_decoder} rejected by decode_signed, {rejected_by_recovery} by sender \
         recovery, {rejected_by_rules} by validate",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        valid + rejected_by_decoder + rejected_by_recovery + rejected_by_rules,
        210
    );
}

/// A generic RLP value, for the RLPTests.
#[derive(Debug, PartialEq)]
enum Tree {
    Bytes(Vec<u8>),
    List(Vec<Tree>),
}

/// Big-endian bytes of a decimal string of any size (no leading zeros).
fn decimal_to_be(s: &str) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for digit in s.bytes() {
        let mut carry = u32::from(digit - b'0');
        for byte in out.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    out
}

fn tree_from_json(value: &Value) -> Tree {
    match value {
        Value::String(s) => match s.strip_prefix('#') {
            Some(decimal) => Tree::Bytes(decimal_to_be(decimal)),
            None => Tree::Bytes(s.as_bytes().to_vec()),
        },
        Value::Number(n) => {
            let n = n.as_u64().unwrap();
            let bytes = n.to_be_bytes();
            let first = bytes.iter().position(|&b| b != 0).unwrap_or(8);
            Tree::Bytes(bytes[first..].to_vec())
        }
        Value::Array(items) => Tree::List(items.iter().map(tree_from_json).collect()),
        other => panic!("unexpected RLP test input {other}"),
    }
}

impl Tree {
    fn length(&self) -> usize {
        match self {
            Tree::Bytes(bytes) => rlp::bytes_length(bytes),
            Tree::List(items) => {
                let payload: usize = items.iter().map(Tree::length).sum();
                rlp::list_header_length(payload) + payload
            }
        }
    }

    fn encode(&self, out: &mut dyn RlpSink) {
        match self {
            Tree::Bytes(bytes) => rlp::encode_bytes(bytes, out),
            Tree::List(items) => {
                rlp::encode_list_header(items.iter().map(Tree::length).sum(), out);
                for item in items {
                    item.encode(out);
                }
            }
        }
    }

    /// Strict decode of exactly one item filling `buf`, recursively.
    fn decode_all(buf: &[u8]) -> Result<Tree, RlpError> {
        let mut cursor = buf;
        let tree = Self::decode(&mut cursor)?;
        rlp::expect_end(cursor)?;
        Ok(tree)
    }

    fn decode(buf: &mut &[u8]) -> Result<Tree, RlpError> {
        Ok(match Item::decode(buf)? {
            Item::Bytes(bytes) => Tree::Bytes(bytes.to_vec()),
            Item::List(mut payload) => {
                let mut items = Vec::new();
                while !payload.is_empty() {
                    items.push(Self::decode(&mut payload)?);
                }
                Tree::List(items)
            }
        })
    }
}

#[test]
fn rlp_tests_valid() {
    let file = load(&vectors_dir().join("RLPTests/rlptest.json"));
    let cases = file.as_object().unwrap();
    assert_eq!(cases.len(), 28);
    for (name, case) in cases {
        let expected = unhex(case["out"].as_str().unwrap());
        let tree = tree_from_json(&case["in"]);

        assert_eq!(tree.length(), expected.len(), "{name}: length");
        let mut out = vec![0u8; expected.len()];
        let mut sink = SliceSink::new(&mut out);
        tree.encode(&mut sink);
        assert_eq!(sink.finish().unwrap(), expected.len(), "{name}");
        assert_eq!(out, expected, "{name}: encoding");

        assert_eq!(
            Tree::decode_all(&expected).unwrap(),
            tree,
            "{name}: decoding"
        );

        // Integers that fit also go through the typed integer decoders.
        if let Some(n) = case["in"].as_u64() {
            let mut cursor = &expected[..];
            assert_eq!(rlp::decode_u64(&mut cursor).unwrap(), n, "{name}");
            assert!(cursor.is_empty());
            let mut buf = [0u8; 9];
            let len = rlp::encode_to_slice(&n, &mut buf).unwrap();
            assert_eq!(&buf[..len], &expected[..], "{name}: u64 encoding");
        }
    }
}

#[test]
fn rlp_tests_invalid() {
    let file = load(&vectors_dir().join("RLPTests/invalidRLPTest.json"));
    let cases = file.as_object().unwrap();
    assert_eq!(cases.len(), 26);
    for (name, case) in cases {
        let bytes = unhex(case["out"].as_str().unwrap());
        let result = Tree::decode_all(&bytes);
        assert!(result.is_err(), "{name}: accepted as {result:?}");
        println!("{name}: {}", result.unwrap_err());
    }
}
