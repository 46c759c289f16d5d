//! Transports against a real swtpm: Unix socket and TCP, reconnection after a
//! dropped connection, time limits, TCTI strings and the default resolver.

use std::os::unix::net::UnixListener;
use std::time::Duration;

use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{
    self, SocketTransport, Timeouts, Transport, TransportError, DEFAULT_DEVICE, TPM_ENV_VAR,
};
use wallet_core::tpm::{Tpm, TpmError};

const GET_RANDOM_8: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8];

#[test]
fn tcp_transport_reaches_swtpm() {
    let swtpm = Swtpm::start_tcp_temporary().expect("swtpm on TCP");
    assert!(swtpm.tcti().starts_with("swtpm:host=127.0.0.1,port="));
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    tpm.startup().expect("startup");
    let mut random = [0u8; 16];
    tpm.get_random(&mut random).expect("random");
    assert_ne!(random, [0; 16]);
}

#[test]
fn raw_frame_over_the_unix_socket() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut socket = SocketTransport::unix(swtpm.socket_path());
    let mut response = [0u8; 4096];
    let len = socket
        .transact(&GET_RANDOM_8, &mut response)
        .expect("frame");
    // TPM_ST_NO_SESSIONS, size 20, TPM_RC_SUCCESS, TPM2B of 8 bytes.
    assert_eq!(len, 20);
    assert_eq!(&response[..10], &[0x80, 0x01, 0, 0, 0, 20, 0, 0, 0, 0]);
    assert_eq!(&response[10..12], &[0, 8]);
}

#[test]
fn a_dropped_connection_is_reported_and_the_next_call_reconnects() {
    let mut swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).expect("tcti")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let mut random = [0u8; 8];
    tpm.get_random(&mut random).expect("before the drop");

    swtpm.restart().expect("restart drops the connection");
    let error = tpm
        .get_random(&mut random)
        .expect_err("the old connection is gone");
    assert_eq!(error, TpmError::Transport(TransportError::ConnectionLost));
    assert!(error.to_string().contains("next command reconnects"));

    tpm.get_random(&mut random).expect("reconnected");
    let srk = tpm.create_srk().expect("commands work after reconnecting");
    tpm.flush_context(srk.handle()).expect("flush");
}

#[test]
fn an_explicit_disconnect_reconnects_on_demand() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut socket = SocketTransport::unix(swtpm.socket_path());
    let mut response = [0u8; 4096];
    assert!(!socket.is_connected());
    socket
        .transact(&GET_RANDOM_8, &mut response)
        .expect("first");
    assert!(socket.is_connected());
    socket.disconnect();
    assert!(!socket.is_connected());
    socket
        .transact(&GET_RANDOM_8, &mut response)
        .expect("after disconnect");
}

#[test]
fn a_peer_that_never_takes_the_connection_is_reported_busy() {
    let dir = std::env::temp_dir().join(format!("flare-silent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("silent.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).expect("bind");
    let server = std::thread::spawn(move || {
        // Accept and read, but never answer: a TPM busy elsewhere.
        let (stream, _) = listener.accept().expect("accept");
        std::thread::sleep(Duration::from_millis(800));
        drop(stream);
    });
    let mut socket = SocketTransport::unix(&path).with_timeouts(Timeouts {
        connect: Duration::from_millis(200),
        io: Duration::from_secs(60),
        busy: Duration::from_millis(200),
    });
    let mut response = [0u8; 4096];
    let error = socket
        .transact(&GET_RANDOM_8, &mut response)
        .expect_err("never answered");
    assert_eq!(error, TransportError::Busy);
    assert!(error
        .to_string()
        .starts_with("TPM busy (held by another client)"));
    assert!(!socket.is_connected(), "a busy connection is dropped");
    server.join().expect("server");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_peer_that_answers_the_probe_then_falls_silent_times_out() {
    let dir = std::env::temp_dir().join(format!("flare-mute-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("mute.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).expect("bind");
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().expect("accept");
        let mut probe = [0u8; 12];
        stream.read_exact(&mut probe).expect("probe");
        // TPM2_GetRandom of 0 bytes.
        assert_eq!(probe, [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 0]);
        stream
            .write_all(&[0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0])
            .expect("answer");
        std::thread::sleep(Duration::from_millis(800));
        drop(stream);
    });
    let mut socket = SocketTransport::unix(&path).with_timeouts(Timeouts {
        connect: Duration::from_millis(200),
        io: Duration::from_millis(200),
        busy: Duration::from_secs(5),
    });
    let mut response = [0u8; 4096];
    assert_eq!(
        socket.transact(&GET_RANDOM_8, &mut response),
        Err(TransportError::Timeout)
    );
    assert!(!socket.is_connected(), "a timed-out stream is dropped");
    server.join().expect("server");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clients_that_connect_per_operation_take_turns_on_one_swtpm() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let path = swtpm.socket_path();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut socket = SocketTransport::unix(&path);
                let mut response = [0u8; 4096];
                for _ in 0..50 {
                    let len = socket
                        .transact(&GET_RANDOM_8, &mut response)
                        .expect("a turn comes");
                    assert_eq!(len, 20);
                    socket.end_operation();
                    assert!(!socket.is_connected());
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client");
    }
}

#[test]
fn a_persistent_client_keeps_swtpm_and_a_second_one_is_told_busy() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let mut holder = SocketTransport::unix(swtpm.socket_path()).persistent();
    let mut response = [0u8; 4096];
    holder.transact(&GET_RANDOM_8, &mut response).expect("held");
    holder.end_operation();
    assert!(holder.is_connected(), "a persistent connection stays open");
    let mut second = SocketTransport::unix(swtpm.socket_path());
    assert_eq!(
        second.transact(&GET_RANDOM_8, &mut response),
        Err(TransportError::Busy)
    );
    // Once the holder lets go, the second client is served.
    holder.disconnect();
    second
        .transact(&GET_RANDOM_8, &mut response)
        .expect("served");
}

#[test]
fn a_missing_socket_fails_to_connect() {
    let mut transport =
        transport::open("swtpm:path=/nonexistent/flare-wallet.sock").expect("parses");
    let mut response = [0u8; 4096];
    assert_eq!(
        transport.transact(&GET_RANDOM_8, &mut response),
        Err(TransportError::ConnectFailed)
    );
    assert!(matches!(
        transport::open("device:/nonexistent/tpmrm0"),
        Err(TransportError::ConnectFailed)
    ));
    assert!(matches!(
        transport::open("mssim:host=localhost"),
        Err(TransportError::InvalidTcti)
    ));
}

#[test]
fn the_default_resolver_uses_the_environment_then_the_device() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    std::env::set_var(TPM_ENV_VAR, swtpm.tcti());
    let mut tpm =
        Tpm::new(transport::open_default().expect("from the environment")).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    let mut random = [0u8; 8];
    tpm.get_random(&mut random).expect("random");
    drop(tpm);

    std::env::remove_var(TPM_ENV_VAR);
    if !std::path::Path::new(DEFAULT_DEVICE).exists() {
        let error = transport::open_default().expect_err("nothing configured");
        assert_eq!(error, TransportError::NoDefaultTpm);
        let message = error.to_string();
        assert!(message.contains("FLARE_WALLET_TPM") && message.contains("/dev/tpmrm0"));
    }
}
