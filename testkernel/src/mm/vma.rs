//! The VMA set of one address space: sorted, non-overlapping, page-aligned areas, each with
//! its permissions and what backs it, plus Linux's placement of new areas (top-down from the
//! mmap base, hints respected when free).
//!
//! Reference: Linux 6.1 mm/mmap.c (`find_vma`, `vm_unmapped_area`, `vm_start_gap`,
//! `__split_vma`), arch/x86/mm/mmap.c (`mmap_base`: 128 MiB gap below the stack top without
//! randomisation).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bitflags::bitflags;
use syscall_abi::Errno;

use super::mapper::{PteFlags, PAGE_SIZE};
use super::shared::SharedPages;
use crate::fs::file::{FrameSource, OpenFile};
use crate::KResult;

/// The end of user space (Linux x86_64 `TASK_SIZE`, 47-bit, minus the guard page).
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// The top of the initial stack (no randomisation: `TASK_SIZE`).
pub const STACK_TOP: u64 = TASK_SIZE;
/// The stack's size limit (`RLIMIT_STACK` default, 8 MiB).
pub const STACK_LIMIT: u64 = 8 << 20;
/// Linux's `stack_guard_gap`: 256 pages kept free below a stack.
pub const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;
/// Where top-down `mmap` placement starts: 128 MiB (Linux's minimum gap) below the stack top.
pub const MMAP_BASE: u64 = STACK_TOP - (128 << 20);
/// Lowest address `mmap` hands out or accepts as a hint (`vm.mmap_min_addr` default).
pub const MMAP_MIN_ADDR: u64 = 0x10000;
/// Linux's `TASK_UNMAPPED_BASE` for the bottom-up fallback search (`TASK_SIZE / 3`).
pub const TASK_UNMAPPED_BASE: u64 = (TASK_SIZE / 3) & !(PAGE_SIZE - 1);
/// `vm.max_map_count` default: more areas than this is `ENOMEM`.
pub const MAX_MAP_COUNT: usize = 65530;

bitflags! {
    /// Access permissions of an area (the `PROT_*` bit values).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u32 {
        /// `PROT_READ`.
        const READ = 1;
        /// `PROT_WRITE`.
        const WRITE = 2;
        /// `PROT_EXEC`.
        const EXEC = 4;
    }
}

impl Prot {
    /// Whether any access is allowed (x86 pages cannot be write- or exec-only: any
    /// permission makes the page readable, as in Linux's `vma_is_accessible`).
    pub fn accessible(self) -> bool {
        !self.is_empty()
    }

    /// The page-table flags of a present page with these permissions.
    pub fn pte(self) -> PteFlags {
        let mut f = PteFlags::empty();
        if self.contains(Prot::WRITE) {
            f |= PteFlags::WRITE;
        }
        if self.contains(Prot::EXEC) {
            f |= PteFlags::EXEC;
        }
        f
    }
}

/// What backs an area.
#[derive(Clone)]
pub enum VmaKind {
    /// Private anonymous memory (zero-filled on first touch).
    Anon,
    /// The process stack (anonymous; grows down on faults below it, up to [`STACK_LIMIT`]).
    Stack,
    /// The brk heap (anonymous).
    Heap,
    /// A segment of the executable, loaded eagerly by `exec` (anonymous afterwards;
    /// `path`/`offset`/`dev`/`ino` only name it in `/proc/self/maps`).
    Image {
        /// The executable's path.
        path: Arc<str>,
        /// File offset of the area's first page.
        offset: u64,
        /// Device of the executable (stat encoding).
        dev: u64,
        /// Inode number of the executable.
        ino: u64,
    },
    /// A private copy of a file: pages are read with `FileOps::read_at` on first touch.
    File {
        /// The mapped file.
        file: Arc<OpenFile>,
        /// File offset of the area's first page.
        offset: u64,
        /// Mapped `MAP_SHARED` (read-only: the copy never goes back to the file).
        shared: bool,
    },
    /// Device frames lent by a file (`MmapBacking::Frames`); not owned by the address space.
    Device {
        /// The mapped file (names the area, keeps the device alive).
        file: Arc<OpenFile>,
        /// The frames.
        source: Arc<dyn FrameSource>,
        /// Page index (`FrameSource::frame` numbering) of the area's first page.
        pgoff: u64,
    },
    /// Shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`): frames owned by the shared
    /// object, common to every address space (after `fork`) that maps it.
    SharedAnon {
        /// The pages.
        pages: Arc<SharedPages>,
        /// Page index in `pages` of the area's first page.
        pgoff: u64,
    },
}

impl VmaKind {
    /// Whether the address space owns (allocates and frees) the frames of this area.
    pub fn owns_frames(&self) -> bool {
        !matches!(self, VmaKind::Device { .. } | VmaKind::SharedAnon { .. })
    }

    /// Whether the area is anonymous private memory (`MADV_FREE`, merging).
    pub fn is_anon(&self) -> bool {
        matches!(self, VmaKind::Anon | VmaKind::Stack | VmaKind::Heap)
    }

    /// Whether the mapping is shared (`s` in `/proc/self/maps`).
    pub fn is_shared(&self) -> bool {
        match self {
            VmaKind::File { shared, .. } => *shared,
            VmaKind::Device { .. } | VmaKind::SharedAnon { .. } => true,
            _ => false,
        }
    }

    /// The same backing for the part of the area starting `delta` bytes (page-aligned) in.
    fn advanced(&self, delta: u64) -> VmaKind {
        let pages = delta / PAGE_SIZE;
        match self {
            VmaKind::Image { path, offset, dev, ino } => {
                VmaKind::Image { path: path.clone(), offset: offset.saturating_add(delta), dev: *dev, ino: *ino }
            }
            VmaKind::File { file, offset, shared } => {
                VmaKind::File { file: file.clone(), offset: offset.saturating_add(delta), shared: *shared }
            }
            VmaKind::Device { file, source, pgoff } => {
                VmaKind::Device { file: file.clone(), source: source.clone(), pgoff: pgoff.saturating_add(pages) }
            }
            VmaKind::SharedAnon { pages: p, pgoff } => {
                VmaKind::SharedAnon { pages: p.clone(), pgoff: pgoff.saturating_add(pages) }
            }
            other => other.clone(),
        }
    }
}

/// One virtual memory area `[start, end)`.
#[derive(Clone)]
pub struct Vma {
    /// First address (page-aligned).
    pub start: u64,
    /// End address (exclusive, page-aligned).
    pub end: u64,
    /// Permissions.
    pub prot: Prot,
    /// The most `mprotect` may grant (Linux's `VM_MAY*`): a read-only shared file or a
    /// read-only device page never becomes writable.
    pub max_prot: Prot,
    /// What backs it.
    pub kind: VmaKind,
    /// `MADV_DONTFORK`: the child of `fork` does not get this area.
    pub dont_fork: bool,
    /// `MADV_WIPEONFORK`: the child of `fork` gets this area zero-filled.
    pub wipe_on_fork: bool,
}

impl Vma {
    /// A new area with default advice; `max_prot` allows everything.
    pub fn new(start: u64, end: u64, prot: Prot, kind: VmaKind) -> Vma {
        Vma { start, end, prot, max_prot: Prot::all(), kind, dont_fork: false, wipe_on_fork: false }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the area is empty (never true for an area in a set).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The lowest address other areas may reach below this one (stacks keep a guard gap;
    /// Linux's `vm_start_gap`).
    pub fn start_gap(&self) -> u64 {
        match self.kind {
            VmaKind::Stack => self.start.saturating_sub(STACK_GUARD_GAP),
            _ => self.start,
        }
    }

    /// Splits at `at` (page-aligned, strictly inside): `self` keeps `[start, at)`, the
    /// returned area is `[at, end)` with its backing offset advanced.
    pub fn split_off(&mut self, at: u64) -> Vma {
        let mut upper = self.clone();
        upper.start = at;
        upper.kind = self.kind.advanced(at - self.start);
        self.end = at;
        upper
    }

    /// Whether `next` (starting at `self.end`) may be merged into this area.
    fn mergeable_with(&self, next: &Vma) -> bool {
        self.end == next.start
            && matches!((&self.kind, &next.kind), (VmaKind::Anon, VmaKind::Anon))
            && self.prot == next.prot
            && self.max_prot == next.max_prot
            && self.dont_fork == next.dont_fork
            && self.wipe_on_fork == next.wipe_on_fork
    }
}

/// Rounds `v` up to a page boundary; `None` on overflow.
pub fn page_align_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(|x| x & !(PAGE_SIZE - 1))
}

/// Rounds `v` down to a page boundary.
pub fn page_align_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

/// The areas of one address space, keyed by start address.
#[derive(Clone, Default)]
pub struct VmaSet {
    map: BTreeMap<u64, Vma>,
}

impl VmaSet {
    /// An empty set.
    pub fn new() -> Self {
        VmaSet { map: BTreeMap::new() }
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no areas.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every area, ascending.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.map.values()
    }

    /// The area containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.map.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    /// The area containing `addr`, mutable.
    pub fn find_mut(&mut self, addr: u64) -> Option<&mut Vma> {
        self.map.range_mut(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    /// The first area ending above `addr` (Linux's `find_vma`).
    pub fn first_ending_after(&self, addr: u64) -> Option<&Vma> {
        if let Some(v) = self.find(addr) {
            return Some(v);
        }
        self.map.range(addr..).next().map(|(_, v)| v)
    }

    /// The last area starting below `addr`.
    pub fn last_before(&self, addr: u64) -> Option<&Vma> {
        self.map.range(..addr).next_back().map(|(_, v)| v)
    }

    /// Whether any area intersects `[start, end)`.
    pub fn intersects(&self, start: u64, end: u64) -> bool {
        self.first_ending_after(start).is_some_and(|v| v.start < end)
    }

    /// Areas intersecting `[start, end)`, ascending.
    pub fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first = self.find(start).map_or(start, |v| v.start);
        self.map.range(first..end.max(first)).map(|(_, v)| v).filter(move |v| v.end > start)
    }

    /// Inserts an area; `EEXIST` if it overlaps one (callers free the range first),
    /// `ENOMEM` past [`MAX_MAP_COUNT`].
    pub fn insert(&mut self, vma: Vma) -> KResult<()> {
        if vma.start >= vma.end || self.intersects(vma.start, vma.end) {
            return Err(Errno::EEXIST);
        }
        if self.map.len() >= MAX_MAP_COUNT {
            return Err(Errno::ENOMEM);
        }
        self.map.insert(vma.start, vma);
        Ok(())
    }

    /// Makes `addr` an area boundary (splits the area straddling it, if any).
    pub fn split_at(&mut self, addr: u64) -> KResult<()> {
        let Some(v) = self.find_mut(addr) else { return Ok(()) };
        if v.start == addr {
            return Ok(());
        }
        let upper = v.split_off(addr);
        if self.map.len() >= MAX_MAP_COUNT {
            // Undo: give the upper part back.
            if let Some(v) = self.find_mut(addr - 1) {
                v.end = upper.end;
            }
            return Err(Errno::ENOMEM);
        }
        self.map.insert(upper.start, upper);
        Ok(())
    }

    /// Removes the parts of every area inside `[start, end)` (splitting at both ends) and
    /// returns them, ascending.
    pub fn remove_range(&mut self, start: u64, end: u64) -> KResult<Vec<Vma>> {
        if end <= start {
            return Ok(Vec::new());
        }
        self.split_at(start)?;
        self.split_at(end)?;
        let keys: Vec<u64> = self.map.range(start..end).map(|(k, _)| *k).collect();
        Ok(keys.into_iter().filter_map(|k| self.map.remove(&k)).collect())
    }

    /// Removes the area starting exactly at `start`.
    pub fn remove(&mut self, start: u64) -> Option<Vma> {
        self.map.remove(&start)
    }

    /// Merges compatible anonymous neighbours around `[start, end)`.
    pub fn merge_around(&mut self, start: u64, end: u64) {
        let from = self.last_before(start).map_or(start, |v| v.start);
        let mut cur = from;
        while let Some((&k, v)) = self.map.range(cur..).next() {
            if k > end {
                break;
            }
            let vend = v.end;
            let next_ok = self.map.get(&vend).is_some_and(|n| v.mergeable_with(n));
            if next_ok {
                if let Some(n) = self.map.remove(&vend) {
                    if let Some(v) = self.map.get_mut(&k) {
                        v.end = n.end;
                    }
                }
                continue;
            }
            cur = k + 1;
        }
    }

    /// Linux's `get_unmapped_area` for an area of `len` bytes (page-aligned, non-zero):
    /// `hint` (page-aligned, or 0 for none) when `[hint, hint+len)` is free, else the highest
    /// free range below [`MMAP_BASE`], else the lowest above [`TASK_UNMAPPED_BASE`]; `ENOMEM`
    /// when nothing fits.
    pub fn unmapped_area(&self, hint: u64, len: u64) -> KResult<u64> {
        if len == 0 || len > TASK_SIZE - MMAP_MIN_ADDR {
            return Err(Errno::ENOMEM);
        }
        if hint != 0 && hint >= MMAP_MIN_ADDR && hint <= TASK_SIZE - len && self.range_free(hint, hint + len) {
            return Ok(hint);
        }
        if let Some(a) = self.top_down(len, MMAP_MIN_ADDR, MMAP_BASE) {
            return Ok(a);
        }
        self.bottom_up(len, TASK_UNMAPPED_BASE, TASK_SIZE).ok_or(Errno::ENOMEM)
    }

    /// Placement for x86_64's `MAP_32BIT`: bottom-up in `[1 GiB, 2 GiB)` (Linux's
    /// `find_start_end`), the hint first when free and ending below 2 GiB; `ENOMEM` when
    /// nothing fits.
    pub fn unmapped_area_32bit(&self, hint: u64, len: u64) -> KResult<u64> {
        const BEGIN: u64 = 0x4000_0000;
        const END: u64 = 0x8000_0000;
        if len == 0 || len > END - BEGIN {
            return Err(Errno::ENOMEM);
        }
        if hint != 0 && hint <= END - len && self.range_free(hint, hint + len) {
            return Ok(hint);
        }
        self.bottom_up(len, BEGIN, END).ok_or(Errno::ENOMEM)
    }

    /// Whether `[start, end)` is free, counting stack guard gaps.
    pub fn range_free(&self, start: u64, end: u64) -> bool {
        self.first_ending_after(start).is_none_or(|v| end <= v.start_gap())
    }

    /// The free gaps `[lo, hi)` between areas (with guard gaps), clipped to `[low, high)`.
    fn gaps(&self, low: u64, high: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut prev_end = low;
        for v in self.map.values() {
            let gap_hi = v.start_gap().min(high);
            if gap_hi > prev_end {
                out.push((prev_end, gap_hi));
            }
            prev_end = prev_end.max(v.end);
            if prev_end >= high {
                return out;
            }
        }
        if high > prev_end {
            out.push((prev_end, high));
        }
        out
    }

    fn top_down(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        self.gaps(low, high).into_iter().rev().find(|(lo, hi)| hi - lo >= len).map(|(_, hi)| hi - len)
    }

    fn bottom_up(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        self.gaps(low, high).into_iter().find(|(lo, hi)| hi - lo >= len).map(|(lo, _)| lo)
    }
}
