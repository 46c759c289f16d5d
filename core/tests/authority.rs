//! The owners' M-of-N approval of admin actions (`wallet_core::authority`):
//!
//! - the EIP-712 digest against one built here by hand from Keccak-256 and
//!   ABI words, and against a signature made by Foundry's `cast wallet sign
//!   --data` over the same typed data;
//! - every refusal of `verify_approvals`, one test each;
//! - a property test against a plain oracle: random owner sets, thresholds
//!   and approval lists are accepted exactly when every approval is a valid
//!   signature by an owner, no owner approves twice and at least M approve;
//! - the owner-set encoding: round trip, strict decoder, never a panic.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use sha3::{Digest, Keccak256};
use wallet_core::authority::{
    domain_separator, export_keystore_params_hash, parse_approval_bytes, parse_approval_hex,
    replace_owners_params_hash, replace_policy_params_hash, verify_approvals, AdminAction,
    AdminRequest, AuthorityError, Expected, OwnerSet, MAX_OWNERS, NO_OWNERS_HASH,
};
use wallet_core::signer::{Address, SecretKey};
use wallet_core::Error;

fn keccak(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn word_u64(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

fn word_address(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

fn key(seed: u64) -> SecretKey {
    let bytes = keccak(&[b"authority test key", &seed.to_be_bytes()]);
    SecretKey::from_bytes(&bytes).unwrap()
}

const WALLET: Address = Address([0x11; 20]);
const NOW: u64 = 1_700_000_000;

fn request() -> AdminRequest {
    AdminRequest {
        wallet: WALLET,
        action: AdminAction::ReplacePolicy,
        params_hash: [0xab; 32],
        nonce: 7,
        deadline: NOW + 600,
    }
}

fn sign(key: &SecretKey, request: &AdminRequest) -> [u8; 65] {
    key.sign_hash(&request.signing_hash())
        .unwrap()
        .to_rsv_bytes()
}

/// Three owners (keys 1, 2, 3), threshold 2.
fn owners() -> OwnerSet {
    OwnerSet::new(&[key(1).address(), key(2).address(), key(3).address()], 2).unwrap()
}

fn expected(owners: &OwnerSet) -> Expected<'_> {
    let r = request();
    Expected {
        wallet: WALLET,
        owners,
        nonce: r.nonce,
        now: NOW,
        action: r.action,
        params_hash: r.params_hash,
    }
}

// ------------------------------------------------------------ digests

#[test]
fn digest_is_the_eip712_encoding_built_by_hand() {
    let r = request();
    let domain_type =
        keccak(&[b"EIP712Domain(string name,string version,address verifyingContract)"]);
    let domain = keccak(&[
        &domain_type,
        &keccak(&[b"flare-wallet"]),
        &keccak(&[b"1"]),
        &word_address(&WALLET),
    ]);
    let request_type =
        keccak(&[b"AdminRequest(string action,bytes32 paramsHash,uint64 nonce,uint64 deadline)"]);
    let struct_hash = keccak(&[
        &request_type,
        &keccak(&[b"replace_policy"]),
        &[0xab; 32],
        &word_u64(7),
        &word_u64(NOW + 600),
    ]);
    let digest = keccak(&[&[0x19, 0x01], &domain, &struct_hash]);
    assert_eq!(domain_separator(&WALLET), domain);
    assert_eq!(r.struct_hash(), struct_hash);
    assert_eq!(r.signing_hash(), digest);
}

#[test]
fn every_field_changes_the_digest() {
    let base = request().signing_hash();
    let mut seen = BTreeSet::from([base]);
    let variants = [
        AdminRequest {
            wallet: Address([0x12; 20]),
            ..request()
        },
        AdminRequest {
            action: AdminAction::ExportKeystore,
            ..request()
        },
        AdminRequest {
            action: AdminAction::ReplaceOwners,
            ..request()
        },
        AdminRequest {
            params_hash: [0xac; 32],
            ..request()
        },
        AdminRequest {
            nonce: 8,
            ..request()
        },
        AdminRequest {
            deadline: NOW + 601,
            ..request()
        },
    ];
    for v in variants {
        assert!(seen.insert(v.signing_hash()), "{v:?}");
    }
}

/// `cast wallet sign --data --private-key 0x0101..01 '<typed data of request()
/// with deadline 1700000000>'` (Foundry cast 1.7.1); the key's address is
/// 0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1.
#[test]
fn a_signature_made_by_cast_over_the_typed_data_verifies() {
    let signature = parse_approval_hex(
        "0x1ccf9388f2775e68df11dd3a3ec39fdcfa27d2eab46cdcd76db2cb74c1a3769635cacae3230f98f06b9b5eeb5bcb59af282529d9b5b8955adfe0512db38c371f1b",
    )
    .unwrap();
    let signer = Address::parse_hex("0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1").unwrap();
    let r = AdminRequest {
        deadline: NOW,
        ..request()
    };
    let owners = OwnerSet::new(&[signer], 1).unwrap();
    let exp = Expected {
        wallet: WALLET,
        owners: &owners,
        nonce: 7,
        now: NOW,
        action: AdminAction::ReplacePolicy,
        params_hash: [0xab; 32],
    };
    assert_eq!(
        verify_approvals(&exp, &r, &[signature]).unwrap().as_slice(),
        &[signer]
    );
}

#[test]
fn params_hash_helpers_follow_their_documented_formulas() {
    assert_eq!(replace_policy_params_hash(&[7; 32]), [7; 32]);
    let set = owners();
    let mut encoding = vec![3u8];
    let mut sorted = vec![key(1).address(), key(2).address(), key(3).address()];
    sorted.sort();
    for a in &sorted {
        encoding.extend_from_slice(&a.0);
    }
    encoding.push(2);
    assert_eq!(set.hash(), keccak(&[&encoding]));
    assert_eq!(replace_owners_params_hash(&set), set.hash());
    assert_ne!(set.hash(), NO_OWNERS_HASH);

    let kdf = br#"{"kdf":"scrypt","n":262144,"r":8,"p":1,"dklen":32}"#;
    let salt = [5u8; 32];
    let mac_key = [9u8; 16];
    let expected = keccak(&[
        b"flare-wallet/export_keystore/v1",
        &u16::try_from(kdf.len()).unwrap().to_be_bytes(),
        kdf,
        &32u16.to_be_bytes(),
        &salt,
        &mac_key,
    ]);
    assert_eq!(export_keystore_params_hash(kdf, &salt, &mac_key), expected);
    // The length prefixes keep the split between descriptor and salt unambiguous.
    assert_ne!(
        export_keystore_params_hash(b"ab", b"c", &mac_key),
        export_keystore_params_hash(b"a", b"bc", &mac_key)
    );
}

// ------------------------------------------------------------ acceptance

#[test]
fn threshold_of_distinct_owners_is_accepted_in_any_order_and_v_form() {
    let set = owners();
    let r = request();
    let mut a = sign(&key(3), &r);
    let b = sign(&key(1), &r);
    a[64] -= 27; // v as 0/1
    let approved = verify_approvals(&expected(&set), &r, &[a, b]).unwrap();
    let mut want = vec![key(1).address(), key(3).address()];
    want.sort();
    assert_eq!(approved.as_slice(), want.as_slice());
    let all = [sign(&key(2), &r), b, a];
    assert_eq!(
        verify_approvals(&expected(&set), &r, &all).unwrap().len(),
        3
    );
}

#[test]
fn deadline_equal_to_now_is_still_valid() {
    let set = owners();
    let r = AdminRequest {
        deadline: NOW,
        ..request()
    };
    let sigs = [sign(&key(1), &r), sign(&key(2), &r)];
    assert!(verify_approvals(&expected(&set), &r, &sigs).is_ok());
}

// ------------------------------------------------------------ refusals

fn refused(r: &AdminRequest, exp: &Expected<'_>, sigs: &[[u8; 65]]) -> AuthorityError {
    let e = verify_approvals(exp, r, sigs).unwrap_err();
    // Every refusal reads as a sentence and converts into the crate error.
    assert!(!e.to_string().is_empty());
    assert_eq!(Error::from(e), Error::Authority(e));
    e
}

fn two_good(r: &AdminRequest) -> [[u8; 65]; 2] {
    [sign(&key(1), r), sign(&key(2), r)]
}

#[test]
fn replayed_nonce_is_refused() {
    let set = owners();
    let r = AdminRequest {
        nonce: 6,
        ..request()
    };
    assert_eq!(
        refused(&r, &expected(&set), &two_good(&r)),
        AuthorityError::Replayed {
            nonce: 6,
            current: 7
        }
    );
}

#[test]
fn nonce_ahead_is_refused() {
    let set = owners();
    let r = AdminRequest {
        nonce: 8,
        ..request()
    };
    assert_eq!(
        refused(&r, &expected(&set), &two_good(&r)),
        AuthorityError::NonceNotCurrent {
            nonce: 8,
            current: 7
        }
    );
}

#[test]
fn expired_request_is_refused() {
    let set = owners();
    let r = AdminRequest {
        deadline: NOW - 1,
        ..request()
    };
    assert_eq!(
        refused(&r, &expected(&set), &two_good(&r)),
        AuthorityError::Expired {
            deadline: NOW - 1,
            now: NOW
        }
    );
}

#[test]
fn tampered_params_are_refused() {
    let set = owners();
    let r = request();
    let mut exp = expected(&set);
    exp.params_hash[0] ^= 1;
    assert_eq!(
        refused(&r, &exp, &two_good(&r)),
        AuthorityError::ParamsMismatch
    );
    // A request whose paramsHash was changed after signing: the signatures
    // recover to other addresses.
    let signed = two_good(&r);
    let tampered = AdminRequest {
        params_hash: [0xcd; 32],
        ..r
    };
    let mut exp = expected(&set);
    exp.params_hash = [0xcd; 32];
    assert!(matches!(
        refused(&tampered, &exp, &signed),
        AuthorityError::NotOwner { index: 0, .. }
    ));
}

#[test]
fn request_for_another_wallet_is_refused() {
    let set = owners();
    let other = AdminRequest {
        wallet: Address([0x22; 20]),
        ..request()
    };
    assert_eq!(
        refused(&other, &expected(&set), &two_good(&other)),
        AuthorityError::WrongWallet {
            request: Address([0x22; 20]),
            wallet: WALLET
        }
    );
}

#[test]
fn signature_over_another_wallets_domain_recovers_a_non_owner() {
    let set = owners();
    let r = request();
    let other = AdminRequest {
        wallet: Address([0x22; 20]),
        ..r
    };
    let sigs = [sign(&key(1), &other), sign(&key(2), &other)];
    assert!(matches!(
        refused(&r, &expected(&set), &sigs),
        AuthorityError::NotOwner { index: 0, .. }
    ));
}

#[test]
fn non_owner_is_refused_and_named() {
    let set = owners();
    let r = request();
    let sigs = [sign(&key(1), &r), sign(&key(9), &r), sign(&key(2), &r)];
    let e = refused(&r, &expected(&set), &sigs);
    assert_eq!(
        e,
        AuthorityError::NotOwner {
            index: 1,
            signer: key(9).address()
        }
    );
    let text = e.to_string();
    assert!(text.contains("approval 1"), "{text}");
    assert!(
        text.contains(key(9).address().checksum().as_str()),
        "{text}"
    );
    assert!(text.contains("not an owner"), "{text}");
}

#[test]
fn duplicate_owner_approval_is_refused() {
    let set = owners();
    let r = request();
    let a = sign(&key(1), &r);
    let mut same_other_v = a;
    same_other_v[64] -= 27;
    for dup in [a, same_other_v] {
        assert_eq!(
            refused(&r, &expected(&set), &[a, dup]),
            AuthorityError::DuplicateSigner {
                index: 1,
                signer: key(1).address()
            }
        );
    }
}

#[test]
fn wrong_action_is_refused() {
    let set = owners();
    let r = AdminRequest {
        action: AdminAction::ExportKeystore,
        ..request()
    };
    assert_eq!(
        refused(&r, &expected(&set), &two_good(&r)),
        AuthorityError::WrongAction {
            request: AdminAction::ExportKeystore,
            expected: AdminAction::ReplacePolicy
        }
    );
}

/// secp256k1's group order n, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

fn n_minus(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    out
}

#[test]
fn malformed_signatures_are_refused_with_their_index() {
    let set = owners();
    let r = request();
    let good = sign(&key(1), &r);
    let mut high_s = good;
    high_s[32..64].copy_from_slice(&n_minus(&good[32..64]));
    high_s[64] = if good[64] == 27 { 28 } else { 27 };
    let mut bad_v = good;
    bad_v[64] = 29;
    let mut zero_r = good;
    zero_r[..32].fill(0);
    let mut zero_s = good;
    zero_s[32..64].fill(0);
    let mut r_is_n = good;
    r_is_n[..32].copy_from_slice(&N);
    for bad in [high_s, bad_v, zero_r, zero_s, r_is_n] {
        assert_eq!(
            refused(&r, &expected(&set), &[sign(&key(2), &r), bad]),
            AuthorityError::MalformedSignature { index: 1 }
        );
    }
    assert_eq!(
        parse_approval_bytes(&good[..64]),
        Err(AuthorityError::ApprovalLength { len: 64 })
    );
    assert_eq!(parse_approval_bytes(&good).unwrap(), good);
}

#[test]
fn too_few_approvals_are_refused() {
    let set = owners();
    let r = request();
    assert_eq!(
        refused(&r, &expected(&set), &[sign(&key(3), &r)]),
        AuthorityError::TooFewApprovals {
            approved: 1,
            threshold: 2
        }
    );
}

#[test]
fn no_approvals_and_too_many_are_refused() {
    let set = owners();
    let r = request();
    assert_eq!(
        refused(&r, &expected(&set), &[]),
        AuthorityError::NoApprovals
    );
    let many = [sign(&key(1), &r); 17];
    assert_eq!(
        refused(&r, &expected(&set), &many),
        AuthorityError::TooManyApprovals { count: 17 }
    );
}

#[test]
fn checks_run_in_the_documented_order() {
    // Everything wrong at once: the wallet is reported first, then each
    // check in turn as the earlier ones are fixed.
    let set = owners();
    let exp = expected(&set);
    let mut r = AdminRequest {
        wallet: Address([0x22; 20]),
        action: AdminAction::ExportKeystore,
        params_hash: [0; 32],
        nonce: 3,
        deadline: 0,
    };
    assert!(matches!(
        refused(&r, &exp, &[]),
        AuthorityError::WrongWallet { .. }
    ));
    r.wallet = WALLET;
    assert!(matches!(
        refused(&r, &exp, &[]),
        AuthorityError::WrongAction { .. }
    ));
    r.action = AdminAction::ReplacePolicy;
    assert!(matches!(
        refused(&r, &exp, &[]),
        AuthorityError::Replayed { .. }
    ));
    r.nonce = 7;
    assert!(matches!(
        refused(&r, &exp, &[]),
        AuthorityError::Expired { .. }
    ));
    r.deadline = NOW;
    assert_eq!(refused(&r, &exp, &[]), AuthorityError::ParamsMismatch);
    r.params_hash = exp.params_hash;
    assert_eq!(refused(&r, &exp, &[]), AuthorityError::NoApprovals);
}

#[test]
fn ownerless_error_tells_how_to_get_owners() {
    let text = AuthorityError::Ownerless.to_string();
    assert!(text.contains("no owners"), "{text}");
    assert!(text.contains("threshold=M"), "{text}");
}

#[test]
fn actions_parse_their_own_names_only() {
    for a in AdminAction::ALL {
        assert_eq!(AdminAction::parse(a.as_str()), Ok(a));
    }
    for bad in [
        "",
        "Replace_Policy",
        "replace_policy ",
        "replace-policy",
        "export",
    ] {
        assert_eq!(AdminAction::parse(bad), Err(AuthorityError::UnknownAction));
    }
}

#[test]
fn approval_hex_parses_strictly() {
    let good = sign(&key(1), &request());
    let text: String = good.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(parse_approval_hex(&text).unwrap(), good);
    assert_eq!(parse_approval_hex(&format!("0x{text}")).unwrap(), good);
    assert_eq!(
        parse_approval_hex(&format!("0X{}", text.to_uppercase())).unwrap(),
        good
    );
    assert_eq!(
        parse_approval_hex(&text[..128]),
        Err(AuthorityError::ApprovalLength { len: 64 })
    );
    assert_eq!(
        parse_approval_hex(&text[..129]),
        Err(AuthorityError::ApprovalHex)
    );
    assert_eq!(
        parse_approval_hex(&format!("{}zz", &text[..128])),
        Err(AuthorityError::ApprovalHex)
    );
    assert_eq!(
        parse_approval_hex(&format!(" {text}")),
        Err(AuthorityError::ApprovalHex)
    );
}

// ------------------------------------------------------------ owner sets

#[test]
fn owner_set_rules() {
    let a = Address([1; 20]);
    let b = Address([2; 20]);
    assert_eq!(OwnerSet::new(&[], 1), Err(AuthorityError::NoOwners));
    let many: Vec<Address> = (1..=17u8).map(|i| Address([i; 20])).collect();
    assert_eq!(
        OwnerSet::new(&many, 1),
        Err(AuthorityError::TooManyOwners { count: 17 })
    );
    assert!(OwnerSet::new(&many[..16], 16).is_ok());
    assert_eq!(
        OwnerSet::new(&[a, Address::ZERO], 1),
        Err(AuthorityError::ZeroOwner)
    );
    assert_eq!(
        OwnerSet::new(&[b, a, b], 1),
        Err(AuthorityError::DuplicateOwner(b))
    );
    assert_eq!(
        OwnerSet::new(&[a, b], 0),
        Err(AuthorityError::ThresholdOutOfRange {
            threshold: 0,
            owners: 2
        })
    );
    assert_eq!(
        OwnerSet::new(&[a, b], 3),
        Err(AuthorityError::ThresholdOutOfRange {
            threshold: 3,
            owners: 2
        })
    );
    let set = OwnerSet::new(&[b, a], 2).unwrap();
    assert_eq!(set.owners(), &[a, b]);
    assert_eq!(set.threshold(), 2);
    assert!(set.contains(&a) && set.contains(&b) && !set.contains(&Address([3; 20])));
    // The order given does not change the set or its hash.
    assert_eq!(set, OwnerSet::new(&[a, b], 2).unwrap());
    assert_eq!(set.hash(), OwnerSet::new(&[a, b], 2).unwrap().hash());
    assert_ne!(set.hash(), OwnerSet::new(&[a, b], 1).unwrap().hash());
}

#[test]
fn owner_set_decoder_refuses_each_malformation() {
    let a = Address([1; 20]);
    let b = Address([2; 20]);
    let set = OwnerSet::new(&[a, b], 1).unwrap();
    let mut buf = [0u8; OwnerSet::MAX_ENCODED_LEN];
    let len = set.encode(&mut buf).unwrap();
    let good = buf[..len].to_vec();
    assert_eq!(len, 42);
    assert_eq!(OwnerSet::decode(&good).unwrap(), set);
    assert_eq!(
        set.encode(&mut [0u8; 41]),
        Err(AuthorityError::BufferTooSmall { needed: 42 })
    );

    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = good.clone();
        f(&mut v);
        OwnerSet::decode(&v)
    };
    assert_eq!(
        OwnerSet::decode(&[]),
        Err(AuthorityError::OwnersEncodingEmpty)
    );
    assert_eq!(with(&|v| v[0] = 0), Err(AuthorityError::NoOwners));
    assert_eq!(
        with(&|v| v[0] = 17),
        Err(AuthorityError::TooManyOwners { count: 17 })
    );
    assert_eq!(
        with(&|v| v.push(0)),
        Err(AuthorityError::OwnersEncodingLength {
            expected: 42,
            actual: 43
        })
    );
    assert_eq!(
        with(&|v| {
            v.pop();
        }),
        Err(AuthorityError::OwnersEncodingLength {
            expected: 42,
            actual: 41
        })
    );
    assert_eq!(with(&|v| v[1..21].fill(0)), Err(AuthorityError::ZeroOwner));
    assert_eq!(
        with(&|v| v[21..41].fill(1)),
        Err(AuthorityError::DuplicateOwner(a))
    );
    assert_eq!(
        with(&|v| v[1..21].fill(3)),
        Err(AuthorityError::OwnersNotSorted { index: 1 })
    );
    assert_eq!(
        with(&|v| v[41] = 0),
        Err(AuthorityError::ThresholdOutOfRange {
            threshold: 0,
            owners: 2
        })
    );
    assert_eq!(
        with(&|v| v[41] = 3),
        Err(AuthorityError::ThresholdOutOfRange {
            threshold: 3,
            owners: 2
        })
    );
}

fn address_strategy() -> impl Strategy<Value = Address> {
    prop::array::uniform20(any::<u8>()).prop_map(Address)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn owner_sets_round_trip(
        owners in prop::collection::btree_set(address_strategy(), 1..=MAX_OWNERS),
        t in any::<u8>(),
    ) {
        let owners: Vec<Address> = owners.into_iter().filter(|a| *a != Address::ZERO).collect();
        prop_assume!(!owners.is_empty());
        let threshold = u8::try_from(usize::from(t) % owners.len() + 1).unwrap();
        let set = OwnerSet::new(&owners, threshold).unwrap();
        let mut buf = [0u8; OwnerSet::MAX_ENCODED_LEN];
        let len = set.encode(&mut buf).unwrap();
        prop_assert_eq!(len, 2 + 20 * owners.len());
        prop_assert_eq!(OwnerSet::decode(&buf[..len]).unwrap(), set.clone());
        prop_assert_eq!(set.hash(), keccak(&[&buf[..len]]));
    }

    #[test]
    fn owner_set_decoder_never_panics_and_accepts_only_canonical(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        count in 0u8..=17,
    ) {
        // Random bytes, and random bytes behind a plausible count.
        for input in [bytes.clone(), [&[count][..], &bytes].concat()] {
            if let Ok(set) = OwnerSet::decode(&input) {
                let mut buf = [0u8; OwnerSet::MAX_ENCODED_LEN];
                let len = set.encode(&mut buf).unwrap();
                prop_assert_eq!(&buf[..len], &input[..]);
            }
        }
    }
}

/// One approval in a generated list: by owner `i`, or by an outsider.
#[derive(Clone, Copy, Debug)]
enum By {
    Owner(usize),
    Outsider(u64),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn approvals_are_accepted_exactly_when_the_oracle_says(
        (n, threshold, picks) in (1usize..=MAX_OWNERS).prop_flat_map(|n| (
            Just(n),
            1..=n,
            prop::collection::vec(
                prop_oneof![
                    9 => (0..n).prop_map(By::Owner),
                    1 => (1000u64..1003).prop_map(By::Outsider),
                ],
                0..=18,
            ),
        )),
        key_base in any::<u32>(),
    ) {
        let keys: Vec<SecretKey> = (0..n).map(|i| key(u64::from(key_base) * 64 + i as u64)).collect();
        let addresses: Vec<Address> = keys.iter().map(SecretKey::address).collect();
        let set = OwnerSet::new(&addresses, u8::try_from(threshold).unwrap()).unwrap();
        let r = request();
        let approvals: Vec<[u8; 65]> = picks
            .iter()
            .map(|p| match *p {
                By::Owner(i) => sign(&keys[i], &r),
                By::Outsider(s) => sign(&key(s), &r),
            })
            .collect();

        // The oracle, in plain terms.
        let mut seen = BTreeSet::new();
        let mut valid = !picks.is_empty() && picks.len() <= 16;
        for p in &picks {
            match *p {
                By::Owner(i) => valid &= seen.insert(addresses[i]),
                By::Outsider(_) => valid = false,
            }
        }
        let accept = valid && seen.len() >= threshold;

        match verify_approvals(&expected(&set), &r, &approvals) {
            Ok(approved) => {
                prop_assert!(accept, "accepted {:?}", picks);
                let want: Vec<Address> = seen.into_iter().collect();
                prop_assert_eq!(approved.as_slice(), want.as_slice());
            }
            Err(e) => prop_assert!(!accept, "refused {:?}: {}", picks, e),
        }
    }
}
