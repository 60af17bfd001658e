//! User memory: the only way kernel code reads or writes a process's memory.
//!
//! Every access goes through [`UserMem`], which copies and turns any address that is not
//! mapped with the needed permission (after lazy fault-in) into `EFAULT` — never a kernel
//! fault. The kernel's implementation walks the current address space (`mm::aspace`); host
//! tests use [`TestMem`].

use alloc::vec::Vec;

use syscall_abi::abi::Pod;
use syscall_abi::Errno;

use crate::KResult;

/// A process's memory as seen by a system call.
///
/// Implementations must not hold locks a caller might also hold: a syscall may call these
/// methods while holding its fd table or a file's lock, but never the address-space lock.
pub trait UserMem {
    /// Copies `buf.len()` bytes from user address `addr`; `EFAULT` if any byte is not
    /// readable (nothing is guaranteed about `buf` then).
    fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()>;
    /// Copies `buf` to user address `addr`; `EFAULT` if any byte is not writable (a prefix
    /// may have been written, as in Linux).
    fn write(&self, addr: u64, buf: &[u8]) -> KResult<()>;

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL) from `addr`:
    /// `EFAULT` for an unreadable byte before the NUL, `ENAMETOOLONG` when no NUL is found
    /// within `max` bytes (Linux's `strncpy_from_user` + `getname` for paths).
    fn read_cstr(&self, addr: u64, max: usize) -> KResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 64];
        let mut at = addr;
        while out.len() < max {
            // Never read past a page boundary in one step: the next page may be unmapped
            // while the string ends on this one.
            let to_page_end = 4096 - (at % 4096) as usize;
            let n = chunk.len().min(to_page_end).min(max - out.len());
            self.read(at, &mut chunk[..n])?;
            if let Some(nul) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..n]);
            at = at.checked_add(n as u64).ok_or(Errno::EFAULT)?;
        }
        Err(Errno::ENAMETOOLONG)
    }
}

/// Reads one plain-data value (a `syscall-abi` mirror or an integer) from user memory.
pub fn read_val<T: Pod>(mem: &dyn UserMem, addr: u64) -> KResult<T> {
    let mut v = T::ZERO;
    mem.read(addr, v.as_bytes_mut())?;
    Ok(v)
}

/// Writes one plain-data value to user memory.
pub fn write_val<T: Pod>(mem: &dyn UserMem, addr: u64, v: &T) -> KResult<()> {
    mem.write(addr, v.as_bytes())
}

/// A fake user memory for host tests: one contiguous writable region at `base`; any
/// access outside it is `EFAULT`.
#[cfg(test)]
pub struct TestMem {
    /// First valid address.
    pub base: u64,
    /// The bytes.
    pub bytes: spin::Mutex<Vec<u8>>,
}

#[cfg(test)]
impl TestMem {
    /// `len` zero bytes at `base`.
    pub fn new(base: u64, len: usize) -> Self {
        TestMem { base, bytes: spin::Mutex::new(alloc::vec![0; len]) }
    }

    fn range(&self, addr: u64, len: usize) -> KResult<core::ops::Range<usize>> {
        let start = addr.checked_sub(self.base).ok_or(Errno::EFAULT)?;
        let start = usize::try_from(start).map_err(|_| Errno::EFAULT)?;
        let end = start.checked_add(len).ok_or(Errno::EFAULT)?;
        if end > self.bytes.lock().len() {
            return Err(Errno::EFAULT);
        }
        Ok(start..end)
    }
}

#[cfg(test)]
impl UserMem for TestMem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes.lock()[r]);
        Ok(())
    }

    fn write(&self, addr: u64, buf: &[u8]) -> KResult<()> {
        let r = self.range(addr, buf.len())?;
        self.bytes.lock()[r].copy_from_slice(buf);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstr_stops_at_nul_fault_or_limit() {
        let m = TestMem::new(0x1000, 8192);
        m.write(0x1000, b"hello\0").unwrap();
        assert_eq!(m.read_cstr(0x1000, 100).unwrap(), b"hello");
        assert_eq!(m.read_cstr(0x1000, 3), Err(Errno::ENAMETOOLONG));
        // No NUL before the end of the region: the first unreadable byte faults.
        m.write(0x1000 + 8190, b"ab").unwrap();
        assert_eq!(m.read_cstr(0x1000 + 8190, 100), Err(Errno::EFAULT));
        assert_eq!(m.read_cstr(0x10, 100), Err(Errno::EFAULT));
    }

    #[test]
    fn values_round_trip() {
        let m = TestMem::new(0x1000, 64);
        write_val(&m, 0x1008, &0x1122_3344_5566_7788u64).unwrap();
        assert_eq!(read_val::<u64>(&m, 0x1008).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(read_val::<u64>(&m, 0x1000 + 60), Err(Errno::EFAULT));
    }
}
