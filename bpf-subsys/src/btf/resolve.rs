//! The second pass (Linux 6.1 `btf_check_all_types`, `btf_resolve` and the kinds'
//! `resolve` and `check_member` operations, `btf_func_proto_check`, then
//! `btf_check_type_tags`): every reference is followed depth-first (at most 32 levels,
//! `EEXIST` "Loop detected" when the walk comes back to a type it is resolving), sizes are
//! resolved, and members are checked against their struct's size.

use syscall_abi::{Errno, Error, Result};

use super::env::{Env, Mode, Vertex, NOT_VISITED, RESOLVED, VISITED};
use super::meta::{member_bit_offset, BITS_PER_U128};
use super::{kind, Member, Ty};

/// `MAX_RESOLVE_DEPTH`.
pub(crate) const MAX_RESOLVE_DEPTH: usize = 32;

type R = core::result::Result<(), Errno>;

fn ty(env: &Env<'_>, id: u32) -> Option<Ty> {
    env.btf.ty(id).copied()
}

fn is_resolved(env: &Env<'_>, id: u32) -> bool {
    env.visit.get(id as usize) == Some(&RESOLVED)
}

/// `env_type_is_resolve_sink`.
fn is_sink(env: &Env<'_>, next: &Ty) -> bool {
    match env.mode {
        Mode::Tbd => !next.needs_resolve(),
        Mode::Ptr => !next.is_modifier() && next.kind() != kind::PTR,
        Mode::StructOrArray => !next.is_modifier() && next.kind() != kind::ARRAY && !next.is_struct(),
    }
}

/// `env_stack_push`.
fn push(env: &mut Env<'_>, id: u32) -> R {
    if env.stack.len() == MAX_RESOLVE_DEPTH {
        return Err(Errno::E2BIG);
    }
    match env.visit.get_mut(id as usize) {
        Some(s) if *s == NOT_VISITED => *s = VISITED,
        _ => return Err(Errno::EEXIST),
    }
    env.stack.push(Vertex { id, next_member: 0 });
    if env.mode == Mode::Tbd {
        if let Some(t) = ty(env, id) {
            if t.kind() == kind::PTR {
                env.mode = Mode::Ptr;
            } else if t.is_struct() || t.kind() == kind::ARRAY {
                env.mode = Mode::StructOrArray;
            }
        }
    }
    Ok(())
}

fn set_next_member(env: &mut Env<'_>, next: u32) {
    if let Some(v) = env.stack.last_mut() {
        v.next_member = next;
    }
}

/// `env_stack_pop_resolved`.
fn pop_resolved(env: &mut Env<'_>, resolved_id: u32, size: u32) -> R {
    let v = env.stack.pop().ok_or(Errno::EINVAL)?;
    let i = v.id as usize;
    env.btf.resolved_ids[i] = resolved_id;
    env.btf.resolved_sizes[i] = size;
    env.visit[i] = RESOLVED;
    Ok(())
}

fn type_bad(env: &mut Env<'_>, t: &Ty, msg: &str) -> R {
    env.log_type(t, format_args!("{msg}"));
    Err(Errno::EINVAL)
}

fn member_bad(env: &mut Env<'_>, st: &Ty, m: Member, msg: &str) -> R {
    env.log_member(st, m, Some(format_args!("{msg}")));
    Err(Errno::EINVAL)
}

/// The resolved id of a type that was resolved (`btf_type_id_resolve`).
fn resolved_id(env: &Env<'_>, id: u32) -> u32 {
    env.btf.resolved_ids.get(id as usize).copied().unwrap_or(0)
}

/// `btf_modifier_resolve` (`ptr` false) and `btf_ptr_resolve` (`ptr` true).
fn ref_resolve(env: &mut Env<'_>, t: &Ty, ptr: bool) -> R {
    let mut next_id = t.size_type;
    let Some(mut next) = ty(env, next_id).filter(|n| !n.is_source_only()) else {
        return type_bad(env, t, "Invalid type_id");
    };
    if !is_sink(env, &next) && !is_resolved(env, next_id) {
        return push(env, next_id);
    }
    if ptr && next.is_modifier() {
        let rid = resolved_id(env, next_id);
        if let Some(rt) = ty(env, rid) {
            if rt.kind() == kind::PTR && !is_sink(env, &rt) && !is_resolved(env, rid) {
                return push(env, rid);
            }
        }
    }
    match env.btf.type_id_size(next_id) {
        Some((rid, _)) => next_id = rid,
        None => {
            if is_resolved(env, next_id) {
                next_id = resolved_id(env, next_id);
                next = ty(env, next_id).unwrap_or_default();
            }
            if !next.is_void() && !matches!(next.kind(), kind::FWD | kind::FUNC_PROTO) {
                return type_bad(env, t, "Invalid type_id");
            }
        }
    }
    pop_resolved(env, next_id, 0)
}

/// `btf_var_resolve`.
fn var_resolve(env: &mut Env<'_>, t: &Ty) -> R {
    let next_id = t.size_type;
    let Some(next) = ty(env, next_id).filter(|n| !n.is_source_only()) else {
        return type_bad(env, t, "Invalid type_id");
    };
    if !is_sink(env, &next) && !is_resolved(env, next_id) {
        return push(env, next_id);
    }
    if next.is_modifier() {
        let rid = resolved_id(env, next_id);
        if let Some(rt) = ty(env, rid) {
            if rt.kind() == kind::PTR && !is_sink(env, &rt) && !is_resolved(env, rid) {
                return push(env, rid);
            }
        }
    }
    match env.btf.type_id_size(next_id) {
        Some((rid, _)) => pop_resolved(env, rid, 0),
        None => type_bad(env, t, "Invalid type_id"),
    }
}

/// `btf_type_int_is_regular`: a whole u8/u16/u32/u64/u128 without bit offset.
fn int_is_regular(env: &Env<'_>, t: &Ty) -> bool {
    let d = env.btf.int_data(t);
    let bits = d & 0xff;
    bits % 8 == 0 && (d >> 16) & 0xff == 0 && matches!(bits / 8, 1 | 2 | 4 | 8 | 16)
}

/// `btf_array_resolve`.
fn array_resolve(env: &mut Env<'_>, t: &Ty) -> R {
    let a = env.btf.array(t);
    let index_id = a.index_type;
    let Some(index) = ty(env, index_id).filter(|x| !x.nosize() && !x.is_source_only()) else {
        return type_bad(env, t, "Invalid index");
    };
    if !is_sink(env, &index) && !is_resolved(env, index_id) {
        return push(env, index_id);
    }
    let index = env.btf.type_id_size(index_id).and_then(|(id, _)| ty(env, id));
    if !index.is_some_and(|x| x.kind() == kind::INT && int_is_regular(env, &x)) {
        return type_bad(env, t, "Invalid index");
    }
    let elem_id = a.type_;
    let Some(elem) = ty(env, elem_id).filter(|x| !x.nosize() && !x.is_source_only()) else {
        return type_bad(env, t, "Invalid elem");
    };
    if !is_sink(env, &elem) && !is_resolved(env, elem_id) {
        return push(env, elem_id);
    }
    let Some((elem_id, elem_size)) = env.btf.type_id_size(elem_id) else {
        return type_bad(env, t, "Invalid elem");
    };
    let elem = ty(env, elem_id).unwrap_or_default();
    if elem.kind() == kind::INT && !int_is_regular(env, &elem) {
        return type_bad(env, t, "Invalid array of int");
    }
    if a.nelems != 0 && elem_size > u32::MAX / a.nelems {
        return type_bad(env, t, "Array size overflows U32_MAX");
    }
    pop_resolved(env, elem_id, elem_size * a.nelems)
}

/// `btf_struct_resolve`: members in order; a member whose type still needs resolving
/// suspends the struct (its index is kept in the vertex) and is checked when it resumes.
fn struct_resolve(env: &mut Env<'_>, t: &Ty, v: Vertex) -> R {
    if v.next_member > 0 {
        let last = env.btf.member(t, v.next_member - 1);
        if !is_resolved(env, last.type_) {
            return Err(Errno::EINVAL);
        }
        let lt = ty(env, last.type_).unwrap_or_default();
        check_member(env, t, last, &lt, t.kflag())?;
    }
    for i in v.next_member..t.vlen() {
        let m = env.btf.member(t, i);
        let Some(mt) = ty(env, m.type_).filter(|x| !x.nosize() && !x.is_source_only()) else {
            return member_bad(env, t, m, "Invalid member");
        };
        if !is_sink(env, &mt) && !is_resolved(env, m.type_) {
            set_next_member(env, i + 1);
            return push(env, m.type_);
        }
        check_member(env, t, m, &mt, t.kflag())?;
    }
    pop_resolved(env, 0, 0)
}

/// The member type's `check_member` (`kflag` false) or `check_kflag_member`.
fn check_member(env: &mut Env<'_>, st: &Ty, m: Member, mt: &Ty, kflag: bool) -> R {
    let size = st.size_type;
    let k = mt.kind();
    if kflag && matches!(k, kind::PTR | kind::ARRAY | kind::STRUCT | kind::UNION | kind::FLOAT) {
        // btf_generic_check_kflag_member
        if m.offset >> 24 != 0 {
            return member_bad(env, st, m, "Invalid member bitfield_size");
        }
        return check_member(env, st, m, mt, false);
    }
    match k {
        kind::INT if kflag => int_kflag_member(env, st, m, mt),
        kind::INT => int_member(env, st, m, mt),
        kind::PTR | kind::ARRAY | kind::STRUCT | kind::UNION | kind::ENUM | kind::ENUM64 if !kflag => {
            if m.offset % 8 != 0 {
                return member_bad(env, st, m, "Member is not byte aligned");
            }
            let need = match k {
                kind::PTR => 8,
                kind::ARRAY => env.btf.type_id_size(m.type_).map_or(0, |(_, s)| s),
                _ => mt.size_type,
            };
            if size.wrapping_sub(m.offset / 8) < need {
                return member_bad(env, st, m, "Member exceeds struct_size");
            }
            Ok(())
        }
        kind::ENUM | kind::ENUM64 => {
            // btf_enum_check_kflag_member
            let bits_off = m.offset & 0x00ff_ffff;
            let mut nr_bits = m.offset >> 24;
            if nr_bits == 0 {
                if bits_off % 8 != 0 {
                    return member_bad(env, st, m, "Member is not byte aligned");
                }
                nr_bits = 32;
            } else if nr_bits > 32 {
                return member_bad(env, st, m, "Invalid member bitfield_size");
            }
            if size < (bits_off + nr_bits).div_ceil(8) {
                return member_bad(env, st, m, "Member exceeds struct_size");
            }
            Ok(())
        }
        kind::FLOAT => {
            let align_bits = u64::from(mt.size_type.min(8)) * 8;
            if align_bits == 0 || u64::from(m.offset) % align_bits != 0 {
                return member_bad(env, st, m, "Member is not properly aligned");
            }
            if u64::from(m.offset / 8) + u64::from(mt.size_type) > u64::from(size) {
                return member_bad(env, st, m, "Member exceeds struct_size");
            }
            Ok(())
        }
        kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
            // btf_modifier_check_member / _kflag_member
            let Some((rid, _)) = env.btf.type_id_size(m.type_) else {
                return member_bad(env, st, m, "Invalid member");
            };
            let rt = ty(env, rid).unwrap_or_default();
            check_member(env, st, Member { type_: rid, ..m }, &rt, kflag)
        }
        _ => {
            let msg = if kflag { "Unsupported check_kflag_member" } else { "Unsupported check_member" };
            env.log_basic(st, format_args!("{msg}"));
            Err(Errno::EINVAL)
        }
    }
}

/// Shared end of the int member checks: the copied bits must fit the struct.
fn int_fits(env: &mut Env<'_>, st: &Ty, m: Member, bits_off: u32, nr_bits: u32) -> R {
    let bytes_offset = bits_off / 8;
    let nr_copy_bits = nr_bits + bits_off % 8;
    if nr_copy_bits > BITS_PER_U128 {
        return member_bad(env, st, m, "nr_copy_bits exceeds 128");
    }
    if st.size_type < bytes_offset || st.size_type - bytes_offset < nr_copy_bits.div_ceil(8) {
        return member_bad(env, st, m, "Member exceeds struct_size");
    }
    Ok(())
}

/// `btf_int_check_member`.
fn int_member(env: &mut Env<'_>, st: &Ty, m: Member, mt: &Ty) -> R {
    let d = env.btf.int_data(mt);
    let int_off = (d >> 16) & 0xff;
    let Some(bits_off) = m.offset.checked_add(int_off) else {
        return member_bad(env, st, m, "bits_offset exceeds U32_MAX");
    };
    int_fits(env, st, m, bits_off, d & 0xff)
}

/// `btf_int_check_kflag_member`.
fn int_kflag_member(env: &mut Env<'_>, st: &Ty, m: Member, mt: &Ty) -> R {
    if !int_is_regular(env, mt) {
        return member_bad(env, st, m, "Invalid member base type");
    }
    let int_bits = env.btf.int_data(mt) & 0xff;
    let bits_off = member_bit_offset(st, m.offset);
    let mut nr_bits = m.offset >> 24;
    if nr_bits == 0 {
        if bits_off % 8 != 0 {
            return member_bad(env, st, m, "Invalid member offset");
        }
        nr_bits = int_bits;
    } else if nr_bits > int_bits {
        return member_bad(env, st, m, "Invalid member bitfield_size");
    }
    int_fits(env, st, m, bits_off, nr_bits)
}

/// `btf_datasec_resolve`.
fn datasec_resolve(env: &mut Env<'_>, t: &Ty, v: Vertex) -> R {
    for i in v.next_member..t.vlen() {
        let s = env.btf.secinfo(t, i);
        let Some(var) = ty(env, s.type_).filter(|x| x.kind() == kind::VAR) else {
            env.log_vsi(t, i, Some(format_args!("Not a VAR kind member")));
            return Err(Errno::EINVAL);
        };
        if !is_sink(env, &var) && !is_resolved(env, s.type_) {
            set_next_member(env, i + 1);
            return push(env, s.type_);
        }
        let Some((_, size)) = env.btf.type_id_size(var.size_type) else {
            env.log_vsi(t, i, Some(format_args!("Invalid type")));
            return Err(Errno::EINVAL);
        };
        if s.size < size {
            env.log_vsi(t, i, Some(format_args!("Invalid size")));
            return Err(Errno::EINVAL);
        }
    }
    pop_resolved(env, 0, 0)
}

/// `btf_func_resolve` (`btf_func_check`): a FUNC names a FUNC_PROTO whose parameters all
/// have names.
fn func_resolve(env: &mut Env<'_>, t: &Ty) -> R {
    let Some(proto) = ty(env, t.size_type).filter(|p| p.kind() == kind::FUNC_PROTO) else {
        return type_bad(env, t, "Invalid type_id");
    };
    for i in 0..proto.vlen() {
        let (name_off, arg) = env.btf.param(&proto, i);
        if name_off == 0 && arg != 0 {
            env.log_type(t, format_args!("Invalid arg#{}", i + 1));
            return Err(Errno::EINVAL);
        }
    }
    pop_resolved(env, t.size_type, 0)
}

/// `btf_decl_tag_resolve`.
fn decl_tag_resolve(env: &mut Env<'_>, t: &Ty) -> R {
    let next_id = t.size_type;
    let Some(next) =
        ty(env, next_id).filter(|n| n.is_struct() || matches!(n.kind(), kind::FUNC | kind::VAR | kind::TYPEDEF))
    else {
        return type_bad(env, t, "Invalid type_id");
    };
    if !is_sink(env, &next) && !is_resolved(env, next_id) {
        return push(env, next_id);
    }
    let idx = env.btf.word(t, 0) as i32;
    if idx != -1 {
        if matches!(next.kind(), kind::VAR | kind::TYPEDEF) {
            return type_bad(env, t, "Invalid component_idx");
        }
        let vlen = if next.is_struct() { next.vlen() } else { ty(env, next.size_type).map_or(0, |p| p.vlen()) };
        if idx as u32 >= vlen {
            return type_bad(env, t, "Invalid component_idx");
        }
    }
    pop_resolved(env, next_id, 0)
}

/// `btf_resolve_valid`: the final sanity check of a resolved type.
fn resolve_valid(env: &Env<'_>, t: &Ty, id: u32) -> bool {
    if !is_resolved(env, id) {
        return false;
    }
    let rid = resolved_id(env, id);
    let rsize = env.btf.resolved_sizes.get(id as usize).copied().unwrap_or(0);
    if t.is_struct() || t.kind() == kind::DATASEC {
        return rid == 0 && rsize == 0;
    }
    if matches!(t.kind(), kind::DECL_TAG | kind::FUNC) {
        return rid != 0 && rsize == 0;
    }
    if t.is_modifier() || matches!(t.kind(), kind::PTR | kind::VAR) {
        return ty(env, rid).is_some_and(|r| !r.is_modifier() && !matches!(r.kind(), kind::VAR | kind::DATASEC));
    }
    if t.kind() == kind::ARRAY {
        let a = env.btf.array(t);
        return env.btf.type_id_size(a.type_).is_some_and(|(eid, esz)| {
            !ty(env, eid).is_some_and(|e| e.is_modifier()) && a.nelems.wrapping_mul(esz) == rsize
        });
    }
    false
}

/// `btf_resolve`: resolves type `id` and everything it needs.
fn btf_resolve(env: &mut Env<'_>, id: u32) -> Result<()> {
    let save = env.log_type_id;
    let t = ty(env, id).unwrap_or_default();
    env.mode = Mode::Tbd;
    let mut res = push(env, id);
    while res.is_ok() {
        let Some(&v) = env.stack.last() else { break };
        env.log_type_id = v.id;
        let vt = ty(env, v.id).unwrap_or_default();
        res = match vt.kind() {
            kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
                ref_resolve(env, &vt, false)
            }
            kind::PTR => ref_resolve(env, &vt, true),
            kind::ARRAY => array_resolve(env, &vt),
            kind::STRUCT | kind::UNION => struct_resolve(env, &vt, v),
            kind::VAR => var_resolve(env, &vt),
            kind::DATASEC => datasec_resolve(env, &vt, v),
            kind::FUNC => func_resolve(env, &vt),
            kind::DECL_TAG => decl_tag_resolve(env, &vt),
            _ => {
                env.log_basic(&vt, format_args!("Unsupported resolve"));
                Err(Errno::EINVAL)
            }
        };
    }
    env.log_type_id = id;
    match res {
        Err(Errno::E2BIG) => env.log_type(&t, format_args!("Exceeded max resolving depth:{MAX_RESOLVE_DEPTH}")),
        Err(Errno::EEXIST) => env.log_type(&t, format_args!("Loop detected")),
        _ => {}
    }
    if res.is_ok() && !resolve_valid(env, &t, id) {
        env.log_type(&t, format_args!("Invalid resolve state"));
        res = Err(Errno::EINVAL);
    }
    env.log_type_id = save;
    res.map_err(|e| Error::new(e, "invalid BTF type reference"))
}

/// `btf_func_proto_check`: the return type and every parameter have a size (the last
/// parameter may be an unnamed `void`, the varargs mark).
fn func_proto_check(env: &mut Env<'_>, t: &Ty) -> Result<()> {
    let fail = |env: &mut Env<'_>, msg: core::fmt::Arguments<'_>| {
        env.log_type(t, msg);
        Err(Error::new(Errno::EINVAL, "invalid BTF function prototype"))
    };
    if t.size_type != 0 {
        let ret_id = t.size_type;
        let Some(ret) = ty(env, ret_id) else {
            return fail(env, format_args!("Invalid return type"));
        };
        if ret.needs_resolve() && !is_resolved(env, ret_id) {
            btf_resolve(env, ret_id)?;
        }
        if env.btf.type_id_size(ret_id).is_none() {
            return fail(env, format_args!("Invalid return type"));
        }
    }
    let mut nr_args = t.vlen();
    if nr_args == 0 {
        return Ok(());
    }
    let (last_name, last_type) = env.btf.param(t, nr_args - 1);
    if last_type == 0 {
        if last_name != 0 {
            return fail(env, format_args!("Invalid arg#{nr_args}"));
        }
        nr_args -= 1;
    }
    for i in 0..nr_args {
        let (name_off, arg_id) = env.btf.param(t, i);
        let Some(arg) = ty(env, arg_id) else {
            return fail(env, format_args!("Invalid arg#{}", i + 1));
        };
        if name_off != 0 && (!env.btf.name_offset_valid(name_off) || !env.btf.name_valid_identifier(name_off)) {
            return fail(env, format_args!("Invalid arg#{}", i + 1));
        }
        if arg.needs_resolve() && !is_resolved(env, arg_id) {
            btf_resolve(env, arg_id)?;
        }
        if env.btf.type_id_size(arg_id).is_none() {
            return fail(env, format_args!("Invalid arg#{}", i + 1));
        }
    }
    Ok(())
}

/// `btf_check_all_types`.
pub(super) fn check_all_types(env: &mut Env<'_>) -> Result<()> {
    let n = env.btf.types.len();
    let zeros = |n: usize| -> Result<alloc::vec::Vec<u32>> {
        let mut v = alloc::vec::Vec::new();
        v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        v.resize(n, 0);
        Ok(v)
    };
    env.btf.resolved_ids = zeros(n)?;
    env.btf.resolved_sizes = zeros(n)?;
    env.visit.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    env.visit.resize(n, NOT_VISITED);
    env.stack.try_reserve_exact(MAX_RESOLVE_DEPTH).map_err(|_| Errno::ENOMEM)?;
    env.check_type_phase = true;
    for id in 1..env.btf.nr_types() {
        env.log_type_id = id;
        let t = ty(env, id).unwrap_or_default();
        if t.needs_resolve() && !is_resolved(env, id) {
            btf_resolve(env, id)?;
        }
        if t.kind() == kind::FUNC_PROTO {
            func_proto_check(env, &t)?;
        }
    }
    Ok(())
}

/// `btf_check_type_tags`: in a chain of modifiers, type tags come first, and no chain is
/// longer than 32 (`ELOOP`).
pub(super) fn check_type_tags(env: &mut Env<'_>) -> Result<()> {
    let mut good_id = 0;
    for i in 1..env.btf.nr_types() {
        let Some(mut t) = ty(env, i) else { return Err(Error::new(Errno::EINVAL, "bad type id")) };
        if !t.is_modifier() {
            continue;
        }
        let mut in_tags = t.kind() == kind::TYPE_TAG;
        let mut chain_limit = 32;
        let mut cur_id = i;
        while t.is_modifier() {
            if chain_limit == 0 {
                env.log(format_args!("Max chain length or cycle detected"));
                return Err(Error::new(Errno::ELOOP, "BTF modifier chain too long"));
            }
            chain_limit -= 1;
            if t.kind() == kind::TYPE_TAG {
                if !in_tags {
                    env.log(format_args!("Type tags don't precede modifiers"));
                    return Err(Error::new(Errno::EINVAL, "BTF type tag after a modifier"));
                }
            } else {
                in_tags = false;
            }
            if cur_id <= good_id {
                break;
            }
            cur_id = t.size_type;
            t = ty(env, cur_id).ok_or(Error::new(Errno::EINVAL, "bad type id"))?;
        }
        good_id = i;
    }
    Ok(())
}
