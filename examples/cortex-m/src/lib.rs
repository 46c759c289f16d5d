//! The signing scenario the Cortex-M firmware runs, shared with the host
//! test that checks it: one key from fixed test bytes signs a transaction of
//! every type, an EIP-191 message and an EIP-712 digest; every signed
//! transaction is decoded again and its sender recovered.
//!
//! Only `wallet-core` without its `std` feature is used, and nothing here
//! allocates or formats: results are reported as labelled byte strings, and
//! the firmware prints them in hex over semihosting.
#![no_std]
#![forbid(unsafe_code)]

use wallet_core::keccak::keccak256;
use wallet_core::signer::{eip191_hash, eip712_hash, SecretKey};
use wallet_core::tx::{
    decode_signed, AccessListItem, Authorization, SignedAuthorization, TxEip1559, TxEip2930,
    TxEip4844, TxEip7702, TxKind, TxLegacy, TypedTransaction, U256,
};
use wallet_core::Error;

/// The test key (not a secret: it signs nothing but this scenario).
pub const TEST_KEY: [u8; 32] = *b"flare-wallet cortex-m test key!!";

/// Room for the largest signed transaction of the scenario.
pub const MAX_SIGNED_LEN: usize = 512;

/// The recipient of every transaction.
const RECIPIENT: [u8; 20] = [0x35; 20];

/// The EIP-7702 delegate the authorization names.
const DELEGATE: [u8; 20] = [0x77; 20];

/// Chain id 14 (Flare), on every transaction and the authorization.
const CHAIN_ID: u64 = 14;

/// ERC-20 `transfer(0x3535..35, 1000)` call data.
const TRANSFER_CALL: [u8; 68] = {
    let mut data = [0u8; 68];
    data[0] = 0xa9;
    data[1] = 0x05;
    data[2] = 0x9c;
    data[3] = 0xbb;
    let mut i = 16;
    while i < 36 {
        data[i] = 0x35;
        i += 1;
    }
    data[66] = 0x03;
    data[67] = 0xe8;
    data
};

const STORAGE_KEYS: [[u8; 32]; 2] = [[0; 32], [0x01; 32]];

const ACCESS_LIST: [AccessListItem<'static>; 1] = [AccessListItem {
    address: wallet_core::signer::Address(RECIPIENT),
    storage_keys: wallet_core::tx::StorageKeys::from_slice(&STORAGE_KEYS),
}];

/// A KZG versioned hash (version byte 0x01).
const BLOB_HASHES: [[u8; 32]; 1] = [{
    let mut hash = [0x42u8; 32];
    hash[0] = 0x01;
    hash
}];

/// The message of the EIP-191 `personal_sign`.
pub const MESSAGE: &[u8] = b"flare-wallet on a Cortex-M";

/// Each transaction type the scenario signs, in the order it reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxCase {
    /// Type 0 with EIP-155 replay protection.
    Legacy,
    /// Type 1, with an access list.
    Eip2930,
    /// Type 2, an ERC-20 transfer with an access list.
    Eip1559,
    /// Type 3, one blob hash (the sidecar is not the signer's).
    Eip4844,
    /// Type 4, with one authorization signed by the same key.
    Eip7702,
}

impl TxCase {
    /// Every case, in report order.
    pub const ALL: [Self; 5] = [
        Self::Legacy,
        Self::Eip2930,
        Self::Eip1559,
        Self::Eip4844,
        Self::Eip7702,
    ];

    /// The label its signed transaction is reported under.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Legacy => "tx-legacy",
            Self::Eip2930 => "tx-eip2930",
            Self::Eip1559 => "tx-eip1559",
            Self::Eip4844 => "tx-eip4844",
            Self::Eip7702 => "tx-eip7702",
        }
    }

    /// The label of the sender recovered from its decoded transaction.
    #[must_use]
    pub fn recovered_label(self) -> &'static str {
        match self {
            Self::Legacy => "sender-legacy",
            Self::Eip2930 => "sender-eip2930",
            Self::Eip1559 => "sender-eip1559",
            Self::Eip4844 => "sender-eip4844",
            Self::Eip7702 => "sender-eip7702",
        }
    }
}

/// The key of the scenario.
///
/// # Errors
/// Never for [`TEST_KEY`]; [`Error::Signer`] if it were not a valid scalar.
pub fn test_key() -> Result<SecretKey, Error> {
    Ok(SecretKey::from_bytes(&TEST_KEY)?)
}

fn wei(value: u64) -> U256 {
    U256::from_u64(value)
}

/// Signs the transaction of `case` with `key` and writes the signed
/// EIP-2718 envelope into `out`, returning its length.
///
/// # Errors
/// The core's signing and encoding errors (none for the scenario's
/// transactions and a buffer of [`MAX_SIGNED_LEN`]).
pub fn sign_transaction(key: &SecretKey, case: TxCase, out: &mut [u8]) -> Result<usize, Error> {
    let to = wallet_core::signer::Address(RECIPIENT);
    let access_list = wallet_core::tx::AccessList::from_slice(&ACCESS_LIST);
    let authorization;
    let tx = match case {
        TxCase::Legacy => TypedTransaction::Legacy(TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: 7,
            gas_price: wei(25_000_000_000),
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value: wei(1_000_000_000_000_000_000),
            input: &[],
        }),
        TxCase::Eip2930 => TypedTransaction::Eip2930(TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 8,
            gas_price: wei(25_000_000_000),
            gas_limit: 60_000,
            to: TxKind::Call(to),
            value: wei(0),
            input: &TRANSFER_CALL,
            access_list,
        }),
        TxCase::Eip1559 => TypedTransaction::Eip1559(TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 9,
            max_priority_fee_per_gas: wei(1_500_000_000),
            max_fee_per_gas: wei(30_000_000_000),
            gas_limit: 65_000,
            to: TxKind::Call(to),
            value: wei(0),
            input: &TRANSFER_CALL,
            access_list,
        }),
        TxCase::Eip4844 => TypedTransaction::Eip4844(TxEip4844 {
            chain_id: CHAIN_ID,
            nonce: 10,
            max_priority_fee_per_gas: wei(1_500_000_000),
            max_fee_per_gas: wei(30_000_000_000),
            gas_limit: 21_000,
            to,
            value: wei(0),
            input: &[],
            access_list: wallet_core::tx::AccessList::from_slice(&[]),
            max_fee_per_blob_gas: wei(3_000_000_000),
            blob_versioned_hashes: wallet_core::tx::BlobVersionedHashes::from_slice(&BLOB_HASHES),
        }),
        TxCase::Eip7702 => {
            authorization = [Authorization {
                chain_id: wei(CHAIN_ID),
                address: wallet_core::signer::Address(DELEGATE),
                nonce: 12,
            }
            .sign(key)?];
            TypedTransaction::Eip7702(TxEip7702 {
                chain_id: CHAIN_ID,
                nonce: 11,
                max_priority_fee_per_gas: wei(1_500_000_000),
                max_fee_per_gas: wei(30_000_000_000),
                gas_limit: 80_000,
                to,
                value: wei(0),
                input: &[],
                access_list,
                authorization_list: wallet_core::tx::AuthorizationList::<'_>::from_slice(
                    &authorization as &[SignedAuthorization],
                ),
            })
        }
    };
    let signature = tx.sign(key)?;
    Ok(tx.encode_signed(&signature, out)?)
}

/// Decodes a signed transaction and recovers its sender's address.
///
/// # Errors
/// The core's decoding and recovery errors.
pub fn decode_and_recover(raw: &[u8]) -> Result<[u8; 20], Error> {
    let signed = decode_signed(raw)?;
    Ok(signed.recover_sender()?.0)
}

/// The EIP-191 `personal_sign` signature of [`MESSAGE`], as `r || s || v`.
///
/// # Errors
/// The core's signing errors.
pub fn sign_personal_message(key: &SecretKey) -> Result<[u8; 65], Error> {
    Ok(key.sign_hash(&eip191_hash(MESSAGE))?.to_rsv_bytes())
}

/// The signature of an EIP-712 digest (a fixed domain separator and struct
/// hash), as `r || s || v`.
///
/// # Errors
/// The core's signing errors.
pub fn sign_typed_data(key: &SecretKey) -> Result<[u8; 65], Error> {
    let domain_separator = keccak256(b"flare-wallet cortex-m example domain");
    let struct_hash = keccak256(b"flare-wallet cortex-m example struct");
    Ok(key
        .sign_hash(&eip712_hash(&domain_separator, &struct_hash))?
        .to_rsv_bytes())
}

/// Runs the whole scenario and hands each result to `report` as a label and
/// its bytes, in a fixed order: the key's address, each signed transaction,
/// the message and typed-data signatures, then each recovered sender.
///
/// # Errors
/// The first error of the core. A recovered sender that differs from the
/// key's address is no error here: it is reported as it is, and the
/// firmware and the host test refuse it.
pub fn run(report: &mut dyn FnMut(&str, &[u8])) -> Result<(), Error> {
    let key = test_key()?;
    report("address", &key.address().0);
    let mut signed = [[0u8; MAX_SIGNED_LEN]; 5];
    let mut lengths = [0usize; 5];
    for (index, case) in TxCase::ALL.into_iter().enumerate() {
        lengths[index] = sign_transaction(&key, case, &mut signed[index])?;
        report(case.label(), &signed[index][..lengths[index]]);
    }
    report("personal-sign", &sign_personal_message(&key)?);
    report("eip712", &sign_typed_data(&key)?);
    for (index, case) in TxCase::ALL.into_iter().enumerate() {
        let sender = decode_and_recover(&signed[index][..lengths[index]])?;
        report(case.recovered_label(), &sender);
    }
    Ok(())
}
