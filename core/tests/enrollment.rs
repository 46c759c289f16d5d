//! Enrollment records against real swtpms: a record verifies only with the
//! roots its EK certificate chains to, every tampered field is refused with
//! its own error, and evidence from any AK but the enrolled one is refused.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/transports.rs"]
mod support;

#[path = "wallet_support/enroll.rs"]
mod enroll;

#[path = "support/software_ek.rs"]
mod software_ek;

use enroll::{ek_rsa_template, enroll, enroll_with, Enrolled, TestCa};
use rand::rngs::OsRng;
use software_ek::{ak_sign, quote_bytes, SoftwareEkDouble};
use support::{open_wallet, swtpm, TempDir};
use wallet_core::attest::{
    self, challenge, pcr_digest, sha256_name, AccountFacts, AttestError, EnrollmentMethod,
    Evidence, Expectations, PcrSelection, TpmIdentity, NO_POLICY_HASH,
};
use wallet_core::authority::NO_OWNERS_HASH;
use wallet_core::credential::CredentialError;
use wallet_core::enrollment::{
    begin_activation, verify_evidence, EnrollmentError, EnrollmentProof, EnrollmentRecord,
    EnrollmentTrust, TrustAnchor,
};
use wallet_core::signer::SecretKey;
use wallet_core::wallet::AccountOptions;
use wallet_core::x509::ChainErrorKind;

const NONCE: &[u8] = b"enrollment test nonce";

fn accepting() -> Expectations<'static> {
    Expectations {
        accept_unverified_tpm: true,
        ..Expectations::default()
    }
}

/// Owned copies of a record's fields, to tamper with and re-encode.
#[derive(Clone)]
struct Fields {
    ak_name: [u8; 34],
    ak_public: Vec<u8>,
    ek_public: Vec<u8>,
    ek_certificate: Vec<u8>,
    credential: [u8; 32],
    attest: Vec<u8>,
    r: [u8; 32],
    s: [u8; 32],
}

impl Fields {
    fn of(record: &[u8]) -> Self {
        let r = EnrollmentRecord::parse(record).unwrap();
        let EnrollmentProof::Activation {
            credential,
            attest,
            signature,
        } = r.proof
        else {
            panic!("an activation record")
        };
        Self {
            ak_name: r.ak_name,
            ak_public: r.ak_public.to_vec(),
            ek_public: r.ek_public.to_vec(),
            ek_certificate: r.ek_certificate.to_vec(),
            credential,
            attest: attest.to_vec(),
            r: signature.r,
            s: signature.s,
        }
    }

    fn encode(&self) -> Vec<u8> {
        EnrollmentRecord {
            ak_name: self.ak_name,
            ak_public: &self.ak_public,
            ek_public: &self.ek_public,
            ek_certificate: &self.ek_certificate,
            ek_intermediates: heapless::Vec::new(),
            proof: EnrollmentProof::Activation {
                credential: self.credential,
                attest: &self.attest,
                signature: attest::AkSignature {
                    r: self.r,
                    s: self.s,
                },
            },
        }
        .to_vec()
        .unwrap()
    }
}

fn refusal(record: &[u8], enrolled: &Enrolled) -> EnrollmentError {
    EnrollmentTrust::verify(record, &enrolled.roots).unwrap_err()
}

#[test]
fn an_activation_record_verifies_and_round_trips() {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let trust = EnrollmentTrust::verify(&enrolled.record, &enrolled.roots).unwrap();
    assert_eq!(
        trust.pinned_ak.method(),
        EnrollmentMethod::CredentialActivation
    );
    assert_eq!(trust.pinned_ak.ak_name(), &sha256_name(&enrolled.ak_public));
    assert_eq!(
        trust.pinned_ak.root_sha256(),
        Some(&trust.ek_certificate.as_ref().unwrap().root_sha256)
    );
    assert_eq!(Fields::of(&enrolled.record).encode(), enrolled.record);
    // The encoding starts with its magic and version 1.
    assert_eq!(&enrolled.record[..10], b"FLWENROL\x00\x01");
}

#[test]
fn an_rsa_ek_enrolls_too() {
    let tpm = swtpm();
    let enrolled = enroll_with(&tpm, &ek_rsa_template(), TestCa::new("CN=RSA EK CA"));
    EnrollmentTrust::verify(&enrolled.record, &enrolled.roots).unwrap();
}

#[test]
fn each_tampered_field_is_refused_with_its_own_error() {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let good = Fields::of(&enrolled.record);
    let bytes = &enrolled.record;

    // Framing.
    let mut bad = bytes.clone();
    bad[0] ^= 1;
    assert_eq!(refusal(&bad, &enrolled), EnrollmentError::BadMagic);
    let mut bad = bytes.clone();
    bad[9] = 2;
    assert_eq!(
        refusal(&bad, &enrolled),
        EnrollmentError::UnsupportedVersion
    );
    let mut bad = bytes.clone();
    bad[10] = 3;
    assert_eq!(refusal(&bad, &enrolled), EnrollmentError::UnknownMethod);
    let mut bad = bytes.clone();
    bad.push(0);
    assert_eq!(refusal(&bad, &enrolled), EnrollmentError::TrailingBytes);
    for cut in 0..bytes.len() {
        assert!(EnrollmentRecord::parse(&bytes[..cut]).is_err(), "cut {cut}");
    }

    // The AK Name.
    let mut f = good.clone();
    f.ak_name[33] ^= 1;
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::AkNameMismatch
    );
    // The AK public area (with its Name recomputed): not a restricted key...
    let mut f = good.clone();
    f.ak_public[5] ^= 0x01; // TPMA_OBJECT.restricted (bit 16)
    f.ak_name = sha256_name(&f.ak_public);
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::AkPublic(AttestError::AkAttributes)
    );
    // ...or another key (a software AK) that did not make the activation quote.
    let software_ak = p256::ecdsa::SigningKey::random(&mut OsRng);
    let mut f = good.clone();
    let point = software_ak.verifying_key().to_encoded_point(false);
    let len = f.ak_public.len();
    f.ak_public[len - 66..len - 34].copy_from_slice(point.x().unwrap());
    f.ak_public[len - 32..].copy_from_slice(point.y().unwrap());
    f.ak_name = sha256_name(&f.ak_public);
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::ProofSignatureInvalid
    );

    // The EK public area.
    let mut f = good.clone();
    f.ek_public[5] ^= 0x02; // TPMA_OBJECT.decrypt (bit 17)
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::EkPublic(CredentialError::EkAttributes)
    );
    let mut f = good.clone();
    f.ek_public.clear();
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::EkPublicMissing
    );
    // Another EK (a valid key of another TPM): the quote no longer binds it.
    let mut f = good.clone();
    f.ek_public = SoftwareEkDouble::new().public_area();
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::ProofMismatch
    );

    // The EK certificate.
    let mut f = good.clone();
    f.ek_certificate.clear();
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::EkCertificateMissing
    );
    let mut f = good.clone();
    let last = f.ek_certificate.len() - 1;
    f.ek_certificate[last] ^= 1; // inside the signature
    assert!(matches!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::EkChain(ChainErrorKind::BadSignature | ChainErrorKind::Unparseable)
    ));
    // A certificate from the same CA for another key.
    let mut f = good.clone();
    f.ek_certificate = enrolled.ca.issue_ek(&SoftwareEkDouble::new().public_area());
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::EkKeyMismatch
    );
    // A certificate for this EK from another CA.
    let mut f = good.clone();
    f.ek_certificate = TestCa::new("CN=another CA").issue_ek(&good.ek_public);
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::EkChain(ChainErrorKind::NoIssuer)
    );

    // The activation proof.
    let mut f = good.clone();
    f.credential[0] ^= 1;
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::ProofMismatch
    );
    let mut f = good.clone();
    f.attest[20] ^= 1;
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::ProofSignatureInvalid
    );
    let mut f = good.clone();
    f.s[5] ^= 1;
    assert_eq!(
        refusal(&f.encode(), &enrolled),
        EnrollmentError::ProofSignatureInvalid
    );
    // The untouched record still verifies.
    EnrollmentTrust::verify(&good.encode(), &enrolled.roots).unwrap();
}

#[test]
fn an_ek_certificate_from_another_ca_is_refused_at_activation_and_in_the_record() {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let trusted_roots = TestCa::new("CN=the verifier's only root").roots();
    let (_, ak_public) = (0, &enrolled.ak_public);
    assert_eq!(
        begin_activation(
            &enrolled.ek_certificate,
            &[],
            &enrolled.ek_public,
            ak_public,
            &trusted_roots,
            &mut OsRng,
        )
        .unwrap_err(),
        EnrollmentError::EkChain(ChainErrorKind::NoIssuer)
    );
    assert_eq!(
        EnrollmentTrust::verify(&enrolled.record, &trusted_roots).unwrap_err(),
        EnrollmentError::EkChain(ChainErrorKind::NoIssuer)
    );
    // No roots at all: nothing verifies.
    assert_eq!(
        EnrollmentTrust::verify(&enrolled.record, &wallet_core::x509::TrustRoots::empty())
            .unwrap_err(),
        EnrollmentError::EkChain(ChainErrorKind::NoRoots)
    );
}

#[test]
fn a_wrong_secret_fails_activation() {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let (challenge, _) = begin_activation(
        &enrolled.ek_certificate,
        &[],
        &enrolled.ek_public,
        &enrolled.ak_public,
        &enrolled.roots,
        &mut OsRng,
    )
    .unwrap();
    // A response that does not know the secret (replaying the enrollment's).
    let f = Fields::of(&enrolled.record);
    let replayed = wallet_core::enrollment::ActivationResponse {
        credential: f.credential,
        attest: heapless::Vec::from_slice(&f.attest).unwrap(),
        signature: attest::AkSignature { r: f.r, s: f.s },
    };
    assert_eq!(
        challenge.finish(&enrolled.ak_public, &replayed),
        Err(EnrollmentError::ActivationSecretMismatch)
    );
}

/// Evidence from a software-made AK: any PCRs, any address, a valid wallet
/// signature, a self-consistent quote.
fn forged_evidence(pcr_value: u8) -> (Evidence, p256::ecdsa::SigningKey, Vec<u8>) {
    let ak = p256::ecdsa::SigningKey::random(&mut OsRng);
    let point = ak.verifying_key().to_encoded_point(false);
    let mut ak_public = Vec::new();
    ak_public.extend_from_slice(&[0x00, 0x23, 0x00, 0x0b]);
    ak_public.extend_from_slice(&0x0005_0472u32.to_be_bytes());
    ak_public.extend_from_slice(&[0, 0, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x03]);
    ak_public.extend_from_slice(&[0x00, 0x10, 0, 32]);
    ak_public.extend_from_slice(point.x().unwrap());
    ak_public.extend_from_slice(&[0, 32]);
    ak_public.extend_from_slice(point.y().unwrap());
    let wallet = SecretKey::from_bytes(&[0x42; 32]).unwrap();
    let account = AccountFacts {
        address: wallet.address(),
        chain_id: 14,
        policy_hash: NO_POLICY_HASH,
        owners_hash: NO_OWNERS_HASH,
        threshold: 0,
        admin_nonce: 0,
        audit_head: [0; 32],
        tpm_identity: TpmIdentity::Verified,
        key_lock: wallet_core::attest::KeyLockFacts::NONE,
    };
    let chal = challenge(NONCE, &account);
    let values = [[pcr_value; 32]; 8];
    let selection = PcrSelection::SHA256_0_TO_7;
    let mut attest = quote_bytes(&chal);
    // quote_bytes quotes all-zero PCRs: put the claimed digest in its place.
    let len = attest.len();
    attest[len - 32..].copy_from_slice(&pcr_digest(&values));
    let evidence = Evidence {
        ak_signature: ak_sign(&ak, &attest),
        attest: heapless::Vec::from_slice(&attest).unwrap(),
        ak_public: heapless::Vec::from_slice(&ak_public).unwrap(),
        pcr_selection: selection,
        pcr_values: heapless::Vec::from_slice(&values).unwrap(),
        account,
        wallet_signature: wallet.sign_message(&chal).unwrap(),
    };
    (evidence, ak, ak_public)
}

#[test]
fn forged_evidence_from_a_software_ak_is_refused() {
    let tpm = swtpm();
    let enrolled = enroll(&tpm);
    let anchor = TrustAnchor::Enrollment {
        roots: &enrolled.roots,
        record: &enrolled.record,
    };
    for pcr_value in [0u8, 0x5a] {
        let (forged, ak, ak_public) = forged_evidence(pcr_value);
        // Self-consistent: it verifies against a pin of its own AK made by a
        // verifier that skipped the EK certificate (the software EK double).
        let (own_pin, _) = SoftwareEkDouble::new().enroll(&ak, &ak_public);
        attest::verify(&forged, NONCE, &own_pin, &accepting()).unwrap();
        // Against the genuine enrollment: not the enrolled AK.
        assert_eq!(
            verify_evidence(&forged, NONCE, Some(anchor), &accepting()),
            Err(wallet_core::Error::Attest(AttestError::AkNotEnrolled))
        );
        // Without an anchor: refused outright.
        let err = verify_evidence(&forged, NONCE, None, &accepting()).unwrap_err();
        assert_eq!(err, wallet_core::Error::Attest(AttestError::NoTrustAnchor));
        assert!(err.to_string().contains("requires TPM trust roots"));
        // A software EK cannot get a certificate from the verifier's roots:
        // its enrollment fails at the chain.
        let software_ek = SoftwareEkDouble::new();
        let foreign_cert = TestCa::new("CN=attacker CA").issue_ek(&software_ek.public_area());
        assert_eq!(
            begin_activation(
                &foreign_cert,
                &[],
                &software_ek.public_area(),
                &ak_public,
                &enrolled.roots,
                &mut OsRng,
            )
            .unwrap_err(),
            EnrollmentError::EkChain(ChainErrorKind::NoIssuer)
        );
    }
}

#[test]
fn the_wallets_evidence_verifies_against_its_enrollment_and_not_another_tpms() {
    let tpm_a = swtpm();
    let enrolled_a = enroll(&tpm_a);
    let tpm_b = wallet_core::tpm::simulator::Swtpm::start_temporary_with_new_ek().unwrap();
    let enrolled_b = enroll(&tpm_b);
    let dir = TempDir::new("enrolled-wallet");
    let mut wallet = open_wallet(&tpm_a, &dir.state("s"));
    wallet.create_account(AccountOptions::default()).unwrap();
    let evidence = wallet.attest(NONCE, 14).unwrap();
    let facts = verify_evidence(
        &evidence,
        NONCE,
        Some(TrustAnchor::Enrollment {
            roots: &enrolled_a.roots,
            record: &enrolled_a.record,
        }),
        &accepting(),
    )
    .unwrap();
    assert_eq!(
        facts.enrollment_method,
        EnrollmentMethod::CredentialActivation
    );
    assert!(facts.root_sha256.is_some());
    assert_eq!(
        verify_evidence(
            &evidence,
            NONCE,
            Some(TrustAnchor::Enrollment {
                roots: &enrolled_b.roots,
                record: &enrolled_b.record,
            }),
            &accepting(),
        ),
        Err(wallet_core::Error::Attest(AttestError::AkNotEnrolled))
    );
    // B's record with A's roots: B's EK chains to another CA (of the same
    // name, so the signature is what fails).
    assert!(matches!(
        verify_evidence(
            &evidence,
            NONCE,
            Some(TrustAnchor::Enrollment {
                roots: &enrolled_a.roots,
                record: &enrolled_b.record,
            }),
            &accepting(),
        ),
        Err(wallet_core::Error::Enrollment(EnrollmentError::EkChain(
            ChainErrorKind::BadSignature | ChainErrorKind::NoIssuer
        )))
    ));
}
