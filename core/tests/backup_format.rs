//! The sealed-key file format: round trips, and every malformation refused
//! with its own error.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use wallet_core::backup::{
    BackupError, BoundPolicy, Field, OwnerSection, PcrPolicy, SealedKeyFile, FLAGS_OFFSET,
    INTEGRITY_LEN, MAGIC, MAX_FILE_LEN, MAX_PCR_SELECT_LEN, MAX_POLICY_DIGEST_LEN, MAX_PRIVATE_LEN,
    MAX_PUBLIC_LEN, MAX_SIGNING_POLICY_LEN, MAX_SRK_NAME_LEN, MIN_FILE_LEN, SRK_NAME_OFFSET,
    VERSION_OFFSET,
};
use wallet_core::backup::{
    KeyLockSection, KEY_LOCK_BOOT_ONCE, KEY_LOCK_NONE, KEY_LOCK_PCRS, KEY_LOCK_PIN, VERSION_3,
};

fn sample_file<'a>(srk: &'a [u8], public: &'a [u8], private: &'a [u8]) -> SealedKeyFile<'a> {
    SealedKeyFile {
        address: [0x11; 20],
        srk_name: srk,
        public,
        private,
        pcr_policy: None,
    }
}

fn encode(file: &SealedKeyFile<'_>) -> Vec<u8> {
    let mut out = vec![0u8; MAX_FILE_LEN];
    let n = file.encode(&mut out).unwrap();
    assert_eq!(n, file.encoded_len().unwrap());
    out.truncate(n);
    out
}

/// Rewrites the trailing SHA-256 so a test can reach the checks before it.
fn reseal(bytes: &mut [u8]) {
    use sha2::{Digest, Sha256};
    let n = bytes.len() - INTEGRITY_LEN;
    let digest = Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&digest);
}

#[test]
fn layout_matches_the_documented_offsets() {
    let srk = [0x00, 0x0b, 1, 2, 3];
    let file = sample_file(&srk, &[0xaa; 3], &[0xbb; 4]);
    let bytes = encode(&file);
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(&bytes[VERSION_OFFSET..VERSION_OFFSET + 2], &[0, 1]);
    assert_eq!(&bytes[FLAGS_OFFSET..FLAGS_OFFSET + 2], &[0, 0]);
    assert_eq!(&bytes[12..32], &[0x11; 20]);
    assert_eq!(&bytes[SRK_NAME_OFFSET..SRK_NAME_OFFSET + 2], &[0, 5]);
    assert_eq!(&bytes[34..39], &srk);
    // The length prefix plus the blob is the TPM2B as TPM2_Load takes it.
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert_eq!(view.public_tpm2b(), &[0, 3, 0xaa, 0xaa, 0xaa]);
    assert_eq!(view.private_tpm2b(), &[0, 4, 0xbb, 0xbb, 0xbb, 0xbb]);
    assert_eq!(bytes.len(), 34 + 5 + 5 + 6 + 32);
}

#[test]
fn minimal_file_has_min_len() {
    let file = sample_file(&[1], &[2], &[3]);
    assert_eq!(encode(&file).len(), MIN_FILE_LEN);
}

#[test]
fn maximal_file_has_max_len_and_parses() {
    let srk = [1u8; MAX_SRK_NAME_LEN];
    let public = [2u8; MAX_PUBLIC_LEN];
    let private = [3u8; MAX_PRIVATE_LEN];
    let select = [0xffu8; MAX_PCR_SELECT_LEN];
    let digest = [4u8; MAX_POLICY_DIGEST_LEN];
    let mut file = sample_file(&srk, &public, &private);
    file.pcr_policy = Some(PcrPolicy {
        hash_alg: 0x000b,
        select: &select,
        policy_digest: &digest,
    });
    let encoding = [5u8; MAX_SIGNING_POLICY_LEN];
    let bound = BoundPolicy {
        encoding: &encoding,
        tag: &[6u8; 32],
    };
    let mut owners = vec![16u8];
    owners.extend_from_slice(&[7u8; 20 * 16]);
    owners.push(16);
    let section = OwnerSection {
        owners: &owners,
        admin_nonce: u64::MAX,
    };
    let ek_name = [0x0b; MAX_SRK_NAME_LEN];
    let identity = wallet_core::backup::TpmIdentitySection {
        ek_name: &ek_name,
        verified: true,
    };
    let mut bytes = vec![0u8; MAX_FILE_LEN];
    let n = file
        .encode_with_all(
            Some(bound),
            Some(section),
            Some(identity),
            Some(KeyLockSection {
                mode: KEY_LOCK_PIN | KEY_LOCK_PCRS | KEY_LOCK_BOOT_ONCE,
                boot_once_pcr: 15,
                nv_counter_index: u32::MAX,
                counter: u64::MAX,
                policy_digest: &[9u8; MAX_POLICY_DIGEST_LEN],
            }),
            &mut bytes,
        )
        .unwrap();
    assert_eq!(n, MAX_FILE_LEN);
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert_eq!(view.version(), 3);
    assert_eq!(view.key_lock().unwrap().counter, u64::MAX);
    assert_eq!(view.tpm_identity(), Some(identity));
    assert_eq!(view.contents(), file);
    assert_eq!(view.bound_policy(), Some(bound));
    assert_eq!(view.owner_section(), Some(section));
}

#[test]
fn owners_need_version_2_and_a_signing_policy() {
    let file = sample_file(&[1, 2], &[3], &[4]);
    let owners = [
        1u8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1,
    ];
    let section = OwnerSection {
        owners: &owners,
        admin_nonce: 5,
    };
    let mut out = vec![0u8; MAX_FILE_LEN];
    // Owners without a policy cannot be written.
    assert!(matches!(
        file.encode_with_owners(None, Some(section), &mut out),
        Err(BackupError::FlagsDoNotFitVersion { .. })
    ));
    let encoding = [5u8; 3];
    let bound = BoundPolicy {
        encoding: &encoding,
        tag: &[6u8; 32],
    };
    let n = file
        .encode_with_owners(Some(bound), Some(section), &mut out)
        .unwrap();
    let good = out[..n].to_vec();
    assert_eq!(
        SealedKeyFile::parse(&good).unwrap().owner_section(),
        Some(section)
    );
    // The owner flag in a version 1 file, and a version 2 file without it.
    let mut bad = good.clone();
    bad[VERSION_OFFSET + 1] = 1;
    reseal(&mut bad);
    assert!(matches!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::FlagsDoNotFitVersion { version: 1, .. })
    ));
    let mut bad = encode(&file);
    bad[VERSION_OFFSET + 1] = 2;
    reseal(&mut bad);
    assert!(matches!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::FlagsDoNotFitVersion { version: 2, .. })
    ));
    // A count of zero or above 16.
    for (count, expected) in [
        (0u8, BackupError::EmptyField(Field::Owners)),
        (17u8, BackupError::LengthOverBound(Field::Owners)),
    ] {
        let mut bad = good.clone();
        let at = bad.len() - INTEGRITY_LEN - 8 - owners.len();
        bad[at] = count;
        reseal(&mut bad);
        assert_eq!(SealedKeyFile::parse(&bad), Err(expected));
    }
    // A section cut short.
    let mut short = good[..good.len() - INTEGRITY_LEN - 9].to_vec();
    short.extend_from_slice(&[0u8; INTEGRITY_LEN]);
    reseal(&mut short);
    assert!(SealedKeyFile::parse(&short).is_err());
}

#[test]
fn encoder_refuses_out_of_bound_fields_and_short_buffers() {
    let long = [0u8; MAX_PUBLIC_LEN + 1];
    let file = sample_file(&[1], &long, &[3]);
    assert_eq!(
        file.encoded_len(),
        Err(BackupError::LengthOverBound(Field::Public))
    );
    let file = sample_file(&[], &[2], &[3]);
    assert_eq!(
        file.encoded_len(),
        Err(BackupError::EmptyField(Field::SrkName))
    );
    let file = sample_file(&[1], &[2], &[3]);
    let mut out = [0xeeu8; MIN_FILE_LEN - 1];
    assert_eq!(file.encode(&mut out), Err(BackupError::BufferTooSmall));
    assert!(out.iter().all(|&b| b == 0xee), "nothing written on failure");
}

#[test]
fn each_header_malformation_has_its_error() {
    let file = sample_file(&[1, 2], &[3], &[4]);
    let good = encode(&file);

    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(SealedKeyFile::parse(&bad), Err(BackupError::BadMagic));

    let mut bad = good.clone();
    bad[VERSION_OFFSET + 1] = 4;
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::UnsupportedVersion(4))
    );

    let mut bad = good.clone();
    bad[FLAGS_OFFSET] = 0x80;
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::UnknownFlags(0x8000))
    );

    let mut bad = good.clone();
    bad.push(0);
    assert_eq!(SealedKeyFile::parse(&bad), Err(BackupError::TrailingBytes));

    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::IntegrityMismatch)
    );

    assert_eq!(
        SealedKeyFile::parse(&good[..5]),
        Err(BackupError::Truncated(Field::Header))
    );
    assert_eq!(
        SealedKeyFile::parse(&[]),
        Err(BackupError::Truncated(Field::Header))
    );
}

#[test]
fn length_prefixes_are_bounded_and_non_empty() {
    // Hand-built: header, then an SRK Name prefix one over its bound.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&[0, 1, 0, 0]);
    bytes.extend_from_slice(&[0x22; 20]);
    let over = u16::try_from(MAX_SRK_NAME_LEN + 1).unwrap();
    let mut over_bound = bytes.clone();
    over_bound.extend_from_slice(&over.to_be_bytes());
    over_bound.extend(std::iter::repeat_n(0u8, 200));
    assert_eq!(
        SealedKeyFile::parse(&over_bound),
        Err(BackupError::LengthOverBound(Field::SrkName))
    );
    let mut empty = bytes.clone();
    empty.extend_from_slice(&[0, 0]);
    empty.extend(std::iter::repeat_n(0u8, 64));
    assert_eq!(
        SealedKeyFile::parse(&empty),
        Err(BackupError::EmptyField(Field::SrkName))
    );
    // A prefix claiming more bytes than remain.
    let mut short = bytes.clone();
    short.extend_from_slice(&[0, 10, 1, 2]);
    assert_eq!(
        SealedKeyFile::parse(&short),
        Err(BackupError::Truncated(Field::SrkName))
    );
}

#[test]
fn pcr_selection_bounds() {
    let select = [1u8; MAX_PCR_SELECT_LEN];
    let mut file = sample_file(&[1], &[2], &[3]);
    file.pcr_policy = Some(PcrPolicy {
        hash_alg: 0x000b,
        select: &select,
        policy_digest: &[9; 32],
    });
    let good = encode(&file);
    // The bitmap size byte sits right after the bank's hash algorithm.
    let size_at = SRK_NAME_OFFSET + 3 + 3 + 3 + 2;
    assert_eq!(usize::from(good[size_at]), MAX_PCR_SELECT_LEN);
    let mut bad = good.clone();
    bad[size_at] = u8::try_from(MAX_PCR_SELECT_LEN + 1).unwrap();
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::LengthOverBound(Field::PcrSelection))
    );
    let mut bad = good.clone();
    bad[size_at] = 0;
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::EmptyField(Field::PcrSelection))
    );
    // Clearing the flag leaves the policy bytes unaccounted for.
    let mut bad = good.clone();
    bad[FLAGS_OFFSET + 1] = 0;
    reseal(&mut bad);
    assert_eq!(SealedKeyFile::parse(&bad), Err(BackupError::TrailingBytes));
}

#[test]
fn srk_name_comparison() {
    let file = sample_file(&[0, 0x0b, 7, 7], &[2], &[3]);
    let bytes = encode(&file);
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert!(view.srk_name_matches(&[0, 0x0b, 7, 7]));
    assert!(!view.srk_name_matches(&[0, 0x0b, 7, 8]));
    assert!(!view.srk_name_matches(&[0, 0x0b, 7]));
}

#[test]
fn errors_display_specific_messages() {
    assert_eq!(
        BackupError::Truncated(Field::Private).to_string(),
        "sealed-key file is truncated in its private blob"
    );
    assert_eq!(
        wallet_core::Error::from(BackupError::IntegrityMismatch).to_string(),
        "sealed-key file is corrupted (integrity check mismatch)"
    );
}

fn arb_policy() -> impl Strategy<Value = Option<(u16, Vec<u8>, Vec<u8>)>> {
    proptest::option::of((
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 1..=MAX_PCR_SELECT_LEN),
        proptest::collection::vec(any::<u8>(), 1..=MAX_POLICY_DIGEST_LEN),
    ))
}

type Parts = (
    [u8; 20],
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Option<(u16, Vec<u8>, Vec<u8>)>,
);

fn arb_parts() -> impl Strategy<Value = Parts> {
    (
        any::<[u8; 20]>(),
        proptest::collection::vec(any::<u8>(), 1..=MAX_SRK_NAME_LEN),
        proptest::collection::vec(any::<u8>(), 1..=MAX_PUBLIC_LEN),
        proptest::collection::vec(any::<u8>(), 1..=MAX_PRIVATE_LEN),
        arb_policy(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encode_then_parse_round_trips(parts in arb_parts()) {
        let (address, srk, public, private, policy) = parts;
        let file = SealedKeyFile {
            address,
            srk_name: &srk,
            public: &public,
            private: &private,
            pcr_policy: policy.as_ref().map(|(alg, sel, dig)| PcrPolicy {
                hash_alg: *alg,
                select: sel,
                policy_digest: dig,
            }),
        };
        let bytes = encode(&file);
        let view = SealedKeyFile::parse(&bytes).unwrap();
        prop_assert_eq!(view.contents(), file);
        prop_assert_eq!(view.address(), &address);
        prop_assert_eq!(&view.public_tpm2b()[2..], &public[..]);
    }

    #[test]
    fn every_truncation_and_every_byte_flip_is_rejected(parts in arb_parts(), bit in 0u8..8) {
        let (address, srk, public, private, policy) = parts;
        let file = SealedKeyFile {
            address,
            srk_name: &srk,
            public: &public,
            private: &private,
            pcr_policy: policy.as_ref().map(|(alg, sel, dig)| PcrPolicy {
                hash_alg: *alg,
                select: sel,
                policy_digest: dig,
            }),
        };
        let bytes = encode(&file);
        for cut in 0..bytes.len() {
            prop_assert!(SealedKeyFile::parse(&bytes[..cut]).is_err(), "truncation at {} accepted", cut);
        }
        let mut flipped = bytes.clone();
        for i in 0..bytes.len() {
            flipped[i] ^= 1 << bit;
            prop_assert!(SealedKeyFile::parse(&flipped).is_err(), "flip at {} accepted", i);
            flipped[i] ^= 1 << bit;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let _ = SealedKeyFile::parse(&bytes);
    }
}

#[test]
fn key_lock_section_round_trips_and_each_malformation_is_refused() {
    let file = sample_file(&[1, 2], &[3], &[4]);
    let digest = [5u8; 32];
    let section = KeyLockSection {
        mode: KEY_LOCK_PIN | KEY_LOCK_BOOT_ONCE,
        boot_once_pcr: 14,
        nv_counter_index: 0x0180_0001,
        counter: 42,
        policy_digest: &digest,
    };
    let mut bytes = vec![0u8; MAX_FILE_LEN];
    let n = file
        .encode_with_key_lock(None, None, Some(section), &mut bytes)
        .unwrap();
    bytes.truncate(n);
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert_eq!(view.version(), VERSION_3);
    assert_eq!(view.key_lock(), Some(section));
    assert_eq!(view.contents(), file);

    let refused = [
        KeyLockSection {
            mode: 0,
            boot_once_pcr: 0,
            ..section
        },
        KeyLockSection {
            mode: 0x08,
            ..section
        },
        KeyLockSection {
            boot_once_pcr: 16,
            ..section
        },
        KeyLockSection {
            boot_once_pcr: 7,
            ..section
        },
        KeyLockSection {
            mode: KEY_LOCK_PIN,
            ..section
        },
        // The PCR bit without a PCR policy in the file.
        KeyLockSection {
            mode: KEY_LOCK_PIN | KEY_LOCK_PCRS,
            boot_once_pcr: 0,
            ..section
        },
    ];
    for bad in refused {
        let mut out = vec![0u8; MAX_FILE_LEN];
        assert_eq!(
            file.encode_with_key_lock(None, None, Some(bad), &mut out),
            Err(BackupError::InvalidKeyLock),
            "{bad:?}"
        );
    }
    // The parser refuses the same: rewrite the mode byte of a good file.
    let mode_at = n - 32 - (1 + 1 + 4 + 8 + 2 + 32);
    let mut bad = bytes.clone();
    bad[mode_at] = 0;
    reseal(&mut bad);
    assert_eq!(SealedKeyFile::parse(&bad), Err(BackupError::InvalidKeyLock));
    // A version 3 file without the key-lock flag does not fit its version.
    let mut bad = bytes.clone();
    bad[FLAGS_OFFSET + 1] &= !0x10;
    reseal(&mut bad);
    assert!(matches!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::FlagsDoNotFitVersion { .. })
    ));
}

#[test]
fn a_none_key_lock_section_carries_the_counter_alone() {
    let file = sample_file(&[1, 2], &[3], &[4]);
    let section = KeyLockSection {
        mode: KEY_LOCK_NONE,
        boot_once_pcr: 0,
        nv_counter_index: 0x0180_0001,
        counter: 7,
        policy_digest: &[],
    };
    let mut bytes = vec![0u8; MAX_FILE_LEN];
    let n = file
        .encode_with_key_lock(None, None, Some(section), &mut bytes)
        .unwrap();
    bytes.truncate(n);
    let view = SealedKeyFile::parse(&bytes).unwrap();
    assert_eq!(view.version(), VERSION_3);
    assert_eq!(view.key_lock(), Some(section));

    // Mode none needs a counter, and has no boot-once PCR or lock policy; a
    // lock needs its policy digest.
    let digest = [5u8; 32];
    let refused = [
        (
            KeyLockSection {
                nv_counter_index: 0,
                ..section
            },
            BackupError::InvalidKeyLock,
        ),
        (
            KeyLockSection {
                boot_once_pcr: 14,
                ..section
            },
            BackupError::InvalidKeyLock,
        ),
        (
            KeyLockSection {
                policy_digest: &digest,
                ..section
            },
            BackupError::InvalidKeyLock,
        ),
        (
            KeyLockSection {
                mode: KEY_LOCK_PIN,
                ..section
            },
            BackupError::EmptyField(Field::KeyLock),
        ),
    ];
    for (bad, error) in refused {
        let mut out = vec![0u8; MAX_FILE_LEN];
        assert_eq!(
            file.encode_with_key_lock(None, None, Some(bad), &mut out),
            Err(error),
            "{bad:?}"
        );
    }
    // The parser refuses the same: a none section whose index is 0, or a PIN
    // mode with the empty digest.
    let section_at = n - 32 - (1 + 1 + 4 + 8 + 2);
    let mut bad = bytes.clone();
    bad[section_at + 2..section_at + 6].fill(0);
    reseal(&mut bad);
    assert_eq!(SealedKeyFile::parse(&bad), Err(BackupError::InvalidKeyLock));
    let mut bad = bytes.clone();
    bad[section_at] = KEY_LOCK_PIN;
    reseal(&mut bad);
    assert_eq!(
        SealedKeyFile::parse(&bad),
        Err(BackupError::EmptyField(Field::KeyLock))
    );
}
