//! Memory: the page-table and frame interfaces the arch code implements ([`mapper`]), user
//! address spaces and their VMAs, and (kernel builds) the frame allocator, the kernel's
//! page tables and heap.

pub mod aspace;
mod aspace_ops;
#[cfg(test)]
pub mod fake;
#[cfg(target_os = "none")]
pub mod frame;
#[cfg(target_os = "none")]
pub mod heap;
pub mod mapper;
pub mod maps;
#[cfg(target_os = "none")]
pub mod paging;
pub mod shared;
pub mod vma;

pub use aspace::{AddressSpace, Fault, UserSpace};
pub use aspace_ops::{Placement, Remap};
pub use mapper::{FrameAllocator, PageMapper, PteFlags, PAGE_SIZE};
