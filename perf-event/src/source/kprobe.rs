//! The kprobe PMU (Linux `perf_kprobe_init` + `create_local_trace_kprobe`): a perf event on
//! an unlisted kprobe trace event of its own.
//!
//! `config` bit 0 asks for a kretprobe; `config1` points to the function name (at most
//! `KSYM_NAME_LEN` bytes with the NUL) with `config2` the offset in it, or `config1` is 0 (or
//! an empty name) and `config2` is the probe address. The trace side registers the probe
//! and arms it while the event has consumers (this perf event); hits then go through the
//! tracepoint path with the probe's registers (kprobe programs get `pt_regs`), and the
//! record is Linux's kprobe trace entry (common header, `__probe_ip`; kretprobe:
//! `__probe_func`, `__probe_ret_ip`).

use alloc::string::String;
use alloc::sync::Arc;

use syscall_abi::{err, Errno, Result};

use crate::trace::{KprobeTarget, TraceEvent, TraceRegistry};
use crate::PerfHost;

/// Linux `KSYM_NAME_LEN`.
pub(crate) const KSYM_NAME_LEN: usize = 512;

/// `PERF_PROBE_CONFIG_IS_RETPROBE`.
pub(crate) const CONFIG_IS_RETPROBE: u64 = 1;

/// Creates the local kprobe event of a kprobe PMU event. Errors as Linux: no kprobes →
/// `ENOENT`; a name of `KSYM_NAME_LEN` bytes without NUL → `E2BIG`; unreadable name →
/// `EFAULT`; neither name nor address → `EINVAL`; unknown symbol → `ENOENT`; offset past
/// the symbol → `EINVAL`, not an instruction boundary → `EILSEQ`; a kretprobe not at a
/// function entry → `EINVAL` (an address in no symbol: `ENOENT`).
pub(crate) fn create(
    host: &dyn PerfHost,
    reg: &TraceRegistry,
    config: u64,
    config1: u64,
    config2: u64,
) -> Result<Arc<TraceEvent>> {
    let retprobe = config & CONFIG_IS_RETPROBE != 0;
    let mut name = [0u8; KSYM_NAME_LEN];
    let mut len = 0;
    if config1 != 0 {
        len = host.bpf().strncpy_from_user(&mut name, config1)?;
        if len == KSYM_NAME_LEN {
            return err(Errno::E2BIG, "kprobe function name too long");
        }
    }
    if host.kprobes().is_none() {
        return err(Errno::ENOENT, "this kernel has no kprobes");
    }
    let target = if len > 0 {
        let Ok(sym) = core::str::from_utf8(&name[..len]) else {
            return err(Errno::ENOENT, "no such symbol");
        };
        if retprobe && config2 != 0 {
            return err(Errno::EINVAL, "a kretprobe must be at the function entry");
        }
        KprobeTarget::Symbol { name: String::from(sym), offset: config2 }
    } else {
        if config2 == 0 {
            return err(Errno::EINVAL, "kprobe PMU: neither function nor address");
        }
        if retprobe {
            let mut buf = [0u8; 1];
            match host.bpf().kallsyms_lookup_addr(config2, &mut buf) {
                None => return err(Errno::ENOENT, "kretprobe address is in no symbol"),
                Some(s) if s.start != config2 => {
                    return err(Errno::EINVAL, "a kretprobe must be at the function entry")
                }
                Some(_) => {}
            }
        }
        KprobeTarget::Address(config2)
    };
    reg.create_local_kprobe(target, retprobe)
}
