//! The CMOS real-time clock: the wall time at boot.

use super::cpu::{inb, outb};

fn read(reg: u8) -> u8 {
    outb(0x70, reg);
    inb(0x71)
}

fn bcd(v: u8) -> u64 {
    u64::from((v & 0x0f) + (v >> 4) * 10)
}

/// Days from 1970-01-01 to `y-m-d` (proleptic Gregorian).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch, from the RTC (UTC, as QEMU sets it by default).
pub fn unix_seconds() -> u64 {
    while read(0x0a) & 0x80 != 0 {
        core::hint::spin_loop();
    }
    let (s, mi, h, d, mo, y) = (read(0x00), read(0x02), read(0x04), read(0x07), read(0x08), read(0x09));
    let b = read(0x0b);
    let pm = h & 0x80 != 0;
    let h = h & 0x7f;
    let conv = |v: u8| if b & 0x04 == 0 { bcd(v) } else { u64::from(v) };
    let (sec, min, mut hour, day, mon, year) = (conv(s), conv(mi), conv(h), conv(d), conv(mo), conv(y) + 2000);
    if b & 0x02 == 0 && pm {
        hour = (hour % 12) + 12;
    }
    if !(1..=12).contains(&mon) || day == 0 {
        return 0;
    }
    days_from_civil(year, mon, day) * 86_400 + hour * 3600 + min * 60 + sec
}
