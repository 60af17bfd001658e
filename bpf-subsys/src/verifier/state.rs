//! The abstract state the first pass tracks at each program point, and how states from
//! different paths meet.
//!
//! A register is unwritten, a known constant scalar, a pointer into the current frame's
//! stack at a known offset (`R10` and copies of it moved by constants), or "initialised,
//! unknown" (any other scalar or pointer). The stack records which of its 512 bytes every
//! path has written, how far down every path has written (Linux's `allocated_stack`), and
//! whether a stack address may have escaped into something the pass does not follow (a
//! helper or callee argument, memory, a merge of different offsets): after that, writes
//! through unknown pointers may have initialised the stack, so reads are no longer checked
//! for initialisation (bounds still are).
//!
//! States meet path-insensitively: a register is readable only if it is written on every
//! path, a byte is initialised only if every path wrote it.

use syscall_abi::bpf::limits::MAX_BPF_STACK;

/// Registers `R0`..`R10`.
pub const NREGS: usize = 11;
/// The frame pointer.
pub const FP: usize = 10;
/// Stack bytes per frame as `i32`.
pub const STACK: i32 = MAX_BPF_STACK as i32;

/// What is known about one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// Not written on some path (`NOT_INIT`).
    Uninit,
    /// Written; a scalar or a pointer the pass does not follow.
    Init,
    /// A scalar with this value on every path.
    Const(u64),
    /// This frame's stack pointer plus the offset (`PTR_TO_STACK`, `R10` is `Stack(0)`).
    Stack(i32),
}

impl Reg {
    /// The meet of two paths' values, and whether a stack address was lost in it.
    pub fn meet(self, other: Reg) -> (Reg, bool) {
        match (self, other) {
            (a, b) if a == b => (a, false),
            (Reg::Uninit, _) | (_, Reg::Uninit) => (Reg::Uninit, false),
            (Reg::Stack(_), _) | (_, Reg::Stack(_)) => (Reg::Init, true),
            _ => (Reg::Init, false),
        }
    }
}

/// The state at one program point of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// `R0`..`R10`.
    pub regs: [Reg; NREGS],
    /// Bit `i` set: stack byte at offset `i - 512` is initialised on every path.
    pub init: [u64; 8],
    /// Bytes below the frame pointer written on every path, in 8-byte slots.
    pub allocated: i32,
    /// A stack address may be held where the pass cannot see writes through it.
    pub escaped: bool,
}

impl State {
    /// A frame's state on entry: only `R10` set, an empty stack.
    pub fn entry() -> Self {
        let mut regs = [Reg::Uninit; NREGS];
        regs[FP] = Reg::Stack(0);
        State { regs, init: [0; 8], allocated: 0, escaped: false }
    }

    /// Meets `other` into `self`; returns whether `self` changed.
    pub fn meet(&mut self, other: &State) -> bool {
        let before = self.clone();
        for (mine, theirs) in self.regs.iter_mut().zip(other.regs.iter()) {
            let (reg, lost) = mine.meet(*theirs);
            *mine = reg;
            self.escaped |= lost;
        }
        for (mine, theirs) in self.init.iter_mut().zip(other.init.iter()) {
            *mine &= *theirs;
        }
        self.allocated = self.allocated.min(other.allocated);
        self.escaped |= other.escaped;
        *self != before
    }

    /// Marks `[off, off + size)` (within the frame) written.
    pub fn write_stack(&mut self, off: i32, size: i32) {
        for at in off..off + size {
            if let Some(bit) = stack_bit(at) {
                self.init[bit / 64] |= 1 << (bit % 64);
            }
        }
        // grow_stack_state(round_up(slot + 1, BPF_REG_SIZE)) with slot = -off - 1.
        let depth = (-off + 7) / 8 * 8;
        self.allocated = self.allocated.max(depth.min(STACK));
    }

    /// The first byte of `[off, off + size)` that some path left unwritten, as an index
    /// from `off`.
    pub fn first_uninit(&self, off: i32, size: i32) -> Option<i32> {
        (0..size).find(|i| match stack_bit(off + i) {
            Some(bit) => self.init[bit / 64] & (1 << (bit % 64)) == 0,
            None => true,
        })
    }

    /// Forgets everything about the stack's contents (a stack address escaped).
    pub fn escape(&mut self) {
        self.escaped = true;
    }
}

/// The bit of stack offset `off` (`-512..0`).
fn stack_bit(off: i32) -> Option<usize> {
    usize::try_from(off + STACK).ok().filter(|&b| b < MAX_BPF_STACK)
}
