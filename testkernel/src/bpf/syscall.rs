//! `bpf(2)` (x86_64 syscall 321): a thin call into `bpf_subsys::sys_bpf` with the kernel's
//! host.
//!
//! Reference: Linux `SYSCALL_DEFINE3(bpf, int, cmd, union bpf_attr __user *, uattr,
//! unsigned int, size)`: `cmd` and `size` are the low 32 bits of their registers.

use alloc::sync::Arc;

use bpf_subsys::BpfHost;
use syscall_abi::Errno;

use super::KernelBpfHost;
use crate::KResult;

/// `bpf(cmd, uattr, size)` for the current process of `host`: an fd or 0, or the errno.
pub fn sys_bpf(host: &Arc<KernelBpfHost>, cmd: u32, uattr: u64, size: u32) -> KResult<u64> {
    let host: Arc<dyn BpfHost> = host.clone();
    let ret = bpf_subsys::sys_bpf(&host, cmd, uattr, size);
    match u64::try_from(ret) {
        Ok(v) => Ok(v),
        Err(_) => Err(Errno(i32::try_from(ret.unsigned_abs()).unwrap_or(Errno::EINVAL.0))),
    }
}
