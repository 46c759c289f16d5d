//! For verifiers: check attestation evidence made by `wallet_attest` and
//! read what it proves. No TPM is needed.

#![allow(non_camel_case_types)]

use wallet_core::attest::{self, Evidence, Expectations, VerifiedFacts, MAX_PCRS, PCR_VALUE_LEN};
use wallet_core::signer::Address;

use crate::boundary::{bytes_in, guard, ValueOut};
use crate::result::wallet_result::{self, *};

/// What verified attestation evidence establishes, filled by
/// `wallet_verify_evidence`.
///
/// The evidence proves that a TPM whose attestation key has the Name
/// `ak_name` quoted the PCRs below for the verifier's nonce, and that the
/// key behind `address` signed the same challenge. Which TPMs (which AK
/// Names) and which PCR values to trust is the verifier's decision: compare
/// `ak_name` and `pcr_values` with known-good values.
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
    /// Zero; keeps the structure free of padding.
    pub reserved: [u8; 7],
}

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
            reserved: [0; 7],
        })
    }
}

/// Verifies attestation evidence (the encoding `wallet_attest` writes) for
/// the verifier's `nonce`, and on success fills `*facts_out`.
///
/// Checks, in this order, each failure with its own code: the encoding
/// (`WALLET_ATTEST_EVIDENCE_*`), the attestation key's public area
/// (`WALLET_ATTEST_AK_*`: a restricted, fixed, TPM-generated P-256 ECDSA
/// signing key), its signature over the quote
/// (`WALLET_ATTEST_AK_SIGNATURE_INVALID`), the quote structure
/// (`WALLET_ATTEST_QUOTE_*`, `WALLET_ATTEST_NOT_A_QUOTE`), the challenge
/// it carries against this nonce and the evidence's address, chain id,
/// policy hash, owners hash, threshold, admin nonce and audit-log head
/// (`WALLET_ATTEST_CHALLENGE_MISMATCH`), the PCR selection and
/// digest (`WALLET_ATTEST_PCR_*`), the wallet's signature over the
/// challenge (`WALLET_ATTEST_WALLET_SIGNATURE_*`), and last the expected
/// address (`WALLET_ATTEST_ADDRESS_MISMATCH`).
///
/// `expected_address` is 20 bytes (`expected_address_len` =
/// `WALLET_ADDRESS_LEN`), or `(NULL, 0)` to accept any address (then read
/// it from the facts). The attestation key is not compared with a trusted
/// one here: compare `facts_out->ak_name` with the AK Names you trust.
///
/// Errors: `WALLET_NULL_PARAMETER`, `WALLET_INVALID_PARAMETER`
/// (`expected_address_len` is neither 0 nor 20, or `facts_out` overlaps an
/// input), and the `WALLET_ATTEST_*` codes above.
///
/// # Safety
/// `evidence`, `nonce` and `expected_address` must be readable for their
/// lengths; `facts_out` writable.
#[no_mangle]
pub unsafe extern "C" fn wallet_verify_evidence(
    evidence: *const u8,
    evidence_len: usize,
    nonce: *const u8,
    nonce_len: usize,
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
        let expected_address = unsafe { bytes_in(expected_address, expected_address_len) }?;
        // SAFETY: the caller's contract above.
        let facts_out = unsafe { ValueOut::new(facts_out) }?;
        facts_out.disjoint_from(evidence)?;
        facts_out.disjoint_from(nonce)?;
        facts_out.disjoint_from(expected_address)?;
        let address = match expected_address.len() {
            0 => None,
            _ => Some(Address(
                expected_address
                    .try_into()
                    .map_err(|_| WALLET_INVALID_PARAMETER)?,
            )),
        };
        let evidence = Evidence::parse(evidence)?;
        let expectations = Expectations {
            address,
            ..Expectations::default()
        };
        let facts = attest::verify(&evidence, nonce, &expectations)?;
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
            4 * 8 + 4 * 4 + 32 * 32 + 3 * 32 + 34 + 20 + 2 + 1 + 7
        );
    }
}
