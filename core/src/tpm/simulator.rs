//! A private software TPM for tests and demos (std): `swtpm socket --tpm2` on
//! a Unix socket in a state directory, stopped by PID.
//!
//! Each [`Swtpm`] is a different TPM (its own storage seed) unless it is
//! restarted on the same state directory with [`Swtpm::restart`], which keeps
//! the seeds and so gives the same SRK and AK. Nothing here is chosen
//! silently: a caller asks for a simulator by name.
//!
//! Every simulator is certified like a real TPM: an EK certificate from a
//! local CA (`swtpm_setup --create-ek-cert --create-platform-cert` with
//! `swtpm_localca`) sits in NV, and [`Swtpm::ek_ca_pem_path`] names the CA's
//! certificates, the roots a wallet must be given to trust it. Provisioning
//! takes about a second, so one certified state is made per process and each
//! simulator starts from a copy of it, given a storage seed of its own by
//! `TPM2_Clear` (the endorsement seed, so the EK and its certificate, stay:
//! simulators of one process share one EK). [`Swtpm::start_temporary_with_new_ek`]
//! provisions a TPM with an EK of its own, and
//! [`Swtpm::start_temporary_without_ek_cert`] one with no certificate at all.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::string::String;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long to wait for a fresh swtpm to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// swtpm control-channel command `CMD_SHUTDOWN`.
const CMD_SHUTDOWN: u32 = 0x0000_0003;

/// Why the simulator could not be started or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimulatorError {
    /// `swtpm` is not on `PATH`.
    NotInstalled,
    /// The state directory could not be created.
    StateDir,
    /// swtpm was started but did not answer in time (or exited).
    NotAnswering,
    /// swtpm could not be stopped.
    Stop,
    /// `swtpm_setup` could not provision an EK certificate (is swtpm-tools
    /// installed?).
    Provision,
}

impl fmt::Display for SimulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled => f.write_str(
                "swtpm is not installed: install the Debian package `swtpm` (apt-get install swtpm swtpm-tools)",
            ),
            Self::StateDir => f.write_str("could not create the swtpm state directory"),
            Self::NotAnswering => f.write_str("swtpm was started but does not answer on its socket"),
            Self::Stop => f.write_str("could not stop swtpm"),
            Self::Provision => f.write_str(
                "swtpm_setup could not provision an EK certificate (apt-get install swtpm-tools)",
            ),
        }
    }
}

impl std::error::Error for SimulatorError {}

/// Where swtpm serves its data channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataChannel {
    Unix,
    Tcp { port: u16 },
}

/// A running swtpm child process.
pub struct Swtpm {
    dir: PathBuf,
    owns_dir: bool,
    channel: DataChannel,
    child: Option<Child>,
    ca: Option<PathBuf>,
}

impl fmt::Debug for Swtpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swtpm")
            .field("dir", &self.dir)
            .field("pid", &self.pid())
            .finish()
    }
}

static INSTANCE: AtomicU64 = AtomicU64::new(0);

impl Swtpm {
    /// Starts swtpm with its sockets and state under `dir` (created if missing).
    ///
    /// # Errors
    ///
    /// [`SimulatorError::NotInstalled`] without `swtpm`; [`SimulatorError::StateDir`];
    /// [`SimulatorError::NotAnswering`].
    pub fn start(dir: impl AsRef<Path>) -> Result<Self, SimulatorError> {
        let mut swtpm = Self {
            dir: dir.as_ref().to_path_buf(),
            owns_dir: false,
            channel: DataChannel::Unix,
            child: None,
            ca: None,
        };
        swtpm.start_certified()?;
        Ok(swtpm)
    }

    /// Starts swtpm on `dir` with no EK certificate: a TPM that cannot prove
    /// itself, for the tests of its refusal.
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`].
    pub fn start_without_ek_cert(dir: impl AsRef<Path>) -> Result<Self, SimulatorError> {
        let mut swtpm = Self {
            dir: dir.as_ref().to_path_buf(),
            owns_dir: false,
            channel: DataChannel::Unix,
            child: None,
            ca: None,
        };
        swtpm.launch()?;
        Ok(swtpm)
    }

    /// As [`Swtpm::start_temporary`], without an EK certificate.
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`].
    pub fn start_temporary_without_ek_cert() -> Result<Self, SimulatorError> {
        let mut swtpm = Self::start_without_ek_cert(temporary_dir())?;
        swtpm.owns_dir = true;
        Ok(swtpm)
    }

    /// As [`Swtpm::start_temporary`], provisioned anew: an EK (and EK
    /// certificate from the same local CA) of its own, unlike every other
    /// simulator of this process.
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`]; [`SimulatorError::Provision`].
    pub fn start_temporary_with_new_ek() -> Result<Self, SimulatorError> {
        Self::start_temporary_provisioned(&[])
    }

    /// As [`Swtpm::start_temporary_with_new_ek`], with an RSA EK of `bits`
    /// bits (`swtpm_setup --rsa-keysize`): 3072 gives an RSA EK of the TCG
    /// high-range template H-6 certified at NV `0x01c0001c` instead of the
    /// RSA 2048 EK at `0x01c00002` (the P-384 EK of H-3 is there either way).
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`]; [`SimulatorError::Provision`] also when this
    /// swtpm cannot make RSA keys of that size.
    pub fn start_temporary_with_rsa_keysize(bits: u16) -> Result<Self, SimulatorError> {
        Self::start_temporary_provisioned(&["--rsa-keysize", &std::format!("{bits}")])
    }

    /// A temporary swtpm provisioned anew by `swtpm_setup` with `extra`
    /// arguments, its EK certified by this process's local CA.
    fn start_temporary_provisioned(extra: &[&str]) -> Result<Self, SimulatorError> {
        let certified = certified_template()?;
        let dir = temporary_dir();
        provision_with(&dir.join("state"), &certified.ca_dir, extra)?;
        let mut swtpm = Self {
            dir,
            owns_dir: true,
            channel: DataChannel::Unix,
            child: None,
            ca: Some(certified.roots.clone()),
        };
        swtpm.launch()?;
        Ok(swtpm)
    }

    /// As [`Swtpm::start_temporary`], provisioned with an EK certificate from
    /// a local CA of its own in `ca_dir` (created if missing): a TPM that
    /// chains to another CA.
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`]; [`SimulatorError::Provision`].
    pub fn start_temporary_with_ca(ca_dir: &Path) -> Result<Self, SimulatorError> {
        let dir = temporary_dir();
        provision(&dir.join("state"), ca_dir)?;
        let mut swtpm = Self {
            dir,
            owns_dir: true,
            channel: DataChannel::Unix,
            child: None,
            ca: Some(roots_bundle(ca_dir)?),
        };
        swtpm.launch()?;
        Ok(swtpm)
    }

    /// A PEM file with the certificates of the local CA that issued this
    /// TPM's EK certificate (its root and its intermediate): the trust roots
    /// a wallet needs for it. `None` for a TPM without an EK certificate.
    #[must_use]
    pub fn ek_ca_pem_path(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// The trust a wallet needs for this simulator: its CA's roots (none
    /// for a TPM without an EK certificate, which is then refused).
    #[must_use]
    pub fn trust(&self) -> crate::tpm::ek::TpmTrust {
        let roots = self
            .ca
            .as_deref()
            .and_then(|path| crate::x509::TrustRoots::from_path(path).ok())
            .unwrap_or_default();
        crate::tpm::ek::TpmTrust::roots(roots)
    }

    /// Installs a copy of this process's certified state unless `dir` already
    /// holds a TPM state, starts swtpm, and gives a new copy a storage seed of
    /// its own.
    fn start_certified(&mut self) -> Result<(), SimulatorError> {
        let state = self.dir.join("state");
        let permall = state.join(STATE_FILE);
        // The roots of the CA that certified this state, kept beside it: a
        // state made by another process (another CA) is reopened under its own.
        let roots = self.dir.join(ROOTS_FILE);
        let fresh = !permall.exists();
        if fresh {
            let certified = certified_template()?;
            fs::create_dir_all(&state).map_err(|_| SimulatorError::StateDir)?;
            fs::copy(certified.state_dir.join(STATE_FILE), &permall)
                .map_err(|_| SimulatorError::StateDir)?;
            fs::copy(&certified.roots, &roots).map_err(|_| SimulatorError::StateDir)?;
        }
        self.ca = Some(if roots.exists() {
            roots
        } else {
            certified_template()?.roots.clone()
        });
        self.launch()?;
        if fresh {
            self.clear_storage_seed()?;
        }
        Ok(())
    }

    fn clear_storage_seed(&self) -> Result<(), SimulatorError> {
        let transport =
            crate::tpm::transport::open(&self.tcti()).map_err(|_| SimulatorError::NotAnswering)?;
        let mut tpm = crate::tpm::Tpm::new(transport).map_err(|_| SimulatorError::NotAnswering)?;
        tpm.startup().map_err(|_| SimulatorError::NotAnswering)?;
        tpm.clear_with_platform_auth()
            .map_err(|_| SimulatorError::Provision)?;
        // `TPM2_Clear` also evicted the EK `swtpm_setup` had made persistent;
        // put it back at its TCG handle, as platform provisioning leaves it
        // (the endorsement seed, so the key, is unchanged).
        let kind = crate::tpm::command::EkKind::Rsa2048;
        let ek = tpm
            .create_primary(tpm2_protocol::data::TpmRh::Endorsement, &kind.template())
            .map_err(|_| SimulatorError::Provision)?;
        let persisted = tpm.evict_control(ek.handle, kind.persistent_handle());
        tpm.flush_or_defer(ek.handle);
        persisted.map_err(|_| SimulatorError::Provision)
    }

    /// Starts swtpm with its data channel on a free TCP port of 127.0.0.1
    /// (control channel and state still under a new private temp directory).
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`].
    pub fn start_tcp_temporary() -> Result<Self, SimulatorError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .map_err(|_| SimulatorError::NotAnswering)?;
        let mut swtpm = Self {
            dir: temporary_dir(),
            owns_dir: true,
            channel: DataChannel::Tcp { port },
            child: None,
            ca: None,
        };
        swtpm.start_certified()?;
        Ok(swtpm)
    }

    /// Starts swtpm in a new private directory under the system temp directory,
    /// removed again when this value is dropped.
    ///
    /// # Errors
    ///
    /// As [`Swtpm::start`].
    pub fn start_temporary() -> Result<Self, SimulatorError> {
        let mut swtpm = Self::start(temporary_dir())?;
        swtpm.owns_dir = true;
        Ok(swtpm)
    }

    /// Starts another swtpm, in a new private temporary directory, on a copy
    /// of this one's saved state: the same TPM (seeds, EK, SRK, NV, persistent
    /// objects) as it stood at its last NV write, trusted under the same
    /// roots. For tests that need many identical fresh TPMs: nothing is
    /// provisioned, cleared or derived again.
    ///
    /// # Errors
    ///
    /// [`SimulatorError::StateDir`] when the state cannot be copied; as
    /// [`Swtpm::start`].
    pub fn start_temporary_clone(&self) -> Result<Self, SimulatorError> {
        let dir = temporary_dir();
        let state = dir.join("state");
        fs::create_dir_all(&state).map_err(|_| SimulatorError::StateDir)?;
        fs::copy(
            self.dir.join("state").join(STATE_FILE),
            state.join(STATE_FILE),
        )
        .map_err(|_| SimulatorError::StateDir)?;
        if let Some(roots) = &self.ca {
            fs::copy(roots, dir.join(ROOTS_FILE)).map_err(|_| SimulatorError::StateDir)?;
        }
        let mut swtpm = Self::start(dir)?;
        swtpm.owns_dir = true;
        Ok(swtpm)
    }

    /// The state directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data-channel socket.
    #[must_use]
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join("swtpm.sock")
    }

    fn ctrl_path(&self) -> PathBuf {
        self.dir.join("swtpm.ctrl")
    }

    fn pid_path(&self) -> PathBuf {
        self.dir.join("swtpm.pid")
    }

    /// The TCTI string that reaches this TPM: `swtpm:path=...` (or
    /// `swtpm:host=127.0.0.1,port=...` for a TCP instance).
    #[must_use]
    pub fn tcti(&self) -> String {
        match self.channel {
            DataChannel::Unix => std::format!("swtpm:path={}", self.socket_path().display()),
            DataChannel::Tcp { port } => std::format!("swtpm:host=127.0.0.1,port={port}"),
        }
    }

    /// The process id, while running.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops and starts swtpm on the same state directory: the same TPM,
    /// after a power cycle.
    ///
    /// # Errors
    ///
    /// As [`Swtpm::stop`] and [`Swtpm::start`].
    pub fn restart(&mut self) -> Result<(), SimulatorError> {
        self.stop()?;
        self.launch()
    }

    fn launch(&mut self) -> Result<(), SimulatorError> {
        let state = self.dir.join("state");
        fs::create_dir_all(&state).map_err(|_| SimulatorError::StateDir)?;
        let _ = fs::remove_file(self.socket_path());
        let _ = fs::remove_file(self.ctrl_path());
        let _ = fs::remove_file(self.pid_path());
        let child = Command::new("swtpm")
            .arg("socket")
            .arg("--tpm2")
            .arg("--server")
            .arg(match self.channel {
                DataChannel::Unix => {
                    std::format!("type=unixio,path={}", self.socket_path().display())
                }
                DataChannel::Tcp { port } => {
                    std::format!("type=tcp,bindaddr=127.0.0.1,port={port}")
                }
            })
            .arg("--ctrl")
            .arg(std::format!(
                "type=unixio,path={}",
                self.ctrl_path().display()
            ))
            .arg("--tpmstate")
            .arg(std::format!("dir={}", state.display()))
            .arg("--pid")
            .arg(std::format!("file={}", self.pid_path().display()))
            .arg("--flags")
            .arg("not-need-init,startup-clear")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                if error.kind() == std::io::ErrorKind::NotFound {
                    SimulatorError::NotInstalled
                } else {
                    SimulatorError::NotAnswering
                }
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.pid_path().exists()
                && UnixStream::connect(self.ctrl_path()).is_ok()
                && self.data_channel_ready()
            {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .is_none_or(|child| matches!(child.try_wait(), Ok(Some(_)) | Err(_)));
            if exited || Instant::now() > deadline {
                let _ = self.kill();
                return Err(SimulatorError::NotAnswering);
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    fn data_channel_ready(&self) -> bool {
        match self.channel {
            DataChannel::Unix => self.socket_path().exists(),
            // A probe connection is accepted and closed; swtpm then waits for
            // the next client.
            DataChannel::Tcp { port } => std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        }
    }

    /// Stops swtpm: a `CMD_SHUTDOWN` on the control channel so it saves its
    /// state, then the process is waited for (and killed by PID if it lingers).
    ///
    /// # Errors
    ///
    /// [`SimulatorError::Stop`] when the process cannot be reaped.
    pub fn stop(&mut self) -> Result<(), SimulatorError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        if let Ok(mut ctrl) = UnixStream::connect(self.dir.join("swtpm.ctrl")) {
            let _ = ctrl.set_read_timeout(Some(Duration::from_secs(2)));
            if ctrl.write_all(&CMD_SHUTDOWN.to_be_bytes()).is_ok() {
                let mut answer = [0u8; 4];
                let _ = ctrl.read_exact(&mut answer);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
                _ => {
                    let _ = self.kill();
                    break;
                }
            }
        }
        self.child = None;
        Ok(())
    }

    fn kill(&mut self) -> Result<(), SimulatorError> {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` signals exactly this child's PID.
            let _ = child.kill();
            child.wait().map_err(|_| SimulatorError::Stop)?;
        }
        Ok(())
    }
}

/// swtpm's TPM 2.0 state file.
const STATE_FILE: &str = "tpm2-00.permall";
/// Beside a simulator's state: the PEM roots of the CA that certified it.
const ROOTS_FILE: &str = "ek-ca-roots.pem";

/// The certified TPM state every simulator of this process starts from.
struct CertifiedTemplate {
    state_dir: PathBuf,
    ca_dir: PathBuf,
    roots: PathBuf,
}

static CERTIFIED: OnceLock<Result<CertifiedTemplate, SimulatorError>> = OnceLock::new();

fn certified_template() -> Result<&'static CertifiedTemplate, SimulatorError> {
    CERTIFIED
        .get_or_init(|| {
            let base = std::env::temp_dir()
                .join(std::format!("flare-wallet-swtpm-ca-{}", std::process::id()));
            let _ = fs::remove_dir_all(&base);
            let ca_dir = base.join("ca");
            let state_dir = base.join("state");
            provision(&state_dir, &ca_dir)?;
            let roots = roots_bundle(&ca_dir)?;
            Ok(CertifiedTemplate {
                state_dir,
                ca_dir,
                roots,
            })
        })
        .as_ref()
        .map_err(|e| *e)
}

/// Manufactures a TPM state in `state_dir` with EK certificates (RSA 2048
/// and ECC) and a platform certificate, signed by the local CA in `ca_dir`
/// (created on first use).
fn provision(state_dir: &Path, ca_dir: &Path) -> Result<(), SimulatorError> {
    provision_with(state_dir, ca_dir, &[])
}

/// As [`provision`], with more `swtpm_setup` arguments.
fn provision_with(state_dir: &Path, ca_dir: &Path, extra: &[&str]) -> Result<(), SimulatorError> {
    fs::create_dir_all(state_dir).map_err(|_| SimulatorError::StateDir)?;
    fs::create_dir_all(ca_dir).map_err(|_| SimulatorError::StateDir)?;
    let localca_conf = ca_dir.join("swtpm-localca.conf");
    let setup_conf = ca_dir.join("swtpm_setup.conf");
    let options = ca_dir.join("swtpm-localca.options");
    let ca = ca_dir.display();
    fs::write(
        &localca_conf,
        std::format!(
            "statedir = {ca}\nsigningkey = {ca}/signkey.pem\nissuercert = {ca}/issuercert.pem\ncertserial = {ca}/certserial\n"
        ),
    )
    .map_err(|_| SimulatorError::StateDir)?;
    fs::write(
        &options,
        "--platform-manufacturer flare-wallet-test\n--platform-version 2.1\n--platform-model swtpm\n",
    )
    .map_err(|_| SimulatorError::StateDir)?;
    fs::write(
        &setup_conf,
        std::format!(
            "create_certs_tool = swtpm_localca\ncreate_certs_tool_config = {}\ncreate_certs_tool_options = {}\nactive_pcr_banks = sha256\n",
            localca_conf.display(),
            options.display()
        ),
    )
    .map_err(|_| SimulatorError::StateDir)?;
    let status = Command::new("swtpm_setup")
        .arg("--tpm2")
        .arg("--tpmstate")
        .arg(state_dir)
        .arg("--create-ek-cert")
        .arg("--create-platform-cert")
        .arg("--config")
        .arg(&setup_conf)
        .arg("--overwrite")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                SimulatorError::NotInstalled
            } else {
                SimulatorError::Provision
            }
        })?;
    if !status.success() || !state_dir.join(STATE_FILE).exists() {
        return Err(SimulatorError::Provision);
    }
    Ok(())
}

/// The local CA's root and intermediate, in one PEM file.
fn roots_bundle(ca_dir: &Path) -> Result<PathBuf, SimulatorError> {
    let mut bundle = fs::read(ca_dir.join("swtpm-localca-rootca-cert.pem"))
        .map_err(|_| SimulatorError::Provision)?;
    bundle.extend(fs::read(ca_dir.join("issuercert.pem")).map_err(|_| SimulatorError::Provision)?);
    let path = ca_dir.join("roots.pem");
    fs::write(&path, bundle).map_err(|_| SimulatorError::Provision)?;
    Ok(path)
}

fn temporary_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(std::format!(
        "flare-wallet-swtpm-{}-{}-{nanos}",
        std::process::id(),
        INSTANCE.fetch_add(1, Ordering::Relaxed)
    ))
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.stop();
        if self.owns_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
