//! Task switching: the callee-saved-register switch between kernel stacks, the first entry
//! of a new task, the user FPU/SSE state (`fxsave`) and the FS/GS bases.

use core::arch::{asm, global_asm};

use super::cpu::{rdmsr, wrmsr};
use super::trap::TrapFrame;

global_asm!(
    r#"
    .section .text.switch, "ax"
    .global context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .global task_first_entry
task_first_entry:
    movq %r13, %rdi
    subq $8, %rsp
    call *%r12
    addq $8, %rsp
    jmp trap_return
    "#,
    options(att_syntax)
);

extern "C" {
    fn context_switch(save_rsp: *mut u64, next_rsp: u64);
    static task_first_entry: u8;
}

/// Saves the running task's callee-saved registers and stack pointer into `*save_rsp` and
/// resumes the task whose saved stack pointer is `next_rsp`.
///
/// # Safety
/// Interrupts must be off; `next_rsp` must come from a previous switch or
/// [`init_stack`]; `save_rsp` must stay valid until this task is resumed.
pub unsafe fn switch(save_rsp: *mut u64, next_rsp: u64) {
    // SAFETY: the caller upholds the contract above.
    unsafe { context_switch(save_rsp, next_rsp) }
}

/// Prepares a new kernel stack (`top`, 16-aligned): `frame` becomes the user registers
/// the task returns to through `trap_return`, after `entry(arg)` runs on the new stack
/// (kernel-only tasks never return from `entry`). Returns the stack pointer to resume.
///
/// # Safety
/// `[top - 4096, top)` must be writable memory owned by the new task.
pub unsafe fn init_stack(top: u64, frame: &TrapFrame, entry: extern "C" fn(u64), arg: u64) -> u64 {
    let fsz = core::mem::size_of::<TrapFrame>() as u64;
    let frame_at = top - fsz;
    let first = core::ptr::addr_of!(task_first_entry) as u64;
    // Switch frame (lowest first): r15, r14, r13, r12, rbx, rbp, return address.
    let regs: [u64; 7] = [0, 0, arg, entry as usize as u64, 0, 0, first];
    let sp = frame_at - 8 * regs.len() as u64;
    // SAFETY: both writes are inside the new task's stack (caller's contract).
    unsafe {
        core::ptr::write(frame_at as *mut TrapFrame, *frame);
        core::ptr::write(sp as *mut [u64; 7], regs);
    }
    sp
}

/// A task's user FPU/SSE registers (`fxsave` format).
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// The state after `execve`: x87 control word 0x37f, MXCSR 0x1f80, everything else 0.
    pub fn initial() -> Self {
        let mut s = FpuState([0; 512]);
        s.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        s.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        s
    }

    /// The `fxsave` image.
    pub fn bytes(&self) -> &[u8; 512] {
        &self.0
    }

    /// The `fxsave` image, writable (signal return; MXCSR must be sanitized by the writer).
    pub fn bytes_mut(&mut self) -> &mut [u8; 512] {
        &mut self.0
    }

    /// Saves the CPU's current FPU/SSE registers here.
    pub fn save(&mut self) {
        // SAFETY: 512 writable bytes, 16-aligned; CR4.OSFXSR is set at boot.
        unsafe { asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) }
    }

    /// Loads these registers into the CPU.
    pub fn restore(&self) {
        // SAFETY: 512 readable bytes, 16-aligned, in fxsave format (reserved MXCSR bits
        // are never set: the state only comes from `initial` or `save`).
        unsafe { asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack, readonly)) }
    }
}

const MSR_FS_BASE: u32 = 0xc000_0100;
const MSR_GS_BASE: u32 = 0xc000_0101;

/// The user FS base (TLS pointer).
pub fn fs_base() -> u64 {
    rdmsr(MSR_FS_BASE)
}

/// Sets the user FS base (callers check that it is canonical).
pub fn set_fs_base(v: u64) {
    // SAFETY: the kernel does not use FS; a canonical value cannot fault.
    unsafe { wrmsr(MSR_FS_BASE, v) }
}

/// The user GS base.
pub fn gs_base() -> u64 {
    rdmsr(MSR_GS_BASE)
}

/// Sets the user GS base (callers check that it is canonical).
pub fn set_gs_base(v: u64) {
    // SAFETY: the kernel does not use GS (no swapgs on one CPU); canonical values only.
    unsafe { wrmsr(MSR_GS_BASE, v) }
}

/// Enables the FPU and SSE for user code (CR0.MP, no EM/TS; CR4.OSFXSR, OSXMMEXCPT).
/// AVX stays off (CR4.OSXSAVE clear), so user code sees no AVX and `fxsave` is enough.
pub fn init_fpu() {
    // SAFETY: standard FPU enabling sequence at boot.
    unsafe {
        asm!(
            "mov {t}, cr0",
            "and {t}, ~0xc",
            "or {t}, 0x22",
            "mov cr0, {t}",
            "mov {t}, cr4",
            "or {t}, 0x600",
            "mov cr4, {t}",
            "fninit",
            t = out(reg) _,
            options(nostack)
        );
    }
}
