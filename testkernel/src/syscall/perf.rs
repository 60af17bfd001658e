//! `perf_event_open(2)` (x86_64 number 298): the fd side of Linux 6.1's
//! `SYSCALL_DEFINE5(perf_event_open)`; everything about the event is the perf-event crate's
//! ([`perf_event::Perf::open`]).
//!
//! - `group_fd` other than -1 must be an open perf event fd (`EBADF` otherwise, as
//!   `perf_fget_light`); the crate checks the group rules.
//! - The new fd is `O_RDWR` (`anon_inode_getfile("[perf_event]", ..., O_RDWR)`), close-on-exec
//!   with `PERF_FLAG_FD_CLOEXEC`, named `anon_inode:[perf_event]` in `/proc/self/fd`.
//!
//! Linux resolves `group_fd` after copying and checking the attributes; here it is resolved
//! first, so a call that is wrong in both ways answers `EBADF` where Linux answers the
//! attribute's errno.

use alloc::string::String;
use alloc::sync::Arc;

use perf_event::Perf;
use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::file::O_RDWR;
use crate::fs::{FdTable, OpenFile};
use crate::trace::perf_file::{PerfFileOps, PERF_EVENT_PATH};
use crate::KResult;

/// `PERF_FLAG_FD_CLOEXEC`.
pub const PERF_FLAG_FD_CLOEXEC: u64 = 1 << 3;

/// `perf_event_open(attr, pid, cpu, group_fd, flags)` for the process whose fd table is
/// `files`; returns the new fd.
pub fn sys_perf_event_open(
    perf: &Arc<Perf>,
    files: &Mutex<FdTable>,
    attr: u64,
    pid: i32,
    cpu: i32,
    group_fd: i32,
    flags: u64,
) -> KResult<u64> {
    let group = if group_fd == -1 {
        None
    } else {
        let file = files.lock().get(group_fd)?;
        let ops = file.ops.as_any().downcast_ref::<PerfFileOps>().ok_or(Errno::EBADF)?;
        Some(ops.event().clone())
    };
    let event = perf.open(attr, pid, cpu, group, flags).map_err(|e| e.errno)?;
    let cloexec = flags & PERF_FLAG_FD_CLOEXEC != 0 || event.cloexec();
    let open = OpenFile::new(Arc::new(PerfFileOps::new(event)), O_RDWR, String::from(PERF_EVENT_PATH));
    let fd = files.lock().install(open, cloexec)?;
    u64::try_from(fd).map_err(|_| Errno::EMFILE)
}
