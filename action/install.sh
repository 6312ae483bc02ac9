#!/usr/bin/env bash
# Installs the cicd binary this action's commit pins: picks the release asset for the
# runner's OS/arch, downloads it from the release under GITHUB_SERVER_URL, refuses it unless
# its SHA-256 equals the one in action/checksums.txt (committed beside this script, so pinning
# the action by SHA pins the binary), and caches it in RUNNER_TOOL_CACHE. Writes `cicd-path`
# to GITHUB_OUTPUT. Inputs come from the environment only (CICD_VERSION), never from the
# workflow text. bash 3.2 compatible (macOS).
set -euo pipefail

# Workflow-command data escaping, so no value can end the annotation or open another command.
escape() {
  local s=${1//%/%25}
  s=${s//$'\r'/%0D}
  printf '%s' "${s//$'\n'/%0A}"
}
die() {
  printf '::error title=cicd action::%s\n' "$(escape "$1")" >&2
  exit "${2:-1}"
}
need() { [ -n "${!1:-}" ] || die "$1 is not set: this script runs as a step of the cicd action" 2; }

need RUNNER_OS
need RUNNER_ARCH
need RUNNER_TOOL_CACHE
need RUNNER_TEMP
need GITHUB_OUTPUT
need GITHUB_SERVER_URL

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
table="$here/checksums.txt"
[ -f "$table" ] || die "$table is missing: this action's checkout is incomplete" 2

case "$RUNNER_OS/$RUNNER_ARCH" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) die "cicd has no prebuilt binary for $RUNNER_OS/$RUNNER_ARCH; supported runners: Linux/X64, Linux/ARM64, macOS/X64, macOS/ARM64" 2 ;;
esac

table_field() { sed -n "s/^# $1: *//p" "$table" | head -n 1; }
released=$(table_field version)
repository=$(table_field repository)
version=${CICD_VERSION:-$released}
[ -n "$version" ] || die "this commit of the action was not released: $table names no version; pin the action at a released commit" 2
case "$version" in
  *[!0-9A-Za-z.+-]*) die "version '$version' is not a version (digits, letters, . + - only)" 2 ;;
esac
if [ "$version" != "$released" ]; then
  die "version $version is not the one this action's commit pins ($released): a binary is only trusted with the SHA-256 committed beside the action, so pin the action at the commit released as $version" 2
fi
[ -n "$repository" ] || die "$table names no repository to download from" 2
case "$repository" in
  *[!0-9A-Za-z._/-]* | /* | */ | *..*) die "repository '$repository' in $table is not owner/name" 2 ;;
esac

asset="cicd-$version-$target.tar.gz"
expected=$(awk -v a="$asset" '$2 == a && $1 ~ /^[0-9a-f]+$/ && length($1) == 64 { print $1; exit }' "$table")
[ -n "$expected" ] || die "$table has no SHA-256 for $asset: version $version was not released for $target" 2

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{ print $1 }'
  else shasum -a 256 "$1" | awk '{ print $1 }'; fi
}

case "$RUNNER_ARCH" in X64) arch=x64 ;; *) arch=arm64 ;; esac
cache="$RUNNER_TOOL_CACHE/cicd/$version/$arch"
if [ -f "$cache.complete" ] && [ -x "$cache/cicd" ] && [ -f "$cache/cicd.sha256" ]; then
  if [ "$(sha256 "$cache/cicd")" = "$(cat "$cache/cicd.sha256")" ]; then
    echo "cicd $version ($target) from the tool cache: $cache/cicd"
    echo "cicd-path=$cache/cicd" >>"$GITHUB_OUTPUT"
    exit 0
  fi
  echo "::warning title=cicd action::cached binary at $(escape "$cache") changed since it was verified; downloading it again"
  rm -rf "$cache" "$cache.complete"
fi

timeout=${CICD_HTTP_TIMEOUT:-300}
case "$timeout" in '' | *[!0-9]*) die "CICD_HTTP_TIMEOUT must be a number of seconds, not '$timeout'" 2 ;; esac
server=${GITHUB_SERVER_URL%/}
case "$server" in http://* | https://*) ;; *) die "GITHUB_SERVER_URL '$server' is not an http(s) URL" 2 ;; esac
url="$server/$repository/releases/download/v$version/$asset"

work=$(mktemp -d "$RUNNER_TEMP/cicd-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "downloading $url"
curl --fail --silent --show-error --location --proto '=http,https' \
  --connect-timeout 10 --max-time "$timeout" --retry 3 --retry-delay 1 \
  --output "$work/$asset" "$url" || die "download of $url failed (curl exit $?)" 3

actual=$(sha256 "$work/$asset")
if [ "$actual" != "$expected" ]; then
  die "refused $asset from $url: its SHA-256 is $actual, $table pins $expected; nothing was run or cached" 1
fi

tar -xzf "$work/$asset" -C "$work" "cicd-$version-$target/cicd" ||
  die "$asset (verified) has no cicd-$version-$target/cicd inside" 3
mkdir -p "$(dirname "$cache")"
rm -rf "$cache" "$cache.complete"
mkdir "$work/cache"
mv "$work/cicd-$version-$target/cicd" "$work/cache/cicd"
chmod 0755 "$work/cache/cicd"
sha256 "$work/cache/cicd" >"$work/cache/cicd.sha256"
mv "$work/cache" "$cache"
: >"$cache.complete"
echo "cicd $version ($target) verified (sha256:$actual) and cached at $cache/cicd"
echo "cicd-path=$cache/cicd" >>"$GITHUB_OUTPUT"
