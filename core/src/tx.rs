//! Ethereum transactions: every type in use, their signing payloads, signed
//! encodings, strict decoders and sender recovery.
//!
//! | type | struct | signing payload |
//! | --- | --- | --- |
//! | 0 | [`TxLegacy`] | `rlp([nonce, gasPrice, gas, to, value, data])`, or with `[chainId, 0, 0]` appended (EIP-155) |
//! | 1 | [`TxEip2930`] | `0x01 \|\| rlp([chainId, nonce, gasPrice, gas, to, value, data, accessList])` |
//! | 2 | [`TxEip1559`] | `0x02 \|\| rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value, data, accessList])` |
//! | 3 | [`TxEip4844`] | `0x03 \|\| rlp([... accessList, maxFeePerBlobGas, blobVersionedHashes])` |
//! | 4 | [`TxEip7702`] | `0x04 \|\| rlp([... accessList, authorizationList])` |
//!
//! Signed forms append `[v, r, s]` (legacy) or `[yParity, r, s]` (typed).
//! Calldata and lists are borrowed; nothing here allocates. The signing
//! payload is streamed into Keccak ([`TypedTransaction::signature_hash`]) and
//! the signed transaction into a caller's buffer
//! ([`TypedTransaction::encode_signed`]), after its exact length has been
//! computed.
//!
//! Chain ids: 0 is refused for transactions (it would make a signature valid
//! on any chain), and so is anything above [`MAX_CHAIN_ID`], the EIP-2294
//! bound that keeps the EIP-155 `v = 2·chainId + 35 + parity` inside a `u64`.
//! EIP-7702 authorizations are different: their chain id 0 means "any chain"
//! by design, and is accepted.

use core::fmt;

use crate::keccak::{keccak256, Keccak256};
use crate::rlp::{self, Encodable, RlpError, RlpSink, SliceSink};
use crate::signer::{recover_address, Address, SecretKey, Signature, SignerError};

mod eip1559;
mod eip2930;
mod eip4844;
mod eip7702;
mod legacy;
mod list;
mod reader;
mod rules;
mod u256;

pub use eip1559::TxEip1559;
pub use eip2930::TxEip2930;
pub use eip4844::TxEip4844;
pub use eip7702::{Authorization, AuthorizationList, SignedAuthorization, TxEip7702};
pub use legacy::TxLegacy;
pub use list::{
    AccessList, AccessListItem, BlobVersionedHashes, ItemIter, ItemList, ListElement, StorageKeys,
    B256,
};
pub use rules::{Fork, INIT_CODE_SIZE_LIMIT, VERSIONED_HASH_VERSION_KZG};
pub use u256::U256;

use reader::FieldReader;

/// The largest chain id a transaction may carry: `floor(u64::MAX / 2) - 36`
/// (EIP-2294), so that `2·chainId + 36` cannot overflow a `u64`.
pub const MAX_CHAIN_ID: u64 = u64::MAX / 2 - 36;

/// What is wrong with a transaction, or why it could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TxError {
    /// The bytes are not canonical RLP of the expected shape.
    Rlp(RlpError),
    /// The input is empty.
    EmptyInput,
    /// The EIP-2718 type byte names a type this core does not handle.
    UnsupportedType(u8),
    /// The transaction list has fewer fields than its type requires.
    TooFewFields,
    /// The transaction list has more fields than its type allows.
    TooManyFields,
    /// Chain id 0 (valid on every chain) is refused for transactions.
    ChainIdZero,
    /// The chain id is above [`MAX_CHAIN_ID`].
    ChainIdTooLarge,
    /// An unsigned EIP-155 payload must end in `[chainId, 0, 0]`.
    NonZeroEip155Placeholder,
    /// A legacy `v` is neither 27/28 nor `2·chainId + 35/36`.
    InvalidV,
    /// A typed transaction's `yParity` is neither 0 nor 1.
    InvalidYParity,
    /// `r` or `s` is out of range, or `s` is high.
    InvalidSignature(SignerError),
    /// The sender could not be recovered from the signature.
    Recovery(SignerError),
    /// This transaction type requires a recipient; contract creation is not allowed.
    ContractCreationNotAllowed,
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// The exact encoded length.
        needed: usize,
    },
    /// The encoding would be longer than this machine can address.
    TooLarge,
    /// The gas limit is below the transaction's intrinsic gas.
    IntrinsicGasTooLow,
    /// The gas limit is below the EIP-7623 calldata floor (Prague).
    GasLimitBelowDataFloor,
    /// The nonce is 2^64 - 1, which EIP-2681 reserves.
    NonceTooLarge,
    /// Contract creation code exceeds [`INIT_CODE_SIZE_LIMIT`] (EIP-3860).
    InitCodeTooLarge,
    /// `maxPriorityFeePerGas` is above `maxFeePerGas`.
    PriorityFeeAboveMaxFee,
    /// `gasLimit · gasPrice` (or the blob equivalent) overflows 256 bits.
    FeeCostOverflow,
    /// A blob transaction carries no blob hashes.
    NoBlobs,
    /// A blob transaction carries more blobs than the fork allows per block.
    TooManyBlobs,
    /// A blob versioned hash does not start with the KZG version byte 0x01.
    InvalidBlobVersion,
    /// A set-code transaction carries no authorizations.
    EmptyAuthorizationList,
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rlp(e) => write!(f, "malformed transaction RLP: {e}"),
            Self::EmptyInput => f.write_str("transaction bytes are empty"),
            Self::UnsupportedType(t) => write!(f, "transaction type 0x{t:02x} is not supported"),
            Self::TooFewFields => f.write_str("transaction has too few fields for its type"),
            Self::TooManyFields => f.write_str("transaction has too many fields for its type"),
            Self::ChainIdZero => f.write_str("chain id 0 is refused for transactions"),
            Self::ChainIdTooLarge => {
                f.write_str("chain id is above the EIP-2294 maximum (2^63 - 37)")
            }
            Self::NonZeroEip155Placeholder => {
                f.write_str("EIP-155 signing payload must end in [chainId, 0, 0]")
            }
            Self::InvalidV => f.write_str("legacy v is neither 27/28 nor 2*chainId + 35/36"),
            Self::InvalidYParity => f.write_str("yParity must be 0 or 1"),
            Self::InvalidSignature(e) => write!(f, "invalid transaction signature: {e}"),
            Self::Recovery(e) => write!(f, "sender recovery failed: {e}"),
            Self::ContractCreationNotAllowed => {
                f.write_str("this transaction type requires a recipient address")
            }
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::TooLarge => f.write_str("transaction encoding is too large"),
            Self::IntrinsicGasTooLow => f.write_str("gas limit is below the intrinsic gas"),
            Self::GasLimitBelowDataFloor => {
                f.write_str("gas limit is below the EIP-7623 calldata floor")
            }
            Self::NonceTooLarge => f.write_str("nonce 2^64-1 is reserved (EIP-2681)"),
            Self::InitCodeTooLarge => f.write_str("init code exceeds 49152 bytes (EIP-3860)"),
            Self::PriorityFeeAboveMaxFee => {
                f.write_str("max priority fee per gas is above max fee per gas")
            }
            Self::FeeCostOverflow => f.write_str("gas limit times fee overflows 256 bits"),
            Self::NoBlobs => f.write_str("blob transaction has no blob hashes"),
            Self::TooManyBlobs => f.write_str("blob transaction has too many blobs"),
            Self::InvalidBlobVersion => f.write_str("blob versioned hash has a wrong version byte"),
            Self::EmptyAuthorizationList => {
                f.write_str("set-code transaction has an empty authorization list")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TxError {}

impl From<RlpError> for TxError {
    fn from(e: RlpError) -> Self {
        Self::Rlp(e)
    }
}

/// The EIP-2718 transaction type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TxType {
    /// Untyped legacy transaction (with or without EIP-155).
    Legacy = 0,
    /// EIP-2930 access-list transaction.
    Eip2930 = 1,
    /// EIP-1559 fee-market transaction.
    Eip1559 = 2,
    /// EIP-4844 blob transaction.
    Eip4844 = 3,
    /// EIP-7702 set-code transaction.
    Eip7702 = 4,
}

impl TryFrom<u8> for TxType {
    type Error = TxError;

    fn try_from(value: u8) -> Result<Self, TxError> {
        match value {
            0 => Ok(Self::Legacy),
            1 => Ok(Self::Eip2930),
            2 => Ok(Self::Eip1559),
            3 => Ok(Self::Eip4844),
            4 => Ok(Self::Eip7702),
            other => Err(TxError::UnsupportedType(other)),
        }
    }
}

/// The `to` field: a call to an address, or contract creation (empty `to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// Create a contract from `input` as init code.
    Create,
    /// Call (or transfer to) this address.
    Call(Address),
}

impl TxKind {
    /// The called address, `None` for contract creation.
    #[must_use]
    pub fn address(&self) -> Option<Address> {
        match self {
            Self::Create => None,
            Self::Call(address) => Some(*address),
        }
    }

    /// Whether this creates a contract.
    #[must_use]
    pub fn is_create(&self) -> bool {
        matches!(self, Self::Create)
    }
}

impl From<Address> for TxKind {
    fn from(address: Address) -> Self {
        Self::Call(address)
    }
}

impl Encodable for TxKind {
    fn length(&self) -> usize {
        match self {
            Self::Create => 1,
            Self::Call(_) => 21,
        }
    }
    fn encode(&self, out: &mut dyn RlpSink) {
        match self {
            Self::Create => out.put(&[0x80]),
            Self::Call(address) => address.encode(out),
        }
    }
}

/// Checks a transaction chain id: not 0, not above [`MAX_CHAIN_ID`].
///
/// # Errors
/// [`TxError::ChainIdZero`] or [`TxError::ChainIdTooLarge`].
pub fn check_chain_id(chain_id: u64) -> Result<(), TxError> {
    if chain_id == 0 {
        Err(TxError::ChainIdZero)
    } else if chain_id > MAX_CHAIN_ID {
        Err(TxError::ChainIdTooLarge)
    } else {
        Ok(())
    }
}

/// A length computed with saturating arithmetic: `usize::MAX` means it overflowed.
fn checked_len(len: usize) -> Result<usize, TxError> {
    if len == usize::MAX {
        Err(TxError::TooLarge)
    } else {
        Ok(len)
    }
}

fn list_len(payload: usize) -> usize {
    rlp::list_header_length(payload).saturating_add(payload)
}

/// The fields of a typed transaction's RLP list, without the signature.
pub(crate) trait TypedFields {
    const TX_TYPE: TxType;
    fn chain_id(&self) -> u64;
    fn fields_length(&self) -> usize;
    fn encode_fields(&self, out: &mut dyn RlpSink);
}

fn typed_signing_len<T: TypedFields>(tx: &T) -> usize {
    1usize.saturating_add(list_len(tx.fields_length()))
}

fn typed_encode_for_signing<T: TypedFields>(tx: &T, out: &mut dyn RlpSink) -> Result<(), TxError> {
    check_chain_id(tx.chain_id())?;
    checked_len(typed_signing_len(tx))?;
    out.put(&[T::TX_TYPE as u8]);
    rlp::encode_list_header(tx.fields_length(), out);
    tx.encode_fields(out);
    Ok(())
}

fn typed_signature_hash<T: TypedFields>(tx: &T) -> Result<[u8; 32], TxError> {
    let mut hasher = Keccak256::new();
    typed_encode_for_signing(tx, &mut hasher)?;
    Ok(hasher.finalize())
}

fn signature_fields_len(sig: &Signature) -> usize {
    1 + rlp::uint_be_length(&sig.r) + rlp::uint_be_length(&sig.s)
}

fn encode_signature_fields(sig: &Signature, out: &mut dyn RlpSink) {
    sig.y_parity.encode(out);
    rlp::encode_uint_be(&sig.r, out);
    rlp::encode_uint_be(&sig.s, out);
}

fn typed_signed_len<T: TypedFields>(tx: &T, sig: &Signature) -> Result<usize, TxError> {
    check_chain_id(tx.chain_id())?;
    sig.check_scalars().map_err(TxError::InvalidSignature)?;
    let payload = tx.fields_length().saturating_add(signature_fields_len(sig));
    checked_len(1usize.saturating_add(list_len(payload)))
}

fn typed_encode_signed<T: TypedFields>(
    tx: &T,
    sig: &Signature,
    out: &mut [u8],
) -> Result<usize, TxError> {
    let needed = typed_signed_len(tx, sig)?;
    let out = out
        .get_mut(..needed)
        .ok_or(TxError::BufferTooSmall { needed })?;
    let mut sink = SliceSink::new(out);
    sink.put(&[T::TX_TYPE as u8]);
    rlp::encode_list_header(
        tx.fields_length().saturating_add(signature_fields_len(sig)),
        &mut sink,
    );
    tx.encode_fields(&mut sink);
    encode_signature_fields(sig, &mut sink);
    sink.finish()
        .map_err(|_| TxError::BufferTooSmall { needed })
}

/// The per-type signing API, shared by the four typed transactions.
macro_rules! typed_tx_api {
    ($ty:ident) => {
        impl<'a> $ty<'a> {
            /// Streams the signing payload (`type || rlp(fields)`) into `out`.
            ///
            /// # Errors
            /// [`TxError::ChainIdZero`], [`TxError::ChainIdTooLarge`] or
            /// [`TxError::TooLarge`]; nothing is written then.
            pub fn encode_for_signing(
                &self,
                out: &mut dyn $crate::rlp::RlpSink,
            ) -> Result<(), $crate::tx::TxError> {
                $crate::tx::typed_encode_for_signing(self, out)
            }

            /// The length of the signing payload in bytes.
            #[must_use]
            pub fn signing_payload_length(&self) -> usize {
                $crate::tx::typed_signing_len(self)
            }

            /// Keccak-256 of the signing payload, the hash that is signed.
            ///
            /// # Errors
            /// As [`Self::encode_for_signing`].
            pub fn signature_hash(&self) -> Result<[u8; 32], $crate::tx::TxError> {
                $crate::tx::typed_signature_hash(self)
            }

            /// The length of the signed transaction `encode_signed` writes.
            ///
            /// # Errors
            /// [`TxError::InvalidSignature`] for an out-of-range or high-s
            /// signature, or as [`Self::encode_for_signing`].
            pub fn encoded_signed_len(
                &self,
                signature: &$crate::signer::Signature,
            ) -> Result<usize, $crate::tx::TxError> {
                $crate::tx::typed_signed_len(self, signature)
            }

            /// Writes `type || rlp([fields..., yParity, r, s])` to the start
            /// of `out` and returns its length.
            ///
            /// # Errors
            /// [`TxError::BufferTooSmall`] with the length needed, or as
            /// [`Self::encoded_signed_len`].
            pub fn encode_signed(
                &self,
                signature: &$crate::signer::Signature,
                out: &mut [u8],
            ) -> Result<usize, $crate::tx::TxError> {
                $crate::tx::typed_encode_signed(self, signature, out)
            }

            /// Signs [`Self::signature_hash`] with `key`.
            ///
            /// # Errors
            /// As [`Self::signature_hash`] and [`SecretKey::sign_hash`](crate::signer::SecretKey::sign_hash).
            pub fn sign(
                &self,
                key: &$crate::signer::SecretKey,
            ) -> Result<$crate::signer::Signature, $crate::Error> {
                Ok(key.sign_hash(&self.signature_hash()?)?)
            }
        }

        impl<'a> From<$ty<'a>> for $crate::tx::TypedTransaction<'a> {
            fn from(tx: $ty<'a>) -> Self {
                Self::$ty(tx)
            }
        }
    };
}
pub(crate) use typed_tx_api;

/// Any transaction this core can sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypedTransaction<'a> {
    /// Type 0.
    Legacy(TxLegacy<'a>),
    /// Type 1.
    TxEip2930(TxEip2930<'a>),
    /// Type 2.
    TxEip1559(TxEip1559<'a>),
    /// Type 3.
    TxEip4844(TxEip4844<'a>),
    /// Type 4.
    TxEip7702(TxEip7702<'a>),
}

macro_rules! each {
    ($self:expr, $tx:ident => $body:expr) => {
        match $self {
            TypedTransaction::Legacy($tx) => $body,
            TypedTransaction::TxEip2930($tx) => $body,
            TypedTransaction::TxEip1559($tx) => $body,
            TypedTransaction::TxEip4844($tx) => $body,
            TypedTransaction::TxEip7702($tx) => $body,
        }
    };
}

impl<'a> TypedTransaction<'a> {
    /// The EIP-2718 type.
    #[must_use]
    pub fn tx_type(&self) -> TxType {
        match self {
            Self::Legacy(_) => TxType::Legacy,
            Self::TxEip2930(_) => TxType::Eip2930,
            Self::TxEip1559(_) => TxType::Eip1559,
            Self::TxEip4844(_) => TxType::Eip4844,
            Self::TxEip7702(_) => TxType::Eip7702,
        }
    }

    /// The chain id; `None` only for a pre-EIP-155 legacy transaction.
    #[must_use]
    pub fn chain_id(&self) -> Option<u64> {
        match self {
            Self::Legacy(tx) => tx.chain_id,
            Self::TxEip2930(tx) => Some(tx.chain_id),
            Self::TxEip1559(tx) => Some(tx.chain_id),
            Self::TxEip4844(tx) => Some(tx.chain_id),
            Self::TxEip7702(tx) => Some(tx.chain_id),
        }
    }

    /// The sender's nonce.
    #[must_use]
    pub fn nonce(&self) -> u64 {
        each!(self, tx => tx.nonce)
    }

    /// The recipient, or contract creation.
    #[must_use]
    pub fn to(&self) -> TxKind {
        match self {
            Self::Legacy(tx) => tx.to,
            Self::TxEip2930(tx) => tx.to,
            Self::TxEip1559(tx) => tx.to,
            Self::TxEip4844(tx) => TxKind::Call(tx.to),
            Self::TxEip7702(tx) => TxKind::Call(tx.to),
        }
    }

    /// The wei transferred.
    #[must_use]
    pub fn value(&self) -> U256 {
        each!(self, tx => tx.value)
    }

    /// The calldata (or init code for contract creation).
    #[must_use]
    pub fn input(&self) -> &'a [u8] {
        each!(self, tx => tx.input)
    }

    /// The gas limit.
    #[must_use]
    pub fn gas_limit(&self) -> u64 {
        each!(self, tx => tx.gas_limit)
    }

    /// The most the sender pays per gas: `maxFeePerGas`, or `gasPrice` for
    /// legacy and EIP-2930 transactions.
    #[must_use]
    pub fn max_fee_per_gas(&self) -> U256 {
        match self {
            Self::Legacy(tx) => tx.gas_price,
            Self::TxEip2930(tx) => tx.gas_price,
            Self::TxEip1559(tx) => tx.max_fee_per_gas,
            Self::TxEip4844(tx) => tx.max_fee_per_gas,
            Self::TxEip7702(tx) => tx.max_fee_per_gas,
        }
    }

    /// `maxPriorityFeePerGas`, for the fee-market types only.
    #[must_use]
    pub fn max_priority_fee_per_gas(&self) -> Option<U256> {
        match self {
            Self::Legacy(_) | Self::TxEip2930(_) => None,
            Self::TxEip1559(tx) => Some(tx.max_priority_fee_per_gas),
            Self::TxEip4844(tx) => Some(tx.max_priority_fee_per_gas),
            Self::TxEip7702(tx) => Some(tx.max_priority_fee_per_gas),
        }
    }

    /// The access list (empty for legacy transactions).
    #[must_use]
    pub fn access_list(&self) -> AccessList<'a> {
        match self {
            Self::Legacy(_) => AccessList::EMPTY,
            Self::TxEip2930(tx) => tx.access_list,
            Self::TxEip1559(tx) => tx.access_list,
            Self::TxEip4844(tx) => tx.access_list,
            Self::TxEip7702(tx) => tx.access_list,
        }
    }

    /// The blob versioned hashes of a blob transaction.
    #[must_use]
    pub fn blob_versioned_hashes(&self) -> Option<BlobVersionedHashes<'a>> {
        match self {
            Self::TxEip4844(tx) => Some(tx.blob_versioned_hashes),
            _ => None,
        }
    }

    /// The authorization list of a set-code transaction.
    #[must_use]
    pub fn authorization_list(&self) -> Option<AuthorizationList<'a>> {
        match self {
            Self::TxEip7702(tx) => Some(tx.authorization_list),
            _ => None,
        }
    }

    /// Streams the signing payload into `out` (e.g. a [`Keccak256`] or a
    /// [`SliceSink`]).
    ///
    /// # Errors
    /// [`TxError::ChainIdZero`], [`TxError::ChainIdTooLarge`] or
    /// [`TxError::TooLarge`]; nothing is written then.
    pub fn encode_for_signing(&self, out: &mut dyn RlpSink) -> Result<(), TxError> {
        each!(self, tx => tx.encode_for_signing(out))
    }

    /// The length of the signing payload in bytes.
    #[must_use]
    pub fn signing_payload_length(&self) -> usize {
        each!(self, tx => tx.signing_payload_length())
    }

    /// Keccak-256 of the signing payload.
    ///
    /// # Errors
    /// As [`Self::encode_for_signing`].
    pub fn signature_hash(&self) -> Result<[u8; 32], TxError> {
        each!(self, tx => tx.signature_hash())
    }

    /// The length of the signed encoding.
    ///
    /// # Errors
    /// [`TxError::InvalidSignature`], or as [`Self::encode_for_signing`].
    pub fn encoded_signed_len(&self, signature: &Signature) -> Result<usize, TxError> {
        each!(self, tx => tx.encoded_signed_len(signature))
    }

    /// Writes the signed transaction (EIP-2718 envelope, or the legacy RLP
    /// list) to the start of `out` and returns its length.
    ///
    /// # Errors
    /// [`TxError::BufferTooSmall`] with the length needed, or as
    /// [`Self::encoded_signed_len`].
    pub fn encode_signed(&self, signature: &Signature, out: &mut [u8]) -> Result<usize, TxError> {
        each!(self, tx => tx.encode_signed(signature, out))
    }

    /// Signs [`Self::signature_hash`] with `key`.
    ///
    /// # Errors
    /// As [`Self::signature_hash`] and [`SecretKey::sign_hash`].
    pub fn sign(&self, key: &SecretKey) -> Result<Signature, crate::Error> {
        each!(self, tx => tx.sign(key))
    }
}

/// A decoded signed transaction, borrowing the bytes it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedTransaction<'a> {
    transaction: TypedTransaction<'a>,
    signature: Signature,
    raw: &'a [u8],
}

impl<'a> SignedTransaction<'a> {
    /// The transaction without its signature.
    #[must_use]
    pub fn transaction(&self) -> &TypedTransaction<'a> {
        &self.transaction
    }

    /// The signature (range-checked and low-s when decoded).
    #[must_use]
    pub fn signature(&self) -> Signature {
        self.signature
    }

    /// The exact bytes that were decoded.
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The transaction hash: Keccak-256 of the signed encoding.
    #[must_use]
    pub fn hash(&self) -> [u8; 32] {
        keccak256(self.raw)
    }

    /// The address whose key produced the signature.
    ///
    /// # Errors
    /// [`TxError::Recovery`] if no key can be recovered.
    pub fn recover_sender(&self) -> Result<Address, TxError> {
        let hash = self.transaction.signature_hash()?;
        recover_address(&hash, &self.signature).map_err(TxError::Recovery)
    }
}

/// The payload of a list that must be the whole of `bytes`.
fn whole_list(bytes: &[u8]) -> Result<&[u8], TxError> {
    let mut buf = bytes;
    let payload = rlp::decode_list(&mut buf)?;
    rlp::expect_end(buf)?;
    Ok(payload)
}

/// Decodes an unsigned signing payload: `type || rlp([...])` for typed
/// transactions, or the legacy list (the 9-field EIP-155 form
/// `[nonce, gasPrice, gas, to, value, data, chainId, 0, 0]` or the 6-field
/// pre-EIP-155 form).
///
/// # Errors
/// A [`TxError`] for every malformation; never panics.
pub fn decode_unsigned(bytes: &[u8]) -> Result<TypedTransaction<'_>, TxError> {
    let (&first, rest) = bytes.split_first().ok_or(TxError::EmptyInput)?;
    if first >= 0x80 {
        return legacy::decode_unsigned(whole_list(bytes)?).map(TypedTransaction::Legacy);
    }
    let mut fields = FieldReader::new(whole_list_typed(first, rest)?);
    let tx = match TxType::try_from(first)? {
        TxType::Eip2930 => TxEip2930::decode_fields(&mut fields)?.into(),
        TxType::Eip1559 => TxEip1559::decode_fields(&mut fields)?.into(),
        TxType::Eip4844 => TxEip4844::decode_fields(&mut fields)?.into(),
        TxType::Eip7702 => TxEip7702::decode_fields(&mut fields)?.into(),
        TxType::Legacy => return Err(TxError::UnsupportedType(first)),
    };
    fields.finish()?;
    Ok(tx)
}

fn whole_list_typed(type_byte: u8, rest: &[u8]) -> Result<&[u8], TxError> {
    // Reject an unknown type before looking at its payload.
    TxType::try_from(type_byte)?;
    if type_byte == 0 {
        return Err(TxError::UnsupportedType(0));
    }
    whole_list(rest)
}

/// Decodes a signed transaction: an EIP-2718 envelope (`type || rlp([...,
/// yParity, r, s])`) or a legacy RLP list `[..., v, r, s]`.
///
/// The signature is validated: `r` and `s` in `[1, n)`, `s` at most n/2 (low
/// s, required since Homestead), `yParity` 0 or 1, legacy `v` 27/28 or
/// `2·chainId + 35/36` with a chain id in `[1, MAX_CHAIN_ID]`. The sender is
/// not recovered here; call [`SignedTransaction::recover_sender`].
///
/// # Errors
/// A [`TxError`] for every malformation; never panics.
pub fn decode_signed(bytes: &[u8]) -> Result<SignedTransaction<'_>, TxError> {
    let (&first, rest) = bytes.split_first().ok_or(TxError::EmptyInput)?;
    let (transaction, signature) = if first >= 0x80 {
        let (tx, signature) = legacy::decode_signed(whole_list(bytes)?)?;
        (TypedTransaction::Legacy(tx), signature)
    } else {
        let mut fields = FieldReader::new(whole_list_typed(first, rest)?);
        let tx: TypedTransaction<'_> = match TxType::try_from(first)? {
            TxType::Eip2930 => TxEip2930::decode_fields(&mut fields)?.into(),
            TxType::Eip1559 => TxEip1559::decode_fields(&mut fields)?.into(),
            TxType::Eip4844 => TxEip4844::decode_fields(&mut fields)?.into(),
            TxType::Eip7702 => TxEip7702::decode_fields(&mut fields)?.into(),
            TxType::Legacy => return Err(TxError::UnsupportedType(first)),
        };
        let signature = fields.typed_signature()?;
        fields.finish()?;
        (tx, signature)
    };
    Ok(SignedTransaction {
        transaction,
        signature,
        raw: bytes,
    })
}

/// Decodes an unsigned signing payload, signs it with `key` and writes the
/// signed transaction to `out`, returning its length.
///
/// # Errors
/// Any decoding error, a signing error, or [`TxError::BufferTooSmall`].
pub fn sign_unsigned(
    payload: &[u8],
    key: &SecretKey,
    out: &mut [u8],
) -> Result<usize, crate::Error> {
    let tx = decode_unsigned(payload)?;
    let signature = tx.sign(key)?;
    Ok(tx.encode_signed(&signature, out)?)
}
