//! Writes the seed corpora that need a TPM: every scenario's response frames
//! from a real swtpm, the sealed-key files and the attestation evidence a
//! wallet writes on swtpm. Run from `fuzz/`:
//!
//! ```text
//! cargo run --release -p wallet-fuzz-support --bin record-seeds [policy|wallet|policy-json|sealed-data]
//! ```
//!
//! Each swtpm is fresh, so the files differ from run to run; any run's files
//! are valid seeds. `support/recorded/seal_unseal.bin` is the transcript
//! `session_response` splices its input into: rewrite it only together with
//! the corpus that goes with it.

use std::fs;
use std::path::{Path, PathBuf};

use wallet_core::attest::{Evidence, MAX_EVIDENCE_LEN};
use wallet_core::policy::audit::{PolicyEvent, PolicyLogEntry};
use wallet_core::policy::ledger::{Asset, SpendLedger};
use wallet_core::policy::{Policy, TypedDataDomain};
use wallet_core::sealed_data::{encrypt_with_data_key, seal_data, SealedDataBlob};
use wallet_core::signer::Address;
use wallet_core::state::ACCOUNT_FILE;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, Transport};
use wallet_core::tpm::ParameterEncryption;
use wallet_core::tpm::{PcrSelection, Tpm, TransportError};
use wallet_core::tx::U256;
use wallet_core::wallet::{AccountOptions, Wallet};
use wallet_fuzz_support::{
    run, split_frames, Outcome, Scenario, ATTEST_NONCE, LEDGER_OWNER, SEALED_DATA_KEY,
    SEALED_DATA_PARTS, SEED,
};

/// A real transport that keeps every response frame.
struct RecordingTransport {
    inner: StdTransport,
    responses: Vec<u8>,
}

impl Transport for RecordingTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let n = self.inner.transact(command, response)?;
        self.responses.extend_from_slice(&response[..n]);
        Ok(n)
    }
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    fs::create_dir_all(&dir).expect("corpus directory");
    fs::write(dir.join(name), bytes).expect("corpus file");
}

fn record(scenario: Scenario) -> Vec<u8> {
    let swtpm = Swtpm::start_temporary().expect("swtpm starts");
    let inner = transport::open(&swtpm.tcti()).expect("swtpm answers");
    let mut tpm = Tpm::with_seed(
        RecordingTransport {
            inner,
            responses: Vec::new(),
        },
        &SEED,
    );
    tpm.salt_sessions_to_unverified_srk();
    let outcome = run(&mut tpm, scenario);
    assert!(
        matches!(outcome, Outcome::Completed(_)),
        "{scenario:?} failed on swtpm: {outcome:?}"
    );
    let frames = tpm.transport().responses.clone();
    // The transcript must replay: same seed, same answers, same outcome.
    {
        let double = wallet_fuzz_support::ReplayTransportDouble::new(&frames);
        let mut replay = Tpm::with_seed(double, &SEED);
        replay.salt_sessions_to_unverified_srk();
        assert_eq!(
            run(&mut replay, scenario),
            outcome,
            "{scenario:?} does not replay"
        );
    }
    frames
}

/// Signing payloads written by eth-account 0.14, chain 14 (legacy EIP-155,
/// EIP-1559 with an access list, EIP-7702), and a pre-EIP-155 one.
const POLICY_PAYLOADS: [&str; 4] = [
    "ea07843b9aca00830186a094353535353535353535353535353535353535353582303984deadbeef0e8080",
    "02f8670e07843b9aca008477359400830186a094353535353535353535353535353535353535353582303984deadbeeff838f7943535353535353535353535353535353535353535e1a00101010101010101010101010101010101010101010101010101010101010101",
    "04f88c0e07843b9aca008477359400830186a094353535353535353535353535353535353535353582303984deadbeefc0f85cf85a0e9435353535353535353535353535353535353535350880a0873c68b75b3ffdb3b738bad4805a817c459eb09367fe454db918d35078969a46a05020c5a643b9b73f6eadca227e9cb1ab98acba3b2e71fbeb62f2c6af36078e65",
    "e707843b9aca00830186a094353535353535353535353535353535353535353582303984deadbeef",
];

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex constant"))
        .collect()
}

/// Policy encodings, spend ledgers and audit logs, as the policy module
/// writes them (the first byte is `policy_decode`'s mode).
fn policy_seeds() {
    let a = Address([0x11; 20]);
    let b = Address([0x22; 20]);
    let mut full = Policy::default();
    full.set_chain_ids(Some(&[1, 14, 114])).expect("chain ids");
    full.set_max_value_wei(Some(U256::from_u64(10u64.pow(18))));
    full.set_max_fee_wei(Some(U256::from_u64(10u64.pow(16))));
    full.set_recipients_allow(Some(&[a, b])).expect("allow");
    full.set_recipients_deny(&[Address([0x33; 20])])
        .expect("deny");
    full.set_allow_contract_creation(false);
    full.set_selectors(a, &[[0xa9, 0x05, 0x9c, 0xbb], [0x09, 0x5e, 0xa7, 0xb3]])
        .expect("selectors");
    full.set_delegations_allow(Some(&[b])).expect("delegations");
    full.set_allow_unprotected(true);
    full.set_allow_messages(false);
    full.set_typed_data_domains(Some(&[TypedDataDomain {
        chain_id: 14,
        verifying_contract: a,
    }]))
    .expect("domains");
    full.set_daily_limit_wei(Some(U256::from_u64(5 * 10u64.pow(18))));
    let mut open = Policy::default();
    open.set_allow_unprotected(true);
    for (label, policy) in [
        ("default", Policy::default()),
        ("full", full.clone()),
        ("unprotected", open),
    ] {
        let encoding = policy.to_bytes();
        let mut input = vec![0u8];
        input.extend_from_slice(&encoding);
        write("policy_decode", &format!("policy-{label}"), &input);
        // ffi_sign mode 4: out_cap 1024, the policy, then a signing payload.
        for (index, payload) in POLICY_PAYLOADS.iter().enumerate() {
            let mut input = vec![4u8, 0x04, 0x00];
            input.extend_from_slice(&u16::try_from(encoding.len()).expect("short").to_be_bytes());
            input.extend_from_slice(&encoding);
            input.extend_from_slice(&unhex(payload));
            write("ffi_sign", &format!("policy-{label}-{index}"), &input);
        }
    }

    let mut ledger = SpendLedger::new(LEDGER_OWNER);
    write(
        "policy_decode",
        "ledger-empty",
        &[&[1u8][..], &ledger.encode()].concat(),
    );
    ledger
        .record(
            Some(14),
            Asset::Eth,
            U256::from_u64(10u64.pow(18)),
            1_700_000_000,
        )
        .expect("room");
    ledger
        .record(None, Asset::Eth, U256::from_u64(7), 1_700_000_100)
        .expect("room");
    write(
        "policy_decode",
        "ledger-two",
        &[&[1u8][..], &ledger.encode()].concat(),
    );

    // ledger_decode: flags (bit 0: fix the digest), length, file, script.
    let ledger_seed = |file: &[u8], script: &[u8]| {
        let mut input = vec![0u8];
        input.extend_from_slice(&u16::try_from(file.len()).expect("short").to_be_bytes());
        input.extend_from_slice(file);
        input.extend_from_slice(script);
        input
    };
    let script = [0, 0x45, 1, 0, 0x65, 1, 1, 0, 2, 2, 0, 3, 3, 0x9f, 0];
    write("ledger_decode", "empty-script", &ledger_seed(&[], &script));
    write(
        "ledger_decode",
        "two-committed",
        &ledger_seed(&ledger.encode(), &script),
    );
    let mut reserved = ledger.clone();
    reserved
        .reserve(
            Some(14),
            Asset::Token(LEDGER_OWNER),
            U256::from_u64(5),
            1_700_000_200,
        )
        .expect("room");
    reserved
        .reserve(None, Asset::Eth, U256::MAX, 1_700_000_300)
        .expect("room");
    reserved.set_counter(42);
    write(
        "ledger_decode",
        "reserved",
        &ledger_seed(&reserved.encode(), &script),
    );
    let mut v1 = b"FLWSPND\0\0\x01".to_vec();
    v1.extend_from_slice(&LEDGER_OWNER.0);
    v1.extend_from_slice(&1u32.to_be_bytes());
    v1.extend_from_slice(&1_700_000_000u64.to_be_bytes());
    v1.extend_from_slice(&14u64.to_be_bytes());
    v1.extend_from_slice(&U256::from_u64(9).0);
    // A zero trailer, recomputed by the target (flag bit 0).
    v1.extend_from_slice(&[0u8; 32]);
    let mut v1_seed = ledger_seed(&v1, &script);
    v1_seed[0] = 1;
    write("ledger_decode", "version-1", &v1_seed);

    let entries = [
        PolicyLogEntry {
            time: 1_700_000_000,
            event: PolicyEvent::Create,
            address: LEDGER_OWNER,
            old_hash: None,
            new_hash: Policy::default().hash(),
        },
        PolicyLogEntry {
            time: 1_700_000_500,
            event: PolicyEvent::Replace,
            address: LEDGER_OWNER,
            old_hash: Some(Policy::default().hash()),
            new_hash: full.hash(),
        },
    ];
    let log: String = entries.iter().map(PolicyLogEntry::to_line).collect();
    write(
        "policy_decode",
        "audit-log",
        &[&[2u8][..], log.as_bytes()].concat(),
    );
}

fn main() {
    // `record-seeds policy` writes the policy seeds only (they need no TPM),
    // `record-seeds wallet` the sealed-key files and evidence only; both
    // leave the recorded transcript as it is.
    match std::env::args().nth(1).as_deref() {
        Some("policy") => {
            policy_seeds();
            return;
        }
        Some("wallet") => {
            wallet_seeds();
            return;
        }
        Some("policy-json") => {
            policy_json_seeds();
            return;
        }
        Some("sealed-data") => {
            sealed_data_seeds();
            return;
        }
        _ => {}
    }
    for scenario in Scenario::ALL {
        let frames = record(scenario);
        let mut input = vec![scenario.selector()];
        input.extend_from_slice(&frames);
        write("tpm_response", &format!("{scenario:?}"), &input);
        if scenario == Scenario::SealUnseal {
            let recorded = fuzz_dir().join("support/recorded");
            fs::create_dir_all(&recorded).expect("recorded directory");
            fs::write(recorded.join("seal_unseal.bin"), &frames).expect("transcript");
            for (index, frame) in split_frames(&frames).into_iter().enumerate() {
                let mut input = vec![u8::try_from(index).expect("few frames")];
                input.extend_from_slice(frame);
                write("session_response", &format!("frame-{index:02}"), &input);
            }
        }
    }

    wallet_seeds();
    policy_seeds();
    policy_json_seeds();
    sealed_data_seeds();
    println!(
        "seed corpora written under {}",
        fuzz_dir().join("corpus").display()
    );
}

/// Sealed-key files and evidence, as a wallet writes them on swtpm.
fn wallet_seeds() {
    for (label, options) in [
        ("plain", AccountOptions::default()),
        (
            "pcr-bound",
            AccountOptions {
                pcrs: Some(PcrSelection::from_indices(&[0, 1, 2, 7]).expect("PCRs")),
                ..AccountOptions::default()
            },
        ),
        (
            "owners",
            AccountOptions {
                owners: Some(
                    wallet_core::authority::OwnerSet::new(
                        &[
                            Address([0x11; 20]),
                            Address([0x22; 20]),
                            Address([0x33; 20]),
                        ],
                        2,
                    )
                    .expect("owner set"),
                ),
                key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
                ..AccountOptions::default()
            },
        ),
    ] {
        let swtpm = Swtpm::start_temporary().expect("swtpm starts");
        let state = swtpm.dir().join(format!("state-{label}"));
        let mut wallet = Wallet::open(&swtpm.tcti(), &state, &swtpm.trust()).expect("wallet opens");
        wallet.create_account(options).expect("account");
        let file = fs::read(state.join(ACCOUNT_FILE)).expect("sealed-key file");
        // Mode byte 0: the file as written, integrity check included.
        let mut input = vec![0u8];
        input.extend_from_slice(&file);
        write("sealed_key_file", label, &input);
        let evidence = wallet.attest(ATTEST_NONCE, 14).expect("evidence");
        // Verifying needs an enrolled AK; the seed only has to be evidence
        // exactly as a wallet encodes it, so it must parse back to itself.
        let mut buf = vec![0u8; MAX_EVIDENCE_LEN];
        let n = evidence.encode(&mut buf).expect("evidence encodes");
        assert_eq!(
            Evidence::parse(&buf[..n]).expect("recorded evidence parses"),
            evidence
        );
        write("attest_verify", label, &buf[..n]);
    }
}

/// The JSON documents of `core/tests/policy_json.rs` that the reader
/// accepts (the full document, the empty and all-null objects, empty lists,
/// amounts in each form), a few it refuses for one reason each, and the text
/// `to_json` writes for the policies of `policy_seeds`.
fn policy_json_seeds() {
    let u256_max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    let full = r#"{
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
    let mut documents: Vec<(String, String)> = vec![
        ("full".into(), full.into()),
        ("empty".into(), "{}".into()),
        (
            "nulls".into(),
            r#"{"chain_ids":null,"max_value_wei":null,"max_fee_wei":null,"recipients_allow":null,"recipients_deny":null,"allow_contract_creation":null,"selectors":null,"delegations_allow":null,"allow_unprotected":null,"allow_messages":null,"typed_data_domains":null,"daily_limit_wei":null}"#.into(),
        ),
        (
            "empty-lists".into(),
            r#"{"chain_ids": [], "recipients_allow": [], "delegations_allow": [], "typed_data_domains": []}"#.into(),
        ),
        ("amount-hex".into(), r#"{"max_fee_wei": "0XfF"}"#.into()),
        ("amount-padded".into(), r#"{"max_value_wei": "007"}"#.into()),
        ("amount-max".into(), format!(r#"{{"daily_limit_wei": "{u256_max}"}}"#)),
        ("amount-big".into(), r#"{"max_value_wei": 18446744073709551616}"#.into()),
        ("refused-duplicate-key".into(), r#"{"allow_messages": true, "allow_messages": false}"#.into()),
        ("refused-unknown-key".into(), r#"{"max_value": 1}"#.into()),
        ("refused-checksum".into(), r#"{"recipients_allow": ["0xdAC17F958D2ee523a2206206994597C13D831eC7"]}"#.into()),
        ("refused-selector".into(), r#"{"selectors": {"0xdAC17F958D2ee523a2206206994597C13D831ec7": ["0xa9059cb"]}}"#.into()),
        ("refused-float".into(), r#"{"chain_ids": [1.5]}"#.into()),
    ];
    let written = Policy::from_json(full).expect("the full document reads");
    documents.push(("written-full".into(), written.to_json()));
    documents.push(("written-default".into(), Policy::default().to_json()));
    for (label, text) in &documents {
        write("policy_json", label, text.as_bytes());
    }
}

/// Sealed-data blobs as `core/tests/sealed_data.rs` makes them on a real
/// swtpm (the test's data: empty, one byte, many bytes (3000 here, under
/// the fuzz length limit), a short text), and
/// the same data under `SEALED_DATA_KEY`: as blobs that open (mode 0), and
/// as round-trip inputs (mode 1: IV, tamper position, data).
fn sealed_data_seeds() {
    let swtpm = Swtpm::start_temporary().expect("swtpm starts");
    let mut tpm =
        Tpm::new(transport::open(&swtpm.tcti()).expect("swtpm answers")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    tpm.startup().expect("startup");
    let srk_name = wallet_core::seal::srk_name(&mut tpm).expect("SRK name");
    let data: [(&str, &[u8]); 4] = [
        ("empty", b""),
        ("one-byte", b"x"),
        ("3000-bytes", &[0xa5; 3000]),
        ("text", b"the backup of a key"),
    ];
    for (index, (label, data)) in data.into_iter().enumerate() {
        let blob = seal_data(&mut tpm, &srk_name, data, ParameterEncryption::Aes128Cfb)
            .expect("swtpm seals");
        write(
            "sealed_data_decode",
            &format!("swtpm-{label}"),
            &[&[0u8][..], &blob].concat(),
        );

        let parts = SealedDataBlob::parse(&blob).expect("a sealed blob parses");
        let iv = [u8::try_from(index).expect("few"); 16];
        let opens = encrypt_with_data_key(
            &SEALED_DATA_KEY,
            &iv,
            parts.srk_name(),
            parts.public_blob(),
            parts.private_blob(),
            data,
        )
        .expect("in bounds");
        write(
            "sealed_data_decode",
            &format!("fuzz-key-{label}"),
            &[&[0u8][..], &opens].concat(),
        );

        let (srk_name, public, private) = SEALED_DATA_PARTS;
        let written = encrypt_with_data_key(&SEALED_DATA_KEY, &iv, srk_name, public, private, data)
            .expect("in bounds");
        // Flip a bit of the ciphertext (or the tag, for empty data).
        let position = u16::try_from(written.len() - 33)
            .expect("short")
            .to_be_bytes();
        if data.len() <= 64 {
            write(
                "sealed_data_decode",
                &format!("round-trip-{label}"),
                &[&[1u8][..], &iv, &position, data].concat(),
            );
        }
    }
}
