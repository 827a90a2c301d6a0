use clap::{Parser, Subcommand};
use confab_server::config::ConfigArgs;
use confab_server::RunningServer;

/// Confab messaging server. With no arguments it serves on 127.0.0.1:8080 with data in ./data.
#[derive(Parser)]
#[command(name = "confab-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, WebSocket and web UI (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONFAB_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = cli.config.load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            let opened = confab_server::store::Opened::open(&config).await?;
            println!("migrations applied to {}", opened.describe());
            opened.close().await;
            Ok(())
        }
        Command::Serve => {
            let server = RunningServer::start(config).await?;
            let state = server.state.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                tracing::info!("shutdown requested");
                state.shutdown.cancel();
            });
            server.wait().await
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
