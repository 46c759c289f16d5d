//! The state directory: modes, no silent overwrite, format and SRK checks,
//! and crash atomicity (a writer killed with SIGKILL mid-write).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wallet_core::backup::{BackupError, Field, SealedKeyFile, MAX_FILE_LEN};
use wallet_core::state::{StateDir, StateError, ACCOUNT_FILE, LOCK_FILE, TEMP_PREFIX};

/// A private temp directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "flw-state-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        fs::create_dir(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
        Self(path)
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const SRK_A: &[u8] = &[0x00, 0x0b, 0xaa, 0xaa];
const SRK_B: &[u8] = &[0x00, 0x0b, 0xbb, 0xbb];

fn sealed(srk: &[u8], address_byte: u8, private_len: usize) -> Vec<u8> {
    let private = vec![0x5a; private_len];
    let file = SealedKeyFile {
        address: [address_byte; 20],
        srk_name: srk,
        public: &[1, 2, 3, 4],
        private: &private,
        pcr_policy: None,
    };
    let mut out = vec![0u8; MAX_FILE_LEN];
    let n = file.encode(&mut out).unwrap();
    out.truncate(n);
    out
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn open_creates_a_private_directory_and_files() {
    let tmp = TempDir::new("modes");
    let dir = tmp.join("nested/state");
    let state = StateDir::open(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert!(!state.has_account().unwrap());
    let bytes = sealed(SRK_A, 1, 40);
    state.create_account(&bytes).unwrap();
    assert_eq!(mode(&state.account_path()), 0o600);
    assert_eq!(fs::read(state.account_path()).unwrap(), bytes);
    let account = state.load_account(SRK_A).unwrap();
    assert_eq!(account.bytes(), &bytes[..]);
    assert_eq!(account.address(), &[1u8; 20]);
    // The account file and the (empty) lock file are left: no temp file.
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec![LOCK_FILE.to_string(), ACCOUNT_FILE.to_string()]);
    assert_eq!(mode(&dir.join(LOCK_FILE)), 0o600);
    assert_eq!(fs::read(dir.join(LOCK_FILE)).unwrap(), b"");
}

#[test]
fn the_lock_admits_one_holder_at_a_time_across_handles() {
    let tmp = TempDir::new("lock");
    let dir = tmp.join("s");
    let first = StateDir::open(&dir).unwrap();
    let second = StateDir::open(&dir).unwrap();
    let held = first.lock().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _lock = second.lock().unwrap();
        tx.send(()).unwrap();
    });
    // While `held` lives the other handle cannot have the lock.
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(300))
        .is_err());
    drop(held);
    rx.recv().unwrap();
    waiter.join().unwrap();
    // Released again: it can be taken once more.
    drop(first.lock().unwrap());
}

#[test]
fn a_lock_file_that_is_not_a_regular_file_is_refused() {
    let tmp = TempDir::new("lock-link");
    let dir = tmp.join("s");
    let state = StateDir::open(&dir).unwrap();
    fs::remove_file(dir.join(LOCK_FILE)).unwrap();
    std::os::unix::fs::symlink(tmp.join("elsewhere"), dir.join(LOCK_FILE)).unwrap();
    assert_eq!(state.lock().unwrap_err(), StateError::NotARegularFile);
    assert!(!tmp.join("elsewhere").exists());
}

#[test]
fn an_existing_account_is_never_overwritten_silently() {
    let tmp = TempDir::new("exists");
    let state = StateDir::open(&tmp.join("s")).unwrap();
    let first = sealed(SRK_A, 1, 40);
    state.create_account(&first).unwrap();
    let second = sealed(SRK_A, 2, 40);
    assert_eq!(
        state.create_account(&second),
        Err(StateError::AccountExists)
    );
    assert_eq!(fs::read(state.account_path()).unwrap(), first);
    state.replace_account(&second).unwrap();
    assert_eq!(fs::read(state.account_path()).unwrap(), second);
    assert_eq!(mode(&state.account_path()), 0o600);
}

#[test]
fn invalid_bytes_are_refused_before_anything_is_written() {
    let tmp = TempDir::new("invalid");
    let state = StateDir::open(&tmp.join("s")).unwrap();
    let mut bad = sealed(SRK_A, 1, 40);
    bad[20] ^= 1;
    assert_eq!(
        state.create_account(&bad),
        Err(StateError::Format(BackupError::IntegrityMismatch))
    );
    assert!(!state.has_account().unwrap());
    let good = sealed(SRK_A, 1, 40);
    state.create_account(&good).unwrap();
    assert_eq!(
        state.replace_account(&bad[..30]),
        Err(StateError::Format(BackupError::Truncated(Field::Header)))
    );
    assert_eq!(fs::read(state.account_path()).unwrap(), good);
}

#[test]
fn loading_checks_format_and_srk_name() {
    let tmp = TempDir::new("load");
    let state = StateDir::open(&tmp.join("s")).unwrap();
    assert_eq!(state.load_account(SRK_A), Err(StateError::NoAccount));
    let good = sealed(SRK_A, 1, 40);
    state.create_account(&good).unwrap();
    assert_eq!(state.load_account(SRK_B), Err(StateError::SrkNameMismatch));
    assert_eq!(
        state.load_account(SRK_B).unwrap_err().to_string(),
        "account was sealed by another TPM (storage root key Name differs); nothing was unsealed"
    );

    let path = state.account_path();
    let mut corrupted = good.clone();
    corrupted[40] ^= 0x10;
    fs::write(&path, &corrupted).unwrap();
    assert_eq!(
        state.load_account(SRK_A),
        Err(StateError::Format(BackupError::IntegrityMismatch))
    );
    fs::write(&path, &good[..good.len() - 5]).unwrap();
    assert_eq!(
        state.load_account(SRK_A),
        Err(StateError::Format(BackupError::Truncated(Field::Integrity)))
    );
    fs::write(&path, vec![0u8; MAX_FILE_LEN + 100]).unwrap();
    assert_eq!(state.load_account(SRK_A), Err(StateError::FileTooLarge));
    fs::write(&path, b"not a sealed key").unwrap();
    assert_eq!(
        state.load_account(SRK_A),
        Err(StateError::Format(BackupError::BadMagic))
    );
    // The failed loads changed nothing on disk.
    assert_eq!(fs::read(&path).unwrap(), b"not a sealed key");
}

#[test]
fn insecure_or_odd_paths_are_refused() {
    let tmp = TempDir::new("odd");
    let file = tmp.join("plain-file");
    fs::write(&file, b"x").unwrap();
    assert_eq!(
        StateDir::open(&file).unwrap_err(),
        StateError::NotADirectory
    );

    let open_dir = tmp.join("world");
    fs::create_dir(&open_dir).unwrap();
    fs::set_permissions(&open_dir, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        StateDir::open(&open_dir).unwrap_err(),
        StateError::InsecurePermissions(0o755)
    );

    let state = StateDir::open(&tmp.join("s")).unwrap();
    state.create_account(&sealed(SRK_A, 1, 40)).unwrap();
    fs::set_permissions(state.account_path(), fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        state.load_account(SRK_A),
        Err(StateError::InsecurePermissions(0o644))
    );

    let linked = StateDir::open(&tmp.join("l")).unwrap();
    std::os::unix::fs::symlink(state.account_path(), linked.account_path()).unwrap();
    assert_eq!(linked.load_account(SRK_A), Err(StateError::NotARegularFile));
    assert_eq!(
        linked.create_account(&sealed(SRK_A, 1, 40)),
        Err(StateError::AccountExists)
    );
}

#[test]
fn leftover_temp_files_are_removed_on_open_and_never_read() {
    let tmp = TempDir::new("temp");
    let dir = tmp.join("s");
    let state = StateDir::open(&dir).unwrap();
    let good = sealed(SRK_A, 1, 40);
    state.create_account(&good).unwrap();
    // What a crash between writing the temp file and the rename leaves behind.
    let torn = dir.join(format!("{TEMP_PREFIX}999-0"));
    fs::write(&torn, &sealed(SRK_A, 2, 40)[..20]).unwrap();
    assert_eq!(state.load_account(SRK_A).unwrap().bytes(), &good[..]);
    let reopened = StateDir::open(&dir).unwrap();
    assert!(!torn.exists());
    assert_eq!(reopened.load_account(SRK_A).unwrap().bytes(), &good[..]);
}

const CHILD_DIR_VAR: &str = "FLW_STATE_CRASH_WRITER_DIR";

/// Alternates two different accounts in the directory with `replace_account`.
/// Run directly, it checks a bounded number of rounds; run by
/// `a_killed_writer_leaves_the_old_or_the_new_file`, it loops until killed.
#[test]
fn crash_writer_replaces_in_a_loop() {
    let a = sealed(SRK_A, 0xa1, 300);
    let b = sealed(SRK_A, 0xb2, 60);
    if let Ok(dir) = std::env::var(CHILD_DIR_VAR) {
        let state = StateDir::open(Path::new(&dir)).unwrap();
        for i in 0u64.. {
            state
                .replace_account(if i % 2 == 0 { &a } else { &b })
                .unwrap();
        }
    }
    let tmp = TempDir::new("writer");
    let state = StateDir::open(&tmp.join("s")).unwrap();
    state.create_account(&a).unwrap();
    for i in 0..50 {
        let next = if i % 2 == 0 { &b } else { &a };
        state.replace_account(next).unwrap();
        assert_eq!(state.load_account(SRK_A).unwrap().bytes(), &next[..]);
    }
}

#[test]
fn a_killed_writer_leaves_the_old_or_the_new_file() {
    let a = sealed(SRK_A, 0xa1, 300);
    let b = sealed(SRK_A, 0xb2, 60);
    let tmp = TempDir::new("crash");
    let dir = tmp.join("s");
    StateDir::open(&dir).unwrap().create_account(&a).unwrap();
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut seen_a = 0;
    let mut seen_b = 0;
    for round in 0..12u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_writer_replaces_in_a_loop",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at varying points of the write loop.
        std::thread::sleep(Duration::from_millis(30 + (round * 17) % 90));
        child.kill().unwrap();
        child.wait().unwrap();
        let on_disk = StateDir::open(&dir).unwrap().load_account(SRK_A).unwrap();
        if on_disk.bytes() == &a[..] {
            seen_a += 1;
        } else if on_disk.bytes() == &b[..] {
            seen_b += 1;
        } else {
            panic!("round {round}: the account file is neither the old nor the new one");
        }
    }
    eprintln!("after the kills: account A {seen_a} times, account B {seen_b} times");
    assert_eq!(seen_a + seen_b, 12);
    assert!(started.elapsed() < Duration::from_secs(60));
}
