//! Process and thread system calls: exit, exit_group, getpid, gettid, getppid, clone,
//! fork, vfork, wait4, execve, set_tid_address, set_robust_list, rseq, sched_yield,
//! arch_prctl.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use syscall_abi::Errno;

use crate::arch::context;
use crate::arch::trap::TrapFrame;
use crate::fs::vfs::{Vfs, PATH_MAX};
use crate::task::fork::{CLONE_VFORK, CLONE_VM};
use crate::task::{exec, exit, fork, sched, wait, Process, Task};
use crate::user::{read_val, write_val, UserMem, TASK_SIZE};
use crate::KResult;

/// `SIGCHLD`, the exit signal of `fork`.
const SIGCHLD: u64 = 17;
/// Most argv/envp entries `execve` accepts (Linux's `MAX_ARG_STRINGS`).
const MAX_ARGS: usize = 0x7fff_ffff;
/// `ARCH_SET_GS`.
pub const ARCH_SET_GS: u32 = 0x1001;
/// `ARCH_SET_FS`.
pub const ARCH_SET_FS: u32 = 0x1002;
/// `ARCH_GET_FS`.
pub const ARCH_GET_FS: u32 = 0x1003;
/// `ARCH_GET_GS`.
pub const ARCH_GET_GS: u32 = 0x1004;
/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;
/// `sizeof(struct rusage)`.
const RUSAGE_SIZE: usize = 144;

/// `exit(code)`: ends the calling thread.
pub fn sys_exit(code: i32) -> ! {
    exit::exit_thread(exit::exited(code))
}

/// `exit_group(code)`: ends every thread of the process.
pub fn sys_exit_group(code: i32) -> ! {
    exit::exit_group(exit::exited(code))
}

/// `getpid`.
pub fn sys_getpid(p: &Process) -> KResult<u64> {
    Ok(u64::from(p.pid))
}

/// `gettid`.
pub fn sys_gettid(t: &Task) -> KResult<u64> {
    Ok(u64::from(t.tid))
}

/// `getppid` (0 when the parent is gone, as for PID 1).
pub fn sys_getppid(p: &Process) -> KResult<u64> {
    Ok(p.parent().map_or(0, |pp| u64::from(pp.pid)))
}

/// `clone(flags, newsp, parent_tid, child_tid, tls)` (x86_64 argument order).
pub fn sys_clone(frame: &TrapFrame, flags: u64, newsp: u64, parent_tid: u64, child_tid: u64, tls: u64) -> KResult<u64> {
    fork::clone(frame, flags, newsp, parent_tid, child_tid, tls)
}

/// `sizeof(struct clone_args)` of the first version (`CLONE_ARGS_SIZE_VER0`).
const CLONE_ARGS_SIZE_VER0: u64 = 64;
/// `CLONE_CLEAR_SIGHAND` (clone3 only).
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
/// `CLONE_INTO_CGROUP` (clone3 only).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `clone3(uargs, size)`: `struct clone_args` {flags, pidfd, child_tid, parent_tid,
/// exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup}, checked as Linux's
/// `copy_clone_args_from_user` and `clone3_args_valid`: `EINVAL` for a size below version 0
/// or above a page, an exit signal in `flags` or above 64, a stack without a size (or the
/// reverse); `E2BIG` for non-zero bytes past the known struct. `set_tid`,
/// `CLONE_INTO_CGROUP` and `CLONE_CLEAR_SIGHAND` are not supported (`EINVAL`). The child's
/// stack pointer is `stack + stack_size`.
pub fn sys_clone3(frame: &TrapFrame, mem: &dyn UserMem, uargs: u64, size: u64) -> KResult<u64> {
    if !(CLONE_ARGS_SIZE_VER0..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 88];
    let n = (size as usize).min(raw.len());
    mem.read(uargs, &mut raw[..n])?;
    if size as usize > raw.len() {
        // Linux: bytes past the known struct must be zero (E2BIG otherwise).
        let mut tail = alloc::vec![0u8; size as usize - raw.len()];
        mem.read(uargs + raw.len() as u64, &mut tail)?;
        if tail.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    let word = |i: usize| {
        u64::from_le_bytes([
            raw[8 * i],
            raw[8 * i + 1],
            raw[8 * i + 2],
            raw[8 * i + 3],
            raw[8 * i + 4],
            raw[8 * i + 5],
            raw[8 * i + 6],
            raw[8 * i + 7],
        ])
    };
    let (flags, _pidfd, child_tid, parent_tid, exit_signal) = (word(0), word(1), word(2), word(3), word(4));
    let (stack, stack_size, tls, set_tid, set_tid_size) = (word(5), word(6), word(7), word(8), word(9));
    if flags & 0xff != 0 || exit_signal > 64 || (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if set_tid != 0 || set_tid_size != 0 || flags & (CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND) != 0 {
        return Err(Errno::EINVAL);
    }
    let sp = if stack != 0 { stack.checked_add(stack_size).ok_or(Errno::EINVAL)? } else { 0 };
    fork::clone(frame, flags | exit_signal, sp, parent_tid, child_tid, tls)
}

/// `fork()`.
pub fn sys_fork(frame: &TrapFrame) -> KResult<u64> {
    fork::clone(frame, SIGCHLD, 0, 0, 0, 0)
}

/// `vfork()`: `CLONE_VM | CLONE_VFORK | SIGCHLD`.
pub fn sys_vfork(frame: &TrapFrame) -> KResult<u64> {
    fork::clone(frame, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0)
}

/// `wait4(pid, wstatus, options, rusage)`: the rusage is all zeros.
pub fn sys_wait4(
    p: &Arc<Process>,
    mem: &dyn UserMem,
    pid: i32,
    wstatus: u64,
    options: u32,
    rusage: u64,
) -> KResult<u64> {
    match wait::wait_child(p, pid, options)? {
        None => Ok(0),
        Some((cpid, status)) => {
            if wstatus != 0 {
                write_val(mem, wstatus, &status)?;
            }
            if rusage != 0 {
                mem.write(rusage, &[0u8; RUSAGE_SIZE])?;
            }
            Ok(u64::from(cpid))
        }
    }
}

/// Reads a NULL-terminated array of string pointers (argv/envp); `E2BIG` once the strings
/// and pointers exceed Linux's limit for one `execve` (checked while reading, so a huge
/// array cannot exhaust kernel memory first).
fn read_str_array(mem: &dyn UserMem, mut addr: u64) -> KResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut total = 0usize;
    if addr == 0 {
        return Ok(out);
    }
    loop {
        let p: u64 = read_val(mem, addr)?;
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let s = mem.read_cstr(p, crate::proc::exec::MAX_ARG_STRLEN).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total = total.saturating_add(s.len() + 1 + 8);
        if total > crate::proc::exec::ARG_LIMIT {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        addr = addr.checked_add(8).ok_or(Errno::EFAULT)?;
    }
}

/// `execve(path, argv, envp)`: on success `frame` enters the new program.
pub fn sys_execve(
    vfs: &Vfs,
    mem: &dyn UserMem,
    frame: &mut TrapFrame,
    path: u64,
    argv: u64,
    envp: u64,
) -> KResult<u64> {
    let path = mem.read_cstr(path, PATH_MAX)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let argv = read_str_array(mem, argv)?;
    let envp = read_str_array(mem, envp)?;
    exec::execve(vfs, frame, &path, &argv, &envp)?;
    Ok(0)
}

/// `set_tid_address(tidptr)`: returns the caller's tid.
pub fn sys_set_tid_address(t: &Task, tidptr: u64) -> KResult<u64> {
    t.clear_child_tid.store(tidptr, Ordering::Relaxed);
    Ok(u64::from(t.tid))
}

/// `set_robust_list(head, len)`: `EINVAL` unless `len` is `sizeof(struct robust_list_head)`.
pub fn sys_set_robust_list(t: &Task, head: u64, len: u64) -> KResult<u64> {
    if len != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    t.robust_list.store(head, Ordering::Relaxed);
    t.robust_len.store(len, Ordering::Relaxed);
    Ok(0)
}

/// `rseq`: not supported (`ENOSYS`, which glibc and Rust handle).
pub fn sys_rseq() -> KResult<u64> {
    Err(Errno::ENOSYS)
}

/// `sched_yield`.
pub fn sys_sched_yield() -> KResult<u64> {
    sched::yield_now();
    Ok(0)
}

/// `arch_prctl(code, addr)`: FS/GS base get and set (`EPERM` for non-canonical bases as
/// Linux's `do_arch_prctl_64`, `EINVAL` for unknown codes).
pub fn sys_arch_prctl(t: &Task, mem: &dyn UserMem, code: u32, addr: u64) -> KResult<u64> {
    match code {
        ARCH_SET_FS => {
            if addr >= TASK_SIZE {
                return Err(Errno::EPERM);
            }
            t.fs_base.store(addr, Ordering::Relaxed);
            context::set_fs_base(addr);
            Ok(0)
        }
        ARCH_SET_GS => {
            if addr >= TASK_SIZE {
                return Err(Errno::EPERM);
            }
            t.gs_base.store(addr, Ordering::Relaxed);
            context::set_gs_base(addr);
            Ok(0)
        }
        ARCH_GET_FS => write_val(mem, addr, &context::fs_base()).map(|_| 0),
        ARCH_GET_GS => write_val(mem, addr, &context::gs_base()).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}
