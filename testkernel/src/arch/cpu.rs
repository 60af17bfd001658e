//! Privileged x86_64 instructions: port I/O, MSRs, control registers, interrupt masking.

use core::arch::asm;

/// Writes a byte to an I/O port.
pub fn outb(port: u16, v: u8) {
    // SAFETY: port I/O has no memory effects; the ports this kernel uses are its devices.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) }
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as in `outb`.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Writes a 32-bit value to an I/O port.
pub fn outl(port: u16, v: u32) {
    // SAFETY: as in `outb`.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags)) }
}

/// Reads a model-specific register.
pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller names an MSR that exists on every x86_64 CPU QEMU emulates.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// The MSR and value must keep the machine in a state the kernel expects (e.g. EFER, STAR).
pub unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: the caller upholds the contract above.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nostack, preserves_flags))
    }
}

/// CR2: the faulting address of the last page fault.
pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// CR3: the physical address of the active PML4.
pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Loads CR3 (switches address space, flushing non-global TLB entries).
///
/// # Safety
/// `pml4` must be a valid PML4 that maps the kernel half like the current one.
pub unsafe fn set_cr3(pml4: u64) {
    // SAFETY: the caller upholds the contract above.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) }
}

/// Invalidates the TLB entry of one page.
pub fn invlpg(va: u64) {
    // SAFETY: invalidating a TLB entry is always safe.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) }
}

/// Whether interrupts are enabled (RFLAGS.IF).
pub fn irqs_enabled() -> bool {
    let f: u64;
    // SAFETY: reads RFLAGS through the stack.
    unsafe { asm!("pushfq", "pop {}", out(reg) f, options(nomem, preserves_flags)) }
    f & 0x200 != 0
}

/// Enables interrupts.
pub fn sti() {
    // SAFETY: the kernel's interrupt handlers are installed before the first `sti`.
    unsafe { asm!("sti", options(nomem, nostack)) }
}

/// Disables interrupts.
pub fn cli() {
    // SAFETY: masking interrupts is always safe.
    unsafe { asm!("cli", options(nomem, nostack)) }
}

/// Enables interrupts and halts until the next one (atomically: no wake-up is lost).
pub fn sti_hlt() {
    // SAFETY: `sti; hlt` waits for an interrupt; handlers are installed.
    unsafe { asm!("sti", "hlt", options(nomem, nostack)) }
}

/// Halts with interrupts disabled, forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stops the CPU; nothing follows.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
    }
}

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdtsc has no side effects.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}
