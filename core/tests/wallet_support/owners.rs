//! Owners for wallet tests: keys made here, owner sets over their
//! addresses, and approvals signed with them over a request's EIP-712 digest.
#![allow(dead_code, clippy::unwrap_used)]

use wallet_core::authority::{AdminRequest, OwnerSet};
use wallet_core::signer::{Address, SecretKey};

/// `n` owner keys, distinct and fixed by `seed`.
pub fn owner_keys(seed: u8, n: usize) -> Vec<SecretKey> {
    (0..n)
        .map(|i| {
            let mut bytes = [seed; 32];
            bytes[31] = u8::try_from(i).unwrap() + 1;
            bytes[0] = 0x11;
            SecretKey::from_bytes(&bytes).unwrap()
        })
        .collect()
}

/// The addresses of `keys`.
pub fn addresses(keys: &[SecretKey]) -> Vec<Address> {
    keys.iter().map(SecretKey::address).collect()
}

/// The owner set of `keys` with `threshold`.
pub fn owner_set(keys: &[SecretKey], threshold: u8) -> OwnerSet {
    OwnerSet::new(&addresses(keys), threshold).unwrap()
}

/// Approvals of `request` by each of `keys`: 65-byte `r || s || v` with
/// `v` 27 or 28, as eth-account and cast write them.
pub fn approve(keys: &[&SecretKey], request: &AdminRequest) -> Vec<[u8; 65]> {
    let digest = request.signing_hash();
    keys.iter()
        .map(|key| {
            let mut rsv = key.sign_hash(&digest).unwrap().to_rsv_bytes();
            if rsv[64] < 27 {
                rsv[64] += 27;
            }
            rsv
        })
        .collect()
}
