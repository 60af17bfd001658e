use super::*;
use crate::fs::file::O_NONBLOCK;
use crate::fs::pipe::new_pipe;
use crate::user::{read_val, write_val, TestMem};

const BASE: u64 = 0x10000;

struct Env {
    mem: TestMem,
    files: Mutex<FdTable>,
    r: Arc<OpenFile>,
    w: Arc<OpenFile>,
}

/// fd 0 = pipe read end, fd 1 = write end.
fn env() -> Env {
    let (r, w) = new_pipe(O_NONBLOCK);
    let mut t = FdTable::new();
    t.install(r.clone(), false).unwrap();
    t.install(w.clone(), false).unwrap();
    Env { mem: TestMem::new(BASE, 4096), files: Mutex::new(t), r, w }
}

fn put_pollfds(mem: &TestMem, at: u64, fds: &[(i32, u16)]) {
    for (i, &(fd, ev)) in fds.iter().enumerate() {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&fd.to_ne_bytes());
        b[4..6].copy_from_slice(&ev.to_ne_bytes());
        b[6..].copy_from_slice(&0x5555u16.to_ne_bytes());
        mem.write(at + 8 * i as u64, &b).unwrap();
    }
}

fn revents(mem: &TestMem, at: u64, n: usize) -> Vec<u16> {
    (0..n).map(|i| read_val::<u16>(mem, at + 8 * i as u64 + 6).unwrap()).collect()
}

const IN: u16 = 0x1;
const OUT: u16 = 0x4;

#[test]
fn poll_table_of_entries() {
    let e = env();
    put_pollfds(&e.mem, BASE, &[(0, IN), (1, OUT), (-1, IN), (9, IN), (0, OUT)]);
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, 5, 0), Ok(2));
    assert_eq!(revents(&e.mem, BASE, 5), vec![0, OUT, 0, 0x20, 0], "NVAL for fd 9, nothing for fd -1");
    e.w.ops.write(&e.w, b"x").unwrap();
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, 5, 0), Ok(3));
    assert_eq!(revents(&e.mem, BASE, 5), vec![IN, OUT, 0, 0x20, 0]);
    // HUP is reported even when not asked for.
    let w = e.files.lock().remove(1).unwrap();
    drop(w);
    drop(e.w);
    put_pollfds(&e.mem, BASE, &[(0, 0)]);
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, 1, 0), Ok(1));
    assert_eq!(revents(&e.mem, BASE, 1), vec![0x10]);
}

#[test]
fn poll_errors() {
    let e = env();
    e.files.lock().set_limit(4);
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, 5, 0), Err(Errno::EINVAL));
    assert_eq!(sys_poll(&e.mem, &e.files, 0x100, 1, 0), Err(Errno::EFAULT));
    assert_eq!(sys_poll(&e.mem, &e.files, BASE + 4092, 1, 0), Err(Errno::EFAULT));
    // Whatever the table's limit, nfds never exceeds Linux's nr_open.
    e.files.lock().set_limit(usize::MAX);
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, (1 << 20) + 1, 0), Err(Errno::EINVAL));
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, u32::MAX, 0), Err(Errno::EINVAL));
    // nfds 0 with a zero timeout: nothing to do.
    assert_eq!(sys_poll(&e.mem, &e.files, 0, 0, 0), Ok(0));
}

#[test]
fn poll_times_out_and_wakes() {
    let e = env();
    put_pollfds(&e.mem, BASE, &[(0, IN)]);
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, 1, 30), Ok(0));
    assert!(crate::time::monotonic_ns() - t0 >= 30_000_000);
    // No fds at all: a plain sleep.
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_poll(&e.mem, &e.files, 0, 0, 20), Ok(0));
    assert!(crate::time::monotonic_ns() - t0 >= 20_000_000);
    // Two fds (read end of a second pipe too): woken through POLL_WAKE.
    let (r2, w2) = new_pipe(0);
    e.files.lock().install(r2, false).unwrap();
    put_pollfds(&e.mem, BASE, &[(0, IN), (2, IN)]);
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        w2.ops.write(&w2, b"!").unwrap();
        w2
    });
    assert_eq!(sys_poll(&e.mem, &e.files, BASE, 2, -1), Ok(1));
    assert_eq!(revents(&e.mem, BASE, 2), vec![0, IN]);
    h.join().unwrap();
}

#[test]
fn ppoll_timespec_sigmask_and_write_back() {
    let e = env();
    put_pollfds(&e.mem, BASE, &[(1, OUT)]);
    let ts = BASE + 0x100;
    let mask = BASE + 0x200;
    write_val(&e.mem, ts, &[0u64, 1_000_000_000]).unwrap();
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, ts, 0, 8), Err(Errno::EINVAL));
    write_val(&e.mem, ts, &[u64::MAX, 0]).unwrap();
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, ts, 0, 8), Err(Errno::EINVAL), "negative seconds");
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, 0x100, 0, 8), Err(Errno::EFAULT));
    write_val(&e.mem, ts, &[5u64, 0]).unwrap();
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, ts, mask, 4), Err(Errno::EINVAL));
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, ts, 0x100, 8), Err(Errno::EFAULT));
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, ts, mask, 8), Ok(1));
    let [sec, nsec] = read_val::<[u64; 2]>(&e.mem, ts).unwrap();
    assert!(sec == 4 && nsec > 0 || sec == 5 && nsec == 0, "time left written back: {sec}.{nsec}");
    // A NULL timeout with a ready fd; a zero timeout is not written back.
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, 0, 0, 0), Ok(1));
    write_val(&e.mem, ts, &[0u64, 0]).unwrap();
    put_pollfds(&e.mem, BASE, &[(0, IN)]);
    assert_eq!(sys_ppoll(&e.mem, &e.files, BASE, 1, ts, 0, 0), Ok(0));
    assert_eq!(read_val::<[u64; 2]>(&e.mem, ts), Ok([0, 0]));
}

#[test]
fn select_sets_and_errors() {
    let e = env();
    let (rs, ws, xs, tv) = (BASE, BASE + 0x80, BASE + 0x100, BASE + 0x180);
    write_val(&e.mem, rs, &0b11u64).unwrap();
    write_val(&e.mem, ws, &0b11u64).unwrap();
    write_val(&e.mem, xs, &0b11u64).unwrap();
    write_val(&e.mem, tv, &[0u64, 0]).unwrap();
    assert_eq!(sys_select(&e.mem, &e.files, 2, rs, ws, xs, tv), Ok(1));
    assert_eq!(read_val::<u64>(&e.mem, rs), Ok(0));
    assert_eq!(read_val::<u64>(&e.mem, ws), Ok(0b10), "only the write end is writable");
    assert_eq!(read_val::<u64>(&e.mem, xs), Ok(0));
    e.w.ops.write(&e.w, b"x").unwrap();
    write_val(&e.mem, rs, &0b11u64).unwrap();
    write_val(&e.mem, ws, &0b11u64).unwrap();
    assert_eq!(sys_select(&e.mem, &e.files, 2, rs, ws, 0, tv), Ok(2));
    assert_eq!(read_val::<u64>(&e.mem, rs), Ok(0b01));
    // nfds limits which bits are looked at: fd 1 is not watched with nfds 1.
    write_val(&e.mem, ws, &0b10u64).unwrap();
    assert_eq!(sys_select(&e.mem, &e.files, 1, 0, ws, 0, tv), Ok(0));
    // Errors.
    assert_eq!(sys_select(&e.mem, &e.files, -1, rs, 0, 0, tv), Err(Errno::EINVAL));
    write_val(&e.mem, rs, &0b1000u64).unwrap();
    assert_eq!(sys_select(&e.mem, &e.files, 4, rs, 0, 0, tv), Err(Errno::EBADF));
    assert_eq!(sys_select(&e.mem, &e.files, 4, 0x100, 0, 0, tv), Err(Errno::EFAULT));
    write_val(&e.mem, tv, &[0u64, u64::MAX]).unwrap();
    assert_eq!(sys_select(&e.mem, &e.files, 0, 0, 0, 0, tv), Err(Errno::EINVAL), "negative usec");
    // Microseconds past a second carry into seconds (Linux normalises).
    write_val(&e.mem, tv, &[0u64, 1_000_010]).unwrap();
    write_val(&e.mem, rs, &0b1u64).unwrap();
    assert_eq!(sys_select(&e.mem, &e.files, 1, rs, 0, 0, tv), Ok(1));
    let [sec, usec] = read_val::<[u64; 2]>(&e.mem, tv).unwrap();
    assert!(sec <= 1 && usec < 1_000_000, "remaining written back as a timeval: {sec}.{usec}");
}

#[test]
fn pselect6_sigset_pair() {
    let e = env();
    let (ws, ts, sig, mask) = (BASE, BASE + 0x100, BASE + 0x200, BASE + 0x300);
    write_val(&e.mem, ws, &0b10u64).unwrap();
    write_val(&e.mem, ts, &[1u64, 0]).unwrap();
    write_val(&e.mem, sig, &[mask, 4]).unwrap();
    assert_eq!(sys_pselect6(&e.mem, &e.files, 2, 0, ws, 0, ts, sig), Err(Errno::EINVAL));
    assert_eq!(sys_pselect6(&e.mem, &e.files, 2, 0, ws, 0, ts, 0x100), Err(Errno::EFAULT));
    write_val(&e.mem, sig, &[mask, 8]).unwrap();
    assert_eq!(sys_pselect6(&e.mem, &e.files, 2, 0, ws, 0, ts, sig), Ok(1));
    write_val(&e.mem, sig, &[0u64, 4]).unwrap();
    write_val(&e.mem, ws, &0b10u64).unwrap();
    assert_eq!(sys_pselect6(&e.mem, &e.files, 2, 0, ws, 0, ts, sig), Ok(1), "a NULL set ignores the size");
    let _keep = (&e.r, &e.w);
}
