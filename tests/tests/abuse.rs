//! Abuse resistance with the default limits: floods get typed rate-limit errors and lose
//! nothing, other users stay fast, password guessing is throttled identically for unknown
//! users, foreign origins are refused, and security headers are set.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use confab_proto::Target;
use confab_sdk::Client;
use confab_tests::{RawWs, TestServer};
use serde_json::{json, Value};

/// The default limits (the harness turns them off for other tests).
async fn server_with_default_limits(
    tweak: impl FnOnce(&mut confab_server::config::Config),
) -> TestServer {
    TestServer::open_with(|c| {
        let d = confab_server::config::Config::default();
        c.rate_requests_per_connection = d.rate_requests_per_connection;
        c.rate_sends_per_user = d.rate_sends_per_user;
        c.rate_connects_per_ip = d.rate_connects_per_ip;
        c.max_connections_per_ip = d.max_connections_per_ip;
        tweak(c);
    })
    .await
}

/// The stated bound for a bystander's send-to-delivery p99 while another account floods.
const BYSTANDER_P99: Duration = Duration::from_millis(500);

#[tokio::test]
async fn a_flood_is_rate_limited_loses_nothing_and_spares_other_users() {
    if confab_tests::postgres_backend() {
        println!("SKIPPED on PostgreSQL: this test reads or reopens the SQLite data directory");
        return;
    }
    let server = server_with_default_limits(|_| {}).await;
    let flooder = server.user("flooder").await;
    let target = server.user("target").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;

    // The flooder pipelines 1,500 sends over two connections without waiting for answers.
    let flood = |token: String, url: String, prefix: &'static str, target: i64| async move {
        let mut ws = RawWs::connect(&url, Some(&token)).await;
        ws.next_json().await.unwrap();
        for i in 0..750 {
            ws.send_text(
                json!({"id": i, "type": "send", "data": {"to": {"user": target},
                    "client_msg_id": format!("{prefix}-{i}"),
                    "content": {"type": "text", "text": format!("flood {i}")}}})
                .to_string(),
            )
            .await;
        }
        let mut answers = HashMap::new();
        while answers.len() < 750 {
            let r = ws.response().await;
            answers.insert(r["id"].as_u64().unwrap(), r);
        }
        (prefix, answers)
    };
    let url = server.ws_url();
    let f1 = tokio::spawn(flood(
        flooder.token.clone(),
        url.clone(),
        "a",
        target.user.id,
    ));
    let f2 = tokio::spawn(flood(
        flooder.token.clone(),
        url.clone(),
        "b",
        target.user.id,
    ));

    // Meanwhile Bob and Carol chat; Bob measures send → arrival at Carol.
    let b = Client::connect(&server.base_url, &bob.token).await.unwrap();
    let c = Client::connect(&server.base_url, &carol.token)
        .await
        .unwrap();
    let mut latencies = vec![];
    for i in 0..40 {
        let start = Instant::now();
        b.send_text(Target::User(carol.user.id), format!("hi {i}"))
            .await
            .unwrap();
        let m = c.next_message(Duration::from_secs(10)).await.unwrap();
        assert_eq!(m.content.as_text(), Some(format!("hi {i}").as_str()));
        latencies.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    println!(
        "bystander send→arrival p99 {p99:?} (max {:?})",
        latencies.last().unwrap()
    );
    assert!(p99 < BYSTANDER_P99, "bystander p99 {p99:?}");

    // Each flooded request got an answer: accepted, or rate_limited with a retry-after.
    let mut accepted = vec![];
    let mut limited = vec![];
    for task in [f1, f2] {
        let (prefix, answers) = task.await.unwrap();
        for (id, r) in answers {
            let key = format!("{prefix}-{id}");
            if r.get("ok").is_some() {
                accepted.push(key);
            } else {
                assert_eq!(r["error"]["code"], "rate_limited", "{r}");
                assert!(r["error"]["retry_after_ms"].as_u64().unwrap() > 0);
                limited.push(key);
            }
        }
    }
    println!(
        "flood: {} accepted, {} rate-limited",
        accepted.len(),
        limited.len()
    );
    assert!(!limited.is_empty(), "the limits held");
    assert!(accepted.len() >= 100, "the burst was let through");

    // Retrying the refused ones later with the same ids stores each once; retrying an
    // accepted one is a duplicate, not a new message.
    let f = Client::connect(&server.base_url, &flooder.token)
        .await
        .unwrap();
    for key in limited.iter().take(30) {
        assert!(!send_waiting(&f, target.user.id, key).await.duplicate);
        accepted.push(key.clone());
    }
    assert!(
        send_waiting(&f, target.user.id, &accepted[0])
            .await
            .duplicate
    );

    let conn = rusqlite::Connection::open(server.db_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT client_msg_id, COUNT(*) FROM messages WHERE sender_id = ?1 GROUP BY client_msg_id")
        .unwrap();
    let stored: HashMap<String, i64> = stmt
        .query_map([flooder.user.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(stored.values().all(|&n| n == 1), "each stored once");
    let mut expected = accepted.clone();
    expected.sort();
    let mut got: Vec<String> = stored.keys().cloned().collect();
    got.sort();
    assert_eq!(
        got, expected,
        "exactly the acknowledged messages are stored"
    );
}

/// Sends with `key`, waiting out rate limits as the error says.
async fn send_waiting(f: &Client, to: i64, key: &str) -> confab_proto::SendResponse {
    loop {
        let r = f
            .send(confab_proto::SendRequest {
                to: Target::User(to),
                client_msg_id: key.to_owned(),
                content: confab_proto::Content::text("retry"),
                reply_to: None,
                mentions: vec![],
                mention_all: false,
            })
            .await;
        match r {
            Ok(r) => return r,
            Err(e) if e.code() == Some(confab_proto::ErrorCode::RateLimited) => {
                let wait = e.wire().and_then(|w| w.retry_after_ms).unwrap_or(50);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

async fn login_raw(base: &str, username: &str, password: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The body without the retry delay (which shrinks as time passes).
fn shape(mut v: Value) -> Value {
    if let Some(e) = v.get_mut("error").and_then(|e| e.as_object_mut()) {
        e.remove("retry_after_ms");
        e.remove("message");
    }
    v
}

#[tokio::test]
async fn password_guessing_is_throttled_the_same_for_unknown_users() {
    let server = server_with_default_limits(|c| c.login_failures_before_delay = 3).await;
    server.user("alice").await;
    let mut known = vec![];
    let mut unknown = vec![];
    for i in 0..6 {
        known.push(login_raw(&server.base_url, "alice", &format!("Guess-{i}-x")).await);
        unknown.push(login_raw(&server.base_url, "nobody", &format!("Guess-{i}-x")).await);
    }
    let statuses = |v: &Vec<(u16, Value)>| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    println!(
        "known: {:?}\nunknown: {:?}",
        statuses(&known),
        statuses(&unknown)
    );
    assert_eq!(statuses(&known), vec![401, 401, 401, 429, 429, 429]);
    assert_eq!(statuses(&known), statuses(&unknown));
    for ((_, a), (_, b)) in known.iter().zip(&unknown) {
        assert_eq!(
            shape(a.clone()),
            shape(b.clone()),
            "same error for unknown users"
        );
    }
    // Even the right password waits out the delay, then works.
    let (status, body) = login_raw(&server.base_url, "alice", confab_tests::PASSWORD).await;
    assert_eq!(status, 429);
    let wait = body["error"]["retry_after_ms"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 2000, "{wait}");
    tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    let (status, _) = login_raw(&server.base_url, "alice", confab_tests::PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn connection_caps_and_registration_rate_hold() {
    let server = server_with_default_limits(|c| {
        c.max_connections_per_user = 2;
        c.rate_registrations_per_ip = 3;
    })
    .await;
    let a = server.user("alice").await;
    let c1 = Client::connect(&server.base_url, &a.token).await.unwrap();
    let _c2 = Client::connect(&server.base_url, &a.token).await.unwrap();
    let err = Client::connect(&server.base_url, &a.token)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some(confab_proto::ErrorCode::RateLimited));
    c1.close().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    Client::connect(&server.base_url, &a.token).await.unwrap();

    // One registration was used by alice; two more fit, the next is refused.
    let reg = |name: &'static str| {
        let base = server.base_url.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/register"))
                .json(&json!({"username": name, "password": confab_tests::PASSWORD}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(reg("bob").await.status(), 201);
    assert_eq!(reg("carol").await.status(), 201);
    let r = reg("dave").await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn foreign_origins_are_refused_and_security_headers_are_set() {
    let server =
        TestServer::open_with(|c| c.allowed_origins = vec!["https://chat.example.com".into()])
            .await;
    let a = server.user("alice").await;
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let handshake = |origin: Option<String>| {
        let url = format!("{}&token={}", server.ws_url(), a.token);
        async move {
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            let mut req = url.into_client_request().unwrap();
            if let Some(o) = origin {
                req.headers_mut().insert("origin", o.parse().unwrap());
            }
            tokio_tungstenite::connect_async(req).await.map(|_| ())
        }
    };
    match handshake(Some("https://evil.example".into())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("a foreign origin connected: {other:?}"),
    }
    handshake(Some(format!("http://{addr}")))
        .await
        .expect("same origin");
    handshake(Some("https://chat.example.com".into()))
        .await
        .expect("configured origin");
    handshake(None).await.expect("non-browser client");

    for path in ["/", "/healthz", "/api/v1/login"] {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", server.base_url))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"));
    }
    // CORS: only the configured origin is allowed.
    let preflight = |origin: &'static str| {
        let base = server.base_url.clone();
        async move {
            reqwest::Client::new()
                .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/login"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .send()
                .await
                .unwrap()
        }
    };
    let ok = preflight("https://chat.example.com").await;
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://chat.example.com"
    );
    let no = preflight("https://evil.example").await;
    assert!(no.headers().get("access-control-allow-origin").is_none());
}
