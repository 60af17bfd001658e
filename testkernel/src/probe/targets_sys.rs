//! `__x64_sys_<name>`: one Linux-named entry function per implemented system call.
//!
//! As on Linux x86_64, `__x64_sys_<name>(const struct pt_regs *regs)` receives the saved user
//! registers in rdi (the arguments in `regs->di`, `regs->si`, `regs->dx`, `regs->r10`,
//! `regs->r8`, `regs->r9`) and returns the result in rax (a value or `-errno`), so a kprobe
//! program reading `PT_REGS_PARM1(ctx)` gets the regs pointer and a kretprobe
//! `PT_REGS_RC(ctx)` the result. The dispatcher calls through [`call_syscall`], which picks
//! the function by number; each function runs `syscall::dispatch::dispatch` for its
//! number. Names follow Linux's `syscall_64.tbl` entry points (`stat` is `__x64_sys_newstat`,
//! `uname` `__x64_sys_newuname`).
//!
//! [`SYSCALLS`] (also on the host) lists them; a host test checks it against the numbers
//! `dispatch.rs` implements, so a new system call cannot miss its probe target.

macro_rules! syscall_targets {
    ($($nr:literal $name:ident;)*) => {
        /// `(number, symbol)` of every `__x64_sys_<name>` function, by number.
        pub const SYSCALLS: &[(u64, &str)] = &[$(($nr, stringify!($name))),*];

        #[cfg(target_os = "none")]
        mod imp {
            use crate::arch::trap::TrapFrame;
            use crate::syscall::dispatch::dispatch;
            use crate::KResult;
            use super::super::targets::{from_ret, to_ret};

            $(
                #[doc = concat!("Linux-named entry of system call ", stringify!($nr), " (`regs`: the saved user registers).")]
                #[no_mangle]
                #[inline(never)]
                pub extern "C" fn $name(regs: *const TrapFrame) -> i64 {
                    // SAFETY: `call_syscall` passes the caller's exclusive frame reference.
                    let f = unsafe { &mut *regs.cast_mut() };
                    core::hint::black_box(to_ret(dispatch(f, $nr)))
                }
            )*

            /// Runs system call `nr` on the frame `f` through its `__x64_sys_<name>`
            /// function (numbers without one go to the dispatcher directly).
            pub fn call_syscall(f: &mut TrapFrame, nr: u64) -> KResult<u64> {
                let regs: *const TrapFrame = f;
                let r = match nr {
                    $($nr => $name(regs),)*
                    _ => return dispatch(f, nr),
                };
                from_ret(r)
            }
        }

        #[cfg(target_os = "none")]
        pub use imp::*;
    };
}

syscall_targets! {
    0 __x64_sys_read;
    1 __x64_sys_write;
    2 __x64_sys_open;
    3 __x64_sys_close;
    4 __x64_sys_newstat;
    5 __x64_sys_newfstat;
    6 __x64_sys_newlstat;
    7 __x64_sys_poll;
    8 __x64_sys_lseek;
    9 __x64_sys_mmap;
    10 __x64_sys_mprotect;
    11 __x64_sys_munmap;
    12 __x64_sys_brk;
    13 __x64_sys_rt_sigaction;
    14 __x64_sys_rt_sigprocmask;
    15 __x64_sys_rt_sigreturn;
    16 __x64_sys_ioctl;
    17 __x64_sys_pread64;
    18 __x64_sys_pwrite64;
    19 __x64_sys_readv;
    20 __x64_sys_writev;
    21 __x64_sys_access;
    22 __x64_sys_pipe;
    23 __x64_sys_select;
    24 __x64_sys_sched_yield;
    25 __x64_sys_mremap;
    26 __x64_sys_msync;
    28 __x64_sys_madvise;
    32 __x64_sys_dup;
    33 __x64_sys_dup2;
    34 __x64_sys_pause;
    35 __x64_sys_nanosleep;
    39 __x64_sys_getpid;
    56 __x64_sys_clone;
    57 __x64_sys_fork;
    58 __x64_sys_vfork;
    59 __x64_sys_execve;
    60 __x64_sys_exit;
    61 __x64_sys_wait4;
    62 __x64_sys_kill;
    63 __x64_sys_newuname;
    72 __x64_sys_fcntl;
    74 __x64_sys_fsync;
    75 __x64_sys_fdatasync;
    76 __x64_sys_truncate;
    77 __x64_sys_ftruncate;
    79 __x64_sys_getcwd;
    80 __x64_sys_chdir;
    81 __x64_sys_fchdir;
    82 __x64_sys_rename;
    83 __x64_sys_mkdir;
    84 __x64_sys_rmdir;
    85 __x64_sys_creat;
    86 __x64_sys_link;
    87 __x64_sys_unlink;
    88 __x64_sys_symlink;
    89 __x64_sys_readlink;
    90 __x64_sys_chmod;
    91 __x64_sys_fchmod;
    92 __x64_sys_chown;
    93 __x64_sys_fchown;
    94 __x64_sys_lchown;
    95 __x64_sys_umask;
    96 __x64_sys_gettimeofday;
    97 __x64_sys_getrlimit;
    99 __x64_sys_sysinfo;
    102 __x64_sys_getuid;
    104 __x64_sys_getgid;
    105 __x64_sys_setuid;
    106 __x64_sys_setgid;
    107 __x64_sys_geteuid;
    108 __x64_sys_getegid;
    109 __x64_sys_setpgid;
    110 __x64_sys_getppid;
    111 __x64_sys_getpgrp;
    112 __x64_sys_setsid;
    115 __x64_sys_getgroups;
    118 __x64_sys_getresuid;
    120 __x64_sys_getresgid;
    121 __x64_sys_getpgid;
    124 __x64_sys_getsid;
    127 __x64_sys_rt_sigpending;
    128 __x64_sys_rt_sigtimedwait;
    130 __x64_sys_rt_sigsuspend;
    131 __x64_sys_sigaltstack;
    133 __x64_sys_mknod;
    149 __x64_sys_mlock;
    150 __x64_sys_munlock;
    151 __x64_sys_mlockall;
    152 __x64_sys_munlockall;
    158 __x64_sys_arch_prctl;
    160 __x64_sys_setrlimit;
    162 __x64_sys_sync;
    186 __x64_sys_gettid;
    200 __x64_sys_tkill;
    201 __x64_sys_time;
    202 __x64_sys_futex;
    203 __x64_sys_sched_setaffinity;
    204 __x64_sys_sched_getaffinity;
    213 __x64_sys_epoll_create;
    217 __x64_sys_getdents64;
    218 __x64_sys_set_tid_address;
    228 __x64_sys_clock_gettime;
    229 __x64_sys_clock_getres;
    230 __x64_sys_clock_nanosleep;
    231 __x64_sys_exit_group;
    232 __x64_sys_epoll_wait;
    233 __x64_sys_epoll_ctl;
    234 __x64_sys_tgkill;
    257 __x64_sys_openat;
    258 __x64_sys_mkdirat;
    259 __x64_sys_mknodat;
    260 __x64_sys_fchownat;
    262 __x64_sys_newfstatat;
    263 __x64_sys_unlinkat;
    264 __x64_sys_renameat;
    265 __x64_sys_linkat;
    266 __x64_sys_symlinkat;
    267 __x64_sys_readlinkat;
    268 __x64_sys_fchmodat;
    269 __x64_sys_faccessat;
    270 __x64_sys_pselect6;
    271 __x64_sys_ppoll;
    273 __x64_sys_set_robust_list;
    280 __x64_sys_utimensat;
    281 __x64_sys_epoll_pwait;
    284 __x64_sys_eventfd;
    290 __x64_sys_eventfd2;
    291 __x64_sys_epoll_create1;
    292 __x64_sys_dup3;
    293 __x64_sys_pipe2;
    295 __x64_sys_preadv;
    296 __x64_sys_pwritev;
    298 __x64_sys_perf_event_open;
    302 __x64_sys_prlimit64;
    316 __x64_sys_renameat2;
    318 __x64_sys_getrandom;
    321 __x64_sys_bpf;
    325 __x64_sys_mlock2;
    332 __x64_sys_statx;
    334 __x64_sys_rseq;
    435 __x64_sys_clone3;
    439 __x64_sys_faccessat2;
    441 __x64_sys_epoll_pwait2;
}

#[cfg(test)]
mod tests {
    use super::SYSCALLS;
    use alloc::vec::Vec;

    use crate::syscall::dispatched::dispatched_syscalls as dispatched;

    #[test]
    fn every_dispatched_syscall_has_a_linux_named_target() {
        let have: Vec<u64> = SYSCALLS.iter().map(|s| s.0).collect();
        let want = dispatched();
        assert!(want.len() > 100, "parsed only {} arms", want.len());
        let missing: Vec<_> = want.iter().filter(|n| !have.contains(n)).collect();
        assert!(missing.is_empty(), "syscalls without __x64_sys_ target: {missing:?}");
        // And no target for a number the dispatcher does not know (perf_event_open arrives
        // with the perf-event wiring).
        let extra: Vec<_> = have.iter().filter(|n| !want.contains(n) && **n != 298).collect();
        assert!(extra.is_empty(), "targets without a dispatcher arm: {extra:?}");
    }

    #[test]
    fn names_are_linux_entry_points() {
        let name = |nr| SYSCALLS.iter().find(|s| s.0 == nr).map(|s| s.1);
        assert_eq!(name(0), Some("__x64_sys_read"));
        assert_eq!(name(4), Some("__x64_sys_newstat"));
        assert_eq!(name(39), Some("__x64_sys_getpid"));
        assert_eq!(name(63), Some("__x64_sys_newuname"));
        assert_eq!(name(257), Some("__x64_sys_openat"));
        assert_eq!(name(262), Some("__x64_sys_newfstatat"));
        assert!(SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
    }
}
