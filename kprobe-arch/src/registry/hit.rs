//! The trap side: what the kernel's breakpoint and single-step handlers call.
//!
//! A breakpoint at a probed address runs the enabled probes' pre handlers (kretprobes record
//! an instance and replace the return address), then executes the original instruction:
//! emulated on the spot (post handlers follow at once), or out of line with a single step
//! (post handlers at the single-step trap). A breakpoint while this CPU is already inside a
//! handler or a single step is a re-entry: the probes count a miss, no handler runs, the
//! instruction still executes. The kretprobe trampoline's breakpoint runs the return
//! handlers of the calls returning there and resumes at the real return address.

use core::sync::atomic::Ordering;

use super::percpu::Frame;
use super::snapshot::{Site, Snapshot};
use super::{kretprobe, ProbeRegistry};
use crate::arch::{Arch, StepEnd};
use crate::probe::Entry;
use crate::ProbeKind;

impl<A: Arch> ProbeRegistry<A> {
    /// The breakpoint trap handler's entry (x86_64: `#BP`, `regs.rip` = the address after the
    /// `int3`). True when the trap belonged to the probe machinery — a probe, the kretprobe
    /// trampoline, or a probe removed meanwhile (ip rewound to re-execute the restored
    /// instruction); the kernel then returns to `regs`. `regs` must be the trap frame of the
    /// interrupted kernel code: the engine reads and writes its stack.
    pub fn handle_breakpoint(&self, regs: &mut A::Regs) -> bool {
        let addr = A::breakpoint_addr(regs);
        let cpu = self.host.current_cpu();
        let Some(snap) = self.published.enter(cpu) else {
            // A CPU number beyond MAX_CPUS: no per-CPU state to work with.
            return false;
        };
        if snap.trampoline != 0 && addr == snap.trampoline {
            let handled = self.trampoline_hit(snap, cpu, regs);
            self.published.exit(cpu);
            return handled;
        }
        // Arming publishes the site before writing the breakpoint, so a breakpoint seen in
        // the text has its site in every snapshot loaded afterwards: retry with a fresh one
        // when the site was armed again after `snap` was loaded (bounded: each retry needs a
        // concurrent disarm and re-arm).
        let mut snap = snap;
        for _ in 0..4 {
            if let Some(site) = snap.find(addr) {
                return self.probe_hit(site, snap, cpu, regs);
            }
            match self.breakpoint_present(addr) {
                Some(true) => {}
                Some(false) => {
                    // Removed meanwhile: re-execute the restored instruction.
                    A::set_ip(regs, addr);
                    self.published.exit(cpu);
                    return true;
                }
                None => break,
            }
            snap = self.published.reload();
        }
        self.published.exit(cpu);
        false
    }

    /// The single-step trap handler's entry (x86_64: `#DB`). True when this was the step of
    /// a probed instruction (the registers now continue after the original instruction).
    pub fn handle_debug(&self, regs: &mut A::Regs) -> bool {
        let cpu = self.host.current_cpu();
        let step = self.percpu.with(cpu, |state| match state.top() {
            Some(&Frame::Step { site, save, reenter }) => Some((site, save, reenter)),
            _ => None,
        });
        let Some(Some((site, save, reenter))) = step else { return false };
        // SAFETY: the site belongs to the snapshot the breakpoint handler loaded; this CPU is
        // still counted inside the hit path (that handler did not exit), so no grace period
        // covering that snapshot has passed and it is not freed before the `exit` below.
        let site = unsafe { &*site };
        match A::step_end(&site.insn, save, regs) {
            StepEnd::NotOurs => false,
            StepEnd::Again => true,
            StepEnd::Done => {
                if reenter {
                    self.percpu.with(cpu, |state| state.pop());
                } else {
                    self.percpu.with(cpu, |state| state.replace_top(Frame::Handler));
                    run_post(site, regs);
                    self.percpu.with(cpu, |state| state.pop());
                }
                self.published.exit(cpu);
                true
            }
        }
    }

    /// A hit on a probed address. Leaves the snapshot entered while a single step runs.
    fn probe_hit(&self, site: &Site<A>, snap: &Snapshot<A>, cpu: u32, regs: &mut A::Regs) -> bool {
        let busy = self.percpu.with(cpu, |state| {
            let busy = state.busy();
            if !busy {
                state.push(Frame::Handler);
            }
            busy
        });
        let Some(busy) = busy else {
            // Not reached: `enter` already refused CPU numbers beyond MAX_CPUS.
            self.published.exit(cpu);
            return false;
        };
        if busy {
            return self.reenter(site, cpu, regs);
        }
        let pre_ip = A::ip(regs);
        for probe in &site.probes {
            match probe.kind {
                ProbeKind::Kprobe => {
                    probe.hit();
                    probe.handler.pre(&probe.info, regs);
                }
                ProbeKind::Kretprobe { .. } => self.kretprobe_entry(probe, snap, regs),
            }
            if A::ip(regs) != pre_ip {
                break;
            }
        }
        if A::ip(regs) != pre_ip {
            // A handler redirected execution: skip the instruction and the post handlers.
            self.percpu.with(cpu, |state| state.pop());
            self.published.exit(cpu);
            return true;
        }
        if A::emulated(&site.insn) {
            A::emulate(&site.insn, regs);
            run_post(site, regs);
            self.percpu.with(cpu, |state| state.pop());
            self.published.exit(cpu);
            return true;
        }
        let save = A::step_begin(&*self.host, &site.insn, regs);
        self.percpu.with(cpu, |state| state.replace_top(Frame::Step { site, save, reenter: false }));
        true
    }

    /// A hit while this CPU is inside a handler or a step: count, run the instruction only.
    fn reenter(&self, site: &Site<A>, cpu: u32, regs: &mut A::Regs) -> bool {
        for probe in &site.probes {
            probe.miss();
        }
        if A::emulated(&site.insn) {
            A::emulate(&site.insn, regs);
            self.published.exit(cpu);
            return true;
        }
        if self.percpu.with(cpu, |state| state.full()) != Some(false) {
            // Nesting too deep to track another step: let the kernel report the trap.
            self.published.exit(cpu);
            return false;
        }
        let save = A::step_begin(&*self.host, &site.insn, regs);
        self.percpu.with(cpu, |state| state.push(Frame::Step { site, save, reenter: true }));
        true
    }

    /// kretprobe at its function's entry: record the call, divert its return.
    fn kretprobe_entry(&self, probe: &Entry<A::Regs>, snap: &Snapshot<A>, regs: &mut A::Regs) {
        let trampoline = snap.trampoline;
        if trampoline == 0 {
            probe.miss();
            return;
        }
        let (ret, frame) = A::entry_return(regs);
        if kretprobe::record(probe, &snap.kretprobes, ret, frame, trampoline, &self.seq) {
            probe.hit();
            A::set_entry_return(regs, trampoline);
        } else {
            probe.miss();
        }
    }

    /// The trampoline's breakpoint: a kretprobed call returns.
    fn trampoline_hit(&self, snap: &Snapshot<A>, cpu: u32, regs: &mut A::Regs) -> bool {
        let frame = A::trampoline_frame(regs);
        let Some(real) = kretprobe::real_return(&snap.kretprobes, frame, snap.trampoline) else {
            return false;
        };
        let busy = self.percpu.with(cpu, |state| {
            let busy = state.busy();
            if !busy {
                state.push(Frame::Handler);
            }
            busy
        });
        let busy = busy.unwrap_or(true);
        while let Some(probe) = kretprobe::take_newest(&snap.kretprobes, frame) {
            A::set_ip(regs, real);
            if !probe.live.load(Ordering::Relaxed) {
                continue;
            }
            if busy {
                probe.miss();
            } else {
                probe.handler.ret(&probe.info, regs);
            }
        }
        A::set_ip(regs, real);
        if !busy {
            self.percpu.with(cpu, |state| state.pop());
        }
        true
    }

    /// Whether the text at `addr` holds the breakpoint instruction (`None`: unreadable, not
    /// kernel text the registry knows).
    fn breakpoint_present(&self, addr: u64) -> Option<bool> {
        let mut buf = [0u8; 8];
        let n = A::BREAKPOINT.len().min(buf.len());
        self.host.text_read(addr, &mut buf[..n]).ok()?;
        Some(buf[..n] == *A::BREAKPOINT)
    }
}

/// Post handlers of the kprobes at `site`, in registration order.
fn run_post<A: Arch>(site: &Site<A>, regs: &mut A::Regs) {
    for probe in &site.probes {
        if probe.kind == ProbeKind::Kprobe {
            probe.handler.post(&probe.info, regs);
        }
    }
}
