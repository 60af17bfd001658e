//! `func_info` and `line_info` of `BPF_PROG_LOAD` (Linux 6.1 `check_btf_info`,
//! `check_btf_func`, `check_btf_line`), checked against the verified program's
//! subprogram layout. BTF type ids and string offsets are not checked (no BTF parser yet).

use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{BpfFuncInfo, BpfLineInfo, ProgLoadAttr};
use syscall_abi::{err, Errno, Result};

use super::super::user::{bytes_of, offset};
use super::super::Sys;
use crate::object::{btf_from_fd, BtfObj};
use crate::verifier::{VerifiedProgram, VerifierLog};
use crate::vm::insn::RawInsn;

/// Smallest and largest accepted record sizes (`MIN_BPF_FUNCINFO_SIZE`,
/// `MAX_FUNCINFO_REC_SIZE`, `MIN_BPF_LINEINFO_SIZE`, `MAX_LINEINFO_REC_SIZE`).
const MIN_FUNCINFO: u32 = 8;
const MAX_FUNCINFO: u32 = 252;
const MIN_LINEINFO: u32 = 16;
const MAX_LINEINFO: u32 = 252;

/// What the program object keeps.
#[derive(Default)]
pub(super) struct BtfInfo {
    pub btf: Option<Arc<BtfObj>>,
    pub func_info: Vec<BpfFuncInfo>,
    pub line_info: Vec<BpfLineInfo>,
}

/// Reads `count` records of `rec_size` user bytes into kernel records `T` (Linux: the
/// user's record may be longer than the kernel's if the tail is zero, else `E2BIG`).
fn read_records<T: Pod>(
    sys: &Sys<'_>,
    addr: u64,
    rec_size: u32,
    count: u32,
    log: &mut VerifierLog,
    what: &str,
) -> Result<Vec<T>> {
    let krec = core::mem::size_of::<T>();
    let urec = rec_size as usize;
    let mut out = Vec::new();
    out.try_reserve_exact(count as usize).map_err(|_| Errno::ENOMEM)?;
    let user = sys.user();
    for i in 0..count as usize {
        let rec = offset(addr, bytes_of(i, urec)?)?;
        if urec > krec {
            let tail = user.read_vec(offset(rec, krec)?, urec - krec)?;
            if tail.iter().any(|&b| b != 0) {
                log.write_fmt(format_args!("nonzero tailing record in {what}"));
                return err(Errno::E2BIG, "nonzero tail in a BTF info record");
            }
        }
        out.push(user.read_prefix::<T>(rec, urec.min(krec))?);
    }
    Ok(out)
}

/// Linux `check_btf_info` (without the BTF type checks).
pub(super) fn check_btf_info(
    sys: &Sys<'_>,
    a: &ProgLoadAttr,
    insns: &[RawInsn],
    verified: &VerifiedProgram,
    log: &mut VerifierLog,
) -> Result<BtfInfo> {
    if a.func_info_cnt == 0 && a.line_info_cnt == 0 {
        return Ok(BtfInfo::default());
    }
    let btf = btf_from_fd(sys.host(), a.prog_btf_fd)?;
    if btf.kernel_btf() {
        return err(Errno::EACCES, "prog_btf_fd is a kernel BTF");
    }
    let func_info = check_btf_func(sys, a, verified, log)?;
    let line_info = check_btf_line(sys, a, insns, verified, log)?;
    Ok(BtfInfo { btf: Some(btf), func_info, line_info })
}

fn check_btf_func(
    sys: &Sys<'_>,
    a: &ProgLoadAttr,
    verified: &VerifiedProgram,
    log: &mut VerifierLog,
) -> Result<Vec<BpfFuncInfo>> {
    let n = a.func_info_cnt;
    if n == 0 {
        return Ok(Vec::new());
    }
    if n as usize != verified.subprogs.len() {
        log.write_str("number of funcs in func_info doesn't match number of subprogs\n");
        return err(Errno::EINVAL, "func_info_cnt != number of subprograms");
    }
    let rec = a.func_info_rec_size;
    if !(MIN_FUNCINFO..=MAX_FUNCINFO).contains(&rec) || rec % 4 != 0 {
        log.write_fmt(format_args!("invalid func info rec size {rec}\n"));
        return err(Errno::EINVAL, "bad func_info_rec_size");
    }
    let records: Vec<BpfFuncInfo> = read_records(sys, a.func_info, rec, n, log, "func info")?;
    let mut prev = 0;
    for (i, (r, sub)) in records.iter().zip(&verified.subprogs).enumerate() {
        if i == 0 && r.insn_off != 0 {
            log.write_fmt(format_args!("nonzero insn_off {} for the first func info record", r.insn_off));
            return err(Errno::EINVAL, "first func_info not at 0");
        }
        if i != 0 && r.insn_off <= prev {
            log.write_fmt(format_args!(
                "same or smaller insn offset ({}) than previous func info record ({prev})",
                r.insn_off
            ));
            return err(Errno::EINVAL, "func_info not increasing");
        }
        if sub.start != r.insn_off as usize {
            log.write_str("func_info BTF section doesn't match subprog layout in BPF program\n");
            return err(Errno::EINVAL, "func_info does not match subprograms");
        }
        prev = r.insn_off;
    }
    Ok(records)
}

fn check_btf_line(
    sys: &Sys<'_>,
    a: &ProgLoadAttr,
    insns: &[RawInsn],
    verified: &VerifiedProgram,
    log: &mut VerifierLog,
) -> Result<Vec<BpfLineInfo>> {
    let n = a.line_info_cnt;
    if n == 0 {
        return Ok(Vec::new());
    }
    if n as usize > i32::MAX as usize / core::mem::size_of::<BpfLineInfo>() {
        return err(Errno::EINVAL, "line_info_cnt too big");
    }
    let rec = a.line_info_rec_size;
    if !(MIN_LINEINFO..=MAX_LINEINFO).contains(&rec) || rec % 4 != 0 {
        return err(Errno::EINVAL, "bad line_info_rec_size");
    }
    let records: Vec<BpfLineInfo> = read_records(sys, a.line_info, rec, n, log, "line_info")?;
    let mut sub = 0;
    let mut prev = 0;
    for (i, r) in records.iter().enumerate() {
        let off = r.insn_off as usize;
        if (i != 0 && r.insn_off <= prev) || off >= insns.len() {
            log.write_fmt(format_args!(
                "Invalid line_info[{i}].insn_off:{} (prev_offset:{prev} prog->len:{})\n",
                r.insn_off,
                insns.len()
            ));
            return err(Errno::EINVAL, "bad line_info insn_off");
        }
        if insns.get(off).is_some_and(|raw| raw[0] == 0) {
            log.write_fmt(format_args!("Invalid insn code at line_info[{i}].insn_off\n"));
            return err(Errno::EINVAL, "line_info on the second half of ld_imm64");
        }
        if let Some(s) = verified.subprogs.get(sub) {
            if s.start == off {
                sub += 1;
            } else if s.start < off {
                log.write_fmt(format_args!("missing bpf_line_info for func#{sub}\n"));
                return err(Errno::EINVAL, "subprogram without line_info");
            }
        }
        prev = r.insn_off;
    }
    if sub != verified.subprogs.len() {
        log.write_fmt(format_args!(
            "missing bpf_line_info for {} funcs starting from func#{sub}\n",
            verified.subprogs.len() - sub
        ));
        return err(Errno::EINVAL, "subprograms without line_info");
    }
    Ok(records)
}
