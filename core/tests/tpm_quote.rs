//! The attestation key and quotes against a real swtpm.

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::EncodedPoint;
use sha2::{Digest, Sha256};
use tpm2_protocol::data::{TpmtPublic, TpmuPublicId};
use tpm2_protocol::TpmUnmarshal;
use wallet_core::tpm::quote::{ST_ATTEST_QUOTE, TPM_GENERATED_VALUE};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport;
use wallet_core::tpm::{Name, PcrSelection, Tpm};

/// Reads a TPM2B at `at`, returning its contents and the offset after it.
fn sized(bytes: &[u8], at: usize) -> (&[u8], usize) {
    let len = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
    (&bytes[at + 2..at + 2 + len], at + 2 + len)
}

fn ak_verifying_key(ak_public: &[u8]) -> VerifyingKey {
    let (public, rest) = TpmtPublic::unmarshal(ak_public).expect("AK public area");
    assert!(rest.is_empty());
    let TpmuPublicId::Ecc(point) = public.unique else {
        panic!("the AK is not an ECC key")
    };
    let encoded =
        EncodedPoint::from_affine_coordinates((&point.x[..]).into(), (&point.y[..]).into(), false);
    VerifyingKey::from_encoded_point(&encoded).expect("AK point")
}

#[test]
fn quote_is_a_signed_tpms_attest_over_the_pcrs() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    tpm.pcr_extend(3, &[0x33; 32]).expect("extend PCR 3");
    let qualifying: [u8; 32] = Sha256::digest(b"challenge").into();
    let quote = tpm
        .create_ak_and_quote(&qualifying, PcrSelection::DEFAULT_QUOTE)
        .expect("quote");

    // TPMS_ATTEST (TPM 2.0 Library Part 2, section 10.12.12).
    let attest = &quote.attest[..];
    assert_eq!(
        u32::from_be_bytes(attest[0..4].try_into().unwrap()),
        TPM_GENERATED_VALUE
    );
    assert_eq!(u16::from_be_bytes([attest[4], attest[5]]), ST_ATTEST_QUOTE);
    let (_qualified_signer, at) = sized(attest, 6);
    let (extra_data, at) = sized(attest, at);
    assert_eq!(extra_data, qualifying);
    // clockInfo (17 bytes) and firmwareVersion (8 bytes), then TPMS_QUOTE_INFO.
    let at = at + 17 + 8;
    let selection = &attest[at..at + PcrSelection::TPML_LEN];
    assert_eq!(selection, PcrSelection::DEFAULT_QUOTE.to_tpml_bytes());
    let (pcr_digest, end) = sized(attest, at + PcrSelection::TPML_LEN);
    assert_eq!(end, attest.len(), "nothing after the quote info");
    assert_eq!(pcr_digest, quote.pcrs.digest());
    assert_eq!(quote.pcrs.values.len(), 8);

    // The ECDSA signature verifies over SHA-256(attest) with the AK's key.
    let key = ak_verifying_key(&quote.ak_public);
    let signature =
        Signature::from_scalars(quote.signature_r, quote.signature_s).expect("signature scalars");
    key.verify(attest, &signature)
        .expect("the quote signature verifies");
    assert_eq!(quote.ak_name, Name::of_public_area(&quote.ak_public));

    // A flipped byte breaks it.
    let mut tampered = quote.attest.clone();
    tampered[extra_data.len()] ^= 1;
    assert!(key.verify(&tampered, &signature).is_err());
}

#[test]
fn the_ak_is_deterministic_on_one_tpm_and_differs_on_another() {
    let mut swtpm = Swtpm::start_temporary().expect("swtpm");
    let nonce = [7u8; 32];
    let first = {
        let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
        tpm.salt_sessions_to_unverified_srk();
        let a = tpm
            .create_ak_and_quote(&nonce, PcrSelection::DEFAULT_QUOTE)
            .expect("quote");
        let b = tpm
            .create_ak_and_quote(&nonce, PcrSelection::DEFAULT_QUOTE)
            .expect("quote");
        assert_eq!(a.ak_name, b.ak_name);
        assert!(tpm.pending_flushes().is_empty());
        a.ak_name
    };
    swtpm.restart().expect("restart");
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let after = tpm
        .create_ak_and_quote(&nonce, PcrSelection::DEFAULT_QUOTE)
        .expect("quote");
    assert_eq!(after.ak_name, first);

    // The AK is an endorsement-hierarchy primary: another TPM means another EK.
    let other = Swtpm::start_temporary_with_new_ek().expect("another swtpm");
    let mut tpm = Tpm::new(transport::open(&other.tcti()).expect("tcti")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let elsewhere = tpm
        .create_ak_and_quote(&nonce, PcrSelection::DEFAULT_QUOTE)
        .expect("quote");
    assert_ne!(elsewhere.ak_name, first);
}

#[test]
fn many_quotes_leave_no_handles() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let pcrs = PcrSelection::from_bitmap(0x00FF_FFFF).expect("all 24");
    for i in 0..20u8 {
        let quote = tpm.create_ak_and_quote(&[i; 32], pcrs).expect("quote");
        assert_eq!(quote.pcrs.values.len(), 24);
    }
    assert!(tpm
        .handles_in_range(0x8000_0000)
        .expect("handles")
        .is_empty());
}
