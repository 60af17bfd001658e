//! Out-of-line execution with a single step: plain instructions, stack instructions,
//! RIP-relative operands (load, read-modify-write with an immediate after the displacement,
//! `lea`), `pushf` (TF must not leak into the pushed flags), `rep movsb` (several steps), and
//! `ERANGE` when the slot is out of RIP-relative reach.

mod common;

use common::*;
use syscall_abi::Errno;

/// TF in the flags.
const TF: u64 = 1 << 8;

#[test]
fn plain_instruction_single_stepped() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    let id = env.kprobe(add2, Recorder::new("lea", &log));
    assert_eq!(call2(add2, 40, 2), 42);
    let seen = take(&log);
    assert_eq!(seen.len(), 2);
    // Pre: ip = addr + 1, arguments in rdi/rsi; post: after the lea, rax computed, TF clear.
    assert_eq!((seen[0].regs.rip, seen[0].regs.rdi, seen[0].regs.rsi), (add2 + 1, 40, 2));
    assert_eq!((seen[1].regs.rip, seen[1].regs.rax), (add2 + 4, 42));
    assert_eq!(seen[1].regs.eflags & TF, 0);
    assert_eq!(seen[1].regs.rsp, seen[0].regs.rsp);
    assert_eq!(env.hits(id), (1, 0));
}

#[test]
fn push_and_pop_out_of_line() {
    let env = Env::new();
    // push rbx (53); mov rbx, rdi (48 89 FB); lea rax, [rbx+1] (48 8D 43 01); pop rbx (5B) at
    // +8; ret.
    let f = env.func("pushpop", &[0x53, 0x48, 0x89, 0xfb, 0x48, 0x8d, 0x43, 0x01, 0x5b, 0xc3]);
    let log = new_log();
    let a = env.kprobe(f, Recorder::new("push", &log));
    let b = env.kprobe(f + 8, Recorder::new("pop", &log));
    assert_eq!(call1(f, 9), 10);
    let seen = take(&log);
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[1].regs.rsp, seen[0].regs.rsp - 8);
    assert_eq!(seen[3].regs.rsp, seen[2].regs.rsp + 8);
    assert_eq!(seen[3].regs.rbx, seen[0].regs.rbx, "rbx restored by the stepped pop");
    assert_eq!((env.hits(a), env.hits(b)), ((1, 0), (1, 0)));
}

#[test]
fn rip_relative_fixed_up() {
    let env = Env::new();
    let word = env.data(0);
    // add qword [rip+d], 5 (48 81 05 d32 05 00 00 00, 11 bytes: the immediate follows the
    // displacement); mov rax, [rip+d] (48 8B 05 d32) at +11; ret at +18.
    let at = env.next_func();
    let mut code = vec![0x48, 0x81, 0x05];
    code.extend_from_slice(&rel32(at, 11, word));
    code.extend_from_slice(&[5, 0, 0, 0, 0x48, 0x8b, 0x05]);
    code.extend_from_slice(&rel32(at + 11, 7, word));
    code.push(0xc3);
    let f = env.func("riprel", &code);
    // lea rax, [rip+d] (48 8D 05 d32); ret: must give the original target, not the slot's.
    let at = env.next_func();
    let mut lea = vec![0x48, 0x8d, 0x05];
    lea.extend_from_slice(&rel32(at, 7, word));
    lea.push(0xc3);
    let f_lea = env.func("riplea", &lea);

    let log = new_log();
    let a = env.kprobe(f, Recorder::new("add", &log));
    let b = env.kprobe(f + 11, Recorder::new("mov", &log));
    let c = env.kprobe(f_lea, Recorder::new("lea", &log));
    env.set_data(word, 100);
    assert_eq!(call1(f, 0), 105);
    assert_eq!(call1(f, 0), 110);
    assert_eq!(env.get_data(word), 110);
    assert_eq!(call1(f_lea, 0), word);
    assert_eq!((env.hits(a), env.hits(b), env.hits(c)), ((2, 0), (2, 0), (1, 0)));
}

#[test]
fn rip_relative_out_of_reach_is_erange() {
    let env = Env::far();
    let word = env.data(0);
    let at = env.next_func();
    let mut code = vec![0x48, 0x8b, 0x05];
    code.extend_from_slice(&rel32(at, 7, word));
    code.push(0xc3);
    let f = env.func("riprel_far", &code);
    let log = new_log();
    let r = env.reg().register(kprobe_arch::ProbeSpec {
        addr: f,
        kind: kprobe_arch::ProbeKind::Kprobe,
        handler: Recorder::new("x", &log),
        enabled: true,
    });
    assert_eq!(r.unwrap_err().errno, Errno::ERANGE);
    assert_eq!(env.host.slots_used(), 0);
    // Emulated instructions need no slot: the ret is fine.
    let id = env.kprobe(f + 7, Recorder::new("ret", &log));
    env.set_data(word, 3);
    assert_eq!(call1(f, 0), 3);
    assert_eq!(env.hits(id), (1, 0));
}

#[test]
fn pushf_hides_trap_flag() {
    let env = Env::new();
    // pushfq (9C); pop rax (58); ret.
    let f = env.func("pushf", &[0x9c, 0x58, 0xc3]);
    let native = call1(f, 0);
    let log = new_log();
    let id = env.kprobe(f, Recorder::new("pushf", &log));
    let probed = call1(f, 0);
    assert_eq!(probed & TF, 0, "TF leaked into the pushed flags");
    assert_eq!(probed & (1 << 9), native & (1 << 9), "IF as in the original");
    assert_eq!(env.hits(id), (1, 0));
}

#[test]
fn rep_movsb_steps_until_done() {
    let env = Env::new();
    // mov rcx, rdx (48 89 D1); rep movsb (F3 A4) at +3; ret.
    let f = env.func("repmov", &[0x48, 0x89, 0xd1, 0xf3, 0xa4, 0xc3]);
    let log = new_log();
    let id = env.kprobe(f + 3, Recorder::new("rep", &log));
    let src: Vec<u8> = (0..100u8).collect();
    let mut dst = vec![0u8; 100];
    call4(f, dst.as_mut_ptr() as u64, src.as_ptr() as u64, 100, 0);
    assert_eq!(dst, src);
    let seen = take(&log);
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[1].regs.rip, seen[1].regs.rcx), (f + 5, 0));
    assert_eq!(env.hits(id), (1, 0));
}
