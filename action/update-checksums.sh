#!/usr/bin/env bash
# Writes action/checksums.txt for one release: the SHA-256 of each binary archive given.
#   action/update-checksums.sh OWNER/NAME VERSION DIR
# DIR holds the release's archives, named cicd-VERSION-TARGET.tar.gz. The release flow runs
# this after building the archives and commits the result (see action/README.md).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 OWNER/NAME VERSION DIR" >&2; exit 2; }
repository=$1 version=$2 dir=$3
case "$repository" in */*) ;; *) echo "repository must be OWNER/NAME" >&2; exit 2 ;; esac
table="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/checksums.txt"
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{ print $1 }'
  else shasum -a 256 "$1" | awk '{ print $1 }'; fi
}
found=0
{
  echo "# cicd release table: the SHA-256 of each prebuilt binary archive of one release."
  echo "# The action downloads only the assets listed here and refuses any other bytes."
  echo "# Written by action/update-checksums.sh in the release flow (see action/README.md);"
  echo "# never edited by hand."
  echo "# repository: $repository"
  echo "# version: $version"
  for archive in "$dir"/cicd-"$version"-*.tar.gz; do
    [ -f "$archive" ] || continue
    printf '%s  %s\n' "$(sha256 "$archive")" "$(basename "$archive")"
    found=$((found + 1))
  done
} >"$table.tmp"
if [ "$found" -eq 0 ]; then
  rm -f "$table.tmp"
  echo "no cicd-$version-*.tar.gz in $dir" >&2
  exit 2
fi
mv "$table.tmp" "$table"
echo "wrote $table ($found archives)"
