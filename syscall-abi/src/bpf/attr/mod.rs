//! `union bpf_attr`: the whole union as bytes ([`BpfAttr`]), and one named struct per command
//! group for its part of the union.
//!
//! Reference: `union bpf_attr` in include/uapi/linux/bpf.h (Linux 6.1) and the `bpf(2)` entry
//! in kernel/bpf/syscall.c (`__sys_bpf`, `CHECK_ATTR`).
//!
//! The syscall entry copies the user's attributes with [`BpfAttr::copy_in`] (size > page →
//! `E2BIG`, non-zero bytes past `sizeof(union bpf_attr)` → `E2BIG`, shorter input
//! zero-extended), then each command checks that nothing past its last field is set with
//! [`BpfAttr::check_unused`] (`EINVAL`, Linux `CHECK_ATTR`) and reads its part with
//! [`BpfAttr::part`].

mod attach;
mod link;
mod map;
mod misc;
mod obj;
mod prog;

pub use attach::{ProgAttachAttr, QueryAttr, RawTracepointAttr};
pub use link::{
    IterCreateAttr, LinkCreateAttr, LinkCreateIterAttr, LinkCreateKprobeMultiAttr, LinkCreatePerfEventAttr,
    LinkCreateTracingAttr, LinkDetachAttr, LinkUpdateAttr,
};
pub use map::{MapBatchAttr, MapCreateAttr, MapElemAttr};
pub use misc::{BtfLoadAttr, EnableStatsAttr, TaskFdQueryAttr};
pub use obj::{GetIdAttr, InfoAttr, ObjAttr};
pub use prog::{ProgBindMapAttr, ProgLoadAttr, TestRunAttr};

use crate::abi::Pod;
use crate::bpf::Cmd;
use crate::uarg::{self, UserSource};
use crate::Result;

crate::uapi_struct! {
    #[c = "union bpf_attr", whole]
    /// The whole `union bpf_attr` (144 bytes in Linux 6.1, 8-byte aligned), as opaque words.
    ///
    /// Reference: `union bpf_attr` in include/uapi/linux/bpf.h. Its members are anonymous
    /// structs, so the union has no member of its own size: the layout test checks its
    /// `sizeof` and `_Alignof`, and each command's part separately.
    #[doc(alias = "bpf_attr")]
    pub struct BpfAttr {
        /// The bytes of the union.
        pub words: [u64; 18] => "",
    }
}

impl BpfAttr {
    /// `sizeof(union bpf_attr)`.
    pub const SIZE: usize = core::mem::size_of::<BpfAttr>();

    /// Copies the attributes of a `bpf(cmd, uattr, size)` call like `__sys_bpf`: `size` larger
    /// than `page_size` is `E2BIG`; bytes past `sizeof(union bpf_attr)` must be zero (else
    /// `E2BIG`); `min(size, sizeof)` bytes are copied and the rest is zero. Faults are
    /// `EFAULT`.
    pub fn copy_in<S: UserSource + ?Sized>(src: &mut S, size: usize, page_size: usize) -> Result<BpfAttr> {
        uarg::copy_in(src, size, page_size)
    }

    /// Linux `CHECK_ATTR(cmd)`: every byte after the command's last field must be zero, else
    /// `EINVAL`.
    pub fn check_unused(&self, cmd: Cmd) -> Result<()> {
        uarg::check_unused_tail(self.as_bytes(), cmd.last_field_end())
    }

    /// The command's view of the union: its first `size_of::<T>()` bytes.
    pub fn part<T: Pod>(&self) -> T {
        const { assert!(core::mem::size_of::<T>() <= BpfAttr::SIZE, "not a part of union bpf_attr") };
        T::from_prefix(self.as_bytes())
    }

    /// The union holding `part` (the rest zero): what a kernel-side caller of `bpf()` passes.
    pub fn from_part<T: Pod>(part: &T) -> BpfAttr {
        const { assert!(core::mem::size_of::<T>() <= BpfAttr::SIZE, "not a part of union bpf_attr") };
        BpfAttr::from_prefix(part.as_bytes())
    }
}

#[cfg(test)]
mod tests;
