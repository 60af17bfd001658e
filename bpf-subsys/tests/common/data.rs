//! The bpf_conformance `.data` format: `-- name` sections (`asm`, `raw`, `mem`, `result`,
//! `error`; others such as `c` and `no register offset` are annotations and ignored).

use super::asm::{self, Raw};

/// What a case expects.
#[derive(Debug, PartialEq, Eq)]
pub enum Expect {
    /// `R0` at exit.
    Result(u64),
    /// The run must fail (the text is the suite's expected message).
    Error(String),
}

/// One conformance case.
#[derive(Debug)]
pub struct Case {
    /// The program.
    pub insns: Vec<Raw>,
    /// Initial memory (`R1` points to it, `R2` holds its length).
    pub mem: Vec<u8>,
    /// The expected outcome.
    pub expect: Expect,
}

fn hex_u64(s: &str) -> Result<u64, String> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("bad number {s:?}: {e}"))
}

/// Parses a `.data` file.
pub fn parse(text: &str) -> Result<Case, String> {
    let mut section = String::new();
    let (mut asm_text, mut raw, mut mem, mut result, mut error) = (String::new(), Vec::new(), Vec::new(), None, None);
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix("-- ") {
            section = name.trim().to_string();
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        match section.as_str() {
            "asm" => {
                asm_text.push_str(line);
                asm_text.push('\n');
            }
            "raw" => raw.push(hex_u64(line)?.to_le_bytes()),
            "mem" => {
                for byte in line.split_whitespace() {
                    mem.push(u8::from_str_radix(byte, 16).map_err(|e| format!("bad mem byte {byte:?}: {e}"))?);
                }
            }
            "result" => result = Some(hex_u64(line)?),
            "error" => error = Some(line.trim().to_string()),
            _ => {}
        }
    }
    let insns = if raw.is_empty() { asm::assemble(&asm_text)? } else { raw };
    if insns.is_empty() {
        return Err("no program".to_string());
    }
    let expect = match (result, error) {
        (_, Some(e)) => Expect::Error(e),
        (Some(r), None) => Expect::Result(r),
        (None, None) => return Err("no result and no error".to_string()),
    };
    Ok(Case { insns, mem, expect })
}
