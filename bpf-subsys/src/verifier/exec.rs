//! One instruction: its checks, in the order Linux's `do_check` makes them, and its effect on
//! the [`State`]. The same code serves the dataflow pass (effects only, never an error) and
//! the check pass (checks against the final states, effects to move along a block).
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c`: `do_check`, `check_reg_arg`,
//! `check_mem_access`, `check_ptr_alignment`, `check_stack_access_within_bounds`,
//! `check_stack_read_fixed_off`, `check_stack_write_fixed_off`, `update_stack_depth`,
//! `check_atomic`, `check_ld_imm`, `check_ld_abs`, `check_helper_call`,
//! `__check_func_call`, `prepare_func_exit`, `check_return_code`, `check_cond_jmp_op`.

use alloc::vec::Vec;

use super::helpers::{helper_id_in_range, FuncName, HelperProto, HelperRet, VerifierOps};
use super::opcodes::*;
use super::state::{Reg, State, FP, STACK};
use super::{bail, Reject, Verifier};
use crate::vm::insn::Insn;
use crate::vm::MAX_CALL_FRAMES;

/// What the check pass gathers while it goes.
#[derive(Default)]
pub(super) struct Acc {
    /// Stack depth per subprogram.
    pub stack_depth: Vec<u32>,
    /// Helper ids called.
    pub helpers: Vec<u32>,
}

/// The instruction executor.
pub(super) struct Exec<'a, 'v> {
    pub v: &'a Verifier<'v>,
    pub ops: &'a dyn VerifierOps,
    /// Report errors (check pass) or only compute effects (dataflow pass).
    pub checking: bool,
    /// Deepest frame index each subprogram runs at (the main program: 0).
    pub frame_of: &'a [u32],
    pub acc: Acc,
}

/// `if self.checking && cond { bail!(...) }`.
macro_rules! ensure {
    ($self:ident, $fail:expr, $errno:ident, $msg:literal, $($arg:tt)*) => {
        if $self.checking && $fail {
            bail!($errno, $msg, $($arg)*);
        }
    };
}
pub(super) use ensure;

/// One memory access: through register `regno` holding `base`, at `base + off`, `size`
/// bytes; a store's value register.
#[derive(Clone, Copy)]
pub(super) struct Mem {
    pub regno: u8,
    pub base: Reg,
    pub off: i16,
    pub size: i32,
    pub how: Access,
    pub value: Option<Reg>,
}

/// How a load/store touches memory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Write,
}

impl Exec<'_, '_> {
    /// A register read (`check_reg_arg(SRC_OP)`); an invalid number reads as unknown in the
    /// dataflow pass.
    pub(super) fn src(&self, st: &State, r: u8) -> Result<Reg, Reject> {
        let Some(&reg) = st.regs.get(usize::from(r)) else {
            ensure!(self, true, EINVAL, "R%d is invalid", "R{r} is invalid");
            return Ok(Reg::Init);
        };
        ensure!(self, reg == Reg::Uninit, EACCES, "R%d !read_ok", "R{r} !read_ok");
        Ok(reg)
    }

    /// A register write check (`check_reg_arg(DST_OP)`).
    pub(super) fn dst(&self, r: u8) -> Result<(), Reject> {
        ensure!(self, usize::from(r) > FP, EINVAL, "R%d is invalid", "R{r} is invalid");
        ensure!(self, usize::from(r) == FP, EACCES, "frame pointer is read only", "frame pointer is read only");
        Ok(())
    }

    /// Writes a register (never `R10` or an invalid one).
    pub(super) fn set(st: &mut State, r: u8, value: Reg) {
        if usize::from(r) < FP {
            st.regs[usize::from(r)] = value;
        }
    }

    /// `is_pointer_value` for an unprivileged loader (privileged ones may leak pointers).
    pub(super) fn leaks(&self, reg: Reg) -> bool {
        !self.v.input.privileged && matches!(reg, Reg::Stack(_))
    }

    /// Records a use of this frame's stack down to `off`.
    fn touch_stack(&mut self, pc: usize, off: i32) {
        if !self.checking || off >= 0 {
            return;
        }
        let sub = self.v.subprog_of(pc);
        if let Some(depth) = self.acc.stack_depth.get_mut(sub) {
            *depth = (*depth).max(off.unsigned_abs());
        }
    }

    /// `check_mem_access` for one load or store.
    fn mem(&mut self, pc: usize, st: &mut State, m: Mem) -> Result<(), Reject> {
        let Mem { regno, base, off, size, how, value } = m;
        match base {
            Reg::Const(_) => {
                ensure!(self, true, EACCES, "R%d invalid mem access 'scalar'", "R{regno} invalid mem access 'scalar'");
            }
            Reg::Stack(o) => {
                let at = o + i32::from(off);
                let misaligned = at & (size - 1) != 0;
                ensure!(
                    self,
                    misaligned,
                    EACCES,
                    "misaligned stack access off %s+%d+%d size %d",
                    "misaligned stack access off (0x0; 0x0)+{o}+{off} size {size}"
                );
                let what = if how == Access::Read { " read from" } else { " write to" };
                let lowest = if how == Access::Write || st.escaped { -STACK } else { -st.allocated };
                ensure!(
                    self,
                    at < lowest || at > -1,
                    EACCES,
                    "invalid%s stack R%d off=%d size=%d",
                    "invalid{what} stack R{regno} off={at} size={size}"
                );
                ensure!(
                    self,
                    at + size > 0,
                    EINVAL,
                    "invalid%s stack R%d off=%d size=%d",
                    "invalid{what} stack R{regno} off={at} size={size}"
                );
                self.touch_stack(pc, at);
                match how {
                    Access::Read => {
                        if !st.escaped {
                            if let Some(i) = st.first_uninit(at, size) {
                                ensure!(
                                    self,
                                    true,
                                    EACCES,
                                    "invalid read from stack off %d+%d size %d",
                                    "invalid read from stack off {at}+{i} size {size}"
                                );
                            }
                        }
                    }
                    Access::Write => {
                        let spill = matches!(value, Some(Reg::Stack(_)));
                        ensure!(
                            self,
                            spill && size != 8,
                            EACCES,
                            "invalid size of register spill",
                            "invalid size of register spill"
                        );
                        if spill {
                            // A spilled stack pointer is not followed through the stack.
                            st.escape();
                        }
                        st.write_stack(at, size);
                    }
                }
            }
            Reg::Init | Reg::Uninit => {
                if how == Access::Write && matches!(value, Some(Reg::Stack(_))) {
                    st.escape();
                }
            }
        }
        Ok(())
    }

    /// One instruction at `pc`, `st` being the state before it; `st` becomes the state after
    /// it (for calls to subprograms: the caller's side, before the callee's effects).
    pub(super) fn step(&mut self, pc: usize, st: &mut State) -> Result<(), Reject> {
        let insn = self.v.insn(pc);
        match insn.opc & CLASS_MASK {
            CLASS_ALU | CLASS_ALU64 => self.alu(&insn, st),
            CLASS_LDX => self.ldx(pc, &insn, st),
            CLASS_STX => self.stx(pc, &insn, st),
            CLASS_ST => self.st(pc, &insn, st),
            CLASS_LD => self.ld(pc, &insn, st),
            _ => self.jmp(pc, &insn, st),
        }
    }

    fn ldx(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        let base = self.src(st, i.src)?;
        self.dst(i.dst)?;
        let m = Mem { regno: i.src, base, off: i.off, size: size_bytes(i.opc), how: Access::Read, value: None };
        self.mem(pc, st, m)?;
        Self::set(st, i.dst, Reg::Init);
        Ok(())
    }

    fn stx(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        if i.opc & MODE_MASK == MODE_ATOMIC {
            return self.atomic(pc, i, st);
        }
        ensure!(
            self,
            i.opc & MODE_MASK != MODE_MEM || i.imm != 0,
            EINVAL,
            "BPF_STX uses reserved fields",
            "BPF_STX uses reserved fields"
        );
        let value = self.src(st, i.src)?;
        let base = self.src(st, i.dst)?;
        let m = Mem { regno: i.dst, base, off: i.off, size: size_bytes(i.opc), how: Access::Write, value: Some(value) };
        self.mem(pc, st, m)
    }

    fn st(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        ensure!(
            self,
            i.opc & MODE_MASK != MODE_MEM || i.src != 0,
            EINVAL,
            "BPF_ST uses reserved fields",
            "BPF_ST uses reserved fields"
        );
        let base = self.src(st, i.dst)?;
        let m = Mem { regno: i.dst, base, off: i.off, size: size_bytes(i.opc), how: Access::Write, value: None };
        self.mem(pc, st, m)
    }

    /// `check_atomic`.
    fn atomic(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        let valid = [OP_ADD_I, OP_AND_I, OP_OR_I, OP_XOR_I].contains(&(i.imm & !ATOMIC_FETCH))
            || i.imm == ATOMIC_XCHG
            || i.imm == ATOMIC_CMPXCHG;
        ensure!(
            self,
            !valid,
            EINVAL,
            "BPF_ATOMIC uses invalid atomic opcode %02x",
            "BPF_ATOMIC uses invalid atomic opcode {:02x}",
            i.imm
        );
        let size = i.opc & SIZE_MASK;
        ensure!(
            self,
            size != SIZE_W && size != SIZE_DW,
            EINVAL,
            "invalid atomic operand size",
            "invalid atomic operand size"
        );
        let value = self.src(st, i.src)?;
        let base = self.src(st, i.dst)?;
        if i.imm == ATOMIC_CMPXCHG {
            let r0 = self.src(st, 0)?;
            ensure!(self, self.leaks(r0), EACCES, "R%d leaks addr into mem", "R0 leaks addr into mem");
        }
        ensure!(self, self.leaks(value), EACCES, "R%d leaks addr into mem", "R{} leaks addr into mem", i.src);
        let load_reg = if i.imm & ATOMIC_FETCH == 0 {
            None
        } else if i.imm == ATOMIC_CMPXCHG {
            Some(0)
        } else {
            Some(i.src)
        };
        if let Some(r) = load_reg {
            self.dst(r)?;
        }
        let read = Mem { regno: i.dst, base, off: i.off, size: size_bytes(i.opc), how: Access::Read, value: None };
        self.mem(pc, st, read)?;
        self.mem(pc, st, Mem { how: Access::Write, value: Some(value), ..read })?;
        if let Some(r) = load_reg {
            Self::set(st, r, Reg::Init);
        }
        Ok(())
    }

    fn ld(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        match i.opc & MODE_MASK {
            MODE_ABS | MODE_IND => {
                use syscall_abi::bpf::ProgType;
                let skb =
                    matches!(self.v.input.prog_type, ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct);
                ensure!(
                    self,
                    !skb,
                    EINVAL,
                    "BPF_LD_[ABS|IND] instructions not allowed for this program type",
                    "BPF_LD_[ABS|IND] instructions not allowed for this program type"
                );
                // The engine has no legacy packet loads: Linux's answer when a program
                // type lacks `gen_ld_abs`.
                ensure!(self, true, EINVAL, "bpf verifier is misconfigured", "bpf verifier is misconfigured");
                for r in 0..=5 {
                    Self::set(st, r, Reg::Uninit);
                }
                Self::set(st, 0, Reg::Init);
                Ok(())
            }
            MODE_IMM => {
                ensure!(
                    self,
                    i.opc & SIZE_MASK != SIZE_DW,
                    EINVAL,
                    "invalid BPF_LD_IMM insn",
                    "invalid BPF_LD_IMM insn"
                );
                ensure!(
                    self,
                    i.off != 0,
                    EINVAL,
                    "BPF_LD_IMM64 uses reserved fields",
                    "BPF_LD_IMM64 uses reserved fields"
                );
                self.dst(i.dst)?;
                let value = if i.opc != LD_IMM64 {
                    Reg::Init
                } else if i.src == 0 {
                    let hi = self.v.imm_at(pc + 1) as u32;
                    Reg::Const((u64::from(hi) << 32) | u64::from(i.imm as u32))
                } else {
                    Reg::Init
                };
                Self::set(st, i.dst, value);
                Ok(())
            }
            _ => {
                ensure!(self, true, EINVAL, "invalid BPF_LD mode", "invalid BPF_LD mode");
                Ok(())
            }
        }
    }

    fn jmp(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        let class = i.opc & CLASS_MASK;
        let x = i.opc & SRC_X != 0;
        let jmp32 = class == CLASS_JMP32;
        match i.opc & OP_MASK {
            OP_CALL => {
                let reserved = x
                    || (i.src != PSEUDO_KFUNC_CALL && i.off != 0)
                    || (i.src != 0 && i.src != PSEUDO_CALL && i.src != PSEUDO_KFUNC_CALL)
                    || i.dst != 0
                    || jmp32;
                ensure!(self, reserved, EINVAL, "BPF_CALL uses reserved fields", "BPF_CALL uses reserved fields");
                if i.src == PSEUDO_CALL {
                    self.pseudo_call(pc, st)
                } else {
                    self.helper_call(pc, i, st)
                }
            }
            OP_JA => {
                let v4 = self.v.input.isa_v4;
                let reserved =
                    x || i.src != 0 || i.dst != 0 || (!jmp32 && i.imm != 0) || (jmp32 && (!v4 || i.off != 0));
                ensure!(self, reserved, EINVAL, "BPF_JA uses reserved fields", "BPF_JA uses reserved fields");
                Ok(())
            }
            OP_EXIT => {
                let reserved = x || i.imm != 0 || i.src != 0 || i.dst != 0 || jmp32;
                ensure!(self, reserved, EINVAL, "BPF_EXIT uses reserved fields", "BPF_EXIT uses reserved fields");
                self.exit(pc, st)
            }
            op => {
                ensure!(
                    self,
                    !is_cond_jmp_op(op),
                    EINVAL,
                    "invalid BPF_JMP/JMP32 opcode %x",
                    "invalid BPF_JMP/JMP32 opcode {op:x}"
                );
                let dst = self.src(st, i.dst)?;
                if x {
                    ensure!(
                        self,
                        i.imm != 0,
                        EINVAL,
                        "BPF_JMP/JMP32 uses reserved fields",
                        "BPF_JMP/JMP32 uses reserved fields"
                    );
                    let src = self.src(st, i.src)?;
                    ensure!(
                        self,
                        self.leaks(src),
                        EACCES,
                        "R%d pointer comparison prohibited",
                        "R{} pointer comparison prohibited",
                        i.src
                    );
                } else {
                    ensure!(
                        self,
                        i.src != 0,
                        EINVAL,
                        "BPF_JMP/JMP32 uses reserved fields",
                        "BPF_JMP/JMP32 uses reserved fields"
                    );
                }
                ensure!(
                    self,
                    self.leaks(dst),
                    EACCES,
                    "R%d pointer comparison prohibited",
                    "R{} pointer comparison prohibited",
                    i.dst
                );
                Ok(())
            }
        }
    }

    /// A bpf-to-bpf call, caller side: the frame limit, and stack addresses passed on.
    fn pseudo_call(&mut self, pc: usize, st: &mut State) -> Result<(), Reject> {
        let frame = self.frame_of.get(self.v.subprog_of(pc)).copied().unwrap_or(0);
        let too_deep = frame as usize + 1 >= MAX_CALL_FRAMES;
        ensure!(
            self,
            too_deep,
            E2BIG,
            "the call stack of %d frames is too deep",
            "the call stack of {} frames is too deep",
            frame + 2
        );
        self.pass_args(pc, st, 5);
        Ok(())
    }

    /// Stack pointers among `R1..=R<nargs>` leave the pass's sight.
    fn pass_args(&mut self, pc: usize, st: &mut State, nargs: u8) {
        for r in 1..=usize::from(nargs.min(5)) {
            if let Reg::Stack(off) = st.regs[r] {
                self.touch_stack(pc, off);
                st.escape();
            }
        }
    }

    /// `check_helper_call`, as far as prototypes go.
    fn helper_call(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
        let id = i.imm;
        ensure!(
            self,
            !helper_id_in_range(id),
            EINVAL,
            "invalid func %s#%d",
            "invalid func {}#{id}",
            FuncName(i64::from(id))
        );
        let proto = u32::try_from(id).ok().and_then(|id| self.ops.helper_proto(id));
        ensure!(self, proto.is_none(), EINVAL, "unknown func %s#%d", "unknown func {}#{id}", FuncName(i64::from(id)));
        let proto = proto.unwrap_or(HelperProto { id: 0, gpl_only: false, nargs: 5, ret: HelperRet::Value });
        ensure!(
            self,
            proto.gpl_only && !self.v.input.gpl_compatible,
            EINVAL,
            "cannot call GPL-restricted function from non-GPL compatible program",
            "cannot call GPL-restricted function from non-GPL compatible program"
        );
        for r in 1..=proto.nargs.min(5) {
            self.src(st, r)?;
        }
        if self.checking {
            self.acc.helpers.push(proto.id);
        }
        self.pass_args(pc, st, proto.nargs);
        for r in 1..=5 {
            Self::set(st, r, Reg::Uninit);
        }
        let r0 = if proto.ret == HelperRet::Void { Reg::Uninit } else { Reg::Init };
        Self::set(st, 0, r0);
        Ok(())
    }

    /// `exit`: `check_return_code` for the main program, `prepare_func_exit` for the others.
    fn exit(&mut self, pc: usize, st: &State) -> Result<(), Reject> {
        let sub = self.v.subprog_of(pc);
        let r0 = st.regs[0];
        if sub == 0 {
            self.src(st, 0)?;
            ensure!(self, self.leaks(r0), EACCES, "R0 leaks addr as return value", "R0 leaks addr as return value");
            return Ok(());
        }
        ensure!(
            self,
            matches!(r0, Reg::Stack(_)),
            EINVAL,
            "cannot return stack pointer to the caller",
            "cannot return stack pointer to the caller"
        );
        if self.v.subprogs.get(sub).is_some_and(|s| s.is_callback) {
            ensure!(self, r0 == Reg::Uninit, EACCES, "R0 not a scalar value", "R0 not a scalar value");
            if let Reg::Const(c) = r0 {
                ensure!(
                    self,
                    c > 1,
                    EINVAL,
                    "At callback return the register R0 has value %s should have been in (0x0; 0x1)",
                    "At callback return the register R0 has value ({c:#x}; 0x0) should have been in (0x0; 0x1)"
                );
            }
        }
        Ok(())
    }

    /// Whether the conditional jump `i` is taken, when both operands are known constants.
    pub(super) fn branch(&self, i: &Insn, st: &State) -> Option<bool> {
        let Reg::Const(a) = st.regs.get(usize::from(i.dst)).copied()? else { return None };
        let b = if i.opc & SRC_X != 0 {
            match st.regs.get(usize::from(i.src)).copied()? {
                Reg::Const(b) => b,
                _ => return None,
            }
        } else {
            i.imm as i64 as u64
        };
        let (a, b, sa, sb) = if i.opc & CLASS_MASK == CLASS_JMP32 {
            let (a, b) = (a as u32, b as u32);
            (u64::from(a), u64::from(b), i64::from(a as i32), i64::from(b as i32))
        } else {
            (a, b, a as i64, b as i64)
        };
        Some(match i.opc & OP_MASK {
            OP_JEQ => a == b,
            OP_JNE => a != b,
            OP_JGT => a > b,
            OP_JGE => a >= b,
            OP_JLT => a < b,
            OP_JLE => a <= b,
            OP_JSET => a & b != 0,
            OP_JSGT => sa > sb,
            OP_JSGE => sa >= sb,
            OP_JSLT => sa < sb,
            OP_JSLE => sa <= sb,
            _ => return None,
        })
    }
}
