//! The connection task: owns the WebSocket, matches answers to requests, keeps the
//! connection alive, reconnects, and resumes the event stream without gaps or duplicates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use confab_proto::http::ErrorBody;
use confab_proto::{
    close, ClientFrame, ConversationId, ErrorCode, Event, Hello, HistoryRequest, HistoryResponse,
    Message, Millis, Request, SendResponse, ServerFrame, SyncResponse, WireError,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::backoff::Backoff;
use crate::client::State;
use crate::sequencer::{Sequencer, Step};
use crate::{ClientEvent, ClientOptions, Endpoint, Error, Result};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Reply = oneshot::Sender<Result<Box<RawValue>>>;

/// History page size for catching up (capped by the server's `history_page_max`).
const CATCH_UP_PAGE: u32 = 200;
/// A connection that stayed up this long resets the reconnect backoff.
const STABLE_CONNECTION: Duration = Duration::from_secs(2);
/// How long a graceful close waits for the server to answer the close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What a [`crate::Client`] asks of the connection task.
pub(crate) enum Command {
    Request {
        id: u64,
        frame: String,
        learn: Learn,
        reply: Reply,
    },
    /// The caller stopped waiting (timeout): drop the request.
    Forget(u64),
    Close {
        done: oneshot::Sender<()>,
    },
}

/// What the connection task learns from a successful answer before handing it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Learn {
    Nothing,
    /// A sync: every conversation's `last_seq` becomes its known position.
    Positions,
    /// A send or recall: its seq is this device's own.
    OwnSeq,
    /// A logout: the server may end the connection with `SESSION_REVOKED` in place of the
    /// answer, which means the same.
    Logout,
}

/// A request sent and not yet answered.
enum Pending {
    /// Made by the application.
    User { learn: Learn, reply: Reply },
    /// The connection task's keep-alive.
    Ping,
    /// The sync after a reconnect.
    Resync,
    /// A page of history after a known position.
    Fill { conversation_id: ConversationId },
    /// Pages of recent history (newest first) of a conversation with no known position,
    /// collecting the messages created since `since`.
    Recent {
        conversation_id: ConversationId,
        since: Millis,
        collected: Vec<Message>,
    },
}

/// A request made while no connection is up, sent once one is.
struct Queued {
    id: u64,
    frame: String,
    learn: Learn,
    reply: Reply,
}

/// Why serving a connection ended.
enum Ended {
    /// The connection dropped; reconnect unless the close code is terminal.
    Dropped { code: Option<u16>, reason: String },
    /// The client closed it (or was dropped); stop.
    Stopped(Stop),
}

/// The end of the connection task.
struct Stop {
    code: Option<u16>,
    reason: String,
    /// Report a last `Disconnected` event.
    report: bool,
    /// Tell `Client::close` that closing is complete.
    done: Option<oneshot::Sender<()>>,
}

impl Stop {
    fn closed_by_client(report: bool, done: Option<oneshot::Sender<()>>) -> Stop {
        Stop {
            code: Some(u16::from(CloseCode::Normal)),
            reason: "closed by the client".to_string(),
            report,
            done,
        }
    }
}

pub(crate) struct Connection {
    endpoint: Endpoint,
    token: String,
    options: ClientOptions,
    state: Arc<State>,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<ClientEvent>,
    pending: HashMap<u64, Pending>,
    queued: Vec<Queued>,
    /// Frames waiting to be written.
    outbox: Vec<String>,
    sequencer: Sequencer,
    /// Server time of the first `hello`: when this client's event stream began.
    session_start: Millis,
    /// Set after a reconnect until everything missed has been delivered.
    resyncing: bool,
    backoff: Backoff,
}

impl Connection {
    pub(crate) fn new(
        endpoint: Endpoint,
        token: String,
        options: ClientOptions,
        state: Arc<State>,
        commands: mpsc::UnboundedReceiver<Command>,
        events: mpsc::UnboundedSender<ClientEvent>,
    ) -> Self {
        let session_start = state.hello().server_time;
        let backoff = Backoff::new(options.backoff_initial, options.backoff_max);
        Connection {
            endpoint,
            token,
            options,
            state,
            commands,
            events,
            pending: HashMap::new(),
            queued: Vec::new(),
            outbox: Vec::new(),
            sequencer: Sequencer::new(),
            session_start,
            resyncing: false,
            backoff,
        }
    }

    /// Serve `socket`, then reconnect and serve again until the client closes or the server
    /// ends the session.
    pub(crate) async fn run(mut self, socket: Socket) {
        let mut socket = Some(socket);
        loop {
            let current = match socket.take() {
                Some(s) => s,
                None => match self.reconnect().await {
                    Ok(s) => s,
                    Err(stop) => return self.finish(stop),
                },
            };
            let up_since = Instant::now();
            let ended = self.serve(current).await;
            self.state.set_connected(false);
            self.sequencer.on_disconnect();
            self.resyncing = false;
            // Frames not written belong to requests that are failed or abandoned below.
            self.outbox.clear();
            match ended {
                Ended::Stopped(stop) => return self.finish(stop),
                Ended::Dropped { code, reason } => {
                    tracing::debug!(?code, %reason, "connection dropped");
                    if code == Some(close::SESSION_REVOKED) {
                        self.answer_logouts();
                    }
                    self.fail_pending(|| Error::Disconnected);
                    self.emit(ClientEvent::Disconnected {
                        code,
                        reason: reason.clone(),
                    });
                    let terminal = code.is_some_and(|c| !close::should_reconnect(c));
                    if terminal || !self.options.reconnect || self.state.is_closing() {
                        return self.finish(Stop {
                            code,
                            reason,
                            report: false,
                            done: None,
                        });
                    }
                    if up_since.elapsed() >= STABLE_CONNECTION {
                        self.backoff.reset();
                    }
                }
            }
        }
    }

    /// The connection is over for good: fail whatever waits and record why.
    fn finish(mut self, stop: Stop) {
        self.state.set_connected(false);
        self.state.set_closed(stop.code, stop.reason.clone());
        let (code, reason) = (stop.code, stop.reason.clone());
        self.fail_pending(|| Error::Closed {
            code,
            reason: reason.clone(),
        });
        for queued in self.queued.drain(..) {
            let _ = queued.reply.send(Err(Error::Closed {
                code,
                reason: reason.clone(),
            }));
        }
        if stop.report {
            self.emit(ClientEvent::Disconnected {
                code: stop.code,
                reason: stop.reason,
            });
        }
        if let Some(done) = stop.done {
            let _ = done.send(());
        }
    }

    /// The session ended as a logout asked: that is the logout's answer.
    fn answer_logouts(&mut self) {
        let logouts: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| {
                matches!(
                    p,
                    Pending::User {
                        learn: Learn::Logout,
                        ..
                    }
                )
            })
            .map(|(id, _)| *id)
            .collect();
        for id in logouts {
            let empty = RawValue::from_string("{}".to_string()).expect("valid JSON");
            self.on_answer(id, Ok(empty));
        }
    }

    fn fail_pending(&mut self, error: impl Fn() -> Error) {
        for (_, pending) in self.pending.drain() {
            if let Pending::User { reply, .. } = pending {
                let _ = reply.send(Err(error()));
            }
        }
    }

    fn emit(&self, event: ClientEvent) {
        // Nobody listening is fine: the application dropped its event stream.
        let _ = self.events.send(event);
    }

    // ---- one connection --------------------------------------------------------------

    async fn serve(&mut self, socket: Socket) -> Ended {
        let (mut sink, mut stream) = socket.split();
        self.state.set_connected(true);
        for queued in std::mem::take(&mut self.queued) {
            self.pending.insert(
                queued.id,
                Pending::User {
                    learn: queued.learn,
                    reply: queued.reply,
                },
            );
            self.outbox.push(queued.frame);
        }

        let idle = Duration::from_millis(self.state.hello().idle_timeout_ms);
        let keep_alive = !idle.is_zero();
        let period = if keep_alive {
            (idle / 3).max(Duration::from_millis(10))
        } else {
            Duration::from_secs(3600)
        };
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();

        loop {
            if let Err(e) = self.flush(&mut sink).await {
                return Ended::Dropped {
                    code: None,
                    reason: e.to_string(),
                };
            }
            tokio::select! {
                frame = stream.next() => {
                    last_heard = Instant::now();
                    match frame {
                        Some(Ok(WsMessage::Text(text))) => self.on_text(text.as_str()),
                        Some(Ok(WsMessage::Close(frame))) => {
                            let (code, reason) = close_parts(frame);
                            tracing::debug!(?code, %reason, "the server closed the connection");
                            return Ended::Dropped { code, reason };
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            return Ended::Dropped { code: None, reason: e.to_string() };
                        }
                        None => {
                            return Ended::Dropped {
                                code: None,
                                reason: "the connection was closed".to_string(),
                            };
                        }
                    }
                }
                command = self.commands.recv() => match command {
                    Some(Command::Request { id, frame, learn, reply }) => {
                        self.pending.insert(id, Pending::User { learn, reply });
                        self.outbox.push(frame);
                    }
                    Some(Command::Forget(id)) => {
                        if matches!(self.pending.get(&id), Some(Pending::User { .. })) {
                            self.pending.remove(&id);
                        }
                    }
                    Some(Command::Close { done }) => {
                        close_socket(sink, stream).await;
                        return Ended::Stopped(Stop::closed_by_client(true, Some(done)));
                    }
                    None => {
                        close_socket(sink, stream).await;
                        return Ended::Stopped(Stop::closed_by_client(false, None));
                    }
                },
                _ = ticker.tick(), if keep_alive => {
                    if last_heard.elapsed() >= idle {
                        return Ended::Dropped {
                            code: None,
                            reason: "the server stopped answering".to_string(),
                        };
                    }
                    self.send_internal(Request::Ping, Pending::Ping);
                }
            }
        }
    }

    async fn flush(
        &mut self,
        sink: &mut SplitSink<Socket, WsMessage>,
    ) -> Result<(), tungstenite::Error> {
        if self.outbox.is_empty() {
            return Ok(());
        }
        for frame in self.outbox.drain(..) {
            tracing::trace!(%frame, "sending");
            sink.feed(WsMessage::text(frame)).await?;
        }
        sink.flush().await
    }

    fn send_internal(&mut self, request: Request, pending: Pending) {
        let id = self.state.next_id();
        self.pending.insert(id, pending);
        self.outbox.push(ClientFrame { id, request }.encode());
    }

    fn on_text(&mut self, text: &str) {
        tracing::trace!(frame = %text, "received");
        match ServerFrame::decode(text) {
            Ok(ServerFrame::Ok { id, body }) => self.on_answer(id, Ok(body)),
            Ok(ServerFrame::Error {
                id: Some(id),
                error,
            }) => self.on_answer(id, Err(Error::Server(error))),
            Ok(ServerFrame::Error { id: None, error }) => {
                tracing::warn!(%error, "the server refused a frame");
            }
            Ok(ServerFrame::Event(event)) => self.on_event(*event),
            Err(e) => tracing::warn!(error = %e, "undecodable frame from the server"),
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Hello(hello) => self.state.set_hello(hello),
            Event::Message(message) => {
                let steps = self.sequencer.on_message(message);
                self.apply(steps);
            }
            other => self.emit(ClientEvent::Server(other)),
        }
    }

    fn on_answer(&mut self, id: u64, result: Result<Box<RawValue>>) {
        let Some(pending) = self.pending.remove(&id) else {
            tracing::debug!(id, "answer to a request nobody waits for");
            return;
        };
        match pending {
            Pending::User { learn, reply } => {
                if let Ok(body) = &result {
                    self.learn(learn, body);
                }
                let _ = reply.send(result);
            }
            Pending::Ping => {}
            Pending::Resync => match result.and_then(|body| decode::<SyncResponse>(&body)) {
                Ok(sync) => {
                    let positions = sync
                        .conversations
                        .iter()
                        .map(|c| (c.id, c.last_seq, c.last_activity));
                    let steps = self.sequencer.on_resync(positions, self.session_start);
                    self.apply(steps);
                }
                Err(e) => tracing::warn!(error = %e, "sync after reconnecting failed"),
            },
            Pending::Fill { conversation_id } => {
                let steps = match result.and_then(|body| decode::<HistoryResponse>(&body)) {
                    Ok(page) => {
                        self.sequencer
                            .on_page(conversation_id, page.messages, page.has_more)
                    }
                    Err(e) => {
                        tracing::warn!(conversation_id, error = %e, "catching up failed");
                        self.sequencer.on_fetch_failed(conversation_id)
                    }
                };
                self.apply(steps);
            }
            Pending::Recent {
                conversation_id,
                since,
                mut collected,
            } => {
                let page = match result.and_then(|body| decode::<HistoryResponse>(&body)) {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::warn!(conversation_id, error = %e, "catching up failed");
                        HistoryResponse {
                            messages: Vec::new(),
                            has_more: false,
                        }
                    }
                };
                let oldest = page.messages.first().map(|m| (m.seq, m.created_at));
                collected.extend(page.messages.into_iter().filter(|m| m.created_at >= since));
                match oldest {
                    Some((seq, created_at)) if page.has_more && created_at >= since => {
                        let request = HistoryRequest {
                            conversation_id,
                            before: Some(seq),
                            after: None,
                            limit: Some(self.page_size()),
                        };
                        self.send_internal(
                            Request::History(request),
                            Pending::Recent {
                                conversation_id,
                                since,
                                collected,
                            },
                        );
                    }
                    _ => {
                        let steps = self.sequencer.on_page(conversation_id, collected, false);
                        self.apply(steps);
                    }
                }
            }
        }
        self.check_resynced();
    }

    /// Update positions from an application request's answer.
    fn learn(&mut self, learn: Learn, body: &RawValue) {
        match learn {
            Learn::Nothing | Learn::Logout => {}
            Learn::Positions => {
                if let Ok(sync) = decode::<SyncResponse>(body) {
                    for c in &sync.conversations {
                        self.sequencer.on_known(c.id, c.last_seq);
                    }
                }
            }
            Learn::OwnSeq => {
                if let Ok(sent) = decode::<SendResponse>(body) {
                    self.sequencer.on_own(sent.conversation_id, sent.seq);
                }
            }
        }
    }

    fn apply(&mut self, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Deliver(message) => self.emit(ClientEvent::Server(Event::Message(message))),
                Step::FetchAfter {
                    conversation_id,
                    after,
                } => {
                    let request = HistoryRequest {
                        conversation_id,
                        before: None,
                        after: Some(after),
                        limit: Some(self.page_size()),
                    };
                    self.send_internal(
                        Request::History(request),
                        Pending::Fill { conversation_id },
                    );
                }
                Step::FetchSince {
                    conversation_id,
                    since,
                } => {
                    let request = HistoryRequest {
                        conversation_id,
                        before: None,
                        after: None,
                        limit: Some(self.page_size()),
                    };
                    self.send_internal(
                        Request::History(request),
                        Pending::Recent {
                            conversation_id,
                            since,
                            collected: Vec::new(),
                        },
                    );
                }
            }
        }
    }

    fn page_size(&self) -> u32 {
        match self.state.hello().limits.history_page_max {
            0 => CATCH_UP_PAGE,
            max => max.min(CATCH_UP_PAGE),
        }
    }

    fn check_resynced(&mut self) {
        if self.resyncing
            && !self.sequencer.is_fetching()
            && !self.pending.values().any(|p| matches!(p, Pending::Resync))
        {
            self.resyncing = false;
            self.emit(ClientEvent::Resynced);
        }
    }

    // ---- reconnecting ----------------------------------------------------------------

    /// Wait out the backoff and try again until a connection is up, serving commands
    /// meanwhile. `Err` when the client closes or the server refuses the credentials.
    async fn reconnect(&mut self) -> Result<Socket, Stop> {
        loop {
            let delay = self.backoff.next_delay();
            tracing::debug!(?delay, "reconnecting");
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    command = self.commands.recv() => self.on_command_offline(command)?,
                }
            }

            let (endpoint, token) = (self.endpoint.clone(), self.token.clone());
            let attempt = open(&endpoint, &token, self.options.connect_timeout);
            tokio::pin!(attempt);
            let result = loop {
                tokio::select! {
                    result = &mut attempt => break result,
                    command = self.commands.recv() => self.on_command_offline(command)?,
                }
            };
            match result {
                Ok((socket, hello)) => {
                    self.state.set_hello(hello);
                    self.emit(ClientEvent::Connected);
                    self.resyncing = true;
                    self.send_internal(Request::Sync, Pending::Resync);
                    return Ok(socket);
                }
                Err(e) => {
                    if let Some(code) = terminal_code(&e) {
                        return Err(Stop {
                            code: Some(code),
                            reason: e.to_string(),
                            report: true,
                            done: None,
                        });
                    }
                    tracing::debug!(error = %e, "reconnect attempt failed");
                }
            }
        }
    }

    fn on_command_offline(&mut self, command: Option<Command>) -> Result<(), Stop> {
        match command {
            Some(Command::Request {
                id,
                frame,
                learn,
                reply,
            }) => {
                self.queued.push(Queued {
                    id,
                    frame,
                    learn,
                    reply,
                });
                Ok(())
            }
            Some(Command::Forget(id)) => {
                self.queued.retain(|q| q.id != id);
                Ok(())
            }
            Some(Command::Close { done }) => Err(Stop::closed_by_client(false, Some(done))),
            None => Err(Stop::closed_by_client(false, None)),
        }
    }
}

/// The close code that makes a failed reconnect attempt final, if it is one.
fn terminal_code(error: &Error) -> Option<u16> {
    match error {
        Error::Server(e) if e.code == ErrorCode::UnsupportedVersion => {
            Some(close::UNSUPPORTED_VERSION)
        }
        e if e.is_auth_failure() => Some(close::AUTH_FAILED),
        Error::Closed {
            code: Some(code), ..
        } if !close::should_reconnect(*code) => Some(*code),
        _ => None,
    }
}

fn decode<T: DeserializeOwned>(body: &RawValue) -> Result<T> {
    Ok(serde_json::from_str(body.get())?)
}

fn close_parts(frame: Option<CloseFrame>) -> (Option<u16>, String) {
    match frame {
        Some(frame) => (
            Some(u16::from(frame.code)),
            frame.reason.as_str().to_string(),
        ),
        None => (None, "closed without a code".to_string()),
    }
}

/// Send a close frame and wait briefly for the server's answer.
async fn close_socket(mut sink: SplitSink<Socket, WsMessage>, mut stream: SplitStream<Socket>) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "client closing".into(),
    };
    if sink.send(WsMessage::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
}

/// Open the WebSocket and wait for `hello`.
pub(crate) async fn open(
    endpoint: &Endpoint,
    token: &str,
    timeout: Duration,
) -> Result<(Socket, Hello)> {
    let mut request = endpoint.websocket().as_str().into_client_request()?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        Error::Server(WireError::new(
            ErrorCode::InvalidToken,
            "the token contains characters a header cannot carry",
        ))
    })?;
    request.headers_mut().insert(header::AUTHORIZATION, bearer);

    tokio::time::timeout(timeout, async {
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(handshake_error)?;
        let hello = wait_for_hello(&mut socket).await?;
        Ok((socket, hello))
    })
    .await
    .map_err(|_| Error::Timeout)?
}

async fn wait_for_hello(socket: &mut Socket) -> Result<Hello> {
    while let Some(frame) = socket.next().await {
        match frame? {
            WsMessage::Text(text) => match ServerFrame::decode(text.as_str())? {
                ServerFrame::Event(event) => match *event {
                    Event::Hello(hello) => return Ok(hello),
                    other => tracing::debug!(?other, "event before hello ignored"),
                },
                ServerFrame::Error { error, .. } => return Err(Error::Server(error)),
                ServerFrame::Ok { id, .. } => tracing::debug!(id, "answer before hello ignored"),
            },
            WsMessage::Close(frame) => {
                let (code, reason) = close_parts(frame);
                return Err(Error::Closed { code, reason });
            }
            _ => {}
        }
    }
    Err(Error::Disconnected)
}

/// A refused handshake carries `{"error": WireError}`; without it a 401 still means the token
/// was refused.
fn handshake_error(error: tungstenite::Error) -> Error {
    if let tungstenite::Error::Http(response) = &error {
        if let Some(body) = response.body() {
            if let Ok(body) = serde_json::from_slice::<ErrorBody>(body) {
                return Error::Server(body.error);
            }
        }
        if response.status().as_u16() == 401 {
            return Error::Server(WireError::new(
                ErrorCode::InvalidToken,
                "the server refused the token",
            ));
        }
    }
    Error::from(error)
}
