//! The `Wallet` (std): one TPM, one state directory, one sealed account.
//!
//! The key is generated with TPM entropy (or imported), sealed by the TPM,
//! stored as a sealed-key file in the state directory and unsealed only into
//! this process's zeroizing memory, over a salted session with parameter
//! encryption. The caller gets addresses, signed transactions, signatures,
//! attestation evidence and TPM-bound backups; never the key.
//!
//! Two key modes: [`KeyMode::Strict`] unseals the key for every signature and
//! wipes it at once; [`KeyMode::Cached`] keeps the unsealed key in zeroizing
//! memory until the wallet is closed (or the mode is set back to strict).
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
//! Only [`Wallet::replace_policy`] changes it, and each change is appended to
//! the audit log ([`POLICY_LOG_FILE`]) with
//! the old and new hashes.
//!
//! Each signing call decodes its input, checks the policy, and only then
//! touches the key; a refusal is [`PolicyError::Violation`](policy::PolicyError::Violation) and nothing is
//! signed. With `daily_limit_wei` set, each signed transaction's worst case
//! (value + maximum fee) is written to the spend ledger
//! ([`SPEND_LEDGER_FILE`]) atomically before
//! the signed bytes are returned, so a crash never forgets a spend.
//!
//! A sealed-key file written before signing policies existed carries none:
//! such an account loads, attests with [`NO_POLICY_HASH`] and can be backed
//! up, but signs nothing ([`WalletError::PolicyUnbound`]) until
//! [`Wallet::replace_policy`] binds one. Treating it as the default policy
//! instead would let a writer of the state directory strip a policy by
//! rewriting the file in the old form.
//!
//! What a writer of the state directory can still do: put back an older
//! account file with the policy it had then (it was validly bound), delete
//! the spend ledger (which restarts the 24-hour history) or edit the audit
//! log. Defeating rollback needs a monotonic counter the writer cannot reset
//! (a TPM NV counter); the attested policy hash lets a remote party see
//! which policy is in force.

use core::fmt;
use std::boxed::Box;
use std::path::Path;
use std::string::String;

use zeroize::Zeroizing;

use crate::attest::{self, AkSignature, Evidence, NO_POLICY_HASH};
use crate::backup::{BoundPolicy, PcrPolicy, SealedKeyFile, SealedKeyFileView, MAX_FILE_LEN};
use crate::policy::audit::{self, PolicyEvent, PolicyLogEntry, MAX_LOG_LEN};
use crate::policy::ledger::{Clock, SpendLedger, SystemClock, MAX_LEDGER_LEN};
use crate::policy::{self, Eip712Domain, Policy};
use crate::seal::{self, SealError, SealedObject};
use crate::signer::{eip191_hash, eip712_hash, Address, SecretKey, Signature};
use crate::state::{SealedAccount, StateDir, StateError, POLICY_LOG_FILE, SPEND_LEDGER_FILE};
use crate::tpm::command::SECRET_LEN;
use crate::tpm::{self, Name, ParameterEncryption, PcrSelection, Tpm, Transport};
use crate::tx;
use crate::{Error, Result};

pub mod base64;
mod keystore;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountOptions {
    /// Bind the sealed key to the current values of these PCRs (SHA-256
    /// bank): once any of them changes, the key can no longer be unsealed.
    pub pcrs: Option<PcrSelection>,
    /// The signing policy the account is created with and bound to
    /// ([`Policy::default`]: everything but unprotected transactions).
    pub policy: Policy,
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
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
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
                "the account file predates signing policies and carries none: bind one with replace_policy before signing"
            }
        })
    }
}

/// A policy and the tag that binds it to the account's key.
struct BoundAccountPolicy {
    policy: Policy,
    tag: [u8; 32],
}

/// The loaded account.
struct Account {
    address: Address,
    sealed: SealedObject,
    file: SealedAccount,
    /// `None` for an account file written before signing policies.
    policy: Option<BoundAccountPolicy>,
    ledger: SpendLedger,
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
    account: Option<Account>,
    key_mode: KeyMode,
    cached_key: Option<SecretKey>,
    encryption: ParameterEncryption,
    clock: Box<dyn Clock>,
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
    Ok(SealedObject::from_parts(
        view.public_tpm2b(),
        view.private_tpm2b(),
        srk_name,
        pcrs,
        digest,
    )?)
}

/// Encodes the engine's sealed object as a sealed-key file, with the
/// account's policy and its binding tag.
fn encode_sealed(
    address: &Address,
    sealed: &SealedObject,
    policy: Option<&BoundAccountPolicy>,
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
    let encoding = policy.map(|bound| bound.policy.to_bytes());
    let bound = match (policy, &encoding) {
        (Some(policy), Some(encoding)) => Some(BoundPolicy {
            encoding,
            tag: &policy.tag,
        }),
        _ => None,
    };
    let mut out = std::vec![0u8; MAX_FILE_LEN];
    let len = file.encode_with_policy(bound, &mut out)?;
    out.truncate(len);
    Ok(SealedAccount::from_bytes(out)?)
}

impl Wallet {
    /// Opens the TPM named by `tcti` (`device:/dev/tpmrm0`,
    /// `swtpm:host=H,port=P`, `swtpm:path=SOCK`) and the state directory
    /// (created with mode 0700 if missing). No account is loaded yet.
    ///
    /// # Errors
    /// Transport, TPM and state-directory errors.
    pub fn open(tcti: &str, state_dir: &Path) -> Result<Self> {
        let transport = tpm::transport::open(tcti)?;
        Self::with_transport(Box::new(transport), state_dir)
    }

    /// As [`open`](Self::open), over a transport the caller built (a
    /// recording or fault-injecting transport in tests, for example).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn with_transport(transport: BoxedTransport, state_dir: &Path) -> Result<Self> {
        let state = StateDir::open(state_dir)?;
        let mut tpm = Tpm::new(transport)?;
        tpm.startup()?;
        let srk_name = seal::srk_name(&mut tpm)?;
        Ok(Self {
            tpm: Some(tpm),
            state,
            srk_name,
            account: None,
            key_mode: KeyMode::Strict,
            cached_key: None,
            encryption: ParameterEncryption::Aes128Cfb,
            clock: Box::new(SystemClock),
        })
    }

    /// Sets the clock the spend history and the audit log use (the system
    /// clock by default); tests inject their own.
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    /// Wipes any cached key and releases the TPM connection. Every later
    /// call fails with [`WalletError::Closed`].
    pub fn close(&mut self) {
        self.cached_key = None;
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

    /// Sets the key mode; going back to strict wipes the cached key at once.
    pub fn set_key_mode(&mut self, mode: KeyMode) {
        self.key_mode = mode;
        if mode == KeyMode::Strict {
            self.cached_key = None;
        }
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
        let secret = seal::generate_secret(self.tpm()?, &os_entropy)?;
        self.store_new(&secret, options, PolicyEvent::Create)
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
        self.store_new(key, options, PolicyEvent::Import)
    }

    fn store_new(
        &mut self,
        secret: &[u8; SECRET_LEN],
        options: AccountOptions,
        event: PolicyEvent,
    ) -> Result<Address> {
        let key = SecretKey::from_bytes(secret)?;
        let address = key.address();
        let AccountOptions { pcrs, policy } = options;
        let tag = policy.binding_tag(&key, &address);
        let bound = BoundAccountPolicy { policy, tag };
        let srk_name = self.srk_name;
        let encryption = self.encryption;
        let sealed = seal::seal_secret(self.tpm()?, Some(&srk_name), secret, pcrs, encryption)?;
        let file = encode_sealed(&address, &sealed, Some(&bound))?;
        self.log_policy(event, &address, None, &bound.policy)?;
        self.state.create_account(file.bytes())?;
        let ledger = self.ledger_for_new_account(&address);
        self.account = Some(Account {
            address,
            sealed,
            file,
            policy: Some(bound),
            ledger,
        });
        if self.key_mode == KeyMode::Cached {
            self.cached_key = Some(key);
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
        let file = match self.state.load_account(self.srk_name.as_bytes()) {
            Err(StateError::SrkNameMismatch) => {
                return Err(Error::Seal(SealError::SrkNameMismatch))
            }
            other => other?,
        };
        self.adopt(file, LedgerSource::Existing)
    }

    /// Checks and unseals `file` once (address and policy binding), then
    /// makes it the loaded account.
    fn adopt(&mut self, file: SealedAccount, ledger_source: LedgerSource) -> Result<Address> {
        let view = file.view()?;
        let address = Address(*view.address());
        let sealed = sealed_object_of(&view)?;
        let policy = match view.bound_policy() {
            Some(bound) => Some(BoundAccountPolicy {
                policy: Policy::decode(bound.encoding)?,
                tag: *bound.tag,
            }),
            None => None,
        };
        let tpm = self
            .tpm
            .as_mut()
            .ok_or(Error::Wallet(WalletError::Closed))?;
        let key = unseal_checked(tpm, self.encryption, &sealed, &address, policy.as_ref())?;
        let ledger = match ledger_source {
            LedgerSource::Existing => self.existing_ledger(&address, policy.as_ref())?,
            LedgerSource::New => self.ledger_for_new_account(&address),
        };
        self.account = Some(Account {
            address,
            sealed,
            file,
            policy,
            ledger,
        });
        self.cached_key = None;
        if self.key_mode == KeyMode::Cached {
            self.cached_key = Some(key);
        }
        Ok(address)
    }

    /// The spend ledger of a loaded account: none yet, or the one on disk.
    /// A damaged one is an error only when a daily limit needs it.
    fn existing_ledger(
        &self,
        address: &Address,
        policy: Option<&BoundAccountPolicy>,
    ) -> Result<SpendLedger> {
        let needed = policy.is_some_and(|bound| bound.policy.daily_limit_wei().is_some());
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
    fn ledger_for_new_account(&self, address: &Address) -> SpendLedger {
        match self.state.read_file(SPEND_LEDGER_FILE, MAX_LEDGER_LEN) {
            Ok(Some(bytes)) => {
                SpendLedger::decode(&bytes, address).unwrap_or_else(|_| SpendLedger::new(*address))
            }
            _ => SpendLedger::new(*address),
        }
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
            self.encryption,
            &account.sealed,
            &account.address,
            account.policy.as_ref(),
        )?;
        let result = f(&key);
        if self.key_mode == KeyMode::Cached {
            self.cached_key = Some(key);
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

    /// Replaces the account's signing policy: binds `policy` to the key
    /// (which is unsealed for this, in strict mode, after its current binding
    /// is checked), appends the change to the audit log, then replaces the
    /// account file atomically. Returns the new policy hash.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`], the errors of
    /// unsealing (including [`WalletError::PolicyBindingMismatch`]), and
    /// state-directory errors; the old policy stays in force on any error.
    pub fn replace_policy(&mut self, policy: Policy) -> Result<[u8; 32]> {
        let account = self.account()?;
        let address = account.address;
        let old_hash = account.policy.as_ref().map(|bound| bound.policy.hash());
        let tag = self.with_key(|key| Ok(policy.binding_tag(key, &address)))?;
        let bound = BoundAccountPolicy { policy, tag };
        let account = self.account()?;
        let file = encode_sealed(&address, &account.sealed, Some(&bound))?;
        self.log_policy(PolicyEvent::Replace, &address, old_hash, &bound.policy)?;
        self.state.replace_account(file.bytes())?;
        let new_hash = bound.policy.hash();
        if let Some(account) = self.account.as_mut() {
            account.file = file;
            account.policy = Some(bound);
        }
        Ok(new_hash)
    }

    /// Appends one entry to the policy audit log, atomically.
    fn log_policy(
        &self,
        event: PolicyEvent,
        address: &Address,
        old_hash: Option<[u8; 32]>,
        policy: &Policy,
    ) -> Result<()> {
        let mut log = self
            .state
            .read_file(POLICY_LOG_FILE, MAX_LOG_LEN)?
            .unwrap_or_default();
        audit::parse_log(&log)?;
        let entry = PolicyLogEntry {
            time: self.clock.now_unix_seconds(),
            event,
            address: *address,
            old_hash,
            new_hash: policy.hash(),
        };
        log.extend_from_slice(entry.to_line().as_bytes());
        if log.len() > MAX_LOG_LEN {
            return Err(Error::State(StateError::StateFileTooLarge));
        }
        Ok(self.state.replace_file(POLICY_LOG_FILE, &log)?)
    }

    /// The policy audit log of this state directory, oldest entry first.
    ///
    /// # Errors
    /// State-directory errors and [`PolicyError::AuditLogMalformed`](policy::PolicyError::AuditLogMalformed).
    pub fn policy_log(&self) -> Result<std::vec::Vec<PolicyLogEntry>> {
        let log = self
            .state
            .read_file(POLICY_LOG_FILE, MAX_LOG_LEN)?
            .unwrap_or_default();
        Ok(audit::parse_log(&log)?)
    }

    /// What counts against `daily_limit_wei` on `chain_id` now (`None`: the
    /// total of every chain, as for a transaction without replay protection).
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`].
    pub fn daily_spent(&self, chain_id: Option<u64>) -> Result<tx::U256> {
        let now = self.clock.now_unix_seconds();
        Ok(self.account()?.ledger.spent(chain_id, now))
    }

    /// Checks `transaction` against the policy and the daily limit; returns
    /// the spend to record once it is signed, if a daily limit is set.
    fn check_transaction(
        &self,
        transaction: &tx::TypedTransaction<'_>,
        now: u64,
    ) -> Result<Option<(Option<u64>, tx::U256)>> {
        let account = self.account()?;
        let policy = account.bound_policy()?;
        policy.check_transaction(transaction)?;
        if policy.daily_limit_wei().is_none() {
            return Ok(None);
        }
        let chain_id = transaction.chain_id();
        let spend = policy::worst_case_spend(transaction);
        policy.check_daily_limit(chain_id, account.ledger.spent(chain_id, now), spend)?;
        Ok(spend.map(|amount| (chain_id, amount)))
    }

    /// Adds a spend to the ledger and writes it to disk atomically; the
    /// in-memory ledger changes only once the file is written.
    fn record_spend(&mut self, chain_id: Option<u64>, amount: tx::U256, now: u64) -> Result<()> {
        let account = self.account()?;
        let mut ledger = account.ledger.clone();
        ledger.record(chain_id, amount, now);
        self.state
            .replace_file(SPEND_LEDGER_FILE, &ledger.encode())?;
        if let Some(account) = self.account.as_mut() {
            account.ledger = ledger;
        }
        Ok(())
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
        let spend = self.check_transaction(&transaction, now)?;
        let hash = transaction.signature_hash()?;
        let signature = self.with_key(|key| Ok(key.sign_hash(&hash)?))?;
        let needed = transaction.encoded_signed_len(&signature)?;
        if out.len() < needed {
            return Err(tx::TxError::BufferTooSmall { needed }.into());
        }
        if let Some((chain_id, amount)) = spend {
            self.record_spend(chain_id, amount, now)?;
        }
        Ok(transaction.encode_signed(&signature, out)?)
    }

    /// Signs `message` as EIP-191 `personal_sign`, if `allow_messages`.
    ///
    /// # Errors
    /// [`PolicyError::Violation`](policy::PolicyError::Violation), [`WalletError::PolicyUnbound`], and the
    /// errors of unsealing.
    pub fn sign_message(&mut self, message: &[u8]) -> Result<Signature> {
        self.account()?.bound_policy()?.check_message()?;
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
        self.account()?.bound_policy()?.check_typed_data(domain)?;
        let hash = domain.signing_hash(struct_hash);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Signs EIP-712 typed data given its domain separator and struct hash.
    /// Refused when the policy sets `typed_data_domains`: a domain cannot be
    /// checked from its hash; use [`sign_typed_data`](Self::sign_typed_data).
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
        self.account()?.bound_policy()?.check_typed_data_hash()?;
        let hash = eip712_hash(domain_separator, struct_hash);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
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
        self.require_account()?;
        let address = self.address()?;
        let policy_hash = self.policy_hash()?;
        let challenge = attest::challenge(nonce, chain_id, &address, &policy_hash);
        let quote = self.tpm()?.create_ak_and_quote(&challenge, pcrs)?;
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
            address,
            chain_id,
            policy_hash,
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
        Ok(base64::encode(account.file.bytes()))
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
        let file = SealedAccount::from_bytes(bytes)?;
        if self.account.is_some() || self.state.has_account()? {
            return Err(Error::Wallet(WalletError::StateNotEmpty));
        }
        if file.check_srk_name(self.srk_name.as_bytes()).is_err() {
            return Err(Error::Seal(SealError::SrkNameMismatch));
        }
        let bytes_to_store = file.bytes().to_vec();
        let address = self.adopt(file, LedgerSource::New)?;
        let logged = match self.account.as_ref().and_then(|a| a.policy.as_ref()) {
            Some(bound) => self.log_policy(PolicyEvent::Restore, &address, None, &bound.policy),
            None => Ok(()),
        };
        if let Err(e) = logged.and_then(|()| Ok(self.state.create_account(&bytes_to_store)?)) {
            self.account = None;
            self.cached_key = None;
            return Err(e);
        }
        Ok(address)
    }
}

/// Where an adopted account's spend ledger comes from.
#[derive(Clone, Copy)]
enum LedgerSource {
    /// The account was in the state directory: so is its ledger.
    Existing,
    /// The account is new to this directory (a restore).
    New,
}

/// Unseals the key of `sealed` and checks it: it must belong to `address`,
/// and the account's policy, if it has one, must carry a binding tag made
/// with it.
fn unseal_checked(
    tpm: &mut Tpm<BoxedTransport>,
    encryption: ParameterEncryption,
    sealed: &SealedObject,
    address: &Address,
    policy: Option<&BoundAccountPolicy>,
) -> Result<SecretKey> {
    let secret = seal::unseal_secret(tpm, sealed.srk_name(), sealed, encryption)?;
    let key = SecretKey::from_bytes(&secret)?;
    if key.address() != *address {
        return Err(Error::Wallet(WalletError::AddressMismatch));
    }
    if let Some(bound) = policy {
        if !bound.policy.binding_matches(&key, address, &bound.tag) {
            return Err(Error::Wallet(WalletError::PolicyBindingMismatch));
        }
    }
    Ok(key)
}
