//! Names, aliases and syscall return values of errnos.

extern crate std;

use std::format;

use super::*;

#[test]
fn names_cover_every_table_entry() {
    for e in Errno::UAPI.iter().chain(Errno::KERNEL_INTERNAL) {
        let v = i32::try_from(e.value).expect("errno fits in i32");
        assert_eq!(Errno(v).name(), Some(e.c));
    }
    assert_eq!(Errno::UAPI.len(), 131, "1..=133 without the two unused numbers 41 and 58");
    assert_eq!(Errno(41).name(), None);
    assert_eq!(Errno(0).name(), None);
    assert_eq!(Errno(525).name(), None);
}

#[test]
fn aliases_and_formatting() {
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    assert_eq!(Errno::EAGAIN.name(), Some("EAGAIN"));
    assert_eq!(Errno::E2BIG.to_syscall_ret(), -7);
    assert_eq!(Errno::ENOTSUPP.to_syscall_ret(), -524);
    assert_eq!(format!("{:?}", Errno::EINVAL), "EINVAL");
    assert_eq!(format!("{:?}", Errno(9999)), "Errno(9999)");
    assert_eq!(format!("{:?}", Error::new(Errno::EFAULT, "bad pointer")), "EFAULT: bad pointer");
    assert_eq!(err::<()>(Errno::EPERM, "x").unwrap_err().errno, Errno::EPERM);
}
