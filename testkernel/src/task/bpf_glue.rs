//! The bpf subsystem's view of tasks ([`BpfProcess`] for the running task) and its boot-time
//! registration: current process, the vmalloc area for mmapable maps, bpffs at
//! `/sys/fs/bpf`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Mutex;

use super::sched;
use super::task::Task;
use crate::bpf::process::{BpfProcess, PathParent};
use crate::bpf::vmalloc::VmallocArea;
use crate::bpf::{kernel_host, path::BPFFS_MOUNT};
use crate::fs::inode::Inode;
use crate::fs::vfs::Last;
use crate::fs::FdTable;
use crate::mm::frame::FRAMES;
use crate::mm::paging::{KernelTables, VMALLOC_BASE, VMALLOC_SIZE};
use crate::mm::{AddressSpace, UserSpace};
use crate::user::UserMem;
use crate::KResult;

/// A process's memory owned by value (`UserSpace` borrows).
struct OwnedMem(Arc<Mutex<AddressSpace>>);

impl UserMem for OwnedMem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        UserSpace(&self.0).read(addr, buf)
    }

    fn write(&self, addr: u64, buf: &[u8]) -> KResult<()> {
        UserSpace(&self.0).write(addr, buf)
    }
}

/// The running task as the bpf subsystem sees it.
struct TaskBpf {
    task: Arc<Task>,
    mem: OwnedMem,
}

impl BpfProcess for TaskBpf {
    fn mem(&self) -> &dyn UserMem {
        &self.mem
    }

    fn files(&self) -> &Mutex<FdTable> {
        &self.task.process.files
    }

    fn pid_tgid(&self) -> (u32, u32) {
        (self.task.tid, self.task.process.pid)
    }

    fn uid_gid(&self) -> (u32, u32) {
        (0, 0)
    }

    fn comm(&self) -> [u8; 16] {
        let mut c = [0u8; 16];
        let comm = self.task.process.comm.lock();
        let n = comm.len().min(15);
        c[..n].copy_from_slice(&comm.as_bytes()[..n]);
        c
    }

    fn umask(&self) -> u32 {
        self.task.process.fs.lock().umask
    }

    fn task_addr(&self) -> u64 {
        Arc::as_ptr(&self.task) as u64
    }

    fn send_signal(&self, sig: u32, thread: bool) -> KResult<()> {
        let info = crate::proc::signal::SigInfo::kernel(sig);
        if thread {
            super::signals::send_to_thread(&self.task, info);
        } else {
            super::signals::send_to_process(&self.task.process, info);
        }
        Ok(())
    }

    fn lookup(&self, path: &[u8], follow: bool) -> Option<KResult<Arc<dyn Inode>>> {
        let cwd = self.task.process.fs.lock().cwd.clone();
        Some(crate::boot::vfs().resolve(&cwd, path, follow).map(|l| l.inode))
    }

    fn lookup_parent(&self, path: &[u8]) -> Option<KResult<PathParent>> {
        let cwd = self.task.process.fs.lock().cwd.clone();
        Some(crate::boot::vfs().resolve_parent(&cwd, path).map(|p| {
            let name: Vec<u8> = match p.last {
                Last::Name(n) => n,
                Last::Dot => b".".to_vec(),
                Last::DotDot => b"..".to_vec(),
                Last::Root => Vec::new(),
            };
            PathParent { dir: p.dir.inode, name, trailing_slash: p.trailing_slash }
        }))
    }
}

fn current_bpf_process() -> Option<Arc<dyn BpfProcess>> {
    let task = sched::current();
    if task.kernel_only {
        return None;
    }
    let mm = task.process.mm()?;
    Some(Arc::new(TaskBpf { task, mem: OwnedMem(mm) }))
}

/// Registers the kernel's services with the bpf host and mounts bpffs at `/sys/fs/bpf`.
pub fn init() {
    static TABLES: KernelTables = KernelTables;
    let host = kernel_host();
    host.set_current(Box::new(current_bpf_process));
    host.set_vmap(Arc::new(VmallocArea::new(VMALLOC_BASE, VMALLOC_SIZE, &FRAMES, &TABLES)));
    let vfs = crate::boot::vfs();
    if let Err(e) = vfs.mkdir_all(BPFFS_MOUNT, 0o755).and_then(|_| vfs.mount(BPFFS_MOUNT, host.bpffs().root())) {
        log::error!("mount bpffs at /sys/fs/bpf: {e:?}");
    }
}
