//! TPM 2.0 key custody: the command engine.
//!
//! [`Tpm`] owns a [`Transport`], fixed command and response buffers and a small
//! deterministic random bit generator for session nonces and ephemeral keys. The
//! command wrappers marshal their bodies with `tpm2-protocol`; the envelope,
//! the authorization area and all session cryptography (salted HMAC sessions,
//! AES-128-CFB parameter encryption) are ours, in [`session`].
//!
//! swtpm has no resource manager and three transient object slots, so every
//! object and session is flushed on every path. A flush that could not be sent
//! is remembered and retried before the next command.

use core::fmt;

use sha2::{Digest, Sha256};
use tpm2_protocol::frame::{TpmFrame, TpmUnmarshalBody};
use tpm2_protocol::TpmWriter;
use zeroize::Zeroize;

pub mod command;
pub mod credential;
#[cfg(feature = "std")]
pub mod ek;
pub mod frame;
pub mod kdf;
#[cfg(feature = "std")]
pub mod platform_ak;
pub mod quote;
pub mod rc;
pub mod session;
#[cfg(feature = "std")]
pub mod simulator;
pub mod template;
pub mod transport;

pub use frame::ResponseDefect;
pub use rc::{RcFormat, RcIndex, TpmRc};
pub use session::{ParameterEncryption, Session, SessionKind, SessionSalt};
pub use transport::{Transport, TransportError};

/// Size of the command, response and parameter buffers. swtpm and hardware TPMs
/// answer `TPM_PT_MAX_COMMAND_SIZE` / `TPM_PT_MAX_RESPONSE_SIZE` of 4096 or less.
pub const BUFFER_SIZE: usize = 4096;

/// Length of an object Name with a SHA-256 name algorithm.
pub const NAME_LEN: usize = 34;

/// `TPM_ALG_SHA256`.
pub(crate) const ALG_SHA256: u16 = 0x000B;
/// `TPM_RS_PW`: the password authorization pseudo-session.
const RS_PW: u32 = 0x4000_0009;
/// `TPM_CC_FlushContext`.
const CC_FLUSH_CONTEXT: u32 = 0x165;
/// `TPM_CC_GetCapability`.
const CC_GET_CAPABILITY: u32 = 0x17A;
/// `TPM_CAP_HANDLES`.
const CAP_HANDLES: u32 = 0x0000_0001;
/// `TPM_RC_RETRY`.
const RC_RETRY: u32 = 0x922;
/// How many times a command answered with `TPM_RC_RETRY` is sent.
const MAX_RETRIES: u32 = 4;
/// How many failed flushes are remembered for a retry.
const MAX_PENDING_FLUSHES: usize = 16;

/// Why a TPM operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TpmError {
    /// The frame could not be exchanged with the TPM.
    Transport(TransportError),
    /// The TPM refused the command with a response code.
    Tpm {
        /// The command code (`TPM_CC`).
        command: u32,
        /// What the TPM answered.
        rc: TpmRc,
    },
    /// The response frame is not what the command calls for.
    MalformedResponse {
        /// The command code (`TPM_CC`).
        command: u32,
        /// What is wrong with it.
        defect: ResponseDefect,
    },
    /// The response HMAC does not verify: the response was altered or forged.
    ResponseHmacMismatch {
        /// The command code (`TPM_CC`).
        command: u32,
    },
    /// The command does not fit the command buffer.
    CommandTooLarge,
    /// A PCR selection names no PCR or a PCR above 23.
    InvalidPcrSelection,
    /// The SRK's public point is not a valid P-256 point.
    InvalidSrkPoint,
    /// The operating system's entropy source failed.
    Entropy,
    /// A secret-bearing session was asked for before the TPM's identity was
    /// established (its EK verified, or an unverified TPM allowed explicitly).
    NoTpmIdentity,
    /// The endorsement key the TPM derives now is not the verified one: the
    /// TPM or its answers were swapped. No session was started.
    EkNameMismatch,
    /// The endorsement key's public key is unusable for salting.
    InvalidEkKey,
}

impl TpmError {
    /// The TPM response code, when the TPM refused the command.
    #[must_use]
    pub const fn rc(&self) -> Option<TpmRc> {
        match *self {
            Self::Tpm { rc, .. } => Some(rc),
            _ => None,
        }
    }
}

impl From<TransportError> for TpmError {
    fn from(error: TransportError) -> Self {
        Self::Transport(error)
    }
}

impl fmt::Display for TpmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Transport(error) => write!(f, "TPM transport: {error}"),
            Self::Tpm { command, rc } => {
                write!(f, "TPM2_{} failed: {rc}", command_name(command))
            }
            Self::MalformedResponse { command, defect } => write!(
                f,
                "malformed TPM response to TPM2_{}: {}",
                command_name(command),
                defect_text(defect)
            ),
            Self::ResponseHmacMismatch { command } => write!(
                f,
                "the response HMAC of TPM2_{} does not verify: the response was altered in transit",
                command_name(command)
            ),
            Self::CommandTooLarge => f.write_str("the TPM command does not fit the command buffer"),
            Self::InvalidPcrSelection => {
                f.write_str("invalid PCR selection: select at least one PCR, each in 0..=23")
            }
            Self::InvalidSrkPoint => f.write_str("the SRK public key is not a valid P-256 point"),
            Self::Entropy => f.write_str("the operating system entropy source failed"),
            Self::NoTpmIdentity => f.write_str(
                "refusing a secret-bearing TPM session: the TPM's endorsement key was not verified",
            ),
            Self::EkNameMismatch => f.write_str(
                "the TPM's endorsement key differs from the verified one: TPM or transport swapped, nothing sent",
            ),
            Self::InvalidEkKey => f.write_str("the endorsement key's public key is unusable"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TpmError {}

fn defect_text(defect: ResponseDefect) -> &'static str {
    match defect {
        ResponseDefect::Truncated => "truncated",
        ResponseDefect::SizeMismatch => "its size field disagrees with its length",
        ResponseDefect::BadTag => "unexpected tag",
        ResponseDefect::ErrorWithBody => "an error response with a body",
        ResponseDefect::TrailingData => "trailing bytes",
        ResponseDefect::BadParameter => "a parameter does not unmarshal",
        ResponseDefect::BadAuthorization => "an invalid authorization area",
        ResponseDefect::UnexpectedValue => "a value contradicts the request",
    }
}

/// The specification name of a command code, without the `TPM2_` prefix.
#[must_use]
pub const fn command_name(command: u32) -> &'static str {
    match command {
        0x131 => "CreatePrimary",
        0x144 => "Startup",
        0x147 => "ActivateCredential",
        0x151 => "PolicySecret",
        0x168 => "MakeCredential",
        0x153 => "Create",
        0x157 => "Load",
        0x158 => "Quote",
        0x15E => "Unseal",
        0x165 => "FlushContext",
        0x173 => "ReadPublic",
        0x176 => "StartAuthSession",
        0x17A => "GetCapability",
        0x17B => "GetRandom",
        0x17E => "PCR_Read",
        0x17F => "PolicyPCR",
        0x182 => "PCR_Extend",
        0x189 => "PolicyGetDigest",
        _ => "command",
    }
}

/// An object Name: `nameAlg (SHA-256) || SHA-256(TPMT_PUBLIC)`.
///
/// A Name identifies a key by its public area: the SRK Name recorded when an
/// account is created proves later that the same TPM and the same SRK answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name([u8; NAME_LEN]);

impl Name {
    /// The Name of a marshalled `TPMT_PUBLIC` (without the `TPM2B` size).
    #[must_use]
    pub fn of_public_area(public_area: &[u8]) -> Self {
        let mut bytes = [0u8; NAME_LEN];
        bytes[..2].copy_from_slice(&ALG_SHA256.to_be_bytes());
        bytes[2..].copy_from_slice(&Sha256::digest(public_area));
        Self(bytes)
    }

    /// Reads a Name from its 34 bytes.
    ///
    /// # Errors
    ///
    /// `None` unless `bytes` is 34 bytes starting with `TPM_ALG_SHA256`.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let array: [u8; NAME_LEN] = bytes.try_into().ok()?;
        (array[..2] == ALG_SHA256.to_be_bytes()).then_some(Self(array))
    }

    /// The 34 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; NAME_LEN] {
        &self.0
    }

    /// The qualified Name of a primary key with this Name under the
    /// hierarchy `hierarchy` (`TPM_RH_OWNER`, `TPM_RH_ENDORSEMENT`...):
    /// `TPM_ALG_SHA256 || SHA-256(hierarchy || Name)` (TPM 2.0 Part 1, 16).
    #[must_use]
    pub fn qualified_under_hierarchy(&self, hierarchy: u32) -> Self {
        let mut hash = Sha256::new();
        hash.update(hierarchy.to_be_bytes());
        hash.update(self.0);
        let mut bytes = [0u8; NAME_LEN];
        bytes[..2].copy_from_slice(&ALG_SHA256.to_be_bytes());
        bytes[2..].copy_from_slice(&hash.finalize());
        Self(bytes)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// A selection of PCRs 0..=23 in the SHA-256 bank.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PcrSelection {
    bitmap: u32,
}

impl PcrSelection {
    /// PCRs 0..=7, the default for quotes.
    pub const DEFAULT_QUOTE: Self = Self { bitmap: 0xFF };
    /// Number of PCRs in a bank.
    pub const PCR_COUNT: u8 = 24;
    /// Length of [`Self::to_tpml_bytes`].
    pub const TPML_LEN: usize = 10;

    /// A selection from a bitmap: bit `i` selects PCR `i`.
    ///
    /// # Errors
    ///
    /// [`TpmError::InvalidPcrSelection`] for an empty bitmap or bits above 23.
    pub const fn from_bitmap(bitmap: u32) -> Result<Self, TpmError> {
        if bitmap == 0 || bitmap >> Self::PCR_COUNT != 0 {
            return Err(TpmError::InvalidPcrSelection);
        }
        Ok(Self { bitmap })
    }

    /// A selection from PCR indices.
    ///
    /// # Errors
    ///
    /// [`TpmError::InvalidPcrSelection`] for no index or an index above 23.
    pub fn from_indices(indices: &[u8]) -> Result<Self, TpmError> {
        let mut bitmap = 0u32;
        for &index in indices {
            if index >= Self::PCR_COUNT {
                return Err(TpmError::InvalidPcrSelection);
            }
            bitmap |= 1 << index;
        }
        Self::from_bitmap(bitmap)
    }

    /// The bitmap: bit `i` selects PCR `i`.
    #[must_use]
    pub const fn bitmap(&self) -> u32 {
        self.bitmap
    }

    /// `true` when PCR `index` is selected.
    #[must_use]
    pub const fn contains(&self, index: u8) -> bool {
        index < Self::PCR_COUNT && self.bitmap & (1 << index) != 0
    }

    /// How many PCRs are selected.
    #[must_use]
    pub const fn count(&self) -> usize {
        self.bitmap.count_ones() as usize
    }

    /// The selected indices, ascending.
    pub fn indices(&self) -> impl Iterator<Item = u8> + '_ {
        (0..Self::PCR_COUNT).filter(|&index| self.contains(index))
    }

    /// The marshalled `TPML_PCR_SELECTION`: one SHA-256 selection with a
    /// three-byte bitmap.
    #[must_use]
    pub const fn to_tpml_bytes(&self) -> [u8; Self::TPML_LEN] {
        let bits = self.bitmap.to_le_bytes();
        let alg = ALG_SHA256.to_be_bytes();
        [0, 0, 0, 1, alg[0], alg[1], 3, bits[0], bits[1], bits[2]]
    }

    pub(crate) fn to_tpml(self) -> tpm2_protocol::data::TpmlPcrSelection {
        use tpm2_protocol::data::{TpmAlgId, TpmlPcrSelection, TpmsPcrSelect, TpmsPcrSelection};
        let bits = self.bitmap.to_le_bytes();
        let mut list = TpmlPcrSelection::default();
        let pcr_select = TpmsPcrSelect::try_from(&bits[..3]).unwrap_or_default();
        // One entry never exceeds the list's capacity of eight.
        let _ = list.try_push(TpmsPcrSelection {
            hash: TpmAlgId::Sha256,
            pcr_select,
        });
        list
    }
}

impl fmt::Debug for PcrSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        let mut first = true;
        for index in self.indices() {
            if !first {
                f.write_str(",")?;
            }
            write!(f, "{index}")?;
            first = false;
        }
        Ok(())
    }
}

/// A deterministic random bit generator for nonces and ephemeral keys:
/// HMAC-SHA-256 in counter mode over a secret seed, re-keyed after every draw so
/// earlier outputs cannot be recomputed from a later state.
struct Drbg {
    key: [u8; 32],
    counter: u64,
}

impl Drbg {
    fn new(seed: &[u8; 32]) -> Self {
        let mut key = [0u8; 32];
        kdf::kdfa(seed, b"flare-wallet/tpm/drbg", &[], &[], &mut key);
        Self { key, counter: 0 }
    }

    fn fill(&mut self, out: &mut [u8]) {
        use hmac::Mac;
        for chunk in out.chunks_mut(32) {
            self.counter = self.counter.wrapping_add(1);
            let mut mac = kdf::hmac_sha256(&self.key);
            mac.update(b"output");
            mac.update(&self.counter.to_be_bytes());
            let block = mac.finalize().into_bytes();
            chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or(&[]));
        }
        let mut mac = kdf::hmac_sha256(&self.key);
        mac.update(b"rekey");
        mac.update(&self.counter.to_be_bytes());
        self.key.copy_from_slice(&mac.finalize().into_bytes());
    }

    fn reseed(&mut self, input: &[u8]) {
        use hmac::Mac;
        let mut mac = kdf::hmac_sha256(&self.key);
        mac.update(b"reseed");
        mac.update(input);
        self.key.copy_from_slice(&mac.finalize().into_bytes());
    }
}

impl rand_core::RngCore for Drbg {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill(dest);
        Ok(())
    }
}

/// Seeded from fresh secret entropy and re-keyed after every draw.
impl rand_core::CryptoRng for Drbg {}

impl Drop for Drbg {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// How a command is authorized.
pub(crate) enum Authorization<'a> {
    /// No authorization area.
    None,
    /// The empty password (`TPM_RS_PW`).
    Password,
    /// A session: HMAC, optionally decrypting the first command parameter and
    /// encrypting the first response parameter.
    Session {
        /// The session.
        session: &'a mut Session,
        /// Encrypt the first command parameter (`decrypt` attribute).
        decrypt: bool,
        /// Ask for the first response parameter encrypted (`encrypt` attribute).
        encrypt: bool,
    },
    /// Two authorizations: the empty password for the first handle, and for
    /// the second a policy session whose policy is already satisfied and asks
    /// for no auth value (so it carries no HMAC), such as
    /// `PolicySecret(TPM_RH_ENDORSEMENT)` for the endorsement key.
    PasswordThenPolicy {
        /// The policy session's handle.
        policy_session: u32,
    },
}

/// A TPM 2.0 reached through a transport.
pub struct Tpm<T: Transport> {
    transport: T,
    command: [u8; BUFFER_SIZE],
    response: [u8; BUFFER_SIZE],
    parameters: [u8; BUFFER_SIZE],
    response_len: usize,
    commands_sent: u64,
    drbg: Drbg,
    pending_flushes: heapless::Vec<u32, MAX_PENDING_FLUSHES>,
    sweep_needed: bool,
    salt: SessionSalt,
}

impl<T: Transport> fmt::Debug for Tpm<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tpm")
            .field("commands_sent", &self.commands_sent)
            .field("pending_flushes", &self.pending_flushes.len())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Tpm<T> {
    /// A TPM whose nonces and ephemeral session keys are drawn from a generator
    /// seeded with `seed`, which must be 32 bytes of fresh secret entropy.
    #[must_use]
    pub fn with_seed(transport: T, seed: &[u8; 32]) -> Self {
        Self {
            transport,
            command: [0; BUFFER_SIZE],
            response: [0; BUFFER_SIZE],
            parameters: [0; BUFFER_SIZE],
            response_len: 0,
            commands_sent: 0,
            drbg: Drbg::new(seed),
            pending_flushes: heapless::Vec::new(),
            sweep_needed: false,
            salt: SessionSalt::Unset,
        }
    }

    /// What secret-bearing sessions are salted to.
    #[must_use]
    pub const fn session_salt(&self) -> &SessionSalt {
        &self.salt
    }

    /// Salts every later secret-bearing session to the endorsement key of
    /// `kind` whose Name is `name` (one verified through its certificate).
    pub fn salt_sessions_to_ek(&mut self, kind: command::EkKind, name: Name) {
        self.salt = SessionSalt::Ek { kind, name };
    }

    /// Salts later sessions to the SRK the caller passes, unauthenticated:
    /// only for a TPM whose EK could not be verified, allowed explicitly.
    pub fn salt_sessions_to_unverified_srk(&mut self) {
        self.salt = SessionSalt::UnverifiedSrk;
    }

    /// A TPM whose generator is seeded from the operating system.
    ///
    /// # Errors
    ///
    /// [`TpmError::Entropy`] when the OS entropy source fails.
    #[cfg(feature = "std")]
    pub fn new(transport: T) -> Result<Self, TpmError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|_| TpmError::Entropy)?;
        let tpm = Self::with_seed(transport, &seed);
        seed.zeroize();
        Ok(tpm)
    }

    /// Mixes more entropy into the nonce generator.
    pub fn reseed(&mut self, input: &[u8]) {
        self.drbg.reseed(input);
    }

    /// How many command frames were handed to the transport (failed ones included).
    #[must_use]
    pub const fn commands_sent(&self) -> u64 {
        self.commands_sent
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (to disconnect it in tests, for example).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Handles whose flush failed and will be retried before the next command.
    #[must_use]
    pub fn pending_flushes(&self) -> &[u32] {
        &self.pending_flushes
    }

    pub(crate) fn fill_random(&mut self, out: &mut [u8]) {
        self.drbg.fill(out);
    }

    /// The engine's generator, for keys that need an RNG to be drawn.
    pub(crate) fn rng(&mut self) -> &mut (impl rand_core::CryptoRngCore + '_) {
        &mut self.drbg
    }

    fn wipe(&mut self) {
        self.command.zeroize();
        self.response.zeroize();
        self.parameters.zeroize();
        self.response_len = 0;
    }

    /// Wipes the response buffer (after a secret was copied out of it).
    pub(crate) fn wipe_response(&mut self) {
        self.response.zeroize();
        self.response_len = 0;
    }

    /// The bytes of `span` in the last response.
    pub(crate) fn response_bytes(&self, span: frame::Span) -> &[u8] {
        span.of(self.response.get(..self.response_len).unwrap_or(&[]))
    }

    /// `TPM2_FlushContext`: unloads a transient object or ends a session.
    ///
    /// The frame is built on the stack, so a flush can run while another
    /// command is being prepared in the engine's buffers.
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn flush_context(&mut self, handle: u32) -> Result<(), TpmError> {
        let mut command = [0u8; 14];
        command[..2].copy_from_slice(&frame::TAG_NO_SESSIONS.to_be_bytes());
        command[2..6].copy_from_slice(&14u32.to_be_bytes());
        command[6..10].copy_from_slice(&CC_FLUSH_CONTEXT.to_be_bytes());
        command[10..].copy_from_slice(&handle.to_be_bytes());
        let layout = self.transact_small(&command, CC_FLUSH_CONTEXT)?;
        self.wipe_response();
        if layout.parameters.len != 0 {
            return Err(TpmError::MalformedResponse {
                command: CC_FLUSH_CONTEXT,
                defect: ResponseDefect::TrailingData,
            });
        }
        Ok(())
    }

    /// `TPM2_GetCapability(TPM_CAP_HANDLES)` for the handle range starting at
    /// `first` (`0x80000000` transient objects, `0x02000000` HMAC sessions,
    /// `0x03000000` policy sessions), at most 64 handles.
    ///
    /// # Errors
    ///
    /// The errors of the command; an answer that is not a handle list.
    pub fn handles_in_range(&mut self, first: u32) -> Result<heapless::Vec<u32, 64>, TpmError> {
        use tpm2_protocol::data::TpmuCapabilities;
        use tpm2_protocol::frame::TpmGetCapabilityResponse;
        let mut command = [0u8; 22];
        command[..2].copy_from_slice(&frame::TAG_NO_SESSIONS.to_be_bytes());
        command[2..6].copy_from_slice(&22u32.to_be_bytes());
        command[6..10].copy_from_slice(&CC_GET_CAPABILITY.to_be_bytes());
        command[10..14].copy_from_slice(&CAP_HANDLES.to_be_bytes());
        command[14..18].copy_from_slice(&first.to_be_bytes());
        command[18..].copy_from_slice(&64u32.to_be_bytes());
        let layout = self.transact_small(&command, CC_GET_CAPABILITY)?;
        let parsed =
            TpmGetCapabilityResponse::unmarshal_body(&[], self.response_bytes(layout.parameters));
        self.wipe_response();
        let malformed = |defect| TpmError::MalformedResponse {
            command: CC_GET_CAPABILITY,
            defect,
        };
        let response = parsed.map_err(|_| malformed(ResponseDefect::BadParameter))?;
        let TpmuCapabilities::Handles(list) = &response.capability_data.data else {
            return Err(malformed(ResponseDefect::UnexpectedValue));
        };
        let mut handles = heapless::Vec::new();
        for handle in list.iter() {
            let handle = handle.value();
            // The list runs on past the range; only this range's type counts.
            // Loaded sessions are listed under 0x02 whatever their kind, and a
            // policy session's handle starts with 0x03.
            let same_range = match first >> 24 {
                0x02 | 0x03 => matches!(handle >> 24, 0x02 | 0x03),
                range => handle >> 24 == range,
            };
            if same_range {
                handles
                    .push(handle)
                    .map_err(|_| malformed(ResponseDefect::UnexpectedValue))?;
            }
        }
        Ok(handles)
    }

    /// Flushes every transient object and loaded session this connection can
    /// see, returning how many. Used after a response to a command that creates
    /// a handle was lost or unreadable; on `/dev/tpmrm0` the resource manager
    /// shows each connection only its own handles.
    ///
    /// # Errors
    ///
    /// The errors of `GetCapability`; failed flushes are deferred.
    pub fn flush_all_transient(&mut self) -> Result<usize, TpmError> {
        let objects = self.handles_in_range(0x8000_0000)?;
        let hmac_sessions = self.handles_in_range(0x0200_0000)?;
        let policy_sessions = self.handles_in_range(0x0300_0000)?;
        // Everything loaded is in these lists: earlier deferred flushes are covered.
        self.sweep_needed = false;
        self.pending_flushes.clear();
        let mut flushed = 0;
        let mut seen = heapless::Vec::<u32, 192>::new();
        for &handle in objects.iter().chain(&hmac_sessions).chain(&policy_sessions) {
            if seen.contains(&handle) {
                continue;
            }
            let _ = seen.push(handle);
            self.flush_or_defer(handle);
            flushed += 1;
        }
        Ok(flushed)
    }

    /// Sends a small command frame built by the caller on the stack, leaving
    /// the command and parameter buffers untouched.
    fn transact_small(
        &mut self,
        command: &[u8],
        command_code: u32,
    ) -> Result<frame::ResponseLayout, TpmError> {
        self.wipe_response();
        self.commands_sent += 1;
        let received = self.transport.transact(command, &mut self.response)?;
        if received > self.response.len() {
            return Err(TpmError::Transport(TransportError::ResponseTruncated));
        }
        self.response_len = received;
        let parsed = frame::parse_response(
            self.response.get(..received).unwrap_or(&[]),
            command_code,
            0,
            0,
        );
        if parsed.is_err() {
            self.wipe_response();
        }
        parsed
    }

    /// Flushes `handle`; when that fails, remembers it to retry before the next
    /// command. A handle the TPM no longer knows counts as flushed.
    ///
    /// Every object and session this crate creates is flushed this way on
    /// every path, error paths included.
    pub fn flush_or_defer(&mut self, handle: u32) {
        // A persistent object (the EK at its TCG handle) is used in place:
        // `TPM2_FlushContext` refuses it, and it must stay.
        if handle >> 24 == 0x81 {
            return;
        }
        match self.flush_context(handle) {
            Ok(()) => {}
            // A handle the TPM does not know (TPM_RC_HANDLE, TPM_RC_VALUE or a
            // TPM_RC_REFERENCE_* warning) is gone already.
            Err(TpmError::Tpm { rc, .. })
                if !rc.is_warning() || (0x910..=0x91E).contains(&rc.base()) => {}
            Err(_) => {
                if !self.pending_flushes.contains(&handle) {
                    // When the list is full the handle is lost to us; the TPM keeps
                    // it until restart.
                    let _ = self.pending_flushes.push(handle);
                }
            }
        }
    }

    /// `true` when the response to a command that creates a handle was lost or
    /// unreadable, so a handle may be loaded that we do not know: the next
    /// command first flushes every transient object and session of this
    /// connection.
    #[must_use]
    pub const fn sweep_pending(&self) -> bool {
        self.sweep_needed
    }

    /// Housekeeping before a command: the sweep after a lost handle, else the
    /// deferred flushes. Uses only stack-built frames, so the command being
    /// prepared in the buffers is untouched.
    fn before_command(&mut self) -> Result<(), TpmError> {
        if self.sweep_needed {
            return self.flush_all_transient().map(|_| ());
        }
        self.retry_pending_flushes()
    }

    fn retry_pending_flushes(&mut self) -> Result<(), TpmError> {
        while let Some(&handle) = self.pending_flushes.last() {
            match self.flush_context(handle) {
                Ok(()) => {
                    self.pending_flushes.pop();
                }
                Err(TpmError::Tpm { rc, .. })
                    if !rc.is_warning() || (0x910..=0x91E).contains(&rc.base()) =>
                {
                    self.pending_flushes.pop();
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Sends a command whose body is a `tpm2-protocol` structure and unmarshals
    /// the response body strictly.
    pub(crate) fn run<C, R>(
        &mut self,
        command: &C,
        names: &[&[u8]],
        authorization: Authorization<'_>,
    ) -> Result<R, TpmError>
    where
        C: TpmFrame,
        R: TpmUnmarshalBody,
    {
        self.run_inner(command, names, authorization)
            .map(|(response, _)| response)
    }

    pub(crate) fn run_inner<C, R>(
        &mut self,
        command: &C,
        names: &[&[u8]],
        authorization: Authorization<'_>,
    ) -> Result<(R, frame::ResponseLayout), TpmError>
    where
        C: TpmFrame,
        R: TpmUnmarshalBody,
    {
        let code = command.cc().value();
        let mut handle_bytes = [0u8; 12];
        let mut writer = TpmWriter::new(&mut handle_bytes);
        command
            .marshal_handles(&mut writer)
            .map_err(|_| TpmError::CommandTooLarge)?;
        let handle_len = writer.len();
        let mut handles = [0u32; 3];
        for (slot, chunk) in handles
            .iter_mut()
            .zip(handle_bytes[..handle_len].chunks_exact(4))
        {
            *slot = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        let handle_count = handle_len / 4;
        let mut writer = TpmWriter::new(&mut self.parameters);
        command
            .marshal_parameters(&mut writer)
            .map_err(|_| TpmError::CommandTooLarge)?;
        let parameter_len = writer.len();
        let layout = self.execute(
            code,
            handles.get(..handle_count).unwrap_or(&[]),
            names,
            parameter_len,
            authorization,
            R::HANDLES,
        )?;
        let response = self.response.get(..self.response_len).unwrap_or(&[]);
        R::unmarshal_body(layout.handles.of(response), layout.parameters.of(response))
            .map(|body| (body, layout))
            .map_err(|_| TpmError::MalformedResponse {
                command: code,
                defect: ResponseDefect::BadParameter,
            })
    }

    /// Sends the command whose parameter area is `self.parameters[..parameter_len]`.
    ///
    /// With a session, the first parameter is encrypted in place when asked,
    /// the command HMAC is computed over cpHash, and the response HMAC is
    /// verified before the first response parameter is decrypted.
    pub(crate) fn execute(
        &mut self,
        command_code: u32,
        handles: &[u32],
        names: &[&[u8]],
        parameter_len: usize,
        authorization: Authorization<'_>,
        response_handles: usize,
    ) -> Result<frame::ResponseLayout, TpmError> {
        let result = self.execute_inner(
            command_code,
            handles,
            names,
            parameter_len,
            authorization,
            response_handles,
        );
        self.command.zeroize();
        self.parameters.zeroize();
        if result.is_err() {
            self.wipe_response();
        }
        result
    }

    fn execute_inner(
        &mut self,
        command_code: u32,
        handles: &[u32],
        names: &[&[u8]],
        parameter_len: usize,
        mut authorization: Authorization<'_>,
        response_handles: usize,
    ) -> Result<frame::ResponseLayout, TpmError> {
        self.before_command()?;
        self.wipe_response();
        if parameter_len > self.parameters.len() {
            return Err(TpmError::CommandTooLarge);
        }

        let mut nonce_caller = [0u8; session::NONCE_LEN];
        let mut attributes = 0u8;
        let mut command_hmac = [0u8; 32];
        if let Authorization::Session {
            session,
            decrypt,
            encrypt,
        } = &mut authorization
        {
            self.drbg.fill(&mut nonce_caller);
            attributes = session::attributes(session.continues(), *decrypt, *encrypt);
            let parameters = self.parameters.get_mut(..parameter_len).unwrap_or(&mut []);
            if *decrypt {
                session.encrypt_first_parameter(&nonce_caller, parameters)?;
            }
            let cp_hash = session::cp_hash(command_code, names, parameters);
            command_hmac = session.command_hmac(&cp_hash, &nonce_caller, attributes);
        }

        // Header, handles, authorization area, parameters.
        let tag = if matches!(authorization, Authorization::None) {
            frame::TAG_NO_SESSIONS
        } else {
            frame::TAG_SESSIONS
        };
        let out = &mut self.command;
        let mut at = frame::put_u16(out, 0, tag)?;
        at = frame::put_u32(out, at, 0)?;
        at = frame::put_u32(out, at, command_code)?;
        for &handle in handles {
            at = frame::put_u32(out, at, handle)?;
        }
        match &authorization {
            Authorization::None => {}
            Authorization::Password => {
                at = frame::put_u32(out, at, 9)?;
                at = frame::put_u32(out, at, RS_PW)?;
                at = frame::put_sized(out, at, &[])?;
                at = frame::put(out, at, &[session::CONTINUE_SESSION])?;
                at = frame::put_sized(out, at, &[])?;
            }
            Authorization::PasswordThenPolicy { policy_session } => {
                let mut nonce = [0u8; session::NONCE_LEN];
                self.drbg.fill(&mut nonce);
                let size = 9 + 4 + 2 + session::NONCE_LEN + 1 + 2;
                at = frame::put_u32(out, at, size as u32)?;
                at = frame::put_u32(out, at, RS_PW)?;
                at = frame::put_sized(out, at, &[])?;
                at = frame::put(out, at, &[session::CONTINUE_SESSION])?;
                at = frame::put_sized(out, at, &[])?;
                at = frame::put_u32(out, at, *policy_session)?;
                at = frame::put_sized(out, at, &nonce)?;
                at = frame::put(out, at, &[session::CONTINUE_SESSION])?;
                at = frame::put_sized(out, at, &[])?;
            }
            Authorization::Session { session, .. } => {
                let size_at = at;
                at = frame::put_u32(out, at, 0)?;
                let start = at;
                at = frame::put_u32(out, at, session.handle())?;
                at = frame::put_sized(out, at, &nonce_caller)?;
                at = frame::put(out, at, &[attributes])?;
                at = frame::put_sized(out, at, &command_hmac)?;
                let auth_size = u32::try_from(at - start).map_err(|_| TpmError::CommandTooLarge)?;
                frame::put_u32(out, size_at, auth_size)?;
            }
        }
        let parameters = self.parameters.get(..parameter_len).unwrap_or(&[]);
        at = frame::put(out, at, parameters)?;
        let size = u32::try_from(at).map_err(|_| TpmError::CommandTooLarge)?;
        frame::put_u32(out, 2, size)?;

        // TPM_RC_RETRY: the TPM did not run the command (a DA-protected object's
        // first use after startup makes it write NV first) and asks for the very
        // same command again; sessions and nonces are untouched.
        let mut attempts = 0;
        let received = loop {
            self.commands_sent += 1;
            let sent = self
                .transport
                .transact(self.command.get(..at).unwrap_or(&[]), &mut self.response);
            attempts += 1;
            match sent {
                Ok(received)
                    if attempts < MAX_RETRIES
                        && self.response.get(6..10) == Some(&RC_RETRY.to_be_bytes()[..]) =>
                {
                    let _ = received;
                }
                other => break other,
            }
        };
        let received = match received {
            Ok(received) => received,
            Err(error) => {
                // The TPM may have run the command: a handle it created is
                // unknown to us and must be swept before the next command.
                if response_handles > 0 {
                    self.sweep_needed = true;
                }
                return Err(TpmError::Transport(error));
            }
        };
        if received > self.response.len() {
            return Err(TpmError::Transport(TransportError::ResponseTruncated));
        }
        self.response_len = received;

        let session_count = match authorization {
            Authorization::None => 0,
            Authorization::PasswordThenPolicy { .. } => 2,
            _ => 1,
        };
        let parsed = frame::parse_response(
            self.response.get(..received).unwrap_or(&[]),
            command_code,
            response_handles,
            session_count,
        );
        let layout = match parsed {
            Ok(layout) => layout,
            Err(error) => {
                // An unreadable answer to a handle-creating command may hide a
                // loaded handle; a refusal (a response code) created nothing.
                if response_handles > 0 && !matches!(error, TpmError::Tpm { .. }) {
                    self.sweep_needed = true;
                }
                return Err(error);
            }
        };
        let malformed = |defect| TpmError::MalformedResponse {
            command: command_code,
            defect,
        };
        match authorization {
            Authorization::None => {}
            // The policy session has no key: its response HMAC proves nothing,
            // and the password entry is checked like a lone password's.
            Authorization::Password | Authorization::PasswordThenPolicy { .. } => {
                let auth = layout.auths[0];
                if auth.nonce.len != 0
                    || auth.hmac.len != 0
                    || auth.attributes != session::CONTINUE_SESSION
                {
                    return Err(malformed(ResponseDefect::BadAuthorization));
                }
            }
            Authorization::Session {
                session, encrypt, ..
            } => {
                let auth = layout.auths[0];
                let response = self.response.get(..received).unwrap_or(&[]);
                session.verify_response(
                    command_code,
                    layout.parameters.of(response),
                    auth.nonce.of(response),
                    auth.attributes,
                    auth.hmac.of(response),
                    &nonce_caller,
                )?;
                if encrypt {
                    let parameters = self
                        .response
                        .get_mut(layout.parameters.start..layout.parameters.end())
                        .unwrap_or(&mut []);
                    session.decrypt_first_parameter(command_code, &nonce_caller, parameters)?;
                }
            }
        }
        Ok(layout)
    }
}

impl<T: Transport> Drop for Tpm<T> {
    fn drop(&mut self) {
        self.wipe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drbg_is_seeded_and_never_repeats_a_draw() {
        let mut a = Drbg::new(&[1; 32]);
        let mut b = Drbg::new(&[1; 32]);
        let mut c = Drbg::new(&[2; 32]);
        let (mut x, mut y, mut z) = ([0u8; 48], [0u8; 48], [0u8; 48]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y, "same seed, same stream");
        assert_ne!(x, z, "another seed, another stream");
        a.fill(&mut y);
        assert_ne!(x, y, "each draw is new");
        b.reseed(b"more");
        b.fill(&mut z);
        assert_ne!(y, z, "reseeding changes the stream");
    }

    #[test]
    fn name_is_sha256_of_the_public_area_with_its_algorithm() {
        let name = Name::of_public_area(b"abc");
        assert_eq!(&name.as_bytes()[..2], &[0x00, 0x0B]);
        assert_eq!(
            &name.as_bytes()[2..],
            &Sha256::digest(b"abc")[..],
            "SHA-256 of the marshalled TPMT_PUBLIC"
        );
        assert_eq!(Name::from_bytes(name.as_bytes()), Some(name));
        assert_eq!(Name::from_bytes(&name.as_bytes()[1..]), None);
        let mut other_alg = *name.as_bytes();
        other_alg[1] = 0x0C;
        assert_eq!(Name::from_bytes(&other_alg), None);
    }
}
