//! Opcode fields and the table of opcodes a program may contain.
//!
//! Reference: `include/uapi/linux/bpf_common.h`, `include/uapi/linux/bpf.h`, and Linux 6.1
//! `kernel/bpf/core.c` (`BPF_INSN_MAP`, `bpf_opcode_in_insntable`); with the RFC 9669
//! additions accepted (the `isa_v4` input), the opcodes Linux 6.6 added: `ALU64 | END`
//! (`bswap`), `JMP32 | JA` (`gotol`) and `LDX | MEMSX` (b/h/w).

/// `BPF_CLASS` mask.
pub const CLASS_MASK: u8 = 0x07;
/// `BPF_LD`.
pub const CLASS_LD: u8 = 0x00;
/// `BPF_LDX`.
pub const CLASS_LDX: u8 = 0x01;
/// `BPF_ST`.
pub const CLASS_ST: u8 = 0x02;
/// `BPF_STX`.
pub const CLASS_STX: u8 = 0x03;
/// `BPF_ALU`.
pub const CLASS_ALU: u8 = 0x04;
/// `BPF_JMP`.
pub const CLASS_JMP: u8 = 0x05;
/// `BPF_JMP32`.
pub const CLASS_JMP32: u8 = 0x06;
/// `BPF_ALU64`.
pub const CLASS_ALU64: u8 = 0x07;

/// `BPF_SIZE` mask and values.
pub const SIZE_MASK: u8 = 0x18;
/// `BPF_W`.
pub const SIZE_W: u8 = 0x00;
/// `BPF_H`.
pub const SIZE_H: u8 = 0x08;
/// `BPF_B`.
pub const SIZE_B: u8 = 0x10;
/// `BPF_DW`.
pub const SIZE_DW: u8 = 0x18;

/// `BPF_MODE` mask and values.
pub const MODE_MASK: u8 = 0xe0;
/// `BPF_IMM`.
pub const MODE_IMM: u8 = 0x00;
/// `BPF_ABS`.
pub const MODE_ABS: u8 = 0x20;
/// `BPF_IND`.
pub const MODE_IND: u8 = 0x40;
/// `BPF_MEM`.
pub const MODE_MEM: u8 = 0x60;
/// `BPF_MEMSX` (RFC 9669).
pub const MODE_MEMSX: u8 = 0x80;
/// `BPF_ATOMIC`.
pub const MODE_ATOMIC: u8 = 0xc0;

/// `BPF_OP` mask and the ALU operations.
pub const OP_MASK: u8 = 0xf0;
/// `BPF_ADD`.
pub const OP_ADD: u8 = 0x00;
/// `BPF_SUB`.
pub const OP_SUB: u8 = 0x10;
/// `BPF_MUL`.
pub const OP_MUL: u8 = 0x20;
/// `BPF_DIV`.
pub const OP_DIV: u8 = 0x30;
/// `BPF_OR`.
pub const OP_OR: u8 = 0x40;
/// `BPF_AND`.
pub const OP_AND: u8 = 0x50;
/// `BPF_LSH`.
pub const OP_LSH: u8 = 0x60;
/// `BPF_RSH`.
pub const OP_RSH: u8 = 0x70;
/// `BPF_NEG`.
pub const OP_NEG: u8 = 0x80;
/// `BPF_MOD`.
pub const OP_MOD: u8 = 0x90;
/// `BPF_XOR`.
pub const OP_XOR: u8 = 0xa0;
/// `BPF_MOV`.
pub const OP_MOV: u8 = 0xb0;
/// `BPF_ARSH`.
pub const OP_ARSH: u8 = 0xc0;
/// `BPF_END`.
pub const OP_END: u8 = 0xd0;

/// `BPF_JA`.
pub const OP_JA: u8 = 0x00;
/// `BPF_JEQ`.
pub const OP_JEQ: u8 = 0x10;
/// `BPF_JGT`.
pub const OP_JGT: u8 = 0x20;
/// `BPF_JGE`.
pub const OP_JGE: u8 = 0x30;
/// `BPF_JSET`.
pub const OP_JSET: u8 = 0x40;
/// `BPF_JNE`.
pub const OP_JNE: u8 = 0x50;
/// `BPF_JSGT`.
pub const OP_JSGT: u8 = 0x60;
/// `BPF_JSGE`.
pub const OP_JSGE: u8 = 0x70;
/// `BPF_CALL`.
pub const OP_CALL: u8 = 0x80;
/// `BPF_EXIT`.
pub const OP_EXIT: u8 = 0x90;
/// `BPF_JLT`.
pub const OP_JLT: u8 = 0xa0;
/// `BPF_JLE`.
pub const OP_JLE: u8 = 0xb0;
/// `BPF_JSLT`.
pub const OP_JSLT: u8 = 0xc0;
/// `BPF_JSLE`.
pub const OP_JSLE: u8 = 0xd0;

/// `BPF_X` (source is a register); for `BPF_END`, `BPF_TO_BE`.
pub const SRC_X: u8 = 0x08;

/// The `ld_imm64` opcode (`BPF_LD | BPF_IMM | BPF_DW`).
pub const LD_IMM64: u8 = CLASS_LD | MODE_IMM | SIZE_DW;

/// `ld_imm64` `src_reg`: map fd.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` `src_reg`: map fd + value offset.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `ld_imm64` `src_reg`: kernel variable by BTF id.
pub const PSEUDO_BTF_ID: u8 = 3;
/// `ld_imm64` `src_reg`: bpf function (callback).
pub const PSEUDO_FUNC: u8 = 4;
/// `ld_imm64` `src_reg`: `fd_array` index.
pub const PSEUDO_MAP_IDX: u8 = 5;
/// `ld_imm64` `src_reg`: `fd_array` index + value offset.
pub const PSEUDO_MAP_IDX_VALUE: u8 = 6;
/// `call` `src_reg`: bpf-to-bpf call.
pub const PSEUDO_CALL: u8 = 1;
/// `call` `src_reg`: kernel function.
pub const PSEUDO_KFUNC_CALL: u8 = 2;

/// Atomic `imm` operations as `i32`.
pub const OP_ADD_I: i32 = OP_ADD as i32;
/// `BPF_AND` as an atomic `imm`.
pub const OP_AND_I: i32 = OP_AND as i32;
/// `BPF_OR` as an atomic `imm`.
pub const OP_OR_I: i32 = OP_OR as i32;
/// `BPF_XOR` as an atomic `imm`.
pub const OP_XOR_I: i32 = OP_XOR as i32;
/// `BPF_FETCH`.
pub const ATOMIC_FETCH: i32 = 0x01;
/// `BPF_XCHG`.
pub const ATOMIC_XCHG: i32 = 0xe0 | ATOMIC_FETCH;
/// `BPF_CMPXCHG`.
pub const ATOMIC_CMPXCHG: i32 = 0xf0 | ATOMIC_FETCH;

/// Helper id of `bpf_tail_call`.
pub const FUNC_TAIL_CALL: i32 = 12;

/// Bytes accessed by a load/store size field.
pub const fn size_bytes(code: u8) -> i32 {
    match code & SIZE_MASK {
        SIZE_W => 4,
        SIZE_H => 2,
        SIZE_B => 1,
        _ => 8,
    }
}

/// Whether `op` is a conditional jump operation.
pub const fn is_cond_jmp_op(op: u8) -> bool {
    matches!(op, OP_JEQ | OP_JGT | OP_JGE | OP_JSET | OP_JNE | OP_JSGT | OP_JSGE | OP_JLT | OP_JLE | OP_JSLT | OP_JSLE)
}

/// `bpf_opcode_in_insntable`: whether `code` is an opcode programs may use.
pub fn opcode_valid(code: u8, isa_v4: bool) -> bool {
    let op = code & OP_MASK;
    let x = code & SRC_X != 0;
    let mode = code & MODE_MASK;
    let size = code & SIZE_MASK;
    match code & CLASS_MASK {
        CLASS_ALU | CLASS_ALU64 => match op {
            OP_ADD | OP_SUB | OP_MUL | OP_DIV | OP_OR | OP_AND | OP_LSH | OP_RSH | OP_MOD | OP_XOR | OP_MOV
            | OP_ARSH => true,
            OP_NEG => !x,
            OP_END => code & CLASS_MASK == CLASS_ALU || (isa_v4 && !x),
            _ => false,
        },
        CLASS_JMP => is_cond_jmp_op(op) || (!x && matches!(op, OP_JA | OP_CALL | OP_EXIT)),
        CLASS_JMP32 => is_cond_jmp_op(op) || (isa_v4 && !x && op == OP_JA),
        CLASS_STX => mode == MODE_MEM || (mode == MODE_ATOMIC && (size == SIZE_W || size == SIZE_DW)),
        CLASS_ST => mode == MODE_MEM,
        CLASS_LDX => mode == MODE_MEM || (isa_v4 && mode == MODE_MEMSX && size != SIZE_DW),
        _ => code == LD_IMM64 || ((mode == MODE_ABS || mode == MODE_IND) && size != SIZE_DW),
    }
}
