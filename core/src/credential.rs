//! Credential protection for the verifier: `MakeCredential` without a TPM
//! (TPM 2.0 Library Part 1, section 24 "Credential Protection").
//!
//! A verifier that holds an endorsement key's public area (from a verified EK
//! certificate) and the Name of an attestation key wraps a short secret so
//! that only the TPM holding that EK's private key, with an object of that
//! Name loaded, can recover it with `TPM2_ActivateCredential`:
//!
//! 1. a random `seed` (32 bytes, the size of the EK's SHA-256 nameAlg) is
//!    protected to the EK: RSA-OAEP (SHA-256, label `"IDENTITY\0"`) for an RSA
//!    EK, or for an ECC EK an ephemeral P-256 key with
//!    `seed = KDFe(SHA-256, x(d_e·Q_ek), "IDENTITY", x(Q_e), x(Q_ek), 256)`
//!    (Part 1, 11.4.10.3; Part 1, C.6.4);
//! 2. `symKey = KDFa(SHA-256, seed, "STORAGE", Name(AK), "", 128)`;
//!    `encIdentity = AES-128-CFB(symKey, IV = 0, TPM2B_DIGEST(credential))`;
//! 3. `HMACkey = KDFa(SHA-256, seed, "INTEGRITY", "", "", 256)`;
//!    `outerHMAC = HMAC-SHA-256(HMACkey, encIdentity || Name(AK))`;
//! 4. `TPM2B_ID_OBJECT = TPM2B_DIGEST(outerHMAC) || encIdentity`.
//!
//! Everything here is `no_std` and allocation free, so a C or Rust verifier
//! without an allocator can run it. The RSA public operation uses
//! `crypto-bigint` (fixed-size, constant time); OAEP encoding follows
//! RFC 8017, 7.1.1.

use core::fmt;

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Encoding, U2048};
use heapless::Vec;
use hmac::Mac;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, PublicKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::tpm::kdf;

/// Length of a credential secret: the digest size of the EK's SHA-256 nameAlg.
pub const CREDENTIAL_LEN: usize = 32;
/// Length of the seed protected to the EK (SHA-256 digest size).
const SEED_LEN: usize = 32;
/// Length of an RSA 2048 modulus and ciphertext.
pub const RSA_2048_LEN: usize = 256;
/// Longest `TPM2B_ID_OBJECT` contents: the outer HMAC as a `TPM2B_DIGEST`
/// and the encrypted `TPM2B_DIGEST` of a credential.
pub const MAX_ID_OBJECT_LEN: usize = 2 + 32 + 2 + CREDENTIAL_LEN;
/// Longest `TPM2B_ENCRYPTED_SECRET` contents (an RSA 2048 ciphertext).
pub const MAX_ENCRYPTED_SECRET_LEN: usize = RSA_2048_LEN;
/// The label of the seed, `"IDENTITY"` with the terminating zero octet the
/// TPM includes for OAEP.
const IDENTITY_LABEL: &[u8] = b"IDENTITY\0";

const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_AES: u16 = 0x0006;
const TPM_ALG_SHA256: u16 = 0x000b;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ALG_CFB: u16 = 0x0043;
const TPM_ECC_NIST_P256: u16 = 0x0003;

/// `TPMA_OBJECT` bits of a key credentials can be protected to (Part 2, 8.3):
/// fixedTPM, fixedParent, restricted and decrypt.
const STORAGE_REQUIRED: u32 = (1 << 1) | (1 << 4) | (1 << 16) | (1 << 17);
/// `TPMA_OBJECT.sign`: a storage key must not sign.
const SIGN: u32 = 1 << 18;

type Aes128CfbEnc = cfb_mode::Encryptor<aes::Aes128>;

/// Why a credential could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The EK public area is not a well-formed `TPMT_PUBLIC`.
    EkPublicMalformed,
    /// The EK is neither RSA 2048 nor ECC NIST P-256.
    EkAlgorithmUnsupported,
    /// The EK's nameAlg is not SHA-256.
    EkNameAlgUnsupported,
    /// The EK is not a restricted decryption key that stays in its TPM.
    EkAttributes,
    /// The EK's symmetric algorithm is not AES-128-CFB, or it has a scheme.
    EkParameters,
    /// The EK's public key is invalid (an even or short modulus, a point off the curve).
    EkKeyInvalid,
    /// The object Name is not a SHA-256 Name (34 bytes starting `0x000B`).
    ObjectNameInvalid,
    /// The credential is empty or longer than [`CREDENTIAL_LEN`].
    CredentialLength,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EkPublicMalformed => "the EK public area is not a well-formed TPMT_PUBLIC",
            Self::EkAlgorithmUnsupported => {
                "the EK is neither RSA 2048 nor ECC NIST P-256: no credential can be made for it"
            }
            Self::EkNameAlgUnsupported => "the EK nameAlg is not SHA-256",
            Self::EkAttributes => {
                "the EK is not a fixedTPM, fixedParent, restricted decryption key"
            }
            Self::EkParameters => {
                "the EK symmetric definition is not AES-128-CFB or it carries a scheme"
            }
            Self::EkKeyInvalid => "the EK public key is invalid",
            Self::ObjectNameInvalid => "the object Name is not a SHA-256 Name (34 bytes)",
            Self::CredentialLength => "a credential is 1 to 32 bytes",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CredentialError {}

/// A credential secret: what the verifier wraps and the TPM gives back.
/// Wiped on drop, compared in constant time, never printed.
#[derive(Clone)]
pub struct CredentialSecret([u8; CREDENTIAL_LEN]);

impl CredentialSecret {
    /// Wraps 32 bytes.
    #[must_use]
    pub const fn new(bytes: [u8; CREDENTIAL_LEN]) -> Self {
        Self(bytes)
    }

    /// Draws a fresh secret.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; CREDENTIAL_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; CREDENTIAL_LEN] {
        &self.0
    }

    /// Constant-time comparison with what a TPM returned.
    #[must_use]
    pub fn matches(&self, returned: &[u8]) -> bool {
        returned.len() == CREDENTIAL_LEN && bool::from(self.0.ct_eq(returned))
    }
}

impl fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialSecret(<redacted>)")
    }
}

impl Drop for CredentialSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// What `TPM2_ActivateCredential` takes: the contents (without their `u16`
/// size fields) of `TPM2B_ID_OBJECT` and `TPM2B_ENCRYPTED_SECRET`.
/// Holds no secret: only the TPM with the EK's private key can open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialBlob {
    /// `TPM2B_ID_OBJECT` contents: outer HMAC and encrypted identity.
    pub id_object: Vec<u8, MAX_ID_OBJECT_LEN>,
    /// `TPM2B_ENCRYPTED_SECRET` contents: the seed protected to the EK.
    pub encrypted_secret: Vec<u8, MAX_ENCRYPTED_SECRET_LEN>,
}

/// The public key of an endorsement key (or any storage key) parsed from its
/// `TPMT_PUBLIC`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EkPublicKey {
    /// RSA 2048: the modulus (big-endian, 256 bytes) and the public exponent.
    Rsa2048 {
        /// The modulus.
        modulus: [u8; RSA_2048_LEN],
        /// The public exponent (65537 when the area says 0).
        exponent: u32,
    },
    /// ECC NIST P-256: the public point.
    P256(PublicKey),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], CredentialError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(CredentialError::EkPublicMalformed)?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(CredentialError::EkPublicMalformed)?;
        self.pos = end;
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, CredentialError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, CredentialError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn tpm2b(&mut self) -> Result<&'a [u8], CredentialError> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }
}

fn left_pad<const N: usize>(bytes: &[u8]) -> Result<[u8; N], CredentialError> {
    let mut out = [0u8; N];
    let at = N
        .checked_sub(bytes.len())
        .ok_or(CredentialError::EkKeyInvalid)?;
    out.get_mut(at..)
        .ok_or(CredentialError::EkKeyInvalid)?
        .copy_from_slice(bytes);
    Ok(out)
}

impl EkPublicKey {
    /// Parses and checks a marshalled `TPMT_PUBLIC` (Part 2, 12.2.4): RSA
    /// 2048 or ECC P-256, SHA-256 nameAlg, a fixed restricted decryption key
    /// with AES-128-CFB and no scheme, exactly as the TCG default EK
    /// templates (L-1, L-2) make it.
    ///
    /// # Errors
    /// The [`CredentialError`] naming what is wrong.
    pub fn from_public_area(area: &[u8]) -> Result<Self, CredentialError> {
        let mut r = Reader {
            bytes: area,
            pos: 0,
        };
        let object_type = r.u16()?;
        if object_type != TPM_ALG_RSA && object_type != TPM_ALG_ECC {
            return Err(CredentialError::EkAlgorithmUnsupported);
        }
        if r.u16()? != TPM_ALG_SHA256 {
            return Err(CredentialError::EkNameAlgUnsupported);
        }
        let attributes = r.u32()?;
        if attributes & STORAGE_REQUIRED != STORAGE_REQUIRED || attributes & SIGN != 0 {
            return Err(CredentialError::EkAttributes);
        }
        let _auth_policy = r.tpm2b()?;
        if r.u16()? != TPM_ALG_AES || r.u16()? != 128 || r.u16()? != TPM_ALG_CFB {
            return Err(CredentialError::EkParameters);
        }
        if r.u16()? != TPM_ALG_NULL {
            return Err(CredentialError::EkParameters);
        }
        let key = if object_type == TPM_ALG_RSA {
            if r.u16()? != 2048 {
                return Err(CredentialError::EkAlgorithmUnsupported);
            }
            let exponent = match r.u32()? {
                0 => 65537,
                e => e,
            };
            let modulus = r.tpm2b()?;
            if modulus.len() != RSA_2048_LEN
                || modulus.first().is_none_or(|&b| b & 0x80 == 0)
                || modulus.last().is_none_or(|&b| b & 1 == 0)
                || exponent < 3
                || exponent & 1 == 0
            {
                return Err(CredentialError::EkKeyInvalid);
            }
            let mut bytes = [0u8; RSA_2048_LEN];
            bytes.copy_from_slice(modulus);
            Self::Rsa2048 {
                modulus: bytes,
                exponent,
            }
        } else {
            if r.u16()? != TPM_ECC_NIST_P256 {
                return Err(CredentialError::EkAlgorithmUnsupported);
            }
            if r.u16()? != TPM_ALG_NULL {
                return Err(CredentialError::EkParameters);
            }
            let x = left_pad::<32>(r.tpm2b()?)?;
            let y = left_pad::<32>(r.tpm2b()?)?;
            let point = EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
            let key = Option::<PublicKey>::from(PublicKey::from_encoded_point(&point))
                .ok_or(CredentialError::EkKeyInvalid)?;
            Self::P256(key)
        };
        if r.pos != area.len() {
            return Err(CredentialError::EkPublicMalformed);
        }
        Ok(key)
    }
}

/// MGF1 with SHA-256 (RFC 8017, B.2.1): XORs the mask of `seed` into `out`.
fn mgf1_xor(seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(32)) {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(counter.to_be_bytes());
        let mask = h.finalize();
        for (o, m) in chunk.iter_mut().zip(mask.iter()) {
            *o ^= m;
        }
    }
}

/// RSAES-OAEP-ENCRYPT (RFC 8017, 7.1.1) with SHA-256 and MGF1-SHA-256 of a
/// message of at most 190 bytes under a 2048-bit key.
fn rsa_oaep_encrypt(
    modulus: &[u8; RSA_2048_LEN],
    exponent: u32,
    message: &[u8],
    label: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<[u8; RSA_2048_LEN], CredentialError> {
    const H: usize = 32;
    let k = RSA_2048_LEN;
    if message.len() > k - 2 * H - 2 {
        return Err(CredentialError::CredentialLength);
    }
    // EM = 0x00 || maskedSeed (H) || maskedDB (k - H - 1).
    let mut em = Zeroizing::new([0u8; RSA_2048_LEN]);
    let (seed, db) = em[1..].split_at_mut(H);
    // DB = lHash || PS (zeros) || 0x01 || M.
    db[..H].copy_from_slice(&Sha256::digest(label));
    let one_at = db.len() - message.len() - 1;
    db[one_at] = 0x01;
    db[one_at + 1..].copy_from_slice(message);
    rng.fill_bytes(seed);
    mgf1_xor(seed, db);
    mgf1_xor(db, seed);

    // An odd modulus (`DynResidueParams::new` requires one) with its top bit
    // set (so the message below, which starts with a zero octet, is smaller).
    if modulus[0] & 0x80 == 0 || modulus[RSA_2048_LEN - 1] & 1 == 0 {
        return Err(CredentialError::EkKeyInvalid);
    }
    let n = U2048::from_be_slice(modulus);
    let params = DynResidueParams::new(&n);
    let m = U2048::from_be_slice(&em[..]);
    // EM starts with a zero octet and the modulus with a set top bit: m < n.
    let c = DynResidue::new(&m, params)
        .pow_bounded_exp(&crypto_bigint::U64::from_u32(exponent), 32)
        .retrieve();
    Ok(c.to_be_bytes())
}

/// Makes a credential for the object named `object_name` (a SHA-256 Name,
/// e.g. an attestation key's), protected to the EK whose `TPMT_PUBLIC` is
/// `ek_public_area`, as `TPM2_MakeCredential` would.
///
/// `credential` is 1 to 32 bytes; [`CredentialSecret`] holds the usual 32.
///
/// # Errors
/// The [`CredentialError`] of the EK check, the Name or the credential length.
pub fn make_credential(
    ek_public_area: &[u8],
    object_name: &[u8],
    credential: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<CredentialBlob, CredentialError> {
    let ek = EkPublicKey::from_public_area(ek_public_area)?;
    make_credential_for(&ek, object_name, credential, rng)
}

/// As [`make_credential`], for an already parsed EK key.
///
/// # Errors
/// As [`make_credential`].
pub fn make_credential_for(
    ek: &EkPublicKey,
    object_name: &[u8],
    credential: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<CredentialBlob, CredentialError> {
    if object_name.len() != 34 || object_name[..2] != TPM_ALG_SHA256.to_be_bytes() {
        return Err(CredentialError::ObjectNameInvalid);
    }
    if credential.is_empty() || credential.len() > CREDENTIAL_LEN {
        return Err(CredentialError::CredentialLength);
    }

    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    let mut encrypted_secret = Vec::<u8, MAX_ENCRYPTED_SECRET_LEN>::new();
    match ek {
        EkPublicKey::Rsa2048 { modulus, exponent } => {
            rng.fill_bytes(&mut seed[..]);
            let c = rsa_oaep_encrypt(modulus, *exponent, &seed[..], IDENTITY_LABEL, rng)?;
            encrypted_secret
                .extend_from_slice(&c)
                .map_err(|()| CredentialError::EkKeyInvalid)?;
        }
        EkPublicKey::P256(ek_point) => {
            let ephemeral = p256::ecdh::EphemeralSecret::random(rng);
            let qe = ephemeral.public_key().to_encoded_point(false);
            let qek = ek_point.to_encoded_point(false);
            let shared = ephemeral.diffie_hellman(ek_point);
            let (Some(qe_x), Some(qe_y), Some(qek_x)) = (qe.x(), qe.y(), qek.x()) else {
                return Err(CredentialError::EkKeyInvalid);
            };
            kdf::kdfe(
                shared.raw_secret_bytes(),
                b"IDENTITY",
                qe_x,
                qek_x,
                &mut seed[..],
            );
            // TPMS_ECC_POINT of the ephemeral key.
            for coordinate in [qe_x, qe_y] {
                encrypted_secret
                    .extend_from_slice(&32u16.to_be_bytes())
                    .and_then(|()| encrypted_secret.extend_from_slice(coordinate))
                    .map_err(|()| CredentialError::EkKeyInvalid)?;
            }
        }
    }

    // encIdentity: the credential as a TPM2B_DIGEST, AES-128-CFB with a zero IV.
    let mut sym_key = Zeroizing::new([0u8; 16]);
    kdf::kdfa(&seed[..], b"STORAGE", object_name, &[], &mut sym_key[..]);
    let mut enc_identity = Zeroizing::new([0u8; 2 + CREDENTIAL_LEN]);
    let identity_len = 2 + credential.len();
    let identity = &mut enc_identity[..identity_len];
    // credential.len() <= 32: the cast cannot truncate.
    identity[..2].copy_from_slice(&(credential.len() as u16).to_be_bytes());
    identity[2..].copy_from_slice(credential);
    Aes128CfbEnc::new(sym_key.as_ref().into(), &[0u8; 16].into()).encrypt(identity);

    let mut hmac_key = Zeroizing::new([0u8; 32]);
    kdf::kdfa(&seed[..], b"INTEGRITY", &[], &[], &mut hmac_key[..]);
    let mut mac = kdf::hmac_sha256(&hmac_key[..]);
    mac.update(&enc_identity[..identity_len]);
    mac.update(object_name);
    let outer_hmac = mac.finalize().into_bytes();

    let mut id_object = Vec::<u8, MAX_ID_OBJECT_LEN>::new();
    id_object
        .extend_from_slice(&32u16.to_be_bytes())
        .and_then(|()| id_object.extend_from_slice(&outer_hmac))
        .and_then(|()| id_object.extend_from_slice(&enc_identity[..identity_len]))
        .map_err(|()| CredentialError::CredentialLength)?;
    Ok(CredentialBlob {
        id_object,
        encrypted_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct CountingRng(u8);
    impl rand_core::RngCore for CountingRng {
        fn next_u32(&mut self) -> u32 {
            rand_core::impls::next_u32_via_fill(self)
        }
        fn next_u64(&mut self) -> u64 {
            rand_core::impls::next_u64_via_fill(self)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for CountingRng {}

    #[test]
    fn malformed_ek_areas_are_refused_without_panicking() {
        let mut rng = CountingRng(0);
        let name = [
            0x00, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
        ];
        for len in 0..64 {
            let area = [0x23u8; 64];
            assert!(make_credential(&area[..len], &name, &[1; 32], &mut rng).is_err());
        }
        assert_eq!(
            make_credential(&[0, 0x25, 0, 0x0b], &name, &[1; 32], &mut rng),
            Err(CredentialError::EkAlgorithmUnsupported)
        );
    }

    #[test]
    fn secret_debug_is_redacted_and_compare_is_exact() {
        let secret = CredentialSecret::new([7; 32]);
        assert_eq!(std::format!("{secret:?}"), "CredentialSecret(<redacted>)");
        assert!(secret.matches(&[7; 32]));
        assert!(!secret.matches(&[7; 31]));
        let mut other = [7u8; 32];
        other[31] = 8;
        assert!(!secret.matches(&other));
    }
}
