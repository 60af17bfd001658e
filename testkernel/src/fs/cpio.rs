//! The initramfs: unpacking a cpio "newc" archive (what `-initrd` / the multiboot module
//! holds) into a directory, like Linux's `init/initramfs.c`.
//!
//! Format: each entry is a 110-byte ASCII header (`070701`, or `070702` with a checksum we
//! ignore, then 13 eight-digit hex fields: ino, mode, uid, gid, nlink, mtime, filesize,
//! devmajor, devminor, rdevmajor, rdevminor, namesize, check), the NUL-terminated name
//! (`namesize` bytes including the NUL) padded so the data starts on a 4-byte boundary, then
//! `filesize` bytes of data padded to 4. `TRAILER!!!` ends an archive; several archives may
//! follow each other, with NUL padding between them.
//!
//! Entries: directories, regular files (hard links: a file with `nlink >= 2` whose
//! (ino, devmajor, devminor) was seen earlier in the same archive becomes a link to it, and
//! its data, usually carried by the last link, is written through it), symlinks (the data is
//! the target), and device, fifo and socket nodes (`rdevmajor:rdevminor`). Names have leading
//! `/` and `./` removed; `.` alone is skipped; missing parent directories are created (mode
//! `0755`); a name already present is replaced (a directory is kept and gets the new mode).
//! Owner, group and mtime are applied to tmpfs inodes.
//!
//! A malformed archive — bad magic, non-hex field, truncated header, name or data, name
//! without its NUL, a `..` component, no trailer at the end — is `EINVAL`; entries before
//! the error stay unpacked. Nothing panics on any input.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::Errno;

use super::inode::{FileType, Inode, Timespec};
use super::stat::makedev;
use super::tmpfs::{as_tmp, TmpInode};
use crate::KResult;

const HEADER_LEN: usize = 110;
const TRAILER: &[u8] = b"TRAILER!!!";

/// One parsed header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Header {
    ino: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    mtime: u32,
    filesize: u32,
    devmajor: u32,
    devminor: u32,
    rdevmajor: u32,
    rdevminor: u32,
    namesize: u32,
}

fn hex_field(b: &[u8]) -> KResult<u32> {
    let mut v = 0u32;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(Errno::EINVAL),
        };
        v = (v << 4) | u32::from(d);
    }
    Ok(v)
}

fn parse_header(h: &[u8]) -> KResult<Header> {
    if h.len() < HEADER_LEN || (&h[..6] != b"070701" && &h[..6] != b"070702") {
        return Err(Errno::EINVAL);
    }
    let mut f = [0u32; 13];
    for (i, v) in f.iter_mut().enumerate() {
        *v = hex_field(&h[6 + 8 * i..14 + 8 * i])?;
    }
    Ok(Header {
        ino: f[0],
        mode: f[1],
        uid: f[2],
        gid: f[3],
        nlink: f[4],
        mtime: f[5],
        filesize: f[6],
        devmajor: f[7],
        devminor: f[8],
        rdevmajor: f[9],
        rdevminor: f[10],
        namesize: f[11],
    })
}

fn align4(x: usize) -> KResult<usize> {
    x.checked_add(3).map(|v| v & !3).ok_or(Errno::EINVAL)
}

fn usize_of(v: u32) -> usize {
    // u32 always fits the 64-bit usize of every target this kernel builds for.
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// What [`unpack`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Entries created (the trailers and `.` not counted).
    pub entries: usize,
    /// Bytes of regular-file data written.
    pub bytes: u64,
}

/// Unpacks the cpio newc `archive` into the directory `root` (see the module docs).
pub fn unpack(archive: &[u8], root: &Arc<dyn Inode>) -> KResult<UnpackStats> {
    unpack_with(archive, root, write_data)
}

/// [`unpack`] for an archive that stays in memory for good (the boot initramfs): tmpfs
/// files borrow their bytes from it instead of copying them.
pub fn unpack_static(archive: &'static [u8], root: &Arc<dyn Inode>) -> KResult<UnpackStats> {
    unpack_with(archive, root, |file, data: &'static [u8]| match file.as_any().downcast_ref::<TmpInode>() {
        Some(t) => t.set_static(data),
        None => write_data(file, data),
    })
}

/// Writes `data` as the whole content of `file`.
fn write_data(file: &Arc<dyn Inode>, data: &[u8]) -> KResult<()> {
    file.truncate(0)?;
    let mut done = 0;
    while done < data.len() {
        let n = file.write_at(done as u64, &data[done..])?;
        if n == 0 {
            return Err(Errno::EIO);
        }
        done += n;
    }
    Ok(())
}

fn unpack_with<'a>(
    archive: &'a [u8],
    root: &Arc<dyn Inode>,
    put: impl Fn(&Arc<dyn Inode>, &'a [u8]) -> KResult<()>,
) -> KResult<UnpackStats> {
    let mut stats = UnpackStats::default();
    let mut links: BTreeMap<(u32, u32, u32), Arc<dyn Inode>> = BTreeMap::new();
    let mut off = 0usize;
    let mut in_archive = false;
    loop {
        if !in_archive {
            // Between archives: NUL padding, then the end or another archive.
            while archive.get(off) == Some(&0) {
                off += 1;
            }
            if off >= archive.len() {
                return Ok(stats);
            }
        } else if off >= archive.len() {
            return Err(Errno::EINVAL);
        }
        let hdr_end = off.checked_add(HEADER_LEN).ok_or(Errno::EINVAL)?;
        let h = parse_header(archive.get(off..hdr_end).ok_or(Errno::EINVAL)?)?;
        in_archive = true;
        let name_end = hdr_end.checked_add(usize_of(h.namesize)).ok_or(Errno::EINVAL)?;
        let name = archive.get(hdr_end..name_end).ok_or(Errno::EINVAL)?;
        let Some((&0, name)) = name.split_last() else { return Err(Errno::EINVAL) };
        let data_start = align4(name_end)?;
        let data_end = data_start.checked_add(usize_of(h.filesize)).ok_or(Errno::EINVAL)?;
        let data = archive.get(data_start..data_end).ok_or(Errno::EINVAL)?;
        off = align4(data_end)?.min(archive.len());
        if name == TRAILER {
            in_archive = false;
            links.clear();
            continue;
        }
        if create_entry(root, &h, name, data, &mut links, &put)? {
            stats.entries += 1;
            if h.mode & 0o170000 == 0o100000 {
                stats.bytes += data.len() as u64;
            }
        }
    }
}

/// The components of an archive name (`EINVAL` for `..`), without leading `/` or `./`.
fn components(name: &[u8]) -> KResult<Vec<&[u8]>> {
    let mut out = Vec::new();
    for c in name.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(Errno::EINVAL),
            c if c.len() > super::vfs::NAME_MAX => return Err(Errno::ENAMETOOLONG),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The directory `comps` below `root`, created (mode 0755) where missing.
fn make_dirs(root: &Arc<dyn Inode>, comps: &[&[u8]]) -> KResult<Arc<dyn Inode>> {
    let mut cur = root.clone();
    for c in comps {
        cur = match cur.lookup(c) {
            Ok(d) => d,
            Err(Errno::ENOENT) => cur.create(c, FileType::Directory, 0o755)?,
            Err(e) => return Err(e),
        };
        if cur.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
    }
    Ok(cur)
}

/// Removes `name` from `dir` if present (a directory only if empty; a non-empty directory
/// is an error the caller sees as `EEXIST` on create).
fn clear_name(dir: &Arc<dyn Inode>, name: &[u8]) {
    if let Ok(old) = dir.lookup(name) {
        let _ = if old.file_type() == FileType::Directory { dir.rmdir(name) } else { dir.unlink(name) };
    }
}

fn apply_attrs(inode: &Arc<dyn Inode>, h: &Header) {
    if let Some(t) = as_tmp(&**inode) {
        t.set_owner(h.uid, h.gid);
        let ts = Timespec { sec: i64::from(h.mtime), nsec: 0 };
        t.set_times(ts, ts);
    }
}

/// Creates one entry; returns whether something was created.
fn create_entry<'a>(
    root: &Arc<dyn Inode>,
    h: &Header,
    name: &[u8],
    data: &'a [u8],
    links: &mut BTreeMap<(u32, u32, u32), Arc<dyn Inode>>,
    put: &impl Fn(&Arc<dyn Inode>, &'a [u8]) -> KResult<()>,
) -> KResult<bool> {
    let comps = components(name)?;
    let Some((last, dirs)) = comps.split_last() else { return Ok(false) };
    let dir = make_dirs(root, dirs)?;
    let perm = h.mode & 0o7777;
    let inode = match h.mode & 0o170000 {
        0o040000 => match dir.lookup(last) {
            Ok(d) if d.file_type() == FileType::Directory => {
                d.set_mode(perm)?;
                d
            }
            _ => {
                clear_name(&dir, last);
                dir.create(last, FileType::Directory, perm)?
            }
        },
        0o100000 => {
            let key = (h.ino, h.devmajor, h.devminor);
            let linked = if h.nlink >= 2 { links.get(&key).cloned() } else { None };
            clear_name(&dir, last);
            let file = match linked {
                Some(target) => {
                    dir.link(last, &target)?;
                    target
                }
                None => {
                    let f = dir.create(last, FileType::Regular, perm)?;
                    if h.nlink >= 2 {
                        links.insert(key, f.clone());
                    }
                    f
                }
            };
            if !data.is_empty() {
                put(&file, data)?;
            }
            file
        }
        0o120000 => {
            clear_name(&dir, last);
            dir.symlink(last, data)?
        }
        kind @ (0o020000 | 0o060000 | 0o010000 | 0o140000) => {
            let ft = match kind {
                0o020000 => FileType::CharDevice,
                0o060000 => FileType::BlockDevice,
                0o010000 => FileType::Fifo,
                _ => FileType::Socket,
            };
            clear_name(&dir, last);
            match as_tmp(&*dir) {
                Some(t) => t.create_node(last, ft, perm, makedev(h.rdevmajor, h.rdevminor))?,
                None => dir.create(last, ft, perm)?,
            }
        }
        _ => return Ok(false),
    };
    apply_attrs(&inode, h);
    Ok(true)
}

#[cfg(test)]
#[path = "cpio/tests.rs"]
mod tests;
