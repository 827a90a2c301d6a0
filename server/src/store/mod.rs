//! The storage port. Domain code calls [`Store`]; each backend implements it in its own module
//! with its own SQL. SQL never leaves this folder.

use async_trait::async_trait;
use confab_proto::integration::{
    ApiKeyInfo, Delivery, DeliveryStatus, Scope, WebhookEventType, WebhookInfo,
};
use confab_proto::{
    Content, ConversationId, ConversationKind, ConversationSummary, DeviceId, DirectPolicy, Friend,
    FriendRequest, GroupInfo, JoinPolicy, JoinRequest, MediaKind, Member, Message, Millis, Role,
    Seq, UpdateProfile, UserId, UserPublic,
};

pub mod postgres;
mod postgres_groups;
mod postgres_integration;
pub mod sqlite;
mod sqlite_groups;
mod sqlite_integration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub direct_policy: DirectPolicy,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub public: UserPublic,
    pub password_hash: String,
    pub last_seen: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: UserId,
    pub token_hash: [u8; 32],
    pub device_name: String,
    pub now: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: DeviceId,
    pub user_id: UserId,
    pub device_name: String,
    pub created_at: Millis,
    pub last_used_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// What fan-out and authorization need to know about a conversation, cached by the domain.
#[derive(Debug, Clone)]
pub struct ConversationMeta {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub name: String,
    /// Current members, their roles and when their mute ends.
    pub members: Vec<(UserId, Role, Option<Millis>)>,
    pub join_policy: JoinPolicy,
    pub mute_all: bool,
    pub dissolved: bool,
    /// `@assistant` answers in this group.
    pub assistant_enabled: bool,
}

/// Everything between two users that decides what one may do to the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    pub friends: bool,
    /// `a` blocked `b`.
    pub a_blocked_b: bool,
    /// `b` blocked `a`.
    pub b_blocked_a: bool,
    pub request_a_to_b: bool,
    pub request_b_to_a: bool,
    /// `b`'s direct-message setting.
    pub b_policy: DirectPolicy,
}

impl Relation {
    pub fn blocked(&self) -> bool {
        self.a_blocked_b || self.b_blocked_a
    }
}

/// A change to a group, applied together with the system event that records it.
#[derive(Debug, Clone)]
pub enum GroupChange {
    /// Invited or approved: (re)activates their membership and clears their join requests.
    AddMembers {
        by: UserId,
        user_ids: Vec<UserId>,
        max_members: usize,
    },
    Join {
        user: UserId,
        max_members: usize,
    },
    Leave {
        user: UserId,
    },
    Kick {
        by: UserId,
        user: UserId,
    },
    Rename {
        by: UserId,
        name: String,
    },
    Avatar {
        by: UserId,
        avatar: Option<String>,
    },
    Announcement {
        by: UserId,
        text: Option<String>,
    },
    JoinPolicy {
        by: UserId,
        policy: JoinPolicy,
    },
    MuteAll {
        by: UserId,
        on: bool,
    },
    /// Turns the AI assistant on or off for the group.
    Assistant {
        by: UserId,
        on: bool,
    },
    Transfer {
        from: UserId,
        to: UserId,
    },
    SetRole {
        by: UserId,
        user: UserId,
        role: Role,
    },
    Mute {
        by: UserId,
        user: UserId,
        until: Option<Millis>,
    },
    Nickname {
        user: UserId,
        nickname: Option<String>,
    },
    Dissolve {
        by: UserId,
    },
}

/// A member's private preferences for a conversation.
#[derive(Debug, Clone)]
pub enum MemberPref {
    Remark(Option<String>),
    NotificationsMuted(bool),
}

/// A user's membership row, current or past.
#[derive(Debug, Clone, Copy)]
pub struct Membership {
    pub role: Role,
    pub joined_seq: Seq,
    pub read_seq: Seq,
    /// Set once the user is no longer a member: the last seq they may see.
    pub left_seq: Option<Seq>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub client_msg_id: Option<String>,
    pub content: Content,
    pub reply_to: Option<Seq>,
    pub mentions: Vec<UserId>,
    pub mention_all: bool,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct Appended {
    pub message: Message,
    /// The sender had already stored a message with this `client_msg_id`: `message` is that
    /// original and nothing new was stored.
    pub duplicate: bool,
}

/// A history query, already clipped to what the member may see.
#[derive(Debug, Clone, Copy)]
pub struct HistoryQuery {
    pub conversation_id: ConversationId,
    pub after: Option<Seq>,
    pub before: Option<Seq>,
    pub limit: u32,
    /// Only seqs greater than this.
    pub visible_after: Seq,
    /// Only seqs up to this (a former member's `left_seq`).
    pub visible_until: Option<Seq>,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub owner: UserId,
    pub members: Vec<UserId>,
    pub now: Millis,
}

/// Why a recall could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecallRefusal {
    NotFound,
    AlreadyRecalled,
    /// System events cannot be recalled.
    NotRecallable,
    /// The sender's recall window has passed.
    WindowPassed,
    /// The actor may not recall this message.
    Forbidden,
}

/// A new API key: only the hash of its secret is stored.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub secret_hash: [u8; 32],
    pub scopes: Vec<Scope>,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub info: ApiKeyInfo,
    pub secret_hash: [u8; 32],
}

/// What the integration API adds to a user.
#[derive(Debug, Clone, Default)]
pub struct IntegrationUserRecord {
    pub external_id: Option<String>,
    pub bot: bool,
    pub disabled_at: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<WebhookEventType>,
    pub secret: String,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct WebhookRecord {
    pub info: WebhookInfo,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub webhook_id: i64,
    pub event_id: String,
    pub event_type: WebhookEventType,
    pub payload: String,
    pub now: Millis,
}

/// A delivery not yet finished, to resume after a restart.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: String,
    pub event_type: WebhookEventType,
    pub payload: String,
    pub attempts: u32,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt {
    pub id: i64,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub now: Millis,
}

/// A stored blob's record (see the `media` table).
#[derive(Debug, Clone)]
pub struct MediaRecord {
    /// Lowercase hex SHA-256 of the bytes.
    pub id: String,
    pub kind: MediaKind,
    pub mime: String,
    pub size: u64,
    /// The first uploader's sanitized file name.
    pub name: Option<String>,
    /// The message content built at upload, with the metadata the server measured.
    pub content: Content,
    pub created_at: Millis,
}

/// Decides, inside the recall transaction, whether the stored message may be recalled.
pub type RecallCheck = Box<dyn FnOnce(&Message) -> Result<(), RecallRefusal> + Send + 'static>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Accounts.
    /// `Conflict("username")` when the name is taken (case-insensitively).
    async fn create_user(&self, user: NewUser) -> StoreResult<UserPublic>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    /// Users that exist among `ids`, in no particular order.
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserPublic>>;
    async fn update_profile(&self, id: UserId, update: UpdateProfile) -> StoreResult<UserPublic>;
    async fn set_last_seen(&self, id: UserId, at: Millis) -> StoreResult<()>;
    /// The bot account with this username, created (direct messages from anyone, no usable
    /// password) if missing. `Conflict("username")` if a person already has that name.
    async fn ensure_bot(
        &self,
        username: &str,
        display_name: &str,
        now: Millis,
    ) -> StoreResult<UserPublic>;

    // Sessions (devices).
    async fn create_session(&self, session: NewSession) -> StoreResult<SessionRecord>;
    async fn session_by_token_hash(&self, hash: [u8; 32]) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id: DeviceId, at: Millis) -> StoreResult<()>;
    async fn list_sessions(&self, user_id: UserId) -> StoreResult<Vec<SessionRecord>>;
    /// Revokes one of the user's live sessions; false if there was none.
    async fn revoke_session(&self, user_id: UserId, id: DeviceId, at: Millis) -> StoreResult<bool>;

    // Conversations.
    /// The direct conversation between two users, created if missing; true when created.
    async fn direct_conversation(
        &self,
        a: UserId,
        b: UserId,
        now: Millis,
    ) -> StoreResult<(ConversationId, bool)>;
    /// Creates the group and its `group_created` event at seq 1.
    async fn create_group(&self, group: NewGroup) -> StoreResult<Message>;
    async fn conversation_meta(&self, id: ConversationId) -> StoreResult<Option<ConversationMeta>>;
    async fn membership(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> StoreResult<Option<Membership>>;
    /// Every conversation the user is or was in, newest activity first.
    async fn conversations_for(&self, user_id: UserId) -> StoreResult<Vec<ConversationSummary>>;
    async fn conversation_for(
        &self,
        user_id: UserId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationSummary>>;
    async fn members(
        &self,
        id: ConversationId,
        after_user: Option<UserId>,
        limit: u32,
    ) -> StoreResult<(Vec<Member>, bool)>;
    /// The groups `user_id` is a current member of.
    async fn group_ids(&self, user_id: UserId) -> StoreResult<Vec<ConversationId>>;
    /// Users with whom `user_id` has a direct conversation.
    async fn direct_peers(&self, user_id: UserId) -> StoreResult<Vec<UserId>>;
    /// Whether two users are both current members of some conversation.
    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool>;

    /// Applies a group change and appends its system event, in one transaction. Refuses with
    /// `Conflict("dissolved")`, `Conflict("full")` or `Conflict("membership")` when the group
    /// changed under the caller.
    async fn group_apply(
        &self,
        id: ConversationId,
        change: GroupChange,
        now: Millis,
    ) -> StoreResult<Message>;
    async fn group_info(
        &self,
        id: ConversationId,
        viewer: UserId,
    ) -> StoreResult<Option<GroupInfo>>;
    async fn set_member_pref(
        &self,
        id: ConversationId,
        user: UserId,
        pref: MemberPref,
    ) -> StoreResult<bool>;
    async fn set_invite_code(&self, id: ConversationId, code: String) -> StoreResult<()>;
    async fn conversation_by_invite_code(&self, code: &str) -> StoreResult<Option<ConversationId>>;
    async fn put_join_request(
        &self,
        id: ConversationId,
        user: UserId,
        note: Option<String>,
        now: Millis,
    ) -> StoreResult<()>;
    async fn join_requests(&self, id: ConversationId) -> StoreResult<Vec<JoinRequest>>;
    /// Removes a pending join request; false if there was none.
    async fn take_join_request(&self, id: ConversationId, user: UserId) -> StoreResult<bool>;

    // People.
    async fn search_users(
        &self,
        query: &str,
        viewer: UserId,
        after: Option<UserId>,
        limit: u32,
    ) -> StoreResult<(Vec<UserPublic>, bool)>;
    async fn relation(&self, a: UserId, b: UserId) -> StoreResult<Relation>;
    async fn put_friend_request(
        &self,
        from: UserId,
        to: UserId,
        note: Option<String>,
        now: Millis,
    ) -> StoreResult<()>;
    /// Removes a pending request; false if there was none.
    async fn take_friend_request(&self, from: UserId, to: UserId) -> StoreResult<bool>;
    /// Makes two users friends and clears requests between them.
    async fn make_friends(&self, a: UserId, b: UserId, now: Millis) -> StoreResult<()>;
    /// Ends a friendship; false if there was none.
    async fn remove_friends(&self, a: UserId, b: UserId) -> StoreResult<bool>;
    async fn set_friend_remark(
        &self,
        user: UserId,
        friend: UserId,
        remark: Option<String>,
    ) -> StoreResult<bool>;
    async fn friends(&self, user: UserId) -> StoreResult<Vec<Friend>>;
    /// (incoming, outgoing)
    async fn friend_requests(
        &self,
        user: UserId,
    ) -> StoreResult<(Vec<FriendRequest>, Vec<FriendRequest>)>;
    /// Blocks (clearing requests both ways) or unblocks.
    async fn set_block(
        &self,
        user: UserId,
        other: UserId,
        blocked: bool,
        now: Millis,
    ) -> StoreResult<()>;
    async fn blocked_users(&self, user: UserId) -> StoreResult<Vec<UserPublic>>;
    async fn direct_policy(&self, user: UserId) -> StoreResult<DirectPolicy>;
    async fn set_direct_policy(&self, user: UserId, policy: DirectPolicy) -> StoreResult<()>;

    // Messages.
    /// Stores the message at the next seq of its conversation and moves the sender's read
    /// position to it, in one transaction; idempotent on `(sender_id, client_msg_id)`. A media
    /// message (`content.media()`) also gets its `message_media` row in that transaction.
    async fn append_message(&self, message: NewMessage) -> StoreResult<Appended>;
    async fn message(&self, id: ConversationId, seq: Seq) -> StoreResult<Option<Message>>;
    async fn history(&self, query: HistoryQuery) -> StoreResult<(Vec<Message>, bool)>;
    /// Moves the read position forward (never back, never past `last_seq`); returns the new
    /// position and the unread count left.
    async fn mark_read(
        &self,
        id: ConversationId,
        user_id: UserId,
        seq: Seq,
    ) -> StoreResult<(Seq, u32)>;
    /// Members other than `except` whose read position reached `seq`: the count and up to
    /// `limit` ids.
    async fn read_by(
        &self,
        id: ConversationId,
        seq: Seq,
        except: UserId,
        limit: u32,
    ) -> StoreResult<(u32, Vec<UserId>)>;
    /// Erases the message's content and appends a `message_recalled` event, in one transaction.
    /// `check` runs inside the transaction on the stored message and may refuse.
    async fn recall(
        &self,
        id: ConversationId,
        seq: Seq,
        by: UserId,
        now: Millis,
        check: RecallCheck,
    ) -> StoreResult<Result<Message, RecallRefusal>>;

    // Integration.
    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<ApiKeyInfo>;
    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKeyRecord>>;
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>>;
    /// Revokes a live key; false if there was none.
    async fn revoke_api_key(&self, id: i64, at: Millis) -> StoreResult<bool>;
    async fn touch_api_key(&self, id: i64, at: Millis) -> StoreResult<()>;
    /// Creates the user with their integration record in one transaction, or, when a user was
    /// already imported with `external_id`, returns that user and `false`.
    /// `Conflict("username")` when the name is taken by another user.
    async fn import_user(
        &self,
        user: NewUser,
        external_id: Option<String>,
        bot: bool,
    ) -> StoreResult<(UserPublic, bool)>;
    /// The user's integration record; the default for users without one.
    async fn integration_user(&self, id: UserId) -> StoreResult<IntegrationUserRecord>;
    /// Disables the user and revokes every live session (returning their ids), or enables
    /// the user again. `NotFound` for an unknown user.
    async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        at: Millis,
    ) -> StoreResult<Vec<DeviceId>>;
    async fn create_webhook(&self, hook: NewWebhook) -> StoreResult<WebhookInfo>;
    async fn webhooks(&self) -> StoreResult<Vec<WebhookRecord>>;
    /// Deletes a webhook and its delivery log; false if there was none.
    async fn delete_webhook(&self, id: i64) -> StoreResult<bool>;
    async fn create_delivery(&self, delivery: NewDelivery) -> StoreResult<i64>;
    async fn update_delivery(&self, attempt: DeliveryAttempt) -> StoreResult<()>;
    /// Deliveries still `pending`, oldest first, at most `limit`.
    async fn pending_deliveries(&self, limit: u32) -> StoreResult<Vec<PendingDelivery>>;
    /// A webhook's deliveries, newest first, with ids below `before`.
    async fn deliveries(
        &self,
        webhook_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<(Vec<Delivery>, bool)>;

    // Media.
    /// Records an upload: the media row if it is new, and `uploader` as one of its uploaders.
    /// Returns true if the media row was new.
    async fn put_media(
        &self,
        media: MediaRecord,
        uploader: UserId,
        now: Millis,
    ) -> StoreResult<bool>;
    async fn media(&self, id: &str) -> StoreResult<Option<MediaRecord>>;
    async fn media_uploaded_by(&self, id: &str, user: UserId) -> StoreResult<bool>;
    /// Whether `user` may fetch the blob: they uploaded it, or they are a current member of a
    /// conversation with a message (visible to them) that refers to it.
    async fn media_access(&self, id: &str, user: UserId) -> StoreResult<bool>;
    /// Drops the blob references of message `(id, seq)` (after a recall). Media that no message
    /// refers to any more lose their rows too; their ids are returned so the blobs can be
    /// deleted.
    async fn release_message_media(&self, id: ConversationId, seq: Seq)
        -> StoreResult<Vec<String>>;
}

/// The backend a configuration names, opened with its migrations applied.
pub enum Opened {
    Sqlite(std::sync::Arc<sqlite::SqliteStore>),
    Postgres(std::sync::Arc<postgres::PostgresStore>),
}

impl Opened {
    /// PostgreSQL when `postgres_url` is set, SQLite in `data_dir` otherwise.
    pub async fn open(config: &crate::config::Config) -> StoreResult<Opened> {
        match &config.postgres_url {
            Some(url) => {
                let options = postgres::PgOptions {
                    url: url.clone(),
                    pool_size: config.postgres_pool_size,
                    timeout: config.db_timeout(),
                };
                Ok(Opened::Postgres(std::sync::Arc::new(
                    postgres::PostgresStore::connect(&options).await?,
                )))
            }
            None => {
                let dir = config.data_dir.clone();
                let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&dir))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))??;
                Ok(Opened::Sqlite(std::sync::Arc::new(store)))
            }
        }
    }

    pub fn store(&self) -> std::sync::Arc<dyn Store> {
        match self {
            Opened::Sqlite(s) => s.clone(),
            Opened::Postgres(s) => s.clone(),
        }
    }

    /// Where the data is, for logs (never with a password).
    pub fn describe(&self) -> String {
        match self {
            Opened::Sqlite(s) => format!("sqlite {}", s.path().display()),
            Opened::Postgres(_) => "postgres".into(),
        }
    }

    /// Finishes queued writes and closes connections.
    pub async fn close(self) {
        match self {
            Opened::Sqlite(s) => {
                let _ = tokio::task::spawn_blocking(move || s.close()).await;
            }
            Opened::Postgres(s) => s.close(),
        }
    }
}
