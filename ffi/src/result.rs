//! `wallet_result`: the one return type of every fallible C function, and the
//! one place where core errors become numbers.
//!
//! Numbers are grouped in blocks of a hundred per source and never change
//! once released. A retired code stays in the list below as a comment so its
//! number is never handed out again. Each block ends with an `_OTHER` code
//! (x99) for a core error this build of the C ABI does not know yet: the core
//! enums are `#[non_exhaustive]`, and an unknown error must still be an error.
//!
//! | block | source |
//! | --- | --- |
//! | 0 | success |
//! | 1xx | arguments, panics, buffers, entropy |
//! | 2xx | RLP (`wallet_core::rlp::RlpError`) |
//! | 3xx | transactions (`wallet_core::tx::TxError`) |
//! | 4xx | keys and signatures (`wallet_core::signer::SignerError`) |
//! | 5xx | TPM (reserved) |
//! | 6xx | sealed key, backup and state directory (reserved) |
//! | 7xx | attestation (reserved) |
//! | 8xx | policy (reserved) |
//! | 9xx | keystore (reserved) |

#![allow(non_camel_case_types)]

use core::ffi::{c_char, CStr};

use wallet_core::rlp::RlpError;
use wallet_core::signer::SignerError;
use wallet_core::tx::TxError;
use wallet_core::Error;

/// The result of every fallible `wallet_*` function: `WALLET_OK` (0) or an
/// error code. Codes keep their numbers forever; `wallet_result_message`
/// describes each one.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum wallet_result {
    /// Success.
    WALLET_OK = 0,

    // ---- 1xx: arguments, panics, buffers, entropy
    /// A required pointer argument was NULL.
    WALLET_NULL_PARAMETER = 100,
    /// The library hit an internal bug; the call had no effect.
    WALLET_PANIC = 101,
    /// The output buffer is too small; `*out_len` holds the length needed.
    WALLET_BUFFER_TOO_SMALL = 102,
    /// An argument has a wrong length or value, or an output overlaps an input.
    WALLET_INVALID_PARAMETER = 103,
    /// The operating system could not provide random bytes.
    WALLET_RANDOM_FAILED = 104,
    /// An error from a part of the core this build has no code for.
    WALLET_UNKNOWN_ERROR = 105,

    // ---- 2xx: RLP
    /// RLP input ends before the announced item.
    WALLET_RLP_INPUT_TOO_SHORT = 200,
    /// RLP integer has a leading zero byte.
    WALLET_RLP_LEADING_ZERO = 201,
    /// RLP single byte below 0x80 wrapped in a string header.
    WALLET_RLP_NON_CANONICAL_SINGLE_BYTE = 202,
    /// RLP length not in its shortest form.
    WALLET_RLP_NON_CANONICAL_LENGTH = 203,
    /// RLP length does not fit in memory.
    WALLET_RLP_LENGTH_OVERFLOW = 204,
    /// Bytes remain after the RLP item.
    WALLET_RLP_TRAILING_BYTES = 205,
    /// RLP list where a string was expected.
    WALLET_RLP_UNEXPECTED_LIST = 206,
    /// RLP string where a list was expected.
    WALLET_RLP_UNEXPECTED_STRING = 207,
    /// RLP integer too large for its field.
    WALLET_RLP_INTEGER_OVERFLOW = 208,
    /// RLP string of the wrong length for its field (an address, a hash).
    WALLET_RLP_UNEXPECTED_LENGTH = 209,
    /// An RLP error this build has no specific code for.
    WALLET_RLP_OTHER = 299,

    // ---- 3xx: transactions
    /// The transaction bytes are empty.
    WALLET_TX_EMPTY_INPUT = 300,
    /// The EIP-2718 type byte names an unsupported transaction type.
    WALLET_TX_UNSUPPORTED_TYPE = 301,
    /// The transaction has too few fields for its type.
    WALLET_TX_TOO_FEW_FIELDS = 302,
    /// The transaction has too many fields for its type (a signed
    /// transaction where an unsigned payload is expected, for instance).
    WALLET_TX_TOO_MANY_FIELDS = 303,
    /// Chain id 0 is refused.
    WALLET_TX_CHAIN_ID_ZERO = 304,
    /// Chain id above the EIP-2294 maximum.
    WALLET_TX_CHAIN_ID_TOO_LARGE = 305,
    /// An unsigned EIP-155 payload does not end in `[chainId, 0, 0]`.
    WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER = 306,
    /// A legacy `v` is neither 27/28 nor `2*chainId + 35/36`.
    WALLET_TX_INVALID_V = 307,
    /// A typed transaction's `yParity` is neither 0 nor 1.
    WALLET_TX_INVALID_Y_PARITY = 308,
    /// The transaction signature has `r` or `s` out of range, or a high `s`.
    WALLET_TX_INVALID_SIGNATURE = 309,
    /// No sender can be recovered from the transaction signature.
    WALLET_TX_RECOVERY_FAILED = 310,
    /// This transaction type requires a recipient.
    WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED = 311,
    /// The transaction encoding is too large.
    WALLET_TX_TOO_LARGE = 312,
    /// The gas limit is below the intrinsic gas.
    WALLET_TX_INTRINSIC_GAS_TOO_LOW = 313,
    /// The gas limit is below the EIP-7623 calldata floor.
    WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR = 314,
    /// Nonce 2^64-1 is reserved (EIP-2681).
    WALLET_TX_NONCE_TOO_LARGE = 315,
    /// Init code exceeds the EIP-3860 limit.
    WALLET_TX_INIT_CODE_TOO_LARGE = 316,
    /// `maxPriorityFeePerGas` is above `maxFeePerGas`.
    WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE = 317,
    /// Gas limit times fee overflows 256 bits.
    WALLET_TX_FEE_COST_OVERFLOW = 318,
    /// A blob transaction has no blob hashes.
    WALLET_TX_NO_BLOBS = 319,
    /// A blob transaction has too many blobs.
    WALLET_TX_TOO_MANY_BLOBS = 320,
    /// A blob versioned hash has a wrong version byte.
    WALLET_TX_INVALID_BLOB_VERSION = 321,
    /// A set-code transaction has an empty authorization list.
    WALLET_TX_EMPTY_AUTHORIZATION_LIST = 322,
    /// A transaction error this build has no specific code for.
    WALLET_TX_OTHER = 399,

    // ---- 4xx: keys and signatures
    /// The secret key is zero or not below the secp256k1 order.
    WALLET_SIGNER_INVALID_SECRET_KEY = 400,
    /// A secret key must be exactly 32 bytes.
    WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH = 401,
    /// The public key is not a valid SEC1 secp256k1 point.
    WALLET_SIGNER_INVALID_PUBLIC_KEY = 402,
    /// Signature `r` or `s` is zero or not below the secp256k1 order.
    WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE = 403,
    /// Signature `s` is above n/2 (EIP-2 requires low `s`).
    WALLET_SIGNER_HIGH_S = 404,
    /// Signature `v` must be 0, 1, 27 or 28.
    WALLET_SIGNER_INVALID_RECOVERY_BYTE = 405,
    /// No public key can be recovered from the signature.
    WALLET_SIGNER_RECOVERY_FAILED = 406,
    /// Signing failed.
    WALLET_SIGNER_SIGNING_FAILED = 407,
    /// An address must be 40 hex digits, optionally after `0x`.
    WALLET_SIGNER_INVALID_ADDRESS_LENGTH = 408,
    /// An address contains a non-hex character.
    WALLET_SIGNER_INVALID_ADDRESS_HEX = 409,
    /// A mixed-case address fails its EIP-55 checksum.
    WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM = 410,
    /// A signer error this build has no specific code for.
    WALLET_SIGNER_OTHER = 499,
}

use wallet_result::*;

impl wallet_result {
    /// Every code, in numeric order.
    pub(crate) const ALL: &'static [Self] = &[
        WALLET_OK,
        WALLET_NULL_PARAMETER,
        WALLET_PANIC,
        WALLET_BUFFER_TOO_SMALL,
        WALLET_INVALID_PARAMETER,
        WALLET_RANDOM_FAILED,
        WALLET_UNKNOWN_ERROR,
        WALLET_RLP_INPUT_TOO_SHORT,
        WALLET_RLP_LEADING_ZERO,
        WALLET_RLP_NON_CANONICAL_SINGLE_BYTE,
        WALLET_RLP_NON_CANONICAL_LENGTH,
        WALLET_RLP_LENGTH_OVERFLOW,
        WALLET_RLP_TRAILING_BYTES,
        WALLET_RLP_UNEXPECTED_LIST,
        WALLET_RLP_UNEXPECTED_STRING,
        WALLET_RLP_INTEGER_OVERFLOW,
        WALLET_RLP_UNEXPECTED_LENGTH,
        WALLET_RLP_OTHER,
        WALLET_TX_EMPTY_INPUT,
        WALLET_TX_UNSUPPORTED_TYPE,
        WALLET_TX_TOO_FEW_FIELDS,
        WALLET_TX_TOO_MANY_FIELDS,
        WALLET_TX_CHAIN_ID_ZERO,
        WALLET_TX_CHAIN_ID_TOO_LARGE,
        WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER,
        WALLET_TX_INVALID_V,
        WALLET_TX_INVALID_Y_PARITY,
        WALLET_TX_INVALID_SIGNATURE,
        WALLET_TX_RECOVERY_FAILED,
        WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED,
        WALLET_TX_TOO_LARGE,
        WALLET_TX_INTRINSIC_GAS_TOO_LOW,
        WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR,
        WALLET_TX_NONCE_TOO_LARGE,
        WALLET_TX_INIT_CODE_TOO_LARGE,
        WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE,
        WALLET_TX_FEE_COST_OVERFLOW,
        WALLET_TX_NO_BLOBS,
        WALLET_TX_TOO_MANY_BLOBS,
        WALLET_TX_INVALID_BLOB_VERSION,
        WALLET_TX_EMPTY_AUTHORIZATION_LIST,
        WALLET_TX_OTHER,
        WALLET_SIGNER_INVALID_SECRET_KEY,
        WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH,
        WALLET_SIGNER_INVALID_PUBLIC_KEY,
        WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE,
        WALLET_SIGNER_HIGH_S,
        WALLET_SIGNER_INVALID_RECOVERY_BYTE,
        WALLET_SIGNER_RECOVERY_FAILED,
        WALLET_SIGNER_SIGNING_FAILED,
        WALLET_SIGNER_INVALID_ADDRESS_LENGTH,
        WALLET_SIGNER_INVALID_ADDRESS_HEX,
        WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM,
        WALLET_SIGNER_OTHER,
    ];

    /// The code with this number, if there is one.
    #[must_use]
    pub(crate) fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| *r as u32 == code)
    }

    /// A static, NUL-terminated description. Never contains data from a call.
    #[must_use]
    pub(crate) fn message(self) -> &'static CStr {
        match self {
            WALLET_OK => c"success",
            WALLET_NULL_PARAMETER => c"a required pointer argument was NULL",
            WALLET_PANIC => c"internal error in libwallet (a bug); the call had no effect",
            WALLET_BUFFER_TOO_SMALL => c"output buffer too small; *out_len holds the length needed",
            WALLET_INVALID_PARAMETER => {
                c"invalid argument: wrong length or value, or an output overlaps an input"
            }
            WALLET_RANDOM_FAILED => c"the operating system could not provide random bytes",
            WALLET_UNKNOWN_ERROR => c"error without a specific code in this build of libwallet",
            WALLET_RLP_INPUT_TOO_SHORT => c"RLP input ends before the announced item",
            WALLET_RLP_LEADING_ZERO => c"RLP integer has a leading zero byte",
            WALLET_RLP_NON_CANONICAL_SINGLE_BYTE => {
                c"RLP single byte below 0x80 has a string header"
            }
            WALLET_RLP_NON_CANONICAL_LENGTH => c"RLP length is not in its shortest form",
            WALLET_RLP_LENGTH_OVERFLOW => c"RLP length does not fit in memory",
            WALLET_RLP_TRAILING_BYTES => c"RLP input has bytes after the item",
            WALLET_RLP_UNEXPECTED_LIST => c"RLP list where a string was expected",
            WALLET_RLP_UNEXPECTED_STRING => c"RLP string where a list was expected",
            WALLET_RLP_INTEGER_OVERFLOW => c"RLP integer is too large for its field",
            WALLET_RLP_UNEXPECTED_LENGTH => c"RLP string has the wrong length for its field",
            WALLET_RLP_OTHER => c"malformed RLP (no specific code in this build)",
            WALLET_TX_EMPTY_INPUT => c"transaction bytes are empty",
            WALLET_TX_UNSUPPORTED_TYPE => c"transaction type is not supported",
            WALLET_TX_TOO_FEW_FIELDS => c"transaction has too few fields for its type",
            WALLET_TX_TOO_MANY_FIELDS => c"transaction has too many fields for its type",
            WALLET_TX_CHAIN_ID_ZERO => c"chain id 0 is refused for transactions",
            WALLET_TX_CHAIN_ID_TOO_LARGE => c"chain id is above the EIP-2294 maximum (2^63 - 37)",
            WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER => {
                c"EIP-155 signing payload must end in [chainId, 0, 0]"
            }
            WALLET_TX_INVALID_V => c"legacy v is neither 27/28 nor 2*chainId + 35/36",
            WALLET_TX_INVALID_Y_PARITY => c"yParity must be 0 or 1",
            WALLET_TX_INVALID_SIGNATURE => {
                c"transaction signature r or s is out of range, or s is high"
            }
            WALLET_TX_RECOVERY_FAILED => {
                c"no sender can be recovered from the transaction signature"
            }
            WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED => {
                c"this transaction type requires a recipient address"
            }
            WALLET_TX_TOO_LARGE => c"transaction encoding is too large",
            WALLET_TX_INTRINSIC_GAS_TOO_LOW => c"gas limit is below the intrinsic gas",
            WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR => {
                c"gas limit is below the EIP-7623 calldata floor"
            }
            WALLET_TX_NONCE_TOO_LARGE => c"nonce 2^64-1 is reserved (EIP-2681)",
            WALLET_TX_INIT_CODE_TOO_LARGE => c"init code exceeds 49152 bytes (EIP-3860)",
            WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE => {
                c"max priority fee per gas is above max fee per gas"
            }
            WALLET_TX_FEE_COST_OVERFLOW => c"gas limit times fee overflows 256 bits",
            WALLET_TX_NO_BLOBS => c"blob transaction has no blob hashes",
            WALLET_TX_TOO_MANY_BLOBS => c"blob transaction has too many blobs",
            WALLET_TX_INVALID_BLOB_VERSION => c"blob versioned hash has a wrong version byte",
            WALLET_TX_EMPTY_AUTHORIZATION_LIST => {
                c"set-code transaction has an empty authorization list"
            }
            WALLET_TX_OTHER => c"invalid transaction (no specific code in this build)",
            WALLET_SIGNER_INVALID_SECRET_KEY => {
                c"secret key is zero or not below the secp256k1 order"
            }
            WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH => c"secret key must be exactly 32 bytes",
            WALLET_SIGNER_INVALID_PUBLIC_KEY => c"public key is not a valid SEC1 secp256k1 point",
            WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE => {
                c"signature r or s is zero or not below the secp256k1 order"
            }
            WALLET_SIGNER_HIGH_S => c"signature s is above n/2 (EIP-2 requires low s)",
            WALLET_SIGNER_INVALID_RECOVERY_BYTE => c"signature v must be 0, 1, 27 or 28",
            WALLET_SIGNER_RECOVERY_FAILED => c"no public key can be recovered from this signature",
            WALLET_SIGNER_SIGNING_FAILED => c"signing failed",
            WALLET_SIGNER_INVALID_ADDRESS_LENGTH => {
                c"address must be 40 hex digits, optionally after 0x"
            }
            WALLET_SIGNER_INVALID_ADDRESS_HEX => c"address contains a non-hex character",
            WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM => {
                c"mixed-case address fails its EIP-55 checksum"
            }
            WALLET_SIGNER_OTHER => c"key or signature error (no specific code in this build)",
        }
    }
}

/// Describes a result code.
///
/// Returns a static, NUL-terminated string that stays valid for the life of
/// the process and must not be freed. It never contains data from a call (no
/// key material, no input bytes). Unknown numbers get a generic description,
/// so any `uint32_t` may be passed.
#[no_mangle]
pub extern "C" fn wallet_result_message(result: u32) -> *const c_char {
    // Nothing here can panic, but the boundary costs nothing and keeps the
    // rule without exceptions.
    crate::boundary::catch_or(c"unknown wallet_result code".as_ptr(), || {
        wallet_result::from_code(result)
            .map_or(c"unknown wallet_result code", wallet_result::message)
            .as_ptr()
    })
}

impl From<RlpError> for wallet_result {
    fn from(e: RlpError) -> Self {
        match e {
            RlpError::InputTooShort => WALLET_RLP_INPUT_TOO_SHORT,
            RlpError::LeadingZero => WALLET_RLP_LEADING_ZERO,
            RlpError::NonCanonicalSingleByte => WALLET_RLP_NON_CANONICAL_SINGLE_BYTE,
            RlpError::NonCanonicalLength => WALLET_RLP_NON_CANONICAL_LENGTH,
            RlpError::LengthOverflow => WALLET_RLP_LENGTH_OVERFLOW,
            RlpError::TrailingBytes => WALLET_RLP_TRAILING_BYTES,
            RlpError::UnexpectedList => WALLET_RLP_UNEXPECTED_LIST,
            RlpError::UnexpectedString => WALLET_RLP_UNEXPECTED_STRING,
            RlpError::IntegerOverflow => WALLET_RLP_INTEGER_OVERFLOW,
            RlpError::UnexpectedLength => WALLET_RLP_UNEXPECTED_LENGTH,
            RlpError::BufferTooSmall => WALLET_BUFFER_TOO_SMALL,
            _ => WALLET_RLP_OTHER,
        }
    }
}

impl From<TxError> for wallet_result {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Rlp(e) => e.into(),
            TxError::EmptyInput => WALLET_TX_EMPTY_INPUT,
            TxError::UnsupportedType(_) => WALLET_TX_UNSUPPORTED_TYPE,
            TxError::TooFewFields => WALLET_TX_TOO_FEW_FIELDS,
            TxError::TooManyFields => WALLET_TX_TOO_MANY_FIELDS,
            TxError::ChainIdZero => WALLET_TX_CHAIN_ID_ZERO,
            TxError::ChainIdTooLarge => WALLET_TX_CHAIN_ID_TOO_LARGE,
            TxError::NonZeroEip155Placeholder => WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER,
            TxError::InvalidV => WALLET_TX_INVALID_V,
            TxError::InvalidYParity => WALLET_TX_INVALID_Y_PARITY,
            TxError::InvalidSignature(_) => WALLET_TX_INVALID_SIGNATURE,
            TxError::Recovery(_) => WALLET_TX_RECOVERY_FAILED,
            TxError::ContractCreationNotAllowed => WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED,
            TxError::BufferTooSmall { .. } => WALLET_BUFFER_TOO_SMALL,
            TxError::TooLarge => WALLET_TX_TOO_LARGE,
            TxError::IntrinsicGasTooLow => WALLET_TX_INTRINSIC_GAS_TOO_LOW,
            TxError::GasLimitBelowDataFloor => WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR,
            TxError::NonceTooLarge => WALLET_TX_NONCE_TOO_LARGE,
            TxError::InitCodeTooLarge => WALLET_TX_INIT_CODE_TOO_LARGE,
            TxError::PriorityFeeAboveMaxFee => WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE,
            TxError::FeeCostOverflow => WALLET_TX_FEE_COST_OVERFLOW,
            TxError::NoBlobs => WALLET_TX_NO_BLOBS,
            TxError::TooManyBlobs => WALLET_TX_TOO_MANY_BLOBS,
            TxError::InvalidBlobVersion => WALLET_TX_INVALID_BLOB_VERSION,
            TxError::EmptyAuthorizationList => WALLET_TX_EMPTY_AUTHORIZATION_LIST,
            _ => WALLET_TX_OTHER,
        }
    }
}

impl From<SignerError> for wallet_result {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::InvalidSecretKey => WALLET_SIGNER_INVALID_SECRET_KEY,
            SignerError::InvalidSecretKeyLength => WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH,
            SignerError::InvalidPublicKey => WALLET_SIGNER_INVALID_PUBLIC_KEY,
            SignerError::SignatureScalarOutOfRange => WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE,
            SignerError::HighS => WALLET_SIGNER_HIGH_S,
            SignerError::InvalidRecoveryByte => WALLET_SIGNER_INVALID_RECOVERY_BYTE,
            SignerError::RecoveryFailed => WALLET_SIGNER_RECOVERY_FAILED,
            SignerError::SigningFailed => WALLET_SIGNER_SIGNING_FAILED,
            SignerError::InvalidAddressLength => WALLET_SIGNER_INVALID_ADDRESS_LENGTH,
            SignerError::InvalidAddressHex => WALLET_SIGNER_INVALID_ADDRESS_HEX,
            SignerError::InvalidAddressChecksum => WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM,
            _ => WALLET_SIGNER_OTHER,
        }
    }
}

/// The single mapping from a core error to a C result code.
impl From<Error> for wallet_result {
    fn from(e: Error) -> Self {
        match e {
            Error::Signer(e) => e.into(),
            Error::Rlp(e) => e.into(),
            Error::Tx(e) => e.into(),
            _ => WALLET_UNKNOWN_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in wallet_result::ALL {
            seen.insert(code as u32);
            assert_eq!(wallet_result::from_code(code as u32), Some(code));
        }
        assert_eq!(seen.len(), wallet_result::ALL.len());
        let mut sorted = wallet_result::ALL.to_vec();
        sorted.sort_by_key(|r| *r as u32);
        assert_eq!(sorted, wallet_result::ALL, "ALL is kept in numeric order");
        assert_eq!(wallet_result::from_code(1), None);
        for &code in wallet_result::ALL {
            assert!(!code.message().is_empty());
        }
        assert_eq!(wallet_result::from_code(u32::MAX), None);
    }

    /// `ALL` (used by `wallet_result_message`) lists exactly the codes the
    /// header declares, with the same numbers.
    #[test]
    fn all_matches_the_header() {
        let header = include_str!("../../include/wallet.h");
        let body = header
            .split("enum wallet_result")
            .nth(1)
            .and_then(|rest| rest.split("};").next())
            .expect("wallet.h declares enum wallet_result");
        let declared: Vec<(String, u32)> = body
            .lines()
            .filter_map(|line| {
                let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect();
        let ours: Vec<(String, u32)> = wallet_result::ALL
            .iter()
            .map(|&code| (format!("{code:?}"), code as u32))
            .collect();
        assert_eq!(declared, ours);
    }

    #[test]
    fn every_core_error_has_its_own_code() {
        let rlp = [
            RlpError::InputTooShort,
            RlpError::LeadingZero,
            RlpError::NonCanonicalSingleByte,
            RlpError::NonCanonicalLength,
            RlpError::LengthOverflow,
            RlpError::TrailingBytes,
            RlpError::UnexpectedList,
            RlpError::UnexpectedString,
            RlpError::IntegerOverflow,
            RlpError::UnexpectedLength,
        ];
        let signer = [
            SignerError::InvalidSecretKey,
            SignerError::InvalidSecretKeyLength,
            SignerError::InvalidPublicKey,
            SignerError::SignatureScalarOutOfRange,
            SignerError::HighS,
            SignerError::InvalidRecoveryByte,
            SignerError::RecoveryFailed,
            SignerError::SigningFailed,
            SignerError::InvalidAddressLength,
            SignerError::InvalidAddressHex,
            SignerError::InvalidAddressChecksum,
        ];
        let tx = [
            TxError::EmptyInput,
            TxError::UnsupportedType(9),
            TxError::TooFewFields,
            TxError::TooManyFields,
            TxError::ChainIdZero,
            TxError::ChainIdTooLarge,
            TxError::NonZeroEip155Placeholder,
            TxError::InvalidV,
            TxError::InvalidYParity,
            TxError::InvalidSignature(SignerError::HighS),
            TxError::Recovery(SignerError::RecoveryFailed),
            TxError::ContractCreationNotAllowed,
            TxError::TooLarge,
            TxError::IntrinsicGasTooLow,
            TxError::GasLimitBelowDataFloor,
            TxError::NonceTooLarge,
            TxError::InitCodeTooLarge,
            TxError::PriorityFeeAboveMaxFee,
            TxError::FeeCostOverflow,
            TxError::NoBlobs,
            TxError::TooManyBlobs,
            TxError::InvalidBlobVersion,
            TxError::EmptyAuthorizationList,
        ];
        let mut codes: Vec<wallet_result> = Vec::new();
        codes.extend(rlp.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(signer.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(tx.map(|e| wallet_result::from(Error::from(e))));
        let fallbacks = [
            WALLET_OK,
            WALLET_UNKNOWN_ERROR,
            WALLET_RLP_OTHER,
            WALLET_TX_OTHER,
            WALLET_SIGNER_OTHER,
        ];
        let mut unique = std::collections::BTreeSet::new();
        for code in &codes {
            assert!(!fallbacks.contains(code), "{code:?} is a fallback");
            assert!(unique.insert(*code as u32), "{code:?} used twice");
        }
        // Errors that wrap another keep the wrapped error's code, and both
        // flavours of a short buffer are the one generic code.
        assert_eq!(
            wallet_result::from(Error::from(TxError::Rlp(RlpError::LeadingZero))),
            WALLET_RLP_LEADING_ZERO
        );
        assert_eq!(
            wallet_result::from(Error::from(TxError::BufferTooSmall { needed: 3 })),
            WALLET_BUFFER_TOO_SMALL
        );
        assert_eq!(
            wallet_result::from(Error::from(RlpError::BufferTooSmall)),
            WALLET_BUFFER_TOO_SMALL
        );
    }
}
