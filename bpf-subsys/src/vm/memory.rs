//! Memory a program may touch, and the raw accesses the engine makes once an address passed
//! its checks.
//!
//! Addresses are plain `u64`s in registers; pointers handed to the engine are exposed
//! ([`core::ptr`]'s exposed-provenance API) and every access turns a checked address back
//! into a pointer. Loads and stores are unaligned-safe; atomics are real
//! [`core::sync::atomic`] operations and require natural alignment.

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::insn::{BPF_B, BPF_H, BPF_W};
use super::MAX_BPF_STACK;

/// A memory region of a run: the context, or an extra region such as a test's packet.
#[derive(Clone, Copy, Debug)]
pub struct Region<'a> {
    start: u64,
    len: u64,
    writable: bool,
    _mem: PhantomData<&'a ()>,
}

impl<'a> Region<'a> {
    /// A region the program may only read.
    pub fn new(mem: &'a [u8]) -> Self {
        Region {
            start: addr_of(mem.as_ptr().expose_provenance()),
            len: len_of(mem.len()),
            writable: false,
            _mem: PhantomData,
        }
    }

    /// A region the program may read and write.
    pub fn new_mut(mem: &'a mut [u8]) -> Self {
        Region {
            start: addr_of(mem.as_mut_ptr().expose_provenance()),
            len: len_of(mem.len()),
            writable: true,
            _mem: PhantomData,
        }
    }

    /// A region from a raw address, for memory no Rust slice describes (a kernel
    /// structure, memory shared with other CPUs). A region whose end would pass `u64::MAX`
    /// is shortened to end there.
    ///
    /// # Safety
    /// The `len` bytes at `addr` must stay valid (allocated, and writable if `writable`)
    /// while a run using the region lasts, and no Rust reference may cover them exclusively
    /// meanwhile. Accesses from other CPUs during the run are the caller's business, as in
    /// Linux: the program's plain loads and stores are not atomic, its `BPF_ATOMIC`
    /// instructions are.
    pub unsafe fn from_raw(addr: u64, len: u64, writable: bool) -> Self {
        Region { start: addr, len: len.min(u64::MAX - addr), writable, _mem: PhantomData }
    }

    /// First address of the region.
    pub fn addr(&self) -> u64 {
        self.start
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the program may write to it.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Whether `len` bytes at `addr` lie inside (and the region is writable if `write`).
    pub fn contains(&self, addr: u64, len: u64, write: bool) -> bool {
        (!write || self.writable) && within(addr, len, self.start, self.len)
    }
}

/// Whether `[addr, addr + len)` lies in `[start, start + size)`, without overflow.
pub(super) fn within(addr: u64, len: u64, start: u64, size: u64) -> bool {
    match (addr.checked_sub(start), start.checked_add(size)) {
        (Some(off), Some(_)) => off <= size && len <= size - off,
        _ => false,
    }
}

/// One frame's stack: `MAX_BPF_STACK` bytes that never move while the run lasts.
pub(super) struct Stack {
    /// Owns the memory; never resized, so `base` stays valid.
    _buf: Vec<u8>,
    base: u64,
}

impl Stack {
    /// A zeroed stack, or `None` when memory is short.
    pub(super) fn new() -> Option<Stack> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(MAX_BPF_STACK).ok()?;
        buf.resize(MAX_BPF_STACK, 0);
        let base = addr_of(buf.as_mut_ptr().expose_provenance());
        Some(Stack { _buf: buf, base })
    }

    /// One past the highest address: the frame pointer `R10`.
    pub(super) fn top(&self) -> u64 {
        self.base + len_of(MAX_BPF_STACK)
    }

    /// Whether `len` bytes at `addr` lie inside.
    pub(super) fn contains(&self, addr: u64, len: u64) -> bool {
        within(addr, len, self.base, len_of(MAX_BPF_STACK))
    }
}

/// An address as a register holds it. `usize` is at most 64 bits on every target Rust
/// supports, so this never truncates.
fn addr_of(p: usize) -> u64 {
    p as u64
}

/// A length as the engine counts it (never truncates, as for [`addr_of`]).
pub(super) fn len_of(n: usize) -> u64 {
    n as u64
}

/// The width of a load or store (the instruction's size bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Width {
    B,
    H,
    W,
    DW,
}

impl Width {
    /// The width an opcode's size bits (`BPF_B`/`H`/`W`/`DW`) select.
    pub(super) fn of(opc: u8) -> Width {
        match opc & 0x18 {
            BPF_B => Width::B,
            BPF_H => Width::H,
            BPF_W => Width::W,
            _ => Width::DW,
        }
    }

    /// Bytes accessed.
    pub(super) fn bytes(self) -> u64 {
        match self {
            Width::B => 1,
            Width::H => 2,
            Width::W => 4,
            Width::DW => 8,
        }
    }

    /// A loaded value (zero-extended) sign-extended from this width to 64 bits.
    pub(super) fn sign_extend(self, v: u64) -> u64 {
        let shift = 64 - 8 * self.bytes();
        (((v << shift) as i64) >> shift) as u64
    }
}

/// Reads a value of width `w` at `addr` (unaligned, host byte order), zero-extended.
///
/// # Safety
/// The bytes at `addr` must be valid for reads (checked against a region, a stack or the
/// environment's approval) and `addr` must be an exposed address.
pub(super) unsafe fn load(addr: usize, w: Width) -> u64 {
    // SAFETY: the caller guarantees the bytes are readable; `read_unaligned` needs no
    // alignment.
    unsafe {
        match w {
            Width::B => u64::from(ptr::read_unaligned(ptr::with_exposed_provenance::<u8>(addr))),
            Width::H => u64::from(ptr::read_unaligned(ptr::with_exposed_provenance::<u16>(addr))),
            Width::W => u64::from(ptr::read_unaligned(ptr::with_exposed_provenance::<u32>(addr))),
            Width::DW => ptr::read_unaligned(ptr::with_exposed_provenance::<u64>(addr)),
        }
    }
}

/// Writes the low `w` bytes of `value` at `addr` (unaligned, host byte order).
///
/// # Safety
/// As [`load`], for writes.
pub(super) unsafe fn store(addr: usize, w: Width, value: u64) {
    let bytes = value.to_ne_bytes();
    let len = match w {
        Width::B => 1,
        Width::H => 2,
        Width::W => 4,
        Width::DW => 8,
    };
    // The low-order bytes of the value: at the start of its native representation on a
    // little-endian host, at the end on a big-endian one.
    let start = if cfg!(target_endian = "little") { 0 } else { 8 - len };
    // SAFETY: the caller guarantees the `len` bytes at `addr` are writable; `bytes` is a
    // local array of 8 bytes and `start + len <= 8`.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr().add(start), ptr::with_exposed_provenance_mut::<u8>(addr), len) }
}

/// Copies `buf.len()` bytes from `addr`.
///
/// # Safety
/// As [`load`], for `buf.len()` bytes.
pub(super) unsafe fn copy_out(addr: usize, buf: &mut [u8]) {
    // SAFETY: the caller guarantees the source is readable; `buf` is a distinct Rust
    // buffer (program memory is never covered by a Rust reference during a run).
    unsafe { ptr::copy_nonoverlapping(ptr::with_exposed_provenance::<u8>(addr), buf.as_mut_ptr(), buf.len()) }
}

/// Copies `data` to `addr`.
///
/// # Safety
/// As [`load`], for writes of `data.len()` bytes.
pub(super) unsafe fn copy_in(addr: usize, data: &[u8]) {
    // SAFETY: as in `copy_out`, in the other direction.
    unsafe { ptr::copy_nonoverlapping(data.as_ptr(), ptr::with_exposed_provenance_mut::<u8>(addr), data.len()) }
}

/// An atomic read-modify-write, as `BPF_ATOMIC` encodes it in `imm` (without `BPF_FETCH`).
#[derive(Clone, Copy)]
pub(super) enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    Xchg,
    /// Compare with the given value (`R0`), store the operand if equal.
    Cmpxchg(u64),
}

/// Performs `op` on the 64-bit word at `addr` and returns the old value.
///
/// # Safety
/// The 8 bytes at `addr` must be valid for reads and writes, `addr` 8-aligned and exposed.
pub(super) unsafe fn atomic64(addr: usize, op: AtomicOp, val: u64) -> u64 {
    // SAFETY: valid, aligned and writable per the caller; every access the engine makes to
    // program memory that may be shared is either atomic or a plain access Linux also makes.
    let a = unsafe { AtomicU64::from_ptr(ptr::with_exposed_provenance_mut::<u64>(addr)) };
    match op {
        AtomicOp::Add => a.fetch_add(val, Ordering::SeqCst),
        AtomicOp::Or => a.fetch_or(val, Ordering::SeqCst),
        AtomicOp::And => a.fetch_and(val, Ordering::SeqCst),
        AtomicOp::Xor => a.fetch_xor(val, Ordering::SeqCst),
        AtomicOp::Xchg => a.swap(val, Ordering::SeqCst),
        AtomicOp::Cmpxchg(expected) => match a.compare_exchange(expected, val, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(old) | Err(old) => old,
        },
    }
}

/// Performs `op` on the 32-bit word at `addr` and returns the old value (`Cmpxchg`
/// compares with the low 32 bits of its value).
///
/// # Safety
/// As [`atomic64`], with 4 bytes and 4-alignment.
pub(super) unsafe fn atomic32(addr: usize, op: AtomicOp, val: u32) -> u32 {
    // SAFETY: as in `atomic64`.
    let a = unsafe { AtomicU32::from_ptr(ptr::with_exposed_provenance_mut::<u32>(addr)) };
    match op {
        AtomicOp::Add => a.fetch_add(val, Ordering::SeqCst),
        AtomicOp::Or => a.fetch_or(val, Ordering::SeqCst),
        AtomicOp::And => a.fetch_and(val, Ordering::SeqCst),
        AtomicOp::Xor => a.fetch_xor(val, Ordering::SeqCst),
        AtomicOp::Xchg => a.swap(val, Ordering::SeqCst),
        AtomicOp::Cmpxchg(expected) => {
            match a.compare_exchange(super::alu::lo32(expected), val, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(old) | Err(old) => old,
            }
        }
    }
}
