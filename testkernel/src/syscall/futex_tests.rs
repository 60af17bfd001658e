//! Host tests of `futex(2)`: errno tables and blocking with host threads.

use alloc::sync::Arc;
use std::thread::JoinHandle;

use super::*;
use crate::user::{write_val, TestMem};

const BASE: u64 = 0x10_000;
const A: u64 = BASE + 0x100;
const B: u64 = BASE + 0x200;
const TS: u64 = BASE + 0x300;
const SPACE: u64 = 7;
const PRIV: i32 = FUTEX_PRIVATE_FLAG;

struct Env {
    table: Arc<FutexTable>,
    mem: Arc<TestMem>,
}

fn env() -> Env {
    Env { table: Arc::new(FutexTable::new()), mem: Arc::new(TestMem::new(BASE, 0x1000)) }
}

impl Env {
    fn futex(&self, uaddr: u64, op: i32, val: u32, utime: u64, uaddr2: u64, val3: u32) -> KResult<u64> {
        sys_futex(&self.table, SPACE, &*self.mem, uaddr, op, val, utime, uaddr2, val3)
    }

    /// Starts a thread blocked in `FUTEX_WAIT_BITSET` on `addr` and waits until it is queued.
    fn spawn_waiter(&self, addr: u64, val: u32, bitset: u32) -> JoinHandle<KResult<u64>> {
        let key = FutexKey::new(SPACE, addr).unwrap();
        let before = self.table.waiters(key);
        let (table, mem) = (self.table.clone(), self.mem.clone());
        let h = std::thread::spawn(move || {
            sys_futex(&table, SPACE, &*mem, addr, FUTEX_WAIT_BITSET | PRIV, val, 0, 0, bitset)
        });
        while self.table.waiters(key) == before {
            std::thread::yield_now();
        }
        h
    }

    fn waiters(&self, addr: u64) -> usize {
        self.table.waiters(FutexKey::new(SPACE, addr).unwrap())
    }

    fn set_ts(&self, sec: i64, nsec: i64) {
        write_val(&*self.mem, TS, &[sec, nsec]).unwrap();
    }
}

#[test]
fn wait_errors() {
    let e = env();
    write_val(&*e.mem, A, &5u32).unwrap();
    // (uaddr, op, val, utime, val3) -> errno
    let cases: &[(u64, i32, u32, u64, u32, Errno)] = &[
        (A, FUTEX_WAIT | PRIV, 4, 0, 0, Errno::EAGAIN),
        (A, FUTEX_WAIT, 4, 0, 0, Errno::EAGAIN),
        (A + 2, FUTEX_WAIT | PRIV, 5, 0, 0, Errno::EINVAL),
        (0x20, FUTEX_WAIT | PRIV, 0, 0, 0, Errno::EFAULT),
        ((1 << 47) - 4096, FUTEX_WAIT | PRIV, 0, 0, 0, Errno::EFAULT),
        (A, FUTEX_WAIT_BITSET | PRIV, 5, 0, 0, Errno::EINVAL),
        (A, FUTEX_WAIT | PRIV, 5, 0x30, 0, Errno::EFAULT),
        (A, FUTEX_WAIT | PRIV | FUTEX_CLOCK_REALTIME, 5, 0, 0, Errno::ENOSYS),
        (A, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, Errno::ENOSYS),
        (A, FUTEX_LOCK_PI | PRIV, 0, 0, 0, Errno::ENOSYS),
        (A, 7, 0, 0, 0, Errno::ENOSYS),
        (A, 2, 0, 0, 0, Errno::ENOSYS),
        (A, 14, 0, 0, 0, Errno::ENOSYS),
        (A, FUTEX_WAKE_BITSET | PRIV, 1, 0, 0, Errno::EINVAL),
        (A + 1, FUTEX_WAKE | PRIV, 1, 0, 0, Errno::EINVAL),
    ];
    for &(uaddr, op, val, utime, val3, errno) in cases {
        assert_eq!(e.futex(uaddr, op, val, utime, 0, val3), Err(errno), "uaddr {uaddr:#x} op {op} val {val}");
    }
}

#[test]
fn bad_timespecs_are_einval_before_anything_else() {
    let e = env();
    for (sec, nsec) in [(0, 1_000_000_000), (0, -1), (-1, 0)] {
        e.set_ts(sec, nsec);
        // Even with an unaligned address: the timeout is checked at syscall entry.
        assert_eq!(e.futex(A + 1, FUTEX_WAIT | PRIV, 0, TS, 0, 0), Err(Errno::EINVAL), "{sec} {nsec}");
        assert_eq!(e.futex(A, FUTEX_WAIT_BITSET | PRIV, 0, TS, 0, !0), Err(Errno::EINVAL));
    }
    // A timeout pointer is ignored by the operations without a timeout (it is val2 there).
    assert_eq!(e.futex(A, FUTEX_WAKE | PRIV, 1, 0x30, 0, 0), Ok(0));
}

#[test]
fn wake_on_private_unmapped_word_is_zero_but_shared_is_efault() {
    let e = env();
    assert_eq!(e.futex(0x40, FUTEX_WAKE | PRIV, 1, 0, 0, 0), Ok(0));
    assert_eq!(e.futex(0x40, FUTEX_WAKE, 1, 0, 0, 0), Err(Errno::EFAULT));
    assert_eq!(e.futex(A, FUTEX_WAKE, 1, 0, 0, 0), Ok(0));
}

#[test]
fn relative_timeout_expires() {
    let e = env();
    e.set_ts(0, 20_000_000);
    let t0 = crate::time::monotonic_ns();
    assert_eq!(e.futex(A, FUTEX_WAIT | PRIV, 0, TS, 0, 0), Err(Errno::ETIMEDOUT));
    assert!(crate::time::monotonic_ns() - t0 >= 20_000_000);
    assert_eq!(e.waiters(A), 0, "a timed-out waiter leaves the queue");
}

#[test]
fn absolute_timeouts_monotonic_and_realtime() {
    let e = env();
    // Monotonic deadline 30 ms from now.
    let deadline = crate::time::monotonic_ns() + 30_000_000;
    e.set_ts(i64::try_from(deadline / 1_000_000_000).unwrap(), i64::try_from(deadline % 1_000_000_000).unwrap());
    assert_eq!(e.futex(A, FUTEX_WAIT_BITSET | PRIV, 0, TS, 0, !0), Err(Errno::ETIMEDOUT));
    assert!(crate::time::monotonic_ns() >= deadline);
    // A realtime deadline in the past (1970) expires at once; as a monotonic deadline it
    // would be 1 s after boot, also past — so check a future realtime one too.
    e.set_ts(1, 0);
    assert_eq!(e.futex(A, FUTEX_WAIT_BITSET | PRIV | FUTEX_CLOCK_REALTIME, 0, TS, 0, !0), Err(Errno::ETIMEDOUT));
    let real = crate::time::realtime_ns() + 20_000_000;
    e.set_ts(i64::try_from(real / 1_000_000_000).unwrap(), i64::try_from(real % 1_000_000_000).unwrap());
    let t0 = crate::time::monotonic_ns();
    assert_eq!(e.futex(A, FUTEX_WAIT_BITSET | PRIV | FUTEX_CLOCK_REALTIME, 0, TS, 0, !0), Err(Errno::ETIMEDOUT));
    let waited = crate::time::monotonic_ns() - t0;
    assert!((10_000_000..5_000_000_000).contains(&waited), "waited {waited} ns");
}

#[test]
fn wake_wakes_blocked_threads_in_order_and_counts() {
    let e = env();
    let w1 = e.spawn_waiter(A, 0, !0);
    let w2 = e.spawn_waiter(A, 0, !0);
    let w3 = e.spawn_waiter(A, 0, !0);
    assert_eq!(e.waiters(A), 3);
    assert_eq!(e.futex(A, FUTEX_WAKE | PRIV, 2, 0, 0, 0), Ok(2));
    assert_eq!(w1.join().unwrap(), Ok(0));
    assert_eq!(w2.join().unwrap(), Ok(0));
    assert_eq!(e.waiters(A), 1);
    // nr_wake 0 still wakes one (Linux's loop increments before comparing).
    assert_eq!(e.futex(A, FUTEX_WAKE | PRIV, 0, 0, 0, 0), Ok(1));
    assert_eq!(w3.join().unwrap(), Ok(0));
    assert_eq!(e.futex(A, FUTEX_WAKE | PRIV, 10, 0, 0, 0), Ok(0));
}

#[test]
fn bitsets_select_waiters() {
    let e = env();
    let w1 = e.spawn_waiter(A, 0, 0b01);
    let w2 = e.spawn_waiter(A, 0, 0b10);
    assert_eq!(e.futex(A, FUTEX_WAKE_BITSET | PRIV, 10, 0, 0, 0b100), Ok(0));
    assert_eq!(e.futex(A, FUTEX_WAKE_BITSET | PRIV, 10, 0, 0, 0b10), Ok(1));
    assert_eq!(w2.join().unwrap(), Ok(0));
    assert_eq!(e.waiters(A), 1);
    // Plain FUTEX_WAKE matches any bitset.
    assert_eq!(e.futex(A, FUTEX_WAKE | PRIV, 10, 0, 0, 0), Ok(1));
    assert_eq!(w1.join().unwrap(), Ok(0));
}

#[test]
fn other_address_spaces_do_not_meet() {
    let e = env();
    let w = e.spawn_waiter(A, 0, !0);
    assert_eq!(sys_futex(&e.table, SPACE + 1, &*e.mem, A, FUTEX_WAKE | PRIV, 1, 0, 0, 0), Ok(0));
    assert_eq!(e.futex(A, FUTEX_WAKE | PRIV, 1, 0, 0, 0), Ok(1));
    assert_eq!(w.join().unwrap(), Ok(0));
}

#[test]
fn cmp_requeue_moves_waiters() {
    let e = env();
    write_val(&*e.mem, A, &3u32).unwrap();
    let ws: Vec<_> = (0..4).map(|_| e.spawn_waiter(A, 3, !0)).collect();
    assert_eq!(e.futex(A, FUTEX_CMP_REQUEUE | PRIV, 1, 2, B, 4), Err(Errno::EAGAIN));
    assert_eq!(e.futex(A, FUTEX_CMP_REQUEUE | PRIV, u32::MAX, 2, B, 3), Err(Errno::EINVAL));
    assert_eq!(e.futex(A, FUTEX_CMP_REQUEUE | PRIV, 1, u64::from(u32::MAX), B, 3), Err(Errno::EINVAL));
    assert_eq!(e.futex(A + 2, FUTEX_CMP_REQUEUE | PRIV, 1, 2, B, 3), Err(Errno::EINVAL));
    assert_eq!(e.futex(A, FUTEX_CMP_REQUEUE | PRIV, 1, 2, B + 1, 3), Err(Errno::EINVAL));
    // Wake 1, move 2: returns 3; one stays on A.
    assert_eq!(e.futex(A, FUTEX_CMP_REQUEUE | PRIV, 1, 2, B, 3), Ok(3));
    assert_eq!((e.waiters(A), e.waiters(B)), (1, 2));
    // Moved waiters answer wakes on B only; plain REQUEUE ignores val3.
    assert_eq!(e.futex(A, FUTEX_REQUEUE | PRIV, 0, 1, B, 12345), Ok(1));
    assert_eq!((e.waiters(A), e.waiters(B)), (0, 3));
    assert_eq!(e.futex(B, FUTEX_WAKE | PRIV, 10, 0, 0, 0), Ok(3));
    for w in ws {
        assert_eq!(w.join().unwrap(), Ok(0));
    }
    // Zero counts: nothing happens.
    assert_eq!(e.futex(A, FUTEX_REQUEUE | PRIV, 0, 0, B, 0), Ok(0));
}

#[test]
fn requeued_waiter_can_time_out_from_its_new_queue() {
    let e = env();
    let table = e.table.clone();
    let mem = e.mem.clone();
    e.set_ts(0, 200_000_000);
    let h = std::thread::spawn(move || sys_futex(&table, SPACE, &*mem, A, FUTEX_WAIT | PRIV, 0, TS, 0, 0));
    while e.waiters(A) == 0 {
        std::thread::yield_now();
    }
    assert_eq!(e.futex(A, FUTEX_REQUEUE | PRIV, 0, 1, B, 0), Ok(1));
    assert_eq!(h.join().unwrap(), Err(Errno::ETIMEDOUT));
    assert_eq!((e.waiters(A), e.waiters(B)), (0, 0));
}

#[test]
fn wake_op_decodes_applies_and_compares() {
    let op = crate::proc::futex::EncodedOp::decode((1 << 28) | (4 << 24) | (0xfff << 12) | 0x801);
    assert_eq!(op.op, Some(crate::proc::futex::WakeOp::Add));
    assert_eq!((op.cmp, op.oparg, op.cmparg), (4, u32::MAX, -2047));
    let shifted = crate::proc::futex::EncodedOp::decode((8 << 28) | (2 << 28) | (5 << 12));
    assert_eq!((shifted.op, shifted.oparg), (Some(crate::proc::futex::WakeOp::Or), 32));
    // Out-of-range shift counts are masked (Linux warns and masks).
    assert_eq!(crate::proc::futex::EncodedOp::decode((8 << 28) | (33 << 12)).oparg, 2);

    let e = env();
    write_val(&*e.mem, B, &10u32).unwrap();
    let wa = e.spawn_waiter(A, 0, !0);
    let wb = e.spawn_waiter(B, 10, !0);
    // ADD 5 to *B, wake A; wake B if old > 20 (false).
    let add5_gt20 = (1 << 28) | (4 << 24) | (5 << 12) | 20;
    assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, B, add5_gt20), Ok(1));
    assert_eq!(wa.join().unwrap(), Ok(0));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, B), Ok(15));
    // SET 0, wake B if old == 15 (true).
    let set0_eq15 = 15;
    assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, B, set0_eq15), Ok(1));
    assert_eq!(wb.join().unwrap(), Ok(0));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, B), Ok(0));
    // XOR, OR, ANDN.
    for (op, arg, want) in [(4, 0b110, 0b110), (2, 0b001, 0b111), (3, 0b010, 0b101)] {
        assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, B, (op << 28) | (arg << 12)), Ok(0));
        assert_eq!(crate::user::read_val::<u32>(&*e.mem, B), Ok(want));
    }
    // Unknown op: ENOSYS, word untouched; unknown cmp: ENOSYS after the op (Linux order).
    assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, B, (5 << 28) | (1 << 12)), Err(Errno::ENOSYS));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, B), Ok(0b101));
    assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, B, (6 << 24) | (7 << 12)), Err(Errno::ENOSYS));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, B), Ok(7));
    // Unwritable second word: EFAULT; unaligned: EINVAL.
    assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, 0x40, 0), Err(Errno::EFAULT));
    assert_eq!(e.futex(A, FUTEX_WAKE_OP | PRIV, 1, 1, B + 2, 0), Err(Errno::EINVAL));
}

#[test]
fn clear_child_tid_zeroes_and_wakes() {
    let e = env();
    write_val(&*e.mem, A, &1234u32).unwrap();
    let w = e.spawn_waiter(A, 1234, !0);
    e.table.clear_child_tid(SPACE, &*e.mem, A);
    assert_eq!(w.join().unwrap(), Ok(0));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, A), Ok(0));
    // Bad pointers are ignored.
    e.table.clear_child_tid(SPACE, &*e.mem, 0);
    e.table.clear_child_tid(SPACE, &*e.mem, 0x44);
}

#[test]
fn robust_list_marks_owner_died_and_wakes() {
    let e = env();
    const HEAD: u64 = BASE + 0x400;
    const E1: u64 = BASE + 0x500;
    const E2: u64 = BASE + 0x600;
    const OFF: i64 = 16;
    let tid = 42u32;
    // head -> E1 -> E2 -> head; futex words at entry + 16.
    write_val(&*e.mem, HEAD, &[E1, 16u64, 0]).unwrap();
    write_val(&*e.mem, E1, &E2).unwrap();
    write_val(&*e.mem, E2, &HEAD).unwrap();
    let w1 = E1 + OFF as u64;
    let w2 = E2 + OFF as u64;
    write_val(&*e.mem, w1, &(tid | 0x8000_0000)).unwrap();
    write_val(&*e.mem, w2, &99u32).unwrap(); // owned by someone else
    let waiter = e.spawn_waiter(w1, tid | 0x8000_0000, !0);
    e.table.exit_robust_list(SPACE, &*e.mem, HEAD, tid);
    assert_eq!(waiter.join().unwrap(), Ok(0));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, w1), Ok(0xc000_0000));
    assert_eq!(crate::user::read_val::<u32>(&*e.mem, w2), Ok(99));
    // A cyclic list that never returns to the head stops at the limit.
    write_val(&*e.mem, E2, &E1).unwrap();
    e.table.exit_robust_list(SPACE, &*e.mem, HEAD, tid);
}
