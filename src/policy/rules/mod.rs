//! The rule seam: one file per rule, each declaring its metadata once and implementing
//! [`Rule`]; [`all`] is the only list that names them.

mod compose_default_credential;
mod compose_docker_socket;
mod compose_exposed_port;
mod compose_optional_secret;
mod compose_privileged;
mod dockerfile_root_user;
mod dockerfile_single_stage;
pub mod env_file;
mod excessive_permissions;
mod image_not_scanned;
mod impostor_commit;
mod pin_comment_mismatch;
mod scan_continue_on_error;
mod scan_not_gating;
mod support;
mod traefik_insecure_api;
mod unpinned_action;
mod unpinned_image;
mod unverifiable_image;

use std::borrow::Cow;

use globset::GlobSet;

use crate::inputs::document::{Document, Image, Uses};
use crate::policy::online::Facts;
use crate::report::{Finding, Location, RuleInfo, Severity};

/// What a rule is, declared once in the rule's own file.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub summary: &'static str,
    /// Why it matters and how to fix it, in Markdown.
    pub help: &'static str,
    pub help_url: &'static str,
    pub default_severity: Severity,
    /// Needs the network (skipped with `--offline`).
    pub online: bool,
}

impl RuleMeta {
    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            id: Cow::Borrowed(self.id),
            summary: Cow::Borrowed(self.summary),
            help: Cow::Borrowed(self.help),
            help_url: Cow::Borrowed(self.help_url),
            default_severity: self.default_severity,
            tags: &["security", "supply-chain"],
        }
    }
}

/// A policy rule. The default [`Rule::check`] walks a document's references; most rules
/// only implement the visitor they care about.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for uses in &doc.uses {
            self.check_uses(uses, cx);
        }
        for image in &doc.images {
            self.check_image(image, cx);
        }
    }

    fn check_uses(&self, _uses: &Uses, _cx: &mut Context<'_>) {}

    fn check_image(&self, _image: &Image, _cx: &mut Context<'_>) {}
}

/// A rule with its settings, as a check runs it.
pub type Configured = (Box<dyn Rule>, Settings);

/// Every rule, in reporting order. Adding a rule means adding it here and nowhere else.
pub fn all() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(unpinned_action::UnpinnedAction),
        Box::new(unpinned_image::UnpinnedImage),
        Box::new(pin_comment_mismatch::PinCommentMismatch),
        Box::new(impostor_commit::ImpostorCommit),
        Box::new(unverifiable_image::UnverifiableImage),
        Box::new(compose_exposed_port::ComposeExposedPort),
        Box::new(compose_docker_socket::ComposeDockerSocket),
        Box::new(compose_optional_secret::ComposeOptionalSecret),
        Box::new(compose_default_credential::ComposeDefaultCredential),
        Box::new(compose_privileged::ComposePrivileged),
        Box::new(traefik_insecure_api::TraefikInsecureApi),
        Box::new(dockerfile_root_user::DockerfileRootUser),
        Box::new(dockerfile_single_stage::DockerfileSingleStage),
        Box::new(scan_continue_on_error::ScanContinueOnError),
        Box::new(scan_not_gating::ScanNotGating),
        Box::new(image_not_scanned::ImageNotScanned),
        Box::new(excessive_permissions::ExcessivePermissions),
    ]
}

/// A rule's settings from `cicd.yaml`, compiled.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    pub enabled: bool,
    /// Replaces the severity the rule computes.
    pub severity: Option<Severity>,
    /// Names that may be pinned by tag (`owner/repo` for actions, image names for images).
    pub allow: GlobSet,
}

impl Settings {
    pub fn enabled() -> Self {
        Self {
            enabled: true,
            ..Self::default()
        }
    }

    pub fn allows(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.allow.is_match(n))
    }
}

/// What a rule reports into, and what it may consult.
pub struct Context<'a> {
    meta: &'static RuleMeta,
    pub settings: &'a Settings,
    findings: &'a mut Vec<Finding>,
    facts: Option<&'a Facts>,
}

impl<'a> Context<'a> {
    pub fn new(
        meta: &'static RuleMeta,
        settings: &'a Settings,
        findings: &'a mut Vec<Finding>,
        facts: Option<&'a Facts>,
    ) -> Self {
        Self {
            meta,
            settings,
            findings,
            facts,
        }
    }

    /// Facts fetched for the online rules; `None` when offline.
    pub fn facts(&self) -> Option<&'a Facts> {
        self.facts
    }

    pub fn report(
        &mut self,
        severity: Severity,
        location: &Location,
        subject: &str,
        message: String,
        fix: String,
    ) {
        self.findings.push(Finding {
            rule: Cow::Borrowed(self.meta.id),
            severity: self.settings.severity.unwrap_or(severity),
            message,
            location: Some(location.clone()),
            fix: Some(fix),
            subject: Some(subject.to_owned()),
            facts: None,
        });
    }
}
