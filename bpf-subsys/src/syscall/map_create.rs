//! `BPF_MAP_CREATE` (Linux 6.1 `map_create`).
//!
//! Order of checks, as Linux: the BTF id combination and `map_extra` (`EINVAL`), the
//! `BPF_F_RDONLY`/`BPF_F_WRONLY` pair (`EINVAL`), `numa_node` (`EINVAL`), then the map type's
//! own checks and the allocation (`maps::create`), then the name (`EINVAL`), then BTF
//! (`btf_fd` must be a BTF object: `EBADF`/`EINVAL`; kernel BTF `EACCES`), then the id and the
//! fd (opened with the access `BPF_F_RDONLY`/`BPF_F_WRONLY` ask for, close-on-exec).
//!
//! Capabilities: the dispatcher already required `CAP_BPF` or `CAP_SYS_ADMIN` (Linux's default
//! `unprivileged_bpf_disabled`); hash maps with `BPF_F_ZERO_SEED` also need `CAP_SYS_ADMIN`
//! (`htab_map_alloc_check`), and offloaded maps (`map_ifindex`) need `CAP_SYS_ADMIN` and a
//! device, which this subsystem never has (`EINVAL`).
//!
//! BTF: with a value type id, the key and value types are checked against
//! `key_size`/`value_size` and the value's `bpf_spin_lock` is found ([`crate::btf::map_check_btf`],
//! Linux `map_check_btf`); the ids are stored (map info reports them). The BTF is looked at
//! before the allocation (the lock offset is part of the map's definition here) but its
//! errors are returned at Linux's point, after the map type's and the name's.

use alloc::sync::Arc;

use maps::{BpfMap, MapAttr};
use syscall_abi::bpf::{MapCreateAttr, MapType, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED};
use syscall_abi::{err, Errno, Error, Result};

use super::Sys;
use crate::btf::{map_check_btf, Btf, MapBtfInfo, MapBtfQuery};
use crate::host::{Capability, MapHostAdapter};
use crate::object::{btf_from_fd, map_from_fd, obj_name_cpy, BpfFile, BpfObject, FileMode, MapBtf, MapObj, MapSpec};
use crate::verifier::VerifierLog;

/// `NUMA_NO_NODE` as the `u32` user space passes (`-1`).
const NUMA_NO_NODE: u32 = u32::MAX;

/// `BPF_MAP_CREATE`: returns the new map's fd.
pub(super) fn map_create(sys: &Sys<'_>, a: &MapCreateAttr) -> Result<u32> {
    let host = sys.host();
    let map_type = MapType::try_from(a.map_type).ok();
    if a.btf_vmlinux_value_type_id != 0 {
        if map_type != Some(MapType::StructOps) || a.btf_key_type_id != 0 || a.btf_value_type_id != 0 {
            return err(Errno::EINVAL, "btf_vmlinux_value_type_id is for struct_ops maps without key/value ids");
        }
    } else if a.btf_key_type_id != 0 && a.btf_value_type_id == 0 {
        return err(Errno::EINVAL, "btf_key_type_id without btf_value_type_id");
    }
    if map_type != Some(MapType::BloomFilter) && a.map_extra != 0 {
        return err(Errno::EINVAL, "map_extra is only valid for bloom filters");
    }
    let mode = FileMode::from_bpf_flags(a.map_flags)?;
    if a.map_flags & BPF_F_NUMA_NODE != 0 && a.numa_node != NUMA_NO_NODE && a.numa_node >= host.numa_nodes() {
        return err(Errno::EINVAL, "numa_node is not an online node");
    }

    let btf = if a.btf_key_type_id != 0 || a.btf_value_type_id != 0 || a.btf_vmlinux_value_type_id != 0 {
        Some(map_btf(sys, a, map_type))
    } else {
        None
    };
    let spin_lock_off = match &btf {
        Some(Ok((_, info))) => info.spin_lock_off,
        _ => None,
    };
    let map = create_map(sys, a, map_type, spin_lock_off)?;
    let name = obj_name_cpy(&a.map_name)?;
    let btf = btf.transpose()?.map(|(btf, _)| btf);
    let obj = MapObj::new(host.registry(), MapSpec { map, name, btf })?;
    host.install_fd(BpfFile::new(BpfObject::Map(obj), mode), true)
}

/// The BTF of the map (Linux `map_create` from `btf_get_by_fd`, then `map_check_btf`
/// when there is a value type id).
fn map_btf(sys: &Sys<'_>, a: &MapCreateAttr, map_type: Option<MapType>) -> Result<(MapBtf, MapBtfInfo)> {
    let btf = btf_from_fd(sys.host(), a.btf_fd)?;
    if btf.kernel_btf() {
        return err(Errno::EACCES, "maps cannot be described by kernel BTF");
    }
    let mut info = MapBtfInfo::default();
    if a.btf_value_type_id != 0 {
        let parsed = Btf::parse(btf.data(), &mut VerifierLog::disabled())
            .map_err(|_| Error::new(Errno::EINVAL, "BTF object does not parse"))?;
        let q = MapBtfQuery {
            map_type,
            map_flags: a.map_flags,
            key_size: a.key_size,
            value_size: a.value_size,
            max_entries: a.max_entries,
            key_type_id: a.btf_key_type_id,
            value_type_id: a.btf_value_type_id,
        };
        info = map_check_btf(&parsed, &q)?;
    }
    let btf = MapBtf {
        btf,
        key_type_id: a.btf_key_type_id,
        value_type_id: a.btf_value_type_id,
        vmlinux_value_type_id: a.btf_vmlinux_value_type_id,
    };
    Ok((btf, info))
}

/// The map type's part (Linux `find_and_alloc_map`): the checks `maps` cannot make (it does
/// not know capabilities, devices or fds), then `maps::create`.
fn create_map(
    sys: &Sys<'_>,
    a: &MapCreateAttr,
    map_type: Option<MapType>,
    spin_lock_off: Option<u32>,
) -> Result<Arc<dyn BpfMap>> {
    let host = sys.host();
    if a.map_ifindex != 0 {
        // bpf_map_offload_map_alloc: CAP_SYS_ADMIN, then the device (never found here).
        if !host.capable(Capability::SysAdmin) {
            return err(Errno::EPERM, "offloaded maps need CAP_SYS_ADMIN");
        }
        return err(Errno::EINVAL, "no offload device with this ifindex");
    }
    let hash_family = matches!(
        map_type,
        Some(MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash | MapType::HashOfMaps)
    );
    // TODO(maps): MapAttr has no capabilities; htab_map_alloc_check's CAP_SYS_ADMIN rule for
    // BPF_F_ZERO_SEED lives here until it does.
    if hash_family && a.map_flags & BPF_F_ZERO_SEED != 0 && !host.capable(Capability::SysAdmin) {
        return err(Errno::EPERM, "BPF_F_ZERO_SEED needs CAP_SYS_ADMIN");
    }
    // bpf_map_meta_alloc: the outer map's template is the map inner_map_fd names. Linux
    // resolves it inside the type's allocation, after the type's attribute checks; it is
    // resolved first here because `maps::create` takes the template, not an fd.
    let inner_map = if matches!(map_type, Some(MapType::ArrayOfMaps | MapType::HashOfMaps)) {
        let (inner, _) = map_from_fd(host, a.inner_map_fd)?;
        Some(*inner.map().def())
    } else {
        None
    };
    let attr = MapAttr {
        map_type,
        key_size: a.key_size,
        value_size: a.value_size,
        max_entries: a.max_entries,
        map_flags: a.map_flags,
        map_extra: a.map_extra,
        inner_map,
        spin_lock_off,
    };
    maps::create(&attr, &MapHostAdapter::shared(sys.host.clone()))
}
