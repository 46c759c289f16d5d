//! A software stand-in for a TPM's endorsement key and attestation key, for
//! verifier tests that build quotes by hand (no TPM runs them).
//!
//! `SoftwareEkDouble` holds a P-256 EK private key in memory and performs
//! the TPM's half of credential activation in software (TPM 2.0 Library
//! Part 1, 24: seed by ECDH and KDFe, outer HMAC, AES-128-CFB). It lets a
//! test enroll a software AK through the public API exactly as a verifier
//! that skipped the EK certificate check would: what the chain checks
//! refuse is tested against it.
#![allow(dead_code)]

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use hmac::Mac;
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use rand::rngs::OsRng;
use wallet_core::attest::{wire, AkSignature, PcrSelection, PinnedAk};
use wallet_core::credential::CredentialBlob;
use wallet_core::enrollment::{activation_digest, ActivationChallenge, ActivationResponse};
use wallet_core::tpm::kdf;
use wallet_core::tpm::template::EK_AUTH_POLICY;

/// A TPMS_ATTEST (Part 2, 10.12.12) quote with `extra` as qualifying data
/// over PCRs 0-7 all zero.
pub fn quote_bytes(extra: &[u8]) -> Vec<u8> {
    let selection = PcrSelection::SHA256_0_TO_7;
    let digest = wallet_core::attest::pcr_digest(&[[0u8; 32]; 8]);
    let mut out = Vec::new();
    out.extend_from_slice(&wire::TPM_GENERATED_VALUE.to_be_bytes());
    out.extend_from_slice(&wire::TPM_ST_ATTEST_QUOTE.to_be_bytes());
    out.extend_from_slice(&[0, 4, 0x40, 0, 0, 1]);
    out.extend_from_slice(&u16::try_from(extra.len()).unwrap().to_be_bytes());
    out.extend_from_slice(extra);
    out.extend_from_slice(&1u64.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.push(1);
    out.extend_from_slice(&1u64.to_be_bytes());
    let mut tpml = [0u8; 16];
    let n = selection.marshal_tpml(&mut tpml).unwrap();
    out.extend_from_slice(&tpml[..n]);
    out.extend_from_slice(&32u16.to_be_bytes());
    out.extend_from_slice(&digest);
    out
}

/// ECDSA P-256 over SHA-256 of `attest` as an AK signature.
pub fn ak_sign(key: &p256::ecdsa::SigningKey, attest: &[u8]) -> AkSignature {
    let sig: p256::ecdsa::Signature = key.sign(attest);
    let (r, s) = sig.split_bytes();
    AkSignature {
        r: r.into(),
        s: s.into(),
    }
}

/// A P-256 endorsement key in software.
pub struct SoftwareEkDouble {
    secret: p256::SecretKey,
}

impl SoftwareEkDouble {
    pub fn new() -> Self {
        Self {
            secret: p256::SecretKey::random(&mut OsRng),
        }
    }

    pub fn public_key(&self) -> p256::PublicKey {
        self.secret.public_key()
    }

    /// The `TPMT_PUBLIC` of the TCG default EK template L-2 with this key.
    pub fn public_area(&self) -> Vec<u8> {
        let point = self.secret.public_key().to_encoded_point(false);
        let mut out = Vec::new();
        out.extend_from_slice(&0x0023u16.to_be_bytes()); // ECC
        out.extend_from_slice(&0x000bu16.to_be_bytes()); // SHA-256
        out.extend_from_slice(&0x0003_00b2u32.to_be_bytes()); // EK attributes
        out.extend_from_slice(&32u16.to_be_bytes());
        out.extend_from_slice(&EK_AUTH_POLICY);
        out.extend_from_slice(&0x0006u16.to_be_bytes()); // AES
        out.extend_from_slice(&128u16.to_be_bytes());
        out.extend_from_slice(&0x0043u16.to_be_bytes()); // CFB
        out.extend_from_slice(&0x0010u16.to_be_bytes()); // no scheme
        out.extend_from_slice(&0x0003u16.to_be_bytes()); // P-256
        out.extend_from_slice(&0x0010u16.to_be_bytes()); // no KDF
        out.extend_from_slice(&32u16.to_be_bytes());
        out.extend_from_slice(point.x().unwrap());
        out.extend_from_slice(&32u16.to_be_bytes());
        out.extend_from_slice(point.y().unwrap());
        out
    }

    /// The TPM's half of `TPM2_ActivateCredential`, in software. `None`
    /// when the outer HMAC does not verify.
    pub fn activate(&self, blob: &CredentialBlob, object_name: &[u8]) -> Option<Vec<u8>> {
        let secret = &blob.encrypted_secret;
        let x = &secret[2..34];
        let y = &secret[36..68];
        let qe = p256::PublicKey::from_encoded_point(&p256::EncodedPoint::from_affine_coordinates(
            x.into(),
            y.into(),
            false,
        ))
        .into_option()?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), qe.as_affine());
        let ek_point = self.secret.public_key().to_encoded_point(false);
        let mut seed = [0u8; 32];
        kdf::kdfe(
            shared.raw_secret_bytes(),
            b"IDENTITY",
            x,
            ek_point.x().unwrap(),
            &mut seed,
        );
        let id = &blob.id_object;
        let hmac_len = usize::from(u16::from_be_bytes([id[0], id[1]]));
        let (outer, enc_identity) = id[2..].split_at(hmac_len);
        let mut hmac_key = [0u8; 32];
        kdf::kdfa(&seed, b"INTEGRITY", &[], &[], &mut hmac_key);
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&hmac_key).unwrap();
        mac.update(enc_identity);
        mac.update(object_name);
        mac.verify_slice(outer).ok()?;
        let mut sym_key = [0u8; 16];
        kdf::kdfa(&seed, b"STORAGE", object_name, &[], &mut sym_key);
        let mut identity = enc_identity.to_vec();
        cfb_mode::Decryptor::<aes::Aes128>::new(&sym_key.into(), &[0u8; 16].into())
            .decrypt(&mut identity);
        let len = usize::from(u16::from_be_bytes([identity[0], identity[1]]));
        Some(identity[2..2 + len].to_vec())
    }

    /// Answers an activation challenge for the software AK `ak` whose
    /// `TPMT_PUBLIC` is `ak_public`, as the wallet's TPM would.
    pub fn answer(
        &self,
        blob: &CredentialBlob,
        ak: &p256::ecdsa::SigningKey,
        ak_public: &[u8],
    ) -> ActivationResponse {
        let ak_name = wire::sha256_name(ak_public);
        let ek_name = wire::sha256_name(&self.public_area());
        let credential: [u8; 32] = self
            .activate(blob, &ak_name)
            .expect("activation")
            .try_into()
            .unwrap();
        let attest = quote_bytes(&activation_digest(&ek_name, &ak_name, &credential));
        ActivationResponse {
            credential,
            signature: ak_sign(ak, &attest),
            attest: heapless::Vec::from_slice(&attest).unwrap(),
        }
    }

    /// Enrolls the software AK through credential activation and returns the
    /// pinned AK and the activation response.
    pub fn enroll(
        &self,
        ak: &p256::ecdsa::SigningKey,
        ak_public: &[u8],
    ) -> (PinnedAk, ActivationResponse) {
        let challenge = ActivationChallenge::new(&self.public_area(), ak_public, &mut OsRng)
            .expect("challenge");
        let response = self.answer(challenge.blob(), ak, ak_public);
        let pinned = challenge.finish(ak_public, &response).expect("activation");
        (pinned, response)
    }
}
