//! `BPF_OBJ_GET_INFO_BY_FD`: size rules (truncation and extension), per-kind records, the
//! array fields of program info.

use core::mem::{offset_of, size_of};
use std::boxed::Box;
use std::vec;

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{
    BpfBtfInfo, BpfLinkInfo, BpfMapInfo, BpfProgInfo, Cmd, InfoAttr, LinkType, MapCreateAttr, MapType,
    BPF_F_NO_PREALLOC, BPF_F_RDONLY, BPF_F_RDONLY_PROG,
};
use syscall_abi::{Errno, Result};

use super::lifetime::{map_of, test_prog, NoOps};
use super::{e, T};
use crate::host::{BpfHost, Capability};
use crate::object::{BpfObject, BtfObj, FileMode, LinkObj, LinkOps};

/// Runs the command with a user buffer of `len` bytes holding `init`; returns the result, the
/// `info_len` written back and the buffer.
fn info_raw<I: Pod>(t: &T, fd: u32, init: &I, len: u32) -> (isize, u32, std::vec::Vec<u8>) {
    let buf = t.h.alloc(len.max(1) as usize);
    let bytes = init.as_bytes();
    t.h.write(buf, &bytes[..bytes.len().min(len as usize)]);
    let (r, addr) = t.call_at(Cmd::ObjGetInfoByFd, &InfoAttr { bpf_fd: fd, info_len: len, info: buf });
    let written: u32 = t.h.get(addr + offset_of!(InfoAttr, info_len) as u64);
    (r, written, t.h.read(buf, len as usize))
}

fn map_info(t: &T, fd: u32) -> BpfMapInfo {
    let (r, len, bytes) = info_raw(t, fd, &BpfMapInfo::ZERO, size_of::<BpfMapInfo>() as u32);
    assert_eq!((r, len as usize), (0, size_of::<BpfMapInfo>()));
    BpfMapInfo::from_prefix(&bytes)
}

#[test]
fn map_info_fields() {
    let t = T::new();
    let a = MapCreateAttr {
        map_type: MapType::LpmTrie.into(),
        key_size: 8,
        value_size: 16,
        max_entries: 10,
        map_flags: BPF_F_NO_PREALLOC | BPF_F_RDONLY | BPF_F_RDONLY_PROG,
        map_name: *b"routes\0\0\0\0\0\0\0\0\0\0",
        ..MapCreateAttr::ZERO
    };
    let fd = t.call(Cmd::MapCreate, &a) as u32;
    let i = map_info(&t, fd);
    assert_eq!(i.type_, 11);
    assert_eq!(i.id, map_of(&t, fd).id());
    assert_eq!((i.key_size, i.value_size, i.max_entries), (8, 16, 10));
    assert_eq!(i.map_flags, BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG, "fd access flags are not the map's");
    assert_eq!(&i.name[..7], b"routes\0");
    assert_eq!((i.btf_id, i.map_extra), (0, 0));
    // The bloom filter's map_extra is reported.
    let bloom = MapCreateAttr {
        map_type: MapType::BloomFilter.into(),
        value_size: 4,
        max_entries: 8,
        map_extra: 3,
        ..MapCreateAttr::ZERO
    };
    let bfd = t.call(Cmd::MapCreate, &bloom) as u32;
    assert_eq!(map_info(&t, bfd).map_extra, 3);
    // Info does not need read access.
    t.h.close(fd);
    t.assert_all_freed();
}

#[test]
fn info_len_truncates_and_extends_like_linux() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 3, 0);
    let full = map_info(&t, fd);
    // A shorter struct (an older user): only its bytes are written, info_len says so.
    let (r, len, bytes) = info_raw(&t, fd, &[0xaau8; 64], 12);
    assert_eq!((r, len), (0, 12));
    assert_eq!(bytes, full.as_bytes()[..12]);
    // A longer struct (a newer user) with a zero tail: the kernel's size is written back.
    let (r, len, bytes) = info_raw(&t, fd, &[0u8; 120], 120);
    assert_eq!((r, len as usize), (0, size_of::<BpfMapInfo>()));
    assert_eq!(bytes[..size_of::<BpfMapInfo>()], *full.as_bytes());
    assert!(bytes[size_of::<BpfMapInfo>()..].iter().all(|&b| b == 0));
    // A longer struct with a non-zero tail: E2BIG, nothing written.
    let mut tail = [0u8; 120];
    tail[100] = 1;
    let (r, len, _) = info_raw(&t, fd, &tail, 120);
    assert_eq!((r, len), (e(Errno::E2BIG), 120));
    // More than a page: E2BIG.
    assert_eq!(info_raw(&t, fd, &[0u8; 8], 4097).0, e(Errno::E2BIG));
    // info_len 0: nothing copied, success.
    assert_eq!(info_raw(&t, fd, &[0u8; 8], 0).0, 0);
    // A faulting buffer.
    let a = InfoAttr { bpf_fd: fd, info_len: 80, info: 0 };
    assert_eq!(t.call(Cmd::ObjGetInfoByFd, &a), e(Errno::EFAULT));
    t.assert_all_freed();
}

#[test]
fn info_fd_errors() {
    let t = T::new();
    let a = InfoAttr { bpf_fd: 99, info_len: 80, info: t.h.alloc(80) };
    assert_eq!(t.call(Cmd::ObjGetInfoByFd, &a), e(Errno::EBADFD));
    assert_eq!(t.call(Cmd::ObjGetInfoByFd, &InfoAttr { bpf_fd: 0, ..a }), e(Errno::EINVAL));
    let perf = t.h.install_perf(std::sync::Arc::new(Perf));
    assert_eq!(t.call(Cmd::ObjGetInfoByFd, &InfoAttr { bpf_fd: perf, ..a }), e(Errno::EINVAL));
}

struct Perf;
impl maps::FdObject for Perf {
    fn id(&self) -> u32 {
        0
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

#[test]
fn prog_info_fills_arrays_as_far_as_the_buffers_allow() {
    let t = T::new();
    let m1 = t.map(MapType::Array, 4, 4, 1, 0);
    let m2 = t.map(MapType::Array, 4, 4, 1, 0);
    let prog = test_prog(&t, vec![map_of(&t, m1), map_of(&t, m2)]);
    let fd = t.h.install_object(BpfObject::Prog(prog.clone()), FileMode::ReadWrite);
    let size = size_of::<BpfProgInfo>() as u32;

    // First call: no buffers, learn the sizes.
    let (r, len, bytes) = info_raw(&t, fd, &BpfProgInfo::ZERO, size);
    assert_eq!((r, len), (0, size));
    let i = BpfProgInfo::from_prefix(&bytes);
    assert_eq!((i.type_, i.id), (2, prog.id()));
    assert_eq!(&i.name[..10], b"test_prog\0");
    assert_eq!(i.tag, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!((i.nr_map_ids, i.xlated_prog_len, i.jited_prog_len), (2, 16, 0));
    assert_eq!((i.load_time, i.created_by_uid, i.gpl_compatible(), i.verified_insns), (123_456, 1000, 1, 2));
    assert_eq!((i.func_info_rec_size, i.line_info_rec_size, i.jited_line_info_rec_size), (8, 16, 8));
    assert_eq!((i.nr_jited_ksyms, i.nr_jited_func_lens, i.nr_prog_tags), (1, 1, 1));

    // Second call: room for one map id and 8 bytes of instructions.
    let ids = t.h.alloc(8);
    let insns = t.h.alloc(16);
    let tags = t.h.alloc(8);
    let req = BpfProgInfo {
        nr_map_ids: 1,
        map_ids: ids,
        xlated_prog_len: 8,
        xlated_prog_insns: insns,
        nr_prog_tags: 1,
        prog_tags: tags,
        ..BpfProgInfo::ZERO
    };
    let (r, _, bytes) = info_raw(&t, fd, &req, size);
    assert_eq!(r, 0);
    let i = BpfProgInfo::from_prefix(&bytes);
    assert_eq!((i.nr_map_ids, i.xlated_prog_len), (2, 16), "actual sizes reported");
    assert_eq!(t.h.read(ids, 8), [map_of(&t, m1).id().to_ne_bytes(), [0; 4]].concat());
    assert_eq!(t.h.read(insns, 16), [prog.xlated()[0].to_vec(), vec![0; 8]].concat());
    assert_eq!(t.h.read(tags, 8), [1, 2, 3, 4, 5, 6, 7, 8]);

    // Record sizes other than the kernel's: EINVAL.
    for bad in [
        BpfProgInfo { func_info_rec_size: 4, ..BpfProgInfo::ZERO },
        BpfProgInfo { nr_func_info: 1, ..BpfProgInfo::ZERO },
        BpfProgInfo { nr_line_info: 1, line_info_rec_size: 8, ..BpfProgInfo::ZERO },
        BpfProgInfo { jited_line_info_rec_size: 4, ..BpfProgInfo::ZERO },
    ] {
        assert_eq!(info_raw(&t, fd, &bad, size).0, e(Errno::EINVAL));
    }
    // A faulting map_ids buffer.
    let bad = BpfProgInfo { nr_map_ids: 2, map_ids: 8, ..BpfProgInfo::ZERO };
    assert_eq!(info_raw(&t, fd, &bad, size).0, e(Errno::EFAULT));

    // Without CAP_BPF/CAP_SYS_ADMIN the instructions are withheld.
    t.h.set_cap(Capability::Bpf, false);
    t.h.set_cap(Capability::SysAdmin, false);
    let (r, _, bytes) = info_raw(&t, fd, &req, size);
    assert_eq!(r, 0);
    let i = BpfProgInfo::from_prefix(&bytes);
    assert_eq!((i.xlated_prog_len, i.nr_jited_ksyms, i.nr_map_ids), (0, 0, 2));
    drop(prog);
    t.assert_all_freed();
}

#[test]
fn btf_info() {
    let t = T::new();
    let data = vec![0x9f, 0xeb, 1, 0, 24, 0, 0, 0];
    let btf = BtfObj::new(t.host.registry(), data.clone(), b"vmlinux".to_vec(), true).unwrap();
    let fd = t.h.install_object(BpfObject::Btf(btf.clone()), FileMode::ReadOnly);
    let size = size_of::<BpfBtfInfo>() as u32;
    let blob = t.h.alloc(4);
    let name = t.h.alloc(16);
    let req = BpfBtfInfo { btf: blob, btf_size: 4, name, name_len: 16, ..BpfBtfInfo::ZERO };
    let (r, len, bytes) = info_raw(&t, fd, &req, size);
    assert_eq!((r, len), (0, size));
    let i = BpfBtfInfo::from_prefix(&bytes);
    assert_eq!((i.id, i.btf_size, i.name_len, i.kernel_btf), (btf.id(), 8, 7, 1));
    assert_eq!(t.h.read(blob, 4), data[..4]);
    assert_eq!(t.h.read(name, 8), b"vmlinux\0");
    // A short name buffer: truncated, NUL-terminated, ENOSPC — after the info is written.
    let short = t.h.alloc(4);
    let (r, len, bytes) = info_raw(&t, fd, &BpfBtfInfo { name: short, name_len: 4, ..BpfBtfInfo::ZERO }, size);
    assert_eq!((r, len), (e(Errno::ENOSPC), size));
    assert_eq!(t.h.read(short, 4), b"vml\0");
    assert_eq!(BpfBtfInfo::from_prefix(&bytes).name_len, 7);
    // name without name_len (or the reverse): EINVAL.
    assert_eq!(info_raw(&t, fd, &BpfBtfInfo { name, ..BpfBtfInfo::ZERO }, size).0, e(Errno::EINVAL));
    assert_eq!(info_raw(&t, fd, &BpfBtfInfo { name_len: 3, ..BpfBtfInfo::ZERO }, size).0, e(Errno::EINVAL));
    drop(btf);
    t.assert_all_freed();
}

/// A link that reports a cookie in the first word of its union.
struct CookieLink;

impl LinkOps for CookieLink {
    fn fill_info(&self, _host: &dyn BpfHost, info: &mut BpfLinkInfo) -> Result<()> {
        info.info[0] = 0x00c0_ffee;
        Ok(())
    }
}

#[test]
fn link_info_and_detach() {
    let t = T::new();
    let prog = test_prog(&t, vec![]);
    let link = LinkObj::new(t.host.registry(), LinkType::PerfEvent, prog.clone(), Box::new(CookieLink)).unwrap();
    let fd = t.h.install_object(BpfObject::Link(link.clone()), FileMode::ReadWrite);
    let size = size_of::<BpfLinkInfo>() as u32;
    let (r, len, bytes) = info_raw(&t, fd, &BpfLinkInfo::ZERO, size);
    assert_eq!((r, len), (0, size));
    let i = BpfLinkInfo::from_prefix(&bytes);
    assert_eq!((i.type_, i.id, i.prog_id, i.info[0]), (7, link.id(), prog.id(), 0x00c0_ffee));
    // Truncated to the header.
    let (r, len, _) = info_raw(&t, fd, &BpfLinkInfo::ZERO, 12);
    assert_eq!((r, len), (0, 12));
    // Detach: this link kind has no detach.
    let detach = syscall_abi::bpf::LinkDetachAttr { link_fd: fd };
    assert_eq!(t.call(Cmd::LinkDetach, &detach), e(Errno::EOPNOTSUPP));
    let plain = LinkObj::new(t.host.registry(), LinkType::RawTracepoint, prog.clone(), Box::new(NoOps)).unwrap();
    let pfd = t.h.install_object(BpfObject::Link(plain.clone()), FileMode::ReadWrite);
    assert_eq!(t.call(Cmd::LinkDetach, &syscall_abi::bpf::LinkDetachAttr { link_fd: pfd }), e(Errno::EOPNOTSUPP));
    // LINK_UPDATE resolves the link, then the new program (fd 0 is not one: EINVAL).
    let up = syscall_abi::bpf::LinkUpdateAttr { link_fd: fd, new_prog_fd: 0, flags: 0, old_prog_fd: 0 };
    assert_eq!(t.call(Cmd::LinkUpdate, &up), e(Errno::EINVAL));
    assert_eq!(t.call(Cmd::LinkUpdate, &syscall_abi::bpf::LinkUpdateAttr { flags: 1, ..up }), e(Errno::EINVAL));
    drop((prog, link, plain));
    t.assert_all_freed();
}
