//! Accounts and sessions: registration rules, password hashing (argon2id), login tokens
//! (random, stored as SHA-256), devices, profiles.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use confab_proto::http::{LoginRequest, LoginResponse, RegisterRequest};
use confab_proto::{
    Device, DeviceId, DevicesResponse, ErrorCode, GetUser, UpdateProfile, UserPublic,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};
use crate::store::{NewSession, NewUser, SessionRecord, StoreError};

const TOKEN_PREFIX: &str = "cfb_";

pub fn validate_username(name: &str) -> AppResult<()> {
    let ok_len = (3..=32).contains(&name.len());
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok_len && ok_first && ok_rest {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::InvalidUsername,
            "usernames are 3–32 characters: letters, digits, '_', '.' or '-', starting with a letter",
        ))
    }
}

/// At least 8 characters (at most 256), at least two kinds of character among lower case,
/// upper case, digits and others, and not containing the username.
pub fn validate_password(password: &str, username: &str) -> AppResult<()> {
    let weak = |m: &str| Err(AppError::new(ErrorCode::WeakPassword, m));
    let len = password.chars().count();
    if len < 8 {
        return weak("passwords need at least 8 characters");
    }
    if len > 256 {
        return weak("passwords may have at most 256 characters");
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|&&c| c).count() < 2 {
        return weak("mix at least two of: lower case, upper case, digits, symbols");
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return weak("the password must not contain the username");
    }
    Ok(())
}

pub(crate) fn validate_display_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(AppError::invalid("display name must not be empty")),
        n if n > 64 => Err(AppError::new(
            ErrorCode::TooLong,
            "display names have at most 64 characters",
        )),
        _ => Ok(name.to_owned()),
    }
}

fn hasher(state: &AppState) -> AppResult<Argon2<'static>> {
    let params = argon2::Params::new(
        state.config.argon2_memory_kib,
        state.config.argon2_iterations,
        1,
        None,
    )
    .map_err(AppError::internal)?;
    Ok(Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

pub(crate) async fn hash_password(state: &AppState, password: String) -> AppResult<String> {
    let hasher = hasher(state)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

async fn verify_password(hasher: Argon2<'static>, password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| hasher.verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A real hash (with the configured cost) to verify against when the user does not exist, so
/// "no such user" takes as long as "wrong password".
fn decoy_hash(hasher: &Argon2<'static>) -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher
            .hash_password(b"decoy password for timing", &salt)
            .expect("hashing a constant")
            .to_string()
    })
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

pub async fn register(state: &AppState, req: RegisterRequest) -> AppResult<UserPublic> {
    let username = req.username.trim().to_owned();
    validate_username(&username)?;
    validate_password(&req.password, &username)?;
    let display_name = match req.display_name.as_deref() {
        Some(n) => validate_display_name(n)?,
        None => username.clone(),
    };
    let password_hash = hash_password(state, req.password).await?;
    let user = state
        .store
        .create_user(NewUser {
            username,
            password_hash,
            display_name,
            direct_policy: if state.config.open_direct_messages {
                confab_proto::DirectPolicy::Anyone
            } else {
                confab_proto::DirectPolicy::FriendsOnly
            },
            now: now_millis(),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::new(ErrorCode::UsernameTaken, "that username is taken")
            }
            other => other.into(),
        })?;
    tracing::info!(user_id = user.id, "user registered");
    crate::integration::webhooks::emit(
        state,
        confab_proto::integration::WebhookEventType::UserRegistered,
        serde_json::json!({ "user": user, "bot": false }),
    );
    Ok(user)
}

pub async fn login(state: &AppState, req: LoginRequest) -> AppResult<LoginResponse> {
    let wrong = || AppError::new(ErrorCode::WrongCredentials, "wrong username or password");
    let record = state.store.user_by_username(req.username.trim()).await?;
    let hasher = hasher(state)?;
    let hash = record.as_ref().map_or_else(
        || decoy_hash(&hasher).to_owned(),
        |r| r.password_hash.clone(),
    );
    let verified = verify_password(hasher, req.password, hash).await;
    let user = match record {
        Some(r) if verified => r.public,
        _ => return Err(wrong()),
    };
    if state
        .store
        .integration_user(user.id)
        .await?
        .disabled_at
        .is_some()
    {
        return Err(AppError::forbidden("this account is disabled"));
    }
    open_session(state, user, req.device_name, state.config.token_ttl()).await
}

/// Creates a session (a device) for the user and returns its new token.
pub async fn open_session(
    state: &AppState,
    user: UserPublic,
    device_name: Option<String>,
    ttl: std::time::Duration,
) -> AppResult<LoginResponse> {
    let device_name = device_name
        .map(|d| d.trim().chars().take(64).collect::<String>())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "unnamed device".to_owned());
    let token = new_token();
    let now = now_millis();
    let session = state
        .store
        .create_session(NewSession {
            user_id: user.id,
            token_hash: token_hash(&token),
            device_name,
            now,
            expires_at: now + ttl.as_millis() as i64,
        })
        .await?;
    Ok(LoginResponse {
        token,
        device_id: session.id,
        expires_at: session.expires_at,
        user,
    })
}

/// Resolves a bearer token to its live session and user.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<(SessionRecord, UserPublic)> {
    let invalid = || AppError::new(ErrorCode::InvalidToken, "the token is not valid");
    let well_formed = token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(invalid());
    }
    let session = state
        .store
        .session_by_token_hash(token_hash(token))
        .await?
        .ok_or_else(invalid)?;
    let now = now_millis();
    if session.revoked_at.is_some() {
        return Err(AppError::new(
            ErrorCode::TokenRevoked,
            "this session was logged out",
        ));
    }
    if session.expires_at <= now {
        return Err(AppError::new(
            ErrorCode::TokenExpired,
            "the token has expired; log in again",
        ));
    }
    let user = state
        .store
        .user_by_id(session.user_id)
        .await?
        .ok_or_else(invalid)?
        .public;
    // Keep "last used" roughly current without a write per connection.
    if now - session.last_used_at > 10 * 60 * 1000 {
        let store = state.store.clone();
        let id = session.id;
        tokio::spawn(async move {
            let _ = store.touch_session(id, now).await;
        });
    }
    Ok((session, user))
}

pub async fn list_devices(state: &AppState, actor: &Actor) -> AppResult<DevicesResponse> {
    let sessions = state.store.list_sessions(actor.user_id).await?;
    Ok(DevicesResponse {
        devices: sessions
            .into_iter()
            .map(|s| Device {
                id: s.id,
                name: s.device_name,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
                current: s.id == actor.device_id,
            })
            .collect(),
    })
}

/// Revokes one of the actor's devices and disconnects it.
pub async fn revoke_device(state: &AppState, actor: &Actor, device: DeviceId) -> AppResult<()> {
    if !state
        .store
        .revoke_session(actor.user_id, device, now_millis())
        .await?
    {
        return Err(AppError::not_found("device"));
    }
    // The asking connection itself (on logout) closes after its answer is written.
    state.broker.close_device(
        actor.user_id,
        device,
        confab_proto::close::SESSION_REVOKED,
        actor.conn_id,
    );
    Ok(())
}

pub async fn get_user(state: &AppState, req: GetUser) -> AppResult<UserPublic> {
    let record = match (req.user_id, req.username) {
        (Some(id), _) => state.store.user_by_id(id).await?,
        (None, Some(name)) => state.store.user_by_username(name.trim()).await?,
        (None, None) => return Err(AppError::invalid("give user_id or username")),
    };
    record
        .map(|r| r.public)
        .ok_or_else(|| AppError::not_found("user"))
}

pub async fn update_profile(
    state: &AppState,
    actor: &Actor,
    mut req: UpdateProfile,
) -> AppResult<UserPublic> {
    if let Some(name) = &req.display_name {
        req.display_name = Some(validate_display_name(name)?);
    }
    if req.avatar.as_ref().is_some_and(|a| a.chars().count() > 512) {
        return Err(AppError::new(
            ErrorCode::TooLong,
            "avatar reference too long (max 512)",
        ));
    }
    if req
        .status_text
        .as_ref()
        .is_some_and(|s| s.chars().count() > 140)
    {
        return Err(AppError::new(
            ErrorCode::TooLong,
            "status text too long (max 140)",
        ));
    }
    Ok(state.store.update_profile(actor.user_id, req).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        for ok in ["bob", "alice_1", "x.y-z", "ABC"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ab", "1bob", "_bob", "bo b", "bób", &"a".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy() {
        assert!(validate_password("Secret123", "bob").is_ok());
        assert!(validate_password("short1", "bob").is_err());
        assert!(validate_password("alllowercase", "bob").is_err());
        assert!(validate_password("bob-Secret1", "bob").is_err());
        assert!(validate_password(&"aB".repeat(200), "bob").is_err());
    }

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(token_hash(&a), token_hash(&new_token()));
    }
}
