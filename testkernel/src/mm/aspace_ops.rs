//! The range operations of an [`AddressSpace`] behind the mm syscalls: map, unmap,
//! protect, remap, brk and discard. Argument validation that does not need the address
//! space (alignment, flag masks) is in `syscall/mm.rs`; these functions take page-aligned,
//! non-empty ranges.
//!
//! Reference: Linux 6.1 mm/mmap.c (`do_mmap`, `mmap_region`, `do_vmi_munmap`, `brk`),
//! mm/mprotect.c (`do_mprotect_pkey`), mm/mremap.c (`mremap`, `mremap_to`, `move_vma`,
//! `vma_to_resize`), mm/madvise.c (`madvise_dontneed_free`).

use alloc::vec::Vec;

use syscall_abi::Errno;

use super::aspace::{AddressSpace, Page};
use super::mapper::PAGE_SIZE;
use super::vma::{page_align_up, Prot, Vma, VmaKind, TASK_SIZE};
use crate::KResult;

/// How `mremap` may move an area (`MREMAP_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Remap {
    /// `MREMAP_MAYMOVE`.
    pub may_move: bool,
    /// `MREMAP_FIXED`: exactly this destination.
    pub fixed: Option<u64>,
    /// `MREMAP_DONTUNMAP`: the old range stays mapped (empty).
    pub dont_unmap: bool,
    /// The destination hint (`new_address` without `MREMAP_FIXED`, used with
    /// `MREMAP_DONTUNMAP`).
    pub hint: u64,
}

/// Where a new mapping may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; the address is a hint used when free (0: no hint).
    Hint(u64),
    /// Exactly here, replacing what was mapped (`MAP_FIXED`).
    Fixed(u64),
    /// Exactly here; `EEXIST` if anything is mapped (`MAP_FIXED_NOREPLACE`).
    FixedNoReplace(u64),
    /// Bottom-up in `[1 GiB, 2 GiB)` (x86_64 `MAP_32BIT`); the hint is used when free and
    /// below 2 GiB.
    Low32(u64),
}

impl AddressSpace {
    /// Maps a new area of `len` bytes (page-aligned, non-zero) and returns its address.
    /// `ENOMEM` when no room (or past `TASK_SIZE` / the area limit), `EEXIST` for an
    /// occupied `FixedNoReplace` range.
    pub fn map(&mut self, place: Placement, len: u64, prot: Prot, max_prot: Prot, kind: VmaKind) -> KResult<u64> {
        if len == 0 || len > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let start = match place {
            Placement::Hint(h) => self.vmas.unmapped_area(h, len)?,
            Placement::Low32(h) => self.vmas.unmapped_area_32bit(h, len)?,
            Placement::Fixed(a) | Placement::FixedNoReplace(a) => {
                if a > TASK_SIZE - len {
                    return Err(Errno::ENOMEM);
                }
                if a % PAGE_SIZE != 0 {
                    return Err(Errno::EINVAL);
                }
                if matches!(place, Placement::FixedNoReplace(_)) && self.vmas.intersects(a, a + len) {
                    return Err(Errno::EEXIST);
                }
                a
            }
        };
        let mut vma = Vma::new(start, start + len, prot, kind);
        vma.max_prot = max_prot;
        self.map_fixed(vma)?;
        Ok(start)
    }

    /// Inserts `vma`, unmapping whatever overlapped it (`MAP_FIXED` semantics).
    pub(crate) fn map_fixed(&mut self, vma: Vma) -> KResult<()> {
        let (start, end) = (vma.start, vma.end);
        self.unmap(start, end - start)?;
        self.vmas.insert(vma)?;
        self.vmas.merge_around(start, end);
        Ok(())
    }

    /// Unmaps `[start, start+len)` (page-aligned); unmapped parts are ignored, areas
    /// straddling the ends are split. `ENOMEM` only if a split exceeds the area limit.
    pub fn unmap(&mut self, start: u64, len: u64) -> KResult<()> {
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if len == 0 || !self.vmas.intersects(start, end) {
            return Ok(());
        }
        self.vmas.remove_range(start, end)?;
        self.drop_pages(start, end);
        Ok(())
    }

    /// `mprotect` of `[start, start+len)`: every page must be mapped (`ENOMEM` at the first
    /// hole; areas before it keep their new permissions, as in Linux), and `prot` must be
    /// within each area's `max_prot` (`EACCES`).
    pub fn protect(&mut self, start: u64, len: u64, prot: Prot) -> KResult<()> {
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        let mut at = start;
        while at < end {
            let Some(v) = self.vmas.find(at) else { return Err(Errno::ENOMEM) };
            if !v.max_prot.contains(prot) {
                return Err(Errno::EACCES);
            }
            let seg_end = v.end.min(end);
            if v.prot != prot {
                self.vmas.split_at(at)?;
                self.vmas.split_at(seg_end)?;
                if let Some(v) = self.vmas.find_mut(at) {
                    v.prot = prot;
                }
                self.reprotect(at, seg_end, prot)?;
            }
            at = seg_end;
        }
        self.vmas.merge_around(start, end);
        Ok(())
    }

    /// `mremap` of the area at `old` (`old_len` bytes, page-aligned) to `new_len` bytes
    /// (page-aligned, non-zero), moving when `how` allows. Pages move with their contents
    /// (no copy). Errors as Linux: `EFAULT` when `[old, old+old_len)` is not inside one area
    /// or a device area would grow, `ENOMEM` when it cannot grow in place and may not move
    /// (or no room), `EINVAL` for overlapping fixed ranges or `old_len == 0` on a private
    /// area (`old_len == 0` on a shared one maps the same pages a second time).
    pub fn remap(&mut self, old: u64, old_len: u64, new_len: u64, how: Remap) -> KResult<u64> {
        let old_end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
        if let Some(dst) = how.fixed.or(if how.dont_unmap { Some(how.hint) } else { None }) {
            let fixed = how.fixed.is_some();
            if fixed {
                let dst_end = dst.checked_add(new_len).filter(|&e| e <= TASK_SIZE).ok_or(Errno::EINVAL)?;
                if dst < old_end && old < dst_end {
                    return Err(Errno::EINVAL);
                }
                self.unmap(dst, new_len)?;
            }
            let mut old_len = old_len;
            if old_len > new_len {
                self.unmap(old + new_len, old_len - new_len)?;
                old_len = new_len;
            }
            let vma = self.resize_check(old, old_len, new_len)?;
            if how.dont_unmap && matches!(vma.kind, VmaKind::Device { .. }) {
                return Err(Errno::EINVAL);
            }
            let dst = if fixed { dst } else { self.vmas.unmapped_area(dst, new_len)? };
            return self.move_area(vma, old, old_len, new_len, dst, how.dont_unmap);
        }
        if old_len >= new_len && old_len != 0 {
            self.unmap(old + new_len, old_len - new_len)?;
            return Ok(old);
        }
        let vma = self.resize_check(old, old_len, new_len)?;
        if old_len != 0 && vma.end == old_end {
            let grow_end = old.checked_add(new_len).filter(|&e| e <= TASK_SIZE);
            if let Some(grow_end) = grow_end {
                if !self.vmas.intersects(old_end, grow_end) {
                    if let Some(v) = self.vmas.find_mut(old) {
                        v.end = grow_end;
                    }
                    self.vmas.merge_around(old, grow_end);
                    return Ok(old);
                }
            }
        }
        if !how.may_move {
            return Err(Errno::ENOMEM);
        }
        let dst = self.vmas.unmapped_area(0, new_len)?;
        self.move_area(vma, old, old_len, new_len, dst, false)
    }

    /// Linux's `vma_to_resize`: the area holding `[old, old+old_len)`.
    fn resize_check(&self, old: u64, old_len: u64, new_len: u64) -> KResult<Vma> {
        let vma = self.vmas.find(old).ok_or(Errno::EFAULT)?;
        if old_len == 0 && !vma.kind.is_shared() {
            return Err(Errno::EINVAL);
        }
        if old_len > vma.end - old {
            return Err(Errno::EFAULT);
        }
        if new_len > old_len && matches!(vma.kind, VmaKind::Device { .. }) {
            return Err(Errno::EFAULT);
        }
        Ok(vma.clone())
    }

    /// Moves `[old, old+old_len)` of `vma` to a new area `[dst, dst+new_len)`.
    fn move_area(
        &mut self,
        vma: Vma,
        old: u64,
        old_len: u64,
        new_len: u64,
        dst: u64,
        dont_unmap: bool,
    ) -> KResult<u64> {
        let mut piece = vma.clone();
        if old > piece.start {
            piece = piece.split_off(old);
        }
        piece.end = dst + new_len;
        let delta_kind = piece.kind.clone();
        let mut moved = Vma::new(dst, dst + new_len, piece.prot, delta_kind);
        moved.max_prot = piece.max_prot;
        moved.dont_fork = piece.dont_fork;
        moved.wipe_on_fork = piece.wipe_on_fork;
        if matches!(moved.kind, VmaKind::Stack | VmaKind::Heap) {
            // A moved stack or heap is plain anonymous memory afterwards.
            moved.kind = VmaKind::Anon;
        }
        if old_len == 0 {
            // A second mapping of the same shared pages.
            self.vmas.insert(moved)?;
            return Ok(dst);
        }
        let pages: Vec<(u64, Page)> = self.pages.range(old..old + old_len).map(|(va, p)| (*va, *p)).collect();
        self.vmas.remove_range(old, old + old_len)?;
        if dont_unmap {
            let mut keep = vma.clone();
            if old > keep.start {
                keep = keep.split_off(old);
            }
            keep.end = old + old_len;
            self.vmas.insert(keep)?;
        }
        self.vmas.insert(moved)?;
        for (va, p) in pages {
            self.pages.remove(&va);
            self.mapper.unmap(va);
            let nva = va - old + dst;
            self.pages.insert(nva, p);
            if vma.prot.accessible() {
                self.mapper.map(nva, p.pa, vma.prot.pte())?;
            }
        }
        self.mapper.flush();
        self.vmas.merge_around(dst, dst + new_len);
        Ok(dst)
    }

    /// `brk(2)`: moves the program break to `addr` when possible and returns the break
    /// (the old one on failure or for `addr` below the heap start, as Linux does).
    pub fn set_brk(&mut self, addr: u64) -> u64 {
        if addr < self.brk_start || addr > TASK_SIZE {
            return self.brk;
        }
        let (Some(new_top), Some(old_top)) = (page_align_up(addr), page_align_up(self.brk)) else {
            return self.brk;
        };
        if new_top == old_top {
            self.brk = addr;
            return addr;
        }
        if new_top < old_top {
            if self.unmap(new_top, old_top - new_top).is_err() {
                return self.brk;
            }
            self.brk = addr;
            return addr;
        }
        // Growing: the new top plus a page must stay below the next area's gap.
        let limit_ok = new_top
            .checked_add(PAGE_SIZE)
            .is_some_and(|e| self.vmas.first_ending_after(old_top).is_none_or(|n| e <= n.start_gap()));
        if !limit_ok || self.vmas.intersects(old_top, new_top) {
            return self.brk;
        }
        let grown = match self.vmas.find_mut(old_top - 1) {
            Some(v) if matches!(v.kind, VmaKind::Heap) && v.end == old_top => {
                v.end = new_top;
                true
            }
            _ => false,
        };
        if !grown {
            let heap = Vma::new(old_top, new_top, Prot::READ | Prot::WRITE, VmaKind::Heap);
            if self.vmas.insert(heap).is_err() {
                return self.brk;
            }
        }
        self.brk = addr;
        addr
    }

    /// `MADV_DONTNEED`/`MADV_FREE`: drops the resident pages of `[start, end)` so the next
    /// touch sees zeroes (anonymous) or the file again (file-private; but an executable's
    /// segments, copied at exec, read zeroes — Linux would re-read the file), while shared
    /// pages keep their contents (as shmem does). Device areas are
    /// `EINVAL`; unmapped parts are `ENOMEM` after the mapped ones are done.
    pub fn discard(&mut self, start: u64, end: u64, anon_only: bool) -> KResult<()> {
        let mut hole = false;
        let mut at = start;
        let areas: Vec<(u64, u64, bool, bool)> = self
            .vmas
            .overlapping(start, end)
            .map(|v| (v.start.max(start), v.end.min(end), matches!(v.kind, VmaKind::Device { .. }), v.kind.is_anon()))
            .collect();
        for (s, e, device, anon) in areas {
            if s > at {
                hole = true;
            }
            if device || (anon_only && !anon) {
                return Err(Errno::EINVAL);
            }
            self.drop_pages(s, e);
            at = e;
        }
        if hole || at < end {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Applies `f` to each area piece in `[start, end)` (split at the ends); `ENOMEM` if
    /// part of the range is unmapped (after the mapped parts, as Linux's madvise does).
    pub fn for_each_area(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut Vma) -> KResult<()>) -> KResult<()> {
        self.vmas.split_at(start)?;
        self.vmas.split_at(end)?;
        let starts: Vec<u64> = self.vmas.overlapping(start, end).map(|v| v.start).collect();
        let mut at = start;
        let mut hole = false;
        for s in starts {
            if s > at {
                hole = true;
            }
            if let Some(v) = self.vmas.find_mut(s) {
                f(v)?;
                at = v.end;
            }
        }
        self.vmas.merge_around(start, end);
        if hole || at < end {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Whether every page of `[start, end)` is inside some area.
    pub fn fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        for v in self.vmas.overlapping(start, end) {
            if v.start > at {
                return false;
            }
            at = v.end;
        }
        at >= end
    }

    /// Faults in every page of `[start, end)` for reading (or writing); `EFAULT`/`ENOMEM`
    /// as Linux's `MADV_POPULATE_*`.
    pub fn populate(&mut self, start: u64, end: u64, write: bool) -> KResult<()> {
        let mut va = start;
        while va < end {
            self.handle_fault(va, write, false).map_err(|f| match f {
                super::aspace::Fault::OutOfMemory => Errno::ENOMEM,
                _ => Errno::EFAULT,
            })?;
            va += PAGE_SIZE;
        }
        Ok(())
    }
}
