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

    /// How many bytes from `addr` (at most `len`) could be written right now: pages are
    /// faulted in as a write would, nothing is written. A file read uses it before
    /// consuming data (a pipe must not lose bytes it cannot copy out). The default claims
    /// the whole range, for memories where writes cannot fail part-way.
    fn writable_prefix(&self, addr: u64, len: usize) -> usize {
        let _ = addr;
        len
    }
}

pub use crate::mm::vma::TASK_SIZE;

/// Linux's `access_ok`: the whole range `[addr, addr + len)` lies in user space. Syscalls that
/// take a buffer check this first, so a kernel or non-canonical address is `EFAULT` even for
/// a zero length.
pub fn access_ok(addr: u64, len: u64) -> bool {
    addr.checked_add(len).is_some_and(|end| end <= TASK_SIZE)
}

/// Copies the longest readable prefix of `[addr, addr + buf.len())` into `buf` (page by page,
/// stopping at the first page that cannot be read) and returns its length: how `write(2)`
/// writes the valid part of a buffer that runs into an unmapped page.
pub fn read_prefix(mem: &dyn UserMem, addr: u64, buf: &mut [u8]) -> usize {
    let mut done = 0usize;
    while done < buf.len() {
        let at = addr.wrapping_add(done as u64);
        let n = ((4096 - at % 4096) as usize).min(buf.len() - done);
        if mem.read(at, &mut buf[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    done
}

/// Writes the longest writable prefix of `buf` to `addr` (page by page) and returns its
/// length: how `read(2)` reports a partial copy.
pub fn write_prefix(mem: &dyn UserMem, addr: u64, buf: &[u8]) -> usize {
    let mut done = 0usize;
    while done < buf.len() {
        let at = addr.wrapping_add(done as u64);
        let n = ((4096 - at % 4096) as usize).min(buf.len() - done);
        if mem.write(at, &buf[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    done
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
    fn writable_prefix(&self, addr: u64, len: usize) -> usize {
        let Ok(start) = usize::try_from(addr.wrapping_sub(self.base)) else { return 0 };
        if addr < self.base {
            return 0;
        }
        self.bytes.lock().len().saturating_sub(start).min(len)
    }

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
    fn prefixes_stop_at_the_first_bad_page() {
        let m = TestMem::new(0x1000, 8192);
        let mut buf = [0u8; 200];
        assert_eq!(read_prefix(&m, 0x1000 + 8192 - 100, &mut buf), 100);
        assert_eq!(write_prefix(&m, 0x1000 + 8192 - 50, &buf), 50);
        assert_eq!(m.writable_prefix(0x1000 + 8192 - 50, 200), 50);
        assert_eq!(read_prefix(&m, 0x10, &mut buf), 0);
        assert!(access_ok(0x1000, 0) && !access_ok(0xffff_8000_0000_0000, 0) && !access_ok(TASK_SIZE - 1, 2));
    }

    #[test]
    fn values_round_trip() {
        let m = TestMem::new(0x1000, 64);
        write_val(&m, 0x1008, &0x1122_3344_5566_7788u64).unwrap();
        assert_eq!(read_val::<u64>(&m, 0x1008).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(read_val::<u64>(&m, 0x1000 + 60), Err(Errno::EFAULT));
    }
}
