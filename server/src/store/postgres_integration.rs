//! PostgreSQL: the integration API's API keys, managed users, webhooks and their delivery log.
//! The same rules as `sqlite_integration`, in the PostgreSQL dialect.

use confab_proto::integration::{
    ApiKeyInfo, Delivery, DeliveryStatus, Scope, WebhookEventType, WebhookInfo,
};
use confab_proto::{DeviceId, Millis, UserId, UserPublic};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::postgres::{
    execute, is_unique_violation, pg_error, public_user, query, query_one, query_opt,
};
use super::postgres_groups::direct_policy_str;
use super::{
    ApiKeyRecord, DeliveryAttempt, IntegrationUserRecord, NewApiKey, NewDelivery, NewUser,
    NewWebhook, PendingDelivery, StoreError, StoreResult, WebhookRecord,
};

fn join<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    items.iter().map(name).collect::<Vec<_>>().join(",")
}

fn scopes_of(s: &str) -> Vec<Scope> {
    s.split(',').filter_map(Scope::parse).collect()
}

fn events_of(s: &str) -> Vec<WebhookEventType> {
    s.split(',').filter_map(WebhookEventType::parse).collect()
}

fn event_type_of(s: &str) -> WebhookEventType {
    WebhookEventType::parse(s).unwrap_or(WebhookEventType::MessageCreated)
}

const KEY_COLS: &str =
    "id, name, prefix, scopes, created_at, last_used_at, revoked_at, secret_hash";

fn key_row(r: &Row) -> StoreResult<ApiKeyRecord> {
    let hash: Vec<u8> = r.try_get(7)?;
    let mut secret_hash = [0u8; 32];
    if hash.len() == 32 {
        secret_hash.copy_from_slice(&hash);
    }
    Ok(ApiKeyRecord {
        info: ApiKeyInfo {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            prefix: r.try_get(2)?,
            scopes: scopes_of(&r.try_get::<_, String>(3)?),
            created_at: r.try_get(4)?,
            last_used_at: r.try_get(5)?,
            revoked_at: r.try_get(6)?,
        },
        secret_hash,
    })
}

pub(super) async fn create_api_key<C: GenericClient>(
    c: &C,
    k: NewApiKey,
) -> StoreResult<ApiKeyInfo> {
    let scopes = join(&k.scopes, |s| s.as_str());
    let hash: &[u8] = &k.secret_hash;
    let st = c
        .prepare_cached(
            "INSERT INTO api_keys (name, prefix, secret_hash, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .await?;
    let id: i64 = c
        .query_one(&st, &[&k.name, &k.prefix, &hash, &scopes, &k.now])
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("prefix")
            } else {
                pg_error(e)
            }
        })?
        .try_get(0)?;
    Ok(ApiKeyInfo {
        id,
        name: k.name,
        prefix: k.prefix,
        scopes: k.scopes,
        created_at: k.now,
        last_used_at: None,
        revoked_at: None,
    })
}

pub(super) async fn api_key_by_prefix<C: GenericClient>(
    c: &C,
    prefix: &str,
) -> StoreResult<Option<ApiKeyRecord>> {
    query_opt(
        c,
        &format!("SELECT {KEY_COLS} FROM api_keys WHERE prefix = $1"),
        &[&prefix],
    )
    .await?
    .map(|r| key_row(&r))
    .transpose()
}

pub(super) async fn list_api_keys<C: GenericClient>(c: &C) -> StoreResult<Vec<ApiKeyInfo>> {
    query(
        c,
        &format!("SELECT {KEY_COLS} FROM api_keys ORDER BY id"),
        &[],
    )
    .await?
    .iter()
    .map(|r| key_row(r).map(|k| k.info))
    .collect()
}

pub(super) async fn revoke_api_key<C: GenericClient>(
    c: &C,
    id: i64,
    at: Millis,
) -> StoreResult<bool> {
    Ok(execute(
        c,
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[&id, &at],
    )
    .await?
        > 0)
}

pub(super) async fn touch_api_key<C: GenericClient>(c: &C, id: i64, at: Millis) -> StoreResult<()> {
    execute(
        c,
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
        &[&id, &at],
    )
    .await?;
    Ok(())
}

/// The user already imported with `external_id`, if any.
pub(super) async fn imported<C: GenericClient>(
    c: &C,
    external_id: Option<&str>,
) -> StoreResult<Option<UserPublic>> {
    let Some(ext) = external_id else {
        return Ok(None);
    };
    let Some(r) = query_opt(
        c,
        "SELECT user_id FROM integration_users WHERE external_id = $1",
        &[&ext],
    )
    .await?
    else {
        return Ok(None);
    };
    let id: UserId = r.try_get(0)?;
    Ok(Some(public_user(c, id).await?.ok_or(StoreError::NotFound)?))
}

/// Creates the user and their integration record. Runs inside the caller's transaction; a
/// unique violation comes back as `Conflict("username")` or `Conflict("external_id")` so the
/// caller can look again for an import that committed concurrently.
pub(super) async fn insert_imported_user<C: GenericClient>(
    c: &C,
    user: &NewUser,
    external_id: Option<&str>,
    bot: bool,
) -> StoreResult<UserPublic> {
    let st = c
        .prepare_cached(
            "INSERT INTO users (username, password_hash, display_name, created_at, direct_policy,
                                is_bot)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .await?;
    // Clients see bots as bots (`UserPublic::is_bot`).
    let id: UserId = c
        .query_one(
            &st,
            &[
                &user.username,
                &user.password_hash,
                &user.display_name,
                &user.now,
                &direct_policy_str(user.direct_policy),
                &bot,
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("username")
            } else {
                pg_error(e)
            }
        })?
        .try_get(0)?;
    let st = c
        .prepare_cached(
            "INSERT INTO integration_users (user_id, external_id, bot) VALUES ($1, $2, $3)",
        )
        .await?;
    c.execute(&st, &[&id, &external_id, &bot])
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("external_id")
            } else {
                pg_error(e)
            }
        })?;
    Ok(UserPublic {
        id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        avatar: None,
        status_text: None,
        is_bot: bot,
    })
}

pub(super) async fn integration_user<C: GenericClient>(
    c: &C,
    id: UserId,
) -> StoreResult<IntegrationUserRecord> {
    Ok(query_opt(
        c,
        "SELECT external_id, bot, disabled_at FROM integration_users WHERE user_id = $1",
        &[&id],
    )
    .await?
    .map(|r| -> StoreResult<_> {
        Ok(IntegrationUserRecord {
            external_id: r.try_get(0)?,
            bot: r.try_get(1)?,
            disabled_at: r.try_get(2)?,
        })
    })
    .transpose()?
    .unwrap_or_default())
}

/// Runs inside the caller's transaction.
pub(super) async fn set_user_disabled<C: GenericClient>(
    c: &C,
    id: UserId,
    disabled: bool,
    at: Millis,
) -> StoreResult<Vec<DeviceId>> {
    // The user's row lock orders this against other changes to the same user (on SQLite the
    // single writer does).
    if query_opt(c, "SELECT id FROM users WHERE id = $1 FOR UPDATE", &[&id])
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    execute(
        c,
        "INSERT INTO integration_users (user_id, disabled_at) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET disabled_at = excluded.disabled_at",
        &[&id, &disabled.then_some(at)],
    )
    .await?;
    if !disabled {
        return Ok(vec![]);
    }
    query(
        c,
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL
         RETURNING id",
        &[&id, &at],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

pub(super) async fn create_webhook<C: GenericClient>(
    c: &C,
    h: NewWebhook,
) -> StoreResult<WebhookInfo> {
    let events = join(&h.events, |e| e.as_str());
    let id: i64 = query_one(
        c,
        "INSERT INTO webhooks (url, events, secret, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
        &[&h.url, &events, &h.secret, &h.now],
    )
    .await?
    .try_get(0)?;
    Ok(WebhookInfo {
        id,
        url: h.url,
        events: h.events,
        created_at: h.now,
    })
}

pub(super) async fn webhooks<C: GenericClient>(c: &C) -> StoreResult<Vec<WebhookRecord>> {
    query(
        c,
        "SELECT id, url, events, created_at, secret FROM webhooks ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(WebhookRecord {
            info: WebhookInfo {
                id: r.try_get(0)?,
                url: r.try_get(1)?,
                events: events_of(&r.try_get::<_, String>(2)?),
                created_at: r.try_get(3)?,
            },
            secret: r.try_get(4)?,
        })
    })
    .collect()
}

/// Runs inside the caller's transaction.
pub(super) async fn delete_webhook<C: GenericClient>(c: &C, id: i64) -> StoreResult<bool> {
    execute(
        c,
        "DELETE FROM webhook_deliveries WHERE webhook_id = $1",
        &[&id],
    )
    .await?;
    Ok(execute(c, "DELETE FROM webhooks WHERE id = $1", &[&id]).await? > 0)
}

fn status_str(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    }
}

fn status_of(s: &str) -> DeliveryStatus {
    match s {
        "delivered" => DeliveryStatus::Delivered,
        "failed" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    }
}

fn attempts_of(n: i32) -> u32 {
    n.max(0) as u32
}

pub(super) async fn create_delivery<C: GenericClient>(c: &C, d: NewDelivery) -> StoreResult<i64> {
    let id = query_one(
        c,
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, status,
                                         created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $5) RETURNING id",
        &[
            &d.webhook_id,
            &d.event_id,
            &d.event_type.as_str(),
            &d.payload,
            &d.now,
        ],
    )
    .await?
    .try_get(0)?;
    Ok(id)
}

pub(super) async fn update_delivery<C: GenericClient>(
    c: &C,
    a: DeliveryAttempt,
) -> StoreResult<()> {
    let attempts = i32::try_from(a.attempts).unwrap_or(i32::MAX);
    let last_status = a.last_status.map(i32::from);
    execute(
        c,
        "UPDATE webhook_deliveries
         SET status = $2, attempts = $3, last_status = $4, last_error = $5, updated_at = $6
         WHERE id = $1",
        &[
            &a.id,
            &status_str(a.status),
            &attempts,
            &last_status,
            &a.last_error,
            &a.now,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn pending_deliveries<C: GenericClient>(
    c: &C,
    limit: u32,
) -> StoreResult<Vec<PendingDelivery>> {
    let limit = limit as i64;
    query(
        c,
        "SELECT id, webhook_id, event_id, event_type, payload, attempts
         FROM webhook_deliveries WHERE status = 'pending' ORDER BY id LIMIT $1",
        &[&limit],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(PendingDelivery {
            id: r.try_get(0)?,
            webhook_id: r.try_get(1)?,
            event_id: r.try_get(2)?,
            event_type: event_type_of(&r.try_get::<_, String>(3)?),
            payload: r.try_get(4)?,
            attempts: attempts_of(r.try_get(5)?),
        })
    })
    .collect()
}

pub(super) async fn deliveries<C: GenericClient>(
    c: &C,
    webhook_id: i64,
    before: Option<i64>,
    limit: u32,
) -> StoreResult<(Vec<Delivery>, bool)> {
    let fetch = limit as i64 + 1;
    let mut rows = query(
        c,
        "SELECT id, webhook_id, event_id, event_type, status, attempts, last_status,
                last_error, created_at, updated_at
         FROM webhook_deliveries WHERE webhook_id = $1 AND id < $2
         ORDER BY id DESC LIMIT $3",
        &[&webhook_id, &before.unwrap_or(i64::MAX), &fetch],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Delivery {
            id: r.try_get(0)?,
            webhook_id: r.try_get(1)?,
            event_id: r.try_get(2)?,
            event_type: event_type_of(&r.try_get::<_, String>(3)?),
            status: status_of(&r.try_get::<_, String>(4)?),
            attempts: attempts_of(r.try_get(5)?),
            last_status: r
                .try_get::<_, Option<i32>>(6)?
                .map(|s| u16::try_from(s).unwrap_or(0)),
            last_error: r.try_get(7)?,
            created_at: r.try_get(8)?,
            updated_at: r.try_get(9)?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, has_more))
}
