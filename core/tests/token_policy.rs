//! Token rules, the default mode, permits and EIP-7702 authorizations,
//! each against an oracle written here in plain code (byte offsets and
//! explicit tables, independent of the policy module):
//!
//! - the selectors are the keccak of their signatures;
//! - the calldata decoder refuses short, long and dirty calldata;
//! - for random policies and random token calls (well-formed and not), the
//!   decision equals the oracle's, and a refusal names the oracle's rule;
//! - the same for random permits and random authorizations;
//! - version 3 encodings round-trip, version 2 policies still encode as
//!   version 2 byte for byte, and the JSON reader takes the new keys
//!   strictly.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use wallet_core::keccak::keccak256;
use wallet_core::policy::token::{
    self, APPROVE, INCREASE_ALLOWANCE, PERMIT, PERMIT2_APPROVE, PERMIT2_TRANSFER_FROM, TRANSFER,
    TRANSFER_FROM, UINT160_MAX,
};
use wallet_core::policy::{
    decode_token_call, CalldataError, DefaultMode, Eip712Domain, Permit, PermitGrant, PermitKind,
    Policy, PolicyField, PolicyViolation, TokenRule,
};
use wallet_core::signer::Address;
use wallet_core::tx::{TxEip1559, TxKind, TypedTransaction, U256};

fn addr(i: u8) -> Address {
    Address([0x10 * (i % 8) + 1; 20])
}

/// Tokens are addresses 0..3 of the pool, the rest are people.
const TOKENS: [u8; 3] = [0, 1, 2];

#[test]
fn selectors_are_the_keccak_of_their_signatures() {
    let sel = |sig: &str| <[u8; 4]>::try_from(&keccak256(sig.as_bytes())[..4]).unwrap();
    assert_eq!(TRANSFER, sel("transfer(address,uint256)"));
    assert_eq!(TRANSFER_FROM, sel("transferFrom(address,address,uint256)"));
    assert_eq!(APPROVE, sel("approve(address,uint256)"));
    assert_eq!(
        INCREASE_ALLOWANCE,
        sel("increaseAllowance(address,uint256)")
    );
    assert_eq!(
        PERMIT,
        sel("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")
    );
    assert_eq!(
        PERMIT2_APPROVE,
        sel("approve(address,address,uint160,uint48)")
    );
    assert_eq!(
        PERMIT2_TRANSFER_FROM,
        sel("transferFrom(address,address,uint160,address)")
    );
}

fn word_address(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

fn calldata(selector: [u8; 4], words: &[[u8; 32]]) -> Vec<u8> {
    let mut out = selector.to_vec();
    for w in words {
        out.extend_from_slice(w);
    }
    out
}

#[test]
fn decoder_refuses_what_is_not_the_exact_encoding() {
    let token = addr(0);
    let good = calldata(TRANSFER, &[word_address(&addr(4)), U256::from_u64(5).0]);
    let call = decode_token_call(&token, &good).unwrap().unwrap();
    assert_eq!(
        call.action,
        token::TokenAction::Transfer {
            recipient: addr(4),
            amount: U256::from_u64(5)
        }
    );
    assert_eq!(
        decode_token_call(&token, &good[..67]),
        Err(CalldataError::Short {
            len: 67,
            expected: 68
        })
    );
    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        decode_token_call(&token, &long),
        Err(CalldataError::Trailing {
            len: 69,
            expected: 68
        })
    );
    let mut dirty = good.clone();
    dirty[4] = 1;
    assert_eq!(
        decode_token_call(&token, &dirty),
        Err(CalldataError::DirtyHighBits { index: 0 })
    );
    // Permit2's uint160 and uint48 are checked at their widths.
    let mut amount = [0u8; 32];
    amount[11] = 1;
    let p2 = calldata(
        PERMIT2_APPROVE,
        &[
            word_address(&token),
            word_address(&addr(4)),
            amount,
            [0u8; 32],
        ],
    );
    assert_eq!(
        decode_token_call(&addr(7), &p2),
        Err(CalldataError::DirtyHighBits { index: 2 })
    );
    let mut expiration = [0u8; 32];
    expiration[25] = 1;
    let p2 = calldata(
        PERMIT2_APPROVE,
        &[
            word_address(&token),
            word_address(&addr(4)),
            [0u8; 32],
            expiration,
        ],
    );
    assert_eq!(
        decode_token_call(&addr(7), &p2),
        Err(CalldataError::DirtyHighBits { index: 3 })
    );
    // Not a token selector: nothing decoded.
    assert_eq!(decode_token_call(&token, &[1, 2, 3, 4, 5]), Ok(None));
    assert_eq!(decode_token_call(&token, &[]), Ok(None));
}

// ------------------------------------------------------------ random policies

#[derive(Clone, Debug)]
struct RuleSpec {
    token: u8,
    max_amount: Option<u64>,
    daily_limit: Option<u64>,
    recipients: Option<Vec<u8>>,
    spenders: Option<Vec<u8>>,
    unlimited: bool,
}

#[derive(Clone, Debug)]
struct PolicySpec {
    deny: bool,
    rules: Vec<RuleSpec>,
    recipients_allow: Option<Vec<u8>>,
    recipients_deny: Vec<u8>,
    selectors: Option<(u8, Vec<[u8; 4]>)>,
    delegations: Option<Vec<u8>>,
    any_chain: bool,
    chain_ids: Option<Vec<u64>>,
    lifetime: u64,
}

fn people() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(3u8..8, 0..4)
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        prop::sample::select(TOKENS.to_vec()),
        prop::option::of(0u64..2_000),
        prop::option::of(0u64..5_000),
        prop::option::of(people()),
        prop::option::of(people()),
        any::<bool>(),
    )
        .prop_map(
            |(token, max_amount, daily_limit, recipients, spenders, unlimited)| RuleSpec {
                token,
                max_amount,
                daily_limit,
                recipients,
                spenders,
                unlimited,
            },
        )
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    (
        any::<bool>(),
        prop::collection::vec(rule_spec(), 0..3),
        prop::option::of(prop::collection::vec(0u8..8, 0..4)),
        prop::collection::vec(0u8..8, 0..2),
        prop::option::of((
            0u8..8,
            prop::collection::vec(
                prop::sample::select(vec![TRANSFER, APPROVE, [1, 2, 3, 4]]),
                0..3,
            ),
        )),
        prop::option::of(people()),
        any::<bool>(),
        prop::option::of(prop::collection::vec(
            prop::sample::select(vec![1u64, 14, 114]),
            0..3,
        )),
        0u64..7200,
    )
        .prop_map(
            |(
                deny,
                rules,
                recipients_allow,
                recipients_deny,
                selectors,
                delegations,
                any_chain,
                chain_ids,
                lifetime,
            )| PolicySpec {
                deny,
                rules,
                recipients_allow,
                recipients_deny,
                selectors,
                delegations,
                any_chain,
                chain_ids,
                lifetime,
            },
        )
}

fn addrs(list: &[u8]) -> Vec<Address> {
    list.iter().map(|&i| addr(i)).collect()
}

impl PolicySpec {
    /// The last rule given for a token wins, as in the policy.
    fn rule(&self, token: &Address) -> Option<&RuleSpec> {
        self.rules.iter().rev().find(|r| addr(r.token) == *token)
    }

    fn build(&self) -> Policy {
        let mut policy = Policy::default();
        if self.deny {
            policy.set_default_mode(DefaultMode::Deny);
        }
        for spec in &self.rules {
            let mut rule = TokenRule::new(addr(spec.token));
            rule.set_max_amount(spec.max_amount.map(U256::from_u64));
            rule.set_daily_limit(spec.daily_limit.map(U256::from_u64));
            rule.set_recipients_allow(spec.recipients.as_deref().map(addrs).as_deref())
                .unwrap();
            rule.set_spenders_allow(spec.spenders.as_deref().map(addrs).as_deref())
                .unwrap();
            rule.set_allow_unlimited_approval(spec.unlimited);
            policy.set_token_rule(rule).unwrap();
        }
        policy
            .set_recipients_allow(self.recipients_allow.as_deref().map(addrs).as_deref())
            .unwrap();
        policy
            .set_recipients_deny(&addrs(&self.recipients_deny))
            .unwrap();
        if let Some((contract, selectors)) = &self.selectors {
            policy.set_selectors(addr(*contract), selectors).unwrap();
        }
        policy
            .set_delegations_allow(self.delegations.as_deref().map(addrs).as_deref())
            .unwrap();
        policy.set_allow_any_chain_authorization(self.any_chain);
        policy.set_chain_ids(self.chain_ids.as_deref()).unwrap();
        policy.set_permit_max_lifetime_seconds(self.lifetime);
        policy
    }
}

// ------------------------------------------------------------ random calls

#[derive(Clone, Debug)]
enum Malformation {
    None,
    Truncate(usize),
    Append(u8),
    DirtyWord(usize),
}

#[derive(Clone, Debug)]
struct CallSpec {
    to: u8,
    selector: [u8; 4],
    args: Vec<u8>,
    amount: u8,
    malformation: Malformation,
    empty: bool,
}

const TOKEN_SELECTORS: [[u8; 4]; 8] = [
    TRANSFER,
    TRANSFER_FROM,
    APPROVE,
    INCREASE_ALLOWANCE,
    PERMIT,
    PERMIT2_APPROVE,
    PERMIT2_TRANSFER_FROM,
    [1, 2, 3, 4],
];

fn call_spec() -> impl Strategy<Value = CallSpec> {
    (
        0u8..8,
        prop::sample::select(TOKEN_SELECTORS.to_vec()),
        prop::collection::vec(0u8..8, 4),
        0u8..6,
        prop_oneof![
            6 => Just(Malformation::None),
            1 => (0usize..200).prop_map(Malformation::Truncate),
            1 => any::<u8>().prop_map(Malformation::Append),
            1 => (0usize..8).prop_map(Malformation::DirtyWord),
        ],
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(to, selector, args, amount, malformation, empty)| CallSpec {
                to,
                selector,
                args,
                amount,
                malformation,
                empty,
            },
        )
}

fn amount_value(code: u8) -> U256 {
    match code {
        0 => U256::ZERO,
        1 => U256::from_u64(500),
        2 => U256::from_u64(1_500),
        3 => U256::MAX,
        4 => UINT160_MAX,
        _ => U256::from_u64(3_000),
    }
}

/// The argument count and, per argument, how many high bytes must be zero.
fn layout(selector: [u8; 4]) -> Option<Vec<usize>> {
    Some(match selector {
        TRANSFER | APPROVE | INCREASE_ALLOWANCE => vec![12, 0],
        TRANSFER_FROM => vec![12, 12, 0],
        PERMIT => vec![12, 12, 0, 0, 31, 0, 0],
        PERMIT2_APPROVE => vec![12, 12, 12, 26],
        PERMIT2_TRANSFER_FROM => vec![12, 12, 12, 12],
        _ => return None,
    })
}

impl CallSpec {
    fn input(&self) -> Vec<u8> {
        if self.empty {
            return Vec::new();
        }
        let amount = amount_value(self.amount);
        let words: Vec<[u8; 32]> = match layout(self.selector) {
            None => vec![[7u8; 32]; 2],
            Some(widths) => widths
                .iter()
                .enumerate()
                .map(|(i, &zero)| match zero {
                    12 if !((self.selector == PERMIT2_APPROVE
                        || self.selector == PERMIT2_TRANSFER_FROM)
                        && i == 2) =>
                    {
                        word_address(&addr(self.args[i % 4]))
                    }
                    12 => {
                        // uint160 amount: keep it in range.
                        let mut w = amount.0;
                        w[..12].fill(0);
                        w
                    }
                    26 => U256::from_u64(1_000).0,
                    31 => U256::from_u64(27).0,
                    _ => amount.0,
                })
                .collect(),
        };
        let mut input = calldata(self.selector, &words);
        match self.malformation {
            Malformation::None => {}
            Malformation::Truncate(n) => input.truncate(4 + n % (input.len() - 3)),
            Malformation::Append(b) => input.push(b),
            Malformation::DirtyWord(i) => {
                let n = (input.len() - 4) / 32;
                let at = 4 + (i % n) * 32;
                input[at] |= 0x80;
            }
        }
        input
    }
}

// ------------------------------------------------------------ the oracle

/// What the oracle reads from calldata: `Err` for malformed, `None` for
/// not a token call; otherwise (token, is_transfer, counterparty, amount,
/// unlimited).
type Read = Option<Result<(Address, bool, Address, U256, bool), ()>>;

fn oracle_read(to: &Address, input: &[u8]) -> Read {
    if input.len() < 4 {
        return None;
    }
    let selector: [u8; 4] = input[..4].try_into().unwrap();
    let widths = layout(selector)?;
    if input.len() != 4 + 32 * widths.len() {
        return Some(Err(()));
    }
    let word = |i: usize| -> [u8; 32] { input[4 + 32 * i..4 + 32 * (i + 1)].try_into().unwrap() };
    for (i, &zero) in widths.iter().enumerate() {
        if word(i)[..zero].iter().any(|b| *b != 0) {
            return Some(Err(()));
        }
    }
    let a = |i: usize| Address(word(i)[12..].try_into().unwrap());
    let n = |i: usize| U256(word(i));
    Some(Ok(match selector {
        TRANSFER => (*to, true, a(0), n(1), false),
        TRANSFER_FROM => (*to, true, a(1), n(2), false),
        APPROVE | INCREASE_ALLOWANCE => (*to, false, a(0), n(1), n(1) == U256::MAX),
        PERMIT => (*to, false, a(1), n(2), n(2) == U256::MAX),
        PERMIT2_APPROVE => (a(0), false, a(1), n(2), n(2) == UINT160_MAX),
        _ => (a(3), true, a(1), n(2), false),
    }))
}

/// The rule name the oracle says refuses, or `None` for allowed.
fn oracle_token_action(
    spec: &PolicySpec,
    rule: &RuleSpec,
    transfer: bool,
    who: &Address,
    amount: U256,
    unlimited: bool,
) -> Option<&'static str> {
    let listed = |list: &Option<Vec<u8>>| list.as_ref().is_none_or(|l| addrs(l).contains(who));
    if transfer {
        if addrs(&spec.recipients_deny).contains(who) {
            return Some("recipients_deny");
        }
        if !listed(&rule.recipients) {
            return Some("tokens.recipients_allow");
        }
        if rule.max_amount.is_some_and(|m| amount > U256::from_u64(m)) {
            return Some("tokens.max_amount");
        }
        None
    } else {
        if !unlimited && amount == U256::ZERO {
            return None;
        }
        if addrs(&spec.recipients_deny).contains(who) {
            return Some("recipients_deny");
        }
        if !listed(&rule.spenders) {
            return Some("tokens.spenders_allow");
        }
        let above = unlimited || rule.max_amount.is_some_and(|m| amount > U256::from_u64(m));
        if above && !rule.unlimited {
            return Some("tokens.allow_unlimited_approval");
        }
        None
    }
}

fn oracle_call(spec: &PolicySpec, to: &Address, input: &[u8]) -> Option<&'static str> {
    if addrs(&spec.recipients_deny).contains(to) {
        return Some("recipients_deny");
    }
    let has_rule = spec.rule(to).is_some();
    let selector: Option<[u8; 4]> = input.get(..4).map(|s| s.try_into().unwrap());
    let permit2 = selector.is_some_and(|s| s == PERMIT2_APPROVE || s == PERMIT2_TRANSFER_FROM);
    let decodes = selector.is_some_and(|s| layout(s).is_some())
        && (has_rule || (permit2 && (!spec.rules.is_empty() || spec.deny)));
    let mut by_token = false;
    if decodes {
        match oracle_read(to, input).unwrap() {
            Err(()) => return Some("tokens"),
            Ok((token, transfer, who, amount, unlimited)) => {
                if let Some(rule) = spec.rule(&token) {
                    if let Some(refusal) =
                        oracle_token_action(spec, rule, transfer, &who, amount, unlimited)
                    {
                        return Some(refusal);
                    }
                    by_token = true;
                }
            }
        }
    }
    let selector_rule = spec
        .selectors
        .as_ref()
        .filter(|(contract, _)| addr(*contract) == *to)
        .map(|(_, list)| selector.is_some_and(|s| list.contains(&s)));
    if !spec.deny {
        if let Some(list) = &spec.recipients_allow {
            if !addrs(list).contains(to) {
                return Some("recipients_allow");
            }
        }
        if selector_rule == Some(false) {
            return Some("selectors");
        }
        None
    } else {
        if by_token {
            return None;
        }
        match selector_rule {
            Some(true) => return None,
            Some(false) => return Some("selectors"),
            None => {}
        }
        if input.is_empty() {
            let listed = spec
                .recipients_allow
                .as_ref()
                .is_some_and(|l| addrs(l).contains(to));
            return if listed {
                None
            } else {
                Some("recipients_allow")
            };
        }
        Some("default")
    }
}

fn tx_to<'a>(to: Address, input: &'a [u8]) -> TypedTransaction<'a> {
    TxEip1559 {
        chain_id: 14,
        nonce: 0,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(10),
        gas_limit: 100_000,
        to: TxKind::Call(to),
        value: U256::ZERO,
        input,
        access_list: Default::default(),
    }
    .into()
}

fn refusal_name<T>(
    result: &Result<T, wallet_core::policy::PolicyViolation>,
) -> Option<&'static str> {
    result.as_ref().err().map(|v| v.rule().name())
}

// ------------------------------------------------------------ permits

#[derive(Clone, Debug)]
struct PermitSpec {
    spender: u8,
    grants: Vec<(u8, u8, Option<u64>)>,
    domain_listed: bool,
    now: u64,
}

fn permit_spec() -> impl Strategy<Value = PermitSpec> {
    (
        0u8..8,
        prop::collection::vec((0u8..5, 0u8..6, prop::option::of(0u64..10_000)), 0..3),
        any::<bool>(),
        1_000u64..2_000,
    )
        .prop_map(|(spender, grants, domain_listed, now)| PermitSpec {
            spender,
            grants,
            domain_listed,
            now,
        })
}

fn oracle_permit(
    spec: &PolicySpec,
    permit: &PermitSpec,
    typed_domains: bool,
) -> Option<&'static str> {
    // typed_domains: whether the policy lists typed_data_domains (then the
    // domain is listed exactly when permit.domain_listed).
    let listed = typed_domains.then_some(permit.domain_listed);
    if !spec.deny && listed == Some(false) {
        return Some("typed_data_domains");
    }
    let spender = addr(permit.spender);
    let mut covered = !permit.grants.is_empty();
    for &(token, amount, until) in &permit.grants {
        let Some(rule) = spec.rule(&addr(token)) else {
            covered = false;
            if spec.deny && listed != Some(true) {
                return Some("tokens");
            }
            continue;
        };
        let value = amount_value(amount);
        let unlimited = value == U256::MAX;
        if let Some(refusal) = oracle_token_action(spec, rule, false, &spender, value, unlimited) {
            return Some(refusal);
        }
        let within = until.is_some_and(|u| u <= permit.now + spec.lifetime);
        if !within {
            return Some("permit_max_lifetime_seconds");
        }
    }
    if spec.deny && !covered && listed != Some(true) {
        return Some("typed_data_domains");
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn token_calls_decide_as_the_oracle(spec in policy_spec(), call in call_spec()) {
        let policy = spec.build();
        let to = addr(call.to);
        let input = call.input();
        let tx = tx_to(to, &input);
        let decided = policy.decide_transaction(&tx);
        // Chain ids are checked first.
        let expected = if spec.chain_ids.as_ref().is_some_and(|c| !c.contains(&14)) {
            Some("chain_ids")
        } else {
            oracle_call(&spec, &to, &input)
        };
        prop_assert_eq!(refusal_name(&decided), expected, "input {:02x?}", input);
        if let Ok(decision) = &decided {
            prop_assert_eq!(decision.mode, if spec.deny { DefaultMode::Deny } else { DefaultMode::Allow });
            if spec.deny {
                prop_assert!(decision.rules.iter().any(|r| matches!(
                    r,
                    PolicyField::Tokens | PolicyField::Selectors | PolicyField::RecipientsAllow
                )));
            }
        }
        // The daily-limit spend is the transfer's amount, for a token with a daily limit.
        if decided.is_ok() {
            let spend = policy.token_spend(&tx);
            let expected_spend = oracle_read(&to, &input)
                .and_then(Result::ok)
                .filter(|r| r.1)
                .filter(|r| spec.rule(&r.0).is_some_and(|rule| rule.daily_limit.is_some()))
                .filter(|_| {
                    let s: [u8; 4] = input[..4].try_into().unwrap();
                    spec.rule(&to).is_some()
                        || ((s == PERMIT2_TRANSFER_FROM) && (!spec.rules.is_empty() || spec.deny))
                })
                .map(|r| (r.0, r.3));
            prop_assert_eq!(spend, expected_spend);
        }
    }

    #[test]
    fn permits_decide_as_the_oracle(
        spec in policy_spec(),
        permit in permit_spec(),
        typed_domains in any::<bool>(),
    ) {
        let mut policy = spec.build();
        let verifying_contract = addr(7);
        let domain = Eip712Domain {
            name: Some("Permit2"),
            version: None,
            chain_id: Some(U256::from_u64(14)),
            verifying_contract: Some(verifying_contract),
            salt: None,
        };
        if typed_domains {
            let listed = wallet_core::policy::TypedDataDomain {
                chain_id: 14,
                verifying_contract: if permit.domain_listed { verifying_contract } else { addr(6) },
            };
            policy.set_typed_data_domains(Some(&[listed])).unwrap();
        }
        let grants: Vec<PermitGrant> = permit
            .grants
            .iter()
            .map(|&(token, amount, until)| {
                let value = amount_value(amount);
                PermitGrant {
                    token: addr(token),
                    amount: (value != U256::MAX).then_some(value),
                    valid_until: until.map(U256::from_u64),
                }
            })
            .collect();
        let core_permit = Permit {
            kind: PermitKind::Permit2Batch,
            spender: addr(permit.spender),
            grants: &grants,
        };
        let decided = policy.decide_typed_data(&domain, Some(&core_permit), permit.now);
        prop_assert_eq!(refusal_name(&decided), oracle_permit(&spec, &permit, typed_domains));
    }

    #[test]
    fn authorizations_decide_as_the_oracle(
        spec in policy_spec(),
        chain in prop::sample::select(vec![0u64, 1, 14, 114, 999]),
        delegate in 0u8..8,
    ) {
        let policy = spec.build();
        let decided = policy.decide_authorization(&U256::from_u64(chain), &addr(delegate));
        let expected = if chain == 0 && !spec.any_chain {
            Some("allow_any_chain_authorization")
        } else if chain != 0 && spec.chain_ids.as_ref().is_some_and(|c| !c.contains(&chain)) {
            Some("chain_ids")
        } else {
            let listed = match &spec.delegations {
                Some(list) => addrs(list).contains(&addr(delegate)),
                None => !spec.deny,
            };
            (!listed).then_some("delegations_allow")
        };
        prop_assert_eq!(refusal_name(&decided), expected);
    }

    #[test]
    fn token_policies_round_trip(spec in policy_spec()) {
        let policy = spec.build();
        let bytes = policy.to_bytes();
        let decoded = Policy::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &policy);
        let json = policy.to_json();
        prop_assert_eq!(Policy::from_json(&json).unwrap(), policy);
    }

    #[test]
    fn decoder_never_panics(to in 0u8..8, input in prop::collection::vec(any::<u8>(), 0..300)) {
        let read = oracle_read(&addr(to), &input);
        let decoded = decode_token_call(&addr(to), &input);
        prop_assert_eq!(decoded.is_err(), matches!(read, Some(Err(()))));
    }
}

#[test]
fn version_2_policies_encode_as_before() {
    let mut policy = Policy::default();
    policy.set_chain_ids(Some(&[14])).unwrap();
    let bytes = policy.to_bytes();
    assert_eq!(&bytes[8..10], &2u16.to_be_bytes());
    policy.set_default_mode(DefaultMode::Deny);
    let bytes = policy.to_bytes();
    assert_eq!(&bytes[8..10], &3u16.to_be_bytes());
    // A version 3 encoding of a policy that version 2 can carry is not canonical.
    policy.set_default_mode(DefaultMode::Allow);
    let mut v3 = policy.to_bytes().to_vec();
    v3[9] = 3;
    v3.push(0); // default allow
    v3.extend_from_slice(&0u16.to_be_bytes()); // no tokens
    v3.extend_from_slice(&3600u64.to_be_bytes());
    v3.push(0);
    assert!(Policy::decode(&v3).is_err());
}

#[test]
fn json_reads_the_issue_example_and_refuses_unknown_token_keys() {
    let json = r#"{"default": "deny", "chain_ids": [14, 114],
     "recipients_allow": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
     "tokens": {"0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d":
        {"max_amount": "1000000000000000000000", "daily_limit": 5000000000000000000000,
         "recipients_allow": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
         "spenders_allow": ["0x000000000022D473030F116dDEE9F6B43aC78BA3"]}},
     "permit_max_lifetime_seconds": 3600}"#;
    let policy = Policy::from_json(json).unwrap();
    assert_eq!(policy.default_mode(), DefaultMode::Deny);
    assert!(!policy.allow_contract_creation());
    assert!(!policy.allow_messages());
    let token = Address::parse_hex("0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d").unwrap();
    let rule = policy.token_rule(&token).unwrap();
    assert_eq!(
        rule.daily_limit().unwrap().to_string(),
        "5000000000000000000000"
    );
    assert!(!rule.allow_unlimited_approval());
    let unknown = json.replace("\"spenders_allow\"", "\"spender_allow\"");
    let error = Policy::from_json(&unknown).unwrap_err().to_string();
    assert!(error.contains("spender_allow"), "{error}");
    let duplicate = json.replace(
        "\"max_amount\": \"1000000000000000000000\",",
        "\"max_amount\": \"1\", \"max_amount\": \"2\",",
    );
    assert!(Policy::from_json(&duplicate).is_err());
    let bad_mode = json.replace("\"deny\"", "\"maybe\"");
    assert!(Policy::from_json(&bad_mode)
        .unwrap_err()
        .to_string()
        .contains("\"allow\" or \"deny\""));
    // Omitting `default` keeps allow, with its old defaults.
    let allow = Policy::from_json(r#"{"chain_ids": [14]}"#).unwrap();
    assert_eq!(allow.default_mode(), DefaultMode::Allow);
    assert!(allow.allow_contract_creation());
}

#[test]
fn refusals_name_the_rule_and_the_value() {
    let mut spec_policy = Policy::default();
    let token = addr(0);
    let mut rule = TokenRule::new(token);
    rule.set_max_amount(Some(U256::from_u64(1_000)));
    rule.set_recipients_allow(Some(&[addr(4)])).unwrap();
    spec_policy.set_token_rule(rule).unwrap();
    let input = calldata(TRANSFER, &[word_address(&addr(5)), U256::from_u64(10).0]);
    let refusal = spec_policy
        .decide_transaction(&tx_to(token, &input))
        .unwrap_err();
    let text = refusal.to_string();
    assert!(text.contains("tokens.recipients_allow"), "{text}");
    assert!(text.contains(&addr(5).checksum().to_string()), "{text}");
    let input = calldata(TRANSFER, &[word_address(&addr(4)), U256::from_u64(1_001).0]);
    let text = spec_policy
        .decide_transaction(&tx_to(token, &input))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("1001") && text.contains("tokens.max_amount 1000"),
        "{text}"
    );
    let input = calldata(APPROVE, &[word_address(&addr(4)), U256::MAX.0]);
    let text = spec_policy
        .decide_transaction(&tx_to(token, &input))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("unlimited") && text.contains("tokens.allow_unlimited_approval"),
        "{text}"
    );
    let short = &input[..40];
    let text = spec_policy
        .decide_transaction(&tx_to(token, short))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("shorter") && text.contains("tokens"),
        "{text}"
    );
}

#[test]
fn a_permit2_approval_expires_within_the_permit_lifetime() {
    let permit2 = addr(9);
    let token = addr(0);
    let spender = addr(4);
    let mut policy = Policy::default();
    policy.set_default_mode(DefaultMode::Deny);
    policy.set_permit_max_lifetime_seconds(3600);
    let mut rule = TokenRule::new(token);
    rule.set_max_amount(Some(U256::from_u64(1_000)));
    rule.set_spenders_allow(Some(&[spender])).unwrap();
    policy.set_token_rule(rule).unwrap();
    let now = 1_700_000_000u64;
    let approve = |amount: u64, expiration: u64| {
        calldata(
            PERMIT2_APPROVE,
            &[
                word_address(&token),
                word_address(&spender),
                U256::from_u64(amount).0,
                U256::from_u64(expiration).0,
            ],
        )
    };
    // At the limit, and 0 (Permit2: the block's own timestamp): allowed.
    for expiration in [now + 3600, now, 0] {
        let input = approve(1_000, expiration);
        let decision = policy
            .decide_transaction_at(&tx_to(permit2, &input), now)
            .unwrap();
        assert!(decision
            .rules
            .contains(&PolicyField::PermitMaxLifetimeSeconds));
        assert!(decision.rules.contains(&PolicyField::Tokens));
    }
    let input = approve(1_000, now + 3601);
    let refusal = policy
        .decide_transaction_at(&tx_to(permit2, &input), now)
        .unwrap_err();
    assert_eq!(
        refusal,
        PolicyViolation::PermitLifetimeTooLong {
            token,
            valid_until: Some(U256::from_u64(now + 3601)),
            now,
            limit: 3600,
        }
    );
    assert!(refusal.to_string().contains("permit_max_lifetime_seconds"));
    // The largest uint48: an allowance that never expires in practice.
    let input = approve(1_000, (1 << 48) - 1);
    assert!(policy
        .decide_transaction_at(&tx_to(permit2, &input), now)
        .is_err());
    // A revocation (amount 0) is allowed whatever its expiration.
    let input = approve(0, (1 << 48) - 1);
    assert!(policy
        .decide_transaction_at(&tx_to(permit2, &input), now)
        .is_ok());
    // The other rules still come first.
    let input = approve(1_001, now);
    assert!(matches!(
        policy.decide_transaction_at(&tx_to(permit2, &input), now),
        Err(PolicyViolation::TokenApprovalAboveCap { .. })
    ));
}
