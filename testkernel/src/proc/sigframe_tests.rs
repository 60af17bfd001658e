//! Host tests of handler frames and `rt_sigreturn`.

use super::*;
use crate::proc::signal::{
    Posted, TrapInfo, SA_RESTORER, SA_SIGINFO, SEGV_MAPERR, SIGUSR1, SIGUSR2, SI_TKILL, SS_AUTODISARM,
};
use crate::user::{read_val, write_val, TestMem};

const BASE: u64 = 0x7000_0000;
const LEN: usize = 0x10000;
const STACK_TOP: u64 = BASE + 0x8000;
const ALT: u64 = BASE + 0xa000;
const HANDLER: u64 = 0x40_1000;
const RESTORER: u64 = 0x40_2000;

fn user_regs() -> PtRegs {
    PtRegs {
        r15: 15,
        r14: 14,
        r13: 13,
        r12: 12,
        rbp: 0xbb,
        rbx: 0xb,
        r11: 11,
        r10: 10,
        r9: 9,
        r8: 8,
        rax: 0xfffffffffffffffc, // -EINTR from the interrupted syscall
        rcx: 0xc,
        rdx: 0xd,
        rsi: 0x51,
        rdi: 0xd1,
        orig_rax: 35,
        rip: 0x40_0123,
        cs: 0x33,
        eflags: 0x246 | 0x400, // IF, ZF, PF, DF
        rsp: STACK_TOP - 0x13,
        ss: 0x2b,
    }
}

struct Env {
    p: ProcessSignals,
    t: ThreadSignals,
    mem: TestMem,
}

fn env(flags: u64, mask: u64) -> Env {
    let e = Env { p: ProcessSignals::new(), t: ThreadSignals::new(), mem: TestMem::new(BASE, LEN) };
    let a = SigAction { handler: HANDLER, flags, restorer: RESTORER, mask };
    e.p.sigaction(&e.t, SIGUSR1, Some(a)).unwrap();
    e
}

fn word(m: &TestMem, addr: u64) -> u64 {
    read_val::<u64>(m, addr).unwrap()
}

#[test]
fn frame_layout_then_sigreturn_restores_everything() {
    let e = env(SA_RESTORER | SA_SIGINFO, crate::proc::signal::sigmask(SIGUSR2));
    e.t.sigprocmask(2, 0b1).unwrap();
    e.t.inner.lock().trap = TrapInfo { trapno: 14, err: 4, cr2: 0x99 };
    assert_eq!(e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 77)), Posted::Queued);
    let orig = user_regs();
    let mut r = orig;
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Handler);

    // Below the red zone, `rsp + 8` 16-byte aligned (as after a call).
    let frame = r.rsp;
    assert_eq!((frame + 8) % 16, 0);
    assert!(frame + RT_SIGFRAME_SIZE <= orig.rsp - 128);
    assert!(orig.rsp - 128 - (frame + RT_SIGFRAME_SIZE) < 32);
    assert_eq!((r.rip, r.rdi, r.rax, r.rsi, r.rdx), (HANDLER, 10, 0, frame + 312, frame + 8));
    assert_eq!(r.eflags, 0x246, "DF cleared for the handler");
    assert_eq!((r.cs, r.ss), (0x33, 0x2b));

    let m = &e.mem;
    assert_eq!(word(m, frame), RESTORER);
    assert_eq!(word(m, frame + 8), 6, "UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS");
    assert_eq!(word(m, frame + 16), 0, "uc_link");
    assert_eq!(read_val::<u32>(m, frame + 32), Ok(2), "uc_stack.ss_flags = SS_DISABLE");
    let sc = frame + 48;
    let want =
        [8, 9, 10, 11, 12, 13, 14, 15, 0xd1, 0x51, 0xbb, 0xb, 0xd, orig.rax, 0xc, orig.rsp, orig.rip, orig.eflags];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(word(m, sc + 8 * i as u64), *w, "sigcontext word {i}");
    }
    assert_eq!(read_val::<[u16; 4]>(m, sc + 144), Ok([0x33, 0, 0, 0x2b]));
    assert_eq!([word(m, sc + 152), word(m, sc + 160), word(m, sc + 168), word(m, sc + 176)], [4, 14, 0b1, 0x99]);
    assert_eq!(word(m, sc + 184), 0, "no FPU state");
    assert_eq!(word(m, frame + 304), 0b1, "uc_sigmask = mask before delivery");
    assert_eq!(read_val::<[i32; 3]>(m, frame + 312), Ok([10, 0, -6]));
    assert_eq!(read_val::<u32>(m, frame + 328), Ok(77));
    // Handler runs with its mask plus the signal itself blocked.
    assert_eq!(e.t.blocked(), 0b1 | (1 << 9) | (1 << 11));

    // The handler returns into __restore_rt: `ret` popped pretcode, then syscall 15.
    let mut s = r;
    s.rsp = frame + 8;
    s.rax = 15;
    s.rcx = 0x777; // clobbered by syscall
    s.r11 = 0x202;
    s.eflags = 0x202;
    // User space edits the saved context: a new rip and eflags with IOPL and without IF.
    write_val(m, sc + 8 * 16, &0x40_0200u64).unwrap();
    write_val(m, sc + 8 * 17, &(0x3000u64 | 0x1 | 0x100)).unwrap();
    let (rax, fpu) = rt_sigreturn(&e.p, &e.t, &mut s, m, None);
    assert_eq!((rax, fpu), (orig.rax, false));
    let want_regs = PtRegs { rip: 0x40_0200, eflags: 0x202 | 0x1 | 0x100, orig_rax: u64::MAX, ..orig };
    assert_eq!(s, want_regs, "IF kept, IOPL refused, CF/TF taken");
    assert_eq!(e.t.blocked(), 0b1);
}

#[test]
fn nodefer_and_no_siginfo_flag() {
    let e = env(SA_RESTORER | SA_NODEFER, 0);
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Handler);
    assert_eq!(e.t.blocked(), 0, "SA_NODEFER: the signal stays unblocked");
    // rsi/rdx are set even without SA_SIGINFO.
    assert_eq!((r.rsi, r.rdx), (r.rsp + 312, r.rsp + 8));
}

#[test]
fn missing_restorer_or_bad_stack_forces_sigsegv() {
    let e = env(SA_SIGINFO, 0);
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Terminate { sig: SIGSEGV, core: true });
    assert_eq!(r, user_regs(), "registers untouched");

    let e = env(SA_RESTORER, 0);
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = PtRegs { rsp: 0x1000, ..user_regs() };
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Terminate { sig: SIGSEGV, core: true });

    // A SIGSEGV handler that cannot get a frame: SIGSEGV is reset to default, then kills.
    let e = env(SA_RESTORER, 0);
    let segv = SigAction { handler: HANDLER, flags: SA_RESTORER, restorer: RESTORER, mask: 0 };
    e.p.sigaction(&e.t, SIGSEGV, Some(segv)).unwrap();
    e.t.force_fault(&e.p, SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0), TrapInfo::default());
    let mut r = PtRegs { rsp: 0x1000, ..user_regs() };
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Terminate { sig: SIGSEGV, core: true });
    assert_eq!(e.p.action(SIGSEGV).handler, crate::proc::signal::SIG_DFL);

    // Nothing pending: nothing happens.
    let mut r = user_regs();
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::None);
}

#[test]
fn alternate_stack_use_autodisarm_and_overflow() {
    let e = env(SA_RESTORER | SA_ONSTACK, 0);
    e.t.sigaltstack(Some(AltStack { sp: ALT, size: 4096, flags: SS_AUTODISARM }), 0).unwrap();
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Handler);
    assert!(r.rsp > ALT && r.rsp + RT_SIGFRAME_SIZE <= ALT + 4096, "frame on the alternate stack");
    // uc_stack records the stack as it was; SS_AUTODISARM then disabled it.
    assert_eq!(read_val::<[u64; 3]>(&e.mem, r.rsp + 24), Ok([ALT, u64::from(SS_AUTODISARM), 4096]));
    assert_eq!(e.t.altstack(), AltStack::DISABLED);
    // sigreturn re-arms it from uc_stack.
    let mut s = PtRegs { rsp: r.rsp + 8, ..r };
    rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, None);
    assert_eq!(e.t.altstack(), AltStack { sp: ALT, size: 4096, flags: SS_AUTODISARM });

    // Already on a small alternate stack near its bottom: the frame would overflow it.
    let e = env(SA_RESTORER | SA_ONSTACK | SA_NODEFER, 0);
    e.t.sigaltstack(Some(AltStack { sp: ALT, size: 4096, flags: 0 }), 0).unwrap();
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = PtRegs { rsp: ALT + 300, ..user_regs() };
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Terminate { sig: SIGSEGV, core: true });
    // Nested but with room: the frame goes below the current sp, on the same stack.
    let e = env(SA_RESTORER | SA_ONSTACK, 0);
    e.t.sigaltstack(Some(AltStack { sp: ALT, size: 4096, flags: 0 }), 0).unwrap();
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = PtRegs { rsp: ALT + 3000, ..user_regs() };
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Handler);
    assert!(r.rsp > ALT && r.rsp < ALT + 3000 - 128 - RT_SIGFRAME_SIZE + 16);
}

#[test]
fn fpu_image_round_trips_with_mxcsr_sanitized() {
    let e = env(SA_RESTORER, 0);
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut fx = [0u8; FXSAVE_SIZE];
    for (i, b) in fx.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    fx[24..28].copy_from_slice(&0xffff_ffffu32.to_ne_bytes());
    let mut r = user_regs();
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, Some(&fx)), Delivery::Handler);
    let fp = word(&e.mem, r.rsp + 48 + 184);
    assert_eq!(fp % 64, 0);
    assert!(fp > r.rsp + RT_SIGFRAME_SIZE - 1 && fp + 512 <= user_regs().rsp - 128);
    let mut s = PtRegs { rsp: r.rsp + 8, ..r };
    let mut out = [0u8; FXSAVE_SIZE];
    assert!(rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, Some(&mut out)).1);
    let mut want = fx;
    want[24..28].copy_from_slice(&0xffbfu32.to_ne_bytes());
    assert_eq!(out[..], want[..]);
    // A frame without FPU area leaves the caller's buffer alone.
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    deliver(&e.p, &e.t, &mut r, &e.mem, None);
    let mut s = PtRegs { rsp: r.rsp + 8, ..r };
    let mut out = [7u8; FXSAVE_SIZE];
    assert!(!rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, Some(&mut out)).1);
    assert!(out.iter().all(|&b| b == 7));
}

#[test]
fn bad_sigreturn_frames_force_sigsegv() {
    // Unreadable frame.
    let e = env(SA_RESTORER, 0);
    let mut s = PtRegs { rsp: 0x2000, ..user_regs() };
    assert_eq!(rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, None), (0, false));
    assert_eq!(e.t.next_disposition(&e.p), Some(Disposition::Terminate { sig: SIGSEGV, core: true }));
    // Kernel-half return address.
    let e = env(SA_RESTORER, 0);
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    deliver(&e.p, &e.t, &mut r, &e.mem, None);
    write_val(&e.mem, r.rsp + 48 + 128, &0xffff_8000_0000_0000u64).unwrap();
    let mut s = PtRegs { rsp: r.rsp + 8, ..r };
    assert_eq!(rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, None), (0, false));
    assert_eq!(e.t.next_disposition(&e.p), Some(Disposition::Terminate { sig: SIGSEGV, core: true }));
    // The restored mask never blocks SIGKILL/SIGSTOP.
    let e = env(SA_RESTORER, 0);
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    deliver(&e.p, &e.t, &mut r, &e.mem, None);
    write_val(&e.mem, r.rsp + 304, &u64::MAX).unwrap();
    let mut s = PtRegs { rsp: r.rsp + 8, ..r };
    rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, None);
    assert_eq!(e.t.blocked(), !UNBLOCKABLE);
}

#[test]
fn temporary_mask_is_what_the_frame_saves() {
    let e = env(SA_RESTORER, 0);
    e.t.sigprocmask(2, 0b1 | crate::proc::signal::sigmask(SIGUSR1)).unwrap();
    e.t.set_temporary_mask(0b10);
    e.t.set_temporary_mask(0b100); // nested temporary masks keep the first saved one
    e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    let mut r = user_regs();
    assert_eq!(deliver(&e.p, &e.t, &mut r, &e.mem, None), Delivery::Handler);
    let saved = 0b1 | crate::proc::signal::sigmask(SIGUSR1);
    assert_eq!(word(&e.mem, r.rsp + 304), saved, "uc_sigmask");
    assert_eq!(word(&e.mem, r.rsp + 48 + 168), saved, "oldmask");
    assert_eq!(e.t.blocked(), 0b100 | crate::proc::signal::sigmask(SIGUSR1), "handler runs on the temporary mask");
    // The frame took the saved mask: nothing left to restore.
    e.t.restore_saved_mask();
    assert_eq!(e.t.blocked(), 0b100 | crate::proc::signal::sigmask(SIGUSR1));
    let mut s = PtRegs { rsp: r.rsp + 8, ..r };
    rt_sigreturn(&e.p, &e.t, &mut s, &e.mem, None);
    assert_eq!(e.t.blocked(), saved);
}

#[test]
fn syscall_restart_rules() {
    const EINTR: u64 = 0u64.wrapping_sub(4);
    let run = |flags: u64, restart: Restart, rax: u64, with_signal: bool| {
        let e = env(flags, 0);
        if with_signal {
            e.t.post(&e.p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
        }
        let mut r = PtRegs { rax, orig_rax: 0, ..user_regs() };
        let d = deliver_after_syscall(&e.p, &e.t, &mut r, &e.mem, None, restart);
        // What user space resumes with: the handler's saved context, or the registers.
        let resumed = if d == Delivery::Handler {
            (word(&e.mem, r.rsp + 48 + 8 * 13), word(&e.mem, r.rsp + 48 + 8 * 16))
        } else {
            (r.rax, r.rip)
        };
        (d, resumed)
    };
    let rip = user_regs().rip;
    let restarted = (0, rip - 2);
    let eintr = (EINTR, rip);
    let sa = SA_RESTORER | SA_RESTART;
    for (flags, restart, rax, sig, want) in [
        (sa, Restart::IfSaRestart, EINTR, true, (Delivery::Handler, restarted)),
        (SA_RESTORER, Restart::IfSaRestart, EINTR, true, (Delivery::Handler, eintr)),
        (sa, Restart::NoHandler, EINTR, true, (Delivery::Handler, eintr)),
        (sa, Restart::No, EINTR, true, (Delivery::Handler, eintr)),
        (sa, Restart::IfSaRestart, 5, true, (Delivery::Handler, (5, rip))),
        // No handler runs (nothing deliverable): restart unless Restart::No.
        (sa, Restart::IfSaRestart, EINTR, false, (Delivery::None, restarted)),
        (sa, Restart::NoHandler, EINTR, false, (Delivery::None, restarted)),
        (sa, Restart::No, EINTR, false, (Delivery::None, eintr)),
    ] {
        assert_eq!(run(flags, restart, rax, sig), want, "flags {flags:#x} {restart:?} rax {rax:#x} signal {sig}");
    }
    // After rt_sigreturn (orig_rax = -1) a restored -EINTR is never rewound.
    let e = env(SA_RESTORER, 0);
    let mut r = PtRegs { rax: EINTR, orig_rax: u64::MAX, ..user_regs() };
    assert_eq!(deliver_after_syscall(&e.p, &e.t, &mut r, &e.mem, None, Restart::IfSaRestart), Delivery::None);
    assert_eq!((r.rax, r.rip), eintr);
}
