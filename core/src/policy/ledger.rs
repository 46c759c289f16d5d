//! The spend history behind the daily limits (std): what the wallet signed,
//! or is about to sign, in the last 24 hours, per chain and asset, and its
//! file format.
//!
//! Each transaction adds its worst case ([`super::worst_case_spend`] for
//! ETH: value plus maximum fee) at the time the [`Clock`] gives. An entry
//! counts while `now < time + 24 h`. A transaction without replay
//! protection is valid on every chain: it is recorded under chain 0, counts
//! against every chain, and is checked against the total of every chain.
//!
//! # Reserve, then commit
//!
//! A spend is first [`reserve`](SpendLedger::reserve)d (written to disk
//! before the signature is made), then [`commit`](SpendLedger::commit)ted
//! (written before the signature is returned), or
//! [`release`](SpendLedger::release)d when signing failed. A reserved entry
//! counts exactly like a committed one, so a process that dies between the
//! two leaves its reservation counting until it expires with the window:
//! a crash can make the wallet refuse early, never let more through than
//! the limit. Reservation ids come from a counter in the file, so writers
//! that re-read the ledger under the state directory's lock never reuse one.
//!
//! # File layout, version 2 (integers big-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `b"FLWSPND\0"` |
//! | 8 | 2 | version, `2` |
//! | 10 | 20 | the account's address |
//! | 30 | 8 | `counter`: the anti-rollback counter value the ledger was written at (0: none) |
//! | 38 | 8 | the next reservation id (at least 1) |
//! | 46 | 4 | `n`: number of entries, at most [`MAX_LEDGER_ENTRIES`] |
//! | 50 | `78n` | entries, below |
//! | end - 32 | 32 | SHA-256 of every byte before it |
//!
//! One entry (78 bytes):
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | time (Unix seconds) |
//! | 8 | 8 | chain id (0 = every chain) |
//! | 16 | 1 | asset kind: 0 ETH, 1 ERC-20 token |
//! | 17 | 20 | token address (zero for ETH) |
//! | 37 | 32 | amount (wei or token base units) |
//! | 69 | 1 | state: 0 committed, 1 reserved |
//! | 70 | 8 | reservation id (0 when committed; unique, nonzero and below the next id when reserved) |
//!
//! Decoding is strict: every byte has one meaning, so a ledger that decodes
//! encodes back to the same bytes.
//!
//! # Version 3: bound to the key and the anti-rollback counter
//!
//! An account with an anti-rollback NV counter writes version 3: the
//! version 2 layout with one more header field after `counter`, and the
//! trailing 32 bytes an HMAC-SHA-256 under a [`LedgerKey`] (derived from the
//! wallet key under its own label, never the key itself) instead of a plain
//! SHA-256, so only a holder of the key writes a ledger that loads.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `b"FLWSPND\0"` |
//! | 8 | 2 | version, `3` |
//! | 10 | 20 | the account's address |
//! | 30 | 8 | `counter`: the anti-rollback counter value the ledger was written at |
//! | 38 | 8 | `account_counter`: the counter value of the account file it was written with |
//! | 46 | 8 | the next reservation id (at least 1) |
//! | 54 | 4 | `n`: number of entries |
//! | 58 | `78n` | entries, as in version 2 |
//! | end - 32 | 32 | HMAC-SHA-256 of every byte before it under the [`LedgerKey`] |
//!
//! Version 1 (written before reservations and assets: a 34-byte header
//! without counter and next id, 48-byte entries of time, chain id and
//! amount) still decodes: its entries become committed ETH spends, its
//! counter 0. The ledger is written back as version 2.
//!
//! The history is bounded: when it is full, the oldest committed entry is
//! merged into the next committed entry of the same asset, at the later
//! time (so the sum lasts at least as long as before), on chain 0 if their
//! chains differ (so it counts everywhere). Reserved entries are never merged.

use core::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use std::vec::Vec;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::PolicyError;
use crate::signer::Address;
use crate::tx::U256;

/// The rolling window: 24 hours.
pub const WINDOW_SECONDS: u64 = 24 * 60 * 60;
/// Most entries kept; older ones are merged beyond this.
pub const MAX_LEDGER_ENTRIES: usize = 4096;
/// Ledger magic.
pub const LEDGER_MAGIC: [u8; 8] = *b"FLWSPND\0";
/// The ledger version this code writes.
pub const LEDGER_VERSION: u16 = 2;
/// The first ledger version, still read.
pub const LEDGER_VERSION_1: u16 = 1;
/// The version written for an account with an anti-rollback counter:
/// authenticated by a [`LedgerKey`], carrying the account file's counter.
pub const LEDGER_VERSION_BOUND: u16 = 3;
/// The label the [`LedgerKey`] is derived under.
pub(crate) const LEDGER_KEY_LABEL: &[u8] = b"flare-wallet/spend-ledger/v3";

/// The key that authenticates a version 3 ledger: HMAC-SHA-256 of the
/// wallet key under `flare-wallet/spend-ledger/v3`. It cannot sign; it only
/// lets its holder write a ledger the account accepts. Wiped on drop;
/// `Debug` is redacted.
pub struct LedgerKey([u8; 32]);

impl LedgerKey {
    /// The ledger key of the account keyed by `key`.
    #[must_use]
    pub fn derive(key: &crate::signer::SecretKey) -> Self {
        Self(*super::derive_binding_key(key, LEDGER_KEY_LABEL))
    }

    fn mac(&self, bytes: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = crate::tpm::kdf::hmac_sha256(&self.0);
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerKey(<redacted>)")
    }
}

impl Drop for LedgerKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

const V1_ENTRY_LEN: usize = 8 + 8 + 32;
const HEADER_LEN: usize = 8 + 2 + 20 + 8 + 8 + 4;
const BOUND_HEADER_LEN: usize = HEADER_LEN + 8;
const ENTRY_LEN: usize = 8 + 8 + 1 + 20 + 32 + 1 + 8;
const DIGEST_LEN: usize = 32;
/// The longest ledger file.
pub const MAX_LEDGER_LEN: usize = BOUND_HEADER_LEN + ENTRY_LEN * MAX_LEDGER_ENTRIES + DIGEST_LEN;

const ASSET_ETH: u8 = 0;
const ASSET_TOKEN: u8 = 1;
const STATE_COMMITTED: u8 = 0;
const STATE_RESERVED: u8 = 1;

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

/// What a spend is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Asset {
    /// Ether, in wei.
    Eth,
    /// An ERC-20 token, by contract address, in its base units.
    Token(Address),
}

/// A reservation made by [`SpendLedger::reserve`]: nonzero, unique within
/// the ledger's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservationId(u64);

impl ReservationId {
    /// The id as stored in the file.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reservation {}", self.0)
    }
}

/// Whether an entry's transaction is known to be signed and returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Signed and returned (or recorded before reservations existed).
    Committed,
    /// Reserved before signing; counts as spent until committed or released.
    Reserved(ReservationId),
}

/// One transaction's worst-case spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpendEntry {
    /// When it was reserved (Unix seconds).
    pub time: u64,
    /// Its chain id; 0 for a transaction without replay protection.
    pub chain_id: u64,
    /// What it spends.
    pub asset: Asset,
    /// The worst case, in wei or token base units.
    pub amount: U256,
    /// Reserved or committed.
    pub state: EntryState,
}

impl SpendEntry {
    /// Counts at `now`: less than the window since it was made. An entry
    /// from later than `now` counts too (fail closed), and one made at the
    /// clock's last representable seconds still counts (`time + window`
    /// would saturate, so the age is what is compared).
    fn live_at(&self, now: u64) -> bool {
        now.saturating_sub(self.time) < WINDOW_SECONDS
    }

    fn counts_on(&self, chain_id: Option<u64>) -> bool {
        match chain_id {
            None => true,
            Some(id) => self.chain_id == id || self.chain_id == 0,
        }
    }
}

/// The spend history of one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendLedger {
    address: Address,
    counter: u64,
    account_counter: u64,
    /// Decoded from a version 3 file whose MAC checked.
    authenticated: bool,
    next_reservation: u64,
    entries: Vec<SpendEntry>,
}

impl SpendLedger {
    /// An empty history for `address`, counter 0.
    #[must_use]
    pub fn new(address: Address) -> Self {
        Self {
            address,
            counter: 0,
            account_counter: 0,
            authenticated: false,
            next_reservation: 1,
            entries: Vec::new(),
        }
    }

    /// The account the history belongs to.
    #[must_use]
    pub fn address(&self) -> Address {
        self.address
    }

    /// The anti-rollback counter value the ledger was written at (0: none).
    #[must_use]
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// Sets the anti-rollback counter value to write with the ledger.
    pub fn set_counter(&mut self, counter: u64) {
        self.counter = counter;
    }

    /// The counter value of the account file this ledger was written with
    /// (version 3; 0 otherwise).
    #[must_use]
    pub fn account_counter(&self) -> u64 {
        self.account_counter
    }

    /// Sets the account file's counter value to write with the ledger.
    pub fn set_account_counter(&mut self, account_counter: u64) {
        self.account_counter = account_counter;
    }

    /// Whether this ledger was decoded from a version 3 file whose MAC
    /// checked under the key given to [`decode_bound`](Self::decode_bound).
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// The entries, in the order they were added.
    #[must_use]
    pub fn entries(&self) -> &[SpendEntry] {
        &self.entries
    }

    /// What counts against `chain_id` and `asset` at `now`, reserved and
    /// committed alike: the live entries of that asset on the chain and on
    /// chain 0; for `None` (a transaction without replay protection), on
    /// every chain. Saturates at `2^256 - 1`.
    #[must_use]
    pub fn spent(&self, chain_id: Option<u64>, asset: Asset, now: u64) -> U256 {
        self.entries
            .iter()
            .filter(|e| e.asset == asset && e.live_at(now) && e.counts_on(chain_id))
            .fold(U256::ZERO, |sum, e| {
                sum.checked_add(e.amount).unwrap_or(U256::MAX)
            })
    }

    /// The reserved entry `id`, if it is still in the ledger.
    #[must_use]
    pub fn reservation(&self, id: ReservationId) -> Option<&SpendEntry> {
        self.entries
            .iter()
            .find(|e| e.state == EntryState::Reserved(id))
    }

    /// Drops the entries that no longer count at `now`, reserved ones too.
    pub fn prune(&mut self, now: u64) {
        self.entries.retain(|e| e.live_at(now));
    }

    /// Reserves a spend of `amount` of `asset` at `now` (`chain_id` `None`:
    /// every chain), after dropping expired entries and merging the oldest
    /// committed ones when full. It counts as spent from now on.
    ///
    /// # Errors
    /// [`PolicyError::SpendLedgerFull`] when the ledger is full and no two
    /// committed entries of one asset can be merged, or every reservation
    /// id was used (nothing changes then).
    pub fn reserve(
        &mut self,
        chain_id: Option<u64>,
        asset: Asset,
        amount: U256,
        now: u64,
    ) -> Result<ReservationId, PolicyError> {
        // Ids never repeat within a history; a ledger that used them all
        // takes no more reservations.
        let id = ReservationId(self.next_reservation);
        let next = id.0.checked_add(1).ok_or(PolicyError::SpendLedgerFull)?;
        self.make_room(now)?;
        self.next_reservation = next;
        self.push(chain_id, asset, amount, now, EntryState::Reserved(id));
        Ok(id)
    }

    /// Marks reservation `id` as signed and returned.
    ///
    /// # Errors
    /// [`PolicyError::SpendReservationLost`] when the ledger holds no such
    /// reservation (it expired, or the file was replaced by an older or
    /// another one).
    pub fn commit(&mut self, id: ReservationId) -> Result<(), PolicyError> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.state == EntryState::Reserved(id))
            .ok_or(PolicyError::SpendReservationLost)?;
        entry.state = EntryState::Committed;
        Ok(())
    }

    /// Drops reservation `id`: its transaction was not signed.
    ///
    /// # Errors
    /// [`PolicyError::SpendReservationLost`], as for [`commit`](Self::commit).
    pub fn release(&mut self, id: ReservationId) -> Result<(), PolicyError> {
        let index = self
            .entries
            .iter()
            .position(|e| e.state == EntryState::Reserved(id))
            .ok_or(PolicyError::SpendReservationLost)?;
        self.entries.remove(index);
        Ok(())
    }

    /// Records a committed spend at once (a reservation and its commit).
    ///
    /// # Errors
    /// [`PolicyError::SpendLedgerFull`], as for [`reserve`](Self::reserve).
    pub fn record(
        &mut self,
        chain_id: Option<u64>,
        asset: Asset,
        amount: U256,
        now: u64,
    ) -> Result<(), PolicyError> {
        self.make_room(now)?;
        self.push(chain_id, asset, amount, now, EntryState::Committed);
        Ok(())
    }

    /// Drops expired entries, then merges until one more entry fits.
    fn make_room(&mut self, now: u64) -> Result<(), PolicyError> {
        self.prune(now);
        while self.entries.len() >= MAX_LEDGER_ENTRIES {
            self.merge_oldest()?;
        }
        Ok(())
    }

    fn push(
        &mut self,
        chain_id: Option<u64>,
        asset: Asset,
        amount: U256,
        now: u64,
        state: EntryState,
    ) {
        self.entries.push(SpendEntry {
            time: now,
            chain_id: chain_id.unwrap_or(0),
            asset,
            amount,
            state,
        });
    }

    /// Merges the oldest committed entry that has a later committed
    /// partner of the same asset into that partner.
    fn merge_oldest(&mut self) -> Result<(), PolicyError> {
        let committed = |e: &SpendEntry| e.state == EntryState::Committed;
        let pair = self.entries.iter().enumerate().find_map(|(i, oldest)| {
            if !committed(oldest) {
                return None;
            }
            self.entries
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, e)| committed(e) && e.asset == oldest.asset)
                .map(|(j, _)| (i, j))
        });
        let (i, j) = pair.ok_or(PolicyError::SpendLedgerFull)?;
        let oldest = self.entries.remove(i);
        // `j > i`: its index moved down by one.
        if let Some(next) = self.entries.get_mut(j - 1) {
            next.time = next.time.max(oldest.time);
            next.amount = next.amount.checked_add(oldest.amount).unwrap_or(U256::MAX);
            if next.chain_id != oldest.chain_id {
                next.chain_id = 0;
            }
        }
        Ok(())
    }

    /// The file bytes (version 2).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_body(None);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// The file bytes of version 3: with the account file's counter value,
    /// authenticated under `key`.
    #[must_use]
    pub fn encode_bound(&self, key: &LedgerKey) -> Vec<u8> {
        let mut out = self.encode_body(Some(self.account_counter));
        let mac = key.mac(&out);
        out.extend_from_slice(&mac);
        out
    }

    /// Everything but the trailing digest or MAC; version 3 when
    /// `account_counter` is given, else version 2.
    fn encode_body(&self, account_counter: Option<u64>) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(BOUND_HEADER_LEN + ENTRY_LEN * self.entries.len() + DIGEST_LEN);
        out.extend_from_slice(&LEDGER_MAGIC);
        let version = match account_counter {
            Some(_) => LEDGER_VERSION_BOUND,
            None => LEDGER_VERSION,
        };
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&self.address.0);
        out.extend_from_slice(&self.counter.to_be_bytes());
        if let Some(account_counter) = account_counter {
            out.extend_from_slice(&account_counter.to_be_bytes());
        }
        out.extend_from_slice(&self.next_reservation.to_be_bytes());
        let count = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for entry in &self.entries {
            out.extend_from_slice(&entry.time.to_be_bytes());
            out.extend_from_slice(&entry.chain_id.to_be_bytes());
            let (kind, token) = match entry.asset {
                Asset::Eth => (ASSET_ETH, [0u8; 20]),
                Asset::Token(token) => (ASSET_TOKEN, token.0),
            };
            out.push(kind);
            out.extend_from_slice(&token);
            out.extend_from_slice(&entry.amount.0);
            let (state, id) = match entry.state {
                EntryState::Committed => (STATE_COMMITTED, 0),
                EntryState::Reserved(id) => (STATE_RESERVED, id.0),
            };
            out.push(state);
            out.extend_from_slice(&id.to_be_bytes());
        }
        out
    }

    /// Parses a ledger file of `address`, version 2 or 1. A version 3 file
    /// is refused: only [`decode_bound`](Self::decode_bound) can check it.
    ///
    /// # Errors
    /// [`PolicyError::SpendLedgerMalformed`] for a wrong magic, version,
    /// count, length, digest or field value, or a ledger of another address.
    pub fn decode(bytes: &[u8], address: &Address) -> Result<Self, PolicyError> {
        Self::decode_with(bytes, address, Trailer::Digest)
    }

    /// Parses a ledger file of `address`: version 3 with its MAC checked
    /// under `key` ([`is_authenticated`](Self::is_authenticated) then
    /// holds), or version 2 or 1 (not authenticated: the caller decides
    /// whether an unbound ledger is acceptable).
    ///
    /// # Errors
    /// As [`decode`](Self::decode), and [`PolicyError::SpendLedgerMalformed`]
    /// for a version 3 file whose MAC does not check under `key`.
    pub fn decode_bound(
        bytes: &[u8],
        address: &Address,
        key: &LedgerKey,
    ) -> Result<Self, PolicyError> {
        Self::decode_with(bytes, address, Trailer::Mac(key))
    }

    /// Parses a ledger file of `address` of any version without checking a
    /// version 3 file's MAC: for inspecting a file, never for deciding a
    /// spend.
    ///
    /// # Errors
    /// As [`decode`](Self::decode).
    pub fn inspect(bytes: &[u8], address: &Address) -> Result<Self, PolicyError> {
        Self::decode_with(bytes, address, Trailer::Unchecked)
    }

    fn decode_with(
        bytes: &[u8],
        address: &Address,
        trailer: Trailer<'_>,
    ) -> Result<Self, PolicyError> {
        let bad = PolicyError::SpendLedgerMalformed;
        let (body, digest) = bytes
            .split_at_checked(bytes.len().checked_sub(DIGEST_LEN).ok_or(bad)?)
            .ok_or(bad)?;
        let version = match body.get(8..10) {
            Some(&[high, low]) => u16::from_be_bytes([high, low]),
            _ => return Err(bad),
        };
        let authenticated = if version == LEDGER_VERSION_BOUND {
            match trailer {
                Trailer::Digest => return Err(bad),
                Trailer::Mac(key) => {
                    if !bool::from(key.mac(body).as_slice().ct_eq(digest)) {
                        return Err(bad);
                    }
                    true
                }
                Trailer::Unchecked => false,
            }
        } else {
            if !bool::from(Sha256::digest(body).as_slice().ct_eq(digest)) {
                return Err(bad);
            }
            false
        };
        let mut reader = Reader(body);
        if reader.take::<8>()? != LEDGER_MAGIC {
            return Err(bad);
        }
        let _version: [u8; 2] = reader.take()?;
        if reader.take::<20>()? != address.0 {
            return Err(bad);
        }
        let mut ledger = Self::new(*address);
        ledger.authenticated = authenticated;
        let entry_len = match version {
            LEDGER_VERSION | LEDGER_VERSION_BOUND => {
                ledger.counter = reader.u64()?;
                if version == LEDGER_VERSION_BOUND {
                    ledger.account_counter = reader.u64()?;
                }
                ledger.next_reservation = reader.u64()?;
                if ledger.next_reservation == 0 {
                    return Err(bad);
                }
                ENTRY_LEN
            }
            LEDGER_VERSION_1 => V1_ENTRY_LEN,
            _ => return Err(bad),
        };
        let count = usize::try_from(u32::from_be_bytes(reader.take()?)).map_err(|_| bad)?;
        if count > MAX_LEDGER_ENTRIES || reader.0.len() != count * entry_len {
            return Err(bad);
        }
        ledger.entries.reserve_exact(count);
        let mut last_reservation = 0;
        for _ in 0..count {
            let entry = if version == LEDGER_VERSION_1 {
                SpendEntry {
                    time: reader.u64()?,
                    chain_id: reader.u64()?,
                    asset: Asset::Eth,
                    amount: U256(reader.take()?),
                    state: EntryState::Committed,
                }
            } else {
                ledger.decode_entry(&mut reader, &mut last_reservation)?
            };
            ledger.entries.push(entry);
        }
        Ok(ledger)
    }

    /// One version 2 entry. Reservations are appended in id order and
    /// merges never move them, so reserved ids must ascend strictly (which
    /// also makes them unique) and stay below the next id.
    fn decode_entry(
        &self,
        reader: &mut Reader<'_>,
        last_reservation: &mut u64,
    ) -> Result<SpendEntry, PolicyError> {
        let bad = PolicyError::SpendLedgerMalformed;
        let time = reader.u64()?;
        let chain_id = reader.u64()?;
        let [kind] = reader.take::<1>()?;
        let token = reader.take::<20>()?;
        let asset = match kind {
            ASSET_ETH if token == [0u8; 20] => Asset::Eth,
            ASSET_TOKEN => Asset::Token(Address(token)),
            _ => return Err(bad),
        };
        let amount = U256(reader.take()?);
        let [state] = reader.take::<1>()?;
        let id = reader.u64()?;
        let state = match state {
            STATE_COMMITTED if id == 0 => EntryState::Committed,
            STATE_RESERVED if *last_reservation < id && id < self.next_reservation => {
                *last_reservation = id;
                EntryState::Reserved(ReservationId(id))
            }
            _ => return Err(bad),
        };
        Ok(SpendEntry {
            time,
            chain_id,
            asset,
            amount,
            state,
        })
    }
}

/// What the trailing 32 bytes of a ledger are checked as.
#[derive(Clone, Copy)]
enum Trailer<'a> {
    /// SHA-256 (versions 1 and 2); version 3 is refused.
    Digest,
    /// SHA-256 for versions 1 and 2, the MAC under this key for version 3.
    Mac(&'a LedgerKey),
    /// As `Digest`, but version 3 is parsed without its MAC checked.
    Unchecked,
}

/// Reads fixed-size fields off the front of a byte string.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], PolicyError> {
        let (field, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(PolicyError::SpendLedgerMalformed)?;
        self.0 = rest;
        Ok(*field)
    }

    fn u64(&mut self) -> Result<u64, PolicyError> {
        self.take().map(u64::from_be_bytes)
    }
}
