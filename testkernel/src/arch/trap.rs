//! Trap dispatch: exceptions, hardware interrupts, and the hooks other subsystems attach.
//!
//! Every entry saves the registers as Linux's `struct pt_regs` ([`TrapFrame`]), so the
//! kprobe engine can hand the frame to BPF programs as is. `int3` and debug exceptions go
//! to the registered hooks first; exceptions from user mode go to the task code (page
//! faults into the address space, the rest become signals); exceptions in the kernel are
//! bugs: the kernel prints the registers and panics.

use core::fmt::Write;

use spin::RwLock;

use super::cpu;
use super::{pic, serial};

/// The saved registers of a trap, interrupt or system call (Linux's `struct pt_regs`).
/// `orig_rax` holds the error code of exceptions that push one (0 otherwise), and the
/// system-call number on `syscall` entry.
pub type TrapFrame = syscall_abi::ptregs::x86_64::PtRegs;

/// A hook for `int3`/debug exceptions: returns `true` when it handled the trap (the frame
/// may have been changed, e.g. `rip` moved past a probe), `false` to fall through to the
/// default handling.
pub type TrapHook = fn(&mut TrapFrame) -> bool;

static BREAKPOINT_HOOK: RwLock<Option<TrapHook>> = RwLock::new(None);
static DEBUG_HOOK: RwLock<Option<TrapHook>> = RwLock::new(None);

/// Registers the `#BP` (vector 3, `int3`) hook, called before the default handling, for
/// traps from kernel and user mode alike. `rip` in the frame is the byte after the `int3`.
pub fn set_breakpoint_hook(hook: TrapHook) {
    *BREAKPOINT_HOOK.write() = Some(hook);
}

/// Registers the `#DB` (vector 1) hook (single-step after a probed instruction).
pub fn set_debug_hook(hook: TrapHook) {
    *DEBUG_HOOK.write() = Some(hook);
}

/// Exception vectors.
pub mod vector {
    /// Divide error.
    pub const DE: u64 = 0;
    /// Debug.
    pub const DB: u64 = 1;
    /// Non-maskable interrupt.
    pub const NMI: u64 = 2;
    /// Breakpoint.
    pub const BP: u64 = 3;
    /// Overflow.
    pub const OF: u64 = 4;
    /// Bound range exceeded.
    pub const BR: u64 = 5;
    /// Invalid opcode.
    pub const UD: u64 = 6;
    /// Device not available.
    pub const NM: u64 = 7;
    /// Double fault.
    pub const DF: u64 = 8;
    /// General protection.
    pub const GP: u64 = 13;
    /// Page fault.
    pub const PF: u64 = 14;
    /// x87 floating point.
    pub const MF: u64 = 16;
    /// Alignment check.
    pub const AC: u64 = 17;
    /// SIMD floating point.
    pub const XM: u64 = 19;
}

const NAMES: [&str; 32] = [
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved (15)",
    "x87 floating-point exception",
    "alignment check",
    "machine check",
    "SIMD floating-point exception",
    "virtualization exception",
    "control protection exception",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "hypervisor injection",
    "VMM communication",
    "security exception",
    "reserved (31)",
];

/// The name of an exception vector.
pub fn exception_name(vector: u64) -> &'static str {
    usize::try_from(vector).ok().and_then(|v| NAMES.get(v)).copied().unwrap_or("interrupt")
}

/// A user-mode exception, as the task code needs it to resolve it or pick a signal.
#[derive(Clone, Copy, Debug)]
pub struct UserFault {
    /// The vector.
    pub vector: u64,
    /// The error code (0 if the exception has none).
    pub error_code: u64,
    /// CR2 for page faults (the faulting address), 0 otherwise.
    pub cr2: u64,
}

/// Whether the frame was saved in user mode.
pub fn from_user(f: &TrapFrame) -> bool {
    f.cs & 3 == 3
}

/// Writes every register of `f` (and CR2/CR3) to `w`.
pub fn dump(w: &mut dyn Write, f: &TrapFrame, cr2: u64) {
    let _ = writeln!(w, "RIP: {:04x}:{:016x} RSP: {:04x}:{:016x} EFLAGS: {:08x}", f.cs, f.rip, f.ss, f.rsp, f.eflags);
    let _ = writeln!(w, "RAX: {:016x} RBX: {:016x} RCX: {:016x}", f.rax, f.rbx, f.rcx);
    let _ = writeln!(w, "RDX: {:016x} RSI: {:016x} RDI: {:016x}", f.rdx, f.rsi, f.rdi);
    let _ = writeln!(w, "RBP: {:016x} R08: {:016x} R09: {:016x}", f.rbp, f.r8, f.r9);
    let _ = writeln!(w, "R10: {:016x} R11: {:016x} R12: {:016x}", f.r10, f.r11, f.r12);
    let _ = writeln!(w, "R13: {:016x} R14: {:016x} R15: {:016x}", f.r13, f.r14, f.r15);
    let _ = writeln!(w, "ERR: {:016x} CR2: {:016x} CR3: {:016x}", f.orig_rax, cr2, cpu::cr3());
}

fn kernel_fault(f: &TrapFrame, vector: u64, cr2: u64) -> ! {
    cpu::cli();
    let mut w = serial::RawSerialWriter;
    let _ = writeln!(w, "\nkernel exception {vector} ({}), error code {:#x}", exception_name(vector), f.orig_rax);
    dump(&mut w, f, cr2);
    panic!("kernel {} at {:#x}", exception_name(vector), f.rip)
}

/// Called by every interrupt stub with the saved frame and the vector.
#[no_mangle]
extern "C" fn trap_dispatch(f: &mut TrapFrame, vector: u64) {
    match vector {
        0..=31 => exception(f, vector),
        32..=47 => {
            let irq = (vector - 32) as u8;
            if (irq == 7 || irq == 15) && pic::is_spurious(irq) {
                return;
            }
            pic::eoi(irq);
            if irq == 0 {
                super::timer::tick(f);
            }
        }
        _ => log::warn!("unexpected interrupt vector {vector}"),
    }
    if from_user(f) {
        crate::task::return_to_user(f);
    }
}

fn exception(f: &mut TrapFrame, vector: u64) {
    let cr2 = if vector == vector::PF { cpu::cr2() } else { 0 };
    let hook = match vector {
        vector::BP => *BREAKPOINT_HOOK.read(),
        vector::DB => *DEBUG_HOOK.read(),
        _ => None,
    };
    if hook.is_some_and(|h| h(f)) {
        return;
    }
    if vector == vector::NMI {
        log::warn!("NMI at {:#x}", f.rip);
        return;
    }
    if vector == vector::PF && from_user(f) && f.rip == super::syscall_entry::entry_address() && cr2 == f.rip {
        super::syscall_entry::syscall_from_fault(f);
        return;
    }
    if !from_user(f) || vector == vector::DF {
        kernel_fault(f, vector, cr2);
    }
    crate::task::user_fault(f, UserFault { vector, error_code: f.orig_rax, cr2 });
}
