//! The storage port. Domain code calls [`Store`]; each backend implements it in its own module
//! with its own SQL. SQL never leaves this folder.

use async_trait::async_trait;
use confab_proto::{
    Content, ConversationId, ConversationKind, ConversationSummary, DeviceId, DirectPolicy, Friend,
    FriendRequest, GroupInfo, JoinPolicy, JoinRequest, Member, Message, Millis, Role, Seq,
    UpdateProfile, UserId, UserPublic,
};

pub mod sqlite;
mod sqlite_groups;

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
    /// position to it, in one transaction; idempotent on `(sender_id, client_msg_id)`.
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
}
