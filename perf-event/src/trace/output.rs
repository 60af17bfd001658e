//! Text of `trace` / `trace_pipe` lines.
//!
//! Reference: Linux 6.1 `kernel/trace/trace_output.c` (`trace_print_context`: comm
//! right-aligned in 16 columns, `-`, pid left-aligned in 7, ` [CPU]`, the 5 flag
//! characters, timestamp `%5lu.%06lu`, `: `), `trace_syscalls.c` (`sys_openat(dfd: ffffff9c,
//! ...)` and `sys_openat -> 0x3`).

use alloc::string::String;
use core::fmt::Write;

use super::field::{Field, FieldStyle};

/// The context part of a line: `            bash-17685   [000] ..... 30629.294161: `.
pub(crate) fn write_context(out: &mut String, comm: &[u8; 16], pid: i32, cpu: u32, flags: &str, ts_ns: u64) {
    let name = if pid == 0 { String::from("<idle>") } else { lossy(cstr(comm)) };
    let secs = ts_ns / 1_000_000_000;
    let usecs = (ts_ns % 1_000_000_000) / 1000;
    let _ = write!(out, "{name:>16}-{pid:<7} [{cpu:03}] {flags} {secs:5}.{usecs:06}: ");
}

/// `bytes` up to the first NUL.
pub(crate) fn cstr(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or(&[])
}

/// Bytes as text, invalid UTF-8 replaced.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// ` name=value` for every field (the generic print of static tracepoints).
pub(crate) fn print_fields(fields: &[Field], rec: &[u8], out: &mut String) {
    for f in fields {
        let _ = write!(out, " {}=", f.name);
        print_value(f, rec, out);
    }
}

/// One field's value.
pub(crate) fn print_value(f: &Field, rec: &[u8], out: &mut String) {
    match f.style {
        FieldStyle::QuotedString => match f.read_str(rec) {
            Some(s) if f.read_int(rec).is_some_and(|loc| loc >> 16 != 0) => {
                out.push('"');
                out.push_str(&lossy(s));
                out.push('"');
            }
            _ => out.push_str("(fault)"),
        },
        FieldStyle::CharArray | FieldStyle::DataLoc => {
            if let Some(s) = f.read_str(rec) {
                out.push_str(&lossy(s));
            }
        }
        _ => {
            let Some(v) = f.read_int(rec) else { return };
            let _ = match f.style {
                FieldStyle::Signed => write!(out, "{}", v as i64),
                FieldStyle::Hex => write!(out, "0x{v:x}"),
                FieldStyle::Bool => write!(out, "{}", if v != 0 { "true" } else { "false" }),
                _ => write!(out, "{v}"),
            };
        }
    }
}
