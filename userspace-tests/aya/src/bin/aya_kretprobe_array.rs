//! Scenario 2: a kretprobe on `__x64_sys_dup` records the return value of each of the test's
//! dup() calls into an Array; user space compares them, in order, with what the calls
//! returned (new descriptors and -EBADF).

use aya::maps::Array;
use aya::programs::{KProbe, ProbeKind};
use ayatest::{bpf_object, check_eq, check_ok, done, fail, load, set_target_tgid, tgid, Guard};

const SYM: &str = "__x64_sys_dup";
const N: usize = 40; // <= MAX_RETS (64) in kretprobe_array.c
const BAD_FD: i32 = 99999;

fn main() {
    let guard = Guard::new();
    let pid = tgid();

    guard.step(60, "load kretprobe_array.o");
    let mut bpf = load(bpf_object!("kretprobe_array"), "kretprobe_array.o");
    set_target_tgid(&mut bpf, pid);
    let prog: &mut KProbe = check_ok(
        bpf.program_mut("dup_ret").unwrap_or_else(|| fail("program `dup_ret`", "missing")).try_into(),
        "dup_ret is a KProbe",
    );
    ayatest::check(
        matches!(prog.kind(), ProbeKind::Return),
        "section \"kretprobe\" -> ProbeKind::Return",
        format!("{:?}", prog.kind()),
    );
    check_ok(prog.load(), "KProbe::load");
    guard.step(60, "attach kretprobe");
    let link = check_ok(prog.attach(SYM, 0), format!("KProbe::attach({SYM}, 0) as a kretprobe"));

    guard.step(120, "dup() calls");
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        fail("open /dev/null", std::io::Error::last_os_error());
    }
    let mut want: Vec<i64> = Vec::with_capacity(N);
    for i in 0..N {
        let arg = if i % 4 == 3 { BAD_FD } else { fd };
        // Raw dup(2): exactly one __x64_sys_dup per call; the kernel's value is -errno.
        let r = unsafe { libc::syscall(libc::SYS_dup, arg) };
        want.push(if r < 0 { -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)) } else { r });
    }
    for &r in &want {
        if r >= 0 {
            unsafe { libc::close(r as i32) };
        }
    }
    check_eq(want.iter().filter(|&&r| r == -i64::from(libc::EBADF)).count(), N / 4, "dup(99999) failed with EBADF");

    let nret: Array<_, u64> = check_ok(Array::try_from(bpf.map("nret").unwrap()), "nret as Array<u64>");
    check_eq(check_ok(nret.get(&0, 0), "nret[0]"), N as u64, format!("the kretprobe ran once per dup() ({N})"));
    let rets: Array<_, i64> = check_ok(Array::try_from(bpf.map("rets").unwrap()), "rets as Array<i64>");
    let got: Vec<i64> = (0..N as u32)
        .map(|i| rets.get(&i, 0).unwrap_or_else(|e| fail(format!("rets[{i}]"), ayatest::error_chain(&e))))
        .collect();
    println!("# dup() returned {want:?}");
    check_eq(got, want, format!("rets[0..{N}] == the {N} dup() return values, in order"));

    guard.step(60, "detach");
    let prog: &mut KProbe = bpf.program_mut("dup_ret").unwrap().try_into().unwrap();
    check_ok(prog.detach(link), "KProbe::detach");
    let r = unsafe { libc::syscall(libc::SYS_dup, fd) };
    if r >= 0 {
        unsafe { libc::close(r as i32) };
    }
    let nret: Array<_, u64> = check_ok(Array::try_from(bpf.map("nret").unwrap()), "nret again");
    check_eq(check_ok(nret.get(&0, 0), "nret[0]"), N as u64, "after detach: no more returns recorded");
    unsafe { libc::close(fd) };
    done();
}
