//! The accounts the service signs for, and the one TPM connection they share.
//!
//! The service opens the TPM once. Every account's [`Wallet`] talks to it
//! through a [`TpmHandle`], which passes whole frames over that one
//! connection under a lock; a connection that breaks (swtpm restarted, a
//! device reset) is reopened on the next command. Operations that use the
//! TPM for more than one frame (an unseal, a quote) also hold the
//! [`TpmGate`], so the frames of two accounts never interleave: swtpm has
//! three transient object slots and no resource manager.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use wallet_core::authority::OwnerSet;
use wallet_core::policy::Policy;
use wallet_core::signer::Address;
use wallet_core::tpm::transport::{self, StdTransport, Transport, TransportError};
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet};

use crate::metrics::Metrics;

/// The state of the shared TPM connection.
struct TpmLink {
    tcti: String,
    transport: Option<StdTransport>,
    last_error: Option<(TransportError, Instant)>,
}

/// The one TPM connection of the service.
#[derive(Clone)]
pub struct SharedTpm {
    link: Arc<Mutex<TpmLink>>,
    gate: Arc<Mutex<()>>,
    metrics: Arc<Metrics>,
}

/// Serialises the multi-frame TPM operations of all accounts.
pub type TpmGate<'a> = MutexGuard<'a, ()>;

impl SharedTpm {
    /// Opens the TPM named by `tcti` (a socket connects on the first command).
    ///
    /// # Errors
    /// An invalid TCTI string or a device that cannot be opened.
    pub fn open(tcti: &str, metrics: Arc<Metrics>) -> Result<Self, TransportError> {
        let transport = transport::open(tcti)?;
        Ok(Self {
            link: Arc::new(Mutex::new(TpmLink {
                tcti: tcti.into(),
                transport: Some(transport),
                last_error: None,
            })),
            gate: Arc::new(Mutex::new(())),
            metrics,
        })
    }

    /// A handle for one wallet.
    #[must_use]
    pub fn handle(&self) -> TpmHandle {
        TpmHandle {
            link: Arc::clone(&self.link),
            metrics: Arc::clone(&self.metrics),
        }
    }

    /// Takes the gate for a multi-frame TPM operation.
    pub fn gate(&self) -> TpmGate<'_> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last transport error and how long ago it happened, if the last
    /// exchange failed.
    #[must_use]
    pub fn last_error(&self) -> Option<(TransportError, std::time::Duration)> {
        let link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        link.last_error.map(|(error, at)| (error, at.elapsed()))
    }
}

/// One wallet's view of the shared TPM connection.
pub struct TpmHandle {
    link: Arc<Mutex<TpmLink>>,
    metrics: Arc<Metrics>,
}

impl Transport for TpmHandle {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let mut link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        if link.transport.is_none() {
            match transport::open(&link.tcti) {
                Ok(opened) => link.transport = Some(opened),
                Err(error) => {
                    link.last_error = Some((error, Instant::now()));
                    self.metrics.tpm_errors.inc();
                    return Err(error);
                }
            }
        }
        let result = match link.transport.as_mut() {
            Some(open) => open.transact(command, response),
            None => Err(TransportError::ConnectFailed),
        };
        match result {
            Ok(len) => {
                link.last_error = None;
                Ok(len)
            }
            Err(error) => {
                link.last_error = Some((error, Instant::now()));
                self.metrics.tpm_errors.inc();
                if matches!(
                    error,
                    TransportError::Io
                        | TransportError::Timeout
                        | TransportError::ResponseTruncated
                ) {
                    // Drop the connection; the next command opens a new one.
                    link.transport = None;
                }
                Err(error)
            }
        }
    }
}

/// One account the service signs for.
pub struct Account {
    /// Its address.
    pub address: Address,
    /// Its state directory.
    pub state_dir: PathBuf,
    wallet: Mutex<Wallet>,
    /// The next nonce this service will use for `eth_sendTransaction`, once
    /// read from the node; `None` until then and after a failed submission.
    pub next_nonce: tokio::sync::Mutex<Option<u64>>,
    key_mode: KeyMode,
    /// Whether a signature touches neither the TPM nor the disk (cached key,
    /// no daily limit), so it can run on the request's own task.
    in_memory_signing: AtomicBool,
}

impl Account {
    /// Locks the wallet. The caller holds the TPM gate first when the
    /// operation may talk to the TPM.
    pub fn wallet(&self) -> MutexGuard<'_, Wallet> {
        self.wallet.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether signing unseals the key each time (strict mode).
    #[must_use]
    pub fn signing_uses_tpm(&self) -> bool {
        self.key_mode == KeyMode::Strict
    }

    /// Whether a signature stays in memory: a cached key and no spend
    /// ledger to write.
    #[must_use]
    pub fn signs_in_memory(&self) -> bool {
        self.in_memory_signing.load(Ordering::Relaxed)
    }

    /// Recomputes [`signs_in_memory`](Self::signs_in_memory) after the
    /// policy may have changed.
    pub fn refresh(&self, wallet: &Wallet) {
        self.in_memory_signing
            .store(in_memory(self.key_mode, wallet), Ordering::Relaxed);
    }
}

fn in_memory(key_mode: KeyMode, wallet: &Wallet) -> bool {
    let daily_limit = wallet
        .policy()
        .ok()
        .flatten()
        .is_some_and(|policy| policy.daily_limit_wei().is_some());
    key_mode == KeyMode::Cached && !daily_limit
}

/// What to do with a state directory that holds no account yet.
#[derive(Clone, Debug)]
pub enum MissingAccount {
    /// Refuse to start.
    Refuse,
    /// Create an account bound to this policy, with these owners (none:
    /// an ownerless account, whose policy never changes).
    Create {
        /// The signing policy.
        policy: Box<Policy>,
        /// The owners who may approve admin actions.
        owners: Option<Box<OwnerSet>>,
        /// The key lock (`None`: not chosen, which only a plain wallet
        /// without owners may leave).
        key_lock: Option<wallet_core::seal::KeyLock>,
    },
}

/// Opens the wallet of `state_dir` on `tpm` and loads (or creates) its account.
///
/// # Errors
/// The core's errors, as text with the directory named.
pub fn open_account(
    tpm: &SharedTpm,
    state_dir: &Path,
    key_mode: KeyMode,
    missing: &MissingAccount,
    trust: &wallet_core::tpm::ek::TpmTrust,
) -> Result<Account, String> {
    let _gate = tpm.gate();
    let mut wallet = Wallet::with_transport(Box::new(tpm.handle()), state_dir, trust)
        .map_err(|e| format!("{}: {e}", state_dir.display()))?;
    wallet.set_key_mode(key_mode);
    let has_account = state_dir.join(wallet_core::state::ACCOUNT_FILE).exists();
    let address = match (has_account, missing) {
        (true, _) => wallet.load_account(),
        (
            false,
            MissingAccount::Create {
                policy,
                owners,
                key_lock,
            },
        ) => wallet.create_account(AccountOptions {
            policy: (**policy).clone(),
            owners: owners.as_deref().cloned(),
            key_lock: *key_lock,
            ..AccountOptions::default()
        }),
        (false, MissingAccount::Refuse) => {
            return Err(format!(
            "{}: no account in this state directory (start with --create-missing to create one)",
            state_dir.display()
        ))
        }
    }
    .map_err(|e| format!("{}: {e}", state_dir.display()))?;
    let in_memory_signing = AtomicBool::new(in_memory(key_mode, &wallet));
    Ok(Account {
        address,
        state_dir: state_dir.to_path_buf(),
        wallet: Mutex::new(wallet),
        next_nonce: tokio::sync::Mutex::new(None),
        key_mode,
        in_memory_signing,
    })
}

/// Every account of the service.
pub struct Accounts {
    accounts: Vec<Arc<Account>>,
    tpm: SharedTpm,
}

impl Accounts {
    /// The accounts, in `--account` order.
    #[must_use]
    pub fn new(accounts: Vec<Arc<Account>>, tpm: SharedTpm) -> Self {
        Self { accounts, tpm }
    }

    /// The account with `address`.
    #[must_use]
    pub fn find(&self, address: &Address) -> Option<&Arc<Account>> {
        self.accounts.iter().find(|a| a.address == *address)
    }

    /// The first account (the default of the `flare_` methods).
    #[must_use]
    pub fn first(&self) -> Option<&Arc<Account>> {
        self.accounts.first()
    }

    /// Every account.
    #[must_use]
    pub fn all(&self) -> &[Arc<Account>] {
        &self.accounts
    }

    /// The shared TPM.
    #[must_use]
    pub fn tpm(&self) -> &SharedTpm {
        &self.tpm
    }
}
