//! `perf_copy_attr` rules with exact errnos.

extern crate std;

use std::vec::Vec;

use super::*;
use crate::abi::Pod;
use crate::perf::{
    PERF_ATTR_SIZE_VER5, PERF_FORMAT_LOST, PERF_FORMAT_MAX, PERF_SAMPLE_BRANCH_ANY, PERF_SAMPLE_BRANCH_USER,
    PERF_SAMPLE_IP, PERF_SAMPLE_WEIGHT,
};

const PAGE: usize = 4096;

fn user_attr(size_field: u32, len: usize) -> Vec<u8> {
    let mut a = PerfEventAttr::ZERO;
    a.type_ = 1;
    a.config = 10;
    a.sample_period = 1;
    a.size = size_field;
    let mut v: Vec<u8> = a.as_bytes().to_vec();
    v.resize(len, 0);
    v
}

#[test]
fn size_zero_means_ver0() {
    let user = user_attr(0, 64);
    let mut src: &[u8] = &user;
    let a = copy_attr(&mut src, PAGE).unwrap();
    assert_eq!(a.size, PERF_ATTR_SIZE_VER0);
    assert_eq!((a.type_, a.config), (1, 10));
}

#[test]
fn short_struct_is_zero_extended_and_size_kept() {
    let mut user = user_attr(PERF_ATTR_SIZE_VER5, 112);
    user[120 - 8..].fill(0xaa); // beyond the user's size: must not be read into the struct
    user.truncate(112);
    user.resize(128, 0xaa);
    let mut src: &[u8] = &user;
    let a = copy_attr(&mut src, PAGE).unwrap();
    assert_eq!(a.size, 112);
    assert_eq!((a.aux_sample_size, a.sig_data), (0, 0));
}

#[test]
fn bad_sizes_are_e2big() {
    for (size, len) in [(63u32, 64usize), (1, 64), (4097, 4097)] {
        let user = user_attr(size, len);
        let mut src: &[u8] = &user;
        assert_eq!(copy_attr(&mut src, PAGE).unwrap_err().errno, Errno::E2BIG, "size {size}");
    }
    // Larger than the kernel's struct with a non-zero tail.
    let mut user = user_attr(200, 200);
    user[150] = 1;
    let mut src: &[u8] = &user;
    assert_eq!(copy_attr(&mut src, PAGE).unwrap_err().errno, Errno::E2BIG);
    // ... with a zero tail it is accepted and `size` records the user's size.
    let user = user_attr(200, 200);
    let mut src: &[u8] = &user;
    assert_eq!(copy_attr(&mut src, PAGE).unwrap().size, 200);
    assert_eq!(size_writeback(), 128u32.to_ne_bytes());
    assert_eq!(PERF_ATTR_SIZE_OFFSET, 4);
}

#[test]
fn unreadable_size_is_efault() {
    let user = [0u8; 6];
    let mut src: &[u8] = &user;
    assert_eq!(copy_attr(&mut src, PAGE).unwrap_err().errno, Errno::EFAULT);
    // Size readable, struct not.
    let mut user = user_attr(128, 8);
    user.truncate(8);
    let mut src: &[u8] = &user;
    assert_eq!(copy_attr(&mut src, PAGE).unwrap_err().errno, Errno::EFAULT);
}

#[test]
fn check_attr_rejects_what_linux_rejects() {
    let ok = PerfEventAttr { sample_type: PERF_SAMPLE_IP, read_format: PERF_FORMAT_LOST, ..PerfEventAttr::ZERO };
    assert!(check_attr(&mut ok.clone()).is_ok());
    type Case = (&'static str, fn(&mut PerfEventAttr));
    let cases: [Case; 10] = [
        ("reserved_1", |a| a.set_reserved_1(1)),
        ("reserved_2", |a| a.reserved_2 = 1),
        ("reserved_3", |a| a.reserved_3 = 1),
        ("sample_type", |a| a.sample_type = PERF_SAMPLE_MAX),
        ("read_format", |a| a.read_format = PERF_FORMAT_MAX),
        ("branch bits", |a| {
            a.sample_type = PERF_SAMPLE_BRANCH_STACK;
            a.branch_sample_type = PERF_SAMPLE_BRANCH_MAX;
        }),
        ("branch plm only", |a| {
            a.sample_type = PERF_SAMPLE_BRANCH_STACK;
            a.branch_sample_type = PERF_SAMPLE_BRANCH_USER;
        }),
        ("stack_user", |a| {
            a.sample_type = PERF_SAMPLE_STACK_USER;
            a.sample_stack_user = 12;
        }),
        ("weight", |a| a.sample_type = PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT),
        ("sigtrap", |a| a.set_sigtrap(1)),
    ];
    for (name, f) in cases {
        let mut a = ok;
        f(&mut a);
        assert_eq!(check_attr(&mut a).unwrap_err().errno, Errno::EINVAL, "{name}");
    }
    let mut a = ok;
    a.set_inherit_thread(1);
    assert_eq!(check_attr(&mut a).unwrap_err().errno, Errno::EINVAL);
    a.set_inherit(1);
    assert!(check_attr(&mut a).is_ok());
    let mut a = ok;
    a.set_remove_on_exec(1);
    a.set_sigtrap(1);
    assert!(check_attr(&mut a).is_ok());
    a.set_enable_on_exec(1);
    assert_eq!(check_attr(&mut a).unwrap_err().errno, Errno::EINVAL);
    let mut a = ok;
    a.sample_type = PERF_SAMPLE_STACK_USER;
    a.sample_stack_user = 65528;
    assert!(check_attr(&mut a).is_ok());
    a.sample_stack_user = 65535;
    assert_eq!(check_attr(&mut a).unwrap_err().errno, Errno::EINVAL);
}

#[test]
fn branch_privilege_is_filled_from_exclude_bits() {
    let mut a = PerfEventAttr {
        sample_type: PERF_SAMPLE_BRANCH_STACK,
        branch_sample_type: PERF_SAMPLE_BRANCH_ANY,
        ..PerfEventAttr::ZERO
    };
    a.set_exclude_kernel(1);
    a.set_exclude_hv(1);
    check_attr(&mut a).unwrap();
    assert_eq!(a.branch_sample_type, PERF_SAMPLE_BRANCH_ANY | PERF_SAMPLE_BRANCH_USER);
}
