//! The TPM's identity: its endorsement key (EK), proven by the EK certificate
//! its manufacturer wrote into NV (std only).
//!
//! [`establish`] reads the EK certificate from its TCG NV index, verifies its
//! chain against the caller's trust roots ([`crate::x509`]), re-derives the EK
//! from the TCG default template and checks that its public key is the one
//! the certificate certifies. Only then are secret-bearing sessions salted to
//! that EK ([`Tpm::salt_sessions_to_ek`]): an interposer that does not hold
//! the EK's private key cannot compute a session key, so it cannot read a
//! sealed key on its way in or out.
//!
//! A TPM without a certificate, or whose certificate does not verify, is
//! refused unless the caller explicitly allows an unverified TPM
//! ([`TpmTrust::allow_unverified_tpm`]); the identity then says so.

use std::fmt;
use std::string::String;
use std::time::SystemTime;
use std::vec::Vec;

use der::{Reader, SliceReader};

use sha2::Digest;
use tpm2_protocol::data::{TpmAlgId, TpmRh, TpmtPublic, TpmuPublicId};

use super::command::{EkKind, EkPublic};
use super::template::EkTemplate;
use super::{Name, ResponseDefect, Tpm, TpmError, TpmRc, Transport};
use crate::x509::{self, CertifiedKey, ChainError, ChainErrorKind, TrustRoots};

/// NV index of the RSA 2048 EK certificate (template L-1).
pub const NV_EK_CERT_RSA_2048: u32 = 0x01c0_0002;
/// NV index of the ECC NIST P-256 EK certificate (template L-2).
pub const NV_EK_CERT_ECC_P256: u32 = 0x01c0_000a;
/// NV index of the high-range RSA 2048 EK certificate (template H-1).
pub const NV_EK_CERT_RSA_2048_HIGH: u32 = 0x01c0_0012;
/// NV index of the high-range ECC NIST P-256 EK certificate (template H-2).
pub const NV_EK_CERT_ECC_P256_HIGH: u32 = 0x01c0_0014;
/// NV index of the high-range ECC NIST P-384 EK certificate (template H-3).
pub const NV_EK_CERT_ECC_P384_HIGH: u32 = 0x01c0_0016;
/// First NV index of the EK certificate chain (intermediates), TCG EK
/// Credential Profile section 2.2.1.5; the range ends at `0x01c001ff`.
pub const NV_EK_CHAIN_FIRST: u32 = 0x01c0_0100;
/// How many chain indices are tried (a chain is a few certificates).
const EK_CHAIN_MAX: u32 = 8;

/// The largest EK certificate read from NV.
const MAX_EK_CERT_LEN: u16 = 4096;

/// The EK certificates [`establish`] uses, in order of preference: each
/// with the template whose key it certifies. The high-range ECC P-384 EK
/// (H-3, `0x01c00016`) is verified by [`verify_ecc_p384`] but not used for
/// salting; the other high-range indices are read by [`read_certificate`].
pub const EK_CERTIFICATES: [(u32, EkKind); 2] = [
    (NV_EK_CERT_RSA_2048, EkKind::Rsa2048),
    (NV_EK_CERT_ECC_P256, EkKind::EccP256),
];

/// What a caller trusts about TPMs: the EK roots, and whether a TPM that
/// cannot prove itself is allowed anyway.
#[derive(Clone, Debug, Default)]
pub struct TpmTrust {
    roots: TrustRoots,
    allow_unverified: bool,
    at: Option<SystemTime>,
}

impl TpmTrust {
    /// Trust TPMs whose EK certificate chains to one of `roots`.
    #[must_use]
    pub fn roots(roots: TrustRoots) -> Self {
        Self {
            roots,
            allow_unverified: false,
            at: None,
        }
    }

    /// The roots of `$FLARE_WALLET_TPM_ROOTS` (none when unset: every TPM is
    /// then refused).
    ///
    /// # Errors
    /// The roots file or folder is unreadable or holds a bad certificate.
    pub fn from_env() -> Result<Self, ChainError> {
        Ok(Self::roots(TrustRoots::from_env()?))
    }

    /// The roots of `path` (a PEM file or a folder of certificates), or of
    /// `$FLARE_WALLET_TPM_ROOTS` when `path` is `None`: what every face does
    /// with its roots parameter.
    ///
    /// # Errors
    /// The roots file or folder is unreadable or holds a bad certificate.
    pub fn from_path_or_env(path: Option<&std::path::Path>) -> Result<Self, ChainError> {
        match path {
            Some(path) => Ok(Self::roots(TrustRoots::from_path(path)?)),
            None => Self::from_env(),
        }
    }

    /// **Insecure.** Accepts a TPM whose EK certificate is missing or does not
    /// verify. Its sessions are then salted to a key nothing authenticates, so
    /// a fake TPM or an interposer on the transport can read every key sealed
    /// or unsealed through it. The account file and the evidence record the
    /// TPM as unverified.
    #[must_use]
    pub fn allow_unverified_tpm() -> Self {
        Self {
            roots: TrustRoots::empty(),
            allow_unverified: true,
            at: None,
        }
    }

    /// These roots, and also **insecurely** accept a TPM that fails them (see
    /// [`TpmTrust::allow_unverified_tpm`]).
    #[must_use]
    pub fn allowing_unverified_tpm(mut self) -> Self {
        self.allow_unverified = true;
        self
    }

    /// Verify certificates at `at` instead of now.
    #[must_use]
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = Some(at);
        self
    }

    /// The roots.
    #[must_use]
    pub fn trust_roots(&self) -> &TrustRoots {
        &self.roots
    }

    /// Whether an unverified TPM is accepted.
    #[must_use]
    pub fn allows_unverified_tpm(&self) -> bool {
        self.allow_unverified
    }
}

/// Why a TPM's identity could not be established. `Copy`, no text: the
/// crate error carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TpmIdentityError {
    /// The TPM has no EK certificate at any index we use.
    NoEkCertificate,
    /// The EK certificate's chain does not verify against the roots.
    Chain(ChainErrorKind),
    /// The EK the TPM derives is not the key its certificate certifies.
    EkKeyMismatch,
    /// The TPM's EK differs from the one the account was created with.
    EkChanged,
    /// The account was created on a verified TPM, this one is not verified.
    NowUnverified,
    /// A TPM command failed while reading or re-deriving the EK.
    Tpm(TpmError),
    /// The TPM has an EK certificate for a template this verifier cannot
    /// check (ECC P-521, SM2): it is refused, never taken on trust.
    UnsupportedEkTemplate(EkTemplate),
    /// The TPM has no L-1 or L-2 EK certificate, only high-range ones (the
    /// first named): its EKs can be verified ([`verify_endorsement_keys`])
    /// but sessions are salted to an L-1 or L-2 EK only.
    OnlyHighRangeEkCertificates(EkTemplate),
}

impl fmt::Display for TpmIdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoEkCertificate => f.write_str(
                "TPM refused: it has no EK certificate (NV 0x01c00002 or 0x01c0000a), so \
                 nothing proves it is a real TPM; only an explicit allow-unverified-TPM option \
                 (allow_unverified_tpm, --allow-unverified-tpm) accepts it",
            ),
            Self::Chain(kind) => write!(
                f,
                "TPM refused: its EK certificate does not verify against the configured roots \
                 ({kind}); give its vendor's EK CA as trust roots (trust_roots, --trust-roots, \
                 $FLARE_WALLET_TPM_ROOTS) or explicitly allow an unverified TPM"
            ),
            Self::EkKeyMismatch => f.write_str(
                "TPM refused: its endorsement key is not the key its EK certificate certifies",
            ),
            Self::EkChanged => f.write_str(
                "TPM refused: its endorsement key differs from the one this account is bound to \
                 (another TPM, or a replaced one)",
            ),
            Self::NowUnverified => f.write_str(
                "TPM refused: the account was created on a verified TPM and this one is unverified",
            ),
            Self::Tpm(e) => write!(f, "reading the TPM's endorsement key: {e}"),
            Self::UnsupportedEkTemplate(template) => write!(
                f,
                "EK certificate at NV {:#010x} (template {}) refused: {}",
                template.nv_index(),
                template.label(),
                match template {
                    EkTemplate::H5EccSm2P256 => {
                        "SM2 keys and SM3 Names are not supported by this verifier"
                    }
                    EkTemplate::H4EccP521 => {
                        "ECC P-521 keys are not supported by this verifier"
                    }
                    _ => "this template is not supported by this verifier",
                }
            ),
            Self::OnlyHighRangeEkCertificates(template) => write!(
                f,
                "TPM refused: its only EK certificates are for high-range templates ({} at NV \
                 {:#010x}); sessions are salted to the EK of template L-1 (RSA 2048, NV \
                 0x01c00002) or L-2 (ECC P-256, NV 0x01c0000a), which it has no certificate for; \
                 only an explicit allow-unverified-TPM option (allow_unverified_tpm, \
                 --allow-unverified-tpm) accepts it",
                template.label(),
                template.nv_index()
            ),
        }
    }
}

impl std::error::Error for TpmIdentityError {}

impl From<TpmError> for TpmIdentityError {
    fn from(e: TpmError) -> Self {
        Self::Tpm(e)
    }
}

/// Why [`establish`] refused, with the chain's full text when it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EkError {
    /// The refusal.
    pub kind: TpmIdentityError,
    /// The chain error, when the certificate failed verification.
    pub chain: Option<ChainError>,
}

impl fmt::Display for EkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.chain {
            Some(chain) => write!(
                f,
                "TPM refused: its EK certificate does not verify against the configured roots: {chain}"
            ),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for EkError {}

impl From<TpmIdentityError> for EkError {
    fn from(kind: TpmIdentityError) -> Self {
        Self { kind, chain: None }
    }
}

impl From<TpmError> for EkError {
    fn from(e: TpmError) -> Self {
        TpmIdentityError::Tpm(e).into()
    }
}

/// The identity a TPM proved (or, allowed explicitly, failed to prove).
#[derive(Clone, Debug)]
pub struct TpmIdentity {
    /// The EK template.
    pub kind: EkKind,
    /// The EK's Name.
    pub ek_name: Name,
    /// The EK's public key.
    pub ek_public: EkPublic,
    /// `true` when the EK certificate chained to a trusted root and certifies
    /// this EK.
    pub verified: bool,
    /// The verified certificate and its chain, when verified.
    pub certificate: Option<x509::VerifiedCertificate>,
    /// The EK certificate's DER as read from NV, when there was one.
    pub ek_certificate_der: Option<Vec<u8>>,
}

/// Reads the EK certificate at `index`: `None` when the index is not defined.
/// Zero padding after the certificate (some TPMs write their NV area full) is
/// dropped: the certificate is the first DER element.
///
/// # Errors
/// TPM errors other than an undefined index; an index larger than 4096 bytes.
pub fn read_certificate<T: Transport>(
    tpm: &mut Tpm<T>,
    index: u32,
) -> Result<Option<Vec<u8>>, TpmError> {
    let info = match tpm.nv_read_public(index) {
        Ok(info) => info,
        Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::HANDLE) => return Ok(None),
        Err(e) => return Err(e),
    };
    if info.data_size == 0 || info.data_size > MAX_EK_CERT_LEN {
        return Err(TpmError::MalformedResponse {
            command: 0x169,
            defect: super::ResponseDefect::UnexpectedValue,
        });
    }
    let mut data = std::vec![0u8; usize::from(info.data_size)];
    tpm.nv_read(index, 0, &mut data)?;
    let first = SliceReader::new(&data)
        .ok()
        .and_then(|mut r| r.tlv_bytes().ok().map(<[u8]>::to_vec));
    Ok(Some(first.unwrap_or(data)))
}

/// Reads the EK certificate chain the TPM keeps from NV `0x01c00100` on.
///
/// # Errors
/// As [`read_certificate`].
pub fn read_chain<T: Transport>(tpm: &mut Tpm<T>) -> Result<Vec<Vec<u8>>, TpmError> {
    let mut chain = Vec::new();
    for index in NV_EK_CHAIN_FIRST..NV_EK_CHAIN_FIRST + EK_CHAIN_MAX {
        match read_certificate(tpm, index)? {
            Some(der) => chain.push(der),
            None => break,
        }
    }
    Ok(chain)
}

/// `true` when the TPM's EK public key is the certified one.
fn same_key(ek: &EkPublic, certified: &CertifiedKey) -> bool {
    match (ek, certified) {
        (EkPublic::Rsa2048 { modulus }, CertifiedKey::Rsa { n, e }) => {
            let first = modulus
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(modulus.len());
            *e == 65_537 && modulus.get(first..) == Some(n.as_slice())
        }
        (EkPublic::EccP256 { x, y }, CertifiedKey::P256(key)) => {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let point = key.to_encoded_point(false);
            point.x().map(|px| px.as_slice()) == Some(&x[..])
                && point.y().map(|py| py.as_slice()) == Some(&y[..])
        }
        _ => false,
    }
}

/// Establishes the TPM's identity under `trust` and salts every later
/// secret-bearing session to it.
///
/// For each EK certificate index ([`EK_CERTIFICATES`]) the TPM defines: the
/// certificate is verified against the roots (with intermediates from the
/// roots source and from NV `0x01c00100`+), the EK is re-derived from the TCG
/// template, and its public key must be the certified one.
///
/// # Errors
/// [`TpmIdentityError::NoEkCertificate`] or [`TpmIdentityError::Chain`] unless
/// `trust` allows an unverified TPM; [`TpmIdentityError::EkKeyMismatch`]
/// always (an EK that contradicts its own certificate is a forgery, allowed or
/// not); TPM errors.
pub fn establish<T: Transport>(tpm: &mut Tpm<T>, trust: &TpmTrust) -> Result<TpmIdentity, EkError> {
    let mut first_failure: Option<EkError> = None;
    let mut unverified: Option<(EkKind, Vec<u8>)> = None;
    for (index, kind) in EK_CERTIFICATES {
        let Some(cert) = read_certificate(tpm, index)? else {
            continue;
        };
        let intermediates = read_chain(tpm)?;
        let verified = x509::verify_chain_at(&cert, &intermediates, &trust.roots, trust.at);
        let ek = tpm.create_ek(kind)?;
        tpm.flush_or_defer(ek.handle);
        match verified {
            Ok(certificate) => {
                if !same_key(&ek.public, &certificate.key) {
                    return Err(TpmIdentityError::EkKeyMismatch.into());
                }
                tpm.salt_sessions_to_ek(kind, ek.name);
                return Ok(TpmIdentity {
                    kind,
                    ek_name: ek.name,
                    ek_public: ek.public,
                    verified: true,
                    certificate: Some(certificate),
                    ek_certificate_der: Some(cert),
                });
            }
            Err(chain) => {
                if first_failure.is_none() {
                    first_failure = Some(EkError {
                        kind: TpmIdentityError::Chain(chain.kind()),
                        chain: Some(chain),
                    });
                    unverified = Some((kind, cert));
                }
            }
        }
    }
    if !trust.allow_unverified {
        if let Some(failure) = first_failure {
            return Err(failure);
        }
        return Err(match first_high_range_certificate(tpm)? {
            Some(template) => TpmIdentityError::OnlyHighRangeEkCertificates(template).into(),
            None => TpmIdentityError::NoEkCertificate.into(),
        });
    }
    // Allowed explicitly: the EK of the certificate that failed, or the RSA EK.
    let (kind, cert) = match unverified {
        Some((kind, cert)) => (kind, Some(cert)),
        None => (EkKind::Rsa2048, None),
    };
    let ek = tpm.create_ek(kind)?;
    tpm.flush_or_defer(ek.handle);
    tpm.salt_sessions_to_unverified_srk();
    Ok(TpmIdentity {
        kind,
        ek_name: ek.name,
        ek_public: ek.public,
        verified: false,
        certificate: None,
        ek_certificate_der: cert,
    })
}

/// The first high-range EK certificate index the TPM defines, for a refusal
/// that names it.
fn first_high_range_certificate<T: Transport>(
    tpm: &mut Tpm<T>,
) -> Result<Option<EkTemplate>, TpmError> {
    for template in EkTemplate::ALL {
        if EK_CERTIFICATES
            .iter()
            .any(|(index, _)| *index == template.nv_index())
        {
            continue;
        }
        match tpm.nv_read_public(template.nv_index()) {
            Ok(_) => return Ok(Some(template)),
            Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::HANDLE) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// An ECC P-384 EK (high-range template H-3) whose certificate at NV
/// `0x01c00016` verified and certifies it.
#[derive(Clone, Debug)]
pub struct VerifiedP384Ek {
    /// The EK's SHA-384 Name.
    pub name: [u8; super::command::EK_P384_NAME_LEN],
    /// The EK's marshalled `TPMT_PUBLIC`.
    pub public_area: Vec<u8>,
    /// The verified certificate and its chain.
    pub certificate: x509::VerifiedCertificate,
}

/// Verifies the TPM's ECC P-384 EK: reads its certificate from NV
/// `0x01c00016`, verifies the chain against `trust`'s roots (intermediates
/// from NV `0x01c00100`+ too), re-derives the EK from the TCG template H-3
/// and checks that its key is the certified one. `None` when the TPM has no
/// certificate at that index. This proves the P-384 EK only; sessions are
/// salted by [`establish`] to the RSA 2048 or P-256 EK.
///
/// # Errors
/// [`TpmIdentityError::Chain`] (with the chain's text);
/// [`TpmIdentityError::EkKeyMismatch`]; TPM errors.
pub fn verify_ecc_p384<T: Transport>(
    tpm: &mut Tpm<T>,
    trust: &TpmTrust,
) -> Result<Option<VerifiedP384Ek>, EkError> {
    let Some(cert) = read_certificate(tpm, NV_EK_CERT_ECC_P384_HIGH)? else {
        return Ok(None);
    };
    let intermediates = read_chain(tpm)?;
    let verified =
        x509::verify_chain_at(&cert, &intermediates, &trust.roots, trust.at).map_err(|chain| {
            EkError {
                kind: TpmIdentityError::Chain(chain.kind()),
                chain: Some(chain),
            }
        })?;
    let ek = tpm.create_ek_p384()?;
    tpm.flush_or_defer(ek.handle);
    let same = match &verified.key {
        CertifiedKey::P384(key) => {
            use p384::elliptic_curve::sec1::ToEncodedPoint;
            let point = key.to_encoded_point(false);
            point.x().map(|px| px.as_slice()) == Some(&ek.x[..])
                && point.y().map(|py| py.as_slice()) == Some(&ek.y[..])
        }
        _ => false,
    };
    if !same {
        return Err(TpmIdentityError::EkKeyMismatch.into());
    }
    Ok(Some(VerifiedP384Ek {
        name: ek.name,
        public_area: ek.public_area.to_vec(),
        certificate: verified,
    }))
}

/// An endorsement key of a TCG default template whose certificate verified
/// against the roots and certifies exactly this key.
#[derive(Clone, Debug)]
pub struct VerifiedEk {
    /// The template the EK was re-derived from (and its certificate index).
    pub template: EkTemplate,
    /// The EK's Name: its nameAlg, then the hash of `public_area`.
    pub name: Vec<u8>,
    /// The EK's marshalled `TPMT_PUBLIC`, as the TPM returned it.
    pub public_area: Vec<u8>,
    /// The verified certificate and its chain.
    pub certificate: x509::VerifiedCertificate,
}

/// The outcome for one EK certificate the TPM holds.
#[derive(Clone, Debug)]
pub struct EkCheck {
    /// The template of the certificate's index.
    pub template: EkTemplate,
    /// The verified EK, or why it was refused.
    pub outcome: Result<VerifiedEk, EkError>,
}

/// The Name of a public area under `name_alg` (SHA-256, SHA-384, SHA-512).
fn name_of(name_alg: TpmAlgId, area: &[u8]) -> Option<Vec<u8>> {
    let digest = match name_alg {
        TpmAlgId::Sha256 => sha2::Sha256::digest(area).to_vec(),
        TpmAlgId::Sha384 => sha2::Sha384::digest(area).to_vec(),
        TpmAlgId::Sha512 => sha2::Sha512::digest(area).to_vec(),
        _ => return None,
    };
    let mut name = (name_alg as u16).to_be_bytes().to_vec();
    name.extend_from_slice(&digest);
    Some(name)
}

/// `0x04 || x || y`, each coordinate left-padded to `size` bytes.
fn sec1_point(x: &[u8], y: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut point = std::vec![0u8; 1 + 2 * size];
    *point.first_mut()? = 0x04;
    point
        .get_mut(1 + size.checked_sub(x.len())?..=size)?
        .copy_from_slice(x);
    point
        .get_mut(1 + size + size.checked_sub(y.len())?..)?
        .copy_from_slice(y);
    Some(point)
}

/// `true` when `certified` is the key of the TPM's `public` area: the same
/// RSA modulus with exponent 65537, or the same point on the same curve.
fn certifies(certified: &CertifiedKey, public: &TpmtPublic) -> bool {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    match (&public.unique, certified) {
        (TpmuPublicId::Rsa(modulus), CertifiedKey::Rsa { n, e }) => {
            let first = modulus
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(modulus.len());
            *e == 65_537 && modulus.get(first..) == Some(n.as_slice())
        }
        (TpmuPublicId::Ecc(point), CertifiedKey::P256(key)) => {
            sec1_point(&point.x, &point.y, 32).as_deref()
                == Some(key.to_encoded_point(false).as_bytes())
        }
        (TpmuPublicId::Ecc(point), CertifiedKey::P384(key)) => {
            use p384::elliptic_curve::sec1::ToEncodedPoint as _;
            sec1_point(&point.x, &point.y, 48).as_deref()
                == Some(key.to_encoded_point(false).as_bytes())
        }
        _ => false,
    }
}

/// Re-derives the EK of `template` under `TPM_RH_ENDORSEMENT`: the TPM's
/// answer must match the template and its Name the public area's; the key is
/// flushed before returning.
fn derive_ek<T: Transport>(
    tpm: &mut Tpm<T>,
    template: &TpmtPublic,
) -> Result<(Vec<u8>, Vec<u8>, TpmtPublic), TpmError> {
    let name_alg = template.name_alg;
    let (handle, name, area, public) = tpm.create_primary_checked(
        TpmRh::Endorsement,
        template,
        |handle, area, public, tpm_name| {
            let name = name_of(name_alg, area).ok_or(ResponseDefect::UnexpectedValue)?;
            if name != tpm_name {
                return Err(ResponseDefect::UnexpectedValue);
            }
            Ok((handle, name, area.to_vec(), public.clone()))
        },
    )?;
    tpm.flush_or_defer(handle);
    Ok((name, area, public))
}

/// Verifies the EK of `template`: reads its certificate from the template's
/// NV index, verifies the chain against `trust`'s roots (intermediates from
/// NV `0x01c00100`+ too), re-derives the EK from the TCG default template and
/// checks that the certificate certifies exactly that key. `None` when the
/// TPM has no certificate at that index. This proves the EK; sessions are
/// salted by [`establish`] to the L-1 RSA 2048 or L-2 P-256 EK only.
///
/// # Errors
/// [`TpmIdentityError::UnsupportedEkTemplate`] for a P-521 or SM2
/// certificate; [`TpmIdentityError::Chain`] (with the chain's text);
/// [`TpmIdentityError::EkKeyMismatch`]; TPM errors.
pub fn verify_ek<T: Transport>(
    tpm: &mut Tpm<T>,
    trust: &TpmTrust,
    template: EkTemplate,
) -> Result<Option<VerifiedEk>, EkError> {
    let Some(cert) = read_certificate(tpm, template.nv_index())? else {
        return Ok(None);
    };
    let intermediates = read_chain(tpm)?;
    verify_certificate(tpm, trust, template, &cert, &intermediates).map(Some)
}

fn verify_certificate<T: Transport>(
    tpm: &mut Tpm<T>,
    trust: &TpmTrust,
    template: EkTemplate,
    cert: &[u8],
    intermediates: &[Vec<u8>],
) -> Result<VerifiedEk, EkError> {
    let public_template = match template.public() {
        Some(public) if template.is_supported() => public,
        _ => return Err(TpmIdentityError::UnsupportedEkTemplate(template).into()),
    };
    let certificate =
        x509::verify_chain_at(cert, intermediates, &trust.roots, trust.at).map_err(|chain| {
            EkError {
                kind: TpmIdentityError::Chain(chain.kind()),
                chain: Some(chain),
            }
        })?;
    let (name, public_area, public) = derive_ek(tpm, &public_template)?;
    if !certifies(&certificate.key, &public) {
        return Err(TpmIdentityError::EkKeyMismatch.into());
    }
    Ok(VerifiedEk {
        template,
        name,
        public_area,
        certificate,
    })
}

/// Verifies every EK certificate the TPM holds at the indices of the TCG EK
/// Credential Profile ([`EkTemplate::ALL`], low range then high range), each
/// as [`verify_ek`] does. A TPM may hold several; each has its own outcome,
/// and one that fails does not hide the others.
///
/// # Errors
/// TPM errors while reading NV (a failure to re-derive one EK is that
/// certificate's outcome).
pub fn verify_endorsement_keys<T: Transport>(
    tpm: &mut Tpm<T>,
    trust: &TpmTrust,
) -> Result<Vec<EkCheck>, TpmError> {
    let mut certificates = Vec::new();
    for template in EkTemplate::ALL {
        if let Some(cert) = read_certificate(tpm, template.nv_index())? {
            certificates.push((template, cert));
        }
    }
    if certificates.is_empty() {
        return Ok(Vec::new());
    }
    let intermediates = read_chain(tpm)?;
    Ok(certificates
        .into_iter()
        .map(|(template, cert)| EkCheck {
            template,
            outcome: verify_certificate(tpm, trust, template, &cert, &intermediates),
        })
        .collect())
}

/// Re-derives the EK of an already established identity and checks it is
/// still the same key (after the transport was reopened, for example).
///
/// # Errors
/// [`TpmIdentityError::EkChanged`]; TPM errors.
pub fn recheck<T: Transport>(
    tpm: &mut Tpm<T>,
    identity: &TpmIdentity,
) -> Result<(), TpmIdentityError> {
    let ek = tpm.create_ek(identity.kind)?;
    tpm.flush_or_defer(ek.handle);
    if ek.name != identity.ek_name {
        return Err(TpmIdentityError::EkChanged);
    }
    if identity.verified {
        tpm.salt_sessions_to_ek(identity.kind, ek.name);
    } else {
        tpm.salt_sessions_to_unverified_srk();
    }
    Ok(())
}

/// A readable one-line description, e.g. for logs: EK kind, Name, verified.
#[must_use]
pub fn describe(identity: &TpmIdentity) -> String {
    std::format!(
        "{} EK {} ({})",
        match identity.kind {
            EkKind::Rsa2048 => "RSA 2048",
            EkKind::EccP256 => "ECC P-256",
        },
        identity.ek_name,
        if identity.verified {
            "verified"
        } else {
            "UNVERIFIED TPM, allowed explicitly"
        }
    )
}
