//! `BPF_ENABLE_STATS` through raw attribute bytes (Linux 6.1 `bpf_enable_stats`): the fd
//! keeps run statistics on while it is open.

use core::sync::atomic::Ordering::Relaxed;

use syscall_abi::bpf::{Cmd, EnableStatsAttr, InfoAttr, MapElemAttr, ObjAttr, ProgType, TestRunAttr};
use syscall_abi::Errno;

use super::link::{load, ret};
use super::{e, T};
use crate::host::Capability;
use crate::object::BpfObject;
use crate::run::stats_enabled;

fn enable(t: &T, type_: u32) -> isize {
    t.call(Cmd::EnableStats, &EnableStatsAttr { type_ })
}

/// Runs the raw tracepoint program `fd` once with BPF_PROG_TEST_RUN.
fn run_once(t: &T, fd: u32) {
    let a = TestRunAttr { prog_fd: fd, ..TestRunAttr::ZERO };
    assert_eq!(t.call(Cmd::ProgTestRun, &a), 0);
}

#[test]
fn errors() {
    let t = T::new();
    assert_eq!(enable(&t, 1), e(Errno::EINVAL));
    assert_eq!(enable(&t, u32::MAX), e(Errno::EINVAL));
    t.h.set_cap(Capability::SysAdmin, false);
    assert_eq!(enable(&t, 0), e(Errno::EPERM), "CAP_BPF is not enough");
    // EPERM comes before the type check.
    assert_eq!(enable(&t, 1), e(Errno::EPERM));
}

#[test]
fn stats_fd_is_no_other_object() {
    let t = T::new();
    let fd = enable(&t, 0);
    assert!(fd >= 3, "{fd}");
    let fd = fd as u32;
    assert!(matches!(t.h.object(fd), Some(BpfObject::Stats(_))));
    assert_eq!(t.h.object(fd).unwrap().anon_name(), "bpf-stats");
    // Every other command treats it as a foreign file.
    let pin = ObjAttr { pathname: t.cstr("/sys/fs/bpf/stats"), bpf_fd: fd, file_flags: 0 };
    assert_eq!(t.call(Cmd::ObjPin, &pin), e(Errno::EINVAL));
    let lookup = MapElemAttr { map_fd: fd, ..MapElemAttr::ZERO };
    assert_eq!(t.call(Cmd::MapLookupElem, &lookup), e(Errno::EINVAL));
    let info = InfoAttr { bpf_fd: fd, info_len: 8, info: t.h.alloc(8) };
    assert_eq!(t.call(Cmd::ObjGetInfoByFd, &info), e(Errno::EINVAL));
    assert!(t.h.close(fd));
    t.assert_all_freed();
}

#[test]
fn run_counters_follow_the_fd() {
    let t = T::new();
    let fd = load(&t, ProgType::RawTracepoint, &ret(0));
    let prog = match t.h.object(fd) {
        Some(BpfObject::Prog(p)) => p,
        other => panic!("{other:?}"),
    };
    let cnt = || prog.stats().run_cnt.load(Relaxed);
    let stats = enable(&t, 0);
    assert!(stats >= 3, "{stats}");
    let dup = t.h.dup(stats as u32).unwrap();
    let before = cnt();
    for _ in 0..3 {
        run_once(&t, fd);
    }
    assert!(cnt() >= before + 3, "runs are counted while the stats fd is open");
    assert!(prog.stats().run_time_ns.load(Relaxed) > 0);
    // A second stats fd nests.
    let second = enable(&t, 0) as u32;
    assert!(t.h.close(second));
    let before = cnt();
    run_once(&t, fd);
    assert!(cnt() > before, "still on: the first stats fd is open");
    // Closing one of two dup'ed fds keeps it on; closing the last switches it off.
    assert!(t.h.close(stats as u32));
    let before = cnt();
    run_once(&t, fd);
    assert!(cnt() > before, "still on: a dup is open");
    assert!(t.h.close(dup));
    // Other tests may switch stats on for a moment: retry until a run happened with stats
    // off throughout; fails if closing did not switch them off.
    let mut stopped = false;
    for _ in 0..200 {
        if stats_enabled() {
            std::thread::sleep(std::time::Duration::from_millis(10));
            continue;
        }
        let before = cnt();
        run_once(&t, fd);
        if !stats_enabled() && cnt() == before {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "runs are no longer counted after the last stats fd is closed");
}
