//! [`LoadOps`]: map resolution at the verifier's `resolve_pseudo_ldimm64` hook, and the
//! relocation of `ld_imm64` pseudo loads afterwards.
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `resolve_pseudo_ldimm64`,
//! `check_map_prog_compatibility`; `kernel/bpf/syscall.c` `bpf_insn_prepare_dump`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use maps::ArrayMap;
use syscall_abi::bpf::{MapType, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE};
use syscall_abi::{Errno, Result};

use crate::host::BpfHost;
use crate::object::{map_from_fd, MapObj};
use crate::verifier::{HelperProto, MapInfo, PseudoKind, PseudoLoad, VerifiedProgram, VerifierLog, VerifierOps};
use crate::vm::insn::{decode, encode, RawInsn};

/// Most distinct maps one program may reference (Linux `MAX_USED_MAPS`).
pub const MAX_USED_MAPS: usize = 64;

/// Largest offset into a map value a pseudo load may name (`BPF_MAX_VAR_OFF`).
const MAX_VAR_OFF: u32 = 1 << 29;

/// One resolved map reference.
struct MapRef {
    /// First slot of the `ld_imm64`.
    insn: usize,
    /// Index into the used maps.
    map: usize,
    /// Value offset (`*_VALUE` kinds), else `None`.
    off: Option<u32>,
    /// The 64-bit value to load.
    value: u64,
}

/// The [`VerifierOps`] of one `PROG_LOAD`: helper prototypes from `inner`, map references
/// resolved against the current task's fds (and `fd_array`) when the verifier reaches them.
pub struct LoadOps<'a> {
    inner: Box<dyn VerifierOps + 'a>,
    host: &'a dyn BpfHost,
    /// User address of `fd_array` (0: none).
    fd_array: u64,
    sleepable: bool,
    used_maps: Vec<Arc<MapObj>>,
    refs: Vec<MapRef>,
}

impl<'a> LoadOps<'a> {
    /// Resolves map fds of the current task of `host`; `fd_array` is the user address of
    /// `prog_load.fd_array` (0 if not given); `sleepable`: `BPF_F_SLEEPABLE`.
    pub fn new(inner: impl VerifierOps + 'a, host: &'a dyn BpfHost, fd_array: u64, sleepable: bool) -> Self {
        LoadOps { inner: Box::new(inner), host, fd_array, sleepable, used_maps: Vec::new(), refs: Vec::new() }
    }

    /// The maps the program references, in order of first use, without duplicates.
    pub fn used_maps(&self) -> &[Arc<MapObj>] {
        &self.used_maps
    }

    /// Takes the used maps (for the program object).
    pub fn into_used_maps(self) -> Vec<Arc<MapObj>> {
        self.used_maps
    }

    /// The fd a map reference names: `imm` itself, or `fd_array[imm]` (Linux: no
    /// `fd_array` → `EPROTO`, a fault → `EFAULT`).
    fn map_fd(&self, load: &PseudoLoad, log: &mut VerifierLog) -> core::result::Result<u32, Errno> {
        if !matches!(load.kind, PseudoKind::MapIdx | PseudoKind::MapIdxValue) {
            return Ok(load.imm as u32);
        }
        if self.fd_array == 0 {
            log.write_str("fd_idx without fd_array is invalid\n");
            return Err(Errno::EPROTO);
        }
        // Linux computes `imm * sizeof(int)` as a size_t: a negative index is far away.
        let off = u64::try_from(load.imm).map_err(|_| Errno::EFAULT)?.checked_mul(4).ok_or(Errno::EFAULT)?;
        let addr = self.fd_array.checked_add(off).ok_or(Errno::EFAULT)?;
        let mut fd = [0u8; 4];
        self.host.copy_from_user(&mut fd, addr).map_err(|e| e.errno)?;
        Ok(u32::from_ne_bytes(fd))
    }

    fn resolve_map(&mut self, load: &PseudoLoad, log: &mut VerifierLog) -> core::result::Result<(), Errno> {
        let fd = self.map_fd(load, log)?;
        let map = match map_from_fd(self.host, fd) {
            Ok((map, _)) => map,
            Err(e) => {
                log.write_fmt(format_args!("fd {} is not pointing to valid bpf_map\n", load.imm));
                return Err(e.errno);
            }
        };
        let def = map.map().def();
        // check_map_prog_compatibility, for the program types this subsystem loads.
        if def.map_type == MapType::StructOps {
            log.write_str("bpf_struct_ops map cannot be used in prog\n");
            return Err(Errno::EINVAL);
        }
        if def.spin_lock_off.is_some() {
            log.write_str("tracing progs cannot use bpf_spin_lock yet\n");
            return Err(Errno::EINVAL);
        }
        if self.sleepable
            && !matches!(
                def.map_type,
                MapType::Hash
                    | MapType::LruHash
                    | MapType::Array
                    | MapType::PercpuHash
                    | MapType::PercpuArray
                    | MapType::LruPercpuHash
                    | MapType::ArrayOfMaps
                    | MapType::HashOfMaps
                    | MapType::Ringbuf
                    | MapType::UserRingbuf
            )
        {
            log.write_str("Sleepable programs can only use array, hash, ringbuf and local storage maps\n");
            return Err(Errno::EINVAL);
        }
        let (value, off) = if matches!(load.kind, PseudoKind::MapFd | PseudoKind::MapIdx) {
            (Arc::as_ptr(&map) as u64, None)
        } else {
            let off = load.aux_imm as u32;
            if off >= MAX_VAR_OFF {
                log.write_fmt(format_args!("direct value offset of {off} is not allowed\n"));
                return Err(Errno::EINVAL);
            }
            let Some(array) = map.map().as_any().downcast_ref::<ArrayMap>() else {
                log.write_str("no direct value access support for this map type\n");
                return Err(Errno::EINVAL);
            };
            match array.direct_value_addr(off) {
                Ok(addr) => (addr.as_ptr() as u64, Some(off)),
                Err(e) => {
                    log.write_fmt(format_args!(
                        "invalid access to map value pointer, value_size={} off={off}\n",
                        def.value_size
                    ));
                    return Err(e.errno);
                }
            }
        };
        let index = match self.used_maps.iter().position(|m| Arc::ptr_eq(m, &map)) {
            Some(i) => i,
            None => {
                if self.used_maps.len() >= MAX_USED_MAPS {
                    return Err(Errno::E2BIG);
                }
                self.used_maps.push(map);
                self.used_maps.len() - 1
            }
        };
        self.refs.push(MapRef { insn: load.insn, map: index, off, value });
        Ok(())
    }

    /// The instructions the engine runs: `insns` with every pseudo load's final value.
    pub fn relocate(&self, insns: &[RawInsn], verified: &VerifiedProgram) -> Result<Vec<RawInsn>> {
        let mut out = insns.to_vec();
        for r in &self.refs {
            set_imm64(&mut out, r.insn, r.value)?;
        }
        for load in verified.pseudo_loads.iter().filter(|l| l.kind == PseudoKind::Func) {
            let target = i64::try_from(load.insn)
                .ok()
                .and_then(|pc| pc.checked_add(i64::from(load.imm))?.checked_add(1))
                .and_then(|t| u64::try_from(t).ok())
                .ok_or(Errno::EINVAL)?;
            set_imm64(&mut out, load.insn, target)?;
        }
        Ok(out)
    }

    /// The instructions as `BPF_OBJ_GET_INFO_BY_FD` shows them (Linux
    /// `bpf_insn_prepare_dump`): map references as `BPF_PSEUDO_MAP_FD`/`BPF_PSEUDO_MAP_VALUE`
    /// with the map's id (and the value offset), no kernel addresses.
    pub fn xlated(&self, insns: &[RawInsn]) -> Result<Vec<RawInsn>> {
        let mut out = insns.to_vec();
        for r in &self.refs {
            let id = self.used_maps.get(r.map).map_or(0, |m| m.id());
            let (first, second) = pair(&mut out, r.insn)?;
            let mut a = decode(first);
            let mut b = decode(second);
            a.src = if r.off.is_some() { BPF_PSEUDO_MAP_VALUE } else { BPF_PSEUDO_MAP_FD };
            a.imm = id as i32;
            b.imm = r.off.unwrap_or(0) as i32;
            *first = encode(&a);
            *second = encode(&b);
        }
        Ok(out)
    }
}

/// Both slots of the `ld_imm64` at `pc`.
fn pair(insns: &mut [RawInsn], pc: usize) -> Result<(&mut RawInsn, &mut RawInsn)> {
    match insns.get_mut(pc..pc.checked_add(2).ok_or(Errno::EINVAL)?) {
        Some([a, b]) => Ok((a, b)),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// Writes `value` into the two `imm`s of the `ld_imm64` at `pc`.
fn set_imm64(insns: &mut [RawInsn], pc: usize, value: u64) -> Result<()> {
    let (first, second) = pair(insns, pc)?;
    let mut a = decode(first);
    let mut b = decode(second);
    a.imm = value as u32 as i32;
    b.imm = (value >> 32) as u32 as i32;
    *first = encode(&a);
    *second = encode(&b);
    Ok(())
}

impl VerifierOps for LoadOps<'_> {
    fn helper_proto(&self, id: u32) -> Option<HelperProto> {
        self.inner.helper_proto(id)
    }

    fn map_info(&self, load: &PseudoLoad) -> Option<MapInfo> {
        let r = self.refs.iter().find(|r| r.insn == load.insn)?;
        let def = self.used_maps.get(r.map)?.map().def();
        Some(MapInfo {
            map_type: def.map_type,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
        })
    }

    fn resolve_pseudo_load(&mut self, load: &PseudoLoad, log: &mut VerifierLog) -> core::result::Result<(), Errno> {
        if load.kind.is_map() {
            self.resolve_map(load, log)
        } else {
            self.inner.resolve_pseudo_load(load, log)
        }
    }
}
