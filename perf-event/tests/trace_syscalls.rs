//! Syscall tracepoints: records, the one-flag hot path, raw `sys_enter` / `sys_exit`,
//! registration errors, trace_pipe lines as Linux prints them.

mod trace_util;

use std::sync::{Arc, Mutex};

use perf_event::trace::{RawConsumer, X86PtRegs};
use syscall_abi::Errno;
use trace_util::{drain_pipe, errno, setup, Capture};

const OPENAT: &[(&str, &str)] = &[("int", "dfd"), ("const char *", "filename"), ("int", "flags"), ("umode_t", "mode")];

#[test]
fn enter_and_exit_records() {
    let (_env, _arm, reg, _fs) = setup();
    let sc = reg.syscalls();
    sc.register(257, "openat", OPENAT).unwrap();
    let (enter, exit) = sc.events(257).unwrap();
    assert!(!sc.active());
    let ce = Arc::new(Capture::default());
    let cx = Arc::new(Capture::default());
    let he = enter.attach(ce.clone()).unwrap();
    assert!(sc.active());
    let hx = exit.attach(cx.clone()).unwrap();
    let mut regs = X86PtRegs::default();
    sc.syscall_enter(257, &[0xffff_ff9c, 0x7ffd_0000_1000, 0x241, 0o666, 9, 9], Some(&mut regs));
    sc.syscall_exit(257, 3, None);
    sc.syscall_enter(0, &[1, 2, 3, 4, 5, 6], None); // not registered: nothing
    let r = ce.take();
    assert_eq!(r.len(), 1);
    let r = &r[0];
    assert_eq!(r.len(), 48);
    assert_eq!(u16::from_le_bytes([r[0], r[1]]), u16::try_from(enter.id()).unwrap());
    assert_eq!(i32::from_le_bytes(r[4..8].try_into().unwrap()), 17685);
    assert_eq!(i32::from_le_bytes(r[8..12].try_into().unwrap()), 257);
    assert_eq!(&r[12..16], &[0, 0, 0, 0]);
    let args: Vec<u64> = (0..4).map(|i| u64::from_le_bytes(r[16 + 8 * i..24 + 8 * i].try_into().unwrap())).collect();
    assert_eq!(args, vec![0xffff_ff9c, 0x7ffd_0000_1000, 0x241, 0o666]);
    assert_eq!(ce.regs_seen.load(std::sync::atomic::Ordering::Relaxed), 1);
    let x = cx.take();
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].len(), 24);
    assert_eq!(i32::from_le_bytes(x[0][8..12].try_into().unwrap()), 257);
    assert_eq!(i64::from_le_bytes(x[0][16..24].try_into().unwrap()), 3);
    drop(he);
    assert!(sc.active(), "exit still enabled");
    drop(hx);
    assert!(!sc.active());
    sc.syscall_enter(257, &[0; 6], None);
    assert!(ce.take().is_empty());
}

#[test]
fn registration_errors() {
    let (_env, _arm, reg, _fs) = setup();
    let sc = reg.syscalls();
    sc.register(257, "openat", OPENAT).unwrap();
    assert_eq!(errno(sc.register(257, "openat2", &[])), Errno::EEXIST);
    assert_eq!(errno(sc.register(300, "openat", &[])), Errno::EEXIST);
    assert!(sc.events(300).is_none(), "a failed registration leaves nothing");
    assert_eq!(errno(sc.register(4096, "big", &[])), Errno::EINVAL);
    assert_eq!(errno(sc.register(1, "bad name", &[])), Errno::EINVAL);
    let seven = [("long", "a"); 7];
    assert_eq!(errno(sc.register(2, "seven", &seven)), Errno::EINVAL);
    assert_eq!(errno(sc.register(3, "x", &[("int", "")])), Errno::EINVAL);
}

struct Raw(Mutex<Vec<Vec<u64>>>);
impl RawConsumer for Raw {
    fn hit(&self, args: &[u64]) {
        self.0.lock().unwrap().push(args.to_vec());
    }
}

#[test]
fn raw_sys_enter_and_sys_exit() {
    let (_env, _arm, reg, _fs) = setup();
    let sc = reg.syscalls();
    let enter = reg.raw_tracepoint(b"sys_enter").unwrap();
    let exit = reg.raw_tracepoint(b"sys_exit").unwrap();
    assert_eq!((enter.nr_args(), exit.nr_args()), (2, 2));
    let c = Arc::new(Raw(Mutex::new(Vec::new())));
    let h1 = enter.attach(c.clone()).unwrap();
    let h2 = exit.attach(c.clone()).unwrap();
    assert!(sc.active());
    let mut regs = X86PtRegs::default();
    let addr = &regs as *const X86PtRegs as u64;
    sc.syscall_enter(39, &[0; 6], Some(&mut regs));
    sc.syscall_exit(39, -2, None);
    let got = c.0.lock().unwrap().clone();
    assert_eq!(got, vec![vec![addr, 39], vec![0, (-2i64) as u64]]);
    drop((h1, h2));
    assert!(!sc.active());
    // The one-call form BPF_RAW_TRACEPOINT_OPEN uses.
    assert_eq!(errno(reg.attach_raw(b"sys_nope", 8, c.clone())), Errno::ENOENT);
    assert_eq!(errno(reg.attach_raw(b"sys_enter", 17, c.clone())), Errno::EINVAL);
    let h = reg.attach_raw(b"sys_enter", 16, c.clone()).unwrap();
    assert!(sc.active());
    drop(h);
}

#[test]
fn trace_pipe_lines_like_linux() {
    let (_env, _arm, reg, fs) = setup();
    reg.syscalls().register(257, "openat", OPENAT).unwrap();
    fs.write_file("events/syscalls/sys_enter_openat/enable", b"1\n", true).unwrap();
    fs.write_file("events/syscalls/sys_exit_openat/enable", b"1", true).unwrap();
    let sc = reg.syscalls();
    sc.syscall_enter(257, &[0xffff_ff9c, 0x5555_aad1_a028, 0x241, 0x1b6, 0, 0], None);
    sc.syscall_exit(257, 3, None);
    sc.syscall_exit(257, -2, None);
    assert_eq!(
        drain_pipe(&fs),
        concat!(
            "            bash-17685   [000] ..... 30629.294161: sys_openat(dfd: ffffff9c, filename: 5555aad1a028, flags: 241, mode: 1b6)\n",
            "            bash-17685   [000] ..... 30629.294161: sys_openat -> 0x3\n",
            "            bash-17685   [000] ..... 30629.294161: sys_openat -> 0xfffffffffffffffe\n",
        )
    );
}
