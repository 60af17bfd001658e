//! Every case of the bpf_conformance suite (`../shared/conformance/tests/*.data`) through the
//! loading and execution path: assembled, loaded with `sys_bpf(BPF_PROG_LOAD)` (a privileged
//! load, license "GPL", log level 1), and the loaded program run by [`crate::run::run_prog`]
//! with the case's memory as a writable context; `R0` must equal the case's result.
//!
//! The suite also sets `R2` to the memory's length; `run_prog` leaves it unset, as Linux does.
//! That cannot change an outcome: the verifier rejects every program that reads a register
//! before writing it (`mem-len`, the one case that relies on `R2`, is in [`REJECTED`]).
//!
//! Like Linux 6.1, verifier-lite rejects exactly the cases in [`REJECTED`]; the test asserts
//! that set, so a case newly rejected or newly accepted fails it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::string::String;
use std::vec::Vec;

use syscall_abi::bpf::ProgType;
use syscall_abi::Errno;

use super::{attr, e, load, prog};
use crate::helpers::RunCtx;
use crate::run::run_prog;
use crate::syscall::tests::T;
use crate::vm::Region;

// The suite's assembler and `.data` parser, shared with the integration tests.
#[allow(clippy::duplicate_mod)]
#[path = "../../../../tests/common/mod.rs"]
mod common;

use common::data::{self, Expect};

/// The cases Linux 6.1 (and verifier-lite) rejects: name, errno, the verifier's log line.
/// Shifts by out-of-range immediates, `callx` (no such opcode in Linux), and a read of `R2`,
/// which the suite sets and Linux leaves unwritten.
const REJECTED: &[(&str, Errno, &str)] = &[
    ("arsh32-imm-high", Errno::EINVAL, "invalid shift 48"),
    ("arsh32-imm-neg", Errno::EINVAL, "invalid shift -16"),
    ("arsh64-imm-high", Errno::EINVAL, "invalid shift 124"),
    ("arsh64-imm-neg", Errno::EINVAL, "invalid shift -4"),
    ("callx", Errno::EINVAL, "unknown opcode 8d"),
    ("lsh32-imm-high", Errno::EINVAL, "invalid shift 60"),
    ("lsh32-imm-neg", Errno::EINVAL, "invalid shift -4"),
    ("lsh64-imm-high", Errno::EINVAL, "invalid shift 68"),
    ("lsh64-imm-neg", Errno::EINVAL, "invalid shift -60"),
    ("mem-len", Errno::EACCES, "R2 !read_ok"),
    ("rsh32-imm-high", Errno::EINVAL, "invalid shift 40"),
    ("rsh32-imm-neg", Errno::EINVAL, "invalid shift -24"),
    ("rsh64-imm-high", Errno::EINVAL, "invalid shift 68"),
    ("rsh64-imm-neg", Errno::EINVAL, "invalid shift -60"),
];

/// Number of `.data` files in the suite (issue 3: "313 programs").
const SUITE_SIZE: usize = 313;

/// Size of the verifier log buffer.
const LOG_SIZE: u32 = 1 << 16;

/// The `.data` files of the suite, sorted.
fn case_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("conformance suite not found at {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "data"))
        .collect();
    files.sort();
    files
}

/// What happened to one case.
enum Outcome {
    /// Loaded, ran and returned the expected `R0`.
    Passed,
    /// Rejected by `BPF_PROG_LOAD`: the result and the log.
    Rejected(isize, String),
}

/// The NUL-terminated text at `addr`.
fn log_text(t: &T, addr: u64) -> String {
    let bytes = t.h.read(addr, LOG_SIZE as usize);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Loads and runs one case as `ty` in a fresh process (test user memory is not
/// reclaimed), which must be left with no object; `Err` says why it failed.
fn run_case(ty: ProgType, text: &str) -> Result<Outcome, String> {
    let case = data::parse(text)?;
    let t = &T::new();
    let mut a = attr(t, ty, &case.insns);
    a.log_level = 1;
    a.log_size = LOG_SIZE;
    a.log_buf = t.h.alloc(LOG_SIZE as usize);
    let r = load(t, &a);
    let log = log_text(t, a.log_buf);
    if r < 0 {
        t.assert_all_freed();
        return Ok(Outcome::Rejected(r, log));
    }
    let fd = u32::try_from(r).map_err(|err| format!("fd {r}: {err}"))?;
    if !log.contains("processed ") {
        return Err(format!("loaded without the verifier's statistics in the log:\n{log}"));
    }
    let p = prog(t, fd);
    let mut mem = case.mem.clone();
    let outcome = run_prog(&*t.host, &p, Region::new_mut(&mut mem), RunCtx::default());
    drop(p);
    if !t.h.close(fd) {
        return Err(format!("fd {fd} was not open"));
    }
    t.assert_all_freed();
    match (&case.expect, outcome) {
        (Expect::Result(want), Ok(r0)) if *want == r0 => Ok(Outcome::Passed),
        (Expect::Result(want), Ok(r0)) => Err(format!("r0 = {r0:#x}, expected {want:#x}")),
        (Expect::Result(want), Err(err)) => Err(format!("run failed: {err}, expected r0 = {want:#x}")),
        // Loaded, then the run must fail.
        (Expect::Error(_), Err(_)) => Ok(Outcome::Passed),
        (Expect::Error(msg), Ok(r0)) => Err(format!("r0 = {r0:#x}, expected error {msg:?}")),
    }
}

/// Runs every case as `ty` (a type that takes a context in `R1` and may call helper 5,
/// `bpf_ktime_get_ns`: uBPF's "unwind" in the suite, whose result the cases overwrite);
/// checks the counts and the rejected set.
fn every_case_as(ty: ProgType) {
    let files = case_files();
    assert!(!files.is_empty(), "no .data files");
    let mut passed = 0usize;
    let mut failed: Vec<String> = Vec::new();
    let mut rejected: BTreeSet<(String, isize, String)> = BTreeSet::new();
    for file in &files {
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::fs::read_to_string(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        match run_case(ty, &text) {
            Ok(Outcome::Passed) => passed += 1,
            Ok(Outcome::Rejected(r, log)) => {
                // The line the verifier gave, matched against the expected one as a whole line.
                let line = REJECTED
                    .iter()
                    .find(|(n, _, l)| *n == name && log.lines().any(|x| x == *l))
                    .map(|(_, _, l)| String::from(*l))
                    .unwrap_or_else(|| format!("unexpected log:\n{log}"));
                println!("REJECTED {name}: {r}: {line}");
                rejected.insert((name, r, line));
            }
            Err(why) => {
                println!("FAIL {name}: {why}");
                failed.push(name);
            }
        }
    }
    let total = passed + rejected.len() + failed.len();
    println!(
        "conformance as {ty:?}: {total} cases, {} loaded, {passed} passed, {} rejected, {} failed",
        total - rejected.len(),
        rejected.len(),
        failed.len()
    );
    assert_eq!(total, files.len(), "every .data file must be counted once");
    assert_eq!(files.len(), SUITE_SIZE, "the suite's size changed");
    assert!(failed.is_empty(), "failing conformance cases as {ty:?}: {failed:?}");
    let expected: BTreeSet<(String, isize, String)> =
        REJECTED.iter().map(|(n, errno, l)| (String::from(*n), e(*errno), String::from(*l))).collect();
    assert_eq!(rejected, expected, "rejected cases as {ty:?} (name, result, log line)");
    assert_eq!(passed, SUITE_SIZE - REJECTED.len(), "every other case loads and passes");
}

#[test]
fn every_conformance_case_loads_and_runs_as_socket_filter() {
    every_case_as(ProgType::SocketFilter);
}

#[test]
fn every_conformance_case_loads_and_runs_as_raw_tracepoint() {
    every_case_as(ProgType::RawTracepoint);
}
