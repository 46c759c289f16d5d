//! For verifiers: check attestation evidence made by `wallet_attest` and
//! read what it proves. No TPM is needed.

#![allow(non_camel_case_types)]

use wallet_core::attest::{
    AttestError, EnrollmentMethod, Evidence, Expectations, KeyLockFacts, PcrSelection, TpmIdentity,
    VerifiedFacts, MAX_PCRS, PCR_VALUE_LEN,
};
use wallet_core::enrollment::{verify_evidence, TrustAnchor};
use wallet_core::signer::Address;
use wallet_core::x509::TrustRoots;

use crate::boundary::{bytes_in, guard, ValueOut};
use crate::result::wallet_result::{self, *};

/// What verified attestation evidence establishes, filled by
/// `wallet_verify_evidence`.
///
/// The evidence proves that the TPM whose attestation key (Name `ak_name`)
/// was enrolled against the verifier's trust roots quoted the PCRs below for
/// the verifier's nonce, and that the key behind `address` signed the same
/// challenge. Which PCR values to trust is the verifier's decision: compare
/// `pcr_values` with known-good values.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wallet_evidence_facts {
    /// The chain id bound into the challenge.
    pub chain_id: u64,
    /// The TPM's clock, in milliseconds, when it quoted.
    pub tpm_clock: u64,
    /// The TPM's firmware version.
    pub tpm_firmware_version: u64,
    /// The account's admin nonce bound into the challenge: the nonce the
    /// next owner-approved admin request must carry.
    pub admin_nonce: u64,
    /// The quoted PCRs: bit `n` set for PCR `n`.
    pub pcr_bitmap: u32,
    /// How many PCR values follow: the number of bits set in `pcr_bitmap`.
    pub pcr_count: u32,
    /// The TPM's reset count when it quoted (TPM resets since it was cleared).
    pub tpm_reset_count: u32,
    /// The TPM's restart count when it quoted.
    pub tpm_restart_count: u32,
    /// The quoted PCR values (SHA-256 bank), in ascending PCR order: entry
    /// `i` belongs to the `i`-th set bit of `pcr_bitmap`. Entries from
    /// `pcr_count` on are zero.
    pub pcr_values: [[u8; 32]; 32],
    /// The hash of the account's signing policy bound into the challenge
    /// (`wallet_policy_hash` of the wallet that attested; 32 zero bytes for
    /// an account without a policy).
    pub policy_hash: [u8; 32],
    /// The hash of the account's owner set bound into the challenge
    /// (keccak256 of `n || sorted owners || threshold`; 32 zero bytes for an
    /// account without owners).
    pub owners_hash: [u8; 32],
    /// The head of the account's audit log bound into the challenge.
    pub audit_head: [u8; 32],
    /// The Name of the attestation key that signed the quote: the 2-byte
    /// name algorithm (`0x000b`, SHA-256) and the SHA-256 of its public area
    /// (`WALLET_AK_NAME_LEN` bytes).
    pub ak_name: [u8; 34],
    /// The address whose key signed the challenge.
    pub address: [u8; 20],
    /// The PCR bank's hash algorithm (`TPM_ALG_ID`): always `0x000b`,
    /// SHA-256, the only bank that verifies.
    pub pcr_hash_alg: u16,
    /// How many owners must approve an admin action; 0 for an account
    /// without owners.
    pub threshold: u8,
    /// 1 when the account was created on a TPM whose EK certificate
    /// verified; 0 for an "unverified TPM" account (reported only when the
    /// caller passed `WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM`).
    pub tpm_verified: u8,
    /// How the AK was enrolled: 1 credential activation, 2 AK certificate.
    pub enrollment_method: u8,
    /// What an unsealer of the account's key must present:
    /// `WALLET_KEY_LOCK_REPORTED` with the `wallet_create_account` lock bits
    /// (`WALLET_KEY_LOCK_PIN`, `WALLET_KEY_LOCK_PCR`,
    /// `WALLET_KEY_LOCK_BOOT_ONCE`). Exactly `WALLET_KEY_LOCK_REPORTED` means
    /// no lock: any local process with TPM access and the account file can
    /// unseal the key. 0: the evidence does not report it (made before key
    /// locks were reported).
    pub key_lock: u8,
    /// Zero; keeps the structure free of padding.
    pub reserved: [u8; 4],
}

/// `wallet_evidence_facts.key_lock` bit: the evidence reports the key lock.
pub const WALLET_KEY_LOCK_REPORTED: u8 = 0x80;

/// `wallet_evidence_facts.key_lock` of `lock`.
fn key_lock_bits(lock: KeyLockFacts) -> u8 {
    use crate::wallet::{WALLET_KEY_LOCK_BOOT_ONCE, WALLET_KEY_LOCK_PCR, WALLET_KEY_LOCK_PIN};
    let KeyLockFacts::Reported {
        pin,
        pcrs,
        boot_once,
    } = lock
    else {
        return 0;
    };
    let mut bits = u32::from(WALLET_KEY_LOCK_REPORTED);
    for (set, bit) in [
        (pin, WALLET_KEY_LOCK_PIN),
        (pcrs, WALLET_KEY_LOCK_PCR),
        (boot_once, WALLET_KEY_LOCK_BOOT_ONCE),
    ] {
        if set {
            bits |= bit;
        }
    }
    u8::try_from(bits).unwrap_or(0)
}

/// `flags` bit of `wallet_verify_evidence`: accept evidence from an account
/// created on an unverified TPM (it is reported in
/// `wallet_evidence_facts.tpm_verified`).
pub const WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM: u32 = 1;

impl wallet_evidence_facts {
    fn from_facts(facts: &VerifiedFacts) -> Result<Self, wallet_result> {
        let mut pcr_values = [[0u8; PCR_VALUE_LEN]; MAX_PCRS];
        for (slot, value) in pcr_values.iter_mut().zip(facts.pcr_values.iter()) {
            *slot = *value;
        }
        Ok(Self {
            chain_id: facts.account.chain_id,
            tpm_clock: facts.clock,
            tpm_firmware_version: facts.firmware_version,
            admin_nonce: facts.account.admin_nonce,
            pcr_bitmap: facts.pcr_selection.bitmap,
            pcr_count: u32::try_from(facts.pcr_values.len()).map_err(|_| WALLET_PANIC)?,
            tpm_reset_count: facts.reset_count,
            tpm_restart_count: facts.restart_count,
            pcr_values,
            policy_hash: facts.account.policy_hash,
            owners_hash: facts.account.owners_hash,
            audit_head: facts.account.audit_head,
            ak_name: facts.ak_name,
            address: facts.account.address.0,
            pcr_hash_alg: facts.pcr_selection.hash_alg,
            threshold: facts.account.threshold,
            tpm_verified: u8::from(facts.tpm_identity == TpmIdentity::Verified),
            enrollment_method: match facts.enrollment_method {
                EnrollmentMethod::CredentialActivation => 1,
                EnrollmentMethod::AkCertificate => 2,
            },
            key_lock: key_lock_bits(facts.key_lock),
            reserved: [0; 4],
        })
    }
}

/// Verifies attestation evidence (the encoding `wallet_attest` writes) for
/// the verifier's `nonce` against a trust anchor, and on success fills
/// `*facts_out`.
///
/// The anchor is required: `trust_roots_pem` (a PEM bundle of the EK / AK
/// certificate roots) and either `enrollment` (the enrollment record the
/// verifier stored when it enrolled the wallet's AK) or `ak_certificate`
/// (a DER AK certificate; intermediates may ride in the PEM bundle). With
/// no roots, or neither (or both) of the two, the call fails with
/// `WALLET_ATTEST_NO_TRUST_ANCHOR`: evidence proves nothing about a TPM
/// without one.
///
/// Checks, in this order, each failure with its own code: the encoding
/// (`WALLET_ATTEST_EVIDENCE_*`; version 2 evidence is
/// `WALLET_ATTEST_EVIDENCE_WITHOUT_TRUST_CHAIN`), the anchor
/// (`WALLET_TRUST_ROOTS_INVALID`, `WALLET_ENROLLMENT_*`), that the quote's
/// AK is the enrolled one (`WALLET_ATTEST_AK_NOT_ENROLLED`), the AK's
/// signature over the quote, the quote structure, the challenge (nonce and
/// every account fact), the PCR selection and digest, the wallet's signature,
/// the TPM identity (`WALLET_ATTEST_UNVERIFIED_TPM` unless `flags` has
/// `WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM`), the required PCR selection
/// (`pcr_bitmap`, SHA-256 bank; 0 means PCRs 0-7:
/// `WALLET_ATTEST_PCR_SELECTION_NOT_EXPECTED`), and last the expected
/// address (`WALLET_ATTEST_ADDRESS_MISMATCH`).
///
/// `expected_address` is 20 bytes, or `(NULL, 0)` to accept any address
/// (then read it from the facts).
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER`
/// (`expected_address_len` is neither 0 nor 20, an unknown `flags` bit, or
/// `facts_out` overlaps an input), and the codes above.
///
/// # Safety
/// Every pointer must be readable for its length (`(NULL, 0)` for an absent
/// optional input); `facts_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_verify_evidence(
    evidence: *const u8,
    evidence_len: usize,
    nonce: *const u8,
    nonce_len: usize,
    trust_roots_pem: *const u8,
    trust_roots_pem_len: usize,
    enrollment: *const u8,
    enrollment_len: usize,
    ak_certificate: *const u8,
    ak_certificate_len: usize,
    pcr_bitmap: u32,
    flags: u32,
    expected_address: *const u8,
    expected_address_len: usize,
    facts_out: *mut wallet_evidence_facts,
) -> wallet_result {
    guard(|| {
        // SAFETY: the caller's contract above.
        let evidence = unsafe { bytes_in(evidence, evidence_len) }?;
        // SAFETY: the caller's contract above.
        let nonce = unsafe { bytes_in(nonce, nonce_len) }?;
        // SAFETY: the caller's contract above.
        let roots_pem = unsafe { bytes_in(trust_roots_pem, trust_roots_pem_len) }?;
        // SAFETY: the caller's contract above.
        let enrollment = unsafe { bytes_in(enrollment, enrollment_len) }?;
        // SAFETY: the caller's contract above.
        let ak_certificate = unsafe { bytes_in(ak_certificate, ak_certificate_len) }?;
        // SAFETY: the caller's contract above.
        let expected_address = unsafe { bytes_in(expected_address, expected_address_len) }?;
        // SAFETY: the caller's contract above.
        let facts_out = unsafe { ValueOut::new(facts_out) }?;
        for input in [
            evidence,
            nonce,
            roots_pem,
            enrollment,
            ak_certificate,
            expected_address,
        ] {
            facts_out.disjoint_from(input)?;
        }
        if flags & !WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM != 0 {
            return Err(WALLET_INVALID_PARAMETER);
        }
        let address = match expected_address.len() {
            0 => None,
            _ => Some(Address(
                expected_address
                    .try_into()
                    .map_err(|_| WALLET_INVALID_PARAMETER)?,
            )),
        };
        let pcr_selection = match pcr_bitmap {
            0 => PcrSelection::SHA256_0_TO_7,
            bitmap => PcrSelection {
                hash_alg: wallet_core::attest::wire::TPM_ALG_SHA256,
                bitmap,
            },
        };
        let evidence = Evidence::parse(evidence)?;
        let roots = if roots_pem.is_empty() {
            None
        } else {
            Some(TrustRoots::from_pem_bundle(roots_pem).map_err(|_| WALLET_TRUST_ROOTS_INVALID)?)
        };
        let anchor = match (&roots, enrollment.is_empty(), ak_certificate.is_empty()) {
            (Some(roots), false, true) => Some(TrustAnchor::Enrollment {
                roots,
                record: enrollment,
            }),
            (Some(roots), true, false) => Some(TrustAnchor::AkCertificate {
                roots,
                certificate: ak_certificate,
                intermediates: &[],
            }),
            _ => None,
        };
        if anchor.is_none() {
            return Err(AttestError::NoTrustAnchor.into());
        }
        let expectations = Expectations {
            address,
            pcr_selection: Some(pcr_selection),
            accept_unverified_tpm: flags & WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM != 0,
            ..Expectations::default()
        };
        let facts = verify_evidence(&evidence, nonce, anchor, &expectations)?;
        facts_out.set(wallet_evidence_facts::from_facts(&facts)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed header asserts these numbers to the C compiler.
    #[test]
    fn header_layout_assertions_match_rust() {
        let header = include_str!("../../include/wallet.h");
        let size = format!(
            "sizeof(wallet_evidence_facts) == {}",
            size_of::<wallet_evidence_facts>()
        );
        assert!(header.contains(&size), "wallet.h lacks `{size}`");
        assert!(
            header.contains("WALLET_ALIGNOF(wallet_evidence_facts) == WALLET_ALIGNOF(uint64_t)")
        );
        assert_eq!(align_of::<wallet_evidence_facts>(), align_of::<u64>());
        // No padding: every byte of the struct is a field the library writes.
        assert_eq!(
            size_of::<wallet_evidence_facts>(),
            4 * 8 + 4 * 4 + 32 * 32 + 3 * 32 + 34 + 20 + 2 + 1 + 1 + 1 + 5
        );
    }
}
