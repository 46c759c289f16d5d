//! Builds, signs, decodes and prints one transaction of each type.
//!
//! Run with `make demo` (or `cargo run -p wallet-core --example demo`).

// A demo's job is to print.
#![allow(clippy::print_stdout)]

use wallet_core::keccak::keccak256;
use wallet_core::signer::{Address, SecretKey};
use wallet_core::tx::{
    decode_signed, AccessListItem, Authorization, TxEip1559, TxEip2930, TxEip4844, TxEip7702,
    TxKind, TxLegacy, TypedTransaction, U256,
};

fn main() -> Result<(), wallet_core::Error> {
    // A fixed, publicly known demo key: keccak256("flare-wallet demo").
    // Never use it for anything of value.
    let key = SecretKey::from_bytes(&keccak256(b"flare-wallet demo"))?;
    let delegate_key = SecretKey::from_bytes(&keccak256(b"flare-wallet demo delegate"))?;
    println!("signer   {}", key.address());

    let recipient = Address::parse_hex("0x3535353535353535353535353535353535353535")?;
    let token = Address::parse_hex("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")?;
    // transfer(0x3535...35, 1_000_000)
    let mut calldata = [0u8; 68];
    calldata[..4].copy_from_slice(&[0xa9, 0x05, 0x9c, 0xbb]);
    calldata[16..36].copy_from_slice(&recipient.0);
    calldata[64..].copy_from_slice(&1_000_000u32.to_be_bytes());

    let slot = [[0u8; 32]];
    let access_list = [AccessListItem {
        address: token,
        storage_keys: (&slot[..]).into(),
    }];
    let mut blob_hash = keccak256(b"a blob commitment");
    blob_hash[0] = 0x01;
    let blob_hashes = [blob_hash];
    let authorizations = [Authorization {
        chain_id: U256::from_u64(1),
        address: Address::parse_hex("0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B")?,
        nonce: 0,
    }
    .sign(&delegate_key)?];

    let gwei = |n: u64| U256::from_u64(n * 1_000_000_000);
    let one_ether = U256::from_u64(1_000_000_000_000_000_000);

    let transactions: [(&str, TypedTransaction<'_>); 5] = [
        (
            "legacy (EIP-155)",
            TxLegacy {
                chain_id: Some(1),
                nonce: 9,
                gas_price: gwei(20),
                gas_limit: 21_000,
                to: TxKind::Call(recipient),
                value: one_ether,
                input: &[],
            }
            .into(),
        ),
        (
            "EIP-2930",
            TxEip2930 {
                chain_id: 1,
                nonce: 10,
                gas_price: gwei(20),
                gas_limit: 60_000,
                to: TxKind::Call(token),
                value: U256::ZERO,
                input: &calldata,
                access_list: (&access_list[..]).into(),
            }
            .into(),
        ),
        (
            "EIP-1559",
            TxEip1559 {
                chain_id: 1,
                nonce: 11,
                max_priority_fee_per_gas: gwei(1),
                max_fee_per_gas: gwei(30),
                gas_limit: 21_000,
                to: TxKind::Call(recipient),
                value: one_ether,
                input: &[],
                access_list: Default::default(),
            }
            .into(),
        ),
        (
            "EIP-4844",
            TxEip4844 {
                chain_id: 1,
                nonce: 12,
                max_priority_fee_per_gas: gwei(1),
                max_fee_per_gas: gwei(30),
                gas_limit: 21_000,
                to: recipient,
                value: U256::ZERO,
                input: &[],
                access_list: Default::default(),
                max_fee_per_blob_gas: gwei(1),
                blob_versioned_hashes: (&blob_hashes[..]).into(),
            }
            .into(),
        ),
        (
            "EIP-7702",
            TxEip7702 {
                chain_id: 1,
                nonce: 13,
                max_priority_fee_per_gas: gwei(1),
                max_fee_per_gas: gwei(30),
                gas_limit: 80_000,
                to: delegate_key.address(),
                value: U256::ZERO,
                input: &[],
                access_list: Default::default(),
                authorization_list: (&authorizations[..]).into(),
            }
            .into(),
        ),
    ];

    for (name, tx) in &transactions {
        let signature = tx.sign(&key)?;
        let mut buf = [0u8; 512];
        let len = tx.encode_signed(&signature, &mut buf)?;
        let raw = &buf[..len];

        let decoded = decode_signed(raw)?;
        let sender = decoded.recover_sender()?;
        assert_eq!(decoded.transaction(), tx, "decodes to what was signed");
        assert_eq!(sender, key.address(), "recovers the signer");

        println!();
        println!("{name} (type {})", tx.tx_type() as u8);
        println!("  raw      0x{}", hex::encode(raw));
        println!("  hash     0x{}", hex::encode(decoded.hash()));
        println!("  sender   {sender}");
    }
    Ok(())
}
