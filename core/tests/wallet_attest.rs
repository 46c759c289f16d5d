//! Attestation end to end against real swtpm instances: the evidence a
//! wallet produces verifies, and each tampering fails with its own error.
//!
//! Every swtpm's AK is first enrolled by credential activation against an
//! EK certificate from a test CA; verification runs against that pin.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

#[path = "wallet_support/enroll.rs"]
mod enroll;

use enroll::{enroll, Enrolled};
use wallet_core::attest::PinnedAk;
use wallet_core::enrollment::{verify_evidence, TrustAnchor};

use support::{open_wallet, swtpm, TempDir};
use wallet_core::attest::{
    challenge, verify, AttestError, Evidence, Expectations, PcrSelection, MAX_EVIDENCE_LEN,
};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::{self, transport, Tpm};
use wallet_core::wallet::{AccountOptions, KeyMode};

const NONCE: &[u8] = b"verifier-chosen nonce 42";
const CHAIN_ID: u64 = 14;

fn none() -> Expectations<'static> {
    Expectations::default()
}

/// Evidence made before the TPM-identity branch records the marker comes
/// from an "unverified TPM" account: these tests accept it explicitly.
fn accepting() -> Expectations<'static> {
    Expectations {
        accept_unverified_tpm: true,
        ..none()
    }
}

struct Setup {
    _dir: TempDir,
    evidence: Evidence,
    pinned: PinnedAk,
    enrolled: Enrolled,
}

fn genuine() -> (tpm::simulator::Swtpm, Setup) {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let dir = TempDir::new("attest");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.create_account(AccountOptions::default()).unwrap();
    let evidence = wallet.attest(NONCE, CHAIN_ID).unwrap();
    verify(&evidence, NONCE, &enrolled.pinned, &accepting()).unwrap();
    drop(wallet);
    (
        tpm,
        Setup {
            _dir: dir,
            evidence,
            pinned: enrolled.pinned,
            enrolled,
        },
    )
}

#[test]
fn evidence_verifies_through_its_encoding_with_every_expectation() {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let pinned = enrolled.pinned;
    let dir = TempDir::new("attest-ok");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let address = wallet.create_account(AccountOptions::default()).unwrap();
    let first = wallet.attest(b"first", CHAIN_ID).unwrap();
    let first_facts = verify(&first, b"first", &pinned, &accepting()).unwrap();
    let ak_name = first_facts.ak_name;
    assert_eq!(&ak_name, pinned.ak_name());
    // An account without a key lock says so in its evidence.
    assert_eq!(
        first_facts.key_lock,
        wallet_core::attest::KeyLockFacts::NONE
    );
    assert!(first_facts
        .key_lock
        .meaning()
        .contains("any local process with TPM access and the account file can unseal"));
    wallet.set_key_mode(KeyMode::Cached);
    let evidence = wallet.attest(NONCE, CHAIN_ID).unwrap();

    // What crosses the C ABI and Python: the canonical encoding.
    let mut buf = vec![0u8; MAX_EVIDENCE_LEN];
    let n = evidence.encode(&mut buf).unwrap();
    let decoded = Evidence::parse(&buf[..n]).unwrap();
    assert_eq!(decoded, evidence);

    // A fresh swtpm has never extended PCRs 0-7: they hold zeros.
    let zero_pcrs: Vec<(u8, [u8; 32])> = (0..8).map(|i| (i, [0u8; 32])).collect();
    let anchors = [TrustAnchor::Enrollment {
        roots: &enrolled.roots,
        record: &enrolled.record,
    }];
    for anchor in anchors {
        let facts = verify_evidence(
            &decoded,
            NONCE,
            Some(anchor),
            &Expectations {
                address: Some(address),
                chain_id: Some(CHAIN_ID),
                policy_hash: Some(wallet.policy_hash().unwrap()),
                owners_hash: Some(evidence.account.owners_hash),
                threshold: Some(evidence.account.threshold),
                admin_nonce: Some(evidence.account.admin_nonce),
                audit_head: Some(evidence.account.audit_head),
                pcr_values: &zero_pcrs,
                pcr_selection: Some(PcrSelection::SHA256_0_TO_7),
                accept_unverified_tpm: true,
            },
        )
        .unwrap();
        assert_eq!(facts.account, evidence.account);
        assert_eq!(facts.account.address, address);
        assert_eq!(facts.account.chain_id, CHAIN_ID);
        assert_eq!(facts.pcr_selection, PcrSelection::SHA256_0_TO_7);
        assert_eq!(facts.pcr_values.len(), 8);
        assert_eq!(facts.ak_name, ak_name);
    }
    // The AK is deterministic: the same TPM gives the same AK Name again.
    drop(wallet);
    let mut again = open_wallet(&tpm, &dir.state("s"));
    again.load_account().unwrap();
    let later = again.attest(b"later", CHAIN_ID).unwrap();
    assert_eq!(
        verify(&later, b"later", &pinned, &accepting())
            .unwrap()
            .ak_name,
        ak_name
    );
    // Without an anchor nothing verifies.
    assert_eq!(
        verify_evidence(&later, b"later", None, &accepting()),
        Err(wallet_core::Error::Attest(AttestError::NoTrustAnchor))
    );
}

#[test]
fn a_changed_nonce_is_a_challenge_mismatch() {
    let (_tpm, s) = genuine();
    assert_eq!(
        verify(&s.evidence, b"another nonce", &s.pinned, &accepting()),
        Err(AttestError::ChallengeMismatch)
    );
}

#[test]
fn a_changed_pcr_value_is_a_pcr_digest_mismatch() {
    let (_tpm, s) = genuine();
    for i in 0..s.evidence.pcr_values.len() {
        let mut e = s.evidence.clone();
        e.pcr_values[i][31] ^= 1;
        assert_eq!(
            verify(&e, NONCE, &s.pinned, &accepting()),
            Err(AttestError::PcrDigestMismatch)
        );
    }
}

#[test]
fn a_flipped_attest_byte_fails_the_quote_signature() {
    let (_tpm, s) = genuine();
    for i in 0..s.evidence.attest.len() {
        let mut e = s.evidence.clone();
        e.attest[i] ^= 0x40;
        assert_eq!(
            verify(&e, NONCE, &s.pinned, &accepting()),
            Err(AttestError::AkSignatureInvalid),
            "byte {i}"
        );
    }
}

#[test]
fn a_flipped_signature_byte_fails_the_quote_signature() {
    let (_tpm, s) = genuine();
    for i in 0..64 {
        let mut e = s.evidence.clone();
        let scalar = if i < 32 {
            &mut e.ak_signature.r
        } else {
            &mut e.ak_signature.s
        };
        scalar[i % 32] ^= 0x01;
        let err = verify(&e, NONCE, &s.pinned, &accepting()).unwrap_err();
        assert!(
            matches!(
                err,
                AttestError::AkSignatureInvalid | AttestError::AkSignatureMalformed
            ),
            "byte {i}: {err:?}"
        );
    }
}

#[test]
fn a_flipped_ak_public_byte_is_not_the_enrolled_ak() {
    let (_tpm, s) = genuine();
    for i in 0..s.evidence.ak_public.len() {
        let mut e = s.evidence.clone();
        e.ak_public[i] ^= 0x01;
        assert_eq!(
            verify(&e, NONCE, &s.pinned, &accepting()),
            Err(AttestError::AkNotEnrolled),
            "byte {i}"
        );
    }
}

#[test]
fn evidence_from_another_swtpm_claiming_the_address_is_refused() {
    let (_tpm_a, victim) = genuine();
    let claimed = victim.evidence.account.address;

    // On another TPM, the attacker quotes the challenge for the victim's
    // address with its own AK and signs it with its own wallet key.
    // Another TPM: another EK, so another AK (an endorsement primary).
    let tpm_b = Swtpm::start_temporary_with_new_ek().unwrap();
    let chal = challenge(NONCE, &victim.evidence.account);
    let mut engine = Tpm::new(transport::open(&tpm_b.tcti()).unwrap()).unwrap();
    engine.salt_sessions_to_unverified_srk();
    let quote = engine
        .create_ak_and_quote(&chal, tpm::PcrSelection::DEFAULT_QUOTE)
        .unwrap();
    drop(engine);
    let dir = TempDir::new("attacker");
    let mut attacker = open_wallet(&tpm_b, &dir.state("s"));
    attacker.create_account(AccountOptions::default()).unwrap();
    let forged = Evidence {
        attest: heapless::Vec::from_slice(&quote.attest).unwrap(),
        ak_signature: wallet_core::attest::AkSignature {
            r: quote.signature_r,
            s: quote.signature_s,
        },
        ak_public: heapless::Vec::from_slice(&quote.ak_public).unwrap(),
        pcr_selection: PcrSelection::SHA256_0_TO_7,
        pcr_values: heapless::Vec::from_slice(&quote.pcrs.values).unwrap(),
        account: victim.evidence.account,
        wallet_signature: attacker.sign_message(&chal).unwrap(),
    };
    // A verifier that pinned the victim's AK refuses the other TPM's AK.
    assert_eq!(
        verify(&forged, NONCE, &victim.pinned, &accepting()),
        Err(AttestError::AkNotEnrolled)
    );
    // The attacker's genuine evidence for its own address, relabelled, fails
    // the challenge.
    let mut relabelled = attacker.attest(NONCE, CHAIN_ID).unwrap();
    relabelled.account.address = claimed;
    assert_eq!(
        verify(&relabelled, NONCE, &victim.pinned, &accepting()),
        Err(AttestError::AkNotEnrolled)
    );
    drop(attacker);
    // Even with the other TPM enrolled too (its own genuine EK chain), the
    // quote is genuine but the wallet signature gives it away.
    let attacker_enrolled = enroll(&tpm_b);
    assert_eq!(
        verify(&forged, NONCE, &attacker_enrolled.pinned, &accepting()),
        Err(AttestError::WalletSignatureMismatch)
    );
    assert_eq!(
        verify(&relabelled, NONCE, &attacker_enrolled.pinned, &accepting()),
        Err(AttestError::ChallengeMismatch)
    );
    // The victim's record does not vouch for the attacker's TPM either.
    assert_eq!(
        verify_evidence(
            &forged,
            NONCE,
            Some(TrustAnchor::Enrollment {
                roots: &victim.enrolled.roots,
                record: &victim.enrolled.record,
            }),
            &accepting(),
        ),
        Err(wallet_core::Error::Attest(AttestError::AkNotEnrolled))
    );
}
