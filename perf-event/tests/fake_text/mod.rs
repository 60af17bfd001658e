//! A buffer standing in for kernel text, with a [`KprobeHost`] over it: fake functions (each a
//! copy of [`FUNC`]) at given offsets, `int3` filler elsewhere, and instruction slots in the
//! upper half. Nothing executes: tests call the trap entries as a kernel's #BP/#DB handlers
//! would and look at the bytes.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use kprobe_arch::{KprobeHost, SLOT_SIZE};
use syscall_abi::{err, Errno, Result};

/// `push rbp; mov rbp, rsp; xor eax, eax; pop rbp; ret`.
pub const FUNC: [u8; 8] = [0x55, 0x48, 0x89, 0xe5, 0x31, 0xc0, 0x5d, 0xc3];
const TEXT: usize = 0x2000;
const SLOTS_AT: usize = 0x1000;

/// The fake text: functions named by `syms` (name, offset), each [`FUNC`].
pub struct Text {
    mem: Box<[AtomicU8]>,
    slots: Mutex<Vec<bool>>,
    syms: &'static [(&'static str, usize)],
}

impl Text {
    /// Text with a copy of [`FUNC`] at each symbol's offset (below the slots).
    pub fn new(syms: &'static [(&'static str, usize)]) -> Arc<Text> {
        let mem: Box<[AtomicU8]> = (0..TEXT).map(|_| AtomicU8::new(0xcc)).collect();
        for &(_, off) in syms {
            for (i, b) in FUNC.iter().enumerate() {
                mem[off + i].store(*b, Ordering::Relaxed);
            }
        }
        Arc::new(Text { mem, slots: Mutex::new(vec![false; (TEXT - SLOTS_AT) / SLOT_SIZE]), syms })
    }
    /// Address of the first byte.
    pub fn base(&self) -> u64 {
        self.mem.as_ptr() as u64
    }
    /// The byte at `addr`.
    pub fn byte(&self, addr: u64) -> u8 {
        self.mem[(addr - self.base()) as usize].load(Ordering::Relaxed)
    }
    fn index(&self, addr: u64, len: usize) -> Result<usize> {
        let off = usize::try_from(addr.wrapping_sub(self.base())).map_err(|_| Errno::EFAULT)?;
        if off.checked_add(len).is_none_or(|end| end > TEXT) {
            return err(Errno::EFAULT, "outside the text");
        }
        Ok(off)
    }
    /// (name, start, size) of the symbol holding `addr`.
    pub fn symbol(&self, addr: u64) -> Option<(&'static str, u64, u64)> {
        self.syms
            .iter()
            .map(|&(n, off)| (n, self.base() + off as u64, FUNC.len() as u64))
            .find(|&(_, s, len)| addr >= s && addr < s + len)
    }
}

impl KprobeHost for Text {
    fn text_poke(&self, addr: u64, bytes: &[u8]) -> Result<()> {
        let off = self.index(addr, bytes.len())?;
        for (i, b) in bytes.iter().enumerate() {
            self.mem[off + i].store(*b, Ordering::Relaxed);
        }
        Ok(())
    }
    fn text_read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let off = self.index(addr, buf.len())?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.mem[off + i].load(Ordering::Relaxed);
        }
        Ok(())
    }
    fn alloc_insn_slot(&self) -> Result<u64> {
        let mut slots = self.slots.lock().unwrap();
        let Some(i) = slots.iter().position(|u| !u) else { return err(Errno::ENOMEM, "no slot") };
        slots[i] = true;
        Ok(self.base() + (SLOTS_AT + i * SLOT_SIZE) as u64)
    }
    fn free_insn_slot(&self, addr: u64) {
        if let Ok(off) = self.index(addr, SLOT_SIZE) {
            self.slots.lock().unwrap()[(off - SLOTS_AT) / SLOT_SIZE] = false;
        }
    }
    fn symbol_addr(&self, name: &[u8]) -> Option<u64> {
        self.syms.iter().find(|s| s.0.as_bytes() == name).map(|s| self.base() + s.1 as u64)
    }
    fn symbol_of(&self, addr: u64) -> Option<(u64, u64)> {
        self.symbol(addr).map(|(_, s, l)| (s, l))
    }
}
