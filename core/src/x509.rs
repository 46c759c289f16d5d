//! X.509 trust roots and certificate chain verification (std only).
//!
//! A TPM proves what it is through its endorsement key (EK) certificate, which
//! chains to its manufacturer's CA (or, for a cloud vTPM, to the cloud's EK
//! CA). This module holds the set of roots a caller trusts ([`TrustRoots`])
//! and checks a certificate against them ([`verify_chain`]): the path from the
//! leaf through intermediates to a root, every signature on it, that each
//! issuer is a CA, and each certificate's validity window.
//!
//! Certificates are read by RustCrypto's `x509-cert`/`der`/`spki`; signatures
//! are checked by `rsa` (PKCS#1 v1.5 with SHA-256/384), `p256` and `p384`
//! (ECDSA with SHA-256/384). Nothing here parses DER by hand.
//!
//! A roots source holds self-signed certificates, which are trust anchors, and
//! may also hold intermediates (certificates not signed by themselves), which
//! serve only to build a path to an anchor: they are never trusted on their
//! own.

use std::borrow::ToOwned;
use std::fmt;
use std::format;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::SystemTime;
use std::vec::Vec;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Reader, SliceReader};
use sha2::{Digest, Sha256, Sha384};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::Certificate;

/// The environment variable naming a PEM file or a folder of PEM/DER
/// certificates to trust as TPM EK roots.
pub const TPM_ROOTS_ENV: &str = "FLARE_WALLET_TPM_ROOTS";

/// How many issuers a path may have above the leaf before the search stops.
const MAX_PATH_DEPTH: usize = 8;

/// The largest certificate file read from a roots source (a bundle of every
/// TPM vendor's roots is a few hundred kilobytes).
const MAX_ROOTS_FILE_LEN: u64 = 16 * 1024 * 1024;

const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-RSAES-OAEP: some TPM vendors label the EK's RSA key with it.
const OID_RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
const OID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_CURVE_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_CURVE_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// The smallest RSA modulus accepted in a chain, in bits.
const MIN_RSA_BITS: usize = 2048;

/// Why a certificate chain or a roots source was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// No trust roots are configured: nothing can be verified.
    NoRoots,
    /// A roots file or folder could not be read.
    RootsUnreadable {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A certificate is not valid DER X.509.
    Unparseable {
        /// Which certificate: "leaf", "intermediate 2", a roots file...
        which: String,
        /// The decoder's reason.
        reason: String,
    },
    /// No certificate among the intermediates and roots issued this one.
    NoIssuer {
        /// The certificate whose issuer was not found.
        subject: String,
        /// The issuer name it names.
        issuer: String,
    },
    /// The issuer's key did not sign this certificate.
    BadSignature {
        /// The certificate whose signature failed.
        subject: String,
        /// The issuer whose key was tried.
        issuer: String,
    },
    /// The certificate's notAfter is before the verification time.
    Expired {
        /// The certificate.
        subject: String,
        /// Its notAfter (RFC 3339-like text).
        not_after: String,
    },
    /// The certificate's notBefore is after the verification time.
    NotYetValid {
        /// The certificate.
        subject: String,
        /// Its notBefore.
        not_before: String,
    },
    /// An issuer on the path is not a CA (no basicConstraints CA, no
    /// keyCertSign, or its path length constraint is exceeded).
    IssuerNotCa {
        /// The issuer.
        subject: String,
        /// What it lacks.
        reason: &'static str,
    },
    /// A signature or key algorithm this verifier does not accept.
    UnsupportedAlgorithm {
        /// The certificate carrying it.
        subject: String,
        /// The algorithm (OID or description).
        algorithm: String,
    },
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRoots => write!(
                f,
                "no TPM trust roots configured: pass roots or set ${TPM_ROOTS_ENV} \
                 to a PEM file or a folder of certificates"
            ),
            Self::RootsUnreadable { path, reason } => {
                write!(f, "TPM trust roots {} unreadable: {reason}", path.display())
            }
            Self::Unparseable { which, reason } => {
                write!(f, "certificate ({which}) is not valid X.509: {reason}")
            }
            Self::NoIssuer { subject, issuer } => write!(
                f,
                "certificate '{subject}': its issuer '{issuer}' is not among the \
                 intermediates or trusted roots"
            ),
            Self::BadSignature { subject, issuer } => write!(
                f,
                "certificate '{subject}': signature does not verify with the key of '{issuer}'"
            ),
            Self::Expired { subject, not_after } => {
                write!(f, "certificate '{subject}' expired (notAfter {not_after})")
            }
            Self::NotYetValid {
                subject,
                not_before,
            } => write!(
                f,
                "certificate '{subject}' is not yet valid (notBefore {not_before})"
            ),
            Self::IssuerNotCa { subject, reason } => {
                write!(f, "issuer '{subject}' is not a CA: {reason}")
            }
            Self::UnsupportedAlgorithm { subject, algorithm } => write!(
                f,
                "certificate '{subject}': unsupported algorithm {algorithm} (accepted: \
                 RSA PKCS#1 v1.5 and ECDSA P-256/P-384 with SHA-256/384)"
            ),
        }
    }
}

impl std::error::Error for ChainError {}

/// [`ChainError`] without its text: what the crate's `Copy` error carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainErrorKind {
    /// See [`ChainError::NoRoots`].
    NoRoots,
    /// See [`ChainError::RootsUnreadable`].
    RootsUnreadable,
    /// See [`ChainError::Unparseable`].
    Unparseable,
    /// See [`ChainError::NoIssuer`].
    NoIssuer,
    /// See [`ChainError::BadSignature`].
    BadSignature,
    /// See [`ChainError::Expired`].
    Expired,
    /// See [`ChainError::NotYetValid`].
    NotYetValid,
    /// See [`ChainError::IssuerNotCa`].
    IssuerNotCa,
    /// See [`ChainError::UnsupportedAlgorithm`].
    UnsupportedAlgorithm,
}

impl fmt::Display for ChainErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoRoots => "no TPM trust roots configured",
            Self::RootsUnreadable => "TPM trust roots unreadable",
            Self::Unparseable => "certificate is not valid X.509",
            Self::NoIssuer => "certificate's issuer is not among the trusted roots",
            Self::BadSignature => "certificate signature does not verify",
            Self::Expired => "certificate expired",
            Self::NotYetValid => "certificate not yet valid",
            Self::IssuerNotCa => "certificate issuer is not a CA",
            Self::UnsupportedAlgorithm => "certificate uses an unsupported algorithm",
        })
    }
}

impl ChainError {
    /// The variant without its text.
    #[must_use]
    pub fn kind(&self) -> ChainErrorKind {
        match self {
            Self::NoRoots => ChainErrorKind::NoRoots,
            Self::RootsUnreadable { .. } => ChainErrorKind::RootsUnreadable,
            Self::Unparseable { .. } => ChainErrorKind::Unparseable,
            Self::NoIssuer { .. } => ChainErrorKind::NoIssuer,
            Self::BadSignature { .. } => ChainErrorKind::BadSignature,
            Self::Expired { .. } => ChainErrorKind::Expired,
            Self::NotYetValid { .. } => ChainErrorKind::NotYetValid,
            Self::IssuerNotCa { .. } => ChainErrorKind::IssuerNotCa,
            Self::UnsupportedAlgorithm { .. } => ChainErrorKind::UnsupportedAlgorithm,
        }
    }
}

/// A parsed certificate with the exact bytes it was read from.
#[derive(Clone)]
struct ParsedCert {
    der: Vec<u8>,
    /// The TBSCertificate exactly as encoded in `der` (what the issuer signed).
    tbs: Vec<u8>,
    cert: Certificate,
}

impl ParsedCert {
    fn parse(der: &[u8], which: &dyn Fn() -> String) -> Result<Self, ChainError> {
        let unparseable = |e: der::Error| ChainError::Unparseable {
            which: which(),
            reason: e.to_string(),
        };
        let cert = Certificate::from_der(der).map_err(unparseable)?;
        // The signed bytes: the first element of the outer SEQUENCE, as read.
        let mut reader = SliceReader::new(der).map_err(unparseable)?;
        let tbs = reader
            .sequence(|inner| {
                let tbs = inner.tlv_bytes()?.to_vec();
                // The signature algorithm and value follow; Certificate::from_der
                // above already checked them.
                inner.read_slice(inner.remaining_len())?;
                Ok(tbs)
            })
            .map_err(unparseable)?;
        Ok(Self {
            der: der.to_vec(),
            tbs,
            cert,
        })
    }

    fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    fn is_self_issued(&self) -> bool {
        self.cert.tbs_certificate.subject == self.cert.tbs_certificate.issuer
    }

    fn extension<T: for<'a> Decode<'a>>(&self, oid: ObjectIdentifier) -> Option<Result<T, ()>> {
        let exts = self.cert.tbs_certificate.extensions.as_ref()?;
        let ext = exts.iter().find(|e| e.extn_id == oid)?;
        Some(T::from_der(ext.extn_value.as_bytes()).map_err(|_| ()))
    }
}

/// The certificates a verifier trusts as roots, plus intermediates found in the
/// same source.
#[derive(Clone, Default)]
pub struct TrustRoots {
    anchors: Vec<ParsedCert>,
    intermediates: Vec<ParsedCert>,
}

impl fmt::Debug for TrustRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustRoots")
            .field(
                "anchors",
                &self
                    .anchors
                    .iter()
                    .map(ParsedCert::subject)
                    .collect::<Vec<_>>(),
            )
            .field("intermediates", &self.intermediates.len())
            .finish()
    }
}

impl TrustRoots {
    /// No roots: every verification against it fails with [`ChainError::NoRoots`].
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Roots from a PEM bundle (any number of `CERTIFICATE` blocks).
    ///
    /// # Errors
    /// [`ChainError::Unparseable`] if a block is not a certificate.
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Self, ChainError> {
        let mut roots = Self::empty();
        roots.add_pem(pem, "PEM bundle")?;
        Ok(roots)
    }

    /// Roots from a PEM file (one or more certificates), or from a folder whose
    /// `.pem`, `.crt`, `.cer` and `.der` files each hold PEM or DER
    /// certificates (other files are skipped).
    ///
    /// # Errors
    /// [`ChainError::RootsUnreadable`] or [`ChainError::Unparseable`], naming the file.
    pub fn from_path(path: &Path) -> Result<Self, ChainError> {
        let unreadable = |p: &Path, e: std::io::Error| ChainError::RootsUnreadable {
            path: p.to_path_buf(),
            reason: e.to_string(),
        };
        let mut roots = Self::empty();
        let meta = std::fs::metadata(path).map_err(|e| unreadable(path, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|e| unreadable(path, e))? {
                let entry = entry.map_err(|e| unreadable(path, e))?;
                let file = entry.path();
                let wanted = file.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    matches!(
                        x.to_ascii_lowercase().as_str(),
                        "pem" | "crt" | "cer" | "der"
                    )
                });
                if wanted && file.is_file() {
                    files.push(file);
                }
            }
            // A stable order makes errors and path choice reproducible.
            files.sort();
            for file in files {
                roots.add_file(&file)?;
            }
        } else {
            roots.add_file(path)?;
        }
        Ok(roots)
    }

    /// Roots from `$FLARE_WALLET_TPM_ROOTS` (a file or a folder, as
    /// [`TrustRoots::from_path`]); empty when the variable is unset or empty.
    ///
    /// # Errors
    /// As [`TrustRoots::from_path`].
    pub fn from_env() -> Result<Self, ChainError> {
        match std::env::var_os(TPM_ROOTS_ENV) {
            Some(p) if !p.is_empty() => Self::from_path(Path::new(&p)),
            _ => Ok(Self::empty()),
        }
    }

    /// Adds every certificate of another set.
    pub fn extend(&mut self, other: &TrustRoots) {
        self.anchors.extend(other.anchors.iter().cloned());
        self.intermediates
            .extend(other.intermediates.iter().cloned());
    }

    /// Adds one DER certificate: an anchor if self-issued, an intermediate otherwise.
    ///
    /// # Errors
    /// [`ChainError::Unparseable`].
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), ChainError> {
        let parsed = ParsedCert::parse(der, &|| "trusted root".to_owned())?;
        self.push(parsed);
        Ok(())
    }

    /// True when no trust anchor is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The number of trust anchors (self-signed roots).
    #[must_use]
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// The number of intermediates the source also held.
    #[must_use]
    pub fn intermediates_len(&self) -> usize {
        self.intermediates.len()
    }

    /// The anchors' subjects, for messages.
    #[must_use]
    pub fn anchor_subjects(&self) -> Vec<String> {
        self.anchors.iter().map(ParsedCert::subject).collect()
    }

    fn push(&mut self, parsed: ParsedCert) {
        let set = if parsed.is_self_issued() {
            &mut self.anchors
        } else {
            &mut self.intermediates
        };
        if !set.iter().any(|c| c.der == parsed.der) {
            set.push(parsed);
        }
    }

    fn add_file(&mut self, file: &Path) -> Result<(), ChainError> {
        let unreadable = |e: std::io::Error| ChainError::RootsUnreadable {
            path: file.to_path_buf(),
            reason: e.to_string(),
        };
        let len = std::fs::metadata(file).map_err(unreadable)?.len();
        if len > MAX_ROOTS_FILE_LEN {
            return Err(ChainError::RootsUnreadable {
                path: file.to_path_buf(),
                reason: format!("{len} bytes, more than the {MAX_ROOTS_FILE_LEN} accepted"),
            });
        }
        let bytes = std::fs::read(file).map_err(unreadable)?;
        let name = file.display().to_string();
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            self.add_pem(&bytes, &name)
        } else {
            let parsed = ParsedCert::parse(&bytes, &|| name.clone())?;
            self.push(parsed);
            Ok(())
        }
    }

    fn add_pem(&mut self, pem: &[u8], source: &str) -> Result<(), ChainError> {
        let certs = Certificate::load_pem_chain(pem).map_err(|e| ChainError::Unparseable {
            which: source.to_owned(),
            reason: e.to_string(),
        })?;
        for (i, cert) in certs.iter().enumerate() {
            let which = || format!("{source}, certificate {}", i + 1);
            let der = cert.to_der().map_err(|e| ChainError::Unparseable {
                which: which(),
                reason: e.to_string(),
            })?;
            let parsed = ParsedCert::parse(&der, &which)?;
            self.push(parsed);
        }
        Ok(())
    }
}

/// The DER of every certificate of a PEM bundle, in order: intermediates a
/// caller passes as text (an AK certificate's, for instance).
///
/// # Errors
/// [`ChainError::Unparseable`] if a block is not a certificate.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, ChainError> {
    let certs = Certificate::load_pem_chain(pem).map_err(|e| ChainError::Unparseable {
        which: "PEM bundle".to_owned(),
        reason: e.to_string(),
    })?;
    certs
        .iter()
        .enumerate()
        .map(|(i, cert)| {
            cert.to_der().map_err(|e| ChainError::Unparseable {
                which: format!("PEM bundle, certificate {}", i + 1),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// The public key a verified certificate certifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertifiedKey {
    /// An RSA key.
    Rsa {
        /// The modulus, big-endian, without leading zero bytes.
        n: Vec<u8>,
        /// The public exponent.
        e: u32,
    },
    /// A NIST P-256 key.
    P256(p256::PublicKey),
    /// A NIST P-384 key.
    P384(p384::PublicKey),
}

/// A leaf certificate whose chain verified, and what it certifies.
#[derive(Clone, Debug)]
pub struct VerifiedCertificate {
    /// The leaf's public key.
    pub key: CertifiedKey,
    /// The leaf's subject (RFC 4514 text; often empty for EK certificates).
    pub subject: String,
    /// The leaf's issuer.
    pub issuer: String,
    /// The leaf's DER.
    pub leaf_der: Vec<u8>,
    /// The certificates above the leaf, in order, ending with the trust anchor.
    pub chain_der: Vec<Vec<u8>>,
    /// The trust anchor's subject.
    pub root_subject: String,
    /// SHA-256 of the trust anchor's DER.
    pub root_sha256: [u8; 32],
}

/// The public key `der` certifies, read without verifying any chain: for
/// comparing a certificate with a key before (or apart from) the chain
/// check, never as a trust decision.
///
/// # Errors
/// [`ChainError::Unparseable`] or [`ChainError::UnsupportedAlgorithm`].
pub fn certificate_key(der: &[u8]) -> Result<CertifiedKey, ChainError> {
    certified_key(&ParsedCert::parse(der, &|| "certificate".to_owned())?)
}

/// Verifies `leaf_der` against `roots` at the current time.
///
/// See [`verify_chain_at`].
///
/// # Errors
/// The [`ChainError`] of the most promising path that failed.
pub fn verify_chain(
    leaf_der: &[u8],
    intermediates_der: &[Vec<u8>],
    roots: &TrustRoots,
) -> Result<VerifiedCertificate, ChainError> {
    verify_chain_at(leaf_der, intermediates_der, roots, None)
}

/// Verifies `leaf_der` against `roots` at time `at` (`None`: now).
///
/// Builds a path leaf → intermediates (the given ones and those in the roots
/// source) → a self-signed trust anchor, trying every issuer whose subject
/// matches; along it checks each signature, that each issuer is a CA
/// (basicConstraints, keyUsage keyCertSign when present, pathLenConstraint)
/// and every validity window, the anchor's included.
///
/// # Errors
/// [`ChainError::NoRoots`] when `roots` is empty; otherwise the error of the
/// path that got furthest.
pub fn verify_chain_at(
    leaf_der: &[u8],
    intermediates_der: &[Vec<u8>],
    roots: &TrustRoots,
    at: Option<SystemTime>,
) -> Result<VerifiedCertificate, ChainError> {
    if roots.is_empty() {
        return Err(ChainError::NoRoots);
    }
    let at = at.unwrap_or_else(SystemTime::now);
    let leaf = ParsedCert::parse(leaf_der, &|| "leaf".to_owned())?;
    let mut intermediates = Vec::with_capacity(intermediates_der.len() + roots.intermediates.len());
    for (i, der) in intermediates_der.iter().enumerate() {
        intermediates.push(ParsedCert::parse(der, &|| {
            format!("intermediate {}", i + 1)
        })?);
    }
    intermediates.extend(roots.intermediates.iter().cloned());

    let key = certified_key(&leaf)?;
    check_validity(&leaf, at)?;

    let search = PathSearch {
        anchors: &roots.anchors,
        intermediates: &intermediates,
        at,
    };
    let mut path = Vec::new();
    search.extend(&leaf, 0, &mut path)?;
    let anchor_der = path
        .last()
        .map(|c: &&ParsedCert| c.der.clone())
        .unwrap_or_default();
    let root_subject = path.last().map(|c| c.subject()).unwrap_or_default();
    Ok(VerifiedCertificate {
        key,
        subject: leaf.subject(),
        issuer: leaf.issuer(),
        leaf_der: leaf.der.clone(),
        chain_der: path.iter().map(|c| c.der.clone()).collect(),
        root_subject,
        root_sha256: Sha256::digest(&anchor_der).into(),
    })
}

struct PathSearch<'a> {
    anchors: &'a [ParsedCert],
    intermediates: &'a [ParsedCert],
    at: SystemTime,
}

impl<'a> PathSearch<'a> {
    /// Extends `path` (issuers above `child`) to a trust anchor. `below` counts
    /// the non-self-issued intermediates between `child` and the leaf, for
    /// pathLenConstraint.
    fn extend(
        &self,
        child: &ParsedCert,
        below: usize,
        path: &mut Vec<&'a ParsedCert>,
    ) -> Result<(), ChainError> {
        let name = &child.cert.tbs_certificate.issuer;
        let mut best: Option<ChainError> = None;
        // Anchors first: the shortest path wins.
        for anchor in self
            .anchors
            .iter()
            .filter(|a| &a.cert.tbs_certificate.subject == name)
        {
            match self.check_issued_by(child, anchor, below) {
                Ok(()) => {
                    path.push(anchor);
                    return Ok(());
                }
                Err(e) => best = Some(e),
            }
        }
        if path.len() + 1 < MAX_PATH_DEPTH {
            for issuer in self
                .intermediates
                .iter()
                .filter(|c| &c.cert.tbs_certificate.subject == name)
            {
                // No loops: a certificate appears once on a path.
                if path.iter().any(|p| p.der == issuer.der) || issuer.der == child.der {
                    continue;
                }
                if let Err(e) = self.check_issued_by(child, issuer, below) {
                    best = Some(e);
                    continue;
                }
                path.push(issuer);
                let next_below = below + usize::from(!issuer.is_self_issued());
                match self.extend(issuer, next_below, path) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        path.pop();
                        // An error further up the path says more than "no issuer here".
                        best = Some(e);
                    }
                }
            }
        }
        Err(best.unwrap_or_else(|| ChainError::NoIssuer {
            subject: child.subject(),
            issuer: child.issuer(),
        }))
    }

    fn check_issued_by(
        &self,
        child: &ParsedCert,
        issuer: &ParsedCert,
        below: usize,
    ) -> Result<(), ChainError> {
        check_signature(child, issuer)?;
        check_ca(issuer, below)?;
        check_validity(issuer, self.at)
    }
}

fn check_ca(issuer: &ParsedCert, below: usize) -> Result<(), ChainError> {
    let not_ca = |reason| ChainError::IssuerNotCa {
        subject: issuer.subject(),
        reason,
    };
    match issuer.extension::<BasicConstraints>(OID_BASIC_CONSTRAINTS) {
        None => return Err(not_ca("no basicConstraints extension")),
        Some(Err(())) => return Err(not_ca("malformed basicConstraints extension")),
        Some(Ok(bc)) if !bc.ca => return Err(not_ca("basicConstraints says cA is false")),
        Some(Ok(bc)) => {
            if let Some(limit) = bc.path_len_constraint {
                if below > usize::from(limit) {
                    return Err(not_ca("its pathLenConstraint is exceeded"));
                }
            }
        }
    }
    match issuer.extension::<KeyUsage>(OID_KEY_USAGE) {
        None => Ok(()),
        Some(Err(())) => Err(not_ca("malformed keyUsage extension")),
        Some(Ok(ku)) if !ku.key_cert_sign() => Err(not_ca("keyUsage lacks keyCertSign")),
        Some(Ok(_)) => Ok(()),
    }
}

fn check_validity(cert: &ParsedCert, at: SystemTime) -> Result<(), ChainError> {
    let validity = &cert.cert.tbs_certificate.validity;
    if at < validity.not_before.to_system_time() {
        return Err(ChainError::NotYetValid {
            subject: cert.subject(),
            not_before: validity.not_before.to_string(),
        });
    }
    if at > validity.not_after.to_system_time() {
        return Err(ChainError::Expired {
            subject: cert.subject(),
            not_after: validity.not_after.to_string(),
        });
    }
    Ok(())
}

/// The key the leaf certifies, refusing algorithms and sizes we do not accept.
fn certified_key(cert: &ParsedCert) -> Result<CertifiedKey, ChainError> {
    let spki = &cert.cert.tbs_certificate.subject_public_key_info;
    let unsupported = |algorithm: String| ChainError::UnsupportedAlgorithm {
        subject: cert.subject(),
        algorithm,
    };
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| unsupported("public key with unused bits".to_owned()))?;
    let oid = spki.algorithm.oid;
    if oid == OID_RSA_ENCRYPTION || oid == OID_RSAES_OAEP {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(key_bytes)
            .map_err(|e| unsupported(format!("RSA public key ({e})")))?;
        if key.size() * 8 < MIN_RSA_BITS {
            return Err(unsupported(format!("RSA {} bits", key.size() * 8)));
        }
        let e_bytes = key.e().to_bytes_be();
        if e_bytes.len() > 4 {
            return Err(unsupported(
                "RSA public exponent wider than 32 bits".to_owned(),
            ));
        }
        let e = e_bytes
            .iter()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        return Ok(CertifiedKey::Rsa {
            n: key.n().to_bytes_be(),
            e,
        });
    }
    if oid == OID_EC_PUBLIC_KEY {
        let curve: Option<ObjectIdentifier> = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as().ok());
        return match curve {
            Some(c) if c == OID_CURVE_P256 => p256::PublicKey::from_sec1_bytes(key_bytes)
                .map(CertifiedKey::P256)
                .map_err(|_| unsupported("P-256 point not on the curve".to_owned())),
            Some(c) if c == OID_CURVE_P384 => p384::PublicKey::from_sec1_bytes(key_bytes)
                .map(CertifiedKey::P384)
                .map_err(|_| unsupported("P-384 point not on the curve".to_owned())),
            Some(c) => Err(unsupported(format!("elliptic curve {c}"))),
            None => Err(unsupported(
                "elliptic curve without a named curve".to_owned(),
            )),
        };
    }
    Err(unsupported(format!("public key algorithm {oid}")))
}

/// Checks that `issuer`'s key signed `child`.
fn check_signature(child: &ParsedCert, issuer: &ParsedCert) -> Result<(), ChainError> {
    let sig_alg = &child.cert.signature_algorithm;
    let unsupported = |algorithm: String| ChainError::UnsupportedAlgorithm {
        subject: child.subject(),
        algorithm,
    };
    let bad = || ChainError::BadSignature {
        subject: child.subject(),
        issuer: issuer.subject(),
    };
    // The outer algorithm must equal the one inside what was signed.
    if child.cert.tbs_certificate.signature != *sig_alg {
        return Err(bad());
    }
    let signature = child
        .cert
        .signature
        .as_bytes()
        .ok_or_else(|| unsupported("signature with unused bits".to_owned()))?;
    let issuer_key = certified_key(issuer).map_err(|e| match e {
        ChainError::UnsupportedAlgorithm { algorithm, .. } => ChainError::UnsupportedAlgorithm {
            subject: issuer.subject(),
            algorithm,
        },
        other => other,
    })?;
    let oid = sig_alg.oid;
    if oid == OID_SHA256_WITH_RSA || oid == OID_SHA384_WITH_RSA {
        let CertifiedKey::Rsa { n, e } = issuer_key else {
            return Err(bad());
        };
        let key = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(&n), rsa::BigUint::from(e))
            .map_err(|_| bad())?;
        let ok = if oid == OID_SHA256_WITH_RSA {
            key.verify(
                rsa::Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&child.tbs),
                signature,
            )
        } else {
            key.verify(
                rsa::Pkcs1v15Sign::new::<Sha384>(),
                &Sha384::digest(&child.tbs),
                signature,
            )
        };
        return ok.map_err(|_| bad());
    }
    if oid == OID_ECDSA_SHA256 || oid == OID_ECDSA_SHA384 {
        let digest: Vec<u8> = if oid == OID_ECDSA_SHA256 {
            Sha256::digest(&child.tbs).to_vec()
        } else {
            Sha384::digest(&child.tbs).to_vec()
        };
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        return match issuer_key {
            CertifiedKey::P256(key) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
                p256::ecdsa::VerifyingKey::from(key)
                    .verify_prehash(&digest, &sig)
                    .map_err(|_| bad())
            }
            CertifiedKey::P384(key) => {
                let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| bad())?;
                p384::ecdsa::VerifyingKey::from(key)
                    .verify_prehash(&digest, &sig)
                    .map_err(|_| bad())
            }
            CertifiedKey::Rsa { .. } => Err(bad()),
        };
    }
    Err(unsupported(format!("signature algorithm {oid}")))
}

#[cfg(test)]
mod tests;
