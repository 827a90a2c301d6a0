//! confab-server: the Confab messaging server as a library (for tests and embedding) and a
//! binary.
//!
//! # Layout
//!
//! - [`gateway`]: WebSocket sessions — authentication, frame decoding, limits, the per-request
//!   dispatch table ([`gateway::dispatch`]) and the [`gateway::hub`] of live connections.
//! - [`http`]: HTTP routes — accounts, media upload and download (`http::media`), the
//!   WebSocket upgrade, `/healthz`, `/metrics`.
//! - The domain, one module per concern: [`accounts`], [`conversations`], [`messages`],
//!   [`groups`], [`social`], [`presence`], [`media`] (uploads, probing, access, signed URLs).
//!   Authorization is checked here, once.
//! - Ports: [`store`] (the `Store` trait; SQLite in `store::sqlite`), [`broker`] (the
//!   `Broker` trait; in-process in `broker::LocalBroker`) and [`blobs`] (the `BlobStore`
//!   trait on `object_store`: local disk or S3).
//! - [`config`], [`state`] (the `AppState` passed everywhere), [`error`], [`metrics`].
//!
//! A request's life: text frame → `ClientFrame::decode` (proto) → `dispatch` → domain function
//! → `Store` / `Broker` → encoded answer into the connection's outbox.

pub mod accounts;
pub mod blobs;
pub mod broker;
pub mod config;
pub mod conversations;
pub mod error;
pub mod gateway;
pub mod groups;
pub mod http;
pub mod media;
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

use crate::blobs::{BlobStore, ObjectBlobStore};
use crate::broker::LocalBroker;
use crate::config::Config;
use crate::gateway::hub::Hub;
use crate::media::UrlSigner;
use crate::state::{AppState, Ports};
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
        let blobs: Arc<dyn BlobStore> = match &config.blob_url {
            Some(url) => Arc::new(ObjectBlobStore::from_url(url)?),
            None => Arc::new(ObjectBlobStore::local(&config.data_dir.join("blobs"))?),
        };
        let media_signer = UrlSigner::load_or_create(&config.data_dir.join("media.key"))?;
        let media_tmp = media::prepare_tmp_dir(&config.data_dir)?;
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let hub = Arc::new(Hub::default());
        let broker = Arc::new(LocalBroker::new(hub.clone()));
        let ports = Ports {
            store: store.clone(),
            broker,
            blobs,
            media_signer,
            media_tmp,
        };
        let state = AppState::new(config, ports, hub);
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
