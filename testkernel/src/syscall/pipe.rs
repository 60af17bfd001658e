//! `pipe`, `pipe2` (fs/pipe.c `do_pipe2`).

use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::file::O_NONBLOCK;
use crate::fs::pipe::{new_pipe, O_DIRECT};
use crate::fs::FdTable;
use crate::user::UserMem;
use crate::KResult;

/// `O_CLOEXEC`.
pub const O_CLOEXEC: u32 = 0o2000000;
/// `O_NOTIFICATION_PIPE` (= `O_EXCL`).
pub const O_NOTIFICATION_PIPE: u32 = 0o200;

/// `pipe2(fds, flags)`: creates a pipe and stores `[read fd, write fd]` (two `int`s) at
/// `fds`. `EINVAL` for flags outside `O_CLOEXEC | O_NONBLOCK | O_DIRECT |
/// O_NOTIFICATION_PIPE`; `O_DIRECT` makes a packet-mode pipe (see `fs/pipe.rs`);
/// `O_NOTIFICATION_PIPE` is `ENOPKG` (Linux without
/// `CONFIG_WATCH_QUEUE`); `EMFILE` when two fds are not free; `EFAULT` if `fds` is not
/// writable (no fd is left open then).
pub fn sys_pipe2(mem: &dyn UserMem, files: &Mutex<FdTable>, fds: u64, flags: u32) -> KResult<u64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & O_NOTIFICATION_PIPE != 0 {
        return Err(Errno::ENOPKG);
    }
    let (r, w) = new_pipe(flags);
    let cloexec = flags & O_CLOEXEC != 0;
    let (rfd, wfd) = {
        let mut t = files.lock();
        let rfd = t.install(r, cloexec)?;
        match t.install(w, cloexec) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let undo = t.remove(rfd);
                drop(t);
                drop(undo);
                return Err(e);
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_ne_bytes());
    out[4..].copy_from_slice(&wfd.to_ne_bytes());
    if let Err(e) = mem.write(fds, &out) {
        let undo = {
            let mut t = files.lock();
            (t.remove(rfd), t.remove(wfd))
        };
        drop(undo);
        return Err(e);
    }
    Ok(0)
}

/// `pipe(fds)` = `pipe2(fds, 0)`.
pub fn sys_pipe(mem: &dyn UserMem, files: &Mutex<FdTable>, fds: u64) -> KResult<u64> {
    sys_pipe2(mem, files, fds, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{read_val, TestMem};

    #[test]
    fn fds_flags_and_errors() {
        let mem = TestMem::new(0x1000, 64);
        let files = Mutex::new(FdTable::new());
        assert_eq!(sys_pipe2(&mem, &files, 0x1000, 0o1), Err(Errno::EINVAL));
        assert_eq!(sys_pipe2(&mem, &files, 0x1000, O_NOTIFICATION_PIPE), Err(Errno::ENOPKG));
        assert!(files.lock().iter().next().is_none());
        assert_eq!(sys_pipe(&mem, &files, 0x1000), Ok(0));
        assert_eq!(read_val::<[i32; 2]>(&mem, 0x1000), Ok([0, 1]));
        let t = files.lock();
        assert_eq!(t.get(0).unwrap().flags(), 0);
        assert_eq!(t.get(1).unwrap().flags(), 1);
        assert_eq!(t.cloexec(0), Ok(false));
        drop(t);
        assert_eq!(sys_pipe2(&mem, &files, 0x1008, O_CLOEXEC | O_NONBLOCK), Ok(0));
        assert_eq!(read_val::<[i32; 2]>(&mem, 0x1008), Ok([2, 3]));
        let t = files.lock();
        assert_eq!(t.cloexec(2), Ok(true));
        assert_eq!(t.cloexec(3), Ok(true));
        assert_eq!(t.get(2).unwrap().flags(), O_NONBLOCK);
        assert_eq!(t.get(3).unwrap().flags(), 1 | O_NONBLOCK);
        assert!(t.get(2).unwrap().path.starts_with("pipe:["));
        drop(t);
        // O_DIRECT: on the write end only.
        assert_eq!(sys_pipe2(&mem, &files, 0x1010, O_DIRECT), Ok(0));
        let t = files.lock();
        assert_eq!(t.get(4).unwrap().flags(), 0);
        assert_eq!(t.get(5).unwrap().flags(), 1 | O_DIRECT);
    }

    #[test]
    fn efault_and_emfile_leave_no_fd_behind() {
        let mem = TestMem::new(0x1000, 64);
        let files = Mutex::new(FdTable::new());
        assert_eq!(sys_pipe2(&mem, &files, 0x2000, 0), Err(Errno::EFAULT));
        assert_eq!(sys_pipe2(&mem, &files, 0x1000 + 60, 0), Err(Errno::EFAULT));
        assert!(files.lock().iter().next().is_none());
        files.lock().set_limit(1);
        assert_eq!(sys_pipe2(&mem, &files, 0x1000, 0), Err(Errno::EMFILE));
        assert!(files.lock().iter().next().is_none());
        files.lock().set_limit(2);
        assert_eq!(sys_pipe2(&mem, &files, 0x1000, 0), Ok(0));
        // Writing through the fds works end to end.
        let t = files.lock();
        let (r, w) = (t.get(0).unwrap(), t.get(1).unwrap());
        drop(t);
        assert_eq!(w.ops.write(&w, b"ok"), Ok(2));
        let mut b = [0u8; 4];
        assert_eq!(r.ops.read(&r, &mut b), Ok(2));
    }
}
