//! Scenario 11: introspection. aya's loaded_programs() and loaded_maps() (BPF_*_GET_NEXT_ID,
//! BPF_*_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD) list the test's program and maps with their
//! names, types and ids; the program's map ids are its maps.

use aya::maps::MapType;
use aya::programs::TracePoint;
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, load, Guard};

fn main() {
    let guard = Guard::new();
    guard.step(60, "load introspect.o");
    let mut bpf = load(bpf_object!("introspect"), "introspect.o");
    // What aya's load-time feature probes found (informational: compare kernels with it).
    println!("# aya::features(): {:?}", aya::features());
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("intro_prog").unwrap_or_else(|| fail("program `intro_prog`", "missing")).try_into(),
        "intro_prog is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");
    let info = check_ok(prog.info(), "TracePoint::info (BPF_OBJ_GET_INFO_BY_FD)");
    let prog_id = info.id();
    check(prog_id > 0, format!("program id {prog_id}"), "zero");

    guard.step(60, "loaded_programs");
    let progs: Vec<_> = aya::programs::loaded_programs().map(|p| check_ok_quiet(p, "loaded_programs() item")).collect();
    println!("# loaded_programs(): {} program(s)", progs.len());
    let mine = progs.iter().find(|p| p.id() == prog_id).unwrap_or_else(|| {
        fail(
            "loaded_programs() lists our program",
            format!("id {prog_id} not among {:?}", progs.iter().map(|p| p.id()).collect::<Vec<_>>()),
        )
    });
    ayatest::ok(format!("loaded_programs() lists our program (id {prog_id})"));
    check_eq(mine.name_as_str(), Some("intro_prog"), "its name");
    check_eq(mine.program_type() as u32, 5, "its type: BPF_PROG_TYPE_TRACEPOINT (5)");
    check_eq(mine.tag(), info.tag(), "its tag matches the loaded program's");
    check_eq(mine.gpl_compatible(), Some(true), "GPL-compatible license");
    let map_ids =
        check_ok(mine.map_ids(), "ProgramInfo::map_ids").unwrap_or_else(|| fail("map_ids", "kernel returned none"));
    let mut map_ids = map_ids.clone();
    map_ids.sort_unstable();

    guard.step(60, "loaded_maps");
    let maps: Vec<_> = aya::maps::loaded_maps().map(|m| check_ok_quiet(m, "loaded_maps() item")).collect();
    println!("# loaded_maps(): {} map(s)", maps.len());
    let want = [
        ("intro_hash", MapType::Hash, 4, 8, 16),
        ("intro_array", MapType::Array, 4, 4, 4),
        ("intro_ring", MapType::RingBuf, 0, 0, 4096),
    ];
    let mut ours = Vec::new();
    for (name, ty, ks, vs, max) in want {
        let m = maps.iter().find(|m| m.name_as_str() == Some(name) && map_ids.contains(&m.id()));
        let m = m.unwrap_or_else(|| {
            fail(format!("loaded_maps() lists `{name}` among the program's maps {map_ids:?}"), "not found")
        });
        ayatest::ok(format!("loaded_maps() lists {name} (id {})", m.id()));
        check_eq(check_ok(m.map_type(), format!("{name} type")) as u32, ty as u32, format!("{name}: type {ty:?}"));
        check_eq(
            (m.key_size(), m.value_size(), m.max_entries()),
            (ks, vs, max),
            format!("{name}: key/value size, max_entries"),
        );
        ours.push(m.id());
    }
    ours.sort_unstable();
    check_eq(ours, map_ids, "the program's map ids are exactly its three maps");
    done();
}

fn check_ok_quiet<T, E: std::error::Error + 'static>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| fail(what, ayatest::error_chain(&e)))
}
