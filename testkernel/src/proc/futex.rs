//! Futexes: the wait/wake table behind `futex(2)` and `CLONE_CHILD_CLEARTID`.
//!
//! A futex is named by a [`FutexKey`]: the address-space id (the kernel gives every address
//! space a unique number; threads share it, a forked child gets a new one) and the user
//! address of the 32-bit word. Linux keys *private* futexes the same way (`mm` + address);
//! its *shared* futexes are keyed by the backing page instead, so that two processes mapping
//! the same file page meet. This kernel keys shared futexes like private ones: a futex shared
//! between threads of one process works; one shared across processes through `MAP_SHARED`
//! memory does not meet its peer (no user of this kernel needs that).
//!
//! Each waiter is one [`Waiter`] on its key's FIFO list, with its own [`WaitQueue`] and a
//! `woken` flag: a waker unlinks the waiter and sets the flag under the table lock, so a wake
//! is never lost (the waiter's condition is the flag, which [`WaitQueue::wait_until`]
//! re-checks after registering) and a requeue only moves the waiter to another list.
//!
//! Reference: kernel/futex/waitwake.c (`futex_wait`, `futex_wake`, `futex_wake_op`,
//! `futex_atomic_op_inuser`), kernel/futex/requeue.c (`futex_requeue`), kernel/futex/core.c
//! (`get_futex_key`, `exit_robust_list`, `handle_futex_death`), kernel/fork.c (`mm_release`).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Mutex;
use syscall_abi::Errno;

use crate::sync::WaitQueue;
use crate::user::{read_val, write_val, UserMem};
use crate::KResult;

/// The bitset that matches every waiter (`FUTEX_BITSET_MATCH_ANY`).
pub const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// Highest user address + 1 that `access_ok` accepts on x86_64 (`TASK_SIZE_MAX`).
const TASK_SIZE_MAX: u64 = (1 << 47) - 4096;

/// Robust-futex word bits (include/uapi/linux/futex.h).
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// `ROBUST_LIST_LIMIT`: at most this many list entries are walked at exit.
const ROBUST_LIST_LIMIT: usize = 2048;

/// Names one futex: address space and user address of the 32-bit word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FutexKey {
    /// The address space's unique id.
    pub space: u64,
    /// User address of the word (4-byte aligned).
    pub addr: u64,
}

impl FutexKey {
    /// The key of `addr` in address space `space`: `EINVAL` when `addr` is not 4-byte
    /// aligned, `EFAULT` when the word is outside user space (Linux's `get_futex_key`).
    pub fn new(space: u64, addr: u64) -> KResult<Self> {
        if addr % 4 != 0 {
            return Err(Errno::EINVAL);
        }
        if addr.checked_add(4).is_none_or(|end| end > TASK_SIZE_MAX) {
            return Err(Errno::EFAULT);
        }
        Ok(FutexKey { space, addr })
    }
}

/// One task blocked in `FUTEX_WAIT*`.
struct Waiter {
    bitset: u32,
    woken: AtomicBool,
    queue: WaitQueue,
    /// The key whose list holds this waiter (changes on requeue); only written with the
    /// table lock held.
    key: Mutex<FutexKey>,
}

/// The `FUTEX_WAKE_OP` operation on the second word (`FUTEX_OP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeOp {
    /// `FUTEX_OP_SET`: `*uaddr2 = oparg`.
    Set,
    /// `FUTEX_OP_ADD`: `*uaddr2 += oparg`.
    Add,
    /// `FUTEX_OP_OR`: `*uaddr2 |= oparg`.
    Or,
    /// `FUTEX_OP_ANDN`: `*uaddr2 &= !oparg`.
    AndN,
    /// `FUTEX_OP_XOR`: `*uaddr2 ^= oparg`.
    Xor,
}

/// A decoded `FUTEX_WAKE_OP` `val3`: `op` on `*uaddr2` with `oparg`, then wake waiters of
/// `uaddr2` when `old <cmp> cmparg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodedOp {
    /// Operation, `None` for an unknown one (`ENOSYS` before anything is touched).
    pub op: Option<WakeOp>,
    /// Comparison number (`FUTEX_OP_CMP_*`, 0..=5 valid; others give `ENOSYS` after the
    /// operation was applied, as in Linux).
    pub cmp: u32,
    /// Operand (already shifted when `FUTEX_OP_OPARG_SHIFT` was set).
    pub oparg: u32,
    /// Comparison operand, sign-extended from 12 bits.
    pub cmparg: i32,
}

impl EncodedOp {
    /// Decodes `(op << 28) | (cmp << 24) | (oparg << 12) | cmparg`, with bit 31
    /// (`FUTEX_OP_OPARG_SHIFT << 28`) meaning "oparg is a shift count" (masked to 0..31 as
    /// Linux does for out-of-range counts).
    pub fn decode(encoded: u32) -> Self {
        let op = match (encoded >> 28) & 7 {
            0 => Some(WakeOp::Set),
            1 => Some(WakeOp::Add),
            2 => Some(WakeOp::Or),
            3 => Some(WakeOp::AndN),
            4 => Some(WakeOp::Xor),
            _ => None,
        };
        let cmp = (encoded >> 24) & 15;
        let mut oparg = sign_extend_12((encoded >> 12) & 0xfff);
        if encoded & (8 << 28) != 0 {
            oparg = 1 << (oparg & 31);
        }
        EncodedOp { op, cmp, oparg: u32::from_ne_bytes(oparg.to_ne_bytes()), cmparg: sign_extend_12(encoded & 0xfff) }
    }

    /// The new value of the word given its old value.
    fn apply(op: WakeOp, old: u32, oparg: u32) -> u32 {
        match op {
            WakeOp::Set => oparg,
            WakeOp::Add => old.wrapping_add(oparg),
            WakeOp::Or => old | oparg,
            WakeOp::AndN => old & !oparg,
            WakeOp::Xor => old ^ oparg,
        }
    }

    /// Evaluates the comparison on the (signed) old value: `ENOSYS` for an unknown one.
    fn compare(&self, old: u32) -> KResult<bool> {
        let old = i32::from_ne_bytes(old.to_ne_bytes());
        Ok(match self.cmp {
            0 => old == self.cmparg,
            1 => old != self.cmparg,
            2 => old < self.cmparg,
            3 => old <= self.cmparg,
            4 => old > self.cmparg,
            5 => old >= self.cmparg,
            _ => return Err(Errno::ENOSYS),
        })
    }
}

/// Sign-extends a 12-bit field.
fn sign_extend_12(v: u32) -> i32 {
    let v = i32::from_ne_bytes((v & 0xfff).to_ne_bytes());
    if v & 0x800 != 0 {
        v - 0x1000
    } else {
        v
    }
}

/// All futex waiters of the kernel, by key.
pub struct FutexTable {
    queues: Mutex<BTreeMap<FutexKey, Vec<Arc<Waiter>>>>,
}

impl Default for FutexTable {
    fn default() -> Self {
        Self::new()
    }
}

/// The kernel's futex table (one for all address spaces: keys carry the space id).
pub static FUTEXES: FutexTable = FutexTable::new();

impl FutexTable {
    /// An empty table.
    pub const fn new() -> Self {
        FutexTable { queues: Mutex::new(BTreeMap::new()) }
    }

    /// Number of tasks waiting on `key`.
    pub fn waiters(&self, key: FutexKey) -> usize {
        self.queues.lock().get(&key).map_or(0, Vec::len)
    }

    /// `FUTEX_WAIT_BITSET`: if the word at `key` still holds `expected`, sleeps until woken
    /// by a wake whose bitset intersects `bitset` (`Ok`), until the monotonic clock reaches
    /// `deadline` (`ETIMEDOUT`) or a signal arrives (`EINTR`). `EAGAIN` when the word
    /// differs, `EFAULT` when it is unreadable, `EINVAL` for a zero bitset.
    ///
    /// The word is read with the table lock held, so the comparison and the enqueue are
    /// atomic against every wake (the `UserMem` implementation must not use futexes).
    pub fn wait(
        &self,
        mem: &dyn UserMem,
        key: FutexKey,
        expected: u32,
        deadline: Option<u64>,
        bitset: u32,
    ) -> KResult<()> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let me =
            Arc::new(Waiter { bitset, woken: AtomicBool::new(false), queue: WaitQueue::new(), key: Mutex::new(key) });
        {
            let mut queues = self.queues.lock();
            let current: u32 = read_val(mem, key.addr)?;
            if current != expected {
                return Err(Errno::EAGAIN);
            }
            queues.entry(key).or_default().push(me.clone());
        }
        match me.queue.wait_until(deadline, || me.woken.load(Ordering::Acquire)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let mut queues = self.queues.lock();
                // A waker that got in between the timeout and this lock wins: Linux too
                // reports success when the waiter was unqueued by a wake.
                if me.woken.load(Ordering::Acquire) {
                    return Ok(());
                }
                let at = *me.key.lock();
                if let Some(list) = queues.get_mut(&at) {
                    list.retain(|w| !Arc::ptr_eq(w, &me));
                    if list.is_empty() {
                        queues.remove(&at);
                    }
                }
                Err(e)
            }
        }
    }

    /// `FUTEX_WAKE_BITSET`: wakes up to `nr` waiters of `key` whose bitset intersects
    /// `bitset`, oldest first; returns how many. As in Linux, `nr <= 0` still wakes one.
    /// `EINVAL` for a zero bitset.
    pub fn wake(&self, key: FutexKey, nr: i32, bitset: u32) -> KResult<u64> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let woken = {
            let mut queues = self.queues.lock();
            take_matching(&mut queues, key, nr, bitset)
        };
        Ok(notify(woken))
    }

    /// `FUTEX_REQUEUE` (`cmp` = `None`) / `FUTEX_CMP_REQUEUE`: wakes up to `nr_wake` waiters
    /// of `from` and moves up to `nr_requeue` more to `to`; returns woken + moved. `EINVAL`
    /// for a negative count, `EAGAIN` when the word at `from` differs from `cmp`.
    pub fn requeue(
        &self,
        mem: &dyn UserMem,
        from: FutexKey,
        to: FutexKey,
        nr_wake: i32,
        nr_requeue: i32,
        cmp: Option<u32>,
    ) -> KResult<u64> {
        if nr_wake < 0 || nr_requeue < 0 {
            return Err(Errno::EINVAL);
        }
        let (nr_wake, nr_requeue) = (i64::from(nr_wake), i64::from(nr_requeue));
        let mut woken = Vec::new();
        let mut moved = Vec::new();
        {
            let mut queues = self.queues.lock();
            if let Some(cmp) = cmp {
                let current: u32 = read_val(mem, from.addr)?;
                if current != cmp {
                    return Err(Errno::EAGAIN);
                }
            }
            let mut list = queues.remove(&from).unwrap_or_default();
            let mut count: i64 = 0;
            let mut rest = Vec::new();
            for w in list.drain(..) {
                if count - nr_wake >= nr_requeue {
                    rest.push(w);
                    continue;
                }
                count += 1;
                if count <= nr_wake {
                    w.woken.store(true, Ordering::Release);
                    woken.push(w);
                } else {
                    *w.key.lock() = to;
                    moved.push(w);
                }
            }
            if !rest.is_empty() {
                queues.insert(from, rest);
            }
            if !moved.is_empty() {
                queues.entry(to).or_default().extend(moved.iter().cloned());
            }
        }
        let n = moved.len() as u64;
        Ok(notify(woken) + n)
    }

    /// `FUTEX_WAKE_OP`: applies `op` to the word at `key2` (read-modify-write under the table
    /// lock: atomic on this non-preemptible uniprocessor kernel), wakes up to `nr_wake`
    /// waiters of `key1`, and, when the comparison on the old value holds, up to `nr_wake2`
    /// waiters of `key2`. Returns the total woken. `ENOSYS` for an unknown operation (nothing
    /// done) or comparison (after the operation, as in Linux); `EFAULT` when the word at
    /// `key2` is not readable and writable.
    pub fn wake_op(
        &self,
        mem: &dyn UserMem,
        key1: FutexKey,
        key2: FutexKey,
        nr_wake: i32,
        nr_wake2: i32,
        encoded: u32,
    ) -> KResult<u64> {
        let op = EncodedOp::decode(encoded);
        let kind = op.op.ok_or(Errno::ENOSYS)?;
        let mut woken = {
            let mut queues = self.queues.lock();
            let old: u32 = read_val(mem, key2.addr)?;
            write_val(mem, key2.addr, &EncodedOp::apply(kind, old, op.oparg))?;
            let hit = op.compare(old)?;
            let mut woken = take_matching(&mut queues, key1, nr_wake, FUTEX_BITSET_MATCH_ANY);
            if hit {
                woken.extend(take_matching(&mut queues, key2, nr_wake2, FUTEX_BITSET_MATCH_ANY));
            }
            woken
        };
        Ok(notify(core::mem::take(&mut woken)))
    }

    /// What a thread exit does for `CLONE_CHILD_CLEARTID` / `set_tid_address` (Linux's
    /// `mm_release`): writes 0 to the `u32` at `tidptr` and wakes one waiter there (errors
    /// ignored, as in Linux). kcore calls this when a thread exits or execs while other tasks
    /// still use its address space (Linux skips it when the thread is the last user), then
    /// forgets `tidptr`. `tidptr == 0` does nothing.
    pub fn clear_child_tid(&self, space: u64, mem: &dyn UserMem, tidptr: u64) {
        if tidptr == 0 {
            return;
        }
        let _ = write_val(mem, tidptr, &0u32);
        if let Ok(key) = FutexKey::new(space, tidptr) {
            let _ = self.wake(key, 1, FUTEX_BITSET_MATCH_ANY);
        }
    }

    /// Robust-futex cleanup at thread exit (Linux's `exit_robust_list`): walks the user list
    /// registered with `set_robust_list` at `head` (`struct robust_list_head`: `list.next`,
    /// `futex_offset`, `list_op_pending`), and for every lock word owned by `tid` sets
    /// `FUTEX_OWNER_DIED` (keeping `FUTEX_WAITERS`) and wakes one waiter when there were
    /// waiters. Stops silently on a fault or after `ROBUST_LIST_LIMIT` entries. PI entries
    /// (bit 0 of a pointer) are treated like the others (this kernel has no PI futexes).
    pub fn exit_robust_list(&self, space: u64, mem: &dyn UserMem, head: u64, tid: u32) {
        if head == 0 {
            return;
        }
        let Ok([first, offset, pending]) = read_val::<[u64; 3]>(mem, head) else {
            return;
        };
        let offset = i64::from_ne_bytes(offset.to_ne_bytes());
        let pending = pending & !1;
        let mut entry = first & !1;
        let mut walked = 0;
        while entry != head && entry != 0 && walked < ROBUST_LIST_LIMIT {
            // Read the next pointer first: the owner-died write may let another thread
            // reuse the entry.
            let Ok(next) = read_val::<u64>(mem, entry) else {
                return;
            };
            if entry != pending {
                self.futex_death(space, mem, entry.wrapping_add_signed(offset), tid, false);
            }
            entry = next & !1;
            walked += 1;
        }
        if pending != 0 {
            self.futex_death(space, mem, pending.wrapping_add_signed(offset), tid, true);
        }
    }

    /// Linux's `handle_futex_death` for one lock word.
    fn futex_death(&self, space: u64, mem: &dyn UserMem, uaddr: u64, tid: u32, pending_op: bool) {
        let Ok(key) = FutexKey::new(space, uaddr) else {
            return;
        };
        let Ok(uval) = read_val::<u32>(mem, uaddr) else {
            return;
        };
        // The owner died between taking the lock and setting the word: wake a waiter so
        // that it can retry (Linux does this for a pending, unowned, non-PI word).
        if pending_op && uval == 0 {
            let _ = self.wake(key, 1, FUTEX_BITSET_MATCH_ANY);
            return;
        }
        if uval & FUTEX_TID_MASK != tid {
            return;
        }
        let new = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if write_val(mem, uaddr, &new).is_err() {
            return;
        }
        if uval & FUTEX_WAITERS != 0 {
            let _ = self.wake(key, 1, FUTEX_BITSET_MATCH_ANY);
        }
    }
}

/// Unlinks (oldest first) up to `nr` waiters of `key` matching `bitset` and marks them
/// woken; `nr <= 0` takes one, like Linux's `if (++ret >= nr_wake) break`.
fn take_matching(
    queues: &mut BTreeMap<FutexKey, Vec<Arc<Waiter>>>,
    key: FutexKey,
    nr: i32,
    bitset: u32,
) -> Vec<Arc<Waiter>> {
    let mut woken = Vec::new();
    let Some(list) = queues.get_mut(&key) else {
        return woken;
    };
    let mut i = 0;
    while i < list.len() {
        if list[i].bitset & bitset == 0 {
            i += 1;
            continue;
        }
        let w = list.remove(i);
        w.woken.store(true, Ordering::Release);
        woken.push(w);
        if i64::try_from(woken.len()).unwrap_or(i64::MAX) >= i64::from(nr) {
            break;
        }
    }
    if list.is_empty() {
        queues.remove(&key);
    }
    woken
}

/// Makes the (already unlinked and flagged) waiters runnable, outside the table lock.
fn notify(woken: Vec<Arc<Waiter>>) -> u64 {
    for w in &woken {
        w.queue.wake_all();
    }
    woken.len() as u64
}
