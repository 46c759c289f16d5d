//! The token-call and typed-data decoders over arbitrary bytes.
//!
//! The first byte picks the decoder (its value mod 2):
//! - calldata: `decode_token_call` never panics; what it accepts is exactly
//!   4 + 32·n bytes with a token selector, and a deny-mode policy with a
//!   token rule decides a transaction carrying it without panicking (a
//!   malformed token call is refused, never allowed), and deciding at a
//!   known time never allows what deciding without one refuses;
//! - typed data: `TypedData::from_json_slice` never panics; for what it
//!   accepts, the digest, the permit reading and the policy decision do not
//!   panic, and a permit's grants never exceed `MAX_PERMIT_GRANTS`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::policy::token::is_token_selector;
use wallet_core::policy::{decode_token_call, DefaultMode, Policy, TokenRule};
use wallet_core::signer::Address;
use wallet_core::tx::{TxEip1559, TxKind, TypedTransaction, U256};
use wallet_core::wallet::typed_data::{TypedData, MAX_PERMIT_GRANTS};

const TOKEN: Address = Address([0x1d; 20]);

fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.set_default_mode(DefaultMode::Deny);
    let mut rule = TokenRule::new(TOKEN);
    rule.set_max_amount(Some(U256::from_u64(1_000_000)));
    let _ = rule.set_recipients_allow(Some(&[Address([0x70; 20])]));
    let _ = rule.set_spenders_allow(Some(&[Address([0x22; 20])]));
    let _ = policy.set_token_rule(rule);
    policy
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let policy = policy();
    if selector % 2 == 0 {
        let decoded = decode_token_call(&TOKEN, rest);
        if let Ok(Some(call)) = decoded {
            let head: [u8; 4] = rest[..4].try_into().unwrap();
            assert!(is_token_selector(&head) && call.selector == head);
            assert_eq!((rest.len() - 4) % 32, 0);
        }
        let tx: TypedTransaction<'_> = TxEip1559 {
            chain_id: 14,
            nonce: 0,
            max_priority_fee_per_gas: U256::from_u64(1),
            max_fee_per_gas: U256::from_u64(1),
            gas_limit: 100_000,
            to: TxKind::Call(TOKEN),
            value: U256::ZERO,
            input: rest,
            access_list: Default::default(),
        }
        .into();
        let decision = policy.decide_transaction(&tx);
        let at_time = policy.decide_transaction_at(&tx, 1_800_000_000);
        if decoded.is_err() {
            assert!(decision.is_err(), "a malformed token call is never allowed");
        }
        // A clock only adds a check (a Permit2 approval's expiration).
        assert!(at_time.is_err() || decision.is_ok());
        let _ = policy.token_spend(&tx);
    } else if let Ok(typed) = TypedData::from_json_slice(rest) {
        let _ = typed.signing_hash();
        if let Ok(permit) = typed.permit() {
            if let Some(permit) = &permit {
                assert!(permit.grants.len() <= MAX_PERMIT_GRANTS);
            }
            let _ = policy.decide_typed_data(
                &typed.domain(),
                permit.as_ref().map(|p| p.as_permit()).as_ref(),
                1_800_000_000,
            );
        }
    }
});
