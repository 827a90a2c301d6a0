//! Server API keys. A key is `cfk_<prefix>_<secret>`: 6 random bytes of public prefix that
//! find the row, and 32 random bytes of secret. Only the SHA-256 of the whole key is stored,
//! and it is compared in constant time.

use std::time::Instant;

use confab_proto::integration::{ApiKeyInfo, CreateApiKey, CreatedApiKey, Scope};
use confab_proto::{ErrorCode, WireError};
use dashmap::DashMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::state::{now_millis, AppState};
use crate::store::{NewApiKey, Store};

const PREFIX: &str = "cfk_";

/// A request's authenticated key.
#[derive(Debug, Clone)]
pub struct AuthedKey {
    pub id: i64,
    pub scopes: Vec<Scope>,
}

impl AuthedKey {
    /// `forbidden` unless the key has `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> AppResult<()> {
        if self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this API key lacks the \"{}\" scope",
                scope.as_str()
            )))
        }
    }
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The prefix of a well-formed key.
fn parse(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(prefix, 12) && hex(secret, 64)).then_some(prefix)
}

/// Validates the request and stores a new key; the secret is in the answer only.
pub async fn create(store: &dyn Store, req: CreateApiKey) -> AppResult<CreatedApiKey> {
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::invalid("a key's name is 1–64 characters"));
    }
    let mut scopes = req.scopes;
    scopes.sort_unstable();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(AppError::invalid("give a key at least one scope"));
    }
    let mut prefix = [0u8; 6];
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut prefix);
    rand::thread_rng().fill_bytes(&mut secret);
    let prefix = hex::encode(prefix);
    let key = format!("{PREFIX}{prefix}_{}", hex::encode(secret));
    let info = store
        .create_api_key(NewApiKey {
            name,
            prefix,
            secret_hash: hash(&key),
            scopes,
            now: now_millis(),
        })
        .await?;
    tracing::info!(key_id = info.id, "API key created");
    Ok(CreatedApiKey {
        key: info,
        secret: key,
    })
}

pub async fn list(store: &dyn Store) -> AppResult<Vec<ApiKeyInfo>> {
    Ok(store.list_api_keys().await?)
}

pub async fn revoke(store: &dyn Store, id: i64) -> AppResult<()> {
    if !store.revoke_api_key(id, now_millis()).await? {
        return Err(AppError::not_found("live API key"));
    }
    tracing::info!(key_id = id, "API key revoked");
    Ok(())
}

/// Resolves a bearer key: `invalid_token` when malformed or unknown, `token_revoked` when
/// revoked; then applies the key's rate limit.
pub async fn authenticate(state: &AppState, key: Option<&str>) -> Result<AuthedKey, WireError> {
    let invalid = || WireError::new(ErrorCode::InvalidToken, "missing or invalid API key");
    let key = key.ok_or_else(invalid)?;
    let prefix = parse(key).ok_or_else(invalid)?;
    let record = state
        .store
        .api_key_by_prefix(prefix)
        .await
        .map_err(|e| AppError::from(e).to_wire())?
        .ok_or_else(invalid)?;
    if !constant_time_eq(&record.secret_hash, &hash(key)) {
        return Err(invalid());
    }
    if record.info.revoked_at.is_some() {
        return Err(WireError::new(
            ErrorCode::TokenRevoked,
            "this API key was revoked",
        ));
    }
    state.integration.limiter.check(record.info.id)?;
    let now = now_millis();
    if record.info.last_used_at.is_none_or(|t| now - t > 60_000) {
        let store = state.store.clone();
        let id = record.info.id;
        tokio::spawn(async move {
            let _ = store.touch_api_key(id, now).await;
        });
    }
    Ok(AuthedKey {
        id: record.info.id,
        scopes: record.info.scopes,
    })
}

/// A token bucket per key: `rate` requests a second on average, bursts up to `burst`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: DashMap<i64, (f64, Instant)>,
}

impl RateLimiter {
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: DashMap::new(),
        }
    }

    pub fn check(&self, key: i64) -> Result<(), WireError> {
        let now = Instant::now();
        let mut entry = self.buckets.entry(key).or_insert((self.burst, now));
        let (tokens, last) = *entry;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
        if tokens >= 1.0 {
            *entry = (tokens - 1.0, now);
            Ok(())
        } else {
            *entry = (tokens, now);
            let wait_ms = ((1.0 - tokens) / self.rate * 1000.0).ceil() as u64;
            let mut e =
                WireError::new(ErrorCode::RateLimited, "too many requests for this API key");
            e.retry_after_ms = Some(wait_ms.max(1));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_format() {
        let key = format!("cfk_{}_{}", "a1".repeat(6), "0f".repeat(32));
        assert_eq!(parse(&key), Some("a1a1a1a1a1a1"));
        for bad in [
            "",
            "cfk_",
            "cfk_abc_def",
            "cfb_a1a1a1a1a1a1_00",
            &key[..key.len() - 1],
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rate_limit_refills() {
        let limiter = RateLimiter::new(1000, 2);
        assert!(limiter.check(1).is_ok());
        assert!(limiter.check(1).is_ok());
        let refused = limiter.check(1).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(refused.retry_after_ms.is_some());
        assert!(limiter.check(2).is_ok(), "buckets are per key");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(limiter.check(1).is_ok());
    }
}
