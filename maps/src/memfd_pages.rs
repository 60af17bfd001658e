//! [`MemfdPages`]: `std`-only shared pages for host tests of anything that maps memory the
//! way a kernel does for the ring buffer (a memfd mapped once, then its tail mapped again).
//! Built for this crate's tests and, with the `test-pages` feature, for other crates' tests.

use core::any::Any;
use core::ptr::NonNull;

use syscall_abi::{err, Errno, Result};

use crate::host::SharedPages;

/// `pages` pages of a memfd mapped once, then the last `repeat_tail` of them mapped again
/// right after: the layout [`crate::MapHost::alloc_shared`] promises.
pub struct MemfdPages {
    base: NonNull<u8>,
    len: usize,
    pages: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value.
unsafe impl Send for MemfdPages {}
// SAFETY: as above; concurrent access is the maps' business (atomics, locks).
unsafe impl Sync for MemfdPages {}

impl MemfdPages {
    /// Maps `pages` pages of `page` bytes plus the repeated tail. Failures are `ENOMEM`
    /// (`EINVAL` if `repeat_tail > pages`).
    pub fn new(pages: usize, repeat_tail: usize, page: usize) -> Result<Self> {
        if repeat_tail > pages {
            return err(Errno::EINVAL, "repeat_tail > pages");
        }
        let (Some(size), Some(len)) = (pages.checked_mul(page), (pages + repeat_tail).checked_mul(page)) else {
            return err(Errno::ENOMEM, "size overflow");
        };
        let size_off = libc::off_t::try_from(size).map_err(|_| Errno::ENOMEM)?;
        let tail_off = libc::off_t::try_from((pages - repeat_tail) * page).map_err(|_| Errno::ENOMEM)?;
        // SAFETY: plain libc calls on a fresh memfd and a fresh mapping; every result is
        // checked, and the second mapping lies inside the first (MAP_FIXED over our own pages).
        unsafe {
            let fd = libc::memfd_create(c"maps-test-pages".as_ptr(), 0);
            if fd < 0 {
                return err(Errno::ENOMEM, "memfd_create");
            }
            if libc::ftruncate(fd, size_off) != 0 {
                libc::close(fd);
                return err(Errno::ENOMEM, "ftruncate");
            }
            let prot = libc::PROT_READ | libc::PROT_WRITE;
            let base = libc::mmap(core::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0);
            if base == libc::MAP_FAILED {
                libc::close(fd);
                return err(Errno::ENOMEM, "mmap");
            }
            if repeat_tail > 0 {
                let tail = (base as *mut u8).add(size) as *mut libc::c_void;
                let r = libc::mmap(tail, repeat_tail * page, prot, libc::MAP_SHARED | libc::MAP_FIXED, fd, tail_off);
                if r == libc::MAP_FAILED {
                    libc::munmap(base, len);
                    libc::close(fd);
                    return err(Errno::ENOMEM, "mmap tail");
                }
            }
            libc::close(fd);
            match NonNull::new(base as *mut u8) {
                Some(base) => Ok(MemfdPages { base, len, pages }),
                None => err(Errno::ENOMEM, "mmap returned NULL"),
            }
        }
    }
}

impl Drop for MemfdPages {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region `new` mapped.
        unsafe { libc::munmap(self.base.as_ptr() as *mut libc::c_void, self.len) };
    }
}

impl SharedPages for MemfdPages {
    fn as_ptr(&self) -> NonNull<u8> {
        self.base
    }

    fn pages(&self) -> usize {
        self.pages
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
