//! The anonymous inode behind eventfd and epoll files (Linux's `anon_inodefs`): one inode
//! shared by every such file, mode `0600` with no file-type bits, as `fstat` shows on Linux.

use super::inode::{Metadata, Timespec};

/// Device number of the anonymous-inode filesystem (`0:14`, an unnamed device).
pub const ANON_INODE_DEV: u64 = 14;
/// The shared inode number.
pub const ANON_INODE_INO: u64 = 1;

/// `fstat` of an anonymous-inode file (Linux `alloc_anon_inode`: `S_IRUSR | S_IWUSR`, no
/// type bits, owned by root here).
pub fn anon_inode_metadata() -> Metadata {
    Metadata {
        dev: ANON_INODE_DEV,
        ino: ANON_INODE_INO,
        mode: 0o600,
        nlink: 1,
        blksize: 4096,
        atime: Timespec::default(),
        mtime: Timespec::default(),
        ctime: Timespec::default(),
        ..Metadata::default()
    }
}

/// The current wall-clock time as a [`Timespec`].
pub fn now() -> Timespec {
    let ns = crate::time::realtime_ns();
    let sec = i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX);
    // The remainder is below 10^9 and fits.
    let nsec = u32::try_from(ns % 1_000_000_000).unwrap_or(0);
    Timespec { sec, nsec }
}
