//! Known-answer tests for transaction signing, from published sources.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "support/helpers.rs"]
mod helpers;

use helpers::{addr, b32, dec, u256_dec, unhex};
use wallet_core::keccak::keccak256;
use wallet_core::rlp::SliceSink;
use wallet_core::signer::{Address, SecretKey, Signature};
use wallet_core::tx::{
    decode_signed, decode_unsigned, sign_unsigned, AccessListItem, Authorization,
    SignedAuthorization, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxError, TxKind, TxLegacy,
    TypedTransaction, U256,
};

/// The key of eth-account's `sign_transaction` docstring examples.
const ETH_ACCOUNT_DOC_KEY: &str =
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

fn signing_payload(tx: &TypedTransaction<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; tx.signing_payload_length()];
    let mut sink = SliceSink::new(&mut buf);
    tx.encode_for_signing(&mut sink).unwrap();
    assert_eq!(sink.finish().unwrap(), buf.len());
    buf
}

fn sign_encode(tx: &TypedTransaction<'_>, key: &SecretKey) -> (Signature, Vec<u8>) {
    let sig = tx.sign(key).unwrap();
    let len = tx.encoded_signed_len(&sig).unwrap();
    let mut raw = vec![0u8; len];
    assert_eq!(tx.encode_signed(&sig, &mut raw).unwrap(), len);
    (sig, raw)
}

/// Everything that must hold for a signed transaction we produced: it decodes
/// back to the same transaction and signature, recovers the signer, hashes to
/// keccak(raw); its signing payload decodes back to the transaction; and the
/// one-call `sign_unsigned` path gives the same bytes.
fn assert_consistent(tx: &TypedTransaction<'_>, key: &SecretKey, sig: &Signature, raw: &[u8]) {
    let signed = decode_signed(raw).unwrap();
    assert_eq!(signed.transaction(), tx);
    assert_eq!(signed.signature(), *sig);
    assert_eq!(signed.recover_sender().unwrap(), key.address());
    assert_eq!(signed.hash(), keccak256(raw));
    let payload = signing_payload(tx);
    assert_eq!(keccak256(&payload), tx.signature_hash().unwrap());
    assert_eq!(decode_unsigned(&payload).unwrap(), *tx);
    let mut out = vec![0u8; raw.len()];
    assert_eq!(sign_unsigned(&payload, key, &mut out).unwrap(), raw.len());
    assert_eq!(out, raw);
}

/// EIP-155 "Example": https://eips.ethereum.org/EIPS/eip-155
#[test]
fn eip155_worked_example() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    let tx = TypedTransaction::Legacy(TxLegacy {
        chain_id: Some(1),
        nonce: 9,
        gas_price: U256::from_u64(20_000_000_000),
        gas_limit: 21_000,
        to: TxKind::Call(Address([0x35; 20])),
        value: U256::from_u64(1_000_000_000_000_000_000),
        input: &[],
    });
    assert_eq!(
        signing_payload(&tx),
        unhex("ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080")
    );
    assert_eq!(
        tx.signature_hash().unwrap(),
        b32("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
    );
    let (sig, raw) = sign_encode(&tx, &key);
    assert_eq!(
        sig.r,
        dec("18515461264373351373200002665853028612451056578545711640558177340181847433846")
    );
    assert_eq!(
        sig.s,
        dec("46948507304638947509940763649030358759909902576025900602547168820602576006531")
    );
    assert_eq!(
        raw,
        unhex("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83")
    );
    // v = 37 = 1·2 + 35 + 0
    let TypedTransaction::Legacy(legacy) = tx else {
        unreachable!()
    };
    assert_eq!(legacy.v(sig.y_parity).unwrap(), 37);
    assert_consistent(&tx, &key, &sig, &raw);
    assert_eq!(
        decode_signed(&raw).unwrap().recover_sender().unwrap(),
        addr("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    );
}

/// A published signed transaction is identified by its hash, r, s and v, and
/// the docstrings print the raw bytes with the middle elided.
struct Published {
    /// Keccak-256 of the raw transaction, or `None` where the source hashed
    /// something else.
    hash: Option<&'static str>,
    r: &'static str,
    s: &'static str,
    v: u64,
    raw_prefix: &'static str,
    raw_suffix: &'static str,
}

fn check_published(tx: &TypedTransaction<'_>, key: &SecretKey, expected: &Published) {
    let (sig, raw) = sign_encode(tx, key);
    assert_eq!(sig.r, dec(expected.r), "r");
    assert_eq!(sig.s, dec(expected.s), "s");
    let v = match tx {
        TypedTransaction::Legacy(legacy) => legacy.v(sig.y_parity).unwrap(),
        _ => u64::from(sig.y_parity),
    };
    assert_eq!(v, expected.v, "v");
    if let Some(hash) = expected.hash {
        assert_eq!(keccak256(&raw), b32(hash), "hash");
    }
    let raw_hex = hex::encode(&raw);
    assert!(raw_hex.starts_with(expected.raw_prefix), "{raw_hex}");
    assert!(raw_hex.ends_with(expected.raw_suffix), "{raw_hex}");
    assert_consistent(tx, key, &sig, &raw);
}

const DOC_STORAGE_KEYS: [[u8; 32]; 1] = {
    let mut key = [0u8; 32];
    key[0] = 1;
    [key]
};

fn doc_access_list() -> [AccessListItem<'static>; 1] {
    let mut address = [0u8; 20];
    address[19] = 1;
    [AccessListItem {
        address: Address(address),
        storage_keys: (&DOC_STORAGE_KEYS[..]).into(),
    }]
}

fn doc_key() -> SecretKey {
    SecretKey::from_bytes(&b32(ETH_ACCOUNT_DOC_KEY)).unwrap()
}

/// eth-account 0.14.0, `Account.sign_transaction` docstring, legacy example.
#[test]
fn eth_account_doc_legacy() {
    let tx = TypedTransaction::Legacy(TxLegacy {
        chain_id: Some(1337),
        nonce: 0,
        gas_price: U256::from_u64(234_567_897_654_321),
        gas_limit: 2_000_000,
        to: TxKind::Call(addr("0xF0109fC8DF283027b6285cc889F5aA624EaC1F55")),
        value: U256::from_u64(1_000_000_000),
        input: &[],
    });
    check_published(
        &tx,
        &doc_key(),
        &Published {
            hash: Some("d0a3e5dc7439f260c64cb0220139ec5dc7e016f82ce272a25a0f0b38fe751673"),
            r: "11971260903864915610009019893820767192081275151191539081612245320300335068143",
            s: "35365272040292958794699923036506252105590820339897221552886630515981233937234",
            v: 2709,
            raw_prefix: "f86c8086d55698372431831e848094f0109fc8df283027b6285cc889f5aa624eac1f55843b9aca0080820a95a01a7",
            raw_suffix: "c0bfdb52",
        },
    );
}

/// eth-account 0.14.0, `Account.sign_transaction` docstring, access-list example.
#[test]
fn eth_account_doc_eip2930() {
    let access_list = doc_access_list();
    let tx = TypedTransaction::TxEip2930(TxEip2930 {
        chain_id: 1337,
        nonce: 34,
        gas_price: U256::from_u64(1_000_000_000),
        gas_limit: 100_000,
        to: TxKind::Call(addr("0x09616C3d61b3331fc4109a9E41a8BDB7d9776609")),
        value: U256::from_u64(0x5af3_107a_4000),
        input: b"abcdef",
        access_list: (&access_list[..]).into(),
    });
    check_published(
        &tx,
        &doc_key(),
        &Published {
            hash: Some("ca9af2ef41691e06eb07e02125938fd9bb5a311e8daf330b264e77d6cdf3d17e"),
            r: "107355854401379915513092408112372039746594668141865279802319959599514133709188",
            s: "6729502936685237038651223791038758905953302464070244934323623239104475448298",
            v: 1,
            raw_prefix: "01f8ad82053922843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a400086616",
            raw_suffix: "2b5043ea",
        },
    );
}

/// eth-account 0.14.0, `Account.sign_transaction` docstring, EIP-1559 example.
#[test]
fn eth_account_doc_eip1559() {
    let access_list = doc_access_list();
    let tx = TypedTransaction::TxEip1559(TxEip1559 {
        chain_id: 1337,
        nonce: 34,
        max_priority_fee_per_gas: U256::from_u64(2_000_000_000),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        gas_limit: 100_000,
        to: TxKind::Call(addr("0x09616C3d61b3331fc4109a9E41a8BDB7d9776609")),
        value: U256::from_u64(0x5af3_107a_4000),
        input: b"abcdef",
        access_list: (&access_list[..]).into(),
    });
    check_published(
        &tx,
        &doc_key(),
        &Published {
            hash: Some("2721b2ac99d878695e410af9e8968859b6f6e94f544840be0eb2935bead7deba"),
            r: "48949965662841329840326477994465373664672499148507933176648302825256944281697",
            s: "1123041608316060268133200864147951676126406077675157976022772782796802590165",
            v: 1,
            raw_prefix: "02f8b28205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107",
            raw_suffix: "d58b85d5",
        },
    );
}

/// eth-account 0.14.0, `Account.sign_transaction` docstring, blob example
/// (one all-zero blob). The docstring's raw transaction is the network form
/// `0x03 || rlp([tx_payload_body, blobs, commitments, proofs])`, and its
/// `hash` is Keccak-256 of that whole wrapper, so the hash is not comparable
/// with the canonical transaction's; r, s, v and the start of the inner
/// payload body (`f8d9...`, printed after `03fa021999`) are.
#[test]
fn eth_account_doc_eip4844() {
    // The versioned hash of the all-zero blob: its KZG commitment is the
    // compressed G1 point at infinity (0xc0 then 47 zero bytes), and the
    // versioned hash is 0x01 || sha256(commitment)[1..].
    use sha2::Digest as _;
    let mut commitment = [0u8; 48];
    commitment[0] = 0xc0;
    let mut versioned: [u8; 32] = sha2::Sha256::digest(commitment).into();
    versioned[0] = 0x01;
    let blob_hashes = [versioned];
    let access_list = doc_access_list();
    let tx = TypedTransaction::TxEip4844(TxEip4844 {
        chain_id: 1337,
        nonce: 34,
        max_priority_fee_per_gas: U256::from_u64(2_000_000_000),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        gas_limit: 100_000,
        to: addr("0x09616C3d61b3331fc4109a9E41a8BDB7d9776609"),
        value: U256::from_u64(0x5af3_107a_4000),
        input: b"abcdef",
        access_list: (&access_list[..]).into(),
        max_fee_per_blob_gas: U256::from_u64(2_000_000_000),
        blob_versioned_hashes: (&blob_hashes[..]).into(),
    });
    check_published(
        &tx,
        &doc_key(),
        &Published {
            hash: None,
            r: "14319949980593194209648175507603206696573324965145502821772573913457715875718",
            s: "9129184742597516615341309773045281461399831333162885393648678700392065987233",
            v: 1,
            raw_prefix: "03f8d98205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d97766098",
            raw_suffix: "",
        },
    );
}

/// eth-account 0.14.0, `Account.sign_authorization` docstring.
#[test]
fn eth_account_doc_authorization() {
    let key = SecretKey::from_bytes(&[0xaa; 32]).unwrap();
    let authorization = Authorization {
        chain_id: U256::from_u64(1337),
        address: addr("0x5ce9454909639d2d17a3f753ce7d93fa0b9ab12e"),
        nonce: 1,
    };
    assert_eq!(
        authorization.signature_hash(),
        b32("9026f77ed6740d6d08f0cdc0591a86b2232700020a816718fbf760785e9ca2f2")
    );
    let signed = authorization.sign(&key).unwrap();
    assert_eq!(signed.y_parity, 0);
    assert_eq!(
        signed.r,
        u256_dec("52163433520757118830640642673035732532535423029712132518776649895118143897479")
    );
    assert_eq!(
        signed.s,
        u256_dec("57576671166887700066365341925867052133948674355067837907255957076179513983345")
    );
    assert_eq!(
        hex::encode(signed.signature().unwrap().to_rsv_bytes()),
        "735375048fc96b87390b5a11c411fc57245d8e55038bf49e659d048a0d1a3f87\
         7f4b3db448845cb217812f23c6b345e99f2d21c44ec10e93a8f03981416741711b"
    );
    assert_eq!(signed.recover_authority().unwrap(), key.address());
}

/// The set-code transaction of the same docstring. The docstring builds it
/// but does not print the result, so the expected raw bytes were produced by
/// running that docstring's code with eth-account 0.14.0.
#[test]
fn eth_account_doc_eip7702() {
    let key = SecretKey::from_bytes(&[0xaa; 32]).unwrap();
    let authorization = Authorization {
        chain_id: U256::from_u64(1337),
        address: addr("0x5ce9454909639d2d17a3f753ce7d93fa0b9ab12e"),
        nonce: 1,
    };
    let authorizations: [SignedAuthorization; 1] = [authorization.sign(&key).unwrap()];
    let tx = TypedTransaction::TxEip7702(TxEip7702 {
        chain_id: 1337,
        nonce: 0,
        max_priority_fee_per_gas: U256::from_u64(2_000_000_000),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        gas_limit: 100_000,
        to: addr("0x09616C3d61b3331fc4109a9E41a8BDB7d9776609"),
        value: U256::ZERO,
        input: &unhex("252dba42"),
        access_list: Default::default(),
        authorization_list: (&authorizations[..]).into(),
    });
    let (sig, raw) = sign_encode(&tx, &key);
    assert_eq!(
        raw,
        unhex("04f8d18205398084773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d97766098084252dba42c0f85ef85c820539945ce9454909639d2d17a3f753ce7d93fa0b9ab12e0180a0735375048fc96b87390b5a11c411fc57245d8e55038bf49e659d048a0d1a3f87a07f4b3db448845cb217812f23c6b345e99f2d21c44ec10e93a8f039814167417180a003df7bf9b159102517af620ce9628e6e410fb4e344401fbc751d1a08ecdf1421a0211891d57b39127b3543100711f0b414e2859e14725b7dfcafe954b17ce8762a")
    );
    assert_eq!(
        keccak256(&raw),
        b32("321abac3cb4003a30931c595977b2a189cf86c9c4bf1d8f88b134c68c9ea6d25")
    );
    assert_consistent(&tx, &key, &sig, &raw);
    // The decoded authorization list is a view over the RLP, yet equal.
    let decoded = decode_signed(&raw).unwrap();
    let list = decoded.transaction().authorization_list().unwrap();
    assert_eq!(list.len(), 1);
    let first = list.iter().next().unwrap();
    assert_eq!(first, authorizations[0]);
    assert_eq!(first.recover_authority().unwrap(), key.address());
}

/// eth-account's `tests/core/test_typed_transactions.py` (raw transactions
/// with their signing hash, `expected_hash`; no keys given): decoding then
/// re-encoding is the identity, and the signing hash matches.
#[test]
fn eth_account_typed_transaction_vectors_round_trip() {
    for (raw, hash) in [
        (
            "01f8e782076c22843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a400086616263646566f872f85994de0b295669a9fd93d5f28d9ec85e40f4cb697baef842a00000000000000000000000000000000000000000000000000000000000000003a00000000000000000000000000000000000000000000000000000000000000007d694bb9bc244d798123fde783fcc1c72d3bb8c189413c001a08289e85fa00f8f7f78a53cf147a87b2a7f0d27e64d7571f9d06a802e365c3430a017dc77eae36c88937db4a5179f57edc6119701652f3f1c6f194d1210d638a061",
            "8d46e14b6259a070e0c4a7be7ed73bb18838cfb022b9c381e426cf7b3e22ec12",
        ),
        (
            "01f87482076c27843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a400086616263646566c080a0bad1a40fa2d90dc7539831bb82dfccf9b7094eab238d50c4369b805fb7241c58a046ab7eb7ff8cdfd203847b7e1b2f9e41208bba76a86ae3eeb97fe2727763aa12",
            "660fd2280b7ce4a6b625ccb2e1bb56fe3ede2ed91a7ff0b82a8d61e4709b82f6",
        ),
        (
            "02f8758205390284773594008477359400830186a09496216849c49358b10257cb55b28ea603c874b05e865af3107a4000825544c001a0c3000cd391f991169ebfd5d3b9e93c89d31a61c998a21b07a11dc6b9d66f8a8ea022cfe8424b2fbd78b16c9911da1be2349027b0a3c40adf4b6459222323773f74",
            "a1ea3121940930f7e7b54506d80717f14c5163807951624c36354202a8bffda6",
        ),
        (
            "02f8ae8205390284773594008477359400830186a09496216849c49358b10257cb55b28ea603c874b05e865af3107a4000825544f838f7940000000000000000000000000000000000000001e1a0010000000000000000000000000000000000000000000000000000000000000001a0c3000cd391f991169ebfd5d3b9e93c89d31a61c998a21b07a11dc6b9d66f8a8ea022cfe8424b2fbd78b16c9911da1be2349027b0a3c40adf4b6459222323773f74",
            "090b19818d9d087a49c3d2ecee4829ee4acea46089c1381ac5e588188627466d",
        ),
    ] {
        let raw = unhex(raw);
        let signed = decode_signed(&raw).unwrap();
        assert_eq!(signed.transaction().signature_hash().unwrap(), b32(hash));
        let mut out = vec![0u8; raw.len()];
        let len = signed
            .transaction()
            .encode_signed(&signed.signature(), &mut out)
            .unwrap();
        assert_eq!(&out[..len], &raw[..]);
        signed.recover_sender().unwrap();
    }
}

#[test]
fn buffer_too_small_reports_the_length_and_writes_nothing() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    let tx = TypedTransaction::Legacy(TxLegacy {
        chain_id: Some(1),
        nonce: 9,
        gas_price: U256::from_u64(20_000_000_000),
        gas_limit: 21_000,
        to: TxKind::Call(Address([0x35; 20])),
        value: U256::from_u64(1_000_000_000_000_000_000),
        input: &[],
    });
    let sig = tx.sign(&key).unwrap();
    // The signed EIP-155 example is 0xf86c: 2 + 108 = 110 bytes.
    let mut small = [0u8; 109];
    assert_eq!(
        tx.encode_signed(&sig, &mut small),
        Err(TxError::BufferTooSmall { needed: 110 })
    );
    assert!(small.iter().all(|&b| b == 0));
}
