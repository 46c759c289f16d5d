//! Where the policy lives on disk: its section of the sealed-key file, the
//! spend ledger behind `daily_limit_wei`, and the audit log.
#![allow(clippy::unwrap_used)]

use sha2::{Digest, Sha256};
use wallet_core::backup::{
    BackupError, BoundPolicy, Field, SealedKeyFile, FLAGS_OFFSET, FLAG_SIGNING_POLICY,
    INTEGRITY_LEN, MAX_FILE_LEN, MAX_SIGNING_POLICY_LEN, VERSION_OFFSET,
};
use wallet_core::policy::audit::{parse_log, PolicyEvent, PolicyLogEntry};
use wallet_core::policy::ledger::{
    Asset, EntryState, SpendEntry, SpendLedger, MAX_LEDGER_ENTRIES, WINDOW_SECONDS,
};
use wallet_core::policy::{Policy, PolicyError};
use wallet_core::signer::Address;
use wallet_core::tx::U256;

fn file<'a>(public: &'a [u8], private: &'a [u8]) -> SealedKeyFile<'a> {
    SealedKeyFile {
        address: [0x11; 20],
        srk_name: &[0x00, 0x0b, 1, 2],
        public,
        private,
        pcr_policy: None,
    }
}

fn encode(file: &SealedKeyFile<'_>, bound: Option<BoundPolicy<'_>>) -> Vec<u8> {
    let mut out = vec![0u8; MAX_FILE_LEN];
    let n = file.encode_with_policy(bound, &mut out).unwrap();
    assert_eq!(n, file.encoded_len_with_policy(bound).unwrap());
    out.truncate(n);
    out
}

fn reseal(bytes: &mut [u8]) {
    let n = bytes.len() - INTEGRITY_LEN;
    let digest = Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&digest);
}

#[test]
fn sealed_key_file_carries_the_policy_after_the_blobs_and_stays_v1_without_it() {
    let encoding = Policy::default().to_bytes();
    let tag = [0x7a; 32];
    let bound = BoundPolicy {
        encoding: &encoding,
        tag: &tag,
    };
    let plain = encode(&file(&[1, 2], &[3]), None);
    let with = encode(&file(&[1, 2], &[3]), Some(bound));
    // Without a policy: the bytes of the original format, flags 0, version 1.
    assert_eq!(&plain[VERSION_OFFSET..VERSION_OFFSET + 2], &[0, 1]);
    assert_eq!(&plain[FLAGS_OFFSET..FLAGS_OFFSET + 2], &[0, 0]);
    assert_eq!(SealedKeyFile::parse(&plain).unwrap().bound_policy(), None);
    // With one: flag bit 1, then length, encoding and tag before the SHA-256.
    assert_eq!(FLAG_SIGNING_POLICY, 0x0002);
    assert_eq!(&with[FLAGS_OFFSET..FLAGS_OFFSET + 2], &[0, 2]);
    let body_end = plain.len() - INTEGRITY_LEN;
    assert_eq!(&with[..FLAGS_OFFSET], &plain[..FLAGS_OFFSET]);
    assert_eq!(
        &with[FLAGS_OFFSET + 2..body_end],
        &plain[FLAGS_OFFSET + 2..body_end]
    );
    let section = &with[body_end..with.len() - INTEGRITY_LEN];
    let len = u16::try_from(encoding.len()).unwrap().to_be_bytes();
    assert_eq!(&section[..2], &len);
    assert_eq!(&section[2..2 + encoding.len()], &encoding[..]);
    assert_eq!(&section[2 + encoding.len()..], &tag);
    let view = SealedKeyFile::parse(&with).unwrap();
    assert_eq!(view.bound_policy(), Some(bound));
    assert_eq!(view.contents(), file(&[1, 2], &[3]));
}

#[test]
fn each_malformed_policy_section_has_its_error() {
    let encoding = Policy::default().to_bytes();
    let bound = BoundPolicy {
        encoding: &encoding,
        tag: &[1; 32],
    };
    let good = encode(&file(&[1], &[2]), Some(bound));
    let section = good.len() - INTEGRITY_LEN - 32 - encoding.len() - 2;

    // Cut inside the tag, inside the encoding, inside the length.
    for cut in [32 / 2, 32 + 3, 32 + encoding.len() + 1] {
        let mut bad = good[..good.len() - INTEGRITY_LEN - cut].to_vec();
        bad.extend_from_slice(&[0; INTEGRITY_LEN]);
        reseal(&mut bad);
        assert!(matches!(
            SealedKeyFile::parse(&bad),
            Err(BackupError::Truncated(_))
        ));
    }
    let mut bad = good.clone();
    bad[section..section + 2].copy_from_slice(&0u16.to_be_bytes());
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::EmptyField(Field::SigningPolicy))
    );
    let mut bad = good.clone();
    let over = u16::try_from(MAX_SIGNING_POLICY_LEN + 1).unwrap();
    bad[section..section + 2].copy_from_slice(&over.to_be_bytes());
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::LengthOverBound(Field::SigningPolicy))
    );
    // Clearing the flag leaves the section unaccounted for.
    let mut bad = good.clone();
    bad[FLAGS_OFFSET + 1] = 0;
    reseal(&mut bad);
    assert_eq!(SealedKeyFile::parse(&bad), Err(BackupError::TrailingBytes));
    // The owner bit in a version 1 file, and a bit no version defines.
    let mut bad = good.clone();
    bad[FLAGS_OFFSET + 1] = 0x06;
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::FlagsDoNotFitVersion {
            version: 1,
            flags: 0x0006
        })
    );
    let mut bad = good.clone();
    bad[FLAGS_OFFSET + 1] = 0x22;
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::UnknownFlags(0x0022))
    );
    // The encoder refuses what the parser would.
    let empty = BoundPolicy {
        encoding: &[],
        tag: &[1; 32],
    };
    assert_eq!(
        file(&[1], &[2]).encoded_len_with_policy(Some(empty)),
        Err(BackupError::EmptyField(Field::SigningPolicy))
    );
    assert_eq!(
        BackupError::Truncated(Field::SigningPolicy).to_string(),
        "sealed-key file is truncated in its signing policy"
    );
}

// ------------------------------------------------------------ ledger

const ADDRESS: Address = Address([0x42; 20]);
const TOKEN: Asset = Asset::Token(Address([0x7a; 20]));
const ETH: Asset = Asset::Eth;

fn wei(n: u64) -> U256 {
    U256::from_u64(n)
}

#[test]
fn ledger_counts_per_chain_and_asset_for_24_hours_and_unprotected_everywhere() {
    let t0 = 1_000_000;
    let mut ledger = SpendLedger::new(ADDRESS);
    ledger.record(Some(14), ETH, wei(10), t0).unwrap();
    ledger.record(Some(14), ETH, wei(5), t0 + 100).unwrap();
    ledger.record(Some(1), ETH, wei(7), t0 + 200).unwrap();
    ledger.record(None, ETH, wei(3), t0 + 300).unwrap();
    ledger
        .record(Some(14), TOKEN, wei(1_000), t0 + 300)
        .unwrap();
    assert_eq!(ledger.spent(Some(14), ETH, t0 + 300), wei(18));
    assert_eq!(ledger.spent(Some(1), ETH, t0 + 300), wei(10));
    assert_eq!(ledger.spent(Some(114), ETH, t0 + 300), wei(3));
    assert_eq!(ledger.spent(None, ETH, t0 + 300), wei(25));
    // Each asset has its own total.
    assert_eq!(ledger.spent(Some(14), TOKEN, t0 + 300), wei(1_000));
    assert_eq!(ledger.spent(Some(1), TOKEN, t0 + 300), wei(0));
    let other_token = Asset::Token(Address([0x7b; 20]));
    assert_eq!(ledger.spent(Some(14), other_token, t0 + 300), wei(0));
    // The window is half-open: an entry stops counting exactly 24 h later.
    assert_eq!(
        ledger.spent(Some(14), ETH, t0 + WINDOW_SECONDS - 1),
        wei(18)
    );
    assert_eq!(ledger.spent(Some(14), ETH, t0 + WINDOW_SECONDS), wei(8));
    assert_eq!(
        ledger.spent(Some(14), ETH, t0 + 300 + WINDOW_SECONDS),
        wei(0)
    );
    // A clock set back keeps counting entries from its future.
    assert_eq!(ledger.spent(Some(14), ETH, t0 - 5000), wei(18));
    // Amounts saturate rather than wrap.
    ledger.record(Some(14), ETH, U256::MAX, t0 + 400).unwrap();
    assert_eq!(ledger.spent(Some(14), ETH, t0 + 400), U256::MAX);
    // Expired entries are dropped when the next spend is recorded.
    ledger
        .record(Some(14), ETH, wei(1), t0 + 400 + WINDOW_SECONDS)
        .unwrap();
    assert_eq!(ledger.entries().len(), 1);

    // A spend made within a window of the clock's end still counts in full
    // (the fuzzer's ledger_decode found `time + window` saturating there).
    let end = u64::MAX - 1_000;
    let mut ledger = SpendLedger::new(ADDRESS);
    ledger.record(Some(14), ETH, wei(9), end).unwrap();
    ledger.record(Some(14), ETH, wei(4), u64::MAX).unwrap();
    assert_eq!(ledger.spent(Some(14), ETH, u64::MAX), wei(13));
}

#[test]
fn a_reservation_counts_until_released_and_commit_keeps_it() {
    let t0 = 1_000_000;
    let mut ledger = SpendLedger::new(ADDRESS);
    let a = ledger.reserve(Some(14), ETH, wei(10), t0).unwrap();
    let b = ledger.reserve(Some(14), ETH, wei(20), t0 + 1).unwrap();
    assert_ne!(a, b);
    assert_eq!(ledger.spent(Some(14), ETH, t0 + 1), wei(30));
    assert_eq!(ledger.reservation(a).unwrap().amount, wei(10));
    ledger.commit(a).unwrap();
    assert_eq!(ledger.entries()[0].state, EntryState::Committed);
    assert_eq!(ledger.spent(Some(14), ETH, t0 + 1), wei(30));
    ledger.release(b).unwrap();
    assert_eq!(ledger.spent(Some(14), ETH, t0 + 1), wei(10));
    // Each reservation is settled once.
    let lost = Err(PolicyError::SpendReservationLost);
    assert_eq!(ledger.commit(a), lost);
    assert_eq!(ledger.release(b), lost);
    assert_eq!(ledger.commit(b), lost);
    // A reservation never settled (its process died) counts for the whole
    // window, then expires like any spend.
    let c = ledger.reserve(Some(14), ETH, wei(5), t0 + 2).unwrap();
    assert_eq!(ledger.spent(Some(14), ETH, t0 + 3), wei(15));
    assert_eq!(
        ledger.spent(Some(14), ETH, t0 + 2 + WINDOW_SECONDS - 1),
        wei(5)
    );
    ledger
        .record(Some(14), ETH, wei(1), t0 + 2 + WINDOW_SECONDS)
        .unwrap();
    assert_eq!(ledger.commit(c), lost);
    // Ids never repeat, also after a round trip through the file.
    let mut reread = SpendLedger::decode(&ledger.encode(), &ADDRESS).unwrap();
    let d = reread
        .reserve(Some(14), ETH, wei(1), t0 + 3 + WINDOW_SECONDS)
        .unwrap();
    assert!(d.get() > c.get(), "{d} after {c}");
}

#[test]
fn a_full_ledger_merges_its_oldest_committed_entries_and_never_undercounts() {
    let mut ledger = SpendLedger::new(ADDRESS);
    // A reservation first and one token spend: neither may be merged into ETH.
    let held = ledger.reserve(Some(14), ETH, wei(100), 5).unwrap();
    ledger.record(Some(14), TOKEN, wei(9), 6).unwrap();
    for i in 2..MAX_LEDGER_ENTRIES as u64 {
        ledger
            .record(Some(if i == 2 { 1 } else { 14 }), ETH, wei(1), 10 + i)
            .unwrap();
    }
    assert_eq!(ledger.entries().len(), MAX_LEDGER_ENTRIES);
    let now = 10 + MAX_LEDGER_ENTRIES as u64;
    ledger.reserve(Some(14), ETH, wei(1), now).unwrap();
    assert_eq!(ledger.entries().len(), MAX_LEDGER_ENTRIES);
    assert_eq!(ledger.reservation(held).unwrap().amount, wei(100));
    assert_eq!(ledger.entries()[1].asset, TOKEN);
    // The merged entry (chains 1 and 14) counts on every chain, at the later time.
    let merged = ledger.entries()[2];
    assert_eq!(merged.chain_id, 0);
    assert_eq!(merged.time, 13);
    assert_eq!(merged.amount, wei(2));
    let total = 100 + (MAX_LEDGER_ENTRIES as u64 - 2) + 1;
    assert_eq!(ledger.spent(Some(14), ETH, now), wei(total));
    assert_eq!(ledger.spent(Some(1), ETH, now), wei(2));
    assert_eq!(ledger.spent(Some(14), TOKEN, now), wei(9));
}

#[test]
fn a_ledger_full_of_what_cannot_merge_refuses_more() {
    let mut ledger = SpendLedger::new(ADDRESS);
    for i in 0..MAX_LEDGER_ENTRIES as u64 {
        ledger.reserve(Some(14), ETH, wei(1), 10 + i).unwrap();
    }
    let before = ledger.clone();
    let full = Err(PolicyError::SpendLedgerFull);
    assert_eq!(ledger.reserve(Some(14), ETH, wei(1), 10_000), full);
    assert_eq!(
        ledger.record(Some(14), ETH, wei(1), 10_000),
        Err(PolicyError::SpendLedgerFull)
    );
    assert_eq!(ledger, before);
}

#[test]
fn ledger_file_round_trips_and_refuses_damage_and_other_accounts() {
    let mut ledger = SpendLedger::new(ADDRESS);
    ledger.record(Some(14), ETH, wei(1_000), 50).unwrap();
    let id = ledger.reserve(None, TOKEN, U256::MAX, 60).unwrap();
    ledger.set_counter(0x0102_0304_0506_0708);
    let bytes = ledger.encode();
    assert_eq!(bytes.len(), 50 + 2 * 78 + 32);
    assert_eq!(&bytes[..8], b"FLWSPND\0");
    assert_eq!(&bytes[8..10], &[0, 2]);
    assert_eq!(&bytes[30..38], &[1, 2, 3, 4, 5, 6, 7, 8]);
    let decoded = SpendLedger::decode(&bytes, &ADDRESS).unwrap();
    assert_eq!(decoded, ledger);
    assert_eq!(decoded.counter(), 0x0102_0304_0506_0708);
    assert_eq!(decoded.reservation(id).unwrap().asset, TOKEN);
    let bad = Err(PolicyError::SpendLedgerMalformed);
    assert_eq!(SpendLedger::decode(&bytes, &Address([1; 20])), bad);
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x01;
        assert_eq!(SpendLedger::decode(&flipped, &ADDRESS), bad, "byte {i}");
    }
    for len in 0..bytes.len() {
        assert_eq!(SpendLedger::decode(&bytes[..len], &ADDRESS), bad);
    }
    // A consistent file whose count disagrees with its length.
    let mut lying = bytes.clone();
    lying[49] = 3;
    reseal(&mut lying);
    assert_eq!(SpendLedger::decode(&lying, &ADDRESS), bad);
    let empty = SpendLedger::new(ADDRESS);
    assert_eq!(
        SpendLedger::decode(&empty.encode(), &ADDRESS).unwrap(),
        empty
    );
}

/// Rewrites one field of a version 2 ledger and fixes its digest.
fn patched(bytes: &[u8], offset: usize, value: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[offset..offset + value.len()].copy_from_slice(value);
    reseal(&mut out);
    out
}

#[test]
fn ledger_decoding_is_strict_about_every_field() {
    let mut ledger = SpendLedger::new(ADDRESS);
    ledger.record(Some(14), ETH, wei(1), 50).unwrap(); // entry 0: committed ETH
    let first = ledger.reserve(Some(14), ETH, wei(2), 51).unwrap(); // entry 1: id 1
    ledger.reserve(Some(14), ETH, wei(3), 52).unwrap(); // entry 2: id 2
    assert_eq!(first.get(), 1);
    let bytes = ledger.encode();
    let entry = |i: usize| 50 + 78 * i;
    let bad = Err(PolicyError::SpendLedgerMalformed);
    let cases: [(&str, Vec<u8>); 9] = [
        ("version 3", patched(&bytes, 8, &[0, 3])),
        ("next id 0", patched(&bytes, 38, &[0; 8])),
        (
            "next id not above the ids",
            patched(&bytes, 38, &2u64.to_be_bytes()),
        ),
        ("asset kind 2", patched(&bytes, entry(0) + 16, &[2])),
        (
            "ETH with a token address",
            patched(&bytes, entry(0) + 17, &[1]),
        ),
        ("state 2", patched(&bytes, entry(0) + 69, &[2])),
        ("committed with an id", patched(&bytes, entry(0) + 77, &[1])),
        ("reserved id 0", patched(&bytes, entry(1) + 77, &[0])),
        (
            "reserved ids not ascending",
            patched(&bytes, entry(2) + 77, &[1]),
        ),
    ];
    for (what, case) in cases {
        assert_eq!(SpendLedger::decode(&case, &ADDRESS), bad, "{what}");
    }
    // The patch itself is sound: a token asset with an address decodes.
    let token = patched(&bytes, entry(0) + 16, &[1]);
    assert_eq!(
        SpendLedger::decode(&token, &ADDRESS).unwrap().entries()[0].asset,
        Asset::Token(Address([0; 20]))
    );
}

#[test]
fn a_version_1_ledger_decodes_as_committed_eth_spends_and_is_written_as_version_2() {
    // Version 1: magic, version, address, count, then (time, chain, amount).
    let mut v1 = Vec::new();
    v1.extend_from_slice(b"FLWSPND\0");
    v1.extend_from_slice(&1u16.to_be_bytes());
    v1.extend_from_slice(&ADDRESS.0);
    v1.extend_from_slice(&2u32.to_be_bytes());
    for (time, chain, amount) in [(50u64, 14u64, 1_000u64), (60, 0, 7)] {
        v1.extend_from_slice(&time.to_be_bytes());
        v1.extend_from_slice(&chain.to_be_bytes());
        v1.extend_from_slice(&wei(amount).0);
    }
    v1.extend_from_slice(&[0; 32]);
    reseal(&mut v1);
    let ledger = SpendLedger::decode(&v1, &ADDRESS).unwrap();
    assert_eq!(ledger.counter(), 0);
    assert_eq!(
        ledger.entries(),
        &[
            SpendEntry {
                time: 50,
                chain_id: 14,
                asset: ETH,
                amount: wei(1_000),
                state: EntryState::Committed,
            },
            SpendEntry {
                time: 60,
                chain_id: 0,
                asset: ETH,
                amount: wei(7),
                state: EntryState::Committed,
            },
        ]
    );
    assert_eq!(ledger.spent(Some(14), ETH, 60), wei(1_007));
    let v2 = ledger.encode();
    assert_eq!(&v2[8..10], &[0, 2]);
    assert_eq!(SpendLedger::decode(&v2, &ADDRESS).unwrap(), ledger);
    let bad = Err(PolicyError::SpendLedgerMalformed);
    for i in 0..v1.len() {
        let mut flipped = v1.clone();
        flipped[i] ^= 0x01;
        assert_eq!(SpendLedger::decode(&flipped, &ADDRESS), bad, "byte {i}");
    }
}

// ------------------------------------------------------------ audit log

#[test]
fn audit_log_lines_round_trip_and_damage_is_refused() {
    let entries = [
        PolicyLogEntry {
            time: 1_700_000_000,
            event: PolicyEvent::Create,
            address: ADDRESS,
            old_hash: None,
            new_hash: Policy::default().hash(),
        },
        PolicyLogEntry {
            time: 1_700_000_500,
            event: PolicyEvent::Replace,
            address: ADDRESS,
            old_hash: Some(Policy::default().hash()),
            new_hash: [0xab; 32],
        },
    ];
    let text: String = entries.iter().map(PolicyLogEntry::to_line).collect();
    assert_eq!(
        text.lines().nth(1).unwrap(),
        format!(
            "time=1700000500 event=replace address={ADDRESS} old={} new={}",
            hex::encode(Policy::default().hash()),
            "ab".repeat(32)
        )
    );
    assert_eq!(parse_log(text.as_bytes()).unwrap(), entries);
    assert_eq!(parse_log(b"").unwrap(), vec![]);
    let bad = Err(PolicyError::AuditLogMalformed);
    assert_eq!(parse_log(&text.as_bytes()[..text.len() - 1]), bad);
    assert_eq!(parse_log(text.replace("replace", "rename").as_bytes()), bad);
    assert_eq!(parse_log(text.replace("old=none", "old=").as_bytes()), bad);
    assert_eq!(parse_log(format!("{text}extra\n").as_bytes()), bad);
    assert_eq!(parse_log(&[0xff, b'\n']), bad);
}
