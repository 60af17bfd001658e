//! The `syscall` instruction: MSR setup and the entry stub. One CPU, so no `swapgs`: the
//! entry stashes the user stack pointer in a static and switches to the running task's
//! kernel stack (also TSS.rsp0), builds a `pt_regs` frame like the interrupt stubs, calls
//! [`crate::syscall::syscall_dispatch`] and leaves through `trap_return` (`iretq`, which
//! restores RCX/R11-independent state and is safe for any return address).

use core::ptr::addr_of_mut;

use super::cpu::{rdmsr, wrmsr};
use super::gdt::{KERNEL_CS, USER32_CS};

/// Top of the running task's kernel stack (read by the entry stub).
#[no_mangle]
static mut SYSCALL_KERNEL_RSP: u64 = 0;
/// Scratch for the user stack pointer during entry (interrupts are masked by FMASK).
#[no_mangle]
static mut SYSCALL_USER_RSP: u64 = 0;

core::arch::global_asm!(
    r#"
    .section .text.syscall, "ax"
    .global syscall_entry
syscall_entry:
    movq %rsp, SYSCALL_USER_RSP(%rip)
    movq SYSCALL_KERNEL_RSP(%rip), %rsp
    pushq $0x2b
    pushq SYSCALL_USER_RSP(%rip)
    pushq %r11
    pushq $0x33
    pushq %rcx
    pushq %rax
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq $-38
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    subq $8, %rsp
    call syscall_dispatch
    addq $8, %rsp
    jmp trap_return
    "#,
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
}

const MSR_EFER: u32 = 0xc000_0080;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_FMASK: u32 = 0xc000_0084;

/// Enables `syscall` (EFER.SCE), with IF, TF, DF, AC and NT masked on entry.
pub fn init() {
    // SAFETY: the selectors match the GDT; the entry stub is complete.
    unsafe {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
        wrmsr(MSR_STAR, (u64::from(USER32_CS) << 48) | (u64::from(KERNEL_CS) << 32));
        wrmsr(MSR_LSTAR, syscall_entry as usize as u64);
        wrmsr(MSR_FMASK, 0x4_7700);
    }
}

/// Sets the kernel stack the next `syscall` switches to.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: single CPU; only the entry stub reads it, with interrupts masked.
    unsafe { *addr_of_mut!(SYSCALL_KERNEL_RSP) = top };
}

/// The address in LSTAR.
pub fn entry_address() -> u64 {
    syscall_entry as usize as u64
}

static QUIRK_SEEN: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// A `syscall` that arrived as a user-mode page fault on the entry stub's first
/// instruction: seen under nested KVM on AMD hosts, where the instruction is emulated with
/// RIP/RCX/R11/RFLAGS updated but CS/SS left at the user selectors, so the fetch of the
/// supervisor-only entry page faults at CPL 3. The frame then already sits on the kernel
/// stack (TSS.rsp0) with every user register: complete the system call from it.
pub fn syscall_from_fault(f: &mut super::trap::TrapFrame) {
    if !QUIRK_SEEN.swap(true, core::sync::atomic::Ordering::Relaxed) {
        log::info!("syscall: entry arrives as a page fault (emulated syscall); handling it in the fault path");
    }
    f.rip = f.rcx;
    f.eflags = f.r11 & !0x1_0000;
    f.orig_rax = f.rax;
    f.rax = (-38i64) as u64;
    crate::syscall::syscall_dispatch(f);
}
