//! `kmain`: the first Rust code, called by the entry assembly in the higher half with the
//! boot page tables still active. Brings up memory, traps, the timer and the scheduler's
//! machine parts, then hands over to the boot sequence ([`crate::boot::start`]).

use super::mem::{kernel_phys_range, phys_to_virt};
use super::multiboot::{BootInfo, BOOT_MAGIC};
use super::{qemu, serial};
use crate::mm::frame::FRAMES;
use crate::mm::{heap, paging};

/// Kernel heap size.
const HEAP_BYTES: u64 = 64 << 20;

/// What the loader handed over, for the boot sequence.
pub struct BootParams {
    /// The kernel command line.
    pub cmdline: &'static str,
    /// The initramfs bytes (the first multiboot module; empty without `-initrd`). Its
    /// frames are never handed out.
    pub initrd: &'static [u8],
}

/// The Rust entry point (from `entry.rs`): `magic` and `mbi` are the loader's EAX and EBX.
#[no_mangle]
pub extern "C" fn kmain(magic: u32, mbi: u32) -> ! {
    serial::init();
    serial::init_logger(log::LevelFilter::Info);
    if magic != BOOT_MAGIC {
        log::error!("not booted by a multiboot1 loader (magic {magic:#x})");
        qemu::exit(qemu::EXIT_PANIC);
    }
    let info = BootInfo::new(u64::from(mbi));
    let cmdline = core::str::from_utf8(info.cmdline()).unwrap_or("");

    // Everything the loader placed (kernel, modules, the boot information and its strings)
    // lies below `reserved_end` (QEMU packs them after the kernel): no frame below it is
    // handed out.
    let (_, kernel_end) = kernel_phys_range();
    let mut reserved_end = kernel_end.max(u64::from(mbi) + 4096);
    let mut initrd: &'static [u8] = &[];
    info.modules(|m| {
        reserved_end = reserved_end.max(m.end);
        if initrd.is_empty() && m.end > m.start {
            // SAFETY: the module's bytes are direct-mapped and their frames are reserved
            // forever (below `reserved_end`), so the slice is valid for 'static.
            initrd = unsafe { core::slice::from_raw_parts(phys_to_virt(m.start), (m.end - m.start) as usize) };
        }
    });
    reserved_end = reserved_end.max(info.end_of_strings());
    let mut regions = [(0u64, 0u64); 32];
    let mut n = 0;
    info.memory_map(|r| {
        if r.usable && n < regions.len() {
            regions[n] = (r.base, r.len);
            n += 1;
        }
    });
    crate::mm::frame::init(regions[..n].iter().copied(), reserved_end.next_multiple_of(4096));
    paging::init_kernel_tables(FRAMES.max_phys());
    let Some(heap_pa) = FRAMES.alloc_contiguous(HEAP_BYTES / 4096) else { panic!("no memory for the kernel heap") };
    // SAFETY: freshly carved, direct-mapped frames never handed out again.
    unsafe { heap::init(phys_to_virt(heap_pa), HEAP_BYTES as usize) };
    let (total, used) = FRAMES.stats();
    log::info!(
        "testkernel: {} MiB RAM, {} MiB free, heap {} MiB, initrd {} bytes",
        total / 256,
        (total - used) / 256,
        HEAP_BYTES >> 20,
        initrd.len()
    );
    super::init_machine();
    crate::boot::start(BootParams { cmdline, initrd })
}
