//! Property tests of the signing policy, each against an oracle written here
//! in plain code, independent of the policy module:
//!
//! - for a random policy and random transactions of every type, the core
//!   signs exactly when every rule holds, and a refusal names a rule the
//!   oracle also finds broken; the same through the wallet on a real swtpm,
//!   daily limit included;
//! - random policies survive encode → decode, and hash as SHA-256 of the
//!   bytes;
//! - the decoder never panics, and whatever it accepts is canonical (it
//!   re-encodes to the same bytes), so every non-canonical variation of a
//!   valid encoding is refused.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/owners.rs"]
mod owners;
#[path = "wallet_support/transports.rs"]
mod support;

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use wallet_core::policy::{
    sign_checked, Eip712Domain, Policy, PolicyError, PolicyField, TypedDataDomain,
};
use wallet_core::rlp::SliceSink;
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{
    decode_signed, Authorization, SignedAuthorization, TxEip1559, TxEip2930, TxEip4844, TxEip7702,
    TxKind, TxLegacy, TypedTransaction, U256,
};
use wallet_core::wallet::{AccountOptions, KeyMode};
use wallet_core::Error;

// ------------------------------------------------------------ pools

/// Small pools, so that random policies and transactions meet often.
const CHAINS: [u64; 4] = [1, 5, 14, 114];
const SELECTORS: [[u8; 4]; 4] = [
    [0xa9, 0x05, 0x9c, 0xbb],
    [0x09, 0x5e, 0xa7, 0xb3],
    [0x23, 0xb8, 0x72, 0xdd],
    [0x00, 0x00, 0x00, 0x00],
];

fn pool_address(i: u8) -> Address {
    Address([0x10 * (i % 6) + 1; 20])
}

// ------------------------------------------------------------ oracle arithmetic

/// A non-negative integer as little-endian 64-bit limbs, wide enough to see
/// a 256-bit overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Wide([u64; 6]);

impl Wide {
    fn from_be(bytes: [u8; 32]) -> Self {
        let mut limbs = [0u64; 6];
        for (i, chunk) in bytes.rchunks(8).enumerate() {
            limbs[i] = u64::from_be_bytes(chunk.try_into().unwrap());
        }
        Wide(limbs)
    }

    fn mul(self, factor: u64) -> Self {
        let mut out = [0u64; 6];
        let mut carry = 0u128;
        for (limb, &a) in out.iter_mut().zip(&self.0) {
            let product = u128::from(a) * u128::from(factor) + carry;
            *limb = product as u64;
            carry = product >> 64;
        }
        assert_eq!(carry, 0, "test values stay far below 2^384");
        Wide(out)
    }

    fn add(self, other: Self) -> Self {
        let mut out = [0u64; 6];
        let mut carry = 0u128;
        for ((limb, &a), &b) in out.iter_mut().zip(&self.0).zip(&other.0) {
            let sum = u128::from(a) + u128::from(b) + carry;
            *limb = sum as u64;
            carry = sum >> 64;
        }
        Wide(out)
    }

    fn above_256_bits(&self) -> bool {
        self.0[4] != 0 || self.0[5] != 0
    }

    fn le(&self, other: &Self) -> bool {
        self.0.iter().rev().cmp(other.0.iter().rev()) != std::cmp::Ordering::Greater
    }
}

// ------------------------------------------------------------ specs

#[derive(Clone, Debug)]
struct PolicySpec {
    chain_ids: Option<Vec<u64>>,
    max_value: Option<[u8; 32]>,
    max_fee: Option<[u8; 32]>,
    allow: Option<Vec<u8>>,
    deny: Vec<u8>,
    creation: bool,
    selectors: Vec<(u8, Vec<u8>)>,
    delegations: Option<Vec<u8>>,
    unprotected: bool,
    messages: bool,
    domains: Option<Vec<(u64, u8)>>,
    daily: Option<[u8; 32]>,
}

fn amount() -> impl Strategy<Value = [u8; 32]> {
    prop_oneof![
        (0u64..5_000).prop_map(|v| U256::from_u64(v).0),
        any::<u64>().prop_map(|v| U256::from_u64(v).0),
        any::<u128>().prop_map(|v| U256::from_u128(v).0),
        any::<[u8; 32]>(),
        Just([0xff; 32]),
    ]
}

fn ids(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..6, 0..max)
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    (
        (
            prop::option::of(prop::collection::vec(
                prop::sample::select(&CHAINS[..]),
                0..4,
            )),
            prop::option::of(amount()),
            prop::option::of(amount()),
            prop::option::of(ids(5)),
            ids(3),
            any::<bool>(),
        ),
        (
            prop::collection::vec((0u8..6, prop::collection::vec(0u8..4, 0..3)), 0..3),
            prop::option::of(ids(4)),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(prop::collection::vec(
                (prop::sample::select(&CHAINS[..]), 0u8..6),
                0..4,
            )),
            prop::option::of(amount()),
        ),
    )
        .prop_map(
            |(
                (chain_ids, max_value, max_fee, allow, deny, creation),
                (selectors, delegations, unprotected, messages, domains, daily),
            )| PolicySpec {
                chain_ids,
                max_value,
                max_fee,
                allow,
                deny,
                creation,
                selectors,
                delegations,
                unprotected,
                messages,
                domains,
                daily,
            },
        )
}

fn build_policy(spec: &PolicySpec) -> Policy {
    let addresses = |ids: &[u8]| ids.iter().map(|&i| pool_address(i)).collect::<Vec<_>>();
    let mut policy = Policy::default();
    policy.set_chain_ids(spec.chain_ids.as_deref()).unwrap();
    policy.set_max_value_wei(spec.max_value.map(U256));
    policy.set_max_fee_wei(spec.max_fee.map(U256));
    policy
        .set_recipients_allow(spec.allow.as_deref().map(addresses).as_deref())
        .unwrap();
    policy.set_recipients_deny(&addresses(&spec.deny)).unwrap();
    policy.set_allow_contract_creation(spec.creation);
    for (contract, selectors) in &spec.selectors {
        let selectors: Vec<[u8; 4]> = selectors
            .iter()
            .map(|&i| SELECTORS[usize::from(i)])
            .collect();
        policy
            .set_selectors(pool_address(*contract), &selectors)
            .unwrap();
    }
    policy
        .set_delegations_allow(spec.delegations.as_deref().map(addresses).as_deref())
        .unwrap();
    policy.set_allow_unprotected(spec.unprotected);
    policy.set_allow_messages(spec.messages);
    let domains = spec.domains.as_ref().map(|list| {
        list.iter()
            .map(|&(chain_id, contract)| TypedDataDomain {
                chain_id,
                verifying_contract: pool_address(contract),
            })
            .collect::<Vec<_>>()
    });
    policy.set_typed_data_domains(domains.as_deref()).unwrap();
    policy.set_daily_limit_wei(spec.daily.map(U256));
    policy
}

#[derive(Clone, Debug)]
struct TxSpec {
    tx_type: u8,
    /// `None`: pre-EIP-155 (legacy only).
    chain_id: Option<u64>,
    /// `None`: contract creation (types 0-2 only).
    to: Option<u8>,
    value: [u8; 32],
    gas_limit: u64,
    max_fee_per_gas: [u8; 32],
    input: Vec<u8>,
    blobs: usize,
    max_fee_per_blob_gas: [u8; 32],
    delegates: Vec<u8>,
}

fn calldata() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0usize..4, prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(s, rest)| {
            let mut input = SELECTORS[s].to_vec();
            input.extend(rest);
            input
        }),
        prop::collection::vec(any::<u8>(), 0..4),
        prop::collection::vec(any::<u8>(), 4..40),
    ]
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        0u8..5,
        prop::option::weighted(0.85, prop::sample::select(&CHAINS[..])),
        prop::option::weighted(0.85, 0u8..6),
        amount(),
        prop_oneof![0u64..100_000, any::<u64>()],
        amount(),
        calldata(),
        1usize..7,
        amount(),
        prop::collection::vec(0u8..6, 1..4),
    )
        .prop_map(
            |(
                tx_type,
                chain_id,
                to,
                value,
                gas_limit,
                max_fee_per_gas,
                input,
                blobs,
                max_fee_per_blob_gas,
                delegates,
            )| {
                TxSpec {
                    tx_type,
                    chain_id: if tx_type == 0 {
                        chain_id
                    } else {
                        Some(chain_id.unwrap_or(14))
                    },
                    to: if tx_type >= 3 {
                        Some(to.unwrap_or(0))
                    } else {
                        to
                    },
                    value,
                    gas_limit,
                    max_fee_per_gas,
                    input,
                    blobs,
                    max_fee_per_blob_gas,
                    delegates,
                }
            },
        )
}

/// The unsigned signing payload of a spec.
fn payload_of(spec: &TxSpec, authority: &SecretKey) -> Vec<u8> {
    let to = spec
        .to
        .map_or(TxKind::Create, |i| TxKind::Call(pool_address(i)));
    let call = || pool_address(spec.to.unwrap_or(0));
    let chain_id = spec.chain_id.unwrap_or(1);
    let hashes = vec![[1u8; 32]; spec.blobs];
    let auths: Vec<SignedAuthorization> = spec
        .delegates
        .iter()
        .map(|&d| {
            Authorization {
                chain_id: U256::ZERO,
                address: pool_address(d),
                nonce: 0,
            }
            .sign(authority)
            .unwrap()
        })
        .collect();
    let tx: TypedTransaction<'_> = match spec.tx_type {
        0 => TxLegacy {
            chain_id: spec.chain_id,
            nonce: 1,
            gas_price: U256(spec.max_fee_per_gas),
            gas_limit: spec.gas_limit,
            to,
            value: U256(spec.value),
            input: &spec.input,
        }
        .into(),
        1 => TxEip2930 {
            chain_id,
            nonce: 1,
            gas_price: U256(spec.max_fee_per_gas),
            gas_limit: spec.gas_limit,
            to,
            value: U256(spec.value),
            input: &spec.input,
            access_list: Default::default(),
        }
        .into(),
        2 => TxEip1559 {
            chain_id,
            nonce: 1,
            max_priority_fee_per_gas: U256::ZERO,
            max_fee_per_gas: U256(spec.max_fee_per_gas),
            gas_limit: spec.gas_limit,
            to,
            value: U256(spec.value),
            input: &spec.input,
            access_list: Default::default(),
        }
        .into(),
        3 => TxEip4844 {
            chain_id,
            nonce: 1,
            max_priority_fee_per_gas: U256::ZERO,
            max_fee_per_gas: U256(spec.max_fee_per_gas),
            gas_limit: spec.gas_limit,
            to: call(),
            value: U256(spec.value),
            input: &spec.input,
            access_list: Default::default(),
            max_fee_per_blob_gas: U256(spec.max_fee_per_blob_gas),
            blob_versioned_hashes: (&hashes[..]).into(),
        }
        .into(),
        _ => TxEip7702 {
            chain_id,
            nonce: 1,
            max_priority_fee_per_gas: U256::ZERO,
            max_fee_per_gas: U256(spec.max_fee_per_gas),
            gas_limit: spec.gas_limit,
            to: call(),
            value: U256(spec.value),
            input: &spec.input,
            access_list: Default::default(),
            authorization_list: (&auths[..]).into(),
        }
        .into(),
    };
    let mut out = vec![0u8; tx.signing_payload_length()];
    tx.encode_for_signing(&mut SliceSink::new(&mut out))
        .unwrap();
    out
}

/// The worst-case spend of a transaction spec: value + gas · fee (+ blob
/// gas · blob fee), `None` above 2^256 - 1.
fn oracle_spend(tx: &TxSpec) -> (Wide, Wide) {
    let mut fee = Wide::from_be(tx.max_fee_per_gas).mul(tx.gas_limit);
    if tx.tx_type == 3 {
        let blob_gas = 131_072 * tx.blobs as u64;
        fee = fee.add(Wide::from_be(tx.max_fee_per_blob_gas).mul(blob_gas));
    }
    (fee, fee.add(Wide::from_be(tx.value)))
}

/// Every stateless rule the transaction breaks, by name.
fn oracle_broken(policy: &PolicySpec, tx: &TxSpec) -> Vec<PolicyField> {
    let mut broken = Vec::new();
    match tx.chain_id {
        None if !policy.unprotected => broken.push(PolicyField::AllowUnprotected),
        None => {}
        Some(id) => {
            if let Some(ids) = &policy.chain_ids {
                if !ids.contains(&id) {
                    broken.push(PolicyField::ChainIds);
                }
            }
        }
    }
    match tx.to {
        None => {
            if !policy.creation {
                broken.push(PolicyField::AllowContractCreation);
            }
        }
        Some(to) => {
            let to = pool_address(to);
            let is = |i: &u8| pool_address(*i) == to;
            if policy.deny.iter().any(is) {
                broken.push(PolicyField::RecipientsDeny);
            }
            if let Some(allow) = &policy.allow {
                if !allow.iter().any(is) {
                    broken.push(PolicyField::RecipientsAllow);
                }
            }
            // The last setting for a contract is the one that holds.
            if let Some((_, selectors)) = policy.selectors.iter().rev().find(|(c, _)| is(c)) {
                let ok = tx.input.len() >= 4
                    && selectors
                        .iter()
                        .any(|&s| SELECTORS[usize::from(s)] == tx.input[..4]);
                if !ok {
                    broken.push(PolicyField::Selectors);
                }
            }
        }
    }
    if tx.tx_type == 4 {
        if let Some(allowed) = &policy.delegations {
            let listed = |d: &u8| allowed.iter().any(|a| pool_address(*a) == pool_address(*d));
            if !tx.delegates.iter().all(listed) {
                broken.push(PolicyField::DelegationsAllow);
            }
        }
    }
    if let Some(cap) = policy.max_value {
        if !Wide::from_be(tx.value).le(&Wide::from_be(cap)) {
            broken.push(PolicyField::MaxValueWei);
        }
    }
    if let Some(cap) = policy.max_fee {
        let (fee, _) = oracle_spend(tx);
        if fee.above_256_bits() || !fee.le(&Wide::from_be(cap)) {
            broken.push(PolicyField::MaxFeeWei);
        }
    }
    broken
}

fn refused_rule(result: &Result<usize, Error>) -> Option<PolicyField> {
    match result {
        Err(Error::Policy(PolicyError::Violation(v))) => Some(v.rule()),
        _ => None,
    }
}

// ------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    #[test]
    fn random_policies_round_trip_and_hash_their_encoding(spec in policy_spec()) {
        let policy = build_policy(&spec);
        let mut bytes = vec![0u8; policy.encoded_len()];
        prop_assert_eq!(policy.encode(&mut bytes).unwrap(), bytes.len());
        prop_assert_eq!(policy.to_bytes().to_vec(), bytes.clone());
        prop_assert_eq!(Policy::decode(&bytes).unwrap(), policy.clone());
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        prop_assert_eq!(policy.hash(), hash);
    }

    #[test]
    fn the_decoder_never_panics_and_accepts_only_canonical_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        with_header in any::<bool>(),
    ) {
        let mut input = if with_header { b"FLWPLCY\0\x00\x01".to_vec() } else { Vec::new() };
        input.extend(bytes);
        if let Ok(policy) = Policy::decode(&input) {
            prop_assert_eq!(policy.to_bytes().to_vec(), input.clone());
        }
    }

    #[test]
    fn every_variation_of_a_valid_encoding_is_refused_unless_canonical(
        spec in policy_spec(),
        edits in prop::collection::vec((0usize..4, any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let original = build_policy(&spec).to_bytes().to_vec();
        let mut bytes = original.clone();
        for (kind, at, byte) in edits {
            let i = at.index(bytes.len().max(1));
            match kind {
                0 => { if let Some(b) = bytes.get_mut(i) { *b ^= byte | 1; } }
                1 => bytes.insert(i.min(bytes.len()), byte),
                2 => { if i < bytes.len() { bytes.remove(i); } }
                _ => bytes.truncate(i),
            }
        }
        match Policy::decode(&bytes) {
            Ok(policy) => prop_assert_eq!(policy.to_bytes().to_vec(), bytes.clone()),
            Err(_) => prop_assert_ne!(bytes, original),
        }
    }
}

/// How often each outcome was seen, so a property cannot pass vacuously.
#[derive(Default, Debug)]
struct Tally {
    signed: usize,
    refused: std::collections::BTreeMap<&'static str, usize>,
}

impl Tally {
    fn refused_by(&mut self, rule: PolicyField) {
        *self.refused.entry(rule.name()).or_default() += 1;
    }

    fn assert_covers(&self, rules: &[PolicyField], min_signed: usize) {
        eprintln!("outcomes: {self:?}");
        assert!(
            self.signed >= min_signed,
            "only {} signed: {self:?}",
            self.signed
        );
        for rule in rules {
            assert!(
                self.refused.get(rule.name()).is_some_and(|&n| n > 0),
                "no refusal by {rule}: {self:?}"
            );
        }
    }
}

const TRANSACTION_RULES: [PolicyField; 9] = [
    PolicyField::ChainIds,
    PolicyField::AllowUnprotected,
    PolicyField::AllowContractCreation,
    PolicyField::RecipientsDeny,
    PolicyField::RecipientsAllow,
    PolicyField::Selectors,
    PolicyField::DelegationsAllow,
    PolicyField::MaxValueWei,
    PolicyField::MaxFeeWei,
];

#[test]
fn the_core_signs_exactly_when_every_rule_holds() {
    let tally = std::cell::RefCell::new(Tally::default());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 768,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let case = (policy_spec(), prop::collection::vec(tx_spec(), 1..6));
    runner
        .run(&case, |(policy_spec, txs)| {
            let mut tally = tally.borrow_mut();
            let policy = build_policy(&policy_spec);
            let key = SecretKey::from_bytes(&[0x5a; 32]).unwrap();
            let mut out = vec![0u8; 4096];
            for tx in &txs {
                let payload = payload_of(tx, &key);
                let broken = oracle_broken(&policy_spec, tx);
                let result = sign_checked(&policy, &payload, &key, &mut out);
                if broken.is_empty() {
                    let n = result.unwrap();
                    let signed = decode_signed(&out[..n]).unwrap();
                    prop_assert_eq!(signed.recover_sender().unwrap(), key.address());
                    tally.signed += 1;
                } else {
                    let rule = refused_rule(&result);
                    prop_assert!(
                        rule.is_some_and(|r| broken.contains(&r)),
                        "refused with {:?}, oracle found {:?}",
                        result,
                        broken
                    );
                    tally.refused_by(rule.unwrap());
                }
            }
            // Messages and typed data.
            prop_assert_eq!(policy.check_message().is_ok(), policy_spec.messages);
            // A raw digest: refused by a stated policy unless allow_raw_hashes,
            // and then only while no domain list is set.
            prop_assert_eq!(
                policy.check_typed_data_hash(),
                Err(wallet_core::policy::PolicyViolation::RawHashNotAllowed)
            );
            let mut raw = policy.clone();
            raw.set_allow_raw_hashes(true);
            prop_assert_eq!(
                raw.check_typed_data_hash().is_ok(),
                policy_spec.domains.is_none()
            );
            for &chain in &CHAINS {
                for contract in 0u8..6 {
                    let domain = Eip712Domain {
                        name: Some("x"),
                        chain_id: Some(U256::from_u64(chain)),
                        verifying_contract: Some(pool_address(contract)),
                        ..Eip712Domain::default()
                    };
                    let listed = policy_spec.domains.as_ref().is_none_or(|list| {
                        list.iter()
                            .any(|&(c, v)| c == chain && pool_address(v) == pool_address(contract))
                    });
                    prop_assert_eq!(policy.check_typed_data(&domain).is_ok(), listed);
                }
            }
            Ok(())
        })
        .unwrap();
    tally.into_inner().assert_covers(&TRANSACTION_RULES, 100);
}

// ------------------------------------------------------------ through the wallet

/// The daily-limit history as the oracle keeps it: (chain or 0, spend).
fn oracle_spent(history: &[(u64, Wide)], chain: Option<u64>) -> Wide {
    history
        .iter()
        .filter(|(c, _)| chain.is_none_or(|id| *c == id || *c == 0))
        .fold(Wide([0; 6]), |sum, (_, v)| sum.add(*v))
}

#[test]
fn the_wallet_signs_exactly_when_every_rule_holds_daily_limit_included() {
    let tpm = support::swtpm();
    let dir = support::TempDir::new("policy-prop");
    let mut wallet = support::open_wallet(&tpm, &dir.state("s"));
    wallet.set_key_mode(KeyMode::Cached);
    let owner_keys = owners::owner_keys(3, 1);
    wallet
        .create_account(AccountOptions {
            owners: Some(owners::owner_set(&owner_keys, 1)),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let address = wallet.address().unwrap();
    // Shared with the property closure, which proptest wants to be `Fn`.
    let wallet = std::cell::RefCell::new(wallet);
    let authority = SecretKey::from_bytes(&[0x6b; 32]).unwrap();
    let history: std::cell::RefCell<Vec<(u64, Wide)>> = Default::default();
    let tally = std::cell::RefCell::new(Tally::default());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let case = (
        policy_spec(),
        prop::collection::vec(tx_spec(), 1..5),
        any::<bool>(),
    );
    runner
        .run(&case, |(mut spec, txs, loose)| {
            // Daily limits small enough to be reached by the small amounts.
            if let Some(limit) = &mut spec.daily {
                limit[..24].fill(0);
            }
            // Half the cases leave only the amount rules, so that enough
            // transactions are signed for the daily limit to fill up.
            if loose {
                spec.chain_ids = None;
                spec.allow = None;
                spec.deny.clear();
                spec.selectors.clear();
                spec.delegations = None;
                spec.creation = true;
                spec.unprotected = true;
            }
            let mut wallet = wallet.borrow_mut();
            let mut history = history.borrow_mut();
            let mut tally = tally.borrow_mut();
            let policy = build_policy(&spec);
            let request = wallet
                .admin_request(
                    wallet_core::authority::AdminAction::ReplacePolicy,
                    wallet_core::authority::replace_policy_params_hash(&policy.hash()),
                    u64::MAX,
                )
                .unwrap();
            let approvals = owners::approve(&[&owner_keys[0]], &request);
            wallet.replace_policy(policy, &request, &approvals).unwrap();
            let mut out = vec![0u8; 4096];
            for tx in &txs {
                let payload = payload_of(tx, &authority);
                let mut broken = oracle_broken(&spec, tx);
                let (_, spend) = oracle_spend(tx);
                if broken.is_empty() {
                    if let Some(limit) = spec.daily {
                        let total = oracle_spent(&history, tx.chain_id).add(spend);
                        if total.above_256_bits() || !total.le(&Wide::from_be(limit)) {
                            broken.push(PolicyField::DailyLimitWei);
                        }
                    }
                }
                let result = wallet.sign_transaction(&payload, &mut out);
                if broken.is_empty() {
                    let n = result.unwrap();
                    let signed = decode_signed(&out[..n]).unwrap();
                    prop_assert_eq!(signed.recover_sender().unwrap(), address);
                    if spec.daily.is_some() {
                        history.push((tx.chain_id.unwrap_or(0), spend));
                    }
                    tally.signed += 1;
                } else {
                    let rule = refused_rule(&result);
                    prop_assert!(
                        rule.is_some_and(|r| broken.contains(&r)),
                        "refused with {:?}, oracle found {:?}",
                        result,
                        broken
                    );
                    tally.refused_by(rule.unwrap());
                }
            }
            Ok(())
        })
        .unwrap();
    let tally = tally.into_inner();
    tally.assert_covers(&[PolicyField::DailyLimitWei, PolicyField::MaxValueWei], 10);
}

#[test]
fn the_oracle_arithmetic_is_right_at_the_edges() {
    let max = Wide::from_be([0xff; 32]);
    assert!(!max.above_256_bits());
    assert!(max.add(Wide::from_be(U256::from_u64(1).0)).above_256_bits());
    assert!(max.mul(2).above_256_bits());
    let two_64 = Wide::from_be(U256::from_u128(1 << 64).0);
    assert_eq!(two_64.0, [0, 1, 0, 0, 0, 0]);
    assert_eq!(two_64.mul(3).0, [0, 3, 0, 0, 0, 0]);
    assert_eq!(
        Wide::from_be(U256::from_u64(u64::MAX).0).mul(u64::MAX).0,
        [1, u64::MAX - 1, 0, 0, 0, 0]
    );
    assert!(two_64.le(&two_64));
    assert!(!two_64.mul(2).le(&two_64));
    assert!(Wide::from_be(U256::from_u64(5).0).le(&two_64));
}
