//! `eventfd`, `eventfd2` (fs/eventfd.c `do_eventfd`).

use spin::Mutex;

use crate::fs::eventfd::{new_eventfd, EFD_CLOEXEC};
use crate::fs::FdTable;
use crate::KResult;

/// `eventfd2(initval, flags)`: a new eventfd (flags `EFD_SEMAPHORE | EFD_NONBLOCK |
/// EFD_CLOEXEC`, else `EINVAL`); `EMFILE` without a free fd.
pub fn sys_eventfd2(files: &Mutex<FdTable>, initval: u32, flags: u32) -> KResult<u64> {
    let file = new_eventfd(initval, flags)?;
    let fd = files.lock().install(file, flags & EFD_CLOEXEC != 0)?;
    u64::try_from(fd).map_err(|_| syscall_abi::Errno::EMFILE)
}

/// `eventfd(initval)` = `eventfd2(initval, 0)`.
pub fn sys_eventfd(files: &Mutex<FdTable>, initval: u32) -> KResult<u64> {
    sys_eventfd2(files, initval, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::eventfd::{EFD_NONBLOCK, EFD_SEMAPHORE};
    use syscall_abi::Errno;

    #[test]
    fn flags_and_fds() {
        let files = Mutex::new(FdTable::new());
        assert_eq!(sys_eventfd2(&files, 0, 2), Err(Errno::EINVAL));
        assert_eq!(sys_eventfd2(&files, 0, 0o2), Err(Errno::EINVAL), "O_RDWR is not an eventfd flag");
        assert_eq!(sys_eventfd(&files, 7), Ok(0));
        assert_eq!(sys_eventfd2(&files, 1, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE), Ok(1));
        let t = files.lock();
        assert_eq!(t.cloexec(0), Ok(false));
        assert_eq!(t.cloexec(1), Ok(true));
        assert_eq!(t.get(1).unwrap().flags(), 0o2 | EFD_NONBLOCK);
        assert_eq!(t.get(0).unwrap().path, "anon_inode:[eventfd]");
        drop(t);
        files.lock().set_limit(2);
        assert_eq!(sys_eventfd(&files, 0), Err(Errno::EMFILE));
    }
}
