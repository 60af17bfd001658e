//! Helper calls (Linux 6.1 `check_helper_call`, `check_func_arg`, `check_reg_type`,
//! `check_mem_size_reg`, `check_helper_mem_access`, `check_stack_range_initialized`,
//! `check_map_func_compatibility`, `release_reference`): each argument against its
//! prototype's type, memory arguments against their size, the map against the helper, and
//! `R0` typed from the return type (a map value or ring buffer memory that may be null).

use syscall_abi::bpf::{HelperId, MapType};

use super::exec::{ensure, Exec};
use super::helpers::{helper_id_in_range, Arg, FuncName, HelperProto, HelperRet};
use super::mem::MAX_VAR_OFF;
use super::state::{Kind, MapDesc, Ptr, Reg, State};
use super::{bail, Reject};
use crate::vm::insn::Insn;

/// What the arguments told (Linux `struct bpf_call_arg_meta`).
#[derive(Default)]
struct Meta {
    map: Option<MapDesc>,
    /// The constant size of `ARG_CONST_ALLOC_SIZE_OR_ZERO`.
    alloc_size: Option<u64>,
    /// The reference released by the call.
    release: u32,
}

/// `reg_type_str` of the types an argument accepts (`compatible_reg_types`).
fn expected(arg: Arg) -> &'static str {
    match arg {
        Arg::MapPtr => "map_ptr",
        Arg::MapKey | Arg::MapValue | Arg::UninitMapValue => "fp, pkt, pkt_meta, map_key, map_value",
        Arg::Ctx => "ctx",
        Arg::Mem | Arg::MemOrNull | Arg::UninitMem => "fp, pkt, pkt_meta, map_key, map_value, mem, alloc_mem, buf",
        Arg::ConstSize | Arg::ConstSizeOrZero | Arg::AllocSize => "scalar",
        Arg::AllocMem => "alloc_mem",
        Arg::Func => "func",
        Arg::StackOrNull => "fp",
        Arg::ConstStr => "map_value",
        Arg::No | Arg::Anything => "",
    }
}

/// Whether `reg` has a type `arg` accepts (`Unknown` is left to the engine).
fn type_ok(arg: Arg, reg: &Reg) -> bool {
    let p = match reg {
        Reg::Unknown => return true,
        Reg::Scalar(s) => {
            let null = s.b.konst() == Some(0);
            return match arg {
                Arg::ConstSize | Arg::ConstSizeOrZero | Arg::AllocSize => true,
                Arg::MemOrNull | Arg::StackOrNull => null,
                _ => false,
            };
        }
        Reg::Uninit => return false,
        Reg::Ptr(p) => p,
    };
    if p.maybe_null {
        return false;
    }
    match arg {
        Arg::MapPtr => matches!(p.kind, Kind::MapPtr(_)),
        Arg::MapKey | Arg::MapValue | Arg::UninitMapValue => {
            matches!(p.kind, Kind::Stack { .. } | Kind::MapValue(_))
        }
        Arg::Ctx => p.kind == Kind::Ctx,
        Arg::Mem | Arg::MemOrNull | Arg::UninitMem | Arg::ConstStr => {
            matches!(p.kind, Kind::Stack { .. } | Kind::MapValue(_) | Kind::Mem { .. })
        }
        Arg::AllocMem => matches!(p.kind, Kind::Mem { alloc: true, .. }),
        Arg::Func => matches!(p.kind, Kind::Func(_)),
        Arg::StackOrNull => matches!(p.kind, Kind::Stack { .. }),
        _ => false,
    }
}

/// The map types a helper needs, and the helpers a map type allows
/// (`check_map_func_compatibility`, for the helpers and maps of this subsystem).
fn map_func_ok(map: MapType, id: u32) -> bool {
    let is = |h: HelperId| id == h as u32;
    let ringbuf_fn = is(HelperId::RingbufOutput) || is(HelperId::RingbufReserve) || is(HelperId::RingbufQuery);
    let queue_fn = is(HelperId::MapPeekElem) || is(HelperId::MapPopElem) || is(HelperId::MapPushElem);
    let map_side = match map {
        MapType::ProgArray => is(HelperId::TailCall),
        MapType::PerfEventArray => is(HelperId::PerfEventOutput),
        MapType::Ringbuf => ringbuf_fn,
        MapType::StackTrace => is(HelperId::GetStackid),
        MapType::Queue | MapType::Stack => queue_fn,
        MapType::BloomFilter => is(HelperId::MapPeekElem) || is(HelperId::MapPushElem),
        _ => true,
    };
    let func_side = if is(HelperId::TailCall) {
        map == MapType::ProgArray
    } else if is(HelperId::PerfEventOutput) {
        map == MapType::PerfEventArray
    } else if is(HelperId::GetStackid) {
        map == MapType::StackTrace
    } else if ringbuf_fn {
        map == MapType::Ringbuf
    } else if is(HelperId::MapPopElem) {
        matches!(map, MapType::Queue | MapType::Stack)
    } else if is(HelperId::MapPeekElem) || is(HelperId::MapPushElem) {
        matches!(map, MapType::Queue | MapType::Stack | MapType::BloomFilter)
    } else {
        true
    };
    map_side && func_side
}

impl Exec<'_, '_> {
    /// `check_helper_call`.
    pub(super) fn helper_call(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<(), Reject> {
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
        let Some(proto) = proto else {
            bail!(EINVAL, "unknown func %s#%d", "unknown func {}#{id}", FuncName(i64::from(id)));
        };
        ensure!(
            self,
            proto.gpl_only && !self.v.input.gpl_compatible,
            EINVAL,
            "cannot call GPL-restricted function from non-GPL compatible program",
            "cannot call GPL-restricted function from non-GPL compatible program"
        );
        let mut meta = Meta::default();
        for n in 0..5u8 {
            self.func_arg(st, &proto, n, &mut meta)?;
        }
        if let Some(info) = meta.map.and_then(|m| m.info) {
            if !map_func_ok(info.map_type, proto.id) {
                bail!(
                    EINVAL,
                    "cannot pass map_type %d into func %s#%d",
                    "cannot pass map_type {} into func {}#{id}",
                    u32::from(info.map_type),
                    FuncName(i64::from(id))
                );
            }
        }
        self.acc.helpers.push(proto.id);
        if meta.release != 0 {
            let privileged = self.v.input.privileged;
            st.refs.retain(|&(r, _)| r != meta.release);
            st.for_each_reg(|reg| {
                if matches!(reg, Reg::Ptr(p) if p.ref_id == meta.release) {
                    *reg = if privileged { Reg::unknown_scalar() } else { Reg::Uninit };
                }
            });
        }
        for r in 1..=5 {
            Self::set(st, r, Reg::Uninit);
        }
        let r0 = match proto.ret {
            HelperRet::Value => Reg::unknown_scalar(),
            HelperRet::Void => Reg::Uninit,
            HelperRet::MapValueOrNull => match meta.map {
                Some(desc) => {
                    let mut p = Ptr::new(Kind::MapValue(desc));
                    p.maybe_null = true;
                    p.id = self.new_id();
                    Reg::Ptr(p)
                }
                None => Reg::Unknown,
            },
            HelperRet::AllocMemOrNull => match meta.alloc_size.and_then(|s| u32::try_from(s).ok()) {
                Some(size) => {
                    let id = self.new_id();
                    let mut p = Ptr::new(Kind::Mem { size, alloc: true });
                    p.maybe_null = true;
                    p.id = id;
                    p.ref_id = id;
                    st.refs.push((id, pc));
                    Reg::Ptr(p)
                }
                None => Reg::Unknown,
            },
        };
        Self::set(st, 0, r0);
        Ok(())
    }

    /// `check_func_arg` for argument `n` (`R<n+1>`).
    fn func_arg(&mut self, st: &mut State, proto: &HelperProto, n: u8, meta: &mut Meta) -> Result<(), Reject> {
        let arg = proto.args[usize::from(n)];
        if arg == Arg::No {
            return Ok(());
        }
        let regno = n + 1;
        let reg = self.src(st, regno)?;
        if arg == Arg::Anything {
            ensure!(
                self,
                self.leaks(reg),
                EACCES,
                "R%d leaks addr into helper function",
                "R{regno} leaks addr into helper function"
            );
            return Ok(());
        }
        if !type_ok(arg, &reg) {
            bail!(EACCES, "R%d type=%s expected=%s", "R{regno} type={} expected={}", reg.type_str(), expected(arg));
        }
        let Reg::Ptr(p) = reg else {
            // Sizes (checked with the memory argument before them), null, or unknown.
            return match (arg, reg) {
                (Arg::ConstSize | Arg::ConstSizeOrZero, Reg::Scalar(s)) => {
                    self.mem_size_arg(st, proto, regno, s.b, arg == Arg::ConstSizeOrZero)
                }
                (Arg::AllocSize, Reg::Scalar(s)) => match s.b.konst() {
                    Some(c) => {
                        meta.alloc_size = Some(c);
                        Ok(())
                    }
                    None => bail!(EACCES, "R%d is not a known constant'", "R{regno} is not a known constant'"),
                },
                _ => Ok(()),
            };
        };
        match arg {
            Arg::MapPtr => {
                if let Kind::MapPtr(desc) = p.kind {
                    meta.map = Some(desc);
                }
            }
            Arg::MapKey | Arg::MapValue | Arg::UninitMapValue => {
                let Some(map) = meta.map else {
                    let what = if arg == Arg::MapKey { "key" } else { "value" };
                    bail!(EACCES, "invalid map_ptr to access map->%s", "invalid map_ptr to access map->{what}");
                };
                if let Some(info) = map.info {
                    let size = if arg == Arg::MapKey { info.key_size } else { info.value_size };
                    let write = arg == Arg::UninitMapValue;
                    self.helper_mem(st, regno, &p, u64::from(size), false, write)?;
                }
            }
            Arg::Ctx if p.off != 0 => {
                bail!(
                    EACCES,
                    "dereference of modified %s ptr R%d off=%d disallowed",
                    "dereference of modified ctx ptr R{regno} off={} disallowed",
                    p.off
                );
            }
            Arg::AllocMem => {
                if p.ref_id == 0 {
                    bail!(
                        EINVAL,
                        "R%d must be referenced when passed to release function",
                        "R{regno} must be referenced when passed to release function"
                    );
                }
                if p.off != 0 || p.var.konst() != Some(0) {
                    bail!(
                        EACCES,
                        "R%d must have zero offset when passed to release func",
                        "R{regno} must have zero offset when passed to release func"
                    );
                }
                meta.release = p.ref_id;
            }
            _ => {}
        }
        Ok(())
    }

    /// `check_mem_size_reg`: the size in `R<regno>` for the memory in the register before it.
    fn mem_size_arg(
        &mut self,
        st: &mut State,
        proto: &HelperProto,
        regno: u8,
        b: super::state::Bounds,
        zero_ok: bool,
    ) -> Result<(), Reject> {
        let mem_arg = proto.args.get(usize::from(regno) - 2).copied().unwrap_or(Arg::No);
        let Reg::Ptr(p) = st.reg(usize::from(regno - 1)) else { return Ok(()) };
        if b.smin < 0 {
            bail!(
                EACCES,
                "R%d min value is negative, either use unsigned or 'var &= const'",
                "R{regno} min value is negative, either use unsigned or 'var &= const'"
            );
        }
        if b.umin == 0 && !zero_ok {
            bail!(EACCES, "R%d invalid zero-sized read", "R{regno} invalid zero-sized read");
        }
        if b.umax >= MAX_VAR_OFF {
            bail!(
                EACCES,
                "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'",
                "R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'"
            );
        }
        let write = mem_arg == Arg::UninitMem;
        self.helper_mem(st, regno - 1, &p, b.umax, zero_ok, write)
    }

    /// `check_helper_mem_access`: `size` bytes at the pointer in `R<regno>`; `write`: the
    /// helper fills them (raw mode), else they must be initialised.
    fn helper_mem(
        &mut self,
        st: &mut State,
        regno: u8,
        p: &Ptr,
        size: u64,
        zero_ok: bool,
        write: bool,
    ) -> Result<(), Reject> {
        let Ok(size) = i32::try_from(size) else { return Ok(()) };
        if size == 0 {
            return Ok(());
        }
        let _ = zero_ok;
        match p.kind {
            Kind::Stack { frame } => {
                let Some(f) = st.frames.get_mut(usize::from(frame)) else { return Ok(()) };
                let Some(var) = p.var.konst() else { return Ok(()) };
                let off = p.off.saturating_add(i32::try_from(var).unwrap_or(i32::MAX));
                if off < -super::state::STACK || off.saturating_add(size) > 0 {
                    bail!(
                        EACCES,
                        "invalid%s stack R%d off=%d size=%d",
                        "invalid indirect access to stack R{regno} off={off} size={size}"
                    );
                }
                if write {
                    f.write_misc(off, size);
                } else if let Some(i) = f.first_uninit(off, size) {
                    bail!(
                        EACCES,
                        "invalid%s read from stack R%d off %d+%d size %d",
                        "invalid indirect read from stack R{regno} off {off}+{i} size {size}"
                    );
                }
                let subprog = f.subprog;
                self.touch_stack(subprog, off);
                Ok(())
            }
            Kind::MapValue(desc) => match desc.info {
                Some(info) => self.region_access(regno, p, 0, size, info.value_size, "map value"),
                None => Ok(()),
            },
            Kind::Mem { size: mem, .. } => self.region_access(regno, p, 0, size, mem, "memory"),
            _ => Ok(()),
        }
    }
}
