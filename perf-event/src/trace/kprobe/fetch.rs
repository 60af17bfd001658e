//! Fetch arguments of kprobe events: `[NAME=]FETCHARG[:TYPE]`.
//!
//! ```text
//! %REG            a register (x86 names: di si dx cx r8 r9 ax bx bp sp ip flags r10-r15 ...)
//! @ADDR           memory at a kernel address
//! $stack $stackN  the stack pointer, the N-th word on the stack
//! $retval         the return value (kretprobes)
//! $comm           the current task's name (a string)
//! \IMM            an immediate number
//! +|-OFFS(ARG)    memory at ARG + OFFS (nests)
//! TYPE            u8..u64 s8..s64 x8..x64 (default u64), symbol, string (memory, $comm)
//! ```
//!
//! Reference: Linux 6.1 `kernel/trace/trace_probe.c` (`traceprobe_parse_probe_arg`, the
//! fetch type table: the `x` types show their `u` type in `format` and print as hex; strings
//! are `__data_loc char[]` fields printed `"..."`, `(fault)` when unreadable) and
//! `arch/x86/kernel/ptrace.c` (`regs_query_register_offset`: the register names). Not
//! supported (`EINVAL`): `@SYM`, user-memory (`+u`, `ustring`), bitfields,
//! immediate strings, `$argN`.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt::Write;

use syscall_abi::{err, Errno, Result};

use super::super::event::check_name;
use super::super::field::{Field, FieldStyle};
use super::super::X86PtRegs;

/// Longest argument name (Linux `MAX_ARG_NAME_LEN`).
const MAX_ARG_NAME_LEN: usize = 32;

/// Field names an argument may not take (the common fields and the probe fields).
const RESERVED: [&str; 8] = [
    "common_type",
    "common_flags",
    "common_preempt_count",
    "common_pid",
    "common_tgid",
    "__probe_ip",
    "__probe_ret_ip",
    "__probe_func",
];

/// A fetch type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FetchType {
    /// The name written in `kprobe_events` (`x32`).
    pub(crate) name: &'static str,
    /// The type the `format` file shows (`u32` for `x32`).
    pub(crate) fmttype: &'static str,
    /// Bytes.
    pub(crate) size: usize,
    pub(crate) signed: bool,
    pub(crate) hex: bool,
    /// Its conversion in the print fmt (`%u`, `%Lu`, `0x%x`, ...).
    pub(crate) printf: &'static str,
}

impl FetchType {
    /// Whether this is the `string` type (a `__data_loc` field).
    pub(crate) fn is_string(&self) -> bool {
        self.fmttype.starts_with("__data_loc")
    }
}

const fn ft(
    name: &'static str,
    fmttype: &'static str,
    size: usize,
    signed: bool,
    hex: bool,
    printf: &'static str,
) -> FetchType {
    FetchType { name, fmttype, size, signed, hex, printf }
}

/// The `string` type.
const STRING: FetchType = ft("string", "__data_loc char[]", 4, false, false, "\\\"%s\\\"");

/// The `symbol` type: a word printed as `sym+off/size`.
pub(crate) const SYMBOL: FetchType = ft("symbol", "u64", 8, false, true, "%pS");

const TYPES: [FetchType; 13] = [
    ft("u8", "u8", 1, false, false, "%u"),
    ft("u16", "u16", 2, false, false, "%u"),
    ft("u32", "u32", 4, false, false, "%u"),
    ft("u64", "u64", 8, false, false, "%Lu"),
    ft("s8", "s8", 1, true, false, "%d"),
    ft("s16", "s16", 2, true, false, "%d"),
    ft("s32", "s32", 4, true, false, "%d"),
    ft("s64", "s64", 8, true, false, "%Ld"),
    ft("x8", "u8", 1, false, true, "0x%x"),
    ft("x16", "u16", 2, false, true, "0x%x"),
    ft("x32", "u32", 4, false, true, "0x%x"),
    ft("x64", "u64", 8, false, true, "0x%Lx"),
    SYMBOL,
];

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// A register, by index into [`X86PtRegs`] field order.
    Reg(usize),
    /// The return value (`$retval`, kretprobes only).
    Retval,
    /// The stack pointer (`$stack`).
    Stack,
    /// The N-th word on the stack (`$stackN`).
    StackN(u64),
    /// An immediate (`\IMM`).
    Imm(u64),
    /// Memory at an address (`@ADDR`).
    Mem(u64),
    /// The current task's name (`$comm`).
    Comm,
    /// Memory at `base + offset` (`+OFFS(ARG)`).
    Deref {
        /// What gives the pointer.
        base: Box<Fetch>,
        /// Added to it.
        offset: i64,
    },
}

/// Deepest `+OFFS(...)` nesting (Linux `FETCH_INSN_MAX` bounds it too).
const MAX_DEPTH: usize = 8;

/// One parsed fetch argument.
#[derive(Debug, Clone)]
pub(crate) struct FetchArg {
    pub(crate) name: String,
    /// The argument as written after `NAME=` (shown back in `kprobe_events`).
    pub(crate) comm: String,
    pub(crate) source: Fetch,
    pub(crate) ty: FetchType,
}

/// What fetching needs besides the registers.
pub(crate) trait FetchEnv {
    /// Reads kernel memory (a fault → error).
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()>;
    /// The current task's name.
    fn comm(&self) -> [u8; 16];
}

fn parse_fetch(s: &str, retprobe: bool, depth: usize) -> Result<Fetch> {
    let num = |t: &str| super::parse::parse_num(t).ok_or(Errno::EINVAL);
    let f = if let Some(reg) = s.strip_prefix('%') {
        match REGS.iter().position(|r| *r == reg) {
            Some(i) => Fetch::Reg(i),
            None => return err(Errno::EINVAL, "unknown register"),
        }
    } else if let Some(addr) = s.strip_prefix('@') {
        if !addr.starts_with(|c: char| c.is_ascii_digit()) {
            return err(Errno::EINVAL, "@SYM is not supported");
        }
        Fetch::Mem(num(addr)?)
    } else if let Some(imm) = s.strip_prefix('\\') {
        Fetch::Imm(num(imm)?)
    } else if let Some(var) = s.strip_prefix('$') {
        match var {
            "retval" if retprobe => Fetch::Retval,
            "stack" => Fetch::Stack,
            "comm" => Fetch::Comm,
            _ => match var.strip_prefix("stack").filter(|n| n.bytes().all(|b| b.is_ascii_digit())) {
                Some(n) if !n.is_empty() => Fetch::StackN(n.parse().map_err(|_| Errno::EINVAL)?),
                _ => return err(Errno::EINVAL, "bad fetch variable"),
            },
        }
    } else if s.starts_with(['+', '-']) {
        if depth >= MAX_DEPTH {
            return err(Errno::EINVAL, "dereference nested too deep");
        }
        let (Some(open), true) = (s.find('('), s.ends_with(')')) else {
            return err(Errno::EINVAL, "bad dereference");
        };
        let (sign, digits) = s[..open].split_at(1);
        let magnitude = i64::try_from(num(digits)?).map_err(|_| Errno::EINVAL)?;
        let offset = if sign == "-" { -magnitude } else { magnitude };
        let base = parse_fetch(&s[open + 1..s.len() - 1], retprobe, depth + 1)?;
        if base == Fetch::Comm {
            return err(Errno::EINVAL, "cannot dereference $comm");
        }
        Fetch::Deref { base: Box::new(base), offset }
    } else {
        return err(Errno::EINVAL, "unsupported fetch argument");
    };
    Ok(f)
}

impl Fetch {
    /// The value as a word (pointer-sized reads for memory).
    fn word(&self, regs: &X86PtRegs, env: &dyn FetchEnv, size: usize) -> Option<u64> {
        let read = |addr: u64, size: usize| {
            let mut b = [0u8; 8];
            env.read(addr, b.get_mut(..size)?).ok()?;
            Some(u64::from_le_bytes(b))
        };
        match self {
            Fetch::Reg(i) => Some(reg_value(regs, *i)),
            Fetch::Retval => Some(regs.rax),
            Fetch::Stack => Some(regs.rsp),
            Fetch::StackN(n) => read(regs.rsp.wrapping_add(n.wrapping_mul(8)), 8),
            Fetch::Imm(v) => Some(*v),
            Fetch::Mem(a) => read(*a, size),
            Fetch::Comm => None,
            Fetch::Deref { base, offset } => read(base.word(regs, env, 8)?.wrapping_add_signed(*offset), size),
        }
    }

    /// The address a string is read from.
    fn string_addr(&self, regs: &X86PtRegs, env: &dyn FetchEnv) -> Option<u64> {
        match self {
            Fetch::Mem(a) => Some(*a),
            Fetch::Deref { base, offset } => Some(base.word(regs, env, 8)?.wrapping_add_signed(*offset)),
            _ => None,
        }
    }
}

/// x86_64 register names (`%di`) in [`X86PtRegs`] order.
const REGS: [&str; 21] = [
    "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di", "orig_ax", "ip",
    "cs", "flags", "sp", "ss",
];

fn reg_value(regs: &X86PtRegs, idx: usize) -> u64 {
    let all = [
        regs.r15,
        regs.r14,
        regs.r13,
        regs.r12,
        regs.rbp,
        regs.rbx,
        regs.r11,
        regs.r10,
        regs.r9,
        regs.r8,
        regs.rax,
        regs.rcx,
        regs.rdx,
        regs.rsi,
        regs.rdi,
        regs.orig_rax,
        regs.rip,
        regs.cs,
        regs.eflags,
        regs.rsp,
        regs.ss,
    ];
    all.get(idx).copied().unwrap_or(0)
}

impl FetchArg {
    /// Parses argument number `index` (0-based) of a probe; `taken` are the names of the
    /// arguments before it. `EINVAL` for every syntax error, unknown register or type, a
    /// `$retval` on a kprobe, a bad or duplicate name.
    pub(crate) fn parse(text: &str, index: usize, retprobe: bool, taken: &[FetchArg]) -> Result<FetchArg> {
        let (name, body) = match text.split_once('=') {
            Some((n, _)) if n.is_empty() || n.len() > MAX_ARG_NAME_LEN => {
                return err(Errno::EINVAL, "bad fetch argument name")
            }
            Some((n, b)) => (String::from(n), b),
            None => (alloc::format!("arg{}", index + 1), text),
        };
        check_name(&name)?;
        if RESERVED.contains(&name.as_str()) || taken.iter().any(|a| a.name == name) {
            return err(Errno::EINVAL, "fetch argument name in use");
        }
        let (src, ty) = match body.split_once(':') {
            Some((s, "string")) => (s, Some(STRING)),
            Some((s, t)) => (s, TYPES.iter().find(|x| x.name == t).copied()),
            None if body == "$comm" => (body, Some(STRING)),
            None => (body, Some(TYPES[3])),
        };
        let Some(ty) = ty else { return err(Errno::EINVAL, "unknown fetch type") };
        let source = parse_fetch(src, retprobe, 0)?;
        let fits = if ty.is_string() {
            matches!(source, Fetch::Mem(_) | Fetch::Deref { .. } | Fetch::Comm)
        } else {
            source != Fetch::Comm
        };
        if !fits {
            return err(Errno::EINVAL, "type does not fit the fetch argument");
        }
        Ok(FetchArg { name, comm: String::from(body), source, ty })
    }

    /// A numeric value, cut to the type's size later (0 when memory faults).
    pub(crate) fn fetch(&self, regs: &X86PtRegs, env: &dyn FetchEnv) -> u64 {
        self.source.word(regs, env, self.ty.size).unwrap_or(0)
    }

    /// A string argument into `out` (NUL-terminated, at most `out.len()` bytes with the
    /// NUL); the stored length, 0 when unreadable.
    pub(crate) fn fetch_str(&self, regs: &X86PtRegs, env: &dyn FetchEnv, out: &mut [u8]) -> usize {
        let Some(last) = out.len().checked_sub(1) else { return 0 };
        if self.source == Fetch::Comm {
            let comm = env.comm();
            let s = comm.split(|&b| b == 0).next().unwrap_or(&[]);
            let n = s.len().min(last);
            out[..n].copy_from_slice(&s[..n]);
            out[n] = 0;
            return n + 1;
        }
        let Some(addr) = self.source.string_addr(regs, env) else { return 0 };
        let mut at = addr;
        for (i, slot) in out[..last].iter_mut().enumerate() {
            let mut b = [0u8; 1];
            if env.read(at, &mut b).is_err() {
                return 0;
            }
            *slot = b[0];
            if b[0] == 0 {
                return i + 1;
            }
            at = at.wrapping_add(1);
        }
        out[last] = 0;
        last + 1
    }

    /// The record field at `offset`.
    pub(crate) fn field(&self, offset: usize) -> Field {
        Field {
            c_type: Cow::Borrowed(self.ty.fmttype),
            name: Cow::Owned(self.name.clone()),
            array_len: 0,
            offset,
            size: self.ty.size,
            signed: self.ty.signed,
            style: if self.ty.is_string() {
                FieldStyle::QuotedString
            } else if self.ty.hex {
                FieldStyle::Hex
            } else if self.ty.signed {
                FieldStyle::Signed
            } else {
                FieldStyle::Unsigned
            },
        }
    }
}

/// Linux's print fmt of a probe event with `args`.
pub(crate) fn print_fmt(retprobe: bool, args: &[FetchArg]) -> String {
    let (fmt, refs) = if retprobe {
        ("(%lx <- %lx)", "REC->__probe_func, REC->__probe_ret_ip")
    } else {
        ("(%lx)", "REC->__probe_ip")
    };
    let mut out = alloc::format!("\"{fmt}");
    for a in args {
        let _ = write!(out, " {}={}", a.name, a.ty.printf);
    }
    let _ = write!(out, "\", {refs}");
    for a in args {
        if a.ty.is_string() {
            let _ = write!(out, ", __get_str({})", a.name);
        } else {
            let _ = write!(out, ", REC->{}", a.name);
        }
    }
    out
}
