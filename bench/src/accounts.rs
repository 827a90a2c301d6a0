//! Benchmark accounts: registered and logged in over HTTP with bounded parallelism (password
//! hashing makes each call cost tens of milliseconds), and cached in a JSON file so repeated
//! runs against the same server data reuse their tokens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use confab_proto::http::{ErrorBody, LoginRequest, LoginResponse, RegisterRequest};
use confab_proto::UserId;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::ws::Connector;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub user_id: UserId,
    pub token: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    /// By username.
    accounts: BTreeMap<String, Account>,
}

/// How accounts are obtained.
#[derive(Debug, Clone)]
pub struct AccountSource {
    pub cache: Option<PathBuf>,
    pub password: String,
    pub parallel: usize,
}

fn load(path: &Path) -> CacheFile {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            eprintln!(
                "warning: ignoring unreadable account cache {}: {e}",
                path.display()
            );
            CacheFile::default()
        }),
        Err(_) => CacheFile::default(),
    }
}

fn save(path: &Path, cache: &CacheFile) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(cache)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Usernames `{prefix}{i:05}` for i in 0..n.
pub fn usernames(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}

impl AccountSource {
    /// Returns an account (with a live token) for every name, creating what is missing.
    pub async fn ensure(&self, connector: &Connector, names: &[String]) -> Result<Vec<Account>> {
        Ok(self.ensure_counted(connector, names).await?.0)
    }

    /// Like [`Self::ensure`], also telling how many accounts had to be created.
    pub async fn ensure_counted(
        &self,
        connector: &Connector,
        names: &[String],
    ) -> Result<(Vec<Account>, usize)> {
        let mut cache = self.cache.as_deref().map(load).unwrap_or_default();
        // A cache from an earlier server whose data was wiped holds dead tokens: probe one.
        if let Some(probe) = names.iter().find_map(|n| cache.accounts.get(n)) {
            if let Err(e) = connector.confab(&probe.token).await {
                eprintln!("account cache does not match this server ({e:#}); registering afresh");
                cache.accounts.clear();
            }
        }
        let missing: Vec<String> = names
            .iter()
            .filter(|n| !cache.accounts.contains_key(*n))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let created = self.create(connector, &missing).await?;
            for a in created {
                cache.accounts.insert(a.username.clone(), a);
            }
            if let Some(path) = &self.cache {
                save(path, &cache)
                    .with_context(|| format!("writing the account cache {}", path.display()))?;
            }
        }
        let accounts = names
            .iter()
            .map(|n| {
                cache
                    .accounts
                    .get(n)
                    .cloned()
                    .ok_or_else(|| anyhow!("no account for {n}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((accounts, missing.len()))
    }

    async fn create(&self, connector: &Connector, names: &[String]) -> Result<Vec<Account>> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(self.parallel)
            .build()?;
        let base = format!("http://{}", connector.server());
        let started = Instant::now();
        eprintln!(
            "registering {} accounts ({} at a time)…",
            names.len(),
            self.parallel
        );
        let mut out = Vec::with_capacity(names.len());
        let mut stream = futures_util::stream::iter(names.iter().cloned())
            .map(|name| {
                let http = http.clone();
                let base = base.clone();
                let password = self.password.clone();
                async move { register_and_login(&http, &base, &name, &password).await }
            })
            .buffer_unordered(self.parallel.max(1));
        while let Some(r) = stream.next().await {
            out.push(r?);
            if out.len() % 500 == 0 {
                eprintln!(
                    "  {} / {} accounts ({:.0} s)",
                    out.len(),
                    names.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        eprintln!(
            "registered {} accounts in {:.1} s",
            out.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(out)
    }
}

/// POSTs a JSON body, retrying transport failures, rate limits and unavailability a few times.
async fn post(http: &reqwest::Client, url: &str, body: &impl Serialize) -> Result<(u16, Vec<u8>)> {
    let mut last = String::new();
    for attempt in 0..8u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
        }
        match http.post(url).json(body).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let bytes = resp.bytes().await?.to_vec();
                if status == 429 || status == 503 {
                    let wait = serde_json::from_slice::<ErrorBody>(&bytes)
                        .ok()
                        .and_then(|b| b.error.retry_after_ms)
                        .unwrap_or(200);
                    tokio::time::sleep(Duration::from_millis(wait.min(10_000))).await;
                    last = format!("HTTP {status}");
                    continue;
                }
                return Ok((status, bytes));
            }
            Err(e) => last = e.to_string(),
        }
    }
    bail!("POST {url} failed: {last}")
}

async fn register_and_login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<Account> {
    let (status, body) = post(
        http,
        &format!("{base}/api/v1/register"),
        &RegisterRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            display_name: None,
        },
    )
    .await?;
    // 409: the user exists from an earlier run; logging in is enough.
    if status != 201 && status != 409 {
        bail!(
            "registering {username}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (status, body) = post(
        http,
        &format!("{base}/api/v1/login"),
        &LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device_name: Some("confab-bench".to_owned()),
        },
    )
    .await?;
    if status != 200 {
        bail!(
            "logging in {username}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let login: LoginResponse = serde_json::from_slice(&body)
        .with_context(|| format!("decoding the login answer for {username}"))?;
    Ok(Account {
        username: username.to_owned(),
        user_id: login.user.id,
        token: login.token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_round_trips() {
        let dir = std::env::temp_dir().join(format!("confab-bench-test-{}", std::process::id()));
        let path = dir.join("accounts.json");
        let mut c = CacheFile::default();
        c.accounts.insert(
            "bench-a00001".into(),
            Account {
                username: "bench-a00001".into(),
                user_id: 3,
                token: "t".into(),
            },
        );
        save(&path, &c).unwrap();
        let back = load(&path);
        assert_eq!(back.accounts["bench-a00001"].user_id, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn usernames_are_valid_and_do_not_occur_in_the_password() {
        for n in usernames("bench-dm-", 3) {
            assert!(n.len() <= 32 && n.starts_with("bench-dm-"));
            assert!(!"Bench-pass-1"
                .to_ascii_lowercase()
                .contains(&n.to_ascii_lowercase()));
        }
    }
}
