//! Placeholder: being written (see the module list in lib.rs).

use alloc::sync::Arc;

use syscall_abi::{err, Errno, Result};

use crate::{BpfMap, MapAttr, MapHost};

/// Not implemented yet.
pub struct BloomFilter;

pub(crate) fn create(_attr: &MapAttr, _host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    err(Errno::EINVAL, "not implemented yet")
}
