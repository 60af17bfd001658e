//! The IDT and the 256 interrupt entry stubs. Every stub builds the same frame on the
//! stack — Linux's `struct pt_regs` ([`super::trap::TrapFrame`]), with the error code (or
//! 0) in `orig_rax` — and calls [`super::trap::trap_dispatch`] with the vector; the
//! common exit (`trap_return`) restores it and `iretq`s. The `syscall` entry builds the
//! same frame and leaves through the same exit.
//!
//! `#BP` (`int3`) and `#DB` from kernel mode enter through `trap_int3_entry` /
//! `trap_debug_entry`, which first move the CPU's 5-word frame [`KERNEL_TRAP_GAP`] bytes
//! lower (Linux's `create_gap`): the probe engine emulates `push`/`call` by writing below
//! the interrupted stack pointer, which must not be this trap's own frame. The gap is
//! simply abandoned on exit: `iretq` reloads RSP from the (possibly changed) frame. From
//! user mode they go straight to the ordinary stubs (the CPU switched to the task's kernel
//! stack).
//!
//! `#UD` enters through `trap_ud_entry`, which in the `#UD` breakpoint mode ([`set_ud_mode`])
//! turns a kernel-mode `#UD` at a [`UD_BREAKPOINT`] byte into the `#BP` path; otherwise (and
//! from user mode) it is the ordinary stub.

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

use super::gdt::{IST_DOUBLE_FAULT, IST_NMI, KERNEL_CS};

core::arch::global_asm!(
    r#"
    .section .text.trap, "ax"
    .balign 16
    .global trap_stubs
    .type trap_stubs, @function
trap_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq %rdi
    movl $vec, %edi
    jmp trap_common
    .set vec, vec + 1
    .endr

    .size trap_stubs, . - trap_stubs

    .balign 16
    .type trap_common, @function
trap_common:
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %rax
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
    movq %rdi, %rsi
    movq %rsp, %rdi
    subq $8, %rsp
    call trap_dispatch
    addq $8, %rsp
    .global trap_return
    .type trap_return, @function
trap_return:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rax
    popq %rcx
    popq %rdx
    popq %rsi
    popq %rdi
    addq $8, %rsp
    iretq
    .size trap_return, . - trap_return
    .size trap_common, . - trap_common

    // Kernel-mode #BP/#DB: copy the CPU's 5-word frame {shift} - 40 bytes lower (a gap below
    // the interrupted rsp for emulated pushes), then the vector's ordinary stub.
    .macro gap_entry name, vec
    .balign 16
    .global \name
    .type \name, @function
\name:
    testb $3, 8(%rsp)
    jnz trap_stubs + \vec * 16
    subq ${shift} - 40, %rsp
    .rept 5
    pushq ({shift} - 40 + 32)(%rsp)
    .endr
    jmp trap_stubs + \vec * 16
    .size \name, . - \name
    .endm

    gap_entry trap_int3_entry, 3
    gap_entry trap_debug_entry, 1

    .balign 16
    .global trap_ud_entry
    .type trap_ud_entry, @function
trap_ud_entry:
    testb $3, 8(%rsp)
    jnz trap_stubs + 6 * 16
    cmpb $0, kprobe_ud_mode(%rip)
    je trap_stubs + 6 * 16
    pushq %rax
    movq 8(%rsp), %rax
    cmpb ${ud_byte}, (%rax)
    popq %rax
    jne trap_stubs + 6 * 16
    incq (%rsp)
    jmp trap_int3_entry
    .size trap_ud_entry, . - trap_ud_entry
    "#,
    ud_byte = const UD_BREAKPOINT,
    shift = const KERNEL_TRAP_SHIFT,
    options(att_syntax)
);

/// The byte the probe host writes instead of `int3` in [`ud_mode`]: `0x06` (`push es`), an
/// invalid opcode in 64-bit mode, so executing it raises `#UD` with RIP at it.
pub const UD_BREAKPOINT: u8 = 0x06;

#[export_name = "kprobe_ud_mode"]
static UD_MODE: AtomicBool = AtomicBool::new(false);

/// Turns the `#UD` breakpoint mode on: a kernel-mode `#UD` at a [`UD_BREAKPOINT`] byte is
/// then delivered as a `#BP` with RIP one past it, exactly as if an `int3` had been there.
/// For hypervisors that cannot deliver a kernel-mode `#BP` (PVM emulates it and fails);
/// `trap_ud_entry` does the conversion before any Rust code runs. Off by default.
pub fn set_ud_mode(on: bool) {
    UD_MODE.store(on, Ordering::SeqCst);
}

/// Whether [`set_ud_mode`] turned the `#UD` breakpoint mode on.
pub fn ud_mode() -> bool {
    UD_MODE.load(Ordering::Relaxed)
}

/// How far `trap_int3_entry`/`trap_debug_entry` move a kernel-mode frame down: a multiple
/// of 16 (the stack keeps the alignment the CPU gave it) of at least 40 (the frame) + 128.
const KERNEL_TRAP_SHIFT: u64 = 176;

/// Bytes between a kernel-mode `#BP`/`#DB`'s interrupted stack pointer and the top of the
/// frame it saves (at least this much; the CPU's 16-byte alignment may add 8): room for
/// emulated pushes (Linux's int3 gap is 8 bytes; 16 words are asked for here).
pub const KERNEL_TRAP_GAP: u64 = KERNEL_TRAP_SHIFT;

const _: () = assert!(KERNEL_TRAP_SHIFT % 16 == 0 && KERNEL_TRAP_SHIFT >= 40 + 128);

extern "C" {
    static trap_stubs: u8;
    static trap_int3_entry: u8;
    static trap_debug_entry: u8;
    static trap_ud_entry: u8;
}

#[repr(C, align(16))]
struct Idt([u64; 512]);

static mut IDT: Idt = Idt([0; 512]);

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Fills and loads the IDT: interrupt gates (interrupts off on entry) for every vector;
/// `int3` (3) and `into` (4) callable from user mode like Linux; double faults and NMIs on
/// their own IST stacks; `#DB` and `#BP` through their gap-making entries, `#UD` through
/// `trap_ud_entry`.
pub fn init() {
    let stubs = core::ptr::addr_of!(trap_stubs) as u64;
    // SAFETY: runs once at boot with interrupts disabled; nothing else touches the IDT.
    let idt = unsafe { &mut *addr_of_mut!(IDT) };
    for v in 0..256u64 {
        let h = match v {
            1 => core::ptr::addr_of!(trap_debug_entry) as u64,
            3 => core::ptr::addr_of!(trap_int3_entry) as u64,
            6 => core::ptr::addr_of!(trap_ud_entry) as u64,
            _ => stubs + v * 16,
        };
        let dpl: u64 = if v == 3 || v == 4 { 3 } else { 0 };
        let ist: u64 = match v {
            8 => u64::from(IST_DOUBLE_FAULT),
            2 => u64::from(IST_NMI),
            _ => 0,
        };
        let attr = 0x8e | (dpl << 5);
        idt.0[(2 * v) as usize] =
            (h & 0xffff) | (u64::from(KERNEL_CS) << 16) | (ist << 32) | (attr << 40) | ((h >> 16) & 0xffff) << 48;
        idt.0[(2 * v + 1) as usize] = h >> 32;
    }
    let ptr = Pointer { limit: (core::mem::size_of::<Idt>() - 1) as u16, base: idt.0.as_ptr() as u64 };
    // SAFETY: the IDT is complete and lives forever.
    unsafe { core::arch::asm!("lidt [{}]", in(reg) &ptr, options(nostack, readonly)) };
}
