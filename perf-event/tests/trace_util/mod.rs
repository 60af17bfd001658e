//! Fakes shared by the trace tests: a trace environment and a probe engine.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use perf_event::trace::{
    EventConsumer, KprobeHit, ProbeArm, ProbeArmKind, TraceEnv, TraceFs, TraceRegistry, X86PtRegs,
};
use syscall_abi::{Errno, Error, Result};

/// A settable current task and clock.
pub struct FakeEnv {
    pub pid: AtomicI32,
    pub clock: AtomicU64,
    pub comm: Mutex<[u8; 16]>,
    pub irq_work: AtomicUsize,
}

impl FakeEnv {
    pub fn new() -> Arc<FakeEnv> {
        let mut comm = [0u8; 16];
        comm[..4].copy_from_slice(b"bash");
        Arc::new(FakeEnv {
            pid: AtomicI32::new(17685),
            clock: AtomicU64::new(30_629_294_161_000),
            comm: Mutex::new(comm),
            irq_work: AtomicUsize::new(0),
        })
    }
}

impl TraceEnv for FakeEnv {
    fn current_pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }
    fn current_comm(&self) -> [u8; 16] {
        *self.comm.lock().unwrap()
    }
    fn current_cpu(&self) -> u32 {
        0
    }
    fn clock_ns(&self) -> u64 {
        self.clock.load(Ordering::Relaxed)
    }
    fn nr_cpus(&self) -> u32 {
        2
    }
    fn queue_irq_work(&self) {
        self.irq_work.fetch_add(1, Ordering::Relaxed);
    }
}

/// Records every hit.
#[derive(Default)]
pub struct Capture {
    pub records: Mutex<Vec<Vec<u8>>>,
    pub regs_seen: AtomicUsize,
    pub prog: Option<u32>,
}

impl EventConsumer for Capture {
    fn hit(&self, rec: &[u8], regs: Option<&mut X86PtRegs>) {
        if regs.is_some() {
            self.regs_seen.fetch_add(1, Ordering::Relaxed);
        }
        self.records.lock().unwrap().push(rec.to_vec());
    }
    fn prog_id(&self) -> Option<u32> {
        self.prog
    }
}

impl Capture {
    pub fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

/// One registered fake probe.
pub struct FakeProbe {
    pub addr: u64,
    pub kind: ProbeArmKind,
    pub hit: Arc<dyn KprobeHit>,
    pub enabled: bool,
}

/// A probe engine over a small symbol table.
#[derive(Default)]
pub struct FakeArm {
    /// Readable kernel memory: region start → bytes.
    pub mem: Mutex<BTreeMap<u64, Vec<u8>>>,
    pub probes: Mutex<BTreeMap<u64, FakeProbe>>,
    pub next: AtomicU64,
    pub missed: AtomicU64,
}

pub const DO_SYS_OPENAT2: u64 = 0xffff_ffff_8100_1000;
pub const VFS_READ: u64 = 0xffff_ffff_8100_2000;

fn symbols() -> [(&'static str, u64, u64); 2] {
    [("do_sys_openat2", DO_SYS_OPENAT2, 0x200), ("vfs_read", VFS_READ, 0x100)]
}

impl FakeArm {
    /// Fires every enabled probe at `addr` as the engine would.
    pub fn fire(&self, addr: u64, regs: &mut X86PtRegs) {
        let hits: Vec<(ProbeArmKind, Arc<dyn KprobeHit>)> = self
            .probes
            .lock()
            .unwrap()
            .values()
            .filter(|p| p.addr == addr && p.enabled)
            .map(|p| (p.kind, p.hit.clone()))
            .collect();
        for (kind, h) in hits {
            match kind {
                ProbeArmKind::Kprobe => h.pre(regs),
                ProbeArmKind::Kretprobe { .. } => h.ret(regs),
            }
        }
    }

    pub fn count(&self) -> usize {
        self.probes.lock().unwrap().len()
    }

    pub fn enabled_count(&self) -> usize {
        self.probes.lock().unwrap().values().filter(|p| p.enabled).count()
    }
}

impl ProbeArm for FakeArm {
    fn resolve(&self, symbol: &[u8], offset: u64) -> Result<u64> {
        let (_, addr, size) = symbols()
            .into_iter()
            .find(|(n, _, _)| n.as_bytes() == symbol)
            .ok_or(Error::new(Errno::ENOENT, "unknown symbol"))?;
        if offset >= size {
            return Err(Error::new(Errno::EINVAL, "offset past symbol"));
        }
        if offset % 4 != 0 {
            return Err(Error::new(Errno::EILSEQ, "not an instruction boundary"));
        }
        Ok(addr + offset)
    }
    fn register(&self, addr: u64, kind: ProbeArmKind, hit: Arc<dyn KprobeHit>) -> Result<u64> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.probes.lock().unwrap().insert(id, FakeProbe { addr, kind, hit, enabled: false });
        Ok(id)
    }
    fn unregister(&self, id: u64) {
        self.probes.lock().unwrap().remove(&id);
    }
    fn enable(&self, id: u64) -> Result<()> {
        self.probes.lock().unwrap().get_mut(&id).ok_or(Error::from(Errno::ENOENT))?.enabled = true;
        Ok(())
    }
    fn disable(&self, id: u64) -> Result<()> {
        self.probes.lock().unwrap().get_mut(&id).ok_or(Error::from(Errno::ENOENT))?.enabled = false;
        Ok(())
    }
    fn missed(&self, _id: u64) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }
    fn read_kernel(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mem = self.mem.lock().unwrap();
        let (start, bytes) = mem.range(..=addr).next_back().ok_or(Error::from(Errno::EFAULT))?;
        let off = usize::try_from(addr - start).unwrap();
        let src = bytes.get(off..off + buf.len()).ok_or(Error::from(Errno::EFAULT))?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn symbolize(&self, addr: u64) -> Option<(String, u64, u64)> {
        symbols().into_iter().find(|(_, a, s)| addr >= *a && addr < a + s).map(|(n, a, s)| (n.to_string(), addr - a, s))
    }
}

/// A registry with the fake environment and probe engine, and its tracefs.
pub fn setup() -> (Arc<FakeEnv>, Arc<FakeArm>, Arc<TraceRegistry>, TraceFs) {
    let env = FakeEnv::new();
    let arm = Arc::new(FakeArm::default());
    let reg = TraceRegistry::new(env.clone());
    reg.set_probe_arm(arm.clone());
    let fs = TraceFs::new(reg.clone());
    (env, arm, reg, fs)
}

pub fn errno<T: std::fmt::Debug>(r: Result<T>) -> Errno {
    r.expect_err("expected an error").errno
}

pub fn read(fs: &TraceFs, path: &str) -> String {
    String::from_utf8(fs.read_file(path).unwrap()).unwrap()
}

/// Everything trace_pipe has now.
pub fn drain_pipe(fs: &TraceFs) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = fs.trace_pipe_read(&mut buf) {
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}
