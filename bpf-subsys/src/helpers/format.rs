//! The printf subset of `bpf_trace_printk` and `bpf_snprintf` (Linux 6.1
//! `kernel/bpf/helpers.c` `bpf_bprintf_prepare`): `%d %i %u %x %X` with `l`/`ll`, `%s`,
//! `%c`, `%p`/`%px`/`%pK` (all printed like Linux's `%px`: 16 zero-padded hex digits, no hashing), `%%`; flags `0 + - space` and a width. The format must
//! be printable text (or whitespace); anything else, an unknown conversion, or more
//! conversions than arguments → `EINVAL`.

use alloc::vec::Vec;

use syscall_abi::Errno;

/// Output collected up to a cap; `total` counts every byte the format produces (what
/// `vsnprintf` returns).
pub(super) struct Sink {
    pub(super) buf: Vec<u8>,
    cap: usize,
    pub(super) total: usize,
}

impl Sink {
    /// A sink keeping at most `cap` bytes.
    pub(super) fn new(cap: usize) -> Sink {
        Sink { buf: Vec::new(), cap, total: 0 }
    }

    fn put(&mut self, bytes: &[u8]) {
        self.total = self.total.saturating_add(bytes.len());
        let room = self.cap.saturating_sub(self.buf.len());
        let n = room.min(bytes.len());
        if n > 0 && self.buf.try_reserve(n).is_ok() {
            self.buf.extend_from_slice(&bytes[..n]);
        }
    }

    fn pad(&mut self, c: u8, n: usize) {
        for _ in 0..n {
            self.put(&[c]);
        }
    }
}

/// Largest width honoured (Linux's `vsnprintf` limits field widths similarly).
const MAX_WIDTH: usize = 4096;

/// One conversion's flags and width.
#[derive(Default)]
struct Spec {
    zero: bool,
    left: bool,
    plus: bool,
    space: bool,
    width: usize,
}

impl Spec {
    /// Writes `body` (with `sign` in front) padded to the width.
    fn emit(&self, out: &mut Sink, sign: &[u8], body: &[u8], numeric: bool) {
        let len = sign.len() + body.len();
        let pad = self.width.saturating_sub(len);
        if self.left {
            out.put(sign);
            out.put(body);
            out.pad(b' ', pad);
        } else if self.zero && numeric {
            out.put(sign);
            out.pad(b'0', pad);
            out.put(body);
        } else {
            out.pad(b' ', pad);
            out.put(sign);
            out.put(body);
        }
    }
}

/// Digits of `v` in `base` (lower or upper case hex).
fn digits(mut v: u64, base: u64, upper: bool) -> ([u8; 24], usize) {
    let set: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut tmp = [0u8; 24];
    let mut n = 0;
    loop {
        tmp[23 - n] = set[(v % base) as usize];
        n += 1;
        v /= base;
        if v == 0 {
            break;
        }
    }
    (tmp, n)
}

/// Formats `fmt` (without its NUL) with `args` (at most `max_args` conversions), reading
/// `%s` strings with `read_str` (which returns an empty string on a fault, as Linux).
pub(super) fn format(
    fmt: &[u8],
    args: &[u64],
    read_str: &mut dyn FnMut(u64) -> Vec<u8>,
    out: &mut Sink,
) -> Result<(), Errno> {
    let mut i = 0;
    let mut next_arg = 0;
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            if !(c.is_ascii_graphic() || c == b' ' || c.is_ascii_whitespace()) {
                return Err(Errno::EINVAL);
            }
            out.put(&[c]);
            i += 1;
            continue;
        }
        i += 1;
        if at(i) == b'%' {
            out.put(b"%");
            i += 1;
            continue;
        }
        let Some(&arg) = args.get(next_arg) else { return Err(Errno::EINVAL) };
        next_arg += 1;
        let mut spec = Spec::default();
        loop {
            match at(i) {
                b'0' => spec.zero = true,
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        while at(i).is_ascii_digit() {
            spec.width = (spec.width * 10 + usize::from(at(i) - b'0')).min(MAX_WIDTH);
            i += 1;
        }
        match at(i) {
            b'p' => {
                i += 1;
                // `%px` and `%pK` are the raw value; other `%p` extensions are not supported.
                if matches!(at(i), b'x' | b'K') {
                    i += 1;
                } else if at(i).is_ascii_alphanumeric() {
                    return Err(Errno::EINVAL);
                }
                // Linux `pointer_string`: 16 hex digits, zero-padded, no prefix.
                let (d, n) = digits(arg, 16, false);
                out.pad(b'0', 16usize.saturating_sub(n));
                out.put(&d[24 - n..]);
                continue;
            }
            b's' => {
                i += 1;
                let s = read_str(arg);
                spec.emit(out, b"", &s, false);
                continue;
            }
            b'c' => {
                i += 1;
                spec.emit(out, b"", &[arg as u8], false);
                continue;
            }
            _ => {}
        }
        let mut long = 0;
        while at(i) == b'l' && long < 2 {
            long += 1;
            i += 1;
        }
        let conv = at(i);
        i += 1;
        // Without `l`, the argument is a 32-bit value.
        let v = if long == 0 { arg & 0xffff_ffff } else { arg };
        match conv {
            b'd' | b'i' => {
                let sv = if long == 0 { i64::from(v as u32 as i32) } else { v as i64 };
                let (d, n) = digits(sv.unsigned_abs(), 10, false);
                let sign: &[u8] = match (sv < 0, spec.plus, spec.space) {
                    (true, _, _) => b"-",
                    (false, true, _) => b"+",
                    (false, false, true) => b" ",
                    _ => b"",
                };
                spec.emit(out, sign, &d[24 - n..], true);
            }
            b'u' => {
                let (d, n) = digits(v, 10, false);
                spec.emit(out, b"", &d[24 - n..], true);
            }
            b'x' | b'X' => {
                let (d, n) = digits(v, 16, conv == b'X');
                spec.emit(out, b"", &d[24 - n..], true);
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(())
}
