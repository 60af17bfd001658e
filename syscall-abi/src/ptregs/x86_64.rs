//! x86_64 register frames.
//!
//! Reference: `struct pt_regs` in arch/x86/include/uapi/asm/ptrace.h (x86_64 branch), which
//! is also the kernel's own `struct pt_regs` (arch/x86/include/asm/ptrace.h) in the same
//! order, and `bpf_user_pt_regs_t` = `struct pt_regs` (asm-generic/bpf_perf_event.h). Checked
//! by the layout test against the real `<asm/ptrace.h>` and `<linux/bpf_perf_event.h>`.

crate::uapi_struct! {
    #[c = "struct pt_regs", whole]
    /// Registers saved on kernel entry: the context of kprobe programs and the `regs` of
    /// perf event programs.
    ///
    /// Reference: `struct pt_regs` in arch/x86/include/uapi/asm/ptrace.h.
    #[doc(alias = "pt_regs")]
    pub struct PtRegs {
        /// `r15`.
        pub r15: u64 => "r15",
        /// `r14`.
        pub r14: u64 => "r14",
        /// `r13`.
        pub r13: u64 => "r13",
        /// `r12`.
        pub r12: u64 => "r12",
        /// Frame pointer.
        pub rbp: u64 => "rbp",
        /// `rbx`.
        pub rbx: u64 => "rbx",
        /// `r11`.
        pub r11: u64 => "r11",
        /// `r10`.
        pub r10: u64 => "r10",
        /// `r9`.
        pub r9: u64 => "r9",
        /// `r8`.
        pub r8: u64 => "r8",
        /// Return value / syscall number.
        pub rax: u64 => "rax",
        /// `rcx`.
        pub rcx: u64 => "rcx",
        /// `rdx`.
        pub rdx: u64 => "rdx",
        /// `rsi`.
        pub rsi: u64 => "rsi",
        /// `rdi`.
        pub rdi: u64 => "rdi",
        /// Syscall number on syscall entry; error code on exceptions; IRQ number on interrupts.
        pub orig_rax: u64 => "orig_rax",
        /// Instruction pointer.
        pub rip: u64 => "rip",
        /// Code segment.
        pub cs: u64 => "cs",
        /// Flags.
        pub eflags: u64 => "eflags",
        /// Stack pointer.
        pub rsp: u64 => "rsp",
        /// Stack segment.
        pub ss: u64 => "ss",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_perf_event_data", whole]
    /// Context of `BPF_PROG_TYPE_PERF_EVENT` programs on x86_64.
    ///
    /// Reference: `struct bpf_perf_event_data` in include/uapi/linux/bpf_perf_event.h.
    #[doc(alias = "bpf_perf_event_data")]
    pub struct BpfPerfEventData {
        /// The sampled registers (`bpf_user_pt_regs_t`).
        pub regs: PtRegs => "regs",
        /// Sample period of the event.
        pub sample_period: u64 => "sample_period",
        /// Sampled data address.
        pub addr: u64 => "addr",
    }
}
