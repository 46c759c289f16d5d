//! Transports and helpers shared by the wallet tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport};
use wallet_core::tpm::{Transport, TransportError};
use wallet_core::wallet::Wallet;

/// Every byte sent to and received from the TPM, in order.
#[derive(Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<u8>>>);

impl Transcript {
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn contains(&self, needle: &[u8]) -> bool {
        contains(&self.0.lock().unwrap(), needle)
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A real transport whose traffic is copied into a [`Transcript`].
pub struct RecordingTransport {
    inner: StdTransport,
    transcript: Transcript,
}

impl RecordingTransport {
    pub fn new(swtpm: &Swtpm) -> (Self, Transcript) {
        let transcript = Transcript::default();
        let inner = transport::open(&swtpm.tcti()).unwrap();
        (
            Self {
                inner,
                transcript: transcript.clone(),
            },
            transcript,
        )
    }
}

impl RecordingTransport {
    /// Records into `transcript` instead (several wallets, one transcript).
    pub fn with_transcript(mut self, transcript: Transcript) -> Self {
        self.transcript = transcript;
        self
    }
}

impl Transport for RecordingTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.transcript.0.lock().unwrap().extend_from_slice(command);
        let n = self.inner.transact(command, response)?;
        self.transcript
            .0
            .lock()
            .unwrap()
            .extend_from_slice(&response[..n]);
        Ok(n)
    }
}

/// Shared controls of an [`EveryNthFailsTestDouble`].
#[derive(Clone, Default)]
pub struct FaultControl {
    /// Command codes refused so far.
    pub refused: Arc<Mutex<Vec<u32>>>,
    /// Failures are injected only while armed.
    pub armed: Arc<std::sync::atomic::AtomicBool>,
    /// Commands counted while armed; the command that brings it to a
    /// multiple of the period is refused.
    pub count: Arc<std::sync::atomic::AtomicU64>,
    /// When nonzero, counts down one per command; the command that brings
    /// it to zero is refused (armed or not).
    pub once: Arc<std::sync::atomic::AtomicU64>,
}

impl FaultControl {
    pub fn arm(&self, on: bool) {
        self.armed.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Refuses the `k`-th next command (1-based), once.
    pub fn fail_once_at(&self, k: u64) {
        self.once.store(k, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Test double: a real transport that, while armed, fails every
/// `period`-th command: without sending it, as a refused connection would,
/// or (see [`EveryNthFailsTestDouble::losing_responses`]) after the TPM ran
/// it, as a connection dropped mid-answer would.
pub struct EveryNthFailsTestDouble {
    inner: StdTransport,
    period: u64,
    control: FaultControl,
    lose_responses: bool,
}

impl EveryNthFailsTestDouble {
    pub fn new(swtpm: &Swtpm, period: u64) -> (Self, FaultControl) {
        let control = FaultControl::default();
        (
            Self {
                inner: transport::open(&swtpm.tcti()).unwrap(),
                period,
                control: control.clone(),
                lose_responses: false,
            },
            control,
        )
    }

    /// Refused commands are sent and run by the TPM, and only their response
    /// is lost: a handle the TPM created is then unknown to the caller.
    pub fn losing_responses(mut self) -> Self {
        self.lose_responses = true;
        self
    }
}

impl Transport for EveryNthFailsTestDouble {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        use std::sync::atomic::Ordering;
        let once = self.control.once.load(Ordering::SeqCst);
        if once > 0 {
            self.control.once.store(once - 1, Ordering::SeqCst);
        }
        let refuse = if once == 1 {
            true
        } else if self.control.armed.load(Ordering::SeqCst) {
            let count = self.control.count.fetch_add(1, Ordering::SeqCst) + 1;
            count.is_multiple_of(self.period)
        } else {
            false
        };
        if refuse {
            let code = command
                .get(6..10)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            self.control.refused.lock().unwrap().push(code);
            if self.lose_responses {
                let _ = self.inner.transact(command, response)?;
                response.fill(0);
            }
            return Err(TransportError::InjectedFailure);
        }
        self.inner.transact(command, response)
    }
}

/// A private temp directory (mode 0700 not required: the state dir is a
/// subdirectory the wallet creates), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "flw-wallet-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn state(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn swtpm() -> Swtpm {
    Swtpm::start_temporary().expect("swtpm must be installed (apt-get install swtpm swtpm-tools)")
}

pub fn open_wallet(swtpm: &Swtpm, state: &std::path::Path) -> Wallet {
    Wallet::open(&swtpm.tcti(), state, &swtpm.trust()).unwrap()
}

/// An EIP-1559 unsigned signing payload (chain 14), built with the rlp crate.
pub fn eip1559_payload(nonce: u64) -> Vec<u8> {
    let mut s = rlp::RlpStream::new_list(9);
    s.append(&14u64);
    s.append(&nonce);
    s.append(&1_000_000_000u64);
    s.append(&30_000_000_000u64);
    s.append(&21_000u64);
    s.append(&vec![0x11u8; 20]);
    s.append(&1_000_000_000_000_000u64);
    s.append_empty_data();
    s.begin_list(0);
    let mut out = vec![0x02];
    out.extend_from_slice(&s.out());
    out
}
