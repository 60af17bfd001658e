//! The GDT (Linux's x86_64 selector layout, so user code sees the same CS/SS values) and
//! the TSS (the kernel stack for interrupts from user mode, and an IST stack for double
//! faults and NMIs).

use core::arch::asm;
use core::ptr::addr_of_mut;

/// Kernel code selector (`__KERNEL_CS`).
pub const KERNEL_CS: u16 = 0x10;
/// Kernel data selector (`__KERNEL_DS`).
pub const KERNEL_DS: u16 = 0x18;
/// 32-bit user code selector with RPL 3 (`__USER32_CS`); `STAR[63:48]` (sysret adds 16/8).
pub const USER32_CS: u16 = 0x23;
/// User data selector with RPL 3 (`__USER_DS`).
pub const USER_DS: u16 = 0x2b;
/// 64-bit user code selector with RPL 3 (`__USER_CS`).
pub const USER_CS: u16 = 0x33;
const TSS_SEL: u16 = 0x40;

/// IST index (1-based) of the double-fault stack.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST index of the NMI stack.
pub const IST_NMI: u8 = 2;

#[repr(C, packed(4))]
struct Tss {
    _r0: u32,
    rsp: [u64; 3],
    _r1: u64,
    ist: [u64; 7],
    _r2: u64,
    _r3: u16,
    iomap_base: u16,
}

static mut TSS: Tss = Tss { _r0: 0, rsp: [0; 3], _r1: 0, ist: [0; 7], _r2: 0, _r3: 0, iomap_base: 104 };

static mut GDT: [u64; 10] = [
    0,
    0x00cf_9b00_0000_ffff, // 0x08 kernel 32-bit code (unused)
    0x00af_9b00_0000_ffff, // 0x10 kernel code
    0x00cf_9300_0000_ffff, // 0x18 kernel data
    0x00cf_fb00_0000_ffff, // 0x20 user 32-bit code
    0x00cf_f300_0000_ffff, // 0x28 user data
    0x00af_fb00_0000_ffff, // 0x30 user code
    0,
    0, // 0x40 TSS (two slots)
    0,
];

#[repr(C, align(16))]
struct Stack([u8; 16384]);
static mut DF_STACK: Stack = Stack([0; 16384]);
static mut NMI_STACK: Stack = Stack([0; 16384]);

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Loads the GDT and TSS and reloads every segment register.
pub fn init() {
    // SAFETY: runs once at boot with interrupts disabled, before anything else uses these
    // statics; the descriptors are well-formed and the selectors match them.
    unsafe {
        let tss = addr_of_mut!(TSS) as u64;
        (*addr_of_mut!(TSS)).ist[usize::from(IST_DOUBLE_FAULT - 1)] = addr_of_mut!(DF_STACK) as u64 + 16384;
        (*addr_of_mut!(TSS)).ist[usize::from(IST_NMI - 1)] = addr_of_mut!(NMI_STACK) as u64 + 16384;
        let limit = (core::mem::size_of::<Tss>() - 1) as u64;
        let gdt = &mut *addr_of_mut!(GDT);
        gdt[8] = (limit & 0xffff)
            | ((tss & 0xff_ffff) << 16)
            | (0x89 << 40)
            | (((limit >> 16) & 0xf) << 48)
            | (((tss >> 24) & 0xff) << 56);
        gdt[9] = tss >> 32;
        let ptr = Pointer { limit: (core::mem::size_of::<[u64; 10]>() - 1) as u16, base: gdt.as_ptr() as u64 };
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = in(reg) u64::from(KERNEL_CS),
            tmp = out(reg) _,
            ds = in(reg) u32::from(KERNEL_DS),
            tss = in(reg) u32::from(TSS_SEL),
        );
    }
}

/// Sets the stack the CPU switches to on an interrupt or exception from user mode (the
/// running task's kernel stack top).
pub fn set_kernel_stack(top: u64) {
    // SAFETY: single CPU; callers run with interrupts disabled (context switch), and the
    // CPU only reads `rsp0` when an interrupt arrives in user mode.
    unsafe { (*addr_of_mut!(TSS)).rsp[0] = top };
}
