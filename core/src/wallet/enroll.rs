//! Enrollment on the wallet side: what a verifier needs to make an
//! activation challenge for this TPM, the answer to the challenge, and a
//! local enrollment that plays the verifier against given trust roots.

use std::vec::Vec;

use tpm2_protocol::data::TpmRh;

use super::Wallet;
use crate::credential::CredentialBlob;
use crate::enrollment::{
    begin_activation, ActivationResponse, EnrollmentError, EnrollmentRecord, EnrollmentTrust,
};
use crate::tpm::command::PrimaryKey;
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
    fn load_ek(&mut self) -> Result<PrimaryKey> {
        Ok(self
            .tpm()?
            .create_primary(TpmRh::Endorsement, &crate::tpm::template::ek_ecc_p256())?)
    }

    /// What a verifier needs to challenge this TPM (see [`EnrollmentRequest`]).
    ///
    /// # Errors
    /// TPM errors.
    pub fn enrollment_request(&mut self) -> Result<EnrollmentRequest> {
        let ek = self.load_ek()?;
        let tpm = self.tpm()?;
        tpm.flush_or_defer(ek.handle);
        let (_, ak_public) = tpm.attestation_key_public()?;
        Ok(EnrollmentRequest {
            ek_public: ek.public_area.to_vec(),
            ek_certificate: None,
            ek_intermediates: Vec::new(),
            ak_public: ak_public.to_vec(),
        })
    }

    /// Answers a verifier's activation challenge (`blob`, made with
    /// [`begin_activation`] for this TPM's EK and AK): the TPM recovers the
    /// credential and the AK quotes its binding digest.
    ///
    /// # Errors
    /// TPM errors: a blob made for another TPM's EK or another AK fails
    /// `TPM2_ActivateCredential`.
    pub fn answer_activation(&mut self, blob: &CredentialBlob) -> Result<ActivationResponse> {
        let ek = self.load_ek()?;
        let tpm = self.tpm()?;
        let response = tpm.answer_activation(ek.handle, &ek.name, blob);
        tpm.flush_or_defer(ek.handle);
        Ok(response?)
    }

    /// Enrolls this TPM's AK locally, playing the verifier: the EK
    /// certificate (`ek_certificate`, or the TPM's own) must chain to
    /// `roots` and certify the EK; then a credential is activated and the
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
        let certificate = ek_certificate
            .map(<[u8]>::to_vec)
            .or(request.ek_certificate)
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
