//! The pure TPM parsers over arbitrary bytes: errors, never panics.

use proptest::prelude::*;
use wallet_core::seal::SealedObject;
use wallet_core::tpm::command::{check_private_blob, parse_public_blob};
use wallet_core::tpm::frame::{parse_response, take_sized};
use wallet_core::tpm::transport::{parse_tcti, response_size};
use wallet_core::tpm::{Name, PcrSelection, TpmError, TpmRc};

/// A frame with a consistent header (tag, size, success) and an arbitrary body.
fn framed(tag: u16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(10 + body.len());
    frame.extend_from_slice(&tag.to_be_bytes());
    frame.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
    frame.extend_from_slice(&0u32.to_be_bytes());
    frame.extend_from_slice(body);
    frame
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_response_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600),
                                   handles in 0usize..4, sessions in 0usize..5) {
        let _ = parse_response(&bytes, 0x15E, handles, sessions);
    }

    #[test]
    fn parse_response_of_well_framed_garbage(body in proptest::collection::vec(any::<u8>(), 0..300),
                                             sessions in 0usize..4, handles in 0usize..3) {
        let tag = if sessions == 0 { 0x8001 } else { 0x8002 };
        let frame = framed(tag, &body);
        if let Ok(layout) = parse_response(&frame, 0x157, handles, sessions) {
            // Every span lies inside the frame.
            prop_assert!(layout.handles.end() <= frame.len());
            prop_assert!(layout.parameters.end() <= frame.len());
            for auth in &layout.auths[..layout.session_count] {
                prop_assert!(auth.nonce.end() <= frame.len());
                prop_assert!(auth.hmac.end() <= frame.len());
            }
        }
    }

    #[test]
    fn error_codes_are_data(code in 1u32..) {
        let mut frame = vec![0x80, 0x01, 0, 0, 0, 10];
        frame.extend_from_slice(&code.to_be_bytes());
        match parse_response(&frame, 0x131, 1, 1) {
            Err(TpmError::Tpm { command, rc }) => {
                prop_assert_eq!(command, 0x131);
                prop_assert_eq!(rc.raw(), code);
                let _ = (rc.name(), rc.index(), rc.to_string());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn public_and_private_blob_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_public_blob(&bytes);
        let _ = check_private_blob(&bytes);
        let _ = take_sized(&bytes);
        let name = Name::of_public_area(&bytes);
        let _ = SealedObject::from_parts(&bytes, &bytes, name, None, None);
        let _ = SealedObject::from_parts(&bytes, &bytes, name, Some(PcrSelection::DEFAULT_QUOTE), Some([0; 32]));
    }

    #[test]
    fn tcti_parser_never_panics(text in ".{0,80}") {
        let _ = parse_tcti(&text);
    }

    #[test]
    fn response_size_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..12), capacity in 0usize..5000) {
        if let Ok(size) = response_size(&bytes, capacity) {
            prop_assert!((10..=capacity).contains(&size));
        }
    }

    #[test]
    fn rc_decoding_is_total(raw in any::<u32>()) {
        let rc = TpmRc::from_raw(raw);
        let _ = (rc.name(), rc.index(), rc.base(), rc.format(), rc.to_string());
    }

    #[test]
    fn pcr_selection_round_trips(bitmap in 1u32..(1 << 24)) {
        let selection = PcrSelection::from_bitmap(bitmap).expect("valid");
        let indices: Vec<u8> = selection.indices().collect();
        prop_assert_eq!(PcrSelection::from_indices(&indices).expect("valid"), selection);
        prop_assert_eq!(indices.len(), selection.count());
        let tpml = selection.to_tpml_bytes();
        prop_assert_eq!(u32::from_le_bytes([tpml[7], tpml[8], tpml[9], 0]), bitmap);
    }
}

#[test]
fn pcr_selection_rejects_out_of_range() {
    assert_eq!(
        PcrSelection::from_bitmap(0),
        Err(TpmError::InvalidPcrSelection)
    );
    assert_eq!(
        PcrSelection::from_bitmap(1 << 24),
        Err(TpmError::InvalidPcrSelection)
    );
    assert_eq!(
        PcrSelection::from_indices(&[24]),
        Err(TpmError::InvalidPcrSelection)
    );
    assert_eq!(
        PcrSelection::from_indices(&[]),
        Err(TpmError::InvalidPcrSelection)
    );
    assert_eq!(
        format!("{:?}", PcrSelection::DEFAULT_QUOTE),
        "sha256:0,1,2,3,4,5,6,7"
    );
}
