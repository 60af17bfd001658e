//! The eBPF instruction encoding: opcode fields, registers, pseudo sources, and `struct
//! bpf_insn`.
//!
//! Reference: include/uapi/linux/bpf_common.h (classic BPF fields shared with eBPF) and the
//! top of include/uapi/linux/bpf.h (eBPF additions, `struct bpf_insn`, `BPF_PSEUDO_*`).
//! An opcode is `class | size | mode` for loads/stores and `class | op | source` for ALU and
//! jumps; the `BPF_CLASS`/`BPF_SIZE`/... extractors are the `const fn`s below.

crate::uapi_consts! { INSN_CLASSES: u8;
    /// Load into register (classic `ld`; eBPF: 64-bit immediate and legacy packet loads).
    BPF_LD = 0x00,
    /// Load into register from memory.
    BPF_LDX = 0x01,
    /// Store immediate.
    BPF_ST = 0x02,
    /// Store register.
    BPF_STX = 0x03,
    /// 32-bit arithmetic.
    BPF_ALU = 0x04,
    /// 64-bit jumps.
    BPF_JMP = 0x05,
    /// Classic BPF return (unused by eBPF).
    BPF_RET = 0x06,
    /// Classic BPF misc (unused by eBPF).
    BPF_MISC = 0x07,
    /// 32-bit jumps (eBPF).
    BPF_JMP32 = 0x06,
    /// 64-bit arithmetic (eBPF).
    BPF_ALU64 = 0x07,
}

crate::uapi_consts! { INSN_SIZES: u8;
    /// 32-bit access.
    BPF_W = 0x00,
    /// 16-bit access.
    BPF_H = 0x08,
    /// 8-bit access.
    BPF_B = 0x10,
    /// 64-bit access (eBPF).
    BPF_DW = 0x18,
}

crate::uapi_consts! { INSN_MODES: u8;
    /// Immediate (with `BPF_LD | BPF_DW`: the 64-bit immediate load).
    BPF_IMM = 0x00,
    /// Legacy packet access, absolute offset.
    BPF_ABS = 0x20,
    /// Legacy packet access, register-relative offset.
    BPF_IND = 0x40,
    /// Memory access `*(size *)(reg + off)`.
    BPF_MEM = 0x60,
    /// Classic BPF packet length (unused by eBPF).
    BPF_LEN = 0x80,
    /// Classic BPF IP header length hack (unused by eBPF).
    BPF_MSH = 0xa0,
    /// Atomic operation (`BPF_STX` only); `imm` holds the operation.
    BPF_ATOMIC = 0xc0,
    /// Old name of `BPF_ATOMIC` (exclusive add).
    BPF_XADD = 0xc0,
}

crate::uapi_consts! { ALU_OPS: u8;
    /// `dst += src`.
    BPF_ADD = 0x00,
    /// `dst -= src`.
    BPF_SUB = 0x10,
    /// `dst *= src`.
    BPF_MUL = 0x20,
    /// `dst /= src` (unsigned; division by zero yields 0).
    BPF_DIV = 0x30,
    /// `dst |= src`.
    BPF_OR = 0x40,
    /// `dst &= src`.
    BPF_AND = 0x50,
    /// `dst <<= src`.
    BPF_LSH = 0x60,
    /// `dst >>= src` (logical).
    BPF_RSH = 0x70,
    /// `dst = -dst`.
    BPF_NEG = 0x80,
    /// `dst %= src` (unsigned; modulo by zero leaves `dst`).
    BPF_MOD = 0x90,
    /// `dst ^= src`.
    BPF_XOR = 0xa0,
    /// `dst = src` (eBPF).
    BPF_MOV = 0xb0,
    /// `dst >>= src` (arithmetic, eBPF).
    BPF_ARSH = 0xc0,
    /// Byte swap (eBPF); the source bit selects the target order, `imm` the width.
    BPF_END = 0xd0,
}

crate::uapi_consts! { JMP_OPS: u8;
    /// Unconditional jump (`BPF_JMP` only).
    BPF_JA = 0x00,
    /// Jump if `==`.
    BPF_JEQ = 0x10,
    /// Jump if `>` (unsigned).
    BPF_JGT = 0x20,
    /// Jump if `>=` (unsigned).
    BPF_JGE = 0x30,
    /// Jump if `dst & src`.
    BPF_JSET = 0x40,
    /// Jump if `!=` (eBPF).
    BPF_JNE = 0x50,
    /// Jump if `>` (signed, eBPF).
    BPF_JSGT = 0x60,
    /// Jump if `>=` (signed, eBPF).
    BPF_JSGE = 0x70,
    /// Function call (eBPF): helper, kfunc or bpf-to-bpf call, see `BPF_PSEUDO_*CALL`.
    BPF_CALL = 0x80,
    /// Return from function (eBPF).
    BPF_EXIT = 0x90,
    /// Jump if `<` (unsigned, eBPF).
    BPF_JLT = 0xa0,
    /// Jump if `<=` (unsigned, eBPF).
    BPF_JLE = 0xb0,
    /// Jump if `<` (signed, eBPF).
    BPF_JSLT = 0xc0,
    /// Jump if `<=` (signed, eBPF).
    BPF_JSLE = 0xd0,
}

crate::uapi_consts! { INSN_SOURCES: u8;
    /// The operand is `imm`.
    BPF_K = 0x00,
    /// The operand is `src_reg`.
    BPF_X = 0x08,
    /// `BPF_END`: convert to little-endian.
    BPF_TO_LE = 0x00,
    /// `BPF_END`: convert to big-endian.
    BPF_TO_BE = 0x08,
    /// `BPF_END`: convert from little-endian (same as `BPF_TO_LE`).
    BPF_FROM_LE = BPF_TO_LE,
    /// `BPF_END`: convert from big-endian (same as `BPF_TO_BE`).
    BPF_FROM_BE = BPF_TO_BE,
}

crate::uapi_consts! { ATOMIC_OPS: i32;
    /// Atomic modifier: the old value is returned in `src_reg` (`r0` for `BPF_CMPXCHG`).
    BPF_FETCH = 0x01,
    /// Atomic exchange.
    BPF_XCHG = 0xe0 | BPF_FETCH,
    /// Atomic compare-and-exchange with `r0`.
    BPF_CMPXCHG = 0xf0 | BPF_FETCH,
}

crate::uapi_consts! { REGISTERS: u8;
    /// Return value, helper-call result.
    BPF_REG_0 = 0,
    /// First argument (the context at program entry).
    BPF_REG_1 = 1,
    /// Second argument.
    BPF_REG_2 = 2,
    /// Third argument.
    BPF_REG_3 = 3,
    /// Fourth argument.
    BPF_REG_4 = 4,
    /// Fifth argument.
    BPF_REG_5 = 5,
    /// Callee-saved.
    BPF_REG_6 = 6,
    /// Callee-saved.
    BPF_REG_7 = 7,
    /// Callee-saved.
    BPF_REG_8 = 8,
    /// Callee-saved.
    BPF_REG_9 = 9,
    /// Read-only frame pointer.
    BPF_REG_10 = 10,
    /// Number of registers (`__MAX_BPF_REG`).
    __MAX_BPF_REG = 11,
    /// Number of registers.
    MAX_BPF_REG = 11,
}

crate::uapi_consts! { INSN_LIMITS: u32;
    /// Classic-BPF program size limit, also the eBPF limit for unprivileged loaders.
    BPF_MAXINSNS = 4096,
}

crate::uapi_consts! { PSEUDO_SOURCES: u8;
    /// `ld_imm64` `src_reg`: `imm` is a map fd; the kernel substitutes the map address.
    BPF_PSEUDO_MAP_FD = 1,
    /// `ld_imm64` `src_reg`: `imm` is an index into `fd_array`.
    BPF_PSEUDO_MAP_IDX = 5,
    /// `ld_imm64` `src_reg`: `imm` is a map fd, `insn[1].imm` an offset into its value.
    BPF_PSEUDO_MAP_VALUE = 2,
    /// `ld_imm64` `src_reg`: `fd_array` index plus value offset.
    BPF_PSEUDO_MAP_IDX_VALUE = 6,
    /// `ld_imm64` `src_reg`: `imm` is a BTF id of a kernel variable.
    BPF_PSEUDO_BTF_ID = 3,
    /// `ld_imm64` `src_reg`: `imm` is the instruction offset of a bpf function.
    BPF_PSEUDO_FUNC = 4,
    /// `call` `src_reg`: bpf-to-bpf call, `imm` is the relative instruction offset.
    BPF_PSEUDO_CALL = 1,
    /// `call` `src_reg`: kernel function call, `imm` is its BTF id.
    BPF_PSEUDO_KFUNC_CALL = 2,
}

/// The instruction class of an opcode (`BPF_CLASS(code)`).
pub const fn bpf_class(code: u8) -> u8 {
    code & 0x07
}

/// The access size of a load/store opcode (`BPF_SIZE(code)`).
pub const fn bpf_size(code: u8) -> u8 {
    code & 0x18
}

/// The mode of a load/store opcode (`BPF_MODE(code)`).
pub const fn bpf_mode(code: u8) -> u8 {
    code & 0xe0
}

/// The operation of an ALU/jump opcode (`BPF_OP(code)`).
pub const fn bpf_op(code: u8) -> u8 {
    code & 0xf0
}

/// The source of an ALU/jump opcode (`BPF_SRC(code)`).
pub const fn bpf_src(code: u8) -> u8 {
    code & 0x08
}

crate::uapi_struct! {
    #[c = "struct bpf_insn", whole]
    /// One eBPF instruction (8 bytes; `ld_imm64` takes two).
    ///
    /// Reference: `struct bpf_insn` in include/uapi/linux/bpf.h. The C bitfields
    /// `dst_reg:4, src_reg:4` share one byte, mirrored as [`BpfInsn::regs`] with accessors;
    /// on little-endian targets `dst_reg` is the low nibble.
    #[doc(alias = "bpf_insn")]
    pub struct BpfInsn {
        /// Opcode.
        pub code: u8 => "code",
        /// Storage of the `dst_reg` (low nibble) and `src_reg` (high nibble) bitfields.
        pub regs: u8 => "" bits {
            /// Destination register.
            dst_reg / set_dst_reg: 0, 4;
            /// Source register (or a `BPF_PSEUDO_*` marker).
            src_reg / set_src_reg: 4, 4;
        },
        /// Signed offset.
        pub off: i16 => "off",
        /// Signed immediate.
        pub imm: i32 => "imm",
    }
}

impl BpfInsn {
    /// An instruction from its parts; registers are truncated to 4 bits like the C bitfields.
    pub const fn new(code: u8, dst_reg: u8, src_reg: u8, off: i16, imm: i32) -> Self {
        let mut insn = BpfInsn { code, regs: 0, off, imm };
        insn.set_dst_reg(dst_reg);
        insn.set_src_reg(src_reg);
        insn
    }

    /// Decodes one little-endian instruction from its 8 bytes.
    pub const fn from_le_bytes(b: [u8; 8]) -> Self {
        BpfInsn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Encodes the instruction as its 8 little-endian bytes.
    pub const fn to_le_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [self.code, self.regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3]]
    }
}
