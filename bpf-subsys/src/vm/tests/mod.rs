//! Unit tests of the engine: memory safety, calls and callbacks, tail calls, atomics under
//! threads, arithmetic edge cases. Programs are written in the conformance suite's assembler
//! syntax (the assembler is shared with `tests/conformance.rs`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::insn::RawInsn;
use super::{ActiveRun, Env, Program, TailCall, VmError, VmErrorKind};

#[path = "../../../tests/common/asm.rs"]
mod asm;

mod alu;
mod atomics;
mod calls;
mod memory;
mod tail_calls;

/// Assembles a test program.
fn prog(text: &str) -> Vec<RawInsn> {
    asm::assemble(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The value a program passes in `R2` to name the test's program array.
const PROG_ARRAY: u64 = 0xa77a;
/// Helper: returns the sum of its five arguments.
const HELPER_SUM: u32 = 1;
/// Helper `bpf_loop(nr, callback_insn, ctx, flags)`: calls the callback with `(i, ctx)`
/// until it returns 1 or `nr` calls were made; returns the number of calls.
const HELPER_LOOP: u32 = 181;
/// Helper: calls the callback at `R1` and ignores its result, even an error.
const HELPER_SWALLOW: u32 = 200;
/// Helper: reads the u64 at `R1` with `ActiveRun::read`, writes it + 1 back; a bad pointer
/// aborts with `HelperFault`.
const HELPER_INC: u32 = 201;

/// A test environment: a few helpers, one program array, approved memory ranges.
#[derive(Default)]
struct TestEnv {
    /// The program array's slots (`None`: empty).
    slots: Vec<Option<Arc<dyn Program>>>,
    /// Memory `mem_ok` approves: `(addr, len, writable)`.
    approved: Vec<(u64, u64, bool)>,
    /// Number of helper calls made.
    helper_calls: usize,
}

impl TestEnv {
    fn with_slots(slots: Vec<Option<Vec<RawInsn>>>) -> Self {
        let slots = slots.into_iter().map(|s| s.map(|p| Arc::new(p) as Arc<dyn Program>)).collect();
        TestEnv { slots, ..TestEnv::default() }
    }
}

// SAFETY: `approved` only ever holds memory that the test owning the environment keeps
// alive and unborrowed for the run.
unsafe impl Env for TestEnv {
    fn call_helper(&mut self, id: u32, args: [u64; 5], run: &mut dyn ActiveRun) -> Result<u64, VmError> {
        self.helper_calls += 1;
        match id {
            HELPER_SUM => Ok(args.iter().fold(0u64, |a, b| a.wrapping_add(*b))),
            HELPER_LOOP => {
                let callback = usize::try_from(args[1]).map_err(|_| VmError::new(VmErrorKind::HelperFault { id }))?;
                let mut calls = 0;
                while calls < args[0] {
                    calls += 1;
                    if run.call_subprog(self, callback, [calls - 1, args[2], 0, 0, 0])? == 1 {
                        break;
                    }
                }
                Ok(calls)
            }
            HELPER_SWALLOW => {
                let callback = usize::try_from(args[0]).map_err(|_| VmError::new(VmErrorKind::HelperFault { id }))?;
                let _ignored = run.call_subprog(self, callback, [0; 5]);
                Ok(0)
            }
            HELPER_INC => {
                let mut buf = [0u8; 8];
                if !run.read(args[0], &mut buf) {
                    return Err(VmError::new(VmErrorKind::HelperFault { id }));
                }
                let next = u64::from_ne_bytes(buf).wrapping_add(1);
                if !run.write(args[0], &next.to_ne_bytes()) {
                    return Err(VmError::new(VmErrorKind::HelperFault { id }));
                }
                Ok(next)
            }
            _ => Err(VmError::new(VmErrorKind::UnknownHelper { id })),
        }
    }

    fn tail_call(&mut self, map: u64, index: u32) -> TailCall {
        if map != PROG_ARRAY {
            return TailCall::OutOfRange;
        }
        match usize::try_from(index).ok().and_then(|i| self.slots.get(i)) {
            None => TailCall::OutOfRange,
            Some(None) => TailCall::Empty,
            Some(Some(p)) => TailCall::Program(p.clone()),
        }
    }

    fn mem_ok(&self, addr: u64, len: u64, write: bool) -> bool {
        self.approved.iter().any(|&(start, size, writable)| {
            (!write || writable) && addr >= start && addr.checked_add(len).is_some_and(|end| end <= start + size)
        })
    }
}

/// The kind of a failed run (panics if it succeeded).
fn kind(result: Result<u64, VmError>) -> VmErrorKind {
    match result {
        Ok(r0) => panic!("expected an error, got r0 = {r0:#x}"),
        Err(e) => e.kind,
    }
}
