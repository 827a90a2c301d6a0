//! Requests over the WebSocket and the body of each answer. Each variant's doc gives the wire
//! form; the `*Response` types are what `ok` holds.

use serde::{Deserialize, Serialize};

use crate::{
    ConversationId, ConversationSummary, DeviceId, FriendRequestSend, GroupJoin, GroupMute,
    GroupSetRole, GroupText, GroupUpdate, GroupUser, GroupUsers, InviteCodeRequest, Member,
    Message, Presence, SearchUsers, Seq, SetFriendRemark, SetMuted, Settings, UserId, UserPublic,
    UserRef,
};

/// Every request a device can send, tagged by `type` with its body in `data`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Request {
    /// `{"type":"auth","data":{"token":"..."}}` — authenticate when the handshake carried no
    /// token. → [`crate::Hello`]
    Auth(AuthRequest),
    /// `{"type":"ping"}` → `{}`. Keeps an idle connection open.
    Ping,
    /// `{"type":"get_user","data":{"username":"bob"}}` or `{"user_id":2}` → [`UserPublic`]
    GetUser(GetUser),
    /// `{"type":"update_profile","data":{"display_name":"Bob"}}` → [`UserPublic`]
    UpdateProfile(UpdateProfile),
    /// `{"type":"list_devices"}` → [`DevicesResponse`]
    ListDevices,
    /// `{"type":"revoke_device","data":{"device_id":3}}` → `{}`; that device is disconnected.
    RevokeDevice(RevokeDevice),
    /// `{"type":"logout"}` → `{}`; revokes this device's session and closes the connection.
    Logout,
    /// `{"type":"send","data":{"to":{"user":2},"client_msg_id":"...","content":{...}}}`
    /// → [`SendResponse`]. Acknowledged only after the message is durably stored.
    Send(SendRequest),
    /// `{"type":"sync"}` → [`SyncResponse`]: every conversation with its position.
    Sync,
    /// `{"type":"get_conversation","data":{"conversation_id":5}}` → [`ConversationSummary`]
    GetConversation(ConversationRef),
    /// `{"type":"history","data":{"conversation_id":5,"after":10,"limit":50}}`
    /// → [`HistoryResponse`]
    History(HistoryRequest),
    /// `{"type":"mark_read","data":{"conversation_id":5,"seq":12}}` → [`MarkReadResponse`]
    MarkRead(MarkRead),
    /// `{"type":"recall","data":{"conversation_id":5,"seq":12}}` → [`SendResponse`] (the
    /// recall event's own seq)
    Recall(RecallRequest),
    /// `{"type":"typing","data":{"conversation_id":5}}` → `{}`
    Typing(ConversationRef),
    /// `{"type":"create_group","data":{"name":"Team","members":[2,3]}}`
    /// → [`ConversationSummary`]
    CreateGroup(CreateGroup),
    /// `{"type":"members","data":{"conversation_id":5}}` → [`MembersResponse`]
    Members(MembersRequest),
    /// `{"type":"read_by","data":{"conversation_id":5,"seq":12}}` → [`ReadByResponse`]
    ReadBy(ReadByRequest),
    /// `{"type":"presence","data":{"user_ids":[2,3]}}` → [`PresenceResponse`]
    Presence(PresenceRequest),
    /// `{"type":"set_muted","data":{"conversation_id":5,"muted":true}}` → `{}`: mute
    /// notifications for a conversation (my own preference).
    SetMuted(SetMuted),

    // People.
    /// `{"type":"search_users","data":{"query":"ali"}}` → [`crate::UsersPage`]
    SearchUsers(SearchUsers),
    /// `{"type":"friend_request","data":{"user_id":2,"note":"hi, it's Ann"}}` → `{}`
    FriendRequest(FriendRequestSend),
    /// `{"type":"friend_accept","data":{"user_id":2}}` → [`crate::Friend`]
    FriendAccept(UserRef),
    /// `{"type":"friend_decline","data":{"user_id":2}}` → `{}`
    FriendDecline(UserRef),
    /// `{"type":"friend_delete","data":{"user_id":2}}` → `{}`
    FriendDelete(UserRef),
    /// `{"type":"friends"}` → [`crate::FriendsResponse`]
    Friends,
    /// `{"type":"friend_requests"}` → [`crate::FriendRequestsResponse`]
    FriendRequests,
    /// `{"type":"friend_remark","data":{"user_id":2,"remark":"Ann (work)"}}` → `{}`
    FriendRemark(SetFriendRemark),
    /// `{"type":"block","data":{"user_id":2}}` → `{}`
    Block(UserRef),
    /// `{"type":"unblock","data":{"user_id":2}}` → `{}`
    Unblock(UserRef),
    /// `{"type":"blocked"}` → [`crate::BlockedResponse`]
    Blocked,
    /// `{"type":"get_settings"}` → [`Settings`]
    GetSettings,
    /// `{"type":"update_settings","data":{"direct_messages":"anyone"}}` → [`Settings`]
    UpdateSettings(Settings),

    // Group administration.
    /// `{"type":"group_info","data":{"conversation_id":5}}` → [`crate::GroupInfo`]
    GroupInfo(ConversationRef),
    /// `{"type":"group_invite","data":{"conversation_id":5,"user_ids":[7,8]}}` → `{}`
    GroupInvite(GroupUsers),
    /// `{"type":"group_join","data":{"conversation_id":5}}` or `{"invite_code":"..."}`
    /// → [`crate::GroupJoinResponse`]
    GroupJoin(GroupJoin),
    /// `{"type":"group_join_requests","data":{"conversation_id":5}}`
    /// → [`crate::JoinRequestsResponse`]
    GroupJoinRequests(ConversationRef),
    /// `{"type":"group_approve","data":{"conversation_id":5,"user_id":7}}` → `{}`
    GroupApprove(GroupUser),
    /// `{"type":"group_reject","data":{"conversation_id":5,"user_id":7}}` → `{}`
    GroupReject(GroupUser),
    /// `{"type":"group_leave","data":{"conversation_id":5}}` → `{}`
    GroupLeave(ConversationRef),
    /// `{"type":"group_kick","data":{"conversation_id":5,"user_id":7}}` → `{}`
    GroupKick(GroupUser),
    /// `{"type":"group_dissolve","data":{"conversation_id":5}}` → `{}`
    GroupDissolve(ConversationRef),
    /// `{"type":"group_transfer","data":{"conversation_id":5,"user_id":7}}` → `{}`
    GroupTransfer(GroupUser),
    /// `{"type":"group_set_role","data":{"conversation_id":5,"user_id":7,"role":"admin"}}`
    /// → `{}`
    GroupSetRole(GroupSetRole),
    /// `{"type":"group_update","data":{"conversation_id":5,"announcement":"..."}}`
    /// → [`crate::GroupInfo`]
    GroupUpdate(GroupUpdate),
    /// `{"type":"group_remark","data":{"conversation_id":5,"text":"family"}}` → `{}`
    GroupRemark(GroupText),
    /// `{"type":"group_nickname","data":{"conversation_id":5,"text":"Ann"}}` → `{}`
    GroupNickname(GroupText),
    /// `{"type":"group_mute","data":{"conversation_id":5,"user_id":7,"duration_secs":600}}`
    /// → `{}`
    GroupMute(GroupMute),
    /// `{"type":"group_invite_code","data":{"conversation_id":5}}`
    /// → [`crate::InviteCodeResponse`]
    GroupInviteCode(InviteCodeRequest),

    // Media.
    /// `{"type":"media_url","data":{"media_id":"…"}}` → [`crate::MediaUrlResponse`]: a
    /// short-lived signed path for a blob (or its thumbnail) the user may see.
    MediaUrl(crate::MediaUrlRequest),
    // The AI assistant.
    /// `{"type":"assistant_status"}` → [`crate::AssistantStatus`]
    AssistantStatus,
    /// `{"type":"assistant_stop","data":{"conversation_id":5}}`
    /// → [`crate::AssistantStopResponse`]; the partial reply is stored, marked `stopped`.
    AssistantStop(crate::AssistantStop),
    /// `{"type":"assistant_summarize","data":{"conversation_id":5}}`
    /// → [`crate::AssistantTaskResponse`]; the summary arrives as an `assistant_result` event
    /// to my devices only.
    AssistantSummarize(crate::AssistantSummarize),
    /// `{"type":"assistant_translate","data":{"conversation_id":5,"seq":12,"language":"fr"}}`
    /// → [`crate::AssistantTaskResponse`]; the translation arrives as an `assistant_result`
    /// event to my devices only.
    AssistantTranslate(crate::AssistantTranslate),
}

impl Request {
    /// Every `type` the server understands.
    pub const KINDS: &'static [&'static str] = &[
        "auth",
        "ping",
        "get_user",
        "update_profile",
        "list_devices",
        "revoke_device",
        "logout",
        "send",
        "sync",
        "get_conversation",
        "history",
        "mark_read",
        "recall",
        "typing",
        "create_group",
        "members",
        "read_by",
        "presence",
        "set_muted",
        "search_users",
        "friend_request",
        "friend_accept",
        "friend_decline",
        "friend_delete",
        "friends",
        "friend_requests",
        "friend_remark",
        "block",
        "unblock",
        "blocked",
        "get_settings",
        "update_settings",
        "group_info",
        "group_invite",
        "group_join",
        "group_join_requests",
        "group_approve",
        "group_reject",
        "group_leave",
        "group_kick",
        "group_dissolve",
        "group_transfer",
        "group_set_role",
        "group_update",
        "group_remark",
        "group_nickname",
        "group_mute",
        "group_invite_code",
        "media_url",
        "assistant_status",
        "assistant_stop",
        "assistant_summarize",
        "assistant_translate",
    ];

    /// The wire name of this request's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Auth(_) => "auth",
            Request::Ping => "ping",
            Request::GetUser(_) => "get_user",
            Request::UpdateProfile(_) => "update_profile",
            Request::ListDevices => "list_devices",
            Request::RevokeDevice(_) => "revoke_device",
            Request::Logout => "logout",
            Request::Send(_) => "send",
            Request::Sync => "sync",
            Request::GetConversation(_) => "get_conversation",
            Request::History(_) => "history",
            Request::MarkRead(_) => "mark_read",
            Request::Recall(_) => "recall",
            Request::Typing(_) => "typing",
            Request::CreateGroup(_) => "create_group",
            Request::Members(_) => "members",
            Request::ReadBy(_) => "read_by",
            Request::Presence(_) => "presence",
            Request::SetMuted(_) => "set_muted",
            Request::SearchUsers(_) => "search_users",
            Request::FriendRequest(_) => "friend_request",
            Request::FriendAccept(_) => "friend_accept",
            Request::FriendDecline(_) => "friend_decline",
            Request::FriendDelete(_) => "friend_delete",
            Request::Friends => "friends",
            Request::FriendRequests => "friend_requests",
            Request::FriendRemark(_) => "friend_remark",
            Request::Block(_) => "block",
            Request::Unblock(_) => "unblock",
            Request::Blocked => "blocked",
            Request::GetSettings => "get_settings",
            Request::UpdateSettings(_) => "update_settings",
            Request::GroupInfo(_) => "group_info",
            Request::GroupInvite(_) => "group_invite",
            Request::GroupJoin(_) => "group_join",
            Request::GroupJoinRequests(_) => "group_join_requests",
            Request::GroupApprove(_) => "group_approve",
            Request::GroupReject(_) => "group_reject",
            Request::GroupLeave(_) => "group_leave",
            Request::GroupKick(_) => "group_kick",
            Request::GroupDissolve(_) => "group_dissolve",
            Request::GroupTransfer(_) => "group_transfer",
            Request::GroupSetRole(_) => "group_set_role",
            Request::GroupUpdate(_) => "group_update",
            Request::GroupRemark(_) => "group_remark",
            Request::GroupNickname(_) => "group_nickname",
            Request::GroupMute(_) => "group_mute",
            Request::GroupInviteCode(_) => "group_invite_code",
            Request::MediaUrl(_) => "media_url",
            Request::AssistantStatus => "assistant_status",
            Request::AssistantStop(_) => "assistant_stop",
            Request::AssistantSummarize(_) => "assistant_summarize",
            Request::AssistantTranslate(_) => "assistant_translate",
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub token: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Fields left out are unchanged; an empty string clears `avatar` and `status_text`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeDevice {
    pub device_id: DeviceId,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicesResponse {
    pub devices: Vec<crate::Device>,
}

/// Where a message goes: an existing conversation, or a user (the direct chat with them is
/// created on the first message).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Conversation(ConversationId),
    User(UserId),
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    pub to: Target,
    /// Idempotency key chosen by the client (1–64 characters). A retry with the same key returns
    /// the original seq and stores nothing new.
    pub client_msg_id: String,
    pub content: crate::Content,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Seq>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_all: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub created_at: crate::Millis,
    /// True when this was a retry of an already stored message.
    #[serde(default)]
    pub duplicate: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Newest activity first.
    pub conversations: Vec<ConversationSummary>,
    pub total_unread: u32,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRef {
    pub conversation_id: ConversationId,
}

/// A page of history. With `after`, the oldest messages with seq > after (ascending); with
/// `before`, the newest with seq < before; with neither, the newest. Always returned in
/// ascending seq order.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HistoryRequest {
    pub conversation_id: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Seq>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Seq>,
    /// Default 50, at most the server's `history_page_max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryResponse {
    pub messages: Vec<Message>,
    /// More messages exist beyond this page in the direction asked.
    pub has_more: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub conversation_id: ConversationId,
    pub seq: Seq,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkReadResponse {
    pub conversation_id: ConversationId,
    /// The read position after the call (it never moves backwards).
    pub read_seq: Seq,
    pub unread: u32,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallRequest {
    pub conversation_id: ConversationId,
    pub seq: Seq,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    pub name: String,
    /// Initial members besides the creator, who becomes the owner.
    #[serde(default)]
    pub members: Vec<UserId>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersRequest {
    pub conversation_id: ConversationId,
    /// Page after this user id (members are ordered by user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_user: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersResponse {
    pub members: Vec<Member>,
    pub has_more: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadByRequest {
    pub conversation_id: ConversationId,
    pub seq: Seq,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadByResponse {
    /// Members other than the sender whose read position has reached `seq`.
    pub count: u32,
    /// Those members' ids (at most 100).
    pub user_ids: Vec<UserId>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceRequest {
    pub user_ids: Vec<UserId>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceResponse {
    pub presence: Vec<Presence>,
}

/// `{}`: the body of requests that return nothing.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// Marker for the profile answer.
pub type UserResponse = UserPublic;
