//! Owners and owner-approved admin actions in the C ABI, and the audit log.
//!
//! The caller of the wallet (the agent) is not trusted to export the key,
//! loosen the policy or change the owners. An account created with owners
//! (`wallet_create_account_with_owners`, `wallet_import_key_with_owners`)
//! allows these three actions only with the EIP-712 approvals of at least
//! `threshold` distinct owners over an `AdminRequest`:
//!
//! 1. `wallet_admin_request_*` writes the request (EIP-712 typed data as
//!    JSON) for the given parameters, the current admin nonce and a
//!    deadline. It holds no secret: a keystore password enters only as a
//!    hash an owner cannot invert faster than the keystore itself.
//! 2. Owners sign it with any EIP-712 signer (`cast wallet sign --data`,
//!    eth-account `sign_typed_data`, MetaMask `eth_signTypedData_v4`).
//! 3. `wallet_execute_*` takes the request, the approvals (65 bytes each,
//!    `r || s || v`) and exactly the parameters of step 1, checks them and
//!    runs the action; the admin nonce moves on, so no request runs twice.
//!
//! An account without owners (and every account file from before owners)
//! refuses all three actions with `WALLET_AUTHORITY_OWNERLESS`: its policy
//! never changes and its key never leaves the TPM.

use core::ffi::c_char;

use wallet_core::authority::{
    self, AdminAction, AdminRequest, AuthorityError, OwnerSet, APPROVAL_LEN, MAX_APPROVALS,
    MAX_OWNERS,
};
use wallet_core::keystore::KdfParams;
use wallet_core::policy::Policy;
use wallet_core::signer::Address;

use crate::boundary::{array_in, bytes_in, guard, handle_ref, BytesOut, ValueOut};
use crate::keystore::{kdf_params, wallet_kdf_params};
use crate::result::wallet_result::{self, *};
use crate::wallet::{account_options, wallet};
#[cfg(test)]
use crate::WALLET_ADMIN_REQUEST_MAX_LEN;
use crate::{WALLET_ADDRESS_LEN, WALLET_HASH_LEN, WALLET_KEYSTORE_MAX_LEN};

/// The owners at `owners` (`owners_count` addresses of 20 bytes each) and
/// `threshold`, checked by the core.
///
/// # Safety
/// `owners` readable for `20 * owners_count` bytes.
unsafe fn owner_set_in(
    owners: *const u8,
    owners_count: usize,
    threshold: u32,
) -> Result<wallet_core::Result<OwnerSet>, wallet_result> {
    if owners_count > MAX_OWNERS {
        return Ok(Err(AuthorityError::TooManyOwners {
            count: owners_count,
        }
        .into()));
    }
    // SAFETY: the caller's contract; the product cannot overflow (at most
    // 16 * 20).
    let bytes = unsafe { bytes_in(owners, owners_count * WALLET_ADDRESS_LEN) }?;
    let list: Vec<Address> = bytes
        .chunks_exact(WALLET_ADDRESS_LEN)
        .map(|chunk| {
            let mut address = [0u8; WALLET_ADDRESS_LEN];
            address.copy_from_slice(chunk);
            Address(address)
        })
        .collect();
    let Ok(threshold) = u8::try_from(threshold) else {
        return Ok(Err(AuthorityError::ThresholdOutOfRange {
            threshold: u8::MAX,
            owners: owners_count,
        }
        .into()));
    };
    Ok(OwnerSet::new(&list, threshold).map_err(Into::into))
}

/// The approvals at `approvals` (`approvals_count` of 65 bytes each).
///
/// # Safety
/// `approvals` readable for `65 * approvals_count` bytes.
unsafe fn approvals_in(
    approvals: *const u8,
    approvals_count: usize,
) -> Result<wallet_core::Result<Vec<[u8; APPROVAL_LEN]>>, wallet_result> {
    if approvals_count > MAX_APPROVALS {
        return Ok(Err(AuthorityError::TooManyApprovals {
            count: approvals_count,
        }
        .into()));
    }
    // SAFETY: the caller's contract; the product is at most 16 * 65.
    let bytes = unsafe { bytes_in(approvals, approvals_count * APPROVAL_LEN) }?;
    Ok(Ok(bytes
        .chunks_exact(APPROVAL_LEN)
        .map(|chunk| {
            let mut approval = [0u8; APPROVAL_LEN];
            approval.copy_from_slice(chunk);
            approval
        })
        .collect()))
}

/// The request text as the core reads it: UTF-8, else a syntax error.
fn request_in(json: &[u8]) -> wallet_core::Result<AdminRequest> {
    let text = core::str::from_utf8(json).map_err(|e| AuthorityError::JsonSyntax {
        line: 1,
        column: e.valid_up_to() + 1,
    })?;
    Ok(AdminRequest::from_typed_data_json(text)?)
}

/// Creates or imports with owners: the shared body.
///
/// # Safety
/// As `wallet_create_account_with_owners`; `key` readable for 32 bytes when
/// given.
#[allow(clippy::too_many_arguments)]
unsafe fn new_account_with_owners(
    handle: *const wallet,
    key: Option<&[u8; 32]>,
    pcr_bitmap: u32,
    policy: *const u8,
    policy_len: usize,
    owners: *const u8,
    owners_count: usize,
    threshold: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> Result<(), wallet_result> {
    // SAFETY: the caller's contract.
    let wallet = unsafe { handle_ref(handle) }?;
    // SAFETY: the caller's contract.
    let policy = unsafe { bytes_in(policy, policy_len) }?;
    // SAFETY: the caller's contract.
    let owner_set = unsafe { owner_set_in(owners, owners_count, threshold) }?;
    // SAFETY: the caller's contract.
    let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
    out.disjoint_from(policy)?;
    out.disjoint_from(key.map_or(&[][..], |key| &key[..]))?;
    out.require(WALLET_ADDRESS_LEN)?;
    let mut options = account_options(pcr_bitmap, Policy::default())?;
    wallet.apply_key_lock(&mut options)?;
    let address = wallet.run(|w| {
        options.policy = Policy::decode(policy)?;
        options.owners = Some(owner_set?);
        match key {
            Some(key) => w.import_key(key, options),
            None => w.create_account(options),
        }
    })?;
    out.write(&address.0)
}

/// As `wallet_create_account_with_policy`, with owners: `owners_count`
/// Ethereum addresses (1 to 16, 20 bytes each, back to back at `owners`, in
/// any order, no duplicate, not the zero address) of whom `threshold` (1 to
/// `owners_count`) must approve every admin action (replacing the policy,
/// exporting the key, replacing the owners). The owners are bound to the
/// key with the policy. Writes the address (20 bytes).
///
/// Errors: as `wallet_create_account_with_policy`, and
/// `WALLET_AUTHORITY_NO_OWNERS`, `WALLET_AUTHORITY_TOO_MANY_OWNERS`,
/// `WALLET_AUTHORITY_ZERO_OWNER`, `WALLET_AUTHORITY_DUPLICATE_OWNER`,
/// `WALLET_AUTHORITY_THRESHOLD_OUT_OF_RANGE` (nothing is created).
///
/// # Safety
/// `handle` must be a live wallet; `policy` readable for `policy_len`
/// bytes; `owners` readable for `20 * owners_count` bytes; `out` writable
/// for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_create_account_with_owners(
    handle: *const wallet,
    pcr_bitmap: u32,
    policy: *const u8,
    policy_len: usize,
    owners: *const u8,
    owners_count: usize,
    threshold: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        unsafe {
            new_account_with_owners(
                handle,
                None,
                pcr_bitmap,
                policy,
                policy_len,
                owners,
                owners_count,
                threshold,
                out,
                out_cap,
                out_len,
            )
        }
    })
}

/// As `wallet_import_key_with_policy`, with owners as for
/// `wallet_create_account_with_owners`.
///
/// Errors: as `wallet_import_key_with_policy` and
/// `wallet_create_account_with_owners`.
///
/// # Safety
/// As `wallet_create_account_with_owners`; `key` readable for `key_len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn wallet_import_key_with_owners(
    handle: *const wallet,
    key: *const u8,
    key_len: usize,
    pcr_bitmap: u32,
    policy: *const u8,
    policy_len: usize,
    owners: *const u8,
    owners_count: usize,
    threshold: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let key = unsafe { array_in::<32>(key, key_len, WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH) }?;
        // SAFETY: the caller's contract above.
        unsafe {
            new_account_with_owners(
                handle,
                Some(key),
                pcr_bitmap,
                policy,
                policy_len,
                owners,
                owners_count,
                threshold,
                out,
                out_cap,
                out_len,
            )
        }
    })
}

/// Writes the loaded account's owners (20 bytes each, sorted ascending, at
/// most `16 * 20` bytes) and sets `*threshold_out`. An account without
/// owners writes nothing (`*out_len` = 0) and sets `*threshold_out` to 0.
/// Does not talk to the TPM.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` and `threshold_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_owners(
    handle: *const wallet,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    threshold_out: *mut u32,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        // SAFETY: the caller's contract above.
        let threshold_out = unsafe { ValueOut::new(threshold_out) }?;
        let (bytes, threshold) = wallet.run(|w| {
            Ok(match w.owners()? {
                Some(set) => (
                    set.owners().iter().flat_map(|a| a.0).collect::<Vec<u8>>(),
                    u32::from(set.threshold()),
                ),
                None => (Vec::new(), 0),
            })
        })?;
        out.write(&bytes)?;
        threshold_out.set(threshold);
        Ok(())
    })
}

/// Sets `*out` to the loaded account's admin nonce: the nonce the next
/// admin request must carry (0 for an account without owners).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_ACCOUNT_NOT_LOADED`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_nonce(handle: *const wallet, out: *mut u64) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { ValueOut::new(out) }?;
        out.set(wallet.run(|w| w.admin_nonce())?);
        Ok(())
    })
}

/// Writes the request for `action` with `params_hash`: the shared tail of
/// the `wallet_admin_request_*` functions.
fn write_request(
    wallet: &wallet,
    action: AdminAction,
    params_hash: impl FnOnce(&wallet_core::wallet::Wallet) -> wallet_core::Result<[u8; 32]>,
    deadline: u64,
    out: BytesOut<c_char>,
) -> Result<(), wallet_result> {
    let json = wallet.run(|w| {
        let params_hash = params_hash(w)?;
        Ok(w.admin_request(action, params_hash, deadline)?
            .to_typed_data_json())
    })?;
    out.write_c_string(&json)
}

/// Writes the admin request that replaces the policy with `policy` (a
/// canonical encoding, from `wallet_policy_from_json`): EIP-712 typed data
/// as NUL-terminated JSON (`domain`, `types`, `primaryType`, `message`),
/// ready for `cast wallet sign --data`, eth-account or MetaMask. It carries
/// the account's address, the policy's hash, the current admin nonce and
/// `deadline` (unix seconds; the request is refused after it).
///
/// `*out_len` receives the length without the NUL; a short buffer gets
/// `WALLET_BUFFER_TOO_SMALL` with the capacity needed, NUL included (at most
/// `WALLET_ADMIN_REQUEST_MAX_LEN`).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `policy`), `WALLET_BUFFER_TOO_SMALL`, `WALLET_POLICY_*` (82x),
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_AUTHORITY_OWNERLESS`.
///
/// # Safety
/// `handle` must be a live wallet; `policy` readable for `policy_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_request_replace_policy(
    handle: *const wallet,
    policy: *const u8,
    policy_len: usize,
    deadline: u64,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(policy)?;
        write_request(
            wallet,
            AdminAction::ReplacePolicy,
            |_| {
                Ok(authority::replace_policy_params_hash(
                    &Policy::decode(policy)?.hash(),
                ))
            },
            deadline,
            out,
        )
    })
}

/// As `wallet_admin_request_replace_policy`, for replacing the owners with
/// `owners` and `threshold` (as `wallet_create_account_with_owners` takes
/// them; `paramsHash` is the new owner set's hash).
///
/// Errors: as `wallet_admin_request_replace_policy`, with the owner-set
/// errors of `wallet_create_account_with_owners` in place of the policy's.
///
/// # Safety
/// `handle` must be a live wallet; `owners` readable for
/// `20 * owners_count` bytes; `out` writable for `out_cap` bytes; `out_len`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_request_replace_owners(
    handle: *const wallet,
    owners: *const u8,
    owners_count: usize,
    threshold: u32,
    deadline: u64,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let owner_set = unsafe { owner_set_in(owners, owners_count, threshold) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        write_request(
            wallet,
            AdminAction::ReplaceOwners,
            |_| Ok(authority::replace_owners_params_hash(&owner_set?)),
            deadline,
            out,
        )
    })
}

/// As `wallet_admin_request_replace_policy`, for exporting the key as a
/// keystore under `password` with the KDF `*params` (as
/// `wallet_export_keystore_with_params` takes them). The request never
/// contains the password: `paramsHash` binds the KDF, a salt fixed by the
/// account and the admin nonce, and the keystore's MAC key, so an approval
/// lets no one test password guesses faster than the keystore itself. The
/// KDF runs once here and again in `wallet_execute_export_keystore`.
///
/// Errors: as `wallet_admin_request_replace_policy`, and
/// `WALLET_INVALID_PARAMETER` (an unknown `params->kdf`),
/// `WALLET_KEYSTORE_INVALID_KDF_PARAM`, `WALLET_KEYSTORE_LIMIT_*`,
/// `WALLET_EXPORT_EMPTY_PASSWORD`, `WALLET_EXPORT_WEAK_KDF` (below scrypt
/// `n = 2^17, r = 8` or pbkdf2 `c = 600000`).
///
/// # Safety
/// `handle` must be a live wallet; `password` readable for `password_len`
/// bytes; `params` readable; `out` writable for `out_cap` bytes; `out_len`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_request_export_keystore(
    handle: *const wallet,
    password: *const c_char,
    password_len: usize,
    params: *const wallet_kdf_params,
    deadline: u64,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let password = unsafe { bytes_in(password.cast::<u8>(), password_len) }?;
        // SAFETY: the caller's contract above; a `wallet_kdf_params` has no
        // invalid bit patterns.
        let params = unsafe { params.as_ref() }.ok_or(WALLET_NULL_PARAMETER)?;
        let params = kdf_params(params)?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(password)?;
        write_request(
            wallet,
            AdminAction::ExportKeystore,
            |w| w.export_keystore_params_hash(password, params?),
            deadline,
            out,
        )
    })
}

/// Writes the EIP-712 digest (32 bytes) of an admin request JSON: what each
/// owner's approval signs, `keccak256(0x19 0x01 || domainSeparator ||
/// hashStruct(AdminRequest))`. Needs no wallet: an owner (or a test) checks
/// what it signs.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `request_json`), `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_AUTHORITY_JSON_*` (104x-105x: not a request this library writes).
///
/// # Safety
/// `request_json` readable for `request_json_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_request_digest(
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let json = unsafe { bytes_in(request_json.cast::<u8>(), request_json_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        let request = request_in(json).map_err(wallet_result::from)?;
        out.write(&request.signing_hash())
    })
}

/// Writes the two EIP-712 hashes of an admin request JSON, 64 bytes: the
/// domain separator, then the struct hash of the `AdminRequest`. They are
/// the inputs of `wallet_signer_sign_typed_data_hash` (and of any signer
/// that takes the two hashes), whose signature is an owner's approval.
///
/// Errors: as `wallet_admin_request_digest`.
///
/// # Safety
/// As `wallet_admin_request_digest`.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_request_eip712_hashes(
    request_json: *const c_char,
    request_json_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let json = unsafe { bytes_in(request_json.cast::<u8>(), request_json_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        let request = request_in(json).map_err(wallet_result::from)?;
        let mut hashes = [0u8; 64];
        hashes[..32].copy_from_slice(&authority::domain_separator(&request.wallet));
        hashes[32..].copy_from_slice(&request.struct_hash());
        out.write(&hashes)
    })
}

/// The request and approvals of a `wallet_execute_*` call.
struct Approved {
    request: wallet_core::Result<AdminRequest>,
    approvals: wallet_core::Result<Vec<[u8; APPROVAL_LEN]>>,
}

/// # Safety
/// As `wallet_execute_replace_policy`.
unsafe fn approved_in<'a>(
    request_json: *const c_char,
    request_json_len: usize,
    approvals: *const u8,
    approvals_count: usize,
) -> Result<(Approved, &'a [u8]), wallet_result> {
    // SAFETY: the caller's contract; `c_char` and `u8` have the same size
    // and no validity requirement.
    let json: &'a [u8] = unsafe { bytes_in(request_json.cast::<u8>(), request_json_len) }?;
    // SAFETY: the caller's contract.
    let approvals = unsafe { approvals_in(approvals, approvals_count) }?;
    Ok((
        Approved {
            request: request_in(json),
            approvals,
        },
        json,
    ))
}

/// Replaces the policy with `policy` (a canonical encoding), as approved by
/// the owners: `request_json` is the request `wallet_admin_request_replace_policy`
/// wrote (`request_json_len` bytes, no NUL needed), `approvals` holds
/// `approvals_count` owner signatures over its digest, 65 bytes each
/// (`r || s || v`, `v` 0/1/27/28), back to back, in any order. `policy` must
/// be exactly the policy of the request. Checked in this order: the
/// account (`WALLET_AUTHORITY_OWNERLESS`), the request's wallet, action,
/// nonce (`_REPLAYED`: already used; `_NONCE_NOT_CURRENT`), deadline
/// (`_EXPIRED`), params (`_PARAMS_MISMATCH`), the count (`_NO_APPROVALS`,
/// `_TOO_MANY_APPROVALS`), each approval (`_MALFORMED_SIGNATURE`,
/// `_NOT_OWNER`, `_DUPLICATE_SIGNER`), the threshold (`_TOO_FEW_APPROVALS`).
/// Then as the old policy replacement: the key is unsealed (strict mode) to
/// bind the new policy, the change goes to the audit log, the account file
/// is replaced atomically and the admin nonce moves on. Writes the new
/// policy hash (32 bytes). On any error nothing changes.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps an input), `WALLET_BUFFER_TOO_SMALL` (checked first),
/// `WALLET_POLICY_*` (82x), `WALLET_AUTHORITY_*` (10xx),
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_ACCOUNT_POLICY_BINDING_MISMATCH`,
/// the errors of unsealing, `WALLET_STATE_*`.
///
/// # Safety
/// `handle` must be a live wallet; `request_json` readable for
/// `request_json_len` bytes; `approvals` readable for `65 *
/// approvals_count` bytes; `policy` readable for `policy_len` bytes; `out`
/// writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_execute_replace_policy(
    handle: *const wallet,
    request_json: *const c_char,
    request_json_len: usize,
    approvals: *const u8,
    approvals_count: usize,
    policy: *const u8,
    policy_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let (approved, json) =
            unsafe { approved_in(request_json, request_json_len, approvals, approvals_count) }?;
        // SAFETY: the caller's contract above.
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        out.disjoint_from(policy)?;
        out.require(WALLET_HASH_LEN)?;
        let hash = wallet.run(|w| {
            let policy = Policy::decode(policy)?;
            w.replace_policy(policy, &approved.request?, &approved.approvals?)
        })?;
        out.write(&hash)
    })
}

/// Writes the admin request that changes the PIN of this PIN-locked
/// account, as `wallet_admin_request_replace_policy` writes its own. Its
/// `paramsHash` commits to the account's key lock (which a PIN change
/// keeps), never to a PIN: a hash of a PIN could be brute-forced.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_AUTHORITY_OWNERLESS`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_admin_request_change_pin(
    handle: *const wallet,
    deadline: u64,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        write_request(
            wallet,
            AdminAction::ChangePin,
            wallet_core::wallet::Wallet::change_pin_params_hash,
            deadline,
            out,
        )
    })
}

/// Executes an owner-approved `change_pin` request (from
/// `wallet_admin_request_change_pin`, its approvals checked as by
/// `wallet_execute_replace_policy`): the key is unsealed with the current
/// PIN (`current_pin`, `current_pin_len` bytes; NULL: the PIN the handle
/// holds), sealed again under `new_pin` and checked, the account file is
/// written one anti-rollback counter value ahead and the counter
/// incremented, so the old file (which the old PIN opens) is refused
/// afterwards as rolled back. The handle presents the new PIN from then on.
///
/// Errors: `WALLET_NULL_PARAMETER` (`new_pin`), `WALLET_INVALID_PARAMETER`
/// (an empty PIN), `WALLET_AUTHORITY_*` (10xx), `WALLET_KEY_LOCK_NO_PIN`,
/// `WALLET_KEY_LOCK_PIN_CHANGE_BOOT_ONCE`, `WALLET_SEAL_PIN_REQUIRED`,
/// `WALLET_SEAL_WRONG_PIN` (counted by the TPM's dictionary-attack
/// lockout), `WALLET_SEAL_LOCKED_OUT`, the errors of sealing and
/// `WALLET_STATE_*`. On an error before the file is replaced nothing
/// changes.
///
/// # Safety
/// `handle` must be a live wallet; `request_json` readable for
/// `request_json_len` bytes; `approvals` readable for `65 *
/// approvals_count` bytes; `current_pin` readable for `current_pin_len`
/// bytes or NULL; `new_pin` readable for `new_pin_len` bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wallet_change_pin(
    handle: *const wallet,
    request_json: *const c_char,
    request_json_len: usize,
    approvals: *const u8,
    approvals_count: usize,
    current_pin: *const u8,
    current_pin_len: usize,
    new_pin: *const u8,
    new_pin_len: usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let (approved, _json) =
            unsafe { approved_in(request_json, request_json_len, approvals, approvals_count) }?;
        if new_pin.is_null() {
            return Err(WALLET_NULL_PARAMETER);
        }
        // SAFETY: the caller's contract above.
        let current = unsafe { crate::wallet::pin_of(current_pin, current_pin_len) }?;
        // SAFETY: the caller's contract above.
        let new_pin =
            unsafe { crate::wallet::pin_of(new_pin, new_pin_len) }?.ok_or(WALLET_NULL_PARAMETER)?;
        wallet.run(|w| w.change_pin(current, new_pin, &approved.request?, &approved.approvals?))
    })
}

/// As `wallet_execute_replace_policy`, replacing the owners with `owners`
/// and `threshold` (exactly those of the request from
/// `wallet_admin_request_replace_owners`). Writes the new owner set's hash
/// (32 bytes, the value attestation reports). From then on only the new
/// owners approve.
///
/// Errors: as `wallet_execute_replace_policy`, with the owner-set errors of
/// `wallet_create_account_with_owners` in place of the policy's.
///
/// # Safety
/// As `wallet_execute_replace_policy`; `owners` readable for
/// `20 * owners_count` bytes.
#[no_mangle]
pub unsafe extern "C" fn wallet_execute_replace_owners(
    handle: *const wallet,
    request_json: *const c_char,
    request_json_len: usize,
    approvals: *const u8,
    approvals_count: usize,
    owners: *const u8,
    owners_count: usize,
    threshold: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let (approved, json) =
            unsafe { approved_in(request_json, request_json_len, approvals, approvals_count) }?;
        // SAFETY: the caller's contract above.
        let owner_set = unsafe { owner_set_in(owners, owners_count, threshold) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        out.require(WALLET_HASH_LEN)?;
        let hash = wallet
            .run(|w| w.replace_owners(owner_set?, &approved.request?, &approved.approvals?))?;
        out.write(&hash)
    })
}

/// As `wallet_execute_replace_policy`, exporting the key as a Web3 Secret
/// Storage v3 keystore (NUL-terminated JSON, as `wallet_export_keystore`
/// describes it) under `password` with the KDF `*params`: exactly those of
/// the request from `wallet_admin_request_export_keystore` (another
/// password or KDF is `WALLET_AUTHORITY_PARAMS_MISMATCH`). `out_cap` must
/// be at least `WALLET_KEYSTORE_MAX_LEN`, checked before anything else.
///
/// Errors: as `wallet_execute_replace_policy` and
/// `wallet_admin_request_export_keystore`; the errors of unsealing,
/// `WALLET_RANDOM_FAILED`.
///
/// # Safety
/// As `wallet_execute_replace_policy`; `password` readable for
/// `password_len` bytes; `params` readable.
#[no_mangle]
pub unsafe extern "C" fn wallet_execute_export_keystore(
    handle: *const wallet,
    request_json: *const c_char,
    request_json_len: usize,
    approvals: *const u8,
    approvals_count: usize,
    password: *const c_char,
    password_len: usize,
    params: *const wallet_kdf_params,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let wallet = unsafe { handle_ref(handle) }?;
        // SAFETY: the caller's contract above.
        let (approved, json) =
            unsafe { approved_in(request_json, request_json_len, approvals, approvals_count) }?;
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let password = unsafe { bytes_in(password.cast::<u8>(), password_len) }?;
        // SAFETY: the caller's contract above; a `wallet_kdf_params` has no
        // invalid bit patterns.
        let params = unsafe { params.as_ref() }.ok_or(WALLET_NULL_PARAMETER)?;
        let params: wallet_core::Result<KdfParams> = kdf_params(params)?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        out.disjoint_from(password)?;
        out.require(WALLET_KEYSTORE_MAX_LEN)?;
        let keystore = wallet.run(|w| {
            w.export_keystore(password, params?, &approved.request?, &approved.approvals?)
        })?;
        out.write_c_string(&keystore.to_json())
    })
}

/// Writes the loaded account's audit log as it is in the state directory
/// (text, one hash-chained entry per line; at most 256 KiB): what
/// `wallet_verify_audit_log` checks. Does not talk to the TPM.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL` (with the
/// length needed), `WALLET_STATE_*`.
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_audit_log(
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
        let log = wallet.run(|w| w.audit_log_bytes())?;
        out.write(&log)
    })
}

/// Writes the head of the loaded account's audit log (32 bytes): the hash
/// of its last entry, the value attestation evidence binds. A verifier
/// keeps it and later checks a copy of the log against it with
/// `wallet_verify_audit_log`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_STATE_*`, `WALLET_AUDIT_*` (the stored log is damaged).
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_audit_head(
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
        out.require(WALLET_HASH_LEN)?;
        let head = wallet.run(|w| w.audit_head())?;
        out.write(&head)
    })
}

/// Checks an audit log (`log_len` bytes, as `wallet_audit_log` wrote it)
/// against `head` (32 bytes): every entry's hash, the chain of `prev`
/// hashes, the sequence, the start, and that the last entry is `head`.
/// An edited, removed, inserted or moved entry fails, each with its code.
/// Needs no wallet.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`head_len`
/// is not 32), `WALLET_AUDIT_*` (11xx).
///
/// # Safety
/// `log` readable for `log_len` bytes; `head` readable for `head_len`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn wallet_verify_audit_log(
    log: *const u8,
    log_len: usize,
    head: *const u8,
    head_len: usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let log = unsafe { bytes_in(log, log_len) }?;
        // SAFETY: the caller's contract above.
        let head = unsafe { array_in::<32>(head, head_len, WALLET_INVALID_PARAMETER) }?;
        wallet_core::audit::verify_audit_log(log, head)
            .map(|_| ())
            .map_err(|e| wallet_result::from(wallet_core::Error::from(e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_request_fits_its_constant() {
        let request = AdminRequest {
            wallet: Address([0xff; 20]),
            action: AdminAction::ExportKeystore,
            params_hash: [0xff; 32],
            nonce: u64::MAX,
            deadline: u64::MAX,
        };
        let longest = AdminAction::ALL
            .iter()
            .map(|&action| {
                AdminRequest { action, ..request }
                    .to_typed_data_json()
                    .len()
            })
            .max()
            .unwrap_or(usize::MAX);
        assert!(longest < WALLET_ADMIN_REQUEST_MAX_LEN, "{longest}");
        assert!(
            longest + 64 >= WALLET_ADMIN_REQUEST_MAX_LEN,
            "{longest}: tighten the bound"
        );
    }
}
