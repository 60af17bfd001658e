//! The kernel's answers to procfs ([`ProcSource`]): the process table, fd tables,
//! address-space maps and memory numbers.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Mutex;

use super::process::{self, Process};
use super::sched;
use crate::fs::procfs::source::{MemInfo, ProcSource, ProcessInfo};
use crate::fs::FdTable;
use crate::mm::frame::FRAMES;

/// The process table as procfs sees it.
pub struct KernelProcSource;

fn info(p: &Arc<Process>) -> ProcessInfo {
    let tids: Vec<u32> = super::signals::threads_of(p).iter().map(|t| t.tid).collect();
    let (argv, envp) = p.cmdline.lock().clone();
    let exit = p.exit.lock();
    let state = if exit.zombie.is_some() { 'Z' } else { 'S' };
    drop(exit);
    let fs = p.fs.lock().clone();
    let (vm_size, rss_pages) = match p.mm() {
        Some(mm) => {
            let a = mm.lock();
            (a.vmas().map(|v| v.end - v.start).sum(), a.resident_pages() as u64)
        }
        None => (0, 0),
    };
    ProcessInfo {
        pid: p.pid,
        ppid: p.parent().map_or(0, |pp| pp.pid),
        comm: p.comm.lock().clone(),
        state,
        threads: tids.len() as u32,
        tids,
        argv,
        envp,
        exe: Some(p.exe.lock().as_bytes().to_vec()),
        cwd: fs.cwd.path.clone(),
        root: fs.root.path.clone(),
        umask: fs.umask,
        vm_size,
        rss_pages,
        ..ProcessInfo::default()
    }
}

impl ProcSource for KernelProcSource {
    fn current_pid(&self) -> u32 {
        sched::current().process.pid
    }

    fn pids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = sched::all_tasks().iter().map(|t| t.process.pid).filter(|&p| p != 0).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn process(&self, pid: u32) -> Option<ProcessInfo> {
        if pid == 0 {
            return None;
        }
        process::by_pid(pid).map(|p| info(&p))
    }

    fn files(&self, pid: u32) -> Option<Arc<Mutex<FdTable>>> {
        process::by_pid(pid).filter(|_| pid != 0).map(|p| p.files.clone())
    }

    fn maps(&self, pid: u32) -> Option<String> {
        let p = process::by_pid(pid).filter(|_| pid != 0)?;
        let mm = p.mm()?;
        let text = mm.lock().maps_text();
        Some(text)
    }

    fn meminfo(&self) -> MemInfo {
        let (total, used) = FRAMES.stats();
        let (heap_used, _) = crate::mm::heap::usage();
        MemInfo {
            total_kb: total * 4,
            free_kb: total.saturating_sub(used) * 4,
            available_kb: 0,
            cached_kb: 0,
            shmem_kb: 0,
            slab_kb: heap_used as u64 / 1024,
        }
    }
}
