//! The vmalloc area over fake frames and a fake kernel page table.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex as StdMutex;

use super::*;

#[derive(Default)]
struct Frames {
    live: StdMutex<BTreeSet<u64>>,
    next: StdMutex<u64>,
    limit: StdMutex<Option<usize>>,
}

impl FrameAllocator for Frames {
    fn alloc_zeroed(&self) -> Option<u64> {
        let mut live = self.live.lock().unwrap();
        if self.limit.lock().unwrap().is_some_and(|l| live.len() >= l) {
            return None;
        }
        let mut next = self.next.lock().unwrap();
        *next += 1;
        let pa = *next * 0x1000;
        live.insert(pa);
        Some(pa)
    }
    fn free(&self, pa: u64) {
        assert!(self.live.lock().unwrap().remove(&pa), "double free of {pa:#x}");
    }
    fn frame_ptr(&self, _pa: u64) -> *mut u8 {
        core::ptr::null_mut()
    }
}

#[derive(Default)]
struct Tables {
    map: StdMutex<BTreeMap<u64, u64>>,
    fail_at: StdMutex<Option<u64>>,
}

impl KernelPageMap for Tables {
    fn map_kernel(&self, va: u64, pa: u64) -> KResult<()> {
        if *self.fail_at.lock().unwrap() == Some(va) {
            return Err(Errno::ENOMEM);
        }
        assert!(self.map.lock().unwrap().insert(va, pa).is_none(), "{va:#x} mapped twice");
        Ok(())
    }
    fn unmap_kernel(&self, va: u64) {
        assert!(self.map.lock().unwrap().remove(&va).is_some(), "{va:#x} not mapped");
    }
}

const BASE: u64 = 0xffff_c000_0000_0000;

fn area(pages: u64) -> (&'static Frames, &'static Tables, VmallocArea) {
    let f: &'static Frames = Box::leak(Box::default());
    let t: &'static Tables = Box::leak(Box::default());
    (f, t, VmallocArea::new(BASE, pages * PAGE_SIZE, f, t))
}

#[test]
fn ring_layout_maps_the_tail_twice_and_frees_everything() {
    let (f, t, a) = area(64);
    let ring = a.alloc_shared(4, 2).unwrap();
    assert_eq!(ring.vaddr as u64, BASE);
    assert_eq!(ring.frames.len(), 4);
    let map = t.map.lock().unwrap().clone();
    let fr = &ring.frames;
    let expect: Vec<(u64, u64)> = [fr[0], fr[1], fr[2], fr[3], fr[2], fr[3]]
        .iter()
        .enumerate()
        .map(|(i, &pa)| (BASE + i as u64 * 4096, pa))
        .collect();
    assert_eq!(map.into_iter().collect::<Vec<_>>(), expect);
    // The next allocation starts after a guard page.
    let arr = a.alloc_shared(1, 0).unwrap();
    assert_eq!(arr.vaddr as u64, BASE + 7 * 4096);
    a.free_shared(ring, 2);
    a.free_shared(arr, 0);
    assert!(t.map.lock().unwrap().is_empty());
    assert!(f.live.lock().unwrap().is_empty());
    // Freed ranges merge: the whole area is one free range again.
    assert_eq!(a.free.lock().clone().into_iter().collect::<Vec<_>>(), vec![(BASE, 64)]);
}

#[test]
fn failures_undo_everything() {
    let (f, t, a) = area(8);
    assert_eq!(a.alloc_shared(8, 0).err(), Some(Errno::ENOMEM), "no room for the guard page");
    assert_eq!(a.alloc_shared(2, 3).err(), Some(Errno::EINVAL));
    assert_eq!(a.alloc_shared(0, 0).err(), Some(Errno::EINVAL));
    *f.limit.lock().unwrap() = Some(2);
    assert_eq!(a.alloc_shared(3, 0).err(), Some(Errno::ENOMEM), "out of frames");
    *f.limit.lock().unwrap() = None;
    *t.fail_at.lock().unwrap() = Some(BASE + 2 * 4096);
    assert_eq!(a.alloc_shared(2, 1).err(), Some(Errno::ENOMEM), "page table allocation failed");
    assert!(t.map.lock().unwrap().is_empty());
    assert!(f.live.lock().unwrap().is_empty());
    assert_eq!(a.free.lock().clone().into_iter().collect::<Vec<_>>(), vec![(BASE, 8)]);
    *t.fail_at.lock().unwrap() = None;
    let ok = a.alloc_shared(7, 0).unwrap();
    assert_eq!(ok.vaddr as u64, BASE);
    a.free_shared(ok, 0);
}

#[test]
fn first_fit_reuses_holes() {
    let (_f, _t, a) = area(32);
    let x = a.alloc_shared(2, 0).unwrap(); // pages 0..3
    let y = a.alloc_shared(2, 0).unwrap(); // pages 3..6
    let z = a.alloc_shared(2, 0).unwrap(); // pages 6..9
    a.free_shared(y, 0);
    let w = a.alloc_shared(1, 0).unwrap();
    assert_eq!(w.vaddr as u64, BASE + 3 * 4096, "the hole is reused");
    let v = a.alloc_shared(2, 0).unwrap();
    assert_eq!(v.vaddr as u64, BASE + 9 * 4096, "too big for the rest of the hole");
    for (s, tail) in [(x, 0), (z, 0), (w, 0), (v, 0)] {
        a.free_shared(s, tail);
    }
    assert_eq!(a.free.lock().len(), 1);
}
