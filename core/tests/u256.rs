//! The 256-bit integer used for values and fees.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "support/helpers.rs"]
mod helpers;

use wallet_core::tx::U256;

#[test]
fn conversions() {
    assert_eq!(U256::from_u64(0x0102), U256::from_u128(0x0102));
    assert_eq!(U256::from_u128(u128::MAX).to_u128(), Some(u128::MAX));
    assert_eq!(U256::from_u128(u128::MAX).to_u64(), None);
    assert_eq!(U256::from_u64(u64::MAX).to_u64(), Some(u64::MAX));
    assert_eq!(U256::MAX.to_u128(), None);
    assert_eq!(U256::from_be_slice(&[]), Some(U256::ZERO));
    assert_eq!(U256::from_be_slice(&[1, 2]), Some(U256::from_u64(0x0102)));
    let mut wide = [0u8; 40];
    wide[39] = 7;
    assert_eq!(U256::from_be_slice(&wide), Some(U256::from_u64(7)));
    wide[7] = 1;
    assert_eq!(U256::from_be_slice(&wide), None);
    assert_eq!(U256::from_u64(0x0102).significant_bytes(), &[1, 2]);
    assert!(U256::ZERO.significant_bytes().is_empty());
    assert!(U256::ZERO.is_zero() && !U256::from_u64(1).is_zero());
    assert!(U256::from_u64(1) < U256::from_u128(1 << 64));
}

#[test]
fn checked_arithmetic() {
    assert_eq!(U256::MAX.checked_add(U256::from_u64(1)), None);
    assert_eq!(
        U256::from_u64(u64::MAX).checked_add(U256::from_u64(1)),
        Some(U256::from_u128(1 << 64))
    );
    assert_eq!(U256::MAX.checked_mul_u64(1), Some(U256::MAX));
    assert_eq!(U256::MAX.checked_mul_u64(2), None);
    assert_eq!(U256::MAX.checked_mul_u64(0), Some(U256::ZERO));
    assert_eq!(
        U256::from_u128(u128::MAX).checked_mul_u64(u64::MAX),
        Some(U256(helpers::dec(
            "6277101735386680763495507056286727952620534092958556749825"
        )))
    );
    // 2^192 · (2^64 - 1) = 2^256 - 2^192 fits; 2^193 · 2^63 = 2^256 does not.
    let mut two_192 = [0u8; 32];
    two_192[7] = 1;
    let mut expected = [0u8; 32];
    expected[..8].fill(0xff);
    assert_eq!(
        U256(two_192).checked_mul_u64(u64::MAX),
        Some(U256(expected))
    );
    let mut two_193 = [0u8; 32];
    two_193[7] = 2;
    assert_eq!(U256(two_193).checked_mul_u64(1 << 63), None);
}

#[test]
fn formatting() {
    assert_eq!(U256::ZERO.to_string(), "0");
    assert_eq!(U256::from_u64(1_000_000_000).to_string(), "1000000000");
    assert_eq!(
        U256::MAX.to_string(),
        "115792089237316195423570985008687907853269984665640564039457584007913129639935"
    );
    assert_eq!(format!("{:#x}", U256::from_u64(0x0abc)), "0xabc");
    assert_eq!(format!("{:x}", U256::ZERO), "0");
    assert_eq!(format!("{:?}", U256::from_u64(255)), "0xff");
    assert_eq!(format!("{:>6}", U256::from_u64(42)), "    42");
}
