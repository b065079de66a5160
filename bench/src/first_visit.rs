//! What a cold first visit really transfers, per bundle: a fresh Chromium profile opens `/shop` as a visitor
//! (the storefront) and `/owner` as a signed-in owner (the back office), served by the reference server as
//! built (precompressed, chosen by `Accept-Encoding`); resource timing's `transferSize` of the page, the app's
//! files and the API answers, summed once the page shows its data.
//!
//! Invariant: the app is served unchanged (no probe script): the bytes are the bytes a customer pays.

use std::time::Duration;

use anyhow::Context;
use fantoccini::Client;
use izishopin_live::auth::session::{STORAGE_KEY, Session, encode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::browser::{self, Browsers};
use crate::server::ServerProc;
use crate::{Opts, http};

const OWNER: &str = "owner1@izishopin.test";
/// How long a first visit may take to show its data.
const LOAD_LIMIT: Duration = Duration::from_secs(30);
/// Time left after the data shows for the requests the page still makes (the socket's first events, a
/// revalidation) to land in resource timing.
const SETTLE: Duration = Duration::from_millis(1_500);

/// Sums the page's transfer by what was fetched; `transferSize` counts headers and the body as it crossed
/// the wire (compressed when it was).
const READ: &str = r#"
  const nav = performance.getEntriesByType('navigation')[0];
  const files = performance.getEntriesByType('resource').map(e => ({
    path: new URL(e.name).pathname, transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize,
  }));
  return { document: nav ? nav.transferSize : 0, document_decoded: nav ? nav.decodedBodySize : 0, files };"#;

/// One resource of the page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fetched {
    pub path: String,
    pub transfer: f64,
    pub body: f64,
    pub decoded: f64,
}

/// One first visit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Visit {
    pub document: f64,
    pub document_decoded: f64,
    pub files: Vec<Fetched>,
}

impl Visit {
    fn app(&self) -> impl Iterator<Item = &Fetched> {
        self.files.iter().filter(|f| !f.path.starts_with("/api/"))
    }

    /// Bytes on the wire: the page and the app's files.
    pub fn code_bytes(&self) -> f64 {
        self.document + self.app().map(|f| f.transfer).sum::<f64>()
    }

    /// Bytes of the same once decoded.
    pub fn code_decoded(&self) -> f64 {
        self.document_decoded + self.app().map(|f| f.decoded).sum::<f64>()
    }

    /// Bytes on the wire of the API answers.
    pub fn api_bytes(&self) -> f64 {
        self.files.iter().filter(|f| f.path.starts_with("/api/")).map(|f| f.transfer).sum()
    }

    /// The app files fetched (not the API), by path.
    pub fn app_files(&self) -> Vec<&str> {
        self.app().map(|f| f.path.as_str()).collect()
    }
}

/// The first visits of both bundles.
#[derive(Debug, Clone, Serialize)]
pub struct FirstVisits {
    pub shop: Visit,
    pub owner: Visit,
}

/// Measures both first visits against a server serving `opts.dist` as built.
pub async fn measure(opts: &Opts) -> anyhow::Result<FirstVisits> {
    let server = ServerProc::start(opts, &[]).await?;
    let outcome = match Browsers::launch(0).await {
        Ok(mut browsers) => {
            let outcome = both(&server.base_url, &mut browsers).await;
            browsers.close().await;
            outcome
        }
        Err(error) => Err(error),
    };
    server.stop().await;
    outcome
}

async fn both(base_url: &str, browsers: &mut Browsers) -> anyhow::Result<FirstVisits> {
    let index = browsers.open().await?;
    let shop = visit(&browsers.clients[index], &format!("{base_url}/shop"), "button[aria-label$=' to cart']").await;
    browsers.close_one(index).await;
    let shop = shop.context("the storefront's first visit")?;

    let owner = http::login(&http::client(), base_url, OWNER).await?;
    let index = browsers.open().await?;
    let page = &browsers.clients[index];
    let signed_in = async {
        page.goto(&format!("{base_url}/api/health")).await?;
        let session = encode(&Session::from(owner.clone()));
        let script = "localStorage.setItem(arguments[0], arguments[1]);";
        browser::eval(page, script, vec![json!(STORAGE_KEY), json!(session)]).await?;
        visit(page, &format!("{base_url}/owner"), "table[data-testid=owner-products] tr[data-product-id]").await
    };
    let owner = signed_in.await;
    browsers.close_one(index).await;
    Ok(FirstVisits { shop, owner: owner.context("the back office's first visit")? })
}

/// Opens `url`, waits until `shown` matches, lets the page settle and reads what it transferred.
async fn visit(page: &Client, url: &str, shown: &str) -> anyhow::Result<Visit> {
    page.goto(url).await.with_context(|| format!("opening {url}"))?;
    let script = format!("return !!document.querySelector({});", json!(shown));
    browser::wait_for(page, &script, LOAD_LIMIT).await.with_context(|| format!("{url} shows {shown}"))?;
    tokio::time::sleep(SETTLE).await;
    let value = browser::eval(page, READ, vec![]).await?;
    serde_json::from_value(value.clone()).with_context(|| format!("resource timing of {url}: {value}"))
}
