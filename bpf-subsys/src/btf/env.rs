//! The parsing state (Linux `struct btf_verifier_env`) and the log lines of `btf.c`
//! (`btf_verifier_log`, `btf_verifier_log_type`, `btf_verifier_log_member`,
//! `btf_verifier_log_vsi`): byte for byte Linux's text, written only while the log is
//! enabled and not full.

use alloc::vec::Vec;
use core::fmt;

use super::{kind, kind_str, text, Btf, Member, Ty};
use crate::verifier::VerifierLog;

/// Resolve states (`enum visit_state`).
pub(super) const NOT_VISITED: u8 = 0;
pub(super) const VISITED: u8 = 1;
pub(super) const RESOLVED: u8 = 2;

/// `enum resolve_mode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Mode {
    Tbd,
    Ptr,
    StructOrArray,
}

/// `struct resolve_vertex`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Vertex {
    pub id: u32,
    pub next_member: u32,
}

/// `struct btf_verifier_env`.
pub(super) struct Env<'a> {
    pub btf: Btf,
    pub log: &'a mut VerifierLog,
    pub log_type_id: u32,
    /// `CHECK_TYPE` phase (after all metas).
    pub check_type_phase: bool,
    pub visit: Vec<u8>,
    pub stack: Vec<Vertex>,
    pub mode: Mode,
}

impl<'a> Env<'a> {
    pub fn new(log: &'a mut VerifierLog) -> Self {
        Env {
            btf: Btf::default(),
            log,
            log_type_id: 0,
            check_type_phase: false,
            visit: Vec::new(),
            stack: Vec::new(),
            mode: Mode::Tbd,
        }
    }

    /// `btf_verifier_log`: raw text, no newline.
    pub fn log(&mut self, args: fmt::Arguments<'_>) {
        if self.log.is_needed() {
            self.log.write_fmt(args);
        }
    }

    /// `__btf_name_by_offset`.
    fn name(&self, off: u32) -> &str {
        if off == 0 {
            return "(anon)";
        }
        match self.btf.str_at(off) {
            Some(s) => text(s),
            None => "(invalid-name-offset)",
        }
    }

    /// `__btf_verifier_log_type` for type `t` (logged under `log_type_id`), with the kind's
    /// details when `details`, then ` msg` when `msg` is given, then a newline.
    pub fn log_type_full(&mut self, t: &Ty, details: bool, msg: Option<fmt::Arguments<'_>>) {
        if !self.log.is_needed() {
            return;
        }
        let line = alloc::format!(
            "[{}] {} {}{}",
            self.log_type_id,
            kind_str(t.kind()),
            self.name(t.name_off),
            if details { " " } else { "" }
        );
        self.log.write_str(&line);
        if details {
            self.log_details(t);
        }
        if let Some(msg) = msg {
            let msg = alloc::format!("{msg}");
            if !msg.is_empty() {
                self.log.write_str(" ");
                self.log.write_str(&msg);
            }
        }
        self.log.write_str("\n");
    }

    /// `btf_verifier_log_type(env, t, msg)`.
    pub fn log_type(&mut self, t: &Ty, msg: fmt::Arguments<'_>) {
        self.log_type_full(t, true, Some(msg));
    }

    /// `btf_verifier_log_type(env, t, NULL)`: the type's line at log level ≥ 1.
    pub fn log_type_line(&mut self, t: &Ty) {
        self.log_type_full(t, true, None);
    }

    /// `btf_verifier_log_basic(env, t, msg)`: no details.
    pub fn log_basic(&mut self, t: &Ty, msg: fmt::Arguments<'_>) {
        self.log_type_full(t, false, Some(msg));
    }

    /// `btf_verifier_log_member(env, struct, member, msg)`.
    pub fn log_member(&mut self, st: &Ty, m: Member, msg: Option<fmt::Arguments<'_>>) {
        if !self.log.is_needed() {
            return;
        }
        if self.check_type_phase {
            self.log_type_line(st);
        }
        let line = if st.kflag() {
            alloc::format!(
                "\t{} type_id={} bitfield_size={} bits_offset={}",
                self.name(m.name_off),
                m.type_,
                m.offset >> 24,
                m.offset & 0x00ff_ffff
            )
        } else {
            alloc::format!("\t{} type_id={} bits_offset={}", self.name(m.name_off), m.type_, m.offset)
        };
        self.log.write_str(&line);
        self.log_msg_nl(msg);
    }

    /// `btf_verifier_log_vsi(env, datasec, secinfo #i, msg)`.
    pub fn log_vsi(&mut self, ds: &Ty, i: u32, msg: Option<fmt::Arguments<'_>>) {
        if !self.log.is_needed() {
            return;
        }
        if self.check_type_phase {
            self.log_type_line(ds);
        }
        let v = self.btf.secinfo(ds, i);
        self.log(format_args!("\t type_id={} offset={} size={}", v.type_, v.offset, v.size));
        self.log_msg_nl(msg);
    }

    fn log_msg_nl(&mut self, msg: Option<fmt::Arguments<'_>>) {
        if let Some(msg) = msg {
            let msg = alloc::format!("{msg}");
            if !msg.is_empty() {
                self.log.write_str(" ");
                self.log.write_str(&msg);
            }
        }
        self.log.write_str("\n");
    }

    /// The kind's `log_details`.
    fn log_details(&mut self, t: &Ty) {
        let b = &self.btf;
        let s = match t.kind() {
            kind::INT => {
                let d = b.int_data(t);
                let enc = match (d >> 24) & 0x0f {
                    0 => "(none)",
                    1 => "SIGNED",
                    2 => "CHAR",
                    4 => "BOOL",
                    _ => "UNKN",
                };
                alloc::format!(
                    "size={} bits_offset={} nr_bits={} encoding={}",
                    t.size_type,
                    (d >> 16) & 0xff,
                    d & 0xff,
                    enc
                )
            }
            kind::PTR | kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG | kind::FUNC => {
                alloc::format!("type_id={}", t.size_type)
            }
            kind::ARRAY => {
                let a = b.array(t);
                alloc::format!("type_id={} index_type_id={} nr_elems={}", a.type_, a.index_type, a.nelems)
            }
            kind::STRUCT | kind::UNION | kind::ENUM | kind::ENUM64 | kind::DATASEC => {
                alloc::format!("size={} vlen={}", t.size_type, t.vlen())
            }
            kind::FWD => alloc::string::String::from(if t.kflag() { "union" } else { "struct" }),
            kind::FUNC_PROTO => self.proto_details(t),
            kind::VAR => alloc::format!("type_id={} linkage={}", t.size_type, b.word(t, 0)),
            kind::FLOAT => alloc::format!("size={}", t.size_type),
            kind::DECL_TAG => alloc::format!("type={} component_idx={}", t.size_type, b.word(t, 0) as i32),
            _ => alloc::string::String::new(),
        };
        self.log.write_str(&s);
    }

    /// `btf_func_proto_log`.
    fn proto_details(&self, t: &Ty) -> alloc::string::String {
        use core::fmt::Write;
        let mut s = alloc::format!("return={} args=(", t.size_type);
        let n = t.vlen();
        let b = &self.btf;
        if n == 0 {
            s.push_str("void");
        } else if n == 1 && b.param(t, 0).1 == 0 {
            s.push_str("vararg");
        } else {
            let (name, ty) = b.param(t, 0);
            let _ = write!(s, "{} {}", ty, self.name(name));
            for i in 1..n.saturating_sub(1) {
                let (name, ty) = b.param(t, i);
                let _ = write!(s, ", {} {}", ty, self.name(name));
            }
            if n > 1 {
                let (name, ty) = b.param(t, n - 1);
                if ty != 0 {
                    let _ = write!(s, ", {} {}", ty, self.name(name));
                } else {
                    s.push_str(", vararg");
                }
            }
        }
        s.push(')');
        s
    }
}
