//! x86_64 4-level page tables: the kernel half (direct map of all RAM with 2 MiB pages at
//! 0xffff_8000_0000_0000, the kernel image at 0xffff_ffff_8000_0000), built once at boot
//! and shared by every address space, and [`X86PageTable`], one user address space's PML4
//! implementing [`PageMapper`].

use core::sync::atomic::{AtomicU64, Ordering};

use syscall_abi::Errno;

use super::frame::FRAMES;
use super::mapper::{FrameAllocator, PageMapper, PteFlags, PAGE_SIZE};
use crate::arch::cpu;
use crate::arch::mem::{kernel_virt_to_phys, phys_to_virt};
use crate::KResult;

const P: u64 = 1;
const W: u64 = 1 << 1;
const U: u64 = 1 << 2;
const PS: u64 = 1 << 7;
/// Accessed and dirty, preset on every kernel entry (as Linux does: no A/D updates of
/// shared kernel tables, which nested shadow paging mishandles right after `syscall`).
const AD: u64 = 0x60;
const G: u64 = 1 << 8;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;
/// First PML4 slot of the kernel half.
const KERNEL_SLOT: usize = 256;
/// End of user space (exclusive).
const USER_END: u64 = 0x0000_8000_0000_0000;

/// Start of the vmalloc area: user-mappable kernel pages (bpf maps, ring buffers), at
/// Linux's `VMALLOC_START`.
pub const VMALLOC_BASE: u64 = 0xffff_c900_0000_0000;
/// Size of the vmalloc area (its PDPT is created at boot so that every address space,
/// which copies the kernel half's PML4 entries, sees later mappings).
pub const VMALLOC_SIZE: u64 = 64 << 30;

/// Physical address of the kernel's PML4 (the template of every address space's kernel
/// half; also the page table of kernel-only tasks).
static KERNEL_PML4: AtomicU64 = AtomicU64::new(0);

extern "C" {
    static boot_pdpt_high: u8;
}

fn table(pa: u64) -> *mut u64 {
    phys_to_virt(pa) as *mut u64
}

fn entry(pa: u64, i: usize) -> u64 {
    // SAFETY: `pa` is a page-table frame (direct-mapped, 512 entries) and `i < 512`.
    unsafe { table(pa).add(i).read_volatile() }
}

fn set_entry(pa: u64, i: usize, v: u64) {
    // SAFETY: as in `entry`; page tables are only written by this module.
    unsafe { table(pa).add(i).write_volatile(v) }
}

/// Builds the kernel page tables (direct map of `[0, max_phys)` with 2 MiB pages, no-exec;
/// the kernel image through the boot PDPT) and switches to them, dropping the boot
/// identity map.
pub fn init_kernel_tables(max_phys: u64) {
    let Some(pml4) = FRAMES.alloc_zeroed() else { panic!("no memory for the kernel page table") };
    let gib = max_phys.div_ceil(1 << 30).clamp(1, 512);
    let Some(pdpt) = FRAMES.alloc_zeroed() else { panic!("no memory for the direct map") };
    for g in 0..gib {
        let Some(pd) = FRAMES.alloc_zeroed() else { panic!("no memory for the direct map") };
        for i in 0..512u64 {
            set_entry(pd, i as usize, ((g << 30) + (i << 21)) | P | W | AD | PS | G | NX);
        }
        set_entry(pdpt, g as usize, pd | P | W | AD);
    }
    set_entry(pml4, KERNEL_SLOT, pdpt | P | W | AD);
    let high = kernel_virt_to_phys(core::ptr::addr_of!(boot_pdpt_high) as u64);
    set_entry(pml4, 511, high | P | W | AD);
    let Some(vpdpt) = FRAMES.alloc_zeroed() else { panic!("no memory for the vmalloc area") };
    set_entry(pml4, ((VMALLOC_BASE >> 39) & 511) as usize, vpdpt | P | W | AD);
    KERNEL_PML4.store(pml4, Ordering::SeqCst);
    // SAFETY: the new PML4 maps the kernel image (same PDPT as now) and the direct map;
    // nothing uses the identity map any more (the stack and all data are in the high half).
    unsafe { cpu::set_cr3(pml4) };
}

/// The kernel's PML4 (for tasks without a user address space).
pub fn kernel_pml4() -> u64 {
    KERNEL_PML4.load(Ordering::Relaxed)
}

/// The physical address behind kernel virtual address `va` in the shared kernel half
/// (direct map, kernel image, vmalloc area), walking the kernel page tables in software;
/// `None` for user addresses and holes. Follows 1 GiB and 2 MiB leaves.
pub fn kernel_translate(va: u64) -> Option<u64> {
    let root = KERNEL_PML4.load(Ordering::Relaxed);
    if va < 0xffff_8000_0000_0000 || root == 0 {
        return None;
    }
    let mut table_pa = root;
    for (level, shift) in [(4u8, 39u32), (3, 30), (2, 21), (1, 12)] {
        let e = entry(table_pa, ((va >> shift) & 511) as usize);
        if e & P == 0 {
            return None;
        }
        let leaf = level == 1 || ((level == 3 || level == 2) && e & PS != 0);
        if leaf {
            let page_mask = (1u64 << shift) - 1;
            return Some((e & ADDR & !page_mask) | (va & page_mask));
        }
        table_pa = e & ADDR;
    }
    None
}

/// Linux `copy_from_kernel_nofault`: copies kernel memory at `src` into `dst` page by page
/// through the direct map, after checking each page is mapped; an unmapped byte → `EFAULT`
/// (nothing is touched that could fault).
pub fn read_kernel_nofault(dst: &mut [u8], src: u64) -> KResult<()> {
    let mut done = 0usize;
    while done < dst.len() {
        let va = src.checked_add(done as u64).ok_or(Errno::EFAULT)?;
        let pa = kernel_translate(va).ok_or(Errno::EFAULT)?;
        let in_page = usize::try_from(PAGE_SIZE - (va & (PAGE_SIZE - 1))).unwrap_or(1);
        let n = in_page.min(dst.len() - done);
        // SAFETY: `pa..pa + n` lies in one mapped page, reachable through the direct map
        // (which covers all RAM); `dst` is a distinct kernel buffer.
        unsafe { core::ptr::copy_nonoverlapping(phys_to_virt(pa), dst[done..].as_mut_ptr(), n) };
        done += n;
    }
    Ok(())
}

/// One user address space: a PML4 whose kernel half is the shared kernel mappings.
pub struct X86PageTable {
    pml4: u64,
}

impl X86PageTable {
    /// An empty user half (`ENOMEM` if no frame is left).
    pub fn new() -> KResult<Self> {
        let pml4 = FRAMES.alloc_zeroed().ok_or(Errno::ENOMEM)?;
        let k = kernel_pml4();
        for i in KERNEL_SLOT..512 {
            set_entry(pml4, i, entry(k, i));
        }
        Ok(X86PageTable { pml4 })
    }

    /// The PML4's physical address (what CR3 gets).
    pub fn root(&self) -> u64 {
        self.pml4
    }

    fn is_active(&self) -> bool {
        cpu::cr3() & ADDR == self.pml4
    }

    /// The leaf entry's table and index for `va`, creating tables when `create`.
    fn walk(&mut self, va: u64, create: bool) -> KResult<Option<(u64, usize)>> {
        if va >= USER_END {
            return Err(Errno::EFAULT);
        }
        let mut t = self.pml4;
        for level in [39u32, 30, 21] {
            let i = ((va >> level) & 511) as usize;
            let e = entry(t, i);
            if e & P == 0 {
                if !create {
                    return Ok(None);
                }
                let f = FRAMES.alloc_zeroed().ok_or(Errno::ENOMEM)?;
                set_entry(t, i, f | P | W | U);
                t = f;
            } else {
                t = e & ADDR;
            }
        }
        Ok(Some((t, ((va >> 12) & 511) as usize)))
    }

    fn lookup(&self, va: u64) -> Option<u64> {
        if va >= USER_END {
            return None;
        }
        let mut t = self.pml4;
        for level in [39u32, 30, 21] {
            let e = entry(t, ((va >> level) & 511) as usize);
            if e & P == 0 {
                return None;
            }
            t = e & ADDR;
        }
        let e = entry(t, ((va >> 12) & 511) as usize);
        (e & P != 0).then_some(e)
    }

    fn invalidate(&self, va: u64) {
        if self.is_active() {
            cpu::invlpg(va);
        }
    }
}

fn leaf(pa: u64, flags: PteFlags) -> u64 {
    let mut e = (pa & ADDR) | P | U;
    if flags.contains(PteFlags::WRITE) {
        e |= W;
    }
    if !flags.contains(PteFlags::EXEC) {
        e |= NX;
    }
    e
}

fn flags_of(e: u64) -> PteFlags {
    let mut f = PteFlags::empty();
    if e & W != 0 {
        f |= PteFlags::WRITE;
    }
    if e & NX == 0 {
        f |= PteFlags::EXEC;
    }
    f
}

impl PageMapper for X86PageTable {
    fn map(&mut self, va: u64, pa: u64, flags: PteFlags) -> KResult<()> {
        let (t, i) = self.walk(va & !(PAGE_SIZE - 1), true)?.ok_or(Errno::ENOMEM)?;
        let old = entry(t, i);
        set_entry(t, i, leaf(pa, flags));
        if old & P != 0 {
            self.invalidate(va);
        }
        Ok(())
    }

    fn unmap(&mut self, va: u64) -> Option<u64> {
        let (t, i) = self.walk(va & !(PAGE_SIZE - 1), false).ok()??;
        let old = entry(t, i);
        if old & P == 0 {
            return None;
        }
        set_entry(t, i, 0);
        self.invalidate(va);
        Some(old & ADDR)
    }

    fn protect(&mut self, va: u64, flags: PteFlags) -> bool {
        let Ok(Some((t, i))) = self.walk(va & !(PAGE_SIZE - 1), false) else { return false };
        let old = entry(t, i);
        if old & P == 0 {
            return false;
        }
        set_entry(t, i, leaf(old & ADDR, flags));
        self.invalidate(va);
        true
    }

    fn translate(&self, va: u64) -> Option<(u64, PteFlags)> {
        let e = self.lookup(va)?;
        Some(((e & ADDR) | (va & (PAGE_SIZE - 1)), flags_of(e)))
    }

    fn flush(&self) {
        if self.is_active() {
            // SAFETY: reloading the active PML4 only flushes the TLB.
            unsafe { cpu::set_cr3(self.pml4) };
        }
    }
}

/// Frees the tables below `t` (a table at `level`: 39 = PML4, 30 = PDPT, 21 = PD), not `t`
/// itself; in the PML4 only the user half.
fn free_subtree(t: u64, level: u32) {
    let end = if level == 39 { KERNEL_SLOT } else { 512 };
    for i in 0..end {
        let e = entry(t, i);
        if e & P == 0 {
            continue;
        }
        if level > 21 {
            free_subtree(e & ADDR, level - 9);
        }
        FRAMES.free(e & ADDR);
    }
}

impl Drop for X86PageTable {
    /// Frees the user half's table frames (not the mapped frames: the address space owns
    /// them and unmaps them first).
    fn drop(&mut self) {
        if self.is_active() {
            // SAFETY: the kernel PML4 maps the whole kernel half; switch away before freeing.
            unsafe { cpu::set_cr3(kernel_pml4()) };
        }
        free_subtree(self.pml4, 39);
        FRAMES.free(self.pml4);
    }
}

/// The kernel half of the page tables for the vmalloc area (implements
/// `bpf::vmalloc::KernelPageMap`).
pub struct KernelTables;

impl crate::bpf::vmalloc::KernelPageMap for KernelTables {
    fn map_kernel(&self, va: u64, pa: u64) -> KResult<()> {
        if !(VMALLOC_BASE..VMALLOC_BASE + VMALLOC_SIZE).contains(&va) {
            return Err(Errno::EINVAL);
        }
        let mut t = kernel_pml4();
        for level in [39u32, 30, 21] {
            let i = ((va >> level) & 511) as usize;
            let e = entry(t, i);
            if e & P == 0 {
                let f = FRAMES.alloc_zeroed().ok_or(Errno::ENOMEM)?;
                set_entry(t, i, f | P | W | AD);
                t = f;
            } else {
                t = e & ADDR;
            }
        }
        set_entry(t, ((va >> 12) & 511) as usize, (pa & ADDR) | P | W | AD | G | NX);
        cpu::invlpg(va);
        Ok(())
    }

    fn unmap_kernel(&self, va: u64) {
        let mut t = kernel_pml4();
        for level in [39u32, 30, 21] {
            let e = entry(t, ((va >> level) & 511) as usize);
            if e & P == 0 {
                return;
            }
            t = e & ADDR;
        }
        set_entry(t, ((va >> 12) & 511) as usize, 0);
        cpu::invlpg(va);
    }
}
