#!/usr/bin/env bash
# Builds the demo kernel for x86_64-unknown-none with Debian's rustc-web 1.85 (-Zbuild-std),
# links it with rustup's rust-lld and testkernel/linker.ld, and copies the result to
# target/kernel-image/testkernel.elf (a multiboot1 image for `qemu-system-x86_64 -kernel`),
# with its symbol table written into the `.kallsyms` section (scripts/kallsyms.py).
#
# Usage: scripts/build-kernel.sh [--debug]   (release by default)
# Environment: KERNEL_TARGET_DIR (default: <repo>/target/kernel-x86_64), OUT_DIR (default:
# <repo>/target/kernel-image).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug
TARGET_DIR="${KERNEL_TARGET_DIR:-$ROOT/target/kernel-x86_64}"
OUT="${OUT_DIR:-$ROOT/target/kernel-image}"

LLD="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
[[ -x "$LLD" ]] || { echo "build-kernel: rust-lld not found at $LLD (rustup's toolchain)" >&2; exit 1; }

FLAGS=(
    -C "linker=$LLD" -C linker-flavor=ld.lld
    -C "link-arg=-T$ROOT/testkernel/linker.ld" -C link-arg=-znorelro -C link-arg=-zmax-page-size=4096
    -C relocation-model=static -C code-model=kernel -C force-frame-pointers=yes
    -D warnings
)
release=()
[[ "$PROFILE" == release ]] && release=(--release)

# Cargo does not track the linker script: relink when it changed since the last build
# (removing the binary's outputs makes cargo rebuild just that unit).
ELF="$TARGET_DIR/x86_64-unknown-none/$PROFILE/testkernel"
if [[ -e "$ELF" && "$ROOT/testkernel/linker.ld" -nt "$ELF" ]]; then
    rm -f "$ELF" "$TARGET_DIR/x86_64-unknown-none/$PROFILE/deps/testkernel-"*
fi

cd "$ROOT/testkernel"
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$TARGET_DIR" \
    RUSTFLAGS="${FLAGS[*]}" \
    /usr/bin/cargo build --quiet "${release[@]}" --bin testkernel \
    -Zbuild-std=core,alloc -Zbuild-std-features=compiler-builtins-mem --target x86_64-unknown-none

mkdir -p "$OUT"
cp "$ELF" "$OUT/testkernel.elf"

# kallsyms: write the symbol table into the reserved `.kallsyms` section (no address moves).
python3 "$ROOT/scripts/kallsyms.py" "$OUT/testkernel.elf"

# QEMU loads the image flat (a.out kludge): every PT_LOAD's file offset minus its physical
# address must be one constant, and the multiboot header must lie in the first 8 KiB.
python3 - "$OUT/testkernel.elf" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
phoff, = struct.unpack_from('<Q', data, 32)
phentsize, phnum = struct.unpack_from('<HH', data, 54)
deltas = set()
for i in range(phnum):
    p_type, _, off, _, paddr, filesz, _, _ = struct.unpack_from('<IIQQQQQQ', data, phoff + i * phentsize)
    if p_type == 1 and filesz:
        deltas.add(off - paddr)
hdr = data.find(struct.pack('<I', 0x1BADB002))
if len(deltas) != 1 or hdr < 0 or hdr >= 8192 or hdr % 4:
    sys.exit(f"build-kernel: image not loadable flat (deltas {deltas}, header at {hdr})")
PY
echo "build-kernel: $OUT/testkernel.elf ($PROFILE)"
