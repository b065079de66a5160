//! The built app served as production serves it: precompressed files chosen by `Accept-Encoding`, hashed
//! files immutable, `index.html` (every app path; the back office's for the dashboards) `no-cache` with an
//! `ETag` and 304 on revalidation.

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};

use crate::support::spawn;

const WASM: &str = "app-0123456789abcdef_bg.wasm";

fn built_app() -> (tempfile::TempDir, Vec<u8>) {
    let dist = tempfile::tempdir().unwrap();
    let index = "<!doctype html><html><head><title>IziShopin Live</title></head><body></body></html>".repeat(20);
    std::fs::write(dist.path().join("index.html"), index).unwrap();
    let wasm: Vec<u8> = (0..40_000u32).flat_map(|n| (n % 97).to_le_bytes()).collect();
    std::fs::write(dist.path().join(WASM), &wasm).unwrap();
    std::fs::write(dist.path().join("logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
    (dist, wasm)
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_hashed_file_comes_compressed_as_asked_and_cached_for_a_year() {
    let (dist, wasm) = built_app();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/{WASM}", server.base);
    for (asked, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", "")] {
        let mut request = http.get(&url);
        if !asked.is_empty() {
            request = request.header(ACCEPT_ENCODING, asked);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, CONTENT_ENCODING), coding, "asked for {asked:?}");
        assert_eq!(header(&response, CACHE_CONTROL), "public, max-age=31536000, immutable");
        assert!(header(&response, VARY).to_ascii_lowercase().contains("accept-encoding"));
        let body = response.bytes().await.unwrap().to_vec();
        let decoded = match coding {
            "br" => {
                let mut out = Vec::new();
                brotli::BrotliDecompress(&mut body.as_slice(), &mut out).unwrap();
                out
            }
            "gzip" => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(body.as_slice()).read_to_end(&mut out).unwrap();
                out
            }
            _ => body.clone(),
        };
        assert_eq!(decoded, wasm, "{coding:?} decodes to the file as built");
        if !coding.is_empty() {
            assert!(body.len() < wasm.len() / 2, "{coding} is smaller: {} of {}", body.len(), wasm.len());
        }
    }
    let svg = http.get(format!("{}/logo.svg", server.base)).send().await.unwrap();
    assert_eq!(header(&svg, CACHE_CONTROL), "no-cache", "a file without a content hash is revalidated");
    let api = http.get(format!("{}/api/health", server.base)).send().await.unwrap();
    assert_eq!(header(&api, CACHE_CONTROL), "", "the API's answers are left alone");
}

#[tokio::test]
async fn every_app_path_is_index_html_revalidated_with_its_etag() {
    let (dist, _) = built_app();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let html = std::fs::read(dist.path().join("index.html")).unwrap();
    let mut tags = Vec::new();
    for path in ["/", "/owner", "/shop/3", "/index.html"] {
        let response = http.get(format!("{}{path}", server.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache", "{path}");
        assert!(header(&response, "content-type".parse().unwrap()).starts_with("text/html"));
        tags.push(header(&response, ETAG).to_owned());
        assert_eq!(response.bytes().await.unwrap().to_vec(), html, "{path} is index.html");
    }
    assert!(tags.iter().all(|tag| tag == &tags[0] && tag.starts_with('"')), "one strong tag: {tags:?}");

    let again = http.get(format!("{}/owner", server.base)).header(IF_NONE_MATCH, &tags[0]).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, ETAG), tags[0]);
    assert!(again.bytes().await.unwrap().is_empty());

    let compressed = http.get(format!("{}/owner", server.base)).header(ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(header(&compressed, CONTENT_ENCODING), "br");
    let br_tag = header(&compressed, ETAG).to_owned();
    assert_ne!(br_tag, tags[0], "each encoding has its own tag");
    let revalidated =
        http.get(format!("{}/", server.base)).header(ACCEPT_ENCODING, "br").header(IF_NONE_MATCH, &br_tag).send();
    assert_eq!(revalidated.await.unwrap().status(), 304);

    let stale = http.get(format!("{}/owner", server.base)).header(IF_NONE_MATCH, "\"an-older-build\"").send();
    assert_eq!(stale.await.unwrap().status(), 200, "another build's tag gets the page");
}

#[tokio::test]
async fn the_dashboards_get_the_back_office_and_every_other_path_the_storefront() {
    let dist = tempfile::tempdir().unwrap();
    let page = |name: &str| {
        format!("<!doctype html><html><head><script type=\"module\">start('{name}')</script></head></html>")
    };
    for (folder, name) in [("storefront", "shop"), ("backoffice", "office")] {
        std::fs::create_dir(dist.path().join(folder)).unwrap();
        std::fs::write(dist.path().join(folder).join("index.html"), page(name)).unwrap();
    }
    std::fs::write(dist.path().join("backoffice").join(WASM), vec![7u8; 30_000]).unwrap();
    let server = spawn(dist.path()).await;
    let http = reqwest::Client::new();
    let mut tags = std::collections::HashMap::new();
    for (path, name) in [
        ("/", "shop"),
        ("/index.html", "shop"),
        ("/login", "shop"),
        ("/shop/products/4", "shop"),
        ("/orders", "shop"),
        ("/owner", "office"),
        ("/admin", "office"),
        ("/admin/shops/2", "office"),
    ] {
        let response = http.get(format!("{}{path}", server.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let csp = header(&response, "content-security-policy".parse().unwrap()).to_owned();
        tags.entry(name).or_insert_with(Vec::new).push(header(&response, ETAG).to_owned());
        assert_eq!(response.text().await.unwrap(), page(name), "{path} is the {name} page");
        assert_eq!(csp.matches("'sha256-").count(), 2, "both pages' start scripts are allowed: {csp}");
    }
    assert_ne!(tags["shop"][0], tags["office"][0], "each page has its tag");
    let office = http.get(format!("{}/owner", server.base)).header(IF_NONE_MATCH, &tags["office"][0]).send();
    assert_eq!(office.await.unwrap().status(), 304);
    let crossed = http.get(format!("{}/shop", server.base)).header(IF_NONE_MATCH, &tags["office"][0]).send();
    assert_eq!(crossed.await.unwrap().status(), 200, "the back office's tag does not revalidate the storefront");

    let wasm = http.get(format!("{}/backoffice/{WASM}", server.base)).header(ACCEPT_ENCODING, "br").send();
    let wasm = wasm.await.unwrap();
    assert_eq!((wasm.status().as_u16(), header(&wasm, CONTENT_ENCODING)), (200, "br"));
    assert_eq!(header(&wasm, CACHE_CONTROL), "public, max-age=31536000, immutable");
}
