//! The signing policy in the C ABI.
//!
//! A C host holds a policy as its canonical encoding (at most
//! `WALLET_POLICY_MAX_LEN` bytes): `wallet_policy_from_json` makes one from
//! the JSON form every front end shares (the keys of `Policy::from_json`:
//! `chain_ids`, `max_value_wei`, ...), `wallet_policy_to_json` reads one
//! back, and `wallet_policy_encoding_hash` gives the hash attestation
//! reports. The TPM wallet takes an encoding when an account is created or
//! imported (`wallet_create_account_with_policy`,
//! `wallet_import_key_with_policy`, `wallet_create_account_with_owners`)
//! and in an owner-approved `wallet_execute_replace_policy`; the
//! in-memory signer takes one per call
//! (`wallet_signer_sign_transaction_with_policy`, in `signer.rs`).

use core::ffi::c_char;

use wallet_core::policy::Policy;

use crate::boundary::{array_in, bytes_in, guard, handle_ref, BytesOut};
use crate::result::wallet_result::{self, *};
use crate::wallet::{account_options, wallet};
use crate::{WALLET_ADDRESS_LEN, WALLET_HASH_LEN};

/// A canonical policy encoding from C memory.
fn decode(encoding: &[u8]) -> Result<Policy, wallet_result> {
    Policy::decode(encoding).map_err(wallet_result::from)
}

/// Reads a policy in its JSON form and writes its canonical encoding (at
/// most `WALLET_POLICY_MAX_LEN` bytes), the form every other policy
/// function takes. `json` is UTF-8 text of `json_len` bytes (no NUL
/// needed), at most `WALLET_POLICY_JSON_MAX_LEN` bytes: an object whose keys
/// are the rules (`chain_ids`, `max_value_wei`, `max_fee_wei`,
/// `daily_limit_wei`, `recipients_allow`, `recipients_deny`,
/// `delegations_allow`, `allow_contract_creation`, `allow_unprotected`,
/// `allow_messages`, `selectors`, `typed_data_domains`); a key left out or
/// `null` keeps the default rule. `{}` is the default policy.
///
/// On an error, `wallet_policy_json_error_message` on the same text names
/// the key and what was expected.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `json`), `WALLET_BUFFER_TOO_SMALL`, `WALLET_POLICY_JSON_*`,
/// `WALLET_POLICY_TOO_MANY_ENTRIES` (a list above its capacity).
///
/// # Safety
/// `json` must be readable for `json_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_policy_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let json = unsafe { bytes_in(json.cast::<u8>(), json_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        let policy = Policy::from_json_slice(json)?;
        out.write(&policy.to_bytes())
    })
}

/// Writes, as NUL-terminated text, why `wallet_policy_from_json` refuses
/// `json`: the key, the entry and what was expected (for instance
/// `policy JSON: recipients_allow[2]: expected an address: "0x" and 40 hex
/// digits`), or the line and column of a syntax error. Writes empty text
/// when the JSON is a valid policy. The text holds no more than what the
/// JSON itself holds (a key is cut to 48 bytes).
///
/// `*out_len` receives the length without the NUL; a short buffer gets
/// `WALLET_BUFFER_TOO_SMALL` with the capacity needed, NUL included.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `json`), `WALLET_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `wallet_policy_from_json`.
#[no_mangle]
pub unsafe extern "C" fn wallet_policy_json_error_message(
    json: *const c_char,
    json_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above; `c_char` and `u8` have the
        // same size and no validity requirement.
        let json = unsafe { bytes_in(json.cast::<u8>(), json_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(json)?;
        let text = match Policy::from_json_slice(json) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        out.write_c_string(&text)
    })
}

/// Writes the JSON form of a canonical policy encoding as NUL-terminated
/// text: every key, `null` for a rule that is not set, amounts as decimal
/// strings, addresses in EIP-55 form. `wallet_policy_from_json` reads it
/// back to the same encoding.
///
/// `*out_len` receives the length without the NUL; a short buffer gets
/// `WALLET_BUFFER_TOO_SMALL` with the capacity needed, NUL included (a
/// length query costs nothing but the decoding).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `policy`), `WALLET_BUFFER_TOO_SMALL`, `WALLET_POLICY_*` (82x: a
/// malformed encoding).
///
/// # Safety
/// `policy` must be readable for `policy_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_policy_to_json(
    policy: *const u8,
    policy_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(policy)?;
        out.write_c_string(&decode(policy)?.to_json())
    })
}

/// Writes the hash of a canonical policy encoding (SHA-256, 32 bytes,
/// `WALLET_HASH_LEN`): the value a wallet with this policy reports in
/// `wallet_policy_hash` and binds into its attestation evidence, so a
/// verifier can compare `wallet_evidence_facts.policy_hash` with the policy
/// it expects. The encoding is checked first: only a valid policy has a
/// hash.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `policy`), `WALLET_BUFFER_TOO_SMALL`, `WALLET_POLICY_*` (82x).
///
/// # Safety
/// `policy` must be readable for `policy_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_policy_encoding_hash(
    policy: *const u8,
    policy_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(policy)?;
        out.write(&decode(policy)?.hash())
    })
}

/// As `wallet_create_account`, with the signing policy given as a
/// canonical encoding (from `wallet_policy_from_json`) instead of the
/// default one. The policy is bound to the new key and stored with the
/// sealed account. The account has no owners, so the policy never changes:
/// `wallet_create_account_with_owners` makes one whose owners can change it.
///
/// Errors: as `wallet_create_account`, and `WALLET_POLICY_*` (82x: a
/// malformed encoding; nothing is created).
///
/// # Safety
/// `handle` must be a live wallet; `policy` readable for `policy_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_create_account_with_policy(
    handle: *const wallet,
    pcr_bitmap: u32,
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
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(policy)?;
        out.require(WALLET_ADDRESS_LEN)?;
        let mut options = account_options(pcr_bitmap, Policy::default())?;
        wallet.apply_key_lock(&mut options)?;
        let address = wallet.run(|w| {
            options.policy = Policy::decode(policy)?;
            w.create_account(options)
        })?;
        out.write(&address.0)
    })
}

/// As `wallet_import_key`, with the signing policy given as a canonical
/// encoding instead of the default one.
///
/// Errors: as `wallet_import_key`, and `WALLET_POLICY_*` (82x: a malformed
/// encoding; nothing is imported).
///
/// # Safety
/// `handle` must be a live wallet; `key` readable for `key_len` bytes;
/// `policy` readable for `policy_len` bytes; `out` writable for `out_cap`
/// bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_import_key_with_policy(
    handle: *const wallet,
    key: *const u8,
    key_len: usize,
    pcr_bitmap: u32,
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
        let key = unsafe { array_in::<32>(key, key_len, WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH) }?;
        // SAFETY: the caller's contract above.
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(key)?;
        out.disjoint_from(policy)?;
        out.require(WALLET_ADDRESS_LEN)?;
        let mut options = account_options(pcr_bitmap, Policy::default())?;
        wallet.apply_key_lock(&mut options)?;
        let address = wallet.run(|w| {
            options.policy = Policy::decode(policy)?;
            w.import_key(key, options)
        })?;
        out.write(&address.0)
    })
}

/// The agent's own policy change, without owner approvals: always refused.
/// An account without owners keeps its policy for good
/// (`WALLET_AUTHORITY_OWNERLESS`); one with owners changes it through
/// `wallet_admin_request_replace_policy` and `wallet_execute_replace_policy`
/// with their approvals, and here refuses with
/// `WALLET_AUTHORITY_NO_APPROVALS`. The argument checks come first, each
/// with its code; nothing is written.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `policy`), `WALLET_BUFFER_TOO_SMALL`, `WALLET_POLICY_*` (82x),
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_AUTHORITY_OWNERLESS`,
/// `WALLET_AUTHORITY_NO_APPROVALS`.
///
/// # Safety
/// `handle` must be a live wallet; `policy` readable for `policy_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_replace_policy(
    handle: *const wallet,
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
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(policy)?;
        out.require(WALLET_HASH_LEN)?;
        // Without owner approvals a replacement is refused: by the account's
        // owners' rule, or because the account has none.
        let hash = wallet.run(|w| {
            let policy = Policy::decode(policy)?;
            let request = w.admin_request(
                wallet_core::authority::AdminAction::ReplacePolicy,
                wallet_core::authority::replace_policy_params_hash(&policy.hash()),
                u64::MAX,
            )?;
            w.replace_policy(policy, &request, &[])
        })?;
        out.write(&hash)
    })
}

/// Writes the canonical encoding of the loaded account's signing policy
/// (at most `WALLET_POLICY_MAX_LEN` bytes; `wallet_policy_to_json` shows
/// it). Does not talk to the TPM.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_ACCOUNT_NOT_LOADED`, `WALLET_ACCOUNT_POLICY_UNBOUND` (an account
/// file from before signing policies).
///
/// # Safety
/// `handle` must be a live wallet; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_account_policy(
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
        let encoding = wallet.run(|w| {
            w.policy()?
                .map(Policy::to_bytes)
                .ok_or(wallet_core::wallet::WalletError::PolicyUnbound.into())
        })?;
        out.write(&encoding)
    })
}
