//! ioctl request numbers of perf event fds, computed like the C `_IO*` macros.
//!
//! Reference: the `PERF_EVENT_IOC_*` defines, `enum perf_event_ioc_flags` and
//! `struct perf_event_query_bpf` in include/uapi/linux/perf_event.h, and the encoding in
//! include/uapi/asm-generic/ioctl.h (used by x86_64, riscv64 and loongarch64).

crate::uapi_consts! { IOC_ENCODING: u32;
    /// Bits of the command number.
    _IOC_NRBITS = 8,
    /// Bits of the type (magic) byte.
    _IOC_TYPEBITS = 8,
    /// Bits of the argument size.
    _IOC_SIZEBITS = 14,
    /// Bits of the direction.
    _IOC_DIRBITS = 2,
    /// Shift of the command number.
    _IOC_NRSHIFT = 0,
    /// Shift of the type byte.
    _IOC_TYPESHIFT = 8,
    /// Shift of the size.
    _IOC_SIZESHIFT = 16,
    /// Shift of the direction.
    _IOC_DIRSHIFT = 30,
    /// Direction: no data.
    _IOC_NONE = 0,
    /// Direction: user writes (kernel reads) the argument.
    _IOC_WRITE = 1,
    /// Direction: user reads (kernel writes) the argument.
    _IOC_READ = 2,
}

/// `_IOC(dir, type, nr, size)`. `size` must fit in 14 bits (as in C, larger sizes are a bug of
/// the caller); it is masked here.
pub const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    let size = (size & ((1 << _IOC_SIZEBITS) - 1)) as u32;
    (dir << _IOC_DIRSHIFT) | ((ty as u32) << _IOC_TYPESHIFT) | ((nr as u32) << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)
}

/// `_IO(type, nr)`.
pub const fn io(ty: u8, nr: u8) -> u32 {
    ioc(_IOC_NONE, ty, nr, 0)
}

/// `_IOW(type, nr, T)` with `size = sizeof(T)`.
pub const fn iow(ty: u8, nr: u8, size: usize) -> u32 {
    ioc(_IOC_WRITE, ty, nr, size)
}

/// `_IOR(type, nr, T)` with `size = sizeof(T)`.
pub const fn ior(ty: u8, nr: u8, size: usize) -> u32 {
    ioc(_IOC_READ, ty, nr, size)
}

/// `_IOWR(type, nr, T)` with `size = sizeof(T)`.
pub const fn iowr(ty: u8, nr: u8, size: usize) -> u32 {
    ioc(_IOC_READ | _IOC_WRITE, ty, nr, size)
}

/// Size of a user pointer (`char *`, `__u64 *`, `struct ... *` arguments of the `_IO*` macros).
const PTR: usize = core::mem::size_of::<usize>();

crate::uapi_consts! { PERF_EVENT_IOC: u32;
    /// Enable the event (with `PERF_IOC_FLAG_GROUP`: its whole group).
    PERF_EVENT_IOC_ENABLE = io(b'$', 0),
    /// Disable the event.
    PERF_EVENT_IOC_DISABLE = io(b'$', 1),
    /// Allow `arg` more overflows before disabling.
    PERF_EVENT_IOC_REFRESH = io(b'$', 2),
    /// Reset the counter to zero.
    PERF_EVENT_IOC_RESET = io(b'$', 3),
    /// Set a new sample period (`__u64 *` argument).
    PERF_EVENT_IOC_PERIOD = iow(b'$', 4, core::mem::size_of::<u64>()),
    /// Redirect output to another event's ring buffer (fd argument).
    PERF_EVENT_IOC_SET_OUTPUT = io(b'$', 5),
    /// Set a tracepoint filter (string argument).
    PERF_EVENT_IOC_SET_FILTER = iow(b'$', 6, PTR),
    /// Read the event id (`__u64 *` argument).
    PERF_EVENT_IOC_ID = ior(b'$', 7, PTR),
    /// Attach a BPF program (program fd argument).
    PERF_EVENT_IOC_SET_BPF = iow(b'$', 8, core::mem::size_of::<u32>()),
    /// Pause (1) or resume (0) ring buffer output.
    PERF_EVENT_IOC_PAUSE_OUTPUT = iow(b'$', 9, core::mem::size_of::<u32>()),
    /// List the attached BPF programs (`struct perf_event_query_bpf *` argument).
    PERF_EVENT_IOC_QUERY_BPF = iowr(b'$', 10, PTR),
    /// Modify the attributes of a breakpoint event (`struct perf_event_attr *` argument).
    PERF_EVENT_IOC_MODIFY_ATTRIBUTES = iow(b'$', 11, PTR),
}

crate::uapi_consts! { PERF_EVENT_IOC_FLAGS: u32;
    /// `PERF_EVENT_IOC_{ENABLE,DISABLE,RESET,REFRESH}`: apply to the whole group.
    PERF_IOC_FLAG_GROUP = 1 << 0,
}

crate::uapi_struct! {
    #[c = "struct perf_event_query_bpf", whole]
    /// Argument of `PERF_EVENT_IOC_QUERY_BPF`: a header followed by `ids_len` program ids.
    ///
    /// Reference: `struct perf_event_query_bpf` in include/uapi/linux/perf_event.h; the
    /// flexible array `ids[]` is mirrored as a zero-length array (the ids follow the struct).
    #[doc(alias = "perf_event_query_bpf")]
    pub struct PerfEventQueryBpf {
        /// Capacity of `ids`.
        pub ids_len: u32 => "ids_len",
        /// Out: number of attached programs.
        pub prog_cnt: u32 => "prog_cnt",
        /// Start of the program ids (zero-length).
        pub ids: [u32; 0] => "ids" [flex],
    }
}
