//! Enrollment records over arbitrary bytes: `EnrollmentRecord::parse`, the
//! structural `check`, and the full `EnrollmentTrust::verify` against a
//! fixed root that signed nothing in the input.
//!
//! The same bytes also go to `tpm::platform_ak::parse_ak_template` (the
//! platform AK template a GCE vTPM keeps in NV).
//!
//! Nothing panics; an accepted record encodes back to the exact input and
//! its AK Name is the Name of its AK public area whenever `check` passes;
//! no record verifies against a root that issued none of its certificates.
//! An accepted AK template parses to the same template with zero padding
//! after it (an NV area larger than its contents).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use wallet_core::enrollment::{EnrollmentRecord, EnrollmentTrust};
use wallet_core::tpm::platform_ak;
use wallet_core::x509::TrustRoots;

/// A self-signed P-256 root made once (its key is dropped: it signs nothing else).
fn roots() -> &'static TrustRoots {
    static ROOTS: OnceLock<TrustRoots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = TrustRoots::empty();
        roots
            .add_der(wallet_fuzz_support::ENROLLMENT_ROOT_DER)
            .expect("the fixed root parses");
        roots
    })
}

fn ak_template(data: &[u8]) {
    let Ok(template) = platform_ak::parse_ak_template(data) else {
        return;
    };
    assert!(data.len() <= platform_ak::MAX_AK_TEMPLATE_LEN);
    if data.len() < platform_ak::MAX_AK_TEMPLATE_LEN {
        let mut padded = data.to_vec();
        padded.push(0);
        assert_eq!(
            platform_ak::parse_ak_template(&padded).as_ref(),
            Ok(&template),
            "zero padding changed the template"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    ak_template(data);
    let Ok(record) = EnrollmentRecord::parse(data) else {
        return;
    };
    let encoded = record.to_vec().expect("a parsed record encodes");
    assert_eq!(encoded, data, "parse then encode changed the record");
    assert_eq!(record.encoded_len(), data.len());
    if record.check().is_ok() {
        let mut name = vec![0x00, 0x0b];
        name.extend_from_slice(&Sha256::digest(record.ak_public));
        assert_eq!(&record.ak_name[..], &name[..], "check accepted a foreign AK Name");
    }
    assert!(
        EnrollmentTrust::verify_record(&record, roots()).is_err(),
        "a record verified against a root that issued none of its certificates"
    );
});
