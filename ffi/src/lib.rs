//! The C ABI of flare-wallet: `libwallet.so` / `libwallet.a`, declared in
//! `include/wallet.h` (generated from this crate by cbindgen).
//!
//! Every `unsafe` block of the project lives in this crate or in the Python
//! binding, each with a `// SAFETY:` comment. The conventions (result codes,
//! handles, `(out, out_cap, out_len)` outputs, panic boundary) are written
//! down in `ffi/README.md`; [`boundary`] enforces them in one place.

use core::ffi::{c_char, CStr};

mod boundary;
pub mod evidence;
pub mod result;
pub mod signer;
pub mod transaction;
pub mod wallet;

pub use wallet_core;

/// Length of an Ethereum address in bytes.
pub const WALLET_ADDRESS_LEN: usize = 20;

/// Length of an EIP-55 checksummed address string, `0x` included, without
/// the terminating NUL (a buffer for it needs one byte more).
pub const WALLET_CHECKSUM_ADDRESS_LEN: usize = 42;

/// Length of a secp256k1 secret key in bytes.
pub const WALLET_SECRET_KEY_LEN: usize = 32;

/// Length of a Keccak-256 hash (and of an EIP-712 domain separator or
/// struct hash) in bytes.
pub const WALLET_HASH_LEN: usize = 32;

/// Length of a message signature `r || s || v` in bytes.
pub const WALLET_SIGNATURE_LEN: usize = 65;

/// A signed transaction is never more than this many bytes longer than its
/// unsigned signing payload, so `payload_len + WALLET_SIGNED_TX_MAX_OVERHEAD`
/// bytes always suffice for `wallet_signer_sign_transaction`.
///
/// Why 73: a typed transaction gains `yParity, r, s` (at most 1 + 33 + 33
/// bytes) and its list header at most 1 byte; a legacy one swaps
/// `chainId, 0, 0` (at least 3 bytes) for `v, r, s` (at most 9 + 33 + 33)
/// and its header grows by at most 1: 75 - 3 + 1 = 73.
pub const WALLET_SIGNED_TX_MAX_OVERHEAD: usize = 73;

/// Attestation evidence from `wallet_attest` is never longer than this
/// many bytes (every variable field of the encoding at its bound).
pub const WALLET_EVIDENCE_MAX_LEN: usize = 2003;

/// A buffer of this many bytes always holds the text `wallet_backup`
/// writes, terminating NUL included: base64 of the longest sealed-key file
/// (every field at its bound, the largest signing policy included).
pub const WALLET_BACKUP_MAX_LEN: usize = 8477;

/// Length of an attestation key Name: a 2-byte algorithm and a SHA-256
/// digest.
pub const WALLET_AK_NAME_LEN: usize = 34;

/// Length of a SHA-256 PCR value.
pub const WALLET_PCR_VALUE_LEN: usize = 32;

/// Most PCR values evidence can carry (one per bit of a 32-bit selection).
pub const WALLET_MAX_PCRS: usize = 32;

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the crate version contains a NUL byte"),
    };

/// The library version (`major.minor.patch`), as a static NUL-terminated
/// string that must not be freed.
#[no_mangle]
pub extern "C" fn wallet_version() -> *const c_char {
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::{attest, backup, tpm};

    /// The header's constants are literals (cbindgen cannot evaluate the
    /// core's expressions); here they are checked against the core.
    #[test]
    fn constants_match_the_core() {
        assert_eq!(WALLET_EVIDENCE_MAX_LEN, attest::MAX_EVIDENCE_LEN);
        assert_eq!(
            WALLET_BACKUP_MAX_LEN,
            backup::MAX_FILE_LEN.div_ceil(3) * 4 + 1
        );
        assert_eq!(WALLET_AK_NAME_LEN, attest::SHA256_NAME_LEN);
        assert_eq!(WALLET_AK_NAME_LEN, tpm::NAME_LEN);
        assert_eq!(WALLET_PCR_VALUE_LEN, attest::PCR_VALUE_LEN);
        assert_eq!(WALLET_MAX_PCRS, attest::MAX_PCRS);
        assert_eq!(WALLET_SIGNATURE_LEN, attest::WALLET_SIGNATURE_LEN);
        assert_eq!(WALLET_ADDRESS_LEN, attest::ADDRESS_LEN);
    }
}
