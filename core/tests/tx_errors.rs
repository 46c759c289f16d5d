//! Every way a transaction can be refused, each with its typed error.
//! Malformed inputs are built with the independent `rlp` crate.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "support/helpers.rs"]
mod helpers;

use ::rlp::RlpStream;
use wallet_core::rlp::{RlpError, SliceSink};
use wallet_core::signer::{Address, SecretKey, Signature, SignerError};
use wallet_core::tx::{
    decode_signed, decode_unsigned, AccessListItem, Authorization, Fork, TxEip1559, TxEip4844,
    TxEip7702, TxError, TxKind, TxLegacy, TypedTransaction, MAX_CHAIN_ID, U256,
};
use wallet_core::Error;

const N_HALF_PLUS_ONE: &str = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1";

fn key() -> SecretKey {
    SecretKey::from_bytes(&[0x42; 32]).unwrap()
}

fn legacy_base(s: &mut RlpStream) {
    s.append(&1u64); // nonce
    s.append(&2u64); // gas price
    s.append(&21_000u64); // gas
    s.append(&vec![0x11u8; 20]); // to
    s.append(&0u64); // value
    s.append_empty_data(); // data
}

fn legacy_unsigned_with(extra: &[u64]) -> Vec<u8> {
    let mut s = RlpStream::new_list(6 + extra.len());
    legacy_base(&mut s);
    for value in extra {
        s.append(value);
    }
    s.out().to_vec()
}

#[test]
fn legacy_signing_payload_shapes() {
    let pre155_bytes = legacy_unsigned_with(&[]);
    let pre155 = decode_unsigned(&pre155_bytes).unwrap();
    assert_eq!(pre155.chain_id(), None);
    let eip155_bytes = legacy_unsigned_with(&[5, 0, 0]);
    let eip155 = decode_unsigned(&eip155_bytes).unwrap();
    assert_eq!(eip155.chain_id(), Some(5));
    assert_eq!(eip155.to(), TxKind::Call(Address([0x11; 20])));

    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[0, 0, 0])),
        Err(TxError::ChainIdZero)
    );
    assert!(decode_unsigned(&legacy_unsigned_with(&[MAX_CHAIN_ID, 0, 0])).is_ok());
    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[MAX_CHAIN_ID + 1, 0, 0])),
        Err(TxError::ChainIdTooLarge)
    );
    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[1, 1, 0])),
        Err(TxError::NonZeroEip155Placeholder)
    );
    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[1, 0, 1])),
        Err(TxError::NonZeroEip155Placeholder)
    );
    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[1])),
        Err(TxError::TooFewFields)
    );
    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[1, 0])),
        Err(TxError::TooFewFields)
    );
    assert_eq!(
        decode_unsigned(&legacy_unsigned_with(&[1, 0, 0, 0])),
        Err(TxError::TooManyFields)
    );
    let mut five = RlpStream::new_list(5);
    five.append(&1u64).append(&2u64).append(&3u64);
    five.append(&vec![0x11u8; 20]).append(&0u64);
    assert_eq!(decode_unsigned(&five.out()), Err(TxError::TooFewFields));

    let mut short_to = RlpStream::new_list(6);
    short_to.append(&1u64).append(&2u64).append(&3u64);
    short_to
        .append(&vec![0x11u8; 19])
        .append(&0u64)
        .append_empty_data();
    assert_eq!(
        decode_unsigned(&short_to.out()),
        Err(TxError::Rlp(RlpError::UnexpectedLength))
    );
    // Trailing garbage after the list.
    let mut trailing = legacy_unsigned_with(&[1, 0, 0]);
    trailing.push(0x80);
    assert_eq!(
        decode_unsigned(&trailing),
        Err(TxError::Rlp(RlpError::TrailingBytes))
    );
}

#[test]
fn envelope_type_bytes() {
    assert_eq!(decode_unsigned(&[]), Err(TxError::EmptyInput));
    assert_eq!(decode_signed(&[]), Err(TxError::EmptyInput));
    for t in [0x00u8, 0x05, 0x7f] {
        assert_eq!(
            decode_unsigned(&[t, 0xc0]),
            Err(TxError::UnsupportedType(t))
        );
        assert_eq!(decode_signed(&[t, 0xc0]), Err(TxError::UnsupportedType(t)));
    }
    // A bare RLP string is not a transaction.
    assert_eq!(
        decode_signed(&[0x80]),
        Err(TxError::Rlp(RlpError::UnexpectedString))
    );
    assert_eq!(
        decode_unsigned(&[0x02, 0x80]),
        Err(TxError::Rlp(RlpError::UnexpectedString))
    );
    assert_eq!(decode_unsigned(&[0x02, 0xc0]), Err(TxError::TooFewFields));
}

fn sample_1559(chain_id: u64) -> TxEip1559<'static> {
    TxEip1559 {
        chain_id,
        nonce: 7,
        max_priority_fee_per_gas: U256::from_u64(1_000_000_000),
        max_fee_per_gas: U256::from_u64(30_000_000_000),
        gas_limit: 50_000,
        to: TxKind::Call(Address([0x22; 20])),
        value: U256::from_u64(12_345),
        input: b"\x01\x00\x02",
        access_list: Default::default(),
    }
}

fn encode_signed_vec(tx: &TypedTransaction<'_>, sig: &Signature) -> Vec<u8> {
    let mut out = vec![0u8; tx.encoded_signed_len(sig).unwrap()];
    tx.encode_signed(sig, &mut out).unwrap();
    out
}

/// Rebuilds a signed 1559 transaction with the signature fields replaced.
fn with_signature_fields(
    tx: &TxEip1559<'_>,
    y_parity: &dyn Fn(&mut RlpStream),
    r: &[u8],
    s: &[u8],
) -> Vec<u8> {
    let mut stream = RlpStream::new_list(12);
    stream.append(&tx.chain_id).append(&tx.nonce);
    stream.append(&tx.max_priority_fee_per_gas.to_u64().unwrap());
    stream.append(&tx.max_fee_per_gas.to_u64().unwrap());
    stream.append(&tx.gas_limit);
    stream.append(&tx.to.address().unwrap().0.to_vec());
    stream.append(&tx.value.to_u64().unwrap());
    stream.append(&tx.input.to_vec());
    stream.begin_list(0);
    y_parity(&mut stream);
    stream.append(&trim(r)).append(&trim(s));
    let mut out = vec![0x02];
    out.extend_from_slice(&stream.out());
    out
}

fn trim(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

#[test]
fn typed_signature_checks() {
    let tx = sample_1559(1);
    let typed = TypedTransaction::Eip1559(tx);
    let sig = typed.sign(&key()).unwrap();
    let raw = encode_signed_vec(&typed, &sig);

    // The rebuilt encoding equals ours, so the variants below differ only
    // in the field under test.
    let parity = u64::from(sig.y_parity);
    let same = with_signature_fields(
        &tx,
        &|s| {
            s.append(&parity);
        },
        &sig.r,
        &sig.s,
    );
    assert_eq!(same, raw);
    assert_eq!(
        decode_signed(&raw).unwrap().recover_sender().unwrap(),
        key().address()
    );

    let parity_two = with_signature_fields(
        &tx,
        &|s| {
            s.append(&2u64);
        },
        &sig.r,
        &sig.s,
    );
    assert_eq!(decode_signed(&parity_two), Err(TxError::InvalidYParity));

    let high_s = with_signature_fields(
        &tx,
        &|s| {
            s.append(&parity);
        },
        &sig.r,
        &helpers::b32(N_HALF_PLUS_ONE),
    );
    assert_eq!(
        decode_signed(&high_s),
        Err(TxError::InvalidSignature(SignerError::HighS))
    );

    let zero_r = with_signature_fields(
        &tx,
        &|s| {
            s.append(&parity);
        },
        &[],
        &sig.s,
    );
    assert_eq!(
        decode_signed(&zero_r),
        Err(TxError::InvalidSignature(
            SignerError::SignatureScalarOutOfRange
        ))
    );

    // A signed transaction is not a signing payload, and the reverse.
    assert_eq!(decode_unsigned(&raw), Err(TxError::TooManyFields));
    let mut payload = vec![0u8; typed.signing_payload_length()];
    typed
        .encode_for_signing(&mut SliceSink::new(&mut payload))
        .unwrap();
    assert_eq!(decode_signed(&payload), Err(TxError::TooFewFields));
}

fn legacy_signed_with_v(v: &[u8], r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut stream = RlpStream::new_list(9);
    legacy_base(&mut stream);
    stream.append(&trim(v)).append(&trim(r)).append(&trim(s));
    stream.out().to_vec()
}

#[test]
fn legacy_v_values() {
    let r = [0x11u8; 32];
    let s = [0x22u8; 32];
    for v in [0u64, 1, 26, 29, 30, 34] {
        assert_eq!(
            decode_signed(&legacy_signed_with_v(&v.to_be_bytes(), &r, &s)),
            Err(TxError::InvalidV),
            "v = {v}"
        );
    }
    for v in [35u64, 36] {
        assert_eq!(
            decode_signed(&legacy_signed_with_v(&v.to_be_bytes(), &r, &s)),
            Err(TxError::ChainIdZero),
            "v = {v}"
        );
    }
    for (v, chain_id, parity) in [
        (27u64, None, false),
        (28, None, true),
        (37, Some(1), false),
        (38, Some(1), true),
    ] {
        let raw = legacy_signed_with_v(&v.to_be_bytes(), &r, &s);
        let signed = decode_signed(&raw).unwrap();
        assert_eq!(signed.transaction().chain_id(), chain_id);
        assert_eq!(signed.signature().y_parity, parity);
    }
    assert_eq!(
        decode_signed(&legacy_signed_with_v(&u64::MAX.to_be_bytes(), &r, &s)),
        Err(TxError::ChainIdTooLarge)
    );
    assert_eq!(
        decode_signed(&legacy_signed_with_v(&[1, 0, 0, 0, 0, 0, 0, 0, 0], &r, &s)),
        Err(TxError::Rlp(RlpError::IntegerOverflow))
    );
    assert_eq!(
        decode_signed(&legacy_signed_with_v(
            &[37],
            &r,
            &helpers::b32(N_HALF_PLUS_ONE)
        )),
        Err(TxError::InvalidSignature(SignerError::HighS))
    );
}

#[test]
fn largest_chain_id_signs_and_round_trips() {
    let tx = TypedTransaction::Legacy(TxLegacy {
        chain_id: Some(MAX_CHAIN_ID),
        nonce: 0,
        gas_price: U256::from_u64(1),
        gas_limit: 21_000,
        to: TxKind::Call(Address([0x33; 20])),
        value: U256::ZERO,
        input: &[],
    });
    let sig = tx.sign(&key()).unwrap();
    let raw = encode_signed_vec(&tx, &sig);
    let decoded = decode_signed(&raw).unwrap();
    assert_eq!(decoded.transaction(), &tx);
    assert_eq!(decoded.recover_sender().unwrap(), key().address());
    let TypedTransaction::Legacy(legacy) = tx else {
        unreachable!()
    };
    // v = 2 * MAX_CHAIN_ID + 35 + parity, still inside u64.
    assert_eq!(
        u128::from(legacy.v(sig.y_parity).unwrap()),
        2 * u128::from(MAX_CHAIN_ID) + 35 + u128::from(sig.y_parity)
    );
}

#[test]
fn signing_refuses_bad_chain_ids() {
    for (chain_id, error) in [
        (0, TxError::ChainIdZero),
        (MAX_CHAIN_ID + 1, TxError::ChainIdTooLarge),
        (u64::MAX, TxError::ChainIdTooLarge),
    ] {
        let tx = TypedTransaction::Eip1559(sample_1559(chain_id));
        assert_eq!(tx.signature_hash(), Err(error));
        assert_eq!(tx.sign(&key()), Err(Error::Tx(error)));
        let mut sink = SliceSink::new(&mut []);
        assert_eq!(tx.encode_for_signing(&mut sink), Err(error));
        assert_eq!(sink.written(), 0);
        let legacy = TypedTransaction::Legacy(TxLegacy {
            chain_id: Some(chain_id),
            nonce: 0,
            gas_price: U256::ZERO,
            gas_limit: 0,
            to: TxKind::Create,
            value: U256::ZERO,
            input: &[],
        });
        assert_eq!(legacy.signature_hash(), Err(error));
    }
}

#[test]
fn encoding_refuses_a_high_s_signature() {
    let tx = TypedTransaction::Eip1559(sample_1559(1));
    let mut sig = tx.sign(&key()).unwrap();
    sig.s = helpers::b32(N_HALF_PLUS_ONE);
    let mut out = [0u8; 256];
    assert_eq!(
        tx.encode_signed(&sig, &mut out),
        Err(TxError::InvalidSignature(SignerError::HighS))
    );
}

#[test]
fn blob_and_set_code_transactions_need_a_recipient() {
    // 0x03 || rlp([chainId, nonce, tip, maxFee, gas, to = "", value, data, [], maxBlobFee, []])
    let mut blob = RlpStream::new_list(11);
    blob.append(&1u64)
        .append(&0u64)
        .append(&1u64)
        .append(&1u64)
        .append(&21_000u64);
    blob.append_empty_data().append(&0u64).append_empty_data();
    blob.begin_list(0);
    blob.append(&1u64);
    blob.begin_list(0);
    let mut raw = vec![0x03];
    raw.extend_from_slice(&blob.out());
    assert_eq!(
        decode_unsigned(&raw),
        Err(TxError::ContractCreationNotAllowed)
    );

    let mut set_code = RlpStream::new_list(10);
    set_code
        .append(&1u64)
        .append(&0u64)
        .append(&1u64)
        .append(&1u64)
        .append(&21_000u64);
    set_code
        .append_empty_data()
        .append(&0u64)
        .append_empty_data();
    set_code.begin_list(0);
    set_code.begin_list(0);
    let mut raw = vec![0x04];
    raw.extend_from_slice(&set_code.out());
    assert_eq!(
        decode_unsigned(&raw),
        Err(TxError::ContractCreationNotAllowed)
    );
}

#[test]
fn authorization_fields_are_bounded_but_signatures_checked_late() {
    // An authorization with y_parity 2 decodes (the EIP allows < 2^8) but
    // cannot recover; chain id 0 is allowed for authorizations.
    let mut list = RlpStream::new_list(10);
    list.append(&1u64)
        .append(&0u64)
        .append(&1u64)
        .append(&1u64)
        .append(&100_000u64);
    list.append(&vec![0x44u8; 20])
        .append(&0u64)
        .append_empty_data();
    list.begin_list(0);
    list.begin_list(1);
    list.begin_list(6);
    list.append(&0u64).append(&vec![0x55u8; 20]).append(&3u64);
    list.append(&2u64).append(&1u64).append(&1u64);
    let mut raw = vec![0x04];
    raw.extend_from_slice(&list.out());
    let tx = decode_unsigned(&raw).unwrap();
    let auth = tx.authorization_list().unwrap().iter().next().unwrap();
    assert_eq!(auth.authorization.chain_id, U256::ZERO);
    assert_eq!(auth.y_parity, 2);
    assert_eq!(
        auth.recover_authority(),
        Err(SignerError::InvalidRecoveryByte)
    );

    // An authorization nonce above u64 makes the transaction invalid.
    let mut list = RlpStream::new_list(10);
    list.append(&1u64)
        .append(&0u64)
        .append(&1u64)
        .append(&1u64)
        .append(&100_000u64);
    list.append(&vec![0x44u8; 20])
        .append(&0u64)
        .append_empty_data();
    list.begin_list(0);
    list.begin_list(1);
    list.begin_list(6);
    list.append(&0u64)
        .append(&vec![0x55u8; 20])
        .append(&u128::MAX);
    list.append(&0u64).append(&1u64).append(&1u64);
    let mut raw = vec![0x04];
    raw.extend_from_slice(&list.out());
    assert_eq!(
        decode_unsigned(&raw),
        Err(TxError::Rlp(RlpError::IntegerOverflow))
    );
}

#[test]
fn stateless_rules() {
    let base = sample_1559(1);
    let check = |tx: TxEip1559<'_>, fork| TypedTransaction::Eip1559(tx).validate(fork, 1);
    assert_eq!(check(base, Fork::Prague), Ok(()));
    assert_eq!(check(base, Fork::Cancun), Ok(()));
    assert_eq!(
        TypedTransaction::Eip1559(base).validate(Fork::Prague, 2),
        Err(TxError::WrongChainId)
    );
    assert_eq!(
        check(
            TxEip1559 {
                nonce: u64::MAX,
                ..base
            },
            Fork::Prague
        ),
        Err(TxError::NonceTooLarge)
    );
    assert_eq!(
        check(
            TxEip1559 {
                max_priority_fee_per_gas: U256::from_u64(30_000_000_001),
                ..base
            },
            Fork::Prague
        ),
        Err(TxError::PriorityFeeAboveMaxFee)
    );
    assert_eq!(
        check(
            TxEip1559 {
                max_priority_fee_per_gas: U256::ZERO,
                max_fee_per_gas: U256::MAX,
                ..base
            },
            Fork::Prague
        ),
        Err(TxError::FeeCostOverflow)
    );
    // 21000 + 4 + 2*16 = 21036 intrinsic gas.
    assert_eq!(TypedTransaction::Eip1559(base).intrinsic_gas(), 21_036);
    assert_eq!(
        check(
            TxEip1559 {
                gas_limit: 21_035,
                ..base
            },
            Fork::Cancun
        ),
        Err(TxError::IntrinsicGasTooLow)
    );
    assert_eq!(
        check(
            TxEip1559 {
                gas_limit: 21_036,
                ..base
            },
            Fork::Cancun
        ),
        Ok(())
    );
    // EIP-7623: 1000 non-zero bytes cost 16000 intrinsic but 40000 floor.
    let calldata = [0xffu8; 1000];
    let heavy = TxEip1559 {
        input: &calldata,
        gas_limit: 37_000,
        ..base
    };
    assert_eq!(TypedTransaction::Eip1559(heavy).intrinsic_gas(), 37_000);
    assert_eq!(TypedTransaction::Eip1559(heavy).floor_data_gas(), 61_000);
    assert_eq!(check(heavy, Fork::Cancun), Ok(()));
    assert_eq!(
        check(heavy, Fork::Prague),
        Err(TxError::GasLimitBelowDataFloor)
    );
    // EIP-3860: init code limit, and the creation costs.
    let init_code = vec![0u8; 49_153];
    let create = TxEip1559 {
        to: TxKind::Create,
        input: &init_code,
        gas_limit: 30_000_000,
        ..base
    };
    assert_eq!(check(create, Fork::Cancun), Err(TxError::InitCodeTooLarge));
    let create = TxEip1559 {
        input: &init_code[..64],
        ..create
    };
    // 21000 + 32000 + 64*4 + 2 words * 2
    assert_eq!(TypedTransaction::Eip1559(create).intrinsic_gas(), 53_260);
    // Access lists: 2400 per address, 1900 per key.
    let keys = [[1u8; 32], [2u8; 32]];
    let items = [AccessListItem {
        address: Address([9; 20]),
        storage_keys: (&keys[..]).into(),
    }];
    let with_list = TxEip1559 {
        access_list: (&items[..]).into(),
        ..base
    };
    assert_eq!(
        TypedTransaction::Eip1559(with_list).intrinsic_gas(),
        21_036 + 2_400 + 2 * 1_900
    );
}

#[test]
fn blob_and_authorization_rules() {
    let mut good_hash = [0u8; 32];
    good_hash[0] = 1;
    let hashes = [good_hash; 10];
    let blob = TxEip4844 {
        chain_id: 1,
        nonce: 0,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(1),
        gas_limit: 21_000,
        to: Address([1; 20]),
        value: U256::ZERO,
        input: &[],
        access_list: Default::default(),
        max_fee_per_blob_gas: U256::from_u64(1),
        blob_versioned_hashes: (&hashes[..6]).into(),
    };
    let check = |tx: TxEip4844<'_>, fork| TypedTransaction::Eip4844(tx).validate(fork, 1);
    assert_eq!(check(blob, Fork::Cancun), Ok(()));
    let seven = TxEip4844 {
        blob_versioned_hashes: (&hashes[..7]).into(),
        ..blob
    };
    assert_eq!(check(seven, Fork::Cancun), Err(TxError::TooManyBlobs));
    assert_eq!(check(seven, Fork::Prague), Ok(()));
    let ten = TxEip4844 {
        blob_versioned_hashes: (&hashes[..]).into(),
        ..blob
    };
    assert_eq!(check(ten, Fork::Prague), Err(TxError::TooManyBlobs));
    let none = TxEip4844 {
        blob_versioned_hashes: Default::default(),
        ..blob
    };
    assert_eq!(check(none, Fork::Prague), Err(TxError::NoBlobs));
    let bad = [[2u8; 32]];
    let wrong_version = TxEip4844 {
        blob_versioned_hashes: (&bad[..]).into(),
        ..blob
    };
    assert_eq!(
        check(wrong_version, Fork::Prague),
        Err(TxError::InvalidBlobVersion)
    );

    let set_code = TxEip7702 {
        chain_id: 1,
        nonce: 0,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(1),
        gas_limit: 100_000,
        to: Address([1; 20]),
        value: U256::ZERO,
        input: &[],
        access_list: Default::default(),
        authorization_list: Default::default(),
    };
    assert_eq!(
        TypedTransaction::Eip7702(set_code).validate(Fork::Prague, 1),
        Err(TxError::EmptyAuthorizationList)
    );
    let auths = [Authorization {
        chain_id: U256::ZERO,
        address: Address([2; 20]),
        nonce: 0,
    }
    .sign(&key())
    .unwrap()];
    let set_code = TxEip7702 {
        authorization_list: (&auths[..]).into(),
        ..set_code
    };
    let tx = TypedTransaction::Eip7702(set_code);
    assert_eq!(tx.intrinsic_gas(), 21_000 + 25_000);
    assert_eq!(tx.validate(Fork::Prague, 1), Ok(()));
}
