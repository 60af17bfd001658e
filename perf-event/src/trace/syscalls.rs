//! Syscall tracepoints: `syscalls/sys_enter_<name>` and `syscalls/sys_exit_<name>` with
//! Linux's x86_64 records, and the raw tracepoints `sys_enter` / `sys_exit`.
//!
//! Reference: Linux 6.1 `kernel/trace/trace_syscalls.c`. Enter record: common header,
//! `int __syscall_nr` at 8, each argument as an 8-byte field from 16 (`signed:0`, the C type
//! as declared); print fmt `"dfd: 0x%08lx, ...", ((unsigned long)(REC->dfd)), ...`. Exit
//! record: `__syscall_nr` at 8, `long ret` at 16, print fmt `"0x%lx", REC->ret`.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use bpf_subsys::attach::PerfEventKind;
use spin::RwLock;
use syscall_abi::{err, Errno, Result};

use super::event::{check_name, EventControl, EventDesc, TraceEvent};
use super::field::{Field, FieldStyle};
use super::raw::RawTracepoint;
use super::registry::EventTable;
use super::X86PtRegs;

/// Highest syscall number accepted (the table is indexed by number).
const MAX_NR: u64 = 4095;
/// Offset of the first argument in an enter record.
const ARGS_OFFSET: usize = 16;
/// Size of the largest enter record (6 arguments).
const MAX_ENTER: usize = ARGS_OFFSET + 6 * 8;

/// Enabled syscall events and raw `sys_enter`/`sys_exit` consumers of every registry: the
/// hot paths test only this (one load from a fixed address and a branch).
static ANY_ACTIVE: AtomicUsize = AtomicUsize::new(0);

struct SyscallEntry {
    nargs: usize,
    enter: Arc<TraceEvent>,
    exit: Arc<TraceEvent>,
}

/// The syscall tracepoints of a kernel. The kernel registers each syscall once at boot and
/// calls [`Self::syscall_enter`] / [`Self::syscall_exit`] around every syscall.
pub struct SyscallTracepoints {
    table: Arc<EventTable>,
    /// Enabled syscall events + raw `sys_enter`/`sys_exit` users: 0 = the hot paths return.
    active: Arc<AtomicUsize>,
    by_nr: RwLock<Vec<Option<SyscallEntry>>>,
    raw_enter: Arc<RawTracepoint>,
    raw_exit: Arc<RawTracepoint>,
}

/// Counts an enabled event in the shared `active` counter.
struct SyscallControl {
    active: Arc<AtomicUsize>,
    name: String,
    exit: bool,
}

fn bump(active: &AtomicUsize, on: bool) {
    if on {
        active.fetch_add(1, Ordering::Relaxed);
        ANY_ACTIVE.fetch_add(1, Ordering::Relaxed);
    } else {
        active.fetch_sub(1, Ordering::Relaxed);
        ANY_ACTIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EventControl for SyscallControl {
    fn set_enabled(&self, on: bool) -> Result<()> {
        bump(&self.active, on);
        Ok(())
    }

    fn print(&self, ev: &TraceEvent, rec: &[u8], out: &mut String) {
        let fields = ev.fields();
        if self.exit {
            let ret = fields.get(1).and_then(|f| f.read_int(rec)).unwrap_or(0);
            let _ = write!(out, "sys_{} -> 0x{ret:x}", self.name);
            return;
        }
        let _ = write!(out, "sys_{}(", self.name);
        for (i, f) in fields.iter().skip(1).enumerate() {
            let v = f.read_int(rec).unwrap_or(0);
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(out, "{sep}{}: {v:x}", f.name);
        }
        out.push(')');
    }
}

fn nr_field() -> Field {
    Field::new("int", "__syscall_nr", 8, 4, true, FieldStyle::Signed)
}

impl SyscallTracepoints {
    pub(crate) fn new(table: Arc<EventTable>) -> SyscallTracepoints {
        let active = Arc::new(AtomicUsize::new(0));
        let raw = |name: &str| {
            let a = active.clone();
            Arc::new(RawTracepoint::new(name.to_string(), 2, Box::new(move |on| bump(&a, on))))
        };
        SyscallTracepoints {
            raw_enter: raw("sys_enter"),
            raw_exit: raw("sys_exit"),
            table,
            active,
            by_nr: RwLock::new(Vec::new()),
        }
    }

    pub(crate) fn raw_tracepoints(&self) -> [&Arc<RawTracepoint>; 2] {
        [&self.raw_enter, &self.raw_exit]
    }

    /// Creates `syscalls/sys_enter_<name>` and `syscalls/sys_exit_<name>` for syscall `nr`
    /// with `args` = `(C type, name)` as Linux declares them (e.g. `("const char *",
    /// "filename")`). Errors: more than 6 arguments, a bad name or `nr` above 4095 →
    /// `EINVAL`; `nr` or the name registered already → `EEXIST`.
    pub fn register(&self, nr: u64, name: &str, args: &[(&str, &str)]) -> Result<()> {
        if nr > MAX_NR || args.len() > 6 {
            return err(Errno::EINVAL, "bad syscall tracepoint");
        }
        check_name(name)?;
        for (_, a) in args {
            check_name(a)?;
        }
        let idx = usize::try_from(nr).map_err(|_| Errno::EINVAL)?;
        if self.by_nr.read().get(idx).is_some_and(Option::is_some) {
            return err(Errno::EEXIST, "syscall registered already");
        }
        let mut enter_fields = Vec::with_capacity(args.len() + 1);
        enter_fields.push(nr_field());
        let mut fmt = String::from("\"");
        let mut fmt_args = String::new();
        for (i, (ty, an)) in args.iter().enumerate() {
            enter_fields.push(Field {
                c_type: Cow::Owned(ty.to_string()),
                name: Cow::Owned(an.to_string()),
                array_len: 0,
                offset: ARGS_OFFSET + 8 * i,
                size: 8,
                signed: false,
                style: FieldStyle::Hex,
            });
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(fmt, "{sep}{an}: 0x%08lx");
            let _ = write!(fmt_args, ", ((unsigned long)(REC->{an}))");
        }
        fmt.push('"');
        fmt.push_str(&fmt_args);
        let control = |exit| Arc::new(SyscallControl { active: self.active.clone(), name: name.to_string(), exit });
        let enter = self.table.insert(EventDesc {
            system: "syscalls".to_string(),
            name: format!("sys_enter_{name}"),
            kind: PerfEventKind::Tracepoint,
            record_size: ARGS_OFFSET + 8 * args.len(),
            fields: enter_fields,
            print_fmt: fmt,
            control: control(false),
        })?;
        let exit = match self.table.insert(EventDesc {
            system: "syscalls".to_string(),
            name: format!("sys_exit_{name}"),
            kind: PerfEventKind::Tracepoint,
            record_size: ARGS_OFFSET + 8,
            fields: alloc::vec![nr_field(), Field::new("long", "ret", ARGS_OFFSET, 8, true, FieldStyle::Signed)],
            print_fmt: "\"0x%lx\", REC->ret".to_string(),
            control: control(true),
        }) {
            Ok(ev) => ev,
            Err(e) => {
                self.table.remove(enter.id());
                return Err(e);
            }
        };
        let mut by_nr = self.by_nr.write();
        if by_nr.len() <= idx {
            by_nr.resize_with(idx + 1, || None);
        }
        by_nr[idx] = Some(SyscallEntry { nargs: args.len(), enter, exit });
        Ok(())
    }

    /// The enter and exit events of syscall `nr`.
    pub fn events(&self, nr: u64) -> Option<(Arc<TraceEvent>, Arc<TraceEvent>)> {
        let idx = usize::try_from(nr).ok()?;
        let t = self.by_nr.read();
        let e = t.get(idx)?.as_ref()?;
        Some((e.enter.clone(), e.exit.clone()))
    }

    /// Whether a syscall event or raw `sys_enter`/`sys_exit` consumer of this registry is
    /// enabled.
    #[inline(always)]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed) != 0
    }

    /// The counter the hot paths test (enabled syscall events + raw `sys_enter` /
    /// `sys_exit` consumers of every registry; a kernel has one): a kernel may keep a
    /// pointer to it and test it inline before calling [`Self::syscall_enter`] /
    /// [`Self::syscall_exit`].
    pub fn active_counter(&self) -> &'static AtomicUsize {
        &ANY_ACTIVE
    }

    /// Syscall entry hook: one relaxed load (of a static) and a branch while no syscall event
    /// is enabled anywhere.
    #[inline(always)]
    pub fn syscall_enter(&self, nr: u64, args: &[u64; 6], regs: Option<&mut X86PtRegs>) {
        if ANY_ACTIVE.load(Ordering::Relaxed) != 0 {
            self.enter_slow(nr, args, regs);
        }
    }

    /// Syscall exit hook: one relaxed load (of a static) and a branch while no syscall event
    /// is enabled anywhere.
    #[inline(always)]
    pub fn syscall_exit(&self, nr: u64, ret: i64, regs: Option<&mut X86PtRegs>) {
        if ANY_ACTIVE.load(Ordering::Relaxed) != 0 {
            self.exit_slow(nr, ret, regs);
        }
    }

    #[cold]
    #[inline(never)]
    fn enter_slow(&self, nr: u64, args: &[u64; 6], regs: Option<&mut X86PtRegs>) {
        if !self.active() {
            return;
        }
        let regs_addr = regs.as_deref().map_or(0, |r| r as *const X86PtRegs as u64);
        self.raw_enter.fire(&[regs_addr, nr]);
        let Some((event, nargs)) = self.lookup(nr, false) else { return };
        let mut rec = [0u8; MAX_ENTER];
        let nr32 = i32::try_from(nr).unwrap_or(-1);
        rec[8..12].copy_from_slice(&nr32.to_le_bytes());
        for (i, a) in args.iter().take(nargs).enumerate() {
            let off = ARGS_OFFSET + 8 * i;
            rec[off..off + 8].copy_from_slice(&a.to_le_bytes());
        }
        event.fire(&mut rec[..ARGS_OFFSET + 8 * nargs], regs);
    }

    #[cold]
    #[inline(never)]
    fn exit_slow(&self, nr: u64, ret: i64, regs: Option<&mut X86PtRegs>) {
        if !self.active() {
            return;
        }
        let regs_addr = regs.as_deref().map_or(0, |r| r as *const X86PtRegs as u64);
        self.raw_exit.fire(&[regs_addr, ret as u64]);
        let Some((event, _)) = self.lookup(nr, true) else { return };
        let mut rec = [0u8; ARGS_OFFSET + 8];
        let nr32 = i32::try_from(nr).unwrap_or(-1);
        rec[8..12].copy_from_slice(&nr32.to_le_bytes());
        rec[16..24].copy_from_slice(&ret.to_le_bytes());
        event.fire(&mut rec, regs);
    }

    /// The enabled enter or exit event of `nr` (without waiting for a writer).
    fn lookup(&self, nr: u64, exit: bool) -> Option<(Arc<TraceEvent>, usize)> {
        let t = self.by_nr.try_read()?;
        let e = t.get(usize::try_from(nr).ok()?)?.as_ref()?;
        let ev = if exit { &e.exit } else { &e.enter };
        ev.enabled().then(|| (ev.clone(), e.nargs))
    }
}

impl core::fmt::Debug for SyscallTracepoints {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SyscallTracepoints").field("active", &self.active.load(Ordering::Relaxed)).finish()
    }
}
