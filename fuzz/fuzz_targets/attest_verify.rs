//! Attestation evidence over arbitrary bytes: `Evidence::parse`, then
//! `attest::verify` for a fixed verifier nonce, against a pin of the
//! evidence's own AK (`PinnedAk::unenrolled_for_fuzzing`, a fuzzing-only
//! constructor) so every check after the enrollment pin is reached.
//!
//! Nothing panics, and arbitrary evidence never verifies: whenever `verify`
//! accepts, the target re-derives every claim independently of the core's
//! verifier (the AK point read from `TPMT_PUBLIC` with `tpm2-protocol`, the
//! quote signature checked with `p256`, the quote's magic, type and
//! extraData checked against a challenge recomputed from its definition, and
//! the wallet signature recovered with `k256` to the evidence's address).
//! Accepted evidence also encodes back to the exact input.
#![no_main]

use k256::ecdsa::{RecoveryId, Signature as K256Signature, VerifyingKey as K256Key};
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature as P256Signature, VerifyingKey as P256Key};
use sha2::{Digest, Sha256};
use sha3::Keccak256;
use tpm2_protocol::data::{TpmtPublic, TpmuPublicId};
use tpm2_protocol::TpmUnmarshal;
use wallet_core::attest::{sha256_name, verify, Evidence, Expectations, PinnedAk};
use wallet_fuzz_support::ATTEST_NONCE;

/// Re-checks accepted evidence without the core's verifier.
fn independently_valid(evidence: &Evidence) -> bool {
    // The AK's public point.
    let Ok((public, _)) = TpmtPublic::unmarshal(&evidence.ak_public) else {
        return false;
    };
    let TpmuPublicId::Ecc(point) = &public.unique else {
        return false;
    };
    let (x, y): (&[u8], &[u8]) = (&point.x, &point.y);
    if x.len() != 32 || y.len() != 32 {
        return false;
    }
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    let Ok(ak) = P256Key::from_sec1_bytes(&sec1) else {
        return false;
    };
    let Ok(quote_signature) =
        P256Signature::from_scalars(evidence.ak_signature.r, evidence.ak_signature.s)
    else {
        return false;
    };
    if ak.verify(&evidence.attest, &quote_signature).is_err() {
        return false;
    }

    // TPMS_ATTEST: TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE, and the challenge
    // as extraData (a TPM2B of 32 bytes).
    let challenge: [u8; 32] = Sha256::new()
        .chain_update(b"flare-wallet/attest/v3")
        .chain_update(ATTEST_NONCE)
        .chain_update(evidence.account.chain_id.to_be_bytes())
        .chain_update(evidence.account.address.0)
        .chain_update(evidence.account.policy_hash)
        .chain_update(evidence.account.owners_hash)
        .chain_update([evidence.account.threshold])
        .chain_update(evidence.account.admin_nonce.to_be_bytes())
        .chain_update(evidence.account.audit_head)
        .chain_update([evidence.account.tpm_identity.to_byte()])
        .finalize()
        .into();
    let attest = &evidence.attest[..];
    let mut extra_data = vec![0x00, 0x20];
    extra_data.extend_from_slice(&challenge);
    if attest.get(..6) != Some(&[0xff, 0x54, 0x43, 0x47, 0x80, 0x18][..])
        || !attest.windows(34).any(|w| w == extra_data)
    {
        return false;
    }

    // The wallet's EIP-191 signature over the challenge.
    let mut prefixed = b"\x19Ethereum Signed Message:\n32".to_vec();
    prefixed.extend_from_slice(&challenge);
    let digest = Keccak256::digest(&prefixed);
    let sig = evidence.wallet_signature;
    let Ok(signature) = K256Signature::from_scalars(sig.r, sig.s) else {
        return false;
    };
    let Ok(key) =
        K256Key::recover_from_prehash(&digest, &signature, RecoveryId::new(sig.y_parity, false))
    else {
        return false;
    };
    let point = key.to_encoded_point(false);
    let hashed = Keccak256::digest(&point.as_bytes()[1..]);
    hashed[12..] == evidence.account.address.0
}

fuzz_target!(|data: &[u8]| {
    let Ok(evidence) = Evidence::parse(data) else {
        return;
    };
    let mut out = vec![0u8; evidence.encoded_len()];
    let n = evidence.encode(&mut out).expect("parsed evidence encodes");
    assert_eq!(&out[..n], data, "parse then encode changed the evidence");
    let pinned = PinnedAk::unenrolled_for_fuzzing(sha256_name(&evidence.ak_public));
    let expectations = Expectations {
        accept_unverified_tpm: true,
        ..Expectations::default()
    };
    if let Ok(facts) = verify(&evidence, ATTEST_NONCE, &pinned, &expectations) {
        assert!(
            independently_valid(&evidence),
            "evidence verified that an independent check refuses"
        );
        assert_eq!(facts.account, evidence.account);
    }
});
