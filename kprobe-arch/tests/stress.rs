//! Several threads (each playing a CPU) hit probes while another thread registers,
//! unregisters, enables and disables kprobes and kretprobes at the same addresses: results stay right,
//! nothing hangs, every slot comes back.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::*;

#[test]
fn hits_during_changes() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log_sink = new_log();
    // A handler that records nothing (the shared log would serialize the threads).
    struct Quiet;
    impl kprobe_arch::ProbeHandler for Quiet {}
    let steady = env.kprobe(add2 + 4, Arc::new(Quiet));
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let stop = stop.clone();
            let progress = progress.clone();
            std::thread::spawn(move || {
                let mut calls = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(call2(add2, t, calls), t + calls);
                    calls += 1;
                    progress.fetch_add(1, Ordering::Relaxed);
                }
                calls
            })
        })
        .collect();
    let mut round = 0;
    // Changes go on until the threads made 20000 calls meanwhile.
    while round < 300 || progress.load(Ordering::Relaxed) < 20_000 {
        round += 1;
        let a = env.kprobe(add2, Arc::new(Quiet));
        if round % 3 == 0 {
            env.reg().disable(a).unwrap();
            env.reg().enable(a).unwrap();
        }
        // Kretprobes come and go while calls are in flight.
        let r = (round % 2 == 0).then(|| env.kretprobe(add2, 0, Arc::new(Quiet)));
        env.reg().unregister(a).unwrap();
        if let Some(r) = r {
            env.reg().unregister(r).unwrap();
        }
        // A thread preempted in the middle of a single step (a kernel steps with interrupts
        // off, a test thread can lose its CPU) holds back slot reuse: wait for it rather than
        // run out of slots.
        while env.host.slots_used() > 64 {
            std::thread::yield_now();
            env.reg().reclaim_deferred();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let calls: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    // The steady probe saw every call, none missed (no handler nests here).
    assert_eq!(env.hits(steady), (calls, 0));
    env.reg().reclaim_deferred();
    // Only the kretprobe trampoline stays (until the registry goes: Env checks that).
    assert_eq!(env.host.slots_used(), 1);
    assert_eq!(env.bytes(add2, 4), &ADD2[..4]);
    drop(log_sink);
}
