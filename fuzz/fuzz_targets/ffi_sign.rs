//! The C ABI entry points over arbitrary buffers and lengths.
//!
//! Input: one byte picks the function (its low 7 bits mod 5; bit 7: an
//! empty input or a zero-capacity output is passed as NULL), two bytes give
//! `out_cap`, the rest is the payload. Each call is checked against the core
//! doing the same work directly:
//! - `wallet_signer_sign_transaction` (fixed key) writes exactly what
//!   `tx::sign_unsigned` produces, and refuses a pre-EIP-155 payload with
//!   `WALLET_TX_UNPROTECTED`;
//! - `wallet_signer_sign_transaction_with_policy` (payload: a 2-byte policy
//!   length, the policy encoding, the signing payload) signs only what
//!   `Policy::decode` and `check_transaction` accept, and what it writes
//!   decodes to the same transaction and recovers to the key's address;
//! - `wallet_decode_transaction` / `wallet_decode_signed_transaction`
//!   succeed exactly when the core decodes and hashes the payload, with the
//!   same type, nonce and chain id;
//! - `wallet_recover_sender` writes the address the core recovers.
//!
//! Outputs are written only on success: on any error the output buffer and
//! the decoded struct keep their canary bytes, and `*out_len` is untouched
//! except for `WALLET_BUFFER_TOO_SMALL`, where it holds the length needed.
//! Bytes past `*out_len` are never written.
#![no_main]

use core::ptr;

use libfuzzer_sys::fuzz_target;
use wallet::result::wallet_result::{
    self, WALLET_BUFFER_TOO_SMALL, WALLET_OK, WALLET_TX_UNPROTECTED,
};
use wallet::signer::{
    wallet_signer, wallet_signer_free, wallet_signer_from_bytes, wallet_signer_sign_transaction,
    wallet_signer_sign_transaction_with_policy,
};
use wallet::transaction::{
    wallet_decode_signed_transaction, wallet_decode_transaction, wallet_recover_sender,
    wallet_transaction,
};
use wallet_core::policy::Policy;
use wallet_core::signer::SecretKey;
use wallet_core::tx;

const KEY: [u8; 32] = [0x4c; 32];
const CANARY: u8 = 0xa5;
const LEN_CANARY: usize = usize::MAX - 7;
/// Larger than any signed transaction a fuzz input can produce.
const MAX_OUT: usize = 1 << 16;

fn canary_transaction() -> wallet_transaction {
    wallet_transaction {
        chain_id: 0xa5a5,
        nonce: 0xa5a5,
        gas_limit: 0xa5a5,
        input_len: 0xa5a5,
        access_list_len: 0xa5a5,
        blob_hash_count: 0xa5a5,
        authorization_count: 0xa5a5,
        gas_price: [CANARY; 32],
        max_fee_per_gas: [CANARY; 32],
        max_priority_fee_per_gas: [CANARY; 32],
        max_fee_per_blob_gas: [CANARY; 32],
        value: [CANARY; 32],
        signing_hash: [CANARY; 32],
        tx_hash: [CANARY; 32],
        signature_r: [CANARY; 32],
        signature_s: [CANARY; 32],
        to: [CANARY; 20],
        tx_type: CANARY,
        has_chain_id: true,
        has_to: true,
        is_signed: true,
        y_parity: CANARY,
        reserved: [CANARY; 7],
    }
}

/// Checks an `(out, out_cap, out_len)` call against the bytes the core
/// produced (`None`: the core failed).
fn check_bytes_out(
    result: wallet_result,
    expected: Option<&[u8]>,
    out: &[u8],
    cap: usize,
    out_len: usize,
) {
    match expected {
        Some(bytes) if bytes.len() <= cap => {
            assert_eq!(result, WALLET_OK);
            assert_eq!(out_len, bytes.len());
            assert_eq!(&out[..bytes.len()], bytes);
            assert!(
                out[bytes.len()..].iter().all(|&b| b == CANARY),
                "wrote past out_len"
            );
        }
        Some(bytes) => {
            assert_eq!(result, WALLET_BUFFER_TOO_SMALL);
            assert_eq!(out_len, bytes.len(), "out_len must hold the length needed");
            assert!(out.iter().all(|&b| b == CANARY), "wrote to a short buffer");
        }
        None => {
            assert_ne!(result, WALLET_OK);
            assert_eq!(out_len, LEN_CANARY, "out_len written on failure");
            assert!(
                out.iter().all(|&b| b == CANARY),
                "output written on failure"
            );
        }
    }
}

fn new_signer() -> *mut wallet_signer {
    let mut signer: *mut wallet_signer = ptr::null_mut();
    // SAFETY: KEY is 32 readable bytes; `signer` is a writable pointer.
    let made = unsafe { wallet_signer_from_bytes(KEY.as_ptr(), KEY.len(), &mut signer) };
    assert_eq!(made, WALLET_OK);
    signer
}

fuzz_target!(|data: &[u8]| {
    let [mode, cap_hi, cap_lo, payload @ ..] = data else {
        return;
    };
    let cap = usize::from(u16::from_be_bytes([*cap_hi, *cap_lo]));
    let null_when_empty = mode & 0x80 != 0;
    let payload_ptr = if payload.is_empty() && null_when_empty {
        ptr::null()
    } else {
        payload.as_ptr()
    };
    let mut out = vec![CANARY; cap.min(MAX_OUT)];
    let cap = out.len();
    let out_ptr = if cap == 0 && null_when_empty {
        ptr::null_mut()
    } else {
        out.as_mut_ptr()
    };
    let mut out_len = LEN_CANARY;

    match (mode & 0x7f) % 5 {
        0 => {
            let key = SecretKey::from_bytes(&KEY).expect("a valid scalar");
            let mut reference = vec![0u8; MAX_OUT];
            let unprotected = tx::decode_unsigned(payload).is_ok_and(|t| t.chain_id().is_none());
            let expected = tx::sign_unsigned(payload, &key, &mut reference)
                .ok()
                .filter(|_| !unprotected)
                .map(|n| &reference[..n]);
            let signer = new_signer();
            // SAFETY: a live handle; the payload and output buffers are
            // readable/writable for the lengths passed, and do not overlap.
            let result = unsafe {
                wallet_signer_sign_transaction(
                    signer,
                    payload_ptr,
                    payload.len(),
                    out_ptr,
                    cap,
                    &mut out_len,
                )
            };
            // SAFETY: the handle made above, freed once.
            unsafe { wallet_signer_free(signer) };
            if unprotected {
                assert_eq!(result, WALLET_TX_UNPROTECTED);
            }
            check_bytes_out(result, expected, &out, cap, out_len);
        }
        4 => {
            let Some((len, rest)) = payload.split_first_chunk::<2>() else {
                return;
            };
            let policy_len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
            let (policy, transaction) = rest.split_at(policy_len);
            let signer = new_signer();
            // SAFETY: as above; the policy is readable for its length.
            let result = unsafe {
                wallet_signer_sign_transaction_with_policy(
                    signer,
                    policy.as_ptr(),
                    policy.len(),
                    transaction.as_ptr(),
                    transaction.len(),
                    out_ptr,
                    cap,
                    &mut out_len,
                )
            };
            // SAFETY: the handle made above, freed once.
            unsafe { wallet_signer_free(signer) };
            if result != WALLET_OK && result != WALLET_BUFFER_TOO_SMALL {
                check_bytes_out(result, None, &out, cap, out_len);
                return;
            }
            let policy =
                Policy::decode(policy).expect("signed under a policy that does not decode");
            let unsigned =
                tx::decode_unsigned(transaction).expect("signed a payload that does not decode");
            assert!(
                policy.check_transaction(&unsigned).is_ok(),
                "signed what the policy refuses"
            );
            if result == WALLET_OK {
                let signed = tx::decode_signed(&out[..out_len]).expect("the output decodes");
                assert_eq!(signed.transaction(), &unsigned);
                let key = SecretKey::from_bytes(&KEY).expect("a valid scalar");
                assert_eq!(signed.recover_sender(), Ok(key.address()));
                assert!(
                    out[out_len..].iter().all(|&b| b == CANARY),
                    "wrote past out_len"
                );
            } else {
                assert!(out_len > cap && out.iter().all(|&b| b == CANARY));
            }
        }
        1 | 2 => {
            let signed = (mode & 0x7f) % 5 == 2;
            let reference = if signed {
                tx::decode_signed(payload).map(|s| *s.transaction())
            } else {
                tx::decode_unsigned(payload)
            };
            let expected = reference.ok().filter(|tx| tx.signature_hash().is_ok());
            let mut decoded = canary_transaction();
            // SAFETY: the payload is readable for its length; `decoded` is writable.
            let result = unsafe {
                if signed {
                    wallet_decode_signed_transaction(payload_ptr, payload.len(), &mut decoded)
                } else {
                    wallet_decode_transaction(payload_ptr, payload.len(), &mut decoded)
                }
            };
            match expected {
                Some(tx) => {
                    assert_eq!(result, WALLET_OK);
                    assert_eq!(decoded.tx_type, tx.tx_type() as u8);
                    assert_eq!(decoded.nonce, tx.nonce());
                    assert_eq!(decoded.chain_id, tx.chain_id().unwrap_or(0));
                    assert_eq!(decoded.is_signed, signed);
                    assert_eq!(decoded.reserved, [0; 7]);
                }
                None => {
                    assert_ne!(result, WALLET_OK);
                    assert_eq!(
                        decoded,
                        canary_transaction(),
                        "decoded struct written on failure"
                    );
                }
            }
        }
        _ => {
            let expected = tx::decode_signed(payload)
                .ok()
                .and_then(|s| s.recover_sender().ok());
            // SAFETY: as above.
            let result = unsafe {
                wallet_recover_sender(payload_ptr, payload.len(), out_ptr, cap, &mut out_len)
            };
            check_bytes_out(
                result,
                expected.as_ref().map(|a| &a.0[..]),
                &out,
                cap,
                out_len,
            );
        }
    }
});
