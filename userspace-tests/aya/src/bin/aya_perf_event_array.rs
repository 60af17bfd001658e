//! Scenario 4: a tracepoint program calls bpf_perf_event_output into a PerfEventArray; user
//! space opens one buffer per online CPU (aya: perf_event_open(PERF_COUNT_SW_BPF_OUTPUT) +
//! mmap), poll()s, and reads every record in order. Reading late: with a one-page buffer and no
//! reader, the kernel drops what does not fit; after the reader catches up, the next record is
//! preceded by PERF_RECORD_LOST with the exact number dropped.

use std::os::fd::AsRawFd;

use aya::maps::perf::{PerfEvent, PerfEventArray, PerfEventArrayBuffer};
use aya::maps::MapData;
use aya::programs::TracePoint;
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, getpid_n, load, set_target_tgid, tgid, Guard};

const N: u64 = 50;
const FLOOD: u64 = 300;
const MAGIC: u64 = 0xfeed_face_cafe_beef;

#[derive(Debug, PartialEq)]
enum Rec {
    Sample { seq: u64, tgid: u32, cpu: u32 },
    Lost(u64),
}

fn drain(buf: &mut PerfEventArrayBuffer<MapData>) -> Vec<Rec> {
    let mut out = Vec::new();
    buf.for_each(|ev| match ev {
        PerfEvent::Sample { head, tail } => {
            let mut b = head.to_vec();
            b.extend_from_slice(tail);
            if b.len() < 24 {
                fail("sample size", format!("{} bytes", b.len()));
            }
            let u64_at = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap());
            let u32_at = |o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().unwrap());
            if u64_at(16) != MAGIC {
                fail("sample magic", format!("{:#x}", u64_at(16)));
            }
            out.push(Rec::Sample { seq: u64_at(0), tgid: u32_at(8), cpu: u32_at(12) });
        }
        PerfEvent::Lost { count } => out.push(Rec::Lost(count)),
    });
    out
}

fn poll_in(fd: i32, ms: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    r == 1 && p.revents & libc::POLLIN != 0
}

fn main() {
    let guard = Guard::new();
    let pid = tgid();
    let cpu = ayatest::pin_to_first_online_cpu();

    guard.step(60, "load perfbuf.o");
    let mut bpf = load(bpf_object!("perfbuf"), "perfbuf.o");
    set_target_tgid(&mut bpf, pid);
    let map = bpf.take_map("events").unwrap_or_else(|| fail("map `events`", "missing"));
    let mut arr: PerfEventArray<MapData> = check_ok(PerfEventArray::try_from(map), "events as PerfEventArray");
    let online = check_ok(aya::util::online_cpus().map_err(|(_, e)| e), "aya::util::online_cpus");
    let mut bufs: Vec<(u32, PerfEventArrayBuffer<MapData>)> = Vec::new();
    for &c in &online {
        // One page for our CPU (the overflow test), two elsewhere.
        let pages = if c as usize == cpu { 1 } else { 2 };
        let b = check_ok(arr.open(c, Some(pages)), format!("PerfEventArray::open(CPU {c}, {pages} page(s))"));
        bufs.push((c, b));
    }
    let mine =
        bufs.iter().position(|(c, _)| *c as usize == cpu).unwrap_or_else(|| fail("a buffer for our CPU", "none"));
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("perf_getpid").unwrap_or_else(|| fail("program `perf_getpid`", "missing")).try_into(),
        "perf_getpid is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");
    check_ok(prog.attach("syscalls", "sys_enter_getpid"), "TracePoint::attach(syscalls, sys_enter_getpid)");

    guard.step(60, "poll + read");
    check(!poll_in(bufs[mine].1.as_raw_fd(), 0), "poll: nothing to read before the calls", "POLLIN");
    getpid_n(N, pid);
    check(poll_in(bufs[mine].1.as_raw_fd(), 5000), "poll: POLLIN on our CPU's buffer", "timed out");
    check(bufs[mine].1.readable(), "PerfEventArrayBuffer::readable", "false");
    let got = drain(&mut bufs[mine].1);
    let want: Vec<Rec> = (1..=N).map(|s| Rec::Sample { seq: s, tgid: pid, cpu: cpu as u32 }).collect();
    check_eq(got.len() as u64, N, format!("{N} records read"));
    check(got == want, format!("records 1..={N} in order, our tgid, CPU {cpu}, no loss"), format!("{got:?}"));
    for (c, b) in bufs.iter_mut() {
        if *c as usize != cpu {
            check_eq(drain(b).len(), 0, format!("CPU {c}'s buffer is empty"));
        }
    }
    check(!bufs[mine].1.readable(), "drained: nothing left", "still readable");

    // Reading late: FLOOD records into one page without reading.
    guard.step(60, "overflow");
    getpid_n(FLOOD, pid);
    let got = drain(&mut bufs[mine].1);
    let kept = got.len() as u64;
    println!("# one page held {kept} of {FLOOD} records");
    check(kept > 0 && kept < FLOOD, format!("the page kept some but not all of {FLOOD} records ({kept})"), kept);
    let want: Vec<Rec> = (N + 1..=N + kept).map(|s| Rec::Sample { seq: s, tgid: pid, cpu: cpu as u32 }).collect();
    check(got == want, "the kept records are the first ones, in order", format!("{got:?}"));
    getpid_n(1, pid);
    let got = drain(&mut bufs[mine].1);
    let want = vec![Rec::Lost(FLOOD - kept), Rec::Sample { seq: N + FLOOD + 1, tgid: pid, cpu: cpu as u32 }];
    check_eq(got, want, format!("then PERF_RECORD_LOST ({} lost) before the next record", FLOOD - kept));
    done();
}
