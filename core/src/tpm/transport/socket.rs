//! swtpm's data channel over TCP or a Unix socket (std).
//!
//! swtpm in `--tpm2` socket mode speaks the plain TPM command stream: the command
//! frame is written as is and the response is read as a 10-byte header followed
//! by the rest of the frame, whose size the header gives.
//!
//! # Sharing one swtpm
//!
//! swtpm serves one connection at a time; a second client's connection
//! waits in the listen queue, unanswered, until the first one closes. So by
//! default this transport holds a connection for one operation only
//! ([`Transport::end_operation`] closes it), and every new connection first
//! sends a probe command (`TPM2_GetRandom` of 0 bytes) that must be
//! answered within [`Timeouts::busy`]: a TPM held by another client for
//! longer gives [`TransportError::Busy`] within that bound, instead of a
//! command that waits out the I/O time limit. A process that connects per
//! operation holds swtpm for milliseconds, so processes that share it take
//! turns. [`SocketTransport::persistent`] keeps one connection for the
//! transport's lifetime instead (the behaviour before sharing; faster per
//! operation, but every other client is busy-refused meanwhile).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::string::{String, ToString};
use std::time::Duration;

use super::{response_size, Transport, TransportError, HEADER_LEN};

/// Connect and I/O time limits of a socket transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Time allowed to establish a connection.
    pub connect: Duration,
    /// Time allowed for each read or write on an established connection.
    pub io: Duration,
    /// Time a new connection's probe may wait for its answer: how long
    /// another client may hold the TPM before this one reports it busy.
    pub busy: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            // Key generation on a slow chip can take seconds; 60 s leaves room.
            io: Duration::from_secs(60),
            // Another client's operation takes milliseconds; 2 s is far above
            // that and well inside "a few seconds".
            busy: Duration::from_secs(2),
        }
    }
}

/// `TPM2_GetRandom` of 0 bytes: the cheapest command every TPM answers, even
/// before `TPM2_Startup` (with an error code, which is an answer too).
const PROBE: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 0];

#[derive(Clone, Debug)]
enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.write_all(bytes),
            Self::Unix(stream) => stream.write_all(bytes),
        }
    }

    fn read_exact(&mut self, bytes: &mut [u8]) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.read_exact(bytes),
            Self::Unix(stream) => stream.read_exact(bytes),
        }
    }

    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.set_read_timeout(Some(timeout)),
            Self::Unix(stream) => stream.set_read_timeout(Some(timeout)),
        }
    }
}

/// A connection to swtpm's data channel that reconnects after a drop.
#[derive(Debug)]
pub struct SocketTransport {
    endpoint: Endpoint,
    timeouts: Timeouts,
    stream: Option<Stream>,
    /// Keep the connection across operations (see the module documentation).
    persistent: bool,
}

impl SocketTransport {
    /// A TCP transport to `host:port`; connects on the first command.
    #[must_use]
    pub fn tcp(host: &str, port: u16) -> Self {
        Self {
            endpoint: Endpoint::Tcp {
                host: host.to_string(),
                port,
            },
            timeouts: Timeouts::default(),
            stream: None,
            persistent: false,
        }
    }

    /// A Unix-socket transport to `path`; connects on the first command.
    #[must_use]
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Self {
            endpoint: Endpoint::Unix(path.into()),
            timeouts: Timeouts::default(),
            stream: None,
            persistent: false,
        }
    }

    /// Replaces the connect and I/O time limits.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Keeps one connection for the transport's lifetime instead of one per
    /// operation: fewer connects, but no other client gets the TPM meanwhile.
    #[must_use]
    pub fn persistent(mut self) -> Self {
        self.persistent = true;
        self
    }

    /// `true` while a connection is open.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// Closes the connection; the next command opens a new one.
    pub fn disconnect(&mut self) {
        self.stream = None;
    }

    /// Connects, then waits at most [`Timeouts::busy`] for the probe's answer.
    fn connect_and_probe(&self) -> Result<Stream, TransportError> {
        let mut stream = self.connect()?;
        let mut answer = [0u8; 64];
        stream
            .set_read_timeout(self.timeouts.busy)
            .map_err(|_| TransportError::ConnectFailed)?;
        match exchange(&mut stream, &PROBE, &mut answer) {
            Ok(_) => {}
            Err(TransportError::Timeout) => return Err(TransportError::Busy),
            Err(e) => return Err(e),
        }
        stream
            .set_read_timeout(self.timeouts.io)
            .map_err(|_| TransportError::ConnectFailed)?;
        Ok(stream)
    }

    fn connect(&self) -> Result<Stream, TransportError> {
        let io = Some(self.timeouts.io);
        match &self.endpoint {
            Endpoint::Tcp { host, port } => {
                let addresses = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|_| TransportError::ConnectFailed)?;
                let mut last = TransportError::ConnectFailed;
                for address in addresses {
                    match TcpStream::connect_timeout(&address, self.timeouts.connect) {
                        Ok(stream) => {
                            stream
                                .set_read_timeout(io)
                                .and_then(|()| stream.set_write_timeout(io))
                                .and_then(|()| stream.set_nodelay(true))
                                .map_err(|_| TransportError::ConnectFailed)?;
                            return Ok(Stream::Tcp(stream));
                        }
                        Err(error) if is_timeout(&error) => last = TransportError::Timeout,
                        Err(_) => last = TransportError::ConnectFailed,
                    }
                }
                Err(last)
            }
            Endpoint::Unix(path) => {
                // A Unix connect either succeeds or fails at once; there is no
                // handshake to time out.
                let stream =
                    UnixStream::connect(path).map_err(|_| TransportError::ConnectFailed)?;
                stream
                    .set_read_timeout(io)
                    .and_then(|()| stream.set_write_timeout(io))
                    .map_err(|_| TransportError::ConnectFailed)?;
                Ok(Stream::Unix(stream))
            }
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

fn map_io(error: &io::Error) -> TransportError {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::Timeout,
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => TransportError::ConnectionLost,
        _ => TransportError::Io,
    }
}

fn exchange(
    stream: &mut Stream,
    command: &[u8],
    response: &mut [u8],
) -> Result<usize, TransportError> {
    stream.write_all(command).map_err(|e| map_io(&e))?;
    let capacity = response.len();
    let header = response
        .get_mut(..HEADER_LEN)
        .ok_or(TransportError::ResponseTooLarge {
            announced: HEADER_LEN as u32,
        })?;
    stream.read_exact(header).map_err(|e| map_io(&e))?;
    let size = response_size(header, capacity)?;
    let rest = response
        .get_mut(HEADER_LEN..size)
        .ok_or(TransportError::ResponseTruncated)?;
    stream.read_exact(rest).map_err(|e| map_io(&e))?;
    Ok(size)
}

impl Transport for SocketTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let mut stream = match self.stream.take() {
            Some(stream) => stream,
            None => self.connect_and_probe()?,
        };
        let result = exchange(&mut stream, command, response);
        // Any failure leaves the stream mid-frame: drop it so the next command
        // starts on a fresh connection.
        if result.is_ok() {
            self.stream = Some(stream);
        }
        result
    }

    fn end_operation(&mut self) {
        if !self.persistent {
            self.stream = None;
        }
    }
}
