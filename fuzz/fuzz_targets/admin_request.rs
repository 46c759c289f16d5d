//! The authority module over arbitrary input: admin requests in their
//! EIP-712 JSON form, approvals, owner sets and `verify_approvals`.
//!
//! The first byte picks what the rest is (its value mod 3):
//! - typed-data JSON: an accepted request writes JSON that reads back as the
//!   same request (`to_typed_data_json` then `from_typed_data_json` is the
//!   identity on decoded requests), and that hex-parses approvals never panic;
//! - an owner-set encoding: an accepted set encodes back to the same bytes;
//! - a request and 65-byte approvals for `verify_approvals` against a fixed
//!   owner set: never a panic, and an accepted list names distinct owners,
//!   sorted, at least the threshold of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::authority::{
    parse_approval_bytes, parse_approval_hex, verify_approvals, AdminAction, AdminRequest,
    Expected, OwnerSet, APPROVAL_LEN,
};
use wallet_core::signer::Address;

fn json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_approval_hex(text);
    if let Ok(request) = AdminRequest::from_typed_data_json(text) {
        let again = AdminRequest::from_typed_data_json(&request.to_typed_data_json())
            .expect("written JSON reads back");
        assert_eq!(again, request, "JSON round trip changed the request");
        let _ = request.signing_hash();
    }
}

fn owner_set(data: &[u8]) {
    if let Ok(set) = OwnerSet::decode(data) {
        let mut out = [0u8; OwnerSet::MAX_ENCODED_LEN];
        let n = set.encode(&mut out).expect("decoded set encodes");
        assert_eq!(&out[..n], data, "decode then encode changed the owner set");
        let _ = set.hash();
    }
}

fn approvals(data: &[u8]) {
    // 1 byte action, 1 byte nonce, 1 byte deadline, 1 byte threshold, then approvals.
    let [action, nonce, deadline, threshold, rest @ ..] = data else {
        return;
    };
    let owners: Vec<Address> = (1..=4u8).map(|i| Address([i; 20])).collect();
    let Ok(set) = OwnerSet::new(&owners, threshold % 4 + 1) else {
        return;
    };
    let action = AdminAction::ALL[usize::from(*action) % AdminAction::ALL.len()];
    let wallet = Address([0x77; 20]);
    let request = AdminRequest {
        wallet,
        action,
        params_hash: [0x42; 32],
        nonce: u64::from(*nonce % 4),
        deadline: u64::from(*deadline),
    };
    let expected = Expected {
        wallet,
        owners: &set,
        nonce: 1,
        now: 100,
        action: AdminAction::ReplacePolicy,
        params_hash: [0x42; 32],
    };
    let list: Vec<[u8; APPROVAL_LEN]> = rest
        .chunks(APPROVAL_LEN)
        .filter_map(|chunk| parse_approval_bytes(chunk).ok())
        .collect();
    if let Ok(approved) = verify_approvals(&expected, &request, &list) {
        assert!(approved.len() >= usize::from(set.threshold()));
        assert!(approved.windows(2).all(|w| w[0] < w[1]));
        assert!(approved.iter().all(|a| set.contains(a)));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => json(rest),
        1 => owner_set(rest),
        _ => approvals(rest),
    }
});
