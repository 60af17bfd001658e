//! Scenario 7: ProgramArray tail calls chain three programs (tc_entry -> tc_second ->
//! tc_third); the chain's result (123 per call) and each stage's run count are observed in a
//! map. With the table emptied the entry program falls through.

use aya::maps::{Array, ProgramArray};
use aya::programs::TracePoint;
use ayatest::{bpf_object, check_eq, check_ok, done, fail, getpid_n, load, set_target_tgid, tgid, Guard};

const N: u64 = 20;

fn chain(bpf: &aya::Ebpf) -> Vec<u64> {
    let a: Array<_, u64> = Array::try_from(bpf.map("chain").unwrap()).unwrap();
    (0..5).map(|i| a.get(&i, 0).unwrap_or_else(|e| fail(format!("chain[{i}]"), ayatest::error_chain(&e)))).collect()
}

fn main() {
    let guard = Guard::new();
    let pid = tgid();
    guard.step(60, "load tailcall.o");
    let mut bpf = load(bpf_object!("tailcall"), "tailcall.o");
    set_target_tgid(&mut bpf, pid);
    for name in ["tc_entry", "tc_second", "tc_third"] {
        let p: &mut TracePoint = check_ok(
            bpf.program_mut(name).unwrap_or_else(|| fail(format!("program `{name}`"), "missing")).try_into(),
            format!("{name} is a TracePoint"),
        );
        check_ok(p.load(), format!("{name}: TracePoint::load"));
    }
    {
        let [table, second, third] = ["jump_table", "tc_second", "tc_third"];
        let second_fd = check_ok(bpf.program(second).unwrap().fd(), "tc_second fd").try_clone().unwrap();
        let third_fd = check_ok(bpf.program(third).unwrap().fd(), "tc_third fd").try_clone().unwrap();
        let mut pa: ProgramArray<_> =
            check_ok(ProgramArray::try_from(bpf.map_mut(table).unwrap()), "jump_table as ProgramArray");
        check_ok(pa.set(0, &second_fd, 0), "jump_table[0] = tc_second");
        check_ok(pa.set(1, &third_fd, 0), "jump_table[1] = tc_third");
        // (ProgramArray::indices walks every index, as BPF_MAP_GET_NEXT_KEY does for arrays)
        let idx: Vec<u32> =
            pa.indices().map(|i| i.unwrap_or_else(|e| fail("indices()", ayatest::error_chain(&e)))).collect();
        check_eq(idx, vec![0, 1, 2, 3], "ProgramArray::indices: 0..max_entries");
    }
    let entry: &mut TracePoint = bpf.program_mut("tc_entry").unwrap().try_into().unwrap();
    check_ok(entry.attach("syscalls", "sys_enter_getpid"), "attach tc_entry to syscalls/sys_enter_getpid");

    guard.step(60, "getpid calls");
    getpid_n(N, pid);
    check_eq(
        chain(&bpf),
        vec![123, N, N, N, 0],
        format!("chain 1 -> 2 -> 3 = 123; each stage ran {N} times, no fall-through"),
    );

    // Remove stage 3: the chain stops at 12.
    {
        let mut pa: ProgramArray<_> = ProgramArray::try_from(bpf.map_mut("jump_table").unwrap()).unwrap();
        check_ok(pa.clear_index(&1), "clear jump_table[1]");
    }
    getpid_n(N, pid);
    check_eq(chain(&bpf), vec![12, 2 * N, 2 * N, N, 0], "without jump_table[1]: chain 12, stage 3 not run");
    // Remove stage 2: tc_entry's tail call fails and it falls through.
    {
        let mut pa: ProgramArray<_> = ProgramArray::try_from(bpf.map_mut("jump_table").unwrap()).unwrap();
        check_ok(pa.clear_index(&0), "clear jump_table[0]");
    }
    getpid_n(N, pid);
    check_eq(chain(&bpf), vec![1, 3 * N, 2 * N, N, N], "empty table: the tail call falls through");
    done();
}
