//! Where `bpf_trace_printk` output goes: a [`TraceSink`] (tracefs `trace_pipe` registers one
//! with [`KernelBpfHost::set_trace_sink`](super::KernelBpfHost::set_trace_sink)); until then
//! [`LogSink`] writes each message to the kernel log.

/// One `bpf_trace_printk` message with what Linux prints before it in `trace_pipe`
/// (`<comm>-<pid> [<cpu>] ... <seconds>: bpf_trace_printk: <msg>`).
#[derive(Debug, Clone, Copy)]
pub struct TraceRecord<'a> {
    /// The formatted message (as the program produced it, usually ending in `\n`).
    pub msg: &'a [u8],
    /// Thread id of the current task (0 when none).
    pub pid: u32,
    /// Process id of the current task.
    pub tgid: u32,
    /// The current task's name, NUL-padded.
    pub comm: [u8; 16],
    /// The CPU.
    pub cpu: u32,
    /// Monotonic time of the call, ns.
    pub ts_ns: u64,
}

/// Receives `bpf_trace_printk` messages. Called from program context (possibly a probe
/// that interrupted arbitrary kernel code): must not block.
pub trait TraceSink: Send + Sync {
    /// Appends one message.
    fn write(&self, rec: &TraceRecord<'_>);
}

/// The default sink: one kernel log line per message.
pub struct LogSink;

impl TraceSink for LogSink {
    fn write(&self, rec: &TraceRecord<'_>) {
        let comm_len = rec.comm.iter().position(|&b| b == 0).unwrap_or(rec.comm.len());
        let comm = core::str::from_utf8(&rec.comm[..comm_len]).unwrap_or("?");
        let msg = rec.msg.strip_suffix(b"\n").unwrap_or(rec.msg);
        let msg = alloc::string::String::from_utf8_lossy(msg);
        log::info!("{comm}-{} [{:03}] bpf_trace_printk: {msg}", rec.pid, rec.cpu);
    }
}
