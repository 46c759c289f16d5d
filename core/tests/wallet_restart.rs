//! The wallet across a restart: create -> sign -> drop every connection and
//! all in-memory state (and power-cycle the TPM) -> load -> sign. The address
//! is the same and every signature recovers to it.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

use support::{eip1559_payload, open_wallet, swtpm, TempDir};
use wallet_core::signer::{eip191_hash, eip712_hash, recover_address};
use wallet_core::tx;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet, WalletError};
use wallet_core::Error;

fn sign_and_check(wallet: &mut Wallet, nonce: u64) {
    let address = wallet.address().unwrap();
    let payload = eip1559_payload(nonce);
    let mut out = [0u8; 512];
    let n = wallet.sign_transaction(&payload, &mut out).unwrap();
    let signed = tx::decode_signed(&out[..n]).unwrap();
    assert_eq!(signed.recover_sender().unwrap(), address);
    assert_eq!(signed.transaction().chain_id(), Some(14));

    let message = b"flare-wallet restart test";
    let sig = wallet.sign_message(message).unwrap();
    assert_eq!(
        recover_address(&eip191_hash(message), &sig).unwrap(),
        address
    );

    let (domain, structure) = ([0x42; 32], [0x24; 32]);
    let sig = wallet.sign_typed_data_hash(&domain, &structure).unwrap();
    assert_eq!(
        recover_address(&eip712_hash(&domain, &structure), &sig).unwrap(),
        address
    );
}

#[test]
fn create_sign_drop_everything_load_sign() {
    let mut tpm = swtpm();
    let dir = TempDir::new("restart");
    let state = dir.state("state");

    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.address(), Err(Error::Wallet(WalletError::NoAccount)));
    let address = wallet.create_account(AccountOptions::default()).unwrap();
    assert_eq!(wallet.address().unwrap(), address);
    sign_and_check(&mut wallet, 0);
    wallet.set_key_mode(KeyMode::Cached);
    sign_and_check(&mut wallet, 1);
    drop(wallet);

    tpm.restart().unwrap();

    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
    sign_and_check(&mut wallet, 2);
    wallet.set_key_mode(KeyMode::Cached);
    sign_and_check(&mut wallet, 3);
    wallet.close();
    assert!(wallet.is_closed());
    assert_eq!(
        wallet.sign_message(b"after close"),
        Err(Error::Wallet(WalletError::Closed))
    );
}

#[test]
fn imported_key_keeps_its_address_and_debug_is_redacted() {
    let tpm = swtpm();
    let dir = TempDir::new("import");
    let key = [0x4cu8; 32];
    let expected = wallet_core::signer::SecretKey::from_bytes(&key)
        .unwrap()
        .address();
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.set_key_mode(KeyMode::Cached);
    assert_eq!(
        wallet.import_key(&key, AccountOptions::default()).unwrap(),
        expected
    );
    sign_and_check(&mut wallet, 0);
    let debug = format!("{wallet:?}");
    assert!(debug.contains("redacted"), "{debug}");
    assert!(!debug.contains("4c4c4c"), "{debug}");
    assert!(!debug.contains("76, 76"), "{debug}");
    drop(wallet);

    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    assert_eq!(wallet.load_account().unwrap(), expected);
    sign_and_check(&mut wallet, 1);
}

#[test]
fn a_second_account_is_refused_without_touching_the_tpm() {
    let tpm = swtpm();
    let dir = TempDir::new("second");
    let state = dir.state("s");
    let mut wallet = open_wallet(&tpm, &state);
    wallet.create_account(AccountOptions::default()).unwrap();
    let before = std::fs::read(state.join("account.flwseal")).unwrap();
    let sent = wallet.tpm_commands_sent();
    assert_eq!(
        wallet.create_account(AccountOptions::default()),
        Err(Error::State(wallet_core::state::StateError::AccountExists))
    );
    assert_eq!(wallet.tpm_commands_sent(), sent);
    drop(wallet);
    let mut other = open_wallet(&tpm, &state);
    assert_eq!(
        other.import_key(&[7; 32], AccountOptions::default()),
        Err(Error::State(wallet_core::state::StateError::AccountExists))
    );
    assert_eq!(
        std::fs::read(state.join("account.flwseal")).unwrap(),
        before
    );
}

#[test]
fn wallet_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Wallet>();
}
