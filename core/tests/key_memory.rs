//! The cached key's memory, seen from `/proc` in a process of its own: once
//! a key is cached, the process has locked memory (`VmLck` > 0) and a
//! locked mapping marked `dd` (`MADV_DONTDUMP`) in `/proc/self/smaps`;
//! before, it has neither. `make_process_non_dumpable` clears the dumpable
//! flag.
#![allow(clippy::unwrap_used)]
// A child process reports to its parent test on stdout.
#![allow(clippy::print_stdout)]

#[path = "wallet_support/transports.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use support::{swtpm, TempDir};
use wallet_core::tpm::ek::TpmTrust;
use wallet_core::wallet::{
    make_process_non_dumpable, process_is_dumpable, AccountOptions, KeyMode, Wallet,
};
use wallet_core::x509::TPM_ROOTS_ENV;

const CHILD_ROLE: &str = "FLARE_WALLET_TEST_KEY_MEMORY_CHILD";

/// `VmLck` of /proc/self/status, in kB.
fn locked_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmLck:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// How many mappings of /proc/self/smaps are both locked (`lo`) and left
/// out of core dumps (`dd`).
fn locked_dontdump_mappings() -> usize {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    smaps
        .lines()
        .filter_map(|line| line.strip_prefix("VmFlags:"))
        .filter(|flags| {
            let flags: Vec<&str> = flags.split_whitespace().collect();
            flags.contains(&"lo") && flags.contains(&"dd")
        })
        .count()
}

fn report(stage: &str) {
    println!(
        "child: {stage} vmlck_kb={} lo_dd={} dumpable={}",
        locked_kb(),
        locked_dontdump_mappings(),
        process_is_dumpable().unwrap()
    );
}

#[test]
fn child_process() {
    let Ok(state) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let tcti = std::env::var("FLARE_WALLET_TEST_KEY_MEMORY_TCTI").unwrap();
    let mut wallet =
        Wallet::open(&tcti, Path::new(&state), &TpmTrust::from_env().unwrap()).unwrap();
    wallet.set_key_mode(KeyMode::Cached);
    report("before");
    wallet.load_account().unwrap();
    let protection = wallet.cached_key_protection().unwrap();
    assert!(protection.locked && protection.dont_dump, "{protection:?}");
    make_process_non_dumpable().unwrap();
    report("cached");
    wallet.set_key_mode(KeyMode::Strict);
    assert!(wallet.cached_key_protection().is_none());
    report("wiped");
}

fn field(line: &str, name: &str) -> String {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

#[test]
fn a_cached_key_is_locked_and_left_out_of_core_dumps() {
    let swtpm = swtpm();
    let tmp = TempDir::new("key-memory");
    let state = tmp.state("s");
    let mut wallet = Wallet::open(&swtpm.tcti(), &state, &swtpm.trust()).unwrap();
    wallet.create_account(AccountOptions::default()).unwrap();
    wallet.close();

    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROLE, &state)
        .env("FLARE_WALLET_TEST_KEY_MEMORY_TCTI", swtpm.tcti())
        .env(TPM_ROOTS_ENV, swtpm.ek_ca_pem_path().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once("child: ").map(|(_, r)| r))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let (before, cached, wiped) = (lines[0], lines[1], lines[2]);
    assert_eq!(field(before, "vmlck_kb"), "0", "{before}");
    assert_eq!(field(before, "lo_dd"), "0", "{before}");
    assert_eq!(field(before, "dumpable"), "true", "{before}");
    assert!(
        field(cached, "vmlck_kb").parse::<u64>().unwrap() > 0,
        "{cached}"
    );
    assert_eq!(field(cached, "lo_dd"), "1", "{cached}");
    assert_eq!(field(cached, "dumpable"), "false", "{cached}");
    // Back to strict: the page is wiped and unmapped.
    assert_eq!(field(wiped, "vmlck_kb"), "0", "{wiped}");
    assert_eq!(field(wiped, "lo_dd"), "0", "{wiped}");
}
