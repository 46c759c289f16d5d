//! For hosts that check what they sign: decode a transaction into plain C
//! fields, recover the sender of a signed one, format an address.

#![allow(non_camel_case_types)]

use core::ffi::c_char;

use wallet_core::signer::Address;
use wallet_core::tx::{self, TypedTransaction};

use crate::boundary::{array_in, bytes_in, guard, BytesOut, ValueOut};
use crate::result::wallet_result::{self, *};

/// The scalar fields of a decoded transaction. Filled by
/// `wallet_decode_transaction` (an unsigned signing payload) and
/// `wallet_decode_signed_transaction` (a signed transaction).
///
/// 256-bit quantities are 32 bytes, big-endian. A field a transaction type
/// does not have is all zeros:
///
/// | field | types |
/// | --- | --- |
/// | `gas_price` | 0 (legacy), 1 (EIP-2930) |
/// | `max_fee_per_gas`, `max_priority_fee_per_gas` | 2, 3, 4 |
/// | `access_list_len` | 1, 2, 3, 4 |
/// | `max_fee_per_blob_gas`, `blob_hash_count` | 3 (EIP-4844) |
/// | `authorization_count` | 4 (EIP-7702) |
///
/// Variable-length parts (calldata, access list entries, blob hashes,
/// authorizations) are given as counts only.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wallet_transaction {
    /// The chain id; 0 when `has_chain_id` is false (pre-EIP-155 legacy).
    pub chain_id: u64,
    /// The sender's nonce.
    pub nonce: u64,
    /// The gas limit.
    pub gas_limit: u64,
    /// Length of the calldata (init code for contract creation), in bytes.
    pub input_len: u64,
    /// Number of access list entries (addresses).
    pub access_list_len: u64,
    /// Number of blob versioned hashes.
    pub blob_hash_count: u64,
    /// Number of EIP-7702 authorizations.
    pub authorization_count: u64,
    /// `gasPrice`, in wei.
    pub gas_price: [u8; 32],
    /// `maxFeePerGas`, in wei.
    pub max_fee_per_gas: [u8; 32],
    /// `maxPriorityFeePerGas`, in wei.
    pub max_priority_fee_per_gas: [u8; 32],
    /// `maxFeePerBlobGas`, in wei.
    pub max_fee_per_blob_gas: [u8; 32],
    /// The wei transferred.
    pub value: [u8; 32],
    /// Keccak-256 of the signing payload: the hash that is (or was) signed.
    pub signing_hash: [u8; 32],
    /// Signed only: the transaction hash, Keccak-256 of the signed bytes.
    pub tx_hash: [u8; 32],
    /// Signed only: the signature's `r`.
    pub signature_r: [u8; 32],
    /// Signed only: the signature's `s` (always low-s).
    pub signature_s: [u8; 32],
    /// The recipient; all zeros when `has_to` is false.
    pub to: [u8; 20],
    /// The EIP-2718 type: 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844,
    /// 4 EIP-7702.
    pub tx_type: u8,
    /// False only for a pre-EIP-155 legacy transaction (no replay protection).
    pub has_chain_id: bool,
    /// False for contract creation (an empty `to`).
    pub has_to: bool,
    /// Whether this came from `wallet_decode_signed_transaction`.
    pub is_signed: bool,
    /// Signed only: the recovery parity, 0 or 1 (for legacy `v` this is
    /// `v - 27` or `v - 35 - 2 * chain_id`).
    pub y_parity: u8,
    /// Always zero; makes the padding explicit so no byte is left undefined.
    pub reserved: [u8; 7],
}

impl wallet_transaction {
    fn from_typed(tx: &TypedTransaction<'_>) -> Result<Self, wallet_result> {
        let count = |n: usize| u64::try_from(n).map_err(|_| WALLET_TX_TOO_LARGE);
        let mut out = Self {
            chain_id: tx.chain_id().unwrap_or(0),
            nonce: tx.nonce(),
            gas_limit: tx.gas_limit(),
            input_len: count(tx.input().len())?,
            access_list_len: count(tx.access_list().len())?,
            blob_hash_count: count(tx.blob_versioned_hashes().map_or(0, |h| h.len()))?,
            authorization_count: count(tx.authorization_list().map_or(0, |a| a.len()))?,
            gas_price: [0; 32],
            max_fee_per_gas: [0; 32],
            max_priority_fee_per_gas: [0; 32],
            max_fee_per_blob_gas: [0; 32],
            value: tx.value().to_be_bytes(),
            signing_hash: tx.signature_hash()?,
            tx_hash: [0; 32],
            signature_r: [0; 32],
            signature_s: [0; 32],
            to: tx.to().address().map_or([0; 20], |a| a.0),
            tx_type: tx.tx_type() as u8,
            has_chain_id: tx.chain_id().is_some(),
            has_to: !tx.to().is_create(),
            is_signed: false,
            y_parity: 0,
            reserved: [0; 7],
        };
        match tx.max_priority_fee_per_gas() {
            // Types 0 and 1: one gas price.
            None => out.gas_price = tx.max_fee_per_gas().to_be_bytes(),
            // Types 2, 3 and 4: the fee market.
            Some(priority_fee) => {
                out.max_fee_per_gas = tx.max_fee_per_gas().to_be_bytes();
                out.max_priority_fee_per_gas = priority_fee.to_be_bytes();
            }
        }
        if let TypedTransaction::Eip4844(blob) = tx {
            out.max_fee_per_blob_gas = blob.max_fee_per_blob_gas.to_be_bytes();
        }
        Ok(out)
    }
}

/// Refuses a pre-EIP-155 legacy transaction (no chain id) for signing.
///
/// DESIGN.md: no unprotected transaction is signed unless a policy allows it
/// explicitly, and the in-memory signer has no policy (the TPM wallet checks
/// its account's). Such a transaction is valid on every chain, so a
/// signature on it can be replayed anywhere.
pub(crate) fn refuse_unprotected(transaction: &TypedTransaction<'_>) -> Result<(), wallet_result> {
    if transaction.chain_id().is_none() {
        return Err(WALLET_TX_UNPROTECTED);
    }
    Ok(())
}

/// Decodes an unsigned signing payload (the input of
/// `wallet_signer_sign_transaction`) into `*tx_out`, so a host can check
/// what it is about to sign. The rules are the signers' own: what fails
/// here fails there with the same code, and what decodes here is what would
/// be signed, except a pre-EIP-155 legacy payload (`has_chain_id` false),
/// which decodes but is refused for signing (`WALLET_TX_UNPROTECTED`).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`tx_out`
/// overlaps `payload`), any `WALLET_RLP_*` or `WALLET_TX_*` decoding error.
///
/// # Safety
/// `payload` must be readable for `payload_len` bytes and `tx_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_decode_transaction(
    payload: *const u8,
    payload_len: usize,
    tx_out: *mut wallet_transaction,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let payload = unsafe { bytes_in(payload, payload_len) }?;
        // SAFETY: the caller's contract above.
        let tx_out = unsafe { ValueOut::new(tx_out) }?;
        tx_out.disjoint_from(payload)?;
        let decoded = tx::decode_unsigned(payload)?;
        tx_out.set(wallet_transaction::from_typed(&decoded)?);
        Ok(())
    })
}

/// Decodes a signed transaction (an EIP-2718 envelope or a legacy RLP list,
/// as `eth_sendRawTransaction` takes it) into `*tx_out`, with the signature,
/// signing hash and transaction hash. The signature is range-checked (low
/// `s`, valid `v`/`yParity`) but the sender is not recovered: see
/// `wallet_recover_sender`.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`tx_out`
/// overlaps `raw`), any `WALLET_RLP_*` or `WALLET_TX_*` decoding error.
///
/// # Safety
/// `raw` must be readable for `raw_len` bytes and `tx_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_decode_signed_transaction(
    raw: *const u8,
    raw_len: usize,
    tx_out: *mut wallet_transaction,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let raw = unsafe { bytes_in(raw, raw_len) }?;
        // SAFETY: the caller's contract above.
        let tx_out = unsafe { ValueOut::new(tx_out) }?;
        tx_out.disjoint_from(raw)?;
        let signed = tx::decode_signed(raw)?;
        let signature = signed.signature();
        let mut info = wallet_transaction::from_typed(signed.transaction())?;
        info.is_signed = true;
        info.tx_hash = signed.hash();
        info.signature_r = signature.r;
        info.signature_s = signature.s;
        info.y_parity = u8::from(signature.y_parity);
        tx_out.set(info);
        Ok(())
    })
}

/// Recovers the 20-byte address that signed a signed transaction
/// (`WALLET_ADDRESS_LEN` bytes to `out`).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`out`
/// overlaps `raw`), `WALLET_BUFFER_TOO_SMALL`, any `WALLET_RLP_*` or
/// `WALLET_TX_*` decoding error, `WALLET_TX_RECOVERY_FAILED`.
///
/// # Safety
/// `raw` must be readable for `raw_len` bytes, `out` writable for `out_cap`
/// bytes and `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_recover_sender(
    raw: *const u8,
    raw_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let raw = unsafe { bytes_in(raw, raw_len) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(raw)?;
        let sender = tx::decode_signed(raw)?.recover_sender()?;
        out.write(&sender.0)
    })
}

/// Formats a 20-byte address in its EIP-55 mixed-case checksum form,
/// `0x` included: 42 characters (`WALLET_CHECKSUM_ADDRESS_LEN`) and a
/// terminating NUL, so `out_cap` must be at least 43. `*out_len` receives
/// 42, the length without the NUL.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER` (`address_len`
/// is not 20, or `out` overlaps `address`), `WALLET_BUFFER_TOO_SMALL`
/// (`*out_len` is then 43, the capacity needed).
///
/// # Safety
/// `address` must be readable for `address_len` bytes, `out` writable for
/// `out_cap` bytes and `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_address_checksum(
    address: *const u8,
    address_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let address = unsafe { array_in::<20>(address, address_len, WALLET_INVALID_PARAMETER) }?;
        // SAFETY: the caller's contract above.
        let out = unsafe { BytesOut::new(out, out_cap, out_len) }?;
        out.disjoint_from(address)?;
        out.write_c_string(&Address(*address).checksum())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed header asserts these numbers to the C compiler; here the
    /// same numbers are checked against the Rust definition.
    #[test]
    fn header_layout_assertions_match_rust() {
        let header = include_str!("../../include/wallet.h");
        let size = format!(
            "sizeof(wallet_transaction) == {}",
            size_of::<wallet_transaction>()
        );
        assert!(header.contains(&size), "wallet.h lacks `{size}`");
        assert!(header.contains("WALLET_ALIGNOF(wallet_transaction) == WALLET_ALIGNOF(uint64_t)"));
        assert_eq!(align_of::<wallet_transaction>(), align_of::<u64>());
        assert!(header.contains("sizeof(wallet_result) == 4"));
        assert_eq!(size_of::<wallet_result>(), 4);
    }
}
