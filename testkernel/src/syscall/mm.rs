//! Memory-management system calls: `mmap`, `munmap`, `mprotect`, `mremap`, `brk`,
//! `madvise`, `msync`, `mlock`/`mlock2`/`munlock`/`mlockall`/`munlockall`.
//!
//! Argument checks follow Linux 6.1 in order (so the same bad call gets the same errno);
//! the address-space work is in `mm::aspace_ops`.
//!
//! Deviations, all documented:
//! - `MAP_SHARED` of a regular file (or `/dev/zero`) is a private copy, allowed only
//!   without `PROT_WRITE` (else `ENODEV`): the copy never reaches the file and later file
//!   writes are not seen. Shared anonymous memory is `MAP_SHARED | MAP_ANONYMOUS`.
//! - Device mappings (`MmapBacking::Frames`) are always shared, also when asked
//!   `MAP_PRIVATE` (the file's `mmap` may refuse that).
//! - `MAP_GROWSDOWN` areas do not grow; `mlock` neither populates nor pins (no swap).
//! - `MAP_HUGETLB` is `ENOMEM` (no huge pages reserved) for anonymous memory, `EINVAL` for
//!   files; `MADV_REMOVE` on a shared writable area is accepted without freeing.
//! - `MAP_FIXED` below `mmap_min_addr` is allowed, as Linux allows it to a process with
//!   `CAP_SYS_RAWIO` (every process is root here).
//!
//! Reference: Linux 6.1 arch/x86/kernel/sys_x86_64.c (`sys_mmap`), mm/mmap.c (`do_mmap`,
//! `ksys_mmap_pgoff`, `brk`, `__vm_munmap`), mm/mprotect.c (`do_mprotect_pkey`),
//! mm/mremap.c (`mremap`, `mremap_to`), mm/madvise.c (`do_madvise`,
//! `madvise_behavior_valid`), mm/msync.c, mm/mlock.c.

use alloc::sync::Arc;

use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::fdtable::FdTable;
use crate::fs::file::MmapBacking;
use crate::mm::aspace::AddressSpace;
use crate::mm::mapper::PAGE_SIZE;
use crate::mm::shared::SharedPages;
use crate::mm::vma::{page_align_up, Prot, VmaKind, MMAP_MIN_ADDR, TASK_SIZE};
use crate::mm::{Placement, Remap};
use crate::KResult;

/// `mmap` flags (include/uapi/asm-generic/mman-common.h, linux/mman.h).
pub mod map {
    /// `MAP_SHARED`.
    pub const SHARED: u64 = 0x01;
    /// `MAP_PRIVATE`.
    pub const PRIVATE: u64 = 0x02;
    /// `MAP_SHARED_VALIDATE`.
    pub const SHARED_VALIDATE: u64 = 0x03;
    /// `MAP_TYPE` mask.
    pub const TYPE: u64 = 0x0f;
    /// `MAP_FIXED`.
    pub const FIXED: u64 = 0x10;
    /// `MAP_ANONYMOUS`.
    pub const ANONYMOUS: u64 = 0x20;
    /// `MAP_32BIT` (x86_64: place the mapping in the first 2 GiB).
    pub const BIT32: u64 = 0x40;
    /// `MAP_HUGE_2MB` (a huge-page size in the `MAP_HUGE_SHIFT` field).
    pub const HUGE_2MB: u64 = 21 << 26;
    /// `MAP_HUGE_1GB`.
    pub const HUGE_1GB: u64 = 30 << 26;
    /// `MAP_GROWSDOWN`.
    pub const GROWSDOWN: u64 = 0x0100;
    /// `MAP_DENYWRITE` (ignored).
    pub const DENYWRITE: u64 = 0x0800;
    /// `MAP_EXECUTABLE` (ignored).
    pub const EXECUTABLE: u64 = 0x1000;
    /// `MAP_LOCKED`.
    pub const LOCKED: u64 = 0x2000;
    /// `MAP_NORESERVE`.
    pub const NORESERVE: u64 = 0x4000;
    /// `MAP_POPULATE`.
    pub const POPULATE: u64 = 0x8000;
    /// `MAP_NONBLOCK`.
    pub const NONBLOCK: u64 = 0x1_0000;
    /// `MAP_STACK`.
    pub const STACK: u64 = 0x2_0000;
    /// `MAP_HUGETLB`.
    pub const HUGETLB: u64 = 0x4_0000;
    /// `MAP_SYNC`.
    pub const SYNC: u64 = 0x8_0000;
    /// `MAP_FIXED_NOREPLACE`.
    pub const FIXED_NOREPLACE: u64 = 0x10_0000;
    /// `MAP_UNINITIALIZED`.
    pub const UNINITIALIZED: u64 = 0x400_0000;
    /// Linux's `LEGACY_MAP_MASK`: the flags `MAP_SHARED_VALIDATE` accepts for a file that
    /// supports nothing more.
    pub const LEGACY_MASK: u64 = SHARED
        | PRIVATE
        | FIXED
        | ANONYMOUS
        | DENYWRITE
        | EXECUTABLE
        | UNINITIALIZED
        | GROWSDOWN
        | LOCKED
        | NORESERVE
        | POPULATE
        | NONBLOCK
        | STACK
        | HUGETLB
        | BIT32
        | HUGE_2MB
        | HUGE_1GB;
}

/// `PROT_SEM` (accepted by `mprotect`, meaningless here).
pub const PROT_SEM: u64 = 0x8;
/// `PROT_GROWSDOWN`.
pub const PROT_GROWSDOWN: u64 = 0x0100_0000;
/// `PROT_GROWSUP`.
pub const PROT_GROWSUP: u64 = 0x0200_0000;
/// `MREMAP_MAYMOVE`.
pub const MREMAP_MAYMOVE: u64 = 1;
/// `MREMAP_FIXED`.
pub const MREMAP_FIXED: u64 = 2;
/// `MREMAP_DONTUNMAP`.
pub const MREMAP_DONTUNMAP: u64 = 4;
/// `MS_ASYNC`.
pub const MS_ASYNC: u64 = 1;
/// `MS_INVALIDATE`.
pub const MS_INVALIDATE: u64 = 2;
/// `MS_SYNC`.
pub const MS_SYNC: u64 = 4;
/// `MLOCK_ONFAULT` (`mlock2`).
pub const MLOCK_ONFAULT: u64 = 1;
/// `MCL_CURRENT`.
pub const MCL_CURRENT: u64 = 1;
/// `MCL_FUTURE`.
pub const MCL_FUTURE: u64 = 2;
/// `MCL_ONFAULT`.
pub const MCL_ONFAULT: u64 = 4;

/// `madvise` advice values (include/uapi/asm-generic/mman-common.h).
pub mod madv {
    /// `MADV_NORMAL`.
    pub const NORMAL: i32 = 0;
    /// `MADV_RANDOM`.
    pub const RANDOM: i32 = 1;
    /// `MADV_SEQUENTIAL`.
    pub const SEQUENTIAL: i32 = 2;
    /// `MADV_WILLNEED`.
    pub const WILLNEED: i32 = 3;
    /// `MADV_DONTNEED`.
    pub const DONTNEED: i32 = 4;
    /// `MADV_FREE`.
    pub const FREE: i32 = 8;
    /// `MADV_REMOVE`.
    pub const REMOVE: i32 = 9;
    /// `MADV_DONTFORK`.
    pub const DONTFORK: i32 = 10;
    /// `MADV_DOFORK`.
    pub const DOFORK: i32 = 11;
    /// `MADV_MERGEABLE`.
    pub const MERGEABLE: i32 = 12;
    /// `MADV_UNMERGEABLE`.
    pub const UNMERGEABLE: i32 = 13;
    /// `MADV_HUGEPAGE`.
    pub const HUGEPAGE: i32 = 14;
    /// `MADV_NOHUGEPAGE`.
    pub const NOHUGEPAGE: i32 = 15;
    /// `MADV_DONTDUMP`.
    pub const DONTDUMP: i32 = 16;
    /// `MADV_DODUMP`.
    pub const DODUMP: i32 = 17;
    /// `MADV_WIPEONFORK`.
    pub const WIPEONFORK: i32 = 18;
    /// `MADV_KEEPONFORK`.
    pub const KEEPONFORK: i32 = 19;
    /// `MADV_COLD`.
    pub const COLD: i32 = 20;
    /// `MADV_PAGEOUT`.
    pub const PAGEOUT: i32 = 21;
    /// `MADV_POPULATE_READ`.
    pub const POPULATE_READ: i32 = 22;
    /// `MADV_POPULATE_WRITE`.
    pub const POPULATE_WRITE: i32 = 23;
    /// `MADV_DONTNEED_LOCKED`.
    pub const DONTNEED_LOCKED: i32 = 24;
    /// `MADV_COLLAPSE`.
    pub const COLLAPSE: i32 = 25;
}

fn prot_bits(prot: u64) -> Prot {
    Prot::from_bits_truncate(u32::try_from(prot & 7).unwrap_or(0))
}

/// `mmap(2)`. `off` is in bytes (x86_64 `sys_mmap`).
#[allow(clippy::too_many_arguments)]
pub fn sys_mmap(
    aspace: &Mutex<AddressSpace>,
    files: &Mutex<FdTable>,
    addr: u64,
    len: u64,
    prot: u64,
    flags: u64,
    fd: i32,
    off: u64,
) -> KResult<u64> {
    if off % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let pgoff = off / PAGE_SIZE;
    let anonymous = flags & map::ANONYMOUS != 0;
    let file = if anonymous {
        if flags & map::HUGETLB != 0 {
            return Err(Errno::ENOMEM);
        }
        None
    } else {
        let f = files.lock().get(fd)?;
        if flags & map::HUGETLB != 0 {
            return Err(Errno::EINVAL);
        }
        Some(f)
    };
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let fixed = flags & (map::FIXED | map::FIXED_NOREPLACE) != 0;
    let hint = if fixed {
        addr
    } else {
        let h = addr & !(PAGE_SIZE - 1);
        if h != 0 && h < MMAP_MIN_ADDR {
            MMAP_MIN_ADDR
        } else {
            h
        }
    };
    let len = page_align_up(len).filter(|&l| l != 0).ok_or(Errno::ENOMEM)?;
    if pgoff.checked_add(len / PAGE_SIZE).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    // Linux's get_unmapped_area checks for fixed addresses come before the file checks.
    if len > TASK_SIZE {
        return Err(Errno::ENOMEM);
    }
    if fixed {
        if hint > TASK_SIZE - len {
            return Err(Errno::ENOMEM);
        }
        if hint % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & map::FIXED_NOREPLACE != 0 && aspace.lock().vmas.intersects(hint, hint + len) {
            return Err(Errno::EEXIST);
        }
    }
    let place = if flags & map::FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace(hint)
    } else if fixed {
        Placement::Fixed(hint)
    } else if flags & map::BIT32 != 0 {
        Placement::Low32(hint)
    } else {
        Placement::Hint(hint)
    };
    let p = prot_bits(prot);
    let map_type = flags & map::TYPE;
    let (kind, max_prot) = match file {
        Some(file) => {
            // Linux's file_mmap_ok with the largest file size (MAX_LFS_FILESIZE).
            let max_size = i64::MAX.unsigned_abs();
            if len > max_size || pgoff > (max_size - len) / PAGE_SIZE {
                return Err(Errno::EOVERFLOW);
            }
            let shared = match map_type {
                map::SHARED | map::SHARED_VALIDATE => {
                    if map_type == map::SHARED_VALIDATE && flags & !map::LEGACY_MASK != 0 {
                        return Err(Errno::EOPNOTSUPP);
                    }
                    if p.contains(Prot::WRITE) && !file.writable() {
                        return Err(Errno::EACCES);
                    }
                    true
                }
                map::PRIVATE => false,
                _ => return Err(Errno::EINVAL),
            };
            if !file.readable() {
                return Err(Errno::EACCES);
            }
            if flags & map::GROWSDOWN != 0 {
                return Err(Errno::EINVAL);
            }
            let u32flags = u32::try_from(flags & 0xffff_ffff).unwrap_or(0);
            let u32prot = u32::try_from(prot & 0xffff_ffff).unwrap_or(0);
            match file.ops.mmap(&file, off, len, u32prot, u32flags)? {
                MmapBacking::PrivateCopy => {
                    if shared && p.contains(Prot::WRITE) {
                        return Err(Errno::ENODEV);
                    }
                    // A shared mapping is a read-only copy: it may never become writable.
                    let max = if shared { Prot::all() - Prot::WRITE } else { Prot::all() };
                    (VmaKind::File { file, offset: off, shared }, max)
                }
                MmapBacking::Frames(source) => {
                    let mut max = Prot::all();
                    for i in 0..len / PAGE_SIZE {
                        let index = pgoff + i;
                        if source.frame(index).is_none() {
                            return Err(Errno::EINVAL);
                        }
                        if !source.writable(index) {
                            if p.contains(Prot::WRITE) {
                                return Err(Errno::EPERM);
                            }
                            max -= Prot::WRITE;
                        }
                    }
                    if shared && !file.writable() {
                        max -= Prot::WRITE;
                    }
                    (VmaKind::Device { file, source, pgoff }, max)
                }
            }
        }
        // Anonymous memory knows no MAP_SHARED_VALIDATE (Linux's anonymous switch has only
        // MAP_SHARED and MAP_PRIVATE).
        None => match map_type {
            map::SHARED => {
                if flags & map::GROWSDOWN != 0 {
                    return Err(Errno::EINVAL);
                }
                let frames = aspace.lock().frames;
                (VmaKind::SharedAnon { pages: Arc::new(SharedPages::new(frames)), pgoff: 0 }, Prot::all())
            }
            map::PRIVATE => (VmaKind::Anon, Prot::all()),
            _ => return Err(Errno::EINVAL),
        },
    };
    let mut a = aspace.lock();
    let at = a.map(place, len, p, max_prot, kind)?;
    if flags & map::LOCKED != 0 || flags & (map::POPULATE | map::NONBLOCK) == map::POPULATE {
        // Best effort, as in Linux: errors do not fail the mmap.
        let _ = a.populate(at, at + len, p.contains(Prot::WRITE));
    }
    Ok(at)
}

/// `munmap(2)`.
pub fn sys_munmap(aspace: &Mutex<AddressSpace>, addr: u64, len: u64) -> KResult<u64> {
    if addr % PAGE_SIZE != 0 || addr > TASK_SIZE || len > TASK_SIZE - addr {
        return Err(Errno::EINVAL);
    }
    let len = page_align_up(len).ok_or(Errno::EINVAL)?;
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    aspace.lock().unmap(addr, len)?;
    Ok(0)
}

/// `mprotect(2)`.
pub fn sys_mprotect(aspace: &Mutex<AddressSpace>, addr: u64, len: u64, prot: u64) -> KResult<u64> {
    let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    let prot = prot & !(PROT_GROWSDOWN | PROT_GROWSUP);
    if grows == PROT_GROWSDOWN | PROT_GROWSUP {
        return Err(Errno::EINVAL);
    }
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let len = page_align_up(len).ok_or(Errno::ENOMEM)?;
    let end = addr.checked_add(len).filter(|&e| e > addr).ok_or(Errno::ENOMEM)?;
    if prot & !(7 | PROT_SEM) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut a = aspace.lock();
    let mut start = addr;
    let first = a.vmas.first_ending_after(addr).ok_or(Errno::ENOMEM)?;
    if grows & PROT_GROWSDOWN != 0 {
        if first.start >= end {
            return Err(Errno::ENOMEM);
        }
        if !matches!(first.kind, VmaKind::Stack) {
            return Err(Errno::EINVAL);
        }
        start = first.start;
    } else if grows & PROT_GROWSUP != 0 {
        // No area grows up on x86_64.
        return Err(Errno::EINVAL);
    }
    a.protect(start, end - start, prot_bits(prot))?;
    Ok(0)
}

/// `mremap(2)`.
pub fn sys_mremap(
    aspace: &Mutex<AddressSpace>,
    addr: u64,
    old_len: u64,
    new_len: u64,
    flags: u64,
    new_addr: u64,
) -> KResult<u64> {
    if flags & !(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP) != 0 {
        return Err(Errno::EINVAL);
    }
    let may_move = flags & MREMAP_MAYMOVE != 0;
    if flags & MREMAP_FIXED != 0 && !may_move {
        return Err(Errno::EINVAL);
    }
    let dont_unmap = flags & MREMAP_DONTUNMAP != 0;
    if dont_unmap && (!may_move || old_len != new_len) {
        return Err(Errno::EINVAL);
    }
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let old_len = page_align_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_align_up(new_len).filter(|&l| l != 0).ok_or(Errno::EINVAL)?;
    let fixed = if flags & MREMAP_FIXED != 0 { Some(new_addr) } else { None };
    // Linux's mremap_to: both MREMAP_FIXED and MREMAP_DONTUNMAP take `new_addr` (a hint for
    // the latter) and check it.
    if fixed.is_some() || dont_unmap {
        if new_addr % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        if new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len {
            return Err(Errno::EINVAL);
        }
        if addr.saturating_add(old_len) > new_addr && new_addr.saturating_add(new_len) > addr {
            return Err(Errno::EINVAL);
        }
    }
    let how = Remap { may_move, fixed, dont_unmap, hint: new_addr };
    aspace.lock().remap(addr, old_len, new_len, how)
}

/// `brk(2)`: the new break, or the current one when it cannot move (never an error).
pub fn sys_brk(aspace: &Mutex<AddressSpace>, brk: u64) -> KResult<u64> {
    Ok(aspace.lock().set_brk(brk))
}

fn advice_valid(advice: i32) -> bool {
    matches!(advice, 0..=4 | 8..=25)
}

/// `madvise(2)`.
pub fn sys_madvise(aspace: &Mutex<AddressSpace>, addr: u64, len: u64, advice: i32) -> KResult<u64> {
    if !advice_valid(advice) {
        return Err(Errno::EINVAL);
    }
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let rounded = page_align_up(len).unwrap_or(0);
    if len != 0 && rounded == 0 {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(rounded).ok_or(Errno::EINVAL)?;
    if end == addr {
        return Ok(0);
    }
    let mut a = aspace.lock();
    match advice {
        madv::DONTNEED | madv::DONTNEED_LOCKED => a.discard(addr, end, false)?,
        madv::FREE => a.discard(addr, end, true)?,
        madv::POPULATE_READ | madv::POPULATE_WRITE => {
            if !a.fully_mapped(addr, end) {
                return Err(Errno::ENOMEM);
            }
            a.populate(addr, end, advice == madv::POPULATE_WRITE)?;
        }
        madv::REMOVE => a.for_each_area(addr, end, |v| match &v.kind {
            VmaKind::Anon | VmaKind::Stack | VmaKind::Heap => Err(Errno::EINVAL),
            k if k.is_shared() && v.prot.contains(Prot::WRITE) => Ok(()),
            _ => Err(Errno::EACCES),
        })?,
        madv::DONTFORK | madv::DOFORK | madv::WIPEONFORK | madv::KEEPONFORK | madv::DODUMP => {
            a.for_each_area(addr, end, |v| {
                match advice {
                    madv::DONTFORK => v.dont_fork = true,
                    madv::DOFORK => v.dont_fork = false,
                    madv::WIPEONFORK if !v.kind.is_anon() => return Err(Errno::EINVAL),
                    madv::WIPEONFORK => v.wipe_on_fork = true,
                    madv::KEEPONFORK => v.wipe_on_fork = false,
                    _ if matches!(v.kind, VmaKind::Device { .. }) => return Err(Errno::EINVAL),
                    _ => {}
                }
                Ok(())
            })?
        }
        madv::COLD | madv::PAGEOUT => a.for_each_area(addr, end, |v| match v.kind {
            VmaKind::Device { .. } => Err(Errno::EINVAL),
            _ => Ok(()),
        })?,
        // NORMAL, RANDOM, SEQUENTIAL, WILLNEED, MERGEABLE, UNMERGEABLE, HUGEPAGE,
        // NOHUGEPAGE, DONTDUMP, COLLAPSE: hints with nothing to do here, but holes in the
        // range are still ENOMEM.
        _ => {
            if !a.fully_mapped(addr, end) {
                return Err(Errno::ENOMEM);
            }
        }
    }
    Ok(0)
}

/// `msync(2)`: nothing to write back (file mappings are private copies); validates and
/// reports holes (`ENOMEM`) like Linux.
pub fn sys_msync(aspace: &Mutex<AddressSpace>, addr: u64, len: u64, flags: u64) -> KResult<u64> {
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MS_ASYNC != 0 && flags & MS_SYNC != 0 {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)).ok_or(Errno::ENOMEM)?;
    if end < addr {
        return Err(Errno::ENOMEM);
    }
    if end == addr {
        return Ok(0);
    }
    if !aspace.lock().fully_mapped(addr, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

/// The page range `mlock`/`munlock` cover (`start` rounded down, `len` extended by the
/// offset and rounded up, with Linux's wrap-around: a length that rounds to 0 is a no-op);
/// `EINVAL` past the end of the address space, `ENOMEM` when part of it is unmapped.
fn lock_range(aspace: &Mutex<AddressSpace>, addr: u64, len: u64) -> KResult<u64> {
    let start = addr & !(PAGE_SIZE - 1);
    let len = len.wrapping_add(addr % PAGE_SIZE).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let end = start.wrapping_add(len);
    if end < start {
        return Err(Errno::EINVAL);
    }
    if end == start {
        return Ok(0);
    }
    if !aspace.lock().fully_mapped(start, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

/// `mlock(2)`: a validated no-op (no swap: memory is always resident once touched).
pub fn sys_mlock(aspace: &Mutex<AddressSpace>, addr: u64, len: u64) -> KResult<u64> {
    lock_range(aspace, addr, len)
}

/// `mlock2(2)`: `EINVAL` for flags other than `MLOCK_ONFAULT`.
pub fn sys_mlock2(aspace: &Mutex<AddressSpace>, addr: u64, len: u64, flags: u64) -> KResult<u64> {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    lock_range(aspace, addr, len)
}

/// `munlock(2)`.
pub fn sys_munlock(aspace: &Mutex<AddressSpace>, addr: u64, len: u64) -> KResult<u64> {
    lock_range(aspace, addr, len)
}

/// `mlockall(2)`: validates the flags.
pub fn sys_mlockall(flags: u64) -> KResult<u64> {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// `munlockall(2)`.
pub fn sys_munlockall() -> KResult<u64> {
    Ok(0)
}

#[cfg(test)]
#[path = "mm_tests.rs"]
mod tests;
