//! [`helper_ops`]: the helpers each program type may call, as the verifier asks for them.

use syscall_abi::bpf::ProgType;

use crate::verifier::{HelperProto, TracingHelpers, VerifierOps};

/// The helper table of one program: Linux 6.1's per-type `get_func_proto`
/// (`kprobe_prog_func_proto`, `tp_prog_func_proto`, `pe_prog_func_proto`,
/// `raw_tp_prog_func_proto`, `bpf_tracing_func_proto`, `bpf_base_func_proto`,
/// `sk_filter_func_proto`) restricted to the helpers [`super::ProgEnv`] implements, with
/// Linux's `gpl_only` flags. The table itself is the verifier's
/// ([`TracingHelpers`]); every helper it offers is implemented here.
#[derive(Clone, Copy, Debug)]
pub struct HelperOps {
    table: TracingHelpers,
    gpl: bool,
}

impl HelperOps {
    /// Whether the program's license is GPL compatible. The verifier compares it with each
    /// helper's `gpl_only` itself (from its input), so this is informational.
    pub fn gpl_compatible(&self) -> bool {
        self.gpl
    }
}

/// The helper table for a program of `prog_type`; `privileged` is `bpf_capable` plus
/// `perfmon_capable` (it widens the socket filter set, as in Linux), `gpl` whether the
/// license is GPL compatible.
pub fn helper_ops(prog_type: ProgType, privileged: bool, gpl: bool) -> HelperOps {
    HelperOps { table: TracingHelpers { prog_type, privileged }, gpl }
}

impl VerifierOps for HelperOps {
    fn helper_proto(&self, id: u32) -> Option<HelperProto> {
        self.table.helper_proto(id)
    }
}
