//! The `Wallet` (std): one TPM, one state directory, one sealed account.
//!
//! The key is generated with TPM entropy (or imported), sealed by the TPM,
//! stored as a sealed-key file in the state directory and unsealed only into
//! this process's zeroizing memory, over a salted session with parameter
//! encryption. The caller gets addresses, signed transactions, signatures,
//! attestation evidence and TPM-bound backups; never the key.
//!
//! Two key modes: [`KeyMode::Strict`] unseals the key for every signature and
//! wipes it at once; [`KeyMode::Cached`] keeps the unsealed key in zeroizing
//! memory until the wallet is closed (or the mode is set back to strict).
//!
//! Every unseal first checks the SRK Name recorded in the account against the
//! TPM's own, and checks that the unsealed key belongs to the recorded
//! address, so a sealed-key file cannot be moved to another TPM or re-labelled.

use core::fmt;
use std::boxed::Box;
use std::path::Path;
use std::string::String;

use zeroize::Zeroizing;

use crate::attest::{self, AkSignature, Evidence, NO_POLICY_HASH};
use crate::backup::{PcrPolicy, SealedKeyFile, SealedKeyFileView, MAX_FILE_LEN};
use crate::seal::{self, SealError, SealedObject};
use crate::signer::{eip191_hash, eip712_hash, Address, SecretKey, Signature};
use crate::state::{SealedAccount, StateDir, StateError};
use crate::tpm::command::SECRET_LEN;
use crate::tpm::{self, Name, ParameterEncryption, PcrSelection, Tpm, Transport};
use crate::tx;
use crate::{Error, Result};

pub mod base64;
mod keystore;

/// The transport a wallet drives: any [`Transport`] that can move between threads.
pub type BoxedTransport = Box<dyn Transport + Send>;

/// How long the unsealed key lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyMode {
    /// Unseal for every signature, then wipe the key at once.
    #[default]
    Strict,
    /// Keep the unsealed key in zeroizing memory until [`Wallet::close`].
    Cached,
}

/// Options for [`Wallet::create_account`] and [`Wallet::import_key`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountOptions {
    /// Bind the sealed key to the current values of these PCRs (SHA-256
    /// bank): once any of them changes, the key can no longer be unsealed.
    pub pcrs: Option<PcrSelection>,
}

/// Wallet-level failures (the TPM, state, format and signing errors have
/// their own enums, wrapped in the crate [`Error`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalletError {
    /// The wallet was closed.
    Closed,
    /// No account is loaded: create, import, load or restore one first.
    NoAccount,
    /// The backup string is not canonical padded base64.
    BackupNotBase64,
    /// A restore needs an empty state directory, and this one holds an account.
    StateNotEmpty,
    /// The sealed key unsealed to a key whose address is not the recorded one:
    /// the sealed-key file was altered.
    AddressMismatch,
    /// The operating system's entropy source failed.
    Entropy,
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WalletError::Closed => "the wallet is closed",
            WalletError::NoAccount => {
                "no account loaded: create, import, load or restore an account first"
            }
            WalletError::BackupNotBase64 => "the backup is not valid base64",
            WalletError::StateNotEmpty => {
                "restore needs an empty state directory, and this one already holds an account"
            }
            WalletError::AddressMismatch => {
                "the sealed key does not belong to the recorded address: the sealed-key file was altered"
            }
            WalletError::Entropy => "the operating system entropy source failed",
        })
    }
}

/// The loaded account.
struct Account {
    address: Address,
    sealed: SealedObject,
    file: SealedAccount,
}

/// A wallet bound to one TPM and one state directory. `Debug` shows no key.
pub struct Wallet {
    tpm: Option<Tpm<BoxedTransport>>,
    state: StateDir,
    srk_name: Name,
    account: Option<Account>,
    key_mode: KeyMode,
    cached_key: Option<SecretKey>,
    encryption: ParameterEncryption,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("state_dir", &self.state.path())
            .field("address", &self.account.as_ref().map(|a| a.address))
            .field("key_mode", &self.key_mode)
            .field(
                "key",
                &if self.cached_key.is_some() {
                    "<cached, redacted>"
                } else {
                    "<sealed>"
                },
            )
            .field("open", &self.tpm.is_some())
            .finish()
    }
}

fn pcr_policy_parts(view: &SealedKeyFileView<'_>) -> Result<Option<(PcrSelection, [u8; 32])>> {
    let Some(policy) = view.pcr_policy() else {
        return Ok(None);
    };
    let invalid = Error::Seal(SealError::InvalidSealedObject);
    if policy.hash_alg != attest::wire::TPM_ALG_SHA256 {
        return Err(invalid);
    }
    let bitmap = attest::PcrSelection::from_select_bytes(policy.hash_alg, policy.select).bitmap;
    let selection = PcrSelection::from_bitmap(bitmap).map_err(|_| invalid)?;
    let digest: [u8; 32] = policy.policy_digest.try_into().map_err(|_| invalid)?;
    Ok(Some((selection, digest)))
}

/// Rebuilds the engine's sealed object from a checked sealed-key file.
fn sealed_object_of(view: &SealedKeyFileView<'_>) -> Result<SealedObject> {
    let srk_name =
        Name::from_bytes(view.srk_name()).ok_or(Error::Seal(SealError::InvalidSealedObject))?;
    let (pcrs, digest) = match pcr_policy_parts(view)? {
        Some((pcrs, digest)) => (Some(pcrs), Some(digest)),
        None => (None, None),
    };
    Ok(SealedObject::from_parts(
        view.public_tpm2b(),
        view.private_tpm2b(),
        srk_name,
        pcrs,
        digest,
    )?)
}

/// Encodes the engine's sealed object as a sealed-key file.
fn encode_sealed(address: &Address, sealed: &SealedObject) -> Result<SealedAccount> {
    let strip = |blob: &[u8]| -> Result<std::vec::Vec<u8>> {
        // The engine's blobs are TPM2Bs; the file stores their contents after
        // its own length prefix, which is the same u16.
        blob.get(2..)
            .map(<[u8]>::to_vec)
            .ok_or(Error::Seal(SealError::InvalidSealedObject))
    };
    let public = strip(sealed.public_blob())?;
    let private = strip(sealed.private_blob())?;
    let select;
    let pcr_policy = match (sealed.pcrs(), sealed.policy_digest()) {
        (Some(pcrs), Some(digest)) => {
            let selection = attest::PcrSelection {
                hash_alg: attest::wire::TPM_ALG_SHA256,
                bitmap: pcrs.bitmap(),
            };
            let (bytes, len) = selection.select_bytes();
            select = bytes;
            Some(PcrPolicy {
                hash_alg: selection.hash_alg,
                select: select.get(..len).unwrap_or(&[]),
                policy_digest: digest,
            })
        }
        _ => None,
    };
    let file = SealedKeyFile {
        address: address.0,
        srk_name: sealed.srk_name().as_bytes(),
        public: &public,
        private: &private,
        pcr_policy,
    };
    let mut out = std::vec![0u8; MAX_FILE_LEN];
    let len = file.encode(&mut out)?;
    out.truncate(len);
    Ok(SealedAccount::from_bytes(out)?)
}

impl Wallet {
    /// Opens the TPM named by `tcti` (`device:/dev/tpmrm0`,
    /// `swtpm:host=H,port=P`, `swtpm:path=SOCK`) and the state directory
    /// (created with mode 0700 if missing). No account is loaded yet.
    ///
    /// # Errors
    /// Transport, TPM and state-directory errors.
    pub fn open(tcti: &str, state_dir: &Path) -> Result<Self> {
        let transport = tpm::transport::open(tcti)?;
        Self::with_transport(Box::new(transport), state_dir)
    }

    /// As [`open`](Self::open), over a transport the caller built (a
    /// recording or fault-injecting transport in tests, for example).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn with_transport(transport: BoxedTransport, state_dir: &Path) -> Result<Self> {
        let state = StateDir::open(state_dir)?;
        let mut tpm = Tpm::new(transport)?;
        tpm.startup()?;
        let srk_name = seal::srk_name(&mut tpm)?;
        Ok(Self {
            tpm: Some(tpm),
            state,
            srk_name,
            account: None,
            key_mode: KeyMode::Strict,
            cached_key: None,
            encryption: ParameterEncryption::Aes128Cfb,
        })
    }

    /// Wipes any cached key and releases the TPM connection. Every later
    /// call fails with [`WalletError::Closed`].
    pub fn close(&mut self) {
        self.cached_key = None;
        self.account = None;
        self.tpm = None;
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.tpm.is_none()
    }

    /// The state directory.
    #[must_use]
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// The Name of this TPM's storage root key.
    #[must_use]
    pub fn srk_name(&self) -> &Name {
        &self.srk_name
    }

    /// The loaded account's address.
    ///
    /// # Errors
    /// [`WalletError::NoAccount`].
    pub fn address(&self) -> Result<Address> {
        self.account
            .as_ref()
            .map(|a| a.address)
            .ok_or(Error::Wallet(WalletError::NoAccount))
    }

    /// The key mode.
    #[must_use]
    pub fn key_mode(&self) -> KeyMode {
        self.key_mode
    }

    /// Sets the key mode; going back to strict wipes the cached key at once.
    pub fn set_key_mode(&mut self, mode: KeyMode) {
        self.key_mode = mode;
        if mode == KeyMode::Strict {
            self.cached_key = None;
        }
    }

    /// Sets whether the key crosses the TPM interface encrypted. It is on by
    /// default; [`ParameterEncryption::Off`] sends the key in clear and
    /// exists only so a wire-secrecy test can show that its check can fail.
    pub fn set_parameter_encryption(&mut self, encryption: ParameterEncryption) {
        self.encryption = encryption;
    }

    /// How many command frames this wallet has sent to the TPM.
    #[must_use]
    pub fn tpm_commands_sent(&self) -> u64 {
        self.tpm.as_ref().map_or(0, Tpm::commands_sent)
    }

    fn tpm(&mut self) -> Result<&mut Tpm<BoxedTransport>> {
        self.tpm.as_mut().ok_or(Error::Wallet(WalletError::Closed))
    }

    fn ensure_no_account(&self) -> Result<()> {
        if self.account.is_some() || self.state.has_account()? {
            return Err(Error::State(StateError::AccountExists));
        }
        Ok(())
    }

    /// Creates a new account: a key from OS entropy XOR TPM entropy, sealed
    /// by this TPM and stored in the (empty) state directory.
    ///
    /// # Errors
    /// [`StateError::AccountExists`] when the state directory already holds
    /// an account (nothing is sent to the TPM then); TPM, seal and state errors.
    pub fn create_account(&mut self, options: AccountOptions) -> Result<Address> {
        self.ensure_no_account()?;
        let mut os_entropy = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::getrandom(&mut os_entropy[..]).map_err(|_| WalletError::Entropy)?;
        let secret = seal::generate_secret(self.tpm()?, &os_entropy)?;
        self.store_new(&secret, options)
    }

    /// Imports an existing key: sealed by this TPM and stored in the (empty)
    /// state directory.
    ///
    /// # Errors
    /// As [`create_account`](Self::create_account), and signer errors for
    /// bytes that are not a valid secp256k1 key.
    pub fn import_key(&mut self, key: &[u8; 32], options: AccountOptions) -> Result<Address> {
        self.ensure_no_account()?;
        SecretKey::from_bytes(key)?;
        self.store_new(key, options)
    }

    fn store_new(&mut self, secret: &[u8; SECRET_LEN], options: AccountOptions) -> Result<Address> {
        let key = SecretKey::from_bytes(secret)?;
        let address = key.address();
        let srk_name = self.srk_name;
        let encryption = self.encryption;
        let sealed = seal::seal_secret(
            self.tpm()?,
            Some(&srk_name),
            secret,
            options.pcrs,
            encryption,
        )?;
        let file = encode_sealed(&address, &sealed)?;
        self.state.create_account(file.bytes())?;
        self.account = Some(Account {
            address,
            sealed,
            file,
        });
        if self.key_mode == KeyMode::Cached {
            self.cached_key = Some(key);
        }
        Ok(address)
    }

    /// Loads the account from the state directory: checks the file's format
    /// and integrity and its SRK Name against this TPM's, then unseals the
    /// key once to check it belongs to the recorded address.
    ///
    /// # Errors
    /// [`StateError::NoAccount`], [`StateError::Format`],
    /// [`SealError::SrkNameMismatch`] for an account of another TPM,
    /// [`SealError::PcrMismatch`] when the PCRs it is bound to moved,
    /// [`WalletError::AddressMismatch`], and TPM errors. A failed load
    /// changes nothing on disk.
    pub fn load_account(&mut self) -> Result<Address> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        let file = match self.state.load_account(self.srk_name.as_bytes()) {
            Err(StateError::SrkNameMismatch) => {
                return Err(Error::Seal(SealError::SrkNameMismatch))
            }
            other => other?,
        };
        self.adopt(file)
    }

    /// Checks and unseals `file` once, then makes it the loaded account.
    fn adopt(&mut self, file: SealedAccount) -> Result<Address> {
        let view = file.view()?;
        let address = Address(*view.address());
        let sealed = sealed_object_of(&view)?;
        let key = self.unseal(&sealed, &address)?;
        self.account = Some(Account {
            address,
            sealed,
            file,
        });
        self.cached_key = None;
        if self.key_mode == KeyMode::Cached {
            self.cached_key = Some(key);
        }
        Ok(address)
    }

    fn unseal(&mut self, sealed: &SealedObject, address: &Address) -> Result<SecretKey> {
        let srk_name = *sealed.srk_name();
        let encryption = self.encryption;
        let secret = seal::unseal_secret(self.tpm()?, &srk_name, sealed, encryption)?;
        let key = SecretKey::from_bytes(&secret)?;
        if key.address() != *address {
            return Err(Error::Wallet(WalletError::AddressMismatch));
        }
        Ok(key)
    }

    /// Runs `f` with the account's key: the cached one, or one unsealed for
    /// this call and wiped when `f` returns (strict mode).
    fn with_key<R>(&mut self, f: impl FnOnce(&SecretKey) -> Result<R>) -> Result<R> {
        if let Some(key) = &self.cached_key {
            return f(key);
        }
        let account = self
            .account
            .as_ref()
            .ok_or(Error::Wallet(WalletError::NoAccount))?;
        let sealed = account.sealed.clone();
        let address = account.address;
        let key = self.unseal(&sealed, &address)?;
        let result = f(&key);
        if self.key_mode == KeyMode::Cached {
            self.cached_key = Some(key);
        }
        result
    }

    fn require_account(&self) -> Result<()> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        if self.account.is_none() {
            return Err(Error::Wallet(WalletError::NoAccount));
        }
        Ok(())
    }

    /// Signs an unsigned signing payload (`type || rlp([...])` for typed
    /// transactions, the EIP-155 list for legacy ones) and writes the signed
    /// transaction to `out`, returning its length. The payload is decoded
    /// strictly before the TPM is touched.
    ///
    /// # Errors
    /// Transaction errors (also [`tx::TxError::BufferTooSmall`]), and the
    /// errors of unsealing.
    pub fn sign_transaction(&mut self, unsigned_payload: &[u8], out: &mut [u8]) -> Result<usize> {
        self.require_account()?;
        let transaction = tx::decode_unsigned(unsigned_payload)?;
        let hash = transaction.signature_hash()?;
        let signature = self.with_key(|key| Ok(key.sign_hash(&hash)?))?;
        Ok(transaction.encode_signed(&signature, out)?)
    }

    /// Signs `message` as EIP-191 `personal_sign`.
    ///
    /// # Errors
    /// The errors of unsealing.
    pub fn sign_message(&mut self, message: &[u8]) -> Result<Signature> {
        self.require_account()?;
        let hash = eip191_hash(message);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Signs EIP-712 typed data given its domain separator and struct hash.
    ///
    /// # Errors
    /// The errors of unsealing.
    pub fn sign_typed_data_hash(
        &mut self,
        domain_separator: &[u8; 32],
        struct_hash: &[u8; 32],
    ) -> Result<Signature> {
        self.require_account()?;
        let hash = eip712_hash(domain_separator, struct_hash);
        self.with_key(|key| Ok(key.sign_hash(&hash)?))
    }

    /// Attestation evidence for `nonce` and `chain_id`: a quote of PCRs 0-7
    /// (SHA-256) by the TPM's attestation key over the
    /// [`challenge`](attest::challenge), and the wallet's EIP-191 signature
    /// over the same challenge. The policy hash is [`NO_POLICY_HASH`].
    ///
    /// # Errors
    /// The errors of the quote and of unsealing.
    pub fn attest(&mut self, nonce: &[u8], chain_id: u64) -> Result<Evidence> {
        self.attest_pcrs(nonce, chain_id, PcrSelection::DEFAULT_QUOTE)
    }

    /// As [`attest`](Self::attest), quoting the PCRs in `pcrs`.
    ///
    /// # Errors
    /// As [`attest`](Self::attest).
    pub fn attest_pcrs(
        &mut self,
        nonce: &[u8],
        chain_id: u64,
        pcrs: PcrSelection,
    ) -> Result<Evidence> {
        self.require_account()?;
        let address = self.address()?;
        let challenge = attest::challenge(nonce, chain_id, &address, &NO_POLICY_HASH);
        let quote = self.tpm()?.create_ak_and_quote(&challenge, pcrs)?;
        let wallet_signature = self.with_key(|key| Ok(key.sign_hash(&eip191_hash(&challenge))?))?;
        let too_long = Error::Attest(attest::AttestError::EvidenceLengthOutOfBounds);
        Ok(Evidence {
            attest: heapless::Vec::from_slice(&quote.attest).map_err(|()| too_long)?,
            ak_signature: AkSignature {
                r: quote.signature_r,
                s: quote.signature_s,
            },
            ak_public: heapless::Vec::from_slice(&quote.ak_public).map_err(|()| too_long)?,
            pcr_selection: attest::PcrSelection {
                hash_alg: attest::wire::TPM_ALG_SHA256,
                bitmap: quote.pcrs.selection.bitmap(),
            },
            pcr_values: heapless::Vec::from_slice(&quote.pcrs.values).map_err(|()| too_long)?,
            address,
            chain_id,
            policy_hash: NO_POLICY_HASH,
            wallet_signature,
        })
    }

    /// The TPM-bound backup: base64 of the sealed-key file. It holds no key
    /// in clear and restores only on this TPM.
    ///
    /// # Errors
    /// [`WalletError::NoAccount`].
    pub fn backup(&self) -> Result<String> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        let account = self
            .account
            .as_ref()
            .ok_or(Error::Wallet(WalletError::NoAccount))?;
        Ok(base64::encode(account.file.bytes()))
    }

    /// Restores a backup made by [`backup`](Self::backup) on this TPM into
    /// this wallet's empty state directory, and loads it.
    ///
    /// # Errors
    /// [`WalletError::BackupNotBase64`], [`StateError::Format`] for a damaged
    /// backup, [`WalletError::StateNotEmpty`], [`SealError::SrkNameMismatch`]
    /// for a backup of another TPM, [`SealError::PcrMismatch`],
    /// [`WalletError::AddressMismatch`], TPM errors. Nothing is written
    /// unless the key unsealed and matched its address.
    pub fn restore(&mut self, backup: &str) -> Result<Address> {
        if self.tpm.is_none() {
            return Err(Error::Wallet(WalletError::Closed));
        }
        let bytes = base64::decode(backup).ok_or(WalletError::BackupNotBase64)?;
        let file = SealedAccount::from_bytes(bytes)?;
        if self.account.is_some() || self.state.has_account()? {
            return Err(Error::Wallet(WalletError::StateNotEmpty));
        }
        if file.check_srk_name(self.srk_name.as_bytes()).is_err() {
            return Err(Error::Seal(SealError::SrkNameMismatch));
        }
        let bytes_to_store = file.bytes().to_vec();
        let address = self.adopt(file)?;
        if let Err(e) = self.state.create_account(&bytes_to_store) {
            self.account = None;
            self.cached_key = None;
            return Err(e.into());
        }
        Ok(address)
    }
}
