//! Debug and relocation records passed with `BPF_PROG_LOAD`: func info, line info, CO-RE
//! relocations; and the flags of `bpf_snprintf_btf`.
//!
//! Reference: `struct bpf_func_info`, `struct bpf_line_info`, `BPF_LINE_INFO_LINE_*`,
//! `struct bpf_core_relo`, `enum bpf_core_relo_kind` and `BTF_F_*` in
//! include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_struct! {
    #[c = "struct bpf_func_info", whole]
    /// Start of a function in the program (`prog_load.func_info`).
    ///
    /// Reference: `struct bpf_func_info` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_func_info")]
    pub struct BpfFuncInfo {
        /// Instruction index.
        pub insn_off: u32 => "insn_off",
        /// BTF id of the `BTF_KIND_FUNC`.
        pub type_id: u32 => "type_id",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_line_info", whole]
    /// Source line of an instruction (`prog_load.line_info`).
    ///
    /// Reference: `struct bpf_line_info` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_line_info")]
    pub struct BpfLineInfo {
        /// Instruction index.
        pub insn_off: u32 => "insn_off",
        /// String offset of the file name.
        pub file_name_off: u32 => "file_name_off",
        /// String offset of the source line.
        pub line_off: u32 => "line_off",
        /// Line (bits 10..32) and column (bits 0..10).
        pub line_col: u32 => "line_col",
    }
}

/// `BPF_LINE_INFO_LINE_NUM(line_col)`.
pub const fn bpf_line_info_line_num(line_col: u32) -> u32 {
    line_col >> 10
}

/// `BPF_LINE_INFO_LINE_COL(line_col)`.
pub const fn bpf_line_info_line_col(line_col: u32) -> u32 {
    line_col & 0x3ff
}

crate::uapi_enum! {
    /// `enum bpf_core_relo_kind`: what a CO-RE relocation computes.
    pub enum CoreReloKind: u32 {
        /// Field byte offset.
        FieldByteOffset = BPF_CORE_FIELD_BYTE_OFFSET = 0,
        /// Field byte size.
        FieldByteSize = BPF_CORE_FIELD_BYTE_SIZE = 1,
        /// Field exists in the target.
        FieldExists = BPF_CORE_FIELD_EXISTS = 2,
        /// Field is signed.
        FieldSigned = BPF_CORE_FIELD_SIGNED = 3,
        /// Bitfield left shift.
        FieldLshiftU64 = BPF_CORE_FIELD_LSHIFT_U64 = 4,
        /// Bitfield right shift.
        FieldRshiftU64 = BPF_CORE_FIELD_RSHIFT_U64 = 5,
        /// Local type id.
        TypeIdLocal = BPF_CORE_TYPE_ID_LOCAL = 6,
        /// Target type id.
        TypeIdTarget = BPF_CORE_TYPE_ID_TARGET = 7,
        /// Type exists in the target.
        TypeExists = BPF_CORE_TYPE_EXISTS = 8,
        /// Type size.
        TypeSize = BPF_CORE_TYPE_SIZE = 9,
        /// Enumerator exists.
        EnumvalExists = BPF_CORE_ENUMVAL_EXISTS = 10,
        /// Enumerator value.
        EnumvalValue = BPF_CORE_ENUMVAL_VALUE = 11,
        /// Type matches.
        TypeMatches = BPF_CORE_TYPE_MATCHES = 12,
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_core_relo", whole]
    /// One CO-RE relocation (`prog_load.core_relos`).
    ///
    /// Reference: `struct bpf_core_relo` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_core_relo")]
    pub struct BpfCoreRelo {
        /// Byte offset of the instruction to patch.
        pub insn_off: u32 => "insn_off",
        /// Local BTF type id of the root type.
        pub type_id: u32 => "type_id",
        /// String offset of the access specification.
        pub access_str_off: u32 => "access_str_off",
        /// `enum bpf_core_relo_kind`.
        pub kind: u32 => "kind",
    }
}

crate::uapi_consts! { BTF_PTR_FLAGS: u64;
    /// `bpf_snprintf_btf`: no pretty-printing whitespace.
    BTF_F_COMPACT = 1 << 0,
    /// `bpf_snprintf_btf`: no member names.
    BTF_F_NONAME = 1 << 1,
    /// `bpf_snprintf_btf`: raw (unobfuscated) pointers.
    BTF_F_PTR_RAW = 1 << 2,
    /// `bpf_snprintf_btf`: show zero-valued members.
    BTF_F_ZERO = 1 << 3,
}
