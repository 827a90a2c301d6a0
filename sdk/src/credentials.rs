//! A small file of saved logins, one per server, as the `confab` command-line client keeps it.
//!
//! The file lives at `$CONFAB_CONFIG_DIR/credentials.json` when that variable is set, otherwise
//! at `<config dir>/confab/credentials.json` (e.g. `~/.config/confab/credentials.json`). It holds
//! bearer tokens, so on unix it is written with mode `0600` inside a `0700` folder.
//!
//! ```json
//! {"servers": {"http://127.0.0.1:8080": {"token": "...", "username": "alice",
//!   "user_id": 1, "device_id": 3, "expires_at": 1767225600000}}}
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use confab_proto::http::LoginResponse;
use confab_proto::{DeviceId, Millis, UserId};
use serde::{Deserialize, Serialize};

/// Environment variable naming the folder that holds `credentials.json`.
pub const CONFIG_DIR_ENV: &str = "CONFAB_CONFIG_DIR";

/// One saved login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub token: String,
    pub username: String,
    pub user_id: UserId,
    pub device_id: DeviceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Millis>,
}

impl From<&LoginResponse> for Credentials {
    fn from(login: &LoginResponse) -> Self {
        Credentials {
            token: login.token.clone(),
            username: login.user.username.clone(),
            user_id: login.user.id,
            device_id: login.device_id,
            expires_at: Some(login.expires_at),
        }
    }
}

/// Saved logins keyed by server (see [`crate::Endpoint::key`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialStore {
    #[serde(default)]
    pub servers: BTreeMap<String, Credentials>,
}

impl CredentialStore {
    /// Where the file is: `$CONFAB_CONFIG_DIR/credentials.json`, else
    /// `<config dir>/confab/credentials.json`. `None` if the platform has no config folder.
    pub fn default_path() -> Option<PathBuf> {
        let dir = match std::env::var_os(CONFIG_DIR_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::config_dir()?.join("confab"),
        };
        Some(dir.join("credentials.json"))
    }

    /// Read the file; a missing file is an empty store.
    pub fn load(path: &Path) -> io::Result<CredentialStore> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(CredentialStore::default()),
            Err(e) => Err(e),
        }
    }

    /// Write the file atomically (a private temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        let _ = fs::remove_file(&tmp);
        {
            let mut file = create_private_file(&tmp)?;
            file.write_all(&json)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
        }
        fs::rename(&tmp, path)
    }

    pub fn get(&self, server: &str) -> Option<&Credentials> {
        self.servers.get(server)
    }

    pub fn insert(&mut self, server: impl Into<String>, credentials: Credentials) {
        self.servers.insert(server.into(), credentials);
    }

    pub fn remove(&mut self, server: &str) -> Option<Credentials> {
        self.servers.remove(server)
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Credentials {
        Credentials {
            token: "tok-alice".into(),
            username: "alice".into(),
            user_id: 1,
            device_id: 3,
            expires_at: Some(1_767_225_600_000),
        }
    }

    #[test]
    fn missing_file_is_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::load(&dir.path().join("credentials.json")).unwrap();
        assert!(store.servers.is_empty());
    }

    #[test]
    fn round_trip_keyed_by_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/confab/credentials.json");
        let mut store = CredentialStore::default();
        store.insert("http://127.0.0.1:8080", alice());
        let bob = Credentials {
            token: "tok-bob".into(),
            username: "bob".into(),
            user_id: 2,
            device_id: 4,
            expires_at: None,
        };
        store.insert("https://chat.example.com", bob.clone());
        store.save(&path).unwrap();

        let mut loaded = CredentialStore::load(&path).unwrap();
        assert_eq!(loaded, store);
        assert_eq!(loaded.get("http://127.0.0.1:8080"), Some(&alice()));
        assert_eq!(loaded.get("https://chat.example.com"), Some(&bob));

        assert_eq!(loaded.remove("http://127.0.0.1:8080"), Some(alice()));
        loaded.save(&path).unwrap();
        let reloaded = CredentialStore::load(&path).unwrap();
        assert_eq!(reloaded.get("http://127.0.0.1:8080"), None);
        assert_eq!(reloaded.servers.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confab/credentials.json");
        let mut store = CredentialStore::default();
        store.insert("http://127.0.0.1:8080", alice());
        store.save(&path).unwrap();
        // Saving again over an existing file keeps it private.
        store.save(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    #[test]
    fn a_corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        fs::write(&path, "not json").unwrap();
        let err = CredentialStore::load(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn credentials_from_a_login() {
        let login = LoginResponse {
            token: "tok".into(),
            device_id: 9,
            expires_at: 123,
            user: confab_proto::UserPublic {
                id: 7,
                username: "carol".into(),
                display_name: "Carol".into(),
                avatar: None,
                status_text: None,
                is_bot: false,
            },
        };
        let c = Credentials::from(&login);
        assert_eq!(
            (
                c.token.as_str(),
                c.username.as_str(),
                c.user_id,
                c.device_id
            ),
            ("tok", "carol", 7, 9)
        );
        assert_eq!(c.expires_at, Some(123));
    }
}
