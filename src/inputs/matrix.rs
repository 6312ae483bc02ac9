//! Static expansion of `${{ matrix.x }}` and `${{ env.X }}` in workflow values, so an image
//! chosen by a matrix is checked once per value, at the place the value is written: object
//! values (`matrix.image.container`), literals in expressions, and what only the run knows.

use crate::inputs::expr::{Operand, values};
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
    /// Set when the value is decided at run time: the expression(s) that decide it; `value`
    /// is then the node as written.
    pub dynamic: Option<String>,
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

/// What a variable reference resolves to in one combination.
enum Lookup<'a> {
    Value(&'a str, &'a Node, String),
    /// Not in this combination (GitHub gives an empty string): no image.
    Absent,
    /// Decided at run time.
    Dynamic(String),
}

/// A mapping's value by key, ignoring ASCII case as GitHub's property access does.
fn get_ci<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.get(key).or_else(|| {
        node.entries()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
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

    /// Every value `node` (at `path`) takes, plus one dynamic expansion naming the
    /// expressions only the run knows (inputs, vars, `fromJSON`, …). A node without
    /// expressions expands to itself; `None` for a node that is not a scalar.
    pub fn expand(&self, node: &'a Node, path: &str) -> Option<Vec<Expansion<'a>>> {
        let text = node.as_str()?;
        let parts = split_template(text);
        let plain = |value: String, dynamic: Option<String>| Expansion {
            value,
            node,
            path: path.to_owned(),
            via: None,
            dynamic,
        };
        if parts.iter().all(|p| matches!(p, Part::Text(_))) {
            return Some(vec![plain(text.to_owned(), None)]);
        }
        let single = match parts.as_slice() {
            [Part::Expr(e)] => match values(e).as_slice() {
                [Operand::Var(ns, p)] => Some((*ns, p.clone())),
                _ => None,
            },
            _ => None,
        };
        let mut out: Vec<Expansion<'a>> = Vec::new();
        let mut dynamic: Vec<String> = Vec::new();
        // One matrix variable alone: every value written for it counts, even one a later
        // `include` entry overwrites, because the file still names it.
        if let (Some(("matrix", props)), Some(written)) = (&single, &self.written) {
            for v in written
                .iter()
                .filter(|v| v.name.eq_ignore_ascii_case(props[0]))
            {
                match resolve(v, &props[1..]) {
                    Lookup::Value(value, at, at_path) => out.push(Expansion {
                        value: value.to_owned(),
                        node: at,
                        path: at_path,
                        via: Some(format!("matrix.{}", props.join("."))),
                        dynamic: None,
                    }),
                    Lookup::Dynamic(d) => dynamic.push(d),
                    Lookup::Absent => {}
                }
            }
            push_dynamic(&mut out, dynamic, plain);
            return Some(out);
        }
        let no_matrix = [Vec::new()];
        let combos: &[Vec<Var<'a>>] = match self.combinations.as_deref() {
            Some(c) if !c.is_empty() => c,
            _ => &no_matrix,
        };
        for combo in combos {
            let mut partial: Vec<(String, Option<(&'a Node, String)>)> =
                vec![(String::new(), None)];
            for part in &parts {
                match part {
                    Part::Text(t) => partial.iter_mut().for_each(|p| p.0.push_str(t)),
                    Part::Expr(e) => {
                        let mut next = Vec::new();
                        for op in values(e) {
                            let (piece, at) = match op {
                                Operand::Literal(l) => (l, None),
                                Operand::Dynamic(d) => {
                                    dynamic.push(d.to_owned());
                                    continue;
                                }
                                Operand::Var(ns, props) => match self.lookup(combo, ns, &props) {
                                    Lookup::Value(v, n, p) => (v.to_owned(), Some((n, p))),
                                    Lookup::Absent => continue,
                                    Lookup::Dynamic(d) => {
                                        dynamic.push(d);
                                        continue;
                                    }
                                },
                            };
                            for (value, source) in &partial {
                                next.push((
                                    format!("{value}{piece}"),
                                    at.clone().or(source.clone()),
                                ));
                            }
                        }
                        next.truncate(MAX_COMBINATIONS);
                        partial = next;
                    }
                }
            }
            for (value, source) in partial {
                let (at, at_path) = match (&single, source) {
                    (Some(_), Some((n, p))) => (n, p),
                    _ => (node, path.to_owned()),
                };
                if !out
                    .iter()
                    .any(|e| e.value == value && std::ptr::eq(e.node, at))
                {
                    out.push(Expansion {
                        value,
                        node: at,
                        path: at_path,
                        via: single
                            .as_ref()
                            .map(|(ns, p)| format!("{ns}.{}", p.join(".")))
                            .or_else(|| Some(text.to_owned())),
                        dynamic: None,
                    });
                }
            }
        }
        push_dynamic(&mut out, dynamic, plain);
        Some(out)
    }

    /// `matrix.a.b` or `env.X` in one combination.
    fn lookup(&self, combo: &[Var<'a>], ns: &str, props: &[&str]) -> Lookup<'a> {
        let written = format!("{ns}.{}", props.join("."));
        if ns == "matrix" && self.combinations.is_none() {
            return Lookup::Dynamic(written);
        }
        let vars = if ns == "matrix" { combo } else { &self.env };
        match vars.iter().find(|v| v.name.eq_ignore_ascii_case(props[0])) {
            Some(var) => resolve(var, &props[1..]),
            None if ns == "matrix" => Lookup::Absent,
            None => Lookup::Dynamic(written),
        }
    }
}

/// A variable's value after property access (`matrix.image.container`).
fn resolve<'a>(var: &Var<'a>, props: &[&str]) -> Lookup<'a> {
    let mut node = var.node;
    let mut path = var.path.clone();
    for p in props {
        match get_ci(node, p) {
            Some(n) => {
                node = n;
                path = format!("{path}.{p}");
            }
            None => return Lookup::Absent,
        }
    }
    match node.as_str() {
        // A value that is itself an expression is not static.
        Some(t) if t.contains("${{") => Lookup::Dynamic(t.trim().to_owned()),
        Some(t) => Lookup::Value(t, node, path),
        None => Lookup::Absent,
    }
}

/// One expansion for everything only the run knows, naming each expression once.
fn push_dynamic<'a>(
    out: &mut Vec<Expansion<'a>>,
    dynamic: Vec<String>,
    plain: impl Fn(String, Option<String>) -> Expansion<'a>,
) {
    let mut seen: Vec<String> = Vec::new();
    for d in dynamic {
        if !seen.contains(&d) {
            seen.push(d);
        }
    }
    if !seen.is_empty() {
        let mut e = plain(String::new(), Some(seen.join("`, `")));
        e.value = e.node.as_str().unwrap_or_default().to_owned();
        out.push(e);
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Part<'t> {
    Text(&'t str),
    /// The inside of one `${{ … }}`.
    Expr(&'t str),
}

/// Splits `a-${{ matrix.x }}-b`; an unterminated `${{` is text (GitHub refuses the file).
fn split_template(text: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        if start > 0 {
            parts.push(Part::Text(&rest[..start]));
        }
        parts.push(Part::Expr(after[..end].trim()));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    parts
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
        scope.expand(node, "container").map(|v| {
            v.into_iter()
                .map(|e| match e.dynamic {
                    Some(d) => (format!("?{d}"), e.path),
                    None => (e.value, e.path),
                })
                .collect()
        })
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
    fn unknown_expressions_are_dynamic() {
        let dynamic = |doc: &str, t: &str| {
            let got = values(doc, t).expect("scalar");
            got.into_iter().map(|(v, _)| v).collect::<Vec<_>>()
        };
        assert_eq!(
            dynamic("matrix: {}", "${{ inputs.image }}"),
            ["?inputs.image"]
        );
        assert_eq!(dynamic("x: 1", "${{ matrix.image }}"), ["?matrix.image"]);
        assert_eq!(
            dynamic("matrix: ${{ fromJSON(x) }}", "${{ matrix.image }}"),
            ["?matrix.image"]
        );
        assert_eq!(dynamic("x: 1", "alpine:3"), ["alpine:3"]);
        assert_eq!(
            dynamic("x: 1", "${{ inputs.image || 'ghcr.io/o/i:1' }}"),
            ["ghcr.io/o/i:1", "?inputs.image"]
        );
        assert_eq!(
            dynamic("x: 1", "${{ inputs.redis == 'true' && 'redis:7' || '' }}"),
            ["redis:7", ""]
        );
    }

    /// See: issue 10 (object-valued matrix entries, include-only matrices).
    #[test]
    fn object_values_and_include_only() {
        let doc = "matrix:\n  IMAGE:\n    - {IMAGE: rhel8, X: 1}\n    - {IMAGE: 'alpine:3.20'}\n";
        let got = values(doc, "ghcr.io/pyca/runner-${{ matrix.IMAGE.IMAGE }}").expect("static");
        let vals: Vec<_> = got.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(
            vals,
            [
                "ghcr.io/pyca/runner-rhel8",
                "ghcr.io/pyca/runner-alpine:3.20"
            ]
        );
        let doc = "matrix:\n  include:\n    - image: {container: 'node:20'}\n    - image: {container: 'node:22'}\n";
        let got = values(doc, "${{ matrix.image.container }}").expect("static");
        assert_eq!(
            got,
            vec![
                (
                    "node:20".into(),
                    "strategy.matrix.include[0].image.container".into()
                ),
                (
                    "node:22".into(),
                    "strategy.matrix.include[1].image.container".into()
                ),
            ]
        );
    }
}
