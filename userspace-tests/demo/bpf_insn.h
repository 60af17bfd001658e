/* bpf_insn.h — building eBPF instructions by hand, as `struct bpf_insn` initialisers.
 *
 * The uapi header <linux/bpf.h> defines the instruction layout and the opcode bits but not
 * the kernel-internal BPF_MOV64_REG()-style builders, so the demo spells them out here.
 * Each macro is one instruction except BPF_LD_MAP_FD, which is the two-slot 64-bit load.
 */
#ifndef DEMO_BPF_INSN_H
#define DEMO_BPF_INSN_H

#include <linux/bpf.h>

#define BPF_INSN(c, d, s, o, i)                                                                    \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* dst = src */
#define BPF_MOV64_REG(d, s) BPF_INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
/* dst = imm (sign-extended) */
#define BPF_MOV64_IMM(d, i) BPF_INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
/* dst += imm */
#define BPF_ADD64_IMM(d, i) BPF_INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
/* *(size *)(dst + off) = src */
#define BPF_STX_MEM(size, d, s, o) BPF_INSN(BPF_STX | BPF_MEM | (size), d, s, o, 0)
/* dst = *(size *)(src + off) */
#define BPF_LDX_MEM(size, d, s, o) BPF_INSN(BPF_LDX | BPF_MEM | (size), d, s, o, 0)
/* lock *(size *)(dst + off) += src */
#define BPF_ATOMIC_ADD(size, d, s, o) BPF_INSN(BPF_STX | BPF_ATOMIC | (size), d, s, o, BPF_ADD)
/* dst = map (the map fd, turned into the map's address by the verifier) */
#define BPF_LD_MAP_FD(d, fd)                                                                       \
    BPF_INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), BPF_INSN(0, 0, 0, 0, 0)
/* if dst == imm goto pc + 1 + off */
#define BPF_JEQ_IMM(d, i, o) BPF_INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
/* r0 = helper(r1, ..., r5) */
#define BPF_CALL_HELPER(id) BPF_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
/* return r0 */
#define BPF_EXIT_INSN() BPF_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif
