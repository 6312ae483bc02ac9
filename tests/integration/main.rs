//! Integration tests: the real `cicd` binary against fixtures and real tools.

mod adversarial;
mod build;
mod check_bad_input;
mod check_config;
mod check_fixtures;
mod check_formats;
mod check_github_actions;
mod cli;
mod docs;
mod fixture_schemas;
mod harness;
mod image_auth;
mod image_copy;
mod image_faults;
mod image_output;
mod image_referrers;
mod image_store;
mod online_rules;
mod pin;
mod pin_images;
mod release;
mod sbom;
mod sign;
mod trivy;
mod version;
