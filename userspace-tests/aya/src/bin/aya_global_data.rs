//! Scenario 10: global data. `.rodata` constants set with EbpfLoader::override_global (0.14's
//! name for set_global) before the load; the program's `.data`/`.bss` variables read back from
//! user space through aya's section maps, `.data` also written from user space; `.rodata` is
//! frozen, so user space cannot write it (EPERM).

use aya::maps::Array;
use aya::programs::TracePoint;
use aya::EbpfLoader;
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, getpid_n, tgid, Guard};

const MAGIC: u64 = 0x5eed_0fa7_a0c0_ffee;
const N: u64 = 25;

/// The u64 variables of a global-data section map (one value of `[u64; 2]`).
fn section(bpf: &aya::Ebpf, name: &str) -> [u64; 2] {
    let map = bpf.map(name).unwrap_or_else(|| fail(format!("map `{name}`"), "aya made no map for the section"));
    let a: Array<_, [u64; 2]> = check_ok(Array::try_from(map), format!("{name} as Array<[u64; 2]>"));
    check_ok(a.get(&0, 0), format!("{name}[0] (BPF_MAP_LOOKUP_ELEM)"))
}

fn main() {
    let guard = Guard::new();
    let pid = u64::from(tgid());

    guard.step(60, "load global_data.o");
    let mut bpf = check_ok(
        EbpfLoader::new()
            .override_global("target_tgid", &pid, true)
            .override_global("magic", &MAGIC, true)
            .load(bpf_object!("global_data")),
        "EbpfLoader::override_global(target_tgid, magic).load(global_data.o)",
    );
    for name in [".rodata", ".data", ".bss"] {
        check(bpf.map(name).is_some(), format!("aya created the {name} map"), "missing");
    }
    check_eq(section(&bpf, ".rodata"), [pid, MAGIC], ".rodata holds the values set before the load");
    check_eq(section(&bpf, ".data"), [7, 1], ".data holds its initial values (7, 1)");
    check_eq(section(&bpf, ".bss"), [0, 0], ".bss is zero");

    // .rodata is frozen (BPF_MAP_FREEZE): user space writes fail with EPERM.
    {
        let map = bpf.map_mut(".rodata").unwrap();
        let mut ro: Array<_, [u64; 2]> = check_ok(Array::try_from(map), ".rodata as Array");
        match ro.set(0, [1, 2], 0) {
            Ok(()) => fail("write to the frozen .rodata", "succeeded"),
            Err(aya::maps::MapError::SyscallError(e)) => {
                check_eq(e.io_error.raw_os_error(), Some(libc::EPERM), "write to the frozen .rodata -> EPERM")
            }
            Err(e) => fail("write to the frozen .rodata", ayatest::error_chain(&e)),
        }
    }
    check_eq(section(&bpf, ".rodata"), [pid, MAGIC], ".rodata unchanged");

    guard.step(60, "attach");
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("globals_getpid").unwrap_or_else(|| fail("program `globals_getpid`", "missing")).try_into(),
        "globals_getpid is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load (map-value pseudo loads of .rodata/.data/.bss)");
    check_ok(prog.attach("syscalls", "sys_enter_getpid"), "TracePoint::attach(syscalls, sys_enter_getpid)");

    guard.step(60, "getpid calls");
    getpid_n(N, pid as u32);
    check_eq(section(&bpf, ".data"), [7 + N, 1], format!(".data counter: 7 + {N} calls x step 1"));
    check_eq(section(&bpf, ".bss"), [N, MAGIC], ".bss: call count and the .rodata magic the program read");

    // User space writes .data: the program sees the new step.
    {
        let map = bpf.map_mut(".data").unwrap();
        let mut d: Array<_, [u64; 2]> = check_ok(Array::try_from(map), ".data as Array (writable)");
        check_ok(d.set(0, [1000, 10], 0), ".data = {1000, 10} from user space");
    }
    getpid_n(N, pid as u32);
    check_eq(section(&bpf, ".data"), [1000 + 10 * N, 10], format!(".data counter: 1000 + {N} calls x step 10"));
    check_eq(section(&bpf, ".bss"), [2 * N, MAGIC], ".bss call count");
    done();
}
