//! `prog_array` owner types (Linux 6.1 `__bpf_prog_map_compatible`): the first program type
//! that uses a `prog_array` (loaded with a reference to it) or is stored in it owns the
//! array; programs of other types are `EINVAL` at `BPF_MAP_UPDATE_ELEM` and at
//! `BPF_PROG_LOAD` (`bpf_check_tail_call`). (Next to the link tests: one attach rule more.)

use syscall_abi::bpf::{MapType, ProgType, BPF_PSEUDO_MAP_FD};
use syscall_abi::Errno;

use super::link::{i, load, load_ex, ret};
use super::{e, u32b, T};
use crate::vm::insn::RawInsn;

/// `r1 = map; r0 = 0; exit`: a program that uses the map `fd`.
fn uses(fd: u32) -> Vec<RawInsn> {
    vec![i(0x18, 1, BPF_PSEUDO_MAP_FD, 0, fd as i32), i(0, 0, 0, 0, 0), i(0xb7, 0, 0, 0, 0), i(0x95, 0, 0, 0, 0)]
}

#[test]
fn first_stored_program_owns_the_array() {
    let t = T::new();
    let arr = t.map(MapType::ProgArray, 4, 4, 4, 0);
    let k1 = load(&t, ProgType::Kprobe, &ret(0));
    let k2 = load(&t, ProgType::Kprobe, &ret(1));
    let tp = load(&t, ProgType::Tracepoint, &ret(0));
    // The array's own checks come first.
    assert_eq!(t.update(arr, &u32b(9), &u32b(tp), 0), e(Errno::E2BIG));
    assert_eq!(t.update(arr, &u32b(0), &u32b(77), 0), e(Errno::EBADF));
    assert_eq!(t.update(arr, &u32b(0), &u32b(arr), 0), e(Errno::EINVAL));
    // None of these set an owner: the tracepoint program could still own it, but a kprobe
    // program is stored first.
    assert_eq!(t.update(arr, &u32b(0), &u32b(k1), 0), 0);
    assert_eq!(t.update(arr, &u32b(1), &u32b(tp), 0), e(Errno::EINVAL));
    assert_eq!(t.update(arr, &u32b(1), &u32b(k2), 0), 0);
    // Emptying the array does not reset the owner.
    assert_eq!(t.delete(arr, &u32b(0)), 0);
    assert_eq!(t.delete(arr, &u32b(1)), 0);
    assert_eq!(t.update(arr, &u32b(2), &u32b(tp), 0), e(Errno::EINVAL));
    // Loading a program of another type that uses the array: EINVAL; of the owner type: fine.
    assert_eq!(load_ex(&t, ProgType::Tracepoint, 0, &uses(arr)), e(Errno::EINVAL));
    assert!(load_ex(&t, ProgType::Kprobe, 0, &uses(arr)) >= 3);
    t.assert_all_freed();
}

#[test]
fn first_loaded_user_owns_the_array() {
    let t = T::new();
    let arr = t.map(MapType::ProgArray, 4, 4, 4, 0);
    let user = load(&t, ProgType::Tracepoint, &uses(arr));
    let kprobe = load(&t, ProgType::Kprobe, &ret(0));
    let tp = load(&t, ProgType::Tracepoint, &ret(0));
    assert_eq!(t.update(arr, &u32b(0), &u32b(kprobe), 0), e(Errno::EINVAL));
    assert_eq!(t.update(arr, &u32b(0), &u32b(tp), 0), 0);
    assert_eq!(t.update(arr, &u32b(1), &u32b(user), 0), 0);
    // Other map types have no owner.
    let plain = t.map(MapType::Array, 4, 8, 1, 0);
    assert!(load_ex(&t, ProgType::Kprobe, 0, &uses(plain)) >= 3);
    assert!(load_ex(&t, ProgType::Tracepoint, 0, &uses(plain)) >= 3);
}
