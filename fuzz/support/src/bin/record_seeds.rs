//! Writes the seed corpora that need a TPM: every scenario's response frames
//! from a real swtpm, the sealed-key files and the attestation evidence a
//! wallet writes on swtpm. Run from `fuzz/`:
//!
//! ```text
//! cargo run --release -p wallet-fuzz-support --bin record-seeds [policy|wallet]
//! ```
//!
//! Each swtpm is fresh, so the files differ from run to run; any run's files
//! are valid seeds. `support/recorded/seal_unseal.bin` is the transcript
//! `session_response` splices its input into: rewrite it only together with
//! the corpus that goes with it.

use std::fs;
use std::path::{Path, PathBuf};

use wallet_core::attest::{verify, Expectations, MAX_EVIDENCE_LEN};
use wallet_core::policy::audit::{PolicyEvent, PolicyLogEntry};
use wallet_core::policy::ledger::SpendLedger;
use wallet_core::policy::{Policy, TypedDataDomain};
use wallet_core::signer::Address;
use wallet_core::state::ACCOUNT_FILE;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, Transport};
use wallet_core::tpm::{PcrSelection, Tpm, TransportError};
use wallet_core::tx::U256;
use wallet_core::wallet::{AccountOptions, Wallet};
use wallet_fuzz_support::{run, split_frames, Outcome, Scenario, ATTEST_NONCE, LEDGER_OWNER, SEED};

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
    ledger.record(Some(14), U256::from_u64(10u64.pow(18)), 1_700_000_000);
    ledger.record(None, U256::from_u64(7), 1_700_000_100);
    write(
        "policy_decode",
        "ledger-two",
        &[&[1u8][..], &ledger.encode()].concat(),
    );

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
                ..AccountOptions::default()
            },
        ),
    ] {
        let swtpm = Swtpm::start_temporary().expect("swtpm starts");
        let state = swtpm.dir().join(format!("state-{label}"));
        let mut wallet = Wallet::open(&swtpm.tcti(), &state).expect("wallet opens");
        wallet.create_account(options).expect("account");
        let file = fs::read(state.join(ACCOUNT_FILE)).expect("sealed-key file");
        // Mode byte 0: the file as written, integrity check included.
        let mut input = vec![0u8];
        input.extend_from_slice(&file);
        write("sealed_key_file", label, &input);
        let evidence = wallet.attest(ATTEST_NONCE, 14).expect("evidence");
        verify(&evidence, ATTEST_NONCE, &Expectations::default())
            .expect("genuine evidence verifies");
        let mut buf = vec![0u8; MAX_EVIDENCE_LEN];
        let n = evidence.encode(&mut buf).expect("evidence encodes");
        write("attest_verify", label, &buf[..n]);
    }
}
