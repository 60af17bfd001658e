//! The first pass over the type section (Linux 6.1 `btf_parse_type_sec`,
//! `btf_check_all_metas`, `btf_check_meta` and every kind's `check_meta`): each record on
//! its own — kind, info bits, names, sizes, and the kind-specific data that follows it.

use syscall_abi::{Errno, Error, Result};

use super::env::Env;
use super::header::Header;
use super::{kind, Ty, BTF_MAX_TYPE, TYPE_SIZE};

/// `BTF_INFO_MASK`: bits of `info` that may be set.
const BTF_INFO_MASK: u32 = 0x9f00_ffff;
/// `BTF_INT_MASK`.
const BTF_INT_MASK: u32 = 0x0fff_ffff;
/// `BITS_PER_U128`.
pub(super) const BITS_PER_U128: u32 = 128;

fn einval() -> Error {
    Error::new(Errno::EINVAL, "invalid BTF type")
}

/// `btf_parse_type_sec` up to the metas: alignment, non-empty, every record.
pub(super) fn parse_type_sec(env: &mut Env<'_>, data: &[u8], h: &Header) -> Result<()> {
    if h.type_off & 3 != 0 {
        env.log(format_args!("Unaligned type_off"));
        return Err(einval());
    }
    if h.type_len == 0 {
        env.log(format_args!("No type found"));
        return Err(einval());
    }
    // In bounds: btf_check_sec_info.
    let start = h.hdr_len as usize + h.type_off as usize;
    let tdata = &data[start..start + h.type_len as usize];
    let mut v = alloc::vec::Vec::new();
    v.try_reserve_exact(tdata.len()).map_err(|_| Errno::ENOMEM)?;
    v.extend_from_slice(tdata);
    env.btf.tdata = v;
    env.btf.types.push(Ty::default());
    check_all_metas(env)
}

/// `btf_check_all_metas`.
fn check_all_metas(env: &mut Env<'_>) -> Result<()> {
    let end = env.btf.tdata.len();
    let mut cur = 0usize;
    env.log_type_id = 1;
    while cur < end {
        let meta_size = check_meta(env, cur, (end - cur) as u32)?;
        let t = read_ty(env, cur);
        // btf_add_type: at most BTF_MAX_TYPE ids (void included); Linux ignores the error
        // of the one that does not fit (its log line stays).
        if env.btf.types.len() == BTF_MAX_TYPE as usize {
            env.log(format_args!("Exceeded max num of types"));
        } else {
            env.btf.types.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            env.btf.types.push(t);
        }
        cur += meta_size as usize;
        env.log_type_id += 1;
    }
    Ok(())
}

fn read_ty(env: &Env<'_>, at: usize) -> Ty {
    let b = &env.btf.tdata;
    let w = |o: usize| u32::from_ne_bytes([b[at + o], b[at + o + 1], b[at + o + 2], b[at + o + 3]]);
    Ty { name_off: w(0), info: w(4), size_type: w(8), extra: at + TYPE_SIZE as usize }
}

/// `btf_check_meta`: the record at `at` with `meta_left` bytes left in the section;
/// returns the record's size.
fn check_meta(env: &mut Env<'_>, at: usize, meta_left: u32) -> Result<u32> {
    if meta_left < TYPE_SIZE {
        let id = env.log_type_id;
        env.log(format_args!("[{id}] meta_left:{meta_left} meta_needed:{TYPE_SIZE}"));
        return Err(einval());
    }
    let t = read_ty(env, at);
    let left = meta_left - TYPE_SIZE;
    let id = env.log_type_id;
    if t.info & !BTF_INFO_MASK != 0 {
        env.log(format_args!("[{id}] Invalid btf_info:{:x}", t.info));
        return Err(einval());
    }
    if t.kind() > kind::MAX || t.kind() == kind::UNKN {
        env.log(format_args!("[{id}] Invalid kind:{}", t.kind()));
        return Err(einval());
    }
    if !env.btf.name_offset_valid(t.name_off) {
        env.log(format_args!("[{id}] Invalid name_offset:{}", t.name_off));
        return Err(einval());
    }
    let var_size = match t.kind() {
        kind::INT => int_meta(env, &t, left)?,
        kind::PTR | kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
            ref_meta(env, &t)?
        }
        kind::ARRAY => array_meta(env, &t, left)?,
        kind::STRUCT | kind::UNION => struct_meta(env, &t, left)?,
        kind::ENUM => enum_meta(env, &t, left, 8)?,
        kind::ENUM64 => enum_meta(env, &t, left, 12)?,
        kind::FWD => fwd_meta(env, &t)?,
        kind::FUNC => func_meta(env, &t)?,
        kind::FUNC_PROTO => func_proto_meta(env, &t, left)?,
        kind::VAR => var_meta(env, &t, left)?,
        kind::DATASEC => datasec_meta(env, &t, left)?,
        kind::FLOAT => float_meta(env, &t)?,
        _ => decl_tag_meta(env, &t, left)?,
    };
    Ok(TYPE_SIZE + var_size)
}

fn need(env: &mut Env<'_>, t: &Ty, left: u32, needed: u64) -> Result<u32> {
    match u32::try_from(needed) {
        Ok(n) if n <= left => Ok(n),
        _ => {
            env.log_basic(t, format_args!("meta_left:{left} meta_needed:{needed}"));
            Err(einval())
        }
    }
}

fn bad(env: &mut Env<'_>, t: &Ty, msg: &str) -> Error {
    env.log_type(t, format_args!("{msg}"));
    einval()
}

fn no_vlen_kflag(env: &mut Env<'_>, t: &Ty) -> Result<()> {
    if t.vlen() != 0 {
        return Err(bad(env, t, "vlen != 0"));
    }
    if t.kflag() {
        return Err(bad(env, t, "Invalid btf_info kind_flag"));
    }
    Ok(())
}

/// `btf_int_check_meta`.
fn int_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, 4)?;
    no_vlen_kflag(env, t)?;
    let d = env.btf.int_data(t);
    if d & !BTF_INT_MASK != 0 {
        env.log_basic(t, format_args!("Invalid int_data:{d:x}"));
        return Err(einval());
    }
    let nr_bits = (d & 0xff) + ((d >> 16) & 0xff);
    if nr_bits > BITS_PER_U128 {
        return Err(bad(env, t, "nr_bits exceeds 128"));
    }
    if nr_bits.div_ceil(8) > t.size_type {
        return Err(bad(env, t, "nr_bits exceeds type_size"));
    }
    let enc = (d >> 24) & 0x0f;
    if enc != 0 && enc != 1 && enc != 2 && enc != 4 {
        env.log_type(t, format_args!("Unsupported encoding"));
        return Err(Error::new(Errno::ENOTSUPP, "unsupported BTF int encoding"));
    }
    env.log_type_line(t);
    Ok(n)
}

/// `btf_ref_type_check_meta` (pointers and modifiers).
fn ref_meta(env: &mut Env<'_>, t: &Ty) -> Result<u32> {
    no_vlen_kflag(env, t)?;
    if t.size_type > BTF_MAX_TYPE {
        return Err(bad(env, t, "Invalid type_id"));
    }
    let name_ok = match t.kind() {
        kind::TYPEDEF => t.name_off != 0 && env.btf.name_valid_identifier(t.name_off),
        kind::TYPE_TAG => env.btf.str_at(t.name_off).is_some_and(|s| !s.is_empty()),
        _ => t.name_off == 0,
    };
    if !name_ok {
        return Err(bad(env, t, "Invalid name"));
    }
    env.log_type_line(t);
    Ok(0)
}

/// `btf_fwd_check_meta`.
fn fwd_meta(env: &mut Env<'_>, t: &Ty) -> Result<u32> {
    if t.vlen() != 0 {
        return Err(bad(env, t, "vlen != 0"));
    }
    if t.size_type != 0 {
        return Err(bad(env, t, "type != 0"));
    }
    if t.name_off == 0 || !env.btf.name_valid_identifier(t.name_off) {
        return Err(bad(env, t, "Invalid name"));
    }
    env.log_type_line(t);
    Ok(0)
}

/// `btf_array_check_meta`.
fn array_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, 12)?;
    if t.name_off != 0 {
        return Err(bad(env, t, "Invalid name"));
    }
    no_vlen_kflag(env, t)?;
    if t.size_type != 0 {
        return Err(bad(env, t, "size != 0"));
    }
    let a = env.btf.array(t);
    if a.type_ == 0 || a.type_ > BTF_MAX_TYPE {
        return Err(bad(env, t, "Invalid elem"));
    }
    if a.index_type == 0 || a.index_type > BTF_MAX_TYPE {
        return Err(bad(env, t, "Invalid index"));
    }
    env.log_type_line(t);
    Ok(n)
}

/// `__btf_member_bit_offset`.
pub(super) fn member_bit_offset(st: &Ty, offset: u32) -> u32 {
    if st.kflag() {
        offset & 0x00ff_ffff
    } else {
        offset
    }
}

/// `btf_struct_check_meta` (structs and unions).
fn struct_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, u64::from(t.vlen()) * 12)?;
    if t.name_off != 0 && !env.btf.name_valid_identifier(t.name_off) {
        return Err(bad(env, t, "Invalid name"));
    }
    env.log_type_line(t);
    let is_union = t.kind() == kind::UNION;
    let mut last_offset = 0;
    for i in 0..t.vlen() {
        let m = env.btf.member(t, i);
        if !env.btf.name_offset_valid(m.name_off) {
            env.log_member(t, m, Some(format_args!("Invalid member name_offset:{}", m.name_off)));
            return Err(einval());
        }
        if m.name_off != 0 && !env.btf.name_valid_identifier(m.name_off) {
            env.log_member(t, m, Some(format_args!("Invalid name")));
            return Err(einval());
        }
        if m.type_ == 0 || m.type_ > BTF_MAX_TYPE {
            env.log_member(t, m, Some(format_args!("Invalid type_id")));
            return Err(einval());
        }
        let offset = member_bit_offset(t, m.offset);
        if (is_union && offset != 0) || last_offset > offset {
            env.log_member(t, m, Some(format_args!("Invalid member bits_offset")));
            return Err(einval());
        }
        if offset.div_ceil(8) > t.size_type {
            env.log_member(t, m, Some(format_args!("Member bits_offset exceeds its struct size")));
            return Err(einval());
        }
        env.log_member(t, m, None);
        last_offset = offset;
    }
    Ok(n)
}

/// `btf_enum_check_meta` (`entry` 8) and `btf_enum64_check_meta` (`entry` 12).
fn enum_meta(env: &mut Env<'_>, t: &Ty, left: u32, entry: u32) -> Result<u32> {
    let n = need(env, t, left, u64::from(t.vlen()) * u64::from(entry))?;
    if t.size_type > 8 || !t.size_type.is_power_of_two() {
        return Err(bad(env, t, "Unexpected size"));
    }
    if t.name_off != 0 && !env.btf.name_valid_identifier(t.name_off) {
        return Err(bad(env, t, "Invalid name"));
    }
    env.log_type_line(t);
    for i in 0..t.vlen() {
        let o = (i * entry) as usize;
        let name_off = env.btf.word(t, o);
        if !env.btf.name_offset_valid(name_off) {
            env.log(format_args!("\tInvalid name_offset:{name_off}"));
            return Err(einval());
        }
        if name_off == 0 || !env.btf.name_valid_identifier(name_off) {
            return Err(bad(env, t, "Invalid name"));
        }
        if env.log.is_needed() {
            let name = alloc::string::String::from(super::text(env.btf.str_at(name_off).unwrap_or(&[])));
            let lo = env.btf.word(t, o + 4);
            if entry == 8 {
                if t.kflag() {
                    env.log(format_args!("\t{name} val={}\n", lo as i32));
                } else {
                    env.log(format_args!("\t{name} val={lo}\n"));
                }
            } else {
                let v = u64::from(env.btf.word(t, o + 8)) << 32 | u64::from(lo);
                if t.kflag() {
                    env.log(format_args!("\t{name} val={}\n", v as i64));
                } else {
                    env.log(format_args!("\t{name} val={v}\n"));
                }
            }
        }
    }
    Ok(n)
}

/// `btf_func_proto_check_meta`.
fn func_proto_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, u64::from(t.vlen()) * 8)?;
    if t.name_off != 0 {
        return Err(bad(env, t, "Invalid name"));
    }
    if t.kflag() {
        return Err(bad(env, t, "Invalid btf_info kind_flag"));
    }
    env.log_type_line(t);
    Ok(n)
}

/// `btf_func_check_meta`: a named function with static, global or extern linkage.
fn func_meta(env: &mut Env<'_>, t: &Ty) -> Result<u32> {
    if t.name_off == 0 || !env.btf.name_valid_identifier(t.name_off) {
        return Err(bad(env, t, "Invalid name"));
    }
    if t.vlen() > 1 {
        // BTF_FUNC_GLOBAL (1) is the highest linkage 6.1 accepts.
        return Err(bad(env, t, "Invalid func linkage"));
    }
    if t.kflag() {
        return Err(bad(env, t, "Invalid btf_info kind_flag"));
    }
    env.log_type_line(t);
    Ok(0)
}

/// `btf_var_check_meta`.
fn var_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, 4)?;
    no_vlen_kflag(env, t)?;
    if t.name_off == 0 || !env.btf.name_valid(t.name_off, true) {
        return Err(bad(env, t, "Invalid name"));
    }
    if t.size_type == 0 || t.size_type > BTF_MAX_TYPE {
        return Err(bad(env, t, "Invalid type_id"));
    }
    let linkage = env.btf.word(t, 0);
    // BTF_VAR_STATIC (0) and BTF_VAR_GLOBAL_ALLOCATED (1).
    if linkage > 1 {
        return Err(bad(env, t, "Linkage not supported"));
    }
    env.log_type_line(t);
    Ok(n)
}

/// `btf_datasec_check_meta`.
fn datasec_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, u64::from(t.vlen()) * 12)?;
    if t.size_type == 0 {
        return Err(bad(env, t, "size == 0"));
    }
    if t.kflag() {
        return Err(bad(env, t, "Invalid btf_info kind_flag"));
    }
    if t.name_off == 0 || !env.btf.name_valid(t.name_off, true) {
        return Err(bad(env, t, "Invalid name"));
    }
    env.log_type_line(t);
    let mut last_end: u64 = 0;
    let mut sum: u64 = 0;
    for i in 0..t.vlen() {
        let v = env.btf.secinfo(t, i);
        let msg = if v.type_ == 0 || v.type_ > BTF_MAX_TYPE {
            Some("Invalid type_id")
        } else if u64::from(v.offset) < last_end || v.offset >= t.size_type {
            Some("Invalid offset")
        } else if v.size == 0 || v.size > t.size_type {
            Some("Invalid size")
        } else {
            last_end = u64::from(v.offset) + u64::from(v.size);
            (last_end > u64::from(t.size_type)).then_some("Invalid offset+size")
        };
        if let Some(msg) = msg {
            env.log_vsi(t, i, Some(format_args!("{msg}")));
            return Err(einval());
        }
        env.log_vsi(t, i, None);
        sum += u64::from(v.size);
    }
    if u64::from(t.size_type) < sum {
        return Err(bad(env, t, "Invalid btf_info size"));
    }
    Ok(n)
}

/// `btf_float_check_meta`.
fn float_meta(env: &mut Env<'_>, t: &Ty) -> Result<u32> {
    no_vlen_kflag(env, t)?;
    if !matches!(t.size_type, 2 | 4 | 8 | 12 | 16) {
        return Err(bad(env, t, "Invalid type_size"));
    }
    env.log_type_line(t);
    Ok(0)
}

/// `btf_decl_tag_check_meta`.
fn decl_tag_meta(env: &mut Env<'_>, t: &Ty, left: u32) -> Result<u32> {
    let n = need(env, t, left, 4)?;
    if !matches!(env.btf.str_at(t.name_off), Some(s) if !s.is_empty()) {
        return Err(bad(env, t, "Invalid value"));
    }
    no_vlen_kflag(env, t)?;
    if (env.btf.word(t, 0) as i32) < -1 {
        return Err(bad(env, t, "Invalid component_idx"));
    }
    env.log_type_line(t);
    Ok(n)
}
