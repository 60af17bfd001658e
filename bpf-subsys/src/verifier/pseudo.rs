//! The linear scan Linux does in `resolve_pseudo_ldimm64`: `LDX` reserved fields, `ld_imm64`
//! shape and pseudo sources, and the opcode table.
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `resolve_pseudo_ldimm64` (6.6 for the
//! `MEMSX` mode); the map lookups it does there are the [`VerifierOps`] hook's.

use alloc::vec;

use super::helpers::VerifierOps;
use super::log::VerifierLog;
use super::opcodes::*;
use super::{bail, PseudoKind, PseudoLoad, Reject, Verifier};

/// `BPF_MAX_VAR_OFF`: largest offset into a map value a pseudo load may name.
const MAX_VAR_OFF: u32 = 1 << 29;

impl Verifier<'_> {
    pub(super) fn resolve_pseudo_loads(
        &mut self,
        ops: &mut dyn VerifierOps,
        log: &mut VerifierLog,
    ) -> Result<(), Reject> {
        let n = self.len();
        self.second_half = vec![0; n.div_ceil(64)];
        let mut pc = 0;
        while pc < n {
            let insn = self.insn(pc);
            let code = insn.opc;
            if code & CLASS_MASK == CLASS_LDX {
                let mode = code & MODE_MASK;
                let mode_ok = mode == MODE_MEM || (self.input.isa_v4 && mode == MODE_MEMSX);
                if !mode_ok || insn.imm != 0 {
                    bail!(EINVAL, "BPF_LDX uses reserved fields", "BPF_LDX uses reserved fields");
                }
            }
            if code == LD_IMM64 {
                let next = self.insn(pc + 1);
                if pc + 1 == n || next.opc != 0 || next.dst != 0 || next.src != 0 || next.off != 0 {
                    bail!(EINVAL, "invalid bpf_ld_imm64 insn", "invalid bpf_ld_imm64 insn");
                }
                self.second_half[(pc + 1) / 64] |= 1 << ((pc + 1) % 64);
                let kind = match insn.src {
                    0 => None,
                    PSEUDO_BTF_ID => Some(PseudoKind::BtfId),
                    PSEUDO_FUNC => Some(PseudoKind::Func),
                    PSEUDO_MAP_VALUE => Some(PseudoKind::MapValue),
                    PSEUDO_MAP_IDX_VALUE => Some(PseudoKind::MapIdxValue),
                    PSEUDO_MAP_FD if next.imm == 0 => Some(PseudoKind::MapFd),
                    PSEUDO_MAP_IDX if next.imm == 0 => Some(PseudoKind::MapIdx),
                    _ => bail!(EINVAL, "unrecognized bpf_ld_imm64 insn", "unrecognized bpf_ld_imm64 insn"),
                };
                if let Some(kind) = kind {
                    let load = PseudoLoad { insn: pc, kind, imm: insn.imm, aux_imm: next.imm };
                    if kind != PseudoKind::Func {
                        ops.resolve_pseudo_load(&load, log)
                            .map_err(|e| Reject::silent(e, "pseudo ld_imm64 rejected"))?;
                    }
                    let value_off = next.imm as u32;
                    if matches!(kind, PseudoKind::MapValue | PseudoKind::MapIdxValue) && value_off >= MAX_VAR_OFF {
                        bail!(
                            EINVAL,
                            "direct value offset of %u is not allowed",
                            "direct value offset of {value_off} is not allowed"
                        );
                    }
                    self.pseudo_loads.push(load);
                }
                pc += 2;
                continue;
            }
            if !opcode_valid(code, self.input.isa_v4) {
                bail!(EINVAL, "unknown opcode %02x", "unknown opcode {code:02x}");
            }
            pc += 1;
        }
        Ok(())
    }
}
