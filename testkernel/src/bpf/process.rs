//! [`BpfProcess`]: what the bpf host needs from "the current process", without knowing the
//! kernel's task structures. The task code implements it once for its process/thread type
//! and registers a function returning the current one with
//! [`KernelBpfHost::set_current`](super::KernelBpfHost::set_current).

use alloc::sync::Arc;
use alloc::vec::Vec;

use bpf_subsys::host::Capability;
use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::{FdTable, Inode};
use crate::user::UserMem;
use crate::KResult;

/// The parent directory of a path and its last component, as `BPF_OBJ_PIN` needs them
/// (Linux `filename_parentat`).
pub struct PathParent {
    /// The directory the last component lives in (after following symlinks on the way).
    pub dir: Arc<dyn Inode>,
    /// The last component, verbatim (may be `.` or `..`; empty for `/`).
    pub name: Vec<u8>,
    /// The path ended in `/` after the last component.
    pub trailing_slash: bool,
}

/// The running process (and thread) as the bpf subsystem sees it: its memory, its fd table,
/// its identity and its view of the filesystem.
pub trait BpfProcess: Send + Sync {
    /// The process's memory (copies fail with `EFAULT`, never fault the kernel).
    fn mem(&self) -> &dyn UserMem;

    /// The process's fd table (shared by its threads).
    fn files(&self) -> &Mutex<FdTable>;

    /// `(thread id, process id)`: Linux `(pid, tgid)`.
    fn pid_tgid(&self) -> (u32, u32);

    /// `(uid, gid)` (the ids permission checks use, Linux `current_fsuid`/`current_fsgid`).
    fn uid_gid(&self) -> (u32, u32);

    /// The thread's name (`comm`), NUL-padded.
    fn comm(&self) -> [u8; 16];

    /// Linux `capable(cap)`. Default: uid 0 has every capability, nobody else any.
    fn capable(&self, cap: Capability) -> bool {
        let _ = cap;
        self.uid_gid().0 == 0
    }

    /// The file-creation mask (`umask`), applied to the mode of pinned objects.
    fn umask(&self) -> u32 {
        0o022
    }

    /// Address of the task's kernel structure (`bpf_get_current_task`); default 0.
    fn task_addr(&self) -> u64 {
        0
    }

    /// `bpf_send_signal`: queue `sig` to this process (or only this thread when `thread`).
    /// Default: `EOPNOTSUPP`, as for a kernel without the hook.
    fn send_signal(&self, sig: u32, thread: bool) -> KResult<()> {
        let _ = (sig, thread);
        Err(Errno::EOPNOTSUPP)
    }

    /// Resolves `path` like any path of this process (cwd, root, mounts, symlinks; the last
    /// component followed only when `follow`): `ENOENT`, `ENOTDIR`, `ELOOP`,
    /// `ENAMETOOLONG` as Linux. `None` (the default) means "no VFS yet": the host then
    /// resolves absolute paths under the bpffs mount point itself (see [`super::path`]).
    fn lookup(&self, path: &[u8], follow: bool) -> Option<KResult<Arc<dyn Inode>>> {
        let _ = (path, follow);
        None
    }

    /// Resolves everything but the last component of `path` (which must then be a
    /// directory: `ENOTDIR`), like [`BpfProcess::lookup`]; `None` (the default) as there.
    fn lookup_parent(&self, path: &[u8]) -> Option<KResult<PathParent>> {
        let _ = path;
        None
    }
}
