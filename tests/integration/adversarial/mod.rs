//! The adversarial module: cicd used as a hostile user would (empty, truncated and huge inputs,
//! symlinks leaving the tree, values holding newlines and `::`, servers that accept and never
//! answer). Each test guards one defect and names the issue and item it came from; later issues
//! keep growing these files, one per area.

mod audit;
mod build;
mod cli;
mod endless;
mod gate;
mod http;
mod init;
mod inputs;
mod keyless;
mod oci;
mod promote;
mod release;
mod sbom;
mod sbom_attached;
mod sign;
mod stall;
mod version;
