//! What signing a transaction costs, next to the bare signature it contains.
//!
//! `cargo bench -p wallet-core --bench signing` measures, in one run:
//!
//! - `eip1559_transfer/*`: an EIP-1559 ether transfer signed end to end, once
//!   from its unsigned signing payload (`decode_unsigned`, `signature_hash`,
//!   `sign_hash`, `encode_signed`, the path a C host takes) and once from the
//!   struct (`signature_hash`, `sign_hash`, `encode_signed`);
//! - `sign_prehash/*`: the bare signature of that transaction's hash by k256's
//!   `SigningKey::sign_prehash_recoverable`, by libsecp256k1's
//!   `sign_ecdsa_recoverable`, and by the core's `SecretKey::sign_hash`;
//! - `keccak256/200B` and the RLP encodings of the transaction.
//!
//! `BENCHMARKS.md` ("Signing core") reports the figures and their ratios.
//!
//! Wall-clock figures on a shared machine move with its load, so the binary
//! has a second mode for counting instructions, which load cannot disturb:
//! with `SIGNING_BENCH_REPEAT=<operation>:<count>` it runs one operation
//! `count` times and exits, to be run under `valgrind --tool=callgrind` with
//! two counts; the difference of the totals divided by the difference of the
//! counts is the cost of one operation (see [`OPERATIONS`]). With
//! `SIGNING_BENCH_PAIRED=<rounds>` it times the signing operations
//! interleaved, so that the load weighs on all of them alike, and prints each
//! one's median and its ratio to bare k256.

// A benchmark may panic on a setup error: there is no caller to report to.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use criterion::{black_box, criterion_group, Criterion};
use wallet_core::keccak::keccak256;
use wallet_core::rlp::SliceSink;
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{decode_unsigned, AccessList, TxEip1559, TxKind, TypedTransaction, U256};

/// A fixed, publicly known key: keccak256("flare-wallet bench").
fn bench_key_bytes() -> [u8; 32] {
    keccak256(b"flare-wallet bench")
}

/// 1 ether to a fixed address on mainnet, at 30 gwei with a 2 gwei tip.
fn transfer() -> TxEip1559<'static> {
    TxEip1559 {
        chain_id: 1,
        nonce: 42,
        max_priority_fee_per_gas: U256::from_u64(2_000_000_000),
        max_fee_per_gas: U256::from_u64(30_000_000_000),
        gas_limit: 21_000,
        to: TxKind::Call(Address([0x35; 20])),
        value: U256::from_u64(1_000_000_000_000_000_000),
        input: &[],
        access_list: AccessList::EMPTY,
    }
}

fn signing_payload(tx: &TxEip1559<'_>) -> Vec<u8> {
    let mut payload = vec![0u8; tx.signing_payload_length()];
    let mut sink = SliceSink::new(&mut payload);
    tx.encode_for_signing(&mut sink).unwrap();
    assert_eq!(sink.finish().unwrap(), payload.len());
    payload
}

fn eip1559_transfer(c: &mut Criterion) {
    let key = SecretKey::from_bytes(&bench_key_bytes()).unwrap();
    let payload = signing_payload(&transfer());
    let mut group = c.benchmark_group("eip1559_transfer");

    group.bench_function("decode_hash_sign_encode", |b| {
        let mut out = [0u8; 256];
        b.iter(|| {
            let tx = decode_unsigned(black_box(&payload)).unwrap();
            let hash = tx.signature_hash().unwrap();
            let signature = key.sign_hash(&hash).unwrap();
            let len = tx.encode_signed(&signature, &mut out).unwrap();
            black_box(&out[..len]);
        });
    });

    group.bench_function("build_hash_sign_encode", |b| {
        let mut out = [0u8; 256];
        b.iter(|| {
            let tx = TypedTransaction::from(black_box(transfer()));
            let hash = tx.signature_hash().unwrap();
            let signature = key.sign_hash(&hash).unwrap();
            let len = tx.encode_signed(&signature, &mut out).unwrap();
            black_box(&out[..len]);
        });
    });
    group.finish();
}

fn sign_prehash(c: &mut Criterion) {
    let key_bytes = bench_key_bytes();
    let hash = transfer().signature_hash().unwrap();
    let core_key = SecretKey::from_bytes(&key_bytes).unwrap();
    let k256_key = k256::ecdsa::SigningKey::from_slice(&key_bytes).unwrap();
    let secp = secp256k1::Secp256k1::signing_only();
    let secp_key = secp256k1::SecretKey::from_byte_array(&key_bytes).unwrap();
    let message = secp256k1::Message::from_digest(hash);

    // The three must be the same signature (RFC 6979, low s) for the
    // comparison to mean anything.
    let (k256_sig, k256_recid) = k256_key.sign_prehash_recoverable(&hash);
    let core_sig = core_key.sign_hash(&hash).unwrap();
    let (secp_recid, secp_compact) = secp
        .sign_ecdsa_recoverable(&message, &secp_key)
        .serialize_compact();
    assert_eq!(k256_sig.to_bytes()[..32], core_sig.r);
    assert_eq!(k256_sig.to_bytes()[32..], core_sig.s);
    assert_eq!(secp_compact[..32], core_sig.r);
    assert_eq!(secp_compact[32..], core_sig.s);
    assert_eq!(k256_recid.is_y_odd(), core_sig.y_parity);
    assert_eq!(i32::from(secp_recid) == 1, core_sig.y_parity);

    let mut group = c.benchmark_group("sign_prehash");
    group.bench_function("k256", |b| {
        b.iter(|| k256_key.sign_prehash_recoverable(black_box(&hash)));
    });
    group.bench_function("libsecp256k1", |b| {
        b.iter(|| secp.sign_ecdsa_recoverable(black_box(&message), &secp_key));
    });
    group.bench_function("core_sign_hash", |b| {
        b.iter(|| core_key.sign_hash(black_box(&hash)).unwrap());
    });
    group.finish();
}

fn keccak(c: &mut Criterion) {
    let data = [0xa5u8; 200];
    c.bench_function("keccak256/200B", |b| {
        b.iter(|| keccak256(black_box(&data)));
    });
}

fn rlp(c: &mut Criterion) {
    let tx = transfer();
    let key = SecretKey::from_bytes(&bench_key_bytes()).unwrap();
    let signature = tx.sign(&key).unwrap();
    let mut group = c.benchmark_group("rlp");
    group.bench_function("eip1559_signing_payload", |b| {
        let mut out = [0u8; 256];
        b.iter(|| {
            let tx = black_box(&tx);
            let mut sink = SliceSink::new(&mut out[..tx.signing_payload_length()]);
            tx.encode_for_signing(&mut sink).unwrap();
            black_box(sink.finish().unwrap());
        });
    });
    group.bench_function("eip1559_signed", |b| {
        let mut out = [0u8; 256];
        b.iter(|| black_box(black_box(&tx).encode_signed(&signature, &mut out).unwrap()));
    });
    group.bench_function("eip1559_signature_hash", |b| {
        b.iter(|| black_box(&tx).signature_hash().unwrap());
    });
    group.bench_function("eip1559_decode_unsigned", |b| {
        let payload = signing_payload(&tx);
        b.iter(|| decode_unsigned(black_box(&payload)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, eip1559_transfer, sign_prehash, keccak, rlp);

/// The operations the two extra modes can run, named as their criterion
/// benchmarks are.
const OPERATIONS: [&str; 7] = [
    "k256",
    "libsecp256k1",
    "core_sign_hash",
    "decode_hash_sign_encode",
    "build_hash_sign_encode",
    "keccak256_200",
    "signature_hash",
];

/// The same inputs as the criterion benchmarks, for the extra modes.
struct Inputs {
    key: SecretKey,
    payload: Vec<u8>,
    hash: [u8; 32],
    k256_key: k256::ecdsa::SigningKey,
    secp: secp256k1::Secp256k1<secp256k1::SignOnly>,
    secp_key: secp256k1::SecretKey,
    message: secp256k1::Message,
    data: [u8; 200],
    out: [u8; 256],
}

impl Inputs {
    fn new() -> Self {
        let key_bytes = bench_key_bytes();
        let hash = transfer().signature_hash().unwrap();
        let inputs = Self {
            key: SecretKey::from_bytes(&key_bytes).unwrap(),
            payload: signing_payload(&transfer()),
            hash,
            k256_key: k256::ecdsa::SigningKey::from_slice(&key_bytes).unwrap(),
            secp: secp256k1::Secp256k1::signing_only(),
            secp_key: secp256k1::SecretKey::from_byte_array(&key_bytes).unwrap(),
            message: secp256k1::Message::from_digest(hash),
            data: [0xa5; 200],
            out: [0; 256],
        };
        // Build lazily initialised state (k256's precomputed tables) up front.
        black_box(inputs.key.sign_hash(&hash).unwrap());
        inputs
    }

    fn run(&mut self, operation: &str) {
        match operation {
            "k256" => {
                black_box(
                    self.k256_key
                        .sign_prehash_recoverable(black_box(&self.hash)),
                );
            }
            "libsecp256k1" => {
                black_box(
                    self.secp
                        .sign_ecdsa_recoverable(black_box(&self.message), &self.secp_key),
                );
            }
            "core_sign_hash" => {
                black_box(self.key.sign_hash(black_box(&self.hash)).unwrap());
            }
            "decode_hash_sign_encode" => {
                let tx = decode_unsigned(black_box(&self.payload)).unwrap();
                let signature = self.key.sign_hash(&tx.signature_hash().unwrap()).unwrap();
                black_box(tx.encode_signed(&signature, &mut self.out).unwrap());
            }
            "build_hash_sign_encode" => {
                let tx = TypedTransaction::from(black_box(transfer()));
                let signature = self.key.sign_hash(&tx.signature_hash().unwrap()).unwrap();
                black_box(tx.encode_signed(&signature, &mut self.out).unwrap());
            }
            "keccak256_200" => {
                black_box(keccak256(black_box(&self.data)));
            }
            "signature_hash" => {
                black_box(black_box(transfer()).signature_hash().unwrap());
            }
            other => panic!("unknown operation {other:?}; one of {OPERATIONS:?}"),
        }
    }
}

/// Interleaved timing: each round times a batch of every operation, in a
/// rotating order, so that whatever else the machine is doing weighs on all
/// of them alike; prints each operation's median and its ratio to k256.
fn paired(rounds: usize) {
    const BATCH: u32 = 20;
    let mut inputs = Inputs::new();
    let signing = &OPERATIONS[..5];
    let mut samples = vec![Vec::with_capacity(rounds); signing.len()];
    for round in 0..rounds {
        for step in 0..signing.len() {
            let index = (round + step) % signing.len();
            let start = std::time::Instant::now();
            for _ in 0..BATCH {
                inputs.run(signing[index]);
            }
            samples[index].push(start.elapsed() / BATCH);
        }
    }
    let medians: Vec<_> = samples
        .iter_mut()
        .map(|times| {
            times.sort_unstable();
            times[times.len() / 2]
        })
        .collect();
    let k256 = medians[0].as_secs_f64();
    println!("{rounds} rounds of {BATCH}, interleaved; median per operation:");
    for (operation, median) in signing.iter().zip(&medians) {
        println!(
            "{operation:<26} {:>9.2} us  {:.3} x k256",
            median.as_secs_f64() * 1e6,
            median.as_secs_f64() / k256
        );
    }
}

fn main() {
    if let Ok(spec) = std::env::var("SIGNING_BENCH_REPEAT") {
        let (operation, count) = spec
            .split_once(':')
            .expect("SIGNING_BENCH_REPEAT=<operation>:<count>");
        let mut inputs = Inputs::new();
        for _ in 0..count.parse::<usize>().expect("a count") {
            inputs.run(operation);
        }
        return;
    }
    if let Ok(rounds) = std::env::var("SIGNING_BENCH_PAIRED") {
        paired(rounds.parse().expect("a number of rounds"));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
