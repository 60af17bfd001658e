//! Files: the inode and open-file interfaces every filesystem and device implements, the
//! per-process fd table, path resolution and mounts, tmpfs, the initramfs unpacker, pipes,
//! eventfd and epoll.

pub mod anon_inode;
pub mod bpffs;
pub mod context;
pub mod cpio;
pub mod devfs;
pub mod epoll;
pub mod eventfd;
pub mod fdtable;
pub mod file;
pub mod generic;
pub mod inode;
pub mod pipe;
pub mod pollwait;
pub mod procfs;
pub mod rootfs;
pub mod stat;
pub mod sysfs;
pub mod tmpfs;
pub mod tracefs;
pub mod vfs;

pub use fdtable::FdTable;
pub use file::{FileOps, MmapBacking, OpenFile, PollEvents};
pub use inode::{DirEntry, FileType, Inode, Metadata, Timespec};
