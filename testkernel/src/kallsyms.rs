//! kallsyms: the kernel's symbol table, by name and by address.
//!
//! The linker script reserves a zeroed `.kallsyms` section inside the loaded image;
//! `scripts/kallsyms.py` writes the table into it after the link (so no address moves):
//! every function and data object, Rust names demangled without their `::h<hash>`, the
//! `#[no_mangle]` names as they are (`__x64_sys_getpid`, `vfs_read`, `schedule`). Layout
//! (little endian; the script's docstring is the reference):
//!
//! ```text
//! header  32 bytes: b"KSYM", version 1, count, entries_off, index_off, names_off, names_len, total
//! entries count x {addr u64, size u32, name_off u32}, by address
//! index   count x u32: entry numbers by name
//! names   per symbol: type u8 ('T', 't', 'D', 'R', 'B', ...), len u16, bytes
//! ```
//!
//! [`Table`] reads such a table from any byte slice (host tests build one); in the kernel
//! [`table`] is the one in the image (empty on the host).

/// One symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sym<'a> {
    /// First byte.
    pub addr: u64,
    /// Size in bytes (ELF size, or the distance to the next symbol).
    pub size: u64,
    /// `nm` type letter: `T`/`t` code, `D`/`d` data, `R`/`r` read-only data, `B`/`b` bss
    /// (lower case: local symbol).
    pub kind: u8,
    /// The (demangled) name.
    pub name: &'a str,
}

impl Sym<'_> {
    /// Whether this is code.
    pub fn is_text(&self) -> bool {
        matches!(self.kind, b'T' | b't')
    }

    /// Whether `addr` lies inside the symbol.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.addr && addr - self.addr < self.size.max(1)
    }
}

const MAGIC: &[u8; 4] = b"KSYM";
const VERSION: u32 = 1;
const HEADER: usize = 32;
const ENTRY: usize = 16;

/// A kallsyms table over its bytes.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    data: &'a [u8],
    count: usize,
    entries: usize,
    index: usize,
    names: usize,
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    d.get(at..at + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from(u32_at(d, at)) | u64::from(u32_at(d, at + 4)) << 32
}

impl<'a> Table<'a> {
    /// An empty table (no symbols).
    pub const EMPTY: Table<'static> = Table { data: &[], count: 0, entries: 0, index: 0, names: 0 };

    /// Reads the table at the start of `data`; `None` if the header is missing or any part
    /// lies outside `data`. Every name offset is checked here, so lookups cannot go out of
    /// bounds afterwards.
    pub fn parse(data: &'a [u8]) -> Option<Table<'a>> {
        if data.len() < HEADER || &data[..4] != MAGIC || u32_at(data, 4) != VERSION {
            return None;
        }
        let field = |i: usize| u32_at(data, 8 + 4 * i) as usize;
        let (count, entries, index, names, names_len, total) =
            (field(0), field(1), field(2), field(3), field(4), field(5));
        let fits = |off: usize, len: usize| off.checked_add(len).is_some_and(|e| e <= total);
        if total > data.len()
            || !fits(entries, count.checked_mul(ENTRY)?)
            || !fits(index, count.checked_mul(4)?)
            || !fits(names, names_len)
        {
            return None;
        }
        let t = Table { data, count, entries, index, names };
        for i in 0..count {
            let off = u32_at(data, entries + i * ENTRY + 12) as usize;
            let len = u16_at(data, names + off + 1) as usize;
            if off.checked_add(3 + len).is_none_or(|e| e > names_len) {
                return None;
            }
            if u32_at(data, index + 4 * i) as usize >= count {
                return None;
            }
        }
        Some(t)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the table has no symbols.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn name_bytes(&self, i: usize) -> (u8, &'a [u8]) {
        let off = self.names + u32_at(self.data, self.entries + i * ENTRY + 12) as usize;
        let len = u16_at(self.data, off + 1) as usize;
        (self.data[off], &self.data[off + 3..off + 3 + len])
    }

    fn addr(&self, i: usize) -> u64 {
        u64_at(self.data, self.entries + i * ENTRY)
    }

    /// Symbol `i` (by address order).
    pub fn get(&self, i: usize) -> Option<Sym<'a>> {
        if i >= self.count {
            return None;
        }
        let (kind, name) = self.name_bytes(i);
        let size = u64::from(u32_at(self.data, self.entries + i * ENTRY + 8));
        Some(Sym { addr: self.addr(i), size, kind, name: core::str::from_utf8(name).unwrap_or("?") })
    }

    /// Every symbol by address.
    pub fn iter(&self) -> impl Iterator<Item = Sym<'a>> + 'a {
        let t = *self;
        (0..t.count).filter_map(move |i| t.get(i))
    }

    /// The address of the symbol named exactly `name` (the lowest, if several share it).
    pub fn lookup_name(&self, name: &[u8]) -> Option<u64> {
        let by_name = |k: usize| u32_at(self.data, self.index + 4 * k) as usize;
        // First index position whose name is >= `name`.
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.name_bytes(by_name(mid)).1 < name {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo < self.count && self.name_bytes(by_name(lo)).1 == name).then(|| self.addr(by_name(lo)))
    }

    /// The symbol containing `addr` (of several at one address, the first: global before
    /// local).
    pub fn lookup_addr(&self, addr: u64) -> Option<Sym<'a>> {
        self.covering(addr).next()
    }

    /// Every symbol containing `addr` that starts where the closest symbol at or below
    /// `addr` starts (aliases: names the linker or LLVM's function merging gave one body).
    pub fn covering(&self, addr: u64) -> impl Iterator<Item = Sym<'a>> + 'a {
        // Number of symbols starting at or below `addr`.
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.addr(mid) <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut first = lo;
        if let Some(last) = lo.checked_sub(1) {
            let start = self.addr(last);
            first = last;
            while first > 0 && self.addr(first - 1) == start {
                first -= 1;
            }
        }
        let t = *self;
        (first..lo).filter_map(move |j| t.get(j)).filter(move |s| s.contains(addr))
    }
}

#[cfg(target_os = "none")]
fn kernel_table() -> Table<'static> {
    extern "C" {
        static __kallsyms_start: u8;
        static __kallsyms_end: u8;
    }
    let start = core::ptr::addr_of!(__kallsyms_start);
    let len = core::ptr::addr_of!(__kallsyms_end) as usize - start as usize;
    // SAFETY: the linker reserves `[__kallsyms_start, __kallsyms_end)` in the loaded image;
    // the bytes are written before boot and never change.
    let data = unsafe { core::slice::from_raw_parts(start, len) };
    Table::parse(data).unwrap_or(Table::EMPTY)
}

#[cfg(target_os = "none")]
static TABLE: spin::Once<Table<'static>> = spin::Once::new();

/// The kernel's table (empty on the host, and in a kernel built without
/// `scripts/kallsyms.py`).
pub fn table() -> Table<'static> {
    #[cfg(target_os = "none")]
    {
        *TABLE.call_once(kernel_table)
    }
    #[cfg(not(target_os = "none"))]
    {
        Table::EMPTY
    }
}

/// Reads and checks the table at boot (so trap-context lookups never initialise it) and
/// logs its size.
pub fn init() {
    let t = table();
    log::info!("kallsyms: {} symbols", t.len());
}

/// `kallsyms_lookup_name`: the address of the symbol named `name`.
pub fn lookup_name(name: &[u8]) -> Option<u64> {
    table().lookup_name(name)
}

/// `kallsyms_lookup`: `(start, size, name)` of the symbol containing `addr`.
pub fn lookup_addr(addr: u64) -> Option<(u64, u64, &'static str)> {
    table().lookup_addr(addr).map(|s| (s.addr, s.size, s.name))
}

/// Every symbol by address.
pub fn iter() -> impl Iterator<Item = Sym<'static>> {
    table().iter()
}

/// Builds a table in the script's format (host tests of this module and of its users).
#[cfg(test)]
pub fn build_for_test(syms: &[(u64, u32, u8, &str)]) -> alloc::vec::Vec<u8> {
    use alloc::vec::Vec;
    let mut names = Vec::new();
    let mut offs = Vec::new();
    for s in syms {
        offs.push(names.len() as u32);
        names.push(s.2);
        names.extend_from_slice(&(s.3.len() as u16).to_le_bytes());
        names.extend_from_slice(s.3.as_bytes());
    }
    let n = syms.len();
    let (entries, index) = (HEADER, HEADER + n * ENTRY);
    let names_off = index + 4 * n;
    let total = names_off + names.len();
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    for v in [VERSION, n as u32, entries as u32, index as u32, names_off as u32, names.len() as u32, total as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (s, off) in syms.iter().zip(&offs) {
        out.extend_from_slice(&s.0.to_le_bytes());
        out.extend_from_slice(&s.1.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| (syms[i as usize].3.as_bytes(), syms[i as usize].0));
    for i in order {
        out.extend_from_slice(&i.to_le_bytes());
    }
    out.extend_from_slice(&names);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    const SYMS: &[(u64, u32, u8, &str)] = &[
        (0xffff_ffff_8010_0000, 0x10, b'T', "_start"),
        (0xffff_ffff_8010_0010, 0x20, b'T', "__x64_sys_getpid"),
        (0xffff_ffff_8010_0010, 0x20, b't', "alias_of_getpid"),
        (0xffff_ffff_8010_0040, 0x08, b't', "testkernel::task::sched::__schedule"),
        (0xffff_ffff_8010_0100, 0x40, b'T', "vfs_read"),
        (0xffff_ffff_8020_0000, 0x08, b'D', "some_data"),
        (0xffff_ffff_8020_0008, 0x08, b'D', "vfs_read"),
    ];

    #[test]
    fn looks_up_by_name_exactly() {
        let bytes = build_for_test(SYMS);
        let t = Table::parse(&bytes).unwrap();
        assert_eq!(t.len(), 7);
        assert_eq!(t.lookup_name(b"__x64_sys_getpid"), Some(0xffff_ffff_8010_0010));
        assert_eq!(t.lookup_name(b"testkernel::task::sched::__schedule"), Some(0xffff_ffff_8010_0040));
        // Duplicated names: the lowest address.
        assert_eq!(t.lookup_name(b"vfs_read"), Some(0xffff_ffff_8010_0100));
        assert_eq!(t.lookup_name(b"vfs_rea"), None);
        assert_eq!(t.lookup_name(b"vfs_readx"), None);
        assert_eq!(t.lookup_name(b""), None);
        assert_eq!(t.lookup_name(b"zzz"), None);
    }

    #[test]
    fn looks_up_by_address_within_the_size() {
        let bytes = build_for_test(SYMS);
        let t = Table::parse(&bytes).unwrap();
        let s = t.lookup_addr(0xffff_ffff_8010_0015).unwrap();
        assert_eq!((s.addr, s.size, s.name, s.kind), (0xffff_ffff_8010_0010, 0x20, "__x64_sys_getpid", b'T'));
        assert_eq!(t.lookup_addr(0xffff_ffff_8010_0000).unwrap().name, "_start");
        let names: alloc::vec::Vec<_> = t.covering(0xffff_ffff_8010_002f).map(|s| s.name).collect();
        assert_eq!(names, ["__x64_sys_getpid", "alias_of_getpid"]);
        assert_eq!(t.covering(0xffff_ffff_8010_0030).count(), 0);
        assert_eq!(t.lookup_addr(0xffff_ffff_8010_0047).unwrap().name, "testkernel::task::sched::__schedule");
        // In a hole after a symbol's end, below the first symbol, past the last.
        assert_eq!(t.lookup_addr(0xffff_ffff_8010_0048), None);
        assert_eq!(t.lookup_addr(0xffff_ffff_8000_0000), None);
        assert_eq!(t.lookup_addr(0xffff_ffff_8020_0010), None);
        assert!(t.get(0).unwrap().is_text() && !t.get(5).unwrap().is_text());
        assert_eq!(t.iter().count(), 7);
        assert!(t.iter().zip(t.iter().skip(1)).all(|(a, b)| a.addr <= b.addr));
    }

    #[test]
    fn rejects_damaged_tables() {
        let bytes = build_for_test(SYMS);
        assert!(Table::parse(&bytes[..bytes.len() - 1]).is_none(), "truncated");
        assert!(Table::parse(&[0; 64]).is_none(), "zeroed section (script not run)");
        let mut bad = bytes.clone();
        bad[HEADER + 12] = 0xff; // first name offset far outside
        assert!(Table::parse(&bad).is_none());
        let mut bad = bytes.clone();
        let idx = u32_at(&bytes, 16) as usize;
        bad[idx] = 99; // index entry out of range
        assert!(Table::parse(&bad).is_none());
        assert!(Table::parse(&build_for_test(&[])).unwrap().is_empty());
        assert_eq!(Table::EMPTY.lookup_addr(5), None);
        assert_eq!(Table::EMPTY.lookup_name(b"x"), None);
    }

    /// The table `scripts/kallsyms.py` writes is the one this module reads (the script's
    /// `build` run on the same symbols as `build_for_test`).
    #[test]
    fn reads_what_the_build_script_writes() {
        let syms: alloc::vec::Vec<String> =
            SYMS.iter().map(|s| format!("({}, {}, {:?}, {:?})", s.0, s.1, s.3, char::from(s.2))).collect();
        let script = format!(
            "import sys; sys.path.insert(0, {:?}); import kallsyms; sys.stdout.buffer.write(kallsyms.build([{}]))",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts"),
            syms.join(", ")
        );
        let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, build_for_test(SYMS), "script and test builder agree byte for byte");
        let t = Table::parse(&out.stdout).unwrap();
        assert_eq!(t.lookup_name(b"__x64_sys_getpid"), Some(0xffff_ffff_8010_0010));
        assert_eq!(t.lookup_addr(0xffff_ffff_8010_0101).map(|s| s.name), Some("vfs_read"));
    }

    #[test]
    fn host_builds_have_no_kernel_table() {
        assert!(table().is_empty());
        assert_eq!(lookup_name(b"schedule"), None);
    }
}
