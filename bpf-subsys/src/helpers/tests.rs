//! End-to-end helper tests: each assembles a small program that calls a helper, runs it on
//! the engine with a [`ProgEnv`] over the std test host and real maps, and checks the
//! result (map contents, printk lines, return values, errno paths). Part 1: the harness,
//! map, probe-read, identity and time helpers.

use std::sync::{Arc, Mutex};
use std::vec::Vec;
use std::{format, vec};

use maps::{FdObject, MapAttr, SharedPages};
use syscall_abi::bpf::{MapType, ProgType, BPF_F_RDONLY_PROG};
use syscall_abi::{err, Errno, Result};

use super::{helper_ops, PerfEventOutput, ProgEnv, RunCtx};
use crate::host::{BpfHost, Capability, MapHostAdapter};
use crate::object::{BpfFile, BpfObject, FdTarget, FileMode, MapObj, MapSpec, ProgObj, ProgSpec, Registry, UserRef};
use crate::test_host::TestHost;
use crate::verifier::VerifierOps;
use crate::vm::insn::RawInsn;
use crate::vm::{Program, Region, Vm, VmError};

// The engine's unit tests load the same file; this copy serves the helper tests.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/common/asm.rs"]
mod asm;

/// Where the fake kernel memory of [`KHost`] starts.
pub(super) const KBASE: u64 = 0xffff_8000_0000_0000;

/// A perf event for `perf_event_array` tests: records what it was given.
pub(super) struct FakeEvent {
    pub(super) id: u32,
    pub(super) out: Mutex<Vec<(u32, Vec<u8>)>>,
}

impl FdObject for FakeEvent {
    fn id(&self) -> u32 {
        self.id
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

impl PerfEventOutput for FakeEvent {
    fn bpf_output(&self, cpu: u32, data: &[u8]) -> Result<()> {
        self.out.lock().unwrap().push((cpu, data.to_vec()));
        Ok(())
    }
}

/// The test host plus what it lacks: kernel memory (`KBASE..`), signals, perf output.
pub(super) struct KHost {
    pub(super) t: Arc<TestHost>,
    pub(super) kmem: Vec<u8>,
    pub(super) signals: Mutex<Vec<u32>>,
}

impl BpfHost for KHost {
    fn copy_from_user(&self, dst: &mut [u8], src: u64) -> Result<()> {
        self.t.copy_from_user(dst, src)
    }
    fn copy_to_user(&self, dst: u64, src: &[u8]) -> Result<()> {
        self.t.copy_to_user(dst, src)
    }
    fn strncpy_from_user(&self, dst: &mut [u8], src: u64) -> Result<usize> {
        self.t.strncpy_from_user(dst, src)
    }
    fn copy_from_kernel_nofault(&self, dst: &mut [u8], src: u64) -> Result<()> {
        let off = src.checked_sub(KBASE).and_then(|o| usize::try_from(o).ok()).ok_or(Errno::EFAULT)?;
        let bytes = self.kmem.get(off..off.saturating_add(dst.len())).ok_or(Errno::EFAULT)?;
        dst.copy_from_slice(bytes);
        Ok(())
    }
    fn current_pid_tgid(&self) -> (u32, u32) {
        self.t.current_pid_tgid()
    }
    fn current_uid_gid(&self) -> (u32, u32) {
        (1000, 100)
    }
    fn current_comm(&self) -> [u8; 16] {
        self.t.current_comm()
    }
    fn current_task(&self) -> u64 {
        0xffff_8880_1234_5000
    }
    fn capable(&self, cap: Capability) -> bool {
        self.t.capable(cap)
    }
    fn ktime_ns(&self) -> u64 {
        self.t.ktime_ns()
    }
    fn boot_ns(&self) -> u64 {
        7_000_000_000
    }
    fn coarse_ns(&self) -> u64 {
        6_000_000_000
    }
    fn jiffies(&self) -> u64 {
        4242
    }
    fn current_cpu(&self) -> u32 {
        self.t.current_cpu()
    }
    fn possible_cpus(&self) -> u32 {
        self.t.possible_cpus()
    }
    fn current_numa_node(&self) -> u32 {
        3
    }
    fn random_u32(&self) -> u32 {
        self.t.random_u32()
    }
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        self.t.alloc_shared(pages, repeat_tail)
    }
    fn install_fd(&self, file: BpfFile, cloexec: bool) -> Result<u32> {
        self.t.install_fd(file, cloexec)
    }
    fn resolve_fd(&self, fd: u32) -> Result<FdTarget> {
        self.t.resolve_fd(fd)
    }
    fn pin(&self, path: &[u8], obj: UserRef) -> Result<()> {
        self.t.pin(path, obj)
    }
    fn get_pinned(&self, path: &[u8], mode: FileMode) -> Result<BpfObject> {
        self.t.get_pinned(path, mode)
    }
    fn registry(&self) -> &Registry {
        self.t.registry()
    }
    fn trace_printk(&self, msg: &[u8]) {
        self.t.trace_printk(msg)
    }
    fn perf_event_output_target<'o>(&self, event: &'o dyn FdObject) -> Option<&'o dyn PerfEventOutput> {
        event.as_any().downcast_ref::<FakeEvent>().map(|e| e as &dyn PerfEventOutput)
    }
    fn send_signal(&self, sig: u32, thread: bool) -> Result<()> {
        if sig == 9 {
            return err(Errno::EPERM, "test: SIGKILL refused");
        }
        assert!(!thread);
        self.signals.lock().unwrap().push(sig);
        Ok(())
    }
}

/// A fixture: the host with 4 KiB of kernel memory filled with `i as u8` (and a string
/// "kernel-str\0" at offset 256).
pub(super) fn host() -> Arc<KHost> {
    let mut kmem: Vec<u8> = (0..4096).map(|i| i as u8).collect();
    kmem[256..267].copy_from_slice(b"kernel-str\0");
    Arc::new(KHost { t: TestHost::new(2), kmem, signals: Mutex::new(Vec::new()) })
}

/// A map of the given shape.
pub(super) fn map(h: &Arc<KHost>, ty: MapType, key: u32, value: u32, max: u32, flags: u32) -> Arc<MapObj> {
    let attr = MapAttr {
        map_type: Some(ty),
        key_size: key,
        value_size: value,
        max_entries: max,
        map_flags: flags,
        ..MapAttr::default()
    };
    let dyn_host: Arc<dyn BpfHost> = h.clone();
    let m = maps::create(&attr, &MapHostAdapter::shared(dyn_host)).unwrap();
    MapObj::new(h.registry(), MapSpec { map: m, name: [0; 16], btf: None }).unwrap()
}

/// The program address of `m` (what the loader puts into `ld_imm64`).
pub(super) fn addr(m: &Arc<MapObj>) -> u64 {
    Arc::as_ptr(m) as usize as u64
}

/// Assembles `text` after replacing `MAP0`, `MAP1`, ... by the maps' addresses.
pub(super) fn asm(text: &str, maps: &[Arc<MapObj>]) -> Vec<RawInsn> {
    let mut t = text.to_string();
    for (i, m) in maps.iter().enumerate().rev() {
        t = t.replace(&format!("MAP{i}"), &format!("{:#x}", addr(m)));
    }
    asm::assemble(&t).unwrap_or_else(|e| panic!("{e}"))
}

/// Instruction index of `label:` in `text`.
pub(super) fn label(text: &str, label: &str) -> u64 {
    let head = text.split(&format!("{label}:")).next().unwrap();
    asm::assemble(&head.replace("MAP", "0x")).map(|v| v.len() as u64).unwrap_or_else(|e| panic!("{e}"))
}

/// A loaded program of `prog_type` using `maps`.
pub(super) fn prog(h: &Arc<KHost>, insns: Vec<RawInsn>, maps: &[Arc<MapObj>]) -> Arc<ProgObj> {
    let spec = ProgSpec {
        prog_type: ProgType::Kprobe,
        expected_attach_type: 0,
        name: [0; 16],
        tag: [0; 8],
        xlated: insns.clone(),
        insns,
        used_maps: maps.to_vec(),
        btf: None,
        func_info: vec![],
        line_info: vec![],
        gpl_compatible: true,
        load_time: 0,
        created_by_uid: 0,
        verified_insns: 1,
        max_ctx_offset: 0,
    };
    ProgObj::new(h.registry(), spec).unwrap()
}

/// Runs `text` with `maps` and a writable context `ctx`.
pub(super) fn run_ctx(
    h: &Arc<KHost>,
    text: &str,
    maps: &[Arc<MapObj>],
    ctx: &mut [u8],
    rctx: RunCtx,
) -> core::result::Result<u64, VmError> {
    let p = prog(h, asm(text, maps), maps);
    let guard = maps::reclaim::read_lock();
    let mut env = ProgEnv::new(&**h, &p, &guard, rctx);
    Vm::new(p.insns()).context(Region::new_mut(ctx)).run(&mut env)
}

/// Runs `text` with `maps` and a 64-byte context.
pub(super) fn run(h: &Arc<KHost>, text: &str, maps: &[Arc<MapObj>]) -> u64 {
    let mut ctx = [0u8; 64];
    run_ctx(h, text, maps, &mut ctx, RunCtx::default()).unwrap()
}

/// `-errno` as `R0`.
pub(super) fn e(errno: Errno) -> u64 {
    (-i64::from(errno.0)) as u64
}

fn lookup_u32(m: &MapObj, key: u32) -> core::result::Result<u32, Errno> {
    let mut v = [0u8; 4];
    m.map().lookup(&key.to_ne_bytes(), &mut v, 0).map_err(|e| e.errno)?;
    Ok(u32::from_ne_bytes(v))
}

/// `*(u32 *)(r10 - 4) = key; r2 = r10 - 4; r1 = MAP0`.
const KEY_ON_STACK: &str = "stw [%r10-4], KEY\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\n";

#[test]
fn map_lookup_returns_a_writable_value_address() {
    let h = host();
    let m = map(&h, MapType::Array, 4, 4, 8, 0);
    m.map().update(&5u32.to_ne_bytes(), &41u32.to_ne_bytes(), 0).unwrap();
    // Found: increment the value in place and return it.
    let text = format!(
        "{}call 1\njeq %r0, 0, miss\nldxw %r1, [%r0]\nadd %r1, 1\nstxw [%r0], %r1\nmov %r0, %r1\nexit\nmiss:\nmov %r0, 99\nexit",
        KEY_ON_STACK.replace("KEY", "5")
    );
    assert_eq!(run(&h, &text, std::slice::from_ref(&m)), 42);
    assert_eq!(lookup_u32(&m, 5), Ok(42));
    // Missing key → NULL.
    assert_eq!(run(&h, &text.replace("[%r10-4], 5", "[%r10-4], 8"), std::slice::from_ref(&m)), 99);
    // Beyond the value: the engine refuses (mem_ok covers value_size bytes only).
    let past =
        format!("{}call 1\njeq %r0, 0, miss\nldxw %r0, [%r0+4]\nexit\nmiss:\nexit", KEY_ON_STACK.replace("KEY", "5"));
    let mut ctx = [0u8; 8];
    assert!(run_ctx(&h, &past, std::slice::from_ref(&m), &mut ctx, RunCtx::default()).is_err());
    // An unreadable key → NULL.
    let bad = "lddw %r2, 0x10\nlddw %r1, MAP0\ncall 1\nexit";
    assert_eq!(run(&h, bad, std::slice::from_ref(&m)), 0);
}

#[test]
fn global_data_array_is_directly_accessible() {
    let h = host();
    let data = map(&h, MapType::Array, 4, 8, 1, 0);
    data.map().update(&0u32.to_ne_bytes(), &77u64.to_ne_bytes(), 0).unwrap();
    let p = match data.map().as_any().downcast_ref::<maps::ArrayMap>().unwrap().direct_value_addr(0) {
        Ok(p) => p.as_ptr() as usize as u64,
        Err(e) => panic!("{e:?}"),
    };
    // What the loader makes of a BPF_PSEUDO_MAP_VALUE load: the value's address.
    let text = format!("lddw %r1, {p:#x}\nldxdw %r0, [%r1]\nstdw [%r1], 5\nexit");
    assert_eq!(run(&h, &text, std::slice::from_ref(&data)), 77);
    let mut v = [0u8; 8];
    data.map().lookup(&0u32.to_ne_bytes(), &mut v, 0).unwrap();
    assert_eq!(u64::from_ne_bytes(v), 5);
    // Without the map among the used maps, the same address is refused.
    let mut ctx = [0u8; 8];
    assert!(run_ctx(&h, &text, &[], &mut ctx, RunCtx::default()).is_err());
}

#[test]
fn map_pointer_not_used_by_the_program_is_rejected() {
    let h = host();
    let used = map(&h, MapType::Array, 4, 4, 2, 0);
    let other = map(&h, MapType::Array, 4, 4, 2, 0);
    // `other` is not among the program's used maps: lookup gives NULL, update EINVAL.
    let text = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP1\ncall 1\nexit";
    let p = prog(&h, asm(text, &[used.clone(), other.clone()]), std::slice::from_ref(&used));
    let guard = maps::reclaim::read_lock();
    let mut env = ProgEnv::new(&*h, &p, &guard, RunCtx::default());
    assert_eq!(Vm::new(p.insns()).run(&mut env), Ok(0));
    let upd = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r2\nlddw %r1, 0x1234\nmov %r4, 0\ncall 2\nexit";
    assert_eq!(run(&h, upd, &[used]), e(Errno::EINVAL));
}

#[test]
fn map_update_and_delete_with_errno_paths() {
    let h = host();
    let m = map(&h, MapType::Array, 4, 4, 2, 0);
    let upd = |key: u32, val: u32, flags: u32| {
        format!(
            "stw [%r10-4], {key}\nstw [%r10-8], {val}\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -8\nlddw %r1, MAP0\nmov %r4, {flags}\ncall 2\nexit"
        )
    };
    assert_eq!(run(&h, &upd(1, 10, 0), std::slice::from_ref(&m)), 0);
    assert_eq!(lookup_u32(&m, 1), Ok(10));
    assert_eq!(run(&h, &upd(1, 11, 2), std::slice::from_ref(&m)), 0); // BPF_EXIST
    assert_eq!(lookup_u32(&m, 1), Ok(11));
    assert_eq!(run(&h, &upd(1, 12, 1), std::slice::from_ref(&m)), e(Errno::EEXIST)); // BPF_NOEXIST
    assert_eq!(run(&h, &upd(2, 11, 0), std::slice::from_ref(&m)), e(Errno::E2BIG)); // index >= max_entries
    assert_eq!(run(&h, &upd(1, 1, 9), std::slice::from_ref(&m)), e(Errno::EINVAL)); // bad flags
    assert_eq!(lookup_u32(&m, 1), Ok(11));
    // A key or value pointer outside the program's memory → EFAULT.
    let bad = "lddw %r2, 0x10\nmov %r3, %r10\nadd %r3, -8\nlddw %r1, MAP0\nmov %r4, 0\ncall 2\nexit";
    assert_eq!(run(&h, bad, std::slice::from_ref(&m)), e(Errno::EFAULT));
    let bad = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r3, 0x10\nlddw %r1, MAP0\nmov %r4, 0\ncall 2\nexit";
    assert_eq!(run(&h, bad, std::slice::from_ref(&m)), e(Errno::EFAULT));
    // Arrays cannot delete.
    let del = format!("{}call 3\nexit", KEY_ON_STACK.replace("KEY", "1"));
    assert_eq!(run(&h, &del, std::slice::from_ref(&m)), e(Errno::EINVAL));
}

#[test]
fn rdonly_prog_maps_refuse_program_writes() {
    let h = host();
    let m = map(&h, MapType::Array, 4, 4, 4, BPF_F_RDONLY_PROG);
    m.map().update(&1u32.to_ne_bytes(), &7u32.to_ne_bytes(), 0).unwrap();
    let upd = "stw [%r10-4], 1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r2\nlddw %r1, MAP0\nmov %r4, 0\ncall 2\nexit";
    assert_eq!(run(&h, upd, std::slice::from_ref(&m)), e(Errno::EACCES));
    let del = format!("{}call 3\nexit", KEY_ON_STACK.replace("KEY", "1"));
    assert_eq!(run(&h, &del, std::slice::from_ref(&m)), e(Errno::EACCES));
    // The value may be read but not written.
    let read = format!("{}call 1\nldxw %r0, [%r0]\nexit", KEY_ON_STACK.replace("KEY", "1"));
    assert_eq!(run(&h, &read, std::slice::from_ref(&m)), 7);
    let write = format!("{}call 1\nstw [%r0], 1\nmov %r0, 0\nexit", KEY_ON_STACK.replace("KEY", "1"));
    let mut ctx = [0u8; 8];
    assert!(run_ctx(&h, &write, std::slice::from_ref(&m), &mut ctx, RunCtx::default()).is_err());
    assert_eq!(lookup_u32(&m, 1), Ok(7));
}

#[test]
fn bloom_filter_peek_tests_membership_of_the_programs_value() {
    let h = host();
    let b = map(&h, MapType::BloomFilter, 0, 4, 16, 0);
    let push =
        |v: u32| format!("stw [%r10-4], {v}\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\nmov %r3, 0\ncall 87\nexit");
    // bpf_map_peek_elem(map, &value): 0 when (probably) present, -ENOENT when absent; the
    // value is read, never written.
    let peek = |v: u32| {
        format!("stw [%r10-4], {v}\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\ncall 89\njne %r0, 0, out\nldxw %r0, [%r10-4]\nout:\nexit")
    };
    assert_eq!(run(&h, &peek(41), std::slice::from_ref(&b)), e(Errno::ENOENT));
    assert_eq!(run(&h, &push(41), std::slice::from_ref(&b)), 0);
    assert_eq!(run(&h, &peek(41), std::slice::from_ref(&b)), 41);
    assert_eq!(run(&h, &peek(42), std::slice::from_ref(&b)), e(Errno::ENOENT));
    // A value outside the program's memory: EFAULT.
    let bad = "lddw %r2, 0x10\nlddw %r1, MAP0\ncall 89\nexit";
    assert_eq!(run(&h, bad, std::slice::from_ref(&b)), e(Errno::EFAULT));
}

#[test]
fn queue_push_pop_peek() {
    let h = host();
    let q = map(&h, MapType::Queue, 0, 4, 2, 0);
    let push = |v: u32, flags: u32| {
        format!("stw [%r10-4], {v}\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\nmov %r3, {flags}\ncall 87\nexit")
    };
    assert_eq!(run(&h, &push(10, 0), std::slice::from_ref(&q)), 0);
    assert_eq!(run(&h, &push(20, 0), std::slice::from_ref(&q)), 0);
    assert_eq!(run(&h, &push(30, 0), std::slice::from_ref(&q)), e(Errno::E2BIG));
    assert_eq!(run(&h, &push(30, 2), std::slice::from_ref(&q)), 0); // BPF_EXIST: overwrite the oldest
    let get = |id: u32| {
        format!(
            "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\ncall {id}\njne %r0, 0, out\nldxw %r0, [%r10-4]\nout:\nexit"
        )
    };
    assert_eq!(run(&h, &get(89), std::slice::from_ref(&q)), 20); // peek
    assert_eq!(run(&h, &get(88), std::slice::from_ref(&q)), 20); // pop
    assert_eq!(run(&h, &get(88), std::slice::from_ref(&q)), 30);
    assert_eq!(run(&h, &get(88), std::slice::from_ref(&q)), e(Errno::ENOENT));
    assert_eq!(run(&h, &get(89), std::slice::from_ref(&q)), e(Errno::ENOENT));
    // A destination outside the program's memory: EFAULT and the element stays.
    assert_eq!(run(&h, &push(5, 0), std::slice::from_ref(&q)), 0);
    let bad = "lddw %r2, 0x10\nlddw %r1, MAP0\ncall 88\nexit";
    assert_eq!(run(&h, bad, std::slice::from_ref(&q)), e(Errno::EFAULT));
    assert_eq!(run(&h, &get(88), std::slice::from_ref(&q)), 5);
}

#[test]
fn probe_reads_copy_or_zero_and_fault() {
    let h = host();
    let user = h.t.put_bytes(b"user-bytes\0tail");
    let prog_for = |id: u32, size: u32, src: u64| {
        format!(
            "mov %r6, %r1\nstdw [%r6], -1\nstdw [%r6+8], -1\nmov %r1, %r6\nmov %r2, {size}\nlddw %r3, {src:#x}\ncall {id}\nexit"
        )
    };
    let check = |id: u32, size: u32, src: u64| {
        let mut ctx = [0u8; 16];
        let r = run_ctx(&h, &prog_for(id, size, src), &[], &mut ctx, RunCtx::default()).unwrap();
        (r, ctx)
    };
    // probe_read_user (112).
    let (r, ctx) = check(112, 4, user);
    assert_eq!((r, &ctx[..6]), (0, &b"user\xff\xff"[..]));
    let (r, ctx) = check(112, 8, 0x10);
    assert_eq!((r, &ctx[..9]), (e(Errno::EFAULT), &[0u8, 0, 0, 0, 0, 0, 0, 0, 0xff][..]));
    // probe_read_kernel (113).
    let (r, ctx) = check(113, 3, KBASE + 10);
    assert_eq!((r, &ctx[..4]), (0, &[10u8, 11, 12, 0xff][..]));
    let (r, ctx) = check(113, 3, user);
    assert_eq!((r, &ctx[..4]), (e(Errno::EFAULT), &[0u8, 0, 0, 0xff][..]));
    // Legacy probe_read (4): user, then kernel.
    assert_eq!(check(4, 4, user).0, 0);
    assert_eq!(
        check(4, 2, KBASE + 1),
        (0, {
            let mut c = [0xffu8; 16];
            c[0] = 1;
            c[1] = 2;
            c
        })
    );
    // Strings: length with the NUL; cut strings end in a NUL.
    let (r, ctx) = check(114, 16, user);
    assert_eq!((r, &ctx[..12]), (11, &b"user-bytes\0\xff"[..]));
    let (r, ctx) = check(114, 5, user);
    assert_eq!((r, &ctx[..6]), (5, &b"user\0\xff"[..]));
    let (r, ctx) = check(115, 16, KBASE + 256);
    assert_eq!((r, &ctx[..12]), (11, &b"kernel-str\0\xff"[..]));
    let (r, ctx) = check(115, 8, 0x20);
    assert_eq!((r, &ctx[..9]), (e(Errno::EFAULT), &[0u8, 0, 0, 0, 0, 0, 0, 0, 0xff][..]));
    assert_eq!(check(45, 16, KBASE + 256).0, 11);
    assert_eq!(check(114, 0, user).0, 0);
    // A destination outside the program's memory: EFAULT, nothing read.
    let bad = format!("lddw %r1, 0x10\nmov %r2, 4\nlddw %r3, {user:#x}\ncall 112\nexit");
    assert_eq!(run(&h, &bad, &[]), e(Errno::EFAULT));
}

#[test]
fn identity_time_and_cpu_helpers() {
    let h = host();
    let one = |id: u32| run(&h, &format!("call {id}\nexit"), &[]);
    assert_eq!(one(14), (1000u64 << 32) | 1001); // get_current_pid_tgid: tgid << 32 | pid
    assert_eq!(one(15), (100u64 << 32) | 1000); // get_current_uid_gid: gid << 32 | uid
    assert_eq!(one(35), 0xffff_8880_1234_5000); // get_current_task
    assert_eq!(one(125), 7_000_000_000); // ktime_get_boot_ns
    assert_eq!(one(160), 6_000_000_000); // ktime_get_coarse_ns
    assert_eq!(one(118), 4242); // jiffies64
    assert_eq!(one(42), 3); // get_numa_node_id
    assert!(one(8) < 2); // get_smp_processor_id
    let (a, b) = (one(5), one(5)); // ktime_get_ns is monotonic
    assert!(b > a);
    let (x, y) = (one(7), one(7)); // get_prandom_u32: 32-bit, varies
    assert!(x <= u64::from(u32::MAX) && x != y);
    let mut ctx = [0u8; 8];
    let rc = RunCtx { cookie: 0xc00c1e, func_ip: 0xffff_ffff_8100_0000, ..RunCtx::default() };
    assert_eq!(run_ctx(&h, "call 174\nexit", &[], &mut ctx, rc), Ok(0xc00c1e));
    assert_eq!(run_ctx(&h, "call 173\nexit", &[], &mut ctx, rc), Ok(0xffff_ffff_8100_0000));
    assert_eq!(one(27), e(Errno::EOPNOTSUPP)); // get_stackid: no stack trace map
}

#[test]
fn current_comm_is_cut_and_terminated() {
    let h = host();
    let text = "mov %r6, %r1\nstdw [%r6], -1\nstdw [%r6+8], -1\nmov %r2, SIZE\ncall 16\nexit";
    let mut ctx = [0u8; 16];
    assert_eq!(run_ctx(&h, &text.replace("SIZE", "16"), &[], &mut ctx, RunCtx::default()), Ok(0));
    assert_eq!(&ctx, b"bpf-test\0\0\0\0\0\0\0\0");
    let mut ctx = [0u8; 16];
    assert_eq!(run_ctx(&h, &text.replace("SIZE", "4"), &[], &mut ctx, RunCtx::default()), Ok(0));
    assert_eq!(&ctx[..5], b"bpf\0\xff");
    let bad = "lddw %r1, 0x10\nmov %r2, 16\ncall 16\nexit";
    assert_eq!(run(&h, bad, &[]), e(Errno::EFAULT));
}

#[test]
fn helper_table_follows_the_program_type() {
    let k = helper_ops(ProgType::Kprobe, true, true);
    assert!(k.gpl_compatible());
    let p = k.helper_proto(6).unwrap(); // trace_printk is GPL-only
    assert!(p.gpl_only);
    assert!(!k.helper_proto(1).unwrap().gpl_only);
    assert!(k.helper_proto(173).is_some()); // get_func_ip: kprobe only
    assert!(helper_ops(ProgType::Tracepoint, true, true).helper_proto(173).is_none());
    assert!(helper_ops(ProgType::SocketFilter, false, true).helper_proto(6).is_none());
    assert!(helper_ops(ProgType::SocketFilter, true, true).helper_proto(6).is_some());
    // Every id the table offers to some type is implemented by ProgEnv.
    let h = host();
    for ty in [ProgType::Kprobe, ProgType::Tracepoint, ProgType::SocketFilter, ProgType::RawTracepoint] {
        for id in 1..212 {
            if id == 12 || helper_ops(ty, true, true).helper_proto(id).is_none() {
                continue;
            }
            let mut ctx = [0u8; 64];
            let r = run_ctx(
                &h,
                &format!("mov %r1, 0\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall {id}\nexit"),
                &[],
                &mut ctx,
                RunCtx::default(),
            );
            assert!(
                !matches!(r, Err(ref v) if matches!(v.kind, crate::vm::VmErrorKind::UnknownHelper { .. })),
                "helper {id} offered but not implemented"
            );
        }
    }
}
