//! Every access is checked: violations end the run with an error, never a crash.

use super::super::{Region, Vm, VmError, VmErrorKind, MAX_BPF_STACK};
use super::{kind, prog, TestEnv, HELPER_INC};

fn run_ctx(text: &str, ctx: Region<'_>) -> Result<u64, VmError> {
    Vm::new(&prog(text)).context(ctx).run(&mut TestEnv::default())
}

fn run(text: &str) -> Result<u64, VmError> {
    Vm::new(&prog(text)).run(&mut TestEnv::default())
}

fn access(addr: u64, len: u64, write: bool) -> VmErrorKind {
    VmErrorKind::MemoryAccess { addr, len, write }
}

#[test]
fn stack_accesses_stay_inside_the_frame() {
    // The whole 512 bytes below r10 are usable.
    assert_eq!(MAX_BPF_STACK, 512);
    assert_eq!(run("stb [%r10-512], 7\nldxb %r0, [%r10-512]\nexit"), Ok(7));
    assert_eq!(run("stdw [%r10-8], 9\nldxdw %r0, [%r10-8]\nexit"), Ok(9));
    // One byte below, at r10 itself, straddling the top: errors naming the exact access.
    // The program first saves r10 into the context so the test knows the frame pointer.
    for (access_line, off, len, write) in [
        ("ldxb %r0, [%r10-513]", -513i64, 1, false),
        ("stdw [%r10+0], 1", 0, 8, true),
        ("ldxdw %r0, [%r10-4]", -4, 8, false),
        ("stw [%r10+8], 1", 8, 4, true),
        ("ldxh %r0, [%r10-32768]", -32768, 2, false),
    ] {
        let mut fp = [0u8; 8];
        let text = format!("stxdw [%r1], %r10\n{access_line}\nexit");
        let err = run_ctx(&text, Region::new_mut(&mut fp)).expect_err(access_line);
        let fp = u64::from_ne_bytes(fp);
        assert_eq!(
            err,
            VmError { pc: Some(1), kind: access(fp.wrapping_add(off as u64), len, write) },
            "{access_line}"
        );
    }
}

#[test]
fn context_bounds_and_writability() {
    let mut ctx = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let base = ctx.as_ptr() as u64;
    // In bounds: fine. Crossing the end by one byte: an error naming the access.
    assert_eq!(
        run_ctx("ldxw %r0, [%r1+4]\nexit", Region::new_mut(&mut ctx)),
        Ok(u64::from(u32::from_ne_bytes([5, 6, 7, 8])))
    );
    let err = run_ctx("ldxw %r0, [%r1+5]\nexit", Region::new_mut(&mut ctx)).expect_err("past the end");
    assert_eq!(err, VmError { pc: Some(0), kind: access(base + 5, 4, false) });
    let err = run_ctx("ldxb %r0, [%r1-1]\nexit", Region::new_mut(&mut ctx)).expect_err("before the start");
    assert_eq!(err.kind, access(base.wrapping_sub(1), 1, false));

    // A read-only context can be read, not written, not used by atomics.
    let ro = [0u8; 8];
    let ro_base = ro.as_ptr() as u64;
    assert_eq!(run_ctx("ldxdw %r0, [%r1]\nexit", Region::new(&ro)), Ok(0));
    assert_eq!(kind(run_ctx("stb [%r1+3], 1\nexit", Region::new(&ro))), access(ro_base + 3, 1, true));
    assert_eq!(kind(run_ctx("stxw [%r1], %r1\nexit", Region::new(&ro))), access(ro_base, 4, true));
    let atomic = "mov %r2, 1\nlock add [%r1], %r2\nexit";
    assert_eq!(kind(run_ctx(atomic, Region::new(&ro))), access(ro_base, 8, true));
    assert_eq!(ro, [0; 8]);

    // The writable one is written.
    assert_eq!(run_ctx("stw [%r1], 0x01020304\nmov %r0, 0\nexit", Region::new_mut(&mut ctx)), Ok(0));
    assert_eq!(ctx[..4], 0x01020304u32.to_ne_bytes());
}

#[test]
fn null_and_wild_pointers_are_errors() {
    assert_eq!(run("mov %r1, 0\nldxdw %r0, [%r1]\nexit"), Err(VmError { pc: Some(1), kind: access(0, 8, false) }));
    assert_eq!(run("mov %r1, 0\nstb [%r1+16], 1\nexit"), Err(VmError { pc: Some(1), kind: access(16, 1, true) }));
    // Address arithmetic wraps; the check does not overflow.
    assert_eq!(kind(run("lddw %r1, 0xffffffffffffffff\nldxdw %r0, [%r1]\nexit")), access(u64::MAX, 8, false));
    assert_eq!(kind(run("lddw %r1, 0xfffffffffffffffc\nldxdw %r0, [%r1+2]\nexit")), access(u64::MAX - 1, 8, false));
}

#[test]
fn misaligned_atomics_are_errors() {
    let mut ctx = [0u64; 2];
    let bytes = unsafe_bytes(&mut ctx);
    let base = bytes.as_ptr() as u64;
    let text = "mov %r2, 1\nlock add [%r1+4], %r2\nexit";
    assert_eq!(kind(run_ctx(text, Region::new_mut(bytes))), VmErrorKind::MisalignedAtomic { addr: base + 4 });
    let text = "mov %r2, 1\nlock add32 [%r1+2], %r2\nexit";
    let bytes = unsafe_bytes(&mut ctx);
    assert_eq!(kind(run_ctx(text, Region::new_mut(bytes))), VmErrorKind::MisalignedAtomic { addr: base + 2 });
    // Aligned: fine, unaligned plain loads too.
    let text = "mov %r2, 5\nlock add32 [%r1+4], %r2\nldxdw %r0, [%r1+1]\nexit";
    let bytes = unsafe_bytes(&mut ctx);
    assert!(run_ctx(text, Region::new_mut(bytes)).is_ok());
    assert_eq!(ctx[0], 5u64 << 32);
}

/// The bytes of an aligned buffer.
fn unsafe_bytes(words: &mut [u64; 2]) -> &mut [u8] {
    // SAFETY: u64 has no padding and any byte pattern is a valid u64; the slice borrows
    // `words` exclusively for its lifetime.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), 16) }
}

#[test]
fn regions_and_environment_memory() {
    let mut pkt = [0xaau8; 4];
    let other = [0x55u8; 4];
    let (pkt_addr, other_addr) = (pkt.as_ptr() as u64, other.as_ptr() as u64);
    let text = format!("lddw %r2, {pkt_addr:#x}\nldxb %r0, [%r2+3]\nstb [%r2], 1\nexit");
    let regions = [Region::new_mut(&mut pkt)];
    assert_eq!(Vm::new(&prog(&text)).regions(&regions).run(&mut TestEnv::default()), Ok(0xaa));
    // Without the region: not accessible.
    let text = format!("lddw %r2, {other_addr:#x}\nldxb %r0, [%r2+3]\nexit");
    assert_eq!(kind(Vm::new(&prog(&text)).run(&mut TestEnv::default())), access(other_addr + 3, 1, false));
    // Approved by the environment, read-only: reads work, writes do not.
    let mut env = TestEnv { approved: vec![(other_addr, 4, false)], ..TestEnv::default() };
    assert_eq!(Vm::new(&prog(&text)).run(&mut env), Ok(0x55));
    let text = format!("lddw %r2, {other_addr:#x}\nstb [%r2], 0\nexit");
    assert_eq!(kind(Vm::new(&prog(&text)).run(&mut env)), access(other_addr, 1, true));
    // An approved range does not extend past its end.
    let text = format!("lddw %r2, {other_addr:#x}\nldxw %r0, [%r2+1]\nexit");
    assert_eq!(kind(Vm::new(&prog(&text)).run(&mut env)), access(other_addr + 1, 4, false));
    assert_eq!(other, [0x55; 4]);
}

#[test]
fn callee_may_use_the_callers_stack_but_not_the_reverse() {
    // The callee reads and writes through a pointer to its caller's stack.
    let text = "
        stdw [%r10-8], 40
        mov %r1, %r10
        add %r1, -8
        call local f
        ldxdw %r0, [%r10-8]
        exit
    f:
        ldxdw %r2, [%r1]
        add %r2, 2
        stxdw [%r1], %r2
        mov %r0, 0
        exit";
    assert_eq!(run(text), Ok(42));
    // A pointer into a callee's stack is dead once the callee returned.
    let text = "
        call local f
        ldxdw %r0, [%r0]
        exit
    f:
        stdw [%r10-8], 1
        mov %r0, %r10
        add %r0, -8
        exit";
    let err = run(text).expect_err("dangling");
    assert!(matches!(err.kind, VmErrorKind::MemoryAccess { len: 8, write: false, .. }), "{err}");
    assert_eq!(err.pc, Some(1));
}

#[test]
fn helpers_access_program_memory_with_checks() {
    // HELPER_INC increments the u64 its argument points to, through ActiveRun::read/write.
    let text = format!("stdw [%r10-8], 41\nmov %r1, %r10\nadd %r1, -8\ncall {HELPER_INC}\nldxdw %r0, [%r10-8]\nexit");
    assert_eq!(run(&text), Ok(42));
    // A bad pointer: the helper refuses, the error carries the call's index.
    let text = format!("mov %r1, 8\ncall {HELPER_INC}\nexit");
    assert_eq!(run(&text), Err(VmError { pc: Some(1), kind: VmErrorKind::HelperFault { id: HELPER_INC } }));
    // Read-only context: readable by the helper, not writable.
    let ro = 5u64.to_ne_bytes();
    let text = format!("call {HELPER_INC}\nexit");
    assert_eq!(kind(run_ctx(&text, Region::new(&ro))), VmErrorKind::HelperFault { id: HELPER_INC });
    assert_eq!(u64::from_ne_bytes(ro), 5);
}
