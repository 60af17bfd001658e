//! Accepted programs, and what the verifier reports about them.

use alloc::vec;
use alloc::vec::Vec;

use syscall_abi::bpf::ProgType;
use syscall_abi::Errno;

use super::*;

#[test]
fn minimal_program() {
    let v = assert_accepted(&prog("mov %r0, 0\nexit"), Load::default());
    assert_eq!(v.subprogs, vec![SubprogInfo { start: 0, stack_depth: 0, has_tail_call: false, is_callback: false }]);
    assert_eq!((v.max_call_frames, v.uses_tail_calls, v.insns_processed), (1, false, 2));
    assert!(v.pseudo_loads.is_empty() && v.helpers.is_empty());
}

#[test]
fn bounded_loops_with_back_edges() {
    let counting = prog("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 10, l\nexit");
    assert_accepted(&counting, Load::default());
    // A loop that keeps a stack slot written across iterations.
    let stack = prog(
        "stdw [%r10-8], 0\nmov %r6, 0\nl:\nldxdw %r0, [%r10-8]\nadd %r0, %r6\nstxdw [%r10-8], %r0\nadd %r6, 1\njlt %r6, 4, l\nexit",
    );
    let v = assert_accepted(&stack, Load::default());
    assert_eq!(v.stack_depth(), 8);
    // ja backwards, with the exit inside the loop.
    assert_accepted(&prog("mov %r0, 0\nl:\njgt %r0, 5, +2\nadd %r0, 1\nja l\nexit"), Load::default());
}

#[test]
fn bpf_to_bpf_calls() {
    let p = prog(
        "stdw [%r10-16], 1\nmov %r1, 2\ncall local add\nmov %r6, %r0\ncall local leaf\nadd %r0, %r6\nexit\n\
         add:\nstdw [%r10-40], 0\nmov %r0, %r1\ncall local leaf\nadd %r0, %r1\nexit\n\
         leaf:\nmov %r1, 3\nmov %r0, 1\nexit",
    );
    // `add` reads R1 after calling `leaf`: rejected, R1 is clobbered by the call.
    let (r, log) = check(&p);
    assert!(r.is_err() && log.contains("R1 !read_ok"), "{log}");
    let p = prog(
        "stdw [%r10-16], 1\nmov %r1, 2\ncall local add\nmov %r6, %r0\ncall local leaf\nadd %r0, %r6\nexit\n\
         add:\nstdw [%r10-40], 0\nmov %r6, %r1\ncall local leaf\nadd %r0, %r6\nexit\n\
         leaf:\nmov %r0, 1\nexit",
    );
    let v = assert_accepted(&p, Load::default());
    let starts: Vec<usize> = v.subprogs.iter().map(|s| s.start).collect();
    assert_eq!(starts, vec![0, 7, 12]);
    let depths: Vec<u32> = v.subprogs.iter().map(|s| s.stack_depth).collect();
    assert_eq!(depths, vec![16, 40, 0]);
    assert_eq!(v.max_call_frames, 3);
}

#[test]
fn eight_frames_fit() {
    let mut text = alloc::string::String::from("call local f1\nexit\n");
    for i in 1..7 {
        text.push_str(&alloc::format!("f{i}:\ncall local f{}\nexit\n", i + 1));
    }
    text.push_str("f7:\nmov %r0, 0\nexit\n");
    let v = assert_accepted(&prog(&text), Load::default());
    assert_eq!(v.max_call_frames, 8);
}

#[test]
fn map_lookup_with_a_key_on_the_stack() {
    let mut p = prog("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4");
    p.extend_from_slice(&ld_pseudo(1, 1, 7, 0));
    p.extend(prog("call 1\njeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nmov %r0, 0\nexit"));
    let v = assert_accepted(&p, Load::default());
    let refs: Vec<&PseudoLoad> = v.map_refs().collect();
    assert_eq!(refs, vec![&PseudoLoad { insn: 3, kind: PseudoKind::MapFd, imm: 7, aux_imm: 0 }]);
    assert_eq!(v.helpers, vec![1]);
    assert_eq!(v.stack_depth(), 4);
    // The same, unprivileged (socket filter): maps and stack keys are fine.
    assert_accepted(&p, Load::unprivileged());
}

#[test]
fn every_pseudo_load_is_reported() {
    let mut p = Vec::new();
    p.extend_from_slice(&ld_pseudo(1, 1, 3, 0));
    p.extend_from_slice(&ld_pseudo(1, 2, 4, 16));
    p.extend_from_slice(&ld_pseudo(1, 5, 0, 0));
    p.extend_from_slice(&ld_pseudo(1, 6, 1, 8));
    p.extend(prog("lddw %r1, 0x123456789\nmov %r0, 0\nexit"));
    let v = assert_accepted(&p, Load::default());
    let kinds: Vec<(usize, PseudoKind, i32, i32)> =
        v.pseudo_loads.iter().map(|l| (l.insn, l.kind, l.imm, l.aux_imm)).collect();
    assert_eq!(
        kinds,
        vec![
            (0, PseudoKind::MapFd, 3, 0),
            (2, PseudoKind::MapValue, 4, 16),
            (4, PseudoKind::MapIdx, 0, 0),
            (6, PseudoKind::MapIdxValue, 1, 8),
        ]
    );
    assert_eq!(v.map_refs().count(), 4);
}

#[test]
fn helper_calls() {
    // trace_printk(fmt on the stack, 8) from a GPL program; R0 comes back written.
    let p = prog("stdw [%r10-8], 0x41\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nexit");
    let v = assert_accepted(&p, Load::default());
    assert_eq!(v.helpers, vec![6]);
    // The clock, the pid, a tail call (R0 must be set again after it).
    let mut p = prog("mov %r7, %r1\ncall 5\nmov %r6, %r0\ncall 14\nmov %r1, %r7");
    p.extend_from_slice(&ld_pseudo(2, 1, 3, 0));
    p.extend(prog("mov %r3, 0\ncall 12\nmov %r0, %r6\nexit"));
    let v = assert_accepted(&p, Load::default());
    assert_eq!(v.helpers, vec![5, 12, 14]);
    assert!(v.uses_tail_calls && v.subprogs[0].has_tail_call);
    // Non-GPL programs may call the helpers that are not GPL-only.
    assert_accepted(&prog("call 5\nexit"), Load { gpl: false, ..Load::default() });
    // Program-type specific helpers.
    assert_accepted(&prog("call 173\nexit"), Load::default());
    let socket = Load { prog_type: ProgType::SocketFilter, ..Load::default() };
    assert_accepted(&prog("call 160\nexit"), socket);
}

#[test]
fn a_helper_may_fill_stack_it_is_given() {
    // probe_read_kernel(fp-16, 16, ptr) then reading the buffer: the helper wrote it.
    let p = prog("mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r3, 0\ncall 113\nldxdw %r0, [%r10-16]\nexit");
    let v = assert_accepted(&p, Load::default());
    assert_eq!(v.stack_depth(), 16);
    // get_current_comm into an 8-byte buffer, read back.
    assert_accepted(
        &prog("mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 16\nldxdw %r0, [%r10-8]\nexit"),
        Load::default(),
    );
}

#[test]
fn code_dead_by_constants_is_not_checked() {
    // Linux prunes the branch that a known constant never takes; so does this pass.
    assert_accepted(&prog("mov %r0, 0\njeq %r0, 0, +1\nmov %r0, %r5\nexit"), Load::default());
    assert_accepted(&prog("mov32 %r1, -1\njgt32 %r1, 0xfffffffe, +1\ndiv %r0, %r9\nmov %r0, 1\nexit"), Load::default());
    // Unknown values keep both edges.
    let (r, _) = check(&prog("mov %r0, 0\njeq %r1, 0, +1\nmov %r0, %r5\nexit"));
    assert!(r.is_err());
}

#[test]
fn callbacks() {
    let mut p = prog("mov %r1, 4");
    p.extend_from_slice(&ld_pseudo(2, 4, 5, 0));
    p.extend(prog("mov %r3, 0\nmov %r4, 0\ncall 181\nexit\nmov %r0, %r1\nand %r0, 1\nexit"));
    let v = assert_accepted(&p, Load::default());
    assert!(v.subprogs[1].is_callback && v.subprogs[1].start == 7);
    assert_eq!(v.pseudo_loads[0].kind, PseudoKind::Func);
    assert_eq!(v.max_call_frames, 2);
}

#[test]
fn stack_pointers_through_copies_and_merges() {
    // r2 = fp-8 on both paths: still a stack pointer after the merge.
    assert_accepted(
        &prog("mov %r2, %r10\njeq %r1, 0, +1\nmov %r2, %r10\nadd %r2, -8\nstdw [%r2+0], 1\nldxdw %r0, [%r10-8]\nexit"),
        Load::default(),
    );
    // Different offsets on two paths: each path is checked with its own; the path that
    // wrote fp-8 reads fp-16 unwritten (Linux rejects it too).
    let p =
        prog("mov %r2, %r10\nadd %r2, -8\njeq %r1, 0, +1\nadd %r2, -8\nstdw [%r2+0], 1\nldxdw %r0, [%r10-16]\nexit");
    assert_rejected(&p, Load::default(), Errno::EACCES, "invalid read from stack R10 off=-16 size=8");
    let p = prog("mov %r2, %r10\nadd %r2, -8\njeq %r1, 0, +1\nadd %r2, -8\nstdw [%r2+0], 1\nldxdw %r0, [%r2+0]\nexit");
    assert_accepted(&p, Load::default());
    // Spilling and filling a stack pointer.
    assert_accepted(
        &prog("mov %r2, %r10\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nstdw [%r3-16], 0\nldxdw %r0, [%r10-16]\nexit"),
        Load::default(),
    );
    // Scalar plus pointer.
    assert_accepted(&prog("mov %r2, -8\nadd %r2, %r10\nstdw [%r2+0], 0\nldxdw %r0, [%r10-8]\nexit"), Load::default());
}

#[test]
fn pointer_arithmetic_that_linux_allows_privileged() {
    assert_accepted(&prog("mov %r2, %r10\nsub %r2, %r10\nmov %r0, %r2\nexit"), Load::default());
    assert_accepted(&prog("mov %r0, %r10\nexit"), Load::default());
    assert_accepted(&prog("mov %r2, %r10\nmov %r0, 0\njeq %r2, 0, +0\nexit"), Load::default());
    assert_accepted(&prog("mov32 %r0, %r10\nexit"), Load::default());
}

#[test]
fn current_isa_instructions() {
    let v4 = prog(
        "mov %r0, 7\nmov %r1, 2\nsdiv %r0, %r1\nsmod %r0, 3\nmovsx864 %r2, %r0\nmovsx3264 %r3, %r2\nbswap16 %r0\n\
         ldxsb %r4, [%r1+0]\nja32 +0\nexit",
    );
    // R1 is overwritten by 2: a constant; the sign-extending load through it is rejected.
    let (_, log) = check(&v4);
    assert!(log.contains("R1 invalid mem access 'scalar'"), "{log}");
    let v4 = prog("mov %r0, 7\nmov %r2, 2\nsdiv %r0, %r2\nsmod %r0, 3\nmovsx864 %r2, %r0\nbswap16 %r0\nldxsb %r4, [%r1+0]\nja32 +0\nexit");
    assert_accepted(&v4, Load::default());
    let (r, log) = check_with(&v4, Load { v4: false, ..Load::default() });
    assert!(r.is_err(), "{log}");
}

#[test]
fn atomics_on_the_stack() {
    let p = prog(
        "stdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-8], %r1\nlock fetch add [%r10-8], %r1\nmov %r0, 0\n\
         lock cmpxchg [%r10-8], %r1\nlock xchg [%r10-8], %r1\nmov %r0, %r1\nexit",
    );
    assert_accepted(&p, Load::default());
}

#[test]
fn socket_filter_unprivileged() {
    let p = prog("stdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -8\nldxdw %r0, [%r2+0]\ncall 5\nexit");
    assert_accepted(&p, Load::unprivileged());
}

#[test]
fn stack_depth_is_the_deepest_access() {
    let v = assert_accepted(&prog("stb [%r10-1], 0\nstw [%r10-12], 0\nmov %r0, 0\nexit"), Load::default());
    assert_eq!(v.stack_depth(), 12);
    let v = assert_accepted(&prog("stdw [%r10-512], 0\nmov %r0, 0\nexit"), Load::default());
    assert_eq!(v.stack_depth(), 512);
}
