//! [`FdTable`]: a process's file descriptors (shared by threads, copied by `fork`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::Errno;

use super::file::OpenFile;
use crate::KResult;

/// Default `RLIMIT_NOFILE` (Linux's soft limit).
pub const DEFAULT_NOFILE: usize = 1024;

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// File descriptors: the lowest free number first, like Linux.
#[derive(Clone)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    limit: usize,
}

impl Default for FdTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FdTable {
    /// An empty table with the default limit.
    pub fn new() -> Self {
        FdTable { slots: Vec::new(), limit: DEFAULT_NOFILE }
    }

    /// Installs `file` at the lowest free fd `>= min` (`EMFILE` past the limit; `EINVAL`
    /// if `min` itself is past it, as `F_DUPFD` does).
    pub fn install_from(&mut self, min: usize, file: Arc<OpenFile>, cloexec: bool) -> KResult<i32> {
        if min >= self.limit {
            return Err(Errno::EINVAL);
        }
        let fd = (min..self.limit).find(|&i| self.slots.get(i).is_none_or(|s| s.is_none())).ok_or(Errno::EMFILE)?;
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd] = Some(Slot { file, cloexec });
        i32::try_from(fd).map_err(|_| Errno::EMFILE)
    }

    /// Installs `file` at the lowest free fd.
    pub fn install(&mut self, file: Arc<OpenFile>, cloexec: bool) -> KResult<i32> {
        self.install_from(0, file, cloexec)
    }

    /// Installs `file` at exactly `fd`, closing what was there (`dup2`/`dup3`); `EBADF` if
    /// `fd` is negative or past the limit. Returns the replaced file (dropped by the
    /// caller outside any lock, since dropping may run `release`).
    pub fn install_at(&mut self, fd: i32, file: Arc<OpenFile>, cloexec: bool) -> KResult<Option<Arc<OpenFile>>> {
        let i = self.index(fd)?;
        if i >= self.limit {
            return Err(Errno::EBADF);
        }
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        Ok(self.slots[i].replace(Slot { file, cloexec }).map(|s| s.file))
    }

    /// The file at `fd` (`EBADF`).
    pub fn get(&self, fd: i32) -> KResult<Arc<OpenFile>> {
        let i = self.index(fd)?;
        self.slots.get(i).and_then(|s| s.as_ref()).map(|s| s.file.clone()).ok_or(Errno::EBADF)
    }

    /// Removes `fd` (`EBADF`); returns the file so the caller drops it outside the lock.
    pub fn remove(&mut self, fd: i32) -> KResult<Arc<OpenFile>> {
        let i = self.index(fd)?;
        self.slots.get_mut(i).and_then(|s| s.take()).map(|s| s.file).ok_or(Errno::EBADF)
    }

    /// The close-on-exec flag of `fd` (`EBADF`).
    pub fn cloexec(&self, fd: i32) -> KResult<bool> {
        let i = self.index(fd)?;
        self.slots.get(i).and_then(|s| s.as_ref()).map(|s| s.cloexec).ok_or(Errno::EBADF)
    }

    /// Sets the close-on-exec flag of `fd` (`EBADF`).
    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> KResult<()> {
        let i = self.index(fd)?;
        let slot = self.slots.get_mut(i).and_then(|s| s.as_mut()).ok_or(Errno::EBADF)?;
        slot.cloexec = on;
        Ok(())
    }

    /// `execve`: removes every close-on-exec fd; returns the files to drop.
    pub fn close_on_exec(&mut self) -> Vec<Arc<OpenFile>> {
        let mut out = Vec::new();
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                if let Some(s) = s.take() {
                    out.push(s.file);
                }
            }
        }
        out
    }

    /// Every open fd with its file, ascending (`/proc/self/fd`).
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Arc<OpenFile>)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| Some((i32::try_from(i).ok()?, &s.as_ref()?.file)))
    }

    /// Removes every fd (process exit); returns the files to drop.
    pub fn clear(&mut self) -> Vec<Arc<OpenFile>> {
        core::mem::take(&mut self.slots).into_iter().flatten().map(|s| s.file).collect()
    }

    /// `RLIMIT_NOFILE` (soft).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets `RLIMIT_NOFILE` (soft); fds already above it stay open, as in Linux.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    fn index(&self, fd: i32) -> KResult<usize> {
        usize::try_from(fd).map_err(|_| Errno::EBADF)
    }
}
