//! The EK certificate chain path: any bytes as a leaf certificate, as a PEM
//! roots bundle, and as an intermediate, checked against a real swtpm local
//! CA. Nothing may panic, and a leaf that verifies must chain to that CA.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::x509::{verify_chain_at, TrustRoots};

/// The swtpm local CA (root and intermediate) the seed EK certificate chains to.
const ROOTS_PEM: &[u8] = include_bytes!("../corpus/x509_chain/swtpm_localca_roots.pem");

fn roots() -> &'static TrustRoots {
    static ROOTS: OnceLock<TrustRoots> = OnceLock::new();
    ROOTS.get_or_init(|| TrustRoots::from_pem_bundle(ROOTS_PEM).expect("the committed roots parse"))
}

fuzz_target!(|data: &[u8]| {
    // A fixed time inside every seed certificate's window.
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(4_000_000_000);
    if let Ok(verified) = verify_chain_at(data, &[], roots(), Some(at)) {
        assert_eq!(verified.root_subject, "CN=swtpm-localca-rootca");
        assert_eq!(verified.leaf_der, data);
    }
    let _ = TrustRoots::from_pem_bundle(data);
    if let Some((split, rest)) = data.split_first() {
        let at_byte = usize::from(*split).min(rest.len());
        let (leaf, intermediate) = rest.split_at(at_byte);
        let _ = verify_chain_at(leaf, &[intermediate.to_vec()], roots(), Some(at));
    }
});
