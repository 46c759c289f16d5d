//! The spend history behind `daily_limit_wei` (std): what the wallet signed
//! in the last 24 hours, per chain, and its file format.
//!
//! Each signed transaction adds its worst case, value plus maximum fee
//! ([`super::worst_case_spend`]), at the time the [`Clock`] gives. An entry
//! counts while `now < time + 24 h`. A transaction without replay protection
//! is valid on every chain: it is recorded under chain 0, counts against
//! every chain, and is checked against the total of every chain.
//!
//! # File layout (integers big-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `b"FLWSPND\0"` |
//! | 8 | 2 | version, `1` |
//! | 10 | 20 | the account's address |
//! | 30 | 4 | `n`: number of entries, at most [`MAX_LEDGER_ENTRIES`] |
//! | 34 | `48n` | entries: time (u64, Unix seconds), chain id (u64, 0 = every chain), amount (32 bytes) |
//! | end - 32 | 32 | SHA-256 of every byte before it |
//!
//! The history is bounded: when it is full, its two oldest entries are merged
//! into one at the later time (so the sum lasts at least as long as before),
//! on chain 0 if their chains differ (so it counts everywhere).

use std::time::{SystemTime, UNIX_EPOCH};
use std::vec::Vec;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::PolicyError;
use crate::signer::Address;
use crate::tx::U256;

/// The rolling window: 24 hours.
pub const WINDOW_SECONDS: u64 = 24 * 60 * 60;
/// Most entries kept; older ones are merged beyond this.
pub const MAX_LEDGER_ENTRIES: usize = 4096;
/// Ledger magic.
pub const LEDGER_MAGIC: [u8; 8] = *b"FLWSPND\0";
/// Ledger version.
pub const LEDGER_VERSION: u16 = 1;

const HEADER_LEN: usize = 8 + 2 + 20 + 4;
const ENTRY_LEN: usize = 8 + 8 + 32;
const DIGEST_LEN: usize = 32;
/// The longest ledger file.
pub const MAX_LEDGER_LEN: usize = HEADER_LEN + ENTRY_LEN * MAX_LEDGER_ENTRIES + DIGEST_LEN;

/// Where the wallet gets the time: the system clock, or a test's.
pub trait Clock: Send {
    /// Seconds since the Unix epoch.
    fn now_unix_seconds(&self) -> u64;
}

/// The system clock (0 if it is set before 1970).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// One signed transaction's worst-case spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpendEntry {
    /// When it was signed (Unix seconds).
    pub time: u64,
    /// Its chain id; 0 for a transaction without replay protection.
    pub chain_id: u64,
    /// Value plus maximum fee, in wei.
    pub amount: U256,
}

impl SpendEntry {
    fn live_at(&self, now: u64) -> bool {
        now < self.time.saturating_add(WINDOW_SECONDS)
    }
}

/// The spend history of one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendLedger {
    address: Address,
    entries: Vec<SpendEntry>,
}

impl SpendLedger {
    /// An empty history for `address`.
    #[must_use]
    pub fn new(address: Address) -> Self {
        Self {
            address,
            entries: Vec::new(),
        }
    }

    /// The account the history belongs to.
    #[must_use]
    pub fn address(&self) -> Address {
        self.address
    }

    /// The entries, oldest first.
    #[must_use]
    pub fn entries(&self) -> &[SpendEntry] {
        &self.entries
    }

    /// What counts against `chain_id` at `now`: its own live entries and
    /// those of chain 0; for `None` (a transaction without replay
    /// protection), every live entry. Saturates at `2^256 - 1`.
    #[must_use]
    pub fn spent(&self, chain_id: Option<u64>, now: u64) -> U256 {
        self.entries
            .iter()
            .filter(|e| e.live_at(now))
            .filter(|e| match chain_id {
                None => true,
                Some(id) => e.chain_id == id || e.chain_id == 0,
            })
            .fold(U256::ZERO, |sum, e| {
                sum.checked_add(e.amount).unwrap_or(U256::MAX)
            })
    }

    /// Drops the entries that no longer count at `now`.
    pub fn prune(&mut self, now: u64) {
        self.entries.retain(|e| e.live_at(now));
    }

    /// Records a spend of `amount` at `now` (`chain_id` `None`: every chain),
    /// after dropping expired entries and merging the oldest when full.
    pub fn record(&mut self, chain_id: Option<u64>, amount: U256, now: u64) {
        self.prune(now);
        while self.entries.len() >= MAX_LEDGER_ENTRIES {
            let Some(oldest) = self.entries.first().copied() else {
                break;
            };
            self.entries.remove(0);
            if let Some(next) = self.entries.first_mut() {
                next.time = next.time.max(oldest.time);
                next.amount = next.amount.checked_add(oldest.amount).unwrap_or(U256::MAX);
                if next.chain_id != oldest.chain_id {
                    next.chain_id = 0;
                }
            }
        }
        self.entries.push(SpendEntry {
            time: now,
            chain_id: chain_id.unwrap_or(0),
            amount,
        });
    }

    /// The file bytes.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + ENTRY_LEN * self.entries.len() + DIGEST_LEN);
        out.extend_from_slice(&LEDGER_MAGIC);
        out.extend_from_slice(&LEDGER_VERSION.to_be_bytes());
        out.extend_from_slice(&self.address.0);
        let count = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for entry in &self.entries {
            out.extend_from_slice(&entry.time.to_be_bytes());
            out.extend_from_slice(&entry.chain_id.to_be_bytes());
            out.extend_from_slice(&entry.amount.0);
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Parses a ledger file of `address`.
    ///
    /// # Errors
    /// [`PolicyError::SpendLedgerMalformed`] for a wrong magic, version,
    /// count, length or digest, or a ledger of another address.
    pub fn decode(bytes: &[u8], address: &Address) -> Result<Self, PolicyError> {
        let bad = PolicyError::SpendLedgerMalformed;
        let (body, digest) = bytes
            .split_at_checked(bytes.len().checked_sub(DIGEST_LEN).ok_or(bad)?)
            .ok_or(bad)?;
        if !bool::from(Sha256::digest(body).as_slice().ct_eq(digest)) {
            return Err(bad);
        }
        let (header, mut rest) = body.split_at_checked(HEADER_LEN).ok_or(bad)?;
        let (magic, header) = header.split_at(8);
        let (version, header) = header.split_at(2);
        let (owner, count) = header.split_at(20);
        if magic != LEDGER_MAGIC || version != LEDGER_VERSION.to_be_bytes() || owner != address.0 {
            return Err(bad);
        }
        let count = usize::try_from(u32::from_be_bytes(count.try_into().map_err(|_| bad)?))
            .map_err(|_| bad)?;
        if count > MAX_LEDGER_ENTRIES || rest.len() != count * ENTRY_LEN {
            return Err(bad);
        }
        let mut entries = Vec::with_capacity(count);
        while let Some((entry, tail)) = rest.split_at_checked(ENTRY_LEN) {
            let (time, entry) = entry.split_at(8);
            let (chain_id, amount) = entry.split_at(8);
            entries.push(SpendEntry {
                time: u64::from_be_bytes(time.try_into().map_err(|_| bad)?),
                chain_id: u64::from_be_bytes(chain_id.try_into().map_err(|_| bad)?),
                amount: U256(amount.try_into().map_err(|_| bad)?),
            });
            rest = tail;
        }
        Ok(Self {
            address: *address,
            entries,
        })
    }
}
