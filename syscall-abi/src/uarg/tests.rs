//! Copy-in/copy-out rules, with the exact errno of each failure.

extern crate std;

use std::vec::Vec;

use super::*;
use crate::bpf::{BpfAttr, BpfMapInfo, Cmd, MapCreateAttr};
use crate::Errno;

const PAGE: usize = 4096;

fn attr_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 + 1).collect()
}

#[test]
fn shorter_input_is_zero_extended() {
    let user = attr_bytes(20);
    let a: MapCreateAttr = copy_in_slice(&user, PAGE).unwrap();
    assert_eq!(&a.as_bytes()[..20], &user[..]);
    assert!(a.as_bytes()[20..].iter().all(|&b| b == 0));
    let empty: BpfAttr = copy_in_slice(&[], PAGE).unwrap();
    assert_eq!(empty, BpfAttr::ZERO);
}

#[test]
fn longer_input_with_zero_tail_is_accepted() {
    let mut user = attr_bytes(144);
    user.resize(PAGE, 0);
    let a: BpfAttr = copy_in_slice(&user, PAGE).unwrap();
    assert_eq!(a.as_bytes(), &user[..144]);
}

#[test]
fn non_zero_tail_is_e2big() {
    let mut user = vec_zero(300);
    user[299] = 1;
    let e = copy_in_slice::<BpfAttr>(&user, PAGE).unwrap_err();
    assert_eq!(e.errno, Errno::E2BIG);
    // The first byte past the struct counts too.
    let mut user = vec_zero(145);
    user[144] = 0x80;
    assert_eq!(copy_in_slice::<BpfAttr>(&user, PAGE).unwrap_err().errno, Errno::E2BIG);
}

#[test]
fn larger_than_a_page_is_e2big_even_if_zero() {
    let user = vec_zero(PAGE + 1);
    assert_eq!(copy_in_slice::<BpfAttr>(&user, PAGE).unwrap_err().errno, Errno::E2BIG);
    // copy_struct_from_user has no page limit.
    let mut src: &[u8] = &user;
    assert!(copy_struct_from_user::<BpfAttr, _>(&mut src, PAGE + 1).is_ok());
}

fn vec_zero(n: usize) -> Vec<u8> {
    std::vec![0; n]
}

#[test]
fn faults_are_efault_and_tail_is_read_in_chunks() {
    // A user object of 1000 bytes of which only the first 200 are mapped.
    let mapped = vec_zero(200);
    let mut reads = Vec::new();
    let mut src = |off: usize, dst: &mut [u8]| -> crate::Result<()> {
        reads.push((off, dst.len()));
        match mapped.get(off..off + dst.len()) {
            Some(b) => {
                dst.copy_from_slice(b);
                Ok(())
            }
            None => err(Errno::EFAULT, "unmapped"),
        }
    };
    assert_eq!(copy_in::<BpfAttr, _>(&mut src, 1000, PAGE).unwrap_err().errno, Errno::EFAULT);
    assert!(reads.iter().all(|&(_, n)| n <= TAIL_CHUNK), "tail read in chunks: {reads:?}");
    assert_eq!(reads[0], (144, TAIL_CHUNK), "the tail is checked before the copy");

    // Fault in the struct part itself.
    let mut bad = |_: usize, _: &mut [u8]| -> crate::Result<()> { err(Errno::EFAULT, "unmapped") };
    assert_eq!(copy_in::<BpfAttr, _>(&mut bad, 100, PAGE).unwrap_err().errno, Errno::EFAULT);
    // A slice source faults beyond its end.
    let short = [0u8; 10];
    let mut s: &[u8] = &short;
    assert_eq!(copy_in::<BpfAttr, _>(&mut s, 20, PAGE).unwrap_err().errno, Errno::EFAULT);
}

#[test]
fn only_the_needed_bytes_are_read() {
    let mut reads = Vec::new();
    let mut src = |off: usize, dst: &mut [u8]| -> crate::Result<()> {
        reads.push((off, dst.len()));
        dst.fill(0);
        Ok(())
    };
    let _: BpfAttr = copy_in(&mut src, 72, PAGE).unwrap();
    assert_eq!(reads, [(0, 72)]);
}

#[test]
fn unused_tail_of_a_command_is_einval() {
    let mut a = BpfAttr::ZERO;
    a.as_bytes_mut()[71] = 1; // last byte of map_extra
    assert!(a.check_unused(Cmd::MapCreate).is_ok());
    assert_eq!(a.check_unused(Cmd::MapFreeze).unwrap_err().errno, Errno::EINVAL);
    a.as_bytes_mut()[72] = 1;
    assert_eq!(a.check_unused(Cmd::MapCreate).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(check_unused_tail(&[0, 0, 1], 2).unwrap_err().errno, Errno::EINVAL);
    assert!(check_unused_tail(&[1, 1, 0], 2).is_ok());
    assert!(check_unused_tail(&[1, 1], 5).is_ok());
}

#[test]
fn copy_out_never_exceeds_the_user_size() {
    let mut info = BpfMapInfo::ZERO;
    info.type_ = 2;
    info.map_extra = 7;
    assert_eq!(copy_out(&info, 4), &2u32.to_ne_bytes());
    assert_eq!(copy_out(&info, 0).len(), 0);
    assert_eq!(copy_out(&info, 88).len(), 88);
    assert_eq!(copy_out(&info, 4096).len(), 88, "never more than the struct");
}

#[test]
fn check_zeroed_reports_position_independent_result() {
    let mut bytes = vec_zero(1000);
    let mut s: &[u8] = &bytes;
    assert_eq!(check_zeroed(&mut s, 10, 990), Ok(true));
    bytes[999] = 1;
    let mut s: &[u8] = &bytes;
    assert_eq!(check_zeroed(&mut s, 10, 990), Ok(false));
    assert_eq!(check_zeroed(&mut s, 10, 989), Ok(true));
    assert_eq!(check_zeroed(&mut s, 10, 991).unwrap_err().errno, Errno::EFAULT);
}
