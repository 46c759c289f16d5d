//! The wallet's portable backup against a real swtpm: an account exported as
//! a keystore decrypts to the wallet's address; a keystore imported into
//! another TPM is sealed there at once, survives a reload and signs for the
//! same address; the key never crosses the TPM interface in clear; a wrong
//! password or an occupied state directory leaves everything as it was.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

use rand::rngs::StdRng;
use rand::SeedableRng as _;
use support::{open_wallet, swtpm, RecordingTransport, TempDir};
use wallet_core::keystore::{self, KdfParams, KeystoreError};
use wallet_core::signer::{eip191_hash, recover_address, SecretKey};
use wallet_core::state::StateError;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet, WalletError};
use wallet_core::Error;

const PASSWORD: &[u8] = b"a backup password";
const CHEAP: KdfParams = KdfParams::Scrypt {
    log_n: 10,
    r: 8,
    p: 1,
};

fn keystore_for(key: &[u8; 32], params: KdfParams) -> String {
    let key = SecretKey::from_bytes(key).unwrap();
    keystore::export(&key, PASSWORD, params, &mut StdRng::seed_from_u64(7))
        .unwrap()
        .to_json()
}

#[test]
fn an_exported_account_decrypts_to_the_wallet_address() {
    let tpm = swtpm();
    let dir = TempDir::new("ks-export");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let address = wallet.create_account(AccountOptions::default()).unwrap();

    let exported = wallet
        .export_keystore(PASSWORD, KdfParams::default())
        .unwrap();
    assert_eq!(exported.kdf(), KdfParams::SCRYPT_DEFAULT);
    assert_eq!(exported.address(), Some(address));
    let key = keystore::import(&exported.to_json(), PASSWORD).unwrap();
    assert_eq!(key.address(), address);

    // Cached mode exports the same key, from memory.
    wallet.set_key_mode(KeyMode::Cached);
    let again = wallet.export_keystore(PASSWORD, CHEAP).unwrap();
    assert_eq!(keystore::import(&again.to_json(), PASSWORD).unwrap(), key);
}

#[test]
fn a_keystore_restores_on_another_tpm_and_survives_a_reload() {
    let (first_tpm, second_tpm) = (swtpm(), swtpm());
    let dir = TempDir::new("ks-restore");
    let mut first = open_wallet(&first_tpm, &dir.state("first"));
    let address = first.create_account(AccountOptions::default()).unwrap();
    let backup = first.export_keystore(PASSWORD, CHEAP).unwrap().to_json();
    drop(first);

    let state = dir.state("second");
    let mut second = open_wallet(&second_tpm, &state);
    assert_eq!(
        second
            .import_keystore(&backup, PASSWORD, AccountOptions::default())
            .unwrap(),
        address
    );
    let signature = second.sign_message(b"restored").unwrap();
    assert_eq!(
        recover_address(&eip191_hash(b"restored"), &signature).unwrap(),
        address
    );
    drop(second);

    let mut reopened = open_wallet(&second_tpm, &state);
    assert_eq!(reopened.load_account().unwrap(), address);
}

#[test]
fn the_key_never_crosses_the_tpm_interface_in_clear() {
    let key = [0x3du8; 32];
    let tpm = swtpm();
    let dir = TempDir::new("ks-wire");
    let (transport, transcript) = RecordingTransport::new(&tpm);
    let mut wallet = Wallet::with_transport(Box::new(transport), &dir.state("s")).unwrap();
    wallet
        .import_keystore(
            &keystore_for(&key, CHEAP),
            PASSWORD,
            AccountOptions::default(),
        )
        .unwrap();
    wallet.export_keystore(PASSWORD, CHEAP).unwrap();
    assert!(transcript.len() > 0);
    assert!(!transcript.contains(&key));
}

#[test]
fn a_wrong_password_seals_nothing() {
    let key = [0x21u8; 32];
    let tpm = swtpm();
    let dir = TempDir::new("ks-wrong");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let json = keystore_for(&key, CHEAP);
    assert_eq!(
        wallet.import_keystore(&json, b"not it", AccountOptions::default()),
        Err(Error::Keystore(KeystoreError::WrongPassword))
    );
    assert_eq!(wallet.address(), Err(Error::Wallet(WalletError::NoAccount)));
    let expected = SecretKey::from_bytes(&key).unwrap().address();
    assert_eq!(
        wallet
            .import_keystore(&json, PASSWORD, AccountOptions::default())
            .unwrap(),
        expected
    );
}

/// An occupied state directory is refused before the KDF runs: the wrong
/// password below is never even checked.
#[test]
fn an_existing_account_is_refused_before_any_kdf_work() {
    let tpm = swtpm();
    let dir = TempDir::new("ks-occupied");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let address = wallet.create_account(AccountOptions::default()).unwrap();
    let json = keystore_for(&[0x22; 32], KdfParams::SCRYPT_DEFAULT);
    assert_eq!(
        wallet.import_keystore(&json, b"wrong password", AccountOptions::default()),
        Err(Error::State(StateError::AccountExists))
    );
    assert_eq!(wallet.address().unwrap(), address);
}

#[test]
fn export_needs_an_open_wallet_with_an_account() {
    let tpm = swtpm();
    let dir = TempDir::new("ks-none");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    assert_eq!(
        wallet.export_keystore(PASSWORD, CHEAP).unwrap_err(),
        Error::Wallet(WalletError::NoAccount)
    );
    wallet.create_account(AccountOptions::default()).unwrap();
    assert_eq!(
        wallet
            .export_keystore(PASSWORD, KdfParams::Pbkdf2 { c: 0 })
            .unwrap_err(),
        Error::Keystore(KeystoreError::InvalidKdfParam(
            wallet_core::keystore::Field::C
        ))
    );
    wallet.close();
    assert_eq!(
        wallet.export_keystore(PASSWORD, CHEAP).unwrap_err(),
        Error::Wallet(WalletError::Closed)
    );
}
