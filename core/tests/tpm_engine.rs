//! Engine-level tests against a real swtpm, one fresh instance per test.

use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport};
use wallet_core::tpm::{PcrSelection, SessionKind, Tpm, TpmRc};

fn connect(swtpm: &Swtpm) -> Tpm<StdTransport> {
    let transport = transport::open(&swtpm.tcti()).expect("tcti");
    let mut tpm = Tpm::new(transport).expect("entropy");
    // These tests drive the engine's session mechanics; the EK-salted
    // path has its own tests (tpm_identity.rs).
    tpm.salt_sessions_to_unverified_srk();
    tpm
}

#[test]
fn startup_twice_is_fine() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = connect(&swtpm);
    tpm.startup()
        .expect("first startup (already started by swtpm)");
    tpm.startup().expect("second startup");
    assert_eq!(tpm.commands_sent(), 2);
}

#[test]
fn get_random_fills_the_buffer() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = connect(&swtpm);
    let mut a = [0u8; 70];
    let mut b = [0u8; 70];
    tpm.get_random(&mut a).expect("random");
    tpm.get_random(&mut b).expect("random");
    assert_ne!(a, [0u8; 70]);
    assert_ne!(a, b);
}

#[test]
fn srk_name_is_stable_across_calls_and_restarts_but_not_tpms() {
    let mut swtpm = Swtpm::start_temporary().expect("swtpm");
    let first = {
        let mut tpm = connect(&swtpm);
        let srk = tpm.create_srk().expect("srk");
        tpm.flush_context(srk.handle()).expect("flush");
        let again = tpm.create_srk().expect("srk again");
        tpm.flush_context(again.handle()).expect("flush");
        assert_eq!(srk.name(), again.name());
        assert_eq!(srk.point_x(), again.point_x());
        *srk.name()
    };
    swtpm.restart().expect("restart on the same state");
    let mut tpm = connect(&swtpm);
    let srk = tpm.create_srk().expect("srk after restart");
    tpm.flush_context(srk.handle()).expect("flush");
    assert_eq!(*srk.name(), first, "same TPM, same SRK Name");

    let other = Swtpm::start_temporary().expect("second swtpm");
    let mut tpm = connect(&other);
    let srk = tpm.create_srk().expect("srk on another TPM");
    assert_ne!(*srk.name(), first, "another TPM has another SRK");
}

#[test]
fn salted_session_round_trip() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = connect(&swtpm);
    let srk = tpm.create_srk().expect("srk");
    let session = tpm
        .start_salted_session(&srk, SessionKind::Hmac)
        .expect("salted session");
    assert!(session.is_salted());
    tpm.flush_context(session.handle()).expect("flush session");
    tpm.flush_context(srk.handle()).expect("flush srk");
}

#[test]
fn pcr_read_and_extend() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = connect(&swtpm);
    let all = PcrSelection::from_bitmap(0x00FF_FFFF).expect("selection");
    let before = tpm.pcr_read(all).expect("read all 24");
    assert_eq!(before.values.len(), 24);
    tpm.pcr_extend(16, &[0xAB; 32]).expect("extend");
    let after = tpm.pcr_read(all).expect("read again");
    assert_ne!(before.get(16), after.get(16));
    assert_eq!(before.get(15), after.get(15));
    // PCR 0 is not extendable from locality 0 on swtpm? It is; but the reset
    // value of PCR 16 is zero, so the new value is SHA-256(zeros || digest).
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(before.get(16).expect("pcr 16"));
    hash.update([0xAB; 32]);
    assert_eq!(after.get(16).expect("pcr 16")[..], hash.finalize()[..]);
    assert_eq!(TpmRc::OBJECT_MEMORY.name(), "TPM_RC_OBJECT_MEMORY");
}

#[test]
fn read_public_gives_the_srk_name() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = connect(&swtpm);
    let srk = tpm.create_srk().expect("srk");
    let (name, area) = tpm.read_public(srk.handle()).expect("read public");
    assert_eq!(&name, srk.name());
    assert_eq!(name, wallet_core::tpm::Name::of_public_area(&area));
    tpm.flush_context(srk.handle()).expect("flush");
    // A flushed handle is refused with a response code as data: swtpm answers
    // the warning TPM_RC_REFERENCE_H0 (handle 0 refers to nothing loaded).
    let error = tpm.read_public(srk.handle()).expect_err("flushed");
    let rc = error.rc().expect("a TPM response code");
    assert_eq!(rc.name(), "TPM_RC_REFERENCE_H0");
    assert!(rc.is_warning());
    assert_eq!(rc.index(), None);
    assert!(error
        .to_string()
        .contains("TPM2_ReadPublic failed: TPM_RC_REFERENCE_H0 (0x910)"));
}
