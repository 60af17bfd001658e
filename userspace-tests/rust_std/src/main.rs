//! Rust std test program for the demo kernel: threads (mpsc, Mutex/Condvar, thread_local),
//! std::fs in /tmp, Instant/sleep, env::args, and std::process::Command.
//!
//! Prints `ok - <what>` per check; the first failure prints `not ok - <what>: <detail>` and
//! exits 1. `rust_std --child <n>` is the spawn target: prints a line and exits with n.

use std::cell::Cell;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn ok(what: &str) {
    println!("ok - {what}");
}

fn fail(what: &str, detail: &str) -> ! {
    println!("not ok - {what}: {detail}");
    let _ = std::io::stdout().flush();
    process::exit(1);
}

/// `check!(cond, "what {}", args)`: ok line, or not-ok line and exit 1.
macro_rules! check {
    ($cond:expr, $($what:tt)+) => {{
        let what = format!($($what)+);
        if $cond { ok(&what) } else { fail(&what, concat!("`", stringify!($cond), "` is false")) }
    }};
}

/// Unwrap a Result, failing the check with the error (incl. errno) otherwise.
fn must<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => {
            ok(what);
            v
        }
        Err(e) => fail(what, &format!("{e:?}")),
    }
}

thread_local! {
    static TLS: Cell<u64> = const { Cell::new(7) };
}

fn test_threads() {
    let (tx, rx) = mpsc::channel::<(usize, u64)>();
    let mut handles = Vec::new();
    for id in 0..4usize {
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            let start = TLS.with(|t| t.get());
            TLS.with(|t| t.set(100 + id as u64));
            for i in 0..1000u64 {
                tx.send((id, i)).expect("send");
                if i % 250 == 0 {
                    thread::yield_now();
                }
            }
            (start, TLS.with(|t| t.get()), thread::current().id())
        }));
    }
    drop(tx);
    let mut sums = [0u64; 4];
    let mut count = 0;
    for (id, v) in rx {
        sums[id] += v;
        count += 1;
    }
    check!(count == 4000, "mpsc received all 4000 messages ({count})");
    check!(sums.iter().all(|&s| s == 499_500), "each producer's values arrived exactly once");
    let mut ids = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        let (start, end, tid) = must(h.join().map_err(|_| "thread panicked"), &format!("join thread {i}"));
        check!(start == 7, "thread {i}: thread_local starts at its initial value");
        check!(end == 100 + i as u64, "thread {i}: thread_local kept its own value");
        ids.push(tid);
    }
    ids.sort_by_key(|t| format!("{t:?}"));
    ids.dedup();
    check!(ids.len() == 4, "4 distinct thread ids");
    check!(TLS.with(|t| t.get()) == 7, "main thread's thread_local untouched");

    // Mutex + Condvar: a worker counts to 100, the main thread waits for each step.
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let p2 = Arc::clone(&pair);
    let worker = thread::spawn(move || {
        let (m, cv) = &*p2;
        for _ in 0..100 {
            let mut g = m.lock().expect("lock");
            while *g % 2 == 1 {
                g = cv.wait(g).expect("wait");
            }
            *g += 1;
            cv.notify_all();
        }
    });
    let (m, cv) = &*pair;
    let mut steps = 0;
    for _ in 0..100 {
        let mut g = m.lock().expect("lock");
        while *g % 2 == 0 {
            g = cv.wait(g).expect("wait");
        }
        *g += 1;
        steps += 1;
        cv.notify_all();
    }
    must(worker.join().map_err(|_| "panicked"), "join the condvar worker");
    check!(*m.lock().expect("lock") == 200 && steps == 100, "100 mutex/condvar ping-pong rounds");
    let g = m.lock().expect("lock");
    let t0 = Instant::now();
    let (_g, res) = cv.wait_timeout(g, Duration::from_millis(40)).expect("wait_timeout");
    let dt = t0.elapsed();
    check!(res.timed_out(), "Condvar::wait_timeout(40 ms) times out");
    check!(dt >= Duration::from_millis(35) && dt < Duration::from_secs(2), "wait_timeout took {dt:?}");

    let par = must(thread::available_parallelism(), "available_parallelism");
    check!(par.get() >= 1, "available_parallelism >= 1 ({par})");
    let scoped = thread::scope(|s| {
        let a = s.spawn(|| (1..=100u32).sum::<u32>());
        let b = s.spawn(|| (101..=200u32).sum::<u32>());
        a.join().unwrap_or(0) + b.join().unwrap_or(0)
    });
    check!(scoped == 20_100, "scoped threads compute 1..=200");
}

fn test_fs() {
    let dir = PathBuf::from(format!("/tmp/rust_std.{}", process::id()));
    let _ = fs::create_dir("/tmp");
    must(fs::create_dir(&dir), &format!("create_dir {}", dir.display()));
    let e = fs::create_dir(&dir).err().map(|e| e.kind());
    check!(e == Some(ErrorKind::AlreadyExists), "create_dir again -> AlreadyExists ({e:?})");
    let file = dir.join("data.txt");
    let payload: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    must(fs::write(&file, &payload), "fs::write 10000 bytes");
    let back = must(fs::read(&file), "fs::read");
    check!(back == payload, "read back what was written");
    let meta = must(fs::metadata(&file), "fs::metadata");
    check!(meta.len() == 10_000 && meta.is_file(), "metadata: 10000-byte regular file");
    {
        let mut f = must(fs::OpenOptions::new().append(true).open(&file), "open for append");
        must(f.write_all(b"tail"), "append 4 bytes");
    }
    let mut s = Vec::new();
    must(must(fs::File::open(&file), "File::open").read_to_end(&mut s), "read_to_end");
    check!(s.len() == 10_004 && s.ends_with(b"tail"), "append landed at the end");
    must(fs::create_dir_all(dir.join("a/b/c")), "create_dir_all a/b/c");
    let mut names: Vec<String> = must(fs::read_dir(&dir), "read_dir")
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()).unwrap_or_default())
        .collect();
    names.sort();
    check!(names == ["a", "data.txt"], "read_dir lists exactly a and data.txt ({names:?})");
    must(fs::rename(&file, dir.join("renamed.txt")), "rename");
    check!(!file.exists() && dir.join("renamed.txt").exists(), "rename moved the file");
    let e = fs::read(dir.join("missing")).err().map(|e| e.kind());
    check!(e == Some(ErrorKind::NotFound), "reading a missing file -> NotFound ({e:?})");
    let e = fs::remove_dir(&dir).err().and_then(|e| e.raw_os_error());
    check!(e == Some(39), "remove_dir of a non-empty dir -> ENOTEMPTY ({e:?})");
    must(fs::remove_file(dir.join("renamed.txt")), "remove_file");
    must(fs::remove_dir_all(&dir), "remove_dir_all");
    check!(!dir.exists(), "scratch dir is gone");
    let cwd = must(std::env::current_dir(), "current_dir");
    check!(cwd.is_absolute(), "current_dir is absolute ({})", cwd.display());
}

fn test_time() {
    let t0 = Instant::now();
    thread::sleep(Duration::from_millis(50));
    let dt = t0.elapsed();
    check!(dt >= Duration::from_millis(50) && dt < Duration::from_secs(2), "thread::sleep(50 ms) took {dt:?}");
    let t1 = Instant::now();
    check!(t1 >= t0 + dt, "Instant is monotonic");
    let now = must(SystemTime::now().duration_since(UNIX_EPOCH), "SystemTime after the epoch");
    check!(now.as_secs() > 1_577_836_800, "SystemTime is after 2020 ({} s)", now.as_secs());
}

fn test_process(argv0: &str) {
    let exe = must(std::env::current_exe(), "current_exe");
    check!(exe.is_absolute(), "current_exe is absolute ({})", exe.display());

    // Spawn ourselves with arguments; capture stdout through a pipe.
    let out = must(
        Command::new(&exe).args(["--child", "7", "two words"]).env("RUST_STD_VAR", "v=1").output(),
        "spawn self --child",
    );
    check!(out.status.code() == Some(7), "child exit status 7 ({:?})", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    check!(text == "child argc=4 last=two words var=v=1\n", "child stdout captured ({text:?})");

    let st = must(Command::new(&exe).args(["--child", "0"]).stdout(Stdio::null()).status(), "spawn with stdout null");
    check!(st.success(), "child exited 0");
    let e = Command::new("/nonexistent/prog").status().err().map(|e| e.kind());
    check!(e == Some(ErrorKind::NotFound), "spawning a missing program -> NotFound ({e:?})");

    // The C start-up test, found next to us (/tests in the demo kernel).
    let dir = Path::new(argv0).parent().map(Path::to_path_buf).unwrap_or_default();
    let t_start = dir.join("t_start");
    if t_start.exists() {
        let out = must(Command::new(&t_start).args(["--expect-args", "a", "b c"]).output(), "spawn t_start");
        let text = String::from_utf8_lossy(&out.stdout);
        check!(out.status.success(), "t_start passed ({:?}; last line {:?})", out.status, text.lines().last());
        check!(!text.contains("not ok"), "t_start printed no failure");
    } else {
        ok(&format!("# skip: {} not found", t_start.display()));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let code: i32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(99);
        let var = std::env::var("RUST_STD_VAR").unwrap_or_default();
        println!("child argc={} last={} var={}", args.len(), args.last().map_or("", |s| s.as_str()), var);
        let _ = std::io::stdout().flush();
        process::exit(code);
    }
    check!(!args.is_empty() && !args[0].is_empty(), "env::args has argv[0] ({:?})", args.first());
    test_threads();
    test_fs();
    test_time();
    test_process(&args[0]);
    let _ = std::io::stdout().flush();
}
