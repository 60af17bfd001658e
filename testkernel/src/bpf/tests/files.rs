//! The host's own services: user strings, identity, time, randomness, trace output, perf
//! event fds, and a host without a current process.

use std::sync::{Arc, Mutex as StdMutex};

use bpf_subsys::host::Capability;
use bpf_subsys::object::FdTarget;
use bpf_subsys::BpfHost;
use maps::FdObject;
use syscall_abi::bpf::{Cmd, MapType};
use syscall_abi::Errno;

use super::{BASE, T};
use crate::bpf::{KernelBpfHost, TraceRecord, TraceSink};
use crate::fs::{FileOps, Metadata, OpenFile};
use crate::user::UserMem;

#[test]
fn strncpy_from_user_like_linux() {
    let t = T::new();
    let h: &dyn BpfHost = &*t.host;
    let s = t.cstr("hello");
    let mut buf = [0xffu8; 16];
    assert_eq!(h.strncpy_from_user(&mut buf, s), Ok(5));
    assert_eq!(&buf[..6], b"hello\0");
    // No NUL within the buffer: it is filled and its length returned.
    let mut small = [0u8; 3];
    assert_eq!(h.strncpy_from_user(&mut small, s), Ok(3));
    assert_eq!(&small, b"hel");
    // A string ending right before the end of user memory (the next page is unmapped).
    let end = BASE + (1 << 20);
    t.proc.mem.write(end - 3, b"ab\0").unwrap();
    assert_eq!(h.strncpy_from_user(&mut buf, end - 3), Ok(2));
    // Unterminated up to the end of user memory: EFAULT.
    t.proc.mem.write(end - 2, b"xy").unwrap();
    assert_eq!(h.strncpy_from_user(&mut buf, end - 2).map_err(|e| e.errno), Err(Errno::EFAULT));
    assert_eq!(h.strncpy_from_user(&mut buf, u64::MAX - 1).map_err(|e| e.errno), Err(Errno::EFAULT));
}

#[test]
fn identity_time_and_random() {
    let t = T::new();
    let h: &dyn BpfHost = &*t.host;
    assert_eq!(h.current_pid_tgid(), (43, 42));
    assert_eq!(&h.current_comm()[..8], b"bpftest\0");
    assert!(h.capable(Capability::Bpf) && h.capable(Capability::SysAdmin));
    t.proc.uid.store(1000, std::sync::atomic::Ordering::Relaxed);
    assert!(!h.capable(Capability::Bpf));
    // Unprivileged map creation: EPERM before anything else (unprivileged_bpf_disabled = 2).
    assert_eq!(t.map_create(MapType::Array, 4, 4, 1, 0), Err(Errno::EPERM));
    let (a, b) = (h.ktime_ns(), h.ktime_ns());
    assert!(b >= a);
    let j = h.jiffies();
    assert!(j >= (1u64 << 32) - 300_000, "jiffies start 5 minutes before the 32-bit wrap");
    let r: Vec<u32> = (0..8).map(|_| h.random_u32()).collect();
    assert!(r.windows(2).any(|w| w[0] != w[1]), "random numbers vary: {r:?}");
    assert_eq!((h.current_cpu(), h.possible_cpus()), (0, 1));
    assert_eq!(h.send_signal(10, false).map_err(|e| e.errno), Err(Errno::EOPNOTSUPP));
    assert!(h.kallsyms_lookup_name(b"schedule").is_none());
}

/// `(pid, comm, message)` of each record.
type Lines = Vec<(u32, Vec<u8>, Vec<u8>)>;

#[derive(Default)]
struct Capture {
    lines: StdMutex<Lines>,
}

impl TraceSink for Capture {
    fn write(&self, rec: &TraceRecord<'_>) {
        self.lines.lock().unwrap().push((rec.pid, rec.comm.to_vec(), rec.msg.to_vec()));
    }
}

#[test]
fn trace_printk_goes_to_the_registered_sink() {
    let t = T::new();
    // The default sink (the log) must not fail.
    t.host.trace_printk(b"before\n");
    let sink = Arc::new(Capture::default());
    t.host.set_trace_sink(sink.clone());
    t.host.trace_printk(b"hi 7\n");
    let lines = sink.lines.lock().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].0, 43);
    assert_eq!(&lines[0].1[..7], b"bpftest");
    assert_eq!(lines[0].2, b"hi 7\n");
}

struct FakeEvent;

impl FdObject for FakeEvent {
    fn id(&self) -> u32 {
        7
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

struct EventFile;

impl FileOps for EventFile {
    fn stat(&self) -> crate::KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

#[test]
fn perf_event_fds_resolve_through_the_registered_lookup() {
    let t = T::new();
    let fd = t.proc.files.lock().install(OpenFile::new(Arc::new(EventFile), 2, "x".into()), false).unwrap();
    let h: &dyn BpfHost = &*t.host;
    let fd = u32::try_from(fd).unwrap();
    assert!(matches!(h.resolve_fd(fd), Ok(FdTarget::Other)));
    t.host.set_perf_event_lookup(Box::new(|ops: &dyn FileOps| {
        ops.as_any().is::<EventFile>().then(|| Arc::new(FakeEvent) as Arc<dyn FdObject>)
    }));
    assert!(matches!(h.resolve_fd(fd), Ok(FdTarget::PerfEvent(e)) if e.id() == 7));
    assert!(matches!(h.resolve_fd(fd + 1).map_err(|e| e.errno), Err(Errno::EBADF)));
}

#[test]
fn without_a_current_process_nothing_reaches_user_space() {
    let host = KernelBpfHost::new();
    let h: Arc<dyn BpfHost> = host.clone();
    let mut buf = [0u8; 4];
    assert_eq!(h.copy_from_user(&mut buf, BASE).map_err(|e| e.errno), Err(Errno::EFAULT));
    assert_eq!(h.copy_to_user(BASE, &buf).map_err(|e| e.errno), Err(Errno::EFAULT));
    assert!(matches!(h.resolve_fd(0).map_err(|e| e.errno), Err(Errno::EBADF)));
    assert!(!h.capable(Capability::Bpf));
    assert_eq!(h.current_pid_tgid(), (0, 0));
    assert_eq!(&h.current_comm()[..9], b"swapper/0");
    // bpf(2) itself: no capability, EPERM.
    let r = crate::bpf::syscall::sys_bpf(&host, Cmd::MapCreate.into(), BASE, 72);
    assert_eq!(r, Err(Errno::EPERM));
    // Without a KernelVmap, mmapable maps cannot be made.
    let t = T::new();
    assert!(t.host.alloc_shared(1, 0).is_ok());
    assert_eq!(host.alloc_shared(1, 0).err().map(|e| e.errno), Some(Errno::ENOMEM));
}
