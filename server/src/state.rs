//! `AppState`: built once at start and passed to every router and session.

use std::ops::Deref;
use std::sync::Arc;

use confab_proto::{DeviceId, Millis, UserId};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::assistant::Assistant;
use crate::broker::Broker;
use crate::config::Config;
use crate::conversations::ConversationCache;
use crate::gateway::hub::{ConnId, Hub};
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub broker: Arc<dyn Broker>,
    pub hub: Arc<Hub>,
    pub conversations: ConversationCache,
    pub metrics: Metrics,
    pub assistant: Assistant,
    /// Cancelled when the server begins to shut down.
    pub shutdown: CancellationToken,
    /// Every WebSocket session, so shutdown can wait for them to drain.
    pub sessions: TaskTracker,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        hub: Arc<Hub>,
        assistant: Assistant,
    ) -> AppState {
        AppState(Arc::new(Inner {
            config,
            store,
            broker,
            hub,
            conversations: ConversationCache::default(),
            metrics: Metrics::default(),
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
