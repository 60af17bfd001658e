//! [`ProcSource`]: what procfs asks the kernel. The kernel implements it over its process
//! table; procfs calls it at `lookup`/`readdir`/`open` time and formats the answers.
//!
//! Locking: procfs locks a target process's fd table ([`ProcSource::files`]) while it lists
//! `fd/` or generates `fdinfo/N`, and calls [`ProcSource::maps`] (the address-space lock)
//! when `maps` is opened. Callers of `Inode::lookup`/`readdir`/`open` on procfs inodes must
//! therefore not hold their own fd-table or address-space lock.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use spin::Mutex;

use super::version::DEFAULT_HOSTNAME;
use crate::fs::FdTable;

/// A snapshot of one process (thread group) for `/proc/<pid>/*`. Fields the kernel does
/// not track stay at their `Default` (0 / empty), which is what procfs then shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Thread-group id (the pid user space sees).
    pub pid: u32,
    /// Parent's pid (0 for init).
    pub ppid: u32,
    /// Process group (0: same as `pid`).
    pub pgrp: u32,
    /// Session (0: same as `pid`).
    pub session: u32,
    /// `comm` (the executable's base name; cut to 15 bytes on display).
    pub comm: String,
    /// State letter: `R` running, `S` sleeping, `D` disk sleep, `T` stopped, `Z` zombie
    /// (anything else shows as `R`).
    pub state: char,
    /// Real/effective/saved/fs user id (one value: this kernel has no setuid).
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Number of threads (0 shows as 1).
    pub threads: u32,
    /// Thread ids (`/proc/<pid>/task/`; empty: just `pid`).
    pub tids: Vec<u32>,
    /// `argv` (`cmdline` joins them with NULs).
    pub argv: Vec<Vec<u8>>,
    /// `envp` (`environ`).
    pub envp: Vec<Vec<u8>>,
    /// Executable path (`exe`; `None`: `ENOENT`, as for kernel threads).
    pub exe: Option<Vec<u8>>,
    /// Working directory (`cwd`).
    pub cwd: Vec<u8>,
    /// Root directory (`root`; empty shows as `/`).
    pub root: Vec<u8>,
    /// File-creation mask.
    pub umask: u32,
    /// Virtual size in bytes.
    pub vm_size: u64,
    /// Resident pages.
    pub rss_pages: u64,
    /// User / system CPU time in clock ticks (`USER_HZ` = 100).
    pub utime: u64,
    /// See `utime`.
    pub stime: u64,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
    /// Pending, blocked, ignored and caught signal masks (bit n-1 = signal n).
    pub sig_pending: u64,
    /// See `sig_pending`.
    pub sig_blocked: u64,
    /// See `sig_pending`.
    pub sig_ignored: u64,
    /// See `sig_pending`.
    pub sig_caught: u64,
}

/// `/proc/meminfo` numbers, in KiB (0 when unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemInfo {
    /// `MemTotal`.
    pub total_kb: u64,
    /// `MemFree`.
    pub free_kb: u64,
    /// `MemAvailable` (0: same as free).
    pub available_kb: u64,
    /// `Cached` (e.g. tmpfs contents).
    pub cached_kb: u64,
    /// `Shmem`.
    pub shmem_kb: u64,
    /// `Slab` (kernel heap).
    pub slab_kb: u64,
}

/// One CPU as `/proc/cpuinfo` describes it. The default is QEMU's default model
/// (`qemu64`); the kernel may fill it from `cpuid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuInfo {
    /// `vendor_id`.
    pub vendor_id: String,
    /// `cpu family`.
    pub family: u32,
    /// `model`.
    pub model: u32,
    /// `model name`.
    pub model_name: String,
    /// `stepping`.
    pub stepping: u32,
    /// Clock in kHz (`cpu MHz` shows it with three decimals).
    pub khz: u64,
    /// `cache size` in KiB.
    pub cache_kb: u32,
    /// `cpuid level`.
    pub cpuid_level: u32,
    /// `flags`, space-separated.
    pub flags: String,
    /// Physical address bits.
    pub phys_bits: u32,
    /// Virtual address bits.
    pub virt_bits: u32,
}

impl Default for CpuInfo {
    fn default() -> Self {
        CpuInfo {
            vendor_id: String::from("AuthenticAMD"),
            family: 15,
            model: 107,
            model_name: String::from("QEMU Virtual CPU version 2.5+"),
            stepping: 1,
            khz: 2_000_000,
            cache_kb: 512,
            cpuid_level: 13,
            flags: String::from(
                "fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 \
                 syscall nx lm rep_good nopl cpuid extd_apicid pni cx16 hypervisor lahf_lm svm 3dnowprefetch vmmcall",
            ),
            phys_bits: 40,
            virt_bits: 48,
        }
    }
}

/// One line of `/proc/mounts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    /// Source (`none`, `proc`, `tmpfs`...).
    pub source: String,
    /// Mount point.
    pub target: String,
    /// Filesystem type.
    pub fstype: String,
    /// Options (`rw,relatime`...).
    pub options: String,
}

/// What procfs needs from the kernel.
pub trait ProcSource: Send + Sync {
    /// Pid (thread-group id) of the calling process: the target of `/proc/self`.
    fn current_pid(&self) -> u32;
    /// Every live process, ascending.
    fn pids(&self) -> Vec<u32>;
    /// A snapshot of process `pid` (`None`: no such process).
    fn process(&self, pid: u32) -> Option<ProcessInfo>;
    /// The fd table of process `pid`.
    fn files(&self, pid: u32) -> Option<Arc<Mutex<FdTable>>>;
    /// The `/proc/<pid>/maps` text (`AddressSpace::maps_text`).
    fn maps(&self, pid: u32) -> Option<String>;
    /// Memory numbers for `/proc/meminfo`.
    fn meminfo(&self) -> MemInfo;
    /// The CPUs (their count is also `/sys/devices/system/cpu/online`'s).
    fn cpus(&self) -> Vec<CpuInfo> {
        vec![CpuInfo::default()]
    }
    /// Total idle time of all CPUs in ns (`/proc/uptime`'s second number).
    fn idle_ns(&self) -> u64 {
        0
    }
    /// Current host name.
    fn hostname(&self) -> String {
        String::from(DEFAULT_HOSTNAME)
    }
    /// Mounted filesystems (`/proc/mounts`).
    fn mounts(&self) -> Vec<MountEntry> {
        Vec::new()
    }
    /// The mount id of an open file's path (`fdinfo`'s `mnt_id`; 0 when unknown).
    fn mount_id(&self, path: &str) -> u64 {
        let _ = path;
        0
    }
    /// Filesystem types (`/proc/filesystems`): `(needs no device, name)`.
    fn filesystems(&self) -> Vec<(bool, &'static str)> {
        ["sysfs", "tmpfs", "proc", "devtmpfs", "debugfs", "tracefs", "pipefs", "anon_inodefs", "bpf"]
            .iter()
            .map(|n| (true, *n))
            .collect()
    }
}
