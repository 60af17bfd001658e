//! Scenario 6: LruHashMap evicts the least recently used key when full (a program's lookup
//! marks a key as used; user-space lookups do not, as in Linux); Queue (FIFO) and Stack (LIFO)
//! pushed and popped from both sides; BloomFilter and LpmTrie lookups from user space and from
//! the program.

use aya::maps::lpm_trie::{Key, LpmTrie};
use aya::maps::{Array, BloomFilter, HashMap, MapError, Queue, Stack};
use aya::programs::TracePoint;
use ayatest::{bpf_object, check, check_eq, check_ok, done, fail, load, set_target_tgid, tgid, Guard};

const OP_PUSH: u64 = 1;
const OP_POP: u64 = 2;
const OP_BLOOM_PEEK: u64 = 3;
const OP_LPM_LOOKUP: u64 = 4;
const OP_LRU_LOOKUP: u64 = 5;
const ENOENT: i64 = -(libc::ENOENT as i64);

/// Runs operation `op(arg)` in the program (one getpid()) and returns out[0..2].
fn run(bpf: &mut aya::Ebpf, op: u64, arg: u64) -> [i64; 2] {
    {
        let mut ctl: Array<_, u64> = Array::try_from(bpf.map_mut("ctl").unwrap()).unwrap();
        ctl.set(1, arg, 0).unwrap_or_else(|e| fail("ctl[1]", ayatest::error_chain(&e)));
        ctl.set(0, op, 0).unwrap_or_else(|e| fail("ctl[0]", ayatest::error_chain(&e)));
    }
    {
        let mut out: Array<_, i64> = Array::try_from(bpf.map_mut("out").unwrap()).unwrap();
        for i in 0..2 {
            out.set(i, i64::MIN, 0).unwrap();
        }
    }
    ayatest::getpid_n(1, tgid());
    let ctl: Array<_, u64> = Array::try_from(bpf.map("ctl").unwrap()).unwrap();
    check_eq(ctl.get(&0, 0).unwrap(), 0, format!("the program ran operation {op}({arg})"));
    let out: Array<_, i64> = Array::try_from(bpf.map("out").unwrap()).unwrap();
    [out.get(&0, 0).unwrap(), out.get(&1, 0).unwrap()]
}

fn not_found<T: std::fmt::Debug>(r: Result<T, MapError>) -> bool {
    matches!(r, Err(MapError::ElementNotFound) | Err(MapError::KeyNotFound))
}

fn main() {
    let guard = Guard::new();
    let pid = tgid();
    ayatest::pin_to_first_online_cpu(); // the LRU lists are per CPU in Linux

    guard.step(60, "load maps_misc.o");
    let mut bpf = load(bpf_object!("maps_misc"), "maps_misc.o");
    set_target_tgid(&mut bpf, pid);
    let prog: &mut TracePoint = check_ok(
        bpf.program_mut("maps_getpid").unwrap_or_else(|| fail("program `maps_getpid`", "missing")).try_into(),
        "maps_getpid is a TracePoint",
    );
    check_ok(prog.load(), "TracePoint::load");
    check_ok(prog.attach("syscalls", "sys_enter_getpid"), "TracePoint::attach(syscalls, sys_enter_getpid)");

    // Queue and Stack.
    guard.step(60, "queue/stack");
    {
        let mut q: Queue<_, u64> = check_ok(Queue::try_from(bpf.map_mut("queue").unwrap()), "queue as Queue<u64>");
        check_eq(q.capacity(), 8, "Queue::capacity");
        for v in [1u64, 2, 3] {
            check_ok(q.push(v, 0), format!("user: queue push {v}"));
        }
        let mut s: Stack<_, u64> = check_ok(Stack::try_from(bpf.map_mut("stack").unwrap()), "stack as Stack<u64>");
        for v in [1u64, 2, 3] {
            check_ok(s.push(v, 0), format!("user: stack push {v}"));
        }
    }
    check_eq(run(&mut bpf, OP_POP, 0), [1, 3], "program: queue pop -> 1 (FIFO), stack pop -> 3 (LIFO)");
    check_eq(run(&mut bpf, OP_PUSH, 10), [0, 0], "program: push 10 to both");
    check_eq(run(&mut bpf, OP_PUSH, 11), [0, 0], "program: push 11 to both");
    {
        let mut s: Stack<_, u64> = Stack::try_from(bpf.map_mut("stack").unwrap()).unwrap();
        let got: Vec<u64> = (0..4).map(|i| check_ok(s.pop(0), format!("user: stack pop #{i}"))).collect();
        check_eq(got, vec![11, 10, 2, 1], "user: the stack pops 11, 10, 2, 1");
        check(not_found(s.pop(0)), "user: empty stack pop -> ENOENT", "an element");
    }
    {
        let mut q: Queue<_, u64> = Queue::try_from(bpf.map_mut("queue").unwrap()).unwrap();
        let got: Vec<u64> = (0..4).map(|i| check_ok(q.pop(0), format!("user: queue pop #{i}"))).collect();
        check_eq(got, vec![2, 3, 10, 11], "user: the queue pops 2, 3, 10, 11");
        check(not_found(q.pop(0)), "user: empty queue pop -> ENOENT", "an element");
        for v in 0..8u64 {
            q.push(v, 0).unwrap_or_else(|e| fail(format!("queue push {v}"), ayatest::error_chain(&e)));
        }
        match q.push(99u64, 0) {
            Err(MapError::SyscallError(e)) => {
                check_eq(e.io_error.raw_os_error(), Some(libc::E2BIG), "user: push to a full queue -> E2BIG")
            }
            r => fail("user: push to a full queue -> E2BIG", format!("{r:?}")),
        }
    }
    check_eq(run(&mut bpf, OP_POP, 0)[0], 0, "program: pops the full queue's head (0)");
    check_eq(run(&mut bpf, OP_POP, 0)[1], ENOENT, "program: empty stack pop -> -ENOENT");

    // Bloom filter.
    guard.step(60, "bloom filter");
    {
        let mut b: BloomFilter<_, u64> =
            check_ok(BloomFilter::try_from(bpf.map_mut("bloom").unwrap()), "bloom as BloomFilter<u64>");
        check_ok(b.insert(100u64, 0), "user: bloom insert 100");
        check_ok(b.insert(200u64, 0), "user: bloom insert 200");
        check_ok(b.contains(100u64, 0), "user: bloom contains 100");
        check(not_found(b.contains(300u64, 0)), "user: bloom does not contain 300", "found");
    }
    check_eq(run(&mut bpf, OP_BLOOM_PEEK, 200)[0], 0, "program: bloom peek 200 -> 0");
    check_eq(run(&mut bpf, OP_BLOOM_PEEK, 300)[0], ENOENT, "program: bloom peek 300 -> -ENOENT");

    // LPM trie.
    guard.step(60, "lpm trie");
    let ip = |a: u8, b: u8, c: u8, d: u8| [a, b, c, d];
    {
        let mut t: LpmTrie<_, [u8; 4], u32> =
            check_ok(LpmTrie::try_from(bpf.map_mut("lpm").unwrap()), "lpm as LpmTrie<[u8; 4], u32>");
        for (len, addr, v) in [(8, ip(10, 0, 0, 0), 1u32), (16, ip(10, 1, 0, 0), 2), (24, ip(10, 1, 2, 0), 3)] {
            check_ok(t.insert(&Key::new(len, addr), v, 0), format!("user: insert {addr:?}/{len} -> {v}"));
        }
        for (addr, want) in [
            (ip(10, 1, 2, 3), Some(3u32)),
            (ip(10, 1, 9, 9), Some(2)),
            (ip(10, 9, 9, 9), Some(1)),
            (ip(11, 0, 0, 1), None),
        ] {
            let r = t.get(&Key::new(32, addr), 0);
            match want {
                Some(w) => check_eq(
                    check_ok(r, format!("user: lookup {addr:?}")),
                    w,
                    format!("user: longest prefix of {addr:?} -> {w}"),
                ),
                None => check(not_found(r), format!("user: {addr:?} matches no prefix"), "found"),
            }
        }
    }
    let arg = |a: [u8; 4]| u64::from(u32::from_ne_bytes(a));
    check_eq(run(&mut bpf, OP_LPM_LOOKUP, arg(ip(10, 1, 2, 3)))[0], 3, "program: 10.1.2.3 -> 3 (/24)");
    check_eq(run(&mut bpf, OP_LPM_LOOKUP, arg(ip(10, 200, 0, 1)))[0], 1, "program: 10.200.0.1 -> 1 (/8)");
    check_eq(run(&mut bpf, OP_LPM_LOOKUP, arg(ip(192, 168, 0, 1)))[0], -1, "program: 192.168.0.1 -> no match");

    // LRU hash: 4 entries; key 1 used by the program; inserting key 5 evicts the least recently
    // used key (2), never key 1. (Linux may evict more than one unused key at once: 3 and 4
    // are not checked.)
    guard.step(60, "lru");
    {
        let mut lru: HashMap<_, u32, u64> =
            check_ok(HashMap::try_from(bpf.map_mut("lru").unwrap()), "lru as HashMap<u32, u64> (LRU hash)");
        for k in 1..=4u32 {
            check_ok(lru.insert(k, u64::from(k) * 10, 0), format!("user: lru insert {k}"));
        }
    }
    check_eq(run(&mut bpf, OP_LRU_LOOKUP, 1)[0], 10, "program: lru lookup 1 -> 10 (marks key 1 used)");
    {
        let mut lru: HashMap<_, u32, u64> = HashMap::try_from(bpf.map_mut("lru").unwrap()).unwrap();
        check_ok(lru.insert(5, 50, 0), "user: lru insert 5 into the full map");
        check_eq(check_ok(lru.get(&5, 0), "user: lru get 5"), 50, "key 5 is in");
        check_eq(check_ok(lru.get(&1, 0), "user: lru get 1"), 10, "key 1 (recently used) survived");
        check(not_found(lru.get(&2, 0)), "key 2 (least recently used) was evicted", "still there");
        let n = lru.keys().count();
        check(n <= 4, format!("the LRU map holds at most 4 keys ({n})"), n);
    }
    done();
}
