//! Per-CPU probe state: what the CPU is doing inside the probe machinery (running handlers,
//! single-stepping a probed instruction), nested when a probe fires while another is active
//! (Linux keeps one `prev_kprobe`; a small stack here).

use core::cell::UnsafeCell;

use super::snapshot::Site;
use crate::arch::Arch;
use crate::MAX_CPUS;

/// Nesting depth: handler, then a re-entered probe's step, then one more for good measure.
const DEPTH: usize = 4;

/// One level of probe activity on a CPU.
pub(crate) enum Frame<A: Arch> {
    /// Unused.
    Empty,
    /// Handlers of a probe are running.
    Handler,
    /// A probed instruction is being single-stepped out of line.
    Step {
        /// The site (valid while the CPU is counted active in the published snapshot).
        site: *const Site<A>,
        save: A::StepSave,
        /// A re-entered probe: no post handlers.
        reenter: bool,
    },
}

/// The state of one CPU.
pub(crate) struct CpuState<A: Arch> {
    depth: usize,
    frames: [Frame<A>; DEPTH],
}

impl<A: Arch> CpuState<A> {
    /// Whether a handler or a single step is in progress.
    pub(crate) fn busy(&self) -> bool {
        self.depth > 0
    }

    /// Whether no further level fits.
    pub(crate) fn full(&self) -> bool {
        self.depth == DEPTH
    }

    /// Pushes a level; false when the stack is full.
    pub(crate) fn push(&mut self, frame: Frame<A>) -> bool {
        if self.depth == DEPTH {
            return false;
        }
        self.frames[self.depth] = frame;
        self.depth += 1;
        true
    }

    /// Pops the innermost level.
    pub(crate) fn pop(&mut self) {
        if self.depth > 0 {
            self.depth -= 1;
            self.frames[self.depth] = Frame::Empty;
        }
    }

    /// The innermost level.
    pub(crate) fn top(&self) -> Option<&Frame<A>> {
        self.depth.checked_sub(1).map(|i| &self.frames[i])
    }

    /// Replaces the innermost level.
    pub(crate) fn replace_top(&mut self, frame: Frame<A>) {
        if let Some(i) = self.depth.checked_sub(1) {
            self.frames[i] = frame;
        }
    }
}

/// The state of every CPU.
pub(crate) struct PerCpu<A: Arch> {
    cpus: [UnsafeCell<CpuState<A>>; MAX_CPUS],
}

// SAFETY: each CPU's state is only touched by that CPU, from trap context with interrupts
// off (see `PerCpu::get`); the raw site pointers are only dereferenced under the snapshot
// protocol.
unsafe impl<A: Arch> Sync for PerCpu<A> {}
// SAFETY: as above; the state holds no thread-bound data.
unsafe impl<A: Arch> Send for PerCpu<A> {}

impl<A: Arch> PerCpu<A> {
    pub(crate) fn new() -> Self {
        PerCpu {
            cpus: core::array::from_fn(|_| {
                UnsafeCell::new(CpuState { depth: 0, frames: core::array::from_fn(|_| Frame::Empty) })
            }),
        }
    }

    /// Runs `f` on the state of `cpu`, which must be the calling CPU, in trap context
    /// (interrupts off). `f` must not run probe handlers: a handler may take a nested trap
    /// that uses the same state. `None` when `cpu` is not below [`MAX_CPUS`].
    pub(crate) fn with<T>(&self, cpu: u32, f: impl FnOnce(&mut CpuState<A>) -> T) -> Option<T> {
        let cell = self.cpus.get(usize::try_from(cpu).ok()?)?;
        // SAFETY: only the current CPU touches its state, with interrupts off; `f` runs no
        // handler, so no nested trap on this CPU can create a second reference meanwhile.
        Some(f(unsafe { &mut *cell.get() }))
    }
}
