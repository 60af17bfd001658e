//! The instruction format: [`rbpf::ebpf`]'s opcode constants and [`Insn`], plus the parts of
//! the current ISA (RFC 9669, Linux `include/uapi/linux/bpf.h`) that rbpf 0.3 does not name.
//!
//! rbpf's own `get_insn` panics on a short program, so instructions are decoded here, from
//! the 8-byte `struct bpf_insn` layout, by [`decode`], which cannot fail.

pub use rbpf::ebpf::*;

/// One instruction as Linux stores it (`struct bpf_insn`): opcode, `dst:4 | src:4`, `off`
/// (little-endian `i16`), `imm` (little-endian `i32`). A `ld_imm64` takes two.
pub type RawInsn = [u8; 8];

/// Load mode: sign-extending load (`LDX | MEMSX`, RFC 9669).
pub const BPF_MEMSX: u8 = 0x80;
/// Store mode: atomic operation, the operation in `imm` (`BPF_ATOMIC`, formerly `BPF_XADD`).
pub const BPF_ATOMIC: u8 = 0xc0;
/// Atomic `imm` flag: the old value is loaded into `src` (`BPF_FETCH`).
pub const BPF_FETCH: i32 = 0x01;
/// Atomic `imm`: exchange (`BPF_XCHG`, always fetches).
pub const BPF_XCHG: i32 = 0xe0 | BPF_FETCH;
/// Atomic `imm`: compare with `R0` and exchange (`BPF_CMPXCHG`, always fetches into `R0`).
pub const BPF_CMPXCHG: i32 = 0xf0 | BPF_FETCH;

/// `call` with this `src`: a bpf-to-bpf call, target `pc + imm + 1` (`BPF_PSEUDO_CALL`).
pub const BPF_PSEUDO_CALL: u8 = 1;
/// `call` with this `src`: a kernel function by BTF id (`BPF_PSEUDO_KFUNC_CALL`).
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

/// Helper id of `bpf_tail_call(ctx, prog_array, index)` (`BPF_FUNC_tail_call`).
pub const BPF_FUNC_TAIL_CALL: u32 = 12;

/// `ALU | END | K` (`le16/32/64`): convert to little-endian.
pub const TO_LE: u8 = BPF_ALU | BPF_K | BPF_END;
/// `ALU | END | X` (`be16/32/64`): convert to big-endian.
pub const TO_BE: u8 = BPF_ALU | BPF_X | BPF_END;
/// `ALU64 | END | K` (`bswap16/32/64`, RFC 9669): unconditional byte swap.
pub const BSWAP: u8 = BPF_ALU64 | BPF_K | BPF_END;
/// `JMP32 | JA` (`ja32`, RFC 9669): unconditional jump by `imm`.
pub const JA32: u8 = BPF_JMP32 | BPF_JA;
/// `JMP | X | CALL` (`callx`): see the engine's documentation for its meaning here.
pub const CALLX: u8 = BPF_JMP | BPF_X | BPF_CALL;

/// `LDX | MEMSX | W`: load a word, sign-extended to 64 bits.
pub const LD_W_REG_SX: u8 = BPF_LDX | BPF_MEMSX | BPF_W;
/// `LDX | MEMSX | H`: load a half word, sign-extended to 64 bits.
pub const LD_H_REG_SX: u8 = BPF_LDX | BPF_MEMSX | BPF_H;
/// `LDX | MEMSX | B`: load a byte, sign-extended to 64 bits.
pub const LD_B_REG_SX: u8 = BPF_LDX | BPF_MEMSX | BPF_B;
/// `STX | ATOMIC | W`: 32-bit atomic operation.
pub const ATOMIC_W: u8 = BPF_STX | BPF_ATOMIC | BPF_W;
/// `STX | ATOMIC | DW`: 64-bit atomic operation.
pub const ATOMIC_DW: u8 = BPF_STX | BPF_ATOMIC | BPF_DW;

/// Legacy packet access (`LD | ABS` and `LD | IND`, any size): not supported by this engine.
pub fn is_legacy_packet_load(opc: u8) -> bool {
    opc & BPF_CLS_MASK == BPF_LD && matches!(opc & 0xe0, BPF_ABS | BPF_IND)
}

/// Decodes one instruction (`struct bpf_insn`, little-endian fields).
pub fn decode(raw: &RawInsn) -> Insn {
    Insn {
        opc: raw[0],
        dst: raw[1] & 0x0f,
        src: raw[1] >> 4,
        off: i16::from_le_bytes([raw[2], raw[3]]),
        imm: i32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]),
    }
}

/// Encodes one instruction; registers are masked to their 4-bit fields.
pub fn encode(insn: &Insn) -> RawInsn {
    let off = insn.off.to_le_bytes();
    let imm = insn.imm.to_le_bytes();
    [insn.opc, (insn.dst & 0x0f) | (insn.src << 4), off[0], off[1], imm[0], imm[1], imm[2], imm[3]]
}
