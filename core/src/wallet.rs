//! The `Wallet` (std): one TPM, one state directory, one sealed account.
//!
//! The key is generated with TPM entropy (or imported), sealed by the TPM,
//! stored as a sealed-key file in the state directory and unsealed only into
//! this process's zeroizing memory, over a salted session with parameter
//! encryption. The caller gets addresses, signed transactions, signatures,
//! attestation evidence and TPM-bound backups; never the key.
//!
//! Two key modes: [`KeyMode::Strict`] unseals the key for every signature and
//! wipes it at once; [`KeyMode::Cached`] keeps the unsealed key until the
//! wallet is closed (or the mode is set back to strict), on a page of its own
//! that is `mlock`ed (never swapped out), marked `MADV_DONTDUMP` (left out of
//! core dumps) and wiped when the key goes ([`Wallet::cached_key_protection`]).
//! A library does not change its host process on its own: a process that
//! owns itself and caches a key also calls [`make_process_non_dumpable`]
//! (the signing service does; the Python face does by default, and C hosts
//! opt in).
//!
//! Every unseal first checks the SRK Name recorded in the account against the
//! TPM's own, and checks that the unsealed key belongs to the recorded
//! address, so a sealed-key file cannot be moved to another TPM or re-labelled.
//!
//! # Signing policy
//!
//! Every account carries a [`Policy`], fixed when it is created, imported or
//! restored ([`AccountOptions::policy`]) and stored in the sealed-key file
//! with a binding tag: a MAC over the address and the policy's canonical
//! encoding under a key derived from the wallet key
//! ([`Policy::binding_tag`]). After every unseal, in both key modes and
//! before any signature, the tag is checked, so a process that can write the
//! state directory but cannot unseal the key cannot swap the policy; a
//! changed policy is refused with [`WalletError::PolicyBindingMismatch`].
//! Only [`Wallet::replace_policy`] changes it, with the approval of the
//! account's owners, and each change is appended to the audit log
//! ([`AUDIT_LOG_FILE`]) with the old and new hashes.
//!
//! # Owners
//!
//! The caller of this API (an agent) is not trusted with the account's
//! rules. An account created with [`AccountOptions::owners`] has 1 to 16
//! owners (Ethereum addresses) and a threshold M: replacing the policy,
//! exporting the key and replacing the owners each take M distinct owner
//! approvals, EIP-712 signatures over an [`AdminRequest`] for exactly that
//! action and parameters, the current admin nonce and a deadline
//! ([`crate::authority`]). The owners, threshold and admin nonce are stored
//! in the account file (version 2) and covered by the binding tag, so a
//! writer of the state directory cannot change them without the key. An
//! account without owners (every account file written before owners
//! existed, too) is *ownerless*: its policy never changes and its key never
//! leaves the TPM.
//!
//! Every executed admin action and every policy refusal is appended to the
//! hash-chained audit log ([`crate::audit`]); its head goes into
//! attestation evidence.
//!
//! Each signing call decodes its input, checks the policy, and only then
//! touches the key; a refusal is [`PolicyError::Violation`](policy::PolicyError::Violation) and nothing is
//! signed. With `daily_limit_wei` set, each signed transaction's worst case
//! (value + maximum fee) is reserved in the spend ledger
//! ([`SPEND_LEDGER_FILE`]) before the signature is made and committed
//! before the signed bytes are returned ([`crate::policy::ledger`]), so a
//! crash never forgets a spend: a reservation whose process died counts
//! until it expires.
//!
//! # Several processes, one state directory
//!
//! Wallets in any number of processes may share a state directory. Every
//! read-modify-write (the spend ledger, the audit log, the account file)
//! runs under the directory's exclusive lock ([`StateDir::lock`]), and
//! each locked step first re-reads the account file: a policy, owners or
//! admin nonce changed by another process is checked against the key
//! (binding tag) and takes effect at once, so an approval is never
//! accepted twice and no process signs under a replaced policy. The
//! ledger is re-read under the lock, and the daily limit is checked and
//! the spend reserved before the lock is released, so concurrent signers
//! together never pass the limit.
//!
//! A sealed-key file written before signing policies existed carries none:
//! such an account loads, attests with [`NO_POLICY_HASH`] and can be backed
//! up, but signs nothing ([`WalletError::PolicyUnbound`]) until
//! [`Wallet::replace_policy`] binds one. Treating it as the default policy
//! instead would let a writer of the state directory strip a policy by
//! rewriting the file in the old form.
//!
//! What a writer of the state directory that bypasses this code can still
//! do to an account without a key lock: put back an older account file with
//! the policy it had then (it was validly bound), delete the spend ledger
//! (which restarts the 24-hour history) or edit the audit log; the attested
//! policy hash lets a remote party see which policy is in force. An account
//! with a key lock has a TPM NV counter ([`crate::counter`]) that its
//! account file and its spend ledger (version 3, authenticated by a key
//! derived from the wallet key) are written against: an older copy of
//! either, or a deleted ledger, is refused as rolled back.

use core::fmt;
use std::boxed::Box;
use std::path::Path;
use std::string::String;

use secret_memory::LockedBox;
use zeroize::Zeroizing;

use crate::attest::{self, AkSignature, Evidence, NO_POLICY_HASH};
use crate::audit::{self, AuditEntry, AuditEvent, RefusedRequest};
use crate::authority::{self, AdminAction, AdminRequest, AuthorityError, OwnerSet, NO_OWNERS_HASH};
use crate::backup::{
    self, BoundPolicy, KeyLockSection, OwnerSection, PcrPolicy, SealedKeyFile, SealedKeyFileView,
    MAX_FILE_LEN,
};
use crate::counter::{self, CounterAuth};
use crate::policy::ledger::{
    Asset, Clock, LedgerKey, ReservationId, SpendLedger, SystemClock, MAX_LEDGER_LEN,
};
use crate::policy::{self, Decision, Eip712Domain, Policy, PolicyError};
use crate::seal::{self, KeyLock, PinAuth, ResidentSrk, SealError, SealedObject};
use crate::signer::{eip191_hash, eip712_hash, Address, SecretKey, Signature};
use crate::state::{SealedAccount, StateDir, StateError, StateLock, SPEND_LEDGER_FILE};
use crate::tpm::command::SECRET_LEN;
use crate::tpm::ek::TpmIdentityError;
use crate::tpm::{self, Name, ParameterEncryption, PcrSelection, Tpm, Transport};
use crate::tx;
use crate::{Error, Result};

pub mod base64;
mod enroll;
mod keystore;
pub mod typed_data;

pub use enroll::EnrollmentRequest;

pub use keystore::{MIN_EXPORT_PBKDF2_ROUNDS, MIN_EXPORT_SCRYPT_LOG_N, MIN_EXPORT_SCRYPT_R};
pub use secret_memory::{make_process_non_dumpable, process_is_dumpable, Protection};

/// The hash-chained audit log of the state directory ([`crate::audit`]).
pub const AUDIT_LOG_FILE: &str = "audit.log";

/// Domain separation label of the key that binds a version 2 account file
/// (policy, owners, admin nonce) to the wallet key.
pub const ACCOUNT_BINDING_KEY_LABEL: &[u8] = b"flare-wallet/account-binding/v2";

/// Test hook, for the tests that kill a process between reserving a spend
/// and committing it: when this environment variable names a path, a
/// wallet that has just reserved a spend creates that file and then waits
/// until its process is killed. Never set it outside such a test.
pub const TEST_HOOK_PAUSE_AFTER_RESERVE: &str = "FLARE_WALLET_TEST_HOOK_PAUSE_AFTER_RESERVE";

/// Test hook, as [`TEST_HOOK_PAUSE_AFTER_RESERVE`], for an account with an
/// anti-rollback counter: the wallet pauses after writing the reserving
/// ledger and before incrementing the counter. Never set it outside such a
/// test.
pub const TEST_HOOK_PAUSE_BEFORE_INCREMENT: &str = "FLARE_WALLET_TEST_HOOK_PAUSE_BEFORE_INCREMENT";

/// The label of the binding key of a version 3 account file, whose tag also
/// covers the TPM identity section and the key-lock section.
pub const ACCOUNT_BINDING_KEY_LABEL_V3: &[u8] = b"flare-wallet/account-binding/v3";

/// The TPM an account is bound to: its EK Name and whether that EK was
/// verified when the account was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AccountTpmBinding {
    ek_name: Name,
    verified: bool,
}

/// The transport a wallet drives: any [`Transport`] that can move between threads.
pub type BoxedTransport = Box<dyn Transport + Send>;

/// How long the unsealed key lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyMode {
    /// Unseal for every signature, then wipe the key at once.
    #[default]
    Strict,
    /// Keep the unsealed key in zeroizing memory until [`Wallet::close`].
    Cached,
}

/// Options for [`Wallet::create_account`] and [`Wallet::import_key`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountOptions {
    /// Bind the sealed key to the current values of these PCRs (SHA-256
    /// bank): once any of them changes, the key can no longer be unsealed.
    pub pcrs: Option<PcrSelection>,
    /// The signing policy the account is created with and bound to
    /// ([`Policy::plain_wallet`] by default: everything but unprotected
    /// transactions).
    pub policy: Policy,
    /// The account's owners and threshold; `None` makes an ownerless
    /// account, whose policy never changes and whose key never leaves the TPM.
    pub owners: Option<OwnerSet>,
    /// What an unsealer must present besides TPM access and the account file:
    /// a PIN, PCR values, the first unseal of a boot (see [`KeyLock`]). The
    /// PCRs of [`Self::pcrs`] join it.
    ///
    /// `Some(KeyLock::UNLOCKED)` is the named choice "none": any local process
    /// with TPM access and the account file can unseal the key. `None` means
    /// no choice was made: that is refused
    /// ([`WalletError::KeyLockNotChosen`]) for an account with a signing
    /// policy other than [`Policy::plain_wallet`] or with owners, unless
    /// [`Self::pcrs`] is given (a PCR lock); a plain wallet with no policy and
    /// no owners defaults to none.
    pub key_lock: Option<KeyLock>,
    /// The PIN, exactly when `key_lock.pin`.
    pub pin: Option<PinAuth>,
}

impl Default for AccountOptions {
    /// No PCR binding, [`Policy::plain_wallet`], no owners, no key lock
    /// chosen (which a plain wallet takes as none).
    fn default() -> Self {
        Self {
            pcrs: None,
            policy: Policy::plain_wallet(),
            owners: None,
            key_lock: None,
            pin: None,
        }
    }
}

/// Wallet-level failures (the TPM, state, format and signing errors have
/// their own enums, wrapped in the crate [`Error`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalletError {
    /// The wallet was closed.
    Closed,
    /// No account is loaded: create, import, load or restore one first.
    NoAccount,
    /// The backup string is not canonical padded base64.
    BackupNotBase64,
    /// A restore needs an empty state directory, and this one holds an account.
    StateNotEmpty,
    /// The sealed key unsealed to a key whose address is not the recorded one:
    /// the sealed-key file was altered.
    AddressMismatch,
    /// The operating system's entropy source failed.
    Entropy,
    /// The account's signing policy does not match its binding tag: the
    /// account file was altered by someone without the key. Nothing was signed.
    PolicyBindingMismatch,
    /// The account file predates signing policies and carries none; call
    /// `replace_policy` to bind one before signing.
    PolicyUnbound,
    /// A keystore export was asked with an empty password.
    EmptyExportPassword,
    /// A keystore export was asked with a KDF weaker than the export minimums.
    WeakExportKdf,
    /// The account file was written at an anti-rollback counter value below
    /// the TPM counter's: an older copy was put back. Nothing was signed.
    RolledBack {
        /// The counter value the file was written at.
        file: u64,
        /// The TPM counter's value.
        counter: u64,
    },
    /// The account file claims a counter value more than one above the TPM
    /// counter's: it was not written by this account's wallet.
    CounterAhead {
        /// The counter value the file was written at.
        file: u64,
        /// The TPM counter's value.
        counter: u64,
    },
    /// The state directory's account file now holds another sealed key than
    /// the loaded one (another process replaced it). Nothing was signed.
    AccountReplaced,
    /// The spend ledger was written at an anti-rollback counter value below
    /// the TPM counter's (or before the account file it must follow): an
    /// older copy was put back. Nothing was signed.
    LedgerRolledBack {
        /// The counter value the ledger was written at.
        file: u64,
        /// The TPM counter's value.
        counter: u64,
    },
    /// The spend ledger of an account with an anti-rollback counter is
    /// missing: it was deleted. Nothing was signed.
    LedgerDeleted {
        /// The TPM counter's value.
        counter: u64,
    },
    /// The spend ledger of an account with an anti-rollback counter is not
    /// authenticated by the account's key (altered, or an unbound older
    /// format put in its place). Nothing was signed.
    LedgerUnbound,
    /// The spend ledger claims a counter value more than one above the TPM
    /// counter's, or an account file newer than itself: it was not written
    /// by this account's wallet.
    LedgerAhead {
        /// The counter value the ledger was written at.
        file: u64,
        /// The TPM counter's value.
        counter: u64,
    },
    /// An account with a signing policy or owners was created or imported
    /// without choosing a key lock: `pin`, `pcr`, `boot-once`, or `none`.
    KeyLockNotChosen,
    /// A PIN change was asked for an account that is not PIN-locked: its
    /// key lock is fixed when it is created.
    NotPinLocked,
    /// A PIN change was asked for a boot-once account: its key cannot be
    /// unsealed again this boot to be sealed under the new PIN.
    PinChangeBootOnce,
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WalletError::RolledBack { file, counter } => {
                return write!(
                    f,
                    "the account file was rolled back: it was written at anti-rollback counter {file}, and the TPM counter is at {counter}; nothing was signed"
                )
            }
            WalletError::CounterAhead { file, counter } => {
                return write!(
                    f,
                    "the account file claims anti-rollback counter {file}, beyond the TPM counter at {counter}: it was not written by this wallet"
                )
            }
            WalletError::LedgerRolledBack { file, counter } => {
                return write!(
                    f,
                    "the spend ledger was rolled back: it was written at anti-rollback counter {file}, and the TPM counter is at {counter}; nothing was signed"
                )
            }
            WalletError::LedgerDeleted { counter } => {
                return write!(
                    f,
                    "the spend ledger was rolled back: it is missing, and the TPM counter is at {counter}; nothing was signed"
                )
            }
            WalletError::LedgerAhead { file, counter } => {
                return write!(
                    f,
                    "the spend ledger claims anti-rollback counter {file}, beyond the TPM counter at {counter}: it was not written by this wallet"
                )
            }
            _ => {}
        }
        f.write_str(match self {
            WalletError::RolledBack { .. }
            | WalletError::CounterAhead { .. }
            | WalletError::LedgerRolledBack { .. }
            | WalletError::LedgerDeleted { .. }
            | WalletError::LedgerAhead { .. } => "",
            WalletError::LedgerUnbound => {
                "the spend ledger was rolled back or altered: it is not authenticated by the account's key; nothing was signed"
            }
            WalletError::Closed => "the wallet is closed",
            WalletError::NoAccount => {
                "no account loaded: create, import, load or restore an account first"
            }
            WalletError::BackupNotBase64 => "the backup is not valid base64",
            WalletError::StateNotEmpty => {
                "restore needs an empty state directory, and this one already holds an account"
            }
            WalletError::AddressMismatch => {
                "the sealed key does not belong to the recorded address: the sealed-key file was altered"
            }
            WalletError::Entropy => "the operating system entropy source failed",
            WalletError::PolicyBindingMismatch => {
                "the stored signing policy does not match its binding to the key: the account file was altered; nothing was signed"
            }
            WalletError::PolicyUnbound => {
                "the account file predates signing policies and carries none, so it signs nothing; an account without owners cannot be given one"
            }
            WalletError::EmptyExportPassword => {
                "keystore export refuses an empty password: the keystore would open for anyone"
            }
            WalletError::WeakExportKdf => {
                "keystore export refuses a KDF weaker than scrypt n=2^17 r=8 or pbkdf2 with 600000 iterations"
            }
            WalletError::AccountReplaced => {
                "the state directory now holds another sealed key than the loaded account (replaced by another process); nothing was signed"
            }
            WalletError::KeyLockNotChosen => {
                "an account with a signing policy or owners needs a key lock chosen when it is created: \
                 pin (a PIN, counted by the TPM's dictionary-attack lockout), pcr (PCR values), \
                 boot-once (one unseal per boot), or none (any local process with TPM access \
                 and the account file can unseal the key)"
            }
            WalletError::NotPinLocked => {
                "change_pin needs a PIN-locked account; this account's key lock has no PIN, \
                 and a key lock is fixed when the account is created"
            }
            WalletError::PinChangeBootOnce => {
                "change_pin refuses a boot-once account: its key cannot be unsealed again \
                 this boot to be sealed under the new PIN"
            }
        })
    }
}

/// A policy, its encoding as the account file holds it, and the tag that
/// binds it (with the owners, if any) to the account's key.
struct BoundAccountPolicy {
    policy: Policy,
    /// The bytes the tag covers: the stored encoding, which for an older
    /// file is an older encoding version than [`Policy::to_bytes`] writes.
    encoding: std::vec::Vec<u8>,
    tag: [u8; 32],
}

impl BoundAccountPolicy {
    fn new(policy: Policy) -> Self {
        let encoding = policy.to_bytes().to_vec();
        Self {
            policy,
            encoding,
            tag: [0u8; 32],
        }
    }
}

/// An account's owners and its admin nonce.
#[derive(Clone)]
struct AdminState {
    owners: OwnerSet,
    nonce: u64,
}

impl AdminState {
    fn owners_encoding(&self) -> Result<std::vec::Vec<u8>> {
        let mut out = std::vec![0u8; OwnerSet::MAX_ENCODED_LEN];
        let len = self.owners.encode(&mut out)?;
        out.truncate(len);
        Ok(out)
    }
}

/// The loaded account.
struct Account {
    address: Address,
    sealed: SealedObject,
    file: SealedAccount,
    /// `None` for an account file written before signing policies.
    policy: Option<BoundAccountPolicy>,
    /// `None` for an ownerless account.
    admin: Option<AdminState>,
    /// `None` for an account file written before the TPM identity section.
    identity: Option<AccountTpmBinding>,
    ledger: SpendLedger,
    rollback: Rollback,
    /// For an account with an anti-rollback counter: the keys derived from
    /// the wallet key that authenticate its ledger and its counter, and the
    /// counter value last checked under the state lock.
    bound_state: Option<BoundState>,
}

/// What an account with an anti-rollback counter keeps to check and write
/// its state without unsealing the key: derived keys that cannot sign.
struct BoundState {
    counter_auth: CounterAuth,
    ledger_key: LedgerKey,
    /// The TPM counter's value, as last read or incremented under the lock.
    tpm_counter: u64,
}

impl BoundState {
    fn derive(key: &SecretKey, tpm_counter: u64) -> Self {
        Self {
            counter_auth: CounterAuth::derive(key),
            ledger_key: LedgerKey::derive(key),
            tpm_counter,
        }
    }
}

/// The tag that binds an account's policy (and owners and admin nonce, for
/// a version 2 file) to its key: an HMAC-SHA-256 under a key derived from
/// the wallet key ([`policy::derive_binding_key`]). Without owners it is the version 1 tag,
/// [`Policy::binding_tag`] over the stored encoding.
fn binding_tag(
    key: &SecretKey,
    address: &Address,
    policy_encoding: &[u8],
    admin: Option<(&[u8], u64)>,
    identity: Option<&AccountTpmBinding>,
    key_lock: Option<&[u8]>,
) -> [u8; 32] {
    use hmac::Mac as _;
    if identity.is_some() || key_lock.is_some() {
        // Version 3: every section, each length-prefixed or marked present.
        // A file with the TPM identity section and no key-lock section is
        // tagged exactly as before the key-lock section existed.
        let binding_key = policy::derive_binding_key(key, ACCOUNT_BINDING_KEY_LABEL_V3);
        let mut mac = crate::tpm::kdf::hmac_sha256(&binding_key[..]);
        mac.update(&address.0);
        let policy_len = u16::try_from(policy_encoding.len()).unwrap_or(u16::MAX);
        mac.update(&policy_len.to_be_bytes());
        mac.update(policy_encoding);
        match admin {
            None => mac.update(&[0]),
            Some((owners, nonce)) => {
                mac.update(&[1]);
                mac.update(owners);
                mac.update(&nonce.to_be_bytes());
            }
        }
        match identity {
            // An EK Name is never empty: length 0 marks the section absent.
            None => mac.update(&0u16.to_be_bytes()),
            Some(identity) => {
                let name = identity.ek_name.as_bytes();
                let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
                mac.update(&name_len.to_be_bytes());
                mac.update(name);
                mac.update(&[u8::from(identity.verified)]);
            }
        }
        if let Some(section) = key_lock {
            mac.update(&[1]);
            mac.update(section);
        }
        return mac.finalize().into_bytes().into();
    }
    let Some((owners, nonce)) = admin else {
        // Version 1: the policy's own tag, over the stored encoding.
        return policy::policy_binding_tag(key, address, |mac| mac.update(policy_encoding));
    };
    // Version 2: like every version, the MAC is keyed with a key derived
    // from the wallet key, never the wallet key itself.
    let binding_key = policy::derive_binding_key(key, ACCOUNT_BINDING_KEY_LABEL);
    let mut mac = crate::tpm::kdf::hmac_sha256(&binding_key[..]);
    mac.update(&address.0);
    // Lengths make the concatenation unambiguous.
    let policy_len = u16::try_from(policy_encoding.len()).unwrap_or(u16::MAX);
    mac.update(&policy_len.to_be_bytes());
    mac.update(policy_encoding);
    mac.update(owners);
    mac.update(&nonce.to_be_bytes());
    mac.finalize().into_bytes().into()
}

impl Account {
    fn bound_policy(&self) -> Result<&Policy> {
        self.policy
            .as_ref()
            .map(|bound| &bound.policy)
            .ok_or(Error::Wallet(WalletError::PolicyUnbound))
    }
}

/// A wallet bound to one TPM and one state directory. `Debug` shows no key.
pub struct Wallet {
    tpm: Option<Tpm<BoxedTransport>>,
    state: StateDir,
    srk_name: Name,
    identity: crate::tpm::ek::TpmIdentity,
    account: Option<Account>,
    key_mode: KeyMode,
    /// On its own `mlock`ed, `MADV_DONTDUMP` page ([`LockedBox`]).
    cached_key: Option<LockedBox<SecretKey>>,
    encryption: ParameterEncryption,
    clock: Box<dyn Clock>,
    /// The PIN of a PIN-locked account, for every unseal.
    pin: Option<PinAuth>,
    /// The audit log size past which it rotates.
    audit_log_limit: usize,
    /// The persistent SRK proven resident, kept between unseals.
    resident: Option<ResidentSrk>,
}

/// Where the audit log ends: the next entry's sequence number and the
/// hash it chains to.
#[derive(Clone, Copy)]
struct AuditTail {
    next_seq: u64,
    head: [u8; 32],
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("state_dir", &self.state.path())
            .field("address", &self.account.as_ref().map(|a| a.address))
            .field("key_mode", &self.key_mode)
            .field(
                "key",
                &if self.cached_key.is_some() {
                    "<cached, redacted>"
                } else {
                    "<sealed>"
                },
            )
            .field("open", &self.tpm.is_some())
            .finish()
    }
}

fn pcr_policy_parts(view: &SealedKeyFileView<'_>) -> Result<Option<(PcrSelection, [u8; 32])>> {
    let Some(policy) = view.pcr_policy() else {
        return Ok(None);
    };
    let invalid = Error::Seal(SealError::InvalidSealedObject);
    if policy.hash_alg != attest::wire::TPM_ALG_SHA256 {
        return Err(invalid);
    }
    let bitmap = attest::PcrSelection::from_select_bytes(policy.hash_alg, policy.select).bitmap;
    let selection = PcrSelection::from_bitmap(bitmap).map_err(|_| invalid)?;
    let digest: [u8; 32] = policy.policy_digest.try_into().map_err(|_| invalid)?;
    Ok(Some((selection, digest)))
}

/// Rebuilds the engine's sealed object from a checked sealed-key file.
fn sealed_object_of(view: &SealedKeyFileView<'_>) -> Result<SealedObject> {
    let srk_name =
        Name::from_bytes(view.srk_name()).ok_or(Error::Seal(SealError::InvalidSealedObject))?;
    let (pcrs, digest) = match pcr_policy_parts(view)? {
        Some((pcrs, digest)) => (Some(pcrs), Some(digest)),
        None => (None, None),
    };
    // Key lock `none`: the section carries the counter alone.
    let Some(section) = view
        .key_lock()
        .filter(|section| section.mode != backup::KEY_LOCK_NONE)
    else {
        return Ok(SealedObject::from_parts(
            view.public_tpm2b(),
            view.private_tpm2b(),
            srk_name,
            pcrs,
            digest,
        )?);
    };
    let invalid = Error::Seal(SealError::InvalidSealedObject);
    let lock_digest: [u8; 32] = section.policy_digest.try_into().map_err(|_| invalid)?;
    // The PCR policy, when present, records the same combined digest.
    if digest.is_some_and(|digest| digest != lock_digest) {
        return Err(Error::Seal(SealError::InvalidSealedObject));
    }
    let lock = KeyLock {
        pin: section.mode & backup::KEY_LOCK_PIN != 0,
        pcrs,
        boot_once_pcr: (section.mode & backup::KEY_LOCK_BOOT_ONCE != 0)
            .then_some(section.boot_once_pcr),
    };
    Ok(SealedObject::from_locked_parts(
        view.public_tpm2b(),
        view.private_tpm2b(),
        srk_name,
        lock,
        Some(lock_digest),
    )?)
}

/// Encodes the engine's sealed object as a sealed-key file, with the
/// account's policy and its binding tag, and its owners if it has any.
fn encode_sealed(
    address: &Address,
    sealed: &SealedObject,
    policy: Option<&BoundAccountPolicy>,
    admin: Option<&AdminState>,
    identity: Option<&AccountTpmBinding>,
    rollback: Rollback,
) -> Result<SealedAccount> {
    let strip = |blob: &[u8]| -> Result<std::vec::Vec<u8>> {
        // The engine's blobs are TPM2Bs; the file stores their contents after
        // its own length prefix, which is the same u16.
        blob.get(2..)
            .map(<[u8]>::to_vec)
            .ok_or(Error::Seal(SealError::InvalidSealedObject))
    };
    let public = strip(sealed.public_blob())?;
    let private = strip(sealed.private_blob())?;
    let select;
    let pcr_policy = match (sealed.pcrs(), sealed.policy_digest()) {
        (Some(pcrs), Some(digest)) => {
            let selection = attest::PcrSelection {
                hash_alg: attest::wire::TPM_ALG_SHA256,
                bitmap: pcrs.bitmap(),
            };
            let (bytes, len) = selection.select_bytes();
            select = bytes;
            Some(PcrPolicy {
                hash_alg: selection.hash_alg,
                select: select.get(..len).unwrap_or(&[]),
                policy_digest: digest,
            })
        }
        _ => None,
    };
    let file = SealedKeyFile {
        address: address.0,
        srk_name: sealed.srk_name().as_bytes(),
        public: &public,
        private: &private,
        pcr_policy,
    };
    let bound = policy.map(|policy| BoundPolicy {
        encoding: &policy.encoding,
        tag: &policy.tag,
    });
    let owners_encoding = admin.map(AdminState::owners_encoding).transpose()?;
    let section = match (admin, &owners_encoding) {
        (Some(admin), Some(owners)) => Some(OwnerSection {
            owners,
            admin_nonce: admin.nonce,
        }),
        _ => None,
    };
    let mut out = std::vec![0u8; MAX_FILE_LEN];
    let identity_section = identity.map(|identity| crate::backup::TpmIdentitySection {
        ek_name: identity.ek_name.as_bytes(),
        verified: identity.verified,
    });
    let len = file.encode_with_all(
        bound,
        section,
        identity_section,
        key_lock_section(sealed, rollback),
        &mut out,
    )?;
    out.truncate(len);
    Ok(SealedAccount::from_bytes(out)?)
}

impl Wallet {
    /// Opens the TPM named by `tcti` (`device:/dev/tpmrm0`,
    /// `swtpm:host=H,port=P`, `swtpm:path=SOCK`) and the state directory
    /// (created with mode 0700 if missing). No account is loaded yet.
    ///
    /// The TPM must prove itself under `trust`: its EK certificate must chain
    /// to one of the roots and certify the EK the TPM derives. A TPM with no
    /// EK certificate, or one that fails the chain, is refused unless `trust`
    /// explicitly allows an unverified TPM
    /// ([`TpmTrust::allow_unverified_tpm`](crate::tpm::ek::TpmTrust::allow_unverified_tpm));
    /// an account created on it then records it as unverified and its
    /// evidence says "unverified TPM". Every secret-bearing session is salted
    /// to the verified EK. [`TpmTrust::from_env`](crate::tpm::ek::TpmTrust::from_env)
    /// takes the roots from `$FLARE_WALLET_TPM_ROOTS`.
    ///
    /// # Errors
    /// [`TpmIdentityError`](crate::tpm::ek::TpmIdentityError) for a TPM that
    /// cannot prove itself; transport, TPM and state-directory errors.
    pub fn open(tcti: &str, state_dir: &Path, trust: &crate::tpm::ek::TpmTrust) -> Result<Self> {
        let transport = tpm::transport::open(tcti)?;
        Self::with_transport(Box::new(transport), state_dir, trust)
    }

    /// As [`open`](Self::open), over a transport the caller built (a
    /// recording or fault-injecting transport in tests, for example).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn with_transport(
        transport: BoxedTransport,
        state_dir: &Path,
        trust: &crate::tpm::ek::TpmTrust,
    ) -> Result<Self> {
        let state = StateDir::open(state_dir)?;
        let mut tpm = Tpm::new(transport)?;
        let established = tpm.startup().map_err(Error::from).and_then(|()| {
            let identity = crate::tpm::ek::establish(&mut tpm, trust)
                .map_err(|e| Error::TpmIdentity(e.kind))?;
            let srk_name = seal::srk_name(&mut tpm)?;
            Ok((identity, srk_name))
        });
        // The TPM is free for other clients until this wallet's next operation.
        tpm.transport_mut().end_operation();
        let (identity, srk_name) = established?;
        Ok(Self {
            tpm: Some(tpm),
            state,
            srk_name,
            identity,
            account: None,
            key_mode: KeyMode::Strict,
            cached_key: None,
            encryption: ParameterEncryption::Aes128Cfb,
            clock: Box::new(SystemClock),
            pin: None,
            audit_log_limit: audit::MAX_LOG_LEN,
            resident: None,
        })
    }

    /// The TPM's endorsement key Name and whether it was verified through
    /// its certificate chain (`false`: an unverified TPM, allowed explicitly).
    #[must_use]
    pub fn tpm_identity(&self) -> (Name, bool) {
        (self.identity.ek_name, self.identity.verified)
    }

    /// The full identity: EK kind, Name, public key and certificate chain.
    #[must_use]
    pub fn tpm_identity_details(&self) -> &crate::tpm::ek::TpmIdentity {
        &self.identity
    }

    /// Verifies every EK certificate this TPM holds at the indices of the TCG
    /// EK Credential Profile (L-1, L-2, H-1 to H-7) against `trust`'s roots,
    /// each with its own outcome ([`crate::tpm::ek::verify_endorsement_keys`]):
    /// the chain, and that the EK the TPM derives from the certificate's
    /// template is the certified key. This proves those EKs; the identity
    /// sessions are salted to stays the one established at open.
    ///
    /// # Errors
    /// [`WalletError::Closed`]; TPM errors while reading NV.
    pub fn verify_endorsement_keys(
        &mut self,
        trust: &crate::tpm::ek::TpmTrust,
    ) -> Result<std::vec::Vec<crate::tpm::ek::EkCheck>> {
        self.tpm_operation(|wallet| {
            Ok(crate::tpm::ek::verify_endorsement_keys(
                wallet.tpm()?,
                trust,
            )?)
        })
    }

    /// Sets the clock the spend history and the audit log use (the system
    /// clock by default); tests inject their own.
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    /// Sets the size at which the audit log rotates to `<log>.1`: at most
    /// [`audit::MAX_LOG_LEN`] (the default), at least
    /// [`audit::MIN_LOG_LEN`]. A smaller log costs less to extend (each entry
    /// rewrites the file atomically) and keeps fewer entries on disk.
    pub fn set_audit_log_limit(&mut self, bytes: usize) {
        self.audit_log_limit = bytes.clamp(audit::MIN_LOG_LEN, audit::MAX_LOG_LEN);
    }

    /// Sets the PIN presented to the TPM when a PIN-locked account is
    /// loaded, restored and (in strict mode) unsealed for each signature.
    /// Set it before [`load_account`](Self::load_account) or
    /// [`restore`](Self::restore); the wallet keeps it (wiped on drop) for
    /// later unseals.
    pub fn set_pin(&mut self, pin: Option<PinAuth>) {
        self.pin = pin;
    }

    /// What an unsealer of the loaded account's key must present.
    ///
    /// # Errors
    /// [`WalletError::NoAccount`].
    pub fn key_lock(&self) -> Result<KeyLock> {
        Ok(self.account()?.sealed.lock())
    }

    /// The TPM's dictionary-attack parameters and current failure count:
    /// how many wrong PINs it takes before the TPM locks out.
    ///
    /// # Errors
    /// [`WalletError::Closed`], TPM errors.
    pub fn dictionary_attack_state(&mut self) -> Result<tpm::command::DictionaryAttackState> {
        Ok(seal::dictionary_attack_state(self.tpm()?)?)
    }

    /// Wipes any cached key and releases the TPM connection. Every later
    /// call fails with [`WalletError::Closed`].
    pub fn close(&mut self) {
        self.resident = None;
        self.cached_key = None;
        self.pin = None;
        self.account = None;
        self.tpm = None;
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.tpm.is_none()
    }

    /// The state directory.
    #[must_use]
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// The Name of this TPM's storage root key.
    #[must_use]
    pub fn srk_name(&self) -> &Name {
        &self.srk_name
    }

    /// The loaded account's address.
    ///
    /// # Errors
    /// [`WalletError::NoAccount`].
    pub fn address(&self) -> Result<Address> {
        self.account
            .as_ref()
            .map(|a| a.address)
            .ok_or(Error::Wallet(WalletError::NoAccount))
    }

    /// The key mode.
    #[must_use]
    pub fn key_mode(&self) -> KeyMode {
        self.key_mode
    }

    /// Sets the key mode; going back to strict wipes the cached key at once,
    /// except for a boot-once locked account, whose key cannot be unsealed
    /// again before a reboot and stays cached.
    pub fn set_key_mode(&mut self, mode: KeyMode) {
        self.key_mode = mode;
        let boot_once = self
            .account
            .as_ref()
            .is_some_and(|account| account.sealed.lock().boot_once_pcr.is_some());
        if mode == KeyMode::Strict && !boot_once {
            self.cached_key = None;
        }
    }

    /// What protects the cached key's memory (`mlock`, `MADV_DONTDUMP`);
    /// `None` while no key is cached.
    #[must_use]
    pub fn cached_key_protection(&self) -> Option<Protection> {
        self.cached_key.as_ref().map(LockedBox::protection)
    }

    /// Sets whether the key crosses the TPM interface encrypted. It is on by
    /// default; [`ParameterEncryption::Off`] sends the key in clear and
    /// exists only so a wire-secrecy test can show that its check can fail.
    pub fn set_parameter_encryption(&mut self, encryption: ParameterEncryption) {
        self.encryption = encryption;
    }

    /// How many command frames this wallet has sent to the TPM.
    #[must_use]
    pub fn tpm_commands_sent(&self) -> u64 {
        self.tpm.as_ref().map_or(0, Tpm::commands_sent)
    }

    /// Ends one TPM operation: a transport to a TPM that serves one client
    /// at a time lets other clients in ([`Transport::end_operation`]).
    fn end_tpm_operation(&mut self) {
        if let Some(tpm) = self.tpm.as_mut() {
            tpm.transport_mut().end_operation();
        }
    }

    /// Runs `f` as one TPM operation, ended on every path.
    fn tpm_operation<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        let result = f(self);
        self.end_tpm_operation();
        result
    }

    fn tpm(&mut self) -> Result<&mut Tpm<BoxedTransport>> {
        self.tpm.as_mut().ok_or(Error::Wallet(WalletError::Closed))
    }

    fn ensure_no_account(&self) -> Result<()> {
        if self.account.is_some() || self.state.has_account()? {
            return Err(Error::State(StateError::AccountExists));
        }
        Ok(())
    }

    /// Creates a new account: a key from OS entropy XOR TPM entropy, sealed
    /// by this TPM and stored in the (empty) state directory with the
    /// options' policy, bound to the key. The creation is logged.
    ///
    /// # Errors
    /// [`StateError::AccountExists`] when the state directory already holds
    /// an account (nothing is sent to the TPM then); TPM, seal and state errors.
    pub fn create_account(&mut self, options: AccountOptions) -> Result<Address> {
        self.ensure_no_account()?;
        let mut os_entropy = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::getrandom(&mut os_entropy[..]).map_err(|_| WalletError::Entropy)?;
        let secret =
            self.tpm_operation(|wallet| Ok(seal::generate_secret(wallet.tpm()?, &os_entropy)?))?;
        self.store_new(&secret, options, NewAccountEvent::Create)
    }

    /// Imports an existing key: sealed by this TPM and stored in the (empty)
    /// state directory with the options' policy. The import is logged.
    ///
    /// # Errors
    /// As [`create_account`](Self::create_account), and signer errors for
    /// bytes that are not a valid secp256k1 key.
    pub fn import_key(&mut self, key: &[u8; 32], options: AccountOptions) -> Result<Address> {
        self.ensure_no_account()?;
        SecretKey::from_bytes(key)?;
        self.store_new(key, options, NewAccountEvent::Import)
    }

    fn store_new(
        &mut self,
        secret: &[u8; SECRET_LEN],
        options: AccountOptions,
        event: NewAccountEvent,
    ) -> Result<Address> {
        let key = SecretKey::from_bytes(secret)?;
        let address = key.address();
        let AccountOptions {
            pcrs,
            policy,
            owners,
            key_lock,
            pin,
        } = options;
        let key_lock = match key_lock {
            Some(key_lock) => key_lock,
            // PCRs alone are the choice "pcr".
            None if pcrs.is_some() => KeyLock::UNLOCKED,
            None if policy == Policy::plain_wallet() && owners.is_none() => KeyLock::UNLOCKED,
            None => return Err(Error::Wallet(WalletError::KeyLockNotChosen)),
        };
        let lock = KeyLock {
            pcrs: pcrs.or(key_lock.pcrs),
            ..key_lock
        };
        let admin = owners.map(|owners| AdminState { owners, nonce: 0 });
        let mut bound = BoundAccountPolicy::new(policy);
        let identity = Some(AccountTpmBinding {
            ek_name: self.identity.ek_name,
            verified: self.identity.verified,
        });
        let srk_name = self.srk_name;
        let encryption = self.encryption;
        // The TPM is free again before the lock is taken: the lock is always
        // taken first, so two processes never wait on each other.
        let (sealed, rollback) = self.tpm_operation(|wallet| {
            let sealed = seal::seal_locked(
                wallet.tpm()?,
                Some(&srk_name),
                secret,
                lock,
                pin.as_ref(),
                encryption,
            )?;
            // Every account, whatever its key lock, gets its counter.
            let auth = CounterAuth::derive(&key);
            let (nv_index, counter) = counter::define(wallet.tpm()?, &srk_name, &address.0, &auth)?;
            Ok((sealed, Rollback { nv_index, counter }))
        })?;
        bound.tag = account_tag(
            &key,
            &address,
            &bound,
            admin.as_ref(),
            identity.as_ref(),
            &sealed,
            rollback,
        )?;
        let file = encode_sealed(
            &address,
            &sealed,
            Some(&bound),
            admin.as_ref(),
            identity.as_ref(),
            rollback,
        )?;
        let bound_state =
            (rollback.nv_index != 0).then(|| BoundState::derive(&key, rollback.counter));
        let state_lock = self.state.lock()?;
        if self.state.has_account()? {
            return Err(Error::State(StateError::AccountExists));
        }
        let mut ledger =
            self.ledger_for_new_account(&address, bound_state.as_ref().map(|b| &b.ledger_key));
        if let Some(bound_state) = &bound_state {
            // The ledger starts at the counter's value, with the account
            // file: from now on it must be there and current.
            ledger.set_counter(rollback.counter);
            ledger.set_account_counter(rollback.counter);
            self.state.replace_file(
                &state_lock,
                SPEND_LEDGER_FILE,
                &ledger.encode_bound(&bound_state.ledger_key),
            )?;
        }
        self.append_audit(
            &state_lock,
            &address,
            event.entry(&bound.policy.hash(), admin.as_ref()),
        )?;
        self.state
            .create_account_locked(&state_lock, file.bytes())?;
        drop(state_lock);
        // A boot-once key was unsealed for this boot: it stays cached.
        let keep = self.key_mode == KeyMode::Cached || lock.boot_once_pcr.is_some();
        self.account = Some(Account {
            address,
            sealed,
            file,
            policy: Some(bound),
            admin,
            identity,
            ledger,
            rollback,
            bound_state,
        });
        self.pin = pin;
        if keep {
            self.cached_key = locked_key(key);
        }
        Ok(address)
    }

    /// Loads the account from the state directory: checks the file's format
    /// and integrity and its SRK Name against this TPM's, then unseals the
    /// key once to check it belongs to the recorded address and that the
    /// stored policy is bound to it.
    ///
    /// # Errors
    /// [`StateError::NoAccount`], [`StateError::Format`],
    /// [`SealError::SrkNameMismatch`] for an account of another TPM,
    /// [`SealError::PcrMismatch`] when the PCRs it is bound to moved,
    /// [`WalletError::AddressMismatch`], [`WalletError::PolicyBindingMismatch`]
    /// for a policy changed without the key, [`PolicyError`](policy::PolicyError) for a policy
    /// that does not decode or (with `daily_limit_wei` set) a damaged spend
    /// ledger, and TPM errors. A failed load changes nothing on disk.
    pub fn load_account(&mut self) -> Result<Address> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        // The ledger of an account with an anti-rollback counter is checked,
        // and an interrupted write completed, under the lock; the file is
        // read under it too, so a file another process gave its counter
        // meanwhile is read as it is now.
        let lock = self.state.lock()?;
        let file = match self.state.load_account(self.srk_name.as_bytes()) {
            Err(StateError::SrkNameMismatch) => {
                // Say which rule failed: an account bound to another EK is
                // on another TPM, not merely under another SRK.
                return Err(self.other_tpm_error());
            }
            other => other?,
        };
        self.tpm_operation(|wallet| wallet.adopt(file, LedgerSource::Existing, &lock))
    }

    /// The refusal for an account file whose SRK Name is not this TPM's:
    /// [`TpmIdentityError::EkChanged`] when its TPM identity section names
    /// another EK, else [`SealError::SrkNameMismatch`].
    fn other_tpm_error(&self) -> Error {
        let bytes = self
            .state
            .read_file(crate::state::ACCOUNT_FILE, MAX_FILE_LEN)
            .ok()
            .flatten();
        let other_ek = bytes.as_deref().is_some_and(|bytes| {
            crate::backup::SealedKeyFile::parse(bytes)
                .ok()
                .and_then(|view| view.tpm_identity())
                .is_some_and(|section| section.ek_name != self.identity.ek_name.as_bytes())
        });
        if other_ek {
            Error::TpmIdentity(TpmIdentityError::EkChanged)
        } else {
            Error::Seal(SealError::SrkNameMismatch)
        }
    }

    /// Checks and unseals `file` once (address and policy binding), then
    /// makes it the loaded account.
    fn adopt(
        &mut self,
        file: SealedAccount,
        ledger_source: LedgerSource,
        lock: &StateLock,
    ) -> Result<Address> {
        let view = file.view()?;
        let address = Address(*view.address());
        let sealed = sealed_object_of(&view)?;
        let (policy, admin) = bound_parts(&view)?;
        let identity = match view.tpm_identity() {
            Some(section) => {
                let ek_name = Name::from_bytes(section.ek_name)
                    .ok_or(Error::TpmIdentity(TpmIdentityError::EkChanged))?;
                // The TPM must be the one the account was written on, and no
                // less verified than it was then.
                if ek_name != self.identity.ek_name {
                    return Err(Error::TpmIdentity(TpmIdentityError::EkChanged));
                }
                if section.verified && !self.identity.verified {
                    return Err(Error::TpmIdentity(TpmIdentityError::NowUnverified));
                }
                Some(AccountTpmBinding {
                    ek_name,
                    verified: section.verified,
                })
            }
            None => None,
        };
        let tpm = self
            .tpm
            .as_mut()
            .ok_or(Error::Wallet(WalletError::Closed))?;
        let mut rollback = rollback_of(&view);
        let key = unseal_checked(
            tpm,
            Unsealing {
                resident: &mut self.resident,
                encryption: self.encryption,
                pin: self.pin.as_ref(),
            },
            &sealed,
            &address,
            policy.as_ref(),
            admin.as_ref(),
            (identity.as_ref(), rollback),
        )?;
        let boot_once = sealed.lock().boot_once_pcr.is_some();
        let mut file = file;
        let mut policy = policy;
        let mut bound_state = None;
        let ledger = if let (0, Some(bound)) = (rollback.nv_index, policy.as_mut()) {
            // An account file from before every account had a counter (key
            // lock `none`) gets its counter now, and keeps its ledger's
            // entries in a bound ledger.
            // Needed only when the counter is defined now: otherwise the
            // ledger on disk is already the bound one.
            let entries = match ledger_source {
                LedgerSource::Existing => self.existing_ledger(&address, Some(bound)),
                LedgerSource::Backup(_) => Ok(self.ledger_for_new_account(&address, None)),
            };
            let tpm = self
                .tpm
                .as_mut()
                .ok_or(Error::Wallet(WalletError::Closed))?;
            let account = NewCounterAccount {
                address: &address,
                sealed: &sealed,
                admin: admin.as_ref(),
                identity: identity.as_ref(),
                store: matches!(ledger_source, LedgerSource::Existing),
            };
            let upgraded = give_counter(
                tpm,
                (&self.state, lock),
                &self.srk_name,
                &key,
                account,
                bound,
                entries,
            )?;
            file = upgraded.file;
            rollback = upgraded.rollback;
            bound_state = Some(upgraded.state);
            upgraded.ledger
        } else if rollback.nv_index == 0 {
            match ledger_source {
                LedgerSource::Existing => self.existing_ledger(&address, policy.as_ref())?,
                LedgerSource::Backup(_) => self.ledger_for_new_account(&address, None),
            }
        } else {
            let tpm = self
                .tpm
                .as_mut()
                .ok_or(Error::Wallet(WalletError::Closed))?;
            let mut state = BoundState::derive(&key, 0);
            let (ledger, repair) = match ledger_source {
                LedgerSource::Existing => {
                    let ledger = bound_ledger_on_disk(&self.state, &address, &state.ledger_key)?;
                    let counter = read_counter(tpm, rollback, &state)?;
                    state.tpm_counter = counter;
                    let repair = check_state(rollback, ledger.as_ref(), counter)?;
                    (ledger, repair)
                }
                LedgerSource::Backup(bytes) => {
                    restored_ledger(tpm, &address, rollback, &mut state, bytes.as_deref())?
                }
            };
            let ledger = ledger.unwrap_or_else(|| SpendLedger::new(address));
            let ledger = complete_state(
                &self.state,
                tpm,
                lock,
                (rollback, &mut state),
                ledger,
                repair,
            )?;
            bound_state = Some(state);
            ledger
        };
        self.account = Some(Account {
            address,
            sealed,
            file,
            policy,
            admin,
            identity,
            ledger,
            rollback,
            bound_state,
        });
        self.cached_key = None;
        // A boot-once key unseals once per boot: it stays cached.
        if self.key_mode == KeyMode::Cached || boot_once {
            self.cached_key = locked_key(key);
        }
        Ok(address)
    }

    /// Re-reads the account file (the caller holds the lock): when another
    /// process changed its policy, owners or admin nonce, the new ones are
    /// checked against the key (binding tag) and replace the loaded ones.
    ///
    /// # Errors
    /// [`StateError::NoAccount`] when the file is gone,
    /// [`WalletError::AccountReplaced`] when it holds another sealed key,
    /// [`WalletError::PolicyBindingMismatch`], and the errors of unsealing.
    fn refresh_account(&mut self, _lock: &StateLock) -> Result<()> {
        let Some(account) = self.account.as_ref() else {
            return Ok(());
        };
        let on_disk = self.state.read_account()?;
        if on_disk.bytes() == account.file.bytes() {
            return Ok(());
        }
        let view = on_disk.view()?;
        let sealed = sealed_object_of(&view)?;
        if view.address() != &account.address.0
            || sealed.public_blob() != account.sealed.public_blob()
            || sealed.private_blob() != account.sealed.private_blob()
            || sealed.srk_name() != account.sealed.srk_name()
        {
            return Err(Error::Wallet(WalletError::AccountReplaced));
        }
        let (policy, admin) = bound_parts(&view)?;
        let address = account.address;
        // The TPM identity section cannot change under a loaded account: the
        // tag is checked against the identity this account was loaded with.
        let identity = account.identity;
        // The key-lock mode is the sealed object's, which cannot change; the
        // counter value the file was written at can.
        let rollback = rollback_of(&view);
        let loaded = account.rollback;
        if loaded.nv_index != 0 && rollback.nv_index != loaded.nv_index {
            // A file without the counter the loaded one has: a copy from
            // before the account got it.
            return Err(Error::Wallet(WalletError::RolledBack {
                file: rollback.counter,
                counter: account
                    .bound_state
                    .as_ref()
                    .map_or(loaded.counter, |state| state.tpm_counter),
            }));
        }
        let sealed = account.sealed.clone();
        if let Some(bound) = policy.as_ref() {
            let expected = self.with_key(|key| {
                account_tag(
                    key,
                    &address,
                    bound,
                    admin.as_ref(),
                    identity.as_ref(),
                    &sealed,
                    rollback,
                )
            })?;
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &bound.tag[..])) {
                return Err(Error::Wallet(WalletError::PolicyBindingMismatch));
            }
        }
        if loaded.nv_index == 0 && rollback.nv_index != 0 {
            // Another process gave the account its counter: from now on its
            // state is checked against it too.
            let state = self.with_key(|key| Ok(BoundState::derive(key, 0)))?;
            if let Some(account) = self.account.as_mut() {
                account.bound_state = Some(state);
            }
        }
        // A file put back from an older copy is refused here too: the
        // ledger records the account file it follows.
        let ledger = if rollback.nv_index == 0 {
            None
        } else {
            match self.checked_ledger(_lock, rollback) {
                Ok(ledger) => Some(ledger),
                Err(error) => {
                    if loaded.nv_index == 0 {
                        if let Some(account) = self.account.as_mut() {
                            account.bound_state = None;
                        }
                    }
                    return Err(error);
                }
            }
        };
        if let Some(account) = self.account.as_mut() {
            account.file = on_disk;
            account.policy = policy;
            account.admin = admin;
            account.rollback = rollback;
            if let Some(ledger) = ledger {
                account.ledger = ledger;
            }
        }
        Ok(())
    }

    /// For an account with an anti-rollback counter, under the lock: reads
    /// the ledger and the TPM counter and checks them against each other and
    /// against `rollback` (the account file's counter value), completes a
    /// write a crash interrupted, and returns the ledger.
    ///
    /// # Errors
    /// [`WalletError::LedgerDeleted`], [`WalletError::LedgerUnbound`],
    /// [`WalletError::LedgerRolledBack`], [`WalletError::RolledBack`] (the
    /// account file is older than the ledger records), the `*Ahead` errors,
    /// TPM and state-directory errors.
    fn checked_ledger(&mut self, lock: &StateLock, rollback: Rollback) -> Result<SpendLedger> {
        let account = self
            .account
            .as_mut()
            .ok_or(Error::Wallet(WalletError::NoAccount))?;
        let bound = account
            .bound_state
            .as_mut()
            .ok_or(Error::Wallet(WalletError::NoAccount))?;
        let tpm = self
            .tpm
            .as_mut()
            .ok_or(Error::Wallet(WalletError::Closed))?;
        let checked = (|| {
            let ledger = bound_ledger_on_disk(&self.state, &account.address, &bound.ledger_key)?;
            bound.tpm_counter = read_counter(tpm, rollback, bound)?;
            let repair = check_state(rollback, ledger.as_ref(), bound.tpm_counter)?;
            let ledger = ledger.unwrap_or_else(|| SpendLedger::new(account.address));
            complete_state(&self.state, tpm, lock, (rollback, bound), ledger, repair)
        })();
        tpm.transport_mut().end_operation();
        checked
    }

    /// Writes `ledger` one anti-rollback counter value ahead (with the
    /// account file's value), then increments the counter: a spend
    /// reserved this way can never be rolled back. Without a counter, a
    /// plain write.
    fn advance_ledger(&mut self, lock: &StateLock, mut ledger: SpendLedger) -> Result<()> {
        let Some(account) = self.account.as_mut() else {
            return Err(Error::Wallet(WalletError::NoAccount));
        };
        let rollback = account.rollback;
        let Some(bound) = account.bound_state.as_mut() else {
            return self.write_ledger(lock, ledger);
        };
        let tpm = self
            .tpm
            .as_mut()
            .ok_or(Error::Wallet(WalletError::Closed))?;
        ledger.set_counter(bound.tpm_counter.saturating_add(1));
        ledger.set_account_counter(rollback.counter);
        self.state.replace_file(
            lock,
            SPEND_LEDGER_FILE,
            &ledger.encode_bound(&bound.ledger_key),
        )?;
        account.ledger = ledger;
        test_hook_pause(TEST_HOOK_PAUSE_BEFORE_INCREMENT);
        let incremented = counter::increment(tpm, rollback.nv_index, &bound.counter_auth);
        tpm.transport_mut().end_operation();
        incremented?;
        bound.tpm_counter = bound.tpm_counter.saturating_add(1);
        Ok(())
    }

    /// Re-reads the spend ledger from disk (the caller holds the lock when
    /// it will write it back) and keeps it as the loaded one.
    fn reread_ledger(&mut self, lock: &StateLock) -> Result<SpendLedger> {
        let account = self.account()?;
        if account.bound_state.is_some() {
            let rollback = account.rollback;
            let ledger = self.checked_ledger(lock, rollback)?;
            if let Some(account) = self.account.as_mut() {
                account.ledger = ledger.clone();
            }
            return Ok(ledger);
        }
        let ledger = self.existing_ledger(&account.address, account.policy.as_ref())?;
        if let Some(account) = self.account.as_mut() {
            account.ledger = ledger.clone();
        }
        Ok(ledger)
    }

    /// Writes `ledger` (the caller holds the lock and read it under it) and
    /// keeps it as the loaded one.
    /// With an anti-rollback counter, the ledger keeps the counter value it
    /// was read at: a commit or a release only makes it stricter, so a
    /// copy from before either still counts at least as much.
    fn write_ledger(&mut self, lock: &StateLock, ledger: SpendLedger) -> Result<()> {
        let bytes = match self.account()?.bound_state.as_ref() {
            Some(bound) => ledger.encode_bound(&bound.ledger_key),
            None => ledger.encode(),
        };
        self.state.replace_file(lock, SPEND_LEDGER_FILE, &bytes)?;
        if let Some(account) = self.account.as_mut() {
            account.ledger = ledger;
        }
        Ok(())
    }

    /// The spend ledger of a loaded account: none yet, or the one on disk.
    /// A damaged one is an error only when a daily limit needs it.
    fn existing_ledger(
        &self,
        address: &Address,
        policy: Option<&BoundAccountPolicy>,
    ) -> Result<SpendLedger> {
        let needed = policy.is_some_and(|bound| {
            bound.policy.daily_limit_wei().is_some()
                || bound
                    .policy
                    .tokens()
                    .iter()
                    .any(|t| t.daily_limit().is_some())
        });
        let read = self
            .state
            .read_file(SPEND_LEDGER_FILE, MAX_LEDGER_LEN)
            .map_err(Error::from)
            .and_then(|bytes| match bytes {
                None => Ok(SpendLedger::new(*address)),
                Some(bytes) => Ok(SpendLedger::decode(&bytes, address)?),
            });
        match read {
            Ok(ledger) => Ok(ledger),
            Err(e) if needed => Err(e),
            Err(_) => Ok(SpendLedger::new(*address)),
        }
    }

    /// The spend ledger of a new, imported or restored account: a ledger
    /// left in the directory by the same address is kept, anything else is
    /// replaced by an empty one.
    /// Its entries only add to what counts, so an unauthenticated one is
    /// safe to keep.
    fn ledger_for_new_account(&self, address: &Address, key: Option<&LedgerKey>) -> SpendLedger {
        let decoded = match self.state.read_file(SPEND_LEDGER_FILE, MAX_LEDGER_LEN) {
            Ok(Some(bytes)) => match key {
                Some(key) => SpendLedger::decode_bound(&bytes, address, key),
                None => SpendLedger::decode(&bytes, address),
            }
            .ok(),
            _ => None,
        };
        decoded.unwrap_or_else(|| SpendLedger::new(*address))
    }

    /// Runs `f` with the account's key: the cached one, or one unsealed for
    /// this call (its policy binding checked) and wiped when `f` returns
    /// (strict mode).
    fn with_key<R>(&mut self, f: impl FnOnce(&SecretKey) -> Result<R>) -> Result<R> {
        if let Some(key) = &self.cached_key {
            return f(key);
        }
        let account = self
            .account
            .as_ref()
            .ok_or(Error::Wallet(WalletError::NoAccount))?;
        let tpm = self
            .tpm
            .as_mut()
            .ok_or(Error::Wallet(WalletError::Closed))?;
        let key = unseal_checked(
            tpm,
            Unsealing {
                resident: &mut self.resident,
                encryption: self.encryption,
                pin: self.pin.as_ref(),
            },
            &account.sealed,
            &account.address,
            account.policy.as_ref(),
            account.admin.as_ref(),
            (account.identity.as_ref(), account.rollback),
        );
        tpm.transport_mut().end_operation();
        let key = key?;
        let result = f(&key);
        if self.key_mode == KeyMode::Cached {
            self.cached_key = locked_key(key);
        }
        result
    }

    fn require_account(&self) -> Result<()> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        if self.account.is_none() {
            return Err(Error::Wallet(WalletError::NoAccount));
        }
        Ok(())
    }

    fn account(&self) -> Result<&Account> {
        self.require_account()?;
        self.account
            .as_ref()
            .ok_or(Error::Wallet(WalletError::NoAccount))
    }

    /// The loaded account's signing policy; `None` for an account file
    /// written before signing policies.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn policy(&self) -> Result<Option<&Policy>> {
        Ok(self.account()?.policy.as_ref().map(|bound| &bound.policy))
    }

    /// The hash of the loaded account's policy, as attestation reports it
    /// ([`NO_POLICY_HASH`] for an account without one).
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn policy_hash(&self) -> Result<[u8; 32]> {
        Ok(self
            .account()?
            .policy
            .as_ref()
            .map_or(NO_POLICY_HASH, |bound| bound.policy.hash()))
    }

    /// The loaded account's owners; `None` for an ownerless account.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn owners(&self) -> Result<Option<&OwnerSet>> {
        Ok(self.account()?.admin.as_ref().map(|admin| &admin.owners))
    }

    /// The loaded account's admin nonce: how many owner-approved admin
    /// actions it has executed (0 for an ownerless account). The next
    /// request must carry exactly this value.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn admin_nonce(&self) -> Result<u64> {
        Ok(self
            .account()?
            .admin
            .as_ref()
            .map_or(0, |admin| admin.nonce))
    }

    fn admin_state(&self) -> Result<&AdminState> {
        self.account()?
            .admin
            .as_ref()
            .ok_or(Error::Authority(AuthorityError::Ownerless))
    }

    /// The request the owners sign for `action` with `params_hash` (see
    /// [`crate::authority`] for how each action's parameters are hashed,
    /// and [`Wallet::export_keystore_params_hash`] for an export), at the
    /// current admin nonce, valid until `deadline` (Unix seconds).
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`],
    /// [`AuthorityError::Ownerless`].
    pub fn admin_request(
        &self,
        action: AdminAction,
        params_hash: [u8; 32],
        deadline: u64,
    ) -> Result<AdminRequest> {
        let admin = self.admin_state()?;
        Ok(AdminRequest {
            wallet: self.address()?,
            action,
            params_hash,
            nonce: admin.nonce,
            deadline,
        })
    }

    /// Checks `request` and its `approvals` for `action` with `params_hash`
    /// against the account's owners, admin nonce and the clock. Nothing is
    /// unsealed or written.
    fn authorize(
        &self,
        action: AdminAction,
        params_hash: [u8; 32],
        request: &AdminRequest,
        approvals: &[[u8; 65]],
    ) -> Result<()> {
        let admin = self.admin_state()?;
        let expected = authority::Expected {
            wallet: self.address()?,
            owners: &admin.owners,
            nonce: admin.nonce,
            now: self.clock.now_unix_seconds(),
            action,
            params_hash,
        };
        authority::verify_approvals(&expected, request, approvals)?;
        Ok(())
    }

    /// Writes the account with `policy` and `admin` (its nonce already
    /// advanced), bound to the key: the audit entry first, then the account
    /// file, atomically; the in-memory account changes only once both are on
    /// disk.
    fn rebind(
        &mut self,
        lock: &StateLock,
        policy: Policy,
        admin: AdminState,
        event: AuditEvent,
    ) -> Result<()> {
        let sealed = self.account()?.sealed.clone();
        self.rebind_sealed(lock, policy, admin, event, sealed)
    }

    /// As [`rebind`](Self::rebind), with `sealed` as the account's sealed
    /// key from now on.
    fn rebind_sealed(
        &mut self,
        lock: &StateLock,
        policy: Policy,
        admin: AdminState,
        event: AuditEvent,
        sealed: SealedObject,
    ) -> Result<()> {
        let address = self.address()?;
        let mut bound = BoundAccountPolicy::new(policy);
        let identity = self.account()?.identity;
        let current = self.account()?.rollback;
        // The account file, then the ledger (which records it), carry the
        // next counter value; the counter follows them, still under the
        // state lock. The ledger and counter are checked first.
        let ledger = if current.nv_index == 0 {
            None
        } else {
            Some(self.checked_ledger(lock, current)?)
        };
        let rollback = Rollback {
            counter: match self.account()?.bound_state.as_ref() {
                Some(state) => state.tpm_counter.saturating_add(1),
                None => 0,
            },
            ..current
        };
        let tag = self.with_key(|key| {
            account_tag(
                key,
                &address,
                &bound,
                Some(&admin),
                identity.as_ref(),
                &sealed,
                rollback,
            )
        })?;
        bound.tag = tag;
        let file = encode_sealed(
            &address,
            &sealed,
            Some(&bound),
            Some(&admin),
            identity.as_ref(),
            rollback,
        )?;
        self.append_audit(lock, &address, event)?;
        self.state.replace_account_locked(lock, file.bytes())?;
        if let Some(account) = self.account.as_mut() {
            account.file = file;
            account.sealed = sealed;
            account.policy = Some(bound);
            account.admin = Some(admin);
            account.rollback = rollback;
        }
        if let Some(mut ledger) = ledger {
            // Written at the account file's value with it, then the counter
            // reaches that value.
            let bytes = match self.account()?.bound_state.as_ref() {
                Some(state) => {
                    ledger.set_counter(rollback.counter);
                    ledger.set_account_counter(rollback.counter);
                    ledger.encode_bound(&state.ledger_key)
                }
                None => ledger.encode(),
            };
            self.state.replace_file(lock, SPEND_LEDGER_FILE, &bytes)?;
            let account = self
                .account
                .as_mut()
                .ok_or(Error::Wallet(WalletError::NoAccount))?;
            account.ledger = ledger;
            if let (Some(state), Some(tpm)) = (account.bound_state.as_mut(), self.tpm.as_mut()) {
                let incremented = counter::increment(tpm, rollback.nv_index, &state.counter_auth);
                tpm.transport_mut().end_operation();
                incremented?;
                state.tpm_counter = rollback.counter;
            }
        }
        Ok(())
    }

    /// The current policy of an account that has owners, for an admin
    /// action that keeps it.
    fn current_policy(&self) -> Result<Policy> {
        Ok(self.account()?.bound_policy()?.clone())
    }

    /// Replaces the account's signing policy with the approval of its
    /// owners: `request` must be a `replace_policy` request for exactly
    /// `policy` ([`authority::replace_policy_params_hash`] of its hash) at
    /// the current admin nonce, before its deadline, with approvals from at
    /// least threshold distinct owners. The new policy is bound to the key
    /// (unsealed for this in strict mode), the admin nonce advances, the
    /// change is appended to the audit log and the account file is replaced
    /// atomically. Returns the new policy hash.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`],
    /// [`AuthorityError::Ownerless`] and every other [`AuthorityError`] of
    /// the approvals, the errors of unsealing, and state-directory errors;
    /// the old policy stays in force on any error.
    pub fn replace_policy(
        &mut self,
        policy: Policy,
        request: &AdminRequest,
        approvals: &[[u8; 65]],
    ) -> Result<[u8; 32]> {
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        let new_hash = policy.hash();
        self.authorize(
            AdminAction::ReplacePolicy,
            authority::replace_policy_params_hash(&new_hash),
            request,
            approvals,
        )?;
        let old_hash = self.policy_hash()?;
        let admin = self.admin_state()?;
        let next = AdminState {
            owners: admin.owners.clone(),
            nonce: admin.nonce.saturating_add(1),
        };
        let event = AuditEvent::ReplacePolicy {
            nonce: admin.nonce,
            old: old_hash,
            new: new_hash,
        };
        self.rebind(&lock, policy, next, event)?;
        Ok(new_hash)
    }

    /// Replaces the account's owners and threshold with the approval of the
    /// current owners (a `replace_owners` request for exactly `owners`:
    /// [`authority::replace_owners_params_hash`]). Returns the new owner
    /// set's hash.
    ///
    /// # Errors
    /// As [`replace_policy`](Self::replace_policy).
    pub fn replace_owners(
        &mut self,
        owners: OwnerSet,
        request: &AdminRequest,
        approvals: &[[u8; 65]],
    ) -> Result<[u8; 32]> {
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        let new_hash = owners.hash();
        self.authorize(
            AdminAction::ReplaceOwners,
            authority::replace_owners_params_hash(&owners),
            request,
            approvals,
        )?;
        let policy = self.current_policy()?;
        let admin = self.admin_state()?;
        let event = AuditEvent::ReplaceOwners {
            nonce: admin.nonce,
            old: admin.owners.hash(),
            new: new_hash,
        };
        let next = AdminState {
            owners,
            nonce: admin.nonce.saturating_add(1),
        };
        self.rebind(&lock, policy, next, event)?;
        Ok(new_hash)
    }

    /// The params hash a `change_pin` request for this account commits to:
    /// [`authority::change_pin_params_hash`] of its key lock, which a PIN
    /// change keeps. No PIN goes into it.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn change_pin_params_hash(&self) -> Result<[u8; 32]> {
        let lock = self.account()?.sealed.lock();
        Ok(change_pin_params_hash_of(lock))
    }

    /// Seals the key again under `new_pin`, with the approval of the
    /// owners: `request` must be a `change_pin` request
    /// ([`Wallet::change_pin_params_hash`]) at the current admin nonce. The
    /// current PIN (`current_pin`, or when `None` the wallet's own:
    /// [`set_pin`](Self::set_pin), or the one the account was created with)
    /// unseals the key, a wrong one counting towards the TPM's
    /// dictionary-attack lockout; the wallet presents `new_pin` from then on; the key is sealed under the same key lock
    /// and the new PIN, and checked by unsealing it. As with every admin
    /// action, the account file is written one anti-rollback counter value
    /// ahead and the counter then incremented: the old account file, which
    /// the old PIN opens, is refused afterwards as rolled back.
    ///
    /// Only a PIN-locked account can change its PIN: a key lock is chosen
    /// when the account is created, and an unlocked or PCR-only account
    /// cannot add a PIN this way. A boot-once account is refused too (its
    /// key does not unseal twice in one boot).
    ///
    /// # Errors
    /// [`AuthorityError::Ownerless`] and the other approval errors,
    /// [`WalletError::NotPinLocked`], [`WalletError::PinChangeBootOnce`],
    /// [`SealError::PinRequired`] without a current PIN,
    /// [`SealError::WrongPin`] and [`SealError::LockedOut`] for the current
    /// PIN, TPM and state-directory errors; the old PIN stays in force on
    /// any error before the account file is replaced.
    pub fn change_pin(
        &mut self,
        current_pin: Option<PinAuth>,
        new_pin: PinAuth,
        request: &AdminRequest,
        approvals: &[[u8; 65]],
    ) -> Result<()> {
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        self.admin_state()?;
        let key_lock = self.account()?.sealed.lock();
        if !key_lock.pin {
            return Err(Error::Wallet(WalletError::NotPinLocked));
        }
        if key_lock.boot_once_pcr.is_some() {
            return Err(Error::Wallet(WalletError::PinChangeBootOnce));
        }
        self.authorize(
            AdminAction::ChangePin,
            change_pin_params_hash_of(key_lock),
            request,
            approvals,
        )?;
        let old_pin = current_pin
            .or_else(|| self.pin.clone())
            .ok_or(Error::Seal(SealError::PinRequired))?;
        let old_sealed = self.account()?.sealed.clone();
        let address = self.address()?;
        let srk_name = self.srk_name;
        let encryption = self.encryption;
        let sealed = self.tpm_operation(|wallet| {
            let secret = seal::unseal_locked(
                wallet.tpm()?,
                &srk_name,
                &old_sealed,
                Some(&old_pin),
                encryption,
            )?;
            if SecretKey::from_bytes(&secret)?.address() != address {
                return Err(Error::Wallet(WalletError::AddressMismatch));
            }
            // Sealing checks the new object by unsealing it with the new PIN.
            let sealed = seal::seal_locked(
                wallet.tpm()?,
                Some(&srk_name),
                &secret,
                key_lock,
                Some(&new_pin),
                encryption,
            )?;
            // The authPolicy does not depend on the PIN: a different one
            // means the bound PCRs moved in between.
            if sealed.policy_digest() != old_sealed.policy_digest() {
                return Err(Error::Seal(SealError::PcrMismatch));
            }
            Ok(sealed)
        })?;
        let policy = self.current_policy()?;
        let admin = self.admin_state()?;
        let event = AuditEvent::ChangePin { nonce: admin.nonce };
        let next = AdminState {
            owners: admin.owners.clone(),
            nonce: admin.nonce.saturating_add(1),
        };
        self.rebind_sealed(&lock, policy, next, event, sealed)?;
        self.pin = Some(new_pin);
        Ok(())
    }

    /// Appends one entry to the audit log, atomically (rotating the log
    /// first when it would pass the limit, [`audit::MAX_LOG_LEN`] unless
    /// [`set_audit_log_limit`](Self::set_audit_log_limit) lowered it).
    fn append_audit(&self, lock: &StateLock, address: &Address, event: AuditEvent) -> Result<()> {
        let mut log = self
            .state
            .read_file(AUDIT_LOG_FILE, audit::MAX_LOG_LEN)?
            .unwrap_or_default();
        let entries = audit::parse_log(&log)?;
        let tail = audit_tail(&entries);
        let now = self.clock.now_unix_seconds();
        let mut entry = AuditEntry::new(tail.next_seq, now, *address, event, tail.head);
        if log.len() + entry.to_line().len() > self.audit_log_limit {
            let rotated = std::format!("{AUDIT_LOG_FILE}{}", audit::ROTATED_SUFFIX);
            self.state.replace_file(lock, &rotated, &log)?;
            let marker =
                AuditEntry::new(tail.next_seq, now, *address, AuditEvent::Rotate, tail.head);
            log = marker.to_line().into_bytes();
            entry = AuditEntry::new(marker.seq + 1, now, *address, event, marker.hash);
        }
        log.extend_from_slice(entry.to_line().as_bytes());
        Ok(self.state.replace_file(lock, AUDIT_LOG_FILE, &log)?)
    }

    /// Records a policy refusal in the audit log and returns `result`
    /// unchanged. A refusal is returned even if the log cannot be written.
    fn note_refusal<T>(
        &self,
        lock: &StateLock,
        request: RefusedRequest,
        result: Result<T>,
    ) -> Result<T> {
        if let Err(Error::Policy(PolicyError::Violation(violation))) = &result {
            if let Ok(address) = self.address() {
                let _ = self.append_audit(
                    lock,
                    &address,
                    AuditEvent::Refuse {
                        request,
                        rule: violation.rule(),
                    },
                );
            }
        }
        result
    }

    /// Re-reads the account under the lock, then checks a message or
    /// typed-data request with `check` (a refusal is logged under the lock).
    fn checked_locked(
        &mut self,
        request: RefusedRequest,
        check: impl FnOnce(&Policy) -> core::result::Result<(), policy::PolicyViolation>,
    ) -> Result<()> {
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        let checked = self
            .account()?
            .bound_policy()
            .and_then(|policy| check(policy).map_err(|v| Error::Policy(PolicyError::Violation(v))));
        self.note_refusal(&lock, request, checked)
    }

    /// The audit log of this state directory (the current file, not a
    /// rotated one), oldest entry first, checked against its own head.
    ///
    /// # Errors
    /// State-directory errors and [`audit::AuditError`].
    pub fn audit_log(&self) -> Result<std::vec::Vec<AuditEntry>> {
        let log = self.audit_log_bytes()?;
        let entries = audit::parse_log(&log)?;
        let head = audit_tail(&entries).head;
        Ok(audit::verify_audit_log(&log, &head)?)
    }

    /// The audit log file's bytes, as [`audit::verify_audit_log`] takes them.
    ///
    /// # Errors
    /// State-directory errors.
    pub fn audit_log_bytes(&self) -> Result<std::vec::Vec<u8>> {
        Ok(self
            .state
            .read_file(AUDIT_LOG_FILE, audit::MAX_LOG_LEN)?
            .unwrap_or_default())
    }

    /// The audit log's head: the hash of its last entry ([`audit::GENESIS`]
    /// for an empty log), as attestation evidence reports it.
    ///
    /// # Errors
    /// State-directory errors and [`audit::AuditError`] for a log that
    /// does not parse.
    pub fn audit_head(&self) -> Result<[u8; 32]> {
        let log = self.audit_log_bytes()?;
        Ok(audit_tail(&audit::parse_log(&log)?).head)
    }

    /// What counts against `daily_limit_wei` on `chain_id` now (`None`: the
    /// total of every chain, as for a transaction without replay protection).
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn daily_spent(&self, chain_id: Option<u64>) -> Result<tx::U256> {
        let now = self.clock.now_unix_seconds();
        let account = self.account()?;
        // The file, not the loaded copy: other processes spend too.
        let ledger = match account.bound_state.as_ref() {
            Some(bound) => bound_ledger_on_disk(&self.state, &account.address, &bound.ledger_key)?
                .ok_or(WalletError::LedgerDeleted {
                    counter: bound.tpm_counter,
                })?,
            None => self.existing_ledger(&account.address, account.policy.as_ref())?,
        };
        Ok(ledger.spent(chain_id, Asset::Eth, now))
    }

    /// Checks `transaction` against the policy and, with a daily limit (of
    /// wei or of the token it transfers), the ledger re-read from disk (the
    /// caller holds the lock); returns the decision, and the ledger and the
    /// spends to reserve when a daily limit applies.
    fn decide_spend(
        &mut self,
        lock: &StateLock,
        transaction: &tx::TypedTransaction<'_>,
        now: u64,
    ) -> Result<(Decision, Option<PendingSpends>)> {
        let policy = self.account()?.bound_policy()?;
        let mut decision = policy.decide_transaction_at(transaction, now)?;
        let token_spend = policy.token_spend(transaction);
        if policy.daily_limit_wei().is_none() && token_spend.is_none() {
            return Ok((decision, None));
        }
        let ledger = self.reread_ledger(lock)?;
        let policy = self.account()?.bound_policy()?;
        let chain_id = transaction.chain_id();
        let mut spends = std::vec::Vec::new();
        if let Some((token, amount)) = token_spend {
            let spent = ledger.spent(chain_id, Asset::Token(token), now);
            policy.check_token_daily_limit(&token, spent, amount)?;
            let _ = decision.rules.push(policy::PolicyField::TokenDailyLimit);
            spends.push((chain_id, Asset::Token(token), amount));
        }
        if policy.daily_limit_wei().is_some() {
            let spend = policy::worst_case_spend(transaction);
            policy.check_daily_limit(chain_id, ledger.spent(chain_id, Asset::Eth, now), spend)?;
            let _ = decision.rules.push(policy::PolicyField::DailyLimitWei);
            if let Some(amount) = spend {
                spends.push((chain_id, Asset::Eth, amount));
            }
        }
        Ok((decision, Some((ledger, spends))))
    }

    /// Checks an unsigned signing payload against the policy and the daily
    /// limits (the ledger read under the lock), as
    /// [`sign_transaction`](Self::sign_transaction) would, and signs
    /// nothing: the mode and the rules that allowed it.
    ///
    /// # Errors
    /// Transaction decoding errors, [`PolicyError::Violation`](policy::PolicyError::Violation)
    /// naming the rule that refuses, [`WalletError::PolicyUnbound`],
    /// state-directory errors.
    pub fn check_transaction(&mut self, unsigned_payload: &[u8]) -> Result<Decision> {
        self.require_account()?;
        let transaction = tx::decode_unsigned(unsigned_payload)?;
        let now = self.clock.now_unix_seconds();
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        Ok(self.decide_spend(&lock, &transaction, now)?.0)
    }

    /// Under the lock: re-reads the account and the ledger, checks
    /// `transaction` (a refusal is logged) and reserves its spends on disk.
    fn check_and_reserve(
        &mut self,
        transaction: &tx::TypedTransaction<'_>,
        now: u64,
    ) -> Result<std::vec::Vec<ReservationId>> {
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        let checked = self.decide_spend(&lock, transaction, now);
        let (_, spends) = self.note_refusal(&lock, RefusedRequest::Transaction, checked)?;
        let Some((mut ledger, spends)) = spends else {
            return Ok(std::vec::Vec::new());
        };
        let mut ids = std::vec::Vec::with_capacity(spends.len());
        for (chain_id, asset, amount) in spends {
            ids.push(ledger.reserve(chain_id, asset, amount, now)?);
        }
        if !ids.is_empty() {
            self.advance_ledger(&lock, ledger)?;
        }
        Ok(ids)
    }

    /// Under the lock: commits reservations `ids` when `signed` (the
    /// signature's outcome) succeeded, releases them when it failed. A
    /// reservation that cannot be committed fails the call; one that cannot
    /// be released keeps counting, which only makes the limit stricter.
    fn settle<T>(&mut self, ids: &[ReservationId], signed: Result<T>) -> Result<T> {
        let lock = self.state.lock()?;
        let mut ledger = match self.reread_ledger(&lock) {
            Ok(ledger) => ledger,
            Err(e) => return Err(signed.err().unwrap_or(e)),
        };
        match signed {
            Ok(value) => {
                for id in ids {
                    ledger.commit(*id)?;
                }
                self.write_ledger(&lock, ledger)?;
                Ok(value)
            }
            Err(e) => {
                let mut released = false;
                for id in ids {
                    released |= ledger.release(*id).is_ok();
                }
                if released {
                    let _ = self.write_ledger(&lock, ledger);
                }
                Err(e)
            }
        }
    }

    /// Signs an unsigned signing payload (`type || rlp([...])` for typed
    /// transactions, the EIP-155 list for legacy ones) and writes the signed
    /// transaction to `out`, returning its length. The payload is decoded
    /// strictly and checked against the policy before the TPM is touched;
    /// with `daily_limit_wei` set, the spend is on disk before `out` is
    /// written.
    ///
    /// # Errors
    /// Transaction errors (also [`tx::TxError::BufferTooSmall`]),
    /// [`PolicyError::Violation`](policy::PolicyError::Violation) (nothing is signed),
    /// [`WalletError::PolicyUnbound`], the errors of unsealing, and
    /// state-directory errors writing the spend ledger (nothing is returned).
    pub fn sign_transaction(&mut self, unsigned_payload: &[u8], out: &mut [u8]) -> Result<usize> {
        self.require_account()?;
        let transaction = tx::decode_unsigned(unsigned_payload)?;
        let now = self.clock.now_unix_seconds();
        let reservations = self.check_and_reserve(&transaction, now)?;
        if !reservations.is_empty() {
            test_hook_pause_after_reserve();
        }
        let signed = transaction
            .signature_hash()
            .map_err(Error::from)
            .and_then(|hash| {
                let signature = self.with_key(|key| Ok(key.sign_hash(&hash)?))?;
                let needed = transaction.encoded_signed_len(&signature)?;
                if out.len() < needed {
                    return Err(tx::TxError::BufferTooSmall { needed }.into());
                }
                Ok(signature)
            });
        // The spend is committed before a byte of the signed transaction is written.
        let signature = if reservations.is_empty() {
            signed?
        } else {
            self.settle(&reservations, signed)?
        };
        Ok(transaction.encode_signed(&signature, out)?)
    }

    /// Signs `message` as EIP-191 `personal_sign`, if `allow_messages`.
    ///
    /// # Errors
    /// [`PolicyError::Violation`](policy::PolicyError::Violation), [`WalletError::PolicyUnbound`], and the
    /// errors of unsealing.
    pub fn sign_message(&mut self, message: &[u8]) -> Result<Signature> {
        self.checked_locked(RefusedRequest::Message, |policy| policy.check_message())?;
        let hash = eip191_hash(message);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Signs EIP-712 typed data given its domain's fields and the message's
    /// struct hash; the domain is checked against `typed_data_domains`.
    ///
    /// # Errors
    /// [`PolicyError::Violation`](policy::PolicyError::Violation), [`WalletError::PolicyUnbound`], and the
    /// errors of unsealing.
    pub fn sign_typed_data(
        &mut self,
        domain: &Eip712Domain<'_>,
        struct_hash: &[u8; 32],
    ) -> Result<Signature> {
        self.checked_locked(RefusedRequest::TypedData, |policy| {
            policy.check_typed_data(domain)
        })?;
        let hash = domain.signing_hash(struct_hash);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Checks a typed-data document (its JSON, as `eth_signTypedData_v4`
    /// takes it) against the policy, as
    /// [`sign_typed_data_json`](Self::sign_typed_data_json) would, and signs
    /// nothing.
    ///
    /// # Errors
    /// [`Error::TypedData`] for a document that does not parse,
    /// [`PolicyError::Violation`](policy::PolicyError::Violation),
    /// [`WalletError::PolicyUnbound`].
    pub fn check_typed_data_json(&self, json: &str) -> Result<Decision> {
        let data = typed_data::TypedData::from_json(json)?;
        let permit = data.permit()?;
        let now = self.clock.now_unix_seconds();
        Ok(self.account()?.bound_policy()?.decide_typed_data(
            &data.domain(),
            permit
                .as_ref()
                .map(typed_data::OwnedPermit::as_permit)
                .as_ref(),
            now,
        )?)
    }

    /// Signs an EIP-712 typed-data document given as JSON (`types`,
    /// `primaryType`, `domain`, `message`). The policy checks the domain and,
    /// for a permit it understands, each token it grants; the digest signed
    /// is computed here from the same parsed document.
    ///
    /// # Errors
    /// [`Error::TypedData`], [`PolicyError::Violation`](policy::PolicyError::Violation)
    /// (recorded in the audit log), [`WalletError::PolicyUnbound`], and the
    /// errors of unsealing.
    pub fn sign_typed_data_json(&mut self, json: &str) -> Result<Signature> {
        self.require_account()?;
        let data = typed_data::TypedData::from_json(json)?;
        let permit = data.permit()?;
        let now = self.clock.now_unix_seconds();
        let domain = data.domain();
        self.checked_locked(RefusedRequest::TypedData, |policy| {
            policy
                .decide_typed_data(
                    &domain,
                    permit
                        .as_ref()
                        .map(typed_data::OwnedPermit::as_permit)
                        .as_ref(),
                    now,
                )
                .map(|_| ())
        })?;
        let hash = data.signing_hash();
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Checks an EIP-7702 authorization against the policy, as
    /// [`sign_authorization`](Self::sign_authorization) would, and signs nothing.
    ///
    /// # Errors
    /// [`PolicyError::Violation`](policy::PolicyError::Violation), [`WalletError::PolicyUnbound`].
    pub fn check_authorization(&self, chain_id: &tx::U256, delegate: &Address) -> Result<Decision> {
        Ok(self
            .account()?
            .bound_policy()?
            .decide_authorization(chain_id, delegate)?)
    }

    /// Signs an EIP-7702 authorization (`keccak256(0x05 || rlp([chain_id,
    /// address, nonce]))`), if the policy allows `address` as a delegate
    /// and the chain id (0, every chain, only with
    /// `allow_any_chain_authorization`).
    ///
    /// # Errors
    /// [`PolicyError::Violation`](policy::PolicyError::Violation) (recorded
    /// in the audit log), [`WalletError::PolicyUnbound`], and the errors of
    /// unsealing.
    pub fn sign_authorization(
        &mut self,
        chain_id: tx::U256,
        address: Address,
        nonce: u64,
    ) -> Result<tx::SignedAuthorization> {
        self.require_account()?;
        self.checked_locked(RefusedRequest::Authorization, |policy| {
            policy.decide_authorization(&chain_id, &address).map(|_| ())
        })?;
        let authorization = tx::Authorization {
            chain_id,
            address,
            nonce,
        };
        self.with_key(|key| Ok(authorization.sign(key)?))
    }

    /// Signs EIP-712 typed data given its domain separator and struct hash:
    /// a raw digest no rule can look into. Refused unless the policy sets
    /// `allow_raw_hashes` (true only in the policy of a wallet created
    /// without one), and whenever it sets `typed_data_domains`: a domain
    /// cannot be checked from its hash; use [`sign_typed_data`](Self::sign_typed_data).
    ///
    /// # Errors
    /// [`PolicyError::Violation`](policy::PolicyError::Violation) with
    /// [`PolicyViolation::TypedDataHashNotCheckable`](policy::PolicyViolation::TypedDataHashNotCheckable),
    /// [`WalletError::PolicyUnbound`], and the errors of unsealing.
    pub fn sign_typed_data_hash(
        &mut self,
        domain_separator: &[u8; 32],
        struct_hash: &[u8; 32],
    ) -> Result<Signature> {
        self.checked_locked(RefusedRequest::RawHash, |policy| {
            policy.check_typed_data_hash()
        })?;
        let hash = eip712_hash(domain_separator, struct_hash);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Whether the loaded account was created on a TPM whose EK certificate
    /// verified, as the account file records it.
    /// An account file without the TPM identity section predates EK
    /// verification and counts as unverified.
    fn account_tpm_identity(&self) -> attest::TpmIdentity {
        match self.account.as_ref().and_then(|account| account.identity) {
            Some(binding) if binding.verified => attest::TpmIdentity::Verified,
            _ => attest::TpmIdentity::Unverified,
        }
    }

    /// Attestation evidence for `nonce` and `chain_id`: a quote of PCRs 0-7
    /// (SHA-256) by the TPM's attestation key over the
    /// [`challenge`](attest::challenge), and the wallet's EIP-191 signature
    /// over the same challenge. The challenge and the evidence carry the
    /// account's [`policy_hash`](Self::policy_hash).
    ///
    /// # Errors
    /// The errors of the quote and of unsealing.
    pub fn attest(&mut self, nonce: &[u8], chain_id: u64) -> Result<Evidence> {
        self.attest_pcrs(nonce, chain_id, PcrSelection::DEFAULT_QUOTE)
    }

    /// As [`attest`](Self::attest), quoting the PCRs in `pcrs`.
    ///
    /// # Errors
    /// As [`attest`](Self::attest).
    pub fn attest_pcrs(
        &mut self,
        nonce: &[u8],
        chain_id: u64,
        pcrs: PcrSelection,
    ) -> Result<Evidence> {
        self.attest_with_template(nonce, chain_id, pcrs, None)
    }

    /// As [`attest_pcrs`](Self::attest_pcrs), quoted by the attestation key
    /// the platform certifies (GCE Shielded VM: AK template and certificate
    /// in NV, see [`crate::tpm::platform_ak`]) instead of the wallet's own
    /// AK. Returns the evidence and the AK certificate (DER): a verifier with
    /// the platform's roots checks the evidence against it
    /// ([`crate::enrollment::TrustAnchor::AkCertificate`]) without any
    /// credential activation.
    ///
    /// # Errors
    /// The errors of [`crate::tpm::platform_ak::read`] (no template, a
    /// template that is not an AK, no certificate, a certificate over another
    /// key); as [`attest`](Self::attest).
    pub fn attest_with_platform_ak(
        &mut self,
        nonce: &[u8],
        chain_id: u64,
        pcrs: PcrSelection,
    ) -> Result<(Evidence, std::vec::Vec<u8>)> {
        self.require_account()?;
        let platform = self.tpm_operation(|wallet| crate::tpm::platform_ak::read(wallet.tpm()?))?;
        let evidence =
            self.attest_with_template(nonce, chain_id, pcrs, Some(&platform.template))?;
        if evidence.ak_public.as_slice() != platform.ak_public.as_slice() {
            // The TPM derived another key from the same template between two
            // commands: not the key the certificate certifies.
            return Err(crate::enrollment::EnrollmentError::AkCertificateKeyMismatch.into());
        }
        Ok((evidence, platform.certificate))
    }

    fn attest_with_template(
        &mut self,
        nonce: &[u8],
        chain_id: u64,
        pcrs: PcrSelection,
        ak_template: Option<&tpm2_protocol::data::TpmtPublic>,
    ) -> Result<Evidence> {
        self.require_account()?;
        let admin = self.account()?.admin.as_ref();
        let account = attest::AccountFacts {
            address: self.address()?,
            chain_id,
            policy_hash: self.policy_hash()?,
            owners_hash: admin.map_or(NO_OWNERS_HASH, |admin| admin.owners.hash()),
            threshold: admin.map_or(0, |admin| admin.owners.threshold()),
            admin_nonce: admin.map_or(0, |admin| admin.nonce),
            audit_head: self.audit_head()?,
            tpm_identity: self.account_tpm_identity(),
            key_lock: {
                let lock = self.key_lock()?;
                attest::KeyLockFacts::Reported {
                    pin: lock.pin,
                    pcrs: lock.pcrs.is_some(),
                    boot_once: lock.boot_once_pcr.is_some(),
                }
            },
        };
        let challenge = attest::challenge(nonce, &account);
        let quote = self.tpm_operation(|wallet| {
            let tpm = wallet.tpm()?;
            Ok(match ak_template {
                Some(template) => tpm.create_ak_from_and_quote(template, &challenge, pcrs)?,
                None => tpm.create_ak_and_quote(&challenge, pcrs)?,
            })
        })?;
        let wallet_signature = self.with_key(|key| Ok(key.sign_hash(&eip191_hash(&challenge))?))?;
        let too_long = Error::Attest(attest::AttestError::EvidenceLengthOutOfBounds);
        Ok(Evidence {
            attest: heapless::Vec::from_slice(&quote.attest).map_err(|()| too_long)?,
            ak_signature: AkSignature {
                r: quote.signature_r,
                s: quote.signature_s,
            },
            ak_public: heapless::Vec::from_slice(&quote.ak_public).map_err(|()| too_long)?,
            pcr_selection: attest::PcrSelection {
                hash_alg: attest::wire::TPM_ALG_SHA256,
                bitmap: quote.pcrs.selection.bitmap(),
            },
            pcr_values: heapless::Vec::from_slice(&quote.pcrs.values).map_err(|()| too_long)?,
            account,
            wallet_signature,
        })
    }

    /// The TPM-bound backup: base64 of the sealed-key file, the signing
    /// policy and its binding included. It holds no key in clear and
    /// restores only on this TPM.
    ///
    /// # Errors
    /// [`WalletError::NoAccount`].
    pub fn backup(&self) -> Result<String> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        let account = self
            .account
            .as_ref()
            .ok_or(Error::Wallet(WalletError::NoAccount))?;
        if account.bound_state.is_none() {
            return Ok(base64::encode(account.file.bytes()));
        }
        // The ledger goes with the account file: a restore needs the state
        // the anti-rollback counter is at.
        let ledger = self
            .state
            .read_file(SPEND_LEDGER_FILE, MAX_LEDGER_LEN)?
            .unwrap_or_default();
        let mut out = std::vec::Vec::with_capacity(
            BACKUP_HEADER_LEN + account.file.bytes().len() + ledger.len(),
        );
        out.extend_from_slice(&BACKUP_MAGIC);
        out.extend_from_slice(&BACKUP_VERSION.to_be_bytes());
        for part in [account.file.bytes(), ledger.as_slice()] {
            // Both parts are bounded far below 4 GiB.
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part);
        }
        Ok(base64::encode(&out))
    }

    /// Restores a backup made by [`backup`](Self::backup) on this TPM into
    /// this wallet's empty state directory, and loads it with the policy it
    /// carries (binding checked). The restore is logged.
    ///
    /// # Errors
    /// [`WalletError::BackupNotBase64`], [`StateError::Format`] for a damaged
    /// backup, [`WalletError::StateNotEmpty`], [`SealError::SrkNameMismatch`]
    /// for a backup of another TPM, [`SealError::PcrMismatch`],
    /// [`WalletError::AddressMismatch`], [`WalletError::PolicyBindingMismatch`],
    /// TPM errors. Nothing is written unless the key unsealed and matched its
    /// address and policy.
    pub fn restore(&mut self, backup: &str) -> Result<Address> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        let bytes = base64::decode(backup).ok_or(WalletError::BackupNotBase64)?;
        let (account_bytes, ledger_bytes) = split_backup(bytes)?;
        let file = SealedAccount::from_bytes(account_bytes)?;
        if self.account.is_some() || self.state.has_account()? {
            return Err(Error::Wallet(WalletError::StateNotEmpty));
        }
        if file.check_srk_name(self.srk_name.as_bytes()).is_err() {
            let other_ek = file
                .view()
                .ok()
                .and_then(|view| view.tpm_identity())
                .is_some_and(|section| section.ek_name != self.identity.ek_name.as_bytes());
            if other_ek {
                return Err(Error::TpmIdentity(TpmIdentityError::EkChanged));
            }
            return Err(Error::Seal(SealError::SrkNameMismatch));
        }
        let lock = self.state.lock()?;
        if self.state.has_account()? {
            return Err(Error::Wallet(WalletError::StateNotEmpty));
        }
        let address = self.tpm_operation(|wallet| {
            wallet.adopt(file, LedgerSource::Backup(ledger_bytes), &lock)
        })?;
        let logged = match self.account.as_ref() {
            Some(Account {
                policy: Some(bound),
                admin,
                ..
            }) => self.append_audit(
                &lock,
                &address,
                NewAccountEvent::Restore.entry(&bound.policy.hash(), admin.as_ref()),
            ),
            _ => Ok(()),
        };
        // The file as adopted: one written before every account had a
        // counter has its counter now.
        let bytes_to_store = self
            .account
            .as_ref()
            .map(|account| account.file.bytes().to_vec())
            .unwrap_or_default();
        let stored =
            logged.and_then(|()| Ok(self.state.create_account_locked(&lock, &bytes_to_store)?));
        if let Err(e) = stored {
            self.account = None;
            self.cached_key = None;
            return Err(e);
        }
        Ok(address)
    }
}

/// The key on a locked, never-dumped page; `None` (the key wiped, to be
/// unsealed again when next needed) if no page can be mapped.
fn locked_key(key: SecretKey) -> Option<LockedBox<SecretKey>> {
    LockedBox::new(key).ok()
}

/// The policy (with its stored encoding and tag) and the owners of a
/// checked sealed-key file, decoded; not yet checked against the key.
fn bound_parts(
    view: &SealedKeyFileView<'_>,
) -> Result<(Option<BoundAccountPolicy>, Option<AdminState>)> {
    let policy = match view.bound_policy() {
        Some(bound) => Some(BoundAccountPolicy {
            policy: Policy::decode(bound.encoding)?,
            encoding: bound.encoding.to_vec(),
            tag: *bound.tag,
        }),
        None => None,
    };
    let admin = match view.owner_section() {
        Some(section) => Some(AdminState {
            owners: OwnerSet::decode(section.owners)?,
            nonce: section.admin_nonce,
        }),
        None => None,
    };
    Ok((policy, admin))
}

/// The test hook of [`TEST_HOOK_PAUSE_AFTER_RESERVE`].
fn test_hook_pause_after_reserve() {
    test_hook_pause(TEST_HOOK_PAUSE_AFTER_RESERVE);
}

/// A pausing test hook: with the environment variable `hook` set,
/// announces the pause by creating the file it names, then waits until the
/// process is killed. Without it, returns at once.
fn test_hook_pause(hook: &str) {
    let Some(path) = std::env::var_os(hook) else {
        return;
    };
    let _ = std::fs::write(path, b"reserved\n");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// A spend to reserve: its chain (`None`: every chain), asset and amount.
type Spend = (Option<u64>, Asset, tx::U256);

/// The ledger read under the lock and the spends to reserve in it.
type PendingSpends = (SpendLedger, std::vec::Vec<Spend>);

/// Where an adopted account's spend ledger comes from.
enum LedgerSource {
    /// The account was in the state directory: so is its ledger.
    Existing,
    /// The account is new to this directory (a restore), with the ledger
    /// the backup carried, if any.
    Backup(Option<std::vec::Vec<u8>>),
}

/// Magic of a backup that carries the spend ledger with the account file.
const BACKUP_MAGIC: [u8; 8] = *b"FLWBKUP\0";
/// The backup container version this code writes and reads.
const BACKUP_VERSION: u16 = 1;
/// Magic and version of the backup container.
const BACKUP_HEADER_LEN: usize = 8 + 2;

/// The longest backup text [`Wallet::backup`] returns (without a NUL):
/// base64 of the container with the longest account file and ledger.
pub const MAX_BACKUP_TEXT_LEN: usize =
    (BACKUP_HEADER_LEN + 4 + MAX_FILE_LEN + 4 + MAX_LEDGER_LEN).div_ceil(3) * 4;

/// The address of the account in a backup text ([`Wallet::backup`]): its
/// account file's, the file's format and integrity checked. Nothing is
/// unsealed, so nothing says the backup restores.
///
/// # Errors
/// [`WalletError::BackupNotBase64`], [`StateError::Format`] for a damaged
/// backup, [`StateError::FileTooLarge`].
pub fn backup_address(backup: &str) -> Result<Address> {
    let bytes = base64::decode(backup).ok_or(WalletError::BackupNotBase64)?;
    let (account, _) = split_backup(bytes)?;
    let view = crate::backup::SealedKeyFile::parse(&account)
        .map_err(|error| Error::State(StateError::Format(error)))?;
    Ok(Address(*view.address()))
}

/// The account file and the ledger of a decoded backup: the container
/// (`FLWBKUP\0`, version, then each part as a u32 length and its bytes), or
/// a bare account file (a backup written before the container existed, or
/// of an account from before every account had a counter).
fn split_backup(
    bytes: std::vec::Vec<u8>,
) -> Result<(std::vec::Vec<u8>, Option<std::vec::Vec<u8>>)> {
    use crate::backup::{BackupError, Field};
    if !bytes.starts_with(&BACKUP_MAGIC) {
        return Ok((bytes, None));
    }
    let truncated = || Error::State(StateError::Format(BackupError::Truncated(Field::Header)));
    let mut rest = bytes.get(BACKUP_MAGIC.len()..).ok_or_else(truncated)?;
    let (version, tail) = rest.split_first_chunk::<2>().ok_or_else(truncated)?;
    let version = u16::from_be_bytes(*version);
    if version != BACKUP_VERSION {
        return Err(Error::State(StateError::Format(
            BackupError::UnsupportedVersion(version),
        )));
    }
    rest = tail;
    let mut parts = [std::vec::Vec::new(), std::vec::Vec::new()];
    for (part, max) in parts.iter_mut().zip([MAX_FILE_LEN, MAX_LEDGER_LEN]) {
        let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(truncated)?;
        let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
        if len > max {
            return Err(Error::State(StateError::FileTooLarge));
        }
        let (bytes, tail) = tail.split_at_checked(len).ok_or_else(truncated)?;
        *part = bytes.to_vec();
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(Error::State(StateError::Format(BackupError::TrailingBytes)));
    }
    let [account, ledger] = parts;
    Ok((account, Some(ledger)))
}

/// The version 3 ledger in `state`, its MAC checked under `key`; `None`
/// when there is none. Any other ledger (altered, or an older unbound
/// version) is [`WalletError::LedgerUnbound`].
fn bound_ledger_on_disk(
    state: &StateDir,
    address: &Address,
    key: &LedgerKey,
) -> Result<Option<SpendLedger>> {
    let Some(bytes) = state.read_file(SPEND_LEDGER_FILE, MAX_LEDGER_LEN)? else {
        return Ok(None);
    };
    decode_bound_ledger(&bytes, address, key).map(Some)
}

/// A version 3 ledger, its MAC checked; anything else is
/// [`WalletError::LedgerUnbound`].
fn decode_bound_ledger(bytes: &[u8], address: &Address, key: &LedgerKey) -> Result<SpendLedger> {
    match SpendLedger::decode_bound(bytes, address, key) {
        Ok(ledger) if ledger.is_authenticated() => Ok(ledger),
        _ => Err(Error::Wallet(WalletError::LedgerUnbound)),
    }
}

/// The account's TPM counter.
fn read_counter(
    tpm: &mut Tpm<BoxedTransport>,
    rollback: Rollback,
    state: &BoundState,
) -> Result<u64> {
    Ok(counter::read(tpm, rollback.nv_index, &state.counter_auth)?)
}

/// What the state check found left to do by a write a crash interrupted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Repair {
    /// Write the ledger at the account file's counter value, recording it
    /// (an admin action wrote the account file, not yet the ledger).
    rebase: bool,
    /// Write the ledger as it is (a restore into a fresh directory).
    write: bool,
    /// Increment the counter (the newest file was written, the counter
    /// not yet incremented).
    increment: bool,
}

/// Checks the account file's counter value (`rollback`), the ledger's two
/// values (its own and the account file's it was written with) and the TPM
/// counter `tpm_counter` against each other.
///
/// Every write stamps its file with the next counter value, then
/// increments: a reserve writes the ledger at `tpm + 1`; an admin action
/// writes the account file, then the ledger (recording it), both at
/// `tpm + 1`. So in a complete state the ledger is at the counter and
/// records the account file's value; after a crash, the newest file is one
/// ahead. Anything else had a file copied back (or deleted).
fn check_state(
    rollback: Rollback,
    ledger: Option<&SpendLedger>,
    tpm_counter: u64,
) -> Result<Repair> {
    let account = rollback.counter;
    let next = tpm_counter.saturating_add(1);
    let Some(ledger) = ledger else {
        return Err(Error::Wallet(WalletError::LedgerDeleted {
            counter: tpm_counter,
        }));
    };
    if !ledger.is_authenticated() {
        return Err(Error::Wallet(WalletError::LedgerUnbound));
    }
    let (written, records) = (ledger.counter(), ledger.account_counter());
    if account > next {
        return Err(Error::Wallet(WalletError::CounterAhead {
            file: account,
            counter: tpm_counter,
        }));
    }
    if written > next || records > written {
        return Err(Error::Wallet(WalletError::LedgerAhead {
            file: written,
            counter: tpm_counter,
        }));
    }
    if account == next && written == tpm_counter && records < account {
        // An admin action wrote the account file and stopped before the
        // ledger: complete it.
        return Ok(Repair {
            rebase: true,
            write: true,
            increment: true,
        });
    }
    if account < records {
        return Err(Error::Wallet(WalletError::RolledBack {
            file: account,
            counter: tpm_counter,
        }));
    }
    if account > records || written < tpm_counter {
        // The ledger predates the account file, or the counter.
        return Err(Error::Wallet(WalletError::LedgerRolledBack {
            file: written,
            counter: tpm_counter,
        }));
    }
    Ok(Repair {
        increment: written == next,
        ..Repair::default()
    })
}

/// Carries out `repair` on `ledger` and returns it.
fn complete_state(
    state: &StateDir,
    tpm: &mut Tpm<BoxedTransport>,
    lock: &StateLock,
    (rollback, bound): (Rollback, &mut BoundState),
    mut ledger: SpendLedger,
    repair: Repair,
) -> Result<SpendLedger> {
    if repair.rebase {
        ledger.set_counter(rollback.counter);
        ledger.set_account_counter(rollback.counter);
    }
    if repair.rebase || repair.write {
        state.replace_file(
            lock,
            SPEND_LEDGER_FILE,
            &ledger.encode_bound(&bound.ledger_key),
        )?;
    }
    if repair.increment {
        counter::increment(tpm, rollback.nv_index, &bound.counter_auth)?;
        bound.tpm_counter = bound.tpm_counter.saturating_add(1);
    }
    Ok(ledger)
}

/// The ledger of an account restored into a fresh directory: the one its
/// backup carries, which must be the state the counter is at; without one
/// (a bare account file), an empty ledger, only when no ledger write
/// happened after the account file was written.
fn restored_ledger(
    tpm: &mut Tpm<BoxedTransport>,
    address: &Address,
    rollback: Rollback,
    state: &mut BoundState,
    bytes: Option<&[u8]>,
) -> Result<(Option<SpendLedger>, Repair)> {
    state.tpm_counter = read_counter(tpm, rollback, state)?;
    let counter = state.tpm_counter;
    if let Some(bytes) = bytes {
        let ledger = decode_bound_ledger(bytes, address, &state.ledger_key)?;
        let repair = check_state(rollback, Some(&ledger), counter)?;
        return Ok((
            Some(ledger),
            Repair {
                write: true,
                ..repair
            },
        ));
    }
    if rollback.counter < counter {
        return Err(Error::Wallet(WalletError::RolledBack {
            file: rollback.counter,
            counter,
        }));
    }
    if rollback.counter > counter.saturating_add(1) {
        return Err(Error::Wallet(WalletError::CounterAhead {
            file: rollback.counter,
            counter,
        }));
    }
    Ok((
        Some(SpendLedger::new(*address)),
        Repair {
            rebase: true,
            write: true,
            increment: rollback.counter > counter,
        },
    ))
}

/// An account file without a counter, about to get one.
struct NewCounterAccount<'a> {
    address: &'a Address,
    sealed: &'a SealedObject,
    admin: Option<&'a AdminState>,
    identity: Option<&'a AccountTpmBinding>,
    /// Replace the account file in the state directory (a load), or leave
    /// storing it to the caller (a restore).
    store: bool,
}

/// What [`give_counter`] wrote.
struct CounterGiven {
    file: SealedAccount,
    rollback: Rollback,
    state: BoundState,
    ledger: SpendLedger,
}

/// Gives an account file written before every account had a counter (an
/// account without a key lock) its anti-rollback counter, under the state
/// lock: defines it, writes the ledger (`entries`, bound) at its value, then
/// the account file recording it, with `bound`'s tag made again.
///
/// When the TPM already holds this account's counter, a file without one was
/// copied back from before: refused as rolled back, unless the ledger on
/// disk is bound and exactly at the counter's value (a crash stopped this
/// function between the ledger and the account file; no state change
/// followed, so the file without the counter says nothing older), which is
/// completed. A crash between defining the counter and writing the ledger
/// leaves the account refused; the owner hierarchy's
/// `TPM2_NV_UndefineSpace` of the counter lets it load again.
fn give_counter(
    tpm: &mut Tpm<BoxedTransport>,
    (state, lock): (&StateDir, &StateLock),
    srk_name: &Name,
    key: &SecretKey,
    account: NewCounterAccount<'_>,
    bound: &mut BoundAccountPolicy,
    entries: Result<SpendLedger>,
) -> Result<CounterGiven> {
    let address = account.address;
    let auth = CounterAuth::derive(key);
    let mut keys = BoundState::derive(key, 0);
    let (rollback, ledger) = match counter::find(tpm, &address.0, &auth)? {
        Some((nv_index, counter)) => {
            let on_disk = bound_ledger_on_disk(state, address, &keys.ledger_key)
                .ok()
                .flatten()
                .filter(|ledger| {
                    ledger.counter() == counter && ledger.account_counter() == counter
                });
            let Some(ledger) = on_disk else {
                return Err(Error::Wallet(WalletError::RolledBack { file: 0, counter }));
            };
            (Rollback { nv_index, counter }, ledger)
        }
        None => {
            // The ledger is read before the counter is defined: a damaged
            // one stops the load before anything changes.
            let mut ledger = entries?;
            let (nv_index, counter) = counter::define(tpm, srk_name, &address.0, &auth)?;
            ledger.set_counter(counter);
            ledger.set_account_counter(counter);
            state.replace_file(
                lock,
                SPEND_LEDGER_FILE,
                &ledger.encode_bound(&keys.ledger_key),
            )?;
            (Rollback { nv_index, counter }, ledger)
        }
    };
    bound.tag = account_tag(
        key,
        address,
        bound,
        account.admin,
        account.identity,
        account.sealed,
        rollback,
    )?;
    let file = encode_sealed(
        address,
        account.sealed,
        Some(bound),
        account.admin,
        account.identity,
        rollback,
    )?;
    if account.store {
        state.replace_account_locked(lock, file.bytes())?;
    }
    keys.tpm_counter = rollback.counter;
    Ok(CounterGiven {
        file,
        rollback,
        state: keys,
        ledger,
    })
}

/// The anti-rollback counter and the value its file was written at, from
/// the file's key-lock section (both 0 without one).
fn rollback_of(view: &crate::backup::SealedKeyFileView<'_>) -> Rollback {
    view.key_lock()
        .map_or(Rollback::default(), |section| Rollback {
            nv_index: section.nv_counter_index,
            counter: section.counter,
        })
}

/// Unseals the key of `sealed` and checks it: it must belong to `address`,
/// and the account's policy, if it has one, must carry a binding tag made
/// with it.
/// How a key is unsealed.
struct Unsealing<'a> {
    /// The persistent SRK proven resident, kept between unseals.
    resident: &'a mut Option<ResidentSrk>,
    encryption: ParameterEncryption,
    /// The wallet's PIN, presented only to a PIN-locked key.
    pin: Option<&'a PinAuth>,
}

fn unseal_checked(
    tpm: &mut Tpm<BoxedTransport>,
    Unsealing {
        resident,
        encryption,
        pin,
    }: Unsealing<'_>,
    sealed: &SealedObject,
    address: &Address,
    policy: Option<&BoundAccountPolicy>,
    admin: Option<&AdminState>,
    (identity, rollback): (Option<&AccountTpmBinding>, Rollback),
) -> Result<SecretKey> {
    // A PIN set for the wallet is presented only to a PIN-locked key.
    let pin = pin.filter(|_| sealed.lock().pin);
    let secret = unseal_key(tpm, resident, sealed, pin, encryption)?;
    let key = SecretKey::from_bytes(&secret)?;
    if key.address() != *address {
        return Err(Error::Wallet(WalletError::AddressMismatch));
    }
    if let Some(bound) = policy {
        let expected = account_tag(&key, address, bound, admin, identity, sealed, rollback)?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &bound.tag[..])) {
            return Err(Error::Wallet(WalletError::PolicyBindingMismatch));
        }
    }
    Ok(key)
}

/// Unseals `sealed` under the persistent SRK proven resident (found, made
/// and proven first when there is none yet), or, when the SRK cannot be made
/// persistent, under an SRK created for this unseal alone. A refusal of the
/// commands that use the SRK's handle (`StartAuthSession`, `Load`), which
/// may mean the persistent SRK went stale (evicted, or another key at its
/// handle), makes it resident again and is tried once more; nothing else is
/// retried (`Unseal`'s refusals, `TPM_RC_FAILURE`).
fn unseal_key(
    tpm: &mut Tpm<BoxedTransport>,
    resident: &mut Option<ResidentSrk>,
    sealed: &SealedObject,
    pin: Option<&PinAuth>,
    encryption: ParameterEncryption,
) -> core::result::Result<Zeroizing<[u8; SECRET_LEN]>, SealError> {
    if let Some(held) = resident
        .as_ref()
        .filter(|held| held.name() == sealed.srk_name())
    {
        // `TPM2_StartAuthSession`, `TPM2_Load`: the commands that use the
        // SRK's handle. `TPM_RC_FAILURE`: the TPM is in failure mode.
        const CC_START_AUTH_SESSION: u32 = 0x176;
        const CC_LOAD: u32 = 0x157;
        const RC_FAILURE: u32 = 0x101;
        match seal::unseal_resident(tpm, held, sealed, pin, encryption) {
            Err(SealError::Tpm(tpm::TpmError::Tpm { command, rc }))
                if matches!(command, CC_START_AUTH_SESSION | CC_LOAD)
                    && rc.base() != RC_FAILURE => {}
            done => return done,
        }
    }
    *resident = None;
    match seal::resident_srk(tpm, sealed.srk_name())? {
        Some(held) => {
            let secret = seal::unseal_resident(tpm, &held, sealed, pin, encryption);
            *resident = Some(held);
            secret
        }
        None => seal::unseal_locked(tpm, sealed.srk_name(), sealed, pin, encryption),
    }
}

/// The binding tag of `bound` (and `admin`, and the key-lock section of
/// `sealed` if it is locked) for `key` and `address`.
fn account_tag(
    key: &SecretKey,
    address: &Address,
    bound: &BoundAccountPolicy,
    admin: Option<&AdminState>,
    identity: Option<&AccountTpmBinding>,
    sealed: &SealedObject,
    rollback: Rollback,
) -> Result<[u8; 32]> {
    let owners = admin.map(AdminState::owners_encoding).transpose()?;
    let section = match (admin, &owners) {
        (Some(admin), Some(owners)) => Some((owners.as_slice(), admin.nonce)),
        _ => None,
    };
    let lock = key_lock_bytes(sealed, rollback)?;
    Ok(binding_tag(
        key,
        address,
        &bound.encoding,
        section,
        identity,
        lock.as_deref(),
    ))
}

/// The account file's key-lock mode bits of `lock`.
fn key_lock_mode(lock: KeyLock) -> u8 {
    let mut mode = 0;
    if lock.pin {
        mode |= backup::KEY_LOCK_PIN;
    }
    if lock.pcrs.is_some() {
        mode |= backup::KEY_LOCK_PCRS;
    }
    if lock.boot_once_pcr.is_some() {
        mode |= backup::KEY_LOCK_BOOT_ONCE;
    }
    mode
}

/// [`authority::change_pin_params_hash`] of `lock`'s public descriptor.
fn change_pin_params_hash_of(lock: KeyLock) -> [u8; 32] {
    authority::change_pin_params_hash(
        key_lock_mode(lock),
        lock.pcrs.map_or(0, |pcrs| pcrs.bitmap()),
        lock.boot_once_pcr.unwrap_or(0),
    )
}

/// The anti-rollback NV counter of an account and the value its files were
/// written at (both 0 without a counter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rollback {
    nv_index: u32,
    counter: u64,
}

/// The key-lock section of a sealed object: for a locked one, its lock and
/// counter; for an unlocked one, mode `none` with its counter alone, or
/// `None` for an account file written before every account had a counter.
fn key_lock_section(sealed: &SealedObject, rollback: Rollback) -> Option<KeyLockSection<'_>> {
    let lock = sealed.lock();
    if lock.is_unlocked() {
        return (rollback.nv_index != 0).then_some(KeyLockSection {
            mode: backup::KEY_LOCK_NONE,
            boot_once_pcr: 0,
            nv_counter_index: rollback.nv_index,
            counter: rollback.counter,
            policy_digest: &[],
        });
    }
    let digest = sealed.policy_digest()?;
    Some(KeyLockSection {
        mode: key_lock_mode(lock),
        boot_once_pcr: lock.boot_once_pcr.unwrap_or(0),
        nv_counter_index: rollback.nv_index,
        counter: rollback.counter,
        policy_digest: digest,
    })
}

/// The key-lock section's bytes, as the binding tag covers them.
fn key_lock_bytes(sealed: &SealedObject, rollback: Rollback) -> Result<Option<std::vec::Vec<u8>>> {
    let Some(section) = key_lock_section(sealed, rollback) else {
        return Ok(None);
    };
    let mut out = std::vec![0u8; backup::KEY_LOCK_FIXED_LEN + 2 + backup::MAX_POLICY_DIGEST_LEN];
    let len = section.to_bytes(&mut out)?;
    out.truncate(len);
    Ok(Some(out))
}

/// The next sequence number and head of a parsed log.
fn audit_tail(entries: &[AuditEntry]) -> AuditTail {
    entries.last().map_or(
        AuditTail {
            next_seq: 0,
            head: audit::GENESIS,
        },
        |last| AuditTail {
            next_seq: last.seq.saturating_add(1),
            head: last.hash,
        },
    )
}

/// How an account came to this state directory, as the audit log says.
#[derive(Clone, Copy)]
enum NewAccountEvent {
    Create,
    Import,
    Restore,
}

impl NewAccountEvent {
    fn entry(self, policy: &[u8; 32], admin: Option<&AdminState>) -> AuditEvent {
        let policy = *policy;
        let owners = admin.map_or(NO_OWNERS_HASH, |admin| admin.owners.hash());
        let threshold = admin.map_or(0, |admin| admin.owners.threshold());
        match self {
            Self::Create => AuditEvent::Create {
                policy,
                owners,
                threshold,
            },
            Self::Import => AuditEvent::Import {
                policy,
                owners,
                threshold,
            },
            Self::Restore => AuditEvent::Restore {
                policy,
                owners,
                threshold,
            },
        }
    }
}

#[cfg(test)]
mod state_check_tests {
    use super::*;

    /// An authenticated ledger written at `written`, recording account
    /// file value `records`.
    fn ledger(written: u64, records: u64) -> SpendLedger {
        let key = SecretKey::from_bytes(&[0x42; 32]).unwrap();
        let address = key.address();
        let ledger_key = LedgerKey::derive(&key);
        let mut ledger = SpendLedger::new(address);
        ledger.set_counter(written);
        ledger.set_account_counter(records);
        SpendLedger::decode_bound(&ledger.encode_bound(&ledger_key), &address, &ledger_key).unwrap()
    }

    fn account(counter: u64) -> Rollback {
        Rollback {
            nv_index: OWNER_NV_INDEX_FOR_TESTS,
            counter,
        }
    }

    const OWNER_NV_INDEX_FOR_TESTS: u32 = crate::counter::OWNER_NV_FIRST;

    fn refused(result: Result<Repair>) -> WalletError {
        match result {
            Err(Error::Wallet(error)) => error,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn complete_states_pass_and_interrupted_writes_are_completed() {
        // Steady: the ledger at the counter, recording the account file.
        assert_eq!(
            check_state(account(5), Some(&ledger(9, 5)), 9).unwrap(),
            Repair::default()
        );
        // A reserve (or an admin action) wrote its file, then stopped.
        let increment = Repair {
            increment: true,
            ..Repair::default()
        };
        assert_eq!(
            check_state(account(5), Some(&ledger(10, 5)), 9).unwrap(),
            increment
        );
        assert_eq!(
            check_state(account(10), Some(&ledger(10, 10)), 9).unwrap(),
            increment
        );
        // An admin action wrote the account file, not yet the ledger.
        assert_eq!(
            check_state(account(10), Some(&ledger(9, 5)), 9).unwrap(),
            Repair {
                rebase: true,
                write: true,
                increment: true
            }
        );
    }

    #[test]
    fn every_copied_back_or_missing_file_is_refused() {
        assert_eq!(
            refused(check_state(account(5), None, 9)),
            WalletError::LedgerDeleted { counter: 9 }
        );
        let unbound = SpendLedger::new(Address([1; 20]));
        assert_eq!(
            refused(check_state(account(5), Some(&unbound), 9)),
            WalletError::LedgerUnbound
        );
        // An older ledger.
        assert_eq!(
            refused(check_state(account(5), Some(&ledger(8, 5)), 9)),
            WalletError::LedgerRolledBack {
                file: 8,
                counter: 9
            }
        );
        // An older account file than the ledger records.
        assert_eq!(
            refused(check_state(account(4), Some(&ledger(9, 5)), 9)),
            WalletError::RolledBack {
                file: 4,
                counter: 9
            }
        );
        // The ledger from before an admin action, once the counter moved on.
        assert_eq!(
            refused(check_state(account(9), Some(&ledger(8, 5)), 9)),
            WalletError::LedgerRolledBack {
                file: 8,
                counter: 9
            }
        );
        // During an unfinished admin action, an older ledger still fails.
        assert_eq!(
            refused(check_state(account(10), Some(&ledger(8, 5)), 9)),
            WalletError::LedgerRolledBack {
                file: 8,
                counter: 9
            }
        );
        // Files ahead of the counter were not written by this wallet.
        assert!(matches!(
            refused(check_state(account(11), Some(&ledger(9, 5)), 9)),
            WalletError::CounterAhead { .. }
        ));
        assert!(matches!(
            refused(check_state(account(5), Some(&ledger(11, 5)), 9)),
            WalletError::LedgerAhead { .. }
        ));
    }
}
