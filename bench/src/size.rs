//! What the browser downloads: every file of the built app, raw, gzipped (level 9) and brotli-compressed
//! (quality 11), summed by kind. Sizes are in KB of 1,000 bytes, as bundle-size figures are usually quoted.
//!
//! Invariant: reads the files only; compression happens here, since the reference server sends them
//! uncompressed.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// The compressed sizes of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSize {
    pub name: String,
    /// "wasm", "js", "css", "html" or "other".
    pub kind: &'static str,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// The sizes of one kind of file, summed.
#[derive(Debug, Clone, Serialize)]
pub struct KindSize {
    pub kind: &'static str,
    pub files: usize,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// Every file directly in `dist` but hidden ones (trunk's `.trunk-lock`) and the server's precompressed
/// `.br`/`.gz` copies, sorted by name.
pub fn measure(dist: &Path) -> anyhow::Result<Vec<FileSize>> {
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let precompressed = name.ends_with(".br") || name.ends_with(".gz");
        if !entry.file_type()?.is_file() || name.starts_with('.') || precompressed {
            continue;
        }
        let bytes = std::fs::read(entry.path()).with_context(|| format!("reading {}", entry.path().display()))?;
        sizes.push(FileSize {
            kind: kind_of(&name),
            raw: bytes.len() as u64,
            gzip: gzip(&bytes)?,
            brotli: brotli(&bytes)?,
            name,
        });
    }
    sizes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sizes)
}

/// The sums per kind, in the order wasm, js, css, html, other (kinds without files are left out).
pub fn by_kind(files: &[FileSize]) -> Vec<KindSize> {
    ["wasm", "js", "css", "html", "other"]
        .into_iter()
        .filter_map(|kind| {
            let of_kind: Vec<&FileSize> = files.iter().filter(|f| f.kind == kind).collect();
            (!of_kind.is_empty()).then(|| KindSize {
                kind,
                files: of_kind.len(),
                raw: of_kind.iter().map(|f| f.raw).sum(),
                gzip: of_kind.iter().map(|f| f.gzip).sum(),
                brotli: of_kind.iter().map(|f| f.brotli).sum(),
            })
        })
        .collect()
}

/// What a first visit downloads besides the HTML: wasm + js + css, as (raw, gzip, brotli) bytes.
pub fn code_total(kinds: &[KindSize]) -> (u64, u64, u64) {
    kinds
        .iter()
        .filter(|k| matches!(k.kind, "wasm" | "js" | "css"))
        .fold((0, 0, 0), |(r, g, b), k| (r + k.raw, g + k.gzip, b + k.brotli))
}

/// Bytes as KB of 1,000 bytes with one decimal.
pub fn kb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1000.0)
}

fn kind_of(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("wasm") => "wasm",
        Some("js") => "js",
        Some("css") => "css",
        Some("html") => "html",
        _ => "other",
    }
}

fn gzip(bytes: &[u8]) -> anyhow::Result<u64> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    encoder.write_all(bytes)?;
    Ok(encoder.finish().context("gzip")?.len() as u64)
}

fn brotli(bytes: &[u8]) -> anyhow::Result<u64> {
    let mut out = Vec::new();
    {
        // Quality 11, a 4 MiB window (lgwin 22): what `brotli -q 11` and CDNs use for static files.
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes).context("brotli")?;
        writer.flush().context("brotli")?;
    }
    Ok(out.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_shrinks_repetitive_text_and_kinds_sum() {
        let dir = tempfile::tempdir().unwrap();
        let text = "body { color: red; }\n".repeat(200);
        std::fs::write(dir.path().join("a.css"), &text).unwrap();
        std::fs::write(dir.path().join("b.css"), &text).unwrap();
        std::fs::write(dir.path().join("app.js"), "export {}").unwrap();
        std::fs::write(dir.path().join(".trunk-lock"), "").unwrap();
        let files = measure(dir.path()).unwrap();
        assert_eq!(files.len(), 3);
        assert!(files[0].gzip < files[0].raw && files[0].brotli < files[0].raw);
        let kinds = by_kind(&files);
        assert_eq!(kinds.iter().map(|k| k.kind).collect::<Vec<_>>(), ["js", "css"]);
        assert_eq!(kinds[1].raw, 2 * text.len() as u64);
        assert_eq!(code_total(&kinds).0, 2 * text.len() as u64 + 9);
        assert_eq!(kb(1_500), "1.5");
    }
}
