//! The layout test: every mirrored struct, constant, bitfield, command last field and errno
//! of `syscall-abi`, compared with the Linux 6.1 uapi headers of this machine through a
//! generated C program compiled by gcc (see `support/checker.rs`).
//!
//! Coverage is not sampled: the C program is generated from the crate's registry
//! (`abi::ALL_LAYOUTS`, `abi::ALL_CONSTS`, `bpf::LAST_FIELDS`, `Errno::UAPI`), and
//! [`registry_lists_every_macro_invocation`] proves the registry complete by counting the
//! `uapi_struct!`/`uapi_enum!`/`uapi_consts!` invocations in the sources.
//!
//! Special members:
//! - C bitfields (`bpf_insn.dst_reg/src_reg`, every `perf_event_attr` flag,
//!   `bpf_prog_info.gpl_compatible`, `perf_event_mmap_page.cap_*`, `perf_branch_entry`,
//!   `perf_mem_data_src`) are compared bit for bit through the Rust setters;
//! - unnamed bitfields (`__u32 :32`, `__u64 :64`) and implicit padding are explicit Rust fields
//!   without a C name; they are checked to fill exactly the gap between named members;
//! - flexible and zero-length arrays (`bpf_lpm_trie_key.data`, `perf_event_query_bpf.ids`,
//!   `bpf_raw_tracepoint_args.args`, loongarch `pt_regs.__last`) are zero-length Rust arrays
//!   whose offset is compared; the data after them is not part of the Rust struct;
//! - unions of differently shaped members (`bpf_attr.link_create`, `bpf_link_info`,
//!   `bpf_iter_link_info`) are mirrored as one view struct per arm, every arm checked.

#[path = "support/checker.rs"]
mod checker;

use checker::{check, Spec};
use syscall_abi::abi::{
    BitLayout, ConstTable, ConstValue, FieldKind, FieldLayout, Pod, StructLayout, ALL_CONSTS, ALL_LAYOUTS,
};
use syscall_abi::bpf::{BpfInsn, Cmd, LastField, LAST_FIELDS};
use syscall_abi::Errno;

fn errnos() -> Vec<ConstValue> {
    Errno::UAPI.iter().chain(Errno::UAPI_ALIASES).copied().collect()
}

#[test]
fn layout_matches_c_headers() {
    let errnos = errnos();
    let spec = Spec { layouts: ALL_LAYOUTS, tables: ALL_CONSTS, last_fields: LAST_FIELDS, errnos: &errnos };
    let report = check(&spec, "all");
    let c = &report.counts;
    println!(
        "layout: {} structs, {} fields ({} C designators), {} bitfield members, {} constants in {} tables, \
         {} command last fields, {} errnos checked; sizeof(union bpf_attr) = {}",
        c.structs,
        c.fields,
        c.designators,
        c.bits,
        c.consts,
        ALL_CONSTS.len(),
        c.last_fields,
        c.errnos,
        syscall_abi::bpf::BpfAttr::SIZE
    );
    assert!(
        report.mismatches.is_empty(),
        "{} mismatches between the Rust mirrors and the C headers:\n{}",
        report.mismatches.len(),
        report.mismatches.join("\n")
    );
    assert_eq!(c.structs, ALL_LAYOUTS.len());
    assert_eq!(c.last_fields, Cmd::ALL.len(), "every command has a last field");
}

#[test]
fn bpf_attr_is_144_bytes() {
    // Also checked against C above; pinned here so a change is a conscious one.
    assert_eq!(syscall_abi::bpf::BpfAttr::SIZE, 144);
    assert_eq!(syscall_abi::bpf::BpfAttr::LAYOUT.align, 8);
}

/// Counts `name! {` invocations outside comments in every source file of the crate.
fn count_invocations(name: &str) -> usize {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read src/") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(&p, files);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 10, "found the crate's sources");
    // An invocation: `name!` (alone or after a path) followed by `{`, on a non-comment line;
    // `name!(@...)` are the macros' internal rules, `macro_rules! name` their definitions.
    let bang = format!("{name}!");
    files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .expect("read source")
                .lines()
                .map(str::trim_start)
                .filter(|l| !l.starts_with("//"))
                .filter(|l| {
                    l.match_indices(&bang).any(|(at, _)| {
                        let before = &l[..at];
                        let path_ok = before.is_empty() || before.ends_with("::");
                        path_ok && l[at + bang.len()..].trim_start().starts_with('{')
                    })
                })
                .count()
        })
        .sum()
}

#[test]
fn registry_lists_every_macro_invocation() {
    let structs = count_invocations("uapi_struct");
    let enums = count_invocations("uapi_enum");
    let consts = count_invocations("uapi_consts");
    assert!(structs > 50 && enums > 10 && consts > 50, "scan found the invocations: {structs}/{enums}/{consts}");
    assert_eq!(ALL_LAYOUTS.len(), structs, "a uapi_struct! is missing from (or doubled in) abi::ALL_LAYOUTS");
    assert_eq!(ALL_CONSTS.len(), enums + consts, "a uapi_enum!/uapi_consts! is missing from abi::ALL_CONSTS");

    let mut names: Vec<(&str, &str)> = ALL_LAYOUTS.iter().map(|l| (l.rust, l.c)).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ALL_LAYOUTS.len(), "a struct is registered twice");
    let mut tables: Vec<&str> = ALL_CONSTS.iter().map(|t| t.name).collect();
    tables.sort_unstable();
    tables.dedup();
    assert_eq!(tables.len(), ALL_CONSTS.len(), "a constant table is registered twice");
    let mut cnames: Vec<&str> = ALL_CONSTS.iter().flat_map(|t| t.consts.iter().map(|c| c.c)).collect();
    let total = cnames.len();
    cnames.sort_unstable();
    cnames.dedup();
    assert_eq!(cnames.len(), total, "a C constant is mirrored twice");
}

#[test]
fn bitfield_members_do_not_overlap() {
    let mut members = 0;
    for l in ALL_LAYOUTS {
        for f in l.fields {
            let bits = u32::try_from(f.size * 8).expect("small field");
            let mut used = 0u128;
            for b in f.bits {
                members += 1;
                assert!(b.width >= 1 && b.shift + b.width <= bits, "{}.{}: bit range outside the field", l.rust, b.c);
                let mask = ((1u128 << b.width) - 1) << b.shift;
                assert_eq!(used & mask, 0, "{}.{}: overlaps another member", l.rust, b.c);
                used |= mask;
            }
        }
    }
    assert!(members >= 2 + 38 + 1 + 7 + 10 + 11, "all bitfield members registered ({members})");
}

/// The names a uapi header defines: object-like `#define`s with a value, enum members, and
/// the helper names of `__BPF_FUNC_MAPPER` (as `BPF_FUNC_<name>`). Comments are stripped by
/// gcc's preprocessor (`-fpreprocessed -dD`, which keeps directives and expands nothing).
fn header_names(header: &str) -> Vec<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".to_string());
    let out = std::process::Command::new(&cc)
        .args(["-E", "-fpreprocessed", "-dD", "-P", header])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cc}` ({e}): the layout test needs gcc"));
    assert!(out.status.success(), "preprocessing {header} failed");
    let text = String::from_utf8(out.stdout).expect("header is text");
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut names = Vec::new();
    let mut in_enum = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#define") {
            let rest = rest.trim_start();
            let name = ident(rest);
            let after = &rest[name.len()..];
            if !after.starts_with('(') && !after.trim().is_empty() {
                names.push(name);
            }
            continue;
        }
        if t.starts_with("enum") && t.ends_with('{') {
            in_enum = true;
            continue;
        }
        if in_enum {
            if t.starts_with('}') {
                in_enum = false;
            } else if !t.starts_with('#') && !t.is_empty() {
                // A member starts with a letter or `_` (a continued value like `1U << X` does not).
                let name = ident(t);
                let is_member = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
                if is_member && !t[name.len()..].trim_start().starts_with('(') {
                    names.push(name);
                }
            }
        }
        if let Some(helper) = t.strip_prefix("FN(") {
            names.push(format!("BPF_FUNC_{}", ident(helper)));
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

#[test]
fn every_header_constant_is_mirrored() {
    let mirrored: std::collections::HashSet<&str> =
        ALL_CONSTS.iter().flat_map(|t| t.consts.iter().map(|c| c.c)).collect();
    let mut missing = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for header in [
        "/usr/include/linux/bpf.h",
        "/usr/include/linux/bpf_common.h",
        "/usr/include/linux/btf.h",
        "/usr/include/linux/perf_event.h",
    ] {
        for name in header_names(header) {
            if !mirrored.contains(name.as_str()) {
                missing.push(format!("{header}: {name}"));
            }
            seen.insert(name);
        }
    }
    // What the scan must see, so that a broken scan cannot pass: every helper, command and
    // sample bit.
    assert!(seen.len() > 900, "the header scan found only {} names", seen.len());
    for probe in
        ["BPF_FUNC_unspec", "BPF_FUNC_user_ringbuf_drain", "BPF_PROG_BIND_MAP", "PERF_SAMPLE_WEIGHT_STRUCT", "BPF_XCHG"]
    {
        assert!(seen.contains(probe), "the header scan did not see {probe}");
    }
    println!("header scan: {} names defined by the four uapi headers, all mirrored unless listed below", seen.len());
    assert!(missing.is_empty(), "{} uapi constants are not mirrored:\n{}", missing.len(), missing.join("\n"));
}

// ---- The test can fail: deliberately wrong tables are reported. ----

fn set_src_not_dst(out: &mut [u8]) {
    let mut i = BpfInsn::ZERO;
    i.set_src_reg(0xf);
    out[..8].copy_from_slice(i.as_bytes());
}

static BAD_BITS: [BitLayout; 1] =
    [BitLayout { c: "dst_reg", rust: "dst_reg", shift: 0, width: 4, set_all: set_src_not_dst }];

static BAD_INSN_FIELDS: [FieldLayout; 5] = [
    FieldLayout { rust: "code", c: "code", offset: 0, size: 1, alts: &[], kind: FieldKind::Member, bits: &[] },
    FieldLayout { rust: "regs", c: "", offset: 1, size: 1, alts: &[], kind: FieldKind::Member, bits: &BAD_BITS },
    // Wrong: `off` is at 2 in C; and the gap before it is not covered.
    FieldLayout { rust: "off", c: "off", offset: 3, size: 2, alts: &[], kind: FieldKind::Member, bits: &[] },
    // Wrong size.
    FieldLayout { rust: "imm", c: "imm", offset: 5, size: 2, alts: &[], kind: FieldKind::Member, bits: &[] },
    // A union member that is not the same size.
    FieldLayout { rust: "x", c: "", offset: 7, size: 1, alts: &[], kind: FieldKind::Member, bits: &[] },
];

static BAD_LAYOUTS: [StructLayout; 2] = [
    StructLayout { rust: "BadInsn", c: "struct bpf_insn", whole: true, size: 8, align: 4, fields: &BAD_INSN_FIELDS },
    // Wrong whole size (perf_event_attr is 128 bytes in 6.1).
    StructLayout { rust: "BadAttr", c: "struct perf_event_attr", whole: true, size: 120, align: 8, fields: &[] },
];

static BAD_CONSTS: [ConstValue; 2] =
    [ConstValue { c: "BPF_MAP_TYPE_HASH", value: 2 }, ConstValue { c: "BPF_MAP_TYPE_ARRAY", value: 2 }];

static BAD_TABLES: [ConstTable; 1] = [ConstTable { name: "BadMapType", consts: &BAD_CONSTS }];

static BAD_LAST: [LastField; 1] = [LastField { cmd: Cmd::MapCreate, c: "map_extra", end: 64 }];

#[test]
fn wrong_tables_are_reported() {
    let errnos = [ConstValue { c: "EINVAL", value: 21 }];
    let spec = Spec { layouts: &BAD_LAYOUTS, tables: &BAD_TABLES, last_fields: &BAD_LAST, errnos: &errnos };
    let report = check(&spec, "negative");
    let all = report.mismatches.join("\n");
    let expect = [
        "BadInsn (struct bpf_insn): size/align Rust 8/4, C 8/4", // not reported: sizes agree
        "BadInsn (struct bpf_insn).regs bit `dst_reg`: Rust sets 00f0000000000000, C sets 000f000000000000",
        "BadInsn (struct bpf_insn).off: starts at 3 but the previous field ends at 2",
        "BadInsn (struct bpf_insn).off => \"off\": offset Rust 3, C 2",
        "BadInsn (struct bpf_insn).imm => \"imm\": offset Rust 5, C 4",
        "BadInsn (struct bpf_insn).imm => \"imm\": size Rust 2, C 4",
        "BadAttr (struct perf_event_attr): size/align Rust 120/8, C 128/8",
        "BadAttr (struct perf_event_attr): fields end at 0, struct size is 120",
        "BadMapType::BPF_MAP_TYPE_HASH: Rust 2, C 1",
        "last field of MapCreate (map_extra): end Rust 64, C 72",
        "errno EINVAL: Rust 21, C 22",
    ];
    assert!(!all.contains(expect[0]), "agreeing sizes reported:\n{all}");
    for e in &expect[1..] {
        assert!(all.contains(e), "expected mismatch `{e}` not reported; got:\n{all}");
    }
    assert!(!all.contains("BPF_MAP_TYPE_ARRAY"), "a correct constant was reported:\n{all}");
    assert_eq!(report.mismatches.len(), expect.len() - 1, "exactly the planted mismatches:\n{all}");
}
