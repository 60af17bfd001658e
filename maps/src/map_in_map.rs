//! The rules shared by `array_of_maps` and `hash_of_maps` (Linux `map_in_map.c`): which
//! template an outer map accepts at creation, and which maps it accepts as elements.

use syscall_abi::bpf::{MapType, BPF_F_INNER_MAP};
use syscall_abi::{err, Errno, Result};

use crate::{BpfMap, MapAttr, MapDef};

/// Validates the outer map's attributes and returns the inner-map template
/// (`bpf_map_meta_alloc`, Linux 6.1): `value_size` must be 4 (an fd), the template must
/// exist and must not itself be a map-in-map (`EINVAL`); a `prog_array` (whose program type
/// binding is only known at run time: no `map_meta_equal`) and a template carrying a
/// `bpf_spin_lock` are `ENOTSUPP`.
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
    if inner.map_type == MapType::ProgArray {
        return err(Errno::ENOTSUPP, "prog_array cannot be an inner map");
    }
    if inner.spin_lock_off.is_some() {
        return err(Errno::ENOTSUPP, "inner map with bpf_spin_lock is not supported");
    }
    Ok(inner)
}

/// Whether `candidate` may be stored in an outer map made with `template`: the template's
/// `map_meta_equal`. For every type (`bpf_map_meta_equal`): same type, key size, value size
/// and flags; for a plain array template (`array_map_meta_equal`) also the same
/// `max_entries`, unless the template has `BPF_F_INNER_MAP`. Mismatch → `EINVAL`.
pub(crate) fn check_inner(template: &MapDef, candidate: &dyn BpfMap) -> Result<()> {
    let c = candidate.def();
    let same_meta = c.map_type == template.map_type
        && c.key_size == template.key_size
        && c.value_size == template.value_size
        && c.map_flags == template.map_flags;
    let same_size = template.map_type != MapType::Array
        || template.map_flags & BPF_F_INNER_MAP != 0
        || c.max_entries == template.max_entries;
    if same_meta && same_size {
        Ok(())
    } else {
        err(Errno::EINVAL, "inner map does not match the outer map's template")
    }
}
