//! Hostile and failing transports in front of a real swtpm. Every wrapper here
//! is a test double, named for what it does to the traffic.

use wallet_core::seal::{self, SealError, SealedObject};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, StdTransport, Transport, TransportError};
use wallet_core::tpm::{ParameterEncryption, PcrSelection, Tpm, TpmError, TpmRc};

const SECRET: [u8; 32] = [0x11; 32];
const ENC: ParameterEncryption = ParameterEncryption::Aes128Cfb;

/// Refuses every `period`-th command without sending it.
struct FailEveryNthTransport<T> {
    inner: T,
    period: u64,
    count: u64,
    failed: u64,
}

impl<T: Transport> Transport for FailEveryNthTransport<T> {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.count += 1;
        if self.count.is_multiple_of(self.period) {
            self.failed += 1;
            return Err(TransportError::InjectedFailure);
        }
        self.inner.transact(command, response)
    }
}

/// Sends every command but loses the response of every `period`-th one, as a
/// connection that breaks after the TPM has acted would.
struct LoseEveryNthResponseTransport<T> {
    inner: T,
    period: u64,
    count: u64,
}

impl<T: Transport> Transport for LoseEveryNthResponseTransport<T> {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.count += 1;
        let len = self.inner.transact(command, response)?;
        if self.count.is_multiple_of(self.period) {
            response[..len].fill(0);
            return Err(TransportError::ConnectionLost);
        }
        Ok(len)
    }
}

#[derive(Clone, Copy, Debug)]
enum Corruption {
    /// Cut the body short and fix the size field so the frame looks whole.
    Truncate,
    /// Flip one bit in the middle of the body.
    FlipBit,
    /// Replace the body with pseudo-random bytes of the same length.
    Garbage,
    /// Append bytes and fix the size field.
    Extend,
}

/// Corrupts the response to the `target`-th command.
struct CorruptingTransport<T> {
    inner: T,
    target: u64,
    count: u64,
    corruption: Corruption,
}

impl<T: Transport> Transport for CorruptingTransport<T> {
    fn transact(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.count += 1;
        let mut len = self.inner.transact(command, response)?;
        if self.count != self.target || len <= 10 {
            return Ok(len);
        }
        match self.corruption {
            Corruption::Truncate => len = 10 + (len - 10) / 2,
            Corruption::FlipBit => response[10 + (len - 10) / 2] ^= 0x10,
            Corruption::Garbage => {
                let mut state = self.target.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                for byte in &mut response[10..len] {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *byte = state as u8;
                }
            }
            Corruption::Extend => {
                response[len..len + 7].fill(0xA5);
                len += 7;
            }
        }
        response[2..6].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(len)
    }
}

fn open(swtpm: &Swtpm) -> StdTransport {
    transport::open(&swtpm.tcti()).expect("tcti")
}

fn is_memory_exhaustion(error: &SealError) -> bool {
    matches!(error, SealError::Tpm(TpmError::Tpm { rc, .. })
        if rc.is(TpmRc::OBJECT_MEMORY) || rc.is(TpmRc::SESSION_MEMORY))
}

/// Asserts the TPM holds no transient object and no session.
fn assert_nothing_loaded(swtpm: &Swtpm) {
    let mut tpm = Tpm::new(open(swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    for range in [0x8000_0000u32, 0x0200_0000, 0x0300_0000] {
        let handles = tpm.handles_in_range(range).expect("GetCapability");
        assert!(
            handles.is_empty(),
            "left loaded in 0x{range:08x}: {handles:x?}"
        );
    }
}

fn seal_once(swtpm: &Swtpm, pcrs: Option<PcrSelection>) -> SealedObject {
    let mut tpm = Tpm::new(open(swtpm)).expect("entropy");
    tpm.salt_sessions_to_unverified_srk();
    seal::seal_secret(&mut tpm, None, &SECRET, pcrs, ENC).expect("seal")
}

#[test]
fn every_seventh_command_failing_leaves_no_handles() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let sealed = seal_once(&swtpm, None);
    let mut failing = FailEveryNthTransport {
        inner: open(&swtpm),
        period: 7,
        count: 0,
        failed: 0,
    };
    let mut successes = 0;
    {
        let mut tpm = Tpm::new(&mut failing).expect("entropy");
        tpm.salt_sessions_to_unverified_srk();
        for cycle in 0..200 {
            // Other work between signatures shifts where the failures land, as
            // it would in an application.
            for _ in 0..cycle % 3 {
                tpm.get_random(&mut [0u8; 4]).ok();
            }
            match seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, ENC) {
                Ok(secret) => {
                    assert_eq!(*secret, SECRET);
                    successes += 1;
                }
                Err(error) if is_memory_exhaustion(&error) => panic!("cycle {cycle}: {error}"),
                Err(SealError::Tpm(TpmError::Transport(TransportError::InjectedFailure))) => {}
                Err(error) => panic!("cycle {cycle}: unexpected {error}"),
            }
        }
        // The last deferred flushes go out with the next command.
        tpm.get_random(&mut [0u8; 4]).ok();
        tpm.get_random(&mut [0u8; 4]).ok();
        assert!(tpm.pending_flushes().is_empty());
    }
    assert!(failing.failed > 100, "the failures really happened");
    assert!(successes > 20, "and work still got done ({successes})");
    drop(failing);
    assert_nothing_loaded(&swtpm);
}

#[test]
fn every_ninth_response_lost_leaves_no_handles() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let sealed = seal_once(
        &swtpm,
        Some(PcrSelection::from_indices(&[16]).expect("pcr")),
    );
    let mut lossy = LoseEveryNthResponseTransport {
        inner: open(&swtpm),
        period: 9,
        count: 0,
    };
    let mut successes = 0;
    {
        let mut tpm = Tpm::new(&mut lossy).expect("entropy");
        tpm.salt_sessions_to_unverified_srk();
        for cycle in 0..200 {
            // Other work between signatures shifts where the failures land, as
            // it would in an application.
            for _ in 0..cycle % 3 {
                tpm.get_random(&mut [0u8; 4]).ok();
            }
            match seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, ENC) {
                Ok(secret) => {
                    assert_eq!(*secret, SECRET);
                    successes += 1;
                }
                Err(error) if is_memory_exhaustion(&error) => panic!("cycle {cycle}: {error}"),
                Err(SealError::Tpm(TpmError::Transport(TransportError::ConnectionLost))) => {}
                Err(error) => panic!("cycle {cycle}: unexpected {error}"),
            }
        }
        // Let any last sweep or deferred flush go out.
        for _ in 0..4 {
            tpm.get_random(&mut [0u8; 4]).ok();
        }
        assert!(!tpm.sweep_pending());
    }
    assert!(successes > 10, "work still got done ({successes})");
    drop(lossy);
    assert_nothing_loaded(&swtpm);
}

#[test]
fn corrupted_responses_give_errors_never_panics_or_wrong_keys() {
    let swtpm = Swtpm::start_temporary().expect("swtpm");
    let sealed = seal_once(&swtpm, None);
    // Commands in one seal + unseal + quote round, counted on an honest run.
    let mut counter = Tpm::new(open(&swtpm)).expect("entropy");
    counter.salt_sessions_to_unverified_srk();
    seal::seal_secret(&mut counter, Some(sealed.srk_name()), &SECRET, None, ENC).expect("seal");
    seal::unseal_secret(&mut counter, sealed.srk_name(), &sealed, ENC).expect("unseal");
    counter
        .create_ak_and_quote(&[1; 32], PcrSelection::DEFAULT_QUOTE)
        .expect("quote");
    let rounds = counter.commands_sent();
    drop(counter);

    let mut refused = 0;
    for corruption in [
        Corruption::Truncate,
        Corruption::FlipBit,
        Corruption::Garbage,
        Corruption::Extend,
    ] {
        for target in 1..=rounds {
            let mut hostile = CorruptingTransport {
                inner: open(&swtpm),
                target,
                count: 0,
                corruption,
            };
            {
                let mut tpm = Tpm::new(&mut hostile).expect("entropy");
                tpm.salt_sessions_to_unverified_srk();
                let sealed_again =
                    seal::seal_secret(&mut tpm, Some(sealed.srk_name()), &SECRET, None, ENC);
                let unsealed = seal::unseal_secret(&mut tpm, sealed.srk_name(), &sealed, ENC);
                if let Ok(secret) = &unsealed {
                    assert_eq!(
                        **secret, SECRET,
                        "{corruption:?} at {target} gave a wrong key"
                    );
                }
                let quote = tpm.create_ak_and_quote(&[1; 32], PcrSelection::DEFAULT_QUOTE);
                if sealed_again.is_err() || unsealed.is_err() || quote.is_err() {
                    refused += 1;
                }
            }
            drop(hostile);
            // Clean up whatever a corrupted answer left loaded, then check.
            let mut tpm = Tpm::new(open(&swtpm)).expect("entropy");
            tpm.salt_sessions_to_unverified_srk();
            tpm.flush_all_transient().expect("sweep");
        }
    }
    println!("{refused} of {} corrupted rounds refused", 4 * rounds);
    assert!(
        refused as u64 >= rounds,
        "corruptions were noticed ({refused})"
    );
    assert_nothing_loaded(&swtpm);
}
