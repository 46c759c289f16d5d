//! The signing policy inside the wallet, on a real swtpm: caps refused with
//! the named rule and nothing signed (not even a TPM command sent), the
//! daily limit persisted across a restart and expiring after 24 hours, a
//! policy changed on disk refused before any signature, replacement by the
//! owners logged, the policy hash in attestation evidence, and backups that
//! keep the policy.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/owners.rs"]
mod owners;
#[path = "wallet_support/transports.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use support::{open_wallet, swtpm, TempDir};
use wallet_core::attest::{verify, AttestError, Expectations, NO_POLICY_HASH};
use wallet_core::audit::{AuditEvent, GENESIS};
use wallet_core::authority::{self, AdminAction, AuthorityError};
use wallet_core::backup::{BoundPolicy, SealedKeyFile, INTEGRITY_LEN, MAX_FILE_LEN};
use wallet_core::enrollment::ActivationChallenge;
use wallet_core::policy::ledger::{Clock, WINDOW_SECONDS};
use wallet_core::policy::{
    Eip712Domain, Policy, PolicyError, PolicyField, PolicyViolation, TypedDataDomain,
};
use wallet_core::signer::{eip191_hash, recover_address, Address};
use wallet_core::state::{ACCOUNT_FILE, SPEND_LEDGER_FILE};
use wallet_core::tx::{self, U256};
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet, WalletError, AUDIT_LOG_FILE};
use wallet_core::Error;

const TWO_ETH: u128 = 2_000_000_000_000_000_000;
const GAS: u64 = 21_000;
const MAX_FEE_PER_GAS: u64 = 30_000_000_000;

/// A clock the test moves by hand.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new(start: u64) -> Self {
        Self(Arc::new(AtomicU64::new(start)))
    }
    fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now_unix_seconds(&self) -> u64 {
        self.now()
    }
}

/// An EIP-1559 signing payload built with the rlp crate.
fn transfer(chain_id: u64, nonce: u64, to: [u8; 20], value: u128) -> Vec<u8> {
    let mut s = rlp::RlpStream::new_list(9);
    s.append(&chain_id);
    s.append(&nonce);
    s.append(&1_000_000_000u64);
    s.append(&MAX_FEE_PER_GAS);
    s.append(&GAS);
    s.append(&to.to_vec());
    s.append(&value);
    s.append_empty_data();
    s.begin_list(0);
    let mut out = vec![0x02];
    out.extend_from_slice(&s.out());
    out
}

/// Value plus the worst-case fee, computed here from the numbers above.
fn spend_of(value: u128) -> U256 {
    U256::from_u128(value + u128::from(GAS) * u128::from(MAX_FEE_PER_GAS))
}

fn capped(cap: u128) -> Policy {
    let mut policy = Policy::default();
    policy.set_max_value_wei(Some(U256::from_u128(cap)));
    policy
}

fn with_policy(policy: Policy) -> AccountOptions {
    AccountOptions {
        policy,
        key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
        ..AccountOptions::default()
    }
}

/// Options with `policy` and a 2-of-3 owner set of [`owners::owner_keys`]`(7, 3)`.
fn owned(policy: Policy) -> AccountOptions {
    AccountOptions {
        policy,
        owners: Some(owners::owner_set(&owners::owner_keys(7, 3), 2)),
        key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
        ..AccountOptions::default()
    }
}

/// Replaces the policy with the approval of two of the three owners of [`owned`].
fn replace_as_owners(wallet: &mut Wallet, policy: Policy) -> Result<[u8; 32], Error> {
    let keys = owners::owner_keys(7, 3);
    let request = wallet.admin_request(
        AdminAction::ReplacePolicy,
        authority::replace_policy_params_hash(&policy.hash()),
        u64::MAX,
    )?;
    let approvals = owners::approve(&[&keys[0], &keys[2]], &request);
    wallet.replace_policy(policy, &request, &approvals)
}

fn violation_of(result: Result<impl std::fmt::Debug, Error>) -> PolicyViolation {
    match result {
        Err(Error::Policy(PolicyError::Violation(v))) => v,
        other => panic!("expected a policy violation, got {other:?}"),
    }
}

fn account_file(state: &Path) -> PathBuf {
    state.join(ACCOUNT_FILE)
}

/// Rewrites an account file with another policy section (or none), keeping
/// everything else and fixing the integrity check: what a writer of the
/// state directory without the key can do.
fn rewrite_policy(bytes: &[u8], encoding: Option<&[u8]>, tag: Option<[u8; 32]>) -> Vec<u8> {
    let view = SealedKeyFile::parse(bytes).unwrap();
    let old = view.bound_policy().unwrap();
    let tag = tag.unwrap_or(*old.tag);
    let bound = encoding.map(|encoding| BoundPolicy {
        encoding,
        tag: &tag,
    });
    let mut out = vec![0u8; MAX_FILE_LEN];
    let n = view.contents().encode_with_policy(bound, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn a_transfer_above_the_cap_is_refused_before_the_tpm_and_one_at_the_cap_is_signed() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-cap");
    for (i, mode) in [KeyMode::Strict, KeyMode::Cached].into_iter().enumerate() {
        let mut wallet = open_wallet(&tpm, &dir.state(&format!("s{i}")));
        wallet.set_key_mode(mode);
        let address = wallet.create_account(with_policy(capped(TWO_ETH))).unwrap();

        let above = transfer(14, 0, [0x11; 20], TWO_ETH + 1);
        let mut out = [0xeeu8; 512];
        let commands = wallet.tpm_commands_sent();
        let refused = violation_of(wallet.sign_transaction(&above, &mut out));
        assert_eq!(refused.rule(), PolicyField::MaxValueWei);
        assert_eq!(
            refused.to_string(),
            "value 2000000000000000001 wei exceeds max_value_wei 2000000000000000000"
        );
        assert!(out.iter().all(|&b| b == 0xee), "nothing written");
        assert_eq!(
            wallet.tpm_commands_sent(),
            commands,
            "a refusal sends nothing to the TPM: the key is not even unsealed"
        );

        let at_cap = transfer(14, 0, [0x11; 20], TWO_ETH);
        let n = wallet.sign_transaction(&at_cap, &mut out).unwrap();
        let signed = tx::decode_signed(&out[..n]).unwrap();
        assert_eq!(signed.recover_sender().unwrap(), address);
        assert_eq!(signed.transaction().value(), U256::from_u128(TWO_ETH));
    }
}

#[test]
fn messages_and_typed_data_follow_the_policy() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-messages");
    let verifying = Address([0xcc; 20]);
    let mut policy = Policy::default();
    policy.set_allow_messages(false);
    policy
        .set_typed_data_domains(Some(&[TypedDataDomain {
            chain_id: 14,
            verifying_contract: verifying,
        }]))
        .unwrap();
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let address = wallet.create_account(with_policy(policy)).unwrap();
    let commands = wallet.tpm_commands_sent();
    assert_eq!(
        violation_of(wallet.sign_message(b"hello")),
        PolicyViolation::MessagesNotAllowed
    );
    let bare = violation_of(wallet.sign_typed_data_hash(&[1; 32], &[2; 32]));
    assert_eq!(bare, PolicyViolation::RawHashNotAllowed);
    assert!(bare.to_string().contains("allow_raw_hashes"));
    let elsewhere = Eip712Domain {
        name: Some("Permit2"),
        chain_id: Some(U256::from_u64(1)),
        verifying_contract: Some(verifying),
        ..Eip712Domain::default()
    };
    assert_eq!(
        violation_of(wallet.sign_typed_data(&elsewhere, &[3; 32])).rule(),
        PolicyField::TypedDataDomains
    );
    assert_eq!(wallet.tpm_commands_sent(), commands, "no TPM command");

    let allowed = Eip712Domain {
        chain_id: Some(U256::from_u64(14)),
        ..elsewhere
    };
    let signature = wallet.sign_typed_data(&allowed, &[3; 32]).unwrap();
    assert_eq!(
        recover_address(&allowed.signing_hash(&[3; 32]), &signature).unwrap(),
        address
    );
}

#[test]
fn daily_limit_accumulates_across_a_restart_and_expires_after_24_hours() {
    let mut tpm = swtpm();
    let dir = TempDir::new("policy-daily");
    let state = dir.state("s");
    let clock = TestClock::new(1_700_000_000);
    let value = 1_000_000_000_000_000_000u128; // 1 ETH
    let mut policy = Policy::default();
    // Room for two transfers' worst case, not three.
    let limit = U256::from_u128(2 * (value + u128::from(GAS) * u128::from(MAX_FEE_PER_GAS)));
    policy.set_daily_limit_wei(Some(limit));

    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_clock(Box::new(clock.clone()));
    wallet.create_account(with_policy(policy)).unwrap();
    let mut out = [0u8; 512];
    wallet
        .sign_transaction(&transfer(14, 0, [1; 20], value), &mut out)
        .unwrap();
    assert!(state.join(SPEND_LEDGER_FILE).exists(), "spend on disk");
    clock.advance(3600);
    wallet
        .sign_transaction(&transfer(14, 1, [1; 20], value), &mut out)
        .unwrap();
    assert_eq!(wallet.daily_spent(Some(14)).unwrap(), limit);
    // Another chain has its own window.
    wallet
        .sign_transaction(&transfer(114, 0, [1; 20], value), &mut out)
        .unwrap();
    drop(wallet);
    tpm.restart().unwrap();

    // A new process: the spends are still counted.
    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_clock(Box::new(clock.clone()));
    wallet.load_account().unwrap();
    assert_eq!(wallet.daily_spent(Some(14)).unwrap(), limit);
    let commands = wallet.tpm_commands_sent();
    let refused = violation_of(wallet.sign_transaction(&transfer(14, 2, [1; 20], 1), &mut out));
    assert_eq!(
        refused,
        PolicyViolation::DailyLimitExceeded {
            chain_id: Some(14),
            spent: limit,
            spend: Some(spend_of(1)),
            limit
        }
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "spend of {} wei on chain 14 would exceed daily_limit_wei {limit} ({limit} wei spent in the last 24 hours)",
            spend_of(1)
        )
    );
    // The refusal read the ledger it decided on and checked it against the
    // account's anti-rollback counter (StartAuthSession, NV_Read).
    assert_eq!(wallet.tpm_commands_sent(), commands + 2);

    // 24 hours after the first spend, it expires; the second still counts.
    clock.advance(WINDOW_SECONDS - 3600);
    assert_eq!(wallet.daily_spent(Some(14)).unwrap(), spend_of(value));
    wallet
        .sign_transaction(&transfer(14, 2, [1; 20], value), &mut out)
        .unwrap();
    assert_eq!(
        violation_of(wallet.sign_transaction(&transfer(14, 3, [1; 20], 1), &mut out)).rule(),
        PolicyField::DailyLimitWei
    );
    clock.advance(3600);
    assert_eq!(wallet.daily_spent(Some(14)).unwrap(), spend_of(value));
    wallet
        .sign_transaction(&transfer(14, 3, [1; 20], 1), &mut out)
        .unwrap();

    // A damaged ledger is refused: the account's ledger is bound to its key
    // and counter, and a changed byte breaks its MAC.
    drop(wallet);
    let mut ledger = std::fs::read(state.join(SPEND_LEDGER_FILE)).unwrap();
    ledger[40] ^= 1;
    std::fs::write(state.join(SPEND_LEDGER_FILE), &ledger).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(
        wallet.load_account(),
        Err(Error::Wallet(WalletError::LedgerUnbound))
    );
}

#[test]
fn a_policy_changed_on_disk_is_refused_before_any_signature() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-tamper");
    let state = dir.state("s");
    let mut wallet = open_wallet(&tpm, &state);
    wallet.create_account(with_policy(capped(TWO_ETH))).unwrap();
    drop(wallet);
    let good = std::fs::read(account_file(&state)).unwrap();

    // The permissive default policy in place of the cap, tag left as it was.
    let swapped = rewrite_policy(&good, Some(&Policy::default().to_bytes()), None);
    // The cap raised by one byte inside the encoding.
    let mut raised = good.clone();
    let encoding = SealedKeyFile::parse(&good)
        .unwrap()
        .bound_policy()
        .unwrap()
        .encoding
        .to_vec();
    let at = good
        .windows(encoding.len())
        .position(|w| w == encoding)
        .unwrap();
    raised[at + 8 + 2 + 1 + 1 + 20] ^= 0x80; // a byte of max_value_wei
    let body = raised.len() - INTEGRITY_LEN;
    let digest = Sha256::digest(&raised[..body]);
    raised[body..].copy_from_slice(&digest);
    // A tag forged without the key.
    let forged = rewrite_policy(&good, Some(&Policy::default().to_bytes()), Some([7; 32]));

    for tampered in [&swapped, &raised, &forged] {
        for mode in [KeyMode::Strict, KeyMode::Cached] {
            std::fs::write(account_file(&state), tampered).unwrap();
            let mut wallet = open_wallet(&tpm, &state);
            wallet.set_key_mode(mode);
            assert_eq!(
                wallet.load_account(),
                Err(Error::Wallet(WalletError::PolicyBindingMismatch))
            );
            let mut out = [0u8; 512];
            assert_eq!(
                wallet.sign_transaction(&transfer(14, 0, [1; 20], 1), &mut out),
                Err(Error::Wallet(WalletError::NoAccount))
            );
            assert_eq!(&std::fs::read(account_file(&state)).unwrap(), tampered);
        }
    }
    assert!(Error::Wallet(WalletError::PolicyBindingMismatch)
        .to_string()
        .contains("nothing was signed"));

    // Stripping the policy (the file form from before policies) leaves an
    // ownerless account that signs nothing and can never be given a policy.
    let stripped = rewrite_policy(&good, None, None);
    std::fs::write(account_file(&state), &stripped).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    let address = wallet.load_account().unwrap();
    assert_eq!(wallet.policy().unwrap(), None);
    assert_eq!(wallet.policy_hash().unwrap(), NO_POLICY_HASH);
    let mut out = [0u8; 512];
    let commands = wallet.tpm_commands_sent();
    assert_eq!(
        wallet.sign_transaction(&transfer(14, 0, [1; 20], 1), &mut out),
        Err(Error::Wallet(WalletError::PolicyUnbound))
    );
    assert_eq!(
        wallet.sign_message(b"m"),
        Err(Error::Wallet(WalletError::PolicyUnbound))
    );
    assert_eq!(wallet.tpm_commands_sent(), commands);
    assert_eq!(
        wallet.admin_request(AdminAction::ReplacePolicy, [0; 32], u64::MAX),
        Err(Error::Authority(AuthorityError::Ownerless))
    );
    assert_eq!(wallet.address().unwrap(), address);
    assert_eq!(wallet.tpm_commands_sent(), commands);
}

#[test]
fn replace_policy_changes_the_hash_is_logged_and_persists() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-replace");
    let state = dir.state("s");
    let clock = TestClock::new(1_800_000_000);
    let first = capped(TWO_ETH);
    let mut second = capped(TWO_ETH * 5);
    second.set_chain_ids(Some(&[14])).unwrap();

    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_clock(Box::new(clock.clone()));
    let address = wallet.create_account(owned(first.clone())).unwrap();
    assert_eq!(wallet.policy().unwrap(), Some(&first));
    assert_eq!(wallet.policy_hash().unwrap(), first.hash());
    let mut out = [0u8; 512];
    let big = transfer(14, 0, [1; 20], TWO_ETH * 3);
    assert_eq!(
        violation_of(wallet.sign_transaction(&big, &mut out)).rule(),
        PolicyField::MaxValueWei
    );

    clock.advance(60);
    let new_hash = replace_as_owners(&mut wallet, second.clone()).unwrap();
    assert_eq!(new_hash, second.hash());
    assert_ne!(new_hash, first.hash());
    assert_eq!(wallet.policy_hash().unwrap(), new_hash);
    wallet.sign_transaction(&big, &mut out).unwrap();
    assert_eq!(
        violation_of(wallet.sign_transaction(&transfer(1, 0, [1; 20], 1), &mut out)),
        PolicyViolation::ChainIdNotAllowed { chain_id: 1 }
    );

    let log = wallet.audit_log().unwrap();
    let owners_hash = owners::owner_set(&owners::owner_keys(7, 3), 2).hash();
    assert_eq!(log.len(), 4);
    assert_eq!(
        log[0].event,
        AuditEvent::Create {
            policy: first.hash(),
            owners: owners_hash,
            threshold: 2
        }
    );
    assert_eq!(log[0].time, 1_800_000_000);
    assert_eq!(log[0].address, address);
    assert_eq!(log[0].prev, GENESIS);
    assert_eq!(
        log[1].event,
        AuditEvent::Refuse {
            request: wallet_core::audit::RefusedRequest::Transaction,
            rule: PolicyField::MaxValueWei
        }
    );
    assert_eq!(
        log[2].event,
        AuditEvent::ReplacePolicy {
            nonce: 0,
            old: first.hash(),
            new: second.hash()
        }
    );
    assert_eq!(log[2].time, 1_800_000_060);
    assert_eq!(log[2].prev, log[1].hash);
    assert_eq!(
        log[3].event,
        AuditEvent::Refuse {
            request: wallet_core::audit::RefusedRequest::Transaction,
            rule: PolicyField::ChainIds
        }
    );
    assert_eq!(wallet.audit_head().unwrap(), log[3].hash);
    assert_eq!(wallet.admin_nonce().unwrap(), 1);
    let text = std::fs::read_to_string(state.join(AUDIT_LOG_FILE)).unwrap();
    let old_hex = hex::encode(first.hash());
    let new_hex = hex::encode(second.hash());
    assert!(text.lines().nth(2).unwrap().starts_with(&format!(
        "seq=2 time=1800000060 event=replace_policy address={address} nonce=0 old={old_hex} new={new_hex} prev="
    )));
    drop(wallet);

    // A new process finds the replacement, bound to the key.
    for mode in [KeyMode::Strict, KeyMode::Cached] {
        let mut wallet = open_wallet(&tpm, &state);
        wallet.set_key_mode(mode);
        wallet.load_account().unwrap();
        assert_eq!(wallet.policy().unwrap(), Some(&second));
        wallet.sign_transaction(&big, &mut out).unwrap();
    }
}

#[test]
fn attestation_evidence_carries_the_policy_hash_and_follows_a_replacement() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-attest");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    let first = capped(TWO_ETH);
    let address = wallet.create_account(owned(first.clone())).unwrap();
    let before = wallet.attest(b"nonce-1", 14).unwrap();
    assert_eq!(before.account.policy_hash, first.hash());
    // The verifier enrolls the AK by credential activation (no EK
    // certificate here: the TPM-trust tests cover the chain).
    let request = wallet.enrollment_request().unwrap();
    let challenge = ActivationChallenge::new(
        &request.ek_public,
        &request.ak_public,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let response = wallet.answer_activation(challenge.blob()).unwrap();
    let ak = challenge.finish(&request.ak_public, &response).unwrap();
    let verify = |evidence, nonce: &[u8], expectations: &Expectations<'_>| {
        verify(evidence, nonce, &ak, expectations)
    };
    let pinned = |hash| Expectations {
        address: Some(address),
        chain_id: Some(14),
        policy_hash: Some(hash),
        accept_unverified_tpm: true,
        ..Expectations::default()
    };
    let facts = verify(&before, b"nonce-1", &pinned(first.hash())).unwrap();
    assert_eq!(facts.account.policy_hash, first.hash());
    assert_eq!(facts.account.admin_nonce, 0);
    assert_eq!(facts.account.threshold, 2);

    let second = capped(1);
    replace_as_owners(&mut wallet, second.clone()).unwrap();
    let after = wallet.attest(b"nonce-2", 14).unwrap();
    assert_eq!(after.account.policy_hash, second.hash());
    let facts = verify(&after, b"nonce-2", &pinned(second.hash())).unwrap();
    assert_eq!(facts.account.policy_hash, second.hash());
    assert_ne!(facts.account.policy_hash, first.hash());
    assert_eq!(facts.account.admin_nonce, 1);
    assert_eq!(facts.account.audit_head, wallet.audit_head().unwrap());
    assert_ne!(facts.account.audit_head, before.account.audit_head);
    // Each evidence verifies only against its own policy.
    assert_eq!(
        verify(&after, b"nonce-2", &pinned(first.hash())),
        Err(AttestError::PolicyHashMismatch)
    );
    assert_eq!(
        verify(&before, b"nonce-1", &pinned(second.hash())),
        Err(AttestError::PolicyHashMismatch)
    );
    // Claiming another policy hash breaks the challenge the quote signed.
    let mut relabelled = after.clone();
    relabelled.account.policy_hash = first.hash();
    assert_eq!(
        verify(&relabelled, b"nonce-2", &pinned(first.hash())),
        Err(AttestError::ChallengeMismatch)
    );
    // The wallet's own signature is over the same challenge.
    let challenge = wallet_core::attest::challenge(b"nonce-2", &after.account);
    assert_eq!(
        recover_address(&eip191_hash(&challenge), &after.wallet_signature).unwrap(),
        address
    );
}

#[test]
fn backup_and_restore_keep_the_policy_and_refuse_a_swapped_one() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-backup");
    let mut policy = capped(TWO_ETH);
    policy.set_recipients_deny(&[Address([0x66; 20])]).unwrap();
    let mut wallet = open_wallet(&tpm, &dir.state("a"));
    let address = wallet.create_account(with_policy(policy.clone())).unwrap();
    let backup = wallet.backup().unwrap();
    drop(wallet);

    let mut restored = open_wallet(&tpm, &dir.state("b"));
    assert_eq!(restored.restore(&backup).unwrap(), address);
    assert_eq!(restored.policy().unwrap(), Some(&policy));
    assert_eq!(restored.policy_hash().unwrap(), policy.hash());
    let mut out = [0u8; 512];
    assert_eq!(
        violation_of(restored.sign_transaction(&transfer(14, 0, [0x66; 20], 1), &mut out)),
        PolicyViolation::RecipientDenied {
            recipient: Address([0x66; 20])
        }
    );
    restored
        .sign_transaction(&transfer(14, 0, [0x67; 20], TWO_ETH), &mut out)
        .unwrap();
    let log = restored.audit_log().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].event,
        AuditEvent::Restore {
            policy: policy.hash(),
            owners: authority::NO_OWNERS_HASH,
            threshold: 0
        }
    );
    assert!(matches!(log[1].event, AuditEvent::Refuse { .. }));
    drop(restored);

    // A backup whose policy was swapped is refused, and nothing is written.
    // The backup carries the ledger with the account file (`FLWBKUP\0`,
    // version, then each part length-prefixed): the account file is first.
    let bytes = wallet_core::wallet::base64::decode(&backup).unwrap();
    assert_eq!(&bytes[..8], b"FLWBKUP\0");
    let file_len = u32::from_be_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let swapped = rewrite_policy(
        &bytes[14..14 + file_len],
        Some(&Policy::default().to_bytes()),
        None,
    );
    let mut target = open_wallet(&tpm, &dir.state("c"));
    assert_eq!(
        target.restore(&wallet_core::wallet::base64::encode(&swapped)),
        Err(Error::Wallet(WalletError::PolicyBindingMismatch))
    );
    assert!(!account_file(&dir.state("c")).exists());
    assert!(!dir.state("c").join(AUDIT_LOG_FILE).exists());
}

#[test]
fn accounts_are_created_with_the_default_policy_unless_told_otherwise() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-default");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.create_account(AccountOptions::default()).unwrap();
    assert_eq!(wallet.policy().unwrap(), Some(&Policy::plain_wallet()));
    assert_eq!(wallet.policy_hash().unwrap(), Policy::plain_wallet().hash());
    // The policy of a wallet created without one still signs raw hashes.
    wallet.sign_typed_data_hash(&[1; 32], &[2; 32]).unwrap();
    // An unprotected (pre-EIP-155) transaction is refused by default.
    let mut s = rlp::RlpStream::new_list(6);
    s.append(&0u64);
    s.append(&1u64);
    s.append(&GAS);
    s.append(&vec![0x11u8; 20]);
    s.append(&1u64);
    s.append_empty_data();
    let mut out = [0u8; 512];
    assert_eq!(
        violation_of(wallet.sign_transaction(&s.out(), &mut out)),
        PolicyViolation::UnprotectedNotAllowed
    );
    let mut closed = wallet;
    closed.close();
    assert_eq!(closed.policy(), Err(Error::Wallet(WalletError::Closed)));
}

#[test]
fn a_wallet_without_a_loaded_account_has_no_policy() {
    let tpm = swtpm();
    let dir = TempDir::new("policy-none");
    let wallet: Wallet = open_wallet(&tpm, &dir.state("s"));
    assert_eq!(wallet.policy(), Err(Error::Wallet(WalletError::NoAccount)));
    assert_eq!(
        wallet.policy_hash(),
        Err(Error::Wallet(WalletError::NoAccount))
    );
}
