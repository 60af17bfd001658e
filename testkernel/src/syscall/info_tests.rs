//! Host tests of uname, sysinfo, getrandom and the affinity calls.

use super::*;
use crate::user::{read_val, write_val, TestMem};

const BASE: u64 = 0x50_000;

fn mem() -> TestMem {
    TestMem::new(BASE, 0x3000)
}

fn field(m: &TestMem, i: u64) -> alloc::vec::Vec<u8> {
    m.read_cstr(BASE + i * 65, 65).unwrap()
}

#[test]
fn uname_fields() {
    let m = mem();
    write_val(&m, BASE, &[0xffu8; 400]).unwrap();
    assert_eq!(sys_uname(&m, BASE), Ok(0));
    let want: [&[u8]; 6] = [b"Linux", b"ext-ebpf", b"6.1.0-ext-ebpf", b"#1 ext-ebpf testkernel", b"x86_64", b"(none)"];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(field(&m, i as u64), *w, "field {i}");
    }
    // Every field is NUL-padded to its end.
    assert_eq!(read_val::<u8>(&m, BASE + 64), Ok(0));
    assert_eq!(read_val::<u8>(&m, BASE + 389), Ok(0));
    assert_eq!(read_val::<u8>(&m, BASE + 390), Ok(0xff));
    assert_eq!(sys_uname(&m, BASE + 0x3000 - 389), Err(Errno::EFAULT));
    assert_eq!(sys_uname(&m, 0), Err(Errno::EFAULT));
}

#[test]
fn sysinfo_layout() {
    let m = mem();
    write_val(&m, BASE, &[0xffu8; 120]).unwrap();
    let stats = SysStats { total_ram: 128 << 20, free_ram: 100 << 20, shared_ram: 1, buffer_ram: 2, tasks: 70_000 };
    assert_eq!(sys_sysinfo(&m, BASE, &stats), Ok(0));
    let w = read_val::<[u64; 14]>(&m, BASE).unwrap();
    assert!(w[0] >= 1, "uptime rounds up");
    assert_eq!(&w[1..10], &[0, 0, 0, 128 << 20, 100 << 20, 1, 2, 0, 0]);
    assert_eq!(read_val::<u16>(&m, BASE + 80), Ok(u16::MAX), "procs saturates");
    assert_eq!(read_val::<[u64; 2]>(&m, BASE + 88), Ok([0, 0]));
    assert_eq!(read_val::<u32>(&m, BASE + 104), Ok(1));
    assert_eq!(read_val::<u32>(&m, BASE + 108), Ok(0));
    assert_eq!(read_val::<u64>(&m, BASE + 112), Ok(u64::MAX), "112 bytes written");
    assert_eq!(sys_sysinfo(&m, BASE + 0x3000 - 100, &stats), Err(Errno::EFAULT));
}

fn fives(b: &mut [u8]) {
    b.fill(5);
}

#[test]
fn getrandom_flags_and_faults() {
    let m = mem();
    for flags in [8, 0x100, GRND_RANDOM | GRND_INSECURE, 7] {
        assert_eq!(sys_getrandom(&m, &fives, BASE, 16, flags), Err(Errno::EINVAL), "flags {flags}");
    }
    for flags in [0, GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE, GRND_NONBLOCK | GRND_RANDOM] {
        assert_eq!(sys_getrandom(&m, &fives, BASE + 10, 33, flags), Ok(33), "flags {flags}");
    }
    assert_eq!(read_val::<[u8; 35]>(&m, BASE + 9).unwrap()[..], [&[0u8][..], &[5; 33], &[0]].concat()[..]);
    assert_eq!(sys_getrandom(&m, &fives, 0, 0, 0), Ok(0));
    assert_eq!(sys_getrandom(&m, &fives, 8, 1, 0), Err(Errno::EFAULT));
    // Crossing into an unmapped page: the bytes before it count.
    let end = BASE + 0x3000;
    assert_eq!(sys_getrandom(&m, &fives, end - 100, 5000, 0), Ok(100));
    // Huge counts are capped at INT_MAX, and a range past user space is EFAULT at once.
    assert_eq!(sys_getrandom(&m, &fives, end - 10, u64::MAX, 0), Ok(10));
    assert_eq!(sys_getrandom(&m, &fives, (1 << 47) - 4096, 1, 0), Err(Errno::EFAULT));
    // A multi-page request spanning the whole region.
    assert_eq!(sys_getrandom(&m, &fives, BASE, 0x3000, 0), Ok(0x3000));
}

#[test]
fn affinity() {
    let m = mem();
    let exists = |pid: u32| pid == 42;
    write_val(&m, BASE, &u64::MAX).unwrap();
    for (pid, len, want) in [
        (0, 0, Err(Errno::EINVAL)),
        (0, 4, Err(Errno::EINVAL)),
        (0, 12, Err(Errno::EINVAL)),
        (7, 8, Err(Errno::ESRCH)),
        (-1, 8, Err(Errno::ESRCH)),
        (7, 4, Err(Errno::EINVAL)),
    ] {
        assert_eq!(sys_sched_getaffinity(&m, &exists, pid, len, BASE), want, "pid {pid} len {len}");
    }
    assert_eq!(sys_sched_getaffinity(&m, &exists, 42, 8, BASE), Ok(8));
    assert_eq!(read_val::<u64>(&m, BASE), Ok(1));
    write_val(&m, BASE, &[u64::MAX; 2]).unwrap();
    assert_eq!(sys_sched_getaffinity(&m, &exists, 0, 128, BASE), Ok(8));
    assert_eq!(read_val::<[u64; 2]>(&m, BASE), Ok([1, u64::MAX]), "only cpumask_size bytes written");
    assert_eq!(sys_sched_getaffinity(&m, &exists, 0, 8, 8), Err(Errno::EFAULT));

    write_val(&m, BASE, &0b110u64).unwrap();
    assert_eq!(sys_sched_setaffinity(&m, &exists, 0, 8, BASE), Err(Errno::EINVAL), "no usable CPU");
    write_val(&m, BASE, &0b111u64).unwrap();
    assert_eq!(sys_sched_setaffinity(&m, &exists, 0, 8, BASE), Ok(0));
    assert_eq!(sys_sched_setaffinity(&m, &exists, 42, 1, BASE), Ok(0), "short masks are zero-extended");
    assert_eq!(sys_sched_setaffinity(&m, &exists, 0, 0, BASE), Err(Errno::EINVAL));
    assert_eq!(sys_sched_setaffinity(&m, &exists, 0, 1024, BASE), Ok(0));
    assert_eq!(sys_sched_setaffinity(&m, &exists, 7, 8, BASE), Err(Errno::ESRCH));
    assert_eq!(sys_sched_setaffinity(&m, &exists, 7, 8, 8), Err(Errno::EFAULT), "copy before lookup");
}
