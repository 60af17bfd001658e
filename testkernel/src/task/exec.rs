//! `execve`: load a static ELF from the VFS into a fresh address space (kmm's
//! `proc::exec`) and restart the calling task there.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use spin::Mutex;
use syscall_abi::Errno;

use super::process::comm_of;
use super::sched;
use crate::arch::gdt::{USER_CS, USER_DS};
use crate::arch::trap::TrapFrame;
use crate::fs::vfs::Vfs;
use crate::fs::FileType;
use crate::mm::frame::FRAMES;
use crate::mm::paging::X86PageTable;
use crate::proc::exec::{exec, Creds, ExecParams, DEFAULT_MINSIGSTKSZ};
use crate::KResult;

/// Upper bound of an executable's size (the whole file is read into memory).
const MAX_IMAGE: u64 = 32 << 20;

/// Reads the executable at `path` (resolved from the caller's cwd): `ENOENT`, `EACCES`
/// for directories, non-regular files and files without an execute bit.
pub fn read_executable(vfs: &Vfs, path: &[u8]) -> KResult<(Vec<u8>, String, (u64, u64))> {
    let me = sched::current();
    let cwd = me.process.fs.lock().cwd.clone();
    let loc = vfs.resolve(&cwd, path, true)?;
    let md = loc.inode.metadata();
    if loc.inode.file_type() != FileType::Regular || md.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    if md.size > MAX_IMAGE {
        return Err(Errno::ENOMEM);
    }
    let size = usize::try_from(md.size).map_err(|_| Errno::ENOMEM)?;
    let mut image: Vec<u8> = Vec::new();
    image.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    image.resize(size, 0);
    let mut off = 0usize;
    while off < image.len() {
        let n = loc.inode.read_at(off as u64, &mut image[off..])?;
        if n == 0 {
            break;
        }
        off += n;
    }
    image.truncate(off);
    Ok((image, loc.path_string(), (md.dev, md.ino)))
}

fn random16() -> [u8; 16] {
    let mut r = [0u8; 16];
    let mut x = crate::arch::cpu::rdtsc() ^ 0x9e37_79b9_7f4a_7c15;
    for b in r.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    r
}

/// Replaces the calling process's program with `path` and rewrites `frame` so that the
/// return to user mode enters it. On error nothing has changed.
pub fn execve(vfs: &Vfs, frame: &mut TrapFrame, path: &[u8], argv: &[Vec<u8>], envp: &[Vec<u8>]) -> KResult<()> {
    let (image, abs_path, dev_ino) = read_executable(vfs, path)?;
    let argv_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(|a| a.as_slice()).collect();
    let params = ExecParams {
        image: &image,
        argv: &argv_refs,
        envp: &envp_refs,
        execfn: path,
        path: &abs_path,
        dev_ino,
        creds: Creds::default(),
        random: random16(),
        hwcap: hwcap(),
        hwcap2: 0,
        minsigstksz: DEFAULT_MINSIGSTKSZ,
    };
    let pt = X86PageTable::new()?;
    let cr3 = pt.root();
    let img = exec(&params, Box::new(pt), &FRAMES)?;
    drop(image);

    let me = sched::current();
    let p = me.process.clone();
    // Linux's de_thread: the other threads end; wait until they are gone.
    let others: Vec<_> = super::signals::threads_of(&p).into_iter().filter(|t| t.tid != me.tid).collect();
    for t in &others {
        t.exec_killed.store(true, Ordering::SeqCst);
        t.clear_child_tid.store(0, Ordering::SeqCst);
        sched::wake_task(t);
    }
    drop(others);
    while super::signals::threads_of(&p).len() > 1 {
        sched::yield_now();
    }
    let new_mm = Arc::new(Mutex::new(img.aspace));
    let old = p.set_mm(Some(new_mm), cr3);
    // SAFETY: the new PML4 shares the kernel half; the old space is dropped after this.
    unsafe { crate::arch::cpu::set_cr3(cr3) };
    drop(old);

    let cloexec: Vec<_> = p.files.lock().close_on_exec();
    drop(cloexec);
    *p.cmdline.lock() = (argv.to_vec(), envp.to_vec());
    *p.exe.lock() = abs_path.clone();
    *p.comm.lock() = comm_of(&abs_path);
    p.signals.reset_for_exec();
    me.signals.reset_for_exec();
    me.fs_base.store(0, Ordering::Relaxed);
    crate::arch::context::set_fs_base(0);
    me.reset_fpu();
    me.clear_child_tid.store(0, Ordering::Relaxed);

    *frame = TrapFrame::ZERO;
    frame.rip = img.entry;
    frame.rsp = img.stack_pointer;
    frame.cs = u64::from(USER_CS);
    frame.ss = u64::from(USER_DS);
    frame.eflags = 0x202;
    p.execed.store(true, Ordering::SeqCst);
    p.vfork_done.store(true, Ordering::SeqCst);
    p.vfork_wait.wake_all();
    crate::trace::process_exec(path, me.tid);
    Ok(())
}

/// `AT_HWCAP`: CPUID.1:EDX, as Linux reports on x86.
fn hwcap() -> u64 {
    // SAFETY: CPUID leaf 1 exists on every x86_64 CPU.
    let r = unsafe { core::arch::x86_64::__cpuid(1) };
    u64::from(r.edx)
}
