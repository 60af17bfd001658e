//! The `/proc/self/maps` text of an address space, in Linux's format:
//! `start-end perms offset major:minor inode` padded to column 73, then the name
//! (`[heap]`, `[stack]`, a file path), one line per area.
//!
//! Reference: Linux 6.1 fs/proc/task_mmu.c (`show_map_vma`, `show_vma_header_prefix`).

use alloc::string::String;
use core::fmt::Write;

use super::aspace::AddressSpace;
use super::vma::Prot;
use super::vma::{Vma, VmaKind};

/// Major and minor numbers of a device id in the `stat` encoding (glibc's `gnu_dev_major`
/// and `gnu_dev_minor`).
pub fn dev_major_minor(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000);
    let minor = (dev & 0xff) | ((dev >> 12) & 0xffff_ff00);
    (major, minor)
}

/// The offset, device, inode and name of one area.
fn describe(v: &Vma) -> (u64, u64, u64, String) {
    match &v.kind {
        VmaKind::Anon => (0, 0, 0, String::new()),
        VmaKind::Heap => (0, 0, 0, String::from("[heap]")),
        VmaKind::Stack => (0, 0, 0, String::from("[stack]")),
        VmaKind::Image { path, offset, dev, ino } => (*offset, *dev, *ino, String::from(&**path)),
        VmaKind::File { file, offset, .. } => {
            let md = file.ops.stat().unwrap_or_default();
            (*offset, md.dev, md.ino, file.path.clone())
        }
        VmaKind::Device { file, pgoff, .. } => {
            let md = file.ops.stat().unwrap_or_default();
            (pgoff.saturating_mul(4096), md.dev, md.ino, file.path.clone())
        }
        // Linux backs shared anonymous memory with a deleted shmem file named /dev/zero.
        VmaKind::SharedAnon { pgoff, .. } => (pgoff.saturating_mul(4096), 1, 0, String::from("/dev/zero (deleted)")),
    }
}

impl AddressSpace {
    /// Where `ip` lies, as Linux's `print_vma_addr` prints it in a segfault message:
    /// `name[start+len]` with the file's base name, for file-backed areas only.
    pub fn ip_location(&self, ip: u64) -> Option<String> {
        let v = self.find_vma(ip)?;
        let (_, _, _, name) = describe(v);
        if name.is_empty() || name.starts_with('[') {
            return None;
        }
        let base = name.rsplit('/').next().unwrap_or(&name);
        Some(alloc::format!("{}[{:x}+{:x}]", base, v.start, v.len()))
    }

    /// The `/proc/self/maps` text.
    pub fn maps_text(&self) -> String {
        let mut out = String::new();
        for v in self.vmas() {
            let (offset, dev, ino, name) = describe(v);
            let (major, minor) = dev_major_minor(dev);
            let line_start = out.len();
            let flag = |p: Prot, c: char| if v.prot.contains(p) { c } else { '-' };
            let _ = write!(
                out,
                "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
                v.start,
                v.end,
                flag(Prot::READ, 'r'),
                flag(Prot::WRITE, 'w'),
                flag(Prot::EXEC, 'x'),
                if v.kind.is_shared() { 's' } else { 'p' },
                offset,
                major,
                minor,
                ino
            );
            if !name.is_empty() {
                while out.len() - line_start < 72 {
                    out.push(' ');
                }
                out.push(' ');
                out.push_str(&name);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests;
