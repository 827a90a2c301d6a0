//! Configuration: defaults, overridden by an optional TOML file, overridden by `CONFAB_*`
//! environment variables and command-line flags (clap reads both).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

/// Every setting with its default. The TOML file uses the same names (`bind = "0.0.0.0:8080"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API, WebSocket and web UI listen on.
    pub bind: SocketAddr,
    /// Directory holding the SQLite database and blobs.
    pub data_dir: PathBuf,
    /// The built web UI (default: `ui/dist` under the working directory, when present).
    pub web_dir: Option<PathBuf>,
    /// Largest WebSocket frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Longest text message, in characters.
    pub max_text_chars: usize,
    /// Largest group.
    pub max_group_members: usize,
    /// How long after sending a user may recall a message, in seconds.
    pub recall_window_secs: u64,
    /// A connection with no frame from the client for this long is closed, in seconds.
    pub idle_timeout_secs: u64,
    /// A connection that has not authenticated this long after opening is closed, in seconds.
    pub auth_timeout_secs: u64,
    /// Frames queued for one connection before it counts as a slow consumer and is closed.
    pub outbox_frames: usize,
    /// Lifetime of a login token, in seconds (default 30 days).
    pub token_ttl_secs: u64,
    /// Largest history page.
    pub history_page_max: u32,
    /// Grace period for in-flight requests at shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    /// New users accept direct messages from anyone (instead of friends only). Suits a
    /// company-internal deployment; users can change their own setting either way.
    pub open_direct_messages: bool,
    /// Argon2id memory cost for password hashes, in KiB (OWASP's 19 MiB by default).
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
    /// Requests per second on one connection (bursts of twice that); 0 disables.
    pub rate_requests_per_connection: u32,
    /// Messages per second from one account, over all its devices (bursts of twice that); 0 disables.
    pub rate_sends_per_user: u32,
    /// New WebSocket connections per second from one address (bursts of twice that); 0 disables.
    pub rate_connects_per_ip: u32,
    /// Registrations per minute from one address; 0 disables.
    pub rate_registrations_per_ip: u32,
    /// Simultaneous connections of one account; 0 means no limit.
    pub max_connections_per_user: usize,
    /// Simultaneous connections from one address; 0 means no limit.
    pub max_connections_per_ip: usize,
    /// Failed logins of one account before each further attempt must wait (1 s, doubling).
    pub login_failures_before_delay: u32,
    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Browser origins besides the server's own that may use the API and WebSocket (CORS and
    /// the WebSocket `Origin` check). By default the desktop app's.
    pub allowed_origins: Vec<String>,
    /// Integration API: requests per second per API key (sustained).
    pub integration_rate_per_sec: u32,
    /// Integration API: burst of requests per API key.
    pub integration_burst: u32,
    /// Webhook events waiting for the delivery worker; beyond this they are dropped (logged).
    pub webhook_queue: usize,
    /// Timeout of one webhook request, in milliseconds.
    pub webhook_timeout_ms: u64,
    /// Attempts per webhook delivery before it is marked failed.
    pub webhook_max_attempts: u32,
    /// Delay before the first retry, in milliseconds; doubled for each further retry.
    pub webhook_retry_base_ms: u64,
    /// Webhook requests in flight at once.
    pub webhook_concurrency: usize,
    /// PostgreSQL URL (`postgres://user:password@host:5432/confab`). When set, all state lives
    /// there and any number of nodes can share it; when absent, SQLite in `data_dir`.
    pub postgres_url: Option<String>,
    /// Connections each node keeps to PostgreSQL.
    pub postgres_pool_size: usize,
    /// Bound on every database call (including waiting for a connection), in seconds.
    pub db_timeout_secs: u64,
    /// NATS URL (`nats://host:4222`). When set, nodes exchange events through NATS; when
    /// absent, the in-process broker (one node).
    pub nats_url: Option<String>,
    /// Prefix of every NATS subject; deployments sharing a NATS server use different ones.
    pub nats_subject_prefix: String,
    /// This node's name in logs, `/healthz` and NATS (default: `node-` and a random suffix).
    pub node_id: Option<String>,
    /// Where media blobs live: a directory path or an `object_store` URL such as
    /// `s3://bucket/prefix`, shared by every node of a cluster (default: `data_dir/blobs`).
    pub blob_url: Option<String>,
    /// Largest upload of each kind, in bytes.
    pub max_image_bytes: u64,
    pub max_voice_bytes: u64,
    pub max_video_bytes: u64,
    pub max_file_bytes: u64,
    /// Largest image accepted, in pixels (width × height), checked from the header before
    /// decoding; and the longest side.
    pub max_image_pixels: u64,
    pub max_image_side: u32,
    /// Longest side of image thumbnails and video posters, in pixels.
    pub thumbnail_max_side: u32,
    /// Lifetime of signed media URLs, in seconds.
    pub media_url_ttl_secs: u64,
    /// The AI assistant (`[assistant]` in the file); off unless a model is set.
    pub assistant: AssistantConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("data"),
            web_dir: None,
            max_frame_bytes: 64 * 1024,
            max_text_chars: 4000,
            max_group_members: 2000,
            recall_window_secs: 120,
            idle_timeout_secs: 60,
            auth_timeout_secs: 10,
            outbox_frames: 1024,
            token_ttl_secs: 30 * 24 * 3600,
            history_page_max: 200,
            shutdown_grace_secs: 10,
            open_direct_messages: false,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            rate_requests_per_connection: 100,
            rate_sends_per_user: 50,
            rate_connects_per_ip: 50,
            rate_registrations_per_ip: 10,
            max_connections_per_user: 20,
            max_connections_per_ip: 1000,
            login_failures_before_delay: 5,
            trust_forwarded_for: false,
            // The desktop app's page (Linux and macOS, then Windows).
            allowed_origins: vec!["tauri://localhost".into(), "http://tauri.localhost".into()],
            integration_rate_per_sec: 50,
            integration_burst: 100,
            webhook_queue: 10_000,
            webhook_timeout_ms: 10_000,
            webhook_max_attempts: 8,
            webhook_retry_base_ms: 1_000,
            webhook_concurrency: 16,
            postgres_url: None,
            postgres_pool_size: 16,
            db_timeout_secs: 5,
            nats_url: None,
            nats_subject_prefix: "confab".into(),
            node_id: None,
            blob_url: None,
            max_image_bytes: 20 * 1024 * 1024,
            max_voice_bytes: 20 * 1024 * 1024,
            max_video_bytes: 200 * 1024 * 1024,
            max_file_bytes: 1024 * 1024 * 1024,
            max_image_pixels: 50_000_000,
            max_image_side: 20_000,
            thumbnail_max_side: 320,
            media_url_ttl_secs: 600,
            assistant: AssistantConfig::default(),
        }
    }
}

/// An API key: kept on the server, never logged (its `Debug` shows only whether it is set).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }
    /// The key itself, for the Authorization header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "ApiKey(<empty>)"
        } else {
            "ApiKey(<redacted>)"
        })
    }
}

impl std::str::FromStr for ApiKey {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ApiKey(s.to_owned()))
    }
}

/// The AI assistant: any endpoint speaking OpenAI's chat-completions API (OpenAI, Ollama,
/// vLLM, llama.cpp's server, …). Configured when `model` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssistantConfig {
    /// Base URL of the API, up to and including `/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …`; leave empty for endpoints that need none.
    pub api_key: ApiKey,
    /// The model name; the assistant is off while this is empty.
    pub model: String,
    /// Always the first message of every request.
    pub system_prompt: String,
    /// Budget for the system prompt plus conversation context, in estimated tokens (one token
    /// per 4 characters, rounded up, plus 4 per message). Older messages are left out first.
    pub context_tokens: usize,
    /// At most this many recent messages are considered for the context.
    pub context_messages: u32,
    /// Upper bound on the reply length, in tokens (`max_completion_tokens`); 0 leaves it to
    /// the model.
    pub max_reply_tokens: u32,
    /// How long to wait for the endpoint to start answering (and for a whole non-streamed
    /// answer), in milliseconds.
    pub request_timeout_ms: u64,
    /// A stream with no new data for this long is abandoned, in milliseconds.
    pub stream_idle_timeout_ms: u64,
    /// Upper bound on one whole reply, in milliseconds.
    pub max_reply_ms: u64,
    /// Questions, summaries and translations one user may ask per minute.
    pub rate_per_minute: u32,
    /// The bot account's username (created at start) and display name.
    pub username: String,
    pub display_name: String,
}

impl Default for AssistantConfig {
    fn default() -> Self {
        AssistantConfig {
            base_url: "https://api.openai.com/v1".into(),
            api_key: ApiKey::default(),
            model: String::new(),
            system_prompt: "You are Assistant, a helpful assistant inside the Confab messenger. \
                            Answer concisely."
                .into(),
            context_tokens: 4000,
            context_messages: 50,
            max_reply_tokens: 0,
            request_timeout_ms: 60_000,
            stream_idle_timeout_ms: 30_000,
            max_reply_ms: 300_000,
            rate_per_minute: 20,
            username: "assistant".into(),
            display_name: "Assistant".into(),
        }
    }
}

impl AssistantConfig {
    pub fn is_configured(&self) -> bool {
        !self.model.trim().is_empty()
    }
}

impl Config {
    pub fn recall_window(&self) -> Duration {
        Duration::from_secs(self.recall_window_secs)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
    pub fn auth_timeout(&self) -> Duration {
        Duration::from_secs(self.auth_timeout_secs)
    }
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl_secs)
    }
    pub fn db_timeout(&self) -> Duration {
        Duration::from_secs(self.db_timeout_secs)
    }

    /// The upload limit for a kind of media.
    pub fn max_media_bytes(&self, kind: confab_proto::MediaKind) -> u64 {
        match kind {
            confab_proto::MediaKind::Image => self.max_image_bytes,
            confab_proto::MediaKind::Voice => self.max_voice_bytes,
            confab_proto::MediaKind::Video => self.max_video_bytes,
            confab_proto::MediaKind::File => self.max_file_bytes,
        }
    }
}

/// Flags of `confab-server serve`; each also reads its `CONFAB_*` variable.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "CONFAB_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, global = true, env = "CONFAB_BIND")]
    pub bind: Option<SocketAddr>,
    #[arg(long, global = true, env = "CONFAB_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[arg(long, global = true, env = "CONFAB_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    #[arg(long, global = true, env = "CONFAB_MAX_FRAME_BYTES")]
    pub max_frame_bytes: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_MAX_TEXT_CHARS")]
    pub max_text_chars: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_MAX_GROUP_MEMBERS")]
    pub max_group_members: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_RECALL_WINDOW_SECS")]
    pub recall_window_secs: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_AUTH_TIMEOUT_SECS")]
    pub auth_timeout_secs: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_OUTBOX_FRAMES")]
    pub outbox_frames: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_HISTORY_PAGE_MAX")]
    pub history_page_max: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_OPEN_DIRECT_MESSAGES")]
    pub open_direct_messages: Option<bool>,
    #[arg(long, global = true, env = "CONFAB_ARGON2_MEMORY_KIB")]
    pub argon2_memory_kib: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_ARGON2_ITERATIONS")]
    pub argon2_iterations: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_RATE_REQUESTS_PER_CONNECTION")]
    pub rate_requests_per_connection: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_RATE_SENDS_PER_USER")]
    pub rate_sends_per_user: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_RATE_CONNECTS_PER_IP")]
    pub rate_connects_per_ip: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_RATE_REGISTRATIONS_PER_IP")]
    pub rate_registrations_per_ip: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_MAX_CONNECTIONS_PER_USER")]
    pub max_connections_per_user: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_LOGIN_FAILURES_BEFORE_DELAY")]
    pub login_failures_before_delay: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: Option<bool>,
    /// Comma-separated.
    #[arg(
        long,
        global = true,
        env = "CONFAB_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Option<Vec<String>>,
    #[arg(long, global = true, env = "CONFAB_INTEGRATION_RATE_PER_SEC")]
    pub integration_rate_per_sec: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_INTEGRATION_BURST")]
    pub integration_burst: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_WEBHOOK_QUEUE")]
    pub webhook_queue: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_WEBHOOK_TIMEOUT_MS")]
    pub webhook_timeout_ms: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_WEBHOOK_MAX_ATTEMPTS")]
    pub webhook_max_attempts: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_WEBHOOK_RETRY_BASE_MS")]
    pub webhook_retry_base_ms: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_WEBHOOK_CONCURRENCY")]
    pub webhook_concurrency: Option<usize>,
    /// PostgreSQL URL; without it, SQLite in the data directory.
    #[arg(long, global = true, env = "CONFAB_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    #[arg(long, global = true, env = "CONFAB_POSTGRES_POOL_SIZE")]
    pub postgres_pool_size: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_DB_TIMEOUT_SECS")]
    pub db_timeout_secs: Option<u64>,
    /// NATS URL; without it, the in-process broker (a single node).
    #[arg(long, global = true, env = "CONFAB_NATS_URL")]
    pub nats_url: Option<String>,
    #[arg(long, global = true, env = "CONFAB_NATS_SUBJECT_PREFIX")]
    pub nats_subject_prefix: Option<String>,
    /// This node's name (logs, /healthz, NATS).
    #[arg(long, global = true, env = "CONFAB_NODE_ID")]
    pub node_id: Option<String>,
    /// Shared blob location: a path or an object_store URL (s3://bucket/prefix).
    #[arg(long, global = true, env = "CONFAB_BLOB_URL")]
    pub blob_url: Option<String>,
    #[arg(long, global = true, env = "CONFAB_MAX_IMAGE_BYTES")]
    pub max_image_bytes: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_MAX_VOICE_BYTES")]
    pub max_voice_bytes: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_MAX_VIDEO_BYTES")]
    pub max_video_bytes: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_MAX_IMAGE_PIXELS")]
    pub max_image_pixels: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_MAX_IMAGE_SIDE")]
    pub max_image_side: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_THUMBNAIL_MAX_SIDE")]
    pub thumbnail_max_side: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_MEDIA_URL_TTL_SECS")]
    pub media_url_ttl_secs: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_BASE_URL")]
    pub assistant_base_url: Option<String>,
    /// Prefer the variable or the file: flags show up in process listings.
    #[arg(
        long,
        global = true,
        env = "CONFAB_ASSISTANT_API_KEY",
        hide_env_values = true
    )]
    pub assistant_api_key: Option<ApiKey>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_MODEL")]
    pub assistant_model: Option<String>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_SYSTEM_PROMPT")]
    pub assistant_system_prompt: Option<String>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_CONTEXT_TOKENS")]
    pub assistant_context_tokens: Option<usize>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_CONTEXT_MESSAGES")]
    pub assistant_context_messages: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_MAX_REPLY_TOKENS")]
    pub assistant_max_reply_tokens: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_REQUEST_TIMEOUT_MS")]
    pub assistant_request_timeout_ms: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_STREAM_IDLE_TIMEOUT_MS")]
    pub assistant_stream_idle_timeout_ms: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_MAX_REPLY_MS")]
    pub assistant_max_reply_ms: Option<u64>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_RATE_PER_MINUTE")]
    pub assistant_rate_per_minute: Option<u32>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_USERNAME")]
    pub assistant_username: Option<String>,
    #[arg(long, global = true, env = "CONFAB_ASSISTANT_DISPLAY_NAME")]
    pub assistant_display_name: Option<String>,
}

impl ConfigArgs {
    /// Defaults, then the file, then flags and environment.
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { c.$f = v; } )* };
        }
        if let Some(dir) = &self.web_dir {
            c.web_dir = Some(dir.clone());
        }
        set!(
            bind,
            data_dir,
            max_frame_bytes,
            max_text_chars,
            max_group_members,
            recall_window_secs,
            idle_timeout_secs,
            auth_timeout_secs,
            outbox_frames,
            token_ttl_secs,
            history_page_max,
            shutdown_grace_secs,
            open_direct_messages,
            argon2_memory_kib,
            argon2_iterations,
            rate_requests_per_connection,
            rate_sends_per_user,
            rate_connects_per_ip,
            rate_registrations_per_ip,
            max_connections_per_user,
            max_connections_per_ip,
            login_failures_before_delay,
            trust_forwarded_for,
            allowed_origins,
            integration_rate_per_sec,
            integration_burst,
            webhook_queue,
            webhook_timeout_ms,
            webhook_max_attempts,
            webhook_retry_base_ms,
            webhook_concurrency,
            postgres_pool_size,
            db_timeout_secs,
            nats_subject_prefix,
            max_image_bytes,
            max_voice_bytes,
            max_video_bytes,
            max_file_bytes,
            max_image_pixels,
            max_image_side,
            thumbnail_max_side,
            media_url_ttl_secs
        );
        anyhow::ensure!(
            (16..=4096).contains(&c.thumbnail_max_side),
            "thumbnail_max_side must be 16–4096"
        );
        macro_rules! set_some {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { c.$f = Some(v); } )* };
        }
        set_some!(postgres_url, nats_url, node_id, blob_url);
        macro_rules! set_assistant {
            ($($flag:ident => $f:ident),*) => {
                $( if let Some(v) = self.$flag.clone() { c.assistant.$f = v; } )*
            };
        }
        set_assistant!(
            assistant_base_url => base_url,
            assistant_api_key => api_key,
            assistant_model => model,
            assistant_system_prompt => system_prompt,
            assistant_context_tokens => context_tokens,
            assistant_context_messages => context_messages,
            assistant_max_reply_tokens => max_reply_tokens,
            assistant_request_timeout_ms => request_timeout_ms,
            assistant_stream_idle_timeout_ms => stream_idle_timeout_ms,
            assistant_max_reply_ms => max_reply_ms,
            assistant_rate_per_minute => rate_per_minute,
            assistant_username => username,
            assistant_display_name => display_name
        );
        let a = &c.assistant;
        anyhow::ensure!(
            a.context_tokens >= 100 && a.context_messages >= 1,
            "assistant context_tokens must be at least 100 and context_messages at least 1"
        );
        anyhow::ensure!(
            a.request_timeout_ms >= 1 && a.stream_idle_timeout_ms >= 1 && a.max_reply_ms >= 1,
            "assistant timeouts must be positive"
        );
        anyhow::ensure!(
            c.argon2_memory_kib >= 64 && c.argon2_iterations >= 1,
            "argon2 needs at least 64 KiB and 1 iteration"
        );
        anyhow::ensure!(
            c.max_frame_bytes >= 1024,
            "max_frame_bytes must be at least 1024"
        );
        anyhow::ensure!(c.outbox_frames >= 8, "outbox_frames must be at least 8");
        anyhow::ensure!(c.db_timeout_secs >= 1, "db_timeout_secs must be at least 1");
        anyhow::ensure!(
            !c.nats_subject_prefix.is_empty() && !c.nats_subject_prefix.contains([' ', '*', '>']),
            "nats_subject_prefix must be a non-empty subject without spaces or wildcards"
        );
        anyhow::ensure!(
            c.history_page_max >= 1,
            "history_page_max must be at least 1"
        );
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "max_text_chars = 10\nrecall_window_secs = 5\n").unwrap();
        let args = ConfigArgs {
            config: Some(file),
            recall_window_secs: Some(7),
            ..Default::default()
        };
        let c = args.load().unwrap();
        assert_eq!(c.max_text_chars, 10);
        assert_eq!(c.recall_window_secs, 7);
        assert_eq!(c.bind.port(), 8080);
    }

    #[test]
    fn assistant_section_and_redacted_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[assistant]\nmodel = \"llama3.2\"\napi_key = \"sk-secret\"\n",
        )
        .unwrap();
        let args = ConfigArgs {
            config: Some(file),
            assistant_base_url: Some("http://127.0.0.1:11434/v1".into()),
            ..Default::default()
        };
        let c = args.load().unwrap();
        assert!(c.assistant.is_configured());
        assert_eq!(c.assistant.api_key.expose(), "sk-secret");
        assert_eq!(c.assistant.base_url, "http://127.0.0.1:11434/v1");
        let debug = format!("{c:?}");
        assert!(!debug.contains("sk-secret"), "{debug}");
        assert!(!Config::default().assistant.is_configured());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "max_txt = 10\n").unwrap();
        let args = ConfigArgs {
            config: Some(file),
            ..Default::default()
        };
        assert!(args.load().is_err());
    }
}
