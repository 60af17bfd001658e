//! Pinning through the kernel's VFS: bpffs mounted at `/sys/fs/bpf` over a tmpfs root, the
//! process resolving paths with its own working directory.

use std::sync::Arc;

use spin::Mutex;
use syscall_abi::bpf::{MapType, BPF_ANY};
use syscall_abi::Errno;

use super::{u32b, Proc, T};
use crate::bpf::{vfs as bpf_vfs, BpfProcess, PathParent};
use crate::fs::context::FsContext;
use crate::fs::tmpfs::TmpFs;
use crate::fs::vfs::Vfs;
use crate::fs::{FdTable, FileType, Inode};
use crate::user::UserMem;
use crate::KResult;

/// The fake process, with a filesystem view.
struct VfsProc {
    inner: Arc<Proc>,
    vfs: Arc<Vfs>,
    fs: Mutex<FsContext>,
}

impl BpfProcess for VfsProc {
    fn mem(&self) -> &dyn UserMem {
        self.inner.mem()
    }
    fn files(&self) -> &Mutex<FdTable> {
        self.inner.files()
    }
    fn pid_tgid(&self) -> (u32, u32) {
        self.inner.pid_tgid()
    }
    fn uid_gid(&self) -> (u32, u32) {
        self.inner.uid_gid()
    }
    fn comm(&self) -> [u8; 16] {
        self.inner.comm()
    }
    fn umask(&self) -> u32 {
        self.fs.lock().umask
    }
    fn lookup(&self, path: &[u8], follow: bool) -> Option<KResult<Arc<dyn Inode>>> {
        Some(bpf_vfs::lookup(&self.vfs, &self.fs.lock(), path, follow))
    }
    fn lookup_parent(&self, path: &[u8]) -> Option<KResult<PathParent>> {
        Some(bpf_vfs::lookup_parent(&self.vfs, &self.fs.lock(), path))
    }
}

fn setup() -> (T, Arc<Vfs>, Arc<VfsProc>) {
    let vfs = Arc::new(Vfs::new(TmpFs::new_root()));
    vfs.mkdir_all(b"/sys/fs/bpf", 0o755).unwrap();
    vfs.mkdir_all(b"/tmp", 0o777).unwrap();
    let mut slot = None;
    let t = T::with_current(|inner| {
        let p = Arc::new(VfsProc { inner, vfs: vfs.clone(), fs: Mutex::new(FsContext::new(&vfs)) });
        slot = Some(p.clone());
        p
    });
    vfs.mount(b"/sys/fs/bpf", t.host.bpffs().root()).unwrap();
    (t, vfs, slot.unwrap())
}

#[test]
fn pins_resolve_through_the_vfs() {
    let (t, vfs, proc) = setup();
    let m = t.map(MapType::Array, 4, 4, 2, 0);
    assert_eq!(t.update(m, &u32b(1), &u32b(9), BPF_ANY), Ok(0));
    assert_eq!(t.pin(m, "/sys/fs/bpf/m"), Ok(0));
    // Relative to the working directory.
    proc.fs.lock().cwd = vfs.resolve(&vfs.root(), b"/sys/fs/bpf", true).unwrap();
    let fd = t.obj_get("m", 0).unwrap();
    assert_eq!(t.lookup(fd, &u32b(1), 4), Ok(u32b(9).to_vec()));
    assert_eq!(t.pin(m, "../bpf/rel"), Ok(0));
    // The umask comes from the process's filesystem context.
    proc.fs.lock().umask = 0o066;
    assert_eq!(t.pin(m, "masked"), Ok(0));
    assert_eq!(t.host.bpffs().root().lookup(b"masked").unwrap().metadata().mode, 0o100600);
    proc.fs.lock().umask = 0o277;
    assert_eq!(t.pin(m, "ro"), Ok(0));
    assert_eq!(t.host.bpffs().root().lookup(b"ro").unwrap().metadata().mode, 0o100400);
    // A symlink on tmpfs leading into bpffs is followed.
    let tmp = vfs.resolve(&vfs.root(), b"/tmp", true).unwrap().inode;
    tmp.symlink(b"link", b"/sys/fs/bpf/rel").unwrap();
    tmp.create(b"file", FileType::Regular, 0o644).unwrap();
    let fd2 = t.obj_get("/tmp/link", 0).unwrap();
    t.close(fd2);

    for (path, errno) in [
        ("/tmp/x", Errno::EPERM),
        ("/tmp/link", Errno::EEXIST),
        ("/nowhere/x", Errno::ENOENT),
        ("/tmp/file/x", Errno::ENOTDIR),
        ("/sys/fs/bpf", Errno::EEXIST),
        ("/sys/fs/bpf/x.y", Errno::EPERM),
        ("/sys/fs/bpf/new/", Errno::ENOENT),
    ] {
        assert_eq!(t.pin(m, path), Err(errno), "pin at {path}");
    }
    for (path, errno) in [
        ("/tmp", Errno::EACCES),
        ("/tmp/file", Errno::EACCES),
        ("/tmp/none", Errno::ENOENT),
        ("/sys/fs/bpf/m/", Errno::ENOTDIR),
    ] {
        assert_eq!(t.obj_get(path, 0), Err(errno), "get at {path}");
    }
    for name in [b"m".as_slice(), b"rel", b"masked", b"ro"] {
        t.host.bpffs().root().unlink(name).unwrap();
    }
    drop((tmp, proc));
    t.assert_all_freed();
}
