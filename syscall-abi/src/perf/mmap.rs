//! The first page of a perf event's `mmap` area: event metadata and the ring buffer control
//! words.
//!
//! Reference: `struct perf_event_mmap_page` in include/uapi/linux/perf_event.h (Linux 6.1).

crate::uapi_struct! {
    #[c = "struct perf_event_mmap_page", whole]
    /// The metadata page at the start of a perf ring buffer mapping (1024 bytes of metadata,
    /// then the `data_*`/`aux_*` control words).
    ///
    /// Reference: `struct perf_event_mmap_page` in include/uapi/linux/perf_event.h. The
    /// capability bits are a C union of `capabilities` with a bitfield struct; they are
    /// mirrored as [`PerfEventMmapPage::capabilities`] with accessors.
    #[doc(alias = "perf_event_mmap_page")]
    pub struct PerfEventMmapPage {
        /// Version of this structure.
        pub version: u32 => "version",
        /// Lowest version this is compatible with.
        pub compat_version: u32 => "compat_version",
        /// Sequence lock for the self-monitoring fields.
        pub lock: u32 => "lock",
        /// Hardware counter index + 1 (0: not readable from user space).
        pub index: u32 => "index",
        /// Counter offset to add to the hardware value.
        pub offset: i64 => "offset",
        /// Time the event was enabled.
        pub time_enabled: u64 => "time_enabled",
        /// Time the event was running.
        pub time_running: u64 => "time_running",
        /// Capability bits.
        pub capabilities: u64 => "capabilities" bits {
            /// Deprecated (always 0).
            cap_bit0 / set_cap_bit0: 0, 1;
            /// Always 1: `cap_bit0` is deprecated.
            cap_bit0_is_deprecated / set_cap_bit0_is_deprecated: 1, 1;
            /// The counter can be read with `rdpmc` (or equivalent).
            cap_user_rdpmc / set_cap_user_rdpmc: 2, 1;
            /// `time_shift`/`time_mult`/`time_offset` are valid.
            cap_user_time / set_cap_user_time: 3, 1;
            /// `time_zero` is valid.
            cap_user_time_zero / set_cap_user_time_zero: 4, 1;
            /// `time_cycles`/`time_mask` are valid.
            cap_user_time_short / set_cap_user_time_short: 5, 1;
            /// Reserved.
            cap_res = "cap_____res" / set_cap_res: 6, 58;
        },
        /// Width of the hardware counter.
        pub pmc_width: u16 => "pmc_width",
        /// Time conversion shift.
        pub time_shift: u16 => "time_shift",
        /// Time conversion multiplier.
        pub time_mult: u32 => "time_mult",
        /// Time conversion offset.
        pub time_offset: u64 => "time_offset",
        /// Time zero for `cap_user_time_zero`.
        pub time_zero: u64 => "time_zero",
        /// Size of the metadata (header) part.
        pub size: u32 => "size",
        /// Reserved.
        pub reserved_1: u32 => "__reserved_1",
        /// Time cycles for `cap_user_time_short`.
        pub time_cycles: u64 => "time_cycles",
        /// Time mask for `cap_user_time_short`.
        pub time_mask: u64 => "time_mask",
        /// Reserved up to 1 KiB.
        pub reserved: [u8; 928] => "__reserved",
        /// Producer position in the data area (written by the kernel).
        pub data_head: u64 => "data_head",
        /// Consumer position in the data area (written by user space).
        pub data_tail: u64 => "data_tail",
        /// Offset of the data area in the mapping.
        pub data_offset: u64 => "data_offset",
        /// Size of the data area.
        pub data_size: u64 => "data_size",
        /// AUX area producer position.
        pub aux_head: u64 => "aux_head",
        /// AUX area consumer position.
        pub aux_tail: u64 => "aux_tail",
        /// Offset of the AUX area.
        pub aux_offset: u64 => "aux_offset",
        /// Size of the AUX area.
        pub aux_size: u64 => "aux_size",
    }
}
