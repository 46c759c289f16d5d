//! Type 4: EIP-7702 set-code transactions and their authorizations.

use crate::keccak::Keccak256;
use crate::rlp::{self, Encodable, RlpError, RlpSink};
use crate::signer::{recover_address, Address, SecretKey, Signature, SignerError};

use super::list::{ItemList, ListElement};
use super::reader::FieldReader;
use super::{typed_tx_api, AccessList, TxError, TxType, TypedFields, U256};

/// The EIP-7702 signing domain byte for authorizations.
pub const AUTHORIZATION_MAGIC: u8 = 0x05;

/// An EIP-7702 authorization: "let `address`'s code run for my account".
///
/// Unlike a transaction, `chain_id` 0 is valid here and means any chain;
/// the EIP bounds it only by 2^256.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Authorization {
    /// The chain this authorization is valid on, or 0 for every chain.
    pub chain_id: U256,
    /// The contract whose code is delegated to.
    pub address: Address,
    /// The authority's nonce at the time the authorization is applied.
    pub nonce: u64,
}

impl Authorization {
    fn fields_length(&self) -> usize {
        self.chain_id.length() + self.address.length() + self.nonce.length()
    }

    fn encode_fields(&self, out: &mut dyn RlpSink) {
        self.chain_id.encode(out);
        self.address.encode(out);
        self.nonce.encode(out);
    }

    /// `keccak256(0x05 || rlp([chain_id, address, nonce]))`, the hash the
    /// authority signs.
    #[must_use]
    pub fn signature_hash(&self) -> [u8; 32] {
        let mut hasher = Keccak256::new();
        hasher.put(&[AUTHORIZATION_MAGIC]);
        rlp::encode_list_header(self.fields_length(), &mut hasher);
        self.encode_fields(&mut hasher);
        hasher.finalize()
    }

    /// Signs this authorization with `key`.
    ///
    /// # Errors
    /// As [`SecretKey::sign_hash`].
    pub fn sign(&self, key: &SecretKey) -> Result<SignedAuthorization, SignerError> {
        let signature = key.sign_hash(&self.signature_hash())?;
        Ok(SignedAuthorization {
            authorization: *self,
            y_parity: u8::from(signature.y_parity),
            r: U256(signature.r),
            s: U256(signature.s),
        })
    }
}

/// An authorization with its signature, as carried in a transaction:
/// `[chain_id, address, nonce, y_parity, r, s]`.
///
/// The fields are kept exactly as encoded. A transaction stays valid when one
/// of its authorizations has a bad signature (that authorization is skipped
/// by the chain), so decoding only enforces the EIP's field bounds and
/// [`SignedAuthorization::recover_authority`] does the signature checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignedAuthorization {
    /// What was authorized.
    pub authorization: Authorization,
    /// The recovery parity as encoded (the EIP allows any value below 2^8;
    /// only 0 and 1 can recover).
    pub y_parity: u8,
    /// Signature `r`.
    pub r: U256,
    /// Signature `s`.
    pub s: U256,
}

impl SignedAuthorization {
    /// The signature, if `y_parity` is 0 or 1.
    ///
    /// # Errors
    /// [`SignerError::InvalidRecoveryByte`] otherwise.
    pub fn signature(&self) -> Result<Signature, SignerError> {
        let y_parity = match self.y_parity {
            0 => false,
            1 => true,
            _ => return Err(SignerError::InvalidRecoveryByte),
        };
        Ok(Signature {
            r: self.r.0,
            s: self.s.0,
            y_parity,
        })
    }

    /// The address that signed this authorization (the account whose code
    /// is being set). Rejects high `s`, as EIP-7702 requires.
    ///
    /// # Errors
    /// As [`Self::signature`] and [`recover_address`].
    pub fn recover_authority(&self) -> Result<Address, SignerError> {
        recover_address(&self.authorization.signature_hash(), &self.signature()?)
    }

    fn payload_length(&self) -> usize {
        self.authorization.fields_length()
            + self.y_parity.length()
            + self.r.length()
            + self.s.length()
    }
}

impl Encodable for SignedAuthorization {
    fn length(&self) -> usize {
        let payload = self.payload_length();
        rlp::list_header_length(payload) + payload
    }

    fn encode(&self, out: &mut dyn RlpSink) {
        rlp::encode_list_header(self.payload_length(), out);
        self.authorization.encode_fields(out);
        self.y_parity.encode(out);
        self.r.encode(out);
        self.s.encode(out);
    }
}

impl ListElement<'_> for SignedAuthorization {
    fn decode_element(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut fields = rlp::decode_list(buf)?;
        let authorization = Authorization {
            chain_id: U256::decode(&mut fields)?,
            address: rlp::decode_address(&mut fields)?,
            nonce: rlp::decode_u64(&mut fields)?,
        };
        let y_parity = rlp::decode_u8(&mut fields)?;
        let r = U256::decode(&mut fields)?;
        let s = U256::decode(&mut fields)?;
        rlp::expect_end(fields)?;
        Ok(Self {
            authorization,
            y_parity,
            r,
            s,
        })
    }
}

/// The authorization list of a set-code transaction.
pub type AuthorizationList<'a> = ItemList<'a, SignedAuthorization>;

/// An EIP-7702 set-code transaction. `to` is mandatory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxEip7702<'a> {
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
    /// Signed delegations to apply before execution.
    pub authorization_list: AuthorizationList<'a>,
}

impl TypedFields for TxEip7702<'_> {
    const TX_TYPE: TxType = TxType::Eip7702;

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
            .saturating_add(self.authorization_list.length())
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
        self.authorization_list.encode(out);
    }
}

impl<'a> TxEip7702<'a> {
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
            authorization_list: fields.list()?,
        })
    }
}

typed_tx_api!(TxEip7702);
