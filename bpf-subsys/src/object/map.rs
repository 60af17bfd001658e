//! [`MapObj`]: a map as the syscall layer and programs see it (Linux `struct bpf_map` minus
//! what lives in the `maps` crate): id, name, BTF ids, the frozen state and the counts
//! `BPF_MAP_FREEZE` and `release_uref` need.

use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

use maps::{BpfMap, FdObject};
use spin::Mutex;
use syscall_abi::bpf::{ProgType, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_OBJ_NAME_LEN};
use syscall_abi::{err, Errno, Result};

use super::registry::IdSlot;
use super::{BtfObj, FileMode, Registry};

/// The BTF description of a map's key and value (`BPF_MAP_CREATE` with `btf_fd`).
#[derive(Clone)]
pub struct MapBtf {
    /// The BTF object the ids refer to.
    pub btf: Arc<BtfObj>,
    /// Type id of the key (0: none).
    pub key_type_id: u32,
    /// Type id of the value.
    pub value_type_id: u32,
    /// Type id of a vmlinux struct (struct_ops maps), else 0.
    pub vmlinux_value_type_id: u32,
}

/// What a map object is made from.
pub struct MapSpec {
    /// The map itself (from `maps::create`).
    pub map: Arc<dyn BpfMap>,
    /// Name, already checked by [`super::obj_name_cpy`].
    pub name: [u8; BPF_OBJ_NAME_LEN],
    /// BTF ids, if the map was created with BTF.
    pub btf: Option<MapBtf>,
}

/// A map object. Implements `maps::FdObject`, so fd maps (map-in-map) store it.
pub struct MapObj {
    pub(super) slot: IdSlot,
    map: Arc<dyn BpfMap>,
    name: [u8; BPF_OBJ_NAME_LEN],
    btf: Option<MapBtf>,
    /// `BPF_MAP_FREEZE` happened: the syscall side may no longer write.
    frozen: AtomicBool,
    /// Serialises freezing against writable mmaps (Linux `freeze_mutex`).
    freeze_lock: Mutex<()>,
    /// Writable mmaps plus syscall writes in progress (Linux `writecnt`).
    write_active: AtomicU64,
    /// User references: fds and pins (Linux `usercnt`).
    usercnt: AtomicU64,
    /// For maps holding programs: the program type that owns the map (Linux `owner.type`).
    owner: Mutex<Option<ProgType>>,
}

impl MapObj {
    /// Publishes a new map object with a fresh id.
    pub fn new(registry: &Registry, spec: MapSpec) -> Result<Arc<MapObj>> {
        registry.publish(|slot, _| MapObj {
            slot,
            map: spec.map,
            name: spec.name,
            btf: spec.btf,
            frozen: AtomicBool::new(false),
            freeze_lock: Mutex::new(()),
            write_active: AtomicU64::new(0),
            usercnt: AtomicU64::new(0),
            owner: Mutex::new(None),
        })
    }

    /// The map's id.
    pub fn id(&self) -> u32 {
        self.slot.id()
    }

    /// The map.
    pub fn map(&self) -> &Arc<dyn BpfMap> {
        &self.map
    }

    /// The name (NUL-padded).
    pub fn name(&self) -> &[u8; BPF_OBJ_NAME_LEN] {
        &self.name
    }

    /// BTF ids, if any.
    pub fn btf(&self) -> Option<&MapBtf> {
        self.btf.as_ref()
    }

    /// The map's flags as Linux keeps them (`bpf_map_flags_retain_permanent`): without
    /// `BPF_F_RDONLY`/`BPF_F_WRONLY`, which belong to the fd, not the map.
    pub fn map_flags(&self) -> u32 {
        self.map.def().map_flags & !(BPF_F_RDONLY | BPF_F_WRONLY)
    }

    /// Whether `BPF_MAP_FREEZE` was done.
    pub fn frozen(&self) -> bool {
        self.frozen.load(SeqCst)
    }

    /// Linux `bpf_map_is_rdonly`: programs cannot write (`BPF_F_RDONLY_PROG`), the syscall side
    /// is frozen and no syscall write is in flight — the verifier may then treat values as
    /// constants.
    pub fn is_rdonly(&self) -> bool {
        self.map.def().map_flags & BPF_F_RDONLY_PROG != 0 && self.frozen() && self.write_active.load(SeqCst) == 0
    }

    /// Linux `map_get_sys_perms`: an fd's `(can_read, can_write)` for syscall commands; a
    /// frozen map is never writable.
    pub fn sys_perms(&self, mode: FileMode) -> (bool, bool) {
        (mode.can_read(), mode.can_write() && !self.frozen())
    }

    /// Marks a syscall write in progress until the guard drops (Linux
    /// `bpf_map_write_active_inc`/`_dec`): `BPF_MAP_FREEZE` meanwhile is `EBUSY`.
    pub fn write_active(&self) -> WriteActive<'_> {
        self.write_active.fetch_add(1, SeqCst);
        WriteActive { map: self }
    }

    /// The host calls this when user space maps the map with `VM_MAYWRITE` (Linux
    /// `bpf_map_mmap`), and keeps the result while the mapping exists. A frozen map → `EPERM`;
    /// a map with `BPF_F_RDONLY_PROG` → `EACCES`.
    pub fn writable_mapping(self: &Arc<Self>) -> Result<WritableMapping> {
        let _lock = self.freeze_lock.lock();
        if self.frozen() {
            return err(Errno::EPERM, "map is frozen: no writable mappings");
        }
        if self.map.def().map_flags & BPF_F_RDONLY_PROG != 0 {
            return err(Errno::EACCES, "map is read-only for programs: no writable mappings");
        }
        self.write_active.fetch_add(1, SeqCst);
        Ok(WritableMapping { map: self.clone() })
    }

    /// `BPF_MAP_FREEZE` (Linux `map_freeze` after the fd lookup): a writable mapping or a
    /// syscall write in progress → `EBUSY`; already frozen → `EBUSY`; `bpf_capable` is
    /// checked last (`capable` false → `EPERM`).
    pub fn freeze(&self, capable: bool) -> Result<()> {
        let _lock = self.freeze_lock.lock();
        if self.write_active.load(SeqCst) != 0 {
            return err(Errno::EBUSY, "map has writable mappings or writes in progress");
        }
        if self.frozen() {
            return err(Errno::EBUSY, "map is already frozen");
        }
        if !capable {
            return err(Errno::EPERM, "freezing needs CAP_BPF or CAP_SYS_ADMIN");
        }
        self.frozen.store(true, SeqCst);
        Ok(())
    }

    /// Linux `__bpf_prog_map_compatible`, for maps holding programs (`prog_array`): the first
    /// program type checked (a program using the map is loaded, or a program is stored in it)
    /// becomes the owner type; later programs must have that type (`false` otherwise).
    pub fn prog_compatible(&self, prog_type: ProgType) -> bool {
        let mut owner = self.owner.lock();
        match *owner {
            None => {
                *owner = Some(prog_type);
                true
            }
            Some(t) => t == prog_type,
        }
    }

    /// Number of user references (fds and pins).
    pub fn user_refs(&self) -> u64 {
        self.usercnt.load(SeqCst)
    }

    pub(super) fn uref_inc(&self) {
        self.usercnt.fetch_add(1, SeqCst);
    }

    pub(super) fn uref_dec(&self) {
        if self.usercnt.fetch_sub(1, SeqCst) == 1 {
            self.map.release_uref();
        }
    }
}

impl FdObject for MapObj {
    fn id(&self) -> u32 {
        self.slot.id()
    }

    fn as_map(&self) -> Option<&dyn BpfMap> {
        Some(&*self.map)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A syscall write in progress (see [`MapObj::write_active`]).
pub struct WriteActive<'a> {
    map: &'a MapObj,
}

impl Drop for WriteActive<'_> {
    fn drop(&mut self) {
        self.map.write_active.fetch_sub(1, SeqCst);
    }
}

/// A writable user mapping of a map (see [`MapObj::writable_mapping`]); drop it when the
/// mapping goes away (Linux `bpf_map_mmap_close`).
pub struct WritableMapping {
    map: Arc<MapObj>,
}

impl Drop for WritableMapping {
    fn drop(&mut self) {
        let _lock = self.map.freeze_lock.lock();
        self.map.write_active.fetch_sub(1, SeqCst);
    }
}
