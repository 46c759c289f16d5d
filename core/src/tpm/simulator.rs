//! A private software TPM for tests and demos (std): `swtpm socket --tpm2` on
//! a Unix socket in a state directory, stopped by PID.
//!
//! Each [`Swtpm`] is a different TPM (its own seeds) unless it is restarted on
//! the same state directory with [`Swtpm::restart`], which keeps the seeds and
//! so gives the same SRK and AK. Nothing here is chosen silently: a caller asks
//! for a simulator by name.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::string::String;
use std::sync::atomic::{AtomicU64, Ordering};
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
        };
        swtpm.launch()?;
        Ok(swtpm)
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
        };
        swtpm.launch()?;
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
