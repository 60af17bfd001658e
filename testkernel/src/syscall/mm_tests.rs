//! Host tests of the mm system calls: Linux's errno for each bad argument, and the effects.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;

use super::*;
use crate::fs::file::{FileOps, FrameSource, OpenFile, O_RDWR, O_WRONLY};
use crate::fs::inode::Metadata;
use crate::mm::fake::{FakeFrames, FakeMapper};
use crate::mm::vma::MMAP_BASE;

const R: u64 = 1;
const RW: u64 = 3;
const P: u64 = map::PRIVATE;
const A: u64 = map::ANONYMOUS;
const PG: u64 = PAGE_SIZE;

/// A regular file: private copies.
struct RegFile(Vec<u8>);

impl FileOps for RegFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let off = usize::try_from(offset).unwrap_or(usize::MAX).min(self.0.len());
        let n = buf.len().min(self.0.len() - off);
        buf[..n].copy_from_slice(&self.0[off..off + n]);
        Ok(n)
    }
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn mmap(&self, _f: &OpenFile, _off: u64, _len: u64, _prot: u32, _flags: u32) -> KResult<MmapBacking> {
        Ok(MmapBacking::PrivateCopy)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A file without `mmap` (pipes, directories...).
struct NoMmap;

impl FileOps for NoMmap {
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Device frames; page 1 read-only.
struct Frames(Vec<u64>);

impl FrameSource for Frames {
    fn frame(&self, index: u64) -> Option<u64> {
        self.0.get(usize::try_from(index).ok()?).copied()
    }
    fn writable(&self, index: u64) -> bool {
        index != 1
    }
}

struct DevFile(Arc<Frames>);

impl FileOps for DevFile {
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn mmap(&self, _f: &OpenFile, _off: u64, _len: u64, _prot: u32, _flags: u32) -> KResult<MmapBacking> {
        Ok(MmapBacking::Frames(self.0.clone()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Env {
    a: Mutex<AddressSpace>,
    files: Mutex<FdTable>,
    frames: &'static FakeFrames,
    /// fds: 0 regular O_RDONLY, 1 regular O_WRONLY, 2 regular O_RDWR, 3 no mmap, 4 device
    /// O_RDWR (2 frames), 5 device O_RDONLY.
    data: Vec<u8>,
}

fn env() -> Env {
    let frames = FakeFrames::leak();
    let data: Vec<u8> = (0..3 * 4096u32).map(|i| (i / 7) as u8).collect();
    let mut t = FdTable::new();
    let reg: Arc<dyn FileOps> = Arc::new(RegFile(data.clone()));
    t.install(OpenFile::new(reg.clone(), 0, String::from("/f")), false).unwrap();
    t.install(OpenFile::new(reg.clone(), O_WRONLY, String::from("/f")), false).unwrap();
    t.install(OpenFile::new(reg, O_RDWR, String::from("/f")), false).unwrap();
    t.install(OpenFile::new(Arc::new(NoMmap), O_RDWR, String::from("pipe:[1]")), false).unwrap();
    let dev = Arc::new(Frames(vec![frames.device_frame(0xaa), frames.device_frame(0xbb)]));
    t.install(OpenFile::new(Arc::new(DevFile(dev.clone())), O_RDWR, String::from("anon_inode:bpf-map")), false)
        .unwrap();
    t.install(OpenFile::new(Arc::new(DevFile(dev)), 0, String::from("anon_inode:bpf-map")), false).unwrap();
    Env { a: Mutex::new(AddressSpace::new(FakeMapper::boxed().0, frames)), files: Mutex::new(t), frames, data }
}

impl Env {
    fn mmap(&self, addr: u64, len: u64, prot: u64, flags: u64, fd: i32, off: u64) -> KResult<u64> {
        sys_mmap(&self.a, &self.files, addr, len, prot, flags, fd, off)
    }
    fn read(&self, addr: u64, n: usize) -> KResult<Vec<u8>> {
        let mut b = vec![0u8; n];
        self.a.lock().read_user(addr, &mut b).map(|_| b)
    }
    fn write(&self, addr: u64, b: &[u8]) -> KResult<()> {
        self.a.lock().write_user(addr, b)
    }
}

/// name, addr, len, prot, flags, fd, offset, expected errno.
type Case = (&'static str, u64, u64, u64, u64, i32, u64, Errno);

#[test]
fn mmap_rejects_bad_arguments_with_linux_errnos() {
    let e = env();
    let fixed = e.mmap(0x1000_0000, PG, RW, P | A, -1, 0).unwrap();
    let cases: &[Case] = &[
        ("unaligned offset", 0, PG, R, P, 0, 100, Errno::EINVAL),
        ("unaligned offset before EBADF", 0, PG, R, P, 99, 1, Errno::EINVAL),
        ("bad fd", 0, PG, R, P, 99, 0, Errno::EBADF),
        ("negative fd", 0, PG, R, P, -1, 0, Errno::EBADF),
        ("len 0 anon", 0, 0, R, P | A, -1, 0, Errno::EINVAL),
        ("len 0 file", 0, 0, R, P, 0, 0, Errno::EINVAL),
        ("len overflows", 0, u64::MAX, R, P | A, -1, 0, Errno::ENOMEM),
        ("len past TASK_SIZE", 0, 1 << 48, R, P | A, -1, 0, Errno::ENOMEM),
        ("no type anon", 0, PG, R, A, -1, 0, Errno::EINVAL),
        ("no type file", 0, PG, R, 0, 0, 0, Errno::EINVAL),
        ("type 4", 0, PG, R, 4 | A, -1, 0, Errno::EINVAL),
        ("MAP_PRIVATE|MAP_SHARED anon", 0, PG, R, P | map::SHARED | A, -1, 0, Errno::EINVAL),
        ("growsdown file", 0, PG, R, P | map::GROWSDOWN, 0, 0, Errno::EINVAL),
        ("type 15 file", 0, PG, R, 15, 0, 0, Errno::EINVAL),
        ("pgoff overflow", 0, 2 * PG, R, P, 0, !(PG - 1), Errno::EOVERFLOW),
        ("fixed unaligned", 0x1000_0100, PG, R, P | A | map::FIXED, -1, 0, Errno::EINVAL),
        ("fixed past TASK_SIZE", TASK_SIZE, PG, R, P | A | map::FIXED, -1, 0, Errno::ENOMEM),
        ("noreplace taken", fixed, PG, R, P | A | map::FIXED_NOREPLACE, -1, 0, Errno::EEXIST),
        ("write-only fd", 0, PG, R, P, 1, 0, Errno::EACCES),
        ("shared write on read-only fd", 0, PG, RW, map::SHARED, 0, 0, Errno::EACCES),
        ("shared_validate unknown flag", 0, PG, R, map::SHARED_VALIDATE | map::SYNC, 0, 0, Errno::EOPNOTSUPP),
        ("shared_validate noreplace", 0, PG, R, map::SHARED_VALIDATE | map::FIXED_NOREPLACE, 0, 0, Errno::EOPNOTSUPP),
        ("shared writable file copy", 0, PG, RW, map::SHARED, 2, 0, Errno::ENODEV),
        ("file without mmap", 0, PG, R, P, 3, 0, Errno::ENODEV),
        ("hugetlb anon", 0, PG, R, P | A | map::HUGETLB, -1, 0, Errno::ENOMEM),
        ("hugetlb file", 0, PG, R, P | map::HUGETLB, 0, 0, Errno::EINVAL),
        ("shared anon growsdown", 0, PG, RW, map::SHARED | A | map::GROWSDOWN, -1, 0, Errno::EINVAL),
        ("device past its frames", 0, 3 * PG, R, map::SHARED, 4, 0, Errno::EINVAL),
        ("device offset past its frames", 0, PG, R, map::SHARED, 4, 2 * PG, Errno::EINVAL),
        ("device write on read-only page", 0, 2 * PG, RW, map::SHARED, 4, 0, Errno::EPERM),
        ("device shared write on read-only fd", 0, PG, RW, map::SHARED, 5, 0, Errno::EACCES),
    ];
    for &(name, addr, len, prot, flags, fd, off, errno) in cases {
        assert_eq!(e.mmap(addr, len, prot, flags, fd, off), Err(errno), "{name}");
    }
    // Nothing was mapped by the failures.
    assert_eq!(e.a.lock().vmas().count(), 1);
}

#[test]
fn mmap_places_anonymous_file_and_device_memory() {
    let e = env();
    let a = e.mmap(0, 3 * PG, RW, P | A, -1, 0).unwrap();
    assert_eq!(a, MMAP_BASE - 3 * PG);
    assert_eq!(e.read(a, 4).unwrap(), [0; 4]);
    // A low hint is raised to mmap_min_addr.
    assert_eq!(e.mmap(0x1000, PG, R, P | A, -1, 0), Ok(MMAP_MIN_ADDR));
    // Unaligned hints are rounded down; unknown high flag bits are ignored for MAP_PRIVATE.
    assert_eq!(e.mmap(0x2000_0123, PG, R, P | A | (1 << 40), -1, 0), Ok(0x2000_0000));
    // MAP_32BIT: bottom-up from 1 GiB.
    assert_eq!(e.mmap(0, PG, R, P | A | map::BIT32, -1, 0), Ok(0x4000_0000));
    assert_eq!(e.mmap(0, PG, R, P | A | map::BIT32, -1, 0), Ok(0x4000_1000));
    assert_eq!(e.mmap(0x7fff_f000, 2 * PG, R, P | A | map::BIT32, -1, 0), Ok(0x4000_2000), "hint past 2 GiB");
    assert_eq!(e.mmap(0, 1 << 31, R, P | A | map::BIT32, -1, 0), Err(Errno::ENOMEM));
    // File-private: the file's bytes from the offset; writes stay private.
    let f = e.mmap(0, 2 * PG, RW, P, 0, PG).unwrap();
    assert_eq!(e.read(f, 8).unwrap(), e.data[4096..4104]);
    e.write(f, b"mine").unwrap();
    assert_eq!(e.read(f, 4).unwrap(), b"mine");
    // Shared read-only file copy: allowed, but never writable.
    let s = e.mmap(0, PG, R, map::SHARED, 2, 0).unwrap();
    assert_eq!(e.read(s, 3).unwrap(), e.data[..3]);
    assert_eq!(sys_mprotect(&e.a, s, PG, RW), Err(Errno::EACCES));
    // Device: shared frames, read-only page refuses PROT_WRITE through mprotect too.
    let d = e.mmap(0, 2 * PG, R, map::SHARED, 4, 0).unwrap();
    assert_eq!(e.read(d + PG, 1).unwrap(), [0xbb]);
    assert_eq!(sys_mprotect(&e.a, d, PG, RW), Err(Errno::EACCES));
    let d1 = e.mmap(0, PG, RW, map::SHARED, 4, 0).unwrap();
    e.write(d1, b"x").unwrap();
    assert_eq!(e.read(d, 1).unwrap(), b"x", "two mappings of one device frame");
    // MAP_POPULATE faults the pages in at once.
    let before = e.frames.live();
    e.mmap(0, 4 * PG, RW, P | A | map::POPULATE, -1, 0).unwrap();
    assert_eq!(e.frames.live(), before + 4);
    e.mmap(0, 2 * PG, RW, P | A | map::POPULATE | map::NONBLOCK, -1, 0).unwrap();
    assert_eq!(e.frames.live(), before + 4, "MAP_NONBLOCK cancels MAP_POPULATE");
    e.mmap(0, 2 * PG, RW, P | A | map::LOCKED, -1, 0).unwrap();
    assert_eq!(e.frames.live(), before + 6, "MAP_LOCKED populates");
    assert!(e.a.lock().maps_text().contains("rw-s 00000000 00:00 0"));
}

#[test]
fn shared_anonymous_memory_is_shared_with_the_fork_child() {
    let e = env();
    let s = e.mmap(0, PG, RW, map::SHARED | A, -1, 0).unwrap();
    let p = e.mmap(0, PG, RW, P | A, -1, 0).unwrap();
    let child = Mutex::new(e.a.lock().fork_copy(FakeMapper::boxed().0).unwrap());
    child.lock().write_user(s, b"from child").unwrap();
    child.lock().write_user(p, b"private").unwrap();
    assert_eq!(e.read(s, 10).unwrap(), b"from child");
    assert_eq!(e.read(p, 7).unwrap(), [0; 7]);
    assert!(e.a.lock().maps_text().contains("rw-s 00000000 00:01 0"));
}

#[test]
fn munmap_and_mprotect_validate_like_linux() {
    let e = env();
    let a = e.mmap(0, 4 * PG, RW, P | A, -1, 0).unwrap();
    assert_eq!(sys_munmap(&e.a, a + 1, PG), Err(Errno::EINVAL));
    assert_eq!(sys_munmap(&e.a, a, 0), Err(Errno::EINVAL));
    assert_eq!(sys_munmap(&e.a, TASK_SIZE, PG), Err(Errno::EINVAL));
    assert_eq!(sys_munmap(&e.a, a, u64::MAX), Err(Errno::EINVAL));
    assert_eq!(sys_munmap(&e.a, 0x1000_0000, PG), Ok(0), "nothing mapped there: fine");
    assert_eq!(sys_munmap(&e.a, a + 3 * PG, 1), Ok(0), "length rounds up");
    assert_eq!(e.read(a + 3 * PG, 1), Err(Errno::EFAULT));

    assert_eq!(sys_mprotect(&e.a, a + 1, PG, R), Err(Errno::EINVAL));
    assert_eq!(sys_mprotect(&e.a, 0x1000_0000, 0, R), Ok(0), "len 0 succeeds even unmapped");
    assert_eq!(sys_mprotect(&e.a, a, PG, 0x10), Err(Errno::EINVAL));
    assert_eq!(sys_mprotect(&e.a, a, PG, R | PROT_SEM), Ok(0));
    assert_eq!(sys_mprotect(&e.a, a, PG, R | PROT_GROWSDOWN | PROT_GROWSUP), Err(Errno::EINVAL));
    assert_eq!(sys_mprotect(&e.a, a, PG, R | PROT_GROWSDOWN), Err(Errno::EINVAL), "not a stack");
    assert_eq!(sys_mprotect(&e.a, a, u64::MAX, R), Err(Errno::ENOMEM));
    assert_eq!(sys_mprotect(&e.a, 0x1000_0000, PG, R), Err(Errno::ENOMEM));
    assert_eq!(sys_mprotect(&e.a, a, 4 * PG, R), Err(Errno::ENOMEM), "hole at the end");
    assert_eq!(sys_mprotect(&e.a, a + PG, PG, 0), Ok(0));
    assert_eq!(e.a.lock().handle_fault(a + PG, false, false), Err(crate::mm::Fault::Protection));
    assert_eq!(sys_mprotect(&e.a, a + PG, PG, RW), Ok(0));
    e.write(a + PG, b"ok").unwrap();
}

#[test]
fn mremap_validates_and_moves() {
    let e = env();
    let a = e.mmap(0x1000_0000, 2 * PG, RW, P | A, -1, 0).unwrap();
    e.write(a, b"keep").unwrap();
    let m = MREMAP_MAYMOVE;
    assert_eq!(sys_mremap(&e.a, a, PG, PG, 8, 0), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, PG, PG, MREMAP_FIXED, 0x3000_0000), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, PG, 2 * PG, m | MREMAP_DONTUNMAP, 0), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, PG, PG, MREMAP_DONTUNMAP, 0), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a + 1, PG, PG, 0, 0), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, PG, 0, 0, 0), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, PG, PG, m | MREMAP_FIXED, 0x3000_0001), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, PG, PG, m | MREMAP_FIXED, a), Err(Errno::EINVAL), "overlap");
    assert_eq!(sys_mremap(&e.a, a, PG, PG, m | MREMAP_FIXED, TASK_SIZE), Err(Errno::EINVAL));
    assert_eq!(sys_mremap(&e.a, a, 0, PG, m, 0), Err(Errno::EINVAL), "old_len 0 of a private area");
    assert_eq!(sys_mremap(&e.a, 0x5000_0000, PG, PG, 0, 0), Ok(0x5000_0000), "same size: Linux checks nothing");
    assert_eq!(sys_mremap(&e.a, 0x5000_0000, PG, 2 * PG, m, 0), Err(Errno::EFAULT));
    assert_eq!(sys_mremap(&e.a, a, 3 * PG, 4 * PG, m, 0), Err(Errno::EFAULT), "spans past the area");
    // Grow in place, then move by force.
    assert_eq!(sys_mremap(&e.a, a, 2 * PG, 3 * PG, 0, 0), Ok(a));
    e.mmap(a + 3 * PG, PG, R, P | A | map::FIXED, -1, 0).unwrap();
    assert_eq!(sys_mremap(&e.a, a, 3 * PG, 5 * PG, 0, 0), Err(Errno::ENOMEM));
    let b = sys_mremap(&e.a, a, 3 * PG, 5 * PG, m, 0).unwrap();
    assert_eq!(e.read(b, 4).unwrap(), b"keep");
    assert_eq!(e.read(a, 1), Err(Errno::EFAULT));
    // DONTUNMAP: contents move, the old range stays mapped and reads zero.
    let c = sys_mremap(&e.a, b, PG, PG, m | MREMAP_DONTUNMAP, 0).unwrap();
    assert_ne!(c, b);
    assert_eq!(e.read(c, 4).unwrap(), b"keep");
    assert_eq!(e.read(b, 4).unwrap(), [0; 4]);
    assert_eq!(sys_mremap(&e.a, c, PG, PG, m | MREMAP_DONTUNMAP, 0x6000_0001), Err(Errno::EINVAL), "unaligned hint");
    assert_eq!(sys_mremap(&e.a, c, PG, PG, m | MREMAP_DONTUNMAP, c), Err(Errno::EINVAL), "hint overlaps");
    let d = e.mmap(0, PG, R, map::SHARED, 4, 0).unwrap();
    assert_eq!(sys_mremap(&e.a, d, PG, PG, m | MREMAP_DONTUNMAP, 0), Err(Errno::EINVAL), "device (PFNMAP)");
    assert_eq!(sys_mremap(&e.a, d, PG, 2 * PG, m, 0), Err(Errno::EFAULT), "device areas never grow");
    // old_len 0 on shared memory: a second view of the same pages.
    let s = e.mmap(0, PG, RW, map::SHARED | A, -1, 0).unwrap();
    e.write(s, b"dup").unwrap();
    let s2 = sys_mremap(&e.a, s, 0, PG, m, 0).unwrap();
    assert_eq!(e.read(s2, 3).unwrap(), b"dup");
}

#[test]
fn brk_returns_the_old_break_on_failure() {
    let e = env();
    e.a.lock().set_brk_start(0x40_0000);
    assert_eq!(sys_brk(&e.a, 0), Ok(0x40_0000));
    assert_eq!(sys_brk(&e.a, 0x40_1234), Ok(0x40_1234));
    assert_eq!(sys_brk(&e.a, u64::MAX), Ok(0x40_1234));
    assert_eq!(sys_brk(&e.a, TASK_SIZE + 1), Ok(0x40_1234));
    assert_eq!(sys_brk(&e.a, 0x3f_0000), Ok(0x40_1234));
    e.write(0x40_1000, b"heap").unwrap();
}

#[test]
fn madvise_validates_and_discards() {
    let e = env();
    let a = e.mmap(0x1000_0000, 2 * PG, RW, P | A, -1, 0).unwrap();
    let f = e.mmap(0x2000_0000, PG, RW, P, 0, 0).unwrap();
    let d = e.mmap(0x3000_0000, PG, R, map::SHARED, 4, 0).unwrap();
    for bad in [5, 6, 7, 26, 100, 101, -1] {
        assert_eq!(sys_madvise(&e.a, a, PG, bad), Err(Errno::EINVAL), "advice {bad}");
    }
    assert_eq!(sys_madvise(&e.a, a + 1, PG, madv::DONTNEED), Err(Errno::EINVAL));
    assert_eq!(sys_madvise(&e.a, a, u64::MAX, madv::DONTNEED), Err(Errno::EINVAL));
    assert_eq!(sys_madvise(&e.a, 0x5000_0000, 0, madv::DONTNEED), Ok(0));
    assert_eq!(sys_madvise(&e.a, 0x5000_0000, PG, madv::NORMAL), Err(Errno::ENOMEM));
    assert_eq!(sys_madvise(&e.a, a, 2 * PG, madv::WILLNEED), Ok(0));
    e.write(a, b"gone").unwrap();
    assert_eq!(sys_madvise(&e.a, a, PG, madv::DONTNEED), Ok(0));
    assert_eq!(e.read(a, 4).unwrap(), [0; 4]);
    e.write(a + PG, b"free").unwrap();
    assert_eq!(sys_madvise(&e.a, a + PG, PG, madv::FREE), Ok(0));
    assert_eq!(e.read(a + PG, 4).unwrap(), [0; 4]);
    assert_eq!(sys_madvise(&e.a, f, PG, madv::FREE), Err(Errno::EINVAL), "MADV_FREE is anonymous-only");
    assert_eq!(sys_madvise(&e.a, d, PG, madv::DONTNEED), Err(Errno::EINVAL), "device (PFNMAP)");
    assert_eq!(sys_madvise(&e.a, f, PG, madv::WIPEONFORK), Err(Errno::EINVAL));
    assert_eq!(sys_madvise(&e.a, a, PG, madv::REMOVE), Err(Errno::EINVAL));
    assert_eq!(sys_madvise(&e.a, f, PG, madv::REMOVE), Err(Errno::EACCES));
    assert_eq!(sys_madvise(&e.a, a, 3 * PG, madv::DONTNEED), Err(Errno::ENOMEM), "hole after the area");
    assert_eq!(sys_mprotect(&e.a, a, PG, R), Ok(0));
    assert_eq!(sys_madvise(&e.a, a, PG, madv::POPULATE_WRITE), Err(Errno::EFAULT));
    assert_eq!(sys_madvise(&e.a, a, PG, madv::POPULATE_READ), Ok(0));
    assert_eq!(sys_madvise(&e.a, a, 3 * PG, madv::POPULATE_READ), Err(Errno::ENOMEM));
    // DONTFORK: the child does not get the area.
    assert_eq!(sys_madvise(&e.a, a + PG, PG, madv::DONTFORK), Ok(0));
    let mut child = e.a.lock().fork_copy(FakeMapper::boxed().0).unwrap();
    let mut b = [0u8; 1];
    assert_eq!(child.read_user(a + PG, &mut b), Err(Errno::EFAULT));
    assert_eq!(child.read_user(a, &mut b), Ok(()));
}

#[test]
fn msync_and_mlock_validate_and_report_holes() {
    let e = env();
    let a = e.mmap(0x1000_0000, 2 * PG, RW, P | A, -1, 0).unwrap();
    assert_eq!(sys_msync(&e.a, a, PG, 8), Err(Errno::EINVAL));
    assert_eq!(sys_msync(&e.a, a + 1, PG, MS_SYNC), Err(Errno::EINVAL));
    assert_eq!(sys_msync(&e.a, a, PG, MS_SYNC | MS_ASYNC), Err(Errno::EINVAL));
    assert_eq!(sys_msync(&e.a, a, 2 * PG, MS_SYNC | MS_INVALIDATE), Ok(0));
    assert_eq!(sys_msync(&e.a, a, 3 * PG, MS_ASYNC), Err(Errno::ENOMEM));
    assert_eq!(sys_msync(&e.a, a, 0, MS_ASYNC), Ok(0));
    assert_eq!(sys_msync(&e.a, a, u64::MAX, MS_ASYNC), Ok(0), "length rounds to 0 like Linux");
    assert_eq!(sys_mlock(&e.a, a + 5, PG), Ok(0));
    assert_eq!(sys_mlock(&e.a, a, 3 * PG), Err(Errno::ENOMEM));
    assert_eq!(sys_mlock(&e.a, a, u64::MAX), Ok(0), "length wraps to 0 like Linux");
    assert_eq!(sys_mlock(&e.a, a, u64::MAX - 2 * PG), Err(Errno::EINVAL), "end wraps");
    assert_eq!(sys_mlock2(&e.a, a, PG, 2), Err(Errno::EINVAL));
    assert_eq!(sys_mlock2(&e.a, a, PG, MLOCK_ONFAULT), Ok(0));
    assert_eq!(sys_munlock(&e.a, a, 2 * PG), Ok(0));
    assert_eq!(sys_mlockall(0), Err(Errno::EINVAL));
    assert_eq!(sys_mlockall(MCL_ONFAULT), Err(Errno::EINVAL));
    assert_eq!(sys_mlockall(8), Err(Errno::EINVAL));
    assert_eq!(sys_mlockall(MCL_CURRENT | MCL_FUTURE), Ok(0));
    assert_eq!(sys_munlockall(), Ok(0));
}
