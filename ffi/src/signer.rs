//! The in-memory signer: a secp256k1 key held in library memory, for hosts
//! that handle key custody themselves (and for the constant-time test).
//!
//! A `wallet_signer` is immutable once made, so one handle may be used by
//! several threads at once; freeing it while another thread uses it is the
//! caller's bug, as with any C object.

#![allow(non_camel_case_types)]

use wallet_core::policy::{worst_case_spend, Policy};
use wallet_core::signer::{eip712_hash, SecretKey};
use wallet_core::tx;
use zeroize::Zeroizing;

use crate::boundary::{
    array_in, bytes_in, catch_or, guard, handle_free, handle_ref, BytesOut, HandleOut,
};
use crate::result::wallet_result::{self, *};
use crate::transaction::refuse_unprotected;

/// A secp256k1 secret key held by the library. Opaque: C code only ever
/// holds a pointer to it. Made by `wallet_signer_from_bytes` or
/// `wallet_signer_generate`, released (and wiped) by `wallet_signer_free`.
pub struct wallet_signer {
    key: SecretKey,
}

/// Makes a signer from a 32-byte big-endian secret key.
///
/// The library keeps its own copy; the caller should wipe `secret` as soon
/// as this returns. `*signer_out` is set only on success and must be
/// released with `wallet_signer_free`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH`
/// (`secret_len` is not 32), `WALLET_SIGNER_INVALID_SECRET_KEY` (zero, or not
/// below the curve order).
///
/// # Safety
/// `secret` must be readable for `secret_len` bytes and `signer_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_from_bytes(
    secret: *const u8,
    secret_len: usize,
    signer_out: *mut *mut wallet_signer,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let secret =
            unsafe { array_in::<32>(secret, secret_len, WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH) }?;
        // SAFETY: the caller's contract above.
        let signer_out = unsafe { HandleOut::new(signer_out) }?;
        let key = SecretKey::from_bytes(secret)?;
        signer_out.set(wallet_signer { key });
        Ok(())
    })
}

/// Makes a signer with a fresh key from the operating system's random
/// number generator (uniform over `[1, n)` by rejection sampling).
///
/// `*signer_out` is set only on success and must be released with
/// `wallet_signer_free`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_RANDOM_FAILED`.
///
/// # Safety
/// `signer_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_generate(
    signer_out: *mut *mut wallet_signer,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let signer_out = unsafe { HandleOut::new(signer_out) }?;
        let key = random_key()?;
        signer_out.set(wallet_signer { key });
        Ok(())
    })
}

/// Draws 32 bytes until they form a valid scalar. A draw is rejected with
/// probability below 2^-127, so the loop ends at once in practice; it is
/// still bounded so that a broken entropy source cannot hang the caller.
fn random_key() -> Result<SecretKey, wallet_result> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    for _ in 0..64 {
        getrandom::getrandom(bytes.as_mut_slice()).map_err(|_| WALLET_RANDOM_FAILED)?;
        if let Ok(key) = SecretKey::from_bytes(&bytes) {
            return Ok(key);
        }
    }
    Err(WALLET_RANDOM_FAILED)
}

/// Writes the signer's 20-byte address (`WALLET_ADDRESS_LEN`).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `signer` must be a live handle; `out` writable for `out_cap` bytes;
/// `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_address(
    signer: *const wallet_signer,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let signer = unsafe { handle_ref(signer) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.write(&signer.key.address().0)
    })
}

/// Signs a transaction: `payload` is the unsigned signing payload of any
/// supported type (`type || rlp([...])` for EIP-2930, 1559, 4844 and 7702;
/// the 9-field EIP-155 list for legacy), as any Ethereum library serialises
/// it for signing. The payload is decoded strictly, its Keccak-256 signed,
/// and the signed transaction (the EIP-2718 envelope, or the legacy RLP list
/// with `v`) written to `out`: the bytes `eth_sendRawTransaction` takes.
///
/// A pre-EIP-155 legacy payload (the 6-field list, without a chain id) is
/// refused with `WALLET_TX_UNPROTECTED`: its signature would be valid on
/// every chain. (`wallet_decode_transaction` still decodes it, with
/// `has_chain_id` false.)
///
/// The signed form is at most `payload_len + WALLET_SIGNED_TX_MAX_OVERHEAD`
/// bytes. With a smaller `out_cap` the call fails with
/// `WALLET_BUFFER_TOO_SMALL` and the exact length in `*out_len` (signing is
/// deterministic, so a second call gives the same bytes).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `payload`), `WALLET_BUFFER_TOO_SMALL`, any `WALLET_RLP_*` or
/// `WALLET_TX_*` decoding error, `WALLET_TX_UNPROTECTED`,
/// `WALLET_SIGNER_SIGNING_FAILED`.
///
/// # Safety
/// `signer` must be a live handle; `payload` readable for `payload_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_sign_transaction(
    signer: *const wallet_signer,
    payload: *const u8,
    payload_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let signer = unsafe { handle_ref(signer) }?;
        // SAFETY: the caller's contract above.
        let payload = unsafe { bytes_in(payload, payload_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(payload)?;
        let signed = sign_payload(&signer.key, payload)?;
        out.write(&signed)
    })
}

/// Signs a transaction as `wallet_signer_sign_transaction` does, once it
/// has passed every rule of `policy` (a canonical policy encoding, from
/// `wallet_policy_from_json`): nothing is signed when a rule refuses, and
/// the call returns the rule's `WALLET_POLICY_*` code.
///
/// The policy decides about a pre-EIP-155 payload: it is signed only if
/// `allow_unprotected` is set (`WALLET_POLICY_UNPROTECTED_NOT_ALLOWED`
/// otherwise), and then `chain_ids` does not apply to it. The signer keeps
/// no history, so `daily_limit_wei` is checked against this one
/// transaction alone (its value plus its maximum fee); only the TPM wallet
/// adds up the spends of the last 24 hours.
///
/// Errors: as `wallet_signer_sign_transaction` (but `WALLET_TX_UNPROTECTED`
/// becomes the policy's decision), `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `policy`), `WALLET_POLICY_*` (82x: a malformed encoding; 80x-81x:
/// a rule refused).
///
/// # Safety
/// `signer` must be a live handle; `policy` readable for `policy_len`
/// bytes; `payload` readable for `payload_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_sign_transaction_with_policy(
    signer: *const wallet_signer,
    policy: *const u8,
    policy_len: usize,
    payload: *const u8,
    payload_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let signer = unsafe { handle_ref(signer) }?;
        // SAFETY: the caller's contract above.
        let policy = unsafe { bytes_in(policy, policy_len) }?;
        // SAFETY: the caller's contract above.
        let payload = unsafe { bytes_in(payload, payload_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(policy)?;
        out.disjoint_from(payload)?;
        let policy = Policy::decode(policy)?;
        let signed = sign_payload_with_policy(&signer.key, payload, &policy)?;
        out.write(&signed)
    })
}

/// Decodes, signs and encodes into a library-owned buffer, so the caller's
/// buffer is written only once everything has succeeded.
fn sign_payload(key: &SecretKey, payload: &[u8]) -> Result<Vec<u8>, wallet_result> {
    let transaction = tx::decode_unsigned(payload)?;
    refuse_unprotected(&transaction)?;
    let signature = transaction.sign(key)?;
    let needed = transaction.encoded_signed_len(&signature)?;
    let mut signed = vec![0u8; needed];
    let written = transaction.encode_signed(&signature, &mut signed)?;
    signed.truncate(written);
    Ok(signed)
}

/// As [`sign_payload`], with `policy` deciding instead of the blanket
/// refusal of unprotected payloads. Written apart from it, so that the path
/// of `wallet_signer_sign_transaction`, whose inlined shape the
/// constant-time check's allow-list (tests/c/ctime_signer.supp) names, does
/// not change with this one.
fn sign_payload_with_policy(
    key: &SecretKey,
    payload: &[u8],
    policy: &Policy,
) -> Result<Vec<u8>, wallet_result> {
    let transaction = tx::decode_unsigned(payload)?;
    // The system clock, for a Permit2 approval's expiration.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    policy.decide_transaction_at(&transaction, now)?;
    policy.check_daily_limit(
        transaction.chain_id(),
        tx::U256::ZERO,
        worst_case_spend(&transaction),
    )?;
    let signature = key.sign_hash(&transaction.signature_hash()?)?;
    let needed = transaction.encoded_signed_len(&signature)?;
    let mut signed = vec![0u8; needed];
    let written = transaction.encode_signed(&signature, &mut signed)?;
    signed.truncate(written);
    Ok(signed)
}

/// Signs `message` as `personal_sign` does (EIP-191 version 0x45:
/// Keccak-256 of `"\x19Ethereum Signed Message:\n" || len || message`) and
/// writes the 65-byte signature `r || s || v` with `v` = 27 or 28
/// (`WALLET_SIGNATURE_LEN`). An empty message may be passed as `(NULL, 0)`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `message`), `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_SIGNER_SIGNING_FAILED`.
///
/// # Safety
/// `signer` must be a live handle; `message` readable for `message_len`
/// bytes; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_sign_message(
    signer: *const wallet_signer,
    message: *const u8,
    message_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let signer = unsafe { handle_ref(signer) }?;
        // SAFETY: the caller's contract above.
        let message = unsafe { bytes_in(message, message_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(message)?;
        let signature = signer.key.sign_message(message)?;
        out.write(&signature.to_rsv_bytes())
    })
}

/// Signs EIP-712 typed data given its two hashes: the digest is
/// `keccak256(0x19 0x01 || domain_separator || struct_hash)`. Both inputs
/// must be 32 bytes (`WALLET_HASH_LEN`). Writes `r || s || v` (65 bytes,
/// `v` = 27 or 28), as `eth_signTypedData_v4` returns it.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (a hash is not
/// 32 bytes, or `out` overlaps an input), `WALLET_BUFFER_TOO_SMALL`,
/// `WALLET_SIGNER_SIGNING_FAILED`.
///
/// # Safety
/// `signer` must be a live handle; the two hashes readable for their
/// lengths; `out` writable for `out_cap` bytes; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_sign_typed_data_hash(
    signer: *const wallet_signer,
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
        let signer = unsafe { handle_ref(signer) }?;
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
        let digest = eip712_hash(domain_separator, struct_hash);
        let signature = signer.key.sign_hash(&digest)?;
        out.write(&signature.to_rsv_bytes())
    })
}

/// Releases a signer and wipes its key. NULL is ignored. The handle must not
/// be used again.
///
/// # Safety
/// `signer` must be NULL or a live handle from `wallet_signer_from_bytes` or
/// `wallet_signer_generate`, not already freed.
#[no_mangle]
pub unsafe extern "C" fn wallet_signer_free(signer: *mut wallet_signer) {
    // The key's own `Drop` overwrites the scalar before the memory is freed.
    // SAFETY: the caller's contract above.
    catch_or((), || unsafe { handle_free(signer) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_differ() {
        let a = random_key().unwrap();
        let b = random_key().unwrap();
        assert_ne!(a.address(), b.address());
    }
}
