//! Memory for secrets that stays out of swap and core dumps (Linux).
//!
//! [`LockedBox`] holds one value on its own anonymous mapping, which is
//! `mlock`ed (never written to swap) and marked `MADV_DONTDUMP` (left out of
//! core dumps); the value is dropped in place, the mapping is wiped and
//! unmapped when the box is dropped. [`make_process_non_dumpable`] sets
//! `PR_SET_DUMPABLE 0`: no core dump, no `ptrace` attach by other processes
//! of the same user, `/proc/PID/mem` readable by root only.
//!
//! This crate exists to hold the `unsafe` code the wallet core forbids
//! itself (`#![forbid(unsafe_code)]`): the system calls take raw pointers,
//! so rustix declares them `unsafe`. Every unsafe block states why it is sound.

use core::ffi::c_void;
use core::fmt;
use core::mem::{align_of, size_of};
use core::ops::Deref;
use core::ptr::NonNull;
use std::io;

use rustix::mm::{self, Advice, MapFlags, ProtFlags};
use rustix::process::{self, DumpableBehavior};

/// What was applied to a [`LockedBox`]'s mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// `mlock` succeeded: the page is never swapped out. It fails when
    /// `RLIMIT_MEMLOCK` is exhausted; the box still works then, unlocked.
    pub locked: bool,
    /// `MADV_DONTDUMP` succeeded: the page is left out of core dumps.
    pub dont_dump: bool,
}

/// One value of type `T` on its own locked, never-dumped mapping.
pub struct LockedBox<T> {
    ptr: NonNull<T>,
    len: usize,
    protection: Protection,
}

// SAFETY: the box owns its mapping exclusively, like a `Box<T>`; sending or
// sharing it is as safe as sending or sharing a `T`.
unsafe impl<T: Send> Send for LockedBox<T> {}
// SAFETY: as above; `&LockedBox<T>` hands out only `&T`.
unsafe impl<T: Sync> Sync for LockedBox<T> {}

impl<T> LockedBox<T> {
    /// Moves `value` onto a new mapping, locks it and marks it
    /// `MADV_DONTDUMP`.
    ///
    /// # Errors
    /// The mapping could not be created (out of memory), or `T` needs more
    /// than page alignment. A failed `mlock` or `madvise` is not an error:
    /// see [`protection`](Self::protection).
    pub fn new(value: T) -> io::Result<Self> {
        let page = rustix::param::page_size();
        if align_of::<T>() > page {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        // At least one page, rounded up to whole pages.
        let len = size_of::<T>().max(1).div_ceil(page) * page;
        // SAFETY: a new private anonymous mapping: no existing memory is
        // touched, and the kernel picks the address.
        let raw = unsafe {
            mm::mmap_anonymous(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )
        }?;
        // SAFETY: `raw` is the start of the `len` bytes just mapped, owned here.
        let locked = unsafe { mm::mlock(raw, len) }.is_ok();
        // SAFETY: as above; the advice changes only what a dump contains.
        let dont_dump = unsafe { mm::madvise(raw, len, Advice::LinuxDontDump) }.is_ok();
        let Some(ptr) = NonNull::new(raw.cast::<T>()) else {
            // SAFETY: unmapping what was just mapped and never shared.
            let _ = unsafe { mm::munmap(raw, len) };
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        };
        // SAFETY: the mapping is page-aligned (alignment checked above), at
        // least `size_of::<T>()` bytes, writable, and holds no value yet.
        unsafe { ptr.as_ptr().write(value) };
        Ok(Self {
            ptr,
            len,
            protection: Protection { locked, dont_dump },
        })
    }

    /// What the mapping got: locked, left out of dumps.
    #[must_use]
    pub fn protection(&self) -> Protection {
        self.protection
    }
}

impl<T> Deref for LockedBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `ptr` holds a value written in `new`, alive until `drop`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for LockedBox<T> {
    fn drop(&mut self) {
        let raw = self.ptr.as_ptr().cast::<c_void>();
        // SAFETY: the value written in `new` is dropped exactly once, here
        // (a secret's own `Drop` wipes it).
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        // SAFETY: the mapping is `len` writable bytes owned by this box; no
        // reference into it outlives `&mut self`.
        let bytes = unsafe { core::slice::from_raw_parts_mut(raw.cast::<u8>(), self.len) };
        zeroize::Zeroize::zeroize(bytes);
        // SAFETY: unlocking and unmapping this box's own mapping, which
        // nothing uses any more.
        unsafe {
            let _ = mm::munlock(raw, self.len);
            let _ = mm::munmap(raw, self.len);
        }
    }
}

impl<T> fmt::Debug for LockedBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockedBox")
            .field("value", &"<redacted>")
            .field("protection", &self.protection)
            .finish()
    }
}

/// Makes the calling process non-dumpable (`PR_SET_DUMPABLE 0`): no core
/// file is written, other processes of the same user cannot `ptrace` it,
/// and its `/proc/PID/mem` and `/proc/PID/environ` are readable by root
/// only. It lasts until `execve` of a set-id program or a change of
/// credentials resets it, so call it once a secret is held (again).
///
/// # Errors
/// The `prctl` failed (not expected on Linux).
pub fn make_process_non_dumpable() -> io::Result<()> {
    Ok(process::set_dumpable_behavior(
        DumpableBehavior::NotDumpable,
    )?)
}

/// Whether the calling process is dumpable (`PR_GET_DUMPABLE`).
///
/// # Errors
/// The `prctl` failed (not expected on Linux).
pub fn process_is_dumpable() -> io::Result<bool> {
    Ok(process::dumpable_behavior()? != DumpableBehavior::NotDumpable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_holds_its_value_on_a_locked_never_dumped_page() {
        let boxed = LockedBox::new([7u8; 32]).expect("mapped");
        assert_eq!(*boxed, [7u8; 32]);
        assert!(boxed.protection().dont_dump);
        let debug = format!("{boxed:?}");
        assert!(!debug.contains('7'), "{debug}");
    }

    #[test]
    fn a_dropped_value_runs_its_own_drop() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Counted;
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
        drop(LockedBox::new(Counted).expect("mapped"));
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    }
}
