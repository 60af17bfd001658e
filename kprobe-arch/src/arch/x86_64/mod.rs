//! The x86_64 engine: `int3` breakpoints, iced-x86 decoding, out-of-line single step with
//! TF, emulation of control transfers, kretprobes through the return address at `[rsp]`.
//!
//! Linux x86 conventions are kept: a pre handler sees `rip` = probe address + 1 (as after
//! `int3`), a post handler sees `rip` = the next instruction.

mod analyze;
mod emulate;

pub use analyze::X86Insn;
use syscall_abi::Result;

use super::{Arch, StepEnd};
use crate::{KprobeHost, X86PtRegs};

/// Trap flag (single step).
const TF: u64 = 1 << 8;
/// Interrupt enable flag.
const IF: u64 = 1 << 9;

/// The x86_64 probe engine.
#[derive(Debug)]
pub struct X86_64;

/// Flags saved across a single step.
#[derive(Clone, Copy, Debug)]
pub struct X86StepSave {
    /// TF and IF of the interrupted code.
    flags: u64,
}

impl Arch for X86_64 {
    type Regs = X86PtRegs;
    type Insn = X86Insn;
    type StepSave = X86StepSave;

    const BREAKPOINT: &'static [u8] = &[0xcc];

    fn analyze(
        host: &dyn KprobeHost,
        addr: u64,
        symbol: (u64, u64),
        recover: &dyn Fn(u64, &mut [u8]),
    ) -> Result<X86Insn> {
        analyze::analyze(host, addr, symbol, recover)
    }

    fn check_boundary(
        host: &dyn KprobeHost,
        addr: u64,
        symbol: (u64, u64),
        recover: &dyn Fn(u64, &mut [u8]),
    ) -> Result<()> {
        analyze::decode_at(host, addr, symbol, recover).map(|_| ())
    }

    fn release(host: &dyn KprobeHost, insn: &X86Insn) {
        if insn.slot != 0 {
            host.free_insn_slot(insn.slot);
        }
    }

    fn original(insn: &X86Insn) -> &[u8] {
        &insn.bytes[..Self::BREAKPOINT.len()]
    }

    fn breakpoint_addr(regs: &X86PtRegs) -> u64 {
        regs.rip.wrapping_sub(1)
    }

    fn ip(regs: &X86PtRegs) -> u64 {
        regs.rip
    }

    fn set_ip(regs: &mut X86PtRegs, ip: u64) {
        regs.rip = ip;
    }

    fn emulated(insn: &X86Insn) -> bool {
        insn.slot == 0
    }

    fn emulate(insn: &X86Insn, regs: &mut X86PtRegs) {
        emulate::emulate(insn, regs);
    }

    fn step_begin(host: &dyn KprobeHost, insn: &X86Insn, regs: &mut X86PtRegs) -> X86StepSave {
        let save = X86StepSave { flags: regs.eflags & (TF | IF) };
        regs.eflags |= TF;
        if host.mask_interrupts_in_step() {
            regs.eflags &= !IF;
        }
        regs.rip = insn.slot;
        save
    }

    fn step_end(insn: &X86Insn, save: X86StepSave, regs: &mut X86PtRegs) -> StepEnd {
        let len = u64::from(insn.len);
        let end = if regs.rip == insn.slot.wrapping_add(len) {
            StepEnd::Done
        } else if regs.rip == insn.slot && matches!(insn.op, analyze::Op::Step { rep: true, .. }) {
            regs.eflags |= TF;
            return StepEnd::Again;
        } else {
            return StepEnd::NotOurs;
        };
        regs.rip = insn.addr.wrapping_add(len);
        regs.eflags = (regs.eflags & !(TF | IF)) | save.flags;
        if let analyze::Op::Step { pushf: true, .. } = insn.op {
            // SAFETY: the stepped `pushfq` just wrote this word at the interrupted rsp.
            unsafe {
                let top = regs.rsp as *mut u64;
                let pushed = core::ptr::read_unaligned(top);
                core::ptr::write_unaligned(top, (pushed & !(TF | IF)) | save.flags);
            }
        }
        end
    }

    fn entry_return(regs: &X86PtRegs) -> (u64, u64) {
        // SAFETY: at a function's first instruction rsp points to the return address the
        // `call` pushed on the interrupted (mapped, writable) stack.
        let ret = unsafe { core::ptr::read_unaligned(regs.rsp as *const u64) };
        (ret, regs.rsp)
    }

    fn set_entry_return(regs: &mut X86PtRegs, ret: u64) {
        // SAFETY: as in `entry_return`: the return address slot of the current call.
        unsafe { core::ptr::write_unaligned(regs.rsp as *mut u64, ret) }
    }

    fn trampoline_frame(regs: &X86PtRegs) -> u64 {
        // `ret` popped the trampoline address from the entry rsp.
        regs.rsp.wrapping_sub(8)
    }
}
