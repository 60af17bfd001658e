//! `BPF_OBJ_PIN` and `BPF_OBJ_GET`: pin, close, get back; path errors from the host; access
//! modes; what can be pinned.

use std::vec;

use syscall_abi::bpf::{Cmd, MapType, ObjAttr, BPF_ANY, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::Errno;

use super::{e, u32b, u64b, T};
use crate::object::{BpfObject, BtfObj, FileMode};

fn pin(t: &T, fd: u32, path: &str) -> isize {
    t.call(Cmd::ObjPin, &ObjAttr { pathname: t.cstr(path), bpf_fd: fd, file_flags: 0 })
}

fn get(t: &T, path: &str, flags: u32) -> isize {
    t.call(Cmd::ObjGet, &ObjAttr { pathname: t.cstr(path), bpf_fd: 0, file_flags: flags })
}

#[test]
fn pin_close_get_keeps_the_data() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    assert_eq!(t.update(fd, &u32b(1), &u64b(99), BPF_ANY), 0);
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/counts"), 0);
    assert!(t.h.close(fd));
    let again = get(&t, "/sys/fs/bpf/counts", 0);
    assert!(again >= 3);
    assert_eq!(t.lookup(again as u32, &u32b(1), 8), Ok(u64b(99)));
    // Read-only and write-only opens.
    let ro = get(&t, "/sys/fs/bpf/counts", BPF_F_RDONLY) as u32;
    assert_eq!(t.update(ro, &u32b(1), &u64b(1), BPF_ANY), e(Errno::EPERM));
    let wo = get(&t, "/sys/fs/bpf/counts", BPF_F_WRONLY) as u32;
    assert_eq!(t.lookup(wo, &u32b(1), 8), Err(e(Errno::EPERM)));
    assert_eq!(t.update(wo, &u32b(1), &u64b(5), BPF_ANY), 0);
    assert_eq!(t.lookup(ro, &u32b(1), 8), Ok(u64b(5)));
    // A pin in a subdirectory.
    t.h.mkdir(b"/sys/fs/bpf/app");
    assert_eq!(pin(&t, ro, "/sys/fs/bpf/app/counts"), 0);
    t.assert_all_freed();
}

#[test]
fn unpinned_object_is_freed_with_its_last_fd() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    let id = t.h.object(fd).unwrap().id();
    let reg = t.host.registry().clone();
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/m"), 0);
    assert!(t.h.unlink(b"/sys/fs/bpf/m"));
    assert!(reg.map(id).is_some(), "the fd still holds it");
    assert_eq!(get(&t, "/sys/fs/bpf/m", 0), e(Errno::ENOENT));
    t.h.close(fd);
    assert!(reg.map(id).is_none());
    // And the other way round: the pin outlives the fd.
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    let id = t.h.object(fd).unwrap().id();
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/m"), 0);
    t.h.close(fd);
    assert!(reg.map(id).is_some(), "the pin holds it");
    t.h.unlink(b"/sys/fs/bpf/m");
    assert!(reg.map(id).is_none());
    t.assert_all_freed();
}

#[test]
fn pin_path_errors_come_from_the_filesystem() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/a"), 0);
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/a"), e(Errno::EEXIST));
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/missing/a"), e(Errno::ENOENT));
    assert_eq!(pin(&t, fd, "/tmp/a"), e(Errno::EPERM));
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/a/b"), e(Errno::ENOTDIR));
    assert_eq!(pin(&t, fd, ""), e(Errno::ENOENT));
    let a = ObjAttr { pathname: 0, bpf_fd: fd, file_flags: 0 };
    assert_eq!(t.call(Cmd::ObjPin, &a), e(Errno::EFAULT));
    // No NUL within PATH_MAX.
    let long = t.h.put_bytes(&vec![b'a'; 5000]);
    assert_eq!(t.call(Cmd::ObjPin, &ObjAttr { pathname: long, ..a }), e(Errno::ENAMETOOLONG));
    // A path running into unmapped memory.
    let edge = t.h.put_bytes(b"/sys/fs/bpf/x");
    t.h.punch_hole(edge + 13, 8);
    assert_eq!(t.call(Cmd::ObjPin, &ObjAttr { pathname: edge, ..a }), e(Errno::EFAULT));
    // file_flags must be 0 for a pin.
    let flags = ObjAttr { pathname: t.cstr("/sys/fs/bpf/b"), bpf_fd: fd, file_flags: BPF_F_RDONLY };
    assert_eq!(t.call(Cmd::ObjPin, &flags), e(Errno::EINVAL));
    t.assert_all_freed();
}

#[test]
fn only_maps_programs_and_links_can_be_pinned() {
    let t = T::new();
    // A closed fd, a plain file and a BTF object are all EINVAL (bpf_fd_probe_obj).
    assert_eq!(pin(&t, 55, "/sys/fs/bpf/x"), e(Errno::EINVAL));
    assert_eq!(pin(&t, 1, "/sys/fs/bpf/x"), e(Errno::EINVAL));
    let btf = BtfObj::new(t.host.registry(), vec![], vec![], false).unwrap();
    let btf_fd = t.h.install_object(BpfObject::Btf(btf), FileMode::ReadOnly);
    assert_eq!(pin(&t, btf_fd, "/sys/fs/bpf/x"), e(Errno::EINVAL));
    // The fd is checked before the path is read.
    let a = ObjAttr { pathname: 0, bpf_fd: 55, file_flags: 0 };
    assert_eq!(t.call(Cmd::ObjPin, &a), e(Errno::EINVAL));
    t.assert_all_freed();
}

#[test]
fn get_errors() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/m"), 0);
    assert_eq!(get(&t, "/sys/fs/bpf/none", 0), e(Errno::ENOENT));
    assert_eq!(get(&t, "/sys/fs/bpf", 0), e(Errno::EACCES));
    assert_eq!(get(&t, "/sys/fs/bpf/m", BPF_F_RDONLY | BPF_F_WRONLY), e(Errno::EINVAL));
    assert_eq!(get(&t, "/sys/fs/bpf/m", 1 << 5), e(Errno::EINVAL));
    assert_eq!(get(&t, "", 0), e(Errno::ENOENT));
    let with_fd = ObjAttr { pathname: t.cstr("/sys/fs/bpf/m"), bpf_fd: fd, file_flags: 0 };
    assert_eq!(t.call(Cmd::ObjGet, &with_fd), e(Errno::EINVAL));
    // A pin whose file does not allow writing: read-only opens only.
    t.h.make_readonly(b"/sys/fs/bpf/m");
    assert_eq!(get(&t, "/sys/fs/bpf/m", 0), e(Errno::EACCES));
    assert!(get(&t, "/sys/fs/bpf/m", BPF_F_RDONLY) >= 3);
    t.assert_all_freed();
}

#[test]
fn prog_array_empties_when_its_last_user_reference_goes() {
    let t = T::new();
    let fd = t.map(MapType::ProgArray, 4, 4, 2, 0);
    let map = match t.h.object(fd) {
        Some(BpfObject::Map(m)) => m,
        _ => unreachable!(),
    };
    assert_eq!(map.user_refs(), 1);
    assert_eq!(pin(&t, fd, "/sys/fs/bpf/pa"), 0);
    let dup = t.h.dup(fd).unwrap();
    assert_eq!(map.user_refs(), 2, "dup shares the file");
    let by_get = get(&t, "/sys/fs/bpf/pa", 0) as u32;
    assert_eq!(map.user_refs(), 3);
    t.h.close(fd);
    t.h.close(dup);
    t.h.close(by_get);
    assert_eq!(map.user_refs(), 1);
    t.h.unlink(b"/sys/fs/bpf/pa");
    assert_eq!(map.user_refs(), 0);
    drop(map);
    t.assert_all_freed();
}

#[test]
fn programs_and_links_pin_and_reopen_read_write() {
    let t = T::new();
    let prog = super::lifetime::test_prog(&t, vec![]);
    let link = crate::object::LinkObj::new(
        t.host.registry(),
        syscall_abi::bpf::LinkType::PerfEvent,
        prog.clone(),
        std::boxed::Box::new(super::lifetime::NoOps),
    )
    .unwrap();
    let pfd = t.h.install_object(BpfObject::Prog(prog.clone()), FileMode::ReadWrite);
    let lfd = t.h.install_object(BpfObject::Link(link.clone()), FileMode::ReadWrite);
    assert_eq!(pin(&t, pfd, "/sys/fs/bpf/prog"), 0);
    assert_eq!(pin(&t, lfd, "/sys/fs/bpf/link"), 0);
    assert!(t.h.pinned(b"/sys/fs/bpf/prog").unwrap().same(&BpfObject::Prog(prog.clone())));
    // A program opens read-write whatever the flags say; a link only read-write.
    let p = get(&t, "/sys/fs/bpf/prog", BPF_F_RDONLY) as u32;
    assert_eq!(t.h.mode(p), Some(FileMode::ReadWrite));
    assert_eq!(get(&t, "/sys/fs/bpf/link", BPF_F_RDONLY), e(Errno::EINVAL));
    assert_eq!(get(&t, "/sys/fs/bpf/link", BPF_F_WRONLY), e(Errno::EINVAL));
    let l = get(&t, "/sys/fs/bpf/link", 0) as u32;
    assert!(t.h.object(l).unwrap().same(&BpfObject::Link(link.clone())));
    drop((prog, link));
    t.assert_all_freed();
}
