//! Test support for whole-system scenarios: [`TestServer`] boots the real server on
//! `127.0.0.1:0` with a fresh data directory; [`RawWs`] speaks raw frames for bad-input tests;
//! [`ServerProcess`] runs the real binary for crash tests.
//!
//! # Backends
//!
//! `CONFAB_TEST_BACKEND=postgres` runs every server on PostgreSQL
//! (`CONFAB_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`), each in a
//! fresh schema of its own so that tests run in parallel; without it, SQLite. The cluster
//! tests use [`services`] to find PostgreSQL and NATS.

pub mod cluster;

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
    /// The server's own schema when the backend is PostgreSQL.
    pub pg: Option<PgSchema>,
}

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// The PostgreSQL URL the tests use.
pub fn postgres_url() -> String {
    std::env::var("CONFAB_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// The NATS URL the tests use.
pub fn nats_url() -> String {
    std::env::var("CONFAB_TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.into())
}

/// Whether the whole-system tests run on PostgreSQL (`CONFAB_TEST_BACKEND=postgres`).
pub fn postgres_backend() -> bool {
    match std::env::var("CONFAB_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("CONFAB_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// A fresh PostgreSQL schema, dropped with this value. Schemas left behind by killed test
/// runs are dropped by the next run after an hour.
pub struct PgSchema {
    pub name: String,
    base_url: String,
}

fn with_search_path(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

impl PgSchema {
    pub async fn create() -> PgSchema {
        let base_url = postgres_url();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let name = format!("t_{now}_{:08x}", rand_u32());
        let client = pg_client(&base_url).await;
        // Leftovers of killed runs.
        let stale: Vec<String> = client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%\\_%'",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for old in stale {
            let created: u64 = old
                .split('_')
                .nth(1)
                .and_then(|t| t.parse().ok())
                .unwrap_or(now);
            if now.saturating_sub(created) > 3600 {
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {old} CASCADE"))
                    .await;
            }
        }
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        PgSchema { name, base_url }
    }

    /// The URL that puts a server's tables in this schema.
    pub fn url(&self) -> String {
        with_search_path(&self.base_url, &self.name)
    }

    /// Runs a `SELECT COUNT(*) …` in this schema.
    pub async fn count(&self, sql: &str) -> i64 {
        pg_client(&self.url())
            .await
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.base_url.clone(), self.name.clone());
        // Its own runtime: Drop may run inside or outside one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish() as u32
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
            // Every test runs from one address and some drive thousands of requests: rate
            // limits are off unless a test (tests/abuse.rs) turns them on.
            rate_requests_per_connection: 0,
            rate_sends_per_user: 0,
            rate_connects_per_ip: 0,
            rate_registrations_per_ip: 0,
            max_connections_per_ip: 0,
            ..Config::default()
        };
        let pg = if postgres_backend() {
            let schema = PgSchema::create().await;
            config.postgres_url = Some(schema.url());
            // The bound is for outages; on a busy shared test machine a burst of thousands of
            // connecting clients can queue longer than the production default for a connection.
            config.db_timeout_secs = 30;
            Some(schema)
        } else {
            None
        };
        tweak(&mut config);
        let server = RunningServer::start(config).await.expect("server starts");
        let base_url = format!("http://{}", server.addr);
        TestServer {
            server: Some(server),
            dir,
            base_url,
            pg,
        }
    }

    /// Runs a `SELECT COUNT(*) …` (valid in both dialects) against the server's database.
    pub async fn count(&self, sql: &str) -> i64 {
        match &self.pg {
            Some(pg) => pg.count(sql).await,
            None => {
                let conn = rusqlite::Connection::open(self.db_path()).unwrap();
                conn.query_row(sql, [], |r| r.get(0)).unwrap()
            }
        }
    }

    /// Whether `needle` is still anywhere in stored data: the SQLite files (with the WAL), or
    /// the PostgreSQL tables that hold message text.
    pub async fn stored_anywhere(&self, needle: &str) -> bool {
        match &self.pg {
            Some(pg) => {
                let sql = format!(
                    "SELECT COUNT(*) FROM messages WHERE body LIKE '%{needle}%' \
                     OR client_msg_id LIKE '%{needle}%'"
                );
                pg.count(&sql).await > 0
            }
            None => {
                let mut bytes = std::fs::read(self.db_path()).unwrap();
                for suffix in ["-wal", "-shm"] {
                    let p = format!("{}{suffix}", self.db_path().display());
                    if let Ok(b) = std::fs::read(p) {
                        bytes.extend(b);
                    }
                }
                let needle = needle.as_bytes();
                bytes.windows(needle.len()).any(|w| w == needle)
            }
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
    /// Starts the binary on `port` with its data in `data_dir`. With the PostgreSQL backend the
    /// data is a schema whose name is kept in `data_dir`, so a restart finds it again.
    pub async fn start(data_dir: &Path, port: u16) -> ServerProcess {
        let mut args = vec!["--data-dir".to_owned(), data_dir.display().to_string()];
        if postgres_backend() {
            let file = data_dir.join("pg-schema");
            let schema = match std::fs::read_to_string(&file) {
                Ok(name) => name,
                Err(_) => {
                    let s = PgSchema::create().await;
                    std::fs::write(&file, &s.name).unwrap();
                    // Kept for the restart; the next runs drop it once it is stale.
                    let name = s.name.clone();
                    std::mem::forget(s);
                    name
                }
            };
            args.push("--postgres-url".into());
            args.push(with_search_path(&postgres_url(), &schema));
            args.push("--db-timeout-secs".into());
            args.push("30".into());
        }
        Self::spawn(port, &args).await
    }

    /// Starts the binary on `port` with these extra flags and waits until it is healthy.
    pub async fn spawn(port: u16, args: &[String]) -> ServerProcess {
        let child = std::process::Command::new(workspace_bin("confab-server"))
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env("CONFAB_LOG", "warn")
            .env("CONFAB_OPEN_DIRECT_MESSAGES", "true")
            .env("CONFAB_RATE_SENDS_PER_USER", "0")
            .env("CONFAB_RATE_REQUESTS_PER_CONNECTION", "0")
            .env("CONFAB_RATE_REGISTRATIONS_PER_IP", "0")
            .env("CONFAB_RATE_CONNECTS_PER_IP", "0")
            .env("CONFAB_ARGON2_MEMORY_KIB", "256")
            .env("CONFAB_ARGON2_ITERATIONS", "1")
            .spawn()
            .expect("server binary starts");
        let base_url = format!("http://127.0.0.1:{port}");
        let mut process = ServerProcess { child, base_url };
        let health = format!("{}/healthz", process.base_url);
        for _ in 0..200 {
            if reqwest_get_ok(&health).await {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process.kill9();
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
