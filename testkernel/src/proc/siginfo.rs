//! `siginfo_t`: the details that travel with a signal, and their 128-byte user layout.
//!
//! Reference: include/uapi/asm-generic/siginfo.h (x86_64: `si_signo`, `si_errno`, `si_code`
//! at 0/4/8, the union at 16), kernel/signal.c (`copy_siginfo_to_user`).

/// `si_code` `SI_USER` (kill).
pub const SI_USER: i32 = 0;
/// `si_code` `SI_KERNEL`.
pub const SI_KERNEL: i32 = 0x80;
/// `si_code` `SI_QUEUE` (sigqueue).
pub const SI_QUEUE: i32 = -1;
/// `si_code` `SI_TKILL` (tkill/tgkill).
pub const SI_TKILL: i32 = -6;
/// `si_code` `SEGV_MAPERR`: address not mapped.
pub const SEGV_MAPERR: i32 = 1;
/// `si_code` `SEGV_ACCERR`: permission fault.
pub const SEGV_ACCERR: i32 = 2;
/// `si_code` `CLD_EXITED`.
pub const CLD_EXITED: i32 = 1;
/// `si_code` `CLD_KILLED`.
pub const CLD_KILLED: i32 = 2;
/// `si_code` `CLD_DUMPED`.
pub const CLD_DUMPED: i32 = 3;

/// Details of one signal (a kernel `siginfo_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    /// Signal number.
    pub signo: u32,
    /// `si_errno`.
    pub errno: i32,
    /// `si_code` (`SI_*`, `SEGV_*`, `CLD_*`...).
    pub code: i32,
    /// The union part.
    pub fields: SigFields,
}

/// The `siginfo_t` union arm in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFields {
    /// No extra fields.
    None,
    /// `kill`/`tgkill`: sender pid and uid.
    Kill {
        /// Sender's process id.
        pid: u32,
        /// Sender's uid.
        uid: u32,
    },
    /// `sigqueue`: sender and value.
    Queue {
        /// Sender's process id.
        pid: u32,
        /// Sender's uid.
        uid: u32,
        /// `si_value`.
        value: u64,
    },
    /// A fault: the faulting address.
    Fault {
        /// `si_addr`.
        addr: u64,
    },
    /// SIGCHLD: the child and how it ended.
    Child {
        /// Child's process id.
        pid: u32,
        /// Child's uid.
        uid: u32,
        /// Exit code or signal number.
        status: i32,
        /// User time in clock ticks.
        utime: i64,
        /// System time in clock ticks.
        stime: i64,
    },
}

impl SigInfo {
    /// A `kill` (`SI_USER`) or `tkill`/`tgkill` (`SI_TKILL`) signal from `pid` (uid 0).
    pub fn kill(signo: u32, code: i32, pid: u32) -> Self {
        SigInfo { signo, errno: 0, code, fields: SigFields::Kill { pid, uid: 0 } }
    }

    /// A fault signal (`SIGSEGV`/`SIGBUS`/`SIGILL`/`SIGFPE`/`SIGTRAP`) at `addr`.
    pub fn fault(signo: u32, code: i32, addr: u64) -> Self {
        SigInfo { signo, errno: 0, code, fields: SigFields::Fault { addr } }
    }

    /// The SIGCHLD a parent gets when child `pid` ends with Linux exit code `exit_code` (the
    /// wait status: signal in bits 0..6, 0x80 for a core dump, exit status in bits 8..15):
    /// `CLD_DUMPED`/`CLD_KILLED` with the signal, or `CLD_EXITED` with the status (Linux's
    /// `do_notify_parent`; CPU times are 0 here).
    pub fn child_exit(pid: u32, exit_code: u32) -> Self {
        let sig = i32::try_from(exit_code & 0x7f).unwrap_or(0);
        let (code, status) = if exit_code & 0x80 != 0 {
            (CLD_DUMPED, sig)
        } else if sig != 0 {
            (CLD_KILLED, sig)
        } else {
            (CLD_EXITED, i32::try_from((exit_code >> 8) & 0xff).unwrap_or(0))
        };
        SigInfo { signo: 17, errno: 0, code, fields: SigFields::Child { pid, uid: 0, status, utime: 0, stime: 0 } }
    }

    /// A signal the kernel raises for itself (`SI_KERNEL`).
    pub fn kernel(signo: u32) -> Self {
        SigInfo { signo, errno: 0, code: SI_KERNEL, fields: SigFields::None }
    }

    /// The 128-byte user `siginfo_t` (x86_64 layout: signo, errno, code at 0/4/8, the union
    /// at 16).
    pub fn to_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        put(&mut b, 0, &self.signo.to_ne_bytes());
        put(&mut b, 4, &self.errno.to_ne_bytes());
        put(&mut b, 8, &self.code.to_ne_bytes());
        match self.fields {
            SigFields::None => {}
            SigFields::Kill { pid, uid } => {
                put(&mut b, 16, &pid.to_ne_bytes());
                put(&mut b, 20, &uid.to_ne_bytes());
            }
            SigFields::Queue { pid, uid, value } => {
                put(&mut b, 16, &pid.to_ne_bytes());
                put(&mut b, 20, &uid.to_ne_bytes());
                put(&mut b, 24, &value.to_ne_bytes());
            }
            SigFields::Fault { addr } => put(&mut b, 16, &addr.to_ne_bytes()),
            SigFields::Child { pid, uid, status, utime, stime } => {
                put(&mut b, 16, &pid.to_ne_bytes());
                put(&mut b, 20, &uid.to_ne_bytes());
                put(&mut b, 24, &status.to_ne_bytes());
                put(&mut b, 32, &utime.to_ne_bytes());
                put(&mut b, 40, &stime.to_ne_bytes());
            }
        }
        b
    }
}

/// Copies `src` into `buf` at `off` (callers use fixed, in-bounds offsets).
pub(crate) fn put(buf: &mut [u8], off: usize, src: &[u8]) {
    if let Some(dst) = buf.get_mut(off..off + src.len()) {
        dst.copy_from_slice(src);
    }
}
