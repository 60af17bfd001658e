#!/usr/bin/env bash
# Build everything and run the tests natively on this Linux host, through /init's test mode.
#
#   userspace-tests/run-on-host.sh [filter] [timeout=N]
#
# As root it first mounts what t_procfs expects and a stock system may lack (debugfs with
# tracefs at /sys/kernel/debug/tracing, tracefs at /sys/kernel/tracing, bpffs at /sys/fs/bpf).
# Exit status: /init's (0 when every test passed).
set -euo pipefail
cd "$(dirname "$0")"
make --no-print-directory build/init tests

mount_if_missing() { # fstype dir
    if [ "$(id -u)" = 0 ] && [ -d "$2" ] && ! mountpoint -q "$2"; then
        mount -t "$1" nodev "$2" || echo "run-on-host: could not mount $1 on $2" >&2
    fi
}
mount_if_missing debugfs /sys/kernel/debug
mount_if_missing tracefs /sys/kernel/tracing
mount_if_missing bpf /sys/fs/bpf

INIT_TESTS_DIR="$PWD/build/tests" exec build/init test "$@"
