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
    /// Where blobs live: unset for `<data_dir>/blobs` on the local disk, or
    /// `s3://bucket/prefix` for an S3-compatible bucket (credentials, region and endpoint from
    /// the usual `AWS_*` variables).
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("data"),
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
            blob_url: None,
            max_image_bytes: 20 * 1024 * 1024,
            max_voice_bytes: 20 * 1024 * 1024,
            max_video_bytes: 200 * 1024 * 1024,
            max_file_bytes: 1024 * 1024 * 1024,
            max_image_pixels: 50_000_000,
            max_image_side: 20_000,
            thumbnail_max_side: 320,
            media_url_ttl_secs: 600,
        }
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
    #[arg(long, env = "CONFAB_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, env = "CONFAB_BIND")]
    pub bind: Option<SocketAddr>,
    #[arg(long, env = "CONFAB_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[arg(long, env = "CONFAB_MAX_FRAME_BYTES")]
    pub max_frame_bytes: Option<usize>,
    #[arg(long, env = "CONFAB_MAX_TEXT_CHARS")]
    pub max_text_chars: Option<usize>,
    #[arg(long, env = "CONFAB_MAX_GROUP_MEMBERS")]
    pub max_group_members: Option<usize>,
    #[arg(long, env = "CONFAB_RECALL_WINDOW_SECS")]
    pub recall_window_secs: Option<u64>,
    #[arg(long, env = "CONFAB_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    #[arg(long, env = "CONFAB_AUTH_TIMEOUT_SECS")]
    pub auth_timeout_secs: Option<u64>,
    #[arg(long, env = "CONFAB_OUTBOX_FRAMES")]
    pub outbox_frames: Option<usize>,
    #[arg(long, env = "CONFAB_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    #[arg(long, env = "CONFAB_HISTORY_PAGE_MAX")]
    pub history_page_max: Option<u32>,
    #[arg(long, env = "CONFAB_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    #[arg(long, env = "CONFAB_OPEN_DIRECT_MESSAGES")]
    pub open_direct_messages: Option<bool>,
    #[arg(long, env = "CONFAB_ARGON2_MEMORY_KIB")]
    pub argon2_memory_kib: Option<u32>,
    #[arg(long, env = "CONFAB_ARGON2_ITERATIONS")]
    pub argon2_iterations: Option<u32>,
    /// `s3://bucket/prefix` to keep blobs in an S3-compatible bucket (default: the data dir).
    #[arg(long, env = "CONFAB_BLOB_URL")]
    pub blob_url: Option<String>,
    #[arg(long, env = "CONFAB_MAX_IMAGE_BYTES")]
    pub max_image_bytes: Option<u64>,
    #[arg(long, env = "CONFAB_MAX_VOICE_BYTES")]
    pub max_voice_bytes: Option<u64>,
    #[arg(long, env = "CONFAB_MAX_VIDEO_BYTES")]
    pub max_video_bytes: Option<u64>,
    #[arg(long, env = "CONFAB_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<u64>,
    #[arg(long, env = "CONFAB_MAX_IMAGE_PIXELS")]
    pub max_image_pixels: Option<u64>,
    #[arg(long, env = "CONFAB_MAX_IMAGE_SIDE")]
    pub max_image_side: Option<u32>,
    #[arg(long, env = "CONFAB_THUMBNAIL_MAX_SIDE")]
    pub thumbnail_max_side: Option<u32>,
    #[arg(long, env = "CONFAB_MEDIA_URL_TTL_SECS")]
    pub media_url_ttl_secs: Option<u64>,
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
            max_image_bytes,
            max_voice_bytes,
            max_video_bytes,
            max_file_bytes,
            max_image_pixels,
            max_image_side,
            thumbnail_max_side,
            media_url_ttl_secs
        );
        if let Some(url) = &self.blob_url {
            c.blob_url = Some(url.clone());
        }
        anyhow::ensure!(
            (16..=4096).contains(&c.thumbnail_max_side),
            "thumbnail_max_side must be 16–4096"
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
