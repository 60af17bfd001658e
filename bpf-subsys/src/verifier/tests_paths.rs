//! Path sensitivity and pointer types: programs Linux accepts that a merging pass rejected,
//! map values and ring buffer memory with and without null checks, bounds, loops, and the
//! clang-compiled objects of `tests/bpf/`.

use alloc::string::String;
use alloc::vec::Vec;

use syscall_abi::bpf::{MapType, ProgType};
use syscall_abi::Errno;

use super::*;

/// Helpers of a program type, and maps by fd with known attributes.
struct MapOps {
    helpers: TracingHelpers,
    maps: Vec<(i32, MapInfo)>,
}

impl VerifierOps for MapOps {
    fn helper_proto(&self, id: u32) -> Option<HelperProto> {
        self.helpers.helper_proto(id)
    }

    fn map_info(&self, load: &PseudoLoad) -> Option<MapInfo> {
        self.maps.iter().find(|(fd, _)| *fd == load.imm).map(|(_, info)| *info)
    }
}

/// fd 3: array, 4-byte keys, 8-byte values; fd 4: array of 32-byte values; fd 5: ring buffer.
fn maps() -> Vec<(i32, MapInfo)> {
    let info = |map_type, key_size, value_size| MapInfo { map_type, key_size, value_size, max_entries: 4 };
    alloc::vec![
        (3, info(MapType::Array, 4, 8)),
        (4, info(MapType::Array, 4, 32)),
        (5, info(MapType::Ringbuf, 0, 0)),
        (6, info(MapType::ProgArray, 4, 4)),
    ]
}

/// Verifies with [`maps`]; the result and the log.
fn run(insns: &[RawInsn], prog_type: ProgType) -> (Result<VerifiedProgram, Error>, String) {
    run_with(insns, prog_type, &[])
}

/// [`run`] with more array maps: fd and value size.
fn run_with(insns: &[RawInsn], prog_type: ProgType, extra: &[(i32, u32)]) -> (Result<VerifiedProgram, Error>, String) {
    let input = VerifierInput::new(insns, prog_type);
    let mut all = maps();
    for &(fd, value_size) in extra {
        all.push((fd, MapInfo { map_type: MapType::Array, key_size: 4, value_size, max_entries: 1 }));
    }
    let mut ops = MapOps { helpers: TracingHelpers { prog_type, privileged: true }, maps: all };
    let mut log = VerifierLog::new(1, true, 1 << 20).expect("log");
    let r = verify(&input, &mut ops, &mut log);
    (r, String::from(log.text()))
}

#[track_caller]
fn ok(insns: &[RawInsn]) {
    let (r, log) = run(insns, ProgType::Kprobe);
    assert!(r.is_ok(), "rejected: {r:?}\n{log}");
}

#[track_caller]
fn rejected(insns: &[RawInsn], errno: Errno, line: &str) {
    let (r, log) = run(insns, ProgType::Kprobe);
    assert_eq!(r.map(|_| ()).map_err(|e| e.errno), Err(errno), "{log}");
    assert!(log.lines().any(|l| l == line), "no line {line:?} in:\n{log}");
}

/// `*(u32 *)(fp-4) = 0; r2 = fp-4; r1 = map fd; call bpf_map_lookup_elem`, then `rest`.
fn lookup(fd: i32, rest: &str) -> Vec<RawInsn> {
    let mut p = prog("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4");
    p.extend_from_slice(&ld_pseudo(1, 1, fd, 0));
    p.extend(prog(&alloc::format!("call 1\n{rest}")));
    p
}

#[test]
fn correlated_branches_are_accepted() {
    // r6 is written only when r7 != 0, and read only when r7 != 0.
    let p = prog("call 7\nmov %r7, %r0\njeq %r7, 0, +1\nmov %r6, 1\nmov %r0, 0\njeq %r7, 0, +1\nadd %r0, %r6\nexit");
    ok(&p);
    // The same with the test in the other sense, and the second one on the original.
    ok(&prog(
        "call 7\nmov %r7, %r0\njgt %r7, 5, +1\nmov %r6, 1\nmov %r8, 0\njgt %r0, 5, +1\nadd %r8, %r6\nmov %r0, %r8\nexit",
    ));
    // Uncorrelated: still rejected.
    rejected(
        &prog("call 7\nmov %r7, %r0\njeq %r7, 0, +1\nmov %r6, 1\ncall 7\njeq %r0, 0, +1\nadd %r0, %r6\nexit"),
        Errno::EACCES,
        "R6 !read_ok",
    );
}

#[test]
fn map_values_need_a_null_check() {
    // Issue 6 scenario 12: the unchecked dereference and Linux's message.
    rejected(&lookup(3, "ldxdw %r0, [%r0+0]\nexit"), Errno::EACCES, "R0 invalid mem access 'map_value_or_null'");
    // A copy made before the check is checked with it.
    ok(&lookup(3, "mov %r6, %r0\njeq %r0, 0, +2\nldxdw %r0, [%r6+0]\nexit\nmov %r0, 0\nexit"));
    // On the null edge the pointer is the scalar 0.
    rejected(
        &lookup(3, "jne %r0, 0, +2\nldxdw %r0, [%r0+0]\nexit\nmov %r0, 0\nexit"),
        Errno::EACCES,
        "R0 invalid mem access 'scalar'",
    );
    // Arithmetic before the check.
    rejected(
        &lookup(3, "add %r0, 8\nmov %r0, 0\nexit"),
        Errno::EACCES,
        "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first",
    );
}

#[test]
fn map_value_bounds() {
    rejected(
        &lookup(3, "jeq %r0, 0, +1\nldxdw %r0, [%r0+8]\nmov %r0, 0\nexit"),
        Errno::EACCES,
        "invalid access to map value, value_size=8 off=8 size=8",
    );
    rejected(
        &lookup(3, "jeq %r0, 0, +1\nstw [%r0+6], 1\nmov %r0, 0\nexit"),
        Errno::EACCES,
        "invalid access to map value, value_size=8 off=6 size=4",
    );
    ok(&lookup(3, "jeq %r0, 0, +1\nstw [%r0+4], 1\nmov %r0, 0\nexit"));
    // A bounded index: `if (idx < 4) v[idx]` over 32-byte values.
    let indexed = |cmp: &str| {
        lookup(
            4,
            &alloc::format!(
                "jeq %r0, 0, +7\nmov %r6, %r0\ncall 7\n{cmp}\nlsh %r0, 3\nadd %r6, %r0\nldxdw %r0, [%r6+0]\nexit\nmov %r0, 0\nexit"
            ),
        )
    };
    ok(&indexed("jge %r0, 4, +4"));
    rejected(&indexed("jgt %r0, 4, +4"), Errno::EACCES, "invalid access to map value, value_size=32 off=32 size=8");
    rejected(
        &indexed("jeq %r0, 4, +4"),
        Errno::EINVAL,
        "math between map_value pointer and register with unbounded min value is not allowed",
    );
    // The value of a pseudo map-value load is sized too.
    let mut p = ld_pseudo(1, 2, 3, 4).to_vec();
    p.extend(prog("ldxw %r0, [%r1+0]\nldxw %r0, [%r1+4]\nexit"));
    let (r, log) = run(&p, ProgType::Kprobe);
    assert_eq!(r.map(|_| ()).map_err(|e| e.errno), Err(Errno::EACCES), "{log}");
    assert!(log.contains("invalid access to map value, value_size=8 off=8 size=4"), "{log}");
}

#[test]
fn helper_arguments_are_typed() {
    rejected(&prog("mov %r1, 0\nmov %r2, 0\ncall 1\nexit"), Errno::EACCES, "R1 type=scalar expected=map_ptr");
    let mut p = ld_pseudo(1, 1, 3, 0).to_vec();
    p.extend(prog("mov %r2, 0\ncall 1\nexit"));
    rejected(&p, Errno::EACCES, "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value");
    // The key must be initialised and as long as the map's key.
    let mut p = prog("mov %r2, %r10\nadd %r2, -4");
    p.extend_from_slice(&ld_pseudo(1, 1, 3, 0));
    p.extend(prog("call 1\nmov %r0, 0\nexit"));
    rejected(&p, Errno::EACCES, "invalid indirect read from stack R2 off -4+0 size 4");
    // A ring buffer map where an array is expected.
    let mut p = prog("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4");
    p.extend_from_slice(&ld_pseudo(1, 1, 5, 0));
    p.extend(prog("call 1\nmov %r0, 0\nexit"));
    rejected(&p, Errno::EINVAL, "cannot pass map_type 27 into func bpf_map_lookup_elem#1");
    // Context offsets: pt_regs is 168 bytes.
    rejected(&prog("ldxdw %r0, [%r1+168]\nexit"), Errno::EACCES, "invalid bpf_context access off=168 size=8");
    ok(&prog("ldxdw %r0, [%r1+160]\nexit"));
    rejected(
        &prog("add %r1, 8\nldxdw %r0, [%r1+0]\nexit"),
        Errno::EACCES,
        "dereference of modified ctx ptr R1 off=8 disallowed",
    );
}

#[test]
fn ring_buffer_memory() {
    let reserve = |rest: &str| {
        let mut p = ld_pseudo(1, 1, 5, 0).to_vec();
        p.extend(prog(&alloc::format!("mov %r2, 16\nmov %r3, 0\ncall 131\n{rest}")));
        p
    };
    rejected(&reserve("stdw [%r0+0], 1\nmov %r0, 0\nexit"), Errno::EACCES, "R0 invalid mem access 'alloc_mem_or_null'");
    ok(&reserve("jeq %r0, 0, +5\nstdw [%r0+8], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit"));
    rejected(
        &reserve("jeq %r0, 0, +5\nstdw [%r0+16], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit"),
        Errno::EACCES,
        "invalid access to memory, mem_size=16 off=16 size=8",
    );
    rejected(
        &reserve("jeq %r0, 0, +1\nstdw [%r0+8], 1\nmov %r0, 0\nexit"),
        Errno::EINVAL,
        "Unreleased reference id=1 alloc_insn=4",
    );
    // After the submit the memory is gone.
    rejected(
        &reserve("jeq %r0, 0, +5\nmov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\ncall 132\nstdw [%r6+0], 1\nmov %r0, 0\nexit"),
        Errno::EACCES,
        "R6 invalid mem access 'scalar'",
    );
}

#[test]
fn loops() {
    // Bounded: every iteration is explored.
    ok(&prog("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 10, l\nexit"));
    // Summing a 32-byte value in a loop.
    ok(&lookup(4, "jeq %r0, 0, +9\nmov %r1, 0\nmov %r6, 0\nl:\nmov %r2, %r0\nadd %r2, %r1\nldxb %r3, [%r2+0]\nadd %r6, %r3\nadd %r1, 1\njlt %r1, 32, l\nmov %r0, %r6\nexit"));
    // The same state again at a loop head.
    rejected(&prog("mov %r0, 0\nl:\njeq %r0, 0, l\nexit"), Errno::EINVAL, "infinite loop detected at insn 1");
    // A loop whose states all differ runs into the complexity limit.
    let insns = prog("mov %r0, 0\nl:\nadd %r0, 1\njne %r0, 0, l\nexit");
    let input = VerifierInput::new(&insns, ProgType::Kprobe);
    let mut ops = TracingHelpers { prog_type: ProgType::Kprobe, privileged: true };
    // Level 4: the error line and the statistics, without the 1M-line trace.
    let mut log = VerifierLog::new(4, true, 4096).expect("log");
    let r = verify(&input, &mut ops, &mut log);
    let log = String::from(log.text());
    assert_eq!(r.map(|_| ()).map_err(|e| e.errno), Err(Errno::E2BIG));
    assert!(log.contains("BPF program is too large. Processed 1000001 insn\n"), "{}", &log[log.len() - 300..]);
}

/// The clang-compiled objects of `tests/bpf/`, with their maps as the C declares them.
#[test]
fn clang_objects_verify() {
    use std::process::Command;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bpf");
    let multiarch = alloc::format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let mut checked = 0;
    for name in ["counter", "globals", "tailcall", "verifier_paths"] {
        let out = std::env::temp_dir().join(alloc::format!("bpf-verifier-{}-{name}.o", std::process::id()));
        let status = Command::new("clang")
            .args(["-O2", "-g", "-target", "bpf", "-I", &multiarch, "-c"])
            .arg(dir.join(alloc::format!("{name}.c")))
            .arg("-o")
            .arg(&out)
            .status()
            .expect("clang must be installed");
        assert!(status.success(), "clang failed on {name}.c");
        let elf = std::fs::read(&out).expect("object");
        let _ = std::fs::remove_file(&out);
        let data = super::tests_elf::data_maps(&elf);
        for (section, insns, ty) in super::tests_elf::programs(&elf) {
            let (r, log) = run_with(&insns, ty, &data);
            let bad = section.contains("bad");
            match (&r, bad) {
                (Ok(_), false) | (Err(_), true) => checked += 1,
                _ => panic!("{name}.c {section}: {r:?}\n{log}"),
            }
            if section == "kprobe/bad_unchecked" {
                assert!(log.contains("R0 invalid mem access 'map_value_or_null'"), "{log}");
            }
        }
    }
    assert!(checked >= 8, "{checked} programs");
}
