#!/usr/bin/env python3
"""Write a cpio "newc" archive (the initramfs format Linux and the demo kernel unpack).

Usage:
    mkinitramfs.py -o out.cpio [--dir /path ...] [--symlink /link=target ...] [/dest=src ...]
    mkinitramfs.py --self-test

Each `/dest=src` copies the host file `src` to `/dest` in the archive, keeping its permission
bits (so executables stay executable). Parent directories of every entry are created
automatically (mode 0755), so `--dir` is only needed for empty directories; `/tmp` gets 01777.
Entries are written in sorted order, parents first, with uid/gid 0, a fixed mtime (so the
archive is reproducible) and inode numbers counting up from 1. Standard library only.

Format (one entry): the ASCII magic "070701", then 13 eight-digit uppercase hex fields
(ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
namesize incl. NUL, check=0), the NUL-terminated name padded to a multiple of 4 bytes
(header + name), then the data padded to a multiple of 4. The archive ends with the entry
"TRAILER!!!".
"""

import argparse
import io
import os
import stat
import sys

MAGIC = b"070701"
HEADER_LEN = 110
TRAILER = "TRAILER!!!"
DEFAULT_MTIME = 0


def _pad4(n):
    return (4 - n % 4) % 4


def entry_bytes(name, mode, data=b"", ino=0, mtime=DEFAULT_MTIME, nlink=None, uid=0, gid=0):
    """One newc entry: header, padded name, padded data. `name` has no leading slash."""
    name_b = name.encode() + b"\0"
    if nlink is None:
        nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = [ino, mode, uid, gid, nlink, mtime, len(data), 0, 0, 0, 0, len(name_b), 0]
    for f in fields:
        if not 0 <= f <= 0xFFFFFFFF:
            raise ValueError("cpio field out of range: %r in entry %r" % (f, name))
    header = MAGIC + b"".join(b"%08X" % f for f in fields)
    assert len(header) == HEADER_LEN
    out = header + name_b + b"\0" * _pad4(HEADER_LEN + len(name_b))
    out += data + b"\0" * _pad4(len(data))
    return out


def _norm(path):
    """Archive name for an absolute path: no leading slash, no '.', '..' or empty parts."""
    if not path.startswith("/"):
        raise ValueError("archive path must be absolute: %r" % path)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts or not parts:
        raise ValueError("bad archive path: %r" % path)
    return "/".join(parts)


def build(files=(), dirs=(), symlinks=(), mtime=DEFAULT_MTIME):
    """Return the archive bytes. files: (dest, src); dirs: dest; symlinks: (dest, target)."""
    entries = {}  # name -> (mode, data)

    def add_parents(name):
        parts = name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            entries.setdefault(parent, (stat.S_IFDIR | 0o755, b""))

    for d in dirs:
        name = _norm(d)
        mode = stat.S_IFDIR | (0o1777 if name == "tmp" else 0o755)
        add_parents(name)
        entries[name] = (mode, b"")
    for dest, src in files:
        name = _norm(dest)
        st = os.stat(src)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file: %r" % src)
        with open(src, "rb") as f:
            data = f.read()
        add_parents(name)
        if name in entries and stat.S_ISDIR(entries[name][0]):
            raise ValueError("%r is both a directory and a file" % dest)
        entries[name] = (stat.S_IFREG | stat.S_IMODE(st.st_mode), data)
    for dest, target in symlinks:
        name = _norm(dest)
        add_parents(name)
        entries[name] = (stat.S_IFLNK | 0o777, target.encode())

    out = io.BytesIO()
    # Sorting by path components puts every parent before its children.
    for ino, name in enumerate(sorted(entries, key=lambda n: n.split("/")), start=1):
        mode, data = entries[name]
        out.write(entry_bytes(name, mode, data, ino=ino, mtime=mtime))
    out.write(entry_bytes(TRAILER, 0, ino=0, nlink=1))
    return out.getvalue()


def parse(archive):
    """Parse a newc archive into a list of dicts (name, mode, uid, gid, nlink, mtime, ino, data).
    Strict: rejects a bad magic, bad padding or a missing trailer."""
    pos, result = 0, []
    while True:
        if pos + HEADER_LEN > len(archive):
            raise ValueError("truncated header at %d" % pos)
        header = archive[pos : pos + HEADER_LEN]
        if header[:6] != MAGIC:
            raise ValueError("bad magic %r at %d" % (header[:6], pos))
        f = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size, _, _, _, _, namesize, check = f
        if check != 0:
            raise ValueError("non-zero check field")
        name_start = pos + HEADER_LEN
        name_b = archive[name_start : name_start + namesize]
        if len(name_b) != namesize or not name_b.endswith(b"\0"):
            raise ValueError("name not NUL-terminated at %d" % pos)
        name = name_b[:-1].decode()
        data_start = name_start + namesize + _pad4(HEADER_LEN + namesize)
        if data_start % 4:
            raise ValueError("data not 4-byte aligned for %r" % name)
        data = archive[data_start : data_start + size]
        if len(data) != size:
            raise ValueError("truncated data for %r" % name)
        pos = data_start + size + _pad4(size)
        if name == TRAILER:
            if archive[pos:].strip(b"\0"):
                raise ValueError("garbage after trailer")
            return result
        result.append(dict(name=name, mode=mode, uid=uid, gid=gid, nlink=nlink, mtime=mtime, ino=ino, data=data))


def self_test():
    import tempfile

    # Exact bytes of a single entry, computed by hand from the format description.
    e = entry_bytes("a", stat.S_IFREG | 0o644, b"xyz", ino=5, mtime=0x10)
    want = (
        b"070701" + b"00000005" + b"000081A4" + b"00000000" * 2 + b"00000001" + b"00000010"
        + b"00000003" + b"00000000" * 4 + b"00000002" + b"00000000" + b"a\0" + b"" + b"xyz\0"
    )
    assert e == want, (e, want)
    assert len(e) % 4 == 0
    # Name padding: header (110) + name incl. NUL must reach a multiple of 4.
    for n in range(1, 9):
        name = "n" * n
        blob = entry_bytes(name, stat.S_IFDIR | 0o755)
        assert len(blob) % 4 == 0 and blob[HEADER_LEN : HEADER_LEN + n] == name.encode()

    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "prog")
        with open(exe, "wb") as f:
            f.write(b"\x7fELF" + bytes(range(256)) * 3 + b"odd")
        os.chmod(exe, 0o755)
        txt = os.path.join(tmp, "t.txt")
        with open(txt, "wb") as f:
            f.write(b"")
        os.chmod(txt, 0o600)
        blob = build(files=[("/init", exe), ("/tests/deep/t", txt)], dirs=["/tmp", "/sys/fs/bpf"],
                     symlinks=[("/bin/sh", "/init")])
        assert len(blob) % 4 == 0
        ents = parse(blob)
        names = [x["name"] for x in ents]
        assert names == ["bin", "bin/sh", "init", "sys", "sys/fs", "sys/fs/bpf", "tests", "tests/deep",
                         "tests/deep/t", "tmp"], names
        by = {x["name"]: x for x in ents}
        assert by["init"]["mode"] == stat.S_IFREG | 0o755
        assert by["init"]["data"] == open(exe, "rb").read()
        assert by["tests/deep/t"]["mode"] == stat.S_IFREG | 0o600 and by["tests/deep/t"]["data"] == b""
        assert by["tmp"]["mode"] == stat.S_IFDIR | 0o1777
        assert by["sys/fs"]["mode"] == stat.S_IFDIR | 0o755 and by["sys/fs"]["nlink"] == 2
        assert by["bin/sh"]["mode"] == stat.S_IFLNK | 0o777 and by["bin/sh"]["data"] == b"/init"
        assert sorted(x["ino"] for x in ents) == list(range(1, len(ents) + 1))
        assert all(x["uid"] == 0 and x["gid"] == 0 for x in ents)
        assert build(files=[("/init", exe)]) == build(files=[("/init", exe)]), "not reproducible"
        for bad in (lambda: build(dirs=["relative"]), lambda: build(dirs=["/a/../b"]),
                    lambda: parse(blob[:-200]), lambda: parse(b"070702" + blob[6:]),
                    lambda: build(files=[("/x", tmp)])):
            try:
                bad()
            except ValueError:
                pass
            else:
                raise AssertionError("bad input accepted")
    print("mkinitramfs self-test: ok")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", help="archive to write")
    ap.add_argument("--dir", action="append", default=[], help="directory to create (repeatable)")
    ap.add_argument("--symlink", action="append", default=[], help="/link=target (repeatable)")
    ap.add_argument("--mtime", type=int, default=DEFAULT_MTIME, help="mtime of every entry")
    ap.add_argument("--self-test", action="store_true", help="run the built-in checks and exit")
    ap.add_argument("files", nargs="*", help="/dest=src")
    args = ap.parse_args(argv)
    if args.self_test:
        self_test()
        return 0
    if not args.output:
        ap.error("-o is required")

    def pairs(items, what):
        out = []
        for item in items:
            dest, sep, src = item.partition("=")
            if not sep or not dest or not src:
                ap.error("%s must look like /dest=src: %r" % (what, item))
            out.append((dest, src))
        return out

    try:
        blob = build(pairs(args.files, "file"), args.dir, pairs(args.symlink, "--symlink"), args.mtime)
    except (OSError, ValueError) as e:
        print("mkinitramfs: %s" % e, file=sys.stderr)
        return 1
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
