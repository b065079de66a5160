//! https and wss: when `tls_cert` and `tls_key` are both set, the server speaks TLS (rustls, ring provider) on
//! its one port, the WebSocket included.
//!
//! Invariant: the crypto provider is passed explicitly (no process-wide default is installed) and ring is the
//! only one compiled in; the certificate and key are read at start-up, so a bad file fails `build`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum_server::tls_rustls::RustlsConfig;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use crate::config::Config;

/// How long a TLS server waits for open connections once asked to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The TLS configuration, when both `tls_cert` (PEM chain) and `tls_key` (PEM private key) are set; `None` when
/// neither is. Only one of them set is an error.
pub fn server_config(config: &Config) -> anyhow::Result<Option<RustlsConfig>> {
    let (cert_path, key_path) = match (&config.tls_cert, &config.tls_key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => bail!("set both tls_cert and tls_key to serve https, or neither"),
    };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificate chain {}", cert_path.display()))?;
    if certs.is_empty() {
        bail!("no certificate in {}", cert_path.display());
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .with_context(|| format!("cannot read the private key {}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not fit together")?;
    // HTTP/1.1 only: the WebSocket upgrade needs it, and the API gains nothing from h2 here.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(RustlsConfig::from_config(Arc::new(server))))
}

/// Serves `service` over TLS on `listener` until `shutdown` completes, then lets open connections finish for
/// up to [`SHUTDOWN_GRACE`]. Request headers (and the next request of an idle connection) must arrive within
/// `header_timeout`.
pub async fn serve(
    listener: TcpListener,
    tls: RustlsConfig,
    service: IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    let mut server = axum_server::from_tcp_rustls(listener.into_std()?, tls)?.handle(handle);
    server.http_builder().http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_timeout);
    server.serve(service).await
}
