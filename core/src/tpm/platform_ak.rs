//! Attestation keys the platform certifies (std only): the AK template and AK
//! certificate a GCE Shielded VM vTPM publishes in NV.
//!
//! Google provisions each Shielded VM vTPM with an AK *template* (a
//! marshalled `TPMT_PUBLIC`) and a certificate, issued by Google's AK CA, for
//! the key that template yields as a primary in the endorsement hierarchy.
//! The key itself is not stored: key generation is a deterministic function
//! of the template and the endorsement seed, so [`read`] re-creates it with
//! `TPM2_CreatePrimary`, checks that it is an acceptable attestation key and
//! that the certificate certifies exactly its public key. A verifier holding
//! Google's roots can then check a quote by that AK without any credential
//! activation ([`crate::enrollment::pin_ak_certificate`]).
//!
//! Indices as go-tpm-tools' `client/handles.go` names them: RSA 2048 AK
//! certificate `0x01c10000` and template `0x01c10001`, ECC P-256 AK
//! certificate `0x01c10002` and template `0x01c10003`. Only the ECC AK is
//! used: the wallet's quotes and verifier are ECDSA P-256.

use std::vec::Vec;

use tpm2_protocol::data::{TpmRh, TpmtPublic};
use tpm2_protocol::TpmUnmarshal;

use super::{Name, Tpm, TpmError, TpmRc, Transport};
use crate::enrollment::{ak_key_matches, EnrollmentError};

/// NV index of the GCE RSA 2048 AK certificate (not used: RSA AKs are refused).
pub const NV_GCE_AK_CERT_RSA: u32 = 0x01c1_0000;
/// NV index of the GCE RSA 2048 AK template (not used: RSA AKs are refused).
pub const NV_GCE_AK_TEMPLATE_RSA: u32 = 0x01c1_0001;
/// NV index of the GCE ECC P-256 AK certificate (DER).
pub const NV_GCE_AK_CERT_ECC: u32 = 0x01c1_0002;
/// NV index of the GCE ECC P-256 AK template (a marshalled `TPMT_PUBLIC`).
pub const NV_GCE_AK_TEMPLATE_ECC: u32 = 0x01c1_0003;

/// The largest AK template read from NV (an ECC template is about 90 bytes,
/// an RSA one about 280).
pub const MAX_AK_TEMPLATE_LEN: usize = 512;

/// An attestation key re-created from the platform's template, with the
/// certificate the platform issued for it. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformAk {
    /// The template read from NV.
    pub template: TpmtPublic,
    /// The AK's marshalled `TPMT_PUBLIC`, as the TPM returned it.
    pub ak_public: Vec<u8>,
    /// The AK's Name.
    pub ak_name: Name,
    /// The AK certificate (DER) read from NV; it certifies `ak_public`'s key.
    pub certificate: Vec<u8>,
}

/// Parses an AK template as the platform stores it: exactly one marshalled
/// `TPMT_PUBLIC` (TPM 2.0 Library Part 2, 12.2.4), nothing after it. Zero
/// padding after it (an NV area written larger than its contents) is
/// allowed. Whether the key it yields is an acceptable AK is checked on the
/// created key ([`read`]). Never panics.
///
/// # Errors
/// [`EnrollmentError::AkTemplateMalformed`].
pub fn parse_ak_template(bytes: &[u8]) -> Result<TpmtPublic, EnrollmentError> {
    if bytes.len() > MAX_AK_TEMPLATE_LEN {
        return Err(EnrollmentError::AkTemplateMalformed);
    }
    let (template, rest) =
        TpmtPublic::unmarshal(bytes).map_err(|_| EnrollmentError::AkTemplateMalformed)?;
    if rest.iter().any(|&b| b != 0) {
        return Err(EnrollmentError::AkTemplateMalformed);
    }
    Ok(template)
}

/// The whole contents of NV `index`, `None` when it is not defined.
fn read_index<T: Transport>(
    tpm: &mut Tpm<T>,
    index: u32,
    max: usize,
) -> Result<Option<Vec<u8>>, TpmError> {
    let info = match tpm.nv_read_public(index) {
        Ok(info) => info,
        Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::HANDLE) => return Ok(None),
        Err(e) => return Err(e),
    };
    if info.data_size == 0 || usize::from(info.data_size) > max {
        return Err(TpmError::MalformedResponse {
            command: 0x169,
            defect: super::ResponseDefect::UnexpectedValue,
        });
    }
    let mut data = std::vec![0u8; usize::from(info.data_size)];
    tpm.nv_read(index, 0, &mut data)?;
    Ok(Some(data))
}

/// Reads the platform's ECC AK template and certificate, re-creates the AK
/// (a primary in the endorsement hierarchy, flushed again) and checks that it
/// is a restricted, fixed, TPM-generated ECDSA P-256 signing key and that the
/// certificate certifies exactly its public key. The certificate's chain is
/// not checked here: that is the verifier's part, against the roots it
/// trusts ([`crate::enrollment::pin_ak_certificate`]).
///
/// # Errors
/// [`EnrollmentError::AkTemplateMissing`], [`EnrollmentError::AkTemplateMalformed`],
/// [`EnrollmentError::AkPublic`], [`EnrollmentError::AkCertificateMissing`],
/// [`EnrollmentError::AkChain`] (a certificate that does not parse),
/// [`EnrollmentError::AkCertificateKeyMismatch`]; TPM errors.
pub fn read<T: Transport>(tpm: &mut Tpm<T>) -> crate::Result<PlatformAk> {
    let bytes = read_index(tpm, NV_GCE_AK_TEMPLATE_ECC, MAX_AK_TEMPLATE_LEN)?
        .ok_or(EnrollmentError::AkTemplateMissing)?;
    let template = parse_ak_template(&bytes)?;
    let ak = tpm.create_primary(TpmRh::Endorsement, &template)?;
    tpm.flush_or_defer(ak.handle);
    crate::attest::wire::parse_ak_public(&ak.public_area).map_err(EnrollmentError::AkPublic)?;
    let certificate = super::ek::read_certificate(tpm, NV_GCE_AK_CERT_ECC)?
        .ok_or(EnrollmentError::AkCertificateMissing)?;
    let key = crate::x509::certificate_key(&certificate)
        .map_err(|e| EnrollmentError::AkChain(e.kind()))?;
    if !ak_key_matches(&key, &ak.public_area) {
        return Err(EnrollmentError::AkCertificateKeyMismatch.into());
    }
    Ok(PlatformAk {
        template,
        ak_public: ak.public_area.to_vec(),
        ak_name: ak.name,
        certificate,
    })
}
