//! PostgreSQL backend, for a cluster of equal nodes sharing one database.
//!
//! tokio-postgres with a deadpool pool; statements are prepared once per connection
//! (`prepare_cached`). Every call is bounded by [`PgOptions::timeout`], and a database that
//! cannot be reached or answered in time is [`StoreError::Unavailable`].
//!
//! Sequence numbers: `UPDATE conversations SET last_seq = last_seq + 1 … RETURNING last_seq`
//! runs in the transaction that inserts the message, so the row lock serializes the senders of
//! one conversation across every node and a rolled-back insert gives its seq back (no gaps).
//! Transactions that check a group's state first take that conversation's row lock
//! (`SELECT … FOR UPDATE`), so their checks hold until they commit, as on SQLite where one
//! writer runs at a time.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use confab_proto::integration::{ApiKeyInfo, Delivery, WebhookInfo};
use confab_proto::{
    Content, ConversationId, ConversationKind, ConversationSummary, DeviceId, DirectPolicy, Friend,
    FriendRequest, GroupInfo, JoinRequest, Member, Message, Millis, Seq, SystemEvent,
    UpdateProfile, UserId, UserPublic,
};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::postgres_groups as groups;
use super::postgres_integration as integration;
use super::sqlite::{direct_policy_of, join_policy_of, role_of};
use super::*;

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_init.sql"),
    include_str!("../../../migrations/postgres/0002_assistant.sql"),
];
/// Serializes migrations when several nodes start at once.
const MIGRATION_LOCK: i64 = 0x436f_6e66_6162; // "Confab"

pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`; `?options=-c%20search_path%3Dname` puts
    /// Confab's tables in another schema.
    pub url: String,
    /// Connections per node.
    pub pool_size: usize,
    /// Bound on every store call, including waiting for a connection.
    pub timeout: Duration,
}

pub struct PostgresStore {
    pool: Pool,
    timeout: Duration,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        pg_error(e)
    }
}

pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        // No answer from the server at all: the connection is gone.
        None => StoreError::Unavailable(match std::error::Error::source(&e) {
            Some(cause) => format!("PostgreSQL: {e}: {cause}"),
            None => format!("PostgreSQL: {e}"),
        }),
        Some(code) => {
            let class = &code.code()[..2];
            // Connection exceptions, resources, operator intervention, rollbacks
            // (serialization failures and deadlocks: the caller may retry).
            if matches!(class, "08" | "53" | "57" | "40") {
                StoreError::Unavailable(e.to_string())
            } else {
                StoreError::Backend(e.to_string())
            }
        }
    }
}

pub(super) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

// ---- statement helpers: every statement is prepared once per connection ----

pub(super) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> StoreResult<Vec<Row>> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query(&st, params).await?)
}

pub(super) async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> StoreResult<Option<Row>> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&st, params).await?)
}

pub(super) async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> StoreResult<Row> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query_one(&st, params).await?)
}

pub(super) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> StoreResult<u64> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.execute(&st, params).await?)
}

impl PostgresStore {
    /// Connects and applies migrations.
    pub async fn connect(options: &PgOptions) -> StoreResult<PostgresStore> {
        let store = Self::open(options)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Builds the pool without touching the database.
    pub fn open(options: &PgOptions) -> StoreResult<PostgresStore> {
        let mut config: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(options.timeout);
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("confab-server");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(PostgresStore {
            pool,
            timeout: options.timeout,
        })
    }

    /// Applies the migrations not yet applied; returns the schema version.
    pub async fn migrate(&self) -> StoreResult<i32> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute(
                "SET LOCAL client_min_messages = warning;
                 CREATE TABLE IF NOT EXISTS confab_migrations (
                     version    INTEGER PRIMARY KEY,
                     applied_at BIGINT NOT NULL
                 )",
            )
            .await?;
            let current: i32 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM confab_migrations",
                    &[],
                )
                .await?
                .get(0);
            for (i, sql) in MIGRATIONS.iter().enumerate() {
                let target = i as i32 + 1;
                if current < target {
                    tx.batch_execute(sql).await?;
                    tx.execute(
                        "INSERT INTO confab_migrations (version, applied_at) VALUES ($1, $2)",
                        &[&target, &now_millis()],
                    )
                    .await?;
                    tracing::info!(version = target, "applied postgres migration");
                }
            }
            tx.commit().await?;
            Ok(MIGRATIONS.len() as i32)
        })
        .await
    }

    /// Closes the pool's connections.
    pub fn close(&self) {
        self.pool.close();
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => pg_error(e),
            other => unavailable(format!("no database connection: {other}")),
        })
    }

    /// Runs one store call within the timeout.
    async fn run<R>(&self, f: impl Future<Output = StoreResult<R>>) -> StoreResult<R> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r,
            Err(_) => Err(unavailable(format!(
                "database did not answer within {:?}",
                self.timeout
            ))),
        }
    }
}

// ---- row mapping ----

pub(super) const USER_COLS: &str =
    "id, username, display_name, avatar, status_text, password_hash, last_seen, is_bot";

fn user_row(r: &Row) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        public: UserPublic {
            id: r.try_get(0)?,
            username: r.try_get(1)?,
            display_name: r.try_get(2)?,
            avatar: r.try_get(3)?,
            status_text: r.try_get(4)?,
            is_bot: r.try_get(7)?,
        },
        password_hash: r.try_get(5)?,
        last_seen: r.try_get(6)?,
    })
}

const SESSION_COLS: &str =
    "id, user_id, device_name, created_at, last_used_at, expires_at, revoked_at";

fn session_row(r: &Row) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        device_name: r.try_get(2)?,
        created_at: r.try_get(3)?,
        last_used_at: r.try_get(4)?,
        expires_at: r.try_get(5)?,
        revoked_at: r.try_get(6)?,
    })
}

const MESSAGE_COLS: &str = "conversation_id, seq, sender_id, client_msg_id, kind, body, reply_to, \
                            mentions, mention_all, created_at";

fn message_row(r: &Row) -> StoreResult<Message> {
    let kind: String = r.try_get(4)?;
    let body: Option<String> = r.try_get(5)?;
    let content = match (kind.as_str(), body) {
        ("recalled", _) | (_, None) => Content::Recalled,
        (_, Some(json)) => {
            serde_json::from_str(&json).map_err(|e| StoreError::Backend(e.to_string()))?
        }
    };
    let mentions: Option<Vec<i64>> = r.try_get(7)?;
    Ok(Message {
        conversation_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        sender_id: r.try_get(2)?,
        client_msg_id: r.try_get(3)?,
        content,
        reply_to: r.try_get(6)?,
        mentions: mentions.unwrap_or_default(),
        mention_all: r.try_get(8)?,
        created_at: r.try_get(9)?,
    })
}

/// A user from the first five columns (`id, username, display_name, avatar, status_text`) and
/// the column named `is_bot`.
pub(super) fn public_row(r: &Row) -> StoreResult<UserPublic> {
    Ok(UserPublic {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        display_name: r.try_get(2)?,
        avatar: r.try_get(3)?,
        status_text: r.try_get(4)?,
        is_bot: r.try_get("is_bot")?,
    })
}

fn content_kind(content: &Content) -> &'static str {
    match content {
        // Assistant replies count as text: unread, mentions and previews treat them alike.
        Content::Text { .. } | Content::Assistant(_) => "text",
        Content::System(_) => "system",
        Content::Recalled => "recalled",
        Content::Image { .. } => "image",
        Content::File { .. } => "file",
        Content::Voice { .. } => "voice",
        Content::Video { .. } => "video",
    }
}

fn kind_of(s: &str) -> ConversationKind {
    if s == "group" {
        ConversationKind::Group
    } else {
        ConversationKind::Direct
    }
}

fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

pub(super) async fn public_user<C: GenericClient>(
    c: &C,
    id: UserId,
) -> StoreResult<Option<UserPublic>> {
    query_opt(
        c,
        "SELECT id, username, display_name, avatar, status_text, is_bot FROM users WHERE id = $1",
        &[&id],
    )
    .await?
    .map(|r| public_row(&r))
    .transpose()
}

/// Appends a message at the next seq. Runs inside the caller's transaction; the row lock on
/// the conversation is held until it ends.
pub(super) async fn insert_message<C: GenericClient>(
    c: &C,
    m: &NewMessage,
) -> StoreResult<Message> {
    let seq: Seq = query_opt(
        c,
        "UPDATE conversations SET last_seq = last_seq + 1, last_activity = $2
         WHERE id = $1 RETURNING last_seq",
        &[&m.conversation_id, &m.now],
    )
    .await?
    .ok_or(StoreError::NotFound)?
    .try_get(0)?;
    let body = serde_json::to_string(&m.content).map_err(|e| StoreError::Backend(e.to_string()))?;
    let mentions: Option<Vec<i64>> = if m.mentions.is_empty() {
        None
    } else {
        Some(m.mentions.clone())
    };
    let st = c
        .prepare_cached(
            "INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, kind, body,
                                   reply_to, mentions, mention_all, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await?;
    c.execute(
        &st,
        &[
            &m.conversation_id,
            &seq,
            &m.sender_id,
            &m.client_msg_id,
            &content_kind(&m.content),
            &body,
            &m.reply_to,
            &mentions,
            &m.mention_all,
            &m.now,
        ],
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("client_msg_id")
        } else {
            pg_error(e)
        }
    })?;
    if let Some(media) = m.content.media() {
        execute(
            c,
            "INSERT INTO message_media (media_id, conversation_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&media.id, &m.conversation_id, &seq],
        )
        .await?;
    }
    Ok(Message {
        conversation_id: m.conversation_id,
        seq,
        sender_id: m.sender_id,
        client_msg_id: m.client_msg_id.clone(),
        created_at: m.now,
        content: m.content.clone(),
        reply_to: m.reply_to,
        mentions: m.mentions.clone(),
        mention_all: m.mention_all,
    })
}

async fn unread_count<C: GenericClient>(
    c: &C,
    conv: ConversationId,
    user: UserId,
    after: Seq,
    until: Seq,
) -> StoreResult<u32> {
    let n: i64 = query_one(
        c,
        "SELECT COUNT(*) FROM messages
         WHERE conversation_id = $1 AND seq > $3 AND seq <= $4 AND sender_id <> $2
           AND kind = 'text'",
        &[&conv, &user, &after, &until],
    )
    .await?
    .try_get(0)?;
    Ok(n as u32)
}

async fn mentioned<C: GenericClient>(
    c: &C,
    conv: ConversationId,
    user: UserId,
    after: Seq,
    until: Seq,
) -> StoreResult<bool> {
    Ok(query_one(
        c,
        "SELECT EXISTS (SELECT 1 FROM messages
         WHERE conversation_id = $1 AND seq > $3 AND seq <= $4 AND sender_id <> $2
           AND kind = 'text' AND (mention_all OR $2 = ANY(mentions)))",
        &[&conv, &user, &after, &until],
    )
    .await?
    .try_get(0)?)
}

/// Builds the summary of one conversation as `user` sees it.
async fn summary<C: GenericClient>(
    c: &C,
    user: UserId,
    conv: ConversationId,
) -> StoreResult<Option<ConversationSummary>> {
    let Some(r) = query_opt(
        c,
        "SELECT c.kind, c.name, c.last_seq, c.last_activity, m.role, m.read_seq, m.joined_seq,
                m.left_seq,
                (SELECT COUNT(*) FROM members x
                 WHERE x.conversation_id = c.id AND x.left_seq IS NULL),
                c.avatar, c.dissolved_at, m.remark, m.notifications_muted
         FROM members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.conversation_id = $1 AND m.user_id = $2",
        &[&conv, &user],
    )
    .await?
    else {
        return Ok(None);
    };
    let kind = kind_of(&r.try_get::<_, String>(0)?);
    let name: String = r.try_get(1)?;
    let last_seq: Seq = r.try_get(2)?;
    let last_activity: Millis = r.try_get(3)?;
    let role: String = r.try_get(4)?;
    let read_seq: Seq = r.try_get(5)?;
    let joined_seq: Seq = r.try_get(6)?;
    let left_seq: Option<Seq> = r.try_get(7)?;
    let count: i64 = r.try_get(8)?;
    let avatar: Option<String> = r.try_get(9)?;
    let dissolved_at: Option<Millis> = r.try_get(10)?;
    let remark: Option<String> = r.try_get(11)?;
    let muted: bool = r.try_get(12)?;

    let visible_last = left_seq.map_or(last_seq, |l| l.min(last_seq));
    let from = read_seq.max(joined_seq);
    let unread = unread_count(c, conv, user, from, visible_last).await?;
    let mentioned = unread > 0 && mentioned(c, conv, user, from, visible_last).await?;
    let last_message = if visible_last > joined_seq {
        query_opt(
            c,
            &format!("SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND seq = $2"),
            &[&conv, &visible_last],
        )
        .await?
        .map(|r| message_row(&r))
        .transpose()?
    } else {
        None
    };
    let (peer, name, remark, avatar) = if kind == ConversationKind::Direct {
        let peer_id: Option<UserId> = query_opt(
            c,
            "SELECT user_id FROM members WHERE conversation_id = $1 AND user_id <> $2 LIMIT 1",
            &[&conv, &user],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let peer = match peer_id {
            Some(id) => public_user(c, id).await?,
            None => None,
        };
        let name = peer
            .as_ref()
            .map(|p| p.display_name.clone())
            .unwrap_or(name);
        let remark = match peer_id {
            Some(p) => query_opt(
                c,
                "SELECT remark FROM friends WHERE user_id = $1 AND friend_id = $2",
                &[&user, &p],
            )
            .await?
            .map(|r| r.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten(),
            None => None,
        };
        let avatar = peer.as_ref().and_then(|p| p.avatar.clone());
        (peer, name, remark, avatar)
    } else {
        (None, name, remark, avatar)
    };
    Ok(Some(ConversationSummary {
        id: conv,
        kind,
        name,
        peer,
        role: role_of(&role),
        member_count: count as u32,
        last_seq: visible_last,
        read_seq: read_seq.max(joined_seq).min(visible_last.max(joined_seq)),
        unread,
        mentioned,
        last_activity: last_message
            .as_ref()
            .map_or(last_activity, |m| m.created_at),
        last_message,
        read_only: left_seq.is_some() || dissolved_at.is_some(),
        remark,
        muted,
        avatar,
    }))
}

async fn message_at<C: GenericClient>(
    c: &C,
    id: ConversationId,
    seq: Seq,
) -> StoreResult<Option<Message>> {
    query_opt(
        c,
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = $1 AND seq = $2"),
        &[&id, &seq],
    )
    .await?
    .map(|r| message_row(&r))
    .transpose()
}

async fn message_by_key<C: GenericClient>(
    c: &C,
    sender: UserId,
    key: &str,
) -> StoreResult<Option<Message>> {
    query_opt(
        c,
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE sender_id = $1 AND client_msg_id = $2"),
        &[&sender, &key],
    )
    .await?
    .map(|r| message_row(&r))
    .transpose()
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<UserPublic> {
        self.run(async {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "INSERT INTO users (username, password_hash, display_name, created_at,
                                        direct_policy)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .await?;
            let row = c
                .query_one(
                    &st,
                    &[
                        &user.username,
                        &user.password_hash,
                        &user.display_name,
                        &user.now,
                        &groups::direct_policy_str(user.direct_policy),
                    ],
                )
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict("username")
                    } else {
                        pg_error(e)
                    }
                })?;
            Ok(UserPublic {
                id: row.try_get(0)?,
                username: user.username,
                display_name: user.display_name,
                avatar: None,
                status_text: None,
                is_bot: false,
            })
        })
        .await
    }

    async fn ensure_bot(
        &self,
        username: &str,
        display_name: &str,
        now: Millis,
    ) -> StoreResult<UserPublic> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            // The password hash '!' matches no password: nobody logs in as the bot.
            execute(
                &tx,
                "INSERT INTO users (username, password_hash, display_name, created_at,
                                    direct_policy, is_bot)
                 VALUES ($1, '!', $2, $3, 'anyone', TRUE)
                 ON CONFLICT (lower(username)) DO NOTHING",
                &[&username, &display_name, &now],
            )
            .await?;
            // Locked, so nodes starting together rename it one at a time.
            let user = user_row(
                &query_one(
                    &tx,
                    &format!(
                        "SELECT {USER_COLS} FROM users WHERE lower(username) = lower($1)
                         FOR UPDATE"
                    ),
                    &[&username],
                )
                .await?,
            )?;
            if !user.public.is_bot {
                return Err(StoreError::Conflict("username"));
            }
            if user.public.display_name != display_name {
                execute(
                    &tx,
                    "UPDATE users SET display_name = $2 WHERE id = $1",
                    &[&user.public.id, &display_name],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(UserPublic {
                display_name: display_name.to_owned(),
                ..user.public
            })
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.run(async {
            let c = self.client().await?;
            query_opt(
                &c,
                &format!("SELECT {USER_COLS} FROM users WHERE lower(username) = lower($1)"),
                &[&username],
            )
            .await?
            .map(|r| user_row(&r))
            .transpose()
        })
        .await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.run(async {
            let c = self.client().await?;
            query_opt(
                &c,
                &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
                &[&id],
            )
            .await?
            .map(|r| user_row(&r))
            .transpose()
        })
        .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserPublic>> {
        let ids = ids.to_vec();
        self.run(async {
            let c = self.client().await?;
            query(
                &c,
                "SELECT id, username, display_name, avatar, status_text, is_bot FROM users
                 WHERE id = ANY($1)",
                &[&ids],
            )
            .await?
            .iter()
            .map(public_row)
            .collect()
        })
        .await
    }

    async fn update_profile(&self, id: UserId, update: UpdateProfile) -> StoreResult<UserPublic> {
        self.run(async {
            let c = self.client().await?;
            let blank = |s: Option<String>| s.map(|s| if s.is_empty() { None } else { Some(s) });
            let set_avatar = update.avatar.is_some();
            let set_status = update.status_text.is_some();
            let avatar = blank(update.avatar).flatten();
            let status = blank(update.status_text).flatten();
            let n = execute(
                &c,
                "UPDATE users SET
                    display_name = COALESCE($2::text, display_name),
                    avatar = CASE WHEN $3::boolean THEN $4::text ELSE avatar END,
                    status_text = CASE WHEN $5::boolean THEN $6::text ELSE status_text END
                 WHERE id = $1",
                &[
                    &id,
                    &update.display_name,
                    &set_avatar,
                    &avatar,
                    &set_status,
                    &status,
                ],
            )
            .await?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            public_user(&c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn set_last_seen(&self, id: UserId, at: Millis) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            execute(
                &c,
                "UPDATE users SET last_seen = $2 WHERE id = $1",
                &[&id, &at],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: NewSession) -> StoreResult<SessionRecord> {
        self.run(async {
            let c = self.client().await?;
            let hash: &[u8] = &s.token_hash;
            let id: DeviceId = query_one(
                &c,
                "INSERT INTO sessions (user_id, token_hash, device_name, created_at,
                                       last_used_at, expires_at)
                 VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
                &[&s.user_id, &hash, &s.device_name, &s.now, &s.expires_at],
            )
            .await?
            .try_get(0)?;
            Ok(SessionRecord {
                id,
                user_id: s.user_id,
                device_name: s.device_name.clone(),
                created_at: s.now,
                last_used_at: s.now,
                expires_at: s.expires_at,
                revoked_at: None,
            })
        })
        .await
    }

    async fn session_by_token_hash(&self, hash: [u8; 32]) -> StoreResult<Option<SessionRecord>> {
        self.run(async {
            let c = self.client().await?;
            let hash: &[u8] = &hash;
            query_opt(
                &c,
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1"),
                &[&hash],
            )
            .await?
            .map(|r| session_row(&r))
            .transpose()
        })
        .await
    }

    async fn touch_session(&self, id: DeviceId, at: Millis) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            execute(
                &c,
                "UPDATE sessions SET last_used_at = $2 WHERE id = $1",
                &[&id, &at],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn list_sessions(&self, user_id: UserId) -> StoreResult<Vec<SessionRecord>> {
        self.run(async {
            let c = self.client().await?;
            query(
                &c,
                &format!(
                    "SELECT {SESSION_COLS} FROM sessions
                     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
                     ORDER BY last_used_at DESC"
                ),
                &[&user_id, &now_millis()],
            )
            .await?
            .iter()
            .map(session_row)
            .collect()
        })
        .await
    }

    async fn revoke_session(&self, user_id: UserId, id: DeviceId, at: Millis) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(execute(
                &c,
                "UPDATE sessions SET revoked_at = $3
                 WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL",
                &[&user_id, &id, &at],
            )
            .await?
                > 0)
        })
        .await
    }

    async fn direct_conversation(
        &self,
        a: UserId,
        b: UserId,
        now: Millis,
    ) -> StoreResult<(ConversationId, bool)> {
        let (lo, hi) = (a.min(b), a.max(b));
        const FIND: &str =
            "SELECT conversation_id FROM direct_pairs WHERE user_lo = $1 AND user_hi = $2";
        self.run(async {
            let mut c = self.client().await?;
            if let Some(r) = query_opt(&c, FIND, &[&lo, &hi]).await? {
                return Ok((r.try_get(0)?, false));
            }
            let tx = c.transaction().await?;
            let id: ConversationId = query_one(
                &tx,
                "INSERT INTO conversations (kind, created_by, created_at, last_activity)
                 VALUES ('direct', $1, $2, $2) RETURNING id",
                &[&a, &now],
            )
            .await?
            .try_get(0)?;
            // Two first messages may race (on any nodes): the pair's key decides, and the
            // loser's conversation row goes with its rollback.
            let won = query_opt(
                &tx,
                "INSERT INTO direct_pairs (user_lo, user_hi, conversation_id) VALUES ($1, $2, $3)
                 ON CONFLICT (user_lo, user_hi) DO NOTHING RETURNING conversation_id",
                &[&lo, &hi, &id],
            )
            .await?
            .is_some();
            if !won {
                tx.rollback().await?;
                let r = query_one(&c, FIND, &[&lo, &hi]).await?;
                return Ok((r.try_get(0)?, false));
            }
            for user in [lo, hi] {
                execute(
                    &tx,
                    "INSERT INTO members (conversation_id, user_id, role, joined_at)
                     VALUES ($1, $2, 'member', $3)",
                    &[&id, &user, &now],
                )
                .await?;
            }
            tx.commit().await?;
            Ok((id, true))
        })
        .await
    }

    async fn create_group(&self, group: NewGroup) -> StoreResult<Message> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let id: ConversationId = query_one(
                &tx,
                "INSERT INTO conversations (kind, name, created_by, created_at, last_activity)
                 VALUES ('group', $1, $2, $3, $3) RETURNING id",
                &[&group.name, &group.owner, &group.now],
            )
            .await?
            .try_get(0)?;
            execute(
                &tx,
                "INSERT INTO members (conversation_id, user_id, role, joined_at)
                 VALUES ($1, $2, 'owner', $3)",
                &[&id, &group.owner, &group.now],
            )
            .await?;
            // One statement for every member, however large the group.
            execute(
                &tx,
                "INSERT INTO members (conversation_id, user_id, role, joined_at)
                 SELECT $1, u, 'member', $3 FROM unnest($2::bigint[]) AS u",
                &[&id, &group.members, &group.now],
            )
            .await?;
            let event = insert_message(
                &tx,
                &NewMessage {
                    conversation_id: id,
                    sender_id: group.owner,
                    client_msg_id: None,
                    content: Content::System(SystemEvent::group_created(
                        group.owner,
                        &group.name,
                        &group.members,
                    )),
                    reply_to: None,
                    mentions: vec![],
                    mention_all: false,
                    now: group.now,
                },
            )
            .await?;
            execute(
                &tx,
                "UPDATE members SET read_seq = $2 WHERE conversation_id = $1 AND user_id = $3",
                &[&id, &event.seq, &group.owner],
            )
            .await?;
            tx.commit().await?;
            Ok(event)
        })
        .await
    }

    async fn conversation_meta(&self, id: ConversationId) -> StoreResult<Option<ConversationMeta>> {
        self.run(async {
            let c = self.client().await?;
            let Some(r) = query_opt(
                &c,
                "SELECT kind, name, join_policy, mute_all, dissolved_at IS NOT NULL,
                        assistant_enabled
                 FROM conversations WHERE id = $1",
                &[&id],
            )
            .await?
            else {
                return Ok(None);
            };
            let members = query(
                &c,
                "SELECT user_id, role, muted_until FROM members
                 WHERE conversation_id = $1 AND left_seq IS NULL",
                &[&id],
            )
            .await?
            .iter()
            .map(|m| {
                Ok((
                    m.try_get::<_, UserId>(0)?,
                    role_of(&m.try_get::<_, String>(1)?),
                    m.try_get::<_, Option<Millis>>(2)?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some(ConversationMeta {
                id,
                kind: kind_of(&r.try_get::<_, String>(0)?),
                name: r.try_get(1)?,
                members,
                join_policy: join_policy_of(&r.try_get::<_, String>(2)?),
                mute_all: r.try_get(3)?,
                dissolved: r.try_get(4)?,
                assistant_enabled: r.try_get(5)?,
            }))
        })
        .await
    }

    async fn membership(
        &self,
        conv: ConversationId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        self.run(async {
            let c = self.client().await?;
            query_opt(
                &c,
                "SELECT role, joined_seq, read_seq, left_seq FROM members
                 WHERE conversation_id = $1 AND user_id = $2",
                &[&conv, &user],
            )
            .await?
            .map(|r| {
                Ok(Membership {
                    role: role_of(&r.try_get::<_, String>(0)?),
                    joined_seq: r.try_get(1)?,
                    read_seq: r.try_get(2)?,
                    left_seq: r.try_get(3)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn conversations_for(&self, user: UserId) -> StoreResult<Vec<ConversationSummary>> {
        self.run(async {
            let mut c = self.client().await?;
            // One snapshot for the whole list.
            let tx = c
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let ids: Vec<ConversationId> = query(
                &tx,
                "SELECT conversation_id FROM members WHERE user_id = $1",
                &[&user],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(s) = summary(&tx, user, id).await? {
                    out.push(s);
                }
            }
            tx.commit().await?;
            out.sort_by(|a, b| b.last_activity.cmp(&a.last_activity).then(b.id.cmp(&a.id)));
            Ok(out)
        })
        .await
    }

    async fn conversation_for(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationSummary>> {
        self.run(async {
            let c = self.client().await?;
            summary(&c, user, id).await
        })
        .await
    }

    async fn group_ids(&self, user: UserId) -> StoreResult<Vec<ConversationId>> {
        self.run(async {
            let c = self.client().await?;
            query(
                &c,
                "SELECT m.conversation_id FROM members m
                 JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.user_id = $1 AND m.left_seq IS NULL AND c.kind = 'group'",
                &[&user],
            )
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
        })
        .await
    }

    async fn members(
        &self,
        id: ConversationId,
        after_user: Option<UserId>,
        limit: u32,
    ) -> StoreResult<(Vec<Member>, bool)> {
        self.run(async {
            let c = self.client().await?;
            let fetch = limit as i64 + 1;
            let mut rows = query(
                &c,
                "SELECT m.role, m.joined_at, m.read_seq,
                        u.id, u.username, u.display_name, u.avatar, u.status_text,
                        m.nickname, m.muted_until, u.is_bot
                 FROM members m JOIN users u ON u.id = m.user_id
                 WHERE m.conversation_id = $1 AND m.left_seq IS NULL AND m.user_id > $2
                 ORDER BY m.user_id LIMIT $3",
                &[&id, &after_user.unwrap_or(0), &fetch],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Member {
                    role: role_of(&r.try_get::<_, String>(0)?),
                    joined_at: r.try_get(1)?,
                    read_seq: r.try_get(2)?,
                    user: UserPublic {
                        id: r.try_get(3)?,
                        username: r.try_get(4)?,
                        display_name: r.try_get(5)?,
                        avatar: r.try_get(6)?,
                        status_text: r.try_get(7)?,
                        is_bot: r.try_get(10)?,
                    },
                    nickname: r.try_get(8)?,
                    muted_until: r.try_get(9)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            Ok((rows, more))
        })
        .await
    }

    async fn direct_peers(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        self.run(async {
            let c = self.client().await?;
            query(
                &c,
                "SELECT CASE WHEN user_lo = $1 THEN user_hi ELSE user_lo END FROM direct_pairs
                 WHERE user_lo = $1 OR user_hi = $1",
                &[&user],
            )
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
        })
        .await
    }

    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(query_one(
                &c,
                "SELECT EXISTS (SELECT 1 FROM members x JOIN members y
                    ON y.conversation_id = x.conversation_id
                 WHERE x.user_id = $1 AND y.user_id = $2
                   AND x.left_seq IS NULL AND y.left_seq IS NULL)",
                &[&a, &b],
            )
            .await?
            .try_get(0)?)
        })
        .await
    }

    async fn group_apply(
        &self,
        id: ConversationId,
        change: GroupChange,
        now: Millis,
    ) -> StoreResult<Message> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let event = groups::group_apply(&tx, id, change, now).await?;
            tx.commit().await?;
            Ok(event)
        })
        .await
    }

    async fn group_info(
        &self,
        id: ConversationId,
        viewer: UserId,
    ) -> StoreResult<Option<GroupInfo>> {
        self.run(async {
            let c = self.client().await?;
            groups::group_info(&c, id, viewer).await
        })
        .await
    }

    async fn set_member_pref(
        &self,
        id: ConversationId,
        user: UserId,
        pref: MemberPref,
    ) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            let n = match pref {
                MemberPref::Remark(r) => execute(
                    &c,
                    "UPDATE members SET remark = $3 WHERE conversation_id = $1 AND user_id = $2",
                    &[&id, &user, &r],
                )
                .await?,
                MemberPref::NotificationsMuted(m) => {
                    execute(
                        &c,
                        "UPDATE members SET notifications_muted = $3
                         WHERE conversation_id = $1 AND user_id = $2",
                        &[&id, &user, &m],
                    )
                    .await?
                }
            };
            Ok(n > 0)
        })
        .await
    }

    async fn set_invite_code(&self, id: ConversationId, code: String) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            execute(
                &c,
                "UPDATE conversations SET invite_code = $2 WHERE id = $1",
                &[&id, &code],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn conversation_by_invite_code(&self, code: &str) -> StoreResult<Option<ConversationId>> {
        self.run(async {
            let c = self.client().await?;
            query_opt(
                &c,
                "SELECT id FROM conversations WHERE invite_code = $1",
                &[&code],
            )
            .await?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
        })
        .await
    }

    async fn put_join_request(
        &self,
        id: ConversationId,
        user: UserId,
        note: Option<String>,
        now: Millis,
    ) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            execute(
                &c,
                "INSERT INTO join_requests (conversation_id, user_id, note, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET note = $3, created_at = $4",
                &[&id, &user, &note, &now],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn join_requests(&self, id: ConversationId) -> StoreResult<Vec<JoinRequest>> {
        self.run(async {
            let c = self.client().await?;
            groups::join_requests(&c, id).await
        })
        .await
    }

    async fn take_join_request(&self, id: ConversationId, user: UserId) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(execute(
                &c,
                "DELETE FROM join_requests WHERE conversation_id = $1 AND user_id = $2",
                &[&id, &user],
            )
            .await?
                > 0)
        })
        .await
    }

    async fn search_users(
        &self,
        query: &str,
        viewer: UserId,
        after: Option<UserId>,
        limit: u32,
    ) -> StoreResult<(Vec<UserPublic>, bool)> {
        self.run(async {
            let c = self.client().await?;
            groups::search_users(&c, query, viewer, after, limit).await
        })
        .await
    }

    async fn relation(&self, a: UserId, b: UserId) -> StoreResult<Relation> {
        self.run(async {
            let c = self.client().await?;
            groups::relation(&c, a, b).await
        })
        .await
    }

    async fn put_friend_request(
        &self,
        from: UserId,
        to: UserId,
        note: Option<String>,
        now: Millis,
    ) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            execute(
                &c,
                "INSERT INTO friend_requests (from_id, to_id, note, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (from_id, to_id) DO UPDATE SET note = $3, created_at = $4",
                &[&from, &to, &note, &now],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn take_friend_request(&self, from: UserId, to: UserId) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(execute(
                &c,
                "DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2",
                &[&from, &to],
            )
            .await?
                > 0)
        })
        .await
    }

    async fn make_friends(&self, a: UserId, b: UserId, now: Millis) -> StoreResult<()> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            groups::make_friends(&tx, a, b, now).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn remove_friends(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(execute(
                &c,
                "DELETE FROM friends WHERE (user_id = $1 AND friend_id = $2)
                    OR (user_id = $2 AND friend_id = $1)",
                &[&a, &b],
            )
            .await?
                > 0)
        })
        .await
    }

    async fn set_friend_remark(
        &self,
        user: UserId,
        friend: UserId,
        remark: Option<String>,
    ) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(execute(
                &c,
                "UPDATE friends SET remark = $3 WHERE user_id = $1 AND friend_id = $2",
                &[&user, &friend, &remark],
            )
            .await?
                > 0)
        })
        .await
    }

    async fn friends(&self, user: UserId) -> StoreResult<Vec<Friend>> {
        self.run(async {
            let c = self.client().await?;
            groups::friends(&c, user).await
        })
        .await
    }

    async fn friend_requests(
        &self,
        user: UserId,
    ) -> StoreResult<(Vec<FriendRequest>, Vec<FriendRequest>)> {
        self.run(async {
            let c = self.client().await?;
            groups::friend_requests(&c, user).await
        })
        .await
    }

    async fn set_block(
        &self,
        user: UserId,
        other: UserId,
        blocked: bool,
        now: Millis,
    ) -> StoreResult<()> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            groups::set_block(&tx, user, other, blocked, now).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn blocked_users(&self, user: UserId) -> StoreResult<Vec<UserPublic>> {
        self.run(async {
            let c = self.client().await?;
            groups::blocked_users(&c, user).await
        })
        .await
    }

    async fn direct_policy(&self, user: UserId) -> StoreResult<DirectPolicy> {
        self.run(async {
            let c = self.client().await?;
            let p: String = query_opt(
                &c,
                "SELECT direct_policy FROM users WHERE id = $1",
                &[&user],
            )
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get(0)?;
            Ok(direct_policy_of(&p))
        })
        .await
    }

    async fn set_direct_policy(&self, user: UserId, policy: DirectPolicy) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            execute(
                &c,
                "UPDATE users SET direct_policy = $2 WHERE id = $1",
                &[&user, &groups::direct_policy_str(policy)],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn append_message(&self, m: NewMessage) -> StoreResult<Appended> {
        self.run(async {
            let mut c = self.client().await?;
            if let Some(key) = &m.client_msg_id {
                if let Some(message) = message_by_key(&c, m.sender_id, key).await? {
                    return Ok(Appended {
                        message,
                        duplicate: true,
                    });
                }
            }
            let tx = c.transaction().await?;
            let inserted = insert_message(&tx, &m).await;
            let message = match inserted {
                Ok(message) => message,
                // The same retry reached another node at the same moment and won: its commit
                // is the original.
                Err(StoreError::Conflict("client_msg_id")) => {
                    tx.rollback().await?;
                    let key = m.client_msg_id.as_deref().unwrap_or_default();
                    let message = message_by_key(&c, m.sender_id, key)
                        .await?
                        .ok_or(StoreError::Conflict("client_msg_id"))?;
                    return Ok(Appended {
                        message,
                        duplicate: true,
                    });
                }
                Err(e) => return Err(e),
            };
            execute(
                &tx,
                "UPDATE members SET read_seq = $3 WHERE conversation_id = $1 AND user_id = $2",
                &[&m.conversation_id, &m.sender_id, &message.seq],
            )
            .await?;
            tx.commit().await?;
            Ok(Appended {
                message,
                duplicate: false,
            })
        })
        .await
    }

    async fn message(&self, id: ConversationId, seq: Seq) -> StoreResult<Option<Message>> {
        self.run(async {
            let c = self.client().await?;
            message_at(&c, id, seq).await
        })
        .await
    }

    async fn history(&self, q: HistoryQuery) -> StoreResult<(Vec<Message>, bool)> {
        self.run(async {
            let c = self.client().await?;
            let lower = q.after.unwrap_or(0).max(q.visible_after);
            let upper = match (q.before, q.visible_until) {
                (Some(b), Some(u)) => (b - 1).min(u),
                (Some(b), None) => b - 1,
                (None, Some(u)) => u,
                (None, None) => Seq::MAX,
            };
            let fetch = q.limit as i64 + 1;
            let ascending = q.after.is_some();
            let sql = format!(
                "SELECT {MESSAGE_COLS} FROM messages
                 WHERE conversation_id = $1 AND seq > $2 AND seq <= $3
                 ORDER BY seq {} LIMIT $4",
                if ascending { "ASC" } else { "DESC" }
            );
            let mut rows = query(&c, &sql, &[&q.conversation_id, &lower, &upper, &fetch])
                .await?
                .iter()
                .map(message_row)
                .collect::<StoreResult<Vec<_>>>()?;
            if !ascending {
                rows.reverse();
            }
            let more = rows.len() as i64 > q.limit as i64;
            if more {
                if ascending {
                    rows.truncate(q.limit as usize);
                } else {
                    rows.remove(0);
                }
            }
            Ok((rows, more))
        })
        .await
    }

    async fn mark_read(
        &self,
        id: ConversationId,
        user: UserId,
        seq: Seq,
    ) -> StoreResult<(Seq, u32)> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let r = query_opt(
                &tx,
                "SELECT c.last_seq, m.left_seq, m.joined_seq FROM conversations c
                 JOIN members m ON m.conversation_id = c.id AND m.user_id = $2
                 WHERE c.id = $1",
                &[&id, &user],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
            let last_seq: Seq = r.try_get(0)?;
            let left_seq: Option<Seq> = r.try_get(1)?;
            let joined_seq: Seq = r.try_get(2)?;
            let visible_last = left_seq.map_or(last_seq, |l| l.min(last_seq));
            let target = seq.min(visible_last);
            let read_seq: Seq = query_one(
                &tx,
                "UPDATE members SET read_seq = GREATEST(read_seq, $3)
                 WHERE conversation_id = $1 AND user_id = $2 RETURNING read_seq",
                &[&id, &user, &target],
            )
            .await?
            .try_get(0)?;
            let unread =
                unread_count(&tx, id, user, read_seq.max(joined_seq), visible_last).await?;
            tx.commit().await?;
            Ok((read_seq, unread))
        })
        .await
    }

    async fn read_by(
        &self,
        id: ConversationId,
        seq: Seq,
        except: UserId,
        limit: u32,
    ) -> StoreResult<(u32, Vec<UserId>)> {
        self.run(async {
            let c = self.client().await?;
            let count: i64 = query_one(
                &c,
                "SELECT COUNT(*) FROM members WHERE conversation_id = $1 AND read_seq >= $2
                 AND user_id <> $3 AND left_seq IS NULL",
                &[&id, &seq, &except],
            )
            .await?
            .try_get(0)?;
            let limit = limit as i64;
            let ids = query(
                &c,
                "SELECT user_id FROM members WHERE conversation_id = $1 AND read_seq >= $2
                 AND user_id <> $3 AND left_seq IS NULL ORDER BY user_id LIMIT $4",
                &[&id, &seq, &except, &limit],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<UserId>, _>>()?;
            Ok((count as u32, ids))
        })
        .await
    }

    async fn recall(
        &self,
        id: ConversationId,
        seq: Seq,
        by: UserId,
        now: Millis,
        check: RecallCheck,
    ) -> StoreResult<Result<Message, RecallRefusal>> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            // Two recalls of one message serialize on the conversation's row.
            query_opt(
                &tx,
                "SELECT id FROM conversations WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?;
            let Some(original) = message_at(&tx, id, seq).await? else {
                return Ok(Err(RecallRefusal::NotFound));
            };
            if let Err(refusal) = check(&original) {
                return Ok(Err(refusal));
            }
            execute(
                &tx,
                "UPDATE messages SET kind = 'recalled', body = NULL, mentions = NULL,
                        mention_all = FALSE
                 WHERE conversation_id = $1 AND seq = $2",
                &[&id, &seq],
            )
            .await?;
            let event = insert_message(
                &tx,
                &NewMessage {
                    conversation_id: id,
                    sender_id: by,
                    client_msg_id: None,
                    content: Content::System(SystemEvent::MessageRecalled { by, seq }),
                    reply_to: None,
                    mentions: vec![],
                    mention_all: false,
                    now,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(Ok(event))
        })
        .await
    }
    // Integration.
    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<ApiKeyInfo> {
        self.run(async {
            let c = self.client().await?;
            integration::create_api_key(&c, key).await
        })
        .await
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.run(async {
            let c = self.client().await?;
            integration::api_key_by_prefix(&c, prefix).await
        })
        .await
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>> {
        self.run(async {
            let c = self.client().await?;
            integration::list_api_keys(&c).await
        })
        .await
    }

    async fn revoke_api_key(&self, id: i64, at: Millis) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            integration::revoke_api_key(&c, id, at).await
        })
        .await
    }

    async fn touch_api_key(&self, id: i64, at: Millis) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            integration::touch_api_key(&c, id, at).await
        })
        .await
    }

    async fn import_user(
        &self,
        user: NewUser,
        external_id: Option<String>,
        bot: bool,
    ) -> StoreResult<(UserPublic, bool)> {
        self.run(async {
            let mut c = self.client().await?;
            let ext = external_id.as_deref();
            let tx = c.transaction().await?;
            if let Some(existing) = integration::imported(&tx, ext).await? {
                return Ok((existing, false));
            }
            match integration::insert_imported_user(&tx, &user, ext, bot).await {
                Ok(created) => {
                    tx.commit().await?;
                    Ok((created, true))
                }
                // Another import may have committed meanwhile (on any node): if it was this
                // external id, it is the original, as on SQLite where the check above would
                // have seen it.
                Err(StoreError::Conflict(what)) => {
                    tx.rollback().await?;
                    match integration::imported(&c, ext).await? {
                        Some(existing) => Ok((existing, false)),
                        None => Err(StoreError::Conflict(what)),
                    }
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    async fn integration_user(&self, id: UserId) -> StoreResult<IntegrationUserRecord> {
        self.run(async {
            let c = self.client().await?;
            integration::integration_user(&c, id).await
        })
        .await
    }

    async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        at: Millis,
    ) -> StoreResult<Vec<DeviceId>> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let revoked = integration::set_user_disabled(&tx, id, disabled, at).await?;
            tx.commit().await?;
            Ok(revoked)
        })
        .await
    }

    async fn create_webhook(&self, hook: NewWebhook) -> StoreResult<WebhookInfo> {
        self.run(async {
            let c = self.client().await?;
            integration::create_webhook(&c, hook).await
        })
        .await
    }

    async fn webhooks(&self) -> StoreResult<Vec<WebhookRecord>> {
        self.run(async {
            let c = self.client().await?;
            integration::webhooks(&c).await
        })
        .await
    }

    async fn delete_webhook(&self, id: i64) -> StoreResult<bool> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let deleted = integration::delete_webhook(&tx, id).await?;
            tx.commit().await?;
            Ok(deleted)
        })
        .await
    }

    async fn create_delivery(&self, delivery: NewDelivery) -> StoreResult<i64> {
        self.run(async {
            let c = self.client().await?;
            integration::create_delivery(&c, delivery).await
        })
        .await
    }

    async fn update_delivery(&self, attempt: DeliveryAttempt) -> StoreResult<()> {
        self.run(async {
            let c = self.client().await?;
            integration::update_delivery(&c, attempt).await
        })
        .await
    }

    async fn pending_deliveries(&self, limit: u32) -> StoreResult<Vec<PendingDelivery>> {
        self.run(async {
            let c = self.client().await?;
            integration::pending_deliveries(&c, limit).await
        })
        .await
    }

    async fn deliveries(
        &self,
        webhook_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<(Vec<Delivery>, bool)> {
        self.run(async {
            let c = self.client().await?;
            integration::deliveries(&c, webhook_id, before, limit).await
        })
        .await
    }

    // Media.
    async fn put_media(
        &self,
        media: MediaRecord,
        uploader: UserId,
        now: Millis,
    ) -> StoreResult<bool> {
        let content = serde_json::to_string(&media.content)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let size = media.size as i64;
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let mut created = false;
            for attempt in 0.. {
                let n = execute(
                    &tx,
                    "INSERT INTO media (id, kind, mime, size, name, content, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO NOTHING",
                    &[
                        &media.id,
                        &media.kind.as_str(),
                        &media.mime,
                        &size,
                        &media.name,
                        &content,
                        &media.created_at,
                    ],
                )
                .await?;
                if n == 1 {
                    created = true;
                    break;
                }
                // The row exists: hold it, so a release of its last reference waits for this
                // commit (and then drops this upload with it, as on SQLite when it runs
                // second)…
                if query_opt(
                    &tx,
                    "SELECT 1 FROM media WHERE id = $1 FOR KEY SHARE",
                    &[&media.id],
                )
                .await?
                .is_some()
                {
                    break;
                }
                // …unless such a release deleted it meanwhile: then this upload is new again.
                if attempt >= 2 {
                    return Err(unavailable("media row keeps changing"));
                }
            }
            execute(
                &tx,
                "INSERT INTO media_uploads (media_id, user_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (media_id, user_id) DO NOTHING",
                &[&media.id, &uploader, &now],
            )
            .await?;
            tx.commit().await?;
            Ok(created)
        })
        .await
    }

    async fn media(&self, id: &str) -> StoreResult<Option<MediaRecord>> {
        self.run(async {
            let c = self.client().await?;
            let Some(r) = query_opt(
                &c,
                "SELECT id, kind, mime, size, name, content, created_at FROM media WHERE id = $1",
                &[&id],
            )
            .await?
            else {
                return Ok(None);
            };
            let kind: String = r.try_get(1)?;
            let kind = MediaKind::parse(&kind)
                .ok_or_else(|| StoreError::Backend(format!("unknown media kind {kind:?}")))?;
            let content: String = r.try_get(5)?;
            let content =
                serde_json::from_str(&content).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok(Some(MediaRecord {
                id: r.try_get(0)?,
                kind,
                mime: r.try_get(2)?,
                size: r.try_get::<_, i64>(3)? as u64,
                name: r.try_get(4)?,
                content,
                created_at: r.try_get(6)?,
            }))
        })
        .await
    }

    async fn media_uploaded_by(&self, id: &str, user: UserId) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(query_one(
                &c,
                "SELECT EXISTS (SELECT 1 FROM media_uploads WHERE media_id = $1 AND user_id = $2)",
                &[&id, &user],
            )
            .await?
            .try_get(0)?)
        })
        .await
    }

    async fn media_access(&self, id: &str, user: UserId) -> StoreResult<bool> {
        self.run(async {
            let c = self.client().await?;
            Ok(query_one(
                &c,
                "SELECT EXISTS (SELECT 1 FROM media_uploads WHERE media_id = $1 AND user_id = $2)
                     OR EXISTS (SELECT 1 FROM message_media mm
                                JOIN members m ON m.conversation_id = mm.conversation_id
                                              AND m.user_id = $2
                                WHERE mm.media_id = $1 AND m.left_seq IS NULL
                                  AND mm.seq > m.joined_seq)",
                &[&id, &user],
            )
            .await?
            .try_get(0)?)
        })
        .await
    }

    async fn release_message_media(
        &self,
        id: ConversationId,
        seq: Seq,
    ) -> StoreResult<Vec<String>> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let mut ids = query(
                &tx,
                "DELETE FROM message_media WHERE conversation_id = $1 AND seq = $2
                 RETURNING media_id",
                &[&id, &seq],
            )
            .await?
            .iter()
            .map(|r| r.try_get::<_, String>(0))
            .collect::<Result<Vec<_>, _>>()?;
            // Locked in one order, so two releases cannot deadlock.
            ids.sort();
            let mut unreferenced = Vec::new();
            for media in ids {
                // The row lock waits for a message or upload that is being stored with this
                // blob (its foreign key holds the row), so the check below sees it; later ones
                // wait for this transaction. On SQLite the single writer orders them.
                query_opt(
                    &tx,
                    "SELECT 1 FROM media WHERE id = $1 FOR UPDATE",
                    &[&media],
                )
                .await?;
                let referenced: bool = query_one(
                    &tx,
                    "SELECT EXISTS (SELECT 1 FROM message_media WHERE media_id = $1)",
                    &[&media],
                )
                .await?
                .try_get(0)?;
                if !referenced {
                    execute(
                        &tx,
                        "DELETE FROM media_uploads WHERE media_id = $1",
                        &[&media],
                    )
                    .await?;
                    execute(&tx, "DELETE FROM media WHERE id = $1", &[&media]).await?;
                    unreferenced.push(media);
                }
            }
            tx.commit().await?;
            Ok(unreferenced)
        })
        .await
    }
}
