//! Loading a static (`ET_EXEC`) or static-pie (`ET_DYN` without `PT_INTERP`) x86_64
//! executable into a fresh [`AddressSpace`], and building its initial stack exactly as
//! Linux's `create_elf_tables` does: strings at the top, then `AT_PLATFORM` and
//! `AT_RANDOM` bytes, then (16-byte aligned) argc, argv, envp and the auxiliary vector.
//!
//! Segments are copied into anonymous pages now (the image is a byte slice, not a mapped
//! file); `/proc/self/maps` still names them after the executable.
//!
//! Reference: Linux 6.1 fs/binfmt_elf.c (`load_elf_binary`, `create_elf_tables`,
//! `maximum_alignment`), fs/exec.c (`bprm_stack_limits`, `copy_strings`,
//! `do_execveat_common`: an empty argv gets `""` as argv\[0\]), arch/x86/include/asm/elf.h
//! (`ELF_ET_DYN_BASE`, `ARCH_DLINFO`).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;

use syscall_abi::Errno;

use super::elf::{self, Elf, ProgramHeader, ET_DYN, PF_R, PF_W, PF_X, PHDR_SIZE};
use crate::mm::aspace::AddressSpace;
use crate::mm::mapper::{FrameAllocator, PageMapper, PAGE_SIZE};
use crate::mm::vma::{page_align_down, page_align_up, Prot, Vma, VmaKind, MMAP_MIN_ADDR, STACK_TOP, TASK_SIZE};
use crate::KResult;

/// Linux's `ELF_ET_DYN_BASE` on x86_64 (2/3 of the 47-bit space) before alignment; a
/// static-pie whose first segment is at 0 loads at 0x5555_5555_4000 (the project's choice:
/// Linux 6.1 puts PIE programs *with* an interpreter there, and loads `ET_DYN` files
/// without one top-down in the mmap region).
pub const ET_DYN_BASE: u64 = 0x5555_5555_4aaa;
/// Longest single argument or environment string, NUL included (`MAX_ARG_STRLEN`).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Total room for strings and pointers: a quarter of the 8 MiB stack limit
/// (`bprm_stack_limits`).
pub const ARG_LIMIT: usize = (8 << 20) / 4;
/// Stack reserved below the arguments at exec (Linux's 128 KiB `stack_expand`).
pub const STACK_EXPAND: u64 = 128 << 10;
/// Default `AT_MINSIGSTKSZ` (the uapi `MINSIGSTKSZ`); the signal code may pass its own.
pub const DEFAULT_MINSIGSTKSZ: u64 = 2048;

/// Auxiliary vector keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
pub mod at {
    /// End of vector.
    pub const NULL: u64 = 0;
    /// Program headers address.
    pub const PHDR: u64 = 3;
    /// Size of one program header.
    pub const PHENT: u64 = 4;
    /// Number of program headers.
    pub const PHNUM: u64 = 5;
    /// Page size.
    pub const PAGESZ: u64 = 6;
    /// Interpreter base (0: none).
    pub const BASE: u64 = 7;
    /// Flags (0).
    pub const FLAGS: u64 = 8;
    /// Entry point.
    pub const ENTRY: u64 = 9;
    /// Real uid.
    pub const UID: u64 = 11;
    /// Effective uid.
    pub const EUID: u64 = 12;
    /// Real gid.
    pub const GID: u64 = 13;
    /// Effective gid.
    pub const EGID: u64 = 14;
    /// Platform string address.
    pub const PLATFORM: u64 = 15;
    /// CPU capabilities (CPUID.1:EDX).
    pub const HWCAP: u64 = 16;
    /// Clock ticks per second.
    pub const CLKTCK: u64 = 17;
    /// Secure mode (setuid).
    pub const SECURE: u64 = 23;
    /// Address of 16 random bytes.
    pub const RANDOM: u64 = 25;
    /// More CPU capabilities.
    pub const HWCAP2: u64 = 26;
    /// Address of the executed file name.
    pub const EXECFN: u64 = 31;
    /// Minimal signal stack size.
    pub const MINSIGSTKSZ: u64 = 51;
}

/// The identity the new program runs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Creds {
    /// Real user id.
    pub uid: u32,
    /// Effective user id.
    pub euid: u32,
    /// Real group id.
    pub gid: u32,
    /// Effective group id.
    pub egid: u32,
}

/// What `execve` loads.
#[derive(Clone, Copy)]
pub struct ExecParams<'a> {
    /// The executable's bytes.
    pub image: &'a [u8],
    /// Arguments (without NULs); empty gets `""` as argv\[0\], like Linux 6.1.
    pub argv: &'a [&'a [u8]],
    /// Environment strings.
    pub envp: &'a [&'a [u8]],
    /// The file name as passed to `execve` (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// The executable's path, naming its segments in `/proc/self/maps`.
    pub path: &'a str,
    /// Device (stat encoding) and inode of the executable, for `/proc/self/maps`.
    pub dev_ino: (u64, u64),
    /// Credentials (`AT_UID`...).
    pub creds: Creds,
    /// `AT_RANDOM` bytes.
    pub random: [u8; 16],
    /// `AT_HWCAP` (CPUID.1:EDX on x86_64).
    pub hwcap: u64,
    /// `AT_HWCAP2`.
    pub hwcap2: u64,
    /// `AT_MINSIGSTKSZ` (the signal frame size).
    pub minsigstksz: u64,
}

/// A loaded program, ready to enter user mode.
pub struct ExecImage {
    /// The new address space.
    pub aspace: AddressSpace,
    /// `rip` at user entry.
    pub entry: u64,
    /// `rsp` at user entry (16-byte aligned, pointing at argc).
    pub stack_pointer: u64,
    /// Start of the brk heap.
    pub brk: u64,
    /// `AT_PHDR`.
    pub phdr: u64,
    /// The argument strings `[arg_start, arg_end)` (`/proc/self/cmdline`).
    pub args: (u64, u64),
    /// The environment strings `[env_start, env_end)` (`/proc/self/environ`).
    pub env: (u64, u64),
}

fn prot_of(flags: u32) -> Prot {
    let mut p = Prot::empty();
    if flags & PF_R != 0 {
        p |= Prot::READ;
    }
    if flags & PF_W != 0 {
        p |= Prot::WRITE;
    }
    if flags & PF_X != 0 {
        p |= Prot::EXEC;
    }
    p
}

/// Checks the argument strings against Linux's limits: each at most [`MAX_ARG_STRLEN`]
/// bytes with its NUL, all of them (with the file name and the pointers) within
/// [`ARG_LIMIT`]; `E2BIG` otherwise.
pub fn check_arg_limits(argv: &[&[u8]], envp: &[&[u8]], execfn: &[u8]) -> KResult<()> {
    let ptrs = (argv.len().max(1) + envp.len()).checked_mul(8).ok_or(Errno::E2BIG)?;
    if ptrs >= ARG_LIMIT {
        return Err(Errno::E2BIG);
    }
    let mut total = execfn.len() + 1;
    for s in argv.iter().chain(envp.iter()) {
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG);
        }
        total += s.len() + 1;
        if total > ARG_LIMIT - ptrs {
            return Err(Errno::E2BIG);
        }
    }
    Ok(())
}

/// Loads `p.image` into a new address space over `mapper` and builds its stack. Errors:
/// `E2BIG` (arguments), `ENOEXEC` (not a loadable x86_64 ELF64, or dynamically linked),
/// `EINVAL` (a segment or the entry outside user space), `EPERM` (a segment below
/// `mmap_min_addr`: refused even though `mmap` would allow it to root, so that page 0 is
/// never mapped by a program header), `ENOMEM`.
pub fn exec(
    p: &ExecParams<'_>,
    mapper: Box<dyn PageMapper>,
    frames: &'static dyn FrameAllocator,
) -> KResult<ExecImage> {
    check_arg_limits(p.argv, p.envp, p.execfn)?;
    let elf = elf::parse(p.image)?;
    if elf.has_interp() {
        log::warn!("execve {}: dynamically linked programs are not supported (PT_INTERP); link it statically", p.path);
        return Err(Errno::ENOEXEC);
    }
    let first = elf.loads().next().ok_or(Errno::ENOEXEC)?;
    let bias = if elf.header.e_type == ET_DYN {
        let base = ET_DYN_BASE & !(elf.max_align() - 1);
        page_align_down(base.wrapping_sub(first.vaddr))
    } else {
        0
    };
    let mut aspace = AddressSpace::new(mapper, frames);
    let path: Arc<str> = Arc::from(p.path);
    let mut brk = 0u64;
    for ph in elf.loads() {
        let end = load_segment(&mut aspace, p, ph, bias, &path)?;
        brk = brk.max(end);
    }
    let entry = elf.header.entry.checked_add(bias).filter(|&e| e < TASK_SIZE).ok_or(Errno::EINVAL)?;
    let brk = page_align_up(brk).ok_or(Errno::EINVAL)?;
    aspace.set_brk_start(brk);
    let phdr = elf.phdr_vaddr().unwrap_or(0).wrapping_add(bias);
    let stack = build_stack(&mut aspace, p, &elf, phdr, entry)?;
    aspace.arg_range = stack.args;
    aspace.env_range = stack.env;
    Ok(ExecImage { aspace, entry, stack_pointer: stack.sp, brk, phdr, args: stack.args, env: stack.env })
}

/// Maps and fills one `PT_LOAD` segment; returns the end of its memory image.
fn load_segment(
    aspace: &mut AddressSpace,
    p: &ExecParams<'_>,
    ph: &ProgramHeader,
    bias: u64,
    path: &Arc<str>,
) -> KResult<u64> {
    let vaddr = ph.vaddr.checked_add(bias).ok_or(Errno::EINVAL)?;
    if ph.filesz > ph.memsz || ph.memsz > TASK_SIZE || vaddr > TASK_SIZE - ph.memsz {
        return Err(Errno::EINVAL);
    }
    let file_end = ph.offset.checked_add(ph.filesz).ok_or(Errno::ENOEXEC)?;
    if usize::try_from(file_end).map_or(true, |e| e > p.image.len()) {
        return Err(Errno::ENOEXEC);
    }
    let end = vaddr + ph.memsz;
    if ph.memsz == 0 {
        return Ok(end);
    }
    let lo = page_align_down(vaddr);
    let hi = page_align_up(end).ok_or(Errno::EINVAL)?;
    if lo < MMAP_MIN_ADDR {
        return Err(Errno::EPERM);
    }
    // The file bytes of the first page before the segment (the ELF header for the first
    // segment), as a file mapping of the whole page would show them.
    let lead = (vaddr - lo).min(ph.offset);
    let (dev, ino) = p.dev_ino;
    // The pages holding file bytes are named after the executable; whole pages of bss past
    // them are anonymous, as Linux maps them (`set_brk`/`vm_brk_flags`). Fresh pages are
    // zero, so the bss needs no clearing.
    let file_hi = page_align_up(vaddr + ph.filesz).ok_or(Errno::EINVAL)?.min(hi);
    let prot = prot_of(ph.flags);
    if file_hi > lo {
        let kind = VmaKind::Image { path: path.clone(), offset: ph.offset - lead, dev, ino };
        aspace.map_fixed(Vma::new(lo, file_hi, prot, kind))?;
    }
    if hi > file_hi {
        aspace.map_fixed(Vma::new(file_hi, hi, prot, VmaKind::Anon))?;
    }
    let from = usize::try_from(ph.offset - lead).map_err(|_| Errno::ENOEXEC)?;
    let to = usize::try_from(file_end).map_err(|_| Errno::ENOEXEC)?;
    let bytes = p.image.get(from..to).ok_or(Errno::ENOEXEC)?;
    aspace.poke(vaddr - lead, bytes)?;
    Ok(end)
}

/// Writes `v` as little-endian at `at` in `buf` (`at` is in bounds by construction).
fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    if let Some(s) = buf.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Where `build_stack` put things.
struct StackLayout {
    sp: u64,
    args: (u64, u64),
    env: (u64, u64),
}

/// Builds the initial stack.
fn build_stack(
    aspace: &mut AddressSpace,
    p: &ExecParams<'_>,
    elf: &Elf,
    phdr: u64,
    entry: u64,
) -> KResult<StackLayout> {
    let empty: [&[u8]; 1] = [b""];
    let argv: &[&[u8]] = if p.argv.is_empty() { &empty } else { p.argv };
    // Strings, from the top down: 8 zero bytes, execfn, envp (last first), argv (last
    // first) — so argv[0] is the lowest and the strings read in order upwards.
    let mut sp = STACK_TOP - 8;
    sp -= p.execfn.len() as u64 + 1;
    let execfn_at = sp;
    let mut env_at = vec![0u64; p.envp.len()];
    for (i, s) in p.envp.iter().enumerate().rev() {
        sp -= s.len() as u64 + 1;
        env_at[i] = sp;
    }
    let mut arg_at = vec![0u64; argv.len()];
    for (i, s) in argv.iter().enumerate().rev() {
        sp -= s.len() as u64 + 1;
        arg_at[i] = sp;
    }
    let arg_start = sp;
    let arg_end = env_at.first().copied().unwrap_or(execfn_at);
    sp &= !0xf;
    let platform: &[u8] = b"x86_64\0";
    sp -= platform.len() as u64;
    let platform_at = sp;
    sp -= 16;
    let random_at = sp;
    let auxv: [(u64, u64); 20] = [
        (at::MINSIGSTKSZ, p.minsigstksz),
        (at::HWCAP, p.hwcap),
        (at::PAGESZ, PAGE_SIZE),
        (at::CLKTCK, 100),
        (at::PHDR, phdr),
        (at::PHENT, PHDR_SIZE as u64),
        (at::PHNUM, u64::from(elf.header.phnum)),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, entry),
        (at::UID, u64::from(p.creds.uid)),
        (at::EUID, u64::from(p.creds.euid)),
        (at::GID, u64::from(p.creds.gid)),
        (at::EGID, u64::from(p.creds.egid)),
        (at::SECURE, 0),
        (at::RANDOM, random_at),
        (at::HWCAP2, p.hwcap2),
        (at::EXECFN, execfn_at),
        (at::PLATFORM, platform_at),
        (at::NULL, 0),
    ];
    let words = 1 + argv.len() + 1 + p.envp.len() + 1 + 2 * auxv.len();
    sp = (sp - 8 * words as u64) & !0xf;
    let size = STACK_TOP - sp;

    // The stack area: the arguments plus Linux's 128 KiB, growing down on demand.
    let stack_lo = page_align_down(sp).saturating_sub(STACK_EXPAND);
    let prot = if elf.exec_stack() { Prot::READ | Prot::WRITE | Prot::EXEC } else { Prot::READ | Prot::WRITE };
    aspace.map_fixed(Vma::new(stack_lo, STACK_TOP, prot, VmaKind::Stack))?;

    let mut buf = vec![0u8; usize::try_from(size).map_err(|_| Errno::E2BIG)?];
    let off = |addr: u64| (addr - sp) as usize;
    let mut put_str = |addr: u64, s: &[u8]| {
        let o = off(addr);
        buf[o..o + s.len()].copy_from_slice(s);
        buf[o + s.len()] = 0;
    };
    put_str(execfn_at, p.execfn);
    for (s, &a) in p.envp.iter().zip(&env_at) {
        put_str(a, s);
    }
    for (s, &a) in argv.iter().zip(&arg_at) {
        put_str(a, s);
    }
    let o = off(platform_at);
    buf[o..o + platform.len()].copy_from_slice(platform);
    let o = off(random_at);
    buf[o..o + 16].copy_from_slice(&p.random);
    let mut w = 0usize;
    let mut push = |v: u64| {
        put_u64(&mut buf, w, v);
        w += 8;
    };
    push(argv.len() as u64);
    arg_at.iter().for_each(|&a| push(a));
    push(0);
    env_at.iter().for_each(|&a| push(a));
    push(0);
    for (k, v) in auxv {
        push(k);
        push(v);
    }
    aspace.poke(sp, &buf)?;
    Ok(StackLayout { sp, args: (arg_start, arg_end), env: (arg_end, execfn_at) })
}

#[cfg(test)]
mod tests;
