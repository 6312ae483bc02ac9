//! How a native build cuts its files into layers. In the order `cicd.yaml` lists them, a
//! layer is closed once it holds at least [`TARGET`] bytes of file data — or a
//! [`MAX_LAYERS`]th of all of them, when that is more — so a build never adds more than
//! about [`MAX_LAYERS`] layers per kind (shared, per platform).
//!
//! Why several layers: a registry commits a blob when its upload ends (docker-registry
//! syncs it to disk then), and a layer can only be hashed, named and committed once all of
//! it is compressed. With one layer of 800 MiB per platform, the registry's commit of all
//! of it comes after the last byte; with layers of ~64 MiB, each is committed while the
//! next is compressed, the machine's cores share the layers evenly, a client pulls them in
//! parallel, and a rebuild sends again only the layers whose files changed (see `reuse`).
//! The cut depends only on the files' order and sizes: the same inputs give the same layers.

/// A layer is closed once it holds this many bytes of file data.
pub const TARGET: u64 = 64 << 20;
/// A build's files of one kind go in about this many layers at most.
pub const MAX_LAYERS: u64 = 16;

/// `items` (each with its size in bytes) cut into layers, in order; no layer is empty, and
/// no items means no layers.
pub fn groups<T: Clone>(items: &[(T, u64)]) -> Vec<Vec<T>> {
    let total: u64 = items.iter().map(|(_, size)| *size).sum();
    let target = TARGET.max(total.div_ceil(MAX_LAYERS));
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut held = 0u64;
    for (item, size) in items {
        current.push(item.clone());
        held = held.saturating_add(*size);
        if held >= target {
            out.push(std::mem::take(&mut current));
            held = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn sizes(groups: &[Vec<(usize, u64)>]) -> Vec<u64> {
        groups
            .iter()
            .map(|g| g.iter().map(|(_, s)| s).sum())
            .collect()
    }

    fn cut(sizes_mib: &[u64]) -> Vec<Vec<(usize, u64)>> {
        let items: Vec<((usize, u64), u64)> = sizes_mib
            .iter()
            .enumerate()
            .map(|(i, s)| ((i, s * MIB), s * MIB))
            .collect();
        groups(&items)
    }

    #[test]
    fn small_payloads_stay_one_layer_and_nothing_gives_no_layer() {
        assert_eq!(cut(&[20]).len(), 1);
        assert_eq!(cut(&[1, 2, 3, 50]).len(), 1);
        assert!(cut(&[]).is_empty());
        assert_eq!(cut(&[0, 0]).len(), 1);
    }

    #[test]
    fn a_layer_closes_at_the_target_and_keeps_the_order() {
        let g = cut(&[20; 40]);
        // 800 MiB: a layer every 4 files (80 MiB >= 64 MiB), 10 layers.
        assert_eq!(g.len(), 10);
        assert!(sizes(&g).iter().all(|s| *s == 80 * MIB));
        let order: Vec<usize> = g.iter().flatten().map(|(i, _)| *i).collect();
        assert_eq!(order, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn a_file_above_the_target_is_a_layer_of_its_own_or_closes_one() {
        let g = cut(&[10, 200, 10]);
        assert_eq!(sizes(&g), vec![210 * MIB, 10 * MIB]);
        let g = cut(&[200, 10]);
        assert_eq!(sizes(&g), vec![200 * MIB, 10 * MIB]);
    }

    #[test]
    fn huge_payloads_grow_the_layers_instead_of_their_number() {
        // 400 files of 20 MiB (8000 MiB): target 500 MiB, 16 layers.
        let g = cut(&[20; 400]);
        assert_eq!(g.len(), 16);
        // Uneven sizes never give much more than MAX_LAYERS + 1 layers.
        let mixed: Vec<u64> = (0..1000).map(|i| 1 + (i * 37) % 90).collect();
        assert!(cut(&mixed).len() as u64 <= MAX_LAYERS + 1);
    }

    #[test]
    fn the_cut_is_a_function_of_order_and_sizes() {
        let a = cut(&[30, 30, 30, 30, 5]);
        let b = cut(&[30, 30, 30, 30, 5]);
        assert_eq!(a, b);
        assert_eq!(sizes(&a), vec![90 * MIB, 35 * MIB]);
    }
}
