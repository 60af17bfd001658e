//! Helpers, bpf-to-bpf calls, callbacks, the instruction budget, invalid instructions.

use alloc::format;
use alloc::string::String;

use super::super::insn::{encode, Insn, RawInsn};
use super::super::{Limits, Vm, VmError, VmErrorKind, MAX_CALL_FRAMES};
use super::{kind, prog, TestEnv, HELPER_LOOP, HELPER_SUM, HELPER_SWALLOW};

fn run(text: &str) -> Result<u64, VmError> {
    Vm::new(&prog(text)).run(&mut TestEnv::default())
}

fn run_raw(insns: &[RawInsn]) -> Result<u64, VmError> {
    Vm::new(insns).run(&mut TestEnv::default())
}

#[test]
fn budget_stops_a_runaway_loop() {
    let err = run("ja -1\nexit").expect_err("endless");
    assert_eq!(err, VmError { pc: Some(0), kind: VmErrorKind::BudgetExceeded });
    // The budget counts executed instructions exactly: this program executes 2 + 3 * 10 + 1.
    let text = "mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit";
    let code = prog(text);
    let with = |budget| Vm::new(&code).limits(Limits { insn_budget: budget }).run(&mut TestEnv::default());
    assert_eq!(with(33), Ok(10));
    assert_eq!(kind(with(32)), VmErrorKind::BudgetExceeded);
    assert_eq!(kind(with(0)), VmErrorKind::BudgetExceeded);
}

/// A program of `frames` nested frames: main calls f1, f1 calls f2, ... each adds 1 to r0.
fn nested(frames: usize) -> String {
    let mut text = String::from("mov %r0, 0\ncall local f1\nadd %r0, 1\nexit\n");
    for i in 1..frames {
        text += &format!("f{i}:\n");
        if i + 1 < frames {
            text += &format!("call local f{}\n", i + 1);
        }
        text += "add %r0, 1\nexit\n";
    }
    text
}

#[test]
fn call_depth_is_limited_to_eight_frames() {
    assert_eq!(MAX_CALL_FRAMES, 8);
    assert_eq!(run(&nested(8)), Ok(8));
    let err = run(&nested(9)).expect_err("nine frames");
    assert_eq!(err.kind, VmErrorKind::CallDepth);
    // The failing call is the one in f7 (the 8th frame): main is 4 insns, f1..f6 3 each.
    assert_eq!(err.pc, Some(4 + 6 * 3));
}

#[test]
fn calls_keep_callee_saved_registers_and_frame_pointers() {
    let text = "
        mov %r6, 6
        mov %r9, 9
        mov %r7, %r10
        call local f
        jne %r6, 6, bad
        jne %r9, 9, bad
        jne %r7, %r10, bad
        exit
    bad:
        mov %r0, -1
        exit
    f:
        mov %r6, 0
        mov %r9, 0
        mov %r0, %r10
        sub %r0, %r7
        jeq %r0, 0, same
        mov %r0, 1
        exit
    same:
        mov %r0, 2
        exit";
    // The callee's r10 differs from the caller's; the caller's registers come back.
    assert_eq!(run(text), Ok(1));
}

#[test]
fn helpers_go_through_the_environment() {
    let text = format!("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall {HELPER_SUM}\nexit");
    let mut env = TestEnv::default();
    assert_eq!(Vm::new(&prog(&text)).run(&mut env), Ok(15));
    assert_eq!(env.helper_calls, 1);
    // Unknown helper: the environment's error, with the call's index added.
    assert_eq!(
        run("mov %r0, 0\ncall 9999\nexit"),
        Err(VmError { pc: Some(1), kind: VmErrorKind::UnknownHelper { id: 9999 } })
    );
    // callx: the helper whose id is in dst (the conformance suite's meaning).
    let text = format!("mov %r1, 40\nmov %r2, 2\nmov %r8, {HELPER_SUM}\ncall %r8\nexit");
    assert_eq!(run(&text), Ok(42));
    assert_eq!(kind(run("lddw %r8, 0x100000001\ncall %r8\nexit")), VmErrorKind::UnknownHelper { id: u32::MAX });
}

/// `bpf_loop(10, callback, &counter, 0)` where the callback adds its index to the counter on
/// the caller's stack, and stops (returns 1) at index `stop`.
fn loop_program(stop: u32) -> String {
    format!(
        "
        stdw [%r10-8], 0
        mov %r1, 10
        mov %r2, 11
        mov %r3, %r10
        add %r3, -8
        mov %r4, 0
        call {HELPER_LOOP}
        ldxdw %r1, [%r10-8]
        lsh %r0, 32
        or %r0, %r1
        exit
    callback:
        ldxdw %r3, [%r2]
        add %r3, %r1
        stxdw [%r2], %r3
        stdw [%r10-8], 99
        mov %r0, 0
        jne %r1, {stop}, +1
        mov %r0, 1
        exit"
    )
}

#[test]
fn helpers_call_back_into_subprograms() {
    // Callback at index 11 (the `callback:` label). All 10 iterations: 0+1+...+9 = 45.
    assert_eq!(run(&loop_program(100)), Ok((10 << 32) | 45));
    // Stop at index 3: 4 calls, 0+1+2+3 = 6. The callback's own stack write (99) did not
    // touch the caller's slot.
    assert_eq!(run(&loop_program(3)), Ok((4 << 32) | 6));
}

#[test]
fn callbacks_count_as_frames() {
    // bpf_loop called from the 8th frame: the callback would be the 9th.
    let mut text = String::from("call local f1\nexit\n");
    for i in 1..7 {
        text += &format!("f{i}:\ncall local f{}\nexit\n", i + 1);
    }
    // f7 is at index 2 + 6 * 2 = 14; its callback at 14 + 6.
    text += &format!("f7:\nmov %r1, 1\nmov %r2, 20\nmov %r3, 0\nmov %r4, 0\ncall {HELPER_LOOP}\nexit\n");
    text += "mov %r0, 1\nexit\n";
    let err = run(&text).expect_err("too deep");
    assert_eq!(err, VmError { pc: Some(18), kind: VmErrorKind::CallDepth });
    // From the 7th frame it fits.
    let text = text.replace("f6:\ncall local f7", "f6:\nja f7");
    assert_eq!(run(&text), Ok(1));
}

#[test]
fn a_callback_error_ends_the_run_even_if_the_helper_ignores_it() {
    // HELPER_SWALLOW discards the callback's result; the null dereference still ends the run.
    let text = format!("mov %r1, 3\ncall {HELPER_SWALLOW}\nexit\nmov %r1, 0\nldxdw %r0, [%r1]\nexit");
    assert_eq!(
        run(&text),
        Err(VmError { pc: Some(4), kind: VmErrorKind::MemoryAccess { addr: 0, len: 8, write: false } })
    );
    // A callback target outside the program.
    let text = format!("mov %r1, 1000\ncall {HELPER_SWALLOW}\nexit");
    assert_eq!(run(&text), Err(VmError { pc: Some(1), kind: VmErrorKind::PcOutOfRange { target: 1000 } }));
}

#[test]
fn control_must_stay_inside_the_program() {
    assert_eq!(run("mov %r0, 1"), Err(VmError { pc: Some(0), kind: VmErrorKind::PcOutOfRange { target: 1 } }));
    assert_eq!(run("ja +5\nexit"), Err(VmError { pc: Some(0), kind: VmErrorKind::PcOutOfRange { target: 6 } }));
    assert_eq!(run("ja -2\nexit"), Err(VmError { pc: Some(0), kind: VmErrorKind::PcOutOfRange { target: -1 } }));
    assert_eq!(
        run("jeq %r0, 0, +3\nexit"),
        Err(VmError { pc: Some(0), kind: VmErrorKind::PcOutOfRange { target: 4 } })
    );
    assert_eq!(run("call local +7\nexit"), Err(VmError { pc: Some(0), kind: VmErrorKind::PcOutOfRange { target: 8 } }));
    assert_eq!(kind(run("ja32 +100\nexit")), VmErrorKind::PcOutOfRange { target: 101 });
    assert_eq!(kind(run_raw(&[])), VmErrorKind::PcOutOfRange { target: 0 });
}

fn insn(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    encode(&Insn { opc, dst, src, off, imm })
}

#[test]
fn invalid_and_unsupported_instructions_are_errors() {
    let exit = insn(0x95, 0, 0, 0, 0);
    let invalid = [
        insn(0x00, 0, 0, 0, 0),      // LD | IMM | W
        insn(0xff, 0, 0, 0, 0),      // no such opcode
        insn(0xe7, 0, 0, 0, 0),      // ALU64 op 0xe0
        insn(0x8f, 0, 1, 0, 0),      // neg with a register source
        insn(0xdf, 0, 0, 0, 16),     // ALU64 | END | X
        insn(0xd4, 0, 0, 0, 8),      // le8
        insn(0xdc, 0, 0, 0, 0),      // be0
        insn(0x3f, 0, 1, 2, 0),      // div with offset 2
        insn(0x9c, 0, 1, 3, 0),      // mod with offset 3
        insn(0xb7, 0, 0, 8, 1),      // movsx with an immediate
        insn(0xbc, 0, 1, 32, 0),     // movsx32 into a 32-bit register
        insn(0xbf, 0, 1, 4, 0),      // movsx4
        insn(0x07, 0, 0, 1, 1),      // add with an offset
        insn(0x86, 0, 0, 0, 1),      // JMP32 | CALL
        insn(0x96, 0, 0, 0, 0),      // JMP32 | EXIT
        insn(0x0d, 0, 0, 0, 0),      // JA | X
        insn(0xe5, 0, 0, 0, 0),      // JMP op 0xe0
        insn(0x85, 0, 3, 0, 0),      // call with src 3
        insn(0x99, 0, 1, 0, 0),      // LDX | MEMSX | DW
        insn(0xa1, 0, 1, 0, 0),      // LDX mode 0xa0
        insn(0xc2, 10, 0, -8, 0),    // ST | ATOMIC
        insn(0xd3, 10, 1, -8, 0),    // STX | ATOMIC | B
        insn(0xdb, 10, 1, -8, 0x10), // atomic sub (no such op)
        insn(0xdb, 10, 1, -8, 0xe0), // xchg without fetch
        insn(0xb7, 11, 0, 0, 0),     // r11
        insn(0xbf, 0, 12, 0, 0),     // src r12
    ];
    for (i, bad) in invalid.iter().enumerate() {
        let err = run_raw(&[*bad, exit]).expect_err("invalid");
        assert_eq!(err, VmError { pc: Some(0), kind: VmErrorKind::InvalidInsn { opcode: bad[0] } }, "case {i}");
    }
    // ld_imm64: truncated, or with a bad second slot.
    assert_eq!(kind(run_raw(&[insn(0x18, 0, 0, 0, 1)])), VmErrorKind::InvalidInsn { opcode: 0x18 });
    assert_eq!(kind(run_raw(&[insn(0x18, 0, 0, 0, 1), exit, exit])), VmErrorKind::InvalidInsn { opcode: 0x18 });
    // Jumping into the second half of an ld_imm64 lands on opcode 0: invalid.
    assert_eq!(
        run_raw(&[insn(0x05, 0, 0, 1, 0), insn(0x18, 0, 0, 0, 1), insn(0, 0, 0, 0, 0), exit]),
        Err(VmError { pc: Some(2), kind: VmErrorKind::InvalidInsn { opcode: 0 } })
    );
    // Legacy packet loads and kfunc calls: unsupported.
    for opc in [0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x58] {
        assert_eq!(kind(run_raw(&[insn(opc, 0, 1, 0, 0), exit])), VmErrorKind::Unsupported { opcode: opc });
    }
    assert_eq!(kind(run_raw(&[insn(0x85, 0, 2, 0, 7), exit])), VmErrorKind::Unsupported { opcode: 0x85 });
    // ld_imm64 keeps its relocated value whatever its pseudo source.
    let lo = insn(0x18, 0, 1, 0, 0x5566_7788);
    let hi = insn(0, 0, 0, 0, 0x1122_3344);
    assert_eq!(run_raw(&[lo, hi, exit]), Ok(0x1122_3344_5566_7788));
}
