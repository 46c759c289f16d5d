//! Keccak-256, the hash Ethereum uses everywhere (the pre-standard padding,
//! not NIST SHA3-256).
//!
//! [`Keccak256`] is a streaming hasher: transaction signing payloads are
//! encoded straight into it (see [`crate::rlp::RlpSink`]), so they never need
//! a buffer of their own.

use sha3::Digest as _;

/// The Keccak-256 digest of `data`.
#[must_use]
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(data);
    hasher.finalize()
}

/// A streaming Keccak-256 hasher.
///
/// Feeding the input in any number of pieces gives the same digest as
/// [`keccak256`] over their concatenation.
#[derive(Clone, Default)]
pub struct Keccak256 {
    state: sha3::Keccak256,
}

impl Keccak256 {
    /// A hasher that has absorbed nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.state.update(data);
    }

    /// The digest of everything absorbed so far.
    #[must_use]
    pub fn finalize(self) -> [u8; 32] {
        self.state.finalize().into()
    }
}

impl core::fmt::Debug for Keccak256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The absorbed state may derive from secret input: print nothing of it.
        f.write_str("Keccak256 { .. }")
    }
}
