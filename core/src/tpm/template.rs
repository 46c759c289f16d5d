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
    TpmtSymDef {
        algorithm: TpmAlgId::Aes,
        key_bits: TpmuSymKeyBits::Aes(128.into()),
        mode: TpmuSymMode::Aes(TpmAlgId::Cfb),
    }
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
    TpmtPublic {
        object_type: TpmAlgId::Ecc,
        name_alg: TpmAlgId::Sha384,
        object_attributes: ek_attributes() | TpmaObject::USER_WITH_AUTH,
        auth_policy: TpmBuffer::try_from(&EK_AUTH_POLICY_B_SHA384[..]).unwrap_or_default(),
        parameters: TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: TpmtSymDef {
                algorithm: TpmAlgId::Aes,
                key_bits: TpmuSymKeyBits::Aes(256.into()),
                mode: TpmuSymMode::Aes(TpmAlgId::Cfb),
            },
            scheme: TpmtEccScheme {
                scheme: TpmAlgId::Null,
                details: TpmuAsymScheme::Null,
            },
            curve_id: TpmEccCurve::NistP384,
            kdf: no_kdf(),
        }),
        unique: empty_ecc_point(),
    }
}
