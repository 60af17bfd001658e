//! [`Process`]: what the threads of one process share — address space, fd table, fs
//! context, executable, children and exit status — and the pid table.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use spin::Mutex;

use crate::fs::context::FsContext;
use crate::fs::FdTable;
use crate::mm::AddressSpace;
use crate::proc::rlimit::Rlimits;
use crate::proc::signal::ProcessSignals;
use crate::sync::WaitQueue;
use crate::syscall::ids::JobIds;

/// A process's address space, shared by its threads (and by `CLONE_VM` children).
pub type Mm = Arc<Mutex<AddressSpace>>;

/// Exit bookkeeping.
#[derive(Default)]
pub struct ExitState {
    /// Threads still running.
    pub live_threads: u32,
    /// Set by `exit_group` or a fatal signal: the wait status every thread exits with.
    pub group_exit: Option<i32>,
    /// All threads are gone; the wait status for `wait4`.
    pub zombie: Option<i32>,
}

/// One process (thread group).
pub struct Process {
    /// Process id (= the main thread's tid).
    pub pid: u32,
    parent: Mutex<Weak<Process>>,
    mm: Mutex<Option<Mm>>,
    cr3: AtomicU64,
    /// File descriptors (shared with `CLONE_FILES` children).
    pub files: Arc<Mutex<FdTable>>,
    /// Working directory, root, umask (shared with `CLONE_FS` children).
    pub fs: Arc<Mutex<FsContext>>,
    /// The executable's path (`/proc/self/exe`).
    pub exe: Mutex<String>,
    /// The command name (last path component of the executable, 15 bytes at most).
    pub comm: Mutex<String>,
    /// Live and zombie children.
    pub children: Mutex<Vec<Arc<Process>>>,
    /// Exit bookkeeping.
    pub exit: Mutex<ExitState>,
    /// Woken when a child exits (`wait4` sleeps here).
    pub child_wait: WaitQueue,
    /// `CLONE_VFORK`: set when this process execs or exits; the parent waits on
    /// `vfork_wait` for it.
    pub vfork_done: AtomicBool,
    /// See `vfork_done`.
    pub vfork_wait: WaitQueue,
    /// Signal actions and the process-wide pending queue.
    pub signals: ProcessSignals,
    /// Resource limits.
    pub rlimits: Rlimits,
    /// Process group and session.
    pub job: JobIds,
    /// Has called `execve` since `fork` (`setpgid` on a child then fails with `EACCES`).
    pub execed: AtomicBool,
    /// `argv` and `envp` of the last `execve` (`/proc/<pid>/cmdline`, `environ`).
    pub cmdline: Mutex<(Vec<Vec<u8>>, Vec<Vec<u8>>)>,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);
static PROCESSES: Mutex<BTreeMap<u32, Weak<Process>>> = Mutex::new(BTreeMap::new());

/// A new pid/tid (one number space, like Linux).
pub fn alloc_id() -> u32 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The live (or zombie, not yet reaped) process `pid`.
pub fn by_pid(pid: u32) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).and_then(Weak::upgrade)
}

/// The command name for an executable path.
pub fn comm_of(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.chars().take(15).collect()
}

impl Process {
    /// A new process; registered in the pid table.
    pub fn new(
        pid: u32,
        parent: Weak<Process>,
        mm: Option<Mm>,
        cr3: u64,
        files: Arc<Mutex<FdTable>>,
        fs: Arc<Mutex<FsContext>>,
        exe: String,
        signals: ProcessSignals,
        rlimits: Rlimits,
        job: JobIds,
    ) -> Arc<Process> {
        let p = Arc::new(Process {
            pid,
            parent: Mutex::new(parent),
            mm: Mutex::new(mm),
            cr3: AtomicU64::new(cr3),
            files,
            fs,
            comm: Mutex::new(comm_of(&exe)),
            exe: Mutex::new(exe),
            children: Mutex::new(Vec::new()),
            exit: Mutex::new(ExitState::default()),
            child_wait: WaitQueue::new(),
            vfork_done: AtomicBool::new(false),
            vfork_wait: WaitQueue::new(),
            signals,
            rlimits,
            job,
            execed: AtomicBool::new(false),
            cmdline: Mutex::new((Vec::new(), Vec::new())),
        });
        PROCESSES.lock().insert(pid, Arc::downgrade(&p));
        p
    }

    /// The page-table root the scheduler loads for this process's threads (0: keep).
    pub fn cr3(&self) -> u64 {
        self.cr3.load(Ordering::Relaxed)
    }

    /// The address space (`None` once the process exited).
    pub fn mm(&self) -> Option<Mm> {
        self.mm.lock().clone()
    }

    /// Replaces the address space (execve, exit) and its page-table root; returns the old
    /// one (dropped by the caller after switching CR3).
    pub fn set_mm(&self, mm: Option<Mm>, cr3: u64) -> Option<Mm> {
        self.cr3.store(cr3, Ordering::SeqCst);
        core::mem::replace(&mut *self.mm.lock(), mm)
    }

    /// The parent (`None` for PID 1 and kernel processes).
    pub fn parent(&self) -> Option<Arc<Process>> {
        self.parent.lock().upgrade()
    }

    /// Sets the parent (reparenting to init).
    pub fn set_parent(&self, p: Weak<Process>) {
        *self.parent.lock() = p;
    }

    /// Removes the process from the pid table (reaped).
    pub fn unregister(&self) {
        PROCESSES.lock().remove(&self.pid);
    }
}
