//! End-to-end helper tests, part 2: formatted output, strings, callbacks, ring buffers,
//! perf event output, signals, tail calls and map-in-map.

use std::sync::{Arc, Mutex};
use std::vec::Vec;
use std::{format, vec};

use maps::{FdObject, RingBuf};
use syscall_abi::bpf::{MapType, BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE};
use syscall_abi::Errno;

use super::tests::{e, host, label, map, prog, run, run_ctx, FakeEvent};
use super::{ProgEnv, RunCtx};
use crate::object::BpfObject;
use crate::vm::{Program, Vm};
use crate::BpfHost;

/// Puts `s` on the stack at `r10 - 64` (8-byte stores) and points `r1` at it.
fn str_on_stack(s: &[u8]) -> String {
    let mut t = String::new();
    let mut padded = s.to_vec();
    padded.resize(64, 0);
    for (i, c) in padded.chunks(8).enumerate() {
        let v = u64::from_le_bytes(c.try_into().unwrap());
        t += &format!("lddw %r1, {v:#x}\nstxdw [%r10-{}], %r1\n", 64 - i * 8);
    }
    t + "mov %r1, %r10\nadd %r1, -64\n"
}

#[test]
fn trace_printk_formats_and_rejects_bad_formats() {
    let h = host();
    let printk = |fmt: &[u8], size: usize, args: [i64; 3]| {
        format!(
            "{}mov %r2, {size}\nlddw %r3, {:#x}\nlddw %r4, {:#x}\nlddw %r5, {:#x}\ncall 6\nexit",
            str_on_stack(fmt),
            args[0],
            args[1],
            args[2]
        )
    };
    let fmt = b"a=%d b=%u c=%x\n\0";
    assert_eq!(run(&h, &printk(fmt, fmt.len(), [-5, 7, 255]), &[]), 14);
    assert_eq!(h.t.trace_lines().last().unwrap(), b"a=-5 b=7 c=ff\n");
    let fmt = b"%lld|%llx|%5d\0";
    let r = run(&h, &printk(fmt, fmt.len(), [-1, 0xdead_beef_f00d, 42]), &[]);
    assert_eq!(h.t.trace_lines().last().unwrap(), b"-1|deadbeeff00d|   42");
    assert_eq!(r, 21);
    let fmt = b"%c%c %i\0";
    run(&h, &printk(fmt, fmt.len(), [b'o' as i64, b'k' as i64, 1 << 32 | 3]), &[]);
    assert_eq!(h.t.trace_lines().last().unwrap(), b"ok 3");
    let lines = h.t.trace_lines().len();
    // Bad formats: unknown conversion, too many conversions, no NUL within fmt_size,
    // unprintable byte, %p extension.
    for bad in [&b"%q\0"[..], b"%d %d %d %d\0", b"%d\x01\0", b"%pI4\0", b"%lz\0"] {
        assert_eq!(run(&h, &printk(bad, bad.len(), [1, 2, 3]), &[]), e(Errno::EINVAL), "{bad:?}");
    }
    assert_eq!(run(&h, &printk(b"abc\0", 3, [0; 3]), &[]), e(Errno::EINVAL));
    assert_eq!(h.t.trace_lines().len(), lines, "a rejected format prints nothing");
    // %s with a string in kernel memory, and with a bad pointer (empty string, as Linux).
    let fmt = b"[%s][%s]\0";
    let r = run(&h, &printk(fmt, fmt.len(), [(super::tests::KBASE + 256) as i64, 0x10, 0]), &[]);
    assert_eq!(h.t.trace_lines().last().unwrap(), b"[kernel-str][]");
    assert_eq!(r, 14);
    // %p prints the raw value.
    let fmt = b"%p\0";
    run(&h, &printk(fmt, fmt.len(), [0xabc, 0, 0]), &[]);
    assert_eq!(h.t.trace_lines().last().unwrap(), b"0000000000000abc");
    // An unreadable format → EFAULT.
    let bad = "lddw %r1, 0x10\nmov %r2, 4\ncall 6\nexit";
    assert_eq!(run(&h, bad, &[]), e(Errno::EFAULT));
}

#[test]
fn snprintf_writes_truncates_and_counts() {
    let h = host();
    // fmt at r10-64, args at r10-96 (3 u64), output in the context.
    let prog_for = |fmt: &[u8], out_size: u32, data_len: u32| {
        let mut t = str_on_stack(fmt);
        t += "stdw [%r10-96], -7\nstdw [%r10-88], 0x41\nlddw %r2, 0x123456789\nstxdw [%r10-80], %r2\n";
        t += &format!(
            "mov %r3, %r1\nmov %r1, %r6\nmov %r2, {out_size}\nmov %r4, %r10\nadd %r4, -96\nmov %r5, {data_len}\ncall 165\nexit"
        );
        format!("mov %r6, %r1\n{t}")
    };
    let go = |text: &str| {
        let mut ctx = [0xffu8; 32];
        let r = run_ctx(&h, text, &[], &mut ctx, RunCtx::default()).unwrap();
        (r, ctx)
    };
    let (r, ctx) = go(&prog_for(b"v=%d c=%c x=%llx\0", 32, 24));
    assert_eq!(r, 21);
    assert_eq!(&ctx[..22], b"v=-7 c=A x=123456789\0\xff");
    // Truncated: still returns the full length with the NUL.
    let (r, ctx) = go(&prog_for(b"v=%d c=%c x=%llx\0", 5, 24));
    assert_eq!((r, &ctx[..6]), (21, &b"v=-7\0\xff"[..]));
    // str_size 0: nothing written.
    let (r, ctx) = go(&prog_for(b"v=%d\0", 0, 8));
    assert_eq!((r, ctx[0]), (5, 0xff));
    // Errors: data_len not a multiple of 8, too many args, fewer args than conversions,
    // bad format.
    assert_eq!(go(&prog_for(b"%d\0", 32, 7)).0, e(Errno::EINVAL));
    assert_eq!(go(&prog_for(b"%d\0", 32, 13 * 8)).0, e(Errno::EINVAL));
    assert_eq!(go(&prog_for(b"%d %d\0", 32, 8)).0, e(Errno::EINVAL));
    assert_eq!(go(&prog_for(b"%y\0", 32, 8)).0, e(Errno::EINVAL));
}

#[test]
fn strncmp_compares_like_the_c_function() {
    let h = host();
    // s1 on the stack at r10-64 ("abcdef"), s2 in the context.
    let cmp = |n: u32, s2: &[u8]| {
        let text = format!("mov %r6, %r1\n{}mov %r2, {n}\nmov %r3, %r6\ncall 182\nexit", str_on_stack(b"abcdef\0"));
        let mut ctx = [0u8; 16];
        ctx[..s2.len()].copy_from_slice(s2);
        run_ctx(&h, &text, &[], &mut ctx, RunCtx::default()).unwrap() as i64
    };
    assert_eq!(cmp(6, b"abcdef\0"), 0);
    assert_eq!(cmp(3, b"abcxyz\0"), 0);
    assert_eq!(cmp(4, b"abcz\0"), -1);
    assert_eq!(cmp(6, b"abc\0"), 1);
    assert_eq!(cmp(7, b"abcdefg\0"), -1);
    assert_eq!(cmp(0, b"x\0"), 0);
    let bad = format!("{}mov %r2, 4\nlddw %r3, 0x10\ncall 182\nexit", str_on_stack(b"abc\0"));
    assert_eq!(run(&h, &bad, &[]), e(Errno::EFAULT));
}

#[test]
fn bpf_loop_calls_back_until_told_to_stop() {
    let h = host();
    // Sum i over the iterations into *ctx (a stack slot); stop when i == STOP.
    let text = "stdw [%r10-8], 0\nmov %r1, NR\nlddw %r2, CB\nmov %r3, %r10\nadd %r3, -8\nmov %r4, FLAGS\ncall 181\nldxdw %r1, [%r10-8]\nlsh %r1, 32\nor %r0, %r1\nexit\ncb:\nldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\njne %r1, STOP, out\nmov %r0, 1\nout:\nexit";
    let cb = label(&text.replace("CB", "0").replace("NR", "0").replace("FLAGS", "0").replace("STOP", "0"), "cb");
    let go = |nr: u64, stop: u64, flags: u64| {
        let t = text
            .replace("CB", &cb.to_string())
            .replace("NR", &nr.to_string())
            .replace("FLAGS", &flags.to_string())
            .replace("STOP", &stop.to_string());
        run(&h, &t, &[])
    };
    assert_eq!(go(5, 100, 0), (10u64 << 32) | 5); // 0+1+2+3+4, 5 calls
    assert_eq!(go(10, 3, 0), (6u64 << 32) | 4); // stopped after i == 3
    assert_eq!(go(0, 3, 0), 0);
    assert_eq!(go(5, 100, 1), e(Errno::EINVAL));
    assert_eq!(go((1 << 23) + 1, 3, 0), e(Errno::E2BIG));
}

#[test]
fn for_each_map_elem_visits_key_value_pairs() {
    let h = host();
    let m = map(&h, MapType::Array, 4, 8, 4, 0);
    for k in 0..4u32 {
        m.map().update(&k.to_ne_bytes(), &(u64::from(k) * 10).to_ne_bytes(), 0).unwrap();
    }
    // Callback: ctx += key * value; value += 1; stop after key 2 when STOP.
    let text = "stdw [%r10-8], 0\nlddw %r1, MAP0\nlddw %r2, CB\nmov %r3, %r10\nadd %r3, -8\nmov %r4, FLAGS\ncall 164\nldxdw %r1, [%r10-8]\nlsh %r1, 32\nor %r0, %r1\nexit\ncb:\nldxw %r6, [%r2]\nldxdw %r7, [%r3]\nmov %r8, %r7\nmul %r8, %r6\nldxdw %r9, [%r4]\nadd %r9, %r8\nstxdw [%r4], %r9\nadd %r7, 1\nstxdw [%r3], %r7\nmov %r0, 0\njne %r6, STOP, out\nmov %r0, 1\nout:\nexit";
    let cb = label(&text.replace("CB", "0").replace("FLAGS", "0").replace("STOP", "0"), "cb");
    let go = |stop: u32, flags: u32| {
        let t =
            text.replace("CB", &cb.to_string()).replace("FLAGS", &flags.to_string()).replace("STOP", &stop.to_string());
        run(&h, &t, std::slice::from_ref(&m))
    };
    assert_eq!(go(99, 0), (140u64 << 32) | 4); // 0*0 + 1*10 + 2*20 + 3*30, 4 elements
    let mut v = [0u8; 8];
    m.map().lookup(&3u32.to_ne_bytes(), &mut v, 0).unwrap();
    assert_eq!(u64::from_ne_bytes(v), 31, "the callback wrote the value");
    assert_eq!(go(1, 0), (11u64 << 32) | 2); // 0*1 + 1*11, stopped at key 1
    assert_eq!(go(99, 1), e(Errno::EINVAL));
}

#[test]
fn ringbuf_output_reserve_submit_discard_query() {
    let h = host();
    let rb = map(&h, MapType::Ringbuf, 0, 0, 4096, 0);
    let ring = || rb.map().as_any().downcast_ref::<RingBuf>().unwrap();
    // output: 8 bytes from the stack.
    let out = |flags: u32| {
        format!(
            "lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nlddw %r1, MAP0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, {flags}\ncall 130\nexit"
        )
    };
    assert_eq!(run(&h, &out(0), std::slice::from_ref(&rb)), 0);
    assert_eq!(run(&h, &out(4), std::slice::from_ref(&rb)), e(Errno::EINVAL));
    let avail = "lddw %r1, MAP0\nmov %r2, QUERY\ncall 134\nexit";
    assert_eq!(run(&h, &avail.replace("QUERY", &BPF_RB_AVAIL_DATA.to_string()), std::slice::from_ref(&rb)), 16);
    assert_eq!(run(&h, &avail.replace("QUERY", &BPF_RB_RING_SIZE.to_string()), std::slice::from_ref(&rb)), 4096);
    // reserve + write + submit; reserve + discard; reserve and forget (discarded on drop).
    let rsv = |release: u32| {
        format!(
            "lddw %r1, MAP0\nmov %r2, 4\nmov %r3, 0\ncall 131\njeq %r0, 0, fail\nstw [%r0], 0x61626364\nmov %r1, %r0\nmov %r2, 0\ncall {release}\nmov %r0, 1\nexit\nfail:\nmov %r0, 0\nexit"
        )
    };
    assert_eq!(run(&h, &rsv(132), std::slice::from_ref(&rb)), 1);
    assert_eq!(run(&h, &rsv(133), std::slice::from_ref(&rb)), 1);
    let forget = "lddw %r1, MAP0\nmov %r2, 4\nmov %r3, 0\ncall 131\nstw [%r0], 1\nmov %r0, 0\nexit";
    assert_eq!(run(&h, forget, std::slice::from_ref(&rb)), 0);
    // After submit the sample is no longer the program's memory.
    let late = "lddw %r1, MAP0\nmov %r2, 4\nmov %r3, 0\ncall 131\nmov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\ncall 132\nstw [%r6], 1\nmov %r0, 0\nexit";
    let mut ctx = [0u8; 8];
    assert!(run_ctx(&h, late, std::slice::from_ref(&rb), &mut ctx, RunCtx::default()).is_err());
    // Bad reserve flags → NULL.
    assert_eq!(run(&h, "lddw %r1, MAP0\nmov %r2, 4\nmov %r3, 1\ncall 131\nexit", std::slice::from_ref(&rb)), 0);
    let mut seen = Vec::new();
    ring()
        .consume(|s| {
            seen.push(s.to_vec());
            Ok(())
        })
        .unwrap();
    // The output, the submitted sample and the one submitted before the faulting store.
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[..2], [0x1122334455667788u64.to_ne_bytes().to_vec(), 0x61626364u32.to_ne_bytes().to_vec()]);
    // Ring buffer helpers on a map that is not a ring buffer.
    let arr = map(&h, MapType::Array, 4, 4, 1, 0);
    assert_eq!(run(&h, &out(0), std::slice::from_ref(&arr)), e(Errno::EINVAL));
}

#[test]
fn perf_event_output_through_the_array() {
    let h = host();
    let pa = map(&h, MapType::PerfEventArray, 4, 4, 2, 0);
    let ev = Arc::new(FakeEvent { id: 1, out: Mutex::new(Vec::new()) });
    let fd = h.t.install_perf(ev.clone() as Arc<dyn FdObject>);
    pa.map().update(&1u32.to_ne_bytes(), &fd.to_ne_bytes(), 0).unwrap();
    let out = |flags: u64| {
        format!(
            "stdw [%r10-8], 0x2a\nlddw %r2, MAP0\nlddw %r3, {flags:#x}\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\ncall 25\nexit"
        )
    };
    assert_eq!(run(&h, &out(1), std::slice::from_ref(&pa)), 0);
    let cpu = h.current_cpu();
    assert_eq!(*ev.out.lock().unwrap(), vec![(cpu, 0x2au64.to_ne_bytes().to_vec())]);
    assert_eq!(run(&h, &out(0), std::slice::from_ref(&pa)), e(Errno::ENOENT));
    assert_eq!(run(&h, &out(2), std::slice::from_ref(&pa)), e(Errno::E2BIG));
    assert_eq!(run(&h, &out(1 << 32), std::slice::from_ref(&pa)), e(Errno::EINVAL));
    // BPF_F_CURRENT_CPU: the slot of the running CPU.
    let expect = if cpu == 1 { 0 } else { e(Errno::ENOENT) };
    assert_eq!(run(&h, &out(0xffff_ffff), std::slice::from_ref(&pa)), expect);
    let arr = map(&h, MapType::Array, 4, 4, 2, 0);
    assert_eq!(run(&h, &out(0), &[arr]), e(Errno::EINVAL));
}

#[test]
fn send_signal_checks_the_signal() {
    let h = host();
    assert_eq!(run(&h, "mov %r1, 10\ncall 109\nexit", &[]), 0);
    assert_eq!(run(&h, "mov %r1, 65\ncall 109\nexit", &[]), e(Errno::EINVAL));
    assert_eq!(run(&h, "mov %r1, 9\ncall 109\nexit", &[]), e(Errno::EPERM));
    assert_eq!(*h.signals.lock().unwrap(), vec![10]);
}

#[test]
fn tail_call_switches_program_and_maps() {
    let h = host();
    let pa = map(&h, MapType::ProgArray, 4, 4, 2, 0);
    let data = map(&h, MapType::Array, 4, 4, 1, 0);
    // The target uses `data` (not a map of the caller) and returns its value + 100.
    let target_text = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\ncall 1\njeq %r0, 0, out\nldxw %r0, [%r0]\nadd %r0, 100\nout:\nexit";
    let target = prog(&h, super::tests::asm(target_text, std::slice::from_ref(&data)), std::slice::from_ref(&data));
    data.map().update(&0u32.to_ne_bytes(), &5u32.to_ne_bytes(), 0).unwrap();
    let fd = h.t.install_object(BpfObject::Prog(target.clone()), crate::object::FileMode::ReadWrite);
    pa.map().update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), 0).unwrap();
    let caller = "lddw %r2, MAP0\nmov %r3, IDX\ncall 12\nmov %r0, 7\nexit";
    assert_eq!(run(&h, &caller.replace("IDX", "0"), std::slice::from_ref(&pa)), 105);
    assert_eq!(run(&h, &caller.replace("IDX", "1"), std::slice::from_ref(&pa)), 7); // empty slot
    assert_eq!(run(&h, &caller.replace("IDX", "2"), std::slice::from_ref(&pa)), 7);
    // out of range
}

#[test]
fn inner_maps_of_map_in_map_are_valid_map_arguments() {
    let h = host();
    let inner = map(&h, MapType::Array, 4, 4, 1, 0);
    inner.map().update(&0u32.to_ne_bytes(), &33u32.to_ne_bytes(), 0).unwrap();
    let dyn_host: Arc<dyn crate::BpfHost> = h.clone();
    let attr = maps::MapAttr {
        map_type: Some(MapType::ArrayOfMaps),
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        inner_map: Some(*inner.map().def()),
        ..maps::MapAttr::default()
    };
    let outer = maps::create(&attr, &crate::host::MapHostAdapter::shared(dyn_host)).unwrap();
    let outer =
        crate::object::MapObj::new(h.registry(), crate::object::MapSpec { map: outer, name: [0; 16], btf: None })
            .unwrap();
    let fd = h.t.install_object(BpfObject::Map(inner.clone()), crate::object::FileMode::ReadWrite);
    outer.map().update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), 0).unwrap();
    let text = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\ncall 1\njeq %r0, 0, out\nmov %r1, %r0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nldxw %r0, [%r0]\nout:\nexit";
    assert_eq!(run(&h, text, std::slice::from_ref(&outer)), 33);
    // The inner map pointer is not memory the program may read.
    let peek = "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, MAP0\ncall 1\njeq %r0, 0, out\nldxw %r0, [%r0]\nout:\nexit";
    let p = prog(&h, super::tests::asm(peek, std::slice::from_ref(&outer)), std::slice::from_ref(&outer));
    let guard = maps::reclaim::read_lock();
    let mut env = ProgEnv::new(&*h, &p, &guard, RunCtx::default());
    assert!(Vm::new(p.insns()).run(&mut env).is_err());
}
