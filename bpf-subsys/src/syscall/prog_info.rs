//! `BPF_OBJ_GET_INFO_BY_FD` for programs (Linux 6.1 `bpf_prog_get_info_by_fd`).
//!
//! The user's `struct bpf_prog_info` is read first: its array fields are *requests*. For each
//! array (`map_ids`, `xlated_prog_insns`, `jited_ksyms`, `jited_func_lens`, `func_info`,
//! `line_info`, `prog_tags`) the user gives a capacity (`nr_*` or `*_len`) and a pointer; the
//! kernel writes `min(capacity, actual)` elements and stores the actual count, so a caller
//! learns the sizes with a first call and fetches the data with a second. Record sizes
//! (`func_info_rec_size`, ...) must be the kernel's or, with a zero count, zero (`EINVAL`).
//!
//! Without `CAP_BPF`/`CAP_SYS_ADMIN` the instruction and debug arrays are withheld (their
//! lengths read 0), as Linux. Programs run on the interpreter: the JIT image is empty
//! (`jited_prog_len` 0), and the one "function" has address 0 and length 0 (Linux reports
//! the interpreter's address; there is none to report here).

use syscall_abi::bpf::{BpfFuncInfo, BpfLineInfo, BpfProgInfo, InfoAttr, BPF_TAG_SIZE};
use syscall_abi::{err, Errno, Result};

use super::info::{checked_info_len, finish};
use super::user::{bytes_of, offset, zeroed, User};
use super::Sys;
use crate::host::{bpf_capable, Capability};
use crate::object::ProgObj;
use crate::vm::insn::RawInsn;

const FUNC_INFO_REC: u32 = core::mem::size_of::<BpfFuncInfo>() as u32;
const LINE_INFO_REC: u32 = core::mem::size_of::<BpfLineInfo>() as u32;
const JITED_LINE_INFO_REC: u32 = 8;

/// Linux `set_info_rec_size`.
fn set_info_rec_size(info: &mut BpfProgInfo) -> Result<()> {
    if (info.nr_func_info != 0 || info.func_info_rec_size != 0) && info.func_info_rec_size != FUNC_INFO_REC {
        return err(Errno::EINVAL, "func_info_rec_size is not sizeof(struct bpf_func_info)");
    }
    if (info.nr_line_info != 0 || info.line_info_rec_size != 0) && info.line_info_rec_size != LINE_INFO_REC {
        return err(Errno::EINVAL, "line_info_rec_size is not sizeof(struct bpf_line_info)");
    }
    if (info.nr_jited_line_info != 0 || info.jited_line_info_rec_size != 0)
        && info.jited_line_info_rec_size != JITED_LINE_INFO_REC
    {
        return err(Errno::EINVAL, "jited_line_info_rec_size is not sizeof(__u64)");
    }
    info.func_info_rec_size = FUNC_INFO_REC;
    info.line_info_rec_size = LINE_INFO_REC;
    info.jited_line_info_rec_size = JITED_LINE_INFO_REC;
    Ok(())
}

/// Writes the first `min(capacity, items.len())` items of `items` (each `size` bytes) to
/// `addr`, and returns the actual count as the new `nr_*` value.
fn put_array<T: syscall_abi::abi::Pod>(user: &User<'_>, addr: u64, capacity: u32, items: &[T]) -> Result<u32> {
    let n = items.len().min(capacity as usize);
    for (i, item) in items[..n].iter().enumerate() {
        user.write(offset(addr, bytes_of(i, core::mem::size_of::<T>())?)?, item.as_bytes())?;
    }
    u32::try_from(items.len()).map_err(|_| Errno::E2BIG.into())
}

/// The program's info record.
pub(super) fn prog_info(sys: &Sys<'_>, prog: &ProgObj, a: &InfoAttr) -> Result<u32> {
    let len = checked_info_len(sys, a, core::mem::size_of::<BpfProgInfo>())?;
    let user = sys.user();
    let mut info: BpfProgInfo = user.read_prefix(a.info, len)?;

    info.type_ = u32::from(prog.prog_type());
    info.id = prog.id();
    info.load_time = prog.load_time();
    info.created_by_uid = prog.created_by_uid();
    info.set_gpl_compatible(u32::from(prog.gpl_compatible()));
    info.tag = *prog.tag();
    info.name = *prog.name();

    let map_ids = prog.map_ids();
    info.nr_map_ids = put_array(&user, info.map_ids, info.nr_map_ids, &map_ids)?;

    set_info_rec_size(&mut info)?;

    let stats = prog.stats();
    info.run_time_ns = stats.run_time_ns.load(core::sync::atomic::Ordering::Relaxed);
    info.run_cnt = stats.run_cnt.load(core::sync::atomic::Ordering::Relaxed);
    info.recursion_misses = stats.recursion_misses.load(core::sync::atomic::Ordering::Relaxed);
    info.verified_insns = prog.verified_insns();

    if !bpf_capable(sys.host()) {
        info.jited_prog_len = 0;
        info.xlated_prog_len = 0;
        info.nr_jited_ksyms = 0;
        info.nr_jited_func_lens = 0;
        info.nr_func_info = 0;
        info.nr_line_info = 0;
        info.nr_jited_line_info = 0;
        return finish(sys, a, &info, len);
    }

    // Translated instructions: a byte length, not a count.
    let xlated = prog.xlated();
    let xlated_len = bytes_of(xlated.len(), core::mem::size_of::<RawInsn>())?;
    let ulen = info.xlated_prog_len as usize;
    info.xlated_prog_len = u32::try_from(xlated_len).map_err(|_| Errno::E2BIG)?;
    if xlated_len != 0 && ulen != 0 {
        let mut bytes = zeroed(xlated_len.min(ulen))?;
        for (dst, src) in bytes.iter_mut().zip(xlated.iter().flatten()) {
            *dst = *src;
        }
        user.write(info.xlated_prog_insns, &bytes)?;
    }

    // No JIT image (interpreter); one function with address and length 0.
    info.jited_prog_len = 0;
    let raw_ok = sys.host().capable(Capability::Syslog);
    let ksyms_cap = info.nr_jited_ksyms;
    info.nr_jited_ksyms = 1;
    if ksyms_cap != 0 {
        if raw_ok {
            user.write_u64(info.jited_ksyms, 0)?;
        } else {
            info.jited_ksyms = 0;
        }
    }
    let lens_cap = info.nr_jited_func_lens;
    info.nr_jited_func_lens = 1;
    if lens_cap != 0 {
        if raw_ok {
            user.write_u32(info.jited_func_lens, 0)?;
        } else {
            info.jited_func_lens = 0;
        }
    }

    if let Some(btf) = prog.btf() {
        info.btf_id = btf.id();
    }
    info.attach_btf_id = 0;
    info.attach_btf_obj_id = 0;

    let fi_cap = info.nr_func_info;
    info.nr_func_info = u32::try_from(prog.func_info().len()).map_err(|_| Errno::E2BIG)?;
    if info.nr_func_info != 0 && fi_cap != 0 {
        put_array(&user, info.func_info, fi_cap, prog.func_info())?;
    }
    let li_cap = info.nr_line_info;
    info.nr_line_info = u32::try_from(prog.line_info().len()).map_err(|_| Errno::E2BIG)?;
    if info.nr_line_info != 0 && li_cap != 0 {
        put_array(&user, info.line_info, li_cap, prog.line_info())?;
    }
    // No JIT, so no JITed line table.
    info.nr_jited_line_info = 0;

    let tags_cap = info.nr_prog_tags;
    info.nr_prog_tags = 1;
    if tags_cap != 0 {
        let tag: [u8; BPF_TAG_SIZE] = *prog.tag();
        user.write(info.prog_tags, &tag)?;
    }

    finish(sys, a, &info, len)
}
