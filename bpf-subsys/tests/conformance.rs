//! Every case of the bpf_conformance suite (`../shared/conformance/tests/*.data`) through the
//! execution engine: `R1` = the case's memory (a writable region), `R2` = its length, and
//! `R0` at exit must equal the case's result. Cases that expect an error must fail.

mod common;

use std::path::PathBuf;

use bpf_subsys::vm::{ActiveRun, Env, Region, Vm, VmError, VmErrorKind};
use common::data::{self, Expect};

/// The helpers the suite's programs call: 5 (uBPF's "unwind", which returns its argument;
/// the cases that call it overwrite `R0` afterwards).
struct SuiteEnv;

// SAFETY: `mem_ok` keeps its default and approves no memory.
unsafe impl Env for SuiteEnv {
    fn call_helper(&mut self, id: u32, args: [u64; 5], _: &mut dyn ActiveRun) -> Result<u64, VmError> {
        match id {
            5 => Ok(args[0]),
            _ => Err(VmError::new(VmErrorKind::UnknownHelper { id })),
        }
    }
}

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/tests")
}

/// Runs one case; `Err` says why it failed.
fn run_case(text: &str) -> Result<(), String> {
    let case = data::parse(text)?;
    let mut mem = case.mem.clone();
    let len = mem.len() as u64;
    let region = Region::new_mut(&mut mem);
    let ctx_addr = region.addr();
    let outcome = Vm::new(&case.insns).context(region).args([ctx_addr, len, 0, 0, 0]).run(&mut SuiteEnv);
    match (&case.expect, outcome) {
        (Expect::Result(want), Ok(r0)) if *want == r0 => Ok(()),
        (Expect::Result(want), Ok(r0)) => Err(format!("r0 = {r0:#x}, expected {want:#x}")),
        (Expect::Result(want), Err(e)) => Err(format!("error {e}, expected r0 = {want:#x}")),
        (Expect::Error(_), Err(_)) => Ok(()),
        (Expect::Error(msg), Ok(r0)) => Err(format!("r0 = {r0:#x}, expected error {msg:?}")),
    }
}

#[test]
fn every_conformance_case_passes() {
    let dir = suite_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("conformance suite not found at {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "data"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .data files in {}", dir.display());

    let (mut ran, mut failed) = (0usize, Vec::new());
    for file in &files {
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        ran += 1;
        if let Err(why) = run_case(&text) {
            println!("FAIL {name}: {why}");
            failed.push(name);
        }
    }
    println!("conformance: {} passed, {} failed", ran - failed.len(), failed.len());
    assert_eq!(ran, files.len(), "every .data file must run");
    assert!(failed.is_empty(), "failing conformance cases: {failed:?}");
}

#[test]
fn assembler_matches_the_raw_case() {
    // lddw.data carries both forms; the assembler must produce the raw words.
    let text = std::fs::read_to_string(suite_dir().join("lddw.data")).expect("lddw.data");
    let asm_only: String = text.split("-- raw").next().unwrap_or_default().to_string() + "-- result\n0x0\n";
    let assembled = data::parse(&asm_only).expect("assembles");
    let with_raw = data::parse(&text).expect("parses");
    assert_eq!(assembled.insns, with_raw.insns);
}
