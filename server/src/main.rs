use clap::{Parser, Subcommand};
use confab_server::config::ConfigArgs;
use confab_server::RunningServer;

/// Many small, short-lived allocations (frames, events, per-connection state) from several
/// threads: mimalloc keeps them fast and the resident set compact.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Administration on the data directory's database (run it where the server's data is).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// API keys of the HTTP integration API (docs/integration.md).
    #[command(name = "api-key", subcommand)]
    ApiKey(ApiKeyCommand),
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print its secret (shown this once).
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// Comma-separated: users, messages, groups, webhooks, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
    },
    /// List every key (never the secrets).
    List,
    /// Revoke a key by its id.
    Revoke { id: i64 },
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
        Command::Admin {
            command: AdminCommand::ApiKey(command),
        } => api_key(&config, command).await,
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

async fn api_key(
    config: &confab_server::config::Config,
    command: ApiKeyCommand,
) -> anyhow::Result<()> {
    use confab_proto::integration::{CreateApiKey, Scope};
    use confab_server::integration::keys;
    // The configured store: SQLite in the data directory, or PostgreSQL.
    let opened = confab_server::store::Opened::open(config).await?;
    let store = opened.store();
    let store = &*store;
    let result = match command {
        ApiKeyCommand::Create { name, scopes } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    Scope::parse(s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown scope {s:?}; scopes are users, messages, groups, webhooks, admin"
                        )
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let created = keys::create(store, CreateApiKey { name, scopes }).await?;
            println!("id:     {}", created.key.id);
            println!("scopes: {}", scope_list(&created.key.scopes));
            println!("secret: {}", created.secret);
            eprintln!("The secret is shown only now; keep it safe.");
            Ok(())
        }
        ApiKeyCommand::List => {
            let keys = keys::list(store).await?;
            println!(
                "{:<6} {:<14} {:<9} {:<40} name",
                "id", "prefix", "state", "scopes"
            );
            for k in keys {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<6} {:<14} {:<9} {:<40} {}",
                    k.id,
                    k.prefix,
                    state,
                    scope_list(&k.scopes),
                    k.name
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id } => {
            keys::revoke(store, id).await?;
            println!("revoked API key {id}");
            Ok(())
        }
    };
    opened.close().await;
    result
}

fn scope_list(scopes: &[confab_proto::integration::Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
