//! The client against a scripted stand-in for the Confab server: each test accepts the
//! client's WebSocket connections and plays the server's side frame by frame.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use confab_proto::{
    close, encode_error, encode_event, encode_ok, ClientFrame, Content, ConversationSummary, Empty,
    ErrorCode, Event, Hello, HistoryResponse, Limits, Message, Request, SendResponse, SyncResponse,
    Target, TypingEvent, UserPublic, WireError,
};
use confab_sdk::{Client, ClientEvent, ClientOptions, Error};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request as HttpRequest};
use tokio_tungstenite::tungstenite::http::{Response, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

const TOKEN: &str = "good-token";
const WAIT: Duration = Duration::from_secs(5);

/// Fail the test instead of hanging.
async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future).await.expect("timed out")
}

/// A listening stand-in server. Connections with the right token are upgraded, greeted with
/// `hello` and handed to the test; others get HTTP 401 with a Confab error body.
struct MockServer {
    base_url: String,
    connections: mpsc::UnboundedReceiver<Conn>,
    /// When set, every token is refused.
    refuse_all: Arc<AtomicBool>,
}

impl MockServer {
    async fn start(idle_timeout_ms: u64) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, connections) = mpsc::unbounded_channel();
        let refuse_all = Arc::new(AtomicBool::new(false));
        let refuse = Arc::clone(&refuse_all);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                let refuse = refuse.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Some(mut conn) = Conn::accept(stream, refuse).await {
                        conn.push(Event::Hello(hello(idle_timeout_ms))).await;
                        let _ = tx.send(conn);
                    }
                });
            }
        });
        MockServer {
            base_url,
            connections,
            refuse_all,
        }
    }

    async fn next_connection(&mut self) -> Conn {
        within(self.connections.recv()).await.expect("a connection")
    }

    async fn connect(&mut self, options: ClientOptions) -> (Client, Conn) {
        let base_url = self.base_url.clone();
        let (client, conn) = tokio::join!(
            Client::connect_with(&base_url, TOKEN, options),
            self.next_connection()
        );
        (client.expect("connects"), conn)
    }
}

struct Conn {
    ws: WebSocketStream<TcpStream>,
    /// What the handshake asked for: path and query.
    uri: String,
}

impl Conn {
    // The handshake callback's error type is tungstenite's, large or not.
    #[allow(clippy::result_large_err)]
    async fn accept(stream: TcpStream, refuse: bool) -> Option<Conn> {
        let mut uri = String::new();
        let check = |request: &HttpRequest, response| {
            uri = request.uri().to_string();
            let auth = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if !refuse && auth == Some(&format!("Bearer {TOKEN}")) {
                return Ok(response);
            }
            let body = serde_json::json!({
                "error": {"code": "token_revoked", "message": "this session was revoked"}
            })
            .to_string();
            let refusal: ErrorResponse = Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("content-type", "application/json")
                .header("content-length", body.len())
                .body(Some(body))
                .unwrap();
            Err(refusal)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, check)
            .await
            .ok()?;
        Some(Conn { ws, uri })
    }

    async fn send(&mut self, text: String) {
        self.ws.send(WsMessage::text(text)).await.unwrap();
    }

    async fn push(&mut self, event: Event) {
        self.send(encode_event(&event)).await;
    }

    async fn ok<T: Serialize>(&mut self, id: u64, body: &T) {
        self.send(encode_ok(id, body)).await;
    }

    async fn refuse(&mut self, id: u64, error: WireError) {
        self.send(encode_error(Some(id), &error)).await;
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = self.ws.send(WsMessage::Close(Some(frame))).await;
    }

    /// The next request, answering keep-alive pings on the way. `None` when the client closed.
    async fn request(&mut self) -> Option<ClientFrame> {
        loop {
            match within(self.ws.next()).await? {
                Ok(WsMessage::Text(text)) => {
                    let frame = ClientFrame::decode(text.as_str()).expect("a valid request");
                    if frame.request == Request::Ping {
                        self.ok(frame.id, &Empty {}).await;
                        continue;
                    }
                    return Some(frame);
                }
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    async fn expect_request(&mut self) -> ClientFrame {
        self.request().await.expect("a request")
    }
}

fn user(id: i64, username: &str) -> UserPublic {
    UserPublic {
        id,
        username: username.into(),
        display_name: username.to_uppercase(),
        avatar: None,
        status_text: None,
        is_bot: false,
    }
}

fn hello(idle_timeout_ms: u64) -> Hello {
    Hello {
        protocol: 1,
        server_version: "mock".into(),
        user: user(1, "alice"),
        device_id: 7,
        server_time: 1_000,
        idle_timeout_ms,
        limits: Limits {
            max_frame_bytes: 65_536,
            max_text_chars: 4_000,
            max_group_members: 100,
            recall_window_ms: 120_000,
            history_page_max: 100,
            max_image_bytes: 1 << 20,
            max_voice_bytes: 1 << 20,
            max_video_bytes: 1 << 20,
            max_file_bytes: 1 << 20,
        },
    }
}

fn message(conversation_id: i64, seq: i64) -> Message {
    Message {
        conversation_id,
        seq,
        sender_id: 2,
        client_msg_id: None,
        created_at: 2_000 + seq,
        content: Content::text(format!("m{seq}")),
        reply_to: None,
        mentions: vec![],
        mention_all: false,
    }
}

/// Built from JSON so fields the protocol adds later take their defaults.
fn summary(id: i64, last_seq: i64, last_activity: i64) -> ConversationSummary {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "kind": "direct",
        "name": "bob",
        "peer": user(2, "bob"),
        "role": "member",
        "member_count": 2,
        "last_seq": last_seq,
        "read_seq": 0,
        "unread": last_seq,
        "last_activity": last_activity,
    }))
    .unwrap()
}

fn options() -> ClientOptions {
    ClientOptions::default().backoff(Duration::from_millis(10), Duration::from_millis(50))
}

/// Collect message seqs until `n` have arrived.
async fn message_seqs(client: &Client, n: usize) -> Vec<(i64, i64)> {
    let mut seqs = Vec::new();
    while seqs.len() < n {
        let m = client.next_message(WAIT).await.expect("a message");
        seqs.push((m.conversation_id, m.seq));
    }
    seqs
}

#[tokio::test]
async fn connects_with_a_bearer_token_and_keeps_the_hello() {
    let mut server = MockServer::start(60_000).await;
    let (client, conn) = server.connect(options()).await;
    assert_eq!(conn.uri, "/ws?v=1");
    let hello = client.hello();
    assert_eq!(
        (hello.user.username.as_str(), hello.device_id),
        ("alice", 7)
    );
    assert!(client.is_connected());
}

#[tokio::test]
async fn a_refused_token_is_a_typed_server_error() {
    let server = MockServer::start(60_000).await;
    let err = Client::connect(&server.base_url, "stale-token")
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some(ErrorCode::TokenRevoked), "{err:?}");
    assert!(err.is_auth_failure());
}

#[tokio::test]
async fn answers_are_matched_to_requests_by_id() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;

    let bob = tokio::spawn({
        let client = client.clone();
        async move { client.get_user_by_name("bob").await }
    });
    let first = conn.expect_request().await;
    let carol = tokio::spawn({
        let client = client.clone();
        async move { client.get_user(3).await }
    });
    let second = conn.expect_request().await;
    assert!(matches!(&first.request, Request::GetUser(g) if g.username.as_deref() == Some("bob")));
    assert!(matches!(&second.request, Request::GetUser(g) if g.user_id == Some(3)));

    // Answer in the opposite order.
    conn.ok(second.id, &user(3, "carol")).await;
    conn.ok(first.id, &user(2, "bob")).await;
    assert_eq!(within(carol).await.unwrap().unwrap().username, "carol");
    assert_eq!(within(bob).await.unwrap().unwrap().username, "bob");
}

#[tokio::test]
async fn refusals_carry_the_wire_error() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.mark_read(9, 3).await }
    });
    let frame = conn.expect_request().await;
    conn.refuse(
        frame.id,
        WireError::new(ErrorCode::NotMember, "not a member"),
    )
    .await;
    let err = within(call).await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotMember));
    assert_eq!(err.wire().unwrap().message, "not a member");
}

#[tokio::test]
async fn send_text_uses_a_fresh_client_msg_id() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.send_text(Target::User(2), "hi").await }
    });
    let frame = conn.expect_request().await;
    let Request::Send(send) = &frame.request else {
        panic!("expected a send, got {:?}", frame.request);
    };
    assert_eq!(send.to, Target::User(2));
    assert_eq!(send.content, Content::text("hi"));
    assert_eq!(send.client_msg_id.len(), 16);
    assert!(send.client_msg_id.chars().all(|c| c.is_ascii_hexdigit()));
    let answer = SendResponse {
        conversation_id: 5,
        seq: 1,
        created_at: 3_000,
        duplicate: false,
    };
    conn.ok(frame.id, &answer).await;
    assert_eq!(within(call).await.unwrap().unwrap(), answer);
}

#[tokio::test]
async fn a_request_without_an_answer_times_out() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server
        .connect(options().request_timeout(Duration::from_millis(200)))
        .await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.sync().await }
    });
    conn.expect_request().await;
    assert!(matches!(within(call).await.unwrap(), Err(Error::Timeout)));
}

#[tokio::test]
async fn pushed_events_are_delivered_once_and_in_order() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    conn.push(Event::Message(message(5, 1))).await;
    conn.push(Event::Message(message(5, 1))).await; // duplicate
    conn.push(Event::Typing(TypingEvent {
        conversation_id: 5,
        user_id: 2,
    }))
    .await;
    conn.push(Event::Message(message(5, 2))).await;

    assert_eq!(client.next_message(WAIT).await.unwrap().seq, 1);
    let typing = client.next_event_timeout(WAIT).await.unwrap();
    assert!(matches!(typing, ClientEvent::Server(Event::Typing(_))));
    assert_eq!(client.next_message(WAIT).await.unwrap().seq, 2);
    assert!(matches!(
        client.next_event_timeout(Duration::from_millis(100)).await,
        Err(Error::Timeout)
    ));
}

#[tokio::test]
async fn a_gap_is_filled_from_history_before_later_messages() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    conn.push(Event::Message(message(5, 1))).await;
    conn.push(Event::Message(message(5, 4))).await;
    let frame = conn.expect_request().await;
    let Request::History(history) = &frame.request else {
        panic!("expected history, got {:?}", frame.request);
    };
    assert_eq!((history.conversation_id, history.after), (5, Some(1)));
    assert_eq!(history.limit, Some(100), "capped by history_page_max");
    // Another message arrives while the gap is being filled.
    conn.push(Event::Message(message(5, 5))).await;
    let page = HistoryResponse {
        messages: vec![message(5, 2), message(5, 3), message(5, 4)],
        has_more: false,
    };
    conn.ok(frame.id, &page).await;
    assert_eq!(
        message_seqs(&client, 5).await,
        vec![(5, 1), (5, 2), (5, 3), (5, 4), (5, 5)]
    );
}

#[tokio::test]
async fn own_sends_do_not_look_like_gaps() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    conn.push(Event::Message(message(5, 1))).await;
    assert_eq!(client.next_message(WAIT).await.unwrap().seq, 1);

    let call = tokio::spawn({
        let client = client.clone();
        async move { client.send_text(Target::Conversation(5), "mine").await }
    });
    let frame = conn.expect_request().await;
    let answer = SendResponse {
        conversation_id: 5,
        seq: 2,
        created_at: 3_000,
        duplicate: false,
    };
    conn.ok(frame.id, &answer).await;
    within(call).await.unwrap().unwrap();

    // Seq 3 follows this device's own 2: delivered at once, no history pull.
    conn.push(Event::Message(message(5, 3))).await;
    assert_eq!(client.next_message(WAIT).await.unwrap().seq, 3);
}

#[tokio::test]
async fn reconnects_and_delivers_what_was_missed() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    conn.push(Event::Message(message(5, 1))).await;
    assert_eq!(client.next_message(WAIT).await.unwrap().seq, 1);

    conn.close(close::SERVER_SHUTDOWN, "restarting").await;
    let dropped = client.next_event_timeout(WAIT).await.unwrap();
    assert_eq!(
        dropped,
        ClientEvent::Disconnected {
            code: Some(close::SERVER_SHUTDOWN),
            reason: "restarting".into()
        }
    );

    let mut conn = server.next_connection().await;
    assert_eq!(
        client.next_event_timeout(WAIT).await.unwrap(),
        ClientEvent::Connected
    );
    let sync = conn.expect_request().await;
    assert_eq!(sync.request, Request::Sync);
    let answer = SyncResponse {
        conversations: vec![
            summary(5, 3, 2_003), // missed 2 and 3
            summary(6, 4, 500),   // unknown, quiet since before the client connected
            summary(8, 2, 2_002), // unknown, active while the client was away
        ],
        total_unread: 9,
    };
    conn.ok(sync.id, &answer).await;

    let mut pulls = Vec::new();
    for _ in 0..2 {
        pulls.push(conn.expect_request().await);
    }
    for frame in &pulls {
        let Request::History(h) = &frame.request else {
            panic!("expected history, got {:?}", frame.request);
        };
        let page = match (h.conversation_id, h.after, h.before) {
            (5, Some(1), None) => vec![message(5, 2), message(5, 3)],
            (8, None, None) => {
                let mut old = message(8, 1);
                old.created_at = 900; // before the session began: not news
                vec![old, message(8, 2)]
            }
            other => panic!("unexpected history request {other:?}"),
        };
        conn.ok(
            frame.id,
            &HistoryResponse {
                messages: page,
                has_more: false,
            },
        )
        .await;
    }

    let mut seqs = Vec::new();
    loop {
        match client.next_event_timeout(WAIT).await.unwrap() {
            ClientEvent::Server(Event::Message(m)) => seqs.push((m.conversation_id, m.seq)),
            ClientEvent::Resynced => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    seqs.sort();
    assert_eq!(seqs, vec![(5, 2), (5, 3), (8, 2)]);

    // Positions carry on: 4 follows directly, a repeat of 3 is dropped.
    conn.push(Event::Message(message(5, 3))).await;
    conn.push(Event::Message(message(5, 4))).await;
    assert_eq!(client.next_message(WAIT).await.unwrap().seq, 4);
}

#[tokio::test]
async fn requests_in_flight_fail_when_the_connection_drops() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.sync().await }
    });
    conn.expect_request().await;
    drop(conn);
    assert!(matches!(
        within(call).await.unwrap(),
        Err(Error::Disconnected)
    ));

    // Requests made while reconnecting wait for the new connection.
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.get_user(2).await }
    });
    let mut conn = server.next_connection().await;
    loop {
        let frame = conn.expect_request().await;
        match frame.request {
            Request::Sync => {
                let empty = SyncResponse {
                    conversations: vec![],
                    total_unread: 0,
                };
                conn.ok(frame.id, &empty).await;
            }
            Request::GetUser(_) => {
                conn.ok(frame.id, &user(2, "bob")).await;
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(within(call).await.unwrap().unwrap().username, "bob");
}

#[tokio::test]
async fn a_terminal_close_ends_the_client() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    conn.close(close::SESSION_REVOKED, "revoked").await;
    let event = client
        .wait_for_event(WAIT, |e| matches!(e, ClientEvent::Disconnected { .. }))
        .await
        .unwrap();
    assert_eq!(
        event,
        ClientEvent::Disconnected {
            code: Some(close::SESSION_REVOKED),
            reason: "revoked".into()
        }
    );
    assert_eq!(within(client.next_event()).await, None, "the stream ends");
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Closed {
                code: Some(close::SESSION_REVOKED),
                ..
            }
        ),
        "{err:?}"
    );
    // No reconnect attempt.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), server.connections.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_refused_token_on_reconnect_stops_reconnecting() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    // The session is revoked while the connection is down.
    server.refuse_all.store(true, Ordering::SeqCst);
    conn.close(close::SERVER_SHUTDOWN, "restarting").await;
    let mut disconnects = Vec::new();
    while let Some(event) = within(client.next_event()).await {
        match event {
            ClientEvent::Disconnected { code, .. } => disconnects.push(code),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        disconnects,
        vec![Some(close::SERVER_SHUTDOWN), Some(close::AUTH_FAILED)]
    );
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Closed {
                code: Some(close::AUTH_FAILED),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn close_while_reconnecting_stops_the_attempts() {
    let mut server = MockServer::start(60_000).await;
    let (client, conn) = server.connect(options()).await;
    drop(conn);
    drop(server);
    let event = client
        .wait_for_event(WAIT, |e| matches!(e, ClientEvent::Disconnected { .. }))
        .await
        .unwrap();
    assert!(matches!(
        event,
        ClientEvent::Disconnected { code: None, .. }
    ));
    // The listener is gone, so attempts fail and keep going until the client is closed.
    assert!(!client.is_connected());
    within(client.close()).await.unwrap();
    assert_eq!(within(client.next_event()).await, None);
}

#[tokio::test]
async fn pings_keep_the_connection_alive() {
    let mut server = MockServer::start(300).await;
    let (client, mut conn) = server.connect(options()).await;
    // No request from the application: the first frame is the keep-alive (after ~100 ms).
    let frame = match within(conn.ws.next()).await {
        Some(Ok(WsMessage::Text(text))) => ClientFrame::decode(text.as_str()).unwrap(),
        other => panic!("expected a ping, got {other:?}"),
    };
    assert_eq!(frame.request, Request::Ping);
    conn.ok(frame.id, &Empty {}).await;
    assert!(client.is_connected());
}

#[tokio::test]
async fn close_is_graceful_and_final() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let closing = tokio::spawn({
        let client = client.clone();
        async move { client.close().await }
    });
    assert!(conn.request().await.is_none(), "the server sees a close");
    within(closing).await.unwrap().unwrap();
    assert!(!client.is_connected());
    assert!(matches!(client.ping().await, Err(Error::Closed { .. })));
    let last = client.next_event_timeout(WAIT).await.unwrap();
    assert!(matches!(
        last,
        ClientEvent::Disconnected {
            code: Some(1000),
            ..
        }
    ));
}

#[tokio::test]
async fn logout_closes_for_good() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let logout = tokio::spawn({
        let client = client.clone();
        async move { client.logout().await }
    });
    let frame = conn.expect_request().await;
    assert_eq!(frame.request, Request::Logout);
    conn.ok(frame.id, &Empty {}).await;
    conn.close(close::SESSION_REVOKED, "logged out").await;
    within(logout).await.unwrap().unwrap();
    assert!(matches!(client.ping().await, Err(Error::Closed { .. })));
}

#[tokio::test]
async fn a_logout_answered_by_the_revoking_close_succeeds() {
    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let logout = tokio::spawn({
        let client = client.clone();
        async move { client.logout().await }
    });
    let frame = conn.expect_request().await;
    assert_eq!(frame.request, Request::Logout);
    conn.close(close::SESSION_REVOKED, "session revoked").await;
    within(logout).await.unwrap().unwrap();
    assert!(matches!(client.ping().await, Err(Error::Closed { .. })));
}

#[tokio::test]
async fn register_and_login_map_http_errors() {
    // A tiny HTTP responder: every request gets 409 with a Confab error body.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let body = r#"{"error":{"code":"username_taken","message":"taken"}}"#;
            let response = format!(
                "HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    let err = Client::register(
        &base_url,
        confab_proto::http::RegisterRequest {
            username: "alice".into(),
            password: "long enough 1".into(),
            display_name: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UsernameTaken), "{err:?}");
}

/// The canned answer to a people or group request, as the server's JSON.
fn canned_answer(request: &Request) -> serde_json::Value {
    use serde_json::json;
    let friend = json!({"user": user(2, "bob"), "remark": "Bobby", "since": 5_000});
    let info = json!({
        "conversation_id": 5, "name": "Team", "announcement": "standup at 10",
        "join_policy": "invite_only", "mute_all": false, "owner_id": 1, "member_count": 3,
        "max_members": 100, "dissolved": false, "my_role": "owner", "invite_code": "abc"
    });
    match request {
        Request::SearchUsers(_) => json!({"users": [user(2, "bob")], "has_more": true}),
        Request::FriendAccept(_) => friend,
        Request::Friends => json!({ "friends": [friend] }),
        Request::FriendRequests => json!({
            "incoming": [],
            "outgoing": [{"from": user(1, "alice"), "to": user(3, "carol"), "note": "hi",
                          "created_at": 6_000}],
        }),
        Request::Blocked => json!({"users": [user(3, "carol")]}),
        Request::GetSettings => json!({"direct_messages": "friends_only"}),
        Request::UpdateSettings(_) => json!({"direct_messages": "anyone"}),
        Request::GroupInfo(_) | Request::GroupUpdate(_) => info,
        Request::GroupJoin(_) => json!({"conversation_id": 5, "outcome": "pending"}),
        Request::GroupJoinRequests(_) => json!({"requests": [
            {"conversation_id": 5, "user": user(3, "carol"), "note": null, "created_at": 7_000}
        ]}),
        Request::GroupInviteCode(_) => json!({"conversation_id": 5, "invite_code": "xyz"}),
        _ => json!({}),
    }
}

#[tokio::test]
async fn people_and_group_methods_speak_the_wire_forms() {
    use confab_proto::{DirectPolicy, GroupJoin, GroupUpdate, JoinOutcome, JoinPolicy, Role};
    use serde_json::json;

    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(frame) = conn.request().await {
            let _ = seen_tx.send(serde_json::to_value(&frame.request).unwrap());
            let answer = canned_answer(&frame.request);
            conn.send(format!(r#"{{"id":{},"ok":{answer}}}"#, frame.id))
                .await;
        }
    });
    // Each call's frame as sent (without its id).
    let mut sent = move || {
        seen.try_recv()
            .expect("the request reached the server before its answer")
    };

    client.set_muted(5, true).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "set_muted", "data": {"conversation_id": 5, "muted": true}})
    );

    // People.
    let page = client.search_users("bo").await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "search_users", "data": {"query": "bo"}})
    );
    assert_eq!(
        (page.users[0].username.as_str(), page.has_more),
        ("bob", true)
    );

    client
        .friend_request(2, Some("it's Ann".into()))
        .await
        .unwrap();
    assert_eq!(
        sent(),
        json!({"type": "friend_request", "data": {"user_id": 2, "note": "it's Ann"}})
    );
    client.friend_request(3, None).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "friend_request", "data": {"user_id": 3}})
    );

    let friend = client.friend_accept(2).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "friend_accept", "data": {"user_id": 2}})
    );
    assert_eq!(
        (friend.user.id, friend.remark.as_deref(), friend.since),
        (2, Some("Bobby"), 5_000)
    );

    client.friend_decline(3).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "friend_decline", "data": {"user_id": 3}})
    );
    client.friend_delete(2).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "friend_delete", "data": {"user_id": 2}})
    );

    // Requests without a body carry no `data`.
    let friends = client.friends().await.unwrap();
    assert_eq!(sent(), json!({"type": "friends"}));
    assert_eq!(friends.len(), 1);
    let requests = client.friend_requests().await.unwrap();
    assert_eq!(sent(), json!({"type": "friend_requests"}));
    assert_eq!(
        (requests.incoming.len(), requests.outgoing[0].to.id),
        (0, 3)
    );

    client.friend_remark(2, "Bob (work)").await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "friend_remark", "data": {"user_id": 2, "remark": "Bob (work)"}})
    );
    client.block(3).await.unwrap();
    assert_eq!(sent(), json!({"type": "block", "data": {"user_id": 3}}));
    client.unblock(3).await.unwrap();
    assert_eq!(sent(), json!({"type": "unblock", "data": {"user_id": 3}}));
    let blocked = client.blocked().await.unwrap();
    assert_eq!(sent(), json!({"type": "blocked"}));
    assert_eq!(blocked[0].username, "carol");

    let settings = client.get_settings().await.unwrap();
    assert_eq!(sent(), json!({"type": "get_settings"}));
    assert_eq!(settings.direct_messages, DirectPolicy::FriendsOnly);
    let settings = client
        .update_settings(confab_proto::Settings {
            direct_messages: DirectPolicy::Anyone,
        })
        .await
        .unwrap();
    assert_eq!(
        sent(),
        json!({"type": "update_settings", "data": {"direct_messages": "anyone"}})
    );
    assert_eq!(settings.direct_messages, DirectPolicy::Anyone);

    // Groups.
    let info = client.group_info(5).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_info", "data": {"conversation_id": 5}})
    );
    assert_eq!(
        (info.join_policy, info.my_role, info.invite_code.as_deref()),
        (JoinPolicy::InviteOnly, Some(Role::Owner), Some("abc"))
    );

    client.group_invite(5, vec![7, 8]).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_invite", "data": {"conversation_id": 5, "user_ids": [7, 8]}})
    );

    let joined = client
        .group_join(GroupJoin {
            invite_code: Some("xyz".into()),
            ..GroupJoin::default()
        })
        .await
        .unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_join", "data": {"invite_code": "xyz"}})
    );
    assert_eq!(joined.outcome, JoinOutcome::Pending);

    let waiting = client.group_join_requests(5).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_join_requests", "data": {"conversation_id": 5}})
    );
    assert_eq!(waiting[0].user.username, "carol");

    let pair = json!({"conversation_id": 5, "user_id": 7});
    client.group_approve(5, 7).await.unwrap();
    assert_eq!(sent(), json!({"type": "group_approve", "data": pair}));
    client.group_reject(5, 7).await.unwrap();
    assert_eq!(sent(), json!({"type": "group_reject", "data": pair}));
    client.group_kick(5, 7).await.unwrap();
    assert_eq!(sent(), json!({"type": "group_kick", "data": pair}));
    client.group_transfer(5, 7).await.unwrap();
    assert_eq!(sent(), json!({"type": "group_transfer", "data": pair}));
    client.group_leave(5).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_leave", "data": {"conversation_id": 5}})
    );
    client.group_dissolve(5).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_dissolve", "data": {"conversation_id": 5}})
    );

    client.group_set_role(5, 7, Role::Admin).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_set_role",
               "data": {"conversation_id": 5, "user_id": 7, "role": "admin"}})
    );

    let info = client
        .group_update(GroupUpdate {
            conversation_id: 5,
            announcement: Some("standup at 10".into()),
            mute_all: Some(true),
            ..GroupUpdate::default()
        })
        .await
        .unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_update",
               "data": {"conversation_id": 5, "announcement": "standup at 10", "mute_all": true}})
    );
    assert_eq!(info.announcement.as_deref(), Some("standup at 10"));

    client.group_remark(5, "family").await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_remark", "data": {"conversation_id": 5, "text": "family"}})
    );
    client.group_nickname(5, "Ann").await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_nickname", "data": {"conversation_id": 5, "text": "Ann"}})
    );

    // Mutes are whole seconds, rounded up so a short mute is never a lift.
    for (duration, secs) in [
        (Duration::from_secs(600), 600),
        (Duration::from_millis(1_500), 2),
        (Duration::ZERO, 0),
    ] {
        client.group_mute(5, 7, duration).await.unwrap();
        assert_eq!(
            sent(),
            json!({"type": "group_mute",
                   "data": {"conversation_id": 5, "user_id": 7, "duration_secs": secs}})
        );
    }

    let code = client.group_invite_code(5, true).await.unwrap();
    assert_eq!(
        sent(),
        json!({"type": "group_invite_code", "data": {"conversation_id": 5, "reset": true}})
    );
    assert_eq!(code, "xyz");
}

#[tokio::test]
async fn contact_and_conversation_events_reach_the_application() {
    use confab_proto::{ContactEvent, ConversationChanged};

    let mut server = MockServer::start(60_000).await;
    let (client, mut conn) = server.connect(options()).await;
    conn.push(Event::Contact(ContactEvent::Blocked {
        user_id: 3,
        blocked: true,
    }))
    .await;
    conn.push(Event::ConversationChanged(ConversationChanged {
        conversation_id: 5,
    }))
    .await;
    let first = client.next_event_timeout(WAIT).await.unwrap();
    assert!(
        matches!(
            first,
            ClientEvent::Server(Event::Contact(ContactEvent::Blocked {
                user_id: 3,
                blocked: true
            }))
        ),
        "{first:?}"
    );
    let second = client.next_event_timeout(WAIT).await.unwrap();
    assert!(
        matches!(
            second,
            ClientEvent::Server(Event::ConversationChanged(ConversationChanged {
                conversation_id: 5
            }))
        ),
        "{second:?}"
    );
}
