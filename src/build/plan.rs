//! `cicd plan matrix`: the `strategy.matrix` JSON for a dynamic fan-out job — one entry per
//! image × platform with the runner label that builds it natively.

use serde::Serialize;

use crate::config::images::ImageSpec;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub image: String,
    pub platform: String,
    /// `linux/arm64` → `linux-arm64`, for artifact and record names.
    pub slug: String,
    pub runner: String,
}

#[derive(Debug, Serialize)]
pub struct Matrix {
    pub include: Vec<Entry>,
}

/// GitHub-hosted runners that run each architecture natively.
pub fn default_runner(platform: &str) -> &'static str {
    match platform.split('/').nth(1) {
        Some("arm64" | "arm") => "ubuntu-24.04-arm",
        _ => "ubuntu-latest",
    }
}

/// Every image (or only `only`) × platform; `runners:` in the image overrides the default.
pub fn matrix(images: &[ImageSpec], only: Option<&str>) -> Matrix {
    let include = images
        .iter()
        .filter(|i| only.is_none_or(|o| o == i.name))
        .flat_map(|i| {
            i.platforms.iter().map(|p| Entry {
                image: i.name.clone(),
                platform: p.clone(),
                slug: p.replace('/', "-"),
                runner: i
                    .runners
                    .get(p)
                    .cloned()
                    .unwrap_or_else(|| default_runner(p).to_owned()),
            })
        })
        .collect();
    Matrix { include }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_uses_native_runners_and_overrides() {
        let images: Vec<ImageSpec> = yaml_serde::from_str(
            "- {name: a, platforms: [linux/amd64, linux/arm64], native: {}, runners: {linux/amd64: big}}\n- {name: b, platforms: [linux/arm64], native: {}}",
        )
        .expect("images");
        let m = matrix(&images, None);
        let got: Vec<(&str, &str)> = m
            .include
            .iter()
            .map(|e| (e.platform.as_str(), e.runner.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("linux/amd64", "big"),
                ("linux/arm64", "ubuntu-24.04-arm"),
                ("linux/arm64", "ubuntu-24.04-arm")
            ]
        );
        assert_eq!(matrix(&images, Some("b")).include.len(), 1);
    }
}
