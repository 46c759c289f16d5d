//! The wallet's portable backup: its account as a Web3 Secret Storage v3
//! keystore, and an account restored from one (sealed into the TPM at once).
//!
//! Unlike [`Wallet::backup`], which only this TPM can open, a keystore opens
//! anywhere with its password: export is therefore always an explicit call.

use zeroize::Zeroizing;

use super::{AccountOptions, Wallet};
use crate::keystore::{self, KdfParams, Keystore};
use crate::signer::Address;
use crate::Result;

/// The operating system's entropy source as a `rand_core` generator; its
/// failure surfaces as an error instead of the panic `OsRng` would raise.
struct OsEntropy;

impl rand_core::RngCore for OsEntropy {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Only reached through next_u32/next_u64, which the keystore never
        // calls; a failed draw leaves zeros rather than panicking.
        let _ = self.try_fill_bytes(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> core::result::Result<(), rand_core::Error> {
        getrandom::getrandom(dest).map_err(|e| rand_core::Error::from(e.code()))
    }
}

/// The operating system source is cryptographically secure.
impl rand_core::CryptoRng for OsEntropy {}

impl Wallet {
    /// Exports the loaded account as a password-encrypted keystore that
    /// geth, eth-account and Foundry can import (scrypt
    /// `n = 2^18, r = 8, p = 1` with [`KdfParams::default`]). The key is
    /// unsealed for this call only (unless the key mode caches it).
    ///
    /// # Errors
    /// [`WalletError::Closed`](super::WalletError::Closed),
    /// [`WalletError::NoAccount`](super::WalletError::NoAccount), the
    /// errors of unsealing, and [`keystore::KeystoreError`] for parameters
    /// over the keystore limits or an entropy failure.
    pub fn export_keystore(&mut self, password: &[u8], params: KdfParams) -> Result<Keystore> {
        self.require_account()?;
        params.check()?;
        self.with_key(|key| Ok(keystore::export(key, password, params, &mut OsEntropy)?))
    }

    /// Decrypts a keystore and seals its key into this TPM as the wallet's
    /// account (the state directory must be empty), like
    /// [`Wallet::import_key`]. The decrypted key bytes are wiped once sealed.
    ///
    /// # Errors
    /// [`StateError::AccountExists`](crate::state::StateError::AccountExists)
    /// before any KDF work when an account exists; every
    /// [`keystore::KeystoreError`] (wrong password, malformed file, limit
    /// exceeded, address mismatch); then as [`Wallet::import_key`].
    pub fn import_keystore(
        &mut self,
        json: &str,
        password: &[u8],
        options: AccountOptions,
    ) -> Result<Address> {
        self.ensure_no_account()?;
        let key = keystore::import(json, password)?;
        let bytes: Zeroizing<[u8; 32]> = key.to_bytes();
        self.import_key(&bytes, options)
    }
}
