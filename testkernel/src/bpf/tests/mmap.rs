//! `mmap` of map fds: the frames, Linux's errno table, and the writable-mapping count that
//! `BPF_MAP_FREEZE` checks.

use std::sync::Arc;

use bpf_subsys::object::BpfObject;
use maps::RingBuf;
use syscall_abi::bpf::{
    Cmd, GetIdAttr, MapElemAttr, MapType, BPF_ANY, BPF_F_MMAPABLE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY,
};
use syscall_abi::Errno;

use super::maps_and_progs::load_prog;
use super::{u32b, u64b, T};
use crate::fs::file::FrameSource;
use crate::fs::{MmapBacking, PollEvents};

const R: u32 = 1; // PROT_READ
const RW: u32 = 3; // PROT_READ | PROT_WRITE
const SHARED: u32 = 1; // MAP_SHARED
const PRIVATE: u32 = 2; // MAP_PRIVATE
const VALIDATE: u32 = 3; // MAP_SHARED_VALIDATE

fn mmap(t: &T, fd: i32, offset: u64, len: u64, prot: u32, flags: u32) -> Result<Arc<dyn FrameSource>, Errno> {
    let f = t.file(fd);
    match f.ops.mmap(&f, offset, len, prot, flags)? {
        MmapBacking::Frames(src) => Ok(src),
        MmapBacking::PrivateCopy => panic!("a map mmap must map frames"),
    }
}

fn base_of(t: &T, fd: i32) -> u64 {
    let BpfObject::Map(m) = t.object(fd) else { panic!("not a map") };
    m.map().shared_pages().expect("shared pages").as_ptr().as_ptr().expose_provenance() as u64
}

fn freeze(t: &T, fd: i32) -> crate::KResult<u64> {
    t.bpf(Cmd::MapFreeze, &MapElemAttr { map_fd: fd as u32, ..MapElemAttr::ZERO })
}

#[test]
fn mmapable_array_maps_its_value_frames() {
    let t = T::new();
    // 1024 values of 8 bytes: two pages.
    let fd = t.map(MapType::Array, 4, 8, 1024, BPF_F_MMAPABLE);
    assert_eq!(t.update(fd, &u32b(600), &u64b(42), BPF_ANY), Ok(0));
    let base = base_of(&t, fd);
    let src = mmap(&t, fd, 0, 8192, RW, SHARED).unwrap();
    assert_eq!((src.frame(0), src.frame(1), src.frame(2)), (Some(base), Some(base + 4096), None));
    assert!(src.writable(0) && src.writable(1));
    // Frames are numbered by file page (the mapping's page offset + the page within it),
    // and only the mapped range answers.
    let page1 = mmap(&t, fd, 4096, 4096, R, VALIDATE).unwrap();
    assert_eq!((page1.frame(0), page1.frame(1), page1.frame(2)), (None, Some(base + 4096), None));
    assert!(!page1.writable(1), "a read-only mapping never becomes writable");

    // A writable mapping blocks BPF_MAP_FREEZE until it goes.
    assert_eq!(freeze(&t, fd), Err(Errno::EBUSY));
    drop(src);
    assert_eq!(freeze(&t, fd), Ok(0));
    assert_eq!(mmap(&t, fd, 0, 4096, RW, SHARED).err(), Some(Errno::EPERM), "frozen");
    assert!(mmap(&t, fd, 0, 4096, R, SHARED).is_ok());
    drop(page1);
    t.assert_all_freed();
}

#[test]
fn mmap_errno_table() {
    let t = T::new();
    let arr = t.map(MapType::Array, 4, 8, 1024, BPF_F_MMAPABLE);
    let plain = t.map(MapType::Array, 4, 8, 4, 0);
    let hash = t.map(MapType::Hash, 4, 8, 4, 0);
    let percpu = t.map(MapType::PercpuArray, 4, 8, 4, 0);
    let rdonly_prog = t.map(MapType::Array, 4, 8, 4, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
    let id = t.object(arr).id();
    let open = |flags| {
        let a = GetIdAttr { start_id: id, open_flags: flags, ..GetIdAttr::ZERO };
        i32::try_from(t.bpf(Cmd::MapGetFdById, &a).unwrap()).unwrap()
    };
    let (ro, wo) = (open(BPF_F_RDONLY), open(BPF_F_WRONLY));
    let prog = load_prog(&t);
    for (what, fd, offset, len, prot, flags, errno) in [
        ("private mapping", arr, 0, 4096, R, PRIVATE, Errno::EINVAL),
        ("past the values", arr, 4096, 8192, R, SHARED, Errno::EINVAL),
        ("offset past the end", arr, 8192, 4096, R, SHARED, Errno::EINVAL),
        ("not BPF_F_MMAPABLE", plain, 0, 4096, R, SHARED, Errno::EINVAL),
        ("hash has no map_mmap", hash, 0, 4096, R, SHARED, Errno::ENOTSUPP),
        ("percpu array has no map_mmap", percpu, 0, 4096, R, SHARED, Errno::ENOTSUPP),
        ("BPF_F_RDONLY_PROG writable", rdonly_prog, 0, 4096, RW, SHARED, Errno::EACCES),
        ("read-only fd, shared writable", ro, 0, 4096, RW, SHARED, Errno::EACCES),
        ("read-only fd loses VM_SHARED", ro, 0, 4096, R, SHARED, Errno::EINVAL),
        ("write-only fd", wo, 0, 4096, R, SHARED, Errno::EACCES),
        ("program fd", prog, 0, 4096, R, SHARED, Errno::ENODEV),
    ] {
        assert_eq!(mmap(&t, fd, offset, len, prot, flags).err(), Some(errno), "{what}");
    }
    // The read-only-for-programs array maps fine read-only, and the failed writable attempt
    // left no writable mapping behind: freezing works.
    assert!(mmap(&t, rdonly_prog, 0, 4096, R, SHARED).is_ok());
    assert_eq!(freeze(&t, rdonly_prog), Ok(0));
    assert_eq!(freeze(&t, arr), Ok(0));
    t.assert_all_freed();
}

#[test]
fn ring_buffer_mmap_layout_and_poll() {
    let t = T::new();
    // Two data pages: kernel mapping = consumer, producer, data 0, data 1, data 0, data 1.
    let fd = t.map(MapType::Ringbuf, 0, 0, 8192, 0);
    let base = base_of(&t, fd);
    let page = |i: u64| Some(base + i * 4096);
    let consumer = mmap(&t, fd, 0, 4096, RW, SHARED).unwrap();
    assert_eq!((consumer.frame(0), consumer.writable(0)), (page(0), true));
    // libbpf: producer page + twice the data area, read-only.
    let data = mmap(&t, fd, 4096, 4096 + 2 * 8192, R, SHARED).unwrap();
    let frames: Vec<_> = (0..7).map(|i| data.frame(i)).collect();
    assert_eq!(frames, vec![None, page(1), page(2), page(3), page(2), page(3), None]);
    assert!(!data.writable(1));
    assert_eq!(mmap(&t, fd, 4096, 4096, RW, SHARED).err(), Some(Errno::EPERM), "only the consumer page");
    assert_eq!(mmap(&t, fd, 0, 8192, RW, SHARED).err(), Some(Errno::EPERM));
    assert_eq!(mmap(&t, fd, 4096, 4096 + 2 * 8192 + 4096, R, SHARED).err(), Some(Errno::EINVAL));

    // poll: nothing yet; readable once a record is submitted.
    let f = t.ops(fd);
    assert_eq!(f.ops.poll(&f), PollEvents::empty());
    let BpfObject::Map(m) = t.object(fd) else { panic!("not a map") };
    let rb = m.map().as_any().downcast_ref::<RingBuf>().unwrap();
    rb.output(b"hello", 0).unwrap();
    assert_eq!(f.ops.poll(&f), PollEvents::IN | PollEvents::RDNORM);
    // Every fd of one ring buffer waits on the same queue; another ring buffer has its own.
    let id = m.id();
    let again = t.bpf(Cmd::MapGetFdById, &GetIdAttr { start_id: id, ..GetIdAttr::ZERO }).unwrap();
    let f2 = t.ops(i32::try_from(again).unwrap());
    let q1 = f.ops.wait_queue().expect("ring buffers have a wait queue") as *const _;
    assert_eq!(f2.ops.wait_queue().map(|q| q as *const _), Some(q1));
    let other = t.map(MapType::Ringbuf, 0, 0, 4096, 0);
    let f3 = t.ops(other);
    assert_ne!(f3.ops.wait_queue().map(|q| q as *const _), Some(q1));
    assert_eq!(freeze(&t, fd), Err(Errno::EBUSY), "the consumer page is a writable mapping");
    drop((f, f2, f3, m, consumer, data));
    t.assert_all_freed();
}
