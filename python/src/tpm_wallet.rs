//! `TpmWallet`: the core's TPM `Wallet` behind a mutex, for Python.
//!
//! One object is one TPM connection and one state directory. Every method
//! releases the GIL while it talks to the TPM or signs, and the mutex makes
//! one object safe to share between threads: calls are serialised, which is
//! also what a TPM (and swtpm, which serves one client at a time) requires.
//! The connection to a swtpm is held for one operation at a time, so other
//! processes (each with its own `TpmWallet`) take turns on the same swtpm.
//!
//! The wallet and the sealed-data engine (`encrypt` / `decrypt`) share one
//! connection through [`SharedTransport`]; the mutex keeps their commands
//! from interleaving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use zeroize::Zeroizing;

use wallet_core::attest::{Evidence, TpmIdentity};
use wallet_core::authority::{AdminAction, APPROVAL_LEN};
use wallet_core::policy::{Decision, DefaultMode, Eip712Domain, Policy, PolicyError};
use wallet_core::seal::{KeyLock, PinAuth};
use wallet_core::sealed_data;
use wallet_core::signer::{Address, Signature};
use wallet_core::tpm::ek::TpmTrust;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, TransportError};
use wallet_core::tpm::{ParameterEncryption, PcrSelection, Tpm, Transport};
use wallet_core::tx::U256;
use wallet_core::wallet::{AccountOptions, KeyMode, Wallet, WalletError};
use wallet_core::x509::TrustRoots;
use wallet_core::Error;

use crate::admin::{
    admin_request_from_json, approvals_from_py, audit_entries_to_py, owner_list, owner_set,
};
use crate::error::BindingError;
use crate::hex;
use crate::keystore::{kdf_params, password_bytes};
use crate::policy::PyPolicy;
use crate::txdict::TxFields;

type Result<T, E = BindingError> = core::result::Result<T, E>;

/// Room for the signature fields a signed transaction adds to its payload.
const SIGNATURE_ROOM: usize = 128;

/// One TPM connection, used by the wallet and by the sealed-data engine in turn.
#[derive(Clone)]
struct SharedTransport(Arc<Mutex<StdTransport>>);

impl Transport for SharedTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .transact(command, response)
    }

    fn end_operation(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .end_operation();
    }
}

/// Everything that lives while the wallet is open.
struct Open {
    wallet: Wallet,
    transport: SharedTransport,
    data_tpm: Option<Tpm<SharedTransport>>,
    /// What the wallet was opened with (a restore check opens a second one).
    trust: TpmTrust,
    /// Declared last: the simulator stops after the wallet let go of it.
    simulator: Option<Swtpm>,
}

impl Open {
    fn data_tpm(&mut self) -> Result<&mut Tpm<SharedTransport>> {
        if self.data_tpm.is_none() {
            let mut tpm = Tpm::new(self.transport.clone()).map_err(Error::from)?;
            // The same identity as the wallet's: sessions salted to the same
            // EK (checked again here), or unverified as the wallet is.
            wallet_core::tpm::ek::recheck(&mut tpm, self.wallet.tpm_identity_details())
                .map_err(Error::from)?;
            self.data_tpm = Some(tpm);
        }
        self.data_tpm
            .as_mut()
            .ok_or(BindingError::Core(Error::Wallet(WalletError::Closed)))
    }
}

fn key_mode_name(mode: KeyMode) -> &'static str {
    match mode {
        KeyMode::Strict => "strict",
        KeyMode::Cached => "cached",
    }
}

fn parse_key_mode(name: &str) -> Result<KeyMode> {
    match name {
        "strict" => Ok(KeyMode::Strict),
        "cached" => Ok(KeyMode::Cached),
        other => Err(BindingError::invalid_argument(format!(
            "key_mode must be 'strict' or 'cached', not {other:?}"
        ))),
    }
}

/// The PIN's authorization value; `None` for no PIN.
fn pin_auth(pin: Option<&str>) -> Result<Option<PinAuth>> {
    pin.map(|pin| {
        PinAuth::from_pin(pin.as_bytes())
            .map_err(|_| BindingError::invalid_argument("the PIN must not be empty"))
    })
    .transpose()
}

/// Parses `key_lock`: `"none"` (`"unlocked"` is the older spelling), or
/// `"pin"`, `"pcr"`, `"boot-once"` joined by `+` (`"pin+boot-once"`).
/// Without it, a PIN alone makes a PIN lock, and with neither no lock is
/// chosen: the core refuses that for an account with a policy or owners.
fn parse_key_lock(
    key_lock: Option<&str>,
    pcrs: Option<PcrSelection>,
    pin: bool,
) -> Result<Option<KeyLock>> {
    let Some(text) = key_lock else {
        return Ok(pin.then_some(KeyLock::PIN));
    };
    let mut lock = KeyLock::UNLOCKED;
    if !matches!(text, "none" | "unlocked") {
        for part in text.split('+') {
            match part.trim() {
                "pin" => lock.pin = true,
                "pcr" => {
                    lock.pcrs = Some(pcrs.ok_or_else(|| {
                        BindingError::invalid_argument(
                            "key_lock 'pcr' needs pcrs=[...]: the PCRs the key is bound to",
                        )
                    })?);
                }
                "boot-once" => lock.boot_once_pcr = Some(KeyLock::DEFAULT_BOOT_ONCE_PCR),
                other => {
                    return Err(BindingError::invalid_argument(format!(
                        "key_lock parts are 'pin', 'pcr' and 'boot-once' (joined by '+'), or 'none'; not {other:?}"
                    )))
                }
            }
        }
    }
    if lock.pin != pin {
        return Err(BindingError::invalid_argument(if lock.pin {
            "key_lock 'pin' needs pin=..."
        } else {
            "pin=... needs key_lock to include 'pin'"
        }));
    }
    Ok(Some(lock))
}

/// The name of a key lock, as `key_lock` takes it.
fn key_lock_name(lock: KeyLock) -> String {
    let mut parts = Vec::new();
    if lock.pin {
        parts.push("pin");
    }
    if lock.pcrs.is_some() {
        parts.push("pcr");
    }
    if lock.boot_once_pcr.is_some() {
        parts.push("boot-once");
    }
    if parts.is_empty() {
        // As the evidence names it.
        "none".to_owned()
    } else {
        parts.join("+")
    }
}

fn account_options(
    pcrs: Option<Vec<u8>>,
    policy: Option<&Bound<'_, PyPolicy>>,
    owners: Option<Vec<String>>,
    threshold: Option<u64>,
    key_lock: Option<&str>,
    pin: Option<&str>,
) -> Result<AccountOptions> {
    let owners = match (owners, threshold) {
        (None, None) => None,
        (Some(owners), Some(threshold)) => Some(owner_set(&owners, threshold)?),
        (Some(_), None) => {
            return Err(BindingError::invalid_owners(
                "owners need a threshold: how many of them must approve an admin action",
            ))
        }
        (None, Some(_)) => {
            return Err(BindingError::invalid_owners(
                "a threshold needs owners: pass owners=[...] with it",
            ))
        }
    };
    let pcrs = match pcrs {
        Some(indices) => Some(PcrSelection::from_indices(&indices).map_err(|_| {
            BindingError::invalid_argument("pcrs must name PCRs 0 to 23, at least one")
        })?),
        None => None,
    };
    let pin = pin_auth(pin)?;
    let key_lock = parse_key_lock(key_lock, pcrs, pin.is_some())?;
    Ok(AccountOptions {
        pcrs,
        policy: policy.map_or_else(Policy::plain_wallet, |p| p.get().policy.clone()),
        owners,
        key_lock,
        pin,
    })
}

/// The default TPM: `$FLARE_WALLET_TPM`, else `/dev/tpmrm0` when present.
fn default_tcti() -> Result<String> {
    if let Ok(tcti) = std::env::var(transport::TPM_ENV_VAR) {
        return Ok(tcti);
    }
    if Path::new(transport::DEFAULT_DEVICE).exists() {
        return Ok(format!("device:{}", transport::DEFAULT_DEVICE));
    }
    Err(BindingError::Core(Error::from(
        TransportError::NoDefaultTpm,
    )))
}

/// What a face trusts about its TPM: `trust_roots` (PEM bytes or text, or
/// the path of a PEM file or of a folder of certificates;
/// `$FLARE_WALLET_TPM_ROOTS` when None) and, only when asked, an
/// unverified TPM.
fn tpm_trust(
    trust_roots: Option<&Bound<'_, PyAny>>,
    allow_unverified_tpm: bool,
) -> Result<TpmTrust> {
    let bad = |e: wallet_core::x509::ChainError| {
        BindingError::invalid_argument(format!("trust_roots: {e}"))
    };
    let trust = match trust_roots {
        None => TpmTrust::from_env().map_err(bad)?,
        Some(value) => {
            if let Ok(bytes) = value.cast::<PyBytes>() {
                TpmTrust::roots(TrustRoots::from_pem_bundle(bytes.as_bytes()).map_err(bad)?)
            } else {
                let path: PathBuf = value.extract().map_err(|_| {
                    BindingError::invalid_argument(
                        "trust_roots must be PEM bytes, PEM text or the path of a PEM file or folder",
                    )
                })?;
                match path.to_str() {
                    Some(text) if text.contains("-----BEGIN") => {
                        TpmTrust::roots(TrustRoots::from_pem_bundle(text.as_bytes()).map_err(bad)?)
                    }
                    _ => TpmTrust::from_path_or_env(Some(&path)).map_err(bad)?,
                }
            }
        }
    };
    Ok(if allow_unverified_tpm {
        trust.allowing_unverified_tpm()
    } else {
        trust
    })
}

fn open_wallet(
    tcti: &str,
    state_dir: &Path,
    trust: TpmTrust,
    simulator: Option<Swtpm>,
) -> Result<Open> {
    let transport = SharedTransport(Arc::new(Mutex::new(transport::open(tcti)?)));
    let wallet = Wallet::with_transport(Box::new(transport.clone()), state_dir, &trust)?;
    Ok(Open {
        wallet,
        transport,
        data_tpm: None,
        trust,
        simulator,
    })
}

/// A Python `int` from 0 to 2^256 - 1.
fn uint256(what: &str, value: &Bound<'_, PyAny>) -> Result<U256> {
    let py = value.py();
    let out_of_range =
        || BindingError::invalid_argument(format!("{what} must be an int from 0 to 2**256 - 1"));
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(out_of_range());
    }
    let bytes = value
        .cast::<pyo3::types::PyInt>()
        .map_err(|_| out_of_range())?
        .call_method1(intern!(py, "to_bytes"), (32, intern!(py, "big")))
        .map_err(|_| out_of_range())?;
    bytes
        .cast::<PyBytes>()
        .ok()
        .and_then(|bytes| U256::from_be_slice(bytes.as_bytes()))
        .ok_or_else(out_of_range)
}

fn parse_address(what: &str, text: &str) -> Result<Address> {
    Address::parse_hex(text)
        .map_err(|e| BindingError::invalid_argument(format!("{what} is not an address: {e}")))
}

/// The default mode of the loaded account's policy (`allow` without one).
fn policy_mode(wallet: &Wallet) -> DefaultMode {
    wallet
        .policy()
        .ok()
        .flatten()
        .map_or(DefaultMode::Allow, Policy::default_mode)
}

/// A check's outcome, as data that crosses back to Python.
struct Outcome {
    mode: DefaultMode,
    allowed: bool,
    rules: Vec<&'static str>,
    reason: Option<String>,
}

impl Outcome {
    /// A decision or a refusal; any other error stays an error.
    fn from(mode: DefaultMode, result: wallet_core::Result<Decision>) -> wallet_core::Result<Self> {
        match result {
            Ok(decision) => Ok(Self {
                mode: decision.mode,
                allowed: true,
                rules: decision.rules.iter().map(|r| r.name()).collect(),
                reason: None,
            }),
            Err(Error::Policy(PolicyError::Violation(violation))) => Ok(Self {
                mode,
                allowed: false,
                rules: vec![violation.rule().name()],
                reason: Some(violation.to_string()),
            }),
            Err(other) => Err(other),
        }
    }

    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("allowed", self.allowed)?;
        dict.set_item("mode", self.mode.name())?;
        dict.set_item("rules", self.rules.clone())?;
        dict.set_item("reason", self.reason.clone())?;
        Ok(dict)
    }
}

fn signature_bytes(signature: &Signature) -> [u8; 65] {
    signature.to_rsv_bytes()
}

/// A wallet on one TPM and one state directory (`flare_wallet._native.TpmWallet`).
#[pyclass(frozen, module = "flare_wallet._native")]
pub(crate) struct TpmWallet {
    open: Mutex<Option<Open>>,
    tcti: String,
    state_dir: PathBuf,
    simulator_pid: Option<u32>,
}

impl TpmWallet {
    fn lock(&self) -> MutexGuard<'_, Option<Open>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the wallet state, open or closed, with the GIL released:
    /// the mutex may be held by a thread waiting on the TPM, and waiting for it
    /// must not block every other Python thread.
    fn peek<R: Send>(&self, py: Python<'_>, f: impl FnOnce(Option<&mut Open>) -> R + Send) -> R {
        py.detach(|| f(self.lock().as_mut()))
    }

    /// Runs `f` on the open wallet with the GIL released.
    fn with_open<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Open) -> Result<R> + Send,
    ) -> Result<R> {
        py.detach(|| {
            let mut guard = self.lock();
            let open = guard
                .as_mut()
                .ok_or(BindingError::Core(Error::Wallet(WalletError::Closed)))?;
            f(open)
        })
    }

    fn from_open(open: Open, tcti: String) -> Self {
        let state_dir = open.wallet.state_dir().to_path_buf();
        let simulator_pid = open.simulator.as_ref().and_then(Swtpm::pid);
        Self {
            open: Mutex::new(Some(open)),
            tcti,
            state_dir,
            simulator_pid,
        }
    }
}

#[pymethods]
impl TpmWallet {
    /// Opens the TPM named by `tcti` (the default TPM when None) with the
    /// wallet state in `state_dir` (created, mode 0700, when missing). The
    /// TPM's EK certificate must chain to `trust_roots` (PEM bytes or text,
    /// or the path of a PEM file or folder; `$FLARE_WALLET_TPM_ROOTS` when
    /// None): a TPM that cannot prove itself is refused unless
    /// `allow_unverified_tpm` (insecure) is true.
    #[staticmethod]
    #[pyo3(signature = (tcti, state_dir, *, trust_roots = None, allow_unverified_tpm = false))]
    fn open(
        py: Python<'_>,
        tcti: Option<String>,
        state_dir: PathBuf,
        trust_roots: Option<&Bound<'_, PyAny>>,
        allow_unverified_tpm: bool,
    ) -> PyResult<Self> {
        let tcti = match tcti {
            Some(tcti) => tcti,
            None => default_tcti()?,
        };
        let trust = tpm_trust(trust_roots, allow_unverified_tpm)?;
        let open = py.detach(|| open_wallet(&tcti, &state_dir, trust, None))?;
        Ok(Self::from_open(open, tcti))
    }

    /// Starts a private swtpm (its state in `tpm_state_dir`, or in a
    /// temporary directory removed when it stops) and opens it. Temporary
    /// simulators of one process share one EK unless `new_ek` asks for an
    /// EK (and certificate) of its own, which takes about a second more.
    /// The simulator is certified by a local CA, and that CA is the trust
    /// root it is opened with: the verified path, as for a real TPM.
    #[staticmethod]
    #[pyo3(signature = (tpm_state_dir, state_dir, new_ek = false))]
    fn simulator(
        py: Python<'_>,
        tpm_state_dir: Option<PathBuf>,
        state_dir: PathBuf,
        new_ek: bool,
    ) -> PyResult<Self> {
        let (open, tcti) = py.detach(|| -> Result<(Open, String)> {
            let swtpm = match &tpm_state_dir {
                Some(dir) => Swtpm::start(dir),
                None if new_ek => Swtpm::start_temporary_with_new_ek(),
                None => Swtpm::start_temporary(),
            }
            .map_err(BindingError::Simulator)?;
            let tcti = swtpm.tcti();
            let trust = swtpm.trust();
            Ok((open_wallet(&tcti, &state_dir, trust, Some(swtpm))?, tcti))
        })?;
        Ok(Self::from_open(open, tcti))
    }

    /// The PEM file of the local CA that certified the private swtpm's EK
    /// (the simulator's trust roots), if this wallet started one.
    #[getter]
    fn simulator_trust_roots(&self, py: Python<'_>) -> Option<PathBuf> {
        self.peek(py, |open| {
            open.and_then(|open| open.simulator.as_ref())
                .and_then(|swtpm| swtpm.ek_ca_pem_path().map(Path::to_path_buf))
        })
    }

    /// Whether the TPM proved itself through its EK certificate chain
    /// (False: an unverified TPM, allowed explicitly).
    #[getter]
    fn tpm_verified(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.with_open(py, |open| Ok(open.wallet.tpm_identity().1))?)
    }

    /// The TCTI string of the TPM.
    #[getter]
    fn tcti(&self) -> &str {
        &self.tcti
    }

    /// The wallet's state directory.
    #[getter]
    fn state_dir(&self) -> PathBuf {
        self.state_dir.clone()
    }

    /// The process id of the private swtpm, if this wallet started one.
    #[getter]
    fn simulator_pid(&self) -> Option<u32> {
        self.simulator_pid
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        self.peek(py, |open| open.is_none())
    }

    /// The loaded account's checksummed address, or None.
    #[getter]
    fn address(&self, py: Python<'_>) -> Option<String> {
        self.peek(py, |open| open.and_then(|open| open.wallet.address().ok()))
            .map(|address| address.checksum().to_string())
    }

    /// `"strict"` or `"cached"`.
    #[getter]
    fn key_mode(&self, py: Python<'_>) -> Result<&'static str> {
        self.peek(py, |open| {
            open.map(|open| key_mode_name(open.wallet.key_mode()))
        })
        .ok_or(BindingError::Core(Error::Wallet(WalletError::Closed)))
    }

    /// Sets the key mode; `"strict"` wipes a cached key at once.
    #[setter]
    fn set_key_mode(&self, py: Python<'_>, mode: &str) -> Result<()> {
        let mode = parse_key_mode(mode)?;
        self.with_open(py, |open| {
            open.wallet.set_key_mode(mode);
            Ok(())
        })
    }

    /// What protects the cached key's memory, `{"locked": bool,
    /// "dont_dump": bool}` (`mlock`, `MADV_DONTDUMP`), or None while no key
    /// is cached.
    #[getter]
    fn cached_key_protection<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let protection = self.peek(py, |open| {
            open.and_then(|open| open.wallet.cached_key_protection())
        });
        protection
            .map(|protection| {
                let dict = PyDict::new(py);
                dict.set_item("locked", protection.locked)?;
                dict.set_item("dont_dump", protection.dont_dump)?;
                Ok(dict)
            })
            .transpose()
    }

    /// How many command frames the wallet has sent to the TPM.
    #[getter]
    fn tpm_commands_sent(&self, py: Python<'_>) -> u64 {
        self.peek(py, |open| {
            open.map_or(0, |open| open.wallet.tpm_commands_sent())
        })
    }

    /// Creates a new key with TPM entropy, sealed by the TPM (optionally to
    /// the current values of `pcrs`), bound to `policy` and, with `owners`
    /// and `threshold`, administered by those owners. `key_lock` says what an
    /// unsealer must present (`"pin"`, `"pcr"`, `"boot-once"`, joined by
    /// `+`, or `"none"`); `pin` is the PIN of a `"pin"` lock.
    #[pyo3(signature = (*, pcrs = None, policy = None, owners = None, threshold = None, key_lock = None, pin = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_account(
        &self,
        py: Python<'_>,
        pcrs: Option<Vec<u8>>,
        policy: Option<&Bound<'_, PyPolicy>>,
        owners: Option<Vec<String>>,
        threshold: Option<u64>,
        key_lock: Option<&str>,
        pin: Option<&str>,
    ) -> PyResult<String> {
        let options = account_options(pcrs, policy, owners, threshold, key_lock, pin)?;
        let address = self.with_open(py, |open| Ok(open.wallet.create_account(options)?))?;
        Ok(address.checksum().to_string())
    }

    /// Seals an existing key (32 bytes) as the account, like
    /// `create_account`.
    #[pyo3(signature = (key, *, pcrs = None, policy = None, owners = None, threshold = None, key_lock = None, pin = None))]
    #[allow(clippy::too_many_arguments)]
    fn import_key(
        &self,
        py: Python<'_>,
        key: &[u8],
        pcrs: Option<Vec<u8>>,
        policy: Option<&Bound<'_, PyPolicy>>,
        owners: Option<Vec<String>>,
        threshold: Option<u64>,
        key_lock: Option<&str>,
        pin: Option<&str>,
    ) -> PyResult<String> {
        let options = account_options(pcrs, policy, owners, threshold, key_lock, pin)?;
        let mut secret = Zeroizing::new([0u8; 32]);
        if key.len() != secret.len() {
            return Err(BindingError::invalid_argument(
                "a private key is 32 bytes (64 hex digits)",
            )
            .into());
        }
        secret.copy_from_slice(key);
        let address = self.with_open(py, move |open| {
            Ok(open.wallet.import_key(&secret, options)?)
        })?;
        Ok(address.checksum().to_string())
    }

    /// Loads the account stored in the state directory, presenting `pin`
    /// to a PIN-locked key (the wallet keeps it for later unseals).
    #[pyo3(signature = (*, pin = None))]
    fn load_account(&self, py: Python<'_>, pin: Option<&str>) -> PyResult<String> {
        let pin = pin_auth(pin)?;
        let address = self.with_open(py, move |open| {
            if pin.is_some() {
                open.wallet.set_pin(pin);
            }
            Ok(open.wallet.load_account()?)
        })?;
        Ok(address.checksum().to_string())
    }

    /// What an unsealer of the loaded account's key must present besides
    /// TPM access and the account file: `"pin"`, `"pcr"`, `"boot-once"`
    /// joined by `+`, or `"none"` (any local process with TPM access and
    /// the account file can unseal it), as the evidence names it.
    #[getter]
    fn key_lock(&self, py: Python<'_>) -> PyResult<String> {
        let lock = self.with_open(py, |open| Ok(open.wallet.key_lock()?))?;
        Ok(key_lock_name(lock))
    }

    /// The TPM's dictionary-attack protection: `{"failures", "max_tries",
    /// "recovery_seconds", "lockout_recovery_seconds"}`. `max_tries` wrong
    /// PINs lock the TPM out; one failure is forgotten every
    /// `recovery_seconds`.
    #[getter]
    fn dictionary_attack<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let state = self.with_open(py, |open| Ok(open.wallet.dictionary_attack_state()?))?;
        let dict = PyDict::new(py);
        dict.set_item("failures", state.failures)?;
        dict.set_item("max_tries", state.max_tries)?;
        dict.set_item("recovery_seconds", state.recovery_seconds)?;
        dict.set_item("lockout_recovery_seconds", state.lockout_recovery_seconds)?;
        Ok(dict)
    }

    /// Signs a transaction dict (eth-account's rules), filling a missing
    /// chain id with `chain_id`; returns the signed raw transaction.
    #[pyo3(signature = (tx, *, chain_id = None))]
    fn sign_transaction<'py>(
        &self,
        py: Python<'py>,
        tx: &Bound<'py, PyAny>,
        chain_id: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut fields = TxFields::from_py(tx)?;
        if let Some(chain_id) = chain_id {
            fields.fill_chain_id(chain_id);
        }
        let payload = fields.signing_payload()?;
        let signed = self.with_open(py, |open| {
            if let Ok(address) = open.wallet.address() {
                fields.check_from(&address)?;
            }
            let mut out = vec![0u8; payload.len() + SIGNATURE_ROOM];
            let len = open.wallet.sign_transaction(&payload, &mut out)?;
            out.truncate(len);
            Ok(out)
        })?;
        Ok(PyBytes::new(py, &signed))
    }

    /// Signs `message` as EIP-191 `personal_sign`; returns `r || s || v`.
    fn sign_message<'py>(&self, py: Python<'py>, message: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let message = message.to_vec();
        let signature =
            self.with_open(py, move |open| Ok(open.wallet.sign_message(&message)?))?;
        Ok(PyBytes::new(py, &signature_bytes(&signature)))
    }

    /// Signs EIP-712 data given its domain separator and struct hash; returns
    /// `r || s || v`.
    fn sign_typed_data_hash<'py>(
        &self,
        py: Python<'py>,
        domain_separator: &[u8],
        struct_hash: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let domain: [u8; 32] = domain_separator.try_into().map_err(|_| {
            BindingError::invalid_argument("the EIP-712 domain separator is 32 bytes")
        })?;
        let hash: [u8; 32] = struct_hash
            .try_into()
            .map_err(|_| BindingError::invalid_argument("the EIP-712 struct hash is 32 bytes"))?;
        let signature = self.with_open(py, move |open| {
            Ok(open.wallet.sign_typed_data_hash(&domain, &hash)?)
        })?;
        Ok(PyBytes::new(py, &signature_bytes(&signature)))
    }

    /// Signs EIP-712 data given its domain separator, its struct hash and
    /// the domain's fields; returns `r || s || v`.
    ///
    /// When the fields give exactly `domain_separator`, the core checks them
    /// against the policy's `typed_data_domains` and signs. When they do not
    /// (a domain type with other members or another order), only the hashes
    /// are signed, which the core refuses whenever `typed_data_domains` is
    /// set: a domain cannot be checked from its hash.
    #[pyo3(signature = (
        domain_separator, struct_hash, *, name = None, version = None, chain_id = None,
        verifying_contract = None, salt = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn sign_typed_data<'py>(
        &self,
        py: Python<'py>,
        domain_separator: &[u8],
        struct_hash: &[u8],
        name: Option<String>,
        version: Option<String>,
        chain_id: Option<&Bound<'py, PyAny>>,
        verifying_contract: Option<&str>,
        salt: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let chain_id = chain_id
            .map(|id| uint256("the EIP-712 domain's chainId", id))
            .transpose()?;
        let separator: [u8; 32] = domain_separator.try_into().map_err(|_| {
            BindingError::invalid_argument("the EIP-712 domain separator is 32 bytes")
        })?;
        let hash: [u8; 32] = struct_hash
            .try_into()
            .map_err(|_| BindingError::invalid_argument("the EIP-712 struct hash is 32 bytes"))?;
        let verifying_contract = verifying_contract
            .map(|text| {
                Address::parse_hex(text).map_err(|e| {
                    BindingError::invalid_argument(format!(
                        "the EIP-712 domain's verifyingContract is not an address: {e}"
                    ))
                })
            })
            .transpose()?;
        let salt: Option<[u8; 32]> = salt
            .map(|salt| {
                salt.try_into().map_err(|_| {
                    BindingError::invalid_argument("the EIP-712 domain's salt is 32 bytes")
                })
            })
            .transpose()?;
        let signature = self.with_open(py, move |open| {
            let domain = Eip712Domain {
                name: name.as_deref(),
                version: version.as_deref(),
                chain_id,
                verifying_contract,
                salt,
            };
            if domain.separator() == separator {
                Ok(open.wallet.sign_typed_data(&domain, &hash)?)
            } else {
                Ok(open.wallet.sign_typed_data_hash(&separator, &hash)?)
            }
        })?;
        Ok(PyBytes::new(py, &signature_bytes(&signature)))
    }

    /// Checks a transaction dict as `sign_transaction` would, signing
    /// nothing; returns the decision dict (`allowed`, `mode`, `rules`, and
    /// for a refusal `reason`).
    #[pyo3(signature = (tx, *, chain_id = None))]
    fn check_transaction<'py>(
        &self,
        py: Python<'py>,
        tx: &Bound<'py, PyAny>,
        chain_id: Option<u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut fields = TxFields::from_py(tx)?;
        if let Some(chain_id) = chain_id {
            fields.fill_chain_id(chain_id);
        }
        let payload = fields.signing_payload()?;
        let outcome = self.with_open(py, |open| {
            let mode = policy_mode(&open.wallet);
            Ok(Outcome::from(
                mode,
                open.wallet.check_transaction(&payload),
            )?)
        })?;
        outcome.to_py(py)
    }

    /// Checks a typed-data document (JSON text) as `sign_typed_data_json`
    /// would, signing nothing; returns the decision dict.
    fn check_typed_data_json<'py>(
        &self,
        py: Python<'py>,
        json: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let json = json.to_owned();
        let outcome = self.with_open(py, move |open| {
            let mode = policy_mode(&open.wallet);
            Ok(Outcome::from(
                mode,
                open.wallet.check_typed_data_json(&json),
            )?)
        })?;
        outcome.to_py(py)
    }

    /// Signs a typed-data document given as JSON (`types`, `primaryType`,
    /// `domain`, `message`): the core checks and hashes that very document.
    /// Returns `r || s || v`.
    fn sign_typed_data_json<'py>(
        &self,
        py: Python<'py>,
        json: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let json = json.to_owned();
        let signature = self.with_open(py, move |open| {
            Ok(open.wallet.sign_typed_data_json(&json)?)
        })?;
        Ok(PyBytes::new(py, &signature_bytes(&signature)))
    }

    /// Checks an EIP-7702 authorization as `sign_authorization` would;
    /// returns the decision dict.
    fn check_authorization<'py>(
        &self,
        py: Python<'py>,
        chain_id: &Bound<'py, PyAny>,
        address: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let chain_id = uint256("the authorization's chain_id", chain_id)?;
        let address = parse_address("the authorization's address", address)?;
        let outcome = self.with_open(py, move |open| {
            let mode = policy_mode(&open.wallet);
            Ok(Outcome::from(
                mode,
                open.wallet.check_authorization(&chain_id, &address),
            )?)
        })?;
        outcome.to_py(py)
    }

    /// Signs an EIP-7702 authorization; returns `(y_parity, r, s)` with `r`
    /// and `s` as 32 bytes each.
    fn sign_authorization<'py>(
        &self,
        py: Python<'py>,
        chain_id: &Bound<'py, PyAny>,
        address: &str,
        nonce: u64,
    ) -> PyResult<(u8, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let chain_id = uint256("the authorization's chain_id", chain_id)?;
        let address = parse_address("the authorization's address", address)?;
        let signed = self.with_open(py, move |open| {
            Ok(open.wallet.sign_authorization(chain_id, address, nonce)?)
        })?;
        Ok((
            signed.y_parity,
            PyBytes::new(py, &signed.r.0),
            PyBytes::new(py, &signed.s.0),
        ))
    }

    /// The loaded account's signing policy; None without an account, or for
    /// an account file written before signing policies.
    #[getter]
    fn policy(&self, py: Python<'_>) -> Option<PyPolicy> {
        self.peek(py, |open| {
            open.and_then(|open| open.wallet.policy().ok().flatten().cloned())
        })
        .map(|policy| PyPolicy { policy })
    }

    /// The hash of the loaded account's policy, as attestation reports it
    /// (32 zero bytes for an account without one); None without an account.
    #[getter]
    fn policy_hash<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.peek(py, |open| {
            open.and_then(|open| open.wallet.policy_hash().ok())
        })
        .map(|hash| PyBytes::new(py, &hash))
    }

    /// The loaded account's owners (checksummed, sorted) and threshold;
    /// None without an account and for an ownerless account.
    #[getter]
    fn owners(&self, py: Python<'_>) -> Option<(Vec<String>, u8)> {
        self.peek(py, |open| {
            open.and_then(|open| open.wallet.owners().ok().flatten().cloned())
        })
        .map(|owners| (owner_list(&owners), owners.threshold()))
    }

    /// The loaded account's admin nonce (how many admin actions it has
    /// executed); None without an account.
    #[getter]
    fn admin_nonce(&self, py: Python<'_>) -> Option<u64> {
        self.peek(py, |open| {
            open.and_then(|open| open.wallet.admin_nonce().ok())
        })
    }

    /// The EIP-712 typed-data JSON of an admin request for `action` with
    /// `params_hash`, at the current admin nonce, valid until `deadline`
    /// (unix seconds): the text owners sign.
    fn admin_request(
        &self,
        py: Python<'_>,
        action: &str,
        params_hash: &[u8],
        deadline: u64,
    ) -> PyResult<String> {
        let action = AdminAction::parse(action).map_err(|_| {
            BindingError::invalid_argument(format!(
                "unknown admin action {action:?}: replace_policy, export_keystore, \
                 replace_owners or change_pin"
            ))
        })?;
        let params_hash: [u8; 32] = params_hash
            .try_into()
            .map_err(|_| BindingError::invalid_argument("a params hash is 32 bytes"))?;
        let request = self.with_open(py, move |open| {
            Ok(open.wallet.admin_request(action, params_hash, deadline)?)
        })?;
        Ok(request.to_typed_data_json())
    }

    /// Replaces the account's signing policy with the owners' approval:
    /// `request` (the typed-data JSON of a `replace_policy` request for
    /// exactly this policy) and `approvals` (65-byte signatures, bytes or
    /// hex). The change is logged in the audit log; returns the new policy
    /// hash.
    fn replace_policy<'py>(
        &self,
        py: Python<'py>,
        policy: &Bound<'py, PyPolicy>,
        request: &str,
        approvals: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let policy = policy.get().policy.clone();
        let request = admin_request_from_json(request)?;
        let approvals: Vec<[u8; APPROVAL_LEN]> = approvals_from_py(approvals)?;
        let hash = self.with_open(py, move |open| {
            Ok(open.wallet.replace_policy(policy, &request, &approvals)?)
        })?;
        Ok(PyBytes::new(py, &hash))
    }

    /// Replaces the account's owners and threshold with the current owners'
    /// approval (a `replace_owners` request for exactly the new set);
    /// returns the new owner set's hash.
    fn replace_owners<'py>(
        &self,
        py: Python<'py>,
        owners: Vec<String>,
        threshold: u64,
        request: &str,
        approvals: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let owners = owner_set(&owners, threshold)?;
        let request = admin_request_from_json(request)?;
        let approvals = approvals_from_py(approvals)?;
        let hash = self.with_open(py, move |open| {
            Ok(open.wallet.replace_owners(owners, &request, &approvals)?)
        })?;
        Ok(PyBytes::new(py, &hash))
    }

    /// The params hash a `change_pin` request commits to: the account's
    /// key lock, which a PIN change keeps (no PIN goes into it).
    fn change_pin_params_hash<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let hash = self.with_open(py, |open| Ok(open.wallet.change_pin_params_hash()?))?;
        Ok(PyBytes::new(py, &hash))
    }

    /// Seals the key again under `new_pin` with the owners' approval (a
    /// `change_pin` request and its approvals). `pin` is the current PIN
    /// (None: the one the wallet holds); a wrong one counts towards the
    /// TPM's dictionary-attack lockout. The wallet presents the new PIN
    /// from then on.
    #[pyo3(signature = (new_pin, request, approvals, *, pin = None))]
    fn change_pin<'py>(
        &self,
        py: Python<'py>,
        new_pin: &str,
        request: &str,
        approvals: &Bound<'py, PyAny>,
        pin: Option<&str>,
    ) -> PyResult<()> {
        let new_pin = pin_auth(Some(new_pin))?
            .ok_or_else(|| BindingError::invalid_argument("the new PIN must not be empty"))?;
        let current = pin_auth(pin)?;
        let request = admin_request_from_json(request)?;
        let approvals = approvals_from_py(approvals)?;
        self.with_open(py, move |open| {
            Ok(open
                .wallet
                .change_pin(current, new_pin, &request, &approvals)?)
        })?;
        Ok(())
    }

    /// The audit log file's bytes (empty before the first entry).
    fn audit_log<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let log = self.with_open(py, |open| Ok(open.wallet.audit_log_bytes()?))?;
        Ok(PyBytes::new(py, &log))
    }

    /// The audit log's entries as dicts, checked against its own head.
    fn audit_entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        let entries = self.with_open(py, |open| Ok(open.wallet.audit_log()?))?;
        audit_entries_to_py(py, &entries)
    }

    /// The audit log's head: the hash of its last entry (32 zero bytes for
    /// an empty log), as attestation reports it.
    fn audit_head<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let head = self.with_open(py, |open| Ok(open.wallet.audit_head()?))?;
        Ok(PyBytes::new(py, &head))
    }

    /// Wei counted against `daily_limit_wei` on `chain_id` in the last 24
    /// hours (None: every chain, as for an unprotected transaction).
    #[pyo3(signature = (chain_id = None))]
    fn daily_spent<'py>(
        &self,
        py: Python<'py>,
        chain_id: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let spent = self.with_open(py, move |open| Ok(open.wallet.daily_spent(chain_id)?))?;
        crate::policy::int_of(py, spent)
    }

    /// Attestation evidence for `nonce` and `chain_id`, as a dict holding the
    /// canonical encoding and the facts it states. With `platform_ak` the
    /// quote is by the attestation key the platform certifies (GCE AK
    /// template and certificate in NV) and the dict also holds
    /// `ak_certificate` (DER).
    #[pyo3(signature = (nonce, chain_id, platform_ak = false))]
    fn attest<'py>(
        &self,
        py: Python<'py>,
        nonce: &[u8],
        chain_id: u64,
        platform_ak: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let nonce = nonce.to_vec();
        if !platform_ak {
            let evidence =
                self.with_open(py, move |open| Ok(open.wallet.attest(&nonce, chain_id)?))?;
            return evidence_dict(py, &evidence);
        }
        let (evidence, certificate) = self.with_open(py, move |open| {
            Ok(open.wallet.attest_with_platform_ak(
                &nonce,
                chain_id,
                wallet_core::tpm::PcrSelection::DEFAULT_QUOTE,
            )?)
        })?;
        let dict = evidence_dict(py, &evidence)?;
        dict.set_item("ak_certificate", PyBytes::new(py, &certificate))?;
        Ok(dict)
    }

    /// Enrolls this TPM's attestation key against `trust_roots` (a PEM
    /// bundle): the EK certificate (`ek_certificate`, DER, or the TPM's own)
    /// must chain to them and certify the EK; a credential is activated and
    /// the enrollment record returned (bytes a verifier stores and pins).
    #[pyo3(signature = (trust_roots, ek_certificate = None))]
    fn enroll<'py>(
        &self,
        py: Python<'py>,
        trust_roots: &[u8],
        ek_certificate: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let roots = wallet_core::x509::TrustRoots::from_pem_bundle(trust_roots).map_err(|e| {
            BindingError::invalid_argument(format!("trust_roots are not PEM certificates: {e}"))
        })?;
        let record = self.with_open(py, move |open| {
            Ok(open
                .wallet
                .enroll_with_certificate(ek_certificate.as_deref(), &[], &roots)?)
        })?;
        Ok(PyBytes::new(py, &record))
    }

    /// Enrolls the attestation key the platform certifies (GCE Shielded VM:
    /// AK template and certificate in NV): the enrollment record (bytes,
    /// method "AK certificate") with the AK, its certificate and
    /// `ak_intermediates` (DER, none when None), and the EK verified at open with its chain,
    /// checked against `trust_roots` (a PEM bundle: the platform's AK CA, and
    /// the EK's root when the TPM was verified).
    #[pyo3(signature = (trust_roots, ak_intermediates = None))]
    fn enroll_platform_ak<'py>(
        &self,
        py: Python<'py>,
        trust_roots: &[u8],
        ak_intermediates: Option<Vec<Vec<u8>>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ak_intermediates = ak_intermediates.unwrap_or_default();
        let roots = TrustRoots::from_pem_bundle(trust_roots).map_err(|e| {
            BindingError::invalid_argument(format!("trust_roots are not PEM certificates: {e}"))
        })?;
        let record = self.with_open(py, move |open| {
            let intermediates: Vec<&[u8]> = ak_intermediates.iter().map(Vec::as_slice).collect();
            Ok(open.wallet.enroll_platform_ak(&intermediates, &roots)?)
        })?;
        Ok(PyBytes::new(py, &record))
    }

    /// Verifies every EK certificate the TPM holds at the TCG EK Credential
    /// Profile's indices (L-1, L-2, H-1 to H-7) against `trust_roots` (as
    /// `open` takes them; `$FLARE_WALLET_TPM_ROOTS` when None), each on its
    /// own: a list of dicts, low range first, with `template` (e.g. "L-1 RSA
    /// 2048"), `nv_index`, `verified`, `ek_name` (bytes, when verified) and
    /// `error` (the refusal, when not).
    #[pyo3(signature = (trust_roots = None))]
    fn endorsement_keys<'py>(
        &self,
        py: Python<'py>,
        trust_roots: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        let trust = tpm_trust(trust_roots, false)?;
        let checks = self.with_open(py, move |open| {
            Ok(open.wallet.verify_endorsement_keys(&trust)?)
        })?;
        let list = pyo3::types::PyList::empty(py);
        for check in &checks {
            let entry = PyDict::new(py);
            entry.set_item("template", check.template.label())?;
            entry.set_item("nv_index", check.template.nv_index())?;
            match &check.outcome {
                Ok(ek) => {
                    entry.set_item("verified", true)?;
                    entry.set_item("ek_name", PyBytes::new(py, &ek.name))?;
                    entry.set_item("error", py.None())?;
                }
                Err(refusal) => {
                    entry.set_item("verified", false)?;
                    entry.set_item("ek_name", py.None())?;
                    entry.set_item("error", refusal.to_string())?;
                }
            }
            list.append(entry)?;
        }
        Ok(list)
    }

    /// What a verifier needs to challenge this TPM: `ek_public` and
    /// `ak_public` (`TPMT_PUBLIC` bytes) and `ek_certificate` (DER or None).
    fn enrollment_request<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let request = self.with_open(py, |open| Ok(open.wallet.enrollment_request()?))?;
        let dict = PyDict::new(py);
        dict.set_item("ek_public", PyBytes::new(py, &request.ek_public))?;
        dict.set_item("ak_public", PyBytes::new(py, &request.ak_public))?;
        dict.set_item(
            "ek_certificate",
            request
                .ek_certificate
                .as_deref()
                .map(|der| PyBytes::new(py, der)),
        )?;
        Ok(dict)
    }

    /// The TPM-bound backup (base64 of the account file and its spend ledger).
    fn backup(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.with_open(py, |open| Ok(open.wallet.backup()?))?)
    }

    /// Restores a backup of this TPM. Into an empty state directory it
    /// becomes the account; when the same account is already loaded the
    /// backup is checked by unsealing it in a scratch directory, and nothing
    /// changes.
    #[pyo3(signature = (backup, *, pin = None))]
    fn restore(&self, py: Python<'_>, backup: &str, pin: Option<&str>) -> PyResult<String> {
        let backup = backup.trim().to_owned();
        let pin = pin_auth(pin)?;
        let address = self.with_open(py, move |open| {
            if pin.is_some() {
                open.wallet.set_pin(pin);
            }
            restore(open, &backup)
        })?;
        Ok(address.checksum().to_string())
    }

    /// The params hash an `export_keystore` request commits to for
    /// `password` and the KDF (the arguments of `export_keystore`), at the
    /// current admin nonce. Runs the KDF once.
    #[pyo3(signature = (password, *, kdf = "scrypt", n = None, r = None, p = None, c = None))]
    #[allow(clippy::too_many_arguments)]
    fn export_keystore_params_hash<'py>(
        &self,
        py: Python<'py>,
        password: &Bound<'py, PyAny>,
        kdf: &str,
        n: Option<u64>,
        r: Option<u64>,
        p: Option<u64>,
        c: Option<u64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let params = kdf_params(kdf, n, r, p, c)?;
        let password = password_bytes(password)?;
        let hash = self.with_open(py, move |open| {
            Ok(open.wallet.export_keystore_params_hash(&password, params)?)
        })?;
        Ok(PyBytes::new(py, &hash))
    }

    /// Exports the account as a Web3 Secret Storage v3 keystore (its JSON
    /// text) with the owners' approval: `request` (an `export_keystore`
    /// request for exactly this password and KDF) and `approvals`. The
    /// keystore is encrypted under `password` (str as UTF-8, or bytes) with
    /// scrypt (`n`, `r`, `p`; by default `2^18, 8, 1`) or pbkdf2-sha256
    /// (`c`; by default 262144, below the export minimum of 600000).
    #[pyo3(signature = (
        password, request, approvals, *, kdf = "scrypt", n = None, r = None, p = None, c = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn export_keystore(
        &self,
        py: Python<'_>,
        password: &Bound<'_, PyAny>,
        request: &str,
        approvals: &Bound<'_, PyAny>,
        kdf: &str,
        n: Option<u64>,
        r: Option<u64>,
        p: Option<u64>,
        c: Option<u64>,
    ) -> PyResult<String> {
        let params = kdf_params(kdf, n, r, p, c)?;
        let request = admin_request_from_json(request)?;
        let approvals = approvals_from_py(approvals)?;
        let password = password_bytes(password)?;
        Ok(self.with_open(py, move |open| {
            Ok(open
                .wallet
                .export_keystore(&password, params, &request, &approvals)?
                .to_json())
        })?)
    }

    /// Decrypts a v3 keystore (JSON text) with `password` and seals its key
    /// into this TPM as the account, like `import_key`.
    #[pyo3(signature = (
        keystore, password, *, pcrs = None, policy = None, owners = None, threshold = None,
        key_lock = None, pin = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn import_keystore(
        &self,
        py: Python<'_>,
        keystore: &str,
        password: &Bound<'_, PyAny>,
        pcrs: Option<Vec<u8>>,
        policy: Option<&Bound<'_, PyPolicy>>,
        owners: Option<Vec<String>>,
        threshold: Option<u64>,
        key_lock: Option<&str>,
        pin: Option<&str>,
    ) -> PyResult<String> {
        let options = account_options(pcrs, policy, owners, threshold, key_lock, pin)?;
        let password = password_bytes(password)?;
        let keystore = keystore.to_owned();
        let address = self.with_open(py, move |open| {
            Ok(open.wallet.import_keystore(&keystore, &password, options)?)
        })?;
        Ok(address.checksum().to_string())
    }

    /// Seals `data` to this TPM.
    fn encrypt<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let data = Zeroizing::new(data.to_vec());
        let blob = self.with_open(py, move |open| {
            let srk_name = *open.wallet.srk_name();
            let sealed = sealed_data::seal_data(
                open.data_tpm()?,
                &srk_name,
                &data,
                ParameterEncryption::Aes128Cfb,
            );
            // Other clients of a shared swtpm get their turn.
            open.transport.end_operation();
            Ok(sealed?)
        })?;
        Ok(PyBytes::new(py, &blob))
    }

    /// Opens data sealed by `encrypt` on this TPM.
    fn decrypt<'py>(&self, py: Python<'py>, blob: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let blob = blob.to_vec();
        let data = self.with_open(py, move |open| {
            let srk_name = *open.wallet.srk_name();
            let opened = sealed_data::unseal_data(
                open.data_tpm()?,
                &srk_name,
                &blob,
                ParameterEncryption::Aes128Cfb,
            );
            open.transport.end_operation();
            Ok(opened?)
        })?;
        Ok(PyBytes::new(py, &data))
    }

    /// Wipes any cached key, closes the TPM connection and stops the private
    /// swtpm, if any. Calling it again does nothing.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            let taken = self.lock().take();
            if let Some(mut open) = taken {
                open.wallet.close();
                drop(open);
            }
        });
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = self.peek(py, |open| match open {
            None => String::from("closed"),
            Some(open) => match open.wallet.address() {
                Ok(address) => format!("account {address}"),
                Err(_) => String::from("no account"),
            },
        });
        format!(
            "TpmWallet(tcti={:?}, state_dir={:?}, {state})",
            self.tcti, self.state_dir
        )
    }
}

fn restore(open: &mut Open, backup: &str) -> Result<Address> {
    let Ok(loaded) = open.wallet.address() else {
        return Ok(open.wallet.restore(backup)?);
    };
    // The backup carries the ledger with the account file (every account
    // has an anti-rollback counter): the address is the account file's.
    if wallet_core::wallet::backup_address(backup)? != loaded {
        return Err(Error::Wallet(WalletError::StateNotEmpty).into());
    }
    // Prove the backup restores: unseal it through a second wallet in a
    // scratch state directory on the same connection.
    let scratch = scratch_dir(open.wallet.state_dir())?;
    let result = Wallet::with_transport(Box::new(open.transport.clone()), &scratch, &open.trust)
        .and_then(|mut check| {
            let address = check.restore(backup);
            check.close();
            address
        });
    let _ = std::fs::remove_dir_all(&scratch);
    let restored = result?;
    if restored != loaded {
        return Err(Error::Wallet(WalletError::AddressMismatch).into());
    }
    Ok(restored)
}

/// A fresh, not yet existing directory next to `state_dir`.
fn scratch_dir(state_dir: &Path) -> Result<PathBuf> {
    let parent = state_dir.parent().unwrap_or(state_dir);
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random)
        .map_err(|_| BindingError::invalid_argument("the entropy source failed"))?;
    Ok(parent.join(format!(
        ".flare-wallet-restore-check-{}",
        &hex::encode(&random)[2..]
    )))
}

/// The dict form of evidence: its canonical encoding and the facts it states.
pub(crate) fn evidence_dict<'py>(
    py: Python<'py>,
    evidence: &Evidence,
) -> PyResult<Bound<'py, PyDict>> {
    let mut encoded = vec![0u8; evidence.encoded_len()];
    let len = evidence.encode(&mut encoded).map_err(BindingError::from)?;
    encoded.truncate(len);
    let dict = PyDict::new(py);
    dict.set_item("evidence", PyBytes::new(py, &encoded))?;
    let facts = &evidence.account;
    dict.set_item("address", facts.address.checksum().as_str())?;
    dict.set_item("chain_id", facts.chain_id)?;
    dict.set_item("policy_hash", PyBytes::new(py, &facts.policy_hash))?;
    dict.set_item("owners_hash", PyBytes::new(py, &facts.owners_hash))?;
    dict.set_item("threshold", facts.threshold)?;
    dict.set_item("admin_nonce", facts.admin_nonce)?;
    dict.set_item("audit_head", PyBytes::new(py, &facts.audit_head))?;
    dict.set_item("tpm_verified", facts.tpm_identity == TpmIdentity::Verified)?;
    dict.set_item("tpm_identity", facts.tpm_identity.to_string())?;
    dict.set_item(
        "ak_name",
        PyBytes::new(py, &wallet_core::attest::sha256_name(&evidence.ak_public)),
    )?;
    let pcrs = PyDict::new(py);
    for (index, value) in evidence
        .pcr_selection
        .indices()
        .zip(evidence.pcr_values.iter())
    {
        pcrs.set_item(index, PyBytes::new(py, value))?;
    }
    dict.set_item("pcrs", pcrs)?;
    Ok(dict)
}
