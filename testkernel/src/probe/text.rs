//! Kernel text access for the probe engine (Linux `text_poke` and `copy_from_kernel_nofault`
//! on text).
//!
//! The kernel image is mapped writable and executable (one `PT_LOAD` with RWX, 2 MiB pages
//! with W set in `arch/entry.rs`' boot tables, which the final tables keep), so a poke is
//! plain volatile byte stores. The kernel has one CPU and runs with interrupts off, so no
//! other code runs while bytes change; a self-modifying store is seen by the next
//! instruction fetch on the same CPU (x86 snoops its own stores), and the `iretq` that
//! ends every trap serializes.

use core::ptr::addr_of;
use core::sync::atomic::{compiler_fence, Ordering};

use syscall_abi::Errno;

use crate::KResult;

extern "C" {
    static _stext: u8;
    static _etext: u8;
    static __kernel_start: u8;
    static __load_end: u8;
}

/// `[start, end)` of the kernel's code (`.text`, with the instruction slots).
pub fn text_range() -> (u64, u64) {
    (addr_of!(_stext) as u64, addr_of!(_etext) as u64)
}

/// `[start, end)` of the loaded kernel image (code, read-only data, data, kallsyms).
pub fn image_range() -> (u64, u64) {
    (addr_of!(__kernel_start) as u64, addr_of!(__load_end) as u64)
}

fn inside(range: (u64, u64), addr: u64, len: usize) -> bool {
    addr >= range.0 && addr.checked_add(len as u64).is_some_and(|end| end <= range.1)
}

/// Writes `bytes` at kernel text `addr`; `EFAULT` outside `.text`.
pub fn poke(addr: u64, bytes: &[u8]) -> KResult<()> {
    if !inside(text_range(), addr, bytes.len()) {
        return Err(Errno::EFAULT);
    }
    compiler_fence(Ordering::SeqCst);
    for (i, &b) in bytes.iter().enumerate() {
        // SAFETY: inside the kernel's text, which is mapped writable; one CPU, interrupts
        // off: nothing executes these bytes while they change.
        unsafe { ((addr + i as u64) as *mut u8).write_volatile(b) };
    }
    compiler_fence(Ordering::SeqCst);
    Ok(())
}

/// Reads kernel memory at `addr` into `buf`; `EFAULT` outside the loaded image.
pub fn read(addr: u64, buf: &mut [u8]) -> KResult<()> {
    if !inside(image_range(), addr, buf.len()) {
        return Err(Errno::EFAULT);
    }
    for (i, b) in buf.iter_mut().enumerate() {
        // SAFETY: inside the loaded kernel image, always mapped.
        *b = unsafe { ((addr + i as u64) as *const u8).read_volatile() };
    }
    Ok(())
}
