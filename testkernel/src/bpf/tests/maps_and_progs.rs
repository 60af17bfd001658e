//! Maps and programs through `sys_bpf`: element operations, fd resolution errnos, a program
//! load, fdinfo text, and everything freed at the end.

use std::sync::Arc;

use bpf_subsys::object::BpfObject;
use syscall_abi::bpf::{
    Cmd, GetIdAttr, MapElemAttr, MapType, ProgLoadAttr, ProgType, BPF_ANY, BPF_F_NO_PREALLOC, BPF_F_RDONLY, BPF_NOEXIST,
};
use syscall_abi::Errno;

use super::{u32b, u64b, T};
use crate::fs::{FileOps, Metadata, OpenFile};

#[test]
fn array_and_hash_elements_through_attr_bytes() {
    let t = T::new();
    let arr = t.map(MapType::Array, 4, 8, 16, 0);
    assert_eq!(arr, 0, "lowest free fd");
    assert_eq!(t.update(arr, &u32b(3), &u64b(0x1122_3344_5566_7788), BPF_ANY), Ok(0));
    assert_eq!(t.lookup(arr, &u32b(3), 8), Ok(u64b(0x1122_3344_5566_7788).to_vec()));
    assert_eq!(t.lookup(arr, &u32b(0), 8), Ok(vec![0; 8]));
    assert_eq!(t.lookup(arr, &u32b(16), 8), Err(Errno::ENOENT));
    assert_eq!(t.update(arr, &u32b(1), &u64b(1), BPF_NOEXIST), Err(Errno::EEXIST));

    let hash = t.map(MapType::Hash, 8, 4, 4, 0);
    assert_eq!(hash, 1);
    assert_eq!(t.lookup(hash, &u64b(7), 4), Err(Errno::ENOENT));
    assert_eq!(t.update(hash, &u64b(7), &u32b(70), BPF_ANY), Ok(0));
    assert_eq!(t.lookup(hash, &u64b(7), 4), Ok(u32b(70).to_vec()));
    for k in 10..14u64 {
        assert_eq!(t.update(hash, &u64b(k), &u32b(1), BPF_ANY), if k < 13 { Ok(0) } else { Err(Errno::E2BIG) });
    }
    // A bad user pointer is EFAULT, not a crash.
    let a = MapElemAttr { map_fd: arr as u32, key: 0x10, value: 0x20, ..MapElemAttr::ZERO };
    assert_eq!(t.bpf(Cmd::MapLookupElem, &a), Err(Errno::EFAULT));
    t.assert_all_freed();
}

/// A file that is not a bpf object.
struct PlainFile;

impl FileOps for PlainFile {
    fn stat(&self) -> crate::KResult<Metadata> {
        Ok(Metadata::default())
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

#[test]
fn fd_resolution_errnos() {
    let t = T::new();
    let plain = t.proc.files.lock().install(OpenFile::new(Arc::new(PlainFile), 2, "x".into()), false).unwrap();
    let map = t.map(MapType::Array, 4, 4, 1, 0);
    for (fd, errno) in [(plain, Errno::EINVAL), (99, Errno::EBADF), (-1, Errno::EBADF), (i32::MAX, Errno::EBADF)] {
        assert_eq!(t.lookup(fd, &u32b(0), 4), Err(errno), "lookup on fd {fd}");
        assert_eq!(t.update(fd, &u32b(0), &u32b(0), BPF_ANY), Err(errno), "update on fd {fd}");
    }
    // A closed fd is EBADF; the map was freed with it.
    t.close(map);
    assert_eq!(t.lookup(map, &u32b(0), 4), Err(Errno::EBADF));
    t.assert_all_freed();
}

#[test]
fn installed_fds_look_like_linux_anon_inodes() {
    let t = T::new();
    let rw = t.map(MapType::Array, 4, 4, 1, 0);
    let ro = t.map(MapType::Array, 4, 4, 1, BPF_F_RDONLY);
    let f = t.ops(rw);
    assert_eq!(f.path, "anon_inode:bpf-map");
    assert_eq!(f.flags(), crate::fs::file::O_RDWR);
    assert!(t.proc.files.lock().cloexec(rw).unwrap(), "bpf fds are O_CLOEXEC");
    assert_eq!(t.ops(ro).flags() & crate::fs::file::O_ACCMODE, 0, "BPF_F_RDONLY gives O_RDONLY");
    // The read-only fd cannot update (EPERM from the subsystem, which sees the fd's mode).
    assert_eq!(t.update(ro, &u32b(0), &u32b(1), BPF_ANY), Err(Errno::EPERM));
    let st = f.ops.stat().unwrap();
    assert_eq!((st.mode, st.nlink, st.size), (0o600, 1, 0));
    // bpf_dummy_read / bpf_dummy_write; no pread, no lseek.
    let mut buf = [0u8; 4];
    assert_eq!(f.ops.read(&f, &mut buf), Err(Errno::EINVAL));
    assert_eq!(f.ops.write(&f, &buf), Err(Errno::EINVAL));
    assert_eq!(f.ops.read_at(0, &mut buf), Err(Errno::ESPIPE));
    assert_eq!(f.ops.seek(&f, 0, 0), Err(Errno::ESPIPE));
    // A map that is not a ring buffer polls EPOLLERR and has no wait queue.
    assert_eq!(f.ops.poll(&f), crate::fs::PollEvents::ERR);
    assert!(f.ops.wait_queue().is_none());
    drop(f);
    t.assert_all_freed();
}

fn insns(code: &[(u8, u8, i32)]) -> Vec<u8> {
    // (opcode, dst | src << 4, imm) with off 0.
    code.iter().flat_map(|&(op, regs, imm)| [[op, regs, 0, 0], imm.to_le_bytes()].concat()).collect()
}

pub(super) fn load_prog(t: &T) -> i32 {
    // r0 = 0; exit
    let code = insns(&[(0xb7, 0, 0), (0x95, 0, 0)]);
    let a = ProgLoadAttr {
        prog_type: ProgType::SocketFilter.into(),
        insn_cnt: 2,
        insns: t.put_bytes(&code),
        license: t.cstr("GPL"),
        prog_name: *b"tiny\0\0\0\0\0\0\0\0\0\0\0\0",
        ..ProgLoadAttr::ZERO
    };
    i32::try_from(t.bpf(Cmd::ProgLoad, &a).expect("prog load")).unwrap()
}

#[test]
fn load_a_program_and_read_its_fdinfo() {
    let t = T::new();
    let fd = load_prog(&t);
    let f = t.ops(fd);
    assert_eq!(f.path, "anon_inode:bpf-prog");
    let BpfObject::Prog(p) = t.object(fd) else { panic!("not a program") };
    let tag: String = p.tag().iter().map(|b| format!("{b:02x}")).collect();
    assert_ne!(tag, "0000000000000000");
    let expected = format!(
        "prog_type:\t1\nprog_jited:\t0\nprog_tag:\t{tag}\nmemlock:\t4096\nprog_id:\t{}\nrun_time_ns:\t0\n\
         run_cnt:\t0\nrecursion_misses:\t0\nverified_insns:\t{}\n",
        p.id(),
        p.verified_insns()
    );
    assert_eq!(f.ops.fdinfo(), expected);
    // Programs have no mmap and no poll (always ready).
    assert_eq!(f.ops.mmap(&f, 0, 4096, 1, 1).err(), Some(Errno::ENODEV));
    let all = crate::fs::PollEvents::IN | crate::fs::PollEvents::OUT;
    assert!(f.ops.poll(&f).contains(all));
    // A program fd where a map fd is expected: EINVAL.
    assert_eq!(t.lookup(fd, &u32b(0), 4), Err(Errno::EINVAL));
    drop((f, p));
    t.assert_all_freed();
}

#[test]
fn map_fdinfo_matches_linux() {
    let t = T::new();
    let arr = t.map(MapType::Array, 4, 8, 16, 0);
    let id = t.object(arr).id();
    // memlock: round_up(16 * round_up(4 + 8, 8), 4096).
    let expected = format!(
        "map_type:\t2\nkey_size:\t4\nvalue_size:\t8\nmax_entries:\t16\nmap_flags:\t0x0\nmap_extra:\t0x0\n\
         memlock:\t4096\nmap_id:\t{id}\nfrozen:\t0\n"
    );
    assert_eq!(t.ops(arr).ops.fdinfo(), expected);

    // A bigger hash map with flags, frozen; BPF_F_RDONLY is the fd's, not the map's.
    let h = t.map(MapType::Hash, 8, 100, 1000, BPF_F_NO_PREALLOC | BPF_F_RDONLY);
    let info = t.ops(h).ops.fdinfo();
    assert!(info.contains("map_type:\t1\n"), "{info}");
    assert!(info.contains("map_flags:\t0x1\n"), "{info}");
    // round_up(1000 * round_up(108, 8), 4096) = round_up(112000, 4096) = 114688.
    assert!(info.contains("memlock:\t114688\n"), "{info}");
    let freeze = MapElemAttr { map_fd: arr as u32, ..MapElemAttr::ZERO };
    assert_eq!(t.bpf(Cmd::MapFreeze, &freeze), Ok(0));
    assert!(t.ops(arr).ops.fdinfo().ends_with("frozen:\t1\n"));

    // Per-CPU values count once per possible CPU (set before the map is made).
    let t2 = T::new();
    t2.host.set_possible_cpus(4);
    let pc = t2.map(MapType::PercpuArray, 4, 4, 10, 0);
    // round_up(10 * round_up(4 + 8 * 4, 8), 4096) = 4096.
    assert!(t2.ops(pc).ops.fdinfo().contains("memlock:\t4096\n"));
    assert_eq!(t2.lookup(pc, &u32b(0), 32), Ok(vec![0; 32]));
    t.assert_all_freed();
    t2.assert_all_freed();
}

#[test]
fn get_fd_by_id_shares_the_object_and_registry_empties() {
    let t = T::new();
    let m = t.map(MapType::Array, 4, 4, 2, 0);
    assert_eq!(t.update(m, &u32b(1), &u32b(5), BPF_ANY), Ok(0));
    let id = t.object(m).id();
    let by_id = GetIdAttr { start_id: id, open_flags: BPF_F_RDONLY, ..GetIdAttr::ZERO };
    let ro = i32::try_from(t.bpf(Cmd::MapGetFdById, &by_id).unwrap()).unwrap();
    t.close(m);
    // The map lives on through the second fd, read-only.
    assert_eq!(t.lookup(ro, &u32b(1), 4), Ok(u32b(5).to_vec()));
    assert_eq!(t.update(ro, &u32b(1), &u32b(6), BPF_ANY), Err(Errno::EPERM));
    assert!(!bpf_subsys::BpfHost::registry(&*t.host).is_empty());
    t.close(ro);
    t.assert_all_freed();
}

#[test]
fn full_fd_table_is_emfile_and_frees_the_new_object() {
    let t = T::new();
    t.proc.files.lock().set_limit(1);
    let m = t.map(MapType::Array, 4, 4, 1, 0);
    assert_eq!(t.map_create(MapType::Ringbuf, 0, 0, 4096, 0), Err(Errno::EMFILE));
    // Only the first map exists; the ring buffer's pages went with it.
    assert_eq!(bpf_subsys::BpfHost::registry(&*t.host).count(bpf_subsys::object::ObjKind::Map), 1);
    assert_eq!(t.vmap.live(), 0);
    t.close(m);
    t.assert_all_freed();
}

/// A link kind without behaviour (the fdinfo lines do not depend on it).
struct NoOps;

impl bpf_subsys::object::LinkOps for NoOps {}

#[test]
fn link_btf_and_stats_fdinfo() {
    use bpf_subsys::object::{BpfFile, BtfObj, FileMode, LinkObj, StatsObj};
    use syscall_abi::bpf::LinkType;

    let t = T::new();
    let pfd = load_prog(&t);
    let BpfObject::Prog(p) = t.object(pfd) else { panic!("not a program") };
    let reg = bpf_subsys::BpfHost::registry(&*t.host);
    let link = LinkObj::new(reg, LinkType::RawTracepoint, p.clone(), Box::new(NoOps)).unwrap();
    let tag: String = p.tag().iter().map(|b| format!("{b:02x}")).collect();
    let ops = crate::bpf::BpfFileOps::new(BpfFile::new(BpfObject::Link(link.clone()), FileMode::ReadWrite));
    assert_eq!(
        ops.fdinfo(),
        format!("link_type:\traw_tracepoint\nlink_id:\t{}\nprog_tag:\t{tag}\nprog_id:\t{}\n", link.id(), p.id())
    );
    let btf = BtfObj::new(reg, vec![0; 24], Vec::new(), false).unwrap();
    let ops2 = crate::bpf::BpfFileOps::new(BpfFile::new(BpfObject::Btf(btf.clone()), FileMode::ReadWrite));
    assert_eq!(ops2.fdinfo(), format!("btf_id:\t{}\n", btf.id()));
    let ops3 = crate::bpf::BpfFileOps::new(BpfFile::new(BpfObject::Stats(StatsObj::new()), FileMode::ReadWrite));
    assert_eq!(ops3.fdinfo(), "");
    drop((ops, ops2, ops3, link, btf, p));
    t.assert_all_freed();
}
