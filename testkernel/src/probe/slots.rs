//! Instruction slots for kprobes: 32-byte executable slots (the out-of-line copy of a
//! probed instruction plus its jump back, or a kretprobe trampoline).
//!
//! The kernel's slots live in `kprobe_insn_slots`, a 16 KiB page-aligned area inside
//! `.text` (so within ±2 GiB of every kernel function, as rel32 fix-ups need, and mapped
//! executable and writable like the rest of the image), filled with `int3`. [`SlotMap`]
//! is the allocator: a lock-free bitmap, usable from trap context.

use core::sync::atomic::{AtomicU64, Ordering};

/// Bytes per slot (`kprobe_arch::SLOT_SIZE`).
pub const SLOT_SIZE: u64 = 32;
/// Bytes of the kernel's slot area.
pub const AREA_SIZE: u64 = 16 * 1024;
/// Slots in the kernel's area.
pub const SLOTS: usize = (AREA_SIZE / SLOT_SIZE) as usize;

/// A bitmap allocator of [`SLOTS`] slots over an area starting at a base address.
pub struct SlotMap {
    used: [AtomicU64; SLOTS / 64],
}

impl Default for SlotMap {
    fn default() -> Self {
        Self::new()
    }
}

impl SlotMap {
    /// All slots free.
    pub const fn new() -> SlotMap {
        SlotMap { used: [const { AtomicU64::new(0) }; SLOTS / 64] }
    }

    /// Takes a free slot: its index, `None` when all are in use.
    pub fn alloc(&self) -> Option<usize> {
        for (w, word) in self.used.iter().enumerate() {
            let mut cur = word.load(Ordering::Relaxed);
            while cur != u64::MAX {
                let bit = (!cur).trailing_zeros();
                match word.compare_exchange_weak(cur, cur | 1 << bit, Ordering::AcqRel, Ordering::Relaxed) {
                    Ok(_) => return Some(w * 64 + bit as usize),
                    Err(now) => cur = now,
                }
            }
        }
        None
    }

    /// Returns slot `i`; false if it was not in use (or out of range).
    pub fn free(&self, i: usize) -> bool {
        let Some(word) = self.used.get(i / 64) else { return false };
        let bit = 1u64 << (i % 64);
        word.fetch_and(!bit, Ordering::AcqRel) & bit != 0
    }

    /// Slots in use.
    pub fn in_use(&self) -> usize {
        self.used.iter().map(|w| w.load(Ordering::Relaxed).count_ones() as usize).sum()
    }
}

/// The index of the slot at `addr` in an area at `base` (`None`: not a slot start).
pub fn index_of(base: u64, addr: u64) -> Option<usize> {
    let off = addr.checked_sub(base)?;
    (off < AREA_SIZE && off % SLOT_SIZE == 0).then_some((off / SLOT_SIZE) as usize)
}

#[cfg(target_os = "none")]
core::arch::global_asm!(
    r#"
    .section .text.kprobe_slots, "ax"
    .balign 4096
    .global kprobe_insn_slots
    .type kprobe_insn_slots, @function
kprobe_insn_slots:
    .fill {size}, 1, 0xcc
    .size kprobe_insn_slots, {size}
    .balign 4096
    "#,
    size = const AREA_SIZE,
    options(att_syntax)
);

/// The kernel's slot area (base address).
#[cfg(target_os = "none")]
pub fn area_base() -> u64 {
    extern "C" {
        static kprobe_insn_slots: u8;
    }
    core::ptr::addr_of!(kprobe_insn_slots) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_every_slot_once_then_none() {
        let m = SlotMap::new();
        let mut seen = alloc::vec![false; SLOTS];
        for _ in 0..SLOTS {
            let i = m.alloc().unwrap();
            assert!(!seen[i]);
            seen[i] = true;
        }
        assert_eq!(m.alloc(), None);
        assert_eq!(m.in_use(), SLOTS);
        assert!(m.free(77));
        assert!(!m.free(77), "double free is refused");
        assert!(!m.free(SLOTS));
        assert_eq!(m.alloc(), Some(77));
    }

    #[test]
    fn slot_addresses_map_back_to_indices() {
        assert_eq!(index_of(0x1000, 0x1000), Some(0));
        assert_eq!(index_of(0x1000, 0x1000 + 5 * SLOT_SIZE), Some(5));
        assert_eq!(index_of(0x1000, 0x1001), None);
        assert_eq!(index_of(0x1000, 0xfff), None);
        assert_eq!(index_of(0x1000, 0x1000 + AREA_SIZE), None);
    }
}
