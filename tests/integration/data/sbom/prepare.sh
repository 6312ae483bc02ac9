#!/usr/bin/env bash
# Needs mmdebstrap, pip, npm, cargo-auditable (`cargo install cargo-auditable`), rpm (rpmbuild)
# and apt-get.
# Builds the real package trees the sbom tests read, into OUT (cached by the tests under
# target/test-data/sbom-<stamp>; this runs only when the stamp is missing):
#   rootfs.tar      Debian bookworm minbase from the Debian mirror (mmdebstrap)
#   dpkg-query.txt  `dpkg-query -W` over that rootfs: the ground truth
#   py/             `pip install --target` of two small wheels from PyPI
#   node/           `npm install` of a small package with one dependency
#   rust/           a binary built with `cargo auditable build` from crates.io crates, and
#                   its Cargo.lock (rust/app/Cargo.lock, rust/usr/local/bin/hello)
#   java/           Debian's libcommons-lang3-java jar (apt-get download), and a jar that
#                   nests it (java/app/fat.jar); java/expected.txt names group:artifact version
#   rpm/            an rpmdb.sqlite written by the real rpm tool (`rpm -i --justdb`) from two
#                   packages rpmbuild makes here; rpm/rpm-qa.txt is `rpm -qa` over it
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
# Rust: a tiny program with two pinned crates.io dependencies, built by cargo-auditable.
src="$tmp/rust-src"
mkdir -p "$src/src" "$tmp/rust/usr/local/bin" "$tmp/rust/app"
cat > "$src/Cargo.toml" <<'TOML'
[package]
name = "hello"
version = "0.3.1"
edition = "2021"

[dependencies]
itoa = "=1.0.11"
ryu = "=1.0.18"
TOML
cat > "$src/src/main.rs" <<'RS'
fn main() {
    let mut a = itoa::Buffer::new();
    let mut b = ryu::Buffer::new();
    println!("{} {}", a.format(42), b.format(1.5));
}
RS
(cd "$src" && CARGO_TARGET_DIR="$src/target" cargo auditable build --release --quiet)
cp "$src/target/release/hello" "$tmp/rust/usr/local/bin/hello"
cp "$src/Cargo.lock" "$tmp/rust/app/Cargo.lock"
rm -rf "$src"

# Java: the jar Debian ships in libcommons-lang3-java, and a jar nesting it.
deb="$tmp/deb"
mkdir -p "$deb" "$tmp/java/app"
(cd "$deb" && apt-get download -q libcommons-lang3-java >/dev/null)
dpkg-deb -x "$deb"/libcommons-lang3-java_*.deb "$deb/x"
jar=$(find "$deb/x/usr/share/java" -name 'commons-lang3*.jar' -type f | head -1)
mkdir -p "$tmp/java/usr/share/java"
cp "$jar" "$tmp/java/usr/share/java/"
(cd "$deb/x/usr/share/java" && python3 -m zipfile -c "$tmp/java/app/fat.jar" "$(basename "$jar")")
unzip -p "$jar" 'META-INF/maven/*/pom.properties' \
  | awk -F= '/^groupId=/{g=$2} /^artifactId=/{a=$2} /^version=/{v=$2} END{print g":"a" "v}' \
  | tr -d '\r' > "$tmp/java/expected.txt"
rm -rf "$deb"

# rpm: two packages made by rpmbuild, recorded in a SQLite rpmdb by rpm itself.
top="$tmp/rpmbuild"
mkdir -p "$top/SPECS"
for spec in "cicd-demo-lib 1.4.2 3 0 LGPL-2.1-or-later" "cicd-demo-app 2.0.1 1 4 MIT"; do
  set -- $spec
  {
    echo "Name: $1"; echo "Version: $2"; echo "Release: $3"; echo "Epoch: $4"
    echo "License: $5"; echo "Summary: cicd test package $1"; echo "BuildArch: noarch"
    [ "$1" = cicd-demo-app ] && echo "Requires: cicd-demo-lib"
    printf '%%description\nA package for the cicd sbom tests.\n%%files\n'
  } > "$top/SPECS/$1.spec"
  rpmbuild --quiet -bb --define "_topdir $top" "$top/SPECS/$1.spec" >/dev/null
done
db="$tmp/rpm/var/lib/rpm"
mkdir -p "$db"
rpm --define '_db_backend sqlite' --dbpath "$db" --initdb
rpm --define '_db_backend sqlite' --dbpath "$db" -i --justdb --nodeps --ignorearch \
  "$top"/RPMS/noarch/*.rpm
rpm --define '_db_backend sqlite' --dbpath "$db" -qa \
  --qf '%{NAME} %{EPOCH} %{VERSION}-%{RELEASE} %{ARCH} %{LICENSE}\n' | sort > "$tmp/rpm/rpm-qa.txt"
rm -rf "$top"
mv "$tmp" "$out"
