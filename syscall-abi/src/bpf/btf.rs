//! BTF (BPF Type Format) records, as loaded by `BPF_BTF_LOAD`.
//!
//! Reference: include/uapi/linux/btf.h (Linux 6.1). A BTF blob is a [`BtfHeader`], then
//! `type_len` bytes of types (each a [`BtfType`] followed by kind-specific records), then
//! `str_len` bytes of NUL-terminated strings. All records are little-endian on the targets
//! this crate supports; decode the kind of untrusted BTF with `BtfKind::try_from`.

crate::uapi_consts! { BTF_LIMITS: u32;
    /// Magic number of a BTF blob.
    BTF_MAGIC = 0xEB9F,
    /// Supported BTF version.
    BTF_VERSION = 1,
    /// Highest type id.
    BTF_MAX_TYPE = 0x000f_ffff,
    /// Highest string offset.
    BTF_MAX_NAME_OFFSET = 0x00ff_ffff,
    /// Highest `vlen`.
    BTF_MAX_VLEN = 0xffff,
    /// Number of kinds.
    NR_BTF_KINDS = 20,
    /// Highest kind.
    BTF_KIND_MAX = 19,
}

crate::uapi_enum! {
    /// BTF type kinds (the anonymous `BTF_KIND_*` enum), bits 24..29 of `btf_type.info`.
    pub enum BtfKind: u32 {
        /// Unknown (type id 0: `void`).
        Unkn = BTF_KIND_UNKN = 0,
        /// Integer.
        Int = BTF_KIND_INT = 1,
        /// Pointer.
        Ptr = BTF_KIND_PTR = 2,
        /// Array.
        Array = BTF_KIND_ARRAY = 3,
        /// Struct.
        Struct = BTF_KIND_STRUCT = 4,
        /// Union.
        Union = BTF_KIND_UNION = 5,
        /// Enumeration with 32-bit values.
        Enum = BTF_KIND_ENUM = 6,
        /// Forward declaration.
        Fwd = BTF_KIND_FWD = 7,
        /// Typedef.
        Typedef = BTF_KIND_TYPEDEF = 8,
        /// `volatile`.
        Volatile = BTF_KIND_VOLATILE = 9,
        /// `const`.
        Const = BTF_KIND_CONST = 10,
        /// `restrict`.
        Restrict = BTF_KIND_RESTRICT = 11,
        /// Function.
        Func = BTF_KIND_FUNC = 12,
        /// Function prototype.
        FuncProto = BTF_KIND_FUNC_PROTO = 13,
        /// Variable.
        Var = BTF_KIND_VAR = 14,
        /// Data section.
        Datasec = BTF_KIND_DATASEC = 15,
        /// Floating point.
        Float = BTF_KIND_FLOAT = 16,
        /// Declaration tag.
        DeclTag = BTF_KIND_DECL_TAG = 17,
        /// Type tag.
        TypeTag = BTF_KIND_TYPE_TAG = 18,
        /// Enumeration with 64-bit values.
        Enum64 = BTF_KIND_ENUM64 = 19,
    }
}

crate::uapi_consts! { BTF_INT_ENCODINGS: u32;
    /// `BTF_INT_ENCODING`: signed.
    BTF_INT_SIGNED = 1 << 0,
    /// `BTF_INT_ENCODING`: char.
    BTF_INT_CHAR = 1 << 1,
    /// `BTF_INT_ENCODING`: bool.
    BTF_INT_BOOL = 1 << 2,
}

crate::uapi_consts! { BTF_VAR_LINKAGE: u32;
    /// `btf_var.linkage`: static.
    BTF_VAR_STATIC = 0,
    /// `btf_var.linkage`: global, allocated.
    BTF_VAR_GLOBAL_ALLOCATED = 1,
    /// `btf_var.linkage`: global, extern.
    BTF_VAR_GLOBAL_EXTERN = 2,
}

crate::uapi_enum! {
    /// `enum btf_func_linkage`: `vlen` of a `BTF_KIND_FUNC`.
    pub enum BtfFuncLinkage: u32 {
        /// Static function.
        Static = BTF_FUNC_STATIC = 0,
        /// Global function.
        Global = BTF_FUNC_GLOBAL = 1,
        /// Extern function.
        Extern = BTF_FUNC_EXTERN = 2,
    }
}

/// `BTF_INFO_KIND(info)`: the kind bits of `btf_type.info`.
pub const fn btf_info_kind(info: u32) -> u32 {
    (info >> 24) & 0x1f
}

/// `BTF_INFO_VLEN(info)`: the vlen bits of `btf_type.info`.
pub const fn btf_info_vlen(info: u32) -> u32 {
    info & 0xffff
}

/// `BTF_INFO_KFLAG(info)`: the kind flag of `btf_type.info`.
pub const fn btf_info_kflag(info: u32) -> u32 {
    info >> 31
}

/// `BTF_INT_ENCODING(val)`: encoding bits of the `u32` after a `BTF_KIND_INT`.
pub const fn btf_int_encoding(val: u32) -> u32 {
    (val & 0x0f00_0000) >> 24
}

/// `BTF_INT_OFFSET(val)`: bit offset of a `BTF_KIND_INT`.
pub const fn btf_int_offset(val: u32) -> u32 {
    (val & 0x00ff_0000) >> 16
}

/// `BTF_INT_BITS(val)`: number of bits of a `BTF_KIND_INT`.
pub const fn btf_int_bits(val: u32) -> u32 {
    val & 0x0000_00ff
}

/// `BTF_MEMBER_BITFIELD_SIZE(val)`: bitfield size of a member (kind flag set).
pub const fn btf_member_bitfield_size(val: u32) -> u32 {
    val >> 24
}

/// `BTF_MEMBER_BIT_OFFSET(val)`: bit offset of a member (kind flag set).
pub const fn btf_member_bit_offset(val: u32) -> u32 {
    val & 0x00ff_ffff
}

crate::uapi_struct! {
    #[c = "struct btf_header", whole]
    /// Header of a BTF blob.
    ///
    /// Reference: `struct btf_header` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_header")]
    pub struct BtfHeader {
        /// `BTF_MAGIC`.
        pub magic: u16 => "magic",
        /// `BTF_VERSION`.
        pub version: u8 => "version",
        /// Flags (none defined).
        pub flags: u8 => "flags",
        /// Header length (at least `size_of::<BtfHeader>()`).
        pub hdr_len: u32 => "hdr_len",
        /// Offset of the type section, from the end of the header.
        pub type_off: u32 => "type_off",
        /// Length of the type section.
        pub type_len: u32 => "type_len",
        /// Offset of the string section, from the end of the header.
        pub str_off: u32 => "str_off",
        /// Length of the string section.
        pub str_len: u32 => "str_len",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_type", whole]
    /// Common prefix of every BTF type.
    ///
    /// Reference: `struct btf_type` in include/uapi/linux/btf.h. `size` and `type` are one
    /// C union.
    #[doc(alias = "btf_type")]
    pub struct BtfType {
        /// Offset of the name in the string section.
        pub name_off: u32 => "name_off",
        /// vlen (bits 0..16), kind (24..29), kind flag (31).
        pub info: u32 => "info",
        /// Size (int, enum, struct, union, datasec, float) or referenced type id (C `type`).
        pub size: u32 => "size" | "type",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_enum", whole]
    /// One enumerator after a `BTF_KIND_ENUM`.
    ///
    /// Reference: `struct btf_enum` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_enum")]
    pub struct BtfEnum {
        /// Name offset.
        pub name_off: u32 => "name_off",
        /// Value.
        pub val: i32 => "val",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_array", whole]
    /// The record after a `BTF_KIND_ARRAY`.
    ///
    /// Reference: `struct btf_array` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_array")]
    pub struct BtfArray {
        /// Element type id (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Index type id.
        pub index_type: u32 => "index_type",
        /// Number of elements.
        pub nelems: u32 => "nelems",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_member", whole]
    /// One member after a `BTF_KIND_STRUCT`/`BTF_KIND_UNION`.
    ///
    /// Reference: `struct btf_member` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_member")]
    pub struct BtfMember {
        /// Name offset.
        pub name_off: u32 => "name_off",
        /// Member type id (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Bit offset (with the kind flag: bitfield size in bits 24..32).
        pub offset: u32 => "offset",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_param", whole]
    /// One parameter after a `BTF_KIND_FUNC_PROTO`.
    ///
    /// Reference: `struct btf_param` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_param")]
    pub struct BtfParam {
        /// Name offset.
        pub name_off: u32 => "name_off",
        /// Parameter type id (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_var", whole]
    /// The record after a `BTF_KIND_VAR`.
    ///
    /// Reference: `struct btf_var` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_var")]
    pub struct BtfVar {
        /// `BTF_VAR_*` linkage.
        pub linkage: u32 => "linkage",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_var_secinfo", whole]
    /// One variable after a `BTF_KIND_DATASEC`.
    ///
    /// Reference: `struct btf_var_secinfo` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_var_secinfo")]
    pub struct BtfVarSecinfo {
        /// Variable type id (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Offset in the section.
        pub offset: u32 => "offset",
        /// Size.
        pub size: u32 => "size",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_decl_tag", whole]
    /// The record after a `BTF_KIND_DECL_TAG`.
    ///
    /// Reference: `struct btf_decl_tag` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_decl_tag")]
    pub struct BtfDeclTag {
        /// Member/parameter index, or -1 for the whole type.
        pub component_idx: i32 => "component_idx",
    }
}

crate::uapi_struct! {
    #[c = "struct btf_enum64", whole]
    /// One enumerator after a `BTF_KIND_ENUM64`.
    ///
    /// Reference: `struct btf_enum64` in include/uapi/linux/btf.h.
    #[doc(alias = "btf_enum64")]
    pub struct BtfEnum64 {
        /// Name offset.
        pub name_off: u32 => "name_off",
        /// Low 32 bits of the value.
        pub val_lo32: u32 => "val_lo32",
        /// High 32 bits of the value.
        pub val_hi32: u32 => "val_hi32",
    }
}
