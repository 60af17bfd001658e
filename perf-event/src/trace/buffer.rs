//! The trace buffer behind `trace` and `trace_pipe`: a bounded byte ring of binary entries
//! (the oldest dropped when full), formatted when read — Linux's ring buffer in miniature.
//!
//! Writers (event context) never wait: they `try_lock` and count a drop on contention, and
//! they never allocate (the ring is allocated once).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Mutex;

use super::TraceEnv;

/// Default capacity in bytes.
pub(crate) const DEFAULT_SIZE: usize = 64 * 1024;

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A trace event record (its `common_type` names the event).
    Event,
    /// A `bpf_trace_printk` message.
    Printk,
}

/// The context saved with each entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryMeta {
    pub(crate) kind: EntryKind,
    pub(crate) cpu: u32,
    pub(crate) pid: i32,
    pub(crate) ts_ns: u64,
    pub(crate) comm: [u8; 16],
}

/// Entry header: payload length u32, kind u8, cpu u32, pid i32, timestamp u64, comm 16.
const HDR: usize = 4 + 1 + 4 + 4 + 8 + 16;

struct Ring {
    data: VecDeque<u8>,
    cap: usize,
    entries: usize,
    written: u64,
}

impl Ring {
    fn front_len(&self) -> Option<usize> {
        let mut b = [0u8; 4];
        for (i, x) in b.iter_mut().enumerate() {
            *x = *self.data.get(i)?;
        }
        usize::try_from(u32::from_le_bytes(b)).ok()
    }

    fn drop_front(&mut self) {
        let Some(len) = self.front_len() else { return };
        let n = (HDR + len).min(self.data.len());
        self.data.drain(..n);
        self.entries = self.entries.saturating_sub(1);
    }

    fn pop(&mut self) -> Option<(EntryMeta, Vec<u8>)> {
        let len = self.front_len()?;
        let bytes: Vec<u8> = self.data.drain(..(HDR + len).min(self.data.len())).collect();
        self.entries = self.entries.saturating_sub(1);
        decode(&bytes)
    }
}

fn decode(bytes: &[u8]) -> Option<(EntryMeta, Vec<u8>)> {
    let hdr = bytes.get(..HDR)?;
    let kind = if hdr[4] == 1 { EntryKind::Printk } else { EntryKind::Event };
    let cpu = u32::from_le_bytes(hdr[5..9].try_into().ok()?);
    let pid = i32::from_le_bytes(hdr[9..13].try_into().ok()?);
    let ts_ns = u64::from_le_bytes(hdr[13..21].try_into().ok()?);
    let comm: [u8; 16] = hdr[21..37].try_into().ok()?;
    Some((EntryMeta { kind, cpu, pid, ts_ns, comm }, bytes.get(HDR..)?.to_vec()))
}

/// The trace buffer.
pub(crate) struct TraceBuffer {
    ring: Mutex<Ring>,
    on: AtomicBool,
    wake: AtomicBool,
    dropped: AtomicU64,
    env: Arc<dyn TraceEnv>,
}

impl TraceBuffer {
    pub(crate) fn new(env: Arc<dyn TraceEnv>, cap: usize) -> TraceBuffer {
        TraceBuffer {
            ring: Mutex::new(Ring { data: VecDeque::with_capacity(cap), cap, entries: 0, written: 0 }),
            on: AtomicBool::new(true),
            wake: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            env,
        }
    }

    /// Records an entry with the current task's context (event context).
    pub(crate) fn push_current(&self, kind: EntryKind, payload: &[u8]) {
        let env = &self.env;
        let meta = EntryMeta {
            kind,
            cpu: env.current_cpu(),
            pid: env.current_pid(),
            ts_ns: env.clock_ns(),
            comm: env.current_comm(),
        };
        self.push(meta, payload);
    }

    /// Records an entry (event context): dropped when tracing is off, the entry is larger
    /// than the ring, or a reader holds the ring right now.
    pub(crate) fn push(&self, meta: EntryMeta, payload: &[u8]) {
        if !self.on.load(Ordering::Relaxed) {
            return;
        }
        let Some(mut ring) = self.ring.try_lock() else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let total = HDR + payload.len();
        let Ok(len) = u32::try_from(payload.len()) else { return };
        if total > ring.cap {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        while ring.data.len() + total > ring.cap {
            ring.drop_front();
        }
        ring.data.extend(len.to_le_bytes());
        ring.data.push_back(u8::from(meta.kind == EntryKind::Printk));
        ring.data.extend(meta.cpu.to_le_bytes());
        ring.data.extend(meta.pid.to_le_bytes());
        ring.data.extend(meta.ts_ns.to_le_bytes());
        ring.data.extend(meta.comm);
        ring.data.extend(payload.iter().copied());
        ring.entries += 1;
        ring.written += 1;
        drop(ring);
        if !self.wake.swap(true, Ordering::AcqRel) {
            self.env.queue_irq_work();
        }
    }

    /// Takes the oldest entry (`trace_pipe`).
    pub(crate) fn pop(&self) -> Option<(EntryMeta, Vec<u8>)> {
        self.ring.lock().pop()
    }

    /// Every entry, oldest first, with (entries in buffer, entries written).
    pub(crate) fn snapshot(&self) -> (Vec<(EntryMeta, Vec<u8>)>, usize, u64) {
        let ring = self.ring.lock();
        let bytes: Vec<u8> = ring.data.iter().copied().collect();
        let mut out = Vec::with_capacity(ring.entries);
        let mut at = 0;
        while let Some(len) = bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes) {
            let Ok(len) = usize::try_from(len) else { break };
            let Some(entry) = bytes.get(at..at + HDR + len).and_then(decode) else { break };
            out.push(entry);
            at += HDR + len;
        }
        (out, ring.entries, ring.written)
    }

    /// Empties the buffer (`trace` opened with `O_TRUNC`).
    pub(crate) fn clear(&self) {
        let mut ring = self.ring.lock();
        ring.data.clear();
        ring.entries = 0;
        ring.written = 0;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ring.lock().entries == 0
    }

    pub(crate) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Whether entries arrived since the last call (clears the flag).
    pub(crate) fn take_wakeup(&self) -> bool {
        self.wake.swap(false, Ordering::AcqRel)
    }

    /// Entries dropped because the ring was busy or the entry too large.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
