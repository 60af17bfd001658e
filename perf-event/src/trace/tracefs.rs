//! [`TraceFs`]: the files of `/sys/kernel/tracing`, as plain reads and writes a kernel's VFS
//! adapter forwards.
//!
//! Reference: Linux 6.1 `kernel/trace/trace.c`, `trace_events.c`, `trace_kprobe.c`.
//!
//! ```text
//! available_events                  sys:name per line
//! events/enable                     0 / 1 / X (mixed); write 0 or 1: every event
//! events/<sys>/enable               the same for one system
//! events/<sys>/<name>/enable        0 / 1; write 0 or 1 (tracefs output on or off)
//! events/<sys>/<name>/format        the record layout
//! events/<sys>/<name>/id            the event id
//! trace                             snapshot of the buffer with Linux's header; O_TRUNC clears
//! trace_pipe                        consuming read, EAGAIN when empty (the kernel blocks)
//! tracing_on                        1 / 0: whether the buffer records
//! kprobe_events, kprobe_profile     with a probe engine only (TraceRegistry::set_probe_arm)
//! ```

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;

use spin::Mutex;
use syscall_abi::{err, Errno, Result};

use super::buffer::{EntryKind, EntryMeta, TraceBuffer, DEFAULT_SIZE};
use super::event::{ConsumerHandle, EventConsumer, TraceEvent};
use super::output;
use super::registry::TraceRegistry;
use super::X86PtRegs;

/// What a tracefs path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory.
    Dir,
    /// A regular file.
    File {
        /// Whether writes are accepted.
        writable: bool,
    },
    /// `trace_pipe`: read with [`TraceFs::trace_pipe_read`], poll with
    /// [`TraceFs::trace_pipe_ready`].
    TracePipe,
}

/// A resolved path.
enum Node {
    Root,
    AvailableEvents,
    EventsDir,
    EventsEnable,
    SystemDir(String),
    SystemEnable(String),
    EventDir,
    EventEnable(Arc<TraceEvent>),
    EventFormat(Arc<TraceEvent>),
    EventId(Arc<TraceEvent>),
    Trace,
    TracePipe,
    TracingOn,
    KprobeEvents,
    KprobeProfile,
}

/// The tracefs `enable` consumer: copies records into the trace buffer.
struct BufferConsumer(Arc<TraceBuffer>);

impl EventConsumer for BufferConsumer {
    fn hit(&self, rec: &[u8], _regs: Option<&mut X86PtRegs>) {
        self.0.push_current(EntryKind::Event, rec);
    }
}

/// The tracefs model of one kernel.
pub struct TraceFs {
    reg: Arc<TraceRegistry>,
    buf: Arc<TraceBuffer>,
    /// Events enabled through tracefs, by id.
    enabled: Mutex<BTreeMap<u32, ConsumerHandle>>,
    /// Formatted `trace_pipe` text not read yet.
    pending: Mutex<Vec<u8>>,
}

/// Linux's `trace` header after the entries line.
const TRACE_HEADER: &str = "#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
";

/// Parses a tracefs number write (Linux `kstrtoul(.., 10)`: digits, one optional newline).
fn parse_value(data: &[u8]) -> Result<u64> {
    let text = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.parse::<u64>().map_err(|_| Errno::EINVAL.into())
}

impl TraceFs {
    /// The tracefs of `reg`, with a 64 KiB trace buffer.
    pub fn new(reg: Arc<TraceRegistry>) -> TraceFs {
        TraceFs::with_buffer_size(reg, DEFAULT_SIZE)
    }

    /// The tracefs of `reg` with a trace buffer of `bytes`.
    pub fn with_buffer_size(reg: Arc<TraceRegistry>, bytes: usize) -> TraceFs {
        let buf = Arc::new(TraceBuffer::new(reg.env().clone(), bytes));
        TraceFs { reg, buf, enabled: Mutex::new(BTreeMap::new()), pending: Mutex::new(Vec::new()) }
    }

    /// The registry this tracefs shows.
    pub fn registry(&self) -> &Arc<TraceRegistry> {
        &self.reg
    }

    fn systems(&self) -> Vec<String> {
        let mut s: Vec<String> = self.reg.events().iter().map(|e| e.system().to_string()).collect();
        s.sort();
        s.dedup();
        s
    }

    fn resolve(&self, path: &str) -> Result<Node> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let kprobes = self.reg.kprobes().available();
        let node = match parts.as_slice() {
            [] => Node::Root,
            ["available_events"] => Node::AvailableEvents,
            ["events"] => Node::EventsDir,
            ["events", "enable"] => Node::EventsEnable,
            ["events", sys] if self.systems().iter().any(|s| s == sys) => Node::SystemDir(sys.to_string()),
            ["events", sys, "enable"] if self.systems().iter().any(|s| s == sys) => Node::SystemEnable(sys.to_string()),
            ["events", sys, name, rest @ ..] if rest.len() <= 1 => {
                let ev = self.reg.by_name(sys, name).ok_or(Errno::ENOENT)?;
                match rest {
                    [] => Node::EventDir,
                    ["enable"] => Node::EventEnable(ev),
                    ["format"] => Node::EventFormat(ev),
                    ["id"] => Node::EventId(ev),
                    _ => return err(Errno::ENOENT, "no such tracefs file"),
                }
            }
            ["trace"] => Node::Trace,
            ["trace_pipe"] => Node::TracePipe,
            ["tracing_on"] => Node::TracingOn,
            ["kprobe_events"] if kprobes => Node::KprobeEvents,
            ["kprobe_profile"] if kprobes => Node::KprobeProfile,
            _ => return err(Errno::ENOENT, "no such tracefs file"),
        };
        Ok(node)
    }

    /// Directory listing: (name, is_dir). Paths are relative to the tracefs root, "" = root.
    /// `ENOENT` for a missing path, `ENOTDIR` for a file.
    pub fn list(&self, dir: &str) -> Result<Vec<(String, bool)>> {
        let file = |n: &str| (n.to_string(), false);
        let out = match self.resolve(dir)? {
            Node::Root => {
                let mut v = alloc::vec![file("available_events"), ("events".to_string(), true)];
                if self.reg.kprobes().available() {
                    v.push(file("kprobe_events"));
                    v.push(file("kprobe_profile"));
                }
                v.extend([file("trace"), file("trace_pipe"), file("tracing_on")]);
                v
            }
            Node::EventsDir => {
                let mut v = alloc::vec![file("enable")];
                v.extend(self.systems().into_iter().map(|s| (s, true)));
                v
            }
            Node::SystemDir(sys) => {
                let mut v = alloc::vec![file("enable")];
                v.extend(self.reg.events().iter().filter(|e| e.system() == sys).map(|e| (e.name().to_string(), true)));
                v
            }
            Node::EventDir => alloc::vec![file("enable"), file("format"), file("id")],
            _ => return err(Errno::ENOTDIR, "not a directory"),
        };
        Ok(out)
    }

    /// What `path` is (`ENOENT` when missing).
    pub fn stat(&self, path: &str) -> Result<NodeKind> {
        Ok(match self.resolve(path)? {
            Node::Root | Node::EventsDir | Node::SystemDir(_) | Node::EventDir => NodeKind::Dir,
            Node::TracePipe => NodeKind::TracePipe,
            Node::AvailableEvents | Node::EventFormat(_) | Node::EventId(_) | Node::KprobeProfile => {
                NodeKind::File { writable: false }
            }
            _ => NodeKind::File { writable: true },
        })
    }

    /// `0`, `1` or `X` for a group of events enabled through tracefs.
    fn group_state(&self, sys: Option<&str>) -> &'static str {
        let enabled = self.enabled.lock();
        let mut states = self.reg.events().into_iter().filter(|e| sys.is_none_or(|s| s == e.system()));
        let Some(first) = states.next() else { return "0\n" };
        let on = enabled.contains_key(&first.id());
        if states.all(|e| enabled.contains_key(&e.id()) == on) {
            if on {
                "1\n"
            } else {
                "0\n"
            }
        } else {
            "X\n"
        }
    }

    /// Whole content of a regular file at open time. `EISDIR` for a directory, `EINVAL` for
    /// `trace_pipe` (read it with [`Self::trace_pipe_read`]).
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        let text = match self.resolve(path)? {
            Node::Root | Node::EventsDir | Node::SystemDir(_) | Node::EventDir => {
                return err(Errno::EISDIR, "a directory")
            }
            Node::TracePipe => return err(Errno::EINVAL, "trace_pipe is a stream"),
            Node::AvailableEvents => {
                let mut s = String::new();
                for e in self.reg.events() {
                    let _ = writeln!(s, "{}:{}", e.system(), e.name());
                }
                s
            }
            Node::EventsEnable => self.group_state(None).to_string(),
            Node::SystemEnable(sys) => self.group_state(Some(&sys)).to_string(),
            Node::EventEnable(ev) => if self.enabled.lock().contains_key(&ev.id()) { "1\n" } else { "0\n" }.to_string(),
            Node::EventFormat(ev) => ev.format(),
            Node::EventId(ev) => alloc::format!("{}\n", ev.id()),
            Node::Trace => self.trace_text(),
            Node::TracingOn => if self.buf.is_on() { "1\n" } else { "0\n" }.to_string(),
            Node::KprobeEvents => self.reg.kprobes().list_text(),
            Node::KprobeProfile => self.reg.kprobes().profile_text(),
        };
        Ok(text.into_bytes())
    }

    /// Turns tracefs output of `ev` on or off.
    fn set_enabled(&self, ev: &Arc<TraceEvent>, on: bool) -> Result<()> {
        let mut enabled = self.enabled.lock();
        if on {
            if let alloc::collections::btree_map::Entry::Vacant(slot) = enabled.entry(ev.id()) {
                slot.insert(ev.attach(Arc::new(BufferConsumer(self.buf.clone())))?);
            }
            Ok(())
        } else {
            let handle = enabled.remove(&ev.id());
            drop(enabled);
            drop(handle);
            Ok(())
        }
    }

    fn set_group(&self, sys: Option<&str>, on: bool) -> Result<()> {
        let mut result = Ok(());
        for ev in self.reg.events().iter().filter(|e| sys.is_none_or(|s| s == e.system())) {
            if let Err(e) = self.set_enabled(ev, on) {
                result = Err(e);
            }
        }
        result
    }

    /// A write to a file: `enable` files take `0`/`1` (`EINVAL` otherwise), `tracing_on` a
    /// number, `kprobe_events` command lines, `trace` anything (ignored). Read-only files:
    /// `EACCES`; directories: `EISDIR`. `append` (the file's `O_APPEND`) changes nothing, as on
    /// Linux: truncation happens at open, through [`Self::truncate`] (Linux `probes_open`,
    /// `tracing_open` with `O_TRUNC`), so several writes to one open file all apply.
    pub fn write_file(&self, path: &str, data: &[u8], append: bool) -> Result<usize> {
        let _ = append;
        match self.resolve(path)? {
            Node::Root | Node::EventsDir | Node::SystemDir(_) | Node::EventDir => err(Errno::EISDIR, "a directory"),
            Node::EventEnable(ev) => match parse_value(data)? {
                v @ (0 | 1) => self.set_enabled(&ev, v == 1).map(|_| data.len()),
                _ => err(Errno::EINVAL, "enable takes 0 or 1"),
            },
            Node::EventsEnable | Node::SystemEnable(_) => {
                let sys = match self.resolve(path)? {
                    Node::SystemEnable(s) => Some(s),
                    _ => None,
                };
                match parse_value(data)? {
                    v @ (0 | 1) => self.set_group(sys.as_deref(), v == 1).map(|_| data.len()),
                    _ => err(Errno::EINVAL, "enable takes 0 or 1"),
                }
            }
            Node::TracingOn => {
                self.buf.set_on(parse_value(data)? != 0);
                Ok(data.len())
            }
            Node::Trace => Ok(data.len()),
            Node::KprobeEvents => self.reg.kprobes().write(data),
            Node::TracePipe | Node::AvailableEvents | Node::EventFormat(_) | Node::EventId(_) | Node::KprobeProfile => {
                err(Errno::EACCES, "read-only tracefs file")
            }
        }
    }

    /// Open with `O_TRUNC`: clears `trace`, deletes every kprobe event of `kprobe_events`
    /// (`EBUSY` and nothing deleted when one is in use); other files: nothing.
    pub fn truncate(&self, path: &str) -> Result<()> {
        match self.resolve(path)? {
            Node::Trace => self.buf.clear(),
            Node::KprobeEvents => self.reg.kprobes().release_all()?,
            _ => {}
        }
        Ok(())
    }

    /// One entry as a `trace` line (with its newline).
    fn format_entry(&self, meta: &EntryMeta, payload: &[u8], out: &mut String) {
        match meta.kind {
            EntryKind::Printk => {
                output::write_context(out, &meta.comm, meta.pid, meta.cpu, "d..1.", meta.ts_ns);
                let msg = output::cstr(payload);
                let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
                out.push_str("bpf_trace_printk: ");
                out.push_str(&output::lossy(msg));
            }
            EntryKind::Event => {
                output::write_context(out, &meta.comm, meta.pid, meta.cpu, ".....", meta.ts_ns);
                let id = payload.get(..2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
                match self.reg.table().try_by_id(u32::from(id)) {
                    Some(ev) => ev.print(payload, out),
                    None => {
                        let _ = write!(out, "Unknown type {id}");
                    }
                }
            }
        }
        out.push('\n');
    }

    /// The `trace` file: Linux's header and every buffered entry (not consumed).
    fn trace_text(&self) -> String {
        let (entries, in_buffer, written) = self.buf.snapshot();
        let mut out = String::from("# tracer: nop\n#\n");
        let cpus = self.reg.env().nr_cpus();
        let _ = writeln!(out, "# entries-in-buffer/entries-written: {in_buffer}/{written}   #P:{cpus}");
        out.push_str(TRACE_HEADER);
        for (meta, payload) in &entries {
            self.format_entry(meta, payload, &mut out);
        }
        out
    }

    /// `trace_pipe`: consumes formatted lines into `buf` (whole lines while they fit; a line
    /// longer than `buf` is split across reads). `EAGAIN` when nothing is buffered (the
    /// kernel blocks until [`Self::trace_pipe_ready`]); never `Ok(0)` for a non-empty `buf`.
    pub fn trace_pipe_read(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut pending = self.pending.lock();
        let mut n = 0;
        if !pending.is_empty() {
            n = pending.len().min(buf.len());
            buf[..n].copy_from_slice(&pending[..n]);
            pending.drain(..n);
            if !pending.is_empty() {
                return Ok(n);
            }
        }
        while n < buf.len() {
            let Some((meta, payload)) = self.buf.pop() else { break };
            let mut line = String::new();
            self.format_entry(&meta, &payload, &mut line);
            let line = line.into_bytes();
            let room = buf.len() - n;
            if line.len() <= room {
                buf[n..n + line.len()].copy_from_slice(&line);
                n += line.len();
            } else if n == 0 {
                buf.copy_from_slice(&line[..room]);
                pending.extend_from_slice(&line[room..]);
                n = room;
            } else {
                pending.extend_from_slice(&line);
                break;
            }
        }
        if n == 0 {
            return err(Errno::EAGAIN, "trace_pipe empty");
        }
        Ok(n)
    }

    /// Whether [`Self::trace_pipe_read`] has data.
    pub fn trace_pipe_ready(&self) -> bool {
        !self.pending.lock().is_empty() || !self.buf.is_empty()
    }

    /// A `bpf_trace_printk` message: the line `<comm>-<pid> [<cpu>] d..1. <sec.usec>:
    /// bpf_trace_printk: <msg>` (a trailing newline of `msg` is not doubled).
    pub fn trace_printk(&self, comm: &[u8; 16], pid: u32, cpu: u32, ts_ns: u64, msg: &[u8]) {
        let meta =
            EntryMeta { kind: EntryKind::Printk, cpu, pid: i32::try_from(pid).unwrap_or(i32::MAX), ts_ns, comm: *comm };
        self.buf.push(meta, msg);
    }

    /// Whether entries arrived since the last call: the kernel's irq_work calls this and
    /// wakes `trace_pipe` readers when it returns true.
    pub fn take_wakeup(&self) -> bool {
        self.buf.take_wakeup()
    }

    /// Entries lost because the buffer was busy or an entry was larger than the buffer.
    pub fn dropped(&self) -> u64 {
        self.buf.dropped()
    }
}

impl core::fmt::Debug for TraceFs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TraceFs").finish_non_exhaustive()
    }
}
