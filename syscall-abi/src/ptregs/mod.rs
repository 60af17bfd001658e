//! Register frames (`struct pt_regs`) of the supported architectures, and the perf event
//! program context that embeds the user-visible part of them.
//!
//! All three are always compiled (a kernel for one architecture still parses the others'
//! layouts in tests and tools); [`native`] names the one of the target being built.

pub mod loongarch64;
pub mod riscv64;
pub mod x86_64;

/// The register frames of the target architecture.
#[cfg(target_arch = "x86_64")]
pub use self::x86_64 as native;

/// The register frames of the target architecture.
#[cfg(target_arch = "riscv64")]
pub use self::riscv64 as native;

/// The register frames of the target architecture.
#[cfg(target_arch = "loongarch64")]
pub use self::loongarch64 as native;
