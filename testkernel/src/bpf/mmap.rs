//! `mmap` of a map fd: which maps may be mapped, how, and the frames the mapping shows.
//!
//! Reference: Linux 6.1 mm/mmap.c `do_mmap` (for a file mapping: `MAP_SHARED` with
//! `PROT_WRITE` on a file not open for writing → `EACCES`; a file not open for reading →
//! `EACCES`; a shared mapping of a read-only file loses `VM_SHARED`), kernel/bpf/syscall.c
//! `bpf_map_mmap` (no `map_mmap` or a spin lock in the value → `ENOTSUPP`; not `VM_SHARED` →
//! `EINVAL`; writable: frozen → `EPERM`, `BPF_F_RDONLY_PROG` → `EACCES`; a writable mapping
//! counts in `writecnt` until unmapped), kernel/bpf/arraymap.c `array_map_mmap` (needs
//! `BPF_F_MMAPABLE`, else `EINVAL`; must end within the page-rounded values) and
//! kernel/bpf/ringbuf.c `ringbuf_map_mmap` (`maps::RingBuf::check_mmap`).
//!
//! The [`MapFrames`] returned holds the map and, for a writable mapping, the map's
//! [`WritableMapping`]: both live as long as the memory code keeps the mapping's
//! `FrameSource` (every VMA made from it, across `fork` and splits), so `BPF_MAP_FREEZE` is
//! `EBUSY` meanwhile and the frames cannot be freed under the mapping.

use alloc::sync::Arc;
use alloc::vec::Vec;

use bpf_subsys::object::{MapObj, WritableMapping};
use maps::RingBuf;
use syscall_abi::bpf::{MapType, BPF_F_MMAPABLE};
use syscall_abi::Errno;

use super::shared::KernelShared;
use crate::fs::file::FrameSource;
use crate::fs::{MmapBacking, OpenFile};
use crate::mm::PAGE_SIZE;
use crate::KResult;

/// `PROT_WRITE`.
const PROT_WRITE: u32 = 0x2;
/// `MAP_TYPE`: the sharing type bits of the `mmap` flags.
const MAP_TYPE: u32 = 0x0f;
/// `MAP_SHARED`.
const MAP_SHARED: u32 = 0x01;
/// `MAP_SHARED_VALIDATE`.
const MAP_SHARED_VALIDATE: u32 = 0x03;

/// The frames one `mmap` of a map shows. Indexes are file pages (`FrameSource` numbering,
/// what the memory code asks for: the mapping's page offset plus the page within it); only
/// the mapped range answers.
pub struct MapFrames {
    /// File page of `frames[0]`.
    first: u64,
    frames: Vec<u64>,
    /// Pages user space may write (a ring buffer's consumer page, a writable array mapping).
    writable: bool,
    _map: Arc<MapObj>,
    _writable: Option<WritableMapping>,
}

impl FrameSource for MapFrames {
    fn frame(&self, index: u64) -> Option<u64> {
        let i = usize::try_from(index.checked_sub(self.first)?).ok()?;
        self.frames.get(i).copied()
    }

    fn writable(&self, index: u64) -> bool {
        self.writable && self.frame(index).is_some()
    }
}

/// `mmap(file of map m, offset, len, prot, flags)`; `offset` is page aligned and `len` a
/// whole number of pages (the memory code checked both).
pub fn mmap_map(
    m: &Arc<MapObj>,
    file: &OpenFile,
    offset: u64,
    len: u64,
    prot: u32,
    flags: u32,
) -> KResult<MmapBacking> {
    // do_mmap, before the file's mmap: access mode checks.
    let shared = matches!(flags & MAP_TYPE, MAP_SHARED | MAP_SHARED_VALIDATE);
    let writable = prot & PROT_WRITE != 0;
    if shared && writable && !file.writable() {
        return Err(Errno::EACCES);
    }
    if !file.readable() {
        return Err(Errno::EACCES);
    }
    let vm_shared = shared && file.writable();

    // bpf_map_mmap.
    let def = m.map().def();
    if !matches!(def.map_type, MapType::Array | MapType::Ringbuf) || def.spin_lock_off.is_some() {
        return Err(Errno::ENOTSUPP);
    }
    if !vm_shared {
        return Err(Errno::EINVAL);
    }
    let guard = if writable { Some(m.writable_mapping().map_err(|e| e.errno)?) } else { None };

    // The map type's map_mmap.
    let first = offset / PAGE_SIZE;
    let count = len / PAGE_SIZE;
    if def.map_type == MapType::Ringbuf {
        let rb = m.map().as_any().downcast_ref::<RingBuf>().ok_or(Errno::ENOTSUPP)?;
        rb.check_mmap(first, len, writable).map_err(|e| e.errno)?;
    } else if def.map_flags & BPF_F_MMAPABLE == 0 {
        return Err(Errno::EINVAL);
    }
    let shared_pages = m.map().shared_pages().ok_or(Errno::EINVAL)?;
    let Some(pages) = shared_pages.as_any().downcast_ref::<KernelShared>() else {
        log::error!("bpf: map {} has shared pages not made by this kernel", m.id());
        return Err(Errno::ENODEV);
    };
    if def.map_type == MapType::Array && first.checked_add(count).is_none_or(|end| end > pages_u64(pages)) {
        // array_map_mmap: past PAGE_ALIGN(max_entries * elem_size).
        return Err(Errno::EINVAL);
    }
    let frames = (first..first.saturating_add(count))
        .map(|p| usize::try_from(p).ok().and_then(|p| pages.frame(p)))
        .collect::<Option<Vec<u64>>>()
        .ok_or(Errno::EINVAL)?;
    Ok(MmapBacking::Frames(Arc::new(MapFrames { first, frames, writable, _map: m.clone(), _writable: guard })))
}

/// The mappable pages of an array's values.
fn pages_u64(pages: &KernelShared) -> u64 {
    u64::try_from(maps::SharedPages::pages(pages)).unwrap_or(0)
}
