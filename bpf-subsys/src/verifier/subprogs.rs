//! Subprogram boundaries and the jumps between them.
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c`: `add_subprog`, `add_subprog_and_kfunc`,
//! `check_subprogs`, `check_abnormal_return`; `add_kfunc_call` for the kfunc refusal.

use super::log::{VerifierLog, BPF_LOG_LEVEL2};
use super::opcodes::*;
use super::{bail, Reject, Subprog, Verifier, MAX_SUBPROGS};

impl Verifier<'_> {
    /// `add_subprog`: the subprogram starting at `off`, adding it if new.
    fn add_subprog(&mut self, off: i64) -> Result<(), Reject> {
        let start = match usize::try_from(off) {
            Ok(start) if start < self.len() => start,
            _ => bail!(EINVAL, "call to invalid destination", "call to invalid destination"),
        };
        if let Err(at) = self.subprogs.binary_search_by_key(&start, |s| s.start) {
            if self.subprogs.len() >= MAX_SUBPROGS {
                bail!(E2BIG, "too many subprograms", "too many subprograms");
            }
            self.subprogs.insert(at, Subprog { start, ..Subprog::default() });
        }
        Ok(())
    }

    /// `add_subprog_and_kfunc`: the main program and every `BPF_PSEUDO_CALL` /
    /// `BPF_PSEUDO_FUNC` target start a subprogram; kfunc calls are refused.
    pub(super) fn add_subprogs(&mut self, log: &mut VerifierLog) -> Result<(), Reject> {
        self.add_subprog(0)?;
        for pc in 0..self.len() {
            let insn = self.insn(pc);
            let pseudo_func = insn.opc == LD_IMM64 && insn.src == PSEUDO_FUNC;
            let call = insn.opc == CLASS_JMP | OP_CALL;
            let pseudo_call = call && insn.src == PSEUDO_CALL;
            let kfunc = call && insn.src == PSEUDO_KFUNC_CALL;
            if !pseudo_func && !pseudo_call && !kfunc {
                continue;
            }
            if !self.input.privileged {
                bail!(
                    EPERM,
                    "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
                    "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"
                );
            }
            if kfunc {
                // add_kfunc_call without vmlinux BTF: this subsystem has no kernel BTF.
                bail!(
                    ENOTSUPP,
                    "calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF",
                    "calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF"
                );
            }
            let target = pc as i64 + i64::from(insn.imm) + 1;
            self.add_subprog(target)?;
            if pseudo_func {
                if let Some(i) = self.subprog_at(usize::try_from(target).unwrap_or(usize::MAX)) {
                    self.subprogs[i].is_callback = true;
                }
            }
        }
        if log.has(BPF_LOG_LEVEL2) {
            for (i, s) in self.subprogs.iter().enumerate() {
                log.write_fmt(format_args!("func#{i} @{}\n", s.start));
            }
        }
        Ok(())
    }

    /// `check_subprogs`: every jump stays inside its subprogram, every subprogram ends in
    /// `exit` or an unconditional jump; records tail calls and `LD_ABS`.
    pub(super) fn check_subprogs(&mut self) -> Result<(), Reject> {
        let mut cur = 0;
        let mut start = 0;
        let mut end = self.subprog_end(0);
        for pc in 0..self.len() {
            let insn = self.insn(pc);
            let code = insn.opc;
            let class = code & CLASS_MASK;
            if code == CLASS_JMP | OP_CALL && insn.imm == FUNC_TAIL_CALL && insn.src != PSEUDO_CALL {
                self.subprogs[cur].has_tail_call = true;
            }
            if class == CLASS_LD && matches!(code & MODE_MASK, MODE_ABS | MODE_IND) {
                self.subprogs[cur].has_ld_abs = true;
            }
            let is_jump =
                (class == CLASS_JMP || class == CLASS_JMP32) && code & OP_MASK != OP_EXIT && code & OP_MASK != OP_CALL;
            if is_jump {
                let rel = if self.input.isa_v4 && code == CLASS_JMP32 | OP_JA { insn.imm } else { i32::from(insn.off) };
                let to = pc as i64 + i64::from(rel) + 1;
                if to < start as i64 || to >= end as i64 {
                    bail!(EINVAL, "jump out of range from insn %d to %d", "jump out of range from insn {pc} to {to}");
                }
            }
            if pc + 1 == end {
                let ja32 = self.input.isa_v4 && code == CLASS_JMP32 | OP_JA;
                if code != CLASS_JMP | OP_EXIT && code != CLASS_JMP | OP_JA && !ja32 {
                    bail!(EINVAL, "last insn is not an exit or jmp", "last insn is not an exit or jmp");
                }
                cur += 1;
                start = end;
                if cur < self.subprogs.len() {
                    end = self.subprog_end(cur);
                }
            }
        }
        Ok(())
    }

    /// `check_abnormal_return`: without BTF func info, subprograms may not tail-call or use
    /// `LD_ABS` (Linux can only check their return type with BTF).
    pub(super) fn check_abnormal_return(&self) -> Result<(), Reject> {
        if self.input.has_func_info {
            return Ok(());
        }
        for s in self.subprogs.iter().skip(1) {
            if s.has_ld_abs {
                bail!(
                    EINVAL,
                    "LD_ABS is not allowed in subprogs without BTF",
                    "LD_ABS is not allowed in subprogs without BTF"
                );
            }
            if s.has_tail_call {
                bail!(
                    EINVAL,
                    "tail_call is not allowed in subprogs without BTF",
                    "tail_call is not allowed in subprogs without BTF"
                );
            }
        }
        Ok(())
    }
}
