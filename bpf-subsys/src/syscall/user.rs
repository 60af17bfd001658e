//! User memory as the commands see it: typed reads and writes over the host's fault-safe
//! copies, with address arithmetic that cannot wrap (a wrap is `EFAULT`, as `access_ok`
//! answers), zero-length copies that never touch memory (Linux copies nothing then, even from
//! a NULL pointer), and allocation failures reported as `ENOMEM`.

use alloc::vec::Vec;

use syscall_abi::abi::Pod;
use syscall_abi::uarg::UserSource;
use syscall_abi::{err, Errno, Result};

use crate::host::BpfHost;

/// `PATH_MAX`, including the NUL (Linux `getname`).
const PATH_MAX: usize = 4096;

/// The current task's memory, reached through a [`BpfHost`].
#[derive(Clone, Copy)]
pub(crate) struct User<'a> {
    host: &'a dyn BpfHost,
}

/// `addr + off`, or `EFAULT` when it wraps.
pub(crate) fn offset(addr: u64, off: usize) -> Result<u64> {
    u64::try_from(off).ok().and_then(|off| addr.checked_add(off)).ok_or(Errno::EFAULT.into())
}

/// `n * size` as a byte count, or `ENOMEM` when it does not fit.
pub(crate) fn bytes_of(n: usize, size: usize) -> Result<usize> {
    n.checked_mul(size).ok_or(Errno::ENOMEM.into())
}

/// A zeroed buffer of `len` bytes; `ENOMEM` if it cannot be allocated.
pub(crate) fn zeroed(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    if v.try_reserve_exact(len).is_err() {
        return err(Errno::ENOMEM, "out of memory");
    }
    v.resize(len, 0);
    Ok(v)
}

impl<'a> User<'a> {
    /// The memory of `host`'s current task.
    pub(crate) fn new(host: &'a dyn BpfHost) -> Self {
        User { host }
    }

    /// Fills `dst` from `addr`.
    pub(crate) fn read(&self, addr: u64, dst: &mut [u8]) -> Result<()> {
        if dst.is_empty() {
            return Ok(());
        }
        self.host.copy_from_user(dst, addr)
    }

    /// Writes `src` at `addr`.
    pub(crate) fn write(&self, addr: u64, src: &[u8]) -> Result<()> {
        if src.is_empty() {
            return Ok(());
        }
        self.host.copy_to_user(addr, src)
    }

    /// `len` bytes from `addr` in a new buffer (Linux `memdup_user`).
    pub(crate) fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>> {
        let mut v = zeroed(len)?;
        self.read(addr, &mut v)?;
        Ok(v)
    }

    /// Writes a `u32` at `addr` (Linux `put_user`).
    pub(crate) fn write_u32(&self, addr: u64, v: u32) -> Result<()> {
        self.write(addr, &v.to_ne_bytes())
    }

    /// Writes a `u64` at `addr`.
    pub(crate) fn write_u64(&self, addr: u64, v: u64) -> Result<()> {
        self.write(addr, &v.to_ne_bytes())
    }

    /// The first `len` bytes of `value` to `addr` (Linux `copy_to_user(uinfo, &info, len)`).
    pub(crate) fn write_prefix<T: Pod>(&self, addr: u64, value: &T, len: usize) -> Result<()> {
        let bytes = value.as_bytes();
        self.write(addr, &bytes[..len.min(bytes.len())])
    }

    /// The first `len` bytes at `addr` into a zeroed `T` (Linux `copy_from_user(&info, uinfo,
    /// len)` after a `memset`).
    pub(crate) fn read_prefix<T: Pod>(&self, addr: u64, len: usize) -> Result<T> {
        let mut value = T::ZERO;
        let n = len.min(core::mem::size_of::<T>());
        self.read(addr, &mut value.as_bytes_mut()[..n])?;
        Ok(value)
    }

    /// A path name (Linux `getname`): the bytes before the NUL. Faults → `EFAULT`, no NUL within
    /// `PATH_MAX` bytes → `ENAMETOOLONG`, empty → `ENOENT`.
    pub(crate) fn read_path(&self, addr: u64) -> Result<Vec<u8>> {
        let mut buf = zeroed(PATH_MAX)?;
        let len = self.host.strncpy_from_user(&mut buf, addr)?;
        if len >= PATH_MAX {
            return err(Errno::ENAMETOOLONG, "path longer than PATH_MAX");
        }
        if len == 0 {
            return err(Errno::ENOENT, "empty path");
        }
        buf.truncate(len);
        Ok(buf)
    }

    /// The user object at `addr` as a [`UserSource`] (offsets from `addr`), for
    /// `syscall_abi::uarg`'s size-tolerant copies.
    pub(crate) fn source(&self, addr: u64) -> impl UserSource + 'a {
        let user = *self;
        move |off: usize, dst: &mut [u8]| -> Result<()> { user.read(offset(addr, off)?, dst) }
    }
}
