//! ELF64 parsing for `execve`: the file header and program headers of an x86_64
//! executable, every field read with bounds checks (a malformed file is `ENOEXEC`, never a
//! panic).
//!
//! Reference: the System V gABI and x86-64 psABI; Linux 6.1 fs/binfmt_elf.c
//! (`load_elf_binary`, `load_elf_phdrs`: `e_phentsize` must be `sizeof(Elf64_Phdr)` and the
//! table at most 64 KiB).

use alloc::vec::Vec;

use syscall_abi::Errno;

use crate::KResult;

/// `ET_EXEC`: a fixed-address executable.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`: position-independent (static-pie when it has no `PT_INTERP`).
pub const ET_DYN: u16 = 3;
/// `EM_X86_64`.
pub const EM_X86_64: u16 = 62;
/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_INTERP`.
pub const PT_INTERP: u32 = 3;
/// `PT_PHDR`.
pub const PT_PHDR: u32 = 6;
/// `PT_TLS` (left to libc).
pub const PT_TLS: u32 = 7;
/// `PT_GNU_STACK`.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// Segment flag: executable.
pub const PF_X: u32 = 1;
/// Segment flag: writable.
pub const PF_W: u32 = 2;
/// Segment flag: readable.
pub const PF_R: u32 = 4;
/// Size of `Elf64_Ehdr`.
pub const EHDR_SIZE: usize = 64;
/// Size of `Elf64_Phdr`.
pub const PHDR_SIZE: usize = 56;

/// The fields of `Elf64_Ehdr` the loader uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfHeader {
    /// `e_type`.
    pub e_type: u16,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phnum`.
    pub phnum: u16,
}

/// One `Elf64_Phdr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags` (`PF_R`/`PF_W`/`PF_X`).
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

/// A parsed executable.
#[derive(Clone, Debug)]
pub struct Elf {
    /// The file header.
    pub header: ElfHeader,
    /// The program headers, in file order.
    pub phdrs: Vec<ProgramHeader>,
}

fn u16_at(b: &[u8], off: usize) -> KResult<u16> {
    let s = b.get(off..off + 2).ok_or(Errno::ENOEXEC)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> KResult<u32> {
    let s = b.get(off..off + 4).ok_or(Errno::ENOEXEC)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Ok(u32::from_le_bytes(a))
}

fn u64_at(b: &[u8], off: usize) -> KResult<u64> {
    let s = b.get(off..off + 8).ok_or(Errno::ENOEXEC)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

/// Parses the header and program headers of `image`. `ENOEXEC` for anything that is not
/// a little-endian ELF64 x86_64 `ET_EXEC`/`ET_DYN` file with a sane program-header table.
pub fn parse(image: &[u8]) -> KResult<Elf> {
    if image.len() < EHDR_SIZE || image[..4] != *b"\x7fELF" {
        return Err(Errno::ENOEXEC);
    }
    // EI_CLASS = ELFCLASS64, EI_DATA = ELFDATA2LSB, EI_VERSION = EV_CURRENT.
    if image[4] != 2 || image[5] != 1 || image[6] != 1 {
        return Err(Errno::ENOEXEC);
    }
    let e_type = u16_at(image, 16)?;
    if e_type != ET_EXEC && e_type != ET_DYN {
        return Err(Errno::ENOEXEC);
    }
    if u16_at(image, 18)? != EM_X86_64 {
        return Err(Errno::ENOEXEC);
    }
    let entry = u64_at(image, 24)?;
    let phoff = u64_at(image, 32)?;
    let phentsize = u16_at(image, 54)?;
    let phnum = u16_at(image, 56)?;
    if usize::from(phentsize) != PHDR_SIZE || phnum == 0 {
        return Err(Errno::ENOEXEC);
    }
    let table = usize::from(phnum) * PHDR_SIZE;
    if table > 65536 {
        return Err(Errno::ENOEXEC);
    }
    let start = usize::try_from(phoff).map_err(|_| Errno::ENOEXEC)?;
    let end = start.checked_add(table).ok_or(Errno::ENOEXEC)?;
    let raw = image.get(start..end).ok_or(Errno::ENOEXEC)?;
    let mut phdrs = Vec::with_capacity(usize::from(phnum));
    for p in raw.chunks_exact(PHDR_SIZE) {
        phdrs.push(ProgramHeader {
            p_type: u32_at(p, 0)?,
            flags: u32_at(p, 4)?,
            offset: u64_at(p, 8)?,
            vaddr: u64_at(p, 16)?,
            filesz: u64_at(p, 32)?,
            memsz: u64_at(p, 40)?,
            align: u64_at(p, 48)?,
        });
    }
    Ok(Elf { header: ElfHeader { e_type, entry, phoff, phnum }, phdrs })
}

impl Elf {
    /// The `PT_LOAD` segments.
    pub fn loads(&self) -> impl Iterator<Item = &ProgramHeader> {
        self.phdrs.iter().filter(|p| p.p_type == PT_LOAD)
    }

    /// Whether a `PT_INTERP` asks for a dynamic loader.
    pub fn has_interp(&self) -> bool {
        self.phdrs.iter().any(|p| p.p_type == PT_INTERP)
    }

    /// Whether `PT_GNU_STACK` asks for an executable stack. Without the header the stack is
    /// not executable: Linux 6.1 only implies exec for 32-bit binaries
    /// (`elf_read_implies_exec`).
    pub fn exec_stack(&self) -> bool {
        self.phdrs.iter().find(|p| p.p_type == PT_GNU_STACK).is_some_and(|p| p.flags & PF_X != 0)
    }

    /// The largest power-of-two `p_align` of the loadable segments (at least a page):
    /// Linux 6.1's `maximum_alignment`, used to align a static-pie's load bias.
    pub fn max_align(&self) -> u64 {
        self.loads().map(|p| p.align).filter(|a| a.is_power_of_two()).fold(4096, u64::max)
    }

    /// The address of the program headers in memory before relocation: `PT_PHDR`'s
    /// `p_vaddr`, else the `PT_LOAD` whose file range holds `e_phoff` (Linux 6.1), else
    /// `None`.
    pub fn phdr_vaddr(&self) -> Option<u64> {
        if let Some(p) = self.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            return Some(p.vaddr);
        }
        let off = self.header.phoff;
        self.loads()
            .find(|p| p.offset <= off && off - p.offset < p.filesz)
            .and_then(|p| p.vaddr.checked_add(off - p.offset))
    }
}
