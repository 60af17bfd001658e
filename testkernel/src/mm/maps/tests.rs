//! The maps text checked byte for byte against the host kernel's own `/proc/self/maps`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::*;
use crate::mm::fake::{FakeFrames, FakeMapper};
use crate::mm::vma::TASK_SIZE;

/// The stat encoding of `major:minor` (glibc's `gnu_dev_makedev`).
fn makedev(major: u64, minor: u64) -> u64 {
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

#[test]
fn device_numbers_round_trip() {
    for (ma, mi) in [(0, 0), (8, 1), (0xfe, 0), (259, 0x12345), (0x1234, 0xff)] {
        assert_eq!(dev_major_minor(makedev(ma, mi)), (ma, mi));
    }
}

#[test]
fn the_text_matches_the_host_kernel_line_for_line() {
    let host = std::fs::read_to_string("/proc/self/maps").unwrap();
    let frames = FakeFrames::leak();
    let mut a = AddressSpace::new(FakeMapper::boxed().0, frames);
    let mut expected = String::new();
    let mut kinds = [0usize; 4];
    for line in host.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (range, perms, off, dev, ino) = (f[0], f[1], f[2], f[3], f[4]);
        let name = line.splitn(6, char::is_whitespace).nth(5).map(str::trim_start).unwrap_or("");
        let (s, e) = range.split_once('-').unwrap();
        let (start, end) = (u64::from_str_radix(s, 16).unwrap(), u64::from_str_radix(e, 16).unwrap());
        let (ma, mi) = dev.split_once(':').unwrap();
        let dev = makedev(u64::from_str_radix(ma, 16).unwrap(), u64::from_str_radix(mi, 16).unwrap());
        let offset = u64::from_str_radix(off, 16).unwrap();
        let ino: u64 = ino.parse().unwrap();
        if end > TASK_SIZE || perms.ends_with('s') {
            continue;
        }
        let kind = match name {
            "" => VmaKind::Anon,
            "[heap]" => VmaKind::Heap,
            "[stack]" => VmaKind::Stack,
            n if n.starts_with('/') && !n.ends_with("(deleted)") => {
                VmaKind::Image { path: Arc::from(n), offset, dev, ino }
            }
            _ => continue,
        };
        kinds[match kind {
            VmaKind::Anon => 0,
            VmaKind::Heap => 1,
            VmaKind::Stack => 2,
            _ => 3,
        }] += 1;
        let mut prot = Prot::empty();
        for (c, p) in perms.chars().zip([Prot::READ, Prot::WRITE, Prot::EXEC]) {
            if c != '-' {
                prot |= p;
            }
        }
        a.vmas.insert(Vma::new(start, end, prot, kind)).unwrap();
        expected.push_str(line);
        expected.push('\n');
    }
    assert!(kinds[0] > 0 && kinds[2] == 1 && kinds[3] > 0, "the host gave anonymous, stack and file lines: {kinds:?}");
    assert_eq!(a.maps_text(), expected);
}
