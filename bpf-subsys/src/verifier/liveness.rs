//! Register liveness: which registers some path from an instruction reads before writing
//! them. State pruning compares only those (Linux gets the same from its `REG_LIVE_READ`
//! marks, computed while exploring; a static analysis is coarser but never claims a read
//! register dead).

use alloc::vec;
use alloc::vec::Vec;

use super::helpers::VerifierOps;
use super::opcodes::*;
use super::Verifier;

/// Bit `r` set: `Rr` may be read before it is written.
pub(super) type Live = u16;

const R0_R5: Live = 0x3f;
const R1_R5: Live = 0x3e;

/// Registers an instruction reads and writes.
fn use_def(v: &Verifier<'_>, ops: &dyn VerifierOps, pc: usize) -> (Live, Live) {
    let i = v.insn(pc);
    let bit = |r: u8| -> Live {
        if r < 16 {
            1 << r
        } else {
            0
        }
    };
    let (dst, src) = (bit(i.dst), bit(i.src));
    let x = i.opc & SRC_X != 0;
    match i.opc & CLASS_MASK {
        CLASS_ALU | CLASS_ALU64 => {
            let op = i.opc & OP_MASK;
            let reads = if op == OP_MOV { 0 } else { dst };
            let reads = if x && op != OP_NEG && op != OP_END { reads | src } else { reads };
            (reads, dst)
        }
        CLASS_LDX => (src, dst),
        CLASS_ST => (dst, 0),
        CLASS_STX => {
            if i.opc & MODE_MASK == MODE_ATOMIC {
                if i.imm == ATOMIC_CMPXCHG {
                    (dst | src | 1, 1)
                } else if i.imm & ATOMIC_FETCH != 0 {
                    (dst | src, src)
                } else {
                    (dst | src, 0)
                }
            } else {
                (dst | src, 0)
            }
        }
        CLASS_LD => match i.opc & MODE_MASK {
            MODE_ABS => (1 << 6, R0_R5),
            MODE_IND => ((1 << 6) | src, R0_R5),
            _ => (0, dst),
        },
        _ => match i.opc & OP_MASK {
            OP_EXIT => (1, 0),
            OP_JA => (0, 0),
            OP_CALL if i.src == PSEUDO_CALL => (R1_R5, R0_R5),
            OP_CALL => {
                let nargs = u32::try_from(i.imm).ok().and_then(|id| ops.helper_proto(id)).map_or(5, |p| p.nargs);
                let reads = (1u16 << (nargs.min(5) + 1)) - 2;
                (reads, R0_R5)
            }
            _ => (if x { dst | src } else { dst }, 0),
        },
    }
}

/// Live-in registers of every instruction.
pub(super) fn compute(v: &Verifier<'_>, ops: &dyn VerifierOps) -> Vec<Live> {
    let n = v.len();
    let mut succ: Vec<[usize; 2]> = vec![[usize::MAX; 2]; n];
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut ud = vec![(0, 0); n];
    let mut pc = 0;
    while pc < n {
        ud[pc] = use_def(v, ops, pc);
        let next = v.next_pc(pc);
        let s = v.successors(pc);
        succ[pc] = s;
        for t in s.into_iter().filter(|&t| t < n) {
            preds[t].push(pc as u32);
        }
        pc = next;
    }
    let mut live: Vec<Live> = vec![0; n];
    let mut work: Vec<usize> = (0..n).collect();
    let mut queued = vec![true; n];
    while let Some(pc) = work.pop() {
        queued[pc] = false;
        let out = succ[pc].iter().filter(|&&t| t < n).fold(0, |acc, &t| acc | live[t]);
        let (uses, defs) = ud[pc];
        let inn = uses | (out & !defs);
        if inn != live[pc] {
            live[pc] = inn;
            for &p in &preds[pc] {
                let p = p as usize;
                if !queued[p] {
                    queued[p] = true;
                    work.push(p);
                }
            }
        }
    }
    live
}
