//! The sealed-key file format over arbitrary bytes.
//!
//! The input is a mode byte, then the file. `SealedKeyFile::parse` must
//! never panic, and whatever it accepts must encode back to the exact file
//! (`encode_with_all` with the signing policy, binding tag, owner, TPM identity
//! and key-lock section the view carries beside its contents; the policy encoding also
//! goes through `Policy::decode`, the owners through `OwnerSet::decode`).
//! A file's last 32 bytes are a SHA-256 of the rest, which random mutations
//! almost never keep; so when the mode byte is odd the digest is recomputed
//! before parsing, which lets the fuzzer reach the accepting paths (an even
//! mode byte keeps the file as it is, integrity check included).
//! An accepted file also goes where a wallet sends it: the state layer
//! (`SealedAccount::from_bytes`) and the engine's `SealedObject::from_parts`,
//! with its PCR policy read as the wallet reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use wallet_core::attest;
use wallet_core::authority::OwnerSet;
use wallet_core::backup::{SealedKeyFile, INTEGRITY_LEN};
use wallet_core::policy::Policy;
use wallet_core::seal::SealedObject;
use wallet_core::state::SealedAccount;
use wallet_core::tpm::{Name, PcrSelection};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut bytes = file.to_vec();
    if mode & 1 == 1 {
        if let Some(body_len) = bytes.len().checked_sub(INTEGRITY_LEN) {
            let digest = Sha256::digest(&bytes[..body_len]);
            bytes[body_len..].copy_from_slice(&digest);
        }
    }
    let Ok(view) = SealedKeyFile::parse(&bytes) else {
        assert!(SealedAccount::from_bytes(bytes).is_err());
        return;
    };
    // The signing policy and its binding tag travel beside the contents:
    // a file is written back with both.
    let contents = view.contents();
    let bound = view.bound_policy();
    let owners = view.owner_section();
    let identity = view.tpm_identity();
    let key_lock = view.key_lock();
    let mut out = vec![0u8; bytes.len()];
    assert_eq!(
        contents.encode_with_all(bound, owners, identity, key_lock, &mut out),
        Ok(bytes.len())
    );
    assert_eq!(out, bytes, "parse then encode changed the file");
    let expected_version = match (identity.is_some() || key_lock.is_some(), owners) {
        (true, _) => 3,
        (false, Some(_)) => 2,
        (false, None) => 1,
    };
    assert_eq!(view.version(), expected_version);
    assert!(contents
        .encode_with_all(bound, owners, identity, key_lock, &mut out[..bytes.len() - 1])
        .is_err());
    if let Some(bound) = bound {
        let _ = Policy::decode(bound.encoding);
    }
    if let Some(section) = owners {
        if let Ok(set) = OwnerSet::decode(section.owners) {
            let mut again = [0u8; OwnerSet::MAX_ENCODED_LEN];
            let n = set.encode(&mut again).expect("a decoded owner set encodes");
            assert_eq!(&again[..n], section.owners);
        }
    }

    // What the wallet does with a file it loads.
    let Some(srk_name) = Name::from_bytes(view.srk_name()) else {
        return;
    };
    let policy = view.pcr_policy().and_then(|policy| {
        let bitmap = attest::PcrSelection::from_select_bytes(policy.hash_alg, policy.select).bitmap;
        let selection = PcrSelection::from_bitmap(bitmap).ok()?;
        let digest: [u8; 32] = policy.policy_digest.try_into().ok()?;
        Some((selection, digest))
    });
    let _ = SealedObject::from_parts(
        view.public_tpm2b(),
        view.private_tpm2b(),
        srk_name,
        policy.map(|p| p.0),
        policy.map(|p| p.1),
    );
    let account = SealedAccount::from_bytes(bytes.clone()).expect("the state layer agrees");
    assert_eq!(account.address(), view.address());
});
