//! Reading a repository's files with spans: discovery ([`discover`]), the YAML span tree
//! ([`yaml`]), and typed readers for workflows and actions, compose files and Dockerfiles that
//! turn a file into a [`document::Document`] of `uses:` references and images. `cicd check`,
//! `cicd pin` and `cicd.yaml` loading all read through here.

pub mod compose;
pub mod discover;
pub mod dockerfile;
pub mod document;
pub mod expr;
pub mod input;
pub mod interpolate;
pub mod matrix;
pub mod uses;
pub mod workflow;
pub mod yaml;
