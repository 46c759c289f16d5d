//! Credential activation against real swtpms: the software `make_credential`
//! of the verifier, `TPM2_ActivateCredential` on the wallet side, and the
//! TPM's own `TPM2_MakeCredential` as the reference.

#![allow(clippy::unwrap_used)]

use rand::rngs::OsRng;
use tpm2_protocol::data::{TpmRh, TpmtPublic};
use wallet_core::credential::{make_credential, CredentialError, CredentialSecret};
use wallet_core::tpm::command::PrimaryKey;
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport};
use wallet_core::tpm::{template, Tpm, TpmError};

/// `TPM_RC_INTEGRITY`: the outer HMAC of a credential blob does not verify.
const RC_INTEGRITY: u32 = 0x09f;
/// How a seed protected to another EK is refused: ECC derives another seed,
/// which the outer HMAC catches (`TPM_RC_INTEGRITY`); RSA-OAEP decryption
/// fails (`TPM_RC_VALUE` on the reference TPM, `TPM_RC_FAILURE` as a plain
/// response code on swtpm, whose TPM stays usable, as the test checks).
const RC_SEED_REFUSED: [u32; 3] = [0x084, 0x09f, 0x101];

fn open(swtpm: &Swtpm) -> Tpm<StdTransport> {
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    tpm.startup().expect("startup");
    tpm
}

/// The EK (from `template`) and the AK, both loaded.
fn ek_and_ak(tpm: &mut Tpm<StdTransport>, template_ek: &TpmtPublic) -> (PrimaryKey, PrimaryKey) {
    let ek = tpm
        .create_primary(TpmRh::Endorsement, template_ek)
        .expect("EK");
    let ak = tpm
        .create_primary(TpmRh::Endorsement, &template::attestation_key())
        .expect("AK");
    (ek, ak)
}

fn flush(tpm: &mut Tpm<StdTransport>, keys: &[&PrimaryKey]) {
    for key in keys {
        tpm.flush_or_defer(key.handle);
    }
}

fn rc_base(error: &TpmError) -> u32 {
    error.rc().expect("a TPM response code").base()
}

fn activation_round_trip(template_ek: &TpmtPublic) {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    let (ek, ak) = ek_and_ak(&mut tpm, template_ek);
    let secret = CredentialSecret::random(&mut OsRng);

    let blob = make_credential(
        &ek.public_area,
        ak.name.as_bytes(),
        secret.as_bytes(),
        &mut OsRng,
    )
    .expect("make_credential");
    let returned = tpm
        .activate_credential(ak.handle, ek.handle, &blob)
        .expect("the TPM activates a credential made for its EK and this AK");
    assert!(secret.matches(&returned[..]));

    // The TPM's own MakeCredential gives a blob of the same shape, and it
    // activates to the same secret.
    let reference = tpm
        .make_credential_in_tpm(ek.handle, secret.as_bytes(), &ak.name)
        .expect("TPM2_MakeCredential");
    assert_eq!(reference.id_object.len(), blob.id_object.len());
    assert_eq!(
        reference.encrypted_secret.len(),
        blob.encrypted_secret.len()
    );
    assert_ne!(reference, blob, "each blob has a fresh seed");
    let returned = tpm
        .activate_credential(ak.handle, ek.handle, &reference)
        .expect("activate the TPM-made credential");
    assert!(secret.matches(&returned[..]));

    // A credential bound to another Name does not activate for this AK.
    let mut other_name = *ak.name.as_bytes();
    other_name[33] ^= 1;
    let wrong_name =
        make_credential(&ek.public_area, &other_name, secret.as_bytes(), &mut OsRng).unwrap();
    let error = tpm
        .activate_credential(ak.handle, ek.handle, &wrong_name)
        .expect_err("another Name");
    assert_eq!(rc_base(&error), RC_INTEGRITY, "{error}");

    // A flipped bit of the encrypted identity breaks the outer HMAC.
    let mut tampered = blob.clone();
    let last = tampered.id_object.len() - 1;
    tampered.id_object[last] ^= 1;
    let error = tpm
        .activate_credential(ak.handle, ek.handle, &tampered)
        .expect_err("tampered identity");
    assert_eq!(rc_base(&error), RC_INTEGRITY, "{error}");

    flush(&mut tpm, &[&ek, &ak]);
    assert!(tpm.pending_flushes().is_empty());
    assert!(
        tpm.handles_in_range(0x0300_0000).unwrap().is_empty(),
        "every policy session is flushed"
    );
}

#[test]
fn rsa_ek_activates_a_credential_made_in_software_and_by_the_tpm() {
    activation_round_trip(&template::ek_rsa_2048());
}

#[test]
fn ecc_ek_activates_a_credential_made_in_software_and_by_the_tpm() {
    activation_round_trip(&template::ek_ecc_p256());
}

#[test]
fn a_credential_for_another_tpms_ek_cannot_be_activated() {
    for template_ek in [template::ek_ecc_p256(), template::ek_rsa_2048()] {
        let other_swtpm = Swtpm::start_temporary_with_new_ek().expect("swtpm");
        let other_ek_public = {
            let mut other = open(&other_swtpm);
            let ek = other
                .create_primary(TpmRh::Endorsement, &template_ek)
                .unwrap();
            other.flush_or_defer(ek.handle);
            ek.public_area
        };
        drop(other_swtpm);

        let swtpm = Swtpm::start_temporary().expect("swtpm");
        let mut tpm = open(&swtpm);
        let (ek, ak) = ek_and_ak(&mut tpm, &template_ek);
        assert_ne!(ek.public_area, other_ek_public, "two TPMs, two EKs");
        let secret = CredentialSecret::random(&mut OsRng);
        // Made for the other TPM's EK and this TPM's AK Name.
        let blob = make_credential(
            &other_ek_public,
            ak.name.as_bytes(),
            secret.as_bytes(),
            &mut OsRng,
        )
        .unwrap();
        let error = tpm
            .activate_credential(ak.handle, ek.handle, &blob)
            .expect_err("the seed is protected to another EK");
        assert!(
            RC_SEED_REFUSED.contains(&rc_base(&error)),
            "unexpected refusal: {error}"
        );
        // The refusal is about the blob, not the TPM: its own credential still activates.
        let own = make_credential(
            &ek.public_area,
            ak.name.as_bytes(),
            secret.as_bytes(),
            &mut OsRng,
        )
        .unwrap();
        let returned = tpm.activate_credential(ak.handle, ek.handle, &own).unwrap();
        assert!(secret.matches(&returned[..]));
        flush(&mut tpm, &[&ek, &ak]);
    }
}

#[test]
fn make_credential_refuses_keys_that_are_not_storage_keys() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    let ak = tpm
        .create_primary(TpmRh::Endorsement, &template::attestation_key())
        .unwrap();
    tpm.flush_or_defer(ak.handle);
    // A signing key is no place to protect a credential to.
    assert_eq!(
        make_credential(&ak.public_area, ak.name.as_bytes(), &[1; 32], &mut OsRng),
        Err(CredentialError::EkAttributes)
    );
    let srk = tpm.create_srk().unwrap();
    let (_, srk_area) = tpm.read_public(srk.handle()).unwrap();
    tpm.flush_or_defer(srk.handle());
    // The SRK is a storage key: accepted (its symmetric definition is AES-128-CFB too).
    assert!(make_credential(&srk_area, ak.name.as_bytes(), &[1; 32], &mut OsRng).is_ok());
    assert_eq!(
        make_credential(&srk_area, &ak.name.as_bytes()[..33], &[1; 32], &mut OsRng),
        Err(CredentialError::ObjectNameInvalid)
    );
    assert_eq!(
        make_credential(&srk_area, ak.name.as_bytes(), &[], &mut OsRng),
        Err(CredentialError::CredentialLength)
    );
    assert_eq!(
        make_credential(&srk_area, ak.name.as_bytes(), &[1; 33], &mut OsRng),
        Err(CredentialError::CredentialLength)
    );
}
