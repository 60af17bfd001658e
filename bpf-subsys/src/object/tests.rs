//! Object model tests that need no syscall: names, file modes, user references, the
//! registry, the `MapHost` adapter, freezing.

use std::sync::Arc;
use std::vec;

use maps::{FdKind, FdObject, MapAttr};
use syscall_abi::bpf::{LinkType, MapType, ProgType, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::Errno;

use super::*;
use crate::host::{BpfHost, MapHostAdapter};
use crate::test_host::TestHost;
use crate::vm::Program;

fn name16(s: &[u8]) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[..s.len()].copy_from_slice(s);
    n
}

#[test]
fn object_names_follow_bpf_obj_name_cpy() {
    let ok: &[&[u8]] = &[b"", b"a", b"map_1.v2", b"ABCxyz0189_.", b"fifteen_chars_x", b"\xc0\xd6\xd8\xf6\xf8\xff\xdf"];
    for n in ok {
        assert_eq!(obj_name_cpy(&name16(n)), Ok(name16(n)), "{n:?}");
    }
    let bad: &[&[u8]] = &[b"a b", b"a-b", b"a/b", b"\x7f", b"\xd7", b"\xf7", b"\xa0", b"\x80", b"tab\t"];
    for n in bad {
        assert_eq!(obj_name_cpy(&name16(n)).map_err(|e| e.errno), Err(Errno::EINVAL), "{n:?}");
    }
    assert_eq!(obj_name_cpy(b"sixteen_chars_xx").map_err(|e| e.errno), Err(Errno::EINVAL));
    // Bytes after the NUL are ignored, even invalid ones.
    let mut n = name16(b"ok");
    n[3] = b' ';
    assert_eq!(obj_name_cpy(&n), Ok(name16(b"ok")));
}

#[test]
fn file_modes_from_flags() {
    assert_eq!(FileMode::from_bpf_flags(0), Ok(FileMode::ReadWrite));
    assert_eq!(FileMode::from_bpf_flags(BPF_F_RDONLY), Ok(FileMode::ReadOnly));
    assert_eq!(FileMode::from_bpf_flags(BPF_F_WRONLY | 1), Ok(FileMode::WriteOnly));
    assert_eq!(FileMode::from_bpf_flags(BPF_F_RDONLY | BPF_F_WRONLY).map_err(|e| e.errno), Err(Errno::EINVAL));
    assert!(FileMode::ReadOnly.can_read() && !FileMode::ReadOnly.can_write());
    assert!(!FileMode::WriteOnly.can_read() && FileMode::WriteOnly.can_write());
    assert_eq!([FileMode::ReadOnly, FileMode::WriteOnly, FileMode::ReadWrite].map(FileMode::o_accmode), [0, 1, 2]);
}

fn array(host: &Arc<TestHost>) -> Arc<MapObj> {
    let attr =
        MapAttr { map_type: Some(MapType::Array), key_size: 4, value_size: 4, max_entries: 2, ..MapAttr::default() };
    let map = maps::create(&attr, &MapHostAdapter::shared(host.dyn_host())).unwrap();
    MapObj::new(host.registry(), MapSpec { map, name: [0; 16], btf: None }).unwrap()
}

fn prog(host: &Arc<TestHost>) -> Arc<ProgObj> {
    let spec = ProgSpec {
        prog_type: ProgType::SocketFilter,
        expected_attach_type: 0,
        name: [0; 16],
        tag: [0; 8],
        insns: vec![[0x95, 0, 0, 0, 0, 0, 0, 0]],
        xlated: vec![[0x95, 0, 0, 0, 0, 0, 0, 0]],
        used_maps: vec![],
        btf: None,
        func_info: vec![],
        line_info: vec![],
        gpl_compatible: false,
        load_time: 0,
        created_by_uid: 0,
        verified_insns: 1,
        max_ctx_offset: 0,
    };
    ProgObj::new(host.registry(), spec).unwrap()
}

#[test]
fn registry_ids_per_kind_and_freed_on_drop() {
    let h = TestHost::new(2);
    let reg = h.registry().clone();
    let m1 = array(&h);
    let m2 = array(&h);
    let p = prog(&h);
    let b = BtfObj::new(&reg, vec![], vec![], false).unwrap();
    assert_eq!((m1.id(), m2.id(), p.id(), b.id()), (1, 2, 1, 1));
    assert_eq!((reg.count(ObjKind::Map), reg.count(ObjKind::Prog), reg.count(ObjKind::Link)), (2, 1, 0));
    assert!(reg.get(ObjKind::Map, 2).unwrap().same(&BpfObject::Map(m2.clone())));
    assert!(reg.get(ObjKind::Prog, 2).is_none());
    assert_eq!(reg.next_id(ObjKind::Map, 2), Some(2));
    assert_eq!(reg.next_id(ObjKind::Map, 3), None);
    drop(m1);
    assert_eq!(reg.next_id(ObjKind::Map, 0), Some(2));
    assert!(reg.map(1).is_none());
    let l = LinkObj::new(&reg, LinkType::RawTracepoint, p.clone(), std::boxed::Box::new(Quiet)).unwrap();
    assert_eq!(l.id(), 1);
    assert_eq!(BpfObject::Link(l.clone()).anon_name(), "bpf_link");
    drop((m2, p, b, l));
    assert!(reg.is_empty());
}

struct Quiet;
impl LinkOps for Quiet {}

#[test]
fn user_references_count_fds_and_pins() {
    let h = TestHost::new(2);
    let m = array(&h);
    assert_eq!(m.user_refs(), 0);
    let f1 = BpfFile::new(BpfObject::Map(m.clone()), FileMode::ReadOnly);
    let pin = UserRef::new(BpfObject::Map(m.clone()));
    assert_eq!(m.user_refs(), 2);
    assert!(matches!(f1.target(), FdTarget::Bpf(BpfObject::Map(_), FileMode::ReadOnly)));
    drop(f1);
    drop(pin);
    assert_eq!(m.user_refs(), 0);
    // Programs have no user count, but a file still refers to them.
    let p = prog(&h);
    let f = BpfFile::new(BpfObject::Prog(p.clone()), FileMode::ReadWrite);
    assert_eq!(f.object().id(), p.id());
}

#[test]
fn prog_objects_run_and_are_found_from_fd_objects() {
    let h = TestHost::new(2);
    let p = prog(&h);
    assert_eq!(p.insns(), &[[0x95, 0, 0, 0, 0, 0, 0, 0]]);
    let as_fd: Arc<dyn FdObject> = p.clone();
    let back = ProgObj::from_fd_object(&*as_fd).unwrap();
    assert!(Arc::ptr_eq(&back.arc().unwrap(), &p));
    let m = array(&h);
    assert!(p.bind_map(m.clone()));
    assert!(!p.bind_map(m.clone()));
    assert!(p.uses_map(&m));
    assert_eq!(p.map_ids(), [m.id()]);
    p.record_run(50);
    p.record_run(70);
    let s = p.stats();
    assert_eq!(
        (
            s.run_cnt.load(core::sync::atomic::Ordering::Relaxed),
            s.run_time_ns.load(core::sync::atomic::Ordering::Relaxed)
        ),
        (2, 120)
    );
}

#[test]
fn map_host_adapter_resolves_fds_like_linux() {
    let h = TestHost::new(2);
    let adapter = MapHostAdapter::shared(h.dyn_host());
    let map_fd = h.install_object(BpfObject::Map(array(&h)), FileMode::ReadOnly);
    let prog_fd = h.install_object(BpfObject::Prog(prog(&h)), FileMode::ReadWrite);
    let perf_fd = h.install_perf(Arc::new(Event));
    let errno = |kind, fd| adapter.resolve_fd(kind, fd).err().map(|e| e.errno);
    assert_eq!(errno(FdKind::Map, map_fd), None);
    assert_eq!(errno(FdKind::Prog, prog_fd), None);
    assert_eq!(errno(FdKind::PerfEvent, perf_fd), None);
    for kind in [FdKind::Map, FdKind::Prog, FdKind::PerfEvent] {
        assert_eq!(errno(kind, 77), Some(Errno::EBADF), "{kind:?}");
    }
    assert_eq!(errno(FdKind::Map, prog_fd), Some(Errno::EINVAL));
    assert_eq!(errno(FdKind::Map, 0), Some(Errno::EINVAL));
    assert_eq!(errno(FdKind::Prog, map_fd), Some(Errno::EINVAL));
    assert_eq!(errno(FdKind::PerfEvent, map_fd), Some(Errno::EBADF));
    assert_eq!(errno(FdKind::PerfEvent, 0), Some(Errno::EBADF));
    assert_eq!(adapter.possible_cpus(), 2);
    h.close_all();
    assert!(h.registry().is_empty());
}

struct Event;
impl FdObject for Event {
    fn id(&self) -> u32 {
        0
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

#[test]
fn freeze_checks_in_linux_order() {
    let h = TestHost::new(2);
    let m = array(&h);
    let writing = m.write_active();
    // A write in progress is EBUSY even for an unprivileged caller.
    assert_eq!(m.freeze(false).map_err(|e| e.errno), Err(Errno::EBUSY));
    drop(writing);
    assert_eq!(m.freeze(false).map_err(|e| e.errno), Err(Errno::EPERM));
    assert_eq!(m.freeze(true), Ok(()));
    assert_eq!(m.freeze(false).map_err(|e| e.errno), Err(Errno::EBUSY));
    assert_eq!(m.sys_perms(FileMode::ReadWrite), (true, false));
}
