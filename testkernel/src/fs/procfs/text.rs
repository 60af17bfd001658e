//! The text of generated procfs files, in Linux 6.1's formats (fs/proc/array.c
//! `proc_pid_status`/`do_task_stat`, fs/proc/meminfo.c, arch/x86/kernel/cpu/proc.c,
//! fs/proc/uptime.c, fs/proc/fd.c `seq_show`, fs/proc_namespace.c `show_vfsmnt`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::source::{CpuInfo, MemInfo, MountEntry, ProcessInfo};

/// Linux `CAP_LAST_CAP` in 6.1 is 40: a full capability set.
const CAP_FULL: u64 = (1 << 41) - 1;
/// Clock ticks per second as user space sees them (`USER_HZ`).
pub const USER_HZ: u64 = 100;

fn state_name(c: char) -> (char, &'static str) {
    match c {
        'S' => ('S', "sleeping"),
        'D' => ('D', "disk sleep"),
        'T' => ('T', "stopped"),
        't' => ('t', "tracing stop"),
        'Z' => ('Z', "zombie"),
        'X' => ('X', "dead"),
        _ => ('R', "running"),
    }
}

/// `comm`: at most 15 bytes (`TASK_COMM_LEN` - 1).
pub fn comm(p: &ProcessInfo) -> String {
    let mut end = p.comm.len().min(15);
    while !p.comm.is_char_boundary(end) {
        end -= 1;
    }
    String::from(&p.comm[..end])
}

/// `cmdline` / `environ`: each string NUL-terminated.
pub fn nul_joined(strings: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in strings {
        out.extend_from_slice(s);
        out.push(0);
    }
    out
}

fn cpu_list(n: usize) -> String {
    if n <= 1 {
        String::from("0")
    } else {
        format!("0-{}", n - 1)
    }
}

/// `/proc/<pid>/status`.
pub fn status(p: &ProcessInfo, fd_size: usize, ncpus: usize) -> String {
    let (st, name) = state_name(p.state);
    let pgrp = if p.pgrp == 0 { p.pid } else { p.pgrp };
    let sid = if p.session == 0 { p.pid } else { p.session };
    let caps = if p.uid == 0 { CAP_FULL } else { 0 };
    let vm_kb = p.vm_size / 1024;
    let rss_kb = p.rss_pages * 4;
    let mut s = String::new();
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{} ({})\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n\
         Uid:\t{u}\t{u}\t{u}\t{u}\nGid:\t{g}\t{g}\t{g}\t{g}\nFDSize:\t{}\nGroups:\t\nNStgid:\t{}\nNSpid:\t{}\n\
         NSpgid:\t{}\nNSsid:\t{}\n",
        comm(p),
        p.umask,
        st,
        name,
        p.pid,
        p.pid,
        p.ppid,
        fd_size,
        p.pid,
        p.pid,
        pgrp,
        sid,
        u = p.uid,
        g = p.gid,
    );
    for (k, v) in [
        ("VmPeak", vm_kb),
        ("VmSize", vm_kb),
        ("VmLck", 0),
        ("VmPin", 0),
        ("VmHWM", rss_kb),
        ("VmRSS", rss_kb),
        ("RssAnon", rss_kb),
        ("RssFile", 0),
        ("RssShmem", 0),
        ("VmData", 0),
        ("VmStk", 0),
        ("VmExe", 0),
        ("VmLib", 0),
        ("VmPTE", 0),
        ("VmSwap", 0),
        ("HugetlbPages", 0),
    ] {
        let _ = writeln!(s, "{}:\t{:8} kB", k, v);
    }
    let threads = p.threads.max(1);
    let _ = write!(
        s,
        "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t{threads}\nSigQ:\t0/15644\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\n\
         SigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\nCapInh:\t{:016x}\nCapPrm:\t{caps:016x}\n\
         CapEff:\t{caps:016x}\nCapBnd:\t{CAP_FULL:016x}\nCapAmb:\t{:016x}\nNoNewPrivs:\t0\nSeccomp:\t0\n\
         Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n\
         SpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\t{:x}\nCpus_allowed_list:\t{}\n\
         Mems_allowed:\t1\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
        0,
        p.sig_pending,
        p.sig_blocked,
        p.sig_ignored,
        p.sig_caught,
        0,
        0,
        if ncpus >= 64 { u64::MAX } else { (1u64 << ncpus.max(1)) - 1 },
        cpu_list(ncpus),
    );
    s
}

/// `/proc/<pid>/stat` (52 fields; what the kernel does not track is 0).
pub fn stat(p: &ProcessInfo) -> String {
    let (st, _) = state_name(p.state);
    let pgrp = if p.pgrp == 0 { p.pid } else { p.pgrp };
    let sid = if p.session == 0 { p.pid } else { p.session };
    let low = |m: u64| m & 0x7fff_ffff;
    format!(
        "{} ({}) {} {} {} {} 0 -1 4194560 0 0 0 0 {} {} 0 0 20 0 {} 0 {} {} {} 18446744073709551615 0 0 0 0 0 \
         {} {} {} {} 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
        p.pid,
        comm(p),
        st,
        p.ppid,
        pgrp,
        sid,
        p.utime,
        p.stime,
        p.threads.max(1),
        p.start_time,
        p.vm_size,
        p.rss_pages,
        low(p.sig_pending),
        low(p.sig_blocked),
        low(p.sig_ignored),
        low(p.sig_caught),
    )
}

/// `/proc/<pid>/statm` (pages: size resident shared text lib data dt).
pub fn statm(p: &ProcessInfo) -> String {
    format!("{} {} 0 0 0 0 0\n", p.vm_size / 4096, p.rss_pages)
}

/// `/proc/<pid>/fdinfo/N`.
pub fn fdinfo(pos: u64, flags: u32, mnt_id: u64, ino: u64, extra: &str) -> String {
    format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt_id}\nino:\t{ino}\n{extra}")
}

/// `/proc/uptime`: seconds with two decimals, uptime then idle.
pub fn uptime(up_ns: u64, idle_ns: u64) -> String {
    let cs = |ns: u64| (ns / 1_000_000_000, (ns / 10_000_000) % 100);
    let (us, uc) = cs(up_ns);
    let (is, ic) = cs(idle_ns);
    format!("{us}.{uc:02} {is}.{ic:02}\n")
}

/// `/proc/meminfo` (Linux's labels padded to 16 columns, values to 8).
pub fn meminfo(m: &MemInfo) -> String {
    let avail = if m.available_kb == 0 { m.free_kb } else { m.available_kb };
    let mut s = String::new();
    for (k, v) in [
        ("MemTotal", m.total_kb),
        ("MemFree", m.free_kb),
        ("MemAvailable", avail),
        ("Buffers", 0),
        ("Cached", m.cached_kb),
        ("SwapCached", 0),
        ("Active", 0),
        ("Inactive", 0),
        ("Active(anon)", 0),
        ("Inactive(anon)", 0),
        ("Active(file)", 0),
        ("Inactive(file)", 0),
        ("Unevictable", 0),
        ("Mlocked", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", 0),
        ("Writeback", 0),
        ("AnonPages", 0),
        ("Mapped", 0),
        ("Shmem", m.shmem_kb),
        ("KReclaimable", 0),
        ("Slab", m.slab_kb),
        ("SReclaimable", 0),
        ("SUnreclaim", m.slab_kb),
        ("KernelStack", 0),
        ("PageTables", 0),
        ("NFS_Unstable", 0),
        ("Bounce", 0),
        ("WritebackTmp", 0),
        ("CommitLimit", m.total_kb),
        ("Committed_AS", 0),
        ("VmallocTotal", 34_359_738_367),
        ("VmallocUsed", 0),
        ("VmallocChunk", 0),
        ("Percpu", 0),
    ] {
        let label = format!("{k}:");
        let _ = writeln!(s, "{label:<16}{v:>8} kB");
    }
    for k in ["HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"] {
        let label = format!("{k}:");
        let _ = writeln!(s, "{label:<16}{:>8}", 0);
    }
    let _ = writeln!(s, "{:<16}{:>8} kB", "Hugepagesize:", 2048);
    let _ = writeln!(s, "{:<16}{:>8} kB", "Hugetlb:", 0);
    s
}

/// `/proc/cpuinfo`: one block per CPU, each followed by a blank line.
pub fn cpuinfo(cpus: &[CpuInfo]) -> String {
    let n = cpus.len();
    let mut s = String::new();
    for (i, c) in cpus.iter().enumerate() {
        let mhz = format!("{}.{:03}", c.khz / 1000, c.khz % 1000);
        let bogo = c.khz.saturating_mul(2);
        let _ = write!(
            s,
            "processor\t: {i}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\nstepping\t: {}\n\
             microcode\t: 0x1000065\ncpu MHz\t\t: {mhz}\ncache size\t: {} KB\nphysical id\t: 0\nsiblings\t: {n}\n\
             core id\t\t: {i}\ncpu cores\t: {n}\napicid\t\t: {i}\ninitial apicid\t: {i}\nfpu\t\t: yes\n\
             fpu_exception\t: yes\ncpuid level\t: {}\nwp\t\t: yes\nflags\t\t: {}\nbugs\t\t:\n\
             bogomips\t: {}.{:02}\nTLB size\t: 1024 4K pages\nclflush size\t: 64\ncache_alignment\t: 64\n\
             address sizes\t: {} bits physical, {} bits virtual\npower management:\n\n",
            c.vendor_id,
            c.family,
            c.model,
            c.model_name,
            c.stepping,
            c.cache_kb,
            c.cpuid_level,
            c.flags,
            bogo / 1000,
            (bogo % 1000) / 10,
            c.phys_bits,
            c.virt_bits,
        );
    }
    s
}

/// `/proc/mounts`: `source target type options 0 0`.
pub fn mounts(m: &[MountEntry]) -> String {
    let mut s = String::new();
    for e in m {
        let _ = writeln!(s, "{} {} {} {} 0 0", e.source, e.target, e.fstype, e.options);
    }
    s
}

/// `/proc/filesystems`: `nodev\tname` or `\tname`.
pub fn filesystems(fs: &[(bool, &str)]) -> String {
    let mut s = String::new();
    for (nodev, name) in fs {
        let _ = writeln!(s, "{}\t{}", if *nodev { "nodev" } else { "" }, name);
    }
    s
}

/// `/proc/loadavg`.
pub fn loadavg(nprocs: usize, last_pid: u32) -> String {
    format!("0.00 0.00 0.00 1/{nprocs} {last_pid}\n")
}

/// `/proc/stat` (all CPU times 0 but idle, which is the uptime).
pub fn global_stat(ncpus: usize, up_ns: u64, boot_time_s: u64, nprocs: usize) -> String {
    let ticks = up_ns / (1_000_000_000 / USER_HZ);
    let mut s = format!("cpu  0 0 0 {} 0 0 0 0 0 0\n", ticks.saturating_mul(ncpus as u64));
    for i in 0..ncpus {
        let _ = writeln!(s, "cpu{i} 0 0 0 {ticks} 0 0 0 0 0 0");
    }
    let _ = write!(
        s,
        "intr 0\nctxt 0\nbtime {boot_time_s}\nprocesses {nprocs}\nprocs_running 1\nprocs_blocked 0\n\
         softirq 0 0 0 0 0 0 0 0 0 0 0\n"
    );
    s
}
