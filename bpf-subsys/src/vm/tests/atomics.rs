//! Atomics are real atomic operations: no lost updates across threads.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::super::{Region, Vm};
use super::{prog, TestEnv};

const THREADS: u64 = 8;
const ROUNDS: u64 = 5000;

#[test]
fn lock_add_from_many_threads_loses_nothing() {
    let wide = AtomicU64::new(0);
    let narrow = AtomicU32::new(0);
    // Each run adds 1 to the 64-bit counter and 3 to the 32-bit one, ROUNDS times, and
    // checks that fetch-add returned an increasing value each time.
    let text = format!(
        "
        mov %r3, 0
        mov %r4, 1
        mov %r5, 3
    loop:
        lock add [%r1], %r4
        mov %r6, %r5
        lock fetch add32 [%r2], %r6
        add %r3, 1
        jlt %r3, {ROUNDS}, loop
        mov %r0, 0
        exit"
    );
    let code = prog(&text);
    let wide_addr = wide.as_ptr().expose_provenance() as u64;
    let narrow_addr = narrow.as_ptr().expose_provenance() as u64;
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                // SAFETY: both counters outlive the scope, and every access to them during
                // the runs is atomic (the program's atomics; nothing else touches them).
                let regions = unsafe { [Region::from_raw(wide_addr, 8, true), Region::from_raw(narrow_addr, 4, true)] };
                let vm = Vm::new(&code).regions(&regions).args([wide_addr, narrow_addr, 0, 0, 0]);
                assert_eq!(vm.run(&mut TestEnv::default()), Ok(0));
            });
        }
    });
    assert_eq!(wide.load(Ordering::SeqCst), THREADS * ROUNDS);
    assert_eq!(u64::from(narrow.load(Ordering::SeqCst)), 3 * THREADS * ROUNDS);
}

#[test]
fn fetch_xchg_and_cmpxchg_results() {
    let mut mem = [0u8; 16];
    let text = "
        lddw %r2, 0x1111111122222222
        stxdw [%r1], %r2
        mov32 %r3, 0x0f
        lock fetch or32 [%r1], %r3      # r3 = 0x22222222 (zero-extended), mem low = 0x2222222f
        lddw %r0, 0xffffffff2222222f    # cmpxchg32 compares the low 32 bits of r0 only
        mov %r4, 7
        lock cmpxchg32 [%r1], %r4       # equal: mem low = 7, r0 = 0x2222222f (zero-extended)
        mov %r5, %r0
        mov %r6, 9
        lock xchg [%r1+8], %r6          # r6 = 0, mem[8..] = 9
        mov %r0, 3
        lock cmpxchg [%r1+8], %r6       # 3 != 9: no store, r0 = 9
        stxdw [%r1+8], %r0
        add %r0, %r6
        add %r0, %r5
        add %r0, %r3
        exit";
    let r0 = Vm::new(&prog(text)).context(Region::new_mut(&mut mem)).run(&mut TestEnv::default());
    assert_eq!(r0, Ok(9 + 0x2222222f + 0x22222222));
    assert_eq!(mem[..8], 0x1111111100000007u64.to_ne_bytes());
    assert_eq!(mem[8..], 9u64.to_ne_bytes());
}
