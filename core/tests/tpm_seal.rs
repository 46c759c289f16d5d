//! Sealing against a real swtpm, one fresh instance per test: round trips,
//! wire secrecy (with a control run that must find the key), a forged response
//! HMAC, PCR binding and handle hygiene over many cycles.

use wallet_core::seal::{self, SealError};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, Transport, TransportError};
use wallet_core::tpm::{Name, ParameterEncryption, PcrSelection, Tpm, TpmError, TpmRc};

/// A transport wrapper that records every byte sent and received.
struct RecordingTransport<T> {
    inner: T,
    transcript: Vec<u8>,
}

impl<T: Transport> Transport for RecordingTransport<T> {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.transcript.extend_from_slice(command);
        let len = self.inner.transact(command, response)?;
        self.transcript.extend_from_slice(&response[..len]);
        Ok(len)
    }
}

/// A hostile test double: flips one byte (inside the response HMAC) of the
/// response to every command with the given command code.
struct HmacFlippingTransport<T> {
    inner: T,
    command_code: u32,
    flipped: usize,
}

impl<T: Transport> Transport for HmacFlippingTransport<T> {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let len = self.inner.transact(command, response)?;
        let code = u32::from_be_bytes([command[6], command[7], command[8], command[9]]);
        let success = response[6..10] == [0, 0, 0, 0];
        if code == self.command_code && success && len > 10 {
            response[len - 1] ^= 0x01;
            self.flipped += 1;
        }
        Ok(len)
    }
}

fn open(swtpm: &Swtpm) -> StdTransport {
    transport::open(&swtpm.tcti()).expect("tcti")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

const SECRET: [u8; 32] = [
    0x4c, 0x0b, 0x83, 0x2a, 0x91, 0x6e, 0x5f, 0x07, 0xd2, 0x3a, 0x18, 0xc4, 0x77, 0xe9, 0x05, 0xb1,
    0x2d, 0x9f, 0x60, 0x13, 0xaa, 0x48, 0xce, 0x71, 0x0e, 0x35, 0xf6, 0x82, 0x59, 0xbd, 0x24, 0x93,
];

#[test]
fn seal_then_unseal_returns_the_secret() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let sealed = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal");
    let srk_name = *sealed.srk_name();
    assert_eq!(seal::srk_name(&mut tpm).expect("srk name"), srk_name);
    let unsealed =
        seal::unseal_secret(&mut tpm, &srk_name, &sealed, ParameterEncryption::Aes128Cfb)
            .expect("unseal");
    assert_eq!(*unsealed, SECRET);

    // The stored parts rebuild the same object.
    let rebuilt = seal::SealedObject::from_parts(
        sealed.public_blob(),
        sealed.private_blob(),
        srk_name,
        None,
        None,
    )
    .expect("from parts");
    assert_eq!(rebuilt, sealed);
    let again = seal::unseal_secret(
        &mut tpm,
        &srk_name,
        &rebuilt,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal rebuilt");
    assert_eq!(*again, SECRET);
}

#[test]
fn generated_secret_is_valid_and_seals() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let os_entropy = [0x5Au8; 32];
    let first = seal::generate_secret(&mut tpm, &os_entropy).expect("generate");
    let second = seal::generate_secret(&mut tpm, &os_entropy).expect("generate");
    assert_ne!(*first, *second, "the TPM half differs on each draw");
    assert!(k256::SecretKey::from_bytes(&(*first).into()).is_ok());
    let sealed = seal::seal_secret(&mut tpm, None, &first, None, ParameterEncryption::Aes128Cfb)
        .expect("seal");
    let unsealed = seal::unseal_secret(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal");
    assert_eq!(*unsealed, *first);
}

fn transcript_of_seal_and_unseal(encryption: ParameterEncryption) -> Vec<u8> {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut recorder = RecordingTransport {
        inner: open(&swtpm),
        transcript: Vec::new(),
    };
    {
        let mut tpm = Tpm::new(&mut recorder).expect("entropy");
        tpm.salt_sessions_to_unverified_srk();
        let sealed = seal::seal_secret(&mut tpm, None, &SECRET, None, encryption).expect("seal");
        let unsealed =
            seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, encryption).expect("unseal");
        assert_eq!(*unsealed, SECRET);
    }
    recorder.transcript
}

#[test]
fn the_secret_never_crosses_the_wire_in_clear() {
    let transcript = transcript_of_seal_and_unseal(ParameterEncryption::Aes128Cfb);
    assert!(transcript.len() > 1000, "the whole exchange was recorded");
    assert!(
        !contains(&transcript, &SECRET),
        "the key appears on the wire"
    );
    // Not even a 16-byte half of it.
    assert!(!contains(&transcript, &SECRET[..16]));
    assert!(!contains(&transcript, &SECRET[16..]));
}

#[test]
fn control_without_parameter_encryption_shows_the_secret_on_the_wire() {
    let transcript = transcript_of_seal_and_unseal(ParameterEncryption::Off);
    assert!(
        contains(&transcript, &SECRET),
        "without encryption the key must be visible, or the secrecy test proves nothing"
    );
}

#[test]
fn a_forged_unseal_response_hmac_is_refused() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let sealed = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal");
    drop(tpm);

    let mut hostile = HmacFlippingTransport {
        inner: open(&swtpm),
        command_code: 0x15E,
        flipped: 0,
    };
    {
        let mut tpm = Tpm::new(&mut hostile).expect("entropy");
        tpm.salt_sessions_to_unverified_srk();
        let error = seal::unseal_secret(
            &mut tpm,
            sealed.srk_name(),
            &sealed,
            ParameterEncryption::Aes128Cfb,
        )
        .expect_err("a forged response must be refused");
        assert_eq!(
            error,
            SealError::Tpm(TpmError::ResponseHmacMismatch { command: 0x15E })
        );
        assert!(error.to_string().contains("altered"));
        assert!(tpm.pending_flushes().is_empty());
    }
    assert_eq!(hostile.flipped, 1);
    // swtpm serves one client at a time: close this connection first.
    drop(hostile);

    // Everything was flushed: the honest path still works many times over.
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    for _ in 0..5 {
        let unsealed = seal::unseal_secret(
            &mut tpm,
            sealed.srk_name(),
            &sealed,
            ParameterEncryption::Aes128Cfb,
        )
        .expect("unseal");
        assert_eq!(*unsealed, SECRET);
    }
}

#[test]
fn a_forged_create_response_is_refused() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut hostile = HmacFlippingTransport {
        inner: open(&swtpm),
        command_code: 0x153,
        flipped: 0,
    };
    let mut tpm = Tpm::new(&mut hostile).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let error = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect_err("forged");
    assert_eq!(
        error,
        SealError::Tpm(TpmError::ResponseHmacMismatch { command: 0x153 })
    );
}

#[test]
fn srk_name_mismatch_is_refused_before_anything_is_loaded() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let other = Swtpm::start_temporary().expect("another swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let sealed = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal");
    let mut other_tpm = Tpm::new(open(&other)).expect("entropy");
    other_tpm.salt_sessions_to_unverified_srk();
    let error = seal::unseal_secret(
        &mut other_tpm,
        sealed.srk_name(),
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .expect_err("another TPM");
    assert_eq!(error, SealError::SrkNameMismatch);
    let forged_name = Name::from_bytes(&[
        0x00, 0x0B, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
        23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    ])
    .expect("name");
    assert_eq!(
        seal::seal_secret(
            &mut tpm,
            Some(&forged_name),
            &SECRET,
            None,
            ParameterEncryption::Aes128Cfb
        ),
        Err(SealError::SrkNameMismatch)
    );
}

#[test]
fn pcr_bound_unseal_fails_after_pcr_extend() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let pcrs = PcrSelection::from_indices(&[16, 23]).expect("selection");
    let sealed = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        Some(pcrs),
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal to PCRs");
    assert_eq!(sealed.pcrs(), Some(pcrs));
    assert!(sealed.policy_digest().is_some());
    let unsealed = seal::unseal_secret(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal while the PCRs are unchanged");
    assert_eq!(*unsealed, SECRET);

    // Extending a PCR outside the selection changes nothing.
    tpm.pcr_extend(15, &[7; 32]).expect("extend 15");
    seal::unseal_secret(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal after an unrelated extend");

    tpm.pcr_extend(16, &[7; 32]).expect("extend 16");
    let error = seal::unseal_secret(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .expect_err("PCR 16 moved");
    assert_eq!(error, SealError::PcrMismatch);
    assert!(error.to_string().contains("PCR"));
    // The failure flushed everything: other work goes on.
    let plain = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal after the failure");
    seal::unseal_secret(
        &mut tpm,
        plain.srk_name(),
        &plain,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal after the failure");
    // A PCR-bound object cannot be unsealed with a plain HMAC session: it has no
    // userWithAuth, which `from_parts` also insists on.
    assert_eq!(
        seal::SealedObject::from_parts(
            sealed.public_blob(),
            sealed.private_blob(),
            *sealed.srk_name(),
            None,
            None
        ),
        Err(SealError::InvalidSealedObject)
    );
}

#[test]
fn two_hundred_cycles_leave_no_handles_behind() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let sealed = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal");
    let srk_name = *sealed.srk_name();
    for cycle in 0..200 {
        let result = if cycle % 2 == 0 {
            seal::unseal_secret(&mut tpm, &srk_name, &sealed, ParameterEncryption::Aes128Cfb)
                .map(|_| ())
        } else {
            seal::seal_secret(
                &mut tpm,
                Some(&srk_name),
                &SECRET,
                None,
                ParameterEncryption::Aes128Cfb,
            )
            .map(|_| ())
        };
        match result {
            Ok(()) => {}
            Err(SealError::Tpm(TpmError::Tpm { rc, .. }))
                if rc.is(TpmRc::OBJECT_MEMORY) || rc.is(TpmRc::SESSION_MEMORY) =>
            {
                panic!("cycle {cycle}: leaked handles: {rc}")
            }
            Err(error) => panic!("cycle {cycle}: {error}"),
        }
    }
    assert!(tpm.pending_flushes().is_empty());
}

#[test]
fn command_counts_per_operation() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let before = tpm.commands_sent();
    let sealed = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        None,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal");
    // CreatePrimary, StartAuthSession, Create (ends its session), then the
    // check: StartAuthSession, Load, Unseal (ends its session), FlushContext
    // of the object, FlushContext of the SRK.
    assert_eq!(tpm.commands_sent() - before, 8);
    let before = tpm.commands_sent();
    seal::unseal_secret(
        &mut tpm,
        sealed.srk_name(),
        &sealed,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal");
    // CreatePrimary, StartAuthSession, Load, Unseal, FlushContext x2.
    assert_eq!(tpm.commands_sent() - before, 6);

    let pcrs = PcrSelection::from_indices(&[16]).expect("selection");
    let bound = seal::seal_secret(
        &mut tpm,
        None,
        &SECRET,
        Some(pcrs),
        ParameterEncryption::Aes128Cfb,
    )
    .expect("seal");
    let before = tpm.commands_sent();
    seal::unseal_secret(
        &mut tpm,
        bound.srk_name(),
        &bound,
        ParameterEncryption::Aes128Cfb,
    )
    .expect("unseal");
    // One more: PolicyPCR.
    assert_eq!(tpm.commands_sent() - before, 7);
}

/// A loopback proxy on a Unix socket in front of swtpm's socket, recording
/// each direction of the byte stream: it sees what any process on the host
/// could capture, independently of the `Transport` trait.
fn recording_proxy(
    target: std::path::PathBuf,
    listen: &std::path::Path,
) -> std::thread::JoinHandle<(Vec<u8>, Vec<u8>)> {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};

    fn pump(mut from: UnixStream, mut to: UnixStream) -> Vec<u8> {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen.extend_from_slice(&buffer[..n]);
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
        seen
    }

    let listener = UnixListener::bind(listen).expect("bind proxy");
    std::thread::spawn(move || {
        let (client, _) = listener.accept().expect("accept");
        let server = UnixStream::connect(&target).expect("connect to swtpm");
        let upstream = {
            let (client, server) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            std::thread::spawn(move || pump(client, server))
        };
        let downstream = pump(server, client);
        (upstream.join().expect("upstream"), downstream)
    })
}

fn socket_transcripts(encryption: ParameterEncryption) -> (Vec<u8>, Vec<u8>) {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let proxy_path = swtpm.dir().join("proxy.sock");
    let proxy = recording_proxy(swtpm.socket_path(), &proxy_path);
    {
        let tcti = format!("swtpm:path={}", proxy_path.display());
        let mut tpm = Tpm::new(transport::open(&tcti).expect("tcti")).expect("entropy");
        tpm.salt_sessions_to_unverified_srk();
        let sealed = seal::seal_secret(&mut tpm, None, &SECRET, None, encryption).expect("seal");
        let unsealed =
            seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, encryption).expect("unseal");
        assert_eq!(*unsealed, SECRET);
    }
    proxy.join().expect("proxy")
}

#[test]
fn a_socket_level_capture_never_sees_the_secret() {
    let (sent, received) = socket_transcripts(ParameterEncryption::Aes128Cfb);
    assert!(sent.len() > 500 && received.len() > 500);
    assert!(!contains(&sent, &SECRET));
    assert!(!contains(&received, &SECRET));

    let (sent, received) = socket_transcripts(ParameterEncryption::Off);
    assert!(contains(&sent, &SECRET), "Create carries the key in clear");
    assert!(
        contains(&received, &SECRET),
        "Unseal returns the key in clear"
    );
}
