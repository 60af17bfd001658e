//! Test harness: runs the x86_64 engine on machine code in this very process.
//!
//! An RWX `mmap` holds hand-assembled functions (code area), instruction slots (slot area)
//! and data words (data area); [`TestHost`] implements `KprobeHost` over it (text_poke is a
//! copy, the symbol table is the list of placed functions). A `SIGTRAP` handler
//! (`SA_SIGINFO | SA_NODEFER`, so handlers may hit probes again) converts the ucontext to
//! `PtRegs`, calls `handle_debug` for a single-step trap (`si_code == TRAP_TRACE`) or
//! `handle_breakpoint` for an `int3`, and writes the registers back (TF included: user-mode
//! single step makes the kernel deliver `SIGTRAP` after one instruction). The handler is
//! process-wide, so tests take [`Env::new`]'s lock and run one at a time.
#![allow(dead_code)]

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};

use kprobe_arch::{KprobeHost, ProbeHandler, ProbeId, ProbeInfo, ProbeKind, ProbeSpec, Registry, X86PtRegs, SLOT_SIZE};
use syscall_abi::{err, Errno, Result};

/// Size of the test region.
const REGION: usize = 1 << 16;
/// Start of the slot area inside the region.
const SLOTS_AT: usize = 0x8000;
/// Start of the data area.
const DATA_AT: usize = 0xc000;
/// Number of slots.
const NSLOTS: usize = (DATA_AT - SLOTS_AT) / SLOT_SIZE;

/// `KprobeHost` over one RWX mapping (plus, for ERANGE tests, a far one for slots).
pub struct TestHost {
    pub base: u64,
    slot_base: u64,
    far: bool,
    syms: Mutex<Vec<(String, u64, u64)>>,
    slots: Mutex<[bool; NSLOTS]>,
    pub blocklist: Mutex<Vec<u64>>,
    pub pokes: AtomicU64,
    /// What `mask_interrupts_in_step` answers (user mode cannot change IF: false by default).
    pub mask_if: std::sync::atomic::AtomicBool,
}

/// An RWX mapping of `len` bytes: anywhere (`at` = None) or exactly at `at` if that range
/// is free (`MAP_FIXED_NOREPLACE`), else None.
fn try_map_rwx(len: usize, at: Option<u64>) -> Option<u64> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | if at.is_some() { libc::MAP_FIXED_NOREPLACE } else { 0 };
    // SAFETY: an anonymous private mapping; MAP_FIXED_NOREPLACE never replaces a mapping.
    let p = unsafe {
        libc::mmap(
            at.unwrap_or(0) as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            flags,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as u64)
}

fn map_rwx(len: usize) -> u64 {
    try_map_rwx(len, None).expect("mmap failed")
}

/// A mapping more than 4 GiB away from `base`.
fn map_rwx_far(len: usize, base: u64) -> u64 {
    (1..64u64)
        .flat_map(|k| [base.wrapping_add(k << 36), base.wrapping_sub(k << 36)])
        .filter(|&a| a > (1 << 32) && a < (1 << 47) - (1 << 32))
        .find_map(|a| try_map_rwx(len, Some(a)).filter(|&p| p.abs_diff(base) > (4 << 30)))
        .expect("no far mapping")
}

impl TestHost {
    fn new(far: bool) -> TestHost {
        let base = map_rwx(REGION);
        let slot_base = if far {
            // Slots 64 GiB (or more) away: out of RIP-relative reach of the code.
            map_rwx_far(REGION, base)
        } else {
            base + SLOTS_AT as u64
        };
        TestHost {
            base,
            slot_base,
            far,
            syms: Mutex::new(Vec::new()),
            slots: Mutex::new([false; NSLOTS]),
            blocklist: Mutex::new(Vec::new()),
            pokes: AtomicU64::new(0),
            mask_if: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn in_range(&self, addr: u64, len: usize) -> bool {
        let inside = |base: u64| addr >= base && addr.saturating_add(len as u64) <= base + REGION as u64;
        inside(self.base) || (self.far && inside(self.slot_base))
    }

    /// Number of slots in use.
    pub fn slots_used(&self) -> usize {
        self.slots.lock().unwrap().iter().filter(|&&u| u).count()
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        // SAFETY: the mappings made in `new`; the registry (the only other user) is gone.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, REGION);
            if self.far {
                libc::munmap(self.slot_base as *mut libc::c_void, REGION);
            }
        }
    }
}

impl KprobeHost for TestHost {
    fn text_poke(&self, addr: u64, bytes: &[u8]) -> Result<()> {
        if !self.in_range(addr, bytes.len()) {
            return err(Errno::EFAULT, "poke outside the test region");
        }
        self.pokes.fetch_add(1, Ordering::Relaxed);
        // SAFETY: inside the RWX mapping (checked above).
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
        Ok(())
    }

    fn text_read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if !self.in_range(addr, buf.len()) {
            return err(Errno::EFAULT, "read outside the test region");
        }
        // SAFETY: inside the mapping (checked above).
        unsafe { ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    fn alloc_insn_slot(&self) -> Result<u64> {
        let mut slots = self.slots.lock().unwrap();
        let Some(i) = slots.iter().position(|&u| !u) else { return err(Errno::ENOMEM, "no slot") };
        slots[i] = true;
        Ok(self.slot_base + (i * SLOT_SIZE) as u64)
    }

    fn free_insn_slot(&self, addr: u64) {
        let i = ((addr - self.slot_base) as usize) / SLOT_SIZE;
        let mut slots = self.slots.lock().unwrap();
        assert!(slots[i], "double free of slot {addr:#x}");
        slots[i] = false;
    }

    fn symbol_addr(&self, name: &[u8]) -> Option<u64> {
        self.syms.lock().unwrap().iter().find(|s| s.0.as_bytes() == name).map(|s| s.1)
    }

    fn symbol_of(&self, addr: u64) -> Option<(u64, u64)> {
        self.syms.lock().unwrap().iter().find(|s| addr >= s.1 && addr < s.1 + s.2).map(|s| (s.1, s.2))
    }

    fn is_blocklisted(&self, addr: u64) -> bool {
        self.blocklist.lock().unwrap().contains(&addr)
    }

    fn current_cpu(&self) -> u32 {
        // Each thread of the test process plays one CPU.
        THREAD_CPU.with(|c| *c)
    }

    fn possible_cpus(&self) -> u32 {
        2
    }

    fn mask_interrupts_in_step(&self) -> bool {
        self.mask_if.load(Ordering::Relaxed)
    }
}

/// The next thread's CPU number.
static NEXT_CPU: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// This thread's CPU number. Numbers wrap at `MAX_CPUS`: threads that trap at the same
    /// time (one test runs at a time) are consecutive, so they never share a number.
    static THREAD_CPU: u32 = NEXT_CPU.fetch_add(1, Ordering::Relaxed) % kprobe_arch::MAX_CPUS as u32;
}

/// The registry the signal handler serves.
static CURRENT: AtomicPtr<Registry> = AtomicPtr::new(ptr::null_mut());
/// One test at a time: the signal handler is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// `TRAP_TRACE`: the si_code of a single-step SIGTRAP.
const TRAP_TRACE: i32 = 2;

/// A `PtRegs` field.
type Field = fn(&mut X86PtRegs) -> &mut u64;

/// Each `PtRegs` field with its ucontext `gregs` index.
const MAP: [(Field, libc::c_int); 18] = [
    (|r| &mut r.r8, libc::REG_R8),
    (|r| &mut r.r9, libc::REG_R9),
    (|r| &mut r.r10, libc::REG_R10),
    (|r| &mut r.r11, libc::REG_R11),
    (|r| &mut r.r12, libc::REG_R12),
    (|r| &mut r.r13, libc::REG_R13),
    (|r| &mut r.r14, libc::REG_R14),
    (|r| &mut r.r15, libc::REG_R15),
    (|r| &mut r.rdi, libc::REG_RDI),
    (|r| &mut r.rsi, libc::REG_RSI),
    (|r| &mut r.rbp, libc::REG_RBP),
    (|r| &mut r.rbx, libc::REG_RBX),
    (|r| &mut r.rdx, libc::REG_RDX),
    (|r| &mut r.rax, libc::REG_RAX),
    (|r| &mut r.rcx, libc::REG_RCX),
    (|r| &mut r.rsp, libc::REG_RSP),
    (|r| &mut r.rip, libc::REG_RIP),
    (|r| &mut r.eflags, libc::REG_EFL),
];

extern "C" fn on_sigtrap(_sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let reg = CURRENT.load(Ordering::SeqCst);
    // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler; the
    // registry pointer is valid while CURRENT holds it (Env clears it before dropping).
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let gregs = &mut uc.uc_mcontext.gregs;
        let mut regs = X86PtRegs::ZERO;
        for (field, idx) in MAP {
            *field(&mut regs) = gregs[idx as usize] as u64;
        }
        regs.cs = 0x33;
        regs.ss = 0x2b;
        let handled = if reg.is_null() {
            false
        } else if (*info).si_code == TRAP_TRACE {
            (*reg).handle_debug(&mut regs)
        } else {
            (*reg).handle_breakpoint(&mut regs)
        };
        if !handled {
            let msg = format!(
                "kprobe-arch test: unhandled SIGTRAP si_code {} rip {:#x} flags {:#x}\n",
                (*info).si_code,
                regs.rip,
                regs.eflags
            );
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::abort();
        }
        for (field, idx) in MAP {
            gregs[idx as usize] = *field(&mut regs) as i64;
        }
    }
}

/// Reports a crash with the registers (a broken emulation or step shows up here).
extern "C" fn on_sigsegv(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: kernel-provided siginfo and ucontext of an SA_SIGINFO handler.
    unsafe {
        let uc = &*(ctx as *const libc::ucontext_t);
        let g = &uc.uc_mcontext.gregs;
        let msg = format!(
            "kprobe-arch test: signal {sig} addr {:#x} rip {:#x} rsp {:#x} flags {:#x} rax {:#x} rdi {:#x} rsi {:#x} (on_sigsegv at {:#x})\n",
            (*info).si_addr() as u64,
            g[libc::REG_RIP as usize],
            g[libc::REG_RSP as usize],
            g[libc::REG_EFL as usize],
            g[libc::REG_RAX as usize],
            g[libc::REG_RDI as usize],
            g[libc::REG_RSI as usize],
            on_sigsegv as *const () as usize,
        );
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::abort();
    }
}

fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a plain sigaction with an SA_SIGINFO handler.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigtrap as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut sa.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGTRAP, &sa, ptr::null_mut()), 0);
            sa.sa_sigaction = on_sigsegv as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL] {
                assert_eq!(libc::sigaction(sig, &sa, ptr::null_mut()), 0);
            }
        }
    });
}

/// One test's world: host, registry, code placement.
pub struct Env {
    pub host: Arc<TestHost>,
    reg: Option<Arc<Registry>>,
    next_code: Mutex<u64>,
    next_data: Mutex<u64>,
    _serial: MutexGuard<'static, ()>,
}

impl Env {
    pub fn new() -> Env {
        Self::with(false)
    }

    /// Slots more than 2 GiB away from the code.
    pub fn far() -> Env {
        Self::with(true)
    }

    fn with(far: bool) -> Env {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        install_handler();
        let host = Arc::new(TestHost::new(far));
        let reg = Arc::new(Registry::new(host.clone()));
        CURRENT.store(Arc::as_ptr(&reg) as *mut Registry, Ordering::SeqCst);
        let base = host.base;
        Env {
            host,
            reg: Some(reg),
            next_code: Mutex::new(base),
            next_data: Mutex::new(base + DATA_AT as u64),
            _serial: serial,
        }
    }

    pub fn reg(&self) -> &Registry {
        self.reg.as_ref().unwrap()
    }

    /// A weak handle, for handlers that call the registry.
    pub fn reg_weak(&self) -> std::sync::Weak<Registry> {
        Arc::downgrade(self.reg.as_ref().unwrap())
    }

    /// Where the next function goes (for rel32 computations).
    pub fn next_func(&self) -> u64 {
        *self.next_code.lock().unwrap()
    }

    /// Places `code` as function `name` (64-byte aligned); returns its address.
    pub fn func(&self, name: &str, code: &[u8]) -> u64 {
        let mut next = self.next_code.lock().unwrap();
        let addr = *next;
        assert!(addr + code.len() as u64 <= self.host.base + SLOTS_AT as u64, "code area full");
        self.host.text_poke(addr, code).unwrap();
        self.host.syms.lock().unwrap().push((name.to_string(), addr, code.len() as u64));
        *next = (addr + code.len() as u64 + 63) & !63;
        addr
    }

    /// Places a data word; returns its address.
    pub fn data(&self, value: u64) -> u64 {
        let mut next = self.next_data.lock().unwrap();
        let addr = *next;
        *next += 8;
        self.set_data(addr, value);
        addr
    }

    pub fn set_data(&self, addr: u64, value: u64) {
        self.host.text_poke(addr, &value.to_le_bytes()).unwrap();
    }

    pub fn get_data(&self, addr: u64) -> u64 {
        let mut b = [0u8; 8];
        self.host.text_read(addr, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    pub fn bytes(&self, addr: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.host.text_read(addr, &mut b).unwrap();
        b
    }

    pub fn kprobe(&self, addr: u64, handler: Arc<dyn ProbeHandler>) -> ProbeId {
        self.reg().register(ProbeSpec { addr, kind: ProbeKind::Kprobe, handler, enabled: true }).unwrap()
    }

    pub fn kretprobe(&self, addr: u64, maxactive: u32, handler: Arc<dyn ProbeHandler>) -> ProbeId {
        self.reg()
            .register(ProbeSpec { addr, kind: ProbeKind::Kretprobe { maxactive }, handler, enabled: true })
            .unwrap()
    }

    pub fn hits(&self, id: ProbeId) -> (u64, u64) {
        let s = self.reg().stats(id).unwrap();
        (s.hits, s.missed)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        CURRENT.store(ptr::null_mut(), Ordering::SeqCst);
        drop(self.reg.take());
        // Every slot must be back once the registry is gone.
        if !std::thread::panicking() {
            assert_eq!(self.host.slots_used(), 0, "slots leaked");
        }
    }
}

/// `extern "C" fn(a, b, c, d) -> u64` at `addr`.
pub fn call4(addr: u64, a: u64, b: u64, c: u64, d: u64) -> u64 {
    // SAFETY: the tests place SysV-ABI functions at these addresses.
    let f: extern "C" fn(u64, u64, u64, u64) -> u64 = unsafe { std::mem::transmute(addr as usize) };
    f(a, b, c, d)
}

pub fn call2(addr: u64, a: u64, b: u64) -> u64 {
    call4(addr, a, b, 0, 0)
}

pub fn call1(addr: u64, a: u64) -> u64 {
    call4(addr, a, 0, 0, 0)
}

/// `rel32` of a 5-byte `call`/`jmp` at `at` to `target`.
pub fn rel32(at: u64, insn_len: u64, target: u64) -> [u8; 4] {
    let d = target.wrapping_sub(at + insn_len) as i64;
    i32::try_from(d).unwrap().to_le_bytes()
}

/// What a handler saw.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub tag: &'static str,
    pub kind: char,
    pub regs: X86PtRegs,
}

pub type Hook = Box<dyn Fn(&ProbeInfo, &mut X86PtRegs) + Send + Sync>;

/// A handler recording every call into a log shared by several probes.
pub struct Recorder {
    pub tag: &'static str,
    pub log: Arc<Mutex<Vec<Seen>>>,
    pub pre_hook: Option<Hook>,
    pub ret_hook: Option<Hook>,
}

impl Recorder {
    pub fn new(tag: &'static str, log: &Arc<Mutex<Vec<Seen>>>) -> Arc<Recorder> {
        Arc::new(Recorder { tag, log: log.clone(), pre_hook: None, ret_hook: None })
    }

    pub fn with_pre(tag: &'static str, log: &Arc<Mutex<Vec<Seen>>>, hook: Hook) -> Arc<Recorder> {
        Arc::new(Recorder { tag, log: log.clone(), pre_hook: Some(hook), ret_hook: None })
    }

    pub fn with_ret(tag: &'static str, log: &Arc<Mutex<Vec<Seen>>>, hook: Hook) -> Arc<Recorder> {
        Arc::new(Recorder { tag, log: log.clone(), pre_hook: None, ret_hook: Some(hook) })
    }

    fn record(&self, kind: char, regs: &X86PtRegs) {
        self.log.lock().unwrap().push(Seen { tag: self.tag, kind, regs: *regs });
    }
}

impl ProbeHandler for Recorder {
    fn pre(&self, p: &ProbeInfo, regs: &mut X86PtRegs) {
        self.record('p', regs);
        if let Some(h) = &self.pre_hook {
            h(p, regs);
        }
    }

    fn post(&self, _p: &ProbeInfo, regs: &mut X86PtRegs) {
        self.record('o', regs);
    }

    fn ret(&self, p: &ProbeInfo, regs: &mut X86PtRegs) {
        self.record('r', regs);
        if let Some(h) = &self.ret_hook {
            h(p, regs);
        }
    }
}

pub fn new_log() -> Arc<Mutex<Vec<Seen>>> {
    Arc::new(Mutex::new(Vec::new()))
}

/// The (tag, kind) sequence of a log.
pub fn kinds(log: &Arc<Mutex<Vec<Seen>>>) -> Vec<(&'static str, char)> {
    log.lock().unwrap().iter().map(|s| (s.tag, s.kind)).collect()
}

/// Takes the log's entries.
pub fn take(log: &Arc<Mutex<Vec<Seen>>>) -> Vec<Seen> {
    std::mem::take(&mut *log.lock().unwrap())
}

/// `lea rax, [rdi+rsi]; ret` — a + b. Bytes: 48 8D 04 37 (REX.W lea, ModRM 04 = rax with SIB,
/// SIB 37 = base rdi + index rsi*1), C3 (ret). The `ret` is at +4.
pub const ADD2: &[u8] = &[0x48, 0x8d, 0x04, 0x37, 0xc3];
