//! [`ProgEnv`]: the environment of one run (helpers, tail calls, approved memory) and
//! [`RunCtx`], the per-run facts the caller supplies.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Deref;
use core::ptr::{self, NonNull};

use maps::reclaim::Guard;
use maps::{ArrayMap, FdArray, RingBuf};
use syscall_abi::bpf::{HelperId, MapType, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};
use syscall_abi::Errno;

use super::{map, misc, neg, perf_event, probe, ringbuf};
use crate::object::{MapObj, ProgObj};
use crate::vm::{ActiveRun, Env, Program, TailCall, VmError, VmErrorKind};
use crate::BpfHost;

/// Per-run facts the helpers need, filled by whoever runs the program (attach point,
/// `BPF_PROG_TEST_RUN`). Start from `RunCtx::default()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCtx {
    /// Address of the context the program gets in `R1` (0: none).
    pub ctx: u64,
    /// Length of that context in bytes.
    pub ctx_len: u64,
    /// `bpf_get_attach_cookie`: the cookie of the link or perf event the program runs for.
    pub cookie: u64,
    /// `bpf_get_func_ip`: address of the probed function (kprobe: the probe address).
    pub func_ip: u64,
}

/// A map a helper works on: one of the program's used maps, or an inner map of a map-in-map.
#[derive(Clone)]
pub(super) enum MapHandle<'a> {
    /// A used map (the program holds it).
    Used(Arc<MapObj>),
    /// An inner map found by a lookup of this run (alive while the run's guard lives).
    Inner(&'a MapObj),
}

impl Deref for MapHandle<'_> {
    type Target = MapObj;
    fn deref(&self) -> &MapObj {
        match self {
            MapHandle::Used(m) => m,
            MapHandle::Inner(m) => m,
        }
    }
}

/// Approved memory: `len` bytes, readable and/or writable by the program.
#[derive(Clone, Copy, Debug)]
pub(super) struct Approval {
    pub(super) len: u64,
    pub(super) read: bool,
    pub(super) write: bool,
}

impl Approval {
    /// The access rights a program has on values of `map` (`BPF_F_RDONLY_PROG`,
    /// `BPF_F_WRONLY_PROG`).
    pub(super) fn for_map(map: &MapObj, len: u64) -> Approval {
        let flags = map.map().def().map_flags;
        Approval { len, read: flags & BPF_F_WRONLY_PROG == 0, write: flags & BPF_F_RDONLY_PROG == 0 }
    }

    fn allows(&self, start: u64, addr: u64, len: u64, write: bool) -> bool {
        let ok = if write { self.write } else { self.read };
        ok && within(addr, len, start, self.len)
    }
}

/// Whether `[addr, addr + len)` lies in `[start, start + size)`.
fn within(addr: u64, len: u64, start: u64, size: u64) -> bool {
    match addr.checked_sub(start) {
        Some(off) => off <= size && len <= size - off,
        None => false,
    }
}

/// A ring buffer sample reserved during the run.
pub(super) struct Reservation<'a> {
    pub(super) addr: u64,
    pub(super) len: u64,
    pub(super) ring: MapHandle<'a>,
}

/// The environment of one program run: implements [`Env`] with the Linux helpers.
///
/// Build one per run with [`ProgEnv::new`], run the program with
/// `Vm::new(prog.insns()).context(..).run(&mut env)`, then drop it (which discards ring
/// buffer samples still reserved). It must not outlive `guard`: every value address it
/// approves is valid only while the guard lives.
pub struct ProgEnv<'a> {
    pub(super) host: &'a dyn BpfHost,
    pub(super) guard: &'a Guard,
    pub(super) ctx: RunCtx,
    /// The running program's used maps (replaced by a tail call).
    pub(super) maps: Vec<Arc<MapObj>>,
    /// The program a tail call switched to, kept alive while its maps are in use.
    tail: Option<Arc<ProgObj>>,
    /// Map values approved for the run, by start address.
    pub(super) approved: BTreeMap<u64, Approval>,
    /// Direct-value arrays of the running program: `(start, approval)`.
    fixed: Vec<(u64, Approval)>,
    /// Addresses of inner maps returned by map-in-map lookups of this run.
    pub(super) inner: Vec<u64>,
    /// Temporary approvals (the key and value of a `for_each_map_elem` callback).
    pub(super) temp: Vec<(u64, Approval)>,
    /// Outstanding ring buffer reservations.
    pub(super) reservations: Vec<Reservation<'a>>,
}

impl<'a> ProgEnv<'a> {
    /// The environment for a run of `prog`; `guard` is the run's read-side section (held by
    /// the caller for longer than the environment lives).
    pub fn new(host: &'a dyn BpfHost, prog: &'a ProgObj, guard: &'a Guard, ctx: RunCtx) -> Self {
        let mut env = ProgEnv {
            host,
            guard,
            ctx,
            maps: Vec::new(),
            tail: None,
            approved: BTreeMap::new(),
            fixed: Vec::new(),
            inner: Vec::new(),
            temp: Vec::new(),
            reservations: Vec::new(),
        };
        env.use_maps(prog.used_maps());
        env
    }

    /// Makes `maps` the valid map arguments, and approves the global-data arrays among them.
    fn use_maps(&mut self, maps: Vec<Arc<MapObj>>) {
        self.fixed.clear();
        for m in &maps {
            let def = m.map().def();
            if def.map_type != MapType::Array || def.max_entries != 1 {
                continue;
            }
            if let Some(Ok(p)) = m.map().as_any().downcast_ref::<ArrayMap>().map(|a| a.direct_value_addr(0)) {
                self.fixed.push((addr_of(p), Approval::for_map(m, u64::from(def.value_size))));
            }
        }
        self.maps = maps;
    }

    /// The map at program address `ptr`, if the program may use it.
    pub(super) fn map_arg(&self, ptr: u64) -> Option<MapHandle<'a>> {
        if let Some(m) = self.maps.iter().find(|m| Arc::as_ptr(m) as usize as u64 == ptr) {
            return Some(MapHandle::Used(m.clone()));
        }
        if ptr != 0 && self.inner.contains(&ptr) {
            let p = usize::try_from(ptr).ok()?;
            // SAFETY: `ptr` is the data pointer of an `Arc<dyn FdObject>` stored in a
            // map-in-map (returned by `prog_lookup` during this run); map-in-map slots only
            // hold map objects (`FdKind::Map` resolves to `MapObj`), and a replaced slot's
            // object is freed only after `self.guard` (which outlives 'a uses) is dropped.
            return Some(MapHandle::Inner(unsafe { &*ptr::with_exposed_provenance::<MapObj>(p) }));
        }
        None
    }

    /// Reads `buf.len()` bytes of program-accessible memory at `addr`.
    pub(super) fn read_mem(&self, run: &dyn ActiveRun, addr: u64, buf: &mut [u8]) -> bool {
        if buf.is_empty() || run.read(addr, buf) {
            return true;
        }
        let Ok(len) = u64::try_from(buf.len()) else { return false };
        match usize::try_from(addr) {
            Ok(p) if self.mem_ok(addr, len, false) => {
                // SAFETY: approved memory stays valid for the run (see `Env::mem_ok`).
                unsafe { ptr::copy_nonoverlapping(ptr::with_exposed_provenance::<u8>(p), buf.as_mut_ptr(), buf.len()) };
                true
            }
            _ => false,
        }
    }

    /// Writes `data` to program-accessible writable memory at `addr`.
    pub(super) fn write_mem(&self, run: &mut dyn ActiveRun, addr: u64, data: &[u8]) -> bool {
        if data.is_empty() || run.write(addr, data) {
            return true;
        }
        let Ok(len) = u64::try_from(data.len()) else { return false };
        match usize::try_from(addr) {
            Ok(p) if self.mem_ok(addr, len, true) => {
                // SAFETY: approved writable memory stays valid for the run.
                unsafe {
                    ptr::copy_nonoverlapping(data.as_ptr(), ptr::with_exposed_provenance_mut::<u8>(p), data.len())
                };
                true
            }
            _ => false,
        }
    }

    /// Whether the program may write `len` bytes at `addr` (checked without writing).
    pub(super) fn can_write(&self, run: &dyn ActiveRun, addr: u64, len: usize) -> bool {
        let Ok(len) = u64::try_from(len) else { return false };
        len == 0 || run.region_ok(addr, len, true) || self.mem_ok(addr, len, true)
    }

    /// `len` bytes of program memory at `addr`, copied; `Err(EFAULT)` if not readable,
    /// `Err(ENOMEM)` if no memory for the copy.
    pub(super) fn read_vec(&self, run: &dyn ActiveRun, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
        v.resize(len, 0);
        if self.read_mem(run, addr, &mut v) {
            Ok(v)
        } else {
            Err(Errno::EFAULT)
        }
    }

    /// A NUL-terminated string of program memory at `addr`, at most `max` bytes, without
    /// the NUL; `None` if unreadable before a NUL or `max` bytes.
    pub(super) fn read_cstr(&self, run: &dyn ActiveRun, addr: u64, max: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..max {
            let mut b = [0u8];
            if !self.read_mem(run, addr.checked_add(u64::try_from(i).ok()?)?, &mut b) {
                return None;
            }
            if b[0] == 0 {
                return Some(out);
            }
            out.try_reserve(1).ok()?;
            out.push(b[0]);
        }
        Some(out)
    }

    /// Approves a map value the program received.
    pub(super) fn approve_value(&mut self, map: &MapObj, p: NonNull<u8>) {
        let len = u64::from(map.map().def().value_size);
        self.approved.insert(addr_of(p), Approval::for_map(map, len));
    }
}

/// The address of `p`, exposed for the program.
pub(super) fn addr_of(p: NonNull<u8>) -> u64 {
    p.as_ptr().expose_provenance() as u64
}

// SAFETY: `mem_ok` approves map values returned during the run (valid until the run's
// reclaim guard drops, which outlives the environment), one-element arrays' values (the
// used maps are held by `self.maps`), ring buffer samples until released, and for_each
// keys/values only while the callback runs. None of them is covered by a Rust reference.
unsafe impl Env for ProgEnv<'_> {
    fn call_helper(&mut self, id: u32, a: [u64; 5], run: &mut dyn ActiveRun) -> Result<u64, VmError> {
        use HelperId as H;
        let Ok(h) = HelperId::try_from(id) else {
            return Err(VmError::new(VmErrorKind::UnknownHelper { id }));
        };
        let r = match h {
            H::MapLookupElem => map::lookup(self, run, a),
            H::MapUpdateElem => map::update(self, run, a),
            H::MapDeleteElem => map::delete(self, run, a),
            H::MapPushElem => map::push(self, run, a),
            H::MapPopElem => map::pop_peek(self, run, a, true),
            H::MapPeekElem => map::pop_peek(self, run, a, false),
            H::ForEachMapElem => return map::for_each(self, run, a),
            H::ProbeRead => probe::read(self, run, a, probe::Space::Either),
            H::ProbeReadUser => probe::read(self, run, a, probe::Space::User),
            H::ProbeReadKernel => probe::read(self, run, a, probe::Space::Kernel),
            H::ProbeReadStr => probe::read_str(self, run, a, probe::Space::Either),
            H::ProbeReadUserStr => probe::read_str(self, run, a, probe::Space::User),
            H::ProbeReadKernelStr => probe::read_str(self, run, a, probe::Space::Kernel),
            H::GetCurrentComm => probe::current_comm(self, run, a),
            H::TracePrintk => misc::trace_printk(self, run, a),
            H::Snprintf => misc::snprintf(self, run, a),
            H::Strncmp => misc::strncmp(self, run, a),
            H::Loop => return misc::bpf_loop(self, run, a),
            H::KtimeGetNs => self.host.ktime_ns(),
            H::KtimeGetBootNs => self.host.boot_ns(),
            H::KtimeGetCoarseNs => self.host.coarse_ns(),
            H::Jiffies64 => self.host.jiffies(),
            H::GetSmpProcessorId => u64::from(self.host.current_cpu()),
            H::GetNumaNodeId => u64::from(self.host.current_numa_node()),
            H::GetPrandomU32 => u64::from(self.host.random_u32()),
            H::GetCurrentPidTgid => {
                let (pid, tgid) = self.host.current_pid_tgid();
                (u64::from(tgid) << 32) | u64::from(pid)
            }
            H::GetCurrentUidGid => {
                let (uid, gid) = self.host.current_uid_gid();
                (u64::from(gid) << 32) | u64::from(uid)
            }
            H::GetCurrentTask => self.host.current_task(),
            H::GetFuncIp => self.ctx.func_ip,
            H::GetAttachCookie => self.ctx.cookie,
            H::SendSignal => misc::send_signal(self, a),
            H::GetStackid => neg(Errno::EOPNOTSUPP),
            H::PerfEventOutput => perf_event::output(self, run, a),
            H::RingbufOutput => ringbuf::output(self, run, a),
            H::RingbufReserve => ringbuf::reserve(self, a),
            H::RingbufSubmit => ringbuf::release(self, a, true),
            H::RingbufDiscard => ringbuf::release(self, a, false),
            H::RingbufQuery => ringbuf::query(self, a),
            _ => return Err(VmError::new(VmErrorKind::UnknownHelper { id })),
        };
        Ok(r)
    }

    fn tail_call(&mut self, map: u64, index: u32) -> TailCall {
        let Some(m) = self.map_arg(map) else { return TailCall::OutOfRange };
        let Some(arr) = m.map().as_any().downcast_ref::<FdArray>() else { return TailCall::OutOfRange };
        if m.map().def().map_type != MapType::ProgArray || index >= m.map().def().max_entries {
            return TailCall::OutOfRange;
        }
        let Some(prog) = arr.get(index, self.guard).and_then(|o| ProgObj::from_fd_object(&**o)).and_then(|p| p.arc())
        else {
            return TailCall::Empty;
        };
        self.use_maps(prog.used_maps());
        self.tail = Some(prog.clone());
        TailCall::Program(prog as Arc<dyn Program>)
    }

    fn mem_ok(&self, addr: u64, len: u64, write: bool) -> bool {
        if let Some((start, a)) = self.approved.range(..=addr).next_back() {
            if a.allows(*start, addr, len, write) {
                return true;
            }
        }
        let listed = |(start, a): &(u64, Approval)| a.allows(*start, addr, len, write);
        self.fixed.iter().any(listed)
            || self.temp.iter().any(listed)
            || self.reservations.iter().any(|r| within(addr, len, r.addr, r.len))
    }
}

impl Drop for ProgEnv<'_> {
    fn drop(&mut self) {
        for r in self.reservations.drain(..) {
            if let (Some(rb), Some(p)) = (ring_of(&r.ring), ptr_of(r.addr)) {
                // A sample verifier-lite let the program leave reserved: discard it.
                let _ = rb.discard(p, 0);
            }
        }
    }
}

/// The ring buffer behind `map`, if it is one.
pub(super) fn ring_of(map: &MapObj) -> Option<&RingBuf> {
    map.map().as_any().downcast_ref::<RingBuf>()
}

/// `addr` as a pointer (with the provenance exposed when it was handed out).
pub(super) fn ptr_of(addr: u64) -> Option<NonNull<u8>> {
    NonNull::new(ptr::with_exposed_provenance_mut::<u8>(usize::try_from(addr).ok()?))
}
