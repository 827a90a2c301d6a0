//! The desktop settings, a small JSON file in the app's config directory
//! (`~/.config/im.confab.desktop/settings.json` on Linux), and the Content-Security-Policy
//! that follows from the chosen server.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::CommandError;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
pub const DEFAULT_SHORTCUT: &str = "CommandOrControl+Shift+K";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The Confab server, as an origin: `https://chat.example.com`.
    pub server_url: String,
    /// Closing the window hides it to the tray instead of quitting.
    pub close_to_tray: bool,
    /// The global shortcut that shows the window; empty for none.
    pub show_shortcut: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server_url: DEFAULT_SERVER.into(),
            close_to_tray: true,
            show_shortcut: DEFAULT_SHORTCUT.into(),
        }
    }
}

pub fn settings_path(config_dir: &Path) -> PathBuf {
    config_dir.join("settings.json")
}

/// The saved settings, or `None` on first start. A damaged file counts as first start.
pub fn load(path: &Path) -> Option<Settings> {
    let raw = std::fs::read(path).ok()?;
    let mut s: Settings = serde_json::from_slice(&raw).ok()?;
    s.server_url = normalize_server_url(&s.server_url).unwrap_or_else(|_| DEFAULT_SERVER.into());
    Some(s)
}

/// Written to a temporary file and renamed, so a crash never leaves half a file.
pub fn save(path: &Path, s: &Settings) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(s).expect("settings serialize"),
    )?;
    std::fs::rename(tmp, path)
}

/// `chat.example.com` → `https://chat.example.com`; only http(s), no path, query or user.
pub fn normalize_server_url(input: &str) -> Result<String, CommandError> {
    let trimmed = input.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let bad = || CommandError::InvalidServer(input.to_owned());
    let url = Url::parse(&with_scheme).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

/// The server's HTTP and WebSocket origins: `http://h:1` → (`http://h:1`, `ws://h:1`).
pub fn server_origins(server_url: &str) -> (String, String) {
    let ws = if let Some(rest) = server_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = server_url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        server_url.to_owned()
    };
    (server_url.to_owned(), ws)
}

/// The window's CSP: the page's own assets, the IPC bridge, and the one configured server.
pub fn csp_directives(server_url: &str) -> Vec<(&'static str, String)> {
    let (http, ws) = server_origins(server_url);
    vec![
        ("default-src", "'self'".into()),
        ("script-src", "'self'".into()),
        ("style-src", "'self' 'unsafe-inline'".into()),
        ("img-src", format!("'self' data: blob: {http}")),
        ("media-src", format!("'self' blob: {http}")),
        ("font-src", "'self' data:".into()),
        (
            "connect-src",
            format!("'self' ipc: http://ipc.localhost {http} {ws}"),
        ),
        ("object-src", "'none'".into()),
        ("base-uri", "'none'".into()),
        ("form-action", "'none'".into()),
        ("frame-ancestors", "'none'".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_normalized_to_origins() {
        assert_eq!(
            normalize_server_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_server_url(" chat.example.com ").unwrap(),
            "https://chat.example.com"
        );
        assert_eq!(
            normalize_server_url("HTTPS://Chat.Example.com:443").unwrap(),
            "https://chat.example.com"
        );
        for bad in [
            "ftp://x",
            "http://",
            "http://h/path",
            "http://u:p@h",
            "http://h/?q=1",
            "",
        ] {
            assert!(normalize_server_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_and_csp_follow_the_server() {
        assert_eq!(
            server_origins("https://c.example"),
            ("https://c.example".into(), "wss://c.example".into())
        );
        let csp = csp_directives("http://127.0.0.1:9000");
        let connect = &csp.iter().find(|(k, _)| *k == "connect-src").unwrap().1;
        assert!(
            connect.contains("http://127.0.0.1:9000") && connect.contains("ws://127.0.0.1:9000")
        );
        assert!(!connect.contains('*'));
    }

    #[test]
    fn first_start_then_saved_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = settings_path(dir.path());
        assert_eq!(load(&path), None);
        let s = Settings {
            server_url: "https://c.example".into(),
            close_to_tray: false,
            show_shortcut: String::new(),
        };
        save(&path, &s).unwrap();
        assert_eq!(load(&path), Some(s));
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(load(&path), None);
        std::fs::write(&path, br#"{"close_to_tray": false}"#).unwrap();
        assert_eq!(load(&path).unwrap().server_url, DEFAULT_SERVER);
    }
}
