//! The BTF part of `BPF_MAP_CREATE` (Linux 6.1 `map_check_btf` in `kernel/bpf/syscall.c`,
//! `btf_find_spin_lock`/`btf_find_timer`/`btf_find_field` in `btf.c`, and the map types'
//! `map_check_btf` operations).
//!
//! - A key type id must have a size equal to `key_size`, the value type id one equal to
//!   `value_size` (`EINVAL`). Key id 0 ("no key type") is only for map types with their own
//!   BTF check (arrays, bloom filters...), else `EINVAL`.
//! - A `struct bpf_spin_lock` member (4 bytes, 4-aligned) of the value struct, or variable
//!   of a value DATASEC, enables `BPF_F_LOCK`: not with `BPF_F_RDONLY_PROG` (`EACCES`), and
//!   only in hash and array maps (and the storage maps, not supported here) (`ENOTSUPP`). A
//!   misaligned lock or two locks are not an error in 6.1: the value then has no lock.
//! - A `struct bpf_timer` (16 bytes, 8-aligned): `EACCES` with `BPF_F_RDONLY_PROG`,
//!   `EOPNOTSUPP` outside hash, LRU hash and array maps, and `ENOTSUPP` otherwise: timers
//!   are not supported by this subsystem.
//! - `kptr` type tags need the kernel's BTF to resolve against; there is none here, and
//!   Linux 6.1 ignores a kptr that it cannot resolve, so they are ignored.
//! - Then the map type's check: arrays need a 32-bit int key (or no key with a one-entry
//!   DATASEC value), LPM tries a struct key, bloom filters no key; fd-holding maps reject
//!   BTF (`ENOTSUPP`, `map_check_no_btf`).

use syscall_abi::bpf::{MapType, BPF_F_RDONLY_PROG};
use syscall_abi::{err, Errno, Result};

use super::meta::member_bit_offset;
use super::{kind, Btf, Ty};

/// What map creation passes to [`map_check_btf`].
#[derive(Clone, Copy, Debug)]
pub struct MapBtfQuery {
    /// The map type (`None`: unknown, already rejected by map creation).
    pub map_type: Option<MapType>,
    /// `map_flags`.
    pub map_flags: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `btf_key_type_id` (0: none).
    pub key_type_id: u32,
    /// `btf_value_type_id` (non-zero).
    pub value_type_id: u32,
}

/// What the BTF tells map creation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapBtfInfo {
    /// Offset of the value's `struct bpf_spin_lock` (`maps::MapAttr::spin_lock_off`).
    pub spin_lock_off: Option<u32>,
}

/// Size and alignment of `struct bpf_spin_lock` and `struct bpf_timer`.
const SPIN_LOCK: (&[u8], u32, u32) = (b"bpf_spin_lock", 4, 4);
const TIMER: (&[u8], u32, u32) = (b"bpf_timer", 16, 8);

/// Linux `map_check_btf` for a map described by `q` and the parsed `btf`.
pub fn map_check_btf(btf: &Btf, q: &MapBtfQuery) -> Result<MapBtfInfo> {
    let key = if q.key_type_id != 0 {
        match btf.type_id_size(q.key_type_id) {
            Some((id, size)) if size == q.key_size => Some(id),
            _ => return err(Errno::EINVAL, "BTF key type size differs from key_size"),
        }
    } else {
        if !has_check_btf(q.map_type) {
            return err(Errno::EINVAL, "this map type needs a BTF key type");
        }
        None
    };
    let value = match btf.type_id_size(q.value_type_id) {
        Some((id, size)) if size == q.value_size => id,
        _ => return err(Errno::EINVAL, "BTF value type size differs from value_size"),
    };
    let spin_lock_off = find_field(btf, value, SPIN_LOCK);
    if spin_lock_off.is_some() {
        if q.map_flags & BPF_F_RDONLY_PROG != 0 {
            return err(Errno::EACCES, "bpf_spin_lock in a map programs cannot write");
        }
        if !matches!(q.map_type, Some(MapType::Hash | MapType::Array)) {
            return err(Errno::ENOTSUPP, "bpf_spin_lock is only supported in hash and array maps");
        }
    }
    if find_field(btf, value, TIMER).is_some() {
        if q.map_flags & BPF_F_RDONLY_PROG != 0 {
            return err(Errno::EACCES, "bpf_timer in a map programs cannot write");
        }
        if !matches!(q.map_type, Some(MapType::Hash | MapType::LruHash | MapType::Array)) {
            return err(Errno::EOPNOTSUPP, "bpf_timer is only supported in hash, LRU hash and array maps");
        }
        return err(Errno::ENOTSUPP, "bpf_timer is not supported");
    }
    type_check_btf(btf, q, key, value)?;
    Ok(MapBtfInfo { spin_lock_off })
}

/// Whether the map type has a `map_check_btf` operation (which makes a zero key id legal
/// at the generic step).
fn has_check_btf(t: Option<MapType>) -> bool {
    matches!(
        t,
        Some(
            MapType::Array
                | MapType::PercpuArray
                | MapType::BloomFilter
                | MapType::LpmTrie
                | MapType::PerfEventArray
                | MapType::CgroupArray
                | MapType::ArrayOfMaps
                | MapType::HashOfMaps
                | MapType::StackTrace
        )
    )
}

/// The map type's `map_check_btf` (`key` `None`: no key type, Linux's void).
fn type_check_btf(btf: &Btf, q: &MapBtfQuery, key: Option<u32>, value: u32) -> Result<()> {
    let key_ty = key.and_then(|k| btf.ty(k));
    match q.map_type {
        Some(MapType::Array | MapType::PercpuArray) => {
            // array_map_check_btf
            let Some(k) = key_ty else {
                // Keyless: only the one-entry array of a .bss/.data/.rodata section.
                let datasec = btf.kind_of(value) == Some(kind::DATASEC);
                if q.map_type != Some(MapType::Array) || q.max_entries != 1 || !datasec {
                    return err(Errno::EINVAL, "keyless BTF is only for one-entry DATASEC arrays");
                }
                return Ok(());
            };
            let d = btf.int_data(k);
            if k.kind() != kind::INT || d & 0xff != 32 || (d >> 16) & 0xff != 0 {
                return err(Errno::EINVAL, "array keys are 32-bit ints");
            }
            Ok(())
        }
        Some(MapType::BloomFilter) => {
            if key_ty.is_some() {
                return err(Errno::EINVAL, "bloom filters have no key type");
            }
            Ok(())
        }
        Some(MapType::LpmTrie) => {
            if !matches!(key_ty, Some(k) if k.kind() == kind::STRUCT) {
                return err(Errno::EINVAL, "LPM trie keys are structs");
            }
            Ok(())
        }
        // Prog arrays have no `map_check_btf` since Linux 5.5 (poke tracking): BTF with the
        // right sizes is accepted there, as aya and libbpf send it.
        Some(
            MapType::PerfEventArray
            | MapType::CgroupArray
            | MapType::ArrayOfMaps
            | MapType::HashOfMaps
            | MapType::StackTrace,
        ) => err(Errno::ENOTSUPP, "this map type takes no BTF"),
        _ => Ok(()),
    }
}

/// `btf_find_field` for one struct kind (`btf_find_spin_lock`, `btf_find_timer`): the
/// offset of the one member (of a STRUCT value) or variable (of a DATASEC value) whose
/// type is the struct `name` of `size` bytes; `None` when there is none, more than one, or
/// one at an offset not aligned to `align` (Linux's negative results).
fn find_field(btf: &Btf, value: u32, (name, size, align): (&[u8], u32, u32)) -> Option<u32> {
    let t = btf.ty(value)?;
    let is_it = |ft: &Ty| ft.kind() == kind::STRUCT && ft.size_type == size;
    let mut found = None;
    match t.kind() {
        kind::STRUCT => {
            for i in 0..t.vlen() {
                let m = btf.member(t, i);
                let mt = btf.ty(m.type_)?;
                if btf.str_at(mt.name_off) != Some(name) {
                    continue;
                }
                let off = member_bit_offset(t, m.offset);
                if off % 8 != 0 || (off / 8) % align != 0 {
                    return None;
                }
                if is_it(mt) {
                    if found.is_some() {
                        return None;
                    }
                    found = Some(off / 8);
                }
            }
        }
        kind::DATASEC => {
            for i in 0..t.vlen() {
                let v = btf.secinfo(t, i);
                let var = btf.ty(v.type_)?;
                let vt = btf.ty(var.size_type)?;
                if btf.str_at(vt.name_off) != Some(name) || v.size != size {
                    continue;
                }
                if v.offset % align != 0 {
                    return None;
                }
                if is_it(vt) {
                    if found.is_some() {
                        return None;
                    }
                    found = Some(v.offset);
                }
            }
        }
        _ => {}
    }
    found
}
