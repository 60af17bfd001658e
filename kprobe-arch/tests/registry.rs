//! Registry behaviour: address checks and their errnos, `resolve`, several probes at one
//! address, enable/disable, unregister restoring the original bytes, a pre handler
//! redirecting execution, and the trap entries' answers for traps that are not theirs.

mod common;

use common::*;
use kprobe_arch::{ProbeId, ProbeKind, ProbeSpec, X86PtRegs};
use syscall_abi::Errno;

fn register(env: &Env, addr: u64, kind: ProbeKind) -> Result<ProbeId, Errno> {
    let log = new_log();
    env.reg().register(ProbeSpec { addr, kind, handler: Recorder::new("x", &log), enabled: true }).map_err(|e| e.errno)
}

#[test]
fn address_checks() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    // Inside the lea: not a boundary.
    for off in 1..4 {
        assert_eq!(register(&env, add2 + off, ProbeKind::Kprobe), Err(Errno::EILSEQ), "offset {off}");
    }
    // Outside every function.
    assert_eq!(register(&env, add2 + 5, ProbeKind::Kprobe), Err(Errno::EINVAL));
    // Blocklisted.
    env.host.blocklist.lock().unwrap().push(add2 + 4);
    assert_eq!(register(&env, add2 + 4, ProbeKind::Kprobe), Err(Errno::EINVAL));
    env.host.blocklist.lock().unwrap().clear();
    // kretprobe only at a function start, with a sane maxactive.
    assert_eq!(register(&env, add2 + 4, ProbeKind::Kretprobe { maxactive: 0 }), Err(Errno::EINVAL));
    assert_eq!(register(&env, add2, ProbeKind::Kretprobe { maxactive: 4097 }), Err(Errno::E2BIG));
    // Unknown ids.
    assert_eq!(env.reg().unregister(ProbeId(999)).unwrap_err().errno, Errno::ENOENT);
    assert_eq!(env.reg().enable(ProbeId(999)).unwrap_err().errno, Errno::ENOENT);
    assert_eq!(env.reg().disable(ProbeId(999)).unwrap_err().errno, Errno::ENOENT);
    assert!(env.reg().stats(ProbeId(999)).is_none());
    // Nothing was armed, no slot kept.
    assert_eq!(env.bytes(add2, 5), ADD2);
    assert_eq!(env.host.slots_used(), 0);
}

#[test]
fn refused_instructions() {
    let env = Env::new();
    // Each: the instruction, then ret. int3 (CC), int 0x80 (CD 80), into is invalid in 64-bit
    // mode, iretq (48 CF), sysret (48 0F 07), syscall (0F 05), hlt (F4), cli (FA), sti (FB),
    // popfq (9D), ud2 (0F 0B), push es (06, invalid in 64-bit mode), jmp far [rax] (FF 28),
    // ret far (CB), 16-bit jcc (66 0F 84 00 00), mov ss, ax (8E D0).
    let cases: [&[u8]; 16] = [
        &[0xcc],
        &[0xcd, 0x80],
        &[0xce],
        &[0x48, 0xcf],
        &[0x48, 0x0f, 0x07],
        &[0x0f, 0x05],
        &[0xf4],
        &[0xfa],
        &[0xfb],
        &[0x9d],
        &[0x0f, 0x0b],
        &[0x06],
        &[0xff, 0x28],
        &[0xcb],
        &[0x66, 0x0f, 0x84, 0x00, 0x00],
        &[0x8e, 0xd0],
    ];
    for code in cases {
        let mut c = code.to_vec();
        c.push(0xc3);
        let f = env.func("refused", &c);
        assert_eq!(register(&env, f, ProbeKind::Kprobe), Err(Errno::EILSEQ), "{code:02x?}");
    }
    assert_eq!(env.host.slots_used(), 0);
}

#[test]
fn resolve_symbol_offset() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    assert_eq!(env.reg().resolve(b"add2", 0), Ok(add2));
    assert_eq!(env.reg().resolve(b"add2", 4), Ok(add2 + 4));
    assert_eq!(env.reg().resolve(b"add2", 2).unwrap_err().errno, Errno::EILSEQ);
    assert_eq!(env.reg().resolve(b"add2", 5).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(env.reg().resolve(b"nope", 0).unwrap_err().errno, Errno::ENOENT);
    env.host.blocklist.lock().unwrap().push(add2);
    assert_eq!(env.reg().resolve(b"add2", 0).unwrap_err().errno, Errno::EINVAL);
}

#[test]
fn boundary_check_sees_through_armed_breakpoints() {
    let env = Env::new();
    // mov eax, 0xc3c3c3c3 (B8 C3 C3 C3 C3); ret at +5. With +0 armed (CC B8..?), decoding
    // must use the original opcode or +5 would look misaligned.
    let f = env.func("imm", &[0xb8, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3]);
    let a = register(&env, f, ProbeKind::Kprobe).unwrap();
    assert_eq!(env.bytes(f, 1), [0xcc]);
    let b = register(&env, f + 5, ProbeKind::Kprobe).unwrap();
    assert_eq!(register(&env, f + 1, ProbeKind::Kprobe), Err(Errno::EILSEQ));
    assert_eq!(call1(f, 0), 0xc3c3c3c3);
    assert_eq!((env.hits(a), env.hits(b)), ((1, 0), (1, 0)));
}

#[test]
fn several_probes_one_address_and_unregister_restores() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    let a = env.kprobe(add2, Recorder::new("a", &log));
    let b = env.kprobe(add2, Recorder::new("b", &log));
    assert_eq!(env.reg().lookup(add2), vec![a, b]);
    assert_eq!(env.bytes(add2, 5), [0xcc, 0x8d, 0x04, 0x37, 0xc3]);
    assert_eq!(call2(add2, 1, 2), 3);
    assert_eq!(kinds(&log), [("a", 'p'), ("b", 'p'), ("a", 'o'), ("b", 'o')]);
    take(&log);
    env.reg().unregister(a).unwrap();
    assert_eq!(env.bytes(add2, 1), [0xcc], "b still armed");
    assert_eq!(call2(add2, 1, 2), 3);
    assert_eq!(kinds(&log), [("b", 'p'), ("b", 'o')]);
    assert_eq!(env.reg().lookup(add2), vec![b]);
    assert!(env.reg().stats(a).is_none());
    assert_eq!(env.hits(b), (2, 0));
    env.reg().unregister(b).unwrap();
    assert_eq!(env.bytes(add2, 5), ADD2);
    assert!(env.reg().lookup(add2).is_empty());
    assert_eq!(env.host.slots_used(), 0, "slot released once no handler runs");
    assert_eq!(env.reg().unregister(b).unwrap_err().errno, Errno::ENOENT);
}

#[test]
fn disable_enable() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    let id = env
        .reg()
        .register(ProbeSpec { addr: add2, kind: ProbeKind::Kprobe, handler: Recorder::new("d", &log), enabled: false })
        .unwrap();
    assert_eq!(env.bytes(add2, 5), ADD2, "registered disabled: not armed");
    assert_eq!(call2(add2, 1, 1), 2);
    assert_eq!(env.hits(id), (0, 0));
    env.reg().enable(id).unwrap();
    env.reg().enable(id).unwrap();
    assert_eq!(env.bytes(add2, 1), [0xcc]);
    assert_eq!(call2(add2, 1, 1), 2);
    assert_eq!(env.hits(id), (1, 0));
    env.reg().disable(id).unwrap();
    assert_eq!(env.bytes(add2, 5), ADD2);
    assert_eq!(call2(add2, 1, 1), 2);
    assert_eq!(env.hits(id), (1, 0));
    // A disabled probe next to an enabled one at the same address runs no handler.
    let other = env.kprobe(add2, Recorder::new("e", &log));
    take(&log);
    assert_eq!(call2(add2, 1, 1), 2);
    assert_eq!(kinds(&log), [("e", 'p'), ("e", 'o')]);
    assert_eq!((env.hits(id), env.hits(other)), ((1, 0), (1, 0)));
}

#[test]
fn pre_handler_redirects() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    // Like bpf_override_return: return 42 at once.
    let id = env.kprobe(
        add2,
        Recorder::with_pre(
            "ovr",
            &log,
            Box::new(|_, regs| {
                regs.rax = 42;
                // SAFETY: at the function's entry rsp points to the return address.
                regs.rip = unsafe { *(regs.rsp as *const u64) };
                regs.rsp += 8;
            }),
        ),
    );
    assert_eq!(call2(add2, 1, 2), 42);
    assert_eq!(kinds(&log), [("ovr", 'p')], "no post handler after a redirect");
    assert_eq!(env.hits(id), (1, 0));
}

#[test]
fn foreign_traps_are_not_handled() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    // An int3 that is not a probe: not handled.
    let f = env.func("int3", &[0xcc, 0xc3]);
    let mut regs = X86PtRegs::ZERO;
    regs.rip = f + 1;
    assert!(!env.reg().handle_breakpoint(&mut regs));
    assert_eq!(regs.rip, f + 1);
    // A breakpoint trap where the int3 is gone (probe removed meanwhile): rewind, handled.
    regs.rip = add2 + 1;
    assert!(env.reg().handle_breakpoint(&mut regs));
    assert_eq!(regs.rip, add2);
    // No single step in progress.
    assert!(!env.reg().handle_debug(&mut regs));
}
