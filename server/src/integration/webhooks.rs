//! Webhooks: the domain calls [`emit`], which only enqueues; a background worker turns each
//! event into one delivery per subscribed webhook, signs it and POSTs it with a timeout,
//! retrying with exponential backoff up to a bounded number of attempts. Messaging never waits
//! for any of this: a full queue drops the event (logged) rather than block.
//!
//! Signature: `Confab-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.

use std::sync::Arc;
use std::time::Duration;

use confab_proto::integration::{DeliveryStatus, WebhookEvent, WebhookEventType};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::sync::{mpsc, Semaphore};

use crate::state::{now_millis, AppState};
use crate::store::{DeliveryAttempt, NewDelivery, WebhookRecord};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Confab-Signature";

/// Enqueues an event for every webhook subscribed to its type. Never blocks and never fails:
/// when the queue is full the event is dropped and counted.
pub fn emit(state: &AppState, event_type: WebhookEventType, data: serde_json::Value) {
    let integration = &state.integration;
    if !integration.webhooks_may_exist() {
        return;
    }
    let mut id = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut id);
    let event = WebhookEvent {
        id: format!("evt_{}", hex::encode(id)),
        event_type,
        created_at: now_millis(),
        data,
    };
    if let Err(mpsc::error::TrySendError::Full(event)) = integration.queue.try_send(event) {
        crate::metrics::Metrics::inc(&state.metrics.webhook_events_dropped_total);
        tracing::warn!(
            event = event.event_type.as_str(),
            "webhook queue full, event dropped"
        );
    }
}

/// `hex(HMAC-SHA256(secret, timestamp + "." + body))`
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Runs until shutdown: takes events off the queue and starts their deliveries.
pub async fn run_worker(state: AppState, mut queue: mpsc::Receiver<WebhookEvent>) {
    let config = &state.config;
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(config.webhook_timeout_ms))
        .connect_timeout(Duration::from_millis(config.webhook_timeout_ms.min(5_000)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("confab-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; webhooks are off");
            return;
        }
    };
    let permits = Arc::new(Semaphore::new(config.webhook_concurrency.max(1)));
    // Deliveries alive at once (sending or waiting to retry). When all are taken the worker
    // waits, the queue fills, and `emit` drops: memory stays bounded.
    let alive = Arc::new(Semaphore::new(config.webhook_queue.max(1)));
    // Deliveries left pending by the previous run go on where they stopped.
    match resumable(&state).await {
        Ok(pending) => {
            for (hook, p) in pending {
                let Ok(permit) = alive.clone().try_acquire_owned() else {
                    break;
                };
                let task = Delivery {
                    state: state.clone(),
                    client: client.clone(),
                    hook,
                    id: p.id,
                    first_attempt: p.attempts + 1,
                    event_type: p.event_type,
                    event_id: p.event_id,
                    created_at: 0,
                    payload: p.payload,
                    permits: permits.clone(),
                    _alive: permit,
                };
                tokio::spawn(task.run());
            }
        }
        Err(e) => tracing::warn!(error = %e, "pending webhook deliveries not resumed"),
    }
    loop {
        let event = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            e = queue.recv() => match e { Some(e) => e, None => break },
        };
        let hooks = match state.integration.hooks(&state).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "webhooks could not be loaded; event dropped");
                continue;
            }
        };
        let payload = match serde_json::to_string(&event) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "webhook event did not serialize");
                continue;
            }
        };
        for hook in hooks
            .iter()
            .filter(|h| h.info.events.contains(&event.event_type))
        {
            let Ok(alive) = alive.clone().acquire_owned().await else {
                break;
            };
            let task = Delivery {
                state: state.clone(),
                client: client.clone(),
                hook: hook.clone(),
                id: 0,
                first_attempt: 1,
                event_type: event.event_type,
                event_id: event.id.clone(),
                created_at: event.created_at,
                payload: payload.clone(),
                permits: permits.clone(),
                _alive: alive,
            };
            tokio::spawn(task.run());
        }
    }
    tracing::debug!("webhook worker stopped");
}

/// Pending deliveries of webhooks that still exist, with their webhook.
async fn resumable(
    state: &AppState,
) -> crate::error::AppResult<Vec<(WebhookRecord, crate::store::PendingDelivery)>> {
    let limit = state.config.webhook_queue.max(1) as u32;
    let pending = state.store.pending_deliveries(limit).await?;
    if pending.is_empty() {
        return Ok(vec![]);
    }
    let hooks = state.integration.hooks(state).await?;
    Ok(pending
        .into_iter()
        .filter_map(|p| {
            let hook = hooks.iter().find(|h| h.info.id == p.webhook_id)?;
            Some((hook.clone(), p))
        })
        .collect())
}

struct Delivery {
    state: AppState,
    client: reqwest::Client,
    hook: WebhookRecord,
    /// 0 until recorded.
    id: i64,
    first_attempt: u32,
    event_type: WebhookEventType,
    event_id: String,
    created_at: i64,
    payload: String,
    permits: Arc<Semaphore>,
    _alive: tokio::sync::OwnedSemaphorePermit,
}

impl Delivery {
    async fn run(mut self) {
        if self.id == 0 {
            // Recorded here rather than in the worker, so many records commit together.
            self.id = match self
                .state
                .store
                .create_delivery(NewDelivery {
                    webhook_id: self.hook.info.id,
                    event_id: self.event_id.clone(),
                    event_type: self.event_type,
                    payload: self.payload.clone(),
                    now: self.created_at,
                })
                .await
            {
                Ok(id) => id,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery could not be recorded");
                    return;
                }
            };
        }
        let config = &self.state.config;
        let max = config.webhook_max_attempts.max(1);
        // A resumed delivery gets at least one more attempt, even if the limit was lowered.
        for attempt in self.first_attempt.min(max)..=max {
            let outcome = {
                let Ok(_permit) = self.permits.acquire().await else {
                    return;
                };
                self.attempt().await
            };
            let (status, last_status, last_error) = match outcome {
                Ok(code) => (DeliveryStatus::Delivered, Some(code), None),
                Err((code, error)) if attempt == max => (DeliveryStatus::Failed, code, Some(error)),
                Err((code, error)) => (DeliveryStatus::Pending, code, Some(error)),
            };
            let record = DeliveryAttempt {
                id: self.id,
                status,
                attempts: attempt,
                last_status,
                last_error,
                now: now_millis(),
            };
            if let Err(e) = self.state.store.update_delivery(record).await {
                tracing::warn!(error = %e, delivery = self.id, "delivery outcome not recorded");
            }
            if status != DeliveryStatus::Pending {
                return;
            }
            // base · 2^(attempt-1), capped at ten minutes.
            let delay = config
                .webhook_retry_base_ms
                .saturating_mul(1u64 << (attempt - 1).min(20))
                .min(600_000);
            tokio::select! {
                _ = self.state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(delay)) => {}
            }
        }
    }

    /// One POST: the status on success, or the status (if any) and why it failed.
    async fn attempt(&self) -> Result<u16, (Option<u16>, String)> {
        let t = now_millis() / 1000;
        let signature = sign(&self.hook.secret, t, self.payload.as_bytes());
        let response = self
            .client
            .post(&self.hook.info.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, format!("t={t},v1={signature}"))
            .header("Confab-Event", self.event_type.as_str())
            .header("Confab-Event-Id", &self.event_id)
            .header("Confab-Delivery", self.id.to_string())
            .body(self.payload.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
            Ok(r) => Err((Some(r.status().as_u16()), format!("HTTP {}", r.status()))),
            Err(e) if e.is_timeout() => Err((None, "timed out".into())),
            Err(e) if e.is_connect() => Err((None, "could not connect".into())),
            Err(e) => Err((None, format!("request failed: {}", e.without_url()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Independent check of the scheme with the same primitives.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(sign("s3cret", 1_700_000_000, b"{\"a\":1}"), expected);
        assert_ne!(sign("other", 1_700_000_000, b"{\"a\":1}"), expected);
    }
}
