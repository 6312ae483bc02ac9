//! Container images: references and transports, OCI image layouts, the registry client with
//! its auth and retries, the [`store::Store`] images are read from and written to (verified
//! blob streams, manifests by digest or tag), the names attachments live under
//! (`attach`), and the copy/tag/inspect operations built on them. Knows nothing of GitHub
//! or the command line: credentials beyond the standard files and variables are passed in
//! as [`auth::Sources`].

pub mod attach;
pub mod auth;
pub mod blob;
pub mod challenge;
pub mod confine;
pub mod copy;
pub mod digest;
pub mod distribution;
pub mod error;
pub mod inspect;
pub mod layout;
pub mod login;
pub mod manifest;
pub mod progress;
pub mod reference;
pub mod referrers;
pub mod registry;
pub use crate::http::retry;
pub mod store;
pub mod tag;
pub mod transfer;
pub mod transport;
pub mod upload;
