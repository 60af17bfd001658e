//! `format` files compared byte for byte with Linux's (the text of this machine's
//! /sys/kernel/tracing, IDs aside): syscall events and the sched events the demo kernel
//! defines with `tracepoint!`.

mod trace_util;

use perf_event::trace::DataLoc;
use trace_util::setup;

perf_event::tracepoint! {
    /// sched_switch as Linux defines it.
    pub fn trace_sched_switch(sched / sched_switch) -> static SCHED_SWITCH, struct SchedSwitch {
        prev_comm: [u8; 16],
        prev_pid: i32 = "pid_t",
        prev_prio: i32 = "int",
        prev_state: i64 = "long",
        next_comm: [u8; 16],
        next_pid: i32 = "pid_t",
        next_prio: i32 = "int",
    }
    print "\"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio";
}

perf_event::tracepoint! {
    /// sched_process_exec as Linux defines it.
    pub fn trace_sched_process_exec(sched / sched_process_exec) -> static SCHED_PROCESS_EXEC, struct SchedProcessExec {
        filename: DataLoc,
        pid: i32 = "pid_t",
        old_pid: i32 = "pid_t",
    }
    print "\"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid";
}

perf_event::tracepoint! {
    /// sched_process_exit as Linux defines it.
    pub fn trace_sched_process_exit(sched / sched_process_exit) -> static SCHED_PROCESS_EXIT, struct SchedProcessExit {
        comm: [u8; 16],
        pid: i32 = "pid_t",
        prio: i32 = "int",
        group_dead: bool,
    }
    print "\"comm=%s pid=%d prio=%d group_dead=%s\", REC->comm, REC->pid, REC->prio, REC->group_dead ? \"true\" : \"false\"";
}

/// `syscalls/sys_enter_openat/format` of Linux 6.18 on the test machine, the ID replaced by `{id}`.
const SYS_ENTER_OPENAT: &str = concat!(
    "name: sys_enter_openat\n",
    "ID: {id}\n",
    "format:\n",
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n",
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n",
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
    "\n",
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n",
    "\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n",
    "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n",
    "\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n",
    "\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n",
    "\n",
    "print fmt: \"dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx\", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), ((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))\n",
);

/// `syscalls/sys_exit_openat/format` of Linux 6.18 on the test machine, the ID replaced by `{id}`.
const SYS_EXIT_OPENAT: &str = concat!(
    "name: sys_exit_openat\n",
    "ID: {id}\n",
    "format:\n",
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n",
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n",
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
    "\n",
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n",
    "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n",
    "\n",
    "print fmt: \"0x%lx\", REC->ret\n",
);

/// `sched/sched_switch/format` of Linux 6.18 on the test machine, the ID replaced by `{id}`.
const SCHED_SWITCH_FMT: &str = concat!(
    "name: sched_switch\n",
    "ID: {id}\n",
    "format:\n",
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n",
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n",
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
    "\n",
    "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n",
    "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n",
    "\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n",
    "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n",
    "\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n",
    "\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n",
    "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n",
    "\n",
    "print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio\n",
);

/// `sched/sched_process_exec/format` of Linux 6.18 on the test machine, the ID replaced by `{id}`.
const SCHED_PROCESS_EXEC_FMT: &str = concat!(
    "name: sched_process_exec\n",
    "ID: {id}\n",
    "format:\n",
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n",
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n",
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
    "\n",
    "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n",
    "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n",
    "\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n",
    "\n",
    "print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid\n",
);

/// `sched/sched_process_exit/format` of Linux 6.18 on the test machine, the ID replaced by `{id}`.
const SCHED_PROCESS_EXIT_FMT: &str = concat!(
    "name: sched_process_exit\n",
    "ID: {id}\n",
    "format:\n",
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n",
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n",
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n",
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
    "\n",
    "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n",
    "\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n",
    "\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n",
    "\tfield:bool group_dead;\toffset:32;\tsize:1;\tsigned:0;\n",
    "\n",
    "print fmt: \"comm=%s pid=%d prio=%d group_dead=%s\", REC->comm, REC->pid, REC->prio, REC->group_dead ? \"true\" : \"false\"\n",
);

fn expect(template: &str, id: u32) -> String {
    template.replace("{id}", &id.to_string())
}

#[test]
fn syscall_formats_match_linux() {
    let (_env, _arm, reg, fs) = setup();
    reg.syscalls()
        .register(257, "openat", &[("int", "dfd"), ("const char *", "filename"), ("int", "flags"), ("umode_t", "mode")])
        .unwrap();
    let (enter, exit) = reg.syscalls().events(257).unwrap();
    assert_eq!(enter.format(), expect(SYS_ENTER_OPENAT, enter.id()));
    assert_eq!(exit.format(), expect(SYS_EXIT_OPENAT, exit.id()));
    let text = String::from_utf8(fs.read_file("events/syscalls/sys_enter_openat/format").unwrap()).unwrap();
    assert_eq!(text, expect(SYS_ENTER_OPENAT, enter.id()));
    assert_eq!(enter.record_size(), 48);
    assert_eq!(exit.record_size(), 24);
}

#[test]
fn sched_formats_match_linux() {
    let (_env, _arm, reg, fs) = setup();
    for (tp, want) in [
        (&SCHED_SWITCH, SCHED_SWITCH_FMT),
        (&SCHED_PROCESS_EXEC, SCHED_PROCESS_EXEC_FMT),
        (&SCHED_PROCESS_EXIT, SCHED_PROCESS_EXIT_FMT),
    ] {
        let ev = reg.register_static(tp);
        assert_eq!(ev.format(), expect(want, ev.id()), "{}", tp.name());
        let path = format!("events/sched/{}/format", tp.name());
        assert_eq!(String::from_utf8(fs.read_file(&path).unwrap()).unwrap(), expect(want, ev.id()));
    }
    // Record sizes as the C structs: 64, 20 (+ string), 36.
    assert_eq!(core::mem::size_of::<SchedSwitch>(), 64);
    assert_eq!(core::mem::size_of::<SchedProcessExec>(), 20);
    assert_eq!(core::mem::size_of::<SchedProcessExit>(), 36);
    let _ = (trace_sched_switch, trace_sched_process_exec, trace_sched_process_exit);
}

#[test]
fn syscall_without_args_and_exit_group() {
    let (_env, _arm, reg, _fs) = setup();
    reg.syscalls().register(39, "getpid", &[]).unwrap();
    reg.syscalls().register(231, "exit_group", &[("int", "error_code")]).unwrap();
    let (enter, _) = reg.syscalls().events(39).unwrap();
    assert!(enter.format().ends_with("\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"\"\n"));
    let (enter, _) = reg.syscalls().events(231).unwrap();
    assert!(enter.format().ends_with(
        "\tfield:int error_code;\toffset:16;\tsize:8;\tsigned:0;\n\nprint fmt: \"error_code: 0x%08lx\", ((unsigned long)(REC->error_code))\n"
    ));
}
