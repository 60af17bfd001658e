//! `*_GET_NEXT_ID` and `*_GET_FD_BY_ID`.

use core::mem::offset_of;
use std::vec;
use std::vec::Vec;

use syscall_abi::bpf::{Cmd, GetIdAttr, LinkType, MapType, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::Errno;

use super::lifetime::{test_prog, NoOps};
use super::{e, u32b, T};
use crate::host::Capability;
use crate::object::{BpfObject, BtfObj, FileMode, LinkObj};

fn next_id(t: &T, cmd: Cmd, start: u32) -> Result<u32, isize> {
    let (r, addr) = t.call_at(cmd, &GetIdAttr { start_id: start, ..GetIdAttr::ZERO });
    match r {
        0 => Ok(t.h.get(addr + offset_of!(GetIdAttr, next_id) as u64)),
        r => Err(r),
    }
}

fn all_ids(t: &T, cmd: Cmd) -> Vec<u32> {
    let mut ids = Vec::new();
    let mut id = 0;
    while let Ok(next) = next_id(t, cmd, id) {
        ids.push(next);
        id = next;
    }
    assert_eq!(next_id(t, cmd, id), Err(e(Errno::ENOENT)));
    ids
}

#[test]
fn next_id_walks_each_kind_in_id_order() {
    let t = T::new();
    let fds: Vec<u32> = (0..4).map(|_| t.map(MapType::Array, 4, 4, 1, 0)).collect();
    let ids: Vec<u32> = fds.iter().map(|&fd| t.h.object(fd).unwrap().id()).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    t.h.close(fds[1]);
    assert_eq!(all_ids(&t, Cmd::MapGetNextId), [1, 3, 4]);
    // Ids are cyclic: a freed id is not reused at once.
    let fd = t.map(MapType::Array, 4, 4, 1, 0);
    assert_eq!(t.h.object(fd).unwrap().id(), 5);
    assert_eq!(next_id(&t, Cmd::MapGetNextId, 3), Ok(4));
    // Other kinds have their own id spaces.
    assert_eq!(all_ids(&t, Cmd::ProgGetNextId), Vec::<u32>::new());
    let prog = test_prog(&t, vec![]);
    let _btf = BtfObj::new(t.host.registry(), vec![], vec![], false).unwrap();
    let link = LinkObj::new(t.host.registry(), LinkType::PerfEvent, prog.clone(), Box::new(NoOps)).unwrap();
    assert_eq!(all_ids(&t, Cmd::ProgGetNextId), [1]);
    assert_eq!(all_ids(&t, Cmd::BtfGetNextId), [1]);
    assert_eq!(all_ids(&t, Cmd::LinkGetNextId), [1]);
    drop((prog, _btf, link));
    assert_eq!(all_ids(&t, Cmd::LinkGetNextId), Vec::<u32>::new());
    t.assert_all_freed();
}

#[test]
fn next_id_errnos() {
    let t = T::new();
    for cmd in [Cmd::MapGetNextId, Cmd::ProgGetNextId, Cmd::LinkGetNextId, Cmd::BtfGetNextId] {
        assert_eq!(next_id(&t, cmd, 0x7fff_ffff), Err(e(Errno::EINVAL)), "{cmd:?}");
        assert_eq!(next_id(&t, cmd, u32::MAX), Err(e(Errno::EINVAL)), "{cmd:?}");
        assert_eq!(next_id(&t, cmd, 0), Err(e(Errno::ENOENT)), "{cmd:?}");
        // next_id is output only, but CHECK_ATTR covers it: it is the last field.
        assert_eq!(t.call(cmd, &GetIdAttr { start_id: 0, next_id: 5, open_flags: 0 }), e(Errno::ENOENT));
        assert_eq!(t.call(cmd, &GetIdAttr { start_id: 0, next_id: 0, open_flags: 1 }), e(Errno::EINVAL));
    }
    // CAP_SYS_ADMIN only: CAP_BPF is not enough.
    t.h.set_cap(Capability::SysAdmin, false);
    assert_eq!(next_id(&t, Cmd::MapGetNextId, 0), Err(e(Errno::EPERM)));
    // The INT_MAX check comes first.
    assert_eq!(next_id(&t, Cmd::MapGetNextId, u32::MAX), Err(e(Errno::EINVAL)));
    // A faulting next_id field.
    t.h.set_cap(Capability::SysAdmin, true);
    let fd = t.map(MapType::Array, 4, 4, 1, 0);
    let attr = syscall_abi::bpf::BpfAttr::from_part(&GetIdAttr::ZERO);
    let addr = t.h.put(&attr);
    t.h.punch_hole(addr + 4, 4);
    assert_eq!(t.raw(Cmd::MapGetNextId.into(), addr, 4), e(Errno::EFAULT));
    t.h.close(fd);
    t.assert_all_freed();
}

#[test]
fn get_fd_by_id() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 4, 2, 0);
    assert_eq!(t.update(fd, &u32b(0), &u32b(5), 0), 0);
    let id = t.h.object(fd).unwrap().id();
    let by_id =
        |flags: u32, id: u32| t.call(Cmd::MapGetFdById, &GetIdAttr { start_id: id, next_id: 0, open_flags: flags });
    let again = by_id(0, id);
    assert!(again >= 3);
    assert!(t.h.object(again as u32).unwrap().same(&t.h.object(fd).unwrap()));
    assert_eq!(t.lookup(again as u32, &u32b(0), 4), Ok(u32b(5)));
    let ro = by_id(BPF_F_RDONLY, id) as u32;
    assert_eq!(t.h.mode(ro), Some(FileMode::ReadOnly));
    assert_eq!(t.update(ro, &u32b(0), &u32b(1), 0), e(Errno::EPERM));
    assert_eq!(by_id(BPF_F_RDONLY | BPF_F_WRONLY, id), e(Errno::EINVAL));
    assert_eq!(by_id(1 << 2, id), e(Errno::EINVAL));
    assert_eq!(by_id(0, 77), e(Errno::ENOENT));
    assert_eq!(by_id(0, 0), e(Errno::ENOENT));
    t.h.set_cap(Capability::SysAdmin, false);
    assert_eq!(by_id(0, id), e(Errno::EPERM));
    // The open_flags check comes before the capability check.
    assert_eq!(by_id(1 << 2, id), e(Errno::EINVAL));
    t.h.set_cap(Capability::SysAdmin, true);

    // Programs, links and BTF.
    let prog = test_prog(&t, vec![]);
    let link = LinkObj::new(t.host.registry(), LinkType::PerfEvent, prog.clone(), Box::new(NoOps)).unwrap();
    let btf = BtfObj::new(t.host.registry(), vec![], vec![], false).unwrap();
    let get = |cmd: Cmd, id: u32| t.call(cmd, &GetIdAttr { start_id: id, ..GetIdAttr::ZERO });
    let pfd = get(Cmd::ProgGetFdById, prog.id()) as u32;
    assert!(matches!(t.h.object(pfd), Some(BpfObject::Prog(_))));
    assert_eq!(t.h.mode(pfd), Some(FileMode::ReadWrite));
    let lfd = get(Cmd::LinkGetFdById, link.id()) as u32;
    assert!(matches!(t.h.object(lfd), Some(BpfObject::Link(_))));
    let bfd = get(Cmd::BtfGetFdById, btf.id()) as u32;
    assert!(matches!(t.h.object(bfd), Some(BpfObject::Btf(_))));
    assert_eq!(t.h.mode(bfd), Some(FileMode::ReadOnly));
    for cmd in [Cmd::ProgGetFdById, Cmd::LinkGetFdById, Cmd::BtfGetFdById] {
        assert_eq!(get(cmd, 999), e(Errno::ENOENT), "{cmd:?}");
        // open_flags is past their last field.
        assert_eq!(t.call(cmd, &GetIdAttr { start_id: 1, next_id: 0, open_flags: 1 }), e(Errno::EINVAL));
    }
    drop((prog, link, btf));
    t.assert_all_freed();
}
