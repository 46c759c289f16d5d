//! Type 0: the original transaction, with (EIP-155) or without replay protection.

use crate::keccak::Keccak256;
use crate::rlp::{self, Encodable, RlpSink, SliceSink};
use crate::signer::{SecretKey, Signature};

use super::reader::FieldReader;
use super::{check_chain_id, checked_len, list_len, TxError, TxKind, U256};

/// A legacy transaction.
///
/// `chain_id: Some(id)` signs the EIP-155 payload
/// `rlp([nonce, gasPrice, gas, to, value, data, id, 0, 0])` and puts
/// `v = 2·id + 35 + parity` in the signed form; `None` is the pre-EIP-155
/// form (signable on any chain, `v = 27 + parity`), which callers should only
/// allow on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLegacy<'a> {
    /// EIP-155 chain id, or `None` for an unprotected transaction.
    pub chain_id: Option<u64>,
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
}

impl<'a> TxLegacy<'a> {
    fn base_fields_length(&self) -> usize {
        self.nonce
            .length()
            .saturating_add(self.gas_price.length())
            .saturating_add(self.gas_limit.length())
            .saturating_add(self.to.length())
            .saturating_add(self.value.length())
            .saturating_add(rlp::bytes_length(self.input))
    }

    fn encode_base_fields(&self, out: &mut dyn RlpSink) {
        self.nonce.encode(out);
        self.gas_price.encode(out);
        self.gas_limit.encode(out);
        self.to.encode(out);
        self.value.encode(out);
        rlp::encode_bytes(self.input, out);
    }

    fn signing_fields_length(&self) -> usize {
        match self.chain_id {
            // chainId, then the two empty placeholders for r and s.
            Some(chain_id) => self
                .base_fields_length()
                .saturating_add(chain_id.length() + 2),
            None => self.base_fields_length(),
        }
    }

    fn check_chain(&self) -> Result<(), TxError> {
        match self.chain_id {
            Some(chain_id) => check_chain_id(chain_id),
            None => Ok(()),
        }
    }

    /// The `v` of the signed form: `27 + parity`, or `2·chainId + 35 + parity`
    /// computed in `u64` (it cannot overflow once the chain id is in range).
    ///
    /// # Errors
    /// As [`super::check_chain_id`].
    pub fn v(&self, y_parity: bool) -> Result<u64, TxError> {
        self.check_chain()?;
        let parity = u64::from(y_parity);
        Ok(match self.chain_id {
            Some(chain_id) => chain_id * 2 + 35 + parity,
            None => 27 + parity,
        })
    }

    /// Streams the signing payload into `out`.
    ///
    /// # Errors
    /// [`TxError::ChainIdZero`], [`TxError::ChainIdTooLarge`] or
    /// [`TxError::TooLarge`]; nothing is written then.
    pub fn encode_for_signing(&self, out: &mut dyn RlpSink) -> Result<(), TxError> {
        self.check_chain()?;
        checked_len(self.signing_payload_length())?;
        rlp::encode_list_header(self.signing_fields_length(), out);
        self.encode_base_fields(out);
        if let Some(chain_id) = self.chain_id {
            chain_id.encode(out);
            out.put(&[0x80, 0x80]);
        }
        Ok(())
    }

    /// The length of the signing payload in bytes.
    #[must_use]
    pub fn signing_payload_length(&self) -> usize {
        list_len(self.signing_fields_length())
    }

    /// Keccak-256 of the signing payload.
    ///
    /// # Errors
    /// As [`Self::encode_for_signing`].
    pub fn signature_hash(&self) -> Result<[u8; 32], TxError> {
        let mut hasher = Keccak256::new();
        self.encode_for_signing(&mut hasher)?;
        Ok(hasher.finalize())
    }

    fn signed_fields_length(&self, signature: &Signature, v: u64) -> usize {
        self.base_fields_length()
            .saturating_add(v.length())
            .saturating_add(rlp::uint_be_length(&signature.r))
            .saturating_add(rlp::uint_be_length(&signature.s))
    }

    /// The length of the signed encoding.
    ///
    /// # Errors
    /// [`TxError::InvalidSignature`], or as [`Self::encode_for_signing`].
    pub fn encoded_signed_len(&self, signature: &Signature) -> Result<usize, TxError> {
        let v = self.v(signature.y_parity)?;
        signature
            .check_scalars()
            .map_err(TxError::InvalidSignature)?;
        checked_len(list_len(self.signed_fields_length(signature, v)))
    }

    /// Writes `rlp([nonce, gasPrice, gas, to, value, data, v, r, s])` to the
    /// start of `out` and returns its length.
    ///
    /// # Errors
    /// [`TxError::BufferTooSmall`] with the length needed, or as
    /// [`Self::encoded_signed_len`].
    pub fn encode_signed(&self, signature: &Signature, out: &mut [u8]) -> Result<usize, TxError> {
        let needed = self.encoded_signed_len(signature)?;
        let v = self.v(signature.y_parity)?;
        let out = out
            .get_mut(..needed)
            .ok_or(TxError::BufferTooSmall { needed })?;
        let mut sink = SliceSink::new(out);
        rlp::encode_list_header(self.signed_fields_length(signature, v), &mut sink);
        self.encode_base_fields(&mut sink);
        v.encode(&mut sink);
        rlp::encode_uint_be(&signature.r, &mut sink);
        rlp::encode_uint_be(&signature.s, &mut sink);
        sink.finish()
            .map_err(|_| TxError::BufferTooSmall { needed })
    }

    /// Signs [`Self::signature_hash`] with `key`.
    ///
    /// # Errors
    /// As [`Self::signature_hash`] and [`SecretKey::sign_hash`].
    pub fn sign(&self, key: &SecretKey) -> Result<Signature, crate::Error> {
        Ok(key.sign_hash(&self.signature_hash()?)?)
    }

    fn decode_base(fields: &mut FieldReader<'a>) -> Result<Self, TxError> {
        Ok(Self {
            chain_id: None,
            nonce: fields.u64()?,
            gas_price: fields.u256()?,
            gas_limit: fields.u64()?,
            to: fields.kind()?,
            value: fields.u256()?,
            input: fields.bytes()?,
        })
    }
}

/// Decodes the payload of an unsigned legacy list (6 or 9 fields).
pub(crate) fn decode_unsigned(payload: &[u8]) -> Result<TxLegacy<'_>, TxError> {
    let mut fields = FieldReader::new(payload);
    let mut tx = TxLegacy::decode_base(&mut fields)?;
    if !fields.is_empty() {
        tx.chain_id = Some(fields.chain_id()?);
        if fields.u64()? != 0 || fields.u64()? != 0 {
            return Err(TxError::NonZeroEip155Placeholder);
        }
    }
    fields.finish()?;
    Ok(tx)
}

/// Decodes the payload of a signed legacy list `[..., v, r, s]`.
pub(crate) fn decode_signed(payload: &[u8]) -> Result<(TxLegacy<'_>, Signature), TxError> {
    let mut fields = FieldReader::new(payload);
    let mut tx = TxLegacy::decode_base(&mut fields)?;
    let v = fields.u64()?;
    let y_parity = match v {
        27 | 28 => v == 28,
        35.. => {
            let chain_id = (v - 35) / 2;
            check_chain_id(chain_id)?;
            tx.chain_id = Some(chain_id);
            (v - 35) % 2 == 1
        }
        _ => return Err(TxError::InvalidV),
    };
    let signature = fields.signature_scalars(y_parity)?;
    fields.finish()?;
    Ok((tx, signature))
}
