#!/usr/bin/env bash
# The kprobe benchmark (issue 5): boots the demo kernel with the kernel command-line word
# `int3bench` (the kernel prints `int3-bench: <ns> ns per int3 round trip` at boot) and runs
# userspace-tests/bench/kprobe_bench (getpid() unprobed, with a kprobe running an empty
# program, with a counting program), then prints the times and the ratios:
#   probed/unprobed (empty and counting program), and probed call / bare int3 round trip.
#
# Usage: scripts/bench-kprobe.sh [KERNEL]   (default target/kernel-image/testkernel.elf)
# Environment: BENCH_ACCEL=kvm|tcg (default: kvm when /dev/kvm opens and is not PVM, else tcg
# with a warning: TCG timings say little about real hardware), BENCH_MS (per-phase run time,
# default 300), BENCH_TIMEOUT (seconds, default 300). The console log is target/bench-kprobe.log.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KERNEL=${1:-$ROOT/target/kernel-image/testkernel.elf}
MS=${BENCH_MS:-300}
TIMEOUT=${BENCH_TIMEOUT:-300}
[[ -r "$KERNEL" ]] || { echo "bench-kprobe: no kernel image at $KERNEL (make kernel)" >&2; exit 1; }

make --no-print-directory -C "$ROOT/userspace-tests" build/init bench >/dev/null || exit 1
mkdir -p "$ROOT/target"
INITRD="$ROOT/target/bench-initramfs.cpio"
python3 "$ROOT/scripts/mkinitramfs.py" -o "$INITRD" \
    --dir /tmp --dir /dev --dir /proc --dir /sys --dir /sys/fs/bpf --dir /sys/kernel/tracing \
    --dir /sys/kernel/debug/tracing --dir /tests \
    /init="$ROOT/userspace-tests/build/init" \
    /bench/kprobe_bench="$ROOT/userspace-tests/build/bench/kprobe_bench" || exit 1

accel=${BENCH_ACCEL:-}
if [[ -z "$accel" ]]; then
    if [[ -d /sys/module/kvm_pvm ]]; then
        # PVM (software nested virtualisation) cannot deliver a guest kernel's int3 (the demo
        # kernel's `kprobe_ud` mode uses #UD there instead, which times PVM's exits, not int3).
        accel=tcg
        echo "bench-kprobe: warning: /dev/kvm is PVM (no kernel-mode int3 there), timing under TCG (emulation): ratios only indicative (BENCH_ACCEL=kvm forces KVM with kprobe_ud)" >&2
    elif (exec 3<>/dev/kvm) 2>/dev/null; then
        accel=kvm
    else
        accel=tcg
        echo "bench-kprobe: warning: /dev/kvm not available, timing under TCG (emulation): ratios only indicative" >&2
    fi
fi

LOG="$ROOT/target/bench-kprobe.log"
QEMU_ACCEL=$accel "$ROOT/scripts/qemu-run.sh" "$KERNEL" "$INITRD" "int3bench -- run /bench/kprobe_bench $MS" "$TIMEOUT" >"$LOG" 2>&1
rc=$?
grep -aE 'int3-bench:|kprobe-bench:|not ok|qemu-run' "$LOG"
if [[ $rc -ne 0 ]]; then
    echo "bench-kprobe: the run failed (qemu-run exit $rc); full log: $LOG" >&2
    exit 1
fi

python3 - "$LOG" "$accel" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
def num(pattern):
    m = re.search(pattern, text)
    if not m:
        sys.exit(f"bench-kprobe: no line matching {pattern!r} in {sys.argv[1]}")
    return float(m.group(1))
int3 = num(r"int3-bench: ([0-9.]+) ns per int3 round trip")
base = num(r"kprobe-bench: unprobed ([0-9.]+) ns per call")
empty = num(r"kprobe-bench: probed-empty ([0-9.]+) ns per call")
count = num(r"kprobe-bench: probed-count ([0-9.]+) ns per call")
print(f"kprobe bench ({sys.argv[2]}): getpid() {base:.0f} ns unprobed, {empty:.0f} ns with a kprobe "
      f"(empty program), {count:.0f} ns (counting program); int3 round trip {int3:.0f} ns")
print(f"ratio probed/unprobed (empty program):    {empty / base:.2f}")
print(f"ratio probed/unprobed (counting program): {count / base:.2f}")
print(f"ratio probed call/int3 round trip:        {empty / int3:.2f}  "
      f"(probe overhead {empty - base:.0f} ns = {(empty - base) / int3:.2f} int3 round trips)")
PY
