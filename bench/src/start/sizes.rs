//! The size part of `bench start`: each bundle's files against its goal, and what a cold first visit of each
//! transferred, as Markdown.

use serde::Serialize;

use crate::first_visit::FirstVisits;
use crate::size::{self, FileSize, KindSize};

/// The files of one bundle and their sums by kind.
#[derive(Debug, Serialize)]
pub(super) struct BundleSize {
    pub(super) name: &'static str,
    /// Its goal, wasm + js + css gzipped, bytes.
    pub(super) goal_gzip: u64,
    pub(super) files: Vec<FileSize>,
    pub(super) by_kind: Vec<KindSize>,
}

/// The size tables: each bundle's files, then what a cold first visit of each transferred.
pub(super) fn size_markdown(bundles: &[BundleSize], first: Option<&FirstVisits>) -> String {
    let mut md = String::from("## Size and start\n\n### Size\n\n");
    md.push_str(
        "The app is two bundles (`scripts/lib.sh build_app`): the **storefront** (catalog, product, cart, \
         wishlist, checkout, a customer's orders, login) and the **back office** (the owner's and the admin's \
         dashboards, login); the server sends `/owner*` and `/admin*` the back office and every other app path \
         the storefront. Every file of each, compressed here as a web server or CDN would serve it. KB are \
         1,000 bytes.\n\n\
         | Bundle | Kind | Files | Raw | gzip -9 | brotli -q 11 |\n|---|---|---:|---:|---:|---:|\n",
    );
    for bundle in bundles {
        for kind in &bundle.by_kind {
            md.push_str(&format!(
                "| {} | {} | {} | {} KB | {} KB | {} KB |\n",
                bundle.name,
                kind.kind,
                kind.files,
                size::kb(kind.raw),
                size::kb(kind.gzip),
                size::kb(kind.brotli)
            ));
        }
        let (raw, gzip, brotli) = size::code_total(&bundle.by_kind);
        md.push_str(&format!(
            "| **{}** | **wasm + js + css** | | **{} KB** | **{} KB** | **{} KB** |\n",
            bundle.name,
            size::kb(raw),
            size::kb(gzip),
            size::kb(brotli)
        ));
    }
    md.push('\n');
    for bundle in bundles {
        let (_, gzip, _) = size::code_total(&bundle.by_kind);
        let verdict = if gzip <= bundle.goal_gzip { "reached" } else { "missed" };
        md.push_str(&format!(
            "- {}: {} KB gzipped against a goal of {} KB ({verdict}, {:.1}×)",
            bundle.name,
            size::kb(gzip),
            size::kb(bundle.goal_gzip),
            gzip as f64 / bundle.goal_gzip as f64
        ));
        if let Some(wasm) = bundle.files.iter().filter(|f| f.kind == "wasm").max_by_key(|f| f.raw) {
            md.push_str(&format!("; its wasm alone {} KB gzipped, {} KB raw", size::kb(wasm.gzip), size::kb(wasm.raw)));
        }
        md.push_str(".\n");
    }
    md.push_str(
        "\nAnchors: React 19 with TanStack Query weighs about 80 KB gzipped before any application code; a \
         Leptos 0.8 skeleton with the router, serde_json and a WebSocket built here was 124 KB. What the \
         storefront still holds beyond that (the TTL cache with its persistence and tab sharing, the WebSocket \
         layer with leader election, the reducers of every event and the wire types, serde's decoders) is \
         shown by `twiggy` in the closing notes of the lean-app issue. The reference server serves each file \
         precompressed (brotli at quality 11, or 9 for files above 256 KiB such as the wasm, so a first start \
         after a build stays short; gzip -9 for clients without brotli) and marks the hashed files immutable.\n\n",
    );
    md.push_str("### A cold first visit on the wire\n\n");
    match first {
        None => md.push_str("Not measured in this run (see the bench's output).\n\n"),
        Some(first) => {
            md.push_str(
                "A fresh Chromium profile opens each bundle's first page from the reference server, the app \
                 as built (no probe script): `/shop` as a visitor until products show, `/owner` with the \
                 owner's session stored until the products table shows rows. Bytes are resource timing's \
                 `transferSize` (headers and the body as sent, compressed as Chromium asked), summed 1.5 s \
                 after the data showed.\n\n\
                 | First visit | Page + app files on the wire | Decoded | API answers on the wire | App files |\n\
                 |---|---:|---:|---:|---|\n",
            );
            for (label, visit) in [("`/shop` (storefront)", &first.shop), ("`/owner` (back office)", &first.owner)] {
                md.push_str(&format!(
                    "| {label} | {} KB | {} KB | {} KB | {} |\n",
                    size::kb(visit.code_bytes() as u64),
                    size::kb(visit.code_decoded() as u64),
                    size::kb(visit.api_bytes() as u64),
                    visit.app_files().len(),
                ));
            }
            md.push('\n');
        }
    }
    md
}
