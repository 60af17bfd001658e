//! `bpf_tail_call`: chains, the 33-call limit and how attempts count, frames and stacks.

use alloc::format;
use alloc::vec;

use super::super::{Region, Vm, VmError, MAX_TAIL_CALL_CNT};
use super::{prog, TestEnv, PROG_ARRAY};

/// `bpf_tail_call(r1, PROG_ARRAY, index)`; `r1` must hold the context.
fn tail_call(index: u32) -> alloc::string::String {
    format!("lddw %r2, {PROG_ARRAY:#x}\nmov %r3, {index}\ncall 12\n")
}

fn run_with(env: &mut TestEnv, main: &str, ctx: &mut [u8]) -> Result<u64, VmError> {
    Vm::new(&prog(main)).context(Region::new_mut(ctx)).run(env)
}

#[test]
fn a_chain_of_three_programs() {
    // A stores on its stack and tail-calls B; B (same stack, R1 still the context) adds its
    // mark and tail-calls C; C returns what it read. Code after a successful call never runs.
    let a = format!("stdw [%r10-8], 100\n{}mov %r0, -1\nexit", tail_call(1));
    let b = format!("ldxdw %r6, [%r10-8]\nadd %r6, 20\nstxdw [%r10-8], %r6\n{}mov %r0, -2\nexit", tail_call(2));
    let c = "ldxdw %r0, [%r10-8]\nldxb %r2, [%r1]\nadd %r0, %r2\nexit";
    let mut env = TestEnv::with_slots(vec![None, Some(prog(&b)), Some(prog(c))]);
    let mut ctx = [3u8; 8];
    assert_eq!(run_with(&mut env, &a, &mut ctx), Ok(123));
}

#[test]
fn at_most_33_tail_calls_per_run() {
    assert_eq!(MAX_TAIL_CALL_CNT, 33);
    // A program that counts its runs in the context and tail-calls itself (slot 0); when
    // the tail call fails it returns the count.
    let selfish = format!("ldxdw %r6, [%r1]\nadd %r6, 1\nstxdw [%r1], %r6\n{}ldxdw %r0, [%r1]\nexit", tail_call(0));
    let mut env = TestEnv::with_slots(vec![Some(prog(&selfish))]);
    let mut ctx = [0u8; 8];
    // The first run plus 33 tail calls.
    assert_eq!(run_with(&mut env, &selfish, &mut ctx), Ok(34));
    // The count is per run: a second run gets 33 again.
    let mut ctx = [0u8; 8];
    assert_eq!(run_with(&mut env, &selfish, &mut ctx), Ok(34));
}

/// Tries `attempts` tail calls to `index`, then one to slot 1 (which returns 77); returns 1
/// if that last one failed.
fn attempts_then_valid(index: u32, attempts: u32) -> alloc::string::String {
    format!(
        "mov %r6, %r1\nmov %r7, 0\nloop:\nmov %r1, %r6\n{}add %r7, 1\njlt %r7, {attempts}, loop\nmov %r1, %r6\n{}mov %r0, 1\nexit",
        tail_call(index),
        tail_call(1)
    )
}

#[test]
fn empty_slots_count_and_out_of_range_indexes_do_not() {
    let slots = || TestEnv::with_slots(vec![None, Some(prog("mov %r0, 77\nexit")), None]);
    let mut ctx = [0u8; 8];
    // Slot 2 is empty: each attempt counts (Linux increments before reading the slot).
    assert_eq!(run_with(&mut slots(), &attempts_then_valid(2, 32), &mut ctx), Ok(77));
    assert_eq!(run_with(&mut slots(), &attempts_then_valid(2, 33), &mut ctx), Ok(1));
    // Index 9 is past the array: nothing counts.
    assert_eq!(run_with(&mut slots(), &attempts_then_valid(9, 40), &mut ctx), Ok(77));
    // A value in R2 that is not the program array fails without counting too.
    let text = "lddw %r2, 0x1234\nmov %r3, 1\ncall 12\nmov %r0, 5\nexit";
    assert_eq!(run_with(&mut slots(), text, &mut ctx), Ok(5));
    // The index is the low 32 bits of R3, as in Linux.
    let text = format!("lddw %r2, {PROG_ARRAY:#x}\nlddw %r3, 0x700000001\ncall 12\nmov %r0, 5\nexit");
    assert_eq!(run_with(&mut slots(), &text, &mut ctx), Ok(77));
}

#[test]
fn a_tail_call_in_a_subprogram_returns_to_the_caller() {
    // main calls f; f tail-calls Q; Q's exit returns to main, which goes on with its own code.
    let main = format!("mov %r6, 1000\ncall local f\nadd %r0, %r6\nexit\nf:\n{}mov %r0, -1\nexit", tail_call(1));
    let q = "mov %r6, 0\nmov %r0, 5\nexit";
    let mut env = TestEnv::with_slots(vec![None, Some(prog(q))]);
    let mut ctx = [0u8; 8];
    assert_eq!(run_with(&mut env, &main, &mut ctx), Ok(1005));
}
