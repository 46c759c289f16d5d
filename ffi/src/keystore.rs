//! The portable backup in the C ABI: the TPM wallet's account exported as a
//! Web3 Secret Storage v3 keystore (what geth, eth-account and Foundry
//! read), and a keystore imported as the wallet's account (sealed by the
//! TPM at once).
//!
//! Unlike `wallet_backup`, which only the same TPM can restore, a keystore
//! opens anywhere with its password: exporting is always an explicit call.
//! The password is read from the caller's memory and never copied; the
//! derived keys and the decrypted key live in wiped buffers.

#![allow(non_camel_case_types)]

use core::ffi::c_char;

use wallet_core::keystore::{KdfParams, KeystoreError};
use wallet_core::policy::Policy;

use crate::boundary::{bytes_in, guard, handle_ref, BytesOut};
use crate::result::wallet_result::{self, *};
use crate::wallet::{account_options, wallet};
use crate::{WALLET_ADDRESS_LEN, WALLET_KEYSTORE_MAX_LEN};

/// The key derivation function of an exported keystore, for
/// `wallet_export_keystore` (passed as a `uint32_t`) and
/// `wallet_kdf_params.kdf`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wallet_keystore_kdf {
    /// scrypt; with `wallet_export_keystore`, `n = 2^18, r = 8, p = 1`
    /// (geth's standard setting, about a second and 256 MiB).
    WALLET_KEYSTORE_KDF_SCRYPT = 0,
    /// PBKDF2-HMAC-SHA256; with `wallet_export_keystore`, `c = 262144`
    /// (the Web3 Secret Storage definition's example).
    WALLET_KEYSTORE_KDF_PBKDF2 = 1,
}

/// Explicit KDF cost parameters for `wallet_export_keystore_with_params`.
/// Fields of the other KDF are ignored. They are checked against the
/// format and against the limits every import applies (so every exported
/// file can be imported again): scrypt `n` a power of two from 2 to 2^20,
/// `r` and `p` at least 1, `128 * n * r` at most 512 MiB and
/// `128 * n * r * p` at most 1 GiB; pbkdf2 `c` from 1 to 10,000,000.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wallet_kdf_params {
    /// `WALLET_KEYSTORE_KDF_SCRYPT` or `WALLET_KEYSTORE_KDF_PBKDF2`.
    pub kdf: u32,
    /// pbkdf2: the iteration count `c`.
    pub pbkdf2_c: u32,
    /// scrypt: the block size `r`.
    pub scrypt_r: u32,
    /// scrypt: the parallelisation `p`.
    pub scrypt_p: u32,
    /// scrypt: the CPU/memory cost `n`, as a keystore file spells it (not
    /// its logarithm).
    pub scrypt_n: u64,
}

const SCRYPT: u32 = wallet_keystore_kdf::WALLET_KEYSTORE_KDF_SCRYPT as u32;
const PBKDF2: u32 = wallet_keystore_kdf::WALLET_KEYSTORE_KDF_PBKDF2 as u32;

/// The parameters in `params`, checked by the core (whose error names the
/// limit); an unknown `kdf` is not the core's business.
pub(crate) fn kdf_params(
    params: &wallet_kdf_params,
) -> Result<wallet_core::Result<KdfParams>, wallet_result> {
    match params.kdf {
        SCRYPT => Ok(KdfParams::scrypt(
            params.scrypt_n,
            u64::from(params.scrypt_r),
            u64::from(params.scrypt_p),
        )
        .map_err(Into::into)),
        PBKDF2 => Ok(KdfParams::pbkdf2(u64::from(params.pbkdf2_c)).map_err(Into::into)),
        _ => Err(WALLET_INVALID_PARAMETER),
    }
}

/// Exports with parameters already chosen: the shared body of both export
/// functions, from the argument checks on.
///
/// # Safety
/// As `wallet_export_keystore`.
unsafe fn export(
    handle: *const wallet,
    password: *const c_char,
    password_len: usize,
    params: impl FnOnce() -> Result<wallet_core::Result<KdfParams>, wallet_result>,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> Result<(), wallet_result> {
    // SAFETY: the caller's contract.
    let wallet = unsafe { handle_ref(handle) }?;
    // SAFETY: the caller's contract; `c_char` and `u8` have the same size
    // and no validity requirement.
    let password = unsafe { bytes_in(password.cast::<u8>(), password_len) }?;
    // SAFETY: the caller's contract.
    let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
    out.disjoint_from(password)?;
    // Before the key is unsealed and the KDF runs: a length query costs
    // nothing, and no KDF work is thrown away.
    out.require(WALLET_KEYSTORE_MAX_LEN)?;
    let params = params()?;
    // Without owner approvals an export is refused: because the account
    // has no owners, or (a request that is otherwise valid, so that the
    // refusal names the missing approvals) by its owners' rule.
    let keystore = wallet.run(|w| {
        let params = params?;
        let params_hash = w.export_keystore_params_hash(password, params)?;
        let request = w.admin_request(
            wallet_core::authority::AdminAction::ExportKeystore,
            params_hash,
            u64::MAX,
        )?;
        w.export_keystore(password, params, &request, &[])
    })?;
    out.write_c_string(&keystore.to_json())
}

/// The agent's own export, without owner approvals: always refused. An
/// account without owners never exports its key
/// (`WALLET_AUTHORITY_OWNERLESS`); one with owners exports through
/// `wallet_admin_request_export_keystore` and
/// `wallet_execute_export_keystore` with their approvals, and here refuses
/// with `WALLET_AUTHORITY_NO_APPROVALS` (or `WALLET_EXPORT_WEAK_KDF`: the
/// pbkdf2 default below is under the export minimum of `c = 600000`). The
/// argument checks below come first, each with its code.
///
/// What an export writes: the loaded account as a Web3 Secret Storage v3
/// keystore (JSON text, NUL-terminated) encrypted under `password`: AES-128-CTR under a
/// key derived by `kdf` (a `wallet_keystore_kdf`: scrypt `n = 2^18, r = 8,
/// p = 1`, or pbkdf2 `c = 262144`), a Keccak-256 MAC, a fresh random salt,
/// IV and UUID, and the address in lower case. eth-account
/// (`Account.decrypt`), geth and Foundry (`cast wallet decrypt-keystore`)
/// read it; anyone with the file and the password has the key. The key is
/// unsealed for this call only (unless the key mode caches it).
///
/// `password` is `password_len` bytes (no NUL needed; `(NULL, 0)` is the
/// empty password), used as given: eth-account and geth use the UTF-8
/// bytes of the text. It is never copied.
///
/// `out_cap` must be at least `WALLET_KEYSTORE_MAX_LEN`, checked before
/// anything is unsealed or derived: a shorter buffer (or a length query)
/// gets `WALLET_BUFFER_TOO_SMALL` with `WALLET_KEYSTORE_MAX_LEN` in
/// `*out_len`. On success `*out_len` is the length without the NUL.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (an unknown
/// `kdf`, or `out` overlaps `password`), `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_AUTHORITY_OWNERLESS`,
/// `WALLET_EXPORT_EMPTY_PASSWORD`, `WALLET_EXPORT_WEAK_KDF`,
/// `WALLET_AUTHORITY_NO_APPROVALS`.
///
/// # Safety
/// `handle` must be a live wallet; `password` readable for `password_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_export_keystore(
    handle: *const wallet,
    password: *const c_char,
    password_len: usize,
    kdf: u32,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        let params = || match kdf {
            SCRYPT => Ok(Ok(KdfParams::SCRYPT_DEFAULT)),
            PBKDF2 => Ok(Ok(KdfParams::PBKDF2_DEFAULT)),
            _ => Err(WALLET_INVALID_PARAMETER),
        };
        // SAFETY: the caller's contract above.
        unsafe {
            export(
                handle,
                password,
                password_len,
                params,
                out,
                out_cap,
                out_len,
            )
        }
    })
}

/// As `wallet_export_keystore`, with the KDF and its cost chosen
/// explicitly in `*params`: a cheaper setting for constrained hosts (geth's
/// "light" scrypt is `n = 4096, r = 8, p = 6`), or a costlier one. A
/// keystore is as strong as its password and its KDF cost.
///
/// Errors: as `wallet_export_keystore`, and `WALLET_INVALID_PARAMETER` (an
/// unknown `params->kdf`), `WALLET_KEYSTORE_INVALID_KDF_PARAM`,
/// `WALLET_KEYSTORE_LIMIT_*` (`wallet_last_error_message` gives the value
/// and the limit).
///
/// # Safety
/// As `wallet_export_keystore`; `params` readable.
#[no_mangle]
pub unsafe extern "C" fn wallet_export_keystore_with_params(
    handle: *const wallet,
    password: *const c_char,
    password_len: usize,
    params: *const wallet_kdf_params,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above; a `wallet_kdf_params` has no
        // invalid bit patterns.
        let params = unsafe { params.as_ref() }.ok_or(WALLET_NULL_PARAMETER)?;
        let params = || kdf_params(params);
        // SAFETY: the caller's contract above.
        unsafe {
            export(
                handle,
                password,
                password_len,
                params,
                out,
                out_cap,
                out_len,
            )
        }
    })
}

/// Bytes that are not UTF-8 are not JSON: a syntax error at the first
/// invalid byte (1-based line and column, as the JSON reader counts them).
fn not_utf8(json: &[u8], valid_up_to: usize) -> wallet_core::Error {
    let before = json.get(..valid_up_to).unwrap_or_default();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    KeystoreError::JsonSyntax {
        line: before.iter().filter(|&&b| b == b'\n').count() + 1,
        column: valid_up_to.saturating_sub(line_start) + 1,
    }
    .into()
}

/// Imports with a policy already decoded (or the default): the shared body
/// of both import functions, from the argument checks on.
///
/// # Safety
/// As `wallet_import_keystore_with_policy`; `policy` may be `(NULL, 0)`
/// for the default policy.
#[allow(clippy::too_many_arguments)]
unsafe fn import(
    handle: *const wallet,
    json: *const c_char,
    json_len: usize,
    password: *const c_char,
    password_len: usize,
    pcr_bitmap: u32,
    policy: Option<(*const u8, usize)>,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> Result<(), wallet_result> {
    // SAFETY: the caller's contract.
    let wallet = unsafe { handle_ref(handle) }?;
    // SAFETY: the caller's contract; `c_char` and `u8` have the same size
    // and no validity requirement.
    let json = unsafe { bytes_in(json.cast::<u8>(), json_len) }?;
    // SAFETY: as above.
    let password = unsafe { bytes_in(password.cast::<u8>(), password_len) }?;
    let policy = match policy {
        // SAFETY: the caller's contract.
        Some((ptr, len)) => Some(unsafe { bytes_in(ptr, len) }?),
        None => None,
    };
    // SAFETY: the caller's contract.
    let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
    out.disjoint_from(json)?;
    out.disjoint_from(password)?;
    out.disjoint_from(policy.unwrap_or_default())?;
    out.require(WALLET_ADDRESS_LEN)?;
    let mut options = account_options(pcr_bitmap, Policy::plain_wallet())?;
    wallet.apply_key_lock(&mut options)?;
    let address = wallet.run(|w| {
        if let Some(policy) = policy {
            options.policy = Policy::decode(policy)?;
        }
        let text = core::str::from_utf8(json).map_err(|e| not_utf8(json, e.valid_up_to()))?;
        w.import_keystore(text, password, options)
    })?;
    out.write(&address.0)
}

/// Decrypts a Web3 Secret Storage v3 keystore with `password` and seals
/// its key into this TPM as the wallet's account (the state directory must
/// hold none), with the default signing policy; writes the address. Reads
/// keystores from eth-account, geth, Foundry and this library: scrypt with
/// any `n`, `r`, `p` the format allows (`r = 1, p = 8` included) and
/// pbkdf2-HMAC-SHA256, within limits that stop a hostile file from
/// exhausting memory or CPU (each has its own `WALLET_KEYSTORE_LIMIT_*`
/// code). The MAC is checked in constant time before anything is
/// decrypted; the decrypted key is wiped once sealed. `pcr_bitmap` as for
/// `wallet_create_account`.
///
/// `json` is the keystore text, `json_len` bytes, no NUL needed; `password`
/// as for `wallet_export_keystore`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps an input), `WALLET_BUFFER_TOO_SMALL` (checked first),
/// `WALLET_STATE_ACCOUNT_EXISTS` (before any KDF work),
/// `WALLET_KEYSTORE_*` (a malformed file, a limit, a wrong password or
/// modified file: `WALLET_KEYSTORE_WRONG_PASSWORD`), then as
/// `wallet_import_key`. `wallet_last_error_message` names the field or the
/// limit.
///
/// # Safety
/// `handle` must be a live wallet; `json` readable for `json_len` bytes;
/// `password` readable for `password_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_import_keystore(
    handle: *const wallet,
    json: *const c_char,
    json_len: usize,
    password: *const c_char,
    password_len: usize,
    pcr_bitmap: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        unsafe {
            import(
                handle,
                json,
                json_len,
                password,
                password_len,
                pcr_bitmap,
                None,
                out,
                out_cap,
                out_len,
            )
        }
    })
}

/// As `wallet_import_keystore`, with the signing policy given as a
/// canonical encoding (from `wallet_policy_from_json`) instead of the
/// default one.
///
/// Errors: as `wallet_import_keystore`, and `WALLET_POLICY_*` (82x: a
/// malformed encoding; nothing is decrypted or imported).
///
/// # Safety
/// As `wallet_import_keystore`; `policy` readable for `policy_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wallet_import_keystore_with_policy(
    handle: *const wallet,
    json: *const c_char,
    json_len: usize,
    password: *const c_char,
    password_len: usize,
    pcr_bitmap: u32,
    policy: *const u8,
    policy_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        unsafe {
            import(
                handle,
                json,
                json_len,
                password,
                password_len,
                pcr_bitmap,
                Some((policy, policy_len)),
                out,
                out_cap,
                out_len,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed header asserts these numbers to the C compiler.
    #[test]
    fn header_layout_assertions_match_rust() {
        let header = include_str!("../../include/wallet.h");
        let size = format!(
            "sizeof(wallet_kdf_params) == {}",
            size_of::<wallet_kdf_params>()
        );
        assert!(header.contains(&size), "wallet.h lacks `{size}`");
        assert!(header.contains("WALLET_ALIGNOF(wallet_kdf_params) == WALLET_ALIGNOF(uint64_t)"));
        assert!(header.contains("sizeof(wallet_keystore_kdf) == 4"));
        assert_eq!(align_of::<wallet_kdf_params>(), align_of::<u64>());
        // No padding.
        assert_eq!(size_of::<wallet_kdf_params>(), 4 * 4 + 8);
        assert_eq!(SCRYPT, 0);
        assert_eq!(PBKDF2, 1);
    }

    #[test]
    fn kdf_params_are_checked_by_the_core() {
        let scrypt = |n, r, p| wallet_kdf_params {
            kdf: SCRYPT,
            pbkdf2_c: 0,
            scrypt_r: r,
            scrypt_p: p,
            scrypt_n: n,
        };
        assert_eq!(
            kdf_params(&scrypt(1 << 18, 8, 1)),
            Ok(Ok(KdfParams::SCRYPT_DEFAULT))
        );
        for (params, code) in [
            (scrypt(3, 1, 1), WALLET_KEYSTORE_INVALID_KDF_PARAM),
            (scrypt(1 << 21, 1, 1), WALLET_KEYSTORE_LIMIT_SCRYPT_N),
            (scrypt(1 << 20, 8, 1), WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY),
            (scrypt(1 << 18, 8, 5), WALLET_KEYSTORE_LIMIT_SCRYPT_WORK),
            (
                wallet_kdf_params {
                    kdf: PBKDF2,
                    pbkdf2_c: 10_000_001,
                    ..scrypt(0, 0, 0)
                },
                WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS,
            ),
        ] {
            let got = kdf_params(&params).map(|r| r.map_err(wallet_result::from));
            assert_eq!(got, Ok(Err(code)), "{params:?}");
        }
        assert_eq!(
            kdf_params(&wallet_kdf_params {
                kdf: 2,
                ..scrypt(2, 1, 1)
            }),
            Err(WALLET_INVALID_PARAMETER)
        );
    }
}
