//! Keccak-256 known answers.
//!
//! The byte-aligned vectors come from the Keccak team's round-3 SHA-3
//! submission, `ShortMsgKAT_256.txt` in `KeccakKAT-3.zip` (Keccak[r=1088,
//! c=512] with the original pad10*1, which is Ethereum's Keccak-256). The
//! empty-string and "abc" digests are the values every Ethereum client
//! documents (e.g. `keccak256("")` is the empty code hash).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use wallet_core::keccak::{keccak256, Keccak256};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test vector is hex")
}

/// (message hex, digest hex)
const SHORT_MSG_KAT: &[(&str, &str)] = &[
    // Len = 0
    (
        "",
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    ),
    // Len = 8
    (
        "6b",
        "f3d0adcb6a1c70832365e9da0a6b2f5199422f6a53c67cfad171114e3442aa0f",
    ),
    // Len = 136 (17 bytes)
    (
        "888bd7138b777f946c8db2d0b52b7c354c",
        "ca19398f09a3e05dc4f3e4cafe8a16ee320e80aee1afe90b11026babceac43c0",
    ),
    // Len = 1600: a 200-byte message, two Keccak-256 blocks (rate 136 bytes).
    (
        "9b518dcebd7aab3c6a961705d93b2733f5303ea8185653f1b91f163a105811aca99e7a671925a483bcbb8995f6b0c8ece10795fa5de8eb17080152195963c503013f6b1a650f9e21ca28b7c0d880adba8742b4e42aa0fb33a24d4cfbb112ffb2516acdb7796cd8449490056d10b22797f4dc7c1f7c78531ec59f1a77b21a290485f7bbfe649442f924476634fa8eccee6b480ee8c06107860122fdb33c27b7c11f72c08406037d2a4be35f45722b34dd7442c534a3ccbba4eeb9582be00fec0082ad8488b001b3fc",
        "3619785381f9290b0180fe87186e3b8e352d0bee8dec2321198770b67d8c26da",
    ),
    // Len = 2032: 254 bytes, the longest byte-aligned short message.
    (
        "481dd9182975f32bf7dca9850268ddee861e5d606097d955377dd069154fdd5d6cb776962c6ac223466ca849d486375aa495bb052d945a64122bce277aac85e763fc7e906640b3adac5cf681e22edb87c4968cf12be7563d1225658cd2eb7436e7f2c64d337afbe0d6f161b81f3d40e4d4ccd500b32c3dc652a353248ec75a76ba21c4ed9bbfce71b0302ad06d6ab441378a41ebb77fb10923052db1cc882787a9ec7544ab43b55b74e02ce14ae123816b656c23e51e2c08235abaf0e2e2778cceecd0793086d5a4660186b1e2aa334e0f9f72f4be9efce1f8b6d2db984a67663738e068bfb50c25b793d79a3d0ae84caa5b4168f93e4af2f51ccd8e6734",
        "5b1b87b1feca95e702186c47dd2e0436788ac686207906106b6363ce7d697624",
    ),
];

#[test]
fn keccak_team_short_message_known_answers() {
    for (message, digest) in SHORT_MSG_KAT {
        let message = unhex(message);
        assert_eq!(
            hex::encode(keccak256(&message)),
            *digest,
            "len {}",
            message.len()
        );
    }
}

#[test]
fn abc_known_answer() {
    assert_eq!(
        hex::encode(keccak256(b"abc")),
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    );
}

#[test]
fn streaming_in_any_split_matches_one_shot() {
    for (message, digest) in SHORT_MSG_KAT {
        let message = unhex(message);
        for split in [1usize, 7, 64, 135, 136, 137] {
            let mut hasher = Keccak256::new();
            for piece in message.chunks(split) {
                hasher.update(piece);
            }
            assert_eq!(hex::encode(hasher.finalize()), *digest, "split {split}");
        }
    }
}

#[test]
fn cloned_hasher_continues_independently() {
    let mut hasher = Keccak256::default();
    hasher.update(b"a");
    let fork = hasher.clone();
    hasher.update(b"bc");
    assert_eq!(hasher.finalize(), keccak256(b"abc"));
    assert_eq!(fork.finalize(), keccak256(b"a"));
}
