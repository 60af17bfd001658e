//! `probetest` (kernel command line word): a boot-time check of the probe engine on this
//! kernel's real text, before `/init` — kprobes at function entries and inside functions
//! (single-stepped and emulated instructions through the gap-making trap entries), a
//! kretprobe's return value, re-entry from a handler counted as missed, the blocklist, and
//! unregistering restoring the original bytes. Prints `probe-selftest: ok (...)`, or logs
//! `[ERROR] probe-selftest: FAILED: <what>` for each failed check and panics (so a test run
//! booted with `probetest` fails).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};

use kprobe_arch::{ProbeHandler, ProbeInfo, ProbeKind, ProbeSpec, Registry, X86PtRegs};

use super::targets::ktime_get_mono_fast_ns;

#[derive(Default)]
struct Counter {
    pre: AtomicU64,
    post: AtomicU64,
    ret: AtomicU64,
    last_rax: AtomicU64,
    /// Call the probed clock from the handler (re-entry test).
    reenter: bool,
}

impl ProbeHandler for Counter {
    fn pre(&self, _p: &ProbeInfo, _r: &mut X86PtRegs) {
        self.pre.fetch_add(1, Ordering::SeqCst);
        if self.reenter {
            black_box(ktime_get_mono_fast_ns());
        }
    }

    fn post(&self, _p: &ProbeInfo, _r: &mut X86PtRegs) {
        self.post.fetch_add(1, Ordering::SeqCst);
    }

    fn ret(&self, _p: &ProbeInfo, r: &mut X86PtRegs) {
        self.ret.fetch_add(1, Ordering::SeqCst);
        self.last_rax.store(r.rax, Ordering::SeqCst);
    }
}

fn sym(name: &str) -> Result<u64, String> {
    crate::kallsyms::lookup_name(name.as_bytes()).ok_or_else(|| format!("{name} not in kallsyms"))
}

fn text(addr: u64, n: usize) -> Vec<u8> {
    let mut b = alloc::vec![0; n];
    let _ = super::text::read(addr, &mut b);
    b
}

fn register(reg: &Registry, addr: u64, kind: ProbeKind, h: &Arc<Counter>) -> Result<kprobe_arch::ProbeId, String> {
    let spec = ProbeSpec { addr, kind, handler: h.clone(), enabled: true };
    reg.register(spec).map_err(|e| format!("register {addr:#x}: {:?} {}", e.errno, e.msg))
}

/// kprobes on every instruction of `ktime_get_mono_fast_ns` (single-stepped: push, mov,
/// sub, RIP-relative loads; emulated: jcc, call r/m, jmp, ret), called `n` times: every
/// probe fires once per call on the path taken (one branch arm is never taken).
fn every_instruction(reg: &Registry) -> Result<String, String> {
    let f = sym("ktime_get_mono_fast_ns")?;
    let (_, size, _) = crate::kallsyms::lookup_addr(f).ok_or("no size")?;
    let before = text(f, size as usize);
    let mut probes = Vec::new();
    for off in 0..size {
        if let Ok(addr) = reg.resolve(b"ktime_get_mono_fast_ns", off) {
            let h = Arc::new(Counter::default());
            if let Ok(id) = register(reg, addr, ProbeKind::Kprobe, &h) {
                probes.push((id, off, h));
            }
        }
    }
    let n = 10;
    for _ in 0..n {
        black_box(ktime_get_mono_fast_ns());
    }
    let mut fired = 0;
    let mut bad = Vec::new();
    for (id, off, h) in &probes {
        let (pre, post) = (h.pre.load(Ordering::SeqCst), h.post.load(Ordering::SeqCst));
        if pre == n && post == n {
            fired += 1;
        } else if pre != 0 || post != 0 || *off == 0 {
            bad.push(format!("+{off:#x}: {pre} pre {post} post"));
        }
        reg.unregister(*id).map_err(|e| format!("unregister: {:?}", e.errno))?;
    }
    if text(f, size as usize) != before {
        return Err(String::from("text not restored after unregister"));
    }
    if probes.len() < 8 || fired + 1 < probes.len() || !bad.is_empty() {
        return Err(format!("{} probes, {fired} fired {n} times; {}", probes.len(), bad.join(", ")));
    }
    Ok(format!("{fired} of {} instructions probed x {n} calls", probes.len()))
}

/// A kretprobe on `ktime_get_mono_fast_ns` sees its return value in rax.
fn kretprobe(reg: &Registry) -> Result<String, String> {
    let f = sym("ktime_get_mono_fast_ns")?;
    let h = Arc::new(Counter::default());
    let id = register(reg, f, ProbeKind::Kretprobe { maxactive: 0 }, &h)?;
    let v = ktime_get_mono_fast_ns();
    reg.unregister(id).map_err(|e| format!("unregister: {:?}", e.errno))?;
    let (rets, rax) = (h.ret.load(Ordering::SeqCst), h.last_rax.load(Ordering::SeqCst));
    if rets != 1 || rax != v {
        return Err(format!("kretprobe: {rets} returns, rax {rax} vs value {v}"));
    }
    Ok(String::from("kretprobe rax ok"))
}

/// A handler calling a probed function: the inner hit is a miss, nothing hangs.
fn reentry(reg: &Registry) -> Result<String, String> {
    let f = sym("ktime_get_mono_fast_ns")?;
    let inner = Arc::new(Counter::default());
    let outer = Arc::new(Counter { reenter: true, ..Counter::default() });
    let id_in = register(reg, f, ProbeKind::Kprobe, &inner)?;
    // The outer probe sits inside the same function, after its first instruction.
    let second = (1..16).find_map(|o| reg.resolve(b"ktime_get_mono_fast_ns", o).ok()).ok_or("no 2nd insn")?;
    let id_out = register(reg, second, ProbeKind::Kprobe, &outer)?;
    black_box(ktime_get_mono_fast_ns());
    let missed = reg.stats(id_in).map_or(0, |s| s.missed);
    let (ip, op) = (inner.pre.load(Ordering::SeqCst), outer.pre.load(Ordering::SeqCst));
    let _ = reg.unregister(id_out);
    let _ = reg.unregister(id_in);
    if ip != 1 || op != 1 || missed != 1 {
        return Err(format!("reentry: inner {ip} pre, outer {op} pre, inner missed {missed}"));
    }
    Ok(String::from("reentry missed 1"))
}

/// The trap path and the probe machinery refuse probes; Linux-named targets accept them.
fn blocklist(reg: &Registry) -> Result<String, String> {
    for name in ["trap_dispatch", "trap_int3_entry", "memcpy"] {
        if reg.resolve(name.as_bytes(), 0).is_ok() {
            return Err(format!("{name} is probeable"));
        }
    }
    for name in ["__x64_sys_getpid", "vfs_read", "schedule", "do_sys_openat2", "kernel_clone"] {
        reg.resolve(name.as_bytes(), 0).map_err(|e| format!("{name}: {:?} {}", e.errno, e.msg))?;
    }
    Ok(String::from("blocklist ok"))
}

/// Runs the checks when the command line asks for them.
pub fn run_if_requested(cmdline: &str) {
    if !crate::cmdline::has_flag(cmdline, "probetest") {
        return;
    }
    let Some(reg) = super::host::registry() else {
        panic!("probe-selftest: FAILED: no probe registry");
    };
    let mut out = Vec::new();
    let mut failed = false;
    for check in [every_instruction, kretprobe, reentry, blocklist] {
        match check(reg) {
            Ok(s) => out.push(s),
            Err(e) => {
                failed = true;
                log::error!("probe-selftest: FAILED: {e}");
            }
        }
    }
    if failed {
        panic!("probe-selftest failed");
    }
    crate::arch::serial::write_bytes(format!("probe-selftest: ok ({})\n", out.join(", ")).as_bytes());
}
