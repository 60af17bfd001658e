#!/usr/bin/env bash
# Runs the QEMU tests: boots the demo kernel with the test initramfs ("-- test": /init runs
# every program in /tests) once under TCG and, when /dev/kvm can be opened, once more under
# KVM (the issue asks for both). Prints each run's PASS/FAIL lines and summary, then ONE
# final line `N passed, N failed` summed over the runs; exits non-zero on any failure.
#
# Usage: scripts/qemu-test.sh KERNEL INITRD TIMEOUT_S   (QEMU_TEST_ACCELS="tcg kvm" overrides)
set -uo pipefail

KERNEL=$1 INITRD=$2 TIMEOUT=$3
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
accels=${QEMU_TEST_ACCELS:-}
if [[ -z "$accels" ]]; then
    accels=tcg
    if (exec 3<>/dev/kvm) 2>/dev/null; then accels="tcg kvm"; fi
fi

mkdir -p "$ROOT/target"
total_pass=0 total_fail=0 bad=0
for accel in $accels; do
    log="$ROOT/target/qemu-test-$accel.log"
    start=$SECONDS
    QEMU_ACCEL=$accel "$ROOT/scripts/qemu-run.sh" "$KERNEL" "$INITRD" "-- test" "$TIMEOUT" >"$log" 2>&1
    rc=$?
    secs=$((SECONDS - start))
    grep -aE '^(PASS|FAIL|not ok|init exited|qemu-run|\[(ERROR|WARN)\])' "$log" | sed "s/^/[$accel] /"
    summary=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [[ -z "$summary" ]]; then
        echo "[$accel] no summary line (qemu-run exit $rc); full log: $log"
        total_fail=$((total_fail + 1)); bad=1; continue
    fi
    echo "[$accel] $summary (qemu-run exit $rc, $secs s)"
    p=${summary%% passed*}; f=${summary#*passed, }; f=${f%% failed*}
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [[ $rc -eq 0 && $f -eq 0 ]] || bad=1
done
echo "$total_pass passed, $total_fail failed"
exit $bad
