//! Bad input gets a typed error, leaves the connection usable where sensible, and stores
//! nothing (acceptance 6 of the core messaging issue).

use confab_proto::close;
use confab_tests::{RawWs, TestServer, PASSWORD};
use serde_json::{json, Value};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

async fn message_count(server: &TestServer) -> i64 {
    let conn = rusqlite::Connection::open(server.db_path()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn malformed_frames_get_typed_errors_and_the_connection_stays_usable() {
    let server = TestServer::open_with(|c| {
        c.max_frame_bytes = 4096;
        c.max_text_chars = 100;
    })
    .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut ws = RawWs::connect(&server.ws_url(), Some(&alice.token)).await;
    let hello = ws.next_json().await.unwrap();
    assert_eq!(hello["event"], "hello");
    assert_eq!(hello["data"]["user"]["username"], "alice");

    // Not JSON at all.
    ws.send_text("this is not json").await;
    let r = ws.response().await;
    assert_eq!(code(&r), "malformed_frame");
    assert!(r["id"].is_null());

    // JSON, but no id.
    ws.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(code(&ws.response().await), "malformed_frame");

    // Unknown type keeps its id.
    ws.send_text(r#"{"id":7,"type":"teleport","data":{}}"#)
        .await;
    let r = ws.response().await;
    assert_eq!((r["id"].as_u64(), code(&r)), (Some(7), "unknown_type"));

    // Known type, wrong fields.
    ws.send_text(r#"{"id":8,"type":"send","data":{"to":{"user":"bob"}}}"#)
        .await;
    let r = ws.response().await;
    assert_eq!((r["id"].as_u64(), code(&r)), (Some(8), "bad_request"));

    // Binary frames are not part of the protocol.
    ws.send_binary(vec![1, 2, 3]).await;
    assert_eq!(code(&ws.response().await), "malformed_frame");

    // Oversize (above the limit, below the hard cut-off): typed error, connection stays.
    let big = "x".repeat(5000);
    ws.send_text(format!(
        r#"{{"id":9,"type":"send","data":{{"to":{{"user":{}}},"client_msg_id":"big","content":{{"type":"text","text":"{big}"}}}}}}"#,
        bob.user.id
    ))
    .await;
    assert_eq!(code(&ws.response().await), "frame_too_large");

    // Too-long text (within the frame limit).
    let long = "y".repeat(101);
    ws.send_text(format!(
        r#"{{"id":10,"type":"send","data":{{"to":{{"user":{}}},"client_msg_id":"long","content":{{"type":"text","text":"{long}"}}}}}}"#,
        bob.user.id
    ))
    .await;
    let r = ws.response().await;
    assert_eq!((r["id"].as_u64(), code(&r)), (Some(10), "too_long"));

    // Empty text, a system message forged by a client, and a user that does not exist.
    for (id, data) in [
        (
            11,
            json!({"to":{"user":bob.user.id},"client_msg_id":"e","content":{"type":"text","text":"  "}}),
        ),
        (
            12,
            json!({"to":{"user":bob.user.id},"client_msg_id":"s","content":{"type":"system","kind":"message_recalled","by":1,"seq":1}}),
        ),
    ] {
        ws.send_text(json!({"id": id, "type": "send", "data": data}).to_string())
            .await;
        let r = ws.response().await;
        assert_eq!((r["id"].as_u64(), code(&r)), (Some(id), "invalid_argument"));
    }
    ws.send_text(
        json!({"id": 13, "type": "send", "data": {"to":{"user":999_999},"client_msg_id":"n","content":{"type":"text","text":"hi"}}})
            .to_string(),
    )
    .await;
    assert_eq!(code(&ws.response().await), "not_found");
    ws.send_text(
        json!({"id": 14, "type": "history", "data": {"conversation_id": 424242}}).to_string(),
    )
    .await;
    assert_eq!(code(&ws.response().await), "not_found");

    // `auth` again on an authenticated connection.
    ws.send_text(json!({"id": 15, "type": "auth", "data": {"token": alice.token}}).to_string())
        .await;
    assert_eq!(code(&ws.response().await), "already_authenticated");

    assert_eq!(message_count(&server).await, 0, "nothing was stored");

    // After all that, the same connection still works.
    ws.send_text(
        json!({"id": 16, "type": "send", "data": {"to":{"user":bob.user.id},"client_msg_id":"ok","content":{"type":"text","text":"hello"}}})
            .to_string(),
    )
    .await;
    let r = ws.response().await;
    assert_eq!(r["id"], 16);
    assert_eq!(r["ok"]["seq"], 1);
    assert_eq!(message_count(&server).await, 1);
}

#[tokio::test]
async fn a_frame_past_the_hard_limit_closes_with_1009() {
    let server = TestServer::open_with(|c| c.max_frame_bytes = 1024).await;
    let alice = server.user("alice").await;
    let mut ws = RawWs::connect(&server.ws_url(), Some(&alice.token)).await;
    ws.next_json().await.unwrap();
    ws.send_text("z".repeat(2 << 20)).await;
    let mut closed_with = None;
    for _ in 0..5 {
        match ws.next_json().await {
            Ok(_) => continue,
            Err(code) => {
                closed_with = code;
                break;
            }
        }
    }
    assert_eq!(closed_with, Some(1009));
}

#[tokio::test]
async fn tokens_missing_invalid_expired_or_revoked_are_refused_with_their_codes() {
    let server = TestServer::open_with(|c| c.token_ttl_secs = 1).await;
    let alice = server.user("alice").await;

    // Missing token: requests before `auth` get `unauthenticated`; a bad `auth` closes.
    let mut ws = RawWs::connect(&server.ws_url(), None).await;
    ws.send_text(r#"{"id":1,"type":"sync"}"#).await;
    assert_eq!(code(&ws.response().await), "unauthenticated");
    ws.send_text(json!({"id":2,"type":"auth","data":{"token":"cfb_nope"}}).to_string())
        .await;
    assert_eq!(code(&ws.response().await), "invalid_token");
    assert_eq!(ws.next_json().await.unwrap_err(), Some(close::AUTH_FAILED));

    // A good token as the first frame: the answer is the hello.
    let mut ws = RawWs::connect(&server.ws_url(), None).await;
    ws.send_text(json!({"id":3,"type":"auth","data":{"token":alice.token}}).to_string())
        .await;
    let r = ws.response().await;
    assert_eq!(r["ok"]["user"]["id"], alice.user.id);

    // Invalid token at the handshake: HTTP 401 with the typed body.
    let Err(err) = confab_sdk::Client::connect(&server.base_url, "cfb_garbage").await else {
        panic!("refused")
    };
    assert_eq!(err.code(), Some(confab_proto::ErrorCode::InvalidToken));

    // Expired.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let Err(err) = confab_sdk::Client::connect(&server.base_url, &alice.token).await else {
        panic!("refused")
    };
    assert_eq!(err.code(), Some(confab_proto::ErrorCode::TokenExpired));

    // Revoked (logged out from the same device).
    let fresh = confab_tests::login(&server.base_url, "alice", "laptop").await;
    let client = confab_sdk::Client::connect(&server.base_url, &fresh.token)
        .await
        .unwrap();
    client.logout().await.unwrap();
    let Err(err) = confab_sdk::Client::connect(&server.base_url, &fresh.token).await else {
        panic!("refused")
    };
    assert_eq!(err.code(), Some(confab_proto::ErrorCode::TokenRevoked));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_error() {
    let server = TestServer::open().await;
    server.user("alice").await;
    let http = reqwest_post(
        &server.base_url,
        "/api/v1/login",
        json!({"username":"alice","password":"Wrong-pass-1"}),
    )
    .await;
    let unknown = reqwest_post(
        &server.base_url,
        "/api/v1/login",
        json!({"username":"nobody","password":PASSWORD}),
    )
    .await;
    assert_eq!(http.0, 401);
    assert_eq!(http, unknown, "same status and body for both");
    assert_eq!(http.1["error"]["code"], "wrong_credentials");

    let bad_json = reqwest_raw(&server.base_url, "/api/v1/login", "{not json").await;
    assert_eq!(bad_json.0, 400);
    assert_eq!(bad_json.1["error"]["code"], "bad_request");

    let weak = reqwest_post(
        &server.base_url,
        "/api/v1/register",
        json!({"username":"carol","password":"short"}),
    )
    .await;
    assert_eq!(
        (weak.0, weak.1["error"]["code"].as_str()),
        (400, Some("weak_password"))
    );
    let bad_name = reqwest_post(
        &server.base_url,
        "/api/v1/register",
        json!({"username":"9lives","password":PASSWORD}),
    )
    .await;
    assert_eq!(bad_name.1["error"]["code"], "invalid_username");
    let taken = reqwest_post(
        &server.base_url,
        "/api/v1/register",
        json!({"username":"ALICE","password":PASSWORD}),
    )
    .await;
    assert_eq!(
        (taken.0, taken.1["error"]["code"].as_str()),
        (409, Some("username_taken"))
    );
}

async fn reqwest_post(base: &str, path: &str, body: Value) -> (u16, Value) {
    reqwest_raw(base, path, &body.to_string()).await
}

async fn reqwest_raw(base: &str, path: &str, body: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}
