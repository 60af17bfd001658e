//! `include/uapi/linux/perf_event.h`: the `perf_event_open(2)` attributes and their copy-in,
//! event type and id enums, sample and record encodings, the mmap metadata page and the ioctl
//! numbers.

pub mod attr;
pub mod consts;
pub mod copy;
pub mod ioctl;
pub mod mmap;
pub mod record;
pub mod sample;

pub use attr::*;
pub use consts::*;
pub use copy::*;
pub use ioctl::*;
pub use mmap::*;
pub use record::*;
pub use sample::*;
