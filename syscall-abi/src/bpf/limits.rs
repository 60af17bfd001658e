//! Kernel-internal limits that user space observes but that are not in any uapi header (so
//! the layout test cannot check them against C; each names its Linux source instead).

/// Bytes of stack per program frame. Reference: `MAX_BPF_STACK` in include/linux/filter.h.
pub const MAX_BPF_STACK: usize = 512;

/// Maximum tail-call chain length. Reference: `MAX_TAIL_CALL_CNT` in include/linux/bpf.h
/// (33 since Linux 5.17).
pub const MAX_TAIL_CALL_CNT: u32 = 33;

/// Maximum program size for privileged loaders. Reference: `BPF_COMPLEXITY_LIMIT_INSNS` in
/// include/linux/bpf.h (also the verifier's processed-instruction budget).
pub const BPF_COMPLEXITY_LIMIT_INSNS: u32 = 1_000_000;

/// Maximum number of arguments of a traced function. Reference: `MAX_BPF_FUNC_ARGS` in
/// include/linux/bpf.h.
pub const MAX_BPF_FUNC_ARGS: usize = 12;

/// Maximum number of register arguments of a helper or kfunc (`r1`..`r5`). Reference:
/// `MAX_BPF_FUNC_REG_ARGS` in include/linux/bpf.h.
pub const MAX_BPF_FUNC_REG_ARGS: usize = 5;
