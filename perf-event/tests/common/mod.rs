//! A `std` fake kernel for the perf-event host tests: a [`bpf_subsys::BpfHost`] with a
//! Vec-backed user memory, an fd table, a settable CPU and clock, shared pages counted
//! while alive; a [`perf_event::PerfHost`] with a kprobe registry over a fake symbol table,
//! counted irq_work requests and recorded wake-ups.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bpf_subsys::host::{Capability, Ksym};
use bpf_subsys::object::{BpfFile, BpfObject, FdTarget, FileMode, Registry, UserRef};
use bpf_subsys::BpfHost;
use kprobe_arch::{KprobeHost, Registry as Kprobes};
use maps::{FdObject, MemfdPages, SharedPages};
use perf_event::{Perf, PerfEvent, PerfHost, WakeKey, X86PtRegs};
use syscall_abi::abi::Pod;
use syscall_abi::perf::PerfEventAttr;
use syscall_abi::{err, Errno, Result};

#[path = "../fake_text/mod.rs"]
mod fake_text;
pub use fake_text::Text;

pub const USER_BASE: u64 = 0x1000_0000;
pub const USER_SIZE: usize = 1 << 22;
pub const CPUS: u32 = 2;

/// Fake kernel functions: (name, offset in the text).
pub const SYMS: &[(&str, usize)] = &[("vfs_read", 0), ("do_exit", 0x10)];

#[derive(Clone)]
pub enum Fd {
    Bpf(Arc<BpfFile>),
    Perf(Arc<PerfEvent>),
    Other,
}

/// Shared pages that count themselves.
struct Counted {
    inner: MemfdPages,
    live: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SharedPages for Counted {
    fn as_ptr(&self) -> NonNull<u8> {
        self.inner.as_ptr()
    }
    fn pages(&self) -> usize {
        self.inner.pages()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub struct Host {
    mem: Mutex<Vec<u8>>,
    brk: Mutex<usize>,
    fds: Mutex<BTreeMap<u32, Fd>>,
    caps: AtomicBool,
    registry: Registry,
    pub cpu: AtomicU32,
    pub clock: AtomicU64,
    pub tid: AtomicU32,
    pub live_pages: Arc<AtomicUsize>,
    pub irq_works: AtomicUsize,
    pub wakes: Mutex<Vec<WakeKey>>,
    pub tasks: Mutex<Vec<i32>>,
    pub kprobes: Option<Kprobes>,
    pub text: Arc<Text>,
    pub tracing: OnceLock<Arc<dyn bpf_subsys::attach::TracingHost>>,
}

impl Host {
    pub fn new(with_kprobes: bool) -> Arc<Host> {
        let fds = (0..3).map(|fd| (fd, Fd::Other)).collect();
        let text = Text::new(SYMS);
        Arc::new(Host {
            mem: Mutex::new(vec![0; USER_SIZE]),
            brk: Mutex::new(0),
            fds: Mutex::new(fds),
            caps: AtomicBool::new(true),
            registry: Registry::new(),
            cpu: AtomicU32::new(0),
            clock: AtomicU64::new(1_000_000),
            tid: AtomicU32::new(1001),
            live_pages: Arc::new(AtomicUsize::new(0)),
            irq_works: AtomicUsize::new(0),
            wakes: Mutex::new(Vec::new()),
            tasks: Mutex::new(vec![1000, 1001]),
            kprobes: with_kprobes.then(|| Kprobes::new(text.clone())),
            text,
            tracing: OnceLock::new(),
        })
    }

    pub fn alloc(&self, len: usize) -> u64 {
        let mut brk = self.brk.lock().unwrap();
        let start = (*brk + 7) & !7;
        let end = start + len.max(1);
        assert!(end <= USER_SIZE);
        *brk = end;
        USER_BASE + start as u64
    }

    pub fn put_bytes(&self, bytes: &[u8]) -> u64 {
        let a = self.alloc(bytes.len());
        self.write(a, bytes);
        a
    }

    pub fn put<T: Pod>(&self, v: &T) -> u64 {
        self.put_bytes(v.as_bytes())
    }

    pub fn write(&self, addr: u64, bytes: &[u8]) {
        let off = (addr - USER_BASE) as usize;
        self.mem.lock().unwrap()[off..off + bytes.len()].copy_from_slice(bytes);
    }

    pub fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        let off = (addr - USER_BASE) as usize;
        self.mem.lock().unwrap()[off..off + len].to_vec()
    }

    fn check(&self, addr: u64, len: usize) -> Result<usize> {
        let end = addr.checked_add(len as u64).ok_or(Errno::EFAULT)?;
        if addr < USER_BASE || end > USER_BASE + USER_SIZE as u64 {
            return err(Errno::EFAULT, "outside user memory");
        }
        Ok((addr - USER_BASE) as usize)
    }

    pub fn install(&self, f: Fd) -> u32 {
        let mut fds = self.fds.lock().unwrap();
        let fd = (0..).find(|n| !fds.contains_key(n)).unwrap();
        fds.insert(fd, f);
        fd
    }

    pub fn close(&self, fd: u32) {
        let f = self.fds.lock().unwrap().remove(&fd);
        drop(f);
    }

    pub fn set_caps(&self, on: bool) {
        self.caps.store(on, Ordering::SeqCst);
    }

    pub fn advance(&self, ns: u64) {
        self.clock.fetch_add(ns, Ordering::SeqCst);
    }

    pub fn take_wakes(&self) -> Vec<WakeKey> {
        std::mem::take(&mut *self.wakes.lock().unwrap())
    }
}

impl BpfHost for Host {
    fn copy_from_user(&self, dst: &mut [u8], src: u64) -> Result<()> {
        let off = self.check(src, dst.len())?;
        dst.copy_from_slice(&self.mem.lock().unwrap()[off..off + dst.len()]);
        Ok(())
    }
    fn copy_to_user(&self, dst: u64, src: &[u8]) -> Result<()> {
        let off = self.check(dst, src.len())?;
        self.mem.lock().unwrap()[off..off + src.len()].copy_from_slice(src);
        Ok(())
    }
    fn strncpy_from_user(&self, dst: &mut [u8], src: u64) -> Result<usize> {
        for (i, slot) in dst.iter_mut().enumerate() {
            let off = self.check(src + i as u64, 1)?;
            let c = self.mem.lock().unwrap()[off];
            *slot = c;
            if c == 0 {
                return Ok(i);
            }
        }
        Ok(dst.len())
    }
    fn current_pid_tgid(&self) -> (u32, u32) {
        (self.tid.load(Ordering::SeqCst), 1000)
    }
    fn current_uid_gid(&self) -> (u32, u32) {
        (0, 0)
    }
    fn current_comm(&self) -> [u8; 16] {
        *b"perf-test\0\0\0\0\0\0\0"
    }
    fn capable(&self, _cap: Capability) -> bool {
        self.caps.load(Ordering::SeqCst)
    }
    fn ktime_ns(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }
    fn jiffies(&self) -> u64 {
        0
    }
    fn current_cpu(&self) -> u32 {
        self.cpu.load(Ordering::SeqCst)
    }
    fn possible_cpus(&self) -> u32 {
        CPUS
    }
    fn random_u32(&self) -> u32 {
        4
    }
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        let inner = MemfdPages::new(pages, repeat_tail, self.page_size())?;
        self.live_pages.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(Counted { inner, live: self.live_pages.clone() }))
    }
    fn install_fd(&self, file: BpfFile, _cloexec: bool) -> Result<u32> {
        Ok(self.install(Fd::Bpf(Arc::new(file))))
    }
    fn resolve_fd(&self, fd: u32) -> Result<FdTarget> {
        match self.fds.lock().unwrap().get(&fd) {
            None => err(Errno::EBADF, "fd not open"),
            Some(Fd::Bpf(f)) => Ok(f.target()),
            Some(Fd::Perf(e)) => Ok(FdTarget::PerfEvent(e.clone() as Arc<dyn FdObject>)),
            Some(Fd::Other) => Ok(FdTarget::Other),
        }
    }
    fn pin(&self, _path: &[u8], _obj: UserRef) -> Result<()> {
        err(Errno::EPERM, "no bpffs")
    }
    fn get_pinned(&self, _path: &[u8], _mode: FileMode) -> Result<BpfObject> {
        err(Errno::ENOENT, "no bpffs")
    }
    fn registry(&self) -> &Registry {
        &self.registry
    }
    fn trace_printk(&self, _msg: &[u8]) {}
    fn kallsyms_lookup_addr(&self, addr: u64, name: &mut [u8]) -> Option<Ksym> {
        let (n, start, size) = self.text.symbol(addr)?;
        let len = n.len().min(name.len());
        name[..len].copy_from_slice(&n.as_bytes()[..len]);
        Some(Ksym { start, size, name_len: len })
    }
    fn perf_event_output_target<'o>(
        &self,
        event: &'o dyn FdObject,
    ) -> Option<&'o dyn bpf_subsys::helpers::PerfEventOutput> {
        Perf::as_event(event).map(|e| e as &dyn bpf_subsys::helpers::PerfEventOutput)
    }
    fn tracing(&self) -> Option<&dyn bpf_subsys::attach::TracingHost> {
        self.tracing.get().map(|t| &**t)
    }
}

impl PerfHost for Host {
    fn bpf(&self) -> &dyn BpfHost {
        self
    }
    fn kprobes(&self) -> Option<&Kprobes> {
        self.kprobes.as_ref()
    }
    fn queue_irq_work(&self) {
        self.irq_works.fetch_add(1, Ordering::SeqCst);
    }
    fn task_exists(&self, pid: i32) -> bool {
        self.tasks.lock().unwrap().contains(&pid)
    }
    fn wake(&self, key: WakeKey) {
        self.wakes.lock().unwrap().push(key);
    }
}

/// A kernel: the host and its perf subsystem (tracing host installed).
pub struct K {
    pub h: Arc<Host>,
    pub perf: Arc<Perf>,
}

impl K {
    pub fn new() -> K {
        K::with_kprobes(true)
    }

    pub fn with_kprobes(kp: bool) -> K {
        let h = Host::new(kp);
        let perf = Perf::new(h.clone());
        let _ = h.tracing.set(perf.tracing_host());
        K { h, perf }
    }

    /// `perf_event_open` with `attr` in user memory.
    pub fn open(
        &self,
        attr: &PerfEventAttr,
        pid: i32,
        cpu: i32,
        group: Option<&Arc<PerfEvent>>,
        flags: u64,
    ) -> Result<Arc<PerfEvent>> {
        let mut a = *attr;
        if a.size == 0 {
            a.size = std::mem::size_of::<PerfEventAttr>() as u32;
        }
        let u = self.h.put(&a);
        self.perf.open(u, pid, cpu, group.cloned(), flags)
    }

    /// Installs an event as an fd.
    pub fn fd(&self, e: &Arc<PerfEvent>) -> u32 {
        self.h.install(Fd::Perf(e.clone()))
    }
}

/// A software event attribute.
pub fn sw(config: u64) -> PerfEventAttr {
    PerfEventAttr { type_: 1, config, ..PerfEventAttr::ZERO }
}

/// The errno of a result.
pub fn errno<T>(r: Result<T>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.errno,
    }
}

/// The user's view of a mapped ring.
pub struct View<'a> {
    pub ring: &'a perf_event::PerfRing,
}

impl View<'_> {
    fn base(&self) -> *mut u8 {
        self.ring.pages().as_ptr().as_ptr()
    }

    /// The metadata page.
    pub fn page(&self) -> syscall_abi::perf::PerfEventMmapPage {
        // SAFETY: the mapping is at least one page.
        let bytes = unsafe { std::slice::from_raw_parts(self.base(), 4096) };
        syscall_abi::perf::PerfEventMmapPage::from_prefix(bytes)
    }

    pub fn head(&self) -> u64 {
        // SAFETY: data_head is at 1024 in the page.
        unsafe { (*(self.base().add(1024) as *const AtomicU64)).load(Ordering::Acquire) }
    }

    pub fn set_tail(&self, tail: u64) {
        // SAFETY: data_tail is at 1032.
        unsafe { (*(self.base().add(1032) as *const AtomicU64)).store(tail, Ordering::Release) }
    }

    /// `len` data bytes from free-running position `pos`, with wrap.
    pub fn data(&self, pos: u64, len: usize) -> Vec<u8> {
        let p = self.page();
        let size = p.data_size as usize;
        (0..len)
            .map(|i| {
                let off = (pos as usize + i) % size;
                // SAFETY: inside the data area.
                unsafe { *self.base().add(p.data_offset as usize + off) }
            })
            .collect()
    }
}

/// Native-endian u64s of a byte slice.
pub fn u64s(b: &[u8]) -> Vec<u64> {
    b.chunks(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect()
}

/// The `(type, misc, size)` of the record header at `b`.
pub fn header(b: &[u8]) -> (u32, u16, u16) {
    (
        u32::from_ne_bytes(b[0..4].try_into().unwrap()),
        u16::from_ne_bytes(b[4..6].try_into().unwrap()),
        u16::from_ne_bytes(b[6..8].try_into().unwrap()),
    )
}

// ---- bpf(2) through the fake ----

use syscall_abi::bpf::{
    BpfAttr, Cmd, LinkCreatePerfEventAttr, MapCreateAttr, MapElemAttr, MapType, ProgLoadAttr, ProgType,
};

/// One raw instruction.
pub fn insn(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [opc, (dst & 0xf) | (src << 4), o[0], o[1], i[0], i[1], i[2], i[3]]
}

impl K {
    /// `bpf(cmd, part)`.
    pub fn bpf<A: Pod>(&self, cmd: Cmd, part: &A) -> isize {
        let attr = BpfAttr::from_part(part);
        let addr = self.h.put(&attr);
        let host: Arc<dyn BpfHost> = self.h.clone();
        bpf_subsys::sys_bpf(&host, cmd.into(), addr, BpfAttr::SIZE as u32)
    }

    /// Loads a program; panics on failure.
    pub fn load(&self, ty: ProgType, insns: &[[u8; 8]]) -> u32 {
        let bytes: Vec<u8> = insns.iter().flatten().copied().collect();
        let a = ProgLoadAttr {
            prog_type: ty.into(),
            insn_cnt: insns.len() as u32,
            insns: self.h.put_bytes(&bytes),
            license: self.h.put_bytes(b"GPL\0"),
            ..ProgLoadAttr::ZERO
        };
        let r = self.bpf(Cmd::ProgLoad, &a);
        assert!(r >= 0, "load failed: {r}");
        r as u32
    }

    /// Creates a map; panics on failure.
    pub fn map(&self, ty: MapType, key: u32, value: u32, max: u32) -> u32 {
        let a = MapCreateAttr {
            map_type: ty.into(),
            key_size: key,
            value_size: value,
            max_entries: max,
            ..MapCreateAttr::ZERO
        };
        let r = self.bpf(Cmd::MapCreate, &a);
        assert!(r >= 0, "map create failed: {r}");
        r as u32
    }

    /// Map update.
    pub fn update(&self, fd: u32, key: &[u8], value: &[u8]) -> isize {
        let a =
            MapElemAttr { map_fd: fd, key: self.h.put_bytes(key), value: self.h.put_bytes(value), ..MapElemAttr::ZERO };
        self.bpf(Cmd::MapUpdateElem, &a)
    }

    /// Map lookup of a u64 value.
    pub fn lookup_u64(&self, fd: u32, key: u32) -> u64 {
        let out = self.h.alloc(8);
        let a = MapElemAttr { map_fd: fd, key: self.h.put_bytes(&key.to_ne_bytes()), value: out, ..MapElemAttr::ZERO };
        assert_eq!(self.bpf(Cmd::MapLookupElem, &a), 0);
        u64::from_ne_bytes(self.h.read(out, 8).try_into().unwrap())
    }

    /// `BPF_LINK_CREATE` with `BPF_PERF_EVENT`.
    pub fn link(&self, prog_fd: u32, target_fd: u32, cookie: u64) -> isize {
        let a = LinkCreatePerfEventAttr { prog_fd, target_fd, attach_type: 41, flags: 0, bpf_cookie: cookie };
        self.bpf(Cmd::LinkCreate, &a)
    }
}

/// A program adding 1 to the u64 at key 0 of array `map_fd`, returning `ret`.
pub fn counter_prog(map_fd: u32, ret: i32) -> Vec<[u8; 8]> {
    vec![
        insn(0x62, 10, 0, -4, 0),
        insn(0xbf, 2, 10, 0, 0),
        insn(0x07, 2, 0, 0, -4),
        insn(0x18, 1, 1, 0, map_fd as i32),
        insn(0, 0, 0, 0, 0),
        insn(0x85, 0, 0, 0, 1),
        insn(0x15, 0, 0, 2, 0),
        insn(0xb7, 1, 0, 0, 1),
        insn(0xdb, 0, 1, 0, 0),
        insn(0xb7, 0, 0, 0, ret),
        insn(0x95, 0, 0, 0, 0),
    ]
}

impl Host {
    /// Ids of the loaded programs.
    pub fn registry_prog_ids(&self) -> Vec<u32> {
        let mut v = Vec::new();
        let mut from = 0;
        while let Some(id) = self.registry.next_id(bpf_subsys::object::ObjKind::Prog, from) {
            v.push(id);
            from = id + 1;
        }
        v
    }
}

impl Host {
    /// Address of a fake kernel function.
    pub fn sym(&self, name: &str) -> u64 {
        self.text.symbol_addr(name.as_bytes()).unwrap()
    }

    /// A kprobe hit at `addr` (an instruction of `len` bytes) as the CPU would take it:
    /// #BP, then the out-of-line step's #DB when the instruction was not emulated. Returns
    /// whether a probe was there.
    pub fn kprobe_hit(&self, addr: u64, len: u64) -> bool {
        let kp = self.kprobes.as_ref().unwrap();
        let stack = vec![0u64; 64];
        let sp = &stack[32] as *const u64 as u64;
        let mut regs = X86PtRegs { rip: addr + 1, rsp: sp, rdi: 42, ..X86PtRegs::ZERO };
        if !kp.handle_breakpoint(&mut regs) {
            return false;
        }
        if regs.rip != addr + len {
            regs.rip += len;
            assert!(kp.handle_debug(&mut regs));
        }
        drop(stack);
        true
    }

    /// A call of the function at `entry` that returns `ret` through its kretprobes.
    pub fn kretprobe_hit(&self, entry: u64, ret: u64) {
        let kp = self.kprobes.as_ref().unwrap();
        let mut stack = vec![0u64; 64];
        stack[32] = 0x1234_5678;
        let sp = &stack[32] as *const u64 as u64;
        let mut regs = X86PtRegs { rip: entry + 1, rsp: sp, ..X86PtRegs::ZERO };
        assert!(kp.handle_breakpoint(&mut regs));
        if regs.rip != entry + 1 {
            regs.rsp -= 8;
            regs.rip += 1;
            assert!(kp.handle_debug(&mut regs));
        }
        let tramp = kp.trampoline();
        assert_eq!(stack[32], tramp);
        let mut r = X86PtRegs { rip: tramp + 1, rsp: sp + 8, rax: ret, ..X86PtRegs::ZERO };
        assert!(kp.handle_breakpoint(&mut r));
        assert_eq!(r.rip, 0x1234_5678);
    }
}
