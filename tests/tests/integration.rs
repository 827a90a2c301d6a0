//! The HTTP integration API against a real server: API keys and scopes, idempotent import and
//! send, single sign-on and disabling, groups, webhooks (signatures, retries, exactly-once
//! after success, a hanging receiver), the OpenAPI document, and the example bot.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use confab_proto::integration::{CreateApiKey, Scope};
use confab_proto::{Content, Event, Target};
use confab_sdk::{Client, ClientEvent};
use confab_tests::TestServer;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[allow(dead_code)]
#[path = "../../sdk/examples/echo_bot.rs"]
mod echo_bot;

const WAIT: Duration = Duration::from_secs(10);

/// An HTTP client for the integration API with one key.
struct Api {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

impl Api {
    fn new(server: &TestServer, key: Option<&str>) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("{}/api/v1/integration", server.base_url),
            key: key.map(str::to_owned),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("HTTP request");
        let status = res.status().as_u16();
        let bytes = res.bytes().await.expect("HTTP body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON answer")
        };
        (status, value)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// Imports a user (no password) and returns their id.
    async fn user(&self, external_id: &str, username: &str) -> i64 {
        let (status, body) = self
            .post(
                "/users",
                json!({"external_id": external_id, "username": username}),
            )
            .await;
        assert!(status == 201 || status == 200, "{status} {body}");
        body["user"]["user"]["id"].as_i64().unwrap()
    }

    async fn token(&self, user: i64) -> String {
        let (status, body) = self.post(&format!("/users/{user}/tokens"), json!({})).await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A key created on the server directly, as `confab-server admin api-key create` does.
async fn admin_key(server: &TestServer) -> String {
    let state = &server.server.as_ref().unwrap().state;
    confab_server::integration::keys::create(
        state.store.as_ref(),
        CreateApiKey {
            name: "test admin".into(),
            scopes: vec![Scope::Admin],
        },
    )
    .await
    .unwrap()
    .secret
}

async fn key_with(admin: &Api, scopes: Value) -> (i64, String) {
    let (status, body) = admin
        .post("/keys", json!({"name": "scoped", "scopes": scopes}))
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["key"]["id"].as_i64().unwrap(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn keys_scopes_and_idempotent_import_and_send() {
    let server = TestServer::open().await;
    let admin = Api::new(&server, Some(&admin_key(&server).await));
    let (users_id, users_secret) = key_with(&admin, json!(["users"])).await;
    let users = Api::new(&server, Some(&users_secret));
    let (_, messages_secret) = key_with(&admin, json!(["messages"])).await;
    let messages = Api::new(&server, Some(&messages_secret));

    // Listing never shows secrets.
    let (status, list) = admin.get("/keys").await;
    assert_eq!(status, 200);
    assert_eq!(list["keys"].as_array().unwrap().len(), 3);
    assert!(!list.to_string().contains(&users_secret));

    // Idempotent import by external id.
    let (status, first) = users
        .post(
            "/users",
            json!({"external_id": "emp-1", "username": "ann", "display_name": "Ann"}),
        )
        .await;
    assert_eq!(
        (status, first["created"].as_bool()),
        (201, Some(true)),
        "{first}"
    );
    let (status, again) = users
        .post(
            "/users",
            json!({"external_id": "emp-1", "username": "ann", "display_name": "Ann"}),
        )
        .await;
    assert_eq!((status, again["created"].as_bool()), (200, Some(false)));
    assert_eq!(again["user"], first["user"]);
    assert_eq!(first["user"]["external_id"], "emp-1");
    let ann = first["user"]["user"]["id"].as_i64().unwrap();
    let (status, taken) = users
        .post("/users", json!({"external_id": "emp-2", "username": "ANN"}))
        .await;
    assert_eq!((status, code(&taken)), (409, "username_taken"));
    let bob = users.user("emp-3", "bob").await;

    // Scopes: a users key cannot send, a messages key cannot import, neither manages keys.
    let send = json!({"sender": ann, "to": {"user": bob}, "text": "hi", "idempotency_key": "k1"});
    let (status, body) = users.post("/messages", send.clone()).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = messages.post("/users", json!({"username": "carol"})).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    let (status, _) = messages.get("/keys").await;
    assert_eq!(status, 403);

    // Idempotent send.
    let (status, sent) = messages.post("/messages", send.clone()).await;
    assert_eq!(status, 201, "{sent}");
    let (status, retry) = messages.post("/messages", send.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(retry["seq"], sent["seq"]);
    assert_eq!(retry["duplicate"], true);
    let conv = sent["conversation_id"].as_i64().unwrap();
    let (status, history) = messages
        .get(&format!("/conversations/{conv}/messages?user_id={bob}"))
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    assert_eq!(history["messages"][0]["content"]["text"], "hi");
    let (status, convs) = messages.get(&format!("/users/{bob}/conversations")).await;
    assert_eq!(status, 200);
    assert_eq!(convs["conversations"][0]["unread"], 1);

    // Missing, malformed and unknown keys.
    for key in [
        None,
        Some("nope"),
        Some(&*format!("cfk_{}_{}", "0".repeat(12), "0".repeat(64))),
    ] {
        let (status, body) = Api::new(&server, key).get("/webhooks").await;
        assert_eq!((status, code(&body)), (401, "invalid_token"), "{key:?}");
    }
    // A tampered secret with a real prefix.
    let mut tampered = users_secret.clone();
    tampered.pop();
    tampered.push(if users_secret.ends_with('0') {
        '1'
    } else {
        '0'
    });
    let (status, _) = Api::new(&server, Some(&tampered)).get("/users/1").await;
    assert_eq!(status, 401);
    // Bad input is typed.
    let (status, body) = users.post("/users", json!({"nope": 1})).await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    let (status, body) = users.get("/users/abc").await;
    assert_eq!((status, code(&body)), (400, "bad_request"));
    let (status, body) = users
        .post("/users", json!({"username": "x".repeat(64 * 1024)}))
        .await;
    assert_eq!((status, code(&body)), (413, "frame_too_large"));

    // Revoked keys are refused.
    let (status, _) = admin.delete(&format!("/keys/{users_id}")).await;
    assert_eq!(status, 204);
    let (status, body) = users.get(&format!("/users/{ann}")).await;
    assert_eq!((status, code(&body)), (401, "token_revoked"));
}

#[tokio::test]
async fn single_sign_on_disable_groups_and_bots() {
    // Friends-only direct messages: bots are the exception.
    let server = TestServer::start().await;
    let api = Api::new(&server, Some(&admin_key(&server).await));
    let ann = api.user("e-ann", "ann").await;
    let bob = api.user("e-bob", "bob").await;
    let carol = api.user("e-carol", "carol").await;

    // Single sign-on: a token from the API opens a WebSocket session.
    let bob_token = api.token(bob).await;
    let bob_client = Client::connect(&server.base_url, &bob_token).await.unwrap();
    assert_eq!(bob_client.user().id, bob);

    // Groups through the API, authorized as the owner.
    let (status, group) = api
        .post(
            "/groups",
            json!({"owner": ann, "name": "Ops", "members": [bob]}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_i64().unwrap();
    let (status, body) = api
        .post(
            &format!("/groups/{gid}/members"),
            json!({"user_ids": [carol]}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // A plain member may not add people to an approval group.
    let (status, body) = api
        .post(
            &format!("/groups/{gid}/members"),
            json!({"user_ids": [carol], "as_user": bob}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, members) = api.get(&format!("/groups/{gid}/members")).await;
    assert_eq!(status, 200);
    assert_eq!(members["members"].as_array().unwrap().len(), 3);
    let (status, _) = api.delete(&format!("/groups/{gid}/members/{carol}")).await;
    assert_eq!(status, 204);
    let (status, members) = api.get(&format!("/groups/{gid}/members")).await;
    assert_eq!(
        (status, members["members"].as_array().unwrap().len()),
        (200, 2)
    );

    // The system bot posts once it is in the group; a bot may message anyone directly.
    let (status, body) = api
        .post(
            "/messages",
            json!({"to": {"user": carol}, "text": "welcome", "idempotency_key": "w1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api
        .post(
            "/messages",
            json!({"sender": ann, "to": {"user": carol}, "text": "hi", "idempotency_key": "a1"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "not_allowed"),
        "people still need friendship"
    );

    // Disabling revokes sessions, closes the connection and refuses new tokens.
    let (status, body) = api
        .patch(
            &format!("/users/{bob}"),
            json!({"disabled": true, "display_name": "Bob B"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["disabled"].as_bool(),
            body["user"]["display_name"].as_str()
        ),
        (Some(true), Some("Bob B"))
    );
    let (status, body) = api.post(&format!("/users/{bob}/tokens"), json!({})).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    let refused = Client::connect(&server.base_url, &bob_token)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Some(confab_proto::ErrorCode::TokenRevoked));
    let deadline = Instant::now() + WAIT;
    while bob_client.is_connected() {
        assert!(
            Instant::now() < deadline,
            "the disabled user's device was not closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = api
        .patch(&format!("/users/{bob}"), json!({"disabled": false}))
        .await;
    assert_eq!((status, body["disabled"].as_bool()), (200, Some(false)));
    api.token(bob).await;
}

#[tokio::test]
async fn rate_limit_per_key() {
    let server = TestServer::open_with(|c| {
        c.integration_rate_per_sec = 1;
        c.integration_burst = 3;
    })
    .await;
    let key = admin_key(&server).await;
    let api = Api::new(&server, Some(&key));
    for _ in 0..3 {
        assert_eq!(api.get("/webhooks").await.0, 200);
    }
    let (status, body) = api.get("/webhooks").await;
    assert_eq!((status, code(&body)), (429, "rate_limited"));
    assert!(body["error"]["retry_after_ms"].as_u64().unwrap() > 0);
}

/// What a test webhook receiver saw.
#[derive(Default)]
struct Received {
    /// (event id, event type, answered status)
    requests: Vec<(String, String, u16)>,
    /// Every event body as received.
    events: Vec<Value>,
    bad_signatures: usize,
    fail_first: bool,
}

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(header) = headers
        .get("confab-signature")
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_owned()),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let age = confab_server::state::now_millis() / 1000 - t.parse::<i64>().unwrap_or(0);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    age.abs() < 300 && mac.verify_slice(&v1).is_ok()
}

/// Starts a receiver on a free port: it verifies each signature and answers 500 to the very
/// first request when `fail_first`, 200 otherwise.
async fn receiver(secret: &'static str, fail_first: bool) -> (String, Arc<Mutex<Received>>) {
    let seen = Arc::new(Mutex::new(Received {
        fail_first,
        ..Default::default()
    }));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap();
                let mut seen = state.lock().unwrap();
                if !verify(secret, &headers, &body) {
                    seen.bad_signatures += 1;
                }
                let status = if std::mem::take(&mut seen.fail_first) {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                };
                seen.requests.push((
                    event["id"].as_str().unwrap().to_owned(),
                    event["type"].as_str().unwrap().to_owned(),
                    status.as_u16(),
                ));
                seen.events.push(event);
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_delivered_once() {
    let server = TestServer::open_with(|c| {
        c.webhook_retry_base_ms = 100;
        c.webhook_timeout_ms = 2_000;
    })
    .await;
    let api = Api::new(&server, Some(&admin_key(&server).await));
    const SECRET: &str = "a-test-signing-secret";
    let (url, seen) = receiver(SECRET, true).await;
    let all = [
        "message.created",
        "message.recalled",
        "friend.added",
        "member.joined",
        "member.left",
        "member.kicked",
        "group.dissolved",
        "user.registered",
    ];
    let (status, hook) = api
        .post(
            "/webhooks",
            json!({"url": url, "events": all, "secret": SECRET}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["secret"], SECRET);
    let hook_id = hook["webhook"]["id"].as_i64().unwrap();
    let (status, body) = api
        .post(
            "/webhooks",
            json!({"url": "ftp://x", "events": ["message.created"]}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_argument"));

    // user.registered (the receiver answers the first request it gets with a 500).
    let ann = api.user("e-ann", "ann").await;
    let bob = api.user("e-bob", "bob").await;
    let carol = api.user("e-carol", "carol").await;
    // message.created, then message.recalled by the sender's own device.
    let (_, sent) = api
        .post(
            "/messages",
            json!({"sender": ann, "to": {"user": bob}, "text": "hello", "idempotency_key": "m1"}),
        )
        .await;
    let ann_client = Client::connect(&server.base_url, &api.token(ann).await)
        .await
        .unwrap();
    ann_client
        .recall(
            sent["conversation_id"].as_i64().unwrap(),
            sent["seq"].as_i64().unwrap(),
        )
        .await
        .unwrap();
    // friend.added
    let bob_client = Client::connect(&server.base_url, &api.token(bob).await)
        .await
        .unwrap();
    confab_tests::call(
        &ann_client,
        confab_proto::Request::FriendRequest(confab_proto::FriendRequestSend {
            user_id: bob,
            note: None,
        }),
    )
    .await
    .unwrap();
    confab_tests::call(
        &bob_client,
        confab_proto::Request::FriendAccept(confab_proto::UserRef { user_id: ann }),
    )
    .await
    .unwrap();
    // member.joined, member.kicked, member.left, group.dissolved
    let (_, group) = api
        .post(
            "/groups",
            json!({"owner": ann, "name": "G", "members": [bob]}),
        )
        .await;
    let gid = group["id"].as_i64().unwrap();
    api.post(
        &format!("/groups/{gid}/members"),
        json!({"user_ids": [carol]}),
    )
    .await;
    api.delete(&format!("/groups/{gid}/members/{carol}")).await;
    api.delete(&format!("/groups/{gid}/members/{bob}?as_user={bob}"))
        .await;
    confab_tests::call(
        &ann_client,
        confab_proto::Request::GroupDissolve(confab_proto::ConversationRef {
            conversation_id: gid,
        }),
    )
    .await
    .unwrap();

    // Every type arrives and succeeds.
    wait_until("every event type delivered", || {
        let seen = seen.lock().unwrap();
        all.iter()
            .all(|t| seen.requests.iter().any(|(_, ty, s)| ty == t && *s == 200))
    })
    .await;
    // Let any stray duplicate show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first_id = {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.bad_signatures, 0);
        // Deliveries run concurrently: whichever arrived first got the 500.
        let (first_id, _, first_status) = seen.requests[0].clone();
        assert_eq!(first_status, 500);
        let tries_of_first: Vec<u16> = seen
            .requests
            .iter()
            .filter(|(id, _, _)| *id == first_id)
            .map(|(_, _, s)| *s)
            .collect();
        assert_eq!(tries_of_first, [500, 200], "retried once after the 500");
        let mut ok_ids: Vec<&str> = seen
            .requests
            .iter()
            .filter(|(_, _, s)| *s == 200)
            .map(|(id, _, _)| id.as_str())
            .collect();
        let count = ok_ids.len();
        ok_ids.sort_unstable();
        ok_ids.dedup();
        assert_eq!(ok_ids.len(), count, "each event succeeds exactly once");
        // 3 registrations, 1 message, 1 recall, 1 friendship, 2 joins, kick, leave, dissolve.
        assert_eq!(count, 11, "{:?}", seen.requests);
        first_id
    };

    // The delivery log shows the retried delivery with its attempts.
    let (status, log) = api
        .get(&format!("/webhooks/{hook_id}/deliveries?limit=200"))
        .await;
    assert_eq!(status, 200);
    let deliveries = log["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 11);
    let first = deliveries
        .iter()
        .find(|d| d["event_id"] == first_id.as_str())
        .unwrap();
    assert_eq!(
        (first["status"].as_str(), first["attempts"].as_u64()),
        (Some("delivered"), Some(2))
    );
    assert!(deliveries.iter().all(|d| d["status"] == "delivered"));
    // Paging.
    let (_, page) = api
        .get(&format!("/webhooks/{hook_id}/deliveries?limit=5"))
        .await;
    assert_eq!(
        (
            page["deliveries"].as_array().unwrap().len(),
            page["has_more"].as_bool()
        ),
        (5, Some(true))
    );

    let (status, _) = api.delete(&format!("/webhooks/{hook_id}")).await;
    assert_eq!(status, 204);
    let (_, list) = api.get("/webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_hanging_webhook_does_not_slow_messaging() {
    let server = TestServer::open_with(|c| {
        c.webhook_timeout_ms = 500;
        c.webhook_retry_base_ms = 50;
        c.webhook_max_attempts = 2;
    })
    .await;
    let api = Api::new(&server, Some(&admin_key(&server).await));
    // A receiver that accepts and never answers.
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (_, hook) = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["message.created"]}),
        )
        .await;
    let hook_id = hook["webhook"]["id"].as_i64().unwrap();

    let ann = api.user("e-ann", "ann").await;
    let bob = api.user("e-bob", "bob").await;
    let ann_client = Client::connect(&server.base_url, &api.token(ann).await)
        .await
        .unwrap();
    let bob_client = Client::connect(&server.base_url, &api.token(bob).await)
        .await
        .unwrap();
    for i in 0..30 {
        let started = Instant::now();
        ann_client
            .send_text(Target::User(bob), format!("m{i}"))
            .await
            .unwrap();
        let m = bob_client.next_message(WAIT).await.unwrap();
        assert_eq!(m.content.as_text(), Some(format!("m{i}").as_str()));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "message {i} took {:?}",
            started.elapsed()
        );
    }

    // The log shows the timeouts and, after the last attempt, failures.
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, log) = api
            .get(&format!("/webhooks/{hook_id}/deliveries?limit=200"))
            .await;
        let d = log["deliveries"].as_array().unwrap().clone();
        if d.len() == 30 && d.iter().all(|d| d["status"] == "failed") {
            assert!(d
                .iter()
                .all(|d| d["last_error"] == "timed out" && d["attempts"] == 2));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries did not fail in time: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn openapi_document_is_valid_served_and_checked_in() {
    let server = TestServer::start().await;
    let served = reqwest::get(format!(
        "{}/api/v1/integration/openapi.json",
        server.base_url
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let generated = confab_server::integration::api::openapi_json();
    assert_eq!(served, generated);

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let checked_in = format!("{generated}\n");
    if std::env::var_os("CONFAB_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &checked_in).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == checked_in,
        "docs/openapi.json is stale: run `CONFAB_UPDATE_OPENAPI=1 cargo test -p confab-tests --test integration openapi`"
    );

    // A typed OpenAPI 3.1 parse, then structural checks the parser does not make.
    let spec = oas3::from_json(&generated).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"));
    let doc: Value = serde_json::from_str(&generated).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = vec![];
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in &refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 12);
    for (p, ops) in paths {
        assert!(p.starts_with("/api/v1/integration/"), "{p}");
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {p}"
            );
            assert!(op["security"].is_array(), "{method} {p} has no security");
            // Every path parameter is declared.
            for name in p.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|x| x["name"] == name && x["in"] == "path"));
                assert!(declared, "{method} {p}: path parameter {name} undeclared");
            }
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_example_echo_bot_answers() {
    // Friends-only server: messaging a bot is allowed anyway.
    let server = TestServer::start().await;
    let key = admin_key(&server).await;
    let token = echo_bot::bot_token(&server.base_url, &key).await.unwrap();
    // The same bot again: the import is idempotent.
    let again = echo_bot::bot_token(&server.base_url, &key).await.unwrap();
    assert_ne!(token, again, "each call opens a new session");
    let bot = Client::connect(&server.base_url, &token).await.unwrap();
    let bot_id = bot.user().id;
    let bot_task = tokio::spawn(echo_bot::run(bot));

    let (dana, _) = server.client("dana").await;
    dana.send_text(Target::User(bot_id), "ping").await.unwrap();
    let reply = dana
        .wait_for_event(
            WAIT,
            |e| matches!(e, ClientEvent::Server(Event::Message(m)) if m.sender_id == bot_id),
        )
        .await
        .expect("the bot answers");
    let ClientEvent::Server(Event::Message(m)) = reply else {
        unreachable!()
    };
    assert_eq!(m.content, Content::text("echo: ping"));
    let (status, user) = Api::new(&server, Some(&key))
        .get(&format!("/users/{bot_id}"))
        .await;
    assert_eq!((status, user["bot"].as_bool()), (200, Some(true)));
    bot_task.abort();
}

#[tokio::test]
async fn a_big_groups_creation_tells_webhooks_every_member() {
    let server = TestServer::open().await;
    let api = Api::new(&server, Some(&admin_key(&server).await));
    const SECRET: &str = "big-group-secret";
    let (url, seen) = receiver(SECRET, false).await;
    let (status, _) = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["member.joined"], "secret": SECRET}),
        )
        .await;
    assert_eq!(status, 201);
    let owner = api.user("big-owner", "bigowner").await;
    let mut members = vec![];
    for i in 0..30 {
        members.push(
            api.user(&format!("big-{i}"), &format!("bigmember{i}"))
                .await,
        );
    }
    let (status, group) = api
        .post(
            "/groups",
            json!({"owner": owner, "name": "Big", "members": members}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    wait_until("member.joined for the new group", || {
        !seen.lock().unwrap().events.is_empty()
    })
    .await;
    let event = seen.lock().unwrap().events[0].clone();
    assert_eq!(event["type"], "member.joined");
    assert_eq!(event["data"]["created"], true);
    assert_eq!(event["data"]["by"], owner);
    // The stored event names only the first 20; the webhook gets all 30.
    let mut got: Vec<i64> = event["data"]["user_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    got.sort_unstable();
    members.sort_unstable();
    assert_eq!(got, members);
}

#[tokio::test]
async fn admin_cli_creates_lists_and_revokes_keys() {
    if confab_tests::postgres_backend() {
        println!("SKIPPED on PostgreSQL: this test reads or reopens the SQLite data directory");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let admin = |args: &[&str]| {
        let out = std::process::Command::new(confab_tests::workspace_bin("confab-server"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["admin", "api-key"])
            .args(args)
            .env("CONFAB_LOG", "warn")
            .output()
            .expect("confab-server runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = admin(&["create", "--name", "crm", "--scopes", "users,webhooks"]);
    assert!(ok, "{out}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .expect("the secret is printed")
        .to_owned();
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(!admin(&["create", "--name", "x", "--scopes", "nope"]).0);
    let (ok, list) = admin(&["list"]);
    assert!(
        ok && list.contains("crm") && list.contains("users,webhooks") && list.contains("active")
    );
    assert!(!list.contains(&secret));

    let port = confab_tests::free_port();
    let server = confab_tests::ServerProcess::start(dir.path(), port).await;
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        http.get(format!("{}/api/v1/integration{path}", server.base_url))
            .bearer_auth(&secret)
            .send()
    };
    assert_eq!(get("/webhooks").await.unwrap().status(), 200);
    assert_eq!(get("/keys").await.unwrap().status(), 403, "no admin scope");
    let (ok, out) = admin(&["revoke", &id]);
    assert!(ok, "{out}");
    assert_eq!(get("/webhooks").await.unwrap().status(), 401);
    assert!(admin(&["list"]).1.contains("revoked"));
}

#[tokio::test]
async fn pending_deliveries_resume_after_a_restart() {
    if confab_tests::postgres_backend() {
        println!("SKIPPED on PostgreSQL: this test reads or reopens the SQLite data directory");
        return;
    }
    const SECRET: &str = "another-test-secret";
    let (url, seen) = receiver(SECRET, true).await;
    // The first run retries only after an hour, so its failed delivery stays pending.
    let mut first = TestServer::open_with(|c| c.webhook_retry_base_ms = 3_600_000).await;
    let api = Api::new(&first, Some(&admin_key(&first).await));
    let (_, hook) = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["user.registered"], "secret": SECRET}),
        )
        .await;
    let hook_id = hook["webhook"]["id"].as_i64().unwrap();
    api.user("e-ann", "ann").await;
    let deadline = Instant::now() + WAIT;
    while newest_delivery(&api, hook_id).await["attempts"] != 1 {
        assert!(Instant::now() < deadline, "no first attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(newest_delivery(&api, hook_id).await["status"], "pending");
    first.stop().await;

    // A new server on the same data directory picks the delivery up.
    let config = confab_server::config::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: first.dir.path().to_path_buf(),
        ..Default::default()
    };
    let second = confab_server::RunningServer::start(config).await.unwrap();
    let api = Api {
        base: format!("http://{}/api/v1/integration", second.addr),
        ..api
    };
    wait_until("the resumed delivery", || {
        seen.lock().unwrap().requests.iter().any(|r| r.2 == 200)
    })
    .await;
    let deadline = Instant::now() + WAIT;
    loop {
        let d = newest_delivery(&api, hook_id).await;
        if d["status"] == "delivered" {
            assert_eq!(d["attempts"], 2);
            break;
        }
        assert!(Instant::now() < deadline, "not recorded as delivered: {d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.requests.len(), 2);
        assert_eq!(seen.requests[0].0, seen.requests[1].0, "the same event");
        assert_eq!(seen.bad_signatures, 0);
    }
    second.shutdown();
    second.wait().await.unwrap();
}

async fn newest_delivery(api: &Api, hook_id: i64) -> Value {
    let path = format!("/webhooks/{hook_id}/deliveries");
    api.get(&path).await.1["deliveries"][0].clone()
}
