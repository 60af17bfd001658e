//! The `kprobe_events` command language.
//!
//! ```text
//! p[:[GRP/]EVENT] [MOD:]SYM[+offs]|MEMADDR [FETCHARGS]   a kprobe
//! r[MAXACTIVE][:[GRP/]EVENT] [MOD:]SYM[+0] [FETCHARGS]   a kretprobe
//! -:[GRP/]EVENT                                          delete
//! ```
//!
//! Reference: Linux 6.1 `kernel/trace/trace_kprobe.c` (`__trace_kprobe_create`) and
//! `trace_dynevent.c` (`dyn_event_release`), `trace_probe.c`
//! (`traceprobe_parse_event_name`, `traceprobe_split_symbol_offset`). Every syntax error is
//! `EINVAL`; more than 128 fetch arguments `E2BIG`.

use alloc::string::String;
use alloc::vec::Vec;

use syscall_abi::{err, Errno, Result};

use super::super::event::check_name;
use super::fetch::FetchArg;
use super::KprobeTarget;

/// Longest event or group name + 1 (Linux `MAX_EVENT_NAME_LEN`).
const MAX_EVENT_NAME_LEN: usize = 64;
/// Most fetch arguments (Linux `MAX_TRACE_ARGS`).
const MAX_TRACE_ARGS: usize = 128;
/// Largest kretprobe maxactive (Linux `KRETPROBE_MAXACTIVE_MAX`).
const MAXACTIVE_MAX: u32 = 4096;
/// The group of events created without one.
pub(crate) const DEFAULT_GROUP: &str = "kprobes";

/// A parsed `p:`/`r:` line.
#[derive(Debug, Clone)]
pub(crate) struct ProbeDef {
    pub(crate) group: String,
    pub(crate) event: String,
    pub(crate) target: KprobeTarget,
    pub(crate) retprobe: bool,
    /// 0 = the default.
    pub(crate) maxactive: u32,
    pub(crate) args: Vec<FetchArg>,
}

/// One command line.
#[derive(Debug)]
pub(crate) enum Command {
    Create(ProbeDef),
    /// `-:[GRP/]EVENT`: `group` None matches every group; an empty `event` every event of
    /// the group.
    Delete {
        group: Option<String>,
        event: String,
    },
}

/// Parses an unsigned number the way `kstrtoul(s, 0)` does (`0x` hex, leading `0` octal).
pub(crate) fn parse_num(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// `[GRP/]EVENT` (Linux `traceprobe_parse_event_name`).
fn parse_event_name(s: &str) -> Result<(Option<String>, String)> {
    let (group, event) = match s.split_once('/') {
        Some((g, e)) => {
            if g.is_empty() || g.len() >= MAX_EVENT_NAME_LEN {
                return err(Errno::EINVAL, "bad group name");
            }
            check_name(g)?;
            (Some(String::from(g)), e)
        }
        None => (None, s),
    };
    if event.is_empty() || event.len() >= MAX_EVENT_NAME_LEN {
        return err(Errno::EINVAL, "bad event name");
    }
    check_name(event)?;
    Ok((group, String::from(event)))
}

/// The default event name: `p_<sym>_<off>` / `r_<sym>_<off>` / `p_0x<addr>`, with every
/// character that cannot be in a name replaced by `_` (Linux replaces `:` and `.`), cut to
/// 63 characters.
pub(crate) fn default_name(retprobe: bool, target: &KprobeTarget) -> String {
    let c = if retprobe { 'r' } else { 'p' };
    let mut name = match target {
        KprobeTarget::Symbol { name, offset } => alloc::format!("{c}_{name}_{offset}"),
        KprobeTarget::Address(a) => alloc::format!("{c}_0x{a:x}"),
    };
    name = name.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' }).collect();
    name.truncate(MAX_EVENT_NAME_LEN - 1);
    name
}

/// Parses the probe location: a symbol with an optional `+offs`, or an address.
pub(crate) fn parse_target(s: &str, retprobe: bool) -> Result<KprobeTarget> {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return match parse_num(s) {
            Some(a) => Ok(KprobeTarget::Address(a)),
            None => err(Errno::EINVAL, "bad probe address"),
        };
    }
    let (sym, offset) = match s.find(['+', '-']) {
        Some(i) => {
            let (sym, off) = s.split_at(i);
            if off.starts_with('-') {
                return err(Errno::EINVAL, "negative probe offset");
            }
            match parse_num(off) {
                Some(o) => (sym, o),
                None => return err(Errno::EINVAL, "bad probe offset"),
            }
        }
        None => (s, 0),
    };
    if sym.is_empty() {
        return err(Errno::EINVAL, "no symbol");
    }
    if retprobe && offset != 0 {
        return err(Errno::EINVAL, "kretprobe not at function entry");
    }
    Ok(KprobeTarget::Symbol { name: String::from(sym), offset })
}

/// Parses one command line (already stripped of comments and blanks).
pub(crate) fn parse_command(line: &str) -> Result<Command> {
    let argv: Vec<&str> = line.split_ascii_whitespace().collect();
    let Some(&head) = argv.first() else { return err(Errno::EINVAL, "empty command") };
    if let Some(rest) = head.strip_prefix('-') {
        let Some(spec) = rest.strip_prefix(':') else { return err(Errno::EINVAL, "bad delete command") };
        let (group, event) = match spec.split_once('/') {
            Some((g, e)) => (Some(String::from(g)), String::from(e)),
            None => (None, String::from(spec)),
        };
        if group.is_none() && event.is_empty() {
            return err(Errno::EINVAL, "no event name");
        }
        return Ok(Command::Delete { group, event });
    }
    let retprobe = match head.as_bytes().first() {
        Some(b'p') => false,
        Some(b'r') => true,
        _ => return err(Errno::EINVAL, "unknown command"),
    };
    if argv.len() < 2 {
        return err(Errno::EINVAL, "no probe location");
    }
    let after = &head[1..];
    let (flags, event) = match after.split_once(':') {
        Some((f, e)) => (f, Some(e)),
        None => (after, None),
    };
    let mut maxactive = 0;
    if flags.starts_with(|c: char| c.is_ascii_digit()) {
        if !retprobe {
            return err(Errno::EINVAL, "maxactive on a kprobe");
        }
        maxactive = match parse_num(flags).and_then(|v| u32::try_from(v).ok()) {
            Some(v) if v != 0 && v <= MAXACTIVE_MAX => v,
            _ => return err(Errno::EINVAL, "bad maxactive"),
        };
    }
    let target = parse_target(argv[1], retprobe)?;
    let (group, event) = match event {
        Some(e) => parse_event_name(e)?,
        None => (None, default_name(retprobe, &target)),
    };
    let fetch = &argv[2..];
    if fetch.len() > MAX_TRACE_ARGS {
        return err(Errno::E2BIG, "too many fetch arguments");
    }
    let mut args: Vec<FetchArg> = Vec::with_capacity(fetch.len());
    for (i, a) in fetch.iter().enumerate() {
        let arg = FetchArg::parse(a, i, retprobe, &args)?;
        args.push(arg);
    }
    Ok(Command::Create(ProbeDef {
        group: group.unwrap_or_else(|| String::from(DEFAULT_GROUP)),
        event,
        target,
        retprobe,
        maxactive,
        args,
    }))
}
