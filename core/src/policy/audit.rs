//! The policy audit log (std): one line per policy an account was given.
//!
//! Each line is plain text:
//!
//! ```text
//! time=1700000000 event=replace address=0xAbC… old=<64 hex digits or "none"> new=<64 hex digits>
//! ```
//!
//! `event` is `create`, `import`, `restore` or `replace`; `old` and `new` are
//! policy hashes (`none`: the account had no policy). The wallet appends a
//! line by rewriting the whole file atomically, before the change it records,
//! so the log may name a change a crash interrupted, never miss one. It is a
//! record for operators, not a security boundary: a writer of the state
//! directory can edit it, as it can delete any file there.

use core::fmt::{self, Write as _};
use std::string::String;
use std::vec::Vec;

use super::PolicyError;
use crate::signer::Address;

/// The longest log the wallet reads or extends (about 5,000 entries).
pub const MAX_LOG_LEN: usize = 1 << 20;

/// What gave the account a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyEvent {
    /// A new account was created with it.
    Create,
    /// A key was imported with it.
    Import,
    /// A backup carrying it was restored.
    Restore,
    /// An explicit `replace_policy` call.
    Replace,
}

impl PolicyEvent {
    fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Import => "import",
            Self::Restore => "restore",
            Self::Replace => "replace",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Create, Self::Import, Self::Restore, Self::Replace]
            .into_iter()
            .find(|e| e.name() == name)
    }
}

/// One line of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyLogEntry {
    /// When (Unix seconds, from the wallet's clock).
    pub time: u64,
    /// What happened.
    pub event: PolicyEvent,
    /// The account.
    pub address: Address,
    /// The hash of the policy before, `None` if the account had none.
    pub old_hash: Option<[u8; 32]>,
    /// The hash of the policy after.
    pub new_hash: [u8; 32],
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl PolicyLogEntry {
    /// The entry's line, newline included.
    #[must_use]
    pub fn to_line(&self) -> String {
        let mut line = String::new();
        let old = self.old_hash.as_ref().map(|h| Hex(h));
        // Writing to a String cannot fail.
        let _ = write!(
            line,
            "time={} event={} address={} old=",
            self.time,
            self.event.name(),
            self.address
        );
        let _ = match old {
            Some(hex) => write!(line, "{hex}"),
            None => write!(line, "none"),
        };
        let _ = writeln!(line, " new={}", Hex(&self.new_hash));
        line
    }

    fn parse_line(line: &str) -> Option<Self> {
        let mut fields = line.split(' ');
        let mut next = |key: &str| fields.next()?.strip_prefix(key);
        let time = next("time=")?.parse().ok()?;
        let event = PolicyEvent::from_name(next("event=")?)?;
        let address = Address::parse_hex(next("address=")?).ok()?;
        let old_hash = match next("old=")? {
            "none" => None,
            hex => Some(parse_hash(hex)?),
        };
        let new_hash = parse_hash(next("new=")?)?;
        if fields.next().is_some() {
            return None;
        }
        let entry = Self {
            time,
            event,
            address,
            old_hash,
            new_hash,
        };
        // A line has one form, the one `to_line` writes. The field parsers
        // alone accept others: `str::parse` and `from_str_radix` take a
        // leading `+` and leading zeros, `Address::parse_hex` takes any case
        // and no `0x`. Such a line was not written by the wallet.
        (entry.to_line().strip_suffix('\n') == Some(line)).then_some(entry)
    }
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let text = core::str::from_utf8(pair).ok()?;
        if text.bytes().any(|c| c.is_ascii_uppercase()) {
            return None;
        }
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// Parses a whole log.
///
/// # Errors
/// [`PolicyError::AuditLogMalformed`] for text that is not UTF-8, a line
/// that does not parse, or a last line without its newline.
pub fn parse_log(bytes: &[u8]) -> Result<Vec<PolicyLogEntry>, PolicyError> {
    let bad = PolicyError::AuditLogMalformed;
    let text = core::str::from_utf8(bytes).map_err(|_| bad)?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let body = text.strip_suffix('\n').ok_or(bad)?;
    body.split('\n')
        .map(|line| PolicyLogEntry::parse_line(line).ok_or(bad))
        .collect()
}
