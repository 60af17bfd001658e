//! Scenario 8: pinning. This process pins a map and a program under /sys/fs/bpf; a second
//! process (this binary again, `--child`) opens both from their pins, reads the data, attaches
//! the pinned program and counts its own calls; unlinking the pins frees the objects once no
//! process uses them.

use std::process::Command;
use std::time::{Duration, Instant};

use aya::maps::{HashMap, IterableMap, Map, MapData};
use aya::programs::TracePoint;
use ayatest::{bpf_object, bpffs, check, check_eq, check_ok, done, fail, getpid_n, load, tgid, Guard};

const N: u64 = 15;

fn child(map_path: &str, prog_path: &str, parent: u32) -> ! {
    let pid = tgid();
    let md = check_ok(MapData::from_pin(map_path), format!("child: MapData::from_pin({map_path})"));
    let map = check_ok(Map::from_map_data(md), "child: Map::from_map_data");
    let counts: HashMap<_, u32, u64> = check_ok(HashMap::try_from(map), "child: pinned map as HashMap<u32, u64>");
    check_eq(
        check_ok(counts.get(&1, 0), "child: counts[1]"),
        42,
        "child: reads the value the first process stored (42)",
    );
    check_eq(check_ok(counts.get(&parent, 0), "child: counts[parent]"), N, "child: reads the first process's count");
    let mut prog = check_ok(TracePoint::from_pin(prog_path), format!("child: TracePoint::from_pin({prog_path})"));
    let info = check_ok(prog.info(), "child: program info");
    check_eq(info.name_as_str(), Some("pin_getpid"), "child: the pinned program's name");
    check_ok(prog.attach("syscalls", "sys_enter_getpid"), "child: attach the pinned program");
    getpid_n(7, pid);
    check_eq(check_ok(counts.get(&pid, 0), "child: counts[child]"), 7, "child: its own 7 calls counted");
    std::process::exit(0);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 5 && args[1] == "--child" {
        child(&args[2], &args[3], args[4].parse().unwrap());
    }
    let guard = Guard::new();
    let pid = tgid();
    let fs = bpffs();
    let map_path = format!("{fs}/aya_pin_{pid}_map");
    let prog_path = format!("{fs}/aya_pin_{pid}_prog");

    guard.step(60, "load and pin");
    let mut bpf = load(bpf_object!("pin"), "pin.o");
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("pin_getpid").unwrap_or_else(|| fail("program `pin_getpid`", "missing")).try_into(),
        "pin_getpid is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");
    let prog_id = check_ok(prog.info(), "program info").id();
    check_ok(prog.pin(&prog_path), format!("pin the program at {prog_path}"));
    let link = check_ok(prog.attach("syscalls", "sys_enter_getpid"), "attach");
    let map = bpf.map_mut("pin_counts").unwrap_or_else(|| fail("map `pin_counts`", "missing"));
    check_ok(map.pin(&map_path), format!("pin the map at {map_path}"));
    let mut counts: HashMap<_, u32, u64> = check_ok(HashMap::try_from(map), "pin_counts as HashMap<u32, u64>");
    let map_id = check_ok(counts.map().info(), "map info").id();
    check_ok(counts.insert(1, 42, 0), "counts[1] = 42");
    getpid_n(N, pid);
    let prog: &mut TracePoint = bpf.program_mut("pin_getpid").unwrap().try_into().unwrap();
    check_ok(prog.detach(link), "detach (the child attaches the pinned program itself)");

    guard.step(60, "second process");
    let exe = check_ok(std::env::current_exe(), "current_exe");
    let st = check_ok(
        Command::new(exe).args(["--child", &map_path, &prog_path, &pid.to_string()]).status(),
        "run the second process",
    );
    check_eq(st.code(), Some(0), "the second process passed");

    guard.step(60, "unpin");
    let alive = |id: u32, maps: bool| {
        if maps {
            aya::maps::loaded_maps().filter_map(Result::ok).any(|m| m.id() == id)
        } else {
            aya::programs::loaded_programs().filter_map(Result::ok).any(|p| p.id() == id)
        }
    };
    check_ok(std::fs::remove_file(&map_path), format!("unlink {map_path}"));
    check_ok(std::fs::remove_file(&prog_path), format!("unlink {prog_path}"));
    check(!std::path::Path::new(&map_path).exists(), "the pin is gone", "still there");
    check(alive(map_id, true) && alive(prog_id, false), "still loaded while this process holds them", "freed early");
    drop(bpf);
    // Linux frees them asynchronously (RCU, work queues): wait up to 5 s.
    let t = Instant::now();
    while (alive(map_id, true) || alive(prog_id, false)) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    check(!alive(map_id, true), format!("map id {map_id} freed after unpin + close"), "still listed");
    check(!alive(prog_id, false), format!("program id {prog_id} freed after unpin + close"), "still listed");
    check(MapData::from_pin(&map_path).is_err(), "MapData::from_pin on the removed path fails", "opened");
    done();
}
