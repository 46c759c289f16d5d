//! A TPM character device such as `/dev/tpmrm0` (std).
//!
//! The kernel driver takes one whole command per `write` and hands back one whole
//! response per `read`. Device I/O has no time limit of its own: the kernel
//! driver applies the TPM's command timeouts.
//!
//! The device stays open across operations: `/dev/tpmrm0` is shared by the
//! kernel's resource manager (each open file has its own virtual handles), so
//! there is no turn to give up. `/dev/tpm0` admits one open file at a time;
//! a second opener gets [`TransportError::Busy`] at once.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{response_size, Transport, TransportError};

/// An open TPM character device; reopened after an I/O failure.
#[derive(Debug)]
pub struct DeviceTransport {
    path: PathBuf,
    file: Option<File>,
}

impl DeviceTransport {
    /// Opens the device read-write.
    ///
    /// # Errors
    ///
    /// [`TransportError::ConnectFailed`] when the device cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TransportError> {
        let path = path.as_ref().to_path_buf();
        let file = Self::open_file(&path)?;
        Ok(Self {
            path,
            file: Some(file),
        })
    }

    fn open_file(path: &Path) -> Result<File, TransportError> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| match e.kind() {
                // `/dev/tpm0` admits one open file at a time; `/dev/tpmrm0`
                // (the kernel resource manager) shares the TPM instead.
                std::io::ErrorKind::ResourceBusy => TransportError::Busy,
                _ => TransportError::ConnectFailed,
            })
    }
}

impl Transport for DeviceTransport {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let mut file = match self.file.take() {
            Some(file) => file,
            None => Self::open_file(&self.path)?,
        };
        file.write_all(command)
            .map_err(|_| TransportError::ConnectionLost)?;
        let read = file
            .read(response)
            .map_err(|_| TransportError::ConnectionLost)?;
        let frame = response
            .get(..read)
            .ok_or(TransportError::ResponseTruncated)?;
        let size = response_size(frame, response.len())?;
        if size != read {
            return Err(TransportError::ResponseTruncated);
        }
        self.file = Some(file);
        Ok(size)
    }
}
