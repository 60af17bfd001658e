//! Static tracepoints: [`Tracepoint`] and the [`tracepoint!`](crate::tracepoint) macro
//! (Linux `TRACE_EVENT` is the model).
//!
//! ```
//! perf_event::tracepoint! {
//!     /// A task exits.
//!     pub fn trace_sched_process_exit(sched / sched_process_exit)
//!         -> static SCHED_PROCESS_EXIT, struct SchedProcessExit {
//!         comm: [u8; 16],
//!         pid: i32 = "pid_t",
//!         prio: i32 = "int",
//!         group_dead: bool,
//!     }
//!     print "\"comm=%s pid=%d prio=%d group_dead=%s\", REC->comm, REC->pid, REC->prio, REC->group_dead ? \"true\" : \"false\"";
//! }
//! # assert_eq!(core::mem::offset_of!(SchedProcessExit, group_dead), 32);
//! # assert!(!SCHED_PROCESS_EXIT.enabled());
//! # trace_sched_process_exit([0; 16], 1, 120, true);
//! ```
//! defines `#[repr(C)] struct SchedProcessExit { common: CommonHeader, comm: [u8; 16], ... }`
//! (laid out as the C struct, so field offsets are Linux's), `static SCHED_PROCESS_EXIT:
//! Tracepoint` (register it with [`super::TraceRegistry::register_static`]) and
//! `fn trace_sched_process_exit(comm: [u8; 16], pid: i32, prio: i32, group_dead: bool)`.
//! While nothing consumes the event, the function is one relaxed load and a branch; the
//! record is built out of line. A field of type [`DataLoc`] is a `__data_loc char[]` string:
//! the function takes `&[u8]` for it, stores the bytes (up to the first NUL, at most
//! [`DataLoc::MAX_LEN`], NUL-terminated) after the fixed record and `(len << 16) | offset` in
//! the field.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use spin::RwLock;
use syscall_abi::Result;

use super::event::{EventControl, TraceEvent};
use super::field::{Field, FieldStyle};
use super::output;
use super::raw::RawTracepoint;

/// The common header of every record (`struct trace_entry`), 8 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommonHeader {
    /// The event id.
    pub common_type: u16,
    /// Irq/softirq/resched flags (0 here).
    pub common_flags: u8,
    /// Preemption depth (0 here).
    pub common_preempt_count: u8,
    /// The current thread's id.
    pub common_pid: i32,
}

/// A `__data_loc char[]` field: `(len << 16) | offset` of a string after the fixed record.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataLoc(pub u32);

impl DataLoc {
    /// Longest string stored (bytes, the NUL included); longer ones are cut.
    pub const MAX_LEN: usize = 4096;
}

/// A type a [`tracepoint!`](crate::tracepoint) field can have.
pub trait TraceField: Sized {
    /// What the `trace_<name>` function takes for the field.
    type Arg<'a>;
    /// The C type the `format` file shows by default.
    const C_TYPE: &'static str;
    /// `N` of a `char name[N]` field, 0 otherwise.
    const ARRAY_LEN: usize;
    /// The `signed:` of the format.
    const SIGNED: bool;
    /// How trace lines print it.
    const STYLE: FieldStyle;
    /// Bytes stored after the fixed record for this argument.
    fn dyn_len(_arg: &Self::Arg<'_>) -> usize {
        0
    }
    /// Writes the argument at `rec[off..]`, dynamic data at `rec[*dyn_off..]` (advancing it).
    fn put(arg: &Self::Arg<'_>, rec: &mut [u8], off: usize, dyn_off: &mut usize);
    /// The argument as a raw tracepoint argument.
    fn raw(arg: &Self::Arg<'_>) -> u64;
}

/// Copies `bytes` to `rec[off..]` if it fits (records are sized for their fields).
fn put_bytes(rec: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(dst) = off.checked_add(bytes.len()).and_then(|end| rec.get_mut(off..end)) {
        dst.copy_from_slice(bytes);
    }
}

macro_rules! int_field {
    ($($t:ty => $c:literal, $signed:literal, $style:ident;)*) => {$(
        impl TraceField for $t {
            type Arg<'a> = $t;
            const C_TYPE: &'static str = $c;
            const ARRAY_LEN: usize = 0;
            const SIGNED: bool = $signed;
            const STYLE: FieldStyle = FieldStyle::$style;
            fn put(arg: &$t, rec: &mut [u8], off: usize, _dyn_off: &mut usize) {
                put_bytes(rec, off, &arg.to_le_bytes());
            }
            #[allow(clippy::cast_sign_loss, clippy::cast_lossless)]
            fn raw(arg: &$t) -> u64 {
                *arg as i64 as u64
            }
        }
    )*};
}

int_field! {
    u8 => "u8", false, Unsigned;
    u16 => "u16", false, Unsigned;
    u32 => "u32", false, Unsigned;
    u64 => "u64", false, Unsigned;
    i8 => "s8", true, Signed;
    i16 => "s16", true, Signed;
    i32 => "int", true, Signed;
    i64 => "long", true, Signed;
}

impl TraceField for bool {
    type Arg<'a> = bool;
    const C_TYPE: &'static str = "bool";
    const ARRAY_LEN: usize = 0;
    const SIGNED: bool = false;
    const STYLE: FieldStyle = FieldStyle::Bool;
    fn put(arg: &bool, rec: &mut [u8], off: usize, _dyn_off: &mut usize) {
        put_bytes(rec, off, &[u8::from(*arg)]);
    }
    fn raw(arg: &bool) -> u64 {
        u64::from(*arg)
    }
}

impl<const N: usize> TraceField for [u8; N] {
    type Arg<'a> = [u8; N];
    const C_TYPE: &'static str = "char";
    const ARRAY_LEN: usize = N;
    const SIGNED: bool = false;
    const STYLE: FieldStyle = FieldStyle::CharArray;
    fn put(arg: &[u8; N], rec: &mut [u8], off: usize, _dyn_off: &mut usize) {
        put_bytes(rec, off, arg);
    }
    fn raw(arg: &[u8; N]) -> u64 {
        arg.as_ptr() as u64
    }
}

/// The stored part of a dynamic string: up to the first NUL, room for the NUL kept.
fn dyn_str(arg: &[u8]) -> &[u8] {
    let s = arg.split(|&b| b == 0).next().unwrap_or(&[]);
    s.get(..DataLoc::MAX_LEN - 1).unwrap_or(s)
}

impl TraceField for DataLoc {
    type Arg<'a> = &'a [u8];
    const C_TYPE: &'static str = "__data_loc char[]";
    const ARRAY_LEN: usize = 0;
    const SIGNED: bool = false;
    const STYLE: FieldStyle = FieldStyle::DataLoc;
    fn dyn_len(arg: &&[u8]) -> usize {
        dyn_str(arg).len() + 1
    }
    fn put(arg: &&[u8], rec: &mut [u8], off: usize, dyn_off: &mut usize) {
        let s = dyn_str(arg);
        let len = s.len() + 1;
        let (Ok(o), Ok(l)) = (u32::try_from(*dyn_off), u32::try_from(len)) else { return };
        if o > 0xffff || l > 0xffff {
            return;
        }
        put_bytes(rec, *dyn_off, s);
        put_bytes(rec, *dyn_off + s.len(), &[0]);
        put_bytes(rec, off, &((l << 16) | o).to_le_bytes());
        *dyn_off += len;
    }
    fn raw(arg: &&[u8]) -> u64 {
        arg.as_ptr() as u64
    }
}

/// Where a registered static tracepoint fires to (one per registry that registered it).
struct TpLink {
    event: Weak<TraceEvent>,
    raw: Weak<RawTracepoint>,
}

/// A static tracepoint, defined with [`tracepoint!`](crate::tracepoint).
pub struct Tracepoint {
    system: &'static str,
    name: &'static str,
    fields: &'static [Field],
    record_size: usize,
    print_fmt: &'static str,
    /// Event consumers + raw consumers: non-zero means the slow path runs.
    users: AtomicU32,
    links: RwLock<Vec<TpLink>>,
}

impl Tracepoint {
    /// A tracepoint (used by the macro): `record_size` = size of the fixed record struct.
    pub const fn new(
        system: &'static str,
        name: &'static str,
        fields: &'static [Field],
        record_size: usize,
        print_fmt: &'static str,
    ) -> Tracepoint {
        Tracepoint {
            system,
            name,
            fields,
            record_size,
            print_fmt,
            users: AtomicU32::new(0),
            links: RwLock::new(Vec::new()),
        }
    }

    /// The system name.
    pub fn system(&self) -> &'static str {
        self.system
    }

    /// The event name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The fields after the common header.
    pub fn fields(&self) -> &'static [Field] {
        self.fields
    }

    /// Size of the fixed record.
    pub fn record_size(&self) -> usize {
        self.record_size
    }

    /// The user's `print fmt:` text.
    pub fn print_fmt(&self) -> &'static str {
        self.print_fmt
    }

    /// Whether anything consumes the tracepoint: the whole disabled path.
    #[inline(always)]
    pub fn enabled(&self) -> bool {
        self.users.load(Ordering::Relaxed) != 0
    }

    /// Number of registries this tracepoint is registered with (and that still exist).
    pub fn registrations(&self) -> usize {
        self.links.read().iter().filter(|l| l.event.strong_count() != 0).count()
    }

    /// Hands a built record (header zero, filled per event) and the raw arguments to the
    /// consumers of every registry that registered the tracepoint (a kernel has one). Called
    /// by the macro's out-of-line path; a hit during a registration is dropped.
    pub fn emit(&self, rec: &mut [u8], args: &[u64]) {
        let Some(links) = self.links.try_read() else { return };
        for link in links.iter() {
            if let Some(ev) = link.event.upgrade() {
                ev.fire(rec, None);
            }
            if let Some(raw) = link.raw.upgrade() {
                raw.fire(args);
            }
        }
    }

    /// Adds a registry's event and raw tracepoint (links of dropped registries are pruned).
    pub(crate) fn link(&self, event: &Arc<TraceEvent>, raw: &Arc<RawTracepoint>) {
        let mut links = self.links.write();
        links.retain(|l| l.event.strong_count() != 0 || l.raw.strong_count() != 0);
        links.push(TpLink { event: Arc::downgrade(event), raw: Arc::downgrade(raw) });
    }

    /// One more (`on`) or one less consumer.
    pub(crate) fn set_user(&self, on: bool) {
        if on {
            self.users.fetch_add(1, Ordering::Relaxed);
        } else {
            self.users.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl core::fmt::Debug for Tracepoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tracepoint").field("system", &self.system).field("name", &self.name).finish()
    }
}

/// The [`EventControl`] of a static tracepoint: enabling bumps its user count; lines print
/// `<name>: field=value ...`.
pub(crate) struct StaticControl(pub(crate) &'static Tracepoint);

impl EventControl for StaticControl {
    fn set_enabled(&self, on: bool) -> Result<()> {
        self.0.set_user(on);
        Ok(())
    }

    fn print(&self, ev: &TraceEvent, rec: &[u8], out: &mut String) {
        out.push_str(ev.name());
        out.push(':');
        output::print_fields(ev.fields(), rec, out);
    }
}

/// Bytes a record of `total` bytes may use on the stack before the heap is used.
const STACK_RECORD: usize = 256;

/// Runs `f` on a zeroed buffer of `total` bytes (on the stack when small). Used by the
/// macro's out-of-line path.
pub fn with_record(total: usize, f: impl FnOnce(&mut [u8])) {
    if total <= STACK_RECORD {
        let mut buf = [0u8; STACK_RECORD];
        f(&mut buf[..total]);
    } else {
        let mut buf = vec![0u8; total];
        f(&mut buf);
    }
}

/// Defines a static tracepoint; see the [module documentation](crate::trace::Tracepoint).
#[macro_export]
macro_rules! tracepoint {
    (
        $(#[$meta:meta])*
        $vis:vis fn $trace_fn:ident($sys:ident / $name:ident) -> static $tp:ident, struct $rec:ident {
            $( $field:ident : $fty:ty $(= $cty:literal)? ),* $(,)?
        }
        print $fmt:literal;
    ) => {
        #[doc = concat!("Record of the `", stringify!($sys), "/", stringify!($name), "` tracepoint (Linux layout).")]
        #[repr(C)]
        #[derive(Debug, Clone, Copy)]
        $vis struct $rec {
            /// The common header.
            pub common: $crate::trace::CommonHeader,
            $(
                #[doc = concat!("The `", stringify!($field), "` field.")]
                pub $field: $fty,
            )*
        }

        #[doc = concat!("The `", stringify!($sys), "/", stringify!($name), "` tracepoint.")]
        $vis static $tp: $crate::trace::Tracepoint = $crate::trace::Tracepoint::new(
            stringify!($sys),
            stringify!($name),
            {
                const FIELDS: &[$crate::trace::Field] = &[$(
                    $crate::trace::Field::with_array(
                        $crate::tracepoint!(@ctype $fty $(, $cty)?),
                        stringify!($field),
                        <$fty as $crate::trace::TraceField>::ARRAY_LEN,
                        ::core::mem::offset_of!($rec, $field),
                        ::core::mem::size_of::<$fty>(),
                        <$fty as $crate::trace::TraceField>::SIGNED,
                        <$fty as $crate::trace::TraceField>::STYLE,
                    )
                ),*];
                FIELDS
            },
            ::core::mem::size_of::<$rec>(),
            $fmt,
        );

        $(#[$meta])*
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        $vis fn $trace_fn($( $field: <$fty as $crate::trace::TraceField>::Arg<'_> ),*) {
            #[cold]
            #[inline(never)]
            #[allow(clippy::too_many_arguments)]
            fn slow($( $field: <$fty as $crate::trace::TraceField>::Arg<'_> ),*) {
                let fixed = ::core::mem::size_of::<$rec>();
                let total = fixed $( + <$fty as $crate::trace::TraceField>::dyn_len(&$field) )*;
                $crate::trace::with_record(total, |rec| {
                    let mut _dyn_off = fixed;
                    $(
                        <$fty as $crate::trace::TraceField>::put(
                            &$field, rec, ::core::mem::offset_of!($rec, $field), &mut _dyn_off,
                        );
                    )*
                    let args: &[u64] = &[$( <$fty as $crate::trace::TraceField>::raw(&$field) ),*];
                    $tp.emit(rec, args);
                });
            }
            if $tp.enabled() {
                slow($($field),*);
            }
        }
    };
    (@ctype $fty:ty) => { <$fty as $crate::trace::TraceField>::C_TYPE };
    (@ctype $fty:ty, $cty:literal) => { $cty };
}
