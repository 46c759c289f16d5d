//! The TPM key derivation functions, SHA-256 only.
//!
//! - KDFa (TPM 2.0 Library Part 1, section 11.4.10.2): SP 800-108 counter mode
//!   with HMAC. Session keys (`"ATH"`) and parameter-encryption keys (`"CFB"`).
//! - KDFe (Part 1, section 11.4.10.3): the SP 800-56A concatenation KDF. The salt
//!   of an ECC-salted session (`"SECRET"`).
//!
//! In both, the label is followed by one zero octet, as the specification adds
//! it when the label does not already end in one.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC-SHA-256 keyed with `key`.
pub(crate) fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // HMAC hashes long keys and pads short ones: no key length is refused.
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// KDFa(SHA-256, `key`, `label`, `context_u`, `context_v`, `out.len() * 8`).
///
/// Fills `out` with `K(1) || K(2) || ...` where
/// `K(i) = HMAC(key, i || label || 0x00 || context_u || context_v || bits)`,
/// `i` and `bits` as 32-bit big-endian numbers.
pub fn kdfa(key: &[u8], label: &[u8], context_u: &[u8], context_v: &[u8], out: &mut [u8]) {
    let bits = u32::try_from(out.len().saturating_mul(8)).unwrap_or(u32::MAX);
    for (counter, chunk) in (1u32..).zip(out.chunks_mut(32)) {
        let mut mac = hmac_sha256(key);
        mac.update(&counter.to_be_bytes());
        mac.update(label);
        mac.update(&[0]);
        mac.update(context_u);
        mac.update(context_v);
        mac.update(&bits.to_be_bytes());
        let block = mac.finalize().into_bytes();
        chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or(&[]));
    }
}

/// KDFe(SHA-256, `z`, `label`, `party_u`, `party_v`, `out.len() * 8`).
///
/// Fills `out` with `H(1 || z || label || 0x00 || party_u || party_v) || H(2 || ...)`,
/// the counter as a 32-bit big-endian number.
pub fn kdfe(z: &[u8], label: &[u8], party_u: &[u8], party_v: &[u8], out: &mut [u8]) {
    for (counter, chunk) in (1u32..).zip(out.chunks_mut(32)) {
        let mut hash = Sha256::new();
        hash.update(counter.to_be_bytes());
        hash.update(z);
        hash.update(label);
        hash.update([0]);
        hash.update(party_u);
        hash.update(party_v);
        let block = hash.finalize();
        chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or(&[]));
    }
}
