//! Owners on a real swtpm: only M distinct owner approvals change the policy
//! or the owners, an account file of the format before owners loads as
//! ownerless (signs, refuses every admin action), a writer of the state
//! directory cannot swap the owners or wind back the admin nonce, raw
//! hashes follow `allow_raw_hashes`, and the audit log chains every admin
//! action and refusal, across a rotation.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/owners.rs"]
mod owners;
#[path = "wallet_support/transports.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use support::{open_wallet, swtpm, TempDir};
use wallet_core::audit::{self, AuditError, AuditEvent};
use wallet_core::authority::{self, AdminAction, AuthorityError, OwnerSet};
use wallet_core::backup::{BoundPolicy, SealedKeyFile, MAX_FILE_LEN};
use wallet_core::policy::ledger::Clock;
use wallet_core::policy::{Eip712Domain, Policy, PolicyError, PolicyViolation};
use wallet_core::signer::{eip191_hash, recover_address};
use wallet_core::state::ACCOUNT_FILE;
use wallet_core::tx::U256;
use wallet_core::wallet::{AccountOptions, Wallet, WalletError, AUDIT_LOG_FILE};
use wallet_core::Error;

#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now_unix_seconds(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn capped(cap: u128) -> Policy {
    let mut policy = Policy::default();
    policy.set_max_value_wei(Some(U256::from_u128(cap)));
    policy
}

fn policy_request(
    wallet: &Wallet,
    policy: &Policy,
    deadline: u64,
) -> wallet_core::authority::AdminRequest {
    wallet
        .admin_request(
            AdminAction::ReplacePolicy,
            authority::replace_policy_params_hash(&policy.hash()),
            deadline,
        )
        .unwrap()
}

#[test]
fn the_policy_changes_only_with_threshold_distinct_owner_approvals() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-threshold");
    let keys = owners::owner_keys(9, 3);
    let outsider = &owners::owner_keys(10, 1)[0];
    let clock = TestClock(Arc::new(AtomicU64::new(1_900_000_000)));
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.set_clock(Box::new(clock.clone()));
    let first = capped(1);
    wallet
        .create_account(AccountOptions {
            policy: first.clone(),
            owners: Some(owners::owner_set(&keys, 2)),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let second = capped(1_000);
    let request = policy_request(&wallet, &second, 1_900_000_100);

    let refused = |wallet: &mut Wallet, approvals: Vec<[u8; 65]>| {
        let before = wallet.tpm_commands_sent();
        let result = wallet.replace_policy(second.clone(), &request, &approvals);
        assert_eq!(
            wallet.tpm_commands_sent(),
            before,
            "nothing reaches the TPM"
        );
        assert_eq!(wallet.policy().unwrap(), Some(&first));
        assert_eq!(wallet.admin_nonce().unwrap(), 0);
        result.unwrap_err()
    };
    // One owner is not two.
    assert_eq!(
        refused(&mut wallet, owners::approve(&[&keys[0]], &request)),
        Error::Authority(AuthorityError::TooFewApprovals {
            approved: 1,
            threshold: 2
        })
    );
    // The same owner twice.
    assert!(matches!(
        refused(
            &mut wallet,
            owners::approve(&[&keys[1], &keys[1]], &request)
        ),
        Error::Authority(AuthorityError::DuplicateSigner { index: 1, .. })
    ));
    // An outsider with an owner.
    assert!(matches!(
        refused(
            &mut wallet,
            owners::approve(&[&keys[0], outsider], &request)
        ),
        Error::Authority(AuthorityError::NotOwner { index: 1, .. })
    ));
    // Approvals of another policy.
    let other = policy_request(&wallet, &capped(5), 1_900_000_100);
    assert_eq!(
        wallet
            .replace_policy(
                second.clone(),
                &other,
                &owners::approve(&[&keys[0], &keys[1]], &other)
            )
            .unwrap_err(),
        Error::Authority(AuthorityError::ParamsMismatch)
    );
    // Approvals for another action.
    let wrong_action = wallet
        .admin_request(
            AdminAction::ReplaceOwners,
            authority::replace_policy_params_hash(&second.hash()),
            1_900_000_100,
        )
        .unwrap();
    assert!(matches!(
        wallet
            .replace_policy(
                second.clone(),
                &wrong_action,
                &owners::approve(&[&keys[0], &keys[1]], &wrong_action)
            )
            .unwrap_err(),
        Error::Authority(AuthorityError::WrongAction { .. })
    ));
    // Past the deadline.
    clock.0.store(1_900_000_101, Ordering::SeqCst);
    assert!(matches!(
        refused(
            &mut wallet,
            owners::approve(&[&keys[0], &keys[1]], &request)
        ),
        Error::Authority(AuthorityError::Expired { .. })
    ));
    clock.0.store(1_900_000_050, Ordering::SeqCst);

    // Two distinct owners: executed once.
    let approvals = owners::approve(&[&keys[2], &keys[0]], &request);
    assert_eq!(
        wallet
            .replace_policy(second.clone(), &request, &approvals)
            .unwrap(),
        second.hash()
    );
    assert_eq!(wallet.admin_nonce().unwrap(), 1);
    assert_eq!(
        wallet
            .replace_policy(second.clone(), &request, &approvals)
            .unwrap_err(),
        Error::Authority(AuthorityError::Replayed {
            nonce: 0,
            current: 1
        })
    );
    // A new process finds the new policy and nonce.
    drop(wallet);
    let mut reopened = open_wallet(&tpm, &dir.state("s"));
    reopened.load_account().unwrap();
    assert_eq!(reopened.policy().unwrap(), Some(&second));
    assert_eq!(reopened.admin_nonce().unwrap(), 1);
}

#[test]
fn replaced_owners_take_over_and_the_old_ones_lose_their_say() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-replace");
    let old = owners::owner_keys(20, 2);
    let new = owners::owner_keys(21, 3);
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet
        .create_account(AccountOptions {
            owners: Some(owners::owner_set(&old, 2)),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let new_set = owners::owner_set(&new, 3);
    let request = wallet
        .admin_request(
            AdminAction::ReplaceOwners,
            authority::replace_owners_params_hash(&new_set),
            u64::MAX,
        )
        .unwrap();
    let approvals = owners::approve(&[&old[0], &old[1]], &request);
    assert_eq!(
        wallet
            .replace_owners(new_set.clone(), &request, &approvals)
            .unwrap(),
        new_set.hash()
    );
    assert_eq!(wallet.owners().unwrap(), Some(&new_set));

    let policy = capped(7);
    let request = policy_request(&wallet, &policy, u64::MAX);
    assert!(matches!(
        wallet
            .replace_policy(
                policy.clone(),
                &request,
                &owners::approve(&[&old[0], &old[1]], &request)
            )
            .unwrap_err(),
        Error::Authority(AuthorityError::NotOwner { index: 0, .. })
    ));
    wallet
        .replace_policy(
            policy.clone(),
            &request,
            &owners::approve(&[&new[2], &new[0], &new[1]], &request),
        )
        .unwrap();
    assert_eq!(wallet.policy().unwrap(), Some(&policy));
    let events: Vec<AuditEvent> = wallet
        .audit_log()
        .unwrap()
        .iter()
        .map(|e| e.event)
        .collect();
    assert!(matches!(
        events[1],
        AuditEvent::ReplaceOwners { nonce: 0, .. }
    ));
    assert!(matches!(
        events[2],
        AuditEvent::ReplacePolicy { nonce: 1, .. }
    ));
}

/// Rewrites the account file's owner section (what a writer of the state
/// directory can do without the key), fixing the integrity check.
fn rewrite_owner_section(bytes: &[u8], owners: &[u8], nonce: u64) -> Vec<u8> {
    let view = SealedKeyFile::parse(bytes).unwrap();
    let section = wallet_core::backup::OwnerSection {
        owners,
        admin_nonce: nonce,
    };
    let mut out = vec![0u8; MAX_FILE_LEN];
    let n = view
        .contents()
        .encode_with_sections(
            view.bound_policy(),
            Some(section),
            view.tpm_identity(),
            &mut out,
        )
        .unwrap();
    out.truncate(n);
    out
}

#[test]
fn swapped_owners_or_a_rewound_admin_nonce_are_refused() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-tamper");
    let state = dir.state("s");
    let keys = owners::owner_keys(30, 2);
    let mut wallet = open_wallet(&tpm, &state);
    wallet
        .create_account(AccountOptions {
            owners: Some(owners::owner_set(&keys, 2)),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let policy = capped(3);
    let request = policy_request(&wallet, &policy, u64::MAX);
    wallet
        .replace_policy(
            policy,
            &request,
            &owners::approve(&[&keys[0], &keys[1]], &request),
        )
        .unwrap();
    drop(wallet);
    let good = std::fs::read(state.join(ACCOUNT_FILE)).unwrap();
    // Version 3: the owner section and the TPM identity section.
    assert_eq!(SealedKeyFile::parse(&good).unwrap().version(), 3);

    let attacker = owners::owner_set(&owners::owner_keys(31, 1), 1);
    let mut attacker_encoding = [0u8; OwnerSet::MAX_ENCODED_LEN];
    let len = attacker.encode(&mut attacker_encoding).unwrap();
    let mut own_encoding = [0u8; OwnerSet::MAX_ENCODED_LEN];
    let own_len = owners::owner_set(&keys, 2)
        .encode(&mut own_encoding)
        .unwrap();
    for tampered in [
        rewrite_owner_section(&good, &attacker_encoding[..len], 1),
        rewrite_owner_section(&good, &own_encoding[..own_len], 0),
    ] {
        std::fs::write(state.join(ACCOUNT_FILE), &tampered).unwrap();
        let mut wallet = open_wallet(&tpm, &state);
        assert_eq!(
            wallet.load_account(),
            Err(Error::Wallet(WalletError::PolicyBindingMismatch))
        );
    }
}

/// The v1 policy encoding of `policy`: the v2 encoding without its last
/// byte (`allow_raw_hashes`) and with version 1, as builds before owners
/// wrote it.
fn v1_encoding(policy: &Policy) -> Vec<u8> {
    let mut bytes = policy.to_bytes().to_vec();
    bytes.pop();
    bytes[8..10].copy_from_slice(&1u16.to_be_bytes());
    bytes
}

/// The binding tag builds before owners wrote: HMAC-SHA-256 keyed with
/// HMAC-SHA-256(key, "flare-wallet/policy-binding/v1"), over the address
/// and the policy encoding. Computed here with the hmac crate.
fn v1_tag(key: &[u8; 32], address: &[u8; 20], encoding: &[u8]) -> [u8; 32] {
    let mut derive = Hmac::<Sha256>::new_from_slice(key).unwrap();
    derive.update(b"flare-wallet/policy-binding/v1");
    let binding_key = derive.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&binding_key).unwrap();
    mac.update(address);
    mac.update(encoding);
    mac.finalize().into_bytes().into()
}

#[test]
fn an_account_file_from_before_owners_loads_signs_and_refuses_every_admin_action() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-old-format");
    let state = dir.state("s");
    let key_bytes = [0x5a; 32];
    let mut policy = capped(1_000_000);
    policy.set_typed_data_domains(None).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    let address = wallet
        .import_key(
            &key_bytes,
            AccountOptions {
                policy: policy.clone(),
                key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
                ..AccountOptions::default()
            },
        )
        .unwrap();
    drop(wallet);
    // The same account as the previous format writes it: version 1
    // container, version 1 policy encoding, version 1 tag.
    let current = std::fs::read(state.join(ACCOUNT_FILE)).unwrap();
    let view = SealedKeyFile::parse(&current).unwrap();
    assert_eq!(view.version(), 3, "a new account is bound to its TPM's EK");
    let encoding = v1_encoding(&policy);
    let tag = v1_tag(&key_bytes, &address.0, &encoding);
    let mut old = vec![0u8; MAX_FILE_LEN];
    let n = view
        .contents()
        .encode_with_policy(
            Some(BoundPolicy {
                encoding: &encoding,
                tag: &tag,
            }),
            &mut old,
        )
        .unwrap();
    old.truncate(n);
    assert_eq!(&old[8..10], &1u16.to_be_bytes());
    std::fs::write(state.join(ACCOUNT_FILE), &old).unwrap();

    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
    assert_eq!(wallet.owners().unwrap(), None);
    // Loading gave it its anti-rollback counter (the one the TPM holds for
    // this key, the ledger being at its value): the file records it now.
    let loaded = std::fs::read(state.join(ACCOUNT_FILE)).unwrap();
    let section = SealedKeyFile::parse(&loaded).unwrap().key_lock().unwrap();
    assert_eq!(section.mode, wallet_core::backup::KEY_LOCK_NONE);
    assert_eq!(
        section.nv_counter_index,
        view.key_lock().unwrap().nv_counter_index
    );
    // The rules it had: the cap, and raw hashes as the old rule allowed
    // them (no typed_data_domains).
    assert_eq!(
        wallet.policy().unwrap().unwrap().max_value_wei(),
        Some(U256::from_u128(1_000_000))
    );
    let signature = wallet.sign_message(b"still signs").unwrap();
    assert_eq!(
        recover_address(&eip191_hash(b"still signs"), &signature).unwrap(),
        address
    );
    wallet.sign_typed_data_hash(&[1; 32], &[2; 32]).unwrap();
    for action in AdminAction::ALL {
        assert_eq!(
            wallet.admin_request(action, [0; 32], u64::MAX),
            Err(Error::Authority(AuthorityError::Ownerless))
        );
    }
    let forged = wallet_core::authority::AdminRequest {
        wallet: address,
        action: AdminAction::ReplacePolicy,
        params_hash: authority::replace_policy_params_hash(&Policy::default().hash()),
        nonce: 0,
        deadline: u64::MAX,
    };
    let anyone = owners::owner_keys(40, 1);
    let approvals = owners::approve(&[&anyone[0]], &forged);
    assert_eq!(
        wallet.replace_policy(Policy::default(), &forged, &approvals),
        Err(Error::Authority(AuthorityError::Ownerless))
    );
    assert_eq!(
        wallet.export_keystore_params_hash(
            b"password",
            wallet_core::keystore::KdfParams::SCRYPT_DEFAULT
        ),
        Err(Error::Authority(AuthorityError::Ownerless))
    );
    // The file was not rewritten.
    assert_eq!(std::fs::read(state.join(ACCOUNT_FILE)).unwrap(), loaded);
}

#[test]
fn raw_hashes_are_signed_only_when_the_policy_allows_them() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-raw");
    let mut plain = open_wallet(&tpm, &dir.state("plain"));
    plain.create_account(AccountOptions::default()).unwrap();
    plain.sign_typed_data_hash(&[3; 32], &[4; 32]).unwrap();
    // swtpm serves one client at a time.
    drop(plain);

    let mut stated = open_wallet(&tpm, &dir.state("stated"));
    stated
        .create_account(AccountOptions {
            policy: Policy::from_json("{\"chain_ids\": [14]}").unwrap(),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let before = stated.tpm_commands_sent();
    assert_eq!(
        stated.sign_typed_data_hash(&[3; 32], &[4; 32]),
        Err(Error::Policy(PolicyError::Violation(
            PolicyViolation::RawHashNotAllowed
        )))
    );
    assert_eq!(stated.tpm_commands_sent(), before);
    assert!(PolicyViolation::RawHashNotAllowed
        .to_string()
        .contains("allow_raw_hashes"));
    // Typed data with its domain is still checked and signed.
    let domain = Eip712Domain {
        chain_id: Some(U256::from_u128(14)),
        ..Eip712Domain::default()
    };
    stated.sign_typed_data(&domain, &[4; 32]).unwrap();
    drop(stated);

    let mut allowed = open_wallet(&tpm, &dir.state("allowed"));
    allowed
        .create_account(AccountOptions {
            policy: Policy::from_json("{\"allow_raw_hashes\": true}").unwrap(),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    allowed.sign_typed_data_hash(&[3; 32], &[4; 32]).unwrap();
}

#[test]
fn the_audit_log_chains_refusals_and_admin_actions_and_shows_any_edit() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-audit");
    let state = dir.state("s");
    let keys = owners::owner_keys(50, 1);
    let mut wallet = open_wallet(&tpm, &state);
    wallet
        .create_account(AccountOptions {
            policy: Policy::from_json("{\"allow_messages\": false}").unwrap(),
            owners: Some(owners::owner_set(&keys, 1)),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    for _ in 0..3 {
        wallet.sign_message(b"refused").unwrap_err();
    }
    let policy = capped(9);
    let request = policy_request(&wallet, &policy, u64::MAX);
    wallet
        .replace_policy(policy, &request, &owners::approve(&[&keys[0]], &request))
        .unwrap();
    let head = wallet.audit_head().unwrap();
    let log = std::fs::read(state.join(AUDIT_LOG_FILE)).unwrap();
    let entries = audit::verify_audit_log(&log, &head).unwrap();
    assert_eq!(entries.len(), 5);
    // The head is in the evidence.
    let evidence = wallet.attest(b"audit nonce", 14).unwrap();
    assert_eq!(evidence.account.audit_head, head);

    let text = String::from_utf8(log.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let join = |lines: &[&str]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    // One field edited.
    let edited = text.replacen("rule=allow_messages", "rule=chain_ids", 1);
    assert_eq!(
        audit::verify_audit_log(edited.as_bytes(), &head),
        Err(AuditError::EntryHashMismatch { line: 2 })
    );
    // One entry removed from the middle, from the start, from the end.
    let mut removed = lines.clone();
    removed.remove(2);
    assert_eq!(
        audit::verify_audit_log(join(&removed).as_bytes(), &head),
        Err(AuditError::ChainBroken { line: 3 })
    );
    assert_eq!(
        audit::verify_audit_log(join(&lines[1..]).as_bytes(), &head),
        Err(AuditError::MissingStart)
    );
    assert_eq!(
        audit::verify_audit_log(join(&lines[..4]).as_bytes(), &head),
        Err(AuditError::HeadMismatch)
    );
    // Two entries swapped.
    let mut reordered = lines.clone();
    reordered.swap(1, 2);
    assert!(matches!(
        audit::verify_audit_log(join(&reordered).as_bytes(), &head),
        Err(AuditError::ChainBroken { .. } | AuditError::EntryHashMismatch { .. })
    ));
    // A head taken from earlier evidence is an entry of the later log.
    assert!(entries
        .iter()
        .any(|e| e.hash == evidence.account.audit_head));
}

#[test]
fn the_audit_log_rotates_without_breaking_its_chain() {
    let tpm = swtpm();
    let dir = TempDir::new("owners-rotate");
    let state = dir.state("s");
    let mut wallet = open_wallet(&tpm, &state);
    // The smallest rotation size, so the log rotates after a few dozen
    // refusals rather than the default's 1,500.
    wallet.set_audit_log_limit(0);
    wallet
        .create_account(AccountOptions {
            policy: Policy::from_json("{\"allow_messages\": false}").unwrap(),
            key_lock: Some(wallet_core::seal::KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let rotated = state.join(format!("{AUDIT_LOG_FILE}{}", audit::ROTATED_SUFFIX));
    let mut refusals = 0;
    while !rotated.exists() {
        wallet.sign_message(b"refused").unwrap_err();
        refusals += 1;
        assert!(refusals < 1_000, "the log never rotated");
    }
    // A few more after the rotation.
    for _ in 0..3 {
        wallet.sign_message(b"refused").unwrap_err();
    }
    let head = wallet.audit_head().unwrap();
    let current = std::fs::read(state.join(AUDIT_LOG_FILE)).unwrap();
    let older = std::fs::read(&rotated).unwrap();
    assert!(current.len() <= audit::MIN_LOG_LEN && older.len() <= audit::MIN_LOG_LEN);
    assert!(refusals > 10, "rotated after {refusals} refusals");
    let recent = audit::verify_audit_log(&current, &head).unwrap();
    assert_eq!(recent[0].event, AuditEvent::Rotate);
    let mut whole = older.clone();
    whole.extend_from_slice(&current);
    let all = audit::verify_audit_log(&whole, &head).unwrap();
    assert_eq!(all.len(), refusals + 3 + 2);
    assert_eq!(all[0].seq, 0);
    // The current file without the rotated one's last entry does not chain.
    let mut cut = older[..older.len() - 1].to_vec();
    let last_newline = cut.iter().rposition(|&b| b == b'\n').unwrap();
    cut.truncate(last_newline + 1);
    cut.extend_from_slice(&current);
    assert!(audit::verify_audit_log(&cut, &head).is_err());
}
