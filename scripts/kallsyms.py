#!/usr/bin/env python3
"""Fills the demo kernel's `.kallsyms` section with its symbol table, in place.

Usage: scripts/kallsyms.py KERNEL.elf

The linker script reserves `.kallsyms` (fixed size, zero, inside the loaded image), so
writing the table into the section's file bytes moves no address. The table holds every
function symbol (and data object) of the kernel, Rust names demangled with `llvm-cxxfilt`
and the trailing `::h<16 hex>` hash removed, sorted by address; symbols without an ELF size
get the distance to the next symbol. Layout (little endian; testkernel/src/kallsyms.rs
reads it):

    header (32 bytes): magic b"KSYM", version u32 = 1, count u32, entries_off u32,
                       index_off u32, names_off u32, names_len u32, total_len u32
    entries: count x 16 bytes {addr u64, size u32, name_off u32}, sorted by address
             (name_off: offset of the name's length-prefixed bytes in the names area)
    index:   count x u32, entry numbers sorted by name (bytes), for lookup by name
    names:   per symbol: type u8 (b'T', b't', b'D', ...), len u16, then `len` bytes

The build fails when the table does not fit in the section, and when a Linux-named
probe target (testkernel/src/probe/targets*.rs) is missing, shorter than 5 bytes (room for
a probe's int3 and a jump), or shares its address with another one (merged functions
would fire each other's probes).
"""

import os
import re
import shutil
import struct
import subprocess
import sys

MAGIC = b"KSYM"
VERSION = 1
HEADER = struct.Struct("<4sIIIIIII")
ENTRY = struct.Struct("<QII")
SHT_NOBITS = 8
STT_OBJECT, STT_FUNC = 1, 2
STB_LOCAL = 0
SHF_WRITE, SHF_EXECINSTR = 0x1, 0x4
HASH = re.compile(r"::h[0-9a-f]{16}$")


def die(msg):
    sys.exit(f"kallsyms: {msg}")


def sections(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    out = []
    for i in range(shnum):
        name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize)
        out.append(dict(name=name, type=typ, flags=flags, addr=addr, off=off, size=size, link=link,
                        entsize=entsize))
    strtab = out[shstrndx]
    for s in out:
        end = data.index(b"\0", strtab["off"] + s["name"])
        s["name"] = data[strtab["off"] + s["name"]:end].decode()
    return out


def demangle(names):
    """Demangles Rust (legacy `_ZN...E` and v0 `_R`) names; others pass unchanged."""
    tool = shutil.which("llvm-cxxfilt")
    if tool is None:
        die("llvm-cxxfilt not found (Debian package llvm; `make deps`)")
    todo = [n for n in names if n.startswith(("_ZN", "_R"))]
    res = subprocess.run([tool], input="\n".join(todo) + "\n", capture_output=True, text=True, check=True)
    out = res.stdout.split("\n")
    if len(out) < len(todo):
        die("llvm-cxxfilt returned too few lines")
    table = dict(zip(todo, out))
    return [HASH.sub("", table.get(n, n)) for n in names]


def type_char(sec, func, local):
    if func:
        c = "T"
    elif sec["type"] == SHT_NOBITS:
        c = "B"
    elif sec["flags"] & SHF_WRITE:
        c = "D"
    else:
        c = "R"
    return c.lower() if local else c


def collect(data, secs):
    symtab = next((s for s in secs if s["name"] == ".symtab"), None)
    if symtab is None:
        die("no .symtab (was the kernel stripped?)")
    strtab = secs[symtab["link"]]
    raw = []
    for i in range(symtab["size"] // 24):
        name, info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, symtab["off"] + i * 24)
        typ, bind = info & 0xF, info >> 4
        if typ not in (STT_FUNC, STT_OBJECT) or shndx == 0 or shndx >= 0xFF00 or value == 0:
            continue
        sec = secs[shndx]
        if sec["name"] == ".kallsyms" or not sec["name"].startswith((".text", ".rodata", ".data", ".bss")):
            continue
        end = data.index(b"\0", strtab["off"] + name)
        nm = data[strtab["off"] + name:end].decode("utf-8", "replace")
        if not nm or nm.startswith((".L", "$")):
            continue
        raw.append((value, size, nm, type_char(sec, typ == STT_FUNC, bind == STB_LOCAL), shndx))
    # One symbol per (address, name); several names at one address stay (aliases).
    raw = sorted(set(raw), key=lambda r: (r[0], r[3].islower(), r[2]))
    names = demangle([r[2] for r in raw])
    syms = []
    for i, (addr, size, _, tc, shndx) in enumerate(raw):
        if size == 0:
            # Size of an unsized symbol: up to the next symbol at a higher address in its section.
            nxt = next((r[0] for r in raw[i + 1:] if r[0] > addr), None)
            sec = secs[shndx]
            limit = sec["addr"] + sec["size"]
            size = (min(nxt, limit) if nxt is not None else limit) - addr
        syms.append((addr, min(size, 0xFFFFFFFF), names[i], tc))
    return syms


PROBE_TARGETS = ("vfs_read", "vfs_write", "vfs_readv", "vfs_writev", "vfs_open", "do_sys_openat2",
                 "do_filp_open", "do_exit", "kernel_clone", "schedule", "wake_up_new_task",
                 "ktime_get_mono_fast_ns", "__x64_sys_getpid", "__x64_sys_read", "__x64_sys_openat")


def check_targets(syms):
    funcs = {name: (addr, size) for addr, size, name, tc in syms if tc == "T"}
    if not any(t in funcs for t in PROBE_TARGETS):
        print("kallsyms: no Linux-named probe targets in this kernel (testkernel/src/probe not linked)")
        return
    wanted = sorted(set(PROBE_TARGETS) | {n for n in funcs if n.startswith("__x64_sys_")})
    seen = {}
    for name in wanted:
        if name not in funcs:
            die(f"probe target {name} is missing from the kernel")
        addr, size = funcs[name]
        if size < 5:
            die(f"probe target {name} is only {size} bytes")
        if addr in seen:
            die(f"probe targets {seen[addr]} and {name} share address {addr:#x} (merged functions)")
        seen[addr] = name


def build(syms):
    blob = bytearray()
    offs = []
    for _, _, name, tc in syms:
        b = name.encode()[:0xFFFF]
        offs.append(len(blob))
        blob += tc.encode() + struct.pack("<H", len(b)) + b
    n = len(syms)
    entries_off = HEADER.size
    index_off = entries_off + n * ENTRY.size
    names_off = index_off + 4 * n
    total = names_off + len(blob)
    out = bytearray(HEADER.pack(MAGIC, VERSION, n, entries_off, index_off, names_off, len(blob), total))
    for (addr, size, _, _), off in zip(syms, offs):
        out += ENTRY.pack(addr, size, off)
    order = sorted(range(n), key=lambda i: (syms[i][2].encode(), syms[i][0]))
    out += struct.pack(f"<{n}I", *order)
    out += blob
    return bytes(out)


def main():
    if len(sys.argv) != 2:
        die("usage: kallsyms.py KERNEL.elf")
    path = sys.argv[1]
    data = bytearray(open(path, "rb").read())
    secs = sections(data)
    ks = next((s for s in secs if s["name"] == ".kallsyms"), None)
    if ks is None or ks["type"] == SHT_NOBITS:
        die("no loaded .kallsyms section (testkernel/linker.ld reserves it)")
    syms = collect(data, secs)
    check_targets(syms)
    table = build(syms)
    if len(table) > ks["size"]:
        die(f"table of {len(table)} bytes does not fit in .kallsyms ({ks['size']} bytes): "
            "raise KALLSYMS_SIZE in testkernel/linker.ld")
    data[ks["off"]:ks["off"] + ks["size"]] = table + bytes(ks["size"] - len(table))
    tmp = path + ".kallsyms.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, os.stat(path).st_mode)
    os.replace(tmp, path)
    funcs = sum(1 for s in syms if s[3] in "Tt")
    print(f"kallsyms: {len(syms)} symbols ({funcs} functions), {len(table)} of {ks['size']} bytes")


if __name__ == "__main__":
    main()
