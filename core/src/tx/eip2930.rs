//! Type 1: EIP-2930 access-list transactions.

use crate::rlp::{self, Encodable, RlpSink};

use super::reader::FieldReader;
use super::{typed_tx_api, AccessList, TxError, TxKind, TxType, TypedFields, U256};

/// An EIP-2930 transaction: a legacy gas price plus an access list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxEip2930<'a> {
    /// Chain id (1 ..= [`super::MAX_CHAIN_ID`]).
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Wei per gas.
    pub gas_price: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient, or contract creation.
    pub to: TxKind,
    /// Wei transferred.
    pub value: U256,
    /// Calldata or init code.
    pub input: &'a [u8],
    /// Addresses and storage keys to pre-warm.
    pub access_list: AccessList<'a>,
}

impl TypedFields for TxEip2930<'_> {
    const TX_TYPE: TxType = TxType::Eip2930;

    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn fields_length(&self) -> usize {
        self.chain_id
            .length()
            .saturating_add(self.nonce.length())
            .saturating_add(self.gas_price.length())
            .saturating_add(self.gas_limit.length())
            .saturating_add(self.to.length())
            .saturating_add(self.value.length())
            .saturating_add(rlp::bytes_length(self.input))
            .saturating_add(self.access_list.length())
    }

    fn encode_fields(&self, out: &mut dyn RlpSink) {
        self.chain_id.encode(out);
        self.nonce.encode(out);
        self.gas_price.encode(out);
        self.gas_limit.encode(out);
        self.to.encode(out);
        self.value.encode(out);
        rlp::encode_bytes(self.input, out);
        self.access_list.encode(out);
    }
}

impl<'a> TxEip2930<'a> {
    pub(crate) fn decode_fields(fields: &mut FieldReader<'a>) -> Result<Self, TxError> {
        Ok(Self {
            chain_id: fields.chain_id()?,
            nonce: fields.u64()?,
            gas_price: fields.u256()?,
            gas_limit: fields.u64()?,
            to: fields.kind()?,
            value: fields.u256()?,
            input: fields.bytes()?,
            access_list: fields.list()?,
        })
    }
}

typed_tx_api!(TxEip2930);
