//! Scenario 9: a tracepoint program (syscalls/sys_enter_getpid) calls bpf_trace_printk
//! (libbpf's bpf_printk, format string in .rodata); user space reads the lines back from
//! /sys/kernel/tracing/trace_pipe.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aya::programs::TracePoint;
use ayatest::{
    bpf_object, check, check_eq, check_ok, done, fail, getpid_n, load, set_target_tgid, tgid, tracefs, Guard,
};

const CALLS: u64 = 5;

fn main() {
    let guard = Guard::new();
    let pid = tgid();
    let tfs = tracefs();

    guard.step(60, "load trace_printk.o");
    let mut bpf = load(bpf_object!("trace_printk"), "trace_printk.o");
    set_target_tgid(&mut bpf, pid);
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("printk_getpid").unwrap_or_else(|| fail("program `printk_getpid`", "missing")).try_into(),
        "printk_getpid is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");

    // The reader first: trace_pipe consumes what it returns, it holds only lines printed while
    // it is open or still buffered. A thread, so that the test can time out on a silent pipe.
    guard.step(60, "open trace_pipe");
    let path = format!("{tfs}/trace_pipe");
    let f = check_ok(std::fs::File::open(&path), format!("open {path}"));
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut r = BufReader::new(f);
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) => return,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
                Err(e) => fail("read trace_pipe", e),
            }
        }
    });

    guard.step(60, "attach tracepoint");
    check_ok(prog.attach("syscalls", "sys_enter_getpid"), "TracePoint::attach(syscalls, sys_enter_getpid)");
    getpid_n(CALLS, pid);

    guard.step(60, "read trace_pipe");
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let marker = format!("aya_printk: tgid {pid} call ");
    while seen.len() < CALLS as usize {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if line.contains(&marker) {
                    print!("# {line}");
                    seen.push(line);
                }
            }
            Err(_) => {
                fail(format!("{CALLS} bpf_trace_printk lines in trace_pipe"), format!("only {} after 20 s", seen.len()))
            }
        }
    }
    for (i, line) in seen.iter().enumerate() {
        let want = format!("bpf_trace_printk: aya_printk: tgid {pid} call {} nr {}", i + 1, libc::SYS_getpid);
        check(
            line.trim_end().ends_with(&want),
            format!("line {} ends with \"{want}\"", i + 1),
            format!("got {:?}", line.trim_end()),
        );
        // Linux's prefix: "<comm>-<pid> [cpu] <flags> <secs>.<usecs>: bpf_trace_printk: ..."
        let head = line.trim_start();
        check(
            head.contains(&format!("-{pid} ")),
            format!("line {} names the task -{pid}", i + 1),
            format!("got {head:?}"),
        );
    }
    check_eq(seen.len() as u64, CALLS, "one line per call");
    done();
}
