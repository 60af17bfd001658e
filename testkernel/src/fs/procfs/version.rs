//! The kernel's identity as `uname(2)` and `/proc` report it: shared by procfs and the
//! `uname` syscall so that both always agree.
//!
//! The release parses as Linux 6.1.0 (`%u.%u.%u`), which is what libbpf and aya use for
//! version checks; the version string deliberately names no distribution (aya's
//! `KernelVersion` parses a `Debian x.y.z` or Ubuntu signature when present).

/// `uname -r`, `/proc/sys/kernel/osrelease`.
pub const KERNEL_RELEASE: &str = "6.1.0-ext-ebpf";
/// `uname -v`, `/proc/sys/kernel/version`.
pub const KERNEL_VERSION: &str = "#1 ext-ebpf testkernel";
/// `uname -s`, `/proc/sys/kernel/ostype`.
pub const OS_TYPE: &str = "Linux";
/// `uname -m`.
pub const MACHINE: &str = "x86_64";
/// Host name until one is set (`uname -n`, `/proc/sys/kernel/hostname`).
pub const DEFAULT_HOSTNAME: &str = "ext-ebpf";
/// Who "built" the kernel, as `/proc/version` shows it.
pub const COMPILE_BY: &str = "ext-ebpf@testkernel";
/// The compiler, as `/proc/version` shows it.
pub const COMPILER: &str = "rustc 1.85";

/// The `/proc/version` line (with its newline), in Linux's
/// `Linux version <release> (<by>) (<compiler>) <version>` shape.
pub fn proc_version() -> alloc::string::String {
    alloc::format!("{OS_TYPE} version {KERNEL_RELEASE} ({COMPILE_BY}) ({COMPILER}) {KERNEL_VERSION}\n")
}
