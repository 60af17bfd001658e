//! syscount — the `make run` demo, in the spirit of bcc's syscount: an unmodified Aya program
//! attaches to the raw syscall tracepoints (sys_enter/sys_exit) and to vfs_read with a kprobe
//! and a kretprobe, runs a short workload (this binary again, `--workload`), and prints a live
//! table — syscall, count, total and average latency — every second, then exits cleanly.
//!
//!   syscount [SECONDS]        (default 4; the workload runs for SECONDS - 1)

use std::io::{IsTerminal, Read, Write};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use aya::maps::{Array, HashMap};
use aya::programs::{KProbe, RawTracePoint};
use aya::Ebpf;

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Stat {
    count: u64,
    total_ns: u64,
}
// SAFETY: plain data, no padding.
unsafe impl aya::Pod for Stat {}

fn die(what: &str, e: &dyn std::error::Error) -> ! {
    eprintln!("syscount: {what}: {}", ayatest::error_chain(e));
    std::process::exit(1);
}

fn workload(secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut buf = [0u8; 4096];
    let mut round = 0u64;
    while Instant::now() < end {
        for _ in 0..20 {
            // SAFETY: no arguments.
            unsafe { libc::syscall(libc::SYS_getpid) };
        }
        if let Ok(mut f) = std::fs::File::open("/dev/zero") {
            for _ in 0..8 {
                let _ = f.read(&mut buf);
            }
        }
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            let _ = f.write_all(&buf[..512]);
        }
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0 {
            let [r, w] = fds;
            // SAFETY: valid descriptors and buffers.
            unsafe {
                libc::write(w, buf.as_ptr().cast(), 64);
                libc::read(r, buf.as_mut_ptr().cast(), 64);
                libc::close(r);
                libc::close(w);
            }
        }
        let _ = std::fs::metadata("/tests");
        round += 1;
        std::thread::sleep(Duration::from_millis(if round.is_multiple_of(10) { 20 } else { 2 }));
    }
}

fn fmt_ns(ns: u64) -> String {
    match ns {
        n if n >= 1_000_000_000 => format!("{:.2} s", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.2} ms", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.2} us", n as f64 / 1e3),
        n => format!("{n} ns"),
    }
}

fn table(bpf: &Ebpf, tick: u64, elapsed: Duration, kprobes: bool, color: bool) {
    let (b, d, r) = if color { ("\x1b[1m", "\x1b[2m", "\x1b[0m") } else { ("", "", "") };
    let stats: HashMap<_, u32, Stat> = HashMap::try_from(bpf.map("stats").unwrap()).unwrap();
    let mut rows: Vec<(u32, Stat)> = stats.iter().filter_map(Result::ok).collect();
    rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    let total: u64 = rows.iter().map(|(_, s)| s.count).sum();
    println!();
    println!("{b}syscount{r} {d}— {:.1} s, {} syscalls, {} distinct{r}", elapsed.as_secs_f64(), total, rows.len());
    println!("┌──────────────────────┬──────────┬──────────────┬────────────┐");
    println!("│ {b}{:<20}{r} │ {b}{:>8}{r} │ {b}{:>12}{r} │ {b}{:>10}{r} │", "SYSCALL", "COUNT", "TOTAL", "AVG");
    println!("├──────────────────────┼──────────┼──────────────┼────────────┤");
    for (nr, s) in rows.iter().take(12) {
        let avg = s.total_ns.checked_div(s.count).unwrap_or(0);
        println!(
            "│ {:<20} │ {:>8} │ {:>12} │ {:>10} │",
            ayatest::syscall_name(*nr),
            s.count,
            fmt_ns(s.total_ns),
            fmt_ns(avg)
        );
    }
    if rows.len() > 12 {
        let rest: u64 = rows[12..].iter().map(|(_, s)| s.count).sum();
        println!(
            "│ {d}{:<20}{r} │ {d}{:>8}{r} │ {:>12} │ {:>10} │",
            format!("({} more)", rows.len() - 12),
            rest,
            "",
            ""
        );
    }
    println!("└──────────────────────┴──────────┴──────────────┴────────────┘");
    if kprobes {
        let io: Array<_, u64> = Array::try_from(bpf.map("io").unwrap()).unwrap();
        let (calls, bytes) = (io.get(&0, 0).unwrap_or(0), io.get(&1, 0).unwrap_or(0));
        println!("  kprobe vfs_read: {calls} calls, kretprobe: {bytes} bytes read   {d}[tick {tick}]{r}");
    } else {
        println!("  {d}(kprobes unavailable on this kernel: vfs_read not traced){r}   {d}[tick {tick}]{r}");
    }
    let _ = std::io::stdout().flush();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--workload") {
        workload(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3));
        return;
    }
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4).max(2);
    let color = std::io::stdout().is_terminal();

    let mut bpf = Ebpf::load(ayatest::bpf_object!("syscount")).unwrap_or_else(|e| die("loading syscount.o", &e));
    {
        let mut cfg: Array<_, u32> = Array::try_from(bpf.map_mut("config").unwrap()).unwrap();
        cfg.set(0, ayatest::tgid(), 0).unwrap_or_else(|e| die("config", &e));
    }
    for (prog, tp) in [("sc_enter", "sys_enter"), ("sc_exit", "sys_exit")] {
        let p: &mut RawTracePoint = bpf.program_mut(prog).unwrap().try_into().unwrap();
        p.load().unwrap_or_else(|e| die(prog, &e));
        p.attach(tp).unwrap_or_else(|e| die(&format!("attach raw tracepoint {tp}"), &e));
    }
    let mut kprobes = true;
    for prog in ["vfs_read_enter", "vfs_read_exit"] {
        let p: &mut KProbe = bpf.program_mut(prog).unwrap().try_into().unwrap();
        p.load().unwrap_or_else(|e| die(prog, &e));
        if let Err(e) = p.attach("vfs_read", 0) {
            eprintln!("syscount: {prog} on vfs_read: {} (continuing without kprobes)", ayatest::error_chain(&e));
            kprobes = false;
            break;
        }
    }
    println!(
        "syscount: raw tracepoints sys_enter/sys_exit{} attached; running a {}-second workload",
        if kprobes { " + kprobe/kretprobe vfs_read" } else { "" },
        secs - 1
    );
    let exe = std::env::current_exe().unwrap_or_else(|e| die("current_exe", &e));
    let mut child: Child =
        Command::new(exe).args(["--workload", &(secs - 1).to_string()]).spawn().unwrap_or_else(|e| die("spawn", &e));
    let start = Instant::now();
    for tick in 1..=secs {
        let next = start + Duration::from_secs(tick);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        table(&bpf, tick, start.elapsed(), kprobes, color);
    }
    let st = child.wait().unwrap_or_else(|e| die("wait", &e));
    println!("syscount: workload exited ({st}); detaching and exiting");
    drop(bpf);
}
