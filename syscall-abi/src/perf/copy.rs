//! Copy-in and validation of `struct perf_event_attr`, with Linux's `perf_copy_attr` rules.
//!
//! Reference: `perf_copy_attr` in kernel/events/core.c (Linux 6.1).
//!
//! [`copy_attr`] applies the size rules (a zero `size` means `PERF_ATTR_SIZE_VER0`; a size
//! below that or above a page is `E2BIG`; a longer struct must be zero past the kernel's; a
//! shorter one is zero-extended; `attr.size` is set to the user's size). On `E2BIG` Linux also
//! writes `sizeof(struct perf_event_attr)` into the user's `size` field so the caller can
//! retry: that write is the caller's job — write [`size_writeback`] at
//! [`PERF_ATTR_SIZE_OFFSET`]. [`check_attr`] then applies the checks of `perf_copy_attr` that
//! depend on nothing but the struct; the caller still owns the ones that need the kernel:
//! `perf_reg_validate` of `sample_regs_user`/`sample_regs_intr`, the user-stack-dump
//! capability (`ENOSYS`), `perf_allow_kernel` for privileged branch sampling, the default of
//! `sample_max_stack` (sysctl) and `PERF_SAMPLE_CGROUP` without cgroup support.

use super::attr::{PerfEventAttr, PERF_ATTR_SIZE_VER0};
use super::sample::{
    PERF_FORMAT_MAX, PERF_SAMPLE_BRANCH_HV, PERF_SAMPLE_BRANCH_KERNEL, PERF_SAMPLE_BRANCH_MAX,
    PERF_SAMPLE_BRANCH_PLM_ALL, PERF_SAMPLE_BRANCH_STACK, PERF_SAMPLE_BRANCH_USER, PERF_SAMPLE_MAX,
    PERF_SAMPLE_STACK_USER, PERF_SAMPLE_WEIGHT, PERF_SAMPLE_WEIGHT_STRUCT,
};
use crate::uarg::{self, UserSource};
use crate::{err, Errno, Result};

/// Offset of `size` in `struct perf_event_attr`.
pub const PERF_ATTR_SIZE_OFFSET: usize = core::mem::offset_of!(PerfEventAttr, size);

/// The bytes Linux writes at [`PERF_ATTR_SIZE_OFFSET`] of the user's struct when the copy
/// fails with `E2BIG`: `sizeof(struct perf_event_attr)` in native byte order.
pub const fn size_writeback() -> [u8; 4] {
    (core::mem::size_of::<PerfEventAttr>() as u32).to_ne_bytes()
}

/// Copies the user's `perf_event_attr` with the size rules of `perf_copy_attr` (see the
/// module documentation). Errors: `EFAULT` (unreadable), `E2BIG` (bad size or non-zero tail;
/// the caller then writes [`size_writeback`]).
pub fn copy_attr<S: UserSource + ?Sized>(src: &mut S, page_size: usize) -> Result<PerfEventAttr> {
    let mut raw = [0u8; 4];
    src.read(PERF_ATTR_SIZE_OFFSET, &mut raw)?;
    let mut size = u32::from_ne_bytes(raw);
    if size == 0 {
        size = PERF_ATTR_SIZE_VER0;
    }
    let usize_size = match usize::try_from(size) {
        Ok(s) if size >= PERF_ATTR_SIZE_VER0 && s <= page_size => s,
        _ => return err(Errno::E2BIG, "perf_event_attr size out of range"),
    };
    let mut attr: PerfEventAttr = uarg::copy_struct_from_user(src, usize_size)?;
    attr.size = size;
    Ok(attr)
}

/// The checks `perf_copy_attr` makes on the copied struct alone, in Linux's order; all fail
/// with `EINVAL`. Like Linux, fills in `branch_sample_type`'s privilege bits from the
/// `exclude_*` bits when branch sampling asks for none.
pub fn check_attr(attr: &mut PerfEventAttr) -> Result<()> {
    if attr.reserved_1() != 0 || attr.reserved_2 != 0 || attr.reserved_3 != 0 {
        return err(Errno::EINVAL, "reserved perf_event_attr bits set");
    }
    if attr.sample_type & !(PERF_SAMPLE_MAX - 1) != 0 {
        return err(Errno::EINVAL, "unknown sample_type bits");
    }
    if attr.read_format & !(PERF_FORMAT_MAX - 1) != 0 {
        return err(Errno::EINVAL, "unknown read_format bits");
    }
    if attr.sample_type & PERF_SAMPLE_BRANCH_STACK != 0 {
        let mut mask = attr.branch_sample_type;
        if mask & !(PERF_SAMPLE_BRANCH_MAX - 1) != 0 {
            return err(Errno::EINVAL, "unknown branch_sample_type bits");
        }
        if mask & !PERF_SAMPLE_BRANCH_PLM_ALL == 0 {
            return err(Errno::EINVAL, "branch_sample_type selects no branch kind");
        }
        if mask & PERF_SAMPLE_BRANCH_PLM_ALL == 0 {
            if attr.exclude_kernel() == 0 {
                mask |= PERF_SAMPLE_BRANCH_KERNEL;
            }
            if attr.exclude_user() == 0 {
                mask |= PERF_SAMPLE_BRANCH_USER;
            }
            if attr.exclude_hv() == 0 {
                mask |= PERF_SAMPLE_BRANCH_HV;
            }
            attr.branch_sample_type = mask;
        }
    }
    if attr.sample_type & PERF_SAMPLE_STACK_USER != 0
        && (attr.sample_stack_user >= u32::from(u16::MAX) || attr.sample_stack_user % 8 != 0)
    {
        return err(Errno::EINVAL, "sample_stack_user too large or not 8-byte aligned");
    }
    if attr.sample_type & PERF_SAMPLE_WEIGHT != 0 && attr.sample_type & PERF_SAMPLE_WEIGHT_STRUCT != 0 {
        return err(Errno::EINVAL, "PERF_SAMPLE_WEIGHT and PERF_SAMPLE_WEIGHT_STRUCT together");
    }
    if attr.inherit() == 0 && attr.inherit_thread() != 0 {
        return err(Errno::EINVAL, "inherit_thread without inherit");
    }
    if attr.remove_on_exec() != 0 && attr.enable_on_exec() != 0 {
        return err(Errno::EINVAL, "remove_on_exec with enable_on_exec");
    }
    if attr.sigtrap() != 0 && attr.remove_on_exec() == 0 {
        return err(Errno::EINVAL, "sigtrap without remove_on_exec");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
