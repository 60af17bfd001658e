use super::*;
use crate::fs::eventfd::new_eventfd;
use crate::fs::pipe::new_pipe;
use crate::fs::FdTable;
use alloc::vec;
use spin::Mutex;

struct Fake {
    procs: Mutex<Vec<ProcessInfo>>,
    files: Arc<Mutex<FdTable>>,
}

impl ProcSource for Fake {
    fn current_pid(&self) -> u32 {
        7
    }
    fn pids(&self) -> Vec<u32> {
        self.procs.lock().iter().map(|p| p.pid).collect()
    }
    fn process(&self, pid: u32) -> Option<ProcessInfo> {
        self.procs.lock().iter().find(|p| p.pid == pid).cloned()
    }
    fn files(&self, pid: u32) -> Option<Arc<Mutex<FdTable>>> {
        (pid == 7).then(|| self.files.clone())
    }
    fn maps(&self, pid: u32) -> Option<String> {
        (pid == 7).then(|| String::from("00400000-00401000 r-xp 00000000 00:00 0 /init\n"))
    }
    fn meminfo(&self) -> MemInfo {
        MemInfo { total_kb: 131072, free_kb: 100000, ..MemInfo::default() }
    }
    fn cpus(&self) -> Vec<CpuInfo> {
        vec![CpuInfo::default(), CpuInfo::default()]
    }
    fn mounts(&self) -> Vec<MountEntry> {
        vec![MountEntry {
            source: String::from("proc"),
            target: String::from("/proc"),
            fstype: String::from("proc"),
            options: String::from("rw,nosuid,nodev,noexec,relatime"),
        }]
    }
}

fn setup() -> (ProcFs, Arc<Fake>, Vec<Arc<OpenFile>>) {
    let (r, w) = new_pipe(0);
    let efd = new_eventfd(3, 0).unwrap();
    let mut t = FdTable::new();
    t.install(r.clone(), false).unwrap();
    t.install(w.clone(), true).unwrap();
    t.install(efd.clone(), false).unwrap();
    let init = ProcessInfo {
        pid: 1,
        comm: String::from("init"),
        state: 'S',
        argv: vec![b"/init".to_vec()],
        exe: Some(b"/init".to_vec()),
        cwd: b"/".to_vec(),
        ..ProcessInfo::default()
    };
    let me = ProcessInfo {
        pid: 7,
        ppid: 1,
        comm: String::from("a-very-long-command-name"),
        state: 'R',
        uid: 0,
        threads: 2,
        tids: vec![7, 8],
        argv: vec![b"/bin/t".to_vec(), b"-x".to_vec(), b"".to_vec()],
        exe: Some(b"/bin/t".to_vec()),
        cwd: b"/tmp".to_vec(),
        umask: 0o22,
        vm_size: 8 << 20,
        rss_pages: 10,
        sig_blocked: 1 << 9,
        ..ProcessInfo::default()
    };
    let src = Arc::new(Fake { procs: Mutex::new(vec![init, me]), files: Arc::new(Mutex::new(t)) });
    (ProcFs::new(src.clone()), src, vec![r, w, efd])
}

fn walk(fs: &ProcFs, path: &str) -> KResult<Arc<dyn Inode>> {
    let mut cur = fs.root();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        cur = cur.lookup(c.as_bytes())?;
    }
    Ok(cur)
}

fn open(fs: &ProcFs, path: &str) -> KResult<Arc<OpenFile>> {
    walk(fs, path)?.open(0).expect("generated files open themselves")
}

fn read_all(fs: &ProcFs, path: &str) -> KResult<String> {
    let f = open(fs, path)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 100];
    loop {
        let n = f.ops.read(&f, &mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8(out).unwrap())
}

fn names(i: &Arc<dyn Inode>) -> Vec<String> {
    i.readdir().unwrap().into_iter().map(|e| String::from_utf8(e.name).unwrap()).collect()
}

#[test]
fn root_lists_statics_self_and_pids() {
    let (fs, _src, _keep) = setup();
    let n = names(&fs.root());
    for want in ["cpuinfo", "meminfo", "uptime", "version", "mounts", "filesystems", "sys", "self", "1", "7"] {
        assert!(n.iter().any(|x| x == want), "{want} missing from {n:?}");
    }
    assert_eq!(walk(&fs, "self").unwrap().readlink(), Ok(b"7".to_vec()));
    assert_eq!(walk(&fs, "self").unwrap().file_type(), FileType::Symlink);
    assert_eq!(walk(&fs, "07").err(), Some(Errno::ENOENT), "no leading zeros");
    assert_eq!(walk(&fs, "99").err(), Some(Errno::ENOENT));
    assert_eq!(walk(&fs, "nothing").err(), Some(Errno::ENOENT));
    assert_eq!(fs.root().metadata().ino, 1);
    assert_eq!(fs.root().create(b"x", FileType::Regular, 0o644).err(), Some(Errno::EACCES));
}

#[test]
fn pid_files() {
    let (fs, _src, _keep) = setup();
    let dir = walk(&fs, "7").unwrap();
    let n = names(&dir);
    assert!(n.contains(&String::from("fdinfo")) && n.contains(&String::from("task")));
    let status = read_all(&fs, "7/status").unwrap();
    for line in ["Name:\ta-very-long-com\n", "Umask:\t0022\n", "State:\tR (running)\n", "Tgid:\t7\n", "Pid:\t7\n"] {
        assert!(status.contains(line), "{line:?} not in status:\n{status}");
    }
    for line in ["PPid:\t1\n", "Uid:\t0\t0\t0\t0\n", "Threads:\t2\n", "SigBlk:\t0000000000000200\n"] {
        assert!(status.contains(line), "{line:?} not in status:\n{status}");
    }
    assert!(status.contains("VmSize:\t    8192 kB\n") && status.contains("VmRSS:\t      40 kB\n"));
    assert!(status.contains("Cpus_allowed_list:\t0-1\n") && status.contains("CapEff:\t000001ffffffffff\n"));
    let stat = read_all(&fs, "7/stat").unwrap();
    assert!(stat.starts_with("7 (a-very-long-com) R 1 7 7 0 -1 "), "{stat}");
    assert_eq!(stat.trim_end().split(' ').count(), 52);
    assert_eq!(read_all(&fs, "7/comm").unwrap(), "a-very-long-com\n");
    assert_eq!(read_all(&fs, "7/cmdline").unwrap(), "/bin/t\0-x\0\0");
    assert_eq!(read_all(&fs, "7/maps").unwrap(), "00400000-00401000 r-xp 00000000 00:00 0 /init\n");
    assert_eq!(read_all(&fs, "7/statm").unwrap(), "2048 10 0 0 0 0 0\n");
    assert_eq!(read_all(&fs, "1/maps").err(), Some(Errno::ESRCH));
    assert_eq!(walk(&fs, "7/exe").unwrap().readlink(), Ok(b"/bin/t".to_vec()));
    assert_eq!(walk(&fs, "7/cwd").unwrap().readlink(), Ok(b"/tmp".to_vec()));
    assert_eq!(walk(&fs, "7/root").unwrap().readlink(), Ok(b"/".to_vec()));
    assert_eq!(walk(&fs, "7/nope").err(), Some(Errno::ENOENT));
    assert_eq!(names(&walk(&fs, "7/task").unwrap()), vec!["7", "8"]);
    assert_eq!(read_all(&fs, "7/task/8/comm").unwrap(), "a-very-long-com\n");
    assert_eq!(walk(&fs, "7/task/9").err(), Some(Errno::ENOENT));
    assert_eq!(walk(&fs, "7/task/8/task").err(), Some(Errno::ENOENT));
}

#[test]
fn fd_links_and_fdinfo() {
    let (fs, _src, keep) = setup();
    assert_eq!(names(&walk(&fs, "7/fd").unwrap()), vec!["0", "1", "2"]);
    assert_eq!(names(&walk(&fs, "7/fdinfo").unwrap()), vec!["0", "1", "2"]);
    let l0 = walk(&fs, "7/fd/0").unwrap();
    assert_eq!(l0.readlink(), Ok(keep[0].path.clone().into_bytes()));
    assert_eq!(l0.metadata().mode, 0o120500, "read end: lr-x------");
    assert_eq!(walk(&fs, "7/fd/1").unwrap().metadata().mode, 0o120300, "write end: l-wx------");
    assert_eq!(walk(&fs, "7/fd/2").unwrap().metadata().mode, 0o120700);
    assert!(Arc::ptr_eq(&magic_link_target(&*l0).unwrap(), &keep[0]));
    assert!(magic_link_target(&*walk(&fs, "self").unwrap()).is_none());
    assert_eq!(walk(&fs, "7/fd/5").err(), Some(Errno::ENOENT));
    assert_eq!(walk(&fs, "7/fd/-1").err(), Some(Errno::ENOENT));
    assert_eq!(walk(&fs, "1/fd").unwrap().readdir().err(), Some(Errno::ENOENT));
    let ino = keep[1].ops.stat().unwrap().ino;
    assert_eq!(read_all(&fs, "7/fdinfo/1").unwrap(), format!("pos:\t0\nflags:\t02000001\nmnt_id:\t0\nino:\t{ino}\n"));
    let efd = read_all(&fs, "7/fdinfo/2").unwrap();
    assert!(efd.starts_with("pos:\t0\nflags:\t02\nmnt_id:\t0\nino:\t1\neventfd-count:                3\n"), "{efd}");
}

#[test]
fn snapshots_offsets_and_read_only() {
    let (fs, src, _keep) = setup();
    let f = open(&fs, "7/comm").unwrap();
    src.procs.lock()[1].comm = String::from("renamed");
    let mut b = [0u8; 4];
    assert_eq!(f.ops.read(&f, &mut b), Ok(4));
    assert_eq!(&b, b"a-ve", "content is the snapshot taken at open");
    assert_eq!(f.ops.read_at(2, &mut b), Ok(4));
    assert_eq!(&b, b"very");
    assert_eq!(f.ops.seek(&f, -2, 2), Ok(14));
    assert_eq!(f.ops.read(&f, &mut b), Ok(2));
    assert_eq!(f.ops.seek(&f, -100, 1), Err(Errno::EINVAL));
    assert_eq!(f.ops.seek(&f, 0, 3), Err(Errno::EINVAL));
    assert_eq!(f.ops.seek(&f, 100, 0), Ok(100));
    assert_eq!(f.ops.read(&f, &mut b), Ok(0));
    assert_eq!(read_all(&fs, "7/comm").unwrap(), "renamed\n");
    // The inode itself reads fresh content.
    let mut big = [0u8; 32];
    assert_eq!(walk(&fs, "7/comm").unwrap().read_at(0, &mut big), Ok(8));
    // Writing is refused.
    let comm = walk(&fs, "7/comm").unwrap();
    assert_eq!(comm.clone().open(1).unwrap().err(), Some(Errno::EACCES));
    assert_eq!(comm.clone().open(2).unwrap().err(), Some(Errno::EACCES));
    assert_eq!(comm.write_at(0, b"x"), Err(Errno::EACCES));
    assert_eq!(walk(&fs, "version").unwrap().open(1).unwrap().err(), Some(Errno::EACCES));
    // A process that exits: open files keep their snapshot, new lookups fail.
    let dir = walk(&fs, "7").unwrap();
    src.procs.lock().retain(|p| p.pid != 7);
    assert_eq!(dir.lookup(b"status").err(), Some(Errno::ENOENT));
    assert_eq!(walk(&fs, "7").err(), Some(Errno::ENOENT));
    assert_eq!(f.ops.read_at(0, &mut b), Ok(4));
}

#[test]
fn global_files() {
    let (fs, _src, _keep) = setup();
    let v = read_all(&fs, "version").unwrap();
    assert!(v.starts_with("Linux version 6.1.0-ext-ebpf (") && v.ends_with('\n'), "{v}");
    assert_eq!(read_all(&fs, "sys/kernel/osrelease").unwrap(), "6.1.0-ext-ebpf\n");
    assert_eq!(read_all(&fs, "sys/kernel/ostype").unwrap(), "Linux\n");
    assert_eq!(read_all(&fs, "sys/kernel/hostname").unwrap(), "ext-ebpf\n");
    assert_eq!(read_all(&fs, "sys/kernel/perf_event_paranoid").unwrap(), "2\n");
    assert_eq!(read_all(&fs, "sys/kernel/unprivileged_bpf_disabled").unwrap(), "2\n");
    assert_eq!(read_all(&fs, "sys/kernel/kptr_restrict").unwrap(), "0\n");
    assert_eq!(read_all(&fs, "sys/kernel/pid_max").unwrap(), "32768\n");
    assert_eq!(read_all(&fs, "sys/net/core/bpf_jit_enable").unwrap(), "0\n");
    assert_eq!(read_all(&fs, "sys/net/core/bpf_jit_limit").unwrap(), "264241152\n");
    assert_eq!(read_all(&fs, "sys/kernel/bpf_stats_enabled").unwrap(), "0\n");
    assert_eq!(read_all(&fs, "sys/fs/pipe-max-size").unwrap(), "1048576\n");
    let cpu = read_all(&fs, "cpuinfo").unwrap();
    assert_eq!(cpu.matches("processor\t: ").count(), 2);
    assert!(cpu.starts_with("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 15\n"), "{cpu}");
    assert!(cpu.contains("processor\t: 1\n") && cpu.contains("cpu MHz\t\t: 2000.000\n") && cpu.ends_with("\n\n"));
    let mem = read_all(&fs, "meminfo").unwrap();
    assert!(mem.starts_with("MemTotal:         131072 kB\nMemFree:          100000 kB\nMemAvailable:     100000 kB\n"));
    assert!(mem.contains("HugePages_Total:       0\n"));
    let up = read_all(&fs, "uptime").unwrap();
    let (a, b) = up.trim_end().split_once(' ').unwrap();
    assert!(a.split_once('.').is_some_and(|(_, c)| c.len() == 2) && b == "0.00", "{up}");
    assert_eq!(read_all(&fs, "mounts").unwrap(), "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n");
    assert!(read_all(&fs, "filesystems").unwrap().contains("nodev\tbpf\n"));
    assert_eq!(read_all(&fs, "loadavg").unwrap(), "0.00 0.00 0.00 1/2 7\n");
    assert!(read_all(&fs, "stat").unwrap().contains("\ncpu1 0 0 0 "));
    let st = walk(&fs, "version").unwrap().metadata();
    assert_eq!((st.mode, st.dev, st.size), (0o100444, PROCFS_DEV, 0));
    assert_eq!(walk(&fs, "sys/kernel").unwrap().metadata().mode, 0o040555);
}

#[test]
fn files_can_be_added_later() {
    let (fs, _src, _keep) = setup();
    fs.add_file("kallsyms", Arc::new(|| Ok(b"ffffffff81000000 T _stext\n".to_vec()))).unwrap();
    assert_eq!(read_all(&fs, "kallsyms").unwrap(), "ffffffff81000000 T _stext\n");
    assert_eq!(fs.add_file("kallsyms", Arc::new(|| Ok(Vec::new()))), Err(Errno::EEXIST));
    fs.add_file("sys/kernel/new/deep", Arc::new(|| Ok(b"1\n".to_vec()))).unwrap();
    assert_eq!(read_all(&fs, "sys/kernel/new/deep").unwrap(), "1\n");
    assert_eq!(fs.add_file("version/x", Arc::new(|| Ok(Vec::new()))), Err(Errno::ENOTDIR));
    assert_eq!(fs.add_file("", Arc::new(|| Ok(Vec::new()))), Err(Errno::EINVAL));
    let path = open(&fs, "sys/kernel/new/deep").unwrap().path.clone();
    assert_eq!(path, "/proc/sys/kernel/new/deep");
    assert_eq!(open(&fs, "7/status").unwrap().path, "/proc/7/status");
}
