//! The one trait every map type implements (Linux `struct bpf_map_ops` is the model) and the
//! validated attributes a map is created from.

use core::any::Any;
use core::ops::ControlFlow;
use core::ptr::NonNull;

use syscall_abi::bpf::MapType;
use syscall_abi::{err, Errno, Result};

use crate::host::SharedPages;
use crate::reclaim::Guard;

/// What `BPF_MAP_CREATE` asked for, already copied from user space. `bpf-subsys` builds it
/// from `union bpf_attr`; the map type's `check` validates it before anything is allocated.
#[derive(Debug, Clone, Default)]
pub struct MapAttr {
    /// `map_type`, already known to be a valid enum value.
    pub map_type: Option<MapType>,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `map_extra` (bloom filter: number of hash functions in the low 4 bits).
    pub map_extra: u64,
    /// Map-in-map types: the definition of the template map `inner_map_fd` named.
    pub inner_map: Option<MapDef>,
    /// Offset of a `struct bpf_spin_lock` inside the value, known from BTF; enables
    /// `BPF_F_LOCK`. `None` → `BPF_F_LOCK` is `EINVAL`.
    pub spin_lock_off: Option<u32>,
}

/// The immutable definition of a created map (what map info reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapDef {
    /// Map type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (per CPU for per-CPU maps).
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
    /// Creation flags.
    pub map_flags: u32,
    /// `map_extra`.
    pub map_extra: u64,
    /// Offset of the value's `bpf_spin_lock`, if any.
    pub spin_lock_off: Option<u32>,
}

impl MapDef {
    /// The definition a valid `attr` describes. Call only after the type's `check`.
    pub fn from_attr(attr: &MapAttr) -> Self {
        MapDef {
            map_type: attr.map_type.unwrap_or(MapType::Unspec),
            key_size: attr.key_size,
            value_size: attr.value_size,
            max_entries: attr.max_entries,
            map_flags: attr.map_flags,
            map_extra: attr.map_extra,
            spin_lock_off: attr.spin_lock_off,
        }
    }
}

/// The buffers of a `BPF_MAP_LOOKUP_BATCH` / `BPF_MAP_LOOKUP_AND_DELETE_BATCH`, copied
/// in from (and later out to) user space by `bpf-subsys`.
#[derive(Debug)]
pub struct LookupBatch<'a> {
    /// Where to continue from (`None`: from the start). Its meaning is the map type's: a
    /// key for the generic (array) batch, a bucket index for hash maps.
    pub in_batch: Option<&'a [u8]>,
    /// Receives the position to continue from. Same size as `in_batch` would have.
    pub out_batch: &'a mut [u8],
    /// Room for `count` keys (`count * key_size` bytes).
    pub keys: &'a mut [u8],
    /// Room for `count` values (`count * syscall_value_size()` bytes).
    pub values: &'a mut [u8],
    /// Maximum number of elements to return; Linux returns at once when it is 0.
    pub count: u32,
    /// `elem_flags` (only `BPF_F_LOCK` is valid).
    pub elem_flags: u64,
}

/// Returned by the batch operations: how many elements were processed, and how the batch
/// ended. Linux copies `count` back to user space even when the result is an error (e.g.
/// `ENOENT` at the end of a lookup batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Elements processed (copied out, updated or deleted).
    pub count: u32,
    /// `Ok` or the errno that stopped the batch.
    pub result: Result<()>,
}

/// One map. Methods are grouped by caller, as in `bpf_map_ops`. Keys and values are kernel
/// slices: `bpf-subsys` copies user memory in and out, programs' pointers are turned into
/// slices by the helper layer. Every method is safe to call from several CPUs at once.
///
/// Value sizes seen by each caller:
/// - syscall side ([`lookup`](Self::lookup), [`update`](Self::update), batches):
///   [`syscall_value_size`](Self::syscall_value_size) bytes — for per-CPU maps
///   `round_up(value_size, 8) * possible_cpus`, for fd maps a 4-byte fd (update) or id
///   (lookup);
/// - program side: `value_size` bytes.
pub trait BpfMap: Send + Sync + Any {
    /// The map's definition.
    fn def(&self) -> &MapDef;

    // ---- called from the syscall side ----

    /// Bytes of a value as user space passes and receives it.
    fn syscall_value_size(&self) -> usize {
        self.def().value_size as usize
    }

    /// `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value`. Missing → `ENOENT`.
    /// `flags` may hold `BPF_F_LOCK`.
    fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()>;

    /// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` (+ `BPF_F_LOCK`).
    fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()>;

    /// `BPF_MAP_DELETE_ELEM`. Missing → `ENOENT`; arrays → `EINVAL`.
    fn delete(&self, key: &[u8]) -> Result<()>;

    /// `BPF_MAP_GET_NEXT_KEY`: `None` or a missing key gives the first key; after the last
    /// key → `ENOENT`.
    fn get_next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<()>;

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`. Queue and stack take no key (`None`) and pop.
    fn lookup_and_delete(&self, key: Option<&[u8]>, value: &mut [u8], flags: u64) -> Result<()> {
        let _ = (key, value, flags);
        err(Errno::ENOTSUPP, "map type has no lookup_and_delete")
    }

    /// `BPF_MAP_LOOKUP_BATCH` (`delete == false`) and `BPF_MAP_LOOKUP_AND_DELETE_BATCH`
    /// (`delete == true`). See [`LookupBatch`]. The end of the map is reported as `ENOENT`
    /// with the elements found before it counted.
    fn lookup_batch(&self, batch: LookupBatch<'_>, delete: bool) -> BatchOutcome {
        let _ = (batch, delete);
        BatchOutcome { count: 0, result: err(Errno::ENOTSUPP, "map type has no batch lookup") }
    }

    /// `BPF_MAP_UPDATE_BATCH`: updates `count` key/value pairs in order, stopping at the
    /// first error.
    fn update_batch(&self, keys: &[u8], values: &[u8], count: u32, elem_flags: u64) -> BatchOutcome {
        let _ = (keys, values, count, elem_flags);
        BatchOutcome { count: 0, result: err(Errno::ENOTSUPP, "map type has no batch update") }
    }

    /// `BPF_MAP_DELETE_BATCH`: deletes `count` keys in order, stopping at the first error.
    fn delete_batch(&self, keys: &[u8], count: u32, elem_flags: u64) -> BatchOutcome {
        let _ = (keys, count, elem_flags);
        BatchOutcome { count: 0, result: err(Errno::ENOTSUPP, "map type has no batch delete") }
    }

    /// Bytes of kernel memory this map holds (reported in map info and fdinfo).
    fn memory_usage(&self) -> usize;

    /// Pages user space may mmap (`BPF_F_MMAPABLE` arrays, ring buffers), else `None`.
    fn shared_pages(&self) -> Option<&dyn SharedPages> {
        None
    }

    /// The last user-space reference (fd or pin) went away while programs may still hold
    /// the map (Linux `map_release_uref`): `prog_array` empties itself to break reference
    /// cycles, `perf_event_array` drops its events unless `BPF_F_PRESERVE_ELEMS`.
    fn release_uref(&self) {}

    // ---- called from programs (helpers) ----

    /// `bpf_map_lookup_elem`: the address of the value (this CPU's copy for per-CPU maps),
    /// valid while `guard` lives. `None` if missing.
    fn prog_lookup(&self, key: &[u8], guard: &Guard) -> Option<NonNull<u8>> {
        let _ = (key, guard);
        None
    }

    /// `bpf_map_update_elem` from a program: `value` is `value_size` bytes.
    fn prog_update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        let _ = (key, value, flags);
        err(Errno::EINVAL, "map type cannot be updated from a program")
    }

    /// `bpf_map_delete_elem` from a program.
    fn prog_delete(&self, key: &[u8]) -> Result<()> {
        let _ = key;
        err(Errno::EINVAL, "map type cannot be deleted from a program")
    }

    /// `bpf_map_push_elem` (queue, stack) and the syscall update of those maps; bloom
    /// filter: add.
    fn push(&self, value: &[u8], flags: u64) -> Result<()> {
        let _ = (value, flags);
        err(Errno::EINVAL, "map type has no push")
    }

    /// `bpf_map_pop_elem`. Empty → `ENOENT`.
    fn pop(&self, value: &mut [u8]) -> Result<()> {
        let _ = value;
        err(Errno::EINVAL, "map type has no pop")
    }

    /// `bpf_map_peek_elem`; bloom filter: membership test (`ENOENT` = definitely absent).
    fn peek(&self, value: &mut [u8]) -> Result<()> {
        let _ = value;
        err(Errno::EINVAL, "map type has no peek")
    }

    /// `bpf_for_each_map_elem`: calls `f(key, value)` for each element (this CPU's value
    /// for per-CPU maps) until it returns `Break`; returns how many calls were made.
    fn for_each(&self, guard: &Guard, f: &mut ForEachFn<'_>) -> Result<u32> {
        let _ = (guard, f);
        err(Errno::EINVAL, "map type does not support for_each")
    }

    /// For the type-specific operations (ring buffer reserve, tail-call lookup, perf event
    /// output): `map.as_any().downcast_ref::<RingBuf>()`.
    fn as_any(&self) -> &dyn Any;
}

/// The callback of [`BpfMap::for_each`]: `(key, value address)`, `Break` stops.
pub type ForEachFn<'a> = dyn FnMut(&[u8], NonNull<u8>) -> ControlFlow<()> + 'a;

/// Rounds `n` up to a multiple of 8 (per-CPU value stride, key/value alignment).
pub const fn round_up_8(n: usize) -> usize {
    (n + 7) & !7
}
