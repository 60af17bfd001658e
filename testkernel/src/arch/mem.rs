//! The kernel's virtual memory layout.

/// Where all physical memory is mapped (the direct map).
pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
/// Where the kernel image is linked (plus its physical address).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

/// The direct-map address of physical `pa`.
pub fn phys_to_virt(pa: u64) -> *mut u8 {
    (DIRECT_MAP_BASE + pa) as *mut u8
}

/// The physical address of a kernel-image address (statics, the boot page tables).
pub fn kernel_virt_to_phys(va: u64) -> u64 {
    va - KERNEL_VMA
}

/// The physical address of a direct-map address (heap memory).
pub fn direct_virt_to_phys(va: u64) -> u64 {
    va - DIRECT_MAP_BASE
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// The kernel image's physical range `[start, end)` (including its bss).
pub fn kernel_phys_range() -> (u64, u64) {
    // Linker-script symbols: only their addresses are taken.
    let (s, e) = (core::ptr::addr_of!(__kernel_start) as u64, core::ptr::addr_of!(__kernel_end) as u64);
    (kernel_virt_to_phys(s), kernel_virt_to_phys(e))
}
