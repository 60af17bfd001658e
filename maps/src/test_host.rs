//! A `std` implementation of [`MapHost`] for the unit tests: CPUs are threads, shared pages
//! are a memfd mapped with the ring buffer's double mapping, fds index a table of test
//! objects.

use std::any::Any;
use std::boxed::Box;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use syscall_abi::bpf::MapType;
use syscall_abi::{err, Errno, Result};

use crate::host::{FdKind, FdObject, MapHost, SharedPages};
use crate::map::{MapAttr, MapDef};
use crate::BpfMap;
use crate::MemfdPages;

/// A test host with `cpus` possible CPUs. Each test thread gets its own CPU number (the
/// first thread of a test is CPU 0 unless [`TestHost::set_cpu`] says otherwise).
pub struct TestHost {
    cpus: u32,
    next_cpu: AtomicU32,
    seed: AtomicU32,
    fds: Mutex<Vec<(FdKind, Arc<dyn FdObject>)>>,
}

std::thread_local! {
    static CPU: Cell<Option<u32>> = const { Cell::new(None) };
}

impl TestHost {
    /// A host with `cpus` possible CPUs.
    pub fn new(cpus: u32) -> Arc<TestHost> {
        Arc::new(TestHost {
            cpus,
            next_cpu: AtomicU32::new(0),
            seed: AtomicU32::new(0x1234_5678),
            fds: Mutex::new(Vec::new()),
        })
    }

    /// The same host as the trait object `create` takes.
    pub fn dyn_host(self: &Arc<Self>) -> Arc<dyn MapHost> {
        self.clone()
    }

    /// Pins the calling thread to `cpu`.
    pub fn set_cpu(&self, cpu: u32) {
        assert!(cpu < self.cpus);
        CPU.with(|c| c.set(Some(cpu)));
    }

    /// Installs `obj` as a new fd of `kind` and returns the fd number.
    pub fn install_fd(&self, kind: FdKind, obj: Arc<dyn FdObject>) -> u32 {
        let mut fds = self.fds.lock().unwrap();
        fds.push((kind, obj));
        (fds.len() - 1) as u32 + 3
    }

    /// Creates a map and installs it as a map fd (for the map-in-map tests).
    pub fn install_map(&self, map: Arc<dyn BpfMap>, id: u32) -> u32 {
        self.install_fd(FdKind::Map, Arc::new(TestObj { id, map: Some(map) }))
    }
}

impl MapHost for TestHost {
    fn possible_cpus(&self) -> u32 {
        self.cpus
    }

    fn current_cpu(&self) -> u32 {
        CPU.with(|c| match c.get() {
            Some(cpu) => cpu,
            None => {
                let cpu = self.next_cpu.fetch_add(1, Ordering::Relaxed) % self.cpus;
                c.set(Some(cpu));
                cpu
            }
        })
    }

    fn random_u32(&self) -> u32 {
        // xorshift; deterministic per host, good enough for seeds in tests.
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed.store(x, Ordering::Relaxed);
        x
    }

    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        MemfdPages::new(pages, repeat_tail, self.page_size()).map(|p| Box::new(p) as Box<dyn SharedPages>)
    }

    fn resolve_fd(&self, kind: FdKind, fd: u32) -> Result<Arc<dyn FdObject>> {
        let fds = self.fds.lock().unwrap();
        let Some(i) = fd.checked_sub(3) else { return err(Errno::EBADF, "not an fd") };
        match fds.get(i as usize) {
            None => err(Errno::EBADF, "not an fd"),
            Some((k, _)) if *k != kind => err(Errno::EINVAL, "fd of the wrong kind"),
            Some((_, o)) => Ok(o.clone()),
        }
    }
}

/// A test object for the fd-holding maps.
pub struct TestObj {
    /// Its id.
    pub id: u32,
    /// The map, for map fds.
    pub map: Option<Arc<dyn BpfMap>>,
}

impl TestObj {
    /// A plain object (program or perf event) with an id.
    pub fn plain(id: u32) -> Arc<dyn FdObject> {
        Arc::new(TestObj { id, map: None })
    }
}

impl FdObject for TestObj {
    fn id(&self) -> u32 {
        self.id
    }
    fn as_map(&self) -> Option<&dyn BpfMap> {
        self.map.as_deref()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `MapAttr` for tests.
pub fn attr(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32, map_flags: u32) -> MapAttr {
    MapAttr { map_type: Some(map_type), key_size, value_size, max_entries, map_flags, ..MapAttr::default() }
}

/// The definition `attr` would give, for comparisons.
pub fn def_of(a: &MapAttr) -> MapDef {
    MapDef::from_attr(a)
}
