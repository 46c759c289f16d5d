//! The wallet's portable backup against a real swtpm: an account exported as
//! a keystore decrypts to the wallet's address; a keystore imported into
//! another TPM is sealed there at once, survives a reload and signs for the
//! same address; the key never crosses the TPM interface in clear; a wrong
//! password or an occupied state directory leaves everything as it was.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/owners.rs"]
mod owners;
#[path = "wallet_support/transports.rs"]
mod support;

use rand::rngs::StdRng;
use rand::SeedableRng as _;
use support::{open_wallet, swtpm, RecordingTransport, TempDir};
use wallet_core::authority::{AdminAction, AuthorityError};
use wallet_core::keystore::{self, KdfParams, Keystore, KeystoreError};
use wallet_core::signer::{eip191_hash, recover_address, SecretKey};
use wallet_core::state::StateError;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet, WalletError};
use wallet_core::Error;

const PASSWORD: &[u8] = b"a backup password";
/// The cheapest KDF an export accepts: scrypt n = 2^17, r = 8.
const CHEAP: KdfParams = KdfParams::Scrypt {
    log_n: 17,
    r: 8,
    p: 1,
};
/// A KDF cheap enough for imports in tests (import takes any the format allows).
const CHEAP_IMPORT: KdfParams = KdfParams::Scrypt {
    log_n: 10,
    r: 8,
    p: 1,
};

/// Options with a 1-of-1 owner set of [`owners::owner_keys`]`(5, 1)`.
fn owned() -> AccountOptions {
    AccountOptions {
        owners: Some(owners::owner_set(&owners::owner_keys(5, 1), 1)),
        key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
        ..AccountOptions::default()
    }
}

/// Exports with the approval of the owner of [`owned`].
fn export_as_owner(wallet: &mut Wallet, params: KdfParams) -> Result<Keystore, Error> {
    let key = &owners::owner_keys(5, 1)[0];
    let params_hash = wallet.export_keystore_params_hash(PASSWORD, params)?;
    let request = wallet.admin_request(AdminAction::ExportKeystore, params_hash, u64::MAX)?;
    let approvals = owners::approve(&[key], &request);
    wallet.export_keystore(PASSWORD, params, &request, &approvals)
}

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
    let address = wallet.create_account(owned()).unwrap();

    let exported = export_as_owner(&mut wallet, KdfParams::default()).unwrap();
    assert_eq!(exported.kdf(), KdfParams::SCRYPT_DEFAULT);
    assert_eq!(exported.address(), Some(address));
    let key = keystore::import(&exported.to_json(), PASSWORD).unwrap();
    assert_eq!(key.address(), address);
    assert_eq!(wallet.admin_nonce().unwrap(), 1);

    // Cached mode exports the same key, from memory; each export takes a
    // fresh approval, and the salt changes with the admin nonce.
    wallet.set_key_mode(KeyMode::Cached);
    let again = export_as_owner(&mut wallet, CHEAP).unwrap();
    assert_eq!(keystore::import(&again.to_json(), PASSWORD).unwrap(), key);
    assert_ne!(again.salt(), exported.salt());
    assert_eq!(wallet.admin_nonce().unwrap(), 2);
}

#[test]
fn an_export_approval_is_for_one_password_and_one_kdf_once() {
    let tpm = swtpm();
    let dir = TempDir::new("ks-approval");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.create_account(owned()).unwrap();
    let key = &owners::owner_keys(5, 1)[0];
    let params_hash = wallet.export_keystore_params_hash(PASSWORD, CHEAP).unwrap();
    let request = wallet
        .admin_request(AdminAction::ExportKeystore, params_hash, u64::MAX)
        .unwrap();
    let approvals = owners::approve(&[key], &request);
    // Another password or another KDF than the one approved.
    assert_eq!(
        wallet
            .export_keystore(b"another password", CHEAP, &request, &approvals)
            .unwrap_err(),
        Error::Authority(AuthorityError::ParamsMismatch)
    );
    let pbkdf2 = KdfParams::Pbkdf2 { c: 600_000 };
    assert_eq!(
        wallet
            .export_keystore(PASSWORD, pbkdf2, &request, &approvals)
            .unwrap_err(),
        Error::Authority(AuthorityError::ParamsMismatch)
    );
    assert_eq!(wallet.admin_nonce().unwrap(), 0);
    wallet
        .export_keystore(PASSWORD, CHEAP, &request, &approvals)
        .unwrap();
    // The same approval again is a replay.
    assert_eq!(
        wallet
            .export_keystore(PASSWORD, CHEAP, &request, &approvals)
            .unwrap_err(),
        Error::Authority(AuthorityError::Replayed {
            nonce: 0,
            current: 1
        })
    );
}

#[test]
fn an_export_refuses_weak_keystores_and_ownerless_accounts() {
    let tpm = swtpm();
    let dir = TempDir::new("ks-weak");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.create_account(owned()).unwrap();
    for (password, params, expected) in [
        (&b""[..], CHEAP, WalletError::EmptyExportPassword),
        (PASSWORD, CHEAP_IMPORT, WalletError::WeakExportKdf),
        (
            PASSWORD,
            KdfParams::Scrypt {
                log_n: 17,
                r: 1,
                p: 8,
            },
            WalletError::WeakExportKdf,
        ),
        (
            PASSWORD,
            KdfParams::Pbkdf2 { c: 599_999 },
            WalletError::WeakExportKdf,
        ),
    ] {
        assert_eq!(
            wallet.export_keystore_params_hash(password, params),
            Err(Error::Wallet(expected))
        );
    }
    // swtpm serves one client at a time.
    drop(wallet);
    let mut ownerless = open_wallet(&tpm, &dir.state("t"));
    ownerless.create_account(AccountOptions::default()).unwrap();
    assert_eq!(
        ownerless.export_keystore_params_hash(PASSWORD, CHEAP),
        Err(Error::Authority(AuthorityError::Ownerless))
    );
    assert!(Error::Authority(AuthorityError::Ownerless)
        .to_string()
        .contains("never leave the TPM"));
}

#[test]
fn a_keystore_restores_on_another_tpm_and_survives_a_reload() {
    let (first_tpm, second_tpm) = (swtpm(), swtpm());
    let dir = TempDir::new("ks-restore");
    let mut first = open_wallet(&first_tpm, &dir.state("first"));
    let address = first.create_account(owned()).unwrap();
    let backup = export_as_owner(&mut first, CHEAP).unwrap().to_json();
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
    let mut wallet =
        Wallet::with_transport(Box::new(transport), &dir.state("s"), &tpm.trust()).unwrap();
    wallet
        .import_keystore(&keystore_for(&key, CHEAP_IMPORT), PASSWORD, owned())
        .unwrap();
    export_as_owner(&mut wallet, CHEAP).unwrap();
    assert!(transcript.len() > 0);
    assert!(!transcript.contains(&key));
}

#[test]
fn a_wrong_password_seals_nothing() {
    let key = [0x21u8; 32];
    let tpm = swtpm();
    let dir = TempDir::new("ks-wrong");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let json = keystore_for(&key, CHEAP_IMPORT);
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
        export_as_owner(&mut wallet, CHEAP).unwrap_err(),
        Error::Wallet(WalletError::NoAccount)
    );
    wallet.create_account(owned()).unwrap();
    assert_eq!(
        wallet
            .export_keystore_params_hash(PASSWORD, KdfParams::Pbkdf2 { c: 0 })
            .unwrap_err(),
        Error::Wallet(WalletError::WeakExportKdf)
    );
    wallet.close();
    assert_eq!(
        export_as_owner(&mut wallet, CHEAP).unwrap_err(),
        Error::Wallet(WalletError::Closed)
    );
}
