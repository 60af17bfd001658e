//! The `tracepoint!` macro: record layout, the bytes consumers get, ids, the enable flag,
//! `__data_loc` strings and raw tracepoint arguments.

mod trace_util;

use std::mem::offset_of;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bpf_subsys::attach::PerfEventKind;
use perf_event::trace::{DataLoc, RawConsumer};
use syscall_abi::Errno;
use trace_util::{errno, setup, Capture};

perf_event::tracepoint! {
    /// A test event with every field kind.
    pub fn trace_test_all(test / test_all) -> static TEST_ALL, struct TestAll {
        a: u8,
        b: i16,
        c: u32,
        d: i64,
        name: [u8; 16],
        flag: bool,
        path: DataLoc,
        last: u16,
    }
    print "\"a=%u\", REC->a";
}

perf_event::tracepoint! {
    /// Layout like sched_process_exit.
    pub fn trace_test_exit(test / test_exit) -> static TEST_EXIT, struct TestExit {
        comm: [u8; 16],
        pid: i32 = "pid_t",
        prio: i32 = "int",
        group_dead: bool,
    }
    print "\"comm=%s\", REC->comm";
}

perf_event::tracepoint! {
    /// For the consumer-list test (each test has its own statics: tests run in parallel and
    /// a static tracepoint fires into every registry that registered it).
    fn trace_test_multi(test / test_multi) -> static TEST_MULTI, struct TestMulti {
        x: u64,
    }
    print "\"x=%llu\", REC->x";
}

perf_event::tracepoint! {
    /// For the raw tracepoint test.
    fn trace_test_raw(test / test_raw) -> static TEST_RAW, struct TestRaw {
        comm: [u8; 16],
        pid: i32 = "pid_t",
        prio: i32 = "int",
        group_dead: bool,
    }
    print "\"comm=%s\", REC->comm";
}

fn comm(s: &[u8]) -> [u8; 16] {
    let mut c = [0u8; 16];
    c[..s.len()].copy_from_slice(s);
    c
}

#[test]
fn record_layout_is_the_c_layout() {
    assert_eq!(offset_of!(TestAll, common), 0);
    assert_eq!(offset_of!(TestAll, a), 8);
    assert_eq!(offset_of!(TestAll, b), 10);
    assert_eq!(offset_of!(TestAll, c), 12);
    assert_eq!(offset_of!(TestAll, d), 16);
    assert_eq!(offset_of!(TestAll, name), 24);
    assert_eq!(offset_of!(TestAll, flag), 40);
    assert_eq!(offset_of!(TestAll, path), 44);
    assert_eq!(offset_of!(TestAll, last), 48);
    assert_eq!(std::mem::size_of::<TestAll>(), 56);
    let f = TEST_ALL.fields();
    assert_eq!(f.len(), 8);
    assert_eq!((f[4].c_type.as_ref(), f[4].array_len, f[4].size), ("char", 16, 16));
    assert_eq!((f[6].c_type.as_ref(), f[6].offset, f[6].size), ("__data_loc char[]", 44, 4));
    assert!(f[1].signed && !f[2].signed);
}

#[test]
fn records_reach_consumers_with_header_and_fields() {
    let (env, _arm, reg, _fs) = setup();
    let ev = reg.register_static(&TEST_ALL);
    assert_eq!(ev.kind(), PerfEventKind::Tracepoint);
    assert_eq!(ev.record_size(), 56);
    assert!(!TEST_ALL.enabled());
    let cap = Arc::new(Capture::default());
    let handle = ev.attach(cap.clone()).unwrap();
    assert!(TEST_ALL.enabled());
    env.pid.store(42, Ordering::Relaxed);
    trace_test_all(7, -2, 0xdead_beef, -5, comm(b"init"), true, b"/bin/sh\0junk", 0x1234);
    let recs = cap.take();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.len(), 56 + 8, "fixed record + \"/bin/sh\" + NUL");
    assert_eq!(u16::from_le_bytes([r[0], r[1]]), u16::try_from(ev.id()).unwrap());
    assert_eq!((r[2], r[3]), (0, 0));
    assert_eq!(i32::from_le_bytes(r[4..8].try_into().unwrap()), 42);
    assert_eq!(r[8], 7);
    assert_eq!(i16::from_le_bytes(r[10..12].try_into().unwrap()), -2);
    assert_eq!(u32::from_le_bytes(r[12..16].try_into().unwrap()), 0xdead_beef);
    assert_eq!(i64::from_le_bytes(r[16..24].try_into().unwrap()), -5);
    assert_eq!(&r[24..28], b"init");
    assert_eq!(r[40], 1);
    let loc = u32::from_le_bytes(r[44..48].try_into().unwrap());
    assert_eq!((loc >> 16, loc & 0xffff), (8, 56));
    assert_eq!(&r[56..64], b"/bin/sh\0");
    assert_eq!(u16::from_le_bytes(r[48..50].try_into().unwrap()), 0x1234);
    assert_eq!(cap.regs_seen.load(Ordering::Relaxed), 0);
    drop(handle);
    assert!(!TEST_ALL.enabled());
    trace_test_all(0, 0, 0, 0, [0; 16], false, b"", 0);
    assert!(cap.take().is_empty());
}

#[test]
fn ids_count_up_and_lookup_works() {
    let (_env, _arm, reg, _fs) = setup();
    reg.syscalls().register(0, "read", &[("unsigned int", "fd"), ("char *", "buf"), ("size_t", "count")]).unwrap();
    let ev = reg.register_static(&TEST_EXIT);
    let ids: Vec<u32> = reg.events().iter().map(|e| e.id()).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(reg.by_id(3).unwrap().name(), "test_exit");
    assert_eq!(reg.by_name("test", "test_exit").unwrap().id(), ev.id());
    assert_eq!(reg.by_name("syscalls", "sys_exit_read").unwrap().id(), 2);
    assert!(reg.by_id(4).is_none());
    assert!(reg.by_name("test", "nope").is_none());
    // Registering again returns the same event.
    assert_eq!(reg.register_static(&TEST_EXIT).id(), ev.id());
}

#[test]
fn several_consumers_and_prog_ids() {
    let (_env, _arm, reg, _fs) = setup();
    let ev = reg.register_static(&TEST_MULTI);
    let a = Arc::new(Capture { prog: Some(11), ..Capture::default() });
    let b = Arc::new(Capture::default());
    let c = Arc::new(Capture { prog: Some(12), ..Capture::default() });
    let ha = ev.attach(a.clone()).unwrap();
    let hb = ev.attach(b.clone()).unwrap();
    let hc = ev.attach(c.clone()).unwrap();
    assert_eq!(ev.consumer_prog_ids(), vec![11, 12]);
    trace_test_multi(5);
    assert_eq!((a.take().len(), b.take().len(), c.take().len()), (1, 1, 1));
    drop(ha);
    assert_eq!(ev.consumer_prog_ids(), vec![12]);
    assert!(TEST_MULTI.enabled());
    drop(hb);
    drop(hc);
    assert!(!TEST_MULTI.enabled());
    assert!(!ev.in_use());
}

struct RawCapture {
    args: Mutex<Vec<Vec<u64>>>,
    prog: Option<u32>,
}

impl RawConsumer for RawCapture {
    fn hit(&self, args: &[u64]) {
        self.args.lock().unwrap().push(args.to_vec());
    }
    fn prog_id(&self) -> Option<u32> {
        self.prog
    }
}

#[test]
fn static_tracepoints_are_raw_tracepoints() {
    let (_env, _arm, reg, _fs) = setup();
    reg.register_static(&TEST_RAW);
    assert!(reg.raw_tracepoint(b"nope").is_none());
    assert!(reg.raw_tracepoint(b"\xff").is_none());
    let raw = reg.raw_tracepoint(b"test_raw").unwrap();
    assert_eq!(raw.nr_args(), 4);
    let cap = Arc::new(RawCapture { args: Mutex::new(Vec::new()), prog: Some(3) });
    let h = raw.attach(cap.clone()).unwrap();
    assert_eq!(errno(raw.attach(cap.clone())), Errno::EEXIST);
    assert!(TEST_RAW.enabled());
    trace_test_raw(comm(b"sh"), -1, 120, true);
    let got = cap.args.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0][1..], &[u64::MAX, 120, 1]);
    assert_ne!(got[0][0], 0, "char array passed by address");
    assert_eq!(raw.consumer_prog_ids(), vec![3]);
    drop(h);
    assert!(!TEST_RAW.enabled());
}

perf_event::tracepoint! {
    /// Registered with two registries.
    fn trace_test_two(test / test_two) -> static TEST_TWO, struct TestTwo {
        v: u32,
    }
    print "\"v=%u\", REC->v";
}

#[test]
fn one_tracepoint_in_two_registries() {
    let (_e1, _a1, reg1, _f1) = setup();
    let (_e2, _a2, reg2, fs2) = setup();
    reg2.syscalls().register(0, "read", &[]).unwrap(); // different ids in the two
    let ev1 = reg1.register_static(&TEST_TWO);
    let ev2 = reg2.register_static(&TEST_TWO);
    assert_ne!(ev1.id(), ev2.id());
    assert_eq!(TEST_TWO.registrations(), 2);
    let c1 = Arc::new(Capture::default());
    let c2 = Arc::new(Capture::default());
    let h1 = ev1.attach(c1.clone()).unwrap();
    let h2 = ev2.attach(c2.clone()).unwrap();
    trace_test_two(9);
    let (r1, r2) = (c1.take(), c2.take());
    assert_eq!(u16::from_le_bytes([r1[0][0], r1[0][1]]), u16::try_from(ev1.id()).unwrap());
    assert_eq!(u16::from_le_bytes([r2[0][0], r2[0][1]]), u16::try_from(ev2.id()).unwrap());
    drop(h1);
    trace_test_two(10);
    assert!(c1.take().is_empty());
    assert_eq!(c2.take().len(), 1);
    drop((h2, ev1, ev2, reg2, fs2));
    assert_eq!(TEST_TWO.registrations(), 1, "a dropped registry is gone");
    assert!(!TEST_TWO.enabled());
}
