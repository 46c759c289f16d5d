//! Type 3: EIP-4844 blob transactions (the signing payload and the canonical
//! signed form; blobs, commitments and proofs travel in a sidecar that is the
//! caller's business).

use crate::rlp::{self, Encodable, RlpSink};
use crate::signer::Address;

use super::reader::FieldReader;
use super::{typed_tx_api, AccessList, BlobVersionedHashes, TxError, TxType, TypedFields, U256};

/// An EIP-4844 transaction. `to` is mandatory: blob transactions cannot
/// create contracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxEip4844<'a> {
    /// Chain id (1 ..= [`super::MAX_CHAIN_ID`]).
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Tip per gas for the block producer.
    pub max_priority_fee_per_gas: U256,
    /// Most the sender pays per gas, base fee included.
    pub max_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient.
    pub to: Address,
    /// Wei transferred.
    pub value: U256,
    /// Calldata.
    pub input: &'a [u8],
    /// Addresses and storage keys to pre-warm.
    pub access_list: AccessList<'a>,
    /// Most the sender pays per unit of blob gas.
    pub max_fee_per_blob_gas: U256,
    /// `0x01 || sha256(commitment)[1..]` for each blob.
    pub blob_versioned_hashes: BlobVersionedHashes<'a>,
}

impl TypedFields for TxEip4844<'_> {
    const TX_TYPE: TxType = TxType::Eip4844;

    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn fields_length(&self) -> usize {
        self.chain_id
            .length()
            .saturating_add(self.nonce.length())
            .saturating_add(self.max_priority_fee_per_gas.length())
            .saturating_add(self.max_fee_per_gas.length())
            .saturating_add(self.gas_limit.length())
            .saturating_add(self.to.length())
            .saturating_add(self.value.length())
            .saturating_add(rlp::bytes_length(self.input))
            .saturating_add(self.access_list.length())
            .saturating_add(self.max_fee_per_blob_gas.length())
            .saturating_add(self.blob_versioned_hashes.length())
    }

    fn encode_fields(&self, out: &mut dyn RlpSink) {
        self.chain_id.encode(out);
        self.nonce.encode(out);
        self.max_priority_fee_per_gas.encode(out);
        self.max_fee_per_gas.encode(out);
        self.gas_limit.encode(out);
        self.to.encode(out);
        self.value.encode(out);
        rlp::encode_bytes(self.input, out);
        self.access_list.encode(out);
        self.max_fee_per_blob_gas.encode(out);
        self.blob_versioned_hashes.encode(out);
    }
}

impl<'a> TxEip4844<'a> {
    pub(crate) fn decode_fields(fields: &mut FieldReader<'a>) -> Result<Self, TxError> {
        Ok(Self {
            chain_id: fields.chain_id()?,
            nonce: fields.u64()?,
            max_priority_fee_per_gas: fields.u256()?,
            max_fee_per_gas: fields.u256()?,
            gas_limit: fields.u64()?,
            to: fields.call_address()?,
            value: fields.u256()?,
            input: fields.bytes()?,
            access_list: fields.list()?,
            max_fee_per_blob_gas: fields.u256()?,
            blob_versioned_hashes: fields.list()?,
        })
    }
}

typed_tx_api!(TxEip4844);
