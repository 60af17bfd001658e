//! The legacy 8259 PICs, remapped to vectors 32..48; only the timer (IRQ 0) is unmasked.

use super::cpu::{inb, outb, rdmsr, wrmsr};

/// `IA32_APIC_BASE` and its global-enable bit.
const MSR_APIC_BASE: u32 = 0x1b;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
/// `IA32_APIC_BASE` x2APIC-mode bit (cleared together with the enable bit: x2APIC to
/// disabled is the only valid way out of x2APIC mode).
const APIC_X2APIC_MODE: u64 = 1 << 10;

/// Vector of IRQ 0.
pub const IRQ_BASE: u8 = 32;

/// Remaps both PICs and masks every IRQ but 0 (and the cascade).
pub fn init() {
    // The kernel takes interrupts from the 8259 only. Firmware like SeaBIOS leaves the
    // local APIC in virtual-wire mode (LINT0 = ExtINT), which passes them on; qboot leaves
    // LINT0 masked, which blocks them. Disabling the local APIC globally makes the 8259
    // drive the CPU's INTR pin directly, whatever the firmware did. QEMU's TCG APIC model
    // (7.2) still passes the 8259 through LVT LINT0 when the APIC is globally disabled, so
    // `entry.rs` first sets LINT0 to ExtINT (virtual wire), which KVM and hardware ignore.
    // SAFETY: one CPU, no APIC use anywhere in the kernel; clearing the enable bit only
    // changes how external interrupts reach this CPU.
    unsafe { wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) & !(APIC_GLOBAL_ENABLE | APIC_X2APIC_MODE)) };
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, IRQ_BASE);
    outb(0xa1, IRQ_BASE + 8);
    outb(0x21, 4);
    outb(0xa1, 2);
    outb(0x21, 1);
    outb(0xa1, 1);
    outb(0x21, 0xfa); // IRQ 0 and 2 unmasked
    outb(0xa1, 0xff);
}

/// Acknowledges `irq`.
pub fn eoi(irq: u8) {
    if irq >= 8 {
        outb(0xa0, 0x20);
    }
    outb(0x20, 0x20);
}

/// Whether `irq` (7 or 15) is spurious (not in the in-service register).
pub fn is_spurious(irq: u8) -> bool {
    let (cmd, bit) = if irq >= 8 { (0xa0, irq - 8) } else { (0x20, irq) };
    outb(cmd, 0x0b);
    inb(cmd) & (1 << bit) == 0
}
