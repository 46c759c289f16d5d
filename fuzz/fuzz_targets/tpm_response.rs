//! Every TPM response parser, over arbitrary frames.
//!
//! The first byte picks what is fed:
//! - a scenario of `wallet_fuzz_support::Scenario` (startup, GetRandom, the
//!   SRK and ReadPublic, PCR_Read, PCR_Extend, the handle sweep, seal and
//!   unseal with and without a PCR policy, the quote, a trial policy): the
//!   engine runs it over a transport double that answers each command with
//!   the next frame of the input (the seeds are real swtpm transcripts);
//!   a seal scenario that completes must return the sealed secret;
//! - past the scenarios, the pure parsers: `frame::parse_response` (for
//!   command codes, handle and session counts taken from the input; every
//!   span it returns must lie inside the frame, in order),
//!   `frame::take_sized`, `frame::response_code`, `command::parse_public_blob`,
//!   `command::check_private_blob`, `transport::response_size`,
//!   `transport::parse_tcti` and `Name::from_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::tpm::transport::{parse_tcti, response_size};
use wallet_core::tpm::{command, frame, Name, Tpm, TpmError};
use wallet_fuzz_support::{run, Outcome, ReplayTransportDouble, Scenario, SECRET, SEED};

fn pure_parsers(selector: u8, data: &[u8]) {
    let handle_count = usize::from(selector % 3);
    let session_count = usize::from((selector / 3) % 5);
    let command_code = 0x100 + u32::from(selector);
    match frame::parse_response(data, command_code, handle_count, session_count) {
        Ok(layout) => {
            assert!(session_count <= frame::MAX_SESSIONS);
            assert_eq!(layout.session_count, session_count);
            assert_eq!(layout.handles.start, frame::HEADER_LEN);
            assert_eq!(layout.handles.len, 4 * handle_count);
            let mut end = layout.parameters.end();
            assert!(layout.parameters.start >= layout.handles.end());
            for auth in &layout.auths[..session_count] {
                assert!(auth.nonce.start >= end && auth.hmac.start >= auth.nonce.end());
                end = auth.hmac.end();
            }
            assert_eq!(end, data.len(), "spans do not cover the frame");
        }
        Err(TpmError::Tpm { command, rc }) => {
            assert_eq!(command, command_code);
            assert!(!rc.is_success());
            assert_eq!(data.len(), frame::HEADER_LEN);
        }
        Err(TpmError::MalformedResponse { command, .. }) => assert_eq!(command, command_code),
        Err(e) => panic!("parse_response gave an unexpected error: {e}"),
    }
    let _ = frame::response_code(data);
    if let Ok((contents, rest)) = frame::take_sized(data) {
        assert_eq!(contents.len() + rest.len() + 2, data.len());
    }
    if let Ok((_, area)) = command::parse_public_blob(data) {
        assert_eq!(area.len() + 2, data.len());
        let _ = Name::of_public_area(area);
    }
    let _ = command::check_private_blob(data);
    if let Ok(size) = response_size(data, usize::from(selector) * 16) {
        assert!((frame::HEADER_LEN..=usize::from(selector) * 16).contains(&size));
    }
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = parse_tcti(text);
    }
    let _ = Name::from_bytes(data);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frames)) = data.split_first() else {
        return;
    };
    let Some(scenario) = Scenario::from_selector(selector) else {
        pure_parsers(selector, frames);
        return;
    };
    let mut tpm = Tpm::with_seed(ReplayTransportDouble::new(frames), &SEED);
    // The recorded transcripts salt to the SRK (the engine's mechanics).
    tpm.salt_sessions_to_unverified_srk();
    if let Outcome::Completed(Some(secret)) = run(&mut tpm, scenario) {
        assert_eq!(secret, SECRET, "a seal scenario unsealed something else");
    }
});
