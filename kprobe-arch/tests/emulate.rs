//! Every emulated instruction class, run under a probe in this process and compared with the
//! unprobed result: `call rel32`, `call r/m` (register, memory, SIB, RIP-relative,
//! rsp-relative), `jmp rel8/rel32`, `jmp r/m`, all 16 `jcc` conditions in rel8 and rel32
//! form, `ret`, `ret imm16`, `loop`/`loope`/`loopne`/`jrcxz`.

mod common;

use common::*;

/// `mov rax, rdi; ret` (48 89 F8 = REX.W mov r/m64, r64 with ModRM F8: rdi → rax; C3).
const RET_RDI: &[u8] = &[0x48, 0x89, 0xf8, 0xc3];
/// `lea rax, [rdi+1]; ret` (48 8D 47 01: ModRM 47 = rax, [rdi+disp8]; C3).
const RET_RDI_PLUS1: &[u8] = &[0x48, 0x8d, 0x47, 0x01, 0xc3];

/// Checks that a kprobe at `addr` fired once per call with ip = addr + 1 in the pre handler
/// and ip = `post_ip` in the post handler.
fn check_pre_post(log: &std::sync::Arc<std::sync::Mutex<Vec<Seen>>>, addr: u64, post_ip: u64) {
    let seen = take(log);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].kind, seen[0].regs.rip), ('p', addr + 1));
    assert_eq!((seen[1].kind, seen[1].regs.rip), ('o', post_ip));
}

#[test]
fn call_rel32() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    // sub rsp, 8 (48 83 EC 08); call add2 (E8 rel32) at +4; add rsp, 8 (48 83 C4 08); ret.
    let at = env.next_func();
    let mut code = vec![0x48, 0x83, 0xec, 0x08, 0xe8];
    code.extend_from_slice(&rel32(at + 4, 5, add2));
    code.extend_from_slice(&[0x48, 0x83, 0xc4, 0x08, 0xc3]);
    let f = env.func("f_call", &code);
    assert_eq!(f, at);
    let log = new_log();
    let id = env.kprobe(f + 4, Recorder::new("call", &log));
    assert_eq!(call2(f, 20, 22), 42);
    let seen = take(&log);
    assert_eq!(seen[0].regs.rip, f + 5);
    assert_eq!((seen[0].regs.rdi, seen[0].regs.rsi), (20, 22));
    // After the emulated call: at add2, return address f+9 pushed.
    assert_eq!(seen[1].regs.rip, add2);
    assert_eq!(seen[1].regs.rsp, seen[0].regs.rsp - 8);
    assert_eq!(env.hits(id), (1, 0));
}

#[test]
fn call_indirect_forms() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let slot = env.data(add2);
    let table = env.data(0);
    env.data(0);
    env.data(add2); // table[2] = add2
    let log = new_log();

    // sub rsp,8; call rdx (FF D2: ModRM D2 = /2, rdx); add rsp,8; ret.
    let f_reg = env.func("f_callreg", &[0x48, 0x83, 0xec, 0x08, 0xff, 0xd2, 0x48, 0x83, 0xc4, 0x08, 0xc3]);
    // sub rsp,8; call [rdx] (FF 12: ModRM 12 = /2, [rdx]); add rsp,8; ret.
    let f_mem = env.func("f_callmem", &[0x48, 0x83, 0xec, 0x08, 0xff, 0x12, 0x48, 0x83, 0xc4, 0x08, 0xc3]);
    // sub rsp,8; call [rdx+rcx*8] (FF 14 CA: ModRM 14 = /2 with SIB, SIB CA = rcx*8 + rdx);
    // add rsp,8; ret.
    let f_sib = env.func("f_callsib", &[0x48, 0x83, 0xec, 0x08, 0xff, 0x14, 0xca, 0x48, 0x83, 0xc4, 0x08, 0xc3]);
    // push rdx (52); call [rsp] (FF 14 24: SIB 24 = base rsp, no index); pop rdx (5A); ret.
    // The operand uses rsp before the call's push.
    let f_rsp = env.func("f_callrsp", &[0x52, 0xff, 0x14, 0x24, 0x5a, 0xc3]);
    // sub rsp,8; call [rip+disp32] (FF 15 disp32, at +4, 6 bytes); add rsp,8; ret.
    let at = env.next_func();
    let mut code = vec![0x48, 0x83, 0xec, 0x08, 0xff, 0x15];
    code.extend_from_slice(&rel32(at + 4, 6, slot));
    code.extend_from_slice(&[0x48, 0x83, 0xc4, 0x08, 0xc3]);
    let f_rip = env.func("f_callrip", &code);

    for (f, off, c, d) in
        [(f_reg, 4, add2, 0), (f_mem, 4, slot, 0), (f_sib, 4, table, 2), (f_rsp, 1, add2, 0), (f_rip, 4, 0, 0)]
    {
        let id = env.kprobe(f + off, Recorder::new("c", &log));
        assert_eq!(call4(f, 40, 2, c, d), 42, "function at {f:#x}");
        let seen = take(&log);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].regs.rip, add2, "post handler at the call target");
        assert_eq!(seen[1].regs.rsp, seen[0].regs.rsp - 8);
        assert_eq!(env.hits(id), (1, 0));
        env.reg().unregister(id).unwrap();
    }
}

#[test]
fn jmp_forms() {
    let env = Env::new();
    let target = env.func("ret_rdi_plus1", RET_RDI_PLUS1);
    let ptr = env.data(target);
    // jmp +3 (EB 03) over xor eax,eax; ret (31 C0 C3) to mov rax,rdi; ret.
    let mut c8 = vec![0xeb, 0x03, 0x31, 0xc0, 0xc3];
    c8.extend_from_slice(RET_RDI);
    let j8 = env.func("f_jmp8", &c8);
    // jmp +3 (E9 03 00 00 00), same layout.
    let mut c32 = vec![0xe9, 0x03, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xc3];
    c32.extend_from_slice(RET_RDI);
    let j32 = env.func("f_jmp32", &c32);
    // jmp rsi (FF E6: ModRM E6 = /4, rsi).
    let jreg = env.func("f_jmpreg", &[0xff, 0xe6]);
    // jmp [rsi] (FF 26: ModRM 26 = /4, [rsi]).
    let jmem = env.func("f_jmpmem", &[0xff, 0x26]);

    let log = new_log();
    for (f, arg, want, post_ip) in
        [(j8, 0, 7, j8 + 5), (j32, 0, 7, j32 + 8), (jreg, target, 8, target), (jmem, ptr, 8, target)]
    {
        let id = env.kprobe(f, Recorder::new("j", &log));
        assert_eq!(call2(f, 7, arg), want);
        check_pre_post(&log, f, post_ip);
        env.reg().unregister(id).unwrap();
        assert_eq!(call2(f, 7, arg), want, "unprobed");
    }
}

/// `cmp rdi, rsi` (48 39 F7: cmp r/m64=rdi, r64=rsi); jcc to +N; `xor eax,eax; ret` (not
/// taken → 0); `mov eax, 1; ret` (B8 01 00 00 00 C3, taken → 1).
fn jcc_code(cc: u8, near: bool) -> Vec<u8> {
    let mut c = vec![0x48, 0x39, 0xf7];
    if near {
        c.extend_from_slice(&[0x0f, 0x80 | cc, 0x03, 0x00, 0x00, 0x00]);
    } else {
        c.extend_from_slice(&[0x70 | cc, 0x03]);
    }
    c.extend_from_slice(&[0x31, 0xc0, 0xc3, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3]);
    c
}

#[test]
fn jcc_all_conditions() {
    let env = Env::new();
    let pairs: [(i64, i64); 10] =
        [(1, 1), (1, 2), (2, 1), (-1, 1), (1, -1), (i64::MIN, 1), (i64::MAX, -1), (0, 0), (3, 0), (0x7f, 0)];
    let log = new_log();
    for near in [false, true] {
        for cc in 0..16u8 {
            let f = env.func("jcc", &jcc_code(cc, near));
            let native: Vec<u64> = pairs.iter().map(|&(a, b)| call2(f, a as u64, b as u64)).collect();
            assert!(native.contains(&0) && native.contains(&1), "cc {cc}: pairs must cover both outcomes");
            let id = env.kprobe(f + 3, Recorder::new("jcc", &log));
            for (i, &(a, b)) in pairs.iter().enumerate() {
                assert_eq!(call2(f, a as u64, b as u64), native[i], "cc {cc:x} near {near} a {a} b {b}");
                let seen = take(&log);
                let len = if near { 6 } else { 2 };
                let want_ip = if native[i] == 1 { f + 3 + len + 3 } else { f + 3 + len };
                assert_eq!(seen[1].regs.rip, want_ip);
            }
            assert_eq!(env.hits(id), (pairs.len() as u64, 0));
            env.reg().unregister(id).unwrap();
        }
    }
}

#[test]
fn ret_and_ret_imm16() {
    let env = Env::new();
    let add2 = env.func("add2", ADD2);
    let log = new_log();
    let id = env.kprobe(add2 + 4, Recorder::new("ret", &log));
    // Called from Rust: the post handler sees the Rust return address and rsp + 8.
    assert_eq!(call2(add2, 1, 2), 3);
    let seen = take(&log);
    assert_eq!(seen[1].regs.rsp, seen[0].regs.rsp + 8);
    assert_eq!(seen[1].regs.rax, 3);
    env.reg().unregister(id).unwrap();

    // callee: mov rax, rdi (48 89 F8); ret 16 (C2 10 00) at +3.
    let callee = env.func("retimm", &[0x48, 0x89, 0xf8, 0xc2, 0x10, 0x00]);
    // caller: push 7 (6A 07); push 9 (6A 09); call callee (E8 rel32) at +4; ret (C3) at +9.
    let at = env.next_func();
    let mut code = vec![0x6a, 0x07, 0x6a, 0x09, 0xe8];
    code.extend_from_slice(&rel32(at + 4, 5, callee));
    code.push(0xc3);
    let caller = env.func("retimm_caller", &code);
    let id = env.kprobe(callee + 3, Recorder::new("ret16", &log));
    assert_eq!(call1(caller, 77), 77);
    let seen = take(&log);
    assert_eq!(seen[1].regs.rip, caller + 9);
    assert_eq!(seen[1].regs.rsp, seen[0].regs.rsp + 8 + 16);
    assert_eq!(env.hits(id), (1, 0));
}

#[test]
fn loops() {
    let env = Env::new();
    // mov rcx, rdi (48 89 F9); xor eax,eax (31 C0); inc rax (48 FF C0) at +5;
    // loop +5 (E2 FB) at +8; ret.
    let f_loop = env.func("f_loop", &[0x48, 0x89, 0xf9, 0x31, 0xc0, 0x48, 0xff, 0xc0, 0xe2, 0xfb, 0xc3]);
    // mov rcx, rdi; xor eax,eax; inc rax (+5); cmp rax, rsi (48 39 F0) at +8;
    // loope/loopne +5 (E1/E0 F8) at +11; ret.
    let body = |op: u8| vec![0x48, 0x89, 0xf9, 0x31, 0xc0, 0x48, 0xff, 0xc0, 0x48, 0x39, 0xf0, op, 0xf8, 0xc3];
    let f_loope = env.func("f_loope", &body(0xe1));
    let f_loopne = env.func("f_loopne", &body(0xe0));
    // mov rcx, rdi; jrcxz +3 (E3 03) at +3; xor eax,eax; ret; mov eax,1; ret.
    let f_jrcxz = env.func("f_jrcxz", &[0x48, 0x89, 0xf9, 0xe3, 0x03, 0x31, 0xc0, 0xc3, 0xb8, 1, 0, 0, 0, 0xc3]);

    let log = new_log();
    let inputs: [(u64, u64); 6] = [(1, 0), (5, 0), (5, 1), (5, 3), (5, 9), (0, 0)];
    for (f, off) in [(f_loop, 8), (f_loope, 11), (f_loopne, 11), (f_jrcxz, 3)] {
        let cases: Vec<(u64, u64)> = inputs.iter().copied().filter(|&(n, _)| n != 0 || f == f_jrcxz).collect();
        let native: Vec<u64> = cases.iter().map(|&(n, k)| call2(f, n, k)).collect();
        let id = env.kprobe(f + off, Recorder::new("loop", &log));
        let mut executions = 0;
        for (i, &(n, k)) in cases.iter().enumerate() {
            assert_eq!(call2(f, n, k), native[i], "fn {f:#x} n {n} k {k}");
            executions += take(&log).len() as u64 / 2;
        }
        // loop: one execution per iteration (= result); others once per call or per iteration.
        assert_eq!(env.hits(id), (executions, 0));
        if f == f_loop {
            assert_eq!(executions, native.iter().sum::<u64>());
        }
        env.reg().unregister(id).unwrap();
    }
}
