//! The multiboot1 information structure: memory map, command line, modules (the initrd).
//!
//! Reference: the Multiboot Specification 0.6.96, section 3.3 "Boot information format".
//! Everything is read through the boot direct map (the first GiB, where QEMU puts it).

use super::mem::phys_to_virt;

/// `flags` bit: `cmdline` is valid.
const FLAG_CMDLINE: u32 = 1 << 2;
/// `flags` bit: `mods_count`/`mods_addr` are valid.
const FLAG_MODS: u32 = 1 << 3;
/// `flags` bit: `mmap_length`/`mmap_addr` are valid.
const FLAG_MMAP: u32 = 1 << 6;

/// The magic value a multiboot1 loader passes in EAX.
pub const BOOT_MAGIC: u32 = 0x2BAD_B002;

/// One usable or reserved physical range.
#[derive(Clone, Copy, Debug)]
pub struct MemRegion {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub len: u64,
    /// Usable RAM (multiboot type 1).
    pub usable: bool,
}

/// A boot module (the initrd): physical `[start, end)`.
#[derive(Clone, Copy, Debug)]
pub struct Module {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// The parts of the boot information this kernel uses.
pub struct BootInfo {
    /// Physical address of the structure itself.
    pub mbi: u64,
    flags: u32,
}

fn rd32(pa: u64) -> u32 {
    // SAFETY: the loader placed the structure in low memory, mapped by the boot direct
    // map; unaligned reads are fine on x86_64.
    unsafe { core::ptr::read_unaligned(phys_to_virt(pa) as *const u32) }
}

fn rd64(pa: u64) -> u64 {
    // SAFETY: as in `rd32`.
    unsafe { core::ptr::read_unaligned(phys_to_virt(pa) as *const u64) }
}

impl BootInfo {
    /// Reads the structure at physical `mbi`.
    pub fn new(mbi: u64) -> Self {
        BootInfo { mbi, flags: rd32(mbi) }
    }

    /// The kernel command line (bytes, without the NUL; at most 4095).
    pub fn cmdline(&self) -> &'static [u8] {
        if self.flags & FLAG_CMDLINE == 0 {
            return &[];
        }
        let pa = u64::from(rd32(self.mbi + 16));
        let p = phys_to_virt(pa) as *const u8;
        let mut n = 0;
        // SAFETY: the loader wrote a NUL-terminated string there, mapped by the direct map.
        while n < 4095 && unsafe { *p.add(n) } != 0 {
            n += 1;
        }
        // SAFETY: the `n` bytes just read; the loader's memory is never handed out (the
        // frame allocator reserves everything below the end of the kernel and modules).
        unsafe { core::slice::from_raw_parts(p, n) }
    }

    /// One past the highest byte of the loader's own data (command line, module list,
    /// memory map), so it can be kept away from the frame allocator.
    pub fn end_of_strings(&self) -> u64 {
        let mut end = 0;
        if self.flags & FLAG_CMDLINE != 0 {
            end = u64::from(rd32(self.mbi + 16)) + 4096;
        }
        if self.flags & FLAG_MODS != 0 {
            let count = u64::from(rd32(self.mbi + 20).min(16));
            let addr = u64::from(rd32(self.mbi + 24));
            end = end.max(addr + 16 * count);
            for i in 0..count {
                // The module's name string.
                end = end.max(u64::from(rd32(addr + i * 16 + 8)) + 4096);
            }
        }
        if self.flags & FLAG_MMAP != 0 {
            end = end.max(u64::from(rd32(self.mbi + 48)) + u64::from(rd32(self.mbi + 44)));
        }
        end
    }

    /// Calls `f` for every boot module.
    pub fn modules(&self, mut f: impl FnMut(Module)) {
        if self.flags & FLAG_MODS == 0 {
            return;
        }
        let count = rd32(self.mbi + 20);
        let addr = u64::from(rd32(self.mbi + 24));
        for i in 0..u64::from(count.min(16)) {
            let e = addr + i * 16;
            f(Module { start: u64::from(rd32(e)), end: u64::from(rd32(e + 4)) });
        }
    }

    /// Calls `f` for every memory-map entry.
    pub fn memory_map(&self, mut f: impl FnMut(MemRegion)) {
        if self.flags & FLAG_MMAP == 0 {
            // Only mem_lower/mem_upper: usable RAM from 1 MiB on.
            let upper_kib = u64::from(rd32(self.mbi + 8));
            f(MemRegion { base: 0x10_0000, len: upper_kib * 1024, usable: true });
            return;
        }
        let len = u64::from(rd32(self.mbi + 44));
        let addr = u64::from(rd32(self.mbi + 48));
        let mut at = addr;
        while at + 24 <= addr + len {
            let size = u64::from(rd32(at));
            let base = rd64(at + 4);
            let length = rd64(at + 12);
            let ty = rd32(at + 20);
            f(MemRegion { base, len: length, usable: ty == 1 });
            at += size + 4;
        }
    }
}
