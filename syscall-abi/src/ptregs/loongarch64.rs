//! loongarch64 register frames.
//!
//! Reference: `struct pt_regs` in arch/loongarch/include/asm/ptrace.h (kernel) and
//! `struct user_pt_regs` in arch/loongarch/include/uapi/asm/ptrace.h (user);
//! `bpf_user_pt_regs_t` is `struct user_pt_regs`
//! (arch/loongarch/include/uapi/asm/bpf_perf_event.h). These headers are not installed on an
//! x86_64 host, so the layout test compares against C structs transcribed from Linux 6.1 with
//! `unsigned long` members (8 bytes on loongarch64 as on the x86_64 host).

crate::uapi_struct! {
    #[c = "struct loongarch64_pt_regs", whole]
    /// The kernel's register frame: the context of kprobe programs.
    ///
    /// Reference: `struct pt_regs` in arch/loongarch/include/asm/ptrace.h (8-byte aligned).
    /// Its trailing flexible array `__last[]` (a marker for `MAX_REG_OFFSET`) is mirrored as
    /// the zero-length [`PtRegs::last`].
    #[doc(alias = "pt_regs")]
    pub struct PtRegs {
        /// General registers `r0`..`r31` (`r1` ra, `r3` sp, `r4`..`r11` a0..a7).
        pub regs: [u64; 32] => "regs",
        /// `a0` before the syscall.
        pub orig_a0: u64 => "orig_a0",
        /// Exception return address (the trapping instruction).
        pub csr_era: u64 => "csr_era",
        /// Faulting virtual address.
        pub csr_badvaddr: u64 => "csr_badvaddr",
        /// Current mode CSR.
        pub csr_crmd: u64 => "csr_crmd",
        /// Previous mode CSR.
        pub csr_prmd: u64 => "csr_prmd",
        /// Extended unit enable CSR.
        pub csr_euen: u64 => "csr_euen",
        /// Exception configuration CSR.
        pub csr_ecfg: u64 => "csr_ecfg",
        /// Exception status CSR.
        pub csr_estat: u64 => "csr_estat",
        /// End marker (zero-length).
        pub last: [u64; 0] => "__last" [flex],
    }
}

crate::uapi_struct! {
    #[c = "struct loongarch64_user_pt_regs", whole]
    /// The user-visible registers (`bpf_user_pt_regs_t` on loongarch64).
    ///
    /// Reference: `struct user_pt_regs` in arch/loongarch/include/uapi/asm/ptrace.h.
    #[doc(alias = "user_pt_regs")]
    pub struct UserPtRegs {
        /// General registers `r0`..`r31`.
        pub regs: [u64; 32] => "regs",
        /// `a0` before the syscall.
        pub orig_a0: u64 => "orig_a0",
        /// Exception return address.
        pub csr_era: u64 => "csr_era",
        /// Faulting virtual address.
        pub csr_badv: u64 => "csr_badv",
        /// Reserved.
        pub reserved: [u64; 10] => "reserved",
    }
}

crate::uapi_struct! {
    #[c = "struct loongarch64_bpf_perf_event_data", whole]
    /// Context of `BPF_PROG_TYPE_PERF_EVENT` programs on loongarch64.
    ///
    /// Reference: `struct bpf_perf_event_data` in include/uapi/linux/bpf_perf_event.h with
    /// `bpf_user_pt_regs_t` = `struct user_pt_regs`.
    #[doc(alias = "bpf_perf_event_data")]
    pub struct BpfPerfEventData {
        /// The sampled registers (`bpf_user_pt_regs_t`).
        pub regs: UserPtRegs => "regs",
        /// Sample period of the event.
        pub sample_period: u64 => "sample_period",
        /// Sampled data address.
        pub addr: u64 => "addr",
    }
}
