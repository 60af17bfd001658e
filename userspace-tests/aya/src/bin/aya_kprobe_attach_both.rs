//! Scenario 13: one aya-loaded kprobe program attached every way Linux offers, each counting
//! exactly N getpid() calls and none after it is detached:
//!   1. aya's own KProbe::attach (kprobe PMU; a bpf_link when aya's feature probe finds perf
//!      links, else ioctl SET_BPF), detached with KProbe::detach;
//!   2. kprobe PMU event + ioctl PERF_EVENT_IOC_SET_BPF + ENABLE, detached by close;
//!   3. kprobe PMU event + BPF_LINK_CREATE(BPF_PERF_EVENT), detached by closing the link;
//!   4. tracefs `kprobe_events` ("p:kprobes/<name> __x64_sys_getpid"), its tracepoint id,
//!      perf_event_open(PERF_TYPE_TRACEPOINT) + SET_BPF + ENABLE;
//!   5. the same tracefs event + BPF_LINK_CREATE; then the event is removed ("-:kprobes/<name>").
//!
//! aya itself takes the tracefs path only on kernels older than 4.17, hence the raw calls for it.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};

use aya::maps::HashMap;
use aya::programs::KProbe;
use ayatest::raw::{self, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF};
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, getpid_n, load, read_text, tgid, tracefs, Guard};

const SYM: &str = "__x64_sys_getpid";
const N: u64 = 200;

fn count(bpf: &aya::Ebpf, pid: u32) -> u64 {
    let counts: HashMap<_, u32, u64> = HashMap::try_from(bpf.map("counts").unwrap()).unwrap();
    match counts.get(&pid, 0) {
        Ok(v) => v,
        Err(aya::maps::MapError::KeyNotFound) => 0,
        Err(e) => fail(format!("counts[{pid}]"), ayatest::error_chain(&e)),
    }
}

/// N calls are counted while attached; after `detach` nothing is.
fn expect_counting(bpf: &mut aya::Ebpf, pid: u32, how: &str, detach: impl FnOnce(&mut aya::Ebpf)) {
    let before = count(bpf, pid);
    getpid_n(N, pid);
    check_eq(count(bpf, pid) - before, N, format!("{how}: {N} getpid() calls counted"));
    detach(bpf);
    let before = count(bpf, pid);
    getpid_n(50, pid);
    check_eq(count(bpf, pid), before, format!("{how}: detached, nothing counted"));
}

fn main() {
    let guard = Guard::new();
    let pid = tgid();
    let tfs = tracefs();

    guard.step(60, "load kprobe_count.o");
    let mut bpf = load(bpf_object!("kprobe_count"), "kprobe_count.o");
    let prog: &mut KProbe = check_ok(
        bpf.program_mut("count_getpid").unwrap_or_else(|| fail("program `count_getpid`", "missing")).try_into(),
        "count_getpid is a KProbe",
    );
    check_ok(prog.load(), "KProbe::load");
    let prog_fd = check_ok(check_ok(prog.fd(), "KProbe::fd").try_clone(), "ProgramFd::try_clone");
    let pfd = prog_fd.as_fd().as_raw_fd();

    // 1. aya's own choice.
    guard.step(60, "aya KProbe::attach");
    let perf_link = aya::features().bpf_perf_link();
    println!("# aya's feature probe: perf links {}", if perf_link { "supported" } else { "not supported" });
    let link = check_ok(prog.attach(SYM, 0), format!("KProbe::attach({SYM}, 0)"));
    let prog_id = check_ok(prog.info(), "KProbe::info").id();
    if perf_link {
        let found = aya::programs::loaded_links().filter_map(Result::ok).any(|l| l.program_id() == prog_id);
        check(found, format!("loaded_links() lists a link of program {prog_id}"), "not found");
    }
    expect_counting(&mut bpf, pid, "aya KProbe::attach", |bpf| {
        let prog: &mut KProbe = bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
        check_ok(prog.detach(link), "KProbe::detach");
    });

    // 2 + 3: the kprobe PMU.
    guard.step(60, "kprobe PMU");
    let ty_path = "/sys/bus/event_source/devices/kprobe/type";
    let pmu: u32 = read_text(ty_path).trim().parse().unwrap_or_else(|e| fail(ty_path, e));
    let sym = std::ffi::CString::new(SYM).unwrap();
    let ev = check_ok(raw::kprobe_pmu_open(pmu, &sym, true), format!("perf_event_open(kprobe PMU {pmu}, {SYM})"));
    check_ok(raw::ioctl(ev.as_raw_fd(), PERF_EVENT_IOC_SET_BPF, pfd as libc::c_ulong), "PERF_EVENT_IOC_SET_BPF");
    check_ok(raw::ioctl(ev.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE");
    expect_counting(&mut bpf, pid, "kprobe PMU + SET_BPF", |_| drop(ev));

    let ev = check_ok(raw::kprobe_pmu_open(pmu, &sym, false), "perf_event_open(kprobe PMU) for a link");
    let l = check_ok(raw::perf_link_create(pfd, ev.as_raw_fd()), "BPF_LINK_CREATE(BPF_PERF_EVENT) on the PMU event");
    expect_counting(&mut bpf, pid, "kprobe PMU + bpf_link", |_| drop(l));
    drop(ev);

    // 4 + 5: tracefs kprobe_events.
    guard.step(60, "tracefs kprobe_events");
    let name = format!("aya13_{pid}");
    let events = format!("{tfs}/kprobe_events");
    let add = |line: &str, what: &str| {
        let mut f = check_ok(std::fs::OpenOptions::new().append(true).open(&events), format!("open {events}"));
        check_ok(f.write_all(line.as_bytes()), what.to_string());
    };
    add(&format!("p:kprobes/{name} {SYM}\n"), &format!("write \"p:kprobes/{name} {SYM}\" to kprobe_events"));
    let listed = read_text(&events);
    check(
        listed.lines().any(|l| l.starts_with(&format!("p:kprobes/{name} "))),
        "kprobe_events lists the probe",
        format!("{listed:?}"),
    );
    let id_path = format!("{tfs}/events/kprobes/{name}/id");
    let id: u64 = read_text(&id_path).trim().parse().unwrap_or_else(|e| fail(&id_path, e));

    let ev = check_ok(
        raw::tracepoint_open(id, true),
        format!("perf_event_open(PERF_TYPE_TRACEPOINT, kprobes/{name} id {id})"),
    );
    check_ok(raw::ioctl(ev.as_raw_fd(), PERF_EVENT_IOC_SET_BPF, pfd as libc::c_ulong), "SET_BPF on the tracefs kprobe");
    check_ok(raw::ioctl(ev.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0), "ENABLE on the tracefs kprobe");
    expect_counting(&mut bpf, pid, "tracefs kprobe + SET_BPF", |_| drop(ev));

    let ev = check_ok(raw::tracepoint_open(id, false), "perf_event_open(tracefs kprobe) for a link");
    let l = check_ok(raw::perf_link_create(pfd, ev.as_raw_fd()), "BPF_LINK_CREATE on the tracefs kprobe");
    expect_counting(&mut bpf, pid, "tracefs kprobe + bpf_link", |_| drop(l));
    drop(ev);

    add(&format!("-:kprobes/{name}\n"), &format!("write \"-:kprobes/{name}\" to kprobe_events"));
    let listed = read_text(&events);
    check(!listed.contains(&name), "the probe is gone from kprobe_events", format!("{listed:?}"));
    check(!std::path::Path::new(&id_path).exists(), format!("{id_path} is gone"), "still there");
    getpid_n(10, pid);
    drop(prog_fd);
    done();
}
