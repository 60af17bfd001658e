//! `include/uapi/linux/bpf.h`, `include/uapi/linux/bpf_common.h` and
//! `include/uapi/linux/btf.h`: commands, their attributes, object types, flags, the
//! instruction encoding, helper ids and the records programs and tools exchange with the
//! kernel.

pub mod attach;
pub mod attr;
pub mod btf;
pub mod cmd;
pub mod ctx;
pub mod flags;
pub mod func_info;
pub mod helper_ids;
pub mod info;
pub mod insn;
pub mod limits;
pub mod link;
pub mod link_info;
pub mod map;
pub mod net;
pub mod prog;

pub use attach::*;
pub use attr::*;
pub use cmd::*;
pub use ctx::*;
pub use flags::*;
pub use func_info::*;
pub use helper_ids::*;
pub use info::*;
pub use insn::*;
pub use limits::*;
pub use link::*;
pub use link_info::*;
pub use map::*;
pub use net::*;
pub use prog::*;
