//! # Layout
//!
//! The Rust SDK for Confab, an instant-messaging system, and the library behind the `confab`
//! command-line client.
//!
//! - [`Client`]: one device's connection. [`Client::register`] and [`Client::login`] use the
//!   HTTP account endpoints; [`Client::connect`] opens the WebSocket with the token and returns
//!   a client with one typed async method per request (`send_text`, `sync`, `history`, …;
//!   people: `search_users`, `friend_request`, `friend_accept`, `block`, `update_settings`, …;
//!   group administration: `group_info`, `group_invite`, `group_join`, `group_kick`,
//!   `group_update`, `group_mute`, …), plus the generic [`Client::request`].
//! - Pushed events besides messages include [`proto::ContactEvent`]s (friend requests,
//!   friendships, remarks, blocks) and [`proto::ConversationChanged`] (refetch that
//!   conversation with [`Client::get_conversation`]).
//! - Media: [`Client::upload_file`] and [`Client::upload_bytes`] (`POST /api/v1/media`,
//!   streamed), [`Client::send_media`] with the upload's `content`, [`Client::media_url`] for
//!   signed links, [`Client::download`] (streamed to a file).
//! - [`ClientEvent`] and [`Events`]: pushed messages, read positions, typing and presence, and
//!   the connection's own news (dropped, back, caught up). Messages arrive once each and in
//!   seq order per conversation, also across reconnects.
//! - [`ClientOptions`]: request timeout, reconnect backoff.
//! - [`Error`]: what every call can fail with; [`Error::Server`] carries the server's typed
//!   [`WireError`].
//! - [`Endpoint`]: a server base URL and the addresses derived from it.
//! - [`credentials`]: the file of saved logins the command-line client keeps.
//! - [`proto`]: the wire protocol crate, re-exported.
//!
//! The client pings the server every third of its idle timeout, and reconnects by itself
//! after a drop (exponential backoff from 100 ms to 10 s, with jitter) unless the server closed
//! with a terminal code (4100–4199), e.g. because the session was revoked.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use confab_sdk::proto::http::LoginRequest;
//! use confab_sdk::proto::{Event, Target};
//! use confab_sdk::{Client, ClientEvent};
//!
//! # async fn example() -> confab_sdk::Result<()> {
//! let server = "http://127.0.0.1:8080";
//! let login = Client::login(
//!     server,
//!     LoginRequest {
//!         username: "alice".into(),
//!         password: "correct horse battery".into(),
//!         device_name: Some("laptop".into()),
//!     },
//! )
//! .await?;
//!
//! let client = Client::connect(server, &login.token).await?;
//! println!("hello, {}", client.hello().user.display_name);
//!
//! // Talk to bob: the direct conversation is created by the first message.
//! let bob = client.get_user_by_name("bob").await?;
//! let sent = client.send_text(Target::User(bob.id), "hi bob").await?;
//! println!("stored as #{} in conversation {}", sent.seq, sent.conversation_id);
//!
//! // Print what comes in for a minute.
//! while let Ok(event) = client.next_event_timeout(Duration::from_secs(60)).await {
//!     match event {
//!         ClientEvent::Server(Event::Message(m)) => {
//!             println!("{} #{}: {:?}", m.conversation_id, m.seq, m.content.as_text());
//!         }
//!         ClientEvent::Disconnected { reason, .. } => println!("offline: {reason}"),
//!         _ => {}
//!     }
//! }
//! client.close().await?;
//! # Ok(())
//! # }
//! ```

mod backoff;
mod client;
mod connection;
pub mod credentials;
mod endpoint;
mod error;
mod events;
mod http;
mod sequencer;

pub use client::{new_client_msg_id, Client, ClientOptions};
pub use confab_proto as proto;
pub use confab_proto::WireError;
pub use endpoint::Endpoint;
pub use error::{Error, Result};
pub use events::{ClientEvent, Events};

/// The server the command-line client talks to unless told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
