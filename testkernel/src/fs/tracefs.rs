//! tracefs: the VFS face of a tracing model that answers by path (the perf-event crate's
//! `perf_event::trace::TraceFs`, reached through [`TraceBackend`]).
//!
//! The kernel mounts one [`TraceFs`] at `/sys/kernel/tracing` and at
//! `/sys/kernel/debug/tracing`. Inodes are made on lookup from the backend's answer for the
//! path, so directories and files that the model adds or removes later (`events/kprobes/...`
//! after a write to `kprobe_events`) appear and disappear without the VFS knowing:
//!
//! - directories list what the backend lists;
//! - a regular file's content is read from the backend when it is opened for reading (one
//!   snapshot per open, like procfs); each `write(2)` goes to the backend at once as an
//!   append (Linux parses every write to `kprobe_events` or `enable` separately);
//!   `O_TRUNC` at open (`echo > kprobe_events`: remove every probe) is the backend's
//!   truncate; files the backend calls read-only are `EACCES` for writing;
//! - `trace_pipe` consumes: a read blocks while the backend has nothing (`EAGAIN` with
//!   `O_NONBLOCK`, `EINTR` on a signal); `poll` is readable while it has data. The backend
//!   never wakes readers itself: whoever learns that data arrived (the perf-event irq_work
//!   run) calls [`TraceFs::wake_pipe`].
//!
//! Modes as Linux 6.1's tracefs: directories `0755`, writable files `0640`, read-only files
//! and `trace_pipe` `0440`, size 0, owned by root.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use syscall_abi::Errno;

use super::file::{FileOps, OpenFile, PollEvents, O_ACCMODE, O_WRONLY};
use super::inode::{DirEntry, FileType, Inode, Metadata};
use super::pollwait;
use super::procfs::node::{join, meta, path_ino};
use crate::sync::WaitQueue;
use crate::KResult;

/// What a path of the model is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceNodeKind {
    /// A directory.
    Dir,
    /// A regular file; `writable` if writes are accepted.
    File {
        /// Whether it may be opened for writing.
        writable: bool,
    },
    /// `trace_pipe`: consuming, blocking reads.
    Pipe,
}

/// The tracing model as tracefs needs it. Paths are relative to the tracefs root, without a
/// leading `/`; `""` is the root.
pub trait TraceBackend: Send + Sync {
    /// The entries of directory `dir`: (name, is a directory). `ENOENT`, `ENOTDIR`.
    fn list(&self, dir: &str) -> KResult<Vec<(String, bool)>>;
    /// What `path` is (`ENOENT` if nothing).
    fn stat(&self, path: &str) -> KResult<TraceNodeKind>;
    /// The whole content of a regular file now.
    fn read_file(&self, path: &str) -> KResult<Vec<u8>>;
    /// One `write(2)` to a file; returns the bytes consumed. `append`: always true here
    /// (truncation is [`TraceBackend::truncate`], at open).
    fn write_file(&self, path: &str, data: &[u8], append: bool) -> KResult<usize>;
    /// `open(O_TRUNC)` of a writable file (`kprobe_events`: remove every probe; `trace`: clear).
    fn truncate(&self, path: &str) -> KResult<()>;
    /// Consumes formatted `trace_pipe` output; `EAGAIN` when there is none (never `Ok(0)`
    /// for a non-empty buffer).
    fn pipe_read(&self, buf: &mut [u8]) -> KResult<usize>;
    /// Whether [`TraceBackend::pipe_read`] would return data.
    fn pipe_ready(&self) -> bool;
}

/// Directory permission bits.
const DIR_MODE: u32 = 0o755;
/// `TRACE_MODE_WRITE`.
const WRITE_MODE: u32 = 0o640;
/// `TRACE_MODE_READ`.
const READ_MODE: u32 = 0o440;

struct Shared {
    backend: Arc<dyn TraceBackend>,
    dev: u64,
    /// `trace_pipe` readers and pollers.
    pipe_queue: WaitQueue,
}

/// One tracefs instance (mountable at several places: every mount shows the same model).
pub struct TraceFs {
    shared: Arc<Shared>,
}

impl TraceFs {
    /// tracefs over `backend`, with device number `dev`.
    pub fn new(backend: Arc<dyn TraceBackend>, dev: u64) -> TraceFs {
        TraceFs { shared: Arc::new(Shared { backend, dev, pipe_queue: WaitQueue::new() }) }
    }

    /// The root directory, to mount.
    pub fn root(&self) -> Arc<dyn Inode> {
        Arc::new(TraceInode { fs: self.shared.clone(), path: String::new(), kind: TraceNodeKind::Dir })
    }

    /// Wakes `trace_pipe` readers and pollers (data may have arrived). Not from event
    /// context: takes the wait queue's lock.
    pub fn wake_pipe(&self) {
        pollwait::notify(&self.shared.pipe_queue);
    }
}

/// A tracefs inode: a path of the model and what it was when looked up.
struct TraceInode {
    fs: Arc<Shared>,
    /// Relative to the tracefs root ("" = root).
    path: String,
    kind: TraceNodeKind,
}

impl TraceInode {
    fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            String::from(name)
        } else {
            join(&self.path, name)
        }
    }

    fn meta(&self) -> Metadata {
        let (kind, perm) = match self.kind {
            TraceNodeKind::Dir => (FileType::Directory, DIR_MODE),
            TraceNodeKind::File { writable: true } => (FileType::Regular, WRITE_MODE),
            TraceNodeKind::File { writable: false } | TraceNodeKind::Pipe => (FileType::Regular, READ_MODE),
        };
        meta(self.fs.dev, &join("/", &self.path), kind, perm, (0, 0), 0)
    }
}

impl Inode for TraceInode {
    fn metadata(&self) -> Metadata {
        self.meta()
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if self.kind != TraceNodeKind::Dir {
            return Err(Errno::ENOTDIR);
        }
        let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        let path = self.child_path(name);
        let kind = self.fs.backend.stat(&path)?;
        Ok(Arc::new(TraceInode { fs: self.fs.clone(), path, kind }))
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        if self.kind != TraceNodeKind::Dir {
            return Err(Errno::ENOTDIR);
        }
        let entries = self.fs.backend.list(&self.path)?;
        Ok(entries
            .into_iter()
            .map(|(name, dir)| {
                let p = join("/", &self.child_path(&name));
                let kind = if dir { FileType::Directory } else { FileType::Regular };
                DirEntry { ino: path_ino(&p), kind, name: name.into_bytes() }
            })
            .collect())
    }

    fn create(&self, _name: &[u8], _kind: FileType, _mode: u32) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EACCES)
    }

    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.kind {
            TraceNodeKind::File { .. } => Ok(copy_at(&self.fs.backend.read_file(&self.path)?, offset, buf)),
            TraceNodeKind::Pipe => Err(Errno::ESPIPE),
            TraceNodeKind::Dir => Err(Errno::EISDIR),
        }
    }

    fn truncate(&self, _size: u64) -> KResult<()> {
        match self.kind {
            TraceNodeKind::File { writable: true } => self.fs.backend.truncate(&self.path),
            TraceNodeKind::Dir => Err(Errno::EISDIR),
            _ => Err(Errno::EACCES),
        }
    }

    fn open(self: Arc<Self>, flags: u32) -> Option<KResult<Arc<OpenFile>>> {
        let wants_write = flags & O_ACCMODE != 0;
        let reads = flags & O_ACCMODE != O_WRONLY;
        match self.kind {
            TraceNodeKind::Dir => None,
            TraceNodeKind::File { writable } => {
                if wants_write && !writable {
                    return Some(Err(Errno::EACCES));
                }
                let data = if reads {
                    match self.fs.backend.read_file(&self.path) {
                        Ok(d) => d,
                        Err(e) => return Some(Err(e)),
                    }
                } else {
                    Vec::new()
                };
                let ops = TraceFileOps { meta: self.meta(), data, inode: self };
                Some(Ok(OpenFile::new(Arc::new(ops), flags, String::new())))
            }
            TraceNodeKind::Pipe => {
                if wants_write {
                    return Some(Err(Errno::EACCES));
                }
                let ops = TracePipeOps { meta: self.meta(), inode: self };
                Some(Ok(OpenFile::new(Arc::new(ops), flags, String::new())))
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Copies `data[offset..]` into `buf`.
fn copy_at(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(off) = usize::try_from(offset) else { return 0 };
    let Some(src) = data.get(off..) else { return 0 };
    let n = src.len().min(buf.len());
    buf[..n].copy_from_slice(&src[..n]);
    n
}

/// An open regular tracefs file: the content at open (if opened for reading); writes go to
/// the backend.
struct TraceFileOps {
    meta: Metadata,
    data: Vec<u8>,
    inode: Arc<TraceInode>,
}

impl FileOps for TraceFileOps {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        let mut pos = file.pos.lock();
        let n = copy_at(&self.data, *pos, buf);
        *pos += n as u64;
        Ok(n)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        Ok(copy_at(&self.data, offset, buf))
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> KResult<usize> {
        let n = self.inode.fs.backend.write_file(&self.inode.path, buf, true)?;
        *file.pos.lock() += n as u64;
        Ok(n)
    }

    fn write_at(&self, _offset: u64, buf: &[u8]) -> KResult<usize> {
        self.inode.fs.backend.write_file(&self.inode.path, buf, true)
    }

    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> KResult<u64> {
        crate::fs::generic::seek_snapshot(&mut file.pos.lock(), self.data.len(), offset, whence)
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(self.meta)
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open `trace_pipe`.
struct TracePipeOps {
    meta: Metadata,
    inode: Arc<TraceInode>,
}

impl FileOps for TracePipeOps {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let fs = &self.inode.fs;
        loop {
            match fs.backend.pipe_read(buf) {
                Err(Errno::EAGAIN) if !file.nonblocking() => {
                    fs.pipe_queue.wait_until(None, || fs.backend.pipe_ready())?;
                }
                r => return r,
            }
        }
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(self.meta)
    }

    fn poll(&self, _file: &OpenFile) -> PollEvents {
        if self.inode.fs.backend.pipe_ready() {
            PollEvents::IN | PollEvents::RDNORM
        } else {
            PollEvents::empty()
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.inode.fs.pipe_queue)
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::context::FsContext;
    use crate::fs::file::{O_APPEND, O_NONBLOCK, O_RDWR};
    use crate::fs::tmpfs::TmpFs;
    use crate::fs::vfs::Vfs;
    use crate::fs::FdTable;
    use crate::syscall::fs_open::open_path;
    use crate::syscall::fs_path::{FsCall, AT_FDCWD};
    use alloc::collections::BTreeMap;
    use alloc::format;
    use spin::Mutex;

    const O_TRUNC: u32 = 0o1000;

    /// A model: `available_events`, `kprobe_events` (lines add `events/kprobes/<name>/id`),
    /// `events/sched/sched_switch/{id,enable}`, and a pipe fed by the test.
    #[derive(Default)]
    struct Fake {
        probes: Mutex<BTreeMap<String, u32>>,
        enabled: Mutex<bool>,
        pipe: Mutex<Vec<u8>>,
        writes: Mutex<Vec<(String, Vec<u8>, bool)>>,
    }

    impl TraceBackend for Fake {
        fn list(&self, dir: &str) -> KResult<Vec<(String, bool)>> {
            let names: Vec<(&str, bool)> = match dir {
                "" => alloc::vec![
                    ("available_events", false),
                    ("events", true),
                    ("kprobe_events", false),
                    ("trace_pipe", false)
                ],
                "events" => alloc::vec![("kprobes", true), ("sched", true)],
                "events/sched" => alloc::vec![("sched_switch", true)],
                "events/sched/sched_switch" => alloc::vec![("enable", false), ("id", false)],
                "events/kprobes" => {
                    return Ok(self.probes.lock().keys().map(|k| (k.clone(), true)).collect());
                }
                d if d.starts_with("events/kprobes/") && self.probes.lock().contains_key(&d[15..]) => {
                    alloc::vec![("id", false)]
                }
                _ => return Err(Errno::ENOENT),
            };
            Ok(names.into_iter().map(|(n, d)| (String::from(n), d)).collect())
        }

        fn stat(&self, path: &str) -> KResult<TraceNodeKind> {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            let (_, is_dir) = self.list(dir)?.into_iter().find(|(n, _)| n == name).ok_or(Errno::ENOENT)?;
            Ok(match (is_dir, path) {
                (true, _) => TraceNodeKind::Dir,
                (false, "trace_pipe") => TraceNodeKind::Pipe,
                (false, "kprobe_events" | "events/sched/sched_switch/enable") => TraceNodeKind::File { writable: true },
                _ => TraceNodeKind::File { writable: false },
            })
        }

        fn read_file(&self, path: &str) -> KResult<Vec<u8>> {
            Ok(match path {
                "available_events" => b"sched:sched_switch\n".to_vec(),
                "kprobe_events" => {
                    self.probes.lock().keys().map(|k| format!("p:kprobes/{k} x\n")).collect::<String>().into_bytes()
                }
                "events/sched/sched_switch/id" => b"5\n".to_vec(),
                "events/sched/sched_switch/enable" => format!("{}\n", u8::from(*self.enabled.lock())).into_bytes(),
                p if p.starts_with("events/kprobes/") => {
                    let name = p.trim_start_matches("events/kprobes/").trim_end_matches("/id");
                    format!("{}\n", self.probes.lock().get(name).ok_or(Errno::ENOENT)?).into_bytes()
                }
                _ => return Err(Errno::ENOENT),
            })
        }

        fn write_file(&self, path: &str, data: &[u8], append: bool) -> KResult<usize> {
            self.writes.lock().push((String::from(path), data.to_vec(), append));
            match path {
                "kprobe_events" => {
                    let line = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?.trim();
                    let name = line.strip_prefix("p:").ok_or(Errno::EINVAL)?.split(' ').next().unwrap_or("");
                    let mut p = self.probes.lock();
                    let id = 100 + p.len() as u32;
                    p.insert(String::from(name), id);
                }
                "events/sched/sched_switch/enable" => *self.enabled.lock() = data.first() == Some(&b'1'),
                _ => return Err(Errno::EINVAL),
            }
            Ok(data.len())
        }

        fn truncate(&self, path: &str) -> KResult<()> {
            match path {
                "kprobe_events" => {
                    self.probes.lock().clear();
                    Ok(())
                }
                _ => Err(Errno::EINVAL),
            }
        }

        fn pipe_read(&self, buf: &mut [u8]) -> KResult<usize> {
            let mut p = self.pipe.lock();
            if p.is_empty() {
                return Err(Errno::EAGAIN);
            }
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            p.drain(..n);
            Ok(n)
        }

        fn pipe_ready(&self) -> bool {
            !self.pipe.lock().is_empty()
        }
    }

    struct Env {
        fake: Arc<Fake>,
        fs: TraceFs,
        vfs: Vfs,
        files: Mutex<FdTable>,
        cx: Mutex<FsContext>,
    }

    fn env() -> Env {
        let fake = Arc::new(Fake::default());
        let fs = TraceFs::new(fake.clone(), 77);
        let vfs = Vfs::new(TmpFs::new_root());
        vfs.mkdir_all(b"/sys/kernel/tracing", 0o755).unwrap();
        vfs.mkdir_all(b"/sys/kernel/debug/tracing", 0o755).unwrap();
        vfs.mount(b"/sys/kernel/tracing", fs.root()).unwrap();
        vfs.mount(b"/sys/kernel/debug/tracing", fs.root()).unwrap();
        let cx = Mutex::new(FsContext::new(&vfs));
        Env { fake, fs, vfs, files: Mutex::new(FdTable::new()), cx }
    }

    impl Env {
        fn open(&self, path: &str, flags: u32) -> KResult<Arc<OpenFile>> {
            open_path(&FsCall::kernel(&self.files, &self.cx, &self.vfs), AT_FDCWD, path.as_bytes(), flags, 0)
        }

        fn cat(&self, path: &str) -> KResult<String> {
            let f = self.open(path, 0)?;
            let mut out = Vec::new();
            let mut b = [0u8; 7];
            loop {
                let n = f.ops.read(&f, &mut b)?;
                if n == 0 {
                    return Ok(String::from_utf8(out).unwrap());
                }
                out.extend_from_slice(&b[..n]);
            }
        }
    }

    #[test]
    fn files_and_dirs_follow_the_model() {
        let e = env();
        assert_eq!(e.cat("/sys/kernel/tracing/available_events").unwrap(), "sched:sched_switch\n");
        assert_eq!(e.cat("/sys/kernel/debug/tracing/events/sched/sched_switch/id").unwrap(), "5\n");
        assert_eq!(e.cat("/sys/kernel/tracing/nope").err(), Some(Errno::ENOENT));
        let root = e.vfs.resolve(&e.vfs.root(), b"/sys/kernel/tracing", true).unwrap();
        let names: Vec<_> = root.inode.readdir().unwrap().into_iter().map(|d| (d.name, d.kind)).collect();
        assert_eq!(names[1], (b"events".to_vec(), FileType::Directory));
        assert_eq!(names[0], (b"available_events".to_vec(), FileType::Regular));
        let m = e.open("/sys/kernel/tracing/kprobe_events", 0).unwrap().ops.stat().unwrap();
        assert_eq!((m.mode, m.size, m.dev), (0o100640, 0, 77));
        let m = e.open("/sys/kernel/tracing/available_events", 0).unwrap().ops.stat().unwrap();
        assert_eq!(m.mode, 0o100440);
        let d = e.vfs.resolve(&e.vfs.root(), b"/sys/kernel/tracing/events", true).unwrap();
        assert_eq!(d.inode.metadata().mode, 0o040755);
        // Read-only files refuse writers; directories refuse creation.
        assert_eq!(e.open("/sys/kernel/tracing/available_events", O_WRONLY).err(), Some(Errno::EACCES));
        assert_eq!(e.open("/sys/kernel/tracing/trace_pipe", O_RDWR).err(), Some(Errno::EACCES));
        assert_eq!(e.open("/sys/kernel/tracing/new", O_WRONLY | 0o100).err(), Some(Errno::EACCES));
    }

    #[test]
    fn writes_reach_the_backend_and_new_events_appear() {
        let e = env();
        let f = e.open("/sys/kernel/tracing/kprobe_events", O_WRONLY | O_APPEND).unwrap();
        assert_eq!(f.ops.write(&f, b"p:myprobe do_sys_openat2\n"), Ok(25));
        assert!(e.fake.writes.lock()[0].2);
        assert_eq!(e.cat("/sys/kernel/tracing/events/kprobes/myprobe/id").unwrap(), "100\n");
        assert_eq!(f.ops.write(&f, b"bad"), Err(Errno::EINVAL));
        // O_TRUNC clears (echo > kprobe_events), and the event directory goes away.
        let t = e.open("/sys/kernel/tracing/kprobe_events", O_WRONLY | O_TRUNC).unwrap();
        assert_eq!(e.fake.writes.lock().len(), 2);
        assert_eq!(e.cat("/sys/kernel/tracing/events/kprobes/myprobe/id").err(), Some(Errno::ENOENT));
        assert_eq!(t.ops.write(&t, b"p:two x"), Ok(7));
        assert!(e.fake.writes.lock()[2].2, "writes always append (truncation is at open)");
        assert_eq!(e.cat("/sys/kernel/tracing/kprobe_events").unwrap(), "p:kprobes/two x\n");
        let en = e.open("/sys/kernel/tracing/events/sched/sched_switch/enable", O_RDWR).unwrap();
        assert_eq!(en.ops.write(&en, b"1\n"), Ok(2));
        assert_eq!(e.cat("/sys/kernel/tracing/events/sched/sched_switch/enable").unwrap(), "1\n");
    }

    #[test]
    fn trace_pipe_blocks_until_data_and_polls() {
        let e = env();
        let f = e.open("/sys/kernel/tracing/trace_pipe", O_NONBLOCK).unwrap();
        let mut b = [0u8; 64];
        assert_eq!(f.ops.read(&f, &mut b), Err(Errno::EAGAIN));
        assert_eq!(f.ops.poll(&f), PollEvents::empty());
        assert!(f.ops.wait_queue().is_some());
        let blocking = e.open("/sys/kernel/debug/tracing/trace_pipe", 0).unwrap();
        let fake = e.fake.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            fake.pipe.lock().extend_from_slice(b"line\n");
        });
        let n = blocking.ops.read(&blocking, &mut b).unwrap();
        h.join().unwrap();
        assert_eq!(&b[..n], b"line\n");
        e.fake.pipe.lock().extend_from_slice(b"x");
        e.fs.wake_pipe();
        assert_eq!(f.ops.poll(&f), PollEvents::IN | PollEvents::RDNORM);
        assert_eq!(f.ops.read(&f, &mut b), Ok(1));
    }
}
