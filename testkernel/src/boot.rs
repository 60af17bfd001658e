//! The boot sequence after the machine is up: (self-test stand-in for now).

use alloc::sync::Arc;

use crate::arch::boot::BootParams;
use crate::arch::context::FpuState;
use crate::arch::gdt::{USER_CS, USER_DS};
use crate::arch::trap::TrapFrame;
use crate::mm::frame::FRAMES;
use crate::mm::paging::{kernel_pml4, X86PageTable};
use crate::mm::{FrameAllocator, PageMapper, PteFlags};
use crate::task::{sched, Process, Task};

core::arch::global_asm!(
    r#"
    .section .rodata.selftest, "a"
    .global selftest_user_start
    .global selftest_user_end
selftest_user_start:

    mov $1, %eax
    mov $1, %edi
    lea 1f(%rip), %rsi
    mov $(2f - 1f), %edx
    syscall
    mov $60, %eax
    xor %edi, %edi
    syscall
1:  .ascii "hello from user mode\n"
2:
selftest_user_end:
    "#,
    options(att_syntax)
);

extern "C" {
    static selftest_user_start: u8;
    static selftest_user_end: u8;
}

extern "C" fn user_entry(_arg: u64) {
    sched::finish_switch();
}

/// Runs the boot sequence on the boot stack, which then becomes the idle task.
pub fn start(params: BootParams) -> ! {
    log::info!("cmdline: {}", params.cmdline);
    let kproc = Arc::new(Process::new(0, kernel_pml4()));
    sched::init(Task::boot(kproc));

    let Ok(mut pt) = X86PageTable::new() else { panic!("oom") };
    let Some(code) = FRAMES.alloc_zeroed() else { panic!("oom") };
    let Some(stack) = FRAMES.alloc_zeroed() else { panic!("oom") };
    let s = core::ptr::addr_of!(selftest_user_start);
    let n = core::ptr::addr_of!(selftest_user_end) as usize - s as usize;
    // SAFETY: copying the self-test's bytes into a fresh frame.
    unsafe { core::ptr::copy_nonoverlapping(s, FRAMES.frame_ptr(code), n) };
    let _ = pt.map(0x40_0000, code, PteFlags::EXEC);
    let _ = pt.map(0x7fff_ffff_e000, stack, PteFlags::WRITE);
    let p = Arc::new(Process::new(1, pt.root()));
    core::mem::forget(pt);
    let mut f = TrapFrame::ZERO;
    f.rip = 0x40_0000;
    f.cs = u64::from(USER_CS);
    f.ss = u64::from(USER_DS);
    f.rsp = 0x7fff_ffff_f000;
    f.eflags = 0x202;
    let t = Task::new(1, p, &f, user_entry, 0, FpuState::initial(), false);
    sched::spawn(t);
    sched::idle_loop()
}
