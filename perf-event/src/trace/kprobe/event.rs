//! A kprobe trace event: its probe, its records and how they print.
//!
//! Records (Linux 6.1 `struct kprobe_trace_entry_head` / `kretprobe_trace_entry_head`): the
//! common header, then `unsigned long __probe_ip` at 8 for a kprobe, or `__probe_func` at 8
//! and `__probe_ret_ip` at 16 for a kretprobe, then the fetch arguments packed one after the
//! other at their type's size.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;
use syscall_abi::{err, Errno, Result};

use super::super::event::{EventControl, TraceEvent};
use super::super::field::{Field, FieldStyle};
use super::super::output;
use super::super::X86PtRegs;
use super::fetch::{self, FetchArg, FetchEnv};
use super::parse::ProbeDef;
use super::{KprobeHit, ProbeArm};

/// Bytes of a record built on the stack; larger ones use the heap.
const STACK_RECORD: usize = 256;

/// Offset of the first fetch argument.
pub(crate) fn args_offset(retprobe: bool) -> usize {
    if retprobe {
        24
    } else {
        16
    }
}

/// The fields of a probe event.
pub(crate) fn fields(def: &ProbeDef) -> Vec<Field> {
    let mut out = if def.retprobe {
        vec![
            Field::new("unsigned long", "__probe_func", 8, 8, false, FieldStyle::Hex),
            Field::new("unsigned long", "__probe_ret_ip", 16, 8, false, FieldStyle::Hex),
        ]
    } else {
        vec![Field::new("unsigned long", "__probe_ip", 8, 8, false, FieldStyle::Hex)]
    };
    let mut off = args_offset(def.retprobe);
    for a in &def.args {
        out.push(a.field(off));
        off += a.ty.size;
    }
    out
}

/// What the probe engine calls: builds the record and fires the event.
pub(crate) struct Handler {
    pub(crate) event: Once<Weak<TraceEvent>>,
    /// For memory reads (weak: the engine holds this handler).
    pub(crate) arm: Weak<dyn ProbeArm>,
    pub(crate) addr: u64,
    pub(crate) retprobe: bool,
    pub(crate) args: Vec<FetchArg>,
    /// Size of the fixed record.
    pub(crate) size: usize,
    pub(crate) nhit: AtomicU64,
}

/// Most bytes a `string` argument stores (its NUL included).
const MAX_STRING: usize = 256;

/// Memory and task name for fetch arguments.
struct Ctx<'a> {
    arm: Option<Arc<dyn ProbeArm>>,
    event: &'a TraceEvent,
}

impl FetchEnv for Ctx<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        match &self.arm {
            Some(arm) => arm.read_kernel(addr, buf),
            None => err(Errno::EFAULT, "no probe engine"),
        }
    }

    fn comm(&self) -> [u8; 16] {
        self.event.env().current_comm()
    }
}

impl Handler {
    fn record(&self, regs: &mut X86PtRegs, head: &[u64]) {
        self.nhit.fetch_add(1, Ordering::Relaxed);
        let Some(event) = self.event.get().and_then(Weak::upgrade) else { return };
        let strings = self.args.iter().filter(|a| a.ty.is_string()).count();
        // Strings share what is left of a stack record, or get 64 bytes each on the heap.
        let total = if strings == 0 {
            self.size
        } else if self.size + strings <= STACK_RECORD {
            STACK_RECORD
        } else {
            self.size + 64 * strings
        };
        let mut stack = [0u8; STACK_RECORD];
        let mut heap;
        let rec: &mut [u8] = if total <= STACK_RECORD {
            &mut stack[..total]
        } else {
            heap = vec![0u8; total];
            &mut heap
        };
        let mut off = 8;
        for v in head {
            if let Some(dst) = rec.get_mut(off..off + 8) {
                dst.copy_from_slice(&v.to_le_bytes());
            }
            off += 8;
        }
        let ctx = Ctx { arm: self.arm.upgrade(), event: &event };
        let mut dyn_off = self.size;
        for a in &self.args {
            let v = if a.ty.is_string() {
                let room = (rec.len() - dyn_off).min(MAX_STRING);
                let n = a.fetch_str(regs, &ctx, &mut rec[dyn_off..dyn_off + room]);
                let loc = (n << 16) | dyn_off;
                dyn_off += n;
                u64::try_from(loc).unwrap_or(0)
            } else {
                a.fetch(regs, &ctx)
            };
            if let Some(dst) = rec.get_mut(off..off + a.ty.size) {
                dst.copy_from_slice(&v.to_le_bytes()[..a.ty.size]);
            }
            off += a.ty.size;
        }
        event.fire(&mut rec[..dyn_off], Some(regs));
    }
}

impl KprobeHit for Handler {
    fn pre(&self, regs: &mut X86PtRegs) {
        if !self.retprobe {
            self.record(regs, &[self.addr]);
        }
    }

    fn ret(&self, regs: &mut X86PtRegs) {
        if self.retprobe {
            let ret_ip = regs.rip;
            self.record(regs, &[self.addr, ret_ip]);
        }
    }
}

/// The kprobe side of a [`TraceEvent`]: arms its probe while consumers exist, unregisters it
/// when dropped.
pub(crate) struct KprobeEvent {
    pub(crate) def: ProbeDef,
    pub(crate) arm: Arc<dyn ProbeArm>,
    pub(crate) probe_id: u64,
    pub(crate) handler: Arc<Handler>,
}

impl KprobeEvent {
    /// `ip` as Linux's `seq_print_ip_sym` prints it: `sym+0xoff/0xsize`, or just `sym`
    /// without offset, or hex when unknown.
    fn print_ip(&self, ip: u64, with_offset: bool, out: &mut String) {
        match self.arm.symbolize(ip) {
            Some((name, off, size)) if with_offset => {
                let _ = write!(out, "{name}+0x{off:x}/0x{size:x}");
            }
            Some((name, _, _)) => out.push_str(&name),
            None if ip == 0 => out.push('0'),
            None => {
                let _ = write!(out, "0x{ip:x}");
            }
        }
    }

    /// Hits counted by the event (`kprobe_profile`'s first number).
    pub(crate) fn hits(&self) -> u64 {
        self.handler.nhit.load(Ordering::Relaxed)
    }
}

impl EventControl for KprobeEvent {
    fn set_enabled(&self, on: bool) -> Result<()> {
        if on {
            self.arm.enable(self.probe_id)
        } else {
            self.arm.disable(self.probe_id)
        }
    }

    fn print(&self, ev: &TraceEvent, rec: &[u8], out: &mut String) {
        let fields = ev.fields();
        let read = |i: usize| fields.get(i).and_then(|f| f.read_int(rec)).unwrap_or(0);
        let _ = write!(out, "{}: (", ev.name());
        let skip = if self.def.retprobe {
            self.print_ip(read(1), true, out);
            out.push_str(" <- ");
            self.print_ip(read(0), false, out);
            2
        } else {
            self.print_ip(read(0), true, out);
            1
        };
        out.push(')');
        for (f, a) in fields.get(skip..).unwrap_or(&[]).iter().zip(&self.def.args) {
            if a.ty == fetch::SYMBOL {
                let _ = write!(out, " {}=", f.name);
                self.print_ip(f.read_int(rec).unwrap_or(0), true, out);
            } else {
                output::print_fields(core::slice::from_ref(f), rec, out);
            }
        }
    }
}

impl Drop for KprobeEvent {
    fn drop(&mut self) {
        self.arm.unregister(self.probe_id);
    }
}
