//! Emulation of the x86_64 instructions that cannot run out of line: near calls, jumps,
//! conditional jumps, returns and counted loops. Their effect depends on the address they
//! run at (or, for `ret`, they would leave the slot with no single-step trap to come back),
//! so the engine performs them on the trap frame instead.

use iced_x86::{ConditionCode, OpKind, Register};

use super::analyze::{LoopKind, Op, X86Insn};
use crate::X86PtRegs;

/// Carry flag.
const CF: u64 = 1 << 0;
/// Parity flag.
const PF: u64 = 1 << 2;
/// Zero flag.
const ZF: u64 = 1 << 6;
/// Sign flag.
const SF: u64 = 1 << 7;
/// Overflow flag.
const OF: u64 = 1 << 11;

/// The 64-bit general register `reg` as a `PtRegs` field accessor, or `None`.
pub(super) fn gpr64(reg: Register) -> Option<fn(&mut X86PtRegs) -> &mut u64> {
    let f: fn(&mut X86PtRegs) -> &mut u64 = match reg {
        Register::RAX => |r| &mut r.rax,
        Register::RCX => |r| &mut r.rcx,
        Register::RDX => |r| &mut r.rdx,
        Register::RBX => |r| &mut r.rbx,
        Register::RSP => |r| &mut r.rsp,
        Register::RBP => |r| &mut r.rbp,
        Register::RSI => |r| &mut r.rsi,
        Register::RDI => |r| &mut r.rdi,
        Register::R8 => |r| &mut r.r8,
        Register::R9 => |r| &mut r.r9,
        Register::R10 => |r| &mut r.r10,
        Register::R11 => |r| &mut r.r11,
        Register::R12 => |r| &mut r.r12,
        Register::R13 => |r| &mut r.r13,
        Register::R14 => |r| &mut r.r14,
        Register::R15 => |r| &mut r.r15,
        _ => return None,
    };
    Some(f)
}

/// Whether condition `cc` holds for `flags`.
fn condition(cc: ConditionCode, flags: u64) -> bool {
    let set = |f: u64| flags & f != 0;
    match cc {
        ConditionCode::o => set(OF),
        ConditionCode::no => !set(OF),
        ConditionCode::b => set(CF),
        ConditionCode::ae => !set(CF),
        ConditionCode::e => set(ZF),
        ConditionCode::ne => !set(ZF),
        ConditionCode::be => set(CF) || set(ZF),
        ConditionCode::a => !set(CF) && !set(ZF),
        ConditionCode::s => set(SF),
        ConditionCode::ns => !set(SF),
        ConditionCode::p => set(PF),
        ConditionCode::np => !set(PF),
        ConditionCode::l => set(SF) != set(OF),
        ConditionCode::ge => set(SF) == set(OF),
        ConditionCode::le => set(ZF) || set(SF) != set(OF),
        ConditionCode::g => !set(ZF) && set(SF) == set(OF),
        ConditionCode::None => true,
    }
}

/// Reads the u64 at `addr`.
fn read_u64(addr: u64) -> u64 {
    // SAFETY: the engine runs on the trap frame of the interrupted kernel code: `addr` is
    // the memory operand or stack slot the original instruction itself would have read
    // (computed from the interrupted registers), so it is mapped and readable as it would
    // have been for the instruction.
    unsafe { core::ptr::read_unaligned(addr as *const u64) }
}

/// Pushes `value` on the interrupted stack.
fn push(regs: &mut X86PtRegs, value: u64) {
    regs.rsp = regs.rsp.wrapping_sub(8);
    // SAFETY: the original `call` would have written this stack slot; the kernel's trap
    // entry leaves a gap below the interrupted stack pointer (and user-space signal frames
    // lie below the red zone), so the word below rsp belongs to the interrupted code.
    unsafe { core::ptr::write_unaligned(regs.rsp as *mut u64, value) }
}

/// The target of an indirect call/jump, computed with the interrupted registers.
fn indirect_target(probed: &X86Insn, regs: &mut X86PtRegs) -> u64 {
    let insn = &probed.insn;
    if insn.op0_kind() == OpKind::Register {
        return gpr64(insn.op0_register()).map_or(0, |f| *f(regs));
    }
    let addr = insn.virtual_address(0, 0, |reg, _, _| match reg {
        Register::ES | Register::CS | Register::SS | Register::DS => Some(0),
        r => gpr64(r).map(|f| *f(regs)),
    });
    // analyze() admitted only operands built from general registers and RIP.
    read_u64(addr.unwrap_or(0))
}

/// Performs the emulated instruction: registers and stack as after it ran at its address.
pub(super) fn emulate(probed: &X86Insn, regs: &mut X86PtRegs) {
    let next = probed.addr.wrapping_add(u64::from(probed.len));
    match probed.op {
        Op::Step { .. } => {}
        Op::CallRel(target) => {
            push(regs, next);
            regs.rip = target;
        }
        Op::CallIndirect => {
            // The target is computed before the push (an rsp-based operand sees the old rsp).
            let target = indirect_target(probed, regs);
            push(regs, next);
            regs.rip = target;
        }
        Op::JmpRel(target) => regs.rip = target,
        Op::JmpIndirect => regs.rip = indirect_target(probed, regs),
        Op::Jcc(cc, target) => regs.rip = if condition(cc, regs.eflags) { target } else { next },
        Op::Ret(imm) => {
            regs.rip = read_u64(regs.rsp);
            regs.rsp = regs.rsp.wrapping_add(8 + u64::from(imm));
        }
        Op::Loop(kind, target) => {
            if kind != LoopKind::Jrcxz {
                regs.rcx = regs.rcx.wrapping_sub(1);
            }
            let zf = regs.eflags & ZF != 0;
            let taken = match kind {
                LoopKind::Loop => regs.rcx != 0,
                LoopKind::Loope => regs.rcx != 0 && zf,
                LoopKind::Loopne => regs.rcx != 0 && !zf,
                LoopKind::Jrcxz => regs.rcx == 0,
            };
            regs.rip = if taken { target } else { next };
        }
    }
}
