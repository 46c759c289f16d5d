//! Sealing the wallet key to the TPM.
//!
//! A key is generated as 32 bytes of OS entropy XOR 32 bytes of `TPM2_GetRandom`
//! (redrawn until it is a valid secp256k1 scalar), or imported. It is sealed as
//! a `KEYEDHASH` data object under the SRK, sent to the TPM AES-128-CFB
//! encrypted by a session salted to the SRK, then loaded and unsealed once to
//! prove the sealed copy is good. Unsealing returns it through the same kind
//! of session, encrypted on the wire, into a zeroizing buffer.
//!
//! The SRK Name recorded when the key was sealed is checked before anything is
//! sent under the SRK: a different TPM, or a different SRK, is refused.
//!
//! A [`KeyLock`] says what an unsealer must present beyond access to the TPM
//! and the sealed blobs. Its parts combine into the object's `authPolicy`,
//! computed by the TPM in a trial session, and the object then has no
//! `userWithAuth`: only a salted policy session that passed the same policy
//! unseals it.
//!
//! - **PIN**: `TPM2_PolicyAuthValue`, with the object's authorization value
//!   derived from the PIN ([`PinAuth`]). The object has no `noDA`, so each
//!   wrong PIN counts towards the TPM's dictionary-attack lockout
//!   ([`crate::tpm::command::DictionaryAttackState`]).
//! - **PCRs**: `TPM2_PolicyPCR` over the current values of a selection.
//! - **Boot-once**: `TPM2_PolicyPCR` over one non-resettable PCR (8..=15)
//!   still at its value of this boot. After each successful unseal the PCR is
//!   extended with [`BOOT_ONCE_EVENT`], so no process can unseal again until
//!   the TPM is reset (a reboot).
//!
//! PCR and boot-once selections are checked in one `PolicyPCR` over their
//! union, followed by `PolicyAuthValue` when there is a PIN. Without any lock
//! ([`KeyLock::UNLOCKED`]) the empty authorization value unseals: any local
//! process with access to the TPM and the sealed blobs can unseal the key.
//! Every object and session is flushed on every path.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::tpm::command::{self, DictionaryAttackState, ObjectBlob, Srk, SECRET_LEN};
use crate::tpm::{
    template, Name, ParameterEncryption, PcrSelection, SessionKind, SessionSalt, Tpm, TpmError,
    TpmRc, Transport,
};

/// How many times a candidate key is redrawn before giving up (a uniformly
/// random 32-byte string is an invalid secp256k1 scalar with probability
/// below 2^-127).
const MAX_DRAWS: usize = 16;

/// `TPM_CC_Unseal`.
const CC_UNSEAL: u32 = 0x15E;

/// `TPM_RC_AUTH_FAIL`: the authorization HMAC did not verify.
const RC_AUTH_FAIL: TpmRc = TpmRc::from_raw(0x08E);
/// `TPM_RC_BAD_AUTH`: a policy session's HMAC did not verify.
const RC_BAD_AUTH: TpmRc = TpmRc::from_raw(0x0A2);
/// `TPM_RC_LOCKOUT`: the TPM is in dictionary-attack lockout.
const RC_LOCKOUT: TpmRc = TpmRc::from_raw(0x921);

/// The digest a boot-once PCR is extended with after an unseal:
/// SHA-256("flare-wallet/boot-once/v1").
pub const BOOT_ONCE_EVENT: [u8; 32] = [
    0xca, 0x3d, 0x4f, 0x47, 0x0b, 0xca, 0x28, 0x0b, 0xd4, 0x63, 0x28, 0x21, 0x69, 0x0b, 0x95, 0x3a,
    0xc3, 0x48, 0x29, 0xfc, 0xa3, 0x01, 0xb7, 0x9a, 0x50, 0x08, 0x03, 0xb4, 0xf0, 0x1e, 0x33, 0x53,
];

/// What an unsealer must present, beyond access to the TPM and the sealed
/// blobs. The parts combine (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct KeyLock {
    /// A PIN (`TPM2_PolicyAuthValue`), counted by the TPM's dictionary-attack
    /// lockout.
    pub pin: bool,
    /// PCRs whose current values the key is bound to.
    pub pcrs: Option<PcrSelection>,
    /// The non-resettable PCR (8..=15) of the unseal-once-per-boot lock.
    pub boot_once_pcr: Option<u8>,
}

impl KeyLock {
    /// No lock: the empty authorization value unseals. Any local process with
    /// access to the TPM and the sealed blobs can unseal the key.
    pub const UNLOCKED: Self = Self {
        pin: false,
        pcrs: None,
        boot_once_pcr: None,
    };

    /// The default PCR of the boot-once lock: 14. PCRs 0..=7 belong to the
    /// firmware and are quoted by attestation; 16 and 23 are resettable (a
    /// reset would re-open the lock); 17..=22 are reserved for dynamic launch.
    /// Of 8..=15, Linux IMA extends 10 all the time, systemd extends 11 at
    /// every boot phase and 15 when volumes are unlocked, and GRUB (8, 9) and
    /// systemd-stub (12, 13) measure only before the kernel runs; shim's
    /// MokList measurement into 14 also happens only before the kernel, and
    /// nothing measured during boot seals to 14 later. Choose another of
    /// 8..=15 with [`KeyLock::boot_once_pcr`] where 14 is used.
    pub const DEFAULT_BOOT_ONCE_PCR: u8 = 14;

    /// A PIN lock alone.
    pub const PIN: Self = Self {
        pin: true,
        pcrs: None,
        boot_once_pcr: None,
    };

    /// A boot-once lock on [`Self::DEFAULT_BOOT_ONCE_PCR`] alone.
    pub const BOOT_ONCE: Self = Self {
        pin: false,
        pcrs: None,
        boot_once_pcr: Some(Self::DEFAULT_BOOT_ONCE_PCR),
    };

    /// `true` without any lock.
    #[must_use]
    pub const fn is_unlocked(&self) -> bool {
        !self.pin && self.pcrs.is_none() && self.boot_once_pcr.is_none()
    }

    /// The PCRs `PolicyPCR` checks: the bound PCRs and the boot-once PCR.
    #[must_use]
    pub fn policy_pcrs(&self) -> Option<PcrSelection> {
        let mut bitmap = self.pcrs.map_or(0, |pcrs| pcrs.bitmap());
        if let Some(index) = self.boot_once_pcr {
            bitmap |= 1u32.checked_shl(u32::from(index)).unwrap_or(0);
        }
        PcrSelection::from_bitmap(bitmap).ok()
    }

    /// Checks the boot-once PCR is one of 8..=15.
    ///
    /// # Errors
    ///
    /// [`SealError::InvalidBootOncePcr`].
    pub const fn check(&self) -> Result<(), SealError> {
        match self.boot_once_pcr {
            Some(index) if index < 8 || index > 15 => Err(SealError::InvalidBootOncePcr(index)),
            _ => Ok(()),
        }
    }
}

/// A PIN's authorization value for the sealed object:
/// HMAC-SHA-256(key = "flare-wallet/key-pin/v1", PIN), its last byte made
/// non-zero (a TPM drops trailing zero bytes of an authorization value).
/// Wiped on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct PinAuth([u8; 32]);

impl PinAuth {
    /// The authorization value of `pin` (its UTF-8 or raw bytes).
    ///
    /// # Errors
    ///
    /// [`SealError::EmptyPin`] for an empty PIN.
    pub fn from_pin(pin: &[u8]) -> Result<Self, SealError> {
        use hmac::Mac;
        if pin.is_empty() {
            return Err(SealError::EmptyPin);
        }
        let mut mac = crate::tpm::kdf::hmac_sha256(b"flare-wallet/key-pin/v1");
        mac.update(pin);
        let mut value: [u8; 32] = mac.finalize().into_bytes().into();
        value[31] |= 1;
        Ok(Self(value))
    }

    /// The 32 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for PinAuth {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for PinAuth {}

impl fmt::Debug for PinAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinAuth(<redacted>)")
    }
}

impl Drop for PinAuth {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Why sealing or unsealing failed. No variant carries key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// A TPM command or the transport failed.
    Tpm(TpmError),
    /// The TPM's SRK Name differs from the one recorded with the key: another
    /// TPM, or a cleared owner hierarchy. Nothing was unsealed.
    SrkNameMismatch,
    /// The PCR values differ from those the key was sealed to
    /// (`TPM_RC_POLICY_FAIL`). Nothing was unsealed.
    PcrMismatch,
    /// The sealed object's blobs do not parse or contradict its PCR policy.
    InvalidSealedObject,
    /// The check after sealing unsealed different bytes than were sealed.
    UnsealMismatch,
    /// No valid secp256k1 scalar after several draws: the entropy is broken.
    NoValidScalar,
    /// The key is PIN-locked and no PIN was given. Nothing was sent.
    PinRequired,
    /// A PIN was given for a key without a PIN lock, or an empty PIN.
    EmptyPin,
    /// A PIN was given for a key that has no PIN lock.
    UnexpectedPin,
    /// The TPM refused the PIN (`TPM_RC_AUTH_FAIL`); the failure counts
    /// towards its dictionary-attack lockout.
    WrongPin {
        /// Failures the TPM counts now (0 when it could not be read).
        failures: u32,
        /// Failures before lockout (0 when it could not be read).
        max_tries: u32,
    },
    /// The TPM is in dictionary-attack lockout (`TPM_RC_LOCKOUT`): it refuses
    /// every PIN until a failure is forgotten.
    LockedOut {
        /// Failures before lockout.
        max_tries: u32,
        /// Seconds after which one failure is forgotten (0: never).
        recovery_seconds: u32,
    },
    /// The boot-once PCR is no longer at the value the key was sealed to: the
    /// key was unsealed once in this boot already. Nothing was unsealed.
    BootOnceSpent {
        /// The boot-once PCR.
        pcr: u8,
    },
    /// The boot-once PCR could not be extended after the unseal; the key was
    /// wiped and not returned.
    BootOnceLockFailed(TpmError),
    /// A boot-once PCR outside 8..=15.
    InvalidBootOncePcr(u8),
    /// The SRK the TPM answered with is not the key the EK-verified TPM
    /// holds at that handle: an interposer substituted it. Nothing secret
    /// was sent.
    SrkNotResident,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Tpm(error) => write!(f, "{error}"),
            Self::SrkNameMismatch => f.write_str(
                "the TPM's storage root key differs from the one the key was sealed under (another TPM or a cleared TPM); nothing was unsealed",
            ),
            Self::PcrMismatch => f.write_str(
                "the PCR values differ from those the key was sealed to (TPM_RC_POLICY_FAIL); nothing was unsealed",
            ),
            Self::InvalidSealedObject => {
                f.write_str("the sealed object is malformed or its PCR policy is inconsistent")
            }
            Self::UnsealMismatch => {
                f.write_str("the TPM unsealed different bytes than were sealed")
            }
            Self::NoValidScalar => {
                f.write_str("could not draw a valid secp256k1 key: the entropy source is broken")
            }
            Self::PinRequired => {
                f.write_str("the key is PIN-locked: a PIN is required; nothing was sent to the TPM")
            }
            Self::EmptyPin => f.write_str("the PIN is empty"),
            Self::UnexpectedPin => f.write_str("a PIN was given but the key has no PIN lock"),
            Self::WrongPin {
                failures,
                max_tries,
            } => write!(
                f,
                "wrong PIN (TPM_RC_AUTH_FAIL): the TPM counts {failures} of {max_tries} failures before dictionary-attack lockout"
            ),
            Self::LockedOut {
                max_tries,
                recovery_seconds,
            } => write!(
                f,
                "the TPM is in dictionary-attack lockout (TPM_RC_LOCKOUT) after {max_tries} wrong authorizations; one failure is forgotten every {recovery_seconds} s (0: only a lockout reset clears them)"
            ),
            Self::BootOnceSpent { pcr } => write!(
                f,
                "the key was already unsealed once in this boot (PCR {pcr} was extended after that unseal); it unseals again only after a reboot; nothing was unsealed"
            ),
            Self::BootOnceLockFailed(error) => write!(
                f,
                "could not extend the boot-once PCR after the unseal ({error}); the key was wiped"
            ),
            Self::InvalidBootOncePcr(index) => write!(
                f,
                "PCR {index} cannot hold a boot-once lock: choose a non-resettable PCR in 8..=15"
            ),
            Self::SrkNotResident => f.write_str(
                "the SRK the TPM answered with is not the key the EK-verified TPM holds: \
                 the TPM's answers were substituted; nothing secret was sent",
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SealError {}

impl From<TpmError> for SealError {
    fn from(error: TpmError) -> Self {
        Self::Tpm(error)
    }
}

/// A key sealed under an SRK: what must be stored to unseal it again.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedObject {
    public: ObjectBlob,
    private: ObjectBlob,
    srk_name: Name,
    lock: KeyLock,
    policy_digest: Option<[u8; 32]>,
}

impl fmt::Debug for SealedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedObject")
            .field("public_len", &self.public.len())
            .field("private_len", &self.private.len())
            .field("srk_name", &self.srk_name)
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

impl SealedObject {
    /// Rebuilds a sealed object from stored parts, checking that the public
    /// area is a sealed data object whose attributes and `authPolicy` agree
    /// with `pcrs` / `policy_digest` (both present or both absent).
    ///
    /// # Errors
    ///
    /// [`SealError::InvalidSealedObject`] for anything inconsistent.
    pub fn from_parts(
        public: &[u8],
        private: &[u8],
        srk_name: Name,
        pcrs: Option<PcrSelection>,
        policy_digest: Option<[u8; 32]>,
    ) -> Result<Self, SealError> {
        let lock = KeyLock {
            pcrs,
            ..KeyLock::UNLOCKED
        };
        Self::from_locked_parts(public, private, srk_name, lock, policy_digest)
    }

    /// As [`SealedObject::from_parts`] for any [`KeyLock`]: `policy_digest` is
    /// present exactly when the key is locked, and the object's attributes
    /// must match the lock (no `noDA` with a PIN).
    ///
    /// # Errors
    ///
    /// [`SealError::InvalidSealedObject`] for anything inconsistent,
    /// [`SealError::InvalidBootOncePcr`] for a boot-once PCR outside 8..=15.
    pub fn from_locked_parts(
        public: &[u8],
        private: &[u8],
        srk_name: Name,
        lock: KeyLock,
        policy_digest: Option<[u8; 32]>,
    ) -> Result<Self, SealError> {
        let invalid = |_| SealError::InvalidSealedObject;
        lock.check()?;
        let (parsed, _) = command::parse_public_blob(public).map_err(invalid)?;
        command::check_private_blob(private).map_err(invalid)?;
        if lock.is_unlocked() == policy_digest.is_some() {
            return Err(SealError::InvalidSealedObject);
        }
        let policy: &[u8] = policy_digest.as_ref().map_or(&[], |digest| &digest[..]);
        let expected = template::sealed_data(policy, lock.pin);
        if parsed.object_type != expected.object_type
            || parsed.name_alg != expected.name_alg
            || parsed.object_attributes != expected.object_attributes
            || parsed.auth_policy != expected.auth_policy
            || parsed.parameters != expected.parameters
        {
            return Err(SealError::InvalidSealedObject);
        }
        Ok(Self {
            public: ObjectBlob::from_slice(public).map_err(|()| SealError::InvalidSealedObject)?,
            private: ObjectBlob::from_slice(private)
                .map_err(|()| SealError::InvalidSealedObject)?,
            srk_name,
            lock,
            policy_digest,
        })
    }

    /// The `TPM2B_PUBLIC` bytes, size field included.
    #[must_use]
    pub fn public_blob(&self) -> &[u8] {
        &self.public
    }

    /// The `TPM2B_PRIVATE` bytes, size field included (encrypted by the SRK).
    #[must_use]
    pub fn private_blob(&self) -> &[u8] {
        &self.private
    }

    /// The Name of the SRK the object was sealed under.
    #[must_use]
    pub const fn srk_name(&self) -> &Name {
        &self.srk_name
    }

    /// The PCR selection the object is bound to, if any (the boot-once PCR
    /// apart).
    #[must_use]
    pub const fn pcrs(&self) -> Option<PcrSelection> {
        self.lock.pcrs
    }

    /// What an unsealer must present.
    #[must_use]
    pub const fn lock(&self) -> KeyLock {
        self.lock
    }

    /// The object's `authPolicy`, if locked.
    #[must_use]
    pub const fn policy_digest(&self) -> Option<&[u8; 32]> {
        self.policy_digest.as_ref()
    }

    /// The sealed object's own Name.
    #[must_use]
    pub fn object_name(&self) -> Name {
        // `from_parts` and sealing both checked the blob parses.
        let area = command::parse_public_blob(&self.public).map_or(&[][..], |(_, area)| area);
        Name::of_public_area(area)
    }
}

/// Creates the SRK and returns its Name, flushing it again.
///
/// # Errors
///
/// The TPM errors of `CreatePrimary`.
pub fn srk_name<T: Transport>(tpm: &mut Tpm<T>) -> Result<Name, SealError> {
    let srk = tpm.create_srk()?;
    let name = *srk.name();
    tpm.flush_or_defer(srk.handle());
    Ok(name)
}

/// Creates the SRK and checks its Name against `expected` (when given). On a
/// mismatch the SRK is flushed and nothing else is sent.
///
/// # Errors
///
/// [`SealError::SrkNameMismatch`], or the TPM errors of `CreatePrimary`.
pub fn create_srk<T: Transport>(
    tpm: &mut Tpm<T>,
    expected: Option<&Name>,
) -> Result<Srk, SealError> {
    let srk = tpm.create_srk()?;
    if let Some(expected) = expected {
        if !bool::from(srk.name().as_bytes().ct_eq(expected.as_bytes())) {
            tpm.flush_or_defer(srk.handle());
            return Err(SealError::SrkNameMismatch);
        }
    }
    Ok(srk)
}

/// A new key: `os_entropy XOR TPM2_GetRandom(32)`, redrawn from the TPM until
/// it is a valid secp256k1 scalar. Neither source alone determines the key.
///
/// # Errors
///
/// [`SealError::NoValidScalar`] after repeated invalid draws; the TPM errors
/// of `GetRandom`.
pub fn generate_secret<T: Transport>(
    tpm: &mut Tpm<T>,
    os_entropy: &[u8; SECRET_LEN],
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    for _ in 0..MAX_DRAWS {
        let mut candidate = Zeroizing::new([0u8; SECRET_LEN]);
        tpm.get_random(&mut candidate[..])?;
        for (byte, entropy) in candidate.iter_mut().zip(os_entropy) {
            *byte ^= entropy;
        }
        // `SecretKey` checks 0 < k < n and wipes itself when dropped.
        if crate::signer::SecretKey::from_bytes(&candidate).is_ok() {
            return Ok(candidate);
        }
    }
    Err(SealError::NoValidScalar)
}

/// Seals `secret` (a new or an imported key) under the SRK, optionally bound
/// to `pcrs`, then loads and unseals it once to check the sealed copy.
///
/// With `expected_srk_name`, the SRK must have that Name (see [`create_srk`]).
///
/// # Errors
///
/// [`SealError::SrkNameMismatch`], [`SealError::UnsealMismatch`], or the TPM
/// errors of the commands. Every object and session is flushed on every path.
pub fn seal_secret<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: Option<&Name>,
    secret: &[u8; SECRET_LEN],
    pcrs: Option<PcrSelection>,
    encryption: ParameterEncryption,
) -> Result<SealedObject, SealError> {
    let lock = KeyLock {
        pcrs,
        ..KeyLock::UNLOCKED
    };
    seal_locked(tpm, expected_srk_name, secret, lock, None, encryption)
}

/// Seals `secret` under the SRK behind `lock` (with `pin` exactly when
/// `lock.pin`), then loads and unseals it once to check the sealed copy. With
/// a boot-once lock that check is the one unseal of this boot: the boot-once
/// PCR is extended after it.
///
/// # Errors
///
/// [`SealError::PinRequired`] / [`SealError::UnexpectedPin`] when `pin` does
/// not match `lock.pin`, [`SealError::InvalidBootOncePcr`], and the errors of
/// [`seal_secret`]. Every object and session is flushed on every path.
pub fn seal_locked<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: Option<&Name>,
    secret: &[u8; SECRET_LEN],
    lock: KeyLock,
    pin: Option<&PinAuth>,
    encryption: ParameterEncryption,
) -> Result<SealedObject, SealError> {
    lock.check()?;
    check_pin(lock, pin)?;
    let srk = create_srk(tpm, expected_srk_name)?;
    let result = seal_under(tpm, &srk, secret, lock, pin, encryption);
    tpm.flush_or_defer(srk.handle());
    result
}

/// Unseals a key sealed by [`seal_secret`], after checking the SRK Name
/// recorded with it against `expected_srk_name` and the TPM's SRK.
///
/// # Errors
///
/// [`SealError::SrkNameMismatch`] (nothing is loaded), [`SealError::PcrMismatch`]
/// when the PCRs moved, or the TPM errors of the commands. Every object and
/// session is flushed on every path.
pub fn unseal_secret<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: &Name,
    sealed: &SealedObject,
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    unseal_locked(tpm, expected_srk_name, sealed, None, encryption)
}

/// Unseals a key sealed by [`seal_locked`], presenting `pin` when it is
/// PIN-locked. A boot-once locked key's PCR is extended after the unseal.
///
/// # Errors
///
/// As [`unseal_secret`], and [`SealError::PinRequired`] (nothing sent),
/// [`SealError::WrongPin`], [`SealError::LockedOut`],
/// [`SealError::BootOnceSpent`], [`SealError::BootOnceLockFailed`].
pub fn unseal_locked<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: &Name,
    sealed: &SealedObject,
    pin: Option<&PinAuth>,
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    check_pin(sealed.lock, pin)?;
    if sealed.srk_name != *expected_srk_name {
        return Err(SealError::SrkNameMismatch);
    }
    let srk = create_srk(tpm, Some(expected_srk_name))?;
    let result = unseal_under(tpm, &srk, sealed, pin, encryption);
    tpm.flush_or_defer(srk.handle());
    result
}

/// The persistent handle the SRK is kept at between unseals (owner range).
pub const PERSISTENT_SRK_HANDLE: u32 = 0x8100_0002;

/// The SRK made persistent and proven resident in the TPM, kept between
/// unseals so that an unseal costs `StartAuthSession` (salted to this SRK,
/// without re-deriving the EK), `Load`, the lock's policy commands, `Unseal`
/// and the object's `FlushContext`: 4 commands for an unlocked key, 5 with a
/// PIN or PCRs, 6 with both.
///
/// The SRK is made persistent at [`PERSISTENT_SRK_HANDLE`] when that handle
/// is free and the owner hierarchy accepts the empty password (or is found
/// there already, with the recorded Name); it occupies no transient slot, and
/// no object stays loaded between unseals, so a process that dies leaves
/// nothing behind.
///
/// Nothing about the handle is trusted: sessions are salted to the SRK's
/// public point, whose Name the EK-verified TPM confirmed through an
/// EK-salted session when this was made, the sealed object loads only under
/// its own parent, and the `Unseal` HMAC covers the object's Name. A handle
/// evicted or taken by another key since makes the TPM refuse a command;
/// nothing secret was sent, and the caller makes the SRK resident again with
/// [`resident_srk`].
#[derive(Debug)]
pub struct ResidentSrk {
    srk: Srk,
}

impl ResidentSrk {
    /// The SRK's handle ([`PERSISTENT_SRK_HANDLE`]).
    #[must_use]
    pub const fn handle(&self) -> u32 {
        self.srk.handle()
    }

    /// The SRK's Name.
    #[must_use]
    pub const fn name(&self) -> &Name {
        self.srk.name()
    }
}

/// Finds or makes the persistent SRK (its Name must be `expected_srk_name`)
/// and, when sessions are salted to the verified EK, proves it resident
/// through an EK-salted session. Returns `None` when the SRK cannot be made
/// persistent (the handle holds another key, or the owner hierarchy has a
/// password): the caller unseals with [`unseal_locked`] instead.
///
/// # Errors
///
/// [`SealError::SrkNameMismatch`], [`SealError::SrkNotResident`], and the TPM
/// errors of the commands.
pub fn resident_srk<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: &Name,
) -> Result<Option<ResidentSrk>, SealError> {
    let Some(srk) = persistent_srk(tpm, expected_srk_name)? else {
        return Ok(None);
    };
    if matches!(tpm.session_salt(), SessionSalt::Ek { .. }) {
        let mut session = tpm.start_salted_session(&srk, SessionKind::Hmac)?;
        session.end_after_next_command();
        let checked = check_srk_resident(tpm, &srk, &mut session);
        if !session.is_ended() {
            tpm.flush_or_defer(session.handle());
        }
        checked?;
    }
    Ok(Some(ResidentSrk { srk }))
}

/// The SRK at [`PERSISTENT_SRK_HANDLE`]: read back when it is there with the
/// expected Name, else created and made persistent there. `None` when the
/// handle holds another key or the owner hierarchy has a password.
fn persistent_srk<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: &Name,
) -> Result<Option<Srk>, SealError> {
    match tpm.read_public_qualified(PERSISTENT_SRK_HANDLE) {
        Ok((name, area, qualified)) => {
            if !bool::from(name.as_bytes().ct_eq(expected_srk_name.as_bytes())) {
                return Ok(None);
            }
            // A primary key of the owner hierarchy: its qualified Name is
            // SHA-256(TPM_RH_OWNER || Name). Every byte of the answer is
            // checked, so a changed answer is noticed rather than ignored.
            if qualified != name.qualified_under_hierarchy(tpm2_protocol::data::TpmRh::Owner as u32)
            {
                return Err(SealError::Tpm(TpmError::MalformedResponse {
                    command: CC_READ_PUBLIC,
                    defect: crate::tpm::frame::ResponseDefect::UnexpectedValue,
                }));
            }
            return Ok(Some(Srk::from_public_area(PERSISTENT_SRK_HANDLE, &area)?));
        }
        // TPM_RC_HANDLE: nothing persistent there yet.
        Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::HANDLE) => {}
        Err(other) => return Err(other.into()),
    }
    let transient = create_srk(tpm, Some(expected_srk_name))?;
    // With the owner hierarchy's empty password. A hierarchy with a password
    // refuses it (TPM_RC_BAD_AUTH / TPM_RC_AUTH_FAIL); permanent handles other
    // than the lockout hierarchy are exempt from dictionary-attack counting.
    let persisted = tpm.evict_control(transient.handle(), PERSISTENT_SRK_HANDLE);
    tpm.flush_or_defer(transient.handle());
    match persisted {
        Ok(()) => Ok(Some(Srk::at_handle(&transient, PERSISTENT_SRK_HANDLE))),
        // TPM_RC_NV_DEFINED: another client persisted a key there meanwhile.
        Err(TpmError::Tpm { rc, .. })
            if rc.base() == 0x14C || rc.is(TpmRc::BAD_AUTH) || rc.is(TpmRc::AUTH_FAIL) =>
        {
            Ok(None)
        }
        Err(other) => Err(other.into()),
    }
}

/// `TPM_CC_ReadPublic`.
const CC_READ_PUBLIC: u32 = 0x173;

/// Unseals `sealed` under `resident` (its SRK), presenting `pin` when it is
/// PIN-locked. A boot-once locked key's PCR is extended after the unseal.
///
/// # Errors
///
/// As [`unseal_locked`]; [`SealError::SrkNameMismatch`] when `sealed` was
/// sealed under another SRK. A TPM refusal other than a PIN, lockout or
/// boot-once failure may mean the handle went stale: make the SRK resident
/// again and retry.
pub fn unseal_resident<T: Transport>(
    tpm: &mut Tpm<T>,
    resident: &ResidentSrk,
    sealed: &SealedObject,
    pin: Option<&PinAuth>,
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    check_pin(sealed.lock, pin)?;
    if resident.srk.name() != sealed.srk_name() {
        return Err(SealError::SrkNameMismatch);
    }
    let kind = if sealed.lock.is_unlocked() {
        SessionKind::Hmac
    } else {
        SessionKind::Policy
    };
    let mut session = tpm.start_session_salted_to_proven_srk(&resident.srk, kind)?;
    let result = load_and_unseal(tpm, &resident.srk, sealed, pin, &mut session, encryption);
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    let secret = result.map_err(|error| explain_unseal_failure(tpm, sealed, error))?;
    if let Some(index) = sealed.lock.boot_once_pcr {
        tpm.pcr_extend(index, &BOOT_ONCE_EVENT)
            .map_err(SealError::BootOnceLockFailed)?;
    }
    Ok(secret)
}

/// The TPM's dictionary-attack parameters and failure count.
///
/// # Errors
///
/// The TPM errors of `GetCapability`.
pub fn dictionary_attack_state<T: Transport>(
    tpm: &mut Tpm<T>,
) -> Result<DictionaryAttackState, SealError> {
    Ok(tpm.dictionary_attack_state()?)
}

fn check_pin(lock: KeyLock, pin: Option<&PinAuth>) -> Result<(), SealError> {
    match (lock.pin, pin.is_some()) {
        (true, false) => Err(SealError::PinRequired),
        (false, true) => Err(SealError::UnexpectedPin),
        _ => Ok(()),
    }
}

/// The PolicyPCR digest of the current values of `pcrs`, computed by the TPM
/// in a trial session.
///
/// # Errors
///
/// The TPM errors of the commands; the trial session is flushed on every path.
pub fn pcr_policy_digest<T: Transport>(
    tpm: &mut Tpm<T>,
    pcrs: PcrSelection,
) -> Result<[u8; 32], SealError> {
    let lock = KeyLock {
        pcrs: Some(pcrs),
        ..KeyLock::UNLOCKED
    };
    lock_policy_digest(tpm, lock)
}

/// The `authPolicy` of `lock` (which must not be [`KeyLock::UNLOCKED`]) over
/// the current PCR values, computed by the TPM in a trial session:
/// `PolicyPCR` over [`KeyLock::policy_pcrs`], then `PolicyAuthValue` with a PIN.
///
/// # Errors
///
/// The TPM errors of the commands; the trial session is flushed on every path.
pub fn lock_policy_digest<T: Transport>(
    tpm: &mut Tpm<T>,
    lock: KeyLock,
) -> Result<[u8; 32], SealError> {
    let trial = tpm.start_trial_session()?;
    let digest = apply_policy(tpm, &trial, lock).and_then(|()| tpm.policy_get_digest(&trial));
    tpm.flush_or_defer(trial.handle());
    Ok(digest?)
}

fn apply_policy<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &crate::tpm::Session,
    lock: KeyLock,
) -> Result<(), TpmError> {
    if let Some(selection) = lock.policy_pcrs() {
        tpm.policy_pcr(session, selection)?;
    }
    if lock.pin {
        tpm.policy_auth_value(session)?;
    }
    Ok(())
}

fn seal_under<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &Srk,
    secret: &[u8; SECRET_LEN],
    lock: KeyLock,
    pin: Option<&PinAuth>,
    encryption: ParameterEncryption,
) -> Result<SealedObject, SealError> {
    let policy_digest = if lock.is_unlocked() {
        None
    } else {
        Some(lock_policy_digest(tpm, lock)?)
    };
    let policy: &[u8] = policy_digest.as_ref().map_or(&[], |digest| &digest[..]);
    let user_auth: &[u8] = pin.map_or(&[], |pin| &pin.as_bytes()[..]);
    let mut session = tpm.start_salted_session(srk, SessionKind::Hmac)?;
    if let Err(error) = check_srk_resident(tpm, srk, &mut session) {
        tpm.flush_or_defer(session.handle());
        return Err(error);
    }
    session.end_after_next_command();
    let created =
        tpm.create_sealed_object(srk, &mut session, secret, policy, user_auth, encryption);
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    let created = created?;
    let sealed = SealedObject {
        public: created.public,
        private: created.private,
        srk_name: *srk.name(),
        lock,
        policy_digest,
    };
    let unsealed = unseal_under(tpm, srk, &sealed, pin, encryption)?;
    if !bool::from(unsealed.ct_eq(secret)) {
        return Err(SealError::UnsealMismatch);
    }
    Ok(sealed)
}

/// With sessions salted to the verified EK, asks the TPM behind that EK,
/// through `session`, which key it holds at the SRK's handle: an SRK answer
/// an interposer substituted is refused before the secret is sent under it.
fn check_srk_resident<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &Srk,
    session: &mut crate::tpm::Session,
) -> Result<(), SealError> {
    if !matches!(tpm.session_salt(), SessionSalt::Ek { .. }) {
        return Ok(());
    }
    // The TPM checks the command HMAC over the Name we believe: a Name it
    // does not hold at that handle fails there already.
    let resident = match tpm.read_public_in_session(srk.handle(), srk.name(), session) {
        Ok(name) => name,
        Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::BAD_AUTH) || rc.is(TpmRc::AUTH_FAIL) => {
            return Err(SealError::SrkNotResident)
        }
        Err(other) => return Err(other.into()),
    };
    if !bool::from(resident.as_bytes().ct_eq(srk.name().as_bytes())) {
        return Err(SealError::SrkNotResident);
    }
    Ok(())
}

fn unseal_under<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &Srk,
    sealed: &SealedObject,
    pin: Option<&PinAuth>,
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    let kind = if sealed.lock.is_unlocked() {
        SessionKind::Hmac
    } else {
        SessionKind::Policy
    };
    let mut session = tpm.start_salted_session(srk, kind)?;
    let result = load_and_unseal(tpm, srk, sealed, pin, &mut session, encryption);
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    let secret = match result {
        Ok(secret) => secret,
        Err(error) => return Err(explain_unseal_failure(tpm, sealed, error)),
    };
    if let Some(index) = sealed.lock.boot_once_pcr {
        // Close the lock before the key is used: on failure it is wiped here.
        tpm.pcr_extend(index, &BOOT_ONCE_EVENT)
            .map_err(SealError::BootOnceLockFailed)?;
    }
    Ok(secret)
}

/// Turns the TPM's refusal of `Unseal` into what it means for this lock,
/// reading the dictionary-attack state for a PIN failure.
fn explain_unseal_failure<T: Transport>(
    tpm: &mut Tpm<T>,
    sealed: &SealedObject,
    error: TpmError,
) -> SealError {
    let lock = sealed.lock;
    let TpmError::Tpm { command, rc } = error else {
        return SealError::Tpm(error);
    };
    if command != CC_UNSEAL {
        return SealError::Tpm(error);
    }
    if rc.is(TpmRc::POLICY_FAIL) {
        return match (lock.boot_once_pcr, lock.pcrs) {
            (Some(pcr), None) => SealError::BootOnceSpent { pcr },
            _ => SealError::PcrMismatch,
        };
    }
    if lock.pin && (rc.is(RC_AUTH_FAIL) || rc.is(RC_BAD_AUTH)) {
        let state = tpm.dictionary_attack_state().ok();
        return SealError::WrongPin {
            failures: state.map_or(0, |s| s.failures),
            max_tries: state.map_or(0, |s| s.max_tries),
        };
    }
    if rc.is(RC_LOCKOUT) {
        let state = tpm.dictionary_attack_state().ok();
        return SealError::LockedOut {
            max_tries: state.map_or(0, |s| s.max_tries),
            recovery_seconds: state.map_or(0, |s| s.recovery_seconds),
        };
    }
    SealError::Tpm(error)
}

fn load_and_unseal<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &Srk,
    sealed: &SealedObject,
    pin: Option<&PinAuth>,
    session: &mut crate::tpm::Session,
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, TpmError> {
    let object = tpm.load(srk, &sealed.public, &sealed.private)?;
    // Unseal is the session's last command: on success the TPM ends it.
    session.end_after_next_command();
    let result = apply_policy(tpm, session, sealed.lock).and_then(|()| {
        if let Some(pin) = pin {
            session.include_auth_value(pin.as_bytes());
        }
        tpm.unseal(&object, session, encryption)
    });
    tpm.flush_or_defer(object.handle);
    result
}
