//! TPM-bound backup and restore, damaged sealed files and backups, and
//! PCR-bound accounts, against real swtpm instances. Every failure is a
//! clear error and leaves every file as it was.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

use std::path::Path;

use sha2::{Digest, Sha256};
use support::{open_wallet, swtpm, TempDir};
use wallet_core::backup::{BackupError, Field, INTEGRITY_LEN};
use wallet_core::seal::SealError;
use wallet_core::signer::{eip191_hash, recover_address};
use wallet_core::state::StateError;
use wallet_core::tpm::{transport, PcrSelection, Tpm};
use wallet_core::wallet::{base64, AccountOptions, Wallet, WalletError};
use wallet_core::Error;

fn account_file(state: &Path) -> std::path::PathBuf {
    state.join("account.flwseal")
}

/// The account file and the spend ledger a backup carries: every account
/// has an anti-rollback counter, so its backup is the container (`FLWBKUP\0`,
/// version 1, then each part as a u32 length and its bytes).
fn backup_parts(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(&bytes[..10], b"FLWBKUP\0\x00\x01");
    let mut rest = &bytes[10..];
    let mut parts = Vec::new();
    for _ in 0..2 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        parts.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty());
    let ledger = parts.pop().unwrap();
    (parts.pop().unwrap(), ledger)
}

fn assert_signs_as(wallet: &mut Wallet, address: wallet_core::signer::Address) {
    let sig = wallet.sign_message(b"after restore").unwrap();
    assert_eq!(
        recover_address(&eip191_hash(b"after restore"), &sig).unwrap(),
        address
    );
}

#[test]
fn backup_restores_on_the_same_tpm_into_an_empty_state_dir() {
    let tpm = swtpm();
    let dir = TempDir::new("restore");
    let mut original = open_wallet(&tpm, &dir.state("a"));
    let address = original.create_account(AccountOptions::default()).unwrap();
    let backup = original.backup().unwrap();
    assert!(backup.is_ascii());
    let (account, ledger) = backup_parts(&base64::decode(&backup).unwrap());
    assert_eq!(
        account,
        std::fs::read(account_file(&dir.state("a"))).unwrap()
    );
    assert_eq!(
        ledger,
        std::fs::read(dir.state("a").join(wallet_core::state::SPEND_LEDGER_FILE)).unwrap()
    );
    drop(original);

    let mut restored = open_wallet(&tpm, &dir.state("b"));
    assert_eq!(restored.restore(&backup).unwrap(), address);
    assert_eq!(restored.address().unwrap(), address);
    assert_signs_as(&mut restored, address);
    assert_eq!(
        std::fs::read(account_file(&dir.state("b"))).unwrap(),
        account
    );
    // Only into an empty state directory.
    assert_eq!(
        restored.restore(&backup),
        Err(Error::Wallet(WalletError::StateNotEmpty))
    );
    drop(restored);
    let mut reopened = open_wallet(&tpm, &dir.state("b"));
    assert_eq!(
        reopened.restore(&backup),
        Err(Error::Wallet(WalletError::StateNotEmpty))
    );
    assert_eq!(reopened.load_account().unwrap(), address);
}

#[test]
fn restore_on_another_tpm_fails_clearly_and_writes_nothing() {
    let tpm_a = swtpm();
    let dir = TempDir::new("other-tpm");
    let mut original = open_wallet(&tpm_a, &dir.state("a"));
    original.create_account(AccountOptions::default()).unwrap();
    let backup = original.backup().unwrap();
    drop(original);

    let tpm_b = swtpm();
    let mut other = open_wallet(&tpm_b, &dir.state("b"));
    let err = other.restore(&backup).unwrap_err();
    assert_eq!(err, Error::Seal(SealError::SrkNameMismatch));
    assert!(err.to_string().contains("another TPM"), "{err}");
    assert!(!account_file(&dir.state("b")).exists());
    assert_eq!(other.address(), Err(Error::Wallet(WalletError::NoAccount)));

    // The sealed file itself, copied to the other TPM's state dir, is refused too.
    std::fs::copy(account_file(&dir.state("a")), account_file(&dir.state("b"))).unwrap();
    assert_eq!(
        other.load_account(),
        Err(Error::Seal(SealError::SrkNameMismatch))
    );
}

#[test]
fn damaged_backups_give_clear_errors_and_write_nothing() {
    let tpm = swtpm();
    let dir = TempDir::new("bad-backup");
    let mut original = open_wallet(&tpm, &dir.state("a"));
    original.create_account(AccountOptions::default()).unwrap();
    let backup = original.backup().unwrap();
    let file_a = std::fs::read(account_file(&dir.state("a"))).unwrap();
    drop(original);

    // The account file alone is a backup too (as written before the
    // container): damaged, each is refused with its own error.
    let (bytes, _) = backup_parts(&base64::decode(&backup).unwrap());
    let mut flipped = bytes.clone();
    flipped[40] ^= 0x20;
    let cases: Vec<(String, Error)> = vec![
        (
            "not base64 at all!".into(),
            Error::Wallet(WalletError::BackupNotBase64),
        ),
        (
            format!("{backup}\n"),
            Error::Wallet(WalletError::BackupNotBase64),
        ),
        (
            backup[..backup.len() - 1].to_string(),
            Error::Wallet(WalletError::BackupNotBase64),
        ),
        (
            base64::encode(&bytes[..bytes.len() - 3]),
            Error::State(StateError::Format(BackupError::Truncated(Field::Integrity))),
        ),
        (
            base64::encode(&bytes[..20]),
            Error::State(StateError::Format(BackupError::Truncated(Field::Header))),
        ),
        (
            base64::encode(&flipped),
            Error::State(StateError::Format(BackupError::IntegrityMismatch)),
        ),
        (
            base64::encode(b"FLWSEAL\0\x00\x09"),
            Error::State(StateError::Format(BackupError::UnsupportedVersion(9))),
        ),
        (
            String::new(),
            Error::State(StateError::Format(BackupError::Truncated(Field::Header))),
        ),
    ];
    let mut empty = open_wallet(&tpm, &dir.state("b"));
    for (text, expected) in &cases {
        assert_eq!(empty.restore(text).as_ref(), Err(expected), "{text:?}");
        assert!(!account_file(&dir.state("b")).exists());
    }
    drop(empty);
    // Into the original state dir: refused, and the account is untouched.
    let mut full = open_wallet(&tpm, &dir.state("a"));
    for (text, _) in &cases {
        assert!(full.restore(text).is_err());
    }
    assert_eq!(
        std::fs::read(account_file(&dir.state("a"))).unwrap(),
        file_a
    );
}

#[test]
fn damaged_sealed_files_give_clear_errors_and_stay_as_they_are() {
    let tpm = swtpm();
    let dir = TempDir::new("bad-file");
    let state = dir.state("s");
    let mut wallet = open_wallet(&tpm, &state);
    let address = wallet.create_account(AccountOptions::default()).unwrap();
    drop(wallet);
    let good = std::fs::read(account_file(&state)).unwrap();

    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x01;
    let cases: [(&[u8], Error); 4] = [
        (
            &flipped,
            Error::State(StateError::Format(BackupError::IntegrityMismatch)),
        ),
        (
            &good[..good.len() - 1],
            Error::State(StateError::Format(BackupError::Truncated(Field::Integrity))),
        ),
        (
            &good[..100],
            Error::State(StateError::Format(BackupError::Truncated(Field::Public))),
        ),
        (
            b"",
            Error::State(StateError::Format(BackupError::Truncated(Field::Header))),
        ),
    ];
    for (bytes, expected) in cases {
        std::fs::write(account_file(&state), bytes).unwrap();
        let mut wallet = open_wallet(&tpm, &state);
        assert_eq!(wallet.load_account(), Err(expected));
        assert_eq!(
            wallet.create_account(AccountOptions::default()),
            Err(Error::State(StateError::AccountExists))
        );
        assert_eq!(std::fs::read(account_file(&state)).unwrap(), bytes);
    }

    // A relabelled file with a valid integrity check: the unsealed key does
    // not belong to the recorded address.
    let mut relabelled = good.clone();
    relabelled[12] ^= 0xff;
    let body = relabelled.len() - INTEGRITY_LEN;
    let digest = Sha256::digest(&relabelled[..body]);
    relabelled[body..].copy_from_slice(&digest);
    std::fs::write(account_file(&state), &relabelled).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(
        wallet.load_account(),
        Err(Error::Wallet(WalletError::AddressMismatch))
    );
    assert_eq!(std::fs::read(account_file(&state)).unwrap(), relabelled);
    drop(wallet);

    std::fs::write(account_file(&state), &good).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
}

#[test]
fn a_pcr_bound_account_stops_unsealing_after_pcr_extend() {
    let tpm = swtpm();
    let dir = TempDir::new("pcr");
    let state = dir.state("s");
    let pcrs = PcrSelection::from_indices(&[16]).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    let address = wallet
        .create_account(AccountOptions {
            pcrs: Some(pcrs),
            ..AccountOptions::default()
        })
        .unwrap();
    assert_signs_as(&mut wallet, address);
    let backup = wallet.backup().unwrap();
    drop(wallet);
    let sealed = std::fs::read(account_file(&state)).unwrap();

    // Still the same PCR values: loads and signs after a reconnect.
    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
    assert_signs_as(&mut wallet, address);
    drop(wallet);

    let mut engine = Tpm::new(transport::open(&tpm.tcti()).unwrap()).unwrap();

    engine.salt_sessions_to_unverified_srk();
    engine.pcr_extend(16, &[0xab; 32]).unwrap();
    drop(engine);

    let mut wallet = open_wallet(&tpm, &state);
    let err = wallet.load_account().unwrap_err();
    assert_eq!(err, Error::Seal(SealError::PcrMismatch));
    assert!(err.to_string().contains("PCR"), "{err}");
    assert_eq!(std::fs::read(account_file(&state)).unwrap(), sealed);
    drop(wallet);

    // Its backup cannot be restored either, and nothing is written.
    let mut other = open_wallet(&tpm, &dir.state("t"));
    assert_eq!(
        other.restore(&backup),
        Err(Error::Seal(SealError::PcrMismatch))
    );
    assert!(!account_file(&dir.state("t")).exists());
}
