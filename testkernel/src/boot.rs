//! The boot sequence after the machine is up: the root filesystem (tmpfs + the
//! initramfs), the idle task, and PID 1 (`/init`, with the words after ` -- ` on the
//! kernel command line as its arguments).

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use spin::{Mutex, Once};

use crate::arch::boot::BootParams;
use crate::arch::context::FpuState;
use crate::arch::trap::TrapFrame;
use crate::fs::context::FsContext;
use crate::fs::devfs::{Console, Tty, XorShiftRandom};
use crate::fs::procfs::ProcFs;
use crate::fs::rootfs::{init_rootfs, open_console_fds};
use crate::fs::sysfs::SysFs;
use crate::fs::vfs::Vfs;
use crate::fs::FdTable;
use crate::mm::paging::kernel_pml4;
use crate::proc::rlimit::Rlimits;
use crate::proc::signal::{ProcessSignals, ThreadSignals};
use crate::syscall::ids::JobIds;
use crate::task::procsource::KernelProcSource;
use crate::task::task::KernelStack;
use crate::task::{exec, process, sched, Process, Task};

static VFS: Once<Vfs> = Once::new();

/// The filesystem tree.
pub fn vfs() -> &'static Vfs {
    match VFS.get() {
        Some(v) => v,
        None => panic!("the VFS is used before boot created it"),
    }
}

/// The serial port as the terminal's output.
struct SerialConsole;

impl Console for SerialConsole {
    fn write(&self, bytes: &[u8]) {
        crate::arch::serial::write_bytes(bytes);
    }
}

fn build_root(initrd: &'static [u8]) -> Arc<Tty> {
    let random = Arc::new(XorShiftRandom::new(crate::arch::cpu::rdtsc() | 1));
    let (vfs, tty, stats) = match init_rootfs(initrd, Arc::new(SerialConsole), random.clone()) {
        Ok(r) => r,
        Err(e) => {
            log::error!("initramfs: unpack failed ({e:?}); booting with an empty root");
            match init_rootfs(&[], Arc::new(SerialConsole), random) {
                Ok(r) => r,
                Err(e) => panic!("cannot build the root filesystem: {e:?}"),
            }
        }
    };
    log::info!("initramfs: {} entries, {} bytes", stats.entries, stats.bytes);
    let procfs = ProcFs::new(Arc::new(KernelProcSource));
    let _ = procfs.add_file("kallsyms", Arc::new(crate::fs::procfs::kallsyms::generate));
    if let Err(e) = vfs.mount(b"/proc", procfs.root()) {
        log::error!("mount /proc: {e:?}");
    }
    let sysfs = SysFs::new(1);
    if let Err(e) = vfs.mount(b"/sys", sysfs.root()) {
        log::error!("mount /sys: {e:?}");
    }
    crate::trace::init(&vfs, &sysfs);
    VFS.call_once(|| vfs);
    PROCFS.call_once(|| procfs);
    SYSFS.call_once(|| sysfs);
    tty
}

static PROCFS: Once<ProcFs> = Once::new();
static RANDOM: Once<XorShiftRandom> = Once::new();

/// The kernel's random source (`getrandom`; not cryptographic).
pub fn random() -> &'static XorShiftRandom {
    RANDOM.call_once(|| XorShiftRandom::new(crate::arch::cpu::rdtsc() | 1))
}
static SYSFS: Once<SysFs> = Once::new();

/// Feeds serial input to the terminal: a kernel task polling the UART 100 times a second.
extern "C" fn console_input_task(arg: u64) {
    sched::finish_switch();
    // SAFETY: `arg` is the `Arc<Tty>` leaked by `start` for this task, which never ends.
    let tty: &Tty = unsafe { &*(arg as *const Tty) };
    let mut buf = [0u8; 64];
    loop {
        let mut n = 0;
        while n < buf.len() {
            match crate::arch::serial::try_read_byte() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        if n > 0 {
            tty.input(&buf[..n]);
        }
        let _ = crate::sync::WaitQueue::new().wait_until(Some(crate::time::monotonic_ns() + 10_000_000), || false);
    }
}

static INIT_ARGV: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// PID 1's first code in the kernel: exec `/init`, then return to user mode into it.
extern "C" fn init_start(_arg: u64) {
    sched::finish_switch();
    let me = sched::current();
    let argv = core::mem::take(&mut *INIT_ARGV.lock());
    let envp = alloc::vec![b"HOME=/".to_vec(), b"PATH=/bin:/sbin:/usr/bin".to_vec(), b"TERM=linux".to_vec()];
    // SAFETY: the task entered the kernel through `init_stack`, whose frame sits at the
    // top of its kernel stack; nothing else references it while the task runs here.
    let frame = unsafe { &mut *me.user_frame() };
    drop(me);
    if let Err(e) = exec::execve(vfs(), frame, b"/init", &argv, &envp) {
        log::error!("cannot run /init: {e:?}");
        crate::task::exit::exit_group(crate::task::exit::exited(127));
    }
    log::info!("boot: running /init");
}

/// Runs the boot sequence on the boot stack, which then becomes the idle task.
pub fn start(params: BootParams) -> ! {
    log::info!("cmdline: {}", params.cmdline);
    crate::syscall::dispatch::set_strace(crate::cmdline::has_flag(params.cmdline, "strace"));
    crate::kallsyms::init();
    crate::probe::hooks::init();
    crate::probe::host::init();
    crate::probe::bench::run_if_requested(params.cmdline);
    crate::probe::selftest::run_if_requested(params.cmdline);
    let tty = build_root(params.initrd);
    crate::task::bpf_glue::init();
    let fs = Arc::new(Mutex::new(FsContext::new(vfs())));
    let files = Arc::new(Mutex::new(FdTable::new()));
    let kernel = Process::new(
        0,
        Weak::new(),
        None,
        kernel_pml4(),
        files,
        fs.clone(),
        String::from("[kernel]"),
        ProcessSignals::new(),
        Rlimits::default(),
        JobIds::leader(0),
    );
    sched::init(Task::boot(kernel.clone()));

    // PID 1 first: the console task must not take its number.
    let pid = process::alloc_id();
    let Ok(console_stack) = KernelStack::new() else { panic!("no memory for the console task") };
    let console = Task::new(
        console_stack,
        process::alloc_id(),
        kernel.clone(),
        &TrapFrame::ZERO,
        console_input_task,
        Arc::into_raw(tty) as u64,
        FpuState::initial(),
        true,
        ThreadSignals::new(),
    );
    sched::spawn(console);

    let init_files = Mutex::new(FdTable::new());
    let init_fs = Mutex::new(fs.lock().clone());
    if let Err(e) = open_console_fds(&init_files, &init_fs, vfs()) {
        log::error!("cannot open /dev/console for init: {e:?}");
    }
    let init = Process::new(
        pid,
        Weak::new(),
        None,
        kernel_pml4(),
        Arc::new(init_files),
        Arc::new(init_fs),
        String::from("/init"),
        ProcessSignals::new(),
        Rlimits::default(),
        JobIds::leader(pid),
    );
    // Like Linux, init only receives signals it has a handler for.
    init.signals.set_unkillable(true);
    init.exit.lock().live_threads = 1;
    *INIT_ARGV.lock() = crate::cmdline::init_argv(params.cmdline);
    let mut f = TrapFrame::ZERO;
    f.cs = u64::from(crate::arch::gdt::USER_CS);
    f.ss = u64::from(crate::arch::gdt::USER_DS);
    f.eflags = 0x202;
    let Ok(init_stack) = KernelStack::new() else { panic!("no memory for init") };
    let t = Task::new(init_stack, pid, init, &f, init_start, 0, FpuState::initial(), false, ThreadSignals::new());
    sched::spawn(t);
    sched::idle_loop()
}
