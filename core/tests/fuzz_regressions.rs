//! Inputs on which a fuzz target failed, replayed through the target's
//! property in the normal test suite (`tests/fuzz_regressions/README.md`
//! lists them with their fixes).

use std::fs;
use std::path::Path;

use wallet_core::policy::audit::parse_log;
use wallet_core::policy::PolicyError;

/// `policy_decode`: an audit log is accepted only when it is exactly its
/// entries written again with `to_line`.
fn replay_policy_decode(name: &str, input: &[u8]) {
    let (mode, rest) = input.split_first().expect("a mode byte");
    assert_eq!(mode % 3, 2, "{name}: only audit-log inputs are kept so far");
    match parse_log(rest) {
        Ok(entries) => {
            let written: String = entries.iter().map(|e| e.to_line()).collect();
            assert_eq!(
                written.as_bytes(),
                rest,
                "{name}: accepted a non-canonical log"
            );
        }
        Err(e) => assert_eq!(e, PolicyError::AuditLogMalformed, "{name}"),
    }
}

#[test]
fn every_kept_input_passes_its_target_property() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut replayed = 0;
    for target in fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        let target_name = target.file_name().unwrap().to_string_lossy().into_owned();
        for input in fs::read_dir(&target).unwrap() {
            let input = input.unwrap().path();
            let name = format!(
                "{target_name}/{}",
                input.file_name().unwrap().to_string_lossy()
            );
            let bytes = fs::read(&input).unwrap();
            match target_name.as_str() {
                "policy_decode" => replay_policy_decode(&name, &bytes),
                other => panic!("no replay for target {other} ({name})"),
            }
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression input found under {}",
        root.display()
    );
}

/// The fuzzer's input, and the same finding by hand in each field: every
/// non-canonical spelling is refused, and the canonical line still parses.
#[test]
fn audit_log_lines_have_one_form() {
    let input = include_bytes!("fuzz_regressions/policy_decode/audit-log-address-case");
    let line = std::str::from_utf8(&input[1..]).unwrap();
    assert_eq!(
        parse_log(line.as_bytes()),
        Err(PolicyError::AuditLogMalformed)
    );

    // The same entry in its canonical form parses, and writes back as it was.
    let fuzzed_address = "05353535353a3535353535353535353535353535";
    let entry_address = wallet_core::signer::Address::parse_hex(fuzzed_address).unwrap();
    let canonical = line.replace(
        &format!("address={fuzzed_address}"),
        &format!("address={entry_address}"),
    );
    let entries = parse_log(canonical.as_bytes()).expect("the canonical line parses");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].to_line(), canonical);

    for (what, from, to) in [
        ("a plus sign in the time", "time=1 ", "time=+1 "),
        ("a leading zero in the time", "time=1 ", "time=01 "),
        ("a plus sign in a hash", " new=5d", " new=+d"),
        ("an address without 0x", "address=0x", "address="),
        (
            "an address in upper case",
            &format!("address={entry_address}"),
            &format!(
                "address=0x{}",
                hex_lower(&entry_address.0).to_ascii_uppercase()
            ),
        ),
    ] {
        let edited = canonical.replacen(from, to, 1);
        assert_ne!(edited, canonical, "{what}: the edit did not apply");
        assert_eq!(
            parse_log(edited.as_bytes()),
            Err(PolicyError::AuditLogMalformed),
            "{what} was accepted"
        );
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
