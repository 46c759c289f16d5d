//! The canonical encoding of a [`Policy`] (layout in the module docs of
//! [`crate::policy`]). One writer serves the buffer, SHA-256 and the HMAC, so
//! hashing a policy needs no buffer; the decoder is strict and never panics.

use heapless::Vec;
use hmac::Hmac;
use sha2::{Digest, Sha256};

use super::{
    DefaultMode, Policy, PolicyError, PolicyField, SelectorRule, TokenRule, TypedDataDomain,
    DEFAULT_PERMIT_MAX_LIFETIME_SECONDS, MAX_CHAIN_IDS, MAX_DELEGATIONS, MAX_RECIPIENTS,
    MAX_SELECTORS_PER_CONTRACT, MAX_SELECTOR_CONTRACTS, MAX_TOKENS, MAX_TOKEN_ADDRESSES,
    MAX_TYPED_DATA_DOMAINS,
};
use crate::signer::Address;
use crate::tx::{MAX_CHAIN_ID, U256};

/// Policy encoding magic.
pub const MAGIC: [u8; 8] = *b"FLWPLCY\0";
/// The newest encoding version. Version 2 added `allow_raw_hashes` at the
/// end; version 3 adds `default`, `tokens`, `permit_max_lifetime_seconds`
/// and `allow_any_chain_authorization` after it. A policy that uses none of
/// them (default `allow`, no tokens, a one-hour permit lifetime, no
/// any-chain authorizations) is still written as version 2, byte for byte,
/// so its hash and binding do not change.
pub const VERSION: u16 = 3;
/// Encoding version 2, still written for policies without version 3 rules.
pub const VERSION_2: u16 = 2;
/// The first encoding version, still read: it has no `allow_raw_hashes`
/// byte, and decodes with the rule it had then (a raw hash may be signed
/// unless `typed_data_domains` is set).
pub const VERSION_1: u16 = 1;

const HEADER_LEN: usize = MAGIC.len() + 2;
const COUNT_LEN: usize = 2;
const ADDRESS_LEN: usize = 20;
const AMOUNT_LEN: usize = 32;
const DOMAIN_LEN: usize = 8 + ADDRESS_LEN;
const SELECTOR_RULE_MAX_LEN: usize = ADDRESS_LEN + COUNT_LEN + 4 * MAX_SELECTORS_PER_CONTRACT;
const TOKEN_RULE_MAX_LEN: usize = ADDRESS_LEN
    + 2 * (1 + AMOUNT_LEN)
    + 2 * (1 + COUNT_LEN + ADDRESS_LEN * MAX_TOKEN_ADDRESSES)
    + 1;

/// The longest encoding: every optional field present, every list full.
pub const MAX_ENCODED_LEN: usize = HEADER_LEN
    + (1 + COUNT_LEN + 8 * MAX_CHAIN_IDS)
    + 2 * (1 + AMOUNT_LEN)
    + (1 + COUNT_LEN + ADDRESS_LEN * MAX_RECIPIENTS)
    + (COUNT_LEN + ADDRESS_LEN * MAX_RECIPIENTS)
    + 1
    + (COUNT_LEN + SELECTOR_RULE_MAX_LEN * MAX_SELECTOR_CONTRACTS)
    + (1 + COUNT_LEN + ADDRESS_LEN * MAX_DELEGATIONS)
    + 2
    + (1 + COUNT_LEN + DOMAIN_LEN * MAX_TYPED_DATA_DOMAINS)
    + (1 + AMOUNT_LEN)
    + 1
    + 1
    + (COUNT_LEN + TOKEN_RULE_MAX_LEN * MAX_TOKENS)
    + 8
    + 1;

/// Where the encoder writes: a buffer, a hash or a MAC.
pub(super) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        Digest::update(self, bytes);
    }
}

impl Sink for Hmac<Sha256> {
    fn put(&mut self, bytes: &[u8]) {
        hmac::Mac::update(self, bytes);
    }
}

/// A buffer of the exact encoded length (checked before writing).
struct SliceWriter<'o> {
    out: &'o mut [u8],
    pos: usize,
    overflow: bool,
}

impl Sink for SliceWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        match self.out.get_mut(self.pos..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.pos = end;
            }
            None => self.overflow = true,
        }
    }
}

fn count(sink: &mut dyn Sink, len: usize) {
    // Every list is bounded far below u16::MAX by its capacity.
    sink.put(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
}

fn flag(sink: &mut dyn Sink, on: bool) {
    sink.put(&[u8::from(on)]);
}

fn amount(sink: &mut dyn Sink, value: Option<U256>) {
    flag(sink, value.is_some());
    if let Some(value) = value {
        sink.put(&value.0);
    }
}

fn addresses(sink: &mut dyn Sink, list: &[Address]) {
    count(sink, list.len());
    for address in list {
        sink.put(&address.0);
    }
}

fn optional_addresses(sink: &mut dyn Sink, list: Option<&[Address]>) {
    flag(sink, list.is_some());
    if let Some(list) = list {
        addresses(sink, list);
    }
}

impl Policy {
    pub(super) fn write_canonical(&self, sink: &mut dyn Sink) {
        let v3 = self.needs_version_3();
        sink.put(&MAGIC);
        sink.put(&if v3 { VERSION } else { VERSION_2 }.to_be_bytes());
        flag(sink, self.chain_ids.is_some());
        if let Some(ids) = &self.chain_ids {
            count(sink, ids.len());
            for id in ids {
                sink.put(&id.to_be_bytes());
            }
        }
        amount(sink, self.max_value_wei);
        amount(sink, self.max_fee_wei);
        optional_addresses(sink, self.recipients_allow.as_deref());
        addresses(sink, &self.recipients_deny);
        flag(sink, self.allow_contract_creation);
        count(sink, self.selectors.len());
        for rule in &self.selectors {
            sink.put(&rule.contract.0);
            count(sink, rule.selectors.len());
            for selector in &rule.selectors {
                sink.put(selector);
            }
        }
        optional_addresses(sink, self.delegations_allow.as_deref());
        flag(sink, self.allow_unprotected);
        flag(sink, self.allow_messages);
        flag(sink, self.typed_data_domains.is_some());
        if let Some(domains) = &self.typed_data_domains {
            count(sink, domains.len());
            for domain in domains {
                sink.put(&domain.chain_id.to_be_bytes());
                sink.put(&domain.verifying_contract.0);
            }
        }
        amount(sink, self.daily_limit_wei);
        flag(sink, self.allow_raw_hashes);
        if v3 {
            flag(sink, self.default_mode == DefaultMode::Deny);
            count(sink, self.tokens.len());
            for rule in &self.tokens {
                sink.put(&rule.token.0);
                amount(sink, rule.max_amount);
                amount(sink, rule.daily_limit);
                optional_addresses(sink, rule.recipients_allow.as_deref());
                optional_addresses(sink, rule.spenders_allow.as_deref());
                flag(sink, rule.allow_unlimited_approval);
            }
            sink.put(&self.permit_max_lifetime_seconds.to_be_bytes());
            flag(sink, self.allow_any_chain_authorization);
        }
    }

    /// The number of bytes [`encode`](Self::encode) writes (at most
    /// [`MAX_ENCODED_LEN`]).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let optional = |present: bool, len: usize| 1 + if present { len } else { 0 };
        HEADER_LEN
            + optional(
                self.chain_ids.is_some(),
                COUNT_LEN + 8 * self.chain_ids.as_ref().map_or(0, |v| v.len()),
            )
            + optional(self.max_value_wei.is_some(), AMOUNT_LEN)
            + optional(self.max_fee_wei.is_some(), AMOUNT_LEN)
            + optional(
                self.recipients_allow.is_some(),
                COUNT_LEN + ADDRESS_LEN * self.recipients_allow.as_ref().map_or(0, |v| v.len()),
            )
            + COUNT_LEN
            + ADDRESS_LEN * self.recipients_deny.len()
            + 1
            + COUNT_LEN
            + self
                .selectors
                .iter()
                .map(|rule| ADDRESS_LEN + COUNT_LEN + 4 * rule.selectors.len())
                .sum::<usize>()
            + optional(
                self.delegations_allow.is_some(),
                COUNT_LEN + ADDRESS_LEN * self.delegations_allow.as_ref().map_or(0, |v| v.len()),
            )
            + 2
            + optional(
                self.typed_data_domains.is_some(),
                COUNT_LEN + DOMAIN_LEN * self.typed_data_domains.as_ref().map_or(0, |v| v.len()),
            )
            + optional(self.daily_limit_wei.is_some(), AMOUNT_LEN)
            + 1
            + if self.needs_version_3() {
                let optional_list = |list: Option<&[Address]>| {
                    optional(
                        list.is_some(),
                        COUNT_LEN + ADDRESS_LEN * list.map_or(0, <[Address]>::len),
                    )
                };
                1 + COUNT_LEN
                    + self
                        .tokens
                        .iter()
                        .map(|rule| {
                            ADDRESS_LEN
                                + optional(rule.max_amount.is_some(), AMOUNT_LEN)
                                + optional(rule.daily_limit.is_some(), AMOUNT_LEN)
                                + optional_list(rule.recipients_allow.as_deref())
                                + optional_list(rule.spenders_allow.as_deref())
                                + 1
                        })
                        .sum::<usize>()
                    + 8
                    + 1
            } else {
                0
            }
    }

    /// Writes the canonical encoding to the start of `out` and returns its
    /// length.
    ///
    /// # Errors
    /// [`PolicyError::BufferTooSmall`] when `out` is shorter than
    /// [`encoded_len`](Self::encoded_len); nothing is written then.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, PolicyError> {
        let len = self.encoded_len();
        let out = out.get_mut(..len).ok_or(PolicyError::BufferTooSmall)?;
        let mut writer = SliceWriter {
            out,
            pos: 0,
            overflow: false,
        };
        self.write_canonical(&mut writer);
        if writer.overflow || writer.pos != len {
            return Err(PolicyError::BufferTooSmall);
        }
        Ok(len)
    }

    /// The canonical encoding in a stack buffer of [`MAX_ENCODED_LEN`] bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8, MAX_ENCODED_LEN> {
        let mut out = Vec::new();
        // A policy's encoding always fits MAX_ENCODED_LEN; resize cannot fail.
        let _ = out.resize(self.encoded_len(), 0);
        let written = self.encode(&mut out).unwrap_or(0);
        out.truncate(written);
        out
    }

    /// Decodes a canonical encoding. Accepts exactly what
    /// [`encode`](Self::encode) writes.
    ///
    /// # Errors
    /// A [`PolicyError`] for the first malformation, in field order: magic,
    /// version, then each field (truncation, a flag byte other than 0/1, a
    /// count above capacity, entries out of order or repeated, a chain id out
    /// of range), then trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, PolicyError> {
        let mut r = Reader { bytes, pos: 0 };
        let magic = r.take(MAGIC.len(), PolicyField::Header)?;
        if magic != MAGIC {
            return Err(PolicyError::BadMagic);
        }
        let version = r.u16(PolicyField::Header)?;
        if version != VERSION && version != VERSION_2 && version != VERSION_1 {
            return Err(PolicyError::UnsupportedVersion(version));
        }
        // Fields in wire order: each `let` reads the next one.
        let chain_ids = if r.flag(PolicyField::ChainIds)? {
            Some(r.list::<u64, MAX_CHAIN_IDS>(PolicyField::ChainIds, |r| {
                let id = r.u64(PolicyField::ChainIds)?;
                if id == 0 || id > MAX_CHAIN_ID {
                    return Err(PolicyError::ChainIdOutOfRange(id));
                }
                Ok(id)
            })?)
        } else {
            None
        };
        let max_value_wei = r.amount(PolicyField::MaxValueWei)?;
        let max_fee_wei = r.amount(PolicyField::MaxFeeWei)?;
        let recipients_allow = if r.flag(PolicyField::RecipientsAllow)? {
            Some(r.addresses(PolicyField::RecipientsAllow)?)
        } else {
            None
        };
        let recipients_deny = r.addresses(PolicyField::RecipientsDeny)?;
        let allow_contract_creation = r.flag(PolicyField::AllowContractCreation)?;
        let selectors =
            r.list::<SelectorRule, MAX_SELECTOR_CONTRACTS>(PolicyField::Selectors, |r| {
                let contract = r.address(PolicyField::Selectors)?;
                let selectors =
                    r.list(PolicyField::Selectors, |r| r.array(PolicyField::Selectors))?;
                Ok(SelectorRule {
                    contract,
                    selectors,
                })
            })?;
        let delegations_allow = if r.flag(PolicyField::DelegationsAllow)? {
            Some(r.addresses(PolicyField::DelegationsAllow)?)
        } else {
            None
        };
        let allow_unprotected = r.flag(PolicyField::AllowUnprotected)?;
        let allow_messages = r.flag(PolicyField::AllowMessages)?;
        let typed_data_domains = if r.flag(PolicyField::TypedDataDomains)? {
            Some(r.list::<TypedDataDomain, MAX_TYPED_DATA_DOMAINS>(
                PolicyField::TypedDataDomains,
                |r| {
                    Ok(TypedDataDomain {
                        chain_id: r.u64(PolicyField::TypedDataDomains)?,
                        verifying_contract: r.address(PolicyField::TypedDataDomains)?,
                    })
                },
            )?)
        } else {
            None
        };
        let daily_limit_wei = r.amount(PolicyField::DailyLimitWei)?;
        let allow_raw_hashes = if version == VERSION_1 {
            typed_data_domains.is_none()
        } else {
            r.flag(PolicyField::AllowRawHashes)?
        };
        let mut default_mode = DefaultMode::Allow;
        let mut tokens = Vec::new();
        let mut permit_max_lifetime_seconds = DEFAULT_PERMIT_MAX_LIFETIME_SECONDS;
        let mut allow_any_chain_authorization = false;
        if version == VERSION {
            if r.flag(PolicyField::Default)? {
                default_mode = DefaultMode::Deny;
            }
            tokens = r.list::<TokenRule, MAX_TOKENS>(PolicyField::Tokens, |r| {
                let token = r.address(PolicyField::Tokens)?;
                let max_amount = r.amount(PolicyField::TokenMaxAmount)?;
                let daily_limit = r.amount(PolicyField::TokenDailyLimit)?;
                let recipients_allow = if r.flag(PolicyField::TokenRecipientsAllow)? {
                    Some(r.addresses(PolicyField::TokenRecipientsAllow)?)
                } else {
                    None
                };
                let spenders_allow = if r.flag(PolicyField::TokenSpendersAllow)? {
                    Some(r.addresses(PolicyField::TokenSpendersAllow)?)
                } else {
                    None
                };
                let allow_unlimited_approval = r.flag(PolicyField::TokenAllowUnlimitedApproval)?;
                Ok(TokenRule {
                    token,
                    max_amount,
                    daily_limit,
                    recipients_allow,
                    spenders_allow,
                    allow_unlimited_approval,
                })
            })?;
            permit_max_lifetime_seconds = r.u64(PolicyField::PermitMaxLifetimeSeconds)?;
            allow_any_chain_authorization = r.flag(PolicyField::AllowAnyChainAuthorization)?;
        }
        if r.pos != bytes.len() {
            return Err(PolicyError::TrailingBytes);
        }
        let policy = Policy {
            chain_ids,
            max_value_wei,
            max_fee_wei,
            recipients_allow,
            recipients_deny,
            allow_contract_creation,
            selectors,
            delegations_allow,
            allow_unprotected,
            allow_messages,
            typed_data_domains,
            daily_limit_wei,
            allow_raw_hashes,
            default_mode,
            tokens,
            permit_max_lifetime_seconds,
            allow_any_chain_authorization,
        };
        // A version 3 encoding of a policy version 2 can carry is not
        // canonical: that policy encodes as version 2.
        if version == VERSION && !policy.needs_version_3() {
            return Err(PolicyError::UnsupportedVersion(version));
        }
        Ok(policy)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, field: PolicyField) -> Result<&'a [u8], PolicyError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(PolicyError::Truncated(field))?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(PolicyError::Truncated(field))?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: PolicyField) -> Result<[u8; N], PolicyError> {
        self.take(N, field)?
            .try_into()
            .map_err(|_| PolicyError::Truncated(field))
    }

    fn u16(&mut self, field: PolicyField) -> Result<u16, PolicyError> {
        self.array(field).map(u16::from_be_bytes)
    }

    fn u64(&mut self, field: PolicyField) -> Result<u64, PolicyError> {
        self.array(field).map(u64::from_be_bytes)
    }

    fn address(&mut self, field: PolicyField) -> Result<Address, PolicyError> {
        self.array(field).map(Address)
    }

    fn flag(&mut self, field: PolicyField) -> Result<bool, PolicyError> {
        match self.array::<1>(field)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(PolicyError::InvalidFlag(field)),
        }
    }

    fn amount(&mut self, field: PolicyField) -> Result<Option<U256>, PolicyError> {
        if self.flag(field)? {
            self.array(field).map(|bytes| Some(U256(bytes)))
        } else {
            Ok(None)
        }
    }

    /// A counted list of at most `N` entries, checked strictly ascending
    /// when its entries are ordered.
    fn list<T, const N: usize>(
        &mut self,
        field: PolicyField,
        mut entry: impl FnMut(&mut Self) -> Result<T, PolicyError>,
    ) -> Result<Vec<T, N>, PolicyError>
    where
        T: ListEntry,
    {
        let n = usize::from(self.u16(field)?);
        if n > N {
            return Err(PolicyError::TooMany(field));
        }
        let mut out: Vec<T, N> = Vec::new();
        for _ in 0..n {
            let item = entry(self)?;
            if let Some(last) = out.last() {
                match last.order_key().cmp(&item.order_key()) {
                    core::cmp::Ordering::Less => {}
                    core::cmp::Ordering::Equal => return Err(PolicyError::Duplicate(field)),
                    core::cmp::Ordering::Greater => return Err(PolicyError::Unsorted(field)),
                }
            }
            out.push(item).map_err(|_| PolicyError::TooMany(field))?;
        }
        Ok(out)
    }

    fn addresses<const N: usize>(
        &mut self,
        field: PolicyField,
    ) -> Result<Vec<Address, N>, PolicyError> {
        self.list(field, |r| r.address(field))
    }
}

/// How entries of a list are ordered in the encoding.
trait ListEntry {
    type Key: Ord;
    fn order_key(&self) -> Self::Key;
}

impl ListEntry for u64 {
    type Key = u64;
    fn order_key(&self) -> u64 {
        *self
    }
}

impl ListEntry for Address {
    type Key = Address;
    fn order_key(&self) -> Address {
        *self
    }
}

impl ListEntry for [u8; 4] {
    type Key = [u8; 4];
    fn order_key(&self) -> [u8; 4] {
        *self
    }
}

impl ListEntry for TypedDataDomain {
    type Key = TypedDataDomain;
    fn order_key(&self) -> TypedDataDomain {
        *self
    }
}

impl ListEntry for TokenRule {
    type Key = Address;
    fn order_key(&self) -> Address {
        self.token
    }
}

impl ListEntry for SelectorRule {
    type Key = Address;
    fn order_key(&self) -> Address {
        self.contract
    }
}
