//! Attestation evidence and its verifier.
//!
//! The evidence ties an Ethereum address to a measured TPM. A restricted
//! attestation key (AK) of the TPM quotes a PCR selection with a
//! [`challenge`] as qualifying data; the challenge binds the verifier's
//! nonce and the account's [`AccountFacts`]: address, chain id, policy
//! hash, owners hash and threshold, admin nonce and audit-log head. The wallet then
//! signs the same challenge with the key behind the address (EIP-191), which
//! shows that key is held by the process the quote measures.
//!
//! [`verify`] cannot run without a trust anchor: a [`PinnedAk`], which only
//! an enrollment makes (a credential activation the verifier ran itself, or
//! with `std` an [`enrollment`](crate::enrollment) record or an AK
//! certificate whose chains verify to the verifier's roots). It checks, in
//! order: the AK is the pinned one, the AK's public area, the AK's ECDSA signature over SHA-256 of the raw
//! attest bytes, the magic and type of `TPMS_ATTEST`, the qualifying data
//! (constant time), the PCR selection, the PCR digest recomputed from the
//! PCR values that travel with the evidence, the wallet's signature, and
//! the TPM identity marker (an account created on a TPM without a verified
//! EK is refused unless the caller accepts it explicitly), the PCR selection
//! the caller asked for, and finally the caller's other expectations. Each
//! check has its own [`AttestError`] variant. Everything here is `no_std` and allocation free.

use core::fmt;

use heapless::Vec;
use p256::ecdsa::signature::Verifier;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::signer::{eip191_hash, recover_address, Address, Signature, SignerError};

mod encoding;
pub use encoding::{EVIDENCE_MAGIC, EVIDENCE_VERSION, MAX_EVIDENCE_LEN};
pub mod wire;

pub use wire::{sha256_name, SHA256_NAME_LEN};

/// Domain separation label of the challenge, version 3 (version 2 did not
/// bind the TPM identity marker; version 1 bound only the chain id, the
/// address and the policy hash).
pub const CHALLENGE_LABEL: &[u8] = b"flare-wallet/attest/v3";

/// The policy hash of an account that has no signing policy: 32 zero bytes.
///
/// No SHA-256 output is known to be all zeros, so this value cannot collide
/// with the hash of any real policy encoding.
pub const NO_POLICY_HASH: [u8; 32] = [0u8; 32];

/// Length of an Ethereum address.
pub const ADDRESS_LEN: usize = 20;
/// Length of a SHA-256 PCR value.
pub const PCR_VALUE_LEN: usize = 32;
/// Number of PCRs a selection can name (a 4-byte bitmap).
pub const MAX_PCRS: usize = 32;
/// Longest raw `TPMS_ATTEST` carried in evidence.
pub const MAX_ATTEST_LEN: usize = 512;
/// Longest AK `TPMT_PUBLIC` carried in evidence.
pub const MAX_AK_PUBLIC_LEN: usize = 256;
/// Length of the wallet's signature: r, s (32 bytes each) and `v` (27 or 28).
pub const WALLET_SIGNATURE_LEN: usize = 65;

/// The PCRs a quote covers: one bank, a bitmap of up to [`MAX_PCRS`] PCRs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PcrSelection {
    /// The bank's hash algorithm (TPM_ALG_ID); only SHA-256 (`0x000B`) verifies.
    pub hash_alg: u16,
    /// Bit `n` selects PCR `n`.
    pub bitmap: u32,
}

impl PcrSelection {
    /// The default selection: SHA-256 bank, PCRs 0 to 7.
    pub const SHA256_0_TO_7: Self = Self {
        hash_alg: wire::TPM_ALG_SHA256,
        bitmap: 0xff,
    };

    /// A SHA-256 selection of the given PCR indices.
    ///
    /// # Errors
    /// [`AttestError::PcrIndexOutOfRange`] for an index of [`MAX_PCRS`] or more.
    pub fn sha256(indices: &[u8]) -> Result<Self, AttestError> {
        let mut bitmap = 0u32;
        for &i in indices {
            let bit = 1u32
                .checked_shl(u32::from(i))
                .ok_or(AttestError::PcrIndexOutOfRange)?;
            bitmap |= bit;
        }
        Ok(Self {
            hash_alg: wire::TPM_ALG_SHA256,
            bitmap,
        })
    }

    /// Builds a selection from a TPM `pcrSelect` bitmap (bit `j` of byte `i` is PCR `8i + j`).
    /// Bytes past the fourth are ignored; callers bound them first.
    #[must_use]
    pub fn from_select_bytes(hash_alg: u16, select: &[u8]) -> Self {
        let mut bitmap = 0u32;
        for (i, &b) in select.iter().take(4).enumerate() {
            bitmap |= u32::from(b) << (8 * i);
        }
        Self { hash_alg, bitmap }
    }

    /// The TPM `pcrSelect` bitmap with `sizeofSelect` = 3 (24 PCRs, the PC
    /// Client minimum), or 4 when a PCR above 23 is selected. Returns the
    /// bytes and how many of them are used.
    #[must_use]
    pub fn select_bytes(&self) -> ([u8; 4], usize) {
        let bytes = self.bitmap.to_le_bytes();
        let len = if self.bitmap >> 24 == 0 { 3 } else { 4 };
        (bytes, len)
    }

    /// The number of selected PCRs.
    #[must_use]
    pub fn count(&self) -> usize {
        // At most 32: the conversion cannot fail on any target with a 16-bit usize or wider.
        usize::try_from(self.bitmap.count_ones()).unwrap_or(MAX_PCRS)
    }

    /// Whether PCR `index` is selected.
    #[must_use]
    pub fn contains(&self, index: u8) -> bool {
        1u32.checked_shl(u32::from(index))
            .is_some_and(|bit| self.bitmap & bit != 0)
    }

    /// The selected PCR indices in ascending order: the order of the PCR
    /// values in evidence and in the quote's PCR digest.
    pub fn indices(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..32).filter(move |&i| self.contains(i))
    }

    /// Writes the `TPML_PCR_SELECTION` (Part 2, 10.9.7) holding this one bank,
    /// as `TPM2_Quote`, `TPM2_PCR_Read` and `TPM2_PolicyPCR` take it, and
    /// returns its length (at most 11 bytes).
    ///
    /// # Errors
    /// [`AttestError::BufferTooSmall`] when `out` is too short.
    pub fn marshal_tpml(&self, out: &mut [u8]) -> Result<usize, AttestError> {
        let (select, len) = self.select_bytes();
        let total = 4 + 2 + 1 + len;
        let out = out.get_mut(..total).ok_or(AttestError::BufferTooSmall)?;
        let (count, rest) = out.split_at_mut(4);
        count.copy_from_slice(&1u32.to_be_bytes());
        let (alg, rest) = rest.split_at_mut(2);
        alg.copy_from_slice(&self.hash_alg.to_be_bytes());
        let (size, rest) = rest.split_at_mut(1);
        size.copy_from_slice(&[u8::try_from(len).map_err(|_| AttestError::BufferTooSmall)?]);
        rest.copy_from_slice(select.get(..len).ok_or(AttestError::BufferTooSmall)?);
        Ok(total)
    }
}

/// Whether the account's key was created on a TPM that proved itself through
/// its EK certificate chain, as the account file records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TpmIdentity {
    /// The TPM's EK certificate chained to the configured roots when the
    /// account was created, and every session carrying a secret was salted to it.
    Verified,
    /// The account was created with the TPM check explicitly turned off
    /// ("unverified TPM"): an interposer at creation could have seen the key.
    Unverified,
}

impl TpmIdentity {
    /// The encoding byte: 1 verified, 0 unverified.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Verified => 1,
            Self::Unverified => 0,
        }
    }

    /// Reads the encoding byte.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Verified),
            0 => Some(Self::Unverified),
            _ => None,
        }
    }
}

/// "verified TPM" or "unverified TPM": how evidence and its verifiers name
/// the account's TPM identity to people.
impl fmt::Display for TpmIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Verified => "verified TPM",
            Self::Unverified => "unverified TPM",
        })
    }
}

/// What an unsealer of the account's key must present besides access to the
/// TPM and the account file, as evidence reports it. It travels in the high
/// bits of the TPM identity byte, so evidence stays version 3 and the
/// challenge binds it: bit 7 marks it present, bits 1, 2 and 3 are the PIN,
/// PCR and boot-once locks (see [`crate::seal::KeyLock`]). Evidence made
/// before key locks were reported has bit 7 clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyLockFacts {
    /// The evidence does not say (made before key locks were reported).
    NotReported,
    /// The account's key lock. With none of the three, the key has no lock:
    /// any local process with TPM access and the account file can unseal it.
    Reported {
        /// A PIN (`TPM2_PolicyAuthValue`), counted by the TPM's
        /// dictionary-attack lockout.
        pin: bool,
        /// PCR values the key is bound to.
        pcrs: bool,
        /// The key unseals once per boot.
        boot_once: bool,
    },
}

/// Bit 7 of the TPM identity byte: a key lock is reported.
const KEY_LOCK_REPORTED: u8 = 0x80;
const KEY_LOCK_PIN: u8 = 0x02;
const KEY_LOCK_PCRS: u8 = 0x04;
const KEY_LOCK_BOOT_ONCE: u8 = 0x08;

impl KeyLockFacts {
    /// No lock, reported as such.
    pub const NONE: Self = Self::Reported {
        pin: false,
        pcrs: false,
        boot_once: false,
    };

    /// The bits this adds to the TPM identity byte.
    #[must_use]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::NotReported => 0,
            Self::Reported {
                pin,
                pcrs,
                boot_once,
            } => {
                let mut bits = KEY_LOCK_REPORTED;
                if pin {
                    bits |= KEY_LOCK_PIN;
                }
                if pcrs {
                    bits |= KEY_LOCK_PCRS;
                }
                if boot_once {
                    bits |= KEY_LOCK_BOOT_ONCE;
                }
                bits
            }
        }
    }

    /// Splits a TPM identity byte into the identity and the key lock;
    /// `None` for any other bit set.
    #[must_use]
    pub const fn split_identity_byte(byte: u8) -> Option<(TpmIdentity, Self)> {
        let identity = match TpmIdentity::from_byte(byte & 1) {
            Some(identity) => identity,
            None => return None,
        };
        if byte & KEY_LOCK_REPORTED == 0 {
            return if byte & !1 == 0 {
                Some((identity, Self::NotReported))
            } else {
                None
            };
        }
        if byte & 0x70 != 0 {
            return None;
        }
        Some((
            identity,
            Self::Reported {
                pin: byte & KEY_LOCK_PIN != 0,
                pcrs: byte & KEY_LOCK_PCRS != 0,
                boot_once: byte & KEY_LOCK_BOOT_ONCE != 0,
            },
        ))
    }

    /// The lock's name: `none`, `pin`, `pcr`, `boot-once`, or a combination
    /// joined by `+` (`pin+pcr`); `not reported` for older evidence.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NotReported => "not reported",
            Self::Reported {
                pin,
                pcrs,
                boot_once,
            } => match (pin, pcrs, boot_once) {
                (false, false, false) => "none",
                (true, false, false) => "pin",
                (false, true, false) => "pcr",
                (false, false, true) => "boot-once",
                (true, true, false) => "pin+pcr",
                (true, false, true) => "pin+boot-once",
                (false, true, true) => "pcr+boot-once",
                (true, true, true) => "pin+pcr+boot-once",
            },
        }
    }

    /// What the lock means for who can unseal the key.
    #[must_use]
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::NotReported => "the evidence does not report the key lock",
            Self::Reported {
                pin: false,
                pcrs: false,
                boot_once: false,
            } => "no key lock: any local process with TPM access and the account file can unseal the key",
            Self::Reported { pin: true, .. } => {
                "unsealing the key needs the PIN (wrong PINs count towards the TPM's dictionary-attack lockout)"
            }
            Self::Reported {
                boot_once: true, ..
            } => "the key unseals once per boot; after that only a reboot lets a process unseal it",
            Self::Reported { .. } => {
                "the key unseals only while the bound PCRs hold their values; any local process with TPM access and the account file can unseal it then"
            }
        }
    }
}

/// What evidence says about the account, all bound into the [`challenge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccountFacts {
    /// The account's address.
    pub address: Address,
    /// The chain id the verifier asked about.
    pub chain_id: u64,
    /// The hash of the account's signing policy ([`NO_POLICY_HASH`] for none).
    pub policy_hash: [u8; 32],
    /// The hash of the account's owner set
    /// ([`OwnerSet::hash`](crate::authority::OwnerSet::hash)), or
    /// [`NO_OWNERS_HASH`](crate::authority::NO_OWNERS_HASH) for an ownerless account.
    pub owners_hash: [u8; 32],
    /// How many owners must approve an admin action; 0 for an ownerless account.
    pub threshold: u8,
    /// The account's admin nonce: the nonce the next admin request must carry.
    pub admin_nonce: u64,
    /// The head of the account's audit log (a 32-byte hash).
    pub audit_head: [u8; 32],
    /// Whether the account was created on a verified TPM.
    pub tpm_identity: TpmIdentity,
    /// What an unsealer of the key must present.
    pub key_lock: KeyLockFacts,
}

/// Length of the [`AccountFacts`] as the challenge and the evidence encode them.
pub const ACCOUNT_FACTS_LEN: usize = 8 + ADDRESS_LEN + 32 + 32 + 1 + 8 + 32 + 1;

impl AccountFacts {
    /// The fixed-length encoding, big-endian: `chain_id (u64) || address (20)
    /// || policy_hash (32) || owners_hash (32) || threshold (u8) ||
    /// admin_nonce (u64) || audit_head (32) || tpm_identity (u8: bit 0 set
    /// for a verified TPM, the key lock in bits 1 to 3 and 7, see
    /// [`KeyLockFacts`])`.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; ACCOUNT_FACTS_LEN] {
        let mut out = [0u8; ACCOUNT_FACTS_LEN];
        let (chain_id, rest) = out.split_at_mut(8);
        chain_id.copy_from_slice(&self.chain_id.to_be_bytes());
        let (address, rest) = rest.split_at_mut(ADDRESS_LEN);
        address.copy_from_slice(&self.address.0);
        let (policy_hash, rest) = rest.split_at_mut(32);
        policy_hash.copy_from_slice(&self.policy_hash);
        let (owners_hash, rest) = rest.split_at_mut(32);
        owners_hash.copy_from_slice(&self.owners_hash);
        let (threshold, rest) = rest.split_at_mut(1);
        threshold[0] = self.threshold;
        let (admin_nonce, rest) = rest.split_at_mut(8);
        admin_nonce.copy_from_slice(&self.admin_nonce.to_be_bytes());
        let (audit_head, tpm_identity) = rest.split_at_mut(32);
        audit_head.copy_from_slice(&self.audit_head);
        tpm_identity[0] = self.tpm_identity.to_byte() | self.key_lock.to_bits();
        out
    }
}

/// The challenge a quote and the wallet's signature both commit to:
/// `SHA-256("flare-wallet/attest/v3" || nonce || chain_id (u64 BE) ||
/// address (20) || policy_hash (32) || owners_hash (32) || threshold (u8) ||
/// admin_nonce (u64 BE) || audit_head (32) || tpm_identity (u8))`, the fields after the nonce
/// being [`AccountFacts::to_bytes`].
///
/// The label has a fixed length and the fields after the nonce have fixed
/// lengths, so the concatenation is unambiguous for a nonce of any length.
/// Use [`NO_POLICY_HASH`] for an account without a signing policy, and
/// [`NO_OWNERS_HASH`](crate::authority::NO_OWNERS_HASH) with threshold 0 for
/// an account without owners.
#[must_use]
pub fn challenge(nonce: &[u8], facts: &AccountFacts) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CHALLENGE_LABEL);
    h.update(nonce);
    h.update(facts.to_bytes());
    h.finalize().into()
}

/// An ECDSA P-256 signature by the attestation key, as two 32-byte scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AkSignature {
    /// The `r` scalar, big-endian, left-padded to 32 bytes.
    pub r: [u8; 32],
    /// The `s` scalar, big-endian, left-padded to 32 bytes.
    pub s: [u8; 32],
}

/// Attestation evidence: a TPM quote and the wallet's signature over the
/// same challenge. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The raw `TPMS_ATTEST` the AK signed.
    pub attest: Vec<u8, MAX_ATTEST_LEN>,
    /// The AK's ECDSA signature over SHA-256 of `attest`.
    pub ak_signature: AkSignature,
    /// The AK's `TPMT_PUBLIC`.
    pub ak_public: Vec<u8, MAX_AK_PUBLIC_LEN>,
    /// The quoted PCR selection.
    pub pcr_selection: PcrSelection,
    /// The values of the selected PCRs, in ascending PCR order.
    pub pcr_values: Vec<[u8; PCR_VALUE_LEN], MAX_PCRS>,
    /// The account the evidence speaks for, bound into the challenge.
    pub account: AccountFacts,
    /// The wallet's EIP-191 signature over the 32-byte challenge.
    pub wallet_signature: Signature,
}

/// What the caller requires beyond a well-formed, self-consistent evidence.
#[derive(Clone, Copy, Debug, Default)]
pub struct Expectations<'a> {
    /// The address the evidence must speak for.
    pub address: Option<Address>,
    /// The chain id the evidence must be bound to.
    pub chain_id: Option<u64>,
    /// The policy hash the evidence must be bound to.
    pub policy_hash: Option<[u8; 32]>,
    /// The owners hash the evidence must be bound to.
    pub owners_hash: Option<[u8; 32]>,
    /// The threshold the evidence must be bound to.
    pub threshold: Option<u8>,
    /// The admin nonce the evidence must be bound to.
    pub admin_nonce: Option<u64>,
    /// The audit-log head the evidence must be bound to.
    pub audit_head: Option<[u8; 32]>,
    /// PCRs that must be quoted, with their values.
    pub pcr_values: &'a [(u8, [u8; PCR_VALUE_LEN])],
    /// The exact PCR selection the quote must cover; `None` accepts any
    /// SHA-256 selection. The faces default to [`PcrSelection::SHA256_0_TO_7`].
    pub pcr_selection: Option<PcrSelection>,
    /// Accept evidence from an account created on an unverified TPM
    /// (reported in [`VerifiedFacts::tpm_identity`]); refused otherwise.
    pub accept_unverified_tpm: bool,
}

/// How an attestation key came to be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnrollmentMethod {
    /// Credential activation against an EK whose certificate chain verified.
    CredentialActivation,
    /// An AK certificate from the platform whose chain verified.
    AkCertificate,
}

/// The trust anchor [`verify`] requires: the Name of an attestation key that
/// an enrollment bound to a trusted TPM. Only an enrollment makes one:
/// [`ActivationChallenge::finish`](crate::enrollment::ActivationChallenge::finish)
/// after the verifier's own credential activation, or with `std` an
/// enrollment record or AK certificate checked against trust roots
/// ([`crate::enrollment::EnrollmentTrust`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedAk {
    ak_name: [u8; SHA256_NAME_LEN],
    method: EnrollmentMethod,
    root_sha256: Option<[u8; 32]>,
}

impl PinnedAk {
    pub(crate) const fn new(
        ak_name: [u8; SHA256_NAME_LEN],
        method: EnrollmentMethod,
        root_sha256: Option<[u8; 32]>,
    ) -> Self {
        Self {
            ak_name,
            method,
            root_sha256,
        }
    }

    /// A pin made without any enrollment, compiled only into fuzzing builds
    /// (`cargo fuzz` sets `--cfg fuzzing`) so the checks after the pin are
    /// reachable from arbitrary input. Never in a normal build.
    #[cfg(fuzzing)]
    #[must_use]
    pub const fn unenrolled_for_fuzzing(ak_name: [u8; SHA256_NAME_LEN]) -> Self {
        Self::new(ak_name, EnrollmentMethod::CredentialActivation, None)
    }

    /// The pinned AK's Name.
    #[must_use]
    pub const fn ak_name(&self) -> &[u8; SHA256_NAME_LEN] {
        &self.ak_name
    }

    /// How the AK was enrolled.
    #[must_use]
    pub const fn method(&self) -> EnrollmentMethod {
        self.method
    }

    /// SHA-256 of the trust root the enrollment's chain ended at (`None` for
    /// an activation whose EK the caller matched to its certificate itself).
    #[must_use]
    pub const fn root_sha256(&self) -> Option<&[u8; 32]> {
        self.root_sha256.as_ref()
    }
}

/// What a successful [`verify`] establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedFacts {
    /// The account facts bound into the challenge; `account.address` is
    /// the address whose key signed it.
    pub account: AccountFacts,
    /// The quoted PCR selection.
    pub pcr_selection: PcrSelection,
    /// The quoted PCR values, in ascending PCR order.
    pub pcr_values: Vec<[u8; PCR_VALUE_LEN], MAX_PCRS>,
    /// The Name of the AK that signed the quote.
    pub ak_name: [u8; SHA256_NAME_LEN],
    /// The TPM clock (milliseconds) when it quoted.
    pub clock: u64,
    /// The TPM's reset count when it quoted.
    pub reset_count: u32,
    /// The TPM's restart count when it quoted.
    pub restart_count: u32,
    /// The TPM's firmware version.
    pub firmware_version: u64,
    /// Whether the account was created on a verified TPM.
    pub tpm_identity: TpmIdentity,
    /// What an unsealer of the account's key must present
    /// ([`KeyLockFacts::NONE`]: any local process with TPM access and the
    /// account file can unseal it).
    pub key_lock: KeyLockFacts,
    /// How the AK was enrolled.
    pub enrollment_method: EnrollmentMethod,
    /// SHA-256 of the trust root the AK's enrollment chains to, when known.
    pub root_sha256: Option<[u8; 32]>,
}

/// Why evidence was refused, one variant per check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestError {
    /// The evidence encoding does not start with the evidence magic.
    EvidenceBadMagic,
    /// The evidence encoding has a version this code does not read.
    EvidenceUnsupportedVersion,
    /// The evidence is version 1, which binds no owners, threshold, admin
    /// nonce or audit head: it is no longer accepted.
    EvidenceVersionRetired,
    /// The evidence is version 2, which carries no TPM identity marker and
    /// was made before AKs were enrolled: it has no trust chain and is refused.
    EvidenceWithoutTrustChain,
    /// The evidence's TPM identity marker is neither 0 nor 1.
    EvidenceTpmIdentityInvalid,
    /// No trust anchor was given: evidence proves nothing about a TPM without
    /// trust roots and an enrollment record or AK certificate.
    NoTrustAnchor,
    /// The quote's AK is not the one the enrollment pinned.
    AkNotEnrolled,
    /// The account was created on a TPM without a verified EK certificate,
    /// and the caller did not accept unverified TPMs.
    UnverifiedTpm,
    /// The quote covers another PCR selection than the one required.
    PcrSelectionNotExpected,
    /// The evidence encoding ends early.
    EvidenceTruncated,
    /// A length in the evidence encoding is zero or over its bound.
    EvidenceLengthOutOfBounds,
    /// The number of PCR values differs from the number of selected PCRs.
    EvidencePcrCountMismatch,
    /// Bytes follow the evidence encoding.
    EvidenceTrailingBytes,
    /// An output buffer is too small.
    BufferTooSmall,
    /// A PCR index is outside the 32 a selection can name.
    PcrIndexOutOfRange,
    /// The PCR bank is not SHA-256, or the selection is empty.
    UnsupportedPcrBank,
    /// The AK public area is not a well-formed `TPMT_PUBLIC`.
    AkPublicMalformed,
    /// The AK is not an ECC key.
    AkNotEcc,
    /// The AK's nameAlg is not SHA-256.
    AkNameAlg,
    /// The AK lacks fixedTPM, fixedParent, sensitiveDataOrigin, restricted or sign, or can decrypt.
    AkAttributes,
    /// The AK has a symmetric algorithm or a KDF, which a signing key must not.
    AkParameters,
    /// The AK's scheme is not ECDSA with SHA-256.
    AkScheme,
    /// The AK's curve is not NIST P-256.
    AkCurve,
    /// The AK's public point is not on P-256.
    AkPointInvalid,
    /// The AK signature's r or s is zero or not below the group order.
    AkSignatureMalformed,
    /// The AK signature does not verify over the attest bytes.
    AkSignatureInvalid,
    /// The attest bytes are not a well-formed `TPMS_ATTEST` quote.
    AttestMalformed,
    /// The attest magic is not `TPM_GENERATED_VALUE`: the TPM did not make it.
    AttestBadMagic,
    /// The attest type is not `TPM_ST_ATTEST_QUOTE`.
    AttestNotQuote,
    /// The quote's qualifying data is not the challenge for this nonce and evidence.
    ChallengeMismatch,
    /// The quote's PCR selection differs from the evidence's.
    PcrSelectionMismatch,
    /// The quote's PCR digest differs from the digest of the evidence's PCR values.
    PcrDigestMismatch,
    /// The wallet signature's r, s or parity is invalid.
    WalletSignatureMalformed,
    /// The wallet signature does not recover to the evidence's address.
    WalletSignatureMismatch,
    /// The evidence speaks for another address than the expected one.
    AddressMismatch,
    /// The evidence is bound to another chain id than the expected one.
    ChainIdMismatch,
    /// The evidence is bound to another policy hash than the expected one.
    PolicyHashMismatch,
    /// The evidence is bound to another owners hash than the expected one.
    OwnersHashMismatch,
    /// The evidence is bound to another threshold than the expected one.
    ThresholdMismatch,
    /// The evidence is bound to another admin nonce than the expected one.
    AdminNonceMismatch,
    /// The evidence is bound to another audit-log head than the expected one.
    AuditHeadMismatch,
    /// An expected PCR is not in the quote's selection.
    PcrNotQuoted,
    /// A quoted PCR value differs from the expected one.
    PcrValueMismatch,
}

impl fmt::Display for AttestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AttestError as E;
        f.write_str(match self {
            E::EvidenceBadMagic => "not attestation evidence (bad magic)",
            E::EvidenceUnsupportedVersion => "attestation evidence version is not supported",
            E::EvidenceVersionRetired => {
                "attestation evidence version 1 (without owners, threshold, admin nonce and audit head) is no longer accepted: attest again"
            }
            E::EvidenceWithoutTrustChain => {
                "attestation evidence version 2 has no TPM trust chain (no TPM identity marker, no enrolled AK) and is refused: enroll the attestation key and attest again"
            }
            E::EvidenceTpmIdentityInvalid => {
                "attestation evidence: the TPM identity marker is neither verified (1) nor unverified (0)"
            }
            E::NoTrustAnchor => {
                "no trust anchor: verifying evidence requires TPM trust roots and an enrollment record, or an AK certificate chain and its roots"
            }
            E::AkNotEnrolled => {
                "the quote's attestation key is not the enrolled one: its Name differs from the enrollment's"
            }
            E::UnverifiedTpm => {
                "the account was created on an unverified TPM (no verified EK certificate) and unverified TPMs are not accepted"
            }
            E::PcrSelectionNotExpected => {
                "the quote covers another PCR selection than the one required"
            }
            E::EvidenceTruncated => "attestation evidence is truncated",
            E::EvidenceLengthOutOfBounds => "attestation evidence has a length out of bounds",
            E::EvidencePcrCountMismatch => {
                "attestation evidence: PCR value count differs from the selection"
            }
            E::EvidenceTrailingBytes => "attestation evidence has trailing bytes",
            E::BufferTooSmall => "output buffer too small for attestation evidence",
            E::PcrIndexOutOfRange => "PCR index out of range (0 to 31)",
            E::UnsupportedPcrBank => "PCR selection is empty or not in the SHA-256 bank",
            E::AkPublicMalformed => "attestation key public area is malformed",
            E::AkNotEcc => "attestation key is not an ECC key",
            E::AkNameAlg => "attestation key nameAlg is not SHA-256",
            E::AkAttributes => {
                "attestation key is not a restricted, fixed, TPM-generated signing key"
            }
            E::AkParameters => "attestation key has a symmetric algorithm or KDF",
            E::AkScheme => "attestation key scheme is not ECDSA with SHA-256",
            E::AkCurve => "attestation key curve is not NIST P-256",
            E::AkPointInvalid => "attestation key public point is not on P-256",
            E::AkSignatureMalformed => "quote signature has an out-of-range scalar",
            E::AkSignatureInvalid => "quote signature does not verify with the attestation key",
            E::AttestMalformed => "quote attest structure is malformed",
            E::AttestBadMagic => "quote was not generated by a TPM (bad magic)",
            E::AttestNotQuote => "attest structure is not a quote",
            E::ChallengeMismatch => {
                "quote qualifying data is not the challenge (wrong nonce or evidence fields)"
            }
            E::PcrSelectionMismatch => "quote PCR selection differs from the evidence",
            E::PcrDigestMismatch => "quote PCR digest differs from the evidence PCR values",
            E::WalletSignatureMalformed => "wallet signature is malformed",
            E::WalletSignatureMismatch => {
                "wallet signature does not recover to the evidence address"
            }
            E::AddressMismatch => "evidence address is not the expected one",
            E::ChainIdMismatch => "evidence chain id is not the expected one",
            E::PolicyHashMismatch => "evidence policy hash is not the expected one",
            E::OwnersHashMismatch => "evidence owners hash is not the expected one",
            E::ThresholdMismatch => "evidence owner threshold is not the expected one",
            E::AdminNonceMismatch => "evidence admin nonce is not the expected one",
            E::AuditHeadMismatch => "evidence audit-log head is not the expected one",
            E::PcrNotQuoted => "an expected PCR is not in the quote",
            E::PcrValueMismatch => "a quoted PCR value differs from the expected one",
        })
    }
}

/// The digest of the PCR values as `TPM2_Quote` computes it: SHA-256 over
/// the values concatenated in ascending PCR order.
#[must_use]
pub fn pcr_digest(values: &[[u8; PCR_VALUE_LEN]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for v in values {
        h.update(v);
    }
    h.finalize().into()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Verifies `evidence` for the verifier's `nonce` and returns what it proves.
///
/// # Errors
/// The [`AttestError`] of the first check that fails, in the order given in
/// the module documentation.
pub fn verify(
    evidence: &Evidence,
    nonce: &[u8],
    anchor: &PinnedAk,
    expectations: &Expectations<'_>,
) -> Result<VerifiedFacts, AttestError> {
    let ak_name = sha256_name(&evidence.ak_public);
    if !ct_eq(&anchor.ak_name, &ak_name) {
        return Err(AttestError::AkNotEnrolled);
    }

    let ak = wire::parse_ak_public(&evidence.ak_public)?;
    let signature = p256::ecdsa::Signature::from_scalars(
        p256::FieldBytes::from(evidence.ak_signature.r),
        p256::FieldBytes::from(evidence.ak_signature.s),
    )
    .map_err(|_| AttestError::AkSignatureMalformed)?;
    ak.verify(&evidence.attest, &signature)
        .map_err(|_| AttestError::AkSignatureInvalid)?;

    let quote = wire::parse_quote(&evidence.attest)?;
    let account = &evidence.account;
    let expected_challenge = challenge(nonce, account);
    if !ct_eq(quote.extra_data, &expected_challenge) {
        return Err(AttestError::ChallengeMismatch);
    }
    if quote.pcr_selection != Some(evidence.pcr_selection) {
        return Err(AttestError::PcrSelectionMismatch);
    }
    if evidence.pcr_selection.hash_alg != wire::TPM_ALG_SHA256 || evidence.pcr_selection.bitmap == 0
    {
        return Err(AttestError::UnsupportedPcrBank);
    }
    if evidence.pcr_values.len() != evidence.pcr_selection.count() {
        return Err(AttestError::EvidencePcrCountMismatch);
    }
    if !ct_eq(quote.pcr_digest, &pcr_digest(&evidence.pcr_values)) {
        return Err(AttestError::PcrDigestMismatch);
    }
    if let Some(required) = expectations.pcr_selection {
        if required != evidence.pcr_selection {
            return Err(AttestError::PcrSelectionNotExpected);
        }
    }

    let signer = recover_wallet_signer(&expected_challenge, &evidence.wallet_signature)?;
    if signer != account.address {
        return Err(AttestError::WalletSignatureMismatch);
    }
    if account.tpm_identity == TpmIdentity::Unverified && !expectations.accept_unverified_tpm {
        return Err(AttestError::UnverifiedTpm);
    }

    if let Some(address) = expectations.address {
        if address != account.address {
            return Err(AttestError::AddressMismatch);
        }
    }
    if let Some(chain_id) = expectations.chain_id {
        if chain_id != account.chain_id {
            return Err(AttestError::ChainIdMismatch);
        }
    }
    if let Some(policy_hash) = expectations.policy_hash {
        if !ct_eq(&policy_hash, &account.policy_hash) {
            return Err(AttestError::PolicyHashMismatch);
        }
    }
    if let Some(owners_hash) = expectations.owners_hash {
        if !ct_eq(&owners_hash, &account.owners_hash) {
            return Err(AttestError::OwnersHashMismatch);
        }
    }
    if let Some(threshold) = expectations.threshold {
        if threshold != account.threshold {
            return Err(AttestError::ThresholdMismatch);
        }
    }
    if let Some(admin_nonce) = expectations.admin_nonce {
        if admin_nonce != account.admin_nonce {
            return Err(AttestError::AdminNonceMismatch);
        }
    }
    if let Some(audit_head) = expectations.audit_head {
        if !ct_eq(&audit_head, &account.audit_head) {
            return Err(AttestError::AuditHeadMismatch);
        }
    }
    for (index, expected) in expectations.pcr_values {
        let position = evidence
            .pcr_selection
            .indices()
            .position(|i| i == *index)
            .ok_or(AttestError::PcrNotQuoted)?;
        let actual = evidence
            .pcr_values
            .get(position)
            .ok_or(AttestError::PcrNotQuoted)?;
        if !ct_eq(actual, expected) {
            return Err(AttestError::PcrValueMismatch);
        }
    }

    Ok(VerifiedFacts {
        account: evidence.account,
        pcr_selection: evidence.pcr_selection,
        pcr_values: evidence.pcr_values.clone(),
        ak_name,
        clock: quote.clock,
        reset_count: quote.reset_count,
        restart_count: quote.restart_count,
        firmware_version: quote.firmware_version,
        tpm_identity: account.tpm_identity,
        key_lock: account.key_lock,
        enrollment_method: anchor.method,
        root_sha256: anchor.root_sha256,
    })
}

/// The address whose key made `signature` over the EIP-191 digest of the
/// 32-byte challenge.
fn recover_wallet_signer(
    challenge: &[u8; 32],
    signature: &Signature,
) -> Result<Address, AttestError> {
    recover_address(&eip191_hash(challenge), signature).map_err(|e| match e {
        SignerError::RecoveryFailed => AttestError::WalletSignatureMismatch,
        _ => AttestError::WalletSignatureMalformed,
    })
}
