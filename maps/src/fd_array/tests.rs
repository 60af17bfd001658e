use std::any::Any;
use std::boxed::Box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::vec;
use std::vec::Vec;

use syscall_abi::bpf::{
    MapType, BPF_ANY, BPF_EXIST, BPF_F_INNER_MAP, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY,
    BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_NOEXIST,
};
use syscall_abi::{err, Errno, Result};

use crate::host::SharedPages;
use crate::map_in_map::check_inner;
use crate::reclaim;
use crate::test_host::{attr, def_of, TestHost, TestObj};
use crate::{BpfMap, FdKind, FdObject, LookupBatch, MapAttr, MapDef, MapHost};

use super::FdArray;

const FD_TYPES: [MapType; 3] = [MapType::ProgArray, MapType::PerfEventArray, MapType::ArrayOfMaps];

fn k(i: u32) -> [u8; 4] {
    i.to_ne_bytes()
}

fn errno<T>(r: Result<T>) -> Option<Errno> {
    r.err().map(|e| e.errno)
}

/// A template for array_of_maps: an array of 8-byte values, 10 entries.
fn inner_attr() -> MapAttr {
    attr(MapType::Array, 4, 8, 10, 0)
}

fn fd_attr(ty: MapType, max_entries: u32, flags: u32) -> MapAttr {
    let inner = (ty == MapType::ArrayOfMaps).then(|| def_of(&inner_attr()));
    MapAttr { inner_map: inner, ..attr(ty, 4, 4, max_entries, flags) }
}

fn kind_of(ty: MapType) -> FdKind {
    match ty {
        MapType::ProgArray => FdKind::Prog,
        MapType::PerfEventArray => FdKind::PerfEvent,
        _ => FdKind::Map,
    }
}

/// Installs an object of the right kind for `ty` with `id`, returning its fd.
fn install(h: &Arc<TestHost>, ty: MapType, id: u32) -> u32 {
    if ty == MapType::ArrayOfMaps {
        let inner = crate::create(&inner_attr(), &h.dyn_host()).unwrap();
        h.install_map(inner, id)
    } else {
        h.install_fd(kind_of(ty), TestObj::plain(id))
    }
}

fn make(h: &Arc<TestHost>, a: &MapAttr) -> Arc<dyn BpfMap> {
    crate::create(a, &h.dyn_host()).unwrap()
}

fn fd_array(m: &Arc<dyn BpfMap>) -> &FdArray {
    m.as_any().downcast_ref::<FdArray>().unwrap()
}

#[test]
fn create_rejects_bad_attributes_like_linux() {
    let h = TestHost::new(2);
    for ty in FD_TYPES {
        let rows: Vec<(&str, MapAttr, Errno)> = vec![
            ("value_size 8", MapAttr { value_size: 8, ..fd_attr(ty, 4, 0) }, Errno::EINVAL),
            ("key_size 8", MapAttr { key_size: 8, ..fd_attr(ty, 4, 0) }, Errno::EINVAL),
            ("max_entries 0", fd_attr(ty, 0, 0), Errno::EINVAL),
            ("rdonly prog", fd_attr(ty, 4, BPF_F_RDONLY_PROG), Errno::EINVAL),
            ("wronly prog", fd_attr(ty, 4, BPF_F_WRONLY_PROG), Errno::EINVAL),
            ("mmapable", fd_attr(ty, 4, BPF_F_MMAPABLE), Errno::EINVAL),
            ("inner map flag", fd_attr(ty, 4, BPF_F_INNER_MAP), Errno::EINVAL),
            ("unknown flag", fd_attr(ty, 4, 1 << 14), Errno::EINVAL),
            ("spin lock", MapAttr { spin_lock_off: Some(0), ..fd_attr(ty, 4, 0) }, Errno::ENOTSUPP),
        ];
        for (what, a, want) in rows {
            assert_eq!(errno(crate::create(&a, &h.dyn_host())), Some(want), "{ty:?}: {what}");
        }
        for flags in [0, BPF_F_RDONLY, BPF_F_WRONLY] {
            assert_eq!(errno(crate::create(&fd_attr(ty, 4, flags), &h.dyn_host())), None, "{ty:?} flags {flags:#x}");
        }
        let preserve = errno(crate::create(&fd_attr(ty, 4, BPF_F_PRESERVE_ELEMS), &h.dyn_host()));
        let want = if ty == MapType::PerfEventArray { None } else { Some(Errno::EINVAL) };
        assert_eq!(preserve, want, "{ty:?}: BPF_F_PRESERVE_ELEMS");
    }
    // The map-in-map template rules (bpf_map_meta_alloc).
    let outer = |inner: Option<MapDef>| MapAttr { inner_map: inner, ..attr(MapType::ArrayOfMaps, 4, 4, 4, 0) };
    let def = |a: MapAttr| Some(def_of(&a));
    let rows: Vec<(&str, MapAttr, Errno)> = vec![
        ("no template", outer(None), Errno::EINVAL),
        ("nested array_of_maps", outer(def(attr(MapType::ArrayOfMaps, 4, 4, 2, 0))), Errno::EINVAL),
        ("nested hash_of_maps", outer(def(attr(MapType::HashOfMaps, 4, 4, 2, 0))), Errno::EINVAL),
        ("prog_array template", outer(def(attr(MapType::ProgArray, 4, 4, 2, 0))), Errno::ENOTSUPP),
        (
            "template with spin lock",
            outer(def(MapAttr { spin_lock_off: Some(0), ..attr(MapType::Array, 4, 8, 2, 0) })),
            Errno::ENOTSUPP,
        ),
    ];
    for (what, a, want) in rows {
        assert_eq!(errno(crate::create(&a, &h.dyn_host())), Some(want), "{what}");
    }
}

#[test]
fn update_lookup_delete_follow_linux_fd_array_rules() {
    let h = TestHost::new(2);
    for ty in FD_TYPES {
        let m = make(&h, &fd_attr(ty, 4, 0));
        let fd = install(&h, ty, 41).to_ne_bytes();
        assert_eq!(errno(m.update(&k(0), &fd, BPF_EXIST)), Some(Errno::EINVAL), "{ty:?}: BPF_EXIST");
        assert_eq!(errno(m.update(&k(0), &fd, BPF_NOEXIST)), Some(Errno::EINVAL), "{ty:?}: BPF_NOEXIST");
        assert_eq!(errno(m.update(&k(0), &fd, BPF_F_LOCK)), Some(Errno::EINVAL), "{ty:?}: BPF_F_LOCK");
        assert_eq!(errno(m.update(&k(4), &fd, BPF_ANY)), Some(Errno::E2BIG), "{ty:?}: out of range");
        assert_eq!(errno(m.update(&k(4), &fd, BPF_EXIST)), Some(Errno::EINVAL), "{ty:?}: flags first");
        assert_eq!(errno(m.update(&k(0), &999u32.to_ne_bytes(), BPF_ANY)), Some(Errno::EBADF), "{ty:?}: bad fd");
        let other = if ty == MapType::ProgArray { MapType::PerfEventArray } else { MapType::ProgArray };
        let wrong = install(&h, other, 7).to_ne_bytes();
        assert_eq!(errno(m.update(&k(0), &wrong, BPF_ANY)), Some(Errno::EINVAL), "{ty:?}: wrong kind");
        m.update(&k(2), &fd, BPF_ANY).unwrap();

        let mut out = [0u8; 4];
        let lookup = m.lookup(&k(2), &mut out, 0);
        if ty == MapType::PerfEventArray {
            assert_eq!(errno(lookup), Some(Errno::ENOTSUPP));
            assert_eq!(errno(m.lookup(&k(9), &mut out, 0)), Some(Errno::ENOTSUPP), "ENOTSUPP before the index");
        } else {
            lookup.unwrap();
            assert_eq!(u32::from_ne_bytes(out), 41, "{ty:?}: syscall lookup gives the id");
            assert_eq!(errno(m.lookup(&k(1), &mut out, 0)), Some(Errno::ENOENT), "{ty:?}: empty slot");
            assert_eq!(errno(m.lookup(&k(9), &mut out, 0)), Some(Errno::ENOENT), "{ty:?}: out of range");
        }
        assert_eq!(errno(m.lookup(&k(2), &mut out, 1)), Some(Errno::EINVAL), "{ty:?}: lookup flags");
        assert_eq!(errno(m.lookup(&k(2), &mut out, BPF_F_LOCK)), Some(Errno::EINVAL), "{ty:?}: lookup lock");

        assert_eq!(fd_array(&m).get_object(2).map(|o| o.id()), Some(41));
        assert!(fd_array(&m).get_object(1).is_none());
        assert_eq!(fd_array(&m).kind(), kind_of(ty));
        assert_eq!(errno(m.delete(&k(4))), Some(Errno::E2BIG), "{ty:?}: delete out of range");
        assert_eq!(errno(m.delete(&k(1))), Some(Errno::ENOENT), "{ty:?}: delete empty");
        m.delete(&k(2)).unwrap();
        assert_eq!(errno(m.delete(&k(2))), Some(Errno::ENOENT), "{ty:?}: deleted twice");
        assert!(fd_array(&m).get_object(2).is_none());
        assert_eq!(errno(m.prog_update(&k(0), &fd, BPF_ANY)), Some(Errno::EINVAL), "{ty:?}: no program update");
    }
}

#[test]
fn get_next_key_is_the_array_walk() {
    let h = TestHost::new(1);
    let m = make(&h, &fd_attr(MapType::ProgArray, 2, 0));
    let mut next = [0u8; 4];
    m.get_next_key(None, &mut next).unwrap();
    assert_eq!(next, k(0));
    m.get_next_key(Some(&k(0)), &mut next).unwrap();
    assert_eq!(next, k(1));
    assert_eq!(errno(m.get_next_key(Some(&k(1)), &mut next)), Some(Errno::ENOENT));
    m.get_next_key(Some(&k(7)), &mut next).unwrap();
    assert_eq!(next, k(0));
}

#[test]
fn array_of_maps_checks_inner_maps_and_gives_programs_the_object() {
    let h = TestHost::new(1);
    let m = make(&h, &fd_attr(MapType::ArrayOfMaps, 4, 0));
    assert_eq!(fd_array(&m).inner_map_def(), Some(&def_of(&inner_attr())));
    let bad_rows = [
        ("value_size", attr(MapType::Array, 4, 16, 10, 0)),
        ("max_entries", attr(MapType::Array, 4, 8, 11, 0)),
        ("flags", attr(MapType::Array, 4, 8, 10, BPF_F_RDONLY)),
        ("type", attr(MapType::PercpuArray, 4, 8, 10, 0)),
    ];
    for (what, a) in bad_rows {
        let fd = h.install_map(crate::create(&a, &h.dyn_host()).unwrap(), 5);
        assert_eq!(errno(m.update(&k(0), &fd.to_ne_bytes(), BPF_ANY)), Some(Errno::EINVAL), "{what}");
    }
    // A map fd whose object is not a map.
    let not_map = h.install_fd(FdKind::Map, TestObj::plain(3));
    assert_eq!(errno(m.update(&k(0), &not_map.to_ne_bytes(), BPF_ANY)), Some(Errno::EINVAL));

    let inner = crate::create(&inner_attr(), &h.dyn_host()).unwrap();
    let obj: Arc<dyn FdObject> = Arc::new(TestObj { id: 77, map: Some(inner) });
    let fd = h.install_fd(FdKind::Map, obj.clone());
    m.update(&k(1), &fd.to_ne_bytes(), BPF_ANY).unwrap();
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&k(1), &g).unwrap();
    assert_eq!(p.as_ptr().cast_const(), Arc::as_ptr(&obj).cast::<u8>(), "the stored Arc's data pointer");
    assert_eq!(m.prog_lookup(&k(0), &g), None);
    assert_eq!(m.prog_lookup(&k(9), &g), None);
    assert_eq!(fd_array(&m).get(1, &g).map(|o| o.id()), Some(77));
    drop(g);

    // prog_array and perf_event_array have no program-side lookup.
    let pa = make(&h, &fd_attr(MapType::ProgArray, 2, 0));
    pa.update(&k(0), &install(&h, MapType::ProgArray, 1).to_ne_bytes(), BPF_ANY).unwrap();
    let g = reclaim::read_lock();
    assert_eq!(pa.prog_lookup(&k(0), &g), None);
    assert_eq!(fd_array(&pa).get(0, &g).map(|o| o.id()), Some(1), "tail calls use get()");
}

/// A map that is nothing but a definition, for the template rules of other types.
struct DefOnly(MapDef);

impl BpfMap for DefOnly {
    fn def(&self) -> &MapDef {
        &self.0
    }
    fn lookup(&self, _: &[u8], _: &mut [u8], _: u64) -> Result<()> {
        err(Errno::ENOENT, "")
    }
    fn update(&self, _: &[u8], _: &[u8], _: u64) -> Result<()> {
        err(Errno::EINVAL, "")
    }
    fn delete(&self, _: &[u8]) -> Result<()> {
        err(Errno::ENOENT, "")
    }
    fn get_next_key(&self, _: Option<&[u8]>, _: &mut [u8]) -> Result<()> {
        err(Errno::ENOENT, "")
    }
    fn memory_usage(&self) -> usize {
        0
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[test]
fn template_rules_compare_max_entries_only_for_plain_arrays() {
    let d = |ty, max, flags| def_of(&attr(ty, 4, 8, max, flags));
    let cand = |ty, max, flags| DefOnly(d(ty, max, flags));
    assert!(check_inner(&d(MapType::Hash, 10, 0), &cand(MapType::Hash, 99, 0)).is_ok());
    assert!(check_inner(&d(MapType::PercpuArray, 10, 0), &cand(MapType::PercpuArray, 99, 0)).is_ok());
    assert_eq!(errno(check_inner(&d(MapType::Array, 10, 0), &cand(MapType::Array, 99, 0))), Some(Errno::EINVAL));
    let inner_flag = BPF_F_INNER_MAP;
    assert!(check_inner(&d(MapType::Array, 10, inner_flag), &cand(MapType::Array, 99, inner_flag)).is_ok());
    assert_eq!(
        errno(check_inner(&d(MapType::Array, 10, inner_flag), &cand(MapType::Array, 99, 0))),
        Some(Errno::EINVAL)
    );
    assert_eq!(errno(check_inner(&d(MapType::Hash, 10, 0), &cand(MapType::LruHash, 10, 0))), Some(Errno::EINVAL));
}

#[test]
fn release_uref_empties_prog_and_perf_arrays_unless_preserved() {
    let h = TestHost::new(1);
    let cases = [
        (MapType::ProgArray, 0, true),
        (MapType::PerfEventArray, 0, true),
        (MapType::PerfEventArray, BPF_F_PRESERVE_ELEMS, false),
        (MapType::ArrayOfMaps, 0, false),
    ];
    for (ty, flags, cleared) in cases {
        let m = make(&h, &fd_attr(ty, 3, flags));
        for i in 0..3 {
            m.update(&k(i), &install(&h, ty, 10 + i).to_ne_bytes(), BPF_ANY).unwrap();
        }
        let before = m.memory_usage();
        m.release_uref();
        let left: Vec<u32> = (0..3).filter_map(|i| fd_array(&m).get_object(i).map(|o| o.id())).collect();
        if cleared {
            assert!(left.is_empty(), "{ty:?}");
            assert!(m.memory_usage() < before, "{ty:?}: entries no longer counted");
        } else {
            assert_eq!(left, [10, 11, 12], "{ty:?} flags {flags:#x}");
        }
    }
}

#[test]
fn batches_exist_only_for_array_of_maps() {
    let h = TestHost::new(1);
    let aom = make(&h, &fd_attr(MapType::ArrayOfMaps, 6, 0));
    let fds: Vec<u8> = [install(&h, MapType::ArrayOfMaps, 31), install(&h, MapType::ArrayOfMaps, 34)]
        .iter()
        .flat_map(|fd| fd.to_ne_bytes())
        .collect();
    let keys: Vec<u8> = [1u32, 4].iter().flat_map(|i| i.to_ne_bytes()).collect();
    let r = aom.update_batch(&keys, &fds, 2, 0);
    assert_eq!((r.count, r.result), (2, Ok(())));
    // Slots 0, 2, 3 and 5 are holes: skipped, not an error.
    let (mut ob, mut ks, mut vs) = ([0u8; 4], [0u8; 40], [0u8; 40]);
    let batch =
        LookupBatch { in_batch: None, out_batch: &mut ob, keys: &mut ks, values: &mut vs, count: 10, elem_flags: 0 };
    let r = aom.lookup_batch(batch, false);
    assert_eq!((r.count, errno(r.result)), (2, Some(Errno::ENOENT)));
    assert_eq!((&ks[..8], &vs[..8]), (&keys[..], &[31u32.to_ne_bytes(), 34u32.to_ne_bytes()].concat()[..]));
    assert_eq!(ob, k(5), "out_batch is the last key looked at");

    for ty in [MapType::ProgArray, MapType::PerfEventArray] {
        let m = make(&h, &fd_attr(ty, 2, 0));
        let (mut ob, mut ks, mut vs) = ([0u8; 4], [0u8; 8], [0u8; 8]);
        let batch =
            LookupBatch { in_batch: None, out_batch: &mut ob, keys: &mut ks, values: &mut vs, count: 2, elem_flags: 0 };
        assert_eq!(errno(m.lookup_batch(batch, false).result), Some(Errno::ENOTSUPP), "{ty:?}");
        assert_eq!(errno(m.update_batch(&k(0), &k(3), 1, 0).result), Some(Errno::ENOTSUPP), "{ty:?}");
        assert_eq!(errno(m.delete_batch(&k(0), 1, 0).result), Some(Errno::ENOTSUPP), "{ty:?}");
    }
}

/// Counts its drops.
struct Counted {
    id: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

impl FdObject for Counted {
    fn id(&self) -> u32 {
        self.id
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A host whose fds can be closed (the test host keeps every object forever).
struct ClosableHost {
    fds: Mutex<Vec<Option<Arc<dyn FdObject>>>>,
}

impl ClosableHost {
    fn open(&self, obj: Arc<dyn FdObject>) -> u32 {
        let mut fds = self.fds.lock().unwrap();
        fds.push(Some(obj));
        u32::try_from(fds.len() - 1).unwrap()
    }
    fn close(&self, fd: u32) {
        self.fds.lock().unwrap()[fd as usize] = None;
    }
}

impl MapHost for ClosableHost {
    fn possible_cpus(&self) -> u32 {
        1
    }
    fn current_cpu(&self) -> u32 {
        0
    }
    fn random_u32(&self) -> u32 {
        4
    }
    fn alloc_shared(&self, _: usize, _: usize) -> Result<Box<dyn SharedPages>> {
        err(Errno::ENOMEM, "no shared pages here")
    }
    fn resolve_fd(&self, _: FdKind, fd: u32) -> Result<Arc<dyn FdObject>> {
        match self.fds.lock().unwrap().get(fd as usize) {
            Some(Some(obj)) => Ok(obj.clone()),
            _ => err(Errno::EBADF, "closed"),
        }
    }
}

#[test]
fn replaced_objects_outlive_readers_and_are_then_freed() {
    let host = Arc::new(ClosableHost { fds: Mutex::new(Vec::new()) });
    let dyn_host: Arc<dyn MapHost> = host.clone();
    let m = crate::create(&attr(MapType::ProgArray, 4, 4, 2, 0), &dyn_host).unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let old_fd = host.open(Arc::new(Counted { id: 1, drops: drops.clone() }));
    m.update(&k(0), &old_fd.to_ne_bytes(), BPF_ANY).unwrap();
    host.close(old_fd); // the map now holds the only reference

    let g = reclaim::read_lock();
    let running = fd_array(&m).get(0, &g).unwrap();
    assert_eq!(running.id(), 1);
    let new_fd = host.open(Arc::new(Counted { id: 2, drops: Arc::new(AtomicUsize::new(0)) }));
    m.update(&k(0), &new_fd.to_ne_bytes(), BPF_ANY).unwrap();
    for _ in 0..3 {
        reclaim::collect();
    }
    assert_eq!(drops.load(SeqCst), 0, "freed while a program could still use it");
    assert_eq!(running.id(), 1, "the reader's object is intact");
    assert_eq!(fd_array(&m).get(0, &g).map(|o| o.id()), Some(2));
    drop(g);

    // Other tests hold guards of their own: retry for up to a second.
    let start = std::time::Instant::now();
    while drops.load(SeqCst) == 0 && start.elapsed() < std::time::Duration::from_secs(1) {
        reclaim::collect();
        std::thread::yield_now();
    }
    assert_eq!(drops.load(SeqCst), 1, "dropped once no reader could hold it");
}

#[test]
fn concurrent_updates_and_tail_call_reads_see_whole_objects() {
    let h = TestHost::new(4);
    let m = make(&h, &fd_attr(MapType::ProgArray, 8, 0));
    let fds: Vec<[u8; 4]> = (0..8).map(|i| install(&h, MapType::ProgArray, 100 + i).to_ne_bytes()).collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for writer in 0..2u32 {
            let (m, fds, stop, h) = (&m, &fds, &stop, &h);
            s.spawn(move || {
                h.set_cpu(writer);
                for round in 0..2000u32 {
                    let slot = (round * 3 + writer) % 8;
                    if round % 5 == 4 {
                        let _ = m.delete(&k(slot));
                    } else {
                        m.update(&k(slot), &fds[(round % 8) as usize], BPF_ANY).unwrap();
                    }
                }
                stop.store(true, SeqCst);
            });
        }
        for reader in 2..4u32 {
            let (m, stop, h) = (&m, &stop, &h);
            s.spawn(move || {
                h.set_cpu(reader);
                let fa = fd_array(m);
                while !stop.load(SeqCst) {
                    let g = reclaim::read_lock();
                    for slot in 0..8 {
                        if let Some(obj) = fa.get(slot, &g) {
                            assert!((100..108).contains(&obj.id()), "garbage id {}", obj.id());
                        }
                    }
                }
            });
        }
    });
    // Every slot holds a valid object or nothing.
    let mut out = [0u8; 4];
    for slot in 0..8u32 {
        match m.lookup(&k(slot), &mut out, 0) {
            Ok(()) => assert!((100..108).contains(&u32::from_ne_bytes(out))),
            Err(e) => assert_eq!(e.errno, Errno::ENOENT),
        }
    }
    let used = (0..8).filter(|&i| fd_array(&m).get_object(i).is_some()).count();
    let expected = core::mem::size_of::<FdArray>()
        + 8 * core::mem::size_of::<core::sync::atomic::AtomicPtr<Arc<dyn FdObject>>>()
        + used * core::mem::size_of::<Arc<dyn FdObject>>();
    assert_eq!(m.memory_usage(), expected, "occupied-slot accounting stays exact");
}
