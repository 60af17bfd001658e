//! The tracefs model: listing, stat, enable files, trace / trace_pipe, trace_printk,
//! tracing_on, wake-up requests.

mod trace_util;

use std::sync::atomic::Ordering;

use perf_event::trace::{DataLoc, NodeKind, TraceFs};
use syscall_abi::Errno;
use trace_util::{drain_pipe, errno, read, setup};

perf_event::tracepoint! {
    /// sched_process_exec.
    fn trace_exec(sched / sched_process_exec) -> static EXEC, struct Exec {
        filename: DataLoc,
        pid: i32 = "pid_t",
        old_pid: i32 = "pid_t",
    }
    print "\"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid";
}

perf_event::tracepoint! {
    /// sched_process_exit.
    fn trace_exit(sched / sched_process_exit) -> static EXIT, struct Exit {
        comm: [u8; 16],
        pid: i32 = "pid_t",
        prio: i32 = "int",
        group_dead: bool,
    }
    print "\"comm=%s pid=%d prio=%d group_dead=%s\", REC->comm, REC->pid, REC->prio, REC->group_dead ? \"true\" : \"false\"";
}

fn comm(s: &[u8]) -> [u8; 16] {
    let mut c = [0u8; 16];
    c[..s.len()].copy_from_slice(s);
    c
}

fn names(v: Vec<(String, bool)>) -> Vec<String> {
    v.into_iter().map(|(n, d)| if d { format!("{n}/") } else { n }).collect()
}

#[test]
fn tree_listing_and_stat() {
    let (_env, _arm, reg, fs) = setup();
    reg.syscalls().register(39, "getpid", &[]).unwrap();
    assert_eq!(
        names(fs.list("").unwrap()),
        ["available_events", "events/", "kprobe_events", "kprobe_profile", "trace", "trace_pipe", "tracing_on"]
    );
    assert_eq!(names(fs.list("events").unwrap()), ["enable", "syscalls/"]);
    assert_eq!(names(fs.list("/events/syscalls/").unwrap()), ["enable", "sys_enter_getpid/", "sys_exit_getpid/"]);
    assert_eq!(names(fs.list("events/syscalls/sys_exit_getpid").unwrap()), ["enable", "format", "id"]);
    assert_eq!(errno(fs.list("events/nope")), Errno::ENOENT);
    assert_eq!(errno(fs.list("trace")), Errno::ENOTDIR);
    assert_eq!(fs.stat("").unwrap(), NodeKind::Dir);
    assert_eq!(fs.stat("trace_pipe").unwrap(), NodeKind::TracePipe);
    assert_eq!(fs.stat("events/syscalls/sys_exit_getpid/id").unwrap(), NodeKind::File { writable: false });
    assert_eq!(fs.stat("events/syscalls/sys_exit_getpid/enable").unwrap(), NodeKind::File { writable: true });
    assert_eq!(errno(fs.stat("events/syscalls/sys_exit_getpid/filter")), Errno::ENOENT);
    assert_eq!(read(&fs, "available_events"), "syscalls:sys_enter_getpid\nsyscalls:sys_exit_getpid\n");
    assert_eq!(read(&fs, "events/syscalls/sys_exit_getpid/id"), "2\n");
    assert_eq!(errno(fs.read_file("events")), Errno::EISDIR);
    assert_eq!(errno(fs.read_file("trace_pipe")), Errno::EINVAL);
    assert_eq!(errno(fs.write_file("available_events", b"x", true)), Errno::EACCES);
    assert_eq!(errno(fs.write_file("events/syscalls", b"1", true)), Errno::EISDIR);
}

#[test]
fn no_kprobe_files_without_an_engine() {
    let env = trace_util::FakeEnv::new();
    let reg = perf_event::trace::TraceRegistry::new(env);
    let fs = TraceFs::new(reg);
    assert!(!names(fs.list("").unwrap()).contains(&"kprobe_events".to_string()));
    assert_eq!(errno(fs.read_file("kprobe_events")), Errno::ENOENT);
}

#[test]
fn enable_files_and_trace_pipe() {
    let (env, _arm, reg, fs) = setup();
    let exec = reg.register_static(&EXEC);
    reg.register_static(&EXIT);
    assert_eq!(read(&fs, "events/sched/sched_process_exec/enable"), "0\n");
    assert_eq!(errno(fs.write_file("events/sched/sched_process_exec/enable", b"2", true)), Errno::EINVAL);
    assert_eq!(errno(fs.write_file("events/sched/sched_process_exec/enable", b"on", true)), Errno::EINVAL);
    assert_eq!(fs.write_file("events/sched/sched_process_exec/enable", b"1\n", true).unwrap(), 2);
    assert!(EXEC.enabled() && exec.in_use());
    assert_eq!(read(&fs, "events/sched/sched_process_exec/enable"), "1\n");
    assert_eq!(read(&fs, "events/sched/enable"), "X\n");
    assert_eq!(read(&fs, "events/enable"), "X\n");
    assert_eq!(errno(fs.trace_pipe_read(&mut [0u8; 64])), Errno::EAGAIN);
    assert!(!fs.trace_pipe_ready());
    *env.comm.lock().unwrap() = comm(b"true");
    env.pid.store(17687, Ordering::Relaxed);
    env.clock.store(30_629_297_458_123, Ordering::Relaxed);
    trace_exec(b"/bin/true", 17687, 17687);
    trace_exit(comm(b"true"), 17687, 120, true); // not enabled
    assert!(fs.trace_pipe_ready());
    assert!(fs.take_wakeup());
    assert!(!fs.take_wakeup());
    assert_eq!(env.irq_work.load(Ordering::Relaxed), 1);
    assert_eq!(
        drain_pipe(&fs),
        "            true-17687   [000] ..... 30629.297458: sched_process_exec: filename=/bin/true pid=17687 old_pid=17687\n"
    );
    fs.write_file("events/sched/enable", b"1", true).unwrap();
    assert_eq!(read(&fs, "events/sched/enable"), "1\n");
    trace_exit(comm(b"true"), 17687, 120, true);
    assert_eq!(
        drain_pipe(&fs),
        "            true-17687   [000] ..... 30629.297458: sched_process_exit: comm=true pid=17687 prio=120 group_dead=true\n"
    );
    fs.write_file("events/enable", b"0", true).unwrap();
    assert_eq!(read(&fs, "events/enable"), "0\n");
    assert!(!EXEC.enabled() && !EXIT.enabled());
}

#[test]
fn trace_snapshot_header_truncate_and_tracing_on() {
    let (_env, _arm, _reg, fs) = setup();
    fs.trace_printk(&comm(b"bpf_test"), 33, 1, 5_000_123_456, b"hello 7\n");
    let text = read(&fs, "trace");
    let want = concat!(
        "# tracer: nop\n",
        "#\n",
        "# entries-in-buffer/entries-written: 1/1   #P:2\n",
        "#\n",
        "#                                _-----=> irqs-off/BH-disabled\n",
        "#                               / _----=> need-resched\n",
        "#                              | / _---=> hardirq/softirq\n",
        "#                              || / _--=> preempt-depth\n",
        "#                              ||| / _-=> migrate-disable\n",
        "#                              |||| /     delay\n",
        "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n",
        "#              | |         |   |||||     |         |\n",
        "        bpf_test-33      [001] d..1.     5.000123: bpf_trace_printk: hello 7\n",
    );
    assert_eq!(text, want);
    // Reading `trace` does not consume; trace_pipe does.
    assert_eq!(read(&fs, "trace"), want);
    assert_eq!(drain_pipe(&fs), "        bpf_test-33      [001] d..1.     5.000123: bpf_trace_printk: hello 7\n");
    assert!(read(&fs, "trace").contains("entries-in-buffer/entries-written: 0/1"));
    fs.trace_printk(&comm(b"x"), 0, 0, 0, b"idle");
    assert_eq!(fs.write_file("trace", b"anything", false).unwrap(), 8);
    assert!(read(&fs, "trace").contains("entries-in-buffer/entries-written: 1/2"), "a write does not clear");
    fs.truncate("trace").unwrap();
    assert!(read(&fs, "trace").contains("entries-in-buffer/entries-written: 0/0"));
    assert_eq!(errno(fs.trace_pipe_read(&mut [0u8; 16])), Errno::EAGAIN);
    assert_eq!(read(&fs, "tracing_on"), "1\n");
    fs.write_file("tracing_on", b"0\n", true).unwrap();
    assert_eq!(read(&fs, "tracing_on"), "0\n");
    fs.trace_printk(&comm(b"x"), 1, 0, 0, b"lost");
    assert!(!fs.trace_pipe_ready());
    assert_eq!(errno(fs.write_file("tracing_on", b"yes", true)), Errno::EINVAL);
    fs.write_file("tracing_on", b"1", true).unwrap();
    fs.trace_printk(&comm(b"x"), 0, 0, 0, b"idle");
    assert_eq!(drain_pipe(&fs), "          <idle>-0       [000] d..1.     0.000000: bpf_trace_printk: idle\n");
}

#[test]
fn small_reads_split_lines_and_buffer_drops_oldest() {
    let (_env, _arm, reg, _fs) = setup();
    let fs = TraceFs::with_buffer_size(reg, 200);
    for i in 0..10u8 {
        fs.trace_printk(&comm(b"t"), 1, 0, 0, &[b'a' + i; 20]);
    }
    // 37-byte headers + 20-byte messages: 3 entries fit in 200 bytes.
    let text = drain_pipe(&fs);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().next().unwrap().ends_with(&"h".repeat(20)));
    fs.trace_printk(&comm(b"t"), 1, 0, 0, b"xyz");
    let line = "               t-1       [000] d..1.     0.000000: bpf_trace_printk: xyz\n";
    let mut got = Vec::new();
    let mut small = [0u8; 10];
    while let Ok(n) = fs.trace_pipe_read(&mut small) {
        assert!(n > 0);
        got.extend_from_slice(&small[..n]);
    }
    assert_eq!(String::from_utf8(got).unwrap(), line);
    assert_eq!(fs.trace_pipe_read(&mut []).unwrap(), 0);
    // An entry larger than the buffer is dropped and counted.
    fs.trace_printk(&comm(b"t"), 1, 0, 0, &[b'z'; 300]);
    assert_eq!(fs.dropped(), 1);
}
