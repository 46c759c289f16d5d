//! The firmware on QEMU against the core on the build machine, byte for byte.
//!
//! `make test-firmware` builds the firmware for each board and passes its
//! path in `FIRMWARE_MPS2_AN386` (Cortex-M4F, thumbv7em-none-eabihf) and
//! `FIRMWARE_LM3S6965EVB` (Cortex-M3, thumbv7m-none-eabi). Each image is
//! run under `qemu-system-arm` with semihosting; what it prints must be
//! exactly what [`wallet_cortex_m::run`] reports here, computed now by the
//! same core built for this machine (RFC 6979 signatures are deterministic,
//! so they must be identical), and the host checks each result on its own
//! as well: every signed transaction decodes and recovers to the key's
//! address, and so do the two signatures over the message and the digest.

use std::env;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use wallet_core::keccak::keccak256;
use wallet_core::signer::{eip191_hash, eip712_hash, recover_address, Signature};
use wallet_core::tx::decode_signed;
use wallet_cortex_m::{run, test_key, TxCase, MESSAGE};

/// Far more than a run takes (about a second).
const QEMU_TIMEOUT: Duration = Duration::from_secs(120);

struct Board {
    /// The environment variable holding the firmware's path.
    variable: &'static str,
    machine: &'static str,
    cpu: &'static str,
}

const BOARDS: [Board; 2] = [
    Board {
        variable: "FIRMWARE_MPS2_AN386",
        machine: "mps2-an386",
        cpu: "cortex-m4",
    },
    Board {
        variable: "FIRMWARE_LM3S6965EVB",
        machine: "lm3s6965evb",
        cpu: "cortex-m3",
    },
];

/// What the firmware printed and how QEMU exited.
struct Run {
    results: Vec<(String, Vec<u8>)>,
    measures: Vec<(String, u64)>,
    done: bool,
    success: bool,
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from the firmware"))
        .collect()
}

fn run_on_qemu(board: &Board, firmware: &str) -> Run {
    let mut child = Command::new("qemu-system-arm")
        .args(["-machine", board.machine, "-cpu", board.cpu])
        .args(["-nographic", "-monitor", "none", "-serial", "none"])
        .args(["-semihosting-config", "enable=on,target=native"])
        // One nanosecond of virtual time per instruction: the firmware's
        // instruction counts come from SysTick on that clock.
        .args(["-icount", "shift=0"])
        .args(["-kernel", firmware])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("qemu-system-arm does not start ({e}): make deps-firmware"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("firmware output");
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("qemu status") {
            break status;
        }
        if started.elapsed() > QEMU_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{}: no exit within {QEMU_TIMEOUT:?} (a panic halts the firmware)",
                board.machine
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().expect("reader thread");
    let mut run = Run {
        results: Vec::new(),
        measures: Vec::new(),
        done: false,
        success: status.success(),
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["done"] => run.done = true,
            ["measure", name, value] => run.measures.push((
                (*name).to_owned(),
                value.parse().expect("a decimal measure"),
            )),
            [label, hex] => run.results.push(((*label).to_owned(), unhex(hex))),
            _ => panic!("{}: unexpected line {line:?}", board.machine),
        }
    }
    run
}

fn expected_results() -> Vec<(String, Vec<u8>)> {
    let mut results = Vec::new();
    run(&mut |label, bytes| results.push((label.to_owned(), bytes.to_vec())))
        .expect("the scenario runs on the host");
    results
}

/// Checks that do not rely on the scenario's own code: what was signed
/// verifies against the key's address with the core's decoder and recovery.
fn check_independently(results: &[(String, Vec<u8>)]) {
    let address = test_key().expect("test key").address();
    let find = |label: &str| -> &[u8] {
        &results
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no {label}"))
            .1
    };
    assert_eq!(find("address"), address.0);
    for case in TxCase::ALL {
        let raw = find(case.label());
        let signed = decode_signed(raw).expect("a signed transaction decodes");
        assert_eq!(signed.recover_sender().expect("recovers"), address);
        assert_eq!(find(case.recovered_label()), address.0);
    }
    let signature = |label: &str| {
        let bytes: [u8; 65] = find(label).try_into().expect("65 bytes");
        Signature::from_rsv_bytes(&bytes).expect("a valid signature")
    };
    assert_eq!(
        recover_address(&eip191_hash(MESSAGE), &signature("personal-sign")).expect("recovers"),
        address
    );
    let digest = eip712_hash(
        &keccak256(b"flare-wallet cortex-m example domain"),
        &keccak256(b"flare-wallet cortex-m example struct"),
    );
    assert_eq!(
        recover_address(&digest, &signature("eip712")).expect("recovers"),
        address
    );
}

#[test]
fn the_firmware_signs_on_each_board_exactly_as_the_host_does() {
    let expected = expected_results();
    check_independently(&expected);
    assert_eq!(expected.len(), 1 + 5 + 2 + 5);
    let mut ran = 0;
    for board in &BOARDS {
        let firmware = env::var(board.variable).unwrap_or_else(|_| {
            panic!(
                "{} is not set: run `make test-firmware`, which builds the firmware",
                board.variable
            )
        });
        let run = run_on_qemu(board, &firmware);
        for (label, bytes) in &run.results {
            eprintln!("{} {label}: {} bytes", board.machine, bytes.len());
        }
        for (name, value) in &run.measures {
            eprintln!("{} {name}: {value}", board.machine);
        }
        assert_eq!(
            run.results.len(),
            expected.len(),
            "{}: a different number of results",
            board.machine
        );
        for ((label, bytes), (want_label, want_bytes)) in run.results.iter().zip(&expected) {
            assert_eq!(label, want_label, "{}: results out of order", board.machine);
            assert_eq!(
                bytes, want_bytes,
                "{}: {label} differs from the host's",
                board.machine
            );
        }
        assert!(run.done, "{}: the firmware did not finish", board.machine);
        assert!(
            run.success,
            "{}: the firmware exited with a failure",
            board.machine
        );
        assert!(
            run.measures
                .iter()
                .any(|(name, _)| name == "stack-sign-eip1559"),
            "{}: no stack figure",
            board.machine
        );
        ran += 1;
    }
    assert_eq!(ran, BOARDS.len());
}
