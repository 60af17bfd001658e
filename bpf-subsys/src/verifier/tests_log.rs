//! The log: attribute checks, Linux 6.1's writing, reset and `ENOSPC` rules, the level-1
//! trace, and the instruction text.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use syscall_abi::Errno;

use super::*;
use crate::verifier::disasm::Disasm;

/// The last line with `states` checkpoints kept and none compared.
fn processed_states(n: u32, states: u32) -> String {
    format!(
        "processed {n} insns (limit 1000000) max_states_per_insn 0 total_states {states} peak_states {states} \
         mark_read 0\n"
    )
}

fn processed(n: u32) -> String {
    processed_states(n, 0)
}

/// The state Linux prints before the first instruction of a kprobe program.
const ENTRY: &str = "0: R1=ctx(off=0,imm=0) R10=fp0\n";

#[test]
fn log_attributes_are_checked_like_linux() {
    let max = u32::MAX >> 2;
    let cases: [(u32, bool, u32, bool); 13] = [
        (0, false, 0, true),
        (1, true, 128, true),
        (1, true, 127, false),
        (1, true, max, true),
        (1, true, max + 1, false),
        (0, true, 4096, false),
        (1, false, 4096, false),
        (1, true, 0, false),
        (0, false, 4096, false),
        (8, true, 4096, false),
        (7, true, 4096, true),
        (4, true, 4096, true),
        (2, true, 4096, true),
    ];
    for (level, buf, size, ok) in cases {
        let r = VerifierLog::new(level, buf, size);
        assert_eq!(r.is_ok(), ok, "level {level} buf {buf} size {size}");
        if let Err(e) = r {
            assert_eq!(e.errno, Errno::EINVAL);
        }
    }
}

#[test]
fn level_zero_writes_nothing() {
    let insns = prog("mov %r0, %r2\nexit");
    let input = VerifierInput::new(&insns, syscall_abi::bpf::ProgType::Kprobe);
    let mut ops = TracingHelpers { prog_type: input.prog_type, privileged: true };
    let mut log = VerifierLog::disabled();
    let err = verify(&input, &mut ops, &mut log).unwrap_err();
    assert_eq!(err.errno, Errno::EACCES);
    assert_eq!(err.msg, "R%d !read_ok");
    assert!(log.user_bytes().is_empty());
}

#[test]
fn level_one_shows_the_failing_path() {
    let (r, log) = check(&prog("mov %r0, %r2\nexit"));
    assert!(r.is_err());
    assert_eq!(log, format!("{ENTRY}0: (bf) r0 = r2\nR2 !read_ok\n{}", processed(1)));

    // The fall-through path succeeds and is erased back to the branch; the jump target's
    // path fails. The fall-through path had put R1 on the jump's line (the newline goes,
    // padding and `; R1=...` come), and the reset to the branch cuts that line after the
    // first padding byte: Linux 6.1's `print_insn_state` and `pop_stack` do the same.
    let (_, log) = check(&prog("jeq %r1, 0, +2\nmov %r0, 0\nexit\nmov %r0, %r4\nexit"));
    assert_eq!(
        log,
        format!(
            "{ENTRY}0: (15) if r1 == 0x0 goto pc+2 3: R1=ctx(off=0,imm=0) R10=fp0\n3: (bf) r0 = r4\nR4 !read_ok\n{}",
            processed_states(4, 2)
        )
    );

    // Into a callee and back.
    let (_, log) = check(&prog("call local f\nexit\nf:\nmov %r0, 1\nexit"));
    assert_eq!(log, processed_states(4, 1), "success clears the trace at level 1");
    let (_, log) = check(&prog("mov %r6, 0\ncall local f\nmov %r0, %r7\nexit\nf:\nmov %r0, 1\nexit"));
    assert_eq!(
        log,
        format!(
            "{ENTRY}0: (b7) r6 = 0                        ; R6_w=0\n1: (85) call pc+2\ncaller:\n R6_w=0 R10=fp0\n\
             callee:\n frame1: R1=ctx(off=0,imm=0) R10=fp0\n4: frame1: R1=ctx(off=0,imm=0)\n\
             4: (b7) r0 = 1                        ; frame1: R0_w=1\n5: (95) exit\nreturning from callee:\n\
             \x20frame1: R0_w=1 R1=ctx(off=0,imm=0) R10=fp0\nto caller at 2:\n R0_w=1 R6_w=0 R10=fp0\n2: R0=1\n\
             2: (bf) r0 = r7\nR7 !read_ok\n{}",
            processed_states(5, 1)
        )
    );
}

#[test]
fn errors_before_the_check_pass_have_no_trace() {
    let (_, log) = check(&prog("mov %r0, 0"));
    assert_eq!(log, format!("last insn is not an exit or jmp\n{}", processed(0)));
}

#[test]
fn level_two_keeps_the_trace() {
    let load = Load { log_level: 2, ..Load::default() };
    let (r, log) = check_with(&prog("jeq %r1, 0, +1\nmov %r0, 0\nmov %r0, 1\nexit"), load);
    assert!(r.is_ok(), "{log}");
    // R0 loses its `_w` at 2, where a checkpoint starts (this pass keeps one at every
    // prune point; Linux 6.1 waits for 2 jumps and 8 instructions, see the report).
    let want =
        "func#0 @0\n0: R1=ctx(off=0,imm=0) R10=fp0\n0: (15) if r1 == 0x0 goto pc+1        ; R1=ctx(off=0,imm=0)\n\
                1: (b7) r0 = 0                        ; R0=0\n2: (b7) r0 = 1                        ; R0_w=1\n\
                3: (95) exit\n\nfrom 0 to 2: safe\n";
    assert_eq!(log, format!("{want}{}", processed_states(4, 2)));
}

#[test]
fn stats_level() {
    let load = Load { log_level: 4, ..Load::default() };
    let (_, log) = check_with(&prog("stdw [%r10-8], 0\ncall local f\nexit\nf:\nmov %r0, 0\nexit"), load);
    assert_eq!(log, format!("verification time 0 usec\nstack depth 8+0\n{}", processed_states(5, 1)));
    // Level 4 alone still logs the error line, without a trace.
    let (_, log) = check_with(&prog("mov %r0, %r3\nexit"), load);
    assert!(log.starts_with("R3 !read_ok\nverification time 0 usec\n"), "{log}");
}

#[test]
fn a_full_log_is_enospc_even_for_a_good_program() {
    let mut text = String::new();
    for _ in 0..20 {
        text.push_str("mov %r0, 0\n");
    }
    text.push_str("exit");
    let insns = prog(&text);
    let small = Load { log_size: 128, ..Load::default() };
    let (r, log) = check_with(&insns, small);
    assert_eq!(r.unwrap_err().errno, Errno::ENOSPC);
    assert_eq!(log.len(), 127);
    assert!(
        log.starts_with("0: R1=ctx(off=0,imm=0) R10=fp0\n0: (b7) r0 = 0                        ; R0_w=0\n"),
        "{log}"
    );
    // With room, the same program loads and the log is only the summary.
    let (r, log) = check(&insns);
    assert!(r.is_ok());
    assert_eq!(log, processed(21));
    // ENOSPC also replaces a verification error.
    let mut failing = insns.clone();
    failing.insert(20, raw(0xbf, 0, 5, 0, 0));
    let (r, _) = check_with(&failing, small);
    assert_eq!(r.unwrap_err().errno, Errno::ENOSPC);
    // Level 0 never runs out.
    let (r, _) = check_with(&insns, Load { log_level: 0, ..Load::default() });
    assert!(r.is_ok());
}

#[test]
fn the_user_buffer_holds_what_linux_writes() {
    let mut log = VerifierLog::new(1, true, 128).expect("valid");
    log.write_str("hello\n");
    assert_eq!(log.user_bytes(), b"hello\n\0");
    log.reset(2);
    log.write_str("X");
    assert_eq!(log.text(), "heX");
    // The reset leaves older bytes after the new NUL, as on Linux.
    assert_eq!(log.user_bytes(), b"heX\0o\n\0");
    assert_eq!(log.len_used(), 3);

    // A line that does not fit is cut; then the log is full: no writes, no resets.
    let long: String = core::iter::repeat_n('a', 200).collect();
    log.write_str(&long);
    assert_eq!(log.len_used(), 127);
    assert!(log.is_full() && !log.is_needed());
    assert_eq!(log.user_bytes().len(), 128);
    assert_eq!(log.user_bytes()[127], 0);
    log.write_str("more");
    log.reset(0);
    assert_eq!(log.len_used(), 127);

    // Exactly size - 1 bytes is already "full" (Linux 6.1: len_used >= len_total - 1).
    let mut exact = VerifierLog::new(1, true, 128).expect("valid");
    let fill: String = core::iter::repeat_n('b', 127).collect();
    exact.write_str(&fill);
    assert!(exact.is_full());

    // One write is at most 1023 bytes.
    let mut big = VerifierLog::new(1, true, 4096).expect("valid");
    let line: String = core::iter::repeat_n('c', 2000).collect();
    big.write_str(&line);
    assert_eq!(big.len_used(), 1023);
}

#[test]
fn instruction_text_matches_linux() {
    let cases: Vec<(RawInsn, i32, &str)> = [
        (raw(0xb7, 0, 0, 0, 0), "(b7) r0 = 0"),
        (raw(0xb7, 1, 0, 0, -1), "(b7) r1 = -1"),
        (raw(0xb4, 0, 0, 0, 1), "(b4) w0 = 1"),
        (raw(0xbf, 1, 10, 0, 0), "(bf) r1 = r10"),
        (raw(0x07, 1, 0, 0, -8), "(07) r1 += -8"),
        (raw(0x0f, 1, 2, 0, 0), "(0f) r1 += r2"),
        (raw(0x1c, 1, 2, 0, 0), "(1c) w1 -= w2"),
        (raw(0x67, 1, 0, 0, 32), "(67) r1 <<= 32"),
        (raw(0xc7, 1, 0, 0, 32), "(c7) r1 s>>= 32"),
        (raw(0x87, 3, 0, 0, 0), "(87) r3 = -r3"),
        (raw(0x84, 3, 0, 0, 0), "(84) w3 = -w3"),
        (raw(0xdc, 1, 0, 0, 16), "(dc) r1 = be16 r1"),
        (raw(0xd4, 1, 0, 0, 64), "(d4) r1 = le64 r1"),
        (raw(0x7a, 10, 0, -8, 0), "(7a) *(u64 *)(r10 -8) = 0"),
        (raw(0x63, 10, 1, -4, 0), "(63) *(u32 *)(r10 -4) = r1"),
        (raw(0x61, 2, 1, 4, 0), "(61) r2 = *(u32 *)(r1 +4)"),
        (raw(0x71, 2, 1, 0, 0), "(71) r2 = *(u8 *)(r1 +0)"),
        (raw(0xc3, 1, 2, 0, 0), "(c3) lock *(u32 *)(r1 +0) += r2"),
        (raw(0xdb, 1, 2, 8, 0x51), "(db) r2 = atomic64_fetch_and((u64 *)(r1 +8), r2)"),
        (raw(0xdb, 1, 2, 0, 0xe1), "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)"),
        (raw(0xc3, 1, 2, 0, 0xf1), "(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)"),
        (raw(0x85, 0, 0, 0, 1), "(85) call bpf_map_lookup_elem#1"),
        (raw(0x85, 0, 0, 0, 6), "(85) call bpf_trace_printk#6"),
        (raw(0x85, 0, 0, 0, 999), "(85) call unknown#999"),
        (raw(0x85, 0, 1, 0, 2), "(85) call pc+2"),
        (raw(0x85, 0, 1, 0, -5), "(85) call pc-5"),
        (raw(0x05, 0, 0, -1, 0), "(05) goto pc-1"),
        (raw(0x95, 0, 0, 0, 0), "(95) exit"),
        (raw(0x55, 0, 0, 1, 0), "(55) if r0 != 0x0 goto pc+1"),
        (raw(0xa5, 1, 0, 3, -1), "(a5) if r1 < 0xffffffff goto pc+3"),
        (raw(0x2d, 1, 2, -2, 0), "(2d) if r1 > r2 goto pc-2"),
        (raw(0x16, 1, 0, 0, 5), "(16) if w1 == 0x5 goto pc+0"),
        (raw(0x20, 0, 0, 0, 12), "(20) r0 = *(u32 *)skb[12]"),
        (raw(0x3f, 1, 2, 1, 0), "(3f) r1 s/= r2"),
        (raw(0x97, 1, 0, 1, 3), "(97) r1 s%= 3"),
        (raw(0xbf, 1, 2, 8, 0), "(bf) r1 = (s8)r2"),
        (raw(0xd7, 1, 0, 0, 32), "(d7) r1 = bswap32 r1"),
        (raw(0x91, 1, 2, -1, 0), "(91) r1 = *(s8 *)(r2 -1)"),
        (raw(0x06, 0, 0, 0, 7), "(06) gotol pc+7"),
    ]
    .into_iter()
    .map(|(r, s)| (r, 0, s))
    .collect();
    for (insn, next_imm, want) in cases {
        let decoded = crate::vm::insn::decode(&insn);
        let text = format!("{}", Disasm { insn: &decoded, next_imm, show_ptrs: true });
        assert_eq!(text, format!("{want}\n"));
    }
    let ld = crate::vm::insn::decode(&raw(0x18, 1, 0, 0, 0x5678));
    assert_eq!(format!("{}", Disasm { insn: &ld, next_imm: 0x1234, show_ptrs: true }), "(18) r1 = 0x123400005678\n");
    let map = crate::vm::insn::decode(&raw(0x18, 1, 1, 0, 5));
    assert_eq!(format!("{}", Disasm { insn: &map, next_imm: 0, show_ptrs: false }), "(18) r1 = 0x0\n");
}

#[test]
fn state_lines_show_types_bounds_and_stack_slots() {
    let text = "ldxdw %r0, [%r1+0]\nand %r0, 255\nmov %r2, %r10\nadd %r2, -8\nstxdw [%r10-16], %r1\n\
                stxw [%r10-24], %r0\nmov %r3, %r0\nadd %r3, 16\nmov %r0, %r5\nexit";
    let (r, log) = check(&prog(text));
    assert_eq!(r.unwrap_err().errno, Errno::EACCES);
    let want = [
        "0: R1=ctx(off=0,imm=0) R10=fp0",
        "0: (79) r0 = *(u64 *)(r1 +0)          ; R0_w=scalar() R1=ctx(off=0,imm=0)",
        "1: (57) r0 &= 255                     ; R0_w=scalar(umax=255,var_off=(0x0; 0xff))",
        "2: (bf) r2 = r10                      ; R2_w=fp0 R10=fp0",
        "3: (07) r2 += -8                      ; R2_w=fp-8",
        "4: (7b) *(u64 *)(r10 -16) = r1        ; R1=ctx(off=0,imm=0) R10=fp0 fp-16_w=ctx",
        "5: (63) *(u32 *)(r10 -24) = r0        ; R0_w=scalar(umax=255,var_off=(0x0; 0xff)) R10=fp0 fp-24=????mmmm",
        "6: (bf) r3 = r0                       ; R0_w=scalar(id=1,umax=255,var_off=(0x0; 0xff)) \
         R3_w=scalar(id=1,umax=255,var_off=(0x0; 0xff))",
        "7: (07) r3 += 16                      ; R3_w=scalar(umin=16,umax=271,var_off=(0x0; 0x1ff))",
        "8: (bf) r0 = r5",
        "R5 !read_ok",
    ];
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[..want.len()], want[..], "{log}");
}

#[test]
fn stats_count_the_checkpoints() {
    // Both paths reach 5 with different R3: the second compares one checkpoint there and
    // goes on (max_states_per_insn 1). Checkpoints: 1 (the jump), 4 (its target), 5
    // twice (after the `ja`, then the other path's state).
    let text = "ldxdw %r2, [%r1+0]\njeq %r2, 0, +2\nmov %r3, 1\nja +1\nmov %r3, 2\nmov %r0, %r3\nexit";
    let (r, log) = check(&prog(text));
    assert!(r.is_ok(), "{log}");
    assert_eq!(
        log,
        "processed 9 insns (limit 1000000) max_states_per_insn 1 total_states 4 peak_states 4 mark_read 0\n"
    );
}

#[test]
fn immediate_stores_print_as_misc_bytes_like_linux_6_1() {
    let (r, log) = check(&prog("stdw [%r10-8], 7\nmov %r0, %r4\nexit"));
    assert_eq!(r.unwrap_err().errno, Errno::EACCES);
    assert!(log.contains("(7a) *(u64 *)(r10 -8) = 7          ; R10=fp0 fp-8_w=mmmmmmmm\n"), "{log}");
}

#[test]
fn level_two_branch_headers_carry_the_whole_state() {
    let load = Load { log_level: 2, ..Load::default() };
    let text = "ldxdw %r2, [%r1+0]\njeq %r2, 0, +2\nmov %r3, 1\nja +1\nmov %r3, 2\nmov %r0, %r3\nexit";
    let (r, log) = check_with(&prog(text), load);
    assert!(r.is_ok(), "{log}");
    // The header's full print leaves everything scratched: the state comes again (Linux).
    let want = "\nfrom 1 to 4: R1=ctx(off=0,imm=0) R2=0 R10=fp0\n4: R1=ctx(off=0,imm=0) R2=0 R10=fp0\n4: (b7) r3 = 2";
    assert!(log.contains(want), "{log}");
}
