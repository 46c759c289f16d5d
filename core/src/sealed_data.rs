//! Arbitrary data sealed to one TPM (std): the `encrypt_data` / `decrypt_data`
//! of the FlareTrade `Vtpm`.
//!
//! A TPM seals at most 128 bytes, so data is not sealed directly. Each call
//! draws a fresh 32-byte data key (OS entropy XOR TPM `GetRandom`, so neither
//! source alone decides it), seals that key under the SRK exactly as the
//! wallet key is sealed (salted session, parameter encryption), and encrypts
//! the data with keys derived from it: AES-256-CFB, then HMAC-SHA-256 over
//! the whole blob (encrypt-then-MAC). Opening the blob needs the same TPM to
//! unseal the data key; the tag is checked in constant time before a single
//! byte is decrypted.
//!
//! # Format (all integers big-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `FLWDATA\0` |
//! | 8 | 2 | version (1) |
//! | 10 | 2 + n | SRK Name, length-prefixed |
//! | | 2 + n | sealed data key `TPM2B_PUBLIC`, length-prefixed |
//! | | 2 + n | sealed data key `TPM2B_PRIVATE`, length-prefixed |
//! | | 16 | AES-CFB IV |
//! | | 4 + n | ciphertext, length-prefixed |
//! | end - 32 | 32 | HMAC-SHA-256 of every byte before it |

use core::fmt;
use std::vec::Vec;

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::seal::{self, SealedObject};
use crate::tpm::{Name, ParameterEncryption, Tpm, Transport};
use crate::{Error, Result};

/// The first eight bytes of every sealed-data blob.
pub const MAGIC: [u8; 8] = *b"FLWDATA\0";
/// The format version this code writes and reads.
pub const VERSION: u16 = 1;
/// The AES-CFB IV length.
pub const IV_LEN: usize = 16;
/// The HMAC-SHA-256 tag length.
pub const TAG_LEN: usize = 32;
/// The most data one blob may hold (16 MiB).
pub const MAX_DATA_LEN: usize = 1 << 24;
/// Bound on each sealed-object field (`TPM2B_PUBLIC`, `TPM2B_PRIVATE`).
pub const MAX_OBJECT_LEN: usize = 1024;
/// Bound on the SRK Name field.
pub const MAX_NAME_LEN: usize = 66;

/// The data key length: the key every blob's encryption and MAC keys derive from.
pub const DATA_KEY_LEN: usize = 32;
const ENCRYPTION_LABEL: &[u8] = b"flare-wallet/sealed-data/v1/encryption";
const AUTHENTICATION_LABEL: &[u8] = b"flare-wallet/sealed-data/v1/authentication";

type Aes256CfbEnc = cfb_mode::Encryptor<aes::Aes256>;
type Aes256CfbDec = cfb_mode::Decryptor<aes::Aes256>;

/// Why a sealed-data blob could not be made or opened. No variant carries data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealedDataError {
    /// The blob does not start with [`MAGIC`].
    BadMagic,
    /// The blob has a version this code does not read.
    UnsupportedVersion,
    /// The blob ends before a field it announces.
    Truncated,
    /// A length field is over its bound.
    LengthOutOfBounds,
    /// Bytes follow the tag.
    TrailingBytes,
    /// The tag does not verify: the blob was altered, or is not for this TPM's key.
    AuthenticationFailed,
    /// The data is larger than [`MAX_DATA_LEN`].
    TooLarge,
    /// The operating system's entropy source failed.
    Entropy,
}

impl fmt::Display for SealedDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadMagic => "not data sealed by flare-wallet (bad magic)",
            Self::UnsupportedVersion => "sealed data has a version this build does not read",
            Self::Truncated => "sealed data is truncated",
            Self::LengthOutOfBounds => "sealed data has a length field out of bounds",
            Self::TrailingBytes => "sealed data has bytes after its tag",
            Self::AuthenticationFailed => {
                "sealed data does not authenticate: it was altered or damaged"
            }
            Self::TooLarge => "data to seal is larger than 16 MiB",
            Self::Entropy => "the operating system entropy source failed",
        })
    }
}

impl std::error::Error for SealedDataError {}

fn derive(
    data_key: &[u8; DATA_KEY_LEN],
    label: &[u8],
) -> core::result::Result<Zeroizing<[u8; 32]>, SealedDataError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(data_key)
        .map_err(|_| SealedDataError::AuthenticationFailed)?;
    mac.update(label);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    Ok(out)
}

fn tag_of(
    mac_key: &[u8; 32],
    bytes: &[u8],
) -> core::result::Result<[u8; TAG_LEN], SealedDataError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(mac_key)
        .map_err(|_| SealedDataError::AuthenticationFailed)?;
    mac.update(bytes);
    Ok(mac.finalize().into_bytes().into())
}

fn put_prefixed(
    out: &mut Vec<u8>,
    field: &[u8],
    max: usize,
) -> core::result::Result<(), SealedDataError> {
    if field.is_empty() || field.len() > max {
        return Err(SealedDataError::LengthOutOfBounds);
    }
    let len = u16::try_from(field.len()).map_err(|_| SealedDataError::LengthOutOfBounds)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
    Ok(())
}

/// Writes a blob: `data` encrypted and authenticated with keys derived from
/// `data_key`, beside the sealed data key's parts and the SRK Name. This is
/// the half of [`seal_data`] after the TPM has sealed the data key; it is
/// public so that the format can be tested and fuzzed without a TPM.
/// `data_key` and `iv` must be fresh for every blob.
///
/// # Errors
/// [`SealedDataError::TooLarge`] for data over [`MAX_DATA_LEN`],
/// [`SealedDataError::LengthOutOfBounds`] for an empty field or one over its
/// bound ([`MAX_NAME_LEN`], [`MAX_OBJECT_LEN`]): nothing is written that
/// [`SealedDataBlob::parse`] would refuse.
pub fn encrypt_with_data_key(
    data_key: &[u8; DATA_KEY_LEN],
    iv: &[u8; IV_LEN],
    srk_name: &[u8],
    public_blob: &[u8],
    private_blob: &[u8],
    data: &[u8],
) -> core::result::Result<Vec<u8>, SealedDataError> {
    if data.len() > MAX_DATA_LEN {
        return Err(SealedDataError::TooLarge);
    }
    let encryption_key = derive(data_key, ENCRYPTION_LABEL)?;
    let mac_key = derive(data_key, AUTHENTICATION_LABEL)?;
    let mut ciphertext = data.to_vec();
    Aes256CfbEnc::new(encryption_key.as_ref().into(), iv.into()).encrypt(&mut ciphertext);
    let ciphertext_len = u32::try_from(ciphertext.len()).map_err(|_| SealedDataError::TooLarge)?;

    let mut out = Vec::with_capacity(ciphertext.len() + 1024);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    put_prefixed(&mut out, srk_name, MAX_NAME_LEN)?;
    put_prefixed(&mut out, public_blob, MAX_OBJECT_LEN)?;
    put_prefixed(&mut out, private_blob, MAX_OBJECT_LEN)?;
    out.extend_from_slice(iv);
    out.extend_from_slice(&ciphertext_len.to_be_bytes());
    out.extend_from_slice(&ciphertext);
    let tag = tag_of(&mac_key, &out)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Seals `data` to this TPM: a fresh data key sealed under the SRK (whose
/// Name must be `srk_name`), and `data` encrypted and authenticated with it.
///
/// # Errors
/// [`SealedDataError::TooLarge`], [`SealedDataError::Entropy`], and the TPM
/// and seal errors of sealing the data key ([`crate::seal::SealError::SrkNameMismatch`]
/// when this is not the TPM `srk_name` names).
pub fn seal_data<T: Transport>(
    tpm: &mut Tpm<T>,
    srk_name: &Name,
    data: &[u8],
    encryption: ParameterEncryption,
) -> Result<Vec<u8>> {
    if data.len() > MAX_DATA_LEN {
        return Err(Error::SealedData(SealedDataError::TooLarge));
    }
    let mut data_key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    getrandom::getrandom(&mut data_key[..])
        .map_err(|_| Error::SealedData(SealedDataError::Entropy))?;
    let mut tpm_random = Zeroizing::new([0u8; DATA_KEY_LEN]);
    tpm.get_random(&mut tpm_random[..])?;
    for (byte, other) in data_key.iter_mut().zip(tpm_random.iter()) {
        *byte ^= other;
    }
    let mut iv = [0u8; IV_LEN];
    getrandom::getrandom(&mut iv).map_err(|_| Error::SealedData(SealedDataError::Entropy))?;

    let sealed = seal::seal_secret(tpm, Some(srk_name), &data_key, None, encryption)?;
    encrypt_with_data_key(
        &data_key,
        &iv,
        sealed.srk_name().as_bytes(),
        sealed.public_blob(),
        sealed.private_blob(),
        data,
    )
    .map_err(Error::SealedData)
}

/// A sealed-data blob split into its fields, borrowed from it. Parsing
/// checks the format only: the tag is checked by [`SealedDataBlob::open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedDataBlob<'a> {
    srk_name: &'a [u8],
    public: &'a [u8],
    private: &'a [u8],
    iv: &'a [u8; IV_LEN],
    ciphertext: &'a [u8],
    authenticated: &'a [u8],
    tag: &'a [u8; TAG_LEN],
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> core::result::Result<&'a [u8], SealedDataError> {
        if self.rest.len() < n {
            return Err(SealedDataError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> core::result::Result<&'a [u8; N], SealedDataError> {
        self.take(N)?
            .try_into()
            .map_err(|_| SealedDataError::Truncated)
    }

    fn prefixed(&mut self, max: usize) -> core::result::Result<&'a [u8], SealedDataError> {
        let len = usize::from(u16::from_be_bytes(*self.array::<2>()?));
        if len == 0 || len > max {
            return Err(SealedDataError::LengthOutOfBounds);
        }
        self.take(len)
    }
}

impl<'a> SealedDataBlob<'a> {
    /// Splits a blob into its fields, checking every bound. No TPM is touched.
    ///
    /// # Errors
    /// [`SealedDataError::BadMagic`], [`SealedDataError::UnsupportedVersion`],
    /// [`SealedDataError::Truncated`], [`SealedDataError::LengthOutOfBounds`]
    /// (an empty field or one over its bound) and
    /// [`SealedDataError::TrailingBytes`].
    pub fn parse(blob: &'a [u8]) -> core::result::Result<Self, SealedDataError> {
        let mut reader = Reader { rest: blob };
        if reader.array::<8>()? != &MAGIC {
            return Err(SealedDataError::BadMagic);
        }
        if u16::from_be_bytes(*reader.array::<2>()?) != VERSION {
            return Err(SealedDataError::UnsupportedVersion);
        }
        let srk_name = reader.prefixed(MAX_NAME_LEN)?;
        let public = reader.prefixed(MAX_OBJECT_LEN)?;
        let private = reader.prefixed(MAX_OBJECT_LEN)?;
        let iv = reader.array::<IV_LEN>()?;
        let ciphertext_len = usize::try_from(u32::from_be_bytes(*reader.array::<4>()?))
            .map_err(|_| SealedDataError::LengthOutOfBounds)?;
        if ciphertext_len > MAX_DATA_LEN {
            return Err(SealedDataError::LengthOutOfBounds);
        }
        let ciphertext = reader.take(ciphertext_len)?;
        let authenticated_len = blob.len() - reader.rest.len();
        let tag = reader.array::<TAG_LEN>()?;
        if !reader.rest.is_empty() {
            return Err(SealedDataError::TrailingBytes);
        }
        Ok(Self {
            srk_name,
            public,
            private,
            iv,
            ciphertext,
            authenticated: blob.get(..authenticated_len).unwrap_or_default(),
            tag,
        })
    }

    /// The Name of the SRK the data key is sealed under, as recorded.
    #[must_use]
    pub fn srk_name(&self) -> &'a [u8] {
        self.srk_name
    }

    /// The sealed data key's `TPM2B_PUBLIC`.
    #[must_use]
    pub fn public_blob(&self) -> &'a [u8] {
        self.public
    }

    /// The sealed data key's `TPM2B_PRIVATE`.
    #[must_use]
    pub fn private_blob(&self) -> &'a [u8] {
        self.private
    }

    /// The AES-CFB IV.
    #[must_use]
    pub fn iv(&self) -> &'a [u8; IV_LEN] {
        self.iv
    }

    /// The encrypted data.
    #[must_use]
    pub fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }

    /// The HMAC-SHA-256 tag over every byte before it.
    #[must_use]
    pub fn tag(&self) -> &'a [u8; TAG_LEN] {
        self.tag
    }

    /// Verifies the tag with keys derived from `data_key` (in constant
    /// time) and only then decrypts. This is the half of [`unseal_data`]
    /// after the TPM has unsealed the data key; it is public so that the
    /// format can be tested and fuzzed without a TPM.
    ///
    /// # Errors
    /// [`SealedDataError::AuthenticationFailed`] when the tag does not verify.
    pub fn open(
        &self,
        data_key: &[u8; DATA_KEY_LEN],
    ) -> core::result::Result<Zeroizing<Vec<u8>>, SealedDataError> {
        let mac_key = derive(data_key, AUTHENTICATION_LABEL)?;
        let expected = tag_of(&mac_key, self.authenticated)?;
        if !bool::from(expected.ct_eq(self.tag)) {
            return Err(SealedDataError::AuthenticationFailed);
        }
        let encryption_key = derive(data_key, ENCRYPTION_LABEL)?;
        let mut plaintext = Zeroizing::new(self.ciphertext.to_vec());
        Aes256CfbDec::new(encryption_key.as_ref().into(), self.iv.into()).decrypt(&mut plaintext);
        Ok(plaintext)
    }
}

/// Opens a blob made by [`seal_data`] on this TPM.
///
/// The blob's format is checked first, then its SRK Name against
/// `srk_name` (nothing is sent to the TPM for another TPM's blob), then the
/// data key is unsealed and the tag verified before decryption.
///
/// # Errors
/// The [`SealedDataError`] of a malformed or altered blob,
/// [`crate::seal::SealError::SrkNameMismatch`] for another TPM's blob, and
/// the TPM and seal errors of unsealing.
pub fn unseal_data<T: Transport>(
    tpm: &mut Tpm<T>,
    srk_name: &Name,
    blob: &[u8],
    encryption: ParameterEncryption,
) -> Result<Zeroizing<Vec<u8>>> {
    let parts = SealedDataBlob::parse(blob).map_err(Error::SealedData)?;
    let recorded = Name::from_bytes(parts.srk_name)
        .ok_or(Error::SealedData(SealedDataError::LengthOutOfBounds))?;
    if !bool::from(recorded.as_bytes().ct_eq(srk_name.as_bytes())) {
        return Err(Error::Seal(seal::SealError::SrkNameMismatch));
    }
    let sealed = SealedObject::from_parts(parts.public, parts.private, recorded, None, None)?;
    let data_key = seal::unseal_secret(tpm, srk_name, &sealed, encryption)?;
    parts.open(&data_key).map_err(Error::SealedData)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_blob() -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        for field in [&[7u8; 34][..], &[1u8; 60][..], &[2u8; 80][..]] {
            out.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
            out.extend_from_slice(field);
        }
        out.extend_from_slice(&[3u8; IV_LEN]);
        out.extend_from_slice(&5u32.to_be_bytes());
        out.extend_from_slice(b"hello");
        out.extend_from_slice(&[9u8; TAG_LEN]);
        out
    }

    #[test]
    fn parse_reads_every_field() {
        let blob = sample_blob();
        let parts = SealedDataBlob::parse(&blob).unwrap();
        assert_eq!(parts.srk_name, &[7u8; 34]);
        assert_eq!(parts.public.len(), 60);
        assert_eq!(parts.private.len(), 80);
        assert_eq!(parts.ciphertext, b"hello");
        assert_eq!(parts.authenticated.len(), blob.len() - TAG_LEN);
        assert_eq!(parts.tag, &[9u8; TAG_LEN]);
    }

    #[test]
    fn every_truncation_is_refused_without_panicking() {
        let blob = sample_blob();
        for len in 0..blob.len() {
            assert!(SealedDataBlob::parse(&blob[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn malformed_headers_have_their_own_errors() {
        let mut blob = sample_blob();
        blob[0] ^= 1;
        assert_eq!(
            SealedDataBlob::parse(&blob).err(),
            Some(SealedDataError::BadMagic)
        );
        let mut blob = sample_blob();
        blob[9] = 2;
        assert_eq!(
            SealedDataBlob::parse(&blob).err(),
            Some(SealedDataError::UnsupportedVersion)
        );
        let mut blob = sample_blob();
        blob.push(0);
        assert_eq!(
            SealedDataBlob::parse(&blob).err(),
            Some(SealedDataError::TrailingBytes)
        );
        let mut blob = sample_blob();
        blob[10..12].copy_from_slice(&100u16.to_be_bytes());
        assert_eq!(
            SealedDataBlob::parse(&blob).err(),
            Some(SealedDataError::LengthOutOfBounds)
        );
    }

    #[test]
    fn the_tpm_free_halves_round_trip_and_refuse_another_key() {
        let key = [0x5cu8; DATA_KEY_LEN];
        let iv = [0x17u8; IV_LEN];
        let blob =
            encrypt_with_data_key(&key, &iv, &[7u8; 34], &[1u8; 60], &[2u8; 80], b"hello").unwrap();
        let parts = SealedDataBlob::parse(&blob).unwrap();
        assert_eq!(parts.iv(), &iv);
        assert_eq!(parts.ciphertext().len(), 5);
        assert_eq!(&parts.open(&key).unwrap()[..], b"hello");
        assert_eq!(
            parts.open(&[0x5du8; DATA_KEY_LEN]).err(),
            Some(SealedDataError::AuthenticationFailed)
        );
        assert_eq!(
            encrypt_with_data_key(&key, &iv, &[], &[1u8; 60], &[2u8; 80], b"").err(),
            Some(SealedDataError::LengthOutOfBounds)
        );
    }
}
