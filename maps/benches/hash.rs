//! Hash map speed against `hashbrown` on the same keys, in the same run.
//!
//! `cargo bench -p maps --bench hash` prints ns/op (median of several runs) for program-side
//! lookups and updates of an ext-ebpf `BPF_MAP_TYPE_HASH` next to `hashbrown::HashMap::get`
//! and `insert` on existing keys, and the ratio. Lookups visit the keys in a shuffled order
//! (random access, as a program looking up flows would). The map is called through
//! `&dyn BpfMap`, as the helpers call it. Benchmarks print; they do not assert.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use maps::{create, reclaim, BpfMap, FdKind, FdObject, MapAttr, MapHost, SharedPages};
use syscall_abi::bpf::{MapType, BPF_ANY};
use syscall_abi::{err, Errno, Result};

/// A one-CPU host: enough for a plain hash map.
struct BenchHost;

impl MapHost for BenchHost {
    fn possible_cpus(&self) -> u32 {
        1
    }
    fn current_cpu(&self) -> u32 {
        0
    }
    fn random_u32(&self) -> u32 {
        0x9e37_79b9
    }
    fn alloc_shared(&self, _pages: usize, _repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        err(Errno::ENOMEM, "no shared pages in the benchmark")
    }
    fn resolve_fd(&self, _kind: FdKind, _fd: u32) -> Result<Arc<dyn FdObject>> {
        err(Errno::EBADF, "no fds in the benchmark")
    }
}

const RUNS: usize = 7;

/// splitmix64: deterministic pseudo-random keys and shuffles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn keys<const N: usize>(n: usize, rng: &mut Rng) -> Vec<[u8; N]> {
    let mut seen = hashbrown::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut k = [0u8; N];
        for chunk in k.chunks_mut(8) {
            let r = rng.next().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        if seen.insert(k) {
            out.push(k);
        }
    }
    out
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Median ns per operation of `RUNS` runs each of `a` and `b` (each performing `ops`
/// operations), interleaved so that both see the same machine load.
fn compare(ops: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    a(); // warm up
    b();
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_nanos() as f64 / ops as f64
    };
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ta.push(time(&mut a));
        tb.push(time(&mut b));
    }
    let median = |mut t: Vec<f64>| {
        t.sort_by(|x, y| x.total_cmp(y));
        t[RUNS / 2]
    };
    (median(ta), median(tb))
}

struct Row {
    what: String,
    ext: f64,
    hb: f64,
}

fn bench<const N: usize>(entries: usize, rows: &mut Vec<Row>, lookup_ratios: &mut Vec<f64>) {
    let mut rng = Rng(entries as u64 * 31 + N as u64);
    let ks = keys::<N>(entries, &mut rng);
    let mut order = ks.clone();
    shuffle(&mut order, &mut rng);

    let host: Arc<dyn MapHost> = Arc::new(BenchHost);
    let attr = MapAttr {
        map_type: Some(MapType::Hash),
        key_size: N as u32,
        value_size: 8,
        max_entries: entries as u32,
        ..MapAttr::default()
    };
    let map: Arc<dyn BpfMap> = create(&attr, &host).expect("create the map");
    let m: &dyn BpfMap = &*map;
    let mut hb: hashbrown::HashMap<[u8; N], u64> = hashbrown::HashMap::with_capacity(entries);
    for (i, k) in ks.iter().enumerate() {
        m.update(k, &(i as u64).to_ne_bytes(), BPF_ANY).expect("insert");
        hb.insert(*k, i as u64);
    }
    let n = order.len();
    let tag = format!("{N:>2}-byte keys, {entries:>6} entries");

    let lookup_hb = |hb: &hashbrown::HashMap<[u8; N], u64>| {
        let mut sum = 0u64;
        for k in &order {
            if let Some(v) = hb.get(black_box(k)) {
                sum = sum.wrapping_add(*v);
            }
        }
        black_box(sum);
    };
    let (ext, hbt) = compare(
        n,
        || {
            let g = reclaim::read_lock();
            let mut sum = 0u64;
            for k in &order {
                if let Some(p) = m.prog_lookup(black_box(k), &g) {
                    // SAFETY: an 8-byte value, live while `g` lives.
                    sum = sum.wrapping_add(unsafe { (p.as_ptr() as *const u64).read() });
                }
            }
            black_box(sum);
        },
        || lookup_hb(&hb),
    );
    lookup_ratios.push(ext / hbt);
    rows.push(Row { what: format!("{tag}: prog_lookup (one guard) / get"), ext, hb: hbt });

    let (ext, hbt) = compare(
        n,
        || {
            let mut sum = 0u64;
            for k in &order {
                let g = reclaim::read_lock();
                if let Some(p) = m.prog_lookup(black_box(k), &g) {
                    // SAFETY: as above.
                    sum = sum.wrapping_add(unsafe { (p.as_ptr() as *const u64).read() });
                }
            }
            black_box(sum);
        },
        || lookup_hb(&hb),
    );
    rows.push(Row { what: format!("{tag}: prog_lookup (guard per op) / get"), ext, hb: hbt });

    // Reference: hashbrown with stable value addresses (boxed values) — one more dependent
    // load per lookup, as any design that hands out stable addresses has.
    let mut boxed: hashbrown::HashMap<[u8; N], Box<u64>> = hashbrown::HashMap::with_capacity(entries);
    for (i, k) in ks.iter().enumerate() {
        boxed.insert(*k, Box::new(i as u64));
    }
    let (bx, hbt) = compare(
        n,
        || {
            let mut sum = 0u64;
            for k in &order {
                if let Some(v) = boxed.get(black_box(k)) {
                    sum = sum.wrapping_add(**v);
                }
            }
            black_box(sum);
        },
        || lookup_hb(&hb),
    );
    rows.push(Row { what: format!("{tag}: (reference) get of Box<u64> / get"), ext: bx, hb: hbt });
    drop(boxed);

    let mut hb2 = hb.clone();
    let (ext, hbi) = compare(
        n,
        || {
            for (i, k) in order.iter().enumerate() {
                m.update(black_box(k), &(i as u64).to_ne_bytes(), BPF_ANY).expect("update");
            }
        },
        || {
            for (i, k) in order.iter().enumerate() {
                hb2.insert(*black_box(k), i as u64);
            }
        },
    );
    rows.push(Row { what: format!("{tag}: update (syscall, BPF_ANY) / insert"), ext, hb: hbi });
    let (ext, hbi) = compare(
        n,
        || {
            for (i, k) in order.iter().enumerate() {
                m.prog_update(black_box(k), &(i as u64).to_ne_bytes(), BPF_ANY).expect("update");
            }
        },
        || {
            for (i, k) in order.iter().enumerate() {
                hb2.insert(*black_box(k), i as u64);
            }
        },
    );
    rows.push(Row { what: format!("{tag}: prog_update (BPF_ANY) / insert"), ext, hb: hbi });
    reclaim::collect();
}

fn main() {
    let mut rows = Vec::new();
    let mut lookup_ratios = Vec::new();
    for entries in [10_000, 100_000] {
        bench::<4>(entries, &mut rows, &mut lookup_ratios);
        bench::<16>(entries, &mut rows, &mut lookup_ratios);
    }
    println!("{:<64} {:>10} {:>12} {:>7}", "operation (ext-ebpf / hashbrown)", "ext ns/op", "hashbrown", "ratio");
    for r in &rows {
        println!("{:<64} {:>10.1} {:>12.1} {:>6.2}x", r.what, r.ext, r.hb, r.ext / r.hb);
    }
    let geo = lookup_ratios.iter().map(|r| r.ln()).sum::<f64>() / lookup_ratios.len() as f64;
    let worst = lookup_ratios.iter().copied().fold(0.0, f64::max);
    println!("lookup ratio, geometric mean: {:.2}x", geo.exp());
    println!("lookup ratio (ext-ebpf/hashbrown): {worst:.2}x (goal <= 1.5x, worst of the configurations above)");
}
