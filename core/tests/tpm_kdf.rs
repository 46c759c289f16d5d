//! KDFa and KDFe known answers.
//!
//! The expected values were computed with pyca/cryptography 50.0.2, an
//! independent implementation of the two NIST constructions the TPM uses:
//! `KBKDFHMAC(SHA256, CounterMode, rlen=4, llen=4, BeforeFixed, label, context)`
//! for KDFa (SP 800-108, TPM 2.0 Library Part 1 section 11.4.10.2: the fixed
//! input is `label || 0x00 || contextU || contextV || L`), and
//! `ConcatKDFHash(SHA256, length, otherinfo = label || 0x00 || partyU || partyV)`
//! for KDFe (SP 800-56A, Part 1 section 11.4.10.3).

use wallet_core::tpm::kdf::{kdfa, kdfe};

fn key() -> [u8; 32] {
    core::array::from_fn(|i| i as u8)
}

fn party_u() -> [u8; 32] {
    core::array::from_fn(|i| 0xa0 + (i % 16) as u8)
}

const PARTY_V: [u8; 16] = [0x50; 16];

#[test]
fn kdfa_session_key() {
    let mut out = [0u8; 32];
    kdfa(&key(), b"ATH", &party_u(), &PARTY_V, &mut out);
    assert_eq!(
        hex::encode(out),
        "c58999d997ffc4dea5fd4330d513c1eaf95b1d5e4944096f5b64ce06c51cca63"
    );
}

#[test]
fn kdfa_parameter_encryption_key() {
    let mut out = [0u8; 32];
    kdfa(&key(), b"CFB", &PARTY_V, &party_u(), &mut out);
    assert_eq!(
        hex::encode(out),
        "2f3b134db0b8f10125fbc399abd40f25f51a64c3e966184a1bb6bc42b0c1b97e"
    );
}

#[test]
fn kdfa_two_blocks_and_a_partial_block() {
    let mut out = [0u8; 48];
    kdfa(b"k", b"XYZ", &[], &[], &mut out);
    assert_eq!(
        hex::encode(out),
        "7854e492bcf6d8bf6a384470c902eff6b6562430cee6f417f9f9a55908ac79fcb3912b92ca67b98fa62260520f62b1e5"
    );
    let mut short = [0u8; 20];
    kdfa(&key(), b"STORAGE", b"name", &[], &mut short);
    assert_eq!(
        hex::encode(short),
        "e772ea0c54c0c74b12b5bf10581dcc2952e4b0f9"
    );
}

#[test]
fn kdfe_salt() {
    let mut out = [0u8; 32];
    kdfe(&key(), b"SECRET", &party_u(), &PARTY_V, &mut out);
    assert_eq!(
        hex::encode(out),
        "ed5fac1ee769e025529e1be83aa93d4351a33c8ffd6368a520ba78e4eb0715c6"
    );
}

#[test]
fn kdfe_more_than_one_block() {
    let mut out = [0u8; 40];
    kdfe(&[1; 32], b"SECRET", &[], &[], &mut out);
    assert_eq!(
        hex::encode(out),
        "388215da2fa6678b031a51c133e4316d17ba3b8fb1884abe5219e48722200e03321548f1aadef3fe"
    );
}
