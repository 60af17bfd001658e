//! Host tests of the perf fd side: `perf_event_open` through
//! [`sys_perf_event_open`](crate::syscall::perf::sys_perf_event_open) into a real fd table,
//! and [`PerfFileOps`]'s `read`, `ioctl`, `mmap`, `poll` and wake-up queue, over the bpf
//! tests' host (fake process, memfd-backed shared pages).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::vec::Vec;

use perf_event::{Perf, PerfHost, WakeKey};
use syscall_abi::perf::{PerfEventAttr, PERF_EVENT_IOC_DISABLE, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_ID};
use syscall_abi::Errno;

use super::perf_file::{wake_event, PerfFileOps, PERF_EVENT_PATH};
use crate::bpf::tests::T;
use crate::fs::file::O_RDWR;
use crate::fs::{MmapBacking, OpenFile, PollEvents};
use crate::syscall::perf::{sys_perf_event_open, PERF_FLAG_FD_CLOEXEC};
use crate::user::UserMem;

struct Host {
    t: T,
    irq_work: AtomicBool,
    woken: StdMutex<Vec<WakeKey>>,
}

impl PerfHost for Host {
    fn bpf(&self) -> &dyn bpf_subsys::BpfHost {
        &*self.t.host
    }

    fn kprobes(&self) -> Option<&kprobe_arch::Registry> {
        None
    }

    fn queue_irq_work(&self) {
        self.irq_work.store(true, Ordering::SeqCst);
    }

    fn task_exists(&self, pid: i32) -> bool {
        pid == 43
    }

    fn wake(&self, key: WakeKey) {
        if let Ok(mut w) = self.woken.lock() {
            w.push(key);
        }
    }
}

fn setup() -> (Arc<Host>, Arc<Perf>) {
    let host = Arc::new(Host { t: T::new(), irq_work: AtomicBool::new(false), woken: StdMutex::new(Vec::new()) });
    let perf = Perf::new(host.clone());
    (host, perf)
}

/// A `PERF_COUNT_SW_BPF_OUTPUT` event's attributes (what perf buffers open per CPU).
fn bpf_output_attr(h: &Host) -> u64 {
    let mut a = PerfEventAttr::ZERO;
    a.type_ = 1;
    a.size = u32::try_from(core::mem::size_of::<PerfEventAttr>()).unwrap();
    a.config = 10;
    a.sample_period = 1;
    a.sample_type = 1 << 10;
    h.t.put(&a)
}

fn open(h: &Host, perf: &Arc<Perf>, group: i32, flags: u64) -> Result<i32, Errno> {
    let attr = bpf_output_attr(h);
    sys_perf_event_open(perf, &h.t.proc.files, attr, -1, 0, group, flags).map(|fd| i32::try_from(fd).unwrap())
}

fn file(h: &Host, fd: i32) -> Arc<OpenFile> {
    h.t.proc.files.lock().get(fd).unwrap()
}

#[test]
fn perf_event_open_installs_an_anon_perf_fd() {
    let (h, perf) = setup();
    let fd = open(&h, &perf, -1, PERF_FLAG_FD_CLOEXEC).unwrap();
    let f = file(&h, fd);
    assert_eq!(f.path, PERF_EVENT_PATH);
    assert_eq!(f.flags() & 3, O_RDWR);
    assert_eq!(h.t.proc.files.lock().cloexec(fd), Ok(true));
    assert!(f.ops.as_any().is::<PerfFileOps>());
    let plain = open(&h, &perf, -1, 0).unwrap();
    assert_eq!(h.t.proc.files.lock().cloexec(plain), Ok(false));
    // group_fd: a closed fd and a file that is no perf event are EBADF.
    assert_eq!(open(&h, &perf, 999, 0), Err(Errno::EBADF));
    let (r, _w) = crate::fs::pipe::new_pipe(0);
    let pipe_fd = h.t.proc.files.lock().install(r, false).unwrap();
    assert_eq!(open(&h, &perf, pipe_fd, 0), Err(Errno::EBADF));
    // A bad attribute pointer is the crate's EFAULT.
    assert_eq!(sys_perf_event_open(&perf, &h.t.proc.files, 8, -1, 0, -1, 0), Err(Errno::EFAULT));
}

#[test]
fn fd_operations_reach_the_event() {
    let (h, perf) = setup();
    let fd = open(&h, &perf, -1, 0).unwrap();
    let f = file(&h, fd);
    let ops = f.ops.as_any().downcast_ref::<PerfFileOps>().unwrap();
    let id_at = h.t.put(&0u64);
    assert_eq!(f.ops.ioctl(&f, PERF_EVENT_IOC_ID, id_at, &h.t.proc.mem), Ok(0));
    let mut id = [0u8; 8];
    h.t.proc.mem.read(id_at, &mut id).unwrap();
    assert_eq!(u64::from_le_bytes(id), u64::from(ops.event().id()));
    assert_eq!(f.ops.ioctl(&f, PERF_EVENT_IOC_ENABLE, 0, &h.t.proc.mem), Ok(0));
    assert_eq!(f.ops.ioctl(&f, PERF_EVENT_IOC_DISABLE, 0, &h.t.proc.mem), Ok(0));
    assert_eq!(f.ops.ioctl(&f, 0x1234, 0, &h.t.proc.mem), Err(Errno::ENOTTY));
    let mut count = [0xffu8; 8];
    assert_eq!(f.ops.read(&f, &mut count), Ok(8));
    assert_eq!(f.ops.read(&f, &mut count[..4]), Err(Errno::ENOSPC));
    assert_eq!(f.ops.write(&f, b"x"), Err(Errno::EINVAL));
    assert_eq!(f.ops.seek(&f, 0, 0), Err(Errno::ESPIPE));
    assert_eq!(f.ops.stat().unwrap().mode, 0o600);
    assert_eq!(f.ops.poll(&f), PollEvents::empty());
    assert!(f.ops.wait_queue().is_some());
    // The fd's queue is found by event id (a wake with nobody waiting is fine).
    wake_event(ops.event().id());
}

#[test]
fn mmap_maps_the_ring_shared_only() {
    let (h, perf) = setup();
    let fd = open(&h, &perf, -1, 0).unwrap();
    let f = file(&h, fd);
    const RW: u32 = 3;
    const SHARED: u32 = 1;
    const PRIVATE: u32 = 2;
    assert!(matches!(f.ops.mmap(&f, 0, 3 * 4096, RW, PRIVATE), Err(Errno::EINVAL)));
    // 1 + 3 pages: not 1 + 2^n.
    assert!(matches!(f.ops.mmap(&f, 0, 4 * 4096, RW, SHARED), Err(Errno::EINVAL)));
    let Ok(MmapBacking::Frames(frames)) = f.ops.mmap(&f, 0, 3 * 4096, RW, SHARED) else { panic!("the ring maps") };
    assert!(frames.frame(0).is_some() && frames.frame(2).is_some());
    assert_eq!(frames.frame(3), None);
    assert!(frames.writable(0));
    // A second mapping of the same size shows the same pages; read-only is allowed.
    let Ok(MmapBacking::Frames(ro)) = f.ops.mmap(&f, 0, 3 * 4096, 1, SHARED) else { panic!("second mapping") };
    assert_eq!(ro.frame(1), frames.frame(1));
    assert!(!ro.writable(1));
    // The header page: version 0, data_offset 4096, data_size 2 pages (perf_event_mmap_page).
    let page0 = frames.frame(0).unwrap() as usize as *const u8;
    // SAFETY: the test vmap's "physical" addresses are live host mappings of the ring.
    let hdr = unsafe { core::slice::from_raw_parts(page0, 4096) };
    let data_offset = u64::from_le_bytes(hdr[1040..1048].try_into().unwrap());
    let data_size = u64::from_le_bytes(hdr[1048..1056].try_into().unwrap());
    assert_eq!((data_offset, data_size), (4096, 8192));
}

use crate::syscall::dispatched::dispatched_syscalls as dispatched;

/// A new system call needs its tracepoint arguments: re-run `scripts/gen-syscall-table.py`.
#[test]
fn every_dispatched_syscall_has_tracepoint_arguments() {
    use super::syscall_table::SYSCALLS;
    let want = dispatched();
    assert!(want.len() > 100, "parsed only {} arms", want.len());
    let missing: Vec<_> = want.iter().filter(|&&n| !SYSCALLS.iter().any(|d| u64::from(d.nr) == n)).collect();
    assert!(missing.is_empty(), "syscalls missing from trace/syscall_table.rs: {missing:?}");
    assert!(SYSCALLS.windows(2).all(|w| w[0].nr < w[1].nr), "sorted, no duplicates");
    assert!(SYSCALLS.iter().all(|d| d.args.len() <= 6));
    // The event names are the Linux entry points' (`sys_enter_newstat` ~ `__x64_sys_newstat`).
    for d in SYSCALLS {
        let target = crate::probe::targets_sys::SYSCALLS.iter().find(|t| t.0 == u64::from(d.nr));
        assert_eq!(target.map(|t| t.1.trim_start_matches("__x64_sys_")), Some(d.name), "syscall {}", d.nr);
    }
}
