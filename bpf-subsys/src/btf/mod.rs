//! BTF (BPF Type Format): parsing and validation of a user blob with Linux 6.1's rules
//! (`kernel/bpf/btf.c`: `btf_parse`, `btf_parse_hdr`, `btf_parse_str_sec`,
//! `btf_check_all_metas`, `btf_check_all_types`, `btf_check_type_tags`), and the type
//! queries map creation needs (`btf_type_id_size`, `btf_resolve_size`, `map_check_btf`).
//!
//! Parsing runs in Linux's order and stops at the first error, with Linux's errno and log
//! text (the `[id] KIND name details msg` lines of `btf_verifier_log_type`, written into a
//! [`VerifierLog`] with the program verifier's rules):
//! 1. the header (`header`): sizes, magic, version, flags, section layout, string section;
//! 2. every type's own record (`meta`, Linux's `check_meta` pass): kind, names, sizes,
//!    members, enumerators, parameters;
//! 3. every type's references (`resolve`, Linux's `resolve` pass, a depth-first walk of at
//!    most 32 levels that detects loops), member placement, function prototypes;
//! 4. the order of type tags and modifiers (`btf_check_type_tags`).
//!
//! Only base BTF is parsed (no split BTF: user space cannot load module BTF).

mod env;
mod header;
mod map_check;
mod meta;
mod resolve;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_bad;

use alloc::vec::Vec;

use syscall_abi::Result;

use crate::verifier::VerifierLog;
pub use map_check::{map_check_btf, MapBtfInfo, MapBtfQuery};

/// Largest accepted blob (`BTF_MAX_SIZE`, 16 MiB).
pub const BTF_MAX_SIZE: u32 = 16 * 1024 * 1024;
/// Highest type id (`BTF_MAX_TYPE`).
pub(crate) const BTF_MAX_TYPE: u32 = 0x000f_ffff;
/// Highest string offset (`BTF_MAX_NAME_OFFSET`).
pub(crate) const BTF_MAX_NAME_OFFSET: u32 = 0x00ff_ffff;
/// Size of `struct btf_type`.
pub(crate) const TYPE_SIZE: u32 = 12;

/// `BTF_KIND_*` values (bits 24..28 of `btf_type.info`).
pub mod kind {
    /// `BTF_KIND_UNKN`.
    pub const UNKN: u32 = 0;
    /// `BTF_KIND_INT`.
    pub const INT: u32 = 1;
    /// `BTF_KIND_PTR`.
    pub const PTR: u32 = 2;
    /// `BTF_KIND_ARRAY`.
    pub const ARRAY: u32 = 3;
    /// `BTF_KIND_STRUCT`.
    pub const STRUCT: u32 = 4;
    /// `BTF_KIND_UNION`.
    pub const UNION: u32 = 5;
    /// `BTF_KIND_ENUM`.
    pub const ENUM: u32 = 6;
    /// `BTF_KIND_FWD`.
    pub const FWD: u32 = 7;
    /// `BTF_KIND_TYPEDEF`.
    pub const TYPEDEF: u32 = 8;
    /// `BTF_KIND_VOLATILE`.
    pub const VOLATILE: u32 = 9;
    /// `BTF_KIND_CONST`.
    pub const CONST: u32 = 10;
    /// `BTF_KIND_RESTRICT`.
    pub const RESTRICT: u32 = 11;
    /// `BTF_KIND_FUNC`.
    pub const FUNC: u32 = 12;
    /// `BTF_KIND_FUNC_PROTO`.
    pub const FUNC_PROTO: u32 = 13;
    /// `BTF_KIND_VAR`.
    pub const VAR: u32 = 14;
    /// `BTF_KIND_DATASEC`.
    pub const DATASEC: u32 = 15;
    /// `BTF_KIND_FLOAT`.
    pub const FLOAT: u32 = 16;
    /// `BTF_KIND_DECL_TAG`.
    pub const DECL_TAG: u32 = 17;
    /// `BTF_KIND_TYPE_TAG`.
    pub const TYPE_TAG: u32 = 18;
    /// `BTF_KIND_ENUM64`.
    pub const ENUM64: u32 = 19;
    /// `BTF_KIND_MAX`.
    pub const MAX: u32 = 19;
}

/// `btf_kind_str`.
const KIND_STR: [&str; 20] = [
    "UNKNOWN",
    "INT",
    "PTR",
    "ARRAY",
    "STRUCT",
    "UNION",
    "ENUM",
    "FWD",
    "TYPEDEF",
    "VOLATILE",
    "CONST",
    "RESTRICT",
    "FUNC",
    "FUNC_PROTO",
    "VAR",
    "DATASEC",
    "FLOAT",
    "DECL_TAG",
    "TYPE_TAG",
    "ENUM64",
];

/// The name Linux logs for a kind.
pub(crate) fn kind_str(k: u32) -> &'static str {
    KIND_STR.get(k as usize).copied().unwrap_or("UNKNOWN")
}

/// One `struct btf_type` of the type section; its kind-specific data follows at `extra` in
/// [`Btf::tdata`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ty {
    pub name_off: u32,
    pub info: u32,
    /// `size` or `type`, depending on the kind.
    pub size_type: u32,
    /// Offset of the data after the 12-byte record in the type section.
    pub extra: usize,
}

impl Ty {
    /// `BTF_INFO_KIND`.
    pub fn kind(&self) -> u32 {
        (self.info >> 24) & 0x1f
    }
    /// `BTF_INFO_VLEN`.
    pub fn vlen(&self) -> u32 {
        self.info & 0xffff
    }
    /// `BTF_INFO_KFLAG`.
    pub fn kflag(&self) -> bool {
        self.info >> 31 != 0
    }
    /// `btf_type_is_modifier`.
    pub fn is_modifier(&self) -> bool {
        matches!(self.kind(), kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG)
    }
    /// `btf_type_is_struct`: struct or union.
    pub fn is_struct(&self) -> bool {
        matches!(self.kind(), kind::STRUCT | kind::UNION)
    }
    /// Void is the kind-0 record of id 0 (the only one: kind 0 is rejected in the section).
    pub fn is_void(&self) -> bool {
        self.kind() == kind::UNKN
    }
    /// `btf_type_nosize`.
    pub fn nosize(&self) -> bool {
        self.is_void() || matches!(self.kind(), kind::FWD | kind::FUNC | kind::FUNC_PROTO)
    }
    /// `btf_type_is_resolve_source_only`.
    pub fn is_source_only(&self) -> bool {
        matches!(self.kind(), kind::VAR | kind::DECL_TAG | kind::DATASEC)
    }
    /// `btf_type_needs_resolve`.
    pub fn needs_resolve(&self) -> bool {
        self.is_modifier()
            || self.is_struct()
            || matches!(self.kind(), kind::PTR | kind::ARRAY | kind::VAR | kind::FUNC | kind::DECL_TAG | kind::DATASEC)
    }
    /// `btf_type_has_size`.
    pub fn has_size(&self) -> bool {
        matches!(
            self.kind(),
            kind::INT | kind::STRUCT | kind::UNION | kind::ENUM | kind::DATASEC | kind::FLOAT | kind::ENUM64
        )
    }
}

/// A member of a struct or union (`struct btf_member`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub name_off: u32,
    pub type_: u32,
    pub offset: u32,
}

/// `struct btf_array`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Array {
    pub type_: u32,
    pub index_type: u32,
    pub nelems: u32,
}

/// `struct btf_var_secinfo`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Secinfo {
    pub type_: u32,
    pub offset: u32,
    pub size: u32,
}

/// A validated BTF blob's types and strings.
#[derive(Debug, Default)]
pub struct Btf {
    /// The string section.
    strings: Vec<u8>,
    /// The type section.
    tdata: Vec<u8>,
    /// Index = type id; `types[0]` is void.
    types: Vec<Ty>,
    /// Per type id: what a modifier, pointer, var, array element... resolved to.
    resolved_ids: Vec<u32>,
    /// Per type id: the resolved size of arrays.
    resolved_sizes: Vec<u32>,
}

impl Btf {
    /// Validates `data` like Linux 6.1's `btf_parse` (everything after the log setup and
    /// the copy from user space), logging into `log`. The final "log full → `ENOSPC`" rule
    /// is the caller's.
    pub fn parse(data: &[u8], log: &mut VerifierLog) -> Result<Btf> {
        let mut env = env::Env::new(log);
        let hdr = header::parse_hdr(&mut env, data)?;
        header::parse_str_sec(&mut env, data, &hdr)?;
        meta::parse_type_sec(&mut env, data, &hdr)?;
        resolve::check_all_types(&mut env)?;
        resolve::check_type_tags(&mut env)?;
        Ok(env.btf)
    }

    /// Number of type ids, void included (`btf_nr_types`).
    pub fn nr_types(&self) -> u32 {
        u32::try_from(self.types.len()).unwrap_or(u32::MAX)
    }

    /// `btf_type_by_id`.
    pub(crate) fn ty(&self, id: u32) -> Option<&Ty> {
        self.types.get(id as usize)
    }

    /// The kind of type `id` (`None`: out of range).
    pub fn kind_of(&self, id: u32) -> Option<u32> {
        self.ty(id).map(Ty::kind)
    }

    /// `btf_str_by_offset`: the NUL-terminated string at `off` (without its NUL).
    pub fn str_at(&self, off: u32) -> Option<&[u8]> {
        let rest = self.strings.get(off as usize..)?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        Some(&rest[..end])
    }

    /// The name of type `id` (empty for anonymous types and out-of-range ids).
    pub fn name_of(&self, id: u32) -> &[u8] {
        self.ty(id).and_then(|t| self.str_at(t.name_off)).unwrap_or(&[])
    }

    fn u32_at(&self, off: usize) -> u32 {
        let b = self.tdata.get(off..off + 4).unwrap_or(&[0; 4]);
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    }

    /// `btf_type_int`: the word after an INT record.
    pub(crate) fn int_data(&self, t: &Ty) -> u32 {
        self.u32_at(t.extra)
    }

    /// `btf_type_array`.
    pub(crate) fn array(&self, t: &Ty) -> Array {
        Array { type_: self.u32_at(t.extra), index_type: self.u32_at(t.extra + 4), nelems: self.u32_at(t.extra + 8) }
    }

    /// Member `i` of a struct or union.
    pub(crate) fn member(&self, t: &Ty, i: u32) -> Member {
        let o = t.extra + 12 * i as usize;
        Member { name_off: self.u32_at(o), type_: self.u32_at(o + 4), offset: self.u32_at(o + 8) }
    }

    /// Parameter `i` of a FUNC_PROTO: `(name_off, type)`.
    pub(crate) fn param(&self, t: &Ty, i: u32) -> (u32, u32) {
        let o = t.extra + 8 * i as usize;
        (self.u32_at(o), self.u32_at(o + 4))
    }

    /// Secinfo `i` of a DATASEC.
    pub(crate) fn secinfo(&self, t: &Ty, i: u32) -> Secinfo {
        let o = t.extra + 12 * i as usize;
        Secinfo { type_: self.u32_at(o), offset: self.u32_at(o + 4), size: self.u32_at(o + 8) }
    }

    /// The word after a VAR (linkage), DECL_TAG (component_idx) or ENUM entry `i`
    /// (`entry_size` 8: name_off, val) / ENUM64 entry (12: name_off, lo, hi).
    pub(crate) fn word(&self, t: &Ty, byte_off: usize) -> u32 {
        self.u32_at(t.extra + byte_off)
    }

    /// `btf_type_id_size`: the type `id` has a size, directly or through what it resolved
    /// to; returns the type id with the size, and the size.
    pub fn type_id_size(&self, id: u32) -> Option<(u32, u32)> {
        let t = self.ty(id)?;
        if t.nosize() {
            return None;
        }
        let sized = |id: u32, t: &Ty| -> Option<u32> {
            if t.has_size() {
                Some(t.size_type)
            } else if t.kind() == kind::ARRAY {
                self.resolved_sizes.get(id as usize).copied()
            } else if t.kind() == kind::PTR {
                Some(8)
            } else {
                None
            }
        };
        if let Some(size) = sized(id, t) {
            return Some((id, size));
        }
        if !t.is_modifier() && t.kind() != kind::VAR {
            return None;
        }
        let rid = self.resolved_ids.get(id as usize).copied()?;
        let rt = self.ty(rid)?;
        if rt.nosize() {
            return None;
        }
        sized(rid, rt).map(|s| (rid, s))
    }

    /// `btf_resolve_size`: the size of type `id` through modifiers and (nested) arrays,
    /// `None` for types without a size, chains deeper than 32 or sizes above `u32::MAX`.
    pub fn resolve_size(&self, mut id: u32) -> Option<u32> {
        let mut nelems: u32 = 1;
        for _ in 0..resolve::MAX_RESOLVE_DEPTH {
            let t = self.ty(id)?;
            let size = match t.kind() {
                kind::INT | kind::STRUCT | kind::UNION | kind::ENUM | kind::FLOAT | kind::ENUM64 => t.size_type,
                kind::PTR => 8,
                kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
                    id = t.size_type;
                    continue;
                }
                kind::ARRAY => {
                    let a = self.array(t);
                    nelems = nelems.checked_mul(a.nelems)?;
                    id = a.type_;
                    continue;
                }
                _ => return None,
            };
            return size.checked_mul(nelems);
        }
        None
    }
}

/// Bytes as text for the log (up to the first invalid UTF-8 byte).
pub(crate) fn text(b: &[u8]) -> &str {
    match core::str::from_utf8(b) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or(""),
    }
}
