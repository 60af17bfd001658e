//! Hash map elements: their memory layout and initialisation, the key hash, and the value
//! copies that honour a `bpf_spin_lock` word. Where element memory comes from (a
//! preallocated slot or a heap block) and how it is freed is [`super::pool`]'s business.
//!
//! An element is 8-byte aligned memory, never moved while it is in the table:
//!
//! ```text
//! ElemHead { next, hash } | LruNode (LRU maps only) | key, padded to 8 | value area
//! ```
//!
//! Except that in other than LRU maps a key of up to 4 bytes sits in the head's padding,
//! right after `hash` (a `u32` key with a `u64` value makes a 24-byte element).
//!
//! The value area holds `round_up(value_size, 8)` bytes, or that many per possible CPU for
//! per-CPU maps, or an `Arc<dyn FdObject>` for `hash_of_maps`. Memory is zeroed before
//! initialisation, so padding and a fresh `bpf_spin_lock` read as zero.

use alloc::alloc::Layout;
use alloc::sync::Arc;
use core::mem::{align_of, offset_of, size_of};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicU32};

use crate::lock::BpfSpinLockGuard;
use crate::lru_list::LruNode;
use crate::{round_up_8, FdObject};

/// The start of every element: the bucket chain link and the full hash.
#[repr(C)]
pub(super) struct ElemHead {
    /// Next element of the bucket (RCU-style: written under the bucket lock with release,
    /// read lock-free with acquire; an unlinked element keeps its `next`).
    pub(super) next: AtomicPtr<ElemHead>,
    /// The key's hash, compared before the key.
    pub(super) hash: u32,
}

/// The start of an LRU map element.
#[repr(C)]
struct LruElemHead {
    head: ElemHead,
    node: LruNode,
}

/// Where the parts of one map's elements are.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Key bytes.
    pub(super) key_size: usize,
    key_off: usize,
    value_off: usize,
    /// `value_size` of the map.
    pub(super) value_size: usize,
    /// `round_up(value_size, 8)`: the distance between per-CPU copies.
    pub(super) stride: usize,
    /// Copies of the value: 1, or the number of possible CPUs.
    pub(super) copies: usize,
    size: usize,
    lru: bool,
    fd: bool,
}

const FD_SLOT: usize = size_of::<Arc<dyn FdObject>>();

impl Shape {
    /// The layout for the given sizes, or `None` if it overflows.
    pub(super) fn new(key_size: usize, value_size: usize, copies: usize, lru: bool, fd: bool) -> Option<Shape> {
        // A key of up to 4 bytes fills the padding after the hash: 24-byte elements for
        // the common u32-key / u64-value map.
        let after_hash = offset_of!(ElemHead, hash) + size_of::<u32>();
        let key_off = if lru {
            round_up_8(size_of::<LruElemHead>())
        } else if key_size <= size_of::<ElemHead>() - after_hash {
            after_hash
        } else {
            round_up_8(size_of::<ElemHead>())
        };
        let value_off = round_up_8(key_off.checked_add(key_size)?.checked_add(7)? & !7);
        let stride = value_size.checked_add(7)? & !7;
        let area = if fd { FD_SLOT } else { stride.checked_mul(copies)? };
        let size = value_off.checked_add(area)?;
        Layout::from_size_align(size, 8).ok()?;
        Some(Shape { key_size, key_off, value_off, value_size, stride, copies, size, lru, fd })
    }

    /// Bytes one element takes.
    pub(super) fn elem_size(&self) -> usize {
        self.size
    }

    /// Whether the value area holds an fd object (`hash_of_maps`).
    pub(super) fn is_fd(&self) -> bool {
        self.fd
    }

    /// The layout of one individually allocated element.
    pub(super) fn layout(&self) -> Layout {
        // `new` checked that this layout is valid; the fallback is never taken.
        Layout::from_size_align(self.size, 8).unwrap_or(Layout::new::<u64>())
    }

    /// Initialises the zeroed memory at `base` as an element holding `key` (whose hash is
    /// `hash`), its LRU node initialised, and for fd shapes `obj` in the value area.
    ///
    /// # Safety
    /// `base` must be zeroed, 8-aligned, exclusively owned memory of `elem_size` bytes;
    /// `key.len() == key_size` and `obj` is present exactly for fd shapes.
    pub(super) unsafe fn init(
        &self,
        base: NonNull<u8>,
        hash: u32,
        key: &[u8],
        obj: Option<Arc<dyn FdObject>>,
    ) -> NonNull<ElemHead> {
        const { assert!(align_of::<LruElemHead>() <= 8 && align_of::<Arc<dyn FdObject>>() <= 8) };
        let raw = base.as_ptr();
        let e = base.cast::<ElemHead>();
        // SAFETY: `base` is large enough for the head (+ LRU node), the key at `key_off` and
        // the value area at `value_off` (caller's contract).
        unsafe {
            ptr::write(e.as_ptr(), ElemHead { next: AtomicPtr::new(ptr::null_mut()), hash });
            if self.lru {
                ptr::write(self.node(e).as_ptr(), LruNode::new());
            }
            ptr::copy_nonoverlapping(key.as_ptr(), raw.add(self.key_off), key.len().min(self.key_size));
            if let Some(obj) = obj.filter(|_| self.fd) {
                ptr::write(raw.add(self.value_off).cast::<Arc<dyn FdObject>>(), obj);
            }
        }
        e
    }

    /// Drops what an element owns besides its memory: the object of an fd element.
    ///
    /// # Safety
    /// `e` must be an initialised element of this shape that nobody else can reach; it
    /// must not be used afterwards except to free its memory.
    pub(super) unsafe fn drop_contents(&self, e: NonNull<ElemHead>) {
        if self.fd {
            // SAFETY: `init` stored an Arc there for fd shapes; it is dropped once.
            unsafe { ptr::drop_in_place(e.as_ptr().cast::<u8>().add(self.value_off).cast::<Arc<dyn FdObject>>()) };
        }
    }

    /// The key of `e`.
    ///
    /// # Safety
    /// `e` must be a live element of this shape; the slice must not outlive it.
    #[inline(always)]
    pub(super) unsafe fn key<'a>(&self, e: NonNull<ElemHead>) -> &'a [u8] {
        // SAFETY: the key lies inside the element (caller's contract).
        unsafe { core::slice::from_raw_parts(e.as_ptr().cast::<u8>().add(self.key_off), self.key_size) }
    }

    /// The value of `e`: copy `copy` of a per-CPU value (0 otherwise), 8-aligned.
    ///
    /// # Safety
    /// `e` must be a live element of this shape and `copy < copies`.
    #[inline(always)]
    pub(super) unsafe fn value(&self, e: NonNull<ElemHead>, copy: usize) -> NonNull<u8> {
        // SAFETY: the value area lies inside the element (caller's contract).
        unsafe { NonNull::new_unchecked(e.as_ptr().cast::<u8>().add(self.value_off + copy * self.stride)) }
    }

    /// The object a `hash_of_maps` element holds.
    ///
    /// # Safety
    /// `e` must be a live element of an fd shape; the reference must not outlive it.
    pub(super) unsafe fn fd_obj<'a>(&self, e: NonNull<ElemHead>) -> &'a Arc<dyn FdObject> {
        // SAFETY: `alloc` stored an Arc there for fd shapes; it lives as long as the element.
        unsafe { &*self.value(e, 0).as_ptr().cast::<Arc<dyn FdObject>>() }
    }

    /// The LRU node of an element of an LRU shape.
    ///
    /// # Safety
    /// `e` must be an element of an LRU shape.
    #[inline(always)]
    pub(super) unsafe fn node(&self, e: NonNull<ElemHead>) -> NonNull<LruNode> {
        // SAFETY: LRU elements start with `LruElemHead` (caller's contract).
        unsafe { NonNull::new_unchecked(e.as_ptr().cast::<u8>().add(offset_of!(LruElemHead, node)).cast()) }
    }

    /// The element whose LRU node is `node`.
    ///
    /// # Safety
    /// `node` must be the node of an element of an LRU shape.
    pub(super) unsafe fn elem_of(&self, node: NonNull<LruNode>) -> NonNull<ElemHead> {
        // SAFETY: the node sits at a fixed offset inside its element.
        unsafe { NonNull::new_unchecked(node.as_ptr().cast::<u8>().sub(offset_of!(LruElemHead, node)).cast()) }
    }
}

// ---- key hashing and comparison ----

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let full = (a as u128).wrapping_mul(b as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

#[inline(always)]
fn rd8(k: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&k[at..at + 8]);
    u64::from_le_bytes(b)
}

#[inline(always)]
fn rd4(k: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&k[at..at + 4]);
    u32::from_le_bytes(b) as u64
}

/// Two words that together cover a key of at most 16 bytes (overlapping reads).
#[inline(always)]
fn small_words(k: &[u8]) -> (u64, u64) {
    let n = k.len();
    if n >= 8 {
        (rd8(k, 0), rd8(k, n - 8))
    } else if n >= 4 {
        (rd4(k, 0), rd4(k, n - 4))
    } else if n > 0 {
        ((k[0] as u64) | (k[n / 2] as u64) << 8 | (k[n - 1] as u64) << 16, 0)
    } else {
        (0, 0)
    }
}

/// Expands the map's 32-bit random seed (0 with `BPF_F_ZERO_SEED`).
pub(super) fn expand_seed(seed: u32) -> u64 {
    fold_mul(seed as u64 ^ K1, K2)
}

/// The 32-bit hash of a key: a multiply-fold hash in the style of wyhash (two 64-bit words
/// per 16 key bytes, one 128-bit multiply each). Linux uses jhash; the bucket order this
/// gives differs, which user space cannot rely on anyway.
#[inline(always)]
pub(super) fn hash_key(key: &[u8], seed: u64) -> u32 {
    let n = key.len();
    let (a, b, s) = if n <= 16 {
        let (a, b) = small_words(key);
        (a, b, seed)
    } else {
        let mut s = seed;
        let mut i = 0;
        while n - i > 16 {
            s = fold_mul(rd8(key, i) ^ K0, rd8(key, i + 8) ^ s);
            i += 16;
        }
        (rd8(key, n - 16), rd8(key, n - 8), s)
    };
    let h = fold_mul(a ^ K0 ^ n as u64, b ^ K1 ^ s);
    (h ^ (h >> 32)) as u32
}

/// Key equality for keys of the same length, with word compares for short keys.
#[inline(always)]
pub(super) fn key_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() >= 4 && a.len() <= 16 {
        small_words(a) == small_words(b)
    } else {
        a == b
    }
}

// ---- value copies ----

/// The `bpf_spin_lock` word at `value + off`: 0 free, 1 held. Taken with a test-and-set
/// loop, the same protocol the `bpf_spin_lock` helper must use on map values.
///
/// # Safety
/// `value + off` must be a live, 4-aligned word of a map value.
pub(super) unsafe fn with_spin_lock<R>(value: NonNull<u8>, off: usize, f: impl FnOnce() -> R) -> R {
    // SAFETY: caller's contract; the word is only ever accessed atomically by the maps and
    // the helpers (the verifier forbids programs plain loads and stores on it).
    let word = unsafe { AtomicU32::from_ptr(value.as_ptr().add(off).cast::<u32>()) };
    let _held = BpfSpinLockGuard::acquire(word);
    f()
}

/// Copies a value out of the map into `dst` (all of `dst`), leaving out the spin lock word
/// at `lock`, which reads as zero (Linux `copy_map_value` + `check_and_init_map_value`).
///
/// # Safety
/// `src` must be valid for `dst.len()` bytes of a live element's value.
pub(super) unsafe fn copy_out(dst: &mut [u8], src: NonNull<u8>, lock: Option<usize>) {
    let n = dst.len();
    match lock {
        Some(off) if off + 4 <= n => {
            // SAFETY: both ranges lie inside `src`'s value (caller's contract) and `dst`.
            unsafe {
                ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr(), off);
                ptr::copy_nonoverlapping(src.as_ptr().add(off + 4), dst.as_mut_ptr().add(off + 4), n - off - 4);
            }
            dst[off..off + 4].fill(0);
        }
        // SAFETY: `src` is valid for `n` bytes (caller's contract).
        _ => unsafe { ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr(), n) },
    }
}

/// Copies `src` into a map value, leaving its spin lock word at `lock` untouched.
///
/// # Safety
/// `dst` must be valid for `src.len()` bytes of an element's value.
pub(super) unsafe fn copy_in(dst: NonNull<u8>, src: &[u8], lock: Option<usize>) {
    let n = src.len();
    match lock {
        Some(off) if off + 4 <= n => {
            // SAFETY: both ranges lie inside `dst`'s value (caller's contract) and `src`.
            unsafe {
                ptr::copy_nonoverlapping(src.as_ptr(), dst.as_ptr(), off);
                ptr::copy_nonoverlapping(src.as_ptr().add(off + 4), dst.as_ptr().add(off + 4), n - off - 4);
            }
        }
        // SAFETY: `dst` is valid for `n` bytes (caller's contract).
        _ => unsafe { ptr::copy_nonoverlapping(src.as_ptr(), dst.as_ptr(), n) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_byte_and_the_seed() {
        for len in [1usize, 3, 4, 5, 8, 12, 16, 17, 31, 40, 64] {
            let key: std::vec::Vec<u8> = (0..len as u8).collect();
            let h = hash_key(&key, expand_seed(7));
            assert_ne!(h, hash_key(&key, expand_seed(8)), "len {len}: seed ignored");
            for i in 0..len {
                let mut k2 = key.clone();
                k2[i] ^= 0x40;
                assert_ne!(h, hash_key(&k2, expand_seed(7)), "len {len}: byte {i} ignored");
                assert!(!key_eq(&key, &k2));
            }
            assert!(key_eq(&key, &key.clone()));
        }
    }

    #[test]
    fn low_bits_spread_sequential_keys() {
        // 4096 sequential u32 keys into 4096 buckets: a decent hash leaves about 1/e empty.
        let mut used = std::vec![0u32; 4096];
        for k in 0u32..4096 {
            used[(hash_key(&k.to_ne_bytes(), expand_seed(1)) & 4095) as usize] += 1;
        }
        let empty = used.iter().filter(|&&c| c == 0).count();
        assert!((1200..1800).contains(&empty), "{empty} empty buckets");
        assert!(*used.iter().max().unwrap() <= 10);
    }

    #[test]
    fn copies_skip_the_lock_word() {
        let mut elem = [0xAAu8; 16];
        let src = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        // SAFETY: both buffers are 16 bytes.
        unsafe { copy_in(NonNull::from(&mut elem).cast(), &src, Some(4)) };
        assert_eq!(elem, [1, 2, 3, 4, 0xAA, 0xAA, 0xAA, 0xAA, 9, 10, 11, 12, 13, 14, 15, 16]);
        let mut out = [0xFFu8; 16];
        // SAFETY: as above.
        unsafe { copy_out(&mut out, NonNull::from(&mut elem).cast(), Some(4)) };
        assert_eq!(out, [1, 2, 3, 4, 0, 0, 0, 0, 9, 10, 11, 12, 13, 14, 15, 16]);
    }
}
