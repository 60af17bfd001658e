use super::*;
use crate::fs::eventfd::new_eventfd;
use crate::fs::file::O_NONBLOCK;
use crate::fs::pipe::new_pipe;

/// A file that cannot be polled (like a regular file: no wait queue).
struct Plain;
impl FileOps for Plain {
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A pollable file of "another subsystem" (its queue does not wake POLL_WAKE).
struct Foreign {
    ready: core::sync::atomic::AtomicBool,
    wq: WaitQueue,
}
impl FileOps for Foreign {
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn poll(&self, _f: &OpenFile) -> PollEvents {
        if self.ready.load(core::sync::atomic::Ordering::SeqCst) {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.wq)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn ep(f: &OpenFile) -> &EpollFile {
    f.ops.as_any().downcast_ref::<EpollFile>().unwrap()
}

fn write(f: &OpenFile, b: &[u8]) {
    assert_eq!(f.ops.write(f, b), Ok(b.len()));
}

fn drain(f: &OpenFile) {
    let mut b = [0u8; 256];
    while f.ops.read(f, &mut b).is_ok_and(|n| n > 0) {}
}

#[test]
fn ctl_errors_like_do_epoll_ctl() {
    let e = new_epoll();
    let (r, _w) = new_pipe(O_NONBLOCK);
    let plain = OpenFile::new(Arc::new(Plain), 0, String::from("/f"));
    let add = |fd, f: &Arc<OpenFile>, ev| epoll_ctl(&e, EPOLL_CTL_ADD, fd, f, ev, 0);
    assert_eq!(add(3, &plain, EPOLLIN), Err(Errno::EPERM));
    assert_eq!(add(4, &e, EPOLLIN), Err(Errno::EINVAL), "adding itself");
    assert_eq!(epoll_ctl(&e, 0, 5, &r, EPOLLIN, 0), Err(Errno::EINVAL));
    assert_eq!(epoll_ctl(&e, 4, 5, &r, EPOLLIN, 0), Err(Errno::EINVAL));
    assert_eq!(epoll_ctl(&e, EPOLL_CTL_DEL, 5, &r, 0, 0), Err(Errno::ENOENT));
    assert_eq!(epoll_ctl(&e, EPOLL_CTL_MOD, 5, &r, EPOLLIN, 0), Err(Errno::ENOENT));
    assert_eq!(add(5, &r, EPOLLIN), Ok(()));
    assert_eq!(add(5, &r, EPOLLOUT), Err(Errno::EEXIST));
    // The same file under another fd is another item (key = fd + file).
    assert_eq!(add(6, &r, EPOLLIN), Ok(()));
    assert_eq!(epoll_ctl(&e, EPOLL_CTL_MOD, 5, &r, EPOLLIN | EPOLLEXCLUSIVE, 0), Err(Errno::EINVAL));
    assert_eq!(epoll_ctl(&e, EPOLL_CTL_DEL, 5, &r, 0, 0), Ok(()));
    assert_eq!(epoll_ctl(&e, EPOLL_CTL_DEL, 5, &r, 0, 0), Err(Errno::ENOENT));
    // EPOLLEXCLUSIVE: only with the OK bits, never on an epoll target, never MODified.
    let (r2, _w2) = new_pipe(0);
    assert_eq!(add(7, &r2, EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP), Err(Errno::EINVAL));
    assert_eq!(add(7, &r2, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT), Err(Errno::EINVAL));
    let inner = new_epoll();
    assert_eq!(add(8, &inner, EPOLLIN | EPOLLEXCLUSIVE), Err(Errno::EINVAL));
    assert_eq!(add(7, &r2, EPOLLIN | EPOLLEXCLUSIVE | EPOLLET), Ok(()));
    assert_eq!(epoll_ctl(&e, EPOLL_CTL_MOD, 7, &r2, EPOLLIN, 0), Err(Errno::EINVAL));
    assert_eq!(ep(&e).len(), 2);
    // The "epoll" fd must be one: EINVAL, but only after the EPERM check.
    assert_eq!(epoll_ctl(&r, EPOLL_CTL_ADD, 5, &r2, EPOLLIN, 0), Err(Errno::EINVAL));
    assert_eq!(epoll_ctl(&r, EPOLL_CTL_ADD, 5, &plain, EPOLLIN, 0), Err(Errno::EPERM));
}

#[test]
fn level_triggered_reports_until_drained_with_data() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 0xdead_beef_0000_0001).unwrap();
    assert_eq!(ep(&e).collect(8), Vec::new());
    write(&w, b"x");
    assert_eq!(ep(&e).collect(8), vec![(EPOLLIN, 0xdead_beef_0000_0001)]);
    assert_eq!(ep(&e).collect(8), vec![(EPOLLIN, 0xdead_beef_0000_0001)], "level-triggered repeats");
    drain(&r);
    assert_eq!(ep(&e).collect(8), Vec::new());
    // MOD changes the mask and data.
    epoll_ctl(&e, EPOLL_CTL_MOD, 3, &r, EPOLLOUT, 7).unwrap();
    write(&w, b"y");
    assert_eq!(ep(&e).collect(8), Vec::new(), "a read end is never writable");
    // HUP is always reported, even with an empty mask.
    epoll_ctl(&e, EPOLL_CTL_MOD, 3, &r, 0, 9).unwrap();
    drop(w);
    assert_eq!(ep(&e).collect(8), vec![(EPOLLHUP, 9)]);
}

#[test]
fn edge_triggered_reports_once_per_change() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    write(&w, b"a");
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN | EPOLLET, 1).unwrap();
    assert_eq!(ep(&e).collect(8).len(), 1, "ready at ADD: reported once");
    assert_eq!(ep(&e).collect(8), Vec::new());
    write(&w, b"b");
    assert_eq!(ep(&e).collect(8).len(), 1, "new data is a new edge even if already readable");
    assert_eq!(ep(&e).collect(8), Vec::new());
    drain(&r);
    write(&w, b"c");
    assert_eq!(ep(&e).collect(8).len(), 1);
    // The write end of an eventfd: ET on OUT.
    let efd = new_eventfd(0, O_NONBLOCK).unwrap();
    epoll_ctl(&e, EPOLL_CTL_ADD, 4, &efd, EPOLLOUT | EPOLLET, 2).unwrap();
    assert_eq!(ep(&e).collect(8), vec![(EPOLLOUT, 2)]);
    assert_eq!(ep(&e).collect(8), Vec::new());
}

#[test]
fn oneshot_disables_until_mod() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    write(&w, b"a");
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN | EPOLLONESHOT, 1).unwrap();
    assert_eq!(ep(&e).collect(8).len(), 1);
    assert_eq!(ep(&e).collect(8), Vec::new());
    drop(w);
    assert_eq!(ep(&e).collect(8), Vec::new(), "a disabled item reports not even HUP");
    assert!(ep(&e).ops_fdinfo_has_events(EPOLLONESHOT));
    epoll_ctl(&e, EPOLL_CTL_MOD, 3, &r, EPOLLIN | EPOLLONESHOT, 2).unwrap();
    assert_eq!(ep(&e).collect(8), vec![(EPOLLIN | EPOLLHUP, 2)]);
}

impl EpollFile {
    fn ops_fdinfo_has_events(&self, ev: u32) -> bool {
        self.fdinfo().contains(&alloc::format!("events: {ev:8x}"))
    }
}

#[test]
fn closing_the_last_fd_removes_the_item_but_a_dup_keeps_it() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    write(&w, b"a");
    let dup = r.clone();
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 1).unwrap();
    drop(r);
    assert_eq!(ep(&e).collect(8).len(), 1, "still open through the dup");
    drop(dup);
    assert_eq!(ep(&e).collect(8), Vec::new());
    assert_eq!(ep(&e).len(), 0);
}

#[test]
fn maxevents_rotates_through_ready_items() {
    let e = new_epoll();
    let mut keep = Vec::new();
    for fd in 0..3 {
        let (r, w) = new_pipe(O_NONBLOCK);
        write(&w, b"a");
        epoll_ctl(&e, EPOLL_CTL_ADD, fd, &r, EPOLLIN, fd as u64).unwrap();
        keep.push((r, w));
    }
    let seen: Vec<u64> = (0..6).map(|_| ep(&e).collect(1)[0].1).collect();
    assert_eq!(seen, vec![0, 1, 2, 0, 1, 2]);
    assert_eq!(ep(&e).collect(10).len(), 3);
}

#[test]
fn nesting_loops_and_depth() {
    let outer = new_epoll();
    let inner = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    epoll_ctl(&inner, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 0).unwrap();
    epoll_ctl(&outer, EPOLL_CTL_ADD, 4, &inner, EPOLLIN, 44).unwrap();
    assert_eq!(outer.ops.poll(&outer), PollEvents::empty());
    write(&w, b"a");
    assert_eq!(inner.ops.poll(&inner), PollEvents::IN | PollEvents::RDNORM);
    assert_eq!(ep(&outer).collect(4), vec![(EPOLLIN, 44)]);
    assert_eq!(epoll_ctl(&inner, EPOLL_CTL_ADD, 5, &outer, EPOLLIN, 0), Err(Errno::ELOOP));
    // A chain: e[i] is added into e[i+1]; the 7th level is too deep.
    let eps: Vec<_> = (0..9).map(|_| new_epoll()).collect();
    let mut results = Vec::new();
    for i in 0..8 {
        results.push(epoll_ctl(&eps[i + 1], EPOLL_CTL_ADD, 3, &eps[i], EPOLLIN, 0));
    }
    assert_eq!(results[..6], [Ok(()), Ok(()), Ok(()), Ok(()), Ok(()), Ok(())]);
    assert_eq!(results[6], Err(Errno::ELOOP));
}

#[test]
fn wait_times_out_and_wakes() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 5).unwrap();
    let t0 = crate::time::monotonic_ns();
    assert_eq!(ep(&e).wait(4, Some(t0 + 20_000_000)), Ok(Vec::new()));
    assert!(crate::time::monotonic_ns() >= t0 + 20_000_000);
    assert_eq!(ep(&e).wait(4, Some(0)), Ok(Vec::new()), "a past deadline just polls");
    let w2 = w.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(&w2, b"z");
    });
    assert_eq!(ep(&e).wait(4, None), Ok(vec![(EPOLLIN, 5)]));
    h.join().unwrap();
}

#[test]
fn wait_wakes_on_ctl_add_and_on_foreign_files() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    write(&w, b"a");
    let (e2, r2) = (e.clone(), r.clone());
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        epoll_ctl(&e2, EPOLL_CTL_ADD, 3, &r2, EPOLLIN, 1).unwrap();
    });
    assert_eq!(ep(&e).wait(4, None), Ok(vec![(EPOLLIN, 1)]));
    h.join().unwrap();
    drain(&r);
    let foreign = Arc::new(Foreign { ready: false.into(), wq: WaitQueue::new() });
    let ff = OpenFile::new(foreign.clone(), 0, String::from("anon_inode:x"));
    epoll_ctl(&e, EPOLL_CTL_ADD, 4, &ff, EPOLLIN, 2).unwrap();
    assert!(!ep(&e).all_targets_local());
    let f2 = foreign.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        f2.ready.store(true, core::sync::atomic::Ordering::SeqCst);
        f2.wq.wake_all();
    });
    assert_eq!(ep(&e).wait(4, None), Ok(vec![(EPOLLIN, 2)]));
    h.join().unwrap();
}

#[test]
fn fdinfo_lists_items_like_linux() {
    let e = new_epoll();
    let (r, _w) = new_pipe(0);
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 0x10).unwrap();
    let ino = r.ops.stat().unwrap().ino;
    assert_eq!(
        e.ops.fdinfo(),
        alloc::format!("tfd:        3 events:       19 data:               10  pos:0 ino:{ino:x} sdev:c\n")
    );
    assert_eq!(e.path, "anon_inode:[eventpoll]");
    assert_eq!(e.flags(), O_RDWR);
}

#[test]
fn a_foreign_target_added_during_a_wait_is_watched() {
    let e = new_epoll();
    let (r, w) = new_pipe(O_NONBLOCK);
    let (r2, _w2) = new_pipe(O_NONBLOCK);
    // Two local targets: the waiter sleeps on POLL_WAKE without re-checking periodically.
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 1).unwrap();
    epoll_ctl(&e, EPOLL_CTL_ADD, 4, &r2, EPOLLIN, 2).unwrap();
    let foreign = Arc::new(Foreign { ready: false.into(), wq: WaitQueue::new() });
    let ff = OpenFile::new(foreign.clone(), 0, String::from("anon_inode:x"));
    let (e2, ff2, f2) = (e.clone(), ff.clone(), foreign.clone());
    let h = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        epoll_ctl(&e2, EPOLL_CTL_ADD, 5, &ff2, EPOLLIN, 5).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Only the foreign file's own queue is woken.
        f2.ready.store(true, core::sync::atomic::Ordering::SeqCst);
        f2.wq.wake_all();
    });
    assert_eq!(ep(&e).wait(4, None), Ok(vec![(EPOLLIN, 5)]));
    h.join().unwrap();
    drop(w);
}
