//! kprobe_events: parsing, creation, deletion, Linux 6.1's errnos, the event format, arming
//! on first use, records, trace lines, kprobe_profile, perf's unlisted kprobes.

mod trace_util;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bpf_subsys::attach::PerfEventKind;
use perf_event::trace::{KprobeTarget, X86PtRegs};
use syscall_abi::Errno;
use trace_util::{drain_pipe, errno, read, setup, Capture, DO_SYS_OPENAT2, VFS_READ};

fn write(fs: &perf_event::trace::TraceFs, cmd: &str) -> syscall_abi::Result<usize> {
    fs.write_file("kprobe_events", cmd.as_bytes(), true)
}

#[test]
fn create_list_format_and_delete() {
    let (_env, arm, reg, fs) = setup();
    let cmd = "p:myprobe do_sys_openat2 dfd=%di flags=%dx:x32 %si:s8\n";
    assert_eq!(write(&fs, cmd).unwrap(), cmd.len());
    assert_eq!(arm.count(), 1);
    assert_eq!(arm.enabled_count(), 0, "registered disabled");
    assert_eq!(read(&fs, "kprobe_events"), "p:kprobes/myprobe do_sys_openat2 dfd=%di flags=%dx:x32 arg3=%si:s8\n");
    let ev = reg.by_name("kprobes", "myprobe").unwrap();
    assert_eq!(ev.kind(), PerfEventKind::Probe);
    assert_eq!(ev.record_size(), 29);
    let want = format!(
        concat!(
            "name: myprobe\n",
            "ID: {}\n",
            "format:\n",
            "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n",
            "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n",
            "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n",
            "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
            "\n",
            "\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n",
            "\tfield:u64 dfd;\toffset:16;\tsize:8;\tsigned:0;\n",
            "\tfield:u32 flags;\toffset:24;\tsize:4;\tsigned:0;\n",
            "\tfield:s8 arg3;\toffset:28;\tsize:1;\tsigned:1;\n",
            "\n",
            "print fmt: \"(%lx) dfd=%Lu flags=0x%x arg3=%d\", REC->__probe_ip, REC->dfd, REC->flags, REC->arg3\n",
        ),
        ev.id()
    );
    assert_eq!(read(&fs, "events/kprobes/myprobe/format"), want);
    assert_eq!(read(&fs, "events/kprobes/myprobe/id"), format!("{}\n", ev.id()));
    assert!(read(&fs, "available_events").contains("kprobes:myprobe\n"));
    drop(ev);
    write(&fs, "-:myprobe").unwrap();
    assert_eq!(arm.count(), 0, "probe unregistered");
    assert!(reg.by_name("kprobes", "myprobe").is_none());
    assert_eq!(read(&fs, "kprobe_events"), "");
    assert_eq!(errno(fs.stat("events/kprobes")), Errno::ENOENT);
}

#[test]
fn default_names_groups_and_kretprobes() {
    let (_env, _arm, _reg, fs) = setup();
    write(&fs, "p do_sys_openat2+8\n# a comment\n\n  r vfs_read  # trailing comment\n").unwrap();
    write(&fs, "p 0xffffffff81001000").unwrap();
    write(&fs, "r16:grp/ret vfs_read ret=$retval:s32").unwrap();
    write(&fs, "p:grp/mod sys:vfs_read+0x4").unwrap();
    assert_eq!(
        read(&fs, "kprobe_events"),
        concat!(
            "p:kprobes/p_do_sys_openat2_8 do_sys_openat2+8\n",
            "r:kprobes/r_vfs_read_0 vfs_read\n",
            "p:kprobes/p_0xffffffff81001000 0xffffffff81001000\n",
            "r16:grp/ret vfs_read ret=$retval:s32\n",
            "p:grp/mod sys:vfs_read+4\n",
        )
    );
    let f = read(&fs, "events/grp/ret/format");
    assert!(f.contains("\tfield:unsigned long __probe_func;\toffset:8;\tsize:8;\tsigned:0;\n"));
    assert!(f.contains("\tfield:unsigned long __probe_ret_ip;\toffset:16;\tsize:8;\tsigned:0;\n"));
    assert!(f.contains("\tfield:s32 ret;\toffset:24;\tsize:4;\tsigned:1;\n"));
    assert!(f.ends_with("print fmt: \"(%lx <- %lx) ret=%d\", REC->__probe_func, REC->__probe_ret_ip, REC->ret\n"));
    // Deleting without a group matches every group; with one only that group.
    assert_eq!(errno(write(&fs, "-:kprobes/ret")), Errno::ENOENT);
    write(&fs, "-:grp/").unwrap();
    assert!(!read(&fs, "kprobe_events").contains("grp/"));
}

#[test]
fn linux_errnos() {
    let (_env, _arm, _reg, fs) = setup();
    for bad in [
        "x vfs_read",
        "p",
        "p:",
        "p: vfs_read",
        "p:bad-name vfs_read",
        "p:/x vfs_read",
        "p:g/ vfs_read",
        "p:1abc vfs_read",
        "p vfs_read $retval",
        "r vfs_read+4",
        "p1 vfs_read",
        "r0 vfs_read",
        "r5000 vfs_read",
        "p vfs_read %zz",
        "p vfs_read a=%di a=%si",
        "p vfs_read common_pid=%di",
        "p vfs_read =%di",
        "p vfs_read %di:u128",
        "p vfs_read-4",
        "p vfs_read+z",
        "p 0xzz",
        "-foo",
        "-:",
    ] {
        assert_eq!(errno(write(&fs, bad)), Errno::EINVAL, "{bad}");
    }
    assert_eq!(errno(write(&fs, "p nosuch")), Errno::ENOENT);
    assert_eq!(errno(write(&fs, "p vfs_read+2")), Errno::EILSEQ);
    assert_eq!(errno(write(&fs, "p vfs_read+0x100")), Errno::EINVAL);
    let many: String = (0..129).map(|i| format!(" a{i}=%di")).collect();
    assert_eq!(errno(write(&fs, &format!("p vfs_read{many}"))), Errno::E2BIG);
    write(&fs, "p:dup vfs_read").unwrap();
    assert_eq!(errno(write(&fs, "p:dup do_sys_openat2")), Errno::EEXIST);
    assert_eq!(errno(write(&fs, "-:missing")), Errno::ENOENT);
    // Lines before a failing one stay applied.
    assert_eq!(errno(write(&fs, "p:ok1 vfs_read\np:ok2 nosuch\np:ok3 vfs_read")), Errno::ENOENT);
    assert_eq!(read(&fs, "kprobe_events"), "p:kprobes/dup vfs_read\np:kprobes/ok1 vfs_read\n");
    assert_eq!(errno(fs.write_file("kprobe_profile", b"x", true)), Errno::EACCES);
}

#[test]
fn enable_arms_hits_record_and_busy() {
    let (env, arm, reg, fs) = setup();
    write(&fs, "p:myprobe do_sys_openat2 dfd=%di flags=%dx:x32").unwrap();
    write(&fs, "r:myret vfs_read arg1=$retval:s64").unwrap();
    let ev = reg.by_name("kprobes", "myprobe").unwrap();
    let cap = Arc::new(Capture::default());
    let h = ev.attach(cap.clone()).unwrap();
    assert_eq!(arm.enabled_count(), 1, "first consumer arms");
    let mut regs = X86PtRegs { rdi: 0xffff_ff9c, rdx: 0x241, rip: DO_SYS_OPENAT2 + 1, ..X86PtRegs::default() };
    arm.fire(DO_SYS_OPENAT2, &mut regs);
    let recs = cap.take();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.len(), 28);
    assert_eq!(u16::from_le_bytes([r[0], r[1]]), u16::try_from(ev.id()).unwrap());
    assert_eq!(u64::from_le_bytes(r[8..16].try_into().unwrap()), DO_SYS_OPENAT2);
    assert_eq!(u64::from_le_bytes(r[16..24].try_into().unwrap()), 0xffff_ff9c);
    assert_eq!(u32::from_le_bytes(r[24..28].try_into().unwrap()), 0x241);
    assert_eq!(cap.regs_seen.load(Ordering::Relaxed), 1);
    // In use: no deletion, no truncation.
    assert_eq!(errno(write(&fs, "-:myprobe")), Errno::EBUSY);
    assert_eq!(errno(fs.truncate("kprobe_events")), Errno::EBUSY);
    assert_eq!(reg.events().len(), 2, "nothing deleted");
    drop(h);
    assert_eq!(arm.enabled_count(), 0, "last consumer disarms");
    let hold = ev.hold();
    assert_eq!(errno(write(&fs, "-:myprobe")), Errno::EBUSY);
    drop(hold);
    // tracefs enable: trace lines as Linux prints them.
    fs.write_file("events/kprobes/enable", b"1", true).unwrap();
    assert_eq!(arm.enabled_count(), 2);
    arm.fire(DO_SYS_OPENAT2, &mut regs);
    let mut rregs = X86PtRegs { rax: (-11i64) as u64, rip: 0xffff_ffff_8123_4567, ..X86PtRegs::default() };
    arm.fire(VFS_READ, &mut rregs);
    assert_eq!(
        drain_pipe(&fs),
        concat!(
            "            bash-17685   [000] ..... 30629.294161: myprobe: (do_sys_openat2+0x0/0x200) dfd=4294967196 flags=0x241\n",
            "            bash-17685   [000] ..... 30629.294161: myret: (0xffffffff81234567 <- vfs_read) arg1=-11\n",
        )
    );
    arm.missed.store(3, Ordering::Relaxed);
    assert_eq!(
        read(&fs, "kprobe_profile"),
        format!("  {:<44} {:>15} {:>15}\n  {:<44} {:>15} {:>15}\n", "myprobe", 2, 3, "myret", 1, 3)
    );
    assert_eq!(errno(write(&fs, "-:myret")), Errno::EBUSY);
    fs.write_file("events/enable", b"0", true).unwrap();
    let _ = env;
    drop(ev);
    // Truncation (open with O_TRUNC) deletes everything once nothing is in use; writes
    // without O_APPEND do not truncate.
    fs.truncate("kprobe_events").unwrap();
    fs.write_file("kprobe_events", b"p:fresh vfs_read\n", false).unwrap();
    fs.write_file("kprobe_events", b"p:fresh2 vfs_read\n", false).unwrap();
    assert_eq!(read(&fs, "kprobe_events"), "p:kprobes/fresh vfs_read\np:kprobes/fresh2 vfs_read\n");
    write(&fs, "-:fresh2").unwrap();
    assert_eq!(read(&fs, "kprobe_events"), "p:kprobes/fresh vfs_read\n");
    assert_eq!(arm.count(), 1);
    fs.truncate("kprobe_events").unwrap();
    assert_eq!(arm.count(), 0);
    assert!(reg.events().is_empty());
}

#[test]
fn local_kprobes_for_perf() {
    let (_env, arm, reg, fs) = setup();
    let ev = reg.create_local_kprobe(KprobeTarget::Symbol { name: "vfs_read".into(), offset: 0 }, true).unwrap();
    assert_eq!(ev.kind(), PerfEventKind::Probe);
    assert_eq!(ev.record_size(), 24);
    assert!(reg.by_id(ev.id()).is_none(), "not listed");
    assert_eq!(read(&fs, "kprobe_events"), "");
    assert_eq!(arm.count(), 1);
    let cap = Arc::new(Capture::default());
    let h = ev.attach(cap.clone()).unwrap();
    let mut regs = X86PtRegs { rax: 5, rip: 0x1234, ..X86PtRegs::default() };
    arm.fire(VFS_READ, &mut regs);
    let r = cap.take();
    assert_eq!(u64::from_le_bytes(r[0][8..16].try_into().unwrap()), VFS_READ);
    assert_eq!(u64::from_le_bytes(r[0][16..24].try_into().unwrap()), 0x1234);
    drop(h);
    drop(ev);
    assert_eq!(arm.count(), 0, "dropping the event unregisters the probe");
    let addr = reg.create_local_kprobe(KprobeTarget::Address(DO_SYS_OPENAT2), false).unwrap();
    assert_eq!(addr.name(), "p_0xffffffff81001000");
    assert_eq!(
        errno(reg.create_local_kprobe(KprobeTarget::Symbol { name: "nosuch".into(), offset: 0 }, false)),
        Errno::ENOENT
    );
    assert_eq!(
        errno(reg.create_local_kprobe(KprobeTarget::Symbol { name: "vfs_read".into(), offset: 4 }, true)),
        Errno::EINVAL
    );
    let bare = perf_event::trace::TraceRegistry::new(trace_util::FakeEnv::new());
    assert_eq!(errno(bare.create_local_kprobe(KprobeTarget::Address(1), false)), Errno::ENODEV);
}

#[test]
fn memory_stack_comm_and_string_fetch_args() {
    let (_env, arm, reg, fs) = setup();
    {
        let mut mem = arm.mem.lock().unwrap();
        let mut a = vec![0u8; 32];
        a[8..12].copy_from_slice(&0xdead_beefu32.to_le_bytes());
        a[16..24].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
        mem.insert(0x5000, a);
        let mut b = vec![0u8; 32];
        b[16..24].copy_from_slice(&0x5018u64.to_le_bytes());
        mem.insert(0x6000, b);
        mem.insert(0x1000, vec![0x34, 0x12]);
        mem.insert(0x7000, b"hello\0world".to_vec());
        let mut stack = vec![0u8; 32];
        stack[8..16].copy_from_slice(&77u64.to_le_bytes());
        mem.insert(0x8000, stack);
    }
    let cmd = "p:m do_sys_openat2 a=+8(%di):u32 b=-8(+16(%si)):x64 c=@0x1000:u16 s=+0(%dx):string \
               comm=$comm st=$stack1 sp=$stack i=\\42 bad=+0(%r8):string f=+4(%r8):s32";
    write(&fs, cmd).unwrap();
    let ev = reg.by_name("kprobes", "m").unwrap();
    let format = read(&fs, "events/kprobes/m/format");
    assert!(format.contains("\tfield:__data_loc char[] s;\toffset:30;\tsize:4;\tsigned:0;\n"), "{format}");
    assert!(format.contains("\tfield:__data_loc char[] comm;\toffset:34;\tsize:4;\tsigned:0;\n"));
    assert!(format.ends_with(
        "print fmt: \"(%lx) a=%u b=0x%Lx c=%u s=\\\"%s\\\" comm=\\\"%s\\\" st=%Lu sp=%Lu i=%Lu bad=\\\"%s\\\" f=%d\", \
         REC->__probe_ip, REC->a, REC->b, REC->c, __get_str(s), __get_str(comm), REC->st, REC->sp, REC->i, \
         __get_str(bad), REC->f\n"
    ));
    assert_eq!(ev.record_size(), 70);
    fs.write_file("events/kprobes/m/enable", b"1", true).unwrap();
    let cap = Arc::new(Capture::default());
    let _h = ev.attach(cap.clone()).unwrap();
    let mut regs = X86PtRegs { rdi: 0x5000, rsi: 0x6000, rdx: 0x7000, rsp: 0x8000, r8: 0xdead, ..X86PtRegs::default() };
    arm.fire(DO_SYS_OPENAT2, &mut regs);
    assert_eq!(
        drain_pipe(&fs),
        "            bash-17685   [000] ..... 30629.294161: m: (do_sys_openat2+0x0/0x200) a=3735928559 \
         b=0x1122334455667788 c=4660 s=\"hello\" comm=\"bash\" st=77 sp=32768 i=42 bad=(fault) f=0\n"
    );
    let r = &cap.take()[0];
    assert_eq!(r.len(), 70 + 6 + 5, "fixed part + \"hello\\0\" + \"bash\\0\"");
    let loc = u32::from_le_bytes(r[30..34].try_into().unwrap());
    assert_eq!((loc >> 16, loc & 0xffff), (6, 70));
    assert_eq!(&r[70..76], b"hello\0");
    assert_eq!(u32::from_le_bytes(r[58..62].try_into().unwrap()) >> 16, 0, "unreadable string: length 0");
    for bad in [
        "p vfs_read %di:string",
        "p vfs_read $comm:u32",
        "p vfs_read @vfs_read",
        "p vfs_read +8(%di",
        "p vfs_read +8%di)",
        "p vfs_read $stackx",
        "p vfs_read +u8(%di)",
        "p vfs_read +8($comm)",
        "p vfs_read \\x",
        "p vfs_read +0(+0(+0(+0(+0(+0(+0(+0(+0(%di)))))))))",
    ] {
        assert_eq!(errno(write(&fs, bad)), Errno::EINVAL, "{bad}");
    }
    write(&fs, "p:deep vfs_read +0(+0(+0(+0(+0(+0(+0(+0(%di))))))))").unwrap();
}

#[test]
fn symbol_type_prints_symbol_and_offset() {
    let (_env, arm, reg, fs) = setup();
    write(&fs, "p:sym vfs_read where=%si:symbol raw=%si:x64").unwrap();
    let format = read(&fs, "events/kprobes/sym/format");
    assert!(format.contains("\tfield:u64 where;\toffset:16;\tsize:8;\tsigned:0;\n"));
    assert!(format.ends_with("print fmt: \"(%lx) where=%pS raw=0x%Lx\", REC->__probe_ip, REC->where, REC->raw\n"));
    let _h = reg.by_name("kprobes", "sym").unwrap().attach(Arc::new(Capture::default())).unwrap();
    fs.write_file("events/kprobes/sym/enable", b"1", true).unwrap();
    let mut regs = X86PtRegs { rsi: DO_SYS_OPENAT2 + 0x10, ..X86PtRegs::default() };
    arm.fire(VFS_READ, &mut regs);
    regs.rsi = 0x42;
    arm.fire(VFS_READ, &mut regs);
    assert_eq!(
        drain_pipe(&fs),
        concat!(
            "            bash-17685   [000] ..... 30629.294161: sym: (vfs_read+0x0/0x100) where=do_sys_openat2+0x10/0x200 raw=0xffffffff81001010\n",
            "            bash-17685   [000] ..... 30629.294161: sym: (vfs_read+0x0/0x100) where=0x42 raw=0x42\n",
        )
    );
}
