//! Scenario 5: PerCpuArray and PerCpuHashMap read from user space with one value per possible
//! CPU (/sys/devices/system/cpu/possible). The test runs pinned to one CPU, so that CPU's slot
//! holds every count and the others hold 0; values written from user space per CPU read back
//! per CPU.

use aya::maps::{PerCpuArray, PerCpuHashMap, PerCpuValues};
use aya::programs::TracePoint;
use ayatest::{
    bpf_object, check, check_eq, check_ok, done, fail, getpid_n, load, read_text, set_target_tgid, tgid, Guard,
};

const N: u64 = 30;

fn main() {
    let guard = Guard::new();
    let pid = tgid();
    let possible = ayatest::cpu_list(&read_text("/sys/devices/system/cpu/possible"));
    let ncpus = possible.iter().max().map_or(0, |m| m + 1);
    check(ncpus > 0, format!("{ncpus} possible CPU(s)"), "none");
    check_eq(
        check_ok(aya::util::nr_cpus().map_err(|(_, e)| e), "aya::util::nr_cpus"),
        ncpus,
        "aya's nr_cpus() == possible CPUs",
    );

    let cpu = ayatest::pin_to_first_online_cpu();

    guard.step(60, "load percpu.o");
    let mut bpf = load(bpf_object!("percpu"), "percpu.o");
    set_target_tgid(&mut bpf, pid);
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("percpu_getpid").unwrap_or_else(|| fail("program `percpu_getpid`", "missing")).try_into(),
        "percpu_getpid is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");
    check_ok(prog.attach("syscalls", "sys_enter_getpid"), "TracePoint::attach(syscalls, sys_enter_getpid)");

    guard.step(60, "getpid calls");
    getpid_n(N, pid);

    let mut want = vec![0u64; ncpus];
    want[cpu] = N;
    let arr: PerCpuArray<_, u64> =
        check_ok(PerCpuArray::try_from(bpf.map("pcpu_array").unwrap()), "pcpu_array as PerCpuArray<u64>");
    let vals = check_ok(arr.get(&0, 0), "PerCpuArray::get(0)");
    check_eq(vals.len(), ncpus, "one value per possible CPU");
    check_eq(vals.to_vec(), want.clone(), format!("pcpu_array[0]: {N} on CPU {cpu}, 0 elsewhere"));
    check_eq(check_ok(arr.get(&1, 0), "PerCpuArray::get(1)").to_vec(), vec![0; ncpus], "pcpu_array[1] untouched");

    let h: PerCpuHashMap<_, u32, u64> =
        check_ok(PerCpuHashMap::try_from(bpf.map("pcpu_hash").unwrap()), "pcpu_hash as PerCpuHashMap<u32, u64>");
    let hv = check_ok(h.get(&pid, 0), format!("PerCpuHashMap::get({pid})"));
    check_eq(hv.to_vec(), want, format!("pcpu_hash[{pid}]: {N} on CPU {cpu}, 0 elsewhere"));

    // User space writes one value per CPU and reads them back.
    let mine: Vec<u64> = (0..ncpus as u64).map(|i| 1000 + i).collect();
    {
        let mut arr: PerCpuArray<_, u64> = PerCpuArray::try_from(bpf.map_mut("pcpu_array").unwrap()).unwrap();
        check_ok(
            arr.set(1, check_ok(PerCpuValues::try_from(mine.clone()), "PerCpuValues from a Vec"), 0),
            "PerCpuArray::set(1, per-CPU values)",
        );
        check_eq(check_ok(arr.get(&1, 0), "get(1)").to_vec(), mine.clone(), "pcpu_array[1] reads back per CPU");
        let mut h: PerCpuHashMap<_, u32, u64> = PerCpuHashMap::try_from(bpf.map_mut("pcpu_hash").unwrap()).unwrap();
        check_ok(
            h.insert(7, check_ok(PerCpuValues::try_from(mine.clone()), "PerCpuValues"), 0),
            "PerCpuHashMap::insert(7)",
        );
        check_eq(check_ok(h.get(&7, 0), "get(7)").to_vec(), mine, "pcpu_hash[7] reads back per CPU");
        let mut keys: Vec<u32> = h.keys().map(|k| check_ok(k, "keys()")).collect();
        keys.sort_unstable();
        let mut wk = vec![7, pid];
        wk.sort_unstable();
        check_eq(keys, wk, "pcpu_hash keys");
    }
    done();
}
