//! The Linux x86_64 `struct stat` (144 bytes, `<asm/stat.h>`) and `struct statx` (256 bytes,
//! `<linux/stat.h>`) as `stat`/`fstat`/`newfstatat`/`statx` copy them out, built from an
//! inode's [`Metadata`]; device-number encoding (`makedev`/`major`/`minor`) and anonymous
//! device numbers for in-memory filesystems.
//!
//! The layouts are `syscall_abi::uapi_struct!` mirrors; `stat/tests.rs` compares every field
//! offset and size with the C headers through a program compiled by gcc.

use core::sync::atomic::{AtomicU64, Ordering};

use super::inode::{Metadata, Timespec};

syscall_abi::uapi_struct! {
    #[c = "struct stat", whole]
    /// x86_64 `struct stat` (what `fstat`/`newfstatat` write).
    pub struct Stat {
        /// Device of the filesystem.
        pub st_dev: u64 => "st_dev",
        /// Inode number.
        pub st_ino: u64 => "st_ino",
        /// Hard links.
        pub st_nlink: u64 => "st_nlink",
        /// Type and permissions.
        pub st_mode: u32 => "st_mode",
        /// Owner.
        pub st_uid: u32 => "st_uid",
        /// Group.
        pub st_gid: u32 => "st_gid",
        /// Padding.
        pub pad0: u32 => "__pad0",
        /// Device number of a device node.
        pub st_rdev: u64 => "st_rdev",
        /// Size in bytes.
        pub st_size: i64 => "st_size",
        /// Preferred I/O size.
        pub st_blksize: i64 => "st_blksize",
        /// 512-byte blocks.
        pub st_blocks: i64 => "st_blocks",
        /// Access time, seconds.
        pub st_atime: u64 => "st_atime",
        /// Access time, nanoseconds.
        pub st_atime_nsec: u64 => "st_atime_nsec",
        /// Modification time, seconds.
        pub st_mtime: u64 => "st_mtime",
        /// Modification time, nanoseconds.
        pub st_mtime_nsec: u64 => "st_mtime_nsec",
        /// Status change time, seconds.
        pub st_ctime: u64 => "st_ctime",
        /// Status change time, nanoseconds.
        pub st_ctime_nsec: u64 => "st_ctime_nsec",
        /// Reserved.
        pub unused: [i64; 3] => "__unused",
    }
}

syscall_abi::uapi_struct! {
    #[c = "struct statx_timestamp", whole]
    /// `struct statx_timestamp`.
    pub struct StatxTimestamp {
        /// Seconds.
        pub tv_sec: i64 => "tv_sec",
        /// Nanoseconds.
        pub tv_nsec: u32 => "tv_nsec",
        /// Reserved.
        pub reserved: i32 => "__reserved",
    }
}

syscall_abi::uapi_struct! {
    #[c = "struct statx", whole]
    /// `struct statx` (Linux 6.1).
    pub struct Statx {
        /// `STATX_*` bits of the fields filled in.
        pub stx_mask: u32 => "stx_mask",
        /// Preferred I/O size.
        pub stx_blksize: u32 => "stx_blksize",
        /// `STATX_ATTR_*` flags.
        pub stx_attributes: u64 => "stx_attributes",
        /// Hard links.
        pub stx_nlink: u32 => "stx_nlink",
        /// Owner.
        pub stx_uid: u32 => "stx_uid",
        /// Group.
        pub stx_gid: u32 => "stx_gid",
        /// Type and permissions.
        pub stx_mode: u16 => "stx_mode",
        /// Reserved.
        pub spare0: [u16; 1] => "__spare0",
        /// Inode number.
        pub stx_ino: u64 => "stx_ino",
        /// Size.
        pub stx_size: u64 => "stx_size",
        /// 512-byte blocks.
        pub stx_blocks: u64 => "stx_blocks",
        /// Supported `stx_attributes` bits.
        pub stx_attributes_mask: u64 => "stx_attributes_mask",
        /// Access time.
        pub stx_atime: StatxTimestamp => "stx_atime",
        /// Creation time.
        pub stx_btime: StatxTimestamp => "stx_btime",
        /// Status change time.
        pub stx_ctime: StatxTimestamp => "stx_ctime",
        /// Modification time.
        pub stx_mtime: StatxTimestamp => "stx_mtime",
        /// Device node major.
        pub stx_rdev_major: u32 => "stx_rdev_major",
        /// Device node minor.
        pub stx_rdev_minor: u32 => "stx_rdev_minor",
        /// Filesystem device major.
        pub stx_dev_major: u32 => "stx_dev_major",
        /// Filesystem device minor.
        pub stx_dev_minor: u32 => "stx_dev_minor",
        /// Mount id.
        pub stx_mnt_id: u64 => "stx_mnt_id",
        /// Direct I/O memory alignment.
        pub stx_dio_mem_align: u32 => "stx_dio_mem_align",
        /// Direct I/O offset alignment.
        pub stx_dio_offset_align: u32 => "stx_dio_offset_align",
        /// Reserved.
        pub spare3: [u64; 12] => "__spare3",
    }
}

/// `STATX_BASIC_STATS`: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.
pub const STATX_BASIC_STATS: u32 = 0x7ff;
/// `STATX_MNT_ID`.
pub const STATX_MNT_ID: u32 = 0x1000;

/// The user-space `dev_t` of `major:minor` (glibc's `makedev`; what `st_dev`/`st_rdev` hold).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

/// The major number of a [`makedev`] value.
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// The minor number of a [`makedev`] value.
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

static NEXT_ANON_MINOR: AtomicU64 = AtomicU64::new(16);

/// A fresh device number with major 0, for an in-memory filesystem instance (Linux's
/// `get_anon_bdev`).
pub fn alloc_anon_dev() -> u64 {
    let minor = NEXT_ANON_MINOR.fetch_add(1, Ordering::Relaxed);
    makedev(0, (minor & 0xf_ffff) as u32)
}

fn secs(t: Timespec) -> u64 {
    t.sec as u64
}

impl Stat {
    /// `struct stat` for `m`.
    pub fn from_metadata(m: &Metadata) -> Stat {
        Stat {
            st_dev: m.dev,
            st_ino: m.ino,
            st_nlink: u64::from(m.nlink),
            st_mode: m.mode,
            st_uid: m.uid,
            st_gid: m.gid,
            st_rdev: m.rdev,
            st_size: i64::try_from(m.size).unwrap_or(i64::MAX),
            st_blksize: i64::from(m.blksize),
            st_blocks: i64::try_from(m.blocks).unwrap_or(i64::MAX),
            st_atime: secs(m.atime),
            st_atime_nsec: u64::from(m.atime.nsec),
            st_mtime: secs(m.mtime),
            st_mtime_nsec: u64::from(m.mtime.nsec),
            st_ctime: secs(m.ctime),
            st_ctime_nsec: u64::from(m.ctime.nsec),
            ..Stat::ZERO
        }
    }
}

fn stx_time(t: Timespec) -> StatxTimestamp {
    StatxTimestamp { tv_sec: t.sec, tv_nsec: t.nsec, reserved: 0 }
}

impl Statx {
    /// `struct statx` for `m`: the basic stats and the mount id (Linux fills every field it
    /// has whatever the requested mask; there is no birth time).
    pub fn from_metadata(m: &Metadata, mnt_id: u64) -> Statx {
        Statx {
            stx_mask: STATX_BASIC_STATS | STATX_MNT_ID,
            stx_blksize: m.blksize,
            stx_nlink: m.nlink,
            stx_uid: m.uid,
            stx_gid: m.gid,
            stx_mode: (m.mode & 0xffff) as u16,
            stx_ino: m.ino,
            stx_size: m.size,
            stx_blocks: m.blocks,
            stx_atime: stx_time(m.atime),
            stx_ctime: stx_time(m.ctime),
            stx_mtime: stx_time(m.mtime),
            stx_rdev_major: major(m.rdev),
            stx_rdev_minor: minor(m.rdev),
            stx_dev_major: major(m.dev),
            stx_dev_minor: minor(m.dev),
            stx_mnt_id: mnt_id,
            ..Statx::ZERO
        }
    }
}

#[cfg(test)]
#[path = "stat/tests.rs"]
mod tests;
