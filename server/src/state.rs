//! `AppState`: built once at start and passed to every router and session.

use std::ops::Deref;
use std::sync::Arc;

use confab_proto::{DeviceId, Millis, UserId};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::assistant::Assistant;
use crate::blobs::BlobStore;
use crate::broker::Broker;
use crate::config::Config;
use crate::conversations::ConversationCache;
use crate::gateway::hub::{ConnId, Hub};
use crate::integration::Integration;
use crate::limits::Limits;
use crate::media::UrlSigner;
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub broker: Arc<dyn Broker>,
    pub blobs: Arc<dyn BlobStore>,
    /// Signs and checks media URLs (its secret is `<data_dir>/media.key`).
    pub media_signer: UrlSigner,
    /// Where uploads in progress are written (`<data_dir>/tmp`).
    pub media_tmp: std::path::PathBuf,
    pub hub: Arc<Hub>,
    /// Shared with the broker, which refreshes it when another node changes a group.
    pub conversations: Arc<ConversationCache>,
    pub metrics: Metrics,
    pub limits: Arc<Limits>,
    pub integration: Integration,
    pub assistant: Assistant,
    /// Cancelled when the server begins to shut down.
    pub shutdown: CancellationToken,
    /// Every WebSocket session, so shutdown can wait for them to drain.
    pub sessions: TaskTracker,
}

impl AppState {
    pub fn new(
        config: Config,
        ports: Ports,
        hub: Arc<Hub>,
        conversations: Arc<ConversationCache>,
        assistant: Assistant,
    ) -> AppState {
        let limits = Arc::new(Limits::new(&config));
        let integration = Integration::new(&config);
        AppState(Arc::new(Inner {
            integration,
            config,
            store: ports.store,
            broker: ports.broker,
            blobs: ports.blobs,
            media_signer: ports.media_signer,
            media_tmp: ports.media_tmp,
            hub,
            conversations,
            metrics: Metrics::default(),
            limits,
            assistant,
            shutdown: CancellationToken::new(),
            sessions: TaskTracker::new(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The outside world as the domain sees it, built by `RunningServer::start`.
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub broker: Arc<dyn Broker>,
    pub blobs: Arc<dyn BlobStore>,
    pub media_signer: UrlSigner,
    pub media_tmp: std::path::PathBuf,
}

/// Who is making a request.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: UserId,
    pub device_id: DeviceId,
    /// The connection the request came on, if it came over WebSocket.
    pub conn_id: Option<ConnId>,
}

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}
