//! A hostile TPM in front of a real swtpm, over whole wallet runs.
//!
//! `HostileTpmDouble` forwards every command to swtpm and corrupts the answer
//! to one chosen command: cut short (with and without a matching size
//! field), a wrong size field, a huge size field, the other tag, a flipped
//! last byte (the response HMAC of a session response), huge inner lengths,
//! pseudo-random bytes, an error code with the body still attached, a bare
//! failure code. One full run (create an account; import a known key; sign
//! a transaction and a message; attest; back up; restore into a second
//! state directory on the same TPM; sign again) is made for every command
//! position, each on a fresh copy of one swtpm: the first answer of every command code
//! gets every kind of corruption, later positions one kind each, in turn.
//!
//! What must hold, in every run: no panic; every step either fails or gives
//! a correct result (signatures recover to the key's address, evidence
//! verifies, the restore gives the same address); and no error's `Display`
//! or `Debug` text holds the key, raw or in hex.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::sync::Mutex;
use support::{eip1559_payload, swtpm, TempDir};

use wallet_core::attest::{verify, Expectations, PinnedAk};
use wallet_core::enrollment::ActivationChallenge;
use wallet_core::signer::{eip191_hash, recover_address, Address, SecretKey};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport};
use wallet_core::tpm::{Transport, TransportError};
use wallet_core::tx;
use wallet_core::wallet::{AccountOptions, Wallet};

/// The imported key: distinctive bytes, easy to search for.
const KEY: [u8; 32] = [
    0x7e, 0x57, 0xc0, 0xde, 0x5e, 0xc2, 0xe7, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
];
const NONCE: &[u8] = b"hostile tpm nonce";
const CHAIN_ID: u64 = 14;
const MESSAGE: &[u8] = b"hostile tpm message";
/// `TPM_CC_FlushContext`.
const CC_FLUSH_CONTEXT: u32 = 0x165;
/// `TPM_CC_GetRandom`.
const CC_GET_RANDOM: u32 = 0x17B;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Corruption {
    /// The body cut in half, the size field made to match.
    Truncated,
    /// The body cut in half, the size field left as it was.
    TruncatedKeepingSize,
    /// The size field one more than the bytes sent.
    SizeOffByOne,
    /// The size field at its maximum.
    HugeSize,
    /// `TPM_ST_SESSIONS` and `TPM_ST_NO_SESSIONS` swapped.
    WrongTag,
    /// The last byte flipped: the response HMAC, when sessions are used.
    BadHmac,
    /// The first four bytes after the header (a handle, `parameterSize` or
    /// a `TPM2B` size) and the two after them set to all ones.
    HugeLengths,
    /// The body replaced by pseudo-random bytes.
    Garbage,
    /// `TPM_RC_FAILURE` with the success body still attached.
    ErrorCodeWithBody,
    /// A bare `TPM_RC_FAILURE` answer.
    Failure,
}

const ALL: [Corruption; 10] = [
    Corruption::Truncated,
    Corruption::TruncatedKeepingSize,
    Corruption::SizeOffByOne,
    Corruption::HugeSize,
    Corruption::WrongTag,
    Corruption::BadHmac,
    Corruption::HugeLengths,
    Corruption::Garbage,
    Corruption::ErrorCodeWithBody,
    Corruption::Failure,
];

/// Test double: a real swtpm whose answer to the `target`-th command
/// (1-based, counted over every wallet sharing the counter) is corrupted.
struct HostileTpmDouble {
    inner: StdTransport,
    counter: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    target: usize,
    corruption: Corruption,
    /// The command code of the command whose answer was corrupted, 0 when
    /// the corruption left that answer as it was (a bare header has no body
    /// to cut or scramble).
    corrupted: std::sync::Arc<std::sync::atomic::AtomicU32>,
    /// The command code of every command sent, in order.
    codes: std::sync::Arc<Mutex<Vec<u32>>>,
}

fn corrupt(response: &mut [u8], len: usize, corruption: Corruption, salt: usize) -> usize {
    let set_size = |r: &mut [u8], size: u32| r[2..6].copy_from_slice(&size.to_be_bytes());
    let body = len.saturating_sub(10);
    match corruption {
        Corruption::Truncated => {
            let cut = 10 + body / 2;
            set_size(response, cut as u32);
            cut
        }
        Corruption::TruncatedKeepingSize => 10 + body / 2,
        Corruption::SizeOffByOne => {
            set_size(response, len as u32 + 1);
            len
        }
        Corruption::HugeSize => {
            set_size(response, u32::MAX);
            len
        }
        Corruption::WrongTag => {
            response[1] ^= 0x03;
            len
        }
        Corruption::BadHmac => {
            response[len - 1] ^= 0x01;
            len
        }
        Corruption::HugeLengths => {
            for byte in response.iter_mut().take(len).skip(10).take(6) {
                *byte = 0xff;
            }
            len
        }
        Corruption::Garbage => {
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ salt as u64;
            for byte in &mut response[10..len] {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = state as u8;
            }
            len
        }
        Corruption::ErrorCodeWithBody => {
            response[6..10].copy_from_slice(&0x101u32.to_be_bytes());
            len
        }
        Corruption::Failure => {
            response[..10].copy_from_slice(&[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x01]);
            10
        }
    }
}

impl Transport for HostileTpmDouble {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let count = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if let Some(code) = command.get(6..10) {
            self.codes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(u32::from_be_bytes(code.try_into().unwrap()));
        }
        let len = self.inner.transact(command, response)?;
        if count != self.target {
            return Ok(len);
        }
        let original = response[..len].to_vec();
        let corrupted_len = corrupt(response, len, self.corruption, count);
        if response[..corrupted_len] != original[..] {
            let code = u32::from_be_bytes(command[6..10].try_into().unwrap());
            self.corrupted
                .store(code, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(corrupted_len)
    }
}

/// The outcome of one run: every error seen, and how many commands were sent.
struct Run {
    errors: Vec<wallet_core::Error>,
    commands: usize,
    /// The command code whose answer was changed (0: none).
    corrupted: u32,
    /// The command code of every command sent, in order.
    codes: Vec<u32>,
}

/// Checks a step's result: an error is kept for the secrecy check; a
/// success must pass `check`.
fn step<T>(
    errors: &mut Vec<wallet_core::Error>,
    result: wallet_core::Result<T>,
    check: impl FnOnce(&T),
) -> Option<T> {
    match result {
        Ok(value) => {
            check(&value);
            Some(value)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// The swtpm's AK, enrolled by credential activation over a clean transport
/// (the AK is a deterministic primary: the same on the swtpm's copies).
fn enrolled_ak(tpm: &Swtpm) -> PinnedAk {
    let dir = TempDir::new("enroll");
    let mut wallet = Wallet::open(&tpm.tcti(), &dir.state("clean"), &tpm.trust()).unwrap();
    let request = wallet.enrollment_request().unwrap();
    let challenge = ActivationChallenge::new(
        &request.ek_public,
        &request.ak_public,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let response = wallet.answer_activation(challenge.blob()).unwrap();
    challenge.finish(&request.ak_public, &response).unwrap()
}

/// One full wallet run on `tpm`, with the answer to command `target`
/// corrupted (0: none).
fn full_run(tpm: &Swtpm, pinned: PinnedAk, target: usize, corruption: Corruption) -> Run {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let corrupted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let codes = std::sync::Arc::new(Mutex::new(Vec::new()));
    let open = |dir: &std::path::Path| {
        Wallet::with_transport(
            Box::new(HostileTpmDouble {
                inner: transport::open(&tpm.tcti()).unwrap(),
                counter: counter.clone(),
                target,
                corruption,
                corrupted: corrupted.clone(),
                codes: codes.clone(),
            }),
            dir,
            &tpm.trust(),
        )
    };
    let address = SecretKey::from_bytes(&KEY).unwrap().address();
    let dir = TempDir::new("hostile");
    let mut errors = Vec::new();

    // create: an account of the TPM's own key (unknown to this test).
    if let Some(mut wallet) = step(&mut errors, open(&dir.state("created")), |_| {}) {
        let created = step(
            &mut errors,
            wallet.create_account(AccountOptions::default()),
            |_| {},
        );
        if let Some(created) = created {
            step(&mut errors, wallet.sign_message(MESSAGE), |sig| {
                assert_eq!(recover_address(&eip191_hash(MESSAGE), sig), Ok(created));
            });
        }
    }

    // import, sign, attest, back up.
    let mut backup = None;
    if let Some(mut wallet) = step(&mut errors, open(&dir.state("imported")), |_| {}) {
        let imported = step(
            &mut errors,
            wallet.import_key(&KEY, AccountOptions::default()),
            |a| assert_eq!(*a, address),
        );
        if imported.is_some() {
            let payload = eip1559_payload(3);
            let mut out = vec![0u8; 512];
            step(
                &mut errors,
                wallet.sign_transaction(&payload, &mut out),
                |n| {
                    let signed = tx::decode_signed(&out[..*n]).unwrap();
                    assert_eq!(signed.recover_sender(), Ok(address));
                },
            );
            sign_message_checked(&mut errors, &mut wallet, address);
            step(&mut errors, wallet.attest(NONCE, CHAIN_ID), |evidence| {
                let expect = Expectations {
                    address: Some(address),
                    chain_id: Some(CHAIN_ID),
                    accept_unverified_tpm: true,
                    ..Expectations::default()
                };
                verify(evidence, NONCE, &pinned, &expect)
                    .expect("evidence the wallet returned verifies");
            });
            backup = step(&mut errors, wallet.backup(), |_| {});
        }
    }

    // restore on the same TPM, and sign with the restored account.
    if let Some(backup) = backup {
        if let Some(mut wallet) = step(&mut errors, open(&dir.state("restored")), |_| {}) {
            let restored = step(&mut errors, wallet.restore(&backup), |a| {
                assert_eq!(*a, address)
            });
            if restored.is_some() {
                sign_message_checked(&mut errors, &mut wallet, address);
            }
        }
    }
    let sent_codes = codes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Run {
        errors,
        commands: counter.load(std::sync::atomic::Ordering::SeqCst),
        corrupted: corrupted.load(std::sync::atomic::Ordering::SeqCst),
        codes: sent_codes,
    }
}

fn sign_message_checked(
    errors: &mut Vec<wallet_core::Error>,
    wallet: &mut Wallet,
    address: Address,
) {
    step(errors, wallet.sign_message(MESSAGE), |sig| {
        assert_eq!(recover_address(&eip191_hash(MESSAGE), sig), Ok(address));
    });
}

/// Whether `text` holds the key or any 8-byte run of it: raw, in hex
/// (either case, with or without separators), or as `Debug` prints a byte
/// slice in decimal.
fn holds_key(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let compact: String = lower.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    text.as_bytes()
        .windows(8)
        .any(|w| KEY.windows(8).any(|run| run == w))
        || KEY.windows(8).any(|run| {
            let decimal = format!("{run:?}");
            compact.contains(&hex::encode(run)) || text.contains(&decimal[1..decimal.len() - 1])
        })
}

#[test]
fn secrecy_check_finds_the_key_in_every_form() {
    // The check must be able to fail, or the main test proves nothing.
    assert!(holds_key(&hex::encode(KEY)));
    assert!(holds_key(&hex::encode_upper(&KEY[10..20])));
    assert!(holds_key(&format!("key: {:02x?}", &KEY[..9])));
    assert!(holds_key(&format!("Secret({:?})", &KEY[20..])));
    assert!(!holds_key(
        "TPM response HMAC does not verify (TPM2_Unseal)"
    ));
    assert!(!holds_key(&format!("{:?}", &KEY[..7])));
}

#[test]
fn clean_run_succeeds_throughout() {
    let tpm = swtpm();
    let pinned = enrolled_ak(&tpm);
    let run = full_run(&tpm, pinned, 0, Corruption::Garbage);
    assert!(
        run.errors.is_empty(),
        "errors without corruption: {:?}",
        run.errors
    );
    assert!(run.commands > 20, "only {} commands", run.commands);
}

#[test]
fn every_corrupted_answer_gives_errors_only_and_never_the_key() {
    // Every run starts from a copy of one TPM whose AK is enrolled: the same
    // TPM each time, fresh each time.
    let pristine = swtpm();
    let pinned = enrolled_ak(&pristine);
    let fresh = || pristine.start_temporary_clone().unwrap();
    let clean = full_run(&fresh(), pinned, 0, Corruption::Garbage);
    let (commands, codes) = (clean.commands, clean.codes);
    assert_eq!(codes.len(), commands);
    let mut runs = 0;
    let mut failed_runs = 0;
    let mut silent_flushes = 0;
    for target in 1..=commands {
        // The first answer of every command code gets all ten corruptions;
        // every other position gets one, rotating through the list, so each
        // kind still lands all over the run. (Every kind at every position
        // costs the square of the run's length: many minutes.)
        let code = codes[target - 1];
        let kinds: Vec<Corruption> = if !codes[..target - 1].contains(&code) {
            ALL.to_vec()
        } else {
            vec![ALL[target % ALL.len()]]
        };
        for corruption in kinds {
            let tpm = fresh();
            let run = catch_unwind(AssertUnwindSafe(|| {
                full_run(&tpm, pinned, target, corruption)
            }))
            .unwrap_or_else(|_| panic!("panic with {corruption:?} at command {target}"));
            runs += 1;
            // A changed answer is noticed, except a flush's (a flush that
            // fails is deferred and retried, and the run goes on) and
            // GetRandom's.
            match (run.errors.is_empty(), run.corrupted) {
                (false, _) => failed_runs += 1,
                (true, 0) => {}
                (true, CC_FLUSH_CONTEXT) => silent_flushes += 1,
                // GetRandom's answer has no integrity protection and any bytes
                // are valid; the wallet XORs them with the OS's entropy, so
                // changed bytes are still a secret only this process knows.
                (true, CC_GET_RANDOM) => {}
                (true, code) => panic!(
                    "{corruption:?} on the answer to {} ({code:#x}) at command {target} went unnoticed",
                    wallet_core::tpm::command_name(code)
                ),
            }
            for error in &run.errors {
                let display = error.to_string();
                let debug = format!("{error:?}");
                assert!(
                    !holds_key(&display) && !holds_key(&debug),
                    "{corruption:?} at command {target}: the key in {display} / {debug}"
                );
            }
        }
    }
    assert!(
        failed_runs > runs / 2,
        "{failed_runs} of {runs} runs failed"
    );
    assert!(silent_flushes > 0, "no flush answer was corrupted");
}
