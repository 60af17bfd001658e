//! Test support: the system call numbers `dispatch()` matches on, read from the source of
//! `dispatch.rs` (which only builds for the kernel), so host tests can check that every
//! dispatched call has its Linux-named probe target and its tracepoint arguments.

use alloc::vec::Vec;

/// The numbers of every `dispatch()` match arm, in source order.
pub fn dispatched_syscalls() -> Vec<u64> {
    let src = include_str!("dispatch.rs");
    let start = src.find("fn dispatch(f").expect("dispatch() in dispatch.rs");
    let end = start + src[start..].find("\n}\n").expect("end of dispatch()");
    let mut out = Vec::new();
    for line in src[start..end].lines() {
        let Some((arm, _)) = line.split_once("=>") else { continue };
        let nums: Vec<_> = arm.split('|').map(|w| w.trim().parse::<u64>()).collect();
        if !nums.is_empty() && nums.iter().all(|n| n.is_ok()) {
            out.extend(nums.into_iter().flatten());
        }
    }
    out
}
