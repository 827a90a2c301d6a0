//! SQLite: the integration API's API keys, managed users, webhooks and their delivery log.

use confab_proto::integration::{
    ApiKeyInfo, Delivery, DeliveryStatus, Scope, WebhookEventType, WebhookInfo,
};
use confab_proto::{DeviceId, Millis, UserId, UserPublic};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::sqlite::{is_unique_violation, public_user, SqlResult};
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

const KEY_COLS: &str =
    "id, name, prefix, scopes, created_at, last_used_at, revoked_at, secret_hash";

fn key_row(r: &Row<'_>) -> SqlResult<ApiKeyRecord> {
    let hash: Vec<u8> = r.get(7)?;
    let mut secret_hash = [0u8; 32];
    if hash.len() == 32 {
        secret_hash.copy_from_slice(&hash);
    }
    Ok(ApiKeyRecord {
        info: ApiKeyInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            prefix: r.get(2)?,
            scopes: scopes_of(&r.get::<_, String>(3)?),
            created_at: r.get(4)?,
            last_used_at: r.get(5)?,
            revoked_at: r.get(6)?,
        },
        secret_hash,
    })
}

pub(super) fn create_api_key(conn: &Connection, k: NewApiKey) -> StoreResult<ApiKeyInfo> {
    let scopes = join(&k.scopes, |s| s.as_str());
    let id = conn
        .prepare_cached(
            "INSERT INTO api_keys (name, prefix, secret_hash, scopes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(
            params![k.name, k.prefix, &k.secret_hash[..], scopes, k.now],
            |r| r.get(0),
        )
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("prefix")
            } else {
                e.into()
            }
        })?;
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

pub(super) fn api_key_by_prefix(
    conn: &Connection,
    prefix: &str,
) -> SqlResult<Option<ApiKeyRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLS} FROM api_keys WHERE prefix = ?1"
    ))?
    .query_row([prefix], key_row)
    .optional()
}

pub(super) fn list_api_keys(conn: &Connection) -> SqlResult<Vec<ApiKeyInfo>> {
    conn.prepare_cached(&format!("SELECT {KEY_COLS} FROM api_keys ORDER BY id"))?
        .query_map([], key_row)?
        .map(|r| r.map(|k| k.info))
        .collect()
}

pub(super) fn revoke_api_key(conn: &Connection, id: i64, at: Millis) -> SqlResult<bool> {
    Ok(conn
        .prepare_cached("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(params![id, at])?
        > 0)
}

pub(super) fn touch_api_key(conn: &Connection, id: i64, at: Millis) -> SqlResult<()> {
    conn.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

pub(super) fn import_user(
    conn: &Connection,
    user: NewUser,
    external_id: Option<String>,
    bot: bool,
) -> StoreResult<(UserPublic, bool)> {
    if let Some(ext) = &external_id {
        let existing: Option<UserId> = conn
            .prepare_cached("SELECT user_id FROM integration_users WHERE external_id = ?1")?
            .query_row([ext], |r| r.get(0))
            .optional()?;
        if let Some(id) = existing {
            let user = public_user(conn, id)?.ok_or(StoreError::NotFound)?;
            return Ok((user, false));
        }
    }
    let id: UserId = conn
        .prepare_cached(
            "INSERT INTO users (username, password_hash, display_name, created_at, direct_policy)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(
            params![
                user.username,
                user.password_hash,
                user.display_name,
                user.now,
                super::sqlite_groups::direct_policy_str(user.direct_policy)
            ],
            |r| r.get(0),
        )
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("username")
            } else {
                e.into()
            }
        })?;
    conn.prepare_cached(
        "INSERT INTO integration_users (user_id, external_id, bot) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, external_id, bot])?;
    if bot {
        // Clients see bots as bots (`UserPublic::is_bot`).
        conn.prepare_cached("UPDATE users SET is_bot = 1 WHERE id = ?1")?
            .execute(params![id])?;
    }
    Ok((
        UserPublic {
            id,
            username: user.username,
            display_name: user.display_name,
            avatar: None,
            status_text: None,
            is_bot: bot,
        },
        true,
    ))
}

pub(super) fn integration_user(conn: &Connection, id: UserId) -> SqlResult<IntegrationUserRecord> {
    Ok(conn
        .prepare_cached(
            "SELECT external_id, bot, disabled_at FROM integration_users WHERE user_id = ?1",
        )?
        .query_row([id], |r| {
            Ok(IntegrationUserRecord {
                external_id: r.get(0)?,
                bot: r.get(1)?,
                disabled_at: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

pub(super) fn set_user_disabled(
    conn: &Connection,
    id: UserId,
    disabled: bool,
    at: Millis,
) -> StoreResult<Vec<DeviceId>> {
    if public_user(conn, id)?.is_none() {
        return Err(StoreError::NotFound);
    }
    conn.prepare_cached(
        "INSERT INTO integration_users (user_id, disabled_at) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET disabled_at = excluded.disabled_at",
    )?
    .execute(params![id, disabled.then_some(at)])?;
    if !disabled {
        return Ok(vec![]);
    }
    let revoked = conn
        .prepare_cached(
            "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL
             RETURNING id",
        )?
        .query_map(params![id, at], |r| r.get(0))?
        .collect::<SqlResult<Vec<DeviceId>>>()?;
    Ok(revoked)
}

pub(super) fn create_webhook(conn: &Connection, h: NewWebhook) -> SqlResult<WebhookInfo> {
    let id = conn
        .prepare_cached(
            "INSERT INTO webhooks (url, events, secret, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
        )?
        .query_row(
            params![h.url, join(&h.events, |e| e.as_str()), h.secret, h.now],
            |r| r.get(0),
        )?;
    Ok(WebhookInfo {
        id,
        url: h.url,
        events: h.events,
        created_at: h.now,
    })
}

pub(super) fn webhooks(conn: &Connection) -> SqlResult<Vec<WebhookRecord>> {
    conn.prepare_cached("SELECT id, url, events, created_at, secret FROM webhooks ORDER BY id")?
        .query_map([], |r| {
            Ok(WebhookRecord {
                info: WebhookInfo {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    events: events_of(&r.get::<_, String>(2)?),
                    created_at: r.get(3)?,
                },
                secret: r.get(4)?,
            })
        })?
        .collect()
}

pub(super) fn delete_webhook(conn: &Connection, id: i64) -> SqlResult<bool> {
    conn.prepare_cached("DELETE FROM webhook_deliveries WHERE webhook_id = ?1")?
        .execute([id])?;
    Ok(conn
        .prepare_cached("DELETE FROM webhooks WHERE id = ?1")?
        .execute([id])?
        > 0)
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

pub(super) fn create_delivery(conn: &Connection, d: NewDelivery) -> SqlResult<i64> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, status,
                                         created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5) RETURNING id",
    )?
    .query_row(
        params![
            d.webhook_id,
            d.event_id,
            d.event_type.as_str(),
            d.payload,
            d.now
        ],
        |r| r.get(0),
    )
}

pub(super) fn update_delivery(conn: &Connection, a: DeliveryAttempt) -> SqlResult<()> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries
         SET status = ?2, attempts = ?3, last_status = ?4, last_error = ?5, updated_at = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        a.id,
        status_str(a.status),
        a.attempts,
        a.last_status,
        a.last_error,
        a.now
    ])?;
    Ok(())
}

pub(super) fn pending_deliveries(conn: &Connection, limit: u32) -> SqlResult<Vec<PendingDelivery>> {
    conn.prepare_cached(
        "SELECT id, webhook_id, event_id, event_type, payload, attempts
         FROM webhook_deliveries WHERE status = 'pending' ORDER BY id LIMIT ?1",
    )?
    .query_map([limit], |r| {
        Ok(PendingDelivery {
            id: r.get(0)?,
            webhook_id: r.get(1)?,
            event_id: r.get(2)?,
            event_type: WebhookEventType::parse(&r.get::<_, String>(3)?)
                .unwrap_or(WebhookEventType::MessageCreated),
            payload: r.get(4)?,
            attempts: r.get(5)?,
        })
    })?
    .collect()
}

pub(super) fn deliveries(
    conn: &Connection,
    webhook_id: i64,
    before: Option<i64>,
    limit: u32,
) -> SqlResult<(Vec<Delivery>, bool)> {
    let mut rows = conn
        .prepare_cached(
            "SELECT id, webhook_id, event_id, event_type, status, attempts, last_status,
                    last_error, created_at, updated_at
             FROM webhook_deliveries WHERE webhook_id = ?1 AND id < ?2
             ORDER BY id DESC LIMIT ?3",
        )?
        .query_map(
            params![webhook_id, before.unwrap_or(i64::MAX), limit + 1],
            |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    webhook_id: r.get(1)?,
                    event_id: r.get(2)?,
                    event_type: WebhookEventType::parse(&r.get::<_, String>(3)?)
                        .unwrap_or(WebhookEventType::MessageCreated),
                    status: status_of(&r.get::<_, String>(4)?),
                    attempts: r.get(5)?,
                    last_status: r.get(6)?,
                    last_error: r.get(7)?,
                    created_at: r.get(8)?,
                    updated_at: r.get(9)?,
                })
            },
        )?
        .collect::<SqlResult<Vec<_>>>()?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, has_more))
}
