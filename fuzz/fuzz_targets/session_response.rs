//! The response HMAC and parameter decryption path, over arbitrary frames.
//!
//! A real swtpm transcript of the seal-and-unseal scenario (salted session,
//! AES-128-CFB parameter encryption both ways, `support/recorded/seal_unseal.bin`)
//! is replayed with the engine's generator seeded as in the recording, so
//! the session key and every response HMAC come out as they did on the TPM.
//! The fuzz input replaces one answer: its first byte says which, the rest
//! is the frame. Garbage never yields output: the run either fails, or
//! unseals exactly the secret that was sealed; and the Unseal answer itself
//! (HMAC-protected, encrypted, no handle area) is accepted only as recorded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::tpm::Tpm;
use wallet_fuzz_support::{
    run, split_frames, Outcome, Scenario, SpliceTransportDouble, SECRET, SEED,
};

const TRANSCRIPT: &[u8] = include_bytes!("../support/recorded/seal_unseal.bin");

/// Whether a recorded answer is an Unseal answer (sealing unseals once to
/// check, then the scenario unseals again).
fn is_unseal_answer(frame: &[u8]) -> bool {
    // TPM2_Unseal answers TPM_ST_SESSIONS, no handle, and one TPM2B of 32
    // encrypted bytes: parameterSize 34 is unique to it in this transcript.
    frame.len() > 14 && frame[..2] == [0x80, 0x02] && frame[10..14] == [0, 0, 0, 34]
}

fuzz_target!(|data: &[u8]| {
    let Some((&index, frame)) = data.split_first() else {
        return;
    };
    let recorded = split_frames(TRANSCRIPT);
    let index = usize::from(index) % recorded.len();
    let mut tpm = Tpm::with_seed(SpliceTransportDouble::new(TRANSCRIPT, index, frame), &SEED);
    // The recorded transcripts salt to the SRK (the engine's mechanics).
    tpm.salt_sessions_to_unverified_srk();
    match run(&mut tpm, Scenario::SealUnseal) {
        Outcome::Completed(secret) => {
            assert_eq!(secret, Some(SECRET), "unsealed something else");
            if is_unseal_answer(recorded[index]) {
                assert_eq!(
                    frame, recorded[index],
                    "a changed Unseal answer was accepted"
                );
            }
        }
        Outcome::Failed(_) => {}
    }
});
