//! The attestation key and `TPM2_Quote` (TPM 2.0 Library Part 3, section 18.4).

use tpm2_protocol::basic::{TpmBuffer, TpmHandle};
use tpm2_protocol::data::{
    TpmAlgId, TpmRh, TpmsSchemeHash, TpmtPublic, TpmtSigScheme, TpmuSigScheme, TpmuSignature,
};
use tpm2_protocol::frame::{TpmHeader, TpmQuoteCommand, TpmQuoteResponse};

use super::command::{PcrValues, PublicArea};
use super::frame::{self, ResponseDefect};
use super::{template, Authorization, Name, PcrSelection, Tpm, TpmError, Transport};

/// Largest `TPMS_ATTEST` we keep (a quote over one bank is about 150 bytes).
pub const MAX_ATTEST: usize = 1024;

/// `TPM_GENERATED_VALUE`, the first four bytes of every `TPMS_ATTEST`.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
/// `TPM_ST_ATTEST_QUOTE`.
pub const ST_ATTEST_QUOTE: u16 = 0x8018;

/// The raw `TPMS_ATTEST` bytes of a quote.
pub type AttestBytes = heapless::Vec<u8, MAX_ATTEST>;

/// A quote and everything needed to check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// The raw `TPMS_ATTEST` bytes the AK signed.
    pub attest: AttestBytes,
    /// ECDSA `r`, 32 bytes big-endian.
    pub signature_r: [u8; 32],
    /// ECDSA `s`, 32 bytes big-endian.
    pub signature_s: [u8; 32],
    /// The AK's marshalled `TPMT_PUBLIC`.
    pub ak_public: PublicArea,
    /// The AK's Name.
    pub ak_name: Name,
    /// The PCR values read right after the quote.
    pub pcrs: PcrValues,
}

/// `TPM_CC_PCR_Read`.
const CC_PCR_READ: u32 = 0x17E;

fn malformed(defect: ResponseDefect) -> TpmError {
    TpmError::MalformedResponse {
        command: TpmQuoteCommand::CC as u32,
        defect,
    }
}

fn left_pad_32(bytes: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let offset = 32usize.checked_sub(bytes.len())?;
    out.get_mut(offset..)?.copy_from_slice(bytes);
    Some(out)
}

impl<T: Transport> Tpm<T> {
    /// Creates the attestation key (a deterministic primary under the
    /// endorsement hierarchy), quotes `pcrs` with `qualifying_data`, reads the
    /// PCR values and flushes the AK, on every path.
    ///
    /// # Errors
    ///
    /// The errors of the commands; a quote that is not an ECDSA-SHA-256
    /// signature or is larger than [`MAX_ATTEST`].
    pub fn create_ak_and_quote(
        &mut self,
        qualifying_data: &[u8; 32],
        pcrs: PcrSelection,
    ) -> Result<Quote, TpmError> {
        self.create_ak_from_and_quote(&template::attestation_key(), qualifying_data, pcrs)
    }

    /// As [`create_ak_and_quote`](Self::create_ak_and_quote), with the AK
    /// made from `ak_template` (e.g. the platform's, see
    /// [`super::platform_ak`]). The key must sign ECDSA with SHA-256.
    ///
    /// # Errors
    ///
    /// As [`create_ak_and_quote`](Self::create_ak_and_quote).
    pub fn create_ak_from_and_quote(
        &mut self,
        ak_template: &TpmtPublic,
        qualifying_data: &[u8; 32],
        pcrs: PcrSelection,
    ) -> Result<Quote, TpmError> {
        let ak = self.create_primary(TpmRh::Endorsement, ak_template)?;
        let result =
            self.quote_with(ak.handle, qualifying_data, pcrs)
                .and_then(|(attest, r, s)| {
                    let values = self.pcr_read(pcrs)?;
                    // PCR_Read's answer is not authenticated: values that do
                    // not hash to the digest the AK signed are not the ones
                    // quoted, and evidence made of them would not verify.
                    let quoted = crate::attest::wire::parse_quote(&attest).is_ok_and(|quote| {
                        quote.pcr_digest == crate::attest::pcr_digest(&values.values)
                    });
                    if !quoted {
                        return Err(TpmError::MalformedResponse {
                            command: CC_PCR_READ,
                            defect: ResponseDefect::UnexpectedValue,
                        });
                    }
                    Ok(Quote {
                        attest,
                        signature_r: r,
                        signature_s: s,
                        ak_public: ak.public_area.clone(),
                        ak_name: ak.name,
                        pcrs: values,
                    })
                });
        self.flush_or_defer(ak.handle);
        result
    }

    /// `TPM2_Quote` with the key at `signing_key` (empty auth), ECDSA SHA-256.
    ///
    /// # Errors
    ///
    /// The errors of the command; a signature of another kind.
    pub fn quote_with(
        &mut self,
        signing_key: u32,
        qualifying_data: &[u8; 32],
        pcrs: PcrSelection,
    ) -> Result<(AttestBytes, [u8; 32], [u8; 32]), TpmError> {
        let command = TpmQuoteCommand {
            handles: [TpmHandle::new(signing_key)],
            qualifying_data: TpmBuffer::try_from(&qualifying_data[..])
                .map_err(|_| TpmError::CommandTooLarge)?,
            in_scheme: TpmtSigScheme {
                scheme: TpmAlgId::Ecdsa,
                details: TpmuSigScheme::Hash(TpmsSchemeHash {
                    hash_alg: TpmAlgId::Sha256,
                }),
            },
            pcr_select: pcrs.to_tpml(),
        };
        let (response, layout) =
            self.run_with_layout::<_, TpmQuoteResponse>(&command, &[], Authorization::Password)?;
        let result = (|| {
            let (attest, _) = frame::take_sized(self.response_bytes(layout.parameters))?;
            let attest =
                heapless::Vec::from_slice(attest).map_err(|()| ResponseDefect::UnexpectedValue)?;
            let TpmuSignature::Ecdsa(signature) = &response.signature.signature else {
                return Err(ResponseDefect::UnexpectedValue);
            };
            if response.signature.sig_alg != TpmAlgId::Ecdsa || signature.hash != TpmAlgId::Sha256 {
                return Err(ResponseDefect::UnexpectedValue);
            }
            let r = left_pad_32(&signature.signature_r).ok_or(ResponseDefect::UnexpectedValue)?;
            let s = left_pad_32(&signature.signature_s).ok_or(ResponseDefect::UnexpectedValue)?;
            Ok((attest, r, s))
        })();
        self.wipe_response();
        result.map_err(malformed)
    }
}
