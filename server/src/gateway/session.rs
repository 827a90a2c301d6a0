//! One device's WebSocket session: a reader that decodes and dispatches requests in order, and
//! a writer that drains the bounded outbox to the socket. Both end together.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use confab_proto::{
    close, encode_error, encode_event, ClientFrame, ErrorCode, Event, Hello, Limits, Request,
    UserPublic, WireError, PROTOCOL_VERSION,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::dispatch::{dispatch, After};
use super::hub::{Conn, Frame};
use crate::accounts;
use crate::limits::Limits as RateLimits;
use crate::metrics::Metrics;
use crate::presence;
use crate::state::{now_millis, Actor, AppState};
use crate::store::SessionRecord;

/// A connection authenticated at the handshake.
pub struct Authed {
    pub session: SessionRecord,
    pub user: UserPublic,
    /// The connection's place in the per-address count, held for its lifetime.
    pub slot: Option<crate::limits::ConnectionSlot>,
}

/// Frames above this many bytes end the connection (1009) instead of getting an error answer:
/// the socket reads at most this much for a frame.
pub fn hard_frame_limit(max_frame_bytes: usize) -> usize {
    max_frame_bytes.saturating_mul(4).max(1 << 20)
}

fn hello(state: &AppState, user: UserPublic, device_id: i64) -> Hello {
    let c = &state.config;
    Hello {
        protocol: PROTOCOL_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        user,
        device_id,
        server_time: now_millis(),
        idle_timeout_ms: c.idle_timeout().as_millis() as u64,
        limits: Limits {
            max_frame_bytes: c.max_frame_bytes,
            max_text_chars: c.max_text_chars,
            max_group_members: c.max_group_members,
            recall_window_ms: c.recall_window().as_millis() as u64,
            history_page_max: c.history_page_max,
            max_image_bytes: c.max_image_bytes,
            max_voice_bytes: c.max_voice_bytes,
            max_video_bytes: c.max_video_bytes,
            max_file_bytes: c.max_file_bytes,
        },
    }
}

type Sink = SplitSink<WebSocket, WsMessage>;
type Stream = SplitStream<WebSocket>;

async fn send_close(sink: &mut Sink, code: u16, reason: &str) {
    let _ = sink
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

fn close_reason(code: u16) -> &'static str {
    match code {
        close::SLOW_CONSUMER => "outbox full: reconnect and sync",
        close::SERVER_SHUTDOWN => "server shutting down: reconnect and sync",
        close::IDLE_TIMEOUT => "idle timeout",
        close::RESYNC => "events may have been missed: reconnect and sync",
        close::AUTH_FAILED => "authentication failed",
        close::SESSION_REVOKED => "session revoked",
        1009 => "frame too large",
        _ => "",
    }
}

/// Waits for an `auth` request as the first frame. Other requests are answered with
/// `unauthenticated`; the wait is bounded by the auth timeout.
async fn authenticate_first_frame(
    state: &AppState,
    sink: &mut Sink,
    stream: &mut Stream,
    ip: std::net::IpAddr,
) -> Option<(Authed, u64)> {
    let deadline = tokio::time::Instant::now() + state.config.auth_timeout();
    loop {
        let msg = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                send_close(sink, close::AUTH_FAILED, "no auth before the timeout").await;
                return None;
            }
            Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            WsMessage::Text(t) => t,
            WsMessage::Close(_) => return None,
            _ => continue,
        };
        let reply = match ClientFrame::decode(text.as_str()) {
            Err(e) => encode_error(e.id, &e.error),
            Ok(ClientFrame {
                id,
                request: Request::Auth(auth),
            }) => match accounts::authenticate(state, &auth.token).await {
                Ok((session, user)) => {
                    match state.limits.admit(state.hub.user_connections(user.id), ip) {
                        Ok(slot) => {
                            let authed = Authed {
                                session,
                                user,
                                slot: Some(slot),
                            };
                            return Some((authed, id));
                        }
                        Err(e) => {
                            let _ = sink
                                .send(WsMessage::Text(encode_error(Some(id), &e).into()))
                                .await;
                            send_close(sink, close::AUTH_FAILED, "too many connections").await;
                            return None;
                        }
                    }
                }
                Err(e) => {
                    let _ = sink
                        .send(WsMessage::Text(encode_error(Some(id), &e.to_wire()).into()))
                        .await;
                    send_close(sink, close::AUTH_FAILED, close_reason(close::AUTH_FAILED)).await;
                    return None;
                }
            },
            Ok(frame) => encode_error(
                Some(frame.id),
                &WireError::new(
                    ErrorCode::Unauthenticated,
                    "authenticate first: send {\"type\":\"auth\"} or connect with a token",
                ),
            ),
        };
        if sink.send(WsMessage::Text(reply.into())).await.is_err() {
            return None;
        }
    }
}

pub async fn run(state: AppState, socket: WebSocket, authed: Option<Authed>, ip: std::net::IpAddr) {
    let (mut sink, mut stream) = socket.split();
    let (authed, auth_request_id) = match authed {
        Some(a) => (a, None),
        // Boxed for the same reason as dispatch: needed once, not for the connection's life.
        None => {
            match Box::pin(authenticate_first_frame(&state, &mut sink, &mut stream, ip)).await {
                Some((a, id)) => (a, Some(id)),
                None => return,
            }
        }
    };
    let actor_user = authed.user.id;
    let device_id = authed.session.id;
    let _slot = authed.slot;

    let (tx, rx) = mpsc::channel::<Frame>(state.config.outbox_frames);
    let conn = Arc::new(Conn::new(
        state.hub.next_conn_id(),
        actor_user,
        device_id,
        tx,
    ));
    let actor = Actor {
        user_id: actor_user,
        device_id,
        conn_id: Some(conn.id),
    };

    // The hello goes first: as the answer to `auth`, or as an event.
    let hello = hello(&state, authed.user, device_id);
    let first: Frame = match auth_request_id {
        Some(id) => confab_proto::encode_ok(id, &hello).into(),
        None => encode_event(&Event::Hello(hello)).into(),
    };
    conn.push(first);

    let came_online = state.hub.register(conn.clone());
    state.metrics.connections.fetch_add(1, Ordering::Relaxed);
    Metrics::inc(&state.metrics.connections_total);
    if came_online {
        // Subscribed before the device hears `hello`: whatever is stored after its sync reaches
        // it live, from any node.
        state.broker.attach(actor_user).await;
        let s = state.clone();
        tokio::spawn(async move { presence::announce(&s, actor_user, true).await });
    }

    let writer = tokio::spawn(write_loop(sink, rx, conn.writer_handles()));

    let final_code = read_loop(&state, &actor, &conn, &mut stream).await;
    if let Some(code) = final_code {
        conn.set_final_code(code);
    }

    let went_offline = state.hub.unregister(&conn);
    state.metrics.connections.fetch_sub(1, Ordering::Relaxed);
    // Dropping the last sender lets the writer flush what is queued, then close.
    drop(conn);
    let abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(5), writer)
        .await
        .is_err()
    {
        tracing::debug!("writer did not finish in time; dropping the socket");
        abort.abort();
    }
    if went_offline {
        state.broker.detach(actor_user).await;
        presence::announce(&state, actor_user, false).await;
    }
}

/// Reads and answers requests until the connection should end; returns the close code to use
/// when the connection ends on the server's initiative.
async fn read_loop(
    state: &AppState,
    actor: &Actor,
    conn: &Arc<Conn>,
    stream: &mut Stream,
) -> Option<u16> {
    let idle = state.config.idle_timeout();
    let max_frame = state.config.max_frame_bytes;
    let limiter = state.limits.connection_limiter();
    loop {
        let next = tokio::select! {
            biased;
            _ = conn.killed().cancelled() => return None,
            _ = state.shutdown.cancelled() => return Some(close::SERVER_SHUTDOWN),
            next = tokio::time::timeout(idle, stream.next()) => next,
        };
        let msg = match next {
            Err(_) => return Some(close::IDLE_TIMEOUT),
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                tracing::debug!(error = %e, "websocket read ended");
                // A frame past the hard limit ends the connection with 1009 (message too big).
                return e.to_string().contains("limit").then_some(1009);
            }
            Ok(Some(Ok(m))) => m,
        };
        match msg {
            WsMessage::Text(text) => {
                if text.len() > max_frame {
                    reply_error(
                        conn,
                        None,
                        WireError::new(
                            ErrorCode::FrameTooLarge,
                            format!("frames are limited to {max_frame} bytes"),
                        ),
                    );
                    continue;
                }
                if let After::Close(code) =
                    handle_text(state, actor, conn, &limiter, text.as_str()).await
                {
                    return Some(code);
                }
            }
            WsMessage::Binary(_) => reply_error(
                conn,
                None,
                WireError::new(
                    ErrorCode::MalformedFrame,
                    "binary frames are not part of the protocol; send JSON text",
                ),
            ),
            WsMessage::Close(_) => return None,
            WsMessage::Ping(_) | WsMessage::Pong(_) => {}
        }
    }
}

fn reply_error(conn: &Conn, id: Option<u64>, error: WireError) {
    conn.push(encode_error(id, &error).into());
}

async fn handle_text(
    state: &AppState,
    actor: &Actor,
    conn: &Conn,
    limiter: &Option<governor::DefaultDirectRateLimiter>,
    text: &str,
) -> After {
    let frame = match ClientFrame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            Metrics::inc(&state.metrics.request_errors_total);
            reply_error(conn, e.id, e.error);
            return After::Continue;
        }
    };
    let limited = RateLimits::check_request(limiter).and_then(|()| match frame.request {
        Request::Send(_) => state.limits.check_send(actor.user_id),
        _ => Ok(()),
    });
    if let Err(e) = limited {
        Metrics::inc(&state.metrics.request_errors_total);
        reply_error(conn, Some(frame.id), e);
        return After::Continue;
    }
    Metrics::inc(&state.metrics.requests_total);
    let kind = frame.request.kind();
    // Boxed: the dispatch future is as large as the largest request handler's state, and
    // held inline it would sit in every idle connection's task for the connection's lifetime.
    match Box::pin(dispatch(state, actor, frame.id, frame.request)).await {
        Ok((body, after)) => {
            conn.push(body.into());
            after
        }
        Err(e) => {
            Metrics::inc(&state.metrics.request_errors_total);
            tracing::debug!(kind, code = %e.code, "request refused");
            reply_error(conn, Some(frame.id), e.to_wire());
            After::Continue
        }
    }
}

async fn write_loop(
    mut sink: Sink,
    mut rx: mpsc::Receiver<Frame>,
    (kill, code): (
        tokio_util::sync::CancellationToken,
        Arc<std::sync::atomic::AtomicU16>,
    ),
) {
    loop {
        let frame = tokio::select! {
            biased;
            _ = kill.cancelled() => break,
            frame = rx.recv() => match frame {
                Some(frame) => frame,
                None => break,
            },
        };
        // Batch whatever else is already queued into one flush. A peer that stops reading
        // blocks this write; the kill signal (outbox overflow) cuts it short.
        let write = async {
            sink.feed(WsMessage::Text(frame)).await?;
            while let Ok(more) = rx.try_recv() {
                sink.feed(WsMessage::Text(more)).await?;
            }
            sink.flush().await
        };
        tokio::select! {
            biased;
            _ = kill.cancelled() => break,
            written = write => if written.is_err() { return },
        }
    }
    // The close frame may not get through to a peer that stopped reading: bound the wait.
    let closing = async {
        match code.load(Ordering::Acquire) {
            0 => {
                let _ = sink.close().await;
            }
            c => send_close(&mut sink, c, close_reason(c)).await,
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), closing).await;
}
