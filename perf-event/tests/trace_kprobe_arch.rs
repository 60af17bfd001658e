//! kprobe events on the real engine: `RegistryArm` over a `kprobe_arch::Registry` whose host
//! is a buffer standing in for kernel text. Nothing executes: the tests call the trap entries
//! as the kernel's #BP handler would and look at the bytes, the records and the counters.

mod trace_util;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use kprobe_arch::{KprobeHost, Registry, SLOT_SIZE};
use perf_event::trace::{KprobeSource, RegistryArm, TraceFs, TraceRegistry, X86PtRegs};
use syscall_abi::{err, Errno, Result};
use trace_util::{errno, read, Capture, FakeEnv};

/// `push rbp; mov rbp, rsp; xor eax, eax; pop rbp; ret`.
const FUNC: [u8; 8] = [0x55, 0x48, 0x89, 0xe5, 0x31, 0xc0, 0x5d, 0xc3];
const TEXT: usize = 0x2000;
const SLOTS_AT: usize = 0x1000;

struct Text {
    mem: Box<[AtomicU8]>,
    slots: Mutex<Vec<bool>>,
}

impl Text {
    fn new() -> Arc<Text> {
        let mem: Box<[AtomicU8]> = (0..TEXT).map(|_| AtomicU8::new(0xcc)).collect();
        for (i, b) in FUNC.iter().enumerate() {
            mem[i].store(*b, Ordering::Relaxed);
        }
        Arc::new(Text { mem, slots: Mutex::new(vec![false; (TEXT - SLOTS_AT) / SLOT_SIZE]) })
    }
    fn base(&self) -> u64 {
        self.mem.as_ptr() as u64
    }
    fn byte(&self, off: usize) -> u8 {
        self.mem[off].load(Ordering::Relaxed)
    }
    fn index(&self, addr: u64, len: usize) -> Result<usize> {
        let off = usize::try_from(addr.wrapping_sub(self.base())).map_err(|_| Errno::EFAULT)?;
        if off.checked_add(len).is_none_or(|end| end > TEXT) {
            return err(Errno::EFAULT, "outside the text");
        }
        Ok(off)
    }
}

impl KprobeHost for Text {
    fn text_poke(&self, addr: u64, bytes: &[u8]) -> Result<()> {
        let off = self.index(addr, bytes.len())?;
        for (i, b) in bytes.iter().enumerate() {
            self.mem[off + i].store(*b, Ordering::Relaxed);
        }
        Ok(())
    }
    fn text_read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let off = self.index(addr, buf.len())?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.mem[off + i].load(Ordering::Relaxed);
        }
        Ok(())
    }
    fn alloc_insn_slot(&self) -> Result<u64> {
        let mut slots = self.slots.lock().unwrap();
        let Some(i) = slots.iter().position(|u| !u) else { return err(Errno::ENOMEM, "no slot") };
        slots[i] = true;
        Ok(self.base() + (SLOTS_AT + i * SLOT_SIZE) as u64)
    }
    fn free_insn_slot(&self, addr: u64) {
        if let Ok(off) = self.index(addr, SLOT_SIZE) {
            self.slots.lock().unwrap()[(off - SLOTS_AT) / SLOT_SIZE] = false;
        }
    }
    fn symbol_addr(&self, name: &[u8]) -> Option<u64> {
        (name == b"func").then(|| self.base())
    }
    fn symbol_of(&self, addr: u64) -> Option<(u64, u64)> {
        (addr >= self.base() && addr < self.base() + FUNC.len() as u64).then(|| (self.base(), FUNC.len() as u64))
    }
}

struct Source {
    reg: Registry,
    base: u64,
}

impl KprobeSource for Source {
    fn kprobes(&self) -> Option<&Registry> {
        Some(&self.reg)
    }
    fn symbol_name(&self, addr: u64) -> Option<(String, u64, u64)> {
        (addr >= self.base && addr < self.base + 8).then(|| ("func".to_string(), addr - self.base, 8))
    }
}

/// What the CPU does after the breakpoint handler sent it to the slot: runs the copied
/// instruction (`len` bytes; its effect on registers other than rip is the caller's), then
/// traps with #DB; the engine moves rip back to `resume`.
fn step(reg: &Registry, regs: &mut X86PtRegs, len: u64, resume: u64) {
    assert_ne!(regs.rip, resume, "expected an out-of-line step");
    regs.rip += len;
    assert!(reg.handle_debug(regs));
    assert_eq!(regs.rip, resume);
}

fn setup() -> (Arc<Text>, Arc<Source>, Arc<TraceRegistry>, TraceFs) {
    let text = Text::new();
    let source = Arc::new(Source { reg: Registry::new(text.clone()), base: text.base() });
    let reg = TraceRegistry::new(FakeEnv::new());
    reg.set_probe_arm(RegistryArm::new(source.clone()));
    let fs = TraceFs::new(reg.clone());
    (text, source, reg, fs)
}

#[test]
fn kprobe_event_arms_the_engine_and_records_hits() {
    let (text, source, reg, fs) = setup();
    let base = text.base();
    assert_eq!(errno(fs.write_file("kprobe_events", b"p func+2", true)), Errno::EILSEQ);
    assert_eq!(errno(fs.write_file("kprobe_events", b"p nosuch", true)), Errno::ENOENT);
    assert_eq!(errno(fs.write_file("kprobe_events", b"p func+8", true)), Errno::EINVAL);
    fs.write_file("kprobe_events", b"p:fp func+1 x=%di:x64\n", true).unwrap();
    assert_eq!(text.byte(1), 0x48, "registered disabled: text untouched");
    let ev = reg.by_name("kprobes", "fp").unwrap();
    let cap = Arc::new(Capture::default());
    let h = ev.attach(cap.clone()).unwrap();
    assert_eq!(text.byte(1), 0xcc, "armed by the first consumer");
    fs.write_file("events/kprobes/fp/enable", b"1", true).unwrap();
    let mut regs = X86PtRegs { rip: base + 2, rdi: 0xabc, ..X86PtRegs::default() };
    assert!(source.reg.handle_breakpoint(&mut regs));
    let recs = cap.take();
    assert_eq!(recs.len(), 1);
    assert_eq!(u64::from_le_bytes(recs[0][8..16].try_into().unwrap()), base + 1);
    assert_eq!(u64::from_le_bytes(recs[0][16..24].try_into().unwrap()), 0xabc);
    let line = trace_util::drain_pipe(&fs);
    assert!(line.ends_with(": fp: (func+0x1/0x8) x=0xabc\n"), "{line}");
    assert!(read(&fs, "kprobe_profile").starts_with("  fp "));
    // The displaced `mov rbp, rsp` (3 bytes) runs out of line; its single-step trap ends it.
    step(&source.reg, &mut regs, 3, base + 4);
    assert_eq!(errno(fs.write_file("kprobe_events", b"-:fp", true)), Errno::EBUSY);
    drop(h);
    fs.write_file("events/kprobes/fp/enable", b"0", true).unwrap();
    assert_eq!(text.byte(1), 0x48, "disarmed: original byte back");
    drop(ev);
    fs.write_file("kprobe_events", b"-:fp", true).unwrap();
    assert!(source.reg.lookup(base + 1).is_empty(), "unregistered");
}

#[test]
fn kretprobe_event_records_return() {
    let (text, source, reg, fs) = setup();
    let base = text.base();
    assert_eq!(errno(fs.write_file("kprobe_events", b"r func+1", true)), Errno::EINVAL);
    fs.write_file("kprobe_events", b"r:fr func rv=$retval:s32", true).unwrap();
    let ev = reg.by_name("kprobes", "fr").unwrap();
    let cap = Arc::new(Capture::default());
    let _h = ev.attach(cap.clone()).unwrap();
    assert_eq!(text.byte(0), 0xcc);
    // A call: the return address on a real stack.
    let mut stack = vec![0u64; 64];
    stack[32] = 0x1234_5678;
    let sp = &stack[32] as *const u64 as u64;
    let mut regs = X86PtRegs { rip: base + 1, rsp: sp, rbp: 7, ..X86PtRegs::default() };
    assert!(source.reg.handle_breakpoint(&mut regs));
    if regs.rip != base + 1 {
        // `push rbp` stepped out of line rather than emulated.
        regs.rsp -= 8;
        step(&source.reg, &mut regs, 1, base + 1);
    }
    let tramp = source.reg.trampoline();
    assert_eq!(stack[32], tramp, "return address replaced by the trampoline");
    // The function returns to the trampoline.
    let mut ret = X86PtRegs { rip: tramp + 1, rsp: sp + 8, rax: (-5i64) as u64, ..X86PtRegs::default() };
    assert!(source.reg.handle_breakpoint(&mut ret));
    assert_eq!(ret.rip, 0x1234_5678);
    let recs = cap.take();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.len(), 28);
    assert_eq!(u64::from_le_bytes(r[8..16].try_into().unwrap()), base);
    assert_eq!(u64::from_le_bytes(r[16..24].try_into().unwrap()), 0x1234_5678);
    assert_eq!(i32::from_le_bytes(r[24..28].try_into().unwrap()), -5);
    drop(stack);
}
