//! One instruction on one path: its checks, in the order Linux's `do_check` makes them, and
//! its effect on the [`State`]; where control goes next ([`Next`]).
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c`: `do_check`, `check_reg_arg`,
//! `check_atomic`, `check_ld_imm`, `check_ld_abs`, `__check_func_call`,
//! `prepare_func_exit`, `check_return_code`, `check_reference_leak`. Memory accesses are in
//! `mem.rs`, helper calls in `call.rs`, conditional jumps in `cond.rs`, ALU in `alu.rs`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::opcodes::*;
use super::state::{Bounds, Frame, Kind, MapDesc, Ptr, Reg, State, FP};
use super::{bail, Reject, Verifier};
use crate::vm::insn::Insn;
use crate::vm::MAX_CALL_FRAMES;

/// What the exploration gathers while it goes.
#[derive(Default)]
pub(super) struct Acc {
    /// Stack depth per subprogram.
    pub stack_depth: Vec<u32>,
    /// Helper ids called.
    pub helpers: Vec<u32>,
    /// The next id for pointers that may be null, references and scalar copies.
    pub next_id: u32,
    /// Deepest frame count seen.
    pub max_frames: u32,
}

/// The instruction executor.
pub(super) struct Exec<'a, 'v> {
    pub v: &'a Verifier<'v>,
    pub ops: &'a dyn super::helpers::VerifierOps,
    /// Report errors (always, since the exploration is the check).
    pub checking: bool,
    pub acc: Acc,
}

/// Where the path goes after an instruction.
pub(super) enum Next {
    /// Continue at this instruction.
    Pc(usize),
    /// Both edges of a conditional jump are possible: continue at `fall`, `other` is the
    /// state at `target`.
    Branch { fall: usize, target: usize, other: Box<State> },
    /// The root frame exited.
    Done,
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
    /// The register holding the stored value (for messages).
    pub value_reg: u8,
}

/// How a load/store touches memory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Write,
}

impl Exec<'_, '_> {
    /// A fresh id.
    pub(super) fn new_id(&mut self) -> u32 {
        let id = self.acc.next_id;
        self.acc.next_id = self.acc.next_id.wrapping_add(1).max(1);
        id
    }

    /// A register read (`check_reg_arg(SRC_OP)`).
    pub(super) fn src(&self, st: &State, r: u8) -> Result<Reg, Reject> {
        if usize::from(r) > FP {
            bail!(EINVAL, "R%d is invalid", "R{r} is invalid");
        }
        let reg = st.reg(usize::from(r));
        ensure!(self, reg == Reg::Uninit, EACCES, "R%d !read_ok", "R{r} !read_ok");
        Ok(reg)
    }

    /// A register write check (`check_reg_arg(DST_OP)`).
    pub(super) fn dst(&self, r: u8) -> Result<(), Reject> {
        ensure!(self, usize::from(r) > FP, EINVAL, "R%d is invalid", "R{r} is invalid");
        ensure!(self, usize::from(r) == FP, EACCES, "frame pointer is read only", "frame pointer is read only");
        Ok(())
    }

    /// Writes a register of the current frame (never `R10` or an invalid one).
    pub(super) fn set(st: &mut State, r: u8, value: Reg) {
        if usize::from(r) < FP {
            st.cur_mut().regs[usize::from(r)] = value;
        }
    }

    /// `is_pointer_value` for an unprivileged loader (privileged ones may leak pointers).
    pub(super) fn leaks(&self, reg: Reg) -> bool {
        !self.v.input.privileged && reg.is_ptr()
    }

    /// Records a use of the stack of `subprog` down to `off`.
    pub(super) fn touch_stack(&mut self, subprog: usize, off: i32) {
        if off >= 0 {
            return;
        }
        if let Some(depth) = self.acc.stack_depth.get_mut(subprog) {
            *depth = (*depth).max(off.unsigned_abs());
        }
    }

    /// One instruction at `pc`; `st` becomes the state after it on the path taken first.
    pub(super) fn step(&mut self, pc: usize, st: &mut State) -> Result<Next, Reject> {
        let insn = self.v.insn(pc);
        let next = self.v.next_pc(pc);
        match insn.opc & CLASS_MASK {
            CLASS_ALU | CLASS_ALU64 => self.alu(&insn, st)?,
            CLASS_LDX => self.ldx(&insn, st)?,
            CLASS_STX => self.stx(&insn, st)?,
            CLASS_ST => self.st(&insn, st)?,
            CLASS_LD => self.ld(pc, &insn, st)?,
            _ => return self.jmp(pc, &insn, st),
        }
        Ok(Next::Pc(next))
    }

    fn ldx(&mut self, i: &Insn, st: &mut State) -> Result<(), Reject> {
        let base = self.src(st, i.src)?;
        self.dst(i.dst)?;
        let m = Mem {
            regno: i.src,
            base,
            off: i.off,
            size: size_bytes(i.opc),
            how: Access::Read,
            value: None,
            value_reg: 0,
        };
        let mut loaded = self.mem(st, m)?;
        if i.opc & MODE_MASK == MODE_MEMSX {
            if let Reg::Scalar(_) = loaded {
                loaded = Reg::unknown_scalar();
            }
        }
        Self::set(st, i.dst, loaded);
        Ok(())
    }

    fn stx(&mut self, i: &Insn, st: &mut State) -> Result<(), Reject> {
        if i.opc & MODE_MASK == MODE_ATOMIC {
            return self.atomic(i, st);
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
        let m = Mem {
            regno: i.dst,
            base,
            off: i.off,
            size: size_bytes(i.opc),
            how: Access::Write,
            value: Some(value),
            value_reg: i.src,
        };
        self.mem(st, m).map(|_| ())
    }

    fn st(&mut self, i: &Insn, st: &mut State) -> Result<(), Reject> {
        ensure!(
            self,
            i.opc & MODE_MASK != MODE_MEM || i.src != 0,
            EINVAL,
            "BPF_ST uses reserved fields",
            "BPF_ST uses reserved fields"
        );
        let base = self.src(st, i.dst)?;
        let size = size_bytes(i.opc);
        // An 8-byte immediate store spills a known constant (Linux 6.1 with `bpf_capable`).
        let value = (size == 8).then(|| Reg::konst(i.imm as i64 as u64));
        let m = Mem { regno: i.dst, base, off: i.off, size, how: Access::Write, value, value_reg: 0 };
        self.mem(st, Mem { value: value.filter(|_| self.v.input.privileged), ..m }).map(|_| ())
    }

    /// `check_atomic`.
    fn atomic(&mut self, i: &Insn, st: &mut State) -> Result<(), Reject> {
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
        if let Reg::Ptr(Ptr { kind: Kind::Ctx, .. }) = base {
            bail!(
                EACCES,
                "BPF_ATOMIC stores into R%d %s is not allowed",
                "BPF_ATOMIC stores into R{} ctx is not allowed",
                i.dst
            );
        }
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
        let read = Mem {
            regno: i.dst,
            base,
            off: i.off,
            size: size_bytes(i.opc),
            how: Access::Read,
            value: None,
            value_reg: i.src,
        };
        self.mem(st, read)?;
        // The stored value is not a plain spill: the slot becomes unknown data.
        self.mem(st, Mem { how: Access::Write, value: None, ..read })?;
        if let Some(r) = load_reg {
            let width = if size == SIZE_W { Bounds::urange(0, u64::from(u32::MAX)) } else { Bounds::UNKNOWN };
            Self::set(st, r, Reg::scalar(width));
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
                bail!(EINVAL, "bpf verifier is misconfigured", "bpf verifier is misconfigured");
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
                let value = self.ld_imm64(pc, i);
                Self::set(st, i.dst, value);
                Ok(())
            }
            _ => bail!(EINVAL, "invalid BPF_LD mode", "invalid BPF_LD mode"),
        }
    }

    /// The value of an `ld_imm64` (`check_ld_imm`).
    fn ld_imm64(&self, pc: usize, i: &Insn) -> Reg {
        let aux = self.v.imm_at(pc + 1);
        if i.src == 0 {
            return Reg::konst((u64::from(aux as u32) << 32) | u64::from(i.imm as u32));
        }
        let load = self.v.pseudo_loads.iter().find(|l| l.insn == pc);
        let Some(load) = load else { return Reg::Unknown };
        let desc = MapDesc { insn: pc as u32, info: self.ops.map_info(load) };
        use super::PseudoKind as P;
        match load.kind {
            P::MapFd | P::MapIdx => Reg::Ptr(Ptr::new(Kind::MapPtr(desc))),
            P::MapValue | P::MapIdxValue => {
                let mut p = Ptr::new(Kind::MapValue(desc));
                p.off = load.aux_imm;
                Reg::Ptr(p)
            }
            P::Func => {
                let target = usize::try_from(pc as i64 + i64::from(i.imm) + 1).unwrap_or(0);
                Reg::Ptr(Ptr::new(Kind::Func(target as u32)))
            }
            P::BtfId => Reg::Unknown,
        }
    }

    fn jmp(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<Next, Reject> {
        let class = i.opc & CLASS_MASK;
        let x = i.opc & SRC_X != 0;
        let jmp32 = class == CLASS_JMP32;
        let next = self.v.next_pc(pc);
        match i.opc & OP_MASK {
            OP_CALL => {
                let reserved = x
                    || (i.src != PSEUDO_KFUNC_CALL && i.off != 0)
                    || (i.src != 0 && i.src != PSEUDO_CALL && i.src != PSEUDO_KFUNC_CALL)
                    || i.dst != 0
                    || jmp32;
                ensure!(self, reserved, EINVAL, "BPF_CALL uses reserved fields", "BPF_CALL uses reserved fields");
                if i.src == PSEUDO_CALL {
                    let target = usize::try_from(pc as i64 + i64::from(i.imm) + 1).unwrap_or(usize::MAX);
                    self.pseudo_call(target, next, st)
                } else {
                    self.helper_call(pc, i, st)?;
                    Ok(Next::Pc(next))
                }
            }
            OP_JA => {
                let v4 = self.v.input.isa_v4;
                let reserved =
                    x || i.src != 0 || i.dst != 0 || (!jmp32 && i.imm != 0) || (jmp32 && (!v4 || i.off != 0));
                ensure!(self, reserved, EINVAL, "BPF_JA uses reserved fields", "BPF_JA uses reserved fields");
                Ok(Next::Pc(self.v.successors(pc)[0]))
            }
            OP_EXIT => {
                let reserved = x || i.imm != 0 || i.src != 0 || i.dst != 0 || jmp32;
                ensure!(self, reserved, EINVAL, "BPF_EXIT uses reserved fields", "BPF_EXIT uses reserved fields");
                self.exit(pc, st)
            }
            _ => self.cond_jmp(pc, i, st),
        }
    }

    /// A bpf-to-bpf call (`__check_func_call`): a new frame with `R1`-`R5` copied.
    fn pseudo_call(&mut self, target: usize, ret_pc: usize, st: &mut State) -> Result<Next, Reject> {
        let curframe = st.base_frame as usize + st.frames.len() - 1;
        ensure!(
            self,
            curframe + 1 >= MAX_CALL_FRAMES,
            E2BIG,
            "the call stack of %d frames is too deep",
            "the call stack of {} frames is too deep",
            curframe + 2
        );
        let sub = self.v.subprog_at(target).unwrap_or(0);
        let index = st.frames.len() as u8;
        let mut callee = Frame::entry(index, sub, ret_pc);
        for r in 1..=5 {
            callee.regs[r] = st.reg(r);
        }
        st.frames.push(callee);
        let depth = st.base_frame + st.frames.len() as u32;
        self.acc.max_frames = self.acc.max_frames.max(depth);
        Ok(Next::Pc(target))
    }

    /// `exit`: `check_reference_leak` and `check_return_code` for a root,
    /// `prepare_func_exit` for a callee.
    fn exit(&mut self, pc: usize, st: &mut State) -> Result<Next, Reject> {
        let r0 = st.reg(0);
        if st.frames.len() > 1 {
            self.src(st, 0)?;
            ensure!(
                self,
                matches!(r0, Reg::Ptr(Ptr { kind: Kind::Stack { .. }, .. })),
                EINVAL,
                "cannot return stack pointer to the caller",
                "cannot return stack pointer to the caller"
            );
            let Some(callee) = st.frames.pop() else { return Ok(Next::Done) };
            for r in 1..=5 {
                Self::set(st, r, Reg::Uninit);
            }
            Self::set(st, 0, r0);
            return Ok(Next::Pc(callee.ret_pc));
        }
        if let Some(&(id, insn)) = st.refs.first() {
            bail!(EINVAL, "Unreleased reference id=%d alloc_insn=%d", "Unreleased reference id={id} alloc_insn={insn}");
        }
        let sub = self.v.subprog_of(pc);
        if sub == 0 {
            self.src(st, 0)?;
            ensure!(self, self.leaks(r0), EACCES, "R0 leaks addr as return value", "R0 leaks addr as return value");
            return Ok(Next::Done);
        }
        // A callback root.
        ensure!(
            self,
            !matches!(r0, Reg::Scalar(_) | Reg::Unknown),
            EACCES,
            "R0 not a scalar value",
            "R0 not a scalar value"
        );
        if let Reg::Scalar(s) = r0 {
            ensure!(
                self,
                s.b.umax > 1,
                EINVAL,
                "At callback return the register R0 has value %s should have been in (0x0; 0x1)",
                "At callback return the register R0 has value {} should have been in (0x0; 0x1)",
                super::cond::tnum_str(&s.b)
            );
        }
        Ok(Next::Done)
    }
}
