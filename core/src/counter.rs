//! Anti-rollback NV counters.
//!
//! Every account gets a TPM NV counter (`TPM_NT_COUNTER`) in the owner
//! range `0x01800000..=0x01BFFFFF`. Its authorization value is derived from
//! the wallet key ([`CounterAuth`]), so only a process that can unseal the
//! key can increment or read it (for an account without a key lock, any
//! process with TPM access and the account file can unseal, so the counter
//! is exactly as protected as the key; it still makes a copied-back or
//! deleted file detectable): the index has `AUTHWRITE` and `AUTHREAD` and
//! no `OWNERWRITE`. The owner hierarchy can delete it (`TPM2_NV_UndefineSpace`);
//! a counter defined again at the same index has another authorization value
//! and, as every TPM counter, starts at or above the highest value any counter
//! of the TPM ever had, so deleting it refuses service but never rolls back.
//!
//! The account file records the counter value it was written at. A state
//! change writes the file with the next value, then increments the counter,
//! so a crash in between leaves a file exactly one ahead, which the next load
//! accepts and catches up. Any file behind the counter was copied back: it is
//! refused.
//!
//! Reads and increments go through an unsalted HMAC session keyed by the
//! authorization value alone: they carry no secret, and the response HMAC
//! authenticates the value read. Defining the counter sends the
//! authorization value, encrypted by a session salted to the SRK.

use core::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::seal::{self, SealError};
use crate::signer::SecretKey;
use crate::tpm::command::{nv_counter_name, nv_counter_name_unwritten, NV_COUNTER_ATTRIBUTES};
use crate::tpm::{Name, SessionKind, Tpm, TpmError, TpmRc, Transport};

/// First index of the owner NV range.
pub const OWNER_NV_FIRST: u32 = 0x0180_0000;
/// How many consecutive indices are tried when one is taken.
const INDEX_ATTEMPTS: u32 = 16;
/// `TPM_RC_NV_DEFINED`.
const RC_NV_DEFINED: TpmRc = TpmRc::from_raw(0x14C);

/// A counter's authorization value: HMAC-SHA-256 of the wallet key under the
/// label `flare-wallet/nv-counter-auth/v1`, its last byte made non-zero.
/// Wiped on drop; `Debug` is redacted.
pub struct CounterAuth([u8; 32]);

impl CounterAuth {
    /// The authorization value of the counter of the account keyed by `key`.
    #[must_use]
    pub fn derive(key: &SecretKey) -> Self {
        use hmac::Mac;
        let mut secret = key.to_bytes();
        let mut mac = crate::tpm::kdf::hmac_sha256(&secret[..]);
        secret.zeroize();
        mac.update(b"flare-wallet/nv-counter-auth/v1");
        let mut value: [u8; 32] = mac.finalize().into_bytes().into();
        value[31] |= 1;
        Self(value)
    }
}

impl fmt::Debug for CounterAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CounterAuth(<redacted>)")
    }
}

impl Drop for CounterAuth {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The indices a counter whose first choice is `first` may be at, in the
/// order they are tried (both when defining and when finding it): `first`
/// and the next ones, wrapping within the owner range.
fn candidate_indices(first: u32) -> impl Iterator<Item = u32> {
    (0..INDEX_ATTEMPTS).map(move |attempt| OWNER_NV_FIRST | ((first + attempt) & 0x003F_FFFF))
}

/// The first index tried for the account at `address`: the owner range
/// indexed by the first 22 bits of SHA-256 of the address.
#[must_use]
pub fn preferred_index(address: &[u8; 20]) -> u32 {
    let digest = Sha256::digest(address);
    let bits = u32::from_be_bytes([0, digest[0], digest[1], digest[2]]) & 0x003F_FFFF;
    OWNER_NV_FIRST | bits
}

/// Defines a counter for `address` (at its preferred index or one of the
/// next ones when taken), increments it once (a counter has no value before
/// that) and returns the index and its value.
///
/// # Errors
///
/// [`SealError::SrkNameMismatch`], TPM errors.
pub fn define<T: Transport>(
    tpm: &mut Tpm<T>,
    expected_srk_name: &Name,
    address: &[u8; 20],
    auth: &CounterAuth,
) -> Result<(u32, u64), SealError> {
    let srk = seal::create_srk(tpm, Some(expected_srk_name))?;
    let defined = define_under(tpm, &srk, address, auth);
    tpm.flush_or_defer(srk.handle());
    let index = defined?;
    increment_named(tpm, index, &nv_counter_name_unwritten(index), auth)?;
    let value = read(tpm, index, auth)?;
    Ok((index, value))
}

fn define_under<T: Transport>(
    tpm: &mut Tpm<T>,
    srk: &crate::tpm::command::Srk,
    address: &[u8; 20],
    auth: &CounterAuth,
) -> Result<u32, SealError> {
    let first = preferred_index(address);
    let mut last_error = None;
    for index in candidate_indices(first) {
        let mut session = tpm.start_salted_session(srk, SessionKind::Hmac)?;
        session.end_after_next_command();
        let result = tpm.nv_define_counter(&mut session, index, &auth.0);
        if !session.is_ended() {
            tpm.flush_or_defer(session.handle());
        }
        match result {
            Ok(()) => return Ok(index),
            Err(TpmError::Tpm { rc, .. }) if rc.is(RC_NV_DEFINED) => {
                last_error = Some(TpmError::Tpm { command: 0x12A, rc });
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(SealError::Tpm(
        last_error.unwrap_or(TpmError::CommandTooLarge),
    ))
}

/// The counter already defined for the account whose key derives `auth`:
/// its index and value, found among the indices [`define`] tries. `None`
/// when none of them reads with `auth`. Only indices with our counter's
/// attributes (`NO_DA` among them) are read, so a wrong authorization value
/// on another account's counter costs nothing.
///
/// # Errors
///
/// Transport errors; the TPM's refusals (no index, another authorization
/// value) only mean the index is not this account's.
pub fn find<T: Transport>(
    tpm: &mut Tpm<T>,
    address: &[u8; 20],
    auth: &CounterAuth,
) -> Result<Option<(u32, u64)>, SealError> {
    let first = preferred_index(address);
    for index in candidate_indices(first) {
        // Only an index defined as ours are (a counter with `NO_DA`) is
        // tried with `auth`: a wrong value elsewhere could count toward the
        // TPM's dictionary-attack lockout.
        match tpm.nv_read_public(index) {
            Ok(info) if info.attributes & NV_COUNTER_ATTRIBUTES == NV_COUNTER_ATTRIBUTES => {}
            Ok(_) | Err(TpmError::Tpm { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
        match read(tpm, index, auth) {
            Ok(value) => return Ok(Some((index, value))),
            Err(SealError::Tpm(TpmError::Tpm { .. })) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// Increments the counter at `index` by one.
///
/// # Errors
///
/// TPM errors (`TPM_RC_HANDLE` when it was deleted, an authorization failure
/// when it was defined again by someone else).
pub fn increment<T: Transport>(
    tpm: &mut Tpm<T>,
    index: u32,
    auth: &CounterAuth,
) -> Result<(), SealError> {
    increment_named(tpm, index, &nv_counter_name(index), auth)
}

fn increment_named<T: Transport>(
    tpm: &mut Tpm<T>,
    index: u32,
    name: &Name,
    auth: &CounterAuth,
) -> Result<(), SealError> {
    let mut session = tpm.start_unsalted_hmac_session()?;
    session.include_auth_value(&auth.0);
    session.end_after_next_command();
    let result = tpm.nv_increment(&mut session, index, name);
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    Ok(result?)
}

/// Reads the counter at `index`; the response HMAC authenticates the value.
///
/// # Errors
///
/// As [`increment`].
pub fn read<T: Transport>(
    tpm: &mut Tpm<T>,
    index: u32,
    auth: &CounterAuth,
) -> Result<u64, SealError> {
    let mut session = tpm.start_unsalted_hmac_session()?;
    session.include_auth_value(&auth.0);
    session.end_after_next_command();
    let result = tpm.nv_read_counter(&mut session, index, &nv_counter_name(index));
    if !session.is_ended() {
        tpm.flush_or_defer(session.handle());
    }
    Ok(result?)
}
