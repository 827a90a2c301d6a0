use serde::{Deserialize, Serialize};

use crate::{ConversationId, DeviceId, Millis, Seq, UserId};

/// What anyone who shares a conversation with a user may see of them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPublic {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub status_text: Option<String>,
    /// An automated account (the AI assistant), not a person.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_bot: bool,
}

/// One logged-in device (a session).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    pub created_at: Millis,
    pub last_used_at: Millis,
    pub expires_at: Millis,
    /// True for the device asking.
    pub current: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
    Group,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }

    /// Owner or admin.
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
}

/// The body of a message. Tagged by `type`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    /// What remains of a recalled message: its content is erased from storage.
    Recalled,
    /// A membership or setting change, shown as a system line.
    System(SystemEvent),
    /// A picture, with what the UI needs to lay it out before downloading it.
    Image {
        media: crate::MediaRef,
        /// After the EXIF orientation is applied.
        width: u32,
        height: u32,
        #[serde(default)]
        thumbnail: Option<crate::Thumbnail>,
        /// The average colour, `#rrggbb`, to paint while loading.
        #[serde(default)]
        placeholder: Option<String>,
    },
    /// Any file, downloaded under its original (sanitized) name.
    File {
        media: crate::MediaRef,
        name: String,
    },
    /// A voice recording.
    Voice {
        media: crate::MediaRef,
        /// Absent when the container did not tell.
        #[serde(default)]
        duration_ms: Option<u64>,
    },
    /// A video, with a poster frame when the server could make one.
    Video {
        media: crate::MediaRef,
        #[serde(default)]
        duration_ms: Option<u64>,
        #[serde(default)]
        width: Option<u32>,
        #[serde(default)]
        height: Option<u32>,
        #[serde(default)]
        poster: Option<crate::Thumbnail>,
    },
    /// A reply of the AI assistant (complete, stopped, or a notice of failure). Only the
    /// server stores these.
    Assistant(crate::AssistantReply),
}

impl Content {
    pub fn text(text: impl Into<String>) -> Content {
        Content::Text { text: text.into() }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text { text } => Some(text),
            Content::Assistant(reply) => Some(&reply.text),
            _ => None,
        }
    }

    /// The blob a media message refers to.
    pub fn media(&self) -> Option<&crate::MediaRef> {
        match self {
            Content::Image { media, .. }
            | Content::File { media, .. }
            | Content::Voice { media, .. }
            | Content::Video { media, .. } => Some(media),
            _ => None,
        }
    }

    /// The kind of media message this is.
    pub fn media_kind(&self) -> Option<crate::MediaKind> {
        match self {
            Content::Image { .. } => Some(crate::MediaKind::Image),
            Content::File { .. } => Some(crate::MediaKind::File),
            Content::Voice { .. } => Some(crate::MediaKind::Voice),
            Content::Video { .. } => Some(crate::MediaKind::Video),
            _ => None,
        }
    }
}

/// How many initial members a `group_created` event names.
pub const GROUP_CREATED_LISTED: usize = 20;

/// A change recorded in the conversation's sequence, so every device converges by syncing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemEvent {
    /// A group was created. `members` lists the first [`GROUP_CREATED_LISTED`] initial
    /// members (besides `by`), `member_count` counts them all: the event goes to every member,
    /// and listing 10,000 ids in it would send each of them 60 KB.
    GroupCreated {
        by: UserId,
        name: String,
        members: Vec<UserId>,
        #[serde(default)]
        member_count: u32,
    },
    /// Users were added to the group (invited, or approved by `by`).
    MembersAdded {
        by: UserId,
        user_ids: Vec<UserId>,
    },
    /// The message at `seq` was recalled by `by`.
    MessageRecalled {
        by: UserId,
        seq: Seq,
    },
    /// A user joined by themselves (free join or invite code).
    MemberJoined {
        user_id: UserId,
    },
    MemberLeft {
        user_id: UserId,
    },
    MemberKicked {
        by: UserId,
        user_id: UserId,
    },
    GroupRenamed {
        by: UserId,
        name: String,
    },
    AvatarChanged {
        by: UserId,
    },
    AnnouncementUpdated {
        by: UserId,
        text: Option<String>,
    },
    JoinPolicyChanged {
        by: UserId,
        policy: crate::JoinPolicy,
    },
    OwnerTransferred {
        from: UserId,
        to: UserId,
    },
    RoleChanged {
        by: UserId,
        user_id: UserId,
        role: Role,
    },
    /// `until` is absent when the mute was lifted.
    MemberMuted {
        by: UserId,
        user_id: UserId,
        until: Option<Millis>,
    },
    MuteAllChanged {
        by: UserId,
        on: bool,
    },
    NicknameChanged {
        user_id: UserId,
        nickname: Option<String>,
    },
    /// The group was dissolved; this is its last event.
    GroupDissolved {
        by: UserId,
    },
    /// An owner or admin turned the AI assistant on or off for this group.
    AssistantChanged {
        by: UserId,
        on: bool,
    },
}

impl SystemEvent {
    /// The `group_created` event for a new group with these initial members (besides `by`).
    pub fn group_created(by: UserId, name: &str, members: &[UserId]) -> SystemEvent {
        SystemEvent::GroupCreated {
            by,
            name: name.to_owned(),
            members: members.iter().take(GROUP_CREATED_LISTED).copied().collect(),
            member_count: members.len() as u32,
        }
    }
}

/// A stored message, or a system event, at its place in a conversation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub sender_id: UserId,
    /// The sender's idempotency key, echoed so the sending device can match its pending copy.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    pub created_at: Millis,
    pub content: Content,
    /// Seq of the message this one quotes.
    #[serde(default)]
    pub reply_to: Option<Seq>,
    #[serde(default)]
    pub mentions: Vec<UserId>,
    #[serde(default)]
    pub mention_all: bool,
}

impl Message {
    pub fn is_recalled(&self) -> bool {
        matches!(self.content, Content::Recalled)
    }
}

/// A conversation as one member sees it: its position, their read state and a preview.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// Group name; for a direct chat, the peer's display name.
    pub name: String,
    /// The other person in a direct chat.
    #[serde(default)]
    pub peer: Option<UserPublic>,
    /// The caller's role (always `member` in direct chats).
    pub role: Role,
    pub member_count: u32,
    /// Seq of the newest message or event.
    pub last_seq: Seq,
    /// The caller has read everything up to and including this seq.
    pub read_seq: Seq,
    /// Messages after `read_seq` that others sent.
    pub unread: u32,
    /// True if an unread message mentions the caller (or everyone).
    #[serde(default)]
    pub mentioned: bool,
    pub last_activity: Millis,
    #[serde(default)]
    pub last_message: Option<Message>,
    /// The caller cannot send here any more (they left or were removed, or it was dissolved).
    #[serde(default)]
    pub read_only: bool,
    /// The caller's private remark for this conversation (a group remark, or the friend
    /// remark of the peer in a direct chat).
    #[serde(default)]
    pub remark: Option<String>,
    /// The caller muted notifications for this conversation.
    #[serde(default)]
    pub muted: bool,
    #[serde(default)]
    pub avatar: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserPublic,
    pub role: Role,
    pub joined_at: Millis,
    pub read_seq: Seq,
    /// The member's nickname in this group.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Muted until this time (absent when not muted).
    #[serde(default)]
    pub muted_until: Option<Millis>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: UserId,
    pub online: bool,
    /// When the user was last connected (absent while online or if never seen).
    #[serde(default)]
    pub last_seen: Option<Millis>,
}

/// Pushed events. Tagged by `event`, body in `data`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// First frame after authentication.
    Hello(Hello),
    /// A new message or system event in one of the user's conversations (including their own
    /// sends, for the other devices).
    Message(Message),
    /// Someone's read position moved: sent to the reader's devices and, in a direct chat, to
    /// the peer.
    Read(ReadEvent),
    /// A member is typing (ephemeral, never stored).
    Typing(TypingEvent),
    /// A contact came online or went offline.
    Presence(Presence),
    /// Friend requests, friendships, remarks and blocks.
    Contact(crate::ContactEvent),
    /// How this user sees a conversation changed (remark, notification mute, membership):
    /// fetch it again with `get_conversation`.
    ConversationChanged(crate::ConversationChanged),
    /// A piece of an AI assistant reply being generated.
    AssistantDelta(crate::AssistantDelta),
    /// The result of my `assistant_summarize` or `assistant_translate` (only to my devices).
    AssistantResult(crate::AssistantResult),
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub server_version: String,
    pub user: UserPublic,
    pub device_id: crate::DeviceId,
    pub server_time: Millis,
    /// The server closes a connection silent for this long; clients ping more often.
    pub idle_timeout_ms: u64,
    pub limits: Limits,
}

/// Limits a client should know to avoid refused requests.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_text_chars: usize,
    pub max_group_members: usize,
    pub recall_window_ms: u64,
    pub history_page_max: u32,
    /// Largest upload of each kind, in bytes (`POST /api/v1/media`).
    #[serde(default)]
    pub max_image_bytes: u64,
    #[serde(default)]
    pub max_voice_bytes: u64,
    #[serde(default)]
    pub max_video_bytes: u64,
    #[serde(default)]
    pub max_file_bytes: u64,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub read_seq: Seq,
    /// The reader's unread count left in this conversation (only in events to the reader).
    #[serde(default)]
    pub unread: Option<u32>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingEvent {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
}
