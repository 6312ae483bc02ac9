//! Static expansion of `${{ matrix.x }}` and `${{ env.X }}` in workflow values, so an image
//! chosen by a matrix is checked once per value, at the place the value is written.

use crate::inputs::yaml::Node;

/// GitHub's own cap on jobs a matrix may generate.
const MAX_COMBINATIONS: usize = 256;

/// One concrete value a templated node takes.
#[derive(Debug)]
pub struct Expansion<'a> {
    pub value: String,
    /// Where the value is written: the matrix entry when it comes from one variable alone,
    /// otherwise the templated node itself.
    pub node: &'a Node,
    /// Symbolic path of `node`.
    pub path: String,
    /// The variable it was expanded from, e.g. `matrix.image`.
    pub via: Option<String>,
}

/// Variables visible to one job: its matrix combinations and its (and the workflow's) `env`.
#[derive(Debug, Default)]
pub struct Scope<'a> {
    combinations: Option<Vec<Vec<Var<'a>>>>,
    /// Every value written in the matrix (axes and `include` entries), in order.
    written: Option<Vec<Var<'a>>>,
    env: Vec<Var<'a>>,
}

#[derive(Clone, Debug)]
struct Var<'a> {
    name: &'a str,
    node: &'a Node,
    path: String,
}

impl<'a> Scope<'a> {
    /// `matrix` is `jobs.<id>.strategy.matrix`, at `matrix_path`; `envs` are the workflow's
    /// and then the job's `env:` mappings with their paths (later ones win).
    pub fn new(matrix: Option<(&'a Node, String)>, envs: &[(&'a Node, String)]) -> Self {
        let mut env: Vec<Var<'a>> = Vec::new();
        for (map, path) in envs {
            for (name, node) in map.entries() {
                env.retain(|v| v.name != name);
                env.push(Var {
                    name,
                    node,
                    path: format!("{path}.{name}"),
                });
            }
        }
        Self {
            combinations: matrix.as_ref().and_then(|(m, p)| combinations(m, p)),
            written: matrix.as_ref().and_then(|(m, p)| written_values(m, p)),
            env,
        }
    }

    /// Every value `node` (at `path`) takes; `None` when it cannot be known statically
    /// (inputs, secrets, `fromJSON`, …). A node without expressions expands to itself.
    pub fn expand(&self, node: &'a Node, path: &str) -> Option<Vec<Expansion<'a>>> {
        let text = node.as_str()?;
        let parts = split_template(text)?;
        if parts.iter().all(|p| matches!(p, Part::Text(_))) {
            return Some(vec![Expansion {
                value: text.to_owned(),
                node,
                path: path.to_owned(),
                via: None,
            }]);
        }
        let single = match parts.as_slice() {
            [Part::Var(ns, name)] => Some(format!("{ns}.{name}")),
            _ => None,
        };
        // One matrix variable alone: every value written for it counts, even one a later
        // `include` entry overwrites, because the file still names it.
        if let [Part::Var("matrix", name)] = parts.as_slice() {
            let values = self.written.as_ref()?;
            return Some(
                values
                    .iter()
                    .filter(|v| v.name == *name)
                    .filter_map(|v| {
                        let value = v.node.as_str().filter(|t| !t.contains("${{"))?;
                        Some(Expansion {
                            value: value.to_owned(),
                            node: v.node,
                            path: v.path.clone(),
                            via: Some(format!("matrix.{name}")),
                        })
                    })
                    .collect(),
            );
        }
        let needs_matrix = parts.iter().any(|p| matches!(p, Part::Var("matrix", _)));
        let no_matrix = [Vec::new()];
        let combos: &[Vec<Var<'a>>] = match (&self.combinations, needs_matrix) {
            (Some(c), _) => c,
            (None, true) => return None,
            (None, false) => &no_matrix,
        };
        let mut out: Vec<Expansion<'a>> = Vec::new();
        for combo in combos {
            let mut value = String::new();
            let mut source: Option<&Var<'a>> = None;
            for part in &parts {
                match part {
                    Part::Text(t) => value.push_str(t),
                    Part::Var(ns, name) => {
                        let vars = if *ns == "matrix" { combo } else { &self.env };
                        let var = vars.iter().find(|v| v.name == *name)?;
                        // A value that is itself an expression is not static.
                        let text = var.node.as_str().filter(|t| !t.contains("${{"))?;
                        value.push_str(text);
                        source = Some(var);
                    }
                }
            }
            let (node, path) = match (&single, source) {
                (Some(_), Some(var)) => (var.node, var.path.clone()),
                _ => (node, path.to_owned()),
            };
            if !out
                .iter()
                .any(|e| e.value == value && std::ptr::eq(e.node, node))
            {
                out.push(Expansion {
                    value,
                    node,
                    path,
                    via: single.clone().or_else(|| Some(text.to_owned())),
                });
            }
        }
        Some(out)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Part<'t> {
    Text(&'t str),
    /// `(namespace, name)` for `matrix.name` / `env.name`.
    Var(&'static str, &'t str),
}

/// Splits `a-${{ matrix.x }}-b`; `None` when an expression is anything but a plain
/// `matrix.NAME` or `env.NAME`.
fn split_template(text: &str) -> Option<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        if start > 0 {
            parts.push(Part::Text(&rest[..start]));
        }
        let after = &rest[start + 3..];
        let end = after.find("}}")?;
        let expr = after[..end].trim();
        let (ns, name) = expr.split_once('.')?;
        let ident = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !ident(name) {
            return None;
        }
        let ns = match ns {
            "matrix" => "matrix",
            "env" => "env",
            _ => return None,
        };
        parts.push(Part::Var(ns, name));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Some(parts)
}

/// The job combinations of a static matrix, following GitHub's `include`/`exclude` rules;
/// `None` when the matrix is itself an expression or too large to enumerate.
fn combinations<'a>(matrix: &'a Node, path: &str) -> Option<Vec<Vec<Var<'a>>>> {
    if !matrix.is_map() {
        return None;
    }
    let mut combos: Vec<Vec<Var<'a>>> = vec![Vec::new()];
    let mut axes: Vec<&str> = Vec::new();
    for (name, values) in matrix.entries() {
        if name == "include" || name == "exclude" {
            continue;
        }
        let values = values.as_seq()?;
        axes.push(name);
        let mut next = Vec::new();
        for combo in &combos {
            for (i, value) in values.iter().enumerate() {
                let mut c = combo.clone();
                c.push(Var {
                    name,
                    node: value,
                    path: format!("{path}.{name}[{i}]"),
                });
                next.push(c);
            }
        }
        if next.len() > MAX_COMBINATIONS {
            return None;
        }
        combos = next;
    }
    if axes.is_empty() {
        combos.clear();
    }
    if let Some(exclude) = matrix.get("exclude").and_then(Node::as_seq) {
        combos.retain(|combo| !exclude.iter().any(|ex| matches_entry(combo, ex)));
    }
    let originals = combos.len();
    if let Some(include) = matrix.get("include").and_then(Node::as_seq) {
        for (i, entry) in include.iter().enumerate() {
            let vars: Vec<Var<'a>> = entry
                .entries()
                .into_iter()
                .map(|(name, node)| Var {
                    name,
                    node,
                    path: format!("{path}.include[{i}].{name}"),
                })
                .collect();
            let mut added = false;
            for combo in combos.iter_mut().take(originals) {
                let fits = vars.iter().filter(|v| axes.contains(&v.name)).all(|v| {
                    combo
                        .iter()
                        .find(|c| c.name == v.name)
                        .is_none_or(|c| c.node.as_str() == v.node.as_str())
                });
                if fits {
                    for v in vars.iter().filter(|v| !axes.contains(&v.name)) {
                        combo.retain(|c| c.name != v.name);
                        combo.push(v.clone());
                    }
                    added = true;
                }
            }
            if !added {
                combos.push(vars);
            }
            if combos.len() > MAX_COMBINATIONS {
                return None;
            }
        }
    }
    Some(combos)
}

/// Every value of a static matrix: axis values, then `include` entries' values.
fn written_values<'a>(matrix: &'a Node, path: &str) -> Option<Vec<Var<'a>>> {
    if !matrix.is_map() {
        return None;
    }
    let mut out = Vec::new();
    for (name, values) in matrix.entries() {
        match name {
            "exclude" => {}
            "include" => {
                for (i, entry) in values.as_seq().unwrap_or_default().iter().enumerate() {
                    for (key, node) in entry.entries() {
                        out.push(Var {
                            name: key,
                            node,
                            path: format!("{path}.include[{i}].{key}"),
                        });
                    }
                }
            }
            _ => {
                for (i, node) in values.as_seq().unwrap_or_default().iter().enumerate() {
                    out.push(Var {
                        name,
                        node,
                        path: format!("{path}.{name}[{i}]"),
                    });
                }
            }
        }
    }
    Some(out)
}

fn matches_entry(combo: &[Var<'_>], entry: &Node) -> bool {
    let entries = entry.entries();
    !entries.is_empty()
        && entries.iter().all(|(name, value)| {
            combo.iter().any(|c| {
                c.name == *name && c.node.as_str().is_some() && c.node.as_str() == value.as_str()
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::yaml;

    fn values(doc: &str, template: &str) -> Option<Vec<(String, String)>> {
        let docs = yaml::parse(doc).expect("yaml");
        let root = &docs[0];
        let matrix = root
            .get("matrix")
            .map(|m| (m, "strategy.matrix".to_owned()));
        let envs: Vec<(&Node, String)> = root
            .get("env")
            .map(|e| (e, "env".to_owned()))
            .into_iter()
            .collect();
        let scope = Scope::new(matrix, &envs);
        let tdocs = yaml::parse(&format!("t: \"{template}\"")).expect("yaml");
        let node = tdocs[0].get("t").expect("t");
        scope
            .expand(node, "container")
            .map(|v| v.into_iter().map(|e| (e.value, e.path)).collect())
    }

    #[test]
    fn expands_axis_and_include() {
        let doc = "matrix:\n  image: [a:1, b:2]\n  include:\n    - image: c:3\n    - image: a:1\n      extra: x\n";
        let got = values(doc, "${{ matrix.image }}").expect("static");
        assert_eq!(
            got,
            vec![
                ("a:1".into(), "strategy.matrix.image[0]".into()),
                ("b:2".into(), "strategy.matrix.image[1]".into()),
                ("c:3".into(), "strategy.matrix.include[0].image".into()),
                ("a:1".into(), "strategy.matrix.include[1].image".into()),
            ]
        );
    }

    #[test]
    fn exclude_and_templates() {
        let doc = "matrix:\n  os: [debian, alpine]\n  v: ['1', '2']\n  exclude:\n    - os: alpine\n      v: '1'\nenv:\n  REG: ghcr.io\n";
        let got = values(doc, "${{ env.REG }}/${{ matrix.os }}:${{ matrix.v }}").expect("static");
        let vals: Vec<_> = got.into_iter().map(|(v, _)| v).collect();
        assert_eq!(
            vals,
            ["ghcr.io/debian:1", "ghcr.io/debian:2", "ghcr.io/alpine:2"]
        );
    }

    #[test]
    fn unknown_expressions_are_unresolved() {
        assert!(values("matrix: {}", "${{ inputs.image }}").is_none());
        assert!(values("x: 1", "${{ matrix.image }}").is_none());
        assert!(values("matrix: ${{ fromJSON(x) }}", "${{ matrix.image }}").is_none());
        assert_eq!(values("x: 1", "alpine:3").expect("static").len(), 1);
    }
}
