//! People: search, friends, friend requests, blocking and the direct-message setting.

use serde::{Deserialize, Serialize};

use crate::{Millis, UserId, UserPublic};

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchUsers {
    /// Matched against usernames (prefix) and display names (substring), case-insensitively.
    pub query: String,
    /// Page after this user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserPublic>,
    pub has_more: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub user_id: UserId,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequestSend {
    pub user_id: UserId,
    /// A short note shown to the recipient (at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequest {
    pub from: UserPublic,
    pub to: UserPublic,
    #[serde(default)]
    pub note: Option<String>,
    pub created_at: Millis,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequestsResponse {
    pub incoming: Vec<FriendRequest>,
    pub outgoing: Vec<FriendRequest>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    pub user: UserPublic,
    /// My private alias for this friend.
    #[serde(default)]
    pub remark: Option<String>,
    pub since: Millis,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendsResponse {
    pub friends: Vec<Friend>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetFriendRemark {
    pub user_id: UserId,
    /// Empty clears the remark.
    pub remark: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedResponse {
    pub users: Vec<UserPublic>,
}

/// Who may open a direct chat with me.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectPolicy {
    #[default]
    FriendsOnly,
    Anyone,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settings {
    pub direct_messages: DirectPolicy,
}

/// A change in the user's contacts, pushed to every device of both people involved.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContactEvent {
    /// A friend request was sent (to the recipient and the sender's other devices).
    Requested { request: FriendRequest },
    /// The request was accepted: the two are friends.
    Accepted { user: UserPublic },
    /// The request was declined (told to the decliner's devices only).
    Declined { user_id: UserId },
    /// The friendship ended.
    Removed { user_id: UserId },
    /// A remark changed (own devices only).
    Remark {
        user_id: UserId,
        remark: Option<String>,
    },
    /// The user was blocked or unblocked (own devices only).
    Blocked { user_id: UserId, blocked: bool },
}
