//! Layers come from registries and layouts nobody vouches for: the layer walker must never
//! panic on any bytes (as tar, gzip or zstd), and the catalogers never on the tree it builds.
#![no_main]

use cicd::oci::digest::Digest;
use cicd::sbom::catalogers;
use cicd::sbom::tree::Tree;
use cicd::sbom::walk::{Layer, apply_layer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut tree = Tree::default();
    let digest = Digest::of(data);
    let layer = Layer {
        index: 0,
        digest: &digest,
        size: data.len() as u64,
        image: "fuzz",
    };
    let _ = apply_layer(&mut tree, &layer, data, catalogers::WANTS);
    let _ = catalogers::run(&tree, &[digest.to_string()]);
});
