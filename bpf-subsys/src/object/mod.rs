//! The object model: maps, programs, links and BTF objects, their global ids, and the
//! references user space holds on them.
//!
//! Lifetime follows Linux: an object lives while an fd, a pin, a link or another object holds
//! it, and is freed when the last holder goes.
//! - Holders are `Arc`s: the kernel's fd table holds [`BpfFile`]s, bpffs holds [`UserRef`]s, a
//!   program holds its maps, a map-in-map holds its inner maps, a link its program.
//! - The [`Registry`] holds only `Weak`s, so it never keeps an object alive; an object removes
//!   its id when it is dropped.
//! - Maps also count *user* references (fds and pins, Linux `usercnt`): when the last one goes
//!   the map's `release_uref` runs (a `prog_array` empties itself, breaking program ↔ array
//!   reference cycles), even if programs still hold the map.

mod btf;
mod fd;
mod link;
mod map;
mod name;
mod prog;
mod registry;
mod stats;

#[cfg(test)]
mod tests;

use alloc::sync::Arc;

pub use btf::BtfObj;
pub use fd::{btf_from_fd, link_from_fd, map_from_fd, prog_from_fd, BpfFile, FdTarget, FileMode, UserRef};
pub use link::{LinkObj, LinkOps};
pub use map::{MapBtf, MapObj, MapSpec, WritableMapping, WriteActive};
pub use name::obj_name_cpy;
pub use prog::{ProgObj, ProgSpec, RunStats};
pub use registry::{ObjKind, Registry};
pub use stats::StatsObj;

/// One bpf object, of any kind (what a bpf fd or a pin refers to).
#[derive(Clone)]
pub enum BpfObject {
    /// A map.
    Map(Arc<MapObj>),
    /// A program.
    Prog(Arc<ProgObj>),
    /// A link.
    Link(Arc<LinkObj>),
    /// A BTF object.
    Btf(Arc<BtfObj>),
    /// A `BPF_ENABLE_STATS` fd's object (no id; every other command treats it as a foreign
    /// file: `EINVAL`).
    Stats(Arc<StatsObj>),
}

impl BpfObject {
    /// The object's kind; `None` for a stats fd's object, which has no id.
    pub fn kind(&self) -> Option<ObjKind> {
        match self {
            BpfObject::Map(_) => Some(ObjKind::Map),
            BpfObject::Prog(_) => Some(ObjKind::Prog),
            BpfObject::Link(_) => Some(ObjKind::Link),
            BpfObject::Btf(_) => Some(ObjKind::Btf),
            BpfObject::Stats(_) => None,
        }
    }

    /// The object's global id (unique among objects of its kind); 0 for a stats fd's object.
    pub fn id(&self) -> u32 {
        match self {
            BpfObject::Map(m) => m.id(),
            BpfObject::Prog(p) => p.id(),
            BpfObject::Link(l) => l.id(),
            BpfObject::Btf(b) => b.id(),
            BpfObject::Stats(_) => 0,
        }
    }

    /// The name Linux gives the anonymous inode of such an fd (`/proc/<pid>/fd/<n>` shows
    /// `anon_inode:<name>`).
    pub fn anon_name(&self) -> &'static str {
        match self {
            BpfObject::Map(_) => "bpf-map",
            BpfObject::Prog(_) => "bpf-prog",
            BpfObject::Link(_) => "bpf_link",
            BpfObject::Btf(_) => "btf",
            BpfObject::Stats(_) => "bpf-stats",
        }
    }

    /// Whether both refer to the same object.
    pub fn same(&self, other: &BpfObject) -> bool {
        match (self, other) {
            (BpfObject::Map(a), BpfObject::Map(b)) => Arc::ptr_eq(a, b),
            (BpfObject::Prog(a), BpfObject::Prog(b)) => Arc::ptr_eq(a, b),
            (BpfObject::Link(a), BpfObject::Link(b)) => Arc::ptr_eq(a, b),
            (BpfObject::Btf(a), BpfObject::Btf(b)) => Arc::ptr_eq(a, b),
            (BpfObject::Stats(a), BpfObject::Stats(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl core::fmt::Debug for BpfObject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}#{}", self.anon_name(), self.id())
    }
}
