//! Writes the seed corpora that need a TPM: every scenario's response frames
//! from a real swtpm, the sealed-key files and the attestation evidence a
//! wallet writes on swtpm. Run from `fuzz/`:
//!
//! ```text
//! cargo run --release -p wallet-fuzz-support --bin record-seeds
//! ```
//!
//! Each swtpm is fresh, so the files differ from run to run; any run's files
//! are valid seeds. `support/recorded/seal_unseal.bin` is the transcript
//! `session_response` splices its input into: rewrite it only together with
//! the corpus that goes with it.

use std::fs;
use std::path::{Path, PathBuf};

use wallet_core::attest::{verify, Expectations, MAX_EVIDENCE_LEN};
use wallet_core::state::ACCOUNT_FILE;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, Transport};
use wallet_core::tpm::{PcrSelection, Tpm, TransportError};
use wallet_core::wallet::{AccountOptions, Wallet};
use wallet_fuzz_support::{run, split_frames, Outcome, Scenario, ATTEST_NONCE, SEED};

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

fn main() {
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

    // Sealed-key files and evidence, as a wallet writes them on swtpm.
    for (label, options) in [
        ("plain", AccountOptions::default()),
        (
            "pcr-bound",
            AccountOptions {
                pcrs: Some(PcrSelection::from_indices(&[0, 1, 2, 7]).expect("PCRs")),
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
    println!(
        "seed corpora written under {}",
        fuzz_dir().join("corpus").display()
    );
}
