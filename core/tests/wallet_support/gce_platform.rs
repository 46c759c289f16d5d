//! A platform double for GCE Shielded VM provisioning. Google's provisioning
//! cannot run here, so the test plays the platform on a real swtpm: it
//! defines the NV indices GCE uses (go-tpm-tools `client/handles.go`), writes
//! an ECC AK template at `0x01c10003` and, at `0x01c10002`, a certificate
//! that a per-test CA issues over the key that template yields.
#![allow(dead_code)]

use p256::elliptic_curve::sec1::FromEncodedPoint;
use spki::EncodePublicKey;
use tpm2_protocol::data::{TpmRh, TpmuPublicId};
use tpm2_protocol::TpmUnmarshal;
use wallet_core::tpm::platform_ak::{NV_GCE_AK_CERT_ECC, NV_GCE_AK_TEMPLATE_ECC};
use wallet_core::tpm::simulator::Swtpm;
use wallet_core::tpm::transport::{self, Transport};
use wallet_core::tpm::Tpm;

use super::enroll::TestCa;

const TPM_RH_PLATFORM: u32 = 0x4000_000c;
const TPM_RS_PW: u32 = 0x4000_0009;
const CC_NV_DEFINE_SPACE: u32 = 0x0000_012a;
const CC_NV_WRITE: u32 = 0x0000_0137;
/// PPWRITE | PPREAD | OWNERREAD | AUTHREAD | NO_DA | PLATFORMCREATE: written
/// by the platform, readable by anyone, as TPM vendors and GCE define
/// certificate indices.
const NV_PLATFORM_CERT_ATTRIBUTES: u32 = 0x4207_0001;

/// GCE's ECC AK template (go-tpm-tools `AKTemplateECC`): ECDSA P-256 with
/// SHA-256, fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, noDA,
/// restricted, sign; `unique` filled with `unique` (GCE's template carries
/// a non-empty point too, so the key differs from the wallet's own AK).
pub fn gce_ecc_ak_template(unique: u8) -> Vec<u8> {
    let mut t = Vec::new();
    for v in [0x0023u16, 0x000b] {
        t.extend_from_slice(&v.to_be_bytes());
    }
    t.extend_from_slice(&0x0005_0472u32.to_be_bytes());
    // authPolicy empty; symmetric NULL; ECDSA SHA-256; NIST P-256; kdf NULL.
    for v in [0u16, 0x0010, 0x0018, 0x000b, 0x0003, 0x0010] {
        t.extend_from_slice(&v.to_be_bytes());
    }
    for _ in 0..2 {
        t.extend_from_slice(&32u16.to_be_bytes());
        t.extend_from_slice(&[unique; 32]);
    }
    t
}

/// What the platform double provisioned.
pub struct GcePlatformDouble {
    /// The AK CA (stands in for Google's EK/AK CA).
    pub ca: TestCa,
    /// The `TPMT_PUBLIC` of the AK the template yields on this TPM.
    pub ak_public: Vec<u8>,
    /// The AK certificate written to NV.
    pub certificate: Vec<u8>,
}

/// The SubjectPublicKeyInfo (DER) of the P-256 key of an ECC `TPMT_PUBLIC`.
pub fn ak_spki(ak_public: &[u8]) -> Vec<u8> {
    let (public, _) = tpm2_protocol::data::TpmtPublic::unmarshal(ak_public).unwrap();
    let TpmuPublicId::Ecc(point) = public.unique else {
        panic!("not an ECC key")
    };
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(&point.x);
    sec1.extend_from_slice(&point.y);
    let encoded = p256::EncodedPoint::from_bytes(&sec1).unwrap();
    p256::PublicKey::from_encoded_point(&encoded)
        .unwrap()
        .to_public_key_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// The `TPMT_PUBLIC` of the key `template` yields in the endorsement
/// hierarchy of `swtpm` (computed as the platform's provisioning does).
pub fn key_of_template(swtpm: &Swtpm, template: &[u8]) -> Vec<u8> {
    let (template, _) = tpm2_protocol::data::TpmtPublic::unmarshal(template).unwrap();
    let mut tpm = Tpm::new(transport::open(&swtpm.tcti()).unwrap()).unwrap();
    tpm.startup().unwrap();
    let key = tpm.create_primary(TpmRh::Endorsement, &template).unwrap();
    tpm.flush_or_defer(key.handle);
    key.public_area.to_vec()
}

fn command(code: u32, handles: &[u32], parameters: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for h in handles {
        body.extend_from_slice(&h.to_be_bytes());
    }
    // One password session with the empty password (platform auth is empty in swtpm).
    body.extend_from_slice(&9u32.to_be_bytes());
    body.extend_from_slice(&TPM_RS_PW.to_be_bytes());
    body.extend_from_slice(&[0, 0, 0, 0, 0]);
    body.extend_from_slice(parameters);
    let mut frame = Vec::new();
    frame.extend_from_slice(&0x8002u16.to_be_bytes());
    frame.extend_from_slice(&u32::try_from(10 + body.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&code.to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

fn run(tpm: &mut impl Transport, frame: &[u8]) {
    let mut response = [0u8; 4096];
    let len = tpm.transact(frame, &mut response).unwrap();
    assert!(len >= 10);
    let rc = u32::from_be_bytes(response[6..10].try_into().unwrap());
    assert_eq!(rc, 0, "platform double: TPM command failed with rc {rc:#x}");
}

/// Defines NV `index` as a platform certificate index and writes `data`.
pub fn write_platform_index(swtpm: &Swtpm, index: u32, data: &[u8]) {
    let mut tpm = transport::open(&swtpm.tcti()).unwrap();
    let mut define = Vec::new();
    define.extend_from_slice(&0u16.to_be_bytes());
    define.extend_from_slice(&14u16.to_be_bytes());
    define.extend_from_slice(&index.to_be_bytes());
    define.extend_from_slice(&0x000bu16.to_be_bytes());
    define.extend_from_slice(&NV_PLATFORM_CERT_ATTRIBUTES.to_be_bytes());
    define.extend_from_slice(&0u16.to_be_bytes());
    define.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    run(
        &mut tpm,
        &command(CC_NV_DEFINE_SPACE, &[TPM_RH_PLATFORM], &define),
    );
    for (i, chunk) in data.chunks(512).enumerate() {
        let mut write = Vec::new();
        write.extend_from_slice(&u16::try_from(chunk.len()).unwrap().to_be_bytes());
        write.extend_from_slice(chunk);
        write.extend_from_slice(&u16::try_from(i * 512).unwrap().to_be_bytes());
        run(
            &mut tpm,
            &command(CC_NV_WRITE, &[TPM_RH_PLATFORM, index], &write),
        );
    }
}

impl GcePlatformDouble {
    /// Provisions `swtpm` as a GCE Shielded VM: GCE's ECC AK template, and an
    /// AK certificate from `ca` over the key it yields. The swtpm must have
    /// no other client.
    pub fn provision(swtpm: &Swtpm, ca: TestCa) -> Self {
        let template = gce_ecc_ak_template(0x5a);
        let ak_public = key_of_template(swtpm, &template);
        let certificate = ca.issue("CN=GCE AK double", &ak_spki(&ak_public));
        Self::provision_raw(swtpm, &template, &certificate);
        Self {
            ca,
            ak_public,
            certificate,
        }
    }

    /// Writes `template` and `certificate` to the GCE ECC AK indices as they
    /// are, for tests of what a wallet refuses.
    pub fn provision_raw(swtpm: &Swtpm, template: &[u8], certificate: &[u8]) {
        write_platform_index(swtpm, NV_GCE_AK_TEMPLATE_ECC, template);
        write_platform_index(swtpm, NV_GCE_AK_CERT_ECC, certificate);
    }
}
