//! The signing policy: rules checked inside the core before any signature.
//!
//! A [`Policy`] decides what the key may sign. It is fixed when an account is
//! created and bound to the sealed key (see `wallet`), so a caller that can
//! talk to the core, but is not trusted, cannot skip it. Every refusal is a
//! [`PolicyViolation`] that names the rule (its key in the policy, as in
//! `max_value_wei`) and the offending value.
//!
//! | rule | absent | checked on |
//! | --- | --- | --- |
//! | `chain_ids` | any chain | the transaction's chain id |
//! | `max_value_wei` | no cap | `value` |
//! | `max_fee_wei` | no cap | [`max_fee_wei`]: the most the transaction can pay in fees |
//! | `recipients_allow` | any recipient | `to` of a call |
//! | `recipients_deny` | nobody denied | `to` of a call (the deny list wins over the allow list) |
//! | `allow_contract_creation` | `true` | a transaction without `to` |
//! | `selectors` | no contract restricted | a call to a listed contract must start with a listed 4-byte selector |
//! | `delegations_allow` | any delegate | the `address` of each EIP-7702 authorization |
//! | `allow_unprotected` | `false` | a legacy transaction without an EIP-155 chain id |
//! | `allow_messages` | `true` | EIP-191 `personal_sign` |
//! | `typed_data_domains` | any domain | an EIP-712 domain's (chain id, verifying contract) |
//! | `daily_limit_wei` | no limit | value + max fee per chain over a rolling 24 hours (kept by the std wallet) |
//! | `allow_raw_hashes` | `false` (`true` only in [`Policy::plain_wallet`], the policy of a wallet created without one) | signing a caller's 32-byte digest (typed data given as hashes), which no rule can look into |
//! | `default` | `allow` | what happens to a request no rule allows ([`DefaultMode`]) |
//! | `tokens` | no token rule | per token: `max_amount`, `daily_limit`, `recipients_allow`, `spenders_allow`, `allow_unlimited_approval` ([`TokenRule`]), checked on decoded token calls ([`token`]) and permits |
//! | `permit_max_lifetime_seconds` | 3600 | how far ahead a checked permit's deadline or expiration may lie |
//! | `allow_any_chain_authorization` | `false` | an EIP-7702 authorization the wallet signs with chain id 0 |
//!
//! # Default mode
//!
//! In `allow` mode (the meaning of every policy without `default`) a request
//! is signed unless a rule refuses it; `recipients_allow`, `selectors`,
//! `delegations_allow` and `typed_data_domains` restrict. In `deny` mode only
//! what a rule allows is signed: a plain transfer (no calldata) to a
//! recipient on `recipients_allow`, a call to a contract of `selectors` with
//! a listed selector, a token call within its token's rule, a permit whose
//! every token has a rule it passes, typed data of a listed domain, a
//! delegation on `delegations_allow`, contract creation only with
//! `allow_contract_creation` (the JSON reader makes it, and
//! `allow_messages`, false unless stated in `deny` mode). Every deny rule
//! (`recipients_deny`, caps, `chain_ids`, token limits) applies in both
//! modes and always wins. [`Policy::decide_transaction`] and
//! [`Policy::decide_typed_data`] return the [`Decision`]: the mode and the
//! rules that allowed.
//!
//! # Tokens
//!
//! A call to a token with a rule whose selector is an ERC-20 `transfer`,
//! `transferFrom`, `approve`, `increaseAllowance` or EIP-2612 `permit`, and a
//! Permit2 `approve` or `transferFrom` (once the policy has token rules or
//! denies by default), is decoded strictly ([`token::decode_token_call`]);
//! calldata that does not decode is refused. A transfer's recipient must be
//! on the token's `recipients_allow` and its amount within `max_amount` and
//! `daily_limit` (the std wallet keeps the per-token history). An approval's
//! spender must be on `spenders_allow`; an unlimited approval (the type's
//! maximum, DAI's `allowed: true`) or one above `max_amount` needs
//! `allow_unlimited_approval`; an approval of 0 (a revocation) is always
//! allowed. Multicall and EIP-7702 batch wrappers are not looked into: they
//! are plain selectors. Approvals do not count toward `daily_limit`: what a
//! spender later moves is its own transaction.
//!
//! Notes on the rules:
//! - A transaction without a chain id (pre-EIP-155) is valid on every chain:
//!   it is refused unless `allow_unprotected` is set, and then `chain_ids`
//!   does not apply to it (there is no chain id to compare).
//! - Contract creation has no recipient: the recipient and selector lists do
//!   not apply to it, only `allow_contract_creation`.
//! - A delegation to the zero address clears an account's code (EIP-7702);
//!   under `delegations_allow` it is allowed only when the zero address is listed.
//! - `allow_messages` covers `personal_sign` only; typed data has its own rule.
//!   A typed-data signature requested as a bare hash (domain separator and
//!   struct hash) is refused whenever `typed_data_domains` is set, since the
//!   domain cannot be recovered from its hash.
//!
//! Amounts are computed in 256 bits; a sum or product above `2^256 - 1` is
//! treated as exceeding any cap.
//!
//! # Storage
//!
//! No allocator: every list is a `heapless::Vec` with a documented capacity
//! ([`MAX_CHAIN_IDS`], [`MAX_RECIPIENTS`], [`MAX_SELECTOR_CONTRACTS`],
//! [`MAX_SELECTORS_PER_CONTRACT`], [`MAX_DELEGATIONS`],
//! [`MAX_TYPED_DATA_DOMAINS`]). The setters sort and deduplicate, so two
//! policies with the same rules are equal, encode to the same bytes and have
//! the same [`Policy::hash`].
//!
//! # Canonical encoding
//!
//! Integers are big-endian. Optional fields start with a presence byte (0 or
//! 1); booleans are one byte (0 or 1). Lists carry a `u16` count, then their
//! entries in strictly ascending order (no duplicates).
//!
//! | field | encoding |
//! | --- | --- |
//! | magic | `b"FLWPLCY\0"` ([`MAGIC`]) |
//! | version | `u16`: `2`, or `3` ([`VERSION`]) when a version 3 rule is used; `1` is still read |
//! | `chain_ids` | presence; count; `u64` each, in `1..=`[`MAX_CHAIN_ID`] |
//! | `max_value_wei` | presence; 32 bytes |
//! | `max_fee_wei` | presence; 32 bytes |
//! | `recipients_allow` | presence; count; 20-byte addresses |
//! | `recipients_deny` | count; 20-byte addresses (an empty list and no list are the same rule) |
//! | `allow_contract_creation` | bool |
//! | `selectors` | count; per contract (ascending by address): 20-byte address, count, 4-byte selectors |
//! | `delegations_allow` | presence; count; 20-byte addresses |
//! | `allow_unprotected` | bool |
//! | `allow_messages` | bool |
//! | `typed_data_domains` | presence; count; per domain (ascending by chain id, then address): `u64` chain id, 20-byte verifying contract |
//! | `daily_limit_wei` | presence; 32 bytes |
//! | `allow_raw_hashes` | bool (version 2 and 3) |
//! | `default` | bool: 1 for `deny` (version 3 only, as are the rows below) |
//! | `tokens` | count; per token (ascending by address): 20-byte address, `max_amount` (presence; 32 bytes), `daily_limit` (presence; 32 bytes), `recipients_allow` (presence; count; addresses), `spenders_allow` (presence; count; addresses), `allow_unlimited_approval` (bool) |
//! | `permit_max_lifetime_seconds` | `u64` |
//! | `allow_any_chain_authorization` | bool |
//!
//! Nothing may follow. [`Policy::decode`] accepts exactly the bytes
//! [`Policy::encode`] writes and nothing else: every other input is a
//! [`PolicyError`] naming the field. [`Policy::hash`] is SHA-256 of the
//! encoding.

use core::fmt;

use heapless::Vec;
use hmac::Mac as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::signer::{Address, SecretKey};
use crate::tx::{TxKind, TypedTransaction, MAX_CHAIN_ID, U256};

#[cfg(feature = "std")]
pub mod audit;
mod eip712;
mod encoding;
#[cfg(feature = "std")]
pub mod json;
#[cfg(feature = "std")]
pub mod ledger;
pub mod token;
mod violation;

pub use eip712::Eip712Domain;
pub use encoding::{MAGIC, MAX_ENCODED_LEN, VERSION};
pub use token::{
    decode_token_call, CalldataError, Permit, PermitGrant, PermitKind, TokenAction, TokenCall,
};
pub use violation::PolicyViolation;

/// Capacity of `chain_ids`.
pub const MAX_CHAIN_IDS: usize = 32;
/// Capacity of `recipients_allow` and of `recipients_deny`.
pub const MAX_RECIPIENTS: usize = 64;
/// Capacity of `selectors`: how many contracts can be restricted.
pub const MAX_SELECTOR_CONTRACTS: usize = 16;
/// How many selectors one contract of `selectors` can list.
pub const MAX_SELECTORS_PER_CONTRACT: usize = 16;
/// Capacity of `delegations_allow`.
pub const MAX_DELEGATIONS: usize = 16;
/// Capacity of `typed_data_domains`.
pub const MAX_TYPED_DATA_DOMAINS: usize = 16;
/// Capacity of `tokens`: how many tokens can have a rule.
pub const MAX_TOKENS: usize = 8;
/// Capacity of one token's `recipients_allow` and of its `spenders_allow`.
pub const MAX_TOKEN_ADDRESSES: usize = 8;
/// `permit_max_lifetime_seconds` when the policy does not set it: one hour.
pub const DEFAULT_PERMIT_MAX_LIFETIME_SECONDS: u64 = 3600;

/// Blob gas per blob (EIP-4844 `GAS_PER_BLOB`, 2^17).
pub const GAS_PER_BLOB: u64 = 1 << 17;

/// Domain separation label of the key that binds a policy to a wallet key.
pub const BINDING_KEY_LABEL: &[u8] = b"flare-wallet/policy-binding/v1";

/// A policy rule, named as in the policy's keys (`chain_ids`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyField {
    /// The magic and version in front of an encoding.
    Header,
    /// Allowed chain ids.
    ChainIds,
    /// Cap on the value of one transaction.
    MaxValueWei,
    /// Cap on the fees one transaction can pay.
    MaxFeeWei,
    /// Recipient allowlist.
    RecipientsAllow,
    /// Recipient denylist.
    RecipientsDeny,
    /// Whether contract creation is allowed.
    AllowContractCreation,
    /// Allowed function selectors per contract.
    Selectors,
    /// EIP-7702 delegation allowlist.
    DelegationsAllow,
    /// Whether transactions without replay protection are allowed.
    AllowUnprotected,
    /// Whether EIP-191 message signing is allowed.
    AllowMessages,
    /// Allowed EIP-712 domains.
    TypedDataDomains,
    /// Rolling 24-hour spend cap per chain.
    DailyLimitWei,
    /// Whether a caller's raw 32-byte digest may be signed.
    AllowRawHashes,
    /// What is signed when no rule allows it: `allow` or `deny`.
    Default,
    /// Per-token rules (the map itself, or a token call it cannot read).
    Tokens,
    /// A token's `max_amount`.
    TokenMaxAmount,
    /// A token's `daily_limit`.
    TokenDailyLimit,
    /// A token's `recipients_allow`.
    TokenRecipientsAllow,
    /// A token's `spenders_allow`.
    TokenSpendersAllow,
    /// A token's `allow_unlimited_approval`.
    TokenAllowUnlimitedApproval,
    /// How far ahead a permit's deadline or expiration may lie.
    PermitMaxLifetimeSeconds,
    /// Whether an EIP-7702 authorization for every chain (chain id 0) may be signed.
    AllowAnyChainAuthorization,
}

impl PolicyField {
    /// The rule's key, as in a policy file or dict (`"max_value_wei"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::ChainIds => "chain_ids",
            Self::MaxValueWei => "max_value_wei",
            Self::MaxFeeWei => "max_fee_wei",
            Self::RecipientsAllow => "recipients_allow",
            Self::RecipientsDeny => "recipients_deny",
            Self::AllowContractCreation => "allow_contract_creation",
            Self::Selectors => "selectors",
            Self::DelegationsAllow => "delegations_allow",
            Self::AllowUnprotected => "allow_unprotected",
            Self::AllowMessages => "allow_messages",
            Self::TypedDataDomains => "typed_data_domains",
            Self::DailyLimitWei => "daily_limit_wei",
            Self::AllowRawHashes => "allow_raw_hashes",
            Self::Default => "default",
            Self::Tokens => "tokens",
            Self::TokenMaxAmount => "tokens.max_amount",
            Self::TokenDailyLimit => "tokens.daily_limit",
            Self::TokenRecipientsAllow => "tokens.recipients_allow",
            Self::TokenSpendersAllow => "tokens.spenders_allow",
            Self::TokenAllowUnlimitedApproval => "tokens.allow_unlimited_approval",
            Self::PermitMaxLifetimeSeconds => "permit_max_lifetime_seconds",
            Self::AllowAnyChainAuthorization => "allow_any_chain_authorization",
        }
    }
}

impl fmt::Display for PolicyField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a policy could not be built, encoded or decoded, or why a request was
/// refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// A rule refused the request; nothing was signed.
    Violation(PolicyViolation),
    /// The encoding does not start with the policy magic.
    BadMagic,
    /// The encoding's version is not one this code reads.
    UnsupportedVersion(u16),
    /// The encoding ends inside the named field.
    Truncated(PolicyField),
    /// A presence or boolean byte of the named field is neither 0 nor 1.
    InvalidFlag(PolicyField),
    /// The named list has more entries than its capacity.
    TooMany(PolicyField),
    /// The named list's entries are not in ascending order.
    Unsorted(PolicyField),
    /// The named list holds the same entry twice.
    Duplicate(PolicyField),
    /// A chain id in `chain_ids` is 0 or above the EIP-2294 maximum; no
    /// transaction can carry it.
    ChainIdOutOfRange(u64),
    /// Bytes follow the last field.
    TrailingBytes,
    /// The output buffer is shorter than the encoding.
    BufferTooSmall,
    /// The spend ledger in the state directory is damaged or belongs to
    /// another account.
    SpendLedgerMalformed,
    /// The spend ledger is full: no two committed entries of one asset can
    /// be merged to make room (or every reservation id was used).
    SpendLedgerFull,
    /// A spend reserved before signing is no longer in the ledger when it
    /// is committed: the ledger was replaced or deleted meanwhile. The
    /// signature was not returned.
    SpendReservationLost,
    /// The policy audit log in the state directory does not parse.
    AuditLogMalformed,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Violation(v) => write!(f, "{v}"),
            Self::BadMagic => f.write_str("not a policy encoding (bad magic)"),
            Self::UnsupportedVersion(v) => {
                write!(
                    f,
                    "policy encoding version {v} is not supported (expected {}, {} or {VERSION}, and version {VERSION} only for a policy that uses a version {VERSION} rule)",
                    encoding::VERSION_1,
                    encoding::VERSION_2
                )
            }
            Self::Truncated(field) => write!(f, "policy encoding is truncated in {field}"),
            Self::InvalidFlag(field) => {
                write!(
                    f,
                    "policy encoding: {field} has a flag byte that is neither 0 nor 1"
                )
            }
            Self::TooMany(field) => write!(f, "policy: {field} has more entries than it can hold"),
            Self::Unsorted(field) => {
                write!(f, "policy encoding: {field} is not in ascending order")
            }
            Self::Duplicate(field) => write!(f, "policy encoding: {field} lists an entry twice"),
            Self::ChainIdOutOfRange(id) => write!(
                f,
                "policy: chain id {id} in chain_ids is 0 or above the EIP-2294 maximum"
            ),
            Self::TrailingBytes => f.write_str("policy encoding has bytes after its last field"),
            Self::BufferTooSmall => f.write_str("output buffer too small for the policy encoding"),
            Self::SpendLedgerMalformed => f.write_str(
                "the spend ledger (daily_limit_wei history) is damaged or belongs to another account",
            ),
            Self::SpendLedgerFull => f.write_str(
                "the spend ledger is full (4096 live entries that cannot be merged); nothing was signed",
            ),
            Self::SpendReservationLost => f.write_str(
                "the spend reserved before signing vanished from the spend ledger (it was replaced or deleted meanwhile); the signature was not returned",
            ),
            Self::AuditLogMalformed => f.write_str("the policy audit log does not parse"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

impl From<PolicyViolation> for PolicyError {
    fn from(v: PolicyViolation) -> Self {
        Self::Violation(v)
    }
}

/// `HMAC-SHA256(secret key, label)`: the key a binding tag is made with, so
/// the tag's MAC is never keyed with the wallet key itself.
///
/// Computed from SHA-256 by the HMAC definition (RFC 2104) rather than with
/// the `hmac` crate, whose key setup leaves the key XOR ipad/opad blocks on
/// the stack unwiped: here both pad blocks and the inner hash are wiped.
/// The result equals `Hmac::<Sha256>` (tested).
pub(crate) fn derive_binding_key(key: &SecretKey, label: &[u8]) -> Zeroizing<[u8; 32]> {
    const BLOCK: usize = 64;
    let secret = key.to_bytes();
    let mut inner_pad = Zeroizing::new([0x36u8; BLOCK]);
    let mut outer_pad = Zeroizing::new([0x5cu8; BLOCK]);
    for ((inner, outer), byte) in inner_pad
        .iter_mut()
        .zip(outer_pad.iter_mut())
        .zip(secret.iter())
    {
        *inner ^= byte;
        *outer ^= byte;
    }
    let mut inner = Sha256::new();
    inner.update(&inner_pad[..]);
    inner.update(label);
    let inner_hash = Zeroizing::new(<[u8; 32]>::from(inner.finalize()));
    let mut outer = Sha256::new();
    outer.update(&outer_pad[..]);
    outer.update(&inner_hash[..]);
    Zeroizing::new(outer.finalize().into())
}

/// The version 1 binding tag (a policy without owners):
/// `HMAC-SHA256(K, address || encoding)` with
/// `K = HMAC-SHA256(secret key, BINDING_KEY_LABEL)` ([`derive_binding_key`]),
/// the policy's canonical encoding written into the MAC by `write_policy`.
/// [`Policy::binding_tag`] and the account file's version 1 tag (over the
/// stored encoding) both come from here.
pub(crate) fn policy_binding_tag(
    key: &SecretKey,
    address: &Address,
    write_policy: impl FnOnce(&mut hmac::Hmac<Sha256>),
) -> [u8; 32] {
    let binding_key = derive_binding_key(key, BINDING_KEY_LABEL);
    let mut mac = crate::tpm::kdf::hmac_sha256(&binding_key[..]);
    mac.update(&address.0);
    write_policy(&mut mac);
    mac.finalize().into_bytes().into()
}

/// The selectors allowed for one contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorRule {
    contract: Address,
    selectors: Vec<[u8; 4], MAX_SELECTORS_PER_CONTRACT>,
}

impl SelectorRule {
    /// The restricted contract.
    #[must_use]
    pub fn contract(&self) -> Address {
        self.contract
    }

    /// Its allowed selectors, ascending.
    #[must_use]
    pub fn selectors(&self) -> &[[u8; 4]] {
        &self.selectors
    }
}

/// An allowed EIP-712 domain: its chain id and verifying contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypedDataDomain {
    /// The domain's `chainId`.
    pub chain_id: u64,
    /// The domain's `verifyingContract`.
    pub verifying_contract: Address,
}

/// What the policy does with a request no rule speaks to (`"default"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DefaultMode {
    /// Sign unless a rule refuses (the meaning of every policy without
    /// `default`).
    #[default]
    Allow,
    /// Sign only what a rule explicitly allows: a plain transfer to a
    /// recipient on `recipients_allow`, a call to a contract of `selectors`
    /// with a listed selector, a token operation within its token's rule, a
    /// permit within its tokens' rules or typed data of a listed domain.
    Deny,
}

impl DefaultMode {
    /// `"allow"` or `"deny"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

/// The rule of one token (an entry of `tokens`). Amounts are in the token's
/// base units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRule {
    token: Address,
    max_amount: Option<U256>,
    daily_limit: Option<U256>,
    recipients_allow: Option<Vec<Address, MAX_TOKEN_ADDRESSES>>,
    spenders_allow: Option<Vec<Address, MAX_TOKEN_ADDRESSES>>,
    allow_unlimited_approval: bool,
}

impl TokenRule {
    /// A rule for `token` that restricts nothing but unlimited approvals.
    #[must_use]
    pub fn new(token: Address) -> Self {
        Self {
            token,
            max_amount: None,
            daily_limit: None,
            recipients_allow: None,
            spenders_allow: None,
            allow_unlimited_approval: false,
        }
    }

    /// The token contract.
    #[must_use]
    pub fn token(&self) -> Address {
        self.token
    }

    /// The most one transfer may move, and the largest approval; `None`: no cap.
    #[must_use]
    pub fn max_amount(&self) -> Option<U256> {
        self.max_amount
    }

    /// Sets `max_amount`.
    pub fn set_max_amount(&mut self, cap: Option<U256>) {
        self.max_amount = cap;
    }

    /// The most transfers may move over a rolling 24 hours per chain; `None`: no limit.
    #[must_use]
    pub fn daily_limit(&self) -> Option<U256> {
        self.daily_limit
    }

    /// Sets `daily_limit`.
    pub fn set_daily_limit(&mut self, limit: Option<U256>) {
        self.daily_limit = limit;
    }

    /// Who may receive the token, ascending; `None`: anyone.
    #[must_use]
    pub fn recipients_allow(&self) -> Option<&[Address]> {
        self.recipients_allow.as_deref()
    }

    /// Sets `recipients_allow`.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] above [`MAX_TOKEN_ADDRESSES`].
    pub fn set_recipients_allow(&mut self, allow: Option<&[Address]>) -> Result<(), PolicyError> {
        self.recipients_allow = match allow {
            None => None,
            Some(list) => Some(sorted_set(list, PolicyField::TokenRecipientsAllow)?),
        };
        Ok(())
    }

    /// Who may be given an allowance, ascending; `None`: anyone.
    #[must_use]
    pub fn spenders_allow(&self) -> Option<&[Address]> {
        self.spenders_allow.as_deref()
    }

    /// Sets `spenders_allow`.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] above [`MAX_TOKEN_ADDRESSES`].
    pub fn set_spenders_allow(&mut self, allow: Option<&[Address]>) -> Result<(), PolicyError> {
        self.spenders_allow = match allow {
            None => None,
            Some(list) => Some(sorted_set(list, PolicyField::TokenSpendersAllow)?),
        };
        Ok(())
    }

    /// Whether an unlimited approval, or one above `max_amount`, may be signed.
    #[must_use]
    pub fn allow_unlimited_approval(&self) -> bool {
        self.allow_unlimited_approval
    }

    /// Sets `allow_unlimited_approval`.
    pub fn set_allow_unlimited_approval(&mut self, allow: bool) {
        self.allow_unlimited_approval = allow;
    }
}

/// How many rules a [`Decision`] can name.
pub const MAX_DECISION_RULES: usize = 12;

/// Why a request was allowed: the mode and the rules that were checked and
/// passed, in the order they were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The policy's default mode.
    pub mode: DefaultMode,
    /// The rules that allowed or bounded the request. In `deny` mode at
    /// least one of them is an allowing rule; in `allow` mode an empty list
    /// means only the default allowed it.
    pub rules: Vec<PolicyField, MAX_DECISION_RULES>,
}

impl Decision {
    fn new(mode: DefaultMode) -> Self {
        Self {
            mode,
            rules: Vec::new(),
        }
    }

    fn note(&mut self, rule: PolicyField) {
        if !self.rules.contains(&rule) {
            // Capacity exceeds the number of rules any one check names.
            let _ = self.rules.push(rule);
        }
    }
}

/// A signing policy. See the [module documentation](self) for the rules.
///
/// [`Policy::default`] allows everything except transactions without replay
/// protection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    chain_ids: Option<Vec<u64, MAX_CHAIN_IDS>>,
    max_value_wei: Option<U256>,
    max_fee_wei: Option<U256>,
    recipients_allow: Option<Vec<Address, MAX_RECIPIENTS>>,
    recipients_deny: Vec<Address, MAX_RECIPIENTS>,
    allow_contract_creation: bool,
    selectors: Vec<SelectorRule, MAX_SELECTOR_CONTRACTS>,
    delegations_allow: Option<Vec<Address, MAX_DELEGATIONS>>,
    allow_unprotected: bool,
    allow_messages: bool,
    typed_data_domains: Option<Vec<TypedDataDomain, MAX_TYPED_DATA_DOMAINS>>,
    daily_limit_wei: Option<U256>,
    allow_raw_hashes: bool,
    default_mode: DefaultMode,
    tokens: Vec<TokenRule, MAX_TOKENS>,
    permit_max_lifetime_seconds: u64,
    allow_any_chain_authorization: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            chain_ids: None,
            max_value_wei: None,
            max_fee_wei: None,
            recipients_allow: None,
            recipients_deny: Vec::new(),
            allow_contract_creation: true,
            selectors: Vec::new(),
            delegations_allow: None,
            allow_unprotected: false,
            allow_messages: true,
            typed_data_domains: None,
            daily_limit_wei: None,
            allow_raw_hashes: false,
            default_mode: DefaultMode::Allow,
            tokens: Vec::new(),
            permit_max_lifetime_seconds: DEFAULT_PERMIT_MAX_LIFETIME_SECONDS,
            allow_any_chain_authorization: false,
        }
    }
}

/// `items` sorted and deduplicated into a bounded vector.
fn sorted_set<T: Ord + Copy, const N: usize>(
    items: &[T],
    field: PolicyField,
) -> Result<Vec<T, N>, PolicyError> {
    let mut out: Vec<T, N> = Vec::new();
    for &item in items {
        if let Err(at) = out.binary_search(&item) {
            out.insert(at, item)
                .map_err(|_| PolicyError::TooMany(field))?;
        }
    }
    Ok(out)
}

fn contains<T: Ord>(list: &[T], item: &T) -> bool {
    list.binary_search(item).is_ok()
}

/// The most a transaction can pay in fees, in wei:
/// `gas_limit · max_fee_per_gas` (`gasPrice` for legacy and EIP-2930), plus
/// for an EIP-4844 transaction `blobs · GAS_PER_BLOB · max_fee_per_blob_gas`.
/// `None` when that is above `2^256 - 1`.
#[must_use]
pub fn max_fee_wei(tx: &TypedTransaction<'_>) -> Option<U256> {
    let execution = tx.max_fee_per_gas().checked_mul_u64(tx.gas_limit())?;
    match tx {
        TypedTransaction::Eip4844(blob) => {
            let blobs = u64::try_from(blob.blob_versioned_hashes.len()).ok()?;
            let blob_gas = blobs.checked_mul(GAS_PER_BLOB)?;
            let blob_fee = blob.max_fee_per_blob_gas.checked_mul_u64(blob_gas)?;
            execution.checked_add(blob_fee)
        }
        _ => Some(execution),
    }
}

/// What a transaction counts against `daily_limit_wei`: its value plus its
/// [`max_fee_wei`] (the worst case). `None` when above `2^256 - 1`.
#[must_use]
pub fn worst_case_spend(tx: &TypedTransaction<'_>) -> Option<U256> {
    tx.value().checked_add(max_fee_wei(tx)?)
}

impl Policy {
    /// Allowed chain ids, ascending; `None`: any chain.
    #[must_use]
    pub fn chain_ids(&self) -> Option<&[u64]> {
        self.chain_ids.as_deref()
    }

    /// Sets the allowed chain ids (sorted, duplicates dropped); `None` lifts
    /// the restriction.
    ///
    /// # Errors
    /// [`PolicyError::ChainIdOutOfRange`] for 0 or an id above
    /// [`MAX_CHAIN_ID`], [`PolicyError::TooMany`] above [`MAX_CHAIN_IDS`].
    /// The policy is unchanged then.
    pub fn set_chain_ids(&mut self, chain_ids: Option<&[u64]>) -> Result<(), PolicyError> {
        self.chain_ids = match chain_ids {
            None => None,
            Some(ids) => {
                if let Some(&bad) = ids.iter().find(|&&id| id == 0 || id > MAX_CHAIN_ID) {
                    return Err(PolicyError::ChainIdOutOfRange(bad));
                }
                Some(sorted_set(ids, PolicyField::ChainIds)?)
            }
        };
        Ok(())
    }

    /// Cap on a transaction's value; `None`: no cap.
    #[must_use]
    pub fn max_value_wei(&self) -> Option<U256> {
        self.max_value_wei
    }

    /// Sets the cap on a transaction's value (a value equal to the cap passes).
    pub fn set_max_value_wei(&mut self, cap: Option<U256>) {
        self.max_value_wei = cap;
    }

    /// Cap on a transaction's [`max_fee_wei`]; `None`: no cap.
    #[must_use]
    pub fn max_fee_wei(&self) -> Option<U256> {
        self.max_fee_wei
    }

    /// Sets the cap on a transaction's [`max_fee_wei`] (a fee equal to the cap passes).
    pub fn set_max_fee_wei(&mut self, cap: Option<U256>) {
        self.max_fee_wei = cap;
    }

    /// Recipient allowlist, ascending; `None`: any recipient.
    #[must_use]
    pub fn recipients_allow(&self) -> Option<&[Address]> {
        self.recipients_allow.as_deref()
    }

    /// Sets the recipient allowlist; `None` lifts it, an empty list allows
    /// no call at all.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] above [`MAX_RECIPIENTS`]; the policy is unchanged then.
    pub fn set_recipients_allow(&mut self, allow: Option<&[Address]>) -> Result<(), PolicyError> {
        self.recipients_allow = match allow {
            None => None,
            Some(list) => Some(sorted_set(list, PolicyField::RecipientsAllow)?),
        };
        Ok(())
    }

    /// Recipient denylist, ascending (empty: nobody denied).
    #[must_use]
    pub fn recipients_deny(&self) -> &[Address] {
        &self.recipients_deny
    }

    /// Sets the recipient denylist.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] above [`MAX_RECIPIENTS`]; the policy is unchanged then.
    pub fn set_recipients_deny(&mut self, deny: &[Address]) -> Result<(), PolicyError> {
        self.recipients_deny = sorted_set(deny, PolicyField::RecipientsDeny)?;
        Ok(())
    }

    /// Whether a transaction may create a contract.
    #[must_use]
    pub fn allow_contract_creation(&self) -> bool {
        self.allow_contract_creation
    }

    /// Sets whether a transaction may create a contract.
    pub fn set_allow_contract_creation(&mut self, allow: bool) {
        self.allow_contract_creation = allow;
    }

    /// The contracts whose calls are restricted to listed selectors,
    /// ascending by address.
    #[must_use]
    pub fn selectors(&self) -> &[SelectorRule] {
        &self.selectors
    }

    /// The selectors allowed for `contract`, if it is restricted.
    #[must_use]
    pub fn selectors_for(&self, contract: &Address) -> Option<&[[u8; 4]]> {
        self.selectors
            .binary_search_by(|rule| rule.contract.cmp(contract))
            .ok()
            .and_then(|i| self.selectors.get(i))
            .map(SelectorRule::selectors)
    }

    /// Restricts calls to `contract` to `selectors` (replacing any earlier
    /// list for it). An empty list allows no call to it at all.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] (field `selectors`) above
    /// [`MAX_SELECTORS_PER_CONTRACT`] selectors or [`MAX_SELECTOR_CONTRACTS`]
    /// contracts; the policy is unchanged then.
    pub fn set_selectors(
        &mut self,
        contract: Address,
        selectors: &[[u8; 4]],
    ) -> Result<(), PolicyError> {
        let rule = SelectorRule {
            contract,
            selectors: sorted_set(selectors, PolicyField::Selectors)?,
        };
        match self
            .selectors
            .binary_search_by(|r| r.contract.cmp(&contract))
        {
            Ok(i) => {
                if let Some(slot) = self.selectors.get_mut(i) {
                    *slot = rule;
                }
            }
            Err(i) => self
                .selectors
                .insert(i, rule)
                .map_err(|_| PolicyError::TooMany(PolicyField::Selectors))?,
        }
        Ok(())
    }

    /// Lifts the selector restriction on `contract`; returns whether it had one.
    pub fn remove_selectors(&mut self, contract: &Address) -> bool {
        match self
            .selectors
            .binary_search_by(|r| r.contract.cmp(contract))
        {
            Ok(i) => {
                self.selectors.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// EIP-7702 delegation allowlist, ascending; `None`: any delegate.
    #[must_use]
    pub fn delegations_allow(&self) -> Option<&[Address]> {
        self.delegations_allow.as_deref()
    }

    /// Sets the EIP-7702 delegation allowlist; `None` lifts it, an empty list
    /// refuses every set-code transaction.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] above [`MAX_DELEGATIONS`]; the policy is unchanged then.
    pub fn set_delegations_allow(&mut self, allow: Option<&[Address]>) -> Result<(), PolicyError> {
        self.delegations_allow = match allow {
            None => None,
            Some(list) => Some(sorted_set(list, PolicyField::DelegationsAllow)?),
        };
        Ok(())
    }

    /// Whether legacy transactions without an EIP-155 chain id may be signed.
    #[must_use]
    pub fn allow_unprotected(&self) -> bool {
        self.allow_unprotected
    }

    /// Sets whether legacy transactions without an EIP-155 chain id may be
    /// signed (they are valid on every chain).
    pub fn set_allow_unprotected(&mut self, allow: bool) {
        self.allow_unprotected = allow;
    }

    /// Whether EIP-191 messages may be signed.
    #[must_use]
    pub fn allow_messages(&self) -> bool {
        self.allow_messages
    }

    /// Sets whether EIP-191 messages may be signed.
    pub fn set_allow_messages(&mut self, allow: bool) {
        self.allow_messages = allow;
    }

    /// The policy of a wallet created without one: [`Policy::default`] with
    /// `allow_raw_hashes`, so that such a wallet stays a plain wallet.
    #[must_use]
    pub fn plain_wallet() -> Self {
        Self {
            allow_raw_hashes: true,
            ..Self::default()
        }
    }

    /// Whether a caller's raw 32-byte digest may be signed (typed data
    /// given only as hashes). No rule can see what such a digest commits to.
    #[must_use]
    pub fn allow_raw_hashes(&self) -> bool {
        self.allow_raw_hashes
    }

    /// Sets whether a caller's raw 32-byte digest may be signed.
    pub fn set_allow_raw_hashes(&mut self, allow: bool) {
        self.allow_raw_hashes = allow;
    }

    /// Allowed EIP-712 domains, ascending; `None`: any domain.
    #[must_use]
    pub fn typed_data_domains(&self) -> Option<&[TypedDataDomain]> {
        self.typed_data_domains.as_deref()
    }

    /// Sets the allowed EIP-712 domains; `None` lifts the restriction.
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] above [`MAX_TYPED_DATA_DOMAINS`]; the policy
    /// is unchanged then.
    pub fn set_typed_data_domains(
        &mut self,
        domains: Option<&[TypedDataDomain]>,
    ) -> Result<(), PolicyError> {
        self.typed_data_domains = match domains {
            None => None,
            Some(list) => Some(sorted_set(list, PolicyField::TypedDataDomains)?),
        };
        Ok(())
    }

    /// Rolling 24-hour spend cap per chain; `None`: no limit.
    #[must_use]
    pub fn daily_limit_wei(&self) -> Option<U256> {
        self.daily_limit_wei
    }

    /// Sets the rolling 24-hour spend cap per chain (enforced by the std
    /// wallet, which keeps the spend history).
    pub fn set_daily_limit_wei(&mut self, limit: Option<U256>) {
        self.daily_limit_wei = limit;
    }

    /// What the policy does with a request no rule speaks to.
    #[must_use]
    pub fn default_mode(&self) -> DefaultMode {
        self.default_mode
    }

    /// Sets the default mode.
    pub fn set_default_mode(&mut self, mode: DefaultMode) {
        self.default_mode = mode;
    }

    /// The token rules, ascending by token address.
    #[must_use]
    pub fn tokens(&self) -> &[TokenRule] {
        &self.tokens
    }

    /// The rule of `token`, if it has one.
    #[must_use]
    pub fn token_rule(&self, token: &Address) -> Option<&TokenRule> {
        self.tokens
            .binary_search_by(|rule| rule.token.cmp(token))
            .ok()
            .and_then(|i| self.tokens.get(i))
    }

    /// Sets the rule of `rule.token()` (replacing any earlier one).
    ///
    /// # Errors
    /// [`PolicyError::TooMany`] (field `tokens`) above [`MAX_TOKENS`].
    pub fn set_token_rule(&mut self, rule: TokenRule) -> Result<(), PolicyError> {
        match self.tokens.binary_search_by(|r| r.token.cmp(&rule.token)) {
            Ok(i) => {
                if let Some(slot) = self.tokens.get_mut(i) {
                    *slot = rule;
                }
            }
            Err(i) => self
                .tokens
                .insert(i, rule)
                .map_err(|_| PolicyError::TooMany(PolicyField::Tokens))?,
        }
        Ok(())
    }

    /// Removes the rule of `token`; returns whether it had one.
    pub fn remove_token_rule(&mut self, token: &Address) -> bool {
        match self.tokens.binary_search_by(|r| r.token.cmp(token)) {
            Ok(i) => {
                self.tokens.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// How far ahead of now a permit's deadline or expiration may lie.
    #[must_use]
    pub fn permit_max_lifetime_seconds(&self) -> u64 {
        self.permit_max_lifetime_seconds
    }

    /// Sets `permit_max_lifetime_seconds`.
    pub fn set_permit_max_lifetime_seconds(&mut self, seconds: u64) {
        self.permit_max_lifetime_seconds = seconds;
    }

    /// Whether an EIP-7702 authorization with chain id 0 (valid on every
    /// chain) may be signed.
    #[must_use]
    pub fn allow_any_chain_authorization(&self) -> bool {
        self.allow_any_chain_authorization
    }

    /// Sets `allow_any_chain_authorization`.
    pub fn set_allow_any_chain_authorization(&mut self, allow: bool) {
        self.allow_any_chain_authorization = allow;
    }

    /// Whether the policy uses a rule that encoding version 2 cannot carry.
    pub(crate) fn needs_version_3(&self) -> bool {
        self.default_mode != DefaultMode::Allow
            || !self.tokens.is_empty()
            || self.permit_max_lifetime_seconds != DEFAULT_PERMIT_MAX_LIFETIME_SECONDS
            || self.allow_any_chain_authorization
    }

    /// Checks a decoded transaction against every stateless rule; see
    /// [`decide_transaction`](Self::decide_transaction).
    ///
    /// # Errors
    /// The first [`PolicyViolation`] found.
    pub fn check_transaction(&self, tx: &TypedTransaction<'_>) -> Result<(), PolicyViolation> {
        self.decide_transaction(tx).map(|_| ())
    }

    /// Checks a decoded transaction against every stateless rule, in this
    /// order: replay protection and chain id, contract creation, recipient
    /// deny list, token rules (for a call this policy decodes), recipient
    /// allow list and selectors (as restrictions in `allow` mode, as
    /// allowing rules in `deny` mode), delegations, value cap, fee cap.
    /// Returns the mode and the rules that decided.
    ///
    /// Without a clock this cannot check the expiration of a Permit2
    /// `approve` against `permit_max_lifetime_seconds`: a caller that knows
    /// the time uses [`decide_transaction_at`](Self::decide_transaction_at).
    ///
    /// # Errors
    /// The first [`PolicyViolation`] found.
    pub fn decide_transaction(
        &self,
        tx: &TypedTransaction<'_>,
    ) -> Result<Decision, PolicyViolation> {
        self.decide_transaction_inner(tx, None)
    }

    /// [`decide_transaction`](Self::decide_transaction) at time `now` (Unix
    /// seconds): also checks that a Permit2 `approve` checked against a
    /// token rule sets an allowance that expires within
    /// `permit_max_lifetime_seconds` of `now` (its `expiration` 0 means the
    /// block's own timestamp, so it passes; a revocation, amount 0, too).
    ///
    /// # Errors
    /// The first [`PolicyViolation`] found.
    pub fn decide_transaction_at(
        &self,
        tx: &TypedTransaction<'_>,
        now: u64,
    ) -> Result<Decision, PolicyViolation> {
        self.decide_transaction_inner(tx, Some(now))
    }

    fn decide_transaction_inner(
        &self,
        tx: &TypedTransaction<'_>,
        now: Option<u64>,
    ) -> Result<Decision, PolicyViolation> {
        let mut decision = Decision::new(self.default_mode);
        match tx.chain_id() {
            None if !self.allow_unprotected => return Err(PolicyViolation::UnprotectedNotAllowed),
            None => decision.note(PolicyField::AllowUnprotected),
            Some(chain_id) => self.check_chain_id(chain_id, &mut decision)?,
        }
        match tx.to() {
            TxKind::Create => {
                if !self.allow_contract_creation {
                    return Err(PolicyViolation::ContractCreationNotAllowed);
                }
                decision.note(PolicyField::AllowContractCreation);
            }
            TxKind::Call(recipient) => {
                self.decide_call(&recipient, tx.input(), now, &mut decision)?;
            }
        }
        if let Some(authorizations) = tx.authorization_list() {
            for signed in authorizations.iter() {
                self.check_delegate(&signed.authorization.address)?;
            }
            if self.delegations_allow.is_some() {
                decision.note(PolicyField::DelegationsAllow);
            }
        }
        if let Some(cap) = self.max_value_wei {
            let value = tx.value();
            if value > cap {
                return Err(PolicyViolation::ValueAboveCap { value, cap });
            }
            decision.note(PolicyField::MaxValueWei);
        }
        if let Some(cap) = self.max_fee_wei {
            match max_fee_wei(tx) {
                Some(fee) if fee <= cap => decision.note(PolicyField::MaxFeeWei),
                max_fee => return Err(PolicyViolation::MaxFeeAboveCap { max_fee, cap }),
            }
        }
        Ok(decision)
    }

    /// `chain_ids`, for a transaction's and an authorization's chain id.
    fn check_chain_id(
        &self,
        chain_id: u64,
        decision: &mut Decision,
    ) -> Result<(), PolicyViolation> {
        if let Some(allowed) = &self.chain_ids {
            if !contains(allowed, &chain_id) {
                return Err(PolicyViolation::ChainIdNotAllowed { chain_id });
            }
            decision.note(PolicyField::ChainIds);
        }
        Ok(())
    }

    fn check_delegate(&self, delegate: &Address) -> Result<(), PolicyViolation> {
        let listed = match &self.delegations_allow {
            Some(allowed) => contains(allowed, delegate),
            None => self.default_mode == DefaultMode::Allow,
        };
        if listed {
            Ok(())
        } else {
            Err(PolicyViolation::DelegationNotAllowed {
                delegate: *delegate,
            })
        }
    }

    /// Whether calls with a token selector sent to `to` are decoded: calls
    /// to a token with a rule, and Permit2 calls (whose token is an
    /// argument) once the policy has token rules or denies by default. A
    /// policy without either reads no calldata, as before token rules.
    fn decodes(&self, to: &Address, input: &[u8]) -> bool {
        let selector = input.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
        match selector {
            Some(selector) if token::is_token_selector(&selector) => {
                self.token_rule(to).is_some()
                    || (token::is_permit2_selector(&selector)
                        && (!self.tokens.is_empty() || self.default_mode == DefaultMode::Deny))
            }
            _ => false,
        }
    }

    /// The token call in `input` sent to `to`, if this policy decodes it.
    ///
    /// # Errors
    /// [`PolicyViolation::MalformedTokenCall`] for calldata that does not
    /// decode strictly.
    pub fn token_call(
        &self,
        to: &Address,
        input: &[u8],
    ) -> Result<Option<TokenCall>, PolicyViolation> {
        if !self.decodes(to, input) {
            return Ok(None);
        }
        decode_token_call(to, input).map_err(|error| PolicyViolation::MalformedTokenCall {
            contract: *to,
            selector: input
                .get(..4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .unwrap_or_default(),
            error,
        })
    }

    /// Checks one token action against `rule` (and the recipient deny list,
    /// which always wins). An approval of 0 (a revocation) is always allowed.
    ///
    /// # Errors
    /// The [`PolicyViolation`] of the first rule that refuses.
    pub fn check_token_action(
        &self,
        rule: &TokenRule,
        action: &TokenAction,
    ) -> Result<(), PolicyViolation> {
        let token = rule.token;
        match *action {
            TokenAction::Transfer { recipient, amount } => {
                if contains(&self.recipients_deny, &recipient) {
                    return Err(PolicyViolation::RecipientDenied { recipient });
                }
                if let Some(allowed) = &rule.recipients_allow {
                    if !contains(allowed, &recipient) {
                        return Err(PolicyViolation::TokenRecipientNotAllowed { token, recipient });
                    }
                }
                if let Some(cap) = rule.max_amount {
                    if amount > cap {
                        return Err(PolicyViolation::TokenAmountAboveCap { token, amount, cap });
                    }
                }
            }
            TokenAction::Approve { spender, amount } => {
                if amount == Some(U256::ZERO) {
                    return Ok(());
                }
                if contains(&self.recipients_deny, &spender) {
                    return Err(PolicyViolation::RecipientDenied { recipient: spender });
                }
                if let Some(allowed) = &rule.spenders_allow {
                    if !contains(allowed, &spender) {
                        return Err(PolicyViolation::TokenSpenderNotAllowed { token, spender });
                    }
                }
                let above = match (amount, rule.max_amount) {
                    (None, _) => true,
                    (Some(amount), Some(cap)) => amount > cap,
                    (Some(_), None) => false,
                };
                if above && !rule.allow_unlimited_approval {
                    return Err(PolicyViolation::TokenApprovalAboveCap {
                        token,
                        amount,
                        cap: rule.max_amount,
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks that an allowance granted until `valid_until` (`None`: never
    /// expires) ends within `permit_max_lifetime_seconds` of `now`.
    fn check_lifetime(
        &self,
        token: &Address,
        valid_until: Option<U256>,
        now: u64,
    ) -> Result<(), PolicyViolation> {
        let latest = U256::from_u64(now)
            .checked_add(U256::from_u64(self.permit_max_lifetime_seconds))
            .unwrap_or(U256::MAX);
        if valid_until.is_none_or(|until| until > latest) {
            return Err(PolicyViolation::PermitLifetimeTooLong {
                token: *token,
                valid_until,
                now,
                limit: self.permit_max_lifetime_seconds,
            });
        }
        Ok(())
    }

    fn decide_call(
        &self,
        recipient: &Address,
        input: &[u8],
        now: Option<u64>,
        decision: &mut Decision,
    ) -> Result<(), PolicyViolation> {
        if contains(&self.recipients_deny, recipient) {
            return Err(PolicyViolation::RecipientDenied {
                recipient: *recipient,
            });
        }
        let mut allowed_by_token = false;
        if let Some(call) = self.token_call(recipient, input)? {
            if let Some(rule) = self.token_rule(&call.token) {
                self.check_token_action(rule, &call.action)?;
                decision.note(PolicyField::Tokens);
                let revocation = matches!(
                    call.action,
                    TokenAction::Approve {
                        amount: Some(U256::ZERO),
                        ..
                    }
                );
                if let (Some(expiration), Some(now), false) = (call.expiration, now, revocation) {
                    // Permit2: expiration 0 is the block's timestamp.
                    let until = if expiration.is_zero() {
                        U256::from_u64(now)
                    } else {
                        expiration
                    };
                    self.check_lifetime(&call.token, Some(until), now)?;
                    decision.note(PolicyField::PermitMaxLifetimeSeconds);
                }
                allowed_by_token = true;
            }
        }
        let selector = input.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
        let selector_check = self
            .selectors_for(recipient)
            .map(|selectors| match selector {
                None => Err(PolicyViolation::MissingSelector {
                    contract: *recipient,
                    calldata_len: u8::try_from(input.len()).unwrap_or(u8::MAX),
                }),
                Some(selector) if !contains(selectors, &selector) => {
                    Err(PolicyViolation::SelectorNotAllowed {
                        contract: *recipient,
                        selector,
                    })
                }
                Some(_) => Ok(()),
            });
        match self.default_mode {
            DefaultMode::Allow => {
                if let Some(allowed) = &self.recipients_allow {
                    if !contains(allowed, recipient) {
                        return Err(PolicyViolation::RecipientNotAllowed {
                            recipient: *recipient,
                        });
                    }
                    decision.note(PolicyField::RecipientsAllow);
                }
                if let Some(check) = selector_check {
                    check?;
                    decision.note(PolicyField::Selectors);
                }
            }
            DefaultMode::Deny => {
                if allowed_by_token {
                    return Ok(());
                }
                if let Some(check) = selector_check {
                    check?;
                    decision.note(PolicyField::Selectors);
                    return Ok(());
                }
                if input.is_empty() {
                    let listed = self
                        .recipients_allow
                        .as_ref()
                        .is_some_and(|allowed| contains(allowed, recipient));
                    if !listed {
                        return Err(PolicyViolation::RecipientNotAllowed {
                            recipient: *recipient,
                        });
                    }
                    decision.note(PolicyField::RecipientsAllow);
                    return Ok(());
                }
                return Err(PolicyViolation::DeniedByDefault {
                    contract: *recipient,
                    selector,
                });
            }
        }
        Ok(())
    }

    /// The token transfer `tx` makes that counts against a token's
    /// `daily_limit`: its token and amount, when the policy decodes the
    /// call and the token's rule sets a daily limit.
    #[must_use]
    pub fn token_spend(&self, tx: &TypedTransaction<'_>) -> Option<(Address, U256)> {
        let TxKind::Call(to) = tx.to() else {
            return None;
        };
        let call = self.token_call(&to, tx.input()).ok()??;
        let rule = self.token_rule(&call.token)?;
        rule.daily_limit?;
        match call.action {
            TokenAction::Transfer { amount, .. } => Some((call.token, amount)),
            TokenAction::Approve { .. } => None,
        }
    }

    /// Checks one more transfer of `spend` of `token` against its
    /// `daily_limit`, given what was already `spent` on the transaction's
    /// chain in the last 24 hours (the std wallet keeps that history).
    ///
    /// # Errors
    /// [`PolicyViolation::TokenDailyLimitExceeded`].
    pub fn check_token_daily_limit(
        &self,
        token: &Address,
        spent: U256,
        spend: U256,
    ) -> Result<(), PolicyViolation> {
        let Some(limit) = self.token_rule(token).and_then(TokenRule::daily_limit) else {
            return Ok(());
        };
        match spend.checked_add(spent) {
            Some(total) if total <= limit => Ok(()),
            _ => Err(PolicyViolation::TokenDailyLimitExceeded {
                token: *token,
                spent,
                spend,
                limit,
            }),
        }
    }

    /// Checks an EIP-191 `personal_sign` request.
    ///
    /// # Errors
    /// [`PolicyViolation::MessagesNotAllowed`].
    pub fn check_message(&self) -> Result<(), PolicyViolation> {
        if self.allow_messages {
            Ok(())
        } else {
            Err(PolicyViolation::MessagesNotAllowed)
        }
    }

    /// Checks an EIP-712 domain against `typed_data_domains`: the domain must
    /// carry a chain id and a verifying contract, and the pair must be listed.
    /// For typed data of a kind the policy reads, use
    /// [`decide_typed_data`](Self::decide_typed_data).
    ///
    /// # Errors
    /// [`PolicyViolation::TypedDataDomainNotAllowed`].
    pub fn check_typed_data(&self, domain: &Eip712Domain<'_>) -> Result<(), PolicyViolation> {
        self.decide_typed_data(domain, None, 0).map(|_| ())
    }

    fn domain_listed(&self, domain: &Eip712Domain<'_>) -> Option<bool> {
        let allowed = self.typed_data_domains.as_ref()?;
        Some(
            match (
                domain.chain_id.and_then(|id| id.to_u64()),
                domain.verifying_contract,
            ) {
                (Some(chain_id), Some(verifying_contract)) => contains(
                    allowed,
                    &TypedDataDomain {
                        chain_id,
                        verifying_contract,
                    },
                ),
                _ => false,
            },
        )
    }

    /// Checks typed data: its domain and, for a permit the policy reads
    /// (`permit`), each token it grants. `now` is the time (Unix seconds)
    /// permit lifetimes are measured from.
    ///
    /// - `allow` mode: the domain must be on `typed_data_domains` if that is
    ///   set; a permit's grants of tokens with a rule are checked against it.
    /// - `deny` mode: a permit is signed when every token it grants has a
    ///   rule and passes it; other typed data when its domain is on
    ///   `typed_data_domains`.
    ///
    /// A grant checked against a token rule must also end within
    /// `permit_max_lifetime_seconds` of `now`.
    ///
    /// # Errors
    /// The first [`PolicyViolation`] found.
    pub fn decide_typed_data(
        &self,
        domain: &Eip712Domain<'_>,
        permit: Option<&Permit<'_>>,
        now: u64,
    ) -> Result<Decision, PolicyViolation> {
        let mut decision = Decision::new(self.default_mode);
        let domain_refused = || PolicyViolation::TypedDataDomainNotAllowed {
            chain_id: domain.chain_id,
            verifying_contract: domain.verifying_contract,
        };
        let listed = self.domain_listed(domain);
        if self.default_mode == DefaultMode::Allow {
            match listed {
                Some(false) => return Err(domain_refused()),
                Some(true) => decision.note(PolicyField::TypedDataDomains),
                None => {}
            }
        }
        let mut covered = false;
        if let Some(permit) = permit {
            covered = !permit.grants.is_empty();
            for grant in permit.grants {
                let Some(rule) = self.token_rule(&grant.token) else {
                    covered = false;
                    if self.default_mode == DefaultMode::Deny && listed != Some(true) {
                        return Err(PolicyViolation::TokenNotListed { token: grant.token });
                    }
                    continue;
                };
                self.check_token_action(
                    rule,
                    &TokenAction::Approve {
                        spender: permit.spender,
                        amount: grant.amount,
                    },
                )?;
                self.check_lifetime(&grant.token, grant.valid_until, now)?;
                decision.note(PolicyField::Tokens);
                decision.note(PolicyField::PermitMaxLifetimeSeconds);
            }
        }
        if self.default_mode == DefaultMode::Deny && !covered {
            if listed != Some(true) {
                return Err(domain_refused());
            }
            decision.note(PolicyField::TypedDataDomains);
        }
        Ok(decision)
    }

    /// Checks an EIP-7702 authorization the wallet would sign: chain id 0
    /// (every chain) only with `allow_any_chain_authorization`, another
    /// chain id must be on `chain_ids` if that is set, and the delegate on
    /// `delegations_allow` (in `deny` mode that list must be set).
    ///
    /// # Errors
    /// The first [`PolicyViolation`] found.
    pub fn decide_authorization(
        &self,
        chain_id: &U256,
        delegate: &Address,
    ) -> Result<Decision, PolicyViolation> {
        let mut decision = Decision::new(self.default_mode);
        if chain_id.is_zero() {
            if !self.allow_any_chain_authorization {
                return Err(PolicyViolation::AnyChainAuthorizationNotAllowed);
            }
            decision.note(PolicyField::AllowAnyChainAuthorization);
        } else {
            self.check_chain_id(chain_id.to_u64().unwrap_or(u64::MAX), &mut decision)?;
        }
        self.check_delegate(delegate)?;
        if self.delegations_allow.is_some() {
            decision.note(PolicyField::DelegationsAllow);
        }
        Ok(decision)
    }

    /// Checks a typed-data request given only as a hash (domain separator
    /// and struct hash): allowed only when `typed_data_domains` is not set,
    /// since a domain cannot be checked from its hash.
    ///
    /// # Errors
    /// [`PolicyViolation::TypedDataHashNotCheckable`].
    pub fn check_typed_data_hash(&self) -> Result<(), PolicyViolation> {
        if !self.allow_raw_hashes {
            Err(PolicyViolation::RawHashNotAllowed)
        } else if self.typed_data_domains.is_some() {
            Err(PolicyViolation::TypedDataHashNotCheckable)
        } else {
            Ok(())
        }
    }

    /// Checks one more spend of `spend` wei (`None`: above `2^256 - 1`)
    /// against `daily_limit_wei`, given what was already `spent` on the same
    /// chain in the last 24 hours. `chain_id` is `None` for a transaction
    /// without replay protection. The std wallet keeps the history.
    ///
    /// # Errors
    /// [`PolicyViolation::DailyLimitExceeded`].
    pub fn check_daily_limit(
        &self,
        chain_id: Option<u64>,
        spent: U256,
        spend: Option<U256>,
    ) -> Result<(), PolicyViolation> {
        let Some(limit) = self.daily_limit_wei else {
            return Ok(());
        };
        match spend.and_then(|s| s.checked_add(spent)) {
            Some(total) if total <= limit => Ok(()),
            _ => Err(PolicyViolation::DailyLimitExceeded {
                chain_id,
                spent,
                spend,
                limit,
            }),
        }
    }

    /// SHA-256 of the canonical encoding: the policy hash that attestation
    /// evidence carries.
    #[must_use]
    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        self.write_canonical(&mut hasher);
        hasher.finalize().into()
    }

    /// The tag that binds this policy to a wallet key and its address:
    /// `HMAC-SHA256(K, address || encoding)` with
    /// `K = HMAC-SHA256(secret key, BINDING_KEY_LABEL)`. Only the holder of
    /// the key can make a tag that [`binding_matches`](Self::binding_matches).
    #[must_use]
    pub fn binding_tag(&self, key: &SecretKey, address: &Address) -> [u8; 32] {
        policy_binding_tag(key, address, |mac| self.write_canonical(mac))
    }

    /// Whether `tag` is this policy's [`binding_tag`](Self::binding_tag) for
    /// `key` and `address` (compared in constant time).
    #[must_use]
    pub fn binding_matches(&self, key: &SecretKey, address: &Address, tag: &[u8; 32]) -> bool {
        bool::from(self.binding_tag(key, address).ct_eq(tag))
    }
}

/// Decodes an unsigned signing payload, checks it against `policy`, signs it
/// with `key` and writes the signed transaction to `out`, returning its
/// length. Nothing is signed when a rule refuses (`daily_limit_wei` is not
/// checked here: it needs the spend history the std wallet keeps).
///
/// # Errors
/// Decoding errors, [`PolicyError::Violation`], signing errors and
/// [`crate::tx::TxError::BufferTooSmall`].
pub fn sign_checked(
    policy: &Policy,
    unsigned_payload: &[u8],
    key: &SecretKey,
    out: &mut [u8],
) -> crate::Result<usize> {
    let tx = crate::tx::decode_unsigned(unsigned_payload)?;
    policy
        .check_transaction(&tx)
        .map_err(PolicyError::Violation)?;
    let signature = tx.sign(key)?;
    Ok(tx.encode_signed(&signature, out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_key_is_hmac_sha256_of_the_label_under_the_wallet_key() {
        for seed in [1u8, 0x42, 0x7f] {
            let key = SecretKey::from_bytes(&[seed; 32]).expect("valid scalar");
            for label in [
                BINDING_KEY_LABEL,
                b"flare-wallet/account-binding/v2".as_slice(),
                b"",
                &[0xa5; 100],
            ] {
                let mut reference = crate::tpm::kdf::hmac_sha256(&key.to_bytes()[..]);
                reference.update(label);
                let expected: [u8; 32] = reference.finalize().into_bytes().into();
                assert_eq!(*derive_binding_key(&key, label), expected);
            }
        }
    }
}
