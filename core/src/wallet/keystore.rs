//! The wallet's portable backup: its account as a Web3 Secret Storage v3
//! keystore, and an account restored from one (sealed into the TPM at once).
//!
//! Unlike [`Wallet::backup`], which only this TPM can open, a keystore opens
//! anywhere with its password: export takes the approval of the account's
//! owners, and an ownerless account never exports.
//!
//! # What an export approval commits to
//!
//! The owners approve an `export_keystore` request whose `paramsHash` is
//! [`authority::export_keystore_params_hash`] of the KDF descriptor, the
//! salt and the keystore's own MAC key (`derived_key[16..32]` under that
//! salt): someone who sees the approval can test a password guess only by
//! running the same KDF, as against the keystore itself. The salt is
//! `keccak256("flare-wallet/export_keystore/salt/v1" || address || admin
//! nonce)`, so it is fresh for every export and both the request and the
//! execution compute it. The KDF descriptor is `"scrypt" || log2 n (u8) ||
//! r (u32) || p (u32) || dklen (u32)` or `"pbkdf2-hmac-sha256" || c (u32)
//! || dklen (u32)`, integers big-endian.
//!
//! An export refuses an empty password and a KDF weaker than scrypt
//! `n = 2^17, r = 8` ([`MIN_EXPORT_SCRYPT_LOG_N`], [`MIN_EXPORT_SCRYPT_R`])
//! or pbkdf2 with fewer than [`MIN_EXPORT_PBKDF2_ROUNDS`] iterations.

use zeroize::Zeroizing;

use super::{AccountOptions, AdminState, Wallet, WalletError};
use crate::audit::AuditEvent;
use crate::authority::{self, AdminAction, AdminRequest};
use crate::keccak::Keccak256;
use crate::keystore::{self, KdfParams, Keystore, DERIVED_KEY_LEN};
use crate::signer::Address;
use crate::{Error, Result};

/// Smallest scrypt cost an export accepts: `n = 2^17`.
pub const MIN_EXPORT_SCRYPT_LOG_N: u8 = 17;
/// Smallest scrypt block size an export accepts.
pub const MIN_EXPORT_SCRYPT_R: u32 = 8;
/// Fewest pbkdf2 iterations an export accepts (OWASP's figure for
/// PBKDF2-HMAC-SHA256).
pub const MIN_EXPORT_PBKDF2_ROUNDS: u32 = 600_000;
/// Domain separation label of an export's salt.
const EXPORT_SALT_LABEL: &[u8] = b"flare-wallet/export_keystore/salt/v1";

/// Refuses an empty password and a KDF below the export minimums.
fn check_export_strength(password: &[u8], params: KdfParams) -> Result<()> {
    if password.is_empty() {
        return Err(Error::Wallet(WalletError::EmptyExportPassword));
    }
    let strong = match params {
        KdfParams::Scrypt { log_n, r, .. } => {
            log_n >= MIN_EXPORT_SCRYPT_LOG_N && r >= MIN_EXPORT_SCRYPT_R
        }
        KdfParams::Pbkdf2 { c } => c >= MIN_EXPORT_PBKDF2_ROUNDS,
    };
    if !strong {
        return Err(Error::Wallet(WalletError::WeakExportKdf));
    }
    params.check()?;
    Ok(())
}

/// The KDF descriptor an export approval commits to (module docs).
fn kdf_descriptor(params: KdfParams) -> std::vec::Vec<u8> {
    let dklen = u32::try_from(DERIVED_KEY_LEN).unwrap_or(u32::MAX);
    let mut out = std::vec::Vec::new();
    match params {
        KdfParams::Scrypt { log_n, r, p } => {
            out.extend_from_slice(b"scrypt");
            out.push(log_n);
            out.extend_from_slice(&r.to_be_bytes());
            out.extend_from_slice(&p.to_be_bytes());
        }
        KdfParams::Pbkdf2 { c } => {
            out.extend_from_slice(b"pbkdf2-hmac-sha256");
            out.extend_from_slice(&c.to_be_bytes());
        }
    }
    out.extend_from_slice(&dklen.to_be_bytes());
    out
}

/// The salt of the export at `nonce` of `address` (module docs).
fn export_salt(address: &Address, nonce: u64) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(EXPORT_SALT_LABEL);
    h.update(&address.0);
    h.update(&nonce.to_be_bytes());
    h.finalize()
}

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
    /// The `paramsHash` an `export_keystore` request at the current admin
    /// nonce commits to, for `password` and `params` (module docs). Runs
    /// the KDF once.
    ///
    /// # Errors
    /// [`WalletError::Closed`], [`WalletError::NoAccount`],
    /// [`AuthorityError::Ownerless`](crate::authority::AuthorityError::Ownerless),
    /// [`WalletError::EmptyExportPassword`], [`WalletError::WeakExportKdf`],
    /// and [`keystore::KeystoreError`] for parameters over the keystore limits.
    pub fn export_keystore_params_hash(
        &self,
        password: &[u8],
        params: KdfParams,
    ) -> Result<[u8; 32]> {
        let nonce = self.admin_state()?.nonce;
        check_export_strength(password, params)?;
        let salt = export_salt(&self.address()?, nonce);
        let mac_key = keystore::derive_mac_key(password, params, &salt)?;
        Ok(authority::export_keystore_params_hash(
            &kdf_descriptor(params),
            &salt,
            &mac_key,
        ))
    }

    /// Exports the loaded account as a password-encrypted keystore that
    /// geth, eth-account and Foundry can import, with the approval of its
    /// owners: `request` must be an `export_keystore` request for exactly
    /// this password and KDF ([`export_keystore_params_hash`](Self::export_keystore_params_hash))
    /// at the current admin nonce. The admin nonce advances and the export
    /// is in the audit log before the keystore is returned. The key is
    /// unsealed for this call only (unless the key mode caches it).
    ///
    /// # Errors
    /// As [`export_keystore_params_hash`](Self::export_keystore_params_hash),
    /// every [`AuthorityError`](crate::authority::AuthorityError) of the
    /// approvals, the errors of unsealing, state-directory errors and an
    /// entropy failure. Nothing is returned unless the advanced nonce is on
    /// disk.
    pub fn export_keystore(
        &mut self,
        password: &[u8],
        params: KdfParams,
        request: &AdminRequest,
        approvals: &[[u8; 65]],
    ) -> Result<Keystore> {
        self.require_account()?;
        // Under the lock from the nonce check to the advanced nonce on disk,
        // so one approval exports once.
        let lock = self.state.lock()?;
        self.refresh_account(&lock)?;
        let params_hash = self.export_keystore_params_hash(password, params)?;
        self.authorize(AdminAction::ExportKeystore, params_hash, request, approvals)?;
        let address = self.address()?;
        let admin = self.admin_state()?;
        let salt = export_salt(&address, admin.nonce);
        let event = AuditEvent::ExportKeystore { nonce: admin.nonce };
        let next = AdminState {
            owners: admin.owners.clone(),
            nonce: admin.nonce.saturating_add(1),
        };
        let policy = self.current_policy()?;
        let exported = self.with_key(|key| {
            Ok(keystore::export_with_salt(
                key,
                password,
                params,
                &salt,
                &mut OsEntropy,
            )?)
        })?;
        self.rebind(&lock, policy, next, event)?;
        Ok(exported)
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
