//! The rules shared by `array_of_maps` and `hash_of_maps` (Linux `map_in_map.c`): which
//! template an outer map accepts at creation, and which maps it accepts as elements.

use syscall_abi::bpf::{MapType, BPF_F_INNER_MAP};
use syscall_abi::{err, Errno, Result};

use crate::{BpfMap, MapAttr, MapDef};

/// Validates the outer map's attributes and returns the inner-map template: `value_size`
/// must be 4 (an fd), the template must exist, must not itself be a map-in-map (`EINVAL`)
/// and must not carry a `bpf_spin_lock` (`ENOTSUPP`), as `bpf_map_meta_alloc` decides.
pub(crate) fn check_outer(attr: &MapAttr) -> Result<MapDef> {
    if attr.value_size != 4 {
        return err(Errno::EINVAL, "map-in-map value_size must be 4 (an fd)");
    }
    let Some(inner) = attr.inner_map else {
        return err(Errno::EINVAL, "map-in-map needs inner_map_fd");
    };
    if matches!(inner.map_type, MapType::ArrayOfMaps | MapType::HashOfMaps) {
        return err(Errno::EINVAL, "nested map-in-map is not supported");
    }
    if inner.spin_lock_off.is_some() {
        return err(Errno::ENOTSUPP, "inner map with bpf_spin_lock is not supported");
    }
    Ok(inner)
}

/// Whether `candidate` may be stored in an outer map made with `template`
/// (`bpf_map_meta_equal`): same type, key size, value size and flags, and the same
/// max_entries unless the template has `BPF_F_INNER_MAP`. Mismatch → `EINVAL`.
pub(crate) fn check_inner(template: &MapDef, candidate: &dyn BpfMap) -> Result<()> {
    let c = candidate.def();
    let same = c.map_type == template.map_type
        && c.key_size == template.key_size
        && c.value_size == template.value_size
        && c.map_flags == template.map_flags
        && (template.map_flags & BPF_F_INNER_MAP != 0 || c.max_entries == template.max_entries);
    if same {
        Ok(())
    } else {
        err(Errno::EINVAL, "inner map does not match the outer map's template")
    }
}
