//! The panic handler: prints the panic on the serial port and exits QEMU with 0x12.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

use super::serial::RawSerialWriter;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    super::cpu::cli();
    if !PANICKING.swap(true, Ordering::SeqCst) {
        let _ = writeln!(RawSerialWriter, "\nkernel panic: {info}");
    }
    super::qemu::exit(super::qemu::EXIT_PANIC)
}
