//! Wire secrecy: every byte between the wallet and a real swtpm is recorded
//! during import, create, signing in both key modes, backup, restore and
//! attestation, and the key bytes appear nowhere in it. A control run with
//! parameter encryption off finds them, so the check can fail.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

use support::{contains, eip1559_payload, swtpm, RecordingTransport, TempDir, Transcript};
use wallet_core::backup::SealedKeyFile;
use wallet_core::seal::{self, SealedObject};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::{transport, Name, ParameterEncryption, Tpm};
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet};

const IMPORTED_KEY: [u8; 32] = [
    0x5e, 0xc1, 0x3a, 0x77, 0x09, 0xd4, 0x8b, 0x21, 0x6f, 0xa0, 0x33, 0xc8, 0x1d, 0x92, 0x4e, 0xb7,
    0x70, 0x05, 0xe9, 0x18, 0xac, 0x63, 0x2f, 0xd1, 0x84, 0x4b, 0xf6, 0x0a, 0x97, 0x3c, 0x58, 0xe2,
];

fn recorded_wallet(
    tpm: &Swtpm,
    transcript: &Transcript,
    state: &std::path::Path,
    encryption: ParameterEncryption,
) -> Wallet {
    let (transport, t) = RecordingTransport::new(tpm);
    let transport = transport.with_transcript(transcript.clone());
    drop(t);
    let mut wallet = Wallet::with_transport(Box::new(transport), state, &tpm.trust()).unwrap();
    wallet.set_parameter_encryption(encryption);
    wallet
}

fn exercise(wallet: &mut Wallet) {
    let mut out = [0u8; 512];
    wallet.set_key_mode(KeyMode::Strict);
    wallet
        .sign_transaction(&eip1559_payload(0), &mut out)
        .unwrap();
    wallet.sign_message(b"strict").unwrap();
    wallet.set_key_mode(KeyMode::Cached);
    wallet
        .sign_transaction(&eip1559_payload(1), &mut out)
        .unwrap();
    wallet.sign_message(b"cached").unwrap();
    wallet.sign_typed_data_hash(&[1; 32], &[2; 32]).unwrap();
    wallet.attest(b"nonce", 14).unwrap();
}

/// The key sealed in a state directory, unsealed over a separate, unrecorded
/// connection: the test's own way to learn a generated key.
fn unseal_from_state(tpm: &Swtpm, state: &std::path::Path) -> [u8; 32] {
    let bytes = std::fs::read(state.join("account.flwseal")).unwrap();
    let view = SealedKeyFile::parse(&bytes).unwrap();
    let srk_name = Name::from_bytes(view.srk_name()).unwrap();
    let sealed = SealedObject::from_parts(
        view.public_tpm2b(),
        view.private_tpm2b(),
        srk_name,
        None,
        None,
    )
    .unwrap();
    let mut engine = Tpm::new(transport::open(&tpm.tcti()).unwrap()).unwrap();
    engine.salt_sessions_to_unverified_srk();
    let secret = seal::unseal_secret(
        &mut engine,
        &srk_name,
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .unwrap();
    *secret
}

fn transcript_of_everything(encryption: ParameterEncryption) -> (Transcript, [u8; 32]) {
    let tpm = swtpm();
    let dir = TempDir::new("wire");
    let transcript = Transcript::default();

    let mut imported = recorded_wallet(&tpm, &transcript, &dir.state("a"), encryption);
    imported
        .import_key(&IMPORTED_KEY, AccountOptions::default())
        .unwrap();
    exercise(&mut imported);
    let backup = imported.backup().unwrap();
    drop(imported);

    let mut created = recorded_wallet(&tpm, &transcript, &dir.state("b"), encryption);
    created.create_account(AccountOptions::default()).unwrap();
    exercise(&mut created);
    drop(created);

    let mut restored = recorded_wallet(&tpm, &transcript, &dir.state("c"), encryption);
    restored.restore(&backup).unwrap();
    exercise(&mut restored);
    drop(restored);

    let generated = unseal_from_state(&tpm, &dir.state("b"));
    (transcript, generated)
}

fn key_fragments(key: &[u8; 32]) -> [&[u8]; 3] {
    [&key[..], &key[..16], &key[16..]]
}

#[test]
fn no_key_byte_string_crosses_the_wire() {
    let (transcript, generated) = transcript_of_everything(ParameterEncryption::Aes128Cfb);
    let wire = transcript.bytes();
    // The transcript is real traffic: it holds Unseal commands (TPM_CC 0x15E).
    assert!(wire.len() > 10_000, "transcript of {} bytes", wire.len());
    assert!(contains(&wire, &[0x00, 0x00, 0x01, 0x5e]));
    for key in [&IMPORTED_KEY, &generated] {
        for fragment in key_fragments(key) {
            assert!(!contains(&wire, fragment), "key bytes found on the wire");
        }
    }
}

#[test]
fn control_without_parameter_encryption_finds_the_keys() {
    let (transcript, generated) = transcript_of_everything(ParameterEncryption::Off);
    let wire = transcript.bytes();
    assert!(contains(&wire, &IMPORTED_KEY), "the check could not fail");
    assert!(contains(&wire, &generated), "the check could not fail");
}
