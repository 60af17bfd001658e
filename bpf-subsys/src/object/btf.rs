//! [`BtfObj`]: a loaded BTF blob (Linux `struct btf`).
//!
//! `BPF_BTF_LOAD` creates it after validating the blob (`crate::btf::Btf::parse`); map
//! creation and program info refer to it. It keeps the raw blob (what BTF info copies out);
//! users that need the types parse it again (`crate::btf::Btf::parse` with a disabled log).

use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::Result;

use super::registry::IdSlot;
use super::Registry;

/// A BTF object.
pub struct BtfObj {
    pub(super) slot: IdSlot,
    data: Vec<u8>,
    name: Vec<u8>,
    kernel_btf: bool,
}

impl BtfObj {
    /// Publishes a BTF object holding `data` (the raw blob, already validated). `name` is
    /// empty for user-loaded BTF (`"vmlinux"` or a module name for kernel BTF, then
    /// `kernel_btf` is true).
    pub fn new(registry: &Registry, data: Vec<u8>, name: Vec<u8>, kernel_btf: bool) -> Result<Arc<BtfObj>> {
        registry.publish(|slot, _| BtfObj { slot, data, name, kernel_btf })
    }

    /// The object's id.
    pub fn id(&self) -> u32 {
        self.slot.id()
    }

    /// The raw blob.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The name (without NUL).
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Whether this is kernel BTF (vmlinux or a module).
    pub fn kernel_btf(&self) -> bool {
        self.kernel_btf
    }
}
