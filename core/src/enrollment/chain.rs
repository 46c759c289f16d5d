//! The X.509 half of enrollment (std): EK and AK certificate chains checked
//! against the verifier's trust roots, and the certified keys matched to the
//! TPM's public areas.

use std::vec::Vec;

use p256::elliptic_curve::sec1::ToEncodedPoint;

use super::{EnrollmentError, EnrollmentProof, EnrollmentRecord};
use crate::attest::wire::{self, sha256_name};
use crate::attest::{
    self, AttestError, EnrollmentMethod, Evidence, Expectations, PinnedAk, VerifiedFacts,
};
use crate::credential::EkPublicKey;
use crate::x509::{self, CertifiedKey, TrustRoots, VerifiedCertificate};

/// Whether the key an EK certificate certifies is the key of `ek`.
#[must_use]
pub fn ek_key_matches(certified: &CertifiedKey, ek: &EkPublicKey) -> bool {
    match (certified, ek) {
        (CertifiedKey::Rsa { n, e }, EkPublicKey::Rsa2048 { modulus, exponent }) => {
            let significant = modulus
                .iter()
                .position(|&b| b != 0)
                .map_or(&modulus[..0], |at| &modulus[at..]);
            n.as_slice() == significant && e == exponent
        }
        (CertifiedKey::P256(certified), EkPublicKey::P256(key)) => certified == key,
        _ => false,
    }
}

/// Whether the key an AK certificate certifies is the P-256 key of the AK
/// public area `ak_public`.
#[must_use]
pub fn ak_key_matches(certified: &CertifiedKey, ak_public: &[u8]) -> bool {
    let Ok(ak) = wire::parse_ak_public(ak_public) else {
        return false;
    };
    match certified {
        CertifiedKey::P256(key) => {
            key.to_encoded_point(false) == ak.as_affine().to_encoded_point(false)
        }
        _ => false,
    }
}

fn owned(certs: &[&[u8]]) -> Vec<Vec<u8>> {
    certs.iter().map(|c| c.to_vec()).collect()
}

/// The verifier's first step of credential activation: verifies the EK
/// certificate chain to `roots`, checks that it certifies the key of
/// `ek_public` (the EK `TPMT_PUBLIC` the wallet reports), and wraps a fresh
/// secret to that EK for the AK of `ak_public`. Send
/// [`ActivationChallenge::blob`](super::ActivationChallenge::blob) to the
/// wallet; keep the challenge for [`finish`](super::ActivationChallenge::finish).
///
/// # Errors
/// [`EnrollmentError::EkChain`], [`EnrollmentError::EkPublic`],
/// [`EnrollmentError::EkKeyMismatch`] or [`EnrollmentError::AkPublic`].
pub fn begin_activation(
    ek_certificate: &[u8],
    ek_intermediates: &[&[u8]],
    ek_public: &[u8],
    ak_public: &[u8],
    roots: &TrustRoots,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<(super::ActivationChallenge, VerifiedCertificate), EnrollmentError> {
    let verified = x509::verify_chain(ek_certificate, &owned(ek_intermediates), roots)
        .map_err(|e| EnrollmentError::EkChain(e.kind()))?;
    let ek = EkPublicKey::from_public_area(ek_public).map_err(EnrollmentError::EkPublic)?;
    if !ek_key_matches(&verified.key, &ek) {
        return Err(EnrollmentError::EkKeyMismatch);
    }
    let challenge = super::ActivationChallenge::new(ek_public, ak_public, rng)?;
    Ok((challenge, verified))
}

/// Verifies an AK certificate chain to `roots` and that it certifies the AK
/// of `ak_public`; the AK is then pinned.
///
/// # Errors
/// [`EnrollmentError::AkPublic`], [`EnrollmentError::AkChain`] or
/// [`EnrollmentError::AkCertificateKeyMismatch`].
pub fn pin_ak_certificate(
    ak_public: &[u8],
    certificate: &[u8],
    intermediates: &[&[u8]],
    roots: &TrustRoots,
) -> Result<PinnedAk, EnrollmentError> {
    wire::parse_ak_public(ak_public).map_err(EnrollmentError::AkPublic)?;
    let verified = x509::verify_chain(certificate, &owned(intermediates), roots)
        .map_err(|e| EnrollmentError::AkChain(e.kind()))?;
    if !ak_key_matches(&verified.key, ak_public) {
        return Err(EnrollmentError::AkCertificateKeyMismatch);
    }
    Ok(PinnedAk::new(
        sha256_name(ak_public),
        EnrollmentMethod::AkCertificate,
        Some(verified.root_sha256),
    ))
}

/// An enrollment record that verified against trust roots: the pinned AK
/// and the EK certificate (when the record has one).
#[derive(Clone, Debug)]
pub struct EnrollmentTrust {
    /// The trust anchor for [`attest::verify`](crate::attest::verify).
    pub pinned_ak: PinnedAk,
    /// The EK certificate and its chain, when the record carries one.
    pub ek_certificate: Option<VerifiedCertificate>,
}

impl EnrollmentTrust {
    /// Parses `record` and verifies it against `roots`: the structural checks
    /// of [`EnrollmentRecord::check`], then the EK certificate chain and that
    /// it certifies the record's EK public area (required for activation);
    /// for an AK certificate its chain and key.
    ///
    /// # Errors
    /// The [`EnrollmentError`] of the first check that fails.
    pub fn verify(record: &[u8], roots: &TrustRoots) -> Result<Self, EnrollmentError> {
        let record = EnrollmentRecord::parse(record)?;
        Self::verify_record(&record, roots)
    }

    /// As [`verify`](Self::verify), for a parsed record.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_record(
        record: &EnrollmentRecord<'_>,
        roots: &TrustRoots,
    ) -> Result<Self, EnrollmentError> {
        record.check()?;
        let ek_certificate = if record.ek_certificate.is_empty() {
            None
        } else {
            let verified = x509::verify_chain(
                record.ek_certificate,
                &owned(&record.ek_intermediates),
                roots,
            )
            .map_err(|e| EnrollmentError::EkChain(e.kind()))?;
            if !record.ek_public.is_empty() {
                let ek = EkPublicKey::from_public_area(record.ek_public)
                    .map_err(EnrollmentError::EkPublic)?;
                if !ek_key_matches(&verified.key, &ek) {
                    return Err(EnrollmentError::EkKeyMismatch);
                }
            }
            Some(verified)
        };
        let pinned_ak = match &record.proof {
            EnrollmentProof::Activation { .. } => {
                let root = ek_certificate
                    .as_ref()
                    .map(|c| c.root_sha256)
                    .ok_or(EnrollmentError::EkCertificateMissing)?;
                PinnedAk::new(
                    record.ak_name,
                    EnrollmentMethod::CredentialActivation,
                    Some(root),
                )
            }
            EnrollmentProof::AkCertificate {
                certificate,
                intermediates,
            } => pin_ak_certificate(record.ak_public, certificate, intermediates, roots)?,
        };
        Ok(Self {
            pinned_ak,
            ek_certificate,
        })
    }
}

/// The trust a verifier brings to [`verify_evidence`]: roots it was given and
/// what binds the evidence's AK to them.
#[derive(Clone, Copy, Debug)]
pub enum TrustAnchor<'a> {
    /// Trust roots and an enrollment record (stored by the verifier at
    /// enrollment) whose chains verify to them.
    Enrollment {
        /// The EK (and AK certificate) roots.
        roots: &'a TrustRoots,
        /// The enrollment record's encoding.
        record: &'a [u8],
    },
    /// Trust roots and an AK certificate (with intermediates) that chains to
    /// them and certifies the evidence's AK.
    AkCertificate {
        /// The AK certificate roots.
        roots: &'a TrustRoots,
        /// The AK certificate (DER).
        certificate: &'a [u8],
        /// Its intermediates (DER), leaf side first.
        intermediates: &'a [&'a [u8]],
    },
}

/// Verifies `evidence` for `nonce` against an explicit trust anchor: the
/// anchor is checked first (enrollment record or AK certificate chains to
/// the roots), then [`attest::verify`] with the AK it pins.
///
/// # Errors
/// [`AttestError::NoTrustAnchor`] without an anchor; the
/// [`EnrollmentError`] of the anchor; the [`AttestError`] of the evidence.
pub fn verify_evidence(
    evidence: &Evidence,
    nonce: &[u8],
    anchor: Option<TrustAnchor<'_>>,
    expectations: &Expectations<'_>,
) -> crate::Result<VerifiedFacts> {
    let pinned = match anchor {
        None => return Err(AttestError::NoTrustAnchor.into()),
        Some(TrustAnchor::Enrollment { roots, record }) => {
            EnrollmentTrust::verify(record, roots)?.pinned_ak
        }
        Some(TrustAnchor::AkCertificate {
            roots,
            certificate,
            intermediates,
        }) => pin_ak_certificate(&evidence.ak_public, certificate, intermediates, roots)?,
    };
    Ok(attest::verify(evidence, nonce, &pinned, expectations)?)
}
