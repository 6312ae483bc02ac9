//! Renders `templates/` with minijinja. The templates use `[[ ]]`/`[% %]` delimiters so
//! GitHub's own `${{ }}` expressions pass through untouched; every value taken from the
//! repository (image names, paths) goes through the `yaml` filter, which writes a quoted YAML
//! scalar, so no file name can add a key, a step or a line to what is written.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, Value};

use super::InitError;

const TEMPLATES: &[(&str, &str)] = &[
    ("cicd.yaml", include_str!("../../templates/cicd.yaml.j2")),
    ("ci.yml", include_str!("../../templates/ci.yml.j2")),
    (
        "release.yml",
        include_str!("../../templates/release.yml.j2"),
    ),
    (
        "promote.yml",
        include_str!("../../templates/promote.yml.j2"),
    ),
];

/// A double-quoted YAML scalar (JSON's string syntax is YAML's).
fn yaml(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned())
}

fn environment() -> Result<Environment<'static>, InitError> {
    let syntax = SyntaxConfig::builder()
        .block_delimiters("[%", "%]")
        .variable_delimiters("[[", "]]")
        .comment_delimiters("[#", "#]")
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| InitError::Template(e.to_string()))?;
    let mut env = Environment::new();
    env.set_syntax(syntax);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("yaml", yaml);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| InitError::Template(format!("templates/{name}.j2: {e}")))?;
    }
    Ok(env)
}

/// Renders template `name` (`cicd.yaml`, `ci.yml`, `release.yml`, `promote.yml`) with `ctx`.
pub fn render(name: &str, ctx: &Value) -> Result<String, InitError> {
    let env = environment()?;
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| InitError::Template(format!("templates/{name}.j2: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_filter_quotes_hostile_names() {
        assert_eq!(yaml("a\"b\n- run: x"), r#""a\"b\n- run: x""#);
    }

    #[test]
    fn github_expressions_pass_through() {
        let ctx = minijinja::context! { pins => minijinja::context! {
        checkout => "c", cicd => "d", upload_sarif => "u", trivy => "t" } };
        let ci = render("ci.yml", &ctx).expect("renders");
        assert!(ci.contains("${{ github.workflow }}-${{ github.ref }}"));
        assert!(ci.contains("uses: c\n"));
    }
}
