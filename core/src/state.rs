//! The state directory: where a wallet keeps its sealed account.
//!
//! One directory holds one account, in [`ACCOUNT_FILE`], in the sealed-key
//! format of [`crate::backup`] (with the account's signing policy), and next
//! to it the wallet's spend history ([`SPEND_LEDGER_FILE`]) and the policy
//! audit log ([`POLICY_LOG_FILE`]). The file holds no secret in clear, but it is
//! still kept private: the directory is mode 0700 and the file 0600.
//!
//! Writes are atomic: the bytes go to a new temp file in the same directory,
//! which is fsynced, then moved into place (a hard link for a new account,
//! which fails if one exists; a rename for an explicit replacement), then
//! the directory is fsynced. A crash at any point leaves the old file or the
//! new one, never a torn one; a leftover temp file is removed the next time
//! the directory is opened.
//!
//! # One writer at a time
//!
//! Any number of processes (and wallets in one process) may open the same
//! directory. Every read-modify-write of its files runs under an exclusive
//! lock: `flock(2)` on [`LOCK_FILE`], taken by [`StateDir::lock`] and
//! released when the [`StateLock`] is dropped, or by the kernel when its
//! process dies, so a crashed holder never leaves the directory locked. A
//! writer re-reads what it changes under the lock, so no update is lost to
//! another writer; the wallet's spend ledger is re-read, checked and
//! reserved under the lock before a signature is made. Reads without the
//! lock see the old file or the new one (renames are atomic), never a torn
//! one. The lock is advisory: it orders the processes that use this code,
//! not a process that writes the files by other means.

use core::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::vec::Vec;

use crate::backup::{BackupError, SealedKeyFile, SealedKeyFileView, ADDRESS_LEN, MAX_FILE_LEN};

/// The name of the account file inside the state directory.
pub const ACCOUNT_FILE: &str = "account.flwseal";
/// The wallet's spend history for `daily_limit_wei`, next to the account.
pub const SPEND_LEDGER_FILE: &str = "spend.flwspend";
/// The append-only audit log of the account's signing policies.
pub const POLICY_LOG_FILE: &str = "policy-audit.log";
/// The lock file whose `flock` makes writers take turns. It holds no data.
pub const LOCK_FILE: &str = ".lock";
/// The prefix of temp files; anything starting with it is a leftover of an interrupted write.
pub const TEMP_PREFIX: &str = ".account.flwseal.tmp-";
/// Mode of the state directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the account file.
pub const FILE_MODE: u32 = 0o600;

/// The file-system step that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IoStep {
    /// Creating the state directory.
    CreateDir,
    /// Reading file or directory metadata.
    Metadata,
    /// Listing the directory.
    ListDir,
    /// Creating or opening a file.
    Open,
    /// Writing a file.
    Write,
    /// Reading a file.
    Read,
    /// fsync of a file or the directory.
    Sync,
    /// Moving the new file into place.
    Rename,
    /// Removing a file.
    Remove,
    /// Reading the spend ledger or the policy audit log.
    ReadStateFile,
    /// Opening or locking the lock file.
    Lock,
}

impl fmt::Display for IoStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoStep::CreateDir => "creating the state directory",
            IoStep::Metadata => "reading metadata",
            IoStep::ListDir => "listing the state directory",
            IoStep::Open => "opening a file",
            IoStep::Write => "writing a file",
            IoStep::Read => "reading the account file",
            IoStep::Sync => "syncing to disk",
            IoStep::Rename => "moving the account file into place",
            IoStep::Remove => "removing a file",
            IoStep::ReadStateFile => "reading the spend ledger or the policy log",
            IoStep::Lock => "locking the state directory",
        })
    }
}

/// What went wrong with the state directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// The state path exists and is not a directory.
    NotADirectory,
    /// The state directory (or the account file) can be read or written by
    /// group or others; the mode is given.
    InsecurePermissions(u32),
    /// The account file is not a regular file (a symlink, a device...).
    NotARegularFile,
    /// An account already exists; replacing it takes an explicit call.
    AccountExists,
    /// The directory holds no account.
    NoAccount,
    /// The account file is larger than any sealed-key file can be.
    FileTooLarge,
    /// The spend ledger or the policy log is larger than its bound.
    StateFileTooLarge,
    /// The account file is not a valid sealed-key file.
    Format(BackupError),
    /// The account was sealed under another storage root key: another TPM,
    /// or the same TPM after its owner hierarchy was cleared.
    SrkNameMismatch,
    /// A file-system operation failed.
    Io(IoStep, ErrorKind),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StateError::NotADirectory => f.write_str("state path exists and is not a directory"),
            StateError::InsecurePermissions(mode) => write!(
                f,
                "state directory or account file has mode {mode:o}: group or others have access"
            ),
            StateError::NotARegularFile => f.write_str("account file is not a regular file"),
            StateError::AccountExists => f.write_str(
                "an account already exists in the state directory (replacing it must be explicit)",
            ),
            StateError::NoAccount => f.write_str("no account in the state directory"),
            StateError::FileTooLarge => f.write_str("account file is too large to be a sealed key"),
            StateError::StateFileTooLarge => {
                f.write_str("spend ledger or policy log is larger than its bound")
            }
            StateError::Format(e) => write!(f, "account file: {e}"),
            StateError::SrkNameMismatch => f.write_str(
                "account was sealed by another TPM (storage root key Name differs); nothing was unsealed",
            ),
            StateError::Io(step, kind) => write!(f, "state directory I/O error {step}: {kind}"),
        }
    }
}

impl From<BackupError> for StateError {
    fn from(e: BackupError) -> Self {
        StateError::Format(e)
    }
}

fn io(step: IoStep) -> impl Fn(std::io::Error) -> StateError {
    move |e| StateError::Io(step, e.kind())
}

/// A sealed account read from the state directory: format and integrity checked.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedAccount {
    bytes: Vec<u8>,
    address: [u8; ADDRESS_LEN],
}

impl fmt::Debug for SealedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedAccount")
            .field("address", &self.address)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl SealedAccount {
    /// Checks `bytes` as a sealed-key file and keeps them.
    ///
    /// # Errors
    /// [`StateError::FileTooLarge`] or [`StateError::Format`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, StateError> {
        if bytes.len() > MAX_FILE_LEN {
            return Err(StateError::FileTooLarge);
        }
        let address = *SealedKeyFile::parse(&bytes)?.address();
        Ok(Self { bytes, address })
    }

    /// The address of the sealed key.
    #[must_use]
    pub fn address(&self) -> &[u8; ADDRESS_LEN] {
        &self.address
    }

    /// The encoded file.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parsed file.
    ///
    /// # Errors
    /// None in practice: the bytes were checked when this value was made.
    pub fn view(&self) -> Result<SealedKeyFileView<'_>, StateError> {
        Ok(SealedKeyFile::parse(&self.bytes)?)
    }

    /// Checks the recorded SRK Name against `srk_name` (constant time).
    ///
    /// # Errors
    /// [`StateError::SrkNameMismatch`] when they differ.
    pub fn check_srk_name(&self, srk_name: &[u8]) -> Result<(), StateError> {
        if self.view()?.srk_name_matches(srk_name) {
            Ok(())
        } else {
            Err(StateError::SrkNameMismatch)
        }
    }
}

/// The exclusive lock on a state directory, held until dropped (see the
/// [module documentation](self)).
#[derive(Debug)]
#[must_use = "the lock is released when this value is dropped"]
pub struct StateLock {
    // Closing the file releases the flock.
    _file: File,
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

impl StateDir {
    /// Opens the state directory, creating it with mode 0700 if it does not
    /// exist, and removes temp files left by an interrupted write.
    ///
    /// # Errors
    /// [`StateError::NotADirectory`], [`StateError::InsecurePermissions`] for
    /// a directory that group or others can access, or an I/O error.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        match fs::symlink_metadata(path) {
            Ok(meta) => {
                if !meta.is_dir() {
                    return Err(StateError::NotADirectory);
                }
                let mode = meta.mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(StateError::InsecurePermissions(mode));
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(path)
                    .map_err(io(IoStep::CreateDir))?;
                // The mode given to mkdir is masked by the umask; set it exactly.
                fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))
                    .map_err(io(IoStep::CreateDir))?;
            }
            Err(e) => return Err(StateError::Io(IoStep::Metadata, e.kind())),
        }
        let state = Self {
            dir: path.to_path_buf(),
        };
        // A temp file is a leftover only when nobody holds the lock: every
        // write happens under it.
        let _lock = state.lock()?;
        state.remove_temp_files()?;
        Ok(state)
    }

    /// Takes the directory's exclusive lock, waiting while another process
    /// (or another handle in this one) holds it. Every read-modify-write of
    /// the directory's files happens under it.
    ///
    /// # Errors
    /// [`StateError::NotARegularFile`] when the lock file is a symlink or
    /// not a regular file, or an I/O error ([`IoStep::Lock`]).
    pub fn lock(&self) -> Result<StateLock, StateError> {
        let path = self.dir.join(LOCK_FILE);
        match fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_file() => return Err(StateError::NotARegularFile),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Io(IoStep::Lock, e.kind())),
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(io(IoStep::Lock))?;
        file.lock().map_err(io(IoStep::Lock))?;
        Ok(StateLock { _file: file })
    }

    /// The directory's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The account file's path.
    #[must_use]
    pub fn account_path(&self) -> PathBuf {
        self.dir.join(ACCOUNT_FILE)
    }

    /// Whether the directory holds an account file.
    ///
    /// # Errors
    /// An I/O error other than "not found".
    pub fn has_account(&self) -> Result<bool, StateError> {
        match fs::symlink_metadata(self.account_path()) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StateError::Io(IoStep::Metadata, e.kind())),
        }
    }

    /// Stores a new account, under the directory's lock. Never replaces an
    /// existing one.
    ///
    /// # Errors
    /// [`StateError::Format`] when `sealed` is not a valid sealed-key file,
    /// [`StateError::AccountExists`] when an account is already there (it is
    /// left untouched), or an I/O error.
    pub fn create_account(&self, sealed: &[u8]) -> Result<(), StateError> {
        let lock = self.lock()?;
        self.create_account_locked(&lock, sealed)
    }

    /// As [`create_account`](Self::create_account), for a caller that holds the lock.
    pub(crate) fn create_account_locked(
        &self,
        _lock: &StateLock,
        sealed: &[u8],
    ) -> Result<(), StateError> {
        SealedKeyFile::parse(sealed)?;
        if self.has_account()? {
            return Err(StateError::AccountExists);
        }
        let temp = self.write_temp(sealed)?;
        // link(2) fails if the target exists, so a writer that does not take
        // the lock still cannot be overwritten.
        let linked = fs::hard_link(&temp, self.account_path());
        let removed = fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(StateError::AccountExists)
            }
            Err(e) => return Err(StateError::Io(IoStep::Rename, e.kind())),
        }
        removed.map_err(io(IoStep::Remove))?;
        self.sync_dir()
    }

    /// Replaces the account atomically, under the directory's lock: an
    /// explicit, deliberate overwrite.
    ///
    /// # Errors
    /// [`StateError::Format`] when `sealed` is not a valid sealed-key file,
    /// or an I/O error (the old file is then still in place).
    pub fn replace_account(&self, sealed: &[u8]) -> Result<(), StateError> {
        let lock = self.lock()?;
        self.replace_account_locked(&lock, sealed)
    }

    /// As [`replace_account`](Self::replace_account), for a caller that holds the lock.
    pub(crate) fn replace_account_locked(
        &self,
        lock: &StateLock,
        sealed: &[u8],
    ) -> Result<(), StateError> {
        SealedKeyFile::parse(sealed)?;
        self.replace_file(lock, ACCOUNT_FILE, sealed)
    }

    /// Reads the account and checks its format and integrity.
    ///
    /// # Errors
    /// [`StateError::NoAccount`], [`StateError::NotARegularFile`],
    /// [`StateError::InsecurePermissions`], [`StateError::FileTooLarge`],
    /// [`StateError::Format`], or an I/O error.
    pub fn read_account(&self) -> Result<SealedAccount, StateError> {
        let path = self.account_path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(StateError::NoAccount),
            Err(e) => return Err(StateError::Io(IoStep::Metadata, e.kind())),
        };
        if !meta.file_type().is_file() {
            return Err(StateError::NotARegularFile);
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StateError::InsecurePermissions(mode));
        }
        let file = File::open(&path).map_err(io(IoStep::Open))?;
        let mut bytes = Vec::new();
        // Read one byte past the bound so an oversized file is noticed without reading it all.
        let limit = u64::try_from(MAX_FILE_LEN + 1).map_err(|_| StateError::FileTooLarge)?;
        file.take(limit)
            .read_to_end(&mut bytes)
            .map_err(io(IoStep::Read))?;
        SealedAccount::from_bytes(bytes)
    }

    /// Reads the account and checks that it was sealed under the storage
    /// root key named `srk_name`.
    ///
    /// # Errors
    /// The errors of [`read_account`](Self::read_account), and
    /// [`StateError::SrkNameMismatch`].
    pub fn load_account(&self, srk_name: &[u8]) -> Result<SealedAccount, StateError> {
        let account = self.read_account()?;
        account.check_srk_name(srk_name)?;
        Ok(account)
    }

    /// Reads `name` (the spend ledger or the policy log) from the
    /// directory, `None` if it does not exist. The file must be a private
    /// regular file of at most `max_len` bytes.
    pub(crate) fn read_file(
        &self,
        name: &str,
        max_len: usize,
    ) -> Result<Option<Vec<u8>>, StateError> {
        let path = self.dir.join(name);
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StateError::Io(IoStep::Metadata, e.kind())),
        };
        if !meta.file_type().is_file() {
            return Err(StateError::NotARegularFile);
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StateError::InsecurePermissions(mode));
        }
        let file = File::open(&path).map_err(io(IoStep::Open))?;
        let mut bytes = Vec::new();
        let limit =
            u64::try_from(max_len.saturating_add(1)).map_err(|_| StateError::StateFileTooLarge)?;
        file.take(limit)
            .read_to_end(&mut bytes)
            .map_err(io(IoStep::ReadStateFile))?;
        if bytes.len() > max_len {
            return Err(StateError::StateFileTooLarge);
        }
        Ok(Some(bytes))
    }

    /// Replaces `name` (the spend ledger or the policy log) atomically: temp
    /// file, fsync, rename, fsync of the directory. A crash leaves the old
    /// file or the new one. The caller holds the lock and read what it
    /// changes under it.
    pub(crate) fn replace_file(
        &self,
        _lock: &StateLock,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), StateError> {
        let temp = self.write_temp(bytes)?;
        if let Err(e) = fs::rename(&temp, self.dir.join(name)) {
            let _ = fs::remove_file(&temp);
            return Err(StateError::Io(IoStep::Rename, e.kind()));
        }
        self.sync_dir()
    }

    fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf, StateError> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = self
            .dir
            .join(std::format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&temp)
            .map_err(io(IoStep::Open))?;
        let written = file
            .write_all(bytes)
            .map_err(io(IoStep::Write))
            .and_then(|()| {
                file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
                    .map_err(io(IoStep::Write))
            })
            .and_then(|()| file.sync_all().map_err(io(IoStep::Sync)));
        if let Err(e) = written {
            drop(file);
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        Ok(temp)
    }

    fn sync_dir(&self) -> Result<(), StateError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(IoStep::Sync))
    }

    fn remove_temp_files(&self) -> Result<(), StateError> {
        let entries = fs::read_dir(&self.dir).map_err(io(IoStep::ListDir))?;
        let mut removed = false;
        for entry in entries {
            let entry = entry.map_err(io(IoStep::ListDir))?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.starts_with(TEMP_PREFIX))
            {
                fs::remove_file(entry.path()).map_err(io(IoStep::Remove))?;
                removed = true;
            }
        }
        if removed {
            self.sync_dir()?;
        }
        Ok(())
    }
}
