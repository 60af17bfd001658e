//! Leaving QEMU through the `isa-debug-exit` device (iobase 0xf4): writing `v` makes QEMU
//! exit with status `(v << 1) | 1`.

use super::cpu::{halt_forever, outl};

/// Success: QEMU exits 33.
pub const EXIT_SUCCESS: u32 = 0x10;
/// Failure (PID 1 exited non-zero): QEMU exits 35.
pub const EXIT_FAILURE: u32 = 0x11;
/// Kernel panic: QEMU exits 37.
pub const EXIT_PANIC: u32 = 0x12;

/// Exits QEMU with `code` (halts forever if the device is missing).
pub fn exit(code: u32) -> ! {
    outl(0xf4, code);
    halt_forever()
}
