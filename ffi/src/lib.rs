//! The C ABI of flare-wallet: `libwallet.so` / `libwallet.a`, declared in
//! `include/wallet.h` (generated from this crate by cbindgen).
//!
//! Every `unsafe` block of the project lives in this crate or in the Python
//! binding, each with a `// SAFETY:` comment. The conventions (result codes,
//! handles, `(out, out_cap, out_len)` outputs, panic boundary) are written
//! down in `ffi/README.md`; [`boundary`] enforces them in one place.

use core::ffi::{c_char, CStr};

pub mod authority;
mod boundary;
pub mod evidence;
pub mod keystore;
pub mod policy;
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
pub const WALLET_EVIDENCE_MAX_LEN: usize = 2077;

/// A buffer of this many bytes always holds the text `wallet_backup`
/// writes, terminating NUL included: base64 of the longest backup (the
/// longest sealed-key file, every field at its bound, and for an account
/// with an anti-rollback counter the longest spend ledger).
pub const WALLET_BACKUP_MAX_LEN: usize = 439_665;

/// A canonical policy encoding (`wallet_policy_from_json`,
/// `wallet_account_policy`) is never longer than this many bytes (every list
/// of the policy full).
pub const WALLET_POLICY_MAX_LEN: usize = 8405;

/// The longest policy JSON text `wallet_policy_from_json` reads, in bytes.
pub const WALLET_POLICY_JSON_MAX_LEN: usize = 262_144;

/// A buffer of this many bytes always holds the keystore text
/// `wallet_export_keystore` writes, terminating NUL included; the export
/// functions require it.
pub const WALLET_KEYSTORE_MAX_LEN: usize = 505;

/// A buffer of this many bytes always holds the admin request JSON
/// `wallet_admin_request_*` writes, terminating NUL included.
pub const WALLET_ADMIN_REQUEST_MAX_LEN: usize = 640;

/// Length of one owner approval: an EIP-712 signature `r || s || v`.
pub const WALLET_APPROVAL_LEN: usize = 65;

/// The most owners an account has, and the most approvals one request
/// carries.
pub const WALLET_MAX_OWNERS: usize = 16;

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
    use wallet_core::{attest, keystore, policy, tpm};

    /// The header's constants are literals (cbindgen cannot evaluate the
    /// core's expressions); here they are checked against the core.
    #[test]
    fn constants_match_the_core() {
        assert_eq!(WALLET_EVIDENCE_MAX_LEN, attest::MAX_EVIDENCE_LEN);
        assert_eq!(
            WALLET_BACKUP_MAX_LEN,
            wallet_core::wallet::MAX_BACKUP_TEXT_LEN + 1
        );
        assert_eq!(WALLET_AK_NAME_LEN, attest::SHA256_NAME_LEN);
        assert_eq!(WALLET_AK_NAME_LEN, tpm::NAME_LEN);
        assert_eq!(WALLET_PCR_VALUE_LEN, attest::PCR_VALUE_LEN);
        assert_eq!(WALLET_MAX_PCRS, attest::MAX_PCRS);
        assert_eq!(WALLET_SIGNATURE_LEN, attest::WALLET_SIGNATURE_LEN);
        assert_eq!(WALLET_ADDRESS_LEN, attest::ADDRESS_LEN);
        assert_eq!(WALLET_APPROVAL_LEN, wallet_core::authority::APPROVAL_LEN);
        assert_eq!(WALLET_MAX_OWNERS, wallet_core::authority::MAX_OWNERS);
        assert_eq!(WALLET_MAX_OWNERS, wallet_core::authority::MAX_APPROVALS);
        assert_eq!(WALLET_POLICY_MAX_LEN, policy::MAX_ENCODED_LEN);
        assert_eq!(WALLET_POLICY_JSON_MAX_LEN, policy::json::MAX_JSON_LEN);
    }

    /// `WALLET_KEYSTORE_MAX_LEN` is the longest keystore an export can
    /// write: the written form of a keystore with one-digit KDF parameters,
    /// plus six more digits for each of scrypt's `n`, `r` and `p` (within the
    /// limits none reaches 2^23 < 10^7), plus the NUL; pbkdf2's one number
    /// (`c` at most 10^7, eight digits) and its `prf` take no more.
    #[test]
    fn keystore_max_len_covers_every_export() {
        let written = |kdf: &str| {
            let text = format!(
                r#"{{"address":"{a}","crypto":{{"cipher":"aes-128-ctr","cipherparams":{{"iv":"{iv}"}},"ciphertext":"{ct}",{kdf},"mac":"{ct}"}},"id":"{id}","version":3}}"#,
                a = "ab".repeat(20),
                iv = "cd".repeat(16),
                ct = "ef".repeat(32),
                id = "01234567-89ab-4def-8123-456789abcdef",
            );
            keystore::Keystore::from_json(&text)
                .unwrap()
                .to_json()
                .len()
        };
        let salt = "12".repeat(keystore::EXPORT_SALT_LEN);
        let scrypt = written(&format!(
            r#""kdf":"scrypt","kdfparams":{{"dklen":32,"n":2,"r":1,"p":1,"salt":"{salt}"}}"#
        ));
        let pbkdf2 = written(&format!(
            r#""kdf":"pbkdf2","kdfparams":{{"dklen":32,"c":1,"prf":"hmac-sha256","salt":"{salt}"}}"#
        ));
        // n <= 2^20; r <= memory / (128 n) with n >= 2; p <= work / (128 n r):
        // each below 10^7, seven digits. pbkdf2's c is at most eight.
        const {
            let seven_digits = 10_000_000;
            assert!(1u64 << keystore::limits::SCRYPT_MAX_LOG_N < seven_digits);
            assert!(keystore::limits::SCRYPT_MAX_MEMORY / 256 < seven_digits);
            assert!(keystore::limits::SCRYPT_MAX_WORK / 256 < seven_digits);
            assert!(keystore::limits::PBKDF2_MAX_ITERATIONS < 10 * seven_digits);
        }
        assert_eq!(WALLET_KEYSTORE_MAX_LEN, scrypt + 3 * 6 + 1);
        assert!(pbkdf2 + 7 < WALLET_KEYSTORE_MAX_LEN);
    }
}
