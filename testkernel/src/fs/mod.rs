//! Files: the inode and open-file interfaces every filesystem and device implements, the
//! per-process fd table, and (from the filesystem work) tmpfs, initramfs, devfs, procfs,
//! sysfs, pipes and path resolution.

pub mod fdtable;
pub mod file;
pub mod inode;

pub use fdtable::FdTable;
pub use file::{FileOps, MmapBacking, OpenFile, PollEvents};
pub use inode::{DirEntry, FileType, Inode, Metadata, Timespec};
