//! The adversarial module: cicd used as a hostile user would (empty, truncated and huge inputs,
//! symlinks leaving the tree, values holding newlines and `::`, servers that accept and never
//! answer). Each test guards one defect and names the issue and item it came from; later issues
//! keep growing these files, one per area.

mod build;
mod cli;
mod gate;
mod http;
mod inputs;
mod oci;
mod release;
mod sbom;
mod sign;
mod version;
