use super::*;

#[test]
fn sizes() {
    assert_eq!(core::mem::size_of::<Stat>(), 144);
    assert_eq!(core::mem::size_of::<Statx>(), 256);
}
