//! The COM1 serial console (16550 UART at 0x3f8, 115200 8N1): kernel log, panics and the
//! processes' console.

use core::fmt;

use spin::Mutex;

use super::cpu::{inb, outb};

const COM1: u16 = 0x3f8;

static LOCK: Mutex<()> = Mutex::new(());

/// Programs the UART (no interrupts: output polls the line status).
pub fn init() {
    outb(COM1 + 1, 0x00); // no interrupts
    outb(COM1 + 3, 0x80); // DLAB
    outb(COM1, 0x01); // divisor 1: 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); // 8N1
    outb(COM1 + 2, 0xc7); // FIFO on, cleared
    outb(COM1 + 4, 0x0b); // DTR, RTS, OUT2
}

/// Writes `bytes`: waits for an empty transmit FIFO (LSR.THRE), then fills its 16 bytes
/// without polling in between (each port access traps under virtualisation).
fn put_all(bytes: &[u8]) {
    for chunk in bytes.chunks(16) {
        while inb(COM1 + 5) & 0x20 == 0 {
            core::hint::spin_loop();
        }
        for &b in chunk {
            outb(COM1, b);
        }
    }
}

/// Writes bytes (whole: concurrent writers do not interleave inside one call).
pub fn write_bytes(bytes: &[u8]) {
    let _l = LOCK.lock();
    put_all(bytes);
}

/// A received byte, if one is waiting.
pub fn try_read_byte() -> Option<u8> {
    (inb(COM1 + 5) & 1 != 0).then(|| inb(COM1))
}

/// Writes bytes without taking the lock (panics, double faults: the lock may be held by the
/// code that failed).
pub fn write_bytes_unlocked(bytes: &[u8]) {
    put_all(bytes);
}

/// `core::fmt::Write` over the serial port (locked per `write_str`).
pub struct SerialWriter;

impl fmt::Write for SerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Like [`SerialWriter`] without the lock (panic path).
pub struct RawSerialWriter;

impl fmt::Write for RawSerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_bytes_unlocked(s.as_bytes());
        Ok(())
    }
}

/// The `log` backend: `[LEVEL] message` lines on the serial port.
struct SerialLogger;

impl log::Log for SerialLogger {
    fn enabled(&self, _m: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut buf = LineBuf::new();
        let _ = fmt::write(&mut buf, format_args!("[{}] {}\n", record.level(), record.args()));
        write_bytes(buf.as_bytes());
    }

    fn flush(&self) {}
}

/// A fixed line buffer so one log record is written in one locked call (no heap: the
/// logger also runs before the heap and inside fault handlers).
struct LineBuf {
    buf: [u8; 512],
    len: usize,
}

impl LineBuf {
    fn new() -> Self {
        LineBuf { buf: [0; 512], len: 0 }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

static LOGGER: SerialLogger = SerialLogger;

/// Installs the serial logger at `level`.
pub fn init_logger(level: log::LevelFilter) {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
