//! SQLite backend: one writer thread that commits in groups, and a pool of reader connections.
//!
//! Every write goes to the writer thread as a job. The writer takes all jobs waiting (up to
//! [`MAX_BATCH`]), runs each inside its own savepoint of one transaction, commits once, and only
//! then answers each job. So a burst of sends costs one fsync, and every answered write is
//! durable (`synchronous = FULL`). Readers run on the blocking pool against WAL snapshots.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use async_trait::async_trait;
use confab_proto::integration::{ApiKeyInfo, Delivery, WebhookInfo};
use confab_proto::{
    Content, ConversationId, ConversationKind, ConversationSummary, DeviceId, DirectPolicy, Friend,
    FriendRequest, GroupInfo, JoinPolicy, JoinRequest, Member, Message, Millis, Role, Seq,
    SystemEvent, UpdateProfile, UserId, UserPublic,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use tokio::sync::oneshot;

use super::sqlite_groups as groups;
use super::sqlite_integration as integration;
use super::*;

const MAX_BATCH: usize = 512;
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_assistant.sql"),
];
const READ_POOL_MAX: usize = 8;

pub(super) type SqlResult<T> = Result<T, rusqlite::Error>;

/// A write to run on the writer thread.
trait WriteJob: Send {
    /// Runs inside a savepoint; returns false if the savepoint must be rolled back.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Called after the transaction ended: `Ok` if it committed.
    fn finish(self: Box<Self>, committed: Result<(), StoreError>, checkpoint: &AtomicBool);
}

struct Job<R, F> {
    f: Option<F>,
    result: Option<StoreResult<R>>,
    reply: oneshot::Sender<StoreResult<R>>,
    /// Ask for a WAL truncation after commit (erased content must leave the files).
    scrub: bool,
}

impl<R: Send, F: FnOnce(&Connection) -> StoreResult<R> + Send> WriteJob for Job<R, F> {
    fn run(&mut self, conn: &Connection) -> bool {
        let f = self.f.take().expect("a job runs once");
        let result = f(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>, checkpoint: &AtomicBool) {
        let result = match (committed, self.result) {
            (Ok(()), Some(r)) => {
                if self.scrub && r.is_ok() {
                    checkpoint.store(true, Ordering::Relaxed);
                }
                r
            }
            (Ok(()), None) => Err(StoreError::Backend("job did not run".into())),
            (Err(e), _) => Err(e),
        };
        let _ = self.reply.send(result);
    }
}

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<Box<dyn WriteJob>>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(ref err, _)
            if matches!(
                err.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        backend(e)
    }
}

fn open(path: &Path) -> SqlResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> SqlResult<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let target = i as i64 + 1;
        if version < target {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {target}"))?;
            tx.commit()?;
            tracing::info!(version = target, "applied sqlite migration");
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/confab.db` and applies migrations.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        let path = dir.join("confab.db");
        let mut conn = open(&path)?;
        migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>();
        let thread = std::thread::Builder::new()
            .name("confab-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after the jobs already queued are committed.
    pub fn close(&self) {
        self.writer.lock().unwrap().take();
        if let Some(t) = self.writer_thread.lock().unwrap().take() {
            let _ = t.join();
        }
    }

    async fn write<R, F>(&self, scrub: bool, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Box::new(Job {
            f: Some(f),
            result: None,
            reply,
            scrub,
        });
        {
            let guard = self.writer.lock().unwrap();
            let sender = guard
                .as_ref()
                .ok_or_else(|| StoreError::Unavailable("store is closed".into()))?;
            sender
                .send(job)
                .map_err(|_| StoreError::Unavailable("writer stopped".into()))?;
        }
        rx.await
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?
    }

    async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || with_reader(&pool, &path, f))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?
    }

    /// A single-row lookup by key (a few microseconds on cached pages), run on the calling
    /// thread. Handing it to the blocking pool would cost two thread wake-ups, more than the
    /// read; WAL readers never wait for the writer, so this does not block the runtime on
    /// write load. Anything that scans or pages goes through [`Self::read`].
    fn read_point<R>(&self, f: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
        with_reader(&self.readers, &self.path, f)
    }
}

/// Runs `f` on a pooled read connection (opening one when the pool is empty) and returns the
/// connection to the pool.
fn with_reader<R>(
    pool: &Mutex<Vec<Connection>>,
    path: &Path,
    f: impl FnOnce(&Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    let popped = pool.lock().unwrap().pop();
    let conn = match popped {
        Some(c) => c,
        None => open(path)?,
    };
    let result = f(&conn);
    let mut pool = pool.lock().unwrap();
    if pool.len() < READ_POOL_MAX {
        pool.push(conn);
    }
    result
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn WriteJob>>) {
    let checkpoint = AtomicBool::new(false);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = run_batch(&conn, &mut batch);
        for job in batch {
            job.finish(committed.clone_shallow(), &checkpoint);
        }
        if checkpoint.swap(false, Ordering::Relaxed) {
            if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                tracing::warn!(error = %e, "wal checkpoint after erase failed");
            }
        }
    }
    tracing::debug!("sqlite writer stopped");
}

trait CloneShallow {
    fn clone_shallow(&self) -> Self;
}

impl CloneShallow for Result<(), StoreError> {
    fn clone_shallow(&self) -> Self {
        match self {
            Ok(()) => Ok(()),
            Err(StoreError::Unavailable(s)) => Err(StoreError::Unavailable(s.clone())),
            Err(e) => Err(StoreError::Backend(e.to_string())),
        }
    }
}

fn run_batch(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        let step = (|| -> SqlResult<()> {
            conn.execute_batch("SAVEPOINT job")?;
            if job.run(conn) {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            }
        })();
        if let Err(e) = step {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(backend(e));
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(backend(e));
    }
    Ok(())
}

// ---- row mapping ----

const USER_COLS: &str =
    "id, username, display_name, avatar, status_text, password_hash, last_seen, is_bot";

fn user_row(r: &Row<'_>) -> SqlResult<UserRecord> {
    Ok(UserRecord {
        public: UserPublic {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            avatar: r.get(3)?,
            status_text: r.get(4)?,
            is_bot: r.get(7)?,
        },
        password_hash: r.get(5)?,
        last_seen: r.get(6)?,
    })
}

const SESSION_COLS: &str =
    "id, user_id, device_name, created_at, last_used_at, expires_at, revoked_at";

fn session_row(r: &Row<'_>) -> SqlResult<SessionRecord> {
    Ok(SessionRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        device_name: r.get(2)?,
        created_at: r.get(3)?,
        last_used_at: r.get(4)?,
        expires_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

const MESSAGE_COLS: &str = "conversation_id, seq, sender_id, client_msg_id, kind, body, reply_to, \
                            mentions, mention_all, created_at";

fn message_row(r: &Row<'_>) -> SqlResult<Message> {
    let kind: String = r.get(4)?;
    let body: Option<String> = r.get(5)?;
    let content = match (kind.as_str(), body) {
        ("recalled", _) | (_, None) => Content::Recalled,
        (_, Some(json)) => serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
        })?,
    };
    let mentions: Option<String> = r.get(7)?;
    Ok(Message {
        conversation_id: r.get(0)?,
        seq: r.get(1)?,
        sender_id: r.get(2)?,
        client_msg_id: r.get(3)?,
        content,
        reply_to: r.get(6)?,
        mentions: mentions
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default(),
        mention_all: r.get(8)?,
        created_at: r.get(9)?,
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

pub(super) fn join_policy_of(s: &str) -> JoinPolicy {
    match s {
        "free" => JoinPolicy::Free,
        "invite_only" => JoinPolicy::InviteOnly,
        _ => JoinPolicy::Approval,
    }
}

pub(super) fn join_policy_str(p: JoinPolicy) -> &'static str {
    match p {
        JoinPolicy::Free => "free",
        JoinPolicy::Approval => "approval",
        JoinPolicy::InviteOnly => "invite_only",
    }
}

pub(super) fn direct_policy_of(s: &str) -> DirectPolicy {
    if s == "anyone" {
        DirectPolicy::Anyone
    } else {
        DirectPolicy::FriendsOnly
    }
}

pub(super) fn role_of(s: &str) -> Role {
    Role::parse(s).unwrap_or(Role::Member)
}

pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(err, _)
        if err.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || err.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// Appends a message at the next seq. Runs inside the writer's transaction.
pub(super) fn insert_message(conn: &Connection, m: &NewMessage) -> StoreResult<Message> {
    let seq: Seq = conn
        .prepare_cached(
            "UPDATE conversations SET last_seq = last_seq + 1, last_activity = ?2
             WHERE id = ?1 RETURNING last_seq",
        )?
        .query_row(params![m.conversation_id, m.now], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let body = serde_json::to_string(&m.content).map_err(|e| StoreError::Backend(e.to_string()))?;
    let mentions = if m.mentions.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&m.mentions).expect("ids serialize"))
    };
    conn.prepare_cached(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, kind, body,
                               reply_to, mentions, mention_all, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        m.conversation_id,
        seq,
        m.sender_id,
        m.client_msg_id,
        content_kind(&m.content),
        body,
        m.reply_to,
        mentions,
        m.mention_all,
        m.now
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("client_msg_id")
        } else {
            backend(e)
        }
    })?;
    if let Some(media) = m.content.media() {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO message_media (media_id, conversation_id, seq)
             VALUES (?1, ?2, ?3)",
        )?
        .execute(params![media.id, m.conversation_id, seq])?;
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

fn unread_count(
    conn: &Connection,
    conv: ConversationId,
    user: UserId,
    after: Seq,
    until: Seq,
) -> SqlResult<u32> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM messages
         WHERE conversation_id = ?1 AND seq > ?3 AND seq <= ?4 AND sender_id <> ?2
           AND kind = 'text'",
    )?
    .query_row(params![conv, user, after, until], |r| r.get(0))
}

fn mentioned(
    conn: &Connection,
    conv: ConversationId,
    user: UserId,
    after: Seq,
    until: Seq,
) -> SqlResult<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM messages
         WHERE conversation_id = ?1 AND seq > ?3 AND seq <= ?4 AND sender_id <> ?2
           AND kind = 'text'
           AND (mention_all = 1 OR EXISTS (SELECT 1 FROM json_each(messages.mentions)
                                           WHERE json_each.value = ?2)))",
    )?
    .query_row(params![conv, user, after, until], |r| r.get(0))
}

pub(super) fn public_user(conn: &Connection, id: UserId) -> SqlResult<Option<UserPublic>> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"))?
        .query_row([id], user_row)
        .optional()
        .map(|u| u.map(|u| u.public))
}

/// Builds the summary of one conversation as `user` sees it.
fn summary(
    conn: &Connection,
    user: UserId,
    conv: ConversationId,
) -> SqlResult<Option<ConversationSummary>> {
    let row = conn
        .prepare_cached(
            "SELECT c.kind, c.name, c.last_seq, c.last_activity, m.role, m.read_seq, m.joined_seq,
                    m.left_seq,
                    (SELECT COUNT(*) FROM members x
                     WHERE x.conversation_id = c.id AND x.left_seq IS NULL),
                    c.avatar, c.dissolved_at, m.remark, m.notifications_muted
             FROM members m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.conversation_id = ?1 AND m.user_id = ?2",
        )?
        .query_row(params![conv, user], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Seq>(2)?,
                    r.get::<_, Millis>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Seq>(5)?,
                    r.get::<_, Seq>(6)?,
                    r.get::<_, Option<Seq>>(7)?,
                    r.get::<_, u32>(8)?,
                ),
                (
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<Millis>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                    r.get::<_, bool>(12)?,
                ),
            ))
        })
        .optional()?;
    let Some((
        (kind, name, last_seq, last_activity, role, read_seq, joined_seq, left_seq, count),
        (avatar, dissolved_at, remark, muted),
    )) = row
    else {
        return Ok(None);
    };
    let kind = kind_of(&kind);
    let visible_last = left_seq.map_or(last_seq, |l| l.min(last_seq));
    let from = read_seq.max(joined_seq);
    let unread = unread_count(conn, conv, user, from, visible_last)?;
    let mentioned = unread > 0 && mentioned(conn, conv, user, from, visible_last)?;
    let last_message = if visible_last > joined_seq {
        conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"
        ))?
        .query_row(params![conv, visible_last], message_row)
        .optional()?
    } else {
        None
    };
    let (peer, name, remark, avatar) = if kind == ConversationKind::Direct {
        let peer_id: Option<UserId> = conn
            .prepare_cached(
                "SELECT user_id FROM members WHERE conversation_id = ?1 AND user_id <> ?2 LIMIT 1",
            )?
            .query_row(params![conv, user], |r| r.get(0))
            .optional()?;
        let peer = match peer_id {
            Some(id) => public_user(conn, id)?,
            None => None,
        };
        let name = peer
            .as_ref()
            .map(|p| p.display_name.clone())
            .unwrap_or(name);
        let remark = match peer_id {
            Some(p) => conn
                .prepare_cached("SELECT remark FROM friends WHERE user_id = ?1 AND friend_id = ?2")?
                .query_row(params![user, p], |r| r.get::<_, Option<String>>(0))
                .optional()?
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
        member_count: count,
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

fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<UserPublic> {
        self.write(false, move |conn| {
            let id = conn
                .prepare_cached(
                    "INSERT INTO users (username, password_hash, display_name, created_at,
                                        direct_policy)
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
                        backend(e)
                    }
                })?;
            Ok(UserPublic {
                id,
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
        let (username, display_name) = (username.to_owned(), display_name.to_owned());
        self.write(false, move |conn| {
            // The password hash '!' matches no password: nobody logs in as the bot.
            conn.prepare_cached(
                "INSERT INTO users (username, password_hash, display_name, created_at,
                                    direct_policy, is_bot)
                 VALUES (?1, '!', ?2, ?3, 'anyone', 1)
                 ON CONFLICT (username) DO NOTHING",
            )?
            .execute(params![username, display_name, now])?;
            let user = conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLS} FROM users WHERE username = ?1"
                ))?
                .query_row([&username], user_row)?;
            if !user.public.is_bot {
                return Err(StoreError::Conflict("username"));
            }
            if user.public.display_name != display_name {
                conn.prepare_cached("UPDATE users SET display_name = ?2 WHERE id = ?1")?
                    .execute(params![user.public.id, display_name])?;
            }
            Ok(UserPublic {
                display_name,
                ..user.public
            })
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLS} FROM users WHERE username = ?1"
                ))?
                .query_row([username], user_row)
                .optional()?)
        })
        .await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.read_point(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"))?
                .query_row([id], user_row)
                .optional()?)
        })
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserPublic>> {
        let ids = ids.to_vec();
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"))?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(u) = stmt.query_row([id], user_row).optional()? {
                    out.push(u.public);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn update_profile(&self, id: UserId, update: UpdateProfile) -> StoreResult<UserPublic> {
        self.write(false, move |conn| {
            let blank = |s: Option<String>| s.map(|s| if s.is_empty() { None } else { Some(s) });
            let n = conn.execute(
                "UPDATE users SET
                    display_name = COALESCE(?2, display_name),
                    avatar = CASE WHEN ?3 THEN ?4 ELSE avatar END,
                    status_text = CASE WHEN ?5 THEN ?6 ELSE status_text END
                 WHERE id = ?1",
                params![
                    id,
                    update.display_name,
                    update.avatar.is_some(),
                    blank(update.avatar).flatten(),
                    update.status_text.is_some(),
                    blank(update.status_text).flatten()
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            public_user(conn, id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn set_last_seen(&self, id: UserId, at: Millis) -> StoreResult<()> {
        self.write(false, move |conn| {
            conn.prepare_cached("UPDATE users SET last_seen = ?2 WHERE id = ?1")?
                .execute(params![id, at])?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: NewSession) -> StoreResult<SessionRecord> {
        self.write(false, move |conn| {
            let id = conn
                .prepare_cached(
                    "INSERT INTO sessions (user_id, token_hash, device_name, created_at,
                                           last_used_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id",
                )?
                .query_row(
                    params![
                        s.user_id,
                        &s.token_hash[..],
                        s.device_name,
                        s.now,
                        s.expires_at
                    ],
                    |r| r.get(0),
                )?;
            Ok(SessionRecord {
                id,
                user_id: s.user_id,
                device_name: s.device_name,
                created_at: s.now,
                last_used_at: s.now,
                expires_at: s.expires_at,
                revoked_at: None,
            })
        })
        .await
    }

    async fn session_by_token_hash(&self, hash: [u8; 32]) -> StoreResult<Option<SessionRecord>> {
        self.read_point(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLS} FROM sessions WHERE token_hash = ?1"
                ))?
                .query_row([&hash[..]], session_row)
                .optional()?)
        })
    }

    async fn touch_session(&self, id: DeviceId, at: Millis) -> StoreResult<()> {
        self.write(false, move |conn| {
            conn.prepare_cached("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")?
                .execute(params![id, at])?;
            Ok(())
        })
        .await
    }

    async fn list_sessions(&self, user_id: UserId) -> StoreResult<Vec<SessionRecord>> {
        self.read(move |conn| {
            let now = now_millis();
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLS} FROM sessions
                     WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
                     ORDER BY last_used_at DESC"
                ))?
                .query_map(params![user_id, now], session_row)?
                .collect::<SqlResult<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoke_session(&self, user_id: UserId, id: DeviceId, at: Millis) -> StoreResult<bool> {
        self.write(false, move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?3
                     WHERE id = ?2 AND user_id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![user_id, id, at])?;
            Ok(n > 0)
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
        let existing = self.read_point(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT conversation_id FROM direct_pairs WHERE user_lo = ?1 AND user_hi = ?2",
                )?
                .query_row(params![lo, hi], |r| r.get::<_, ConversationId>(0))
                .optional()?)
        })?;
        if let Some(id) = existing {
            return Ok((id, false));
        }
        self.write(false, move |conn| {
            // Checked again inside the transaction: two first messages may race.
            if let Some(id) = conn
                .prepare_cached(
                    "SELECT conversation_id FROM direct_pairs WHERE user_lo = ?1 AND user_hi = ?2",
                )?
                .query_row(params![lo, hi], |r| r.get::<_, ConversationId>(0))
                .optional()?
            {
                return Ok((id, false));
            }
            let id: ConversationId = conn.query_row(
                "INSERT INTO conversations (kind, created_by, created_at, last_activity)
                 VALUES ('direct', ?1, ?2, ?2) RETURNING id",
                params![a, now],
                |r| r.get(0),
            )?;
            conn.execute(
                "INSERT INTO direct_pairs (user_lo, user_hi, conversation_id) VALUES (?1, ?2, ?3)",
                params![lo, hi, id],
            )?;
            let mut add = conn.prepare_cached(
                "INSERT INTO members (conversation_id, user_id, role, joined_at)
                 VALUES (?1, ?2, 'member', ?3)",
            )?;
            add.execute(params![id, lo, now])?;
            add.execute(params![id, hi, now])?;
            Ok((id, true))
        })
        .await
    }

    async fn create_group(&self, group: NewGroup) -> StoreResult<Message> {
        self.write(false, move |conn| {
            let id: ConversationId = conn.query_row(
                "INSERT INTO conversations (kind, name, created_by, created_at, last_activity)
                 VALUES ('group', ?1, ?2, ?3, ?3) RETURNING id",
                params![group.name, group.owner, group.now],
                |r| r.get(0),
            )?;
            let mut add = conn.prepare_cached(
                "INSERT INTO members (conversation_id, user_id, role, joined_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            add.execute(params![id, group.owner, "owner", group.now])?;
            for m in &group.members {
                add.execute(params![id, m, "member", group.now])?;
            }
            let event = insert_message(
                conn,
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
            )?;
            conn.prepare_cached(
                "UPDATE members SET read_seq = ?2 WHERE conversation_id = ?1 AND user_id = ?3",
            )?
            .execute(params![id, event.seq, group.owner])?;
            Ok(event)
        })
        .await
    }

    async fn conversation_meta(&self, id: ConversationId) -> StoreResult<Option<ConversationMeta>> {
        self.read(move |conn| {
            let Some((kind, name, policy, mute_all, dissolved, assistant_enabled)) = conn
                .prepare_cached(
                    "SELECT kind, name, join_policy, mute_all, dissolved_at IS NOT NULL,
                            assistant_enabled
                     FROM conversations WHERE id = ?1",
                )?
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, bool>(3)?,
                        r.get::<_, bool>(4)?,
                        r.get::<_, bool>(5)?,
                    ))
                })
                .optional()?
            else {
                return Ok(None);
            };
            let members = conn
                .prepare_cached(
                    "SELECT user_id, role, muted_until FROM members
                     WHERE conversation_id = ?1 AND left_seq IS NULL",
                )?
                .query_map([id], |r| {
                    Ok((
                        r.get::<_, UserId>(0)?,
                        role_of(&r.get::<_, String>(1)?),
                        r.get::<_, Option<Millis>>(2)?,
                    ))
                })?
                .collect::<SqlResult<Vec<_>>>()?;
            Ok(Some(ConversationMeta {
                id,
                kind: kind_of(&kind),
                name,
                members,
                join_policy: join_policy_of(&policy),
                mute_all,
                dissolved,
                assistant_enabled,
            }))
        })
        .await
    }

    async fn membership(
        &self,
        conv: ConversationId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT role, joined_seq, read_seq, left_seq FROM members
                     WHERE conversation_id = ?1 AND user_id = ?2",
                )?
                .query_row(params![conv, user], |r| {
                    Ok(Membership {
                        role: role_of(&r.get::<_, String>(0)?),
                        joined_seq: r.get(1)?,
                        read_seq: r.get(2)?,
                        left_seq: r.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn conversations_for(&self, user: UserId) -> StoreResult<Vec<ConversationSummary>> {
        self.read(move |conn| {
            let ids = conn
                .prepare_cached("SELECT conversation_id FROM members WHERE user_id = ?1")?
                .query_map([user], |r| r.get::<_, ConversationId>(0))?
                .collect::<SqlResult<Vec<_>>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(s) = summary(conn, user, id)? {
                    out.push(s);
                }
            }
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
        self.read(move |conn| Ok(summary(conn, user, id)?)).await
    }

    async fn members(
        &self,
        id: ConversationId,
        after_user: Option<UserId>,
        limit: u32,
    ) -> StoreResult<(Vec<Member>, bool)> {
        self.read(move |conn| {
            let mut rows = conn
                .prepare_cached(&format!(
                    "SELECT m.role, m.joined_at, m.read_seq, {}, m.nickname, m.muted_until
                     FROM members m JOIN users u ON u.id = m.user_id
                     WHERE m.conversation_id = ?1 AND m.left_seq IS NULL AND m.user_id > ?2
                     ORDER BY m.user_id LIMIT ?3",
                    "u.id, u.username, u.display_name, u.avatar, u.status_text, u.is_bot"
                ))?
                .query_map(params![id, after_user.unwrap_or(0), limit + 1], |r| {
                    Ok(Member {
                        role: role_of(&r.get::<_, String>(0)?),
                        joined_at: r.get(1)?,
                        read_seq: r.get(2)?,
                        user: UserPublic {
                            id: r.get(3)?,
                            username: r.get(4)?,
                            display_name: r.get(5)?,
                            avatar: r.get(6)?,
                            status_text: r.get(7)?,
                            is_bot: r.get(8)?,
                        },
                        nickname: r.get(9)?,
                        muted_until: r.get(10)?,
                    })
                })?
                .collect::<SqlResult<Vec<_>>>()?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            Ok((rows, more))
        })
        .await
    }

    async fn group_ids(&self, user: UserId) -> StoreResult<Vec<ConversationId>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT m.conversation_id FROM members m
                     JOIN conversations c ON c.id = m.conversation_id
                     WHERE m.user_id = ?1 AND m.left_seq IS NULL AND c.kind = 'group'",
                )?
                .query_map([user], |r| r.get(0))?
                .collect::<SqlResult<Vec<_>>>()?)
        })
        .await
    }

    async fn direct_peers(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT CASE WHEN user_lo = ?1 THEN user_hi ELSE user_lo END FROM direct_pairs
                     WHERE user_lo = ?1 OR user_hi = ?1",
                )?
                .query_map([user], |r| r.get(0))?
                .collect::<SqlResult<Vec<_>>>()?)
        })
        .await
    }

    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM members x JOIN members y
                        ON y.conversation_id = x.conversation_id
                     WHERE x.user_id = ?1 AND y.user_id = ?2
                       AND x.left_seq IS NULL AND y.left_seq IS NULL)",
                )?
                .query_row(params![a, b], |r| r.get(0))?)
        })
        .await
    }

    async fn group_apply(
        &self,
        id: ConversationId,
        change: GroupChange,
        now: Millis,
    ) -> StoreResult<Message> {
        self.write(false, move |conn| {
            groups::group_apply(conn, id, change, now)
        })
        .await
    }

    async fn group_info(
        &self,
        id: ConversationId,
        viewer: UserId,
    ) -> StoreResult<Option<GroupInfo>> {
        self.read(move |conn| groups::group_info(conn, id, viewer))
            .await
    }

    async fn set_member_pref(
        &self,
        id: ConversationId,
        user: UserId,
        pref: MemberPref,
    ) -> StoreResult<bool> {
        self.write(false, move |conn| {
            groups::set_member_pref(conn, id, user, pref)
        })
        .await
    }

    async fn set_invite_code(&self, id: ConversationId, code: String) -> StoreResult<()> {
        self.write(false, move |conn| {
            conn.execute(
                "UPDATE conversations SET invite_code = ?2 WHERE id = ?1",
                params![id, code],
            )?;
            Ok(())
        })
        .await
    }

    async fn conversation_by_invite_code(&self, code: &str) -> StoreResult<Option<ConversationId>> {
        let code = code.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id FROM conversations WHERE invite_code = ?1")?
                .query_row([code], |r| r.get(0))
                .optional()?)
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
        self.write(false, move |conn| {
            conn.execute(
                "INSERT INTO join_requests (conversation_id, user_id, note, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET note = ?3, created_at = ?4",
                params![id, user, note, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn join_requests(&self, id: ConversationId) -> StoreResult<Vec<JoinRequest>> {
        self.read(move |conn| groups::join_requests(conn, id)).await
    }

    async fn take_join_request(&self, id: ConversationId, user: UserId) -> StoreResult<bool> {
        self.write(false, move |conn| {
            Ok(conn.execute(
                "DELETE FROM join_requests WHERE conversation_id = ?1 AND user_id = ?2",
                params![id, user],
            )? > 0)
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
        let query = query.to_owned();
        self.read(move |conn| groups::search_users(conn, &query, viewer, after, limit))
            .await
    }

    async fn relation(&self, a: UserId, b: UserId) -> StoreResult<Relation> {
        self.read_point(move |conn| groups::relation(conn, a, b))
    }

    async fn put_friend_request(
        &self,
        from: UserId,
        to: UserId,
        note: Option<String>,
        now: Millis,
    ) -> StoreResult<()> {
        self.write(false, move |conn| {
            conn.execute(
                "INSERT INTO friend_requests (from_id, to_id, note, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (from_id, to_id) DO UPDATE SET note = ?3, created_at = ?4",
                params![from, to, note, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn take_friend_request(&self, from: UserId, to: UserId) -> StoreResult<bool> {
        self.write(false, move |conn| {
            Ok(conn.execute(
                "DELETE FROM friend_requests WHERE from_id = ?1 AND to_id = ?2",
                params![from, to],
            )? > 0)
        })
        .await
    }

    async fn make_friends(&self, a: UserId, b: UserId, now: Millis) -> StoreResult<()> {
        self.write(false, move |conn| groups::make_friends(conn, a, b, now))
            .await
    }

    async fn remove_friends(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.write(false, move |conn| {
            Ok(conn.execute(
                "DELETE FROM friends WHERE (user_id = ?1 AND friend_id = ?2)
                    OR (user_id = ?2 AND friend_id = ?1)",
                params![a, b],
            )? > 0)
        })
        .await
    }

    async fn set_friend_remark(
        &self,
        user: UserId,
        friend: UserId,
        remark: Option<String>,
    ) -> StoreResult<bool> {
        self.write(false, move |conn| {
            Ok(conn.execute(
                "UPDATE friends SET remark = ?3 WHERE user_id = ?1 AND friend_id = ?2",
                params![user, friend, remark],
            )? > 0)
        })
        .await
    }

    async fn friends(&self, user: UserId) -> StoreResult<Vec<Friend>> {
        self.read(move |conn| groups::friends(conn, user)).await
    }

    async fn friend_requests(
        &self,
        user: UserId,
    ) -> StoreResult<(Vec<FriendRequest>, Vec<FriendRequest>)> {
        self.read(move |conn| groups::friend_requests(conn, user))
            .await
    }

    async fn set_block(
        &self,
        user: UserId,
        other: UserId,
        blocked: bool,
        now: Millis,
    ) -> StoreResult<()> {
        self.write(false, move |conn| {
            groups::set_block(conn, user, other, blocked, now)
        })
        .await
    }

    async fn blocked_users(&self, user: UserId) -> StoreResult<Vec<UserPublic>> {
        self.read(move |conn| groups::blocked_users(conn, user))
            .await
    }

    async fn direct_policy(&self, user: UserId) -> StoreResult<DirectPolicy> {
        self.read(move |conn| {
            let p: Option<String> = conn
                .prepare_cached("SELECT direct_policy FROM users WHERE id = ?1")?
                .query_row([user], |r| r.get(0))
                .optional()?;
            p.map(|p| direct_policy_of(&p)).ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn set_direct_policy(&self, user: UserId, policy: DirectPolicy) -> StoreResult<()> {
        self.write(false, move |conn| {
            conn.execute(
                "UPDATE users SET direct_policy = ?2 WHERE id = ?1",
                params![user, groups::direct_policy_str(policy)],
            )?;
            Ok(())
        })
        .await
    }

    async fn append_message(&self, m: NewMessage) -> StoreResult<Appended> {
        self.write(false, move |conn| {
            if let Some(key) = &m.client_msg_id {
                let existing = conn
                    .prepare_cached(&format!(
                        "SELECT {MESSAGE_COLS} FROM messages WHERE sender_id = ?1 AND client_msg_id = ?2"
                    ))?
                    .query_row(params![m.sender_id, key], message_row)
                    .optional()?;
                if let Some(message) = existing {
                    return Ok(Appended {
                        message,
                        duplicate: true,
                    });
                }
            }
            let message = insert_message(conn, &m)?;
            conn.prepare_cached(
                "UPDATE members SET read_seq = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![m.conversation_id, m.sender_id, message.seq])?;
            Ok(Appended {
                message,
                duplicate: false,
            })
        })
        .await
    }

    async fn message(&self, id: ConversationId, seq: Seq) -> StoreResult<Option<Message>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"
                ))?
                .query_row(params![id, seq], message_row)
                .optional()?)
        })
        .await
    }

    async fn history(&self, q: HistoryQuery) -> StoreResult<(Vec<Message>, bool)> {
        self.read(move |conn| {
            let lower = q.after.unwrap_or(0).max(q.visible_after);
            let upper = match (q.before, q.visible_until) {
                (Some(b), Some(u)) => (b - 1).min(u),
                (Some(b), None) => b - 1,
                (None, Some(u)) => u,
                (None, None) => Seq::MAX,
            };
            let fetch = q.limit as i64 + 1;
            let mut rows = if q.after.is_some() {
                conn.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages
                     WHERE conversation_id = ?1 AND seq > ?2 AND seq <= ?3
                     ORDER BY seq ASC LIMIT ?4"
                ))?
                .query_map(params![q.conversation_id, lower, upper, fetch], message_row)?
                .collect::<SqlResult<Vec<_>>>()?
            } else {
                let mut rows = conn
                    .prepare_cached(&format!(
                        "SELECT {MESSAGE_COLS} FROM messages
                         WHERE conversation_id = ?1 AND seq > ?2 AND seq <= ?3
                         ORDER BY seq DESC LIMIT ?4"
                    ))?
                    .query_map(params![q.conversation_id, lower, upper, fetch], message_row)?
                    .collect::<SqlResult<Vec<_>>>()?;
                rows.reverse();
                rows
            };
            let more = rows.len() as i64 > q.limit as i64;
            if more {
                if q.after.is_some() {
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
        self.write(false, move |conn| {
            let (last_seq, left_seq, joined_seq): (Seq, Option<Seq>, Seq) = conn
                .prepare_cached(
                    "SELECT c.last_seq, m.left_seq, m.joined_seq FROM conversations c
                     JOIN members m ON m.conversation_id = c.id AND m.user_id = ?2
                     WHERE c.id = ?1",
                )?
                .query_row(params![id, user], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let visible_last = left_seq.map_or(last_seq, |l| l.min(last_seq));
            let target = seq.min(visible_last);
            let read_seq: Seq = conn
                .prepare_cached(
                    "UPDATE members SET read_seq = MAX(read_seq, ?3)
                     WHERE conversation_id = ?1 AND user_id = ?2 RETURNING read_seq",
                )?
                .query_row(params![id, user, target], |r| r.get(0))?;
            let unread = unread_count(conn, id, user, read_seq.max(joined_seq), visible_last)?;
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
        self.read(move |conn| {
            let count: u32 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM members WHERE conversation_id = ?1 AND read_seq >= ?2
                     AND user_id <> ?3 AND left_seq IS NULL",
                )?
                .query_row(params![id, seq, except], |r| r.get(0))?;
            let ids = conn
                .prepare_cached(
                    "SELECT user_id FROM members WHERE conversation_id = ?1 AND read_seq >= ?2
                     AND user_id <> ?3 AND left_seq IS NULL ORDER BY user_id LIMIT ?4",
                )?
                .query_map(params![id, seq, except, limit], |r| r.get(0))?
                .collect::<SqlResult<Vec<_>>>()?;
            Ok((count, ids))
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
        self.write(true, move |conn| {
            let Some(original) = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"
                ))?
                .query_row(params![id, seq], message_row)
                .optional()?
            else {
                return Ok(Err(RecallRefusal::NotFound));
            };
            if let Err(refusal) = check(&original) {
                return Ok(Err(refusal));
            }
            conn.prepare_cached(
                "UPDATE messages SET kind = 'recalled', body = NULL, mentions = NULL,
                        mention_all = 0
                 WHERE conversation_id = ?1 AND seq = ?2",
            )?
            .execute(params![id, seq])?;
            let event = insert_message(
                conn,
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
            )?;
            Ok(Ok(event))
        })
        .await
    }

    // Integration.
    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<ApiKeyInfo> {
        self.write(false, move |conn| integration::create_api_key(conn, key))
            .await
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let prefix = prefix.to_owned();
        self.read(move |conn| Ok(integration::api_key_by_prefix(conn, &prefix)?))
            .await
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>> {
        self.read(|conn| Ok(integration::list_api_keys(conn)?))
            .await
    }

    async fn revoke_api_key(&self, id: i64, at: Millis) -> StoreResult<bool> {
        self.write(false, move |conn| {
            Ok(integration::revoke_api_key(conn, id, at)?)
        })
        .await
    }

    async fn touch_api_key(&self, id: i64, at: Millis) -> StoreResult<()> {
        self.write(false, move |conn| {
            Ok(integration::touch_api_key(conn, id, at)?)
        })
        .await
    }

    async fn import_user(
        &self,
        user: NewUser,
        external_id: Option<String>,
        bot: bool,
    ) -> StoreResult<(UserPublic, bool)> {
        self.write(false, move |conn| {
            integration::import_user(conn, user, external_id, bot)
        })
        .await
    }

    async fn integration_user(&self, id: UserId) -> StoreResult<IntegrationUserRecord> {
        self.read(move |conn| Ok(integration::integration_user(conn, id)?))
            .await
    }

    async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        at: Millis,
    ) -> StoreResult<Vec<DeviceId>> {
        self.write(false, move |conn| {
            integration::set_user_disabled(conn, id, disabled, at)
        })
        .await
    }

    async fn create_webhook(&self, hook: NewWebhook) -> StoreResult<WebhookInfo> {
        self.write(false, move |conn| {
            Ok(integration::create_webhook(conn, hook)?)
        })
        .await
    }

    async fn webhooks(&self) -> StoreResult<Vec<WebhookRecord>> {
        self.read(|conn| Ok(integration::webhooks(conn)?)).await
    }

    async fn delete_webhook(&self, id: i64) -> StoreResult<bool> {
        self.write(false, move |conn| {
            Ok(integration::delete_webhook(conn, id)?)
        })
        .await
    }

    async fn create_delivery(&self, delivery: NewDelivery) -> StoreResult<i64> {
        self.write(false, move |conn| {
            Ok(integration::create_delivery(conn, delivery)?)
        })
        .await
    }

    async fn update_delivery(&self, attempt: DeliveryAttempt) -> StoreResult<()> {
        self.write(false, move |conn| {
            Ok(integration::update_delivery(conn, attempt)?)
        })
        .await
    }

    async fn pending_deliveries(&self, limit: u32) -> StoreResult<Vec<PendingDelivery>> {
        self.read(move |conn| Ok(integration::pending_deliveries(conn, limit)?))
            .await
    }

    async fn deliveries(
        &self,
        webhook_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<(Vec<Delivery>, bool)> {
        self.read(move |conn| Ok(integration::deliveries(conn, webhook_id, before, limit)?))
            .await
    }

    // Media.
    async fn put_media(
        &self,
        media: MediaRecord,
        uploader: UserId,
        now: Millis,
    ) -> StoreResult<bool> {
        self.write(false, move |conn| {
            let content = serde_json::to_string(&media.content)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            let created = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO media (id, kind, mime, size, name, content, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    media.id,
                    media.kind.as_str(),
                    media.mime,
                    media.size as i64,
                    media.name,
                    content,
                    media.created_at
                ])?;
            conn.prepare_cached(
                "INSERT OR IGNORE INTO media_uploads (media_id, user_id, created_at)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![media.id, uploader, now])?;
            Ok(created == 1)
        })
        .await
    }

    async fn media(&self, id: &str) -> StoreResult<Option<MediaRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT id, kind, mime, size, name, content, created_at FROM media WHERE id = ?1",
                )?
                .query_row(params![id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Millis>(6)?,
                    ))
                })
                .optional()?;
            let Some((id, kind, mime, size, name, content, created_at)) = row else {
                return Ok(None);
            };
            let kind = MediaKind::parse(&kind)
                .ok_or_else(|| StoreError::Backend(format!("unknown media kind {kind:?}")))?;
            let content =
                serde_json::from_str(&content).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok(Some(MediaRecord {
                id,
                kind,
                mime,
                size: size as u64,
                name,
                content,
                created_at,
            }))
        })
        .await
    }

    async fn media_uploaded_by(&self, id: &str, user: UserId) -> StoreResult<bool> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT 1 FROM media_uploads WHERE media_id = ?1 AND user_id = ?2")?
                .exists(params![id, user])?)
        })
        .await
    }

    async fn media_access(&self, id: &str, user: UserId) -> StoreResult<bool> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT 1 FROM media_uploads WHERE media_id = ?1 AND user_id = ?2
                     UNION ALL
                     SELECT 1 FROM message_media mm
                     JOIN members m ON m.conversation_id = mm.conversation_id AND m.user_id = ?2
                     WHERE mm.media_id = ?1 AND m.left_seq IS NULL AND mm.seq > m.joined_seq
                     LIMIT 1",
                )?
                .exists(params![id, user])?)
        })
        .await
    }

    async fn release_message_media(
        &self,
        id: ConversationId,
        seq: Seq,
    ) -> StoreResult<Vec<String>> {
        self.write(false, move |conn| {
            let ids = conn
                .prepare_cached(
                    "DELETE FROM message_media WHERE conversation_id = ?1 AND seq = ?2
                     RETURNING media_id",
                )?
                .query_map(params![id, seq], |r| r.get::<_, String>(0))?
                .collect::<SqlResult<Vec<_>>>()?;
            let mut unreferenced = Vec::new();
            for media in ids {
                let referenced = conn
                    .prepare_cached("SELECT 1 FROM message_media WHERE media_id = ?1")?
                    .exists(params![media])?;
                if !referenced {
                    conn.prepare_cached("DELETE FROM media_uploads WHERE media_id = ?1")?
                        .execute(params![media])?;
                    conn.prepare_cached("DELETE FROM media WHERE id = ?1")?
                        .execute(params![media])?;
                    unreferenced.push(media);
                }
            }
            Ok(unreferenced)
        })
        .await
    }
}
