//! [`RegistryArm`]: the [`ProbeArm`] of a kernel that uses `kprobe_arch::Registry`.

use alloc::string::String;
use alloc::sync::Arc;

use kprobe_arch::{ProbeHandler, ProbeId, ProbeInfo, ProbeKind, ProbeSpec, Registry};
use syscall_abi::{err, Errno, Result};

use super::super::X86PtRegs;
use super::{KprobeHit, ProbeArm, ProbeArmKind};

/// Where [`RegistryArm`] finds the probe registry (and symbol names for trace lines).
pub trait KprobeSource: Send + Sync {
    /// The kernel's probe registry (`None`: no kprobes, every registration is `ENODEV`).
    fn kprobes(&self) -> Option<&Registry>;
    /// `addr` → (symbol name, offset in it, symbol size), for trace lines.
    fn symbol_name(&self, addr: u64) -> Option<(String, u64, u64)> {
        let _ = addr;
        None
    }
    /// Reads kernel memory without faulting (Linux `copy_from_kernel_nofault`), for memory
    /// fetch arguments; called from probe context. Default: `EFAULT`.
    fn read_kernel(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let _ = (addr, buf);
        err(Errno::EFAULT, "no kernel memory access")
    }
}

impl KprobeSource for Registry {
    fn kprobes(&self) -> Option<&Registry> {
        Some(self)
    }
}

/// [`ProbeArm`] over a `kprobe_arch::Registry`: probes are registered disabled, ids are
/// the registry's, the missed count is the registry's.
pub struct RegistryArm {
    source: Arc<dyn KprobeSource>,
}

impl RegistryArm {
    /// The arm for [`super::super::TraceRegistry::set_probe_arm`].
    pub fn new(source: Arc<dyn KprobeSource>) -> Arc<RegistryArm> {
        Arc::new(RegistryArm { source })
    }

    fn reg(&self) -> Result<&Registry> {
        match self.source.kprobes() {
            Some(r) => Ok(r),
            None => err(Errno::ENODEV, "no kprobe registry"),
        }
    }
}

/// Forwards the engine's callbacks to a [`KprobeHit`].
struct Forward(Arc<dyn KprobeHit>);

impl ProbeHandler for Forward {
    fn pre(&self, _probe: &ProbeInfo, regs: &mut X86PtRegs) {
        self.0.pre(regs);
    }

    fn ret(&self, _probe: &ProbeInfo, regs: &mut X86PtRegs) {
        self.0.ret(regs);
    }
}

fn probe_id(id: u64) -> Result<ProbeId> {
    match u32::try_from(id) {
        Ok(v) => Ok(ProbeId(v)),
        Err(_) => err(Errno::ENOENT, "no such probe"),
    }
}

impl ProbeArm for RegistryArm {
    fn resolve(&self, symbol: &[u8], offset: u64) -> Result<u64> {
        self.reg()?.resolve(symbol, offset)
    }

    fn register(&self, addr: u64, kind: ProbeArmKind, hit: Arc<dyn KprobeHit>) -> Result<u64> {
        let kind = match kind {
            ProbeArmKind::Kprobe => ProbeKind::Kprobe,
            ProbeArmKind::Kretprobe { maxactive } => ProbeKind::Kretprobe { maxactive },
        };
        let spec = ProbeSpec { addr, kind, handler: Arc::new(Forward(hit)), enabled: false };
        Ok(u64::from(self.reg()?.register(spec)?.0))
    }

    fn unregister(&self, id: u64) {
        if let (Ok(reg), Ok(id)) = (self.reg(), probe_id(id)) {
            if let Err(e) = reg.unregister(id) {
                log::warn!("trace: unregistering probe {}: {:?}", id.0, e);
            }
        }
    }

    fn enable(&self, id: u64) -> Result<()> {
        self.reg()?.enable(probe_id(id)?)
    }

    fn disable(&self, id: u64) -> Result<()> {
        self.reg()?.disable(probe_id(id)?)
    }

    fn missed(&self, id: u64) -> u64 {
        let (Ok(reg), Ok(id)) = (self.reg(), probe_id(id)) else { return 0 };
        reg.stats(id).map_or(0, |s| s.missed)
    }

    fn symbolize(&self, addr: u64) -> Option<(String, u64, u64)> {
        self.source.symbol_name(addr)
    }

    fn read_kernel(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.source.read_kernel(addr, buf)
    }
}
