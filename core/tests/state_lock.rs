//! One state directory, several OS processes, one swtpm: the daily limit
//! holds when processes sign at once, and when one is killed (`SIGKILL`)
//! between reserving a spend and committing it; a process that finds the
//! swtpm held by another client is told it is busy within the bound, or is
//! served once the holder lets go.
//!
//! The processes are this test binary run again with
//! [`CHILD_ROLE`] set: the `child_process` test then plays the role and
//! reports on stdout; without the variable it does nothing. Every process
//! has its own connection to the one swtpm, which it holds for one
//! operation at a time (the socket transport's default).
#![allow(clippy::unwrap_used)]
// A child process reports to its parent test on stdout.
#![allow(clippy::print_stdout)]

#[path = "wallet_support/transports.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{eip1559_payload, swtpm, TempDir};
use wallet_core::policy::ledger::{EntryState, SpendLedger};
use wallet_core::policy::{Policy, PolicyError, PolicyViolation};
use wallet_core::seal::{KeyLock, PinAuth};
use wallet_core::state::SPEND_LEDGER_FILE;
use wallet_core::tpm::ek::TpmTrust;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{SocketTransport, Transport, TransportError};
use wallet_core::tx::U256;
use wallet_core::wallet::{
    AccountOptions, KeyMode, Wallet, TEST_HOOK_PAUSE_AFTER_RESERVE,
    TEST_HOOK_PAUSE_BEFORE_INCREMENT,
};
use wallet_core::x509::TPM_ROOTS_ENV;
use wallet_core::Error;

/// Which role a child process plays: `sign:<attempts>:<strict|cached>`.
const CHILD_ROLE: &str = "FLARE_WALLET_TEST_CHILD_ROLE";
const CHILD_TCTI: &str = "FLARE_WALLET_TEST_CHILD_TCTI";
const CHILD_STATE: &str = "FLARE_WALLET_TEST_CHILD_STATE";

/// `TPM2_GetRandom` of 8 bytes.
const GET_RANDOM_8: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8];

/// What one `eip1559_payload` spends: value plus gas limit times max fee.
fn spend() -> u128 {
    1_000_000_000_000_000 + 21_000 * 30_000_000_000
}

/// The PIN of the PIN-locked accounts (which have an anti-rollback
/// counter: their ledger is bound to it).
const PIN: &str = "1357";

/// A state directory holding a new account whose daily limit admits
/// exactly `whole_spends` payloads (plus half of one more); PIN-locked,
/// with an anti-rollback counter, when `locked`.
fn account_with_limit(swtpm: &Swtpm, state: &Path, whole_spends: u128, locked: bool) -> U256 {
    let limit = U256::from_u128(whole_spends * spend() + spend() / 2);
    let mut policy = Policy::default();
    policy.set_daily_limit_wei(Some(limit));
    let mut wallet = Wallet::open(&swtpm.tcti(), state, &swtpm.trust()).unwrap();
    let (key_lock, pin) = if locked {
        (
            KeyLock::PIN,
            Some(PinAuth::from_pin(PIN.as_bytes()).unwrap()),
        )
    } else {
        (KeyLock::UNLOCKED, None)
    };
    wallet
        .create_account(AccountOptions {
            policy,
            key_lock: Some(key_lock),
            pin,
            ..AccountOptions::default()
        })
        .unwrap();
    wallet.close();
    limit
}

fn spawn_child(role: &str, swtpm: &Swtpm, state: &Path, pause_file: Option<&Path>) -> Child {
    spawn_child_paused_at(
        role,
        swtpm,
        state,
        pause_file,
        TEST_HOOK_PAUSE_AFTER_RESERVE,
    )
}

/// As [`spawn_child`], pausing at test hook `hook`.
fn spawn_child_paused_at(
    role: &str,
    swtpm: &Swtpm,
    state: &Path,
    pause_file: Option<&Path>,
    hook: &str,
) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROLE, role)
        .env(CHILD_TCTI, swtpm.tcti())
        .env(TPM_ROOTS_ENV, swtpm.ek_ca_pem_path().unwrap())
        .env(CHILD_STATE, state)
        .env_remove(TEST_HOOK_PAUSE_AFTER_RESERVE)
        .env_remove(TEST_HOOK_PAUSE_BEFORE_INCREMENT)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = pause_file {
        command.env(hook, path);
    }
    command.spawn().unwrap()
}

/// The `signed=N refused=M` line a signing child prints.
fn child_counts(child: Child) -> (u32, u32) {
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|line| line.split_once("child: ").map(|(_, report)| report))
        .unwrap_or_else(|| panic!("no report in {stdout}"));
    let mut counts = line.split(' ').map(|field| {
        field
            .split_once('=')
            .and_then(|(_, n)| n.parse::<u32>().ok())
            .unwrap()
    });
    (counts.next().unwrap(), counts.next().unwrap())
}

/// The child's side: signs `attempts` payloads, counting signatures and
/// daily-limit refusals; anything else fails the process.
#[test]
fn child_process() {
    let Ok(role) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let tcti = std::env::var(CHILD_TCTI).unwrap();
    let state = std::env::var(CHILD_STATE).unwrap();
    if role == "open" {
        match Wallet::open(&tcti, Path::new(&state), &TpmTrust::from_env().unwrap()) {
            Ok(_) => println!("child: opened"),
            Err(e) => println!("child: error={e}"),
        }
        return;
    }
    let mut parts = role.split(':');
    assert_eq!(parts.next(), Some("sign"));
    let attempts: u64 = parts.next().unwrap().parse().unwrap();
    let mode = match parts.next() {
        Some("cached") => KeyMode::Cached,
        _ => KeyMode::Strict,
    };
    let mut wallet =
        Wallet::open(&tcti, Path::new(&state), &TpmTrust::from_env().unwrap()).unwrap();
    if parts.next() == Some("pin") {
        wallet.set_pin(Some(PinAuth::from_pin(PIN.as_bytes()).unwrap()));
    }
    wallet.set_key_mode(mode);
    wallet.load_account().unwrap();
    let (mut signed, mut refused) = (0, 0);
    let mut out = [0u8; 512];
    for nonce in 0..attempts {
        match wallet.sign_transaction(&eip1559_payload(nonce), &mut out) {
            Ok(_) => signed += 1,
            Err(Error::Policy(PolicyError::Violation(PolicyViolation::DailyLimitExceeded {
                ..
            }))) => refused += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    println!("child: signed={signed} refused={refused}");
}

#[test]
fn two_processes_signing_at_once_never_pass_the_daily_limit() {
    let swtpm = swtpm();
    let tmp = TempDir::new("two-processes");
    let whole_spends = 7;
    for run in 0..6 {
        let state = tmp.state(&format!("run-{run}"));
        // Runs 4 and 5: a PIN-locked account, whose ledger is bound to
        // the anti-rollback counter (every reserve increments it).
        let locked = run >= 4;
        let limit = account_with_limit(&swtpm, &state, whole_spends, locked);
        // Half the runs unseal for every signature, so the processes also
        // take turns on the swtpm while they sign.
        let mode = if run % 2 == 0 { "cached" } else { "strict" };
        let lock = if locked { ":pin" } else { "" };
        let role = format!("sign:10:{mode}{lock}");
        let children = [
            spawn_child(&role, &swtpm, &state, None),
            spawn_child(&role, &swtpm, &state, None),
        ];
        let counts: Vec<(u32, u32)> = children.into_iter().map(child_counts).collect();
        let signed: u32 = counts.iter().map(|c| c.0).sum();
        let refused: u32 = counts.iter().map(|c| c.1).sum();
        // Never more than the limit, and the limit is not wasted either:
        // every attempt was signed or refused by the rule.
        assert_eq!(
            u128::from(signed),
            whole_spends,
            "run {run} ({mode}): {counts:?}"
        );
        assert_eq!(signed + refused, 20);
        let mut wallet = Wallet::open(&swtpm.tcti(), &state, &swtpm.trust()).unwrap();
        if locked {
            wallet.set_pin(Some(PinAuth::from_pin(PIN.as_bytes()).unwrap()));
        }
        wallet.load_account().unwrap();
        let spent = wallet.daily_spent(Some(14)).unwrap();
        assert_eq!(spent, U256::from_u128(u128::from(signed) * spend()));
        assert!(spent <= limit);
        wallet.close();
    }
}

/// The report of an `open` child, which must exit within `bound` (it is
/// killed and the test fails otherwise).
fn open_child_report(mut child: Child, bound: Duration) -> String {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > bound {
            child.kill().unwrap();
            panic!("the second process was still waiting after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}");
    stdout
        .lines()
        .find_map(|line| line.split_once("child: ").map(|(_, r)| r.to_owned()))
        .unwrap_or_else(|| panic!("no report in {stdout}"))
}

#[test]
fn a_second_process_on_a_held_swtpm_is_told_busy_in_under_5_seconds() {
    let swtpm = swtpm();
    let tmp = TempDir::new("busy");
    // Another client holds the swtpm and does not let go.
    let mut holder = SocketTransport::unix(swtpm.socket_path()).persistent();
    let mut response = [0u8; 4096];
    holder.transact(&GET_RANDOM_8, &mut response).unwrap();
    let child = spawn_child("open", &swtpm, &tmp.state("s"), None);
    let started = Instant::now();
    let report = open_child_report(child, Duration::from_secs(5));
    eprintln!("busy reported after {:?}", started.elapsed());
    assert!(report.starts_with("error="), "{report}");
    assert!(
        report.contains(&TransportError::Busy.to_string()),
        "{report}"
    );
    assert!(report.contains("TPM busy (held by another client)"));
    // Once it lets go, a new process is served.
    holder.disconnect();
    let child = spawn_child("open", &swtpm, &tmp.state("s"), None);
    assert_eq!(open_child_report(child, Duration::from_secs(60)), "opened");
}

#[test]
fn a_second_process_is_served_once_a_short_holder_lets_go() {
    let swtpm = swtpm();
    let tmp = TempDir::new("turn");
    let mut holder = SocketTransport::unix(swtpm.socket_path()).persistent();
    let mut response = [0u8; 4096];
    holder.transact(&GET_RANDOM_8, &mut response).unwrap();
    let child = spawn_child("open", &swtpm, &tmp.state("s"), None);
    // Held for well under the busy bound: the child waits its turn.
    std::thread::sleep(Duration::from_millis(300));
    holder.disconnect();
    assert_eq!(open_child_report(child, Duration::from_secs(60)), "opened");
}

/// Waits for the file a paused child creates; fails the test if the child
/// exits first or it takes longer than `bound`.
fn wait_for_pause(child: &mut Child, marker: &Path, bound: Duration) {
    let started = Instant::now();
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child exited ({status}) before pausing");
        }
        assert!(started.elapsed() < bound, "the child never paused");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_process_killed_between_reserve_and_commit_never_lets_the_limit_be_passed() {
    let swtpm = swtpm();
    let tmp = TempDir::new("kill-9");
    let whole_spends = 3;
    // The locked account is also killed between writing its reserving
    // ledger and incrementing the counter: the next load completes the
    // increment.
    let cases = [
        (0u32, false, TEST_HOOK_PAUSE_AFTER_RESERVE),
        (1, false, TEST_HOOK_PAUSE_AFTER_RESERVE),
        (1, true, TEST_HOOK_PAUSE_AFTER_RESERVE),
        (0, true, TEST_HOOK_PAUSE_BEFORE_INCREMENT),
        (1, true, TEST_HOOK_PAUSE_BEFORE_INCREMENT),
    ];
    for (case, (committed_before, locked, hook)) in cases.into_iter().enumerate() {
        let state = tmp.state(&format!("kill-{case}"));
        account_with_limit(&swtpm, &state, whole_spends, locked);
        let lock = if locked { ":pin" } else { "" };
        // Some signatures first, committed in full.
        if committed_before > 0 {
            let child = spawn_child(
                &format!("sign:{committed_before}:cached{lock}"),
                &swtpm,
                &state,
                None,
            );
            assert_eq!(child_counts(child), (committed_before, 0));
        }
        // Then one that reserves its spend and is killed before committing.
        let marker = tmp.state(&format!("paused-{case}"));
        let mut child = spawn_child_paused_at(
            &format!("sign:1:strict{lock}"),
            &swtpm,
            &state,
            Some(&marker),
            hook,
        );
        wait_for_pause(&mut child, &marker, Duration::from_secs(60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // The reservation is on disk and counts.
        let bytes = std::fs::read(state.join(SPEND_LEDGER_FILE)).unwrap();
        let mut wallet = Wallet::open(&swtpm.tcti(), &state, &swtpm.trust()).unwrap();
        if locked {
            wallet.set_pin(Some(PinAuth::from_pin(PIN.as_bytes()).unwrap()));
        }
        // A bound ledger loads, whether the killed process incremented the
        // counter for its reservation or not.
        let address = wallet.load_account().unwrap();
        let ledger = SpendLedger::inspect(&bytes, &address).unwrap();
        let reserved = ledger
            .entries()
            .iter()
            .filter(|e| matches!(e.state, EntryState::Reserved(_)))
            .count();
        assert_eq!(reserved, 1);
        let spent_so_far = u128::from(committed_before) + 1;
        assert_eq!(
            wallet.daily_spent(Some(14)).unwrap(),
            U256::from_u128(spent_so_far * spend())
        );
        // Whoever signs next gets only what is left of the limit.
        let mut out = [0u8; 512];
        let mut signed_after = 0u128;
        for nonce in 100..110 {
            match wallet.sign_transaction(&eip1559_payload(nonce), &mut out) {
                Ok(_) => signed_after += 1,
                Err(Error::Policy(PolicyError::Violation(
                    PolicyViolation::DailyLimitExceeded { .. },
                ))) => {}
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(signed_after, whole_spends - spent_so_far);
        assert_eq!(
            wallet.daily_spent(Some(14)).unwrap(),
            U256::from_u128(whole_spends * spend())
        );
        wallet.close();
    }
}
