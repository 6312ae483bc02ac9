//! Releases: the next version from conventional commits, the changelog, the git tag, and the
//! image tag scheme. `cicd release`'s pipeline (GitHub release, assets, plan) builds on these.

pub mod tags;
