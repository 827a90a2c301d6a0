//! confab-server: the Confab messaging server as a library (for tests and embedding) and a
//! binary.
//!
//! # Layout
//!
//! - [`gateway`]: WebSocket sessions — authentication, frame decoding, limits, the per-request
//!   dispatch table ([`gateway::dispatch`]) and the [`gateway::hub`] of live connections.
//! - [`http`]: HTTP routes — accounts, media upload and download (`http::media`), the
//!   WebSocket upgrade, `/healthz`, `/metrics`, the web UI.
//! - [`integration`]: the HTTP integration API for business systems (API keys, managed users,
//!   bots, webhooks) under `/api/v1/integration/`.
//! - The domain, one module per concern: [`accounts`], [`conversations`], [`messages`],
//!   [`groups`], [`social`], [`presence`], [`media`] (uploads, probing, access, signed URLs),
//!   [`assistant`] (the AI bot and its tools). Authorization is checked here, once.
//! - Ports: [`store`] (the `Store` trait; SQLite in `store::sqlite`, PostgreSQL in
//!   `store::postgres`) and [`broker`] (the `Broker` trait; in-process in
//!   `broker::LocalBroker`, between nodes in `broker::nats`). The configuration picks one of
//!   each: with neither `postgres_url` nor `nats_url` the server is one self-contained node.
//! - [`config`], [`state`] (the `AppState` passed everywhere), [`error`], [`metrics`].
//!
//! A request's life: text frame → `ClientFrame::decode` (proto) → `dispatch` → domain function
//! → `Store` / `Broker` → encoded answer into the connection's outbox.

pub mod accounts;
pub mod assistant;
pub mod blobs;
pub mod broker;
pub mod config;
pub mod conversations;
pub mod error;
#[doc(hidden)]
pub mod fuzz_support;
pub mod gateway;
pub mod groups;
pub mod http;
pub mod integration;
pub mod limits;
pub mod media;
pub mod messages;
pub mod metrics;
pub mod presence;
pub mod social;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;

use crate::blobs::{BlobStore, ObjectBlobStore};
use crate::broker::nats::{NatsBroker, NatsOptions};
use crate::broker::{Broker, LocalBroker};
use crate::config::Config;
use crate::conversations::ConversationCache;
use crate::gateway::hub::Hub;
use crate::media::UrlSigner;
use crate::state::{AppState, Ports};
use crate::store::Opened;

/// Pending connections the kernel queues before `accept`: a reconnect storm after a restart
/// brings thousands at once, and the default of 128 drops the rest into SYN retries (a
/// one-second stall each). The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A server listening on its socket.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Binds, opens the store (applying migrations) and starts serving.
    pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
        let node_id = config
            .node_id
            .get_or_insert_with(|| format!("node-{:06x}", rand::random::<u32>() >> 8))
            .clone();
        let opened = Opened::open(&config).await?;
        let store = opened.store();
        let blobs: Arc<dyn BlobStore> = match &config.blob_url {
            Some(url) => Arc::new(ObjectBlobStore::from_url(url)?),
            None => Arc::new(ObjectBlobStore::local(&config.data_dir.join("blobs"))?),
        };
        let media_signer = UrlSigner::load_or_create(&config.data_dir.join("media.key"))?;
        let media_tmp = media::prepare_tmp_dir(&config.data_dir)?;
        let listener = listen(config.bind)?;
        let addr = listener.local_addr()?;
        let hub = Arc::new(Hub::default());
        let conversations = Arc::new(ConversationCache::default());
        let mut nats = None;
        let broker: Arc<dyn Broker> = match &config.nats_url {
            Some(url) => {
                let b = Arc::new(
                    NatsBroker::start(
                        NatsOptions {
                            url: url.clone(),
                            prefix: config.nats_subject_prefix.clone(),
                            node_id: node_id.clone(),
                        },
                        hub.clone(),
                        conversations.clone(),
                        store.clone(),
                    )
                    .await?,
                );
                nats = Some(b.clone());
                b
            }
            None => Arc::new(LocalBroker::new(hub.clone())),
        };
        tracing::info!(store = %opened.describe(), node = %node_id, "store open");
        let ports = Ports {
            store,
            broker,
            blobs,
            media_signer,
            media_tmp,
        };
        let assistant = assistant::Assistant::new(&config.assistant)?;
        let state = AppState::new(config, ports, hub, conversations, assistant);
        integration::warm_up(&state).await;
        integration::Integration::start(&state);
        assistant::start(&state).await?;
        let app = http::router(state.clone());
        let shutdown = state.shutdown.clone();
        let st = state.clone();
        // Keyed rate limiters forget idle keys once a minute.
        let limits = state.limits.clone();
        let stop = state.shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tick.tick() => limits.prune(),
                    _ = stop.cancelled() => break,
                }
            }
        });
        let task = tokio::spawn(async move {
            // Frames are small and latency matters more than packet count: no Nagle delay.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
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
            if let Some(b) = nats {
                b.close();
            }
            opened.close().await;
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
