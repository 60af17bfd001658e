//! The x86_64 engine's single-step bookkeeping driven directly (no trap): what a kernel's
//! `#BP`/`#DB` path relies on but user mode cannot show — IF cleared during the step and
//! restored after, TF restored, the `pushf` fix-up of both flags, and a `#DB` that does not
//! end the step.

mod common;

use std::sync::atomic::Ordering;

use common::*;
use kprobe_arch::arch::x86_64::X86_64;
use kprobe_arch::arch::{Arch, StepEnd};
use kprobe_arch::{KprobeHost, X86PtRegs};

const TF: u64 = 1 << 8;
const IF: u64 = 1 << 9;

#[test]
fn interrupts_masked_during_step() {
    let env = Env::new();
    env.host.mask_if.store(true, Ordering::Relaxed);
    let add2 = env.func("add2", ADD2);
    let host: &dyn KprobeHost = &*env.host;
    let insn = X86_64::analyze(host, add2, (add2, 5), &|_, _| {}).unwrap();
    assert!(!X86_64::emulated(&insn));
    let mut regs = X86PtRegs::ZERO;
    regs.rip = add2 + 1;
    regs.eflags = IF | 0x2;
    let save = X86_64::step_begin(host, &insn, &mut regs);
    assert_eq!(regs.eflags & (TF | IF), TF, "TF on, IF off while stepping");
    let slot = regs.rip;
    assert_eq!(env.bytes(slot, 4), &ADD2[..4], "the slot holds the original instruction");
    // A #DB elsewhere is not the end of this step.
    regs.rip = slot + 1;
    assert_eq!(X86_64::step_end(&insn, save, &mut regs), StepEnd::NotOurs);
    regs.rip = slot + 4;
    assert_eq!(X86_64::step_end(&insn, save, &mut regs), StepEnd::Done);
    assert_eq!(regs.rip, add2 + 4);
    assert_eq!(regs.eflags & (TF | IF), IF, "flags as before the step");
    X86_64::release(host, &insn);
}

#[test]
fn pushf_fixup_restores_if_and_tf() {
    let env = Env::new();
    env.host.mask_if.store(true, Ordering::Relaxed);
    let f = env.func("pushf", &[0x9c, 0x58, 0xc3]);
    let host: &dyn KprobeHost = &*env.host;
    let insn = X86_64::analyze(host, f, (f, 3), &|_, _| {}).unwrap();
    let mut stack = [0u64; 4];
    let mut regs = X86PtRegs::ZERO;
    regs.rip = f + 1;
    regs.eflags = IF | 0x2;
    regs.rsp = &mut stack[2] as *mut u64 as u64;
    let save = X86_64::step_begin(host, &insn, &mut regs);
    // What the stepped pushfq leaves: the stepping flags on the stack.
    regs.rsp -= 8;
    stack[1] = regs.eflags;
    regs.rip += 1;
    assert_eq!(X86_64::step_end(&insn, save, &mut regs), StepEnd::Done);
    assert_eq!(stack[1] & (TF | IF), IF, "pushed word shows the interrupted code's flags");
    assert_eq!(regs.rip, f + 1);
    X86_64::release(host, &insn);
}

#[test]
fn emulated_instructions_get_no_slot() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let host: &dyn KprobeHost = &*env.host;
    let insn = X86_64::analyze(host, add2 + 4, (add2, 5), &|_, _| {}).unwrap();
    assert!(X86_64::emulated(&insn));
    assert_eq!(env.host.slots_used(), 0);
    assert_eq!(X86_64::original(&insn), [0xc3]);
    X86_64::release(host, &insn);
}
