//! The x86_64 machine: boot, console, traps, timer, paging, context switch, `syscall`.
//! Only built for the kernel target (`target_os = "none"`).
//!
//! Interrupts: the kernel always runs with interrupts disabled (`syscall` masks IF, traps
//! use interrupt gates, nothing re-enables them); they are taken only in user mode and in
//! the idle task's `sti; hlt`. So an interrupt handler never finds a kernel lock held and
//! may touch scheduler state, and no lock needs to mask interrupts — which matters under
//! virtualisation where `cli`/`sti`/`pushf` trap (several microseconds each under PVM).

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
