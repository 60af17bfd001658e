//! Scenario 12: programs the verifier must reject: an out-of-bounds stack read (fp-520) and a
//! map value dereferenced without its NULL check. The load fails with EACCES and aya's
//! ProgramError::LoadError carries the verifier log with Linux's message.

use aya::programs::{ProgramError, TracePoint};
use ayatest::{check, check_eq, done, fail, load, Guard};

fn expect_rejected(data: &[u8], obj: &str, prog: &str, want_msg: &str) {
    let mut bpf = load(data, obj);
    let p: &mut TracePoint = bpf
        .program_mut(prog)
        .unwrap_or_else(|| fail(format!("program `{prog}`"), "missing"))
        .try_into()
        .unwrap_or_else(|e: ProgramError| fail(format!("{prog} is a TracePoint"), e));
    match p.load() {
        Ok(()) => fail(format!("{obj}: the verifier rejects {prog}"), "the program was loaded"),
        Err(ProgramError::LoadError { io_error, verifier_log }) => {
            let log = format!("{verifier_log:?}");
            for l in log.lines() {
                println!("# {l}");
            }
            check_eq(io_error.raw_os_error(), Some(libc::EACCES), format!("{obj}: BPF_PROG_LOAD fails with EACCES"));
            check(
                log.contains(want_msg),
                format!("{obj}: the verifier log says \"{want_msg}\""),
                format!("log: {log:?}"),
            );
            check(
                log.contains("processed "),
                format!("{obj}: the log ends with the \"processed N insns\" line"),
                "missing",
            );
        }
        Err(e) => fail(format!("{obj}: load fails with LoadError"), ayatest::error_chain(&e)),
    }
}

fn main() {
    let guard = Guard::new();
    guard.step(60, "bad_stack");
    expect_rejected(
        ayatest::bpf_object!("bad_stack"),
        "bad_stack.o",
        "bad_stack",
        "invalid read from stack R10 off=-520 size=8",
    );
    guard.step(60, "bad_mapval");
    expect_rejected(
        ayatest::bpf_object!("bad_mapval"),
        "bad_mapval.o",
        "bad_mapval",
        "R0 invalid mem access 'map_value_or_null'",
    );
    done();
}
