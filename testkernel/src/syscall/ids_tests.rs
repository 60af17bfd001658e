//! Host tests of the id syscalls.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::user::{read_val, TestMem};

/// pid -> (ids, facts). Caller is `me`.
struct Host {
    me: u32,
    procs: Vec<(u32, JobIds, JobTarget)>,
}

impl JobHost for Host {
    fn caller_pid(&self) -> u32 {
        self.me
    }
    fn with_process(&self, pid: u32, f: &mut dyn FnMut(&JobIds, JobTarget)) -> bool {
        match self.procs.iter().find(|p| p.0 == pid) {
            Some((_, ids, t)) => {
                f(ids, *t);
                true
            }
            None => false,
        }
    }
    fn group_in_session(&self, pgid: u32, sid: u32) -> bool {
        self.procs.iter().any(|p| p.1.pgid() == pgid && p.1.sid() == sid)
    }
    fn group_exists(&self, pgid: u32) -> bool {
        self.procs.iter().any(|p| p.1.pgid() == pgid)
    }
}

fn ids(pgid: u32, sid: u32) -> JobIds {
    let j = JobIds::leader(0);
    j.set(pgid, sid);
    j
}

/// init (1, leader of 1/1); shell 10 (child of 1, group 10, session 1); its children
/// 11 (not exec'd) and 12 (exec'd); 20 in another session 20.
fn host(me: u32) -> Host {
    let t = |parent, execed| JobTarget { parent, execed };
    Host {
        me,
        procs: vec![
            (1, JobIds::leader(1), t(0, true)),
            (10, ids(10, 1), t(1, true)),
            (11, ids(10, 1), t(10, false)),
            (12, ids(10, 1), t(10, true)),
            (20, ids(20, 20), t(1, true)),
            (21, ids(20, 20), t(10, false)),
        ],
    }
}

fn pg(h: &Host, pid: u32) -> (u32, u32) {
    let mut out = (0, 0);
    h.with_process(pid, &mut |i, _| out = (i.pgid(), i.sid()));
    out
}

#[test]
fn credentials() {
    assert_eq!([sys_getuid(), sys_geteuid(), sys_getgid(), sys_getegid()], [Ok(0); 4]);
    assert_eq!(sys_getgroups(0, 0), Ok(0));
    assert_eq!(sys_getgroups(16, 8), Ok(0));
    assert_eq!(sys_getgroups(-1, 0), Err(Errno::EINVAL));
    for (f, id, want) in [
        (sys_setuid as fn(u32) -> KResult<u64>, 0, Ok(0)),
        (sys_setuid, 1000, Err(Errno::EPERM)),
        (sys_setuid, u32::MAX, Err(Errno::EINVAL)),
        (sys_setgid, 0, Ok(0)),
        (sys_setgid, 5, Err(Errno::EPERM)),
        (sys_setgid, u32::MAX, Err(Errno::EINVAL)),
    ] {
        assert_eq!(f(id), want, "id {id}");
    }
    let m = TestMem::new(0x1000, 64);
    crate::user::write_val(&m, 0x1000, &[u32::MAX; 3]).unwrap();
    assert_eq!(sys_getresuid(&m, 0x1000, 0x1004, 0x1008), Ok(0));
    assert_eq!(read_val::<[u32; 3]>(&m, 0x1000), Ok([0; 3]));
    assert_eq!(sys_getresuid(&m, 0x1000, 8, 0x1008), Err(Errno::EFAULT));
}

#[test]
fn getpgid_getsid() {
    let h = host(11);
    assert_eq!(sys_getpgid(&h, 0), Ok(10));
    assert_eq!(sys_getsid(&h, 0), Ok(1));
    assert_eq!(sys_getpgid(&h, 20), Ok(20));
    assert_eq!(sys_getsid(&h, 1), Ok(1));
    assert_eq!(sys_getpgid(&h, 99), Err(Errno::ESRCH));
    assert_eq!(sys_getsid(&h, -1), Err(Errno::ESRCH));
}

#[test]
fn setsid_rules() {
    // A group leader cannot.
    assert_eq!(sys_setsid(&host(10)), Err(Errno::EPERM));
    assert_eq!(sys_setsid(&host(1)), Err(Errno::EPERM));
    let h = host(11);
    assert_eq!(sys_setsid(&h), Ok(11));
    assert_eq!(pg(&h, 11), (11, 11));
    // Now a session leader: setpgid on itself is EPERM.
    assert_eq!(sys_setpgid(&h, 0, 0), Err(Errno::EPERM));
}

#[test]
fn setpgid_rules() {
    let h = host(10);
    let cases: &[(i32, i32, Errno)] = &[
        (0, -1, Errno::EINVAL),
        (-5, 0, Errno::ESRCH),
        (99, 0, Errno::ESRCH),
        (20, 0, Errno::ESRCH),  // not a child
        (21, 0, Errno::EPERM),  // child in another session
        (12, 0, Errno::EACCES), // child that exec'd
        (11, 20, Errno::EPERM), // group of another session
        (11, 77, Errno::EPERM), // no such group
    ];
    for &(pid, pgid, errno) in cases {
        assert_eq!(sys_setpgid(&h, pid, pgid), Err(errno), "setpgid({pid}, {pgid})");
    }
    assert_eq!(pg(&h, 11), (10, 1), "failures change nothing");
    // Child into its own group, then back into the shell's group.
    assert_eq!(sys_setpgid(&h, 11, 0), Ok(0));
    assert_eq!(pg(&h, 11), (11, 1));
    assert_eq!(sys_setpgid(&h, 11, 10), Ok(0));
    assert_eq!(pg(&h, 11), (10, 1));
    // The caller itself, into the init group (same session).
    assert_eq!(sys_setpgid(&h, 0, 1), Ok(0));
    assert_eq!(pg(&h, 10), (1, 1));
    // Forked ids are a copy.
    let j = JobIds::leader(3);
    let c = j.fork_copy();
    j.set(4, 4);
    assert_eq!((c.pgid(), c.sid()), (3, 3));
}
