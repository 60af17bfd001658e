//! The engine of the layout test: generates a C program from the crate's layout and constant
//! tables, compiles it with gcc against the real uapi headers, runs it, and compares what it
//! prints with the Rust side.
//!
//! What is compared:
//! - `S`: `sizeof`/`_Alignof` of every C type (whole mirrors: equal; parts: Rust not larger);
//! - `F`: `offsetof` and `sizeof` of every designator of every named field;
//! - `O`: `offsetof` of flexible array members (their `sizeof` is not defined in C);
//! - `B`: the raw bytes of a zeroed C struct after one bitfield member was set to all-ones
//!   (`m = 0; m--;`), against the bytes the Rust setter produces;
//! - `C`/`E`: the value of every constant and errno;
//! - `L`: the end offset of every command's last field in `union bpf_attr`.
//!
//! Fields without a C name (padding, bitfield storage) are checked on the Rust side: every
//! field must start where the previous one ends, and the last one must end at the struct size.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use syscall_abi::abi::{ConstTable, ConstValue, FieldKind, FieldLayout, StructLayout};
use syscall_abi::bpf::LastField;

/// Everything to check.
pub struct Spec<'a> {
    pub layouts: &'a [StructLayout],
    pub tables: &'a [ConstTable],
    pub last_fields: &'a [LastField],
    pub errnos: &'a [ConstValue],
}

/// How much was compared, for the test's summary line.
#[derive(Debug, Default)]
pub struct Counts {
    pub structs: usize,
    pub fields: usize,
    pub designators: usize,
    pub bits: usize,
    pub consts: usize,
    pub last_fields: usize,
    pub errnos: usize,
}

/// The result of one check.
#[derive(Debug, Default)]
pub struct Report {
    pub mismatches: Vec<String>,
    pub counts: Counts,
}

fn designators(f: &FieldLayout) -> Vec<&'static str> {
    let mut d = Vec::new();
    if !f.c.is_empty() {
        d.push(f.c);
    }
    d.extend_from_slice(f.alts);
    d
}

/// The C program for `spec`.
pub fn generate_c(spec: &Spec) -> String {
    let mut c = String::new();
    c.push_str(include_str!("c_prelude.h"));
    c.push_str("\nint main(void)\n{\n");
    for (i, l) in spec.layouts.iter().enumerate() {
        let t = l.c;
        writeln!(c, "\tprintf(\"S {i} %zu %zu\\n\", sizeof({t}), _Alignof({t}));").unwrap();
        for (j, f) in l.fields.iter().enumerate() {
            for (k, d) in designators(f).iter().enumerate() {
                if f.kind == FieldKind::Flex {
                    writeln!(c, "\tprintf(\"O {i} {j} {k} %zu\\n\", offsetof({t}, {d}));").unwrap();
                } else {
                    writeln!(c, "\tprintf(\"F {i} {j} {k} %zu %zu\\n\", offsetof({t}, {d}), sizeof((({t} *)0)->{d}));")
                        .unwrap();
                }
            }
            for (k, b) in f.bits.iter().enumerate() {
                let m = b.c;
                writeln!(
                    c,
                    "\t{{ {t} x; memset(&x, 0, sizeof x); x.{m} = 0; x.{m}--; hex({i}, {j}, {k}, &x, sizeof x); }}"
                )
                .unwrap();
            }
        }
    }
    for (t, table) in spec.tables.iter().enumerate() {
        for (k, v) in table.consts.iter().enumerate() {
            writeln!(c, "\tPV(\"C\", {t}, {k}, {});", v.c).unwrap();
        }
    }
    for (i, l) in spec.last_fields.iter().enumerate() {
        let d = l.c;
        writeln!(c, "\tprintf(\"L {i} %zu\\n\", offsetof(union bpf_attr, {d}) + sizeof(((union bpf_attr *)0)->{d}));")
            .unwrap();
    }
    for (k, e) in spec.errnos.iter().enumerate() {
        writeln!(c, "\tPV(\"E\", 0, {k}, {});", e.c).unwrap();
    }
    c.push_str("\treturn 0;\n}\n");
    c
}

/// Compiles and runs `source`, returning its standard output. Panics (loudly) when no C
/// compiler can be run: the layout test must not be skipped silently.
pub fn compile_and_run(source: &str, tag: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("layout-test");
    std::fs::create_dir_all(&dir).expect("create the test's temporary directory");
    let src = dir.join(format!("{tag}.c"));
    let exe = dir.join(format!("{tag}.bin"));
    std::fs::write(&src, source).expect("write the generated C program");
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".to_string());
    let out = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Werror", "-O0", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the C compiler `{cc}` ({e}): the layout test needs gcc and the Linux uapi headers")
        });
    assert!(
        out.status.success(),
        "the generated C program ({}) does not compile: a C name in the Rust tables does not exist in the \
         headers, or a designator is wrong:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("run the generated C program");
    assert!(run.status.success(), "the generated C program failed: {:?}", run.status);
    String::from_utf8(run.stdout).expect("C output is ASCII")
}

fn nums(parts: &[&str]) -> Vec<i128> {
    parts.iter().map(|p| p.parse::<i128>().unwrap_or(i128::MIN)).collect()
}

/// Compares the C program's output with the Rust tables.
pub fn compare(spec: &Spec, output: &str) -> Report {
    let mut sizes: HashMap<usize, (i128, i128)> = HashMap::new();
    let mut fields: HashMap<(usize, usize, usize), (i128, Option<i128>)> = HashMap::new();
    let mut bits: HashMap<(usize, usize, usize), String> = HashMap::new();
    let mut consts: HashMap<(usize, usize), i128> = HashMap::new();
    let mut lasts: HashMap<usize, i128> = HashMap::new();
    let mut errnos: HashMap<usize, i128> = HashMap::new();
    for line in output.lines() {
        let p: Vec<&str> = line.split(' ').collect();
        let n = nums(&p[1..]);
        let idx = |k: usize| usize::try_from(n[k]).unwrap_or(usize::MAX);
        match p[0] {
            "S" => drop(sizes.insert(idx(0), (n[1], n[2]))),
            "F" => drop(fields.insert((idx(0), idx(1), idx(2)), (n[3], Some(n[4])))),
            "O" => drop(fields.insert((idx(0), idx(1), idx(2)), (n[3], None))),
            "B" => drop(bits.insert((idx(0), idx(1), idx(2)), p[4].to_string())),
            "C" => drop(consts.insert((idx(0), idx(1)), n[2])),
            "L" => drop(lasts.insert(idx(0), n[1])),
            "E" => drop(errnos.insert(idx(1), n[2])),
            _ => panic!("unexpected line from the C program: {line}"),
        }
    }

    let mut r = Report::default();
    let mut bad = |s: String| r.mismatches.push(s);
    let mut counts = Counts::default();

    for (i, l) in spec.layouts.iter().enumerate() {
        counts.structs += 1;
        let name = format!("{} ({})", l.rust, l.c);
        match sizes.get(&i) {
            None => bad(format!("{name}: no sizeof from C")),
            Some(&(size, align)) => {
                let (rs, ra) = (l.size as i128, l.align as i128);
                if l.whole && (rs != size || ra != align) {
                    bad(format!("{name}: size/align Rust {rs}/{ra}, C {size}/{align}"));
                }
                if !l.whole && rs > size {
                    bad(format!("{name}: part is larger than the C type: Rust {rs}, C {size}"));
                }
            }
        }
        let mut end = 0usize;
        for (j, f) in l.fields.iter().enumerate() {
            counts.fields += 1;
            let fname = format!("{name}.{}", f.rust);
            if f.offset != end {
                bad(format!("{fname}: starts at {} but the previous field ends at {end} (gap or overlap)", f.offset));
            }
            end = f.offset + f.size;
            let ds = designators(f);
            let mut largest = 0i128;
            for (k, d) in ds.iter().enumerate() {
                counts.designators += 1;
                let Some(&(off, csize)) = fields.get(&(i, j, k)) else {
                    bad(format!("{fname} => \"{d}\": no offsetof from C"));
                    continue;
                };
                if off != f.offset as i128 {
                    bad(format!("{fname} => \"{d}\": offset Rust {}, C {off}", f.offset));
                }
                match (f.kind, csize) {
                    (FieldKind::Flex, _) if f.size != 0 => {
                        bad(format!("{fname} => \"{d}\": flexible array must be zero-sized, is {}", f.size));
                    }
                    (FieldKind::Member, Some(cs)) if cs != f.size as i128 => {
                        bad(format!("{fname} => \"{d}\": size Rust {}, C {cs}", f.size));
                    }
                    (FieldKind::Union, Some(cs)) => {
                        largest = largest.max(cs);
                        if cs > f.size as i128 {
                            bad(format!(
                                "{fname} => \"{d}\": union arm of {cs} bytes larger than the field ({})",
                                f.size
                            ));
                        }
                    }
                    _ => {}
                }
            }
            if f.kind == FieldKind::Union && largest != f.size as i128 {
                bad(format!("{fname}: union field of {} bytes, largest C arm {largest}", f.size));
            }
            for (k, b) in f.bits.iter().enumerate() {
                counts.bits += 1;
                let mut buf = vec![0u8; l.size];
                (b.set_all)(&mut buf);
                let rust: String = buf.iter().map(|x| format!("{x:02x}")).collect();
                match bits.get(&(i, j, k)) {
                    None => bad(format!("{fname} bit `{}`: no bytes from C", b.c)),
                    Some(c) if *c != rust => bad(format!("{fname} bit `{}`: Rust sets {rust}, C sets {c}", b.c)),
                    Some(_) => {}
                }
            }
        }
        if end != l.size {
            bad(format!("{name}: fields end at {end}, struct size is {}", l.size));
        }
    }

    for (t, table) in spec.tables.iter().enumerate() {
        for (k, v) in table.consts.iter().enumerate() {
            counts.consts += 1;
            match consts.get(&(t, k)) {
                None => bad(format!("{}::{}: no value from C", table.name, v.c)),
                Some(&c) if c != v.value => bad(format!("{}::{}: Rust {}, C {c}", table.name, v.c, v.value)),
                Some(_) => {}
            }
        }
    }
    for (i, l) in spec.last_fields.iter().enumerate() {
        counts.last_fields += 1;
        match lasts.get(&i) {
            None => bad(format!("last field of {:?}: no value from C", l.cmd)),
            Some(&c) if c != l.end as i128 => {
                bad(format!("last field of {:?} ({}): end Rust {}, C {c}", l.cmd, l.c, l.end))
            }
            Some(_) => {}
        }
    }
    for (k, e) in spec.errnos.iter().enumerate() {
        counts.errnos += 1;
        match errnos.get(&k) {
            None => bad(format!("errno {}: no value from C", e.c)),
            Some(&c) if c != e.value => bad(format!("errno {}: Rust {}, C {c}", e.c, e.value)),
            Some(_) => {}
        }
    }
    r.counts = counts;
    r
}

/// Generates, compiles, runs and compares.
pub fn check(spec: &Spec, tag: &str) -> Report {
    let source = generate_c(spec);
    let output = compile_and_run(&source, tag);
    compare(spec, &output)
}
