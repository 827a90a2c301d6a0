//! The AI assistant against a fake OpenAI-compatible endpoint started by each test (axum on
//! `127.0.0.1:0`, speaking the chat-completions wire format: JSON, or `text/event-stream`
//! chunks ending with `data: [DONE]`). The fake records every request so the tests can check
//! what the server sends: model, messages, trimming, and the key only in the header.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use confab_proto::{
    AssistantFailure, Content, ConversationId, ErrorCode, Event, GroupUpdate, Message, ReplyStatus,
    Request, SendRequest, Target, UserPublic,
};
use confab_sdk::{Client, ClientEvent};
use confab_server::config::{ApiKey, Config};
use confab_tests::{call, TestServer};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "sk-test-very-secret-key";

/// What the fake endpoint does with the next request.
#[derive(Clone)]
enum Behavior {
    /// Stream these pieces (20 ms apart), then `[DONE]` — or stall forever with `hang`.
    Stream { chunks: Vec<String>, hang: bool },
    /// Answer with this status and an OpenAI-style error body.
    Status(u16),
    /// A 200 event stream whose data is not JSON.
    Garbage,
    /// Never answer.
    Hang,
}

impl Behavior {
    fn stream(chunks: &[&str]) -> Behavior {
        Behavior::Stream {
            chunks: chunks.iter().map(|c| c.to_string()).collect(),
            hang: false,
        }
    }
}

#[derive(Debug, Clone)]
struct Recorded {
    authorization: Option<String>,
    raw: String,
    body: Value,
}

#[derive(Clone, Default)]
struct FakeState {
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Behavior>>>,
}

struct Fake {
    base_url: String,
    state: FakeState,
}

impl Fake {
    async fn start() -> Fake {
        let state = FakeState::default();
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(completions))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake {
            base_url: format!("http://{addr}/v1"),
            state,
        }
    }

    fn then(&self, behavior: Behavior) {
        self.state.script.lock().unwrap().push_back(behavior);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    fn last(&self) -> Recorded {
        self.requests().pop().expect("the fake received a request")
    }

    /// The server configured against this fake, changed by `tweak`.
    async fn server(&self, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let base_url = self.base_url.clone();
        TestServer::start_with(move |c| {
            c.assistant.base_url = base_url;
            c.assistant.api_key = ApiKey::new(KEY);
            c.assistant.model = "test-model".into();
            c.assistant.system_prompt = "SYSTEM PROMPT".into();
            c.assistant.request_timeout_ms = 1500;
            c.assistant.stream_idle_timeout_ms = 1500;
            tweak(c)
        })
        .await
    }
}

fn chunk(content: &str) -> String {
    let v = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
        "model": "test-model",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]
    });
    format!("data: {v}\n\n")
}

async fn completions(State(state): State<FakeState>, headers: HeaderMap, raw: String) -> Response {
    let body: Value = serde_json::from_str(&raw).expect("the server sends JSON");
    state.requests.lock().unwrap().push(Recorded {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        raw: raw.clone(),
        body: body.clone(),
    });
    let streaming = body["stream"].as_bool().unwrap_or(false);
    let behavior = state.script.lock().unwrap().pop_front();
    let event_stream = |rx: tokio::sync::mpsc::Receiver<String>| {
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|s| (Ok::<_, std::convert::Infallible>(s), rx))
        });
        (
            [("content-type", "text/event-stream")],
            Body::from_stream(stream),
        )
            .into_response()
    };
    match behavior {
        Some(Behavior::Status(status)) => {
            let error = json!({"error": {
                "message": "refused by the fake", "type": "fake_error", "param": null, "code": null
            }});
            (StatusCode::from_u16(status).unwrap(), axum::Json(error)).into_response()
        }
        Some(Behavior::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
        Some(Behavior::Garbage) => {
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tx.send("data: {\"this is\": not json at all\n\n".into())
                .await
                .unwrap();
            tx.send("data: [DONE]\n\n".into()).await.unwrap();
            event_stream(rx)
        }
        Some(Behavior::Stream { chunks, hang }) => {
            let (tx, rx) = tokio::sync::mpsc::channel(16);
            tokio::spawn(async move {
                for c in chunks {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if tx.send(chunk(&c)).await.is_err() {
                        return;
                    }
                }
                if hang {
                    while !tx.is_closed() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    return;
                }
                let _ = tx.send("data: [DONE]\n\n".into()).await;
            });
            event_stream(rx)
        }
        None if streaming => {
            let (tx, rx) = tokio::sync::mpsc::channel(16);
            tokio::spawn(async move {
                for c in ["Hello", ", ", "world"] {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let _ = tx.send(chunk(c)).await;
                }
                let _ = tx.send("data: [DONE]\n\n".into()).await;
            });
            event_stream(rx)
        }
        None => {
            // Non-streamed: answer with what the last user message said, marked.
            let last = body["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["content"].as_str())
                .unwrap_or_default()
                .to_owned();
            axum::Json(json!({
                "id": "chatcmpl-2", "object": "chat.completion", "created": 1,
                "model": "test-model",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": format!("FAKE[{last}]")}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            }))
            .into_response()
        }
    }
}

async fn bot(client: &Client) -> UserPublic {
    let status = client.assistant_status().await.unwrap();
    assert!(status.configured);
    assert_eq!(status.model.as_deref(), Some("test-model"));
    let bot = status.bot.expect("the bot user");
    assert!(bot.is_bot);
    assert_eq!(bot.username, "assistant");
    bot
}

/// Reads events until the bot's reply is stored: the deltas (joined), the done delta's seq,
/// and the stored message.
async fn reply(client: &Client, conv: ConversationId) -> (String, Option<i64>, Message) {
    let mut text = String::new();
    let mut done_seq = None;
    let mut message = None;
    while done_seq.is_none() || message.is_none() {
        match client.next_event_timeout(WAIT).await.expect("reply events") {
            ClientEvent::Server(Event::AssistantDelta(d)) if d.conversation_id == conv => {
                if d.done {
                    done_seq = Some(d.seq);
                } else {
                    assert!(done_seq.is_none(), "no delta after done");
                    text.push_str(&d.delta);
                }
            }
            ClientEvent::Server(Event::Message(m))
                if m.conversation_id == conv && matches!(m.content, Content::Assistant(_)) =>
            {
                message = Some(m)
            }
            _ => {}
        }
    }
    (text, done_seq.unwrap(), message.unwrap())
}

fn assistant_reply(m: &Message) -> &confab_proto::AssistantReply {
    match &m.content {
        Content::Assistant(r) => r,
        other => panic!("not an assistant reply: {other:?}"),
    }
}

fn roles_and_contents(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_direct_chat_streams_to_every_device_and_stores_the_reply() {
    let fake = Fake::start().await;
    // Friends-only direct messages (the default): the assistant is reachable anyway.
    let server = fake.server(|_| {}).await;
    let (phone, _) = server.client("alice").await;
    let laptop_login = confab_tests::login(&server.base_url, "alice", "laptop").await;
    let laptop = Client::connect(&server.base_url, &laptop_login.token)
        .await
        .unwrap();
    let bot = bot(&phone).await;

    fake.then(Behavior::stream(&["Hel", "lo", " there", "!"]));
    let sent = phone
        .send_text(Target::User(bot.id), "hi assistant")
        .await
        .unwrap();
    let conv = sent.conversation_id;
    let (a_text, a_seq, a_msg) = reply(&phone, conv).await;
    let (b_text, b_seq, b_msg) = reply(&laptop, conv).await;
    assert_eq!(a_text, "Hello there!");
    assert_eq!(b_text, a_text);
    assert_eq!(a_msg, b_msg);
    assert_eq!(a_seq, Some(a_msg.seq));
    assert_eq!(b_seq, Some(a_msg.seq));
    assert_eq!(a_msg.sender_id, bot.id);
    assert_eq!(a_msg.reply_to, Some(sent.seq));
    let r = assistant_reply(&a_msg);
    assert_eq!(
        (r.text.as_str(), r.status),
        ("Hello there!", ReplyStatus::Complete)
    );

    // What the endpoint saw: the model, the system prompt first, the question; the key only
    // in the Authorization header.
    let seen = fake.last();
    assert_eq!(seen.body["model"], "test-model");
    assert_eq!(seen.body["stream"], true);
    assert_eq!(
        roles_and_contents(&seen.body),
        vec![
            ("system".to_owned(), "SYSTEM PROMPT".to_owned()),
            ("user".to_owned(), "hi assistant".to_owned())
        ]
    );
    assert_eq!(
        seen.authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    assert!(!seen.raw.contains(KEY));

    // The next question carries the conversation so far.
    phone
        .send_text(Target::Conversation(conv), "and again?")
        .await
        .unwrap();
    let (text, _, _) = reply(&phone, conv).await;
    assert_eq!(text, "Hello, world");
    assert_eq!(
        roles_and_contents(&fake.last().body),
        vec![
            ("system".to_owned(), "SYSTEM PROMPT".to_owned()),
            ("user".to_owned(), "hi assistant".to_owned()),
            ("assistant".to_owned(), "Hello there!".to_owned()),
            ("user".to_owned(), "and again?".to_owned()),
        ]
    );

    // Stored like any other message: history and the conversation list agree.
    let history = laptop
        .history(confab_proto::HistoryRequest {
            conversation_id: conv,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(history.messages.len(), 4);
    assert_eq!(history.messages[1], a_msg);
    let summary = laptop.get_conversation(conv).await.unwrap();
    assert!(summary.peer.unwrap().is_bot);
}

#[tokio::test]
async fn the_context_is_trimmed_to_the_budget_newest_kept() {
    let fake = Fake::start().await;
    let server = fake
        .server(|c| {
            c.assistant.context_tokens = 100;
            c.assistant.system_prompt = "S".into();
        })
        .await;
    let (alice, _) = server.client("alice").await;
    let bot = bot(&alice).await;
    let mut conv = None;
    for i in 0..5 {
        // 100 characters: 25 + 4 estimated tokens each.
        let text = format!("{i}{}", "x".repeat(99));
        let to = conv.map_or(Target::User(bot.id), Target::Conversation);
        let sent = alice.send_text(to, text).await.unwrap();
        conv = Some(sent.conversation_id);
        reply(&alice, sent.conversation_id).await;
    }
    let messages = roles_and_contents(&fake.last().body);
    assert_eq!(messages[0], ("system".to_owned(), "S".to_owned()));
    assert!(messages.last().unwrap().1.starts_with('4'), "newest kept");
    let estimate: usize = messages
        .iter()
        .map(|(_, c)| c.chars().count().div_ceil(4) + 4)
        .sum();
    assert!(estimate <= 100, "{estimate} tokens sent: {messages:?}");
    assert!(
        messages.iter().all(|(_, c)| !c.starts_with('0')),
        "oldest left out"
    );
    assert!(messages.len() >= 3);
}

#[tokio::test]
async fn stopping_mid_stream_stores_what_was_produced() {
    let fake = Fake::start().await;
    let server = fake
        .server(|c| c.assistant.stream_idle_timeout_ms = 30_000)
        .await;
    let (alice, _) = server.client("alice").await;
    let bot = bot(&alice).await;
    fake.then(Behavior::Stream {
        chunks: vec!["one ".into(), "two ".into()],
        hang: true,
    });
    let sent = alice
        .send_text(Target::User(bot.id), "count slowly")
        .await
        .unwrap();
    let conv = sent.conversation_id;
    let mut got = String::new();
    while got != "one two " {
        if let ClientEvent::Server(Event::AssistantDelta(d)) =
            alice.next_event_timeout(WAIT).await.unwrap()
        {
            got.push_str(&d.delta);
        }
    }
    let stopped = alice.assistant_stop(conv).await.unwrap();
    assert!(stopped.stopped);
    let (_, seq, message) = reply(&alice, conv).await;
    let r = assistant_reply(&message);
    assert_eq!(
        (r.text.as_str(), r.status),
        ("one two ", ReplyStatus::Stopped)
    );
    assert_eq!(seq, Some(message.seq));
    assert_eq!(Some(r.reply_id.clone()), stopped.reply_id);
    // Nothing left to stop.
    assert!(!alice.assistant_stop(conv).await.unwrap().stopped);
}

#[tokio::test]
async fn each_failure_is_its_own_notice_and_the_server_stays_healthy() {
    let fake = Fake::start().await;
    let server = fake
        .server(|c| {
            c.open_direct_messages = true;
            c.assistant.request_timeout_ms = 1500;
            c.assistant.stream_idle_timeout_ms = 1500;
        })
        .await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;
    let bot = bot(&alice).await;
    let conv = alice
        .send_text(Target::User(bot.id), "warm up")
        .await
        .unwrap()
        .conversation_id;
    reply(&alice, conv).await;

    let cases = [
        (
            Behavior::Status(401),
            AssistantFailure::Unauthorized,
            "API key was rejected (401)",
        ),
        (
            Behavior::Status(429),
            AssistantFailure::UpstreamRateLimited,
            "(429)",
        ),
        (
            Behavior::Status(500),
            AssistantFailure::UpstreamError,
            "failed (500)",
        ),
        (
            Behavior::Garbage,
            AssistantFailure::MalformedResponse,
            "malformed",
        ),
        (
            Behavior::Hang,
            AssistantFailure::Timeout,
            "did not answer in time",
        ),
        (
            Behavior::Stream {
                chunks: vec!["partial".into()],
                hang: true,
            },
            AssistantFailure::Timeout,
            "did not answer in time",
        ),
    ];
    for (behavior, failure, words) in cases {
        fake.then(behavior);
        let started = std::time::Instant::now();
        alice
            .send_text(Target::Conversation(conv), "are you there?")
            .await
            .unwrap();
        // The send is answered at once, well before the endpoint's 1.5 s timeout.
        assert!(started.elapsed() < Duration::from_millis(1000));
        let (_, _, message) = reply(&alice, conv).await;
        let r = assistant_reply(&message);
        assert_eq!(r.status, ReplyStatus::Failed, "{words}");
        assert_eq!(r.failure, Some(failure), "{}", r.text);
        assert!(r.text.contains(words), "{:?} lacks {words:?}", r.text);
        assert!(!r.text.contains(KEY));
    }

    // Still healthy: /healthz, a normal send, and the assistant itself.
    let health = reqwest::get(format!("{}/healthz", server.base_url))
        .await
        .unwrap();
    assert!(health.status().is_success());
    let to_bob = alice
        .send_text(Target::User(bob.user().id), "still here")
        .await
        .unwrap();
    assert_eq!(bob.next_message(WAIT).await.unwrap().seq, to_bob.seq);
    alice
        .send_text(Target::Conversation(conv), "and now?")
        .await
        .unwrap();
    let (text, _, message) = reply(&alice, conv).await;
    assert_eq!(text, "Hello, world");
    assert_eq!(assistant_reply(&message).status, ReplyStatus::Complete);
}

#[tokio::test]
async fn without_configuration_requests_get_a_typed_error() {
    let server = TestServer::open().await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;
    let status = alice.assistant_status().await.unwrap();
    assert!(!status.configured && status.bot.is_none());
    let conv = alice
        .send_text(Target::User(bob.user().id), "hi")
        .await
        .unwrap()
        .conversation_id;
    let err = alice.assistant_summarize(conv).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AssistantNotConfigured));
    let err = alice.assistant_translate(conv, 1, "fr").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AssistantNotConfigured));
    assert!(alice.get_user_by_name("assistant").await.is_err());
}

#[tokio::test]
async fn the_rate_limit_is_per_user_and_says_so() {
    let fake = Fake::start().await;
    let server = fake.server(|c| c.assistant.rate_per_minute = 2).await;
    let (alice, _) = server.client("alice").await;
    let bot = bot(&alice).await;
    let conv = alice
        .send_text(Target::User(bot.id), "one")
        .await
        .unwrap()
        .conversation_id;
    reply(&alice, conv).await;
    alice
        .send_text(Target::Conversation(conv), "two")
        .await
        .unwrap();
    reply(&alice, conv).await;
    alice
        .send_text(Target::Conversation(conv), "three")
        .await
        .unwrap();
    let (_, _, message) = reply(&alice, conv).await;
    let r = assistant_reply(&message);
    assert_eq!(r.failure, Some(AssistantFailure::RateLimited));
    assert_eq!(fake.requests().len(), 2);
    let err = alice.assistant_summarize(conv).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RateLimited));
}

async fn mention(client: &Client, conv: ConversationId, bot: i64, text: &str) -> i64 {
    client
        .send(SendRequest {
            to: Target::Conversation(conv),
            client_msg_id: confab_sdk::new_client_msg_id(),
            content: Content::text(text),
            reply_to: None,
            mentions: vec![bot],
            mention_all: false,
        })
        .await
        .unwrap()
        .seq
}

#[tokio::test]
async fn a_group_mention_is_answered_only_where_enabled() {
    let fake = Fake::start().await;
    let server = fake.server(|_| {}).await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;
    let bot = bot(&alice).await;
    let group = alice
        .create_group("Team", vec![bob.user().id])
        .await
        .unwrap()
        .id;

    // Not enabled: the message is stored, nobody answers, the endpoint is not called.
    let seq = mention(&bob, group, bot.id, "@assistant are you here?").await;
    assert!(seq > 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.requests().is_empty());

    // Members cannot switch it on; the owner can.
    let update = |on| {
        Request::GroupUpdate(GroupUpdate {
            conversation_id: group,
            assistant_enabled: Some(on),
            ..Default::default()
        })
    };
    assert_eq!(call(&bob, update(true)).await, Err(ErrorCode::Forbidden));
    let info = call(&alice, update(true)).await.unwrap();
    assert_eq!(info["assistant_enabled"], true);

    fake.then(Behavior::stream(&["Yes", ", I am."]));
    let asked = mention(&bob, group, bot.id, "@assistant are you here now?").await;
    for member in [&alice, &bob] {
        let (text, _, message) = reply(member, group).await;
        assert_eq!(text, "Yes, I am.");
        assert_eq!(message.reply_to, Some(asked));
        assert_eq!(message.mentions, vec![bob.user().id]);
    }
    let messages = roles_and_contents(&fake.last().body);
    assert!(messages[0].1.starts_with("SYSTEM PROMPT"));
    assert_eq!(
        messages.last().unwrap(),
        &(
            "user".to_owned(),
            "bob: @assistant are you here now?".to_owned()
        )
    );

    // Plain messages and a mention by name only where enabled.
    alice
        .send_text(Target::Conversation(group), "no mention here")
        .await
        .unwrap();
    alice
        .send_text(Target::Conversation(group), "hey @Assistant, summarize")
        .await
        .unwrap();
    reply(&alice, group).await;
    assert_eq!(fake.requests().len(), 2);

    call(&alice, update(false)).await.unwrap();
    mention(&bob, group, bot.id, "@assistant still there?").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn summaries_and_translations_go_only_to_the_requester() {
    let fake = Fake::start().await;
    let server = fake.server(|_| {}).await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;
    let (carol, _) = server.client("carol").await;
    let group = alice
        .create_group("Team", vec![bob.user().id, carol.user().id])
        .await
        .unwrap()
        .id;
    alice
        .send_text(Target::Conversation(group), "lunch at noon?")
        .await
        .unwrap();
    let bobs = bob
        .send_text(Target::Conversation(group), "yes, the usual place")
        .await
        .unwrap();
    let before = carol.get_conversation(group).await.unwrap();
    assert_eq!(before.unread, 2);

    let task = carol.assistant_summarize(group).await.unwrap();
    let result = carol.await_result(&task.task_id, WAIT).await.unwrap();
    assert_eq!(result.failure, None);
    assert_eq!(result.message_count, Some(2));
    assert_eq!(result.conversation_id, group);
    assert!(
        result
            .text
            .contains("alice: lunch at noon?\nbob: yes, the usual place"),
        "{}",
        result.text
    );
    let seen = fake.last();
    assert_eq!(seen.body["model"], "test-model");
    assert_ne!(seen.body["stream"], true);

    let task = carol
        .assistant_translate(group, bobs.seq, "French")
        .await
        .unwrap();
    let result = carol.await_result(&task.task_id, WAIT).await.unwrap();
    assert_eq!(result.text, "FAKE[yes, the usual place]");
    assert_eq!(result.seq, Some(bobs.seq));
    let messages = roles_and_contents(&fake.last().body);
    assert!(messages[0].1.contains("French"));

    // Nothing was stored in the group, and the others saw no result.
    let after = carol.get_conversation(group).await.unwrap();
    assert_eq!(after.last_seq, before.last_seq);
    for other in [&alice, &bob] {
        let got = other
            .wait_for_event(Duration::from_millis(300), |e| {
                matches!(e, ClientEvent::Server(Event::AssistantResult(_)))
            })
            .await;
        assert!(got.is_err(), "another member got a result");
    }

    // Only members may ask, and only about messages they can see.
    let (mallory, _) = server.client("mallory").await;
    assert_eq!(
        mallory.assistant_summarize(group).await.unwrap_err().code(),
        Some(ErrorCode::NotMember)
    );
    assert_eq!(
        mallory
            .assistant_translate(group, bobs.seq, "fr")
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotMember)
    );
    assert_eq!(
        carol
            .assistant_translate(group, 999, "fr")
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotFound)
    );
}

/// Runs the `confab` binary (built by `cargo build --bins`) off the runtime's threads.
async fn confab(
    server: &TestServer,
    config: &std::path::Path,
    args: &[&str],
) -> (bool, String, String) {
    let mut command = std::process::Command::new(confab_tests::workspace_bin("confab"));
    command
        .args(args)
        .arg("--server")
        .arg(&server.base_url)
        .env("CONFAB_CONFIG_DIR", config)
        .env_remove("CONFAB_SERVER")
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || command.output().expect("confab runs"))
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_asks_summarizes_and_translates() {
    let fake = Fake::start().await;
    let server = fake.server(|_| {}).await;
    let config = tempfile::tempdir().unwrap();
    let (alice, _) = server.client("alice").await;
    let (ok, _, err) = confab(
        &server,
        config.path(),
        &["login", "alice", "--password", confab_tests::PASSWORD],
    )
    .await;
    assert!(ok, "{err}");

    fake.then(Behavior::stream(&["The answer", " is ", "42."]));
    let (ok, out, err) = confab(
        &server,
        config.path(),
        &["ask", "what", "is", "the", "answer?"],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, "The answer is 42.\n");
    assert_eq!(
        roles_and_contents(&fake.last().body).last().unwrap().1,
        "what is the answer?"
    );

    fake.then(Behavior::Status(401));
    let (ok, _, err) = confab(&server, config.path(), &["ask", "again?"]).await;
    assert!(!ok);
    assert!(err.contains("API key was rejected (401)"), "{err}");

    let conv = alice.sync().await.unwrap().conversations[0].id.to_string();
    let (ok, out, err) = confab(
        &server,
        config.path(),
        &["translate", &conv, "1", "--to", "German"],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, "FAKE[what is the answer?]\n");
    let (ok, out, err) = confab(&server, config.path(), &["summarize", &conv]).await;
    assert!(ok, "{err}");
    // Alice's own question moved her read position; only the notice came after it, and
    // notices are not summarized.
    assert_eq!(out, "You have no unread messages here.\n");
}

#[tokio::test]
async fn shutdown_stops_a_reply_in_progress_and_stores_it() {
    if confab_tests::postgres_backend() {
        println!("SKIPPED on PostgreSQL: this test reads or reopens the SQLite data directory");
        return;
    }
    let fake = Fake::start().await;
    let mut server = fake
        .server(|c| c.assistant.stream_idle_timeout_ms = 60_000)
        .await;
    let (alice, _) = server.client("alice").await;
    let bot = bot(&alice).await;
    fake.then(Behavior::Stream {
        chunks: vec!["half an ".into(), "answer".into()],
        hang: true,
    });
    alice
        .send_text(Target::User(bot.id), "take your time")
        .await
        .unwrap();
    let mut got = String::new();
    while got != "half an answer" {
        if let ClientEvent::Server(Event::AssistantDelta(d)) =
            alice.next_event_timeout(WAIT).await.unwrap()
        {
            got.push_str(&d.delta);
        }
    }
    // The endpoint would stall for a minute; shutdown does not wait for it.
    tokio::time::timeout(Duration::from_secs(5), server.stop())
        .await
        .expect("a prompt shutdown");
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let body: String = db
        .query_row(
            "SELECT body FROM messages WHERE sender_id = ?1",
            [bot.id],
            |r| r.get(0),
        )
        .unwrap();
    let content: Content = serde_json::from_str(&body).unwrap();
    match content {
        Content::Assistant(r) => {
            assert_eq!(
                (r.text.as_str(), r.status),
                ("half an answer", ReplyStatus::Stopped)
            )
        }
        other => panic!("{other:?}"),
    }
}
