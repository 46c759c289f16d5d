//! Data sealed to a real swtpm: round trips, tampering, and another TPM.

use wallet_core::seal::{self, SealError};
use wallet_core::sealed_data::{seal_data, unseal_data, SealedDataError, TAG_LEN};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport};
use wallet_core::tpm::{Name, ParameterEncryption, Tpm};
use wallet_core::Error;

fn open(swtpm: &Swtpm) -> (Tpm<StdTransport>, Name) {
    let transport = transport::open(&swtpm.tcti()).expect("tcti");
    let mut tpm = Tpm::new(transport).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    tpm.startup().expect("startup");
    let name = seal::srk_name(&mut tpm).expect("srk name");
    (tpm, name)
}

const ENC: ParameterEncryption = ParameterEncryption::Aes128Cfb;

#[test]
fn data_round_trips_and_each_blob_is_different() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let (mut tpm, name) = open(&swtpm);
    for data in [&b""[..], b"x", &[0xa5u8; 5000][..]] {
        let blob = seal_data(&mut tpm, &name, data, ENC).unwrap();
        if data.len() >= 4 {
            assert!(
                !blob.windows(data.len()).any(|w| w == data),
                "data in clear"
            );
        }
        assert_eq!(&unseal_data(&mut tpm, &name, &blob, ENC).unwrap()[..], data);
        let again = seal_data(&mut tpm, &name, data, ENC).unwrap();
        assert_ne!(blob, again, "a fresh data key and IV for every blob");
    }
}

#[test]
fn a_flipped_ciphertext_or_tag_byte_fails_authentication() {
    let swtpm = Swtpm::start_temporary().unwrap();
    let (mut tpm, name) = open(&swtpm);
    let blob = seal_data(&mut tpm, &name, b"the backup of a key", ENC).unwrap();
    for index in [blob.len() - TAG_LEN - 3, blob.len() - 1] {
        let mut altered = blob.clone();
        altered[index] ^= 0x01;
        assert_eq!(
            unseal_data(&mut tpm, &name, &altered, ENC).unwrap_err(),
            Error::SealedData(SealedDataError::AuthenticationFailed)
        );
    }
    // The TPM is still usable: nothing leaked a handle.
    assert_eq!(
        &unseal_data(&mut tpm, &name, &blob, ENC).unwrap()[..],
        b"the backup of a key"
    );
}

#[test]
fn another_tpm_cannot_open_the_blob() {
    let first = Swtpm::start_temporary().unwrap();
    let second = Swtpm::start_temporary().unwrap();
    let (mut tpm1, name1) = open(&first);
    let (mut tpm2, name2) = open(&second);
    assert_ne!(name1, name2);
    let blob = seal_data(&mut tpm1, &name1, b"secret", ENC).unwrap();
    assert_eq!(
        unseal_data(&mut tpm2, &name2, &blob, ENC).unwrap_err(),
        Error::Seal(SealError::SrkNameMismatch)
    );
    // Claiming the first TPM's Name does not help: its SRK is not this TPM's.
    assert!(unseal_data(&mut tpm2, &name1, &blob, ENC).is_err());
}
