//! Host tests of the rlimit syscalls.

use super::*;
use crate::proc::rlimit::{
    INIT_RLIMITS, NR_OPEN, RLIMIT_CORE, RLIMIT_MEMLOCK, RLIMIT_RTTIME, RLIMIT_STACK, RLIM_INFINITY, RLIM_NLIMITS,
};
use crate::user::TestMem;

const BASE: u64 = 0x60_000;
const NEW: u64 = BASE;
const OLD: u64 = BASE + 0x20;

/// One other process, pid 50.
struct Host {
    limits: Rlimits,
    files: Mutex<FdTable>,
}

impl LimitsHost for Host {
    fn with_process_limits(&self, pid: u32, f: &mut dyn FnMut(&Rlimits, &Mutex<FdTable>)) -> bool {
        if pid != 50 {
            return false;
        }
        f(&self.limits, &self.files);
        true
    }
}

fn setup() -> (Host, Rlimits, Mutex<FdTable>, TestMem) {
    (
        Host { limits: Rlimits::new(), files: Mutex::new(FdTable::new()) },
        Rlimits::new(),
        Mutex::new(FdTable::new()),
        TestMem::new(BASE, 0x100),
    )
}

#[test]
fn defaults_match_linux_init() {
    let l = Rlimits::new();
    let mib8 = 8 << 20;
    assert_eq!(l.get(RLIMIT_STACK), Ok(Rlimit { cur: mib8, max: RLIM_INFINITY }));
    assert_eq!(l.get(RLIMIT_NOFILE), Ok(Rlimit { cur: 1024, max: 4096 }));
    assert_eq!(l.get(RLIMIT_MEMLOCK), Ok(Rlimit { cur: mib8, max: mib8 }));
    assert_eq!(l.get(RLIMIT_CORE), Ok(Rlimit { cur: 0, max: RLIM_INFINITY }));
    assert_eq!(l.get(RLIMIT_RTTIME), Ok(Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY }));
    assert_eq!(l.get(RLIM_NLIMITS), Err(Errno::EINVAL));
    assert_eq!(l.nofile(), 1024);
    assert_eq!(FdTable::new().limit(), 1024, "the fd table starts at the soft NOFILE");
}

#[test]
fn getrlimit_setrlimit() {
    let (_h, l, f, m) = setup();
    assert_eq!(sys_getrlimit(&l, &m, RLIMIT_MEMLOCK, OLD), Ok(0));
    assert_eq!(read_val::<[u64; 2]>(&m, OLD), Ok([8 << 20, 8 << 20]));
    assert_eq!(sys_getrlimit(&l, &m, 16, OLD), Err(Errno::EINVAL));
    assert_eq!(sys_getrlimit(&l, &m, u32::MAX, 8), Err(Errno::EINVAL));
    assert_eq!(sys_getrlimit(&l, &m, 0, 8), Err(Errno::EFAULT));

    // Raising MEMLOCK (hard too: we are root), as bpf loaders do.
    write_val(&m, NEW, &[RLIM_INFINITY, RLIM_INFINITY]).unwrap();
    assert_eq!(sys_setrlimit(&l, &f, &m, RLIMIT_MEMLOCK, NEW), Ok(0));
    assert_eq!(l.get(RLIMIT_MEMLOCK), Ok(Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY }));
    // Errors: EFAULT first, then EINVAL/EPERM.
    assert_eq!(sys_setrlimit(&l, &f, &m, 99, 8), Err(Errno::EFAULT));
    assert_eq!(sys_setrlimit(&l, &f, &m, 99, NEW), Err(Errno::EINVAL));
    write_val(&m, NEW, &[10u64, 5]).unwrap();
    assert_eq!(sys_setrlimit(&l, &f, &m, RLIMIT_STACK, NEW), Err(Errno::EINVAL));
    write_val(&m, NEW, &[10u64, NR_OPEN + 1]).unwrap();
    assert_eq!(sys_setrlimit(&l, &f, &m, RLIMIT_NOFILE, NEW), Err(Errno::EPERM));
    // NOFILE soft limit drives the fd table.
    write_val(&m, NEW, &[64u64, NR_OPEN]).unwrap();
    assert_eq!(sys_setrlimit(&l, &f, &m, RLIMIT_NOFILE, NEW), Ok(0));
    assert_eq!(f.lock().limit(), 64);
    assert_eq!(l.get(RLIMIT_STACK), Ok(INIT_RLIMITS[3]), "failed calls change nothing");
}

#[test]
fn prlimit64_self_other_and_errors() {
    let (h, l, f, m) = setup();
    write_val(&m, NEW, &[100u64, 200]).unwrap();
    // Get and set at once: old is the value before.
    assert_eq!(sys_prlimit64(&h, 7, &l, &f, &m, 0, RLIMIT_NOFILE, NEW, OLD), Ok(0));
    assert_eq!(read_val::<[u64; 2]>(&m, OLD), Ok([1024, 4096]));
    assert_eq!(f.lock().limit(), 100);
    assert_eq!(sys_prlimit64(&h, 7, &l, &f, &m, 7, RLIMIT_NOFILE, 0, OLD), Ok(0));
    assert_eq!(read_val::<[u64; 2]>(&m, OLD), Ok([100, 200]));
    // Another process.
    assert_eq!(sys_prlimit64(&h, 7, &l, &f, &m, 50, RLIMIT_NOFILE, NEW, 0), Ok(0));
    assert_eq!(h.files.lock().limit(), 100);
    assert_eq!(h.limits.get(RLIMIT_NOFILE), Ok(Rlimit { cur: 100, max: 200 }));
    // Order: EFAULT (new) > ESRCH > EINVAL > EFAULT (old).
    let cases: &[(i32, u32, u64, u64, Errno)] = &[
        (99, 99, 8, 0, Errno::EFAULT),
        (99, 99, NEW, 0, Errno::ESRCH),
        (-1, 0, 0, OLD, Errno::ESRCH),
        (0, 99, NEW, 0, Errno::EINVAL),
        (50, 16, 0, OLD, Errno::EINVAL),
        (0, RLIMIT_STACK, 0, 8, Errno::EFAULT),
    ];
    for &(pid, res, new, old, errno) in cases {
        assert_eq!(sys_prlimit64(&h, 7, &l, &f, &m, pid, res, new, old), Err(errno), "pid {pid} res {res}");
    }
    // A set whose old-value copy fails still took effect (Linux copies out last).
    write_val(&m, NEW, &[1u64, 2]).unwrap();
    assert_eq!(sys_prlimit64(&h, 7, &l, &f, &m, 0, RLIMIT_CORE, NEW, 8), Err(Errno::EFAULT));
    assert_eq!(l.get(RLIMIT_CORE), Ok(Rlimit { cur: 1, max: 2 }));
    // Null pointers: nothing read or written.
    assert_eq!(sys_prlimit64(&h, 7, &l, &f, &m, 0, RLIMIT_CORE, 0, 0), Ok(0));
    // Forked limits are a copy.
    let child = l.fork_copy();
    l.set(RLIMIT_CORE, Rlimit { cur: 0, max: 0 }).unwrap();
    assert_eq!(child.get(RLIMIT_CORE), Ok(Rlimit { cur: 1, max: 2 }));
}
