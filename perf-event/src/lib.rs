//! `perf_event_open(2)`, perf ring buffers, tracepoints and the kprobe PMU (`no_std`).
//!
//! Empty until issue 5 ("perf_event_open, tracepoints and the x86_64 kprobe engine").
//! Nothing here pretends to work.
#![no_std]
