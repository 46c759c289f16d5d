//! Web3 Secret Storage v3 keystores (std only): the portable,
//! password-encrypted backup that geth, eth-account, ethers and Foundry all
//! read and write.
//!
//! A keystore holds the 32-byte secret key encrypted with AES-128-CTR under
//! the first half of a password-derived key (scrypt or PBKDF2-HMAC-SHA256),
//! and a MAC, `keccak256(derived_key[16..32] || ciphertext)`, that tells a
//! wrong password (or a modified file) apart before anything is decrypted.
//!
//! [`export`] writes scrypt `n = 2^18, r = 8, p = 1` by default
//! ([`KdfParams::SCRYPT_DEFAULT`]) or PBKDF2 with `c = 262144`
//! ([`KdfParams::PBKDF2_DEFAULT`]). [`import`] reads either KDF with any
//! parameters the format allows (`r = 1, p = 8` included), inside the limits
//! in [`limits`], which keep a hostile file from exhausting memory or CPU;
//! each limit is named in the error that reports it.
//!
//! Secrets: the password is only borrowed and never copied; the derived key
//! and the decrypted key bytes live in [`Zeroizing`] buffers and the AES key
//! schedule is wiped on drop. The scrypt crate's internal work buffer is
//! freed without being wiped (it holds no more than the derived key does,
//! but it is the crate's memory, not ours).

use core::fmt;
use std::string::String;
use std::vec::Vec;

use aes::cipher::{KeyIvInit as _, StreamCipher as _};
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::keccak::Keccak256;
use crate::signer::{Address, SecretKey};

mod hex;
mod json;
mod kdf;

pub use kdf::{limits, KdfParams};

/// Length of the AES-128-CTR initialisation vector, in bytes.
pub const IV_LEN: usize = 16;
/// Length of the encrypted secret key, in bytes.
pub const CIPHERTEXT_LEN: usize = 32;
/// Length of the Keccak-256 MAC, in bytes.
pub const MAC_LEN: usize = 32;
/// Length of the derived key, in bytes (`dklen`): the only value accepted.
pub const DERIVED_KEY_LEN: usize = 32;
/// Length of the random salt [`export`] writes, in bytes.
pub const EXPORT_SALT_LEN: usize = 32;

/// AES-128 in CTR mode with a 128-bit big-endian counter that wraps, as
/// geth's `cipher.NewCTR` does (the `evilnonce` test vector starts at
/// `ff..ff`).
type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// A field of the keystore JSON, named in errors by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The whole document.
    Root,
    /// `version`.
    Version,
    /// `id`.
    Id,
    /// `address`.
    Address,
    /// `crypto` (also read as `Crypto`).
    Crypto,
    /// `crypto.cipher`.
    Cipher,
    /// `crypto.cipherparams`.
    CipherParams,
    /// `crypto.cipherparams.iv`.
    Iv,
    /// `crypto.ciphertext`.
    Ciphertext,
    /// `crypto.kdf`.
    Kdf,
    /// `crypto.kdfparams`.
    KdfParams,
    /// `crypto.kdfparams.salt`.
    Salt,
    /// `crypto.kdfparams.dklen`.
    Dklen,
    /// `crypto.kdfparams.n` (scrypt).
    N,
    /// `crypto.kdfparams.r` (scrypt).
    R,
    /// `crypto.kdfparams.p` (scrypt).
    P,
    /// `crypto.kdfparams.c` (pbkdf2).
    C,
    /// `crypto.kdfparams.prf` (pbkdf2).
    Prf,
    /// `crypto.mac`.
    Mac,
}

impl Field {
    /// The field's path in the JSON document, as errors print it.
    #[must_use]
    pub const fn path(self) -> &'static str {
        match self {
            Self::Root => "the keystore",
            Self::Version => "version",
            Self::Id => "id",
            Self::Address => "address",
            Self::Crypto => "crypto",
            Self::Cipher => "crypto.cipher",
            Self::CipherParams => "crypto.cipherparams",
            Self::Iv => "crypto.cipherparams.iv",
            Self::Ciphertext => "crypto.ciphertext",
            Self::Kdf => "crypto.kdf",
            Self::KdfParams => "crypto.kdfparams",
            Self::Salt => "crypto.kdfparams.salt",
            Self::Dklen => "crypto.kdfparams.dklen",
            Self::N => "crypto.kdfparams.n",
            Self::R => "crypto.kdfparams.r",
            Self::P => "crypto.kdfparams.p",
            Self::C => "crypto.kdfparams.c",
            Self::Prf => "crypto.kdfparams.prf",
            Self::Mac => "crypto.mac",
        }
    }

    /// The JSON type the field must have, as errors print it.
    const fn expected_type(self) -> &'static str {
        match self {
            Self::Root | Self::Crypto | Self::CipherParams | Self::KdfParams => "a JSON object",
            Self::Version | Self::Dklen | Self::N | Self::R | Self::P | Self::C => {
                "a non-negative JSON integer"
            }
            Self::Id
            | Self::Address
            | Self::Cipher
            | Self::Iv
            | Self::Ciphertext
            | Self::Kdf
            | Self::Salt
            | Self::Prf
            | Self::Mac => "a JSON string",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// A resource limit a keystore went over, with the offending value.
///
/// The limits themselves are the constants in [`limits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The JSON text is `len` bytes, over [`limits::MAX_JSON_LEN`].
    JsonLength {
        /// The length of the text, in bytes.
        len: u64,
    },
    /// scrypt `n = 2^log_n`, over `2^`[`limits::SCRYPT_MAX_LOG_N`].
    ScryptN {
        /// log2 of the file's `n`.
        log_n: u32,
    },
    /// scrypt's work buffer `128 * n * r` is `bytes` bytes, over
    /// [`limits::SCRYPT_MAX_MEMORY`].
    ScryptMemory {
        /// `128 * n * r`, saturated at `u64::MAX`.
        bytes: u64,
    },
    /// scrypt's total work `128 * n * r * p` (bytes mixed) is over
    /// [`limits::SCRYPT_MAX_WORK`].
    ScryptWork {
        /// `128 * n * r * p`, saturated at `u64::MAX`.
        bytes: u64,
    },
    /// PBKDF2 iteration count `c`, over [`limits::PBKDF2_MAX_ITERATIONS`].
    Pbkdf2Iterations {
        /// The file's `c`.
        c: u64,
    },
    /// The salt is `len` bytes, over [`limits::MAX_SALT_LEN`].
    SaltLength {
        /// The salt's length, in bytes.
        len: u64,
    },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::JsonLength { len } => write!(
                f,
                "keystore JSON of {len} bytes exceeds the limit of {} bytes",
                limits::MAX_JSON_LEN
            ),
            Self::ScryptN { log_n } => write!(
                f,
                "scrypt n=2^{log_n} exceeds the limit 2^{}",
                limits::SCRYPT_MAX_LOG_N
            ),
            Self::ScryptMemory { bytes } => write!(
                f,
                "scrypt memory 128*n*r = {bytes} bytes exceeds the limit of {} bytes (512 MiB)",
                limits::SCRYPT_MAX_MEMORY
            ),
            Self::ScryptWork { bytes } => write!(
                f,
                "scrypt work 128*n*r*p = {bytes} bytes exceeds the limit of {} bytes (1 GiB, \
                 four times the default n=2^18 r=8 p=1)",
                limits::SCRYPT_MAX_WORK
            ),
            Self::Pbkdf2Iterations { c } => write!(
                f,
                "pbkdf2 c={c} exceeds the limit {}",
                limits::PBKDF2_MAX_ITERATIONS
            ),
            Self::SaltLength { len } => write!(
                f,
                "kdf salt of {len} bytes exceeds the limit of {} bytes",
                limits::MAX_SALT_LEN
            ),
        }
    }
}

/// What went wrong reading, decrypting or writing a keystore.
///
/// No variant carries a secret; none carries text taken from the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The text is not JSON: a syntax error at this line and column.
    JsonSyntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// The JSON ends in the middle of a value: the file is truncated.
    JsonTruncated,
    /// A required field is missing.
    MissingField(Field),
    /// A field has the wrong JSON type.
    WrongType(Field),
    /// The document has both `crypto` and `Crypto`, so which one holds the
    /// key is ambiguous.
    DuplicateCrypto,
    /// `version` is not 3.
    UnsupportedVersion(u64),
    /// `crypto.cipher` is not `aes-128-ctr`.
    UnsupportedCipher,
    /// `crypto.kdf` is neither `scrypt` nor `pbkdf2`.
    UnsupportedKdf,
    /// `crypto.kdfparams.prf` is not `hmac-sha256`.
    UnsupportedPrf,
    /// A hex field has an odd length or a non-hex character.
    InvalidHex(Field),
    /// A hex field decodes to the wrong number of bytes.
    WrongLength {
        /// The field.
        field: Field,
        /// Its decoded length, in bytes.
        len: usize,
        /// The length it must have, in bytes.
        expected: usize,
    },
    /// A KDF parameter is outside what the KDF itself allows: scrypt `n` not
    /// a power of two above 1, `r`, `p` or `c` zero, `dklen` not 32.
    InvalidKdfParam(Field),
    /// A parameter is over one of the [`limits`].
    LimitExceeded(Limit),
    /// The MAC does not match: the password is wrong, or the ciphertext or
    /// MAC was modified.
    WrongPassword,
    /// The key decrypted fine but the file's `address` belongs to another key.
    AddressMismatch,
    /// The decrypted bytes are not a valid secp256k1 secret key.
    InvalidKey,
    /// The random number generator failed.
    Entropy,
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::JsonSyntax { line, column } => write!(
                f,
                "the keystore is not valid JSON (syntax error at line {line}, column {column})"
            ),
            Self::JsonTruncated => f.write_str("the keystore JSON ends early: it is truncated"),
            Self::MissingField(Field::Crypto) => {
                f.write_str("the keystore has no `crypto` (or `Crypto`) object")
            }
            Self::MissingField(field) => write!(f, "the keystore has no `{field}` field"),
            Self::WrongType(Field::Root) => f.write_str("the keystore must be a JSON object"),
            Self::WrongType(field) => {
                write!(f, "`{field}` must be {}", field.expected_type())
            }
            Self::DuplicateCrypto => {
                f.write_str("the keystore has both `crypto` and `Crypto` objects")
            }
            Self::UnsupportedVersion(version) => write!(
                f,
                "keystore version {version} is not supported (only version 3)"
            ),
            Self::UnsupportedCipher => {
                f.write_str("unsupported `crypto.cipher`: only aes-128-ctr is supported")
            }
            Self::UnsupportedKdf => {
                f.write_str("unsupported `crypto.kdf`: only scrypt and pbkdf2 are supported")
            }
            Self::UnsupportedPrf => f.write_str(
                "unsupported `crypto.kdfparams.prf`: only hmac-sha256 is supported for pbkdf2",
            ),
            Self::InvalidHex(field) => write!(f, "`{field}` is not valid hex"),
            Self::WrongLength {
                field,
                len,
                expected,
            } => write!(f, "`{field}` is {len} bytes long, expected {expected}"),
            Self::InvalidKdfParam(field) => match field {
                Field::N => f.write_str("scrypt n must be a power of two greater than 1"),
                Field::Dklen => write!(f, "kdf dklen must be {DERIVED_KEY_LEN}"),
                _ => write!(f, "`{field}` must be at least 1"),
            },
            Self::LimitExceeded(limit) => limit.fmt(f),
            Self::WrongPassword => f.write_str(
                "wrong password: the keystore MAC does not match (a modified ciphertext or MAC \
                 gives the same error)",
            ),
            Self::AddressMismatch => f.write_str(
                "the keystore's `address` does not match the address of the key it decrypts to",
            ),
            Self::InvalidKey => {
                f.write_str("the decrypted key is not a valid secp256k1 secret key")
            }
            Self::Entropy => f.write_str("the random number generator failed"),
        }
    }
}

impl std::error::Error for KeystoreError {}

/// A parsed Web3 Secret Storage v3 keystore: everything needed to check a
/// password and decrypt the key, and nothing secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keystore {
    address: Option<Address>,
    id: Option<String>,
    kdf: KdfParams,
    salt: Vec<u8>,
    iv: [u8; IV_LEN],
    ciphertext: [u8; CIPHERTEXT_LEN],
    mac: [u8; MAC_LEN],
}

impl Keystore {
    /// Parses and checks a keystore without running the KDF: the structure,
    /// the hex fields and their lengths, the KDF parameters and every limit.
    ///
    /// Fields other than the ones the format defines are ignored. `crypto`
    /// may also be spelt `Crypto` (geth reads both), and hex may carry `0x`.
    ///
    /// # Errors
    /// Every [`KeystoreError`] except [`KeystoreError::WrongPassword`],
    /// [`KeystoreError::AddressMismatch`], [`KeystoreError::InvalidKey`] and
    /// [`KeystoreError::Entropy`].
    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        json::parse(json.as_bytes())
    }

    /// As [`Keystore::from_json`], from bytes that must be UTF-8 JSON.
    ///
    /// # Errors
    /// As [`Keystore::from_json`]; bytes that are not UTF-8 are a
    /// [`KeystoreError::JsonSyntax`].
    pub fn from_slice(json: &[u8]) -> Result<Self, KeystoreError> {
        json::parse(json)
    }

    /// The keystore as compact JSON: `address` (lower case hex, no `0x`),
    /// `crypto` (`cipher`, `cipherparams.iv`, `ciphertext`, `kdf`,
    /// `kdfparams`, `mac`), `id` and `version: 3`. Keys are in alphabetical
    /// order; a parsed keystore that had no `address` or `id` is written
    /// without one.
    #[must_use]
    pub fn to_json(&self) -> String {
        json::to_json(self)
    }

    /// The `address` field, if the keystore has one.
    #[must_use]
    pub fn address(&self) -> Option<Address> {
        self.address
    }

    /// The `id` field (a UUID in keystores this crate writes), if any.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The KDF and its cost parameters.
    #[must_use]
    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// The KDF salt.
    #[must_use]
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// Derives the key from `password`, checks the MAC in constant time, and
    /// only then decrypts; the result must be a valid secret key whose
    /// address matches the `address` field when there is one.
    ///
    /// # Errors
    /// [`KeystoreError::WrongPassword`] when the MAC does not match,
    /// [`KeystoreError::InvalidKey`], [`KeystoreError::AddressMismatch`].
    pub fn decrypt(&self, password: &[u8]) -> Result<SecretKey, KeystoreError> {
        let derived = self.kdf.derive(password, &self.salt)?;
        let expected = mac(&derived, &self.ciphertext);
        if !bool::from(expected.ct_eq(&self.mac)) {
            return Err(KeystoreError::WrongPassword);
        }
        let mut plaintext = Zeroizing::new(self.ciphertext);
        apply_keystream(&derived, &self.iv, plaintext.as_mut_slice());
        let key = SecretKey::from_bytes(&plaintext).map_err(|_| KeystoreError::InvalidKey)?;
        if let Some(address) = self.address {
            if key.address() != address {
                return Err(KeystoreError::AddressMismatch);
            }
        }
        Ok(key)
    }
}

/// Encrypts `key` under `password` into a new keystore: a fresh random salt
/// (32 bytes), IV and version-4 UUID from `rng`, the KDF in `params`.
///
/// Export is refused for parameters [`import`] would refuse, so every file
/// this writes can be read back.
///
/// # Errors
/// [`KeystoreError::InvalidKdfParam`] or [`KeystoreError::LimitExceeded`]
/// for unusable `params`; [`KeystoreError::Entropy`] if `rng` fails.
pub fn export(
    key: &SecretKey,
    password: &[u8],
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Keystore, KeystoreError> {
    params.check()?;
    let mut salt = [0u8; EXPORT_SALT_LEN];
    rng.try_fill_bytes(&mut salt)
        .map_err(|_| KeystoreError::Entropy)?;
    export_with_salt(key, password, params, &salt, rng)
}

/// As [`export`], under the caller's `salt` (the IV and UUID still come
/// from `rng`). The wallet uses a salt it can recompute, so that an
/// owner-approved export can commit to the keystore's MAC key in advance
/// ([`derive_mac_key`]).
///
/// # Errors
/// As [`export`], and [`KeystoreError::LimitExceeded`] for a salt over the
/// keystore limit.
pub fn export_with_salt(
    key: &SecretKey,
    password: &[u8],
    params: KdfParams,
    salt: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Keystore, KeystoreError> {
    params.check()?;
    let salt = salt.to_vec();
    let mut iv = [0u8; IV_LEN];
    let mut uuid = [0u8; 16];
    for buffer in [&mut iv[..], &mut uuid[..]] {
        rng.try_fill_bytes(buffer)
            .map_err(|_| KeystoreError::Entropy)?;
    }
    let derived = params.derive(password, &salt)?;
    let mut ciphertext = key.to_bytes();
    apply_keystream(&derived, &iv, ciphertext.as_mut_slice());
    let mac = mac(&derived, &ciphertext);
    Ok(Keystore {
        address: Some(key.address()),
        id: Some(uuid_v4(uuid)),
        kdf: params,
        salt,
        iv,
        ciphertext: *ciphertext,
        mac,
    })
}

/// Parses `json` and decrypts it with `password`: [`Keystore::from_json`]
/// then [`Keystore::decrypt`].
///
/// # Errors
/// As those two.
pub fn import(json: &str, password: &[u8]) -> Result<SecretKey, KeystoreError> {
    Keystore::from_json(json)?.decrypt(password)
}

/// The MAC half of the key `password` derives under `params` and `salt`
/// (`derived_key[16..32]`): what a keystore's MAC is keyed with. Testing a
/// password guess against it costs one KDF run, as against the keystore.
///
/// # Errors
/// As the KDF: [`KeystoreError::InvalidKdfParam`] and
/// [`KeystoreError::LimitExceeded`].
pub fn derive_mac_key(
    password: &[u8],
    params: KdfParams,
    salt: &[u8],
) -> Result<Zeroizing<[u8; 16]>, KeystoreError> {
    let derived = params.derive(password, salt)?;
    let mut mac_key = Zeroizing::new([0u8; 16]);
    mac_key.copy_from_slice(&derived[16..]);
    Ok(mac_key)
}

/// `keccak256(derived_key[16..32] || ciphertext)`.
fn mac(derived: &[u8; DERIVED_KEY_LEN], ciphertext: &[u8; CIPHERTEXT_LEN]) -> [u8; MAC_LEN] {
    let (_, mac_key) = derived.split_at(16);
    let mut hasher = Keccak256::new();
    hasher.update(mac_key);
    hasher.update(ciphertext);
    hasher.finalize()
}

/// AES-128-CTR under `derived_key[0..16]` from `iv`, in place (encryption
/// and decryption are the same operation).
fn apply_keystream(derived: &[u8; DERIVED_KEY_LEN], iv: &[u8; IV_LEN], data: &mut [u8]) {
    let (aes_key, _) = derived.split_at(16);
    let mut cipher = Aes128Ctr::new(
        aes::cipher::Key::<Aes128Ctr>::from_slice(aes_key),
        iv.into(),
    );
    cipher.apply_keystream(data);
}

/// A version-4 (random) UUID in its 8-4-4-4-12 text form (RFC 9562 §5.4).
fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        hex::push_byte(&mut out, *byte);
    }
    out
}
