//! `dockerfile-single-stage`: a one-stage Dockerfile that installs a compiler toolchain
//! ships that toolchain in the image.

use super::{Context, Rule, RuleMeta};
use crate::inputs::document::{Document, Kind};
use crate::report::Severity;

pub struct DockerfileSingleStage;

static META: RuleMeta = RuleMeta {
    id: "dockerfile-single-stage",
    summary: "single-stage build ships its compiler toolchain",
    help: "A compiler toolchain (`build-essential`, `gcc`, `make`, `rustup`, Go …) installed in \
           the only stage stays in the image: hundreds of megabytes, hundreds of packages for \
           scanners to report, and tools an intruder can use. Build in a first stage and \
           copy only the result into a slim final stage (`FROM … AS build`, then \
           `COPY --from=build`). A `RUN` that removes the toolchain it installed is not \
           flagged. cicd has no `info` severity: this rule's default is `low`.",
    help_url: "https://docs.docker.com/build/building/multi-stage/",
    default_severity: Severity::Low,
    online: false,
};

/// Packages (any package manager) and installers that bring a compiler toolchain.
const TOOLCHAIN: &[&str] = &[
    "build-essential",
    "gcc",
    "g++",
    "gcc-c++",
    "clang",
    "make",
    "cmake",
    "build-base",
    "golang",
    "golang-go",
    "rustc",
    "cargo",
    "rustup",
    "sh.rustup.rs",
    "gfortran",
    "musl-dev",
    "libc6-dev",
    "openjdk-17-jdk",
    "openjdk-21-jdk",
    "default-jdk",
    "maven",
];

const REMOVERS: &[&str] = &["purge", "remove", "del", "autoremove", "erase"];

/// The toolchain package a `RUN` installs (after `install`/`add` in one command of it) and
/// does not remove again in the same `RUN`.
fn installed_toolchain(args: &str) -> Option<&'static str> {
    let mut found = None;
    for command in args.split(['&', ';', '|']) {
        let words: Vec<&str> = command
            .split(|c: char| c.is_whitespace() || c == '\\')
            .filter(|w| !w.is_empty())
            .collect();
        if words.iter().any(|w| REMOVERS.contains(w)) {
            return None;
        }
        if words
            .iter()
            .any(|w| w.contains("sh.rustup.rs") || w.contains("rustup-init"))
        {
            found = found.or(Some("rustup"));
            continue;
        }
        let Some(at) = words.iter().position(|w| matches!(*w, "install" | "add")) else {
            continue;
        };
        found = found.or_else(|| {
            words[at + 1..].iter().find_map(|w| {
                let w = w.trim_matches(['"', '\'']);
                let name = w.split(['=', ':']).next().unwrap_or(w);
                TOOLCHAIN.iter().copied().find(|t| *t == name)
            })
        });
    }
    found
}

impl Rule for DockerfileSingleStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        if doc.source.kind != Kind::Dockerfile {
            return;
        }
        let froms = doc
            .instructions
            .iter()
            .filter(|i| i.keyword == "FROM")
            .count();
        if froms != 1 {
            return;
        }
        for ins in doc.instructions.iter().filter(|i| i.keyword == "RUN") {
            let Some(tool) = installed_toolchain(&ins.args) else {
                continue;
            };
            let offset = ins.args.find(tool).unwrap_or(0);
            let pos = ins.pos(offset);
            let location = doc.line_location(
                pos.line,
                pos.column,
                tool.chars().count(),
                "stages[0].run".into(),
            );
            cx.report(
                Severity::Low,
                &location,
                tool,
                format!("the only stage installs `{tool}` and ships it in the image"),
                "build in a first stage (`FROM … AS build`) and `COPY --from=build` only the result into a slim final stage".into(),
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::installed_toolchain;

    #[test]
    fn toolchains_installed_and_kept() {
        let t = installed_toolchain;
        assert_eq!(
            t("apt-get update && apt-get install -y build-essential libpq-dev"),
            Some("build-essential")
        );
        assert_eq!(t("apk add --no-cache gcc musl-dev"), Some("gcc"));
        assert_eq!(
            t("curl https://sh.rustup.rs -sSf | sh -s -- -y"),
            Some("rustup")
        );
        assert_eq!(
            t("dnf install -y gcc-c++ && dnf clean all"),
            Some("gcc-c++")
        );
        // Removed in the same RUN, or only run (not installed).
        assert_eq!(
            t("apk add --virtual .b gcc && pip install x && apk del .b"),
            None
        );
        assert_eq!(t("make install"), None);
        assert_eq!(t("apt-get install -y curl ca-certificates"), None);
        assert_eq!(t("pip install --no-cache-dir -r requirements.txt"), None);
    }
}
