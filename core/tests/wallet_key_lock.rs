//! Key locks through the wallet: a PIN-locked account loads only with its
//! PIN (wrong PINs are counted by the TPM), a boot-once account loads once
//! per boot and keeps its key cached, and the account file carries the lock
//! in its version 3 key-lock section, bound to the key.
#![allow(clippy::unwrap_used)]

#[path = "wallet_support/owners.rs"]
mod owners;
#[path = "wallet_support/transports.rs"]
mod support;

use support::{open_wallet, swtpm, TempDir};
use wallet_core::authority::{self, AdminAction};
use wallet_core::backup::{self, SealedKeyFile};
use wallet_core::policy::Policy;
use wallet_core::seal::{KeyLock, PinAuth, SealError};
use wallet_core::signer::{eip191_hash, recover_address};
use wallet_core::state::ACCOUNT_FILE as SEALED_KEY_FILE;
use wallet_core::tpm::PcrSelection;
use wallet_core::tx::U256;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet, WalletError};
use wallet_core::Error;

fn pin(text: &str) -> PinAuth {
    PinAuth::from_pin(text.as_bytes()).unwrap()
}

fn signs(wallet: &mut Wallet) {
    let address = wallet.address().unwrap();
    let sig = wallet.sign_message(b"key lock").unwrap();
    assert_eq!(
        recover_address(&eip191_hash(b"key lock"), &sig).unwrap(),
        address
    );
}

#[test]
fn a_pin_locked_account_loads_only_with_its_pin() {
    let tpm = swtpm();
    let dir = TempDir::new("pin");
    let state = dir.state("state");
    let mut wallet = open_wallet(&tpm, &state);
    let address = wallet
        .create_account(AccountOptions {
            key_lock: Some(KeyLock::PIN),
            pin: Some(pin("271828")),
            ..AccountOptions::default()
        })
        .unwrap();
    signs(&mut wallet);
    assert_eq!(wallet.key_lock().unwrap(), KeyLock::PIN);
    let limits = wallet.dictionary_attack_state().unwrap();
    assert!(limits.max_tries > 0);
    drop(wallet);

    let bytes = std::fs::read(state.join(SEALED_KEY_FILE)).unwrap();
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert_eq!(view.version(), backup::VERSION_3);
    let section = view.key_lock().unwrap();
    assert_eq!(section.mode, backup::KEY_LOCK_PIN);

    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(
        wallet.load_account(),
        Err(Error::Seal(SealError::PinRequired))
    );
    wallet.set_pin(Some(pin("314159")));
    assert!(matches!(
        wallet.load_account(),
        Err(Error::Seal(SealError::WrongPin { failures: 1, .. }))
    ));
    wallet.set_pin(Some(pin("271828")));
    assert_eq!(wallet.load_account().unwrap(), address);
    // Strict mode: each signature unseals with the PIN.
    assert_eq!(wallet.key_mode(), KeyMode::Strict);
    signs(&mut wallet);
    signs(&mut wallet);
}

#[test]
fn a_boot_once_account_loads_once_per_boot() {
    let mut tpm = swtpm();
    let dir = TempDir::new("boot-once");
    let state = dir.state("state");
    let lock = KeyLock {
        pcrs: Some(PcrSelection::from_indices(&[16]).unwrap()),
        ..KeyLock::BOOT_ONCE
    };
    let mut wallet = open_wallet(&tpm, &state);
    let address = wallet
        .create_account(AccountOptions {
            key_lock: Some(lock),
            ..AccountOptions::default()
        })
        .unwrap();
    // The key stays cached: strict mode cannot unseal it again this boot.
    wallet.set_key_mode(KeyMode::Strict);
    signs(&mut wallet);
    signs(&mut wallet);
    drop(wallet);

    let bytes = std::fs::read(state.join(SEALED_KEY_FILE)).unwrap();
    let view = SealedKeyFile::parse(&bytes).unwrap();
    let section = view.key_lock().unwrap();
    assert_eq!(
        section.mode,
        backup::KEY_LOCK_BOOT_ONCE | backup::KEY_LOCK_PCRS
    );
    assert_eq!(section.boot_once_pcr, KeyLock::DEFAULT_BOOT_ONCE_PCR);
    assert!(view.pcr_policy().is_some());

    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(
        wallet.load_account(),
        Err(Error::Seal(SealError::PcrMismatch))
    );
    drop(wallet);

    tpm.restart().unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
    assert_eq!(wallet.key_lock().unwrap(), lock);
    signs(&mut wallet);
}

#[test]
fn the_key_lock_section_is_bound_to_the_key() {
    let tpm = swtpm();
    let dir = TempDir::new("lock-bound");
    let state = dir.state("state");
    let mut wallet = open_wallet(&tpm, &state);
    wallet
        .create_account(AccountOptions {
            key_lock: Some(KeyLock::PIN),
            pin: Some(pin("1111")),
            ..AccountOptions::default()
        })
        .unwrap();
    drop(wallet);

    // Rewrite the section's counter field (and the integrity check): the
    // binding tag no longer verifies, so the file is refused after unsealing.
    let path = state.join(SEALED_KEY_FILE);
    let bytes = std::fs::read(&path).unwrap();
    let view = SealedKeyFile::parse(&bytes).unwrap();
    let contents = view.contents();
    let mut section = view.key_lock().unwrap();
    section.counter = 7;
    let bound = view.bound_policy();
    let owners = view.owner_section();
    let mut out = vec![0u8; backup::MAX_FILE_LEN];
    let len = contents
        .encode_with_key_lock(bound, owners, Some(section), &mut out)
        .unwrap();
    std::fs::write(&path, &out[..len]).unwrap();

    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_pin(Some(pin("1111")));
    assert_eq!(
        wallet.load_account(),
        Err(Error::Wallet(WalletError::PolicyBindingMismatch))
    );
}

/// Creates a PIN-locked account with `policy` and the owners `keys`, of
/// whom `threshold` must approve.
fn create_pin_account_with_owners(
    wallet: &mut Wallet,
    policy: Policy,
    keys: &[wallet_core::signer::SecretKey],
    threshold: u8,
    code: &str,
) -> wallet_core::signer::Address {
    create_account_with_owners(wallet, KeyLock::PIN, policy, keys, threshold, code)
}

/// An account with `lock` (and the PIN `code` when the lock has one).
fn create_account_with_owners(
    wallet: &mut Wallet,
    lock: KeyLock,
    policy: Policy,
    keys: &[wallet_core::signer::SecretKey],
    threshold: u8,
    code: &str,
) -> wallet_core::signer::Address {
    wallet
        .create_account(AccountOptions {
            policy,
            owners: Some(owners::owner_set(keys, threshold)),
            key_lock: Some(lock),
            pin: lock.pin.then(|| pin(code)),
            ..AccountOptions::default()
        })
        .unwrap()
}

/// The key locks whose rollback protection is tested: every account has a
/// counter, including one without a lock.
const ROLLBACK_LOCKS: [(&str, KeyLock); 2] = [("pin", KeyLock::PIN), ("none", KeyLock::UNLOCKED)];

fn capped(cap: u128) -> Policy {
    let mut policy = Policy::default();
    policy.set_max_value_wei(Some(U256::from_u128(cap)));
    policy
}

#[test]
fn an_older_account_file_policy_or_admin_nonce_is_refused_as_rolled_back() {
    let tpm = swtpm();
    for (name, lock) in ROLLBACK_LOCKS {
        older_account_file_refused(&tpm, name, lock);
    }
}

fn older_account_file_refused(tpm: &wallet_core::tpm::simulator::Swtpm, name: &str, lock: KeyLock) {
    let dir = TempDir::new(&format!("rollback-{name}"));
    let state = dir.state("state");
    let keys = owners::owner_keys(21, 2);
    let mut wallet = open_wallet(tpm, &state);
    let address = create_account_with_owners(&mut wallet, lock, capped(1), &keys, 2, "5555");
    let path = state.join(SEALED_KEY_FILE);
    let first = std::fs::read(&path).unwrap();
    let section = SealedKeyFile::parse(&first).unwrap().key_lock().unwrap();
    // A `none` account's section carries its counter alone.
    let mode = if lock.pin {
        backup::KEY_LOCK_PIN
    } else {
        backup::KEY_LOCK_NONE
    };
    assert_eq!(section.mode, mode, "{name}");
    assert_ne!(section.nv_counter_index, 0, "{name}");
    let created_at = section.counter;

    // An owner-approved policy change: new policy, admin nonce 1, counter + 1.
    let second = capped(1_000);
    let deadline = u64::MAX;
    let request = wallet
        .admin_request(
            AdminAction::ReplacePolicy,
            authority::replace_policy_params_hash(&second.hash()),
            deadline,
        )
        .unwrap();
    let approvals = owners::approve(&[&keys[0], &keys[1]], &request);
    wallet
        .replace_policy(second.clone(), &request, &approvals)
        .unwrap();
    assert_eq!(wallet.admin_nonce().unwrap(), 1);
    drop(wallet);
    let changed = std::fs::read(&path).unwrap();
    let section = SealedKeyFile::parse(&changed).unwrap().key_lock().unwrap();
    assert_eq!(section.counter, created_at + 1);

    // The current file loads.
    let mut wallet = open_wallet(tpm, &state);
    wallet.set_pin(Some(pin("5555")));
    assert_eq!(wallet.load_account().unwrap(), address);
    assert_eq!(wallet.policy().unwrap(), Some(&second));
    drop(wallet);

    // The older copy (older policy, admin nonce 0) is refused, and nothing is
    // signed with it.
    std::fs::write(&path, &first).unwrap();
    let mut wallet = open_wallet(tpm, &state);
    wallet.set_pin(Some(pin("5555")));
    let error = wallet.load_account().unwrap_err();
    assert_eq!(
        error,
        Error::Wallet(WalletError::RolledBack {
            file: created_at,
            counter: created_at + 1
        })
    );
    assert!(error.to_string().contains("rolled back"), "{error}");
    assert_eq!(
        wallet.sign_message(b"x").unwrap_err(),
        Error::Wallet(WalletError::NoAccount)
    );
    drop(wallet);

    // Restoring the older copy into a fresh directory is refused the same way.
    let fresh = dir.state("fresh");
    let mut wallet = open_wallet(tpm, &fresh);
    wallet.set_pin(Some(pin("5555")));
    let backup = wallet_core::wallet::base64::encode(&first);
    assert!(matches!(
        wallet.restore(&backup),
        Err(Error::Wallet(WalletError::RolledBack { .. }))
    ));
    assert!(!fresh.join(SEALED_KEY_FILE).exists());
    drop(wallet);

    // The current copy restores.
    let mut wallet = open_wallet(tpm, &dir.state("fresh2"));
    wallet.set_pin(Some(pin("5555")));
    let backup = wallet_core::wallet::base64::encode(&changed);
    assert_eq!(wallet.restore(&backup).unwrap(), address);
}

/// TPM commands of one strict-mode signature of `wallet`, after a first
/// signature made its SRK persistent and proved it resident.
fn commands_per_strict_signature(wallet: &mut Wallet) -> u64 {
    signs(wallet);
    let before = wallet.tpm_commands_sent();
    signs(wallet);
    wallet.tpm_commands_sent() - before
}

#[test]
fn a_strict_signature_costs_four_tpm_commands_and_one_per_policy_part() {
    let tpm = swtpm();
    let dir = TempDir::new("strict-count");
    let cases = [
        // StartAuthSession (salted to the persistent SRK), Load, Unseal,
        // FlushContext of the object.
        ("none", KeyLock::UNLOCKED, None, 4),
        // The same and PolicyAuthValue.
        ("pin", KeyLock::PIN, Some("1618"), 5),
        // The same and PolicyPCR.
        (
            "pcr",
            KeyLock {
                pcrs: Some(PcrSelection::from_indices(&[16]).unwrap()),
                ..KeyLock::UNLOCKED
            },
            None,
            5,
        ),
        // Both.
        (
            "pin+pcr",
            KeyLock {
                pin: true,
                pcrs: Some(PcrSelection::from_indices(&[16]).unwrap()),
                boot_once_pcr: None,
            },
            Some("1618"),
            6,
        ),
    ];
    for (name, key_lock, code, expected) in cases {
        let state = dir.state(name);
        let mut wallet = open_wallet(&tpm, &state);
        wallet
            .create_account(AccountOptions {
                key_lock: Some(key_lock),
                pin: code.map(pin),
                ..AccountOptions::default()
            })
            .unwrap();
        assert_eq!(
            commands_per_strict_signature(&mut wallet),
            expected,
            "{name}, new account"
        );
        drop(wallet);
        // Loading the account proves the SRK resident: the first signature
        // is already the short one.
        let mut wallet = open_wallet(&tpm, &state);
        wallet.set_pin(code.map(pin));
        wallet.load_account().unwrap();
        let before = wallet.tpm_commands_sent();
        signs(&mut wallet);
        assert_eq!(
            wallet.tpm_commands_sent() - before,
            expected,
            "{name}, loaded account"
        );
        // The evidence reports the lock.
        let evidence = wallet.attest(b"key lock", 1).unwrap();
        assert_eq!(evidence.account.key_lock.name(), name);
    }
}

#[test]
fn a_strict_signature_survives_an_evicted_or_substituted_srk() {
    use wallet_core::seal::PERSISTENT_SRK_HANDLE;
    use wallet_core::tpm::{template, transport, Tpm};

    let tpm = swtpm();
    let dir = TempDir::new("strict-stale");
    let mut wallet = open_wallet(&tpm, &dir.state("s"));
    wallet.create_account(AccountOptions::default()).unwrap();
    assert_eq!(commands_per_strict_signature(&mut wallet), 4);
    let raw = || Tpm::new(transport::open(&tpm.tcti()).unwrap()).unwrap();

    // Another client evicts the persistent SRK: the next signature makes it
    // persistent again and proves it resident.
    raw()
        .evict_control(PERSISTENT_SRK_HANDLE, PERSISTENT_SRK_HANDLE)
        .unwrap();
    let before = wallet.tpm_commands_sent();
    signs(&mut wallet);
    assert!(
        wallet.tpm_commands_sent() - before > 4,
        "made resident again"
    );
    assert!(raw().read_public(PERSISTENT_SRK_HANDLE).is_ok());
    assert_eq!(commands_per_strict_signature(&mut wallet), 4);

    // Another key at the SRK's handle: the session salted to the recorded
    // SRK point gives the TPM a salt it cannot use and the sealed object does
    // not load under that key, so nothing is unsealed through it; the wallet
    // sees the Name differ and unseals under an SRK of its own for each
    // signature, by the account's key.
    {
        let mut other = raw();
        other
            .evict_control(PERSISTENT_SRK_HANDLE, PERSISTENT_SRK_HANDLE)
            .unwrap();
        let foreign = other
            .create_primary(tpm2_protocol::data::TpmRh::Owner, &template::ek_ecc_p256())
            .unwrap();
        other
            .evict_control(foreign.handle, PERSISTENT_SRK_HANDLE)
            .unwrap();
        other.flush_context(foreign.handle).unwrap();
    }
    signs(&mut wallet);
    let per_signature = commands_per_strict_signature(&mut wallet);
    assert!(per_signature > 4, "{per_signature} commands");
    let (name, _) = raw().read_public(PERSISTENT_SRK_HANDLE).unwrap();
    assert_ne!(&name, wallet.srk_name(), "the foreign key stays");
}

/// What one `eip1559_payload` spends: value plus gas limit times max fee.
const SPEND: u128 = 1_000_000_000_000_000 + 21_000 * 30_000_000_000;

fn limited(spends: u128) -> Policy {
    let mut policy = Policy::default();
    policy.set_daily_limit_wei(Some(U256::from_u128(spends * SPEND + SPEND / 2)));
    policy
}

fn sign_tx(wallet: &mut Wallet, nonce: u64) -> Result<usize, Error> {
    let mut out = [0u8; 512];
    wallet.sign_transaction(&support::eip1559_payload(nonce), &mut out)
}

/// Writes a state file as the wallet would (owner-only).
fn put(path: &std::path::Path, bytes: impl AsRef<[u8]>) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn reopen(tpm: &wallet_core::tpm::simulator::Swtpm, state: &std::path::Path) -> Wallet {
    let mut wallet = open_wallet(tpm, state);
    wallet.set_pin(Some(pin("2468")));
    wallet
}

#[test]
fn an_older_deleted_or_unbound_spend_ledger_is_refused_as_rolled_back() {
    let tpm = swtpm();
    for (name, lock) in ROLLBACK_LOCKS {
        older_ledger_refused(&tpm, name, lock);
    }
}

fn older_ledger_refused(tpm: &wallet_core::tpm::simulator::Swtpm, name: &str, lock: KeyLock) {
    use wallet_core::policy::ledger::SpendLedger;
    use wallet_core::state::SPEND_LEDGER_FILE;

    let dir = TempDir::new(&format!("ledger-rollback-{name}"));
    let state = dir.state("state");
    let keys = owners::owner_keys(31, 1);
    let mut wallet = open_wallet(tpm, &state);
    // Cached: a signature sends only what the bound ledger costs.
    wallet.set_key_mode(KeyMode::Cached);
    let address = create_account_with_owners(&mut wallet, lock, limited(3), &keys, 1, "2468");
    let ledger_path = state.join(SPEND_LEDGER_FILE);
    let account_path = state.join(SEALED_KEY_FILE);
    // The ledger exists from creation on, bound (version 3).
    let empty = std::fs::read(&ledger_path).unwrap();
    assert!(SpendLedger::decode(&empty, &address).is_err());
    // The reserve reads the counter and increments it (StartAuthSession and
    // NV_Read, StartAuthSession and NV_Increment), the commit reads it.
    let before = wallet.tpm_commands_sent();
    sign_tx(&mut wallet, 0).unwrap();
    assert_eq!(wallet.tpm_commands_sent() - before, 6);
    let after_one = std::fs::read(&ledger_path).unwrap();
    sign_tx(&mut wallet, 1).unwrap();
    let after_two = std::fs::read(&ledger_path).unwrap();
    let backup_now = wallet.backup().unwrap();
    drop(wallet);
    let inspected = SpendLedger::inspect(&after_two, &address).unwrap();
    assert_eq!(inspected.entries().len(), 2);

    // Each older copy of the ledger is refused, at load and nothing signs.
    for (older, written) in [(&empty, 0u64), (&after_one, 1)] {
        put(&ledger_path, older);
        let mut wallet = reopen(tpm, &state);
        let error = wallet.load_account().unwrap_err();
        assert!(
            matches!(error, Error::Wallet(WalletError::LedgerRolledBack { .. })),
            "{name} copy {written}: {error:?}"
        );
        assert!(error.to_string().contains("rolled back"), "{error}");
        assert_eq!(
            sign_tx(&mut wallet, 9).unwrap_err(),
            Error::Wallet(WalletError::NoAccount)
        );
    }

    // Deleted: refused as rolled back.
    std::fs::remove_file(&ledger_path).unwrap();
    let mut wallet = reopen(tpm, &state);
    let error = wallet.load_account().unwrap_err();
    assert!(
        matches!(error, Error::Wallet(WalletError::LedgerDeleted { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("rolled back"), "{error}");
    drop(wallet);

    // An unbound (version 2) ledger with the same entries, or one byte
    // changed: refused.
    let unbound = inspected.clone();
    put(&ledger_path, unbound.encode());
    let mut wallet = reopen(tpm, &state);
    assert_eq!(
        wallet.load_account().unwrap_err(),
        Error::Wallet(WalletError::LedgerUnbound)
    );
    drop(wallet);
    let mut flipped = after_two.clone();
    flipped[60] ^= 1;
    put(&ledger_path, &flipped);
    let mut wallet = reopen(tpm, &state);
    assert_eq!(
        wallet.load_account().unwrap_err(),
        Error::Wallet(WalletError::LedgerUnbound)
    );
    drop(wallet);

    // The current ledger loads, and exactly one more spend fits.
    put(&ledger_path, &after_two);
    let mut wallet = reopen(tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
    sign_tx(&mut wallet, 2).unwrap();
    let after_three = std::fs::read(&ledger_path).unwrap();
    assert!(matches!(
        sign_tx(&mut wallet, 3),
        Err(Error::Policy(wallet_core::policy::PolicyError::Violation(
            _
        )))
    ));

    // Copied back under a loaded wallet: the next signature is refused too.
    put(&ledger_path, &after_one);
    assert!(matches!(
        sign_tx(&mut wallet, 4),
        Err(Error::Wallet(WalletError::LedgerRolledBack { .. }))
    ));
    put(&ledger_path, &after_three);
    let backup_current = wallet.backup().unwrap();
    drop(wallet);

    // A backup taken before the third spend no longer restores: the
    // counter shows a newer spend. The current one restores with its
    // spends, so the limit still holds in the new directory.
    let fresh = dir.state("fresh");
    let mut wallet = reopen(tpm, &fresh);
    assert!(matches!(
        wallet.restore(&backup_now),
        Err(Error::Wallet(WalletError::LedgerRolledBack { .. }))
    ));
    assert!(!fresh.join(SEALED_KEY_FILE).exists());
    assert_eq!(wallet.restore(&backup_current).unwrap(), address);
    assert_eq!(
        wallet.daily_spent(Some(14)).unwrap(),
        U256::from_u128(3 * SPEND)
    );
    assert!(matches!(
        sign_tx(&mut wallet, 5),
        Err(Error::Policy(wallet_core::policy::PolicyError::Violation(
            _
        )))
    ));
    drop(wallet);
    assert!(account_path.exists());
}

#[test]
fn an_account_with_a_policy_or_owners_names_its_key_lock() {
    let tpm = swtpm();
    let dir = TempDir::new("named-lock");
    let keys = owners::owner_keys(31, 2);
    let unnamed = [
        ("policy", capped(1), None),
        (
            "owners",
            Policy::plain_wallet(),
            Some(owners::owner_set(&keys, 1)),
        ),
    ];
    for (name, policy, owner_set) in unnamed {
        let state = dir.state(name);
        let mut wallet = open_wallet(&tpm, &state);
        let refused = wallet
            .create_account(AccountOptions {
                policy: policy.clone(),
                owners: owner_set.clone(),
                ..AccountOptions::default()
            })
            .unwrap_err();
        assert_eq!(refused, Error::Wallet(WalletError::KeyLockNotChosen));
        let message = refused.to_string();
        for choice in ["pin", "pcr", "boot-once", "none"] {
            assert!(message.contains(choice), "{message}");
        }
        assert!(
            message.contains("any local process with TPM access and the account file can unseal"),
            "{message}"
        );
        assert_eq!(
            wallet.import_key(
                &[9; 32],
                AccountOptions {
                    policy: policy.clone(),
                    owners: owner_set.clone(),
                    ..AccountOptions::default()
                }
            ),
            Err(Error::Wallet(WalletError::KeyLockNotChosen))
        );
        assert!(!state.join(SEALED_KEY_FILE).exists(), "{name}");

        // The named choice "none" creates the account, and its evidence says so.
        wallet
            .create_account(AccountOptions {
                policy,
                owners: owner_set,
                key_lock: Some(KeyLock::UNLOCKED),
                ..AccountOptions::default()
            })
            .unwrap();
        signs(&mut wallet);
        let evidence = wallet.attest(b"named none", 1).unwrap();
        assert_eq!(evidence.account.key_lock.name(), "none");
        assert_eq!(
            evidence.account.key_lock,
            wallet_core::attest::KeyLockFacts::NONE
        );
    }

    // A plain wallet (no policy, no owners) still defaults to none.
    let mut wallet = open_wallet(&tpm, &dir.state("plain"));
    wallet.create_account(AccountOptions::default()).unwrap();
    assert_eq!(wallet.key_lock().unwrap(), KeyLock::UNLOCKED);
}

#[test]
fn owners_change_the_pin_and_the_old_pin_and_file_stop_working() {
    let tpm = swtpm();
    let dir = TempDir::new("change-pin");
    let state = dir.state("state");
    let keys = owners::owner_keys(41, 3);
    let mut wallet = open_wallet(&tpm, &state);
    let address = create_pin_account_with_owners(&mut wallet, capped(1), &keys, 2, "1111");
    let path = state.join(SEALED_KEY_FILE);
    let old_file = std::fs::read(&path).unwrap();
    let params = wallet.change_pin_params_hash().unwrap();
    // The params hash is the lock's public descriptor: no PIN in it.
    assert_eq!(
        params,
        authority::change_pin_params_hash(backup::KEY_LOCK_PIN, 0, 0)
    );
    let request = wallet
        .admin_request(AdminAction::ChangePin, params, u64::MAX)
        .unwrap();

    // Without enough approvals: refused, the old PIN still works.
    let one = owners::approve(&[&keys[0]], &request);
    assert!(matches!(
        wallet.change_pin(None, pin("2222"), &request, &one),
        Err(Error::Authority(_))
    ));
    assert_eq!(std::fs::read(&path).unwrap(), old_file);

    // A wrong current PIN: refused by the TPM, counted towards its lockout.
    let approvals = owners::approve(&[&keys[0], &keys[2]], &request);
    let failures_before = wallet.dictionary_attack_state().unwrap().failures;
    let wrong = wallet
        .change_pin(Some(pin("9999")), pin("2222"), &request, &approvals)
        .unwrap_err();
    assert!(
        matches!(wrong, Error::Seal(SealError::WrongPin { failures, .. }) if failures == failures_before + 1),
        "{wrong:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), old_file);
    assert_eq!(wallet.admin_nonce().unwrap(), 0);

    // With the current PIN and the approvals: sealed again under the new PIN.
    wallet
        .change_pin(None, pin("2222"), &request, &approvals)
        .unwrap();
    assert_eq!(wallet.admin_nonce().unwrap(), 1);
    signs(&mut wallet);
    // The approvals are spent.
    assert!(wallet
        .change_pin(None, pin("3333"), &request, &approvals)
        .is_err());
    let audit = wallet.audit_log().unwrap();
    assert!(matches!(
        audit.last().unwrap().event,
        wallet_core::audit::AuditEvent::ChangePin { nonce: 0 }
    ));
    drop(wallet);

    // The old PIN no longer unseals; the new one does; evidence still says pin.
    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_pin(Some(pin("1111")));
    assert!(matches!(
        wallet.load_account(),
        Err(Error::Seal(SealError::WrongPin { .. }))
    ));
    wallet.set_pin(Some(pin("2222")));
    assert_eq!(wallet.load_account().unwrap(), address);
    signs(&mut wallet);
    let evidence = wallet.attest(b"changed pin", 1).unwrap();
    assert_eq!(evidence.account.key_lock.name(), "pin");
    drop(wallet);

    // The old account file, which the old PIN opens, is refused as rolled back.
    let current = std::fs::read(&path).unwrap();
    std::fs::write(&path, &old_file).unwrap();
    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_pin(Some(pin("1111")));
    assert!(matches!(
        wallet.load_account(),
        Err(Error::Wallet(WalletError::RolledBack { .. }))
    ));
    drop(wallet);
    std::fs::write(&path, &current).unwrap();
}

#[test]
fn only_a_pin_locked_account_with_owners_changes_its_pin() {
    let tpm = swtpm();
    let dir = TempDir::new("change-pin-refused");
    let keys = owners::owner_keys(51, 1);

    // Ownerless: refused, like its policy.
    let mut wallet = open_wallet(&tpm, &dir.state("ownerless"));
    wallet
        .create_account(AccountOptions {
            key_lock: Some(KeyLock::PIN),
            pin: Some(pin("1234")),
            ..AccountOptions::default()
        })
        .unwrap();
    let request = wallet_core::authority::AdminRequest {
        wallet: wallet.address().unwrap(),
        action: AdminAction::ChangePin,
        params_hash: wallet.change_pin_params_hash().unwrap(),
        nonce: 0,
        deadline: u64::MAX,
    };
    let approvals = owners::approve(&[&keys[0]], &request);
    let ownerless = wallet
        .change_pin(None, pin("5678"), &request, &approvals)
        .unwrap_err();
    assert_eq!(
        ownerless,
        Error::Authority(wallet_core::authority::AuthorityError::Ownerless)
    );
    drop(wallet);

    // No PIN to change: an unlocked account with owners.
    let mut wallet = open_wallet(&tpm, &dir.state("unlocked"));
    wallet
        .create_account(AccountOptions {
            owners: Some(owners::owner_set(&keys, 1)),
            key_lock: Some(KeyLock::UNLOCKED),
            ..AccountOptions::default()
        })
        .unwrap();
    let request = wallet
        .admin_request(
            AdminAction::ChangePin,
            wallet.change_pin_params_hash().unwrap(),
            u64::MAX,
        )
        .unwrap();
    let approvals = owners::approve(&[&keys[0]], &request);
    let refused = wallet
        .change_pin(None, pin("5678"), &request, &approvals)
        .unwrap_err();
    assert_eq!(refused, Error::Wallet(WalletError::NotPinLocked));
    assert!(refused.to_string().contains("PIN-locked"), "{refused}");
}

/// `TPM2_NV_UndefineSpace` of `index` by the owner hierarchy (empty
/// password), as an administrator deletes an NV index.
fn owner_undefine_nv(tpm: &wallet_core::tpm::simulator::Swtpm, index: u32) {
    use wallet_core::tpm::transport::{self, Transport as _};
    let mut command = Vec::new();
    command.extend_from_slice(&0x8002u16.to_be_bytes()); // TPM_ST_SESSIONS
    command.extend_from_slice(&31u32.to_be_bytes());
    command.extend_from_slice(&0x122u32.to_be_bytes()); // TPM_CC_NV_UndefineSpace
    command.extend_from_slice(&0x4000_0001u32.to_be_bytes()); // TPM_RH_OWNER
    command.extend_from_slice(&index.to_be_bytes());
    command.extend_from_slice(&9u32.to_be_bytes()); // authorization area
    command.extend_from_slice(&0x4000_0009u32.to_be_bytes()); // TPM_RS_PW
    command.extend_from_slice(&[0, 0, 0, 0, 0]); // nonce, attributes, empty password
    assert_eq!(command.len(), 31);
    let mut transport = transport::open(&tpm.tcti()).unwrap();
    let mut response = [0u8; 64];
    let len = transport.transact(&command, &mut response).unwrap();
    assert!(len >= 10);
    assert_eq!(&response[6..10], &[0, 0, 0, 0], "TPM_RC_SUCCESS");
}

/// An account file as builds before every account had a counter wrote one
/// without a key lock: `current` without its key-lock section, tagged (version
/// 3: policy, owners, TPM identity) without it, with `key`.
fn file_without_counter(key: &[u8; 32], current: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac as _};
    use sha2::Sha256;
    let view = SealedKeyFile::parse(current).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(wallet_core::wallet::ACCOUNT_BINDING_KEY_LABEL_V3);
    let binding_key = mac.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&binding_key).unwrap();
    mac.update(view.address());
    let policy = view.bound_policy().unwrap().encoding;
    mac.update(&u16::try_from(policy.len()).unwrap().to_be_bytes());
    mac.update(policy);
    match view.owner_section() {
        None => mac.update(&[0]),
        Some(owners) => {
            mac.update(&[1]);
            mac.update(owners.owners);
            mac.update(&owners.admin_nonce.to_be_bytes());
        }
    }
    let identity = view.tpm_identity().unwrap();
    mac.update(&u16::try_from(identity.ek_name.len()).unwrap().to_be_bytes());
    mac.update(identity.ek_name);
    mac.update(&[u8::from(identity.verified)]);
    let tag: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = vec![0u8; 4096];
    let len = view
        .contents()
        .encode_with_all(
            Some(backup::BoundPolicy {
                encoding: policy,
                tag: &tag,
            }),
            view.owner_section(),
            Some(identity),
            None,
            &mut out,
        )
        .unwrap();
    out.truncate(len);
    out
}

#[test]
fn a_none_account_file_from_before_counters_loads_gets_its_counter_and_cannot_come_back() {
    use wallet_core::policy::ledger::SpendLedger;
    use wallet_core::state::SPEND_LEDGER_FILE;

    let tpm = swtpm();
    let dir = TempDir::new("legacy-none");
    let key = [0x5a; 32];
    let source = dir.state("source");
    let mut wallet = open_wallet(&tpm, &source);
    wallet.set_key_mode(KeyMode::Cached);
    let address = wallet
        .import_key(
            &key,
            AccountOptions {
                policy: limited(3),
                key_lock: Some(KeyLock::UNLOCKED),
                ..AccountOptions::default()
            },
        )
        .unwrap();
    sign_tx(&mut wallet, 0).unwrap();
    drop(wallet);
    let bound_ledger = std::fs::read(source.join(SPEND_LEDGER_FILE)).unwrap();
    let created = std::fs::read(source.join(SEALED_KEY_FILE)).unwrap();
    // The TPM as before the account had a counter: the owner deletes it.
    let index = SealedKeyFile::parse(&created)
        .unwrap()
        .key_lock()
        .unwrap()
        .nv_counter_index;
    owner_undefine_nv(&tpm, index);
    // The old files: no counter, and an unbound (version 2) ledger holding
    // the spend.
    let legacy = file_without_counter(&key, &created);
    let legacy_view = SealedKeyFile::parse(&legacy).unwrap();
    assert_eq!(legacy_view.key_lock(), None);
    let legacy_ledger = SpendLedger::inspect(&bound_ledger, &address)
        .unwrap()
        .encode();

    let state = dir.state("state");
    let account_path = state.join(SEALED_KEY_FILE);
    let ledger_path = state.join(SPEND_LEDGER_FILE);
    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_key_mode(KeyMode::Cached);
    put(&account_path, &legacy);
    put(&ledger_path, &legacy_ledger);
    assert_eq!(wallet.load_account().unwrap(), address);
    drop(wallet);

    // Loaded, it has its counter: the file records it (mode none), the
    // ledger is bound, and the spend still counts.
    let upgraded = std::fs::read(&account_path).unwrap();
    let section = SealedKeyFile::parse(&upgraded).unwrap().key_lock().unwrap();
    assert_eq!(section.mode, backup::KEY_LOCK_NONE);
    assert_ne!(section.nv_counter_index, 0);
    assert!(section.policy_digest.is_empty());
    let upgraded_ledger = std::fs::read(&ledger_path).unwrap();
    assert!(SpendLedger::decode(&upgraded_ledger, &address).is_err());

    // A crash between the ledger and the account file leaves the old file
    // with the ledger at the counter: the next load completes it, the same.
    put(&account_path, &legacy);
    let mut wallet = open_wallet(&tpm, &state);
    wallet.set_key_mode(KeyMode::Cached);
    assert_eq!(wallet.load_account().unwrap(), address);
    assert_eq!(std::fs::read(&account_path).unwrap(), upgraded);
    assert_eq!(
        wallet.daily_spent(Some(14)).unwrap(),
        U256::from_u128(SPEND)
    );
    sign_tx(&mut wallet, 1).unwrap();
    sign_tx(&mut wallet, 2).unwrap();
    assert!(matches!(
        sign_tx(&mut wallet, 3),
        Err(Error::Policy(wallet_core::policy::PolicyError::Violation(
            _
        )))
    ));
    let backup = wallet.backup().unwrap();
    drop(wallet);
    let current_ledger = std::fs::read(&ledger_path).unwrap();

    // After a state change, the file without the counter is a copy from
    // before it: refused as rolled back, with either ledger, and nothing is
    // signed.
    for ledger in [&current_ledger, &legacy_ledger, &upgraded_ledger] {
        put(&account_path, &legacy);
        put(&ledger_path, ledger);
        let mut wallet = open_wallet(&tpm, &state);
        let error = wallet.load_account().unwrap_err();
        assert!(
            matches!(
                error,
                Error::Wallet(WalletError::RolledBack { file: 0, .. })
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("rolled back"), "{error}");
        assert_eq!(
            sign_tx(&mut wallet, 9).unwrap_err(),
            Error::Wallet(WalletError::NoAccount)
        );
    }
    // Put back under a loaded wallet: its next signature is refused.
    put(&account_path, &upgraded);
    put(&ledger_path, &current_ledger);
    let mut wallet = open_wallet(&tpm, &state);
    assert_eq!(wallet.load_account().unwrap(), address);
    put(&account_path, &legacy);
    assert!(matches!(
        wallet.sign_message(b"x"),
        Err(Error::Wallet(WalletError::RolledBack { file: 0, .. }))
    ));
    drop(wallet);

    // Nor does the old file restore into a fresh directory; the current
    // backup does, with its spends.
    let fresh = dir.state("fresh");
    let mut wallet = open_wallet(&tpm, &fresh);
    assert!(matches!(
        wallet.restore(&wallet_core::wallet::base64::encode(&legacy)),
        Err(Error::Wallet(WalletError::RolledBack { file: 0, .. }))
    ));
    assert!(!fresh.join(SEALED_KEY_FILE).exists());
    assert_eq!(wallet.restore(&backup).unwrap(), address);
    assert_eq!(
        wallet.daily_spent(Some(14)).unwrap(),
        U256::from_u128(3 * SPEND)
    );
}
