//! Salted authorization sessions, command and response HMACs, and AES-128-CFB
//! parameter encryption (TPM 2.0 Library Part 1, sections 19 and 21).
//!
//! The salt travels as an ephemeral P-256 point: with `Qe = d·G`,
//! `Z = x(d·Qsrk)`, `salt = KDFe(SHA-256, Z, "SECRET", x(Qe), x(Qsrk))` (Part 1,
//! section 11.4.10.3 and Annex C.6.1). Only the holder of the SRK's private key
//! can compute it, so an observer of the wire cannot derive
//! `sessionKey = KDFa(SHA-256, salt, "ATH", nonceTPM, nonceCaller, 256)`.
//!
//! Objects have an empty authorization value, except a sealed key locked by a
//! PIN: a policy session that passed `TPM2_PolicyAuthValue` for it is keyed
//! with `sessionKey || authValue` (Part 1, section 19.6.8), for the command and
//! response HMACs and for parameter encryption alike; see
//! [`Session::include_auth_value`].

use core::fmt;

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use hmac::Mac;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, PublicKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tpm2_protocol::basic::{TpmBuffer, TpmHandle};
use tpm2_protocol::data::{TpmAlgId, TpmRh, TpmSe, TpmtSymDef, TpmuSymKeyBits, TpmuSymMode};
use tpm2_protocol::frame::{TpmStartAuthSessionCommand, TpmStartAuthSessionResponse};
use zeroize::Zeroize;

use super::command::{EkPublic, Srk};
use super::frame::ResponseDefect;
use super::template::aes_128_cfb;
use super::{kdf, Authorization, Tpm, TpmError, Transport};

/// Size of our nonces (the SHA-256 digest size).
pub const NONCE_LEN: usize = 32;

/// `continueSession`.
pub(crate) const CONTINUE_SESSION: u8 = 0x01;
/// `decrypt`: the first command parameter is encrypted.
const DECRYPT: u8 = 0x20;
/// `encrypt`: the first response parameter is encrypted.
const ENCRYPT: u8 = 0x40;

type Aes128CfbEnc = cfb_mode::Encryptor<aes::Aes128>;
type Aes128CfbDec = cfb_mode::Decryptor<aes::Aes128>;

/// What secret-bearing sessions are salted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SessionSalt {
    /// Nothing yet: secret-bearing sessions are refused
    /// ([`TpmError::NoTpmIdentity`]).
    #[default]
    Unset,
    /// The endorsement key of this kind and Name, re-derived (and its Name
    /// checked) for each session: only the TPM whose EK certificate verified
    /// can compute the session key.
    Ek {
        /// The EK template.
        kind: super::command::EkKind,
        /// The verified EK's Name.
        name: super::Name,
    },
    /// The SRK the caller passes, whose key nothing authenticates: an
    /// interposer can play the TPM. Only when an unverified TPM was allowed
    /// explicitly.
    UnverifiedSrk,
}

/// Whether the secret-bearing parameters travel encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ParameterEncryption {
    /// AES-128-CFB: Create's `inSensitive` and Unseal's `outData` are encrypted.
    #[default]
    Aes128Cfb,
    /// No parameter encryption: the key crosses the wire in clear. Only for the
    /// control run that proves the wire-secrecy test can fail.
    Off,
}

impl ParameterEncryption {
    /// `true` unless [`ParameterEncryption::Off`].
    #[must_use]
    pub const fn is_on(self) -> bool {
        matches!(self, Self::Aes128Cfb)
    }
}

/// The kind of an authorization session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// `TPM_SE_HMAC`: authorizes with an HMAC over the command.
    Hmac,
    /// `TPM_SE_POLICY`: authorizes once its policy digest matches the object's.
    Policy,
    /// `TPM_SE_TRIAL`: only computes a policy digest.
    Trial,
}

/// An open authorization session. Its key is wiped on drop; `Debug` shows
/// only the handle and kind.
pub struct Session {
    handle: u32,
    kind: SessionKind,
    session_key: [u8; 32],
    keyed: bool,
    nonce_tpm: [u8; NONCE_LEN],
    nonce_tpm_len: usize,
    auth_value: [u8; AUTH_VALUE_LEN],
    auth_value_len: usize,
    end_after_next_command: bool,
    ended: bool,
}

/// Largest authorization value (the SHA-256 digest size).
pub const AUTH_VALUE_LEN: usize = 32;

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("handle", &format_args!("0x{:08x}", self.handle))
            .field("kind", &self.kind)
            .field("session_key", &"<redacted>")
            .finish()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.session_key.zeroize();
        self.nonce_tpm.zeroize();
        self.auth_value.zeroize();
    }
}

/// The session attributes we send: `continueSession` unless the session is to
/// end with this command, plus `decrypt` / `encrypt` as asked.
pub(crate) const fn attributes(continue_session: bool, decrypt: bool, encrypt: bool) -> u8 {
    let mut attributes = 0;
    if continue_session {
        attributes |= CONTINUE_SESSION;
    }
    if decrypt {
        attributes |= DECRYPT;
    }
    if encrypt {
        attributes |= ENCRYPT;
    }
    attributes
}

/// cpHash = SHA-256(commandCode || Name(handle 1) || ... || parameters).
#[must_use]
pub fn cp_hash(command_code: u32, names: &[&[u8]], parameters: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(command_code.to_be_bytes());
    for name in names {
        hash.update(name);
    }
    hash.update(parameters);
    hash.finalize().into()
}

/// rpHash = SHA-256(responseCode (success) || commandCode || parameters).
#[must_use]
pub fn rp_hash(command_code: u32, parameters: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(0u32.to_be_bytes());
    hash.update(command_code.to_be_bytes());
    hash.update(parameters);
    hash.finalize().into()
}

/// A session's HMAC key, wiped on drop.
struct HmacKey {
    bytes: [u8; 32 + AUTH_VALUE_LEN],
    len: usize,
}

impl HmacKey {
    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

/// The data of the `TPM2B` that opens a parameter area (without its size).
fn first_parameter_data(parameters: &mut [u8]) -> Option<&mut [u8]> {
    let size = parameters.get(..2)?;
    let len = usize::from(u16::from_be_bytes([size[0], size[1]]));
    parameters.get_mut(2..2usize.checked_add(len)?)
}

impl Session {
    /// The session handle.
    #[must_use]
    pub const fn handle(&self) -> u32 {
        self.handle
    }

    /// The session kind.
    #[must_use]
    pub const fn kind(&self) -> SessionKind {
        self.kind
    }

    /// `true` when the session has a session key (it was salted).
    #[must_use]
    pub const fn is_salted(&self) -> bool {
        self.keyed
    }

    /// Sends the next command without `continueSession`: when it succeeds the
    /// TPM ends the session itself, which saves a `FlushContext`.
    pub fn end_after_next_command(&mut self) {
        self.end_after_next_command = true;
    }

    /// `true` once a command sent after [`Session::end_after_next_command`]
    /// succeeded: the TPM has ended the session and it must not be flushed.
    #[must_use]
    pub const fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether the next command keeps the session open.
    pub(crate) const fn continues(&self) -> bool {
        !self.end_after_next_command
    }

    /// Keys the session's HMACs and parameter encryption with
    /// `sessionKey || auth_value` from now on: what the TPM does once a policy
    /// session passed `TPM2_PolicyAuthValue` and is used on the object whose
    /// authorization value this is. Trailing zero bytes are dropped, as the TPM
    /// drops them.
    pub fn include_auth_value(&mut self, auth_value: &[u8]) {
        let len = auth_value
            .iter()
            .rposition(|&byte| byte != 0)
            .map_or(0, |last| last + 1)
            .min(AUTH_VALUE_LEN);
        self.auth_value = [0; AUTH_VALUE_LEN];
        self.auth_value[..len].copy_from_slice(auth_value.get(..len).unwrap_or(&[]));
        self.auth_value_len = len;
    }

    /// `sessionKey || authValue` (either part may be empty), wiped on drop.
    fn hmac_key(&self) -> HmacKey {
        let mut key = HmacKey {
            bytes: [0; 32 + AUTH_VALUE_LEN],
            len: 0,
        };
        if self.keyed {
            key.bytes[..32].copy_from_slice(&self.session_key);
            key.len = 32;
        }
        let end = key.len + self.auth_value_len;
        key.bytes[key.len..end].copy_from_slice(&self.auth_value[..self.auth_value_len]);
        key.len = end;
        key
    }

    fn nonce_tpm(&self) -> &[u8] {
        self.nonce_tpm.get(..self.nonce_tpm_len).unwrap_or(&[])
    }

    /// HMAC(sessionKey, cpHash || nonceCaller || nonceTPM || sessionAttributes).
    pub(crate) fn command_hmac(
        &self,
        cp_hash: &[u8; 32],
        nonce_caller: &[u8],
        attributes: u8,
    ) -> [u8; 32] {
        let mut mac = kdf::hmac_sha256(self.hmac_key().as_slice());
        mac.update(cp_hash);
        mac.update(nonce_caller);
        mac.update(self.nonce_tpm());
        mac.update(&[attributes]);
        mac.finalize().into_bytes().into()
    }

    /// Verifies HMAC(sessionKey, rpHash || nonceTPM' || nonceCaller || attributes)
    /// in constant time, then takes `nonceTPM'` as the session's new nonce.
    pub(crate) fn verify_response(
        &mut self,
        command_code: u32,
        parameters: &[u8],
        nonce_tpm: &[u8],
        attributes: u8,
        hmac: &[u8],
        nonce_caller: &[u8],
    ) -> Result<(), TpmError> {
        let continues = attributes & CONTINUE_SESSION != 0;
        if !(16..=NONCE_LEN).contains(&nonce_tpm.len()) || continues != self.continues() {
            return Err(TpmError::MalformedResponse {
                command: command_code,
                defect: ResponseDefect::BadAuthorization,
            });
        }
        let rp_hash = rp_hash(command_code, parameters);
        let mut mac = kdf::hmac_sha256(self.hmac_key().as_slice());
        mac.update(&rp_hash);
        mac.update(nonce_tpm);
        mac.update(nonce_caller);
        mac.update(&[attributes]);
        let expected = mac.finalize().into_bytes();
        // A length mismatch is public; the contents are compared in constant time.
        if hmac.len() != expected.len() || !bool::from(expected.as_slice().ct_eq(hmac)) {
            return Err(TpmError::ResponseHmacMismatch {
                command: command_code,
            });
        }
        self.nonce_tpm = [0; NONCE_LEN];
        self.nonce_tpm
            .get_mut(..nonce_tpm.len())
            .unwrap_or(&mut [])
            .copy_from_slice(nonce_tpm);
        self.nonce_tpm_len = nonce_tpm.len();
        self.ended = !continues;
        Ok(())
    }

    /// AES-128 key and IV: KDFa(SHA-256, sessionKey, "CFB", nonceNewer, nonceOlder, 256).
    fn cfb_key_iv(&self, nonce_newer: &[u8], nonce_older: &[u8]) -> [u8; 32] {
        let mut key_iv = [0u8; 32];
        let key = self.hmac_key();
        kdf::kdfa(
            key.as_slice(),
            b"CFB",
            nonce_newer,
            nonce_older,
            &mut key_iv,
        );
        key_iv
    }

    /// Encrypts the data of the first command parameter in place; the caller's
    /// new nonce is the newer one.
    pub(crate) fn encrypt_first_parameter(
        &self,
        nonce_caller: &[u8],
        parameters: &mut [u8],
    ) -> Result<(), TpmError> {
        let data = first_parameter_data(parameters).ok_or(TpmError::CommandTooLarge)?;
        let mut key_iv = self.cfb_key_iv(nonce_caller, self.nonce_tpm());
        Aes128CfbEnc::new(key_iv[..16].into(), key_iv[16..].into()).encrypt(data);
        key_iv.zeroize();
        Ok(())
    }

    /// Decrypts the data of the first response parameter in place; the TPM's
    /// new nonce (already verified) is the newer one.
    pub(crate) fn decrypt_first_parameter(
        &self,
        command_code: u32,
        nonce_caller: &[u8],
        parameters: &mut [u8],
    ) -> Result<(), TpmError> {
        let data = first_parameter_data(parameters).ok_or(TpmError::MalformedResponse {
            command: command_code,
            defect: ResponseDefect::Truncated,
        })?;
        let mut key_iv = self.cfb_key_iv(self.nonce_tpm(), nonce_caller);
        Aes128CfbDec::new(key_iv[..16].into(), key_iv[16..].into()).decrypt(data);
        key_iv.zeroize();
        Ok(())
    }
}

fn session_type(kind: SessionKind) -> TpmSe {
    match kind {
        SessionKind::Hmac => TpmSe::Hmac,
        SessionKind::Policy => TpmSe::Policy,
        SessionKind::Trial => TpmSe::Trial,
    }
}

fn null_symmetric() -> TpmtSymDef {
    TpmtSymDef {
        algorithm: TpmAlgId::Null,
        key_bits: TpmuSymKeyBits::Null,
        mode: TpmuSymMode::Null,
    }
}

impl<T: Transport> Tpm<T> {
    /// Starts a session salted to `srk` (ECDH P-256), unbound, with
    /// AES-128-CFB parameter encryption and SHA-256.
    ///
    /// # Errors
    ///
    /// [`TpmError::InvalidSrkPoint`] when the SRK point is unusable, or the
    /// errors of the command.
    pub fn start_salted_session(
        &mut self,
        srk: &Srk,
        kind: SessionKind,
    ) -> Result<Session, TpmError> {
        match *self.session_salt() {
            SessionSalt::Unset => Err(TpmError::NoTpmIdentity),
            SessionSalt::UnverifiedSrk => {
                self.start_session_salted_to_point(srk.handle(), srk.point_x(), srk.point_y(), kind)
            }
            SessionSalt::Ek {
                kind: ek_kind,
                name,
            } => {
                let ek = self.create_ek(ek_kind)?;
                if !bool::from(ek.name.as_bytes().ct_eq(name.as_bytes())) {
                    self.flush_or_defer(ek.handle);
                    return Err(TpmError::EkNameMismatch);
                }
                let session = match &ek.public {
                    EkPublic::EccP256 { x, y } => {
                        self.start_session_salted_to_point(ek.handle, x, y, kind)
                    }
                    #[cfg(feature = "std")]
                    EkPublic::Rsa2048 { modulus } => {
                        self.start_session_salted_to_rsa(ek.handle, modulus, kind)
                    }
                    #[cfg(not(feature = "std"))]
                    EkPublic::Rsa2048 { .. } => Err(TpmError::InvalidEkKey),
                };
                self.flush_or_defer(ek.handle);
                session
            }
        }
    }

    /// Starts a session salted to `srk` (ECDH P-256) without re-deriving
    /// the EK: for an SRK whose residency in the EK-verified TPM was proven
    /// through an EK-salted session ([`crate::seal::ResidentSrk`]), so only
    /// that TPM can compute the session key. Refused while no TPM identity is
    /// set.
    ///
    /// # Errors
    ///
    /// [`TpmError::NoTpmIdentity`], [`TpmError::InvalidSrkPoint`], or the
    /// errors of the command.
    pub(crate) fn start_session_salted_to_proven_srk(
        &mut self,
        srk: &Srk,
        kind: SessionKind,
    ) -> Result<Session, TpmError> {
        if matches!(self.session_salt(), SessionSalt::Unset) {
            return Err(TpmError::NoTpmIdentity);
        }
        self.start_session_salted_to_point(srk.handle(), srk.point_x(), srk.point_y(), kind)
    }

    /// A session salted by RSA-OAEP (SHA-256, label `"SECRET\0"`) to the RSA
    /// key at `handle` (Part 1, Annex B.10.3).
    #[cfg(feature = "std")]
    fn start_session_salted_to_rsa(
        &mut self,
        handle: u32,
        modulus: &[u8; 256],
        kind: SessionKind,
    ) -> Result<Session, TpmError> {
        let key = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(modulus),
            rsa::BigUint::from(65_537u32),
        )
        .map_err(|_| TpmError::InvalidEkKey)?;
        let mut salt = [0u8; 32];
        self.fill_random(&mut salt);
        let padding = rsa::Oaep::new_with_label::<Sha256, _>("SECRET\0");
        let encrypted = key.encrypt(self.rng(), padding, &salt);
        let result = match encrypted {
            Ok(encrypted) => {
                self.start_session(handle, &encrypted, kind, aes_128_cfb(), Some(&salt))
            }
            Err(_) => Err(TpmError::InvalidEkKey),
        };
        salt.zeroize();
        result
    }

    fn start_session_salted_to_point(
        &mut self,
        handle: u32,
        x: &[u8; 32],
        y: &[u8; 32],
        kind: SessionKind,
    ) -> Result<Session, TpmError> {
        let srk_point = EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
        let srk_key = Option::<PublicKey>::from(PublicKey::from_encoded_point(&srk_point))
            .ok_or(TpmError::InvalidSrkPoint)?;

        // `EphemeralSecret` wipes the scalar when dropped, at the end of this call.
        let ephemeral = p256::ecdh::EphemeralSecret::random(self.rng());
        let ephemeral_point = ephemeral.public_key().to_encoded_point(false);
        let shared = ephemeral.diffie_hellman(&srk_key);
        let (Some(qe_x), Some(qe_y)) = (ephemeral_point.x(), ephemeral_point.y()) else {
            return Err(TpmError::InvalidSrkPoint);
        };

        let mut salt = [0u8; 32];
        kdf::kdfe(shared.raw_secret_bytes(), b"SECRET", qe_x, x, &mut salt);

        // encryptedSalt is the marshalled TPMS_ECC_POINT of Qe.
        let mut point = [0u8; 68];
        point[..2].copy_from_slice(&32u16.to_be_bytes());
        point[2..34].copy_from_slice(qe_x);
        point[34..36].copy_from_slice(&32u16.to_be_bytes());
        point[36..].copy_from_slice(qe_y);

        let result = self.start_session(handle, &point, kind, aes_128_cfb(), Some(&salt));
        salt.zeroize();
        result
    }

    /// Starts an unsalted, unbound HMAC session with no parameter encryption:
    /// for commands that carry no secret, authorized by a secret
    /// authorization value the caller adds with
    /// [`Session::include_auth_value`], which then alone keys the command and
    /// response HMACs.
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn start_unsalted_hmac_session(&mut self) -> Result<Session, TpmError> {
        self.start_session(
            TpmRh::Null as u32,
            &[],
            SessionKind::Hmac,
            null_symmetric(),
            None,
        )
    }

    /// Starts an unsalted trial session, used only to compute a policy digest.
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn start_trial_session(&mut self) -> Result<Session, TpmError> {
        self.start_session(
            TpmRh::Null as u32,
            &[],
            SessionKind::Trial,
            null_symmetric(),
            None,
        )
    }

    /// Starts an unsalted, unbound session without parameter encryption, for
    /// policies that carry no secret (such as `PolicySecret` on a hierarchy
    /// with an empty auth value).
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn start_unsalted_session(&mut self, kind: SessionKind) -> Result<Session, TpmError> {
        self.start_session(TpmRh::Null as u32, &[], kind, null_symmetric(), None)
    }

    fn start_session(
        &mut self,
        tpm_key: u32,
        encrypted_salt: &[u8],
        kind: SessionKind,
        symmetric: TpmtSymDef,
        salt: Option<&[u8; 32]>,
    ) -> Result<Session, TpmError> {
        let mut nonce_caller = [0u8; NONCE_LEN];
        self.fill_random(&mut nonce_caller);
        let command = TpmStartAuthSessionCommand {
            handles: [TpmHandle::new(tpm_key), TpmHandle::new(TpmRh::Null as u32)],
            nonce_caller: TpmBuffer::try_from(&nonce_caller[..])
                .map_err(|_| TpmError::CommandTooLarge)?,
            encrypted_salt: TpmBuffer::try_from(encrypted_salt)
                .map_err(|_| TpmError::CommandTooLarge)?,
            session_type: session_type(kind),
            symmetric,
            auth_hash: TpmAlgId::Sha256,
        };
        let response: TpmStartAuthSessionResponse = self.run(&command, &[], Authorization::None)?;
        let handle = response.handles[0].value();
        let nonce_tpm: &[u8] = &response.nonce_tpm;
        let expected_type = if kind == SessionKind::Hmac {
            0x02
        } else {
            0x03
        };
        if handle >> 24 != expected_type || !(16..=NONCE_LEN).contains(&nonce_tpm.len()) {
            // A session was started but its handle or nonce is unusable: flush it.
            self.flush_or_defer(handle);
            return Err(TpmError::MalformedResponse {
                command: TpmStartAuthSessionCommand::CC_VALUE,
                defect: ResponseDefect::UnexpectedValue,
            });
        }
        let mut session = Session {
            handle,
            kind,
            session_key: [0; 32],
            keyed: salt.is_some(),
            nonce_tpm: [0; NONCE_LEN],
            nonce_tpm_len: nonce_tpm.len(),
            auth_value: [0; AUTH_VALUE_LEN],
            auth_value_len: 0,
            end_after_next_command: false,
            ended: false,
        };
        session.nonce_tpm[..nonce_tpm.len()].copy_from_slice(nonce_tpm);
        if let Some(salt) = salt {
            kdf::kdfa(
                salt,
                b"ATH",
                nonce_tpm,
                &nonce_caller,
                &mut session.session_key,
            );
        }
        Ok(session)
    }
}

/// Command code constants for the `tpm2-protocol` command types we send.
pub(crate) trait CommandCodeValue {
    const CC_VALUE: u32;
}

impl<C: tpm2_protocol::frame::TpmHeader> CommandCodeValue for C {
    const CC_VALUE: u32 = C::CC as u32;
}
