//! TPM response codes as data (TPM 2.0 Library Part 2, section 6.6 "TPM_RC").
//!
//! A response code is either format zero (bit 7 clear: a plain error or warning
//! number, with the version, vendor and severity bits) or format one (bit 7 set: a
//! six-bit error number plus the handle, session or parameter it refers to).

use core::fmt;

/// Bit 7: the code is format one.
const FORMAT_ONE: u32 = 0x080;
/// Format one: the `N` field refers to a parameter.
const PARAMETER_BIT: u32 = 0x040;
/// Format zero: a TPM 2.0 (not 1.2) code.
const VERSION_ONE: u32 = 0x100;
/// Format zero: a vendor-defined code.
const VENDOR_BIT: u32 = 0x400;
/// Format zero: a warning (severity bit together with the version bit).
const WARNING: u32 = 0x900;

/// A TPM response code (`TPM_RC`), decoded on demand. `Copy`, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TpmRc(u32);

/// How a response code is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RcFormat {
    /// Format zero: an error or warning number without a location.
    Zero,
    /// Format one: an error number with a handle, session or parameter index.
    One,
}

/// Which part of the command a format-one response code refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RcIndex {
    /// The n-th handle of the command (1-based).
    Handle(u8),
    /// The n-th session of the command (1-based).
    Session(u8),
    /// The n-th parameter of the command (1-based).
    Parameter(u8),
}

impl TpmRc {
    /// `TPM_RC_SUCCESS`.
    pub const SUCCESS: Self = Self(0);
    /// `TPM_RC_INITIALIZE`: the TPM was already started (returned by a second Startup).
    pub const INITIALIZE: Self = Self(VERSION_ONE);
    /// `TPM_RC_POLICY_FAIL` without an index.
    pub const POLICY_FAIL: Self = Self(FORMAT_ONE | 0x01D);
    /// `TPM_RC_HANDLE` without an index: the handle (an undefined NV index,
    /// say) is not known.
    pub const HANDLE: Self = Self(FORMAT_ONE | 0x00B);
    /// `TPM_RC_BAD_AUTH` without an index: an HMAC (over a cpHash with the
    /// handles' Names) does not verify.
    pub const BAD_AUTH: Self = Self(FORMAT_ONE | 0x022);
    /// `TPM_RC_AUTH_FAIL` without an index.
    pub const AUTH_FAIL: Self = Self(FORMAT_ONE | 0x00E);
    /// `TPM_RC_OBJECT_MEMORY`: no free transient object slot.
    pub const OBJECT_MEMORY: Self = Self(WARNING | 0x002);
    /// `TPM_RC_SESSION_MEMORY`: no free session slot.
    pub const SESSION_MEMORY: Self = Self(WARNING | 0x003);

    /// Wraps a raw response code.
    #[must_use]
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw 32-bit response code.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// `true` for `TPM_RC_SUCCESS`.
    #[must_use]
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// The layout of the code.
    #[must_use]
    pub const fn format(self) -> RcFormat {
        if self.0 & FORMAT_ONE != 0 {
            RcFormat::One
        } else {
            RcFormat::Zero
        }
    }

    /// The code with its location stripped: what `name` is looked up by.
    ///
    /// For format one this is `0x080 | E`; for format zero the version, vendor,
    /// severity and error-number bits are kept.
    #[must_use]
    pub const fn base(self) -> u32 {
        match self.format() {
            RcFormat::One => FORMAT_ONE | (self.0 & 0x03F),
            RcFormat::Zero => self.0 & 0xF7F,
        }
    }

    /// `true` for a format-zero warning (the command may succeed if retried).
    #[must_use]
    pub const fn is_warning(self) -> bool {
        matches!(self.format(), RcFormat::Zero) && self.0 & WARNING == WARNING
    }

    /// `true` for a vendor-defined format-zero code.
    #[must_use]
    pub const fn is_vendor(self) -> bool {
        matches!(self.format(), RcFormat::Zero) && self.0 & VENDOR_BIT != 0
    }

    /// The handle, session or parameter a format-one code refers to, if any.
    #[must_use]
    pub const fn index(self) -> Option<RcIndex> {
        if !matches!(self.format(), RcFormat::One) {
            return None;
        }
        let n = ((self.0 >> 8) & 0xF) as u8;
        if self.0 & PARAMETER_BIT != 0 {
            return Some(RcIndex::Parameter(n));
        }
        match n {
            0 => None,
            1..=7 => Some(RcIndex::Handle(n)),
            _ => Some(RcIndex::Session(n - 8)),
        }
    }

    /// `true` when both codes have the same base (the location is ignored).
    #[must_use]
    pub const fn is(self, other: Self) -> bool {
        self.base() == other.base()
    }

    /// The specification name of the code, such as `TPM_RC_POLICY_FAIL`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        if self.is_vendor() {
            return "TPM_RC_VENDOR_SPECIFIC";
        }
        match self.base() {
            0x000 => "TPM_RC_SUCCESS",
            0x01E => "TPM_RC_BAD_TAG",
            // Format one (0x080 | E).
            0x081 => "TPM_RC_ASYMMETRIC",
            0x082 => "TPM_RC_ATTRIBUTES",
            0x083 => "TPM_RC_HASH",
            0x084 => "TPM_RC_VALUE",
            0x085 => "TPM_RC_HIERARCHY",
            0x087 => "TPM_RC_KEY_SIZE",
            0x088 => "TPM_RC_MGF",
            0x089 => "TPM_RC_MODE",
            0x08A => "TPM_RC_TYPE",
            0x08B => "TPM_RC_HANDLE",
            0x08C => "TPM_RC_KDF",
            0x08D => "TPM_RC_RANGE",
            0x08E => "TPM_RC_AUTH_FAIL",
            0x08F => "TPM_RC_NONCE",
            0x090 => "TPM_RC_PP",
            0x092 => "TPM_RC_SCHEME",
            0x095 => "TPM_RC_SIZE",
            0x096 => "TPM_RC_SYMMETRIC",
            0x097 => "TPM_RC_TAG",
            0x098 => "TPM_RC_SELECTOR",
            0x09A => "TPM_RC_INSUFFICIENT",
            0x09B => "TPM_RC_SIGNATURE",
            0x09C => "TPM_RC_KEY",
            0x09D => "TPM_RC_POLICY_FAIL",
            0x09F => "TPM_RC_INTEGRITY",
            0x0A0 => "TPM_RC_TICKET",
            0x0A1 => "TPM_RC_RESERVED_BITS",
            0x0A2 => "TPM_RC_BAD_AUTH",
            0x0A3 => "TPM_RC_EXPIRED",
            0x0A4 => "TPM_RC_POLICY_CC",
            0x0A5 => "TPM_RC_BINDING",
            0x0A6 => "TPM_RC_CURVE",
            0x0A7 => "TPM_RC_ECC_POINT",
            // Format zero, TPM 2.0 errors (0x100 | E).
            0x100 => "TPM_RC_INITIALIZE",
            0x101 => "TPM_RC_FAILURE",
            0x103 => "TPM_RC_SEQUENCE",
            0x10B => "TPM_RC_PRIVATE",
            0x119 => "TPM_RC_HMAC",
            0x120 => "TPM_RC_DISABLED",
            0x121 => "TPM_RC_EXCLUSIVE",
            0x124 => "TPM_RC_AUTH_TYPE",
            0x125 => "TPM_RC_AUTH_MISSING",
            0x126 => "TPM_RC_POLICY",
            0x127 => "TPM_RC_PCR",
            0x128 => "TPM_RC_PCR_CHANGED",
            0x12D => "TPM_RC_UPGRADE",
            0x12E => "TPM_RC_TOO_MANY_CONTEXTS",
            0x12F => "TPM_RC_AUTH_UNAVAILABLE",
            0x130 => "TPM_RC_REBOOT",
            0x131 => "TPM_RC_UNBALANCED",
            0x142 => "TPM_RC_COMMAND_SIZE",
            0x143 => "TPM_RC_COMMAND_CODE",
            0x144 => "TPM_RC_AUTHSIZE",
            0x145 => "TPM_RC_AUTH_CONTEXT",
            0x146 => "TPM_RC_NV_RANGE",
            0x147 => "TPM_RC_NV_SIZE",
            0x148 => "TPM_RC_NV_LOCKED",
            0x149 => "TPM_RC_NV_AUTHORIZATION",
            0x14A => "TPM_RC_NV_UNINITIALIZED",
            0x14B => "TPM_RC_NV_SPACE",
            0x14C => "TPM_RC_NV_DEFINED",
            0x150 => "TPM_RC_BAD_CONTEXT",
            0x151 => "TPM_RC_CPHASH",
            0x152 => "TPM_RC_PARENT",
            0x153 => "TPM_RC_NEEDS_TEST",
            0x154 => "TPM_RC_NO_RESULT",
            0x155 => "TPM_RC_SENSITIVE",
            // Format zero warnings (0x900 | E).
            0x901 => "TPM_RC_CONTEXT_GAP",
            0x902 => "TPM_RC_OBJECT_MEMORY",
            0x903 => "TPM_RC_SESSION_MEMORY",
            0x904 => "TPM_RC_MEMORY",
            0x905 => "TPM_RC_SESSION_HANDLES",
            0x906 => "TPM_RC_OBJECT_HANDLES",
            0x907 => "TPM_RC_LOCALITY",
            0x908 => "TPM_RC_YIELDED",
            0x909 => "TPM_RC_CANCELED",
            0x90A => "TPM_RC_TESTING",
            0x910 => "TPM_RC_REFERENCE_H0",
            0x911 => "TPM_RC_REFERENCE_H1",
            0x912 => "TPM_RC_REFERENCE_H2",
            0x913 => "TPM_RC_REFERENCE_H3",
            0x914 => "TPM_RC_REFERENCE_H4",
            0x915 => "TPM_RC_REFERENCE_H5",
            0x916 => "TPM_RC_REFERENCE_H6",
            0x918 => "TPM_RC_REFERENCE_S0",
            0x919 => "TPM_RC_REFERENCE_S1",
            0x91A => "TPM_RC_REFERENCE_S2",
            0x91B => "TPM_RC_REFERENCE_S3",
            0x91C => "TPM_RC_REFERENCE_S4",
            0x91D => "TPM_RC_REFERENCE_S5",
            0x91E => "TPM_RC_REFERENCE_S6",
            0x920 => "TPM_RC_NV_RATE",
            0x921 => "TPM_RC_LOCKOUT",
            0x922 => "TPM_RC_RETRY",
            0x923 => "TPM_RC_NV_UNAVAILABLE",
            0x97F => "TPM_RC_NOT_USED",
            _ => "TPM_RC_UNKNOWN",
        }
    }
}

impl fmt::Debug for TpmRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TpmRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:03x}", self.name(), self.0)?;
        match self.index() {
            Some(RcIndex::Handle(n)) => write!(f, ", handle {n})"),
            Some(RcIndex::Session(n)) => write!(f, ", session {n})"),
            Some(RcIndex::Parameter(n)) => write!(f, ", parameter {n})"),
            None => f.write_str(")"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_fail_on_session_one() {
        // 0x99D: format one, error 0x1D, N = 9 (session 1), P clear.
        let rc = TpmRc::from_raw(0x99D);
        assert_eq!(rc.format(), RcFormat::One);
        assert_eq!(rc.name(), "TPM_RC_POLICY_FAIL");
        assert_eq!(rc.index(), Some(RcIndex::Session(1)));
        assert!(rc.is(TpmRc::POLICY_FAIL));
        assert!(!rc.is_warning());
    }

    #[test]
    fn parameter_and_handle_indices() {
        // TPM_RC_VALUE on parameter 1: 0x0C4 | 1 << 8 = 0x1C4.
        let rc = TpmRc::from_raw(0x1C4);
        assert_eq!(rc.name(), "TPM_RC_VALUE");
        assert_eq!(rc.index(), Some(RcIndex::Parameter(1)));
        // TPM_RC_HANDLE on handle 1: 0x08B | 1 << 8 = 0x18B.
        let rc = TpmRc::from_raw(0x18B);
        assert_eq!(rc.name(), "TPM_RC_HANDLE");
        assert_eq!(rc.index(), Some(RcIndex::Handle(1)));
    }

    #[test]
    fn format_zero_codes() {
        assert_eq!(TpmRc::INITIALIZE.name(), "TPM_RC_INITIALIZE");
        assert_eq!(TpmRc::OBJECT_MEMORY.name(), "TPM_RC_OBJECT_MEMORY");
        assert!(TpmRc::OBJECT_MEMORY.is_warning());
        assert_eq!(TpmRc::SESSION_MEMORY.name(), "TPM_RC_SESSION_MEMORY");
        assert_eq!(TpmRc::from_raw(0x0000_0119).name(), "TPM_RC_HMAC");
        assert_eq!(
            TpmRc::from_raw(0x0000_0D00).name(),
            "TPM_RC_VENDOR_SPECIFIC"
        );
        assert_eq!(TpmRc::from_raw(0x0000_017F).name(), "TPM_RC_UNKNOWN");
        assert_eq!(TpmRc::INITIALIZE.index(), None);
    }

    #[test]
    fn every_raw_value_decodes_without_panicking() {
        for raw in 0..=0xFFFu32 {
            let rc = TpmRc::from_raw(raw);
            let _ = (rc.name(), rc.index(), rc.base(), rc.is_warning());
        }
    }
}
