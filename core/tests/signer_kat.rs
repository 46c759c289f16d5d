//! Known answers and edge cases for keys, signatures and addresses.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use wallet_core::keccak::keccak256;
use wallet_core::signer::{
    eip191_hash, eip712_hash, recover_address, Address, PublicKey, SecretKey, Signature,
    SignerError,
};

fn b32(s: &str) -> [u8; 32] {
    let bytes = hex::decode(s.trim_start_matches("0x")).expect("hex");
    bytes.try_into().expect("32 bytes")
}

/// secp256k1 group order n.
const N: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

/// The EIP-155 worked example: key 0x4646..46 signs the published signing hash
/// and must give the published r, s and v = 37 (chain id 1, parity 0).
/// Source: https://eips.ethereum.org/EIPS/eip-155 ("Example").
#[test]
fn eip155_example_signature() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    assert_eq!(
        key.address(),
        Address::parse_hex("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F").unwrap()
    );
    let hash = b32("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
    let sig = key.sign_hash(&hash).unwrap();
    // r = 18515461264373351373200002665853028612451056578545711640558177340181847433846
    assert_eq!(
        sig.r,
        b32("28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276")
    );
    // s = 46948507304638947509940763649030358759909902576025900602547168820602576006531
    assert_eq!(
        sig.s,
        b32("67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83")
    );
    assert!(!sig.y_parity);
    assert_eq!(recover_address(&hash, &sig).unwrap(), key.address());
}

/// eth-account's documented `Account.sign_message` example (docstring of
/// `eth_account/account.py`, eth-account 0.14.0): "I♥SF" with key 0xb25c..64.
#[test]
fn eip191_eth_account_example() {
    let key = SecretKey::from_bytes(&b32(
        "b25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364",
    ))
    .unwrap();
    let message = "I♥SF".as_bytes();
    assert_eq!(
        eip191_hash(message),
        b32("1476abb745d423bf09273f1afd887d951181d25adc66c4834a70491911b7f750")
    );
    let sig = key.sign_message(message).unwrap();
    assert_eq!(
        hex::encode(sig.to_rsv_bytes()),
        "e6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb3\
         3e5bfbbf4d3e39b1a2fd816a7680c19ebebaf3a141b239934ad43cb33fcec8ce1c"
    );
    let expected = Address::parse_hex("0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E").unwrap();
    assert_eq!(key.address(), expected);
    assert_eq!(
        recover_address(&eip191_hash(message), &sig).unwrap(),
        expected
    );
}

#[test]
fn eip191_length_is_decimal_ascii() {
    // The prefix spells the length in decimal: check 0, one digit and three digits
    // against a hand-built preimage.
    for len in [0usize, 5, 123] {
        let message = vec![0x61u8; len];
        let mut preimage = b"\x19Ethereum Signed Message:\n".to_vec();
        preimage.extend_from_slice(len.to_string().as_bytes());
        preimage.extend_from_slice(&message);
        assert_eq!(eip191_hash(&message), keccak256(&preimage));
    }
}

/// EIP-712 "Mail" from the EIP's `assets/eip-712/Example.js` (copied into
/// `tests/vectors/eip712/mail.json`, see the README there).
#[test]
fn eip712_mail_example() {
    let vector: serde_json::Value =
        serde_json::from_str(include_str!("vectors/eip712/mail.json")).unwrap();
    let expected = &vector["expected"];
    let field = |name: &str| b32(expected[name].as_str().unwrap());

    // The struct hash is keccak256 of the encoded data.
    let encoded = hex::decode(
        expected["encodedData"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    assert_eq!(keccak256(&encoded), field("structHash"));
    assert_eq!(
        keccak256(expected["encodeType"].as_str().unwrap().as_bytes()),
        field("typeHash")
    );

    let digest = eip712_hash(&field("domainSeparator"), &field("structHash"));
    assert_eq!(digest, field("digest"));

    let key = SecretKey::from_bytes(&b32(vector["private_key"].as_str().unwrap())).unwrap();
    assert_eq!(key.to_bytes().as_slice(), keccak256(b"cow").as_slice());
    let sig = key.sign_hash(&digest).unwrap();
    assert_eq!(sig.r, field("r"));
    assert_eq!(sig.s, field("s"));
    assert_eq!(
        27 + u64::from(sig.y_parity),
        expected["v"].as_u64().unwrap()
    );
    let address = Address::parse_hex(expected["address"].as_str().unwrap()).unwrap();
    assert_eq!(key.address(), address);
    assert_eq!(recover_address(&digest, &sig).unwrap(), address);
    assert_eq!(
        format!("0x{}", hex::encode(sig.to_rsv_bytes())),
        expected["signature"].as_str().unwrap()
    );
}

/// The checksummed examples listed in EIP-55 itself.
#[test]
fn eip55_examples() {
    for text in [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ] {
        let address = Address::parse_hex(text).unwrap();
        assert_eq!(address.checksum().as_str(), text);
        assert_eq!(address.to_string(), text);
        assert_eq!(format!("{address:?}"), text);
        // Without the prefix, and in one case, the same address parses.
        assert_eq!(Address::parse_hex(&text[2..]).unwrap(), address);
        assert_eq!(Address::parse_hex(&text.to_lowercase()).unwrap(), address);
        assert_eq!(
            Address::parse_hex(&format!("0x{}", text[2..].to_uppercase())).unwrap(),
            address
        );
    }
}

#[test]
fn address_parse_rejects_malformed_input() {
    // One letter's case flipped in a valid checksum.
    assert_eq!(
        Address::parse_hex("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
        Err(SignerError::InvalidAddressChecksum)
    );
    assert_eq!(
        Address::parse_hex("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae"),
        Err(SignerError::InvalidAddressLength)
    );
    assert_eq!(
        Address::parse_hex("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd"),
        Err(SignerError::InvalidAddressLength)
    );
    assert_eq!(
        Address::parse_hex("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg"),
        Err(SignerError::InvalidAddressHex)
    );
    assert_eq!(
        Address::parse_hex(""),
        Err(SignerError::InvalidAddressLength)
    );
    // Multi-byte UTF-8 must not be sliced through: 40 bytes, not hex.
    assert_eq!(
        Address::parse_hex("ééééééééééééééééééééé"),
        Err(SignerError::InvalidAddressLength)
    );
    assert_eq!(
        Address::parse_hex("éééééééééééééééééééé"),
        Err(SignerError::InvalidAddressHex)
    );
}

#[test]
fn secret_key_range_is_enforced() {
    assert_eq!(
        SecretKey::from_bytes(&[0; 32]).unwrap_err(),
        SignerError::InvalidSecretKey
    );
    assert_eq!(
        SecretKey::from_bytes(&b32(N)).unwrap_err(),
        SignerError::InvalidSecretKey
    );
    assert_eq!(
        SecretKey::from_bytes(&[0xff; 32]).unwrap_err(),
        SignerError::InvalidSecretKey
    );
    let mut n_minus_1 = b32(N);
    n_minus_1[31] -= 1;
    let key = SecretKey::from_bytes(&n_minus_1).unwrap();
    assert_eq!(*key.to_bytes(), n_minus_1);
    let mut one = [0u8; 32];
    one[31] = 1;
    // 1·G is the generator: its x coordinate is the published constant.
    let g = SecretKey::from_bytes(&one)
        .unwrap()
        .public_key()
        .to_uncompressed();
    assert_eq!(
        hex::encode(&g[1..33]),
        "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    );
    assert_eq!(
        SecretKey::from_slice(&[1u8; 31]).unwrap_err(),
        SignerError::InvalidSecretKeyLength
    );
    assert_eq!(
        SecretKey::from_slice(&[1u8; 33]).unwrap_err(),
        SignerError::InvalidSecretKeyLength
    );
    assert!(SecretKey::from_slice(&[1u8; 32]).is_ok());
}

#[test]
fn secret_key_debug_is_redacted_and_eq_is_by_value() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    let printed = format!("{key:?}");
    assert_eq!(printed, "SecretKey(<redacted>)");
    assert!(!printed.contains("46"));
    assert_eq!(key, SecretKey::from_bytes(&[0x46; 32]).unwrap());
    assert_ne!(key, SecretKey::from_bytes(&[0x47; 32]).unwrap());
    use subtle::ConstantTimeEq;
    assert!(bool::from(
        key.ct_eq(&SecretKey::from_bytes(&[0x46; 32]).unwrap())
    ));
}

#[test]
fn random_keys_are_distinct_and_valid() {
    let mut rng = rand::rngs::OsRng;
    let a = SecretKey::random(&mut rng);
    let b = SecretKey::random(&mut rng);
    assert_ne!(a, b);
    assert!(SecretKey::from_bytes(&a.to_bytes()).is_ok());
}

#[test]
fn public_key_sec1_round_trip() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    let public = key.public_key();
    let uncompressed = public.to_uncompressed();
    // The EIP-155 example key's public key.
    assert_eq!(
        hex::encode(uncompressed),
        "044bc2a31265153f07e70e0bab08724e6b85e217f8cd628ceb62974247bb493382\
         ce28cab79ad7119ee1ad3ebcdb98a16805211530ecc6cfefa1b88e6dff99232a"
    );
    assert_eq!(PublicKey::from_sec1(&uncompressed).unwrap(), public);
    assert_eq!(
        PublicKey::from_sec1(&public.to_compressed()).unwrap(),
        public
    );
    assert_eq!(
        PublicKey::from_sec1(&uncompressed).unwrap().address(),
        key.address()
    );
    let mut off_curve = uncompressed;
    off_curve[64] ^= 1;
    assert_eq!(
        PublicKey::from_sec1(&off_curve),
        Err(SignerError::InvalidPublicKey)
    );
    assert_eq!(
        PublicKey::from_sec1(&uncompressed[..64]),
        Err(SignerError::InvalidPublicKey)
    );
    assert_eq!(
        PublicKey::from_sec1(&[]),
        Err(SignerError::InvalidPublicKey)
    );
}

fn sub_from_n(s: &[u8; 32]) -> [u8; 32] {
    let n = b32(N);
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    out
}

#[test]
fn recovery_rejects_out_of_range_and_high_s() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    let hash = keccak256(b"flare-wallet");
    let sig = key.sign_hash(&hash).unwrap();
    assert_eq!(recover_address(&hash, &sig).unwrap(), key.address());

    // (r, n - s, !parity) is the same signature in its malleable high-s form.
    let high = Signature {
        r: sig.r,
        s: sub_from_n(&sig.s),
        y_parity: !sig.y_parity,
    };
    assert_eq!(recover_address(&hash, &high), Err(SignerError::HighS));
    assert_eq!(high.check_scalars(), Err(SignerError::HighS));

    for (r, s) in [
        ([0u8; 32], sig.s),
        (sig.r, [0u8; 32]),
        (b32(N), sig.s),
        (sig.r, b32(N)),
        ([0xff; 32], sig.s),
    ] {
        let bad = Signature {
            r,
            s,
            y_parity: sig.y_parity,
        };
        assert_eq!(
            recover_address(&hash, &bad),
            Err(SignerError::SignatureScalarOutOfRange)
        );
    }

    // The wrong parity recovers some other key, never ours.
    let flipped = Signature {
        y_parity: !sig.y_parity,
        ..sig
    };
    assert_ne!(recover_address(&hash, &flipped).ok(), Some(key.address()));
}

#[test]
fn rsv_bytes_accept_both_v_conventions() {
    let key = SecretKey::from_bytes(&[0x46; 32]).unwrap();
    let sig = key.sign_hash(&keccak256(b"v")).unwrap();
    let mut bytes = sig.to_rsv_bytes();
    assert_eq!(bytes[64], 27 + u8::from(sig.y_parity));
    assert_eq!(Signature::from_rsv_bytes(&bytes).unwrap(), sig);
    bytes[64] -= 27;
    assert_eq!(Signature::from_rsv_bytes(&bytes).unwrap(), sig);
    for v in [2u8, 26, 29, 35, 37, 255] {
        bytes[64] = v;
        assert_eq!(
            Signature::from_rsv_bytes(&bytes),
            Err(SignerError::InvalidRecoveryByte)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// libsecp256k1 uses the same RFC 6979 (HMAC-SHA-256) nonce and also
    /// normalises to low s, so its signatures must equal ours bit for bit.
    #[test]
    fn signatures_equal_libsecp256k1(seed in any::<[u8; 32]>(), hash in any::<[u8; 32]>()) {
        let Ok(key) = SecretKey::from_bytes(&seed) else {
            return Ok(());
        };
        let sig = key.sign_hash(&hash).unwrap();

        let secp = secp256k1::Secp256k1::new();
        let reference_key = secp256k1::SecretKey::from_byte_array(&seed).unwrap();
        let reference = secp
            .sign_ecdsa_recoverable(&secp256k1::Message::from_digest(hash), &reference_key)
            .serialize_compact();
        prop_assert_eq!(&sig.r[..], &reference.1[..32]);
        prop_assert_eq!(&sig.s[..], &reference.1[32..]);
        prop_assert_eq!(i32::from(sig.y_parity), i32::from(reference.0));

        let reference_public = reference_key.public_key(&secp).serialize_uncompressed();
        prop_assert_eq!(key.public_key().to_uncompressed(), reference_public);
        prop_assert_eq!(recover_address(&hash, &sig).unwrap(), key.address());
    }
}
