//! Moving whole TPM frames: a command frame in, a response frame out.
//!
//! The core only needs [`Transport`]; the `std` feature adds the transports named
//! by tpm2-tss TCTI strings (`device:/dev/tpmrm0`, `swtpm:host=H,port=P`,
//! `swtpm:path=SOCK`) and the default resolver [`open_default`].

use core::fmt;

#[cfg(feature = "std")]
mod device;
#[cfg(feature = "std")]
mod socket;
mod tcti;

#[cfg(feature = "std")]
pub use device::DeviceTransport;
#[cfg(feature = "std")]
pub use socket::{SocketTransport, Timeouts};
pub use tcti::{parse_tcti, Tcti};

/// Size of the TPM response header: tag, size, response code.
pub const HEADER_LEN: usize = 10;

/// Sends one whole TPM command frame and receives one whole response frame.
pub trait Transport {
    /// Sends `command` and writes the response frame into `response`, returning
    /// its length.
    ///
    /// # Errors
    ///
    /// Returns a [`TransportError`] when the frame cannot be delivered or the
    /// answer is not a whole frame that fits `response`. TPM response codes are
    /// not transport errors: a response carrying an error code is returned as is.
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError>;

    /// Marks the end of one operation: a run of commands whose objects and
    /// sessions are flushed again by its end. A transport to a TPM that
    /// serves one client at a time (swtpm) disconnects here so other
    /// clients get their turn; the next command connects again. The
    /// default does nothing.
    fn end_operation(&mut self) {}
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        (**self).transact(command, response)
    }

    fn end_operation(&mut self) {
        (**self).end_operation();
    }
}

#[cfg(feature = "std")]
impl<T: Transport + ?Sized> Transport for std::boxed::Box<T> {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        (**self).transact(command, response)
    }

    fn end_operation(&mut self) {
        (**self).end_operation();
    }
}

/// Why a frame could not be exchanged with the TPM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The TCTI string is not `device:PATH`, `swtpm:host=H,port=P` or `swtpm:path=SOCK`.
    InvalidTcti,
    /// Neither `$FLARE_WALLET_TPM` is set nor `/dev/tpmrm0` exists.
    NoDefaultTpm,
    /// The TPM device or socket could not be opened or connected to.
    ConnectFailed,
    /// Connecting to, writing to or reading from the TPM took longer than allowed.
    Timeout,
    /// The connection was closed or broke mid-frame; the next call reconnects.
    ConnectionLost,
    /// An I/O error other than a timeout or a closed connection.
    Io,
    /// The command frame is larger than the transport accepts.
    CommandTooLarge,
    /// The response header announces a frame larger than the response buffer.
    ResponseTooLarge {
        /// The size announced by the response header.
        announced: u32,
    },
    /// The response is shorter than a header or than the size it announces.
    ResponseTruncated,
    /// A test double refused the command on purpose.
    InjectedFailure,
    /// The TPM serves another client and did not take this one within the
    /// busy bound ([`Timeouts::busy`], swtpm), or a device is held open
    /// exclusively by another process (`/dev/tpm0`, `EBUSY`).
    Busy,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidTcti => f.write_str(
                "invalid TPM connection string: expected device:PATH, swtpm:host=H,port=P or swtpm:path=SOCKET",
            ),
            Self::NoDefaultTpm => f.write_str(
                "no TPM configured: set FLARE_WALLET_TPM (e.g. swtpm:path=/run/swtpm.sock) or provide /dev/tpmrm0",
            ),
            Self::ConnectFailed => f.write_str("could not open or connect to the TPM"),
            Self::Timeout => f.write_str("the TPM did not answer in time"),
            Self::ConnectionLost => f.write_str(
                "the connection to the TPM was lost; the next command reconnects",
            ),
            Self::Io => f.write_str("I/O error while talking to the TPM"),
            Self::CommandTooLarge => f.write_str("the TPM command frame is too large"),
            Self::ResponseTooLarge { announced } => write!(
                f,
                "the TPM announced a {announced}-byte response, larger than the response buffer"
            ),
            Self::ResponseTruncated => f.write_str("the TPM response frame is truncated"),
            Self::InjectedFailure => f.write_str("the test transport refused this command on purpose"),
            Self::Busy => f.write_str(
                "TPM busy (held by another client): it did not take this connection in time; retry later",
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TransportError {}

/// Reads the size field of a response header, checking it against the buffer.
///
/// # Errors
///
/// [`TransportError::ResponseTruncated`] when `header` is shorter than
/// [`HEADER_LEN`] or announces less than a header; [`TransportError::ResponseTooLarge`]
/// when it announces more than `capacity` bytes.
pub fn response_size(header: &[u8], capacity: usize) -> Result<usize, TransportError> {
    let size_bytes: [u8; 4] = header
        .get(2..6)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(TransportError::ResponseTruncated)?;
    let announced = u32::from_be_bytes(size_bytes);
    let size =
        usize::try_from(announced).map_err(|_| TransportError::ResponseTooLarge { announced })?;
    if size < HEADER_LEN {
        return Err(TransportError::ResponseTruncated);
    }
    if size > capacity {
        return Err(TransportError::ResponseTooLarge { announced });
    }
    Ok(size)
}

/// A transport opened from a TCTI string (std).
#[cfg(feature = "std")]
#[derive(Debug)]
pub enum StdTransport {
    /// A character device such as `/dev/tpmrm0`.
    Device(DeviceTransport),
    /// swtpm's data channel over TCP or a Unix socket.
    Socket(SocketTransport),
}

#[cfg(feature = "std")]
impl Transport for StdTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        match self {
            Self::Device(device) => device.transact(command, response),
            Self::Socket(socket) => socket.transact(command, response),
        }
    }

    fn end_operation(&mut self) {
        match self {
            Self::Device(device) => device.end_operation(),
            Self::Socket(socket) => socket.end_operation(),
        }
    }
}

/// Opens the transport named by a tpm2-tss style TCTI string.
///
/// Sockets are connected lazily, on the first command, and reconnected after a
/// dropped connection.
///
/// # Errors
///
/// [`TransportError::InvalidTcti`] for an unknown syntax;
/// [`TransportError::ConnectFailed`] when a device cannot be opened.
#[cfg(feature = "std")]
pub fn open(tcti: &str) -> Result<StdTransport, TransportError> {
    match parse_tcti(tcti)? {
        Tcti::Device { path } => Ok(StdTransport::Device(DeviceTransport::open(path)?)),
        Tcti::SwtpmTcp { host, port } => Ok(StdTransport::Socket(SocketTransport::tcp(host, port))),
        Tcti::SwtpmUnix { path } => Ok(StdTransport::Socket(SocketTransport::unix(path))),
    }
}

/// The environment variable naming the TPM to use.
pub const TPM_ENV_VAR: &str = "FLARE_WALLET_TPM";
/// The kernel's resource-managed TPM device.
pub const DEFAULT_DEVICE: &str = "/dev/tpmrm0";

/// Resolves the default TPM: `$FLARE_WALLET_TPM`, else `/dev/tpmrm0` if present.
///
/// The software TPM is never chosen silently.
///
/// # Errors
///
/// [`TransportError::NoDefaultTpm`] when neither is available, or the errors of [`open`].
#[cfg(feature = "std")]
pub fn open_default() -> Result<StdTransport, TransportError> {
    if let Ok(tcti) = std::env::var(TPM_ENV_VAR) {
        return open(&tcti);
    }
    if std::path::Path::new(DEFAULT_DEVICE).exists() {
        return Ok(StdTransport::Device(DeviceTransport::open(DEFAULT_DEVICE)?));
    }
    Err(TransportError::NoDefaultTpm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_size_bounds() {
        let header = [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0];
        assert_eq!(response_size(&header, 4096), Ok(10));
        let big = [0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
        assert_eq!(
            response_size(&big, 4096),
            Err(TransportError::ResponseTooLarge {
                announced: u32::MAX
            })
        );
        let small = [0x80, 0x01, 0, 0, 0, 9, 0, 0, 0, 0];
        assert_eq!(
            response_size(&small, 4096),
            Err(TransportError::ResponseTruncated)
        );
        assert_eq!(
            response_size(&[0x80], 4096),
            Err(TransportError::ResponseTruncated)
        );
    }
}
