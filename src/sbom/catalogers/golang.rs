//! Go binaries: the build information the Go toolchain (1.18 and later, inline format)
//! embeds after the `\xff Go buildinf:` magic — Go version, main module and every dependency
//! module with its version (`replace`d modules reported as their replacement). Executables are
//! scanned as they stream past; only the build information is kept. Purls
//! `pkg:golang/MODULE@VERSION`; the standard library as `pkg:golang/stdlib@goX.Y.Z`.

use std::io::{self, Read};

use super::{Cataloger, Env, Found};
use crate::sbom::package::{Class, Package, purl};
use crate::sbom::tree::Tree;

pub struct Golang;

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER: usize = 32;
/// Build information kept per binary (the module list of a large program is ~20 KB).
const KEEP: usize = 1 << 20;

/// Streams an executable and returns its build-information blob (magic first), if any.
pub fn extract(r: &mut dyn Read) -> io::Result<Option<Vec<u8>>> {
    let finder = memchr::memmem::Finder::new(MAGIC);
    let mut buf = vec![0u8; 1 << 16];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        carry.extend_from_slice(&buf[..n]);
        if let Some(at) = finder.find(&carry) {
            let mut found = carry.split_off(at);
            let missing = KEEP.saturating_sub(found.len());
            r.take(missing as u64).read_to_end(&mut found)?;
            found.truncate(KEEP);
            io::copy(r, &mut io::sink())?;
            return Ok(Some(found));
        }
        let keep_from = carry.len().saturating_sub(MAGIC.len() - 1);
        carry.drain(..keep_from);
    }
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((x, i + 1));
        }
    }
    None
}

fn string_at(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, used) = uvarint(b)?;
    let len = usize::try_from(len).ok()?;
    let rest = b.get(used..)?;
    Some((rest.get(..len)?, rest.get(len..)?))
}

/// The Go version and module-info text of a build-information blob (inline format only).
pub fn parse(blob: &[u8]) -> Option<(String, String)> {
    if !blob.starts_with(MAGIC) || blob.len() < HEADER || blob[15] & 0x2 == 0 {
        return None;
    }
    let (version, rest) = string_at(&blob[HEADER..])?;
    let (modinfo, _) = string_at(rest)?;
    // Module info is framed by 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    Some((
        String::from_utf8_lossy(version).into_owned(),
        String::from_utf8_lossy(modinfo).into_owned(),
    ))
}

fn module(path: &str, version: &str) -> Option<Package> {
    let (ns, name) = path
        .rsplit_once('/')
        .map_or((None, path), |(n, m)| (Some(n), m));
    let version = if version == "(devel)" { "" } else { version };
    let p = purl("golang", ns, name, version, &[])?;
    Some(Package::new("golang", path, version, p))
}

/// Packages a binary's build information records: main module, dependencies, stdlib.
pub fn packages(go_version: &str, modinfo: &str) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    let mut deps = Vec::new();
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, version, ..] => {
                if let Some(mut p) = module(path, version) {
                    p.class = Class::Application;
                    out.push(p);
                }
            }
            ["dep", path, version, ..] => {
                out.extend(module(path, version));
                deps.push((*path).to_owned());
            }
            ["=>", path, version, ..] => {
                // Replaces the dependency just read.
                if let Some(p) = out.last_mut().filter(|p| p.class == Class::Library)
                    && let Some(r) = module(path, version)
                {
                    *p = r;
                    if let Some(d) = deps.last_mut() {
                        *d = (*path).to_owned();
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(v) = go_version.strip_prefix("go").filter(|v| !v.is_empty()) {
        if let Some(p) = purl("golang", None, "stdlib", &format!("go{v}"), &[]) {
            out.push(Package::new("golang", "stdlib", &format!("go{v}"), p));
        }
        deps.push("stdlib".into());
    }
    if let Some(main) = out.iter_mut().find(|p| p.class == Class::Application) {
        main.depends = deps;
    }
    out
}

impl Cataloger for Golang {
    fn id(&self) -> &'static str {
        "golang"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn catalog(&self, tree: &Tree, env: &Env<'_>, found: &mut Found) {
        for (path, entry, bytes) in tree.kept_files() {
            if !bytes.starts_with(MAGIC) {
                continue;
            }
            let Some((version, modinfo)) = parse(bytes) else {
                found.warnings.push(format!(
                    "/{path}: Go build information in a pre-1.18 format (not read)"
                ));
                continue;
            };
            for mut p in packages(&version, &modinfo) {
                p.seen.push(env.seen(path, entry));
                found.packages.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend([8u8, 2]);
        b.resize(HEADER, 0);
        b.push(version.len() as u8);
        b.extend(version.as_bytes());
        let framed = format!("{}{modinfo}{}", "S".repeat(16), "E".repeat(16));
        b.extend([
            (framed.len() & 0x7f) as u8 | 0x80,
            (framed.len() >> 7) as u8,
        ]);
        b.extend(framed.as_bytes());
        b
    }

    #[test]
    fn reads_inline_build_info_from_a_stream() {
        let modinfo = "path\texample.com/app\nmod\texample.com/app\tv1.2.3\th1:x\ndep\tgolang.org/x/sys\tv0.1.0\th1:y\ndep\tgithub.com/a/b\tv1.0.0\n=>\tgithub.com/fork/b\tv1.0.1\th1:z\nbuild\tGOOS=linux\n";
        let mut bin = vec![0u8; 100_000];
        bin.extend(blob("go1.22.5", modinfo));
        bin.extend(vec![1u8; 1000]);
        let got = extract(&mut bin.as_slice()).expect("io").expect("found");
        let (v, m) = parse(&got).expect("parsed");
        assert_eq!(v, "go1.22.5");
        let pkgs = packages(&v, &m);
        let purls: Vec<&str> = pkgs.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            purls,
            [
                "pkg:golang/example.com/app@v1.2.3",
                "pkg:golang/golang.org/x/sys@v0.1.0",
                "pkg:golang/github.com/fork/b@v1.0.1",
                "pkg:golang/stdlib@go1.22.5"
            ]
        );
        assert_eq!(
            pkgs[0].depends,
            ["golang.org/x/sys", "github.com/fork/b", "stdlib"]
        );
        assert!(extract(&mut [0u8; 10].as_slice()).expect("io").is_none());
    }
}
