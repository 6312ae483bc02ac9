//! Build platforms: the `os/arch[/variant]` strings `cicd build` accepts (the Go/OCI names
//! registries and runtimes know) and the `{os}`, `{arch}`, `{variant}`, `{platform}`
//! placeholders they fill in file paths.

use crate::oci::manifest::Platform;

const OSES: [&str; 2] = ["linux", "windows"];
const ARCHES: [&str; 8] = [
    "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le",
];

/// Parses and checks a platform; the error says what is accepted.
pub fn parse(s: &str) -> Result<Platform, String> {
    let bad = || {
        format!(
            "unknown platform `{s}`: expected os/arch[/variant] with os one of {} and arch one of {}",
            OSES.join(", "),
            ARCHES.join(", ")
        )
    };
    let p = Platform::parse(s).ok_or_else(bad)?;
    if !OSES.contains(&p.os.as_str()) || !ARCHES.contains(&p.architecture.as_str()) {
        return Err(bad());
    }
    match (p.architecture.as_str(), p.variant.as_deref()) {
        (_, None) | ("arm", Some("v5" | "v6" | "v7")) | ("arm64", Some("v8")) => Ok(p),
        _ => Err(bad()),
    }
}

/// `src` with the platform's placeholders filled in.
pub fn expand(src: &str, p: &Platform) -> String {
    src.replace("{os}", &p.os)
        .replace("{arch}", &p.architecture)
        .replace("{variant}", p.variant.as_deref().unwrap_or(""))
        .replace("{platform}", &p.to_string().replace('/', "_"))
}

/// Whether `src` names a different file per platform.
pub fn varies(src: &str) -> bool {
    ["{os}", "{arch}", "{variant}", "{platform}"]
        .iter()
        .any(|p| src.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_platforms_and_expands() {
        let p = parse("linux/arm64").expect("arm64");
        assert_eq!(expand("dist/{os}-{arch}/x", &p), "dist/linux-arm64/x");
        assert_eq!(
            expand("{platform}", &parse("linux/arm/v7").expect("v7")),
            "linux_arm_v7"
        );
        assert!(parse("linux/sparc").is_err());
        assert!(parse("linux").is_err());
        assert!(parse("linux/amd64/v9").is_err());
        assert!(parse("darwin/arm64").is_err());
        assert!(varies("a/{arch}") && !varies("a/b"));
    }
}
