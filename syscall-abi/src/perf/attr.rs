//! `struct perf_event_attr`, the argument of `perf_event_open(2)`.
//!
//! Reference: `struct perf_event_attr` and `PERF_ATTR_SIZE_VER*` in
//! include/uapi/linux/perf_event.h (Linux 6.1). Copy it from user space with
//! [`copy_attr`](super::copy_attr), which applies `perf_copy_attr`'s size rules.

crate::uapi_consts! { ATTR_SIZES: u32;
    /// Size of the first published `perf_event_attr` (and of a zero `size`).
    PERF_ATTR_SIZE_VER0 = 64,
    /// Adds `config2`.
    PERF_ATTR_SIZE_VER1 = 72,
    /// Adds `branch_sample_type`.
    PERF_ATTR_SIZE_VER2 = 80,
    /// Adds `sample_regs_user`, `sample_stack_user`.
    PERF_ATTR_SIZE_VER3 = 96,
    /// Adds `sample_regs_intr`.
    PERF_ATTR_SIZE_VER4 = 104,
    /// Adds `aux_watermark`.
    PERF_ATTR_SIZE_VER5 = 112,
    /// Adds `aux_sample_size`.
    PERF_ATTR_SIZE_VER6 = 120,
    /// Adds `sig_data`; the size of the Linux 6.1 struct.
    PERF_ATTR_SIZE_VER7 = 128,
}

crate::uapi_struct! {
    #[c = "struct perf_event_attr", whole]
    /// Event attributes passed to `perf_event_open(2)`.
    ///
    /// Reference: `struct perf_event_attr` in include/uapi/linux/perf_event.h. The C
    /// bitfields after `read_format` (`disabled` .. `sigtrap`, `__reserved_1`) are one `u64`,
    /// [`PerfEventAttr::flags`], with an accessor pair per bit; unions of same-sized members
    /// are one field named after the generic member (`config1`, `config2`), with the other
    /// names as doc aliases.
    #[doc(alias = "perf_event_attr")]
    pub struct PerfEventAttr {
        /// Major type: `PERF_TYPE_*` or a dynamic PMU type (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Size of the user's struct (for versioning).
        pub size: u32 => "size",
        /// Type-specific event selector.
        pub config: u64 => "config",
        /// Sample period, or frequency when `freq` is set (C union with `sample_freq`).
        pub sample_period: u64 => "sample_period" | "sample_freq",
        /// `PERF_SAMPLE_*` bits.
        pub sample_type: u64 => "sample_type",
        /// `PERF_FORMAT_*` bits.
        pub read_format: u64 => "read_format",
        /// Storage of the flag bitfields.
        pub flags: u64 => "" bits {
            /// Off by default; enable with `PERF_EVENT_IOC_ENABLE`.
            disabled / set_disabled: 0, 1;
            /// Children inherit the event.
            inherit / set_inherit: 1, 1;
            /// Must always be on the PMU.
            pinned / set_pinned: 2, 1;
            /// Only group on the PMU.
            exclusive / set_exclusive: 3, 1;
            /// Do not count user space.
            exclude_user / set_exclude_user: 4, 1;
            /// Do not count the kernel.
            exclude_kernel / set_exclude_kernel: 5, 1;
            /// Do not count the hypervisor.
            exclude_hv / set_exclude_hv: 6, 1;
            /// Do not count when idle.
            exclude_idle / set_exclude_idle: 7, 1;
            /// Emit `PERF_RECORD_MMAP` for executable mappings.
            mmap / set_mmap: 8, 1;
            /// Emit `PERF_RECORD_COMM`.
            comm / set_comm: 9, 1;
            /// `sample_freq` instead of `sample_period`.
            freq / set_freq: 10, 1;
            /// Per-task counts on inheritance.
            inherit_stat / set_inherit_stat: 11, 1;
            /// Enable on the next exec.
            enable_on_exec / set_enable_on_exec: 12, 1;
            /// Emit fork/exit records.
            task / set_task: 13, 1;
            /// `wakeup_watermark` instead of `wakeup_events`.
            watermark / set_watermark: 14, 1;
            /// Skid constraint (0: arbitrary .. 3: zero skid).
            precise_ip / set_precise_ip: 15, 2;
            /// Emit `PERF_RECORD_MMAP` for data mappings.
            mmap_data / set_mmap_data: 17, 1;
            /// `sample_id` on every record.
            sample_id_all / set_sample_id_all: 18, 1;
            /// Do not count in the host.
            exclude_host / set_exclude_host: 19, 1;
            /// Do not count in guests.
            exclude_guest / set_exclude_guest: 20, 1;
            /// No kernel callchains.
            exclude_callchain_kernel / set_exclude_callchain_kernel: 21, 1;
            /// No user callchains.
            exclude_callchain_user / set_exclude_callchain_user: 22, 1;
            /// Emit `PERF_RECORD_MMAP2` with inode data.
            mmap2 / set_mmap2: 23, 1;
            /// Flag comm records caused by exec.
            comm_exec / set_comm_exec: 24, 1;
            /// Use `clockid` for timestamps.
            use_clockid / set_use_clockid: 25, 1;
            /// Emit context switch records.
            context_switch / set_context_switch: 26, 1;
            /// Write the ring buffer from the end.
            write_backward / set_write_backward: 27, 1;
            /// Emit namespace records.
            namespaces / set_namespaces: 28, 1;
            /// Emit ksymbol records.
            ksymbol / set_ksymbol: 29, 1;
            /// Emit BPF program load/unload records.
            bpf_event / set_bpf_event: 30, 1;
            /// Generate AUX records instead of events.
            aux_output / set_aux_output: 31, 1;
            /// Emit cgroup records.
            cgroup / set_cgroup: 32, 1;
            /// Emit text poke records.
            text_poke / set_text_poke: 33, 1;
            /// Build ids in mmap2 records.
            build_id / set_build_id: 34, 1;
            /// Children inherit only if cloned with `CLONE_THREAD`.
            inherit_thread / set_inherit_thread: 35, 1;
            /// Remove the event on exec.
            remove_on_exec / set_remove_on_exec: 36, 1;
            /// Send a synchronous `SIGTRAP` on overflow.
            sigtrap / set_sigtrap: 37, 1;
            /// Reserved, must be zero.
            reserved_1 = "__reserved_1" / set_reserved_1: 38, 26;
        },
        /// Wake up every n events, or at n bytes with `watermark` (C union with
        /// `wakeup_watermark`).
        pub wakeup_events: u32 => "wakeup_events" | "wakeup_watermark",
        /// Breakpoint type.
        pub bp_type: u32 => "bp_type",
        /// Extension of `config`: breakpoint address, kprobe function name pointer, uprobe
        /// path pointer (C union `bp_addr`/`kprobe_func`/`uprobe_path`/`config1`).
        pub config1: u64 => "config1" | "bp_addr" | "kprobe_func" | "uprobe_path",
        /// Extension of `config1`: breakpoint length, kprobe address, probe offset (C union
        /// `bp_len`/`kprobe_addr`/`probe_offset`/`config2`).
        pub config2: u64 => "config2" | "bp_len" | "kprobe_addr" | "probe_offset",
        /// `PERF_SAMPLE_BRANCH_*` bits.
        pub branch_sample_type: u64 => "branch_sample_type",
        /// User registers to sample.
        pub sample_regs_user: u64 => "sample_regs_user",
        /// Size of the user stack to sample.
        pub sample_stack_user: u32 => "sample_stack_user",
        /// Clock of timestamps with `use_clockid`.
        pub clockid: i32 => "clockid",
        /// Interrupted registers to sample.
        pub sample_regs_intr: u64 => "sample_regs_intr",
        /// AUX area wakeup watermark.
        pub aux_watermark: u32 => "aux_watermark",
        /// Maximum callchain depth.
        pub sample_max_stack: u16 => "sample_max_stack",
        /// Reserved, must be zero.
        pub reserved_2: u16 => "__reserved_2",
        /// AUX data to include in samples.
        pub aux_sample_size: u32 => "aux_sample_size",
        /// Reserved, must be zero.
        pub reserved_3: u32 => "__reserved_3",
        /// User data for `sigtrap` signals (`si_perf_data`).
        pub sig_data: u64 => "sig_data",
    }
}

impl PerfEventAttr {
    /// The `sample_freq` member of the C union (same bytes as `sample_period`).
    pub const fn sample_freq(&self) -> u64 {
        self.sample_period
    }

    /// The `wakeup_watermark` member of the C union (same bytes as `wakeup_events`).
    pub const fn wakeup_watermark(&self) -> u32 {
        self.wakeup_events
    }
}
