//! The header, section layout and string section (Linux 6.1 `btf_parse_hdr`,
//! `btf_check_sec_info`, `btf_parse_str_sec`, `__btf_name_valid`).

use syscall_abi::{Errno, Error, Result};

use super::env::Env;
use super::BTF_MAX_NAME_OFFSET;

/// `struct btf_header` (24 bytes).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Header {
    pub magic: u16,
    pub version: u8,
    pub flags: u8,
    pub hdr_len: u32,
    pub type_off: u32,
    pub type_len: u32,
    pub str_off: u32,
    pub str_len: u32,
}

const HDR_SIZE: usize = 24;
/// `KSYM_NAME_LEN` (6.1): longest identifier.
const KSYM_NAME_LEN: usize = 512;

fn fail(env: &mut Env<'_>, errno: Errno, msg: &'static str) -> Error {
    env.log(format_args!("{msg}"));
    Error::new(errno, msg)
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// `btf_parse_hdr`.
pub(super) fn parse_hdr(env: &mut Env<'_>, data: &[u8]) -> Result<Header> {
    if data.len() < 8 {
        return Err(fail(env, Errno::EINVAL, "hdr_len not found"));
    }
    let hdr_len = u32_at(data, 4);
    let hl = hdr_len as usize;
    if data.len() < hl {
        return Err(fail(env, Errno::EINVAL, "btf_header not found"));
    }
    if hl > HDR_SIZE && data[HDR_SIZE..hl].iter().any(|&b| b != 0) {
        return Err(fail(env, Errno::E2BIG, "Unsupported btf_header"));
    }
    let mut raw = [0u8; HDR_SIZE];
    let copy = hl.min(HDR_SIZE);
    raw[..copy].copy_from_slice(&data[..copy]);
    let h = Header {
        magic: u16::from_ne_bytes([raw[0], raw[1]]),
        version: raw[2],
        flags: raw[3],
        hdr_len: u32_at(&raw, 4),
        type_off: u32_at(&raw, 8),
        type_len: u32_at(&raw, 12),
        str_off: u32_at(&raw, 16),
        str_len: u32_at(&raw, 20),
    };
    if env.log.is_needed() {
        env.log(format_args!(
            "magic: 0x{:x}\nversion: {}\nflags: 0x{:x}\nhdr_len: {}\ntype_off: {}\ntype_len: {}\nstr_off: {}\nstr_len: {}\nbtf_total_size: {}\n",
            h.magic, h.version, h.flags, h.hdr_len, h.type_off, h.type_len, h.str_off, h.str_len, data.len()
        ));
    }
    if h.magic != 0xeb9f {
        return Err(fail(env, Errno::EINVAL, "Invalid magic"));
    }
    if h.version != 1 {
        return Err(fail(env, Errno::ENOTSUPP, "Unsupported version"));
    }
    if h.flags != 0 {
        return Err(fail(env, Errno::ENOTSUPP, "Unsupported flags"));
    }
    if data.len() == hl {
        return Err(fail(env, Errno::EINVAL, "No data"));
    }
    check_sec_info(env, &h, data.len())?;
    Ok(h)
}

/// `btf_check_sec_info`: the type and string sections, sorted by offset (then length),
/// must tile the data after the header exactly.
fn check_sec_info(env: &mut Env<'_>, h: &Header, size: usize) -> Result<()> {
    let mut secs = [(h.type_off, h.type_len), (h.str_off, h.str_len)];
    // Linux's comparator: (int)(x.off - y.off), then (int)(x.len - y.len).
    let cmp = |x: (u32, u32), y: (u32, u32)| {
        let d = x.0.wrapping_sub(y.0) as i32;
        if d != 0 {
            d
        } else {
            x.1.wrapping_sub(y.1) as i32
        }
    };
    if cmp(secs[0], secs[1]) > 0 {
        secs.swap(0, 1);
    }
    // `size` ≤ BTF_MAX_SIZE and ≥ hdr_len here.
    let expected_total = u32::try_from(size).unwrap_or(u32::MAX).wrapping_sub(h.hdr_len);
    let mut total: u32 = 0;
    for (off, len) in secs {
        if expected_total < off {
            return Err(fail(env, Errno::EINVAL, "Invalid section offset"));
        }
        if total < off {
            return Err(fail(env, Errno::EINVAL, "Unsupported section found"));
        }
        if total > off {
            return Err(fail(env, Errno::EINVAL, "Section overlap found"));
        }
        if expected_total - total < len {
            return Err(fail(env, Errno::EINVAL, "Total section length too long"));
        }
        total += len;
    }
    if expected_total != total {
        return Err(fail(env, Errno::EINVAL, "Unsupported section found"));
    }
    Ok(())
}

/// `btf_parse_str_sec`: keeps a copy of the string section in the parsed BTF.
pub(super) fn parse_str_sec(env: &mut Env<'_>, data: &[u8], h: &Header) -> Result<()> {
    let start = u64::from(h.hdr_len) + u64::from(h.str_off);
    let end = start + u64::from(h.str_len);
    if end != data.len() as u64 {
        return Err(fail(env, Errno::EINVAL, "String section is not at the end"));
    }
    // In bounds: end == data.len().
    let strings = &data[start as usize..];
    if strings.is_empty() || h.str_len - 1 > BTF_MAX_NAME_OFFSET || strings[strings.len() - 1] != 0 || strings[0] != 0 {
        return Err(fail(env, Errno::EINVAL, "Invalid string section"));
    }
    let mut v = alloc::vec::Vec::new();
    v.try_reserve_exact(strings.len()).map_err(|_| Errno::ENOMEM)?;
    v.extend_from_slice(strings);
    env.btf.strings = v;
    Ok(())
}

impl super::Btf {
    /// `btf_name_offset_valid`.
    pub(super) fn name_offset_valid(&self, off: u32) -> bool {
        off <= BTF_MAX_NAME_OFFSET && (off as usize) < self.strings.len()
    }

    /// `__btf_name_valid`: a C identifier (`dot_ok`: dots allowed too, for section and
    /// variable names) of at most `KSYM_NAME_LEN` characters. `off` must be valid.
    pub(super) fn name_valid(&self, off: u32, dot_ok: bool) -> bool {
        let Some(s) = self.strings.get(off as usize..) else { return false };
        let ok = |c: u8, first: bool| {
            (if first { c.is_ascii_alphabetic() } else { c.is_ascii_alphanumeric() })
                || c == b'_'
                || (c == b'.' && dot_ok)
        };
        if !s.first().is_some_and(|&c| ok(c, true)) {
            return false;
        }
        let mut i = 1;
        while i < s.len() && s[i] != 0 && i < KSYM_NAME_LEN {
            if !ok(s[i], false) {
                return false;
            }
            i += 1;
        }
        s.get(i).is_some_and(|&c| c == 0)
    }

    /// `btf_name_valid_identifier`.
    pub(super) fn name_valid_identifier(&self, off: u32) -> bool {
        self.name_valid(off, false)
    }
}
