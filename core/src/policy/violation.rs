//! Refusals: which rule, and the value it refused.

use core::fmt;

use super::token::CalldataError;
use super::PolicyField;
use crate::signer::Address;
use crate::tx::U256;

/// A request the policy refused. Carries the offending value as fixed-size
/// data; `Display` names the rule and the value, and [`rule`](Self::rule)
/// gives the rule as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// The transaction's chain id is not in `chain_ids`.
    ChainIdNotAllowed {
        /// The transaction's chain id.
        chain_id: u64,
    },
    /// A legacy transaction without an EIP-155 chain id, and
    /// `allow_unprotected` is false.
    UnprotectedNotAllowed,
    /// The transaction creates a contract, and `allow_contract_creation` is false.
    ContractCreationNotAllowed,
    /// The recipient is on `recipients_deny`.
    RecipientDenied {
        /// The refused recipient.
        recipient: Address,
    },
    /// The recipient is not on `recipients_allow`.
    RecipientNotAllowed {
        /// The refused recipient.
        recipient: Address,
    },
    /// A call to a contract listed in `selectors` with another selector.
    SelectorNotAllowed {
        /// The called contract.
        contract: Address,
        /// The first four bytes of the calldata.
        selector: [u8; 4],
    },
    /// A call to a contract listed in `selectors` whose calldata is shorter
    /// than a selector.
    MissingSelector {
        /// The called contract.
        contract: Address,
        /// The calldata length (0 to 3).
        calldata_len: u8,
    },
    /// An EIP-7702 authorization delegates to an address not on `delegations_allow`.
    DelegationNotAllowed {
        /// The authorization's `address`.
        delegate: Address,
    },
    /// The transaction's value is above `max_value_wei`.
    ValueAboveCap {
        /// The transaction's value in wei.
        value: U256,
        /// `max_value_wei`.
        cap: U256,
    },
    /// The transaction's maximum fee is above `max_fee_wei`.
    MaxFeeAboveCap {
        /// The maximum fee in wei; `None` when it is above `2^256 - 1`.
        max_fee: Option<U256>,
        /// `max_fee_wei`.
        cap: U256,
    },
    /// EIP-191 message signing, and `allow_messages` is false.
    MessagesNotAllowed,
    /// The EIP-712 domain's (chain id, verifying contract) is not in
    /// `typed_data_domains`, or the domain lacks one of them.
    TypedDataDomainNotAllowed {
        /// The domain's `chainId`, if it has one.
        chain_id: Option<U256>,
        /// The domain's `verifyingContract`, if it has one.
        verifying_contract: Option<Address>,
    },
    /// Typed data was given only as hashes while `typed_data_domains` is set:
    /// the domain cannot be checked from its separator.
    TypedDataHashNotCheckable,
    /// A raw 32-byte digest was given to sign, and `allow_raw_hashes` is false.
    RawHashNotAllowed,
    /// The spend would take the last 24 hours on this chain above `daily_limit_wei`.
    DailyLimitExceeded {
        /// The chain; `None` for a transaction without replay protection,
        /// which counts against every chain.
        chain_id: Option<u64>,
        /// Wei already spent in the window.
        spent: U256,
        /// This transaction's value plus maximum fee; `None` when above `2^256 - 1`.
        spend: Option<U256>,
        /// `daily_limit_wei`.
        limit: U256,
    },
    /// `default` is `deny` and no rule allows this call.
    DeniedByDefault {
        /// The called contract.
        contract: Address,
        /// The calldata's selector, if it has one.
        selector: Option<[u8; 4]>,
    },
    /// A call with a token selector whose calldata does not decode strictly.
    MalformedTokenCall {
        /// The called contract.
        contract: Address,
        /// The selector.
        selector: [u8; 4],
        /// What is wrong with the arguments.
        error: CalldataError,
    },
    /// `default` is `deny` and a permit grants a token without a rule in `tokens`.
    TokenNotListed {
        /// The token.
        token: Address,
    },
    /// A token transfer to a recipient not on the token's `recipients_allow`.
    TokenRecipientNotAllowed {
        /// The token.
        token: Address,
        /// The refused recipient.
        recipient: Address,
    },
    /// An approval or permit for a spender not on the token's `spenders_allow`.
    TokenSpenderNotAllowed {
        /// The token.
        token: Address,
        /// The refused spender.
        spender: Address,
    },
    /// A token transfer above the token's `max_amount`.
    TokenAmountAboveCap {
        /// The token.
        token: Address,
        /// The amount.
        amount: U256,
        /// `max_amount`.
        cap: U256,
    },
    /// An unlimited approval, or one above `max_amount`, while the token's
    /// `allow_unlimited_approval` is false.
    TokenApprovalAboveCap {
        /// The token.
        token: Address,
        /// The amount; `None`: unlimited.
        amount: Option<U256>,
        /// `max_amount`, if set.
        cap: Option<U256>,
    },
    /// The transfer would take the last 24 hours on this chain above the
    /// token's `daily_limit`.
    TokenDailyLimitExceeded {
        /// The token.
        token: Address,
        /// Already moved in the window.
        spent: U256,
        /// This transfer.
        spend: U256,
        /// `daily_limit`.
        limit: U256,
    },
    /// A permit stays usable beyond `permit_max_lifetime_seconds` from now.
    PermitLifetimeTooLong {
        /// The token of the grant.
        token: Address,
        /// Its latest deadline or expiration; `None`: never expires.
        valid_until: Option<U256>,
        /// Now (Unix seconds).
        now: u64,
        /// `permit_max_lifetime_seconds`.
        limit: u64,
    },
    /// An EIP-7702 authorization with chain id 0 (every chain), and
    /// `allow_any_chain_authorization` is false.
    AnyChainAuthorizationNotAllowed,
}

impl PolicyViolation {
    /// The rule that refused.
    #[must_use]
    pub fn rule(&self) -> PolicyField {
        match self {
            Self::ChainIdNotAllowed { .. } => PolicyField::ChainIds,
            Self::UnprotectedNotAllowed => PolicyField::AllowUnprotected,
            Self::ContractCreationNotAllowed => PolicyField::AllowContractCreation,
            Self::RecipientDenied { .. } => PolicyField::RecipientsDeny,
            Self::RecipientNotAllowed { .. } => PolicyField::RecipientsAllow,
            Self::SelectorNotAllowed { .. } | Self::MissingSelector { .. } => {
                PolicyField::Selectors
            }
            Self::DelegationNotAllowed { .. } => PolicyField::DelegationsAllow,
            Self::ValueAboveCap { .. } => PolicyField::MaxValueWei,
            Self::MaxFeeAboveCap { .. } => PolicyField::MaxFeeWei,
            Self::MessagesNotAllowed => PolicyField::AllowMessages,
            Self::TypedDataDomainNotAllowed { .. } | Self::TypedDataHashNotCheckable => {
                PolicyField::TypedDataDomains
            }
            Self::DailyLimitExceeded { .. } => PolicyField::DailyLimitWei,
            Self::RawHashNotAllowed => PolicyField::AllowRawHashes,
            Self::DeniedByDefault { .. } => PolicyField::Default,
            Self::MalformedTokenCall { .. } | Self::TokenNotListed { .. } => PolicyField::Tokens,
            Self::TokenRecipientNotAllowed { .. } => PolicyField::TokenRecipientsAllow,
            Self::TokenSpenderNotAllowed { .. } => PolicyField::TokenSpendersAllow,
            Self::TokenAmountAboveCap { .. } => PolicyField::TokenMaxAmount,
            Self::TokenApprovalAboveCap { .. } => PolicyField::TokenAllowUnlimitedApproval,
            Self::TokenDailyLimitExceeded { .. } => PolicyField::TokenDailyLimit,
            Self::PermitLifetimeTooLong { .. } => PolicyField::PermitMaxLifetimeSeconds,
            Self::AnyChainAuthorizationNotAllowed => PolicyField::AllowAnyChainAuthorization,
        }
    }
}

/// A wei amount, or "more than 2^256 - 1" for a sum that overflowed.
struct Wei(Option<U256>);

impl fmt::Display for Wei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(amount) => write!(f, "{amount}"),
            None => f.write_str("more than 2^256-1"),
        }
    }
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = self.rule();
        match *self {
            Self::ChainIdNotAllowed { chain_id } => {
                write!(f, "chain id {chain_id} is not in {rule}")
            }
            Self::UnprotectedNotAllowed => write!(
                f,
                "unprotected (pre-EIP-155) transactions are not allowed ({rule} is false)"
            ),
            Self::ContractCreationNotAllowed => {
                write!(f, "contract creation is not allowed ({rule} is false)")
            }
            Self::RecipientDenied { recipient } => {
                write!(f, "recipient {recipient} is on {rule}")
            }
            Self::RecipientNotAllowed { recipient } => {
                write!(f, "recipient {recipient} is not in {rule}")
            }
            Self::SelectorNotAllowed { contract, selector } => {
                let [a, b, c, d] = selector;
                write!(
                    f,
                    "selector 0x{a:02x}{b:02x}{c:02x}{d:02x} is not allowed for contract {contract} ({rule})"
                )
            }
            Self::MissingSelector {
                contract,
                calldata_len,
            } => write!(
                f,
                "call to contract {contract} has {calldata_len} bytes of calldata, no 4-byte selector, and {rule} restricts that contract"
            ),
            Self::DelegationNotAllowed { delegate } => {
                write!(f, "EIP-7702 delegation to {delegate} is not in {rule}")
            }
            Self::ValueAboveCap { value, cap } => {
                write!(f, "value {value} wei exceeds {rule} {cap}")
            }
            Self::MaxFeeAboveCap { max_fee, cap } => {
                write!(f, "max fee {} wei exceeds {rule} {cap}", Wei(max_fee))
            }
            Self::MessagesNotAllowed => {
                write!(f, "message signing is not allowed ({rule} is false)")
            }
            Self::TypedDataDomainNotAllowed {
                chain_id,
                verifying_contract,
            } => {
                f.write_str("typed-data domain (chain id ")?;
                match chain_id {
                    Some(id) => write!(f, "{id}")?,
                    None => f.write_str("absent")?,
                }
                f.write_str(", verifying contract ")?;
                match verifying_contract {
                    Some(address) => write!(f, "{address}")?,
                    None => f.write_str("absent")?,
                }
                write!(f, ") is not in {rule}")
            }
            Self::RawHashNotAllowed => write!(
                f,
                "signing a raw 32-byte hash is refused by {rule} (false): no rule can see what a hash commits to; sign the typed data or transaction itself instead"
            ),
            Self::TypedDataHashNotCheckable => write!(
                f,
                "typed data given only as hashes cannot be checked against {rule}: sign it with its domain fields instead"
            ),
            Self::DailyLimitExceeded {
                chain_id,
                spent,
                spend,
                limit,
            } => {
                write!(f, "spend of {} wei ", Wei(spend))?;
                match chain_id {
                    Some(id) => write!(f, "on chain {id}")?,
                    None => f.write_str("without replay protection (counted on every chain)")?,
                }
                write!(
                    f,
                    " would exceed {rule} {limit} ({spent} wei spent in the last 24 hours)"
                )
            }
            Self::DeniedByDefault { contract, selector } => {
                write!(f, "call to {contract} ")?;
                match selector {
                    Some([a, b, c, d]) => {
                        write!(f, "with selector 0x{a:02x}{b:02x}{c:02x}{d:02x}")?;
                    }
                    None => f.write_str("without a selector")?,
                }
                write!(
                    f,
                    " is allowed by no rule and {rule} is deny (list it in selectors or tokens)"
                )
            }
            Self::MalformedTokenCall {
                contract,
                selector: [a, b, c, d],
                error,
            } => write!(
                f,
                "call 0x{a:02x}{b:02x}{c:02x}{d:02x} to {contract} does not decode strictly ({error}); {rule} refuses calldata it cannot read"
            ),
            Self::TokenNotListed { token } => write!(
                f,
                "permit of token {token}, which has no rule in {rule}, and default is deny"
            ),
            Self::TokenRecipientNotAllowed { token, recipient } => {
                write!(f, "transfer of token {token} to {recipient}, which is not in {rule}")
            }
            Self::TokenSpenderNotAllowed { token, spender } => {
                write!(f, "approval of token {token} for spender {spender}, which is not in {rule}")
            }
            Self::TokenAmountAboveCap { token, amount, cap } => {
                write!(f, "transfer of {amount} of token {token} exceeds {rule} {cap}")
            }
            Self::TokenApprovalAboveCap { token, amount, cap } => {
                f.write_str("approval of ")?;
                match amount {
                    Some(amount) => write!(f, "{amount}")?,
                    None => f.write_str("an unlimited amount")?,
                }
                write!(f, " of token {token}")?;
                if let Some(cap) = cap {
                    write!(f, " (tokens.max_amount {cap})")?;
                }
                write!(f, " is refused: {rule} is false")
            }
            Self::TokenDailyLimitExceeded {
                token,
                spent,
                spend,
                limit,
            } => write!(
                f,
                "transfer of {spend} of token {token} would exceed {rule} {limit} ({spent} moved on this chain in the last 24 hours)"
            ),
            Self::PermitLifetimeTooLong {
                token,
                valid_until,
                now,
                limit,
            } => {
                write!(f, "permit of token {token} is usable until ")?;
                match valid_until {
                    Some(until) => write!(f, "{until}")?,
                    None => f.write_str("forever")?,
                }
                write!(f, ", more than {rule} {limit} after now ({now})")
            }
            Self::AnyChainAuthorizationNotAllowed => write!(
                f,
                "EIP-7702 authorization with chain id 0 (valid on every chain) is refused: {rule} is false"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyViolation {}
