//! The verifier log (`struct bpf_verifier_log`) with Linux 6.1's semantics, so that loaders
//! that grow their buffer on `ENOSPC` (libbpf, bpftool, aya) behave as they do on Linux.
//!
//! Reference: Linux 6.1 `include/linux/bpf_verifier.h` (`bpf_verifier_log_attr_valid`,
//! `bpf_verifier_log_full`, `bpf_verifier_log_needed`, `BPF_LOG_*`) and
//! `kernel/bpf/verifier.c` (`bpf_verifier_vlog`, `bpf_vlog_reset`, the end of `bpf_check`).
//!
//! Linux writes into the user buffer as it goes: every line is copied to `log_buf +
//! len_used` followed by a NUL, a line that does not fit is cut at `log_size - 1` bytes, and
//! once `len_used >= log_size - 1` the log is *full* and nothing more is written (not even a
//! reset). Resets (after an explored branch, and after a successful verification at level
//! one) move `len_used` back and write one NUL there, leaving older bytes after it in place.
//! A full log at the end of `bpf_check` turns the result into `ENOSPC`, whatever it was.
//! This type records the same bytes in kernel memory; [`VerifierLog::user_bytes`] is what
//! the `PROG_LOAD` code copies to `log_buf` afterwards (a fault there is `EFAULT`, which
//! Linux also returns when a log copy faults).

use alloc::vec::Vec;
use core::fmt;

use syscall_abi::{Errno, Error};

/// `BPF_LOG_LEVEL1`: the instructions of the path being verified and the error.
pub const BPF_LOG_LEVEL1: u32 = 1;
/// `BPF_LOG_LEVEL2`: everything, with branch headers; the trace is kept on success.
pub const BPF_LOG_LEVEL2: u32 = 2;
/// `BPF_LOG_STATS`: verification statistics (time, stack depth).
pub const BPF_LOG_STATS: u32 = 4;
/// The bits `log_level` may have (`BPF_LOG_MASK`).
pub const BPF_LOG_MASK: u32 = BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS;
/// Smallest accepted `log_size` (Linux 6.1).
pub const LOG_SIZE_MIN: u32 = 128;
/// Largest accepted `log_size`: `UINT_MAX >> 2`.
pub const LOG_SIZE_MAX: u32 = u32::MAX >> 2;
/// Longest single log write (`BPF_VERIFIER_TMP_LOG_SIZE - 1`); longer lines are cut.
const LINE_MAX: usize = 1023;

/// The verifier log of one `PROG_LOAD` (`struct bpf_verifier_log`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifierLog {
    level: u32,
    /// `log_size` (`len_total`).
    size: u32,
    /// Bytes of text before the terminating NUL (`len_used`).
    used: u32,
    /// Every byte Linux would have written to the user buffer so far, from offset 0.
    bytes: Vec<u8>,
}

impl VerifierLog {
    /// A log that records nothing (`log_level`, `log_buf` and `log_size` all zero).
    pub const fn disabled() -> Self {
        VerifierLog { level: 0, size: 0, used: 0, bytes: Vec::new() }
    }

    /// The log a `PROG_LOAD` asked for, validated like Linux 6.1's `bpf_check`: if any of
    /// `log_level`, `log_buf` (`buf_is_set`: non-zero pointer) and `log_size` is non-zero,
    /// all must be sane: `128 <= log_size <= UINT_MAX >> 2`, a level, a buffer, and no
    /// level bits outside `BPF_LOG_MASK`; otherwise `EINVAL`.
    pub fn new(log_level: u32, buf_is_set: bool, log_size: u32) -> Result<Self, Error> {
        if log_level == 0 && !buf_is_set && log_size == 0 {
            return Ok(Self::disabled());
        }
        let valid = (LOG_SIZE_MIN..=LOG_SIZE_MAX).contains(&log_size)
            && log_level != 0
            && buf_is_set
            && log_level & !BPF_LOG_MASK == 0;
        if !valid {
            return Err(Error::new(Errno::EINVAL, "invalid log_level, log_buf or log_size"));
        }
        Ok(VerifierLog { level: log_level, size: log_size, used: 0, bytes: Vec::new() })
    }

    /// `log_level` (0: disabled).
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Whether `level` has any of the bits in `mask`.
    pub fn has(&self, mask: u32) -> bool {
        self.level & mask != 0
    }

    /// `bpf_verifier_log_full`: no room left for another byte of text.
    pub fn is_full(&self) -> bool {
        self.level != 0 && u64::from(self.used) + 1 >= u64::from(self.size)
    }

    /// `bpf_verifier_log_needed`: enabled and not full, so writes and resets take effect.
    pub fn is_needed(&self) -> bool {
        self.level != 0 && !self.is_full()
    }

    /// Bytes of text (`len_used`).
    pub fn len_used(&self) -> u32 {
        self.used
    }

    /// Appends text, cut like Linux (1023 bytes per write, then the buffer's room).
    pub fn write_str(&mut self, s: &str) {
        if !self.is_needed() {
            return;
        }
        let line = &s.as_bytes()[..s.len().min(LINE_MAX)];
        let room = u64::from(self.size) - u64::from(self.used) - 1;
        let n = usize::try_from(room).map_or(line.len(), |room| room.min(line.len()));
        let start = self.used as usize;
        self.put(start, &line[..n]);
        self.used += n as u32;
    }

    /// Appends formatted text (see [`VerifierLog::write_str`]).
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) {
        if !self.is_needed() {
            return;
        }
        let mut line = LineBuf(alloc::string::String::new());
        let _ = fmt::write(&mut line, args);
        self.write_str(&line.0);
    }

    /// `bpf_vlog_reset`: moves the end of the text back to `pos` (no effect once full).
    pub fn reset(&mut self, pos: u32) {
        if !self.is_needed() || pos > self.used {
            return;
        }
        self.used = pos;
        self.put(pos as usize, &[]);
    }

    /// The text so far (up to the terminating NUL).
    pub fn text(&self) -> &str {
        let end = (self.used as usize).min(self.bytes.len());
        core::str::from_utf8(&self.bytes[..end]).unwrap_or("")
    }

    /// What Linux would have written to `log_buf` (starting at offset 0): the text, its
    /// NUL, and any older bytes a reset left after it. Empty for a disabled log.
    pub fn user_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Writes `data` and a NUL at `at`, growing the record as needed.
    fn put(&mut self, at: usize, data: &[u8]) {
        let end = at + data.len() + 1;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes[at..at + data.len()].copy_from_slice(data);
        self.bytes[at + data.len()] = 0;
    }
}

/// A `fmt::Write` into a `String` that stops growing past one log line.
struct LineBuf(alloc::string::String);

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.0.len() < LINE_MAX {
            self.0.push_str(s);
        }
        Ok(())
    }
}
