//! `/proc/kallsyms`: one line per kernel symbol, as Linux prints them —
//! `ffffffff80100000 T name` (16 hex digits, the `nm` type letter, the name) — by address.
//! Addresses are shown (`kptr_restrict` is 0 and every process is root). Rust names are
//! demangled, so a trait method's name may contain spaces (`<T as Trait>::f`).

use alloc::vec::Vec;
use core::fmt::Write;

use crate::kallsyms::Sym;

/// The file's text for `syms`.
pub fn text<'a>(syms: impl Iterator<Item = Sym<'a>>) -> Vec<u8> {
    let mut s = alloc::string::String::new();
    for sym in syms {
        let _ = writeln!(s, "{:016x} {} {}", sym.addr, char::from(sym.kind), sym.name);
    }
    s.into_bytes()
}

/// Generates `/proc/kallsyms` from the kernel's table (for `ProcFs::add_file`).
pub fn generate() -> crate::KResult<Vec<u8>> {
    Ok(text(crate::kallsyms::iter()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kallsyms::Table;

    #[test]
    fn lines_look_like_linux() {
        let bytes = crate::kallsyms::build_for_test(&[
            (0xffff_ffff_8010_0000, 16, b'T', "_start"),
            (0xffff_ffff_8010_0010, 16, b't', "testkernel::task::sched::__schedule"),
            (0xffff_ffff_8020_0000, 8, b'D', "some_data"),
        ]);
        let t = Table::parse(&bytes).unwrap();
        assert_eq!(
            core::str::from_utf8(&text(t.iter())).unwrap(),
            "ffffffff80100000 T _start\nffffffff80100010 t testkernel::task::sched::__schedule\nffffffff80200000 D some_data\n"
        );
        assert!(text(Table::EMPTY.iter()).is_empty());
    }
}
