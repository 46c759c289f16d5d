//! Key locks against a real swtpm: a PIN (PolicyAuthValue, counted by the
//! dictionary-attack lockout), the unseal-once-per-boot lock and their
//! combination with a PCR binding. An unsealer that holds the sealed blobs
//! and full access to the TPM, but not the PIN, tries every authorization the
//! TPM offers for `TPM2_Unseal` and for the object's admin role, and fails.

use wallet_core::seal::{self, KeyLock, PinAuth, SealError, SealedObject};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, Transport};
use wallet_core::tpm::{ParameterEncryption, PcrSelection, SessionKind, Tpm, TpmError, TpmRc};

const SECRET: [u8; 32] = [
    0x4c, 0x0b, 0x83, 0x2a, 0x91, 0x6e, 0x5f, 0x07, 0xd2, 0x3a, 0x18, 0xc4, 0x77, 0xe9, 0x05, 0xb1,
    0x2d, 0x9f, 0x60, 0x13, 0xaa, 0x48, 0xce, 0x71, 0x0e, 0x35, 0xf6, 0x82, 0x59, 0xbd, 0x24, 0x93,
];

const ENC: ParameterEncryption = ParameterEncryption::Aes128Cfb;

/// `TPM_RC_AUTH_UNAVAILABLE`: the object has no `userWithAuth`.
const RC_AUTH_UNAVAILABLE: u32 = 0x12F;
/// `TPM_RC_AUTH_TYPE`: this authorization needs a policy session.
const RC_AUTH_TYPE: u32 = 0x124;
/// `TPM_RC_AUTH_FAIL`.
const RC_AUTH_FAIL: u32 = 0x08E;
/// `TPM_RC_BAD_AUTH`.
const RC_BAD_AUTH: u32 = 0x0A2;

/// A TPM whose secret-bearing sessions (sealing, the policy sessions of an
/// unseal) are salted to its EK, verified against the simulator's CA.
fn open(swtpm: &Swtpm) -> Tpm<StdTransport> {
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    let identity = wallet_core::tpm::ek::establish(&mut tpm, &swtpm.trust()).expect("EK");
    assert!(identity.verified);
    tpm
}

fn pin(text: &str) -> PinAuth {
    PinAuth::from_pin(text.as_bytes()).expect("pin")
}

fn rc_of(response: &[u8]) -> u32 {
    u32::from_be_bytes([response[6], response[7], response[8], response[9]])
}

/// A raw command frame with one password authorization (`TPM_RS_PW`, empty
/// password): what any process can send.
fn password_command(command_code: u32, handles: &[u32], parameters: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&0x8002u16.to_be_bytes());
    frame.extend_from_slice(&0u32.to_be_bytes());
    frame.extend_from_slice(&command_code.to_be_bytes());
    for handle in handles {
        frame.extend_from_slice(&handle.to_be_bytes());
    }
    frame.extend_from_slice(&9u32.to_be_bytes());
    frame.extend_from_slice(&0x4000_0009u32.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0x01, 0, 0]);
    frame.extend_from_slice(parameters);
    let size = u32::try_from(frame.len()).expect("size");
    frame[2..6].copy_from_slice(&size.to_be_bytes());
    frame
}

fn send_raw(tpm: &mut Tpm<StdTransport>, frame: &[u8]) -> u32 {
    let mut response = [0u8; 4096];
    let len = tpm
        .transport_mut()
        .transact(frame, &mut response)
        .expect("transact");
    assert!(len >= 10);
    rc_of(&response[..len])
}

fn base(rc: u32) -> u32 {
    TpmRc::from_raw(rc).base()
}

fn tpm_rc(error: &TpmError) -> u32 {
    error.rc().map_or(0, |rc| rc.base())
}

/// The attacker's attempts on `sealed`, with the blobs and the TPM but no PIN.
/// Returns the response codes in the order tried; none may be success.
fn unsealer_attempts(tpm: &mut Tpm<StdTransport>, sealed: &SealedObject) -> Vec<(String, u32)> {
    let mut outcomes = Vec::new();
    let srk = tpm.create_srk().expect("srk");
    let object = tpm
        .load(&srk, sealed.public_blob(), sealed.private_blob())
        .expect("anyone can load the blobs under the SRK");

    // 1. Unseal with the empty password.
    let frame = password_command(0x15E, &[object.handle], &[]);
    outcomes.push(("password session".to_owned(), send_raw(tpm, &frame)));

    // 2. Unseal with a salted HMAC session and the empty authorization value.
    let mut hmac = tpm
        .start_salted_session(&srk, SessionKind::Hmac)
        .expect("hmac session");
    let result = tpm.unseal(&object, &mut hmac, ENC);
    tpm.flush_or_defer(hmac.handle());
    outcomes.push((
        "HMAC session".to_owned(),
        result.map_or_else(|e| tpm_rc(&e), |_| 0),
    ));

    // 3. A policy session that satisfies the PCR part (the PCRs are where they
    //    are) but not the PIN part.
    if let Some(selection) = sealed.lock().policy_pcrs() {
        let mut policy = tpm
            .start_salted_session(&srk, SessionKind::Policy)
            .expect("policy session");
        tpm.policy_pcr(&policy, selection).expect("PolicyPCR");
        let result = tpm.unseal(&object, &mut policy, ENC);
        tpm.flush_or_defer(policy.handle());
        outcomes.push((
            "policy session (PolicyPCR)".to_owned(),
            result.map_or_else(|e| tpm_rc(&e), |_| 0),
        ));
    }

    // 4. A policy session with PolicyAuthValue and the empty authorization
    //    value (a guess of "no PIN"): counted as a failure.
    let mut policy = tpm
        .start_salted_session(&srk, SessionKind::Policy)
        .expect("policy session");
    if let Some(selection) = sealed.lock().policy_pcrs() {
        tpm.policy_pcr(&policy, selection).expect("PolicyPCR");
    }
    tpm.policy_auth_value(&policy).expect("PolicyAuthValue");
    let result = tpm.unseal(&object, &mut policy, ENC);
    tpm.flush_or_defer(policy.handle());
    outcomes.push((
        "policy session (PolicyAuthValue, empty auth)".to_owned(),
        result.map_or_else(|e| tpm_rc(&e), |_| 0),
    ));

    // 5. The parent's authorization: the SRK has an empty password, and with it
    //    the attacker asks for the object's authorization to be changed
    //    (TPM2_ObjectChangeAuth, object then parent) to a value it knows.
    let mut parameters = Vec::new();
    parameters.extend_from_slice(&4u16.to_be_bytes());
    parameters.extend_from_slice(b"mine");
    let frame = password_command(0x150, &[object.handle, srk.handle()], &parameters);
    outcomes.push((
        "ObjectChangeAuth with the empty password".to_owned(),
        send_raw(tpm, &frame),
    ));

    tpm.flush_or_defer(object.handle);
    tpm.flush_or_defer(srk.handle());
    outcomes
}

fn assert_all_refused(outcomes: &[(String, u32)]) {
    for (attempt, rc) in outcomes {
        assert_ne!(*rc, 0, "{attempt} was accepted");
    }
}

#[test]
fn a_pin_locked_key_unseals_only_with_its_pin() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    tpm.set_dictionary_attack_parameters(10, 1000, 1000)
        .expect("DA parameters");
    let sealed = seal::seal_locked(
        &mut tpm,
        None,
        &SECRET,
        KeyLock::PIN,
        Some(&pin("1234")),
        ENC,
    )
    .expect("seal with a PIN");
    assert!(sealed.policy_digest().is_some());
    let name = *sealed.srk_name();

    let unsealed =
        seal::unseal_locked(&mut tpm, &name, &sealed, Some(&pin("1234")), ENC).expect("unseal");
    assert_eq!(*unsealed, SECRET);

    let before = tpm.commands_sent();
    assert_eq!(
        seal::unseal_locked(&mut tpm, &name, &sealed, None, ENC).expect_err("no PIN"),
        SealError::PinRequired
    );
    assert_eq!(tpm.commands_sent(), before, "nothing is sent without a PIN");

    let error = seal::unseal_locked(&mut tpm, &name, &sealed, Some(&pin("1235")), ENC)
        .expect_err("wrong PIN");
    assert_eq!(
        error,
        SealError::WrongPin {
            failures: 1,
            max_tries: 10
        }
    );
    assert!(error.to_string().contains("wrong PIN"), "{error}");
    assert!(error.to_string().contains("1 of 10"), "{error}");

    // The object has no noDA and no userWithAuth; rebuilding it as unlocked or
    // without the PIN bit is refused.
    for lock in [KeyLock::UNLOCKED, KeyLock::BOOT_ONCE] {
        assert_eq!(
            SealedObject::from_locked_parts(
                sealed.public_blob(),
                sealed.private_blob(),
                name,
                lock,
                sealed.policy_digest().copied()
            ),
            Err(SealError::InvalidSealedObject),
            "{lock:?}"
        );
    }
    let rebuilt = SealedObject::from_locked_parts(
        sealed.public_blob(),
        sealed.private_blob(),
        name,
        KeyLock::PIN,
        sealed.policy_digest().copied(),
    )
    .expect("rebuilt");
    assert_eq!(rebuilt, sealed);
    assert!(tpm.pending_flushes().is_empty());
}

#[test]
fn an_unsealer_without_the_pin_cannot_unseal() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    tpm.set_dictionary_attack_parameters(10, 1000, 1000)
        .expect("DA parameters");
    let lock = KeyLock {
        pin: true,
        pcrs: Some(PcrSelection::from_indices(&[16]).expect("selection")),
        boot_once_pcr: None,
    };
    let sealed =
        seal::seal_locked(&mut tpm, None, &SECRET, lock, Some(&pin("4321")), ENC).expect("seal");

    let outcomes = unsealer_attempts(&mut tpm, &sealed);
    assert_all_refused(&outcomes);
    let rcs: Vec<u32> = outcomes.iter().map(|(_, rc)| base(*rc)).collect();
    assert_eq!(rcs[0], RC_AUTH_UNAVAILABLE, "{outcomes:?}");
    assert_eq!(rcs[1], RC_AUTH_UNAVAILABLE, "{outcomes:?}");
    assert_eq!(rcs[2], TpmRc::POLICY_FAIL.base(), "{outcomes:?}");
    assert!(
        [RC_AUTH_FAIL, RC_BAD_AUTH].contains(&rcs[3]),
        "{outcomes:?}"
    );
    // adminWithPolicy: the admin role takes only a policy session.
    assert_eq!(rcs[4], RC_AUTH_TYPE, "{outcomes:?}");
    // The guess at the authorization value was counted.
    let state = seal::dictionary_attack_state(&mut tpm).expect("DA state");
    assert_eq!(state.failures, 1, "{state:?}");

    // The owner, with the PIN, still unseals.
    let unsealed = seal::unseal_locked(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        Some(&pin("4321")),
        ENC,
    )
    .expect("unseal with the PIN");
    assert_eq!(*unsealed, SECRET);
}

#[test]
fn wrong_pins_hit_the_dictionary_attack_lockout() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    tpm.set_dictionary_attack_parameters(3, 1000, 1000)
        .expect("DA parameters");
    let state = seal::dictionary_attack_state(&mut tpm).expect("DA state");
    assert_eq!(state.max_tries, 3);
    assert_eq!(state.recovery_seconds, 1000);
    assert_eq!(state.lockout_recovery_seconds, 1000);
    assert!(!state.locked_out());

    let sealed = seal::seal_locked(
        &mut tpm,
        None,
        &SECRET,
        KeyLock::PIN,
        Some(&pin("2468")),
        ENC,
    )
    .expect("seal");
    let name = *sealed.srk_name();
    let mut errors = Vec::new();
    for _ in 0..4 {
        errors.push(
            seal::unseal_locked(&mut tpm, &name, &sealed, Some(&pin("0000")), ENC)
                .expect_err("wrong PIN"),
        );
    }
    assert_eq!(
        errors[..3],
        [
            SealError::WrongPin {
                failures: 1,
                max_tries: 3
            },
            SealError::WrongPin {
                failures: 2,
                max_tries: 3
            },
            SealError::WrongPin {
                failures: 3,
                max_tries: 3
            },
        ]
    );
    assert_eq!(
        errors[3],
        SealError::LockedOut {
            max_tries: 3,
            recovery_seconds: 1000
        }
    );
    assert!(errors[3].to_string().contains("lockout"), "{}", errors[3]);
    // Locked out, even the right PIN is refused.
    assert!(matches!(
        seal::unseal_locked(&mut tpm, &name, &sealed, Some(&pin("2468")), ENC),
        Err(SealError::LockedOut { .. })
    ));
    assert!(seal::dictionary_attack_state(&mut tpm)
        .expect("DA state")
        .locked_out());
}

#[test]
fn a_boot_once_key_unseals_once_per_boot() {
    let mut swtpm = Swtpm::start_temporary().expect("swtpm");
    let lock = KeyLock::BOOT_ONCE;
    let sealed = {
        let mut tpm = open(&swtpm);
        // Sealing checks the copy with one unseal: the one of this boot.
        let sealed = seal::seal_locked(&mut tpm, None, &SECRET, lock, None, ENC).expect("seal");
        let pcr = tpm
            .pcr_read(PcrSelection::from_indices(&[14]).expect("selection"))
            .expect("read PCR 14");
        assert_ne!(pcr.get(14), Some(&[0u8; 32]), "PCR 14 was extended");

        let error = seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, ENC)
            .expect_err("second unseal in the same boot");
        assert_eq!(error, SealError::BootOnceSpent { pcr: 14 });
        assert!(error.to_string().contains("reboot"), "{error}");
        assert_all_refused(&unsealer_attempts(&mut tpm, &sealed));
        sealed
    };

    // A reboot: PCRs 0..=15 return to their boot values.
    swtpm.restart().expect("restart");
    {
        let mut tpm = open(&swtpm);
        let unsealed = seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, ENC)
            .expect("the first unseal after the reboot");
        assert_eq!(*unsealed, SECRET);
        // Whoever comes next, the wallet again or another process, is refused.
        assert_eq!(
            seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, ENC)
                .expect_err("second unseal"),
            SealError::BootOnceSpent { pcr: 14 }
        );
        assert_all_refused(&unsealer_attempts(&mut tpm, &sealed));
    }
}

#[test]
fn pin_boot_once_and_pcrs_combine() {
    let mut swtpm = Swtpm::start_temporary().expect("swtpm");
    let lock = KeyLock {
        pin: true,
        pcrs: Some(PcrSelection::from_indices(&[16]).expect("selection")),
        boot_once_pcr: Some(9),
    };
    let sealed = {
        let mut tpm = open(&swtpm);
        let sealed = seal::seal_locked(&mut tpm, None, &SECRET, lock, Some(&pin("9999")), ENC)
            .expect("seal");
        assert_eq!(
            seal::unseal_locked(
                &mut tpm,
                sealed.srk_name(),
                &sealed,
                Some(&pin("9999")),
                ENC
            )
            .expect_err("spent this boot"),
            SealError::PcrMismatch
        );
        sealed
    };
    swtpm.restart().expect("restart");
    let mut tpm = open(&swtpm);
    let unsealed = seal::unseal_locked(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        Some(&pin("9999")),
        ENC,
    )
    .expect("after the reboot, with the PIN");
    assert_eq!(*unsealed, SECRET);
}

#[test]
fn a_boot_once_pcr_must_be_non_resettable() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    for index in [0, 7, 16, 23] {
        let lock = KeyLock {
            boot_once_pcr: Some(index),
            ..KeyLock::UNLOCKED
        };
        assert_eq!(
            seal::seal_locked(&mut tpm, None, &SECRET, lock, None, ENC).expect_err("refused"),
            SealError::InvalidBootOncePcr(index)
        );
    }
    assert_eq!(
        seal::seal_locked(&mut tpm, None, &SECRET, KeyLock::PIN, None, ENC).expect_err("no PIN"),
        SealError::PinRequired
    );
    assert_eq!(
        PinAuth::from_pin(b"").expect_err("empty"),
        SealError::EmptyPin
    );
    assert_eq!(format!("{:?}", pin("1234")), "PinAuth(<redacted>)");
}

#[test]
fn command_counts_of_a_pin_unseal_and_a_counter_increment() {
    use wallet_core::counter::{self, CounterAuth};
    use wallet_core::signer::SecretKey;
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = open(&swtpm);
    let sealed = seal::seal_locked(
        &mut tpm,
        None,
        &SECRET,
        KeyLock::PIN,
        Some(&pin("1357")),
        ENC,
    )
    .expect("seal");
    let before = tpm.commands_sent();
    seal::unseal_locked(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        Some(&pin("1357")),
        ENC,
    )
    .expect("unseal");
    // CreatePrimary (SRK), ReadPublic of the EK the session is salted to
    // (at its TCG persistent handle, where the simulator keeps it, as
    // platforms do: nothing to flush), StartAuthSession, Load,
    // PolicyAuthValue, Unseal (ends its session), FlushContext of the object
    // and of the SRK.
    assert_eq!(tpm.commands_sent() - before, 8);

    // Under the persistent SRK proven resident (what the wallet does): each
    // unseal is StartAuthSession (salted to that SRK, no EK re-derived),
    // Load, PolicyAuthValue, Unseal and FlushContext of the object.
    let resident = seal::resident_srk(&mut tpm, sealed.srk_name())
        .expect("resident")
        .expect("persistent SRK");
    assert_eq!(resident.handle(), seal::PERSISTENT_SRK_HANDLE);
    for _ in 0..3 {
        let before = tpm.commands_sent();
        let secret = seal::unseal_resident(&mut tpm, &resident, &sealed, Some(&pin("1357")), ENC)
            .expect("unseal");
        assert_eq!(*secret, SECRET);
        assert_eq!(tpm.commands_sent() - before, 5);
    }
    // A wrong PIN is the TPM's refusal, counted; nothing stays loaded.
    assert!(matches!(
        seal::unseal_resident(&mut tpm, &resident, &sealed, Some(&pin("0000")), ENC),
        Err(SealError::WrongPin { failures: 1, .. })
    ));
    assert!(tpm
        .handles_in_range(0x8000_0000)
        .expect("handles")
        .is_empty());

    let srk_name = seal::srk_name(&mut tpm).expect("srk");
    let auth = CounterAuth::derive(&SecretKey::from_bytes(&SECRET).expect("key"));
    let (index, first) = counter::define(&mut tpm, &srk_name, &[7; 20], &auth).expect("define");
    assert_eq!(index >> 22, 0x0180_0000 >> 22, "owner NV range");
    let before = tpm.commands_sent();
    counter::increment(&mut tpm, index, &auth).expect("increment");
    // StartAuthSession, NV_Increment (ends its session).
    assert_eq!(tpm.commands_sent() - before, 2);
    assert_eq!(
        counter::read(&mut tpm, index, &auth).expect("read"),
        first + 1
    );

    // Another authorization value can neither increment nor read it.
    let other = CounterAuth::derive(&SecretKey::from_bytes(&[0x11; 32]).expect("key"));
    assert!(counter::increment(&mut tpm, index, &other).is_err());
    assert!(counter::read(&mut tpm, index, &other).is_err());
    assert_eq!(
        counter::read(&mut tpm, index, &auth).expect("read"),
        first + 1
    );
}
