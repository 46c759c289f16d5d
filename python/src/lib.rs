//! The Python binding of flare-wallet, built by maturin as `flare_wallet._native`.

pub use wallet_core;
