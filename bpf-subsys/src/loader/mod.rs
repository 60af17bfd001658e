//! What `BPF_PROG_LOAD` does to a program between copy-in and the program object: the
//! license check, the tag, and the relocation of `ld_imm64` pseudo loads.
//!
//! - [`license_is_gpl_compatible`]: Linux's list of GPL-compatible license strings.
//! - [`calc_tag`]: Linux `bpf_prog_calc_tag`, the first 8 bytes of the SHA-1 of the
//!   instructions as loaded, with the `imm`s of map `ld_imm64`s zeroed (so map fd numbers
//!   do not change it).
//! - [`LoadOps`]: the verifier hook that resolves map references at Linux's point of
//!   `resolve_pseudo_ldimm64` (bad fds are reported there, with Linux's log line), keeps
//!   the used maps (deduplicated, at most [`MAX_USED_MAPS`]) and then writes the final values
//!   ([`LoadOps::relocate`]) and the instructions `BPF_OBJ_GET_INFO_BY_FD` shows
//!   ([`LoadOps::xlated`]).
//!
//! Values put into `ld_imm64` (what the engine and the helpers see):
//! | pseudo source | value |
//! |---|---|
//! | `BPF_PSEUDO_MAP_FD`, `BPF_PSEUDO_MAP_IDX` | address of the `MapObj` (`Arc::as_ptr`) |
//! | `BPF_PSEUDO_MAP_VALUE`, `BPF_PSEUDO_MAP_IDX_VALUE` | address of byte `off` of the array's value (`maps::ArrayMap::direct_value_addr`) |
//! | `BPF_PSEUDO_FUNC` | instruction index of the callback (what `vm::ActiveRun::call_subprog` takes) |
//! | `BPF_PSEUDO_BTF_ID` | rejected by the verifier (`EINVAL`, no kernel BTF), as a Linux without `CONFIG_DEBUG_INFO_BTF` |
//!
//! `BPF_PSEUDO_CALL` instructions stay as they are: the engine follows them.
//!
//! Read-only maps (`BPF_F_RDONLY_PROG`, frozen maps): the verifier-lite does not track map
//! value pointers, so writes from programs to such maps are the helpers' concern
//! (`ProgEnv::mem_ok` approves only reads there).

mod reloc;
mod sha1;

use alloc::vec::Vec;

use syscall_abi::bpf::{BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_TAG_SIZE};

use crate::vm::insn::{decode, encode, RawInsn, LD_DW_IMM};

pub use reloc::{LoadOps, MAX_USED_MAPS};
pub use sha1::sha1;

/// Linux `license_is_gpl_compatible`: the license strings whose programs may call GPL-only
/// helpers (compared exactly, up to the NUL).
pub fn license_is_gpl_compatible(license: &[u8]) -> bool {
    const GPL: [&[u8]; 6] =
        [b"GPL", b"GPL v2", b"GPL and additional rights", b"Dual BSD/GPL", b"Dual MIT/GPL", b"Dual MPL/GPL"];
    GPL.contains(&license)
}

/// Linux `bpf_prog_calc_tag`: SHA-1 over the instructions, with the `imm` of both slots of
/// each `ld_imm64` of a map fd or map value zeroed; the first 8 bytes of the digest.
pub fn calc_tag(insns: &[RawInsn]) -> [u8; BPF_TAG_SIZE] {
    let mut bytes = Vec::with_capacity(insns.len() * 8);
    let mut was_ld_map = false;
    for raw in insns {
        let mut insn = decode(raw);
        if !was_ld_map && insn.opc == LD_DW_IMM && (insn.src == BPF_PSEUDO_MAP_FD || insn.src == BPF_PSEUDO_MAP_VALUE) {
            was_ld_map = true;
            insn.imm = 0;
        } else if was_ld_map && insn.opc == 0 && insn.dst == 0 && insn.src == 0 && insn.off == 0 {
            was_ld_map = false;
            insn.imm = 0;
        } else {
            was_ld_map = false;
        }
        bytes.extend_from_slice(&encode(&insn));
    }
    let digest = sha1(&bytes);
    let mut tag = [0u8; BPF_TAG_SIZE];
    tag.copy_from_slice(&digest[..BPF_TAG_SIZE]);
    tag
}
