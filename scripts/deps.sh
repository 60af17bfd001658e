#!/usr/bin/env bash
# Installs what the build and the tests need and is missing; silent when everything is there.
# Idempotent: safe to run on every `make`. Needs root (or sudo) only when something is missing.
set -euo pipefail

# The bare-metal toolchain: Debian's rustc-web 1.85, which ships its standard library source
# (needed for -Zbuild-std). Pinned so the kernel crates are checked against Rust 1.85.
RUSTWEB_VER=1.85.0+dfsg3-1~deb12u3
RUSTWEB_PKGS=(rustc-web cargo-web rust-web-src libstd-rust-web-dev)
# Everything else, at whatever version Debian has.
PKGS=(gcc libc6-dev make python3 clang llvm libbpf-dev bpftool)
# QEMU must be installed without recommends (a plain install hits a package conflict).
QEMU_PKGS=(qemu-system-x86 qemu-system-misc opensbi)

installed_version() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^install ok installed //p'; }

missing=() missing_rustweb=() missing_qemu=()
for p in "${PKGS[@]}"; do [ -n "$(installed_version "$p")" ] || missing+=("$p"); done
for p in "${QEMU_PKGS[@]}"; do [ -n "$(installed_version "$p")" ] || missing_qemu+=("$p"); done
for p in "${RUSTWEB_PKGS[@]}"; do [ "$(installed_version "$p")" = "$RUSTWEB_VER" ] || missing_rustweb+=("$p=$RUSTWEB_VER"); done

rustup_missing=()
command -v cargo >/dev/null || { echo "deps: cargo (rustup stable) is not installed; see README" >&2; exit 1; }
cargo clippy --version >/dev/null 2>&1 || rustup_missing+=(clippy)
rustfmt --version >/dev/null 2>&1 || rustup_missing+=(rustfmt)

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_qemu[@]} -eq 0 ] && [ ${#missing_rustweb[@]} -eq 0 ] && [ ${#rustup_missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_qemu[@]} -gt 0 ] || [ ${#missing_rustweb[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]} ${missing_qemu[*]} ${missing_rustweb[*]}"
    $SUDO apt-get update -qq
    [ ${#missing[@]} -eq 0 ] || $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    [ ${#missing_qemu[@]} -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends "${missing_qemu[@]}" >/dev/null
    [ ${#missing_rustweb[@]} -eq 0 ] || $SUDO apt-get install -y -qq --allow-downgrades "${missing_rustweb[@]}" >/dev/null
fi
if [ ${#rustup_missing[@]} -gt 0 ]; then
    echo "deps: adding rustup components ${rustup_missing[*]}"
    rustup component add "${rustup_missing[@]}"
fi
