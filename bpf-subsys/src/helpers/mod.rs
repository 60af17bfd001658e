//! The helper functions programs call (Linux `bpf_*` helpers, by id) and the environment a
//! program runs in: [`ProgEnv`] implements [`crate::vm::Env`], [`helper_ops`] gives the
//! verifier the helper table of each program type.
//!
//! # Trust
//! Nothing a program passes is trusted. A map argument (`R1` of `bpf_map_lookup_elem`, ...)
//! must be the address of one of the running program's used maps (what the loader put into
//! the `ld_imm64`, `Arc::as_ptr(&map_obj)`), or of an inner map a map-in-map lookup of this
//! run returned; anything else → `-EINVAL`. A memory argument must lie in the run's own
//! memory (stack, context, regions: checked by [`ActiveRun::read`]/[`ActiveRun::write`]) or
//! in memory this environment approved ([`crate::vm::Env::mem_ok`]); otherwise `-EFAULT`.
//! Linux's verifier proves these facts before the program runs; verifier-lite does not, so
//! they are checked at every call and a bad argument is an errno, never a crash.
//!
//! # Memory the environment approves ([`ProgEnv::mem_ok`])
//! - Values `bpf_map_lookup_elem` returned during the run (`value_size` bytes), readable
//!   unless the map has `BPF_F_WRONLY_PROG`, writable unless `BPF_F_RDONLY_PROG`. They stay
//!   valid for the whole run: values of deleted elements are freed only after the run's
//!   `maps::reclaim::Guard` is dropped.
//! - The value of every one-element plain array the program uses (global data that
//!   `BPF_PSEUDO_MAP_VALUE` loads address directly).
//! - Ring buffer samples reserved with `bpf_ringbuf_reserve`, until submitted or discarded.
//!   verifier-lite does not prove that every reservation is released (Linux does): samples
//!   still reserved when the [`ProgEnv`] is dropped are discarded then, so the ring never
//!   stalls.
//! - During a `bpf_for_each_map_elem` callback, the key and value passed to it.
//!
//! # Differences from Linux (documented deviations)
//! - Writes through helpers to a `BPF_F_RDONLY_PROG` map (`update`, `delete`, `push`, `pop`)
//!   return `-EACCES` at run time; Linux rejects such programs at verification.
//! - `bpf_get_stackid` returns `-EOPNOTSUPP`: there is no stack trace map yet.
//! - `bpf_trace_printk`/`bpf_snprintf` print `%p` like `%px` (the raw value as 16 hex
//!   digits): there is no pointer hashing. The other `%p` extensions (`%pI4`, `%pS`, `%pks`,
//!   ...) are `-EINVAL`.
//! - `bpf_probe_read` (the legacy helper) tries user memory first, then kernel memory
//!   (Linux decides by comparing the address with `TASK_SIZE`, which a portable host lacks).

mod env;
mod format;
mod map;
mod misc;
mod ops;
mod perf_event;
mod probe;
mod ringbuf;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;

pub use env::{ProgEnv, RunCtx};
pub use ops::{helper_ops, HelperOps};
pub use perf_event::PerfEventOutput;

use syscall_abi::Errno;

/// `-errno` as a helper's `R0`.
fn neg(e: Errno) -> u64 {
    (-i64::from(e.0)) as u64
}
