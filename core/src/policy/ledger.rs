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
//! | 34 | `48n` (version 2: `68n`) | entries: time (u64, Unix seconds), chain id (u64, 0 = every chain), amount (32 bytes); version 2 adds the asset: 20 zero bytes for ETH, else the token's address |
//! | end - 32 | 32 | SHA-256 of every byte before it |
//!
//! A ledger without token entries is written as version 1, byte for byte;
//! one with token transfers (a token's `daily_limit`) as version 2.
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
/// Ledger version without token entries.
pub const LEDGER_VERSION: u16 = 1;
/// Ledger version with an asset per entry.
pub const LEDGER_VERSION_ASSETS: u16 = 2;

const HEADER_LEN: usize = 8 + 2 + 20 + 4;
const ENTRY_LEN: usize = 8 + 8 + 32;
const ASSET_LEN: usize = 20;
const DIGEST_LEN: usize = 32;
/// The longest ledger file.
pub const MAX_LEDGER_LEN: usize =
    HEADER_LEN + (ENTRY_LEN + ASSET_LEN) * MAX_LEDGER_ENTRIES + DIGEST_LEN;

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
    /// Value plus maximum fee, in wei; for a token entry, the amount
    /// transferred in the token's base units.
    pub amount: U256,
    /// `None` for wei; the token's address for a token transfer.
    pub token: Option<Address>,
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
        self.asset_spent(chain_id, None, now)
    }

    /// What counts against `token`'s `daily_limit` on `chain_id` at `now`,
    /// counted as [`spent`](Self::spent) counts wei.
    #[must_use]
    pub fn token_spent(&self, chain_id: Option<u64>, token: &Address, now: u64) -> U256 {
        self.asset_spent(chain_id, Some(*token), now)
    }

    fn asset_spent(&self, chain_id: Option<u64>, token: Option<Address>, now: u64) -> U256 {
        self.entries
            .iter()
            .filter(|e| e.live_at(now) && e.token == token)
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
        self.record_asset(chain_id, None, amount, now);
    }

    /// Records a transfer of `amount` of `token`, as [`record`](Self::record) does wei.
    pub fn record_token(&mut self, chain_id: Option<u64>, token: &Address, amount: U256, now: u64) {
        self.record_asset(chain_id, Some(*token), amount, now);
    }

    fn record_asset(
        &mut self,
        chain_id: Option<u64>,
        token: Option<Address>,
        amount: U256,
        now: u64,
    ) {
        self.prune(now);
        while self.entries.len() >= MAX_LEDGER_ENTRIES {
            // The oldest entry that has a later one of the same asset merges
            // into it, so a sum never moves between assets.
            let Some(index) = self.entries.iter().enumerate().position(|(i, e)| {
                self.entries
                    .iter()
                    .skip(i + 1)
                    .any(|later| later.token == e.token)
            }) else {
                // Every entry is of another asset (more than
                // MAX_LEDGER_ENTRIES assets): the oldest expires early.
                self.entries.remove(0);
                continue;
            };
            let oldest = self.entries.remove(index);
            if let Some(next) = self
                .entries
                .iter_mut()
                .skip(index)
                .find(|e| e.token == oldest.token)
            {
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
            token,
        });
    }

    /// The file bytes.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let assets = self.entries.iter().any(|e| e.token.is_some());
        let entry_len = ENTRY_LEN + if assets { ASSET_LEN } else { 0 };
        let mut out = Vec::with_capacity(HEADER_LEN + entry_len * self.entries.len() + DIGEST_LEN);
        out.extend_from_slice(&LEDGER_MAGIC);
        let version = if assets {
            LEDGER_VERSION_ASSETS
        } else {
            LEDGER_VERSION
        };
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&self.address.0);
        let count = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for entry in &self.entries {
            out.extend_from_slice(&entry.time.to_be_bytes());
            out.extend_from_slice(&entry.chain_id.to_be_bytes());
            out.extend_from_slice(&entry.amount.0);
            if assets {
                out.extend_from_slice(&entry.token.map_or([0u8; 20], |t| t.0));
            }
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
        let assets = if version == LEDGER_VERSION.to_be_bytes() {
            false
        } else if version == LEDGER_VERSION_ASSETS.to_be_bytes() {
            true
        } else {
            return Err(bad);
        };
        if magic != LEDGER_MAGIC || owner != address.0 {
            return Err(bad);
        }
        let entry_len = ENTRY_LEN + if assets { ASSET_LEN } else { 0 };
        let count = usize::try_from(u32::from_be_bytes(count.try_into().map_err(|_| bad)?))
            .map_err(|_| bad)?;
        if count > MAX_LEDGER_ENTRIES || rest.len() != count * entry_len {
            return Err(bad);
        }
        let mut entries = Vec::with_capacity(count);
        while let Some((entry, tail)) = rest.split_at_checked(entry_len) {
            let (time, entry) = entry.split_at(8);
            let (chain_id, entry) = entry.split_at(8);
            let (amount, asset) = entry.split_at(32);
            let token = <[u8; 20]>::try_from(asset)
                .ok()
                .filter(|a| *a != [0u8; 20])
                .map(Address);
            entries.push(SpendEntry {
                time: u64::from_be_bytes(time.try_into().map_err(|_| bad)?),
                chain_id: u64::from_be_bytes(chain_id.try_into().map_err(|_| bad)?),
                amount: U256(amount.try_into().map_err(|_| bad)?),
                token,
            });
            rest = tail;
        }
        // Version 2 is written only when a token entry exists.
        if assets && entries.iter().all(|e| e.token.is_none()) {
            return Err(bad);
        }
        Ok(Self {
            address: *address,
            entries,
        })
    }
}
