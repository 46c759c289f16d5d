//! Chains made in the test with the `x509-cert` builder, and their refusals.

use super::*;
use std::boxed::Box;
use std::str::FromStr;
use std::time::Duration;
use std::vec;

use der::EncodePem;
use rand::rngs::OsRng;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

enum TestKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

impl TestKey {
    fn p256() -> Self {
        Self::P256(p256::ecdsa::SigningKey::random(&mut OsRng))
    }
    fn p384() -> Self {
        Self::P384(p384::ecdsa::SigningKey::random(&mut OsRng))
    }
    fn rsa() -> Self {
        let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key");
        Self::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
    }
    fn spki(&self) -> SubjectPublicKeyInfoOwned {
        let der = match self {
            Self::P256(k) => k.verifying_key().to_public_key_der(),
            Self::P384(k) => k.verifying_key().to_public_key_der(),
            Self::Rsa(k) => rsa::RsaPublicKey::from(k.as_ref().as_ref()).to_public_key_der(),
        }
        .expect("SPKI");
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("SPKI")
    }
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("name")
}

fn at(unix: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
}

fn validity(from: u64, to: u64) -> Validity {
    Validity {
        not_before: Time::try_from(at(from)).expect("time"),
        not_after: Time::try_from(at(to)).expect("time"),
    }
}

/// 1999 to 2100: a window that holds "now" for the life of this code.
fn long_validity() -> Validity {
    validity(915_148_800, 4_102_444_800)
}

fn issue(
    profile: Profile,
    subject: &str,
    subject_key: &TestKey,
    signer: &TestKey,
    validity: Validity,
) -> Vec<u8> {
    let serial = SerialNumber::from(7u32);
    let spki = subject_key.spki();
    let subject = name(subject);
    let cert = match signer {
        TestKey::P256(k) => CertificateBuilder::new(profile, serial, validity, subject, spki, k)
            .expect("builder")
            .build::<p256::ecdsa::DerSignature>(),
        TestKey::P384(k) => CertificateBuilder::new(profile, serial, validity, subject, spki, k)
            .expect("builder")
            .build::<p384::ecdsa::DerSignature>(),
        TestKey::Rsa(k) => {
            CertificateBuilder::new(profile, serial, validity, subject, spki, k.as_ref())
                .expect("builder")
                .build::<rsa::pkcs1v15::Signature>()
        }
    }
    .expect("certificate");
    cert.to_der().expect("DER")
}

fn root(subject: &str, key: &TestKey) -> Vec<u8> {
    issue(Profile::Root, subject, key, key, long_validity())
}

fn sub_ca(
    subject: &str,
    key: &TestKey,
    issuer: &str,
    signer: &TestKey,
    len: Option<u8>,
) -> Vec<u8> {
    issue(
        Profile::SubCA {
            issuer: name(issuer),
            path_len_constraint: len,
        },
        subject,
        key,
        signer,
        long_validity(),
    )
}

fn leaf_profile(issuer: &str) -> Profile {
    Profile::Leaf {
        issuer: name(issuer),
        enable_key_agreement: false,
        enable_key_encipherment: true,
    }
}

fn leaf(subject: &str, key: &TestKey, issuer: &str, signer: &TestKey) -> Vec<u8> {
    issue(leaf_profile(issuer), subject, key, signer, long_validity())
}

fn roots_of(ders: &[&[u8]]) -> TrustRoots {
    let mut roots = TrustRoots::empty();
    for der in ders {
        roots.add_der(der).expect("root");
    }
    roots
}

fn pem(der: &[u8]) -> String {
    Certificate::from_der(der)
        .expect("cert")
        .to_pem(der::pem::LineEnding::LF)
        .expect("PEM")
}

const ROOT: &str = "CN=Test EK Root,O=Flare Test";
const INTER: &str = "CN=Test EK Intermediate,O=Flare Test";
const LEAF: &str = "CN=Test EK";

#[test]
fn ecdsa_chain_through_an_intermediate_verifies_and_returns_the_leaf_key() {
    let (root_key, inter_key, leaf_key) = (TestKey::p256(), TestKey::p384(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    let inter_der = sub_ca(INTER, &inter_key, ROOT, &root_key, None);
    let leaf_der = leaf(LEAF, &leaf_key, INTER, &inter_key);
    let roots = roots_of(&[&root_der]);
    assert_eq!(roots.len(), 1);

    let verified =
        verify_chain(&leaf_der, std::slice::from_ref(&inter_der), &roots).expect("verifies");
    let TestKey::P256(k) = &leaf_key else {
        unreachable!()
    };
    assert_eq!(
        verified.key,
        CertifiedKey::P256(p256::PublicKey::from(k.verifying_key()))
    );
    assert_eq!(verified.subject, LEAF);
    assert_eq!(verified.issuer, INTER);
    assert_eq!(verified.root_subject, ROOT);
    assert_eq!(verified.chain_der, vec![inter_der, root_der.clone()]);
    assert_eq!(
        verified.root_sha256,
        <[u8; 32]>::from(Sha256::digest(&root_der))
    );
}

#[test]
fn rsa_root_and_rsa_leaf_verify_and_the_modulus_is_returned() {
    let (root_key, leaf_key) = (TestKey::rsa(), TestKey::rsa());
    let root_der = root(ROOT, &root_key);
    let leaf_der = leaf(LEAF, &leaf_key, ROOT, &root_key);
    let verified = verify_chain(&leaf_der, &[], &roots_of(&[&root_der])).expect("verifies");
    let TestKey::Rsa(k) = &leaf_key else {
        unreachable!()
    };
    let public = rsa::RsaPublicKey::from(k.as_ref().as_ref());
    use rsa::traits::PublicKeyParts;
    assert_eq!(
        verified.key,
        CertifiedKey::Rsa {
            n: public.n().to_bytes_be(),
            e: 65537
        }
    );
}

#[test]
fn p384_signed_by_rsa_verifies() {
    let (root_key, leaf_key) = (TestKey::rsa(), TestKey::p384());
    let root_der = root(ROOT, &root_key);
    let leaf_der = leaf(LEAF, &leaf_key, ROOT, &root_key);
    let verified = verify_chain(&leaf_der, &[], &roots_of(&[&root_der])).expect("verifies");
    assert!(matches!(verified.key, CertifiedKey::P384(_)));
}

#[test]
fn no_roots_is_refused_and_says_how_to_configure_them() {
    let key = TestKey::p256();
    let leaf_der = leaf(LEAF, &key, ROOT, &key);
    let err = verify_chain(&leaf_der, &[], &TrustRoots::empty()).expect_err("no roots");
    assert_eq!(err, ChainError::NoRoots);
    assert!(err.to_string().contains(TPM_ROOTS_ENV));
}

#[test]
fn a_leaf_from_another_ca_with_the_same_name_fails_its_signature() {
    let (root_key, other_key, leaf_key) = (TestKey::p256(), TestKey::p256(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    let forged = leaf(LEAF, &leaf_key, ROOT, &other_key);
    let err = verify_chain(&forged, &[], &roots_of(&[&root_der])).expect_err("forged");
    assert_eq!(err.kind(), ChainErrorKind::BadSignature);
    assert!(
        err.to_string().contains("signature does not verify"),
        "{err}"
    );
}

#[test]
fn a_leaf_from_an_unknown_ca_has_no_issuer() {
    let (root_key, other_key, leaf_key) = (TestKey::p256(), TestKey::p256(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    let other = leaf(LEAF, &leaf_key, "CN=Other CA", &other_key);
    let err = verify_chain(&other, &[], &roots_of(&[&root_der])).expect_err("unknown CA");
    assert_eq!(
        err,
        ChainError::NoIssuer {
            subject: LEAF.to_owned(),
            issuer: "CN=Other CA".to_owned()
        }
    );
}

#[test]
fn a_missing_intermediate_is_found_in_the_roots_source() {
    let (root_key, inter_key, leaf_key) = (TestKey::p256(), TestKey::p256(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    let inter_der = sub_ca(INTER, &inter_key, ROOT, &root_key, Some(0));
    let leaf_der = leaf(LEAF, &leaf_key, INTER, &inter_key);

    let only_root = roots_of(&[&root_der]);
    let err = verify_chain(&leaf_der, &[], &only_root).expect_err("no intermediate");
    assert_eq!(err.kind(), ChainErrorKind::NoIssuer);

    let bundle = format!("{}{}", pem(&inter_der), pem(&root_der));
    let roots = TrustRoots::from_pem_bundle(bundle.as_bytes()).expect("bundle");
    assert_eq!((roots.len(), roots.intermediates_len()), (1, 1));
    verify_chain(&leaf_der, &[], &roots).expect("verifies through the bundle's intermediate");

    // Intermediates given as PEM text come back as their DER, in order, and
    // build the chain when passed as intermediates.
    let ders = pem_certificates(bundle.as_bytes()).expect("bundle");
    assert_eq!(ders, [inter_der.clone(), root_der.clone()]);
    verify_chain(&leaf_der, &ders[..1], &only_root).expect("verifies with the given intermediate");
    assert_eq!(
        pem_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .expect_err("garbage PEM")
            .kind(),
        ChainErrorKind::Unparseable
    );

    // An intermediate alone is not a trust anchor.
    let only_inter = TrustRoots::from_pem_bundle(pem(&inter_der).as_bytes()).expect("bundle");
    assert!(only_inter.is_empty());
    assert_eq!(
        verify_chain(&leaf_der, &[], &only_inter).expect_err("no anchor"),
        ChainError::NoRoots
    );
}

#[test]
fn an_expired_or_early_certificate_is_refused_unless_checked_at_a_time_it_held() {
    let (root_key, leaf_key) = (TestKey::p256(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    let roots = roots_of(&[&root_der]);
    // 2001 to 2002.
    let old = issue(
        leaf_profile(ROOT),
        LEAF,
        &leaf_key,
        &root_key,
        validity(978_307_200, 1_009_843_200),
    );
    let err = verify_chain(&old, &[], &roots).expect_err("expired");
    assert_eq!(err.kind(), ChainErrorKind::Expired);
    assert!(err.to_string().contains("expired"), "{err}");
    verify_chain_at(&old, &[], &roots, Some(at(990_000_000))).expect("valid in 2001");

    // 2090 to 2099.
    let early = issue(
        leaf_profile(ROOT),
        LEAF,
        &leaf_key,
        &root_key,
        validity(3_786_912_000, 4_070_908_800),
    );
    let err = verify_chain(&early, &[], &roots).expect_err("not yet valid");
    assert_eq!(err.kind(), ChainErrorKind::NotYetValid);

    // An intermediate out of its window fails the chain too.
    let inter_key = TestKey::p256();
    let inter = issue(
        Profile::SubCA {
            issuer: name(ROOT),
            path_len_constraint: None,
        },
        INTER,
        &inter_key,
        &root_key,
        validity(978_307_200, 1_009_843_200),
    );
    let leaf_der = leaf(LEAF, &leaf_key, INTER, &inter_key);
    let err = verify_chain(&leaf_der, &[inter], &roots).expect_err("intermediate expired");
    assert_eq!(
        err,
        ChainError::Expired {
            subject: INTER.to_owned(),
            not_after: "2002-01-01T00:00:00Z".to_owned()
        }
    );
}

#[test]
fn an_issuer_that_is_not_a_ca_is_refused() {
    let (root_key, mid_key, leaf_key) = (TestKey::p256(), TestKey::p256(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    // An end-entity certificate used to issue another.
    let not_ca = leaf(INTER, &mid_key, ROOT, &root_key);
    let leaf_der = leaf(LEAF, &leaf_key, INTER, &mid_key);
    let err = verify_chain(&leaf_der, &[not_ca], &roots_of(&[&root_der])).expect_err("not a CA");
    assert_eq!(err.kind(), ChainErrorKind::IssuerNotCa);
    assert!(err.to_string().contains(INTER), "{err}");
}

#[test]
fn a_path_length_constraint_is_enforced() {
    let (root_key, a_key, b_key, leaf_key) = (
        TestKey::p256(),
        TestKey::p256(),
        TestKey::p256(),
        TestKey::p256(),
    );
    let root_der = root(ROOT, &root_key);
    let a = sub_ca("CN=A", &a_key, ROOT, &root_key, Some(0));
    let b = sub_ca("CN=B", &b_key, "CN=A", &a_key, None);
    let leaf_der = leaf(LEAF, &leaf_key, "CN=B", &b_key);
    let err = verify_chain(&leaf_der, &[a, b], &roots_of(&[&root_der])).expect_err("too deep");
    assert_eq!(err.kind(), ChainErrorKind::IssuerNotCa);
    assert!(err.to_string().contains("pathLenConstraint"), "{err}");
}

#[test]
fn unparseable_certificates_are_named() {
    let key = TestKey::p256();
    let root_der = root(ROOT, &key);
    let roots = roots_of(&[&root_der]);
    let err = verify_chain(b"not a certificate", &[], &roots).expect_err("garbage");
    assert!(
        matches!(&err, ChainError::Unparseable { which, .. } if which == "leaf"),
        "{err}"
    );
    let leaf_der = leaf(LEAF, &key, ROOT, &key);
    let err = verify_chain(&leaf_der, &[vec![0x30, 0x00]], &roots).expect_err("garbage");
    assert!(
        matches!(&err, ChainError::Unparseable { which, .. } if which == "intermediate 1"),
        "{err}"
    );
    let err = TrustRoots::from_pem_bundle(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect_err("garbage PEM");
    assert_eq!(err.kind(), ChainErrorKind::Unparseable);
}

#[test]
fn every_corruption_of_a_leaf_is_refused_without_panicking() {
    let (root_key, leaf_key) = (TestKey::p256(), TestKey::p256());
    let root_der = root(ROOT, &root_key);
    let leaf_der = leaf(LEAF, &leaf_key, ROOT, &root_key);
    let roots = roots_of(&[&root_der]);
    for i in 0..leaf_der.len() {
        let mut bad = leaf_der.clone();
        bad[i] ^= 0x01;
        // A flip may land in an unsigned part only if it changes nothing signed;
        // the outer signature algorithm and signature are covered too.
        assert!(
            verify_chain(&bad, &[], &roots).is_err(),
            "flip at {i} accepted"
        );
        assert!(verify_chain(&leaf_der[..i], &[], &roots).is_err());
    }
}

#[test]
fn roots_load_from_a_folder_of_pem_and_der_files() {
    let dir = std::env::temp_dir().join(format!("flare-x509-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (a, b) = (TestKey::p256(), TestKey::p384());
    let (a_der, b_der) = (root("CN=Root A", &a), root("CN=Root B", &b));
    std::fs::write(dir.join("a.pem"), pem(&a_der)).expect("write");
    std::fs::write(dir.join("b.crt"), &b_der).expect("write");
    std::fs::write(dir.join("README.txt"), "not a certificate").expect("write");
    let roots = TrustRoots::from_path(&dir).expect("folder");
    assert_eq!(
        roots.anchor_subjects(),
        vec!["CN=Root A".to_owned(), "CN=Root B".to_owned()]
    );

    let single = TrustRoots::from_path(&dir.join("a.pem")).expect("file");
    assert_eq!(single.len(), 1);

    let leaf_der = leaf(LEAF, &TestKey::p256(), "CN=Root B", &b);
    verify_chain(&leaf_der, &[], &roots).expect("verifies against the DER root");

    std::fs::write(
        dir.join("c.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let err = TrustRoots::from_path(&dir).expect_err("bad file");
    assert!(err.to_string().contains("c.pem"), "{err}");
    let err = TrustRoots::from_path(&dir.join("missing")).expect_err("missing");
    assert_eq!(err.kind(), ChainErrorKind::RootsUnreadable);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
