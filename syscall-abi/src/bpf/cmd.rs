//! `bpf(2)` commands and, for each, the last field of `union bpf_attr` it reads.
//!
//! Reference: `enum bpf_cmd` in include/uapi/linux/bpf.h and the `*_LAST_FIELD` defines in
//! kernel/bpf/syscall.c (Linux 6.1), which `CHECK_ATTR` uses to reject non-zero bytes past
//! the command's part of the union.

use super::attr::{
    BtfLoadAttr, EnableStatsAttr, GetIdAttr, InfoAttr, IterCreateAttr, LinkCreateKprobeMultiAttr, LinkDetachAttr,
    LinkUpdateAttr, MapBatchAttr, MapCreateAttr, MapElemAttr, ObjAttr, ProgAttachAttr, ProgBindMapAttr, ProgLoadAttr,
    QueryAttr, RawTracepointAttr, TaskFdQueryAttr, TestRunAttr,
};

crate::uapi_enum! {
    /// `enum bpf_cmd`: the first argument of `bpf(2)`. Unknown commands are `EINVAL`.
    pub enum Cmd: u32 {
        /// Create a map.
        MapCreate = BPF_MAP_CREATE = 0,
        /// Look up an element.
        MapLookupElem = BPF_MAP_LOOKUP_ELEM = 1,
        /// Create or update an element.
        MapUpdateElem = BPF_MAP_UPDATE_ELEM = 2,
        /// Delete an element.
        MapDeleteElem = BPF_MAP_DELETE_ELEM = 3,
        /// Iterate keys.
        MapGetNextKey = BPF_MAP_GET_NEXT_KEY = 4,
        /// Verify and load a program.
        ProgLoad = BPF_PROG_LOAD = 5,
        /// Pin an object in bpffs.
        ObjPin = BPF_OBJ_PIN = 6,
        /// Open a pinned object.
        ObjGet = BPF_OBJ_GET = 7,
        /// Attach a program to a container (cgroup, sockmap, ...).
        ProgAttach = BPF_PROG_ATTACH = 8,
        /// Detach a program.
        ProgDetach = BPF_PROG_DETACH = 9,
        /// Run a program on test input (also named `BPF_PROG_RUN`).
        ProgTestRun = BPF_PROG_TEST_RUN = 10,
        /// Next program id.
        ProgGetNextId = BPF_PROG_GET_NEXT_ID = 11,
        /// Next map id.
        MapGetNextId = BPF_MAP_GET_NEXT_ID = 12,
        /// Open a program by id.
        ProgGetFdById = BPF_PROG_GET_FD_BY_ID = 13,
        /// Open a map by id.
        MapGetFdById = BPF_MAP_GET_FD_BY_ID = 14,
        /// Read `bpf_{prog,map,btf,link}_info`.
        ObjGetInfoByFd = BPF_OBJ_GET_INFO_BY_FD = 15,
        /// List programs attached to a container.
        ProgQuery = BPF_PROG_QUERY = 16,
        /// Attach to a raw tracepoint.
        RawTracepointOpen = BPF_RAW_TRACEPOINT_OPEN = 17,
        /// Load BTF.
        BtfLoad = BPF_BTF_LOAD = 18,
        /// Open BTF by id.
        BtfGetFdById = BPF_BTF_GET_FD_BY_ID = 19,
        /// Describe the program attached to a task's perf event / raw tracepoint fd.
        TaskFdQuery = BPF_TASK_FD_QUERY = 20,
        /// Look up and delete an element (queue/stack: pop).
        MapLookupAndDeleteElem = BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21,
        /// Make a map read-only for the syscall side.
        MapFreeze = BPF_MAP_FREEZE = 22,
        /// Next BTF id.
        BtfGetNextId = BPF_BTF_GET_NEXT_ID = 23,
        /// Batch lookup.
        MapLookupBatch = BPF_MAP_LOOKUP_BATCH = 24,
        /// Batch lookup and delete.
        MapLookupAndDeleteBatch = BPF_MAP_LOOKUP_AND_DELETE_BATCH = 25,
        /// Batch update.
        MapUpdateBatch = BPF_MAP_UPDATE_BATCH = 26,
        /// Batch delete.
        MapDeleteBatch = BPF_MAP_DELETE_BATCH = 27,
        /// Create a link.
        LinkCreate = BPF_LINK_CREATE = 28,
        /// Replace a link's program.
        LinkUpdate = BPF_LINK_UPDATE = 29,
        /// Open a link by id.
        LinkGetFdById = BPF_LINK_GET_FD_BY_ID = 30,
        /// Next link id.
        LinkGetNextId = BPF_LINK_GET_NEXT_ID = 31,
        /// Enable run-time statistics.
        EnableStats = BPF_ENABLE_STATS = 32,
        /// Instantiate an iterator.
        IterCreate = BPF_ITER_CREATE = 33,
        /// Detach a link.
        LinkDetach = BPF_LINK_DETACH = 34,
        /// Add a map to a program's used maps.
        ProgBindMap = BPF_PROG_BIND_MAP = 35,
    }
}

crate::uapi_consts! { CMD_ALIASES: u32;
    /// Newer name of `BPF_PROG_TEST_RUN`.
    BPF_PROG_RUN = 10,
}

/// A command's last field in `union bpf_attr`, for the layout test.
#[derive(Debug, Clone, Copy)]
pub struct LastField {
    /// The command.
    pub cmd: Cmd,
    /// Linux's `*_LAST_FIELD` designator.
    pub c: &'static str,
    /// Offset one past the field, from the Rust mirror.
    pub end: usize,
}

macro_rules! last_fields {
    ($( $cmd:ident => $t:ty, $field:ident, $c:literal; )*) => {
        impl Cmd {
            /// Offset one past the last field of `union bpf_attr` this command reads (Linux
            /// `offsetof(union bpf_attr, CMD_LAST_FIELD) + sizeof(CMD_LAST_FIELD)`).
            pub const fn last_field_end(self) -> usize {
                match self {
                    $( Cmd::$cmd => crate::end_of!($t, $field), )*
                }
            }
        }

        /// Every command's last field, checked against the C headers by the layout test.
        pub const LAST_FIELDS: &[LastField] = &[
            $( LastField { cmd: Cmd::$cmd, c: $c, end: crate::end_of!($t, $field) }, )*
        ];
    };
}

last_fields! {
    MapCreate => MapCreateAttr, map_extra, "map_extra";
    MapLookupElem => MapElemAttr, flags, "flags";
    MapUpdateElem => MapElemAttr, flags, "flags";
    MapDeleteElem => MapElemAttr, key, "key";
    MapGetNextKey => MapElemAttr, value, "next_key";
    ProgLoad => ProgLoadAttr, core_relo_rec_size, "core_relo_rec_size";
    ObjPin => ObjAttr, file_flags, "file_flags";
    ObjGet => ObjAttr, file_flags, "file_flags";
    ProgAttach => ProgAttachAttr, replace_bpf_fd, "replace_bpf_fd";
    ProgDetach => ProgAttachAttr, attach_type, "attach_type";
    ProgTestRun => TestRunAttr, batch_size, "test.batch_size";
    ProgGetNextId => GetIdAttr, next_id, "next_id";
    MapGetNextId => GetIdAttr, next_id, "next_id";
    ProgGetFdById => GetIdAttr, start_id, "prog_id";
    MapGetFdById => GetIdAttr, open_flags, "open_flags";
    ObjGetInfoByFd => InfoAttr, info, "info.info";
    ProgQuery => QueryAttr, prog_attach_flags, "query.prog_attach_flags";
    RawTracepointOpen => RawTracepointAttr, prog_fd, "raw_tracepoint.prog_fd";
    BtfLoad => BtfLoadAttr, btf_log_level, "btf_log_level";
    BtfGetFdById => GetIdAttr, start_id, "btf_id";
    TaskFdQuery => TaskFdQueryAttr, probe_addr, "task_fd_query.probe_addr";
    MapLookupAndDeleteElem => MapElemAttr, flags, "flags";
    MapFreeze => MapElemAttr, map_fd, "map_fd";
    BtfGetNextId => GetIdAttr, next_id, "next_id";
    MapLookupBatch => MapBatchAttr, flags, "batch.flags";
    MapLookupAndDeleteBatch => MapBatchAttr, flags, "batch.flags";
    MapUpdateBatch => MapBatchAttr, flags, "batch.flags";
    MapDeleteBatch => MapBatchAttr, flags, "batch.flags";
    LinkCreate => LinkCreateKprobeMultiAttr, cookies, "link_create.kprobe_multi.cookies";
    LinkUpdate => LinkUpdateAttr, old_prog_fd, "link_update.old_prog_fd";
    LinkGetFdById => GetIdAttr, start_id, "link_id";
    LinkGetNextId => GetIdAttr, next_id, "next_id";
    EnableStats => EnableStatsAttr, type_, "enable_stats.type";
    IterCreate => IterCreateAttr, flags, "iter_create.flags";
    LinkDetach => LinkDetachAttr, link_fd, "link_detach.link_fd";
    ProgBindMap => ProgBindMapAttr, flags, "prog_bind_map.flags";
}
