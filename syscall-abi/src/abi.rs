//! The three macros every uapi mirror in this crate is written with, and the layout tables
//! they produce.
//!
//! Each macro records, next to the Rust definition, the C spelling of every item, so the
//! layout test (`tests/layout.rs`) can generate a C program from the same table and compare
//! `sizeof`/`offsetof`/values against the real Linux headers. An item defined through these
//! macros cannot escape the check: every table is listed in [`ALL_LAYOUTS`] / [`ALL_CONSTS`]
//! (see `registry.rs`), and the layout test counts the macro invocations in the source and
//! fails when one is missing from the registry.
//!
//! # Field designators
//! Each struct field names its C member designator after `=>`:
//! - `"name"` or `"a.b.c"`: an ordinary C member (`offsetof(T, a.b.c)` and its `sizeof` must
//!   equal the Rust field's offset and size). Further `| "other"` designators name other
//!   members of the same C union that overlay this field exactly (same offset and size).
//! - `"a" | "b" | ... [union]`: the field stands for a whole C union whose arms are the
//!   listed members: each arm starts at the field's offset, none is larger than the field,
//!   and the largest is exactly as large.
//! - `"name" [flex]`: a C flexible (or GNU zero-length) array member; the Rust field is a
//!   zero-length array at `offsetof(T, name)`. The trailing data is not part of the Rust
//!   struct: callers read it as bytes after `size_of::<T>()`.
//! - `""`: bytes with no C member name of their own: implicit C padding, unnamed bitfields
//!   (`__u32 :32`), or the storage unit of named C bitfields. The layout test checks that such
//!   a field starts where the previous field ends (so, with the next named field's offset
//!   checked, it covers exactly the gap) — and the macro asserts at compile time that the
//!   fields' sizes add up to the struct size, so a `#[repr(C)]` mirror has no implicit padding
//!   at all.
//!
//! # Bitfields
//! A field may declare C bitfields stored in it with `bits { getter / setter: shift, width; }`
//! (the C member name is the getter's name unless given as `getter = "c_name"`). The macro
//! generates the accessors, and the layout test sets each member to all-ones in a zeroed C
//! struct, prints the raw bytes, and compares them with the bytes the Rust setter produces.
//! Bit positions are those of GCC on little-endian targets (x86_64, riscv64, loongarch64).

/// How a field maps to C, see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An ordinary member; alternatives overlay it exactly. With an empty designator: padding
    /// or bitfield storage.
    Member,
    /// A C union: the designators are its arms.
    Union,
    /// A flexible array member (zero-sized in Rust).
    Flex,
}

/// One C bitfield member stored in a field of a mirrored struct.
#[derive(Debug, Clone, Copy)]
pub struct BitLayout {
    /// C member name.
    pub c: &'static str,
    /// Rust getter name.
    pub rust: &'static str,
    /// Position of the lowest bit in the (little-endian) storage field.
    pub shift: u32,
    /// Width in bits.
    pub width: u32,
    /// Writes into `out` the bytes of a zeroed struct whose member was set to all-ones through
    /// the Rust setter (`out` must be at least the struct size).
    pub set_all: fn(&mut [u8]),
}

/// One field of a mirrored struct: its Rust name, the C member designator (relative to the C
/// type, e.g. `link_create.perf_event.bpf_cookie`), its offset and its size in Rust.
#[derive(Debug, Clone, Copy)]
pub struct FieldLayout {
    /// Rust field name.
    pub rust: &'static str,
    /// C member designator accepted by `offsetof(c_type, ...)`; empty for padding and bitfield
    /// storage.
    pub c: &'static str,
    /// `offset_of!` in Rust.
    pub offset: usize,
    /// `size_of` of the Rust field.
    pub size: usize,
    /// Further designators (other union members at this offset, or the union's arms).
    pub alts: &'static [&'static str],
    /// How the designators relate to the field.
    pub kind: FieldKind,
    /// C bitfields stored in this field.
    pub bits: &'static [BitLayout],
}

impl FieldLayout {
    /// Whether the field has no C name of its own (padding, unnamed bits, bitfield storage).
    pub const fn is_unnamed(&self) -> bool {
        self.c.is_empty() && self.alts.is_empty()
    }
}

/// The layout of one mirrored struct.
#[derive(Debug, Clone, Copy)]
pub struct StructLayout {
    /// Rust type name.
    pub rust: &'static str,
    /// C type, e.g. `struct bpf_map_info` or `union bpf_attr`.
    pub c: &'static str,
    /// Whether `size` and `align` must equal `sizeof(c)` and `_Alignof(c)`. Per-command parts
    /// of `union bpf_attr` (and the per-arm views of other unions) are smaller than the C
    /// type: for them only offsets and field sizes are compared, and the size must not exceed
    /// the C size.
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

/// A named table of constants (one `uapi_enum!` or `uapi_consts!` invocation).
#[derive(Debug, Clone, Copy)]
pub struct ConstTable {
    /// The enum type or the table name given to `uapi_consts!`.
    pub name: &'static str,
    /// The constants.
    pub consts: &'static [ConstValue],
}

pub use crate::registry::{ALL_CONSTS, ALL_LAYOUTS};

/// Defines a `#[repr(u32)]`-style enum mirroring a C enum, with `TryFrom<int>` for untrusted
/// values and a `CONSTS` table for the layout test.
///
/// ```
/// syscall_abi::uapi_enum! {
///     /// doc
///     pub enum Color: u32 {
///         /// doc
///         Red = COLOR_RED = 1,
///     }
/// }
/// assert_eq!(Color::try_from(1u32), Ok(Color::Red));
/// assert_eq!(Color::try_from(2u32), Err(syscall_abi::Errno::EINVAL));
/// assert_eq!((Color::CONSTS[0].c, Color::Red.c_name()), ("COLOR_RED", "COLOR_RED"));
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
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),* ];
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

        impl ::core::convert::From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v as $repr
            }
        }
    };
}

/// Defines plain constants mirroring C `#define`s or anonymous enum members, plus a
/// `CONSTS` table (named by the first argument) for the layout test.
///
/// ```
/// syscall_abi::uapi_consts! { MY_FLAGS: u32;
///     /// doc
///     MY_F_ONE = 1 << 0,
/// }
/// assert_eq!((MY_F_ONE, MY_FLAGS[0].c, MY_FLAGS[0].value), (1, "MY_F_ONE", 1));
/// ```
#[macro_export]
macro_rules! uapi_consts {
    ( $table:ident : $ty:ty ; $( $(#[$meta:meta])* $name:ident = $value:expr ),* $(,)? ) => {
        $( $(#[$meta])* #[doc = concat!("\n\nC: `", stringify!($name), "`.")] pub const $name: $ty = $value; )*
        /// Every constant of this group with its C name, for the layout test.
        pub const $table: &[$crate::abi::ConstValue] = &[
            $( $crate::abi::ConstValue { c: stringify!($name), value: $name as i128 } ),*
        ];
    };
}

/// Defines a `#[repr(C)]` struct mirroring a C type and its [`StructLayout`] (an associated
/// `LAYOUT` constant), an all-zero `ZERO` constant, `Default` (zero) and [`Pod`]. Each field
/// names its C designator after `=>` (see the module documentation for the forms).
///
/// ```
/// use syscall_abi::abi::Pod;
/// syscall_abi::uapi_struct! {
///     #[c = "struct insn", whole]
///     /// doc
///     pub struct Insn {
///         /// doc
///         pub code: u8 => "code",
///         /// doc
///         pub regs: u8 => "" bits { dst_reg / set_dst_reg: 0, 4; src_reg / set_src_reg: 4, 4 },
///         /// doc
///         pub off: i16 => "off",
///         /// doc
///         pub imm: i32 => "imm",
///     }
/// }
/// let mut i = Insn::ZERO;
/// i.set_src_reg(3);
/// assert_eq!((i.regs, i.src_reg(), i.as_bytes().len()), (0x30, 3, 8));
/// assert_eq!(Insn::LAYOUT.fields[2].offset, 2);
/// ```
/// The `#[c = "C type", whole|part]` line comes first (before the doc comment), so the macro
/// can tell it from the other attributes. `whole` compares `sizeof`/`_Alignof` too; `part` only offsets and field sizes (for the
/// per-command structs that mirror one member of `union bpf_attr`, and the per-arm views of
/// other unions).
#[macro_export]
macro_rules! uapi_struct {
    (@whole whole) => { true };
    (@whole part) => { false };
    (@kind) => { $crate::abi::FieldKind::Member };
    (@kind union) => { $crate::abi::FieldKind::Union };
    (@kind flex) => { $crate::abi::FieldKind::Flex };
    (@bitname $get:ident) => { stringify!($get) };
    (@bitname $get:ident $c:literal) => { $c };
    (
        #[c = $cname:literal, $kind:ident]
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $fty:ty => $cfield:literal $(| $alt:literal)* $([$fkind:ident])?
                $( bits {
                    $( $(#[$bmeta:meta])* $get:ident $(= $bc:literal)? / $set:ident : $shift:literal, $width:literal );*
                    $(;)?
                } )?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[doc(alias = $cname)]
        #[repr(C)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* $( #[doc(alias = $alt)] )* pub $field : $fty ),*
        }

        impl $name {
            /// All-zero value (every field zero), the starting point of every copy-in.
            pub const ZERO: Self = Self { $( $field: <$fty as $crate::abi::Pod>::ZERO ),* };

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
                        size: ::core::mem::size_of::<$fty>(),
                        alts: &[ $( $alt ),* ],
                        kind: $crate::uapi_struct!(@kind $($fkind)?),
                        bits: &[ $( $( $crate::abi::BitLayout {
                            c: $crate::uapi_struct!(@bitname $get $($bc)?),
                            rust: stringify!($get),
                            shift: $shift,
                            width: $width,
                            set_all: {
                                fn set_all(out: &mut [u8]) {
                                    let mut v = $name::ZERO;
                                    v.$set(<$fty>::MAX);
                                    $crate::abi::copy_prefix(out, $crate::abi::Pod::as_bytes(&v));
                                }
                                set_all
                            },
                        } ),* )? ],
                    } ),*
                ],
            };

            $( $( $(
                $(#[$bmeta])*
                #[doc = concat!("\n\nC bitfield `", $crate::uapi_struct!(@bitname $get $($bc)?), "` (bits ",
                    stringify!($shift), ", width ", stringify!($width), " of `", stringify!($field), "`).")]
                pub const fn $get(&self) -> $fty {
                    (self.$field >> $shift) & (<$fty>::MAX >> (<$fty>::BITS - $width))
                }

                #[doc = concat!("Sets the C bitfield `", $crate::uapi_struct!(@bitname $get $($bc)?),
                    "`; bits of `v` beyond its width are dropped, as C assignment does.")]
                pub const fn $set(&mut self, v: $fty) {
                    let mask = (<$fty>::MAX >> (<$fty>::BITS - $width)) << $shift;
                    self.$field = (self.$field & !mask) | ((v << $shift) & mask);
                }
            )* )? )*
        }

        // No implicit padding anywhere: the fields' sizes add up to the struct size. Together
        // with `#[repr(C)]` and every field type being `Pod`, this is what makes the `Pod`
        // implementation below sound (no uninitialised bytes can be read through `as_bytes`).
        const _: () = assert!(
            0 $( + ::core::mem::size_of::<$fty>() )* == ::core::mem::size_of::<$name>(),
            concat!(stringify!($name), " has implicit padding: add explicit `=> \"\"` fields"),
        );

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self::ZERO
            }
        }

        // SAFETY: `#[repr(C)]`; every field type implements `Pod` (checked by the `ZERO`
        // constant, which names `<field type as Pod>::ZERO`), so any byte pattern is a valid
        // value of every field; and the assertion above proves there is no padding, so every
        // byte of the struct belongs to a field and is initialised.
        unsafe impl $crate::abi::Pod for $name {
            const ZERO: Self = $name::ZERO;
        }
    };
}

/// Size of a field, from a projection closure (lets a macro avoid naming the field type):
/// `field_size(|s: &T| &s.field)`.
pub const fn field_size<S, F>(_proj: fn(&S) -> &F) -> usize {
    core::mem::size_of::<F>()
}

/// Offset one past the end of a field: `offset_of!(T, field) + size_of(field)`.
#[macro_export]
macro_rules! end_of {
    ($t:ty, $field:ident) => {
        ::core::mem::offset_of!($t, $field) + $crate::abi::field_size(|s: &$t| &s.$field)
    };
}

/// Copies `min(dst.len(), src.len())` bytes from `src` to the start of `dst`.
pub fn copy_prefix(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
}

/// Plain old data: any byte pattern is a valid value, and every byte is part of a field, so a
/// value can be built from user bytes and copied back out without leaking kernel memory.
///
/// # Safety
/// Implement only for `#[repr(C)]` types made of `Pod` fields (integers, arrays of them,
/// other `Pod` structs) with no padding bytes. `uapi_struct!` implements it and proves the
/// absence of padding at compile time.
pub unsafe trait Pod: Copy + 'static {
    /// The all-zero value.
    const ZERO: Self;

    /// The bytes of this value.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Self: Pod` has no padding, so all `size_of::<Self>()` bytes behind `self`
        // are initialised; the slice borrows `self` and cannot outlive it.
        unsafe { core::slice::from_raw_parts(self as *const Self as *const u8, core::mem::size_of::<Self>()) }
    }

    /// The bytes of this value, writable (any byte pattern is a valid `Self`).
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and every byte pattern written through the slice leaves a valid
        // `Self`; the slice borrows `self` mutably and exclusively.
        unsafe { core::slice::from_raw_parts_mut(self as *mut Self as *mut u8, core::mem::size_of::<Self>()) }
    }

    /// A value whose first bytes are copied from `bytes` and whose remaining bytes are zero
    /// (extra input bytes are ignored): Linux's "copy `min(size, sizeof)`, zero the rest".
    fn from_prefix(bytes: &[u8]) -> Self {
        let mut v = Self::ZERO;
        copy_prefix(v.as_bytes_mut(), bytes);
        v
    }

    /// Reinterprets the leading bytes of `self` as a `U` (zero-extended when `U` is larger):
    /// how a per-command view is taken of `union bpf_attr`, or a per-arm view of another union.
    fn cast<U: Pod>(&self) -> U {
        U::from_prefix(self.as_bytes())
    }
}

macro_rules! pod_ints {
    ($($t:ty),*) => { $(
        // SAFETY: integers have no padding and every bit pattern is a valid value.
        unsafe impl Pod for $t { const ZERO: Self = 0; }
    )* };
}
pod_ints!(u8, u16, u32, u64, i8, i16, i32, i64);

// SAFETY: an array of `Pod` elements has no padding between elements (size is a multiple of
// alignment) and every element accepts every bit pattern.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {
    const ZERO: Self = [T::ZERO; N];
}

#[cfg(test)]
mod tests;
