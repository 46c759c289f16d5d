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
//! An optional PCR selection binds the object with `TPM2_PolicyPCR`: its
//! `authPolicy` is computed by the TPM in a trial session, and unsealing needs
//! a salted policy session that has passed `PolicyPCR` with the same PCR
//! values. Every object and session is flushed on every path.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::tpm::command::{self, ObjectBlob, Srk, SECRET_LEN};
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
    pcrs: Option<PcrSelection>,
    policy_digest: Option<[u8; 32]>,
}

impl fmt::Debug for SealedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedObject")
            .field("public_len", &self.public.len())
            .field("private_len", &self.private.len())
            .field("srk_name", &self.srk_name)
            .field("pcrs", &self.pcrs)
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
        let invalid = |_| SealError::InvalidSealedObject;
        let (parsed, _) = command::parse_public_blob(public).map_err(invalid)?;
        command::check_private_blob(private).map_err(invalid)?;
        if pcrs.is_some() != policy_digest.is_some() {
            return Err(SealError::InvalidSealedObject);
        }
        let policy: &[u8] = policy_digest.as_ref().map_or(&[], |digest| &digest[..]);
        let expected = template::sealed_data(policy);
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
            pcrs,
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

    /// The PCR selection the object is bound to, if any.
    #[must_use]
    pub const fn pcrs(&self) -> Option<PcrSelection> {
        self.pcrs
    }

    /// The object's `authPolicy` (the PolicyPCR digest), if PCR-bound.
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
    let srk = create_srk(tpm, expected_srk_name)?;
    let result = seal_under(tpm, &srk, secret, pcrs, encryption);
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
    if sealed.srk_name != *expected_srk_name {
        return Err(SealError::SrkNameMismatch);
    }
    let srk = create_srk(tpm, Some(expected_srk_name))?;
    let result = unseal_under(tpm, &srk, sealed, encryption);
    tpm.flush_or_defer(srk.handle());
    result
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
    let trial = tpm.start_trial_session()?;
    let digest = tpm
        .policy_pcr(&trial, pcrs)
        .and_then(|()| tpm.policy_get_digest(&trial));
    tpm.flush_or_defer(trial.handle());
    Ok(digest?)
}

fn seal_under<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &Srk,
    secret: &[u8; SECRET_LEN],
    pcrs: Option<PcrSelection>,
    encryption: ParameterEncryption,
) -> Result<SealedObject, SealError> {
    let policy_digest = match pcrs {
        Some(selection) => Some(pcr_policy_digest(tpm, selection)?),
        None => None,
    };
    let policy: &[u8] = policy_digest.as_ref().map_or(&[], |digest| &digest[..]);
    let mut session = tpm.start_salted_session(srk, SessionKind::Hmac)?;
    if let Err(error) = check_srk_resident(tpm, srk, &mut session) {
        tpm.flush_or_defer(session.handle());
        return Err(error);
    }
    session.end_after_next_command();
    let created = tpm.create_sealed_object(srk, &mut session, secret, policy, encryption);
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    let created = created?;
    let sealed = SealedObject {
        public: created.public,
        private: created.private,
        srk_name: *srk.name(),
        pcrs,
        policy_digest,
    };
    let unsealed = unseal_under(tpm, srk, &sealed, encryption)?;
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
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    let kind = if sealed.pcrs.is_some() {
        SessionKind::Policy
    } else {
        SessionKind::Hmac
    };
    let mut session = tpm.start_salted_session(srk, kind)?;
    let result = load_and_unseal(tpm, srk, sealed, &mut session, encryption);
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    result
}

fn load_and_unseal<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &Srk,
    sealed: &SealedObject,
    session: &mut crate::tpm::Session,
    encryption: ParameterEncryption,
) -> Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    let object = tpm.load(srk, &sealed.public, &sealed.private)?;
    // Unseal is the session's last command: on success the TPM ends it.
    session.end_after_next_command();
    let result = match sealed.pcrs {
        Some(selection) => tpm
            .policy_pcr(session, selection)
            .and_then(|()| tpm.unseal(&object, session, encryption)),
        None => tpm.unseal(&object, session, encryption),
    };
    tpm.flush_or_defer(object.handle);
    result.map_err(|error| match error {
        TpmError::Tpm {
            command: CC_UNSEAL,
            rc,
        } if sealed.pcrs.is_some() && rc.is(TpmRc::POLICY_FAIL) => SealError::PcrMismatch,
        other => SealError::Tpm(other),
    })
}
