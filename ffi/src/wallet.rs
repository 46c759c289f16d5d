//! The TPM-backed wallet: one TPM, one state directory, one sealed account.
//!
//! The key is generated with TPM entropy (or imported), sealed by the TPM,
//! kept as a sealed-key file in the state directory, and unsealed only into
//! the library's zeroizing memory. The caller gets addresses, signed
//! transactions, signatures, attestation evidence and TPM-bound backups;
//! never the key.
//!
//! A `wallet` handle may be shared between threads: a mutex inside it runs
//! one call at a time (the TPM serves one command at a time anyway). A call
//! that panics poisons the handle; every later call on it then fails with
//! `WALLET_HANDLE_POISONED`, because the TPM and the handle may be left
//! half-way through an operation.

#![allow(non_camel_case_types)]

use core::ffi::{c_char, CStr};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use wallet_core::policy::{Decision, DefaultMode, Policy, PolicyError};
use wallet_core::seal::{KeyLock, PinAuth};
use wallet_core::signer::Address;
use wallet_core::tpm::ek::TpmTrust;
use wallet_core::tpm::{transport, PcrSelection};
use wallet_core::tx::{TxError, U256};
use wallet_core::wallet::typed_data::TypedDataError;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet};
use wallet_core::Error;

use crate::boundary::{
    array_in, bytes_in, c_str_in, catch_or, guard, handle_free, handle_ref, BytesOut, HandleOut,
    Outcome, ValueOut,
};
use crate::result::wallet_result::{self, *};
use crate::WALLET_SIGNED_TX_MAX_OVERHEAD;

/// A wallet bound to one TPM and one state directory. Opaque: C code only
/// ever holds a pointer to it. Made by `wallet_open`, released by
/// `wallet_free` (which wipes a cached key). Safe to use from several
/// threads at once: calls on one handle run one after the other.
pub struct wallet {
    inner: Mutex<Inner>,
}

struct Inner {
    wallet: Wallet,
    /// The key lock chosen with `wallet_set_key_lock` for the next account
    /// this handle creates or imports, with its PIN.
    key_lock: Option<(KeyLock, Option<PinAuth>)>,
    /// The last error the core reported on this handle, for
    /// `wallet_last_error_message`. Core errors carry no key material.
    last_error: Option<Error>,
}

/// How long the unsealed key lives, for `wallet_set_key_mode`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wallet_key_mode {
    /// Unseal the key for every signature and wipe it at once (the default).
    WALLET_KEY_MODE_STRICT = 0,
    /// Keep the unsealed key in the library's zeroizing memory until the
    /// wallet is freed or set back to strict.
    WALLET_KEY_MODE_CACHED = 1,
}

impl wallet {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, wallet_result> {
        self.inner.lock().map_err(|_| WALLET_HANDLE_POISONED)
    }

    /// Runs `f` on the core wallet; a core error is remembered for
    /// `wallet_last_error_message` and returned as its code.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut Wallet) -> wallet_core::Result<T>,
    ) -> Result<T, wallet_result> {
        self.run_core(f)?.map_err(wallet_result::from)
    }

    /// Gives `options` the key lock chosen with `wallet_set_key_lock`, if
    /// any and if the options name none; the PCRs of `options` join it.
    pub(crate) fn apply_key_lock(&self, options: &mut AccountOptions) -> Result<(), wallet_result> {
        let inner = self.lock()?;
        if options.key_lock.is_none() {
            if let Some((lock, pin)) = &inner.key_lock {
                options.key_lock = Some(KeyLock {
                    pcrs: options.pcrs,
                    ..*lock
                });
                options.pin.clone_from(pin);
            }
        }
        Ok(())
    }

    /// As [`run`](Self::run), but hands back the core error itself, for a
    /// caller that needs what it carries. The outer error is a poisoned
    /// handle.
    pub(crate) fn run_core<T>(
        &self,
        f: impl FnOnce(&mut Wallet) -> wallet_core::Result<T>,
    ) -> Result<wallet_core::Result<T>, wallet_result> {
        let mut inner = self.lock()?;
        let result = f(&mut inner.wallet);
        if let Err(e) = result {
            inner.last_error = Some(e);
        }
        Ok(result)
    }
}

/// The options of a new account: the PCRs of `pcr_bitmap` (0: none) and
/// `policy` (the `_with_policy` functions decode theirs; the others pass the
/// default, which allows everything but unprotected transactions).
pub(crate) fn account_options(
    pcr_bitmap: u32,
    policy: Policy,
) -> Result<AccountOptions, wallet_result> {
    let pcrs = match pcr_bitmap {
        0 => None,
        bitmap => Some(PcrSelection::from_bitmap(bitmap)?),
    };
    Ok(AccountOptions {
        pcrs,
        policy,
        owners: None,
        ..AccountOptions::default()
    })
}

/// Key-lock bit: a PIN (`TPM2_PolicyAuthValue`; wrong PINs count towards the
/// TPM's dictionary-attack lockout).
pub const WALLET_KEY_LOCK_PIN: u32 = 1;
/// Key-lock bit: the PCRs of `pcr_bitmap`.
pub const WALLET_KEY_LOCK_PCR: u32 = 2;
/// Key-lock bit: unseal once per boot (PCR 14 is extended after the unseal).
pub const WALLET_KEY_LOCK_BOOT_ONCE: u32 = 4;
/// Key-lock choice "none", alone: no PIN, no PCRs, no boot-once lock. Any
/// local process with TPM access and the account file can unseal the key.
pub const WALLET_KEY_LOCK_NONE: u32 = 8;

/// Chooses the key lock of the next account this handle creates or imports
/// (every `wallet_create_account*`, `wallet_import_key*` and
/// `wallet_import_keystore*` function): `key_lock` is
/// `WALLET_KEY_LOCK_NONE` alone, or a sum of `WALLET_KEY_LOCK_PIN` and
/// `WALLET_KEY_LOCK_BOOT_ONCE` (the PCRs of a PCR lock are the
/// `pcr_bitmap` of the creating function); 0 clears the choice. `pin`
/// (`pin_len` bytes) is the PIN of a `WALLET_KEY_LOCK_PIN` lock, NULL
/// otherwise. An account with a signing policy or owners must have its key
/// lock chosen (`WALLET_KEY_LOCK_NOT_CHOSEN` otherwise) unless it is bound
/// to PCRs; a plain wallet defaults to none.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` for unknown
/// bits, `WALLET_KEY_LOCK_NONE` with another bit, `WALLET_KEY_LOCK_PCR`, or
/// a PIN without the PIN bit or the reverse.
///
/// # Safety
/// `handle` must be a live wallet; `pin` readable for `pin_len` bytes or NULL.
#[no_mangle]
pub unsafe extern "C" fn wallet_set_key_lock(
    handle: *const wallet,
    key_lock: u32,
    pin: *const u8,
    pin_len: usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let pin = unsafe { pin_of(pin, pin_len) }?;
        let known = WALLET_KEY_LOCK_PIN | WALLET_KEY_LOCK_BOOT_ONCE | WALLET_KEY_LOCK_NONE;
        let wants_pin = key_lock & WALLET_KEY_LOCK_PIN != 0;
        let none_with_other =
            key_lock & WALLET_KEY_LOCK_NONE != 0 && key_lock != WALLET_KEY_LOCK_NONE;
        if key_lock & !known != 0 || none_with_other || wants_pin != pin.is_some() {
            return Err(WALLET_INVALID_PARAMETER);
        }
        let choice = (key_lock != 0).then(|| {
            (
                KeyLock {
                    pin: wants_pin,
                    pcrs: None,
                    boot_once_pcr: (key_lock & WALLET_KEY_LOCK_BOOT_ONCE != 0)
                        .then_some(KeyLock::DEFAULT_BOOT_ONCE_PCR),
                },
                pin,
            )
        });
        wallet.lock()?.key_lock = choice;
        Ok(())
    })
}

/// As `wallet_create_account`, with a key lock: `key_lock` is a sum of
/// `WALLET_KEY_LOCK_PIN`, `WALLET_KEY_LOCK_PCR` (with `pcr_bitmap`) and
/// `WALLET_KEY_LOCK_BOOT_ONCE`, or `WALLET_KEY_LOCK_NONE` alone (any local
/// process with TPM access and the account file can unseal the key); 0
/// takes the choice of `wallet_set_key_lock`, if any, else none. `pin` (`pin_len` bytes)
/// is the PIN of a `WALLET_KEY_LOCK_PIN` lock, NULL otherwise; the wallet
/// keeps it for later unseals.
///
/// Errors: as `wallet_create_account`, and `WALLET_INVALID_PARAMETER` for
/// unknown bits, a PIN without the PIN bit or the reverse, or the PCR bit
/// without PCRs.
///
/// # Safety
/// As `wallet_create_account`; `pin` readable for `pin_len` bytes or NULL.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wallet_create_account_locked(
    handle: *const wallet,
    pcr_bitmap: u32,
    key_lock: u32,
    pin: *const u8,
    pin_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.require(crate::WALLET_ADDRESS_LEN)?;
        // SAFETY: the caller's contract above.
        let pin = unsafe { pin_of(pin, pin_len) }?;
        let known = WALLET_KEY_LOCK_PIN
            | WALLET_KEY_LOCK_PCR
            | WALLET_KEY_LOCK_BOOT_ONCE
            | WALLET_KEY_LOCK_NONE;
        let wants_pin = key_lock & WALLET_KEY_LOCK_PIN != 0;
        let wants_pcrs = key_lock & WALLET_KEY_LOCK_PCR != 0;
        let none_with_other =
            key_lock & WALLET_KEY_LOCK_NONE != 0 && key_lock != WALLET_KEY_LOCK_NONE;
        if key_lock & !known != 0
            || none_with_other
            || wants_pin != pin.is_some()
            || wants_pcrs != (pcr_bitmap != 0)
        {
            return Err(WALLET_INVALID_PARAMETER);
        }
        let mut options = account_options(pcr_bitmap, Policy::plain_wallet())?;
        if key_lock == 0 {
            wallet.apply_key_lock(&mut options)?;
        } else {
            options.key_lock = Some(KeyLock {
                pin: wants_pin,
                pcrs: options.pcrs,
                boot_once_pcr: (key_lock & WALLET_KEY_LOCK_BOOT_ONCE != 0)
                    .then_some(KeyLock::DEFAULT_BOOT_ONCE_PCR),
            });
            options.pin = pin;
        }
        let address = wallet.run(|w| w.create_account(options))?;
        out.write(&address.0)
    })
}

/// Sets the PIN presented to a PIN-locked key by `wallet_load_account`,
/// `wallet_restore` and every later unseal; NULL clears it.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` for an empty PIN.
///
/// # Safety
/// `handle` must be a live wallet; `pin` readable for `pin_len` bytes or NULL.
#[no_mangle]
pub unsafe extern "C" fn wallet_set_pin(
    handle: *const wallet,
    pin: *const u8,
    pin_len: usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let pin = unsafe { pin_of(pin, pin_len) }?;
        wallet.run(|w| {
            w.set_pin(pin);
            Ok(())
        })
    })
}

/// The PIN at `pin` (`pin_len` bytes) as an authorization value; NULL is none.
///
/// # Safety
/// `pin` readable for `pin_len` bytes or NULL.
pub(crate) unsafe fn pin_of(
    pin: *const u8,
    pin_len: usize,
) -> Result<Option<PinAuth>, wallet_result> {
    if pin.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract above.
    let bytes = unsafe { core::slice::from_raw_parts(pin, pin_len) };
    PinAuth::from_pin(bytes)
        .map(Some)
        .map_err(|_| WALLET_INVALID_PARAMETER)
}

#[cfg(unix)]
fn path_of(text: &CStr) -> Result<&Path, wallet_result> {
    use std::os::unix::ffi::OsStrExt;
    Ok(Path::new(std::ffi::OsStr::from_bytes(text.to_bytes())))
}

#[cfg(not(unix))]
fn path_of(text: &CStr) -> Result<&Path, wallet_result> {
    text.to_str()
        .map(Path::new)
        .map_err(|_| WALLET_INVALID_PARAMETER)
}

/// `flags` bit of `wallet_open_with_trust`: **insecure**, accept a TPM that
/// has no EK certificate or whose certificate does not chain to the trust
/// roots. Nothing then authenticates the TPM: a fake TPM or an interposer on
/// its transport can read every key sealed or unsealed through it. An account
/// created this way records it, and its evidence says "unverified TPM"
/// (`wallet_evidence_facts.tpm_verified` 0).
pub const WALLET_OPEN_ALLOW_UNVERIFIED_TPM: u32 = 1;

/// Opens the TPM named by `tcti` and the state directory `state_dir`, with
/// the TPM trust roots of `$FLARE_WALLET_TPM_ROOTS`: as
/// `wallet_open_with_trust(tcti, state_dir, NULL, 0, wallet_out)`. A TPM
/// that cannot prove itself through its EK certificate is refused.
///
/// Errors: as `wallet_open_with_trust`.
///
/// # Safety
/// As `wallet_open_with_trust`.
#[no_mangle]
pub unsafe extern "C" fn wallet_open(
    tcti: *const c_char,
    state_dir: *const c_char,
    wallet_out: *mut *mut wallet,
) -> wallet_result {
    // SAFETY: the caller's contract above, forwarded unchanged.
    unsafe { wallet_open_with_trust(tcti, state_dir, core::ptr::null(), 0, wallet_out) }
}

/// Opens the TPM named by `tcti` and the state directory `state_dir`
/// (created with mode 0700 if missing; refused if group or others can
/// access it). No account is loaded yet: call `wallet_load_account`,
/// `wallet_create_account`, `wallet_import_key` or `wallet_restore`.
///
/// `tcti` is a NUL-terminated TPM connection string in the tpm2-tss
/// syntax: `device:/dev/tpmrm0`, `swtpm:path=/run/swtpm.sock` or
/// `swtpm:host=127.0.0.1,port=2321`. NULL picks the default:
/// `$FLARE_WALLET_TPM`, else `/dev/tpmrm0` if it exists (a software TPM is
/// never chosen silently). `state_dir` is a NUL-terminated path.
///
/// The TPM must prove itself: its EK certificate (from its TCG NV index)
/// must chain to one of the trust roots in `trust_roots` (a NUL-terminated
/// path of a PEM file or a folder of certificates: the TPM vendor's EK CA;
/// NULL takes `$FLARE_WALLET_TPM_ROOTS`) and certify the endorsement key the
/// TPM derives. Every session that carries a secret is then salted to that
/// key. A TPM without an EK certificate, or one that fails the chain, is
/// refused unless `flags` has `WALLET_OPEN_ALLOW_UNVERIFIED_TPM`.
///
/// Opening talks to the TPM (`TPM2_Startup`, the EK certificate's
/// `TPM2_NV_Read`, `TPM2_CreatePrimary` of the EK and of the storage root
/// key). A software TPM serves one client at a time: free one `wallet`
/// before opening another on the same swtpm.
///
/// `*wallet_out` is set only on success and must be released with
/// `wallet_free`.
///
/// Errors: `WALLET_NULL_PARAMETER` (`state_dir` or `wallet_out`),
/// `WALLET_INVALID_PARAMETER` (`tcti` is not UTF-8, unknown `flags` bits),
/// `WALLET_TPM_NO_EK_CERTIFICATE`, `WALLET_TPM_EK_CHAIN_INVALID`,
/// `WALLET_TPM_EK_KEY_MISMATCH`, `WALLET_TRUST_ROOTS_INVALID`,
/// `WALLET_TPM_*` (`WALLET_TPM_INVALID_TCTI`, `WALLET_TPM_NO_DEFAULT_TPM`,
/// `WALLET_TPM_CONNECT_FAILED`...), `WALLET_STATE_*`
/// (`WALLET_STATE_NOT_A_DIRECTORY`, `WALLET_STATE_INSECURE_PERMISSIONS`,
/// `WALLET_STATE_IO_ERROR`).
///
/// # Safety
/// `tcti` and `trust_roots` must be NULL or NUL-terminated strings;
/// `state_dir` a NUL-terminated string; `wallet_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_open_with_trust(
    tcti: *const c_char,
    state_dir: *const c_char,
    trust_roots: *const c_char,
    flags: u32,
    wallet_out: *mut *mut wallet,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let tcti = unsafe { c_str_in(tcti) };
        // SAFETY: the caller's contract above.
        let state_dir = unsafe { c_str_in(state_dir) }.ok_or(WALLET_NULL_PARAMETER)?;
        // SAFETY: the caller's contract above.
        let trust_roots = unsafe { c_str_in(trust_roots) };
        // SAFETY: the caller's contract above.
        let wallet_out = unsafe { HandleOut::new(wallet_out) }?;
        if flags & !WALLET_OPEN_ALLOW_UNVERIFIED_TPM != 0 {
            return Err(WALLET_INVALID_PARAMETER);
        }
        let state_dir = path_of(state_dir)?;
        let roots = trust_roots.map(path_of).transpose()?;
        let mut trust =
            TpmTrust::from_path_or_env(roots).map_err(|_| WALLET_TRUST_ROOTS_INVALID)?;
        if flags & WALLET_OPEN_ALLOW_UNVERIFIED_TPM != 0 {
            trust = trust.allowing_unverified_tpm();
        }
        let opened = match tcti {
            Some(tcti) => {
                let tcti = tcti.to_str().map_err(|_| WALLET_INVALID_PARAMETER)?;
                Wallet::open(tcti, state_dir, &trust)
            }
            None => transport::open_default()
                .map_err(Error::from)
                .and_then(|t| Wallet::with_transport(Box::new(t), state_dir, &trust)),
        };
        let opened = opened.map_err(wallet_result::from)?;
        wallet_out.set(wallet {
            inner: Mutex::new(Inner {
                wallet: opened,
                last_error: None,
                key_lock: None,
            }),
        });
        Ok(())
    })
}

/// Whether the wallet's TPM proved itself through its EK certificate chain:
/// 1 verified, 0 an unverified TPM (opened with
/// `WALLET_OPEN_ALLOW_UNVERIFIED_TPM`). Writes the endorsement key's Name
/// (`WALLET_EK_NAME_LEN` bytes: the name algorithm, then the SHA-256 of its
/// public area) to `ek_name_out` unless it is NULL.
///
/// Errors: `WALLET_NULL_PARAMETER` (`handle` or `verified_out`).
///
/// # Safety
/// `handle` must be a live wallet; `verified_out` writable;
/// `ek_name_out` NULL or writable for `WALLET_EK_NAME_LEN` bytes.
#[no_mangle]
pub unsafe extern "C" fn wallet_tpm_identity(
    handle: *const wallet,
    verified_out: *mut u8,
    ek_name_out: *mut u8,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        if verified_out.is_null() {
            return Err(WALLET_NULL_PARAMETER);
        }
        let inner = wallet.lock()?;
        let (name, verified) = inner.wallet.tpm_identity();
        let name = name.as_bytes();
        if !ek_name_out.is_null() {
            if name.len() != WALLET_EK_NAME_LEN {
                return Err(WALLET_TPM_OTHER);
            }
            // SAFETY: the caller's contract above: WALLET_EK_NAME_LEN bytes.
            unsafe { core::ptr::copy_nonoverlapping(name.as_ptr(), ek_name_out, name.len()) };
        }
        // SAFETY: the caller's contract above.
        unsafe { verified_out.write(u8::from(verified)) };
        Ok(())
    })
}

/// Length of an endorsement key's Name (`wallet_tpm_identity`): the 2-byte
/// name algorithm (SHA-256) and a 32-byte digest.
pub const WALLET_EK_NAME_LEN: usize = 34;

/// Releases a wallet: wipes a cached key and closes the TPM connection.
/// NULL is ignored. The handle must not be used again, by any thread.
///
/// # Safety
/// `handle` must be NULL or a live wallet from `wallet_open`, not already
/// freed, and not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn wallet_free(handle: *mut wallet) {
    // The core wallet's cached key (if any) overwrites itself on drop.
    // SAFETY: the caller's contract above.
    catch_or((), || unsafe { handle_free(handle) });
}

/// Creates a new account: a key drawn from OS entropy XOR TPM entropy,
/// sealed by this TPM and stored in the state directory, which must hold
/// no account yet. Writes its 20-byte address (`WALLET_ADDRESS_LEN`).
///
/// `pcr_bitmap` binds the key to the current values of PCRs of the SHA-256
/// bank (bit `n` for PCR `n`, 0 to 23): once one of them changes, the key
/// cannot be unsealed (`WALLET_SEAL_PCR_MISMATCH`). 0 binds to none.
///
/// The account gets the default signing policy (everything but
/// transactions without replay protection);
/// `wallet_create_account_with_policy` sets another one.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL` (checked
/// before anything is created), `WALLET_TPM_INVALID_PCR_SELECTION`,
/// `WALLET_STATE_ACCOUNT_EXISTS` (nothing sent to the TPM), `WALLET_TPM_*`,
/// `WALLET_SEAL_*`, `WALLET_STATE_*`, `WALLET_RANDOM_FAILED`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_create_account(
    handle: *const wallet,
    pcr_bitmap: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        // A short buffer must not leave an account behind whose address the
        // caller never learnt.
        out.require(crate::WALLET_ADDRESS_LEN)?;
        let mut options = account_options(pcr_bitmap, Policy::plain_wallet())?;
        wallet.apply_key_lock(&mut options)?;
        let address = wallet.run(|w| w.create_account(options))?;
        out.write(&address.0)
    })
}

/// Imports an existing 32-byte secp256k1 key: sealed by this TPM and
/// stored in the state directory, which must hold no account yet. Writes
/// the address. `pcr_bitmap` as for `wallet_create_account`. The caller
/// should wipe its copy of the key as soon as this returns. The default
/// signing policy, as for `wallet_create_account`
/// (`wallet_import_key_with_policy` sets another one).
///
/// Errors: as `wallet_create_account`, and
/// `WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH` (`key_len` is not 32),
/// `WALLET_SIGNER_INVALID_SECRET_KEY` (zero, or not below the curve order).
///
/// # Safety
/// `handle` must be a live wallet; `key` readable for `key_len` bytes;
/// `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_import_key(
    handle: *const wallet,
    key: *const u8,
    key_len: usize,
    pcr_bitmap: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let key = unsafe { array_in::<32>(key, key_len, WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(key)?;
        out.require(crate::WALLET_ADDRESS_LEN)?;
        let mut options = account_options(pcr_bitmap, Policy::plain_wallet())?;
        wallet.apply_key_lock(&mut options)?;
        let address = wallet.run(|w| w.import_key(key, options))?;
        out.write(&address.0)
    })
}

/// Loads the account of the state directory: checks the sealed-key file's
/// format, integrity and storage root key against this TPM, and unseals the
/// key once to check it belongs to the recorded address (in cached mode the
/// key then stays unsealed). Writes the address.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL` (checked
/// first), `WALLET_STATE_NO_ACCOUNT`, `WALLET_BACKUP_*` (a damaged account
/// file), `WALLET_SEAL_SRK_NAME_MISMATCH` (an account of another TPM),
/// `WALLET_SEAL_PCR_MISMATCH`, `WALLET_ACCOUNT_ADDRESS_MISMATCH`,
/// `WALLET_TPM_*`, `WALLET_STATE_*`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_load_account(
    handle: *const wallet,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.require(crate::WALLET_ADDRESS_LEN)?;
        let address = wallet.run(Wallet::load_account)?;
        out.write(&address.0)
    })
}

/// Writes the loaded account's 20-byte address (`WALLET_ADDRESS_LEN`).
/// Does not talk to the TPM.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_address(
    handle: *const wallet,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        let address: Address = wallet.run(|w| w.address())?;
        out.write(&address.0)
    })
}

/// Makes the calling process non-dumpable (`PR_SET_DUMPABLE 0`): no core
/// dump, no `ptrace` by other processes of the same user, `/proc/PID/mem`
/// readable by root only. The library never changes its host process on
/// its own; a host that owns its process and caches a key
/// (`WALLET_KEY_MODE_CACHED`) opts in by calling this once. The cached key
/// itself is always kept on a locked (`mlock`), never-dumped
/// (`MADV_DONTDUMP`) page.
///
/// Errors: `WALLET_UNKNOWN_ERROR` if the `prctl` fails.
#[no_mangle]
pub extern "C" fn wallet_harden_process() -> wallet_result {
    guard(|| wallet_core::wallet::make_process_non_dumpable().map_err(|_| WALLET_UNKNOWN_ERROR))
}

/// Sets the key mode: `WALLET_KEY_MODE_STRICT` (0, the default) unseals
/// the key for every signature and wipes it at once;
/// `WALLET_KEY_MODE_CACHED` (1) keeps it unsealed after its next use, on a
/// locked, never-dumped page of the library's, until the wallet is freed. Going
/// back to strict wipes a cached key at once.
///
/// `mode` is a `uint32_t` holding a `wallet_key_mode` value, so that an
/// unknown number is refused rather than undefined behaviour.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (an unknown
/// mode).
///
/// # Safety
/// `handle` must be a live wallet.
#[no_mangle]
pub unsafe extern "C" fn wallet_set_key_mode(handle: *const wallet, mode: u32) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        let mode = match mode {
            m if m == wallet_key_mode::WALLET_KEY_MODE_STRICT as u32 => KeyMode::Strict,
            m if m == wallet_key_mode::WALLET_KEY_MODE_CACHED as u32 => KeyMode::Cached,
            _ => return Err(WALLET_INVALID_PARAMETER),
        };
        wallet.run(|w| {
            w.set_key_mode(mode);
            Ok(())
        })
    })
}

/// Signs a transaction with the account's key: `payload` is the unsigned
/// signing payload of any supported type, as for
/// `wallet_signer_sign_transaction`; the signed transaction (what
/// `eth_sendRawTransaction` takes) goes to `out`. The payload is decoded
/// strictly and checked against the account's signing policy before the TPM
/// is touched. The default policy (of accounts made without one) refuses a
/// pre-EIP-155 legacy payload (no chain id):
/// `WALLET_POLICY_UNPROTECTED_NOT_ALLOWED`.
///
/// The signed form is at most `payload_len + WALLET_SIGNED_TX_MAX_OVERHEAD`
/// bytes. A shorter `out_cap` gets `WALLET_BUFFER_TOO_SMALL` with the exact
/// length in `*out_len`, but only after signing (the length depends on the
/// signature), which in strict mode costs an unseal: size the buffer from
/// the bound instead. A refused or short call records no spend against a
/// daily limit.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `payload`), `WALLET_BUFFER_TOO_SMALL`, any `WALLET_RLP_*` or
/// `WALLET_TX_*` decoding error, `WALLET_POLICY_*` (a rule of the policy
/// refused; nothing was signed), `WALLET_ACCOUNT_NOT_LOADED`,
/// `WALLET_ACCOUNT_POLICY_*`, the errors of unsealing (`WALLET_TPM_*`,
/// `WALLET_SEAL_*`, `WALLET_ACCOUNT_ADDRESS_MISMATCH`), and `WALLET_STATE_*`
/// (writing the spend ledger).
///
/// # Safety
/// `handle` must be a live wallet; `payload` readable for `payload_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_sign_transaction(
    handle: *const wallet,
    payload: *const u8,
    payload_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let payload = unsafe { bytes_in(payload, payload_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(payload)?;
        let bound = payload
            .len()
            .checked_add(WALLET_SIGNED_TX_MAX_OVERHEAD)
            .ok_or(WALLET_TX_TOO_LARGE)?;
        // Signed into library memory, so `out` is written only on success,
        // and no larger than `out`: with a daily spend limit the core records
        // the spend only once the signed bytes fit, so a short buffer (or a
        // length query) must fail inside the core, not after it.
        let mut signed = vec![0u8; bound.min(out_cap)];
        let written = match wallet.run_core(|w| w.sign_transaction(payload, &mut signed))? {
            Ok(written) => written,
            Err(Error::Tx(TxError::BufferTooSmall { needed })) => return out.require(needed),
            Err(e) => return Err(e.into()),
        };
        out.write(signed.get(..written).ok_or(WALLET_PANIC)?)
    })
}

/// Signs `message` as EIP-191 `personal_sign` with the account's key and
/// writes the 65-byte signature `r || s || v`, `v` = 27 or 28
/// (`WALLET_SIGNATURE_LEN`). An empty message may be passed as `(NULL, 0)`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `message`), `WALLET_BUFFER_TOO_SMALL` (checked before the key
/// is used), `WALLET_POLICY_MESSAGES_NOT_ALLOWED`,
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_ACCOUNT_POLICY_*`, and the errors
/// of unsealing.
///
/// # Safety
/// `handle` must be a live wallet; `message` readable for `message_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_sign_message(
    handle: *const wallet,
    message: *const u8,
    message_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let message = unsafe { bytes_in(message, message_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(message)?;
        out.require(crate::WALLET_SIGNATURE_LEN)?;
        let signature = wallet.run(|w| w.sign_message(message))?;
        out.write(&signature.to_rsv_bytes())
    })
}

/// Signs EIP-712 typed data given its domain separator and struct hash
/// (32 bytes each, `WALLET_HASH_LEN`) with the account's key: the digest
/// is `keccak256(0x19 0x01 || domain_separator || struct_hash)`. Writes
/// `r || s || v` (65 bytes, `v` = 27 or 28).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (a hash is
/// not 32 bytes, or `out` overlaps an input), `WALLET_BUFFER_TOO_SMALL`
/// (checked first), `WALLET_POLICY_TYPED_DATA_HASH_NOT_CHECKABLE` (the
/// account's policy restricts typed-data domains, which cannot be checked
/// from a hash), `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_ACCOUNT_POLICY_*`,
/// and the errors of unsealing.
///
/// # Safety
/// `handle` must be a live wallet; the two hashes readable for their
/// lengths; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_sign_typed_data_hash(
    handle: *const wallet,
    domain_separator: *const u8,
    domain_separator_len: usize,
    struct_hash: *const u8,
    struct_hash_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let domain_separator = unsafe {
            array_in::<32>(
                domain_separator,
                domain_separator_len,
                WALLET_INVALID_PARAMETER,
            )
        }?;
        // SAFETY: the caller's contract above.
        let struct_hash =
            unsafe { array_in::<32>(struct_hash, struct_hash_len, WALLET_INVALID_PARAMETER) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(domain_separator)?;
        out.disjoint_from(struct_hash)?;
        out.require(crate::WALLET_SIGNATURE_LEN)?;
        let signature = wallet.run(|w| w.sign_typed_data_hash(domain_separator, struct_hash))?;
        out.write(&signature.to_rsv_bytes())
    })
}

/// The decision of a check as NUL-terminated JSON text:
/// `{"allowed": bool, "mode": "allow"|"deny", "rules": [...], "reason": text|null}`,
/// and the code to return: `WALLET_OK` when allowed, the refusing rule's
/// `WALLET_POLICY_*` code when refused.
fn decision_text(
    wallet: &Wallet,
    result: wallet_core::Result<Decision>,
) -> Result<(String, wallet_result), wallet_result> {
    let mode = wallet
        .policy()
        .ok()
        .flatten()
        .map_or(DefaultMode::Allow, Policy::default_mode);
    let (allowed, mode, rules, reason, code) = match result {
        Ok(decision) => (
            true,
            decision.mode,
            decision.rules.iter().map(|r| r.name()).collect::<Vec<_>>(),
            None,
            WALLET_OK,
        ),
        Err(Error::Policy(PolicyError::Violation(v))) => (
            false,
            mode,
            vec![v.rule().name()],
            Some(v.to_string()),
            wallet_result::from(v),
        ),
        Err(e) => return Err(e.into()),
    };
    let mut text = format!(
        "{{\"allowed\": {allowed}, \"mode\": \"{}\", \"rules\": [",
        mode.name()
    );
    for (i, rule) in rules.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push('"');
        text.push_str(rule);
        text.push('"');
    }
    text.push_str("], \"reason\": ");
    match reason {
        Some(reason) => {
            text.push('"');
            for c in reason.chars() {
                match c {
                    '"' => text.push_str("\\\""),
                    '\\' => text.push_str("\\\\"),
                    c if u32::from(c) < 0x20 => text.push_str(&format!("\\u{:04x}", u32::from(c))),
                    c => text.push(c),
                }
            }
            text.push('"');
        }
        None => text.push_str("null"),
    }
    text.push('}');
    Ok((text, code))
}

/// Runs a check and writes its decision text to `out`.
fn write_decision(
    handle: &wallet,
    out: BytesOut<c_char>,
    check: impl FnOnce(&mut Wallet) -> wallet_core::Result<Decision>,
) -> Outcome {
    let (text, code) = {
        let mut inner = handle.lock()?;
        let result = check(&mut inner.wallet);
        if let Err(e) = &result {
            inner.last_error = Some(*e);
        }
        decision_text(&inner.wallet, result)?
    };
    out.write_c_string(&text)?;
    if code == WALLET_OK {
        Ok(())
    } else {
        Err(code)
    }
}

/// Checks an unsigned signing payload against the account's policy and
/// daily limits, as `wallet_sign_transaction` would, and signs nothing.
/// Writes the decision as NUL-terminated JSON text
/// (`{"allowed", "mode", "rules", "reason"}`: the default mode, the rules
/// that allowed it or the one that refused, and for a refusal the reason
/// naming the rule and the value). Returns `WALLET_OK` when allowed and the
/// refusing rule's `WALLET_POLICY_*` code when refused (the text is written
/// in both cases).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`, decoding
/// errors, `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_ACCOUNT_POLICY_*`.
///
/// # Safety
/// `handle` must be a live wallet; `payload` readable for `payload_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_check_transaction(
    handle: *const wallet,
    payload: *const u8,
    payload_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let handle = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let payload = unsafe { bytes_in(payload, payload_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        write_decision(handle, out, |w| w.check_transaction(payload))
    })
}

/// Checks an EIP-712 typed-data document (JSON text: `types`,
/// `primaryType`, `domain`, `message`) against the account's policy, as
/// `wallet_sign_typed_data` would, and signs nothing. Writes the decision
/// text and returns as `wallet_check_transaction` does.
///
/// Errors: those of `wallet_check_transaction`, `WALLET_TYPED_DATA_*`.
///
/// # Safety
/// `handle` must be a live wallet; `json` readable for `json_len` bytes;
/// `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_check_typed_data(
    handle: *const wallet,
    json: *const u8,
    json_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let handle = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let json = unsafe { bytes_in(json, json_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        write_decision(handle, out, |w| {
            let text = core::str::from_utf8(json)
                .map_err(|_| Error::TypedData(TypedDataError::NotJson))?;
            w.check_typed_data_json(text)
        })
    })
}

/// Signs an EIP-712 typed-data document given as JSON text (`types`,
/// `primaryType`, `domain`, `message`). The core parses it, checks its
/// domain and, for a permit it understands, every token it grants against
/// the policy, and signs the digest it computes from that same document.
/// Writes `r || s || v` (65 bytes, `v` = 27 or 28).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `json`), `WALLET_BUFFER_TOO_SMALL` (checked first),
/// `WALLET_TYPED_DATA_*`, `WALLET_POLICY_*`, `WALLET_ACCOUNT_NOT_LOADED`,
/// `WALLET_ACCOUNT_POLICY_*`, and the errors of unsealing.
///
/// # Safety
/// `handle` must be a live wallet; `json` readable for `json_len` bytes;
/// `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_sign_typed_data(
    handle: *const wallet,
    json: *const u8,
    json_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let json = unsafe { bytes_in(json, json_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        out.require(crate::WALLET_SIGNATURE_LEN)?;
        let signature = wallet.run(|w| {
            let text = core::str::from_utf8(json)
                .map_err(|_| Error::TypedData(TypedDataError::NotJson))?;
            w.sign_typed_data_json(text)
        })?;
        out.write(&signature.to_rsv_bytes())
    })
}

/// Signs an EIP-7702 authorization `(chain_id, address, nonce)`: the digest
/// is `keccak256(0x05 || rlp([chain_id, address, nonce]))`. `chain_id` is
/// 32 bytes big-endian (`WALLET_HASH_LEN`); 0 means every chain and is
/// refused unless the policy sets `allow_any_chain_authorization`.
/// `address` (20 bytes) must be on the policy's `delegations_allow`.
/// Writes `r || s || y_parity` (65 bytes, `y_parity` 0 or 1), as
/// eth-account's `SignedSetCodeAuthorization.signature`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (a length
/// is wrong, or `out` overlaps an input), `WALLET_BUFFER_TOO_SMALL`
/// (checked first), `WALLET_POLICY_*`, `WALLET_ACCOUNT_NOT_LOADED`,
/// `WALLET_ACCOUNT_POLICY_*`, and the errors of unsealing.
///
/// # Safety
/// `handle` must be a live wallet; `chain_id` and `address` readable for
/// their lengths; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wallet_sign_authorization(
    handle: *const wallet,
    chain_id: *const u8,
    chain_id_len: usize,
    address: *const u8,
    address_len: usize,
    nonce: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let chain_id = unsafe { array_in::<32>(chain_id, chain_id_len, WALLET_INVALID_PARAMETER) }?;
        // SAFETY: the caller's contract above.
        let address = unsafe { array_in::<20>(address, address_len, WALLET_INVALID_PARAMETER) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(chain_id)?;
        out.disjoint_from(address)?;
        out.require(crate::WALLET_SIGNATURE_LEN)?;
        let signed =
            wallet.run(|w| w.sign_authorization(U256(*chain_id), Address(*address), nonce))?;
        let mut rsv = [0u8; 65];
        rsv[..32].copy_from_slice(&signed.r.0);
        rsv[32..64].copy_from_slice(&signed.s.0);
        rsv[64] = signed.y_parity;
        out.write(&rsv)
    })
}

/// Produces attestation evidence for the verifier's `nonce` and
/// `chain_id`, in its canonical encoding (what `wallet_verify_evidence`
/// reads): a quote of PCRs 0-7 (SHA-256 bank) by the TPM's attestation key
/// over a challenge binding the nonce, the chain id, the address and the
/// hash of the account's signing policy (`wallet_policy_hash`), and the
/// account key's EIP-191 signature over the same challenge.
///
/// The evidence is at most `WALLET_EVIDENCE_MAX_LEN` bytes. A shorter
/// `out_cap` gets `WALLET_BUFFER_TOO_SMALL` with the exact length, after
/// the TPM has quoted (the length is the same for every quote of one TPM).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `nonce`), `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_TPM_*`, the errors of unsealing.
///
/// # Safety
/// `handle` must be a live wallet; `nonce` readable for `nonce_len` bytes;
/// `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_attest(
    handle: *const wallet,
    nonce: *const u8,
    nonce_len: usize,
    chain_id: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let nonce = unsafe { bytes_in(nonce, nonce_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(nonce)?;
        let evidence = wallet.run(|w| w.attest(nonce, chain_id))?;
        let mut encoded = vec![0u8; evidence.encoded_len()];
        let written = evidence.encode(&mut encoded)?;
        out.write(encoded.get(..written).ok_or(WALLET_PANIC)?)
    })
}

/// `wallet_attest_platform_ak` writes an AK certificate of at most this
/// many bytes (the largest certificate read from NV).
pub const WALLET_AK_CERTIFICATE_MAX_LEN: usize = 4096;

/// As `wallet_attest`, quoted by the attestation key the platform certifies
/// (GCE Shielded VM: the AK template at NV `0x01c10003` and its certificate
/// at `0x01c10002`) instead of the wallet's own AK: writes the evidence into
/// `out` and the AK certificate (DER, at most
/// `WALLET_AK_CERTIFICATE_MAX_LEN` bytes) into `ak_certificate_out`. A
/// verifier passes both to `wallet_verify_evidence` (`ak_certificate`, with
/// the platform's AK CA among its roots): no enrollment record is needed.
/// The TPM re-creates the AK from the template and the certificate must
/// certify exactly that key.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (an output
/// overlaps `nonce`), `WALLET_BUFFER_TOO_SMALL` (the length needed in the
/// `*_len` of each buffer too small, after the quote),
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_ENROLLMENT_AK_TEMPLATE_MISSING`,
/// `WALLET_ENROLLMENT_AK_TEMPLATE_MALFORMED`, `WALLET_ENROLLMENT_AK_REFUSED`
/// (the template is not a restricted P-256 signing key),
/// `WALLET_ENROLLMENT_AK_CERTIFICATE_MISSING`,
/// `WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH`, `WALLET_TPM_*`, the
/// errors of unsealing.
///
/// # Safety
/// `handle` must be a live wallet; `nonce` readable for `nonce_len` bytes;
/// `out` writable for `out_cap` bytes and `ak_certificate_out` for
/// `ak_certificate_cap` bytes, not overlapping each other; `out_len` and
/// `ak_certificate_len` writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wallet_attest_platform_ak(
    handle: *const wallet,
    nonce: *const u8,
    nonce_len: usize,
    chain_id: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    ak_certificate_out: *mut u8,
    ak_certificate_cap: usize,
    ak_certificate_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let nonce = unsafe { bytes_in(nonce, nonce_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        // SAFETY: the caller's contract above.
        let certificate_out =
            unsafe { BytesOut::new(ak_certificate_out, ak_certificate_cap, ak_certificate_len) }?;
        out.disjoint_from(nonce)?;
        certificate_out.disjoint_from(nonce)?;
        let (evidence, certificate) = wallet
            .run(|w| w.attest_with_platform_ak(nonce, chain_id, PcrSelection::DEFAULT_QUOTE))?;
        let mut encoded = vec![0u8; evidence.encoded_len()];
        let written = evidence.encode(&mut encoded)?;
        let evidence_result = out.write(encoded.get(..written).ok_or(WALLET_PANIC)?);
        let certificate_result = certificate_out.write(&certificate);
        evidence_result.and(certificate_result)
    })
}

/// `wallet_enrollment_request` writes each public area (`TPMT_PUBLIC`) in at
/// most this many bytes.
pub const WALLET_TPM_PUBLIC_MAX_LEN: usize = 1024;

/// `wallet_enroll` writes an enrollment record of at most this many bytes.
pub const WALLET_ENROLLMENT_MAX_LEN: usize = 16384;

/// What a verifier needs to challenge this TPM for enrollment: the public
/// areas (`TPMT_PUBLIC`) of the endorsement key (ECC P-256, TCG template
/// L-2) into `ek_public_out` and of the attestation key into
/// `ak_public_out`, each at most `WALLET_TPM_PUBLIC_MAX_LEN` bytes. A
/// verifier checks the EK's certificate, wraps a credential to the EK and
/// the AK's Name, and has the wallet activate it (`wallet_enroll` plays that
/// verifier locally). No account needs to be loaded.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL` (the length
/// needed in the `*_len` of the buffer too small), `WALLET_TPM_*`.
///
/// # Safety
/// `handle` must be a live wallet; each `*_out` writable for its `*_cap`
/// bytes; each `*_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_enrollment_request(
    handle: *const wallet,
    ek_public_out: *mut u8,
    ek_public_cap: usize,
    ek_public_len: *mut usize,
    ak_public_out: *mut u8,
    ak_public_cap: usize,
    ak_public_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let ek_out = unsafe { BytesOut::new(ek_public_out, ek_public_cap, ek_public_len) }?;
        // SAFETY: the caller's contract above.
        let ak_out = unsafe { BytesOut::new(ak_public_out, ak_public_cap, ak_public_len) }?;
        let request = wallet.run(Wallet::enrollment_request)?;
        let ek_result = ek_out.write(&request.ek_public);
        let ak_result = ak_out.write(&request.ak_public);
        ek_result.and(ak_result)
    })
}

/// Enrolls this TPM's attestation key, as Python's `Vtpm.enroll`: the EK
/// certificate (`ek_certificate`, DER; NULL for the one the TPM keeps) must
/// chain to `trust_roots_pem` (a PEM bundle: the TPM vendor's EK CA) and
/// certify the TPM's EK; a credential wrapped to that EK and the AK's Name
/// is then activated by the TPM and its proof checked. Writes the
/// enrollment record (the `FLWENROL` encoding, at most
/// `WALLET_ENROLLMENT_MAX_LEN` bytes) a verifier stores, pins and passes to
/// `wallet_verify_evidence`. No account needs to be loaded.
///
/// Errors: `WALLET_NULL_PARAMETER` (no roots), `WALLET_TRUST_ROOTS_INVALID`,
/// `WALLET_BUFFER_TOO_SMALL` (checked after the activation: the record's
/// length is stored), `WALLET_ENROLLMENT_*` (no certificate, a certificate
/// that does not chain or does not certify the EK, an activation that
/// fails), `WALLET_TPM_*`.
///
/// # Safety
/// `handle` must be a live wallet; `ek_certificate` NULL or readable for
/// `ek_certificate_len` bytes; `trust_roots_pem` readable for
/// `trust_roots_pem_len` bytes; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_enroll(
    handle: *const wallet,
    ek_certificate: *const u8,
    ek_certificate_len: usize,
    trust_roots_pem: *const u8,
    trust_roots_pem_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        let ek_certificate = if ek_certificate.is_null() {
            None
        } else {
            // SAFETY: the caller's contract above.
            Some(unsafe { bytes_in(ek_certificate, ek_certificate_len) }?)
        };
        if trust_roots_pem.is_null() {
            return Err(WALLET_NULL_PARAMETER);
        }
        // SAFETY: the caller's contract above.
        let roots_pem = unsafe { bytes_in(trust_roots_pem, trust_roots_pem_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(roots_pem)?;
        if let Some(certificate) = ek_certificate {
            out.disjoint_from(certificate)?;
        }
        let roots = wallet_core::x509::TrustRoots::from_pem_bundle(roots_pem)
            .map_err(|_| WALLET_TRUST_ROOTS_INVALID)?;
        let record = wallet.run(|w| w.enroll_with_certificate(ek_certificate, &[], &roots))?;
        out.write(&record)
    })
}

/// Enrolls the attestation key the platform certifies (GCE Shielded VM: the
/// AK template at NV `0x01c10003` and its certificate at `0x01c10002`, as
/// `wallet_attest_platform_ak` uses): no credential activation, the AK
/// certificate is the proof. Writes the enrollment record (the `FLWENROL`
/// encoding, method "AK certificate", at most `WALLET_ENROLLMENT_MAX_LEN`
/// bytes) with the AK, its certificate, `ak_intermediates_pem` (a PEM
/// bundle of the AK certificate's intermediates, or `(NULL, 0)` for none),
/// and the EK verified at open with its chain. A verifier stores and pins it
/// and passes it to `wallet_verify_evidence` with evidence from
/// `wallet_attest_platform_ak`. The record is checked against
/// `trust_roots_pem` before it is written: the roots must hold the platform's
/// AK CA, and the EK's root when the TPM was verified at open. No account
/// needs to be loaded.
///
/// Errors: `WALLET_NULL_PARAMETER` (no roots), `WALLET_INVALID_PARAMETER`
/// (`out` overlaps an input), `WALLET_TRUST_ROOTS_INVALID`,
/// `WALLET_AK_INTERMEDIATES_INVALID`, `WALLET_BUFFER_TOO_SMALL` (the
/// record's length is stored), `WALLET_ENROLLMENT_AK_TEMPLATE_MISSING`,
/// `WALLET_ENROLLMENT_AK_TEMPLATE_MALFORMED`, `WALLET_ENROLLMENT_AK_REFUSED`,
/// `WALLET_ENROLLMENT_AK_CERTIFICATE_MISSING`,
/// `WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH`,
/// `WALLET_ENROLLMENT_AK_CHAIN` (the AK certificate does not chain to the
/// roots), `WALLET_ENROLLMENT_EK_CHAIN`, `WALLET_TPM_EK_CHANGED`,
/// `WALLET_TPM_*`.
///
/// # Safety
/// `handle` must be a live wallet; `ak_intermediates_pem` NULL or readable
/// for `ak_intermediates_pem_len` bytes; `trust_roots_pem` readable for
/// `trust_roots_pem_len` bytes; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_enroll_platform_ak(
    handle: *const wallet,
    ak_intermediates_pem: *const u8,
    ak_intermediates_pem_len: usize,
    trust_roots_pem: *const u8,
    trust_roots_pem_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let intermediates_pem =
            unsafe { bytes_in(ak_intermediates_pem, ak_intermediates_pem_len) }?;
        if trust_roots_pem.is_null() {
            return Err(WALLET_NULL_PARAMETER);
        }
        // SAFETY: the caller's contract above.
        let roots_pem = unsafe { bytes_in(trust_roots_pem, trust_roots_pem_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(roots_pem)?;
        out.disjoint_from(intermediates_pem)?;
        let roots = wallet_core::x509::TrustRoots::from_pem_bundle(roots_pem)
            .map_err(|_| WALLET_TRUST_ROOTS_INVALID)?;
        let intermediates = if intermediates_pem.is_empty() {
            Vec::new()
        } else {
            wallet_core::x509::pem_certificates(intermediates_pem)
                .map_err(|_| WALLET_AK_INTERMEDIATES_INVALID)?
        };
        let intermediates: Vec<&[u8]> = intermediates.iter().map(Vec::as_slice).collect();
        let record = wallet.run(|w| w.enroll_platform_ak(&intermediates, &roots))?;
        out.write(&record)
    })
}

/// EK template L-1: RSA 2048 (EK certificate at NV `0x01c00002`).
pub const WALLET_EK_TEMPLATE_L1_RSA_2048: u32 = 1;
/// EK template L-2: ECC NIST P-256 (NV `0x01c0000a`).
pub const WALLET_EK_TEMPLATE_L2_ECC_P256: u32 = 2;
/// EK template H-1: RSA 2048, high range (NV `0x01c00012`).
pub const WALLET_EK_TEMPLATE_H1_RSA_2048: u32 = 3;
/// EK template H-2: ECC NIST P-256, high range (NV `0x01c00014`).
pub const WALLET_EK_TEMPLATE_H2_ECC_P256: u32 = 4;
/// EK template H-3: ECC NIST P-384 (NV `0x01c00016`).
pub const WALLET_EK_TEMPLATE_H3_ECC_P384: u32 = 5;
/// EK template H-4: ECC NIST P-521 (NV `0x01c00018`; refused: not supported).
pub const WALLET_EK_TEMPLATE_H4_ECC_P521: u32 = 6;
/// EK template H-5: ECC SM2 P-256 (NV `0x01c0001a`; refused: not supported).
pub const WALLET_EK_TEMPLATE_H5_ECC_SM2_P256: u32 = 7;
/// EK template H-6: RSA 3072 (NV `0x01c0001c`).
pub const WALLET_EK_TEMPLATE_H6_RSA_3072: u32 = 8;
/// EK template H-7: RSA 4096 (NV `0x01c0001e`).
pub const WALLET_EK_TEMPLATE_H7_RSA_4096: u32 = 9;
/// `wallet_verify_endorsement_keys` reports at most this many EK
/// certificates (every index of the TCG EK Credential Profile).
pub const WALLET_EK_CHECKS_MAX: usize = 9;

/// The outcome for one EK certificate the TPM holds, as
/// `wallet_verify_endorsement_keys` writes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wallet_ek_check {
    /// The TCG template of the certificate's index: `WALLET_EK_TEMPLATE_*`.
    pub template_id: u32,
    /// The NV index the certificate was read from.
    pub nv_index: u32,
    /// `WALLET_OK` when the certificate chains to the roots and certifies
    /// the EK the TPM derives from the template; otherwise the refusal:
    /// `WALLET_TPM_EK_CHAIN_INVALID`, `WALLET_TPM_EK_KEY_MISMATCH`,
    /// `WALLET_TPM_EK_TEMPLATE_UNSUPPORTED`, or a `WALLET_TPM_*` code of the
    /// TPM command that failed.
    pub result: wallet_result,
}

fn ek_template_id(template: wallet_core::tpm::template::EkTemplate) -> u32 {
    use wallet_core::tpm::template::EkTemplate as T;
    match template {
        T::L1Rsa2048 => WALLET_EK_TEMPLATE_L1_RSA_2048,
        T::L2EccP256 => WALLET_EK_TEMPLATE_L2_ECC_P256,
        T::H1Rsa2048 => WALLET_EK_TEMPLATE_H1_RSA_2048,
        T::H2EccP256 => WALLET_EK_TEMPLATE_H2_ECC_P256,
        T::H3EccP384 => WALLET_EK_TEMPLATE_H3_ECC_P384,
        T::H4EccP521 => WALLET_EK_TEMPLATE_H4_ECC_P521,
        T::H5EccSm2P256 => WALLET_EK_TEMPLATE_H5_ECC_SM2_P256,
        T::H6Rsa3072 => WALLET_EK_TEMPLATE_H6_RSA_3072,
        T::H7Rsa4096 => WALLET_EK_TEMPLATE_H7_RSA_4096,
    }
}

/// Verifies every EK certificate the TPM holds at the indices of the TCG EK
/// Credential Profile (L-1, L-2, H-1 to H-7), each on its own: its chain to
/// `trust_roots_pem` (a PEM bundle; `(NULL, 0)` for the roots of
/// `$FLARE_WALLET_TPM_ROOTS`, with intermediates from NV `0x01c00100`+),
/// and that the EK the TPM derives from the certificate's template is the
/// certified key. Writes one `wallet_ek_check` per certificate, in index
/// order (low range first), into `checks_out` and their number into
/// `*checks_len`; at most `WALLET_EK_CHECKS_MAX`. A TPM without any EK
/// certificate gives 0 checks. One refusal does not hide the others. This
/// proves those EKs; sessions stay salted to the EK established at open.
/// No account needs to be loaded.
///
/// Errors: `WALLET_NULL_PARAMETER` (also NULL roots with a nonzero
/// length), `WALLET_TRUST_ROOTS_INVALID`,
/// `WALLET_BUFFER_TOO_SMALL` (`*checks_len` holds the number of checks),
/// `WALLET_TPM_*` (reading NV failed: no outcome at all).
///
/// # Safety
/// `handle` must be a live wallet; `trust_roots_pem` NULL or readable for
/// `trust_roots_pem_len` bytes; `checks_out` writable for `checks_cap`
/// elements; `checks_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_verify_endorsement_keys(
    handle: *const wallet,
    trust_roots_pem: *const u8,
    trust_roots_pem_len: usize,
    checks_out: *mut wallet_ek_check,
    checks_cap: usize,
    checks_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        let trust = if trust_roots_pem.is_null() {
            if trust_roots_pem_len != 0 {
                return Err(WALLET_NULL_PARAMETER);
            }
            TpmTrust::from_env().map_err(|_| WALLET_TRUST_ROOTS_INVALID)?
        } else {
            // SAFETY: the caller's contract above.
            let roots_pem = unsafe { bytes_in(trust_roots_pem, trust_roots_pem_len) }?;
            TpmTrust::roots(
                wallet_core::x509::TrustRoots::from_pem_bundle(roots_pem)
                    .map_err(|_| WALLET_TRUST_ROOTS_INVALID)?,
            )
        };
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(checks_out, checks_cap, checks_len) }?;
        let checks = wallet.run(|w| w.verify_endorsement_keys(&trust))?;
        let entries: Vec<wallet_ek_check> = checks
            .iter()
            .map(|check| wallet_ek_check {
                template_id: ek_template_id(check.template),
                nv_index: check.template.nv_index(),
                result: match &check.outcome {
                    Ok(_) => WALLET_OK,
                    Err(e) => e.kind.into(),
                },
            })
            .collect();
        out.write(&entries)
    })
}

/// Writes the TPM-bound backup of the loaded account: the sealed-key file
/// as base64 text (RFC 4648, padded), followed by a NUL. It holds no key in
/// clear and restores only on the same TPM (`wallet_restore`).
///
/// `*out_len` receives the length of the text **without** the NUL, which
/// is what `wallet_restore` takes as `backup_len`. A short buffer gets
/// `WALLET_BUFFER_TOO_SMALL` with the capacity needed **with** the NUL;
/// `WALLET_BACKUP_MAX_LEN` bytes always suffice. Does not talk to the TPM.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_backup(
    handle: *const wallet,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        let text = wallet.run(|w| w.backup())?;
        out.write_c_string(&text)
    })
}

/// Restores a backup made by `wallet_backup` on this TPM into this
/// wallet's empty state directory, and loads it. Writes the address.
/// `backup` is the base64 text, `backup_len` bytes, no NUL needed (a NUL
/// inside the length is not base64). Nothing is written to the state
/// directory unless the key unsealed and matched its address.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL` (checked
/// first), `WALLET_BACKUP_NOT_BASE64`, `WALLET_BACKUP_*` (a damaged
/// backup), `WALLET_RESTORE_STATE_NOT_EMPTY`,
/// `WALLET_SEAL_SRK_NAME_MISMATCH` (a backup of another TPM),
/// `WALLET_SEAL_PCR_MISMATCH`, `WALLET_ACCOUNT_ADDRESS_MISMATCH`,
/// `WALLET_TPM_*`, `WALLET_STATE_*`.
///
/// # Safety
/// `handle` must be a live wallet; `backup` readable for `backup_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_restore(
    handle: *const wallet,
    backup: *const c_char,
    backup_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let backup = unsafe { bytes_in(backup.cast::<u8>(), backup_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(backup)?;
        out.require(crate::WALLET_ADDRESS_LEN)?;
        let text = core::str::from_utf8(backup).map_err(|_| WALLET_BACKUP_NOT_BASE64)?;
        let address = wallet.run(|w| w.restore(text))?;
        out.write(&address.0)
    })
}

/// Writes the SHA-256 hash of the loaded account's signing policy (32
/// bytes, `WALLET_HASH_LEN`): the value `wallet_attest` binds into its
/// evidence, which a verifier finds in `wallet_evidence_facts.policy_hash`.
/// `wallet_policy_encoding_hash` gives the same hash for a policy encoding.
/// Accounts made without a policy carry the default one (everything but
/// unprotected transactions); an account file from before signing policies
/// has none and reports 32 zero bytes. Does not talk to the TPM.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_policy_hash(
    handle: *const wallet,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        let hash = wallet.run(|w| w.policy_hash())?;
        out.write(&hash)
    })
}

/// Stores how many command frames this wallet has sent to the TPM since it
/// was opened: a host can see, for instance, that a cached-mode signature
/// costs no TPM command and a strict-mode one several.
///
/// Errors: `WALLET_NULL_PARAMETER`.
///
/// # Safety
/// `handle` must be a live wallet; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_tpm_commands_sent(
    handle: *const wallet,
    count_out: *mut u64,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let count_out = unsafe { ValueOut::new(count_out) }?;
        let count = wallet.lock()?.wallet.tpm_commands_sent();
        count_out.set(count);
        Ok(())
    })
}

/// Writes a full description of the last error the wallet core reported on
/// this handle, as NUL-terminated text: it adds what a result code cannot
/// carry, such as which TPM command failed with which response code, or
/// which file-system step failed. The text never holds key material. It is
/// empty when no call on this handle has failed inside the core (argument
/// errors such as `WALLET_NULL_PARAMETER` are not recorded), and it is not
/// cleared by later successful calls. With several threads on one handle,
/// "last" is whichever failing call finished last.
///
/// `*out_len` receives the length without the NUL; a short buffer gets
/// `WALLET_BUFFER_TOO_SMALL` with the capacity needed, NUL included.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_last_error_message(
    handle: *const wallet,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        let text = wallet
            .lock()?
            .last_error
            .map(|e| e.to_string())
            .unwrap_or_default();
        out.write_c_string(&text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use wallet_core::tpm::simulator::Swtpm;

    fn open(swtpm: &Swtpm, dir: &Path) -> *mut wallet {
        let tcti = CString::new(swtpm.tcti()).unwrap();
        let dir = CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
        let roots = CString::new(
            swtpm
                .ek_ca_pem_path()
                .unwrap()
                .as_os_str()
                .as_encoded_bytes(),
        )
        .unwrap();
        let mut handle: *mut wallet = core::ptr::null_mut();
        // SAFETY: NUL-terminated strings and a writable out-pointer.
        let rc = unsafe {
            wallet_open_with_trust(tcti.as_ptr(), dir.as_ptr(), roots.as_ptr(), 0, &mut handle)
        };
        assert_eq!(rc, WALLET_OK);
        handle
    }

    /// A panic inside a call poisons the handle: every later call says so
    /// instead of running on a wallet left half-way through an operation,
    /// and the handle can still be freed.
    #[test]
    fn a_panic_poisons_the_handle() {
        let swtpm = Swtpm::start_temporary().expect("swtpm is installed and starts");
        let dir = swtpm.dir().join("wallet-state");
        let handle = open(&swtpm, &dir);
        let mut out = [0u8; 20];
        let mut len = 0usize;
        // SAFETY: `handle` is live; the buffers are writable.
        let rc = unsafe { wallet_create_account(handle, 0, out.as_mut_ptr(), 20, &mut len) };
        assert_eq!(rc, WALLET_OK);

        // SAFETY: `handle` is live until `wallet_free` below.
        let shared = unsafe { &*handle };
        let code = guard(|| shared.run(|_| panic!("deliberate panic while the wallet is locked")));
        assert_eq!(code, WALLET_PANIC);

        let mut after = [0xaau8; 20];
        // SAFETY: as above.
        let rc = unsafe { wallet_address(handle, after.as_mut_ptr(), 20, &mut len) };
        assert_eq!(rc, WALLET_HANDLE_POISONED);
        assert_eq!(after, [0xaa; 20]);
        let mut count = 0u64;
        // SAFETY: as above.
        let rc = unsafe { wallet_tpm_commands_sent(handle, &mut count) };
        assert_eq!(rc, WALLET_HANDLE_POISONED);
        // SAFETY: `handle` came from `wallet_open` and is freed once.
        unsafe { wallet_free(handle) };
    }

    #[test]
    fn key_mode_numbers_are_stable() {
        assert_eq!(wallet_key_mode::WALLET_KEY_MODE_STRICT as u32, 0);
        assert_eq!(wallet_key_mode::WALLET_KEY_MODE_CACHED as u32, 1);
        assert!(account_options(0, Policy::default())
            .unwrap()
            .pcrs
            .is_none());
        assert_eq!(
            account_options(1 << 16, Policy::default())
                .unwrap()
                .pcrs
                .map(|p| p.bitmap()),
            Some(1 << 16)
        );
        assert!(matches!(
            account_options(1 << 24, Policy::default()),
            Err(WALLET_TPM_INVALID_PCR_SELECTION)
        ));
    }

    /// The committed header asserts this layout to the C compiler, and every
    /// template has its own number.
    #[test]
    fn ek_check_layout_and_template_numbers() {
        let header = include_str!("../../include/wallet.h");
        let size = format!(
            "sizeof(wallet_ek_check) == {}",
            size_of::<wallet_ek_check>()
        );
        assert!(header.contains(&size), "wallet.h lacks `{size}`");
        assert_eq!(size_of::<wallet_ek_check>(), 12);
        let ids: Vec<u32> = wallet_core::tpm::template::EkTemplate::ALL
            .into_iter()
            .map(ek_template_id)
            .collect();
        assert_eq!(ids, (1..=9).collect::<Vec<u32>>());
        assert_eq!(ids.len(), WALLET_EK_CHECKS_MAX);
    }
}
