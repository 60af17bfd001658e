//! Handler delivery and `rt_sigreturn`: Linux's x86_64 `struct rt_sigframe` on the user
//! stack.
//!
//! Frame layout (440 bytes, at `round_down(sp - 440, 16) - 8` below the 128-byte red zone or
//! at the top of the alternate stack, so that the handler starts as if called: `rsp + 8` is
//! 16-byte aligned):
//! ```text
//!   0  pretcode      = sa_restorer (the handler's `ret` jumps to libc's __restore_rt)
//!   8  ucontext      uc_flags (UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), uc_link = 0,
//!                    uc_stack (the alternate stack), uc_mcontext (struct sigcontext:
//!                    r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags, cs, gs,
//!                    fs, ss, err, trapno, oldmask, cr2, fpstate, reserved), uc_sigmask
//! 312  siginfo       128 bytes (always written; Linux writes it only with SA_SIGINFO)
//! ```
//! FPU state: when kcore passes the task's 512-byte `FXSAVE` image, it is stored in a
//! 64-byte aligned area above the frame and `fpstate` points to it (as Linux does on CPUs
//! without XSAVE: no `UC_FP_XSTATE`), and `rt_sigreturn` hands it back (MXCSR sanitized).
//! Without it, `fpstate` is 0 and the handler must not rely on SSE/x87 registers being
//! preserved across it.
//!
//! Segment selectors: `cs`/`ss` stay the ones the kernel entered with (this kernel has one
//! 64-bit user code segment); the values in the frame are informational and ignored on
//! return.
//!
//! Reference: arch/x86/kernel/signal.c (`get_sigframe`, `handle_signal`,
//! `restore_sigcontext`), arch/x86/kernel/signal_64.c (`x64_setup_rt_frame`,
//! `sys_rt_sigreturn`), arch/x86/kernel/fpu/signal.c (`fpu__alloc_mathframe`),
//! kernel/signal.c (`signal_delivered`, `force_sigsegv`, `restore_altstack`),
//! arch/x86/include/uapi/asm/sigcontext.h, include/uapi/asm-generic/ucontext.h.

use syscall_abi::ptregs::x86_64::PtRegs;
use syscall_abi::Errno;

use crate::proc::siginfo::put;
use crate::proc::signal::{
    sigmask, AltStack, Disposition, ProcessSignals, SigAction, SigInfo, ThreadSignals, SA_NODEFER, SA_ONSTACK,
    SA_RESTART, SA_RESTORER, SIGSEGV, SS_AUTODISARM, UNBLOCKABLE,
};
use crate::user::UserMem;
use crate::KResult;

/// Size of `struct rt_sigframe` on x86_64.
pub const RT_SIGFRAME_SIZE: u64 = 440;
/// Offset of `uc` in the frame.
const UC: usize = 8;
/// Offset of `uc_mcontext` in the frame.
const MC: usize = UC + 40;
/// Offset of `uc_sigmask` in the frame.
const SIGMASK: usize = UC + 296;
/// Offset of `info` in the frame.
const INFO: usize = 312;
/// Size of `struct ucontext`.
const UC_SIZE: usize = 304;
/// `UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS`.
const UC_FLAGS: u64 = 0x2 | 0x4;
/// Size of the `FXSAVE` image.
pub const FXSAVE_SIZE: usize = 512;
/// MXCSR bits `FXRSTOR` accepts (Linux's default `mxcsr_feature_mask` without DAZ would be
/// 0xffbf; reserved bits would fault in the kernel).
const MXCSR_MASK: u32 = 0xffbf;
/// Red zone below the user stack pointer that a frame must not overwrite.
const RED_ZONE: u64 = 128;
/// eflags bits user space may change through `rt_sigreturn` (Linux's `FIX_EFLAGS`:
/// AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF).
const FIX_EFLAGS: u64 = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
/// Flags cleared when entering a handler: DF, RF, TF.
const HANDLER_CLEAR_EFLAGS: u64 = 0x400 | 0x10000 | 0x100;
/// First non-canonical user address: `rt_sigreturn` refuses to return there.
const USER_END: u64 = 1 << 47;

/// The first 18 sigcontext words in frame order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx,
/// rsp, rip, eflags.
fn sigcontext_regs(r: &PtRegs) -> [u64; 18] {
    [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp,
        r.rip, r.eflags,
    ]
}

/// What [`deliver`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing deliverable: return to user mode unchanged.
    None,
    /// A handler frame was built: `regs` now enter the handler (return with `iret`).
    Handler,
    /// The process must die with `sig` (kcore: exit_group with
    /// `signal::wait_status_for_signal(sig, core)`).
    Terminate {
        /// The signal.
        sig: u32,
        /// Whether to report `WCOREDUMP`.
        core: bool,
    },
}

/// How a syscall that failed with `EINTR` may be restarted when a signal is handled on the
/// way back to user mode (Linux expresses this with its `-ERESTART*` codes; here kcore
/// classifies the syscall it just ran).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Never: not after a syscall, or one that reports `EINTR` whatever happens here
    /// (`nanosleep`/`clock_nanosleep`, which Linux restarts with the remaining time only
    /// when no handler runs; waits with a timeout).
    No,
    /// Restarted when the handler has `SA_RESTART` or no handler runs (Linux's
    /// `-ERESTARTSYS`: `read`, `write`, `wait4`, `futex` wait without timeout, `open`...).
    IfSaRestart,
    /// Restarted when no handler runs, `EINTR` when one does (`-ERESTARTNOHAND`:
    /// `pause`, `rt_sigsuspend`, `poll`, `epoll_wait`...).
    NoHandler,
}

/// `-EINTR` as it sits in `rax`.
const EINTR_RET: u64 = 0u64.wrapping_sub(4);

/// Rewinds `regs` so that `iret` re-executes the 2-byte `syscall` instruction.
fn rewind_syscall(regs: &mut PtRegs) {
    regs.rax = regs.orig_rax;
    regs.rip = regs.rip.wrapping_sub(2);
}

/// Called by kcore on every return to user mode (after the syscall result is in
/// `regs.rax`) while [`ThreadSignals::has_deliverable`]: takes the next signal and either
/// builds the handler frame on the user stack, or reports that the process must die.
/// `fpu`, when given, is the task's current `FXSAVE` image, saved in the frame. A frame that
/// cannot be written forces SIGSEGV (reset to `SIG_DFL` when delivering SIGSEGV itself), as
/// Linux's `force_sigsegv` does. Same as [`deliver_after_syscall`] with [`Restart::No`].
pub fn deliver(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    regs: &mut PtRegs,
    mem: &dyn UserMem,
    fpu: Option<&[u8; FXSAVE_SIZE]>,
) -> Delivery {
    deliver_after_syscall(process, thread, regs, mem, fpu, Restart::No)
}

/// [`deliver`] on the way out of a syscall whose `EINTR` result (`regs.rax` = -4) may be
/// restarted as `restart` says: the registers are rewound to re-execute the `syscall`
/// instruction (`rax` = `orig_rax`, `rip` - 2) — in the handler's saved context when a
/// handler with `SA_RESTART` runs, or directly when no handler runs. kcore must then
/// return with `iret` (or set `rcx` = `rip` for `sysret`).
pub fn deliver_after_syscall(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    regs: &mut PtRegs,
    mem: &dyn UserMem,
    fpu: Option<&[u8; FXSAVE_SIZE]>,
    restart: Restart,
) -> Delivery {
    // orig_rax is -1 after rt_sigreturn (Linux's "not in a syscall" marker): never rewind then.
    let interrupted = regs.rax == EINTR_RET && restart != Restart::No && regs.orig_rax >> 63 == 0;
    // At most three rounds: the signal, a forced SIGSEGV, a forced default SIGSEGV.
    for _ in 0..4 {
        match thread.next_disposition(process) {
            None => {
                if interrupted {
                    rewind_syscall(regs);
                }
                return Delivery::None;
            }
            Some(Disposition::Terminate { sig, core }) => return Delivery::Terminate { sig, core },
            Some(Disposition::Handler { info, action }) => {
                let mut r = *regs;
                if interrupted && restart == Restart::IfSaRestart && action.flags & SA_RESTART != 0 {
                    rewind_syscall(&mut r);
                }
                if setup_frame(thread, &mut r, mem, &info, &action, fpu).is_ok() {
                    *regs = r;
                    return Delivery::Handler;
                }
                thread.force(process, SigInfo::kernel(SIGSEGV), info.signo == SIGSEGV);
            }
        }
    }
    Delivery::Terminate { sig: SIGSEGV, core: true }
}

/// Builds the frame and points `regs` at the handler; on error nothing in `regs` or the
/// thread state changed.
fn setup_frame(
    thread: &ThreadSignals,
    regs: &mut PtRegs,
    mem: &dyn UserMem,
    info: &SigInfo,
    action: &SigAction,
    fpu: Option<&[u8; FXSAVE_SIZE]>,
) -> KResult<()> {
    // x86_64 has no kernel-provided trampoline: a handler without SA_RESTORER cannot return.
    if action.flags & SA_RESTORER == 0 {
        return Err(Errno::EFAULT);
    }
    // The mask the handler's rt_sigreturn restores: the one from before a temporary mask
    // (sigsuspend, ppoll...), else the current one.
    let (blocked, alt, trap) = {
        let s = thread.inner.lock();
        (s.saved.unwrap_or(s.blocked), s.altstack, s.trap)
    };
    let nested = alt.on_stack(regs.rsp);
    let mut sp = regs.rsp.wrapping_sub(RED_ZONE);
    let mut entering = false;
    if action.flags & SA_ONSTACK != 0 && alt.mode(sp) == 0 {
        sp = alt.sp.wrapping_add(alt.size);
        entering = true;
    }
    let mut fp_addr = 0;
    if fpu.is_some() {
        sp = sp.wrapping_sub(FXSAVE_SIZE as u64) & !63;
        fp_addr = sp;
    }
    let frame = (sp.wrapping_sub(RT_SIGFRAME_SIZE) & !15).wrapping_sub(8);
    // Overflowing the alternate stack must not scribble below it: die instead.
    if (nested || entering) && !alt.contains(frame) {
        return Err(Errno::EFAULT);
    }
    if !(RT_SIGFRAME_SIZE..USER_END).contains(&frame) {
        return Err(Errno::EFAULT);
    }

    let mut b = [0u8; RT_SIGFRAME_SIZE as usize];
    put(&mut b, 0, &action.restorer.to_ne_bytes());
    put(&mut b, UC, &UC_FLAGS.to_ne_bytes());
    put(&mut b, UC + 16, &alt.sp.to_ne_bytes());
    put(&mut b, UC + 24, &alt.flags.to_ne_bytes());
    put(&mut b, UC + 32, &alt.size.to_ne_bytes());
    for (i, v) in sigcontext_regs(regs).iter().enumerate() {
        put(&mut b, MC + 8 * i, &v.to_ne_bytes());
    }
    put(&mut b, MC + 144, &low16(regs.cs).to_ne_bytes());
    put(&mut b, MC + 150, &low16(regs.ss).to_ne_bytes());
    put(&mut b, MC + 152, &trap.err.to_ne_bytes());
    put(&mut b, MC + 160, &trap.trapno.to_ne_bytes());
    put(&mut b, MC + 168, &blocked.to_ne_bytes());
    put(&mut b, MC + 176, &trap.cr2.to_ne_bytes());
    put(&mut b, MC + 184, &fp_addr.to_ne_bytes());
    put(&mut b, SIGMASK, &blocked.to_ne_bytes());
    put(&mut b, INFO, &info.to_bytes());

    if let Some(fx) = fpu {
        mem.write(fp_addr, fx)?;
    }
    mem.write(frame, &b)?;

    regs.rdi = u64::from(info.signo);
    regs.rax = 0;
    regs.rsi = frame + INFO as u64;
    regs.rdx = frame + UC as u64;
    regs.rip = action.handler;
    regs.rsp = frame;
    regs.eflags &= !HANDLER_CLEAR_EFLAGS;

    // Linux's signal_delivered: block the handler's mask (and the signal itself) on top of
    // the current (possibly temporary) mask; the saved mask now lives in the frame.
    let mut s = thread.inner.lock();
    s.saved = None;
    let mut add = action.mask;
    if action.flags & SA_NODEFER == 0 {
        add |= sigmask(info.signo);
    }
    s.blocked = (s.blocked | add) & !UNBLOCKABLE;
    if s.altstack.flags & SS_AUTODISARM != 0 {
        s.altstack = AltStack::DISABLED;
    }
    Ok(())
}

/// The low 16 bits of a segment register value.
fn low16(v: u64) -> u16 {
    u16::try_from(v & 0xffff).unwrap_or(0)
}

/// `rt_sigreturn`: called by kcore with the registers as saved at the syscall (the handler
/// has returned into `__restore_rt`, so the frame is at `rsp - 8`). Restores the blocked
/// mask, the general registers, the user-changeable eflags bits and the alternate stack, and
/// returns the restored `rax` — kcore must store the result in `rax` as usual and return to
/// user mode with `iret` (all registers, including `rcx`/`r11`, are live). `orig_rax` is set
/// to -1. When `fpu` is given and the frame has an FPU area, the saved `FXSAVE` image is
/// copied into it (MXCSR sanitized) and the result is `(rax, true)`.
///
/// A frame that cannot be read, or a return address outside user space, is a bad frame:
/// as in Linux, SIGSEGV is forced on the thread and 0 returned (the registers may be
/// partially restored; the signal kills the process or runs its SIGSEGV handler).
pub fn rt_sigreturn(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    regs: &mut PtRegs,
    mem: &dyn UserMem,
    fpu: Option<&mut [u8; FXSAVE_SIZE]>,
) -> (u64, bool) {
    match restore(thread, regs, mem, fpu) {
        Ok(r) => r,
        Err(_) => {
            thread.force(process, SigInfo::kernel(SIGSEGV), false);
            (0, false)
        }
    }
}

fn restore(
    thread: &ThreadSignals,
    regs: &mut PtRegs,
    mem: &dyn UserMem,
    fpu: Option<&mut [u8; FXSAVE_SIZE]>,
) -> KResult<(u64, bool)> {
    let frame = regs.rsp.wrapping_sub(8);
    let mut uc = [0u8; UC_SIZE];
    mem.read(frame.checked_add(UC as u64).ok_or(Errno::EFAULT)?, &mut uc)?;
    let word = |off: usize| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&uc[off..off + 8]);
        u64::from_ne_bytes(w)
    };
    let mc = MC - UC;
    let rip = word(mc + 8 * 16);
    if rip >= USER_END {
        return Err(Errno::EFAULT);
    }
    let mask = word(SIGMASK - UC);
    thread.inner.lock().blocked = mask & !UNBLOCKABLE;

    let g = |i: usize| word(mc + 8 * i);
    regs.r8 = g(0);
    regs.r9 = g(1);
    regs.r10 = g(2);
    regs.r11 = g(3);
    regs.r12 = g(4);
    regs.r13 = g(5);
    regs.r14 = g(6);
    regs.r15 = g(7);
    regs.rdi = g(8);
    regs.rsi = g(9);
    regs.rbp = g(10);
    regs.rbx = g(11);
    regs.rdx = g(12);
    regs.rax = g(13);
    regs.rcx = g(14);
    regs.rsp = g(15);
    regs.rip = rip;
    regs.eflags = (regs.eflags & !FIX_EFLAGS) | (g(17) & FIX_EFLAGS);
    regs.orig_rax = u64::MAX;

    let mut fpu_restored = false;
    let fp_addr = g(23);
    if let (Some(out), true) = (fpu, fp_addr != 0) {
        let mut fx = [0u8; FXSAVE_SIZE];
        mem.read(fp_addr, &mut fx)?;
        let mut m = [0u8; 4];
        m.copy_from_slice(&fx[24..28]);
        let mxcsr = u32::from_ne_bytes(m) & MXCSR_MASK;
        fx[24..28].copy_from_slice(&mxcsr.to_ne_bytes());
        *out = fx;
        fpu_restored = true;
    }

    // restore_altstack: errors other than EFAULT (already excluded) are ignored.
    let flags = u32::try_from(word(24) & 0xffff_ffff).unwrap_or(0);
    let _ = thread.sigaltstack(Some(AltStack { sp: word(16), size: word(32), flags }), regs.rsp);
    Ok((regs.rax, fpu_restored))
}

#[cfg(test)]
#[path = "sigframe_tests.rs"]
mod tests;
