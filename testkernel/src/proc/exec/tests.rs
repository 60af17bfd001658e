//! Exec tests: real static and static-pie binaries built with the host's gcc, loaded into
//! a fake address space; the stack, auxv and segments are checked byte by byte.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use std::process::Command;

use syscall_abi::Errno;

use super::*;
use crate::mm::fake::{FakeFrames, FakeMapper};
use crate::proc::elf::{parse, PT_LOAD};

const PROGRAM: &str = r#"
int data_var = 0x12345678;
char bss_arr[20000];
int main(int argc, char **argv) { return data_var + bss_arr[100] + argc; }
"#;

/// Compiles `PROGRAM` with `gcc <flags>` and returns the executable's bytes.
fn build(name: &str, flags: &[&str]) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("kmm-exec-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("prog.c");
    let out = dir.join("prog");
    std::fs::write(&src, PROGRAM).unwrap();
    let st = Command::new("gcc").args(flags).arg("-O1").arg("-o").arg(&out).arg(&src).status().expect("gcc runs");
    assert!(st.success(), "gcc {flags:?} failed");
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

fn params<'a>(image: &'a [u8], argv: &'a [&'a [u8]], envp: &'a [&'a [u8]]) -> ExecParams<'a> {
    ExecParams {
        image,
        argv,
        envp,
        execfn: b"/bin/prog",
        path: "/bin/prog",
        dev_ino: (0x801, 77),
        creds: Creds { uid: 1, euid: 2, gid: 3, egid: 4 },
        random: core::array::from_fn(|i| i as u8 + 0x40),
        hwcap: 0x178bfbff,
        hwcap2: 2,
        minsigstksz: DEFAULT_MINSIGSTKSZ,
    }
}

fn u64_at(a: &mut AddressSpace, addr: u64) -> u64 {
    let mut b = [0u8; 8];
    a.read_user(addr, &mut b).unwrap();
    u64::from_le_bytes(b)
}

fn cstr_at(a: &mut AddressSpace, addr: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = addr;
    loop {
        let mut b = [0u8; 1];
        a.read_user(at, &mut b).unwrap();
        if b[0] == 0 {
            return out;
        }
        out.push(b[0]);
        at += 1;
    }
}

/// Loads `image` and checks everything the start-up code of libc reads.
fn check_loaded(image: &[u8], bias: u64) {
    let frames = FakeFrames::leak();
    let argv: [&[u8]; 2] = [b"prog", b"hello world"];
    let envp: [&[u8]; 2] = [b"A=1", b"PATH=/bin"];
    let p = params(image, &argv, &envp);
    let elf = parse(image).unwrap();
    let mut img = exec(&p, FakeMapper::boxed().0, frames).unwrap();
    assert_eq!(img.entry, elf.header.entry + bias);
    let sp = img.stack_pointer;
    assert_eq!(sp % 16, 0, "the ABI wants rsp 16-byte aligned at entry");
    let a = &mut img.aspace;

    // argc, argv, envp.
    assert_eq!(u64_at(a, sp), 2);
    let argv0 = u64_at(a, sp + 8);
    assert_eq!(cstr_at(a, argv0), b"prog");
    let argv1 = u64_at(a, sp + 16);
    assert_eq!(cstr_at(a, argv1), b"hello world");
    assert_eq!(argv1, argv0 + 5, "strings are contiguous, argv[0] lowest");
    assert_eq!(u64_at(a, sp + 24), 0);
    let env0 = u64_at(a, sp + 32);
    assert_eq!(cstr_at(a, env0), b"A=1");
    assert_eq!(env0, argv1 + 12);
    let env1 = u64_at(a, sp + 40);
    assert_eq!(cstr_at(a, env1), b"PATH=/bin");
    assert_eq!(u64_at(a, sp + 48), 0);
    assert_eq!(img.args, (argv0, env0));
    assert_eq!(a.cmdline(), b"prog\0hello world\0");
    assert_eq!(a.environ(), b"A=1\0PATH=/bin\0");
    let mut forked = a.fork_copy(FakeMapper::boxed().0).unwrap();
    assert_eq!(forked.cmdline(), b"prog\0hello world\0");
    drop(forked);

    // The auxiliary vector.
    let mut aux = BTreeMap::new();
    let mut order = Vec::new();
    let mut at = sp + 56;
    loop {
        let (k, v) = (u64_at(a, at), u64_at(a, at + 8));
        at += 16;
        order.push(k);
        if k == at::NULL {
            break;
        }
        assert!(aux.insert(k, v).is_none(), "duplicate auxv key {k}");
    }
    assert_eq!(order.len(), 20);
    assert_eq!(order[0], at::MINSIGSTKSZ, "x86's ARCH_DLINFO entries come first");
    assert!(!aux.contains_key(&33), "no vDSO: no AT_SYSINFO_EHDR");
    assert_eq!(aux[&at::PAGESZ], 4096);
    assert_eq!(aux[&at::CLKTCK], 100);
    assert_eq!(aux[&at::PHENT], 56);
    assert_eq!(aux[&at::PHNUM], u64::from(elf.header.phnum));
    assert_eq!(aux[&at::ENTRY], img.entry);
    assert_eq!(aux[&at::BASE], 0);
    assert_eq!(aux[&at::FLAGS], 0);
    assert_eq!(aux[&at::SECURE], 0);
    assert_eq!((aux[&at::UID], aux[&at::EUID], aux[&at::GID], aux[&at::EGID]), (1, 2, 3, 4));
    assert_eq!(aux[&at::HWCAP], 0x178bfbff);
    assert_eq!(aux[&at::HWCAP2], 2);
    assert_eq!(aux[&at::MINSIGSTKSZ], DEFAULT_MINSIGSTKSZ);
    assert_eq!(cstr_at(a, aux[&at::EXECFN]), b"/bin/prog");
    assert_eq!(aux[&at::EXECFN] + 10, STACK_TOP - 8, "execfn is the top string");
    assert_eq!(cstr_at(a, aux[&at::PLATFORM]), b"x86_64");
    // Linux's layout below the strings: the platform string at the 16-aligned string
    // start, the random bytes right below, the vectors below those.
    assert_eq!(aux[&at::PLATFORM], (argv0 & !0xf) - 7);
    assert_eq!(aux[&at::RANDOM], aux[&at::PLATFORM] - 16);
    assert!(at <= aux[&at::RANDOM] && aux[&at::RANDOM] - at < 16, "auxv ends just below the random bytes");
    let mut rnd = [0u8; 16];
    a.read_user(aux[&at::RANDOM], &mut rnd).unwrap();
    assert_eq!(rnd, p.random);
    // AT_PHDR points at the program headers, in memory.
    let phoff = usize::try_from(elf.header.phoff).unwrap();
    let table = &image[phoff..phoff + 56 * usize::from(elf.header.phnum)];
    let mut mem = vec![0u8; table.len()];
    a.read_user(aux[&at::PHDR], &mut mem).unwrap();
    assert_eq!(mem, table);
    assert_eq!(img.phdr, aux[&at::PHDR]);

    // Segments: file bytes, zeroed bss, permissions.
    let mut top = 0;
    for ph in elf.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        let va = ph.vaddr + bias;
        let n = usize::try_from(ph.filesz).unwrap();
        let off = usize::try_from(ph.offset).unwrap();
        let mut mem = vec![0u8; n];
        a.read_user(va, &mut mem).unwrap();
        assert!(mem == image[off..off + n], "segment at {va:#x}");
        let bss = usize::try_from(ph.memsz - ph.filesz).unwrap();
        let mut z = vec![1u8; bss];
        a.read_user(va + ph.filesz, &mut z).unwrap();
        assert!(z.iter().all(|&b| b == 0), "bss at {:#x}", va + ph.filesz);
        let vma = a.find_vma(va).unwrap();
        assert!(matches!(vma.kind, VmaKind::Image { .. }), "file pages are named after the executable");
        let file_end = page_align_up(va + ph.filesz).unwrap();
        if page_align_up(va + ph.memsz).unwrap() > file_end {
            let bss = a.find_vma(file_end).unwrap();
            assert!(matches!(bss.kind, VmaKind::Anon), "whole bss pages are anonymous");
            assert_eq!(bss.prot, vma.prot);
        }
        assert_eq!(vma.prot.contains(Prot::WRITE), ph.flags & PF_W != 0);
        assert_eq!(vma.prot.contains(Prot::EXEC), ph.flags & PF_X != 0);
        top = top.max(va + ph.memsz);
    }
    assert_eq!(img.brk, page_align_up(top).unwrap());
    assert_eq!(a.brk_range(), (img.brk, img.brk));
    assert_eq!(a.set_brk(img.brk + 0x21000), img.brk + 0x21000);
    a.write_user(img.brk + 0x20000, b"heap").unwrap();

    assert_eq!(a.ip_location(img.entry), {
        let v = a.find_vma(img.entry).unwrap();
        Some(format!("prog[{:x}+{:x}]", v.start, v.len()))
    });
    assert_eq!(a.ip_location(sp), None, "the stack is not a file");
    // The stack grows on demand below its initial area, within 8 MiB.
    assert_eq!(a.handle_fault(sp - 0x40_0000, true, false), Ok(()));
    assert_eq!(a.handle_fault(STACK_TOP - (8 << 20) - 1, true, false), Err(crate::mm::Fault::Unmapped));
    let maps = a.maps_text();
    assert!(maps.lines().next().unwrap().ends_with(" /bin/prog"), "{maps}");
    assert!(maps.contains(" 08:01 77 "), "{maps}");
    assert!(maps.contains("[heap]") && maps.contains("[stack]"), "{maps}");
    let stack_line = maps.lines().last().unwrap();
    assert!(stack_line.starts_with(&format!("{:08x}-7ffffffff000 rw-p", page_align_down(sp - 0x40_0000))), "{maps}");
    drop(img);
    assert_eq!(frames.live(), 0, "dropping the address space frees every frame");
}

#[test]
fn loads_a_real_static_binary() {
    let image = build("static", &["-static"]);
    assert_eq!(parse(&image).unwrap().header.e_type, elf::ET_EXEC);
    check_loaded(&image, 0);
}

#[test]
fn loads_a_real_static_pie_binary_at_linux_base() {
    let image = build("pie", &["-static-pie"]);
    let elf = parse(&image).unwrap();
    assert_eq!(elf.header.e_type, ET_DYN);
    assert!(!elf.has_interp());
    let first = elf.loads().next().unwrap().vaddr;
    check_loaded(&image, 0x5555_5555_4000 - first);
}

#[test]
fn dynamic_binaries_are_enoexec() {
    let image = build("dyn", &["-no-pie"]);
    let frames = FakeFrames::leak();
    let argv: [&[u8]; 1] = [b"x"];
    assert_eq!(exec(&params(&image, &argv, &[]), FakeMapper::boxed().0, frames).err(), Some(Errno::ENOEXEC));
    assert_eq!(frames.live(), 0);
}

#[test]
fn malformed_images_are_rejected_with_linux_errnos() {
    let good = build("bad", &["-static"]);
    let frames = FakeFrames::leak();
    let argv: [&[u8]; 1] = [b"x"];
    let run = |img: &[u8]| exec(&params(img, &argv, &[]), FakeMapper::boxed().0, frames).err();
    let patched = |at: usize, bytes: &[u8]| {
        let mut v = good.clone();
        v[at..at + bytes.len()].copy_from_slice(bytes);
        v
    };
    let phoff = usize::try_from(parse(&good).unwrap().header.phoff).unwrap();
    let first_load = parse(&good).unwrap().phdrs.iter().position(|p| p.p_type == PT_LOAD).unwrap();
    let ph = phoff + 56 * first_load;
    let cases: Vec<(&str, Vec<u8>, Errno)> = vec![
        ("empty", vec![], Errno::ENOEXEC),
        ("script", b"#!/bin/sh\necho hi\n".to_vec(), Errno::ENOEXEC),
        ("truncated header", good[..40].to_vec(), Errno::ENOEXEC),
        ("truncated phdrs", good[..phoff + 20].to_vec(), Errno::ENOEXEC),
        ("ELFCLASS32", patched(4, &[1]), Errno::ENOEXEC),
        ("big endian", patched(5, &[2]), Errno::ENOEXEC),
        ("EM_AARCH64", patched(18, &183u16.to_le_bytes()), Errno::ENOEXEC),
        ("ET_REL", patched(16, &1u16.to_le_bytes()), Errno::ENOEXEC),
        ("phentsize 32", patched(54, &32u16.to_le_bytes()), Errno::ENOEXEC),
        ("no phdrs", patched(56, &0u16.to_le_bytes()), Errno::ENOEXEC),
        ("phoff past end", patched(32, &u64::MAX.to_le_bytes()), Errno::ENOEXEC),
        ("filesz > memsz", patched(ph + 32, &u64::MAX.to_le_bytes()), Errno::EINVAL),
        ("segment past TASK_SIZE", patched(ph + 16, &0x7fff_ffff_f000u64.to_le_bytes()), Errno::EINVAL),
        ("segment at 0", patched(ph + 16, &0u64.to_le_bytes()), Errno::EPERM),
        ("file range past end", patched(ph + 8, &0xffff_ffffu64.to_le_bytes()), Errno::ENOEXEC),
        ("entry in kernel space", patched(24, &0xffff_8000_0000_0000u64.to_le_bytes()), Errno::EINVAL),
    ];
    for (name, img, errno) in cases {
        assert_eq!(run(&img), Some(errno), "{name}");
        assert_eq!(frames.live(), 0, "{name} leaked frames");
    }
}

#[test]
fn argument_limits_are_e2big_and_empty_argv_gets_an_empty_argv0() {
    let image = build("args", &["-static"]);
    let frames = FakeFrames::leak();
    let long = vec![b'a'; MAX_ARG_STRLEN];
    let ok = vec![b'a'; MAX_ARG_STRLEN - 1];
    let argv: [&[u8]; 1] = [&long];
    assert_eq!(exec(&params(&image, &argv, &[]), FakeMapper::boxed().0, frames).err(), Some(Errno::E2BIG));
    let many: Vec<&[u8]> = (0..17).map(|_| &ok[..]).collect();
    assert_eq!(exec(&params(&image, &[b"x"], &many), FakeMapper::boxed().0, frames).err(), Some(Errno::E2BIG));
    let fine: Vec<&[u8]> = (0..15).map(|_| &ok[..]).collect();
    let mut img = exec(&params(&image, &[b"x"], &fine), FakeMapper::boxed().0, frames).unwrap();
    let last = u64_at(&mut img.aspace, img.stack_pointer + 8 * 17);
    assert_eq!(cstr_at(&mut img.aspace, last).len(), MAX_ARG_STRLEN - 1);
    drop(img);

    let mut img = exec(&params(&image, &[], &[]), FakeMapper::boxed().0, frames).unwrap();
    let sp = img.stack_pointer;
    assert_eq!(u64_at(&mut img.aspace, sp), 1);
    let a0 = u64_at(&mut img.aspace, sp + 8);
    assert_eq!(cstr_at(&mut img.aspace, a0), b"");
    assert_eq!(u64_at(&mut img.aspace, sp + 16), 0);
    assert_eq!(u64_at(&mut img.aspace, sp + 24), 0, "empty envp");
}

#[test]
fn gnu_stack_with_pf_x_makes_the_stack_executable() {
    let image = build("execstack", &["-static", "-Wl,-z,execstack"]);
    let frames = FakeFrames::leak();
    let img = exec(&params(&image, &[b"x"], &[]), FakeMapper::boxed().0, frames).unwrap();
    let stack = img.aspace.find_vma(img.stack_pointer).unwrap();
    assert_eq!(stack.prot, Prot::READ | Prot::WRITE | Prot::EXEC);
    let image = build("noexecstack", &["-static", "-Wl,-z,noexecstack"]);
    let img = exec(&params(&image, &[b"x"], &[]), FakeMapper::boxed().0, frames).unwrap();
    assert_eq!(img.aspace.find_vma(img.stack_pointer).unwrap().prot, Prot::READ | Prot::WRITE);
}
