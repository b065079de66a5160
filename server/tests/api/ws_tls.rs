//! TLS: with `tls_cert` and `tls_key` set, the same port speaks https and wss (a self-signed certificate made
//! at test time, trusted explicitly by the clients).
//!
//! Invariant: the clients trust only the test's certificate and use the ring provider, like the server.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMsg, Health, ServerMsg};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{dist_with_index, spawn_with, test_config};
use crate::ws::{STEP, cast, token};

#[tokio::test]
async fn with_a_certificate_the_server_speaks_https_and_wss() {
    let dist = dist_with_index();
    let (mut config, data) = test_config(dist.path());
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (data.path().join("cert.pem"), data.path().join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    config.tls_cert = Some(cert_path);
    config.tls_key = Some(key_path);
    let server = spawn_with(config).await;
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();

    // https, trusting only the test certificate.
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let response =
        timeout(STEP, https.get(format!("https://localhost:{port}/api/health")).send()).await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Health>().await.unwrap().status, "ok");
    // Plain http on the TLS port is not served.
    let plain = timeout(STEP, reqwest::get(format!("http://localhost:{port}/api/health"))).await.unwrap();
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));

    // wss: a TLS stream, then the WebSocket handshake over it.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls =
        timeout(STEP, tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp)).await.unwrap().unwrap();
    let (mut ws, _) = timeout(STEP, tokio_tungstenite::client_async(format!("wss://localhost:{port}/ws"), tls))
        .await
        .unwrap()
        .unwrap();
    let cast = cast(&server).await;
    let auth = ClientMsg::auth(token(&server, &cast.customer));
    ws.send(Message::text(serde_json::to_string(&auth).unwrap())).await.unwrap();
    let Some(Ok(Message::Text(text))) = timeout(STEP, ws.next()).await.unwrap() else { panic!("no auth_ok") };
    match serde_json::from_str::<ServerMsg>(text.as_str()).unwrap() {
        ServerMsg::AuthOk { user, .. } => assert_eq!(user, cast.customer),
        other => panic!("expected auth_ok, got {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_without_its_key_is_a_start_up_error() {
    let dist = dist_with_index();
    let (mut config, data) = test_config(dist.path());
    config.tls_cert = Some(data.path().join("cert.pem"));
    let error = server::startup::Application::build(&config).await.err().expect("build fails");
    assert!(format!("{error:#}").contains("tls_key"), "{error:#}");
    config.tls_key = Some(data.path().join("missing-key.pem"));
    let error = server::startup::Application::build(&config).await.err().expect("build fails");
    assert!(format!("{error:#}").contains("cert.pem"), "{error:#}");
}
