//! The sealed-key file format: what the state directory stores and what a
//! TPM-bound backup carries.
//!
//! The file holds no secret in clear. The key lives in the TPM2B_PRIVATE
//! blob, which only the TPM that created it (the one whose storage root key
//! has the recorded Name) can load. The format is versioned, self-describing
//! and ends with a SHA-256 over every byte before it, so a damaged copy is
//! refused before anything reaches the TPM.
//!
//! # Wire layout (versions 1 and 2, all integers big-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `b"FLWSEAL\0"` ([`MAGIC`]) |
//! | 8 | 2 | version: `2` ([`VERSION`]) when the account has owners, else `1` ([`VERSION_1`]) |
//! | 10 | 2 | flags: bit 0 = PCR policy present ([`FLAG_PCR_POLICY`]), bit 1 = signing policy present ([`FLAG_SIGNING_POLICY`]), bit 2 = owners present ([`FLAG_OWNERS`], version 2 only, and only with bit 1); other bits must be 0 |
//! | 12 | 20 | Ethereum address of the sealed key ([`ADDRESS_LEN`]) |
//! | 32 | 2 | `n`: length of the SRK Name, `1..=`[`MAX_SRK_NAME_LEN`] |
//! | 34 | `n` | SRK Name (TPM2B_NAME contents: nameAlg then digest) |
//! | ... | 2 | `p`: length of the public area, `1..=`[`MAX_PUBLIC_LEN`] |
//! | ... | `p` | TPMT_PUBLIC of the sealed object |
//! | ... | 2 | `q`: length of the private blob, `1..=`[`MAX_PRIVATE_LEN`] |
//! | ... | `q` | contents of TPM2B_PRIVATE (the TPM-wrapped sensitive area) |
//! | ... | | only when bit 0 of flags is set: |
//! | ... | 2 | PCR bank hash algorithm (TPM_ALG_ID) |
//! | ... | 1 | `s`: size of the PCR bitmap, `1..=`[`MAX_PCR_SELECT_LEN`] |
//! | ... | `s` | PCR bitmap (bit `j` of byte `i` selects PCR `8i + j`) |
//! | ... | 2 | `d`: policy digest length, `1..=`[`MAX_POLICY_DIGEST_LEN`] |
//! | ... | `d` | policy digest (the sealed object's authPolicy) |
//! | ... | | only when bit 1 of flags is set: |
//! | ... | 2 | `m`: signing policy length, `1..=`[`MAX_SIGNING_POLICY_LEN`] |
//! | ... | `m` | the signing policy's canonical encoding ([`crate::policy`]) |
//! | ... | 32 | binding tag: a MAC under a key derived from the sealed key, over the address, the policy and (version 2) the owner section |
//! | ... | | only when bit 2 of flags is set (version 2): |
//! | ... | 1 | `k`: number of owners, `1..=`[`MAX_OWNERS`] |
//! | ... | `20k` | the owners' addresses, ascending |
//! | ... | 1 | threshold `M` (checked `1..=k` by [`crate::authority::OwnerSet::decode`]) |
//! | ... | 8 | the admin nonce: how many owner-approved admin actions the account has executed |
//! | ... | | only when bit 3 of flags is set (version 3, and only with bit 1): |
//! | ... | 2 | `e`: length of the EK Name, `1..=`[`MAX_SRK_NAME_LEN`] |
//! | ... | `e` | the Name of the TPM endorsement key the account is bound to |
//! | ... | 1 | `1`: the EK was verified through its certificate chain; `0`: an unverified TPM, allowed explicitly |
//! | ... | | only when bit 4 of flags is set (version 3): the key-lock section |
//! | ... | 1 | key-lock mode: bit 0 PIN, bit 1 PCRs (then bit 0 of flags is set too), bit 2 boot-once; other bits 0; `0` ([`KEY_LOCK_NONE`]): no lock, the section carries the counter alone |
//! | ... | 1 | the boot-once PCR: 8..=15 with mode bit 2, else 0 |
//! | ... | 4 | the anti-rollback NV counter index (0: none; never 0 with mode 0) |
//! | ... | 8 | the counter value the file was written at |
//! | ... | 2 | `d`: policy digest length, `1..=`[`MAX_POLICY_DIGEST_LEN`]; `0` with mode 0 (and only then) |
//! | ... | `d` | the sealed object's authPolicy (the combined lock policy) |
//! | end - 32 | 32 | SHA-256 of every byte before this field ([`INTEGRITY_LEN`]) |
//!
//! Each length prefix of the public and private blobs is also the TPM2B size
//! field, so the bytes from a prefix onwards are exactly the TPM2B_PUBLIC and
//! TPM2B_PRIVATE that `TPM2_Load` takes.
//!
//! Files without owners are written as version 1, byte for byte the files
//! written before owners existed, so an ownerless account stays readable by
//! older builds. Files without a signing policy are byte for byte the files
//! written before bit 1 existed; a reader that predates it refuses a file with the bit set
//! (unknown flag) rather than ignore the policy. The trailing SHA-256 only
//! detects damage; the binding tag is what stops a writer of the state
//! directory from swapping the policy, since making a tag takes the key.
//!
//! A key-lock section with mode 0 (an account without a key lock, written
//! since every account has an anti-rollback counter) has the same layout; a
//! reader that predates mode 0 refuses it ([`BackupError::InvalidKeyLock`])
//! rather than load the account without checking its counter.
//!
//! Parsing is strict: unknown version or flags, empty or over-long fields,
//! bytes after the integrity check and any integrity mismatch are each a
//! distinct [`BackupError`]. The parser borrows from its input, never panics
//! and needs no allocator.

use core::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// File magic: identifies a flare-wallet sealed-key file.
pub const MAGIC: [u8; 8] = *b"FLWSEAL\0";
/// The version of a file with owners.
pub const VERSION: u16 = 2;
/// Flag bit (version 3): the key-lock section follows the owner section.
pub const FLAG_KEY_LOCK: u16 = 0x0010;
/// Key-lock mode `none`: no lock; the section carries the account's
/// anti-rollback counter alone (a non-zero index, an empty policy digest).
pub const KEY_LOCK_NONE: u8 = 0x00;
/// Key-lock mode bit: a PIN.
pub const KEY_LOCK_PIN: u8 = 0x01;
/// Key-lock mode bit: PCRs (the selection is in the PCR policy, flag bit 0).
pub const KEY_LOCK_PCRS: u8 = 0x02;
/// Key-lock mode bit: unseal once per boot.
pub const KEY_LOCK_BOOT_ONCE: u8 = 0x04;
/// Length of the key-lock section's fixed part (mode, PCR, NV index, counter).
pub const KEY_LOCK_FIXED_LEN: usize = 1 + 1 + 4 + 8;
/// The version of a file without owners (read and written).
pub const VERSION_1: u16 = 1;
/// Flag bit: the object is sealed to a PCR policy, stored after the blobs.
pub const FLAG_PCR_POLICY: u16 = 0x0001;
/// Flag bit: a signing policy and its binding tag follow the PCR policy.
pub const FLAG_SIGNING_POLICY: u16 = 0x0002;
/// Flag bit (version 2): the owner set and admin nonce follow the binding tag.
pub const FLAG_OWNERS: u16 = 0x0004;
/// Flag bit (version 3): the TPM identity section (EK Name and verified
/// marker) follows the owner section.
pub const FLAG_TPM_IDENTITY: u16 = 0x0008;
/// The version of a file with a TPM identity section (flag bit 3) or a
/// key-lock section (flag bit 4).
pub const VERSION_3: u16 = 3;
/// Every flag bit version 3 defines.
pub const KNOWN_FLAGS: u16 =
    FLAG_PCR_POLICY | FLAG_SIGNING_POLICY | FLAG_OWNERS | FLAG_TPM_IDENTITY | FLAG_KEY_LOCK;
/// Every flag bit version 3 defines (the same as [`KNOWN_FLAGS`]).
pub const KNOWN_FLAGS_V3: u16 = KNOWN_FLAGS;
/// Every flag bit version 2 defines.
pub const KNOWN_FLAGS_V2: u16 = FLAG_PCR_POLICY | FLAG_SIGNING_POLICY | FLAG_OWNERS;
/// Every flag bit version 1 defines.
pub const KNOWN_FLAGS_V1: u16 = FLAG_PCR_POLICY | FLAG_SIGNING_POLICY;
/// Most owners an account has.
pub const MAX_OWNERS: usize = 16;
/// Longest owner section: count, addresses, threshold and admin nonce.
pub const MAX_OWNER_SECTION_LEN: usize = 1 + ADDRESS_LEN * MAX_OWNERS + 1 + 8;

/// Length of the magic.
pub const MAGIC_LEN: usize = 8;
/// Length of the version field.
pub const VERSION_LEN: usize = 2;
/// Length of the flags field.
pub const FLAGS_LEN: usize = 2;
/// Length of an Ethereum address.
pub const ADDRESS_LEN: usize = 20;
/// Length of every length prefix of a variable field (u16).
pub const LENGTH_PREFIX_LEN: usize = 2;
/// Length of the trailing SHA-256 integrity check.
pub const INTEGRITY_LEN: usize = 32;

/// Offset of the version field.
pub const VERSION_OFFSET: usize = MAGIC_LEN;
/// Offset of the flags field.
pub const FLAGS_OFFSET: usize = VERSION_OFFSET + VERSION_LEN;
/// Offset of the address.
pub const ADDRESS_OFFSET: usize = FLAGS_OFFSET + FLAGS_LEN;
/// Offset of the SRK Name length prefix; the variable fields start here.
pub const SRK_NAME_OFFSET: usize = ADDRESS_OFFSET + ADDRESS_LEN;

/// Longest SRK Name: a 2-byte nameAlg and a SHA-512 digest.
pub const MAX_SRK_NAME_LEN: usize = 2 + 64;
/// Longest TPMT_PUBLIC accepted for the sealed object.
pub const MAX_PUBLIC_LEN: usize = 512;
/// Longest TPM2B_PRIVATE contents accepted.
pub const MAX_PRIVATE_LEN: usize = 512;
/// Longest PCR bitmap (32 PCRs).
pub const MAX_PCR_SELECT_LEN: usize = 4;
/// Longest policy digest (SHA-512).
pub const MAX_POLICY_DIGEST_LEN: usize = 64;
/// Longest signing policy encoding.
pub const MAX_SIGNING_POLICY_LEN: usize = crate::policy::MAX_ENCODED_LEN;
/// Length of the signing policy's binding tag.
pub const BINDING_TAG_LEN: usize = 32;

/// The shortest well-formed file: one-byte fields and no PCR policy.
pub const MIN_FILE_LEN: usize = SRK_NAME_OFFSET + 3 * (LENGTH_PREFIX_LEN + 1) + INTEGRITY_LEN;
/// The longest well-formed file: every field at its bound.
pub const MAX_FILE_LEN: usize = SRK_NAME_OFFSET
    + LENGTH_PREFIX_LEN
    + MAX_SRK_NAME_LEN
    + LENGTH_PREFIX_LEN
    + MAX_PUBLIC_LEN
    + LENGTH_PREFIX_LEN
    + MAX_PRIVATE_LEN
    + 2
    + 1
    + MAX_PCR_SELECT_LEN
    + LENGTH_PREFIX_LEN
    + MAX_POLICY_DIGEST_LEN
    + LENGTH_PREFIX_LEN
    + MAX_SIGNING_POLICY_LEN
    + BINDING_TAG_LEN
    + MAX_OWNER_SECTION_LEN
    + LENGTH_PREFIX_LEN
    + MAX_SRK_NAME_LEN
    + 1
    + KEY_LOCK_FIXED_LEN
    + LENGTH_PREFIX_LEN
    + MAX_POLICY_DIGEST_LEN
    + INTEGRITY_LEN;

/// What is wrong with a sealed-key file, or why one cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupError {
    /// The first 8 bytes are not the sealed-key magic.
    BadMagic,
    /// The version field names a version this code does not read.
    UnsupportedVersion(u16),
    /// The flags field has a bit this version does not define.
    UnknownFlags(u16),
    /// The input ends before the field it names is complete.
    Truncated(Field),
    /// A length prefix is above the bound for its field.
    LengthOverBound(Field),
    /// A length prefix is zero for a field that cannot be empty.
    EmptyField(Field),
    /// A one-byte marker holds a value its field does not define.
    BadMarker(Field),
    /// Bytes follow the integrity check.
    TrailingBytes,
    /// The SHA-256 at the end does not match the bytes before it.
    IntegrityMismatch,
    /// The caller's output buffer is shorter than the encoding.
    BufferTooSmall,
    /// The key-lock section's mode or boot-once PCR is out of range, or its
    /// PCR bit disagrees with the PCR policy's presence.
    InvalidKeyLock,
    /// The flags do not fit the version: owners in a version 1 file, a
    /// version 2 file without owners, or owners without a signing policy.
    FlagsDoNotFitVersion {
        /// The version field.
        version: u16,
        /// The flags field.
        flags: u16,
    },
}

/// A field of the sealed-key file, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The fixed header: magic, version, flags and address.
    Header,
    /// The SRK Name.
    SrkName,
    /// The sealed object's public area.
    Public,
    /// The sealed object's private blob.
    Private,
    /// The PCR selection.
    PcrSelection,
    /// The policy digest.
    PolicyDigest,
    /// The signing policy and its binding tag.
    SigningPolicy,
    /// The owner set and admin nonce.
    Owners,
    /// The TPM identity section (EK Name, verified marker).
    TpmIdentity,
    /// The key-lock section.
    KeyLock,
    /// The trailing SHA-256.
    Integrity,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Header => "header",
            Field::SrkName => "SRK Name",
            Field::Public => "public area",
            Field::Private => "private blob",
            Field::PcrSelection => "PCR selection",
            Field::PolicyDigest => "policy digest",
            Field::SigningPolicy => "signing policy",
            Field::Owners => "owner section",
            Field::TpmIdentity => "TPM identity section",
            Field::KeyLock => "key-lock section",
            Field::Integrity => "integrity check",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BackupError::BadMagic => f.write_str("not a sealed-key file (bad magic)"),
            BackupError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "sealed-key file version {v} is not supported (expected {VERSION_1}, {VERSION} or {VERSION_3})"
                )
            }
            BackupError::UnknownFlags(flags) => {
                write!(f, "sealed-key file has unknown flag bits {flags:#06x}")
            }
            BackupError::Truncated(field) => {
                write!(f, "sealed-key file is truncated in its {field}")
            }
            BackupError::LengthOverBound(field) => {
                write!(f, "sealed-key file: {field} length is over its bound")
            }
            BackupError::EmptyField(field) => write!(f, "sealed-key file: {field} is empty"),
            BackupError::BadMarker(field) => {
                write!(f, "sealed-key file: {field} holds an undefined marker value")
            }
            BackupError::TrailingBytes => {
                f.write_str("sealed-key file has bytes after its integrity check")
            }
            BackupError::IntegrityMismatch => {
                f.write_str("sealed-key file is corrupted (integrity check mismatch)")
            }
            BackupError::BufferTooSmall => {
                f.write_str("output buffer too small for the sealed-key file")
            }
            BackupError::InvalidKeyLock => f.write_str(
                "sealed-key file: the key-lock section's mode, boot-once PCR or counter is invalid",
            ),
            BackupError::FlagsDoNotFitVersion { version, flags } => write!(
                f,
                "sealed-key file version {version} cannot have flags {flags:#06x} (owners need version 2 or 3 and a signing policy; a TPM identity section needs version 3 and a signing policy; a key-lock section needs version 3)"
            ),
        }
    }
}

/// The PCR policy a sealed object is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcrPolicy<'a> {
    /// The PCR bank's hash algorithm (TPM_ALG_ID, e.g. `0x000B` for SHA-256).
    pub hash_alg: u16,
    /// The PCR bitmap: bit `j` of byte `i` selects PCR `8i + j`.
    pub select: &'a [u8],
    /// The policy digest the object was sealed with.
    pub policy_digest: &'a [u8],
}

/// The key-lock section (version 3, flag bit 4): what an unsealer must
/// present, and the anti-rollback counter the file was written at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLockSection<'a> {
    /// Mode bits: [`KEY_LOCK_PIN`], [`KEY_LOCK_PCRS`], [`KEY_LOCK_BOOT_ONCE`];
    /// [`KEY_LOCK_NONE`] for an account without a lock.
    pub mode: u8,
    /// The boot-once PCR (8..=15) with [`KEY_LOCK_BOOT_ONCE`], else 0.
    pub boot_once_pcr: u8,
    /// The anti-rollback NV counter index, 0 for none.
    pub nv_counter_index: u32,
    /// The counter value the file was written at.
    pub counter: u64,
    /// The sealed object's authPolicy.
    pub policy_digest: &'a [u8],
}

impl KeyLockSection<'_> {
    /// The section's bytes as the file and the binding tag carry them.
    ///
    /// # Errors
    /// As the encoder: a mode or PCR out of range, an empty or over-long digest.
    pub fn to_bytes(&self, out: &mut [u8]) -> Result<usize, BackupError> {
        self.check()?;
        let mut w = Writer { out, pos: 0 };
        w.put(&[self.mode, self.boot_once_pcr])?;
        w.put(&self.nv_counter_index.to_be_bytes())?;
        w.put(&self.counter.to_be_bytes())?;
        w.sized(self.policy_digest)?;
        Ok(w.pos)
    }

    fn check(&self) -> Result<(), BackupError> {
        if self.mode == KEY_LOCK_NONE {
            // Key lock `none`: the section carries the anti-rollback counter
            // alone, so it has one, and no lock policy.
            let fits = self.boot_once_pcr == 0
                && self.nv_counter_index != 0
                && self.policy_digest.is_empty();
            return if fits {
                Ok(())
            } else {
                Err(BackupError::InvalidKeyLock)
            };
        }
        let known = KEY_LOCK_PIN | KEY_LOCK_PCRS | KEY_LOCK_BOOT_ONCE;
        let boot_once = self.mode & KEY_LOCK_BOOT_ONCE != 0;
        let pcr_fits = if boot_once {
            (8..=15).contains(&self.boot_once_pcr)
        } else {
            self.boot_once_pcr == 0
        };
        if self.mode == 0 || self.mode & !known != 0 || !pcr_fits {
            return Err(BackupError::InvalidKeyLock);
        }
        check_len(
            self.policy_digest.len(),
            MAX_POLICY_DIGEST_LEN,
            Field::KeyLock,
        )
    }
}

/// A signing policy as the file carries it: its canonical encoding (not
/// decoded here) and the tag that binds it to the sealed key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundPolicy<'a> {
    /// The canonical encoding of the policy.
    pub encoding: &'a [u8],
    /// The binding tag over the address and the encoding.
    pub tag: &'a [u8; BINDING_TAG_LEN],
}

/// The owners of an account and its admin nonce, as the file carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerSection<'a> {
    /// The owner set's encoding: count, ascending addresses, threshold
    /// ([`crate::authority::OwnerSet::encode`]); checked here only for its
    /// shape.
    pub owners: &'a [u8],
    /// How many owner-approved admin actions the account has executed.
    pub admin_nonce: u64,
}

/// The TPM an account is bound to, as the file carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmIdentitySection<'a> {
    /// The Name of the TPM's endorsement key.
    pub ek_name: &'a [u8],
    /// `true`: the EK was verified through its certificate chain; `false`:
    /// an unverified TPM, allowed explicitly.
    pub verified: bool,
}

/// The contents of a sealed-key file, borrowed, ready to encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedKeyFile<'a> {
    /// The Ethereum address of the sealed key.
    pub address: [u8; ADDRESS_LEN],
    /// The Name of the storage root key the object was created under.
    pub srk_name: &'a [u8],
    /// The sealed object's TPMT_PUBLIC.
    pub public: &'a [u8],
    /// The contents of the sealed object's TPM2B_PRIVATE.
    pub private: &'a [u8],
    /// The PCR policy, when the object is bound to one.
    pub pcr_policy: Option<PcrPolicy<'a>>,
}

/// A parsed, integrity-checked sealed-key file, borrowing from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedKeyFileView<'a> {
    contents: SealedKeyFile<'a>,
    public_tpm2b: &'a [u8],
    private_tpm2b: &'a [u8],
    version: u16,
    bound_policy: Option<BoundPolicy<'a>>,
    owner_section: Option<OwnerSection<'a>>,
    tpm_identity: Option<TpmIdentitySection<'a>>,
    key_lock: Option<KeyLockSection<'a>>,
}

impl<'a> SealedKeyFileView<'a> {
    /// The key-lock section (version 3), `None` for a file without one.
    #[must_use]
    pub fn key_lock(&self) -> Option<KeyLockSection<'a>> {
        self.key_lock
    }

    /// The format version the file was written with.
    #[must_use]
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The Ethereum address of the sealed key.
    #[must_use]
    pub fn address(&self) -> &[u8; ADDRESS_LEN] {
        &self.contents.address
    }

    /// The recorded SRK Name.
    #[must_use]
    pub fn srk_name(&self) -> &'a [u8] {
        self.contents.srk_name
    }

    /// The sealed object's TPMT_PUBLIC.
    #[must_use]
    pub fn public(&self) -> &'a [u8] {
        self.contents.public
    }

    /// The sealed object's TPM2B_PUBLIC (size prefix included), as `TPM2_Load` takes it.
    #[must_use]
    pub fn public_tpm2b(&self) -> &'a [u8] {
        self.public_tpm2b
    }

    /// The contents of the sealed object's TPM2B_PRIVATE.
    #[must_use]
    pub fn private(&self) -> &'a [u8] {
        self.contents.private
    }

    /// The sealed object's TPM2B_PRIVATE (size prefix included), as `TPM2_Load` takes it.
    #[must_use]
    pub fn private_tpm2b(&self) -> &'a [u8] {
        self.private_tpm2b
    }

    /// The PCR policy, when the object is bound to one.
    #[must_use]
    pub fn pcr_policy(&self) -> Option<PcrPolicy<'a>> {
        self.contents.pcr_policy
    }

    /// The signing policy and its binding tag, when the file carries one.
    #[must_use]
    pub fn bound_policy(&self) -> Option<BoundPolicy<'a>> {
        self.bound_policy
    }

    /// The owner set and admin nonce (version 2), `None` for an ownerless account.
    #[must_use]
    pub fn owner_section(&self) -> Option<OwnerSection<'a>> {
        self.owner_section
    }

    /// The TPM identity section (version 3), `None` for a file written
    /// before it existed.
    #[must_use]
    pub fn tpm_identity(&self) -> Option<TpmIdentitySection<'a>> {
        self.tpm_identity
    }

    /// Whether `srk_name` is the recorded SRK Name, compared in constant time.
    #[must_use]
    pub fn srk_name_matches(&self, srk_name: &[u8]) -> bool {
        self.contents.srk_name.len() == srk_name.len()
            && bool::from(self.contents.srk_name.ct_eq(srk_name))
    }

    /// The parsed contents, to re-encode or compare.
    #[must_use]
    pub fn contents(&self) -> SealedKeyFile<'a> {
        self.contents
    }
}

/// A bounds-checked reader over the input; every read names its field.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, field: Field) -> Result<&'a [u8], BackupError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(BackupError::Truncated(field))?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(BackupError::Truncated(field))?;
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self, field: Field) -> Result<u8, BackupError> {
        let b = self.take(1, field)?;
        b.first().copied().ok_or(BackupError::Truncated(field))
    }

    fn u16(&mut self, field: Field) -> Result<u16, BackupError> {
        let b = self.take(2, field)?;
        match *b {
            [hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
            _ => Err(BackupError::Truncated(field)),
        }
    }

    /// A u16-length-prefixed field with `1..=max` bytes; returns
    /// (prefix and contents, contents).
    /// A length-prefixed field that may be empty.
    fn sized_or_empty(&mut self, max: usize, field: Field) -> Result<&'a [u8], BackupError> {
        let len = usize::from(self.u16(field)?);
        if len > max {
            return Err(BackupError::LengthOverBound(field));
        }
        self.take(len, field)
    }

    fn sized(&mut self, max: usize, field: Field) -> Result<(&'a [u8], &'a [u8]), BackupError> {
        let start = self.pos;
        let len = usize::from(self.u16(field)?);
        if len == 0 {
            return Err(BackupError::EmptyField(field));
        }
        if len > max {
            return Err(BackupError::LengthOverBound(field));
        }
        let body = self.take(len, field)?;
        let whole = self
            .bytes
            .get(start..self.pos)
            .ok_or(BackupError::Truncated(field))?;
        Ok((whole, body))
    }
}

impl<'a> SealedKeyFile<'a> {
    /// Parses and integrity-checks a sealed-key file.
    ///
    /// # Errors
    /// A [`BackupError`] naming the first malformation found, checked in wire
    /// order: magic, version, flags, each length-prefixed field, then the
    /// integrity check and trailing bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<SealedKeyFileView<'a>, BackupError> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(MAGIC_LEN, Field::Header)?;
        if magic != MAGIC {
            return Err(BackupError::BadMagic);
        }
        let version = r.u16(Field::Header)?;
        if version != VERSION && version != VERSION_1 && version != VERSION_3 {
            return Err(BackupError::UnsupportedVersion(version));
        }
        let flags = r.u16(Field::Header)?;
        if flags & !KNOWN_FLAGS_V3 != 0 {
            return Err(BackupError::UnknownFlags(flags));
        }
        check_flags(version, flags)?;
        let mut address = [0u8; ADDRESS_LEN];
        address.copy_from_slice(r.take(ADDRESS_LEN, Field::Header)?);
        let (_, srk_name) = r.sized(MAX_SRK_NAME_LEN, Field::SrkName)?;
        let (public_tpm2b, public) = r.sized(MAX_PUBLIC_LEN, Field::Public)?;
        let (private_tpm2b, private) = r.sized(MAX_PRIVATE_LEN, Field::Private)?;
        let pcr_policy = if flags & FLAG_PCR_POLICY != 0 {
            let hash_alg = r.u16(Field::PcrSelection)?;
            let select_len = usize::from(r.u8(Field::PcrSelection)?);
            if select_len == 0 {
                return Err(BackupError::EmptyField(Field::PcrSelection));
            }
            if select_len > MAX_PCR_SELECT_LEN {
                return Err(BackupError::LengthOverBound(Field::PcrSelection));
            }
            let select = r.take(select_len, Field::PcrSelection)?;
            let (_, policy_digest) = r.sized(MAX_POLICY_DIGEST_LEN, Field::PolicyDigest)?;
            Some(PcrPolicy {
                hash_alg,
                select,
                policy_digest,
            })
        } else {
            None
        };
        let bound_policy = if flags & FLAG_SIGNING_POLICY != 0 {
            let (_, encoding) = r.sized(MAX_SIGNING_POLICY_LEN, Field::SigningPolicy)?;
            let tag = r
                .take(BINDING_TAG_LEN, Field::SigningPolicy)?
                .try_into()
                .map_err(|_| BackupError::Truncated(Field::SigningPolicy))?;
            Some(BoundPolicy { encoding, tag })
        } else {
            None
        };
        let owner_section = if flags & FLAG_OWNERS != 0 {
            let start = r.pos;
            let count = usize::from(r.u8(Field::Owners)?);
            if count == 0 {
                return Err(BackupError::EmptyField(Field::Owners));
            }
            if count > MAX_OWNERS {
                return Err(BackupError::LengthOverBound(Field::Owners));
            }
            r.take(ADDRESS_LEN * count + 1, Field::Owners)?;
            let owners = bytes
                .get(start..r.pos)
                .ok_or(BackupError::Truncated(Field::Owners))?;
            let nonce = r.take(8, Field::Owners)?;
            let mut nonce_bytes = [0u8; 8];
            nonce_bytes.copy_from_slice(nonce);
            Some(OwnerSection {
                owners,
                admin_nonce: u64::from_be_bytes(nonce_bytes),
            })
        } else {
            None
        };
        let tpm_identity = if flags & FLAG_TPM_IDENTITY != 0 {
            let (_, ek_name) = r.sized(MAX_SRK_NAME_LEN, Field::TpmIdentity)?;
            let verified = match r.u8(Field::TpmIdentity)? {
                0 => false,
                1 => true,
                _ => return Err(BackupError::BadMarker(Field::TpmIdentity)),
            };
            Some(TpmIdentitySection { ek_name, verified })
        } else {
            None
        };
        let key_lock = if flags & FLAG_KEY_LOCK != 0 {
            let fixed = r.take(KEY_LOCK_FIXED_LEN, Field::KeyLock)?;
            let mut index = [0u8; 4];
            let mut counter = [0u8; 8];
            index.copy_from_slice(fixed.get(2..6).unwrap_or(&[0; 4]));
            counter.copy_from_slice(fixed.get(6..14).unwrap_or(&[0; 8]));
            // Empty for key lock `none` (checked with the mode below).
            let policy_digest = r.sized_or_empty(MAX_POLICY_DIGEST_LEN, Field::KeyLock)?;
            let section = KeyLockSection {
                mode: fixed.first().copied().unwrap_or(0),
                boot_once_pcr: fixed.get(1).copied().unwrap_or(0),
                nv_counter_index: u32::from_be_bytes(index),
                counter: u64::from_be_bytes(counter),
                policy_digest,
            };
            section.check()?;
            if (section.mode & KEY_LOCK_PCRS != 0) != (flags & FLAG_PCR_POLICY != 0) {
                return Err(BackupError::InvalidKeyLock);
            }
            Some(section)
        } else {
            None
        };
        let covered = r.pos;
        let integrity = r.take(INTEGRITY_LEN, Field::Integrity)?;
        if r.pos != bytes.len() {
            return Err(BackupError::TrailingBytes);
        }
        let body = bytes
            .get(..covered)
            .ok_or(BackupError::Truncated(Field::Integrity))?;
        let digest = Sha256::digest(body);
        if !bool::from(digest.as_slice().ct_eq(integrity)) {
            return Err(BackupError::IntegrityMismatch);
        }
        Ok(SealedKeyFileView {
            contents: SealedKeyFile {
                address,
                srk_name,
                public,
                private,
                pcr_policy,
            },
            public_tpm2b,
            private_tpm2b,
            version,
            bound_policy,
            owner_section,
            tpm_identity,
            key_lock,
        })
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    ///
    /// # Errors
    /// [`BackupError::EmptyField`] or [`BackupError::LengthOverBound`] when a
    /// field is outside the bounds the parser accepts.
    pub fn encoded_len(&self) -> Result<usize, BackupError> {
        self.encoded_len_with_policy(None)
    }

    /// The number of bytes [`encode_with_policy`](Self::encode_with_policy) writes.
    ///
    /// # Errors
    /// As [`encoded_len`](Self::encoded_len), and for an empty or over-long
    /// policy encoding.
    pub fn encoded_len_with_policy(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
    ) -> Result<usize, BackupError> {
        self.encoded_len_with_owners(bound_policy, None)
    }

    /// The number of bytes [`encode_with_owners`](Self::encode_with_owners) writes.
    ///
    /// # Errors
    /// As [`encoded_len_with_policy`](Self::encoded_len_with_policy), and
    /// for an owner section without a policy or of the wrong shape.
    pub fn encoded_len_with_owners(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
    ) -> Result<usize, BackupError> {
        self.encoded_len_with_sections(bound_policy, owners, None)
    }

    /// The number of bytes [`encode_with_sections`](Self::encode_with_sections) writes.
    ///
    /// # Errors
    /// As [`encoded_len_with_owners`](Self::encoded_len_with_owners), and
    /// for a TPM identity section without a signing policy or with an empty
    /// or over-long EK Name.
    pub fn encoded_len_with_sections(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
        identity: Option<TpmIdentitySection<'_>>,
    ) -> Result<usize, BackupError> {
        self.encoded_len_with_all(bound_policy, owners, identity, None)
    }

    /// The number of bytes [`encode_with_all`](Self::encode_with_all) writes.
    ///
    /// # Errors
    /// As [`encoded_len_with_sections`](Self::encoded_len_with_sections), and
    /// [`BackupError::InvalidKeyLock`] for a key-lock section out of range or
    /// whose PCR bit disagrees with the PCR policy.
    pub fn encoded_len_with_all(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
        identity: Option<TpmIdentitySection<'_>>,
        key_lock: Option<KeyLockSection<'_>>,
    ) -> Result<usize, BackupError> {
        check_len(self.srk_name.len(), MAX_SRK_NAME_LEN, Field::SrkName)?;
        check_len(self.public.len(), MAX_PUBLIC_LEN, Field::Public)?;
        check_len(self.private.len(), MAX_PRIVATE_LEN, Field::Private)?;
        let mut len = SRK_NAME_OFFSET
            + 3 * LENGTH_PREFIX_LEN
            + self.srk_name.len()
            + self.public.len()
            + self.private.len()
            + INTEGRITY_LEN;
        if let Some(policy) = &self.pcr_policy {
            check_len(policy.select.len(), MAX_PCR_SELECT_LEN, Field::PcrSelection)?;
            check_len(
                policy.policy_digest.len(),
                MAX_POLICY_DIGEST_LEN,
                Field::PolicyDigest,
            )?;
            len += 2 + 1 + policy.select.len() + LENGTH_PREFIX_LEN + policy.policy_digest.len();
        }
        if let Some(bound) = &bound_policy {
            check_len(
                bound.encoding.len(),
                MAX_SIGNING_POLICY_LEN,
                Field::SigningPolicy,
            )?;
            len += LENGTH_PREFIX_LEN + bound.encoding.len() + BINDING_TAG_LEN;
        }
        if let Some(section) = &owners {
            if bound_policy.is_none() {
                return Err(BackupError::FlagsDoNotFitVersion {
                    version: VERSION,
                    flags: FLAG_OWNERS,
                });
            }
            let count = section.owners.first().map_or(0, |&n| usize::from(n));
            if count == 0 {
                return Err(BackupError::EmptyField(Field::Owners));
            }
            if count > MAX_OWNERS || section.owners.len() != 1 + ADDRESS_LEN * count + 1 {
                return Err(BackupError::LengthOverBound(Field::Owners));
            }
            len += section.owners.len() + 8;
        }
        if let Some(identity) = &identity {
            if bound_policy.is_none() {
                return Err(BackupError::FlagsDoNotFitVersion {
                    version: VERSION_3,
                    flags: FLAG_TPM_IDENTITY,
                });
            }
            check_len(identity.ek_name.len(), MAX_SRK_NAME_LEN, Field::TpmIdentity)?;
            len += LENGTH_PREFIX_LEN + identity.ek_name.len() + 1;
        }
        if let Some(section) = &key_lock {
            section.check()?;
            if (section.mode & KEY_LOCK_PCRS != 0) != self.pcr_policy.is_some() {
                return Err(BackupError::InvalidKeyLock);
            }
            len += KEY_LOCK_FIXED_LEN + LENGTH_PREFIX_LEN + section.policy_digest.len();
        }
        Ok(len)
    }

    /// Encodes the file into `out` and returns the number of bytes written.
    ///
    /// # Errors
    /// The errors of [`encoded_len`](Self::encoded_len), and
    /// [`BackupError::BufferTooSmall`] when `out` is too short (nothing is
    /// written then).
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BackupError> {
        self.encode_with_policy(None, out)
    }

    /// As [`encode`](Self::encode), carrying a signing policy and its
    /// binding tag (flag bit 1) when `bound_policy` is given.
    ///
    /// # Errors
    /// As [`encode`](Self::encode) and
    /// [`encoded_len_with_policy`](Self::encoded_len_with_policy).
    pub fn encode_with_policy(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        out: &mut [u8],
    ) -> Result<usize, BackupError> {
        self.encode_with_owners(bound_policy, None, out)
    }

    /// As [`encode_with_policy`](Self::encode_with_policy), carrying the
    /// account's owners and admin nonce (version 2, flag bit 2) when
    /// `owners` is given; without owners the file is version 1.
    ///
    /// # Errors
    /// As [`encode_with_policy`](Self::encode_with_policy) and
    /// [`encoded_len_with_owners`](Self::encoded_len_with_owners).
    pub fn encode_with_owners(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
        out: &mut [u8],
    ) -> Result<usize, BackupError> {
        self.encode_with_all(bound_policy, owners, None, None, out)
    }

    /// As [`encode_with_owners`](Self::encode_with_owners), carrying the TPM
    /// identity section (version 3, flag bit 3) when `identity` is given.
    ///
    /// # Errors
    /// As [`encode_with_owners`](Self::encode_with_owners) and
    /// [`encoded_len_with_sections`](Self::encoded_len_with_sections).
    pub fn encode_with_sections(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
        identity: Option<TpmIdentitySection<'_>>,
        out: &mut [u8],
    ) -> Result<usize, BackupError> {
        self.encode_with_all(bound_policy, owners, identity, None, out)
    }

    /// As [`encode_with_owners`](Self::encode_with_owners), carrying the
    /// key-lock section (version 3, flag bit 4) when `key_lock` is given.
    ///
    /// # Errors
    /// As [`encode_with_all`](Self::encode_with_all).
    pub fn encode_with_key_lock(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
        key_lock: Option<KeyLockSection<'_>>,
        out: &mut [u8],
    ) -> Result<usize, BackupError> {
        self.encode_with_all(bound_policy, owners, None, key_lock, out)
    }

    /// Encodes the file with every optional section: the TPM identity
    /// section (flag bit 3) and then the key-lock section (flag bit 4);
    /// version 3 when either is given.
    ///
    /// # Errors
    /// As [`encode_with_owners`](Self::encode_with_owners) and
    /// [`encoded_len_with_all`](Self::encoded_len_with_all).
    pub fn encode_with_all(
        &self,
        bound_policy: Option<BoundPolicy<'_>>,
        owners: Option<OwnerSection<'_>>,
        identity: Option<TpmIdentitySection<'_>>,
        key_lock: Option<KeyLockSection<'_>>,
        out: &mut [u8],
    ) -> Result<usize, BackupError> {
        let len = self.encoded_len_with_all(bound_policy, owners, identity, key_lock)?;
        let out = out.get_mut(..len).ok_or(BackupError::BufferTooSmall)?;
        let mut w = Writer { out, pos: 0 };
        w.put(&MAGIC)?;
        let version = if identity.is_some() || key_lock.is_some() {
            VERSION_3
        } else if owners.is_some() {
            VERSION
        } else {
            VERSION_1
        };
        w.put(&version.to_be_bytes())?;
        let mut flags = 0;
        if self.pcr_policy.is_some() {
            flags |= FLAG_PCR_POLICY;
        }
        if bound_policy.is_some() {
            flags |= FLAG_SIGNING_POLICY;
        }
        if owners.is_some() {
            flags |= FLAG_OWNERS;
        }
        if identity.is_some() {
            flags |= FLAG_TPM_IDENTITY;
        }
        if key_lock.is_some() {
            flags |= FLAG_KEY_LOCK;
        }
        w.put(&flags.to_be_bytes())?;
        w.put(&self.address)?;
        w.sized(self.srk_name)?;
        w.sized(self.public)?;
        w.sized(self.private)?;
        if let Some(policy) = &self.pcr_policy {
            w.put(&policy.hash_alg.to_be_bytes())?;
            let select_len = u8::try_from(policy.select.len())
                .map_err(|_| BackupError::LengthOverBound(Field::PcrSelection))?;
            w.put(&[select_len])?;
            w.put(policy.select)?;
            w.sized(policy.policy_digest)?;
        }
        if let Some(bound) = &bound_policy {
            w.sized(bound.encoding)?;
            w.put(bound.tag)?;
        }
        if let Some(section) = &owners {
            w.put(section.owners)?;
            w.put(&section.admin_nonce.to_be_bytes())?;
        }
        if let Some(identity) = &identity {
            w.sized(identity.ek_name)?;
            w.put(&[u8::from(identity.verified)])?;
        }
        if let Some(section) = &key_lock {
            let mut bytes = [0u8; KEY_LOCK_FIXED_LEN + LENGTH_PREFIX_LEN + MAX_POLICY_DIGEST_LEN];
            let section_len = section.to_bytes(&mut bytes)?;
            w.put(bytes.get(..section_len).unwrap_or(&[]))?;
        }
        let covered = w.pos;
        let body = w.out.get(..covered).ok_or(BackupError::BufferTooSmall)?;
        let digest = Sha256::digest(body);
        w.put(digest.as_slice())?;
        Ok(w.pos)
    }
}

/// Owners exist only in versions 2 and 3, always with a signing policy, and a
/// version 2 file always has them. The TPM identity section (with a signing
/// policy) and the key-lock section exist only in version 3, which always has
/// at least one of them.
fn check_flags(version: u16, flags: u16) -> Result<(), BackupError> {
    let has_owners = flags & FLAG_OWNERS != 0;
    let has_policy = flags & FLAG_SIGNING_POLICY != 0;
    let has_identity = flags & FLAG_TPM_IDENTITY != 0;
    let has_key_lock = flags & FLAG_KEY_LOCK != 0;
    let fits = if version == VERSION_1 {
        flags & !KNOWN_FLAGS_V1 == 0
    } else if version == VERSION {
        flags & !KNOWN_FLAGS_V2 == 0 && has_owners && has_policy
    } else {
        // Version 3: a TPM identity section (covered by the binding tag, so
        // with a signing policy) or a key-lock section, or both; owners only
        // with the signing policy.
        (has_identity || has_key_lock)
            && (!has_identity || has_policy)
            && (!has_owners || has_policy)
    };
    if fits {
        Ok(())
    } else {
        Err(BackupError::FlagsDoNotFitVersion { version, flags })
    }
}

fn check_len(len: usize, max: usize, field: Field) -> Result<(), BackupError> {
    if len == 0 {
        Err(BackupError::EmptyField(field))
    } else if len > max {
        Err(BackupError::LengthOverBound(field))
    } else {
        Ok(())
    }
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(BackupError::BufferTooSmall)?;
        self.out
            .get_mut(self.pos..end)
            .ok_or(BackupError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    fn sized(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        let len = u16::try_from(bytes.len()).map_err(|_| BackupError::BufferTooSmall)?;
        self.put(&len.to_be_bytes())?;
        self.put(bytes)
    }
}
