//! The x86_64 machine: boot, console, traps, timer, paging, context switch, `syscall`.
//! Only built for the kernel target (`target_os = "none"`).

pub mod boot;
pub mod context;
pub mod cpu;
mod entry;
pub mod gdt;
pub mod idt;
pub mod mem;
pub mod multiboot;
mod panic;
pub mod pic;
pub mod qemu;
pub mod rtc;
pub mod serial;
pub mod syscall_entry;
pub mod timer;
pub mod trap;

/// Descriptor tables, FPU, `syscall`, interrupt controller and timer (interrupts stay off
/// until the scheduler's idle loop).
pub fn init_machine() {
    gdt::init();
    idt::init();
    context::init_fpu();
    syscall_entry::init();
    pic::init();
    timer::init();
}
