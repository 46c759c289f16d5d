//! Property tests: RLP against the `rlp` crate (parity's implementation) as
//! an oracle, and sign → encode → decode → recover for random transactions of
//! every type, with their encodings also rebuilt by the `rlp` crate.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use ::rlp::RlpStream;
use proptest::prelude::*;
use wallet_core::keccak::keccak256;
use wallet_core::rlp::{self as wrlp, Encodable, Item, RlpError, RlpSink, SliceSink};
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{
    decode_signed, decode_unsigned, AccessListItem, Authorization, SignedAuthorization, TxEip1559,
    TxEip2930, TxEip4844, TxEip7702, TxKind, TxLegacy, TypedTransaction, MAX_CHAIN_ID, U256,
};

// ------------------------------------------------------------------ RLP

#[derive(Debug, Clone, PartialEq)]
enum Tree {
    Bytes(Vec<u8>),
    List(Vec<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2).prop_map(Tree::Bytes),
        prop::collection::vec(any::<u8>(), 0..80).prop_map(Tree::Bytes),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop::collection::vec(inner, 0..8).prop_map(Tree::List)
    })
}

impl Tree {
    fn payload_length(items: &[Tree]) -> usize {
        items.iter().map(Tree::length).sum()
    }

    fn length(&self) -> usize {
        match self {
            Tree::Bytes(bytes) => wrlp::bytes_length(bytes),
            Tree::List(items) => {
                let payload = Self::payload_length(items);
                wrlp::list_header_length(payload) + payload
            }
        }
    }

    fn encode(&self, out: &mut dyn RlpSink) {
        match self {
            Tree::Bytes(bytes) => wrlp::encode_bytes(bytes, out),
            Tree::List(items) => {
                wrlp::encode_list_header(Self::payload_length(items), out);
                for item in items {
                    item.encode(out);
                }
            }
        }
    }

    fn oracle(&self, stream: &mut RlpStream) {
        match self {
            Tree::Bytes(bytes) => {
                stream.append(bytes);
            }
            Tree::List(items) => {
                stream.begin_list(items.len());
                for item in items {
                    item.oracle(stream);
                }
            }
        }
    }

    fn decode(buf: &mut &[u8]) -> Result<Tree, RlpError> {
        Ok(match Item::decode(buf)? {
            Item::Bytes(bytes) => Tree::Bytes(bytes.to_vec()),
            Item::List(mut payload) => {
                let mut items = Vec::new();
                while !payload.is_empty() {
                    items.push(Self::decode(&mut payload)?);
                }
                Tree::List(items)
            }
        })
    }
}

fn encode_vec(value: &dyn Fn(&mut dyn RlpSink), len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut sink = SliceSink::new(&mut out);
    value(&mut sink);
    assert_eq!(sink.finish().unwrap(), len);
    out
}

/// A 256-bit value with a random number of leading zero bytes, so that every
/// encoded length from 0 to 32 bytes is exercised.
fn u256() -> impl Strategy<Value = [u8; 32]> {
    (0usize..=32, any::<[u8; 32]>()).prop_map(|(zeros, mut bytes)| {
        bytes[..zeros].fill(0);
        bytes
    })
}

fn trimmed(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rlp_trees_match_the_rlp_crate_and_round_trip(t in tree()) {
        let ours = encode_vec(&|out| t.encode(out), t.length());
        let mut stream = RlpStream::new();
        t.oracle(&mut stream);
        prop_assert_eq!(&ours, &stream.out().to_vec());
        let mut cursor = &ours[..];
        prop_assert_eq!(Tree::decode(&mut cursor).unwrap(), t);
        prop_assert!(cursor.is_empty());
    }

    #[test]
    fn rlp_integers_match_the_rlp_crate(a in any::<u64>(), b in any::<u128>(), c in u256()) {
        let ours = encode_vec(&|out| a.encode(out), a.length());
        prop_assert_eq!(&ours, &::rlp::encode(&a).to_vec());
        prop_assert_eq!(wrlp::decode_u64(&mut &ours[..]).unwrap(), a);

        let ours = encode_vec(&|out| b.encode(out), b.length());
        prop_assert_eq!(&ours, &::rlp::encode(&b).to_vec());
        prop_assert_eq!(wrlp::decode_u128(&mut &ours[..]).unwrap(), b);

        // A 256-bit integer is its minimal big-endian bytes as an RLP string.
        let value = U256(c);
        let ours = encode_vec(&|out| value.encode(out), value.length());
        prop_assert_eq!(&ours, &::rlp::encode(&trimmed(&c)).to_vec());
        prop_assert_eq!(U256::decode(&mut &ours[..]).unwrap(), value);
    }

    /// Whatever the strict decoder accepts is canonical: re-encoding gives
    /// back the input exactly. And it never panics.
    #[test]
    fn rlp_decoder_accepts_only_canonical_input(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut cursor = &bytes[..];
        if let Ok(t) = Tree::decode(&mut cursor) {
            let consumed = bytes.len() - cursor.len();
            let again = encode_vec(&|out| t.encode(out), t.length());
            prop_assert_eq!(&again[..], &bytes[..consumed]);
        }
    }
}

// ------------------------------------------------------------------ transactions

type Auth = ([u8; 32], [u8; 20], u64, u8, [u8; 32], [u8; 32]);

/// Everything a random transaction borrows, owned by the test.
#[derive(Debug, Clone)]
struct OwnedTx {
    ty: u8,
    legacy_chain_id: Option<u64>,
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    fee_a: [u8; 32],
    fee_b: [u8; 32],
    blob_fee: [u8; 32],
    to: Option<[u8; 20]>,
    value: [u8; 32],
    input: Vec<u8>,
    access: Vec<([u8; 20], Vec<[u8; 32]>)>,
    blobs: Vec<[u8; 32]>,
    auths: Vec<Auth>,
    key: [u8; 32],
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), 0u64..300, Just(0), Just(u64::MAX)]
}

fn chain_id() -> impl Strategy<Value = u64> {
    prop_oneof![1u64..100_000, 1..=MAX_CHAIN_ID, Just(1), Just(MAX_CHAIN_ID)]
}

fn owned_tx() -> impl Strategy<Value = OwnedTx> {
    let access = prop::collection::vec(
        (
            any::<[u8; 20]>(),
            prop::collection::vec(any::<[u8; 32]>(), 0..3),
        ),
        0..3,
    );
    let auth = (
        u256(),
        any::<[u8; 20]>(),
        any_u64(),
        any::<u8>(),
        u256(),
        u256(),
    );
    (
        (
            0u8..=4,
            prop::option::of(chain_id()),
            chain_id(),
            any_u64(),
            any_u64(),
            u256(),
            u256(),
            u256(),
        ),
        (
            prop::option::of(any::<[u8; 20]>()),
            u256(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..4),
                prop::collection::vec(any::<u8>(), 0..300),
                prop::collection::vec(Just(0u8), 0..100),
            ],
            access,
            prop::collection::vec(any::<[u8; 32]>(), 0..4),
            prop::collection::vec(auth, 0..3),
            any::<[u8; 32]>().prop_filter("valid key", |k| SecretKey::from_bytes(k).is_ok()),
        ),
    )
        .prop_map(
            |(
                (ty, legacy_chain_id, chain_id, nonce, gas_limit, fee_a, fee_b, blob_fee),
                (to, value, input, access, blobs, auths, key),
            )| OwnedTx {
                ty,
                legacy_chain_id,
                chain_id,
                nonce,
                gas_limit,
                fee_a,
                fee_b,
                blob_fee,
                to,
                value,
                input,
                access,
                blobs,
                auths,
                key,
            },
        )
}

/// Builds the borrowed transaction and hands it to `f`.
fn with_tx<R>(o: &OwnedTx, f: impl FnOnce(TypedTransaction<'_>) -> R) -> R {
    let items: Vec<AccessListItem<'_>> = o
        .access
        .iter()
        .map(|(address, keys)| AccessListItem {
            address: Address(*address),
            storage_keys: keys[..].into(),
        })
        .collect();
    let auths: Vec<SignedAuthorization> = o
        .auths
        .iter()
        .map(
            |(chain_id, address, nonce, y_parity, r, s)| SignedAuthorization {
                authorization: Authorization {
                    chain_id: U256(*chain_id),
                    address: Address(*address),
                    nonce: *nonce,
                },
                y_parity: *y_parity,
                r: U256(*r),
                s: U256(*s),
            },
        )
        .collect();
    let kind = o.to.map_or(TxKind::Create, |a| TxKind::Call(Address(a)));
    let to = Address(o.to.unwrap_or([0x77; 20]));
    let tx = match o.ty {
        0 => TypedTransaction::Legacy(TxLegacy {
            chain_id: o.legacy_chain_id,
            nonce: o.nonce,
            gas_price: U256(o.fee_a),
            gas_limit: o.gas_limit,
            to: kind,
            value: U256(o.value),
            input: &o.input,
        }),
        1 => TypedTransaction::Eip2930(TxEip2930 {
            chain_id: o.chain_id,
            nonce: o.nonce,
            gas_price: U256(o.fee_a),
            gas_limit: o.gas_limit,
            to: kind,
            value: U256(o.value),
            input: &o.input,
            access_list: items[..].into(),
        }),
        2 => TypedTransaction::Eip1559(TxEip1559 {
            chain_id: o.chain_id,
            nonce: o.nonce,
            max_priority_fee_per_gas: U256(o.fee_a),
            max_fee_per_gas: U256(o.fee_b),
            gas_limit: o.gas_limit,
            to: kind,
            value: U256(o.value),
            input: &o.input,
            access_list: items[..].into(),
        }),
        3 => TypedTransaction::Eip4844(TxEip4844 {
            chain_id: o.chain_id,
            nonce: o.nonce,
            max_priority_fee_per_gas: U256(o.fee_a),
            max_fee_per_gas: U256(o.fee_b),
            gas_limit: o.gas_limit,
            to,
            value: U256(o.value),
            input: &o.input,
            access_list: items[..].into(),
            max_fee_per_blob_gas: U256(o.blob_fee),
            blob_versioned_hashes: o.blobs[..].into(),
        }),
        _ => TypedTransaction::Eip7702(TxEip7702 {
            chain_id: o.chain_id,
            nonce: o.nonce,
            max_priority_fee_per_gas: U256(o.fee_a),
            max_fee_per_gas: U256(o.fee_b),
            gas_limit: o.gas_limit,
            to,
            value: U256(o.value),
            input: &o.input,
            access_list: items[..].into(),
            authorization_list: auths[..].into(),
        }),
    };
    f(tx)
}

/// The transaction encoded by the `rlp` crate from the owned fields:
/// the signing payload when `signature` is `None`, else the signed form with
/// `(v or yParity, r, s)`.
fn oracle(o: &OwnedTx, signature: Option<(u64, &[u8; 32], &[u8; 32])>) -> Vec<u8> {
    let to_3_4 = o.to.unwrap_or([0x77; 20]).to_vec();
    let to = o.to.map(|a| a.to_vec()).unwrap_or_default();
    let append_access = |s: &mut RlpStream| {
        s.begin_list(o.access.len());
        for (address, keys) in &o.access {
            s.begin_list(2);
            s.append(&address.to_vec());
            s.begin_list(keys.len());
            for key in keys {
                s.append(&key.to_vec());
            }
        }
    };
    let sig_fields = usize::from(signature.is_some()) * 3;
    let mut s = RlpStream::new();
    match o.ty {
        0 => {
            let placeholder = o.legacy_chain_id.is_some() && signature.is_none();
            s.begin_list(6 + if placeholder { 3 } else { sig_fields });
            s.append(&o.nonce)
                .append(&trimmed(&o.fee_a))
                .append(&o.gas_limit);
            s.append(&to).append(&trimmed(&o.value)).append(&o.input);
            if placeholder {
                s.append(&o.legacy_chain_id.unwrap())
                    .append(&0u8)
                    .append(&0u8);
            }
        }
        1 => {
            s.begin_list(8 + sig_fields);
            s.append(&o.chain_id)
                .append(&o.nonce)
                .append(&trimmed(&o.fee_a));
            s.append(&o.gas_limit)
                .append(&to)
                .append(&trimmed(&o.value))
                .append(&o.input);
            append_access(&mut s);
        }
        _ => {
            let (fields, to) = match o.ty {
                2 => (9, &to),
                3 => (11, &to_3_4),
                _ => (10, &to_3_4),
            };
            s.begin_list(fields + sig_fields);
            s.append(&o.chain_id)
                .append(&o.nonce)
                .append(&trimmed(&o.fee_a));
            s.append(&trimmed(&o.fee_b)).append(&o.gas_limit).append(to);
            s.append(&trimmed(&o.value)).append(&o.input);
            append_access(&mut s);
            if o.ty == 3 {
                s.append(&trimmed(&o.blob_fee));
                s.begin_list(o.blobs.len());
                for hash in &o.blobs {
                    s.append(&hash.to_vec());
                }
            }
            if o.ty == 4 {
                s.begin_list(o.auths.len());
                for (chain_id, address, nonce, y_parity, r, sv) in &o.auths {
                    s.begin_list(6);
                    s.append(&trimmed(chain_id))
                        .append(&address.to_vec())
                        .append(nonce);
                    s.append(y_parity).append(&trimmed(r)).append(&trimmed(sv));
                }
            }
        }
    }
    if let Some((v, r, sv)) = signature {
        s.append(&v).append(&trimmed(r)).append(&trimmed(sv));
    }
    let mut out = Vec::new();
    if o.ty != 0 {
        out.push(o.ty);
    }
    out.extend_from_slice(&s.out());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_type_signs_encodes_decodes_and_recovers(o in owned_tx()) {
        let key = SecretKey::from_bytes(&o.key).unwrap();
        with_tx(&o, |tx| -> Result<(), TestCaseError> {
            // Signing payload: ours equals the rlp crate's, hashes to the
            // signature hash, and decodes back to the same transaction.
            let payload = encode_vec(&|out| tx.encode_for_signing(out).unwrap(), tx.signing_payload_length());
            prop_assert_eq!(&payload, &oracle(&o, None));
            prop_assert_eq!(keccak256(&payload), tx.signature_hash().unwrap());
            prop_assert_eq!(decode_unsigned(&payload).unwrap(), tx);

            // Signed form.
            let sig = tx.sign(&key).unwrap();
            let len = tx.encoded_signed_len(&sig).unwrap();
            let mut raw = vec![0u8; len];
            prop_assert_eq!(tx.encode_signed(&sig, &mut raw).unwrap(), len);
            let v = match tx {
                TypedTransaction::Legacy(legacy) => legacy.v(sig.y_parity).unwrap(),
                _ => u64::from(sig.y_parity),
            };
            prop_assert_eq!(&raw, &oracle(&o, Some((v, &sig.r, &sig.s))));

            let signed = decode_signed(&raw).unwrap();
            prop_assert_eq!(signed.transaction(), &tx);
            prop_assert_eq!(signed.signature(), sig);
            prop_assert_eq!(signed.hash(), keccak256(&raw));
            prop_assert_eq!(signed.recover_sender().unwrap(), key.address());

            // One byte short is refused without writing.
            if len > 0 {
                let mut short = vec![0u8; len - 1];
                prop_assert!(tx.encode_signed(&sig, &mut short).is_err());
                prop_assert!(short.iter().all(|&b| b == 0));
            }
            Ok(())
        })?;
    }

    /// Mutated or truncated transactions never panic the decoders, and any
    /// mutation that still decodes re-encodes to exactly the same bytes.
    #[test]
    fn mutated_transactions_never_panic(o in owned_tx(), position in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let key = SecretKey::from_bytes(&o.key).unwrap();
        let raw = with_tx(&o, |tx| {
            let sig = tx.sign(&key).unwrap();
            let mut raw = vec![0u8; tx.encoded_signed_len(&sig).unwrap()];
            tx.encode_signed(&sig, &mut raw).unwrap();
            raw
        });
        let mut mutated = raw.clone();
        let i = position % mutated.len();
        mutated[i] = byte;
        mutated.truncate(mutated.len() - cut % 4);
        if let Ok(signed) = decode_signed(&mutated) {
            let mut again = vec![0u8; mutated.len()];
            let len = signed.transaction().encode_signed(&signed.signature(), &mut again).unwrap();
            prop_assert_eq!(&again[..len], &mutated[..]);
            let _ = signed.recover_sender();
        }
        if let Ok(tx) = decode_unsigned(&mutated) {
            let again = encode_vec(&|out| tx.encode_for_signing(out).unwrap(), tx.signing_payload_length());
            prop_assert_eq!(&again, &mutated);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_signed(&bytes);
        let _ = decode_unsigned(&bytes);
    }
}
