//! Container images: references and transports, OCI image layouts, the registry client with
//! its auth and retries, and the copy/tag/inspect operations built on them. Knows nothing of
//! GitHub or the command line.

pub mod auth;
pub mod challenge;
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
pub mod registry;
pub use crate::http::retry;
pub mod store;
pub mod transfer;
pub mod transport;
