//! Command wrappers (TPM 2.0 Library Part 3). Bodies are marshalled and
//! unmarshalled with `tpm2-protocol`; where a secret would otherwise sit in a
//! `tpm2-protocol` buffer (which is `Copy` and prints its bytes in `Debug`), the
//! parameter is written or read by hand, as noted at each place.

use sha2::{Digest, Sha256};
use tpm2_protocol::basic::{TpmBuffer, TpmHandle};
use tpm2_protocol::data::{
    Tpm2bPublic, Tpm2bSensitiveCreate, TpmAlgId, TpmRh, TpmSu, TpmlDigestValues, TpmlPcrSelection,
    TpmtHa, TpmtPublic, TpmuHa, TpmuPublicId,
};
use tpm2_protocol::frame::{
    TpmClearCommand, TpmClearResponse, TpmNvReadCommand, TpmNvReadPublicCommand,
    TpmNvReadPublicResponse, TpmNvReadResponse,
};
use tpm2_protocol::frame::{
    TpmCreatePrimaryCommand, TpmCreatePrimaryResponse, TpmCreateResponse,
    TpmDictionaryAttackParametersCommand, TpmDictionaryAttackParametersResponse,
    TpmGetRandomCommand, TpmGetRandomResponse, TpmHeader, TpmLoadResponse, TpmPcrExtendCommand,
    TpmPcrExtendResponse, TpmPcrReadCommand, TpmPcrReadResponse, TpmPolicyAuthValueCommand,
    TpmPolicyAuthValueResponse, TpmPolicyGetDigestCommand, TpmPolicyGetDigestResponse,
    TpmPolicyPcrCommand, TpmPolicyPcrResponse, TpmReadPublicCommand, TpmReadPublicResponse,
    TpmStartupCommand, TpmStartupResponse, TpmUnmarshalBody,
};
use tpm2_protocol::{TpmMarshal, TpmUnmarshal, TpmWriter};
use zeroize::Zeroizing;

use super::frame::{self, ResponseDefect};
use super::session::{ParameterEncryption, Session};
use super::{template, Authorization, Name, PcrSelection, Tpm, TpmError, TpmRc, Transport};

/// Largest marshalled `TPMT_PUBLIC` we keep (ours are under 100 bytes).
pub const MAX_PUBLIC_AREA: usize = 512;
/// Largest `TPM2B_PUBLIC` or `TPM2B_PRIVATE` (size field included) we keep.
pub const MAX_OBJECT_BLOB: usize = 514;
/// Length of a sealed secret.
pub const SECRET_LEN: usize = 32;

const CC_CREATE: u32 = 0x153;
const CC_LOAD: u32 = 0x157;
const CC_UNSEAL: u32 = 0x15E;
const CC_CREATE_PRIMARY: u32 = 0x131;

/// A marshalled `TPMT_PUBLIC`, bounded.
pub type PublicArea = heapless::Vec<u8, MAX_PUBLIC_AREA>;
/// A marshalled `TPM2B_PUBLIC` or `TPM2B_PRIVATE`, size field included.
pub type ObjectBlob = heapless::Vec<u8, MAX_OBJECT_BLOB>;

/// The storage root key, loaded: its handle, its Name and its public point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srk {
    handle: u32,
    name: Name,
    x: [u8; 32],
    y: [u8; 32],
}

impl Srk {
    /// The transient handle.
    #[must_use]
    pub const fn handle(&self) -> u32 {
        self.handle
    }

    /// The Name (`0x000B || SHA-256(TPMT_PUBLIC)`), computed by us from the
    /// public area and checked against the TPM's.
    #[must_use]
    pub const fn name(&self) -> &Name {
        &self.name
    }

    /// x coordinate of the public point (32 bytes, big-endian).
    #[must_use]
    pub const fn point_x(&self) -> &[u8; 32] {
        &self.x
    }

    /// y coordinate of the public point (32 bytes, big-endian).
    #[must_use]
    pub const fn point_y(&self) -> &[u8; 32] {
        &self.y
    }
}

impl Srk {
    /// The same key at another handle (where it was made persistent).
    #[must_use]
    pub fn at_handle(&self, handle: u32) -> Self {
        Self {
            handle,
            ..self.clone()
        }
    }

    /// The SRK whose marshalled `TPMT_PUBLIC` is `public_area`, at `handle`
    /// (a persistent handle read back with `TPM2_ReadPublic`). The caller
    /// compares the Name with the one it expects.
    ///
    /// # Errors
    ///
    /// A malformed-response error for an area that is not an ECC P-256 key.
    pub fn from_public_area(handle: u32, public_area: &[u8]) -> Result<Self, TpmError> {
        let code = TpmReadPublicCommand::CC as u32;
        let bad = || malformed(code, ResponseDefect::UnexpectedValue);
        let (public, rest) = TpmtPublic::unmarshal(public_area).map_err(|_| bad())?;
        if !rest.is_empty() {
            return Err(bad());
        }
        let (x, y) = match &public.unique {
            TpmuPublicId::Ecc(point) => left_pad_32(&point.x)
                .zip(left_pad_32(&point.y))
                .ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        Ok(Self {
            handle,
            name: Name::of_public_area(public_area),
            x,
            y,
        })
    }
}

/// Which TCG default EK template a key was made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EkKind {
    /// Template L-1: RSA 2048 (certificate at NV `0x01c00002`).
    Rsa2048,
    /// Template L-2: ECC NIST P-256 (certificate at NV `0x01c0000a`).
    EccP256,
}

impl EkKind {
    /// The TCG default template of this kind.
    #[must_use]
    pub fn template(self) -> TpmtPublic {
        match self {
            Self::Rsa2048 => template::ek_rsa_2048(),
            Self::EccP256 => template::ek_ecc_p256(),
        }
    }

    /// The persistent handle the TCG reserves for an EK of this kind (TCG TPM
    /// v2.0 Provisioning Guidance, section 7.8): `0x81010001` for RSA 2048,
    /// `0x81010002` for ECC P-256. Platforms that provision the EK (Windows,
    /// `tpm2_createek`, `swtpm_setup`) leave it there.
    #[must_use]
    pub const fn persistent_handle(self) -> u32 {
        match self {
            Self::Rsa2048 => 0x8101_0001,
            Self::EccP256 => 0x8101_0002,
        }
    }

    /// The byte the account file records for this kind.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Rsa2048 => 1,
            Self::EccP256 => 2,
        }
    }

    /// The kind a recorded byte names.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Rsa2048),
            2 => Some(Self::EccP256),
            _ => None,
        }
    }
}

/// An endorsement key's public key, as the TPM returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EkPublic {
    /// RSA 2048, exponent 65537: the modulus, big-endian.
    Rsa2048 {
        /// The 256-byte modulus.
        modulus: [u8; 256],
    },
    /// ECC NIST P-256: the point.
    EccP256 {
        /// x coordinate, big-endian.
        x: [u8; 32],
        /// y coordinate, big-endian.
        y: [u8; 32],
    },
}

/// A loaded endorsement key: handle, Name, public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EkKey {
    /// The transient handle, or the TCG persistent EK handle (never flushed).
    pub handle: u32,
    /// The Name, computed from the public area and checked against the TPM's.
    pub name: Name,
    /// The public key.
    pub public: EkPublic,
}

/// `TPM_ALG_SHA384`.
pub const ALG_SHA384: u16 = 0x000c;
/// Length of a Name with a SHA-384 nameAlg.
pub const EK_P384_NAME_LEN: usize = 2 + 48;

/// A loaded ECC P-384 endorsement key (template H-3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EkP384Key {
    /// The transient handle.
    pub handle: u32,
    /// The SHA-384 Name, computed from the public area and checked against the TPM's.
    pub name: [u8; EK_P384_NAME_LEN],
    /// The marshalled `TPMT_PUBLIC`.
    pub public_area: PublicArea,
    /// x coordinate, big-endian.
    pub x: [u8; 48],
    /// y coordinate, big-endian.
    pub y: [u8; 48],
}

fn left_pad<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    let offset = N.checked_sub(bytes.len())?;
    out.get_mut(offset..)?.copy_from_slice(bytes);
    Some(out)
}

/// What `TPM2_NV_ReadPublic` says about an NV index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NvIndexInfo {
    /// The index's data size in bytes.
    pub data_size: u16,
    /// The index's attributes (`TPMA_NV`).
    pub attributes: u32,
}

/// The largest chunk one `TPM2_NV_Read` asks for: below every TPM's
/// `TPM_PT_NV_BUFFER_MAX` we know of (swtpm and most chips answer 1024).
pub const NV_READ_CHUNK: u16 = 768;

/// A loaded primary key: handle, Name and marshalled public area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKey {
    /// The transient handle.
    pub handle: u32,
    /// The Name, computed from `public_area` and checked against the TPM's.
    pub name: Name,
    /// The marshalled `TPMT_PUBLIC` as the TPM returned it.
    pub public_area: PublicArea,
    /// The parsed public area.
    pub public: TpmtPublic,
}

/// A loaded object: its handle and Name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedObject {
    /// The transient handle.
    pub handle: u32,
    /// The Name, computed from the public area and checked against the TPM's.
    pub name: Name,
}

/// What `TPM2_Create` returned: the object's public and private blobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedObject {
    /// `TPM2B_PUBLIC`, size field included.
    pub public: ObjectBlob,
    /// `TPM2B_PRIVATE`, size field included (encrypted by the parent).
    pub private: ObjectBlob,
}

/// The TPM's dictionary-attack protection (TPM 2.0 Library Part 1, section
/// 19.8): after `max_tries` authorization failures on DA-protected objects the
/// TPM refuses them all (`TPM_RC_LOCKOUT`) until one failure is forgotten,
/// every `recovery_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DictionaryAttackState {
    /// `TPM_PT_LOCKOUT_COUNTER`: failures counted now.
    pub failures: u32,
    /// `TPM_PT_MAX_AUTH_FAIL`: failures before lockout.
    pub max_tries: u32,
    /// `TPM_PT_LOCKOUT_INTERVAL`: seconds after which one failure is forgotten
    /// (0: never; only `TPM2_DictionaryAttackLockReset` clears them).
    pub recovery_seconds: u32,
    /// `TPM_PT_LOCKOUT_RECOVERY`: seconds the lockout hierarchy waits after a
    /// failed lockout authorization.
    pub lockout_recovery_seconds: u32,
}

impl DictionaryAttackState {
    /// `true` once the TPM refuses DA-protected authorizations.
    #[must_use]
    pub const fn locked_out(&self) -> bool {
        self.failures >= self.max_tries
    }
}

/// PCR values read with `TPM2_PCR_Read`, SHA-256 bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcrValues {
    /// The PCRs these values belong to.
    pub selection: PcrSelection,
    /// One digest per selected PCR, in ascending PCR order.
    pub values: heapless::Vec<[u8; 32], 24>,
}

impl PcrValues {
    /// The value of PCR `index`, if it was read.
    #[must_use]
    pub fn get(&self, index: u8) -> Option<&[u8; 32]> {
        let position = self
            .selection
            .indices()
            .position(|selected| selected == index)?;
        self.values.get(position)
    }

    /// SHA-256 over the values in ascending PCR order: the `pcrDigest` of a
    /// quote over the same selection.
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        for value in &self.values {
            hash.update(value);
        }
        hash.finalize().into()
    }
}

fn malformed(command: u32, defect: ResponseDefect) -> TpmError {
    TpmError::MalformedResponse { command, defect }
}

/// Whether an NV index's Name, as `TPM2_NV_ReadPublic` returned it, is the
/// Name of the public area returned beside it (nameAlg, then the hash of the
/// marshalled `TPMS_NV_PUBLIC`). Only SHA-256 and SHA-384 Names are checked;
/// any other nameAlg, or an area that does not marshal, is a mismatch.
fn nv_name_matches(public: &tpm2_protocol::data::TpmsNvPublic, name: &[u8]) -> bool {
    let mut bytes = [0u8; 128];
    let mut writer = TpmWriter::new(&mut bytes);
    if public.marshal(&mut writer).is_err() {
        return false;
    }
    let len = writer.len();
    let area = bytes.get(..len).unwrap_or(&[]);
    let alg = (public.name_alg as u16).to_be_bytes();
    match public.name_alg {
        TpmAlgId::Sha256 => {
            name.get(..2) == Some(&alg[..]) && name.get(2..) == Some(&Sha256::digest(area)[..])
        }
        TpmAlgId::Sha384 => {
            name.get(..2) == Some(&alg[..])
                && name.get(2..) == Some(&sha2::Sha384::digest(area)[..])
        }
        _ => false,
    }
}

/// Marshals a `TPMT_PUBLIC` into a bounded buffer.
///
/// # Errors
///
/// [`TpmError::CommandTooLarge`] when it does not fit.
pub fn marshal_public(public: &TpmtPublic) -> Result<PublicArea, TpmError> {
    let mut bytes = [0u8; MAX_PUBLIC_AREA];
    let mut writer = TpmWriter::new(&mut bytes);
    public
        .marshal(&mut writer)
        .map_err(|_| TpmError::CommandTooLarge)?;
    let len = writer.len();
    PublicArea::from_slice(bytes.get(..len).unwrap_or(&[])).map_err(|()| TpmError::CommandTooLarge)
}

/// Parses a `TPM2B_PUBLIC` strictly (no trailing bytes), returning the parsed
/// area and its marshalled `TPMT_PUBLIC` bytes (what the Name is computed over).
///
/// # Errors
///
/// [`ResponseDefect::BadParameter`] for anything that is not exactly one
/// well-formed `TPM2B_PUBLIC` whose size field matches its contents.
pub fn parse_public_blob(blob: &[u8]) -> Result<(TpmtPublic, &[u8]), ResponseDefect> {
    let (area, rest) = frame::take_sized(blob)?;
    if !rest.is_empty() {
        return Err(ResponseDefect::TrailingData);
    }
    let (public, rest) = TpmtPublic::unmarshal(area).map_err(|_| ResponseDefect::BadParameter)?;
    if !rest.is_empty() {
        return Err(ResponseDefect::TrailingData);
    }
    Ok((public, area))
}

/// Checks a `TPM2B_PRIVATE` is exactly one sized buffer.
///
/// # Errors
///
/// [`ResponseDefect::Truncated`] or [`ResponseDefect::TrailingData`].
pub fn check_private_blob(blob: &[u8]) -> Result<(), ResponseDefect> {
    let (_, rest) = frame::take_sized(blob)?;
    if !rest.is_empty() {
        return Err(ResponseDefect::TrailingData);
    }
    Ok(())
}

/// `true` when `public` is `template` apart from `unique`.
fn matches_template(public: &TpmtPublic, template: &TpmtPublic) -> bool {
    public.object_type == template.object_type
        && public.name_alg == template.name_alg
        && public.object_attributes == template.object_attributes
        && public.auth_policy == template.auth_policy
        && public.parameters == template.parameters
}

/// An EK's public key from the `unique` field of a key of `kind`; `None`
/// when the field is not of the kind's algorithm and size.
fn ek_public(kind: EkKind, unique: &TpmuPublicId) -> Option<EkPublic> {
    match (unique, kind) {
        (TpmuPublicId::Rsa(modulus), EkKind::Rsa2048) => <[u8; 256]>::try_from(&modulus[..])
            .ok()
            .map(|modulus| EkPublic::Rsa2048 { modulus }),
        (TpmuPublicId::Ecc(point), EkKind::EccP256) => left_pad_32(&point.x)
            .zip(left_pad_32(&point.y))
            .map(|(x, y)| EkPublic::EccP256 { x, y }),
        _ => None,
    }
}

fn left_pad_32(bytes: &[u8]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let offset = 32usize.checked_sub(bytes.len())?;
    out.get_mut(offset..)?.copy_from_slice(bytes);
    Some(out)
}

impl<T: Transport> Tpm<T> {
    /// `TPM2_Startup(TPM_SU_CLEAR)`. A TPM that is already started
    /// (`TPM_RC_INITIALIZE`) is fine.
    ///
    /// # Errors
    ///
    /// Any other failure of the command.
    pub fn startup(&mut self) -> Result<(), TpmError> {
        let command = TpmStartupCommand {
            handles: [],
            startup_type: TpmSu::Clear,
        };
        match self.run::<_, TpmStartupResponse>(&command, &[], Authorization::None) {
            Ok(_) => Ok(()),
            Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::INITIALIZE) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// `TPM2_GetRandom`, repeated until `out` is full.
    ///
    /// # Errors
    ///
    /// The errors of the command; an empty answer is a malformed response.
    pub fn get_random(&mut self, out: &mut [u8]) -> Result<(), TpmError> {
        let mut filled = 0;
        while filled < out.len() {
            let want = u16::try_from((out.len() - filled).min(32)).unwrap_or(32);
            let command = TpmGetRandomCommand {
                handles: [],
                bytes_requested: want.into(),
            };
            let response: TpmGetRandomResponse = self.run(&command, &[], Authorization::None)?;
            let bytes: &[u8] = &response.random_bytes;
            if bytes.is_empty() || bytes.len() > usize::from(want) {
                return Err(malformed(
                    TpmGetRandomCommand::CC as u32,
                    ResponseDefect::UnexpectedValue,
                ));
            }
            let end = filled + bytes.len();
            out.get_mut(filled..end)
                .ok_or(TpmError::CommandTooLarge)?
                .copy_from_slice(bytes);
            filled = end;
        }
        self.wipe_response();
        Ok(())
    }

    /// `TPM2_CreatePrimary` under `hierarchy` with the empty hierarchy
    /// password. The returned public area must match `template` (apart from
    /// `unique`) and its Name must match the TPM's.
    ///
    /// # Errors
    ///
    /// The errors of the command; [`ResponseDefect::UnexpectedValue`] when the
    /// key is not what was asked for (it is flushed).
    pub fn create_primary(
        &mut self,
        hierarchy: TpmRh,
        template: &TpmtPublic,
    ) -> Result<PrimaryKey, TpmError> {
        self.create_primary_checked(hierarchy, template, |handle, area, public, tpm_name| {
            let name = Name::of_public_area(area);
            if Name::from_bytes(tpm_name) != Some(name) {
                return Err(ResponseDefect::UnexpectedValue);
            }
            Ok(PrimaryKey {
                handle,
                name,
                public_area: PublicArea::from_slice(area)
                    .map_err(|()| ResponseDefect::UnexpectedValue)?,
                public: public.clone(),
            })
        })
    }

    /// `TPM2_CreatePrimary` of `template` under `hierarchy`, empty auth: the
    /// key's handle must be transient and its public area match the template;
    /// `key` then checks the TPM's Name against the marshalled public area and
    /// builds the result. A key that fails a check is flushed.
    pub(crate) fn create_primary_checked<K>(
        &mut self,
        hierarchy: TpmRh,
        template: &TpmtPublic,
        key: impl FnOnce(u32, &[u8], &TpmtPublic, &[u8]) -> Result<K, ResponseDefect>,
    ) -> Result<K, TpmError> {
        let command = TpmCreatePrimaryCommand {
            handles: [TpmHandle::new(hierarchy as u32)],
            in_sensitive: Tpm2bSensitiveCreate::default(),
            in_public: Tpm2bPublic {
                inner: template.clone(),
            },
            outside_info: TpmBuffer::default(),
            creation_pcr: TpmlPcrSelection::default(),
        };
        let (response, layout) = self.run_with_layout::<_, TpmCreatePrimaryResponse>(
            &command,
            &[],
            Authorization::Password,
        )?;
        let handle = response.handles[0].value();
        let checked = (|| {
            let parameters = self.response_bytes(layout.parameters);
            let (public_area, _) = frame::take_sized(parameters)?;
            let public = &response.out_public.inner;
            if handle >> 24 != 0x80 || !matches_template(public, template) {
                return Err(ResponseDefect::UnexpectedValue);
            }
            key(handle, public_area, public, response.name.as_ref())
        })();
        self.wipe_response();
        match checked {
            Ok(key) => Ok(key),
            Err(defect) => {
                self.flush_or_defer(handle);
                Err(malformed(CC_CREATE_PRIMARY, defect))
            }
        }
    }

    /// Creates (or re-derives) the ECC P-384 endorsement key of the TCG
    /// high-range template H-3 ([`template::ek_ecc_p384`]). Its nameAlg is
    /// SHA-384, so its Name (`0x000C || SHA-384(TPMT_PUBLIC)`) is computed
    /// here and compared with the TPM's; it is not a [`Name`].
    ///
    /// # Errors
    ///
    /// The errors of the command; [`ResponseDefect::UnexpectedValue`] when the
    /// key is not what was asked for or its Name differs (it is flushed).
    pub fn create_ek_p384(&mut self) -> Result<EkP384Key, TpmError> {
        let template = template::ek_ecc_p384();
        self.create_primary_checked(
            TpmRh::Endorsement,
            &template,
            |handle, area, public, tpm_name| {
                let mut name = [0u8; EK_P384_NAME_LEN];
                name[..2].copy_from_slice(&ALG_SHA384.to_be_bytes());
                name[2..].copy_from_slice(&sha2::Sha384::digest(area));
                let (x, y) = match &public.unique {
                    TpmuPublicId::Ecc(point) => {
                        left_pad::<48>(&point.x).zip(left_pad::<48>(&point.y))
                    }
                    _ => None,
                }
                .ok_or(ResponseDefect::UnexpectedValue)?;
                if tpm_name != &name[..] {
                    return Err(ResponseDefect::UnexpectedValue);
                }
                Ok(EkP384Key {
                    handle,
                    name,
                    public_area: PublicArea::from_slice(area)
                        .map_err(|()| ResponseDefect::UnexpectedValue)?,
                    x,
                    y,
                })
            },
        )
    }

    /// Creates (or re-derives: the template is deterministic) the SRK under the
    /// owner hierarchy.
    ///
    /// # Errors
    ///
    /// The errors of [`Tpm::create_primary`].
    pub fn create_srk(&mut self) -> Result<Srk, TpmError> {
        let key = self.create_primary(TpmRh::Owner, &template::srk())?;
        let point = match &key.public.unique {
            TpmuPublicId::Ecc(point) => left_pad_32(&point.x).zip(left_pad_32(&point.y)),
            _ => None,
        };
        match point {
            Some((x, y)) => Ok(Srk {
                handle: key.handle,
                name: key.name,
                x,
                y,
            }),
            None => {
                self.flush_or_defer(key.handle);
                Err(malformed(
                    CC_CREATE_PRIMARY,
                    ResponseDefect::UnexpectedValue,
                ))
            }
        }
    }

    /// The EK of `kind` at its TCG persistent handle
    /// ([`EkKind::persistent_handle`]), when the object there has exactly the
    /// TCG default template; `None` when the handle is empty or holds another
    /// object. `TPM2_ReadPublic` is unauthenticated, and that is enough: the
    /// caller compares the key with the EK certificate or the recorded EK
    /// Name, and a session salted to it can only be opened by the TPM holding
    /// that key's private part, whatever the handle really holds.
    ///
    /// # Errors
    ///
    /// Transport errors and TPM warnings; an answer whose Name is not the
    /// Name of its public area is malformed.
    fn persistent_ek(&mut self, kind: EkKind) -> Result<Option<EkKey>, TpmError> {
        let handle = kind.persistent_handle();
        let command = TpmReadPublicCommand {
            handles: [TpmHandle::new(handle)],
        };
        let (response, layout) = match self.run_with_layout::<_, TpmReadPublicResponse>(
            &command,
            &[],
            Authorization::None,
        ) {
            Ok(answer) => answer,
            // TPM_RC_HANDLE: nothing persistent there.
            Err(TpmError::Tpm { rc, .. }) if rc.is(TpmRc::HANDLE) => return Ok(None),
            Err(other) => return Err(other),
        };
        let code = TpmReadPublicCommand::CC as u32;
        let name = self.read_public_answer_name(layout)?;
        if Name::from_bytes(&response.name) != Some(name) {
            return Err(malformed(code, ResponseDefect::UnexpectedValue));
        }
        let public = &response.out_public.inner;
        if !matches_template(public, &kind.template()) {
            return Ok(None);
        }
        // An EK is a primary key of the endorsement hierarchy, so its
        // qualified Name follows from its Name: every byte of the answer is
        // checked, and a changed answer is noticed rather than used.
        let qualified = name.qualified_under_hierarchy(TpmRh::Endorsement as u32);
        if Name::from_bytes(&response.qualified_name) != Some(qualified) {
            return Err(malformed(code, ResponseDefect::UnexpectedValue));
        }
        Ok(ek_public(kind, &public.unique).map(|public| EkKey {
            handle,
            name,
            public,
        }))
    }

    /// Creates (or re-derives) the endorsement key of `kind` from the TCG
    /// default template under `TPM_RH_ENDORSEMENT` (empty endorsement auth),
    /// or uses the same key at its TCG persistent handle when it is there
    /// (reading it costs one `TPM2_ReadPublic`; deriving an RSA EK costs tens
    /// to hundreds of milliseconds on swtpm, seconds on some TPM chips).
    ///
    /// # Errors
    ///
    /// The errors of [`Tpm::create_primary`]; an answer whose key is not of
    /// the template's kind and size is a malformed response (flushed).
    pub fn create_ek(&mut self, kind: EkKind) -> Result<EkKey, TpmError> {
        if let Some(ek) = self.persistent_ek(kind)? {
            return Ok(ek);
        }
        let key = self.create_primary(TpmRh::Endorsement, &kind.template())?;
        match ek_public(kind, &key.public.unique) {
            Some(public) => Ok(EkKey {
                handle: key.handle,
                name: key.name,
                public,
            }),
            None => {
                self.flush_or_defer(key.handle);
                Err(malformed(
                    CC_CREATE_PRIMARY,
                    ResponseDefect::UnexpectedValue,
                ))
            }
        }
    }

    /// `TPM2_NV_ReadPublic`: the data size and attributes of an NV index.
    ///
    /// # Errors
    ///
    /// The errors of the command (`TPM_RC_HANDLE` for an index that is not
    /// defined); a response about another index is malformed.
    pub fn nv_read_public(&mut self, index: u32) -> Result<NvIndexInfo, TpmError> {
        let command = TpmNvReadPublicCommand {
            handles: [TpmHandle::new(index)],
        };
        let response: TpmNvReadPublicResponse = self.run(&command, &[], Authorization::None)?;
        let public = &response.nv_public.inner;
        if public.nv_index.value() != index || !nv_name_matches(public, &response.nv_name) {
            return Err(malformed(
                TpmNvReadPublicCommand::CC as u32,
                ResponseDefect::UnexpectedValue,
            ));
        }
        Ok(NvIndexInfo {
            data_size: public.data_size.value(),
            attributes: public.attributes.bits(),
        })
    }

    /// `TPM2_NV_Read` of `out.len()` bytes from `offset`, authorized by the
    /// index itself with the empty password, in chunks of [`NV_READ_CHUNK`].
    ///
    /// # Errors
    ///
    /// The errors of the command; an answer shorter or longer than asked.
    pub fn nv_read(&mut self, index: u32, offset: u16, out: &mut [u8]) -> Result<(), TpmError> {
        let code = TpmNvReadCommand::CC as u32;
        let mut done = 0usize;
        while done < out.len() {
            let want = u16::try_from((out.len() - done).min(usize::from(NV_READ_CHUNK)))
                .map_err(|_| TpmError::CommandTooLarge)?;
            let at =
                u16::try_from(usize::from(offset) + done).map_err(|_| TpmError::CommandTooLarge)?;
            let command = TpmNvReadCommand {
                handles: [TpmHandle::new(index), TpmHandle::new(index)],
                size: want.into(),
                offset: at.into(),
            };
            let response: TpmNvReadResponse = self.run(&command, &[], Authorization::Password)?;
            let data: &[u8] = &response.data;
            if data.len() != usize::from(want) {
                return Err(malformed(code, ResponseDefect::UnexpectedValue));
            }
            out.get_mut(done..done + data.len())
                .ok_or(TpmError::CommandTooLarge)?
                .copy_from_slice(data);
            done += data.len();
        }
        self.wipe_response();
        Ok(())
    }

    /// `TPM2_Clear` authorized by the platform hierarchy (empty password): a
    /// new storage seed, so a new SRK; the endorsement seed, and so the EK and
    /// its certificate, stay. The simulator uses it to give each copy of a
    /// provisioned TPM its own storage hierarchy.
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn clear_with_platform_auth(&mut self) -> Result<(), TpmError> {
        let command = TpmClearCommand {
            handles: [TpmHandle::new(TpmRh::Platform as u32)],
        };
        let _: TpmClearResponse = self.run(&command, &[], Authorization::Password)?;
        Ok(())
    }

    /// `TPM2_ReadPublic` of `handle` through `session` (its answer encrypted
    /// and HMAC-checked with the session key): the Name the TPM that holds
    /// the session's salt key gives the object. With a session salted to the
    /// verified EK this proves which key the real TPM has at `handle`.
    ///
    /// # Errors
    ///
    /// The errors of the command, [`TpmError::ResponseHmacMismatch`] for an
    /// answer the session's TPM did not give.
    pub fn read_public_in_session(
        &mut self,
        handle: u32,
        expected_name: &Name,
        session: &mut Session,
    ) -> Result<Name, TpmError> {
        let command = TpmReadPublicCommand {
            handles: [TpmHandle::new(handle)],
        };
        let (_, layout) = self.run_with_layout::<_, TpmReadPublicResponse>(
            &command,
            &[expected_name.as_bytes()],
            Authorization::Session {
                session,
                decrypt: false,
                encrypt: true,
            },
        )?;
        self.read_public_answer_name(layout)
    }

    /// The Name of the public area in the `TPM2_ReadPublic` answer just
    /// received (its parameters at `layout`), computed here, never taken from
    /// the TPM; the answer is wiped.
    fn read_public_answer_name(&mut self, layout: frame::ResponseLayout) -> Result<Name, TpmError> {
        let code = TpmReadPublicCommand::CC as u32;
        let parameters = self.response_bytes(layout.parameters);
        let name = frame::take_sized(parameters)
            .map(|(public_area, _)| Name::of_public_area(public_area))
            .map_err(|defect| malformed(code, defect));
        self.wipe_response();
        name
    }

    /// `TPM2_ReadPublic`: the Name and marshalled public area of a loaded object,
    /// the Name recomputed and checked.
    ///
    /// # Errors
    ///
    /// The errors of the command; a Name that does not match the area.
    pub fn read_public(&mut self, handle: u32) -> Result<(Name, PublicArea), TpmError> {
        self.read_public_qualified(handle)
            .map(|(name, area, _)| (name, area))
    }

    /// As [`Tpm::read_public`], also returning the qualified Name the TPM
    /// reported (unchecked: only a caller that knows the object's parent
    /// can check it).
    ///
    /// # Errors
    ///
    /// As [`Tpm::read_public`]; a qualified Name that is not a SHA-256 Name.
    pub fn read_public_qualified(
        &mut self,
        handle: u32,
    ) -> Result<(Name, PublicArea, Name), TpmError> {
        let command = TpmReadPublicCommand {
            handles: [TpmHandle::new(handle)],
        };
        let (response, layout) =
            self.run_with_layout::<_, TpmReadPublicResponse>(&command, &[], Authorization::None)?;
        let code = TpmReadPublicCommand::CC as u32;
        let parameters = self.response_bytes(layout.parameters);
        let (public_area, _) =
            frame::take_sized(parameters).map_err(|defect| malformed(code, defect))?;
        let name = Name::of_public_area(public_area);
        if Name::from_bytes(&response.name) != Some(name) {
            return Err(malformed(code, ResponseDefect::UnexpectedValue));
        }
        let area = PublicArea::from_slice(public_area)
            .map_err(|()| malformed(code, ResponseDefect::UnexpectedValue))?;
        let qualified = Name::from_bytes(&response.qualified_name)
            .ok_or_else(|| malformed(code, ResponseDefect::UnexpectedValue))?;
        self.wipe_response();
        Ok((name, area, qualified))
    }

    /// `TPM2_PCR_Read` of a SHA-256 selection, repeated until every selected PCR
    /// was returned (a TPM returns at most eight digests per call).
    ///
    /// # Errors
    ///
    /// The errors of the command; a response that returns PCRs that were not
    /// asked for, digests of the wrong size, or nothing at all.
    pub fn pcr_read(&mut self, selection: PcrSelection) -> Result<PcrValues, TpmError> {
        let code = TpmPcrReadCommand::CC as u32;
        let mut values = PcrValues {
            selection,
            values: heapless::Vec::new(),
        };
        let mut by_index = [[0u8; 32]; 24];
        let mut remaining = selection.bitmap();
        while remaining != 0 {
            let request = PcrSelection::from_bitmap(remaining)?;
            let command = TpmPcrReadCommand {
                handles: [],
                pcr_selection_in: request.to_tpml(),
            };
            let response: TpmPcrReadResponse = self.run(&command, &[], Authorization::None)?;
            let returned = match response.pcr_selection_out.first() {
                Some(entry)
                    if response.pcr_selection_out.len() == 1 && entry.hash == TpmAlgId::Sha256 =>
                {
                    let bits: &[u8] = &entry.pcr_select;
                    bits.iter()
                        .take(3)
                        .enumerate()
                        .fold(0u32, |acc, (i, byte)| acc | u32::from(*byte) << (8 * i))
                }
                _ => 0,
            };
            let digests: &[_] = &response.pcr_values;
            if returned == 0
                || returned & !remaining != 0
                || digests.len() != returned.count_ones() as usize
            {
                return Err(malformed(code, ResponseDefect::UnexpectedValue));
            }
            let returned_indices = (0u8..24).filter(|i| returned & (1 << i) != 0);
            for (index, digest) in returned_indices.zip(digests.iter()) {
                let digest: &[u8] = digest;
                let slot = by_index
                    .get_mut(usize::from(index))
                    .ok_or(TpmError::InvalidPcrSelection)?;
                *slot = digest
                    .try_into()
                    .map_err(|_| malformed(code, ResponseDefect::UnexpectedValue))?;
            }
            remaining &= !returned;
        }
        for index in selection.indices() {
            let value = by_index
                .get(usize::from(index))
                .ok_or(TpmError::InvalidPcrSelection)?;
            values
                .values
                .push(*value)
                .map_err(|_| TpmError::InvalidPcrSelection)?;
        }
        self.wipe_response();
        Ok(values)
    }

    /// `TPM2_PCR_Extend` of the SHA-256 bank of PCR `index` with `digest`.
    ///
    /// # Errors
    ///
    /// [`TpmError::InvalidPcrSelection`] for an index above 23; the errors of
    /// the command.
    pub fn pcr_extend(&mut self, index: u8, digest: &[u8; 32]) -> Result<(), TpmError> {
        if index >= PcrSelection::PCR_COUNT {
            return Err(TpmError::InvalidPcrSelection);
        }
        let mut digests = TpmlDigestValues::default();
        digests
            .try_push(TpmtHa {
                hash_alg: TpmAlgId::Sha256,
                digest: TpmuHa::Digest(
                    TpmBuffer::try_from(&digest[..]).map_err(|_| TpmError::CommandTooLarge)?,
                ),
            })
            .map_err(|_| TpmError::CommandTooLarge)?;
        let command = TpmPcrExtendCommand {
            handles: [TpmHandle::new(u32::from(index))],
            digests,
        };
        self.run::<_, TpmPcrExtendResponse>(&command, &[], Authorization::Password)
            .map(|_| ())
    }

    /// `TPM2_PolicyPCR` with an empty `pcrDigest`: the TPM binds the session's
    /// policy to the current values of `selection`.
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn policy_pcr(
        &mut self,
        session: &Session,
        selection: PcrSelection,
    ) -> Result<(), TpmError> {
        let command = TpmPolicyPcrCommand {
            handles: [TpmHandle::new(session.handle())],
            pcr_digest: TpmBuffer::default(),
            pcrs: selection.to_tpml(),
        };
        self.run::<_, TpmPolicyPcrResponse>(&command, &[], Authorization::None)
            .map(|_| ())
    }

    /// `TPM2_PolicyAuthValue`: the session's policy then requires the object's
    /// authorization value in the command HMAC (see
    /// [`Session::include_auth_value`]).
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn policy_auth_value(&mut self, session: &Session) -> Result<(), TpmError> {
        let command = TpmPolicyAuthValueCommand {
            handles: [TpmHandle::new(session.handle())],
        };
        self.run::<_, TpmPolicyAuthValueResponse>(&command, &[], Authorization::None)
            .map(|_| ())
    }

    /// The TPM's dictionary-attack state: `TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES)`
    /// of `TPM_PT_LOCKOUT_COUNTER` through `TPM_PT_LOCKOUT_RECOVERY`.
    ///
    /// # Errors
    ///
    /// The errors of the command; an answer without those four properties.
    pub fn dictionary_attack_state(&mut self) -> Result<DictionaryAttackState, TpmError> {
        const CC_GET_CAPABILITY: u32 = 0x17A;
        const CAP_TPM_PROPERTIES: u32 = 6;
        const PT_LOCKOUT_COUNTER: u32 = 0x20E;
        let mut command = [0u8; 22];
        command[..2].copy_from_slice(&frame::TAG_NO_SESSIONS.to_be_bytes());
        command[2..6].copy_from_slice(&22u32.to_be_bytes());
        command[6..10].copy_from_slice(&CC_GET_CAPABILITY.to_be_bytes());
        command[10..14].copy_from_slice(&CAP_TPM_PROPERTIES.to_be_bytes());
        command[14..18].copy_from_slice(&PT_LOCKOUT_COUNTER.to_be_bytes());
        command[18..].copy_from_slice(&4u32.to_be_bytes());
        let layout = self.transact_small(&command, CC_GET_CAPABILITY)?;
        // moreData (1), capability (4), count (4), then (property, value) pairs.
        let mut values = [None; 4];
        let body = self.response_bytes(layout.parameters);
        let count = body
            .get(5..9)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let capability = body
            .get(1..5)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        if capability == Some(CAP_TPM_PROPERTIES) {
            let pairs = body.get(9..).unwrap_or(&[]).chunks_exact(8);
            for pair in pairs.take(count.unwrap_or(0) as usize) {
                let property = u32::from_be_bytes([pair[0], pair[1], pair[2], pair[3]]);
                let value = u32::from_be_bytes([pair[4], pair[5], pair[6], pair[7]]);
                if let Some(slot) = property
                    .checked_sub(PT_LOCKOUT_COUNTER)
                    .and_then(|i| values.get_mut(i as usize))
                {
                    *slot = Some(value);
                }
            }
        }
        self.wipe_response();
        match values {
            [Some(failures), Some(max_tries), Some(recovery_seconds), Some(lockout_recovery_seconds)] => {
                Ok(DictionaryAttackState {
                    failures,
                    max_tries,
                    recovery_seconds,
                    lockout_recovery_seconds,
                })
            }
            _ => Err(malformed(
                CC_GET_CAPABILITY,
                ResponseDefect::UnexpectedValue,
            )),
        }
    }

    /// `TPM2_EvictControl` with the owner hierarchy's empty password: makes
    /// the transient object at `transient` persistent at `persistent`
    /// (`0x81xxxxxx`); with `transient` a persistent handle, evicts it.
    ///
    /// # Errors
    ///
    /// The errors of the command (`TPM_RC_NV_DEFINED` when `persistent` is
    /// taken).
    pub fn evict_control(&mut self, transient: u32, persistent: u32) -> Result<(), TpmError> {
        const CC_EVICT_CONTROL: u32 = 0x120;
        let parameter_len = frame::put_u32(&mut self.parameters, 0, persistent)?;
        self.execute(
            CC_EVICT_CONTROL,
            &[TpmRh::Owner as u32, transient],
            &[],
            parameter_len,
            Authorization::Password,
            0,
        )?;
        self.wipe_response();
        Ok(())
    }

    /// `TPM2_DictionaryAttackParameters` with the lockout hierarchy's empty
    /// password: at most `max_tries` authorization failures before lockout,
    /// one failure forgotten every `recovery_seconds`, and `lockout_recovery_seconds`
    /// before the lockout hierarchy may try again after a failure of its own.
    ///
    /// # Errors
    ///
    /// The errors of the command (`TPM_RC_BAD_AUTH` when the lockout
    /// hierarchy has a password).
    pub fn set_dictionary_attack_parameters(
        &mut self,
        max_tries: u32,
        recovery_seconds: u32,
        lockout_recovery_seconds: u32,
    ) -> Result<(), TpmError> {
        let command = TpmDictionaryAttackParametersCommand {
            handles: [TpmHandle::new(TpmRh::Lockout as u32)],
            new_max_tries: max_tries.into(),
            new_recovery_time: recovery_seconds.into(),
            lockout_recovery: lockout_recovery_seconds.into(),
        };
        self.run::<_, TpmDictionaryAttackParametersResponse>(&command, &[], Authorization::Password)
            .map(|_| ())
    }

    /// `TPM2_PolicyGetDigest`.
    ///
    /// # Errors
    ///
    /// The errors of the command; a digest that is not 32 bytes.
    pub fn policy_get_digest(&mut self, session: &Session) -> Result<[u8; 32], TpmError> {
        let command = TpmPolicyGetDigestCommand {
            handles: [TpmHandle::new(session.handle())],
        };
        let response: TpmPolicyGetDigestResponse = self.run(&command, &[], Authorization::None)?;
        let digest: &[u8] = &response.policy_digest;
        digest.try_into().map_err(|_| {
            malformed(
                TpmPolicyGetDigestCommand::CC as u32,
                ResponseDefect::UnexpectedValue,
            )
        })
    }

    /// `TPM2_Create` of a sealed data object holding `secret` under `parent`,
    /// authorized by `session` (an HMAC session salted to the parent), with
    /// `user_auth` as its authorization value (empty for none; a non-empty one
    /// also clears `noDA`, see [`template::sealed_attributes`]).
    ///
    /// `inSensitive` is written by hand into the parameter area rather than
    /// through `tpm2-protocol`'s `Tpm2bSensitiveCreate`, so the secret never sits
    /// in a `Copy` buffer; with [`ParameterEncryption::Aes128Cfb`] it is
    /// encrypted in place before the command leaves.
    ///
    /// # Errors
    ///
    /// The errors of the command; a returned public area that is not the one
    /// asked for.
    pub fn create_sealed_object(
        &mut self,
        parent: &Srk,
        session: &mut Session,
        secret: &[u8; SECRET_LEN],
        auth_policy: &[u8],
        user_auth: &[u8],
        encryption: ParameterEncryption,
    ) -> Result<CreatedObject, TpmError> {
        if user_auth.len() > super::session::AUTH_VALUE_LEN {
            return Err(TpmError::CommandTooLarge);
        }
        let template = template::sealed_data(auth_policy, !user_auth.is_empty());
        // inSensitive: TPM2B_SENSITIVE_CREATE { userAuth, data = secret }; both
        // travel encrypted as the first parameter.
        let sensitive_len = 2 + user_auth.len() + 2 + SECRET_LEN;
        let out = &mut self.parameters;
        let mut at = frame::put_u16(out, 0, sensitive_len as u16)?;
        at = frame::put_sized(out, at, user_auth)?;
        at = frame::put_sized(out, at, secret)?;
        let mut writer = TpmWriter::new(out.get_mut(at..).ok_or(TpmError::CommandTooLarge)?);
        Tpm2bPublic {
            inner: template.clone(),
        }
        .marshal(&mut writer)
        .map_err(|_| TpmError::CommandTooLarge)?;
        TpmBuffer::<64>::default()
            .marshal(&mut writer)
            .map_err(|_| TpmError::CommandTooLarge)?;
        TpmlPcrSelection::default()
            .marshal(&mut writer)
            .map_err(|_| TpmError::CommandTooLarge)?;
        let parameter_len = at + writer.len();

        let layout = self.execute(
            CC_CREATE,
            &[parent.handle()],
            &[parent.name().as_bytes()],
            parameter_len,
            Authorization::Session {
                session,
                decrypt: encryption.is_on(),
                encrypt: false,
            },
            0,
        )?;
        let result = (|| {
            let parameters = self.response_bytes(layout.parameters);
            let response = TpmCreateResponse::unmarshal_body(&[], parameters)
                .map_err(|_| ResponseDefect::BadParameter)?;
            if !matches_template(&response.out_public.inner, &template) {
                return Err(ResponseDefect::UnexpectedValue);
            }
            let (private, rest) = frame::take_sized(parameters)?;
            let private_len = private.len() + 2;
            let (public, _) = frame::take_sized(rest)?;
            let public_len = public.len() + 2;
            let private = parameters
                .get(..private_len)
                .ok_or(ResponseDefect::Truncated)?;
            let public = rest.get(..public_len).ok_or(ResponseDefect::Truncated)?;
            Ok(CreatedObject {
                public: ObjectBlob::from_slice(public)
                    .map_err(|()| ResponseDefect::UnexpectedValue)?,
                private: ObjectBlob::from_slice(private)
                    .map_err(|()| ResponseDefect::UnexpectedValue)?,
            })
        })();
        self.wipe_response();
        result.map_err(|defect| malformed(CC_CREATE, defect))
    }

    /// `TPM2_Load` of an object's blobs under `parent` (empty parent password).
    ///
    /// The two blobs are copied into the parameter area byte for byte (after a
    /// strict parse), so the TPM's integrity check sees exactly what it produced.
    ///
    /// # Errors
    ///
    /// [`ResponseDefect::BadParameter`] (as a malformed-response error) for
    /// blobs that do not parse; the errors of the command; a Name that differs
    /// from the one computed over the public area (the object is flushed).
    pub fn load(
        &mut self,
        parent: &Srk,
        public: &[u8],
        private: &[u8],
    ) -> Result<LoadedObject, TpmError> {
        let (_, public_area) =
            parse_public_blob(public).map_err(|defect| malformed(CC_LOAD, defect))?;
        check_private_blob(private).map_err(|defect| malformed(CC_LOAD, defect))?;
        let name = Name::of_public_area(public_area);
        let out = &mut self.parameters;
        let at = frame::put(out, 0, private)?;
        let parameter_len = frame::put(out, at, public)?;
        let layout = self.execute(
            CC_LOAD,
            &[parent.handle()],
            &[],
            parameter_len,
            Authorization::Password,
            TpmLoadResponse::HANDLES,
        )?;
        let response = TpmLoadResponse::unmarshal_body(
            self.response_bytes(layout.handles),
            self.response_bytes(layout.parameters),
        );
        self.wipe_response();
        let response = response.map_err(|_| malformed(CC_LOAD, ResponseDefect::BadParameter))?;
        let handle = response.handles[0].value();
        if Name::from_bytes(&response.name) != Some(name) || handle >> 24 != 0x80 {
            self.flush_or_defer(handle);
            return Err(malformed(CC_LOAD, ResponseDefect::UnexpectedValue));
        }
        Ok(LoadedObject { handle, name })
    }

    /// `TPM2_Unseal` of a loaded sealed object, authorized by `session` (a
    /// salted HMAC session, or a salted policy session whose policy is
    /// satisfied). With encryption on, `outData` comes back AES-128-CFB
    /// encrypted and is decrypted only after the response HMAC verified.
    ///
    /// `outData` is read by hand rather than through `tpm2-protocol`'s
    /// `Tpm2bSensitiveData`, so the secret never sits in a `Copy` buffer; the
    /// response buffer is wiped before returning.
    ///
    /// # Errors
    ///
    /// The errors of the command; data that is not 32 bytes.
    pub fn unseal(
        &mut self,
        object: &LoadedObject,
        session: &mut Session,
        encryption: ParameterEncryption,
    ) -> Result<Zeroizing<[u8; SECRET_LEN]>, TpmError> {
        let layout = self.execute(
            CC_UNSEAL,
            &[object.handle],
            &[object.name.as_bytes()],
            0,
            Authorization::Session {
                session,
                decrypt: false,
                encrypt: encryption.is_on(),
            },
            0,
        )?;
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        let copied = match frame::take_sized(self.response_bytes(layout.parameters)) {
            Ok((data, rest)) if rest.is_empty() && data.len() == SECRET_LEN => {
                secret.copy_from_slice(data);
                Ok(())
            }
            Ok(_) => Err(malformed(CC_UNSEAL, ResponseDefect::UnexpectedValue)),
            Err(defect) => Err(malformed(CC_UNSEAL, defect)),
        };
        self.wipe_response();
        copied.map(|()| secret)
    }

    /// Like `run`, also returning the response layout (the response buffer
    /// stays valid until the next command or `wipe_response`).
    pub(crate) fn run_with_layout<C, R>(
        &mut self,
        command: &C,
        names: &[&[u8]],
        authorization: Authorization<'_>,
    ) -> Result<(R, frame::ResponseLayout), TpmError>
    where
        C: tpm2_protocol::frame::TpmFrame,
        R: TpmUnmarshalBody,
    {
        self.run_inner(command, names, authorization)
    }
}

/// `TPM_CC_NV_DefineSpace`.
const CC_NV_DEFINE_SPACE: u32 = 0x12A;
/// `TPM_CC_NV_Increment`.
const CC_NV_INCREMENT: u32 = 0x134;
/// `TPM_CC_NV_Read`.
const CC_NV_READ: u32 = 0x14E;
/// `TPM_RH_OWNER`.
const RH_OWNER: u32 = 0x4000_0001;

/// The attributes of an anti-rollback counter index: a `TPM_NT_COUNTER`
/// that only its authorization value increments and reads (`AUTHWRITE`,
/// `AUTHREAD`; no `OWNERWRITE`, so the owner hierarchy cannot increment it),
/// without dictionary-attack counting (the value is a 256-bit derived
/// secret, not a PIN). The owner hierarchy can still delete it
/// (`TPM2_NV_UndefineSpace`); `POLICY_DELETE` needs the platform hierarchy.
pub const NV_COUNTER_ATTRIBUTES: u32 = 0x0000_0010 | 0x0000_0004 | 0x0004_0000 | 0x0200_0000;
/// `TPMA_NV_WRITTEN`.
const NV_WRITTEN: u32 = 0x2000_0000;

/// The Name of an anti-rollback counter index (after its first increment):
/// `0x000B || SHA-256(TPMS_NV_PUBLIC)`, computed from the attributes we
/// define it with, not from what the TPM says.
#[must_use]
pub fn nv_counter_name(index: u32) -> Name {
    let mut public = [0u8; 14];
    public[..4].copy_from_slice(&index.to_be_bytes());
    public[4..6].copy_from_slice(&super::ALG_SHA256.to_be_bytes());
    public[6..10].copy_from_slice(&(NV_COUNTER_ATTRIBUTES | NV_WRITTEN).to_be_bytes());
    // authPolicy: empty TPM2B; dataSize: 8.
    public[10..12].copy_from_slice(&0u16.to_be_bytes());
    public[12..14].copy_from_slice(&8u16.to_be_bytes());
    Name::of_public_area(&public)
}

impl<T: Transport> Tpm<T> {
    /// `TPM2_NV_DefineSpace` of an anti-rollback counter at `index` with
    /// [`NV_COUNTER_ATTRIBUTES`] and `auth` as its authorization value,
    /// authorized by the owner hierarchy's empty authorization through
    /// `session` (salted), which encrypts `auth` on the wire.
    ///
    /// # Errors
    ///
    /// The errors of the command (`TPM_RC_NV_DEFINED` when the index exists).
    pub fn nv_define_counter(
        &mut self,
        session: &mut Session,
        index: u32,
        auth: &[u8; 32],
    ) -> Result<(), TpmError> {
        let out = &mut self.parameters;
        let mut at = frame::put_sized(out, 0, auth)?;
        // TPM2B_NV_PUBLIC { nvIndex, nameAlg, attributes, authPolicy, dataSize }.
        at = frame::put_u16(out, at, 14)?;
        at = frame::put_u32(out, at, index)?;
        at = frame::put_u16(out, at, super::ALG_SHA256)?;
        at = frame::put_u32(out, at, NV_COUNTER_ATTRIBUTES)?;
        at = frame::put_u16(out, at, 0)?;
        at = frame::put_u16(out, at, 8)?;
        let owner_name = RH_OWNER.to_be_bytes();
        self.execute(
            CC_NV_DEFINE_SPACE,
            &[RH_OWNER],
            &[&owner_name],
            at,
            Authorization::Session {
                session,
                decrypt: true,
                encrypt: false,
            },
            0,
        )?;
        self.wipe_response();
        Ok(())
    }

    /// `TPM2_NV_Increment` of the counter at `index`, authorized by its
    /// authorization value through `session` (salted; the caller has called
    /// [`Session::include_auth_value`]). `name` is the index's Name before
    /// the command (see [`nv_counter_name`]; the first increment sets
    /// `WRITTEN`, so before it the Name is that of the unwritten index).
    ///
    /// # Errors
    ///
    /// The errors of the command.
    pub fn nv_increment(
        &mut self,
        session: &mut Session,
        index: u32,
        name: &Name,
    ) -> Result<(), TpmError> {
        self.execute(
            CC_NV_INCREMENT,
            &[index, index],
            &[name.as_bytes(), name.as_bytes()],
            0,
            Authorization::Session {
                session,
                decrypt: false,
                encrypt: false,
            },
            0,
        )?;
        self.wipe_response();
        Ok(())
    }

    /// `TPM2_NV_Read` of the counter at `index`, authorized (and the answer
    /// authenticated by its response HMAC) through `session`, as for
    /// [`Tpm::nv_increment`].
    ///
    /// # Errors
    ///
    /// The errors of the command; an answer that is not 8 bytes.
    pub fn nv_read_counter(
        &mut self,
        session: &mut Session,
        index: u32,
        name: &Name,
    ) -> Result<u64, TpmError> {
        let out = &mut self.parameters;
        let mut at = frame::put_u16(out, 0, 8)?;
        at = frame::put_u16(out, at, 0)?;
        let layout = self.execute(
            CC_NV_READ,
            &[index, index],
            &[name.as_bytes(), name.as_bytes()],
            at,
            Authorization::Session {
                session,
                decrypt: false,
                encrypt: false,
            },
            0,
        )?;
        let value = match frame::take_sized(self.response_bytes(layout.parameters)) {
            Ok((data, rest)) if rest.is_empty() && data.len() == 8 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(data);
                Ok(u64::from_be_bytes(bytes))
            }
            Ok(_) => Err(malformed(CC_NV_READ, ResponseDefect::UnexpectedValue)),
            Err(defect) => Err(malformed(CC_NV_READ, defect)),
        };
        self.wipe_response();
        value
    }
}

/// The Name of a counter index before its first increment (no `WRITTEN`).
#[must_use]
pub fn nv_counter_name_unwritten(index: u32) -> Name {
    let mut public = [0u8; 14];
    public[..4].copy_from_slice(&index.to_be_bytes());
    public[4..6].copy_from_slice(&super::ALG_SHA256.to_be_bytes());
    public[6..10].copy_from_slice(&NV_COUNTER_ATTRIBUTES.to_be_bytes());
    public[10..12].copy_from_slice(&0u16.to_be_bytes());
    public[12..14].copy_from_slice(&8u16.to_be_bytes());
    Name::of_public_area(&public)
}
