//! Enrollment: binding an attestation key (AK) to a TPM whose endorsement key
//! (EK) a verifier trusts, and the record the verifier pins afterwards.
//!
//! Two ways to bind the AK, both producing an [`EnrollmentRecord`]:
//!
//! - **Credential activation.** The verifier checks the EK certificate chain,
//!   then wraps a fresh secret to that EK and the AK's Name with
//!   [`make_credential`](crate::credential::make_credential)
//!   ([`ActivationChallenge::new`]). Only the TPM that holds the EK's private
//!   key, with an object of that Name loaded, recovers it. The wallet returns
//!   the secret together with an AK quote over the
//!   [`activation_digest`], and the verifier compares the secret in constant
//!   time ([`ActivationChallenge::finish`]) before it stores the record.
//! - **An AK certificate from the platform.** GCE Shielded VM vTPMs publish an
//!   AK template and an AK certificate in NV; the record carries that
//!   certificate and its chain, whose key must be the AK's.
//!
//! The record is versioned and strictly encoded (`FLWENROL`, version 1).
//! [`EnrollmentRecord::parse`] never panics and borrows from its input;
//! [`EnrollmentRecord::check`] verifies everything that needs no X.509 (AK
//! Name against its public area, AK attributes, EK public area, the
//! activation quote), and with `std` the chain checks against trust roots
//! turn a record into a [`PinnedAk`], the trust anchor
//! [`attest::verify`](crate::attest::verify) requires.
//!
//! What a record proves to a third party is limited: the activation itself
//! happened between the verifier and the TPM, and the record says it did. A
//! record is as trustworthy as the verifier that made it and the storage that
//! keeps it; its chain and key checks are repeated at every use.
//!
//! Everything here except the chain checks is `no_std` and allocation free.

use core::fmt;

use heapless::Vec;
use p256::ecdsa::signature::Verifier;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::attest::wire::{self, sha256_name, SHA256_NAME_LEN};
use crate::attest::{
    AkSignature, AttestError, EnrollmentMethod, PinnedAk, MAX_AK_PUBLIC_LEN, MAX_ATTEST_LEN,
};
#[cfg(feature = "std")]
use crate::x509::ChainErrorKind;

#[cfg(feature = "std")]
mod chain;
#[cfg(feature = "std")]
pub use chain::{
    ak_key_matches, begin_activation, ek_key_matches, pin_ak_certificate, verify_evidence,
    EnrollmentTrust, TrustAnchor,
};

use crate::credential::{
    self, CredentialBlob, CredentialError, CredentialSecret, EkPublicKey, CREDENTIAL_LEN,
};

/// The first bytes of every enrollment record.
pub const ENROLLMENT_MAGIC: [u8; 8] = *b"FLWENROL";
/// The only record version this code writes and reads.
pub const ENROLLMENT_VERSION: u16 = 1;
/// Longest EK or AK `TPMT_PUBLIC` in a record (an RSA 2048 EK is about 310 bytes).
pub const MAX_PUBLIC_AREA_LEN: usize = 512;
/// Longest certificate (DER) in a record.
pub const MAX_CERTIFICATE_LEN: usize = 4096;
/// Most intermediate certificates per chain in a record.
pub const MAX_INTERMEDIATES: usize = 4;
/// Domain separation label of the [`activation_digest`].
pub const ACTIVATION_LABEL: &[u8] = b"flare-wallet/enrollment/activation/v1";

const METHOD_ACTIVATION: u8 = 1;
const METHOD_AK_CERTIFICATE: u8 = 2;

/// Why an enrollment record (or an activation) was refused; one variant per
/// field and check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrollmentError {
    /// The record does not start with `FLWENROL`.
    BadMagic,
    /// The record's version is not one this code reads.
    UnsupportedVersion,
    /// The record's method is neither credential activation nor AK certificate.
    UnknownMethod,
    /// The record ends early.
    Truncated,
    /// A length in the record is zero where a value is required, or over its bound.
    LengthOutOfBounds,
    /// Bytes follow the record.
    TrailingBytes,
    /// An output buffer is too small.
    BufferTooSmall,
    /// The AK Name is not the Name of the AK public area.
    AkNameMismatch,
    /// The AK public area is not an acceptable attestation key (the reason inside).
    AkPublic(AttestError),
    /// The EK public area is missing from an activation record.
    EkPublicMissing,
    /// The EK public area is not a key credentials can be made for (the reason inside).
    EkPublic(CredentialError),
    /// The EK certificate is missing from an activation record.
    EkCertificateMissing,
    /// The activation quote is not a well-formed `TPMS_ATTEST` quote by a TPM.
    ProofMalformed,
    /// The activation quote's signature does not verify with the AK.
    ProofSignatureInvalid,
    /// The activation quote does not bind this credential, EK and AK.
    ProofMismatch,
    /// The credential the wallet returned is not the one the verifier wrapped.
    ActivationSecretMismatch,
    /// The EK certificate's chain does not verify to the trust roots (the reason inside).
    #[cfg(feature = "std")]
    EkChain(ChainErrorKind),
    /// The EK certificate certifies another key than the record's EK public area.
    EkKeyMismatch,
    /// The AK certificate's chain does not verify to the trust roots (the reason inside).
    #[cfg(feature = "std")]
    AkChain(ChainErrorKind),
    /// The AK certificate certifies another key than the record's AK.
    AkCertificateKeyMismatch,
    /// The TPM publishes no platform AK template (GCE NV `0x01c10003`).
    AkTemplateMissing,
    /// The platform's AK template is not one well-formed `TPMT_PUBLIC`.
    AkTemplateMalformed,
    /// The TPM publishes an AK template but no AK certificate (GCE NV `0x01c10002`).
    AkCertificateMissing,
}

impl fmt::Display for EnrollmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EnrollmentError as E;
        match self {
            E::BadMagic => f.write_str("not an enrollment record (bad magic)"),
            E::UnsupportedVersion => f.write_str("enrollment record version is not supported"),
            E::UnknownMethod => f.write_str(
                "enrollment record method is neither credential activation (1) nor AK certificate (2)",
            ),
            E::Truncated => f.write_str("enrollment record is truncated"),
            E::LengthOutOfBounds => f.write_str("enrollment record has a length out of bounds"),
            E::TrailingBytes => f.write_str("enrollment record has trailing bytes"),
            E::BufferTooSmall => f.write_str("output buffer too small for the enrollment record"),
            E::AkNameMismatch => {
                f.write_str("enrollment record: the AK Name is not the Name of its AK public area")
            }
            E::AkPublic(e) => write!(f, "enrollment record: AK refused: {e}"),
            E::EkPublicMissing => {
                f.write_str("enrollment record: an activation record has no EK public area")
            }
            E::EkPublic(e) => write!(f, "enrollment record: EK refused: {e}"),
            E::EkCertificateMissing => {
                f.write_str("enrollment record: an activation record has no EK certificate")
            }
            E::ProofMalformed => f.write_str(
                "enrollment record: the activation quote is not a TPM-generated quote",
            ),
            E::ProofSignatureInvalid => f.write_str(
                "enrollment record: the activation quote signature does not verify with the AK",
            ),
            E::ProofMismatch => f.write_str(
                "enrollment record: the activation quote does not bind this credential, EK and AK",
            ),
            E::ActivationSecretMismatch => f.write_str(
                "credential activation failed: the returned secret is not the one wrapped to the EK",
            ),
            #[cfg(feature = "std")]
            E::EkChain(kind) => write!(
                f,
                "enrollment record: the EK certificate does not chain to the trust roots: {kind}"
            ),
            E::EkKeyMismatch => f.write_str(
                "enrollment record: the EK certificate certifies another key than the EK public area",
            ),
            #[cfg(feature = "std")]
            E::AkChain(kind) => write!(
                f,
                "enrollment record: the AK certificate does not chain to the trust roots: {kind}"
            ),
            E::AkCertificateKeyMismatch => f.write_str(
                "enrollment record: the AK certificate certifies another key than the AK",
            ),
            E::AkTemplateMissing => f.write_str(
                "platform AK: the TPM has no AK template in NV (GCE index 0x01c10003)",
            ),
            E::AkTemplateMalformed => {
                f.write_str("platform AK: the AK template in NV is not a well-formed TPMT_PUBLIC")
            }
            E::AkCertificateMissing => f.write_str(
                "platform AK: the TPM has an AK template but no AK certificate (GCE index 0x01c10002)",
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EnrollmentError {}

/// Up to [`MAX_INTERMEDIATES`] DER certificates, borrowed.
pub type Intermediates<'a> = Vec<&'a [u8], MAX_INTERMEDIATES>;

/// How the AK was bound to the TPM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnrollmentProof<'a> {
    /// Credential activation: the secret the TPM recovered and the AK's quote
    /// over the [`activation_digest`] of it.
    Activation {
        /// The credential the TPM returned (already compared by the verifier
        /// that made the challenge; single use, no longer secret).
        credential: [u8; CREDENTIAL_LEN],
        /// The raw `TPMS_ATTEST` of the AK's quote.
        attest: &'a [u8],
        /// The AK's signature over SHA-256 of `attest`.
        signature: AkSignature,
    },
    /// A certificate for the AK, issued by the platform (GCE), and its chain.
    AkCertificate {
        /// The AK certificate (DER).
        certificate: &'a [u8],
        /// Its intermediates (DER), leaf side first.
        intermediates: Intermediates<'a>,
    },
}

/// An enrollment record, borrowed from its encoding. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentRecord<'a> {
    /// The AK's Name (SHA-256 nameAlg).
    pub ak_name: [u8; SHA256_NAME_LEN],
    /// The AK's `TPMT_PUBLIC`.
    pub ak_public: &'a [u8],
    /// The EK's `TPMT_PUBLIC` (required for activation, may be empty with an AK certificate).
    pub ek_public: &'a [u8],
    /// The EK certificate (DER; required for activation, may be empty with an AK certificate).
    pub ek_certificate: &'a [u8],
    /// The EK certificate's intermediates (DER), leaf side first.
    pub ek_intermediates: Intermediates<'a>,
    /// How the AK was bound.
    pub proof: EnrollmentProof<'a>,
}

/// The quote qualifying data that binds an activation:
/// `SHA-256("flare-wallet/enrollment/activation/v1" || Name(EK) || Name(AK) || credential)`.
#[must_use]
pub fn activation_digest(
    ek_name: &[u8; SHA256_NAME_LEN],
    ak_name: &[u8; SHA256_NAME_LEN],
    credential: &[u8; CREDENTIAL_LEN],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ACTIVATION_LABEL);
    h.update(ek_name);
    h.update(ak_name);
    h.update(credential);
    h.finalize().into()
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], EnrollmentError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(EnrollmentError::Truncated)?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(EnrollmentError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EnrollmentError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, EnrollmentError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, EnrollmentError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A u16-sized field of `min..=max` bytes.
    fn sized(&mut self, min: usize, max: usize) -> Result<&'a [u8], EnrollmentError> {
        let len = usize::from(self.u16()?);
        if len < min || len > max {
            return Err(EnrollmentError::LengthOutOfBounds);
        }
        self.take(len)
    }

    fn certificates(&mut self) -> Result<Intermediates<'a>, EnrollmentError> {
        let count = usize::from(self.u8()?);
        if count > MAX_INTERMEDIATES {
            return Err(EnrollmentError::LengthOutOfBounds);
        }
        let mut out = Vec::new();
        for _ in 0..count {
            out.push(self.sized(1, MAX_CERTIFICATE_LEN)?)
                .map_err(|_| EnrollmentError::LengthOutOfBounds)?;
        }
        Ok(out)
    }
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), EnrollmentError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(EnrollmentError::BufferTooSmall)?;
        self.out
            .get_mut(self.pos..end)
            .ok_or(EnrollmentError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    fn sized(&mut self, bytes: &[u8], max: usize) -> Result<(), EnrollmentError> {
        if bytes.len() > max {
            return Err(EnrollmentError::LengthOutOfBounds);
        }
        let len = u16::try_from(bytes.len()).map_err(|_| EnrollmentError::LengthOutOfBounds)?;
        self.put(&len.to_be_bytes())?;
        self.put(bytes)
    }

    fn certificates(&mut self, certs: &[&[u8]]) -> Result<(), EnrollmentError> {
        let count = u8::try_from(certs.len()).map_err(|_| EnrollmentError::LengthOutOfBounds)?;
        self.put(&[count])?;
        for cert in certs {
            if cert.is_empty() {
                return Err(EnrollmentError::LengthOutOfBounds);
            }
            self.sized(cert, MAX_CERTIFICATE_LEN)?;
        }
        Ok(())
    }
}

fn certificates_len(certs: &[&[u8]]) -> usize {
    1 + certs.iter().map(|c| 2 + c.len()).sum::<usize>()
}

impl<'a> EnrollmentRecord<'a> {
    /// The record of a finished activation: the EK and AK the challenge was
    /// made for, the EK certificate chain the caller verified, and the
    /// wallet's response.
    #[must_use]
    pub fn from_activation(
        ak_public: &'a [u8],
        ek_public: &'a [u8],
        ek_certificate: &'a [u8],
        ek_intermediates: Intermediates<'a>,
        response: &'a ActivationResponse,
    ) -> Self {
        Self {
            ak_name: sha256_name(ak_public),
            ak_public,
            ek_public,
            ek_certificate,
            ek_intermediates,
            proof: EnrollmentProof::Activation {
                credential: response.credential,
                attest: &response.attest,
                signature: response.signature,
            },
        }
    }

    /// The length of [`encode`](Self::encode)'s output.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let proof = match &self.proof {
            EnrollmentProof::Activation { attest, .. } => CREDENTIAL_LEN + 2 + attest.len() + 64,
            EnrollmentProof::AkCertificate {
                certificate,
                intermediates,
            } => 2 + certificate.len() + certificates_len(intermediates),
        };
        8 + 2
            + 1
            + SHA256_NAME_LEN
            + 2
            + self.ak_public.len()
            + 2
            + self.ek_public.len()
            + 2
            + self.ek_certificate.len()
            + certificates_len(&self.ek_intermediates)
            + proof
    }

    /// Writes the encoding into `out` and returns its length:
    /// `"FLWENROL" || version (u16 = 1) || method (u8: 1 activation, 2 AK
    /// certificate) || ak_name (34) || ak_public (u16 size, bytes) ||
    /// ek_public (u16, bytes) || ek_certificate (u16, bytes) || EK
    /// intermediates (u8 count, each u16 size and DER) || proof`, the proof
    /// being `credential (32) || attest (u16, bytes) || r (32) || s (32)` for
    /// activation, or `ak_certificate (u16, DER) || intermediates (u8 count,
    /// each u16 size and DER)`. Integers are big-endian.
    ///
    /// # Errors
    /// [`EnrollmentError::BufferTooSmall`]; [`EnrollmentError::LengthOutOfBounds`]
    /// for a field [`parse`](Self::parse) would refuse.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EnrollmentError> {
        let mut w = Writer { out, pos: 0 };
        w.put(&ENROLLMENT_MAGIC)?;
        w.put(&ENROLLMENT_VERSION.to_be_bytes())?;
        w.put(&[match self.proof {
            EnrollmentProof::Activation { .. } => METHOD_ACTIVATION,
            EnrollmentProof::AkCertificate { .. } => METHOD_AK_CERTIFICATE,
        }])?;
        w.put(&self.ak_name)?;
        if self.ak_public.is_empty() {
            return Err(EnrollmentError::LengthOutOfBounds);
        }
        w.sized(self.ak_public, MAX_AK_PUBLIC_LEN)?;
        w.sized(self.ek_public, MAX_PUBLIC_AREA_LEN)?;
        w.sized(self.ek_certificate, MAX_CERTIFICATE_LEN)?;
        w.certificates(&self.ek_intermediates)?;
        match &self.proof {
            EnrollmentProof::Activation {
                credential,
                attest,
                signature,
            } => {
                w.put(credential)?;
                if attest.is_empty() {
                    return Err(EnrollmentError::LengthOutOfBounds);
                }
                w.sized(attest, MAX_ATTEST_LEN)?;
                w.put(&signature.r)?;
                w.put(&signature.s)?;
            }
            EnrollmentProof::AkCertificate {
                certificate,
                intermediates,
            } => {
                if certificate.is_empty() {
                    return Err(EnrollmentError::LengthOutOfBounds);
                }
                w.sized(certificate, MAX_CERTIFICATE_LEN)?;
                w.certificates(intermediates)?;
            }
        }
        Ok(w.pos)
    }

    /// The encoding as a vector.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    #[cfg(feature = "std")]
    pub fn to_vec(&self) -> Result<std::vec::Vec<u8>, EnrollmentError> {
        let mut out = std::vec![0u8; self.encoded_len()];
        let len = self.encode(&mut out)?;
        out.truncate(len);
        Ok(out)
    }

    /// Parses an encoding strictly; never panics.
    ///
    /// # Errors
    /// The framing variants of [`EnrollmentError`] (magic, version, method,
    /// truncation, bounds, trailing bytes).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnrollmentError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.array::<8>()? != ENROLLMENT_MAGIC {
            return Err(EnrollmentError::BadMagic);
        }
        if r.u16()? != ENROLLMENT_VERSION {
            return Err(EnrollmentError::UnsupportedVersion);
        }
        let method = r.u8()?;
        if method != METHOD_ACTIVATION && method != METHOD_AK_CERTIFICATE {
            return Err(EnrollmentError::UnknownMethod);
        }
        let ak_name = r.array::<SHA256_NAME_LEN>()?;
        let ak_public = r.sized(1, MAX_AK_PUBLIC_LEN)?;
        let ek_public = r.sized(0, MAX_PUBLIC_AREA_LEN)?;
        let ek_certificate = r.sized(0, MAX_CERTIFICATE_LEN)?;
        let ek_intermediates = r.certificates()?;
        let proof = if method == METHOD_ACTIVATION {
            EnrollmentProof::Activation {
                credential: r.array()?,
                attest: r.sized(1, MAX_ATTEST_LEN)?,
                signature: AkSignature {
                    r: r.array()?,
                    s: r.array()?,
                },
            }
        } else {
            EnrollmentProof::AkCertificate {
                certificate: r.sized(1, MAX_CERTIFICATE_LEN)?,
                intermediates: r.certificates()?,
            }
        };
        if r.pos != bytes.len() {
            return Err(EnrollmentError::TrailingBytes);
        }
        Ok(Self {
            ak_name,
            ak_public,
            ek_public,
            ek_certificate,
            ek_intermediates,
            proof,
        })
    }

    /// Every check that needs no X.509: the AK Name is its public area's, the
    /// AK is a restricted, fixed, TPM-generated P-256 signing key, and for
    /// activation the EK public area is a key credentials can be made for and
    /// the AK's quote binds the credential, the EK and the AK.
    ///
    /// # Errors
    /// The [`EnrollmentError`] of the first check that fails, in that order.
    pub fn check(&self) -> Result<(), EnrollmentError> {
        if !bool::from(self.ak_name.ct_eq(&sha256_name(self.ak_public))) {
            return Err(EnrollmentError::AkNameMismatch);
        }
        let ak = wire::parse_ak_public(self.ak_public).map_err(EnrollmentError::AkPublic)?;
        let EnrollmentProof::Activation {
            credential,
            attest,
            signature,
        } = &self.proof
        else {
            return Ok(());
        };
        if self.ek_public.is_empty() {
            return Err(EnrollmentError::EkPublicMissing);
        }
        EkPublicKey::from_public_area(self.ek_public).map_err(EnrollmentError::EkPublic)?;
        if self.ek_certificate.is_empty() {
            return Err(EnrollmentError::EkCertificateMissing);
        }
        let signature = p256::ecdsa::Signature::from_scalars(
            p256::FieldBytes::from(signature.r),
            p256::FieldBytes::from(signature.s),
        )
        .map_err(|_| EnrollmentError::ProofSignatureInvalid)?;
        ak.verify(attest, &signature)
            .map_err(|_| EnrollmentError::ProofSignatureInvalid)?;
        let quote = wire::parse_quote(attest).map_err(|_| EnrollmentError::ProofMalformed)?;
        let expected = activation_digest(&sha256_name(self.ek_public), &self.ak_name, credential);
        if quote.extra_data.len() != expected.len()
            || !bool::from(quote.extra_data.ct_eq(&expected))
        {
            return Err(EnrollmentError::ProofMismatch);
        }
        Ok(())
    }
}

/// What the wallet answers to an activation challenge: the recovered
/// credential and an AK quote over its [`activation_digest`].
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationResponse {
    /// The credential the TPM recovered.
    pub credential: [u8; CREDENTIAL_LEN],
    /// The raw `TPMS_ATTEST` of the AK's quote.
    pub attest: Vec<u8, MAX_ATTEST_LEN>,
    /// The AK's signature over SHA-256 of `attest`.
    pub signature: AkSignature,
}

impl fmt::Debug for ActivationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivationResponse")
            .field("credential", &"<redacted>")
            .field("attest_len", &self.attest.len())
            .finish_non_exhaustive()
    }
}

/// The verifier's side of one credential activation: the secret it wrapped
/// and what it wrapped it for. Single use.
#[derive(Debug)]
pub struct ActivationChallenge {
    secret: CredentialSecret,
    ek_name: [u8; SHA256_NAME_LEN],
    ak_name: [u8; SHA256_NAME_LEN],
    blob: CredentialBlob,
}

impl ActivationChallenge {
    /// Wraps a fresh secret to the EK (`ek_public`, a `TPMT_PUBLIC` whose key
    /// the caller has matched to a verified EK certificate) for the AK
    /// (`ak_public`, checked as an attestation key).
    ///
    /// # Errors
    /// [`EnrollmentError::AkPublic`] or [`EnrollmentError::EkPublic`].
    pub fn new(
        ek_public: &[u8],
        ak_public: &[u8],
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<Self, EnrollmentError> {
        wire::parse_ak_public(ak_public).map_err(EnrollmentError::AkPublic)?;
        let ak_name = sha256_name(ak_public);
        let secret = CredentialSecret::random(rng);
        let blob = credential::make_credential(ek_public, &ak_name, secret.as_bytes(), rng)
            .map_err(EnrollmentError::EkPublic)?;
        Ok(Self {
            secret,
            ek_name: sha256_name(ek_public),
            ak_name,
            blob,
        })
    }

    /// What to send to the wallet.
    #[must_use]
    pub const fn blob(&self) -> &CredentialBlob {
        &self.blob
    }

    /// Checks the wallet's answer: the returned credential equals the wrapped
    /// secret (constant time), and the AK quote binds it. On success the AK
    /// is pinned: the caller keeps the [`PinnedAk`] and stores the record
    /// built from the same EK and AK with the response as its
    /// [`EnrollmentProof::Activation`] ([`EnrollmentRecord::from_activation`]).
    ///
    /// # Errors
    /// [`EnrollmentError::ActivationSecretMismatch`], or the proof errors of
    /// [`EnrollmentRecord::check`].
    pub fn finish(
        self,
        ak_public: &[u8],
        response: &ActivationResponse,
    ) -> Result<PinnedAk, EnrollmentError> {
        if !self.secret.matches(&response.credential) {
            return Err(EnrollmentError::ActivationSecretMismatch);
        }
        if !bool::from(self.ak_name.ct_eq(&sha256_name(ak_public))) {
            return Err(EnrollmentError::AkNameMismatch);
        }
        let ak = wire::parse_ak_public(ak_public).map_err(EnrollmentError::AkPublic)?;
        let signature = p256::ecdsa::Signature::from_scalars(
            p256::FieldBytes::from(response.signature.r),
            p256::FieldBytes::from(response.signature.s),
        )
        .map_err(|_| EnrollmentError::ProofSignatureInvalid)?;
        ak.verify(&response.attest, &signature)
            .map_err(|_| EnrollmentError::ProofSignatureInvalid)?;
        let quote =
            wire::parse_quote(&response.attest).map_err(|_| EnrollmentError::ProofMalformed)?;
        let expected = activation_digest(&self.ek_name, &self.ak_name, self.secret.as_bytes());
        if quote.extra_data.len() != expected.len()
            || !bool::from(quote.extra_data.ct_eq(&expected))
        {
            return Err(EnrollmentError::ProofMismatch);
        }
        Ok(PinnedAk::new(
            self.ak_name,
            EnrollmentMethod::CredentialActivation,
            None,
        ))
    }
}
