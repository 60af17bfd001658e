//! The abstract state of one path (Linux `struct bpf_verifier_state`): the call frames, each
//! with its registers and stack, and the references the path holds.
//!
//! A register is unwritten (`NOT_INIT`), a scalar with unsigned and signed bounds (a
//! constant when they meet), a typed pointer (context, stack of a frame, map, map value,
//! memory of a known size, subprogram), each with a fixed offset and a bounded variable
//! offset, possibly null (`_OR_NULL`, with an id shared by its copies), or
//! [`Reg::Unknown`]: written, of a type this pass does not follow (a callback's
//! arguments), whose accesses are left to the engine's run-time checks.
//!
//! The stack is 64 slots of 8 bytes: which bytes are written, and a spilled register when
//! all 8 were written at once by an 8-byte store of a register (Linux `STACK_SPILL`).

use alloc::vec::Vec;

use syscall_abi::bpf::limits::MAX_BPF_STACK;
use syscall_abi::bpf::MapType;

/// Registers `R0`..`R10`.
pub const NREGS: usize = 11;
/// The frame pointer.
pub const FP: usize = 10;
/// Stack bytes per frame as `i32`.
pub const STACK: i32 = MAX_BPF_STACK as i32;
/// 8-byte stack slots per frame.
pub const SLOTS: usize = MAX_BPF_STACK / 8;

/// What the verifier knows of a map a program references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// Its type.
    pub map_type: MapType,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
}

/// A map as a register refers to it: the `ld_imm64` that loaded it (its identity) and,
/// when the loader told, its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapDesc {
    /// First slot of the `ld_imm64`.
    pub insn: u32,
    /// Attributes (`None`: not known at load, checked at run time).
    pub info: Option<MapInfo>,
}

/// Unsigned and signed bounds of a 64-bit value (Linux `umin/umax/smin/smax_value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub umin: u64,
    pub umax: u64,
    pub smin: i64,
    pub smax: i64,
}

impl Bounds {
    /// Any value.
    pub const UNKNOWN: Bounds = Bounds { umin: 0, umax: u64::MAX, smin: i64::MIN, smax: i64::MAX };

    /// Exactly `v`.
    pub fn exact(v: u64) -> Bounds {
        Bounds { umin: v, umax: v, smin: v as i64, smax: v as i64 }
    }

    /// `[lo, hi]` unsigned.
    pub fn urange(lo: u64, hi: u64) -> Bounds {
        let mut b = Bounds { umin: lo, umax: hi, ..Bounds::UNKNOWN };
        b.sync();
        b
    }

    /// The constant, if the bounds pin one value.
    pub fn konst(&self) -> Option<u64> {
        (self.umin == self.umax).then_some(self.umin)
    }

    /// Tightens each pair from the other (Linux `__reg_bound_offset` without tnums).
    pub fn sync(&mut self) {
        if self.smin >= 0 {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        }
        if self.umax <= i64::MAX as u64 {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        } else if self.umin > i64::MAX as u64 {
            // All negative as signed.
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
    }

    /// Whether the bounds are empty (a branch that cannot be taken).
    pub fn is_empty(&self) -> bool {
        self.umin > self.umax || self.smin > self.smax
    }

    /// Whether `self` contains every value of `other`.
    pub fn contains(&self, other: &Bounds) -> bool {
        self.umin <= other.umin && other.umax <= self.umax && self.smin <= other.smin && other.smax <= self.smax
    }
}

/// What a pointer points to (Linux `enum bpf_reg_type`, the base types this pass follows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `PTR_TO_CTX`.
    Ctx,
    /// `PTR_TO_STACK` into the stack of frame `frame` (0: the root's).
    Stack { frame: u8 },
    /// `CONST_PTR_TO_MAP`.
    MapPtr(MapDesc),
    /// `PTR_TO_MAP_VALUE`.
    MapValue(MapDesc),
    /// `PTR_TO_MEM` of `size` bytes; `alloc`: ring buffer memory (`MEM_ALLOC`).
    Mem { size: u32, alloc: bool },
    /// `PTR_TO_FUNC`: the subprogram starting at this instruction.
    Func(u32),
}

/// A typed pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ptr {
    pub kind: Kind,
    /// Fixed offset (Linux `reg->off`).
    pub off: i32,
    /// Variable offset bounds (exactly 0 when none).
    pub var: Bounds,
    /// May be null (`PTR_MAYBE_NULL`).
    pub maybe_null: bool,
    /// Shared by copies of one maybe-null pointer (Linux `reg->id`), 0: none.
    pub id: u32,
    /// The reference it carries (ring buffer memory to submit or discard), 0: none.
    pub ref_id: u32,
}

impl Ptr {
    /// A pointer of `kind` at offset 0.
    pub fn new(kind: Kind) -> Ptr {
        Ptr { kind, off: 0, var: Bounds::exact(0), maybe_null: false, id: 0, ref_id: 0 }
    }

    /// Linux's `reg_type_str` of the pointer's type.
    pub fn type_str(&self) -> &'static str {
        match (self.kind, self.maybe_null) {
            (Kind::Ctx, _) => "ctx",
            (Kind::Stack { .. }, _) => "fp",
            (Kind::MapPtr(_), _) => "map_ptr",
            (Kind::MapValue(_), false) => "map_value",
            (Kind::MapValue(_), true) => "map_value_or_null",
            (Kind::Mem { alloc: false, .. }, false) => "mem",
            (Kind::Mem { alloc: false, .. }, true) => "mem_or_null",
            (Kind::Mem { alloc: true, .. }, false) => "alloc_mem",
            (Kind::Mem { alloc: true, .. }, true) => "alloc_mem_or_null",
            (Kind::Func(_), _) => "func",
        }
    }
}

/// A scalar: bounds, and an id shared with registers it was copied to (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scalar {
    pub b: Bounds,
    pub id: u32,
}

/// What is known about one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// Not written (`NOT_INIT`).
    Uninit,
    /// Written, of a type this pass does not follow.
    Unknown,
    /// `SCALAR_VALUE`.
    Scalar(Scalar),
    /// A pointer.
    Ptr(Ptr),
}

impl Reg {
    /// A scalar with bounds `b`.
    pub fn scalar(b: Bounds) -> Reg {
        Reg::Scalar(Scalar { b, id: 0 })
    }

    /// The constant scalar `v`.
    pub fn konst(v: u64) -> Reg {
        Reg::scalar(Bounds::exact(v))
    }

    /// Any scalar.
    pub fn unknown_scalar() -> Reg {
        Reg::scalar(Bounds::UNKNOWN)
    }

    /// The scalar's constant value.
    pub fn as_const(&self) -> Option<u64> {
        match self {
            Reg::Scalar(s) => s.b.konst(),
            _ => None,
        }
    }

    /// A pointer of any kind (Linux `is_pointer_value` for a privileged-only view).
    pub fn is_ptr(&self) -> bool {
        matches!(self, Reg::Ptr(_))
    }

    /// Linux's `reg_type_str`.
    pub fn type_str(&self) -> &'static str {
        match self {
            Reg::Uninit => "?",
            Reg::Unknown | Reg::Scalar(_) => "scalar",
            Reg::Ptr(p) => p.type_str(),
        }
    }
}

/// One 8-byte stack slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Bit `i`: byte `i` of the slot (from its lowest address) was written.
    pub written: u8,
    /// The register spilled here by an 8-byte store.
    pub spill: Option<Reg>,
}

impl Slot {
    const EMPTY: Slot = Slot { written: 0, spill: None };
}

/// One call frame (Linux `struct bpf_func_state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub regs: [Reg; NREGS],
    pub stack: [Slot; SLOTS],
    /// Bytes below the frame pointer written so far, in 8-byte slots (`allocated_stack`).
    pub allocated: i32,
    /// The instruction to return to (the caller's call + 1); unused for the root.
    pub ret_pc: usize,
    /// The subprogram running in this frame.
    pub subprog: usize,
}

impl Frame {
    /// A frame's state on entry: only `R10` set, an empty stack.
    pub fn entry(index: u8, subprog: usize, ret_pc: usize) -> Frame {
        let mut regs = [Reg::Uninit; NREGS];
        regs[FP] = Reg::Ptr(Ptr::new(Kind::Stack { frame: index }));
        Frame { regs, stack: [Slot::EMPTY; SLOTS], allocated: 0, ret_pc, subprog }
    }

    /// The slot and byte of stack offset `off` (`-512..0`).
    fn locate(off: i32) -> Option<(usize, u32)> {
        let byte = usize::try_from(off + STACK).ok().filter(|&b| b < MAX_BPF_STACK)?;
        Some((byte / 8, (byte % 8) as u32))
    }

    /// Marks `[off, off + size)` written with no spilled register (`STACK_MISC`).
    pub fn write_misc(&mut self, off: i32, size: i32) {
        for at in off..off + size {
            if let Some((slot, bit)) = Self::locate(at) {
                let s = &mut self.stack[slot];
                s.written |= 1 << bit;
                s.spill = None;
            }
        }
        self.grow(off);
    }

    /// Spills `reg` into the aligned 8-byte slot at `off`.
    pub fn spill(&mut self, off: i32, reg: Reg) {
        if let Some((slot, _)) = Self::locate(off) {
            self.stack[slot] = Slot { written: 0xff, spill: Some(reg) };
        }
        self.grow(off);
    }

    fn grow(&mut self, off: i32) {
        // grow_stack_state(round_up(slot + 1, BPF_REG_SIZE)) with slot = -off - 1.
        let depth = (-off + 7) / 8 * 8;
        self.allocated = self.allocated.max(depth.min(STACK));
    }

    /// The first byte of `[off, off + size)` left unwritten, as an index from `off`.
    pub fn first_uninit(&self, off: i32, size: i32) -> Option<i32> {
        (0..size).find(|i| match Self::locate(off + i) {
            Some((slot, bit)) => self.stack[slot].written & (1 << bit) == 0,
            None => true,
        })
    }

    /// The register spilled in the slot at aligned `off`.
    pub fn spilled(&self, off: i32) -> Option<Reg> {
        Self::locate(off).and_then(|(slot, _)| self.stack[slot].spill)
    }

    /// Whether the 8-byte slot holding `off` holds a spilled pointer.
    pub fn spilled_ptr_at(&self, off: i32) -> bool {
        Self::locate(off).is_some_and(|(slot, _)| matches!(self.stack[slot].spill, Some(Reg::Ptr(_))))
    }
}

/// The state of one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Call frames, the current one last.
    pub frames: Vec<Frame>,
    /// Acquired references (ring buffer reservations): id and the acquiring instruction.
    pub refs: Vec<(u32, usize)>,
    /// Frames above the root: a callback root starts deeper than the main program.
    pub base_frame: u32,
}

impl State {
    /// The current frame.
    pub fn cur(&self) -> &Frame {
        // A state always has its root frame.
        &self.frames[self.frames.len() - 1]
    }

    /// The current frame, mutably.
    pub fn cur_mut(&mut self) -> &mut Frame {
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    /// Register `r` of the current frame.
    pub fn reg(&self, r: usize) -> Reg {
        self.cur().regs.get(r).copied().unwrap_or(Reg::Uninit)
    }

    /// Every register and spilled register of every frame, mutably (for the id-based
    /// updates of null checks and bounds).
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut Reg)) {
        for frame in &mut self.frames {
            for r in frame.regs.iter_mut() {
                f(r);
            }
            for s in frame.stack.iter_mut() {
                if let Some(r) = s.spill.as_mut() {
                    f(r);
                }
            }
        }
    }
}
