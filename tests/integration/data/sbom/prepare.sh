#!/usr/bin/env bash
# Builds the real package trees the sbom tests read, into OUT (cached by the tests under
# target/test-data/sbom-<stamp>; this runs only when the stamp is missing):
#   rootfs.tar      Debian bookworm minbase from the Debian mirror (mmdebstrap)
#   dpkg-query.txt  `dpkg-query -W` over that rootfs: the ground truth
#   py/             `pip install --target` of two small wheels from PyPI
#   node/           `npm install` of a small package with one dependency
set -euo pipefail
out="$1"
tmp="$out.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
mmdebstrap --variant=minbase --quiet --mode=root bookworm "$tmp/rootfs.tar"
mkdir -p "$tmp/db"
tar -xf "$tmp/rootfs.tar" -C "$tmp/db" ./var/lib/dpkg
dpkg-query --admindir="$tmp/db/var/lib/dpkg" -W -f '${Package} ${Version} ${Architecture}\n' \
  | sort > "$tmp/dpkg-query.txt"
rm -rf "$tmp/db"
python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
  --target "$tmp/py" six==1.16.0 idna==3.7
mkdir -p "$tmp/node"
(cd "$tmp/node" && npm install --silent --no-audit --no-fund is-odd@3.0.1 >/dev/null)
mv "$tmp" "$out"
