//! Re-entry: a probe hit while a handler runs on the CPU counts as missed, runs no handler,
//! and the original instruction still executes (single-stepped with the outer state kept,
//! or emulated). Never hangs.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;

#[test]
fn handler_calling_the_probed_function() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    let inner = Arc::new(AtomicU64::new(0));
    let seen_inner = inner.clone();
    // Probe on the single-stepped lea; the pre handler calls add2 itself.
    let id = env.kprobe(
        add2,
        Recorder::with_pre("rec", &log, Box::new(move |_, _| seen_inner.store(call2(add2, 100, 23), Ordering::SeqCst))),
    );
    assert_eq!(call2(add2, 1, 2), 3);
    assert_eq!(inner.load(Ordering::SeqCst), 123, "the nested call ran the original instruction");
    assert_eq!(kinds(&log), [("rec", 'p'), ("rec", 'o')], "no handler for the nested hit");
    assert_eq!(env.hits(id), (1, 1));
    // Again: the per-CPU state was unwound.
    assert_eq!(call2(add2, 2, 2), 4);
    assert_eq!(env.hits(id), (2, 2));
}

#[test]
fn reentry_on_emulated_instruction_and_other_probes() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    // sub rsp,8; call add2 (at +4); add rsp,8; ret.
    let at = env.next_func();
    let mut code = vec![0x48, 0x83, 0xec, 0x08, 0xe8];
    code.extend_from_slice(&rel32(at + 4, 5, add2));
    code.extend_from_slice(&[0x48, 0x83, 0xc4, 0x08, 0xc3]);
    let f = env.func("f_call", &code);
    let log = new_log();
    let on_ret = env.kprobe(add2 + 4, Recorder::new("ret", &log));
    let on_call = env.kprobe(f + 4, Recorder::new("call", &log));
    let on_lea = env.kprobe(add2, Recorder::new("lea", &log));
    // An outer probe whose handler runs f: every probe inside is missed.
    let g = env.func("outer", ADD2);
    let result = Arc::new(AtomicU64::new(0));
    let r2 = result.clone();
    let outer = env
        .kprobe(g, Recorder::with_pre("outer", &log, Box::new(move |_, _| r2.store(call2(f, 5, 6), Ordering::SeqCst))));
    assert_eq!(call2(g, 1, 1), 2);
    assert_eq!(result.load(Ordering::SeqCst), 11);
    assert_eq!(kinds(&log), [("outer", 'p'), ("outer", 'o')]);
    assert_eq!(env.hits(outer), (1, 0));
    assert_eq!((env.hits(on_call), env.hits(on_lea), env.hits(on_ret)), ((0, 1), (0, 1), (0, 1)));
    // Outside a handler they all fire.
    take(&log);
    assert_eq!(call2(f, 5, 6), 11);
    assert_eq!(kinds(&log), [("call", 'p'), ("call", 'o'), ("lea", 'p'), ("lea", 'o'), ("ret", 'p'), ("ret", 'o')]);
    assert_eq!((env.hits(on_call), env.hits(on_lea), env.hits(on_ret)), ((1, 1), (1, 1), (1, 1)));
}

#[test]
fn recursion_from_post_handler() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let counter = Arc::new(AtomicU64::new(0));
    let c2 = counter.clone();
    struct Post {
        f: u64,
        c: Arc<AtomicU64>,
    }
    impl kprobe_arch::ProbeHandler for Post {
        fn post(&self, _: &kprobe_arch::ProbeInfo, _: &mut kprobe_arch::X86PtRegs) {
            self.c.fetch_add(call2(self.f, 1, 1), Ordering::SeqCst);
        }
    }
    let id = env.kprobe(add2, Arc::new(Post { f: add2, c: c2 }));
    for _ in 0..3 {
        assert_eq!(call2(add2, 3, 4), 7);
    }
    assert_eq!(counter.load(Ordering::SeqCst), 6);
    assert_eq!(env.hits(id), (3, 3));
}
