//! The C ABI of flare-wallet: `libwallet.so` / `libwallet.a`, declared in
//! `include/wallet.h` (generated from this crate by cbindgen).
//!
//! Every `unsafe` block of the project lives in this crate or in the Python
//! binding, each with a `// SAFETY:` comment. The conventions (result codes,
//! handles, `(out, out_cap, out_len)` outputs, panic boundary) are written
//! down in `ffi/README.md`; [`boundary`] enforces them in one place.

use core::ffi::{c_char, CStr};

mod boundary;
pub mod result;
pub mod signer;
pub mod transaction;

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
