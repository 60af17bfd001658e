//! Memory-reading helpers: `bpf_probe_read` (4), `bpf_probe_read_str` (45),
//! `bpf_probe_read_user` (112), `bpf_probe_read_kernel` (113), `bpf_probe_read_user_str`
//! (114), `bpf_probe_read_kernel_str` (115), and `bpf_get_current_comm` (16).
//! Semantics: Linux 6.1 `kernel/trace/bpf_trace.c` (`bpf_probe_read_*_common`,
//! `bpf_probe_read_compat*`), `mm/maccess.c` (`strncpy_from_kernel_nofault`: the result
//! counts the NUL; a full buffer ends with a NUL and returns its size).

use alloc::vec::Vec;

use syscall_abi::Errno;

use super::env::ProgEnv;
use super::neg;
use crate::vm::ActiveRun;

/// Which address space a probe read uses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Space {
    /// `copy_from_user` (the current task's memory).
    User,
    /// `copy_from_kernel_nofault`.
    Kernel,
    /// Legacy helpers: user memory, then kernel memory (see the module documentation).
    Either,
}

/// A zeroed buffer of `len` bytes, or `None` if memory is short.
fn zeroed(len: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    Some(v)
}

/// Reads `buf.len()` bytes at `src` of `space`.
fn copy(env: &ProgEnv<'_>, space: Space, buf: &mut [u8], src: u64) -> bool {
    if buf.is_empty() {
        return true;
    }
    match space {
        Space::User => env.host.copy_from_user(buf, src).is_ok(),
        Space::Kernel => env.host.copy_from_kernel_nofault(buf, src).is_ok(),
        Space::Either => {
            env.host.copy_from_user(buf, src).is_ok() || env.host.copy_from_kernel_nofault(buf, src).is_ok()
        }
    }
}

/// `long bpf_probe_read*(void *dst, u32 size, const void *unsafe_ptr)`: on a fault the
/// destination is zeroed and the result is `-EFAULT`. An invalid destination → `-EFAULT`.
pub(super) fn read(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5], space: Space) -> u64 {
    let Ok(size) = usize::try_from(a[1] & 0xffff_ffff) else { return neg(Errno::EINVAL) };
    let Some(mut buf) = zeroed(size) else { return neg(Errno::ENOMEM) };
    // The destination must be writable program memory before anything is read.
    if !env.can_write(run, a[0], size) {
        return neg(Errno::EFAULT);
    }
    if !copy(env, space, &mut buf, a[2]) {
        buf.fill(0);
        env.write_mem(run, a[0], &buf);
        return neg(Errno::EFAULT);
    }
    env.write_mem(run, a[0], &buf);
    0
}

/// Copies a string of at most `buf.len()` bytes (with its NUL) from `src`; returns its
/// length with the NUL, or `None` on a fault. A string that does not fit is cut and
/// NUL-terminated at the last byte.
fn copy_str(env: &ProgEnv<'_>, space: Space, buf: &mut [u8], src: u64) -> Option<usize> {
    let size = buf.len();
    if space != Space::Kernel {
        if let Ok(n) = env.host.strncpy_from_user(buf, src) {
            return Some(finish(buf, n, size));
        }
        if space == Space::User {
            return None;
        }
    }
    for (i, slot) in buf.iter_mut().enumerate() {
        let addr = src.checked_add(u64::try_from(i).ok()?)?;
        let mut b = [0u8];
        env.host.copy_from_kernel_nofault(&mut b, addr).ok()?;
        *slot = b[0];
        if b[0] == 0 {
            return Some(i + 1);
        }
    }
    Some(finish(buf, size, size))
}

/// The length with NUL of a string of `n` bytes copied into `buf` (`n == size`: no NUL
/// seen, so the last byte becomes one).
fn finish(buf: &mut [u8], n: usize, size: usize) -> usize {
    if n < size {
        n + 1
    } else {
        if let Some(last) = buf.last_mut() {
            *last = 0;
        }
        size
    }
}

/// `long bpf_probe_read*_str(void *dst, u32 size, const void *unsafe_ptr)`: the length
/// including the NUL; on a fault the destination is zeroed and the result is `-EFAULT`.
/// `size == 0` → 0.
pub(super) fn read_str(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5], space: Space) -> u64 {
    let Ok(size) = usize::try_from(a[1] & 0xffff_ffff) else { return neg(Errno::EINVAL) };
    if size == 0 {
        return 0;
    }
    let Some(mut buf) = zeroed(size) else { return neg(Errno::ENOMEM) };
    if !env.can_write(run, a[0], size) {
        return neg(Errno::EFAULT);
    }
    match copy_str(env, space, &mut buf, a[2]) {
        Some(n) => {
            // Linux leaves the bytes after the NUL untouched.
            env.write_mem(run, a[0], &buf[..n]);
            n as u64
        }
        None => {
            buf.fill(0);
            env.write_mem(run, a[0], &buf);
            neg(Errno::EFAULT)
        }
    }
}

/// `long bpf_get_current_comm(void *buf, u32 size_of_buf)`: the task name, cut to
/// `size - 1` bytes and NUL-terminated, the rest of `buf` zeroed (Linux's `strscpy_pad`
/// since 6.4; 6.1's `strscpy` leaves the tail unspecified); 0. `size == 0` → `-EINVAL`
/// (Linux's verifier rejects it); an invalid `buf` → `-EFAULT`.
pub(super) fn current_comm(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let Ok(size) = usize::try_from(a[1] & 0xffff_ffff) else { return neg(Errno::EINVAL) };
    if size == 0 {
        return neg(Errno::EINVAL);
    }
    let Some(mut buf) = zeroed(size) else { return neg(Errno::ENOMEM) };
    let comm = env.host.current_comm();
    let len = comm.iter().position(|&c| c == 0).unwrap_or(comm.len()).min(size - 1);
    buf[..len].copy_from_slice(&comm[..len]);
    if env.write_mem(run, a[0], &buf) {
        0
    } else {
        neg(Errno::EFAULT)
    }
}
