//! Process counters, exposed in the Prometheus text format at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub connections: AtomicI64,
    pub connections_total: AtomicU64,
    pub requests_total: AtomicU64,
    pub request_errors_total: AtomicU64,
    pub messages_stored_total: AtomicU64,
    /// Webhook events dropped because the delivery queue was full.
    pub webhook_events_dropped_total: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(
        &self,
        hub: &crate::gateway::hub::Hub,
        broker: crate::broker::BrokerStats,
    ) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, help: &str, v: i64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        };
        gauge(
            &mut out,
            "confab_connections",
            "Open authenticated WebSocket connections.",
            self.connections.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "confab_connections_total",
            "Authenticated connections accepted.",
            &self.connections_total,
        );
        counter(
            &mut out,
            "confab_requests_total",
            "WebSocket requests handled.",
            &self.requests_total,
        );
        counter(
            &mut out,
            "confab_request_errors_total",
            "WebSocket requests answered with an error.",
            &self.request_errors_total,
        );
        counter(
            &mut out,
            "confab_messages_stored_total",
            "Messages and events stored.",
            &self.messages_stored_total,
        );
        counter(
            &mut out,
            "confab_webhook_events_dropped_total",
            "Webhook events dropped because the delivery queue was full.",
            &self.webhook_events_dropped_total,
        );
        counter(
            &mut out,
            "confab_events_delivered_total",
            "Frames queued to connections by fan-out.",
            &hub.frames_queued,
        );
        counter(
            &mut out,
            "confab_slow_consumer_disconnects_total",
            "Connections closed because their outbox was full.",
            &hub.slow_consumer_disconnects,
        );
        for (name, help, v) in [
            (
                "confab_broker_published_total",
                "Events published to the other nodes.",
                broker.published,
            ),
            (
                "confab_broker_received_total",
                "Events received from the other nodes.",
                broker.received,
            ),
            (
                "confab_broker_dropped_total",
                "Events that could not be published to the other nodes.",
                broker.dropped,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        out
    }
}
