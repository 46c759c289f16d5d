//! What every entry point does before it touches its arguments: catch
//! panics, and turn raw pointers from C into checked Rust values.
//!
//! The rules these helpers enforce, so that each function does not have to
//! restate them:
//! - a NULL pointer is `WALLET_NULL_PARAMETER`, except an input `(NULL, 0)`,
//!   which is the empty byte string, and an output `(NULL, 0, &len)`, which
//!   asks for the length only;
//! - a length above `isize::MAX` is `WALLET_INVALID_PARAMETER` (no Rust slice
//!   can be that long);
//! - an output that overlaps an input is `WALLET_INVALID_PARAMETER` (Rust may
//!   not hold a shared and a mutable view of the same bytes);
//! - outputs are written with raw pointer writes (the caller's memory may be
//!   uninitialised) and only once the whole result is known.

use core::ffi::CStr;
use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::result::wallet_result::{self, *};

/// What an entry point's body returns: `Ok` becomes `WALLET_OK`.
pub(crate) type Outcome = Result<(), wallet_result>;

/// Runs `body` and turns its outcome into a code; a panic becomes
/// `WALLET_PANIC` instead of unwinding into C (which would abort).
pub(crate) fn guard(body: impl FnOnce() -> Outcome) -> wallet_result {
    // AssertUnwindSafe: a body writes its outputs only as its last step and
    // only reads the handles it is given, so after a panic there is no
    // half-updated state anywhere for the caller to observe.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => WALLET_OK,
        Ok(Err(code)) => code,
        Err(_) => WALLET_PANIC,
    }
}

/// Runs `body`, returning `on_panic` if it panics: for the few functions
/// that do not return a `wallet_result` (`_free`, `wallet_result_message`).
pub(crate) fn catch_or<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    // AssertUnwindSafe: as in `guard`.
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

fn check_len(len: usize) -> Result<(), wallet_result> {
    if isize::try_from(len).is_err() {
        Err(WALLET_INVALID_PARAMETER)
    } else {
        Ok(())
    }
}

/// The `len` bytes at `ptr`; `(NULL, 0)` is the empty string.
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads of `len` bytes, and those bytes
/// must not be written by anyone for the duration of `'a`.
pub(crate) unsafe fn bytes_in<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], wallet_result> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(WALLET_NULL_PARAMETER)
        };
    }
    check_len(len)?;
    // SAFETY: `ptr` is non-NULL, the caller guarantees it is readable for
    // `len` bytes and unchanged during 'a, `u8` has no alignment or validity
    // requirement, and `len` fits in an `isize`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Exactly `N` bytes at `ptr`; any other `len` is `wrong_len`.
///
/// # Safety
/// As [`bytes_in`].
pub(crate) unsafe fn array_in<'a, const N: usize>(
    ptr: *const u8,
    len: usize,
    wrong_len: wallet_result,
) -> Result<&'a [u8; N], wallet_result> {
    if ptr.is_null() {
        return Err(WALLET_NULL_PARAMETER);
    }
    // SAFETY: forwarded to the caller's contract.
    let bytes = unsafe { bytes_in(ptr, len) }?;
    bytes.try_into().map_err(|_| wrong_len)
}

/// A NUL-terminated string argument; NULL is `None`.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string that stays
/// unchanged for the duration of `'a`.
pub(crate) unsafe fn c_str_in<'a>(ptr: *const core::ffi::c_char) -> Option<&'a CStr> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: non-NULL, NUL-terminated and unchanged during 'a (the
        // caller's contract).
        Some(unsafe { CStr::from_ptr(ptr) })
    }
}

/// The object behind a handle.
///
/// # Safety
/// A non-NULL `ptr` must come from this library's constructor for `T` and not
/// have been freed.
pub(crate) unsafe fn handle_ref<'a, T>(ptr: *const T) -> Result<&'a T, wallet_result> {
    // SAFETY: non-NULL handles point to a live `Box<T>` (caller's contract);
    // `as_ref` maps NULL to `None`.
    unsafe { ptr.as_ref() }.ok_or(WALLET_NULL_PARAMETER)
}

/// Releases a handle made by [`HandleOut::set`]; NULL does nothing.
///
/// # Safety
/// A non-NULL `ptr` must come from [`HandleOut::set`] for the same `T` and
/// not have been freed; it must not be used afterwards.
pub(crate) unsafe fn handle_free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: `ptr` came from `Box::into_raw` in `HandleOut::set` and is
        // released exactly once (caller's contract).
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Where a constructor stores a new handle.
pub(crate) struct HandleOut<T>(NonNull<*mut T>);

impl<T> HandleOut<T> {
    /// Checks the out-pointer before any work is done.
    ///
    /// # Safety
    /// A non-NULL `ptr` must be valid for a write of one pointer.
    pub(crate) unsafe fn new(ptr: *mut *mut T) -> Result<Self, wallet_result> {
        NonNull::new(ptr).map(Self).ok_or(WALLET_NULL_PARAMETER)
    }

    /// Moves `value` to the heap and hands the pointer to the caller, who
    /// owns it from now on.
    pub(crate) fn set(self, value: T) {
        let raw = Box::into_raw(Box::new(value));
        // SAFETY: checked non-NULL in `new`; valid for writes by the
        // caller's contract on `new`; a raw write needs no initialised target.
        unsafe { self.0.as_ptr().write(raw) };
    }
}

/// A `#[repr(C)]` value the caller receives through a pointer.
pub(crate) struct ValueOut<T>(NonNull<T>);

impl<T> ValueOut<T> {
    /// # Safety
    /// A non-NULL `ptr` must be valid for a write of one `T`.
    pub(crate) unsafe fn new(ptr: *mut T) -> Result<Self, wallet_result> {
        NonNull::new(ptr).map(Self).ok_or(WALLET_NULL_PARAMETER)
    }

    /// Refuses an output that overlaps `input`.
    pub(crate) fn disjoint_from(&self, input: &[u8]) -> Outcome {
        disjoint(self.0.as_ptr().cast_const().cast(), size_of::<T>(), input)
    }

    pub(crate) fn set(self, value: T) {
        // SAFETY: checked non-NULL in `new`; valid for writes by the
        // caller's contract; a raw write needs no initialised target.
        unsafe { self.0.as_ptr().write(value) };
    }
}

fn disjoint(out: *const u8, out_size: usize, input: &[u8]) -> Outcome {
    let out_start = out as usize;
    let in_start = input.as_ptr() as usize;
    let out_end = out_start.saturating_add(out_size);
    let in_end = in_start.saturating_add(input.len());
    if input.is_empty() || out_size == 0 || out_end <= in_start || in_end <= out_start {
        Ok(())
    } else {
        Err(WALLET_INVALID_PARAMETER)
    }
}

/// The `(out, out_cap, out_len)` triple.
pub(crate) struct BytesOut<T = u8> {
    buf: *mut T,
    cap: usize,
    len: NonNull<usize>,
}

impl<T: Copy> BytesOut<T> {
    /// Checks the triple before any work is done. `out` may be NULL only
    /// when `out_cap` is 0 (a length query).
    ///
    /// # Safety
    /// A non-NULL `out` must be valid for writes of `out_cap` elements and a
    /// non-NULL `out_len` for a write of one `size_t`.
    pub(crate) unsafe fn new(
        out: *mut T,
        out_cap: usize,
        out_len: *mut usize,
    ) -> Result<Self, wallet_result> {
        let len = NonNull::new(out_len).ok_or(WALLET_NULL_PARAMETER)?;
        if out.is_null() && out_cap != 0 {
            return Err(WALLET_NULL_PARAMETER);
        }
        check_len(out_cap.saturating_mul(size_of::<T>()))?;
        Ok(Self {
            buf: out,
            cap: out_cap,
            len,
        })
    }

    /// Refuses an output buffer that overlaps `input`.
    pub(crate) fn disjoint_from(&self, input: &[u8]) -> Outcome {
        disjoint(
            self.buf.cast_const().cast(),
            self.cap.saturating_mul(size_of::<T>()),
            input,
        )?;
        disjoint(
            self.len.as_ptr().cast_const().cast(),
            size_of::<usize>(),
            input,
        )
    }

    /// Fails as [`write`](Self::write) would for `needed` bytes, before any
    /// work is done: for calls with an effect (creating an account) or a
    /// cost (a TPM round trip) whose output has a known size.
    pub(crate) fn require(&self, needed: usize) -> Outcome {
        if needed > self.cap {
            // SAFETY: `len` is non-NULL and writable (contract of `new`).
            unsafe { self.len.as_ptr().write(needed) };
            return Err(WALLET_BUFFER_TOO_SMALL);
        }
        Ok(())
    }

    /// Copies `data` out and stores its length, or stores the length needed
    /// and returns `WALLET_BUFFER_TOO_SMALL`, leaving the buffer untouched.
    pub(crate) fn write(self, data: &[T]) -> Outcome {
        if data.len() > self.cap {
            // SAFETY: `len` is non-NULL and writable (contract of `new`).
            unsafe { self.len.as_ptr().write(data.len()) };
            return Err(WALLET_BUFFER_TOO_SMALL);
        }
        if !data.is_empty() {
            // SAFETY: `data.len() <= cap`, so `buf` is non-NULL (cap > 0) and
            // writable for `data.len()` elements (contract of `new`); `data`
            // is Rust-owned or a checked-disjoint input, so they don't overlap.
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.buf, data.len()) };
        }
        // SAFETY: as above.
        unsafe { self.len.as_ptr().write(data.len()) };
        Ok(())
    }
}

impl BytesOut<core::ffi::c_char> {
    /// Copies `text` and a terminating NUL; `*out_len` receives the length
    /// without the NUL. If the buffer is short, `*out_len` receives the
    /// capacity needed, NUL included.
    pub(crate) fn write_c_string(self, text: &str) -> Outcome {
        let needed = text.len().saturating_add(1);
        if needed > self.cap {
            // SAFETY: `len` is non-NULL and writable (contract of `new`).
            unsafe { self.len.as_ptr().write(needed) };
            return Err(WALLET_BUFFER_TOO_SMALL);
        }
        for (i, byte) in text.bytes().chain([0]).enumerate() {
            // SAFETY: `i < needed <= cap`, so `buf` is non-NULL and `buf + i`
            // is writable (contract of `new`). The cast reinterprets a byte
            // as a C `char`, which is what a C string is made of.
            unsafe { self.buf.add(i).write(byte as core::ffi::c_char) };
        }
        // SAFETY: as above.
        unsafe { self.len.as_ptr().write(text.len()) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_a_panic_into_a_code() {
        let code = guard(|| panic!("deliberate panic inside the boundary"));
        assert_eq!(code, WALLET_PANIC);
        assert_eq!(guard(|| Ok(())), WALLET_OK);
        assert_eq!(guard(|| Err(WALLET_RANDOM_FAILED)), WALLET_RANDOM_FAILED);
        assert_eq!(catch_or(7, || panic!("deliberate")), 7);
    }

    #[test]
    fn null_and_empty_inputs() {
        // SAFETY: NULL pointers only; nothing is dereferenced.
        unsafe {
            assert_eq!(bytes_in(core::ptr::null(), 0), Ok(&[][..]));
            assert_eq!(bytes_in(core::ptr::null(), 1), Err(WALLET_NULL_PARAMETER));
            assert_eq!(
                array_in::<32>(core::ptr::null(), 32, WALLET_INVALID_PARAMETER),
                Err(WALLET_NULL_PARAMETER)
            );
        }
        let data = [1u8; 4];
        // SAFETY: `data` is live and readable for 4 bytes; the oversized
        // length is rejected before any slice is built.
        unsafe {
            assert_eq!(
                bytes_in(data.as_ptr(), usize::MAX),
                Err(WALLET_INVALID_PARAMETER)
            );
            assert_eq!(
                array_in::<3>(data.as_ptr(), 4, WALLET_INVALID_PARAMETER),
                Err(WALLET_INVALID_PARAMETER)
            );
        }
    }

    #[test]
    fn overlap_is_refused() {
        let mut buf = [0u8; 16];
        let mut len = 0usize;
        let base = buf.as_mut_ptr();
        // SAFETY: `buf` and `len` are live for the whole test; the input
        // slice is only compared by address, never read through a mutable
        // alias.
        unsafe {
            let out = BytesOut::new(base.add(8), 8, &mut len).unwrap();
            let input = core::slice::from_raw_parts(base.cast_const(), 9);
            assert_eq!(out.disjoint_from(input), Err(WALLET_INVALID_PARAMETER));
            let input = core::slice::from_raw_parts(base.cast_const(), 8);
            assert_eq!(out.disjoint_from(input), Ok(()));
        }
    }

    #[test]
    fn short_buffer_reports_the_length_and_writes_nothing() {
        let mut buf = [0xaau8; 2];
        let mut len = 0usize;
        // SAFETY: `buf` and `len` are live and writable.
        let out = unsafe { BytesOut::new(buf.as_mut_ptr(), 2, &mut len) }.unwrap();
        assert_eq!(out.write(&[1, 2, 3]), Err(WALLET_BUFFER_TOO_SMALL));
        assert_eq!(len, 3);
        assert_eq!(buf, [0xaa, 0xaa]);
        // A length query: NULL buffer, capacity 0.
        let mut len = 0usize;
        // SAFETY: `len` is live and writable; the NULL buffer has capacity 0.
        let out = unsafe { BytesOut::<u8>::new(core::ptr::null_mut(), 0, &mut len) }.unwrap();
        assert_eq!(out.write(&[1; 5]), Err(WALLET_BUFFER_TOO_SMALL));
        assert_eq!(len, 5);
        // SAFETY: as above.
        let refused = unsafe { BytesOut::<u8>::new(core::ptr::null_mut(), 1, &mut len) };
        assert!(matches!(refused, Err(WALLET_NULL_PARAMETER)));
    }
}
