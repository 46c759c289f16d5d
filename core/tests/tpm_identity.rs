//! The TPM's identity: EK certificates read from NV, verified against the
//! roots a caller gives, and refusals of every TPM that cannot prove itself.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wallet_core::attest::TpmIdentity as AttestedTpm;
use wallet_core::backup::SealedKeyFile;
use wallet_core::seal::SealError;
use wallet_core::state::ACCOUNT_FILE;
use wallet_core::tpm::{Transport, TransportError};
use wallet_core::wallet::{AccountOptions, Wallet};
use wallet_core::Error;

#[path = "wallet_support/transports.rs"]
mod transports;
use transports::TempDir;

#[path = "wallet_support/enroll.rs"]
mod enroll;
#[path = "wallet_support/gce_platform.rs"]
mod gce_platform;

use wallet_core::tpm::ek::{self, TpmIdentityError, TpmTrust};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::template::EkTemplate;
use wallet_core::tpm::{command, template, transport, Tpm};
use wallet_core::x509::ChainErrorKind;

fn tpm_of(swtpm: &Swtpm) -> Tpm<transport::StdTransport> {
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).unwrap()).unwrap();
    tpm.startup().unwrap();
    tpm
}

#[test]
fn a_certified_simulator_proves_its_ek_against_its_ca() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let mut tpm = tpm_of(&swtpm);
    let started = Instant::now();
    let identity = ek::establish(&mut tpm, &swtpm.trust()).unwrap();
    eprintln!("establish: {:?}", started.elapsed());
    assert!(identity.verified);
    let cert = identity.certificate.as_ref().unwrap();
    assert_eq!(cert.root_subject, "CN=swtpm-localca-rootca");
    assert_eq!(
        cert.chain_der.len(),
        2,
        "intermediate from the roots file, then the root"
    );
    let started = Instant::now();
    let again = tpm.create_ek(identity.kind).unwrap();
    eprintln!("create_ek: {:?}", started.elapsed());
    // The simulator, as platform provisioning does, keeps the EK at its TCG
    // persistent handle; derived again from the template it is the same key.
    assert_eq!(again.handle, identity.kind.persistent_handle());
    assert_eq!(again.name, identity.ek_name);
    let derived = tpm
        .create_primary(
            tpm2_protocol::data::TpmRh::Endorsement,
            &identity.kind.template(),
        )
        .unwrap();
    tpm.flush_context(derived.handle).unwrap();
    assert_eq!(derived.name, identity.ek_name);
}

#[test]
fn the_p384_ek_of_template_h3_is_the_key_its_certificate_certifies() {
    // swtpm_setup certifies an ECC P-384 EK at 0x01c00016 with the TCG
    // high-range template H-3: re-deriving it from our H-3 template must give
    // exactly the certified key, with a SHA-384 Name.
    let swtpm = Swtpm::start_temporary().unwrap();
    let mut tpm = tpm_of(&swtpm);
    let verified = ek::verify_ecc_p384(&mut tpm, &swtpm.trust())
        .unwrap()
        .expect("swtpm_setup writes a P-384 EK certificate at 0x01c00016");
    assert_eq!(verified.name[..2], [0x00, 0x0c]);
    assert_eq!(
        verified.name[2..],
        sha2::Sha384::digest(&verified.public_area)[..]
    );
    assert!(matches!(
        verified.certificate.key,
        wallet_core::x509::CertifiedKey::P384(_)
    ));
    assert_eq!(verified.certificate.root_subject, "CN=swtpm-localca-rootca");
    // The template is deterministic: the same EK again.
    let again = ek::verify_ecc_p384(&mut tpm, &swtpm.trust())
        .unwrap()
        .unwrap();
    assert_eq!(again.name, verified.name);
    // Sessions are still salted to the RSA EK.
    let identity = ek::establish(&mut tpm, &swtpm.trust()).unwrap();
    assert_eq!(identity.kind, wallet_core::tpm::command::EkKind::Rsa2048);
    // A TPM without EK certificates has no P-384 EK to verify.
    drop(tpm);
    let bare = Swtpm::start_temporary_without_ek_cert().unwrap();
    let mut tpm = tpm_of(&bare);
    assert!(ek::verify_ecc_p384(&mut tpm, &swtpm.trust())
        .unwrap()
        .is_none());
}

/// The SubjectPublicKeyInfo (DER) of the key of an EK `TPMT_PUBLIC` (RSA or
/// P-256), as a CA writes it into the EK certificate.
fn spki_of_ek(public_area: &[u8]) -> Vec<u8> {
    use spki::EncodePublicKey;
    use tpm2_protocol::TpmUnmarshal;
    let (public, _) = tpm2_protocol::data::TpmtPublic::unmarshal(public_area).unwrap();
    let der = match public.unique {
        tpm2_protocol::data::TpmuPublicId::Rsa(modulus) => rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&modulus),
            rsa::BigUint::from(65_537u32),
        )
        .unwrap()
        .to_public_key_der()
        .unwrap(),
        tpm2_protocol::data::TpmuPublicId::Ecc(_) => return gce_platform::ak_spki(public_area),
        _ => panic!("not an RSA or ECC key"),
    };
    der.as_bytes().to_vec()
}

/// The public area of the EK `template` yields on `swtpm`.
fn ek_public_of(swtpm: &Swtpm, template: EkTemplate) -> Vec<u8> {
    let bytes = command::marshal_public(&template.public().unwrap()).unwrap();
    gce_platform::key_of_template(swtpm, &bytes)
}

fn outcome_of(
    checks: &[ek::EkCheck],
    template: EkTemplate,
) -> &Result<ek::VerifiedEk, ek::EkError> {
    &checks
        .iter()
        .find(|c| c.template == template)
        .unwrap_or_else(|| panic!("no outcome for {}", template.label()))
        .outcome
}

#[test]
fn every_ek_certificate_swtpm_provisions_is_the_key_of_its_template() {
    // swtpm_setup's default: the L-1 RSA 2048 EK and the H-3 P-384 EK.
    let swtpm = Swtpm::start_temporary().unwrap();
    let mut tpm = tpm_of(&swtpm);
    let checks = ek::verify_endorsement_keys(&mut tpm, &swtpm.trust()).unwrap();
    let templates: Vec<_> = checks.iter().map(|c| c.template).collect();
    assert_eq!(templates, [EkTemplate::L1Rsa2048, EkTemplate::H3EccP384]);
    let l1 = outcome_of(&checks, EkTemplate::L1Rsa2048).as_ref().unwrap();
    assert_eq!(l1.name[..2], [0x00, 0x0b]);
    assert_eq!(l1.name[2..], Sha256::digest(&l1.public_area)[..]);
    // The same EK as the identity sessions are salted to.
    let identity = ek::establish(&mut tpm, &swtpm.trust()).unwrap();
    assert_eq!(l1.name, identity.ek_name.as_bytes());
    let h3 = outcome_of(&checks, EkTemplate::H3EccP384).as_ref().unwrap();
    let p384 = ek::verify_ecc_p384(&mut tpm, &swtpm.trust())
        .unwrap()
        .unwrap();
    assert_eq!(h3.name, p384.name);
    drop(tpm);

    // --rsa-keysize 3072: the RSA EK is the H-6 key at 0x01c0001c.
    let swtpm = Swtpm::start_temporary_with_rsa_keysize(3072).unwrap();
    let mut tpm = tpm_of(&swtpm);
    let checks = ek::verify_endorsement_keys(&mut tpm, &swtpm.trust()).unwrap();
    let templates: Vec<_> = checks.iter().map(|c| c.template).collect();
    assert_eq!(templates, [EkTemplate::H3EccP384, EkTemplate::H6Rsa3072]);
    let h6 = outcome_of(&checks, EkTemplate::H6Rsa3072).as_ref().unwrap();
    assert_eq!(h6.name[..2], [0x00, 0x0c], "SHA-384 Name");
    assert_eq!(h6.name[2..], sha2::Sha384::digest(&h6.public_area)[..]);
    match &h6.certificate.key {
        wallet_core::x509::CertifiedKey::Rsa { n, e } => {
            assert_eq!((n.len(), *e), (384, 65_537));
        }
        other => panic!("H-6 certifies {other:?}"),
    }
    assert!(
        ek::verify_ek(&mut tpm, &swtpm.trust(), EkTemplate::H6Rsa3072)
            .unwrap()
            .is_some()
    );
    // Sessions are salted to an L-1 or L-2 EK only: this TPM has neither,
    // and the refusal names the high-range certificate it has.
    let err = ek::establish(&mut tpm, &swtpm.trust()).unwrap_err();
    assert_eq!(
        err.kind,
        TpmIdentityError::OnlyHighRangeEkCertificates(EkTemplate::H3EccP384)
    );
    let text = err.to_string();
    assert!(
        text.contains("H-3 ECC NIST P-384 at NV 0x01c00016") && text.contains("L-1"),
        "{text}"
    );
    // Allowed explicitly, it opens as unverified.
    let identity = ek::establish(&mut tpm, &TpmTrust::allow_unverified_tpm()).unwrap();
    assert!(!identity.verified);
    // Another CA's roots refuse its H-6 certificate.
    let other = enroll::TestCa::new("CN=another EK CA");
    let err = ek::verify_ek(
        &mut tpm,
        &TpmTrust::roots(other.roots()),
        EkTemplate::H6Rsa3072,
    )
    .unwrap_err();
    assert!(matches!(err.kind, TpmIdentityError::Chain(_)), "{err}");
}

#[test]
fn high_range_ek_certificates_verify_and_p521_sm2_and_wrong_keys_are_refused() {
    // A platform double writes high-range EK certificates that swtpm_setup
    // does not make: a test CA certifies the keys our templates yield.
    let swtpm = Swtpm::start_temporary().unwrap();
    let ca = enroll::TestCa::new("CN=high-range EK CA");
    let h1 = ek_public_of(&swtpm, EkTemplate::H1Rsa2048);
    let h2 = ek_public_of(&swtpm, EkTemplate::H2EccP256);
    let h2_cert = ca.issue("CN=H-2 EK", &spki_of_ek(&h2));
    for (template, cert) in [
        (
            EkTemplate::H1Rsa2048,
            ca.issue("CN=H-1 EK", &spki_of_ek(&h1)),
        ),
        (EkTemplate::H2EccP256, h2_cert.clone()),
        // Certificates at the P-521 and SM2 indices: refused unread.
        (EkTemplate::H4EccP521, h2_cert.clone()),
        (EkTemplate::H5EccSm2P256, h2_cert.clone()),
    ] {
        gce_platform::write_platform_index(&swtpm, template.nv_index(), &cert);
    }
    let mut roots = swtpm.trust().trust_roots().clone();
    roots.extend(&ca.roots());
    let trust = TpmTrust::roots(roots);
    let mut tpm = tpm_of(&swtpm);
    let checks = ek::verify_endorsement_keys(&mut tpm, &trust).unwrap();
    let templates: Vec<_> = checks.iter().map(|c| c.template).collect();
    assert_eq!(
        templates,
        [
            EkTemplate::L1Rsa2048,
            EkTemplate::H1Rsa2048,
            EkTemplate::H2EccP256,
            EkTemplate::H3EccP384,
            EkTemplate::H4EccP521,
            EkTemplate::H5EccSm2P256
        ]
    );
    for template in [
        EkTemplate::L1Rsa2048,
        EkTemplate::H1Rsa2048,
        EkTemplate::H2EccP256,
        EkTemplate::H3EccP384,
    ] {
        let verified = outcome_of(&checks, template)
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", template.label()));
        assert_eq!(verified.template, template);
    }
    let h1_verified = outcome_of(&checks, EkTemplate::H1Rsa2048).as_ref().unwrap();
    assert_eq!(h1_verified.public_area, h1);
    assert_eq!(h1_verified.certificate.root_subject, "CN=high-range EK CA");
    for (template, words) in [
        (EkTemplate::H4EccP521, "P-521"),
        (EkTemplate::H5EccSm2P256, "SM2"),
    ] {
        let err = outcome_of(&checks, template).as_ref().unwrap_err();
        assert_eq!(err.kind, TpmIdentityError::UnsupportedEkTemplate(template));
        let text = err.to_string();
        assert!(text.contains(words) && text.contains("refused"), "{text}");
        assert!(
            text.contains(&format!("{:#010x}", template.nv_index())),
            "{text}"
        );
    }
    // The L-1/L-2 identity is unchanged by the high-range certificates.
    let identity = ek::establish(&mut tpm, &trust).unwrap();
    assert_eq!(identity.kind, wallet_core::tpm::command::EkKind::Rsa2048);
    drop(tpm);

    // A certificate over another key than the template's (here the H-2 key
    // at the H-1 index, and the L-2 key at the H-2 index) is refused.
    let swtpm = Swtpm::start_temporary().unwrap();
    let l2 = ek_public_of(&swtpm, EkTemplate::L2EccP256);
    let h2 = ek_public_of(&swtpm, EkTemplate::H2EccP256);
    gce_platform::write_platform_index(
        &swtpm,
        EkTemplate::H1Rsa2048.nv_index(),
        &ca.issue("CN=H-1 EK", &spki_of_ek(&h2)),
    );
    gce_platform::write_platform_index(
        &swtpm,
        EkTemplate::H2EccP256.nv_index(),
        &ca.issue("CN=H-2 EK", &spki_of_ek(&l2)),
    );
    let mut tpm = tpm_of(&swtpm);
    for template in [EkTemplate::H1Rsa2048, EkTemplate::H2EccP256] {
        let err = ek::verify_ek(&mut tpm, &TpmTrust::roots(ca.roots()), template).unwrap_err();
        assert_eq!(
            err.kind,
            TpmIdentityError::EkKeyMismatch,
            "{}",
            template.label()
        );
    }
}

#[test]
fn a_simulator_without_an_ek_certificate_is_refused_unless_allowed() {
    let swtpm = Swtpm::start_temporary_without_ek_cert().unwrap();
    let mut tpm = tpm_of(&swtpm);
    let trust = Swtpm::start_temporary().unwrap().trust();
    let err = ek::establish(&mut tpm, &trust).unwrap_err();
    assert_eq!(err.kind, TpmIdentityError::NoEkCertificate);
    assert!(err.to_string().contains("no EK certificate"), "{err}");
    let identity = ek::establish(&mut tpm, &TpmTrust::allow_unverified_tpm()).unwrap();
    assert!(!identity.verified);
}

#[test]
fn a_tpm_whose_ek_chains_to_another_ca_is_refused() {
    let other_ca = std::env::temp_dir().join(format!("flare-other-ca-{}", std::process::id()));
    let other = Swtpm::start_temporary_with_ca(&other_ca).unwrap();
    let ours = Swtpm::start_temporary().unwrap();
    let mut tpm = tpm_of(&other);
    let err = ek::establish(&mut tpm, &ours.trust()).unwrap_err();
    assert_eq!(
        err.kind,
        TpmIdentityError::Chain(ChainErrorKind::BadSignature)
    );
    assert!(err.to_string().contains("swtpm-localca"), "{err}");
    // Its own CA accepts it.
    ek::establish(&mut tpm, &other.trust()).unwrap();
    // The same for its high-range P-384 EK certificate.
    let err = ek::verify_ecc_p384(&mut tpm, &ours.trust()).unwrap_err();
    assert_eq!(
        err.kind,
        TpmIdentityError::Chain(ChainErrorKind::BadSignature)
    );
    assert!(ek::verify_ecc_p384(&mut tpm, &other.trust())
        .unwrap()
        .is_some());
    drop(tpm);
    let _ = std::fs::remove_dir_all(&other_ca);
}

const CC_CREATE_PRIMARY: u32 = 0x131;
const CC_CREATE: u32 = 0x153;
const CC_IMPORT: u32 = 0x156;
const CC_NV_READ: u32 = 0x14E;
const CC_READ_PUBLIC: u32 = 0x173;
/// The TCG persistent handle of the RSA 2048 EK.
const EK_RSA_PERSISTENT: u32 = 0x8101_0001;
const RH_OWNER: u32 = 0x4000_0001;
const RH_ENDORSEMENT: u32 = 0x4000_000B;

/// What a [`HostileTransport`] substitutes once armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Substitute {
    /// Its own P-256 point in the SRK's CreatePrimary answer.
    Srk,
    /// Its own RSA modulus in the EK's CreatePrimary answer, or in the
    /// ReadPublic answer for the EK at its persistent handle.
    Ek,
    /// Other bytes in the EK certificate's NV_Read answers.
    NvCertificate,
}

#[derive(Default)]
struct HostileControl {
    armed: Mutex<Option<Substitute>>,
    /// Command codes sent while armed.
    seen: Mutex<Vec<u32>>,
}

impl HostileControl {
    fn arm(&self, substitute: Substitute) {
        *self.armed.lock().unwrap() = Some(substitute);
    }
    fn seen(&self) -> Vec<u32> {
        self.seen.lock().unwrap().clone()
    }
}

/// A man in the middle between the wallet and a real swtpm: it forwards
/// every frame, and once armed replaces the public key in the answers that
/// name the SRK or the EK with its own (recomputing their Names, so the
/// answers stay self-consistent), or the EK certificate's bytes.
struct HostileTransport {
    inner: transport::StdTransport,
    control: Arc<HostileControl>,
}

impl HostileTransport {
    fn new(swtpm: &Swtpm) -> (Self, Arc<HostileControl>) {
        let control = Arc::new(HostileControl::default());
        let inner = transport::open(&swtpm.tcti()).unwrap();
        (
            Self {
                inner,
                control: control.clone(),
            },
            control,
        )
    }
}

fn name_of(area: &[u8]) -> Vec<u8> {
    let mut name = vec![0x00, 0x0b];
    name.extend_from_slice(&Sha256::digest(area));
    name
}

/// The qualified Name of a primary key of `hierarchy` with Name `name`.
fn qualified_name_of(hierarchy: u32, name: &[u8]) -> Vec<u8> {
    let mut qualified = vec![0x00, 0x0b];
    let mut hash = Sha256::new();
    hash.update(hierarchy.to_be_bytes());
    hash.update(name);
    qualified.extend_from_slice(&hash.finalize());
    qualified
}

/// Replaces the last `own.len()` bytes of the answer's public area (the
/// `unique` key; its `TPM2B` size at `size_at`: 18 in a CreatePrimary answer,
/// 10 in a ReadPublic answer) with `own`, the Name with the new one and, when
/// the answer has one, the qualified Name under `hierarchy` with the new one.
fn substitute_key(
    response: &mut [u8],
    n: usize,
    size_at: usize,
    hierarchy: u32,
    own: &[u8],
    coordinates: bool,
) {
    let size = usize::from(u16::from_be_bytes([
        response[size_at],
        response[size_at + 1],
    ]));
    let area = size_at + 2..size_at + 2 + size;
    if size < own.len() + 2 {
        // Not a key of that kind (another object at the EK's handle).
        return;
    }
    let old_name = name_of(&response[area.clone()]);
    let end = area.end;
    if coordinates {
        // TPMS_ECC_POINT: x (2 + 32), y (2 + 32).
        response[end - 66..end - 34].copy_from_slice(&own[..32]);
        response[end - 32..end].copy_from_slice(&own[32..]);
    } else {
        response[end - own.len()..end].copy_from_slice(own);
    }
    let new_name = name_of(&response[area]);
    let at = (end..n - old_name.len())
        .find(|&i| response[i..i + old_name.len()] == old_name[..])
        .expect("the Name is in the answer");
    response[at..at + new_name.len()].copy_from_slice(&new_name);
    let old_qualified = qualified_name_of(hierarchy, &old_name);
    if let Some(at) = (end..=n - old_qualified.len())
        .find(|&i| response[i..i + old_qualified.len()] == old_qualified[..])
    {
        response[at..at + old_qualified.len()]
            .copy_from_slice(&qualified_name_of(hierarchy, &new_name));
    }
}

impl Transport for HostileTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let code = u32::from_be_bytes(command[6..10].try_into().unwrap());
        let armed = *self.control.armed.lock().unwrap();
        if armed.is_some() {
            self.control.seen.lock().unwrap().push(code);
        }
        let n = self.inner.transact(command, response)?;
        let ok = response[6..10] == [0, 0, 0, 0];
        let hierarchy = command
            .get(10..14)
            .map(|h| u32::from_be_bytes(h.try_into().unwrap()));
        match armed {
            Some(Substitute::Srk)
                if ok && code == CC_CREATE_PRIMARY && hierarchy == Some(RH_OWNER) =>
            {
                // Its own key: a point whose private scalar it knows.
                let own = p256::SecretKey::from_slice(&[0x42; 32])
                    .unwrap()
                    .public_key();
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let point = own.to_encoded_point(false);
                substitute_key(response, n, 18, RH_OWNER, &point.as_bytes()[1..], true);
            }
            Some(Substitute::Ek)
                if ok
                    && ((code == CC_CREATE_PRIMARY && hierarchy == Some(RH_ENDORSEMENT))
                        || (code == CC_READ_PUBLIC && hierarchy == Some(EK_RSA_PERSISTENT))) =>
            {
                let mut own = [0x5a; 256];
                own[0] = 0xc3;
                let size_at = if code == CC_READ_PUBLIC { 10 } else { 18 };
                substitute_key(response, n, size_at, RH_ENDORSEMENT, &own, false);
            }
            Some(Substitute::NvCertificate) if ok && code == CC_NV_READ && n > 40 => {
                response[n - 20] ^= 0x01;
            }
            _ => {}
        }
        Ok(n)
    }
}

/// A wallet whose every SRK answer, from the first command on, is the
/// hostile transport's own key (so the SRK Name it records is the fake one).
fn hostile_wallet(swtpm: &Swtpm, state: &std::path::Path) -> (Wallet, Arc<HostileControl>) {
    let (hostile, control) = HostileTransport::new(swtpm);
    control.arm(Substitute::Srk);
    let wallet = Wallet::with_transport(Box::new(hostile), state, &swtpm.trust()).unwrap();
    (wallet, control)
}

fn assert_no_secret_sent(control: &HostileControl) {
    let seen = control.seen();
    assert!(!seen.is_empty(), "the hostile transport saw the operation");
    assert!(
        !seen.contains(&CC_CREATE) && !seen.contains(&CC_IMPORT),
        "a secret-bearing command reached the hostile transport: {seen:x?}"
    );
}

#[test]
fn a_substituted_srk_at_create_account_is_caught_before_the_key_is_sent() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let dir = TempDir::new("hostile-create");
    // (A substitution after the wallet opened is caught earlier still: the
    // SRK Name differs from the one recorded at open.)
    let (mut wallet, control) = hostile_wallet(&swtpm, &dir.state("s"));
    let err = wallet
        .create_account(AccountOptions::default())
        .unwrap_err();
    assert_eq!(err, Error::Seal(SealError::SrkNotResident));
    assert!(err.to_string().contains("nothing secret was sent"), "{err}");
    assert_no_secret_sent(&control);
    assert!(!dir.state("s").join(ACCOUNT_FILE).exists());
}

#[test]
fn a_substituted_srk_at_import_is_caught_before_the_key_is_sent() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let dir = TempDir::new("hostile-import");
    let (mut wallet, control) = hostile_wallet(&swtpm, &dir.state("s"));
    let err = wallet
        .import_key(&[0x11; 32], AccountOptions::default())
        .unwrap_err();
    assert_eq!(err, Error::Seal(SealError::SrkNotResident));
    assert_no_secret_sent(&control);
}

#[test]
fn a_substituted_srk_at_encrypt_data_is_caught_before_the_data_key_is_sent() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let (hostile, control) = HostileTransport::new(&swtpm);
    let mut tpm = Tpm::new(hostile).unwrap();
    tpm.startup().unwrap();
    ek::establish(&mut tpm, &swtpm.trust()).unwrap();
    control.arm(Substitute::Srk);
    let srk_name = wallet_core::seal::srk_name(&mut tpm).unwrap();
    let err = wallet_core::sealed_data::seal_data(
        &mut tpm,
        &srk_name,
        b"secret data",
        wallet_core::tpm::ParameterEncryption::Aes128Cfb,
    )
    .unwrap_err();
    assert_eq!(err, Error::Seal(SealError::SrkNotResident));
    assert_no_secret_sent(&control);
}

#[test]
fn a_substituted_ek_or_ek_certificate_is_refused_at_open() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let dir = TempDir::new("hostile-ek");
    for (substitute, expected) in [
        (Substitute::Ek, TpmIdentityError::EkKeyMismatch),
        (
            Substitute::NvCertificate,
            TpmIdentityError::Chain(ChainErrorKind::BadSignature),
        ),
    ] {
        let (hostile, control) = HostileTransport::new(&swtpm);
        control.arm(substitute);
        let err =
            Wallet::with_transport(Box::new(hostile), &dir.state("s"), &swtpm.trust()).unwrap_err();
        assert_eq!(err, Error::TpmIdentity(expected), "{substitute:?}");
        assert_no_secret_sent(&control);
    }
}

#[test]
fn the_ek_is_derived_again_when_its_persistent_handle_is_empty_or_holds_another_key() {
    use tpm2_protocol::data::TpmRh;
    let swtpm = Swtpm::start_temporary().unwrap();
    let rsa = command::EkKind::Rsa2048;
    let persistent = rsa.persistent_handle();
    let dir = TempDir::new("ek-handle");
    let expected = {
        let mut tpm = tpm_of(&swtpm);
        let identity = ek::establish(&mut tpm, &swtpm.trust()).unwrap();
        assert_eq!(tpm.create_ek(rsa).unwrap().handle, persistent);
        // Evicted: derived from the template, the same key.
        tpm.evict_control(persistent, persistent).unwrap();
        let derived = tpm.create_ek(rsa).unwrap();
        assert_ne!(derived.handle, persistent);
        assert_eq!(derived.name, identity.ek_name);
        tpm.flush_context(derived.handle).unwrap();
        // Another key at the EK's handle (an SRK) is not taken for the EK.
        let other = tpm.create_primary(TpmRh::Owner, &template::srk()).unwrap();
        tpm.evict_control(other.handle, persistent).unwrap();
        tpm.flush_context(other.handle).unwrap();
        let derived = tpm.create_ek(rsa).unwrap();
        assert_ne!(derived.handle, persistent);
        assert_eq!(derived.name, identity.ek_name);
        tpm.flush_context(derived.handle).unwrap();
        identity.ek_name
    };
    // A wallet opens and signs on that TPM, salted to the derived EK, and a
    // substituted EK in the CreatePrimary answer is still refused.
    let mut wallet = Wallet::open(&swtpm.tcti(), &dir.state("s"), &swtpm.trust()).unwrap();
    wallet.create_account(AccountOptions::default()).unwrap();
    wallet.sign_message(b"derived EK").unwrap();
    drop(wallet);
    let (hostile, control) = HostileTransport::new(&swtpm);
    control.arm(Substitute::Ek);
    let err =
        Wallet::with_transport(Box::new(hostile), &dir.state("t"), &swtpm.trust()).unwrap_err();
    assert_eq!(err, Error::TpmIdentity(TpmIdentityError::EkKeyMismatch));
    assert!(control.seen().contains(&CC_CREATE_PRIMARY));
    assert_no_secret_sent(&control);
    // The other key is still there: the wallet never touches the handle.
    let mut tpm = tpm_of(&swtpm);
    assert_ne!(tpm.read_public(persistent).unwrap().0, expected);
}

#[test]
fn a_wallet_refuses_a_tpm_without_ek_certificate_unless_allowed_and_records_it() {
    let swtpm = Swtpm::start_temporary_without_ek_cert().unwrap();
    let certified = Swtpm::start_temporary().unwrap();
    let dir = TempDir::new("unverified");
    let state = dir.state("s");
    let err = Wallet::open(&swtpm.tcti(), &state, &certified.trust()).unwrap_err();
    assert_eq!(err, Error::TpmIdentity(TpmIdentityError::NoEkCertificate));
    assert!(err.to_string().contains("allow-unverified"), "{err}");

    // No roots at all (nothing configured) is refused the same way.
    let err = Wallet::open(&swtpm.tcti(), &state, &TpmTrust::default()).unwrap_err();
    assert_eq!(err, Error::TpmIdentity(TpmIdentityError::NoEkCertificate));

    let mut wallet =
        Wallet::open(&swtpm.tcti(), &state, &TpmTrust::allow_unverified_tpm()).unwrap();
    assert!(!wallet.tpm_identity().1, "reported as unverified");
    assert!(
        ek::describe(wallet.tpm_identity_details()).contains("UNVERIFIED TPM"),
        "{}",
        ek::describe(wallet.tpm_identity_details())
    );
    wallet.create_account(AccountOptions::default()).unwrap();
    // The evidence says so too, in its signed account facts.
    let evidence = wallet.attest(&[7u8; 32], 1).unwrap();
    assert_eq!(evidence.account.tpm_identity, AttestedTpm::Unverified);
    assert_eq!(evidence.account.tpm_identity.to_string(), "unverified TPM");
    drop(wallet);
    let bytes = std::fs::read(state.join(ACCOUNT_FILE)).unwrap();
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert_eq!(view.version(), 3);
    assert!(
        !view.tpm_identity().unwrap().verified,
        "recorded as unverified"
    );

    // Reopened with the allowance, the account loads and still says unverified.
    let mut wallet =
        Wallet::open(&swtpm.tcti(), &state, &TpmTrust::allow_unverified_tpm()).unwrap();
    wallet.load_account().unwrap();
    let evidence = wallet.attest(&[8u8; 32], 1).unwrap();
    assert_eq!(evidence.account.tpm_identity.to_string(), "unverified TPM");
    drop(wallet);
    // Without it, the TPM is refused before the account is touched.
    let err = Wallet::open(&swtpm.tcti(), &state, &certified.trust()).unwrap_err();
    assert_eq!(err, Error::TpmIdentity(TpmIdentityError::NoEkCertificate));
}

#[test]
fn a_wallet_refuses_a_tpm_whose_ek_chains_to_another_ca() {
    let other_ca = std::env::temp_dir().join(format!("flare-wallet-ca-{}", std::process::id()));
    let other = Swtpm::start_temporary_with_ca(&other_ca).unwrap();
    let ours = Swtpm::start_temporary().unwrap();
    let dir = TempDir::new("other-ca");
    let state = dir.state("s");
    let err = Wallet::open(&other.tcti(), &state, &ours.trust()).unwrap_err();
    assert_eq!(
        err,
        Error::TpmIdentity(TpmIdentityError::Chain(ChainErrorKind::BadSignature))
    );
    assert!(err.to_string().contains("--trust-roots"), "{err}");
    // Explicitly allowed, it opens as unverified and its evidence says so.
    let mut wallet = Wallet::open(
        &other.tcti(),
        &state,
        &ours.trust().allowing_unverified_tpm(),
    )
    .unwrap();
    assert!(!wallet.tpm_identity().1);
    wallet.create_account(AccountOptions::default()).unwrap();
    let evidence = wallet.attest(&[9u8; 32], 1).unwrap();
    assert_eq!(evidence.account.tpm_identity, AttestedTpm::Unverified);
    drop(wallet);
    // Its own CA verifies it.
    let wallet = Wallet::open(&other.tcti(), &dir.state("t"), &other.trust()).unwrap();
    assert!(wallet.tpm_identity().1);
    drop(wallet);
    let _ = std::fs::remove_dir_all(&other_ca);
}

#[test]
fn trust_roots_come_from_a_path_or_the_environment() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let roots = swtpm.ek_ca_pem_path().unwrap().to_path_buf();
    let dir = TempDir::new("roots-path");
    let trust = TpmTrust::from_path_or_env(Some(&roots)).unwrap();
    assert!(!trust.allows_unverified_tpm());
    let wallet = Wallet::open(&swtpm.tcti(), &dir.state("s"), &trust).unwrap();
    assert!(wallet.tpm_identity().1);
    drop(wallet);
    let err = TpmTrust::from_path_or_env(Some(&dir.state("missing.pem"))).unwrap_err();
    assert!(err.to_string().contains("unreadable"), "{err}");
}

#[test]
fn a_verified_account_is_bound_to_its_ek_and_refused_on_another_tpm() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let dir = TempDir::new("bound");
    let state = dir.state("s");
    let mut wallet = Wallet::open(&swtpm.tcti(), &state, &swtpm.trust()).unwrap();
    let (ek_name, verified) = wallet.tpm_identity();
    assert!(verified);
    let address = wallet.create_account(AccountOptions::default()).unwrap();
    drop(wallet);
    let bytes = std::fs::read(state.join(ACCOUNT_FILE)).unwrap();
    let view = SealedKeyFile::parse(&bytes).unwrap();
    let section = view.tpm_identity().unwrap();
    assert_eq!(section.ek_name, ek_name.as_bytes());
    assert!(section.verified);

    // The same TPM loads it.
    let mut wallet = Wallet::open(&swtpm.tcti(), &state, &swtpm.trust()).unwrap();
    assert_eq!(wallet.load_account().unwrap(), address);
    drop(wallet);

    // A TPM with another EK (same CA, so verified) refuses it, saying why.
    let other = Swtpm::start_temporary_with_new_ek().unwrap();
    let mut wallet = Wallet::open(&other.tcti(), &state, &other.trust()).unwrap();
    let err = wallet.load_account().unwrap_err();
    assert_eq!(err, Error::TpmIdentity(TpmIdentityError::EkChanged));
    assert!(
        err.to_string()
            .contains("differs from the one this account is bound to"),
        "{err}"
    );
}
