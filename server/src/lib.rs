//! confab-server: the Confab messaging server as a library (for tests and embedding) and a
//! binary.
//!
//! # Layout
//!
//! - [`gateway`]: WebSocket sessions — authentication, frame decoding, limits, the per-request
//!   dispatch table ([`gateway::dispatch`]) and the [`gateway::hub`] of live connections.
//! - [`http`]: HTTP routes — accounts, the WebSocket upgrade, `/healthz`, `/metrics`.
//! - The domain, one module per concern: [`accounts`], [`conversations`], [`messages`],
//!   [`groups`], [`social`], [`presence`], [`assistant`] (the AI bot and its tools).
//!   Authorization is checked here, once.
//! - Ports: [`store`] (the `Store` trait; SQLite in `store::sqlite`) and [`broker`] (the
//!   `Broker` trait; in-process in `broker::LocalBroker`).
//! - [`config`], [`state`] (the `AppState` passed everywhere), [`error`], [`metrics`].
//!
//! A request's life: text frame → `ClientFrame::decode` (proto) → `dispatch` → domain function
//! → `Store` / `Broker` → encoded answer into the connection's outbox.

pub mod accounts;
pub mod assistant;
pub mod broker;
pub mod config;
pub mod conversations;
pub mod error;
pub mod gateway;
pub mod groups;
pub mod http;
pub mod messages;
pub mod metrics;
pub mod presence;
pub mod social;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::broker::LocalBroker;
use crate::config::Config;
use crate::gateway::hub::Hub;
use crate::state::AppState;
use crate::store::sqlite::SqliteStore;

/// A server listening on its socket.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Binds, opens the store (applying migrations) and starts serving.
    pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
        let store = Arc::new(SqliteStore::open(&config.data_dir)?);
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let hub = Arc::new(Hub::default());
        let broker = Arc::new(LocalBroker::new(hub.clone()));
        let assistant = assistant::Assistant::new(&config.assistant)?;
        let state = AppState::new(config, store.clone(), broker, hub, assistant);
        assistant::start(&state).await?;
        let app = http::router(state.clone());
        let shutdown = state.shutdown.clone();
        let st = state.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await?;
            // Let sessions finish their in-flight requests and flush, then stop the store.
            st.sessions.close();
            let grace = std::time::Duration::from_secs(st.config.shutdown_grace_secs);
            if tokio::time::timeout(grace, st.sessions.wait())
                .await
                .is_err()
            {
                tracing::warn!("sessions did not drain within the grace period");
            }
            // Replies in progress were stopped by the shutdown token; let them be stored.
            st.assistant.tasks.close();
            if tokio::time::timeout(grace, st.assistant.tasks.wait())
                .await
                .is_err()
            {
                tracing::warn!("assistant tasks did not finish within the grace period");
            }
            tokio::task::spawn_blocking(move || store.close()).await?;
            tracing::info!("server stopped");
            Ok(())
        });
        tracing::info!(%addr, "confab-server listening");
        Ok(RunningServer { addr, state, task })
    }

    /// Begins a graceful shutdown.
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await?
    }
}
