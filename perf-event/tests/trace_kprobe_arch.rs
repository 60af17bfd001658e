//! kprobe events on the real engine: `RegistryArm` over a `kprobe_arch::Registry` whose host
//! is a buffer standing in for kernel text. Nothing executes: the tests call the trap entries
//! as the kernel's #BP handler would and look at the bytes, the records and the counters.

mod fake_text;
mod trace_util;

use std::sync::Arc;

use syscall_abi::Errno;

use fake_text::Text;
use kprobe_arch::Registry;
use perf_event::trace::{KprobeSource, RegistryArm, TraceFs, TraceRegistry, X86PtRegs};
use trace_util::{errno, read, Capture, FakeEnv};

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
    let text = Text::new(&[("func", 0)]);
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
    assert_eq!(text.byte(text.base() + 1), 0x48, "registered disabled: text untouched");
    let ev = reg.by_name("kprobes", "fp").unwrap();
    let cap = Arc::new(Capture::default());
    let h = ev.attach(cap.clone()).unwrap();
    assert_eq!(text.byte(text.base() + 1), 0xcc, "armed by the first consumer");
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
    assert_eq!(text.byte(text.base() + 1), 0x48, "disarmed: original byte back");
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
    assert_eq!(text.byte(text.base()), 0xcc);
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
