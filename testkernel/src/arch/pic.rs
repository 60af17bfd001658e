//! The legacy 8259 PICs, remapped to vectors 32..48; only the timer (IRQ 0) is unmasked.

use super::cpu::{inb, outb};

/// Vector of IRQ 0.
pub const IRQ_BASE: u8 = 32;

/// Remaps both PICs and masks every IRQ but 0 (and the cascade).
pub fn init() {
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
