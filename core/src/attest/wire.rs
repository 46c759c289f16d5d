//! Strict readers for the two TPM structures the verifier trusts nothing in:
//! the quote's `TPMS_ATTEST` and the attestation key's `TPMT_PUBLIC`.
//!
//! Section numbers are those of the TPM 2.0 Library specification, Part 2
//! ("Structures"), revision 1.59. All integers are big-endian.

use p256::ecdsa::VerifyingKey;
use sha2::{Digest, Sha256};

use super::{AttestError, PcrSelection};

/// `TPM_GENERATED_VALUE` (Part 2, 6.2): the magic of every TPM-made `TPMS_ATTEST`.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
/// `TPM_ST_ATTEST_QUOTE` (Part 2, 6.9): the attestation type of `TPM2_Quote`.
pub const TPM_ST_ATTEST_QUOTE: u16 = 0x8018;
/// `TPM_ALG_ECC` (Part 2, 6.3).
pub const TPM_ALG_ECC: u16 = 0x0023;
/// `TPM_ALG_SHA256` (Part 2, 6.3).
pub const TPM_ALG_SHA256: u16 = 0x000b;
/// `TPM_ALG_ECDSA` (Part 2, 6.3).
pub const TPM_ALG_ECDSA: u16 = 0x0018;
/// `TPM_ALG_NULL` (Part 2, 6.3).
pub const TPM_ALG_NULL: u16 = 0x0010;
/// `TPM_ECC_NIST_P256` (Part 2, 6.4).
pub const TPM_ECC_NIST_P256: u16 = 0x0003;

/// `TPMA_OBJECT` bits (Part 2, 8.3.2) the attestation key must have.
pub mod object_attributes {
    /// The object's hierarchy cannot change: it never leaves this TPM.
    pub const FIXED_TPM: u32 = 1 << 1;
    /// The object cannot be re-parented.
    pub const FIXED_PARENT: u32 = 1 << 4;
    /// The TPM generated the sensitive part itself.
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    /// The key only signs digests the TPM produced (quotes), never outside data that looks like one.
    pub const RESTRICTED: u32 = 1 << 16;
    /// A decryption key.
    pub const DECRYPT: u32 = 1 << 17;
    /// A signing key.
    pub const SIGN: u32 = 1 << 18;
    /// Every bit an attestation key must have.
    pub const AK_REQUIRED: u32 =
        FIXED_TPM | FIXED_PARENT | SENSITIVE_DATA_ORIGIN | RESTRICTED | SIGN;
    /// Every bit an attestation key may have: the required ones and stClear (2),
    /// userWithAuth (6), adminWithPolicy (7), noDA (10) and encryptedDuplication
    /// (11). Reserved bits, decrypt and x509sign (19, never with restricted) are refused.
    pub const AK_ALLOWED: u32 =
        AK_REQUIRED | (1 << 2) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 11);
}

/// Length of a Name with a SHA-256 nameAlg: the algorithm id and the digest.
pub const SHA256_NAME_LEN: usize = 2 + 32;
/// Largest `TPM2B_NAME` (Part 2, 10.5.3): `sizeof(TPMU_NAME)`, a handle or a SHA-512 Name.
pub const MAX_NAME_LEN: usize = 2 + 64;
/// Largest `TPM2B_DATA` / `TPM2B_DIGEST` accepted (a SHA-512 digest).
pub const MAX_DIGEST_LEN: usize = 64;
/// Largest `sizeofSelect` of a `TPMS_PCR_SELECTION` accepted (32 PCRs).
pub const MAX_PCR_SELECT_LEN: usize = 4;
/// `TPMS_CLOCK_INFO` (Part 2, 10.11.1): clock u64, resetCount u32, restartCount u32, safe u8.
pub const CLOCK_INFO_LEN: usize = 8 + 4 + 4 + 1;

/// A bounds-checked big-endian reader. Every failure is the caller's `err`.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    err: AttestError,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], err: AttestError) -> Self {
        Self { bytes, pos: 0, err }
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], AttestError> {
        let end = self.pos.checked_add(len).ok_or(self.err)?;
        let out = self.bytes.get(self.pos..end).ok_or(self.err)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], AttestError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, AttestError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, AttestError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, AttestError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, AttestError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A `TPM2B_*`: a u16 size, then at most `max` bytes.
    pub(crate) fn tpm2b(&mut self, max: usize) -> Result<&'a [u8], AttestError> {
        let len = usize::from(self.u16()?);
        if len > max {
            return Err(self.err);
        }
        self.take(len)
    }

    pub(crate) fn finish(&self) -> Result<(), AttestError> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.err)
        }
    }
}

/// The fields of a quote's `TPMS_ATTEST` the verifier uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuoteInfo<'a> {
    pub(crate) extra_data: &'a [u8],
    pub(crate) clock: u64,
    pub(crate) reset_count: u32,
    pub(crate) restart_count: u32,
    pub(crate) firmware_version: u64,
    /// `None` when the quote selects anything but exactly one bank.
    pub(crate) pcr_selection: Option<PcrSelection>,
    pub(crate) pcr_digest: &'a [u8],
}

/// Parses a `TPMS_ATTEST` (Part 2, 10.12.12) holding a `TPMS_QUOTE_INFO`
/// (Part 2, 10.12.4).
///
/// Wire offsets: magic at 0 (u32), type at 4 (u16), qualifiedSigner
/// `TPM2B_NAME` at 6, then extraData `TPM2B_DATA`, clockInfo
/// `TPMS_CLOCK_INFO` (17 bytes), firmwareVersion (u64), and the quote info:
/// pcrSelect `TPML_PCR_SELECTION` (Part 2, 10.9.7: u32 count, then per bank
/// `TPMS_PCR_SELECTION`, Part 2, 10.6.2: hash u16, sizeofSelect u8, bitmap)
/// and pcrDigest `TPM2B_DIGEST`.
pub(crate) fn parse_quote(attest: &[u8]) -> Result<QuoteInfo<'_>, AttestError> {
    let mut r = Reader::new(attest, AttestError::AttestMalformed);
    if r.u32()? != TPM_GENERATED_VALUE {
        return Err(AttestError::AttestBadMagic);
    }
    if r.u16()? != TPM_ST_ATTEST_QUOTE {
        return Err(AttestError::AttestNotQuote);
    }
    let _qualified_signer = r.tpm2b(MAX_NAME_LEN)?;
    let extra_data = r.tpm2b(MAX_DIGEST_LEN)?;
    let clock = r.u64()?;
    let reset_count = r.u32()?;
    let restart_count = r.u32()?;
    let _safe = r.u8()?;
    let firmware_version = r.u64()?;
    let count = r.u32()?;
    // Each TPMS_PCR_SELECTION is at least 3 bytes: an input-claimed count
    // larger than the remaining bytes is refused before any loop runs long.
    let remaining = attest.len().saturating_sub(r.pos);
    if usize::try_from(count).map_or(true, |c| c > remaining / 3) {
        return Err(AttestError::AttestMalformed);
    }
    let mut single = None;
    for _ in 0..count {
        let hash_alg = r.u16()?;
        let size = usize::from(r.u8()?);
        if size > MAX_PCR_SELECT_LEN {
            return Err(AttestError::AttestMalformed);
        }
        let select = r.take(size)?;
        single = Some(PcrSelection::from_select_bytes(hash_alg, select));
    }
    let pcr_digest = r.tpm2b(MAX_DIGEST_LEN)?;
    r.finish()?;
    Ok(QuoteInfo {
        extra_data,
        clock,
        reset_count,
        restart_count,
        firmware_version,
        pcr_selection: if count == 1 { single } else { None },
        pcr_digest,
    })
}

/// The Name of an object: its nameAlg then the digest of its `TPMT_PUBLIC`
/// (Part 1, 16; Part 2, 10.5.3). Only SHA-256 Names are produced here.
#[must_use]
pub fn sha256_name(public_area: &[u8]) -> [u8; SHA256_NAME_LEN] {
    let mut name = [0u8; SHA256_NAME_LEN];
    let (alg, digest) = name.split_at_mut(2);
    alg.copy_from_slice(&TPM_ALG_SHA256.to_be_bytes());
    digest.copy_from_slice(&Sha256::digest(public_area));
    name
}

/// Parses and checks an attestation key's `TPMT_PUBLIC` (Part 2, 12.2.4).
///
/// Wire offsets: type at 0 (u16, must be `TPM_ALG_ECC`), nameAlg at 2 (u16,
/// SHA-256), objectAttributes at 4 (u32, `TPMA_OBJECT`), authPolicy
/// `TPM2B_DIGEST` at 8, then `TPMS_ECC_PARMS` (Part 2, 12.2.3.6): symmetric
/// `TPMT_SYM_DEF_OBJECT` (NULL for a signing key), scheme `TPMT_ECC_SCHEME`
/// (ECDSA with SHA-256), curveID (NIST P-256), kdf `TPMT_KDF_SCHEME`; then
/// unique `TPMS_ECC_POINT` (Part 2, 11.2.5.2): x and y as `TPM2B_ECC_PARAMETER`.
pub(crate) fn parse_ak_public(public_area: &[u8]) -> Result<VerifyingKey, AttestError> {
    use object_attributes::{AK_ALLOWED, AK_REQUIRED};

    let mut r = Reader::new(public_area, AttestError::AkPublicMalformed);
    if r.u16()? != TPM_ALG_ECC {
        return Err(AttestError::AkNotEcc);
    }
    if r.u16()? != TPM_ALG_SHA256 {
        return Err(AttestError::AkNameAlg);
    }
    let attributes = r.u32()?;
    if attributes & AK_REQUIRED != AK_REQUIRED || attributes & !AK_ALLOWED != 0 {
        return Err(AttestError::AkAttributes);
    }
    let _auth_policy = r.tpm2b(MAX_DIGEST_LEN)?;
    if r.u16()? != TPM_ALG_NULL {
        return Err(AttestError::AkParameters);
    }
    if r.u16()? != TPM_ALG_ECDSA || r.u16()? != TPM_ALG_SHA256 {
        return Err(AttestError::AkScheme);
    }
    if r.u16()? != TPM_ECC_NIST_P256 {
        return Err(AttestError::AkCurve);
    }
    if r.u16()? != TPM_ALG_NULL {
        return Err(AttestError::AkParameters);
    }
    let x = r.tpm2b(32)?;
    let y = r.tpm2b(32)?;
    r.finish()?;
    // SEC1 uncompressed point; a TPM may drop leading zero bytes of a coordinate.
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    let x_at = 33usize
        .checked_sub(x.len())
        .ok_or(AttestError::AkPointInvalid)?;
    let y_at = 65usize
        .checked_sub(y.len())
        .ok_or(AttestError::AkPointInvalid)?;
    sec1.get_mut(x_at..33)
        .ok_or(AttestError::AkPointInvalid)?
        .copy_from_slice(x);
    sec1.get_mut(y_at..65)
        .ok_or(AttestError::AkPointInvalid)?
        .copy_from_slice(y);
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| AttestError::AkPointInvalid)
}
