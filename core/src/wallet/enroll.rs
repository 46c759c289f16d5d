//! Enrollment on the wallet side: what a verifier needs to make an
//! activation challenge for this TPM, the answer to the challenge, and a
//! local enrollment that plays the verifier against given trust roots.
//!
//! Every step uses the endorsement key the wallet verified when it opened the
//! TPM ([`crate::tpm::ek::establish`]): the request carries that EK's public
//! area and the certificate chain that proved it, and the activation runs
//! under that EK, re-derived and compared with the Name established at open.

use std::vec::Vec;

use tpm2_protocol::data::TpmRh;

use super::Wallet;
use crate::credential::CredentialBlob;
use crate::enrollment::{
    begin_activation, ActivationResponse, EnrollmentError, EnrollmentProof, EnrollmentRecord,
    EnrollmentTrust,
};
use crate::tpm::command::PrimaryKey;
use crate::tpm::ek::TpmIdentityError;
use crate::x509::TrustRoots;
use crate::Result;

/// What a verifier needs to challenge this TPM: the EK (public area and, when
/// the TPM has one, its certificate and chain) and the AK's public area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentRequest {
    /// The EK's `TPMT_PUBLIC`.
    pub ek_public: Vec<u8>,
    /// The EK certificate (DER), when the TPM provides one.
    pub ek_certificate: Option<Vec<u8>>,
    /// The EK certificate's intermediates (DER) the TPM provides.
    pub ek_intermediates: Vec<Vec<u8>>,
    /// The AK's `TPMT_PUBLIC`.
    pub ak_public: Vec<u8>,
}

impl Wallet {
    /// Loads the EK established at open (same template) and checks that the
    /// TPM still derives the same key from it.
    fn load_ek(&mut self) -> Result<PrimaryKey> {
        let kind = self.identity.kind;
        let expected = self.identity.ek_name;
        let tpm = self.tpm()?;
        let ek = tpm.create_primary(TpmRh::Endorsement, &kind.template())?;
        if ek.name != expected {
            tpm.flush_or_defer(ek.handle);
            return Err(TpmIdentityError::EkChanged.into());
        }
        Ok(ek)
    }

    /// The verified EK certificate and the certificates between it and the
    /// trust anchor; nothing when the TPM was allowed unverified.
    fn ek_certificate_chain(&self) -> (Option<Vec<u8>>, Vec<Vec<u8>>) {
        match &self.identity.certificate {
            Some(verified) => {
                let above = verified.chain_der.len().saturating_sub(1);
                (
                    Some(verified.leaf_der.clone()),
                    verified.chain_der.iter().take(above).cloned().collect(),
                )
            }
            None => (None, Vec::new()),
        }
    }

    /// What a verifier needs to challenge this TPM (see [`EnrollmentRequest`]):
    /// the EK verified at open, with the certificate and intermediates that
    /// verified it (none for a TPM allowed unverified), and the AK.
    ///
    /// # Errors
    /// [`TpmIdentityError::EkChanged`] when the TPM no longer derives the EK
    /// established at open; TPM errors.
    pub fn enrollment_request(&mut self) -> Result<EnrollmentRequest> {
        self.tpm_operation(|wallet| {
            let ek = wallet.load_ek()?;
            let tpm = wallet.tpm()?;
            tpm.flush_or_defer(ek.handle);
            let (_, ak_public) = tpm.attestation_key_public()?;
            let (ek_certificate, ek_intermediates) = wallet.ek_certificate_chain();
            Ok(EnrollmentRequest {
                ek_public: ek.public_area.to_vec(),
                ek_certificate,
                ek_intermediates,
                ak_public: ak_public.to_vec(),
            })
        })
    }

    /// Answers a verifier's activation challenge (`blob`, made with
    /// [`begin_activation`] for this TPM's EK and AK): the TPM recovers the
    /// credential and the AK quotes its binding digest.
    ///
    /// The credential is activated under the EK established at open.
    ///
    /// # Errors
    /// [`TpmIdentityError::EkChanged`]; TPM errors: a blob made for another
    /// TPM's EK or another AK fails `TPM2_ActivateCredential`.
    pub fn answer_activation(&mut self, blob: &CredentialBlob) -> Result<ActivationResponse> {
        self.tpm_operation(|wallet| {
            let ek = wallet.load_ek()?;
            let tpm = wallet.tpm()?;
            let response = tpm.answer_activation(ek.handle, &ek.name, blob);
            tpm.flush_or_defer(ek.handle);
            Ok(response?)
        })
    }

    /// Enrolls this TPM's AK locally, playing the verifier: the EK
    /// certificate (`ek_certificate` with `ek_intermediates`, or by default
    /// the chain that verified the TPM at open) must chain to `roots` and
    /// certify the EK; then a credential is activated under that EK and the
    /// resulting enrollment record returned, checked against `roots`.
    ///
    /// # Errors
    /// [`EnrollmentError::EkCertificateMissing`] without a certificate; the
    /// chain, activation and TPM errors.
    pub fn enroll_with_certificate(
        &mut self,
        ek_certificate: Option<&[u8]>,
        ek_intermediates: &[&[u8]],
        roots: &TrustRoots,
    ) -> Result<Vec<u8>> {
        let request = self.enrollment_request()?;
        let own_intermediates: Vec<&[u8]> =
            request.ek_intermediates.iter().map(Vec::as_slice).collect();
        let ek_intermediates = match ek_certificate {
            Some(_) => ek_intermediates,
            None => &own_intermediates[..],
        };
        let certificate = ek_certificate
            .map(<[u8]>::to_vec)
            .or_else(|| request.ek_certificate.clone())
            .ok_or(EnrollmentError::EkCertificateMissing)?;
        let mut rng = rand_core::OsRng;
        let (challenge, _) = begin_activation(
            &certificate,
            ek_intermediates,
            &request.ek_public,
            &request.ak_public,
            roots,
            &mut rng,
        )?;
        let response = self.answer_activation(challenge.blob())?;
        challenge.finish(&request.ak_public, &response)?;
        let intermediates = heapless::Vec::from_slice(ek_intermediates)
            .map_err(|()| EnrollmentError::LengthOutOfBounds)?;
        let record = EnrollmentRecord::from_activation(
            &request.ak_public,
            &request.ek_public,
            &certificate,
            intermediates,
            &response,
        )
        .to_vec()?;
        EnrollmentTrust::verify(&record, roots)?;
        Ok(record)
    }
}

impl Wallet {
    /// Enrolls the attestation key the platform certifies (GCE Shielded VM:
    /// AK template and certificate in NV, see [`crate::tpm::platform_ak`]):
    /// no credential activation, the AK certificate is the proof. The record
    /// carries the AK, its certificate (with `ak_intermediates`), and the EK
    /// verified at open with its chain. It is checked against `roots` (which
    /// must hold the AK certificate's root, and the EK's when the TPM was
    /// verified) before it is returned.
    ///
    /// # Errors
    /// The errors of [`crate::tpm::platform_ak::read`];
    /// [`TpmIdentityError::EkChanged`]; the record's chain errors
    /// ([`EnrollmentError::AkChain`], [`EnrollmentError::EkChain`]).
    pub fn enroll_platform_ak(
        &mut self,
        ak_intermediates: &[&[u8]],
        roots: &TrustRoots,
    ) -> Result<Vec<u8>> {
        let (ek, platform) = self.tpm_operation(|wallet| {
            let ek = wallet.load_ek()?;
            wallet.tpm()?.flush_or_defer(ek.handle);
            Ok((ek, crate::tpm::platform_ak::read(wallet.tpm()?)?))
        })?;
        let (ek_certificate, ek_chain) = self.ek_certificate_chain();
        let ek_certificate = ek_certificate.unwrap_or_default();
        let ek_intermediates: Vec<&[u8]> = ek_chain.iter().map(Vec::as_slice).collect();
        let too_many = |_| EnrollmentError::LengthOutOfBounds;
        let record = EnrollmentRecord {
            ak_name: crate::attest::wire::sha256_name(&platform.ak_public),
            ak_public: &platform.ak_public,
            ek_public: &ek.public_area,
            ek_certificate: &ek_certificate,
            ek_intermediates: heapless::Vec::from_slice(&ek_intermediates).map_err(too_many)?,
            proof: EnrollmentProof::AkCertificate {
                certificate: &platform.certificate,
                intermediates: heapless::Vec::from_slice(ak_intermediates).map_err(too_many)?,
            },
        }
        .to_vec()?;
        EnrollmentTrust::verify(&record, roots)?;
        Ok(record)
    }
}
