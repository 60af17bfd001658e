//! ayatest — what every Aya scenario binary shares: `ok - <what>` / `not ok - <what>: <detail>`
//! reporting in the style of `../kernel/check.h` (the first failure exits 1, [`done`] exits 0),
//! a hang guard, the embedded eBPF objects, and small Linux helpers (tgid, raw syscalls,
//! tracefs). Nothing here knows which kernel it runs on: the binaries pass on Linux too.

use std::error::Error;
use std::fmt::Display;
use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The C eBPF object `name`.o built by `../Makefile` into `$AYA_BPF_DIR` (default
/// `../build/bpf`), embedded 8-byte aligned as aya wants it.
#[macro_export]
macro_rules! bpf_object {
    ($name:literal) => {
        aya::include_bytes_aligned!(concat!(env!("AYA_BPF_DIR"), "/", $name, ".o"))
    };
}

/// Prints `ok - <what>`.
pub fn ok(what: impl Display) {
    println!("ok - {what}");
    let _ = std::io::stdout().flush();
}

/// Prints `not ok - <what>: <detail>` and exits 1.
pub fn fail(what: impl Display, detail: impl Display) -> ! {
    println!("not ok - {what}: {detail}");
    let _ = std::io::stdout().flush();
    std::process::exit(1);
}

/// The whole scenario passed.
pub fn done() -> ! {
    println!("ok - all checks passed");
    let _ = std::io::stdout().flush();
    std::process::exit(0);
}

/// An error with its chain of sources (aya puts the verifier log and the errno there).
pub fn error_chain(e: &dyn Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// `Ok(v)` → prints `ok - <what>` and returns `v`; `Err(e)` → `not ok` with the error chain.
pub fn check_ok<T, E: Error + 'static>(r: Result<T, E>, what: impl Display) -> T {
    match r {
        Ok(v) => {
            ok(&what);
            v
        }
        Err(e) => fail(what, error_chain(&e)),
    }
}

/// `cond` must hold.
pub fn check(cond: bool, what: impl Display, detail: impl Display) {
    if cond {
        ok(what)
    } else {
        fail(what, detail)
    }
}

/// Equality with both values printed on failure.
pub fn check_eq<T: PartialEq + std::fmt::Debug>(got: T, want: T, what: impl Display) {
    if got == want {
        ok(what)
    } else {
        fail(what, format!("got {got:?}, expected {want:?}"))
    }
}

/// The current process id (tgid), by the raw system call.
pub fn tgid() -> u32 {
    // SAFETY: getpid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_getpid) as u32 }
}

/// `n` raw getpid() system calls, each checked to return `pid`.
pub fn getpid_n(n: u64, pid: u32) {
    for i in 0..n {
        // SAFETY: as above.
        let r = unsafe { libc::syscall(libc::SYS_getpid) };
        if r != i64::from(pid) {
            fail(format!("getpid() #{i}"), format!("returned {r}, expected {pid}"));
        }
    }
}

/// The hang guard: each step must end before its deadline, or the test prints
/// `not ok - <step>: timed out` and exits 1 (a missing kernel feature must fail, not hang).
pub struct Guard {
    tx: mpsc::Sender<(Instant, String)>,
}

impl Guard {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel::<(Instant, String)>();
        std::thread::spawn(move || {
            let mut cur: Option<(Instant, String)> = None;
            loop {
                let wait = match &cur {
                    Some((d, _)) => d.saturating_duration_since(Instant::now()),
                    None => Duration::from_secs(3600),
                };
                match rx.recv_timeout(wait) {
                    Ok(m) => cur = Some(m),
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some((d, step)) = &cur {
                            if Instant::now() >= *d {
                                fail(step, "timed out (the kernel did not answer)");
                            }
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// The next step must end within `secs` seconds.
    pub fn step(&self, secs: u64, step: &str) {
        let _ = self.tx.send((Instant::now() + Duration::from_secs(secs), step.to_string()));
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

/// The tracefs root: /sys/kernel/tracing (mounted there first as root if it is not), else
/// /sys/kernel/debug/tracing. Aya looks in the same two places.
pub fn tracefs() -> &'static str {
    const T: &str = "/sys/kernel/tracing";
    const D: &str = "/sys/kernel/debug/tracing";
    let has = |d: &str| std::path::Path::new(&format!("{d}/available_events")).exists();
    if !has(T) {
        // SAFETY: constant NUL-terminated strings; failure is tolerated (checked below).
        unsafe {
            libc::mount(c"nodev".as_ptr(), c"/sys/kernel/tracing".as_ptr(), c"tracefs".as_ptr(), 0, std::ptr::null());
        }
    }
    if has(T) {
        T
    } else if has(D) {
        D
    } else {
        fail("tracefs is mounted", "/sys/kernel/tracing/available_events does not exist")
    }
}

/// bpffs at /sys/fs/bpf: mounted there as root when statfs(2) does not report BPF_FS_MAGIC
/// (failures tolerated: pinning itself fails on anything but bpffs, that is the real check).
pub fn bpffs() -> &'static str {
    // SAFETY: statfs into a zeroed struct.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    let is_bpffs = unsafe { libc::statfs(c"/sys/fs/bpf".as_ptr(), &mut s) } == 0 && s.f_type == 0xcafe4a11;
    if !is_bpffs {
        // SAFETY: constant NUL-terminated strings.
        unsafe {
            libc::mount(c"bpf".as_ptr(), c"/sys/fs/bpf".as_ptr(), c"bpf".as_ptr(), 0, std::ptr::null());
        }
    }
    "/sys/fs/bpf"
}

/// Loads `data` with aya's defaults, failing with the whole error chain (verifier log
/// included).
pub fn load(data: &[u8], what: &str) -> aya::Ebpf {
    check_ok(aya::Ebpf::load(data), format!("Ebpf::load({what})"))
}

/// Writes the test's tgid into the object's `config` array (key 0): the programs ignore every
/// other process.
pub fn set_target_tgid(bpf: &mut aya::Ebpf, tgid: u32) {
    let map = bpf.map_mut("config").unwrap_or_else(|| fail("map `config`", "not in the object"));
    let mut cfg: aya::maps::Array<_, u32> = check_ok(aya::maps::Array::try_from(map), "config map as Array<u32>");
    check_ok(cfg.set(0, tgid, 0), format!("config[0] = tgid {tgid}"));
}

/// Raw Linux interfaces for the attach paths aya chooses by itself (scenario 13 takes each one
/// explicitly): perf_event_open(2), the perf ioctls, bpf(BPF_LINK_CREATE).
pub mod raw {
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};

    pub const PERF_TYPE_TRACEPOINT: u32 = 2;
    pub const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
    pub const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
    pub const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
    pub const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
    const BPF_LINK_CREATE: libc::c_long = 28;
    const BPF_PERF_EVENT: u32 = 41;

    /// struct perf_event_attr, PERF_ATTR_SIZE_VER8 (136 bytes), the fields used here.
    #[repr(C)]
    #[derive(Default)]
    pub struct PerfEventAttr {
        pub type_: u32,
        pub size: u32,
        pub config: u64,
        pub sample_period: u64,
        pub sample_type: u64,
        pub read_format: u64,
        pub flags: u64, // bit 0: disabled
        pub wakeup_events: u32,
        pub bp_type: u32,
        pub config1: u64,
        pub config2: u64,
        pub rest: [u64; 8],
    }

    /// perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC).
    pub fn perf_event_open(attr: &mut PerfEventAttr, pid: i32, cpu: i32) -> std::io::Result<OwnedFd> {
        attr.size = std::mem::size_of::<PerfEventAttr>() as u32;
        // SAFETY: attr is a valid perf_event_attr of the size it states.
        let r = unsafe {
            libc::syscall(libc::SYS_perf_event_open, attr as *mut PerfEventAttr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)
        };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a new descriptor owned by us.
        Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
    }

    /// A kprobe event of the kprobe PMU (`pmu_type` from /sys/bus/event_source/devices/kprobe/
    /// type) on `sym`+0, as aya opens one: config1 = the name, config2 = the offset.
    pub fn kprobe_pmu_open(pmu_type: u32, sym: &std::ffi::CStr, disabled: bool) -> std::io::Result<OwnedFd> {
        let mut a = PerfEventAttr {
            type_: pmu_type,
            config1: sym.as_ptr() as u64,
            flags: u64::from(disabled),
            ..Default::default()
        };
        perf_event_open(&mut a, -1, 0)
    }

    /// A tracepoint event (id from tracefs), pid -1, cpu 0, as aya opens one.
    pub fn tracepoint_open(id: u64, disabled: bool) -> std::io::Result<OwnedFd> {
        let mut a = PerfEventAttr {
            type_: PERF_TYPE_TRACEPOINT,
            config: id,
            sample_period: 1,
            wakeup_events: 1,
            flags: u64::from(disabled),
            ..Default::default()
        };
        perf_event_open(&mut a, -1, 0)
    }

    /// ioctl(fd, req, arg); Err with errno.
    pub fn ioctl(fd: RawFd, req: libc::c_ulong, arg: libc::c_ulong) -> std::io::Result<()> {
        // SAFETY: the perf ioctls used here take an integer argument.
        if unsafe { libc::ioctl(fd, req, arg) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// bpf(BPF_LINK_CREATE, {prog_fd, target_fd = perf event, attach_type BPF_PERF_EVENT}).
    pub fn perf_link_create(prog_fd: RawFd, perf_fd: RawFd) -> std::io::Result<OwnedFd> {
        let mut attr = [0u32; 16]; // union bpf_attr's link_create prefix, zero tail
        attr[0] = prog_fd as u32;
        attr[1] = perf_fd as u32;
        attr[2] = BPF_PERF_EVENT;
        // SAFETY: attr is 64 readable bytes.
        let r =
            unsafe { libc::syscall(libc::SYS_bpf, BPF_LINK_CREATE, attr.as_mut_ptr(), std::mem::size_of_val(&attr)) };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a new descriptor owned by us.
        Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
    }
}

/// Reads a small text file, failing the test when it cannot.
pub fn read_text(path: &str) -> String {
    check_ok(std::fs::read_to_string(path), format!("read {path}"))
}

/// CPUs named by a sysfs cpu list ("0-3", "0,2-3", "0").
pub fn cpu_list(s: &str) -> Vec<usize> {
    let mut v = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let num = |x: &str| x.parse::<usize>().unwrap_or_else(|e| fail(format!("cpu list {s:?}"), e));
        v.extend(num(a)..=num(b));
    }
    v
}

/// Pins the process to its first online CPU (sched_setaffinity) and returns that CPU. (The
/// programs report bpf_get_smp_processor_id(), which the tests check against it.)
pub fn pin_to_first_online_cpu() -> usize {
    let online = cpu_list(&read_text("/sys/devices/system/cpu/online"));
    let cpu = *online.first().unwrap_or_else(|| fail("online CPUs", "none"));
    // SAFETY: a zeroed cpu_set_t, filled by CPU_SET.
    let r = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    check_eq(r, 0, format!("sched_setaffinity(CPU {cpu})"));
    cpu
}

pub mod syscall_names;

/// The name of x86_64 system call `nr` ("syscall_<nr>" when unknown).
pub fn syscall_name(nr: u32) -> String {
    match syscall_names::NAMES.binary_search_by_key(&nr, |&(n, _)| n) {
        Ok(i) => syscall_names::NAMES[i].1.to_string(),
        Err(_) => format!("syscall_{nr}"),
    }
}
