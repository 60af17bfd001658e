//! The kprobe blocklist (Linux `NOKPROBE_SYMBOL` and `__kprobes`): code the `#BP`/`#DB`
//! path itself runs, so that a probe there would recurse before the engine could notice,
//! or would corrupt the machine state the trap entry depends on.
//!
//! The decision is by symbol name (kallsyms, demangled): the trap entry and dispatch, the
//! IDT, context switch, the CPU helpers, the console and panic path, the probe module and
//! the engine (`kprobe_arch`), the perf-event layer the handlers enter, kallsyms, the heap
//! allocator, and the libraries all of them use (`core`, `alloc`, `spin`, `log`,
//! `iced_x86`, `compiler_builtins`, the memory intrinsics). Trait implementations
//! (`<Type as Trait>::method`) are judged by their type's path. An address that belongs to
//! no symbol is refused by the host (unknown code).
//!
//! BPF helpers and the rest of the kernel stay probeable: a probe hit while a handler runs
//! counts as missed (the engine's reentry check), it does not recurse.

/// Path prefixes (demangled) that must not be probed.
pub const BLOCKED_PREFIXES: &[&str] = &[
    // The trap path and the machine state it depends on.
    "testkernel::arch::trap::",
    "testkernel::arch::idt::",
    "testkernel::arch::cpu::",
    "testkernel::arch::context::",
    "testkernel::arch::gdt::",
    "testkernel::arch::entry::",
    "testkernel::arch::syscall_entry::",
    "testkernel::arch::serial::",
    "testkernel::arch::panic::",
    "testkernel::arch::qemu::",
    // The probe machinery and what it reads in trap context.
    "testkernel::probe::",
    "testkernel::kallsyms::",
    "kprobe_arch::",
    "perf_event::",
    "iced_x86::",
    // The allocator (handlers allocate) and the libraries everything above uses.
    "testkernel::mm::heap::",
    "linked_list_allocator::",
    "core::",
    "alloc::",
    "compiler_builtins::",
    "spin::",
    "log::",
    "std::",
];

/// Unmangled symbols (assembly, intrinsics, allocator shims) that must not be probed.
pub const BLOCKED_NAMES: &[&str] = &[
    "trap_stubs",
    "trap_common",
    "trap_return",
    "trap_dispatch",
    "trap_int3_entry",
    "trap_debug_entry",
    "trap_ud_entry",
    "syscall_entry",
    "syscall_dispatch_entry",
    "_start",
    "kmain",
    "memcpy",
    "memmove",
    "memset",
    "memcmp",
    "bcmp",
    "strlen",
    "rust_begin_unwind",
    "kprobe_insn_slots",
    "int3_bench_site",
    "probe_step_selftest",
];

/// Unmangled prefixes that must not be probed (the allocator shims, the compiler's
/// runtime helpers).
pub const BLOCKED_NAME_PREFIXES: &[&str] =
    &["__rust_", "__rg_", "__rdl_", "__rustc", "__udiv", "__umod", "__div", "__mod", "__mul", "__ashl", "__lshr"];

/// The type path a demangled name is judged by: `<T as Trait>::f` → `T`, `<&mut T>::f` →
/// `T`, a plain path as is.
fn subject(name: &str) -> &str {
    let mut s = name;
    loop {
        let t = s.trim_start_matches(['<', '&', '*', '(', '[']);
        let t =
            t.strip_prefix("mut ").or_else(|| t.strip_prefix("const ")).or_else(|| t.strip_prefix("dyn ")).unwrap_or(t);
        if t == s {
            return s;
        }
        s = t;
    }
}

/// Whether the symbol `name` (as kallsyms holds it) is on the blocklist.
pub fn is_blocked_name(name: &str) -> bool {
    let s = subject(name);
    if BLOCKED_PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    // `<T as core::fmt::Display>::fmt`, `<[T] as alloc::..>`, `<u64 as ..>`: a generic or
    // primitive type has no path, the code comes from the trait's crate: judge by the trait.
    if let Some((ty, rest)) = s.split_once(" as ") {
        if !ty.contains("::") && BLOCKED_PREFIXES.iter().any(|p| subject(rest).starts_with(p)) {
            return true;
        }
    }
    // `<T as core::ops::Drop>::drop` of a blocked trait on a kernel type stays probeable;
    // but `<core::..>` or `<alloc::..>` subjects are covered above. Unmangled names:
    BLOCKED_NAMES.contains(&name) || BLOCKED_NAME_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_path_and_machinery_are_blocked() {
        for n in [
            "testkernel::arch::trap::trap_dispatch",
            "testkernel::arch::trap::exception",
            "trap_dispatch",
            "trap_int3_entry",
            "kprobe_arch::x86::Engine::handle_breakpoint",
            "perf_event::trace::TraceEvent::hit",
            "testkernel::probe::hooks::breakpoint",
            "testkernel::kallsyms::lookup_addr",
            "core::ptr::drop_in_place<testkernel::fs::file::OpenFile>",
            "alloc::sync::Arc<T,A>::drop_slow",
            "<spin::rwlock::RwLock<T,R> as core::fmt::Debug>::fmt",
            "<&mut T as core::fmt::Display>::fmt",
            "<[T] as alloc::slice::hack::ConvertVec>::to_vec",
            "<u32 as core::fmt::Display>::fmt",
            "<linked_list_allocator::Heap>::allocate_first_fit",
            "<testkernel::mm::heap::KernelAllocator as core::alloc::global::GlobalAlloc>::alloc",
            "memcpy",
            "__rust_alloc",
            "__udivti3",
            "log::__private_api::log",
            "iced_x86::decoder::Decoder::decode",
        ] {
            assert!(is_blocked_name(n), "{n} should be blocked");
        }
    }

    #[test]
    fn kernel_code_stays_probeable() {
        for n in [
            "__x64_sys_getpid",
            "__x64_sys_read",
            "vfs_read",
            "do_sys_openat2",
            "schedule",
            "ktime_get_mono_fast_ns",
            "testkernel::task::sched::__schedule",
            "testkernel::syscall::fs_rw::sys_read",
            "bpf_subsys::helpers::time::ktime_get_ns",
            "maps::hash::HashMap::lookup",
            "<testkernel::fs::pipe::PipeReader as testkernel::fs::file::FileOps>::read",
            "<alloc_free::Thing as core::ops::drop::Drop>::drop",
            "<u64 as testkernel::user::Pod>::read",
        ] {
            assert!(!is_blocked_name(n), "{n} should be probeable");
        }
    }

    #[test]
    fn subject_strips_impl_brackets() {
        assert_eq!(subject("<&mut spin::Mutex<T> as X>::f"), "spin::Mutex<T> as X>::f");
        assert_eq!(subject("<*const dyn core::any::Any>::f"), "core::any::Any>::f");
        assert_eq!(subject("plain::path"), "plain::path");
    }
}
