//! Reads the fields of a transaction list one by one, with field-count errors
//! distinct from RLP errors.

use crate::rlp::{self};
use crate::signer::{Address, Signature};

use super::list::{ItemList, ListElement};
use super::{check_chain_id, TxError, TxKind, U256};

pub(crate) struct FieldReader<'a> {
    rest: &'a [u8],
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(payload: &'a [u8]) -> Self {
        Self { rest: payload }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn next(&mut self) -> Result<&mut &'a [u8], TxError> {
        if self.rest.is_empty() {
            Err(TxError::TooFewFields)
        } else {
            Ok(&mut self.rest)
        }
    }

    pub(crate) fn u64(&mut self) -> Result<u64, TxError> {
        Ok(rlp::decode_u64(self.next()?)?)
    }

    pub(crate) fn u256(&mut self) -> Result<U256, TxError> {
        Ok(U256::decode(self.next()?)?)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], TxError> {
        Ok(rlp::decode_bytes(self.next()?)?)
    }

    pub(crate) fn chain_id(&mut self) -> Result<u64, TxError> {
        let chain_id = self.u64()?;
        check_chain_id(chain_id)?;
        Ok(chain_id)
    }

    pub(crate) fn kind(&mut self) -> Result<TxKind, TxError> {
        let bytes = self.bytes()?;
        if bytes.is_empty() {
            return Ok(TxKind::Create);
        }
        let address: [u8; 20] = bytes
            .try_into()
            .map_err(|_| TxError::Rlp(rlp::RlpError::UnexpectedLength))?;
        Ok(TxKind::Call(Address(address)))
    }

    /// A recipient that must be present (types 3 and 4).
    pub(crate) fn call_address(&mut self) -> Result<Address, TxError> {
        match self.kind()? {
            TxKind::Call(address) => Ok(address),
            TxKind::Create => Err(TxError::ContractCreationNotAllowed),
        }
    }

    pub(crate) fn list<T: ListElement<'a>>(&mut self) -> Result<ItemList<'a, T>, TxError> {
        Ok(ItemList::decode(self.next()?)?)
    }

    /// `[yParity, r, s]` of a typed transaction, range-checked and low-s.
    pub(crate) fn typed_signature(&mut self) -> Result<Signature, TxError> {
        let y_parity = match rlp::decode_u8(self.next()?)? {
            0 => false,
            1 => true,
            _ => return Err(TxError::InvalidYParity),
        };
        self.signature_scalars(y_parity)
    }

    /// `r, s` after the recovery bit has been read.
    pub(crate) fn signature_scalars(&mut self, y_parity: bool) -> Result<Signature, TxError> {
        let r = self.u256()?;
        let s = self.u256()?;
        let signature = Signature {
            r: r.0,
            s: s.0,
            y_parity,
        };
        signature
            .check_scalars()
            .map_err(TxError::InvalidSignature)?;
        Ok(signature)
    }

    pub(crate) fn finish(&self) -> Result<(), TxError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(TxError::TooManyFields)
        }
    }
}
