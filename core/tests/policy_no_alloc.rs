//! The policy allocates nothing: building a policy, checking transactions,
//! messages and typed data, encoding, decoding, hashing, the binding tag and
//! a checked signature, all under a counting global allocator.
//!
//! The allocator counts only on the thread that asks for it, so the test
//! harness's own allocations elsewhere cannot disturb the figure.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wallet_core::policy::{sign_checked, Eip712Domain, Policy, TypedDataDomain, MAX_ENCODED_LEN};
use wallet_core::rlp::SliceSink;
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{TxEip1559, TxKind, TypedTransaction, U256};

struct CountingAllocator;

thread_local! {
    // Counting and its counters are per thread: tests of this binary run on
    // threads of their own, and one test's reset must not clear another's count.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        BYTES.with(|bytes| bytes.set(bytes.get() + size));
    }
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments unchanged; counting has no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns (allocations, bytes) made on this thread meanwhile.
fn count<R>(f: impl FnOnce() -> R) -> (R, usize, usize) {
    ALLOCATIONS.with(|count| count.set(0));
    BYTES.with(|bytes| bytes.set(0));
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (result, ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get))
}

#[test]
fn policy_work_allocates_nothing() {
    // The counter itself works: a Vec is seen.
    let (_, allocations, bytes) = count(|| vec![0u8; 100]);
    assert_eq!((allocations, bytes), (1, 100));

    let key = SecretKey::from_bytes(&[0x5a; 32]).unwrap();
    let address = key.address();
    let tx: TypedTransaction<'_> = TxEip1559 {
        chain_id: 14,
        nonce: 0,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(10),
        gas_limit: 21_000,
        to: TxKind::Call(Address([0x22; 20])),
        value: U256::from_u64(1_000),
        input: &[0xa9, 0x05, 0x9c, 0xbb, 0, 0],
        access_list: Default::default(),
    }
    .into();
    let mut payload = [0u8; 128];
    let payload_len = tx.signing_payload_length();
    tx.encode_for_signing(&mut SliceSink::new(&mut payload[..payload_len]))
        .unwrap();
    let payload = &payload[..payload_len];

    let ((), allocations, bytes) = count(|| {
        let mut policy = Policy::default();
        policy.set_chain_ids(Some(&[14, 1, 114])).unwrap();
        policy.set_max_value_wei(Some(U256::from_u64(5_000)));
        policy.set_max_fee_wei(Some(U256::from_u64(1_000_000)));
        policy
            .set_recipients_allow(Some(&[Address([0x22; 20]), Address([0x23; 20])]))
            .unwrap();
        policy.set_recipients_deny(&[Address([0x66; 20])]).unwrap();
        policy
            .set_selectors(Address([0x22; 20]), &[[0xa9, 0x05, 0x9c, 0xbb]])
            .unwrap();
        policy
            .set_typed_data_domains(Some(&[TypedDataDomain {
                chain_id: 14,
                verifying_contract: Address([0x22; 20]),
            }]))
            .unwrap();
        policy.set_daily_limit_wei(Some(U256::from_u64(1 << 40)));

        policy.check_transaction(&tx).unwrap();
        policy.check_message().unwrap();
        let domain = Eip712Domain {
            name: Some("Permit2"),
            version: Some("1"),
            chain_id: Some(U256::from_u64(14)),
            verifying_contract: Some(Address([0x22; 20])),
            salt: Some([9; 32]),
        };
        policy.check_typed_data(&domain).unwrap();
        let _ = domain.signing_hash(&[1; 32]);
        policy
            .check_daily_limit(Some(14), U256::from_u64(10), Some(U256::from_u64(10)))
            .unwrap();

        let mut encoding = [0u8; MAX_ENCODED_LEN];
        let n = policy.encode(&mut encoding).unwrap();
        let decoded = Policy::decode(&encoding[..n]).unwrap();
        assert!(decoded == policy);
        let _ = policy.hash();
        let tag = policy.binding_tag(&key, &address);
        assert!(policy.binding_matches(&key, &address, &tag));

        let mut out = [0u8; 256];
        sign_checked(&policy, payload, &key, &mut out).unwrap();
    });
    assert_eq!((allocations, bytes), (0, 0));
}

#[test]
fn token_rules_allocate_nothing() {
    use wallet_core::policy::{
        decode_token_call, DefaultMode, Permit, PermitGrant, PermitKind, TokenAction, TokenRule,
    };
    let token = Address([0x33; 20]);
    let recipient = Address([0x44; 20]);
    let mut transfer = [0u8; 68];
    transfer[..4].copy_from_slice(&[0xa9, 0x05, 0x9c, 0xbb]);
    transfer[16..36].copy_from_slice(&recipient.0);
    transfer[67] = 100;
    let tx: TypedTransaction<'_> = TxEip1559 {
        chain_id: 14,
        nonce: 0,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(10),
        gas_limit: 60_000,
        to: TxKind::Call(token),
        value: U256::ZERO,
        input: &transfer,
        access_list: Default::default(),
    }
    .into();
    let ((), allocations, bytes) = count(|| {
        let mut policy = Policy::default();
        policy.set_default_mode(DefaultMode::Deny);
        let mut rule = TokenRule::new(token);
        rule.set_max_amount(Some(U256::from_u64(1_000)));
        rule.set_daily_limit(Some(U256::from_u64(5_000)));
        rule.set_recipients_allow(Some(&[recipient])).unwrap();
        rule.set_spenders_allow(Some(&[recipient])).unwrap();
        policy.set_token_rule(rule).unwrap();

        let call = decode_token_call(&token, &transfer).unwrap().unwrap();
        assert_eq!(call.token, token);
        let decision = policy.decide_transaction(&tx).unwrap();
        assert!(!decision.rules.is_empty());
        assert_eq!(policy.token_spend(&tx), Some((token, U256::from_u64(100))));
        policy
            .check_token_daily_limit(&token, U256::from_u64(10), U256::from_u64(100))
            .unwrap();
        let rule = policy.token_rule(&token).unwrap();
        policy
            .check_token_action(
                rule,
                &TokenAction::Approve {
                    spender: recipient,
                    amount: Some(U256::from_u64(5)),
                },
            )
            .unwrap();
        let grants = [PermitGrant {
            token,
            amount: Some(U256::from_u64(10)),
            valid_until: Some(U256::from_u64(1_000)),
        }];
        let permit = Permit {
            kind: PermitKind::Permit2Single,
            spender: recipient,
            grants: &grants,
        };
        let domain = Eip712Domain {
            name: Some("Permit2"),
            version: None,
            chain_id: Some(U256::from_u64(14)),
            verifying_contract: Some(Address([0x22; 20])),
            salt: None,
        };
        policy
            .decide_typed_data(&domain, Some(&permit), 900)
            .unwrap();
        let mut encoding = [0u8; MAX_ENCODED_LEN];
        let n = policy.encode(&mut encoding).unwrap();
        assert!(Policy::decode(&encoding[..n]).unwrap() == policy);
    });
    assert_eq!((allocations, bytes), (0, 0));
}
