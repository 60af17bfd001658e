//! Field descriptions of trace records and the tracefs `format` text built from them.
//!
//! Reference: Linux 6.1 `kernel/trace/trace_events.c` (`f_show`: one line per field,
//! `\tfield:<type> <name>;\toffset:N;\tsize:N;\tsigned:N;`, a blank line after the common
//! fields, then `print fmt: ...`).

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write;

/// Size of the common header every record starts with (`struct trace_entry`).
pub const COMMON_HEADER_SIZE: usize = 8;

/// How a field's value is printed in `trace` / `trace_pipe` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldStyle {
    /// Unsigned decimal.
    Unsigned,
    /// Signed decimal.
    Signed,
    /// `0x` and lowercase hex.
    Hex,
    /// `true` / `false`.
    Bool,
    /// A NUL-padded char array, printed up to the first NUL.
    CharArray,
    /// A `__data_loc char[]` field: a `u32` holding `(len << 16) | offset` of a string stored
    /// after the fixed part of the record.
    DataLoc,
    /// A `__data_loc char[]` field printed in quotes, `(fault)` when empty (kprobe
    /// `string` arguments).
    QuotedString,
}

/// One field of a trace record.
#[derive(Debug, Clone)]
pub struct Field {
    /// C type as the `format` file shows it (`"pid_t"`, `"char"`, `"__data_loc char[]"`).
    pub c_type: Cow<'static, str>,
    /// Field name.
    pub name: Cow<'static, str>,
    /// Array length for `char name[N]` (0: not an array).
    pub array_len: usize,
    /// Byte offset in the record (the common header included).
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// The `signed:` of the format.
    pub signed: bool,
    /// How trace lines print it.
    pub style: FieldStyle,
}

impl Field {
    /// A field with a borrowed name and type.
    pub const fn new(
        c_type: &'static str,
        name: &'static str,
        offset: usize,
        size: usize,
        signed: bool,
        style: FieldStyle,
    ) -> Field {
        Field::with_array(c_type, name, 0, offset, size, signed, style)
    }

    /// A field with a borrowed name and type and an array length (`char name[N]`; 0: none).
    pub const fn with_array(
        c_type: &'static str,
        name: &'static str,
        array_len: usize,
        offset: usize,
        size: usize,
        signed: bool,
        style: FieldStyle,
    ) -> Field {
        Field { c_type: Cow::Borrowed(c_type), name: Cow::Borrowed(name), array_len, offset, size, signed, style }
    }

    /// Reads an integer field from `rec` (sign-extended when `signed`); `None` when the
    /// record is too short or the field is not 1, 2, 4 or 8 bytes.
    pub fn read_int(&self, rec: &[u8]) -> Option<u64> {
        let bytes = rec.get(self.offset..self.offset.checked_add(self.size)?)?;
        let mut raw = [0u8; 8];
        raw.get_mut(..bytes.len())?.copy_from_slice(bytes);
        let v = u64::from_le_bytes(raw);
        if !self.signed || self.size >= 8 || self.size == 0 {
            return Some(v);
        }
        let shift = 64 - 8 * u32::try_from(self.size).ok()?;
        Some((((v << shift) as i64) >> shift) as u64)
    }

    /// The string of a char array or `__data_loc` field (up to its first NUL).
    pub fn read_str<'a>(&self, rec: &'a [u8]) -> Option<&'a [u8]> {
        let bytes = match self.style {
            FieldStyle::DataLoc | FieldStyle::QuotedString => {
                let loc = u32::try_from(self.read_int(rec)?).ok()?;
                let off = usize::try_from(loc & 0xffff).ok()?;
                let len = usize::try_from(loc >> 16).ok()?;
                rec.get(off..off.checked_add(len)?)?
            }
            _ => rec.get(self.offset..self.offset.checked_add(self.size)?)?,
        };
        Some(bytes.split(|&b| b == 0).next().unwrap_or(&[]))
    }

    /// Writes this field's `format` line.
    fn write_format(&self, out: &mut String) {
        let _ = write!(out, "\tfield:{} {}", self.c_type, self.name);
        if self.array_len != 0 {
            let _ = write!(out, "[{}]", self.array_len);
        }
        let _ = writeln!(out, ";\toffset:{};\tsize:{};\tsigned:{};", self.offset, self.size, u8::from(self.signed));
    }
}

/// The common fields of every record (`struct trace_entry`).
pub static COMMON_FIELDS: [Field; 4] = [
    Field::new("unsigned short", "common_type", 0, 2, false, FieldStyle::Unsigned),
    Field::new("unsigned char", "common_flags", 2, 1, false, FieldStyle::Unsigned),
    Field::new("unsigned char", "common_preempt_count", 3, 1, false, FieldStyle::Unsigned),
    Field::new("int", "common_pid", 4, 4, true, FieldStyle::Signed),
];

/// The whole tracefs `format` file of an event.
pub fn format_text(name: &str, id: u32, fields: &[Field], print_fmt: &str) -> String {
    let mut out = String::new();
    let _ = write!(out, "name: {name}\nID: {id}\nformat:\n");
    for f in &COMMON_FIELDS {
        f.write_format(&mut out);
    }
    out.push('\n');
    for f in fields {
        f.write_format(&mut out);
    }
    let _ = write!(out, "\nprint fmt: {print_fmt}\n");
    out
}

/// The record size implied by `fields` (at least the common header).
pub fn fields_end(fields: &[Field]) -> usize {
    fields.iter().map(|f| f.offset.saturating_add(f.size)).fold(COMMON_HEADER_SIZE, usize::max)
}
