#!/usr/bin/env bash
# Boots the demo kernel under QEMU and maps its exit to a shell status.
#
# Usage: scripts/qemu-run.sh KERNEL INITRD CMDLINE TIMEOUT_S
#   KERNEL     the multiboot image (target/kernel-image/testkernel.elf)
#   INITRD     the initramfs (cpio newc), or "" for none
#   CMDLINE    the kernel command line (words after " -- " are /init's arguments)
#   TIMEOUT_S  QEMU is killed after this many seconds
# Uses KVM when /dev/kvm can be opened (unless it is PVM, see below), TCG otherwise
# (QEMU_ACCEL=tcg|kvm overrides);
# says which on stderr. The kernel's console (COM1) is this script's stdout.
# Exit status: 0 when the kernel reported success (QEMU status 33), 1 for failure (35),
# 2 for a kernel panic (37), 124 on timeout, 3 for anything else.
set -uo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 KERNEL INITRD CMDLINE TIMEOUT_S" >&2
    exit 3
fi
KERNEL=$1 INITRD=$2 CMDLINE=$3 TIMEOUT=$4

accel=${QEMU_ACCEL:-}
if [[ -z "$accel" ]]; then
    if [[ -d /sys/module/kvm_pvm ]]; then
        # /dev/kvm is PVM (software-only nested virtualisation): every guest exception,
        # interrupt and privileged instruction traps to the host, so a system call costs
        # ~0.6 ms there against ~0.5 us under TCG. TCG is far faster on such hosts.
        echo "qemu-run: /dev/kvm is PVM (kvm_pvm), slower than TCG here; using TCG (QEMU_ACCEL=kvm forces KVM)" >&2
        accel=tcg
    elif (exec 3<>/dev/kvm) 2>/dev/null; then
        accel=kvm
    else
        accel=tcg
    fi
fi
# PVM cannot deliver an `int3` executed by the guest kernel (QEMU stops with "KVM internal
# error. Suberror: 1", an emulation failure on the 0xcc byte) but does deliver #UD: there the
# kernel boots with `kprobe_ud`, its breakpoint mode that arms probes with an invalid opcode.
if [[ "$accel" == kvm && -d /sys/module/kvm_pvm ]]; then
    echo "qemu-run: PVM cannot deliver a kernel-mode int3: booting with kprobe_ud (#UD breakpoints)" >&2
    CMDLINE="kprobe_ud $CMDLINE"
fi
# -cpu host minus IA32_ARCH_CAPABILITIES: nested KVM here refuses that MSR.
if [[ "$accel" == kvm ]]; then cpu=host,-arch-capabilities; else cpu=max; fi
echo "qemu-run: accel=$accel timeout=${TIMEOUT}s" >&2

args=(-accel "$accel" -cpu "$cpu" -smp 1 -m 512M -nographic -monitor none -serial stdio -no-reboot
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$KERNEL" -append "$CMDLINE")
[[ -n "$INITRD" ]] && args+=(-initrd "$INITRD")
# qboot (Debian's qemu-system-data) instead of SeaBIOS: it starts the multiboot image in
# ~0.2 s where SeaBIOS takes ~3.5 s on this machine's KVM (and is a little faster under TCG).
# qboot leaves the local APIC's LINT0 masked; arch/entry.rs sets virtual-wire mode itself.
# QEMU_BIOS=seabios|qboot overrides.
QBOOT=/usr/share/qemu/qboot.rom
bios=${QEMU_BIOS:-}
[[ -z "$bios" ]] && bios=qboot
if [[ "$bios" == qboot && -r "$QBOOT" ]]; then args+=(-bios "$QBOOT"); fi

timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${args[@]}" </dev/null
rc=$?
case $rc in
    124 | 137) echo "qemu-run: timeout after $TIMEOUT s" >&2; exit 124 ;;
    33) exit 0 ;;
    35) exit 1 ;;
    37) exit 2 ;;
    *) echo "qemu-run: QEMU exited with status $rc" >&2; exit 3 ;;
esac
