//! The bpf lines of `/proc/<pid>/fdinfo/<fd>` (aya and bpftool parse them).
//!
//! Reference: Linux 6.1 kernel/bpf/syscall.c `bpf_map_show_fdinfo` (with
//! `bpf_map_memory_footprint` as `memlock`), `bpf_prog_show_fdinfo` (`memlock` is the
//! program's page-rounded allocation), `bpf_link_show_fdinfo` (type names from
//! `bpf_types.h`), and kernel/bpf/btf.c `bpf_btf_show_fdinfo`. Numbers print like the
//! kernel's `vsnprintf`: `%#x` of 0 is `0x0`. Stats fds have no fdinfo lines.

use alloc::string::String;
use core::fmt::Write;

use bpf_subsys::object::{BpfObject, LinkObj, MapObj, ProgObj};
use core::sync::atomic::Ordering::Relaxed;
use syscall_abi::bpf::LinkType;

/// The page size `memlock` is rounded to.
const PAGE: u64 = 4096;
/// `offsetof(struct bpf_prog, insns)` on x86_64 in Linux 6.1 (and `sizeof(struct bpf_prog)`).
const BPF_PROG_HEADER: u64 = 72;

/// The fdinfo lines of a bpf object fd, each ending in `\n`.
pub fn fdinfo(obj: &BpfObject) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = match obj {
        BpfObject::Map(m) => map_lines(&mut s, m),
        BpfObject::Prog(p) => prog_lines(&mut s, p),
        BpfObject::Link(l) => link_lines(&mut s, l),
        BpfObject::Btf(b) => writeln!(s, "btf_id:\t{}", b.id()),
        BpfObject::Stats(_) => Ok(()),
    };
    s
}

fn round_up_page(n: u64) -> u64 {
    n.div_ceil(PAGE).saturating_mul(PAGE)
}

/// Linux 6.1 `bpf_map_memory_footprint`: `round_up(max_entries * round_up(key_size +
/// bpf_map_value_size, 8), PAGE_SIZE)`.
fn map_memlock(m: &MapObj) -> u64 {
    let def = m.map().def();
    let value = u64::try_from(m.map().syscall_value_size()).unwrap_or(u64::MAX);
    let elem = u64::from(def.key_size).saturating_add(value).div_ceil(8).saturating_mul(8);
    round_up_page(u64::from(def.max_entries).saturating_mul(elem))
}

fn map_lines(s: &mut String, m: &MapObj) -> core::fmt::Result {
    let def = m.map().def();
    writeln!(s, "map_type:\t{}", u32::from(def.map_type))?;
    writeln!(s, "key_size:\t{}", def.key_size)?;
    writeln!(s, "value_size:\t{}", def.value_size)?;
    writeln!(s, "max_entries:\t{}", def.max_entries)?;
    writeln!(s, "map_flags:\t{:#x}", m.map_flags())?;
    writeln!(s, "map_extra:\t{:#x}", def.map_extra)?;
    writeln!(s, "memlock:\t{}", map_memlock(m))?;
    writeln!(s, "map_id:\t{}", m.id())?;
    writeln!(s, "frozen:\t{}", u32::from(m.frozen()))
    // TODO(request): `owner_prog_type:`/`owner_jited:` for prog_array maps need a read-only
    // accessor of `MapObj`'s owner type (today only `prog_compatible`, which sets it).
}

fn tag_hex(tag: &[u8]) -> String {
    let mut s = String::with_capacity(tag.len() * 2);
    for b in tag {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn prog_lines(s: &mut String, p: &ProgObj) -> core::fmt::Result {
    let insns = u64::try_from(p.xlated().len()).unwrap_or(u64::MAX);
    let memlock = round_up_page(BPF_PROG_HEADER.saturating_add(insns.saturating_mul(8)));
    let st = p.stats();
    writeln!(s, "prog_type:\t{}", u32::from(p.prog_type()))?;
    // The interpreter runs every program (no JIT yet).
    writeln!(s, "prog_jited:\t0")?;
    writeln!(s, "prog_tag:\t{}", tag_hex(p.tag()))?;
    writeln!(s, "memlock:\t{memlock}")?;
    writeln!(s, "prog_id:\t{}", p.id())?;
    writeln!(s, "run_time_ns:\t{}", st.run_time_ns.load(Relaxed))?;
    writeln!(s, "run_cnt:\t{}", st.run_cnt.load(Relaxed))?;
    writeln!(s, "recursion_misses:\t{}", st.recursion_misses.load(Relaxed))?;
    writeln!(s, "verified_insns:\t{}", p.verified_insns())
}

/// `bpf_link_type_strs` (Linux 6.1 include/linux/bpf_types.h).
fn link_type_name(t: LinkType) -> &'static str {
    match t {
        LinkType::Unspec => "<invalid>",
        LinkType::RawTracepoint => "raw_tracepoint",
        LinkType::Tracing => "tracing",
        LinkType::Cgroup => "cgroup",
        LinkType::Iter => "iter",
        LinkType::Netns => "netns",
        LinkType::Xdp => "xdp",
        LinkType::PerfEvent => "perf_event",
        LinkType::KprobeMulti => "kprobe_multi",
        LinkType::StructOps => "struct_ops",
    }
}

fn link_lines(s: &mut String, l: &LinkObj) -> core::fmt::Result {
    let prog = l.prog();
    writeln!(s, "link_type:\t{}", link_type_name(l.link_type()))?;
    writeln!(s, "link_id:\t{}", l.id())?;
    writeln!(s, "prog_tag:\t{}", tag_hex(prog.tag()))?;
    writeln!(s, "prog_id:\t{}", prog.id())
    // Linux adds link-specific lines (`tp_name:` for raw tracepoints); `LinkOps` has no
    // `show_fdinfo` yet.
}
