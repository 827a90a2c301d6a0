//! Bodies of the HTTP integration API (`/api/v1/integration/…`), through which a business
//! system manages users, sends messages, runs groups and bots, and subscribes to webhooks.
//! `docs/integration.md` explains it with examples; `docs/openapi.json` is its OpenAPI
//! description, generated from these types. Errors are `{"error": WireError}` as elsewhere.

use serde::{Deserialize, Serialize};

use crate::{Millis, Seq, Target, UserId, UserPublic};

/// What an API key may do. `admin` includes every other scope and manages keys.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Create, import, update and disable users and bots; issue login tokens; list a user's
    /// conversations.
    Users,
    /// Send messages and read history.
    Messages,
    /// Create groups and manage their members.
    Groups,
    /// Register webhooks and read their delivery log.
    Webhooks,
    /// Everything, plus creating, listing and revoking API keys.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Users,
        Scope::Messages,
        Scope::Groups,
        Scope::Webhooks,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Users => "users",
            Scope::Messages => "messages",
            Scope::Groups => "groups",
            Scope::Webhooks => "webhooks",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
}

/// An API key as listed: never its secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    /// The public part of the key (`cfk_<prefix>_…`), to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: Millis,
    #[serde(default)]
    pub last_used_at: Option<Millis>,
    #[serde(default)]
    pub revoked_at: Option<Millis>,
}

/// `POST /api/v1/integration/keys`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateApiKey {
    /// 1–64 characters, for people to recognise the key.
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// A new key: `secret` is shown this once and cannot be recovered.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyInfo,
    /// `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKeyInfo>,
}

/// `POST /api/v1/integration/users`: creates a user, or returns the one already imported with
/// this `external_id` (nothing is changed then).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportUser {
    /// The business system's id for this user (1–128 characters), unique; the key that makes
    /// the import idempotent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Same rules as registration.
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Lets the user also log in with a password. Without one, the user logs in only with
    /// tokens issued through this API (single sign-on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A bot account: anyone may message it directly, and it may answer anyone.
    #[serde(default)]
    pub bot: bool,
}

/// A user as the integration API sees them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationUser {
    pub user: UserPublic,
    #[serde(default)]
    pub external_id: Option<String>,
    pub bot: bool,
    pub disabled: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportUserResponse {
    /// False when the user had already been imported with this `external_id`.
    pub created: bool,
    pub user: IntegrationUser,
}

/// `PATCH /api/v1/integration/users/{user_id}`: absent fields stay as they are; an empty
/// string clears `avatar` or `status_text`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// `true` disables the account: it can no longer log in and every session is revoked
    /// (connected devices are closed). `false` enables it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `POST /api/v1/integration/users/{user_id}/tokens`: a login token for single sign-on.
/// The answer is the same as `POST /api/v1/login`'s.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueToken {
    /// Shown in the user's device list (default "single sign-on").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Lifetime in seconds, at most the server's token lifetime (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// `POST /api/v1/integration/messages`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    /// The sending user or bot. Absent: the built-in `system` bot, created on first use
    /// (add it to a group to post there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<UserId>,
    /// `{"user": id}` for a direct message, `{"conversation": id}` for a group or an existing
    /// chat.
    pub to: Target,
    pub text: String,
    /// 1–64 characters, unique per sender: a retry with the same key returns the original
    /// message's seq with `duplicate: true` and stores nothing.
    pub idempotency_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Seq>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    #[serde(default)]
    pub mention_all: bool,
}

/// `POST /api/v1/integration/groups`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroupRequest {
    /// The group's owner; the group is created as if they had created it.
    pub owner: UserId,
    pub name: String,
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// `POST /api/v1/integration/groups/{conversation_id}/members`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMembers {
    pub user_ids: Vec<UserId>,
    /// Who adds them (their role decides whether they may); default the group's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_user: Option<UserId>,
}

/// The event types a webhook can subscribe to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEventType {
    /// `data`: `{"message": Message}`
    #[serde(rename = "message.created")]
    MessageCreated,
    /// `data`: `{"conversation_id", "seq", "by"}` (`seq` is the recalled message's)
    #[serde(rename = "message.recalled")]
    MessageRecalled,
    /// `data`: `{"user_id", "friend_id"}` (`user_id` accepted `friend_id`'s request)
    #[serde(rename = "friend.added")]
    FriendAdded,
    /// `data`: `{"conversation_id", "user_ids", "by"}` (`by` is absent when they joined by
    /// themselves; `"created": true` for the members a group was created with)
    #[serde(rename = "member.joined")]
    MemberJoined,
    /// `data`: `{"conversation_id", "user_id"}`
    #[serde(rename = "member.left")]
    MemberLeft,
    /// `data`: `{"conversation_id", "user_id", "by"}`
    #[serde(rename = "member.kicked")]
    MemberKicked,
    /// `data`: `{"conversation_id", "by"}`
    #[serde(rename = "group.dissolved")]
    GroupDissolved,
    /// `data`: `{"user": UserPublic, "bot": bool}`
    #[serde(rename = "user.registered")]
    UserRegistered,
}

impl WebhookEventType {
    pub const ALL: [WebhookEventType; 8] = [
        WebhookEventType::MessageCreated,
        WebhookEventType::MessageRecalled,
        WebhookEventType::FriendAdded,
        WebhookEventType::MemberJoined,
        WebhookEventType::MemberLeft,
        WebhookEventType::MemberKicked,
        WebhookEventType::GroupDissolved,
        WebhookEventType::UserRegistered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventType::MessageCreated => "message.created",
            WebhookEventType::MessageRecalled => "message.recalled",
            WebhookEventType::FriendAdded => "friend.added",
            WebhookEventType::MemberJoined => "member.joined",
            WebhookEventType::MemberLeft => "member.left",
            WebhookEventType::MemberKicked => "member.kicked",
            WebhookEventType::GroupDissolved => "group.dissolved",
            WebhookEventType::UserRegistered => "user.registered",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookEventType> {
        WebhookEventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
    }
}

/// The body of every webhook delivery (`POST` to the endpoint, signed; see
/// docs/integration.md).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// Unique per event; the same across retries, so receivers can de-duplicate.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    pub created_at: Millis,
    /// Depends on `type` (see [`WebhookEventType`]).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// `POST /api/v1/integration/webhooks`
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateWebhook {
    /// `http://` or `https://` URL that receives `POST`s.
    pub url: String,
    /// At least one event type.
    pub events: Vec<WebhookEventType>,
    /// The signing secret (16–128 characters); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub id: i64,
    pub url: String,
    pub events: Vec<WebhookEventType>,
    pub created_at: Millis,
}

/// A new webhook: `secret` is shown this once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: WebhookInfo,
    pub secret: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookInfo>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet delivered; attempts remain.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One event sent to one webhook, with the outcome of its last attempt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: String,
    pub event_type: WebhookEventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The HTTP status of the last answer, if there was one.
    #[serde(default)]
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Newest first; pass the last `id` as `before` for the next page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveriesPage {
    pub deliveries: Vec<Delivery>,
    pub has_more: bool,
}
