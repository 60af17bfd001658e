use super::*;
use crate::fs::epoll::{EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD};
use crate::fs::file::O_NONBLOCK;
use crate::fs::pipe::new_pipe;
use crate::user::{write_val, TestMem};

const BASE: u64 = 0x10000;

fn put_event(mem: &TestMem, at: u64, events: u32, data: u64) {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&events.to_ne_bytes());
    b[4..].copy_from_slice(&data.to_ne_bytes());
    mem.write(at, &b).unwrap();
}

fn get_event(mem: &TestMem, at: u64) -> (u32, u64) {
    let mut b = [0u8; 12];
    mem.read(at, &mut b).unwrap();
    (u32::from_ne_bytes(b[..4].try_into().unwrap()), u64::from_ne_bytes(b[4..].try_into().unwrap()))
}

#[test]
fn create_flags() {
    let files = Mutex::new(FdTable::new());
    assert_eq!(sys_epoll_create(&files, 0), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_create(&files, -5), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_create1(&files, 1), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_create1(&files, O_NONBLOCK), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_create(&files, 1), Ok(0));
    assert_eq!(sys_epoll_create1(&files, EPOLL_CLOEXEC), Ok(1));
    let t = files.lock();
    assert_eq!(t.cloexec(0), Ok(false));
    assert_eq!(t.cloexec(1), Ok(true));
    assert_eq!(t.get(1).unwrap().path, "anon_inode:[eventpoll]");
}

/// fd 0 epoll, 1/2 pipe ends, 3 another pipe's read end.
fn setup() -> (TestMem, Mutex<FdTable>, Vec<Arc<crate::fs::OpenFile>>) {
    let files = Mutex::new(FdTable::new());
    sys_epoll_create1(&files, 0).unwrap();
    let (r, w) = new_pipe(O_NONBLOCK);
    let (r2, w2) = new_pipe(O_NONBLOCK);
    {
        let mut t = files.lock();
        t.install(r, false).unwrap();
        t.install(w.clone(), false).unwrap();
        t.install(r2, false).unwrap();
    }
    (TestMem::new(BASE, 4096), files, vec![w, w2])
}

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

#[test]
fn ctl_argument_order() {
    let (mem, files, _keep) = setup();
    let ev = BASE;
    put_event(&mem, ev, EPOLLIN, 7);
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 1, 0x10), Err(Errno::EFAULT));
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, 99, 1, 0x10), Err(Errno::EFAULT), "an unknown op reads the event");
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_DEL, 1, 0x10), Err(Errno::ENOENT), "DEL ignores it");
    assert_eq!(sys_epoll_ctl(&mem, &files, 9, EPOLL_CTL_ADD, 1, ev), Err(Errno::EBADF));
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 9, ev), Err(Errno::EBADF));
    assert_eq!(sys_epoll_ctl(&mem, &files, -1, EPOLL_CTL_ADD, 1, ev), Err(Errno::EBADF));
    assert_eq!(sys_epoll_ctl(&mem, &files, 1, EPOLL_CTL_ADD, 2, ev), Err(Errno::EINVAL), "not an epoll fd");
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 0, ev), Err(Errno::EINVAL), "itself");
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, 99, 1, ev), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 1, ev), Ok(0));
    assert_eq!(sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 1, ev), Err(Errno::EEXIST));
}

#[test]
fn wait_argument_checks() {
    let (mem, files, _keep) = setup();
    assert_eq!(sys_epoll_wait(&mem, &files, 0, BASE, 0, 0), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_wait(&mem, &files, 0, BASE, -1, 0), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_wait(&mem, &files, 0, BASE, EP_MAX_EVENTS + 1, 0), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_wait(&mem, &files, 0, crate::user::TASK_SIZE - 12, 2, 0), Err(Errno::EFAULT));
    assert_eq!(sys_epoll_wait(&mem, &files, 0, u64::MAX - 4, 1, 0), Err(Errno::EFAULT));
    assert_eq!(sys_epoll_wait(&mem, &files, 7, BASE, 1, 0), Err(Errno::EBADF));
    assert_eq!(sys_epoll_wait(&mem, &files, 1, BASE, 1, 0), Err(Errno::EINVAL));
    // access_ok only checks the range, not the mapping: nothing ready → 0, no EFAULT.
    assert_eq!(sys_epoll_wait(&mem, &files, 0, 0x100, 1, 0), Ok(0));
    // The mask is checked before everything else.
    assert_eq!(sys_epoll_pwait(&mem, &files, 7, BASE, 1, 0, BASE, 4), Err(Errno::EINVAL));
    assert_eq!(sys_epoll_pwait(&mem, &files, 7, BASE, 1, 0, 0x100, 8), Err(Errno::EFAULT));
    assert_eq!(sys_epoll_pwait(&mem, &files, 0, BASE, 1, 0, 0, 4), Ok(0), "no mask: size ignored");
    write_val(&mem, BASE + 0x100, &[0u64, 2_000_000_000]).unwrap();
    assert_eq!(sys_epoll_pwait2(&mem, &files, 0, BASE, 1, BASE + 0x100, 0, 8), Err(Errno::EINVAL));
    write_val(&mem, BASE + 0x100, &[0u64, 1_000_000]).unwrap();
    assert_eq!(sys_epoll_pwait2(&mem, &files, 0, BASE, 1, BASE + 0x100, 0, 8), Ok(0));
}

#[test]
fn events_are_packed_and_partial_copy_counts() {
    let (mem, files, keep) = setup();
    put_event(&mem, BASE, EPOLLIN, 0x1122_3344_5566_7788);
    sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 1, BASE).unwrap();
    put_event(&mem, BASE, EPOLLOUT, 0xaa);
    sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 2, BASE).unwrap();
    keep[0].ops.write(&keep[0], b"x").unwrap();
    let out = BASE + 0x100;
    assert_eq!(sys_epoll_wait(&mem, &files, 0, out, 8, -1), Ok(2));
    assert_eq!(get_event(&mem, out), (EPOLLIN, 0x1122_3344_5566_7788));
    assert_eq!(get_event(&mem, out + 12), (EPOLLOUT, 0xaa));
    // Only the first of two events fits before the end of the mapping.
    let tail = BASE + 4096 - 20;
    assert_eq!(sys_epoll_wait(&mem, &files, 0, tail, 2, 0), Ok(1));
    // Not even one fits: EFAULT.
    assert_eq!(sys_epoll_wait(&mem, &files, 0, BASE + 4096 - 4, 2, 0), Err(Errno::EFAULT));
}

#[test]
fn wait_blocks_until_ready_or_timeout() {
    let (mem, files, keep) = setup();
    put_event(&mem, BASE, EPOLLIN, 3);
    sys_epoll_ctl(&mem, &files, 0, EPOLL_CTL_ADD, 3, BASE).unwrap();
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_epoll_wait(&mem, &files, 0, BASE + 0x100, 4, 25), Ok(0));
    assert!(crate::time::monotonic_ns() - t0 >= 25_000_000);
    let w2 = keep[1].clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        w2.ops.write(&w2, b"y").unwrap();
    });
    assert_eq!(sys_epoll_wait(&mem, &files, 0, BASE + 0x100, 4, -1), Ok(1));
    assert_eq!(get_event(&mem, BASE + 0x100), (EPOLLIN, 3));
    h.join().unwrap();
}
