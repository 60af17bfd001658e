//! The dispatcher: a flat `match` on the Linux x86_64 syscall number.

use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::FsCall;
use super::rlimit::LimitsHost;
use super::{
    epoll, eventfd, fs_attr, fs_dir, fs_fd, fs_open, fs_rw, fs_stat, futex, ids, info, mm as smm, pipe, poll, process,
    rlimit, signal, time,
};
use crate::arch::trap::TrapFrame;
use crate::fs::devfs::RandomSource;
use crate::fs::FdTable;
use crate::mm::frame::FRAMES;
use crate::mm::UserSpace;
use crate::proc::futex::FUTEXES;
use crate::proc::rlimit::Rlimits;
use crate::proc::signal::{SigInfo, SIGPIPE, SI_USER};
use crate::syscall::info::SysStats;
use crate::task::sched;
use crate::task::signals::{self, KernelJobHost, KernelSignalHost};
use crate::KResult;

static LOGGED: Mutex<BTreeSet<u64>> = Mutex::new(BTreeSet::new());
static STRACE: AtomicBool = AtomicBool::new(false);

/// Logs every system call and its result (kernel command line word `strace`).
pub fn set_strace(on: bool) {
    STRACE.store(on, Ordering::Relaxed);
}

/// Called by the `syscall` entry stub with the saved user registers; the result goes to
/// `rax`, then the common return-to-user path runs.
#[no_mangle]
pub extern "C" fn syscall_dispatch(f: &mut TrapFrame) {
    let nr = f.orig_rax;
    crate::trace::syscall_enter(f);
    let args = [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9];
    let res = crate::probe::targets_sys::call_syscall(f, nr);
    if res == Err(Errno::EPIPE) && matches!(nr, 1 | 18 | 20 | 296 | 328) {
        // Linux's pipe_write sends SIGPIPE to the writer along with EPIPE.
        let me = sched::current();
        signals::send_to_thread(&me, SigInfo::kill(SIGPIPE, SI_USER, me.process.pid));
    }
    let ret = match res {
        Ok(v) => v,
        Err(e) => (-i64::from(e.0)) as u64,
    };
    if STRACE.load(Ordering::Relaxed) {
        let tid = sched::current().tid;
        log::info!("[{tid}] {}({:#x}, {:#x}, {:#x}, {:#x}) = {:#x}", name(nr), args[0], args[1], args[2], args[3], ret);
    }
    f.rax = ret;
    // `rt_sigreturn` leaves orig_rax at -1 ("not in a system call"): no sys_exit event, as on
    // Linux; `execve` rebuilt the frame, so the number is the one saved at entry. Also runs
    // the perf irq_work queued during the call (wake-ups of perf fds and trace_pipe).
    let exit_nr = if f.orig_rax == u64::MAX { u64::MAX } else { nr };
    crate::trace::syscall_exit(f, exit_nr, ret);
    crate::task::return_to_user(f);
}

fn unknown(nr: u64) -> KResult<u64> {
    if LOGGED.lock().insert(nr) {
        match name(nr) {
            "unknown" => log::warn!("syscall {nr} not implemented: ENOSYS"),
            n => log::warn!("syscall {n} ({nr}) not implemented: ENOSYS"),
        }
    }
    Err(Errno::ENOSYS)
}

/// `fd` arguments are the low 32 bits, as Linux reads an `int`.
fn fd(v: u64) -> i32 {
    v as u32 as i32
}

struct Limits;

impl LimitsHost for Limits {
    fn with_process_limits(&self, pid: u32, f: &mut dyn FnMut(&Rlimits, &Mutex<FdTable>)) -> bool {
        match sched::task_by_tid(pid) {
            Some(t) => {
                f(&t.process.rlimits, &t.process.files);
                true
            }
            None => false,
        }
    }
}

fn task_exists(tid: u32) -> bool {
    tid == 0 || sched::task_by_tid(tid).is_some()
}

fn sys_stats() -> SysStats {
    let (total, used) = FRAMES.stats();
    SysStats {
        total_ram: total * 4096,
        free_ram: total.saturating_sub(used) * 4096,
        shared_ram: 0,
        buffer_ram: 0,
        tasks: sched::all_tasks().len() as u64,
    }
}

/// Runs system call `nr` with the arguments in `f` (the `__x64_sys_<name>` probe targets
/// call this too).
pub fn dispatch(f: &mut TrapFrame, nr: u64) -> KResult<u64> {
    let (a0, a1, a2, a3, a4, a5) = (f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9);
    let task = sched::current();
    let p = task.process.clone();
    let Some(mm) = p.mm() else { return Err(Errno::ESRCH) };
    let mem = UserSpace(&mm);
    let files = &*p.files;
    let fsx = &*p.fs;
    let vfs = crate::boot::vfs();
    let cx = FsCall { mem: &mem, files, fs: fsx, vfs };
    let space = Arc::as_ptr(&mm) as u64;
    let (ps, ts) = (&p.signals, &task.signals);
    let host = KernelSignalHost { caller: p.pid };
    let jobs = KernelJobHost { caller: p.pid };
    match nr {
        0 => fs_rw::sys_read(&mem, files, fd(a0), a1, a2),
        1 => fs_rw::sys_write(&mem, files, fd(a0), a1, a2),
        2 => fs_open::sys_open(&cx, a0, a1 as u32, a2 as u32),
        3 => fs_open::sys_close(files, fd(a0)),
        4 => fs_stat::sys_stat(&cx, a0, a1),
        5 => fs_stat::sys_fstat(&mem, files, fd(a0), a1),
        6 => fs_stat::sys_lstat(&cx, a0, a1),
        7 => poll::sys_poll(&mem, files, a0, a1 as u32, a2 as u32 as i32),
        8 => fs_rw::sys_lseek(files, fd(a0), a1 as i64, a2 as u32),
        9 => smm::sys_mmap(&mm, files, a0, a1, a2, a3, fd(a4), a5),
        10 => smm::sys_mprotect(&mm, a0, a1, a2),
        11 => smm::sys_munmap(&mm, a0, a1),
        12 => smm::sys_brk(&mm, a0),
        13 => signal::sys_rt_sigaction(ps, ts, &mem, a0 as u32 as i32, a1, a2, a3),
        14 => signal::sys_rt_sigprocmask(ts, &mem, a0 as u32 as i32, a1, a2, a3),
        15 => Ok(signals::sigreturn(f)),
        16 => fs_fd::sys_ioctl(&mem, files, fd(a0), a1 as u32, a2),
        17 => fs_rw::sys_pread64(&mem, files, fd(a0), a1, a2, a3 as i64),
        18 => fs_rw::sys_pwrite64(&mem, files, fd(a0), a1, a2, a3 as i64),
        19 => fs_rw::sys_readv(&mem, files, fd(a0), a1, a2),
        20 => fs_rw::sys_writev(&mem, files, fd(a0), a1, a2),
        21 => fs_stat::sys_access(&cx, a0, a1 as u32),
        22 => pipe::sys_pipe(&mem, files, a0),
        23 => poll::sys_select(&mem, files, a0 as u32 as i32, a1, a2, a3, a4),
        24 => process::sys_sched_yield(),
        25 => smm::sys_mremap(&mm, a0, a1, a2, a3, a4),
        26 => smm::sys_msync(&mm, a0, a1, a2),
        28 => smm::sys_madvise(&mm, a0, a1, a2 as u32 as i32),
        32 => fs_fd::sys_dup(files, fd(a0)),
        33 => fs_fd::sys_dup2(files, fd(a0), fd(a1)),
        34 => signal::sys_pause(ps, ts),
        35 => time::sys_nanosleep(&mem, a0, a1),
        39 => process::sys_getpid(&p),
        56 => process::sys_clone(f, a0, a1, a2, a3, a4),
        57 => process::sys_fork(f),
        58 => process::sys_vfork(f),
        59 => process::sys_execve(vfs, &mem, f, a0, a1, a2),
        60 => process::sys_exit(a0 as u32 as i32),
        61 => process::sys_wait4(&p, &mem, a0 as u32 as i32, a1, a2 as u32, a3),
        62 => signal::sys_kill(&host, a0 as u32 as i32, a1 as u32 as i32),
        63 => info::sys_uname(&mem, a0),
        72 => fs_fd::sys_fcntl(files, fd(a0), a1 as u32, a2),
        74 | 75 => fs_attr::sys_fsync(files, fd(a0)),
        76 => fs_fd::sys_truncate(&cx, a0, a1 as i64),
        77 => fs_fd::sys_ftruncate(files, fd(a0), a1 as i64),
        79 => fs_dir::sys_getcwd(&mem, fsx, a0, a1),
        80 => fs_dir::sys_chdir(&cx, a0),
        81 => fs_dir::sys_fchdir(files, fsx, fd(a0)),
        82 => fs_dir::sys_rename(&cx, a0, a1),
        83 => fs_dir::sys_mkdir(&cx, a0, a1 as u32),
        84 => fs_dir::sys_rmdir(&cx, a0),
        85 => fs_open::sys_creat(&cx, a0, a1 as u32),
        86 => fs_dir::sys_link(&cx, a0, a1),
        87 => fs_dir::sys_unlink(&cx, a0),
        88 => fs_dir::sys_symlink(&cx, a0, a1),
        89 => fs_stat::sys_readlink(&cx, a0, a1, a2 as u32 as i32),
        90 => fs_fd::sys_chmod(&cx, a0, a1 as u32),
        91 => fs_fd::sys_fchmod(files, fd(a0), a1 as u32),
        92 => fs_attr::sys_chown(&cx, a0, a1 as u32, a2 as u32),
        93 => fs_attr::sys_fchown(files, fd(a0), a1 as u32, a2 as u32),
        94 => fs_attr::sys_lchown(&cx, a0, a1 as u32, a2 as u32),
        95 => fs_fd::sys_umask(fsx, a0 as u32),
        96 => time::sys_gettimeofday(&mem, a0, a1),
        97 => rlimit::sys_getrlimit(&p.rlimits, &mem, a0 as u32, a1),
        99 => info::sys_sysinfo(&mem, a0, &sys_stats()),
        102 => ids::sys_getuid(),
        104 => ids::sys_getgid(),
        105 => ids::sys_setuid(a0 as u32),
        106 => ids::sys_setgid(a0 as u32),
        107 => ids::sys_geteuid(),
        108 => ids::sys_getegid(),
        110 => process::sys_getppid(&p),
        115 => ids::sys_getgroups(a0 as u32 as i32, a1),
        109 => ids::sys_setpgid(&jobs, a0 as u32 as i32, a1 as u32 as i32),
        111 => ids::sys_getpgid(&jobs, 0),
        112 => ids::sys_setsid(&jobs),
        118 | 120 => ids::sys_getresuid(&mem, a0, a1, a2),
        121 => ids::sys_getpgid(&jobs, a0 as u32 as i32),
        124 => ids::sys_getsid(&jobs, a0 as u32 as i32),
        127 => signal::sys_rt_sigpending(ps, ts, &mem, a0, a1),
        128 => signal::sys_rt_sigtimedwait(ps, ts, &mem, a0, a1, a2, a3),
        130 => signal::sys_rt_sigsuspend(ps, ts, &mem, a0, a1),
        131 => signal::sys_sigaltstack(ts, &mem, a0, a1, f.rsp),
        133 => fs_dir::sys_mknod(&cx, a0, a1 as u32, a2 as u32),
        149 => smm::sys_mlock(&mm, a0, a1),
        150 => smm::sys_munlock(&mm, a0, a1),
        151 => smm::sys_mlockall(a0),
        152 => smm::sys_munlockall(),
        158 => process::sys_arch_prctl(&task, &mem, a0 as u32, a1),
        160 => rlimit::sys_setrlimit(&p.rlimits, files, &mem, a0 as u32, a1),
        162 => fs_attr::sys_sync(),
        186 => process::sys_gettid(&task),
        200 => signal::sys_tkill(&host, a0 as u32 as i32, a1 as u32 as i32),
        201 => time::sys_time(&mem, a0),
        202 => futex::sys_futex(&FUTEXES, space, &mem, a0, a1 as u32 as i32, a2 as u32, a3, a4, a5 as u32),
        203 => info::sys_sched_setaffinity(&mem, &task_exists, a0 as u32 as i32, a1 as u32, a2),
        204 => info::sys_sched_getaffinity(&mem, &task_exists, a0 as u32 as i32, a1 as u32, a2),
        213 => epoll::sys_epoll_create(files, a0 as u32 as i32),
        217 => fs_dir::sys_getdents64(&mem, files, fd(a0), a1, a2 as u32),
        218 => process::sys_set_tid_address(&task, a0),
        228 => time::sys_clock_gettime(&mem, a0 as u32 as i32, a1),
        229 => time::sys_clock_getres(&mem, a0 as u32 as i32, a1),
        230 => time::sys_clock_nanosleep(&mem, a0 as u32 as i32, a1 as u32 as i32, a2, a3),
        231 => process::sys_exit_group(a0 as u32 as i32),
        232 => epoll::sys_epoll_wait(&mem, files, fd(a0), a1, a2 as u32 as i32, a3 as u32 as i32),
        233 => epoll::sys_epoll_ctl(&mem, files, fd(a0), a1 as u32, fd(a2), a3),
        234 => signal::sys_tgkill(&host, a0 as u32 as i32, a1 as u32 as i32, a2 as u32 as i32),
        257 => fs_open::sys_openat(&cx, fd(a0), a1, a2 as u32, a3 as u32),
        258 => fs_dir::sys_mkdirat(&cx, fd(a0), a1, a2 as u32),
        259 => fs_dir::sys_mknodat(&cx, fd(a0), a1, a2 as u32, a3 as u32),
        260 => fs_attr::sys_fchownat(&cx, fd(a0), a1, a2 as u32, a3 as u32, a4 as u32),
        262 => fs_stat::sys_newfstatat(&cx, fd(a0), a1, a2, a3 as u32),
        263 => fs_dir::sys_unlinkat(&cx, fd(a0), a1, a2 as u32),
        264 => fs_dir::sys_renameat(&cx, fd(a0), a1, fd(a2), a3),
        265 => fs_dir::sys_linkat(&cx, fd(a0), a1, fd(a2), a3, a4 as u32),
        266 => fs_dir::sys_symlinkat(&cx, a0, fd(a1), a2),
        267 => fs_stat::sys_readlinkat(&cx, fd(a0), a1, a2, a3 as u32 as i32),
        268 => fs_fd::sys_fchmodat(&cx, fd(a0), a1, a2 as u32),
        269 => fs_stat::sys_faccessat(&cx, fd(a0), a1, a2 as u32),
        270 => poll::sys_pselect6(&mem, files, a0 as u32 as i32, a1, a2, a3, a4, a5),
        271 => poll::sys_ppoll(&mem, files, a0, a1 as u32, a2, a3, a4),
        273 => process::sys_set_robust_list(&task, a0, a1),
        280 => fs_attr::sys_utimensat(&cx, fd(a0), a1, a2, a3 as u32),
        281 => epoll::sys_epoll_pwait(&mem, files, fd(a0), a1, a2 as u32 as i32, a3 as u32 as i32, a4, a5),
        284 => eventfd::sys_eventfd(files, a0 as u32),
        290 => eventfd::sys_eventfd2(files, a0 as u32, a1 as u32),
        291 => epoll::sys_epoll_create1(files, a0 as u32),
        292 => fs_fd::sys_dup3(files, fd(a0), fd(a1), a2 as u32),
        293 => pipe::sys_pipe2(&mem, files, a0, a1 as u32),
        295 => fs_rw::sys_preadv(&mem, files, fd(a0), a1, a2, a3 as i64),
        296 => fs_rw::sys_pwritev(&mem, files, fd(a0), a1, a2, a3 as i64),
        298 => match crate::trace::perf() {
            Some(perf) => {
                super::perf::sys_perf_event_open(perf, files, a0, a1 as u32 as i32, a2 as u32 as i32, fd(a3), a4)
            }
            None => Err(Errno::ENOSYS),
        },
        302 => rlimit::sys_prlimit64(&Limits, p.pid, &p.rlimits, files, &mem, a0 as u32 as i32, a1 as u32, a2, a3),
        316 => fs_dir::sys_renameat2(&cx, fd(a0), a1, fd(a2), a3, a4 as u32),
        318 => info::sys_getrandom(&mem, &|b: &mut [u8]| crate::boot::random().fill(b), a0, a1, a2 as u32),
        321 => crate::bpf::syscall::sys_bpf(crate::bpf::kernel_host(), a0 as u32, a1, a2 as u32),
        325 => smm::sys_mlock2(&mm, a0, a1, a2),
        332 => fs_stat::sys_statx(&cx, fd(a0), a1, a2 as u32, a3 as u32, a4),
        334 => process::sys_rseq(),
        435 => process::sys_clone3(f, &mem, a0, a1),
        439 => fs_stat::sys_faccessat2(&cx, fd(a0), a1, a2 as u32, a3 as u32),
        441 => epoll::sys_epoll_pwait2(&mem, files, fd(a0), a1, a2 as u32 as i32, a3, a4, a5),
        _ => unknown(nr),
    }
}

/// The Linux name of syscall `nr` (for the ENOSYS log and `strace`).
fn name(nr: u64) -> &'static str {
    let i = usize::try_from(nr).unwrap_or(usize::MAX);
    NAMES.get(i).or_else(|| i.checked_sub(424).and_then(|j| NAMES_424.get(j))).copied().unwrap_or("unknown")
}

/// x86_64 syscall names 424..=450 (335..=423 are unused in the 64-bit table).
const NAMES_424: &[&str] = &[
    "pidfd_send_signal",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "pidfd_open",
    "clone3",
    "close_range",
    "openat2",
    "pidfd_getfd",
    "faccessat2",
    "process_madvise",
    "epoll_pwait2",
    "mount_setattr",
    "quotactl_fd",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "memfd_secret",
    "process_mrelease",
    "futex_waitv",
    "set_mempolicy_home_node",
];

/// x86_64 syscall names 0..=334 (arch/x86/entry/syscalls/syscall_64.tbl).
const NAMES: &[&str] = &[
    "read",
    "write",
    "open",
    "close",
    "stat",
    "fstat",
    "lstat",
    "poll",
    "lseek",
    "mmap",
    "mprotect",
    "munmap",
    "brk",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "ioctl",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "access",
    "pipe",
    "select",
    "sched_yield",
    "mremap",
    "msync",
    "mincore",
    "madvise",
    "shmget",
    "shmat",
    "shmctl",
    "dup",
    "dup2",
    "pause",
    "nanosleep",
    "getitimer",
    "alarm",
    "setitimer",
    "getpid",
    "sendfile",
    "socket",
    "connect",
    "accept",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "shutdown",
    "bind",
    "listen",
    "getsockname",
    "getpeername",
    "socketpair",
    "setsockopt",
    "getsockopt",
    "clone",
    "fork",
    "vfork",
    "execve",
    "exit",
    "wait4",
    "kill",
    "uname",
    "semget",
    "semop",
    "semctl",
    "shmdt",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "truncate",
    "ftruncate",
    "getdents",
    "getcwd",
    "chdir",
    "fchdir",
    "rename",
    "mkdir",
    "rmdir",
    "creat",
    "link",
    "unlink",
    "symlink",
    "readlink",
    "chmod",
    "fchmod",
    "chown",
    "fchown",
    "lchown",
    "umask",
    "gettimeofday",
    "getrlimit",
    "getrusage",
    "sysinfo",
    "times",
    "ptrace",
    "getuid",
    "syslog",
    "getgid",
    "setuid",
    "setgid",
    "geteuid",
    "getegid",
    "setpgid",
    "getppid",
    "getpgrp",
    "setsid",
    "setreuid",
    "setregid",
    "getgroups",
    "setgroups",
    "setresuid",
    "getresuid",
    "setresgid",
    "getresgid",
    "getpgid",
    "setfsuid",
    "setfsgid",
    "getsid",
    "capget",
    "capset",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_sigsuspend",
    "sigaltstack",
    "utime",
    "mknod",
    "uselib",
    "personality",
    "ustat",
    "statfs",
    "fstatfs",
    "sysfs",
    "getpriority",
    "setpriority",
    "sched_setparam",
    "sched_getparam",
    "sched_setscheduler",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "mlock",
    "munlock",
    "mlockall",
    "munlockall",
    "vhangup",
    "modify_ldt",
    "pivot_root",
    "_sysctl",
    "prctl",
    "arch_prctl",
    "adjtimex",
    "setrlimit",
    "chroot",
    "sync",
    "acct",
    "settimeofday",
    "mount",
    "umount2",
    "swapon",
    "swapoff",
    "reboot",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "create_module",
    "init_module",
    "delete_module",
    "get_kernel_syms",
    "query_module",
    "quotactl",
    "nfsservctl",
    "getpmsg",
    "putpmsg",
    "afs_syscall",
    "tuxcall",
    "security",
    "gettid",
    "readahead",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "tkill",
    "time",
    "futex",
    "sched_setaffinity",
    "sched_getaffinity",
    "set_thread_area",
    "io_setup",
    "io_destroy",
    "io_getevents",
    "io_submit",
    "io_cancel",
    "get_thread_area",
    "lookup_dcookie",
    "epoll_create",
    "epoll_ctl_old",
    "epoll_wait_old",
    "remap_file_pages",
    "getdents64",
    "set_tid_address",
    "restart_syscall",
    "semtimedop",
    "fadvise64",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "clock_settime",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "exit_group",
    "epoll_wait",
    "epoll_ctl",
    "tgkill",
    "utimes",
    "vserver",
    "mbind",
    "set_mempolicy",
    "get_mempolicy",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    "kexec_load",
    "waitid",
    "add_key",
    "request_key",
    "keyctl",
    "ioprio_set",
    "ioprio_get",
    "inotify_init",
    "inotify_add_watch",
    "inotify_rm_watch",
    "migrate_pages",
    "openat",
    "mkdirat",
    "mknodat",
    "fchownat",
    "futimesat",
    "newfstatat",
    "unlinkat",
    "renameat",
    "linkat",
    "symlinkat",
    "readlinkat",
    "fchmodat",
    "faccessat",
    "pselect6",
    "ppoll",
    "unshare",
    "set_robust_list",
    "get_robust_list",
    "splice",
    "tee",
    "sync_file_range",
    "vmsplice",
    "move_pages",
    "utimensat",
    "epoll_pwait",
    "signalfd",
    "timerfd_create",
    "eventfd",
    "fallocate",
    "timerfd_settime",
    "timerfd_gettime",
    "accept4",
    "signalfd4",
    "eventfd2",
    "epoll_create1",
    "dup3",
    "pipe2",
    "inotify_init1",
    "preadv",
    "pwritev",
    "rt_tgsigqueueinfo",
    "perf_event_open",
    "recvmmsg",
    "fanotify_init",
    "fanotify_mark",
    "prlimit64",
    "name_to_handle_at",
    "open_by_handle_at",
    "clock_adjtime",
    "syncfs",
    "sendmmsg",
    "setns",
    "getcpu",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "finit_module",
    "sched_setattr",
    "sched_getattr",
    "renameat2",
    "seccomp",
    "getrandom",
    "memfd_create",
    "kexec_file_load",
    "bpf",
    "execveat",
    "userfaultfd",
    "membarrier",
    "mlock2",
    "copy_file_range",
    "preadv2",
    "pwritev2",
    "pkey_mprotect",
    "pkey_alloc",
    "pkey_free",
    "statx",
    "io_pgetevents",
    "rseq",
];
