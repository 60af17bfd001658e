//! Why a run stopped without reaching `exit`.

use core::fmt;

/// A run aborted: what went wrong and at which instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmError {
    /// Index of the instruction that failed, in the program running at that moment (after a
    /// tail call: in the tail-called program). `None` only for an error an [`super::Env`]
    /// made outside any instruction; the engine fills it in as the error passes through.
    pub pc: Option<usize>,
    /// What went wrong.
    pub kind: VmErrorKind,
}

/// The reasons a run can abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmErrorKind {
    /// A load, store or atomic outside the current frames' stacks, the context, the run's
    /// regions and what the environment approves; or a store to read-only memory.
    MemoryAccess {
        /// First byte accessed.
        addr: u64,
        /// Bytes accessed.
        len: u64,
        /// Whether the access writes.
        write: bool,
    },
    /// An atomic operation on an address that is not a multiple of its size.
    MisalignedAtomic {
        /// The address.
        addr: u64,
    },
    /// An opcode outside the instruction set, or fields that make it meaningless (a
    /// register above R10, an unknown offset/immediate selector, a truncated `ld_imm64`).
    InvalidInsn {
        /// The opcode byte.
        opcode: u8,
    },
    /// An instruction of the ISA this engine deliberately does not run: legacy packet loads
    /// (`LD | ABS`, `LD | IND`) and kfunc calls (`call` with `src = BPF_PSEUDO_KFUNC_CALL`).
    Unsupported {
        /// The opcode byte.
        opcode: u8,
    },
    /// Control reached an index outside the program (a jump or call target out of range, or
    /// the last instruction is not `exit`/`ja`).
    PcOutOfRange {
        /// The index control would have reached.
        target: i64,
    },
    /// A bpf-to-bpf call or callback would need more than `MAX_CALL_FRAMES` frames.
    CallDepth,
    /// The run executed more instructions than its budget allows.
    BudgetExceeded,
    /// `call` of a helper id the environment does not know.
    UnknownHelper {
        /// The helper id.
        id: u32,
    },
    /// A helper stopped the run (for example, it found an argument it cannot accept).
    HelperFault {
        /// The helper id.
        id: u32,
    },
    /// Memory for a stack frame could not be allocated.
    NoMemory,
}

impl VmError {
    /// An error at instruction `pc`.
    pub fn at(pc: usize, kind: VmErrorKind) -> Self {
        VmError { pc: Some(pc), kind }
    }

    /// An error raised by an environment; the engine adds the instruction index.
    pub fn new(kind: VmErrorKind) -> Self {
        VmError { pc: None, kind }
    }
}

impl fmt::Display for VmErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VmErrorKind::MemoryAccess { addr, len, write } => {
                let what = if write { "write" } else { "read" };
                write!(f, "invalid {what} of {len} bytes at {addr:#x}")
            }
            VmErrorKind::MisalignedAtomic { addr } => write!(f, "misaligned atomic access at {addr:#x}"),
            VmErrorKind::InvalidInsn { opcode } => write!(f, "invalid instruction (opcode {opcode:#04x})"),
            VmErrorKind::Unsupported { opcode } => write!(f, "unsupported instruction (opcode {opcode:#04x})"),
            VmErrorKind::PcOutOfRange { target } => write!(f, "control left the program (to {target})"),
            VmErrorKind::CallDepth => f.write_str("call stack too deep"),
            VmErrorKind::BudgetExceeded => f.write_str("instruction budget exceeded"),
            VmErrorKind::UnknownHelper { id } => write!(f, "unknown helper {id}"),
            VmErrorKind::HelperFault { id } => write!(f, "helper {id} aborted the program"),
            VmErrorKind::NoMemory => f.write_str("out of memory for a stack frame"),
        }
    }
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pc {
            Some(pc) => write!(f, "insn {pc}: {}", self.kind),
            None => fmt::Display::fmt(&self.kind, f),
        }
    }
}

impl core::error::Error for VmError {}
