//! `wait4`: reaping zombie children.

use alloc::sync::Arc;

use syscall_abi::Errno;

use super::process::Process;
use crate::KResult;

/// `WNOHANG`.
pub const WNOHANG: u32 = 1;
/// `WUNTRACED`.
pub const WUNTRACED: u32 = 2;
/// `WCONTINUED`.
pub const WCONTINUED: u32 = 8;
/// `__WNOTHREAD`.
pub const WNOTHREAD: u32 = 0x2000_0000;
/// `__WALL`.
pub const WALL: u32 = 0x4000_0000;
/// `__WCLONE`.
pub const WCLONE: u32 = 0x8000_0000;

fn matches(pid: i32, c: &Process) -> bool {
    // Process groups are not modelled: every process is in one group, so 0 and -pgid
    // select any child, like -1.
    pid <= 0 || i32::try_from(c.pid).is_ok_and(|p| p == pid)
}

/// Waits for a child matching `pid` (Linux `wait4` selection) to exit; returns its pid and
/// wait status, or `None` with `WNOHANG` when none has exited yet. `ECHILD` when no child
/// matches, `EINTR` on a signal, `EINVAL` for unknown options.
pub fn wait_child(me: &Arc<Process>, pid: i32, options: u32) -> KResult<Option<(u32, i32)>> {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL);
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let mut found: KResult<Option<(u32, i32)>> = Ok(None);
    let try_reap = |found: &mut KResult<Option<(u32, i32)>>| -> bool {
        let mut children = me.children.lock();
        if !children.iter().any(|c| matches(pid, c)) {
            *found = Err(Errno::ECHILD);
            return true;
        }
        let idx = children.iter().position(|c| matches(pid, c) && c.exit.lock().zombie.is_some());
        if let Some(i) = idx {
            let c = children.remove(i);
            let status = c.exit.lock().zombie.unwrap_or(0);
            c.unregister();
            *found = Ok(Some((c.pid, status)));
            return true;
        }
        false
    };
    if try_reap(&mut found) || options & WNOHANG != 0 {
        return found;
    }
    me.child_wait.wait_until(None, || try_reap(&mut found))?;
    found
}
