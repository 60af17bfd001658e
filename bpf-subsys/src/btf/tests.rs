//! A BTF blob builder for tests, and tests of valid blobs and the type queries.

use std::vec::Vec;

use super::{kind, map_check_btf, Btf, MapBtfInfo, MapBtfQuery};
use crate::verifier::VerifierLog;
use syscall_abi::bpf::MapType;
use syscall_abi::Errno;

/// Builds a BTF blob: types (ids from 1 in call order) and strings.
pub(crate) struct B {
    pub types: Vec<u8>,
    pub strs: Vec<u8>,
    n: u32,
}

/// `info` of a type.
pub(crate) fn info(k: u32, vlen: u32, kflag: bool) -> u32 {
    (u32::from(kflag) << 31) | (k << 24) | vlen
}

impl B {
    pub fn new() -> B {
        B { types: Vec::new(), strs: vec![0], n: 0 }
    }

    /// A string's offset ("" is 0).
    pub fn s(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.strs.len() as u32;
        self.strs.extend_from_slice(name.as_bytes());
        self.strs.push(0);
        off
    }

    /// Appends raw words as one type; returns its id.
    pub fn raw(&mut self, words: &[u32]) -> u32 {
        for w in words {
            self.types.extend_from_slice(&w.to_ne_bytes());
        }
        self.n += 1;
        self.n
    }

    /// A type record with a name and extra words.
    pub fn ty(&mut self, name: &str, info: u32, size_type: u32, extra: &[u32]) -> u32 {
        let n = self.s(name);
        let mut w = vec![n, info, size_type];
        w.extend_from_slice(extra);
        self.raw(&w)
    }

    pub fn int(&mut self, name: &str, size: u32, bits: u32, enc: u32) -> u32 {
        self.ty(name, info(kind::INT, 0, false), size, &[enc << 24 | bits])
    }

    pub fn ptr(&mut self, t: u32) -> u32 {
        self.ty("", info(kind::PTR, 0, false), t, &[])
    }

    pub fn modifier(&mut self, k: u32, name: &str, t: u32) -> u32 {
        self.ty(name, info(k, 0, false), t, &[])
    }

    pub fn array(&mut self, elem: u32, index: u32, n: u32) -> u32 {
        self.ty("", info(kind::ARRAY, 0, false), 0, &[elem, index, n])
    }

    /// A struct (or union with `k`) with members `(name, type, offset word)`.
    pub fn composite(&mut self, k: u32, kflag: bool, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (n, t, off) in members {
            extra.extend_from_slice(&[self.s(n), *t, *off]);
        }
        self.ty(name, info(k, members.len() as u32, kflag), size, &extra)
    }

    pub fn struct_(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        self.composite(kind::STRUCT, false, name, size, members)
    }

    pub fn enum_(&mut self, name: &str, size: u32, vals: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (n, v) in vals {
            extra.extend_from_slice(&[self.s(n), *v]);
        }
        self.ty(name, info(kind::ENUM, vals.len() as u32, false), size, &extra)
    }

    pub fn proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (n, t) in params {
            extra.extend_from_slice(&[self.s(n), *t]);
        }
        self.ty("", info(kind::FUNC_PROTO, params.len() as u32, false), ret, &extra)
    }

    pub fn func(&mut self, name: &str, proto: u32, linkage: u32) -> u32 {
        self.ty(name, info(kind::FUNC, linkage, false), proto, &[])
    }

    pub fn var(&mut self, name: &str, t: u32, linkage: u32) -> u32 {
        self.ty(name, info(kind::VAR, 0, false), t, &[linkage])
    }

    pub fn datasec(&mut self, name: &str, size: u32, vars: &[(u32, u32, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (t, off, sz) in vars {
            extra.extend_from_slice(&[*t, *off, *sz]);
        }
        self.ty(name, info(kind::DATASEC, vars.len() as u32, false), size, &extra)
    }

    /// Header + types + strings.
    pub fn blob(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0xeb9fu16.to_ne_bytes());
        v.extend_from_slice(&[1, 0]);
        for w in [24, 0, self.types.len() as u32, self.types.len() as u32, self.strs.len() as u32] {
            v.extend_from_slice(&w.to_ne_bytes());
        }
        v.extend_from_slice(&self.types);
        v.extend_from_slice(&self.strs);
        v
    }
}

/// The ids of [`sample`].
pub(crate) struct Sample {
    pub int: u32,
    pub lock: u32,
    pub value: u32,
    pub typedef: u32,
    pub arr: u32,
}

/// A blob with one type of every kind, and a value struct holding a `bpf_spin_lock`.
pub(crate) fn sample() -> (Vec<u8>, Sample) {
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let lock = b.struct_("bpf_spin_lock", 4, &[("val", int, 0)]);
    let chr = b.int("char", 1, 8, 2);
    let arr = b.array(chr, int, 16);
    let ptr = b.ptr(int);
    let cst = b.modifier(kind::CONST, "", int);
    let vol = b.modifier(kind::VOLATILE, "", cst);
    let fl = b.ty("float", info(kind::FLOAT, 0, false), 4, &[]);
    let en = b.enum_("e", 4, &[("A", 0), ("B", 1)]);
    let value = b.struct_(
        "val",
        48,
        &[("a", vol, 0), ("lock", lock, 32), ("name", arr, 64), ("p", ptr, 192), ("f", fl, 256), ("e", en, 288)],
    );
    let typedef = b.modifier(kind::TYPEDEF, "val_t", value);
    let fwd = b.ty("later", info(kind::FWD, 0, false), 0, &[]);
    let fptr = b.ptr(fwd);
    let proto = b.proto(int, &[("v", fptr), ("", 0)]);
    let _func = b.func("prog", proto, 1);
    let var = b.var("counter", int, 1);
    let _ds = b.datasec(".data", 8, &[(var, 0, 4)]);
    let bits = b.composite(kind::STRUCT, true, "bits", 4, &[("x", int, 3 << 24), ("y", int, 5 << 24 | 3)]);
    let _tag = b.ty("tag", info(kind::DECL_TAG, 0, false), bits, &[1]);
    let tt = b.modifier(kind::TYPE_TAG, "user", int);
    let _ptt = b.ptr(tt);
    let lo = b.s("BIG");
    let _e64 = b.ty("e64", info(kind::ENUM64, 1, true), 8, &[lo, 1, 0xffff_ffff]);
    let u = b.composite(kind::UNION, false, "u", 8, &[("x", int, 0), ("p", ptr, 0)]);
    let _nested = b.struct_("outer", 56, &[("u", u, 0), ("v", typedef, 64)]);
    (b.blob(), Sample { int, lock, value, typedef, arr })
}

fn parse(blob: &[u8]) -> Btf {
    let mut log = VerifierLog::new(1, true, 1 << 20).unwrap();
    match Btf::parse(blob, &mut log) {
        Ok(b) => b,
        Err(e) => panic!("{e}: {}", log.text()),
    }
}

#[test]
fn every_kind_parses_and_sizes_resolve() {
    let (blob, s) = sample();
    let btf = parse(&blob);
    assert_eq!(btf.nr_types(), 25);
    assert_eq!(btf.type_id_size(s.int), Some((s.int, 4)));
    assert_eq!(btf.type_id_size(s.arr), Some((s.arr, 16)));
    assert_eq!(btf.type_id_size(s.typedef), Some((s.value, 48)));
    assert_eq!(btf.resolve_size(s.typedef), Some(48));
    assert_eq!(btf.type_id_size(0), None);
    assert_eq!(btf.type_id_size(1000), None);
    assert_eq!(btf.name_of(s.lock), b"bpf_spin_lock");
    assert_eq!(btf.kind_of(s.value), Some(kind::STRUCT));
}

#[test]
fn level_one_log_lists_types_like_linux() {
    let (blob, _) = sample();
    let mut log = VerifierLog::new(1, true, 1 << 20).unwrap();
    Btf::parse(&blob, &mut log).unwrap();
    let text = log.text();
    assert!(text.starts_with("magic: 0xeb9f\nversion: 1\nflags: 0x0\nhdr_len: 24\n"), "{text}");
    assert!(text.contains("[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n"), "{text}");
    assert!(text.contains("[2] STRUCT bpf_spin_lock size=4 vlen=1\n\tval type_id=1 bits_offset=0\n"), "{text}");
    assert!(text.contains("[4] ARRAY (anon) type_id=3 index_type_id=1 nr_elems=16\n"), "{text}");
    assert!(text.contains("\tA val=0\n\tB val=1\n"), "{text}");
    assert!(text.contains("FUNC_PROTO (anon) return=1 args=(13 v, vararg)\n"), "{text}");
    assert!(text.contains("\ty type_id=1 bitfield_size=5 bits_offset=3\n"), "{text}");
    assert!(text.contains("DATASEC .data size=8 vlen=1\n\t type_id=16 offset=0 size=4\n"), "{text}");
}

#[test]
fn spin_lock_is_found_in_the_value() {
    let (blob, s) = sample();
    let btf = parse(&blob);
    let q = MapBtfQuery {
        map_type: Some(MapType::Array),
        map_flags: 0,
        key_size: 4,
        value_size: 48,
        max_entries: 4,
        key_type_id: s.int,
        value_type_id: s.typedef,
    };
    assert_eq!(map_check_btf(&btf, &q).unwrap(), MapBtfInfo { spin_lock_off: Some(4) });
    let hash = MapBtfQuery { map_type: Some(MapType::Hash), ..q };
    assert_eq!(map_check_btf(&btf, &hash).unwrap().spin_lock_off, Some(4));
    // No lock in an int value.
    let plain = MapBtfQuery { value_size: 4, value_type_id: s.int, ..q };
    assert_eq!(map_check_btf(&btf, &plain).unwrap().spin_lock_off, None);
    let cases: &[(MapBtfQuery, Errno)] = &[
        (MapBtfQuery { key_size: 8, ..q }, Errno::EINVAL),
        (MapBtfQuery { value_size: 40, ..q }, Errno::EINVAL),
        (MapBtfQuery { key_type_id: 999, ..q }, Errno::EINVAL),
        (MapBtfQuery { value_type_id: 0, ..q }, Errno::EINVAL),
        (MapBtfQuery { map_flags: syscall_abi::bpf::BPF_F_RDONLY_PROG, ..q }, Errno::EACCES),
        (MapBtfQuery { map_type: Some(MapType::LruHash), ..q }, Errno::ENOTSUPP),
        (MapBtfQuery { map_type: Some(MapType::Hash), key_type_id: 0, ..q }, Errno::EINVAL),
        // Arrays: the key is a 32-bit int; keyless only for one-entry DATASEC values.
        (MapBtfQuery { key_type_id: 0, ..plain }, Errno::EINVAL),
        (MapBtfQuery { key_type_id: s.lock, ..plain }, Errno::EINVAL),
        (MapBtfQuery { map_type: Some(MapType::PerfEventArray), ..plain }, Errno::ENOTSUPP),
        // A prog array takes BTF (no `map_check_btf`), but then needs a key type.
        (MapBtfQuery { map_type: Some(MapType::ProgArray), key_type_id: 0, ..plain }, Errno::EINVAL),
        (MapBtfQuery { map_type: Some(MapType::LpmTrie), ..plain }, Errno::EINVAL),
    ];
    for (i, (q, errno)) in cases.iter().enumerate() {
        assert_eq!(map_check_btf(&btf, q).map_err(|e| e.errno), Err(*errno), "case {i}");
    }
    assert!(map_check_btf(&btf, &MapBtfQuery { map_type: Some(MapType::ProgArray), ..plain }).is_ok());
    let lpm = MapBtfQuery { map_type: Some(MapType::LpmTrie), key_type_id: s.lock, ..plain };
    assert!(map_check_btf(&btf, &lpm).is_ok());
}

#[test]
fn misaligned_or_double_locks_are_no_lock_and_timers_are_refused() {
    let mut b = B::new();
    let int = b.int("int", 4, 32, 0);
    let lock = b.struct_("bpf_spin_lock", 4, &[("val", int, 0)]);
    let two = b.struct_("two", 8, &[("a", lock, 0), ("b", lock, 32)]);
    let odd = b.struct_("odd", 8, &[("a", int, 0), ("l", lock, 16)]);
    let u64_ = b.int("u64", 8, 64, 0);
    let timer = b.struct_("bpf_timer", 16, &[("a", u64_, 0), ("b", u64_, 64)]);
    let tv = b.struct_("tv", 16, &[("t", timer, 0)]);
    let btf = parse(&b.blob());
    let q = |v, size, ty| MapBtfQuery {
        map_type: Some(ty),
        map_flags: 0,
        key_size: 4,
        value_size: size,
        max_entries: 1,
        key_type_id: int,
        value_type_id: v,
    };
    assert_eq!(map_check_btf(&btf, &q(two, 8, MapType::Array)).unwrap().spin_lock_off, None);
    assert_eq!(map_check_btf(&btf, &q(odd, 8, MapType::Array)).unwrap().spin_lock_off, None);
    assert_eq!(map_check_btf(&btf, &q(tv, 16, MapType::Array)).map_err(|e| e.errno), Err(Errno::ENOTSUPP));
    assert_eq!(map_check_btf(&btf, &q(tv, 16, MapType::PercpuArray)).map_err(|e| e.errno), Err(Errno::EOPNOTSUPP));
}

#[test]
fn keyless_datasec_array() {
    let mut b = B::new();
    let int = b.int("int", 4, 32, 1);
    let var = b.var("x", int, 0);
    let ds = b.datasec(".bss", 4, &[(var, 0, 4)]);
    let btf = parse(&b.blob());
    let q = MapBtfQuery {
        map_type: Some(MapType::Array),
        map_flags: 0,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        key_type_id: 0,
        value_type_id: ds,
    };
    assert!(map_check_btf(&btf, &q).is_ok());
    assert_eq!(map_check_btf(&btf, &MapBtfQuery { max_entries: 2, ..q }).map_err(|e| e.errno), Err(Errno::EINVAL));
}

#[test]
fn void_forward_and_function_pointer_references_are_valid() {
    let mut b = B::new();
    let cv = b.modifier(kind::CONST, "", 0);
    let pcv = b.ptr(cv);
    let _tv = b.modifier(kind::TYPEDEF, "new_void", 0);
    let int = b.int("int", 4, 32, 1);
    let proto = b.proto(0, &[("a", pcv), ("b", int)]);
    let fp = b.ptr(proto);
    let fwd = b.ty("opaque", info(kind::FWD, 0, true), 0, &[]);
    let pf = b.ptr(fwd);
    let s = b.struct_("ops", 16, &[("cb", fp, 0), ("o", pf, 64)]);
    let btf = parse(&b.blob());
    assert_eq!(btf.type_id_size(s), Some((s, 16)));
    assert_eq!(btf.type_id_size(pcv), Some((pcv, 8)));
    assert_eq!(btf.type_id_size(cv), None);
    assert_eq!(btf.resolve_size(fwd), None);
}
