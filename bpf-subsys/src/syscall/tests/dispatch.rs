//! The entry: size and tail rules, `CHECK_ATTR`, unknown and unimplemented commands, the
//! capability gate of object creation.

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{BpfAttr, Cmd, MapCreateAttr, MapType};
use syscall_abi::Errno;

use super::{e, T};
use crate::host::Capability;

fn array_attr() -> MapCreateAttr {
    MapCreateAttr { map_type: MapType::Array.into(), key_size: 4, value_size: 8, max_entries: 4, ..MapCreateAttr::ZERO }
}

#[test]
fn unknown_command_is_einval() {
    let t = T::new();
    let addr = t.h.put(&BpfAttr::ZERO);
    for cmd in [36u32, 100, u32::MAX, 0x8000_0000] {
        assert_eq!(t.raw(cmd, addr, BpfAttr::SIZE as u32), e(Errno::EINVAL), "cmd {cmd}");
    }
    // The size rules come first, even for an unknown command.
    assert_eq!(t.raw(100, addr, 4097), e(Errno::E2BIG));
}

#[test]
fn size_above_a_page_is_e2big_even_when_zero() {
    let t = T::new();
    let addr = t.h.alloc(8192);
    t.h.write(addr, BpfAttr::from_part(&array_attr()).as_bytes());
    assert_eq!(t.raw(Cmd::MapCreate.into(), addr, 4097), e(Errno::E2BIG));
    // Exactly a page with a zero tail is fine.
    assert!(t.raw(Cmd::MapCreate.into(), addr, 4096) >= 3);
}

#[test]
fn non_zero_tail_past_the_union_is_e2big() {
    let t = T::new();
    let addr = t.h.alloc(4096);
    t.h.write(addr, BpfAttr::from_part(&array_attr()).as_bytes());
    t.h.write(addr + 200, &[1]);
    assert_eq!(t.raw(Cmd::MapCreate.into(), addr, 256), e(Errno::E2BIG));
    // The same bytes with a size that stops before the stray byte: accepted.
    assert!(t.raw(Cmd::MapCreate.into(), addr, 200) >= 3);
    // A tail that faults is EFAULT.
    let edge = t.h.alloc(160);
    t.h.write(edge, BpfAttr::from_part(&array_attr()).as_bytes());
    t.h.punch_hole(edge + 152, 8);
    assert_eq!(t.raw(Cmd::MapCreate.into(), edge, 160), e(Errno::EFAULT));
}

#[test]
fn shorter_attributes_are_zero_extended() {
    let t = T::new();
    // Only map_type..max_entries (16 bytes): flags, name and BTF read as zero.
    let bytes = BpfAttr::from_part(&array_attr());
    let addr = t.h.put_bytes(&bytes.as_bytes()[..16]);
    // Garbage right after the 16 bytes must not be read.
    t.h.put_bytes(&[0xff; 64]);
    let fd = t.raw(Cmd::MapCreate.into(), addr, 16);
    assert!(fd >= 3, "{fd}");
    // size 0: everything zero, so map_type 0 (unspec) is EINVAL.
    assert_eq!(t.raw(Cmd::MapCreate.into(), addr, 0), e(Errno::EINVAL));
}

#[test]
fn bad_attribute_pointer_is_efault() {
    let t = T::new();
    assert_eq!(t.raw(Cmd::MapCreate.into(), 0, 144), e(Errno::EFAULT));
    assert_eq!(t.raw(Cmd::MapLookupElem.into(), 8, 32), e(Errno::EFAULT));
    assert_eq!(t.raw(Cmd::MapLookupElem.into(), u64::MAX - 8, 32), e(Errno::EFAULT));
    // A NULL pointer with size 0 copies nothing: the command sees zero attributes.
    assert_eq!(t.raw(Cmd::MapFreeze.into(), 0, 0), e(Errno::EINVAL), "fd 0 is not a map");
}

#[test]
fn bytes_past_each_commands_last_field_are_einval() {
    let t = T::new();
    for &cmd in Cmd::ALL {
        let end = cmd.last_field_end();
        if end >= BpfAttr::SIZE {
            continue;
        }
        let mut attr = BpfAttr::ZERO;
        attr.as_bytes_mut()[end] = 1;
        assert_eq!(t.call_at(cmd, &attr).0, e(Errno::EINVAL), "{cmd:?}: byte {end}");
        // The last byte of the union too.
        let mut attr = BpfAttr::ZERO;
        attr.as_bytes_mut()[BpfAttr::SIZE - 1] = 1;
        assert_eq!(t.call_at(cmd, &attr).0, e(Errno::EINVAL), "{cmd:?}: last byte");
    }
}

#[test]
fn unimplemented_commands_are_enotsupp() {
    let t = T::new();
    for cmd in [Cmd::ProgAttach, Cmd::ProgDetach, Cmd::ProgQuery, Cmd::TaskFdQuery, Cmd::IterCreate] {
        assert_eq!(t.call(cmd, &BpfAttr::ZERO), e(Errno::ENOTSUPP), "{cmd:?}");
    }
    // BTF_LOAD of nothing: no header (Linux "hdr_len not found").
    assert_eq!(t.call(Cmd::BtfLoad, &BpfAttr::ZERO), e(Errno::EINVAL));
    // The link commands need a program or link fd first (fd 0 is neither).
    for cmd in [Cmd::LinkCreate, Cmd::RawTracepointOpen, Cmd::LinkUpdate, Cmd::LinkDetach] {
        assert_eq!(t.call(cmd, &BpfAttr::ZERO), e(Errno::EINVAL), "{cmd:?}");
    }
    // ENABLE_STATS: an unknown type is EINVAL (syscall/tests/stats.rs has the rest).
    let mut attr = BpfAttr::ZERO;
    attr.as_bytes_mut()[0] = 1;
    assert_eq!(t.call(Cmd::EnableStats, &attr), e(Errno::EINVAL));
}

#[test]
fn unprivileged_callers_cannot_create_objects() {
    let t = T::new();
    t.h.drop_all_caps();
    // EPERM comes before the size check (__sys_bpf order).
    assert_eq!(t.raw(Cmd::MapCreate.into(), 0, 1 << 20), e(Errno::EPERM));
    assert_eq!(t.call(Cmd::MapCreate, &array_attr()), e(Errno::EPERM));
    assert_eq!(t.call(Cmd::ProgLoad, &BpfAttr::ZERO), e(Errno::EPERM));
    assert_eq!(t.call(Cmd::BtfLoad, &BpfAttr::ZERO), e(Errno::EPERM));
    assert_eq!(t.call(Cmd::EnableStats, &BpfAttr::ZERO), e(Errno::EPERM));
    // Other commands are still reachable (their own checks apply).
    assert_eq!(t.call(Cmd::MapFreeze, &BpfAttr::ZERO), e(Errno::EINVAL));
    // CAP_BPF alone is enough to create a map, CAP_SYS_ADMIN alone too.
    t.h.set_cap(Capability::Bpf, true);
    assert!(t.call(Cmd::MapCreate, &array_attr()) >= 3);
    t.h.set_cap(Capability::Bpf, false);
    t.h.set_cap(Capability::SysAdmin, true);
    assert!(t.call(Cmd::MapCreate, &array_attr()) >= 3);
    t.h.set_cap(Capability::SysAdmin, false);
    t.h.set_cap(Capability::Perfmon, true);
    assert_eq!(t.call(Cmd::MapCreate, &array_attr()), e(Errno::EPERM));
}
