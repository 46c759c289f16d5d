//! Signing allocates nothing: a counting global allocator watches the whole
//! path for a transaction of every type (decode the signing payload, sign,
//! encode into a stack buffer, decode the result, recover the sender).
//!
//! The allocator counts only on the thread that asks for it, so the test
//! harness's own allocations elsewhere cannot disturb the figure.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use wallet_core::rlp::SliceSink;
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{
    decode_signed, decode_unsigned, sign_unsigned, AccessListItem, Authorization, TxEip1559,
    TxEip2930, TxEip4844, TxEip7702, TxKind, TxLegacy, TypedTransaction, U256,
};

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn record(size: usize) {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        BYTES.fetch_add(size, Ordering::SeqCst);
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
    ALLOCATIONS.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (
        result,
        ALLOCATIONS.load(Ordering::SeqCst),
        BYTES.load(Ordering::SeqCst),
    )
}

fn payload(tx: &TypedTransaction<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; tx.signing_payload_length()];
    tx.encode_for_signing(&mut SliceSink::new(&mut buf))
        .unwrap();
    buf
}

#[test]
fn signing_every_type_allocates_nothing() {
    // The very first curve operation in this process (which also builds
    // k256's lazily initialised precomputed tables when `std` is on) is
    // counted too: it must not allocate either.
    let (_, allocations, bytes) = count(|| {
        let key = SecretKey::from_bytes(&[0x11; 32]).unwrap();
        key.sign_hash(&[0x22; 32]).unwrap();
        key.address()
    });
    assert_eq!(
        (allocations, bytes),
        (0, 0),
        "first curve operation allocated"
    );

    // The counter itself works: a Vec is seen.
    let (_, allocations, bytes) = count(|| vec![0u8; 100]);
    assert_eq!((allocations, bytes), (1, 100));

    let key_bytes = [0x5a; 32];
    let address = SecretKey::from_bytes(&key_bytes).unwrap().address();
    let keys = [[1u8; 32], [2u8; 32]];
    let items = [AccessListItem {
        address: Address([3; 20]),
        storage_keys: (&keys[..]).into(),
    }];
    let mut blob_hash = [7u8; 32];
    blob_hash[0] = 1;
    let blobs = [blob_hash];
    let auths = [Authorization {
        chain_id: U256::from_u64(1),
        address: Address([4; 20]),
        nonce: 5,
    }
    .sign(&SecretKey::from_bytes(&[0x6b; 32]).unwrap())
    .unwrap()];
    let calldata = [0xa9u8, 0x05, 0x9c, 0xbb, 0, 0, 1];
    let fee = U256::from_u64(30_000_000_000);
    let tip = U256::from_u64(1_000_000_000);
    let value = U256::from_u64(1_000_000_000_000_000);
    let to = Address([0x35; 20]);

    let transactions = [
        TypedTransaction::Legacy(TxLegacy {
            chain_id: Some(1),
            nonce: 1,
            gas_price: fee,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value,
            input: &[],
        }),
        TypedTransaction::Legacy(TxLegacy {
            chain_id: None,
            nonce: 2,
            gas_price: fee,
            gas_limit: 100_000,
            to: TxKind::Create,
            value: U256::ZERO,
            input: &calldata,
        }),
        TypedTransaction::Eip2930(TxEip2930 {
            chain_id: 1,
            nonce: 3,
            gas_price: fee,
            gas_limit: 60_000,
            to: TxKind::Call(to),
            value,
            input: &calldata,
            access_list: (&items[..]).into(),
        }),
        TypedTransaction::Eip1559(TxEip1559 {
            chain_id: 1,
            nonce: 4,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: fee,
            gas_limit: 60_000,
            to: TxKind::Call(to),
            value,
            input: &calldata,
            access_list: (&items[..]).into(),
        }),
        TypedTransaction::Eip4844(TxEip4844 {
            chain_id: 1,
            nonce: 5,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: fee,
            gas_limit: 60_000,
            to,
            value,
            input: &calldata,
            access_list: (&items[..]).into(),
            max_fee_per_blob_gas: tip,
            blob_versioned_hashes: (&blobs[..]).into(),
        }),
        TypedTransaction::Eip7702(TxEip7702 {
            chain_id: 1,
            nonce: 6,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: fee,
            gas_limit: 100_000,
            to,
            value,
            input: &calldata,
            access_list: (&items[..]).into(),
            authorization_list: (&auths[..]).into(),
        }),
    ];
    let payloads: Vec<Vec<u8>> = transactions.iter().map(payload).collect();

    for (tx, payload) in transactions.iter().zip(&payloads) {
        let (signed_len, allocations, bytes) = count(|| {
            // Everything a signing request does, on the stack only.
            let key = SecretKey::from_bytes(&key_bytes).unwrap();
            let decoded = decode_unsigned(payload).unwrap();
            let signature = decoded.sign(&key).unwrap();
            let mut out = [0u8; 1024];
            let len = decoded.encode_signed(&signature, &mut out).unwrap();
            let signed = decode_signed(&out[..len]).unwrap();
            assert_eq!(signed.recover_sender().unwrap(), address);
            let mut again = [0u8; 1024];
            assert_eq!(sign_unsigned(payload, &key, &mut again).unwrap(), len);
            assert_eq!(again[..len], out[..len]);
            len
        });
        assert!(signed_len > 0);
        assert_eq!(
            (allocations, bytes),
            (0, 0),
            "{:?} allocated {allocations} times ({bytes} bytes)",
            tx.tx_type()
        );
        println!(
            "{:?}: {} byte payload, {signed_len} byte signed transaction, {allocations} allocations",
            tx.tx_type(),
            payload.len()
        );
    }
}
