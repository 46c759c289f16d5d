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

#[path = "wallet_support/gce_platform.rs"]
mod gce_platform;

use enroll::{ek_rsa_template, enroll, enroll_with, Enrolled, TestCa};
use gce_platform::{ak_spki, gce_ecc_ak_template, key_of_template, GcePlatformDouble};
use rand::rngs::OsRng;
use sha2::Digest;
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
use wallet_core::x509::{ChainErrorKind, TrustRoots};

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

#[test]
fn the_enrollment_request_and_activation_use_the_ek_verified_at_open() {
    let tpm = swtpm();
    let roots = TrustRoots::from_path(tpm.ek_ca_pem_path().unwrap()).unwrap();
    let dir = TempDir::new("enroll-verified-ek");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let identity = wallet.tpm_identity_details().clone();
    assert!(identity.verified);
    let request = wallet.enrollment_request().unwrap();
    // The request's EK is the identity's: same Name, and the certificate
    // and intermediates that verified it at open.
    assert_eq!(
        sha256_name(&request.ek_public).as_slice(),
        identity.ek_name.as_bytes()
    );
    assert_eq!(request.ek_certificate, identity.ek_certificate_der);
    let verified = identity.certificate.as_ref().unwrap();
    assert_eq!(
        request.ek_intermediates.as_slice(),
        &verified.chain_der[..verified.chain_der.len() - 1]
    );
    assert!(!request.ek_intermediates.is_empty());
    // Enrolled with nothing but the roots: the TPM's own chain is used, the
    // credential activated under that EK, and the record pins its chain.
    let record = wallet.enroll_with_certificate(None, &[], &roots).unwrap();
    let parsed = EnrollmentRecord::parse(&record).unwrap();
    assert_eq!(parsed.ek_public, request.ek_public.as_slice());
    assert_eq!(
        Some(parsed.ek_certificate),
        request.ek_certificate.as_deref()
    );
    assert_eq!(
        parsed.ek_intermediates.len(),
        request.ek_intermediates.len()
    );
    let trust = EnrollmentTrust::verify(&record, &roots).unwrap();
    assert_eq!(
        trust.pinned_ak.method(),
        EnrollmentMethod::CredentialActivation
    );
    assert_eq!(
        trust.ek_certificate.unwrap().root_sha256,
        verified.root_sha256
    );
    // Another CA's roots refuse the record.
    assert!(matches!(
        EnrollmentTrust::verify(&record, &TestCa::new("CN=stranger").roots()),
        Err(EnrollmentError::EkChain(_))
    ));
}

fn union(a: &TrustRoots, b: &TrustRoots) -> TrustRoots {
    let mut roots = a.clone();
    roots.extend(b);
    roots
}

#[test]
fn evidence_by_the_platform_ak_verifies_with_its_certificate_chain_alone() {
    let tpm = swtpm();
    let platform = GcePlatformDouble::provision(&tpm, TestCa::new("CN=GCE EK/AK CA double"));
    let dir = TempDir::new("platform-ak");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.create_account(AccountOptions::default()).unwrap();
    let (evidence, certificate) = wallet
        .attest_with_platform_ak(NONCE, 14, wallet_core::tpm::PcrSelection::DEFAULT_QUOTE)
        .unwrap();
    assert_eq!(certificate, platform.certificate);
    assert_eq!(evidence.ak_public.as_slice(), platform.ak_public.as_slice());
    // Not the wallet's own AK.
    let own = wallet.attest(NONCE, 14).unwrap();
    assert_ne!(own.ak_public, evidence.ak_public);

    let roots = platform.ca.roots();
    let anchor = |roots, certificate| {
        Some(TrustAnchor::AkCertificate {
            roots,
            certificate,
            intermediates: &[],
        })
    };
    let facts =
        verify_evidence(&evidence, NONCE, anchor(&roots, &certificate), &accepting()).unwrap();
    assert_eq!(facts.enrollment_method, EnrollmentMethod::AkCertificate);
    assert_eq!(
        facts.root_sha256,
        Some(<[u8; 32]>::from(sha2::Sha256::digest(&platform.ca.der)))
    );
    assert_eq!(facts.tpm_identity, TpmIdentity::Verified);
    // The wallet's own AK's evidence is not covered by the AK certificate.
    assert_eq!(
        verify_evidence(&own, NONCE, anchor(&roots, &certificate), &accepting()),
        Err(wallet_core::Error::Enrollment(
            EnrollmentError::AkCertificateKeyMismatch
        ))
    );
    // A certificate from the right CA over another key.
    let other = platform
        .ca
        .issue("CN=GCE AK double", &ak_spki(&own.ak_public));
    assert_eq!(
        verify_evidence(&evidence, NONCE, anchor(&roots, &other), &accepting()),
        Err(wallet_core::Error::Enrollment(
            EnrollmentError::AkCertificateKeyMismatch
        ))
    );
    // The same certificate checked against another CA of the same name.
    let impostor = TestCa::new("CN=GCE EK/AK CA double").roots();
    assert!(matches!(
        verify_evidence(
            &evidence,
            NONCE,
            anchor(&impostor, &certificate),
            &accepting()
        ),
        Err(wallet_core::Error::Enrollment(EnrollmentError::AkChain(
            ChainErrorKind::BadSignature | ChainErrorKind::NoIssuer
        )))
    ));
    // No anchor, no verification.
    assert_eq!(
        verify_evidence(&evidence, NONCE, None, &accepting()),
        Err(wallet_core::Error::Attest(AttestError::NoTrustAnchor))
    );

    // The enrollment record of the platform AK: EK chain and AK certificate.
    let ek_roots = TrustRoots::from_path(tpm.ek_ca_pem_path().unwrap()).unwrap();
    let both = union(&ek_roots, &roots);
    let record = wallet.enroll_platform_ak(&[], &both).unwrap();
    let trust = EnrollmentTrust::verify(&record, &both).unwrap();
    assert_eq!(trust.pinned_ak.method(), EnrollmentMethod::AkCertificate);
    assert_eq!(trust.pinned_ak.ak_name(), &sha256_name(&platform.ak_public));
    assert!(trust.ek_certificate.is_some());
    let facts = verify_evidence(
        &evidence,
        NONCE,
        Some(TrustAnchor::Enrollment {
            roots: &both,
            record: &record,
        }),
        &accepting(),
    )
    .unwrap();
    assert_eq!(facts.enrollment_method, EnrollmentMethod::AkCertificate);
    // Without the AK CA the record's AK certificate does not chain.
    assert!(matches!(
        EnrollmentTrust::verify(&record, &ek_roots),
        Err(EnrollmentError::AkChain(_))
    ));
    assert!(matches!(
        wallet.enroll_platform_ak(&[], &ek_roots),
        Err(wallet_core::Error::Enrollment(EnrollmentError::AkChain(_)))
    ));
}

#[test]
fn the_wallet_refuses_a_platform_ak_it_cannot_match_to_its_certificate() {
    let platform_refusal = |tpm: &wallet_core::tpm::simulator::Swtpm| {
        let dir = TempDir::new("platform-ak-refused");
        let mut wallet = open_wallet(tpm, &dir.state("s"));
        wallet.create_account(AccountOptions::default()).unwrap();
        wallet
            .attest_with_platform_ak(NONCE, 14, wallet_core::tpm::PcrSelection::DEFAULT_QUOTE)
            .unwrap_err()
    };
    let ca = TestCa::new("CN=GCE EK/AK CA double");

    // No platform AK at all (every ordinary TPM).
    let plain = swtpm();
    assert_eq!(
        platform_refusal(&plain),
        wallet_core::Error::Enrollment(EnrollmentError::AkTemplateMissing)
    );

    // A certificate over another key than the one the template yields.
    let tpm = swtpm();
    let template = gce_ecc_ak_template(0x11);
    let other_key = key_of_template(&tpm, &gce_ecc_ak_template(0x22));
    GcePlatformDouble::provision_raw(
        &tpm,
        &template,
        &ca.issue("CN=GCE AK double", &ak_spki(&other_key)),
    );
    assert_eq!(
        platform_refusal(&tpm),
        wallet_core::Error::Enrollment(EnrollmentError::AkCertificateKeyMismatch)
    );
    drop(tpm);

    // A template that is not a restricted signing key (decrypt instead of sign).
    let tpm = swtpm();
    let mut decrypting = Vec::new();
    // ECC, SHA-256, restricted decrypt; AES-128-CFB; no scheme; P-256; no kdf.
    for v in [0x0023u16, 0x000b, 0x0003, 0x0472, 0, 0x0006, 0x0080, 0x0043] {
        decrypting.extend_from_slice(&v.to_be_bytes());
    }
    for v in [0x0010u16, 0x0003, 0x0010] {
        decrypting.extend_from_slice(&v.to_be_bytes());
    }
    for _ in 0..2 {
        decrypting.extend_from_slice(&32u16.to_be_bytes());
        decrypting.extend_from_slice(&[0x33; 32]);
    }
    GcePlatformDouble::provision_raw(&tpm, &decrypting, &ca.der);
    assert!(matches!(
        platform_refusal(&tpm),
        wallet_core::Error::Enrollment(EnrollmentError::AkPublic(_))
    ));
    drop(tpm);

    // A template with trailing garbage.
    let tpm = swtpm();
    let mut garbage = gce_ecc_ak_template(0x44);
    garbage.extend_from_slice(b"junk");
    GcePlatformDouble::provision_raw(&tpm, &garbage, &ca.der);
    assert_eq!(
        platform_refusal(&tpm),
        wallet_core::Error::Enrollment(EnrollmentError::AkTemplateMalformed)
    );
}
