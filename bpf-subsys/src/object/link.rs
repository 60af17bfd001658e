//! [`LinkObj`]: a link between a program and an attach point (Linux `struct bpf_link`). The
//! attach point's behaviour comes from [`LinkOps`], which the layer that creates the link
//! (perf events, raw tracepoints) implements.

use alloc::boxed::Box;
use alloc::sync::Arc;

use spin::Mutex;
use syscall_abi::bpf::{BpfLinkInfo, LinkType};
use syscall_abi::{err, Errno, Result};

use super::registry::IdSlot;
use super::{ProgObj, Registry};
use crate::host::BpfHost;

/// What a kind of link does (Linux `struct bpf_link_ops`).
pub trait LinkOps: Send + Sync {
    /// Fills the type-specific part of `info` (Linux `fill_link_info`); `host` reaches user
    /// memory for pointer fields such as a raw tracepoint's name. The common header (type, id,
    /// program id) is already set. Default: nothing to add.
    fn fill_info(&self, host: &dyn BpfHost, info: &mut BpfLinkInfo) -> Result<()> {
        let _ = (host, info);
        Ok(())
    }

    /// `BPF_LINK_DETACH` (Linux `detach`); default `EOPNOTSUPP`, as for links without it.
    fn detach(&self) -> Result<()> {
        err(Errno::EOPNOTSUPP, "link cannot be detached")
    }

    /// `BPF_LINK_UPDATE` (Linux `update_prog`): attach `new` in place of the current program
    /// and store it with [`LinkObj::replace_prog`]; with `BPF_F_REPLACE`, `old` is the program
    /// the caller expects to be attached now (`EPERM` if it is not). Default `EINVAL`, as
    /// Linux answers for links without `update_prog` (perf event and raw tracepoint links).
    fn update_prog(&self, link: &LinkObj, new: Arc<ProgObj>, old: Option<&Arc<ProgObj>>) -> Result<()> {
        let _ = (link, new, old);
        err(Errno::EINVAL, "link cannot change its program")
    }

    /// The link object is being freed (Linux `release`): detach from the attach point.
    fn release(&self) {}
}

/// A link. Holds its program.
pub struct LinkObj {
    pub(super) slot: IdSlot,
    link_type: LinkType,
    prog: Mutex<Arc<ProgObj>>,
    ops: Box<dyn LinkOps>,
}

impl LinkObj {
    /// Publishes a new link with a fresh id.
    pub fn new(
        registry: &Registry,
        link_type: LinkType,
        prog: Arc<ProgObj>,
        ops: Box<dyn LinkOps>,
    ) -> Result<Arc<LinkObj>> {
        registry.publish(|slot, _| LinkObj { slot, link_type, prog: Mutex::new(prog), ops })
    }

    /// The link's id.
    pub fn id(&self) -> u32 {
        self.slot.id()
    }

    /// The link's type.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// The linked program.
    pub fn prog(&self) -> Arc<ProgObj> {
        self.prog.lock().clone()
    }

    /// Replaces the linked program (`BPF_LINK_UPDATE`); returns the old one.
    pub fn replace_prog(&self, prog: Arc<ProgObj>) -> Arc<ProgObj> {
        core::mem::replace(&mut *self.prog.lock(), prog)
    }

    /// The attach point's operations.
    pub fn ops(&self) -> &dyn LinkOps {
        &*self.ops
    }
}

impl Drop for LinkObj {
    fn drop(&mut self) {
        self.ops.release();
    }
}
