//! `server`: starts the IziShopin Live reference backend until Ctrl-C.

use anyhow::Context;
use server::config::Config;
use server::startup::Application;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn")))
        .init();
    let config = Config::load(|key| std::env::var(key).ok(), std::env::args().skip(1)).context("configuration")?;
    let app = Application::build(&config).await?;
    let port = app.port();
    let scheme = if config.tls_cert.is_some() && config.tls_key.is_some() { "https" } else { "http" };
    println!("IziShopin Live is running at {scheme}://localhost:{port} (Ctrl-C to stop)");
    println!("Demo logins (password: {}):", server::seed::DEMO_PASSWORD);
    for (email, who) in server::seed::DEMO_LOGINS {
        println!("  {email:<28} {who}");
    }
    app.run_until(shutdown_signal()).await.context("server")?;
    println!("IziShopin Live stopped.");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
