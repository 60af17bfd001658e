//! [`FsContext`]: a process's filesystem view (Linux `struct fs_struct`): its working
//! directory, its root and its umask. Shared by threads (`CLONE_FS`), copied by `fork`.

use super::vfs::{Location, Vfs};

/// Working directory, root and umask of a process.
#[derive(Clone)]
pub struct FsContext {
    /// The working directory (`getcwd`, relative paths).
    pub cwd: Location,
    /// The root directory (always the [`Vfs`] root: there is no `chroot`).
    pub root: Location,
    /// File-creation mask (`umask`), `0o022` initially.
    pub umask: u32,
}

impl FsContext {
    /// The context of PID 1: cwd and root at `/`, umask `022`.
    pub fn new(vfs: &Vfs) -> FsContext {
        FsContext { cwd: vfs.root(), root: vfs.root(), umask: 0o022 }
    }
}
