//! The spend ledger's strict decoder, then its operations, over arbitrary bytes.
//!
//! Input: a flags byte (bit 0: recompute the SHA-256 trailer before
//! decoding, since random mutations almost never keep a digest), a 2-byte
//! big-endian length `L`, `L` bytes of ledger file for a fixed address, then
//! a script of 3-byte operations run on the decoded ledger (or on an empty
//! one when it does not decode): `op mod 4` (reserve, commit, release,
//! record), an argument byte (amount, chain and asset for a spend, which
//! reservation for a settlement) and seconds to advance the clock by.
//!
//! Checked:
//! - an accepted version 2 file encodes back to itself; an accepted
//!   version 1 file encodes to a version 2 file that decodes to the same
//!   ledger;
//! - after every operation the ledger's encoding decodes to the same ledger
//!   (what the wallet writes, it reads back);
//! - a reservation adds its amount to `spent` on its chain and asset
//!   (saturating; at least that when a full ledger merged), a commit changes no total, a release takes its amount
//!   back off, and no reservation id is handed out twice.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use wallet_core::policy::ledger::{Asset, EntryState, ReservationId, SpendLedger};
use wallet_core::signer::Address;
use wallet_core::tx::U256;
use wallet_fuzz_support::LEDGER_OWNER;

const TOKEN: Asset = Asset::Token(Address([0xaa; 20]));

fn reservations(ledger: &SpendLedger) -> Vec<ReservationId> {
    ledger
        .entries()
        .iter()
        .filter_map(|e| match e.state {
            EntryState::Reserved(id) => Some(id),
            EntryState::Committed => None,
        })
        .collect()
}

fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((len, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (file, script) = rest.split_at(len);
    let mut bytes = file.to_vec();
    if flags & 1 == 1 {
        if let Some(body_len) = bytes.len().checked_sub(32) {
            let digest = Sha256::digest(&bytes[..body_len]);
            bytes[body_len..].copy_from_slice(&digest);
        }
    }
    let mut ledger = match SpendLedger::decode(&bytes, &LEDGER_OWNER) {
        Ok(ledger) => {
            let encoded = ledger.encode();
            if bytes.get(8..10) == Some(&[0, 1][..]) {
                assert_eq!(
                    SpendLedger::decode(&encoded, &LEDGER_OWNER).ok(),
                    Some(ledger.clone()),
                    "a version 1 ledger changed when written as version 2"
                );
            } else {
                assert_eq!(encoded, bytes, "decode then encode changed the ledger");
            }
            ledger
        }
        Err(_) => SpendLedger::new(LEDGER_OWNER),
    };
    let mut now = ledger.entries().iter().map(|e| e.time).max().unwrap_or(0);
    let mut issued: BTreeSet<ReservationId> = reservations(&ledger).into_iter().collect();
    for op in script.chunks_exact(3) {
        let (kind, arg, step) = (op[0] % 4, op[1], u64::from(op[2]));
        now = now.saturating_add(step * 600);
        let chain = match arg >> 6 {
            0 => None,
            c => Some(u64::from(c)),
        };
        let asset = if arg & 0x20 == 0 { Asset::Eth } else { TOKEN };
        let amount = if arg & 0x1f == 0x1f {
            U256::MAX
        } else {
            U256::from_u64(u64::from(arg & 0x1f))
        };
        let held = reservations(&ledger);
        match kind {
            0 | 3 => {
                let before = ledger.spent(chain, asset, now);
                let added = if kind == 0 {
                    ledger.reserve(chain, asset, amount, now).map(|id| {
                        assert!(issued.insert(id), "{id} handed out twice");
                    })
                } else {
                    ledger.record(chain, asset, amount, now)
                };
                if added.is_ok() {
                    let after = ledger.spent(chain, asset, now);
                    let expected = before.checked_add(amount).unwrap_or(U256::MAX);
                    // Merging (when full) can only widen what counts.
                    assert!(after >= expected, "a new spend did not count in full");
                }
            }
            _ => {
                let Some(&id) = held.get(usize::from(arg) % held.len().max(1)) else {
                    continue;
                };
                let entry = *ledger.reservation(id).expect("listed");
                let chain = Some(entry.chain_id).filter(|&c| c != 0);
                let before = ledger.spent(chain, entry.asset, now);
                if kind == 1 {
                    ledger.commit(id).expect("a held reservation commits");
                    assert_eq!(ledger.spent(chain, entry.asset, now), before);
                } else {
                    ledger.release(id).expect("a held reservation is released");
                    if entry.time.saturating_add(86_400) > now && before != U256::MAX {
                        let after = ledger.spent(chain, entry.asset, now);
                        assert_eq!(after.checked_add(entry.amount), Some(before));
                    }
                }
                assert!(ledger.reservation(id).is_none());
            }
        }
        assert_eq!(
            SpendLedger::decode(&ledger.encode(), &LEDGER_OWNER).ok(),
            Some(ledger.clone()),
            "the ledger's own encoding did not decode to it"
        );
    }
}

fuzz_target!(|data: &[u8]| run(data));
