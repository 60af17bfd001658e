//! [`ProgObj`]: a loaded program (Linux `struct bpf_prog` + `bpf_prog_aux`), with what the
//! engine runs and what `BPF_OBJ_GET_INFO_BY_FD` reports. `BPF_PROG_LOAD` builds it from a
//! [`ProgSpec`].

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use maps::FdObject;
use spin::Mutex;
use syscall_abi::bpf::{BpfFuncInfo, BpfLineInfo, ProgType, BPF_OBJ_NAME_LEN, BPF_TAG_SIZE};
use syscall_abi::Result;

use super::registry::IdSlot;
use super::{BtfObj, MapObj, Registry};
use crate::vm::insn::RawInsn;
use crate::vm::Program;

/// What a program object is made from (filled by `BPF_PROG_LOAD`).
pub struct ProgSpec {
    /// Program type.
    pub prog_type: ProgType,
    /// `expected_attach_type` (raw `enum bpf_attach_type` value).
    pub expected_attach_type: u32,
    /// Name, already checked by [`super::obj_name_cpy`].
    pub name: [u8; BPF_OBJ_NAME_LEN],
    /// Tag: the first 8 bytes of the SHA-1 of the instructions with map references zeroed
    /// (Linux `bpf_prog_calc_tag`).
    pub tag: [u8; BPF_TAG_SIZE],
    /// The instructions the engine runs (relocated: `ld_imm64` of maps hold kernel values).
    pub insns: Vec<RawInsn>,
    /// The instructions as `BPF_OBJ_GET_INFO_BY_FD` shows them (`xlated_prog_insns`, Linux
    /// `bpf_insn_prepare_dump`: map references back as ids, no kernel addresses).
    pub xlated: Vec<RawInsn>,
    /// The maps the program uses; the program keeps them alive.
    pub used_maps: Vec<Arc<MapObj>>,
    /// The program's BTF (`prog_btf_fd`), if any.
    pub btf: Option<Arc<BtfObj>>,
    /// `func_info` records (kept for info).
    pub func_info: Vec<BpfFuncInfo>,
    /// `line_info` records (kept for info).
    pub line_info: Vec<BpfLineInfo>,
    /// Whether the license is GPL compatible.
    pub gpl_compatible: bool,
    /// Load time, ns since boot ([`crate::BpfHost::boot_ns`]).
    pub load_time: u64,
    /// Uid of the loader.
    pub created_by_uid: u32,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// One past the highest context byte the program reads (Linux `aux->max_ctx_offset`).
    pub max_ctx_offset: u32,
}

/// Run statistics, counted while `BPF_ENABLE_STATS` is on (Linux `bpf_prog_stats`).
#[derive(Default)]
pub struct RunStats {
    /// Total run time in ns.
    pub run_time_ns: AtomicU64,
    /// Number of runs.
    pub run_cnt: AtomicU64,
    /// Runs skipped because the program was already running on the CPU.
    pub recursion_misses: AtomicU64,
}

/// A loaded program. Implements `maps::FdObject` (prog_array stores it) and
/// [`crate::vm::Program`] (the engine runs it, tail calls switch to it).
pub struct ProgObj {
    pub(super) slot: IdSlot,
    this: Weak<ProgObj>,
    prog_type: ProgType,
    expected_attach_type: u32,
    name: [u8; BPF_OBJ_NAME_LEN],
    tag: [u8; BPF_TAG_SIZE],
    insns: Vec<RawInsn>,
    xlated: Vec<RawInsn>,
    /// Linux `used_maps` under `used_maps_mutex` (`BPF_PROG_BIND_MAP` adds to it).
    used_maps: Mutex<Vec<Arc<MapObj>>>,
    btf: Option<Arc<BtfObj>>,
    func_info: Vec<BpfFuncInfo>,
    line_info: Vec<BpfLineInfo>,
    gpl_compatible: bool,
    load_time: u64,
    created_by_uid: u32,
    verified_insns: u32,
    max_ctx_offset: u32,
    stats: RunStats,
}

impl ProgObj {
    /// Publishes a new program object with a fresh id.
    pub fn new(registry: &Registry, spec: ProgSpec) -> Result<Arc<ProgObj>> {
        registry.publish(|slot, this| ProgObj {
            slot,
            this: this.clone(),
            prog_type: spec.prog_type,
            expected_attach_type: spec.expected_attach_type,
            name: spec.name,
            tag: spec.tag,
            insns: spec.insns,
            xlated: spec.xlated,
            used_maps: Mutex::new(spec.used_maps),
            btf: spec.btf,
            func_info: spec.func_info,
            line_info: spec.line_info,
            gpl_compatible: spec.gpl_compatible,
            load_time: spec.load_time,
            created_by_uid: spec.created_by_uid,
            verified_insns: spec.verified_insns,
            max_ctx_offset: spec.max_ctx_offset,
            stats: RunStats::default(),
        })
    }

    /// A counted reference to this program (for a tail-call target found through a
    /// `prog_array`'s `&dyn FdObject`). `None` only while the program is being freed.
    pub fn arc(&self) -> Option<Arc<ProgObj>> {
        self.this.upgrade()
    }

    /// The program behind an object a `prog_array` holds.
    pub fn from_fd_object(obj: &dyn FdObject) -> Option<&ProgObj> {
        obj.as_any().downcast_ref::<ProgObj>()
    }

    /// The program's id.
    pub fn id(&self) -> u32 {
        self.slot.id()
    }

    /// Program type.
    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    /// `expected_attach_type`.
    pub fn expected_attach_type(&self) -> u32 {
        self.expected_attach_type
    }

    /// Name (NUL-padded).
    pub fn name(&self) -> &[u8; BPF_OBJ_NAME_LEN] {
        &self.name
    }

    /// Tag.
    pub fn tag(&self) -> &[u8; BPF_TAG_SIZE] {
        &self.tag
    }

    /// The instructions as info reports them.
    pub fn xlated(&self) -> &[RawInsn] {
        &self.xlated
    }

    /// Ids of the used maps, in order.
    pub fn map_ids(&self) -> Vec<u32> {
        self.used_maps.lock().iter().map(|m| m.id()).collect()
    }

    /// The used maps, in order (a snapshot: `BPF_PROG_BIND_MAP` may add more later).
    pub fn used_maps(&self) -> Vec<Arc<MapObj>> {
        self.used_maps.lock().clone()
    }

    /// The used map whose `MapObj` address is `addr` (what the loader put into `ld_imm64`
    /// for `BPF_PSEUDO_MAP_FD`), if any.
    pub fn used_map_by_addr(&self, addr: u64) -> Option<Arc<MapObj>> {
        self.used_maps.lock().iter().find(|m| Arc::as_ptr(m) as u64 == addr).cloned()
    }

    /// Whether `map` is among the used maps.
    pub fn uses_map(&self, map: &Arc<MapObj>) -> bool {
        self.used_maps.lock().iter().any(|m| Arc::ptr_eq(m, map))
    }

    /// Adds `map` to the used maps unless it is there already (`BPF_PROG_BIND_MAP`); returns
    /// whether it was added.
    pub fn bind_map(&self, map: Arc<MapObj>) -> bool {
        let mut used = self.used_maps.lock();
        if used.iter().any(|m| Arc::ptr_eq(m, &map)) {
            return false;
        }
        used.push(map);
        true
    }

    /// The program's BTF.
    pub fn btf(&self) -> Option<&Arc<BtfObj>> {
        self.btf.as_ref()
    }

    /// `func_info` records.
    pub fn func_info(&self) -> &[BpfFuncInfo] {
        &self.func_info
    }

    /// `line_info` records.
    pub fn line_info(&self) -> &[BpfLineInfo] {
        &self.line_info
    }

    /// Whether the license is GPL compatible.
    pub fn gpl_compatible(&self) -> bool {
        self.gpl_compatible
    }

    /// Load time (ns since boot).
    pub fn load_time(&self) -> u64 {
        self.load_time
    }

    /// Uid of the loader.
    pub fn created_by_uid(&self) -> u32 {
        self.created_by_uid
    }

    /// Instructions the verifier processed.
    pub fn verified_insns(&self) -> u32 {
        self.verified_insns
    }

    /// One past the highest context byte the program reads (Linux `aux->max_ctx_offset`):
    /// a tracepoint program may attach only to events whose record is at least this long.
    pub fn max_ctx_offset(&self) -> u32 {
        self.max_ctx_offset
    }

    /// Run statistics.
    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    /// Records one run of `ns` nanoseconds.
    pub fn record_run(&self, ns: u64) {
        self.stats.run_cnt.fetch_add(1, Relaxed);
        self.stats.run_time_ns.fetch_add(ns, Relaxed);
    }
}

impl Program for ProgObj {
    fn insns(&self) -> &[RawInsn] {
        &self.insns
    }
}

impl FdObject for ProgObj {
    fn id(&self) -> u32 {
        self.slot.id()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
