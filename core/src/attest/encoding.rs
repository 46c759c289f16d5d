//! The canonical binary encoding of [`Evidence`]: what crosses the C ABI and
//! the Python binding.
//!
//! # Wire layout (version 3, integers big-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `b"FLWEVID\0"` |
//! | 8 | 2 | version, `3` |
//! | 10 | 8 | chain id |
//! | 18 | 20 | address |
//! | 38 | 32 | policy hash |
//! | 70 | 32 | owners hash |
//! | 102 | 1 | owner threshold |
//! | 103 | 8 | admin nonce |
//! | 111 | 32 | audit-log head |
//! | 143 | 1 | TPM identity: bit 0 set for a verified TPM; the key lock in bits 1 to 3 and 7 ([`KeyLockFacts`](super::KeyLockFacts)) |
//! | 144 | 65 | wallet signature: r, s, v (27 or 28) |
//! | 209 | 64 | AK signature: r, s (P-256 scalars) |
//! | 273 | 2 | PCR bank hash algorithm |
//! | 275 | 1 | `s`: PCR bitmap size, `1..=4` |
//! | 276 | `s` | PCR bitmap (bit `j` of byte `i` is PCR `8i + j`) |
//! | ... | 1 | `c`: number of PCR values, equal to the number of selected PCRs |
//! | ... | `32c` | PCR values, ascending PCR order |
//! | ... | 2 | `a`: attest length, `1..=`[`MAX_ATTEST_LEN`] |
//! | ... | `a` | raw `TPMS_ATTEST` |
//! | ... | 2 | `k`: AK public length, `1..=`[`MAX_AK_PUBLIC_LEN`] |
//! | ... | `k` | AK `TPMT_PUBLIC` |
//!
//! Bytes 10 to 144 are [`AccountFacts::to_bytes`], the fields the challenge
//! binds. Version 1 (no owners hash, threshold, admin nonce or audit head)
//! is refused with [`AttestError::EvidenceVersionRetired`], version 2 (no
//! TPM identity, made before AKs were enrolled) with
//! [`AttestError::EvidenceWithoutTrustChain`]. Nothing may follow. The
//! parser is strict and never panics; the encoding
//! carries no integrity check because [`super::verify`] checks every field
//! cryptographically.

use heapless::Vec;

use super::wire::Reader;
use super::{
    AccountFacts, AkSignature, AttestError, Evidence, KeyLockFacts, PcrSelection, TpmIdentity,
    ACCOUNT_FACTS_LEN, ADDRESS_LEN, MAX_AK_PUBLIC_LEN, MAX_ATTEST_LEN, MAX_PCRS, PCR_VALUE_LEN,
    WALLET_SIGNATURE_LEN,
};
use crate::signer::{Address, Signature};

/// Evidence magic.
pub const EVIDENCE_MAGIC: [u8; 8] = *b"FLWEVID\0";
/// The only evidence version this code writes and reads.
pub const EVIDENCE_VERSION: u16 = 3;
/// The retired first version, which bound no owner facts.
const EVIDENCE_VERSION_1: u16 = 1;
/// The retired second version, which carried no TPM identity marker and
/// came from an AK no enrollment bound to a TPM.
const EVIDENCE_VERSION_2: u16 = 2;
/// Length of the fixed part before the PCR bitmap.
const FIXED_LEN: usize = 8 + 2 + ACCOUNT_FACTS_LEN + WALLET_SIGNATURE_LEN + 64 + 2 + 1;
/// The longest evidence encoding.
pub const MAX_EVIDENCE_LEN: usize =
    FIXED_LEN + 4 + 1 + MAX_PCRS * PCR_VALUE_LEN + 2 + MAX_ATTEST_LEN + 2 + MAX_AK_PUBLIC_LEN;

impl Evidence {
    /// The number of bytes [`encode`](Self::encode) writes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let (_, select_len) = self.pcr_selection.select_bytes();
        FIXED_LEN
            + select_len
            + 1
            + self.pcr_values.len() * PCR_VALUE_LEN
            + 2
            + self.attest.len()
            + 2
            + self.ak_public.len()
    }

    /// Writes the canonical encoding into `out` and returns its length.
    ///
    /// # Errors
    /// [`AttestError::BufferTooSmall`] when `out` is shorter than
    /// [`encoded_len`](Self::encoded_len) (nothing is written then), and
    /// [`AttestError::EvidenceLengthOutOfBounds`] for an empty attest or AK
    /// public area, which the parser would refuse.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, AttestError> {
        if self.attest.is_empty() || self.ak_public.is_empty() {
            return Err(AttestError::EvidenceLengthOutOfBounds);
        }
        let len = self.encoded_len();
        let out = out.get_mut(..len).ok_or(AttestError::BufferTooSmall)?;
        let mut w = Writer { out, pos: 0 };
        w.put(&EVIDENCE_MAGIC)?;
        w.put(&EVIDENCE_VERSION.to_be_bytes())?;
        w.put(&self.account.to_bytes())?;
        w.put(&self.wallet_signature.to_rsv_bytes())?;
        w.put(&self.ak_signature.r)?;
        w.put(&self.ak_signature.s)?;
        w.put(&self.pcr_selection.hash_alg.to_be_bytes())?;
        let (select, select_len) = self.pcr_selection.select_bytes();
        w.put(&[u8::try_from(select_len).map_err(|_| AttestError::BufferTooSmall)?])?;
        w.put(
            select
                .get(..select_len)
                .ok_or(AttestError::BufferTooSmall)?,
        )?;
        let count = u8::try_from(self.pcr_values.len())
            .map_err(|_| AttestError::EvidenceLengthOutOfBounds)?;
        w.put(&[count])?;
        for value in &self.pcr_values {
            w.put(value)?;
        }
        w.sized(&self.attest)?;
        w.sized(&self.ak_public)?;
        Ok(w.pos)
    }

    /// Parses the canonical encoding strictly.
    ///
    /// # Errors
    /// The `Evidence*` variants of [`AttestError`], naming the malformation.
    pub fn parse(bytes: &[u8]) -> Result<Self, AttestError> {
        let mut r = Reader::new(bytes, AttestError::EvidenceTruncated);
        if r.array::<8>()? != EVIDENCE_MAGIC {
            return Err(AttestError::EvidenceBadMagic);
        }
        match r.u16()? {
            EVIDENCE_VERSION => {}
            EVIDENCE_VERSION_1 => return Err(AttestError::EvidenceVersionRetired),
            EVIDENCE_VERSION_2 => return Err(AttestError::EvidenceWithoutTrustChain),
            _ => return Err(AttestError::EvidenceUnsupportedVersion),
        }
        let account = AccountFacts {
            chain_id: r.u64()?,
            address: Address(r.array::<ADDRESS_LEN>()?),
            policy_hash: r.array::<32>()?,
            owners_hash: r.array::<32>()?,
            threshold: r.u8()?,
            admin_nonce: r.u64()?,
            audit_head: r.array::<32>()?,
            tpm_identity: TpmIdentity::Unverified,
            key_lock: KeyLockFacts::NotReported,
        };
        let (tpm_identity, key_lock) = KeyLockFacts::split_identity_byte(r.u8()?)
            .ok_or(AttestError::EvidenceTpmIdentityInvalid)?;
        let account = AccountFacts {
            tpm_identity,
            key_lock,
            ..account
        };
        let wallet_rsv = r.array::<WALLET_SIGNATURE_LEN>()?;
        // Only the canonical v (27 or 28) that `encode` writes is accepted.
        if !matches!(wallet_rsv.last(), Some(27 | 28)) {
            return Err(AttestError::WalletSignatureMalformed);
        }
        let wallet_signature = Signature::from_rsv_bytes(&wallet_rsv)
            .map_err(|_| AttestError::WalletSignatureMalformed)?;
        let ak_signature = AkSignature {
            r: r.array::<32>()?,
            s: r.array::<32>()?,
        };
        let hash_alg = r.u16()?;
        let select_len = usize::from(r.u8()?);
        if !(1..=4).contains(&select_len) {
            return Err(AttestError::EvidenceLengthOutOfBounds);
        }
        let pcr_selection = PcrSelection::from_select_bytes(hash_alg, r.take(select_len)?);
        let count = usize::from(r.u8()?);
        if count != pcr_selection.count() {
            return Err(AttestError::EvidencePcrCountMismatch);
        }
        let mut pcr_values = Vec::new();
        for _ in 0..count {
            pcr_values
                .push(r.array::<PCR_VALUE_LEN>()?)
                .map_err(|_| AttestError::EvidenceLengthOutOfBounds)?;
        }
        let attest = bounded::<MAX_ATTEST_LEN>(&mut r)?;
        let ak_public = bounded::<MAX_AK_PUBLIC_LEN>(&mut r)?;
        if r.finish().is_err() {
            return Err(AttestError::EvidenceTrailingBytes);
        }
        Ok(Evidence {
            attest,
            ak_signature,
            ak_public,
            pcr_selection,
            pcr_values,
            account,
            wallet_signature,
        })
    }
}

fn bounded<const N: usize>(r: &mut Reader<'_>) -> Result<Vec<u8, N>, AttestError> {
    let len = usize::from(r.u16()?);
    if len == 0 || len > N {
        return Err(AttestError::EvidenceLengthOutOfBounds);
    }
    Vec::from_slice(r.take(len)?).map_err(|()| AttestError::EvidenceLengthOutOfBounds)
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), AttestError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(AttestError::BufferTooSmall)?;
        self.out
            .get_mut(self.pos..end)
            .ok_or(AttestError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    fn sized(&mut self, bytes: &[u8]) -> Result<(), AttestError> {
        let len = u16::try_from(bytes.len()).map_err(|_| AttestError::BufferTooSmall)?;
        self.put(&len.to_be_bytes())?;
        self.put(bytes)
    }
}
