//! Scenario 3: a tracepoint program on syscalls/sys_enter_openat copies the filename with
//! bpf_probe_read_user_str into a RingBuf; user space opens known paths and consumes exactly
//! those records, in order.

use std::ffi::CString;

use aya::maps::RingBuf;
use aya::programs::TracePoint;
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, load, set_target_tgid, tgid, Guard};

const FNAME_LEN: usize = 128;

#[repr(C)]
#[derive(Clone, Copy)]
struct OpenEvent {
    tgid: u32,
    len: i32,
    dfd: i64,
    filename: [u8; FNAME_LEN],
}

fn main() {
    let guard = Guard::new();
    let pid = tgid();

    guard.step(60, "load openat_ringbuf.o");
    let mut bpf = load(bpf_object!("openat_ringbuf"), "openat_ringbuf.o");
    set_target_tgid(&mut bpf, pid);
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("openat_enter").unwrap_or_else(|| fail("program `openat_enter`", "missing")).try_into(),
        "openat_enter is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");
    let events = bpf.take_map("events").unwrap_or_else(|| fail("map `events`", "missing"));
    let mut ring: RingBuf<_> =
        check_ok(RingBuf::try_from(events), "events as RingBuf (mmap of consumer/producer pages)");

    guard.step(60, "attach tracepoint");
    let prog: &mut TracePoint = bpf.program_mut("openat_enter").unwrap().try_into().unwrap();
    check_ok(prog.attach("syscalls", "sys_enter_openat"), "TracePoint::attach(syscalls, sys_enter_openat)");
    // Anything this process opened while attaching is not ours to check.
    let mut stale = 0;
    while ring.next().is_some() {
        stale += 1;
    }
    println!("# {stale} record(s) from before the test's opens drained");

    guard.step(60, "openat known paths");
    let paths: Vec<String> = vec![
        "/dev/null".into(),
        "/aya-test/does/not/exist".into(),
        format!("/tmp/aya_openat_{pid}"),
        "relative-name.txt".into(),
        format!("/{}", "x".repeat(FNAME_LEN + 20)), // truncated to FNAME_LEN - 1 bytes
    ];
    let mut want_dfd = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let c = CString::new(p.as_str()).unwrap();
        // Raw openat(2): glibc's open() would do the same, but the test wants exactly one
        // openat per path. The 4th path is opened relative to a bogus dfd (EBADF, still traced).
        let dfd = if i == 3 { 12345 } else { libc::AT_FDCWD };
        want_dfd.push(i64::from(dfd));
        let fd = unsafe { libc::syscall(libc::SYS_openat, dfd, c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC, 0) };
        if fd >= 0 {
            unsafe { libc::close(fd as i32) };
        }
    }

    guard.step(60, "consume ring buffer");
    let mut got: Vec<OpenEvent> = Vec::new();
    while let Some(item) = ring.next() {
        check_eq(item.len(), std::mem::size_of::<OpenEvent>(), "record size");
        // SAFETY: the length was checked; the record is plain data.
        got.push(unsafe { std::ptr::read_unaligned(item.as_ptr().cast::<OpenEvent>()) });
    }
    check_eq(got.len(), paths.len(), "exactly one record per openat()");
    for (i, (e, p)) in got.iter().zip(&paths).enumerate() {
        let want = &p.as_bytes()[..p.len().min(FNAME_LEN - 1)];
        let n = e.filename.iter().position(|&b| b == 0).unwrap_or(FNAME_LEN);
        check_eq(e.tgid, pid, format!("record {i}: tgid"));
        check_eq(e.dfd, want_dfd[i], format!("record {i}: dfd"));
        check_eq(e.len, want.len() as i32 + 1, format!("record {i}: bpf_probe_read_user_str returned len+1"));
        check(
            &e.filename[..n] == want,
            format!("record {i}: filename {:?}", String::from_utf8_lossy(want)),
            format!("got {:?}", String::from_utf8_lossy(&e.filename[..n])),
        );
    }
    check(ring.next().is_none(), "ring buffer empty afterwards", "an extra record");
    done();
}
