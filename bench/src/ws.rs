//! WebSocket connections to a Confab server (or the relay): opening them from a round-robin
//! set of loopback source addresses, waiting for `hello`, request/response helpers for setup
//! phases, and a lightweight decoder for the hot receive path.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use confab_proto::{ClientFrame, Request, ServerFrame, WireError};
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

pub type Ws = WebSocketStream<TcpStream>;

/// Refuses any target outside the loopback range: the benchmark only ever talks to this
/// machine.
pub fn require_loopback(addr: SocketAddr) -> Result<()> {
    if !addr.ip().is_loopback() {
        bail!("{addr} is not a loopback address: confab-bench only targets 127.0.0.0/8 or ::1");
    }
    Ok(())
}

/// Opens WebSocket connections to one server.
pub struct Connector {
    server: SocketAddr,
    sources: Vec<IpAddr>,
    next: AtomicUsize,
    config: WebSocketConfig,
}

impl Connector {
    /// `source_ips` loopback source addresses are used round-robin, starting at 127.0.0.2
    /// (0: let the kernel choose). Each source address has its own ephemeral port range.
    pub fn new(server: SocketAddr, source_ips: usize, read_buffer: usize) -> Result<Connector> {
        require_loopback(server)?;
        let sources = if server.is_ipv4() {
            (0..source_ips.min(250))
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8)))
                .collect()
        } else {
            Vec::new()
        };
        let config = WebSocketConfig::default()
            .read_buffer_size(read_buffer)
            .write_buffer_size(8 * 1024)
            .max_message_size(Some(64 << 20))
            .max_frame_size(Some(16 << 20));
        Ok(Connector {
            server,
            sources,
            next: AtomicUsize::new(0),
            config,
        })
    }

    pub fn server(&self) -> SocketAddr {
        self.server
    }

    async fn tcp(&self) -> Result<TcpStream> {
        let socket = match self.server {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if !self.sources.is_empty() {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.sources.len();
            socket
                .bind(SocketAddr::new(self.sources[i], 0))
                .with_context(|| format!("binding the source address {}", self.sources[i]))?;
        }
        let stream = socket
            .connect(self.server)
            .await
            .with_context(|| format!("connecting to {}", self.server))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// Opens `path` (e.g. `/ws?v=1`) with an optional bearer token; does not wait for `hello`.
    pub async fn open(&self, path: &str, token: Option<&str>) -> Result<Ws> {
        let stream = self.tcp().await?;
        let mut req = format!("ws://{}{}", self.server, path).into_client_request()?;
        if let Some(t) = token {
            req.headers_mut().insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {t}"))?,
            );
        }
        let (ws, _resp) =
            tokio_tungstenite::client_async_with_config(req, stream, Some(self.config))
                .await
                .map_err(|e| anyhow!("WebSocket handshake with {}: {e}", self.server))?;
        Ok(ws)
    }

    /// Opens a Confab connection authenticated by `token` and waits for its `hello`.
    pub async fn confab(&self, token: &str) -> Result<(Ws, HelloLimits)> {
        let mut ws = self.open("/ws?v=1", Some(token)).await?;
        let hello = wait_hello(&mut ws).await?;
        Ok((ws, hello))
    }
}

/// The limits of a `hello` the benchmark needs. Read leniently (only these fields, with
/// Confab's defaults when absent) so that additions to the protocol do not break the tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HelloLimits {
    pub max_frame_bytes: usize,
    pub max_group_members: usize,
    pub history_page_max: u32,
}

impl Default for HelloLimits {
    fn default() -> Self {
        HelloLimits {
            max_frame_bytes: 64 * 1024,
            max_group_members: 2000,
            history_page_max: 200,
        }
    }
}

#[derive(Deserialize)]
struct HelloFrame {
    event: Option<String>,
    data: Option<HelloData>,
}

#[derive(Deserialize)]
struct HelloData {
    #[serde(default)]
    limits: HelloLimits,
}

/// Reads frames until the `hello` event (at most 15 s).
pub async fn wait_hello(ws: &mut Ws) -> Result<HelloLimits> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("no hello within 15 s"))?;
        match msg {
            Some(Ok(WsMessage::Text(t))) => {
                if let Ok(HelloFrame {
                    event: Some(ev),
                    data,
                }) = serde_json::from_str(t.as_str())
                {
                    if ev == "hello" {
                        return Ok(data.map(|d| d.limits).unwrap_or_default());
                    }
                }
            }
            Some(Ok(WsMessage::Close(c))) => bail!("closed before hello: {c:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("connection failed before hello: {e}"),
            None => bail!("connection ended before hello"),
        }
    }
}

/// Sends one request frame.
pub async fn send_request(ws: &mut Ws, id: u64, request: Request) -> Result<()> {
    let text = ClientFrame { id, request }.encode();
    ws.send(WsMessage::Text(text.into())).await?;
    Ok(())
}

/// A response read by [`next_response`].
pub struct Response {
    pub id: u64,
    pub result: Result<Box<serde_json::value::RawValue>, WireError>,
    /// Bytes of the frame.
    pub bytes: usize,
}

/// Reads frames until a response (skipping events), with a timeout.
pub async fn next_response(ws: &mut Ws, timeout: Duration) -> Result<Response> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("no response within {timeout:?}"))?;
        let text = match msg {
            Some(Ok(WsMessage::Text(t))) => t,
            Some(Ok(WsMessage::Close(c))) => bail!("connection closed: {c:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => bail!("connection failed: {e}"),
            None => bail!("connection ended"),
        };
        match ServerFrame::decode(text.as_str())? {
            ServerFrame::Ok { id, body } => {
                return Ok(Response {
                    id,
                    result: Ok(body),
                    bytes: text.len(),
                })
            }
            ServerFrame::Error {
                id: Some(id),
                error,
            } => {
                return Ok(Response {
                    id,
                    result: Err(error),
                    bytes: text.len(),
                })
            }
            ServerFrame::Error { id: None, error } => bail!("server error: {error:?}"),
            ServerFrame::Event(_) => {}
        }
    }
}

/// Sends a request and waits for its answer, decoded as `T`.
pub async fn call<T: DeserializeOwned>(ws: &mut Ws, id: u64, request: Request) -> Result<T> {
    let kind = request.kind();
    send_request(ws, id, request).await?;
    loop {
        let r = next_response(ws, Duration::from_secs(60)).await?;
        if r.id != id {
            continue;
        }
        let body = r
            .result
            .map_err(|e| anyhow!("{kind} refused: {} ({})", e.message, e.code))?;
        return serde_json::from_str(body.get()).with_context(|| format!("decoding {kind}"));
    }
}

/// Lets anyone send this user direct messages (new accounts may accept friends only), so the
/// benchmark's users can message each other without friend requests.
pub async fn accept_anyone(ws: &mut Ws, id: u64) -> Result<()> {
    let _: confab_proto::Settings = call(
        ws,
        id,
        Request::UpdateSettings(confab_proto::Settings {
            direct_messages: confab_proto::DirectPolicy::Anyone,
        }),
    )
    .await?;
    Ok(())
}

/// Waits for connection tasks to finish until `within` has passed, then aborts the rest.
pub async fn join_bounded(handles: Vec<tokio::task::JoinHandle<()>>, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    let mut rest = handles.into_iter();
    for mut h in rest.by_ref() {
        if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
            h.abort();
            break;
        }
    }
    for h in rest {
        h.abort();
    }
}

/// Closes a connection politely, bounded in time.
pub async fn close(mut ws: Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
}

/// Runs one connection until `stop`: every text frame goes to `on_text`, frames from `out` are
/// sent (batched into one flush when several wait), and a ping goes out every `ping_every`
/// (the first after a random part of it, so many connections do not ping together).
/// `Ok` when stopped; `Err` with the reason when the connection ended first.
pub async fn drive(
    mut ws: Ws,
    mut out: Option<mpsc::Receiver<String>>,
    stop: CancellationToken,
    ping_every: Duration,
    mut on_text: impl FnMut(&str),
) -> std::result::Result<(), String> {
    let first = ping_every
        .mul_f64(rand::random::<f64>())
        .max(Duration::from_millis(1));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + first, ping_every);
    let mut pings = 0u64;
    let result = loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break Ok(()),
            m = ws.next() => match m {
                Some(Ok(WsMessage::Text(t))) => on_text(t.as_str()),
                Some(Ok(WsMessage::Close(c))) => {
                    return Err(format!("closed by the server: {c:?}"));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("connection ended".into()),
            },
            f = async {
                match out.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => match f {
                Some(frame) => {
                    if let Err(e) = ws.feed(WsMessage::Text(frame.into())).await {
                        return Err(e.to_string());
                    }
                    while let Some(more) = out.as_mut().and_then(|rx| rx.try_recv().ok()) {
                        if let Err(e) = ws.feed(WsMessage::Text(more.into())).await {
                            return Err(e.to_string());
                        }
                    }
                    if let Err(e) = ws.flush().await {
                        return Err(e.to_string());
                    }
                }
                None => out = None,
            },
            _ = ping.tick() => {
                pings += 1;
                let f = format!(r#"{{"id":{},"type":"ping"}}"#, (1u64 << 62) | pings);
                if let Err(e) = ws.send(WsMessage::Text(f.into())).await {
                    return Err(e.to_string());
                }
            }
        }
    };
    close(ws).await;
    result
}

/// The fields of a server frame the measurement loops need, decoded in one pass without
/// building the full [`Event`]. Tested against the protocol crate's own encoding.
#[derive(Debug, Deserialize)]
pub struct Lite<'a> {
    pub id: Option<u64>,
    #[serde(borrow)]
    pub event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data: Option<LiteData<'a>>,
    pub ok: Option<serde::de::IgnoredAny>,
    pub error: Option<WireError>,
}

#[derive(Debug, Deserialize)]
pub struct LiteData<'a> {
    pub sender_id: Option<i64>,
    #[serde(borrow)]
    pub content: Option<LiteContent<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct LiteContent<'a> {
    #[serde(borrow)]
    pub text: Option<Cow<'a, str>>,
}

/// What a frame means to a measurement loop.
#[derive(Debug, PartialEq)]
pub enum Incoming<'a> {
    /// A `message` event with text content.
    Text { sender: i64, text: Cow<'a, str> },
    /// The answer to request `id`.
    Ok(u64),
    /// A refused request.
    Err(Option<u64>, WireError),
    /// Anything else (other events, non-text messages).
    Other,
}

impl<'a> Incoming<'a> {
    pub fn parse(frame: &'a str) -> Incoming<'a> {
        let Ok(lite) = serde_json::from_str::<Lite<'a>>(frame) else {
            return Incoming::Other;
        };
        if let Some(ev) = lite.event {
            if ev == "message" {
                if let Some(data) = lite.data {
                    if let Some(text) = data.content.and_then(|c| c.text) {
                        return Incoming::Text {
                            sender: data.sender_id.unwrap_or(0),
                            text,
                        };
                    }
                }
            }
            return Incoming::Other;
        }
        if let Some(e) = lite.error {
            return Incoming::Err(lite.id, e);
        }
        match (lite.id, lite.ok) {
            (Some(id), Some(_)) => Incoming::Ok(id),
            _ => Incoming::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_proto::{encode_error, encode_event, encode_ok, Content, ErrorCode, Event, Message};

    #[test]
    fn lite_decoding_agrees_with_the_protocol_encoding() {
        // Built from JSON so that fields added to the protocol later take their defaults.
        let m: Message = serde_json::from_value(serde_json::json!({
            "conversation_id": 5,
            "seq": 9,
            "sender_id": 42,
            "client_msg_id": "k",
            "created_at": 1,
            "content": Content::text("bench \"x\" 1 2"),
        }))
        .unwrap();
        let frame = encode_event(&Event::Message(m));
        assert_eq!(
            Incoming::parse(&frame),
            Incoming::Text {
                sender: 42,
                text: Cow::Borrowed("bench \"x\" 1 2")
            }
        );
        let ok = encode_ok(
            77,
            &serde_json::json!({"conversation_id": 5, "seq": 9, "created_at": 1}),
        );
        assert_eq!(Incoming::parse(&ok), Incoming::Ok(77));
        assert_eq!(
            Incoming::parse(&encode_ok(3, &confab_proto::Empty {})),
            Incoming::Ok(3)
        );
        let err = encode_error(Some(8), &WireError::new(ErrorCode::NotMember, "no"));
        assert!(matches!(Incoming::parse(&err), Incoming::Err(Some(8), _)));
        let presence = encode_event(&Event::Presence(
            serde_json::from_value(serde_json::json!({"user_id": 1, "online": true})).unwrap(),
        ));
        assert_eq!(Incoming::parse(&presence), Incoming::Other);
    }

    #[test]
    fn non_loopback_targets_are_refused() {
        assert!(Connector::new("10.0.0.1:80".parse().unwrap(), 0, 4096).is_err());
        assert!(Connector::new("127.0.0.1:80".parse().unwrap(), 4, 4096).is_ok());
    }
}
