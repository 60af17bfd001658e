//! Instruction text for log lines, in Linux's format (`print_bpf_insn`): `(b7) r0 = 0`,
//! `(61) r2 = *(u32 *)(r1 +4)`, `(85) call bpf_map_lookup_elem#1`, `(55) if r0 != 0x0 goto
//! pc+1`, `(95) exit`.
//!
//! Reference: Linux 6.1 `kernel/bpf/disasm.c`; the RFC 9669 additions (`s/=`, `(s8)` moves,
//! `bswap`, sign-extending loads, `gotol`) as Linux 6.6 prints them. `ld_imm64` shows its
//! value as given to the verifier (before relocation): Linux shows a privileged loader the
//! map's kernel address there and an unprivileged one `0x0`; here a privileged log shows the
//! unrelocated immediate and an unprivileged one `0x0`.

use core::fmt;

use crate::vm::insn::Insn;

use super::helpers::FuncName;
use super::opcodes::*;

/// One instruction's text (without the `N: ` prefix and with the newline).
pub(super) struct Disasm<'a> {
    /// The instruction.
    pub insn: &'a Insn,
    /// The `imm` of the next slot, for `ld_imm64`.
    pub next_imm: i32,
    /// Whether pointer values may be shown (`allow_ptr_leaks`).
    pub show_ptrs: bool,
}

const ALU_OPS: [&str; 16] =
    ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "?", "?"];
const JMP_OPS: [&str; 16] =
    ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "?", "?"];
const CLASSES: [&str; 8] = ["ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"];

fn size_name(code: u8) -> &'static str {
    match code & SIZE_MASK {
        SIZE_W => "u32",
        SIZE_H => "u16",
        SIZE_B => "u8",
        _ => "u64",
    }
}

fn ssize_name(code: u8) -> &'static str {
    match code & SIZE_MASK {
        SIZE_W => "s32",
        SIZE_H => "s16",
        SIZE_B => "s8",
        _ => "s64",
    }
}

fn lock_op(imm: i32) -> &'static str {
    match imm {
        OP_ADD_I => "+=",
        OP_AND_I => "&=",
        OP_OR_I => "|=",
        _ => "^=",
    }
}

fn atomic_name(imm: i32) -> &'static str {
    match imm & !ATOMIC_FETCH {
        OP_ADD_I => "add",
        OP_AND_I => "and",
        OP_OR_I => "or",
        _ => "xor",
    }
}

impl fmt::Display for Disasm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.insn;
        let (code, dst, src, off, imm) = (i.opc, i.dst, i.src, i.off, i.imm);
        let class = code & CLASS_MASK;
        let op = code & OP_MASK;
        let x = code & SRC_X != 0;
        match class {
            CLASS_ALU | CLASS_ALU64 => {
                let r = if class == CLASS_ALU { 'w' } else { 'r' };
                if op == OP_END {
                    if class == CLASS_ALU64 {
                        writeln!(f, "({code:02x}) r{dst} = bswap{imm} r{dst}")
                    } else {
                        writeln!(f, "({code:02x}) r{dst} = {}{imm} r{dst}", if x { "be" } else { "le" })
                    }
                } else if op == OP_NEG {
                    writeln!(f, "({code:02x}) {r}{dst} = -{r}{dst}")
                } else if op == OP_MOV && x && off != 0 {
                    writeln!(f, "({code:02x}) {r}{dst} = (s{off}){r}{src}")
                } else {
                    let name = match (op, off) {
                        (OP_DIV, 1) => "s/=",
                        (OP_MOD, 1) => "s%=",
                        _ => ALU_OPS[usize::from(op >> 4)],
                    };
                    if x {
                        writeln!(f, "({code:02x}) {r}{dst} {name} {r}{src}")
                    } else {
                        writeln!(f, "({code:02x}) {r}{dst} {name} {imm}")
                    }
                }
            }
            CLASS_STX => match code & MODE_MASK {
                MODE_MEM => writeln!(f, "({code:02x}) *({} *)(r{dst} {off:+}) = r{src}", size_name(code)),
                MODE_ATOMIC => {
                    let bits = if code & SIZE_MASK == SIZE_DW { "64" } else { "" };
                    let size = size_name(code);
                    match imm {
                        OP_ADD_I | OP_AND_I | OP_OR_I | OP_XOR_I => {
                            writeln!(f, "({code:02x}) lock *({size} *)(r{dst} {off:+}) {} r{src}", lock_op(imm))
                        }
                        ATOMIC_XCHG => {
                            writeln!(f, "({code:02x}) r{src} = atomic{bits}_xchg(({size} *)(r{dst} {off:+}), r{src})")
                        }
                        ATOMIC_CMPXCHG => writeln!(
                            f,
                            "({code:02x}) r0 = atomic{bits}_cmpxchg(({size} *)(r{dst} {off:+}), r0, r{src})"
                        ),
                        _ if [OP_ADD_I, OP_AND_I, OP_OR_I, OP_XOR_I].contains(&(imm & !ATOMIC_FETCH))
                            && imm & ATOMIC_FETCH != 0 =>
                        {
                            writeln!(
                                f,
                                "({code:02x}) r{src} = atomic{bits}_fetch_{}(({size} *)(r{dst} {off:+}), r{src})",
                                atomic_name(imm)
                            )
                        }
                        _ => writeln!(f, "BUG_{code:02x}"),
                    }
                }
                _ => writeln!(f, "BUG_{code:02x}"),
            },
            CLASS_ST => match code & MODE_MASK {
                MODE_MEM => writeln!(f, "({code:02x}) *({} *)(r{dst} {off:+}) = {imm}", size_name(code)),
                _ => writeln!(f, "BUG_st_{code:02x}"),
            },
            CLASS_LDX => match code & MODE_MASK {
                MODE_MEM => writeln!(f, "({code:02x}) r{dst} = *({} *)(r{src} {off:+})", size_name(code)),
                MODE_MEMSX => writeln!(f, "({code:02x}) r{dst} = *({} *)(r{src} {off:+})", ssize_name(code)),
                _ => writeln!(f, "BUG_ldx_{code:02x}"),
            },
            CLASS_LD => match code & MODE_MASK {
                MODE_ABS => writeln!(f, "({code:02x}) r0 = *({} *)skb[{imm}]", size_name(code)),
                MODE_IND => writeln!(f, "({code:02x}) r0 = *({} *)skb[r{src} + {imm}]", size_name(code)),
                MODE_IMM if code & SIZE_MASK == SIZE_DW => {
                    let mut value = (u64::from(self.next_imm as u32) << 32) | u64::from(imm as u32);
                    let is_ptr = src == PSEUDO_MAP_FD || src == PSEUDO_MAP_VALUE;
                    if is_ptr && !self.show_ptrs {
                        value = 0;
                    }
                    writeln!(f, "({code:02x}) r{dst} = {value:#x}")
                }
                _ => writeln!(f, "BUG_ld_{code:02x}"),
            },
            _ => {
                // CLASS_JMP, CLASS_JMP32
                let r = if class == CLASS_JMP32 { 'w' } else { 'r' };
                if op == OP_CALL {
                    if src == PSEUDO_CALL {
                        writeln!(f, "({code:02x}) call pc{imm:+}")
                    } else if src == PSEUDO_KFUNC_CALL {
                        writeln!(f, "({code:02x}) call kernel-function#{imm}")
                    } else {
                        writeln!(f, "({code:02x}) call {}#{imm}", FuncName(i64::from(imm)))
                    }
                } else if code == CLASS_JMP | OP_JA {
                    writeln!(f, "({code:02x}) goto pc{off:+}")
                } else if code == CLASS_JMP32 | OP_JA {
                    writeln!(f, "({code:02x}) gotol pc{imm:+}")
                } else if code == CLASS_JMP | OP_EXIT {
                    writeln!(f, "({code:02x}) exit")
                } else if op == OP_CALL || op == OP_EXIT || op == OP_JA {
                    writeln!(f, "({code:02x}) {}", CLASSES[usize::from(class)])
                } else if x {
                    writeln!(f, "({code:02x}) if {r}{dst} {} {r}{src} goto pc{off:+}", JMP_OPS[usize::from(op >> 4)])
                } else {
                    writeln!(
                        f,
                        "({code:02x}) if {r}{dst} {} {:#x} goto pc{off:+}",
                        JMP_OPS[usize::from(op >> 4)],
                        imm as u32
                    )
                }
            }
        }
    }
}
