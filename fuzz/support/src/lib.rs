//! Shared by the TPM fuzz targets and `record-seeds`.
//!
//! A fuzz input for the engine is a scenario byte followed by response
//! frames, one per command, back to back. TPM frames carry their own size,
//! so [`ReplayTransportDouble`] cuts each answer off the input by its size
//! field; the seed corpus is the concatenation of what a real swtpm answered
//! to the same scenario. The engine's nonces and ephemeral keys come from a
//! generator seeded with [`SEED`], so a recorded transcript replays exactly:
//! the response HMACs of a real run verify again, and mutations start from
//! frames that reach the deepest checks.

use wallet_core::seal::{self, SealError};
use wallet_core::tpm::transport::Transport;
use wallet_core::tpm::{ParameterEncryption, PcrSelection, Tpm, TransportError};

/// The generator seed of every engine in the fuzz targets and the recorder.
pub const SEED: [u8; 32] = *b"flare-wallet fuzz: fixed seed 01";

/// The secret the seal scenarios seal (a valid secp256k1 scalar).
pub const SECRET: [u8; 32] = [0x42; 32];

/// What a quote scenario asks the TPM to sign.
pub const QUALIFYING_DATA: [u8; 32] = [0x5a; 32];

/// A PCR the extend scenario may change (16 is the resettable debug PCR).
pub const DEBUG_PCR: u8 = 16;

/// The command sequences the engine is driven through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `TPM2_Startup`.
    Startup,
    /// `TPM2_GetRandom` for 48 bytes (more than one answer's worth on some TPMs).
    GetRandom,
    /// The storage root key: `CreatePrimary`, then `ReadPublic` of it, then a flush.
    SrkAndReadPublic,
    /// `PCR_Read` of PCRs 0-7.
    PcrRead,
    /// `PCR_Extend` of the debug PCR.
    PcrExtend,
    /// `GetCapability(handles)`, then a flush of every transient object.
    HandlesAndSweep,
    /// Seal [`SECRET`] and unseal it, with parameter encryption both ways.
    SealUnseal,
    /// Seal [`SECRET`] to PCRs 0-7 and unseal it through a policy session.
    SealUnsealPcrBound,
    /// The attestation key and a quote of PCRs 0-7.
    Quote,
    /// A PolicyPCR digest computed in a trial session.
    TrialPolicy,
}

impl Scenario {
    /// Every scenario, in selector order.
    pub const ALL: [Self; 10] = [
        Self::Startup,
        Self::GetRandom,
        Self::SrkAndReadPublic,
        Self::PcrRead,
        Self::PcrExtend,
        Self::HandlesAndSweep,
        Self::SealUnseal,
        Self::SealUnsealPcrBound,
        Self::Quote,
        Self::TrialPolicy,
    ];

    /// The scenario a selector byte names, or `None` past the last one.
    #[must_use]
    pub fn from_selector(selector: u8) -> Option<Self> {
        Self::ALL.get(usize::from(selector)).copied()
    }

    /// Its selector byte.
    #[must_use]
    pub fn selector(self) -> u8 {
        // ALL has ten entries: the position fits in a byte.
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }
}

/// What a scenario returned, reduced to what the fuzz targets check.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The scenario completed; for the seal scenarios, with the unsealed secret.
    Completed(Option<[u8; 32]>),
    /// Some command failed with this error (its text is what a caller sees).
    Failed(wallet_core::Error),
}

fn seal_error(e: SealError) -> wallet_core::Error {
    wallet_core::Error::Seal(e)
}

/// Runs `scenario` against `tpm`.
pub fn run<T: Transport>(tpm: &mut Tpm<T>, scenario: Scenario) -> Outcome {
    let pcrs = PcrSelection::DEFAULT_QUOTE;
    let result: Result<Option<[u8; 32]>, wallet_core::Error> = (|| {
        match scenario {
            Scenario::Startup => tpm.startup()?,
            Scenario::GetRandom => tpm.get_random(&mut [0u8; 48])?,
            Scenario::SrkAndReadPublic => {
                let srk = tpm.create_srk()?;
                let read = tpm.read_public(srk.handle());
                tpm.flush_or_defer(srk.handle());
                let (name, _) = read?;
                assert_eq!(&name, srk.name(), "ReadPublic and CreatePrimary disagree");
            }
            Scenario::PcrRead => {
                let values = tpm.pcr_read(pcrs)?;
                let _ = values.digest();
            }
            Scenario::PcrExtend => tpm.pcr_extend(DEBUG_PCR, &[0x01; 32])?,
            Scenario::HandlesAndSweep => {
                let _ = tpm.handles_in_range(0x8000_0000)?;
                tpm.flush_all_transient()?;
            }
            Scenario::SealUnseal | Scenario::SealUnsealPcrBound => {
                let bound = (scenario == Scenario::SealUnsealPcrBound).then_some(pcrs);
                let enc = ParameterEncryption::Aes128Cfb;
                let sealed =
                    seal::seal_secret(tpm, None, &SECRET, bound, enc).map_err(seal_error)?;
                let name = *sealed.srk_name();
                let secret = seal::unseal_secret(tpm, &name, &sealed, enc).map_err(seal_error)?;
                return Ok(Some(*secret));
            }
            Scenario::Quote => {
                let _ = tpm.create_ak_and_quote(&QUALIFYING_DATA, pcrs)?;
            }
            Scenario::TrialPolicy => {
                let _ = seal::pcr_policy_digest(tpm, pcrs).map_err(seal_error)?;
            }
        }
        Ok(None)
    })();
    match result {
        Ok(secret) => Outcome::Completed(secret),
        Err(e) => Outcome::Failed(e),
    }
}

/// Test double for a TPM: answers each command with the next frame cut from
/// a byte string, by the frame's own size field. A size field that is below
/// a header or runs past the input gives the whole remainder as one frame
/// (the engine then sees the mismatch); an exhausted input is a lost
/// connection.
#[derive(Debug)]
pub struct ReplayTransportDouble<'a> {
    frames: &'a [u8],
    answered: usize,
}

impl<'a> ReplayTransportDouble<'a> {
    /// A double that answers from `frames`.
    #[must_use]
    pub fn new(frames: &'a [u8]) -> Self {
        Self {
            frames,
            answered: 0,
        }
    }

    /// How many commands it answered.
    #[must_use]
    pub fn answered(&self) -> usize {
        self.answered
    }
}

/// The length of the frame at the start of `bytes`, by its size field,
/// or the whole of `bytes` when the size field is unusable.
#[must_use]
pub fn next_frame_len(bytes: &[u8]) -> usize {
    let announced = bytes
        .get(2..6)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .and_then(|n| usize::try_from(n).ok());
    match announced {
        Some(n) if n >= 10 && n <= bytes.len() => n,
        _ => bytes.len(),
    }
}

/// Splits a transcript of back-to-back response frames.
#[must_use]
pub fn split_frames(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (frame, rest) = bytes.split_at(next_frame_len(bytes));
        frames.push(frame);
        bytes = rest;
    }
    frames
}

impl Transport for ReplayTransportDouble<'_> {
    fn transact(&mut self, _command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        if self.frames.is_empty() {
            return Err(TransportError::ConnectionLost);
        }
        let (frame, rest) = self.frames.split_at(next_frame_len(self.frames));
        self.frames = rest;
        self.answered += 1;
        // As the socket and device transports do: a frame larger than the
        // response buffer is refused, never cut.
        let Some(out) = response.get_mut(..frame.len()) else {
            return Err(TransportError::ResponseTooLarge {
                announced: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            });
        };
        out.copy_from_slice(frame);
        Ok(frame.len())
    }
}

/// A transport that answers each command with the matching frame of a
/// recorded transcript, except the `replaced`-th answer, which is `frame`.
#[derive(Debug)]
pub struct SpliceTransportDouble<'a> {
    recorded: Vec<&'a [u8]>,
    replaced: usize,
    frame: &'a [u8],
    answered: usize,
}

impl<'a> SpliceTransportDouble<'a> {
    /// Answers from `recorded` (back-to-back frames), with `frame` in place
    /// of answer number `replaced` (0-based).
    #[must_use]
    pub fn new(recorded: &'a [u8], replaced: usize, frame: &'a [u8]) -> Self {
        Self {
            recorded: split_frames(recorded),
            replaced,
            frame,
            answered: 0,
        }
    }
}

impl Transport for SpliceTransportDouble<'_> {
    fn transact(&mut self, _command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let index = self.answered;
        self.answered += 1;
        let frame = if index == self.replaced {
            self.frame
        } else {
            *self
                .recorded
                .get(index)
                .ok_or(TransportError::ConnectionLost)?
        };
        let Some(out) = response.get_mut(..frame.len()) else {
            return Err(TransportError::ResponseTooLarge {
                announced: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            });
        };
        out.copy_from_slice(frame);
        Ok(frame.len())
    }
}

/// The verifier's nonce of the `attest_verify` target and of its seeds.
pub const ATTEST_NONCE: &[u8] = b"flare-wallet fuzz: verifier nonce";

/// The owner of the spend ledgers `policy_decode` reads (and its seeds).
pub const LEDGER_OWNER: wallet_core::signer::Address = wallet_core::signer::Address([0x35; 20]);

/// The data key `sealed_data_decode` opens and writes blobs with (and its
/// seeds are written with); a blob sealed by a TPM has a key of its own.
pub const SEALED_DATA_KEY: [u8; 32] = *b"flare-wallet fuzz: sealed data k";

/// The SRK Name, `TPM2B_PUBLIC` and `TPM2B_PRIVATE` that
/// `sealed_data_decode` writes beside the data it encrypts. The format
/// carries them as opaque length-prefixed fields, so any in-bound bytes do;
/// these have the lengths a P-256 SRK's Name and a sealed data key have.
pub const SEALED_DATA_PARTS: (&[u8], &[u8], &[u8]) = (&[0x0b; 34], &[0x23; 78], &[0x9e; 126]);

/// A self-signed P-256 root (DER) the `enrollment_decode` target verifies
/// records against; its key was discarded, so it issued nothing in any input.
pub const ENROLLMENT_ROOT_DER: &[u8] = include_bytes!("../recorded/enrollment_root.der");
