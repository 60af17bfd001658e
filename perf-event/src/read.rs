//! `read(2)` of a perf event fd (Linux `perf_read`, `perf_read_one`, `perf_read_group`).
//!
//! Layout per `read_format`: without `PERF_FORMAT_GROUP`: `value`, `time_enabled`?,
//! `time_running`?, `id`?, `lost`?; with it (the whole group of the event's leader):
//! `nr`, `time_enabled`?, `time_running`?, then `{value, id?, lost?}` for the leader and each
//! sibling.

use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::perf::*;
use syscall_abi::{err, Errno, Result};

use crate::event::EventCore;

fn put(buf: &mut [u8], at: &mut usize, v: u64) {
    buf[*at..*at + 8].copy_from_slice(&v.to_ne_bytes());
    *at += 8;
}

/// Reads the event's values into `buf`; `ENOSPC` if `buf` is shorter than the read size.
pub(crate) fn read(core: &Arc<EventCore>, buf: &mut [u8]) -> Result<usize> {
    let rf = core.attr.read_format;
    let entry = 8 * (1 + usize::from(rf & PERF_FORMAT_ID != 0) + usize::from(rf & PERF_FORMAT_LOST != 0));
    let times = 8
        * (usize::from(rf & PERF_FORMAT_TOTAL_TIME_ENABLED != 0)
            + usize::from(rf & PERF_FORMAT_TOTAL_TIME_RUNNING != 0));
    let members: Vec<Arc<EventCore>> = if rf & PERF_FORMAT_GROUP != 0 {
        let leader = core.leader.clone().unwrap_or_else(|| core.clone());
        let mut m = alloc::vec![leader.clone()];
        m.extend(leader.siblings.lock().iter().filter_map(|s| s.upgrade()));
        m
    } else {
        alloc::vec![core.clone()]
    };
    let group = rf & PERF_FORMAT_GROUP != 0;
    let size = usize::from(group) * 8 + times + entry * members.len();
    if buf.len() < size {
        return err(Errno::ENOSPC, "read buffer shorter than the read_format size");
    }
    for m in &members {
        m.clock_sync();
    }
    let (enabled, running) = members[0].times();
    let mut at = 0;
    if group {
        put(buf, &mut at, members.len() as u64);
    } else {
        put(buf, &mut at, core.count());
    }
    if rf & PERF_FORMAT_TOTAL_TIME_ENABLED != 0 {
        put(buf, &mut at, enabled);
    }
    if rf & PERF_FORMAT_TOTAL_TIME_RUNNING != 0 {
        put(buf, &mut at, running);
    }
    for (i, m) in members.iter().enumerate() {
        if group {
            put(buf, &mut at, m.count());
        } else if i > 0 {
            break;
        }
        if rf & PERF_FORMAT_ID != 0 {
            put(buf, &mut at, u64::from(m.id));
        }
        if rf & PERF_FORMAT_LOST != 0 {
            put(buf, &mut at, m.lost());
        }
    }
    debug_assert_eq!(at, size);
    Ok(size)
}
