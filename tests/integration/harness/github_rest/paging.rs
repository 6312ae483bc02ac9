//! GitHub's paging for list answers: `per_page` (default 30, at most 100) and `page`, with a
//! `Link` header naming the next and last pages on the API host, as api.github.com does.

use serde_json::Value;

/// Cuts a list answer to the page `query` asks for; the `Link` header line when there are
/// more pages (empty otherwise). Non-list answers are left whole.
pub fn page(origin: &str, path: &str, query: &str, body: Value) -> (Value, String) {
    let Value::Array(items) = body else {
        return (body, String::new());
    };
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let per_page = param("per_page").unwrap_or(30).clamp(1, 100);
    let page = param("page").unwrap_or(1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link = |n: usize, rel: &str| {
        format!("<{origin}{path}?per_page={per_page}&page={n}>; rel=\"{rel}\"")
    };
    let header = if page < last {
        format!(
            "Link: {}, {}\r\n",
            link(page + 1, "next"),
            link(last, "last")
        )
    } else {
        String::new()
    };
    (Value::Array(slice), header)
}
