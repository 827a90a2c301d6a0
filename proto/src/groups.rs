//! Group administration: joining, roles, moderation and settings.

use serde::{Deserialize, Serialize};

use crate::{ConversationId, Millis, Role, UserId};

/// How people who were not invited get in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinPolicy {
    /// Anyone who knows the group id joins at once.
    Free,
    /// A join request waits for an owner or admin.
    #[default]
    Approval,
    /// Only with the group's invite code (or an invitation).
    InviteOnly,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub conversation_id: ConversationId,
    pub name: String,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub announcement: Option<String>,
    pub join_policy: JoinPolicy,
    pub mute_all: bool,
    pub owner_id: UserId,
    pub member_count: u32,
    pub max_members: u32,
    pub dissolved: bool,
    /// The caller's own view: role (absent if not a member), remark, nickname, mute.
    #[serde(default)]
    pub my_role: Option<Role>,
    #[serde(default)]
    pub my_remark: Option<String>,
    #[serde(default)]
    pub my_nickname: Option<String>,
    #[serde(default)]
    pub muted_until: Option<Millis>,
    /// Only for owners and admins.
    #[serde(default)]
    pub invite_code: Option<String>,
    /// `@assistant` mentions get an answer from the AI assistant.
    #[serde(default)]
    pub assistant_enabled: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUsers {
    pub conversation_id: ConversationId,
    pub user_ids: Vec<UserId>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUser {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
}

/// Join by id (per the join policy) or by invite code.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupJoin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    /// A note for the admins when approval is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinOutcome {
    Joined,
    /// The request waits for approval.
    Pending,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupJoinResponse {
    pub conversation_id: ConversationId,
    pub outcome: JoinOutcome,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub conversation_id: ConversationId,
    pub user: crate::UserPublic,
    #[serde(default)]
    pub note: Option<String>,
    pub created_at: Millis,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequestsResponse {
    pub requests: Vec<JoinRequest>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSetRole {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// `admin` or `member` (ownership moves with `group_transfer`).
    pub role: Role,
}

/// Fields left out are unchanged. An empty avatar or announcement clears it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupUpdate {
    pub conversation_id: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_policy: Option<JoinPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_all: Option<bool>,
    /// Let `@assistant` answer in this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assistant_enabled: Option<bool>,
}

/// My private remark for a group, or my nickname in it. Empty clears.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupText {
    pub conversation_id: ConversationId,
    pub text: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMute {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// How long; 0 lifts the mute.
    pub duration_secs: u64,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCodeRequest {
    pub conversation_id: ConversationId,
    /// Replace the current code (the old one stops working).
    #[serde(default)]
    pub reset: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCodeResponse {
    pub conversation_id: ConversationId,
    pub invite_code: String,
}

/// Per-member notification preference for a conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMuted {
    pub conversation_id: ConversationId,
    pub muted: bool,
}

/// A change to how one user sees a conversation (remark, notification mute, removal), pushed
/// to that user's devices.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationChanged {
    pub conversation_id: ConversationId,
}
