//! Credential activation on the wallet side (TPM 2.0 Library Part 3,
//! sections 12.5 `TPM2_ActivateCredential` and 12.6 `TPM2_MakeCredential`).
//!
//! The verifier wraps a secret to this TPM's endorsement key and the
//! attestation key's Name ([`crate::credential::make_credential`]). Only a
//! TPM that holds the EK's private key and has an object of that Name loaded
//! recovers it: returning the secret proves the AK lives in the same TPM as
//! the EK whose certificate the verifier checked.
//!
//! The EK of the TCG default templates has `adminWithPolicy` and no
//! `userWithAuth`: its USER role is authorized by a policy session that ran
//! `TPM2_PolicySecret(TPM_RH_ENDORSEMENT)`. The AK's ADMIN role is its empty
//! auth value (the AK template has no `adminWithPolicy`).

use tpm2_protocol::basic::{TpmBuffer, TpmHandle};
use tpm2_protocol::data::TpmRh;
use tpm2_protocol::frame::{TpmHeader, TpmMakeCredentialCommand, TpmMakeCredentialResponse};
use zeroize::Zeroizing;

use super::frame::{self, ResponseDefect};
use super::session::{Session, SessionKind};
use super::{template, Authorization, Name, PcrSelection, Tpm, TpmError, Transport};
use crate::attest::AkSignature;
use crate::credential::{CredentialBlob, CREDENTIAL_LEN};
use crate::enrollment::{activation_digest, ActivationResponse};

/// `TPM_CC_ActivateCredential`.
const CC_ACTIVATE_CREDENTIAL: u32 = 0x147;
/// `TPM_CC_PolicySecret`.
const CC_POLICY_SECRET: u32 = 0x151;

fn malformed(command: u32, defect: ResponseDefect) -> TpmError {
    TpmError::MalformedResponse { command, defect }
}

impl<T: Transport> Tpm<T> {
    /// Starts a policy session and satisfies `PolicySecret(TPM_RH_ENDORSEMENT)`
    /// with the endorsement hierarchy's empty password: the session that
    /// authorizes the USER role of a TCG default EK. The caller flushes it.
    ///
    /// The session is unsalted: it carries no secret (the endorsement auth is
    /// empty and the policy asks for no auth value).
    ///
    /// # Errors
    /// The errors of `TPM2_StartAuthSession` and `TPM2_PolicySecret`.
    pub fn start_endorsement_policy_session(&mut self) -> Result<Session, TpmError> {
        let session = self.start_unsalted_session(SessionKind::Policy)?;
        match self.policy_secret_endorsement(&session) {
            Ok(()) => Ok(session),
            Err(error) => {
                self.flush_or_defer(session.handle());
                Err(error)
            }
        }
    }

    fn policy_secret_endorsement(&mut self, session: &Session) -> Result<(), TpmError> {
        // nonceTPM, cpHashA, policyRef: empty; expiration: 0 (no ticket).
        let out = &mut self.parameters;
        let mut at = frame::put_sized(out, 0, &[])?;
        at = frame::put_sized(out, at, &[])?;
        at = frame::put_sized(out, at, &[])?;
        at = frame::put_u32(out, at, 0)?;
        let endorsement = TpmRh::Endorsement as u32;
        self.execute(
            CC_POLICY_SECRET,
            &[endorsement, session.handle()],
            &[],
            at,
            Authorization::Password,
            0,
        )?;
        self.wipe_response();
        Ok(())
    }

    /// `TPM2_ActivateCredential`: recovers the credential `blob` wraps for the
    /// object loaded at `object_handle` (the AK, empty auth), with the EK at
    /// `ek_handle` decrypting the seed under a fresh endorsement policy
    /// session. The session is flushed on every path.
    ///
    /// # Errors
    /// The errors of the commands: a blob made for another EK or another
    /// object Name fails with the TPM's `TPM_RC_VALUE` (seed) or
    /// `TPM_RC_INTEGRITY` (outer HMAC); a returned credential that is not 32
    /// bytes is a malformed response.
    pub fn activate_credential(
        &mut self,
        object_handle: u32,
        ek_handle: u32,
        blob: &CredentialBlob,
    ) -> Result<Zeroizing<[u8; CREDENTIAL_LEN]>, TpmError> {
        let session = self.start_endorsement_policy_session()?;
        let result = self.activate_with(object_handle, ek_handle, &session, blob);
        self.flush_or_defer(session.handle());
        result
    }

    fn activate_with(
        &mut self,
        object_handle: u32,
        ek_handle: u32,
        session: &Session,
        blob: &CredentialBlob,
    ) -> Result<Zeroizing<[u8; CREDENTIAL_LEN]>, TpmError> {
        let out = &mut self.parameters;
        let at = frame::put_sized(out, 0, &blob.id_object)?;
        let at = frame::put_sized(out, at, &blob.encrypted_secret)?;
        let layout = self.execute(
            CC_ACTIVATE_CREDENTIAL,
            &[object_handle, ek_handle],
            &[],
            at,
            Authorization::PasswordThenPolicy {
                policy_session: session.handle(),
            },
            0,
        )?;
        let mut credential = Zeroizing::new([0u8; CREDENTIAL_LEN]);
        let copied = match frame::take_sized(self.response_bytes(layout.parameters)) {
            Ok((data, rest)) if rest.is_empty() && data.len() == CREDENTIAL_LEN => {
                credential.copy_from_slice(data);
                Ok(())
            }
            Ok(_) => Err(malformed(
                CC_ACTIVATE_CREDENTIAL,
                ResponseDefect::UnexpectedValue,
            )),
            Err(defect) => Err(malformed(CC_ACTIVATE_CREDENTIAL, defect)),
        };
        self.wipe_response();
        copied.map(|()| credential)
    }

    /// The wallet's answer to an enrollment challenge: derives the AK (the
    /// deterministic [`template::attestation_key`] primary, the one every
    /// quote uses), activates `blob` with the EK at `ek_handle` (Name
    /// `ek_name`), and quotes PCRs 0-7 with the
    /// [`activation_digest`] of the recovered credential as qualifying data,
    /// which binds the credential to the AK. The AK is flushed on every path.
    ///
    /// # Errors
    /// The errors of the commands (see [`Tpm::activate_credential`]).
    pub fn answer_activation(
        &mut self,
        ek_handle: u32,
        ek_name: &Name,
        blob: &CredentialBlob,
    ) -> Result<ActivationResponse, TpmError> {
        let ak = self.create_primary(TpmRh::Endorsement, &template::attestation_key())?;
        let result = (|| {
            let credential = self.activate_credential(ak.handle, ek_handle, blob)?;
            let digest = activation_digest(ek_name.as_bytes(), ak.name.as_bytes(), &credential);
            let (attest, r, s) =
                self.quote_with(ak.handle, &digest, PcrSelection::DEFAULT_QUOTE)?;
            Ok(ActivationResponse {
                credential: *credential,
                attest: heapless::Vec::from_slice(&attest)
                    .map_err(|()| malformed(0x158, ResponseDefect::UnexpectedValue))?,
                signature: AkSignature { r, s },
            })
        })();
        self.flush_or_defer(ak.handle);
        result
    }

    /// `TPM2_MakeCredential` run by the TPM itself with the public part of
    /// the key at `ek_handle`: the reference the software
    /// [`make_credential`](crate::credential::make_credential) is checked
    /// against. Needs no authorization.
    ///
    /// # Errors
    /// The errors of the command.
    pub fn make_credential_in_tpm(
        &mut self,
        ek_handle: u32,
        credential: &[u8],
        object_name: &Name,
    ) -> Result<CredentialBlob, TpmError> {
        let code = TpmMakeCredentialCommand::CC as u32;
        let command = TpmMakeCredentialCommand {
            handles: [TpmHandle::new(ek_handle)],
            credential: TpmBuffer::try_from(credential).map_err(|_| TpmError::CommandTooLarge)?,
            object_name: TpmBuffer::try_from(&object_name.as_bytes()[..])
                .map_err(|_| TpmError::CommandTooLarge)?,
        };
        let response: TpmMakeCredentialResponse = self.run(&command, &[], Authorization::None)?;
        self.wipe_response();
        let id_object: &[u8] = &response.credential_blob;
        let secret: &[u8] = &response.secret;
        Ok(CredentialBlob {
            id_object: heapless::Vec::from_slice(id_object)
                .map_err(|()| malformed(code, ResponseDefect::UnexpectedValue))?,
            encrypted_secret: heapless::Vec::from_slice(secret)
                .map_err(|()| malformed(code, ResponseDefect::UnexpectedValue))?,
        })
    }
}

impl<T: Transport> Tpm<T> {
    /// The attestation key's Name and `TPMT_PUBLIC` (the deterministic
    /// [`template::attestation_key`] primary, flushed again).
    ///
    /// # Errors
    /// The errors of `TPM2_CreatePrimary`.
    pub fn attestation_key_public(
        &mut self,
    ) -> Result<(Name, super::command::PublicArea), TpmError> {
        let ak = self.create_primary(TpmRh::Endorsement, &template::attestation_key())?;
        self.flush_or_defer(ak.handle);
        Ok((ak.name, ak.public_area))
    }
}
