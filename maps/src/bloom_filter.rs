//! `BPF_MAP_TYPE_BLOOM_FILTER`: a keyless set that answers "definitely absent" or "probably
//! present" (Linux `kernel/bpf/bloom_filter.c`).
//!
//! - The bit array holds `max_entries * nr_hash_funcs * 7 / 5` bits (7/5 ≈ 1/ln 2, the size
//!   that minimises false positives), rounded up to a power of two and to at least 64 bits;
//!   when that computation overflows or exceeds 2^31 bits, the array has 2^32 bits.
//! - `nr_hash_funcs` comes from the low 4 bits of `map_extra` (0 → 5).
//! - Hash `i` of a value is Linux's `jhash2` (value size a multiple of 4) or `jhash` with
//!   the seed `hash_seed + i`, masked to the array size. The seed is random unless
//!   `BPF_F_ZERO_SEED`, so with that flag the bit positions are exactly Linux's.
//! - push = add (sets the bits with atomic `fetch_or`, lock-free), peek = membership test.
//!   The syscall lookup is a membership test too: its value buffer is an *input* (Linux's
//!   `map_lookup_elem` copies the user's value in for this type and nothing out).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::alloc::Layout;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

use syscall_abi::bpf::{
    BPF_ANY, BPF_F_LOCK, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG,
    BPF_F_ZERO_SEED,
};
use syscall_abi::{err, Errno, Result};

use crate::{BpfMap, MapAttr, MapDef, MapHost};

/// `BPF_F_ACCESS_MASK` (include/linux/bpf.h).
const ACCESS_MASK: u32 = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;
/// `BLOOM_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | ACCESS_MASK;
/// `KMALLOC_MAX_SIZE` of Linux 6.1 on x86_64 with SLUB.
const KMALLOC_MAX_SIZE: u32 = 1 << 22;
/// `map_extra` bits that hold the number of hash functions.
const NR_HASH_FUNCS_MASK: u64 = 0xf;
/// Hash functions used when `map_extra` says 0.
const DEFAULT_NR_HASH_FUNCS: u32 = 5;
/// Bits per word of the bit array (Linux's `BITS_PER_LONG` on 64-bit machines).
const WORD_BITS: u32 = 64;

/// A bloom filter map.
pub struct BloomFilter {
    def: MapDef,
    /// Number of bits minus one (a power of two minus one, or `u32::MAX`).
    bitset_mask: u32,
    hash_seed: u32,
    nr_hash_funcs: u32,
    /// `value_size / 4` when `value_size` is a multiple of 4 (hash with `jhash2`), else 0.
    aligned_u32_count: u32,
    bits: Box<[AtomicU64]>,
}

/// The bit array size of `bloom_map_alloc`: `(bitset_mask, bytes)`.
fn bitset_size(max_entries: u32, nr_hash_funcs: u32) -> (u32, usize) {
    let nr_bits = max_entries.checked_mul(nr_hash_funcs).and_then(|n| (n / 5).checked_mul(7));
    match nr_bits {
        Some(n) if n <= 1 << 31 => {
            let n = if n <= WORD_BITS { WORD_BITS } else { n.next_power_of_two() };
            (n - 1, n as usize / 8)
        }
        // 2^32 bits; Linux rounds BITS_TO_BYTES(U32_MAX) up to whole longs: 2^29 bytes.
        _ => (u32::MAX, 1 << 29),
    }
}

/// `bloom_map_alloc_check` (value size → `E2BIG`), then the `EINVAL` checks of
/// `bloom_map_alloc`.
fn check(attr: &MapAttr) -> Result<()> {
    if attr.value_size > KMALLOC_MAX_SIZE {
        return err(Errno::E2BIG, "bloom filter: value_size too large");
    }
    if attr.key_size != 0
        || attr.value_size == 0
        || attr.max_entries == 0
        || attr.map_flags & !CREATE_FLAG_MASK != 0
        || attr.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) == BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG
        || attr.map_extra & !NR_HASH_FUNCS_MASK != 0
    {
        return err(Errno::EINVAL, "bloom filter: bad key_size, value_size, max_entries, flags or map_extra");
    }
    if attr.spin_lock_off.is_some() {
        // map_check_btf: bpf_spin_lock is only for hash, array and the storage maps.
        return err(Errno::ENOTSUPP, "bloom filter values cannot hold a bpf_spin_lock");
    }
    Ok(())
}

pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    check(attr)?;
    // `check` left only the low 4 bits.
    let nr_hash_funcs = match u32::try_from(attr.map_extra & NR_HASH_FUNCS_MASK) {
        Ok(0) | Err(_) => DEFAULT_NR_HASH_FUNCS,
        Ok(n) => n,
    };
    let (bitset_mask, bytes) = bitset_size(attr.max_entries, nr_hash_funcs);
    let bits = zeroed_words(bytes / 8)?;
    let hash_seed = if attr.map_flags & BPF_F_ZERO_SEED != 0 { 0 } else { host.random_u32() };
    let aligned_u32_count = if attr.value_size % 4 == 0 { attr.value_size / 4 } else { 0 };
    Ok(Arc::new(BloomFilter {
        def: MapDef::from_attr(attr),
        bitset_mask,
        hash_seed,
        nr_hash_funcs,
        aligned_u32_count,
        bits,
    }))
}

/// `words > 0` zeroed atomic words; `ENOMEM` instead of aborting when the allocator refuses
/// (the pages of a large filter are not touched until bits are set).
fn zeroed_words(words: usize) -> Result<Box<[AtomicU64]>> {
    let layout = Layout::array::<AtomicU64>(words).map_err(|_| Errno::ENOMEM)?;
    if layout.size() == 0 {
        return err(Errno::ENOMEM, "empty bit array");
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) }.cast::<AtomicU64>();
    if ptr.is_null() {
        return err(Errno::ENOMEM, "bloom filter bit array");
    }
    // SAFETY: a fresh zeroed allocation of `words` `AtomicU64`s (all-zero is a valid
    // `AtomicU64`) from the global allocator, with the layout the box frees with.
    Ok(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, words)) })
}

impl BloomFilter {
    fn check_value_len(&self, len: usize) -> Result<()> {
        if len != self.def.value_size as usize {
            return err(Errno::EINVAL, "bloom filter: value buffer is not value_size bytes");
        }
        Ok(())
    }

    /// Bit `i`'s position for `value` (Linux's `hash()` in bloom_filter.c).
    fn bit(&self, value: &[u8], i: u32) -> u32 {
        let seed = self.hash_seed.wrapping_add(i);
        let h = if self.aligned_u32_count != 0 { jhash2_bytes(value, seed) } else { jhash(value, seed) };
        h & self.bitset_mask
    }

    fn word_and_mask(&self, bit: u32) -> Option<(&AtomicU64, u64)> {
        let word = self.bits.get(usize::try_from(bit / WORD_BITS).ok()?)?;
        Some((word, 1u64 << (bit % WORD_BITS)))
    }

    /// The number of hash functions in use (from `map_extra`, default 5).
    pub fn nr_hash_funcs(&self) -> u32 {
        self.nr_hash_funcs
    }

    /// Size of the bit array in bits.
    pub fn nr_bits(&self) -> u64 {
        u64::from(self.bitset_mask) + 1
    }
}

impl BpfMap for BloomFilter {
    fn def(&self) -> &MapDef {
        &self.def
    }

    /// `bpf_map_copy_value` → `bloom_map_peek_elem`: `value` holds the value to test (copied
    /// *in* by the syscall layer); nothing is written to it. Absent → `ENOENT`. No flag is
    /// valid (`BPF_F_LOCK` needs a `bpf_spin_lock`).
    fn lookup(&self, _key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        if flags != 0 {
            return err(Errno::EINVAL, "bloom filter lookup takes no flags");
        }
        self.peek(value)
    }

    /// `bpf_map_update_value` → `bloom_map_push_elem`; the (empty) key is ignored.
    fn update(&self, _key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.push(value, flags)
    }

    /// `bloom_map_delete_elem`.
    fn delete(&self, _key: &[u8]) -> Result<()> {
        err(Errno::EOPNOTSUPP, "bloom filter elements cannot be deleted")
    }

    /// `bloom_map_get_next_key`.
    fn get_next_key(&self, _key: Option<&[u8]>, _next_key: &mut [u8]) -> Result<()> {
        err(Errno::EOPNOTSUPP, "bloom filter has no keys")
    }

    /// `map_lookup_and_delete_elem`: `BPF_F_LOCK` without a spin lock is `EINVAL`, then the
    /// type is not supported.
    fn lookup_and_delete(&self, _key: Option<&[u8]>, _value: &mut [u8], flags: u64) -> Result<()> {
        if flags & BPF_F_LOCK != 0 {
            return err(Errno::EINVAL, "BPF_F_LOCK without a bpf_spin_lock");
        }
        err(Errno::ENOTSUPP, "bloom filter has no lookup_and_delete")
    }

    /// The map plus its bit array.
    fn memory_usage(&self) -> usize {
        core::mem::size_of::<Self>() + self.bits.len() * core::mem::size_of::<AtomicU64>()
    }

    /// `bloom_map_update_elem` (keyed update from a program).
    fn prog_update(&self, _key: &[u8], _value: &[u8], _flags: u64) -> Result<()> {
        err(Errno::EINVAL, "bloom filter: use bpf_map_push_elem")
    }

    /// `bloom_map_delete_elem`.
    fn prog_delete(&self, _key: &[u8]) -> Result<()> {
        err(Errno::EOPNOTSUPP, "bloom filter elements cannot be deleted")
    }

    /// `bloom_map_push_elem`: adds `value`; only `BPF_ANY` is valid.
    fn push(&self, value: &[u8], flags: u64) -> Result<()> {
        if flags != BPF_ANY {
            return err(Errno::EINVAL, "bloom filter push: flags must be BPF_ANY");
        }
        self.check_value_len(value.len())?;
        for i in 0..self.nr_hash_funcs {
            if let Some((word, mask)) = self.word_and_mask(self.bit(value, i)) {
                word.fetch_or(mask, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// `bloom_map_pop_elem`.
    fn pop(&self, _value: &mut [u8]) -> Result<()> {
        err(Errno::EOPNOTSUPP, "bloom filter elements cannot be popped")
    }

    /// `bloom_map_peek_elem`: `ENOENT` when `value` is definitely not in the set.
    fn peek(&self, value: &mut [u8]) -> Result<()> {
        self.check_value_len(value.len())?;
        for i in 0..self.nr_hash_funcs {
            let set = match self.word_and_mask(self.bit(value, i)) {
                Some((word, mask)) => word.load(Ordering::Relaxed) & mask != 0,
                None => false,
            };
            if !set {
                return err(Errno::ENOENT, "not in the bloom filter");
            }
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

// ---- Jenkins' lookup3 hash as Linux's include/linux/jhash.h defines it ----

/// `JHASH_INITVAL`.
const JHASH_INITVAL: u32 = 0xdead_beef;

/// `__jhash_mix`.
fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

/// `__jhash_final`: folds `a`, `b` into `c` and returns it.
fn finish(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c.wrapping_sub(b.rotate_left(24))
}

/// Native-endian `u32` at `bytes[i..i + 4]`, missing bytes as zero (never happens for the
/// callers, which stay in bounds).
fn word(bytes: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(src) = bytes.get(i..i + 4) {
        w.copy_from_slice(src);
    }
    u32::from_ne_bytes(w)
}

/// `jhash(key, length, initval)`: bytes in 12-byte blocks read as native-endian words, the
/// last 1..=12 bytes added little-endian style, then the final mix (none for an empty tail).
/// Linux's `length` is a `u32`; values are at most `KMALLOC_MAX_SIZE` bytes.
fn jhash(key: &[u8], initval: u32) -> u32 {
    let len = u32::try_from(key.len()).unwrap_or(u32::MAX);
    let init = JHASH_INITVAL.wrapping_add(len).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = key;
    while rest.len() > 12 {
        a = a.wrapping_add(word(rest, 0));
        b = b.wrapping_add(word(rest, 4));
        c = c.wrapping_add(word(rest, 8));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    b = b.wrapping_add(u32::from_le_bytes([tail[4], tail[5], tail[6], tail[7]]));
    c = c.wrapping_add(u32::from_le_bytes([tail[8], tail[9], tail[10], tail[11]]));
    finish(a, b, c)
}

/// `jhash2(k, length, initval)` over the native-endian `u32` words of `key` (whose length
/// is a multiple of 4).
fn jhash2_bytes(key: &[u8], initval: u32) -> u32 {
    let words = key.len() / 4;
    // `length << 2` of Linux: the byte length of the whole words.
    let bytes = u32::try_from(words * 4).unwrap_or(u32::MAX);
    let init = JHASH_INITVAL.wrapping_add(bytes).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut i = 0;
    let mut left = words;
    while left > 3 {
        a = a.wrapping_add(word(key, i));
        b = b.wrapping_add(word(key, i + 4));
        c = c.wrapping_add(word(key, i + 8));
        mix(&mut a, &mut b, &mut c);
        left -= 3;
        i += 12;
    }
    if left == 0 {
        return c;
    }
    if left == 3 {
        c = c.wrapping_add(word(key, i + 8));
    }
    if left >= 2 {
        b = b.wrapping_add(word(key, i + 4));
    }
    a = a.wrapping_add(word(key, i));
    finish(a, b, c)
}

#[cfg(test)]
mod tests;
