//! The integration API for business systems: server API keys with scopes, users managed from
//! outside (imported by external id, disabled, single sign-on), bots, sending as a user, a bot
//! or the system, groups, and webhooks.
//!
//! - this file: the shared state ([`Integration`]) and the domain functions behind the HTTP
//!   routes. Group and message actions go through the same domain functions as the WebSocket
//!   API, with the user the business system acts for as the [`Actor`], so authorization stays
//!   in one place.
//! - [`keys`]: API key secrets, hashing, authentication, scopes and the per-key rate limit.
//! - [`webhooks`]: `emit`, the delivery worker and the signature.
//! - [`api`]: the HTTP routes under `/api/v1/integration/` and their OpenAPI description.

pub mod api;
pub mod keys;
pub mod webhooks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use confab_proto::http::LoginResponse;
use confab_proto::integration::{
    CreateWebhook, CreatedWebhook, ImportUser, ImportUserResponse, IntegrationUser, IssueToken,
    SendMessage, UpdateUser, WebhookEvent, WebhookEventType,
};
use confab_proto::{ErrorCode, SendRequest, SendResponse, UpdateProfile, UserId};
use dashmap::DashMap;
use rand::RngCore;
use tokio::sync::{mpsc, OnceCell, RwLock};

use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};
use crate::store::{IntegrationUserRecord, NewUser, NewWebhook, StoreError, WebhookRecord};

/// External ids with this prefix are the server's own.
const RESERVED_EXTERNAL_PREFIX: &str = "confab:";
const SYSTEM_EXTERNAL_ID: &str = "confab:system";

/// The integration API's in-memory state, part of `AppState`.
pub struct Integration {
    queue: mpsc::Sender<WebhookEvent>,
    queue_rx: Mutex<Option<mpsc::Receiver<WebhookEvent>>>,
    /// Registered webhooks, loaded on first use and dropped when they change.
    hooks: RwLock<Option<Arc<Vec<WebhookRecord>>>>,
    /// False once the store is known to hold no webhook: `emit` is then free.
    any_hooks: AtomicBool,
    pub(crate) limiter: keys::RateLimiter,
    /// Whether a user is a bot (it never changes once created).
    bots: DashMap<UserId, bool>,
    system_user: OnceCell<UserId>,
}

impl Integration {
    pub fn new(config: &crate::config::Config) -> Integration {
        let (tx, rx) = mpsc::channel(config.webhook_queue.max(1));
        Integration {
            queue: tx,
            queue_rx: Mutex::new(Some(rx)),
            hooks: RwLock::new(None),
            any_hooks: AtomicBool::new(true),
            limiter: keys::RateLimiter::new(
                config.integration_rate_per_sec,
                config.integration_burst,
            ),
            bots: DashMap::new(),
            system_user: OnceCell::new(),
        }
    }

    /// Starts the webhook worker (once).
    pub fn start(state: &AppState) {
        if let Some(rx) = state.integration.queue_rx.lock().unwrap().take() {
            tokio::spawn(webhooks::run_worker(state.clone(), rx));
        }
    }

    fn webhooks_may_exist(&self) -> bool {
        self.any_hooks.load(Ordering::Relaxed)
    }

    async fn hooks(&self, state: &AppState) -> AppResult<Arc<Vec<WebhookRecord>>> {
        if let Some(h) = self.hooks.read().await.as_ref() {
            return Ok(h.clone());
        }
        let mut slot = self.hooks.write().await;
        let loaded = Arc::new(state.store.webhooks().await?);
        self.any_hooks.store(!loaded.is_empty(), Ordering::Relaxed);
        *slot = Some(loaded.clone());
        Ok(loaded)
    }

    async fn hooks_changed(&self) {
        *self.hooks.write().await = None;
        self.any_hooks.store(true, Ordering::Relaxed);
    }

    /// Whether the user is a bot (cached).
    pub async fn is_bot(&self, state: &AppState, user: UserId) -> AppResult<bool> {
        if let Some(b) = self.bots.get(&user) {
            return Ok(*b);
        }
        let bot = state.store.integration_user(user).await?.bot;
        self.bots.insert(user, bot);
        Ok(bot)
    }
}

/// Loads the webhook list once at start, so `emit` is free while there is none.
pub async fn warm_up(state: &AppState) {
    if let Err(e) = state.integration.hooks(state).await {
        tracing::warn!(error = %e, "webhooks could not be loaded");
    }
}

fn integration_user(user: confab_proto::UserPublic, r: IntegrationUserRecord) -> IntegrationUser {
    IntegrationUser {
        user,
        external_id: r.external_id,
        bot: r.bot,
        disabled: r.disabled_at.is_some(),
    }
}

pub async fn get_user(state: &AppState, id: UserId) -> AppResult<IntegrationUser> {
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?
        .public;
    Ok(integration_user(
        user,
        state.store.integration_user(id).await?,
    ))
}

/// The user the business system acts for: they must exist and not be disabled.
pub async fn actor_for(state: &AppState, user: UserId) -> AppResult<Actor> {
    if state.store.user_by_id(user).await?.is_none() {
        return Err(AppError::not_found("user"));
    }
    if state
        .store
        .integration_user(user)
        .await?
        .disabled_at
        .is_some()
    {
        return Err(AppError::forbidden("this user is disabled"));
    }
    Ok(Actor {
        user_id: user,
        device_id: 0,
        conn_id: None,
    })
}

pub async fn import_user(state: &AppState, req: ImportUser) -> AppResult<ImportUserResponse> {
    if let Some(ext) = &req.external_id {
        if ext.is_empty() || ext.chars().count() > 128 {
            return Err(AppError::invalid("external_id must be 1–128 characters"));
        }
        if ext.starts_with(RESERVED_EXTERNAL_PREFIX) {
            return Err(AppError::invalid(
                "external ids starting with \"confab:\" are reserved",
            ));
        }
    }
    let (user, created) = import(state, req).await?;
    get_user(state, user)
        .await
        .map(|user| ImportUserResponse { created, user })
}

async fn import(state: &AppState, req: ImportUser) -> AppResult<(UserId, bool)> {
    let username = req.username.trim().to_owned();
    crate::accounts::validate_username(&username)?;
    let display_name = match req.display_name.as_deref() {
        Some(n) => crate::accounts::validate_display_name(n)?,
        None => username.clone(),
    };
    let password_hash = match req.password {
        Some(p) => {
            crate::accounts::validate_password(&p, &username)?;
            crate::accounts::hash_password(state, p).await?
        }
        // Matches no password: this user logs in with issued tokens only.
        None => "!".to_owned(),
    };
    let (user, created) = state
        .store
        .import_user(
            NewUser {
                username,
                password_hash,
                display_name,
                direct_policy: if state.config.open_direct_messages || req.bot {
                    confab_proto::DirectPolicy::Anyone
                } else {
                    confab_proto::DirectPolicy::FriendsOnly
                },
                now: now_millis(),
            },
            req.external_id,
            req.bot,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::new(ErrorCode::UsernameTaken, "that username is taken")
            }
            other => other.into(),
        })?;
    if created {
        tracing::info!(user_id = user.id, bot = req.bot, "user imported");
        webhooks::emit(
            state,
            WebhookEventType::UserRegistered,
            serde_json::json!({ "user": user, "bot": req.bot }),
        );
    }
    Ok((user.id, created))
}

pub async fn update_user(
    state: &AppState,
    id: UserId,
    req: UpdateUser,
) -> AppResult<IntegrationUser> {
    if state.store.user_by_id(id).await?.is_none() {
        return Err(AppError::not_found("user"));
    }
    if req.display_name.is_some() || req.avatar.is_some() || req.status_text.is_some() {
        let actor = Actor {
            user_id: id,
            device_id: 0,
            conn_id: None,
        };
        let update = UpdateProfile {
            display_name: req.display_name,
            avatar: req.avatar,
            status_text: req.status_text,
        };
        crate::accounts::update_profile(state, &actor, update).await?;
    }
    if let Some(disabled) = req.disabled {
        let revoked = state
            .store
            .set_user_disabled(id, disabled, now_millis())
            .await?;
        for device in revoked {
            state
                .broker
                .close_device(id, device, confab_proto::close::SESSION_REVOKED, None);
        }
        tracing::info!(user_id = id, disabled, "user disabled state changed");
    }
    get_user(state, id).await
}

pub async fn issue_token(
    state: &AppState,
    id: UserId,
    req: IssueToken,
) -> AppResult<LoginResponse> {
    let actor = actor_for(state, id).await?;
    let user = state
        .store
        .user_by_id(actor.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?
        .public;
    let max = state.config.token_ttl();
    let ttl = req
        .ttl_secs
        .map(std::time::Duration::from_secs)
        .unwrap_or(max)
        .min(max);
    if ttl.is_zero() {
        return Err(AppError::invalid("ttl_secs must be positive"));
    }
    let device = req.device_name.unwrap_or_else(|| "single sign-on".into());
    crate::accounts::open_session(state, user, Some(device), ttl).await
}

/// The built-in `system` bot, created on first use.
async fn system_user(state: &AppState) -> AppResult<UserId> {
    state
        .integration
        .system_user
        .get_or_try_init(|| async {
            let req = ImportUser {
                external_id: Some(SYSTEM_EXTERNAL_ID.into()),
                username: "system".into(),
                display_name: Some("System".into()),
                password: None,
                bot: true,
            };
            import(state, req).await.map(|(id, _)| id).map_err(|e| {
                if e.code == ErrorCode::UsernameTaken {
                    AppError::new(
                        ErrorCode::Unavailable,
                        "the username \"system\" belongs to a user, so the system bot cannot be created",
                    )
                } else {
                    e
                }
            })
        })
        .await
        .copied()
}

pub async fn send(state: &AppState, req: SendMessage) -> AppResult<SendResponse> {
    let sender = match req.sender {
        Some(u) => u,
        None => system_user(state).await?,
    };
    let actor = actor_for(state, sender).await?;
    crate::messages::send(
        state,
        &actor,
        SendRequest {
            to: req.to,
            client_msg_id: req.idempotency_key,
            content: confab_proto::Content::text(req.text),
            reply_to: req.reply_to,
            mentions: req.mentions,
            mention_all: req.mention_all,
        },
    )
    .await
}

/// The acting user for a group change: `as_user`, or the group's owner.
pub async fn group_actor(
    state: &AppState,
    id: confab_proto::ConversationId,
    as_user: Option<UserId>,
) -> AppResult<Actor> {
    let user = match as_user {
        Some(u) => u,
        None => {
            let conv = state
                .conversations
                .get(state.store.as_ref(), id)
                .await?
                .ok_or_else(|| AppError::not_found("group"))?;
            conv.roles
                .iter()
                .find(|(_, r)| **r == confab_proto::Role::Owner)
                .map(|(u, _)| *u)
                .ok_or_else(|| AppError::not_found("group owner"))?
        }
    };
    actor_for(state, user).await
}

pub async fn create_webhook(state: &AppState, req: CreateWebhook) -> AppResult<CreatedWebhook> {
    let url = req.url.trim().to_owned();
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.len() > 2048 || reqwest::Url::parse(&url).is_err() {
        return Err(AppError::invalid(
            "url must be an http:// or https:// URL of at most 2048 characters",
        ));
    }
    let mut events = req.events;
    events.sort_by_key(|e| e.as_str());
    events.dedup();
    if events.is_empty() {
        return Err(AppError::invalid("subscribe to at least one event type"));
    }
    let secret = match req.secret {
        Some(s) if (16..=128).contains(&s.chars().count()) => s,
        Some(_) => return Err(AppError::invalid("secret must be 16–128 characters")),
        None => {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            format!("whsec_{}", hex::encode(bytes))
        }
    };
    let webhook = state
        .store
        .create_webhook(NewWebhook {
            url,
            events,
            secret: secret.clone(),
            now: now_millis(),
        })
        .await?;
    state.integration.hooks_changed().await;
    tracing::info!(webhook = webhook.id, "webhook registered");
    Ok(CreatedWebhook { webhook, secret })
}

pub async fn delete_webhook(state: &AppState, id: i64) -> AppResult<()> {
    if !state.store.delete_webhook(id).await? {
        return Err(AppError::not_found("webhook"));
    }
    state.integration.hooks_changed().await;
    Ok(())
}
