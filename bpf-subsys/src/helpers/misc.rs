//! Helpers with program callbacks or formatted output: `bpf_trace_printk` (6),
//! `bpf_snprintf` (165), `bpf_strncmp` (182), `bpf_loop` (181), `bpf_send_signal` (109).
//! Semantics: Linux 6.1 `kernel/trace/bpf_trace.c` (`bpf_trace_printk`, `bpf_send_signal_common`),
//! `kernel/bpf/helpers.c` (`bpf_snprintf`, `bpf_strncmp`), `kernel/bpf/bpf_iter.c` (`bpf_loop`).

use alloc::vec::Vec;

use syscall_abi::Errno;

use super::env::ProgEnv;
use super::format::{format, Sink};
use super::neg;
use crate::vm::{ActiveRun, VmError};

/// Linux `MAX_BPRINTF_BUF`: the formatted output of one call is cut to this (with its NUL).
pub(super) const MAX_BPRINTF_BUF: usize = 1024;
/// Linux `MAX_TRACE_PRINTK_VARARGS`.
const MAX_TRACE_PRINTK_VARARGS: usize = 3;
/// Linux `MAX_BPRINTF_VARARGS` (`bpf_snprintf`'s argument array, in u64s).
const MAX_BPRINTF_VARARGS: usize = 12;
/// Linux `BPF_MAX_LOOPS`.
pub(super) const BPF_MAX_LOOPS: u64 = 1 << 23;
/// Linux `_NSIG`: signals above it are invalid.
const NSIG: u64 = 64;
/// How far `bpf_snprintf` looks for the end of its format string.
const MAX_FMT: usize = 4096;

/// Formats `fmt` with `args`, reading `%s` strings from program memory (else kernel memory;
/// a fault gives an empty string, as Linux).
fn format_with(env: &ProgEnv<'_>, run: &dyn ActiveRun, fmt: &[u8], args: &[u64]) -> Result<Sink, Errno> {
    let mut out = Sink::new(MAX_BPRINTF_BUF - 1);
    let mut read_str = |addr: u64| -> Vec<u8> {
        if let Some(s) = env.read_cstr(run, addr, MAX_BPRINTF_BUF - 1) {
            return s;
        }
        let mut s = Vec::new();
        for i in 0..MAX_BPRINTF_BUF - 1 {
            let mut b = [0u8];
            let Some(a) = u64::try_from(i).ok().and_then(|i| addr.checked_add(i)) else { break };
            if env.host.copy_from_kernel_nofault(&mut b, a).is_err() {
                return Vec::new();
            }
            if b[0] == 0 || s.try_reserve(1).is_err() {
                break;
            }
            s.push(b[0]);
        }
        s
    };
    format(fmt, args, &mut read_str, &mut out)?;
    Ok(out)
}

/// `long bpf_trace_printk(const char *fmt, u32 fmt_size, ...)`: up to three arguments;
/// the format must hold a NUL within `fmt_size` bytes. Writes one message with
/// [`crate::BpfHost::trace_printk`] and returns its length; a bad format → `-EINVAL`.
pub(super) fn trace_printk(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let Ok(size) = usize::try_from(a[1] & 0xffff_ffff) else { return neg(Errno::EINVAL) };
    let fmt = match env.read_vec(run, a[0], size) {
        Ok(f) => f,
        Err(e) => return neg(e),
    };
    let Some(end) = fmt.iter().position(|&c| c == 0) else { return neg(Errno::EINVAL) };
    let args = [a[2], a[3], a[4]];
    match format_with(env, run, &fmt[..end], &args[..MAX_TRACE_PRINTK_VARARGS]) {
        Ok(out) => {
            env.host.trace_printk(&out.buf);
            out.buf.len() as u64
        }
        Err(e) => neg(e),
    }
}

/// `long bpf_snprintf(char *str, u32 str_size, const char *fmt, u64 *data, u32 data_len)`:
/// formats into `str` (cut to `str_size - 1` bytes plus a NUL) and returns the length the
/// whole output needs including the NUL. `data_len` not a multiple of 8 or above 12
/// arguments, a bad format or too few arguments → `-EINVAL`; unreadable memory → `-EFAULT`.
pub(super) fn snprintf(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let r = (|| {
        let data_len = a[4] & 0xffff_ffff;
        if data_len % 8 != 0 || data_len > (MAX_BPRINTF_VARARGS as u64) * 8 || (data_len != 0 && a[3] == 0) {
            return Err(Errno::EINVAL);
        }
        let fmt = env.read_cstr(run, a[2], MAX_FMT).ok_or(Errno::EFAULT)?;
        let raw = env.read_vec(run, a[3], data_len as usize)?;
        let args: Vec<u64> =
            raw.chunks_exact(8).map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect();
        let out = format_with(env, run, &fmt, &args)?;
        let size = usize::try_from(a[1] & 0xffff_ffff).map_err(|_| Errno::EINVAL)?;
        if size > 0 {
            let n = out.buf.len().min(size - 1);
            let mut bytes = Vec::new();
            bytes.try_reserve_exact(n + 1).map_err(|_| Errno::ENOMEM)?;
            bytes.extend_from_slice(&out.buf[..n]);
            bytes.push(0);
            if !env.write_mem(run, a[0], &bytes) {
                return Err(Errno::EFAULT);
            }
        }
        Ok(out.total as u64 + 1)
    })();
    r.unwrap_or_else(neg)
}

/// `long bpf_strncmp(const char *s1, u32 s1_sz, const char *s2)`: `strncmp(s1, s2, s1_sz)`
/// → -1, 0 or 1 (Linux `lib/string.c`). Unreadable memory → `-EFAULT` (Linux's verifier
/// guarantees readable arguments; the helper itself has no error return).
pub(super) fn strncmp(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> u64 {
    let Ok(n) = usize::try_from(a[1] & 0xffff_ffff) else { return neg(Errno::EINVAL) };
    let s1 = match env.read_vec(run, a[0], n) {
        Ok(s) => s,
        Err(e) => return neg(e),
    };
    for (i, &c1) in s1.iter().enumerate() {
        let mut c2 = [0u8];
        let Some(addr) = u64::try_from(i).ok().and_then(|i| a[2].checked_add(i)) else { return neg(Errno::EFAULT) };
        if !env.read_mem(run, addr, &mut c2) {
            return neg(Errno::EFAULT);
        }
        if c1 != c2[0] {
            return if c1 < c2[0] { -1i64 as u64 } else { 1 };
        }
        if c1 == 0 {
            break;
        }
    }
    0
}

/// `long bpf_loop(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags)`: calls
/// `callback(i, ctx)` for `i` in `0..nr_loops` until it returns non-zero; returns the number
/// of calls made. `flags != 0` → `-EINVAL`, `nr_loops > 1 << 23` → `-E2BIG`.
/// `callback_fn` is the callback's instruction index (the loader's `BPF_PSEUDO_FUNC`
/// relocation).
pub(super) fn bpf_loop(env: &mut ProgEnv<'_>, run: &mut dyn ActiveRun, a: [u64; 5]) -> Result<u64, VmError> {
    if a[3] != 0 {
        return Ok(neg(Errno::EINVAL));
    }
    let nr = a[0] & 0xffff_ffff;
    if nr > BPF_MAX_LOOPS {
        return Ok(neg(Errno::E2BIG));
    }
    let Ok(insn) = usize::try_from(a[1]) else { return Ok(neg(Errno::EINVAL)) };
    for i in 0..nr {
        if run.call_subprog(env, insn, [i, a[2], 0, 0, 0])? != 0 {
            return Ok(i + 1);
        }
    }
    Ok(nr)
}

/// `long bpf_send_signal(u32 sig)`: signal the current process; `sig > 64` → `-EINVAL`;
/// otherwise what [`crate::BpfHost::send_signal`] answers.
pub(super) fn send_signal(env: &mut ProgEnv<'_>, a: [u64; 5]) -> u64 {
    let sig = a[0] & 0xffff_ffff;
    if sig > NSIG {
        return neg(Errno::EINVAL);
    }
    match env.host.send_signal(sig as u32, false) {
        Ok(()) => 0,
        Err(e) => neg(e.errno),
    }
}
