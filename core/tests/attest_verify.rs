//! The attestation verifier against hand-built quotes signed by a P-256 test
//! AK generated here: every check of `verify` fails with its own error.
//! The end-to-end tests against a real swtpm live in `wallet_attest.rs`.
//!
//! The test AK is enrolled through a software EK double (credential
//! activation done in software), so the checks after the enrollment pin are
//! reachable; AK public-area checks are exercised where they now apply, at
//! enrollment.
#![allow(clippy::unwrap_used)]

#[path = "support/software_ek.rs"]
mod software_ek;

use rand::rngs::OsRng;
use software_ek::SoftwareEkDouble;
use wallet_core::attest::{KeyLockFacts, PinnedAk, TpmIdentity, VerifiedFacts};
use wallet_core::enrollment::{ActivationChallenge, EnrollmentError};

use heapless::Vec as HVec;
use p256::ecdsa::signature::Signer;
use wallet_core::attest::{
    challenge, pcr_digest, sha256_name, wire, AccountFacts, AkSignature, AttestError, Evidence,
    Expectations, PcrSelection, MAX_EVIDENCE_LEN, NO_POLICY_HASH,
};
use wallet_core::signer::{Address, SecretKey, Signature};

const NONCE: &[u8] = b"verifier nonce 0001";
const CHAIN_ID: u64 = 14;
const OWNERS_HASH: [u8; 32] = [0x0a; 32];
const THRESHOLD: u8 = 2;
const ADMIN_NONCE: u64 = 5;
const AUDIT_HEAD: [u8; 32] = [0x0b; 32];

/// The account facts of the test wallet: no policy, two of some owners.
fn facts_for(address: Address) -> AccountFacts {
    AccountFacts {
        address,
        chain_id: CHAIN_ID,
        policy_hash: NO_POLICY_HASH,
        owners_hash: OWNERS_HASH,
        threshold: THRESHOLD,
        admin_nonce: ADMIN_NONCE,
        audit_head: AUDIT_HEAD,
        tpm_identity: TpmIdentity::Verified,
        // As evidence made before key locks were reported.
        key_lock: KeyLockFacts::NotReported,
    }
}

struct TestAk {
    key: p256::ecdsa::SigningKey,
    attributes: u32,
    scheme: u16,
    curve: u16,
}

impl TestAk {
    fn new(seed: u8) -> Self {
        let mut bytes = [seed; 32];
        bytes[0] = 1;
        Self {
            key: p256::ecdsa::SigningKey::from_bytes(&bytes.into()).unwrap(),
            attributes: wire::object_attributes::AK_REQUIRED | (1 << 6) | (1 << 10),
            scheme: wire::TPM_ALG_ECDSA,
            curve: wire::TPM_ECC_NIST_P256,
        }
    }

    /// TPMT_PUBLIC (Part 2, 12.2.4) of this key.
    fn public_area(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = Vec::new();
        out.extend_from_slice(&wire::TPM_ALG_ECC.to_be_bytes());
        out.extend_from_slice(&wire::TPM_ALG_SHA256.to_be_bytes());
        out.extend_from_slice(&self.attributes.to_be_bytes());
        out.extend_from_slice(&[0, 0]); // empty authPolicy
        out.extend_from_slice(&wire::TPM_ALG_NULL.to_be_bytes()); // symmetric
        out.extend_from_slice(&self.scheme.to_be_bytes());
        out.extend_from_slice(&wire::TPM_ALG_SHA256.to_be_bytes());
        out.extend_from_slice(&self.curve.to_be_bytes());
        out.extend_from_slice(&wire::TPM_ALG_NULL.to_be_bytes()); // kdf
        out.extend_from_slice(&[0, 32]);
        out.extend_from_slice(point.x().unwrap());
        out.extend_from_slice(&[0, 32]);
        out.extend_from_slice(point.y().unwrap());
        out
    }

    fn sign(&self, attest: &[u8]) -> AkSignature {
        let sig: p256::ecdsa::Signature = self.key.sign(attest);
        let (r, s) = sig.split_bytes();
        AkSignature {
            r: r.into(),
            s: s.into(),
        }
    }
}

/// A TPMS_ATTEST (Part 2, 10.12.12) with a TPMS_QUOTE_INFO.
fn quote_bytes(extra: &[u8], selection: &PcrSelection, digest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&wire::TPM_GENERATED_VALUE.to_be_bytes());
    out.extend_from_slice(&wire::TPM_ST_ATTEST_QUOTE.to_be_bytes());
    out.extend_from_slice(&[0, 4, 0x40, 0, 0, 1]); // qualifiedSigner
    out.extend_from_slice(&u16::try_from(extra.len()).unwrap().to_be_bytes());
    out.extend_from_slice(extra);
    out.extend_from_slice(&1234u64.to_be_bytes()); // clock
    out.extend_from_slice(&5u32.to_be_bytes()); // resetCount
    out.extend_from_slice(&6u32.to_be_bytes()); // restartCount
    out.push(1); // safe
    out.extend_from_slice(&0x2023_0101u64.to_be_bytes()); // firmwareVersion
    let mut tpml = [0u8; 16];
    let n = selection.marshal_tpml(&mut tpml).unwrap();
    out.extend_from_slice(&tpml[..n]);
    out.extend_from_slice(&u16::try_from(digest.len()).unwrap().to_be_bytes());
    out.extend_from_slice(digest);
    out
}

struct WalletKey(SecretKey);

impl WalletKey {
    fn new(seed: u8) -> Self {
        Self(SecretKey::from_bytes(&[seed; 32]).unwrap())
    }

    fn address(&self) -> Address {
        self.0.address()
    }

    fn personal_sign(&self, message: &[u8; 32]) -> Signature {
        self.0.sign_message(message).unwrap()
    }
}

fn pcr_values(n: usize) -> Vec<[u8; 32]> {
    (0..n)
        .map(|i| [u8::try_from(i).unwrap() + 0x30; 32])
        .collect()
}

struct Built {
    ak: TestAk,
    wallet: WalletKey,
    evidence: Evidence,
}

fn build_with(ak: TestAk, wallet: WalletKey, nonce: &[u8]) -> Built {
    let account = facts_for(wallet.address());
    build_for(ak, wallet, nonce, account)
}

/// Genuine evidence of `account`'s facts, quoted by `ak` and signed by `wallet`.
fn build_for(ak: TestAk, wallet: WalletKey, nonce: &[u8], account: AccountFacts) -> Built {
    let selection = PcrSelection::SHA256_0_TO_7;
    let values = pcr_values(8);
    let chal = challenge(nonce, &account);
    let attest = quote_bytes(&chal, &selection, &pcr_digest(&values));
    let evidence = Evidence {
        ak_signature: ak.sign(&attest),
        attest: HVec::from_slice(&attest).unwrap(),
        ak_public: HVec::from_slice(&ak.public_area()).unwrap(),
        pcr_selection: selection,
        pcr_values: HVec::from_slice(&values).unwrap(),
        account,
        wallet_signature: wallet.personal_sign(&chal),
    };
    Built {
        ak,
        wallet,
        evidence,
    }
}

fn build() -> Built {
    build_with(TestAk::new(7), WalletKey::new(9), NONCE)
}

/// Re-signs altered attest bytes with the AK, to reach the checks after the signature.
fn resign(built: &mut Built, attest: &[u8]) {
    built.evidence.attest = HVec::from_slice(attest).unwrap();
    built.evidence.ak_signature = built.ak.sign(attest);
}

fn none() -> Expectations<'static> {
    Expectations::default()
}

/// Enrolls `ak` through the software EK double.
fn pin(ak: &TestAk) -> PinnedAk {
    SoftwareEkDouble::new().enroll(&ak.key, &ak.public_area()).0
}

thread_local! {
    /// The enrollment of the default test AK (`TestAk::new(7)`).
    static DEFAULT_PIN: PinnedAk = pin(&TestAk::new(7));
}

/// Verifies against the enrolled default test AK.
fn verify(
    evidence: &Evidence,
    nonce: &[u8],
    expectations: &Expectations<'_>,
) -> Result<VerifiedFacts, AttestError> {
    DEFAULT_PIN.with(|pinned| wallet_core::attest::verify(evidence, nonce, pinned, expectations))
}

/// Why enrollment refuses the AK public area `area`.
fn ak_refusal(area: &[u8]) -> AttestError {
    match ActivationChallenge::new(&SoftwareEkDouble::new().public_area(), area, &mut OsRng) {
        Err(EnrollmentError::AkPublic(e)) => e,
        other => panic!("expected an AK refusal, got {other:?}"),
    }
}

#[test]
fn good_evidence_verifies_and_reports_the_facts() {
    let b = build();
    let facts = verify(&b.evidence, NONCE, &none()).unwrap();
    assert_eq!(facts.account, facts_for(b.wallet.address()));
    assert_eq!(facts.account.address, b.wallet.address());
    assert_eq!(facts.account.chain_id, CHAIN_ID);
    assert_eq!(facts.account.policy_hash, NO_POLICY_HASH);
    assert_eq!(facts.account.owners_hash, OWNERS_HASH);
    assert_eq!(facts.account.threshold, THRESHOLD);
    assert_eq!(facts.account.admin_nonce, ADMIN_NONCE);
    assert_eq!(facts.account.audit_head, AUDIT_HEAD);
    assert_eq!(facts.pcr_selection, PcrSelection::SHA256_0_TO_7);
    assert_eq!(&facts.pcr_values[..], &pcr_values(8)[..]);
    assert_eq!(facts.ak_name, sha256_name(&b.ak.public_area()));
    assert_eq!(
        (facts.clock, facts.reset_count, facts.restart_count),
        (1234, 5, 6)
    );
    assert_eq!(facts.firmware_version, 0x2023_0101);
}

#[test]
fn expectations_that_hold_pass() {
    let b = build();
    let pcrs = [(0u8, [0x30; 32]), (7u8, [0x37; 32])];
    {
        let exp = Expectations {
            address: Some(b.wallet.address()),
            chain_id: Some(CHAIN_ID),
            policy_hash: Some(NO_POLICY_HASH),
            owners_hash: Some(OWNERS_HASH),
            threshold: Some(THRESHOLD),
            admin_nonce: Some(ADMIN_NONCE),
            audit_head: Some(AUDIT_HEAD),
            pcr_values: &pcrs,
            pcr_selection: Some(PcrSelection::SHA256_0_TO_7),
            accept_unverified_tpm: false,
        };
        verify(&b.evidence, NONCE, &exp).unwrap();
    }
}

#[test]
fn changed_nonce_is_a_challenge_mismatch() {
    let b = build();
    assert_eq!(
        verify(&b.evidence, b"another nonce", &none()),
        Err(AttestError::ChallengeMismatch)
    );
}

#[test]
fn changed_evidence_fields_bound_by_the_challenge_are_a_challenge_mismatch() {
    let edits: [fn(&mut AccountFacts); 7] = [
        |a| a.chain_id = 1,
        |a| a.address.0[0] ^= 1,
        |a| a.policy_hash[31] = 1,
        |a| a.owners_hash[0] ^= 1,
        |a| a.threshold = 1,
        |a| a.admin_nonce += 1,
        |a| a.audit_head[31] ^= 1,
    ];
    for edit in edits {
        let mut b = build();
        edit(&mut b.evidence.account);
        assert_eq!(
            verify(&b.evidence, NONCE, &none()),
            Err(AttestError::ChallengeMismatch)
        );
    }
}

#[test]
fn changed_pcr_value_is_a_digest_mismatch() {
    let mut b = build();
    b.evidence.pcr_values[3][0] ^= 0x80;
    assert_eq!(
        verify(&b.evidence, NONCE, &none()),
        Err(AttestError::PcrDigestMismatch)
    );
}

#[test]
fn every_flipped_attest_byte_fails_the_ak_signature() {
    let b = build();
    for i in 0..b.evidence.attest.len() {
        let mut e = b.evidence.clone();
        e.attest[i] ^= 0x01;
        assert_eq!(
            verify(&e, NONCE, &none()),
            Err(AttestError::AkSignatureInvalid),
            "byte {i}"
        );
    }
}

#[test]
fn every_flipped_signature_byte_is_refused() {
    let b = build();
    for i in 0..64 {
        let mut e = b.evidence.clone();
        if i < 32 {
            e.ak_signature.r[i] ^= 0x01;
        } else {
            e.ak_signature.s[i - 32] ^= 0x01;
        }
        let err = verify(&e, NONCE, &none()).unwrap_err();
        assert!(
            matches!(
                err,
                AttestError::AkSignatureInvalid | AttestError::AkSignatureMalformed
            ),
            "byte {i}: {err:?}"
        );
    }
    let mut e = b.evidence.clone();
    e.ak_signature.s = [0; 32];
    assert_eq!(
        verify(&e, NONCE, &none()),
        Err(AttestError::AkSignatureMalformed)
    );
    let mut e = b.evidence.clone();
    e.ak_signature.r = [0xff; 32];
    assert_eq!(
        verify(&e, NONCE, &none()),
        Err(AttestError::AkSignatureMalformed)
    );
}

#[test]
fn every_flipped_ak_public_byte_is_not_the_enrolled_ak() {
    let b = build();
    for i in 0..b.evidence.ak_public.len() {
        let mut e = b.evidence.clone();
        e.ak_public[i] ^= 0x01;
        assert_eq!(
            verify(&e, NONCE, &none()),
            Err(AttestError::AkNotEnrolled),
            "byte {i}"
        );
    }
}

#[test]
fn evidence_from_an_ak_enrolled_elsewhere_is_refused() {
    // A software-made AK, enrolled with another verifier, quoting any PCRs
    // for the same wallet: not the AK this verifier pinned.
    let b = build_with(TestAk::new(8), WalletKey::new(9), NONCE);
    assert_eq!(
        verify(&b.evidence, NONCE, &none()),
        Err(AttestError::AkNotEnrolled)
    );
    let own = pin(&b.ak);
    assert!(wallet_core::attest::verify(&b.evidence, NONCE, &own, &none()).is_ok());
}

type AkAlteration = (fn(&mut TestAk), AttestError);

#[test]
fn each_ak_public_area_check_has_its_error() {
    use wire::object_attributes as attr;
    let cases: [AkAlteration; 7] = [
        (
            |ak| ak.attributes &= !attr::RESTRICTED,
            AttestError::AkAttributes,
        ),
        (
            |ak| ak.attributes &= !attr::FIXED_TPM,
            AttestError::AkAttributes,
        ),
        (
            |ak| ak.attributes &= !attr::FIXED_PARENT,
            AttestError::AkAttributes,
        ),
        (
            |ak| ak.attributes &= !attr::SENSITIVE_DATA_ORIGIN,
            AttestError::AkAttributes,
        ),
        (
            |ak| ak.attributes |= attr::DECRYPT,
            AttestError::AkAttributes,
        ),
        (|ak| ak.attributes |= 1 << 24, AttestError::AkAttributes),
        (|ak| ak.scheme = 0x001a, AttestError::AkScheme),
    ];
    for (alter, expected) in cases {
        let mut ak = TestAk::new(7);
        alter(&mut ak);
        let b = build_with(ak, WalletKey::new(9), NONCE);
        assert_eq!(ak_refusal(&b.evidence.ak_public), expected);
    }
    let mut ak = TestAk::new(7);
    ak.attributes &= !attr::SIGN;
    let b = build_with(ak, WalletKey::new(9), NONCE);
    assert_eq!(ak_refusal(&b.evidence.ak_public), AttestError::AkAttributes);
    let mut ak = TestAk::new(7);
    ak.curve = 0x0004;
    let b = build_with(ak, WalletKey::new(9), NONCE);
    assert_eq!(ak_refusal(&b.evidence.ak_public), AttestError::AkCurve);

    let b = build();
    let mut area = b.ak.public_area();
    area[1] = 0x01; // TPM_ALG_RSA
    let mut e = b.evidence.clone();
    e.ak_public = HVec::from_slice(&area).unwrap();
    assert_eq!(ak_refusal(&e.ak_public), AttestError::AkNotEcc);
    let mut area = b.ak.public_area();
    area[3] = 0x0c; // SHA-384 nameAlg
    e.ak_public = HVec::from_slice(&area).unwrap();
    assert_eq!(ak_refusal(&e.ak_public), AttestError::AkNameAlg);
    let mut area = b.ak.public_area();
    area[11] = 0x06; // symmetric AES instead of NULL
    e.ak_public = HVec::from_slice(&area).unwrap();
    assert_eq!(ak_refusal(&e.ak_public), AttestError::AkParameters);
    let mut area = b.ak.public_area();
    let last = area.len() - 1;
    area[last] ^= 0x01; // y no longer on the curve
    e.ak_public = HVec::from_slice(&area).unwrap();
    assert_eq!(ak_refusal(&e.ak_public), AttestError::AkPointInvalid);
    let mut area = b.ak.public_area();
    area.push(0);
    e.ak_public = HVec::from_slice(&area).unwrap();
    assert_eq!(ak_refusal(&e.ak_public), AttestError::AkPublicMalformed);
}

#[test]
fn attest_structure_checks_have_their_errors() {
    let b = build();
    let chal = challenge(NONCE, &b.evidence.account);
    let good = quote_bytes(
        &chal,
        &PcrSelection::SHA256_0_TO_7,
        &pcr_digest(&pcr_values(8)),
    );

    let mut bad = good.clone();
    bad[0] = 0;
    let mut bb = build();
    resign(&mut bb, &bad);
    assert_eq!(
        verify(&bb.evidence, NONCE, &none()),
        Err(AttestError::AttestBadMagic)
    );

    let mut bad = good.clone();
    bad[5] = 0x17; // TPM_ST_ATTEST_CERTIFY
    resign(&mut bb, &bad);
    assert_eq!(
        verify(&bb.evidence, NONCE, &none()),
        Err(AttestError::AttestNotQuote)
    );

    let mut bad = good.clone();
    bad.push(0);
    resign(&mut bb, &bad);
    assert_eq!(
        verify(&bb.evidence, NONCE, &none()),
        Err(AttestError::AttestMalformed)
    );

    resign(&mut bb, &good[..good.len() - 1]);
    assert_eq!(
        verify(&bb.evidence, NONCE, &none()),
        Err(AttestError::AttestMalformed)
    );

    // A quote over PCRs 0-3 while the evidence claims 0-7.
    let other = PcrSelection::sha256(&[0, 1, 2, 3]).unwrap();
    let bad = quote_bytes(&chal, &other, &pcr_digest(&pcr_values(8)));
    resign(&mut bb, &bad);
    assert_eq!(
        verify(&bb.evidence, NONCE, &none()),
        Err(AttestError::PcrSelectionMismatch)
    );

    // A TPML_PCR_SELECTION count claiming far more banks than bytes remain.
    let mut bad = good.clone();
    let count_at = 4 + 2 + 6 + 2 + 32 + 17 + 8;
    bad[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    resign(&mut bb, &bad);
    assert_eq!(
        verify(&bb.evidence, NONCE, &none()),
        Err(AttestError::AttestMalformed)
    );
}

#[test]
fn a_foreign_wallet_claiming_the_address_fails_the_wallet_signature() {
    // Another TPM (another AK) and another key, claiming the first wallet's address.
    let victim = build();
    let attacker_ak = TestAk::new(8);
    let attacker_wallet = WalletKey::new(10);
    let selection = PcrSelection::SHA256_0_TO_7;
    let values = pcr_values(8);
    let chal = challenge(NONCE, &victim.evidence.account);
    let attest = quote_bytes(&chal, &selection, &pcr_digest(&values));
    let forged = Evidence {
        ak_signature: attacker_ak.sign(&attest),
        attest: HVec::from_slice(&attest).unwrap(),
        ak_public: HVec::from_slice(&attacker_ak.public_area()).unwrap(),
        pcr_selection: selection,
        pcr_values: HVec::from_slice(&values).unwrap(),
        account: victim.evidence.account,
        wallet_signature: attacker_wallet.personal_sign(&chal),
    };
    // Against the victim's enrolled AK: not the enrolled AK.
    assert_eq!(
        verify(&forged, NONCE, &none()),
        Err(AttestError::AkNotEnrolled)
    );
    // Even with the attacker's AK enrolled, the wallet signature gives it away.
    let attacker_pin = pin(&attacker_ak);
    assert_eq!(
        wallet_core::attest::verify(&forged, NONCE, &attacker_pin, &none()),
        Err(AttestError::WalletSignatureMismatch)
    );
}

#[test]
fn wallet_signature_checks() {
    let mut b = build();
    b.evidence.wallet_signature.y_parity ^= true;
    assert_eq!(
        verify(&b.evidence, NONCE, &none()),
        Err(AttestError::WalletSignatureMismatch)
    );
    let mut b = build();
    b.evidence.wallet_signature.r.fill(0);
    assert_eq!(
        verify(&b.evidence, NONCE, &none()),
        Err(AttestError::WalletSignatureMalformed)
    );
    let mut b = build();
    b.evidence.wallet_signature.s = [0xff; 32]; // not below n
    assert_eq!(
        verify(&b.evidence, NONCE, &none()),
        Err(AttestError::WalletSignatureMalformed)
    );
    let mut b = build();
    b.evidence.wallet_signature.s[20] ^= 1;
    assert_eq!(
        verify(&b.evidence, NONCE, &none()),
        Err(AttestError::WalletSignatureMismatch)
    );
}

#[test]
fn unmet_expectations_have_their_errors() {
    let b = build();
    let check = |exp: Expectations<'_>| verify(&b.evidence, NONCE, &exp).unwrap_err();
    assert_eq!(
        check(Expectations {
            address: Some(Address([0; 20])),
            ..none()
        }),
        AttestError::AddressMismatch
    );
    assert_eq!(
        check(Expectations {
            chain_id: Some(1),
            ..none()
        }),
        AttestError::ChainIdMismatch
    );
    assert_eq!(
        check(Expectations {
            policy_hash: Some([1; 32]),
            ..none()
        }),
        AttestError::PolicyHashMismatch
    );
    assert_eq!(
        check(Expectations {
            owners_hash: Some([0; 32]),
            ..none()
        }),
        AttestError::OwnersHashMismatch
    );
    assert_eq!(
        check(Expectations {
            threshold: Some(THRESHOLD + 1),
            ..none()
        }),
        AttestError::ThresholdMismatch
    );
    assert_eq!(
        check(Expectations {
            admin_nonce: Some(ADMIN_NONCE - 1),
            ..none()
        }),
        AttestError::AdminNonceMismatch
    );
    assert_eq!(
        check(Expectations {
            audit_head: Some([0; 32]),
            ..none()
        }),
        AttestError::AuditHeadMismatch
    );
    assert_eq!(
        check(Expectations {
            pcr_values: &[(8, [0; 32])],
            ..none()
        }),
        AttestError::PcrNotQuoted
    );
    assert_eq!(
        check(Expectations {
            pcr_values: &[(2, [0x33; 32])],
            ..none()
        }),
        AttestError::PcrValueMismatch
    );
    assert_eq!(
        check(Expectations {
            pcr_selection: Some(PcrSelection::sha256(&[0, 1, 2, 3]).unwrap()),
            ..none()
        }),
        AttestError::PcrSelectionNotExpected
    );
}

#[test]
fn an_unverified_tpm_is_refused_unless_accepted_and_then_reported() {
    let wallet = WalletKey::new(9);
    let account = AccountFacts {
        tpm_identity: TpmIdentity::Unverified,
        ..facts_for(wallet.address())
    };
    let Built { evidence, .. } = build_for(TestAk::new(7), wallet, NONCE, account);
    assert_eq!(
        verify(&evidence, NONCE, &none()),
        Err(AttestError::UnverifiedTpm)
    );
    assert!(AttestError::UnverifiedTpm
        .to_string()
        .contains("unverified TPM"));
    let accept = Expectations {
        accept_unverified_tpm: true,
        ..none()
    };
    let facts = verify(&evidence, NONCE, &accept).unwrap();
    assert_eq!(facts.tpm_identity, TpmIdentity::Unverified);
    // Claiming "verified" for the same quote breaks the challenge.
    let mut claimed = evidence.clone();
    claimed.account.tpm_identity = TpmIdentity::Verified;
    assert_eq!(
        verify(&claimed, NONCE, &accept),
        Err(AttestError::ChallengeMismatch)
    );
}

#[test]
fn challenge_is_the_documented_hash() {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"flare-wallet/attest/v3");
    h.update(b"abc");
    h.update(1u64.to_be_bytes());
    h.update([0xaa; 20]);
    h.update([0u8; 32]);
    h.update([0x0a; 32]);
    h.update([2u8]);
    h.update(5u64.to_be_bytes());
    h.update([0x0b; 32]);
    h.update([1u8]);
    let expected: [u8; 32] = h.finalize().into();
    let facts = AccountFacts {
        chain_id: 1,
        ..facts_for(Address([0xaa; 20]))
    };
    assert_eq!(challenge(b"abc", &facts), expected);
    assert_ne!(challenge(b"abd", &facts), expected);
}

#[test]
fn pcr_selection_marshals_as_a_tpml() {
    let mut out = [0u8; 16];
    let n = PcrSelection::SHA256_0_TO_7.marshal_tpml(&mut out).unwrap();
    assert_eq!(&out[..n], &[0, 0, 0, 1, 0, 0x0b, 3, 0xff, 0, 0]);
    let sel = PcrSelection::sha256(&[16, 23]).unwrap();
    let n = sel.marshal_tpml(&mut out).unwrap();
    assert_eq!(&out[..n], &[0, 0, 0, 1, 0, 0x0b, 3, 0, 0, 0x81]);
    assert_eq!(sel.indices().collect::<Vec<_>>(), vec![16, 23]);
    assert_eq!(
        PcrSelection::sha256(&[32]),
        Err(AttestError::PcrIndexOutOfRange)
    );
    assert_eq!(
        sel.marshal_tpml(&mut out[..5]),
        Err(AttestError::BufferTooSmall)
    );
}

#[test]
fn evidence_encoding_round_trips_and_is_strict() {
    let b = build();
    let mut buf = vec![0u8; MAX_EVIDENCE_LEN];
    let n = b.evidence.encode(&mut buf).unwrap();
    assert_eq!(n, b.evidence.encoded_len());
    let bytes = &buf[..n].to_vec();
    let parsed = Evidence::parse(bytes).unwrap();
    assert_eq!(parsed, b.evidence);
    verify(&parsed, NONCE, &none()).unwrap();

    for cut in 0..n {
        assert!(Evidence::parse(&bytes[..cut]).is_err(), "cut {cut}");
    }
    let mut long = bytes.to_vec();
    long.push(0);
    assert_eq!(
        Evidence::parse(&long),
        Err(AttestError::EvidenceTrailingBytes)
    );
    let mut bad = bytes.to_vec();
    bad[0] ^= 1;
    assert_eq!(Evidence::parse(&bad), Err(AttestError::EvidenceBadMagic));
    let mut bad = bytes.to_vec();
    bad[9] = 4;
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::EvidenceUnsupportedVersion)
    );
    // Version 2 (no TPM identity, no enrolled AK) is refused by name.
    let mut bad = bytes.to_vec();
    bad[9] = 2;
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::EvidenceWithoutTrustChain)
    );
    assert!(AttestError::EvidenceWithoutTrustChain
        .to_string()
        .contains("no TPM trust chain"));
    // Version 1 (no owner facts) is refused by name, whatever follows.
    let mut bad = bytes.to_vec();
    bad[9] = 1;
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::EvidenceVersionRetired)
    );
    assert!(AttestError::EvidenceVersionRetired
        .to_string()
        .contains("version 1"));
    // The owner facts sit at their documented offsets.
    assert_eq!(&bytes[70..102], &OWNERS_HASH);
    assert_eq!(bytes[102], THRESHOLD);
    assert_eq!(&bytes[103..111], &ADMIN_NONCE.to_be_bytes());
    assert_eq!(&bytes[111..143], &AUDIT_HEAD);
    assert_eq!(bytes[143], 1, "TPM identity: verified");
    let mut bad = bytes.to_vec();
    bad[143] = 2;
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::EvidenceTpmIdentityInvalid)
    );
    let mut bad = bytes.to_vec();
    bad[275 + 1 + 3] = 7; // PCR count byte after a 3-byte bitmap
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::EvidencePcrCountMismatch)
    );
    let mut bad = bytes.to_vec();
    bad[144 + 64] = 1; // v must be 27 or 28 on the wire
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::WalletSignatureMalformed)
    );
    let mut bad = bytes.to_vec();
    bad[275] = 9; // bitmap size
    assert_eq!(
        Evidence::parse(&bad),
        Err(AttestError::EvidenceLengthOutOfBounds)
    );
    assert_eq!(
        b.evidence.encode(&mut vec![0u8; n - 1]),
        Err(AttestError::BufferTooSmall)
    );
    // Any single-bit change to the encoding either fails to parse or fails
    // to verify against the enrolled AK (its Name pins the attributes).
    let trusted = none();
    for bit in [0x01, 0x04, 0x80] {
        for i in 0..n {
            let mut flipped = bytes.to_vec();
            flipped[i] ^= bit;
            if let Ok(e) = Evidence::parse(&flipped) {
                assert!(
                    verify(&e, NONCE, &trusted).is_err(),
                    "byte {i} bit {bit:#x}"
                );
            }
        }
    }
}

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_evidence_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..1600)) {
            let mut bytes = b"FLWEVID\0\x00\x03".to_vec();
            bytes.extend_from_slice(&tail);
            if let Ok(e) = Evidence::parse(&bytes) {
                let _ = verify(&e, NONCE, &none());
            }
        }
    }
}

#[test]
fn the_key_lock_is_reported_bound_and_strictly_encoded() {
    let locks = [
        (KeyLockFacts::NONE, "none"),
        (
            KeyLockFacts::Reported {
                pin: true,
                pcrs: false,
                boot_once: false,
            },
            "pin",
        ),
        (
            KeyLockFacts::Reported {
                pin: false,
                pcrs: true,
                boot_once: true,
            },
            "pcr+boot-once",
        ),
        (KeyLockFacts::NotReported, "not reported"),
    ];
    for (lock, name) in locks {
        assert_eq!(lock.name(), name);
        let wallet = WalletKey::new(9);
        let account = AccountFacts {
            key_lock: lock,
            ..facts_for(wallet.address())
        };
        let Built { evidence, .. } = build_for(TestAk::new(7), wallet, NONCE, account);
        let mut bytes = vec![0u8; evidence.encoded_len()];
        evidence.encode(&mut bytes).unwrap();
        // Still version 3: the lock rides in the TPM identity byte.
        assert_eq!(&bytes[8..10], &[0, 3]);
        let parsed = Evidence::parse(&bytes).unwrap();
        assert_eq!(parsed, evidence);
        let facts = verify(&parsed, NONCE, &none()).unwrap();
        assert_eq!(facts.key_lock, lock);
        assert_eq!(facts.tpm_identity, TpmIdentity::Verified);

        // Claiming another lock for the same quote breaks the challenge.
        let mut claimed = evidence.clone();
        claimed.account.key_lock = KeyLockFacts::Reported {
            pin: true,
            pcrs: true,
            boot_once: true,
        };
        assert_eq!(
            verify(&claimed, NONCE, &none()),
            Err(AttestError::ChallengeMismatch)
        );
    }
    assert!(KeyLockFacts::NONE
        .meaning()
        .contains("any local process with TPM access and the account file can unseal"));

    // Bits 4 to 6, or lock bits without the "reported" bit, are refused.
    let built = build();
    let mut bytes = vec![0u8; built.evidence.encoded_len()];
    built.evidence.encode(&mut bytes).unwrap();
    for byte in [0x11u8, 0x21, 0x41, 0x03, 0x09, 0x02] {
        let mut bad = bytes.clone();
        bad[143] = byte;
        assert_eq!(
            Evidence::parse(&bad),
            Err(AttestError::EvidenceTpmIdentityInvalid),
            "identity byte {byte:#04x}"
        );
    }
    for (byte, identity, lock) in [
        (0x80u8, TpmIdentity::Unverified, KeyLockFacts::NONE),
        (
            0x83,
            TpmIdentity::Verified,
            KeyLockFacts::Reported {
                pin: true,
                pcrs: false,
                boot_once: false,
            },
        ),
        (0x01, TpmIdentity::Verified, KeyLockFacts::NotReported),
    ] {
        let mut good = bytes.clone();
        good[143] = byte;
        let parsed = Evidence::parse(&good).unwrap();
        assert_eq!(parsed.account.tpm_identity, identity);
        assert_eq!(parsed.account.key_lock, lock);
    }
}
