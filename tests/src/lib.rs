//! Test support for whole-system scenarios: [`TestServer`] boots the real server on
//! `127.0.0.1:0` with a fresh data directory; [`RawWs`] speaks raw frames for bad-input tests;
//! [`ServerProcess`] runs the real binary for crash tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use confab_proto::http::{LoginRequest, LoginResponse, RegisterRequest};
use confab_server::config::Config;
use confab_server::RunningServer;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub const PASSWORD: &str = "Correct-horse-1";

/// A real server in this process, listening on a free loopback port.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
    pub base_url: String,
}

impl TestServer {
    /// The default configuration (direct messages from friends only).
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Direct messages open to anyone, for scenarios that are not about friendship.
    pub async fn open() -> TestServer {
        Self::start_with(|c| c.open_direct_messages = true).await
    }

    /// Open direct messages plus `tweak`.
    pub async fn open_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_with(|c| {
            c.open_direct_messages = true;
            tweak(c)
        })
        .await
    }

    /// Starts with the default configuration changed by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            // Cheap password hashing: these tests register many users, and the hash cost is
            // not what they check.
            argon2_memory_kib: 256,
            argon2_iterations: 1,
            ..Config::default()
        };
        tweak(&mut config);
        let server = RunningServer::start(config).await.expect("server starts");
        let base_url = format!("http://{}", server.addr);
        TestServer {
            server: Some(server),
            dir,
            base_url,
        }
    }

    pub fn ws_url(&self) -> String {
        ws_url(&self.base_url)
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("confab.db")
    }

    /// Registers `username` and logs in one device; returns the login answer.
    pub async fn user(&self, username: &str) -> LoginResponse {
        register(&self.base_url, username).await;
        login(&self.base_url, username, "test-device").await
    }

    /// Registers and logs in `username` and connects one device.
    pub async fn client(&self, username: &str) -> (confab_sdk::Client, LoginResponse) {
        let login = self.user(username).await;
        let client = confab_sdk::Client::connect(&self.base_url, &login.token)
            .await
            .expect("connects");
        (client, login)
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown();
            s.wait().await.expect("clean stop");
        }
    }
}

pub fn ws_url(base_url: &str) -> String {
    format!("{}/ws?v=1", base_url.replacen("http", "ws", 1))
}

pub async fn register(base_url: &str, username: &str) {
    confab_sdk::Client::register(
        base_url,
        RegisterRequest {
            username: username.into(),
            password: PASSWORD.into(),
            display_name: None,
        },
    )
    .await
    .expect("register");
}

pub async fn login(base_url: &str, username: &str, device: &str) -> LoginResponse {
    confab_sdk::Client::login(
        base_url,
        LoginRequest {
            username: username.into(),
            password: PASSWORD.into(),
            device_name: Some(device.into()),
        },
    )
    .await
    .expect("login")
}

/// A bare WebSocket speaking raw text frames, for malformed-input tests.
pub struct RawWs {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl RawWs {
    /// Connects with `?token=` (or none) and returns the socket.
    pub async fn connect(url: &str, token: Option<&str>) -> RawWs {
        let url = match token {
            Some(t) => format!("{url}&token={t}"),
            None => url.to_owned(),
        };
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        RawWs { ws }
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws
            .send(WsMessage::Text(text.into().into()))
            .await
            .expect("send frame");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(WsMessage::Binary(bytes.into()))
            .await
            .expect("send frame");
    }

    /// The next text frame as JSON, or `None` if the connection closed (with its close code).
    pub async fn next_json(&mut self) -> Result<serde_json::Value, Option<u16>> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s");
            match msg {
                Some(Ok(WsMessage::Text(t))) => {
                    return Ok(serde_json::from_str(t.as_str()).expect("server sends JSON"))
                }
                Some(Ok(WsMessage::Close(frame))) => return Err(frame.map(|f| f.code.into())),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// The next response (frame with an `id`), skipping events.
    pub async fn response(&mut self) -> serde_json::Value {
        loop {
            let v = self.next_json().await.expect("connection open");
            if v.get("event").is_none() {
                return v;
            }
        }
    }
}

/// The real `confab-server` binary as a child process.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base_url: String,
}

/// Path of a workspace binary built next to the test executable.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServerProcess {
    pub async fn start(data_dir: &Path, port: u16) -> ServerProcess {
        let mut child = std::process::Command::new(workspace_bin("confab-server"))
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .env("CONFAB_LOG", "warn")
            .env("CONFAB_OPEN_DIRECT_MESSAGES", "true")
            .spawn()
            .expect("server binary starts");
        let base_url = format!("http://127.0.0.1:{port}");
        let health = format!("{base_url}/healthz");
        for _ in 0..200 {
            if reqwest_get_ok(&health).await {
                return ServerProcess { child, base_url };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("server did not become healthy");
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on unix
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

async fn reqwest_get_ok(url: &str) -> bool {
    let Ok(addr) = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .parse::<std::net::SocketAddr>()
    else {
        return false;
    };
    // A minimal HTTP/1.0 GET keeps this helper free of client dependencies.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    buf.starts_with(b"HTTP/1.0 200") || buf.starts_with(b"HTTP/1.1 200")
}

/// Sends any request and returns the answer as JSON, or the error code.
pub async fn call(
    client: &confab_sdk::Client,
    request: confab_proto::Request,
) -> Result<serde_json::Value, confab_proto::ErrorCode> {
    client
        .request::<serde_json::Value>(request)
        .await
        .map_err(|e| e.code().unwrap_or_else(|| panic!("transport failure: {e}")))
}

/// Raises this process's open-file limit to its hard limit (tests that hold thousands of
/// sockets on both ends).
pub fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}
