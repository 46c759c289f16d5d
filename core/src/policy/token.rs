//! Token operations the policy looks into: strict ABI decoders for the
//! ERC-20, EIP-2612 and Permit2 calls that move or approve tokens, and the
//! permits of typed data. No allocation: every decoder borrows the calldata
//! and returns fixed-size values.
//!
//! A decoder accepts exactly the static ABI encoding of its arguments: the
//! 4-byte selector, then one 32-byte word per argument, nothing after. An
//! `address` word must have its 12 high bytes zero, a `uint160` 12, a
//! `uint48` 26, a `uint8` 31; anything else is a [`CalldataError`], never a
//! guess.

use core::fmt;

use crate::signer::Address;
use crate::tx::U256;

/// `transfer(address,uint256)`.
pub const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `transferFrom(address,address,uint256)`.
pub const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
/// `approve(address,uint256)`.
pub const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
/// `increaseAllowance(address,uint256)`.
pub const INCREASE_ALLOWANCE: [u8; 4] = [0x39, 0x50, 0x93, 0x51];
/// EIP-2612 `permit(address,address,uint256,uint256,uint8,bytes32,bytes32)`.
pub const PERMIT: [u8; 4] = [0xd5, 0x05, 0xac, 0xcf];
/// Permit2 `approve(address,address,uint160,uint48)`.
pub const PERMIT2_APPROVE: [u8; 4] = [0x87, 0x51, 0x7c, 0x45];
/// Permit2 `transferFrom(address,address,uint160,address)`.
pub const PERMIT2_TRANSFER_FROM: [u8; 4] = [0x36, 0xc7, 0x85, 0x16];

/// The largest `uint160`: Permit2's "unlimited" allowance.
pub const UINT160_MAX: U256 = {
    let mut bytes = [0u8; 32];
    let mut i = 12;
    while i < 32 {
        bytes[i] = 0xff;
        i += 1;
    }
    U256(bytes)
};

/// Why calldata with a token selector was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalldataError {
    /// Fewer bytes than the call's arguments need.
    Short {
        /// Bytes given.
        len: usize,
        /// Bytes the call takes.
        expected: usize,
    },
    /// More bytes than the call's arguments take.
    Trailing {
        /// Bytes given.
        len: usize,
        /// Bytes the call takes.
        expected: usize,
    },
    /// Argument `index` (from 0) has bits set above its type's width.
    DirtyHighBits {
        /// The argument's index.
        index: u8,
    },
}

impl fmt::Display for CalldataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Short { len, expected } => {
                write!(
                    f,
                    "calldata is {len} bytes, shorter than the {expected} the call takes"
                )
            }
            Self::Trailing { len, expected } => write!(
                f,
                "calldata is {len} bytes, longer than the {expected} the call takes"
            ),
            Self::DirtyHighBits { index } => {
                write!(f, "argument {index} has bits set above its type's width")
            }
        }
    }
}

/// What a token operation does, decoded from calldata or typed data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAction {
    /// Moves `amount` of the token to `recipient`.
    Transfer {
        /// Who receives the tokens.
        recipient: Address,
        /// How many (base units).
        amount: U256,
    },
    /// Lets `spender` move up to `amount` of the token (an allowance).
    Approve {
        /// Who may spend.
        spender: Address,
        /// How many; `None`: unlimited by construction (DAI's
        /// `allowed: true`, the type's maximum).
        amount: Option<U256>,
    },
}

/// A decoded token call: the token it acts on and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenCall {
    /// The selector that was decoded.
    pub selector: [u8; 4],
    /// The token contract (the call's `to`, or the `token` argument of a
    /// Permit2 call).
    pub token: Address,
    /// What the call does.
    pub action: TokenAction,
    /// The `expiration` argument of a Permit2 `approve` (Unix seconds; 0
    /// is Permit2's "the block's timestamp": the allowance expires in the
    /// block that sets it). `None` for every other call.
    pub expiration: Option<U256>,
}

/// Whether `selector` is one [`decode_token_call`] reads.
#[must_use]
pub fn is_token_selector(selector: &[u8; 4]) -> bool {
    [
        TRANSFER,
        TRANSFER_FROM,
        APPROVE,
        INCREASE_ALLOWANCE,
        PERMIT,
        PERMIT2_APPROVE,
        PERMIT2_TRANSFER_FROM,
    ]
    .contains(selector)
}

/// Whether `selector` is a Permit2 call, whose token is an argument rather
/// than the called contract.
#[must_use]
pub fn is_permit2_selector(selector: &[u8; 4]) -> bool {
    *selector == PERMIT2_APPROVE || *selector == PERMIT2_TRANSFER_FROM
}

/// The argument words of `input` after its selector, exactly `N` of them.
fn words<const N: usize>(input: &[u8]) -> Result<[&[u8; 32]; N], CalldataError> {
    let expected = 4 + 32 * N;
    if input.len() < expected {
        return Err(CalldataError::Short {
            len: input.len(),
            expected,
        });
    }
    if input.len() > expected {
        return Err(CalldataError::Trailing {
            len: input.len(),
            expected,
        });
    }
    let mut out = [&[0u8; 32]; N];
    let args = input.get(4..).unwrap_or_default();
    for (slot, chunk) in out.iter_mut().zip(args.chunks_exact(32)) {
        if let Ok(word) = <&[u8; 32]>::try_from(chunk) {
            *slot = word;
        }
    }
    Ok(out)
}

/// A word whose first `zero_bytes` bytes must be zero.
fn narrow(word: &[u8; 32], zero_bytes: usize, index: u8) -> Result<U256, CalldataError> {
    if word.iter().take(zero_bytes).any(|b| *b != 0) {
        return Err(CalldataError::DirtyHighBits { index });
    }
    Ok(U256(*word))
}

fn address(word: &[u8; 32], index: u8) -> Result<Address, CalldataError> {
    let value = narrow(word, 12, index)?;
    let mut out = [0u8; 20];
    out.copy_from_slice(value.0.get(12..).unwrap_or(&[0u8; 20]));
    Ok(Address(out))
}

/// An `approve`-like amount: the type's maximum is "unlimited".
fn approval(amount: U256, max: U256) -> Option<U256> {
    (amount != max).then_some(amount)
}

/// Decodes `input` sent to `to` as one of the token calls, strictly.
/// `Ok(None)` when its selector is none of them (or it has no selector).
///
/// # Errors
/// A [`CalldataError`] when the selector is a token call's but the
/// arguments are not its exact encoding.
pub fn decode_token_call(to: &Address, input: &[u8]) -> Result<Option<TokenCall>, CalldataError> {
    let Some(selector) = input.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()) else {
        return Ok(None);
    };
    let call = |token: Address, action: TokenAction| {
        Ok(Some(TokenCall {
            selector,
            token,
            action,
            expiration: None,
        }))
    };
    match selector {
        TRANSFER => {
            let [recipient, amount] = words::<2>(input)?;
            call(
                *to,
                TokenAction::Transfer {
                    recipient: address(recipient, 0)?,
                    amount: U256(*amount),
                },
            )
        }
        TRANSFER_FROM => {
            let [from, recipient, amount] = words::<3>(input)?;
            address(from, 0)?;
            call(
                *to,
                TokenAction::Transfer {
                    recipient: address(recipient, 1)?,
                    amount: U256(*amount),
                },
            )
        }
        APPROVE | INCREASE_ALLOWANCE => {
            let [spender, amount] = words::<2>(input)?;
            call(
                *to,
                TokenAction::Approve {
                    spender: address(spender, 0)?,
                    amount: approval(U256(*amount), U256::MAX),
                },
            )
        }
        PERMIT => {
            let [owner, spender, value, _deadline, v, _r, _s] = words::<7>(input)?;
            address(owner, 0)?;
            narrow(v, 31, 4)?;
            call(
                *to,
                TokenAction::Approve {
                    spender: address(spender, 1)?,
                    amount: approval(U256(*value), U256::MAX),
                },
            )
        }
        PERMIT2_APPROVE => {
            let [token, spender, amount, expiration] = words::<4>(input)?;
            let token = address(token, 0)?;
            let spender = address(spender, 1)?;
            let amount = narrow(amount, 12, 2)?;
            let expiration = narrow(expiration, 26, 3)?;
            Ok(Some(TokenCall {
                selector,
                token,
                action: TokenAction::Approve {
                    spender,
                    amount: approval(amount, UINT160_MAX),
                },
                expiration: Some(expiration),
            }))
        }
        PERMIT2_TRANSFER_FROM => {
            let [from, recipient, amount, token] = words::<4>(input)?;
            address(from, 0)?;
            let recipient = address(recipient, 1)?;
            let amount = narrow(amount, 12, 2)?;
            call(
                address(token, 3)?,
                TokenAction::Transfer { recipient, amount },
            )
        }
        _ => Ok(None),
    }
}

/// The kinds of typed-data permit the policy understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PermitKind {
    /// EIP-2612 `Permit(owner,spender,value,nonce,deadline)`.
    Eip2612,
    /// DAI's `Permit(holder,spender,nonce,expiry,allowed)`.
    Dai,
    /// Permit2 `PermitSingle`.
    Permit2Single,
    /// Permit2 `PermitBatch`.
    Permit2Batch,
    /// Permit2 `PermitTransferFrom`.
    Permit2TransferFrom,
    /// Permit2 `PermitBatchTransferFrom`.
    Permit2BatchTransferFrom,
    /// Permit2 `PermitWitnessTransferFrom` (any witness).
    Permit2WitnessTransferFrom,
}

impl PermitKind {
    /// The kind's name (its primary type, with DAI's told apart).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Eip2612 => "Permit",
            Self::Dai => "Permit (DAI)",
            Self::Permit2Single => "PermitSingle",
            Self::Permit2Batch => "PermitBatch",
            Self::Permit2TransferFrom => "PermitTransferFrom",
            Self::Permit2BatchTransferFrom => "PermitBatchTransferFrom",
            Self::Permit2WitnessTransferFrom => "PermitWitnessTransferFrom",
        }
    }
}

/// One token a permit grants: the token, the amount, and how long the
/// grant (or the signature) stays usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PermitGrant {
    /// The token.
    pub token: Address,
    /// The amount; `None`: unlimited (DAI `allowed: true`, the type's maximum).
    pub amount: Option<U256>,
    /// The latest time (Unix seconds) the permit or the allowance it sets
    /// can be used: the later of the signature deadline and the allowance
    /// expiration. `None`: never expires (DAI `expiry: 0`).
    pub valid_until: Option<U256>,
}

/// A typed-data permit as the policy checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permit<'a> {
    /// Which permit.
    pub kind: PermitKind,
    /// Who may spend.
    pub spender: Address,
    /// What it grants, one entry per token.
    pub grants: &'a [PermitGrant],
}
