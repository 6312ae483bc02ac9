//! The names artifacts are attached to an image under, in one place: cosign's tag scheme
//! (`sha256-<hex>.sig`, `.att`, `.sbom`) and the OCI 1.1 referrers tag-schema fallback
//! (`sha256-<hex>`, an index listing the referrers where a registry has no referrers API).

use super::digest::Digest;

/// What cosign attaches to a manifest under a tag of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    Signature,
    Attestation,
    Sbom,
}

impl Attachment {
    pub const ALL: [Attachment; 3] = [
        Attachment::Signature,
        Attachment::Attestation,
        Attachment::Sbom,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Attachment::Signature => ".sig",
            Attachment::Attestation => ".att",
            Attachment::Sbom => ".sbom",
        }
    }

    /// The tag cosign stores this attachment of `subject` under: `sha256-<hex>.sig` and so on.
    pub fn tag(self, subject: &Digest) -> String {
        format!("{}{}", referrers_tag(subject), self.suffix())
    }
}

/// The referrers tag-schema fallback tag for `subject` (distribution spec 1.1): `sha256-<hex>`.
pub fn referrers_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm(), subject.hex())
}

/// Every tag something may be attached to `subject` under: cosign's three, then the
/// referrers fallback.
pub fn tags(subject: &Digest) -> [String; 4] {
    [
        Attachment::Signature.tag(subject),
        Attachment::Attestation.tag(subject),
        Attachment::Sbom.tag(subject),
        referrers_tag(subject),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_cosign() {
        let d = Digest::of(b"image");
        let hex = d.hex().to_owned();
        assert_eq!(Attachment::Signature.tag(&d), format!("sha256-{hex}.sig"));
        assert_eq!(Attachment::Attestation.tag(&d), format!("sha256-{hex}.att"));
        assert_eq!(Attachment::Sbom.tag(&d), format!("sha256-{hex}.sbom"));
        assert_eq!(referrers_tag(&d), format!("sha256-{hex}"));
        assert_eq!(tags(&d).len(), Attachment::ALL.len() + 1);
        // Every name is a valid tag.
        for t in tags(&d) {
            assert!(crate::oci::reference::validate_tag(&t).is_ok(), "{t}");
        }
    }
}
