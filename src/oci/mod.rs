//! Container images: references now; registries, layouts and copies as they arrive.

pub mod reference;
