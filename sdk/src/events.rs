//! What a connected [`crate::Client`] reports: server events and changes of the connection.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use confab_proto::{Event, Message};
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::client::State;
use crate::{Error, Result};

/// One item of a client's event stream.
// Nearly every item is a server event, so boxing it would only add an allocation (and make
// matching on it clumsier).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// An event pushed by the server: a message, a read position, typing or presence.
    ///
    /// Messages come at most once and in seq order per conversation, including those pulled
    /// from history to fill a gap or after a reconnect. The `hello` event is not repeated
    /// here; see [`crate::Client::hello`].
    Server(Event),
    /// The connection is back after a drop (not sent for the first connection, which
    /// [`crate::Client::connect`] reports by returning).
    Connected,
    /// The connection dropped (`code` is the WebSocket close code, if the server sent one). The
    /// client reconnects by itself unless the code is terminal (4100–4199), reconnecting is
    /// disabled, or the client was closed. When it gives up, a last `Disconnected` carries the
    /// terminal code and the stream ends.
    Disconnected { code: Option<u16>, reason: String },
    /// After a reconnect, everything missed while away has been delivered (see
    /// [`crate::Client`] on resuming).
    Resynced,
}

impl ClientEvent {
    /// The message, if this is a pushed (or recovered) message.
    pub fn message(&self) -> Option<&Message> {
        match self {
            ClientEvent::Server(Event::Message(m)) => Some(m),
            _ => None,
        }
    }

    /// The server event, if this is one.
    pub fn server(&self) -> Option<&Event> {
        match self {
            ClientEvent::Server(e) => Some(e),
            _ => None,
        }
    }
}

/// The receiving end of a client's events.
///
/// The channel is unbounded so the connection never stalls on a slow reader: an application
/// that connects should keep reading (or drop the stream with [`crate::Client::take_events`]),
/// otherwise events pile up in memory. It ends after the client is closed for good.
///
/// It is also a [`Stream`] of [`ClientEvent`].
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<ClientEvent>,
    state: Arc<State>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<ClientEvent>, state: Arc<State>) -> Self {
        Events { rx, state }
    }

    /// The next event; `None` once the client is closed and every event was read.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<ClientEvent> {
        self.rx.try_recv().ok()
    }

    /// The next event, or [`Error::Timeout`] if none comes in time (or [`Error::Closed`] if
    /// the stream has ended).
    pub async fn next_timeout(&mut self, timeout: Duration) -> Result<ClientEvent> {
        match tokio::time::timeout(timeout, self.rx.recv()).await {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(self.state.closed_error()),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// Skip events until one satisfies `accept`, all within `timeout`.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut accept: impl FnMut(&ClientEvent) -> bool,
    ) -> Result<ClientEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self.next_timeout(left).await?;
            if accept(&event) {
                return Ok(event);
            }
        }
    }

    /// Skip events until a message arrives, within `timeout`.
    pub async fn next_message(&mut self, timeout: Duration) -> Result<Message> {
        let event = self.wait_for(timeout, |e| e.message().is_some()).await?;
        match event {
            ClientEvent::Server(Event::Message(m)) => Ok(m),
            _ => unreachable!("wait_for only accepts messages"),
        }
    }
}

impl Stream for Events {
    type Item = ClientEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        self.rx.poll_recv(cx)
    }
}
