//! An instrumented copy of the built app: the same files, with a benchmark script run first in `index.html`
//! (before the app's module script). The app's code is untouched.

use std::path::Path;

use anyhow::Context;

/// Copies `dist` into a fresh directory, inserting `<script>{script}</script>` at the start of the document's
/// head, and returns the directory (deleted when dropped).
pub fn instrumented_dist(dist: &Path, script: &str) -> anyhow::Result<tempfile::TempDir> {
    let copy = tempfile::tempdir()?;
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let entry = entry?;
        // The server precompresses the copy at start: the originals' `.br` and `.gz` would be stale for a
        // changed index.html.
        let name = entry.file_name();
        let precompressed = name.to_str().is_some_and(|n| n.ends_with(".br") || n.ends_with(".gz"));
        if entry.file_type()?.is_file() && !precompressed {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name()))?;
        }
    }
    let index = copy.path().join("index.html");
    let html = std::fs::read_to_string(&index).context("dist/index.html")?;
    std::fs::write(&index, inject(&html, script))?;
    Ok(copy)
}

/// `html` with the script inserted right after `<meta charset…>` (or at the very start when there is none).
fn inject(html: &str, script: &str) -> String {
    let tag = format!("<script>{script}</script>");
    let at = html.find("<meta charset").and_then(|start| html[start..].find('>').map(|end| start + end + 1));
    match at {
        Some(at) => format!("{}{tag}{}", &html[..at], &html[at..]),
        None => format!("{tag}{html}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_runs_before_the_app_module() {
        let html = "<!doctype html><html><meta charset=utf-8><title>x</title><script type=module>app()</script>";
        let out = inject(html, "first()");
        assert!(out.find("first()").unwrap() < out.find("app()").unwrap());
        assert!(out.starts_with("<!doctype html><html><meta charset=utf-8><script>first()</script>"));
        assert_eq!(inject("<p>", "x()"), "<script>x()</script><p>");
    }
}
