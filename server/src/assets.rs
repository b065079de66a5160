//! The built app served as production serves it:
//! - every compressible file of the dist folder is precompressed once, brotli and gzip, into `NAME.br` and
//!   `NAME.gz` beside it (made at start when missing or older than the file, never per request), and each
//!   answer is the smallest the client's `Accept-Encoding` takes;
//! - files whose name carries trunk's content hash are `Cache-Control: public, max-age=31536000, immutable`;
//!   every other file is `no-cache` (revalidated by `Last-Modified`);
//! - the app is two bundles, each in its folder (`dist/storefront`, `dist/backoffice`, see
//!   [`protocol::bundles`]); the `index.html` of each, which also answers each of its app paths (`/owner` the
//!   back office's, `/shop/3` the storefront's), is held in memory in its three encodings, `no-cache`, with an
//!   `ETag`: a revalidation that still matches is a 304 without a body. A dist folder holding one `index.html`
//!   (an app built as one bundle) answers every app path with it.
//!
//! Invariant: a client that sends no `Accept-Encoding` (or refuses both) gets the file as built; a
//! compressed answer always says `Content-Encoding` and `Vary: Accept-Encoding`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::{Bundle, bundle_of};
use sha2::{Digest, Sha256};

/// `Cache-Control` of a file named by its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: keep it, but ask before using it.
pub const NO_CACHE: &str = "no-cache";

/// File types worth compressing (the others are already compressed, or tiny).
const COMPRESSIBLE: &[&str] = &["wasm", "js", "mjs", "css", "html", "svg", "json", "txt", "map", "webmanifest", "ico"];

/// What [`precompress`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Precompressed {
    /// Variants written now.
    pub written: usize,
    /// Variants already there and up to date.
    pub kept: usize,
    /// Variants that could not be written (a read-only folder, say): those files go out uncompressed.
    pub failed: usize,
}

/// Writes `NAME.br` and `NAME.gz` beside every compressible file of `dist` (recursively) that lacks an up to
/// date one. Files are written whole under a temporary name and then renamed, so servers starting side by side
/// on the same folder never serve half a file; and one server at a time compresses a folder (a lock per folder,
/// across processes), so the others find the work done instead of repeating it.
pub fn precompress(dist: &Path) -> Precompressed {
    static IN_THIS_PROCESS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_here = IN_THIS_PROCESS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let _one_anywhere = folder_lock(dist);
    let mut done = Precompressed::default();
    for file in files(dist) {
        if !is_compressible(&file) {
            continue;
        }
        let Ok(source) = std::fs::metadata(&file) else { continue };
        for (suffix, encode) in [("br", brotli as fn(&[u8]) -> Vec<u8>), ("gz", gzip)] {
            let target = with_suffix(&file, suffix);
            if is_fresh(&target, source.modified().ok()) {
                done.kept += 1;
                continue;
            }
            let written = std::fs::read(&file).and_then(|bytes| write_whole(&target, &encode(&bytes)));
            match written {
                Ok(()) => done.written += 1,
                Err(error) => {
                    tracing::warn!(file = %target.display(), %error, "cannot precompress: served uncompressed");
                    done.failed += 1;
                }
            }
        }
    }
    done
}

/// An exclusive lock on a file named after the folder, in the temp folder (none when it cannot be made: then
/// servers may compress side by side, which is only slower).
fn folder_lock(dist: &Path) -> Option<std::fs::File> {
    let folder = std::fs::canonicalize(dist).unwrap_or_else(|_| dist.to_owned());
    let digest = Sha256::digest(folder.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let file = std::fs::File::create(std::env::temp_dir().join(format!("izi-precompress-{name}.lock"))).ok()?;
    file.lock().ok()?;
    Some(file)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => found.extend(files(&path)),
            Ok(kind) if kind.is_file() => found.push(path),
            _ => {}
        }
    }
    found
}

fn is_compressible(file: &Path) -> bool {
    let hidden = file.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
    !hidden && COMPRESSIBLE.contains(&extension)
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn is_fresh(target: &Path, source_modified: Option<SystemTime>) -> bool {
    let target_modified = std::fs::metadata(target).and_then(|m| m.modified()).ok();
    matches!((target_modified, source_modified), (Some(target), Some(source)) if target >= source)
}

fn write_whole(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = with_suffix(target, &format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, target).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })
}

/// Files above this size get brotli quality 9 rather than 11: measured on the 1.6 MB app wasm, 11 took 16.6 s
/// for 467 KB and 9 took 1.2 s for 517 KB; a server's first start after a build must not take that long.
const BROTLI_BEST_UP_TO: usize = 256 * 1024;

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let quality = if bytes.len() <= BROTLI_BEST_UP_TO { 11 } else { 9 };
        // A 4 MiB window: the whole of any file the app has.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, 22);
        writer.write_all(bytes).expect("writing to memory cannot fail");
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::best());
    encoder.write_all(bytes).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// Whether a file name carries trunk's content hash (`app-4f835904d99236fc_bg.wasm`, `main-acfe06be01910c17.css`):
/// a dash followed by 16 lowercase hex digits, then `.` or `_`.
pub fn is_hashed(name: &str) -> bool {
    // Trunk writes its 64-bit hash in hex without leading zeros: 16 digits, sometimes fewer.
    name.match_indices('-').any(|(at, _)| {
        let rest = &name.as_bytes()[at + 1..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)).count();
        (8..=16).contains(&digits) && matches!(rest.get(digits), Some(b'.' | b'_'))
    })
}

/// The `Cache-Control` of a file path of the app.
pub fn cache_control(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if is_hashed(name) { IMMUTABLE } else { NO_CACHE }
}

/// A content coding a client may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    fn name(self) -> Option<&'static str> {
        match self {
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

/// The best coding `Accept-Encoding` allows among brotli, gzip and none (`q=0` refuses a coding; `*` stands for
/// any not named).
pub fn negotiate(accept_encoding: Option<&str>) -> Coding {
    let Some(header) = accept_encoding else { return Coding::Identity };
    let mut weights: Vec<(String, f32)> = Vec::new();
    for item in header.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let Some(coding) = parts.next().filter(|c| !c.is_empty()) else { continue };
        let q = parts.find_map(|p| p.strip_prefix("q=")).and_then(|q| q.trim().parse().ok()).unwrap_or(1.0);
        weights.push((coding.to_ascii_lowercase(), q));
    }
    let weight = |name: &str| {
        weights
            .iter()
            .find(|(coding, _)| coding == name)
            .or_else(|| weights.iter().find(|(coding, _)| coding == "*"))
            .map(|(_, q)| *q)
    };
    // On a tie `max_by` keeps the last: brotli, the smaller.
    [Coding::Gzip, Coding::Brotli]
        .into_iter()
        .filter_map(|coding| Some((coding, weight(coding.name()?)?)))
        .filter(|(_, q)| *q > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(Coding::Identity, |(coding, _)| coding)
}

/// The `index.html` of each bundle, in memory.
#[derive(Debug, Clone)]
pub struct AppPages {
    storefront: IndexPage,
    back_office: IndexPage,
}

impl AppPages {
    /// The pages of `dist`: `storefront/index.html` and `backoffice/index.html`, or, when there is no
    /// storefront folder, the one `index.html` of `dist` for every path.
    pub fn load(dist: &Path) -> Self {
        let storefront = dist.join(Bundle::Storefront.folder());
        if storefront.join("index.html").is_file() {
            let back_office = IndexPage::load(&dist.join(Bundle::BackOffice.folder()));
            AppPages { storefront: IndexPage::load(&storefront), back_office }
        } else {
            let page = IndexPage::load(dist);
            AppPages { storefront: page.clone(), back_office: page }
        }
    }

    /// The page that answers the app path `path`.
    pub fn for_path(&self, path: &str) -> &IndexPage {
        match bundle_of(path) {
            Bundle::Storefront => &self.storefront,
            Bundle::BackOffice => &self.back_office,
        }
    }

    /// The bundles without a page (the server warns: their paths answer an empty page).
    pub fn missing(&self) -> Vec<Bundle> {
        let pages = [(Bundle::Storefront, &self.storefront), (Bundle::BackOffice, &self.back_office)];
        pages.into_iter().filter(|(_, page)| page.identity.is_empty()).map(|(bundle, _)| bundle).collect()
    }

    /// The HTML of every page (for the Content-Security-Policy's script hashes).
    pub fn htmls(&self) -> [&[u8]; 2] {
        [&self.storefront.identity, &self.back_office.identity]
    }
}

/// `index.html` in memory, in its three encodings, with its `ETag`.
#[derive(Debug, Clone)]
pub struct IndexPage {
    identity: axum::body::Bytes,
    brotli: axum::body::Bytes,
    gzip: axum::body::Bytes,
    /// The content's hash; each encoding's tag adds its coding.
    hash: String,
}

impl IndexPage {
    /// The `index.html` of `dist` (empty when there is none: the server warns at start).
    pub fn load(dist: &Path) -> Self {
        let html = std::fs::read(dist.join("index.html")).unwrap_or_default();
        let digest = Sha256::digest(&html);
        let hash: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Self { brotli: brotli(&html).into(), gzip: gzip(&html).into(), identity: html.into(), hash }
    }

    fn etag(&self, coding: Coding) -> String {
        match coding.name() {
            Some(name) => format!("\"{}-{name}\"", self.hash),
            None => format!("\"{}\"", self.hash),
        }
    }

    /// The answer to a GET or HEAD of an app path.
    pub fn respond(&self, method: &Method, headers: &HeaderMap) -> Response {
        let coding = negotiate(headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
        let etag = self.etag(coding);
        let mut response = if self.matches(headers.get(header::IF_NONE_MATCH)) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let body = match coding {
                Coding::Brotli => self.brotli.clone(),
                Coding::Gzip => self.gzip.clone(),
                Coding::Identity => self.identity.clone(),
            };
            let length = body.len();
            let mut response =
                if method == Method::HEAD { Response::new(Body::empty()) } else { Response::new(Body::from(body)) };
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            if let Some(name) = coding.name() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
            }
            response
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        response
    }

    /// Whether `If-None-Match` names this content (in any of its encodings, weak or strong).
    fn matches(&self, if_none_match: Option<&HeaderValue>) -> bool {
        let Some(tags) = if_none_match.and_then(|v| v.to_str().ok()) else { return false };
        tags.split(',').map(str::trim).any(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || [Coding::Brotli, Coding::Gzip, Coding::Identity].iter().any(|c| self.etag(*c) == tag)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_hashes_are_recognised() {
        assert!(is_hashed("izishopin-live-4f835904d99236fc_bg.wasm"));
        assert!(is_hashed("izishopin-live-51f5037230c1c890.js"));
        assert!(is_hashed("main-acfe06be01910c17.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("sw.js"));
        // Trunk drops the hash's leading zeros (a build wrote storefront-242122f08ce64b5_bg.wasm).
        assert!(is_hashed("storefront-242122f08ce64b5_bg.wasm"), "15 digits");
        assert!(!is_hashed("main-acfe06b.css"), "7 digits: a word, not a hash");
        assert!(!is_hashed("main-acfe06be01910c17a.css"), "17 digits");
        assert!(!is_hashed("main-ACFE06BE01910C17.css"), "trunk writes lowercase");
        assert_eq!(cache_control("/izishopin-live-51f5037230c1c890.js"), IMMUTABLE);
        assert_eq!(cache_control("/owner"), NO_CACHE);
    }

    #[test]
    fn the_best_coding_the_client_takes_is_chosen() {
        assert_eq!(negotiate(None), Coding::Identity);
        assert_eq!(negotiate(Some("gzip, deflate, br, zstd")), Coding::Brotli);
        assert_eq!(negotiate(Some("gzip")), Coding::Gzip);
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0.5")), Coding::Gzip);
        assert_eq!(negotiate(Some("br;q=0.2, gzip;q=0.8")), Coding::Gzip);
        assert_eq!(negotiate(Some("*")), Coding::Brotli);
        assert_eq!(negotiate(Some("*;q=0")), Coding::Identity);
        assert_eq!(negotiate(Some("identity")), Coding::Identity);
        assert_eq!(negotiate(Some(";;, ,q=")), Coding::Identity, "junk is no coding");
    }

    #[test]
    fn precompressed_files_decode_to_the_original_and_are_kept_once_made() {
        let dist = tempfile::tempdir().unwrap();
        let wasm = dist.path().join("app-0123456789abcdef_bg.wasm");
        let bytes: Vec<u8> = (0..50_000u32).flat_map(|n| (n % 251).to_le_bytes()).collect();
        std::fs::write(&wasm, &bytes).unwrap();
        std::fs::write(dist.path().join("photo.png"), b"not compressible").unwrap();
        std::fs::write(dist.path().join(".trunk-lock"), b"").unwrap();
        assert_eq!(precompress(dist.path()), Precompressed { written: 2, kept: 0, failed: 0 });
        let br = std::fs::read(with_suffix(&wasm, "br")).unwrap();
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut br.as_slice(), &mut decoded).unwrap();
        assert_eq!(decoded, bytes);
        let gz = std::fs::read(with_suffix(&wasm, "gz")).unwrap();
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut decoded).unwrap();
        assert_eq!(decoded, bytes);
        assert!(br.len() < bytes.len() / 2 && gz.len() < bytes.len() / 2);
        assert!(!dist.path().join("photo.png.br").exists());
        assert_eq!(precompress(dist.path()), Precompressed { written: 0, kept: 2, failed: 0 }, "made once");
    }
}
