//! Size-tolerant copy-in and copy-out of versioned user structs, with Linux's rules.
//!
//! Reference: `bpf_check_uarg_tail_zero` and `__sys_bpf` (kernel/bpf/syscall.c),
//! `copy_struct_from_user` and `check_zeroed_user` (include/linux/uaccess.h, lib/usercopy.c),
//! `CHECK_ATTR` (kernel/bpf/syscall.c), `bpf_*_get_info_by_fd` (copy-out of
//! `min(info_len, sizeof)`), Linux 6.1.
//!
//! User memory is reached only through a [`UserSource`]: the caller (the kernel's syscall
//! layer) implements it over its fault-safe copy routine, and this module asks for exactly the
//! bytes it needs — the part of the struct it knows, and the tail beyond it in small chunks
//! to check that it is zero — so no buffer of the user's size is ever allocated.

use crate::abi::Pod;
use crate::{err, Errno, Result};

/// Bytes of an oversized tail read at a time while checking that it is zero.
pub const TAIL_CHUNK: usize = 64;

/// Read access to one user object (e.g. the `uattr` of `bpf(2)`), addressed by offsets from
/// its start. Implementations return `EFAULT` for bytes that cannot be read.
pub trait UserSource {
    /// Fills `dst` with the `dst.len()` bytes at `offset` from the start of the object.
    fn read(&mut self, offset: usize, dst: &mut [u8]) -> Result<()>;
}

/// Reads through a closure `(offset, dst) -> Result<()>`.
impl<F: FnMut(usize, &mut [u8]) -> Result<()>> UserSource for F {
    fn read(&mut self, offset: usize, dst: &mut [u8]) -> Result<()> {
        self(offset, dst)
    }
}

/// Bytes already in kernel memory (Linux's `bpfptr_t` with `is_kernel`, or tests); reads
/// beyond the slice are `EFAULT`.
impl UserSource for &[u8] {
    fn read(&mut self, offset: usize, dst: &mut [u8]) -> Result<()> {
        let end = match offset.checked_add(dst.len()) {
            Some(end) if end <= self.len() => end,
            _ => return err(Errno::EFAULT, "read beyond the user buffer"),
        };
        dst.copy_from_slice(&self[offset..end]);
        Ok(())
    }
}

/// Linux `check_zeroed_user`: whether the `len` bytes at `offset` are all zero, read in
/// chunks of [`TAIL_CHUNK`] bytes (a fault is `EFAULT`).
pub fn check_zeroed<S: UserSource + ?Sized>(src: &mut S, offset: usize, len: usize) -> Result<bool> {
    let mut buf = [0u8; TAIL_CHUNK];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(TAIL_CHUNK);
        let at = match offset.checked_add(done) {
            Some(at) => at,
            None => return err(Errno::EFAULT, "user range wraps around"),
        };
        src.read(at, &mut buf[..n])?;
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        done += n;
    }
    Ok(true)
}

/// Linux `copy_struct_from_user(dst, sizeof(T), src, user_size)`: a user struct of
/// `user_size` bytes into a kernel `T`. A shorter user struct is zero-extended; a longer one
/// must be zero past `size_of::<T>()` (else `E2BIG` — the user asks for a feature this kernel
/// does not know); the tail is checked before anything is copied. Faults are `EFAULT`.
pub fn copy_struct_from_user<T: Pod, S: UserSource + ?Sized>(src: &mut S, user_size: usize) -> Result<T> {
    let ksize = core::mem::size_of::<T>();
    if user_size > ksize && !check_zeroed(src, ksize, user_size - ksize)? {
        return err(Errno::E2BIG, "non-zero bytes past the end of the kernel's struct");
    }
    let mut value = T::ZERO;
    let n = user_size.min(ksize);
    src.read(0, &mut value.as_bytes_mut()[..n])?;
    Ok(value)
}

/// Linux `bpf_check_uarg_tail_zero(uaddr, expected_size, actual_size)`: `actual_size` above
/// `page_size` is `E2BIG` ("silly large"); bytes past `expected_size` must be zero (else
/// `E2BIG`); faults are `EFAULT`.
pub fn check_uarg_tail_zero<S: UserSource + ?Sized>(
    src: &mut S,
    expected_size: usize,
    actual_size: usize,
    page_size: usize,
) -> Result<()> {
    if actual_size > page_size {
        return err(Errno::E2BIG, "user struct larger than a page");
    }
    if actual_size <= expected_size {
        return Ok(());
    }
    if check_zeroed(src, expected_size, actual_size - expected_size)? {
        Ok(())
    } else {
        err(Errno::E2BIG, "non-zero bytes past the end of the kernel's struct")
    }
}

/// The copy-in of `bpf(2)` attributes and of `BPF_OBJ_GET_INFO_BY_FD` info structs:
/// [`check_uarg_tail_zero`] against `size_of::<T>()`, then `min(size, size_of::<T>())` bytes
/// copied and the rest zero.
pub fn copy_in<T: Pod, S: UserSource + ?Sized>(src: &mut S, size: usize, page_size: usize) -> Result<T> {
    let ksize = core::mem::size_of::<T>();
    check_uarg_tail_zero(src, ksize, size, page_size)?;
    let mut value = T::ZERO;
    src.read(0, &mut value.as_bytes_mut()[..size.min(ksize)])?;
    Ok(value)
}

/// [`copy_in`] from bytes the caller already holds (`user` is everything the user passed;
/// its length is the user's size).
pub fn copy_in_slice<T: Pod>(user: &[u8], page_size: usize) -> Result<T> {
    let mut src = user;
    copy_in(&mut src, user.len(), page_size)
}

/// Linux `CHECK_ATTR`: every byte of `attr` from `last_field_end` on must be zero, else
/// `EINVAL` (the command does not use them). `attr` is the whole kernel copy of the union.
pub fn check_unused_tail(attr: &[u8], last_field_end: usize) -> Result<()> {
    match attr.get(last_field_end..) {
        Some(tail) if tail.iter().all(|&b| b == 0) => Ok(()),
        Some(_) => err(Errno::EINVAL, "non-zero bytes past the command's last field"),
        None => Ok(()),
    }
}

/// The bytes of `value` to copy back to a user buffer of `user_size` bytes: never more than
/// the user's size, never more than the struct (`min(user_size, sizeof)`, as
/// `bpf_*_get_info_by_fd` writes and reports in `info_len`).
pub fn copy_out<T: Pod>(value: &T, user_size: usize) -> &[u8] {
    let bytes = value.as_bytes();
    &bytes[..user_size.min(bytes.len())]
}

#[cfg(test)]
mod tests;
