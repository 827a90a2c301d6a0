//! The `confab` binary against a canned stand-in server: HTTP login and a WebSocket that
//! answers each request type with fixed data.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use confab_proto::http::{LoginRequest, LoginResponse};
use confab_proto::{
    encode_error, encode_event, encode_ok, ClientFrame, Content, ConversationSummary, Device,
    DevicesResponse, Empty, ErrorCode, Event, Hello, HistoryResponse, Limits, MarkReadResponse,
    Member, MembersResponse, Message, Request, SendResponse, SyncResponse, UserPublic, WireError,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const TOKEN: &str = "tok-alice";

fn user(id: i64) -> UserPublic {
    let username = match id {
        1 => "alice",
        2 => "bob",
        _ => "carol",
    };
    UserPublic {
        id,
        username: username.into(),
        display_name: username.to_uppercase(),
        avatar: None,
        status_text: None,
        is_bot: false,
    }
}

fn message(seq: i64, text: &str) -> Message {
    Message {
        conversation_id: 5,
        seq,
        sender_id: if seq % 2 == 0 { 1 } else { 2 },
        client_msg_id: None,
        created_at: 1_700_000_000_000 + seq * 60_000,
        content: Content::text(text),
        reply_to: None,
        mentions: vec![],
        mention_all: false,
    }
}

/// Built from JSON so fields the protocol adds later take their defaults.
fn conversation() -> ConversationSummary {
    serde_json::from_value(serde_json::json!({
        "id": 5,
        "kind": "direct",
        "name": "BOB",
        "peer": user(2),
        "role": "member",
        "member_count": 2,
        "last_seq": 3,
        "read_seq": 1,
        "unread": 1,
        "last_activity": 1_700_000_180_000i64,
        "last_message": message(3, "see you"),
    }))
    .unwrap()
}

/// Start the stand-in; returns its base URL.
async fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    base_url
}

async fn serve(stream: TcpStream) {
    let mut head = [0u8; 4];
    if stream.peek(&mut head).await.is_err() {
        return;
    }
    if &head == b"POST" {
        serve_http(stream).await;
    } else {
        serve_websocket(stream).await;
    }
}

/// `POST /api/v1/login`: alice with password "secret-pass" gets a token.
async fn serve_http(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    // Read the head, then the body by content-length.
    let (head_len, body_len) = loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(pos) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..pos]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap())
                .unwrap_or(0);
            break (pos + 4, len);
        }
    };
    while request.len() < head_len + body_len {
        let n = stream.read(&mut buf).await.unwrap();
        request.extend_from_slice(&buf[..n]);
    }
    let login: LoginRequest = serde_json::from_slice(&request[head_len..]).unwrap();
    let (status, body) = if login.username == "alice" && login.password == "secret-pass" {
        let answer = LoginResponse {
            token: TOKEN.into(),
            device_id: 7,
            expires_at: 1_800_000_000_000,
            user: user(1),
        };
        ("200 OK", serde_json::to_string(&answer).unwrap())
    } else {
        let error = WireError::new(ErrorCode::WrongCredentials, "wrong username or password");
        (
            "401 Unauthorized",
            serde_json::json!({ "error": error }).to_string(),
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

async fn serve_websocket(stream: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let hello = Hello {
        protocol: 1,
        server_version: "canned".into(),
        user: user(1),
        device_id: 7,
        server_time: 1_700_000_000_000,
        idle_timeout_ms: 60_000,
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
    };
    let mut out = vec![encode_event(&Event::Hello(hello))];
    // Something to listen to.
    out.push(encode_event(&Event::Message(message(4, "are you there?"))));
    for frame in out {
        ws.send(WsMessage::text(frame)).await.unwrap();
    }
    while let Some(Ok(frame)) = ws.next().await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let frame = ClientFrame::decode(text.as_str()).unwrap();
        let answer = answer(frame.id, frame.request);
        if ws.send(WsMessage::text(answer)).await.is_err() {
            return;
        }
    }
}

fn answer(id: u64, request: Request) -> String {
    match request {
        Request::Ping | Request::Logout | Request::Typing(_) | Request::RevokeDevice(_) => {
            encode_ok(id, &Empty {})
        }
        Request::GetUser(get) => match (get.user_id, get.username.as_deref()) {
            (Some(id_asked), _) => encode_ok(id, &user(id_asked)),
            (_, Some("bob")) => encode_ok(id, &user(2)),
            (_, Some("carol")) => encode_ok(id, &user(3)),
            _ => encode_error(
                Some(id),
                &WireError::new(ErrorCode::NotFound, "no such user"),
            ),
        },
        Request::Send(send) => {
            assert!(!send.client_msg_id.is_empty());
            encode_ok(
                id,
                &SendResponse {
                    conversation_id: 5,
                    seq: 4,
                    created_at: 1_700_000_240_000,
                    duplicate: false,
                },
            )
        }
        Request::Sync => encode_ok(
            id,
            &SyncResponse {
                conversations: vec![conversation()],
                total_unread: 1,
            },
        ),
        Request::GetConversation(_) => encode_ok(id, &conversation()),
        Request::History(_) => encode_ok(
            id,
            &HistoryResponse {
                messages: vec![message(1, "hi"), message(2, "hello"), message(3, "see you")],
                has_more: false,
            },
        ),
        Request::MarkRead(mark) => encode_ok(
            id,
            &MarkReadResponse {
                conversation_id: mark.conversation_id,
                read_seq: mark.seq,
                unread: 0,
            },
        ),
        Request::ListDevices => encode_ok(
            id,
            &DevicesResponse {
                devices: vec![Device {
                    id: 7,
                    name: "confab-cli".into(),
                    created_at: 1_700_000_000_000,
                    last_used_at: 1_700_000_000_000,
                    expires_at: 1_800_000_000_000,
                    current: true,
                }],
            },
        ),
        Request::CreateGroup(group) => {
            let group: ConversationSummary = serde_json::from_value(serde_json::json!({
                "id": 9,
                "kind": "group",
                "name": group.name,
                "role": "owner",
                "member_count": 1 + group.members.len(),
                "last_seq": 1,
                "read_seq": 1,
                "unread": 0,
                "last_activity": 1_700_000_000_000i64,
            }))
            .unwrap();
            encode_ok(id, &group)
        }
        Request::Members(_) => {
            let member: Member = serde_json::from_value(serde_json::json!({
                "user": user(1),
                "role": "owner",
                "joined_at": 1_700_000_000_000i64,
                "read_seq": 1,
            }))
            .unwrap();
            encode_ok(
                id,
                &MembersResponse {
                    members: vec![member],
                    has_more: false,
                },
            )
        }
        other => encode_error(
            Some(id),
            &WireError::new(
                ErrorCode::UnknownType,
                format!("{} not canned", other.kind()),
            ),
        ),
    }
}

async fn confab(config: &Path, server: &str, args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_CONFIG_DIR", config)
        .env("CONFAB_SERVER", server)
        .env_remove("CONFAB_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("confab finished")
        .expect("confab ran")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[tokio::test]
async fn a_session_from_login_to_logout() {
    let server = start_server().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();

    // Nothing works before logging in.
    let out = confab(dir, &server, &["whoami"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: not_logged_in: "),
        "{}",
        stderr(&out)
    );

    // Wrong password: the server's code, exit status 1.
    let out = confab(dir, &server, &["login", "alice", "--password", "nope"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: wrong_credentials: wrong username or password"
    );

    let out = confab(
        dir,
        &server,
        &["--json", "login", "alice", "--password", "secret-pass"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let login = &json_lines(&out)[0];
    assert_eq!(
        (
            login["user"]["username"].as_str(),
            login["device_id"].as_i64()
        ),
        (Some("alice"), Some(7))
    );
    let saved = std::fs::read_to_string(dir.join("credentials.json")).unwrap();
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["servers"][&server]["token"], TOKEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = confab(dir, &server, &["whoami"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("alice (ALICE), user 1, device 7"),
        "{}",
        stdout(&out)
    );

    let out = confab(dir, &server, &["logout"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("credentials.json")).unwrap())
            .unwrap();
    assert!(saved["servers"].get(&server).is_none());
}

#[tokio::test]
async fn messaging_commands() {
    let server = start_server().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    let out = confab(
        dir,
        &server,
        &["login", "alice", "--password", "secret-pass"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));

    let out = confab(dir, &server, &["send", "--to", "bob", "hello", "there"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "sent #4 in conversation 5");

    let out = confab(
        dir,
        &server,
        &["--json", "send", "--conversation", "5", "hi"],
    )
    .await;
    let sent = &json_lines(&out)[0];
    assert_eq!(
        (sent["conversation_id"].as_i64(), sent["seq"].as_i64()),
        (Some(5), Some(4))
    );

    let out = confab(dir, &server, &["send", "--to", "nobody", "hi"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim(), "error: not_found: no such user");

    let out = confab(dir, &server, &["--json", "conversations"]).await;
    let conversations = json_lines(&out);
    assert_eq!(conversations.len(), 1);
    assert_eq!(
        (
            conversations[0]["id"].as_i64(),
            conversations[0]["unread"].as_u64()
        ),
        (Some(5), Some(1))
    );

    let out = confab(dir, &server, &["conversations"]).await;
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines[0], "ID  KIND    NAME  UNREAD  LAST  PREVIEW");
    assert_eq!(lines[1], " 5  direct  BOB        1     3  bob: see you");

    let out = confab(dir, &server, &["history", "5"]).await;
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("SEQ  SENDER  TIME"), "{lines:?}");
    assert!(lines[1].starts_with("  1  bob     "), "{lines:?}");
    assert!(lines[1].ends_with("  hi"), "{lines:?}");
    assert!(lines[2].starts_with("  2  alice   "), "{lines:?}");

    let out = confab(
        dir,
        &server,
        &["--json", "history", "5", "--after", "0", "--limit", "3"],
    )
    .await;
    let seqs: Vec<i64> = json_lines(&out)
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);

    let out = confab(dir, &server, &["read", "5"]).await;
    assert_eq!(
        stdout(&out).trim(),
        "conversation 5 read up to #3 (0 unread)"
    );

    let out = confab(
        dir,
        &server,
        &[
            "--json",
            "group",
            "create",
            "Team",
            "--members",
            "bob,carol",
        ],
    )
    .await;
    let group = &json_lines(&out)[0];
    assert_eq!(
        (group["name"].as_str(), group["member_count"].as_u64()),
        (Some("Team"), Some(3))
    );

    let out = confab(dir, &server, &["group", "members", "9"]).await;
    assert!(stdout(&out).contains("alice"), "{}", stdout(&out));

    let out = confab(dir, &server, &["devices"]).await;
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert!(lines[1].starts_with("*   7  confab-cli  "), "{lines:?}");

    let out = confab(dir, &server, &["recall", "5", "2"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: unknown_type: "),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn listen_prints_events_and_stops_after_count() {
    let server = start_server().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path();
    let out = confab(
        dir,
        &server,
        &["login", "alice", "--password", "secret-pass"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));

    let out = confab(
        dir,
        &server,
        &["--json", "listen", "--count", "1", "--timeout", "10"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let events = json_lines(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "message");
    assert_eq!(events[0]["data"]["seq"], 4);

    let out = confab(dir, &server, &["listen", "--count", "1"]).await;
    assert!(
        stdout(&out).contains("conversation 5 #4  alice: are you there?"),
        "{}",
        stdout(&out)
    );

    // Not enough events before the timeout: an error; without --count, a quiet exit.
    let out = confab(
        dir,
        &server,
        &["listen", "--count", "2", "--timeout", "0.5"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: timeout: 1 of 2"),
        "{}",
        stderr(&out)
    );
    let out = confab(dir, &server, &["--json", "listen", "--timeout", "0.5"]).await;
    assert!(out.status.success());
    assert_eq!(json_lines(&out).len(), 1);
}

#[tokio::test]
async fn usage_errors_exit_with_status_two() {
    let config = tempfile::tempdir().unwrap();
    let out = confab(config.path(), "http://127.0.0.1:1", &["send", "hello"]).await;
    assert_eq!(out.status.code(), Some(2));
}
