//! Deterministic object templates (TPM 2.0 Library Part 2, section 12.2.4
//! "TPMT_PUBLIC").
//!
//! A primary key is derived from the hierarchy seed and its template, so the
//! same template on the same TPM gives the same key and the same Name every
//! time. The templates leave `unique` empty for exactly that reason.

use tpm2_protocol::basic::TpmBuffer;
use tpm2_protocol::data::{
    TpmAlgId, TpmEccCurve, TpmaObject, TpmsEccParms, TpmsEccPoint, TpmsKeyedhashParms,
    TpmsRsaParms, TpmsSchemeHash, TpmtEccScheme, TpmtKdfScheme, TpmtKeyedhashScheme, TpmtPublic,
    TpmtRsaScheme, TpmtSymDef, TpmuAsymScheme, TpmuKdfScheme, TpmuKeyedhashScheme, TpmuPublicId,
    TpmuPublicParms, TpmuSymKeyBits, TpmuSymMode,
};

/// Object attributes of the storage root key.
#[must_use]
pub fn srk_attributes() -> TpmaObject {
    TpmaObject::FIXED_TPM
        | TpmaObject::FIXED_PARENT
        | TpmaObject::SENSITIVE_DATA_ORIGIN
        | TpmaObject::USER_WITH_AUTH
        | TpmaObject::NO_DA
        | TpmaObject::RESTRICTED
        | TpmaObject::DECRYPT
}

/// Object attributes of the attestation key.
#[must_use]
pub fn ak_attributes() -> TpmaObject {
    TpmaObject::FIXED_TPM
        | TpmaObject::FIXED_PARENT
        | TpmaObject::SENSITIVE_DATA_ORIGIN
        | TpmaObject::USER_WITH_AUTH
        | TpmaObject::NO_DA
        | TpmaObject::RESTRICTED
        | TpmaObject::SIGN_ENCRYPT
}

/// Object attributes of a sealed key: never leaves this TPM or this parent.
/// Without a policy the empty auth value authorizes (`userWithAuth`); with a
/// policy only a satisfied policy session does. `sensitiveDataOrigin` is
/// clear because we supply the data.
///
/// `noDA` is set only on objects without a PIN (their auth value is empty, so
/// there is nothing to guess, and a forged command HMAC must not count towards
/// the dictionary-attack lockout). A PIN-locked object has no `noDA`: every
/// wrong PIN counts towards the TPM's lockout.
///
/// A policy-bound object also has `adminWithPolicy`: its admin role
/// (`TPM2_ObjectChangeAuth`, `TPM2_Certify`) needs a policy session with
/// `PolicyCommandCode`, which its policy never contains, so nobody can give it
/// a new authorization value; a PIN change seals the key again.
#[must_use]
pub fn sealed_attributes(policy_bound: bool, pin_locked: bool) -> TpmaObject {
    let mut attributes = TpmaObject::FIXED_TPM | TpmaObject::FIXED_PARENT;
    if !pin_locked {
        attributes |= TpmaObject::NO_DA;
    }
    if policy_bound {
        attributes |= TpmaObject::ADMIN_WITH_POLICY;
    } else {
        attributes |= TpmaObject::USER_WITH_AUTH;
    }
    attributes
}

fn empty_ecc_point() -> TpmuPublicId {
    TpmuPublicId::Ecc(TpmsEccPoint {
        x: TpmBuffer::default(),
        y: TpmBuffer::default(),
    })
}

fn no_kdf() -> TpmtKdfScheme {
    TpmtKdfScheme {
        scheme: TpmAlgId::Null,
        details: TpmuKdfScheme::Null,
    }
}

/// The SRK: ECC NIST P-256, restricted decryption key, AES-128-CFB for its
/// children, SHA-256 Names, empty auth, no dictionary-attack protection.
#[must_use]
pub fn srk() -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::Ecc,
        name_alg: TpmAlgId::Sha256,
        object_attributes: srk_attributes(),
        auth_policy: TpmBuffer::default(),
        parameters: TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: TpmtSymDef {
                algorithm: TpmAlgId::Aes,
                key_bits: TpmuSymKeyBits::Aes(128.into()),
                mode: TpmuSymMode::Aes(TpmAlgId::Cfb),
            },
            scheme: TpmtEccScheme {
                scheme: TpmAlgId::Null,
                details: TpmuAsymScheme::Null,
            },
            curve_id: TpmEccCurve::NistP256,
            kdf: no_kdf(),
        }),
        unique: empty_ecc_point(),
    }
}

/// The AK: ECC NIST P-256, restricted signing key, ECDSA with SHA-256.
#[must_use]
pub fn attestation_key() -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::Ecc,
        name_alg: TpmAlgId::Sha256,
        object_attributes: ak_attributes(),
        auth_policy: TpmBuffer::default(),
        parameters: TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: TpmtSymDef {
                algorithm: TpmAlgId::Null,
                key_bits: TpmuSymKeyBits::Null,
                mode: TpmuSymMode::Null,
            },
            scheme: TpmtEccScheme {
                scheme: TpmAlgId::Ecdsa,
                details: TpmuAsymScheme::Hash(TpmsSchemeHash {
                    hash_alg: TpmAlgId::Sha256,
                }),
            },
            curve_id: TpmEccCurve::NistP256,
            kdf: no_kdf(),
        }),
        unique: empty_ecc_point(),
    }
}

/// A sealed data object (`KEYEDHASH` with no scheme) with `auth_policy`
/// (empty for none), dictionary-attack protected when `pin_locked`.
#[must_use]
pub fn sealed_data(auth_policy: &[u8], pin_locked: bool) -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::KeyedHash,
        name_alg: TpmAlgId::Sha256,
        object_attributes: sealed_attributes(!auth_policy.is_empty(), pin_locked),
        auth_policy: TpmBuffer::try_from(auth_policy).unwrap_or_default(),
        parameters: TpmuPublicParms::KeyedHash(TpmsKeyedhashParms {
            scheme: TpmtKeyedhashScheme {
                scheme: TpmAlgId::Null,
                details: TpmuKeyedhashScheme::Null,
            },
        }),
        unique: TpmuPublicId::KeyedHash(TpmBuffer::default()),
    }
}

/// `authPolicy` of the TCG default EK templates: `PolicySecret(TPM_RH_ENDORSEMENT)`
/// (TCG EK Credential Profile, section B.3.3, Table 3).
pub const EK_AUTH_POLICY: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
];

/// Object attributes of the TCG default EK templates: fixedTPM, fixedParent,
/// sensitiveDataOrigin, adminWithPolicy, restricted, decrypt (`0x000300B2`).
#[must_use]
pub fn ek_attributes() -> TpmaObject {
    TpmaObject::FIXED_TPM
        | TpmaObject::FIXED_PARENT
        | TpmaObject::SENSITIVE_DATA_ORIGIN
        | TpmaObject::ADMIN_WITH_POLICY
        | TpmaObject::RESTRICTED
        | TpmaObject::DECRYPT
}

/// AES-128 in CFB mode: the symmetric algorithm of our storage keys and of
/// the sessions' parameter encryption.
pub(crate) fn aes_128_cfb() -> TpmtSymDef {
    aes_cfb(128)
}

/// The TCG default EK template L-1: RSA 2048, AES-128-CFB, SHA-256 Names,
/// `unique` 256 zero bytes (TCG EK Credential Profile, section B.3.3).
#[must_use]
pub fn ek_rsa_2048() -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::Rsa,
        name_alg: TpmAlgId::Sha256,
        object_attributes: ek_attributes(),
        auth_policy: TpmBuffer::try_from(&EK_AUTH_POLICY[..]).unwrap_or_default(),
        parameters: TpmuPublicParms::Rsa(TpmsRsaParms {
            symmetric: aes_128_cfb(),
            scheme: TpmtRsaScheme {
                scheme: TpmAlgId::Null,
                details: TpmuAsymScheme::Null,
            },
            key_bits: 2048.into(),
            exponent: 0.into(),
        }),
        unique: TpmuPublicId::Rsa(TpmBuffer::try_from(&[0u8; 256][..]).unwrap_or_default()),
    }
}

/// The TCG default EK template L-2: ECC NIST P-256, AES-128-CFB, SHA-256
/// Names, `unique` two 32-byte zero coordinates (TCG EK Credential Profile,
/// section B.3.4).
#[must_use]
pub fn ek_ecc_p256() -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::Ecc,
        name_alg: TpmAlgId::Sha256,
        object_attributes: ek_attributes(),
        auth_policy: TpmBuffer::try_from(&EK_AUTH_POLICY[..]).unwrap_or_default(),
        parameters: TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: aes_128_cfb(),
            scheme: TpmtEccScheme {
                scheme: TpmAlgId::Null,
                details: TpmuAsymScheme::Null,
            },
            curve_id: TpmEccCurve::NistP256,
            kdf: no_kdf(),
        }),
        unique: TpmuPublicId::Ecc(TpmsEccPoint {
            x: TpmBuffer::try_from(&[0u8; 32][..]).unwrap_or_default(),
            y: TpmBuffer::try_from(&[0u8; 32][..]).unwrap_or_default(),
        }),
    }
}

/// `authPolicy` of the TCG high-range EK templates hashed with SHA-384
/// ("PolicyB" SHA-384: `PolicyOR` of `PolicySecret(TPM_RH_ENDORSEMENT)` and
/// the policy-NV branch; TCG EK Credential Profile 2.x, section B.6, the
/// value swtpm's provisioning uses too).
pub const EK_AUTH_POLICY_B_SHA384: [u8; 48] = [
    0xB2, 0x6E, 0x7D, 0x28, 0xD1, 0x1A, 0x50, 0xBC, 0x53, 0xD8, 0x82, 0xBC, 0xF5, 0xFD, 0x3A, 0x1A,
    0x07, 0x41, 0x48, 0xBB, 0x35, 0xD3, 0xB4, 0xE4, 0xCB, 0x1C, 0x0A, 0xD9, 0xBD, 0xE4, 0x19, 0xCA,
    0xCB, 0x47, 0xBA, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0F, 0x9F, 0xC0, 0x00, 0xF3, 0xF8, 0x0E, 0x12,
];

/// The TCG high-range EK template H-3 (certificate at NV `0x01c00016`): ECC
/// NIST P-384, SHA-384 Names, AES-256-CFB, the default EK attributes plus
/// `userWithAuth` (`0x000300F2`), [`EK_AUTH_POLICY_B_SHA384`], and an empty
/// `unique` (the high-range templates take no zero-filled unique).
#[must_use]
pub fn ek_ecc_p384() -> TpmtPublic {
    ek_high_ecc(
        TpmAlgId::Sha384,
        &EK_AUTH_POLICY_B_SHA384,
        256,
        TpmEccCurve::NistP384,
    )
}

/// `authPolicy` of the TCG high-range EK templates with SHA-256 Names
/// (H-1, H-2): "PolicyB" SHA-256, the `PolicyOR` of
/// `PolicySecret(TPM_RH_ENDORSEMENT)` and the policy-NV branch (TCG EK
/// Credential Profile 2.x, section B.6).
pub const EK_AUTH_POLICY_B_SHA256: [u8; 32] = [
    0xCA, 0x3D, 0x0A, 0x99, 0xA2, 0xB9, 0x39, 0x06, 0xF7, 0xA3, 0x34, 0x24, 0x14, 0xEF, 0xCF, 0xB3,
    0xA3, 0x85, 0xD4, 0x4C, 0xD1, 0xFD, 0x45, 0x90, 0x89, 0xD1, 0x9B, 0x50, 0x71, 0xC0, 0xB7, 0xA0,
];

/// `authPolicy` of the TCG high-range EK template with SHA-512 Names (H-4):
/// "PolicyB" SHA-512 (TCG EK Credential Profile 2.x, section B.6).
pub const EK_AUTH_POLICY_B_SHA512: [u8; 64] = [
    0xB8, 0x22, 0x1C, 0xA6, 0x9E, 0x85, 0x50, 0xA4, 0x91, 0x4D, 0xE3, 0xFA, 0xA6, 0xA1, 0x8C, 0x07,
    0x2C, 0xC0, 0x12, 0x08, 0x07, 0x3A, 0x92, 0x8D, 0x5D, 0x66, 0xD5, 0x9E, 0xF7, 0x9E, 0x49, 0xA4,
    0x29, 0xC4, 0x1A, 0x6B, 0x26, 0x95, 0x71, 0xD5, 0x7E, 0xDB, 0x25, 0xFB, 0xDB, 0x18, 0x38, 0x42,
    0x56, 0x08, 0xB4, 0x13, 0xCD, 0x61, 0x6A, 0x5F, 0x6D, 0xB5, 0xB6, 0x07, 0x1A, 0xF9, 0x9B, 0xEA,
];

/// AES in CFB mode with a `bits`-bit key, the symmetric definition of
/// storage keys and EKs.
fn aes_cfb(bits: u16) -> TpmtSymDef {
    TpmtSymDef {
        algorithm: TpmAlgId::Aes,
        key_bits: TpmuSymKeyBits::Aes(bits.into()),
        mode: TpmuSymMode::Aes(TpmAlgId::Cfb),
    }
}

/// A TCG high-range RSA EK template: the default EK attributes plus
/// `userWithAuth` (`0x000300F2`), PolicyB, exponent 65537, empty `unique`.
fn ek_high_rsa(name_alg: TpmAlgId, policy: &[u8], aes_bits: u16, key_bits: u16) -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::Rsa,
        name_alg,
        object_attributes: ek_attributes() | TpmaObject::USER_WITH_AUTH,
        auth_policy: TpmBuffer::try_from(policy).unwrap_or_default(),
        parameters: TpmuPublicParms::Rsa(TpmsRsaParms {
            symmetric: aes_cfb(aes_bits),
            scheme: TpmtRsaScheme {
                scheme: TpmAlgId::Null,
                details: TpmuAsymScheme::Null,
            },
            key_bits: key_bits.into(),
            exponent: 0.into(),
        }),
        unique: TpmuPublicId::Rsa(TpmBuffer::default()),
    }
}

/// A TCG high-range ECC EK template: as [`ek_high_rsa`], on `curve`.
fn ek_high_ecc(name_alg: TpmAlgId, policy: &[u8], aes_bits: u16, curve: TpmEccCurve) -> TpmtPublic {
    TpmtPublic {
        object_type: TpmAlgId::Ecc,
        name_alg,
        object_attributes: ek_attributes() | TpmaObject::USER_WITH_AUTH,
        auth_policy: TpmBuffer::try_from(policy).unwrap_or_default(),
        parameters: TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: aes_cfb(aes_bits),
            scheme: TpmtEccScheme {
                scheme: TpmAlgId::Null,
                details: TpmuAsymScheme::Null,
            },
            curve_id: curve,
            kdf: no_kdf(),
        }),
        unique: empty_ecc_point(),
    }
}

/// The TCG EK certificate indices and the default template of the key each
/// certifies (TCG EK Credential Profile 2.x, sections 2.2.1.4 and B.3–B.4):
/// the low range L-1, L-2 and the high range H-1 to H-7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EkTemplate {
    /// L-1: RSA 2048, SHA-256, AES-128, PolicyA, `unique` zero-filled; NV `0x01c00002`.
    L1Rsa2048,
    /// L-2: ECC NIST P-256, SHA-256, AES-128, PolicyA, `unique` zero-filled; NV `0x01c0000a`.
    L2EccP256,
    /// H-1: RSA 2048, SHA-256, AES-128, PolicyB SHA-256; NV `0x01c00012`.
    H1Rsa2048,
    /// H-2: ECC NIST P-256, SHA-256, AES-128, PolicyB SHA-256; NV `0x01c00014`.
    H2EccP256,
    /// H-3: ECC NIST P-384, SHA-384, AES-256, PolicyB SHA-384; NV `0x01c00016`.
    H3EccP384,
    /// H-4: ECC NIST P-521, SHA-512, AES-256, PolicyB SHA-512; NV `0x01c00018`.
    H4EccP521,
    /// H-5: ECC SM2 P-256, SM3-256, SM4-128; NV `0x01c0001a`.
    H5EccSm2P256,
    /// H-6: RSA 3072, SHA-384, AES-256, PolicyB SHA-384; NV `0x01c0001c`.
    H6Rsa3072,
    /// H-7: RSA 4096, SHA-384, AES-256, PolicyB SHA-384; NV `0x01c0001e`.
    H7Rsa4096,
}

impl EkTemplate {
    /// Every template, low range first.
    pub const ALL: [Self; 9] = [
        Self::L1Rsa2048,
        Self::L2EccP256,
        Self::H1Rsa2048,
        Self::H2EccP256,
        Self::H3EccP384,
        Self::H4EccP521,
        Self::H5EccSm2P256,
        Self::H6Rsa3072,
        Self::H7Rsa4096,
    ];

    /// The NV index of the EK certificate for this template.
    #[must_use]
    pub const fn nv_index(self) -> u32 {
        match self {
            Self::L1Rsa2048 => 0x01c0_0002,
            Self::L2EccP256 => 0x01c0_000a,
            Self::H1Rsa2048 => 0x01c0_0012,
            Self::H2EccP256 => 0x01c0_0014,
            Self::H3EccP384 => 0x01c0_0016,
            Self::H4EccP521 => 0x01c0_0018,
            Self::H5EccSm2P256 => 0x01c0_001a,
            Self::H6Rsa3072 => 0x01c0_001c,
            Self::H7Rsa4096 => 0x01c0_001e,
        }
    }

    /// The template's name in the profile and its key, e.g. `"H-6 RSA 3072"`.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::L1Rsa2048 => "L-1 RSA 2048",
            Self::L2EccP256 => "L-2 ECC NIST P-256",
            Self::H1Rsa2048 => "H-1 RSA 2048",
            Self::H2EccP256 => "H-2 ECC NIST P-256",
            Self::H3EccP384 => "H-3 ECC NIST P-384",
            Self::H4EccP521 => "H-4 ECC NIST P-521",
            Self::H5EccSm2P256 => "H-5 ECC SM2 P-256",
            Self::H6Rsa3072 => "H-6 RSA 3072",
            Self::H7Rsa4096 => "H-7 RSA 4096",
        }
    }

    /// Whether this verifier can check an EK of this template against its
    /// certificate: not P-521 (no P-521 implementation among our
    /// dependencies) and not SM2 (no SM2/SM3 implementation).
    #[must_use]
    pub const fn is_supported(self) -> bool {
        !matches!(self, Self::H4EccP521 | Self::H5EccSm2P256)
    }

    /// The TCG default template, `None` for SM2 (H-5), which this verifier
    /// never re-derives.
    #[must_use]
    pub fn public(self) -> Option<TpmtPublic> {
        use TpmAlgId::{Sha256, Sha384, Sha512};
        Some(match self {
            Self::L1Rsa2048 => ek_rsa_2048(),
            Self::L2EccP256 => ek_ecc_p256(),
            Self::H1Rsa2048 => ek_high_rsa(Sha256, &EK_AUTH_POLICY_B_SHA256, 128, 2048),
            Self::H2EccP256 => {
                ek_high_ecc(Sha256, &EK_AUTH_POLICY_B_SHA256, 128, TpmEccCurve::NistP256)
            }
            Self::H3EccP384 => ek_ecc_p384(),
            Self::H4EccP521 => {
                ek_high_ecc(Sha512, &EK_AUTH_POLICY_B_SHA512, 256, TpmEccCurve::NistP521)
            }
            Self::H5EccSm2P256 => return None,
            Self::H6Rsa3072 => ek_high_rsa(Sha384, &EK_AUTH_POLICY_B_SHA384, 256, 3072),
            Self::H7Rsa4096 => ek_high_rsa(Sha384, &EK_AUTH_POLICY_B_SHA384, 256, 4096),
        })
    }
}

#[cfg(all(test, feature = "std"))]
#[allow(clippy::unwrap_used)]
mod ek_template_tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::vec::Vec;

    /// The header every EK template starts with: type, nameAlg, attributes,
    /// the policy (sized), then symmetric algorithm, key bits, mode.
    fn header(kind: u16, name_alg: u16, attributes: u32, policy: &[u8], aes_bits: u16) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&name_alg.to_be_bytes());
        t.extend_from_slice(&attributes.to_be_bytes());
        t.extend_from_slice(&u16::try_from(policy.len()).unwrap().to_be_bytes());
        t.extend_from_slice(policy);
        for v in [0x0006u16, aes_bits, 0x0043] {
            t.extend_from_slice(&v.to_be_bytes());
        }
        t
    }

    /// The templates marshal to the bytes of the profile's tables (B.3.3,
    /// B.3.4, B.4.4): field by field, as the spec lists them.
    #[test]
    fn every_template_marshals_to_the_profiles_bytes() {
        let policy_a = &EK_AUTH_POLICY[..];
        let b256 = &EK_AUTH_POLICY_B_SHA256[..];
        let b384 = &EK_AUTH_POLICY_B_SHA384[..];
        let b512 = &EK_AUTH_POLICY_B_SHA512[..];
        // RSA: scheme NULL, keyBits, exponent 0, unique (sized).
        let rsa = |name_alg, attributes, policy, aes, bits: u16, unique: &[u8]| {
            let mut t = header(0x0001, name_alg, attributes, policy, aes);
            t.extend_from_slice(&0x0010u16.to_be_bytes());
            t.extend_from_slice(&bits.to_be_bytes());
            t.extend_from_slice(&0u32.to_be_bytes());
            t.extend_from_slice(&u16::try_from(unique.len()).unwrap().to_be_bytes());
            t.extend_from_slice(unique);
            t
        };
        // ECC: scheme NULL, curve, kdf NULL, unique x and y (sized).
        let ecc = |name_alg, attributes, policy, aes, curve: u16, coordinate: &[u8]| {
            let mut t = header(0x0023, name_alg, attributes, policy, aes);
            for v in [0x0010u16, curve, 0x0010] {
                t.extend_from_slice(&v.to_be_bytes());
            }
            for _ in 0..2 {
                t.extend_from_slice(&u16::try_from(coordinate.len()).unwrap().to_be_bytes());
                t.extend_from_slice(coordinate);
            }
            t
        };
        let expected = [
            (
                EkTemplate::L1Rsa2048,
                rsa(0x000b, 0x0003_00b2, policy_a, 128, 2048, &[0; 256]),
            ),
            (
                EkTemplate::L2EccP256,
                ecc(0x000b, 0x0003_00b2, policy_a, 128, 0x0003, &[0; 32]),
            ),
            (
                EkTemplate::H1Rsa2048,
                rsa(0x000b, 0x0003_00f2, b256, 128, 2048, &[]),
            ),
            (
                EkTemplate::H2EccP256,
                ecc(0x000b, 0x0003_00f2, b256, 128, 0x0003, &[]),
            ),
            (
                EkTemplate::H3EccP384,
                ecc(0x000c, 0x0003_00f2, b384, 256, 0x0004, &[]),
            ),
            (
                EkTemplate::H4EccP521,
                ecc(0x000d, 0x0003_00f2, b512, 256, 0x0005, &[]),
            ),
            (
                EkTemplate::H6Rsa3072,
                rsa(0x000c, 0x0003_00f2, b384, 256, 3072, &[]),
            ),
            (
                EkTemplate::H7Rsa4096,
                rsa(0x000c, 0x0003_00f2, b384, 256, 4096, &[]),
            ),
        ];
        for (template, bytes) in expected {
            let area = super::super::command::marshal_public(&template.public().unwrap()).unwrap();
            assert_eq!(&area[..], &bytes[..], "{}", template.label());
        }
        assert!(EkTemplate::H5EccSm2P256.public().is_none());
    }

    /// PolicyA is `PolicySecret(TPM_RH_ENDORSEMENT)` from the empty digest,
    /// and PolicyB SHA-256 is `PolicyOR(PolicyA, PolicyC)` with the profile's
    /// published PolicyC: the constants are what their definitions compute.
    #[test]
    fn the_ek_policies_are_what_their_definitions_compute() {
        let mut inner = Sha256::new();
        inner.update([0u8; 32]);
        inner.update(0x0000_0151u32.to_be_bytes()); // TPM_CC_PolicySecret
        inner.update(0x4000_000bu32.to_be_bytes()); // Name of TPM_RH_ENDORSEMENT
        let policy_a: [u8; 32] = Sha256::digest(inner.finalize()).into(); // || empty policyRef
        assert_eq!(policy_a, EK_AUTH_POLICY);
        let policy_c: [u8; 32] = [
            0x37, 0x67, 0xe2, 0xed, 0xd4, 0x3f, 0xf4, 0x5a, 0x3a, 0x7e, 0x1e, 0xae, 0xfc, 0xef,
            0x78, 0x64, 0x3d, 0xca, 0x96, 0x46, 0x32, 0xe7, 0xaa, 0xd8, 0x2c, 0x67, 0x3a, 0x30,
            0xd8, 0x63, 0x3f, 0xde,
        ];
        let mut or = Sha256::new();
        or.update([0u8; 32]);
        or.update(0x0000_0171u32.to_be_bytes()); // TPM_CC_PolicyOR
        or.update(policy_a);
        or.update(policy_c);
        assert_eq!(<[u8; 32]>::from(or.finalize()), EK_AUTH_POLICY_B_SHA256);
    }

    #[test]
    fn nv_indices_are_the_profiles() {
        let indices: Vec<u32> = EkTemplate::ALL.iter().map(|t| t.nv_index()).collect();
        assert_eq!(
            indices,
            [
                0x01c0_0002,
                0x01c0_000a,
                0x01c0_0012,
                0x01c0_0014,
                0x01c0_0016,
                0x01c0_0018,
                0x01c0_001a,
                0x01c0_001c,
                0x01c0_001e
            ]
        );
        assert!(!EkTemplate::H4EccP521.is_supported());
        assert!(!EkTemplate::H5EccSm2P256.is_supported());
        assert!(EkTemplate::H7Rsa4096.is_supported());
    }
}
