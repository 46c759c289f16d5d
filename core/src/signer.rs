//! secp256k1 keys, Ethereum addresses and recoverable signatures.
//!
//! Signing is RFC 6979 deterministic ECDSA over a 32-byte hash, normalised to
//! low `s` (EIP-2) with the recovery parity flipped to match, which is what
//! every Ethereum client and library produces. The scalar arithmetic is
//! k256's constant-time implementation; nothing here branches on the secret.

use core::fmt;

use k256::ecdsa::{RecoveryId, VerifyingKey};
use k256::elliptic_curve::ff::PrimeField as _;
use k256::elliptic_curve::scalar::IsHigh as _;
use k256::elliptic_curve::sec1::ToSec1Point as _;
use k256::{FieldBytes, NonZeroScalar, Secp256k1};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::keccak::{keccak256, Keccak256};

/// What went wrong with a key, a signature or an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignerError {
    /// The secret key bytes are zero or not below the curve order n.
    InvalidSecretKey,
    /// A secret key must be exactly 32 bytes.
    InvalidSecretKeyLength,
    /// The bytes are not a SEC1-encoded point on secp256k1.
    InvalidPublicKey,
    /// `r` or `s` is zero or not below the curve order n.
    SignatureScalarOutOfRange,
    /// `s` is above n/2; EIP-2 allows only the low form.
    HighS,
    /// The `v` byte of a 65-byte signature is not 0, 1, 27 or 28.
    InvalidRecoveryByte,
    /// No public key can be recovered from this signature and hash.
    RecoveryFailed,
    /// The signature could not be produced in a form Ethereum can carry.
    SigningFailed,
    /// An address must be 40 hex digits, optionally after `0x`.
    InvalidAddressLength,
    /// An address contains a character that is not a hex digit.
    InvalidAddressHex,
    /// A mixed-case address does not match its EIP-55 checksum.
    InvalidAddressChecksum,
}

impl fmt::Display for SignerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidSecretKey => "secret key is zero or not below the secp256k1 order",
            Self::InvalidSecretKeyLength => "secret key must be exactly 32 bytes",
            Self::InvalidPublicKey => "public key is not a valid SEC1 secp256k1 point",
            Self::SignatureScalarOutOfRange => {
                "signature r or s is zero or not below the secp256k1 order"
            }
            Self::HighS => "signature s is above n/2 (EIP-2 requires low s)",
            Self::InvalidRecoveryByte => "signature v must be 0, 1, 27 or 28",
            Self::RecoveryFailed => "no public key can be recovered from this signature",
            Self::SigningFailed => "signing failed",
            Self::InvalidAddressLength => "address must be 40 hex digits, optionally after 0x",
            Self::InvalidAddressHex => "address contains a non-hex character",
            Self::InvalidAddressChecksum => "mixed-case address fails its EIP-55 checksum",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SignerError {}

/// A secp256k1 secret key.
///
/// The scalar is wiped when the key is dropped, `Debug` prints nothing of it,
/// there is no `Display` and no `Clone`, and equality runs in constant time.
pub struct SecretKey {
    scalar: NonZeroScalar,
}

impl SecretKey {
    /// The key whose big-endian scalar is `bytes`.
    ///
    /// # Errors
    /// [`SignerError::InvalidSecretKey`] if the scalar is zero or not below
    /// the curve order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, SignerError> {
        let mut repr = FieldBytes::from(*bytes);
        let scalar = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(repr));
        repr.as_mut_slice().zeroize();
        scalar
            .map(|scalar| Self { scalar })
            .ok_or(SignerError::InvalidSecretKey)
    }

    /// The key whose big-endian scalar is `bytes`, which must be 32 bytes long.
    ///
    /// # Errors
    /// [`SignerError::InvalidSecretKeyLength`] for any other length, then as
    /// [`SecretKey::from_bytes`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SignerError> {
        let bytes: &[u8; 32] = bytes
            .try_into()
            .map_err(|_| SignerError::InvalidSecretKeyLength)?;
        Self::from_bytes(bytes)
    }

    /// A fresh key drawn from `rng` (uniform over `[1, n)` by rejection sampling).
    pub fn random(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        // k256 takes a newer rand_core than ours, so the rejection sampling
        // is done here: a 32-byte draw is out of range with probability
        // about 2^-128, so this loop all but never repeats.
        let mut candidate = Zeroizing::new([0u8; 32]);
        loop {
            rng.fill_bytes(&mut candidate[..]);
            if let Ok(key) = Self::from_bytes(&candidate) {
                return key;
            }
        }
    }

    /// The 32 big-endian bytes of the scalar.
    ///
    /// **Danger:** this is the key itself. It exists so the key can be sealed
    /// (by a TPM or into an encrypted keystore); the returned buffer is wiped
    /// on drop, but any copy the caller makes of it is not. Never log, print,
    /// send or store these bytes in clear.
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut repr = self.scalar.to_repr();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&repr);
        repr.as_mut_slice().zeroize();
        out
    }

    /// The public key `d·G`.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey(k256::PublicKey::from_secret_scalar(&self.scalar))
    }

    /// The Ethereum address of this key.
    #[must_use]
    pub fn address(&self) -> Address {
        self.public_key().address()
    }

    /// Signs a 32-byte hash: RFC 6979 nonce (HMAC-SHA-256), low `s`, and the
    /// parity of `R.y` adjusted for the `s` normalisation.
    ///
    /// # Errors
    /// [`SignerError::SigningFailed`] in the case (about 2^-127 likely) that
    /// `R.x` is not below n, which Ethereum's one-bit recovery id cannot
    /// express.
    pub fn sign_hash(&self, hash: &[u8; 32]) -> Result<Signature, SignerError> {
        // Secp256k1 has `NORMALIZE_S`, so this already returns the low `s`
        // with the recovery parity flipped to match.
        let (signature, recovery_id) = ecdsa::hazmat::sign_prehashed_rfc6979::<
            Secp256k1,
            k256::sha2::Sha256,
        >(&self.scalar, hash, &[]);
        if recovery_id.is_x_reduced() {
            return Err(SignerError::SigningFailed);
        }
        let (r, s) = signature.split_bytes();
        Ok(Signature {
            r: r.into(),
            s: s.into(),
            y_parity: recovery_id.is_y_odd(),
        })
    }

    /// Signs `message` the way `personal_sign` does: [`eip191_hash`] then
    /// [`SecretKey::sign_hash`].
    ///
    /// # Errors
    /// As [`SecretKey::sign_hash`].
    pub fn sign_message(&self, message: &[u8]) -> Result<Signature, SignerError> {
        self.sign_hash(&eip191_hash(message))
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.scalar.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.scalar.as_ref().ct_eq(other.scalar.as_ref())
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SecretKey {}

/// A secp256k1 public key (a point other than infinity).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(k256::PublicKey);

impl PublicKey {
    /// Parses a SEC1 point: 33 bytes compressed or 65 bytes uncompressed.
    ///
    /// # Errors
    /// [`SignerError::InvalidPublicKey`] if the bytes are not a point on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, SignerError> {
        k256::PublicKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| SignerError::InvalidPublicKey)
    }

    /// `0x04 || x || y`.
    #[must_use]
    pub fn to_uncompressed(&self) -> [u8; 65] {
        self.0.to_uncompressed_point().into()
    }

    /// `0x02`/`0x03 || x`.
    #[must_use]
    pub fn to_compressed(&self) -> [u8; 33] {
        self.0.to_compressed_point().into()
    }

    /// The address: the last 20 bytes of `keccak256(x || y)`.
    #[must_use]
    pub fn address(&self) -> Address {
        let uncompressed = self.to_uncompressed();
        let digest = keccak256(&uncompressed[1..]);
        let mut address = [0u8; 20];
        address.copy_from_slice(&digest[12..]);
        Address(address)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublicKey(0x")?;
        for byte in self.to_compressed() {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

/// A 20-byte Ethereum address.
///
/// `Display` and `Debug` print the EIP-55 checksummed form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The all-zero address.
    pub const ZERO: Self = Self([0u8; 20]);

    /// The EIP-55 mixed-case checksum form, `0x` included (always 42 characters).
    #[must_use]
    pub fn checksum(&self) -> heapless::String<42> {
        let mut lower = [0u8; 40];
        for (pair, byte) in lower.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX_LOWER[usize::from(byte >> 4)];
            pair[1] = HEX_LOWER[usize::from(byte & 0x0f)];
        }
        let hash = keccak256(&lower);
        let mut out = heapless::String::new();
        // 42 ASCII characters always fit in a String<42>.
        let _ = out.push_str("0x");
        for (i, &c) in lower.iter().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            let c = if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            };
            let _ = out.push(char::from(c));
        }
        out
    }

    /// Parses 40 hex digits, with or without `0x`.
    ///
    /// All-lowercase and all-uppercase inputs are accepted as they are; an
    /// input that mixes cases must be a valid EIP-55 checksum.
    ///
    /// # Errors
    /// [`SignerError::InvalidAddressLength`], [`SignerError::InvalidAddressHex`]
    /// or [`SignerError::InvalidAddressChecksum`].
    pub fn parse_hex(text: &str) -> Result<Self, SignerError> {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text)
            .as_bytes();
        if digits.len() != 40 {
            return Err(SignerError::InvalidAddressLength);
        }
        let mut address = [0u8; 20];
        for (byte, pair) in address.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or(SignerError::InvalidAddressHex)?;
            let low = hex_value(pair[1]).ok_or(SignerError::InvalidAddressHex)?;
            *byte = (high << 4) | low;
        }
        let address = Self(address);
        let has_lower = digits.iter().any(u8::is_ascii_lowercase);
        let has_upper = digits.iter().any(u8::is_ascii_uppercase);
        if has_lower && has_upper && address.checksum().as_bytes()[2..] != *digits {
            return Err(SignerError::InvalidAddressChecksum);
        }
        Ok(address)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksum())
    }
}

impl From<[u8; 20]> for Address {
    fn from(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A recoverable ECDSA signature as Ethereum carries it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature {
    /// `R.x mod n`, big-endian.
    pub r: [u8; 32],
    /// The low-s value, big-endian.
    pub s: [u8; 32],
    /// Whether `R.y` is odd (the recovery id).
    pub y_parity: bool,
}

impl Signature {
    /// `r || s || v` with `v = 27 + y_parity`, as `personal_sign` returns it.
    #[must_use]
    pub fn to_rsv_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&self.r);
        out[32..64].copy_from_slice(&self.s);
        out[64] = 27 + u8::from(self.y_parity);
        out
    }

    /// Parses `r || s || v`, where `v` is 0, 1, 27 or 28.
    ///
    /// The scalars are not range-checked here; [`recover_address`] does that.
    ///
    /// # Errors
    /// [`SignerError::InvalidRecoveryByte`] for any other `v`.
    pub fn from_rsv_bytes(bytes: &[u8; 65]) -> Result<Self, SignerError> {
        let y_parity = match bytes[64] {
            0 | 27 => false,
            1 | 28 => true,
            _ => return Err(SignerError::InvalidRecoveryByte),
        };
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..64]);
        Ok(Self { r, s, y_parity })
    }

    /// Checks that `r` and `s` lie in `[1, n)` and that `s` is at most n/2.
    ///
    /// # Errors
    /// [`SignerError::SignatureScalarOutOfRange`] or [`SignerError::HighS`].
    pub fn check_scalars(&self) -> Result<(), SignerError> {
        self.scalars().map(|_| ())
    }

    fn scalars(&self) -> Result<(NonZeroScalar, NonZeroScalar), SignerError> {
        let r = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(self.r.into()))
            .ok_or(SignerError::SignatureScalarOutOfRange)?;
        let s = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(self.s.into()))
            .ok_or(SignerError::SignatureScalarOutOfRange)?;
        if bool::from(s.as_ref().is_high()) {
            return Err(SignerError::HighS);
        }
        Ok((r, s))
    }
}

/// The public key that produced `sig` over `hash`.
///
/// # Errors
/// [`SignerError::SignatureScalarOutOfRange`] if `r` or `s` is 0 or not below n,
/// [`SignerError::HighS`] if `s` > n/2, [`SignerError::RecoveryFailed`] if
/// `r` is not the x coordinate of a curve point.
pub fn recover_public_key(hash: &[u8; 32], sig: &Signature) -> Result<PublicKey, SignerError> {
    let (r, s) = sig.scalars()?;
    let signature = k256::ecdsa::Signature::from_scalars(r, s)
        .map_err(|_| SignerError::SignatureScalarOutOfRange)?;
    let recovery_id = RecoveryId::new(sig.y_parity, false);
    let key = VerifyingKey::recover_from_prehash(hash, &signature, recovery_id)
        .map_err(|_| SignerError::RecoveryFailed)?;
    Ok(PublicKey(k256::PublicKey::from(&key)))
}

/// The address that produced `sig` over `hash` (`ecrecover`).
///
/// # Errors
/// As [`recover_public_key`].
pub fn recover_address(hash: &[u8; 32], sig: &Signature) -> Result<Address, SignerError> {
    recover_public_key(hash, sig).map(|key| key.address())
}

/// The EIP-191 version `0x45` (`personal_sign`) digest:
/// `keccak256("\x19Ethereum Signed Message:\n" || decimal(len) || message)`.
#[must_use]
pub fn eip191_hash(message: &[u8]) -> [u8; 32] {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut len = message.len();
    loop {
        start -= 1;
        // `len % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (len % 10) as u8;
        len /= 10;
        if len == 0 {
            break;
        }
    }
    let mut hasher = Keccak256::new();
    hasher.update(b"\x19Ethereum Signed Message:\n");
    hasher.update(&digits[start..]);
    hasher.update(message);
    hasher.finalize()
}

/// The EIP-712 digest `keccak256(0x19 0x01 || domainSeparator || hashStruct(message))`.
#[must_use]
pub fn eip712_hash(domain_separator: &[u8; 32], struct_hash: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(&[0x19, 0x01]);
    hasher.update(domain_separator);
    hasher.update(struct_hash);
    hasher.finalize()
}
