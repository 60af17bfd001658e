//! Corrupted and invalid blobs: Linux 6.1's errno and the end of its log for each.

use std::vec::Vec;

use super::tests::{info, B};
use super::{kind, Btf};
use crate::verifier::VerifierLog;
use syscall_abi::Errno;

/// Parses `blob` with a level-1 log; asserts `errno` and that the log ends with `tail`.
fn bad(blob: &[u8], errno: Errno, tail: &str) {
    let mut log = VerifierLog::new(1, true, 1 << 20).unwrap();
    let r = Btf::parse(blob, &mut log);
    assert_eq!(r.map(|_| ()).map_err(|e| e.errno), Err(errno), "log:\n{}", log.text());
    assert!(log.text().ends_with(tail), "expected log tail {tail:?}, log:\n{}", log.text());
}

fn set32(v: &mut [u8], off: usize, w: u32) {
    v[off..off + 4].copy_from_slice(&w.to_ne_bytes());
}

/// A small valid blob: `int`, `struct s { int x; }`.
fn good() -> Vec<u8> {
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.struct_("s", 4, &[("x", int, 0)]);
    b.blob()
}

#[test]
fn header_errors() {
    let mut log = VerifierLog::disabled();
    assert!(Btf::parse(&good(), &mut log).is_ok());
    let g = good();
    let mut m = g.clone();
    m[0..2].copy_from_slice(&0x9febu16.to_ne_bytes());
    bad(&m, Errno::EINVAL, "Invalid magic");
    let mut m = g.clone();
    m[2] = 2;
    bad(&m, Errno::ENOTSUPP, "Unsupported version");
    let mut m = g.clone();
    m[3] = 1;
    bad(&m, Errno::ENOTSUPP, "Unsupported flags");
    bad(&g[..7], Errno::EINVAL, "");
    bad(&[], Errno::EINVAL, "");
    let mut m = g.clone();
    set32(&mut m, 4, g.len() as u32 + 1);
    bad(&m, Errno::EINVAL, "btf_header not found");
    bad(&g[..24], Errno::EINVAL, "No data");
    // A longer header must be zero past the known fields (E2BIG); zero is fine.
    let mut long = g[..24].to_vec();
    long.extend_from_slice(&[0, 0, 0, 1]);
    long.extend_from_slice(&g[24..]);
    set32(&mut long, 4, 28);
    bad(&long, Errno::E2BIG, "Unsupported btf_header");
    long[27] = 0;
    assert!(Btf::parse(&long, &mut VerifierLog::disabled()).is_ok());
    // Section layout.
    let tl = u32::from_ne_bytes(g[12..16].try_into().unwrap());
    let sl = u32::from_ne_bytes(g[20..24].try_into().unwrap());
    let mut m = g.clone();
    set32(&mut m, 16, tl + 4);
    set32(&mut m, 20, sl - 4);
    bad(&m, Errno::EINVAL, "Unsupported section found");
    let mut m = g.clone();
    set32(&mut m, 16, tl - 4);
    bad(&m, Errno::EINVAL, "Section overlap found");
    let mut m = g.clone();
    set32(&mut m, 20, sl + 4);
    bad(&m, Errno::EINVAL, "Total section length too long");
    let mut m = g.clone();
    set32(&mut m, 16, 1 << 20);
    bad(&m, Errno::EINVAL, "Invalid section offset");
    let mut m = g.clone();
    set32(&mut m, 20, sl - 1);
    set32(&mut m, 12, tl);
    m.pop();
    let n = m.len();
    m[n - 1] = b'x';
    bad(&m, Errno::EINVAL, "Invalid string section");
    let mut m = g.clone();
    let s0 = 24 + tl as usize;
    m[s0] = b'a';
    bad(&m, Errno::EINVAL, "Invalid string section");
    // Only strings: no type.
    let mut m = g[..24].to_vec();
    m.extend_from_slice(&g[s0..]);
    set32(&mut m, 12, 0);
    set32(&mut m, 16, 0);
    bad(&m, Errno::EINVAL, "No type found");
}

#[test]
fn record_errors() {
    let int_info = info(kind::INT, 0, false);
    let cases: Vec<(Vec<u32>, Errno, &str)> = vec![
        (vec![9999, int_info, 4, 32], Errno::EINVAL, "[1] Invalid name_offset:9999"),
        (vec![0, 20 << 24, 4], Errno::EINVAL, "[1] Invalid kind:20"),
        (vec![0, 0x4000_0000 | int_info, 4, 32], Errno::EINVAL, "[1] Invalid btf_info:41000000"),
        (vec![0, int_info, 4], Errno::EINVAL, "[1] INT (anon) meta_left:0 meta_needed:4\n"),
        (
            vec![0, int_info, 4, 40],
            Errno::EINVAL,
            "[1] INT (anon) size=4 bits_offset=0 nr_bits=40 encoding=(none) nr_bits exceeds type_size\n",
        ),
        (vec![0, int_info, 4, 3 << 24 | 32], Errno::ENOTSUPP, "encoding=UNKN Unsupported encoding\n"),
        (vec![0, int_info, 4, 0x1000_0020], Errno::EINVAL, "[1] INT (anon) Invalid int_data:10000020\n"),
        (vec![0, info(kind::PTR, 1, false), 0], Errno::EINVAL, "[1] PTR (anon) type_id=0 vlen != 0\n"),
        (vec![0, info(kind::FUNC, 0, false), 0], Errno::EINVAL, "[1] FUNC (anon) type_id=0 Invalid name\n"),
        (vec![0, info(kind::FLOAT, 0, false), 3], Errno::EINVAL, "[1] FLOAT (anon) size=3 Invalid type_size\n"),
        (vec![0, info(kind::ENUM, 0, false), 3], Errno::EINVAL, "[1] ENUM (anon) size=3 vlen=0 Unexpected size\n"),
        (
            vec![0, info(kind::ARRAY, 0, false), 0, 0, 1, 1],
            Errno::EINVAL,
            "[1] ARRAY (anon) type_id=0 index_type_id=1 nr_elems=1 Invalid elem\n",
        ),
        (vec![0, info(kind::FWD, 0, false), 0], Errno::EINVAL, "[1] FWD (anon) struct Invalid name\n"),
        (
            vec![0, info(kind::STRUCT, 1, false), 4, 0, 0, 0],
            Errno::EINVAL,
            "[1] STRUCT (anon) size=4 vlen=1\n\t(anon) type_id=0 bits_offset=0 Invalid type_id\n",
        ),
        (vec![0, info(kind::VAR, 0, false), 1, 0], Errno::EINVAL, "[1] VAR (anon) type_id=1 linkage=0 Invalid name\n"),
        (vec![0, info(kind::DATASEC, 0, false), 0], Errno::EINVAL, "[1] DATASEC (anon) size=0 vlen=0 size == 0\n"),
    ];
    for (words, errno, tail) in cases {
        let mut b = B::new();
        b.raw(&words);
        bad(&b.blob(), errno, tail);
    }
}

#[test]
fn reference_and_layout_errors() {
    // Type id out of range.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.ptr(999);
    let _ = int;
    bad(&b.blob(), Errno::EINVAL, "[2] PTR (anon) type_id=999 Invalid type_id\n");
    // Loop through modifiers (EEXIST, like Linux's env_stack_push).
    let mut b = B::new();
    b.modifier(kind::TYPEDEF, "a", 2);
    b.modifier(kind::CONST, "", 1);
    bad(&b.blob(), Errno::EEXIST, "[1] TYPEDEF a type_id=2 Loop detected\n");
    // Loop through structs.
    let mut b = B::new();
    b.struct_("a", 4, &[("b", 2, 0)]);
    b.struct_("b", 4, &[("a", 1, 0)]);
    bad(&b.blob(), Errno::EEXIST, "[1] STRUCT a size=4 vlen=1 Loop detected\n");
    // A pointer breaks a struct loop.
    let mut b = B::new();
    b.struct_("node", 8, &[("next", 2, 0)]);
    b.ptr(1);
    assert!(Btf::parse(&b.blob(), &mut VerifierLog::disabled()).is_ok());
    // A chain deeper than 32 (resolved from its first id).
    let mut b = B::new();
    for i in 1..=40 {
        b.modifier(kind::CONST, "", i + 1);
    }
    b.int("int", 4, 32, 1);
    bad(&b.blob(), Errno::E2BIG, "[1] CONST (anon) type_id=2 Exceeded max resolving depth:32\n");
    // Member placement.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.struct_("s", 4, &[("x", int, 32)]);
    bad(
        &b.blob(),
        Errno::EINVAL,
        "[2] STRUCT s size=4 vlen=1\n\tx type_id=1 bits_offset=32 Member exceeds struct_size\n",
    );
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.struct_("s", 4, &[("x", int, 64)]);
    bad(&b.blob(), Errno::EINVAL, "\tx type_id=1 bits_offset=64 Member bits_offset exceeds its struct size\n");
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.struct_("s", 8, &[("x", int, 32), ("y", int, 0)]);
    bad(&b.blob(), Errno::EINVAL, "\ty type_id=1 bits_offset=0 Invalid member bits_offset\n");
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let p = b.ptr(int);
    b.struct_("s", 16, &[("p", p, 4)]);
    bad(&b.blob(), Errno::EINVAL, "\tp type_id=2 bits_offset=4 Member is not byte aligned\n");
    // Bitfield wider than its int (kind_flag).
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.composite(kind::STRUCT, true, "s", 8, &[("x", int, 33 << 24)]);
    bad(&b.blob(), Errno::EINVAL, "\tx type_id=1 bitfield_size=33 bits_offset=0 Invalid member bitfield_size\n");
    // Array index must be a regular int.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let s = b.struct_("s", 4, &[("x", int, 0)]);
    b.array(int, s, 4);
    bad(&b.blob(), Errno::EINVAL, "[3] ARRAY (anon) type_id=1 index_type_id=2 nr_elems=4 Invalid index\n");
    // A function's type must be a prototype with named parameters.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.func("f", int, 0);
    bad(&b.blob(), Errno::EINVAL, "[2] FUNC f type_id=1 Invalid type_id\n");
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let p = b.proto(int, &[("", int)]);
    b.func("f", p, 0);
    bad(&b.blob(), Errno::EINVAL, "[3] FUNC f type_id=2 Invalid arg#1\n");
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.proto(int, &[("a", 77)]);
    bad(&b.blob(), Errno::EINVAL, "[2] FUNC_PROTO (anon) return=1 args=(77 a) Invalid arg#1\n");
    // Type tags after a modifier.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let tt = b.modifier(kind::TYPE_TAG, "user", int);
    b.modifier(kind::CONST, "", tt);
    bad(&b.blob(), Errno::EINVAL, "Type tags don't precede modifiers");
    // A DATASEC entry must be a VAR.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    b.datasec(".data", 4, &[(int, 0, 4)]);
    bad(
        &b.blob(),
        Errno::EINVAL,
        "[2] DATASEC .data size=4 vlen=1\n\t type_id=1 offset=0 size=4 Not a VAR kind member\n",
    );
}

#[test]
fn disabled_log_records_nothing() {
    let mut b = B::new();
    b.ptr(5);
    let mut log = VerifierLog::disabled();
    assert_eq!(Btf::parse(&b.blob(), &mut log).map(|_| ()).map_err(|e| e.errno), Err(Errno::EINVAL));
    assert!(log.user_bytes().is_empty());
}

#[test]
fn identifiers_are_c_names_of_at_most_512_characters() {
    for (name, ok) in [
        ("a".repeat(512), true),
        ("a".repeat(513), false),
        ("_x1".to_string(), true),
        ("1x".to_string(), false),
        ("a.b".to_string(), false),
        ("a-b".to_string(), false),
    ] {
        let mut b = B::new();
        let int = b.int("int", 4, 32, 1);
        b.modifier(kind::TYPEDEF, &name, int);
        let r = Btf::parse(&b.blob(), &mut VerifierLog::disabled());
        assert_eq!(r.is_ok(), ok, "{name}");
    }
    // Section and variable names may hold dots.
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let v = b.var("a.b", int, 0);
    b.datasec(".data.rel", 4, &[(v, 0, 4)]);
    assert!(Btf::parse(&b.blob(), &mut VerifierLog::disabled()).is_ok());
}
