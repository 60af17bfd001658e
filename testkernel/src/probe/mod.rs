//! The kernel side of kprobes and the Linux-named probe targets.
//!
//! - [`targets`], [`targets_sys`], `targets_task`: `#[no_mangle]` functions named as in Linux
//!   (`__x64_sys_<name>`, `vfs_read`, `do_sys_openat2`, `do_exit`, `kernel_clone`,
//!   `schedule`, ...) that the syscall, file and task paths pass through, taking Linux's
//!   arguments in Linux's registers where that means something, so programs written for
//!   Linux attach to the same names and read the same `PT_REGS_PARMn`.
//! - [`blocklist`]: which symbols must not be probed (Linux `NOKPROBE_SYMBOL`): the trap
//!   path, the probe machinery, the allocator, the console.
//! - [`slots`]: the instruction-slot allocator (32-byte slots in a page-aligned area of
//!   `.text`, within ±2 GiB of all kernel code).
//! - `host` (kernel): the `kprobe_arch::KprobeHost` implementation — text poking through
//!   the writable kernel text mapping, the slots, kallsyms, the blocklist.
//! - `hooks` (kernel): the `#BP`/`#DB` hooks that hand traps to the probe engine.
//! - `bench` (kernel): the `int3bench` boot-time micro-benchmark; `selftest` (kernel): the
//!   `probetest` boot-time check of the engine on the kernel's own text.

pub mod blocklist;
pub mod slots;
pub mod targets;
pub mod targets_sys;

#[cfg(target_os = "none")]
pub mod bench;
#[cfg(target_os = "none")]
pub mod hooks;
#[cfg(target_os = "none")]
pub mod host;
#[cfg(target_os = "none")]
pub mod selftest;
#[cfg(target_os = "none")]
pub mod targets_task;
#[cfg(target_os = "none")]
pub mod text;
