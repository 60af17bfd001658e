//! Memory: the page-table and frame interfaces the arch code implements ([`mapper`]), and
//! (from the memory-management work) user address spaces, VMAs and the mm syscalls.

pub mod mapper;

pub use mapper::{FrameAllocator, PageMapper, PteFlags, PAGE_SIZE};
