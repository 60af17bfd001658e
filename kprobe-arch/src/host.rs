//! What the kernel provides to the probe machinery.

use syscall_abi::Result;

/// Kernel services for kprobes. Every method may be called from trap context (`#BP`/`#DB`,
/// interrupts off), so none may block or take a lock a probed function might hold.
pub trait KprobeHost: Send + Sync {
    /// Writes `bytes` at kernel text `addr` (Linux `text_poke`); visible to execution at once.
    fn text_poke(&self, addr: u64, bytes: &[u8]) -> Result<()>;
    /// Reads kernel text into `buf` (a fault answers `EFAULT`).
    fn text_read(&self, addr: u64, buf: &mut [u8]) -> Result<()>;
    /// An executable slot of [`SLOT_SIZE`](crate::SLOT_SIZE) bytes within ±2 GiB of all
    /// kernel text (written with [`text_poke`](Self::text_poke)); `ENOMEM` when none is left.
    fn alloc_insn_slot(&self) -> Result<u64>;
    /// Returns a slot from [`alloc_insn_slot`](Self::alloc_insn_slot).
    fn free_insn_slot(&self, addr: u64);
    /// kallsyms: the address of the symbol `name`.
    fn symbol_addr(&self, name: &[u8]) -> Option<u64>;
    /// kallsyms: the symbol containing `addr` as (start, size).
    fn symbol_of(&self, addr: u64) -> Option<(u64, u64)>;
    /// Addresses that must not be probed: the trap path and the probe machinery (Linux
    /// `NOKPROBE_SYMBOL`).
    fn is_blocklisted(&self, _addr: u64) -> bool {
        false
    }
    /// The CPU running the caller (below [`MAX_CPUS`](crate::MAX_CPUS)).
    fn current_cpu(&self) -> u32 {
        0
    }
    /// Number of possible CPUs (the kretprobe default `maxactive` is `max(10, 2 * cpus)`).
    fn possible_cpus(&self) -> u32 {
        1
    }
    /// Whether the engine clears IF while single-stepping (kernel: true; user-space tests:
    /// false, user mode cannot change IF).
    fn mask_interrupts_in_step(&self) -> bool {
        true
    }
}
