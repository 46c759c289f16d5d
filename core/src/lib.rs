//! # wallet-core
//!
//! The signing core of flare-wallet: canonical RLP, Keccak-256, every Ethereum
//! transaction type, constant-time secp256k1 signing, and TPM 2.0 key custody.
//!
//! The crate is `no_std` and needs no allocator. Variable-length data is either
//! borrowed from the caller or bounded by const generics. The `std` feature
//! (on by default) adds OS entropy, TPM transports, the state directory and the
//! portable keystore.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "std")]
extern crate std;

pub mod attest;
#[cfg(feature = "std")]
pub mod audit;
pub mod authority;
pub mod backup;
pub mod counter;
pub mod credential;
pub mod enrollment;
pub mod error;
pub mod keccak;
#[cfg(feature = "std")]
pub mod keystore;
pub mod policy;
pub mod rlp;
pub mod seal;
#[cfg(feature = "std")]
pub mod sealed_data;
pub mod signer;
#[cfg(feature = "std")]
pub mod state;
pub mod tpm;
pub mod tx;
#[cfg(feature = "std")]
pub mod wallet;
#[cfg(feature = "std")]
pub mod x509;

pub use error::{Error, Result};
