//! Loading clang-compiled objects (sources in `bpf-subsys/tests/bpf/`), relocated the way
//! libbpf does it, through `BPF_PROG_LOAD`; run with `BPF_PROG_TEST_RUN` or a synthetic
//! kprobe context; maps read back with `BPF_MAP_LOOKUP_ELEM`.
//!
//! The test loader supports what these objects need:
//! - maps of the `.maps` section are created by the test (it knows their definitions; the
//!   BTF map definitions are not parsed) and bound by symbol name;
//! - `.rodata`, `.data`, `.bss` become one-element array maps holding the section (`.rodata`
//!   created `BPF_F_RDONLY_PROG` and frozen, as libbpf does), initialised from the file;
//! - `R_BPF_64_64` on `ld_imm64`: a `.maps` symbol → `BPF_PSEUDO_MAP_FD` with the map's fd;
//!   a data symbol → `BPF_PSEUDO_MAP_VALUE` with the section map's fd and `imm + st_value` as
//!   the offset (libbpf `RELO_DATA`);
//! - `R_BPF_64_32` on `call` into `.text`: `.text` is appended after the program and the call
//!   offset fixed (libbpf's subprogram linking); `.text`'s own relocations are applied too.
//!
//! Not supported (not needed here): BTF/CO-RE relocations, `.BTF.ext` func/line info,
//! externs (`.kconfig`, `.ksyms`), legacy `maps` sections, several programs per section.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::string::String;
use std::vec::Vec;

use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionKind, SymbolKind};
use syscall_abi::bpf::{MapType, ProgType, TestRunAttr, BPF_F_RDONLY_PROG, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE};

use super::{attr, load, prog, test_run};
use crate::syscall::tests::T;
use crate::vm::insn::{decode, encode, RawInsn};

const R_BPF_64_64: u32 = 1;
const R_BPF_64_32: u32 = 10;
const DATA_SECTIONS: [&str; 3] = [".rodata", ".data", ".bss"];

/// Compiles `tests/bpf/<name>.c` with clang (the test fails if clang is missing).
fn compile(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bpf");
    let out = std::env::temp_dir().join(format!("bpf-subsys-{}-{name}.o", std::process::id()));
    let multiarch = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let status = Command::new("clang")
        .args(["-O2", "-g", "-target", "bpf", "-I", &multiarch, "-c"])
        .arg(dir.join(format!("{name}.c")))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("clang must be installed to build the test programs");
    assert!(status.success(), "clang failed on {name}.c");
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// An object file loaded the way libbpf would, with the test's maps.
struct Obj<'a> {
    t: &'a T,
    elf: Vec<u8>,
    /// `.maps` symbol name → fd.
    maps: BTreeMap<String, u32>,
    /// Data section name → array map fd.
    data: BTreeMap<String, u32>,
}

impl<'a> Obj<'a> {
    /// Parses `name`'s object, binds `maps` to its `.maps` symbols and creates its data maps.
    fn open(t: &'a T, name: &str, maps: &[(&str, u32)]) -> Obj<'a> {
        let elf = compile(name);
        let mut obj =
            Obj { t, elf, maps: maps.iter().map(|(n, f)| (n.to_string(), *f)).collect(), data: BTreeMap::new() };
        let file = object::File::parse(&*obj.elf).unwrap();
        for sec in file.sections() {
            let sname = sec.name().unwrap();
            if !DATA_SECTIONS.contains(&sname) || sec.size() == 0 {
                continue;
            }
            let size = sec.size() as u32;
            let flags = if sname == ".rodata" { BPF_F_RDONLY_PROG } else { 0 };
            let fd = t.map(MapType::Array, 4, size, 1, flags);
            let init = if sec.kind() == SectionKind::UninitializedData {
                vec![0; size as usize]
            } else {
                sec.data().unwrap().to_vec()
            };
            assert_eq!(t.update(fd, &0u32.to_ne_bytes(), &init, 0), 0);
            if sname == ".rodata" {
                let a = syscall_abi::bpf::MapElemAttr { map_fd: fd, ..syscall_abi::abi::Pod::ZERO };
                assert_eq!(t.call(syscall_abi::bpf::Cmd::MapFreeze, &a), 0);
            }
            obj.data.insert(sname.to_string(), fd);
        }
        obj
    }

    /// Instructions of section `sname` and its relocations, placed at `base`.
    fn relocate_section(
        &self,
        file: &object::File<'_>,
        sname: &str,
        base: usize,
        insns: &mut Vec<RawInsn>,
        text_base: &mut Option<usize>,
    ) {
        let sec = file.section_by_name(sname).unwrap_or_else(|| panic!("no section {sname}"));
        let code = sec.data().unwrap();
        assert_eq!(insns.len(), base);
        insns.extend(code.chunks_exact(8).map(|c| <[u8; 8]>::try_from(c).unwrap()));
        for (off, rel) in sec.relocations() {
            let RelocationFlags::Elf { r_type } = rel.flags() else { panic!("not ELF") };
            let RelocationTarget::Symbol(sym_idx) = rel.target() else { panic!("relocation without symbol") };
            let sym = file.symbol_by_index(sym_idx).unwrap();
            let pc = base + off as usize / 8;
            let mut insn = decode(&insns[pc]);
            let target_sec = sym.section_index().map(|i| file.section_by_index(i).unwrap().name().unwrap().to_string());
            match r_type {
                R_BPF_64_64 => {
                    let tsec = target_sec.expect("relocation to an undefined symbol");
                    if tsec == ".maps" {
                        let name = sym.name().unwrap();
                        insn.src = BPF_PSEUDO_MAP_FD;
                        insn.imm = *self.maps.get(name).unwrap_or_else(|| panic!("no map given for {name}")) as i32;
                        insns[pc] = encode(&insn);
                    } else {
                        let fd = *self.data.get(&tsec).unwrap_or_else(|| panic!("no data map for {tsec}"));
                        let mut next = decode(&insns[pc + 1]);
                        next.imm = insn.imm + sym.address() as i32;
                        insn.src = BPF_PSEUDO_MAP_VALUE;
                        insn.imm = fd as i32;
                        insns[pc] = encode(&insn);
                        insns[pc + 1] = encode(&next);
                    }
                }
                R_BPF_64_32 => {
                    assert_eq!(target_sec.as_deref(), Some(".text"), "calls only into .text");
                    let tb = match *text_base {
                        Some(tb) => tb,
                        None => {
                            // Appended after everything placed so far (libbpf appends subprograms).
                            let tb = insns.len();
                            *text_base = Some(tb);
                            self.relocate_section(file, ".text", tb, insns, text_base);
                            tb
                        }
                    };
                    let mut insn = decode(&insns[pc]);
                    let sub = tb as i64 + sym.address() as i64 / 8 + i64::from(insn.imm) + 1;
                    insn.imm = (sub - (pc as i64 + 1)) as i32;
                    insns[pc] = encode(&insn);
                }
                other => panic!("unsupported relocation type {other}"),
            }
        }
    }

    /// The relocated program of section `sname`, loaded as `ty`; returns the fd.
    fn load(&self, sname: &str, ty: ProgType) -> u32 {
        let file = object::File::parse(&*self.elf).unwrap();
        let mut insns = Vec::new();
        let mut text_base = None;
        self.relocate_section(&file, sname, 0, &mut insns, &mut text_base);
        let license = file.section_by_name("license").unwrap().data().unwrap().to_vec();
        let mut a = attr(self.t, ty, &insns);
        a.license = self.t.h.put_bytes(&license);
        let name = file
            .symbols()
            .find(|s| {
                s.kind() == SymbolKind::Text
                    && s.section_index() == file.section_by_name(sname).map(|x| x.index())
                    && s.address() == 0
            })
            .unwrap();
        let n = name.name().unwrap().as_bytes();
        a.prog_name[..n.len().min(15)].copy_from_slice(&n[..n.len().min(15)]);
        a.log_level = 1;
        a.log_size = 1 << 16;
        a.log_buf = self.t.h.alloc(1 << 16);
        let fd = load(self.t, &a);
        if fd < 0 {
            let log = self.t.h.read(a.log_buf, 4096);
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            panic!("{sname}: load failed {fd}:\n{}", String::from_utf8_lossy(&log[..end]));
        }
        fd as u32
    }

    /// The value of data section `sname` (its map's single element).
    fn section_value(&self, sname: &str, len: usize) -> Vec<u8> {
        self.t.lookup(self.data[sname], &0u32.to_ne_bytes(), len).unwrap()
    }
}

fn u64_at(bytes: &[u8], i: usize) -> u64 {
    u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap())
}

/// `BPF_PROG_TEST_RUN` of a raw tracepoint program with `args`: the retval.
fn run_raw_tp(t: &T, fd: u32, args: &[u64]) -> u32 {
    let bytes: Vec<u8> = args.iter().flat_map(|a| a.to_ne_bytes()).collect();
    let a = TestRunAttr {
        prog_fd: fd,
        ctx_in: t.h.put_bytes(&bytes),
        ctx_size_in: bytes.len() as u32,
        ..TestRunAttr::ZERO
    };
    let (r, back) = test_run(t, &a);
    assert_eq!(r, 0);
    back.retval
}

#[test]
fn counter_kprobe_and_raw_tp() {
    let t = T::new();
    let counts = t.map(MapType::Array, 4, 8, 4, 0);
    let obj = Obj::open(&t, "counter", &[("counts", counts)]);
    let kp = obj.load("kprobe/do_sys_open", ProgType::Kprobe);
    let tp = obj.load("raw_tp/sys_enter", ProgType::RawTracepoint);
    assert_eq!(&prog(&t, kp).name()[..13], b"count_kprobe\0");

    let regs = <syscall_abi::ptregs::native::PtRegs as syscall_abi::abi::Pod>::ZERO;
    for _ in 0..3 {
        assert_eq!(crate::run::run_kprobe(&*t.host, &prog(&t, kp), &regs, 0, 0), Ok(0));
    }
    assert_eq!(run_raw_tp(&t, tp, &[10, 0]), 7);
    assert_eq!(run_raw_tp(&t, tp, &[32]), 7);
    let slot = |k: u32| u64::from_ne_bytes(t.lookup(counts, &k.to_ne_bytes(), 8).unwrap().try_into().unwrap());
    assert_eq!(slot(0), 5);
    assert_eq!(slot(1), 42);
    assert_eq!(slot(2), 0);
    assert_eq!(prog(&t, tp).map_ids().len(), 1);
}

#[test]
fn global_data_and_bpf_to_bpf_call() {
    let t = T::new();
    let obj = Obj::open(&t, "globals", &[]);
    let fd = obj.load("raw_tp/sys_enter", ProgType::RawTracepoint);
    // total += args[0] * factor (factor = 3 in .rodata); calls++ (starts at 5 in .data).
    assert_eq!(run_raw_tp(&t, fd, &[2]), 6);
    assert_eq!(run_raw_tp(&t, fd, &[10]), 36);
    assert_eq!(u64_at(&obj.section_value(".bss", 8), 0), 36);
    assert_eq!(u64_at(&obj.section_value(".data", 8), 0), 7);
    assert_eq!(u64_at(&obj.section_value(".rodata", 8), 0), 3);
    // The program uses all three data maps; .text was linked in (the call is bpf-to-bpf).
    assert_eq!(prog(&t, fd).map_ids().len(), 3);
    assert!(prog(&t, fd).xlated().iter().any(|raw| decode(raw).opc == 0x85 && decode(raw).src == 1));
}

#[test]
fn tail_call_chain() {
    let t = T::new();
    let jmp = t.map(MapType::ProgArray, 4, 4, 4, 0);
    let obj = Obj::open(&t, "tailcall", &[("jmp", jmp)]);
    let s0 = obj.load("raw_tp/a", ProgType::RawTracepoint);
    let s1 = obj.load("raw_tp/b", ProgType::RawTracepoint);
    let s2 = obj.load("raw_tp/c", ProgType::RawTracepoint);
    // Slot 1 empty: stage0 falls through.
    assert_eq!(run_raw_tp(&t, s0, &[0]), 1);
    assert_eq!(t.update(jmp, &1u32.to_ne_bytes(), &s1.to_ne_bytes(), 0), 0);
    assert_eq!(run_raw_tp(&t, s0, &[0]), 1, "stage1 falls through without slot 2");
    assert_eq!(t.update(jmp, &2u32.to_ne_bytes(), &s2.to_ne_bytes(), 0), 0);
    assert_eq!(run_raw_tp(&t, s0, &[0]), 42);
    let ran = obj.section_value(".bss", 24);
    assert_eq!((u64_at(&ran, 0), u64_at(&ran, 1), u64_at(&ran, 2)), (3, 2, 1));
}
