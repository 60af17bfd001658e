//! The three macros every uapi mirror in this crate is written with, and the layout tables
//! they produce.
//!
//! Each macro records, next to the Rust definition, the C spelling of every item, so the
//! layout test (`tests/layout.rs`) can generate a C program from the same table and compare
//! `sizeof`/`offsetof`/values against the real Linux headers. An item defined through these
//! macros cannot escape the check; a mirror written without them is caught by the test that
//! counts macro invocations in the source.

/// One field of a mirrored struct: its Rust name, the C member designator (relative to the C
/// type, e.g. `link_create.perf_event.bpf_cookie`), its offset and its size in Rust.
#[derive(Debug, Clone, Copy)]
pub struct FieldLayout {
    /// Rust field name.
    pub rust: &'static str,
    /// C member designator accepted by `offsetof(c_type, ...)`.
    pub c: &'static str,
    /// `offset_of!` in Rust.
    pub offset: usize,
    /// `size_of` of the Rust field.
    pub size: usize,
}

/// The layout of one mirrored struct.
#[derive(Debug, Clone, Copy)]
pub struct StructLayout {
    /// Rust type name.
    pub rust: &'static str,
    /// C type, e.g. `struct bpf_map_info` or `union bpf_attr`.
    pub c: &'static str,
    /// Whether `size` must equal `sizeof(c)`. Per-command parts of `union bpf_attr` are
    /// smaller than the union: for them only the offsets are compared.
    pub whole: bool,
    /// `size_of` in Rust.
    pub size: usize,
    /// `align_of` in Rust.
    pub align: usize,
    /// Every field.
    pub fields: &'static [FieldLayout],
}

/// One named constant with its C spelling and value (as the C program prints it).
#[derive(Debug, Clone, Copy)]
pub struct ConstValue {
    /// C name (`BPF_MAP_TYPE_HASH`, `BPF_F_NO_PREALLOC`, ...).
    pub c: &'static str,
    /// Value, sign-extended or zero-extended to 64 bits as in C.
    pub value: i128,
}

/// Defines a `#[repr(u32)]`-style enum mirroring a C enum, with `TryFrom<int>` for untrusted
/// values and a `CONSTS` table for the layout test.
///
/// ```ignore
/// uapi_enum! {
///     /// doc
///     pub enum MapType: u32 {
///         /// doc
///         Hash = BPF_MAP_TYPE_HASH = 1,
///     }
/// }
/// ```
#[macro_export]
macro_rules! uapi_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $cname:ident = $value:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr($repr)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", stringify!($cname), "`")] $variant = $value ),*
        }

        impl $name {
            /// Every variant with its C name, for the layout test.
            pub const CONSTS: &'static [$crate::abi::ConstValue] = &[
                $( $crate::abi::ConstValue { c: stringify!($cname), value: $value as i128 } ),*
            ];
            /// The C name of this value.
            pub const fn c_name(self) -> &'static str {
                match self { $( $name::$variant => stringify!($cname) ),* }
            }
        }

        impl ::core::convert::TryFrom<$repr> for $name {
            type Error = $crate::errno::Errno;
            /// Unknown values are `EINVAL`, as Linux answers an unknown type or command.
            fn try_from(v: $repr) -> ::core::result::Result<Self, Self::Error> {
                #[allow(non_upper_case_globals)]
                mod vals { $( pub const $cname: $repr = $value; )* }
                match v {
                    $( vals::$cname => Ok($name::$variant), )*
                    _ => Err($crate::errno::Errno::EINVAL),
                }
            }
        }
    };
}

/// Defines plain constants mirroring C `#define`s or anonymous enum members, plus a
/// `CONSTS` table (named by the first argument) for the layout test.
///
/// ```ignore
/// uapi_consts! { MAP_FLAGS: u32;
///     /// doc
///     BPF_F_NO_PREALLOC = 1 << 0,
/// }
/// ```
#[macro_export]
macro_rules! uapi_consts {
    ( $table:ident : $ty:ty ; $( $(#[$meta:meta])* $name:ident = $value:expr ),* $(,)? ) => {
        $( $(#[$meta])* pub const $name: $ty = $value; )*
        /// Every constant of this group with its C name, for the layout test.
        pub const $table: &[$crate::abi::ConstValue] = &[
            $( $crate::abi::ConstValue { c: stringify!($name), value: $name as i128 } ),*
        ];
    };
}

/// Defines a `#[repr(C)]` struct mirroring a C type and its [`StructLayout`] (an associated
/// `LAYOUT` constant). Each field names its C designator after `=>`.
///
/// ```ignore
/// uapi_struct! {
///     /// doc
///     #[c = "struct bpf_insn", whole]
///     pub struct BpfInsn {
///         /// doc
///         pub code: u8 => "code",
///     }
/// }
/// ```
/// `whole` compares `sizeof` too; `part` only offsets and field sizes (for the per-command
/// structs that mirror one member of `union bpf_attr`).
#[macro_export]
macro_rules! uapi_struct {
    (
        $(#[$meta:meta])*
        #[c = $cname:literal, $kind:ident]
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $fty:ty => $cfield:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[doc(alias = $cname)]
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field : $fty ),*
        }

        impl $name {
            /// Layout of this mirror, checked against the C headers by `tests/layout.rs`.
            pub const LAYOUT: $crate::abi::StructLayout = $crate::abi::StructLayout {
                rust: stringify!($name),
                c: $cname,
                whole: $crate::uapi_struct!(@whole $kind),
                size: ::core::mem::size_of::<$name>(),
                align: ::core::mem::align_of::<$name>(),
                fields: &[
                    $( $crate::abi::FieldLayout {
                        rust: stringify!($field),
                        c: $cfield,
                        offset: ::core::mem::offset_of!($name, $field),
                        size: $crate::abi::field_size(|s: &$name| &s.$field),
                    } ),*
                ],
            };
        }

        // SAFETY: every field is a plain integer or array of integers (checked by the
        // layout test: each field is an integer member in C), so all bit patterns are valid
        // and there is no padding the test has not seen.
        unsafe impl $crate::abi::Pod for $name {}
    };
    (@whole whole) => { true };
    (@whole part) => { false };
}

/// Size of a field, from a projection closure (lets the macro avoid naming the field type).
pub const fn field_size<S, F>(_proj: fn(&S) -> &F) -> usize {
    core::mem::size_of::<F>()
}

/// Plain old data: any byte pattern is a valid value, so it can be built from user bytes.
///
/// # Safety
/// Implement only for `#[repr(C)]` types made of integers (and arrays of them) with no
/// padding that could leak kernel memory when copied out.
pub unsafe trait Pod: Copy + Default + 'static {
    /// The bytes of this value.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Self: Pod` is plain integers with no uninitialised padding.
        unsafe { core::slice::from_raw_parts(self as *const Self as *const u8, core::mem::size_of::<Self>()) }
    }
    /// The bytes of this value, writable (any byte pattern is valid).
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and every byte pattern is a valid `Self`.
        unsafe { core::slice::from_raw_parts_mut(self as *mut Self as *mut u8, core::mem::size_of::<Self>()) }
    }
}
