//! Decoding and classification of a probed x86_64 instruction (iced-x86).
//!
//! The probed address must be an instruction boundary: the function is decoded from its
//! start. The instruction then falls in one of three classes: refused (`EILSEQ`: traps,
//! privilege and interrupt-flag changes, far transfers, anything undecodable), emulated
//! (near calls, jumps, conditional jumps, returns, loops: their effect depends on where they
//! run) or executed out of line in a slot with a single step (everything else; a RIP-relative
//! displacement is rewritten for the slot's address).

use alloc::vec;
use iced_x86::{Code, ConditionCode, Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic, OpKind, Register};
use syscall_abi::{err, Errno, Result};

use crate::KprobeHost;

/// Longest x86 instruction.
pub(super) const MAX_INSN_LEN: usize = 15;

/// How the original instruction runs after the handlers.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    /// Out of line in the slot with a single step.
    Step {
        /// `pushf`: the pushed flags must not show the engine's TF/IF changes.
        pushf: bool,
        /// `rep`-prefixed: a step may end with the instruction not finished.
        rep: bool,
    },
    /// `call rel32`.
    CallRel(u64),
    /// `call r/m64` (the decoded instruction computes the target).
    CallIndirect,
    /// `jmp rel8/rel32`.
    JmpRel(u64),
    /// `jmp r/m64`.
    JmpIndirect,
    /// `jcc rel8/rel32`.
    Jcc(ConditionCode, u64),
    /// `ret` / `ret imm16` (bytes popped after the return address).
    Ret(u16),
    /// `loop`/`loope`/`loopne`/`jrcxz` on RCX.
    Loop(LoopKind, u64),
}

/// Which counted branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LoopKind {
    /// `loop`: decrement RCX, branch if not zero.
    Loop,
    /// `loope`: decrement RCX, branch if not zero and ZF.
    Loope,
    /// `loopne`: decrement RCX, branch if not zero and not ZF.
    Loopne,
    /// `jrcxz`: branch if RCX is zero.
    Jrcxz,
}

/// A probed x86_64 instruction, ready to run after its handlers.
pub struct X86Insn {
    pub(super) addr: u64,
    pub(super) len: u8,
    pub(super) bytes: [u8; MAX_INSN_LEN],
    pub(super) op: Op,
    /// The decoded instruction (indirect branches compute their target from it).
    pub(super) insn: Instruction,
    /// The out-of-line slot (0 when emulated).
    pub(super) slot: u64,
}

/// The instruction at a checked boundary: decoded, its bytes, and where its displacement is.
pub(super) struct Decoded {
    insn: Instruction,
    bytes: [u8; MAX_INSN_LEN],
    /// Offset of the disp32 of a RIP-relative operand.
    disp_at: Option<usize>,
}

/// Decodes the function `symbol` = (start, size) from its start up to `addr`: `EINVAL` when
/// `addr` is outside the function, `EILSEQ` when it is not an instruction boundary or the
/// instruction there does not decode.
pub(super) fn decode_at(
    host: &dyn KprobeHost,
    addr: u64,
    symbol: (u64, u64),
    recover: &dyn Fn(u64, &mut [u8]),
) -> Result<Decoded> {
    let (start, size) = symbol;
    let end = if size == 0 { addr.saturating_add(1) } else { start.saturating_add(size) };
    if addr < start || addr >= end {
        return err(Errno::EINVAL, "address outside its symbol");
    }
    // Read the function from its start to the end of the longest instruction at addr.
    let read_end = addr.saturating_add(MAX_INSN_LEN as u64).min(if size == 0 { u64::MAX } else { end });
    let Ok(len) = usize::try_from(read_end - start) else {
        return err(Errno::EINVAL, "function too large");
    };
    let mut text = vec![0u8; len];
    host.text_read(start, &mut text)?;
    recover(start, &mut text);

    let mut decoder = Decoder::with_ip(64, &text, start, DecoderOptions::NONE);
    let mut insn = Instruction::default();
    while decoder.can_decode() && decoder.ip() < addr {
        decoder.decode_out(&mut insn);
        if insn.is_invalid() {
            return err(Errno::EILSEQ, "undecodable instruction before the probe address");
        }
    }
    if decoder.ip() != addr {
        return err(Errno::EILSEQ, "not an instruction boundary");
    }
    let pos = decoder.position();
    decoder.decode_out(&mut insn);
    if insn.is_invalid() {
        return err(Errno::EILSEQ, "undecodable instruction");
    }
    let ilen = insn.len();
    let mut bytes = [0u8; MAX_INSN_LEN];
    bytes[..ilen].copy_from_slice(&text[pos..pos + ilen]);
    let disp_at = if insn.is_ip_rel_memory_operand() {
        Some(decoder.get_constant_offsets(&insn).displacement_offset())
    } else {
        None
    };
    Ok(Decoded { insn, bytes, disp_at })
}

/// Decodes and classifies the instruction at `addr`; out-of-line instructions get a slot.
pub(super) fn analyze(
    host: &dyn KprobeHost,
    addr: u64,
    symbol: (u64, u64),
    recover: &dyn Fn(u64, &mut [u8]),
) -> Result<X86Insn> {
    let Decoded { insn, bytes, disp_at } = decode_at(host, addr, symbol, recover)?;
    let op = classify(&insn)?;
    let mut probed = X86Insn { addr, len: insn.len() as u8, bytes, op, insn, slot: 0 };
    if let Op::Step { .. } = op {
        probed.slot = prepare_slot(host, &probed, disp_at)?;
    }
    Ok(probed)
}

/// Copies the instruction into a new slot, rewriting a RIP-relative displacement so that it
/// addresses the same memory from the slot.
fn prepare_slot(host: &dyn KprobeHost, probed: &X86Insn, disp_at: Option<usize>) -> Result<u64> {
    let slot = host.alloc_insn_slot()?;
    let len = usize::from(probed.len);
    let mut code = probed.bytes;
    if let Some(at) = disp_at {
        let target = probed.insn.ip_rel_memory_address();
        let disp = (target as i64).wrapping_sub(slot.wrapping_add(len as u64) as i64);
        let Ok(disp) = i32::try_from(disp) else {
            host.free_insn_slot(slot);
            return err(Errno::ERANGE, "instruction slot out of RIP-relative reach");
        };
        code[at..at + 4].copy_from_slice(&disp.to_le_bytes());
    }
    if let Err(e) = host.text_poke(slot, &code[..len]) {
        host.free_insn_slot(slot);
        return Err(e);
    }
    Ok(slot)
}

/// Decides how the instruction runs, or refuses it.
fn classify(insn: &Instruction) -> Result<Op> {
    const REFUSED: &[Mnemonic] = &[
        Mnemonic::Int3,
        Mnemonic::Int,
        Mnemonic::Int1,
        Mnemonic::Into,
        Mnemonic::Iret,
        Mnemonic::Iretd,
        Mnemonic::Iretq,
        Mnemonic::Sysret,
        Mnemonic::Sysretq,
        Mnemonic::Syscall,
        Mnemonic::Sysenter,
        Mnemonic::Sysexit,
        Mnemonic::Sysexitq,
        Mnemonic::Hlt,
        Mnemonic::Cli,
        Mnemonic::Sti,
        Mnemonic::Popf,
        Mnemonic::Popfq,
        Mnemonic::Ud0,
        Mnemonic::Ud1,
        Mnemonic::Ud2,
        Mnemonic::Lss,
    ];
    if REFUSED.contains(&insn.mnemonic()) {
        return err(Errno::EILSEQ, "instruction cannot be probed");
    }
    // A load of SS delays interrupts and #DB by one instruction: the single step would miss.
    if insn.op_count() > 0 && insn.op0_kind() == OpKind::Register && insn.op0_register() == Register::SS {
        return err(Errno::EILSEQ, "instruction cannot be probed (loads SS)");
    }
    let target = || insn.near_branch_target();
    let near64 = insn.op_count() > 0 && insn.op0_kind() == OpKind::NearBranch64;
    let op = match insn.flow_control() {
        FlowControl::Next => {
            if insn.is_ip_rel_memory_operand() && insn.memory_base() != Register::RIP {
                return err(Errno::EILSEQ, "EIP-relative operand");
            }
            Op::Step { pushf: insn.code() == Code::Pushfq, rep: insn.has_rep_prefix() || insn.has_repne_prefix() }
        }
        FlowControl::Call if insn.code() == Code::Call_rel32_64 => Op::CallRel(target()),
        FlowControl::IndirectCall if insn.code() == Code::Call_rm64 && indirect_ok(insn) => Op::CallIndirect,
        FlowControl::UnconditionalBranch if matches!(insn.code(), Code::Jmp_rel8_64 | Code::Jmp_rel32_64) => {
            Op::JmpRel(target())
        }
        FlowControl::IndirectBranch if insn.code() == Code::Jmp_rm64 && indirect_ok(insn) => Op::JmpIndirect,
        FlowControl::ConditionalBranch if near64 && insn.is_jcc_short_or_near() => {
            Op::Jcc(insn.condition_code(), target())
        }
        FlowControl::ConditionalBranch if near64 => match insn.code() {
            Code::Loop_rel8_64_RCX => Op::Loop(LoopKind::Loop, target()),
            Code::Loope_rel8_64_RCX => Op::Loop(LoopKind::Loope, target()),
            Code::Loopne_rel8_64_RCX => Op::Loop(LoopKind::Loopne, target()),
            Code::Jrcxz_rel8_64 => Op::Loop(LoopKind::Jrcxz, target()),
            _ => return err(Errno::EILSEQ, "unsupported counted branch"),
        },
        FlowControl::Return if insn.code() == Code::Retnq => Op::Ret(0),
        FlowControl::Return if insn.code() == Code::Retnq_imm16 => Op::Ret(insn.immediate16()),
        _ => return err(Errno::EILSEQ, "unsupported control transfer"),
    };
    Ok(op)
}

/// An indirect branch whose target the engine can compute: a 64-bit register, or memory
/// addressed with 64-bit general registers (or RIP) and no FS/GS segment base.
fn indirect_ok(insn: &Instruction) -> bool {
    match insn.op0_kind() {
        OpKind::Register => super::emulate::gpr64(insn.op0_register()).is_some(),
        OpKind::Memory => {
            !matches!(insn.memory_segment(), Register::FS | Register::GS)
                && (insn.memory_base() == Register::None
                    || insn.memory_base() == Register::RIP
                    || super::emulate::gpr64(insn.memory_base()).is_some())
                && (insn.memory_index() == Register::None || super::emulate::gpr64(insn.memory_index()).is_some())
        }
        _ => false,
    }
}
