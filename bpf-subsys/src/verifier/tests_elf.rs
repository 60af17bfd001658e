//! A minimal libbpf-style loader for the verifier's tests: the programs of a clang object,
//! relocated with `.maps` symbols as map fds (by name: `counts` 3, `table` 4, `events` 5,
//! `jmp` 6, as `tests_paths::maps` describes them), data sections as map values of fd 10+
//! and calls into `.text` appended.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};
use syscall_abi::bpf::ProgType;

use crate::vm::insn::{decode, encode, RawInsn};

const R_BPF_64_64: u32 = 1;
const R_BPF_64_32: u32 = 10;

/// The fd a `.maps` symbol stands for.
fn map_fd(name: &str) -> i32 {
    match name {
        "counts" => 3,
        "table" => 4,
        "events" => 5,
        "jmp" => 6,
        other => panic!("no fd for map {other}"),
    }
}

/// The fd of a data section's map.
pub(super) fn data_fd(section: &str) -> i32 {
    match section {
        ".rodata" => 10,
        ".data" => 11,
        _ => 12,
    }
}

fn relocate(file: &object::File<'_>, sname: &str, base: usize, insns: &mut Vec<RawInsn>, text: &mut Option<usize>) {
    let sec = file.section_by_name(sname).expect("section");
    insns.extend(sec.data().expect("data").chunks_exact(8).map(|c| <[u8; 8]>::try_from(c).expect("8 bytes")));
    for (off, rel) in sec.relocations() {
        let RelocationFlags::Elf { r_type } = rel.flags() else { panic!("not ELF") };
        let RelocationTarget::Symbol(idx) = rel.target() else { panic!("no symbol") };
        let sym = file.symbol_by_index(idx).expect("symbol");
        let pc = base + off as usize / 8;
        let mut insn = decode(&insns[pc]);
        let tsec =
            sym.section_index().map(|i| file.section_by_index(i).expect("sec").name().expect("name").to_string());
        match r_type {
            R_BPF_64_64 => {
                let tsec = tsec.expect("defined symbol");
                if tsec == ".maps" {
                    insn.src = 1;
                    insn.imm = map_fd(sym.name().expect("name"));
                } else {
                    let mut next = decode(&insns[pc + 1]);
                    next.imm = insn.imm + sym.address() as i32;
                    insns[pc + 1] = encode(&next);
                    insn.src = 2;
                    insn.imm = data_fd(&tsec);
                }
                insns[pc] = encode(&insn);
            }
            R_BPF_64_32 => {
                let tb = match *text {
                    Some(tb) => tb,
                    None => {
                        let tb = insns.len();
                        *text = Some(tb);
                        relocate(file, ".text", tb, insns, text);
                        tb
                    }
                };
                let mut insn = decode(&insns[pc]);
                let sub = tb as i64 + sym.address() as i64 / 8 + i64::from(insn.imm) + 1;
                insn.imm = (sub - (pc as i64 + 1)) as i32;
                insns[pc] = encode(&insn);
            }
            other => panic!("relocation type {other}"),
        }
    }
}

/// Every program of the object: section, relocated instructions, program type.
pub(super) fn programs(elf: &[u8]) -> Vec<(String, Vec<RawInsn>, ProgType)> {
    let file = object::File::parse(elf).expect("ELF");
    let mut out = Vec::new();
    for sec in file.sections() {
        let name = sec.name().unwrap_or("").to_string();
        let ty = if name.starts_with("kprobe/") {
            ProgType::Kprobe
        } else if name.starts_with("raw_tp/") {
            ProgType::RawTracepoint
        } else if name.starts_with("tracepoint/") {
            ProgType::Tracepoint
        } else {
            continue;
        };
        let mut insns = Vec::new();
        relocate(&file, &name, 0, &mut insns, &mut None);
        out.push((name, insns, ty));
    }
    out
}

/// The data sections' maps: fd and value size.
pub(super) fn data_maps(elf: &[u8]) -> Vec<(i32, u32)> {
    let file = object::File::parse(elf).expect("ELF");
    [".rodata", ".data", ".bss"]
        .iter()
        .filter_map(|s| file.section_by_name(s).map(|sec| (data_fd(s), sec.size() as u32)))
        .collect()
}
