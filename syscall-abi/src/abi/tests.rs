//! Unit tests of the macros: generated accessors, zero values, prefix copies, decoders.

use super::*;
use crate::bpf::{AttachType, BpfInsn, Cmd, HelperId, LinkType, MapType, ProgType, BPF_ALU64, BPF_MOV, BPF_X};
use crate::perf::{PerfEventAttr, PerfSwId, PerfTypeId};
use crate::Errno;

#[test]
fn insn_register_nibbles() {
    let mut i = BpfInsn::new(BPF_ALU64 | BPF_MOV | BPF_X, 3, 7, -2, 0x1234_5678);
    assert_eq!((i.dst_reg(), i.src_reg()), (3, 7));
    assert_eq!(i.regs, 0x73, "dst_reg is the low nibble on little-endian targets");
    i.set_dst_reg(0x1f); // truncated to 4 bits like a C bitfield
    assert_eq!((i.dst_reg(), i.src_reg()), (0xf, 7));
    let bytes = i.to_le_bytes();
    assert_eq!(bytes, [0xbf, 0x7f, 0xfe, 0xff, 0x78, 0x56, 0x34, 0x12]);
    assert_eq!(BpfInsn::from_le_bytes(bytes), i);
    assert_eq!(i.as_bytes(), &bytes, "in-memory layout is the wire layout");
}

#[test]
fn perf_attr_flag_accessors_touch_only_their_bits() {
    let mut a = PerfEventAttr::ZERO;
    a.set_disabled(1);
    assert_eq!(a.flags, 1);
    a.set_precise_ip(3);
    assert_eq!(a.flags, 1 | (3 << 15));
    a.set_sigtrap(1);
    assert_eq!(a.flags, 1 | (3 << 15) | (1 << 37));
    a.set_precise_ip(0);
    assert_eq!(a.flags, 1 | (1 << 37));
    assert_eq!((a.disabled(), a.sigtrap(), a.precise_ip(), a.inherit()), (1, 1, 0, 0));
    a.set_reserved_1(u64::MAX);
    assert_eq!(a.reserved_1(), (1 << 26) - 1);
    assert_eq!(a.flags >> 38, (1 << 26) - 1);
}

#[test]
fn zero_default_and_prefix_copies() {
    assert_eq!(PerfEventAttr::default(), PerfEventAttr::ZERO);
    assert!(PerfEventAttr::ZERO.as_bytes().iter().all(|&b| b == 0));
    // Shorter input is zero-extended, longer input truncated.
    let i = BpfInsn::from_prefix(&[0x95, 0x21]);
    assert_eq!((i.code, i.dst_reg(), i.src_reg(), i.off, i.imm), (0x95, 1, 2, 0, 0));
    let j = BpfInsn::from_prefix(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(j.to_le_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
    // cast: a view of the leading bytes.
    let words: [u32; 2] = j.cast();
    assert_eq!(words, [u32::from_le_bytes([1, 2, 3, 4]), u32::from_le_bytes([5, 6, 7, 8])]);
    let mut b = [0u8; 3];
    copy_prefix(&mut b, &[9, 9, 9, 9]);
    assert_eq!(b, [9, 9, 9]);
}

#[test]
fn decoders_accept_known_values_only() {
    assert_eq!(MapType::try_from(1u32), Ok(MapType::Hash));
    assert_eq!(MapType::try_from(31u32), Ok(MapType::UserRingbuf));
    assert_eq!(MapType::try_from(32u32), Err(Errno::EINVAL));
    assert_eq!(Cmd::try_from(5u32), Ok(Cmd::ProgLoad));
    assert_eq!(Cmd::try_from(35u32), Ok(Cmd::ProgBindMap));
    assert_eq!(Cmd::try_from(36u32), Err(Errno::EINVAL));
    assert_eq!(Cmd::try_from(u32::MAX), Err(Errno::EINVAL));
    assert_eq!(ProgType::try_from(7u32), Ok(ProgType::PerfEvent));
    assert_eq!(ProgType::try_from(32u32), Err(Errno::EINVAL));
    assert_eq!(AttachType::try_from(41u32), Ok(AttachType::PerfEvent));
    assert_eq!(AttachType::try_from(44u32), Err(Errno::EINVAL));
    assert_eq!(LinkType::try_from(9u32), Ok(LinkType::StructOps));
    assert_eq!(LinkType::try_from(10u32), Err(Errno::EINVAL));
    assert_eq!(HelperId::try_from(1u32), Ok(HelperId::MapLookupElem));
    assert_eq!(HelperId::try_from(6u32), Ok(HelperId::TracePrintk));
    assert_eq!(HelperId::try_from(209u32), Ok(HelperId::UserRingbufDrain));
    assert_eq!(HelperId::try_from(210u32), Err(Errno::EINVAL));
    assert_eq!(PerfTypeId::try_from(6u32), Err(Errno::EINVAL));
    assert_eq!(PerfSwId::try_from(10u64), Ok(PerfSwId::BpfOutput));
    assert_eq!(PerfSwId::try_from(1u64 << 32), Err(Errno::EINVAL), "no truncation of wide configs");
}

#[test]
fn decoders_round_trip_every_variant() {
    for &c in Cmd::ALL {
        assert_eq!(Cmd::try_from(u32::from(c)), Ok(c));
    }
    for &h in HelperId::ALL {
        assert_eq!(HelperId::try_from(h as u32), Ok(h));
    }
    assert_eq!(HelperId::ALL.len(), 210);
    assert_eq!(Cmd::ALL.len(), 36);
    assert_eq!(Cmd::ProgTestRun.c_name(), "BPF_PROG_TEST_RUN");
    assert_eq!(HelperId::KtimeGetNs.c_name(), "BPF_FUNC_ktime_get_ns");
}

#[test]
fn layouts_record_designators() {
    let l = BpfInsn::LAYOUT;
    assert_eq!((l.c, l.whole, l.size, l.align), ("struct bpf_insn", true, 8, 4));
    let regs = l.fields[1];
    assert!(regs.is_unnamed());
    assert_eq!(regs.bits.len(), 2);
    assert_eq!((regs.bits[1].c, regs.bits[1].shift, regs.bits[1].width), ("src_reg", 4, 4));
    let ld = crate::bpf::MapElemAttr::LAYOUT.fields[3];
    assert_eq!((ld.c, ld.alts, ld.offset), ("value", &["next_key"][..], 16));
    let info = crate::bpf::BpfLinkInfo::LAYOUT.fields[4];
    assert_eq!((info.kind, info.size, info.alts.len()), (FieldKind::Union, 32, 5));
}
