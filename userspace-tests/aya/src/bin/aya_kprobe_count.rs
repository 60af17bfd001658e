//! Scenario 1: a kprobe on a kernel syscall handler (`__x64_sys_getpid`) counts calls per tgid
//! in a HashMap; user space makes N getpid() calls and reads back exactly N for its own tgid.
//! Dropping the link stops the counting.

use aya::maps::HashMap;
use aya::programs::KProbe;
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, getpid_n, load, tgid, Guard};

const SYM: &str = "__x64_sys_getpid";
const N: u64 = 1000;

fn count(bpf: &aya::Ebpf, pid: u32) -> u64 {
    let counts: HashMap<_, u32, u64> = check_ok(
        HashMap::try_from(bpf.map("counts").unwrap_or_else(|| fail("map `counts`", "missing"))),
        "counts as HashMap<u32, u64>",
    );
    match counts.get(&pid, 0) {
        Ok(v) => v,
        Err(aya::maps::MapError::KeyNotFound) => 0,
        Err(e) => fail(format!("counts[{pid}]"), ayatest::error_chain(&e)),
    }
}

fn main() {
    let guard = Guard::new();
    let pid = tgid();

    guard.step(60, "load kprobe_count.o");
    let mut bpf = load(bpf_object!("kprobe_count"), "kprobe_count.o");
    let prog: &mut KProbe = check_ok(
        bpf.program_mut("count_getpid").unwrap_or_else(|| fail("program `count_getpid`", "missing")).try_into(),
        "count_getpid is a KProbe",
    );
    check_ok(prog.load(), "KProbe::load (BPF_PROG_LOAD, kprobe)");

    guard.step(60, "attach kprobe");
    let link = check_ok(prog.attach(SYM, 0), format!("KProbe::attach({SYM}, 0)"));
    check_eq(count(&bpf, pid), 0, "nothing counted for our tgid before the calls");

    guard.step(120, "count getpid calls");
    getpid_n(N, pid);
    check_eq(count(&bpf, pid), N, format!("{N} getpid() calls -> counts[{pid}] == {N}"));

    // Another process's entries are its own: ours is exactly N whatever else ran.
    let counts: HashMap<_, u32, u64> = check_ok(HashMap::try_from(bpf.map("counts").unwrap()), "counts again");
    let mut mine = 0;
    for kv in counts.keys() {
        let k = check_ok(kv, "HashMap::keys (BPF_MAP_GET_NEXT_KEY)");
        mine += u32::from(k == pid);
    }
    check_eq(mine, 1, "our tgid appears once in the map's keys");

    guard.step(60, "detach");
    let prog: &mut KProbe = bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
    check_ok(prog.detach(link), "KProbe::detach");
    getpid_n(100, pid);
    check_eq(count(&bpf, pid), N, "after detach: getpid() no longer counted");
    check(true, "done", "");
    done();
}
