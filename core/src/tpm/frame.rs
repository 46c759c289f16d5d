//! Strict splitting of TPM response frames (TPM 2.0 Library Part 1, section 18.8
//! "Response Parameter Area" and section 18.10 "Authorization Area").
//!
//! `tpm2-protocol` unmarshals command and response *bodies*; the envelope around
//! them (tag, size, response code, `parameterSize`, the response authorization
//! area) is split here, because the session code needs the exact byte ranges of
//! the parameter area (for rpHash and in-place decryption) and of each
//! authorization.
//!
//! Everything here is a pure function over `&[u8]`: garbage gives an error,
//! never a panic.

use super::rc::TpmRc;
use super::TpmError;

/// `TPM_ST_NO_SESSIONS`.
pub const TAG_NO_SESSIONS: u16 = 0x8001;
/// `TPM_ST_SESSIONS`.
pub const TAG_SESSIONS: u16 = 0x8002;
/// Tag, size and response code.
pub const HEADER_LEN: usize = 10;
/// Most authorizations a response can carry (TPM 2.0 allows three sessions).
pub const MAX_SESSIONS: usize = 3;

/// What is wrong with a response frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseDefect {
    /// Shorter than a header, or shorter than a field it announces.
    Truncated,
    /// The size field differs from the number of bytes received.
    SizeMismatch,
    /// The tag is not the one the command's sessions call for.
    BadTag,
    /// A failing response carries more than a bare header.
    ErrorWithBody,
    /// Bytes are left after the last expected field.
    TrailingData,
    /// A parameter does not unmarshal as the command's response structure.
    BadParameter,
    /// A response authorization has attributes or sizes the session cannot have.
    BadAuthorization,
    /// A returned value contradicts what was asked for (a Name, a handle type,
    /// a PCR selection, an object type).
    UnexpectedValue,
}

/// A byte range inside a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// Number of bytes.
    pub len: usize,
}

impl Span {
    /// One past the last byte.
    #[must_use]
    pub const fn end(self) -> usize {
        self.start + self.len
    }

    /// The bytes of this span in `frame`, or an empty slice when out of range.
    #[must_use]
    pub fn of(self, frame: &[u8]) -> &[u8] {
        frame.get(self.start..self.end()).unwrap_or(&[])
    }
}

/// One response authorization (`TPMS_AUTH_RESPONSE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AuthResponse {
    /// `nonceTPM` (the bytes, without the size field).
    pub nonce: Span,
    /// `sessionAttributes`.
    pub attributes: u8,
    /// The HMAC (the bytes, without the size field).
    pub hmac: Span,
}

/// The areas of a successful response frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ResponseLayout {
    /// The handle area.
    pub handles: Span,
    /// The parameter area.
    pub parameters: Span,
    /// The authorizations, `session_count` of them.
    pub auths: [AuthResponse; MAX_SESSIONS],
    /// How many entries of `auths` are filled.
    pub session_count: usize,
}

struct Reader<'a> {
    frame: &'a [u8],
    at: usize,
    limit: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Result<Span, ResponseDefect> {
        let end = self.at.checked_add(len).ok_or(ResponseDefect::Truncated)?;
        if end > self.limit || end > self.frame.len() {
            return Err(ResponseDefect::Truncated);
        }
        let span = Span {
            start: self.at,
            len,
        };
        self.at = end;
        Ok(span)
    }

    fn u8(&mut self) -> Result<u8, ResponseDefect> {
        let span = self.take(1)?;
        span.of(self.frame)
            .first()
            .copied()
            .ok_or(ResponseDefect::Truncated)
    }

    fn u16(&mut self) -> Result<u16, ResponseDefect> {
        let span = self.take(2)?;
        let bytes: [u8; 2] = span
            .of(self.frame)
            .try_into()
            .map_err(|_| ResponseDefect::Truncated)?;
        Ok(u16::from_be_bytes(bytes))
    }

    fn u32(&mut self) -> Result<u32, ResponseDefect> {
        let span = self.take(4)?;
        let bytes: [u8; 4] = span
            .of(self.frame)
            .try_into()
            .map_err(|_| ResponseDefect::Truncated)?;
        Ok(u32::from_be_bytes(bytes))
    }

    fn sized(&mut self) -> Result<Span, ResponseDefect> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }
}

/// Reads the response code of a frame (after checking the header is there).
///
/// # Errors
///
/// [`ResponseDefect::Truncated`] for a frame shorter than a header.
pub fn response_code(frame: &[u8]) -> Result<TpmRc, ResponseDefect> {
    let mut reader = Reader {
        frame,
        at: 6,
        limit: frame.len(),
    };
    reader.u32().map(TpmRc::from_raw)
}

/// Splits a response frame for command `command_code`, which returns
/// `handle_count` handles and was sent with `session_count` sessions.
///
/// # Errors
///
/// [`TpmError::Tpm`] when the TPM answered with an error code;
/// [`TpmError::MalformedResponse`] for any frame that is not exactly what the
/// command calls for.
pub fn parse_response(
    frame: &[u8],
    command_code: u32,
    handle_count: usize,
    session_count: usize,
) -> Result<ResponseLayout, TpmError> {
    split(frame, command_code, handle_count, session_count).map_err(|defect| match defect {
        Split::Defect(defect) => TpmError::MalformedResponse {
            command: command_code,
            defect,
        },
        Split::Rc(rc) => TpmError::Tpm {
            command: command_code,
            rc,
        },
    })
}

enum Split {
    Defect(ResponseDefect),
    Rc(TpmRc),
}

impl From<ResponseDefect> for Split {
    fn from(defect: ResponseDefect) -> Self {
        Self::Defect(defect)
    }
}

fn split(
    frame: &[u8],
    _command_code: u32,
    handle_count: usize,
    session_count: usize,
) -> Result<ResponseLayout, Split> {
    if session_count > MAX_SESSIONS {
        return Err(ResponseDefect::BadAuthorization.into());
    }
    let mut reader = Reader {
        frame,
        at: 0,
        limit: frame.len(),
    };
    let tag = reader.u16()?;
    let size = reader.u32()?;
    let rc = TpmRc::from_raw(reader.u32()?);
    if usize::try_from(size).ok() != Some(frame.len()) {
        return Err(ResponseDefect::SizeMismatch.into());
    }
    if !rc.is_success() {
        if frame.len() != HEADER_LEN {
            return Err(ResponseDefect::ErrorWithBody.into());
        }
        if tag != TAG_NO_SESSIONS {
            return Err(ResponseDefect::BadTag.into());
        }
        return Err(Split::Rc(rc));
    }
    let expected_tag = if session_count == 0 {
        TAG_NO_SESSIONS
    } else {
        TAG_SESSIONS
    };
    if tag != expected_tag {
        return Err(ResponseDefect::BadTag.into());
    }
    let handles = reader.take(
        handle_count
            .checked_mul(4)
            .ok_or(ResponseDefect::Truncated)?,
    )?;
    let mut layout = ResponseLayout {
        handles,
        session_count,
        ..ResponseLayout::default()
    };
    if session_count == 0 {
        layout.parameters = reader.take(frame.len() - reader.at)?;
        return Ok(layout);
    }
    let parameter_size = reader.u32()?;
    layout.parameters =
        reader.take(usize::try_from(parameter_size).map_err(|_| ResponseDefect::Truncated)?)?;
    for slot in layout.auths.iter_mut().take(session_count) {
        let nonce = reader.sized()?;
        let attributes = reader.u8()?;
        let hmac = reader.sized()?;
        *slot = AuthResponse {
            nonce,
            attributes,
            hmac,
        };
    }
    if reader.at != frame.len() {
        return Err(ResponseDefect::TrailingData.into());
    }
    Ok(layout)
}

/// Writes `value` big-endian at `out[at..at + 2]`.
pub(crate) fn put_u16(out: &mut [u8], at: usize, value: u16) -> Result<usize, TpmError> {
    put(out, at, &value.to_be_bytes())
}

/// Writes `value` big-endian at `out[at..at + 4]`.
pub(crate) fn put_u32(out: &mut [u8], at: usize, value: u32) -> Result<usize, TpmError> {
    put(out, at, &value.to_be_bytes())
}

/// Copies `bytes` to `out[at..]`, returning the position after them.
pub(crate) fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> Result<usize, TpmError> {
    let end = at
        .checked_add(bytes.len())
        .ok_or(TpmError::CommandTooLarge)?;
    out.get_mut(at..end)
        .ok_or(TpmError::CommandTooLarge)?
        .copy_from_slice(bytes);
    Ok(end)
}

/// Writes a `TPM2B` (16-bit size, then the bytes).
pub(crate) fn put_sized(out: &mut [u8], at: usize, bytes: &[u8]) -> Result<usize, TpmError> {
    let len = u16::try_from(bytes.len()).map_err(|_| TpmError::CommandTooLarge)?;
    let at = put_u16(out, at, len)?;
    put(out, at, bytes)
}

/// Reads a `TPM2B` at the start of `bytes`: (contents, rest).
///
/// # Errors
///
/// [`ResponseDefect::Truncated`] when the size field or the contents are missing.
pub fn take_sized(bytes: &[u8]) -> Result<(&[u8], &[u8]), ResponseDefect> {
    let size = bytes.get(..2).ok_or(ResponseDefect::Truncated)?;
    let len = usize::from(u16::from_be_bytes([size[0], size[1]]));
    let rest = bytes.get(2..).ok_or(ResponseDefect::Truncated)?;
    if rest.len() < len {
        return Err(ResponseDefect::Truncated);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_response_is_returned_as_data() {
        let frame = [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x09, 0x9D];
        let error = parse_response(&frame, 0x15E, 0, 1);
        assert!(matches!(
            error,
            Err(TpmError::Tpm { command: 0x15E, rc }) if rc.name() == "TPM_RC_POLICY_FAIL"
        ));
    }

    #[test]
    fn session_response_splits() {
        // One handle, a 3-byte parameter area, one auth with 2-byte nonce and 1-byte HMAC.
        let frame = [
            0x80, 0x02, 0, 0, 0, 31, 0, 0, 0, 0, // header
            0x80, 0, 0, 1, // handle
            0, 0, 0, 3, 0xAA, 0xBB, 0xCC, // parameters
            0, 2, 0x11, 0x22, 0x01, 0, 1,
            0x33, // auth
                  // padding below is not part of this frame
        ];
        let frame = &frame[..29];
        let mut fixed = [0u8; 29];
        fixed.copy_from_slice(frame);
        fixed[5] = 29;
        let layout = parse_response(&fixed, 0x157, 1, 1).expect("valid frame");
        assert_eq!(layout.handles.of(&fixed), &[0x80, 0, 0, 1]);
        assert_eq!(layout.parameters.of(&fixed), &[0xAA, 0xBB, 0xCC]);
        assert_eq!(layout.auths[0].nonce.of(&fixed), &[0x11, 0x22]);
        assert_eq!(layout.auths[0].attributes, 1);
        assert_eq!(layout.auths[0].hmac.of(&fixed), &[0x33]);
        // Any truncation is an error, never a panic.
        for len in 0..fixed.len() {
            assert!(parse_response(&fixed[..len], 0x157, 1, 1).is_err());
        }
    }
}
