//! eventfd objects (`eventfd2`), with Linux's semantics (fs/eventfd.c): a 64-bit counter;
//! `write` adds an 8-byte value (blocking while the sum would exceed `u64::MAX - 1`), `read`
//! returns the counter and resets it (or, with `EFD_SEMAPHORE`, returns 1 and decrements),
//! blocking while it is 0. Buffers shorter than 8 bytes are `EINVAL`, as is writing
//! `0xffffffffffffffff`. `poll`: `IN` when non-zero, `OUT` while 1 can be added, `ERR` at
//! `u64::MAX` (reachable only through [`EventFd::signal`]).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

use spin::Mutex;
use syscall_abi::Errno;

use super::anon_inode::anon_inode_metadata;
use super::file::{FileOps, OpenFile, PollEvents, O_NONBLOCK, O_RDWR};
use super::inode::Metadata;
use super::pollwait::ChangeCounter;
use crate::sync::WaitQueue;
use crate::KResult;

/// `EFD_SEMAPHORE`.
pub const EFD_SEMAPHORE: u32 = 1;
/// `EFD_NONBLOCK` (= `O_NONBLOCK`).
pub const EFD_NONBLOCK: u32 = O_NONBLOCK;
/// `EFD_CLOEXEC` (= `O_CLOEXEC`).
pub const EFD_CLOEXEC: u32 = 0o2000000;
/// The `/proc/self/fd` name of an eventfd.
pub const EVENTFD_PATH: &str = "anon_inode:[eventfd]";

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// One eventfd counter.
pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    id: u32,
    wq: WaitQueue,
    changes: ChangeCounter,
}

/// Creates an eventfd description (`eventfd2(initval, flags)`): `EINVAL` for flags other
/// than `EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC` (`EFD_CLOEXEC` is the caller's: it is
/// an fd flag, not a description flag).
pub fn new_eventfd(initval: u32, flags: u32) -> KResult<Arc<OpenFile>> {
    if flags & !(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let efd = Arc::new(EventFd {
        count: Mutex::new(u64::from(initval)),
        semaphore: flags & EFD_SEMAPHORE != 0,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        wq: WaitQueue::new(),
        changes: ChangeCounter::new(),
    });
    Ok(OpenFile::new(efd, O_RDWR | (flags & EFD_NONBLOCK), String::from(EVENTFD_PATH)))
}

impl EventFd {
    /// The counter.
    pub fn count(&self) -> u64 {
        *self.count.lock()
    }

    /// The readiness-change counter (edge-triggered epoll).
    pub fn generation(&self) -> u64 {
        self.changes.get()
    }

    /// Adds `n` from the kernel (Linux `eventfd_signal`): saturates at `u64::MAX`, which
    /// makes `poll` report `ERR`. Returns the amount added.
    pub fn signal(&self, n: u64) -> u64 {
        let added = {
            let mut c = self.count.lock();
            let add = n.min(u64::MAX - *c);
            *c += add;
            add
        };
        self.changes.notify(&self.wq);
        added
    }

    fn try_read(&self) -> Option<u64> {
        let mut c = self.count.lock();
        if *c == 0 {
            return None;
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        Some(v)
    }

    fn try_add(&self, v: u64) -> bool {
        let mut c = self.count.lock();
        if u64::MAX - *c > v {
            *c += v;
            true
        } else {
            false
        }
    }
}

impl FileOps for EventFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        let out = buf.get_mut(..8).ok_or(Errno::EINVAL)?;
        let v = loop {
            if let Some(v) = self.try_read() {
                break v;
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            self.wq.wait_until(None, || self.count() > 0)?;
        };
        self.changes.notify(&self.wq);
        out.copy_from_slice(&v.to_ne_bytes());
        Ok(8)
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> KResult<usize> {
        let bytes: [u8; 8] = buf.get(..8).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
        let v = u64::from_ne_bytes(bytes);
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        while !self.try_add(v) {
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            self.wq.wait_until(None, || u64::MAX - self.count() > v)?;
        }
        self.changes.notify(&self.wq);
        Ok(8)
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(anon_inode_metadata())
    }

    fn poll(&self, _file: &OpenFile) -> PollEvents {
        let c = self.count();
        let mut ev = PollEvents::empty();
        if c > 0 {
            ev |= PollEvents::IN;
        }
        if c == u64::MAX {
            ev |= PollEvents::ERR;
        }
        if u64::MAX - 1 > c {
            ev |= PollEvents::OUT;
        }
        ev
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.wq)
    }

    fn fdinfo(&self) -> String {
        format!("eventfd-count: {:16x}\neventfd-id: {}\n", self.count(), self.id)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd(f: &OpenFile, n: usize) -> KResult<u64> {
        let mut b = alloc::vec![0u8; n];
        let got = f.ops.read(f, &mut b)?;
        assert_eq!(got, 8);
        Ok(u64::from_ne_bytes(b[..8].try_into().unwrap()))
    }

    fn wr(f: &OpenFile, v: u64) -> KResult<usize> {
        f.ops.write(f, &v.to_ne_bytes())
    }

    #[test]
    fn flags_path_and_stat() {
        assert_eq!(new_eventfd(0, 4).err(), Some(Errno::EINVAL));
        assert_eq!(new_eventfd(0, O_RDWR).err(), Some(Errno::EINVAL));
        let f = new_eventfd(3, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
        assert_eq!(f.flags(), O_RDWR | O_NONBLOCK);
        assert_eq!(f.path, "anon_inode:[eventfd]");
        let st = f.ops.stat().unwrap();
        assert_eq!(st.mode, 0o600);
        assert_eq!(st.ino, super::super::anon_inode::ANON_INODE_INO);
        assert!(f.ops.fdinfo().starts_with("eventfd-count:                3\neventfd-id: "));
        assert_eq!(f.ops.seek(&f, 0, 0), Err(Errno::ESPIPE));
    }

    #[test]
    fn counter_semantics() {
        let f = new_eventfd(5, EFD_NONBLOCK).unwrap();
        assert_eq!(wr(&f, 2), Ok(8));
        assert_eq!(rd(&f, 8), Ok(7));
        assert_eq!(rd(&f, 8), Err(Errno::EAGAIN));
        // Short buffers, the all-ones value; a longer buffer reads/writes only 8 bytes.
        assert_eq!(f.ops.read(&f, &mut [0u8; 7]), Err(Errno::EINVAL));
        assert_eq!(f.ops.write(&f, &[1u8; 7]), Err(Errno::EINVAL));
        assert_eq!(wr(&f, u64::MAX), Err(Errno::EINVAL));
        assert_eq!(f.ops.write(&f, &[1, 0, 0, 0, 0, 0, 0, 0, 9, 9]), Ok(8));
        assert_eq!(rd(&f, 16), Ok(1));
        // The counter tops out at u64::MAX - 1.
        assert_eq!(wr(&f, u64::MAX - 1), Ok(8));
        assert_eq!(wr(&f, 1), Err(Errno::EAGAIN));
        assert_eq!(wr(&f, 0), Ok(8), "adding 0 always fits");
        assert_eq!(f.ops.poll(&f), PollEvents::IN);
        assert_eq!(rd(&f, 8), Ok(u64::MAX - 1));
        assert_eq!(f.ops.poll(&f), PollEvents::OUT);
    }

    #[test]
    fn semaphore_mode_and_kernel_signal_overflow() {
        let f = new_eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK).unwrap();
        assert_eq!(rd(&f, 8), Ok(1));
        assert_eq!(rd(&f, 8), Ok(1));
        assert_eq!(rd(&f, 8), Err(Errno::EAGAIN));
        let e = f.ops.as_any().downcast_ref::<EventFd>().unwrap();
        assert_eq!(e.signal(u64::MAX), u64::MAX);
        assert_eq!(f.ops.poll(&f), PollEvents::IN | PollEvents::ERR);
    }

    #[test]
    fn blocking_read_and_write() {
        let f = new_eventfd(0, 0).unwrap();
        let f2 = f.clone();
        let h = std::thread::spawn(move || rd(&f2, 8));
        std::thread::sleep(std::time::Duration::from_millis(20));
        wr(&f, 42).unwrap();
        assert_eq!(h.join().unwrap(), Ok(42));

        wr(&f, u64::MAX - 2).unwrap();
        let f2 = f.clone();
        let h = std::thread::spawn(move || wr(&f2, 5));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(rd(&f, 8), Ok(u64::MAX - 2));
        assert_eq!(h.join().unwrap(), Ok(8));
        assert_eq!(f.ops.as_any().downcast_ref::<EventFd>().unwrap().count(), 5);
    }
}
