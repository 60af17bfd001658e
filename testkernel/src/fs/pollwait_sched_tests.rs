//! Wake-up tests under a real (thread-parking) scheduler. Without a scheduler, host waits
//! spin on their condition and would hide a lost wake-up; with this one a task sleeps until
//! someone wakes it, as in the kernel. The scheduler is process-global, so the test re-runs
//! itself in a child process that runs only it.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::fs::epoll::{epoll_ctl, new_epoll, EpollFile, EPOLLET, EPOLLIN, EPOLL_CTL_ADD};
use crate::fs::file::{FileOps, OpenFile, PollEvents, O_NONBLOCK};
use crate::fs::inode::Metadata;
use crate::fs::pipe::new_pipe;
use crate::sync::{set_scheduler, Scheduler, TaskId, WaitQueue, WakeReason};
use crate::KResult;

struct ThreadSched {
    pending: Mutex<HashMap<u64, bool>>,
    cv: Condvar,
}

std::thread_local! {
    static ME: u64 = {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    };
}

impl Scheduler for ThreadSched {
    fn current(&self) -> TaskId {
        TaskId(ME.with(|m| *m))
    }
    fn block(&self, deadline: Option<u64>) -> WakeReason {
        let me = self.current().0;
        let mut p = self.pending.lock().unwrap();
        loop {
            if p.insert(me, false) == Some(true) {
                return WakeReason::Woken;
            }
            let now = crate::time::monotonic_ns();
            let wait = match deadline {
                Some(d) if d <= now => return WakeReason::Timeout,
                Some(d) => Duration::from_nanos(d - now),
                None => Duration::from_secs(3600),
            };
            p = self.cv.wait_timeout(p, wait).unwrap().0;
        }
    }
    fn wake(&self, task: TaskId) {
        self.pending.lock().unwrap().insert(task.0, true);
        self.cv.notify_all();
    }
    fn signal_pending(&self) -> bool {
        false
    }
}

struct Foreign {
    ready: std::sync::atomic::AtomicBool,
    wq: WaitQueue,
}

impl FileOps for Foreign {
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn poll(&self, _f: &OpenFile) -> PollEvents {
        if self.ready.load(std::sync::atomic::Ordering::SeqCst) {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.wq)
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

const CHILD_ENV: &str = "KPOLL_SCHED_CHILD";

fn after(ms: u64, f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        f();
    })
}

fn deadline_in(ms: u64) -> Option<u64> {
    Some(crate::time::monotonic_ns() + ms * 1_000_000)
}

fn ep(f: &OpenFile) -> &EpollFile {
    f.ops.as_any().downcast_ref::<EpollFile>().unwrap()
}

/// `epoll_wait` with a 5 s deadline that must return well before it: a wait that only
/// ends at its deadline lost its wake-up (the condition is re-checked at the deadline).
fn prompt_wait(e: &OpenFile) -> Vec<(u32, u64)> {
    let t0 = crate::time::monotonic_ns();
    let r = ep(e).wait(8, deadline_in(5000)).unwrap();
    let took = crate::time::monotonic_ns() - t0;
    assert!(took < 1_000_000_000, "woken only after {took} ns");
    r
}

fn scenarios() {
    set_scheduler(Box::leak(Box::new(ThreadSched { pending: Mutex::new(HashMap::new()), cv: Condvar::new() })));

    // 1. A blocking pipe read wakes on a write.
    let (r, w) = new_pipe(0);
    let w2 = w.clone();
    let h = after(20, move || assert_eq!(w2.ops.write(&w2, b"x"), Ok(1)));
    let mut b = [0u8; 4];
    assert_eq!(r.ops.read(&r, &mut b), Ok(1));
    h.join().unwrap();

    // 1b. poll-style waits on several pipes (the WaitSet of syscall/poll.rs).
    let (ra, _wa) = new_pipe(O_NONBLOCK);
    let (rb, wb) = new_pipe(O_NONBLOCK);
    let mut set = super::WaitSet::new();
    set.add(&*ra.ops);
    set.add(&*rb.ops);
    let h = after(20, move || assert_eq!(wb.ops.write(&wb, b"p"), Ok(1)));
    let t0 = crate::time::monotonic_ns();
    let ready = || rb.ops.poll(&rb).contains(PollEvents::IN);
    assert_eq!(set.wait(deadline_in(5000), ready), Ok(()));
    assert!(crate::time::monotonic_ns() - t0 < 1_000_000_000);
    h.join().unwrap();

    // 2. epoll over two local files sleeps on POLL_WAKE and wakes on a write to either.
    let e = new_epoll();
    let (r1, w1) = new_pipe(O_NONBLOCK);
    let (r2, w2) = new_pipe(O_NONBLOCK);
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r1, EPOLLIN, 1).unwrap();
    epoll_ctl(&e, EPOLL_CTL_ADD, 4, &r2, EPOLLIN | EPOLLET, 2).unwrap();
    let w2c = w2.clone();
    let h = after(20, move || assert_eq!(w2c.ops.write(&w2c, b"y"), Ok(1)));
    assert_eq!(prompt_wait(&e), vec![(EPOLLIN, 2)]);
    h.join().unwrap();
    // Edge-triggered: no new event until new data, then one.
    let w2c = w2.clone();
    let h = after(20, move || assert_eq!(w2c.ops.write(&w2c, b"z"), Ok(1)));
    assert_eq!(prompt_wait(&e), vec![(EPOLLIN, 2)]);
    h.join().unwrap();

    // 3. A foreign file among several is noticed through the periodic re-check.
    let foreign = Arc::new(Foreign { ready: false.into(), wq: WaitQueue::new() });
    let ff = OpenFile::new(foreign.clone(), 0, String::new());
    let e = new_epoll();
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r1, EPOLLIN, 1).unwrap();
    epoll_ctl(&e, EPOLL_CTL_ADD, 5, &ff, EPOLLIN, 5).unwrap();
    let f2 = foreign.clone();
    let h = after(20, move || {
        f2.ready.store(true, std::sync::atomic::Ordering::SeqCst);
        f2.wq.wake_all();
    });
    assert_eq!(prompt_wait(&e), vec![(EPOLLIN, 5)]);
    h.join().unwrap();

    // 4. A foreign file added while a waiter sleeps on local files only.
    let foreign = Arc::new(Foreign { ready: false.into(), wq: WaitQueue::new() });
    let ff = OpenFile::new(foreign.clone(), 0, String::new());
    let e = new_epoll();
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r1, EPOLLIN, 1).unwrap();
    epoll_ctl(&e, EPOLL_CTL_ADD, 4, &r2, EPOLLIN, 2).unwrap();
    let mut drain = [0u8; 16];
    while r2.ops.read(&r2, &mut drain).is_ok() {}
    let (e2, f2, ff2) = (e.clone(), foreign.clone(), ff.clone());
    let h = after(20, move || {
        epoll_ctl(&e2, EPOLL_CTL_ADD, 5, &ff2, EPOLLIN, 5).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        f2.ready.store(true, std::sync::atomic::Ordering::SeqCst);
        f2.wq.wake_all();
    });
    assert_eq!(prompt_wait(&e), vec![(EPOLLIN, 5)]);
    h.join().unwrap();
    drop(ff);

    // 5. Nested epoll: a waiter on the outer one wakes on a write below the inner one.
    let outer = new_epoll();
    let inner = new_epoll();
    let (r3, w3) = new_pipe(O_NONBLOCK);
    epoll_ctl(&inner, EPOLL_CTL_ADD, 3, &r3, EPOLLIN, 3).unwrap();
    epoll_ctl(&outer, EPOLL_CTL_ADD, 6, &inner, EPOLLIN, 6).unwrap();
    let h = after(20, move || assert_eq!(w3.ops.write(&w3, b"n"), Ok(1)));
    assert_eq!(prompt_wait(&outer), vec![(EPOLLIN, 6)]);
    h.join().unwrap();

    // 6. A timeout still ends the wait.
    let e = new_epoll();
    epoll_ctl(&e, EPOLL_CTL_ADD, 3, &r1, EPOLLIN, 1).unwrap();
    let (r4, _w4) = new_pipe(O_NONBLOCK);
    epoll_ctl(&e, EPOLL_CTL_ADD, 4, &r4, EPOLLIN, 4).unwrap();
    let mut drain = [0u8; 16];
    while r1.ops.read(&r1, &mut drain).is_ok() {}
    assert_eq!(ep(&e).wait(8, deadline_in(30)), Ok(Vec::new()));
    drop((w, w1));
}

#[test]
fn wakeups_under_a_real_scheduler() {
    if std::env::var_os(CHILD_ENV).is_some() {
        scenarios();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "fs::pollwait::sched_tests::wakeups_under_a_real_scheduler",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("1 passed"), "child run failed:\n{text}");
}
