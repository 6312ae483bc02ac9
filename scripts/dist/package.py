#!/usr/bin/env python3
"""Packages one cicd release binary the way the action downloads it.

    scripts/dist/package.py --target TARGET --version X.Y.Z [--binary PATH] [--out DIR]

Writes DIR/archives/cicd-X.Y.Z-TARGET.tar.gz holding cicd-X.Y.Z-TARGET/cicd (mode 0755) and,
for a Linux target, DIR/<amd64|arm64>/cicd: the file cicd.yaml's `images: [cicd]` and the
Dockerfile put in the cicd image. Without --binary it runs
`cargo build --release --locked --target TARGET` first.

The archive is byte-for-byte reproducible: entries sorted, mtime SOURCE_DATE_EPOCH (else 0),
uid/gid 0 with no names, and a gzip header without a name or time. Python's tarfile and gzip
are the same on every runner (Linux and macOS), unlike tar(1).
"""

import argparse
import gzip
import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

TARGETS = {
    "x86_64-unknown-linux-musl": "amd64",
    "aarch64-unknown-linux-musl": "arm64",
    "x86_64-apple-darwin": None,
    "aarch64-apple-darwin": None,
}
VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$")


def fail(message):
    print(f"package.py: {message}", file=sys.stderr)
    sys.exit(2)


def build(target):
    """`cargo build --release --locked --target TARGET`; returns the binary's path."""
    cmd = ["cargo", "build", "--release", "--locked", "--target", target]
    print("+ " + " ".join(cmd), file=sys.stderr)
    if subprocess.run(cmd, check=False).returncode != 0:
        print("package.py: cargo build failed", file=sys.stderr)
        sys.exit(3)
    return Path("target") / target / "release" / "cicd"


def archive_bytes(binary, top, mtime):
    """A reproducible .tar.gz holding TOP/cicd with BINARY's bytes."""
    data = binary.read_bytes()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, mode, payload in (
            (top, tarfile.DIRTYPE, 0o755, None),
            (f"{top}/cicd", tarfile.REGTYPE, 0o755, data),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if payload is None:
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write_new(path, data, mode=0o644):
    """Writes `data` at `path` in a directory that is no symlink, replacing a file or symlink
    already there rather than writing through it (nothing lands outside --out)."""
    for parent in (path.parent, path.parent.parent):
        if parent.is_symlink():
            fail(f"{parent}: a symlink; refusing to write through it")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.write_bytes(data)
    path.chmod(mode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, choices=sorted(TARGETS))
    parser.add_argument("--version", required=True)
    parser.add_argument("--binary", type=Path, help="package this file instead of building")
    parser.add_argument("--out", type=Path, default=Path("dist"))
    args = parser.parse_args()
    if not VERSION.fullmatch(args.version):
        fail(f"--version {args.version!r}: expected X.Y.Z[-PRE]")
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    if not epoch.isdigit():
        fail(f"SOURCE_DATE_EPOCH={epoch!r}: expected seconds since 1970")

    binary = args.binary or build(args.target)
    if not binary.is_file():
        fail(f"{binary}: no such file")
    with binary.open("rb") as f:
        head = f.read(4)
    # ELF (Linux) or Mach-O (macOS, thin or universal): anything else, an empty or cut-short
    # file among it, is not a cicd binary.
    if head not in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        fail(f"{binary}: not an executable (no ELF or Mach-O header): empty, truncated or another file")
    top = f"cicd-{args.version}-{args.target}"
    archive = args.out / "archives" / f"{top}.tar.gz"
    write_new(archive, archive_bytes(binary, top, int(epoch)))
    print(f"wrote {archive}")
    arch = TARGETS[args.target]
    if arch is not None:
        image_file = args.out / arch / "cicd"
        write_new(image_file, binary.read_bytes(), 0o755)
        print(f"wrote {image_file}")


if __name__ == "__main__":
    main()
