//! kretprobes: return handlers see the return value, the real return address and the
//! caller's stack pointer; recursion; maxactive; several kretprobes (and a kprobe) on one
//! function; unregistering while calls are in flight.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;

/// sum(n) = n + sum(n - 1), sum(0) = 0, recursive:
/// ```text
///  0: 48 85 FF     test rdi, rdi
///  3: 75 03        jne +3 → 8
///  5: 31 C0        xor eax, eax
///  7: C3           ret
///  8: 57           push rdi
///  9: 48 FF CF     dec rdi
///  c: E8 EF FF FF FF  call sum (rel32 = 0 - 0x11)
/// 11: 5F           pop rdi
/// 12: 48 01 F8     add rax, rdi
/// 15: C3           ret
/// ```
const SUM: &[u8] = &[
    0x48, 0x85, 0xff, 0x75, 0x03, 0x31, 0xc0, 0xc3, 0x57, 0x48, 0xff, 0xcf, 0xe8, 0xef, 0xff, 0xff, 0xff, 0x5f, 0x48,
    0x01, 0xf8, 0xc3,
];

fn rets(log: &std::sync::Arc<std::sync::Mutex<Vec<Seen>>>, tag: &str) -> Vec<u64> {
    log.lock().unwrap().iter().filter(|s| s.tag == tag && s.kind == 'r').map(|s| s.regs.rax).collect()
}

#[test]
fn return_value_address_and_stack() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    // sub rsp,8; call add2 (+4); add rsp,8 (+9); ret.
    let at = env.next_func();
    let mut code = vec![0x48, 0x83, 0xec, 0x08, 0xe8];
    code.extend_from_slice(&rel32(at + 4, 5, add2));
    code.extend_from_slice(&[0x48, 0x83, 0xc4, 0x08, 0xc3]);
    let f = env.func("f_call", &code);
    let log = new_log();
    let entry = new_log();
    let k = env.kprobe(add2, Recorder::new("entry", &entry));
    let id = env.kretprobe(add2, 0, Recorder::new("ret", &log));
    assert_eq!(call2(f, 30, 12), 42);
    let seen = take(&log);
    assert_eq!(seen.len(), 1);
    let entry_sp = take(&entry)[0].regs.rsp;
    assert_eq!(seen[0].regs.rax, 42);
    assert_eq!(seen[0].regs.rip, f + 9, "real return address");
    assert_eq!(seen[0].regs.rsp, entry_sp + 8);
    assert_eq!(env.hits(id), (1, 0));
    assert_eq!(env.hits(k), (1, 0));
    // The trampoline is a slot holding int3.
    let t = env.reg().trampoline();
    assert_ne!(t, 0);
    assert_eq!(env.bytes(t, 1), [0xcc]);
    // Called straight from Rust too.
    assert_eq!(call2(add2, 2, 3), 5);
    assert_eq!(rets(&log, "ret"), [5]);
}

#[test]
fn recursion_newest_first() {
    let env = Env::new();
    let sum = env.func("sum", SUM);
    assert_eq!(call1(sum, 5), 15);
    let log = new_log();
    let id = env.kretprobe(sum, 0, Recorder::new("r", &log));
    let call_site = env.kprobe(sum + 0xc, Recorder::new("call", &log));
    assert_eq!(call1(sum, 5), 15);
    assert_eq!(rets(&log, "r"), [0, 1, 3, 6, 10, 15]);
    // Every inner return goes back to sum+0x11; rsp grows back by 16 per level.
    let seen: Vec<Seen> = take(&log).into_iter().filter(|s| s.kind == 'r').collect();
    for w in seen.windows(2) {
        assert_eq!(w[0].regs.rip, sum + 0x11);
        assert_eq!(w[1].regs.rsp, w[0].regs.rsp + 16);
    }
    assert_eq!(env.hits(id), (6, 0));
    assert_eq!(env.hits(call_site), (5, 0));
}

#[test]
fn maxactive_limits_instances() {
    let env = Env::new();
    let sum = env.func("sum", SUM);
    let log = new_log();
    let id = env.kretprobe(sum, 3, Recorder::new("r", &log));
    assert_eq!(call1(sum, 5), 15);
    // The three outermost calls are tracked; the three inner ones are missed.
    assert_eq!(rets(&log, "r"), [6, 10, 15]);
    assert_eq!(env.hits(id), (3, 3));
    take(&log);
    assert_eq!(call1(sum, 2), 3);
    assert_eq!(rets(&log, "r"), [0, 1, 3]);
    assert_eq!(env.hits(id), (6, 3));
}

#[test]
fn several_kretprobes_on_one_function() {
    let env = Env::new();
    let sum = env.func("sum", SUM);
    let log = new_log();
    let a = env.kretprobe(sum, 0, Recorder::new("a", &log));
    let b = env.kretprobe(sum, 0, Recorder::new("b", &log));
    assert_eq!(call1(sum, 3), 6);
    // Per return: newest instance (b) first, then a.
    assert_eq!(
        kinds(&log),
        [("b", 'r'), ("a", 'r'), ("b", 'r'), ("a", 'r'), ("b", 'r'), ("a", 'r'), ("b", 'r'), ("a", 'r')]
    );
    assert_eq!(rets(&log, "a"), [0, 1, 3, 6]);
    assert_eq!(rets(&log, "b"), [0, 1, 3, 6]);
    let seen = take(&log);
    assert!(seen.iter().all(|s| s.regs.rip != env.reg().trampoline()), "ip is never the trampoline");
    assert_eq!((env.hits(a), env.hits(b)), ((4, 0), (4, 0)));
    env.reg().unregister(a).unwrap();
    assert_eq!(call1(sum, 1), 1);
    assert_eq!(kinds(&log), [("b", 'r'), ("b", 'r')]);
    env.reg().unregister(b).unwrap();
    assert_eq!(env.bytes(sum, SUM.len()), SUM);
}

#[test]
fn unregister_while_in_flight() {
    let env = Env::new();
    let sum = env.func("sum", SUM);
    let log = new_log();
    let reg = env.reg_weak();
    let kret = Arc::new(AtomicU64::new(0));
    let k2 = kret.clone();
    let id = env.kretprobe(sum, 0, Recorder::new("r", &log));
    kret.store(u64::from(id.0), Ordering::SeqCst);
    // At the innermost `ret` (sum+7, n == 0), unregister the kretprobe: the returns still in
    // flight must come back to the right places, with no handler.
    let _k = env.kprobe(
        sum + 7,
        Recorder::with_pre(
            "innermost",
            &log,
            Box::new(move |_, _| {
                // The first time removes it; later calls answer ENOENT.
                let _ = reg.upgrade().unwrap().unregister(kprobe_arch::ProbeId(k2.load(Ordering::SeqCst) as u32));
            }),
        ),
    );
    let before = env.host.slots_used();
    assert_eq!(call1(sum, 4), 10);
    assert_eq!(rets(&log, "r"), Vec::<u64>::new());
    assert!(env.reg().stats(id).is_none());
    assert_eq!(env.bytes(sum, 1), [SUM[0]]);
    // Removed from inside a handler: the slot of `test rdi, rdi` is freed only later.
    assert_eq!(env.host.slots_used(), before);
    env.reg().reclaim_deferred();
    assert_eq!(env.host.slots_used(), before - 1);
    assert_eq!(call1(sum, 4), 10);
}

#[test]
fn kprobe_on_ret_of_kretprobed_function() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    let k = env.kprobe(add2 + 4, Recorder::new("k", &log));
    let r = env.kretprobe(add2, 0, Recorder::new("r", &log));
    assert_eq!(call2(add2, 4, 5), 9);
    // The emulated ret goes to the trampoline, whose handler restores the real address.
    let seen = take(&log);
    assert_eq!(seen.iter().map(|s| (s.tag, s.kind)).collect::<Vec<_>>(), [("k", 'p'), ("k", 'o'), ("r", 'r')]);
    assert_eq!(seen[1].regs.rip, env.reg().trampoline());
    assert_eq!(seen[2].regs.rax, 9);
    assert_eq!((env.hits(k), env.hits(r)), ((1, 0), (1, 0)));
}

#[test]
fn stale_instance_is_dropped() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    // Two callers with the same frame layout but different code after the call:
    // sub rsp,8; call add2 (+4); add rsp,8 (+9); ret            → a + b
    // sub rsp,8; call add2 (+4); add rsp,8 (+9); inc rax; ret   → a + b + 1
    let caller = |extra: &[u8]| {
        let at = env.next_func();
        let mut code = vec![0x48, 0x83, 0xec, 0x08, 0xe8];
        code.extend_from_slice(&rel32(at + 4, 5, add2));
        code.extend_from_slice(&[0x48, 0x83, 0xc4, 0x08]);
        code.extend_from_slice(extra);
        code.push(0xc3);
        env.func("caller", &code)
    };
    let plain = caller(&[]);
    let plus1 = caller(&[0x48, 0xff, 0xc0]);
    let log = new_log();
    let r = env.kretprobe(add2, 0, Recorder::new("r", &log));
    // Leave add2 without its `ret` (straight back to plain+9, as a longjmp would): the
    // instance of that call stays behind.
    let skip = env.kprobe(
        add2 + 4,
        Recorder::with_pre(
            "skip",
            &log,
            Box::new(move |_, regs| {
                regs.rip = plain + 9;
                regs.rsp += 8;
            }),
        ),
    );
    assert_eq!(call2(plain, 1, 2), 3);
    env.reg().unregister(skip).unwrap();
    assert!(rets(&log, "r").is_empty());
    // Same stack depth, other caller: the stale instance must not redirect this return.
    assert_eq!(call2(plus1, 1, 2), 4);
    assert_eq!(rets(&log, "r"), [3]);
    assert_eq!(env.hits(r), (2, 0));
}
