//! The reference relay for the `limit` scenario: the least a messaging server must do for the
//! `direct` load, and nothing more. It accepts WebSocket connections without authentication
//! (the client names itself: `/ws?me=17`), decodes each request with the protocol crate,
//! forwards every `send` to the named user as a `message` event and acknowledges the sender
//! the way Confab does. No storage, no membership checks. Its figures show what this machine
//! can move at all, so Confab's can be read as a fraction of them.
//!
//! It runs on its own Tokio runtime whose threads are named [`crate::sys::RELAY_THREAD`], so
//! the benchmark can tell the relay's CPU time from its own.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use confab_proto::{
    encode_error, encode_ok, ClientFrame, Content, ErrorCode, Request, Target, WireError,
    PROTOCOL_VERSION,
};
use dashmap::DashMap;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request as HsRequest, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};
use tokio_util::sync::CancellationToken;

/// Frames queued per connection before it is dropped as a slow consumer (as in Confab).
const OUTBOX: usize = 1024;

#[derive(Default)]
struct Shared {
    conns: DashMap<i64, mpsc::Sender<Utf8Bytes>>,
    seq: AtomicI64,
}

/// A relay running on its own threads.
pub struct Relay {
    pub addr: SocketAddr,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// Binds `bind` (port 0 picks a free port) and serves on `threads` worker threads.
    pub fn start(bind: SocketAddr, threads: usize) -> Result<Relay> {
        crate::ws::require_loopback(bind)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(crate::sys::RELAY_THREAD)
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name(crate::sys::RELAY_THREAD.into())
            .spawn(move || {
                rt.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(l) => serve(l, s).await,
                        Err(e) => eprintln!("relay: {e}"),
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            })?;
        Ok(Relay {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve(listener: TcpListener, stop: CancellationToken) {
    let shared = Arc::new(Shared::default());
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, shared, stop).await {
                        tracing_free_log(&e);
                    }
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

fn tracing_free_log(e: &anyhow::Error) {
    if std::env::var_os("CONFAB_BENCH_DEBUG").is_some() {
        eprintln!("relay connection: {e:#}");
    }
}

fn parse_me(query: Option<&str>) -> Option<i64> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("me="))
        .and_then(|v| v.parse().ok())
}

/// The relay's `hello`: the fields a client reads, written out here so that the relay does
/// not have to follow every addition to Confab's `hello`.
fn hello(me: i64) -> String {
    serde_json::json!({
        "event": "hello",
        "data": {
            "protocol": PROTOCOL_VERSION,
            "server_version": "confab-bench relay",
            "user": { "id": me, "username": format!("u{me}"), "display_name": format!("u{me}") },
            "device_id": me,
            "server_time": now_millis(),
            "idle_timeout_ms": 60_000,
            "limits": { "max_frame_bytes": 65536, "max_text_chars": 4000 },
        }
    })
    .to_string()
}

/// A `message` event as Confab sends it (the same fields and the same serialization work).
#[derive(Serialize)]
struct RelayedMessage<'a> {
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    client_msg_id: &'a str,
    created_at: i64,
    content: &'a Content,
    reply_to: Option<i64>,
    mentions: &'a [i64],
    mention_all: bool,
}

#[derive(Serialize)]
struct RelayedEvent<'a> {
    event: &'static str,
    data: RelayedMessage<'a>,
}

#[derive(Serialize)]
struct Ack {
    conversation_id: i64,
    seq: i64,
    created_at: i64,
    duplicate: bool,
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// The handshake callback's error type is tungstenite's HTTP response, large by its design.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, shared: Arc<Shared>, stop: CancellationToken) -> Result<()> {
    let mut me = None;
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(Some(1 << 20));
    let ws = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        |req: &HsRequest, resp: Response| {
            me = parse_me(req.uri().query());
            Ok(resp)
        },
        Some(config),
    )
    .await?;
    let me = me.ok_or_else(|| anyhow!("no ?me= in the URL"))?;
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(OUTBOX);
    let _ = tx.try_send(hello(me).into());
    shared.conns.insert(me, tx.clone());

    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.feed(WsMessage::Text(frame)).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                if sink.feed(WsMessage::Text(more)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });

    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => break,
            n = tokio::time::timeout(Duration::from_secs(120), source.next()) => n,
        };
        let text = match next {
            Ok(Some(Ok(WsMessage::Text(t)))) => t,
            Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
            Ok(Some(Ok(_))) => continue,
        };
        let reply = match ClientFrame::decode(text.as_str()) {
            Err(e) => encode_error(e.id, &e.error),
            Ok(ClientFrame {
                id,
                request: Request::Send(req),
            }) => {
                let peer = match req.to {
                    Target::User(u) | Target::Conversation(u) => u,
                };
                let seq = shared.seq.fetch_add(1, Ordering::Relaxed) + 1;
                let now = now_millis();
                let conversation_id = me.min(peer) << 20 | me.max(peer);
                let event = RelayedEvent {
                    event: "message",
                    data: RelayedMessage {
                        conversation_id,
                        seq,
                        sender_id: me,
                        client_msg_id: &req.client_msg_id,
                        created_at: now,
                        content: &req.content,
                        reply_to: req.reply_to,
                        mentions: &req.mentions,
                        mention_all: false,
                    },
                };
                let frame: Utf8Bytes = serde_json::to_string(&event)
                    .expect("events serialize")
                    .into();
                let delivered = shared
                    .conns
                    .get(&peer)
                    .map(|c| c.try_send(frame).is_ok())
                    .unwrap_or(false);
                if delivered {
                    encode_ok(
                        id,
                        &Ack {
                            conversation_id,
                            seq,
                            created_at: now,
                            duplicate: false,
                        },
                    )
                } else {
                    encode_error(
                        Some(id),
                        &WireError::new(ErrorCode::Unavailable, "peer not connected or full"),
                    )
                }
            }
            Ok(ClientFrame {
                id,
                request: Request::Ping,
            }) => encode_ok(id, &confab_proto::Empty {}),
            Ok(frame) => encode_error(
                Some(frame.id),
                &WireError::new(ErrorCode::UnknownType, "the relay only forwards send"),
            ),
        };
        if tx.try_send(reply.into()).is_err() {
            break; // Our own outbox is full: a slow consumer.
        }
    }
    shared.conns.remove_if(&me, |_, c| c.same_channel(&tx));
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn me_is_read_from_the_query() {
        assert_eq!(parse_me(Some("me=17")), Some(17));
        assert_eq!(parse_me(Some("v=1&me=3")), Some(3));
        assert_eq!(parse_me(Some("v=1")), None);
        assert_eq!(parse_me(None), None);
    }

    #[test]
    fn relay_forwards_and_acknowledges() {
        let relay = Relay::start("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let addr = relay.addr;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let c = crate::ws::Connector::new(addr, 0, 4096).unwrap();
            let mut a = c.open("/ws?me=1", None).await.unwrap();
            let mut b = c.open("/ws?me=2", None).await.unwrap();
            crate::ws::wait_hello(&mut a).await.unwrap();
            crate::ws::wait_hello(&mut b).await.unwrap();
            let resp: serde_json::Value = crate::ws::call(
                &mut a,
                9,
                Request::Send(confab_proto::SendRequest {
                    to: Target::User(2),
                    client_msg_id: "k".into(),
                    content: confab_proto::Content::text("hi"),
                    reply_to: None,
                    mentions: vec![],
                    mention_all: false,
                }),
            )
            .await
            .unwrap();
            assert_eq!(resp["seq"], 1);
            let frame = b.next().await.unwrap().unwrap();
            let text = frame.into_text().unwrap();
            assert_eq!(
                crate::ws::Incoming::parse(text.as_str()),
                crate::ws::Incoming::Text {
                    sender: 1,
                    text: "hi".into()
                }
            );
        });
        relay.stop();
    }
}
