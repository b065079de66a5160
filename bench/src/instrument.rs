//! An instrumented copy of the built app: the same files, with a benchmark script run first in each bundle's
//! `index.html` (before the app's module script). The app's code is untouched.

use std::path::Path;

use anyhow::Context;

/// Copies `dist` into a fresh directory, inserting `<script>{script}</script>` at the start of the head of
/// every bundle's `index.html` (`dist/storefront/index.html`, `dist/backoffice/index.html`, or one
/// `dist/index.html`), and returns the directory (deleted when dropped).
pub fn instrumented_dist(dist: &Path, script: &str) -> anyhow::Result<tempfile::TempDir> {
    let copy = tempfile::tempdir()?;
    let pages = copy_tree(dist, copy.path())?;
    anyhow::ensure!(pages > 0, "{} holds no index.html", dist.display());
    for page in ["index.html", "storefront/index.html", "backoffice/index.html"] {
        let index = copy.path().join(page);
        if index.is_file() {
            let html = std::fs::read_to_string(&index).with_context(|| format!("reading {page}"))?;
            std::fs::write(&index, inject(&html, script))?;
        }
    }
    Ok(copy)
}

/// Copies the files of `from` into `to`, folders included, but the precompressed ones (the server makes them
/// again at start: the originals' would be stale for a changed index.html); answers the `index.html` copied.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut pages = 0;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let target = to.join(&name);
        let precompressed = name.to_str().is_some_and(|n| n.ends_with(".br") || n.ends_with(".gz"));
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            pages += copy_tree(&entry.path(), &target)?;
        } else if entry.file_type()?.is_file() && !precompressed {
            std::fs::copy(entry.path(), &target)?;
            pages += usize::from(name == "index.html");
        }
    }
    Ok(pages)
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
