//! [`AddressSpace`]: one process's user memory — its areas ([`VmaSet`]), the frames
//! resident in them, the page table ([`PageMapper`]) and the brk heap — with page-fault
//! resolution, `fork` copies and the [`UserMem`] implementation ([`UserSpace`]) through which
//! the kernel reads and writes user memory without ever taking a CPU fault on it.
//!
//! Pages are populated on first touch: anonymous ones zero-filled, file-private ones copied
//! from the file, device ones mapped to the device's frames, shared-anonymous ones to the
//! shared object's frames. `fork` copies private pages eagerly (no copy-on-write). The range
//! operations behind the mm syscalls live in `aspace_ops.rs`.
//!
//! Reference: Linux 6.1 arch/x86/mm/fault.c (`access_error`), mm/memory.c
//! (`handle_mm_fault`), mm/mmap.c (`expand_downwards`), kernel/fork.c (`dup_mmap`).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;

use spin::Mutex;
use syscall_abi::Errno;

use super::mapper::{FrameAllocator, PageMapper, PAGE_SIZE};
use super::vma::{page_align_down, Prot, Vma, VmaKind, VmaSet, STACK_GUARD_GAP, STACK_LIMIT, TASK_SIZE};
use crate::user::UserMem;
use crate::KResult;

/// Why a user access could not be satisfied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No area at the address (`SIGSEGV`, `SEGV_MAPERR`).
    Unmapped,
    /// The area forbids the access (`SIGSEGV`, `SEGV_ACCERR`).
    Protection,
    /// No frame could be allocated (Linux's OOM kill).
    OutOfMemory,
    /// A device area has no frame at that page (`SIGBUS`, `BUS_ADRERR`).
    Bus,
}

/// The kind of access a fault or copy needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read (any permission suffices on x86).
    Read,
    /// Write.
    Write,
    /// Instruction fetch.
    Exec,
    /// Kernel-internal write that ignores the area's permissions (`exec` loading).
    Force,
}

/// A resident page: the frame and whether this address space owns it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Page {
    pub(crate) pa: u64,
    pub(crate) owned: bool,
}

/// One process's user address space.
pub struct AddressSpace {
    pub(crate) vmas: VmaSet,
    pub(crate) pages: BTreeMap<u64, Page>,
    pub(crate) mapper: Box<dyn PageMapper>,
    pub(crate) frames: &'static dyn FrameAllocator,
    /// Start of the brk heap (page-aligned end of the executable's bss).
    pub(crate) brk_start: u64,
    /// Current program break (unaligned, as `brk` returns it).
    pub(crate) brk: u64,
    /// The argument strings `[start, end)` on the initial stack (`mm->arg_start/arg_end`).
    pub(crate) arg_range: (u64, u64),
    /// The environment strings `[start, end)` (`mm->env_start/env_end`).
    pub(crate) env_range: (u64, u64),
}

/// Copies `src` into frame `pa` at byte `off`; the range must lie inside the frame.
pub(crate) fn frame_write(frames: &dyn FrameAllocator, pa: u64, off: usize, src: &[u8]) {
    let in_frame = off.checked_add(src.len()).is_some_and(|end| end as u64 <= PAGE_SIZE);
    if !in_frame {
        return;
    }
    let base = frames.frame_ptr(pa);
    // SAFETY: `frame_ptr` gives a kernel pointer valid for PAGE_SIZE bytes of a frame this
    // address space owns or maps (allocated, or lent by a live device); `off + len` was
    // checked to stay inside it, and `src` is kernel memory that cannot overlap a frame we
    // write through the direct map while holding the address-space lock.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), base.add(off), src.len()) }
}

/// Copies from frame `pa` at byte `off` into `dst`; the range must lie inside the frame.
pub(crate) fn frame_read(frames: &dyn FrameAllocator, pa: u64, off: usize, dst: &mut [u8]) {
    let in_frame = off.checked_add(dst.len()).is_some_and(|end| end as u64 <= PAGE_SIZE);
    if !in_frame {
        dst.fill(0);
        return;
    }
    let base = frames.frame_ptr(pa);
    // SAFETY: as in `frame_write`: the pointer covers the frame, the range is inside it, and
    // `dst` is a distinct kernel buffer.
    unsafe { core::ptr::copy_nonoverlapping(base.add(off), dst.as_mut_ptr(), dst.len()) }
}

impl AddressSpace {
    /// An empty address space over a fresh page table.
    pub fn new(mapper: Box<dyn PageMapper>, frames: &'static dyn FrameAllocator) -> Self {
        AddressSpace {
            vmas: VmaSet::new(),
            pages: BTreeMap::new(),
            mapper,
            frames,
            brk_start: 0,
            brk: 0,
            arg_range: (0, 0),
            env_range: (0, 0),
        }
    }

    /// The areas, ascending.
    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.iter()
    }

    /// The area containing `addr`.
    pub fn find_vma(&self, addr: u64) -> Option<&Vma> {
        self.vmas.find(addr)
    }

    /// The page table (the arch code activates it on a context switch).
    pub fn mapper(&self) -> &dyn PageMapper {
        &*self.mapper
    }

    /// Number of resident pages (owned or lent).
    pub fn resident_pages(&self) -> usize {
        self.pages.len()
    }

    /// The start of the brk heap and the current break.
    pub fn brk_range(&self) -> (u64, u64) {
        (self.brk_start, self.brk)
    }

    /// Sets the brk heap's start (and the break) — `exec` calls it after loading.
    pub fn set_brk_start(&mut self, start: u64) {
        self.brk_start = start;
        self.brk = start;
    }

    /// `/proc/self/cmdline`: the argument strings as they are now in memory (NUL-separated;
    /// empty if unreadable), like Linux's `proc_pid_cmdline_read` without the setproctitle
    /// extension.
    pub fn cmdline(&mut self) -> alloc::vec::Vec<u8> {
        let (start, end) = self.arg_range;
        self.read_range(start, end)
    }

    /// `/proc/self/environ`: the environment strings as they are now in memory.
    pub fn environ(&mut self) -> alloc::vec::Vec<u8> {
        let (start, end) = self.env_range;
        self.read_range(start, end)
    }

    fn read_range(&mut self, start: u64, end: u64) -> alloc::vec::Vec<u8> {
        let Ok(len) = usize::try_from(end.saturating_sub(start)) else { return alloc::vec::Vec::new() };
        let mut buf = vec![0u8; len];
        match self.read_user(start, &mut buf) {
            Ok(()) => buf,
            Err(_) => alloc::vec::Vec::new(),
        }
    }

    /// Resolves a CPU page fault at `addr` (`write`: the access was a write; `exec`: an
    /// instruction fetch). `Ok` means the page is now mapped with the area's permissions
    /// and the instruction can be retried; `Err` means the process gets a signal.
    pub fn handle_fault(&mut self, addr: u64, write: bool, exec: bool) -> Result<(), Fault> {
        let access = if write {
            Access::Write
        } else if exec {
            Access::Exec
        } else {
            Access::Read
        };
        self.resolve(addr, access).map(|_| ())
    }

    /// The frame backing `addr` for an access of kind `access`, populating the page (and
    /// growing the stack) as needed.
    pub(crate) fn resolve(&mut self, addr: u64, access: Access) -> Result<u64, Fault> {
        if addr >= TASK_SIZE {
            return Err(Fault::Unmapped);
        }
        let va = page_align_down(addr);
        let vma = match self.vmas.find(addr) {
            Some(v) => v.clone(),
            None => self.grow_stack(va)?,
        };
        let allowed = match access {
            Access::Read => vma.prot.accessible(),
            Access::Write => vma.prot.contains(Prot::WRITE),
            Access::Exec => vma.prot.contains(Prot::EXEC),
            Access::Force => true,
        };
        if !allowed {
            return Err(Fault::Protection);
        }
        if let Some(p) = self.pages.get(&va).copied() {
            // Present already (a stale TLB entry, or a page just made accessible): make
            // sure the page table agrees with the area.
            if vma.prot.accessible() && self.mapper.translate(va).is_none_or(|(_, f)| f != vma.prot.pte()) {
                self.mapper.map(va, p.pa, vma.prot.pte()).map_err(|_| Fault::OutOfMemory)?;
                self.mapper.flush();
            }
            return Ok(p.pa);
        }
        self.populate_page(va, &vma)
    }

    /// Brings page `va` of `vma` in and maps it.
    fn populate_page(&mut self, va: u64, vma: &Vma) -> Result<u64, Fault> {
        let index = (va - vma.start) / PAGE_SIZE;
        let page = match &vma.kind {
            VmaKind::Device { source, pgoff, .. } => {
                let pa = pgoff.checked_add(index).and_then(|i| source.frame(i)).ok_or(Fault::Bus)?;
                Page { pa, owned: false }
            }
            VmaKind::SharedAnon { pages, pgoff } => {
                let pa = pgoff.checked_add(index).and_then(|i| pages.frame(i)).ok_or(Fault::OutOfMemory)?;
                Page { pa, owned: false }
            }
            VmaKind::File { file, offset, .. } => {
                let pa = self.frames.alloc_zeroed().ok_or(Fault::OutOfMemory)?;
                let at = offset.saturating_add(va - vma.start);
                let mut buf = vec![0u8; PAGE_SIZE as usize];
                let mut got = 0usize;
                // Past the end of the file the page stays zero (Linux would raise SIGBUS for
                // whole pages past EOF; a private copy just reads zeroes).
                while got < buf.len() {
                    match file.ops.read_at(at.saturating_add(got as u64), &mut buf[got..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n.min(buf.len() - got),
                    }
                }
                frame_write(self.frames, pa, 0, &buf[..got]);
                Page { pa, owned: true }
            }
            VmaKind::Anon | VmaKind::Stack | VmaKind::Heap | VmaKind::Image { .. } => {
                Page { pa: self.frames.alloc_zeroed().ok_or(Fault::OutOfMemory)?, owned: true }
            }
        };
        if vma.prot.accessible() {
            if let Err(_e) = self.mapper.map(va, page.pa, vma.prot.pte()) {
                if page.owned {
                    self.frames.free(page.pa);
                }
                return Err(Fault::OutOfMemory);
            }
        }
        self.pages.insert(va, page);
        Ok(page.pa)
    }

    /// Grows the stack area down to cover page `va` (Linux's `expand_downwards`): the next
    /// area above must be the stack, the stack stays within [`STACK_LIMIT`], and the guard
    /// gap to the area below is kept.
    fn grow_stack(&mut self, va: u64) -> Result<Vma, Fault> {
        let stack = match self.vmas.first_ending_after(va) {
            Some(v) if matches!(v.kind, VmaKind::Stack) && v.start > va => v.clone(),
            _ => return Err(Fault::Unmapped),
        };
        if stack.end - va > STACK_LIMIT {
            return Err(Fault::Unmapped);
        }
        if let Some(prev) = self.vmas.last_before(stack.start) {
            if prev.prot.accessible() && va - prev.end < STACK_GUARD_GAP {
                return Err(Fault::Unmapped);
            }
        }
        let mut grown = self.vmas.remove(stack.start).ok_or(Fault::Unmapped)?;
        grown.start = va;
        let out = grown.clone();
        self.vmas.insert(grown).map_err(|_| Fault::OutOfMemory)?;
        Ok(out)
    }

    /// Unmaps and releases every resident page in `[start, end)`.
    pub(crate) fn drop_pages(&mut self, start: u64, end: u64) {
        if end <= start {
            return;
        }
        let vas: alloc::vec::Vec<u64> = self.pages.range(start..end).map(|(va, _)| *va).collect();
        if vas.is_empty() {
            return;
        }
        for va in vas {
            if let Some(p) = self.pages.remove(&va) {
                self.mapper.unmap(va);
                if p.owned {
                    self.frames.free(p.pa);
                }
            }
        }
        self.mapper.flush();
    }

    /// Applies `vma`'s permissions to the page table for its resident pages (after an
    /// `mprotect`): accessible pages are (re)mapped, `PROT_NONE` ones unmapped (their frames
    /// stay resident).
    pub(crate) fn reprotect(&mut self, start: u64, end: u64, prot: Prot) -> KResult<()> {
        if end <= start {
            return Ok(());
        }
        let pages: alloc::vec::Vec<(u64, Page)> = self.pages.range(start..end).map(|(va, p)| (*va, *p)).collect();
        for (va, p) in pages {
            if prot.accessible() {
                if !self.mapper.protect(va, prot.pte()) {
                    self.mapper.map(va, p.pa, prot.pte())?;
                }
            } else {
                self.mapper.unmap(va);
            }
        }
        self.mapper.flush();
        Ok(())
    }

    /// Checks, without copying, that `len` bytes at `addr` are readable (or writable),
    /// faulting the pages in: `EFAULT` otherwise. Lets a caller refuse a bad destination
    /// before consuming data it could not give back (a pipe read).
    pub fn probe(&mut self, addr: u64, len: usize, write: bool) -> KResult<()> {
        if len == 0 {
            return Ok(());
        }
        let last = addr.checked_add(len as u64 - 1).ok_or(Errno::EFAULT)?;
        let access = if write { Access::Write } else { Access::Read };
        let mut va = page_align_down(addr);
        while va <= last {
            self.resolve(va.max(addr), access).map_err(|_| Errno::EFAULT)?;
            va = match va.checked_add(PAGE_SIZE) {
                Some(v) => v,
                None => break,
            };
        }
        Ok(())
    }

    /// Copies user memory at `addr` into `buf`; `EFAULT` for any byte not readable.
    pub fn read_user(&mut self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            let off = (at % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let pa = self.resolve(at, Access::Read).map_err(|_| Errno::EFAULT)?;
            frame_read(self.frames, pa, off, &mut buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Copies `buf` to user memory at `addr`; `EFAULT` for any byte not writable (the
    /// bytes before it are written, as in Linux).
    pub fn write_user(&mut self, addr: u64, buf: &[u8]) -> KResult<()> {
        self.write_with(addr, buf, Access::Write)
    }

    /// Writes `buf` at `addr` ignoring the areas' permissions (loading an executable into
    /// read-only segments); `EFAULT` outside every area.
    pub(crate) fn poke(&mut self, addr: u64, buf: &[u8]) -> KResult<()> {
        self.write_with(addr, buf, Access::Force)
    }

    fn write_with(&mut self, addr: u64, buf: &[u8], access: Access) -> KResult<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            let off = (at % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let pa = self.resolve(at, access).map_err(|f| match f {
                Fault::OutOfMemory if access == Access::Force => Errno::ENOMEM,
                _ => Errno::EFAULT,
            })?;
            frame_write(self.frames, pa, off, &buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// `fork`: a copy of this address space over the new page table `mapper`. Private pages
    /// are copied now; device and shared-anonymous pages are shared; `MADV_DONTFORK` areas
    /// are left out and `MADV_WIPEONFORK` ones start empty. `ENOMEM` when frames run out
    /// (everything allocated so far is released).
    pub fn fork_copy(&self, mapper: Box<dyn PageMapper>) -> KResult<AddressSpace> {
        let mut child = AddressSpace::new(mapper, self.frames);
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        child.arg_range = self.arg_range;
        child.env_range = self.env_range;
        let mut buf = vec![0u8; PAGE_SIZE as usize];
        for vma in self.vmas.iter() {
            if vma.dont_fork {
                continue;
            }
            child.vmas.insert(vma.clone())?;
            if vma.wipe_on_fork {
                continue;
            }
            let pages: alloc::vec::Vec<(u64, Page)> =
                self.pages.range(vma.start..vma.end).map(|(va, p)| (*va, *p)).collect();
            for (va, p) in pages {
                let page = if p.owned {
                    let pa = self.frames.alloc_zeroed().ok_or(Errno::ENOMEM)?;
                    frame_read(self.frames, p.pa, 0, &mut buf);
                    frame_write(self.frames, pa, 0, &buf);
                    Page { pa, owned: true }
                } else {
                    p
                };
                // Insert first so that the child's drop frees the frame if mapping fails.
                child.pages.insert(va, page);
                if vma.prot.accessible() {
                    child.mapper.map(va, page.pa, vma.prot.pte())?;
                }
            }
        }
        Ok(child)
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        self.drop_pages(0, u64::MAX);
    }
}

/// The [`UserMem`] of a process: locks its address space for each copy (callers never
/// hold that lock when calling a syscall helper).
pub struct UserSpace<'a>(pub &'a Mutex<AddressSpace>);

impl UserMem for UserSpace<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        self.0.lock().read_user(addr, buf)
    }

    fn write(&self, addr: u64, buf: &[u8]) -> KResult<()> {
        self.0.lock().write_user(addr, buf)
    }

    fn writable_prefix(&self, addr: u64, len: usize) -> usize {
        let mut aspace = self.0.lock();
        let mut done = 0usize;
        while done < len {
            let at = addr.wrapping_add(done as u64);
            let n = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(len - done);
            if aspace.probe(at, n, true).is_err() {
                break;
            }
            done += n;
        }
        done
    }
}

#[cfg(test)]
mod tests;
