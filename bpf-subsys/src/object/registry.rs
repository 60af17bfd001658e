//! Global object ids (Linux's `map_idr`, `prog_idr`, `link_idr`, `btf_idr`): one table per
//! object kind, ids allocated cyclically in `1..INT_MAX` (`idr_alloc_cyclic`), so a freed id is
//! not reused until the counter wraps. Tables hold `Weak`s: the registry never keeps an object
//! alive, and an object removes its id when it is dropped.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};

use spin::Mutex;
use syscall_abi::{err, Errno, Result};

use super::{BpfObject, BtfObj, LinkObj, MapObj, ProgObj};

/// Ids are below `INT_MAX` (Linux allocates in `[1, INT_MAX)`).
const ID_END: u32 = i32::MAX as u32;

/// The kinds of objects with ids; each kind has its own id space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjKind {
    /// Maps (`BPF_MAP_GET_NEXT_ID`).
    Map,
    /// Programs (`BPF_PROG_GET_NEXT_ID`).
    Prog,
    /// Links (`BPF_LINK_GET_NEXT_ID`).
    Link,
    /// BTF objects (`BPF_BTF_GET_NEXT_ID`).
    Btf,
}

/// The id tables of one kernel. A kernel makes one at boot and returns it from
/// [`crate::BpfHost::registry`]; cloning shares it.
#[derive(Clone)]
pub struct Registry {
    tables: Arc<Tables>,
}

/// The four id tables.
pub(crate) struct Tables {
    maps: IdTable<MapObj>,
    progs: IdTable<ProgObj>,
    links: IdTable<LinkObj>,
    btfs: IdTable<BtfObj>,
}

/// One kind's ids.
pub(crate) struct IdTable<T> {
    state: Mutex<IdState<T>>,
}

struct IdState<T> {
    objs: BTreeMap<u32, Weak<T>>,
    /// Where the cyclic search for a free id starts.
    next: u32,
}

impl<T> IdTable<T> {
    fn new() -> Self {
        IdTable { state: Mutex::new(IdState { objs: BTreeMap::new(), next: 1 }) }
    }

    /// Reserves the next free id for `obj` (`idr_alloc_cyclic`); `None` when all are taken.
    fn insert(&self, obj: Weak<T>) -> Option<u32> {
        let mut st = self.state.lock();
        let start = st.next;
        let id = first_free(&st.objs, start, ID_END).or_else(|| first_free(&st.objs, 1, start))?;
        st.next = if id + 1 >= ID_END { 1 } else { id + 1 };
        st.objs.insert(id, obj);
        Some(id)
    }

    fn remove(&self, id: u32) {
        self.state.lock().objs.remove(&id);
    }

    fn get(&self, id: u32) -> Option<Arc<T>> {
        self.state.lock().objs.get(&id).and_then(Weak::upgrade)
    }

    /// The smallest id `>= from` (`idr_get_next`), live or being freed, as Linux reports it.
    fn next_from(&self, from: u32) -> Option<u32> {
        self.state.lock().objs.range(from..).next().map(|(&id, _)| id)
    }

    fn len(&self) -> usize {
        self.state.lock().objs.len()
    }
}

/// The first id in `from..to` not in `objs`.
fn first_free<T>(objs: &BTreeMap<u32, T>, from: u32, to: u32) -> Option<u32> {
    let mut candidate = from;
    for &id in objs.range(from..to).map(|(id, _)| id) {
        if id != candidate {
            break;
        }
        candidate += 1;
    }
    (candidate < to).then_some(candidate)
}

/// An object kind that has an id table.
pub(crate) trait Registered: Sized + Send + Sync + 'static {
    /// Its kind.
    const KIND: ObjKind;
    /// Its table.
    fn table(tables: &Tables) -> &IdTable<Self>;
    /// Its id slot.
    fn slot(&self) -> &IdSlot;
}

macro_rules! registered {
    ($t:ty, $kind:ident, $field:ident) => {
        impl Registered for $t {
            const KIND: ObjKind = ObjKind::$kind;
            fn table(tables: &Tables) -> &IdTable<Self> {
                &tables.$field
            }
            fn slot(&self) -> &IdSlot {
                &self.slot
            }
        }
    };
}

registered!(MapObj, Map, maps);
registered!(ProgObj, Prog, progs);
registered!(LinkObj, Link, links);
registered!(BtfObj, Btf, btfs);

/// An object's id; dropping it (with the object) frees the id.
pub(crate) struct IdSlot {
    tables: Arc<Tables>,
    kind: ObjKind,
    id: u32,
}

impl IdSlot {
    /// The id.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for IdSlot {
    fn drop(&mut self) {
        match self.kind {
            ObjKind::Map => self.tables.maps.remove(self.id),
            ObjKind::Prog => self.tables.progs.remove(self.id),
            ObjKind::Link => self.tables.links.remove(self.id),
            ObjKind::Btf => self.tables.btfs.remove(self.id),
        }
    }
}

impl Registry {
    /// Empty tables; the first id of each kind is 1.
    pub fn new() -> Registry {
        Registry {
            tables: Arc::new(Tables {
                maps: IdTable::new(),
                progs: IdTable::new(),
                links: IdTable::new(),
                btfs: IdTable::new(),
            }),
        }
    }

    /// Builds an object with a fresh id and publishes it (Linux `bpf_map_alloc_id` and
    /// friends). `make` gets the id slot the object must store (its `slot` field) and a weak
    /// reference to the object being built. Ids exhausted → `ENOSPC`.
    pub(crate) fn publish<T: Registered>(&self, make: impl FnOnce(IdSlot, &Weak<T>) -> T) -> Result<Arc<T>> {
        let obj = Arc::new_cyclic(|weak: &Weak<T>| {
            let id = T::table(&self.tables).insert(weak.clone()).unwrap_or(0);
            make(IdSlot { tables: self.tables.clone(), kind: T::KIND, id }, weak)
        });
        if obj.slot().id == 0 {
            return err(Errno::ENOSPC, "object ids exhausted");
        }
        Ok(obj)
    }

    /// The map with this id, if it is alive.
    pub fn map(&self, id: u32) -> Option<Arc<MapObj>> {
        self.tables.maps.get(id)
    }

    /// The program with this id, if it is alive.
    pub fn prog(&self, id: u32) -> Option<Arc<ProgObj>> {
        self.tables.progs.get(id)
    }

    /// The link with this id, if it is alive.
    pub fn link(&self, id: u32) -> Option<Arc<LinkObj>> {
        self.tables.links.get(id)
    }

    /// The BTF object with this id, if it is alive.
    pub fn btf(&self, id: u32) -> Option<Arc<BtfObj>> {
        self.tables.btfs.get(id)
    }

    /// The object of `kind` with this id, if it is alive.
    pub fn get(&self, kind: ObjKind, id: u32) -> Option<BpfObject> {
        match kind {
            ObjKind::Map => self.map(id).map(BpfObject::Map),
            ObjKind::Prog => self.prog(id).map(BpfObject::Prog),
            ObjKind::Link => self.link(id).map(BpfObject::Link),
            ObjKind::Btf => self.btf(id).map(BpfObject::Btf),
        }
    }

    /// The smallest id of `kind` that is `>= from`.
    pub fn next_id(&self, kind: ObjKind, from: u32) -> Option<u32> {
        match kind {
            ObjKind::Map => self.tables.maps.next_from(from),
            ObjKind::Prog => self.tables.progs.next_from(from),
            ObjKind::Link => self.tables.links.next_from(from),
            ObjKind::Btf => self.tables.btfs.next_from(from),
        }
    }

    /// Number of ids of `kind` in use.
    pub fn count(&self, kind: ObjKind) -> usize {
        match kind {
            ObjKind::Map => self.tables.maps.len(),
            ObjKind::Prog => self.tables.progs.len(),
            ObjKind::Link => self.tables.links.len(),
            ObjKind::Btf => self.tables.btfs.len(),
        }
    }

    /// Whether no object of any kind exists.
    pub fn is_empty(&self) -> bool {
        [ObjKind::Map, ObjKind::Prog, ObjKind::Link, ObjKind::Btf].iter().all(|&k| self.count(k) == 0)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cyclic_and_wrap_below_int_max() {
        let t: IdTable<u8> = IdTable::new();
        assert_eq!(t.insert(Weak::new()), Some(1));
        assert_eq!(t.insert(Weak::new()), Some(2));
        t.remove(1);
        // Not reused while the counter has not wrapped.
        assert_eq!(t.insert(Weak::new()), Some(3));
        t.state.lock().next = ID_END - 1;
        assert_eq!(t.insert(Weak::new()), Some(ID_END - 1));
        // Wraps to the lowest free id (1 was freed above).
        assert_eq!(t.insert(Weak::new()), Some(1));
        assert_eq!(t.insert(Weak::new()), Some(4));
        assert_eq!(t.next_from(5), Some(ID_END - 1));
        assert_eq!(t.next_from(ID_END), None);
    }

    #[test]
    fn first_free_skips_runs() {
        let mut m = BTreeMap::new();
        for id in [1u32, 2, 3, 5] {
            m.insert(id, ());
        }
        assert_eq!(first_free(&m, 1, 10), Some(4));
        assert_eq!(first_free(&m, 5, 10), Some(6));
        assert_eq!(first_free(&m, 1, 4), None);
    }
}
