//! riscv64 register frames.
//!
//! Reference: `struct pt_regs` in arch/riscv/include/asm/ptrace.h (kernel) and
//! `struct user_regs_struct` in arch/riscv/include/uapi/asm/ptrace.h (user, the first 32
//! registers of `pt_regs`); `bpf_user_pt_regs_t` is `struct user_regs_struct`
//! (arch/riscv/include/uapi/asm/bpf_perf_event.h). These headers are not installed on an
//! x86_64 host, so the layout test compares against C structs transcribed from Linux 6.1 with
//! `unsigned long` members (8 bytes on riscv64 as on the x86_64 host).

crate::uapi_struct! {
    #[c = "struct riscv64_pt_regs", whole]
    /// The kernel's register frame: the context of kprobe programs (whose first 32 words are
    /// the user-visible [`UserRegsStruct`]).
    ///
    /// Reference: `struct pt_regs` in arch/riscv/include/asm/ptrace.h.
    #[doc(alias = "pt_regs")]
    pub struct PtRegs {
        /// Exception program counter (the trapping instruction).
        pub epc: u64 => "epc",
        /// Return address.
        pub ra: u64 => "ra",
        /// Stack pointer.
        pub sp: u64 => "sp",
        /// Global pointer.
        pub gp: u64 => "gp",
        /// Thread pointer.
        pub tp: u64 => "tp",
        /// `t0`.
        pub t0: u64 => "t0",
        /// `t1`.
        pub t1: u64 => "t1",
        /// `t2`.
        pub t2: u64 => "t2",
        /// Saved register / frame pointer.
        pub s0: u64 => "s0",
        /// `s1`.
        pub s1: u64 => "s1",
        /// Argument / return value.
        pub a0: u64 => "a0",
        /// `a1`.
        pub a1: u64 => "a1",
        /// `a2`.
        pub a2: u64 => "a2",
        /// `a3`.
        pub a3: u64 => "a3",
        /// `a4`.
        pub a4: u64 => "a4",
        /// `a5`.
        pub a5: u64 => "a5",
        /// `a6`.
        pub a6: u64 => "a6",
        /// `a7`.
        pub a7: u64 => "a7",
        /// `s2`.
        pub s2: u64 => "s2",
        /// `s3`.
        pub s3: u64 => "s3",
        /// `s4`.
        pub s4: u64 => "s4",
        /// `s5`.
        pub s5: u64 => "s5",
        /// `s6`.
        pub s6: u64 => "s6",
        /// `s7`.
        pub s7: u64 => "s7",
        /// `s8`.
        pub s8: u64 => "s8",
        /// `s9`.
        pub s9: u64 => "s9",
        /// `s10`.
        pub s10: u64 => "s10",
        /// `s11`.
        pub s11: u64 => "s11",
        /// `t3`.
        pub t3: u64 => "t3",
        /// `t4`.
        pub t4: u64 => "t4",
        /// `t5`.
        pub t5: u64 => "t5",
        /// `t6`.
        pub t6: u64 => "t6",
        /// Supervisor status CSR (kernel only).
        pub status: u64 => "status",
        /// Faulting address CSR (kernel only).
        pub badaddr: u64 => "badaddr",
        /// Trap cause CSR (kernel only).
        pub cause: u64 => "cause",
        /// `a0` before the syscall (kernel only).
        pub orig_a0: u64 => "orig_a0",
    }
}

crate::uapi_struct! {
    #[c = "struct riscv64_user_regs_struct", whole]
    /// The user-visible registers (`bpf_user_pt_regs_t` on riscv64), a prefix of [`PtRegs`].
    ///
    /// Reference: `struct user_regs_struct` in arch/riscv/include/uapi/asm/ptrace.h.
    #[doc(alias = "user_regs_struct")]
    pub struct UserRegsStruct {
        /// Program counter (the kernel's `epc`).
        pub pc: u64 => "pc",
        /// Return address.
        pub ra: u64 => "ra",
        /// Stack pointer.
        pub sp: u64 => "sp",
        /// Global pointer.
        pub gp: u64 => "gp",
        /// Thread pointer.
        pub tp: u64 => "tp",
        /// `t0`.
        pub t0: u64 => "t0",
        /// `t1`.
        pub t1: u64 => "t1",
        /// `t2`.
        pub t2: u64 => "t2",
        /// Saved register / frame pointer.
        pub s0: u64 => "s0",
        /// `s1`.
        pub s1: u64 => "s1",
        /// Argument / return value.
        pub a0: u64 => "a0",
        /// `a1`.
        pub a1: u64 => "a1",
        /// `a2`.
        pub a2: u64 => "a2",
        /// `a3`.
        pub a3: u64 => "a3",
        /// `a4`.
        pub a4: u64 => "a4",
        /// `a5`.
        pub a5: u64 => "a5",
        /// `a6`.
        pub a6: u64 => "a6",
        /// `a7`.
        pub a7: u64 => "a7",
        /// `s2`.
        pub s2: u64 => "s2",
        /// `s3`.
        pub s3: u64 => "s3",
        /// `s4`.
        pub s4: u64 => "s4",
        /// `s5`.
        pub s5: u64 => "s5",
        /// `s6`.
        pub s6: u64 => "s6",
        /// `s7`.
        pub s7: u64 => "s7",
        /// `s8`.
        pub s8: u64 => "s8",
        /// `s9`.
        pub s9: u64 => "s9",
        /// `s10`.
        pub s10: u64 => "s10",
        /// `s11`.
        pub s11: u64 => "s11",
        /// `t3`.
        pub t3: u64 => "t3",
        /// `t4`.
        pub t4: u64 => "t4",
        /// `t5`.
        pub t5: u64 => "t5",
        /// `t6`.
        pub t6: u64 => "t6",
    }
}

crate::uapi_struct! {
    #[c = "struct riscv64_bpf_perf_event_data", whole]
    /// Context of `BPF_PROG_TYPE_PERF_EVENT` programs on riscv64.
    ///
    /// Reference: `struct bpf_perf_event_data` in include/uapi/linux/bpf_perf_event.h with
    /// `bpf_user_pt_regs_t` = `struct user_regs_struct`.
    #[doc(alias = "bpf_perf_event_data")]
    pub struct BpfPerfEventData {
        /// The sampled registers (`bpf_user_pt_regs_t`).
        pub regs: UserRegsStruct => "regs",
        /// Sample period of the event.
        pub sample_period: u64 => "sample_period",
        /// Sampled data address.
        pub addr: u64 => "addr",
    }
}
