//! Enrollment on a real swtpm for the attestation tests: a test CA issues
//! an EK certificate for the swtpm's EK, and the verifier runs credential
//! activation against it.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use der::{Decode, Encode};
use rand::rngs::OsRng;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use tpm2_protocol::data::{TpmRh, TpmtPublic};
use wallet_core::attest::PinnedAk;
use wallet_core::credential::EkPublicKey;
use wallet_core::enrollment::{begin_activation, EnrollmentRecord, EnrollmentTrust};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::template;
use wallet_core::tpm::{transport, Tpm};
use wallet_core::x509::TrustRoots;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// A certificate authority made in the test (P-256).
pub struct TestCa {
    pub key: p256::ecdsa::SigningKey,
    pub subject: String,
    pub der: Vec<u8>,
}

fn validity() -> Validity {
    let at =
        |unix: u64| Time::try_from(SystemTime::UNIX_EPOCH + Duration::from_secs(unix)).unwrap();
    Validity {
        not_before: at(915_148_800),
        not_after: at(4_102_444_800),
    }
}

fn spki_of(der: &[u8]) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_der(der).unwrap()
}

impl TestCa {
    pub fn new(subject: &str) -> Self {
        let key = p256::ecdsa::SigningKey::random(&mut OsRng);
        let spki = spki_of(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        let der = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            validity(),
            Name::from_str(subject).unwrap(),
            spki,
            &key,
        )
        .unwrap()
        .build::<p256::ecdsa::DerSignature>()
        .unwrap()
        .to_der()
        .unwrap();
        Self {
            key,
            subject: subject.to_owned(),
            der,
        }
    }

    pub fn roots(&self) -> TrustRoots {
        let mut roots = TrustRoots::empty();
        roots.add_der(&self.der).unwrap();
        roots
    }

    /// A leaf certificate for the public key `spki_der`.
    pub fn issue(&self, subject: &str, spki_der: &[u8]) -> Vec<u8> {
        CertificateBuilder::new(
            Profile::Leaf {
                issuer: Name::from_str(&self.subject).unwrap(),
                enable_key_agreement: true,
                enable_key_encipherment: true,
            },
            SerialNumber::from(2u32),
            validity(),
            Name::from_str(subject).unwrap(),
            spki_of(spki_der),
            &self.key,
        )
        .unwrap()
        .build::<p256::ecdsa::DerSignature>()
        .unwrap()
        .to_der()
        .unwrap()
    }

    /// An EK certificate for the EK whose `TPMT_PUBLIC` is `ek_public`.
    pub fn issue_ek(&self, ek_public: &[u8]) -> Vec<u8> {
        let spki = match EkPublicKey::from_public_area(ek_public).unwrap() {
            EkPublicKey::P256(key) => key.to_public_key_der().unwrap(),
            EkPublicKey::Rsa2048 { modulus, exponent } => rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(&modulus),
                rsa::BigUint::from(exponent),
            )
            .unwrap()
            .to_public_key_der()
            .unwrap(),
        };
        self.issue("CN=test EK", spki.as_bytes())
    }
}

/// What an enrollment on a swtpm leaves the verifier with.
pub struct Enrolled {
    pub ca: TestCa,
    pub roots: TrustRoots,
    pub ek_public: Vec<u8>,
    pub ek_certificate: Vec<u8>,
    pub ak_public: Vec<u8>,
    pub record: Vec<u8>,
    pub pinned: PinnedAk,
}

/// Enrolls the swtpm's AK by credential activation against its ECC EK,
/// certified by a fresh test CA. The swtpm must have no other client.
pub fn enroll(swtpm: &Swtpm) -> Enrolled {
    enroll_with(
        swtpm,
        &template::ek_ecc_p256(),
        TestCa::new("CN=flare-wallet test EK CA"),
    )
}

/// As [`enroll`] with the EK of `template` and the CA `ca`.
pub fn enroll_with(swtpm: &Swtpm, template: &TpmtPublic, ca: TestCa) -> Enrolled {
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).unwrap()).unwrap();
    tpm.startup().unwrap();
    let ek = tpm.create_primary(TpmRh::Endorsement, template).unwrap();
    let ek_certificate = ca.issue_ek(&ek.public_area);
    let roots = ca.roots();
    let (_, ak_public) = tpm.attestation_key_public().unwrap();

    // Verifier: chain, key match, challenge.
    let (challenge, _) = begin_activation(
        &ek_certificate,
        &[],
        &ek.public_area,
        &ak_public,
        &roots,
        &mut OsRng,
    )
    .unwrap();
    // Wallet: activation and the binding quote.
    let response = tpm
        .answer_activation(ek.handle, &ek.name, challenge.blob())
        .unwrap();
    tpm.flush_or_defer(ek.handle);
    drop(tpm);
    // Verifier: the secret, then the record it stores.
    let pinned = challenge.finish(&ak_public, &response).unwrap();
    let record = EnrollmentRecord::from_activation(
        &ak_public,
        &ek.public_area,
        &ek_certificate,
        heapless::Vec::new(),
        &response,
    )
    .to_vec()
    .unwrap();
    let trust = EnrollmentTrust::verify(&record, &roots).unwrap();
    assert_eq!(trust.pinned_ak.ak_name(), pinned.ak_name());
    Enrolled {
        ca,
        roots,
        ek_public: ek.public_area.to_vec(),
        ek_certificate,
        ak_public: ak_public.to_vec(),
        record,
        pinned: trust.pinned_ak,
    }
}

/// The TCG default EK template L-1 (RSA 2048), as the core defines it.
pub fn ek_rsa_template() -> TpmtPublic {
    template::ek_rsa_2048()
}
