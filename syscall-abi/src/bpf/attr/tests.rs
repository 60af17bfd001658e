//! The whole-union helpers.

use super::*;
use crate::bpf::{Cmd, BPF_ANY};
use crate::Errno;

#[test]
fn views_share_the_union_bytes() {
    let mut a = BpfAttr::ZERO;
    let elem = MapElemAttr { map_fd: 3, key: 0x1000, value: 0x2000, flags: BPF_ANY, ..MapElemAttr::ZERO };
    a.as_bytes_mut()[..32].copy_from_slice(elem.as_bytes());
    assert_eq!(a.part::<MapElemAttr>(), elem);
    assert_eq!(a.part::<MapElemAttr>().next_key(), 0x2000);
    assert_eq!(a.part::<GetIdAttr>().start_id, 3, "map_fd overlays start_id");
    assert_eq!(BpfAttr::from_part(&elem), a);
}

#[test]
fn link_create_arms() {
    let pe =
        LinkCreatePerfEventAttr { prog_fd: 4, target_fd: 5, attach_type: 41, bpf_cookie: 0xdead, ..Default::default() };
    let a = BpfAttr::from_part(&pe);
    let hdr: LinkCreateAttr = a.part();
    assert_eq!((hdr.prog_fd, hdr.target_fd, hdr.attach_type), (4, 5, 41));
    assert_eq!(hdr.target_btf_id, 0xdead, "the arms overlay");
    assert!(a.check_unused(Cmd::LinkCreate).is_ok());
    let km: LinkCreateKprobeMultiAttr = a.part();
    assert_eq!(km.kprobe_multi_flags, 0xdead);
}

#[test]
fn copy_in_and_last_field_check() {
    let create =
        MapCreateAttr { map_type: 2, key_size: 4, value_size: 8, max_entries: 1, map_flags: 1, ..MapCreateAttr::ZERO };
    let mut user = [0u8; 80];
    user[..72].copy_from_slice(create.as_bytes());
    let mut src: &[u8] = &user;
    let a = BpfAttr::copy_in(&mut src, user.len(), 4096).unwrap();
    assert_eq!(a.part::<MapCreateAttr>(), create);
    assert!(a.check_unused(Cmd::MapCreate).is_ok());
    assert_eq!(a.check_unused(Cmd::MapDeleteElem).unwrap_err().errno, Errno::EINVAL);
}

#[test]
fn last_field_ends() {
    assert_eq!(Cmd::MapCreate.last_field_end(), 72);
    assert_eq!(Cmd::MapLookupElem.last_field_end(), 32);
    assert_eq!(Cmd::MapDeleteElem.last_field_end(), 16);
    assert_eq!(Cmd::MapFreeze.last_field_end(), 4);
    assert_eq!(Cmd::ProgLoad.last_field_end(), 140);
    assert_eq!(Cmd::LinkCreate.last_field_end(), 48);
    assert_eq!(Cmd::ObjGetInfoByFd.last_field_end(), 16);
    assert!(Cmd::ALL.iter().all(|c| c.last_field_end() <= BpfAttr::SIZE));
}
