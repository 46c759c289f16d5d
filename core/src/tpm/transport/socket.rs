//! swtpm's data channel over TCP or a Unix socket (std).
//!
//! swtpm in `--tpm2` socket mode speaks the plain TPM command stream: the command
//! frame is written as is and the response is read as a 10-byte header followed
//! by the rest of the frame, whose size the header gives.

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
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            // Key generation on a slow chip can take seconds; 60 s leaves room.
            io: Duration::from_secs(60),
        }
    }
}

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
}

/// A connection to swtpm's data channel that reconnects after a drop.
#[derive(Debug)]
pub struct SocketTransport {
    endpoint: Endpoint,
    timeouts: Timeouts,
    stream: Option<Stream>,
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
        }
    }

    /// A Unix-socket transport to `path`; connects on the first command.
    #[must_use]
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Self {
            endpoint: Endpoint::Unix(path.into()),
            timeouts: Timeouts::default(),
            stream: None,
        }
    }

    /// Replaces the connect and I/O time limits.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
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
            None => self.connect()?,
        };
        let result = exchange(&mut stream, command, response);
        // Any failure leaves the stream mid-frame: drop it so the next command
        // starts on a fresh connection.
        if result.is_ok() {
            self.stream = Some(stream);
        }
        result
    }
}
