//! Host tests of the address space over the fake page table and frames.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;

use syscall_abi::Errno;

use super::*;
use crate::fs::file::{FileOps, FrameSource, OpenFile};
use crate::fs::inode::Metadata;
use crate::mm::fake::{FakeFrames, FakeMapper, FakeTable};
use crate::mm::mapper::PteFlags;
use crate::mm::vma::{Prot, VmaKind, MMAP_BASE, STACK_TOP};
use crate::mm::{Placement, Remap};

const RW: Prot = Prot::READ.union(Prot::WRITE);

fn space() -> (AddressSpace, &'static FakeFrames, FakeTable) {
    let frames = FakeFrames::leak();
    let (m, t) = FakeMapper::boxed();
    (AddressSpace::new(m, frames), frames, t)
}

fn anon(a: &mut AddressSpace, at: u64, pages: u64, prot: Prot) -> u64 {
    a.map(Placement::Fixed(at), pages * PAGE_SIZE, prot, Prot::all(), VmaKind::Anon).unwrap()
}

/// A file whose bytes are `data`.
pub(crate) struct BytesFile(pub Vec<u8>);

impl FileOps for BytesFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let off = usize::try_from(offset).unwrap_or(usize::MAX).min(self.0.len());
        let n = buf.len().min(self.0.len() - off);
        buf[..n].copy_from_slice(&self.0[off..off + n]);
        Ok(n)
    }
    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata { dev: 0x801, ino: 42, size: self.0.len() as u64, ..Default::default() })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Device frames filled with a pattern; page 1 read-only.
pub(crate) struct Dev(pub Vec<u64>);

impl FrameSource for Dev {
    fn frame(&self, index: u64) -> Option<u64> {
        self.0.get(usize::try_from(index).ok()?).copied()
    }
    fn writable(&self, index: u64) -> bool {
        index != 1
    }
}

#[test]
fn anonymous_pages_are_lazy_zeroed_and_mapped_with_the_area_permissions() {
    let (mut a, frames, table) = space();
    let at = anon(&mut a, 0x1000_0000, 4, RW);
    assert_eq!(frames.live(), 0);
    assert_eq!(a.handle_fault(at + 0x1234, false, false), Ok(()));
    assert_eq!(frames.live(), 1);
    assert_eq!(table.lock().get(&(at + 0x1000)).map(|e| e.1), Some(PteFlags::WRITE));
    let mut b = [0xffu8; 8];
    a.read_user(at + 0x1000, &mut b).unwrap();
    assert_eq!(b, [0; 8]);
    // A copy spanning two pages populates the second one too.
    a.write_user(at + 0x1ffc, b"abcdefgh").unwrap();
    assert_eq!(frames.live(), 2);
    let mut c = [0u8; 8];
    a.read_user(at + 0x1ffc, &mut c).unwrap();
    assert_eq!(&c, b"abcdefgh");
    drop(a);
    assert_eq!(frames.live(), 0);
}

#[test]
fn faults_report_unmapped_and_protection() {
    let (mut a, _f, _t) = space();
    let ro = anon(&mut a, 0x2000_0000, 1, Prot::READ);
    let none = anon(&mut a, 0x3000_0000, 1, Prot::empty());
    let x = anon(&mut a, 0x4000_0000, 1, Prot::READ | Prot::EXEC);
    assert_eq!(a.handle_fault(ro, true, false), Err(Fault::Protection));
    assert_eq!(a.handle_fault(ro, false, true), Err(Fault::Protection));
    assert_eq!(a.handle_fault(ro, false, false), Ok(()));
    assert_eq!(a.handle_fault(none, false, false), Err(Fault::Protection));
    assert_eq!(a.handle_fault(x, false, true), Ok(()));
    assert_eq!(a.handle_fault(0x5000_0000, false, false), Err(Fault::Unmapped));
    assert_eq!(a.handle_fault(0, false, false), Err(Fault::Unmapped));
    assert_eq!(a.handle_fault(u64::MAX, false, false), Err(Fault::Unmapped));
    assert_eq!(a.handle_fault(0x8000_0000_0000, false, false), Err(Fault::Unmapped));
}

#[test]
fn user_copies_fault_to_efault() {
    let (mut a, _f, _t) = space();
    let rw = anon(&mut a, 0x1000_0000, 1, RW);
    let ro = anon(&mut a, 0x1000_1000, 1, Prot::READ);
    let m = Mutex::new(a);
    let u = UserSpace(&m);
    assert_eq!(u.write(rw + 4090, b"0123456789"), Err(Errno::EFAULT), "spills into the read-only page");
    // The prefix on the writable page was written, as in Linux.
    let mut b = [0u8; 6];
    u.read(rw + 4090, &mut b).unwrap();
    assert_eq!(&b, b"012345");
    let mut big = [0u8; 16];
    assert_eq!(u.read(ro + 4090, &mut big), Err(Errno::EFAULT), "runs past the last area");
    assert_eq!(u.read(0, &mut big), Err(Errno::EFAULT));
    assert_eq!(u.read(u64::MAX - 3, &mut big), Err(Errno::EFAULT));
    assert_eq!(u.write(ro, b"x"), Err(Errno::EFAULT));
    assert_eq!(u.read(ro, &mut big), Ok(()));
    assert_eq!(crate::user::read_val::<u64>(&u, rw), Ok(u64::from_le_bytes(*b"\0\0\0\0\0\0\0\0")));
    assert_eq!(u.read_cstr(rw + 4090, 100), Err(Errno::ENAMETOOLONG).or(Ok(b"012345".to_vec())));
}

#[test]
fn probe_checks_permissions_without_copying() {
    let (mut a, frames, _t) = space();
    let rw = anon(&mut a, 0x1000_0000, 2, RW);
    let ro = anon(&mut a, 0x1000_2000, 1, Prot::READ);
    assert_eq!(a.probe(rw + 10, 2 * 4096 - 10, true), Ok(()));
    assert_eq!(frames.live(), 2, "probing faults the pages in");
    assert_eq!(a.probe(rw + 4096, 4097, true), Err(Errno::EFAULT), "last byte read-only");
    assert_eq!(a.probe(rw + 4096, 4097, false), Ok(()));
    assert_eq!(a.probe(ro + 4095, 2, false), Err(Errno::EFAULT), "runs off the end");
    assert_eq!(a.probe(u64::MAX, 2, false), Err(Errno::EFAULT));
    assert_eq!(a.probe(0, 0, true), Ok(()), "empty range");
    let m = Mutex::new(a);
    assert_eq!(UserSpace(&m).writable_prefix(ro, 1), 0, "read-only page");
    assert_eq!(UserSpace(&m).writable_prefix(rw + 4096, 4097), 4096, "stops at the read-only page");
}

#[test]
fn fork_copies_private_pages_and_shares_device_frames() {
    let (mut a, frames, _t) = space();
    let p = anon(&mut a, 0x1000_0000, 2, RW);
    a.write_user(p, b"parent").unwrap();
    let dev_pa = frames.device_frame(0xab);
    let file = OpenFile::new(Arc::new(BytesFile(vec![])), 2, String::from("anon_inode:bpf-map"));
    let d = a
        .map(
            Placement::Hint(0),
            PAGE_SIZE,
            RW,
            RW,
            VmaKind::Device { file, source: Arc::new(Dev(vec![dev_pa])), pgoff: 0 },
        )
        .unwrap();
    a.handle_fault(d, true, false).unwrap();
    let live = frames.live();
    let (m2, t2) = FakeMapper::boxed();
    let mut c = a.fork_copy(m2).unwrap();
    assert_eq!(frames.live(), live + 1, "one private page copied, the device frame shared");
    assert_eq!(t2.lock().get(&d).map(|e| e.0), Some(dev_pa));
    let mut b = [0u8; 6];
    c.read_user(p, &mut b).unwrap();
    assert_eq!(&b, b"parent");
    c.write_user(p, b"child!").unwrap();
    a.read_user(p, &mut b).unwrap();
    assert_eq!(&b, b"parent", "the child's write is not seen by the parent");
    // Device memory is shared: a write through the child is seen by the parent.
    c.write_user(d, b"shared").unwrap();
    a.read_user(d, &mut b).unwrap();
    assert_eq!(&b, b"shared");
    // The untouched second page stays lazy in the child.
    assert_eq!(c.resident_pages(), 2);
    drop(c);
    drop(a);
    assert_eq!(frames.live(), 1, "only the device frame is left");
}

#[test]
fn fork_honours_dontfork_and_wipeonfork() {
    let (mut a, frames, _t) = space();
    let p = anon(&mut a, 0x1000_0000, 1, RW);
    let q = anon(&mut a, 0x2000_0000, 1, RW);
    a.write_user(p, b"x").unwrap();
    a.write_user(q, b"y").unwrap();
    a.for_each_area(p, p + PAGE_SIZE, |v| {
        v.dont_fork = true;
        Ok(())
    })
    .unwrap();
    a.for_each_area(q, q + PAGE_SIZE, |v| {
        v.wipe_on_fork = true;
        Ok(())
    })
    .unwrap();
    let mut c = a.fork_copy(FakeMapper::boxed().0).unwrap();
    let mut b = [9u8; 1];
    assert_eq!(c.read_user(p, &mut b), Err(Errno::EFAULT));
    c.read_user(q, &mut b).unwrap();
    assert_eq!(b, [0]);
    drop((a, c));
    assert_eq!(frames.live(), 0);
}

#[test]
fn fork_out_of_memory_releases_everything() {
    let (mut a, frames, _t) = space();
    let p = anon(&mut a, 0x1000_0000, 8, RW);
    a.write_user(p, &[1u8; 8 * 4096]).unwrap();
    frames.limit.store(12, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(a.fork_copy(FakeMapper::boxed().0).err(), Some(Errno::ENOMEM));
    assert_eq!(frames.live(), 8);
    assert_eq!(a.handle_fault(0x2000_0000, false, false), Err(Fault::Unmapped));
    let q = anon(&mut a, 0x2000_0000, 8, RW);
    for i in 0..4 {
        a.handle_fault(q + i * PAGE_SIZE, true, false).unwrap();
    }
    assert_eq!(a.handle_fault(q + 4 * PAGE_SIZE, true, false), Err(Fault::OutOfMemory));
}

#[test]
fn munmap_splits_and_frees() {
    let (mut a, frames, table) = space();
    let p = anon(&mut a, 0x1000_0000, 4, RW);
    a.write_user(p, &[7u8; 4 * 4096]).unwrap();
    assert_eq!(frames.live(), 4);
    a.unmap(p + PAGE_SIZE, 2 * PAGE_SIZE).unwrap();
    assert_eq!(frames.live(), 2);
    let v: Vec<(u64, u64)> = a.vmas().map(|v| (v.start, v.end)).collect();
    assert_eq!(v, vec![(p, p + PAGE_SIZE), (p + 3 * PAGE_SIZE, p + 4 * PAGE_SIZE)]);
    assert!(table.lock().get(&(p + PAGE_SIZE)).is_none());
    assert_eq!(a.handle_fault(p + PAGE_SIZE, false, false), Err(Fault::Unmapped));
    let mut b = [0u8; 1];
    a.read_user(p + 3 * PAGE_SIZE, &mut b).unwrap();
    assert_eq!(b, [7]);
    // Unmapping nothing is fine.
    a.unmap(0x5000_0000, PAGE_SIZE).unwrap();
}

#[test]
fn mprotect_splits_keeps_contents_and_merges_back() {
    let (mut a, _f, table) = space();
    let p = anon(&mut a, 0x1000_0000, 3, RW);
    a.write_user(p, &[5u8; 3 * 4096]).unwrap();
    a.protect(p + PAGE_SIZE, PAGE_SIZE, Prot::READ).unwrap();
    assert_eq!(a.vmas().count(), 3);
    assert_eq!(table.lock().get(&(p + PAGE_SIZE)).map(|e| e.1), Some(PteFlags::empty()));
    assert_eq!(a.write_user(p + PAGE_SIZE, b"x"), Err(Errno::EFAULT));
    a.protect(p + PAGE_SIZE, PAGE_SIZE, Prot::empty()).unwrap();
    assert!(table.lock().get(&(p + PAGE_SIZE)).is_none(), "PROT_NONE pages leave the page table");
    let mut b = [0u8; 1];
    assert_eq!(a.read_user(p + PAGE_SIZE, &mut b), Err(Errno::EFAULT));
    a.protect(p + PAGE_SIZE, PAGE_SIZE, RW).unwrap();
    a.read_user(p + PAGE_SIZE, &mut b).unwrap();
    assert_eq!(b, [5], "contents survive PROT_NONE");
    assert_eq!(a.vmas().count(), 1, "compatible anonymous neighbours merge");
    // A hole: ENOMEM, but the part before it was changed (as Linux).
    assert_eq!(a.protect(p, 4 * PAGE_SIZE, Prot::READ), Err(Errno::ENOMEM));
    assert_eq!(a.vmas().next().map(|v| v.prot), Some(Prot::READ));
    assert_eq!(a.protect(0x7000_0000, PAGE_SIZE, Prot::READ), Err(Errno::ENOMEM));
}

#[test]
fn mremap_moves_grows_and_shrinks() {
    let (mut a, frames, _t) = space();
    let p = anon(&mut a, 0x1000_0000, 2, RW);
    a.write_user(p, b"first").unwrap();
    a.write_user(p + PAGE_SIZE, b"second").unwrap();
    // Blocked above: must move.
    anon(&mut a, p + 2 * PAGE_SIZE, 1, Prot::READ);
    assert_eq!(a.remap(p, 2 * PAGE_SIZE, 4 * PAGE_SIZE, Remap::default()), Err(Errno::ENOMEM));
    let q = a.remap(p, 2 * PAGE_SIZE, 4 * PAGE_SIZE, Remap { may_move: true, ..Remap::default() }).unwrap();
    assert_ne!(q, p);
    assert_eq!(frames.live(), 2, "pages moved, not copied");
    let mut b = [0u8; 6];
    a.read_user(q + PAGE_SIZE, &mut b).unwrap();
    assert_eq!(&b, b"second");
    assert_eq!(a.read_user(p, &mut b), Err(Errno::EFAULT));
    // Grow in place (nothing above q's end within the new size).
    let r = a.remap(q, 4 * PAGE_SIZE, 6 * PAGE_SIZE, Remap::default()).unwrap();
    assert_eq!(r, q);
    // Shrink.
    assert_eq!(a.remap(q, 6 * PAGE_SIZE, PAGE_SIZE, Remap::default()), Ok(q));
    assert_eq!(frames.live(), 1);
    // Fixed destination.
    let dst = 0x3000_0000;
    assert_eq!(
        a.remap(q, PAGE_SIZE, PAGE_SIZE, Remap { may_move: true, fixed: Some(dst), ..Remap::default() }),
        Ok(dst)
    );
    a.read_user(dst, &mut b[..5]).unwrap();
    assert_eq!(&b[..5], b"first");
    assert_eq!(
        a.remap(
            dst,
            PAGE_SIZE,
            2 * PAGE_SIZE,
            Remap { may_move: true, fixed: Some(dst - PAGE_SIZE), ..Remap::default() }
        ),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        a.remap(0x5000_0000, PAGE_SIZE, 2 * PAGE_SIZE, Remap { may_move: true, ..Remap::default() }),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        a.remap(dst, 2 * PAGE_SIZE, 3 * PAGE_SIZE, Remap { may_move: true, ..Remap::default() }),
        Err(Errno::EFAULT)
    );
}

#[test]
fn brk_grows_shrinks_and_refuses_collisions() {
    let (mut a, frames, _t) = space();
    a.set_brk_start(0x60_0000);
    assert_eq!(a.set_brk(0), 0x60_0000);
    assert_eq!(a.set_brk(0x60_0010), 0x60_0010);
    a.write_user(0x60_0000, b"heap").unwrap();
    assert_eq!(a.set_brk(0x60_3000), 0x60_3000);
    a.write_user(0x60_2ff0, b"top").unwrap();
    assert!(a.maps_text().contains("[heap]"));
    assert_eq!(a.set_brk(0x60_1000), 0x60_1000);
    assert_eq!(frames.live(), 1);
    assert_eq!(a.write_user(0x60_2ff0, b"x"), Err(Errno::EFAULT));
    assert_eq!(a.set_brk(0x60_3000), 0x60_3000);
    let mut b = [1u8; 3];
    a.read_user(0x60_2ff0, &mut b).unwrap();
    assert_eq!(b, [0; 3], "regrown brk memory is zero");
    anon(&mut a, 0x70_0000, 1, RW);
    assert_eq!(a.set_brk(0x70_0000), 0x60_3000, "would collide: the old break");
    assert_eq!(a.set_brk(0x5f_0000), 0x60_3000, "below the start: the old break");
}

#[test]
fn stack_grows_down_to_its_limit() {
    let (mut a, _f, _t) = space();
    a.map_fixed(Vma::new(STACK_TOP - 0x2_0000, STACK_TOP, RW, VmaKind::Stack)).unwrap();
    assert_eq!(a.handle_fault(STACK_TOP - 0x10_0000, true, false), Ok(()));
    assert_eq!(a.vmas().last().map(|v| v.start), Some(STACK_TOP - 0x10_0000));
    assert_eq!(a.handle_fault(STACK_TOP - (8 << 20) - 8, true, false), Err(Fault::Unmapped));
    assert_eq!(a.handle_fault(STACK_TOP - (8 << 20), true, false), Ok(()));
}

#[test]
fn file_private_pages_copy_the_file_and_zero_past_eof() {
    let (mut a, _f, _t) = space();
    let data: Vec<u8> = (0..6000u32).map(|i| (i % 251) as u8).collect();
    let file = OpenFile::new(Arc::new(BytesFile(data.clone())), 0, String::from("/data"));
    let p = a
        .map(Placement::Hint(0), 2 * PAGE_SIZE, RW, Prot::all(), VmaKind::File { file, offset: 4096, shared: false })
        .unwrap();
    let mut b = vec![0u8; 2 * 4096];
    a.read_user(p, &mut b).unwrap();
    assert_eq!(&b[..6000 - 4096], &data[4096..]);
    assert!(b[6000 - 4096..].iter().all(|&x| x == 0));
    // Private: writes stay in the copy.
    a.write_user(p, b"zz").unwrap();
    a.read_user(p, &mut b[..2]).unwrap();
    assert_eq!(&b[..2], b"zz");
    // MADV_DONTNEED drops the copy: the file's bytes come back.
    a.discard(p, p + PAGE_SIZE, false).unwrap();
    a.read_user(p, &mut b[..2]).unwrap();
    assert_eq!(&b[..2], &data[4096..4098]);
    let maps = a.maps_text();
    assert!(maps.contains(" 00001000 08:01 42"), "{maps}");
    assert!(maps.ends_with(" /data\n"), "{maps}");
}

#[test]
fn placement_is_top_down_with_hints_fixed_and_noreplace() {
    let (mut a, _f, _t) = space();
    let x = a.map(Placement::Hint(0), 3 * PAGE_SIZE, RW, Prot::all(), VmaKind::Anon).unwrap();
    assert_eq!(x, MMAP_BASE - 3 * PAGE_SIZE);
    let y = a.map(Placement::Hint(0), PAGE_SIZE, Prot::READ, Prot::all(), VmaKind::Anon).unwrap();
    assert_eq!(y, x - PAGE_SIZE);
    let h = a.map(Placement::Hint(0x1234_5000), PAGE_SIZE, RW, Prot::all(), VmaKind::Anon).unwrap();
    assert_eq!(h, 0x1234_5000);
    let taken = a.map(Placement::Hint(0x1234_5000), PAGE_SIZE, RW, Prot::all(), VmaKind::Anon).unwrap();
    assert_ne!(taken, 0x1234_5000, "occupied hint is ignored");
    assert_eq!(
        a.map(Placement::FixedNoReplace(0x1234_5000), PAGE_SIZE, RW, Prot::all(), VmaKind::Anon),
        Err(Errno::EEXIST)
    );
    a.write_user(h, b"old").unwrap();
    assert_eq!(a.map(Placement::Fixed(0x1234_4000), 3 * PAGE_SIZE, RW, Prot::all(), VmaKind::Anon), Ok(0x1234_4000));
    let mut b = [1u8; 3];
    a.read_user(h, &mut b).unwrap();
    assert_eq!(b, [0; 3], "MAP_FIXED replaced the old mapping");
    assert_eq!(
        a.map(Placement::Fixed(0x7fff_ffff_f000), PAGE_SIZE, RW, Prot::all(), VmaKind::Anon),
        Err(Errno::ENOMEM)
    );
    assert_eq!(a.map(Placement::Hint(0), 1 << 47, RW, Prot::all(), VmaKind::Anon), Err(Errno::ENOMEM));
}

#[test]
fn device_pages_past_the_source_are_sigbus_and_not_freed() {
    let (mut a, frames, _t) = space();
    let pa = frames.device_frame(1);
    let file = OpenFile::new(Arc::new(BytesFile(vec![])), 2, String::from("anon_inode:bpf-map"));
    let d = a
        .map(
            Placement::Hint(0),
            2 * PAGE_SIZE,
            RW,
            RW,
            VmaKind::Device { file, source: Arc::new(Dev(vec![pa])), pgoff: 0 },
        )
        .unwrap();
    assert_eq!(a.handle_fault(d, false, false), Ok(()));
    assert_eq!(a.handle_fault(d + PAGE_SIZE, false, false), Err(Fault::Bus));
    assert!(a.maps_text().contains("rw-s 00000000 08:01 42"));
    a.unmap(d, 2 * PAGE_SIZE).unwrap();
    assert_eq!(frames.live(), 1, "device frames are not the address space's to free");
}

#[test]
fn shared_anonymous_memory_survives_fork_as_shared() {
    let (mut a, frames, _t) = space();
    let pages = Arc::new(crate::mm::shared::SharedPages::new(frames));
    let s = a.map(Placement::Hint(0), PAGE_SIZE, RW, Prot::all(), VmaKind::SharedAnon { pages, pgoff: 0 }).unwrap();
    let mut c = a.fork_copy(FakeMapper::boxed().0).unwrap();
    c.write_user(s, b"hi").unwrap();
    let mut b = [0u8; 2];
    a.read_user(s, &mut b).unwrap();
    assert_eq!(&b, b"hi");
    drop(c);
    assert_eq!(frames.live(), 1);
    drop(a);
    assert_eq!(frames.live(), 0);
}

#[test]
fn maps_text_matches_linux_layout() {
    let (mut a, _f, _t) = space();
    anon(&mut a, 0x1000_0000, 1, RW);
    a.map_fixed(Vma::new(STACK_TOP - PAGE_SIZE, STACK_TOP, RW, VmaKind::Stack)).unwrap();
    let text = a.maps_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "10000000-10001000 rw-p 00000000 00:00 0 ");
    let stack = format!("7fffffffe000-7ffffffff000 rw-p 00000000 00:00 0{}[stack]", " ".repeat(26));
    assert_eq!(lines[1], stack);
    assert_eq!(lines[1].find('[').unwrap(), 73);
}

/// A tiny deterministic generator for the model test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn check_invariants(a: &AddressSpace, frames: &FakeFrames, table: &FakeTable) {
    let mut prev_end = 0;
    for v in a.vmas() {
        assert!(v.start >= prev_end && v.start < v.end, "sorted, non-overlapping, non-empty");
        assert!(v.start % PAGE_SIZE == 0 && v.end % PAGE_SIZE == 0);
        prev_end = v.end;
    }
    for (&va, p) in a.pages.iter() {
        let v = a.find_vma(va).expect("resident pages lie in areas");
        let hw = table.lock().get(&va).copied();
        if v.prot.accessible() {
            assert_eq!(hw, Some((p.pa, v.prot.pte())), "page table agrees at {va:#x}");
        } else {
            assert_eq!(hw, None, "PROT_NONE pages are not in the page table");
        }
    }
    assert_eq!(
        table.lock().len(),
        a.pages.iter().filter(|(va, _)| a.find_vma(**va).unwrap().prot.accessible()).count()
    );
    assert_eq!(frames.live(), a.resident_pages(), "every frame is accounted for");
}

#[test]
fn random_operations_match_a_page_model() {
    const BASE: u64 = 0x1000_0000;
    const PAGES: u64 = 48;
    for seed in 1..=20u64 {
        let (mut a, frames, table) = space();
        let mut rng = Lcg(seed);
        // page index -> (prot, byte at offset 0)
        let mut model: BTreeMap<u64, (Prot, u8)> = BTreeMap::new();
        let prots = [Prot::empty(), Prot::READ, RW, Prot::READ | Prot::EXEC, RW | Prot::EXEC];
        for step in 0..400 {
            let i = rng.next(PAGES);
            let n = 1 + rng.next(6).min(PAGES - i - 1);
            let (va, len) = (BASE + i * PAGE_SIZE, n * PAGE_SIZE);
            match rng.next(7) {
                6 => {
                    // mremap(MAYMOVE|FIXED) into the other half of the window.
                    let (i, n) = (i % (PAGES / 2), n.min(PAGES / 2 - i % (PAGES / 2)));
                    let (src_half, dst_half) = if rng.next(2) == 0 { (0, PAGES / 2) } else { (PAGES / 2, 0) };
                    let (si, di) = (src_half + i, dst_half + rng.next(PAGES / 2 - 6));
                    let m = 1 + rng.next(6);
                    let (old, dst) = (BASE + si * PAGE_SIZE, BASE + di * PAGE_SIZE);
                    let keep = n.min(m);
                    let inside = a.find_vma(old).is_some_and(|v| v.end >= old + keep * PAGE_SIZE);
                    let how = Remap { may_move: true, fixed: Some(dst), ..Remap::default() };
                    let got = a.remap(old, n * PAGE_SIZE, m * PAGE_SIZE, how);
                    for k in di..di + m {
                        model.remove(&k);
                    }
                    for k in si + keep..si + n {
                        model.remove(&k);
                    }
                    if !inside {
                        assert_eq!(got, Err(Errno::EFAULT), "seed {seed} step {step}");
                    } else {
                        assert_eq!(got, Ok(dst), "seed {seed} step {step}");
                        let prot = model[&si].0;
                        for k in 0..m {
                            let e = if k < keep { model.remove(&(si + k)).unwrap() } else { (prot, 0) };
                            model.insert(di + k, e);
                        }
                    }
                }
                0 => {
                    let prot = prots[rng.next(5) as usize];
                    assert_eq!(a.map(Placement::Fixed(va), len, prot, Prot::all(), VmaKind::Anon), Ok(va));
                    for k in i..i + n {
                        model.insert(k, (prot, 0));
                    }
                }
                1 => {
                    a.unmap(va, len).unwrap();
                    for k in i..i + n {
                        model.remove(&k);
                    }
                }
                2 => {
                    let prot = prots[rng.next(5) as usize];
                    let hole = (i..i + n).find(|k| !model.contains_key(k));
                    let want = if hole.is_some() { Err(Errno::ENOMEM) } else { Ok(()) };
                    assert_eq!(a.protect(va, len, prot), want, "seed {seed} step {step}");
                    for k in i..hole.unwrap_or(i + n) {
                        if let Some(e) = model.get_mut(&k) {
                            e.0 = prot;
                        }
                    }
                }
                3 => {
                    let byte = rng.next(255) as u8 + 1;
                    let ok = model.get(&i).is_some_and(|e| e.0.contains(Prot::WRITE));
                    let got = a.write_user(va, &[byte]);
                    assert_eq!(got.is_ok(), ok, "write seed {seed} step {step}");
                    if ok {
                        model.insert(i, (model[&i].0, byte));
                    }
                }
                4 => {
                    let mut b = [0u8; 1];
                    let want = model.get(&i).filter(|e| e.0.accessible()).map(|e| e.1);
                    assert_eq!(a.read_user(va, &mut b).ok().map(|_| b[0]), want, "read seed {seed} step {step}");
                }
                _ => {
                    let mut c = a.fork_copy(FakeMapper::boxed().0).unwrap();
                    for (&k, &(prot, byte)) in &model {
                        let mut b = [0u8; 1];
                        if prot.accessible() {
                            c.read_user(BASE + k * PAGE_SIZE, &mut b).unwrap();
                            assert_eq!(b[0], byte, "child sees the parent's page {k}");
                        }
                    }
                    drop(c);
                }
            }
            check_invariants(&a, frames, &table);
        }
        drop(a);
        assert_eq!(frames.live(), 0);
    }
}
