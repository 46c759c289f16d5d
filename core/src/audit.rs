//! The audit log (std): a hash chain of every admin action the wallet
//! executed and every request its policy refused.
//!
//! Each entry is one line of text, written in exactly one form:
//!
//! ```text
//! seq=7 time=1700000000 event=replace_policy address=0xAbC… nonce=3 old=<64 hex> new=<64 hex> prev=<64 hex> hash=<64 hex>
//! ```
//!
//! - `seq` counts entries from 0 and never restarts, rotation included.
//! - `prev` is the `hash` of the entry before; the first entry of a log
//!   (`seq=0`) has 64 zeros there ([`GENESIS`]).
//! - `hash` is `SHA-256("flare-wallet/audit/v1" || prev || body)`, where
//!   `body` is the line's text up to (not including) ` prev=`. Editing,
//!   removing or reordering any entry changes the hash of every entry after
//!   it, so the last one, the **head**, no longer matches.
//!
//! The head goes into attestation evidence. [`verify_audit_log`] checks a
//! log against a head taken from evidence: a log that verifies is the log the
//! wallet had when it attested, or a later extension of it (an earlier head
//! appears as the `hash` of one of its entries).
//!
//! # Events
//!
//! | event | fields after `address` |
//! | --- | --- |
//! | `create`, `import`, `restore` | `policy=<hash> owners=<hash or 64 zeros: ownerless> threshold=<M>` |
//! | `replace_policy`, `replace_owners` | `nonce=<admin nonce used> old=<hash> new=<hash>` |
//! | `export_keystore` | `nonce=<admin nonce used>` |
//! | `refuse` | `request=<transaction, message, typed_data or raw_hash> rule=<the policy rule>` |
//! | `rotate` | none: the first entry of a log whose older entries were moved to [`ROTATED_SUFFIX`] |
//!
//! # Size and rotation
//!
//! The wallet keeps the log under [`MAX_LOG_LEN`] (or the smaller limit its
//! operator set). An append that would pass
//! it first moves the log to `<name>.1` (replacing an older `.1`) and starts
//! a new one with a `rotate` entry whose `prev` is the old head, so the
//! chain continues across files: the old file followed by the new one
//! verifies as one log. A rotated log on its own verifies from its `rotate`
//! entry; a log whose first entry is neither `seq=0` nor `rotate` is
//! refused (its beginning was cut).
//!
//! The log is evidence for the wallet's owners and operators, not a lock: a
//! writer of the state directory can still delete it, and the hash chain
//! makes that visible against the last attested head.

use core::fmt::{self, Write as _};
use std::string::String;
use std::vec::Vec;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::policy::PolicyField;
use crate::signer::Address;

/// The longest log file the wallet reads or extends (about 1,500 entries).
pub const MAX_LOG_LEN: usize = 256 * 1024;
/// The smallest rotation size a wallet accepts
/// (`Wallet::set_audit_log_limit`): room for a few dozen entries.
pub const MIN_LOG_LEN: usize = 4 * 1024;
/// The `prev` of the first entry of a log.
pub const GENESIS: [u8; 32] = [0u8; 32];
/// Domain-separation label of an entry's hash.
pub const ENTRY_HASH_LABEL: &[u8] = b"flare-wallet/audit/v1";
/// The suffix of the file the older entries move to on rotation.
pub const ROTATED_SUFFIX: &str = ".1";

/// What kind of request a policy refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusedRequest {
    /// A transaction.
    Transaction,
    /// An EIP-191 message.
    Message,
    /// EIP-712 typed data with its domain.
    TypedData,
    /// A caller's raw 32-byte digest.
    RawHash,
    /// An EIP-7702 authorization.
    Authorization,
}

impl RefusedRequest {
    const ALL: [Self; 5] = [
        Self::Transaction,
        Self::Message,
        Self::TypedData,
        Self::RawHash,
        Self::Authorization,
    ];

    /// The name the log uses.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::Message => "message",
            Self::TypedData => "typed_data",
            Self::RawHash => "raw_hash",
            Self::Authorization => "authorization",
        }
    }
}

/// The policy rules a `refuse` entry can name.
const RULES: [PolicyField; 23] = [
    PolicyField::Header,
    PolicyField::ChainIds,
    PolicyField::MaxValueWei,
    PolicyField::MaxFeeWei,
    PolicyField::RecipientsAllow,
    PolicyField::RecipientsDeny,
    PolicyField::AllowContractCreation,
    PolicyField::Selectors,
    PolicyField::DelegationsAllow,
    PolicyField::AllowUnprotected,
    PolicyField::AllowMessages,
    PolicyField::TypedDataDomains,
    PolicyField::DailyLimitWei,
    PolicyField::AllowRawHashes,
    PolicyField::Default,
    PolicyField::Tokens,
    PolicyField::TokenMaxAmount,
    PolicyField::TokenDailyLimit,
    PolicyField::TokenRecipientsAllow,
    PolicyField::TokenSpendersAllow,
    PolicyField::TokenAllowUnlimitedApproval,
    PolicyField::PermitMaxLifetimeSeconds,
    PolicyField::AllowAnyChainAuthorization,
];

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditEvent {
    /// A new account, with its policy and owners.
    Create {
        /// Hash of the account's policy.
        policy: [u8; 32],
        /// Hash of its owner set ([`GENESIS`]-like zeros: ownerless).
        owners: [u8; 32],
        /// Its threshold (0: ownerless).
        threshold: u8,
    },
    /// An imported key, with its policy and owners.
    Import {
        /// Hash of the account's policy.
        policy: [u8; 32],
        /// Hash of its owner set (zeros: ownerless).
        owners: [u8; 32],
        /// Its threshold (0: ownerless).
        threshold: u8,
    },
    /// A restored backup, with its policy and owners.
    Restore {
        /// Hash of the account's policy.
        policy: [u8; 32],
        /// Hash of its owner set (zeros: ownerless).
        owners: [u8; 32],
        /// Its threshold (0: ownerless).
        threshold: u8,
    },
    /// The owners replaced the policy.
    ReplacePolicy {
        /// The admin nonce the approvals were for.
        nonce: u64,
        /// Hash of the policy before.
        old: [u8; 32],
        /// Hash of the policy after.
        new: [u8; 32],
    },
    /// The owners replaced the owner set.
    ReplaceOwners {
        /// The admin nonce the approvals were for.
        nonce: u64,
        /// Hash of the owner set before.
        old: [u8; 32],
        /// Hash of the owner set after.
        new: [u8; 32],
    },
    /// The owners exported the key as a keystore.
    ExportKeystore {
        /// The admin nonce the approvals were for.
        nonce: u64,
    },
    /// The owners approved a PIN change; the key was sealed again under the
    /// new PIN (neither PIN is logged).
    ChangePin {
        /// The admin nonce the approvals were for.
        nonce: u64,
    },
    /// The policy refused a request; nothing was signed.
    Refuse {
        /// What was asked.
        request: RefusedRequest,
        /// The rule that refused it.
        rule: PolicyField,
    },
    /// The first entry after a rotation.
    Rotate,
}

impl AuditEvent {
    fn name(&self) -> &'static str {
        match self {
            Self::Create { .. } => "create",
            Self::Import { .. } => "import",
            Self::Restore { .. } => "restore",
            Self::ReplacePolicy { .. } => "replace_policy",
            Self::ReplaceOwners { .. } => "replace_owners",
            Self::ExportKeystore { .. } => "export_keystore",
            Self::ChangePin { .. } => "change_pin",
            Self::Refuse { .. } => "refuse",
            Self::Rotate => "rotate",
        }
    }
}

/// One entry of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the whole chain, from 0.
    pub seq: u64,
    /// When (Unix seconds, the wallet's clock).
    pub time: u64,
    /// The account.
    pub address: Address,
    /// What happened.
    pub event: AuditEvent,
    /// The hash of the entry before ([`GENESIS`] for `seq` 0).
    pub prev: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The line text before ` prev=`.
fn body(seq: u64, time: u64, address: &Address, event: &AuditEvent) -> String {
    let mut line = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        line,
        "seq={seq} time={time} event={} address={address}",
        event.name()
    );
    let _ = match event {
        AuditEvent::Create {
            policy,
            owners,
            threshold,
        }
        | AuditEvent::Import {
            policy,
            owners,
            threshold,
        }
        | AuditEvent::Restore {
            policy,
            owners,
            threshold,
        } => write!(
            line,
            " policy={} owners={} threshold={threshold}",
            Hex(policy),
            Hex(owners)
        ),
        AuditEvent::ReplacePolicy { nonce, old, new }
        | AuditEvent::ReplaceOwners { nonce, old, new } => {
            write!(line, " nonce={nonce} old={} new={}", Hex(old), Hex(new))
        }
        AuditEvent::ExportKeystore { nonce } | AuditEvent::ChangePin { nonce } => {
            write!(line, " nonce={nonce}")
        }
        AuditEvent::Refuse { request, rule } => {
            write!(line, " request={} rule={}", request.name(), rule.name())
        }
        AuditEvent::Rotate => Ok(()),
    };
    line
}

fn entry_hash(prev: &[u8; 32], body: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ENTRY_HASH_LABEL);
    h.update(prev);
    h.update(body.as_bytes());
    h.finalize().into()
}

impl AuditEntry {
    /// The entry that follows one with hash `prev` and sequence number
    /// `seq - 1`, its hash computed.
    #[must_use]
    pub fn new(seq: u64, time: u64, address: Address, event: AuditEvent, prev: [u8; 32]) -> Self {
        let hash = entry_hash(&prev, &body(seq, time, &address, &event));
        Self {
            seq,
            time,
            address,
            event,
            prev,
            hash,
        }
    }

    /// The entry's line, newline included.
    #[must_use]
    pub fn to_line(&self) -> String {
        let mut line = body(self.seq, self.time, &self.address, &self.event);
        let _ = writeln!(line, " prev={} hash={}", Hex(&self.prev), Hex(&self.hash));
        line
    }

    fn parse_line(line: &str) -> Option<Self> {
        let mut fields = line.split(' ');
        let mut next = |key: &str| fields.next()?.strip_prefix(key);
        let seq = next("seq=")?.parse().ok()?;
        let time = next("time=")?.parse().ok()?;
        let event_name = next("event=")?;
        let address = Address::parse_hex(next("address=")?).ok()?;
        let event = match event_name {
            "create" | "import" | "restore" => {
                let policy = parse_hash(next("policy=")?)?;
                let owners = parse_hash(next("owners=")?)?;
                let threshold = next("threshold=")?.parse().ok()?;
                match event_name {
                    "create" => AuditEvent::Create {
                        policy,
                        owners,
                        threshold,
                    },
                    "import" => AuditEvent::Import {
                        policy,
                        owners,
                        threshold,
                    },
                    _ => AuditEvent::Restore {
                        policy,
                        owners,
                        threshold,
                    },
                }
            }
            "replace_policy" | "replace_owners" => {
                let nonce = next("nonce=")?.parse().ok()?;
                let old = parse_hash(next("old=")?)?;
                let new = parse_hash(next("new=")?)?;
                if event_name == "replace_policy" {
                    AuditEvent::ReplacePolicy { nonce, old, new }
                } else {
                    AuditEvent::ReplaceOwners { nonce, old, new }
                }
            }
            "export_keystore" => AuditEvent::ExportKeystore {
                nonce: next("nonce=")?.parse().ok()?,
            },
            "change_pin" => AuditEvent::ChangePin {
                nonce: next("nonce=")?.parse().ok()?,
            },
            "refuse" => {
                let request_name = next("request=")?;
                let request = RefusedRequest::ALL
                    .into_iter()
                    .find(|r| r.name() == request_name)?;
                let rule_name = next("rule=")?;
                let rule = RULES.into_iter().find(|r| r.name() == rule_name)?;
                AuditEvent::Refuse { request, rule }
            }
            "rotate" => AuditEvent::Rotate,
            _ => return None,
        };
        let prev = parse_hash(next("prev=")?)?;
        let hash = parse_hash(next("hash=")?)?;
        if fields.next().is_some() {
            return None;
        }
        let entry = Self {
            seq,
            time,
            address,
            event,
            prev,
            hash,
        };
        // One form only: the field parsers alone would also take a leading
        // `+`, leading zeros or another letter case.
        let mut canonical = body(seq, time, &address, &event);
        let _ = write!(canonical, " prev={} hash={}", Hex(&prev), Hex(&hash));
        (canonical == line).then_some(entry)
    }
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 || digits.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let text = core::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// Why a log does not verify; each names the entry (its line, from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    /// The log is not UTF-8 text ending in a newline.
    NotText,
    /// A line is not an entry in the one form the wallet writes.
    Malformed {
        /// The line, from 1.
        line: usize,
    },
    /// An entry's hash is not the hash of its contents: it was edited.
    EntryHashMismatch {
        /// The line, from 1.
        line: usize,
    },
    /// An entry's `prev` is not the hash of the entry before it: an entry
    /// was removed, inserted or moved.
    ChainBroken {
        /// The line, from 1.
        line: usize,
    },
    /// An entry's `seq` does not follow the one before it.
    SequenceGap {
        /// The line, from 1.
        line: usize,
    },
    /// The first entry is neither the first of the chain nor a rotation:
    /// the log's beginning was cut.
    MissingStart,
    /// The log's last hash is not the expected head: entries were removed
    /// from its end, or it is another log.
    HeadMismatch,
    /// The log is empty and the expected head is not [`GENESIS`].
    Empty,
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotText => f.write_str("audit log is not text ending in a newline"),
            Self::Malformed { line } => {
                write!(f, "audit log line {line} is not an entry the wallet writes")
            }
            Self::EntryHashMismatch { line } => write!(
                f,
                "audit log line {line} does not match its hash: the entry was edited"
            ),
            Self::ChainBroken { line } => write!(
                f,
                "audit log line {line} does not follow the entry before it: an entry was removed, inserted or moved"
            ),
            Self::SequenceGap { line } => {
                write!(f, "audit log line {line} has a sequence number out of order")
            }
            Self::MissingStart => f.write_str(
                "audit log starts neither at its first entry nor at a rotation: its beginning was cut",
            ),
            Self::HeadMismatch => f.write_str(
                "audit log does not end at the expected head: entries were removed from its end, or it is another log",
            ),
            Self::Empty => f.write_str("audit log is empty but a head was expected"),
        }
    }
}

/// Parses a log without checking its chain (the wallet's own reader).
///
/// # Errors
/// [`AuditError::NotText`], [`AuditError::Malformed`].
pub fn parse_log(bytes: &[u8]) -> Result<Vec<AuditEntry>, AuditError> {
    let text = core::str::from_utf8(bytes).map_err(|_| AuditError::NotText)?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let body = text.strip_suffix('\n').ok_or(AuditError::NotText)?;
    body.split('\n')
        .enumerate()
        .map(|(i, line)| AuditEntry::parse_line(line).ok_or(AuditError::Malformed { line: i + 1 }))
        .collect()
}

/// Checks a whole log: every entry in its one form, each hash over its
/// contents, each `prev` the hash before, `seq` consecutive, a start at
/// `seq` 0 or at a rotation, and a last hash equal to `head` (compared in
/// constant time). An empty log verifies only against [`GENESIS`]. Several
/// files of one chain (the rotated `.1` first) verify concatenated.
///
/// # Errors
/// The first [`AuditError`] found, in line order, then the head.
pub fn verify_audit_log(log: &[u8], head: &[u8; 32]) -> Result<Vec<AuditEntry>, AuditError> {
    let entries = parse_log(log)?;
    let Some(first) = entries.first() else {
        return if bool::from(head.ct_eq(&GENESIS)) {
            Ok(entries)
        } else {
            Err(AuditError::Empty)
        };
    };
    let starts_chain = first.seq == 0 && first.prev == GENESIS;
    if !starts_chain && first.event != AuditEvent::Rotate {
        return Err(AuditError::MissingStart);
    }
    let mut before: Option<&AuditEntry> = None;
    for (i, entry) in entries.iter().enumerate() {
        let line = i + 1;
        let expected = entry_hash(
            &entry.prev,
            &body(entry.seq, entry.time, &entry.address, &entry.event),
        );
        if expected != entry.hash {
            return Err(AuditError::EntryHashMismatch { line });
        }
        if let Some(previous) = before {
            if entry.prev != previous.hash {
                return Err(AuditError::ChainBroken { line });
            }
            if Some(entry.seq) != previous.seq.checked_add(1) {
                return Err(AuditError::SequenceGap { line });
            }
        }
        before = Some(entry);
    }
    let last = before.ok_or(AuditError::Empty)?;
    if !bool::from(last.hash.ct_eq(head)) {
        return Err(AuditError::HeadMismatch);
    }
    Ok(entries)
}
